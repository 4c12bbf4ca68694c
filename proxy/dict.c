// SPDX-License-Identifier: GPL-2.0
/*
 * dict.c - sender and recipient dictionaries (see dict.h).
 *
 * A loaded dictionary is an arena of NUL-terminated strings (the normalised
 * keys and the replies), an array of entries and an open-addressing hash
 * index over the keys, built once and never changed. The three kinds of entry
 * need no table each: their normalised keys cannot collide ("user@domain"
 * holds an '@', ".domain" starts with a dot, "domain" has neither), so one
 * index answers every step of a lookup, and a parent-domain step is a lookup
 * of a suffix of the very buffer that holds the address.
 *
 * The index is FNV-1a: its keys come from the admin's file, not from clients,
 * and it is kept at most half full, so a client's address costs a few probes
 * whatever it is.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "listfile.h"

struct dent {
	uint64_t hash;
	uint32_t key;	/* arena offset of the normalised key */
	uint32_t reply; /* arena offset of the reply, NO_REPLY for none */
	uint32_t line;
	uint8_t how; /* enum px_dict_how */
};

#define NO_REPLY UINT32_MAX

struct px_dict {
	atomic_int ref;
	unsigned int flags;
	char *name;
	char *arena;
	size_t arena_len, arena_cap;
	struct dent *e;
	size_t n, cap;
	uint32_t *index; /* entry number + 1; 0 = empty */
	size_t index_mask;
};

static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- checking one line ---- */

struct line_err {
	const char *text; /* what to quote */
	size_t len;
	const char *why;
};

static int label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c >= 0x80; /* UTF-8 of an internationalised name */
}

/* A domain: dot-separated labels, or an address literal [192.0.2.1] /
 * [IPv6:2001:db8::1]. NULL if fine, else why not. */
static const char *domain_bad(const char *d, size_t len)
{
	size_t i, label = 0;

	if (!len)
		return "the domain is empty";
	if (len > PX_DICT_DOMAIN_MAX)
		return "the domain is longer than 255 bytes (RFC 5321)";
	if (d[0] == '[') {
		if (len < 3 || d[len - 1] != ']')
			return "an address literal must be [ADDRESS]";
		for (i = 1; i < len - 1; i++)
			if (!label_char((unsigned char)d[i]) && d[i] != ':' && d[i] != '.')
				return "an address literal holds letters, digits, ':' and '.' only";
		return NULL;
	}
	for (i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (!label)
				return "the domain has an empty label (a leading, trailing or "
				       "double dot)";
			label = 0;
			continue;
		}
		if (!label_char((unsigned char)d[i]))
			return "the domain holds a character other than letters, digits, '-', "
			       "'_' and '.'";
		if (++label > 63)
			return "a label of the domain is longer than 63 bytes";
	}
	if (!label)
		return "the domain has an empty label (a leading, trailing or double dot)";
	return NULL;
}

static const char *local_bad(const char *l, size_t len)
{
	size_t i;

	if (len > PX_DICT_LOCAL_MAX)
		return "the local part is longer than 64 bytes (RFC 5321)";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == '@' || c < 0x21 || c == 0x7f)
			return "the local part holds an '@', a control character or a blank";
	}
	return NULL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "550 5.7.1 Sender blocked": a 4xx/5xx code, an optional enhanced code of
 * the same class, printable text. */
static const char *reply_bad(const char *r, size_t len)
{
	size_t i, j, parts;

	if (len > PX_DICT_REPLY_MAX)
		return "the reply is longer than 510 bytes (a reply line is 512 with CRLF)";
	for (i = 0; i < len; i++)
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] > 0x7e)
			return "the reply holds a control character or non-ASCII byte";
	if (len < 3 || (r[0] != '4' && r[0] != '5') || r[1] < '0' || r[1] > '5' ||
	    !is_digit(r[2]) || (len > 3 && r[3] != ' '))
		return "the reply must start with a 4xx or 5xx code (e.g. 550 5.7.1 Sender "
		       "blocked)";
	/* An enhanced status code is a word of three dot-separated numbers. */
	i = 4;
	if (len <= i || !is_digit(r[i]) || i + 1 >= len || r[i + 1] != '.')
		return NULL; /* none: plain text */
	for (j = i, parts = 0; j < len && r[j] != ' '; parts++) {
		size_t k = j;

		while (j < len && is_digit(r[j]))
			j++;
		if (j == k || j - k > 3)
			return "the enhanced status code must be CLASS.SUBJECT.DETAIL (e.g. 5.7.1)";
		if (j < len && r[j] == '.')
			j++;
		else
			break;
	}
	if (parts != 2 || (j < len && r[j] != ' '))
		return "the enhanced status code must be CLASS.SUBJECT.DETAIL (e.g. 5.7.1)";
	if (r[i] != r[0])
		return "the enhanced status code's class differs from the reply code's (550 "
		       "goes with 5.x.x, 450 with 4.x.x)";
	return NULL;
}

/* ---- building ---- */

static int arena_add(struct px_dict *d, const char *s, size_t len, uint32_t *off)
{
	if (d->arena_len + len + 1 > d->arena_cap) {
		size_t cap = d->arena_cap ? d->arena_cap : 4096;
		char *grown;

		while (cap < d->arena_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -E2BIG;
		grown = realloc(d->arena, cap);
		if (!grown)
			return -ENOMEM;
		d->arena = grown;
		d->arena_cap = cap;
	}
	memcpy(d->arena + d->arena_len, s, len);
	d->arena[d->arena_len + len] = '\0';
	*off = (uint32_t)d->arena_len;
	d->arena_len += len + 1;
	return 0;
}

/* Parse one line (no line end) into an entry. 0, 1 for nothing (comment,
 * blank), -EINVAL with *le set, or -ENOMEM. */
static int parse_line(struct px_dict *d, const char *s, size_t len, unsigned long line,
		      struct line_err *le)
{
	char key[1 + PX_DICT_LOCAL_MAX + 1 + PX_DICT_DOMAIN_MAX + 1];
	size_t i = 0, klen, rstart, rlen, at;
	const char *why, *dom;
	struct dent *ent;
	int rc, how;

	le->text = s;
	le->len = len;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == '#')
		return 1;
	if (i) {
		le->why = "the line starts with a blank, which continues the previous line in "
			  "a Postfix table; join the lines (or remove the blanks)";
		return -EINVAL;
	}
	if (memchr(s, '\0', len)) {
		le->why = "the line holds a NUL byte";
		return -EINVAL;
	}
	while (i < len && s[i] != ' ' && s[i] != '\t')
		i++;
	klen = i;
	le->len = klen;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	rstart = i;
	rlen = len - i;
	while (rlen && (s[rstart + rlen - 1] == ' ' || s[rstart + rlen - 1] == '\t'))
		rlen--;

	/* Which kind, and the normalised key. */
	for (at = klen; at > 0 && s[at - 1] != '@'; at--)
		;
	if (at > 1) { /* user@domain */
		how = PX_DICT_ADDRESS;
		if (at == klen)
			why = "a local part in any domain (user@) is not supported; give "
			      "user@domain";
		else if (!(why = local_bad(s, at - 1)))
			why = domain_bad(s + at, klen - at);
		if (why) {
			le->why = why;
			return -EINVAL;
		}
		for (i = 0; i < klen; i++)
			key[i] = (i < at && (d->flags & PX_DICT_CASE_LOCAL)) ? s[i] : lower(s[i]);
	} else {
		if (at == 1) { /* @domain */
			how = PX_DICT_DOMAIN;
			dom = s + 1;
			klen -= 1;
		} else if (s[0] == '.') { /* .domain */
			how = PX_DICT_PARENT;
			dom = s + 1;
			klen -= 1;
		} else {
			how = PX_DICT_DOMAIN;
			dom = s;
		}
		if ((why = domain_bad(dom, klen))) {
			le->why = why;
			return -EINVAL;
		}
		i = 0;
		if (how == PX_DICT_PARENT)
			key[i++] = '.';
		memcpy(key + i, dom, klen);
		klen += i;
		for (i = 0; i < klen; i++)
			key[i] = lower(key[i]);
	}
	if (rlen && (why = reply_bad(s + rstart, rlen))) {
		le->text = s + rstart;
		le->len = rlen;
		le->why = why;
		return -EINVAL;
	}

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct dent *grown;

		if (d->n >= PX_DICT_MAX_ENTRIES) {
			le->why = "more than 2,000,000 entries";
			return -E2BIG;
		}
		grown = realloc(d->e, cap * sizeof(*d->e));
		if (!grown)
			return -ENOMEM;
		d->e = grown;
		d->cap = cap;
	}
	ent = &d->e[d->n];
	memset(ent, 0, sizeof(*ent));
	ent->how = (uint8_t)how;
	ent->line = (uint32_t)line;
	ent->hash = fnv1a(key, klen);
	rc = arena_add(d, key, klen, &ent->key);
	if (!rc) {
		ent->reply = NO_REPLY;
		if (rlen)
			rc = arena_add(d, s + rstart, rlen, &ent->reply);
	}
	if (rc)
		return rc;
	d->n++;
	return 0;
}

/* Index entry n; -EEXIST with *dup its earlier twin. */
static int index_add(struct px_dict *d, size_t n, size_t *dup)
{
	const struct dent *e = &d->e[n];
	size_t i = (size_t)e->hash & d->index_mask;

	for (;; i = (i + 1) & d->index_mask) {
		const struct dent *o;

		if (!d->index[i]) {
			d->index[i] = (uint32_t)n + 1;
			return 0;
		}
		o = &d->e[d->index[i] - 1];
		if (o->hash == e->hash && !strcmp(d->arena + o->key, d->arena + e->key)) {
			*dup = d->index[i] - 1;
			return -EEXIST;
		}
	}
}

static void set_why(char *why, size_t why_len, const char *name, unsigned long line,
		    const char *text, size_t len, const char *reason)
{
	char q[80];

	me_escape(text, len > 64 ? 64 : len, q, sizeof(q));
	snprintf(why, why_len, "%s:%lu: '%s%s': %s", name, line, q, len > 64 ? "..." : "", reason);
}

int px_dict_parse(const char *name, const char *buf, size_t len, unsigned int flags,
		  struct px_dict **out, char *why, size_t why_len)
{
	struct px_dict *d = calloc(1, sizeof(*d));
	const char *p = buf, *end = buf + len;
	unsigned long line = 0;
	size_t size, i, dup;
	struct line_err le;
	int rc = 0;

	*out = NULL;
	if (!d || !(d->name = strdup(name))) {
		free(d);
		snprintf(why, why_len, "%s: out of memory", name);
		return -ENOMEM;
	}
	atomic_init(&d->ref, 1);
	d->flags = flags;
	if (len > PX_DICT_MAX_BYTES) {
		snprintf(why, why_len, "%s: larger than 64 MiB", name);
		rc = -EFBIG;
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		line++;
		if (l && p[l - 1] == '\r')
			l--;
		if (l > PX_DICT_LINE_MAX) {
			set_why(why, why_len, name, line, p, l,
				"the line is longer than 1024 bytes");
			rc = -EINVAL;
			goto fail;
		}
		le.why = NULL;
		rc = parse_line(d, p, l, line, &le);
		if (rc < 0) {
			if (le.why)
				set_why(why, why_len, name, line, le.text, le.len, le.why);
			else
				snprintf(why, why_len, "%s:%lu: %s", name, line, strerror(-rc));
			goto fail;
		}
		rc = 0;
		p = nl ? nl + 1 : end;
	}
	for (size = 16; size < d->n * 2; size *= 2)
		;
	d->index = calloc(size, sizeof(*d->index));
	if (!d->index) {
		snprintf(why, why_len, "%s: out of memory", name);
		rc = -ENOMEM;
		goto fail;
	}
	d->index_mask = size - 1;
	for (i = 0; i < d->n; i++)
		if (index_add(d, i, &dup)) {
			char reason[96];

			snprintf(reason, sizeof(reason), "the same entry as on line %u",
				 d->e[dup].line);
			set_why(why, why_len, name, d->e[i].line, d->arena + d->e[i].key,
				strlen(d->arena + d->e[i].key), reason);
			rc = -EINVAL;
			goto fail;
		}
	*out = d;
	return 0;
fail:
	px_dict_put(d);
	return rc;
}

int px_dict_load(const char *path, unsigned int flags, struct px_dict **out, char *why,
		 size_t why_len)
{
	size_t len;
	char *buf;
	int rc;

	*out = NULL;
	rc = me_read_file(path, PX_DICT_MAX_BYTES, &buf, &len);
	if (rc) {
		snprintf(why, why_len, "%s: %s", path,
			 rc == -EFBIG ? "larger than 64 MiB" : strerror(-rc));
		return rc;
	}
	rc = px_dict_parse(path, buf, len, flags, out, why, why_len);
	free(buf);
	return rc;
}

/* ---- lookup ---- */

static const struct dent *find(const struct px_dict *d, const char *key, size_t len)
{
	uint64_t h = fnv1a(key, len);
	size_t i = (size_t)h & d->index_mask;

	for (; d->index[i]; i = (i + 1) & d->index_mask) {
		const struct dent *e = &d->e[d->index[i] - 1];
		const char *k = d->arena + e->key;

		if (e->hash == h && !strncmp(k, key, len) && !k[len])
			return e;
	}
	return NULL;
}

static int hit_of(const struct px_dict *d, const struct dent *e, struct px_dict_hit *hit)
{
	hit->how = (enum px_dict_how)e->how;
	hit->key = d->arena + e->key;
	hit->reply = e->reply == NO_REPLY ? NULL : d->arena + e->reply;
	hit->line = e->line;
	return 1;
}

int px_dict_lookup(const struct px_dict *d, const char *addr, size_t len, struct px_dict_hit *hit)
{
	char buf[PX_DICT_LOCAL_MAX + 1 + PX_DICT_DOMAIN_MAX + 1];
	const struct dent *e;
	size_t at, i;

	if (!d || !d->n || !len || len >= sizeof(buf))
		return 0;
	for (at = len; at > 0 && addr[at - 1] != '@'; at--)
		;
	if (!at)
		return 0; /* no domain: no entry can match */
	for (i = 0; i < len; i++)
		buf[i] = (i < at && (d->flags & PX_DICT_CASE_LOCAL)) ? addr[i] : lower(addr[i]);
	/* An absolute domain (example.org.) names the same domain. */
	if (len > at && buf[len - 1] == '.')
		len--;
	if (len == at)
		return 0;
	if (at > 1 && at - 1 <= PX_DICT_LOCAL_MAX && (e = find(d, buf, len)))
		return hit_of(d, e, hit);
	if ((e = find(d, buf + at, len - at)) && e->how == PX_DICT_DOMAIN)
		return hit_of(d, e, hit);
	/* Parent domains, closest first: ".b.c" then ".c" for a.b.c. */
	for (i = at; i < len; i++)
		if (buf[i] == '.' && (e = find(d, buf + i, len - i)) && e->how == PX_DICT_PARENT)
			return hit_of(d, e, hit);
	return 0;
}

size_t px_dict_size(const struct px_dict *d)
{
	return d ? d->n : 0;
}

const char *px_dict_name(const struct px_dict *d)
{
	return d ? d->name : "";
}

struct px_dict *px_dict_get(struct px_dict *d)
{
	if (d)
		atomic_fetch_add(&d->ref, 1);
	return d;
}

void px_dict_put(struct px_dict *d)
{
	if (!d || atomic_fetch_sub(&d->ref, 1) != 1)
		return;
	free(d->index);
	free(d->e);
	free(d->arena);
	free(d->name);
	free(d);
}
