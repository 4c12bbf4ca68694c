// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_dict.c - libFuzzer target for the dictionary file parser and lookup
 * (proxy/dict.c).
 *
 * Input: a dictionary file, parsed as is (both with and without
 * PX_DICT_CASE_LOCAL). Checked (violations abort):
 *   - a refused file gives no dictionary and a one-line reason that starts
 *     with the file's name;
 *   - an accepted one holds at most as many entries as the input has lines,
 *     and every entry a line names is found again: "user@domain" as that
 *     exact entry of that line, "domain" and "@domain" from an address in the
 *     domain, ".domain" from an address in a subdomain of it;
 *   - every hit's key is at most 1 + 64 + 1 + 255 bytes, its reply NULL or a
 *     4xx/5xx line of at most 510 printable bytes, its line within the file;
 *   - every line's words, looked up as addresses, never crash (ASan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.dict"

static unsigned long nlines;

static void check_hit(const struct px_dict_hit *hit)
{
	size_t i, n;

	if (strlen(hit->key) > 1 + PX_DICT_LOCAL_MAX + 1 + PX_DICT_DOMAIN_MAX)
		abort();
	if (hit->line < 1 || hit->line > nlines)
		abort();
	if (!hit->reply)
		return;
	n = strlen(hit->reply);
	if (n < 3 || n > PX_DICT_REPLY_MAX || (hit->reply[0] != '4' && hit->reply[0] != '5'))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)hit->reply[i] < 0x20 || (unsigned char)hit->reply[i] > 0x7e)
			abort();
}

static int lookup(const struct px_dict *d, const char *a, size_t len, struct px_dict_hit *hit)
{
	int r = px_dict_lookup(d, a, len, hit);

	if (r != 0 && r != 1)
		abort();
	if (r)
		check_hit(hit);
	return r;
}

/* The entry on one line must be found again (see the header). */
static void refind(const struct px_dict *d, const char *line, size_t len, unsigned long no)
{
	char addr[2 + PX_DICT_LOCAL_MAX + 1 + PX_DICT_DOMAIN_MAX + 8];
	struct px_dict_hit hit;
	size_t k = 0;
	int n, is_addr;

	if (!len || line[0] == ' ' || line[0] == '\t' || line[0] == '#')
		return;
	while (k < len && line[k] != ' ' && line[k] != '\t')
		k++;
	if (k > 1 + PX_DICT_LOCAL_MAX + 1 + PX_DICT_DOMAIN_MAX)
		abort(); /* the parser took a key longer than any it may */
	/* Classified as the parser does: an '@' after the first byte makes an
	 * address (".x@y" too), else "@d" and "d" are domains, ".d" a parent. */
	is_addr = k > 1 && memchr(line + 1, '@', k - 1);
	if (is_addr || line[0] == '@')
		n = snprintf(addr, sizeof(addr), "%.*s", (int)k, line);
	else if (line[0] == '.')
		n = snprintf(addr, sizeof(addr), "x@y%.*s", (int)k, line);
	else
		n = snprintf(addr, sizeof(addr), "x@%.*s", (int)k, line);
	if (n < 0 || (size_t)n >= sizeof(addr) || !lookup(d, addr, (size_t)n, &hit))
		abort();
	if (is_addr && (hit.how != PX_DICT_ADDRESS || hit.line != no))
		abort();
}

static void run(const uint8_t *data, size_t size, unsigned int flags)
{
	const char *buf = (const char *)data, *p = buf, *end = buf + size;
	struct px_dict *d = (struct px_dict *)&nlines;
	struct px_dict_hit hit;
	char why[512] = "";
	unsigned long no = 0;
	int rc;

	rc = px_dict_parse(NAME, buf, size, flags, &d, why, sizeof(why));
	if (rc) {
		if (rc > 0 || d || strncmp(why, NAME ":", strlen(NAME ":")) || strchr(why, '\n'))
			abort();
		return;
	}
	if (!d || px_dict_size(d) > nlines)
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p), w = 0;

		no++;
		if (l && p[l - 1] == '\r')
			l--;
		refind(d, p, l, no);
		/* Each word of the line as an address, and the whole line. */
		lookup(d, p, l, &hit);
		while (w < l) {
			size_t s = w;

			while (w < l && p[w] != ' ' && p[w] != '\t')
				w++;
			lookup(d, p + s, w - s, &hit);
			while (w < l && (p[w] == ' ' || p[w] == '\t'))
				w++;
		}
		p = nl ? nl + 1 : end;
	}
	px_dict_put(px_dict_get(d));
	px_dict_put(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	nlines = size ? 1 : 0;
	for (i = 0; i < size; i++)
		if (data[i] == '\n' && i + 1 < size)
			nlines++;
	run(data, size, 0);
	run(data, size, PX_DICT_CASE_LOCAL);
	return 0;
}
