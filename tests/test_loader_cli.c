// SPDX-License-Identifier: GPL-2.0
/*
 * test_loader_cli.c - mailedge-loader as an admin uses it, without an interface.
 *
 * Every test creates the maps with "init" in its own pin directory (small
 * capacities: the minimum of 16 makes "map full" cheap to reach) and drives the
 * loader as a separate process. The contract under test, from the issue:
 *
 *   Bad input (not an address, prefix out of range, host bits set, unknown verb
 *   or action, interface missing, map full, no BPF permission) gets a one-line
 *   error naming what was wrong, exit status 2, and no partial change to any map.
 *
 * so every bad-input test checks the exit status, that standard error is one
 * line naming the offending thing, and that "list show --json" and "threshold
 * show --json" print exactly what they printed before the command.
 *
 * .fini removes the pin directory and the test's temporary directory on every
 * exit path.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>

#include "lib/testenv.h"
#include "lib/tjson.h"

/* Minimum capacities, except where a test needs more. */
#define SMALL "--hosts 16 --subnets 16 --rate-entries 16 --ban-entries 16"

/* ---- bookkeeping: what .fini frees and removes ---- */

static char tmpdir[64];

/* Keep p until .fini: an assertion that fails leaves the test at once, and
 * what it quoted must not show up as a leak. */
static void *own(void *p)
{
	tenv_keep(p);
	return p;
}

static void setup(void)
{
	tenv_pin_dir_remove();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mailedge-test-cli-XXXXXX");
	if (!mkdtemp(tmpdir))
		tmpdir[0] = '\0';
}

static void teardown(void)
{
	struct run r;

	tenv_pin_dir_remove();
	if (tmpdir[0]) {
		tenv_run(&r, "rm -rf '%s'", tmpdir);
		tenv_run_free(&r);
	}
	tenv_kept_free();
}

TestSuite(loader_cli, .init = setup, .fini = teardown, .timeout = 120);

/* ---- running the loader ---- */


/* mailedge-loader --pin-dir <this test's> ARGS (ARGS are shell words). */
static void loader(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void loader(struct run *r, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	tenv_loader(r, "%s", args);
	tenv_keep_run(r);
}

/* The same, as user nobody with no capabilities. */
static void loader_nobody(struct run *r, const char *args)
{
	tenv_run(r,
		 "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all %s "
		 "--pin-dir %s %s",
		 tenv_bin("mailedge-loader"), tenv_pin_dir(), args);
	tenv_keep_run(r);
}

/* Run and require success. */
static const char *ok(const char *args)
{
	struct run r;

	loader(&r, "%s", args);
	cr_assert_eq(r.status, 0, "'%s': got exit %d (stderr: %s), want 0", args, r.status, r.err);
	return r.out;
}

static void init_maps(const char *sizes)
{
	ok(sizes);
}

static int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void assert_one_line(const struct run *r, const char *what)
{
	size_t len = strlen(r->err);

	cr_assert(len > 0 && r->err[len - 1] == '\n' && count_char(r->err, '\n') == 1,
		  "%s: got stderr '%s', want exactly one line", what, r->err);
}

/* What a bad command must not change: the lists and the threshold settings. */
struct snap {
	char *lists;
	char *thr;
};

static void snapshot(struct snap *s)
{
	struct run r;

	loader(&r, "list show --json");
	cr_assert_eq(r.status, 0, "list show --json: got exit %d (stderr: %s), want 0", r.status,
		     r.err);
	s->lists = r.out;
	loader(&r, "threshold show --json");
	cr_assert_eq(r.status, 0, "threshold show --json: got exit %d (stderr: %s), want 0",
		     r.status, r.err);
	s->thr = r.out;
}

static void assert_unchanged(const struct snap *before, const char *what)
{
	struct snap after;

	snapshot(&after);
	cr_assert_str_eq(after.lists, before->lists,
			 "%s: lists changed: got\n%s\nwant (as before)\n%s", what, after.lists,
			 before->lists);
	cr_assert_str_eq(after.thr, before->thr,
			 "%s: threshold changed: got\n%s\nwant (as before)\n%s", what, after.thr,
			 before->thr);
}

/*
 * The whole bad-input contract for one command: exit 2, one line on stderr
 * containing needle and needle2 (either may be NULL), no change.
 */
static void expect_refused(const char *args, const char *needle, const char *needle2)
{
	struct snap before;
	struct run r;

	snapshot(&before);
	loader(&r, "%s", args);
	cr_assert_eq(r.status, 2, "'%s': got exit %d (stderr: %s), want 2", args, r.status, r.err);
	assert_one_line(&r, args);
	if (needle)
		cr_assert(strstr(r.err, needle), "'%s': got message '%s', want it to name '%s'",
			  args, r.err, needle);
	if (needle2)
		cr_assert(strstr(r.err, needle2), "'%s': got message '%s', want it to mention '%s'",
			  args, r.err, needle2);
	assert_unchanged(&before, args);
}

/* A few entries, so that "unchanged" compares something. */
static void seed(void)
{
	ok("list add black 192.0.2.100 2001:db8:ff::1");
	ok("list add black 198.51.100.0/24 --action reset");
	ok("list add white 203.0.113.5 --action group:3");
	ok("threshold set --rate 50 --ports 25,587");
}

static char *write_file(const char *name, const char *content)
{
	char *path;
	FILE *f;

	cr_assert(tmpdir[0], "got no temporary directory, want one from .init");
	cr_assert(asprintf(&path, "%s/%s", tmpdir, name) > 0);
	own(path);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot create %s", path);
	fputs(content, f);
	fclose(f);
	return path;
}

/* ---- JSON ---- */

static json_object *parse_json(const char *text, const char *what)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "%s: got output that is not JSON:\n%s", what, text);
	return o;
}

/* Entries in one map, from status --json. */
static void assert_entries(const char *map, long long want)
{
	json_object *o = parse_json(ok("status --json"), "status --json"), *maps, *m;
	long long got;

	maps = json_object_object_get(o, "maps");
	m = maps ? json_object_object_get(maps, map) : NULL;
	got = m ? jint(m, "entries") : -1;
	json_object_put(o);
	cr_assert_eq(got, want, "got %lld entries in %s, want %lld", got, map, want);
}

/* The entry of a "list show --json" array for (list, address), or NULL. */
static json_object *find_entry(json_object *arr, const char *list, const char *addr)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *l = jstr(o, "list"), *a = jstr(o, "address");

		if (l && a && !strcmp(l, list) && !strcmp(a, addr))
			return o;
	}
	return NULL;
}

static size_t show_count(void)
{
	json_object *arr = parse_json(ok("list show --json"), "list show --json");
	size_t n;

	cr_assert(json_object_is_type(arr, json_type_array), "got a non-array from list show");
	n = json_object_array_length(arr);
	json_object_put(arr);
	return n;
}

/* Is "list address" in the text output of list show? */
static int shown(const char *out, const char *list, const char *addr)
{
	const char *p = out;
	size_t al = strlen(addr);

	while ((p = strstr(p, addr))) {
		const char *bol = p;

		while (bol > out && bol[-1] != '\n')
			bol--;
		if (!strncmp(bol, list, strlen(list)) && (p[al] == ' ' || p[al] == '\n' || !p[al]))
			return 1;
		p += al;
	}
	return 0;
}

/* ================= bad input ================= */

/*
 * One group of bad commands per kind of bad input. A group shares one "init"
 * (loading the program takes seconds); each command is checked on its own
 * against a snapshot taken just before it, and every failing command is
 * reported (cr_expect), not only the first.
 */
struct bad_cmd {
	char args[120];
	char needle[48];  /* the message must contain this (the offending thing) */
	char needle2[48]; /* and this, if set */
};

#define BAD_MAX 8

struct bad_group {
	char name[32];
	struct bad_cmd cmd[BAD_MAX]; /* ends at the first empty args */
};

static const struct bad_group bad_groups[] = {
	{ "not an address",
	  { { "list add black bogus", "'bogus'", "not an IPv4 or IPv6 address" },
	    { "list add black 192.0.2", "'192.0.2'", "not an IPv4 or IPv6" },
	    { "list add black 192.0.2.256", "'192.0.2.256'", "not an IPv4 or IPv6" },
	    { "list add black 192.0.2.7 192.0.2.8 bogus", "'bogus'", "" },
	    { "list add white 192.0.2.7 2001:db8:::1", "'2001:db8:::1'", "" },
	    { "list del black 192.0.2.100 bogus", "'bogus'", "" } } },
	{ "prefix out of range",
	  { { "list add black 192.0.2.0/33", "'192.0.2.0/33'", "prefix length" },
	    { "list add black 2001:db8::/129", "'2001:db8::/129'", "prefix length" },
	    { "list add black 192.0.2.0/", "'192.0.2.0/'", "prefix length" },
	    { "list add black 192.0.2.0/x", "'192.0.2.0/x'", "prefix length" },
	    { "list add black 192.0.2.7 198.51.100.0/40", "'198.51.100.0/40'",
	      "prefix length" } } },
	/* "/024" is octal to some readers and 24 to others: refused, and said so */
	{ "prefix with a leading zero",
	  { { "list add black 192.0.2.0/024", "'192.0.2.0/024'", "leading zero" },
	    { "list add black 192.0.2.0/00", "'192.0.2.0/00'", "leading zero" },
	    { "list add white 2001:db8::/032", "'2001:db8::/032'", "leading zero" },
	    { "list del black 198.51.100.0/024", "'198.51.100.0/024'", "leading zero" },
	    { "list add black 192.0.2.0/+24", "'192.0.2.0/+24'", "prefix length" } } },
	{ "host bits or /0",
	  { { "list add black 192.0.2.1/24", "'192.0.2.1/24'", "host bits" },
	    { "list add black 2001:db8::1/64", "'2001:db8::1/64'", "host bits" },
	    { "list add black 0.0.0.0/0", "'0.0.0.0/0'", "/0" },
	    { "list add white ::/0", "'::/0'", "/0" } } },
	{ "unknown verb or list",
	  { { "frobnicate", "'frobnicate'", "verb" },
	    { "list frob black 192.0.2.7", "'frob'", "list verb" },
	    { "threshold frob", "'frob'", "threshold verb" },
	    { "list add grey 192.0.2.7", "'grey'", "" },
	    { "list show grey", "'grey'", "" },
	    { "list flush grey", "'grey'", "" },
	    { "list import grey /dev/null", "'grey'", "" } } },
	{ "unknown action",
	  { { "list add black 192.0.2.7 --action block", "'block'", "action" },
	    { "list add black 192.0.2.7 --action group:", "'group:'", "action" },
	    { "list add black 192.0.2.7 --action group:70000", "'group:70000'", "action" },
	    { "list add black 192.0.2.7 --action group:-1", "'group:-1'", "action" },
	    { "list add white 192.0.2.7 --action drop", "'192.0.2.7'", "whitelist" },
	    { "list add white 192.0.2.7 --action reset", "'192.0.2.7'", "whitelist" } } },
	{ "interface",
	  { { "attach mailedge-none0", "'mailedge-none0'", "interface" },
	    { "detach mailedge-none0", "'mailedge-none0'", "interface" },
	    { "detach lo", "attached to lo", "" } } },
	{ "expiry",
	  { { "list add black 192.0.2.7 --expires 0", "--expires", "'0'" },
	    { "list add black 192.0.2.7 --expires abc", "--expires", "'abc'" },
	    { "list add black 192.0.2.7 --expires -5", "--expires", "'-5'" },
	    { "list add black 192.0.2.7 --expires 315360001", "--expires", "'315360001'" },
	    { "list del black 192.0.2.100 --expires 5", "--expires", "" } } },
	/* the present addresses of the command are not deleted either */
	{ "del of an absent entry",
	  { { "list del black 192.0.2.100 203.0.113.77 2001:db8:ff::1", "203.0.113.77", "black" },
	    { "list del white 192.0.2.100", "192.0.2.100", "white" },
	    { "list del black 198.51.100.0/25", "198.51.100.0/25", "black" } } },
	{ "threshold",
	  { { "threshold set --rate 0", "--rate", "'0'" },
	    { "threshold set --rate 1000001", "--rate", "'1000001'" },
	    { "threshold set --ports 70000", "--ports", "'70000'" },
	    { "threshold set --rate 10 --ports 25,70000", "--ports", "'25,70000'" },
	    { "threshold set --v4-prefix 33", "--v4-prefix", "'33'" },
	    { "threshold set", "threshold set", "" } } },
	{ "import of a non-file",
	  { { "list import black /nonexistent/mailedge.list", "/nonexistent/mailedge.list", "" },
	    { "list import black /tmp", "/tmp", "" } } },
	/* the message names the option, not just its value */
	{ "numeric options",
	  { { "init --hosts 8", "--hosts", "'8'" },
	    { "init --subnets 1x", "--subnets", "'1x'" },
	    { "watch --interval 0", "--interval", "'0'" } } },
	/* capacities are fixed once the maps exist */
	{ "capacity change", { { "init --hosts 32", "32", "" } } },
};

/* The whole bad-input contract for one command, reporting without stopping. */
static void check_refused(const struct bad_cmd *c)
{
	struct snap before, after;
	struct run r;
	size_t len;

	snapshot(&before);
	loader(&r, "%s", c->args);
	len = strlen(r.err);
	cr_expect_eq(r.status, 2, "'%s': got exit %d (stderr: %s), want 2", c->args, r.status,
		     r.err);
	cr_expect(len > 0 && r.err[len - 1] == '\n' && count_char(r.err, '\n') == 1,
		  "'%s': got stderr '%s', want exactly one line", c->args, r.err);
	cr_expect(!c->needle[0] || strstr(r.err, c->needle),
		  "'%s': got message '%s', want it to name '%s'", c->args, r.err, c->needle);
	cr_expect(!c->needle2[0] || strstr(r.err, c->needle2),
		  "'%s': got message '%s', want it to mention '%s'", c->args, r.err, c->needle2);
	snapshot(&after);
	cr_expect_str_eq(after.lists, before.lists,
			 "'%s': lists changed: got\n%s\nwant (as before)\n%s", c->args, after.lists,
			 before.lists);
	cr_expect_str_eq(after.thr, before.thr,
			 "'%s': threshold changed: got\n%s\nwant (as before)\n%s", c->args,
			 after.thr, before.thr);
}

ParameterizedTestParameters(loader_cli, bad_input)
{
	return cr_make_param_array(struct bad_group, bad_groups,
				   sizeof(bad_groups) / sizeof(bad_groups[0]));
}

ParameterizedTest(const struct bad_group *g, loader_cli, bad_input)
{
	int i;

	init_maps("init " SMALL);
	seed();
	for (i = 0; i < BAD_MAX && g->cmd[i].args[0]; i++)
		check_refused(&g->cmd[i]);
}

/* ---- the rest of the threshold contract ---- */

/* --ban needs a rate; with the rate off (a fresh config), --ban alone fails. */
Test(loader_cli, threshold_ban_without_rate)
{
	init_maps("init " SMALL);
	ok("list add black 192.0.2.100");
	expect_refused("threshold set --ban 5", "--ban", "--rate");
	expect_refused("threshold set --ban 5 --ports 2525", "--ban", "--rate");
}

/* ================= no partial change: map full ================= */

static char *hosts_args(const char *fmt, int from, int n)
{
	char *s = calloc(1, (size_t)n * 48 + 1);
	int i;

	cr_assert_not_null(s);
	own(s);
	for (i = from; i < from + n; i++) {
		char a[48];

		snprintf(a, sizeof(a), fmt, i);
		strcat(s, a);
		strcat(s, " ");
	}
	return s;
}

static void add_many(const char *list, const char *fmt, int from, int n)
{
	char *cmd;

	cr_assert(asprintf(&cmd, "list add %s %s", list, hosts_args(fmt, from, n)) > 0);
	ok(own(cmd));
}

/*
 * The blacklist host map (16 entries), all or nothing:
 *  - 15 of 16: the first of two new hosts fits, the second does not;
 *  - 16 of 16, then two more;
 *  - an update of an existing entry, then a new one that does not fit: the
 *    update is rolled back too (192.0.2.1 keeps its action);
 *  - entries for other maps written before the full one are rolled back.
 */
Test(loader_cli, full_hosts)
{
	json_object *arr, *e;
	struct run r;

	init_maps("init " SMALL);
	add_many("black", "192.0.2.%d", 1, 15);
	expect_refused("list add black 198.51.100.1 198.51.100.2", "black_host4", "full");
	loader(&r, "list show black");
	cr_assert(!shown(r.out, "black", "198.51.100.1"),
		  "got 198.51.100.1 in the list after a failed add, want all or nothing:\n%s",
		  r.out);
	cr_assert_eq(show_count(), 15, "got %zu entries, want 15", show_count());

	add_many("black", "192.0.2.%d", 16, 1);
	expect_refused("list add black 198.51.100.1 198.51.100.2", "black_host4", "full");
	cr_assert_eq(show_count(), 16, "got %zu entries, want 16", show_count());

	expect_refused("list add black 192.0.2.1 198.51.100.1 --action reset", "black_host4",
		       "full");
	arr = parse_json(ok("list show --json"), "list show --json");
	e = find_entry(arr, "black", "192.0.2.1");
	cr_assert_not_null(e, "got no 192.0.2.1, want it kept");
	cr_assert_str_eq(jstr(e, "action"), "drop", "got action %s for 192.0.2.1, want drop",
			 jstr(e, "action"));
	json_object_put(arr);

	expect_refused("list add black 10.1.0.0/16 2001:db8::5 198.51.100.1", "black_host4",
		       "full");
	cr_assert_eq(show_count(), 16, "got %zu entries, want 16", show_count());
}

/*
 * A new subnet inside an existing one (198.51.100.128/25 inside .0/24) is a new
 * entry: when a later write fails, the rollback must delete it, not keep it
 * with the containing subnet's value (an LPM lookup of the /25 finds the /24).
 */
Test(loader_cli, full_rolls_back_nested_subnet)
{
	char *file, *cmd;

	init_maps("init " SMALL);
	ok("list add black 198.51.100.0/24 --action reset");
	add_many("black", "192.0.2.%d", 1, 16);
	expect_refused("list add black 198.51.100.128/25 203.0.113.1", "black_host4", "full");
	file = write_file("nested.list", "198.51.100.0/26\n203.0.113.2\n");
	cr_assert(asprintf(&cmd, "list import black %s", file) > 0);
	expect_refused(own(cmd), "black_host4", "full");
	cr_assert_eq(show_count(), 17, "got %zu entries, want 17", show_count());
}

/* The other kinds of map fill up the same way. */
Test(loader_cli, full_other_maps)
{
	init_maps("init " SMALL);
	add_many("black", "10.%d.0.0/16", 1, 15);
	expect_refused("list add black 10.100.0.0/16 10.101.0.0/16", "black_net4", "full");
	add_many("black", "2001:db8::%x", 1, 15);
	expect_refused("list add black 2001:db8:1::1 2001:db8:1::2", "black_host6", "full");
	add_many("white", "192.0.2.%d", 1, 15);
	expect_refused("list add white 198.51.100.1 198.51.100.2", "white_host4", "full");
	cr_assert_eq(show_count(), 45, "got %zu entries, want 45", show_count());
}

/* ================= import: all or nothing ================= */

static void import_refused(const char *name, const char *content, const char *list_args, int line,
			   const char *why)
{
	char *file, *cmd, *needle;

	file = write_file(name, content);
	cr_assert(asprintf(&cmd, "list import %s", list_args) > 0);
	own(cmd);
	{
		char *full;

		/* list_args holds "%s" for the file */
		cr_assert(asprintf(&full, cmd, file) > 0);
		cmd = own(full);
	}
	cr_assert(asprintf(&needle, "%s:%d", file, line) > 0);
	own(needle);
	expect_refused(cmd, needle, why);
}

Test(loader_cli, import_bad_lines)
{
	char content[512];
	struct run r;
	int i;

	init_maps("init " SMALL);
	ok("list add black 203.0.113.1");

	/* Nine good lines, a bad tenth: FILE:10, nothing imported. */
	import_refused("bad10.list",
		       "# nine good lines, then a bad one\n"
		       "192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n"
		       "192.0.2.5\n192.0.2.6\n192.0.2.7\n192.0.2.8\n"
		       "192.0.2.300\n"
		       "192.0.2.10\n",
		       "black %s", 10, "192.0.2.300");
	loader(&r, "list show");
	cr_assert(!shown(r.out, "black", "192.0.2.1"),
		  "got 192.0.2.1 after a failed import, want nothing imported:\n%s", r.out);
	cr_assert_eq(show_count(), 1, "got %zu entries, want 1 (only the one before)",
		     show_count());

	import_refused("hostbits.list", "192.0.2.1\n198.51.100.1/24\n", "black %s", 2, "host bits");
	import_refused("twowords.list", "192.0.2.1\n192.0.2.2 192.0.2.3\n", "black %s", 2,
		       "more than one word");
	import_refused("truncated.list", "192.0.2.1\n192.0.2.", "black %s", 2, "192.0.2.");
	/* A line the parser accepts but a list refuses still names the line. */
	import_refused("zero.list", "192.0.2.1\n# x\n0.0.0.0/0\n", "black %s", 3, "/0");
	import_refused("w.list", "192.0.2.1\n192.0.2.2\n", "white %s --action drop", 1,
		       "whitelist");

	/* Binary junk: NULs and ESCs on line 2; the message stays one line. */
	snprintf(content, sizeof(content), "192.0.2.1\n");
	for (i = 0; i < 64; i++)
		strcat(content, "\x1b");
	strcat(content, "\n");
	import_refused("esc.list", content, "black %s", 2, "not an IPv4 or IPv6 address");
	cr_assert_eq(show_count(), 1, "got %zu entries, want 1 (nothing imported)", show_count());
}

Test(loader_cli, import_nul_byte)
{
	char *cmd, *needle, path[128];
	FILE *f;
	int i;

	init_maps("init " SMALL);
	ok("list add black 203.0.113.1");
	snprintf(path, sizeof(path), "%s/binary.list", tmpdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("192.0.2.1\n", f);
	for (i = 0; i < 64; i++)
		fputc(i % 2 ? 0 : 0x1b, f); /* NULs and ESCs */
	fputs("\n192.0.2.2\n", f);
	fclose(f);
	cr_assert(asprintf(&cmd, "list import black %s", path) > 0);
	cr_assert(asprintf(&needle, "%s:2", path) > 0);
	own(cmd);
	own(needle);
	expect_refused(cmd, needle, "NUL");
}

/* 20 new whitelist hosts into a 16-entry map: none of them stay. */
Test(loader_cli, import_overflow)
{
	char *file, *cmd, content[1024] = "";
	int i;

	init_maps("init " SMALL);
	ok("list add white 203.0.113.200");
	for (i = 1; i <= 20; i++) {
		char l[32];

		snprintf(l, sizeof(l), "192.0.2.%d\n", i);
		strcat(content, l);
	}
	file = write_file("overflow.list", content);
	cr_assert(asprintf(&cmd, "list import white %s", file) > 0);
	own(cmd);
	expect_refused(cmd, "white_host4", "full");
	cr_assert_eq(show_count(), 1, "got %zu entries, want 1 (nothing imported)", show_count());
}

/* ================= before init, without permission ================= */

Test(loader_cli, before_init)
{
	static const char *const cmds[] = {
		"list show",
		"list show --json",
		"list add black 192.0.2.1",
		"list del black 192.0.2.1",
		"list flush all",
		"list purge",
		"threshold show",
		"threshold set --rate 5",
		"threshold off",
		"status",
		"status --json",
		"detach lo",
	};
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct run r;

		loader(&r, "%s", cmds[i]);
		cr_assert_eq(r.status, 2, "'%s' before init: got exit %d, want 2", cmds[i],
			     r.status);
		assert_one_line(&r, cmds[i]);
		cr_assert(strstr(r.err, "no mailedge maps") && strstr(r.err, tenv_pin_dir()),
			  "'%s' before init: got '%s', want 'no mailedge maps at %s'", cmds[i],
			  r.err, tenv_pin_dir());
		cr_assert(stat(tenv_pin_dir(), &st) && errno == ENOENT,
			  "'%s' before init: got %s created, want no change", cmds[i],
			  tenv_pin_dir());
	}
}

Test(loader_cli, destroy_before_init)
{
	struct run r;

	loader(&r, "destroy");
	cr_assert_eq(r.status, 2, "got exit %d, want 2", r.status);
	assert_one_line(&r, "destroy");
	cr_assert(strstr(r.err, tenv_pin_dir()), "got '%s', want it to name %s", r.err,
		  tenv_pin_dir());
}

static void assert_perm_msg(const struct run *r, const char *what)
{
	cr_assert_eq(r->status, 2, "%s as nobody: got exit %d (stderr: %s), want 2", what,
		     r->status, r->err);
	assert_one_line(r, what);
	cr_assert(strstr(r->err, "root") && strstr(r->err, "CAP_BPF"),
		  "%s as nobody: got '%s', want how to fix it (root or CAP_BPF ...)", what, r->err);
}

Test(loader_cli, no_permission)
{
	static const char *const cmds[] = {
		"list show",	  "list add black 192.0.2.9", "list del black 192.0.2.100",
		"list flush all", "threshold set --rate 5",   "status --json",
	};
	struct snap before;
	size_t i;

	init_maps("init " SMALL);
	seed();
	snapshot(&before);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct run r;

		loader_nobody(&r, cmds[i]);
		assert_perm_msg(&r, cmds[i]);
		cr_assert(strstr(r.err, "permission"),
			  "%s as nobody: got '%s', want it to say "
			  "permission",
			  cmds[i], r.err);
	}
	assert_unchanged(&before, "commands as nobody");
}

/*
 * init as nobody: the message says what to do, and nothing is left behind. A
 * pin directory left empty would turn the next root command's "no mailedge
 * maps here: run init" into "the pin directory is incomplete: run destroy".
 */
Test(loader_cli, no_permission_init)
{
	struct stat st;
	struct run r;

	loader_nobody(&r, "init " SMALL);
	assert_perm_msg(&r, "init");
	loader(&r, "list show");
	cr_assert(r.status == 2 && strstr(r.err, "no mailedge maps"),
		  "after a failed init as nobody, list show: got exit %d '%s', want 'no mailedge "
		  "maps at %s' (nothing left behind)",
		  r.status, r.err, tenv_pin_dir());
	cr_assert(stat(tenv_pin_dir(), &st) && errno == ENOENT,
		  "init as nobody: got %s created (owner uid %u), want nothing", tenv_pin_dir(),
		  st.st_uid);
}

/* Control characters from the command line must not break the one line. */
Test(loader_cli, message_stays_one_line)
{
	static const char *const cmds[] = {
		"list add black $'192.0.2.7\\nsecond line'",
		"$'frob\\nsecond line'",
		"list add $'grey\\nsecond line' 192.0.2.7",
		"attach $'eth0\\nsecond line'",
		"list add black 192.0.2.7 --action $'drop\\nsecond line'",
	};
	size_t i;

	init_maps("init " SMALL);
	seed();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct run r;
		size_t len;

		loader(&r, "%s", cmds[i]);
		len = strlen(r.err);
		cr_expect_eq(r.status, 2, "%s: got exit %d, want 2", cmds[i], r.status);
		cr_expect(len > 0 && r.err[len - 1] == '\n' && count_char(r.err, '\n') == 1,
			  "%s: got stderr '%s', want exactly one line (the newline from the "
			  "argument escaped)",
			  cmds[i], r.err);
	}
}

/* ================= what works ================= */

Test(loader_cli, add_del_show_text)
{
	struct run r;
	const char *out;

	init_maps("init " SMALL);
	out = ok("list add black 192.0.2.1 198.51.100.0/24 2001:db8::/32 2001:db8:1::1");
	cr_assert(strstr(out, "added 4 entries"), "got '%s', want 'added 4 entries'", out);
	ok("list add white 203.0.113.5 2001:db8:2::/48");

	out = ok("list show");
	cr_assert(!strncmp(out, "LIST", 4), "got '%s', want a LIST header", out);
	cr_assert(shown(out, "black", "192.0.2.1"), "got no black 192.0.2.1 in:\n%s", out);
	cr_assert(shown(out, "black", "198.51.100.0/24"), "got no black 198.51.100.0/24:\n%s", out);
	cr_assert(shown(out, "black", "2001:db8::/32"), "got no black 2001:db8::/32:\n%s", out);
	cr_assert(shown(out, "black", "2001:db8:1::1"), "got no black 2001:db8:1::1:\n%s", out);
	cr_assert(shown(out, "white", "203.0.113.5"), "got no white 203.0.113.5:\n%s", out);
	cr_assert(shown(out, "white", "2001:db8:2::/48"), "got no white 2001:db8:2::/48:\n%s", out);
	cr_assert_eq(count_char(out, '\n'), 7, "got %d lines, want 7 (header + 6)",
		     count_char(out, '\n'));

	out = ok("list show white");
	cr_assert(!shown(out, "black", "192.0.2.1"), "got black entries in 'show white':\n%s", out);
	cr_assert_eq(count_char(out, '\n'), 3, "got %d lines, want 3", count_char(out, '\n'));

	/* /32 is a host: deleting "192.0.2.1/32" deletes 192.0.2.1. */
	out = ok("list del black 192.0.2.1/32 2001:db8::/32");
	cr_assert(strstr(out, "deleted 2 entries"), "got '%s', want 'deleted 2 entries'", out);
	loader(&r, "list show");
	cr_assert(!shown(r.out, "black", "192.0.2.1"), "got 192.0.2.1 after del:\n%s", r.out);
	cr_assert(!shown(r.out, "black", "2001:db8::/32"), "got 2001:db8::/32 after del:\n%s",
		  r.out);
	cr_assert(shown(r.out, "black", "198.51.100.0/24"), "got 198.51.100.0/24 gone:\n%s", r.out);
}

Test(loader_cli, add_del_show_json)
{
	json_object *arr, *e;
	const char *out;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1 2001:db8::/32");
	ok("list add black 198.51.100.0/24 --action reset");
	ok("list add black 198.51.100.200 --action pass");
	ok("list add white 203.0.113.5");

	arr = parse_json(ok("list show --json"), "list show --json");
	cr_assert(json_object_is_type(arr, json_type_array), "got a non-array");
	cr_assert_eq(json_object_array_length(arr), 5, "got %zu entries, want 5",
		     json_object_array_length(arr));
	e = find_entry(arr, "black", "192.0.2.1");
	cr_assert_not_null(e, "got no black 192.0.2.1");
	cr_assert_str_eq(jstr(e, "action"), "drop", "got %s, want drop", jstr(e, "action"));
	cr_assert_str_eq(jstr(e, "source"), "manual", "got %s, want manual", jstr(e, "source"));
	{
		json_object *v;

		cr_assert(json_object_object_get_ex(e, "synced", &v) && !json_object_get_boolean(v),
			  "got synced missing or true, want false");
		cr_assert(json_object_object_get_ex(e, "expires_in", &v) && v == NULL,
			  "got expires_in %s, want null", json_object_to_json_string(v));
	}
	e = find_entry(arr, "black", "198.51.100.0/24");
	cr_assert(e && !strcmp(jstr(e, "action"), "reset"), "got no reset 198.51.100.0/24");
	e = find_entry(arr, "black", "198.51.100.200");
	cr_assert(e && !strcmp(jstr(e, "action"), "pass"), "got no pass 198.51.100.200");
	e = find_entry(arr, "black", "2001:db8::/32");
	cr_assert_not_null(e, "got no black 2001:db8::/32");
	e = find_entry(arr, "white", "203.0.113.5");
	cr_assert(e && !strcmp(jstr(e, "action"), "pass"),
		  "got no white 203.0.113.5 with the default action pass");
	json_object_put(arr);

	/* The global --json works the same way, and del round-trips. */
	ok("list del black 192.0.2.1 2001:db8::/32");
	{
		struct run r;

		tenv_run(&r, "%s --json --pin-dir %s list show black", tenv_bin("mailedge-loader"),
			 tenv_pin_dir());
		tenv_keep_run(&r);
		cr_assert_eq(r.status, 0, "got exit %d (%s), want 0", r.status, r.err);
		out = r.out;
	}
	arr = parse_json(out, "--json list show black");
	cr_assert_eq(json_object_array_length(arr), 2, "got %zu entries, want 2",
		     json_object_array_length(arr));
	cr_assert_null(find_entry(arr, "black", "192.0.2.1"), "got 192.0.2.1 after del");
	cr_assert_null(find_entry(arr, "white", "203.0.113.5"), "got a white entry in 'black'");
	json_object_put(arr);
}

Test(loader_cli, show_empty_lists)
{
	struct run r;
	json_object *arr;

	init_maps("init " SMALL);
	loader(&r, "list show");
	cr_assert_eq(r.status, 0, "list show on empty lists: got exit %d (stderr: %s), want 0",
		     r.status, r.err);
	cr_assert(!strncmp(r.out, "LIST", 4) && count_char(r.out, '\n') == 1,
		  "got '%s', want the header alone", r.out);
	loader(&r, "list show --json");
	cr_assert_eq(r.status, 0,
		     "list show --json on empty lists: got exit %d (stderr: %s), "
		     "want 0",
		     r.status, r.err);
	arr = parse_json(r.out, "list show --json");
	cr_assert(json_object_is_type(arr, json_type_array) && !json_object_array_length(arr),
		  "got '%s', want []", r.out);
	json_object_put(arr);
}

/* An expiry is rounded up to whole seconds of boot time, so "--expires 100"
 * may show as "in 101s" right away; a few seconds of slack below for slow runs. */
Test(loader_cli, expires_shown)
{
	json_object *arr, *e, *v;
	const char *out, *p;
	long long left;
	unsigned int n = 0;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1 --expires 100");
	ok("list add black 192.0.2.2");
	out = ok("list show");
	p = strstr(out, "192.0.2.1");
	cr_assert_not_null(p, "got no 192.0.2.1:\n%s", out);
	p = strstr(p, " in ");
	cr_assert(p && sscanf(p, " in %us", &n) == 1 && n >= 95 && n <= 101,
		  "got '%s', want 'in Ns' with N 95-101 for 192.0.2.1", out);
	cr_assert(strstr(out, "never"), "got '%s', want 'never' for the permanent entry", out);

	arr = parse_json(ok("list show --json"), "list show --json");
	e = find_entry(arr, "black", "192.0.2.1");
	cr_assert(e && json_object_object_get_ex(e, "expires_in", &v) && v,
		  "got no expires_in for 192.0.2.1");
	left = json_object_get_int64(v);
	cr_assert(left >= 95 && left <= 101, "got expires_in %lld, want 95-101", left);
	json_object_put(arr);
}

Test(loader_cli, group_action_shown)
{
	json_object *arr, *e;
	const char *out;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1 --action group:7");
	ok("list add black 198.51.100.0/24 --action group:65535");
	ok("list add white 203.0.113.5 --action group:0");
	out = ok("list show");
	cr_assert(strstr(out, "group:7") && strstr(out, "group:65535") && strstr(out, "group:0"),
		  "got '%s', want group:7, group:65535 and group:0", out);
	arr = parse_json(ok("list show --json"), "list show --json");
	e = find_entry(arr, "black", "192.0.2.1");
	cr_assert(e && !strcmp(jstr(e, "action"), "group:7"), "got %s, want group:7",
		  e ? jstr(e, "action") : "(none)");
	e = find_entry(arr, "white", "203.0.113.5");
	cr_assert(e && !strcmp(jstr(e, "action"), "group:0"), "got %s, want group:0",
		  e ? jstr(e, "action") : "(none)");
	json_object_put(arr);
}

Test(loader_cli, import_valid_file)
{
	json_object *arr;
	char *file, *cmd;
	const char *out;
	static const char *const want[] = { "192.0.2.1",     "198.51.100.0/24", "2001:db8::/32",
					    "2001:db8:1::7", "203.0.113.9",	"192.0.2.77" };
	size_t i;

	init_maps("init " SMALL);
	file = write_file("good.list", "; Spamhaus-style header\r\n"
				       "# comment\n"
				       "\n"
				       "192.0.2.1\r\n"
				       "198.51.100.0/24 ; SBL123\r\n"
				       "   \t\n"
				       "2001:db8::/32 # v6 net\n"
				       "\t2001:db8:1::7\t\n"
				       "203.0.113.9\n"
				       "192.0.2.77"); /* no final newline */
	cr_assert(asprintf(&cmd, "list import black %s", file) > 0);
	out = ok(own(cmd));
	cr_assert(strstr(out, "imported 6 entries"), "got '%s', want 'imported 6 entries'", out);
	arr = parse_json(ok("list show --json"), "list show --json");
	cr_assert_eq(json_object_array_length(arr), 6, "got %zu entries, want 6",
		     json_object_array_length(arr));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_not_null(find_entry(arr, "black", want[i]), "got no %s after import",
				   want[i]);
	json_object_put(arr);

	/* Standard input, into the whitelist, with a group. */
	cr_assert(asprintf(&cmd, "list import white - --action group:4 < %s", file) > 0);
	out = ok(own(cmd));
	cr_assert(strstr(out, "imported 6 entries"), "got '%s' from stdin, want 6", out);
	cr_assert_eq(show_count(), 12, "got %zu entries, want 12", show_count());
}

Test(loader_cli, flush_black_only)
{
	const char *out;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1 198.51.100.0/24 2001:db8::1 2001:db8:1::/48");
	ok("list add white 203.0.113.5 2001:db8:2::1");
	out = ok("list flush black");
	cr_assert(strstr(out, "removed 4 entries from the black list"),
		  "got '%s', want 'removed 4 entries from the black list'", out);
	out = ok("list show");
	cr_assert(!strstr(out, "black "), "got black entries after flush:\n%s", out);
	cr_assert(shown(out, "white", "203.0.113.5") && shown(out, "white", "2001:db8:2::1"),
		  "got the whitelist changed by 'flush black':\n%s", out);
	ok("list add black 192.0.2.1");
	ok("list add black 2001:db8::/32");
	out = ok("list flush all");
	cr_assert(strstr(out, "removed 2 entries from the white list") &&
		      strstr(out, "removed 2 entries from the black list"),
		  "got '%s', want 2 removed from each list", out);
	/* Empty now (counted by status: "list show" of empty lists is its own test). */
	assert_entries("white_host4", 0);
	assert_entries("white_host6", 0);
	assert_entries("black_host4", 0);
	assert_entries("black_net6", 0);
}

Test(loader_cli, purge_expired)
{
	const char *out;
	json_object *arr;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1 198.51.100.0/24 --expires 1");
	ok("list add black 192.0.2.2");
	ok("list add white 203.0.113.9 --expires 1");
	ok("list add white 203.0.113.10 --expires 3600");
	sleep(2); /* a functional expiry check: the entries must really expire */
	out = ok("list show");
	cr_assert(strstr(out, "expired"), "got '%s', want expired entries marked", out);
	out = ok("list purge");
	cr_assert(strstr(out, "removed 3 expired entries"),
		  "got '%s', want 'removed 3 expired entries'", out);
	arr = parse_json(ok("list show --json"), "list show --json");
	cr_assert_eq(json_object_array_length(arr), 2, "got %zu entries, want 2",
		     json_object_array_length(arr));
	cr_assert_not_null(find_entry(arr, "black", "192.0.2.2"), "got 192.0.2.2 purged");
	cr_assert_not_null(find_entry(arr, "white", "203.0.113.10"), "got 203.0.113.10 purged");
	json_object_put(arr);
}

Test(loader_cli, threshold_round_trip)
{
	json_object *o, *ports;
	const char *out;

	init_maps("init " SMALL);
	o = parse_json(ok("threshold show --json"), "threshold show --json");
	cr_assert(!json_object_get_boolean(json_object_object_get(o, "enabled")),
		  "got the threshold enabled on fresh maps, want off");
	json_object_put(o);

	out = ok("threshold set --rate 10 --burst 20 --ports 25,2525 --ban 60 --v4-prefix 24 "
		 "--v6-prefix 48");
	cr_assert(strstr(out, "10 new connections/s"), "got '%s', want the summary", out);
	o = parse_json(ok("threshold show --json"), "threshold show --json");
	cr_assert(json_object_get_boolean(json_object_object_get(o, "enabled")),
		  "got threshold disabled after set, want enabled");
	cr_assert_eq(jint(o, "rate"), 10, "got rate %lld, want 10", jint(o, "rate"));
	cr_assert_eq(jint(o, "burst"), 20, "got burst %lld, want 20", jint(o, "burst"));
	cr_assert_eq(jint(o, "ban_seconds"), 60, "got ban %lld, want 60", jint(o, "ban_seconds"));
	cr_assert_eq(jint(o, "v4_prefix"), 24, "got v4_prefix %lld, want 24", jint(o, "v4_prefix"));
	cr_assert_eq(jint(o, "v6_prefix"), 48, "got v6_prefix %lld, want 48", jint(o, "v6_prefix"));
	ports = json_object_object_get(o, "ports");
	cr_assert(ports && json_object_array_length(ports) == 2 &&
		      json_object_get_int(json_object_array_get_idx(ports, 0)) == 25 &&
		      json_object_get_int(json_object_array_get_idx(ports, 1)) == 2525,
		  "got ports %s, want [25,2525]", json_object_to_json_string(ports));
	json_object_put(o);

	/* Only what is given changes. */
	ok("threshold set --rate 5");
	o = parse_json(ok("threshold show --json"), "threshold show --json");
	cr_assert_eq(jint(o, "rate"), 5, "got rate %lld, want 5", jint(o, "rate"));
	cr_assert_eq(jint(o, "burst"), 5, "got burst %lld, want 5 (follows rate)",
		     jint(o, "burst"));
	cr_assert_eq(jint(o, "ban_seconds"), 60, "got ban %lld, want 60 kept",
		     jint(o, "ban_seconds"));
	json_object_put(o);

	out = ok("threshold off");
	cr_assert(strstr(out, "off"), "got '%s', want 'off'", out);
	o = parse_json(ok("threshold show --json"), "threshold show --json");
	cr_assert(!json_object_get_boolean(json_object_object_get(o, "enabled")),
		  "got threshold enabled after off, want disabled");
	cr_assert_eq(jint(o, "rate"), 0, "got rate %lld after off, want 0", jint(o, "rate"));
	cr_assert_eq(jint(o, "ban_seconds"), 0, "got ban %lld after off, want 0",
		     jint(o, "ban_seconds"));
	json_object_put(o);
	out = ok("threshold show");
	cr_assert(strstr(out, "off"), "got '%s', want 'off' in the text form", out);
}

struct help_case {
	char args[48];
};

static const struct help_case help_cases[] = {
	{ "--help" },
	{ "-h" },
	{ "help" },
	{ "attach --help" },
	{ "detach --help" },
	{ "init --help" },
	{ "destroy --help" },
	{ "list --help" },
	{ "list add --help" },
	{ "list show --help" },
	{ "list import --help" },
	{ "threshold --help" },
	{ "threshold set --help" },
	{ "threshold show --help" },
	{ "status --help" },
	{ "watch --help" },
};

ParameterizedTestParameters(loader_cli, help)
{
	return cr_make_param_array(struct help_case, help_cases,
				   sizeof(help_cases) / sizeof(help_cases[0]));
}

/* --help needs no maps and prints a usage line on standard output. */
ParameterizedTest(const struct help_case *c, loader_cli, help)
{
	struct run r;

	loader(&r, "%s", c->args);
	cr_assert_eq(r.status, 0, "'%s': got exit %d (stderr: %s), want 0", c->args, r.status,
		     r.err);
	cr_assert(!strncmp(r.out, "usage: mailedge-loader", 22) ||
		      strstr(r.out, "\nusage: mailedge-loader"),
		  "'%s': got stdout '%.200s', want a 'usage: mailedge-loader' line", c->args,
		  r.out);
	cr_assert_str_empty(r.err, "'%s': got stderr '%s', want none", c->args, r.err);
}

Test(loader_cli, status_json)
{
	static const char *const keys[] = { "interfaces", "maps",  "threshold",
					    "verdicts",	  "lists", "events" };
	json_object *o, *maps, *m, *ifs;
	size_t i;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1 192.0.2.2 198.51.100.0/24");
	o = parse_json(ok("status --json"), "status --json");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(json_object_object_get_ex(o, keys[i], NULL),
			  "got no key '%s' in status --json, want it", keys[i]);
	ifs = json_object_object_get(o, "interfaces");
	cr_assert(json_object_is_type(ifs, json_type_array) && !json_object_array_length(ifs),
		  "got interfaces %s, want [] (init attaches nothing)",
		  json_object_to_json_string(ifs));
	maps = json_object_object_get(o, "maps");
	m = json_object_object_get(maps, "black_host4");
	cr_assert(m, "got no maps.black_host4");
	cr_assert_eq(jint(m, "entries"), 2, "got black_host4 entries %lld, want 2",
		     jint(m, "entries"));
	cr_assert_eq(jint(m, "capacity"), 16, "got black_host4 capacity %lld, want 16",
		     jint(m, "capacity"));
	m = json_object_object_get(maps, "black_net4");
	cr_assert(m && jint(m, "entries") == 1, "got black_net4 entries %lld, want 1",
		  m ? jint(m, "entries") : -1);
	json_object_put(o);
	/* The text form works too. */
	cr_assert(strstr(ok("status"), "black_host4"), "got no black_host4 in status");
}

Test(loader_cli, destroy_removes_pin_dir)
{
	struct stat st;
	const char *out;

	init_maps("init " SMALL);
	ok("list add black 192.0.2.1");
	cr_assert_eq(stat(tenv_pin_dir(), &st), 0, "got no %s after init", tenv_pin_dir());
	out = ok("destroy");
	cr_assert(strstr(out, tenv_pin_dir()), "got '%s', want it to name the pin dir", out);
	cr_assert(stat(tenv_pin_dir(), &st) && errno == ENOENT,
		  "got %s still there after destroy, want it removed", tenv_pin_dir());
	/* And a new init starts from empty lists. */
	init_maps("init " SMALL);
	ok("list add black 192.0.2.9");
	cr_assert_eq(show_count(), 1, "got %zu entries after destroy and init, want 1",
		     show_count());
}

/* Capacities asked for are what init creates; a second init with the same
 * ones is fine. */
Test(loader_cli, init_capacities)
{
	json_object *o, *maps;
	const char *out;

	out = ok("init --hosts 32 --white-hosts 16 --subnets 64 --rate-entries 16 "
		 "--ban-entries 16");
	cr_assert(strstr(out, "32 blacklisted") && strstr(out, "16 whitelisted") &&
		      strstr(out, "64 subnets"),
		  "got '%s', want the capacities", out);
	ok("init --hosts 32 --white-hosts 16 --subnets 64 --rate-entries 16 --ban-entries 16");
	o = parse_json(ok("status --json"), "status --json");
	maps = json_object_object_get(o, "maps");
	cr_assert_eq(jint(json_object_object_get(maps, "black_host6"), "capacity"), 32,
		     "got black_host6 capacity %lld, want 32",
		     jint(json_object_object_get(maps, "black_host6"), "capacity"));
	cr_assert_eq(jint(json_object_object_get(maps, "white_net6"), "capacity"), 64,
		     "got white_net6 capacity %lld, want 64",
		     jint(json_object_object_get(maps, "white_net6"), "capacity"));
	json_object_put(o);
}

/* ================= two writers at once ================= */

Test(loader_cli, concurrent_imports)
{
	char *a, *b, *content_a, *content_b;
	size_t cap = 2000 * 24 + 1;
	json_object *o, *maps;
	struct run r;
	int i;

	init_maps("init --hosts 8192 --subnets 16 --rate-entries 16 --ban-entries 16");
	content_a = own(calloc(1, cap));
	content_b = own(calloc(1, cap));
	cr_assert(content_a && content_b);
	for (i = 0; i < 2000; i++) {
		char l[24];

		snprintf(l, sizeof(l), "10.1.%d.%d\n", i / 256, i % 256);
		strcat(content_a, l);
		snprintf(l, sizeof(l), "10.2.%d.%d\n", i / 256, i % 256);
		strcat(content_b, l);
	}
	a = write_file("a.list", content_a);
	b = write_file("b.list", content_b);

	tenv_run(&r,
		 "L=%s; P=%s; "
		 "$L --pin-dir $P list import black %s >/dev/null 2>%s/a.err & pa=$!; "
		 "$L --pin-dir $P list import black %s >/dev/null 2>%s/b.err & pb=$!; "
		 "wait $pa; sa=$?; wait $pb; sb=$?; echo \"$sa $sb\"; cat %s/a.err %s/b.err",
		 tenv_bin("mailedge-loader"), tenv_pin_dir(), a, tmpdir, b, tmpdir, tmpdir, tmpdir);
	tenv_keep_run(&r);
	cr_assert(!strncmp(r.out, "0 0\n", 4),
		  "got exit statuses '%s' for the two imports, want '0 0'", r.out);

	o = parse_json(ok("status --json"), "status --json");
	maps = json_object_object_get(o, "maps");
	cr_assert_eq(jint(json_object_object_get(maps, "black_host4"), "entries"), 4000,
		     "got %lld entries in black_host4, want 4000",
		     jint(json_object_object_get(maps, "black_host4"), "entries"));
	json_object_put(o);
	cr_assert_eq(show_count(), 4000, "got %zu entries shown, want 4000", show_count());
	{
		json_object *arr = parse_json(ok("list show --json"), "list show --json");

		cr_assert_not_null(find_entry(arr, "black", "10.1.7.207"), "got no 10.1.7.207");
		cr_assert_not_null(find_entry(arr, "black", "10.2.0.0"), "got no 10.2.0.0");
		json_object_put(arr);
	}
}

/* A bad byte is escaped once: "\xe0", not "\x5cxe0" (the escape escaped again
 * by the one-line error). */
Test(loader_cli, import_error_escapes_once)
{
	init_maps("init " SMALL);
	import_refused("latin.list", "192.0.2.1\n192.0.2.\xe0\n", "black %s", 2,
		       "'192.0.2.\\xe0'");
}

/* Maps of another ABI version are refused by every verb that reads them, with
 * what was found and what to do, and nothing is changed. */
Test(loader_cli, abi_version_mismatch_refused)
{
	static const char *const verbs[] = { "list show", "status", "list add black 192.0.2.9",
					     "attach lo", "init" };
	char abi[PATH_MAX];
	struct run r;
	size_t i;

	init_maps("init " SMALL);
	snprintf(abi, sizeof(abi), "%s/abi", tenv_pin_dir());
	/* The marker is a frozen map: put an older version's marker (none) and
	 * a newer one's (a map holding 99) in its place. */
	for (i = 0; i < 2; i++) {
		const char *want = i ? "ABI version 99" : "ABI version 1";
		size_t v;

		if (!i)
			cr_assert_eq(unlink(abi), 0, "unlink %s: %s", abi, strerror(errno));
		else
			cr_assert_eq(tenv_sh("bpftool map create %s type array key 4 value 4 "
					     "entries 1 name mailedge_abi && bpftool map update "
					     "pinned %s key 0 0 0 0 value 99 0 0 0",
					     abi, abi),
				     0);
		for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
			loader(&r, "%s", verbs[v]);
			cr_assert_eq(r.status, 2, "'%s' on %s: exit %d, want 2", verbs[v], want,
				     r.status);
			assert_one_line(&r, verbs[v]);
			cr_assert(strstr(r.err, want) && strstr(r.err, "destroy"),
				  "'%s': got '%s', want it to say '%s' and what to do", verbs[v],
				  r.err, want);
		}
	}
	/* destroy still works on them: it is the way out. */
	ok("destroy");
}
