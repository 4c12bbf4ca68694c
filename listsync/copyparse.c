// SPDX-License-Identifier: GPL-2.0
/*
 * copyparse.c - a source's copy parsed into its entries (copyparse.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "copyparse.h"
#include "hugemem.h"

/* Below this a second thread costs more than it saves. */
#define SPLIT_MIN (8u << 20)

static int collect(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct prefixes *ps = ctx;
	struct me_prefix *g;

	if (p->len == 0) {
		snprintf(ps->why, sizeof(ps->why), "line %lu: a /0 would match every address; "
			 "refused", line);
		return -EINVAL;
	}
	g = me_grow(ps->v, ps->nv, &ps->cap, sizeof(*g), 1024);
	if (!g)
		return -ENOMEM;
	ps->v = g;
	ps->fixed += p->host_bits_fixed != 0;
	ps->v[ps->nv++] = *p;
	return 0;
}

void ls_prefixes_free(struct prefixes *ps)
{
	free(ps->v);
	free(ps->h4.v);
	memset(ps, 0, sizeof(*ps));
}

void ls_prefixes_drop(struct prefixes *ps)
{
	free(ps->v);
	free(ps->h4.v);
	ps->v = NULL;
	ps->h4.v = NULL;
	ps->h4.n = ps->h4.cap = ps->nv = ps->cap = 0;
}

static size_t count_lf(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/*
 * One part of a copy in a format with a fast path. Both parts write their
 * hosts into one array: a host takes 8 bytes of the file at least ("a.b.c.d"
 * and LF; the last line 7), so the first part's fit below off / 8 + 1; the
 * second part's go from there, and move down to close up on the first's when
 * both are done. Only what is written is ever touched of the room.
 *
 * The second part is parsed as if it began at line 1: counting the first
 * part's lines to number it (4M lines for 8M hosts) took that thread as long
 * as the move does. Line numbers matter only in an error, and a part that
 * fails is parsed again, numbered.
 */
struct part {
	const struct ls_source *s;
	const char *buf;  /* the whole copy */
	size_t off, len;  /* this part: buf[off..off+len), off at a line's start */
	uint32_t *hosts;  /* the array of both parts; NULL: none (cb takes them) */
	size_t cap0;	  /* room for the first part's hosts */
	struct prefixes ps; /* its h4.v points into hosts */
	struct me_parse_err err;
	int rc;
};

static void parse_from(struct part *p, unsigned long first)
{
	if (p->hosts) {
		p->ps.h4.v = p->hosts + (p->off ? p->cap0 : 0);
		p->ps.h4.cap = p->off ? p->len / 8 + 1 : p->cap0;
	}
	p->rc = p->s->fmt->parse4(p->buf + p->off, p->len, first, ME_PFX_CLEAR_HOST, collect,
				  &p->ps, &p->ps.h4, &p->err);
}

static void *parse_part(void *arg)
{
	struct part *p = arg;

	parse_from(p, 0);
	if (p->rc && p->off) { /* again, for the line numbers of its error */
		free(p->ps.v);
		memset(&p->ps, 0, sizeof(p->ps));
		memset(&p->err, 0, sizeof(p->err));
		parse_from(p, (unsigned long)count_lf(p->buf, p->off));
	}
	return NULL;
}

/* The second part's entries after the first's, in p[0]. */
static int join_parts(struct part *p)
{
	struct prefixes *a = &p[0].ps, *b = &p[1].ps;

	if (b->h4.n && b->h4.v != a->h4.v + a->h4.n)
		memmove(a->h4.v + a->h4.n, b->h4.v, b->h4.n * sizeof(*b->h4.v));
	a->h4.n += b->h4.n;
	a->h4.cap += b->h4.cap;
	if (b->nv) {
		struct me_prefix *g = realloc(a->v, (a->nv + b->nv) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		memcpy(g + a->nv, b->v, b->nv * sizeof(*g));
		a->v = g;
		a->nv += b->nv;
		a->cap = a->nv;
	}
	a->fixed += b->fixed;
	return 0;
}

/* Parse with the fast path, in two parts when the copy is big: the first
 * error in the file is the first part's, if it has one. */
static int parse_fast(const struct ls_source *s, const char *buf, size_t len, struct prefixes *ps,
		      struct me_parse_err *err)
{
	struct part p[2];
	const char *nl = len >= SPLIT_MIN ? memchr(buf + len / 2, '\n', len - len / 2) : NULL;
	size_t mid = nl ? (size_t)(nl - buf) + 1 : len, room = mid / 8 + 1 + (len - mid) / 8 + 1;
	uint32_t *hosts = malloc(room * sizeof(*hosts));
	pthread_t th;
	int threaded = 0, k, bad, rc;

	if (hosts)
		me_hugepages(hosts, room * sizeof(*hosts));
	memset(p, 0, sizeof(p));
	for (k = 0; k < 2; k++) {
		p[k].s = s;
		p[k].buf = buf;
		p[k].hosts = hosts;
		p[k].cap0 = mid / 8 + 1;
	}
	p[0].len = mid;
	p[1].off = mid;
	p[1].len = len - mid;
	if (p[1].len)
		threaded = !pthread_create(&th, NULL, parse_part, &p[1]);
	parse_part(&p[0]);
	if (threaded)
		pthread_join(th, NULL);
	else if (p[1].len)
		parse_part(&p[1]); /* no thread: the same work, here */
	bad = p[0].rc ? 0 : p[1].rc ? 1 : -1;
	rc = bad < 0 ? join_parts(p) : p[bad].rc;
	k = bad < 0 ? 0 : bad;
	*err = p[k].err;
	*ps = p[k].ps;
	ps->h4.v = hosts; /* the array's owner from here */
	if (bad >= 0)
		ps->h4.n = 0;
	for (k = 0; k < 2; k++)
		free(p[k].ps.v == ps->v ? NULL : p[k].ps.v);
	return rc;
}

int ls_copy_parse(const struct ls_source *s, const char *buf, size_t len, struct prefixes *ps,
		  char *why, size_t why_len)
{
	struct me_parse_err err;
	int rc;

	memset(ps, 0, sizeof(*ps));
	if (s->fmt->parse4) {
		rc = parse_fast(s, buf, len, ps, &err);
	} else {
		/* One entry a line at most: room for them all at once, rather
		 * than doubling (and copying) a 200 MB array on the way there. */
		ps->cap = count_lf(buf, len) + 1;
		ps->v = malloc(ps->cap * sizeof(*ps->v));
		if (!ps->v) {
			snprintf(why, why_len, "%s", strerror(ENOMEM));
			ps->cap = 0;
			return -ENOMEM;
		}
		me_hugepages(ps->v, ps->cap * sizeof(*ps->v));
		rc = s->fmt->parse(buf, len, ME_PFX_CLEAR_HOST, collect, ps, &err);
	}
	ps->n = ps->nv + ps->h4.n;
	if (!rc)
		return 0;
	if (ps->why[0])
		snprintf(why, why_len, "%s", ps->why);
	else if (rc == -EINVAL && err.text[0])
		snprintf(why, why_len, "line %lu: %s: '%s'", err.line, err.why, err.text);
	else if (rc == -EINVAL)
		snprintf(why, why_len, "line %lu: %s", err.line, err.why);
	else
		snprintf(why, why_len, "%s", strerror(-rc));
	ls_prefixes_free(ps);
	return rc;
}
