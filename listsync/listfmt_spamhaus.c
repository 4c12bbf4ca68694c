// SPDX-License-Identifier: GPL-2.0
/*
 * listfmt_spamhaus.c - Spamhaus DROP lists, JSON and text.
 *
 * JSON: one object a line, {"cidr":"1.10.16.0/20","sblid":"SBL256894",...},
 * and last a {"type":"metadata",...,"records":N} object. The records count is
 * the only way to tell a complete download from one cut at a line boundary, so
 * a missing or disagreeing metadata record fails the list.
 *
 * Text: "1.10.16.0/20 ; SBL256894", ';' comments, and a last "; EOF" line for
 * the same purpose.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "listfmt.h"

static int emit(const char *word, size_t wlen, unsigned int flags, me_listfile_cb cb, void *ctx,
		unsigned long line, struct me_parse_err *err)
{
	return me_fmt_emit(word, wlen, flags, cb, ctx, line, err, "not an IPv4 or IPv6 prefix");
}

int me_fmt_spamhaus_json(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
			 void *ctx, struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len };
	struct json_tokener *tok = json_tokener_new();
	long long records = -1, seen = 0;
	unsigned long meta_line = 0;
	const char *l;
	size_t n;
	int rc = 0, more;

	if (!tok)
		return -ENOMEM;
	while ((more = me_lines_next(&it, &l, &n, err)) > 0) {
		json_object *o, *v;
		const char *s;

		me_trim(&l, &n);
		if (!n)
			continue;
		if (meta_line) {
			rc = me_parse_fail(err, it.no, l, n, "data after the metadata record");
			goto out;
		}
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, l, (int)n);
		if (!o || json_tokener_get_parse_end(tok) != n) {
			json_object_put(o);
			rc = me_parse_fail(err, it.no, l, n, "not a JSON object on one line");
			goto out;
		}
		if (!json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			rc = me_parse_fail(err, it.no, l, n, "not a JSON object");
			goto out;
		}
		if (json_object_object_get_ex(o, "type", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), "metadata")) {
			if (!json_object_object_get_ex(o, "records", &v) ||
			    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
				json_object_put(o);
				rc = me_parse_fail(err, it.no, l, n,
						   "metadata record without a records count");
				goto out;
			}
			records = json_object_get_int64(v);
			meta_line = it.no;
			json_object_put(o);
			continue;
		}
		if (!json_object_object_get_ex(o, "cidr", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			json_object_put(o);
			rc = me_parse_fail(err, it.no, l, n, "object without a \"cidr\" string");
			goto out;
		}
		s = json_object_get_string(v);
		if ((size_t)json_object_get_string_len(v) != strlen(s)) {
			/* "\u0000" inside the string would cut it short here. */
			json_object_put(o);
			rc = me_parse_fail(err, it.no, l, n, "NUL inside the \"cidr\" string");
			goto out;
		}
		rc = emit(s, strlen(s), flags, cb, ctx, it.no, err);
		json_object_put(o);
		if (rc)
			goto out;
		seen++;
	}
	if (more < 0) {
		rc = more;
		goto out;
	}
	if (!meta_line) {
		rc = me_parse_fail(err, it.no ? it.no : 1, "", 0,
				   "no metadata record at the end: the download is incomplete");
		goto out;
	}
	if (records != seen) {
		char why[96];

		snprintf(why, sizeof(why), "metadata says %lld records, %lld were read", records,
			 seen);
		rc = me_parse_fail(err, meta_line, "", 0, why);
	}
out:
	json_tokener_free(tok);
	return rc;
}

static int is_eof_marker(const char *l, size_t n)
{
	if (!n || *l != ';')
		return 0;
	l++, n--;
	me_trim(&l, &n);
	return n == 3 && !memcmp(l, "EOF", 3);
}

int me_fmt_spamhaus_text(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
			 void *ctx, struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len };
	unsigned long eof_line = 0;
	const char *l;
	size_t n, w;
	int more, rc;

	while ((more = me_lines_next(&it, &l, &n, err)) > 0) {
		const char *semi;

		me_trim(&l, &n);
		if (!n)
			continue;
		if (eof_line)
			return me_parse_fail(err, it.no, l, n, "data after the '; EOF' line");
		if (is_eof_marker(l, n)) {
			eof_line = it.no;
			continue;
		}
		if (*l == ';' || *l == '#')
			continue;
		semi = memchr(l, ';', n);
		if (semi)
			n = (size_t)(semi - l);
		me_trim(&l, &n);
		for (w = 0; w < n && l[w] != ' ' && l[w] != '\t'; w++)
			;
		if (w != n)
			return me_parse_fail(err, it.no, l, n, "more than one word before ';'");
		rc = emit(l, n, flags, cb, ctx, it.no, err);
		if (rc)
			return rc;
	}
	if (more < 0)
		return more;
	if (!eof_line)
		return me_parse_fail(err, it.no ? it.no : 1, "", 0,
				     "no '; EOF' line at the end: the download is incomplete");
	return 0;
}
