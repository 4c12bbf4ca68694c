// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - "status" and "watch": what is attached, how full the maps are,
 * and what the filter has done.
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
#include "links.h"
#include "lists.h"
#include "log.h"
#include "threshold_view.h"

static const char status_usage[] =
	"usage: mailedge-loader status [--json]\n"
	"       mailedge-loader watch [--interval SECONDS] [--count N]\n"
	"\n"
	"status: attached interfaces and their mode and program, map fill levels\n"
	"against capacity, the connection threshold, and packet counters per reason\n"
	"and verdict and per list.\n"
	"watch: packets per second per reason and verdict, every interval (default 1)\n"
	"until interrupted, or N times.\n";

/* ---- gathering ---- */

struct map_fill {
	const char *name;
	__u64 entries;
	__u32 capacity;
};

#define FILL_MAX (ME_M_BLACK_NET6 + 1 + 8)

static int fill_maps(struct me_edge *e, struct map_fill *f)
{
	struct me_config cfg = { 0 };
	static const char *const sync_names[8] = {
		"sync_white_host4", "sync_white_host6", "sync_white_net4", "sync_white_net6",
		"sync_black_host4", "sync_black_host6", "sync_black_net4", "sync_black_net6",
	};
	__u32 zero = 0;
	int i, n = 0;

	for (i = ME_M_WHITE_HOST4; i <= ME_M_BLACK_NET6; i++, n++) {
		f[n].name = me_map_name((enum me_map_id)i);
		f[n].capacity = me_map_capacity(e->fd[i]);
		me_map_count(e->fd[i], &f[n].entries);
	}
	bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg);
	for (i = 0; i < 8; i++, n++) {
		int list = i < 4 ? ME_LIST_WHITE : ME_LIST_BLACK;
		int fam = (i & 1) ? 10 : 2, net = (i & 2) != 0;
		int fd = me_sync_inner_fd(e, me_sync_map(fam, net),
					  ME_SYNC_SLOT(cfg.sync_gen & 1, list));

		f[n].name = sync_names[i];
		f[n].entries = 0;
		f[n].capacity = 0;
		if (fd >= 0) {
			f[n].capacity = me_map_capacity(fd);
			me_map_count(fd, &f[n].entries);
			close(fd);
		}
	}
	return n;
}

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

/* ---- text ---- */

static void print_text(struct cli *c, struct me_edge *e)
{
	struct map_fill f[FILL_MAX];
	struct link_list ll = { .n = 0 };
	struct me_counter ctr;
	char src[40];
	int i, n, r, v, any;

	links_walk(c->pin_dir, collect_link, &ll);
	printf("pin directory: %s\n", c->pin_dir);
	if (!ll.n)
		printf("interfaces:    none attached\n");
	for (i = 0; i < ll.n; i++) {
		if (ll.v[i].ifindex)
			printf("interface:     %s (ifindex %d), %s mode, program id %u, link id %u\n",
			       ll.v[i].ifname, ll.v[i].ifindex, link_mode_name(ll.v[i].mode),
			       ll.v[i].prog_id, ll.v[i].link_id);
		else
			printf("interface:     gone (stale link %s; any attach or detach removes it)\n",
			       ll.v[i].pin);
	}

	printf("\n%-18s %12s %12s %6s\n", "MAP", "ENTRIES", "CAPACITY", "FULL");
	n = fill_maps(e, f);
	for (i = 0; i < n; i++) {
		if (!f[i].capacity) {
			printf("%-18s %12s %12s %6s\n", f[i].name, "-", "-", "-");
			continue;
		}
		printf("%-18s %12llu %12u %5.1f%%\n", f[i].name, (unsigned long long)f[i].entries,
		       f[i].capacity, 100.0 * (double)f[i].entries / f[i].capacity);
	}

	printf("\n");
	threshold_print_summary(e, stdout);
	threshold_print_state(e, stdout);

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
	struct map_fill f[FILL_MAX];
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
	n = fill_maps(e, f);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "entries", u64_obj(f[i].entries));
		json_object_object_add(o, "capacity", u64_obj(f[i].capacity));
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
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct me_edge e;
	int opt, json = c->json;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		if (opt == 'j') {
			json = 1;
			continue;
		}
		if (opt != 'h')
			return cli_bad_option(argv);
		fputs(status_usage, stdout);
		return EXIT_OK;
	}
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

int cmd_watch(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "interval", required_argument, NULL, 'i' },
					      { "count", required_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct me_counter prev[ME_STAT_MAX], cur;
	__u32 interval = 1, count = 0, round;
	struct me_edge e;
	int opt, k;

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
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (k = 0; k < ME_STAT_MAX; k++)
		me_counter_read(e.fd[ME_M_STATS], (__u32)k, &prev[k]);
	for (round = 0; !watch_stop && (!count || round < count); round++) {
		time_t now;
		char ts[16];

		sleep(interval);
		if (watch_stop)
			break;
		now = time(NULL);
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
		printf("%s", ts);
		for (k = 0; k < ME_STAT_MAX; k++) {
			if (me_counter_read(e.fd[ME_M_STATS], (__u32)k, &cur))
				continue;
			if (cur.packets != prev[k].packets)
				printf("  %s/%s %.0f pps", me_reason_name((enum me_reason)(k / ME_V_MAX)),
				       me_verdict_name((enum me_verdict)(k % ME_V_MAX)),
				       (double)(cur.packets - prev[k].packets) / interval);
			prev[k] = cur;
		}
		printf("\n");
		fflush(stdout);
	}
	me_edge_close(&e);
	return EXIT_OK;
}
