// SPDX-License-Identifier: GPL-2.0
/*
 * list_save.c - the manual lists to and from files, and across reboots.
 *
 * Expiry is written as wall-clock UTC: the maps count it in CLOCK_BOOTTIME
 * seconds, which start again at zero on every boot, so a saved boot-time value
 * would be meaningless after one. A temporary entry keeps its remaining lifetime
 * across save and restore, and one whose time passed meanwhile is skipped.
 * The proxy's temporary bans (source proxy, edgeban.h) are never saved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "grow.h"
#include "atomicfile.h"
#include "list_io.h"
#include "listline.h"
#include "log.h"

#define STATE_FILE	  "manual.lists"
/* Files larger than this are certainly not a hand-kept list. */
#define LIST_MAX_BYTES (1ul << 30)
/* As for --expires: ten years is a typo guard. */
#define MAX_LIFETIME 315360000ll

static int vec_push(struct rec_vec *v, const struct me_rec *r)
{
	struct me_rec *grown = me_grow(v->v, v->n, &v->cap, sizeof(*v->v), 1024);

	if (!grown)
		return -ENOMEM;
	v->v = grown;
	v->v[v->n++] = *r;
	return 0;
}

struct read_ctx {
	struct rec_vec *out;
	int list;
	const struct me_entry *defaults;
	int has_action;
	const char *file;
	long long now_wall;
	__u32 now_boot;
	int bad; /* the callback printed the error */
};

static __u8 src_id(const char *name)
{
	/* Names of list-sync sources are not kept: what is imported by hand is
	 * the admin's, whatever it came from. */
	if (!strcmp(name, "threshold"))
		return ME_SRC_THRESHOLD;
	if (!strcmp(name, "proxy"))
		return ME_SRC_PROXY;
	return ME_SRC_MANUAL;
}

static int read_cb(void *ctx, const struct me_list_line *l, unsigned long line)
{
	struct read_ctx *rc = ctx;
	struct me_rec r = { 0 };
	char why[160];

	if (rc->list < 0 && l->list < 0) {
		cli_fail("%s:%lu: the line names no list; a restore file names black or "
			 "white on every line (as 'list save' writes it); nothing was changed",
			 rc->file, line);
		rc->bad = 1;
		return -EINVAL;
	}
	if (rc->list >= 0 && l->list >= 0 && l->list != rc->list) {
		cli_fail("%s:%lu: the entry is for the %s list, not the %s list this imports "
			 "into; nothing was imported",
			 rc->file, line, me_list_name(l->list), me_list_name(rc->list));
		rc->bad = 1;
		return -EINVAL;
	}
	r.list = l->list >= 0 ? l->list : rc->list;
	r.pfx = l->pfx;
	r.val = *rc->defaults;
	if (l->has_action) {
		r.val.action = l->val.action;
		r.val.group = l->val.group;
	} else if (!rc->has_action) {
		r.val.action = r.list == ME_LIST_WHITE ? ME_ACT_PASS : ME_ACT_DROP;
		r.val.group = 0;
	}
	if (l->source[0])
		r.val.src = src_id(l->source);
	if (l->has_expires) {
		if (!l->expires) {
			r.val.expires = 0;
		} else if (l->expires <= rc->now_wall) {
			rc->out->expired++;
			return 0;
		} else if (l->expires - rc->now_wall > MAX_LIFETIME) {
			cli_fail("%s:%lu: expires= is more than ten years away; nothing was "
				 "changed",
				 rc->file, line);
			rc->bad = 1;
			return -EINVAL;
		} else {
			r.val.expires = rc->now_boot + (__u32)(l->expires - rc->now_wall);
		}
	}
	if (me_rec_check(&r, why, sizeof(why))) {
		cli_fail("%s:%lu: %s; nothing was changed", rc->file, line, why);
		rc->bad = 1;
		return -EINVAL;
	}
	return vec_push(rc->out, &r);
}

int list_file_read(const char *file, int list, const struct me_entry *defaults, int has_action,
		   struct rec_vec *out)
{
	struct read_ctx rc = { .out = out,
			       .list = list,
			       .defaults = defaults,
			       .has_action = has_action,
			       .file = file };
	struct me_parse_err perr;
	size_t len;
	char *buf;
	int err;

	err = me_read_file(strcmp(file, "-") ? file : "/dev/stdin", LIST_MAX_BYTES, &buf, &len);
	if (err)
		return cli_fail("cannot read %s: %s", file,
				err == -EFBIG ? "larger than 1 GiB" : strerror(-err));
	rc.now_wall = (long long)time(NULL);
	rc.now_boot = me_boot_seconds();
	err = me_listline_parse(buf, len, 0, read_cb, &rc, &perr);
	free(buf);
	if (!err)
		return EXIT_OK;
	free(out->v);
	out->v = NULL;
	out->n = out->cap = 0;
	if (rc.bad)
		return EXIT_FAIL;
	if (err == -EINVAL)
		return cli_fail("%s:%lu: '%s': %s; nothing was changed", file, perr.line, perr.text,
				perr.why);
	return cli_fail("cannot read %s: %s", file, strerror(-err));
}

static int collect_cb(void *ctx, const struct me_rec *r, int synced)
{
	(void)synced;
	return vec_push(ctx, r);
}

static int collect_manual(struct me_edge *e, struct rec_vec *v)
{
	int rc = me_list_walk(e, ME_LIST_WHITE, 0, collect_cb, v);

	if (!rc)
		rc = me_list_walk(e, ME_LIST_BLACK, 0, collect_cb, v);
	return rc;
}

static int flush_both(struct me_edge *e)
{
	__u64 n;
	int rc = me_manual_flush(e, ME_LIST_WHITE, &n);

	if (!rc)
		rc = me_manual_flush(e, ME_LIST_BLACK, &n);
	return rc;
}

int list_replace(struct me_edge *e, const struct me_rec *recs, size_t n, enum me_map_id *full)
{
	struct rec_vec old = { 0 };
	enum me_map_id ignored;
	int rc;

	/* What was there, to put back if the new content does not fit. */
	rc = collect_manual(e, &old);
	if (!rc)
		rc = flush_both(e);
	if (!rc) {
		rc = me_manual_apply(e, recs, n, full);
		if (rc && (flush_both(e) || me_manual_apply(e, old.v, old.n, &ignored)))
			log_err("could not put the previous lists back after a failed "
				"restore: check 'mailedge-loader list show'");
	}
	free(old.v);
	return rc;
}

/* Saved files are sorted, so that two saves of the same lists are the same
 * file (a diff shows what changed). */
static int rec_cmp(const void *pa, const void *pb)
{
	const struct me_rec *a = pa, *b = pb;
	int d;

	if (a->list != b->list)
		return b->list - a->list; /* black first */
	if (a->pfx.family != b->pfx.family)
		return a->pfx.family - b->pfx.family;
	d = memcmp(a->pfx.addr, b->pfx.addr, sizeof(a->pfx.addr));
	if (d)
		return d;
	return (int)a->pfx.len - (int)b->pfx.len;
}

int list_write(struct me_edge *e, FILE *f, size_t *count)
{
	struct rec_vec v = { 0 };
	long long now_wall = (long long)time(NULL);
	__u32 now_boot = me_boot_seconds();
	char addr[ME_PREFIX_STRLEN], act[24], when[ME_UTC_STRLEN + 8], src[32];
	size_t i;
	int rc;

	rc = collect_manual(e, &v);
	if (rc) {
		free(v.v);
		return rc;
	}
	if (v.n) /* qsort(NULL, 0) is undefined behaviour */
		qsort(v.v, v.n, sizeof(*v.v), rec_cmp);
	me_utc_format(now_wall, when, sizeof(when));
	fprintf(f,
		"# mailedge manual lists, saved %s by mailedge-loader list save.\n"
		"# Read back with: mailedge-loader list restore FILE\n",
		when);
	*count = 0;
	for (i = 0; i < v.n; i++) {
		const struct me_rec *r = &v.v[i];

		/* The proxy's bans are verdicts about a client's last hour, not
		 * the admin's lists: they end with the boot they were made in. */
		if (me_entry_expired(&r->val, now_boot) || r->val.src == ME_SRC_PROXY)
			continue;
		me_prefix_format(&r->pfx, addr, sizeof(addr));
		me_action_format(&r->val, act, sizeof(act));
		if (r->val.expires)
			me_utc_format(now_wall + (long long)(r->val.expires - now_boot), when,
				      sizeof(when));
		else
			snprintf(when, sizeof(when), "never");
		me_src_format(r->val.src, src, sizeof(src));
		fprintf(f, "%s %s action=%s expires=%s", me_list_name(r->list), addr, act, when);
		if (r->val.src != ME_SRC_MANUAL)
			fprintf(f, " source=%s", src);
		fputc('\n', f);
		(*count)++;
	}
	free(v.v);
	return ferror(f) ? -EIO : 0;
}

struct save_ctx {
	struct me_edge *e;
	size_t *count;
};

static int render_lists(FILE *f, void *ctx)
{
	struct save_ctx *sc = ctx;

	return list_write(sc->e, f, sc->count);
}

int list_save_path(struct me_edge *e, const char *path, size_t *count)
{
	struct save_ctx sc = { e, count };

	/* 0640: the lists say whom the gateway trusts; not for every user. */
	return me_file_replace(path, 0640, render_lists, &sc);
}

void list_autosave(const struct cli *c, struct me_edge *e)
{
	char path[4096];
	size_t n;
	int rc;

	if (cli_state_path(c, STATE_FILE, path, sizeof(path)))
		return;
	rc = list_save_path(e, path, &n);
	if (rc)
		log_warn("the change is made, but saving the lists to %s failed (%s): it will "
			 "not survive a reboot; fix that and run 'mailedge-loader list save %s'",
			 path, strerror(-rc), path);
	else
		log_debug("saved %zu manual entries to %s", n, path);
}

int list_restore_state(struct cli *c, struct me_edge *e)
{
	struct me_entry none = { 0 };
	struct rec_vec v = { 0 };
	enum me_map_id full;
	char path[4096];
	int rc;

	if (cli_state_path(c, STATE_FILE, path, sizeof(path)) || access(path, F_OK))
		return 0;
	if (list_file_read(path, -1, &none, 0, &v)) {
		log_warn("the new maps start with empty lists: %s could not be restored", path);
		return -EINVAL;
	}
	rc = me_manual_apply(e, v.v, v.n, &full);
	if (rc)
		log_warn("the new maps start with empty lists: restoring %s failed: %s", path,
			 rc == -ENOSPC ? "a map is too small for it" : strerror(-rc));
	else
		log_info("restored %zu manual entr%s from %s (%zu expired meanwhile)", v.n,
			 v.n == 1 ? "y" : "ies", path, v.expired);
	free(v.v);
	return rc;
}
