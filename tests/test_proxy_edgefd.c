// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_edgefd.c - list sync's tables read by a proxy that dropped root.
 *
 * A table's fd comes from its map ID, which takes CAP_SYS_ADMIN; the proxy
 * runs as nobody, so its keeper opens the tables for it (keeper.h) and the
 * proxy caches them (edgefd.h). Each test makes a real pinned map set
 * (mailedge-loader init) in a pin directory of its own and fills list sync's
 * tables with the real mailedge-listsync from a file:// source whose entries
 * carry action group:2; then --force --rebuild replaces the tables (new map
 * IDs) with a changed list.
 *
 * Suite keeper_tables drives the keeper in this process: what it gives
 * (fds of current tables) and what it refuses (any other map, and
 * a table list sync has replaced, even while it still exists), and, with the
 * effective user switched to nobody, that me_synctab_open fails without the
 * keeper and works through it, leaks no fd, and follows a rebuild.
 * Suite edgefd_proxy runs the proxy as root with user = "nobody": a client
 * list sync put in group:2 is served by pool two, before and after a rebuild.
 *
 * .fini removes the pin directory and the lab on every exit path; the keeper
 * forked here dies with the test (parent-death signal).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>

#include "edge.h"
#include "synctab.h"
#include "../proxy/config.h"
#include "../proxy/keeper.h"
#include "../proxy/policy.h"
#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/testenv.h"

#define NOBODY 65534 /* Debian's nobody and nogroup */
#define G2_A   "127.0.0.21"
#define G2_B   "127.0.0.22"

static void teardown(void)
{
	if (geteuid())
		(void)!seteuid(0);
	pxc_teardown();
	tenv_pin_dir_remove();
}

/* ---- list sync ---- */

static char ls_conf[256], ls_list[256];

/* The list file (one address a line) list sync's source serves. */
static void put_list(const char *hosts)
{
	cr_assert_eq(pl_write_file(ls_list, hosts, strlen(hosts)), 0, "writing %s", ls_list);
}

static void listsync(const char *args)
{
	cr_assert_eq(tenv_sh("%s -q -c %s run %s", tenv_bin("mailedge-listsync"), ls_conf, args), 0,
		     "mailedge-listsync run %s", args);
}

/* Maps pinned, and list sync's tables holding hosts as white, group:2. */
static void sync_setup(const char *hosts)
{
	char state[256], text[1024];

	cr_assert_eq(tenv_sh("%s --pin-dir %s init --hosts 1024 --subnets 1024 --rate-entries "
			     "1024 --ban-entries 1024",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0, "mailedge-loader init");
	snprintf(state, sizeof(state), "%s/state", lab.dir);
	snprintf(ls_list, sizeof(ls_list), "%s/edge.txt", lab.dir);
	snprintf(ls_conf, sizeof(ls_conf), "%s/listsync.conf", lab.dir);
	cr_assert_eq(mkdir(state, 0700), 0, "mkdir %s: %s", state, strerror(errno));
	snprintf(text, sizeof(text),
		 "pin_dir = \"%s\";\nstate_dir = \"%s\";\n"
		 "sources = ( { name = \"edge\"; url = \"file://%s\"; format = \"plain\"; "
		 "list = \"white\"; action = \"group:2\"; } );\n",
		 tenv_pin_dir(), state, ls_list);
	cr_assert_eq(pl_write_file(ls_conf, text, strlen(text)), 0, "writing %s", ls_conf);
	put_list(hosts);
	listsync("");
}

/* The map ID in each slot of each outer sync map (0: none), read as root. */
#define NIDS (4 * ME_SYNC_SLOTS)
static void table_ids(__u32 ids[NIDS])
{
	char path[512];
	__u32 slot;
	int i, fd;

	for (i = 0; i < 4; i++) {
		me_pin_path(path, sizeof(path), tenv_pin_dir(),
			    me_map_name((enum me_map_id)(ME_M_SYNC_HOST4 + i)));
		fd = bpf_obj_get(path);
		cr_assert_geq(fd, 0, "opening %s: %s", path, strerror(errno));
		for (slot = 0; slot < ME_SYNC_SLOTS; slot++) {
			ids[i * ME_SYNC_SLOTS + slot] = 0;
			bpf_map_lookup_elem(fd, &slot, &ids[i * ME_SYNC_SLOTS + slot]);
		}
		close(fd);
	}
}

static int has_id(const __u32 ids[NIDS], __u32 id)
{
	for (int i = 0; i < NIDS; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* The ID of a pinned map (as root). */
static __u32 pinned_id(const char *name)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[512];
	int fd;

	me_pin_path(path, sizeof(path), tenv_pin_dir(), name);
	fd = bpf_obj_get(path);
	cr_assert_geq(fd, 0, "opening %s: %s", path, strerror(errno));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0, "info of %s", path);
	close(fd);
	return info.id;
}

/* Wait until no map has this ID any more (its last fd closed): 1, or 0. */
static int id_gone(__u32 id)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0 && errno == ENOENT)
			return 1;
		if (fd >= 0)
			close(fd);
		pl_sleep_ms(20);
	}
	return 0;
}

/* ---- the keeper, in this process ---- */

TestSuite(keeper_tables, .init = pxc_setup, .fini = teardown, .timeout = 60);

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d, "/proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Which group list sync's host table gives addr (-1: not there), read with
 * me_synctab_open as whoever runs now; the error as -errno. */
static int synced_group(struct me_edge *e, const char *addr)
{
	struct me_tabmap t;
	struct me_prefix p = { .family = AF_INET, .len = 32 };
	__u32 gen;
	int rc, v;

	inet_pton(AF_INET, addr, p.addr);
	rc = me_synctab_open(e, AF_INET, 0, &t, &gen);
	if (rc)
		return rc;
	v = me_hostab_lookup(&t, &p, gen);
	rc = v >= 0 && (__u32)v < t.h->nvals ? (int)me_tab_val(&t, (__u32)v)->e.group : -1;
	me_synctab_close(&t);
	return rc;
}

static void as_nobody(void)
{
	cr_assert_eq(seteuid(NOBODY), 0, "seteuid(nobody): %s", strerror(errno));
}

static void as_root(void)
{
	cr_assert_eq(seteuid(0), 0, "seteuid(0): %s", strerror(errno));
}

/* What the keeper gives: a current table, which maps for reading. What it
 * refuses: any other map, existing or not, and every question once stopped. */
Test(keeper_tables, gives_current_tables_only)
{
	static const char *const what[] = { "admin's whitelist", "outer map", "no map" };
	static struct px_flags fl;
	char conf[16384], top[1024];
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), ids[NIDS], bogus[3];
	struct me_tabmap t;
	int fd, rc, i;

	sync_setup(G2_A "\n");
	table_ids(ids);
	cr_assert(ids[0] && ids[1], "host4 slots: got ids %u %u, want tables", ids[0], ids[1]);
	snprintf(top, sizeof(top), "%spin_dir = \"%s\";\n", TOP_DEFAULT, tenv_pin_dir());
	make_conf(conf, sizeof(conf), top, NULL, NULL, NULL);
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "writing %s", lab.conf);
	fl.config = lab.conf;
	cr_assert_eq(px_keeper_start(&fl), 0, "px_keeper_start: %s", strerror(errno));

	fd = px_keeper_map_fd(ids[0]);
	cr_assert_geq(fd, 0, "table id=%u: got %s, want an fd", ids[0], strerror(-fd));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0, "info: %s", strerror(errno));
	cr_expect_eq(info.id, ids[0], "fd's map: got id %u, want %u", info.id, ids[0]);
	rc = me_tab_map(fd, 0, &t);
	cr_expect_eq(rc, 0, "read-only mapping: got %s, want the table", strerror(-rc));
	if (!rc)
		me_tab_unmap(&t);
	close(fd);

	/* maps that exist but are no table of list sync's now, and no map */
	bogus[0] = pinned_id(me_map_name(ME_M_WHITE_HOST4));
	bogus[1] = pinned_id(me_map_name(ME_M_SYNC_HOST4));
	bogus[2] = 0x7ffffff0;
	for (i = 0; i < 3; i++) {
		fd = px_keeper_map_fd(bogus[i]);
		cr_expect_eq(fd, -EPERM, "map id=%u (%s): got %d, want -EPERM", bogus[i], what[i],
			     fd);
		if (fd >= 0)
			close(fd);
	}
	px_keeper_stop();
	fd = px_keeper_map_fd(ids[0]);
	cr_expect_eq(fd, -ENOTCONN, "after px_keeper_stop: got %d, want -ENOTCONN", fd);
}

/* As nobody, the tables cannot be opened by ID; through the keeper they are,
 * once per table (then from the cache, leaking nothing), and after a rebuild
 * the new tables are read, the replaced ones refused and let go. */
Test(keeper_tables, nobody_reads_through_keeper_and_follows_rebuild)
{
	static struct px_flags fl;
	char conf[16384], top[1024], why[512];
	__u32 old[NIDS], now[NIDS];
	struct me_edge *e;
	int rc, held, n0, n1, i;

	sync_setup(G2_A "\n");
	table_ids(old);
	cr_assert_eq(px_policy_edge_open(tenv_pin_dir(), why, sizeof(why)), 0, "edge: %s", why);
	e = px_policy_edge();

	/* the problem: no fd by ID without CAP_SYS_ADMIN */
	as_nobody();
	rc = synced_group(e, G2_A);
	as_root();
	cr_expect_eq(rc, -EPERM, "as nobody, no keeper: got %d, want -EPERM", rc);

	snprintf(top, sizeof(top), "%spin_dir = \"%s\";\n", TOP_DEFAULT, tenv_pin_dir());
	make_conf(conf, sizeof(conf), top, NULL, NULL, NULL);
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "writing %s", lab.conf);
	fl.config = lab.conf;
	cr_assert_eq(px_keeper_start(&fl), 0, "px_keeper_start: %s", strerror(errno));

	as_nobody();
	rc = synced_group(e, G2_A);
	as_root();
	cr_assert_eq(rc, 2, "as nobody, with the keeper: got %d, want group 2", rc);
	n0 = count_fds();
	as_nobody();
	for (i = 0; i < 50; i++) {
		rc = synced_group(e, G2_A);
		if (rc != 2)
			break;
	}
	as_root();
	cr_expect_eq(rc, 2, "read %d: got %d, want group 2", i, rc);
	n1 = count_fds();
	cr_expect_eq(n1, n0, "open fds after 50 more reads: got %d, want %d", n1, n0);

	/* hold the old host4 table: it exists, but is list sync's no more */
	held = px_keeper_map_fd(old[0]);
	cr_assert_geq(held, 0, "old table: got %s", strerror(-held));
	put_list(G2_B "\n");
	listsync("--force --rebuild");
	table_ids(now);
	for (i = 0; i < NIDS; i++)
		cr_assert(now[i] && !has_id(old, now[i]),
			  "after --rebuild, slot %d: got id %u, want a new table", i, now[i]);
	rc = px_keeper_map_fd(old[0]);
	cr_expect_eq(rc, -EPERM, "replaced table id=%u: got %d, want -EPERM", old[0], rc);
	if (rc >= 0)
		close(rc);

	as_nobody();
	rc = synced_group(e, G2_B);
	i = synced_group(e, G2_A);
	as_root();
	cr_expect_eq(rc, 2, G2_B " after the rebuild: got %d, want group 2", rc);
	cr_expect_eq(i, -1, G2_A " after the rebuild: got %d, want not listed", i);
	/* The cache let the old tables go at that miss: once this test's own
	 * fd is closed, nothing holds them. */
	close(held);
	for (i = 0; i < NIDS; i++)
		cr_expect(id_gone(old[i]), "replaced table id=%u: still open somewhere", old[i]);
	px_keeper_stop();
	px_policy_edge_close();
}

/* ---- the proxy ---- */

TestSuite(edgefd_proxy, .init = pxc_setup, .fini = teardown, .timeout = 60);

#define POOLS2                                                                                     \
	"{ name = \"one\"; members = ( \"127.0.0.1:@F0@\" ); " HEALTH " },"                        \
	"{ name = \"two\"; members = ( \"127.0.0.1:@F1@\" ); " HEALTH " }"
#define LISTEN_ONE "{ listen = \"127.0.0.1:@P0@\"; pool = \"one\"; }"

/* The proxy logged a classify line for this client with this group. */
static void want_classified(const char *client, const char *group)
{
	char needle[160], want[96];

	snprintf(needle, sizeof(needle), "client=%s:", client);
	snprintf(want, sizeof(want), "group=%s ", group);
	for (int tries = 0; tries < 50; tries++) {
		char *log = pl_read_file(lab.proxy_log), *p;
		int found = 0;

		for (p = log ? strstr(log, "classify ") : NULL; p && !found;
		     p = strstr(p + 1, "classify ")) {
			char *eol = strchr(p, '\n');

			if (eol)
				*eol = '\0';
			found = strstr(p, needle) && strstr(p, want);
			if (eol)
				*eol = '\n';
		}
		free(log);
		if (found)
			return;
		pl_sleep_ms(100);
	}
	cr_assert_fail("want a classify line for %s with group=%s; log:\n%s", client, group,
		       proxy_log());
}

static void mail_from(const char *src, const char *subject)
{
	struct pl_client c;
	char text[128];

	snprintf(text, sizeof(text), "Subject: %s\r\n\r\nfrom %s\r\n", subject, src);
	session(&c, src);
	deliver(&c, "alice@example.org", "bob@example.org", text);
	quit(&c);
}

Test(edgefd_proxy, synced_group_selects_pool_across_rebuild)
{
	char top[2048];
	__u32 old[NIDS], now[NIDS];
	int i;

	sync_setup(G2_A "\n");
	table_ids(old);
	fake(0, NULL);
	fake(1, NULL);
	snprintf(top, sizeof(top),
		 TOP_DEFAULT
		 "pin_dir = \"%s\";\n"
		 "policies = ( { name = \"SG2\"; pool = \"two\"; }, { name = \"DEF\"; } );\n"
		 "sender_groups = ( { name = \"G2\"; policy = \"SG2\"; edge = [ "
		 "\"group:2\" ]; },\n"
		 "  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		 tenv_pin_dir());
	start(top, NULL, LISTEN_ONE, POOLS2);
	cr_expect_eq(pl_log_wait(&lab, "running as nobody", 1, 100), 1,
		     "want the proxy to drop root; log:\n%s", proxy_log());

	mail_from(G2_A, "synced g2");
	mail_from(UNTRUSTED, "rest");
	want_classified(G2_A, "G2");
	want_classified(UNTRUSTED, "REST");

	/* list sync rebuilds its tables (new map IDs) with G2_B in place of G2_A */
	put_list(G2_B "\n");
	listsync("--force --rebuild");
	table_ids(now);
	for (i = 0; i < NIDS; i++)
		cr_assert(now[i] && !has_id(old, now[i]),
			  "after --rebuild, slot %d: got id %u, want a new table", i, now[i]);
	mail_from(G2_B, "synced g2 rebuilt");
	mail_from(G2_A, "no longer listed");
	want_classified(G2_B, "G2");
	want_classified(G2_A, "REST");
	/* the proxy's cache let the replaced tables go at that first miss */
	for (i = 0; i < NIDS; i++)
		cr_expect(id_gone(old[i]), "replaced table id=%u: still held", old[i]);

	cr_expect_eq(seen_count(1, "message", NULL, NULL), 2, "pool two: got %d, want 2",
		     seen_count(1, "message", NULL, NULL));
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 2, "pool one: got %d, want 2",
		     seen_count(0, "message", NULL, NULL));
	cr_expect_eq(pl_log_wait(&lab, "cannot judge clients", 1, 0), 0,
		     "want every client judged; log:\n%s", proxy_log());
	finish();
}
