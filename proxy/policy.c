// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c - classifying a client into a sender group (see policy.h), and the
 * edge maps that classification reads.
 *
 * The order of the checks inside a group does not change the answer (a group
 * matches when any of its criteria does); it only decides which criterion
 * the log names. Cheap ones come first.
 *
 * The edge maps are opened once, by the main thread while it is still root
 * (bpf_obj_get on the pins needs it), and then only read by the workers:
 * me_verdict_judge only looks up elements, which needs no lock, and maps list
 * sync's tables through one process-wide cache (common/synccache.h), flushed
 * when the maps are closed. A reload keeps them: the pin directory is a
 * start-time setting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "edge.h"
#include "edgeban.h"
#include "log.h"
#include "policy.h"
#include "synccache.h"
#include "verdict.h"

static struct me_edge edge;
static int edge_open;

const char *px_pol_action_name(enum px_pol_action a)
{
	switch (a) {
	case PX_POL_ACCEPT:
		return "accept";
	case PX_POL_REJECT:
		return "reject";
	case PX_POL_REFUSE:
		return "refuse";
	case PX_POL_BAN:
		return "ban";
	}
	return "?";
}

void px_facts_init(struct px_facts *f, const struct sockaddr *peer)
{
	memset(f, 0, sizeof(*f));
	f->edge_list = -1;
	f->rdns = PX_RDNS_PENDING;
	f->score_known = 1; /* no DNSBL configured: score 0 */
	if (peer->sa_family == AF_INET) {
		f->addr.family = AF_INET;
		f->addr.len = 32;
		memcpy(f->addr.addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		return;
	}
	if (peer->sa_family != AF_INET6)
		return;
	f->addr.family = AF_INET6;
	f->addr.len = 128;
	memcpy(f->addr.addr, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	/* The XDP program sees a v4-mapped client as IPv4, and so do the lists. */
	if (IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)peer)->sin6_addr)) {
		f->addr.family = AF_INET;
		f->addr.len = 32;
		memmove(f->addr.addr, f->addr.addr + 12, 4);
		memset(f->addr.addr + 4, 0, 12);
	}
}

void px_facts_edge_result(struct px_facts *f, const struct me_vresult *r)
{
	f->edge_known = 1;
	f->edge_list = -1;
	if (r->winner >= 0) {
		const struct me_vmatch *m = &r->m[r->winner];

		f->edge_list = m->rec.list;
		f->edge_action = m->rec.val.action;
		f->edge_group = m->rec.val.group;
	}
}

int px_facts_edge(struct px_facts *f, struct me_edge *e)
{
	/* Classification needs the winner only: no walk of list sync's
	 * subnets, and no steps after the first live entry. */
	struct me_vquery q = { .src = f->addr, .winner_only = 1 };
	struct me_vresult *r;
	int rc;

	if (!e)
		return -ENOENT;
	/* A result holds 64 matches: too big for a worker's stack frame habits. */
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = me_verdict_judge(e, &q, r);
	if (!rc)
		px_facts_edge_result(f, r);
	free(r);
	return rc;
}

void px_facts_rdns(struct px_facts *f, const struct px_rdns_result *r)
{
	f->rdns = r->status;
	f->has_ptr = r->reverse[0] != '\0';
	f->name[0] = '\0';
	if (r->status == PX_RDNS_OK)
		snprintf(f->name, sizeof(f->name), "%s", r->name);
}

/* "mx.example.org" matches itself; ".example.org" its subdomains. Case and a
 * final dot do not count. */
static int host_match(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern), nl = strlen(name);

	if (nl && name[nl - 1] == '.')
		nl--;
	if (pl && pattern[pl - 1] == '.')
		pl--;
	if (!nl || !pl)
		return 0;
	if (pattern[0] == '.')
		return nl > pl && !strncasecmp(name + nl - pl, pattern, pl);
	return nl == pl && !strncasecmp(name, pattern, pl);
}

static unsigned int rdns_bit(const struct px_facts *f)
{
	switch (f->rdns) {
	case PX_RDNS_OK:
		return PX_RD_VERIFIED;
	case PX_RDNS_UNKNOWN:
		return f->has_ptr ? PX_RD_UNVERIFIED : PX_RD_NONE;
	case PX_RDNS_TEMPFAIL:
		return PX_RD_TEMPFAIL;
	case PX_RDNS_PENDING:
		break;
	}
	return 0;
}

/* The words of the configuration (rdns = [ ... ]). */
static const char *rdns_word(unsigned int bit)
{
	switch (bit) {
	case PX_RD_VERIFIED:
		return "verified";
	case PX_RD_UNVERIFIED:
		return "unverified";
	case PX_RD_NONE:
		return "none";
	case PX_RD_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

static int edge_match(const struct px_sender_group *g, const struct px_facts *f, char *why,
		      size_t len)
{
	int i;

	if (!f->edge_known || f->edge_list < 0)
		return 0;
	if ((g->edge & PX_EDGE_LISTED)) {
		snprintf(why, len, "edge listed");
		return 1;
	}
	if ((g->edge & PX_EDGE_WHITE) && f->edge_list == ME_LIST_WHITE) {
		snprintf(why, len, "edge whitelist");
		return 1;
	}
	if ((g->edge & PX_EDGE_BLACK) && f->edge_list == ME_LIST_BLACK) {
		snprintf(why, len, "edge blacklist");
		return 1;
	}
	if ((g->edge & PX_EDGE_PASS) && f->edge_action == ME_ACT_PASS) {
		snprintf(why, len, "edge action pass");
		return 1;
	}
	if (f->edge_action != ME_ACT_GROUP)
		return 0;
	for (i = 0; i < g->nedge_groups; i++)
		if (g->edge_group[i] == f->edge_group) {
			snprintf(why, len, "edge group:%u", f->edge_group);
			return 1;
		}
	return 0;
}

static int group_match(const struct px_sender_group *g, const struct px_facts *f, char *why,
		       size_t len)
{
	char pfx[ME_PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < g->nnets; i++)
		if (me_prefix_contains(&g->nets[i], &f->addr)) {
			me_prefix_format(&g->nets[i], pfx, sizeof(pfx));
			snprintf(why, len, "network %s", pfx);
			return 1;
		}
	if (edge_match(g, f, why, len))
		return 1;
	if (g->rdns & rdns_bit(f)) {
		snprintf(why, len, "rdns %s", rdns_word(rdns_bit(f)));
		return 1;
	}
	if (f->rdns == PX_RDNS_OK)
		for (i = 0; i < g->nhosts; i++)
			if (host_match(g->hosts[i], f->name)) {
				snprintf(why, len, "host %.100s", g->hosts[i]);
				return 1;
			}
	if (g->has_score && f->score_known && f->score >= g->score_min &&
	    f->score <= g->score_max) {
		snprintf(why, len, "score %d in %d..%d", f->score, g->score_min, g->score_max);
		return 1;
	}
	return 0;
}

void px_classify(const struct px_config *c, const struct px_facts *f, struct px_class *out)
{
	const struct px_sender_group *def = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->ngroups; i++) {
		const struct px_sender_group *g = &c->groups[i];

		if (g->is_default) {
			def = g;
			continue;
		}
		if (group_match(g, f, out->why, sizeof(out->why))) {
			out->group = g;
			out->policy = g->policy;
			return;
		}
	}
	if (def) {
		out->group = def;
		out->policy = def->policy;
		snprintf(out->why, sizeof(out->why), "default");
		return;
	}
	snprintf(out->why, sizeof(out->why), c->ngroups ? "no group matched" : "no groups");
}

int px_policy_needs_rdns(const struct px_config *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].rdns || c->groups[i].nhosts)
			return 1;
	return 0;
}

int px_policy_needs_edge(const struct px_config *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].edge || c->groups[i].nedge_groups)
			return 1;
	return 0;
}

int px_policy_needs_ban(const struct px_config *c)
{
	size_t i;

	if (c->lim.harvest_ban)
		return 1;
	for (i = 0; i < c->npolicies; i++)
		if (c->policies[i].action == PX_POL_BAN || c->policies[i].lim.harvest_ban)
			return 1;
	return 0;
}

int px_policy_needs_score(const struct px_config *c)
{
	size_t i;

	if (!c->dnsbl.nsites)
		return 0;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].has_score)
			return 1;
	return 0;
}

int px_policy_ban(const struct sockaddr *peer, unsigned int secs, const char *reason)
{
	struct me_edge *e = px_policy_edge();
	char who[64], pfx_text[ME_PREFIX_STRLEN] = "-";
	const char *result;
	struct me_prefix pfx;
	struct px_facts f;
	__u32 until = 0;
	int rc;

	px_format_addr(peer, who, sizeof(who));
	px_facts_init(&f, peer);
	if (!e) {
		rc = -ENOENT;
		result = "no-edge-maps";
		goto out;
	}
	/* The admin's whitelist wins at the edge, and here: a whitelisted
	 * client is never banned, whatever it did. */
	rc = px_facts_edge(&f, e);
	if (!rc && f.edge_list == ME_LIST_WHITE) {
		rc = -EPERM;
		result = "whitelisted";
		goto out;
	}
	rc = me_edgeban_add(e, &f.addr, secs, PX_BAN_LOCK_MS, &until, &pfx);
	if (rc >= 0)
		me_prefix_format(&pfx, pfx_text, sizeof(pfx_text));
	result = rc == ME_EDGEBAN_NEW	     ? "banned"
		 : rc == ME_EDGEBAN_EXTENDED ? "extended"
		 : rc == ME_EDGEBAN_KEPT     ? "kept"
		 : rc == -EEXIST	     ? "admin-entry"
					     : strerror(-rc);
out:
	log_info("ban: client=%s seconds=%u reason=%s prefix=%s result=%s", who, secs,
		 reason ? reason : "policy", pfx_text, result);
	return rc;
}

int px_policy_edge_open(const char *pin_dir, char *why, size_t why_len)
{
	const char *what = pin_dir;
	int rc;

	if (edge_open)
		return 0;
	me_edge_init(&edge);
	rc = me_edge_open(&edge, pin_dir, &what);
	if (!rc) {
		edge_open = 1;
		return 0;
	}
	if (!me_edge_open_why(rc, pin_dir, why, why_len)) {
		if (rc == -ENOENT)
			snprintf(why, why_len, "no maps pinned at %s (%s)", pin_dir,
				 what ? what : pin_dir);
		else
			snprintf(why, why_len, "cannot open the maps at %s (%s): %s", pin_dir,
				 what ? what : pin_dir, strerror(-rc));
	}
	me_edge_close(&edge);
	return rc;
}

struct me_edge *px_policy_edge(void)
{
	return edge_open ? &edge : NULL;
}

void px_policy_edge_close(void)
{
	me_synccache_flush();
	if (edge_open)
		me_edge_close(&edge);
	edge_open = 0;
}
