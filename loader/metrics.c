// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - "metrics": the edge filter's counters and state as Prometheus
 * text, for node exporter's textfile collector.
 *
 * The XDP program has no process to serve HTTP from, and a daemon that only
 * reads maps would be one more thing to run and harden; node exporter already
 * runs on most gateways and publishes *.prom files from a directory. So this
 * verb renders once, and a timer (loader/systemd/mailedge-edge-metrics.timer)
 * runs it with --output into that directory every 15 s; the file is replaced
 * atomically, so a scrape never reads half of it. A file that stops changing
 * is visible as mailedge_edge_metrics_timestamp_seconds falling behind (and
 * node exporter's own node_textfile_mtime_seconds).
 *
 * Label values are the names status and the logs already use: reasons and
 * verdicts from counters.c (black-host, drop...), list and source names from
 * lists.c and the sources map, map names from edge.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cli.h"
#include "counters.h"
#include "links.h"
#include "lists.h"
#include "log.h"
#include "mapfill.h"
#include "promtext.h"
#include "threshold_view.h"

static const char metrics_usage[] =
    "usage: mailedge-loader metrics [--output FILE]\n"
    "\n"
    "Print the edge filter's counters and state in the Prometheus text format, or\n"
    "with --output replace FILE with them atomically (a temporary file in the same\n"
    "directory, then rename), for node exporter's textfile collector:\n"
    "\n"
    "  mailedge-loader metrics --output \\\n"
    "      /var/lib/prometheus/node-exporter/mailedge-edge.prom\n"
    "\n"
    "mailedge-edge-metrics.timer does that every 15 seconds.\n"
    "\n"
    "Series (all prefixed mailedge_edge_):\n"
    "  packets_total, bytes_total{reason,verdict}   every frame, once; reasons and\n"
    "                          verdicts as status shows them (black-host, drop...)\n"
    "  list_hits_total, list_hit_bytes_total{source,list}\n"
    "                          frames a list entry or ban decided, per source\n"
    "                          (manual, threshold, proxy, or a list-sync source,\n"
    "                          which also has list=white|black)\n"
    "  map_entries{map,list,family,kind}, map_capacity{...}\n"
    "                          entries per map; capacity only for maps whose\n"
    "                          capacity is fixed (kind manual or state), since\n"
    "                          list sync sizes its maps (kind synced) to content\n"
    "  bans_active             sources banned by the threshold right now\n"
    "  threshold_rate, threshold_ban_seconds   settings (0 = off)\n"
    "  events_total{event}     rate_sources_added, bans_added, ...\n"
    "  interface_attached{interface,ifindex,netns,link,mode}   1 per attached\n"
    "                          interface, 0 for a pinned link whose interface is\n"
    "                          gone (interface is empty when its namespace has no\n"
    "                          name under /var/run/netns)\n"
    "  sync_source_entries, sync_source_last_success_timestamp_seconds,\n"
    "  sync_source_stale, sync_source_consecutive_failures{source,list}\n"
    "                          list-sync sources as the last run left them\n"
    "  maps_pinned             1, or 0 when nothing is pinned at the pin directory\n"
    "                          (then only this and the timestamp are written)\n"
    "  metrics_timestamp_seconds   when this was written\n"
    "\n"
    "  -o, --output FILE   write FILE atomically instead of standard output\n";

struct render_ctx {
	struct cli *c;
	struct me_edge *e; /* NULL: nothing pinned */
	time_t now;
	int rc; /* first -EINVAL from the writer: a bug, reported */
};

static void check(struct render_ctx *r, int rc)
{
	if (rc && !r->rc)
		r->rc = rc;
}

static void family(struct render_ctx *r, FILE *f, const char *name, const char *type,
		   const char *help)
{
	check(r, prom_family(f, name, type, help));
}

static void u64(struct render_ctx *r, FILE *f, const char *name, const struct prom_label *l,
		size_t nl, __u64 v)
{
	check(r, prom_sample_u64(f, name, l, nl, v));
}

static void verdicts(struct render_ctx *r, FILE *f)
{
	struct me_counter ctr[ME_STAT_MAX];
	int k;

	for (k = 0; k < ME_STAT_MAX; k++)
		if (me_counter_read(r->e->fd[ME_M_STATS], (__u32)k, &ctr[k]))
			ctr[k].packets = ctr[k].bytes = 0;
	family(r, f, "mailedge_edge_packets_total", "counter",
	       "Frames judged by the XDP edge filter, by reason and verdict.");
	for (k = 0; k < ME_STAT_MAX; k++) {
		struct prom_label l[] = {
			{ "reason", me_reason_name((enum me_reason)(k / ME_V_MAX)) },
			{ "verdict", me_verdict_name((enum me_verdict)(k % ME_V_MAX)) },
		};

		u64(r, f, "mailedge_edge_packets_total", l, 2, ctr[k].packets);
	}
	family(r, f, "mailedge_edge_bytes_total", "counter",
	       "Bytes of the frames judged by the XDP edge filter, by reason and verdict.");
	for (k = 0; k < ME_STAT_MAX; k++) {
		struct prom_label l[] = {
			{ "reason", me_reason_name((enum me_reason)(k / ME_V_MAX)) },
			{ "verdict", me_verdict_name((enum me_verdict)(k % ME_V_MAX)) },
		};

		u64(r, f, "mailedge_edge_bytes_total", l, 2, ctr[k].bytes);
	}
}

/* Sources whose hits are shown even at zero: the fixed ones, and list-sync
 * sources of the last run. Others only when they have hits (a source that was
 * removed from the configuration but still has counts). */
static int source_listed(struct me_edge *e, __u32 id, struct me_src_status *st)
{
	memset(st, 0, sizeof(*st));
	if (id < ME_SRC_SYNC_FIRST)
		return id <= ME_SRC_PROXY;
	return !bpf_map_lookup_elem(e->fd[ME_M_SOURCES], &id, st) && st->in_use;
}

static void list_hits(struct render_ctx *r, FILE *f)
{
	static struct me_counter ctr[ME_SRC_MAX];
	static int shown[ME_SRC_MAX];
	static char names[ME_SRC_MAX][40];
	static const char *lists[ME_SRC_MAX];
	struct me_src_status st;
	__u32 id;
	int pass;

	for (id = 0; id < ME_SRC_MAX; id++) {
		if (me_counter_read(r->e->fd[ME_M_LIST_HITS], id, &ctr[id]))
			ctr[id].packets = ctr[id].bytes = 0;
		shown[id] = source_listed(r->e, id, &st) || ctr[id].packets;
		me_src_name(r->e, (__u8)id, names[id], sizeof(names[id]));
		lists[id] = id >= ME_SRC_SYNC_FIRST && st.in_use ? me_list_name(st.list) : NULL;
	}
	for (pass = 0; pass < 2; pass++) {
		const char *name =
		    pass ? "mailedge_edge_list_hit_bytes_total" : "mailedge_edge_list_hits_total";

		family(r, f, name, "counter",
		       pass
			   ? "Bytes of the frames whose verdict a list entry or ban decided, by "
			     "source."
			   : "Frames whose verdict a list entry or ban decided, by source (manual, "
			     "threshold, proxy, or a list-sync source, which also has its list).");
		for (id = 0; id < ME_SRC_MAX; id++) {
			struct prom_label l[] = { { "source", names[id] }, { "list", lists[id] } };

			if (shown[id])
				u64(r, f, name, l, 2, pass ? ctr[id].bytes : ctr[id].packets);
		}
	}
}

static void maps(struct render_ctx *r, FILE *f)
{
	struct mapfill m[MAPFILL_MAX];
	int i, n = mapfill_read(r->e, m);

	family(r, f, "mailedge_edge_map_entries", "gauge",
	       "Entries in each map of the edge filter (kind manual, synced or state).");
	for (i = 0; i < n; i++) {
		struct prom_label l[] = { { "map", m[i].name },
					  { "list", m[i].list },
					  { "family", m[i].family },
					  { "kind", mapfill_kind_name(m[i].kind) } };

		u64(r, f, "mailedge_edge_map_entries", l, 4, m[i].entries);
	}
	family(r, f, "mailedge_edge_map_capacity", "gauge",
	       "Capacity of each map whose capacity is fixed at attach time (list-sync maps are "
	       "sized to their content and have none).");
	for (i = 0; i < n; i++) {
		struct prom_label l[] = { { "map", m[i].name },
					  { "list", m[i].list },
					  { "family", m[i].family },
					  { "kind", mapfill_kind_name(m[i].kind) } };

		if (m[i].kind != MF_SYNCED && m[i].capacity)
			u64(r, f, "mailedge_edge_map_capacity", l, 4, m[i].capacity);
	}
}

static void threshold(struct render_ctx *r, FILE *f)
{
	struct me_config cfg = { 0 };
	struct thr_state s;
	__u32 zero = 0;
	int i;

	threshold_read_state(r->e, &s);
	bpf_map_lookup_elem(r->e->fd[ME_M_CONFIG], &zero, &cfg);
	family(r, f, "mailedge_edge_bans_active", "gauge",
	       "Sources banned by the connection threshold whose ban has not ended.");
	u64(r, f, "mailedge_edge_bans_active", NULL, 0, s.banned);
	family(r, f, "mailedge_edge_threshold_rate", "gauge",
	       "New connections per second allowed per source; 0 when the threshold is off.");
	u64(r, f, "mailedge_edge_threshold_rate", NULL, 0, cfg.thr_rate);
	family(r, f, "mailedge_edge_threshold_ban_seconds", "gauge",
	       "How long a source over the threshold is banned; 0 when it is not.");
	u64(r, f, "mailedge_edge_threshold_ban_seconds", NULL, 0, cfg.thr_ban_secs);
	family(r, f, "mailedge_edge_events_total", "counter",
	       "Events of the edge filter that are not verdicts.");
	for (i = 0; i < ME_EV_MAX; i++) {
		struct prom_label l[] = { { "event", me_event_name((enum me_event)i) } };
		__u64 v = 0;

		me_event_read(r->e->fd[ME_M_EVENTS], (__u32)i, &v);
		u64(r, f, "mailedge_edge_events_total", l, 1, v);
	}
}

struct link_ctx {
	struct render_ctx *r;
	FILE *f;
};

static int one_link(void *ctx, const struct me_link *l)
{
	struct link_ctx *lc = ctx;
	const char *base = strrchr(l->pin, '/');
	char ifindex[16], netns[32];
	struct prom_label lb[] = {
		{ "interface", l->ifname },
		{ "ifindex", ifindex },
		{ "netns", l->ns_name[0] ? l->ns_name : netns },
		{ "link", base ? base + 1 : l->pin },
		{ "mode", l->ifindex ? link_mode_name(l->mode) : "none" },
	};

	snprintf(ifindex, sizeof(ifindex), "%d", l->ifindex);
	/* A namespace without a name under /var/run/netns (the host's, most
	 * often) is known by its inode, as "ls -iL /proc/self/ns/net" shows it. */
	snprintf(netns, sizeof(netns), "%llu", (unsigned long long)l->netns);
	u64(lc->r, lc->f, "mailedge_edge_interface_attached", lb, 5, l->ifindex ? 1 : 0);
	return 0;
}

static void interfaces(struct render_ctx *r, FILE *f)
{
	struct link_ctx lc = { r, f };

	family(r, f, "mailedge_edge_interface_attached", "gauge",
	       "1 for each interface the filter is attached to (with its namespace and XDP "
	       "mode), 0 for a pinned link whose interface is gone.");
	links_walk(r->c->pin_dir, one_link, &lc);
}

static void sources(struct render_ctx *r, FILE *f)
{
	static const struct {
		const char *name, *help;
	} fam[4] = {
		{ "mailedge_edge_sync_source_entries",
		  "Entries list sync loaded from the source." },
		{ "mailedge_edge_sync_source_last_success_timestamp_seconds",
		  "Unix time of the source's last good fetch (or not-modified); 0 if never." },
		{ "mailedge_edge_sync_source_stale",
		  "1 when the source's data is older than its stale_after." },
		{ "mailedge_edge_sync_source_consecutive_failures",
		  "Failed fetches of the source since its last good one." },
	};
	struct me_src_status st;
	int k;

	for (k = 0; k < 4; k++) {
		__u32 id;

		family(r, f, fam[k].name, "gauge", fam[k].help);
		for (id = ME_SRC_SYNC_FIRST; id < ME_SRC_MAX; id++) {
			char name[sizeof(st.name) + 1];
			struct prom_label l[] = { { "source", name }, { "list", NULL } };
			__u64 v;

			if (bpf_map_lookup_elem(r->e->fd[ME_M_SOURCES], &id, &st) || !st.in_use)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)sizeof(st.name), st.name);
			l[1].value = me_list_name(st.list);
			v = k == 0   ? st.entries
			    : k == 1 ? st.last_ok
			    : k == 2
				? (__u64)me_sync_stale((__u64)r->now, st.last_ok, st.stale_after)
				: st.failures;
			u64(r, f, fam[k].name, l, 2, v);
		}
	}
}

static int render(FILE *f, void *ctx)
{
	struct render_ctx *r = ctx;

	family(r, f, "mailedge_edge_maps_pinned", "gauge",
	       "1 when the edge filter's maps are pinned at the pin directory.");
	u64(r, f, "mailedge_edge_maps_pinned", NULL, 0, r->e ? 1 : 0);
	family(r, f, "mailedge_edge_metrics_timestamp_seconds", "gauge",
	       "Unix time at which mailedge-loader metrics wrote these numbers.");
	u64(r, f, "mailedge_edge_metrics_timestamp_seconds", NULL, 0, (__u64)r->now);
	if (r->e) {
		verdicts(r, f);
		list_hits(r, f);
		maps(r, f);
		threshold(r, f);
		interfaces(r, f);
		sources(r, f);
	}
	return r->rc;
}

int cmd_metrics(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct render_ctx r = { .c = c, .now = time(NULL) };
	const char *output = NULL;
	struct me_edge e;
	int opt, rc, opened = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (opt == 'o') {
			output = optarg;
			continue;
		}
		if (opt != 'h')
			return cli_bad_option(argv);
		fputs(metrics_usage, stdout);
		return EXIT_OK;
	}
	if (optind != argc)
		return cli_fail("metrics takes only options");
	if (output && !*output)
		return cli_fail("--output: empty file name");
	/* No pin directory yet (before the first attach at boot) is a state to
	 * report, not an error: the file must still be replaced, or the last
	 * numbers would stay up as if nothing had changed. */
	if (access(c->pin_dir, F_OK) == 0 || errno != ENOENT) {
		if (cli_open(c, &e, 0))
			return EXIT_FAIL;
		opened = 1;
		r.e = &e;
	}
	if (output) {
		rc = prom_write_file(output, render, &r);
	} else {
		rc = render(stdout, &r);
		if (fflush(stdout) && !rc)
			rc = -errno;
	}
	if (opened)
		me_edge_close(&e);
	if (rc)
		return cli_fail("metrics%s%s: %s", output ? " to " : "", output ? output : "",
				strerror(-rc));
	return EXIT_OK;
}
