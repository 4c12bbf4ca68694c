// SPDX-License-Identifier: GPL-2.0
/*
 * test_loader_lists.c - the admin's lists across reboots, list show filters,
 * and the guard against blacklisting oneself (issue 8).
 *
 * The loader runs as a separate process with this test's pin directory and a
 * state directory under the test's temporary directory, inside a network
 * namespace met<pid>-lst whose veth carries known addresses: what "directly
 * connected" means must not depend on the machine running the tests. The
 * environment of every run is explicit: MAILEDGE_LIST_FORCE (set for the other
 * suites) and the SSH variables are removed unless a test sets them.
 *
 * .fini removes the namespace, the pin directory and the temporary directory
 * on every exit path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "lib/testenv.h"
#include "lib/tjson.h"
#include "listline.h"

#define SMALL "--hosts 16 --subnets 16 --rate-entries 16 --ban-entries 16"

static char tmpdir[64], ns[32], ifa[16], state[128];

static void setup(void)
{
	int id = (int)getpid() % 100000;

	tenv_pin_dir_remove();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mailedge-test-lst-XXXXXX");
	if (!mkdtemp(tmpdir))
		tmpdir[0] = '\0';
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	snprintf(ns, sizeof(ns), "met%d-lst", id);
	snprintf(ifa, sizeof(ifa), "met%da", id);
	tenv_sh("ip netns del %s 2>/dev/null; ip netns add %s && "
		"ip -n %s link add %s type veth peer name met%db && "
		"ip -n %s addr add 10.77.0.1/24 dev %s && "
		"ip -n %s addr add fd77::1/64 dev %s nodad && "
		"ip -n %s link set %s up && ip -n %s link set lo up && mkdir -p %s",
		ns, ns, ns, ifa, id, ns, ifa, ns, ifa, ns, ifa, ns, state);
}

static void teardown(void)
{
	struct run r;

	tenv_pin_dir_remove();
	tenv_run(&r, "ip netns del %s 2>/dev/null; rm -rf '%s'", ns, tmpdir);
	tenv_run_free(&r);
	tenv_kept_free();
}

TestSuite(loader_lists, .init = setup, .fini = teardown, .timeout = 120);

/* The loader in the test namespace; env is extra "VAR=value" words or "". */
static void run_env(struct run *r, const char *env, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void run_env(struct run *r, const char *env, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	tenv_run(r,
		 "nsenter --net=/var/run/netns/%s env -u MAILEDGE_LIST_FORCE -u SSH_CONNECTION "
		 "-u SSH_CLIENT -u MAILEDGE_STATE_DIR %s %s --pin-dir %s --state-dir %s %s",
		 ns, env, tenv_bin("mailedge-loader"), tenv_pin_dir(), state, args);
	tenv_keep_run(r);
}

static const char *ok(const char *args)
{
	struct run r;

	run_env(&r, "", "%s", args);
	cr_assert_eq(r.status, 0, "'%s': got exit %d (stderr: %s), want 0", args, r.status, r.err);
	return r.out;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	tenv_keep(buf);
	return buf;
}

/* "list address action source expires_in" a line, sorted, from show --json;
 * expires_in rounded to hundreds so a second passing does not matter. */
static char *snapshot(void)
{
	const char *out = ok("list show --json");
	json_object *arr = json_tokener_parse(out), *v;
	char line[256], *lines[64], *all;
	size_t n, i, j, len = 1;

	cr_assert(arr && json_object_is_type(arr, json_type_array), "got '%s', want JSON", out);
	n = json_object_array_length(arr);
	cr_assert(n <= 64, "got %zu entries, want at most 64", n);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		long long left = json_object_object_get_ex(e, "expires_in", &v) && v
					 ? json_object_get_int64(v)
					 : -1;

		snprintf(line, sizeof(line), "%s %s %s %s %lld\n", jstr(e, "list"),
			 jstr(e, "address"), jstr(e, "action"), jstr(e, "source"),
			 left < 0 ? -1 : (left + 50) / 100);
		lines[i] = strdup(line);
	}
	json_object_put(arr);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char *t = lines[j];

			lines[j] = lines[j - 1];
			lines[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		len += strlen(lines[i]);
	all = calloc(1, len);
	for (i = 0; i < n; i++) {
		strcat(all, lines[i]);
		free(lines[i]);
	}
	tenv_keep(all);
	return all;
}

static long long expires_in(const char *addr)
{
	const char *out = ok("list show --json");
	json_object *arr = json_tokener_parse(out), *v;
	long long left = -2;
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (!strcmp(jstr(e, "address"), addr))
			left = json_object_object_get_ex(e, "expires_in", &v) && v
				       ? json_object_get_int64(v)
				       : -1;
	}
	json_object_put(arr);
	return left;
}

/* A refused command: exit 2, one line naming want1 and want2, nothing changed. */
static void refused(const char *env, const char *args, const char *want1, const char *want2)
{
	char *before = snapshot(), *after;
	struct run r;

	run_env(&r, env, "%s", args);
	cr_expect_eq(r.status, 2, "'%s' (%s): got exit %d (out '%s'), want 2", args, env,
		     r.status, r.out);
	cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
		  "'%s': got stderr '%s', want one line", args, r.err);
	cr_expect(strstr(r.err, want1) && strstr(r.err, want2),
		  "'%s' (%s): got '%s', want '%s' and '%s'", args, env, r.err, want1, want2);
	after = snapshot();
	cr_expect_str_eq(after, before, "'%s' changed the lists", args);
}

static void init(void)
{
	ok("init " SMALL);
}

/* ================= the guard ================= */

Test(loader_lists, guard_refuses_lockout)
{
	char file[192], env[160];

	init();
	ok("list add black 192.0.2.1");
	snprintf(env, sizeof(env), "SSH_CONNECTION='::ffff:203.0.113.9 50022 10.77.0.1 22'");
	/* The gateway's own addresses, its connected subnets, loopback. */
	refused("", "list add black 10.77.0.1", "10.77.0.1", ifa);
	refused("", "list add black 10.77.0.0/24 --action reset", "10.77.0.0/24", "10.77.0.1");
	refused("", "list add black 10.77.0.128/25", "10.77.0.128/25", "connected");
	refused("", "list add black 10.0.0.0/8", "10.0.0.0/8", "--force");
	refused("", "list add black 127.0.0.1", "127.0.0.1", "lo");
	refused("", "list add black ::1", "::1", "lo");
	refused("", "list add black fd77::1", "fd77::1", ifa);
	refused("", "list add black fd00::/8", "fd00::/8", ifa);
	refused("", "list add black fd77::8000:0:0:0/65", "fd77::8000:0:0:0/65", "connected");
	refused("", "list add black 0.0.0.0/0", "0.0.0.0/0", "/0");
	/* The SSH client, given IPv4-mapped, covered by a host, a /24, a /8. */
	refused(env, "list add black 203.0.113.9", "203.0.113.9", "SSH_CONNECTION");
	refused(env, "list add black 198.51.100.5 203.0.0.0/8", "203.0.0.0/8", "SSH");
	refused("SSH_CLIENT='2001:db8:99::5 50022 22'", "list add black 2001:db8:98::/47",
		"2001:db8:98::/47", "SSH_CLIENT");
	/* import and restore are checked as add is. */
	snprintf(file, sizeof(file), "%s/lockout.list", tmpdir);
	write_file(file, "198.51.100.7\n203.0.113.0/24 action=reset\n");
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "list import black %s", file);
		refused(env, cmd, "203.0.113.0/24", "SSH");
		write_file(file, "black 198.51.100.7\nblack 10.77.0.0/16\n");
		snprintf(cmd, sizeof(cmd), "list restore %s", file);
		refused("", cmd, "10.77.0.0/16", ifa);
	}

	/* Not lock-outs: a neighbour, pass and group entries, the whitelist. */
	ok("list add black 10.77.0.9");
	ok("list add black 10.77.0.0/24 --action pass");
	ok("list add black 10.0.0.0/8 --action group:2");
	ok("list add white 10.77.0.0/24");
	/* --force does it anyway. */
	ok("list del black 10.0.0.0/8");
	ok("list add black 10.0.0.0/8 --force");
	cr_assert_eq(expires_in("10.0.0.0/8"), -1, "got no 10.0.0.0/8 after --force");
}

/* ================= save and restore ================= */

Test(loader_lists, save_restore_round_trip)
{
	char file[192], cmd[256], *before, *after, *text;
	struct run r;

	init();
	ok("list add black 192.0.2.1 2001:db8:1::1 --action reset");
	ok("list add black 198.51.100.0/24 2001:db8:2::/48 --action group:7 --expires 3000");
	ok("list add black 203.0.113.5");
	ok("list add white 192.0.2.200 2001:db8:3::/48");
	ok("list add white 203.0.113.128/25 --action group:65535 --expires 600");
	before = snapshot();

	snprintf(file, sizeof(file), "%s/saved.lists", tmpdir);
	snprintf(cmd, sizeof(cmd), "list save %s", file);
	text = (char *)ok(cmd);
	cr_assert(strstr(text, "saved 8 entries"), "list save said '%s', want 8 entries", text);
	text = read_all(file);
	cr_assert(text && strstr(text, "black 198.51.100.0/24 action=group:7 expires=20") &&
		      strstr(text, "white 2001:db8:3::/48 action=pass expires=never") &&
		      strstr(text, "black 2001:db8:1::1 action=reset expires=never"),
		  "got saved file:\n%s", text ? text : "(none)");
	/* list save - writes the same entries to standard output. */
	cr_assert(strstr(ok("list save -"), "white 203.0.113.128/25 action=group:65535"),
		  "list save - lacks the whitelist group entry");

	ok("list flush all");
	ok("list add black 192.0.2.99");
	snprintf(cmd, sizeof(cmd), "list restore %s", file);
	cr_assert(strstr(ok(cmd), "restored 8 entries"), "restore did not say 8 entries");
	after = snapshot();
	cr_assert_str_eq(after, before, "restore gave other lists than were saved");
	cr_assert_eq(expires_in("192.0.2.99"), -2, "restore kept an entry not in the file");

	/* The save was atomic: no temporary file is left next to it. */
	tenv_run(&r, "ls -A %s | grep -c 'lists[.]'", tmpdir);
	tenv_keep_run(&r);
	cr_assert_eq(atoi(r.out), 0, "got temporary files left in %s", tmpdir);
	/* A save that cannot be written is an error naming the file. */
	run_env(&r, "", "list save %s/nodir/x.lists", tmpdir);
	cr_assert_eq(r.status, 2, "save into a missing directory: got exit %d, want 2", r.status);
	cr_assert(strstr(r.err, "nodir"), "got '%s', want the path named", r.err);
}

Test(loader_lists, expiry_is_wall_clock)
{
	char file[192], cmd[256], soon[ME_UTC_STRLEN], past[ME_UTC_STRLEN], text[512];
	const char *out;
	long long left;

	init();
	me_utc_format((long long)time(NULL) + 500, soon, sizeof(soon));
	me_utc_format((long long)time(NULL) - 5, past, sizeof(past));
	snprintf(text, sizeof(text),
		 "# a saved file from another boot\n"
		 "black 192.0.2.1 action=drop expires=%s\n"
		 "black 192.0.2.2 action=drop expires=%s\n"
		 "white 2001:db8::1 action=group:4 expires=never source=proxy\n",
		 soon, past);
	snprintf(file, sizeof(file), "%s/wall.lists", tmpdir);
	write_file(file, text);
	snprintf(cmd, sizeof(cmd), "list restore %s", file);
	out = ok(cmd);
	cr_assert(strstr(out, "restored 2 entries") && strstr(out, "1 expired"),
		  "got '%s', want 2 restored and 1 expired skipped", out);
	left = expires_in("192.0.2.1");
	cr_assert(left >= 495 && left <= 500, "got expires_in %lld, want 495-500", left);
	cr_assert_eq(expires_in("192.0.2.2"), -2, "the expired entry was restored");
	cr_assert(strstr(ok("list show --source proxy"), "2001:db8::1"),
		  "source=proxy was not kept");

	/* Saved again, the expiry is the same wall-clock second (or the next). */
	snprintf(cmd, sizeof(cmd), "list save %s", file);
	ok(cmd);
	out = read_all(file);
	cr_assert(out && strstr(out, "192.0.2.1 action=drop expires="),
		  "got:\n%s", out ? out : "(none)");
	{
		const char *p = strstr(out, "192.0.2.1 action=drop expires=") + 30;
		long long t, want;

		cr_assert(!me_utc_parse(p, 20, &t), "got an unparsable expiry in:\n%s", out);
		me_utc_parse(soon, 20, &want);
		cr_assert(t >= want - 1 && t <= want + 1, "got expiry %.20s, want %s", p, soon);
	}
}

Test(loader_lists, restore_all_or_nothing)
{
	char file[192], cmd[256], text[2048];
	size_t o = 0;
	int i;

	init();
	ok("list add black 192.0.2.1 198.51.100.0/24");
	ok("list add white 203.0.113.5");
	snprintf(file, sizeof(file), "%s/bad.lists", tmpdir);
	snprintf(cmd, sizeof(cmd), "list restore %s", file);

	write_file(file, "black 192.0.2.50\nwhite 192.0.2.51\nblack 192.0.2.52 action=bogus\n");
	refused("", cmd, "bad.lists:3", "action");
	write_file(file, "black 192.0.2.50\n192.0.2.51\n");
	refused("", cmd, "bad.lists:2", "names no list");
	write_file(file, "white 192.0.2.50 action=drop\n");
	refused("", cmd, "bad.lists:1", "whitelist");
	write_file(file, "black 192.0.2.50 expires=2026-13-01T00:00:00Z\n");
	refused("", cmd, "bad.lists:1", "expires=");
	/* Valid, but more than the 16-entry maps hold: nothing changes. */
	for (i = 1; i <= 17; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "black 10.9.0.%d\n", i);
	write_file(file, text);
	refused("", cmd, "black_host4", "full");
	cr_assert_eq(expires_in("198.51.100.0/24"), -1, "the old lists were not kept");
}

/* ================= show filters and re-import ================= */

Test(loader_lists, show_filters_and_reimport)
{
	char file[192], cmd[256], *before;
	const char *out;
	struct run r;

	init();
	ok("list add black 192.0.2.1 198.51.100.0/24 2001:db8::/32 --expires 900");
	ok("list add black 198.51.100.128/25 --action reset");
	ok("list add white 203.0.113.5 --action group:3");

	out = ok("list show --match 198.51.100.200");
	cr_assert(strstr(out, "198.51.100.0/24") && strstr(out, "198.51.100.128/25") &&
		      !strstr(out, "192.0.2.1") && !strstr(out, "203.0.113.5"),
		  "--match 198.51.100.200 got:\n%s", out);
	out = ok("list show --match 198.51.0.0/16");
	cr_assert(strstr(out, "198.51.100.0/24") && strstr(out, "198.51.100.128/25") &&
		      !strstr(out, "192.0.2.1"),
		  "--match 198.51.0.0/16 got:\n%s", out);
	out = ok("list show black --match 2001:db8:5::1");
	cr_assert(strstr(out, "2001:db8::/32") && !strstr(out, "198.51"),
		  "--match 2001:db8:5::1 got:\n%s", out);
	out = ok("list show --match 192.0.2.77");
	cr_assert(!strstr(out, "192.0.2.1 "), "--match 192.0.2.77 matched 192.0.2.1:\n%s", out);
	out = ok("list show --source manual --json");
	cr_assert(strstr(out, "203.0.113.5"), "--source manual got:\n%s", out);
	out = ok("list show --source threshold");
	cr_assert(!strstr(out, "198.51") && !strstr(out, "203.0"), "--source threshold got:\n%s",
		  out);
	run_env(&r, "", "list show --match 192.0.2.300");
	cr_assert(r.status == 2 && strstr(r.err, "192.0.2.300"), "bad --match: got %d '%s'",
		  r.status, r.err);

	/* list show black > f; list import black f: the same black list. */
	before = snapshot();
	snprintf(file, sizeof(file), "%s/shown.lists", tmpdir);
	run_env(&r, "", "list show black > %s", file);
	cr_assert_eq(r.status, 0, "list show black > file failed: %s", r.err);
	ok("list flush black");
	snprintf(cmd, sizeof(cmd), "list import black %s", file);
	cr_assert(strstr(ok(cmd), "imported 4 entries"), "re-import did not import 4 entries");
	cr_assert_str_eq(snapshot(), before, "show black | import black changed the lists");
	/* A line of the other list is not imported into this one. */
	run_env(&r, "", "list show white > %s", file);
	refused("", cmd, "white", "black");
}

/* ================= autosave and restore on fresh maps ================= */

Test(loader_lists, autosave_and_restore_after_destroy)
{
	char path[192], *before;
	const char *text;
	struct run r;

	snprintf(path, sizeof(path), "%s/manual.lists", state);
	run_env(&r, "", "attach %s --mode generic " SMALL, ifa);
	cr_assert_eq(r.status, 0, "attach: %s", r.err);
	cr_assert(access(path, F_OK), "fresh empty maps wrote a state file");
	ok("list add black 192.0.2.1 2001:db8::/32 --action reset");
	ok("list add white 203.0.113.5 --expires 800");
	text = read_all(path);
	cr_assert(text && strstr(text, "black 2001:db8::/32 action=reset") &&
		      strstr(text, "white 203.0.113.5"),
		  "autosave got:\n%s", text ? text : "(none)");
	ok("list del black 192.0.2.1");
	text = read_all(path);
	cr_assert(text && !strstr(text, "192.0.2.1 "), "autosave after del got:\n%s", text);
	ok("list add black 198.51.100.9 --expires 1");
	before = snapshot();

	/* A reboot loses the maps: destroy, then attach creates them afresh. */
	ok("destroy");
	run_env(&r, "", "attach %s --mode generic " SMALL, ifa);
	cr_assert_eq(r.status, 0, "attach after destroy: %s", r.err);
	cr_assert(strstr(r.err, "restored 3 manual entries") || strstr(r.err, "restored 2 manual"),
		  "attach did not log the restore: '%s'", r.err);
	if (strstr(r.err, "restored 3")) /* 198.51.100.9 may not have expired yet */
		ok("list del black 198.51.100.9");
	cr_assert(expires_in("2001:db8::/32") == -1 && expires_in("203.0.113.5") > 780,
		  "the restored lists differ:\n%s\nwas:\n%s", snapshot(), before);
	/* A second attach reuses the maps: no restore over later edits. */
	ok("list del black 2001:db8::/32");
	run_env(&r, "", "attach %s --mode generic", ifa);
	cr_assert(r.status == 0 && !strstr(r.err, "restored"), "re-attach restored: %s", r.err);
	cr_assert_eq(expires_in("2001:db8::/32"), -2, "re-attach brought a deleted entry back");

	/* A save that fails is a warning; the edit stands. */
	tenv_run(&r, "rm -rf %s && touch %s", state, state);
	tenv_keep_run(&r);
	run_env(&r, "", "list add black 192.0.2.44");
	cr_assert(r.status == 0 && strstr(r.err, "warning") && strstr(r.err, "manual.lists"),
		  "failed autosave: got exit %d '%s', want 0 and a warning", r.status, r.err);
	cr_assert_eq(expires_in("192.0.2.44"), -1, "the edit did not stand");
	ok("destroy");
}

/* ================= the parser ================= */

struct pctx {
	int n;
	struct me_list_line last;
};

static int pcb(void *ctx, const struct me_list_line *l, unsigned long line)
{
	struct pctx *p = ctx;

	(void)line;
	p->n++;
	p->last = *l;
	return 0;
}

Test(loader_lists, listline_parser)
{
	static const char *const bad[] = {
		"black\n",
		"black 192.0.2.1 action=block\n",
		"192.0.2.1 expires=2023-02-29T00:00:00Z\n",
		"192.0.2.1 expires=2026-12-04 21:00:00Z\n",
		"192.0.2.1 expires=1\n",
		"192.0.2.1 action=drop action=reset\n",
		"192.0.2.1 source=a b=c\n",
		"192.0.2.1 colour=red\n",
		"grey 192.0.2.1\n",
		"black white 192.0.2.1\n",
		"192.0.2.1 192.0.2.2\n",
	};
	const char *good = "LIST ADDRESS ACTION SOURCE EXPIRES\n"
			   "192.0.2.7\n"
			   "white 2001:db8::/32 action=group:9 expires=2030-01-01T00:00:00Z "
			   "source=spam-list # in 3s\n";
	struct me_parse_err err;
	struct pctx p = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0, sizeof(p));
		cr_expect_eq(me_listline_parse(bad[i], strlen(bad[i]), 0, pcb, &p, &err), -22,
			     "'%s' was accepted", bad[i]);
		cr_expect_eq(p.n, 0, "'%s' gave entries", bad[i]);
	}
	memset(&p, 0, sizeof(p));
	cr_assert_eq(me_listline_parse(good, strlen(good), 0, pcb, &p, &err), 0, "got %s", err.why);
	cr_assert_eq(p.n, 2, "got %d entries, want 2", p.n);
	cr_assert(p.last.list == 0 && p.last.has_action && p.last.val.group == 9 &&
		      p.last.expires == 1893456000 && !strcmp(p.last.source, "spam-list"),
		  "the options of the last line were misread");
}

/* The connection threshold survives a reboot as the lists do; a saved file
 * that threshold set would refuse leaves it off, with a warning. */
Test(loader_lists, threshold_survives_destroy)
{
	char path[192];
	const char *text;
	struct run r;

	snprintf(path, sizeof(path), "%s/threshold.conf", state);
	ok("init " SMALL);
	ok("threshold set --rate 7 --burst 11 --ban 120 --ports 25,2525 --v6-prefix 56");
	text = read_all(path);
	cr_assert(text && !strcmp(text, "rate=7 burst=11 ban=120 v4_prefix=32 v6_prefix=56 "
					"ports=25,2525\n"),
		  "saved threshold: '%s'", text ? text : "(none)");

	ok("destroy");
	run_env(&r, "", "init " SMALL);
	cr_assert(r.status == 0 && strstr(r.err, "restored the connection threshold"),
		  "init after destroy: exit %d '%s'", r.status, r.err);
	text = ok("threshold show --json");
	cr_assert(strstr(text, "\"rate\":7,") && strstr(text, "\"burst\":11,") &&
			  strstr(text, "\"ban_seconds\":120,") && strstr(text, "2525") &&
			  strstr(text, "\"v6_prefix\":56,"),
		  "restored threshold: %s", text);

	/* off is saved too: the next fresh maps start without a threshold. */
	ok("threshold off");
	text = read_all(path);
	cr_assert(text && !strcmp(text, "off\n"), "saved after off: '%s'", text ? text : "(none)");

	/* Hostile or mangled files: each leaves the threshold off, with a warning. */
	{
		static const char *const bad[] = {
			"rate=0 burst=1 ban=0 v4_prefix=32 v6_prefix=64 ports=25\n",
			"rate=5 burst=5 ban=9999999 v4_prefix=32 v6_prefix=64 ports=25\n",
			"rate=5 burst=5 ban=0 v4_prefix=4 v6_prefix=64 ports=25\n",
			"rate=5 burst=5 ban=0 v4_prefix=32 v6_prefix=64 ports=0\n",
			"rate=5 burst=5 ban=0 v4_prefix=32 v6_prefix=64 ports=25 extra\n",
			"rate=5\n",
			"",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ok("destroy");
			write_file(path, bad[i]);
			run_env(&r, "", "init " SMALL);
			cr_assert(r.status == 0 && strstr(r.err, "stays off"),
				  "'%s': init exit %d '%s', want 0 and a warning", bad[i],
				  r.status, r.err);
			text = ok("threshold show --json");
			cr_assert(strstr(text, "\"rate\":0,"), "'%s' turned the threshold on: %s",
				  bad[i], text);
		}
	}
	ok("destroy");
}
