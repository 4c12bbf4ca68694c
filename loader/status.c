// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - "status" and "watch": what is attached, how full the maps are,
 * and what the filter has done.
 *
 * watch redraws one table in place, like top, when standard output is a
 * terminal (cursor home, each line erased to its end, the rest of the screen
 * cleared: no flicker and no scrolling), and prints one line per interval
 * otherwise, so that "watch | tee log" and scripts still get plain text.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <bpf/bpf.h>

#include "cli.h"
#include "counters.h"
#include "edgeban.h"
#include "links.h"
#include "lists.h"
#include "log.h"
#include "mapfill.h"
#include "threshold_view.h"

static const char status_usage[] =
	"usage: mailedge-loader status [--json]\n"
	"       mailedge-loader watch [--interval SECONDS] [--count N]\n"
	"\n"
	"status: attached interfaces and their mode and program, map fill levels\n"
	"against capacity, the connection threshold, and packet counters per reason\n"
	"and verdict and per list, and the proxy's temporary bans (harvest\n"
	"prevention) in the admin's blacklist maps: how many are live and when the\n"
	"first one ends ('list show --source proxy' lists them).\n"
	"List-sync maps (sync_*) show their entry count only: list sync sizes each one\n"
	"to what it loads, so a fill level would always read 100%.\n"
	"\n"
	"watch: packets and bytes per second per reason and verdict, and hits per\n"
	"second per list source, every interval (default 1 s) until interrupted, or N\n"
	"times. On a terminal the table is redrawn in place; otherwise one line per\n"
	"interval.\n"
	"\n"
	"  --json               (status) JSON output\n"
	"  -i, --interval SECONDS   (watch) seconds between updates, 1-3600\n"
	"  -n, --count N            (watch) stop after N updates\n";

/* ---- gathering ---- */

struct link_list {
	struct me_link v[64];
	int n;
};

static int collect_link(void *ctx, const struct me_link *l)
{
	struct link_list *ll = ctx;

	if (ll->n < (int)(sizeof(ll->v) / sizeof(ll->v[0])))
		ll->v[ll->n++] = *l;
	return 0;
}

static void when_format(__u64 t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(buf, len, "never");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* The list-sync sources, as mailedge-listsync left them. */
static void print_sources(struct me_edge *e)
{
	struct me_src_status st;
	__u64 now = (__u64)time(NULL);
	char when[32];
	__u32 id;
	int any = 0;

	for (id = ME_SRC_SYNC_FIRST; id < ME_SRC_MAX; id++) {
		if (bpf_map_lookup_elem(e->fd[ME_M_SOURCES], &id, &st) || !st.in_use)
			continue;
		if (!any++)
			printf("\n%-20s %-5s %9s %-12s %-16s %8s %4s  %s\n", "SYNC SOURCE", "LIST",
			       "ENTRIES", "LAST RUN", "LAST SUCCESS", "AGE", "FAIL", "LAST ERROR");
		when_format(st.last_ok, when, sizeof(when));
		printf("%-20.32s %-5s %9u %-12s %-16s %7llus %4u  %s%.160s\n", st.name,
		       me_list_name(st.list), st.entries, me_sync_outcome_name(st.last_outcome),
		       when, (unsigned long long)(st.last_ok ? now - st.last_ok : 0), st.failures,
		       me_sync_stale(now, st.last_ok, st.stale_after) ? "STALE " : "",
		       st.last_error);
	}
}

static json_object *sources_json(struct me_edge *e)
{
	json_object *arr = json_object_new_array();
	struct me_src_status st;
	__u64 now = (__u64)time(NULL);
	char buf[200];
	__u32 id;

	for (id = ME_SRC_SYNC_FIRST; id < ME_SRC_MAX; id++) {
		json_object *o;

		if (bpf_map_lookup_elem(e->fd[ME_M_SOURCES], &id, &st) || !st.in_use)
			continue;
		o = json_object_new_object();
		snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(st.name), st.name);
		json_object_object_add(o, "name", json_object_new_string(buf));
		json_object_object_add(o, "id", json_object_new_int((int)id));
		json_object_object_add(o, "list", json_object_new_string(me_list_name(st.list)));
		snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(st.format), st.format);
		json_object_object_add(o, "format", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(st.url), st.url);
		json_object_object_add(o, "url", json_object_new_string(buf));
		json_object_object_add(o, "entries", json_object_new_int64(st.entries));
		json_object_object_add(
		    o, "last_result",
		    json_object_new_string(me_sync_outcome_name(st.last_outcome)));
		json_object_object_add(o, "last_success", json_object_new_int64((int64_t)st.last_ok));
		json_object_object_add(o, "last_attempt", json_object_new_int64((int64_t)st.last_try));
		json_object_object_add(o, "age_seconds",
				       st.last_ok ? json_object_new_int64((int64_t)(now - st.last_ok))
						  : NULL);
		json_object_object_add(
		    o, "stale",
		    json_object_new_boolean(me_sync_stale(now, st.last_ok, st.stale_after)));
		json_object_object_add(o, "failures", json_object_new_int64(st.failures));
		snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(st.last_error), st.last_error);
		json_object_object_add(o, "last_error", json_object_new_string(buf));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* ---- the proxy's bans ---- */

/* They live in the admin's maps (edgeban.h), so the MAP table counts them
 * among the manual entries; this says how many of those are the proxy's. */
static void print_proxy_bans(struct me_edge *e)
{
	__u64 live = 0;
	__u32 soonest = 0, now = me_boot_seconds();

	if (me_edgeban_count(e, &live, &soonest)) {
		printf("proxy bans:      unreadable\n");
		return;
	}
	if (!live)
		printf("proxy bans:      none\n");
	else
		printf("proxy bans:      %llu (the first ends in %us; list show --source proxy)\n",
		       (unsigned long long)live, soonest > now ? soonest - now : 0);
}

static json_object *proxy_bans_json(struct me_edge *e)
{
	json_object *o = json_object_new_object();
	__u64 live = 0;
	__u32 soonest = 0, now = me_boot_seconds();

	if (me_edgeban_count(e, &live, &soonest)) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "live", json_object_new_int64((int64_t)live));
	json_object_object_add(o, "first_ends_in",
			       live ? json_object_new_int64(soonest > now ? soonest - now : 0)
				    : NULL);
	return o;
}

/* ---- text ---- */

static void print_text(struct cli *c, struct me_edge *e)
{
	struct mapfill f[MAPFILL_MAX];
	struct link_list ll = { .n = 0 };
	struct me_counter ctr;
	char src[40];
	int i, n, r, v, any;

	links_walk(c->pin_dir, collect_link, &ll);
	printf("pin directory: %s\n", c->pin_dir);
	if (!ll.n)
		printf("interfaces:    none attached\n");
	for (i = 0; i < ll.n; i++) {
		const struct me_link *l = &ll.v[i];
		char where[96];

		if (!l->ifindex)
			printf("interface:     gone (stale link %s; any attach or detach removes it)\n",
			       l->pin);
		else if (l->here)
			printf("interface:     %s (ifindex %d), %s mode, program id %u, link id %u\n",
			       l->ifname, l->ifindex, link_mode_name(l->mode), l->prog_id,
			       l->link_id);
		else
			printf("interface:     %s (ifindex %d in %s), %s mode, program id %u, link "
			       "id %u\n",
			       l->ifname[0] ? l->ifname : "?", l->ifindex,
			       link_where(l, where, sizeof(where)), link_mode_name(l->mode),
			       l->prog_id, l->link_id);
	}

	printf("\n%-18s %12s %12s %6s\n", "MAP", "ENTRIES", "CAPACITY", "FULL");
	n = mapfill_read(e, f);
	for (i = 0; i < n; i++) {
		if (f[i].kind == MF_STATE) /* shown with the threshold below */
			continue;
		if (f[i].kind == MF_SYNCED)
			printf("%-18s %12llu %12s %6s\n", f[i].name,
			       (unsigned long long)f[i].entries, "synced", "-");
		else if (!f[i].capacity)
			printf("%-18s %12s %12s %6s\n", f[i].name, "-", "-", "-");
		else
			printf("%-18s %12llu %12u %5.1f%%\n", f[i].name,
			       (unsigned long long)f[i].entries, f[i].capacity,
			       100.0 * (double)f[i].entries / f[i].capacity);
	}
	printf("(synced maps are sized by list sync to what they hold: no fill level)\n");

	printf("\n");
	threshold_print_summary(e, stdout);
	threshold_print_state(e, stdout);
	print_proxy_bans(e);

	printf("\n%-12s %-7s %16s %18s\n", "REASON", "VERDICT", "PACKETS", "BYTES");
	for (r = 0; r < ME_R_MAX; r++)
		for (v = 0; v < ME_V_MAX; v++) {
			if (me_counter_read(e->fd[ME_M_STATS], ME_STAT_KEY(r, v), &ctr) ||
			    !ctr.packets)
				continue;
			printf("%-12s %-7s %16llu %18llu\n", me_reason_name((enum me_reason)r),
			       me_verdict_name((enum me_verdict)v),
			       (unsigned long long)ctr.packets, (unsigned long long)ctr.bytes);
		}

	any = 0;
	for (i = 0; i < ME_SRC_MAX; i++) {
		if (me_counter_read(e->fd[ME_M_LIST_HITS], (__u32)i, &ctr) || !ctr.packets)
			continue;
		if (!any++)
			printf("\n%-20s %16s %18s\n", "LIST", "HITS", "BYTES");
		me_src_name(e, (__u8)i, src, sizeof(src));
		printf("%-20s %16llu %18llu\n", src, (unsigned long long)ctr.packets,
		       (unsigned long long)ctr.bytes);
	}
	print_sources(e);

	any = 0;
	for (i = 0; i < ME_EV_MAX; i++) {
		__u64 val;

		if (me_event_read(e->fd[ME_M_EVENTS], (__u32)i, &val) || !val)
			continue;
		if (!any++)
			printf("\n");
		printf("%-22s %llu\n", me_event_name((enum me_event)i), (unsigned long long)val);
	}
}

/* ---- JSON ---- */

static json_object *u64_obj(__u64 v)
{
	return json_object_new_int64((int64_t)v);
}

static void print_json(struct cli *c, struct me_edge *e)
{
	json_object *root = json_object_new_object();
	json_object *ifs = json_object_new_array();
	json_object *maps = json_object_new_object();
	json_object *verdicts = json_object_new_array();
	json_object *lists = json_object_new_array();
	json_object *events = json_object_new_object();
	struct mapfill f[MAPFILL_MAX];
	struct link_list ll = { .n = 0 };
	struct me_counter ctr;
	char src[40];
	int i, n, r, v;

	links_walk(c->pin_dir, collect_link, &ll);
	for (i = 0; i < ll.n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", ll.v[i].ifindex
							  ? json_object_new_string(ll.v[i].ifname)
							  : NULL);
		json_object_object_add(o, "ifindex", json_object_new_int(ll.v[i].ifindex));
		json_object_object_add(o, "mode",
				       json_object_new_string(link_mode_name(ll.v[i].mode)));
		json_object_object_add(o, "prog_id", u64_obj(ll.v[i].prog_id));
		json_object_object_add(o, "link_id", u64_obj(ll.v[i].link_id));
		json_object_array_add(ifs, o);
	}
	n = mapfill_read(e, f);
	for (i = 0; i < n; i++) {
		json_object *o;

		if (f[i].kind == MF_STATE)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "entries", u64_obj(f[i].entries));
		/* A synced map's capacity is its content: no capacity to report. */
		json_object_object_add(o, "capacity",
				       f[i].kind == MF_SYNCED ? NULL : u64_obj(f[i].capacity));
		json_object_object_add(o, "synced", json_object_new_boolean(f[i].kind == MF_SYNCED));
		json_object_object_add(maps, f[i].name, o);
	}
	for (r = 0; r < ME_R_MAX; r++)
		for (v = 0; v < ME_V_MAX; v++) {
			json_object *o;

			if (me_counter_read(e->fd[ME_M_STATS], ME_STAT_KEY(r, v), &ctr))
				continue;
			o = json_object_new_object();
			json_object_object_add(
				o, "reason", json_object_new_string(me_reason_name((enum me_reason)r)));
			json_object_object_add(
				o, "verdict",
				json_object_new_string(me_verdict_name((enum me_verdict)v)));
			json_object_object_add(o, "packets", u64_obj(ctr.packets));
			json_object_object_add(o, "bytes", u64_obj(ctr.bytes));
			json_object_array_add(verdicts, o);
		}
	for (i = 0; i < ME_SRC_MAX; i++) {
		json_object *o;

		if (me_counter_read(e->fd[ME_M_LIST_HITS], (__u32)i, &ctr) || !ctr.packets)
			continue;
		o = json_object_new_object();
		me_src_name(e, (__u8)i, src, sizeof(src));
		json_object_object_add(o, "source", json_object_new_string(src));
		json_object_object_add(o, "id", json_object_new_int(i));
		json_object_object_add(o, "hits", u64_obj(ctr.packets));
		json_object_object_add(o, "bytes", u64_obj(ctr.bytes));
		json_object_array_add(lists, o);
	}
	for (i = 0; i < ME_EV_MAX; i++) {
		__u64 val = 0;

		me_event_read(e->fd[ME_M_EVENTS], (__u32)i, &val);
		json_object_object_add(events, me_event_name((enum me_event)i), u64_obj(val));
	}
	json_object_object_add(root, "pin_dir", json_object_new_string(c->pin_dir));
	json_object_object_add(root, "interfaces", ifs);
	json_object_object_add(root, "maps", maps);
	json_object_object_add(root, "threshold", threshold_json(e));
	json_object_object_add(root, "proxy_bans", proxy_bans_json(e));
	json_object_object_add(root, "verdicts", verdicts);
	json_object_object_add(root, "lists", lists);
	json_object_object_add(root, "events", events);
	json_object_object_add(root, "sources", sources_json(e));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	struct me_edge e;
	int json, done, rc;

	rc = cli_json_opts(c, argc, argv, status_usage, &json, &done);
	if (rc || done)
		return rc;
	if (optind != argc)
		return cli_fail("status takes no arguments");
	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	if (json)
		print_json(c, &e);
	else
		print_text(c, &e);
	me_edge_close(&e);
	return EXIT_OK;
}

/* ---- watch ---- */

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

/* One snapshot of every counter watch shows. */
struct snap {
	struct me_counter stats[ME_STAT_MAX];
	struct me_counter hits[ME_SRC_MAX];
	double t; /* CLOCK_MONOTONIC seconds */
};

static void snap_read(struct me_edge *e, struct snap *s)
{
	__u32 k;

	for (k = 0; k < ME_STAT_MAX; k++)
		if (me_counter_read(e->fd[ME_M_STATS], k, &s->stats[k]))
			s->stats[k].packets = s->stats[k].bytes = 0;
	for (k = 0; k < ME_SRC_MAX; k++)
		if (me_counter_read(e->fd[ME_M_LIST_HITS], k, &s->hits[k]))
			s->hits[k].packets = s->hits[k].bytes = 0;
	s->t = me_mono_seconds();
}

static double per_sec(__u64 now, __u64 before, double dt)
{
	/* A counter only goes back when the maps were recreated: show 0. */
	return now >= before && dt > 0 ? (double)(now - before) / dt : 0.0;
}

/* 1234567 -> "1.2M": rates in a column of fixed width. */
static const char *human(double v, char *buf, size_t len)
{
	static const char units[] = " kMGT";
	int u = 0;

	while (v >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* The list of a list-sync source, for the SOURCE table; "-" for the others
 * (manual entries of both lists, bans). */
static const char *src_list(struct me_edge *e, __u32 id)
{
	struct me_src_status st;

	if (id < ME_SRC_SYNC_FIRST || bpf_map_lookup_elem(e->fd[ME_M_SOURCES], &id, &st) ||
	    !st.in_use)
		return "-";
	return me_list_name(st.list);
}

/* Lines end in "erase to end of line" so that a shorter line overwrites a
 * longer one from the previous frame. */
#define EOL "\033[K\n"

static void watch_frame(struct cli *c, struct me_edge *e, const struct snap *a,
			const struct snap *b, __u32 interval)
{
	double dt = b->t - a->t;
	char ts[16], h1[16], h2[16], name[40];
	time_t now = time(NULL);
	int k, any = 0;

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	printf("\033[H"); /* cursor home; the frame overwrites the last one */
	printf("mailedge-loader watch   %s   every %us   %s   (Ctrl-C to quit)" EOL, ts, interval,
	       c->pin_dir);
	printf(EOL "%-12s %-7s %10s %10s %16s" EOL, "REASON", "VERDICT", "PKTS/S", "BYTES/S",
	       "PACKETS");
	for (k = 0; k < ME_STAT_MAX; k++) {
		if (!b->stats[k].packets)
			continue;
		any = 1;
		printf("%-12s %-7s %10s %10s %16llu" EOL,
		       me_reason_name((enum me_reason)(k / ME_V_MAX)),
		       me_verdict_name((enum me_verdict)(k % ME_V_MAX)),
		       human(per_sec(b->stats[k].packets, a->stats[k].packets, dt), h1, sizeof(h1)),
		       human(per_sec(b->stats[k].bytes, a->stats[k].bytes, dt), h2, sizeof(h2)),
		       (unsigned long long)b->stats[k].packets);
	}
	if (!any)
		printf("(no packets yet)" EOL);
	printf(EOL "%-20s %-5s %10s %10s %16s" EOL, "SOURCE", "LIST", "HITS/S", "BYTES/S", "HITS");
	any = 0;
	for (k = 0; k < ME_SRC_MAX; k++) {
		if (!b->hits[k].packets)
			continue;
		any = 1;
		me_src_name(e, (__u8)k, name, sizeof(name));
		printf("%-20s %-5s %10s %10s %16llu" EOL, name, src_list(e, (__u32)k),
		       human(per_sec(b->hits[k].packets, a->hits[k].packets, dt), h1, sizeof(h1)),
		       human(per_sec(b->hits[k].bytes, a->hits[k].bytes, dt), h2, sizeof(h2)),
		       (unsigned long long)b->hits[k].packets);
	}
	if (!any)
		printf("(no list hits yet)" EOL);
	printf("\033[J"); /* clear what is left of a longer previous frame */
	fflush(stdout);
}

/* Not a terminal: one line per interval with what changed. */
static void watch_line(struct me_edge *e, const struct snap *a, const struct snap *b)
{
	double dt = b->t - a->t;
	char ts[16], name[40];
	time_t now = time(NULL);
	int k;

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	printf("%s", ts);
	for (k = 0; k < ME_STAT_MAX; k++)
		if (b->stats[k].packets != a->stats[k].packets)
			printf("  %s/%s %.0f pps", me_reason_name((enum me_reason)(k / ME_V_MAX)),
			       me_verdict_name((enum me_verdict)(k % ME_V_MAX)),
			       per_sec(b->stats[k].packets, a->stats[k].packets, dt));
	for (k = 0; k < ME_SRC_MAX; k++)
		if (b->hits[k].packets != a->hits[k].packets) {
			me_src_name(e, (__u8)k, name, sizeof(name));
			printf("  list:%s %.0f pps", name,
			       per_sec(b->hits[k].packets, a->hits[k].packets, dt));
		}
	printf("\n");
	fflush(stdout);
}

int cmd_watch(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "interval", required_argument, NULL, 'i' },
					      { "count", required_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static struct snap snaps[2]; /* ~10 KB: not on the stack */
	__u32 interval = 1, count = 0, round;
	struct me_edge e;
	int opt, tty, cur = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "hi:n:", opts, NULL)) != -1) {
		if (opt == 'i' && !cli_u32(optarg, 1, 3600, &interval))
			continue;
		if (opt == 'n' && !cli_u32(optarg, 1, 1000000, &count))
			continue;
		if (opt == 'i' || opt == 'n')
			return cli_fail("--%s: '%s' is not a positive number",
					opt == 'i' ? "interval" : "count", optarg);
		if (opt != 'h')
			return cli_bad_option(argv);
		fputs(status_usage, stdout);
		return EXIT_OK;
	}
	if (optind != argc)
		return cli_fail("watch takes only options");
	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	tty = isatty(STDOUT_FILENO);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snap_read(&e, &snaps[cur]);
	if (tty) {
		printf("\033[2J"); /* start on a clean screen */
		watch_frame(c, &e, &snaps[cur], &snaps[cur], interval);
	}
	for (round = 0; !watch_stop && (!count || round < count); round++) {
		sleep(interval);
		if (watch_stop)
			break;
		snap_read(&e, &snaps[!cur]);
		if (tty)
			watch_frame(c, &e, &snaps[cur], &snaps[!cur], interval);
		else
			watch_line(&e, &snaps[cur], &snaps[!cur]);
		cur = !cur;
	}
	me_edge_close(&e);
	return EXIT_OK;
}
