// SPDX-License-Identifier: GPL-2.0
/*
 * hugemem.c - the huge-page hint (hugemem.h).
 */
#include <stdint.h>
#include <sys/mman.h>

#include "hugemem.h"

#define HUGE_SIZE ((uintptr_t)2 << 20)

void me_hugepages(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(HUGE_SIZE - 1);

	/* Below 8 MiB the faults are too few to matter, and the block may sit
	 * in the heap next to small ones. */
	if (len < 4 * HUGE_SIZE || e <= a)
		return;
	/* Refused (THP never, an old kernel): the plain pages still work. */
	(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}
