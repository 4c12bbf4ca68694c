// SPDX-License-Identifier: GPL-2.0
/*
 * test_edgeban.c - the proxy's temporary bans at the edge (common/edgeban.c)
 * and what the loader makes of them (issue 9: harvest bans reach the edge).
 *
 * edgeban::rules_and_xdp loads the edge program on private maps (lib/bpffix.c,
 * no lists) and holds the API to its rules: a new ban, a longer one extends, a
 * shorter one keeps, an admin's entry is never overwritten, IPv6 bans a /64,
 * an IPv4-mapped peer is its IPv4 client. Each state is checked where it
 * matters: SYNs through BPF_PROG_RUN are dropped while banned and counted in
 * list_hits[ME_SRC_PROXY], and pass again after a lift and after the expiry.
 *
 * edgeban::loader_shows_and_unbans makes maps with "init" in the test's own
 * pin directory, bans through the API as the proxy would (taking the
 * pin-directory lock), loads the program on those maps (BPF_PROG_RUN, no
 * interface) and runs the real loader: list show, lookup, status (text and
 * JSON, with the drops counted under "proxy"), list save (which must leave
 * the bans out) and unban, which lifts a threshold ban and a proxy ban of one
 * client at once.
 * .fini removes the pin directory on every exit path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "edgeban.h"
#include "edge_load.h"
#include "lists.h"
#include "lib/bpffix.h"
#include "lib/labcheck.h"
#include "lib/pkt.h"
#include "lib/testenv.h"
#include "lib/tjson.h"
#include "bpf_table_rows.h"

static struct me_prog prog;
static struct me_edge edge, pedge; /* pedge: the program's own fds (loader test) */

static void setup(void)
{
	tenv_pin_dir_remove();
	memset(&prog, 0, sizeof(prog));
	me_edge_init(&edge);
	me_edge_init(&pedge);
}

static void teardown(void)
{
	tenv_kept_free();
	bpffix_close(&prog, &edge);
	me_edge_close(&pedge);
	memset(&prog, 0, sizeof(prog));
	tenv_pin_dir_remove();
}

TestSuite(edgeban, .init = setup, .fini = teardown, .timeout = 60);

static struct me_prefix pfx(const char *s)
{
	struct me_prefix p;

	cr_assert_eq(me_prefix_parse(s, &p, 0), 0, "'%s' does not parse", s);
	return p;
}

/* A SYN from src to port 25 through the program; the XDP action. */
static __u32 syn_from(const char *src)
{
	struct pkt_spec s = { .family = strchr(src, ':') ? AF_INET6 : AF_INET,
			      .src = src,
			      .tcp_flags = TF_SYN,
			      .sport = 40001,
			      .dport = 25 };
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	size_t len;

	s.dst = s.family == AF_INET ? GW4 : GW6;
	len = pkt_build(&s, in, sizeof(in));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	cr_assert_gt(len, 0, "SYN from %s: the frame builder refused it", src);
	cr_assert_eq(bpf_prog_test_run_opts(me_prog_fd(&prog), &o), 0, "BPF_PROG_RUN: %s",
		     strerror(errno));
	return o.retval;
}

static __u64 proxy_hits(void)
{
	struct me_counter c = { 0 };

	cr_assert_eq(me_counter_read(edge.fd[ME_M_LIST_HITS], ME_SRC_PROXY, &c), 0,
		     "reading list_hits[proxy]");
	return c.packets;
}

/* The admin's blacklist entry under exactly p (host or subnet); 0 if none. */
static int entry(const char *p_text, struct me_entry *v)
{
	struct me_prefix p = pfx(p_text);
	unsigned char key[ME_KEY_MAX], val[ME_VALUE_MAX];
	int is_net = me_prefix_key(&p, key);
	struct me_net_entry ne;

	if (bpf_map_lookup_elem(edge.fd[me_manual_map(ME_LIST_BLACK, p.family, is_net)], key, val))
		return 0;
	if (!is_net) {
		memcpy(v, val, sizeof(*v));
		return 1;
	}
	memcpy(&ne, val, sizeof(ne));
	*v = ne.e;
	return ne.prefixlen == p.len;
}

static int ban(const char *addr, __u32 secs, __u32 *until)
{
	struct me_prefix p = pfx(addr);

	return me_edgeban_add(&edge, &p, secs, 1000, until, NULL);
}

Test(edgeban, rules_and_xdp)
{
	struct me_rec manual = { .list = ME_LIST_BLACK, .val = { .action = ME_ACT_PASS } };
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
	struct me_prefix p, got;
	struct me_entry v;
	enum me_map_id full;
	__u32 until, until2, now;
	__u64 hits;
	int rc;

	bpffix_load(&prog, &edge);

	/* A new ban: the /32 host entry, drop, source proxy, the expiry asked. */
	now = me_boot_seconds();
	rc = ban("192.0.2.10", 60, &until);
	cr_assert_eq(rc, ME_EDGEBAN_NEW, "first ban: got %d, want NEW", rc);
	cr_assert(entry("192.0.2.10", &v), "got no host entry for 192.0.2.10");
	cr_expect(v.action == ME_ACT_DROP && v.src == ME_SRC_PROXY,
		  "got action %u src %u, want drop/proxy", v.action, v.src);
	cr_expect(v.expires == until && until >= now + 60 && until <= now + 62,
		  "got expires %u (until %u), want now %u + 60..62", v.expires, until, now);

	/* Shorter keeps, longer extends. */
	rc = ban("192.0.2.10", 30, &until2);
	cr_expect_eq(rc, ME_EDGEBAN_KEPT, "a shorter ban: got %d, want KEPT", rc);
	cr_expect_eq(until2, until, "a shorter ban: got until %u, want %u (unchanged)", until2,
		     until);
	entry("192.0.2.10", &v);
	cr_expect_eq(v.expires, until, "a shorter ban shortened the entry to %u", v.expires);
	rc = ban("192.0.2.10", 600, &until2);
	cr_expect_eq(rc, ME_EDGEBAN_EXTENDED, "a longer ban: got %d, want EXTENDED", rc);
	entry("192.0.2.10", &v);
	cr_expect(v.expires == until2 && until2 >= until + 500,
		  "a longer ban: got expires %u, want %u (>= %u)", v.expires, until2, until + 500);

	/* The admin's entry stays the admin's. */
	manual.pfx = pfx("192.0.2.20");
	cr_assert_eq(me_manual_apply(&edge, &manual, 1, &full), 0, "adding a manual entry");
	rc = ban("192.0.2.20", 60, NULL);
	cr_expect_eq(rc, -EEXIST, "ban over a manual entry: got %d, want -EEXIST", rc);
	cr_assert(entry("192.0.2.20", &v));
	cr_expect(v.src == ME_SRC_MANUAL && v.action == ME_ACT_PASS && !v.expires,
		  "the manual entry changed: src %u action %u expires %u", v.src, v.action,
		  v.expires);

	/* IPv6 bans the /64; an IPv4-mapped peer is its IPv4 client. */
	rc = ban("2001:db8:1::10", 60, NULL);
	cr_expect_eq(rc, ME_EDGEBAN_NEW, "v6 ban: got %d", rc);
	cr_expect(entry("2001:db8:1::/64", &v) && v.src == ME_SRC_PROXY,
		  "got no proxy /64 entry for 2001:db8:1::10");
	cr_expect(!entry("2001:db8:1::10", &v), "a v6 ban wrote a host entry");
	inet_pton(AF_INET6, "::ffff:192.0.2.30", &mapped.sin6_addr);
	cr_assert_eq(me_edgeban_client((struct sockaddr *)&mapped, &p), 0);
	cr_expect(p.family == AF_INET && p.len == 32, "mapped peer: got family %d /%u", p.family,
		  p.len);
	cr_expect_eq(me_edgeban_add(&edge, &p, 60, 1000, NULL, &got), ME_EDGEBAN_NEW);
	cr_expect(entry("192.0.2.30", &v) && v.src == ME_SRC_PROXY, "mapped peer not banned");

	/* At the edge: dropped, counted under the proxy source. */
	hits = proxy_hits();
	cr_expect_eq(syn_from("192.0.2.10"), XDP_DROP, "banned v4 source passed");
	cr_expect_eq(syn_from("2001:db8:1::ffff"), XDP_DROP,
		     "another host of the banned /64 passed");
	cr_expect_eq(syn_from("2001:db8:2::10"), XDP_PASS, "a source outside the /64 was dropped");
	cr_expect_eq(proxy_hits(), hits + 2, "list_hits[proxy]: got %llu, want %llu",
		     (unsigned long long)proxy_hits(), (unsigned long long)hits + 2);

	/* Lifted: passes; lifting again finds nothing; the manual entry is not
	 * the proxy's to lift. */
	p = pfx("192.0.2.10");
	cr_expect_eq(me_edgeban_lift(&edge, &p, 1000, NULL), 1);
	cr_expect_eq(syn_from("192.0.2.10"), XDP_PASS, "source still dropped after the lift");
	cr_expect_eq(me_edgeban_lift(&edge, &p, 1000, NULL), 0);
	p = pfx("192.0.2.20");
	cr_expect_eq(me_edgeban_lift(&edge, &p, 1000, NULL), 0);
	cr_expect(entry("192.0.2.20", &v) && v.src == ME_SRC_MANUAL, "lift removed a manual entry");
	p = pfx("2001:db8:1::1234"); /* any address of the /64 */
	cr_expect_eq(me_edgeban_lift(&edge, &p, 1000, &got), 1);
	cr_expect(got.len == 64, "lifted /%u, want /64", got.len);
	cr_expect_eq(syn_from("2001:db8:1::10"), XDP_PASS);

	/* Expiry: absent to XDP once past, and replaced as new. */
	rc = ban("198.51.100.7", 1, &until);
	cr_assert_eq(rc, ME_EDGEBAN_NEW);
	cr_expect_eq(syn_from("198.51.100.7"), XDP_DROP);
	while (me_boot_seconds() < until)
		usleep(50000);
	cr_expect_eq(syn_from("198.51.100.7"), XDP_PASS, "an expired ban still drops");
	cr_expect_eq(ban("198.51.100.7", 60, NULL), ME_EDGEBAN_NEW, "expired ban not replaced");

	/* Bad input. */
	cr_expect_eq(ban("198.51.100.8", 0, NULL), -EINVAL);
	cr_expect_eq(ban("198.51.100.8", ME_EDGEBAN_MAX_SECS + 1, NULL), -EINVAL);
}

/* ---- the loader ---- */

static void has(const char *out, const char *want, const char *what)
{
	cr_expect(strstr(out, want), "%s: output does not contain '%s':\n%s", what, want, out);
}

static void lacks(const char *out, const char *bad, const char *what)
{
	cr_expect(!strstr(out, bad), "%s: output contains '%s':\n%s", what, bad, out);
}

Test(edgeban, loader_shows_and_unbans)
{
	const char *err, *out;
	struct me_prefix p;
	json_object *o, *pb;
	int dfd, rc;

	loader_expect(0, "init --hosts 16 --subnets 16 --rate-entries 16 --ban-entries 16");
	cr_assert_eq(me_edge_open(&edge, tenv_pin_dir(), &err), 0, "opening the pinned maps");
	loader_expect(0, "list add black 198.51.100.9 --force");

	/* As the proxy bans: the pin-directory lock, taken and given back. */
	cr_expect_eq(ban("192.0.2.10", 300, NULL), ME_EDGEBAN_NEW);
	cr_expect_eq(ban("2001:db8:1::10", 600, NULL), ME_EDGEBAN_NEW);
	cr_expect(!edge.locked, "me_edgeban_add kept the pin-directory lock");

	/* Someone else holding the lock: -EBUSY after the wait asked for. */
	dfd = open(tenv_pin_dir(), O_RDONLY | O_DIRECTORY);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(flock(dfd, LOCK_EX), 0);
	p = pfx("192.0.2.11");
	rc = me_edgeban_add(&edge, &p, 60, 100, NULL, NULL);
	close(dfd);
	cr_expect_eq(rc, -EBUSY, "ban with the lock held elsewhere: got %d, want -EBUSY", rc);

	out = loader_expect(0, "list show --source proxy");
	has(out, "192.0.2.10", "list show --source proxy");
	has(out, "2001:db8:1::/64", "list show --source proxy");
	has(out, "source=proxy", "list show --source proxy");
	has(out, "# in ", "list show --source proxy: the expiry");
	lacks(out, "198.51.100.9", "list show --source proxy: the manual entry");

	out = loader_expect(0, "lookup 192.0.2.10");
	has(out, "drop (banned by the proxy)", "lookup");
	has(out, "source proxy, action drop, expires ", "lookup");
	out = loader_expect(0, "lookup 2001:db8:1::abcd");
	has(out, "2001:db8:1::/64 black list, admin's map, source proxy", "lookup v6");
	out = loader_expect(0, "lookup 198.51.100.9");
	has(out, "drop (admin's black-host)", "lookup of a manual entry");

	/* At the edge, on the pinned maps: dropped, and a threshold ban of the
	 * same client besides, for unban to lift both. */
	loader_expect(0, "threshold set --rate 1 --burst 1 --ban 60");
	bpffix_load_pinned(&prog, &pedge, tenv_pin_dir());
	cr_expect_eq(syn_from("192.0.2.10"), XDP_DROP, "proxy-banned source passed");
	cr_expect_eq(syn_from("2001:db8:1::99"), XDP_DROP, "proxy-banned /64 passed");
	cr_expect_eq(syn_from("192.0.2.50"), XDP_PASS);
	cr_expect_eq(syn_from("192.0.2.50"), XDP_DROP, "over the threshold: banned");
	cr_expect_eq(ban("192.0.2.50", 60, NULL), ME_EDGEBAN_NEW);

	out = loader_expect(0, "status");
	has(out, "proxy bans:      3 (the first ends in ", "status");
	has(out, "\nproxy                               2 ", "status: the LIST hits of the proxy");
	o = json_tokener_parse(loader_expect(0, "status --json"));
	cr_assert_not_null(o, "status --json is not JSON");
	pb = json_object_object_get(o, "proxy_bans");
	cr_expect_eq(jint(pb, "live"), 3, "status --json proxy_bans.live");
	cr_expect(jint(pb, "first_ends_in") > 50 && jint(pb, "first_ends_in") <= 61,
		  "first_ends_in %lld, want ~60", jint(pb, "first_ends_in"));
	json_object_put(o);

	/* Never saved: they end with the boot they were made in. */
	out = loader_expect(0, "list save -");
	has(out, "black 198.51.100.9 action=drop expires=never", "list save");
	lacks(out, "192.0.2.10", "list save");
	lacks(out, "2001:db8:1::", "list save");
	lacks(out, "proxy", "list save");

	/* unban lifts them; the admin's entry is not a ban. */
	has(loader_expect(0, "unban 192.0.2.10"), "proxy ban on 192.0.2.10/32 lifted", "unban v4");
	has(loader_expect(0, "unban 2001:db8:1::abcd"), "proxy ban on 2001:db8:1::/64 lifted",
	    "unban v6 by another address of the /64");
	has(loader_expect(2, "unban 192.0.2.10"), "192.0.2.10 is not banned", "unban again");
	out = loader_expect(0, "unban 192.0.2.50");
	has(out, "proxy ban on 192.0.2.50/32 lifted\nban on 192.0.2.50/32 lifted\n",
	    "unban of a client with both bans");
	cr_expect_eq(syn_from("192.0.2.50"), XDP_PASS, "still dropped after unban");
	has(loader_expect(2, "unban 198.51.100.9"), "is not banned", "unban of a manual entry");
	has(loader_expect(0, "list show"), "198.51.100.9", "the manual entry after unban");
	has(loader_expect(0, "status"), "proxy bans:      none", "status after unban");
	has(loader_expect(0, "lookup 192.0.2.10"), "pass (in no list)", "lookup after unban");
}
