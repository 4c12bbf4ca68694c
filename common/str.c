// SPDX-License-Identifier: GPL-2.0
/*
 * str.c - string helpers.
 */
#include <string.h>

#include "str.h"

size_t me_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
