// SPDX-License-Identifier: GPL-2.0
/*
 * promtext.c - Prometheus text exposition writer and atomic file replacement.
 *
 * Format reference: the exposition format 0.0.4 ("text/plain; version=0.0.4")
 * that node exporter's textfile collector and every Prometheus server parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "atomicfile.h"
#include "promtext.h"

static int name_ok(const char *s, int colon)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (colon && c == ':')))
			return 0;
	}
	return 1;
}

int prom_metric_name_ok(const char *name)
{
	return name_ok(name, 1);
}

int prom_label_name_ok(const char *name)
{
	/* Names starting with "__" are reserved for Prometheus itself. */
	return name_ok(name, 0) && strncmp(name, "__", 2);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int c = s[0], cp;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void prom_escape(FILE *f, const char *v, int in_help)
{
	const unsigned char *p = (const unsigned char *)v;

	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '"' && !in_help)
			fputs("\\\"", f);
		else if (n)
			fwrite(p, 1, n, f);
		else
			fputs("\xef\xbf\xbd", f); /* U+FFFD for a byte that is not UTF-8 */
		p += n ? n : 1;
	}
}

int prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	if (!prom_metric_name_ok(name) ||
	    (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "untyped")))
		return -EINVAL;
	fprintf(f, "# HELP %s ", name);
	prom_escape(f, help, 1);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
	return 0;
}

static int sample_head(FILE *f, const char *name, const struct prom_label *l, size_t nl)
{
	size_t i;
	int any = 0;

	if (!prom_metric_name_ok(name))
		return -EINVAL;
	for (i = 0; i < nl; i++)
		if (l[i].value && !prom_label_name_ok(l[i].name))
			return -EINVAL;
	fputs(name, f);
	for (i = 0; i < nl; i++) {
		if (!l[i].value)
			continue;
		fprintf(f, "%s%s=\"", any++ ? "," : "{", l[i].name);
		prom_escape(f, l[i].value, 0);
		fputc('"', f);
	}
	if (any)
		fputc('}', f);
	return 0;
}

int prom_sample_u64(FILE *f, const char *name, const struct prom_label *l, size_t nl, __u64 v)
{
	int rc = sample_head(f, name, l, nl);

	if (!rc)
		fprintf(f, " %llu\n", (unsigned long long)v);
	return rc;
}

int prom_sample_double(FILE *f, const char *name, const struct prom_label *l, size_t nl, double v)
{
	int rc = sample_head(f, name, l, nl);

	if (rc)
		return rc;
	if (isnan(v))
		fputs(" NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", f);
	else
		fprintf(f, " %.17g\n", v);
	return 0;
}

int prom_write_file(const char *path, prom_render_fn render, void *ctx)
{
	/* 0644: the collector may run as another user. */
	return me_file_replace(path, 0644, render, ctx);
}
