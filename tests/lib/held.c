// SPDX-License-Identifier: GPL-2.0
/*
 * held.c - exact-size heap buffers freed by a suite's .fini, and printable
 * text for failure messages (see held.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "held.h"

void *th_hold(struct th_held *h, const void *src, size_t n)
{
	void *p = malloc(n ? n : 1);

	cr_assert_not_null(p);
	if (src && n)
		memcpy(p, src, n);
	for (size_t i = 0; i < h->cap && i < TH_MAX; i++)
		if (!h->p[i]) {
			h->p[i] = p;
			return p;
		}
	cr_assert_fail("got more than %zu buffers held", h->cap);
	return NULL;
}

void th_let_go(struct th_held *h, void *p)
{
	for (size_t i = 0; i < TH_MAX; i++)
		if (h->p[i] == p)
			h->p[i] = NULL;
	free(p);
}

void th_release(struct th_held *h)
{
	for (size_t i = 0; i < TH_MAX; i++) {
		free(h->p[i]);
		h->p[i] = NULL;
	}
}

const char *th_show(const char *p, size_t n, size_t width)
{
	static char s[4][TH_SHOW_MAX];
	static int k;
	char *o = s[k++ & 3];
	size_t j = 0;

	if (width > sizeof(s[0]))
		width = sizeof(s[0]);
	for (size_t i = 0; i < n && j + 8 < width; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			j += (size_t)snprintf(o + j, 8, "\\r");
		else if (c == '\n')
			j += (size_t)snprintf(o + j, 8, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			j += (size_t)snprintf(o + j, 8, "\\x%02x", c);
		else
			o[j++] = (char)c;
	}
	if (j + 8 >= width)
		j += (size_t)snprintf(o + j, 8, "...");
	o[j] = '\0';
	return o;
}
