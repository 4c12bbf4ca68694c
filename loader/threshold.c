// SPDX-License-Identifier: GPL-2.0
/*
 * threshold.c - "threshold set|show|off": the per-source connection limit.
 *
 * The settings live in the pinned config map and take effect on the next packet;
 * nothing is reloaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <bpf/bpf.h>

#include "cli.h"
#include "counters.h"
#include "edgeban.h"
#include "lists.h"
#include "log.h"
#include "threshold_view.h"
#include "verdict.h"

static const char threshold_usage[] =
	"usage: mailedge-loader threshold set [--rate N] [--burst N] [--ports P,P,...]\n"
	"                                     [--ban SECONDS] [--v4-prefix N]\n"
	"                                     [--v6-prefix N]\n"
	"       mailedge-loader threshold show [--json]\n"
	"       mailedge-loader threshold off\n"
	"       mailedge-loader threshold bans [--json]\n"
	"       mailedge-loader threshold unban ADDR   (or: mailedge-loader unban ADDR)\n"
	"\n"
	"Limit new TCP connections (SYN without ACK) to the protected ports, per\n"
	"source, at the driver. A source may open --burst connections at once and\n"
	"--rate per second after that; SYNs over the limit are dropped, and with\n"
	"--ban the source is dropped entirely for that many seconds. Whitelisted\n"
	"sources are never limited. Off until set.\n"
	"\n"
	"  --rate N        connections per second per source (1-1000000)\n"
	"  --burst N       connections a quiet source may open at once (default: rate)\n"
	"  --ports LIST    protected destination ports (default 25,465,587)\n"
	"  --ban SECONDS   ban sources over the limit (0 = no ban, the default)\n"
	"  --v4-prefix N   count IPv4 sources per /N (8-32, default 32)\n"
	"  --v6-prefix N   count IPv6 sources per /N (32-128, default 64: one host\n"
	"                  usually owns a /64 and could rotate through it)\n"
	"\n"
	"'bans' lists the sources banned now: the prefix the source is counted\n"
	"under (--v4-prefix/--v6-prefix), the seconds left and when the ban ends\n"
	"(UTC), soonest first. 'unban ADDR' lifts the ban on the prefix that ADDR\n"
	"is counted under and forgets its connection count, so its next SYN is the\n"
	"first of a fresh burst. It also lifts the proxy's temporary ban on ADDR\n"
	"(harvest prevention: ADDR's /32, or its /64 for IPv6; see 'list --help'),\n"
	"and fails only if ADDR has neither ban. 'off' lifts every threshold ban;\n"
	"the proxy's bans stay.\n";

enum { OPT_RATE = 256, OPT_BURST, OPT_PORTS, OPT_BAN, OPT_V4, OPT_V6 };

int threshold_parse_ports(const char *s, struct me_ports *p)
{
	char buf[1024], *tok, *save = NULL;
	__u32 port;
	int n = 0;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	memset(p, 0, sizeof(*p));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cli_u32(tok, 1, 65535, &port))
			return -1;
		p->bits[port >> 3] |= (__u8)(1 << (port & 7));
		n++;
	}
	return n ? 0 : -1;
}

static int thr_set(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "burst", required_argument, NULL, OPT_BURST },
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "ban", required_argument, NULL, OPT_BAN },
		{ "v4-prefix", required_argument, NULL, OPT_V4 },
		{ "v6-prefix", required_argument, NULL, OPT_V6 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct me_config cfg;
	struct me_ports ports;
	int have_ports = 0, have_burst = 0, changed = 0, opt, rc = EXIT_OK;
	struct me_edge e;
	__u32 v, zero = 0;
	struct me_config want = { 0 };
	int set[OPT_V6 + 1] = { 0 };

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_RATE:
			if (cli_u32(optarg, 1, 1000000, &v))
				return cli_fail("--rate: '%s' is not 1-1000000 per second", optarg);
			want.thr_rate = v;
			break;
		case OPT_BURST:
			if (cli_u32(optarg, 1, 1000000, &v))
				return cli_fail("--burst: '%s' is not 1-1000000", optarg);
			want.thr_burst = v;
			have_burst = 1;
			break;
		case OPT_PORTS:
			if (threshold_parse_ports(optarg, &ports))
				return cli_fail("--ports: '%s' is not a comma-separated list of "
						"ports 1-65535",
						optarg);
			have_ports = 1;
			break;
		case OPT_BAN:
			if (cli_u32(optarg, 0, 604800, &v))
				return cli_fail("--ban: '%s' is not 0-604800 seconds", optarg);
			want.thr_ban_secs = v;
			break;
		case OPT_V4:
			if (cli_u32(optarg, 8, 32, &v))
				return cli_fail("--v4-prefix: '%s' is not 8-32", optarg);
			want.thr_v4_prefix = v;
			break;
		case OPT_V6:
			if (cli_u32(optarg, 32, 128, &v))
				return cli_fail("--v6-prefix: '%s' is not 32-128", optarg);
			want.thr_v6_prefix = v;
			break;
		case 'h':
			fputs(threshold_usage, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option(argv);
		}
		set[opt] = 1;
		changed = 1;
	}
	if (optind != argc)
		return cli_fail("threshold set takes only options (see threshold --help)");
	if (!changed)
		return cli_fail("threshold set needs at least one option (see threshold --help)");

	if (cli_open(c, &e, 1))
		return EXIT_FAIL;
	if (bpf_map_lookup_elem(e.fd[ME_M_CONFIG], &zero, &cfg)) {
		rc = cli_fail("cannot read the configuration: %s", strerror(errno));
		goto out;
	}
	if (set[OPT_RATE]) {
		cfg.thr_rate = want.thr_rate;
		if (!have_burst)
			cfg.thr_burst = want.thr_rate;
	}
	if (have_burst)
		cfg.thr_burst = want.thr_burst;
	if (set[OPT_BAN])
		cfg.thr_ban_secs = want.thr_ban_secs;
	if (set[OPT_V4])
		cfg.thr_v4_prefix = want.thr_v4_prefix;
	if (set[OPT_V6])
		cfg.thr_v6_prefix = want.thr_v6_prefix;
	if (!cfg.thr_rate && cfg.thr_ban_secs) {
		rc = cli_fail("--ban needs a --rate: sources are banned for exceeding it");
		goto out;
	}
	/* Ports first: a new rate must never apply to the old port set. */
	if (have_ports && bpf_map_update_elem(e.fd[ME_M_PORTS], &zero, &ports, BPF_ANY)) {
		rc = cli_fail("cannot write the ports: %s", strerror(errno));
		goto out;
	}
	if (bpf_map_update_elem(e.fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY)) {
		rc = cli_fail("cannot write the configuration: %s", strerror(errno));
		goto out;
	}
	threshold_print_summary(&e, stdout);
	threshold_autosave(c, &e);
out:
	me_edge_close(&e);
	return rc;
}

/* The read-only views: settings and state, or the bans. */
struct thr_view {
	const char *verb;
	json_object *(*json)(struct me_edge *e);
	int (*text)(struct me_edge *e, FILE *f); /* 0, or -errno */
	const char *what;			  /* for "cannot read the ..." */
};

static int show_text(struct me_edge *e, FILE *f)
{
	threshold_print_summary(e, f);
	threshold_print_state(e, f);
	return 0;
}

static int bans_text(struct me_edge *e, FILE *f)
{
	int n = threshold_print_bans(e, f);

	return n < 0 ? n : 0;
}

static const struct thr_view view_show = { "show", threshold_json, show_text, "threshold" };
static const struct thr_view view_bans = { "bans", threshold_bans_json, bans_text, "bans" };

static int thr_view(struct cli *c, int argc, char **argv, const struct thr_view *v)
{
	struct me_edge e;
	int json, done, rc, err;

	rc = cli_json_opts(c, argc, argv, threshold_usage, &json, &done);
	if (rc || done)
		return rc;
	if (optind != argc)
		return cli_fail("threshold %s takes no arguments", v->verb);
	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	if (json) {
		json_object *o = v->json(&e);

		if (!o)
			rc = cli_fail("cannot read the %s: %s", v->what, strerror(errno));
		else
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if ((err = v->text(&e, stdout))) {
		rc = cli_fail("cannot read the %s: %s", v->what, strerror(-err));
	}
	me_edge_close(&e);
	return rc;
}

static int drop_all(void *ctx, const void *key, const void *val)
{
	(void)val;
	bpf_map_delete_elem(*(int *)ctx, key);
	return 0;
}

static int thr_off(struct cli *c, int argc)
{
	struct me_config cfg;
	struct me_edge e;
	__u32 zero = 0;
	int rc = EXIT_OK;

	if (argc != 1)
		return cli_fail("threshold off takes no arguments");
	if (cli_open(c, &e, 1))
		return EXIT_FAIL;
	if (bpf_map_lookup_elem(e.fd[ME_M_CONFIG], &zero, &cfg)) {
		rc = cli_fail("cannot read the configuration: %s", strerror(errno));
		goto out;
	}
	cfg.thr_rate = 0;
	cfg.thr_ban_secs = 0;
	if (bpf_map_update_elem(e.fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY)) {
		rc = cli_fail("cannot write the configuration: %s", strerror(errno));
		goto out;
	}
	/* Lifting the limit lifts its bans too. */
	me_map_walk(e.fd[ME_M_BANS], drop_all, &e.fd[ME_M_BANS]);
	printf("connection threshold off; bans lifted\n");
	threshold_autosave(c, &e);
out:
	me_edge_close(&e);
	return rc;
}

/* "unban ADDR" and "threshold unban ADDR": the threshold's ban and the proxy's. */
static int thr_unban(struct cli *c, int argc, char **argv)
{
	char text[ME_PREFIX_STRLEN + 4], ptext[ME_PREFIX_STRLEN + 4];
	struct me_prefix p, addr, pp;
	int lifted;
	struct me_config cfg;
	struct me_src_key k;
	struct me_edge e;
	unsigned int plen;
	__u64 until;
	__u32 zero = 0;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(threshold_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 2)
		return cli_fail("unban takes one address (see 'mailedge-loader threshold --help')");
	rc = me_prefix_parse(argv[1], &p, 0);
	if (rc)
		return cli_fail("unban: '%.64s' is not an address: %s", argv[1],
				me_addr_strerror(rc));
	addr = p;
	if (cli_open(c, &e, 1))
		return EXIT_FAIL;
	rc = EXIT_OK;
	if (bpf_map_lookup_elem(e.fd[ME_M_CONFIG], &zero, &cfg)) {
		rc = cli_fail("cannot read the configuration: %s", strerror(errno));
		goto out;
	}
	/* A prefix names the counted prefix its address falls in, as listed. */
	p.len = me_prefix_maxlen(p.family);
	me_verdict_src_key(&p, &cfg, &k, &plen);
	p.len = plen;
	me_prefix_mask(&p);
	me_prefix_format(&p, text, sizeof(text));
	if (me_prefix_is_host(&p)) /* name the counted prefix, as "threshold bans" does */
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%u", p.len);
	/* The proxy's ban first: it needs the address as given, not the
	 * threshold's counted prefix. The pin-directory lock is held already. */
	lifted = me_edgeban_lift(&e, &addr, LOCK_TIMEOUT_MS, &pp);
	if (lifted < 0) {
		rc = cli_fail("unban: cannot lift the proxy's ban on %.64s: %s", argv[1],
			      strerror(-lifted));
		goto out;
	}
	if (lifted) {
		me_prefix_format(&pp, ptext, sizeof(ptext));
		if (me_prefix_is_host(&pp))
			snprintf(ptext + strlen(ptext), sizeof(ptext) - strlen(ptext), "/%u",
				 pp.len);
		printf("proxy ban on %s lifted\n", ptext);
	}
	if (bpf_map_lookup_elem(e.fd[ME_M_BANS], &k, &until) || until <= me_boot_ns()) {
		if (!lifted)
			rc = cli_fail("unban: %.64s is not banned (counted as %s; see "
				      "'mailedge-loader threshold bans' and 'mailedge-loader list "
				      "show --source proxy')",
				      argv[1], text);
		goto out;
	}
	if (bpf_map_delete_elem(e.fd[ME_M_BANS], &k) && errno != ENOENT) {
		rc = cli_fail("unban: cannot delete the ban on %s: %s", text, strerror(errno));
		goto out;
	}
	/* Its count too: a source still over the rate would be banned again by
	 * its next SYN. */
	bpf_map_delete_elem(e.fd[ME_M_RATES], &k);
	printf("ban on %s lifted\n", text);
out:
	me_edge_close(&e);
	return rc;
}

int cmd_unban(struct cli *c, int argc, char **argv)
{
	return thr_unban(c, argc, argv);
}

int cmd_threshold(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(threshold_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FAIL : EXIT_OK;
	}
	if (!strcmp(argv[1], "set"))
		return thr_set(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return thr_view(c, argc - 1, argv + 1, &view_show);
	if (!strcmp(argv[1], "off"))
		return thr_off(c, argc - 1);
	if (!strcmp(argv[1], "bans"))
		return thr_view(c, argc - 1, argv + 1, &view_bans);
	if (!strcmp(argv[1], "unban"))
		return thr_unban(c, argc - 1, argv + 1);
	return cli_fail("unknown threshold verb '%s': use set, show, off, bans or unban", argv[1]);
}
