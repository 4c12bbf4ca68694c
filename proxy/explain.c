// SPDX-License-Identifier: GPL-2.0
/*
 * explain.c - "mailedge-proxy explain ADDR": what the edge and the proxy would
 * do with a client at ADDR, and why.
 *
 * The edge part is mailedge-loader lookup's (the same me_verdict_judge, the
 * same lines and JSON, verdict_show.h); the proxy part gathers the facts a
 * session gathers at connect (the edge's entry, the verified name when a
 * group asks for it) and runs the same px_classify over the configuration on
 * disk. Nothing is cached and no session is opened: what it prints is what
 * the next connection from ADDR would meet, short of a map changing between.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ev.h>
#include <json-c/json.h>

#include "config.h"
#include "dns.h"
#include "dnsbl.h"
#include "explain.h"
#include "log.h"
#include "policy.h"
#include "verdict_show.h"

static const char usage[] =
    "usage: mailedge-proxy explain ADDR [-c FILE] [--pin-dir DIR] [--no-dns] [--json]\n"
    "\n"
    "Show what a client at ADDR (IPv4 or IPv6) meets: first at the edge (the XDP\n"
    "filter's verdict and the entry that decides it, as 'mailedge-loader lookup'\n"
    "prints it), then at the proxy: the facts a session gathers at connect (its\n"
    "entry at the edge; its forward-confirmed reverse name and its DNSBL score,\n"
    "when a sender group asks for them), the sender group that matches first and\n"
    "why, and what that group's policy does: accept, reject, refuse or ban, the\n"
    "pool, STARTTLS, relaying, the greet delay and the banner.\n"
    "\n"
    "  -c, --config FILE  the proxy's configuration (default\n"
    "                     /etc/mailedge/proxy.conf)\n"
    "  --pin-dir DIR      the edge maps (default: the configuration's pin_dir)\n"
    "  --no-dns           look up neither the reverse name (it then counts as\n"
    "                     unknown) nor the DNSBL score (0)\n"
    "  --json             one JSON object\n"
    "\n"
    "Exit status 0, or 2 if ADDR is not an address or the configuration is\n"
    "broken. Maps that cannot be read are reported, not an error: the proxy\n"
    "runs without them too.\n";

/* What a session asks the DNS at connect, asked here on a loop of its own
 * until every answer is in: the client's name, when a group wants it, and
 * its DNSBL score, when a group has a score range. */
struct dns_wait {
	struct px_rdns_result r;
	struct px_dnsbl_result score;
	int want_rdns, want_score, pending;
};

static void on_rdns(void *arg, const struct px_rdns_result *r)
{
	struct dns_wait *w = arg;

	w->r = *r;
	w->pending--;
}

static void on_score(void *arg, const struct px_dnsbl_result *r)
{
	struct dns_wait *w = arg;

	w->score = *r;
	w->pending--;
}

static int lookup_dns(const struct px_config *cfg, const struct sockaddr *sa, struct dns_wait *w,
		      char *why, size_t why_len)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct px_dnsbl *b = NULL;
	struct px_dns *d;
	int rc = 0;

	if (!loop) {
		snprintf(why, why_len, "no event loop");
		return -ENOMEM;
	}
	d = px_dns_new(loop, cfg->dns_servers, cfg->dns_timeout, cfg->dns_tries, why, why_len);
	if (!d) {
		ev_loop_destroy(loop);
		return -EIO;
	}
	if (w->want_rdns) {
		if (px_dns_reverse(d, sa, on_rdns, w))
			w->pending++;
		else
			w->want_rdns = 0;
	}
	if (w->want_score) {
		b = px_dnsbl_new(loop, 16);
		if (b && px_dnsbl_start(b, d, &cfg->dnsbl, sa, on_score, w))
			w->pending++;
		else
			w->want_score = 0;
	}
	if (!w->pending && (w->want_rdns || w->want_score)) {
		snprintf(why, why_len, "the lookups could not start");
		rc = -EIO;
	}
	while (w->pending > 0)
		ev_run(loop, EVRUN_ONCE);
	if (b)
		px_dnsbl_free(b);
	px_dns_free(d);
	ev_loop_destroy(loop);
	return rc;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static const char *starttls_text(int v)
{
	const char *n = px_starttls_name(v);

	return n ? n : "the listener's"; /* PX_POL_INHERIT */
}

static const char *relay_text(int v)
{
	return v == PX_POL_INHERIT ? "as relay_networks say" : v ? "yes" : "no";
}

static const char *rdns_text(const struct px_facts *f, int looked)
{
	if (!looked)
		return "not looked up";
	return px_rdns_name(f->rdns);
}

static void print_text(const struct px_facts *f, const struct px_class *c, int looked,
		       const struct px_rdns_result *rd, const char *score)
{
	const struct px_policy *p = c->policy;

	printf("%-9s %s%s%s\n", "rdns", rdns_text(f, looked),
	       looked && rd->reverse[0] ? ", PTR " : "", looked ? rd->reverse : "");
	printf("%-9s %d%s%s\n", "score", f->score, score[0] ? " " : "", score);
	if (!c->group) {
		printf("%-9s none (%s)\n", "group",
		       c->why[0] ? c->why : "no sender groups: served as the listener says");
		return;
	}
	printf("%-9s %s (%s)\n", "group", c->group->name, c->why);
	if (!p)
		return;
	printf("%-9s %s: %s", "policy", p->name, px_pol_action_name(p->action));
	if (p->action == PX_POL_REJECT)
		printf(" with '%s'", p->reject_reply);
	if (p->action == PX_POL_BAN)
		printf(" for %u s", p->ban_time);
	printf("\n");
	if (p->action != PX_POL_ACCEPT)
		return;
	printf("%-9s pool %s, STARTTLS %s, relay %s, greet delay %u ms%s%s\n", "",
	       p->pool_name[0] ? p->pool_name : "the listener's", starttls_text(p->starttls),
	       relay_text(p->relay), p->lim.greet_delay, p->banner[0] ? ", banner " : "",
	       p->banner);
}

static json_object *to_json(const struct px_facts *f, const struct px_class *c, int looked,
			    const struct px_rdns_result *rd, const char *score)
{
	json_object *o = json_object_new_object(), *po;
	const struct px_policy *p = c->policy;

	json_object_object_add(o, "rdns", json_object_new_string(rdns_text(f, looked)));
	json_object_object_add(o, "ptr", looked && rd->reverse[0]
						  ? json_object_new_string(rd->reverse)
						  : NULL);
	json_object_object_add(o, "name", looked && rd->status == PX_RDNS_OK
						   ? json_object_new_string(rd->name)
						   : NULL);
	json_object_object_add(o, "score", json_object_new_int(f->score));
	json_object_object_add(o, "dnsbl", score[0] ? json_object_new_string(score) : NULL);
	json_object_object_add(o, "group", c->group ? json_object_new_string(c->group->name) : NULL);
	json_object_object_add(o, "why", json_object_new_string(c->why));
	if (!p) {
		json_object_object_add(o, "policy", NULL);
		return o;
	}
	po = json_object_new_object();
	json_object_object_add(po, "name", json_object_new_string(p->name));
	json_object_object_add(po, "action", json_object_new_string(px_pol_action_name(p->action)));
	json_object_object_add(po, "reject_reply", p->action == PX_POL_REJECT
							 ? json_object_new_string(p->reject_reply)
							 : NULL);
	json_object_object_add(po, "ban_seconds",
			       p->action == PX_POL_BAN ? json_object_new_int64(p->ban_time) : NULL);
	json_object_object_add(po, "pool",
			       p->pool_name[0] ? json_object_new_string(p->pool_name) : NULL);
	json_object_object_add(po, "starttls", json_object_new_string(starttls_text(p->starttls)));
	json_object_object_add(po, "relay", json_object_new_string(relay_text(p->relay)));
	json_object_object_add(po, "greet_delay_ms", json_object_new_int64(p->lim.greet_delay));
	json_object_object_add(po, "banner", p->banner[0] ? json_object_new_string(p->banner) : NULL);
	json_object_object_add(o, "policy", po);
	return o;
}

int px_explain_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "no-dns", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct px_flags flags = { .workers = -1, .config = "/etc/mailedge/proxy.conf" };
	struct px_rdns_result rd = { 0 };
	struct dns_wait w = { 0 };
	char score[1024] = "";
	struct me_vquery q = { .syn = 1, .answerable = 1, .dport = 25 };
	struct me_vresult *r = NULL;
	struct sockaddr_storage ss;
	struct px_config *cfg;
	struct px_facts f;
	struct px_class c;
	json_object *o = NULL;
	char why[512], addr[ME_PREFIX_STRLEN];
	int opt, json = 0, no_dns = 0, looked = 0, edge_rc = -ENOENT;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			flags.config = optarg;
			break;
		case 'P':
			flags.pin_dir = optarg;
			break;
		case 'n':
			no_dns = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		log_err("explain takes one address (see 'mailedge-proxy explain --help')");
		return 2;
	}
	if (parse_addr(argv[optind], &ss)) {
		log_err("explain: '%.64s' is not an address", argv[optind]);
		return 2;
	}
	cfg = px_config_parse(&flags, NULL, why, sizeof(why));
	if (!cfg) {
		log_err("%s", why);
		return 2;
	}
	if (px_policy_edge_open(cfg->pin_dir, why, sizeof(why)))
		log_warn("explain: %s: the edge part is unknown", why);
	px_facts_init(&f, (struct sockaddr *)&ss);
	me_prefix_format(&f.addr, addr, sizeof(addr));
	r = calloc(1, sizeof(*r));
	if (r && px_policy_edge()) {
		q.src = f.addr;
		edge_rc = me_verdict_judge(px_policy_edge(), &q, r);
		if (edge_rc)
			log_warn("explain: cannot read the maps: %s", strerror(-edge_rc));
		else
			px_facts_edge_result(&f, r); /* the same judgement, not a second */
	}
	w.want_rdns = !no_dns && px_policy_needs_rdns(cfg);
	w.want_score = !no_dns && px_policy_needs_score(cfg);
	if (w.want_rdns || w.want_score) {
		if (lookup_dns(cfg, (struct sockaddr *)&ss, &w, why, sizeof(why)))
			log_warn("explain: DNS: %s", why);
		if (w.want_rdns) {
			looked = 1;
			rd = w.r;
			px_facts_rdns(&f, &rd);
		}
		if (w.want_score) {
			f.score = w.score.score;
			f.score_known = 1;
			px_dnsbl_format(&cfg->dnsbl, &w.score, score, sizeof(score));
		}
	}
	px_classify(cfg, &f, &c);

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(addr));
		json_object_object_add(o, "edge",
				       edge_rc ? NULL : me_vshow_json(px_policy_edge(), r, addr));
		json_object_object_add(o, "proxy", to_json(&f, &c, looked, &rd, score));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		if (edge_rc)
			printf("%-9s %s\n%-9s unknown (no maps read)\n", "address", addr, "verdict");
		else
			me_vshow_text(stdout, px_policy_edge(), r, addr);
		print_text(&f, &c, looked, &rd, score);
	}
	free(r);
	px_policy_edge_close();
	px_config_put(cfg);
	return 0;
}
