// SPDX-License-Identifier: GPL-2.0
/*
 * verdict_show.c - a judged address shown to people and to scripts: the text
 * and JSON of "mailedge-loader lookup" and the edge part of "mailedge-proxy
 * explain", one implementation for both (verdict_show.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "counters.h"
#include "lists.h"
#include "verdict_show.h"

void me_boot_iso(__u64 at_ns, __u64 now_ns, char *buf, size_t len)
{
	/* Boot time and wall time move together, short of a clock step. */
	time_t at =
	    time(NULL) + (time_t)((__s64)(at_ns / 1000000000ull) - (__s64)(now_ns / 1000000000ull));
	struct tm tm;

	if (!gmtime_r(&at, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

/* Seconds left, rounded up: a ban with 0.4 s left is still a ban. */
__u64 me_vshow_secs_left(__u64 until, __u64 now)
{
	return until > now ? (until - now + 999999999ull) / 1000000000ull : 0;
}

void me_vshow_ban_prefix(const struct me_src_key *k, const struct me_config *cfg, char *buf,
		       size_t len)
{
	struct me_prefix p;

	me_verdict_key_prefix(k, cfg, &p);
	me_prefix_format(&p, buf, len);
	/* A /32 or /128 prints bare; the counted prefix is what was banned. */
	if (me_prefix_is_host(&p))
		snprintf(buf + strlen(buf), len - strlen(buf), "/%u", p.len);
}

/* Why a live ban does not decide this source's verdict, or NULL if it does. */
static const char *ban_moot(const struct me_vresult *r)
{
	if (!r->cfg.thr_ban_secs)
		return "bans are off (threshold set --ban)";
	if (r->reason == ME_R_WHITE_HOST || r->reason == ME_R_WHITE_NET)
		return "whitelisted sources are never banned";
	if (r->reason != ME_R_BANNED)
		return "a list entry decides first";
	return NULL;
}

static void ban_text(const struct me_vresult *r, char *buf, size_t len)
{
	__u64 now = me_boot_ns();
	char pfx[ME_PREFIX_STRLEN + 4], at[32];
	const char *moot;

	if (!r->ban_live) {
		snprintf(buf, len, "none");
		return;
	}
	me_vshow_ban_prefix(&r->key, &r->cfg, pfx, sizeof(pfx));
	me_boot_iso(r->ban_until_ns, now, at, sizeof(at));
	moot = ban_moot(r);
	snprintf(buf, len, "%s banned by the threshold until %s (%llu s left)%s%s", pfx, at,
		 (unsigned long long)me_vshow_secs_left(r->ban_until_ns, now), moot ? "; not applied: " : "",
		 moot ? moot : "");
}

json_object *me_vshow_ban_obj(const struct me_src_key *k, const struct me_config *cfg, __u64 until,
			    __u64 now)
{
	json_object *o = json_object_new_object();
	char pfx[ME_PREFIX_STRLEN + 4], at[32];

	me_vshow_ban_prefix(k, cfg, pfx, sizeof(pfx));
	me_boot_iso(until, now, at, sizeof(at));
	json_object_object_add(o, "prefix", json_object_new_string(pfx));
	json_object_object_add(o, "until", json_object_new_string(at));
	json_object_object_add(o, "seconds_left",
			       json_object_new_int64((int64_t)me_vshow_secs_left(until, now)));
	return o;
}

static json_object *ban_json(const struct me_vresult *r)
{
	json_object *o;
	const char *moot;

	if (!r->ban_live)
		return NULL;
	o = me_vshow_ban_obj(&r->key, &r->cfg, r->ban_until_ns, me_boot_ns());
	moot = ban_moot(r);
	json_object_object_add(o, "applied", json_object_new_boolean(!moot));
	json_object_object_add(o, "not_applied_because",
			       moot ? json_object_new_string(moot) : NULL);
	return o;
}

/* "expires never", "expires 2026-12-04T21:00:00Z (in 3599 s)", "expired ...". */
static void expiry_text(const struct me_entry *v, char *buf, size_t len)
{
	__u64 now = me_boot_ns();
	char at[32];

	if (!v->expires) {
		snprintf(buf, len, "expires never");
		return;
	}
	me_boot_iso((__u64)v->expires * 1000000000ull, now, at, sizeof(at));
	if ((__u64)v->expires * 1000000000ull > now)
		snprintf(buf, len, "expires %s (in %llu s)", at,
			 (unsigned long long)(v->expires - now / 1000000000ull));
	else
		snprintf(buf, len, "expired %s", at);
}

/* "198.51.100.0/24 black list, source manual, action drop, expires never" */
static void fmt_match(struct me_edge *e, const struct me_vmatch *m, char *buf, size_t len)
{
	char pfx[ME_PREFIX_STRLEN], src[64], act[32], exp[96];

	me_prefix_format(&m->rec.pfx, pfx, sizeof(pfx));
	me_src_name(e, m->rec.val.src, src, sizeof(src));
	me_action_format(&m->rec.val, act, sizeof(act));
	expiry_text(&m->rec.val, exp, sizeof(exp));
	snprintf(buf, len, "%s %s list, %s, source %s, action %s, %s", pfx,
		 me_list_name(m->rec.list), m->synced ? "list-sync map" : "admin's map", src, act,
		 exp);
}

static json_object *json_match(struct me_edge *e, const struct me_vmatch *m)
{
	json_object *o = json_object_new_object();
	char pfx[ME_PREFIX_STRLEN], src[64], act[32], at[32];
	__u64 now = me_boot_ns(), until = (__u64)m->rec.val.expires * 1000000000ull;

	me_prefix_format(&m->rec.pfx, pfx, sizeof(pfx));
	me_src_name(e, m->rec.val.src, src, sizeof(src));
	me_action_format(&m->rec.val, act, sizeof(act));
	json_object_object_add(o, "prefix", json_object_new_string(pfx));
	json_object_object_add(
	    o, "kind", json_object_new_string(me_prefix_is_host(&m->rec.pfx) ? "host" : "subnet"));
	json_object_object_add(o, "list", json_object_new_string(me_list_name(m->rec.list)));
	json_object_object_add(o, "step", json_object_new_string(me_reason_name(m->reason)));
	json_object_object_add(o, "synced", json_object_new_boolean(m->synced));
	json_object_object_add(o, "source", json_object_new_string(src));
	json_object_object_add(o, "source_id", json_object_new_int(m->rec.val.src));
	json_object_object_add(o, "action", json_object_new_string(act));
	json_object_object_add(o, "expired", json_object_new_boolean(m->expired));
	if (m->rec.val.expires) {
		me_boot_iso(until, now, at, sizeof(at));
		json_object_object_add(o, "expires", json_object_new_string(at));
		json_object_object_add(
		    o, "expires_in",
		    json_object_new_int64(
			until > now ? (int64_t)(m->rec.val.expires - now / 1000000000ull) : 0));
	} else {
		json_object_object_add(o, "expires", NULL);
		json_object_object_add(o, "expires_in", NULL);
	}
	return o;
}

/* Why an entry that covers the address did not decide. */
static const char *lost_why(const struct me_vresult *r, size_t i)
{
	const struct me_vmatch *m = &r->m[i];

	if (m->expired)
		return "expired";
	if (r->winner >= 0 && (size_t)r->winner < i) {
		const struct me_vmatch *w = &r->m[r->winner];

		if (w->reason == m->reason && w->synced == m->synced)
			return "a longer prefix in the same map comes first";
		if (w->reason == m->reason)
			return "the admin's entry comes before list sync's";
		switch (w->reason) {
		case ME_R_WHITE_HOST:
			return "the whitelisted host comes first";
		case ME_R_WHITE_NET:
			return "the whitelisted subnet comes first";
		case ME_R_BLACK_HOST:
			return "the blacklisted host comes first";
		default:
			return "the blacklisted subnet comes first";
		}
	}
	return "not consulted";
}

/* "drop", "pass", "reset", "group 7". */
static void verdict_text(const struct me_vresult *r, char *buf, size_t len)
{
	const struct me_entry *w = r->winner >= 0 ? &r->m[r->winner].rec.val : NULL;

	if (r->verdict == ME_V_PASS && w && r->reason != ME_R_BANNED && w->action == ME_ACT_GROUP)
		snprintf(buf, len, "group %u", w->group);
	else
		snprintf(buf, len, "%s", me_verdict_name(r->verdict));
}

static void because(const struct me_vresult *r, char *buf, size_t len)
{
	const struct me_vmatch *w = r->winner >= 0 ? &r->m[r->winner] : NULL;

	switch (r->reason) {
	case ME_R_BANNED:
		snprintf(buf, len, "banned by the connection threshold");
		break;
	case ME_R_CLEAN:
		snprintf(buf, len, "in no list");
		break;
	case ME_R_BLACK_HOST:
	case ME_R_BLACK_NET:
		/* The proxy's bans live in the admin's maps (edgeban.h). */
		if (w && !w->synced && w->rec.val.src == ME_SRC_PROXY) {
			snprintf(buf, len, "banned by the proxy");
			break;
		}
		/* fall through */
	default:
		snprintf(buf, len, "%s %s", w && w->synced ? "list-sync" : "admin's",
			 me_reason_name(r->reason));
	}
}

void me_vshow_text(FILE *f, struct me_edge *e, const struct me_vresult *r, const char *addr)
{
	char v[32], why[64], line[512];
	size_t i;
	int lost = 0;

	verdict_text(r, v, sizeof(v));
	because(r, why, sizeof(why));
	fprintf(f, "%-9s %s\n", "address", addr);
	fprintf(f, "%-9s %s (%s)\n", "verdict", v, why);
	if (r->winner >= 0) {
		fmt_match(e, &r->m[r->winner], line, sizeof(line));
		fprintf(f, "%-9s %s\n", r->reason == ME_R_BANNED ? "listed" : "entry", line);
	}
	for (i = 0; i < r->n; i++) {
		if ((int)i == r->winner)
			continue;
		fmt_match(e, &r->m[i], line, sizeof(line));
		fprintf(f, "%-9s %s: %s\n", lost++ ? "" : "lost", line, lost_why(r, i));
	}
	if (r->truncated)
		fprintf(f, "%-9s more entries cover %s than are shown\n", "", addr);
	ban_text(r, line, sizeof(line));
	fprintf(f, "%-9s %s\n", "ban", line);
}

json_object *me_vshow_json(struct me_edge *e, const struct me_vresult *r, const char *addr)
{
	json_object *o = json_object_new_object(), *lost = json_object_new_array();
	const struct me_entry *w = r->winner >= 0 ? &r->m[r->winner].rec.val : NULL;
	char v[32];
	size_t i;

	verdict_text(r, v, sizeof(v));
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "verdict", json_object_new_string(me_verdict_name(r->verdict)));
	json_object_object_add(o, "group",
			       r->verdict == ME_V_PASS && w && w->action == ME_ACT_GROUP
				   ? json_object_new_int(w->group)
				   : NULL);
	json_object_object_add(o, "summary", json_object_new_string(v));
	json_object_object_add(o, "reason", json_object_new_string(me_reason_name(r->reason)));
	json_object_object_add(o, "entry", r->winner >= 0 ? json_match(e, &r->m[r->winner]) : NULL);
	for (i = 0; i < r->n; i++) {
		json_object *m;

		if ((int)i == r->winner)
			continue;
		m = json_match(e, &r->m[i]);
		json_object_object_add(m, "lost_because", json_object_new_string(lost_why(r, i)));
		json_object_array_add(lost, m);
	}
	json_object_object_add(o, "lost", lost);
	json_object_object_add(o, "truncated", json_object_new_boolean(r->truncated));
	json_object_object_add(o, "ban", ban_json(r));
	return o;
}
