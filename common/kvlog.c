// SPDX-License-Identifier: GPL-2.0
/*
 * kvlog.c - key=value log lines (see kvlog.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvlog.h"

/* '=' is quoted too, as logfmt encoders do: a value "a=b" read by a loose
 * parser must not look like a key. */
static int bare_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

size_t me_kv_value(const char *in, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, take = len > ME_KV_VALUE_MAX ? ME_KV_VALUE_MAX : len;
	int quote = !len;

	if (!outlen)
		return 0;
	for (i = 0; i < take && !quote; i++)
		quote = !bare_ok((unsigned char)in[i]);
	/* Room for: quotes, "..." and the terminator, so nothing is ever cut in
	 * the middle of an escape or left unterminated. */
	if (outlen < 8) {
		out[0] = '\0';
		return 0;
	}
	if (quote)
		out[o++] = '"';
	for (i = 0; i < take; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = bare_ok(c) || c == ' ' || c == '=' ? 1
			      : c == '"' || c == '\\'		 ? 2
								 : 4;

		if (o + need + 5 > outlen)
			break;
		if (need == 1) {
			out[o++] = (char)c;
		} else if (need == 2) {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return o;
}

#define CUT_MARK " truncated=yes"

void me_kv_init(struct me_kv *kv, const char *event)
{
	int n = snprintf(kv->buf, sizeof(kv->buf) - sizeof(CUT_MARK), "%s", event);

	kv->cut = 0;
	kv->n = n < 0 ? 0 : (size_t)n < sizeof(kv->buf) - sizeof(CUT_MARK) ? (size_t)n : 0;
	kv->buf[kv->n] = '\0';
}

void me_kv_mem(struct me_kv *kv, const char *key, const char *value, size_t len)
{
	/* The longest a value can be written: each byte as \xHH, quotes, "...". */
	char v[ME_KV_VALUE_MAX * 4 + 8];
	size_t k = strlen(key), vlen;

	if (!value || kv->cut)
		return;
	vlen = me_kv_value(value, len, v, sizeof(v));
	if (kv->n + 2 + k + vlen + sizeof(CUT_MARK) > sizeof(kv->buf)) {
		memcpy(kv->buf + kv->n, CUT_MARK, sizeof(CUT_MARK));
		kv->n += sizeof(CUT_MARK) - 1;
		kv->cut = 1;
		return;
	}
	kv->buf[kv->n++] = ' ';
	memcpy(kv->buf + kv->n, key, k);
	kv->n += k;
	kv->buf[kv->n++] = '=';
	memcpy(kv->buf + kv->n, v, vlen + 1);
	kv->n += vlen;
}

void me_kv_str(struct me_kv *kv, const char *key, const char *value)
{
	if (value)
		me_kv_mem(kv, key, value, strlen(value));
}

void me_kv_fmt(struct me_kv *kv, const char *key, const char *fmt, ...)
{
	/* One byte more than a value keeps, so that a longer one is marked cut. */
	char v[ME_KV_VALUE_MAX + 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n >= 0)
		me_kv_mem(kv, key, v, (size_t)n < sizeof(v) ? (size_t)n : sizeof(v) - 1);
}
