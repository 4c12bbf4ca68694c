/* SPDX-License-Identifier: GPL-2.0 */
/*
 * str.h - string helpers for copies that may truncate on purpose.
 */
#ifndef ME_STR_H
#define ME_STR_H

#include <stddef.h>

/* BSD strlcpy: copy at most size-1 bytes, always terminate, return strlen(src)
 * so the caller can tell that it truncated. For display copies (a URL in a
 * status record) where truncation is the intent. */
size_t me_strlcpy(char *dst, const char *src, size_t size);

#endif
