/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hugemem.h - ask for transparent huge pages under a large allocation.
 *
 * List sync fills arrays of hundreds of megabytes once (8M entries of 28
 * bytes, a 110 MB download). Backed by 4 KiB pages, each first touch is a
 * page fault, and under a hypervisor a fault and a TLB miss cost several
 * times what they cost on bare metal: measured on a 2-vCPU VM, a full sync of
 * 8M hosts took 8.8 s with 4 KiB pages and 4.4 s with huge pages. Debian's
 * kernels default THP to "madvise", so the hint is needed; where THP is off
 * it is refused and nothing changes.
 */
#ifndef ME_HUGEMEM_H
#define ME_HUGEMEM_H

#include <stddef.h>

/* Hint that [p, p+len) of a fresh or grown allocation be backed by huge
 * pages; only the 2 MiB-aligned interior of a block of 8 MiB or more. */
void me_hugepages(void *p, size_t len);

#endif
