// SPDX-License-Identifier: GPL-2.0
/*
 * test_loader_ops.c - the operator's questions: lookup, threshold bans, unban,
 * and common/verdict.c, the userspace copy of the XDP verdict order behind them.
 *
 * loader_ops::verdict_matches_bpf_table holds verdict.c to the kernel: the
 * fixture test_bpf_table.c uses (lib/bpffix.c: the entries of bpf_table_rows.h,
 * in private maps of a loaded program) and every row of every table, judged by
 * me_verdict_judge and compared with the row's promise (verdict, reason, the
 * list_hits element). Rows whose frame is built without mangling are also run
 * through BPF_PROG_RUN on the same maps, and the XDP action compared with the
 * userspace verdict directly. Rows about parsing (non-IP, malformed, refused by
 * the kernel) have no source to judge and are counted, not skipped silently.
 *
 * The CLI tests create maps with "init" in the test's own pin directory, add
 * entries with "list add", and drive a real threshold ban by running SYNs
 * through the edge program loaded on those pinned maps (BPF_PROG_RUN; no
 * interface or namespace needed). .fini removes the pin directory on every
 * exit path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "edge_load.h"
#include "lists.h"
#include "verdict.h"
#include "../listsync/sync_apply.h"
#include "../listsync/union.h"
#include "lib/bpffix.h"
#include "lib/labcheck.h"
#include "lib/pkt.h"
#include "lib/testenv.h"
#include "lib/tjson.h"
#include "bpf_table_rows.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct me_prog prog;
static struct me_edge edge;

static void teardown(void)
{
	bpffix_close(&prog, &edge);
	memset(&prog, 0, sizeof(prog));
	tenv_pin_dir_remove();
}

/* ---- the BPF table's fixture, on private maps (lib/bpffix.c) ---- */

static void setup_table(void)
{
	bpffix_load_lists(&prog, &edge);
}

static void config_update(void (*edit)(struct me_config *, __u32), __u32 v)
{
	struct me_config c;
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &c), 0, "reading config");
	edit(&c, v);
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_CONFIG], &zero, &c, BPF_ANY), 0,
		     "writing config: %s", strerror(errno));
}

static void set_gen(struct me_config *c, __u32 gen)
{
	c->sync_gen = gen;
}

/* What the parser would make of the row's frame: is it a SYN whose TCP header
 * the program reads (a later fragment carries no header to read)? */
static int row_syn(const struct frame *f)
{
	return (f->l4 == 0 || f->l4 == IPPROTO_TCP) && (f->flags & TF_SYN) &&
	       !(f->flags & TF_ACK) && f->frag_offset == 0;
}

/* Would a reset entry answer it: a TCP header the program reads, RST clear? */
static int row_answerable(const struct frame *f)
{
	return (f->l4 == 0 || f->l4 == IPPROTO_TCP) && !(f->flags & TF_RST) && f->frag_offset == 0;
}

static __u32 xdp_of(__u32 verdict)
{
	return verdict == ME_V_DROP ? XDP_DROP : verdict == ME_V_RESET ? XDP_TX : XDP_PASS;
}

/* Run a frame built from spec s through the program; returns the XDP action. */
static __u32 run_spec(const struct pkt_spec *s, const char *desc)
{
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	size_t len = pkt_build(s, in, sizeof(in));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	cr_assert_gt(len, 0, "'%s': the frame builder refused the frame", desc);
	cr_assert_eq(bpf_prog_test_run_opts(me_prog_fd(&prog), &o), 0, "'%s': BPF_PROG_RUN: %s",
		     desc, strerror(errno));
	return o.retval;
}

/* Judge one row in userspace; 1 if verdict, reason and hit are the row's. */
static int judge_row(const char *table, const struct row *r, struct me_vresult *res)
{
	struct me_vquery q = { .syn = row_syn(&r->f),
			       .answerable = row_answerable(&r->f),
			       .rate = 1 };
	int rc;

	q.dport = r->f.dport ? r->f.dport : 25;
	cr_assert_eq(me_prefix_parse(r->f.src, &q.src, 0), 0, "%s '%s': source %s", table, r->desc,
		     r->f.src);
	config_update(set_gen, r->gen);
	rc = me_verdict_judge(&edge, &q, res);
	cr_assert_eq(rc, 0, "%s '%s': me_verdict_judge: %s", table, r->desc, strerror(-rc));
	cr_expect(res->verdict == r->want.verdict && res->reason == r->want.reason &&
		      res->hit == r->want.hit,
		  "%s '%s': userspace got %s/%s hit %u, kernel table wants %s/%s hit %u", table,
		  r->desc, me_verdict_name(res->verdict), me_reason_name(res->reason), res->hit,
		  me_verdict_name(r->want.verdict), me_reason_name(r->want.reason), r->want.hit);
	return res->verdict == r->want.verdict && res->reason == r->want.reason &&
	       res->hit == r->want.hit;
}

Test(loader_ops, verdict_matches_bpf_table, .init = setup_table, .fini = teardown, .timeout = 60)
{
	struct me_vresult *res = calloc(1, sizeof(*res));
	size_t t, i, judged = 0, parse_rows = 0, ran = 0, total = 0;

	cr_assert_not_null(res);
	for (t = 0; t < bpffix_ntables; t++)
		for (i = 0; i < bpffix_tables[t].n; i++) {
			const struct row *r = &bpffix_tables[t].rows[i];
			struct pkt_spec s;
			__u32 act;

			total++;
			if (r->refused || r->want.reason == ME_R_NONIP ||
			    r->want.reason == ME_R_MALFORMED) {
				/* A parse outcome: the frame, not its source, decides. */
				parse_rows++;
				continue;
			}
			judged++;
			if (!judge_row(bpffix_tables[t].name, r, res))
				continue;
			if (r->f.mangle != MANGLE_NONE || r->f.cut_from != CUT_NONE)
				continue;
			bpffix_frame_spec(&r->f, &s);
			act = run_spec(&s, r->desc);
			ran++;
			cr_expect_eq(act, xdp_of(res->verdict),
				     "%s '%s': kernel gave XDP action %u, userspace verdict %s",
				     bpffix_tables[t].name, r->desc, act,
				     me_verdict_name(res->verdict));
		}
	free(res);
	cr_expect_eq(judged + parse_rows, total);
	/* The table is mostly about sources: a broken filter above must not make
	 * this test vacuous. */
	cr_expect_geq(judged, 100, "judged %zu rows of %zu, want most of them", judged, total);
	cr_expect_geq(ran, 80, "ran %zu rows through the kernel too, want most", ran);
	cr_log_info("verdict.c: %zu rows judged (%zu also by the kernel), %zu parse rows", judged,
		    ran, parse_rows);
}

/* The threshold half of the order, against the kernel's own state: after the
 * kernel counts SYNs and bans, verdict.c predicts the next one. */
static void set_thr(struct me_config *c, __u32 v)
{
	c->thr_rate = 1;
	c->thr_burst = 2;
	c->thr_ban_secs = v;
}

Test(loader_ops, verdict_threshold_follows_kernel, .init = setup_table, .fini = teardown,
     .timeout = 60)
{
	struct me_vquery q = { .syn = 1, .dport = 25, .rate = 1 };
	struct pkt_spec s = { .family = AF_INET,
			      .src = CLEAN4,
			      .dst = GW4,
			      .tcp_flags = TF_SYN,
			      .sport = 40001,
			      .dport = 25 };
	struct me_vresult *res = calloc(1, sizeof(*res));
	int i;

	cr_assert_not_null(res);
	cr_assert_eq(me_prefix_parse(CLEAN4, &q.src, 0), 0);
	config_update(set_thr, 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(me_verdict_judge(&edge, &q, res), 0);
		cr_expect(res->verdict == ME_V_PASS && !res->limited,
			  "SYN %d of a burst of 2: userspace got %s, want pass", i + 1,
			  me_verdict_name(res->verdict));
		cr_expect_eq(run_spec(&s, "SYN in the burst"), XDP_PASS);
	}
	cr_assert_eq(me_verdict_judge(&edge, &q, res), 0);
	cr_expect(res->verdict == ME_V_DROP && res->reason == ME_R_THRESHOLD && res->limited,
		  "SYN 3: userspace got %s/%s, want drop/threshold", me_verdict_name(res->verdict),
		  me_reason_name(res->reason));
	cr_expect_eq(run_spec(&s, "SYN over the burst"), XDP_DROP);

	/* Bans on: the kernel bans the next SYN's source; then everything is dropped. */
	config_update(set_thr, 60);
	cr_expect_eq(run_spec(&s, "SYN over the burst, bans on"), XDP_DROP);
	q.syn = 0;
	cr_assert_eq(me_verdict_judge(&edge, &q, res), 0);
	cr_expect(res->verdict == ME_V_DROP && res->reason == ME_R_BANNED &&
		      res->hit == ME_SRC_THRESHOLD && res->ban_live,
		  "ACK from a banned source: userspace got %s/%s, want drop/banned",
		  me_verdict_name(res->verdict), me_reason_name(res->reason));
	cr_expect_eq(res->counted_len, 32);
	/* A whitelisted host is never banned or limited, as in the kernel. */
	cr_assert_eq(me_prefix_parse(WHITE4, &q.src, 0), 0);
	q.syn = 1;
	cr_assert_eq(me_verdict_judge(&edge, &q, res), 0);
	cr_expect(res->verdict == ME_V_PASS && res->reason == ME_R_WHITE_HOST);
	free(res);
}

/* ---- the CLI ---- */

static void cli_teardown(void)
{
	tenv_kept_free();
	teardown();
}

static void cli_setup(void)
{
	tenv_pin_dir_remove();
	memset(&prog, 0, sizeof(prog));
	me_edge_init(&edge);
}

/* Any status; the run's output held until .fini. */
static void loader(struct run *r, const char *args)
{
	tenv_loader(r, "%s", args);
	tenv_keep_run(r);
}

/* Exit 2 and one line on stderr containing want. */
static void fails(const char *want, const char *args)
{
	struct run r;
	const char *nl;

	loader(&r, args);
	cr_expect_eq(r.status, 2, "'%s': got exit %d, want 2", args, r.status);
	nl = strchr(r.err, '\n');
	cr_expect(nl && !nl[1], "'%s': stderr is not one line: %s", args, r.err);
	cr_expect(strstr(r.err, want), "'%s': stderr '%s' does not say '%s'", args, r.err, want);
}

static void has(const char *out, const char *want, const char *what)
{
	cr_expect(strstr(out, want), "%s: output does not contain '%s':\n%s", what, want, out);
}

/* The line of text output that starts with label. */
static const char *line_of(const char *out, const char *label, char *buf, size_t len)
{
	const char *p = out;
	size_t n = strlen(label);

	while (p && *p) {
		if (!strncmp(p, label, n) && p[n] == ' ') {
			const char *e = strchr(p, '\n');
			size_t l = e ? (size_t)(e - p) : strlen(p);

			snprintf(buf, len, "%.*s", (int)l, p);
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	snprintf(buf, len, "(no '%s' line)", label);
	return buf;
}

static json_object *lookup_json(const char *addr)
{
	json_object *o = json_tokener_parse(loader_expect(0, "lookup %s --json", addr));

	cr_assert_not_null(o, "lookup %s --json: not JSON", addr);
	return o;
}

TestSuite(loader_ops);

Test(loader_ops, lookup_each_match_kind, .init = cli_setup, .fini = cli_teardown, .timeout = 60)
{
	char buf[512];
	const char *out;
	json_object *o, *lost, *e;

	loader_expect(0, "init --hosts 16 --subnets 16 --rate-entries 16 --ban-entries 16");
	loader_expect(0, "list add black 198.51.100.0/24 203.0.113.66 2001:db8:b::/48");
	loader_expect(0, "list add white 198.51.100.7 198.51.100.128/28 2001:db8:b::7");
	loader_expect(0, "list add black 198.51.100.130 --action drop");
	loader_expect(0, "list add black 203.0.113.0/24 --action reset");
	loader_expect(0, "list add black 192.0.2.99 --action group:7");
	loader_expect(0, "list add black 192.0.2.112 --expires 3600");

	/* A white host inside a black subnet: passes, the subnet lost. */
	out = loader_expect(0, "lookup 198.51.100.7");
	has(line_of(out, "verdict", buf, sizeof(buf)), "pass (admin's white-host)", "white host");
	has(line_of(out, "entry", buf, sizeof(buf)),
	    "198.51.100.7 white list, admin's map, source manual, action pass, expires never",
	    "white host");
	has(line_of(out, "lost", buf, sizeof(buf)),
	    "198.51.100.0/24 black list, admin's map, source manual, action drop, expires never: "
	    "the whitelisted host comes first",
	    "white host");
	o = lookup_json("198.51.100.7");
	cr_expect_str_eq(jstr(o, "verdict"), "pass");
	cr_expect_str_eq(jstr(o, "reason"), "white-host");
	e = json_object_object_get(o, "entry");
	cr_expect_str_eq(jstr(e, "prefix"), "198.51.100.7");
	cr_expect_str_eq(jstr(e, "kind"), "host");
	cr_expect_str_eq(jstr(e, "list"), "white");
	cr_expect_str_eq(jstr(e, "source"), "manual");
	lost = json_object_object_get(o, "lost");
	cr_assert_eq(json_object_array_length(lost), 1);
	cr_expect_str_eq(jstr(json_object_array_get_idx(lost, 0), "prefix"), "198.51.100.0/24");
	cr_expect_str_eq(jstr(json_object_array_get_idx(lost, 0), "list"), "black");
	json_object_put(o);

	/* A black host under a white subnet: the host lost. */
	out = loader_expect(0, "lookup 198.51.100.130");
	has(line_of(out, "verdict", buf, sizeof(buf)), "pass (admin's white-net)", "white net");
	has(line_of(out, "entry", buf, sizeof(buf)), "198.51.100.128/28 white list", "white net");
	has(out,
	    "198.51.100.130 black list, admin's map, source manual, action drop, expires "
	    "never: the whitelisted subnet comes first",
	    "white net");
	has(out, "198.51.100.0/24 black list", "white net: the /24 also covers it");

	/* Black host and the black subnet behind it. */
	o = lookup_json("203.0.113.66");
	cr_expect_str_eq(jstr(o, "verdict"), "drop");
	cr_expect_str_eq(jstr(o, "reason"), "black-host");
	lost = json_object_object_get(o, "lost");
	cr_assert_eq(json_object_array_length(lost), 1);
	cr_expect_str_eq(jstr(json_object_array_get_idx(lost, 0), "prefix"), "203.0.113.0/24");
	cr_expect_str_eq(jstr(json_object_array_get_idx(lost, 0), "lost_because"),
			 "the blacklisted host comes first");
	json_object_put(o);

	/* Black subnet with reset; a host in it. */
	out = loader_expect(0, "lookup 203.0.113.5");
	has(line_of(out, "verdict", buf, sizeof(buf)), "reset (admin's black-net)", "reset net");
	has(line_of(out, "entry", buf, sizeof(buf)), "203.0.113.0/24 black list", "reset net");

	/* group:N */
	o = lookup_json("192.0.2.99");
	cr_expect_str_eq(jstr(o, "verdict"), "pass");
	cr_expect_eq(jint(o, "group"), 7);
	cr_expect_str_eq(jstr(o, "summary"), "group 7");
	json_object_put(o);
	has(loader_expect(0, "lookup 192.0.2.99"), "verdict   group 7 (admin's black-host)",
	    "group");

	/* A temporary entry: absolute expiry and time left. */
	o = lookup_json("192.0.2.112");
	e = json_object_object_get(o, "entry");
	cr_expect(jint(e, "expires_in") > 3590 && jint(e, "expires_in") <= 3601,
		  "expires_in %lld, want about 3600", jint(e, "expires_in"));
	cr_expect(jstr(e, "expires") && strlen(jstr(e, "expires")) == 20 &&
		      jstr(e, "expires")[19] == 'Z',
		  "expires '%s', want an ISO 8601 UTC time", jstr(e, "expires"));
	json_object_put(o);
	has(line_of(loader_expect(0, "lookup 192.0.2.112"), "entry", buf, sizeof(buf)), "(in 3",
	    "temporary");

	/* IPv6: white host in a black /48. */
	out = loader_expect(0, "lookup 2001:db8:b::7");
	has(line_of(out, "verdict", buf, sizeof(buf)), "pass (admin's white-host)", "v6");
	has(out, "2001:db8:b::/48 black list", "v6 lost subnet");
	o = lookup_json("2001:db8:b::50");
	cr_expect_str_eq(jstr(o, "reason"), "black-net");
	json_object_put(o);

	/* Nested subnets in one map: the longest prefix decides. */
	loader_expect(0, "list add black 192.0.2.96/27 --action reset");
	loader_expect(0, "list add black 192.0.2.96/28");
	o = lookup_json("192.0.2.100");
	cr_expect_str_eq(jstr(json_object_object_get(o, "entry"), "prefix"), "192.0.2.96/28");
	cr_expect_str_eq(jstr(o, "verdict"), "drop");
	lost = json_object_object_get(o, "lost");
	cr_assert_eq(json_object_array_length(lost), 1);
	cr_expect_str_eq(jstr(json_object_array_get_idx(lost, 0), "prefix"), "192.0.2.96/27");
	cr_expect_str_eq(jstr(json_object_array_get_idx(lost, 0), "lost_because"),
			 "a longer prefix in the same map comes first");
	json_object_put(o);

	/* In no list: exit 0, clean. */
	out = loader_expect(0, "lookup 192.0.2.10");
	has(line_of(out, "verdict", buf, sizeof(buf)), "pass (in no list)", "clean");
	cr_expect_null(strstr(out, "entry"), "clean: an entry line:\n%s", out);
	has(line_of(out, "ban", buf, sizeof(buf)), "ban       none", "clean");
	o = lookup_json("2001:db8:1::10");
	cr_expect_str_eq(jstr(o, "reason"), "clean");
	cr_expect_null(json_object_object_get(o, "entry"));
	json_object_put(o);

	fails("'192.0.2.300' is not an address", "lookup 192.0.2.300");
	fails("is a prefix", "lookup 192.0.2.0/24");
	fails("lookup takes one address", "lookup");
}

/* Expired entries are shown as such, and a list-sync source by its name. */
Test(loader_ops, lookup_expired_and_synced, .init = cli_setup, .fini = cli_teardown, .timeout = 60)
{
	struct me_src_status st = { .in_use = 1, .list = ME_LIST_BLACK };
	struct me_entry synced = { .action = ME_ACT_DROP, .src = 20 };
	struct me_entry host = { .action = ME_ACT_DROP, .expires = me_boot_seconds() - 5 };
	struct me_apply_stats ast;
	struct me_union u;
	size_t dropped;
	struct me_prefix p;
	__u32 id = 20, addr;
	const char *what = NULL;
	json_object *o, *lost, *l0;
	char why[256];

	loader_expect(0, "init --hosts 16 --subnets 16 --rate-entries 16 --ban-entries 16");
	cr_assert_eq(me_edge_open(&edge, tenv_pin_dir(), &what), 0, "opening %s", what);
	/* What list sync writes: its tables, holding a black /16, and its
	 * source's name. */
	me_union_init(&u);
	cr_assert_eq(me_prefix_parse("192.0.0.0/16", &p, 0), 0);
	cr_assert_eq(me_union_add(&u, ME_LIST_BLACK, &p, &synced, 0), 0);
	me_union_merge(&u, &dropped);
	cr_assert_eq(me_sync_apply(&edge, &u, &ast, why, sizeof(why)), 0, "applying: %s", why);
	me_union_free(&u);
	snprintf(st.name, sizeof(st.name), "spamhaus-drop");
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_SOURCES], &id, &st, BPF_ANY), 0);
	/* An expired admin host entry in front of it (written directly, so its
	 * admin_used slot is set as every writer sets it). */
	inet_pton(AF_INET, "192.0.2.50", &addr);
	cr_assert_eq(me_manual_mark(&edge, ME_M_BLACK_HOST4), 0);
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_BLACK_HOST4], &addr, &host, BPF_ANY), 0);
	loader_expect(0, "list add black 192.0.2.0/24 --action pass");

	o = lookup_json("192.0.2.50");
	/* The admin's /24 (pass) decides before list sync's /16. */
	cr_expect_str_eq(jstr(o, "reason"), "black-net");
	cr_expect_str_eq(jstr(o, "verdict"), "pass");
	cr_expect_str_eq(jstr(json_object_object_get(o, "entry"), "prefix"), "192.0.2.0/24");
	lost = json_object_object_get(o, "lost");
	cr_assert_eq(json_object_array_length(lost), 2, "lost: %s",
		     json_object_to_json_string(lost));
	l0 = json_object_array_get_idx(lost, 0);
	cr_expect_str_eq(jstr(l0, "prefix"), "192.0.2.50");
	cr_expect_str_eq(jstr(l0, "lost_because"), "expired");
	cr_expect(json_object_get_boolean(json_object_object_get(l0, "expired")));
	l0 = json_object_array_get_idx(lost, 1);
	cr_expect_str_eq(jstr(l0, "prefix"), "192.0.0.0/16");
	cr_expect_str_eq(jstr(l0, "source"), "spamhaus-drop");
	cr_expect(json_object_get_boolean(json_object_object_get(l0, "synced")));
	cr_expect_str_eq(jstr(l0, "lost_because"), "the admin's entry comes before list sync's");
	json_object_put(o);

	/* Outside the admin's /24, the synced /16 decides, named by its source. */
	has(loader_expect(0, "lookup 192.0.99.1"),
	    "192.0.0.0/16 black list, list-sync map, source spamhaus-drop, action drop",
	    "synced entry");
}

Test(loader_ops, bans_and_unban, .init = cli_setup, .fini = cli_teardown, .timeout = 60)
{
	struct pkt_spec syn = { .family = AF_INET,
				.src = "192.0.2.10",
				.dst = GW4,
				.tcp_flags = TF_SYN,
				.sport = 40001,
				.dport = 25 };
	struct pkt_spec syn6 = { .family = AF_INET6,
				 .src = "2001:db8:1::10",
				 .dst = GW6,
				 .tcp_flags = TF_SYN,
				 .sport = 40001,
				 .dport = 25 };
	char buf[512];
	const char *out;
	json_object *o, *a, *b;

	loader_expect(0, "init --hosts 16 --subnets 16 --rate-entries 16 --ban-entries 16");
	has(loader_expect(0, "threshold bans"), "no sources banned", "no bans yet");
	loader_expect(0, "threshold set --rate 1 --burst 1 --ban 60");
	bpffix_load_pinned(&prog, &edge, tenv_pin_dir());

	cr_expect_eq(run_spec(&syn, "SYN 1"), XDP_PASS);
	cr_expect_eq(run_spec(&syn, "SYN 2: over, banned"), XDP_DROP);
	cr_expect_eq(run_spec(&syn6, "v6 SYN 1"), XDP_PASS);
	cr_expect_eq(run_spec(&syn6, "v6 SYN 2: over, banned"), XDP_DROP);

	out = loader_expect(0, "threshold bans");
	has(out, "192.0.2.10/32", "v4 ban");
	has(out, "2001:db8:1::/64", "v6 ban, counted per /64");
	o = json_tokener_parse(loader_expect(0, "threshold bans --json"));
	cr_assert_not_null(o);
	cr_expect(json_object_get_boolean(json_object_object_get(o, "bans_enforced")));
	a = json_object_object_get(o, "bans");
	cr_assert_eq(json_object_array_length(a), 2, "bans: %s", json_object_to_json_string(a));
	b = json_object_array_get_idx(a, 0);
	cr_expect_str_eq(jstr(b, "prefix"), "192.0.2.10/32");
	cr_expect(jint(b, "seconds_left") >= 55 && jint(b, "seconds_left") <= 60,
		  "seconds_left %lld, want 55-60", jint(b, "seconds_left"));
	cr_expect(jstr(b, "until") && jstr(b, "until")[19] == 'Z');
	json_object_put(o);

	/* lookup shows the ban as what decides. */
	out = loader_expect(0, "lookup 192.0.2.10");
	has(line_of(out, "verdict", buf, sizeof(buf)), "drop (banned by the connection threshold)",
	    "banned");
	has(line_of(out, "ban", buf, sizeof(buf)), "192.0.2.10/32 banned by the threshold until",
	    "banned");
	o = lookup_json("2001:db8:1::99"); /* same /64 */
	cr_expect_str_eq(jstr(o, "reason"), "banned");
	cr_expect_str_eq(jstr(json_object_object_get(o, "ban"), "prefix"), "2001:db8:1::/64");
	cr_expect(json_object_get_boolean(
	    json_object_object_get(json_object_object_get(o, "ban"), "applied")));
	json_object_put(o);

	/* unban: the source passes again, and the other ban stays. */
	has(loader_expect(0, "unban 192.0.2.10"), "ban on 192.0.2.10/32 lifted", "unban");
	cr_expect_eq(run_spec(&syn, "SYN after unban"), XDP_PASS);
	has(line_of(loader_expect(0, "lookup 192.0.2.10"), "verdict", buf, sizeof(buf)),
	    "pass (in no list)", "after unban");
	fails("192.0.2.10 is not banned", "unban 192.0.2.10");
	has(loader_expect(0, "threshold unban 2001:db8:1::1234"), "ban on 2001:db8:1::/64 lifted",
	    "threshold unban, v6 by an address of the /64");
	cr_expect_eq(run_spec(&syn6, "v6 SYN after unban"), XDP_PASS);
	has(loader_expect(0, "threshold bans"), "no sources banned", "all lifted");
	fails("is not an address", "unban banana");
	fails("unban takes one address", "unban");
}
