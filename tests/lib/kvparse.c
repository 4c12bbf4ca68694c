// SPDX-License-Identifier: GPL-2.0
/*
 * kvparse.c - a strict reader of key=value log lines, for the tests.
 */
#include <ctype.h>
#include <string.h>

#include "kvparse.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A value at *p: bare up to a space, or quoted; *p moves past it. */
static int value(const char **p, struct kv_field *f)
{
	const char *s = *p;

	f->len = 0;
	if (*s != '"') {
		while (*s && *s != ' ') {
			if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x21 ||
			    (unsigned char)*s > 0x7e || f->len + 1 >= sizeof(f->value))
				return -1;
			f->value[f->len++] = *s++;
		}
		if (!f->len)
			return -1;
		f->value[f->len] = '\0';
		*p = s;
		return 0;
	}
	for (s++; *s != '"'; s++) {
		int c = (unsigned char)*s;

		if (!c || f->len + 1 >= sizeof(f->value))
			return -1;
		if (c == '\\') {
			s++;
			if (*s == '"' || *s == '\\') {
				c = *s;
			} else if (*s == 'x' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
				c = hexval(s[1]) * 16 + hexval(s[2]);
				s += 2;
			} else {
				return -1;
			}
		} else if (c < 0x20 || c > 0x7e) {
			return -1; /* written escaped, never raw */
		}
		f->value[f->len++] = (char)c;
	}
	f->value[f->len] = '\0';
	*p = s + 1;
	return 0;
}

int kv_parse(const char *text, struct kv_line *l)
{
	const char *p = text, *colon = strstr(text, ": ");
	size_t n;

	memset(l, 0, sizeof(*l));
	if (colon && !memchr(text, ' ', (size_t)(colon - text)))
		p = colon + 2; /* "prog: " */
	n = strcspn(p, " ");
	if (!n || n >= sizeof(l->event))
		return -1;
	memcpy(l->event, p, n);
	p += n;
	while (*p) {
		struct kv_field *f;

		if (*p++ != ' ' || l->n == KV_MAX_FIELDS)
			return -1;
		f = &l->f[l->n];
		for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '_'; n++)
			;
		if (!n || n >= sizeof(f->key) || p[n] != '=')
			return -1;
		memcpy(f->key, p, n);
		p += n + 1;
		if (value(&p, f))
			return -1;
		l->n++;
	}
	return 0;
}

int kv_count(const struct kv_line *l, const char *key)
{
	int k = 0;

	for (int i = 0; i < l->n; i++)
		k += !strcmp(l->f[i].key, key);
	return k;
}

const char *kv_get(const struct kv_line *l, const char *key)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->f[i].key, key))
			return l->f[i].value;
	return NULL;
}

const char *kv_show(const struct kv_line *l, const char *key)
{
	const char *v = kv_get(l, key);

	return v ? v : "(none)";
}
