/* SPDX-License-Identifier: GPL-2.0 */
/*
 * grow.h - the one way an array grows here: doubled when full.
 *
 * Doubling keeps n appends at O(n) copies in all; the arrays it serves (a
 * list's entries, a copy's prefixes, a refresh's pending hosts, ban lists)
 * do not know their final size, and a big one is better grown than sized
 * for the worst case.
 */
#ifndef ME_GROW_H
#define ME_GROW_H

#include <stdint.h>
#include <stdlib.h>

/*
 * Room for one more after n elements of size bytes in v (allocated for *cap;
 * the first allocation holds min): v itself when there is room, else v moved
 * to twice the room (*cap updated), or NULL when that cannot be had (v and
 * *cap as they were, still the caller's).
 */
static inline void *me_grow(void *v, size_t n, size_t *cap, size_t size, size_t min)
{
	size_t c = *cap ? *cap * 2 : min;

	if (n < *cap)
		return v;
	if (c < *cap || c > SIZE_MAX / size)
		return NULL;
	v = realloc(v, c * size);
	if (v)
		*cap = c;
	return v;
}

#endif
