// SPDX-License-Identifier: GPL-2.0
/*
 * lookup.c - "lookup ADDR": which entry judges an address at the edge, and why.
 *
 * The answer comes from common/verdict.c, the userspace copy of the XDP
 * verdict order that the tests hold to the kernel's, so what this prints is
 * what the filter does. It is the verdict for a new connection (a SYN) to port
 * 25; the rate limit is not predicted, since one SYN more or less changes it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "cli.h"
#include "counters.h"
#include "lists.h"
#include "threshold_view.h"
#include "verdict.h"

static const char lookup_usage[] =
    "usage: mailedge-loader lookup ADDR [--json]\n"
    "\n"
    "Show how the edge filter judges packets from ADDR (IPv4 or IPv6), in the\n"
    "XDP program's order: whitelisted host, whitelisted subnet, blacklisted host,\n"
    "blacklisted subnet (the admin's entries before list sync's, the longest\n"
    "live prefix first, expired entries absent), then a threshold ban.\n"
    "\n"
    "Prints the verdict for a new connection (pass, drop, reset: the SYN, as\n"
    "any TCP segment without RST, is answered with a RST and the rest dropped,\n"
    "or group N: passed to the proxy's backend pool N), the entry that decides\n"
    "it (host or prefix, list, source: manual, threshold, proxy or the list-sync\n"
    "source's name, action, expiry), every other entry that covers ADDR and why\n"
    "it lost, and the source's threshold ban, if any. A temporary ban by the\n"
    "proxy (harvest prevention) is a blacklist entry of source proxy: the verdict\n"
    "then reads \"drop (banned by the proxy)\". Exit status 0 whether ADDR\n"
    "is listed or not; 2 if ADDR is not an address or the maps cannot be read.\n"
    "\n"
    "  --json   one JSON object\n";

/* "expires never", "expires 2026-12-04T21:00:00Z (in 3599 s)", "expired ...". */
static void expiry_text(const struct me_entry *v, char *buf, size_t len)
{
	__u64 now = me_boot_ns();
	char at[32];

	if (!v->expires) {
		snprintf(buf, len, "expires never");
		return;
	}
	threshold_iso_time((__u64)v->expires * 1000000000ull, now, at, sizeof(at));
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
		threshold_iso_time(until, now, at, sizeof(at));
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

static void print_text(struct me_edge *e, const struct me_vresult *r, const char *addr)
{
	char v[32], why[64], line[512];
	size_t i;
	int lost = 0;

	verdict_text(r, v, sizeof(v));
	because(r, why, sizeof(why));
	printf("%-9s %s\n", "address", addr);
	printf("%-9s %s (%s)\n", "verdict", v, why);
	if (r->winner >= 0) {
		fmt_match(e, &r->m[r->winner], line, sizeof(line));
		printf("%-9s %s\n", r->reason == ME_R_BANNED ? "listed" : "entry", line);
	}
	for (i = 0; i < r->n; i++) {
		if ((int)i == r->winner)
			continue;
		fmt_match(e, &r->m[i], line, sizeof(line));
		printf("%-9s %s: %s\n", lost++ ? "" : "lost", line, lost_why(r, i));
	}
	if (r->truncated)
		printf("%-9s more entries cover %s than are shown\n", "", addr);
	threshold_ban_text(r, line, sizeof(line));
	printf("%-9s %s\n", "ban", line);
}

static json_object *to_json(struct me_edge *e, const struct me_vresult *r, const char *addr)
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
	json_object_object_add(o, "ban", threshold_ban_json(r));
	return o;
}

int cmd_lookup(struct cli *c, int argc, char **argv)
{
	struct me_vquery q = { .syn = 1, .answerable = 1, .dport = 25 };
	struct me_vresult *r = NULL;
	char addr[ME_PREFIX_STRLEN];
	struct me_edge e;
	int json, done, rc, ret = EXIT_OK;

	rc = cli_json_opts(c, argc, argv, lookup_usage, &json, &done);
	if (rc || done)
		return rc;
	if (argc - optind != 1)
		return cli_fail("lookup takes one address (see 'mailedge-loader lookup --help')");
	rc = me_prefix_parse(argv[optind], &q.src, 0);
	if (rc)
		return cli_fail("lookup: '%.64s' is not an address: %s", argv[optind],
				me_addr_strerror(rc));
	if (!me_prefix_is_host(&q.src))
		return cli_fail("lookup: '%.64s' is a prefix; give one address", argv[optind]);
	me_prefix_format(&q.src, addr, sizeof(addr));

	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = cli_fail("lookup: out of memory");
		goto out;
	}
	rc = me_verdict_judge(&e, &q, r);
	if (rc) {
		ret = cli_fail("lookup: cannot read the maps: %s", strerror(-rc));
		goto out;
	}
	if (json) {
		json_object *o = to_json(&e, r, addr);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		print_text(&e, r, addr);
	}
out:
	free(r);
	me_edge_close(&e);
	return ret;
}
