// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_explain.c - "mailedge-proxy explain ADDR" against real pinned
 * maps (mailedge-loader init and list add in a pin directory of this suite's
 * own, removed in .fini) and a host access table: the edge's verdict as
 * lookup prints it, then the sender group and policy the proxy would apply,
 * in text and JSON, and the errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "lib/dnslab.h"
#include "lib/testenv.h"

static char conf[64] = "";

static void setup(void)
{
	int fd;
	FILE *f;

	cr_assert_eq(tenv_sh("%s --pin-dir %s -q init --hosts 1024 --subnets 1024 "
			     "--rate-entries 1024 --ban-entries 1024",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0);
	cr_assert_eq(tenv_sh("%s --pin-dir %s -q list add white 192.0.2.11 --action group:2",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0);
	cr_assert_eq(tenv_sh("%s --pin-dir %s -q list add black 198.51.100.0/24 --action pass",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0);
	snprintf(conf, sizeof(conf), "/tmp/mailedge-test-explain-XXXXXX");
	fd = mkstemp(conf);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"pin_dir = \"%s\";\n"
		"listeners = ( { listen = \"127.0.0.1:2525\"; pool = \"mx\"; } );\n"
		"pools = ( { name = \"mx\"; members = ( \"127.0.0.1:2526\" ); },\n"
		"          { name = \"partners\"; members = ( \"127.0.0.1:2527\" ); } );\n"
		"policies = ( { name = \"SG2\"; pool = \"partners\"; starttls = \"required\"; },\n"
		"  { name = \"BLOCKED\"; action = \"reject\";\n"
		"    reject_reply = \"554 5.7.1 Listed here\"; },\n"
		"  { name = \"OURS\"; relay = \"yes\"; },\n"
		"  { name = \"DEF\"; greet_delay = 3000; } );\n"
		"sender_groups = (\n"
		"  { name = \"G2\"; policy = \"SG2\"; edge = [ \"group:2\" ]; },\n"
		"  { name = \"WATCHED\"; policy = \"BLOCKED\"; edge = [ \"pass\" ]; },\n"
		"  { name = \"INSIDE\"; policy = \"OURS\"; networks = [ \"203.0.113.0/28\" ]; },\n"
		"  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		tenv_pin_dir());
	fclose(f);
}

static void teardown(void)
{
	if (conf[0])
		unlink(conf);
	tenv_pin_dir_remove();
}

TestSuite(proxy_explain, .init = setup, .fini = teardown, .timeout = 30);

static void explain(struct run *r, const char *args)
{
	tenv_run(r, "%s explain -c %s --no-dns %s", tenv_bin("mailedge-proxy"), conf, args);
}

static void want_text(const char *addr, const char *const *lines, size_t n)
{
	struct run r;
	size_t i;

	explain(&r, addr);
	cr_assert_eq(r.status, 0, "explain %s: status %d\n%s", addr, r.status, r.err);
	for (i = 0; i < n; i++)
		cr_expect(strstr(r.out, lines[i]) != NULL, "explain %s: want '%s' in:\n%s", addr,
			  lines[i], r.out);
	tenv_run_free(&r);
}

Test(proxy_explain, text)
{
	static const char *const g2[] = { "verdict   group 2", "entry     192.0.2.11",
					  "group     G2 (", "policy    SG2: accept",
					  "pool partners, STARTTLS required" };
	static const char *const watched[] = { "verdict   pass", "198.51.100.0/24 black list",
					       "group     WATCHED (", "policy    BLOCKED: reject with "
							       "'554 5.7.1 Listed here'" };
	static const char *const inside[] = { "verdict   pass (in no list)", "group     INSIDE (",
					      "relay yes" };
	static const char *const rest[] = { "group     REST (", "greet delay 3000 ms",
					    "rdns      not looked up" };

	want_text("192.0.2.11", g2, sizeof(g2) / sizeof(*g2));
	want_text("198.51.100.7", watched, sizeof(watched) / sizeof(*watched));
	want_text("203.0.113.5", inside, sizeof(inside) / sizeof(*inside));
	want_text("2001:db8::5", rest, sizeof(rest) / sizeof(*rest));
	/* an IPv4-mapped client is the IPv4 client, at the edge and here */
	want_text("::ffff:192.0.2.11", g2, sizeof(g2) / sizeof(*g2));
}

Test(proxy_explain, json)
{
	json_object *o, *p, *e, *v;
	struct run r;

	explain(&r, "--json 192.0.2.11");
	cr_assert_eq(r.status, 0, "%s", r.err);
	o = json_tokener_parse(r.out);
	cr_assert_not_null(o, "not JSON:\n%s", r.out);
	cr_assert(json_object_object_get_ex(o, "edge", &e) && e);
	cr_assert(json_object_object_get_ex(e, "summary", &v));
	cr_expect_str_eq(json_object_get_string(v), "group 2");
	cr_assert(json_object_object_get_ex(o, "proxy", &p) && p);
	cr_assert(json_object_object_get_ex(p, "group", &v));
	cr_expect_str_eq(json_object_get_string(v), "G2");
	cr_assert(json_object_object_get_ex(p, "policy", &v) && v);
	cr_assert(json_object_object_get_ex(v, "pool", &v));
	cr_expect_str_eq(json_object_get_string(v), "partners");
	json_object_put(o);
	tenv_run_free(&r);
}

Test(proxy_explain, errors)
{
	struct run r;

	explain(&r, "192.0.2.300");
	cr_expect_eq(r.status, 2, "a bad address: status %d", r.status);
	cr_expect(strstr(r.err, "not an address") != NULL, "%s", r.err);
	tenv_run_free(&r);
	explain(&r, "192.0.2.1 192.0.2.2");
	cr_expect_eq(r.status, 2, "two addresses: status %d", r.status);
	tenv_run_free(&r);
	tenv_run(&r, "%s explain -c /nonexistent/proxy.conf 192.0.2.1",
		 tenv_bin("mailedge-proxy"));
	cr_expect_eq(r.status, 2, "a missing configuration: status %d", r.status);
	tenv_run_free(&r);
	/* no maps pinned: a warning, and the edge part unknown, not an error */
	tenv_run(&r, "%s explain -c %s --no-dns --pin-dir /sys/fs/bpf/mailedge-test-none 203.0.113.5",
		 tenv_bin("mailedge-proxy"), conf);
	cr_expect_eq(r.status, 0, "no maps: status %d\n%s", r.status, r.err);
	cr_expect(strstr(r.out, "verdict   unknown") && strstr(r.out, "group     INSIDE ("),
		  "no maps:\n%s", r.out);
	tenv_run_free(&r);
}

/* With DNS: the client's DNSBL score comes from a real unbound (tests/lib/
 * dnslab.h) and decides its group, as at connect; --no-dns leaves it 0. */
Test(proxy_explain, dnsbl_score)
{
	static const char *const records[] = { "A 7.2.0.192.bl.test 127.0.0.2" };
	struct dns_lab d = { .pid = -1 };
	char dir[] = "/tmp/mailedge-test-explain-dns-XXXXXX", path[128];
	struct run r;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(dns_start(&d, dir, records, 1), 0, "starting the DNS server");
	snprintf(path, sizeof(path), "%s/proxy.conf", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"pin_dir = \"%s\";\n"
		"dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = 2000; tries = 1; };\n"
		"dnsbl = { sites = [ \"bl.test*3\" ]; timeout = 2000; };\n"
		"listeners = ( { listen = \"127.0.0.1:2525\"; pool = \"mx\"; } );\n"
		"pools = ( { name = \"mx\"; members = ( \"127.0.0.1:2526\" ); } );\n"
		"policies = ( { name = \"BLOCKED\"; action = \"reject\"; }, { name = \"DEF\"; } );\n"
		"sender_groups = ( { name = \"LISTED\"; policy = \"BLOCKED\"; score_min = 3; },\n"
		"  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		tenv_pin_dir(), d.port);
	fclose(f);
	tenv_run(&r, "%s explain -c %s 192.0.2.7", tenv_bin("mailedge-proxy"), path);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "score     3 ") && strstr(r.out, "group     LISTED ("),
		  "a listed client:\n%s", r.out);
	tenv_run_free(&r);
	tenv_run(&r, "%s explain -c %s 192.0.2.8", tenv_bin("mailedge-proxy"), path);
	cr_expect(strstr(r.out, "score     0") && strstr(r.out, "group     REST ("),
		  "an unlisted client:\n%s", r.out);
	tenv_run_free(&r);
	tenv_run(&r, "%s explain -c %s --no-dns 192.0.2.7", tenv_bin("mailedge-proxy"), path);
	cr_expect(strstr(r.out, "group     REST ("), "--no-dns:\n%s", r.out);
	tenv_run_free(&r);
	dns_stop(&d);
	/* the server's own directory (dns-XXXXXX) is inside */
	tenv_sh("rm -rf %s", dir);
}
