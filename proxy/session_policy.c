// SPDX-License-Identifier: GPL-2.0
/*
 * session_policy.c - what the policy says about a sender and a recipient:
 * the dictionaries (dict.h), harvest prevention and recipients per hour
 * (harvest.h), and the edge ban that ends a harvest (policy.h).
 *
 * One function, session_policy_check, is consulted from the command table
 * (session_cmd.c) for MAIL and RCPT once the command is in sequence, before
 * its handler runs; one hook, session_policy_rcpt_reply, sees the backend's
 * answer to a RCPT. Nothing else in the session decides about addresses,
 * so the order of the checks below is the whole story:
 *
 *   RCPT: the client is over harvest_limit already (another session's
 *   invalid recipients count too) -> 550 5.7.1, then 421 and close;
 *   over recipients_per_hour -> 452 4.5.3 (not an error: it may come back);
 *   in recipient_dict -> its reply; a domain of relay_domains and not in
 *   valid_recipients -> 550 5.1.1 from the proxy, counted as invalid.
 *   MAIL: in sender_dict -> its reply.
 *
 * The counts are per client (IPv4 address, IPv6 /64) over a sliding hour in
 * the process-wide table, so a harvester cannot reset them by reconnecting
 * or by landing on another worker. An invalid recipient that takes a client
 * past harvest_limit ends the session at once (421 4.7.0, after that
 * recipient's own reply) and, with harvest_ban, bans it at the edge: its
 * next SYN is dropped by the XDP program before the proxy hears of it. The
 * ban is written once, when the limit is crossed; later sessions of a client
 * still over it are refused but not banned again, so an admin's unban holds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dict.h"
#include "edgeban.h"
#include "harvest.h"
#include "listfile.h"
#include "metrics.h"
#include "policy.h"
#include "session.h"
#include "str.h"
#include "worker.h"

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static struct px_harvest *table(const struct session *s)
{
	return s->w && s->w->srv ? s->w->srv->harvest : NULL;
}

static const struct sockaddr *peer(const struct session *s)
{
	return (const struct sockaddr *)&s->peer;
}

int px_reply_unknown_user(const char *text, size_t len)
{
	/* RFC 3463: X.1.1 bad destination mailbox address (Postfix "User
	 * unknown"), X.1.0 other address status; Exchange says 5.1.10
	 * (RESOLVER.ADR.RecipientNotFound). Only with 550, the code RFC 5321
	 * gives "mailbox unavailable": a 5.1.1 under 553 or 554 is a policy
	 * reply, not a directory answer. */
	static const char *const codes[] = { "5.1.1", "5.1.0", "5.1.10" };
	size_t i, n;

	if (len < 4 || memcmp(text, "550", 3) || (text[3] != ' ' && text[3] != '-'))
		return 0;
	text += 4;
	len -= 4;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		n = strlen(codes[i]);
		if (len >= n && !memcmp(text, codes[i], n) &&
		    (len == n || text[n] == ' ' || text[n] == '\r' || text[n] == '\n'))
			return 1;
	}
	return 0;
}

void session_ban(struct session *s, unsigned int secs, const char *reason)
{
	int rc = px_policy_ban(peer(s), secs, reason);

	/* A ban that already lasted long enough was not written again. */
	if (rc == ME_EDGEBAN_NEW || rc == ME_EDGEBAN_EXTENDED)
		atomic_fetch_add(&px_stats.edge_bans, 1);
	else if (rc < 0 && rc != -EPERM) /* a whitelisted client is no failure */
		atomic_fetch_add(&px_stats.edge_ban_errors, 1);
}

/* Over harvest_limit: the session ends, and, when ban is set (the client
 * has just gone past the limit), it is banned if its policy says so. A
 * client still over the limit in a later session is only stopped: an admin
 * who lifted the ban (mailedge-loader unban) is not overruled for the rest
 * of the hour. */
static void harvest_stop(struct session *s, long count, int ban)
{
	char n[24];

	if (s->dying || s->state == SS_CLOSING)
		return;
	snprintf(n, sizeof(n), "%ld", count);
	session_log(s, ME_LOG_INFO, "harvest", "invalid_rcpts", n);
	session_reply(s, "421 4.7.0 %s Error: too many invalid recipients", s->cfg->hostname);
	if (ban && s->lim.harvest_ban)
		session_ban(s, s->lim.harvest_ban, "harvest");
	session_close(s, "harvest");
}

/* One more invalid recipient for the client: past the limit, stop. */
static void note_invalid(struct session *s)
{
	long count;

	atomic_fetch_add(&px_stats.invalid_rcpts, 1);
	if (!s->lim.harvest_limit || !table(s))
		return;
	count = px_harvest_note(table(s), peer(s), PX_HV_INVALID, 1, mono_now());
	if (count > (long)s->lim.harvest_limit)
		harvest_stop(s, count, count == (long)s->lim.harvest_limit + 1);
}

static int check_mail(struct session *s, const struct sp_cmd *c)
{
	const struct px_dict *d = s->cfg->sender_dict;
	struct px_dict_hit hit;
	struct sp_path p;
	const char *why;

	/* A bad path is the handler's to answer; <> is never in a dictionary. */
	if (!d || sp_parse_path(c->arg, c->arg_len, 0, &p, &why) || p.null_path)
		return 0;
	if (!px_dict_lookup(d, p.addr, strlen(p.addr), &hit))
		return 0;
	session_reject(s, REJ_SENDER, "%s", hit.reply ? hit.reply : s->cfg->sender_dict_reply);
	return -1;
}

static int check_rcpt(struct session *s, const struct sp_cmd *c)
{
	const struct px_config *cfg = s->cfg;
	struct px_harvest *h = table(s);
	struct px_dict_hit hit;
	struct sp_path p;
	const char *why;
	long count;

	if (s->lim.harvest_limit && h &&
	    (count = px_harvest_count(h, peer(s), PX_HV_INVALID, mono_now())) >
		(long)s->lim.harvest_limit) {
		session_refuse(s, REJ_HARVEST, "550 5.7.1 Error: too many invalid recipients");
		harvest_stop(s, count, 0);
		return -1;
	}
	if (s->lim.recipients_per_hour && h &&
	    px_harvest_count(h, peer(s), PX_HV_RCPT, mono_now()) >=
		(long)s->lim.recipients_per_hour) {
		session_refuse(s, REJ_RATE,
			       "452 4.5.3 Error: too many recipients this hour, try again later");
		return -1;
	}
	if ((!cfg->recipient_dict && !cfg->valid_rcpt) ||
	    sp_parse_path(c->arg, c->arg_len, 1, &p, &why))
		return 0;
	me_strlcpy(s->cur_rcpt, p.addr, sizeof(s->cur_rcpt));
	if (cfg->recipient_dict &&
	    px_dict_lookup(cfg->recipient_dict, p.addr, strlen(p.addr), &hit)) {
		session_reject(s, REJ_RECIPIENT, "%s",
			       hit.reply ? hit.reply : cfg->recipient_dict_reply);
		return -1;
	}
	/* Only for the domains this proxy is the way in for: a relaying
	 * client's other recipients are someone else's to know. */
	if (cfg->valid_rcpt && p.domain[0] && px_relay_decide(s, &p) == PX_RELAY_LOCAL &&
	    !px_dict_lookup(cfg->valid_rcpt, p.addr, strlen(p.addr), &hit)) {
		char addr[140];

		me_escape(p.addr, strlen(p.addr), addr, sizeof(addr));
		/* Not an error of the session (no error delay: the 421 of a
		 * harvest must follow this reply at once); harvest_limit is
		 * what stops a guesser. */
		session_refuse(s, REJ_INVALID,
			       "550 5.1.1 <%.100s>: Recipient address rejected: User unknown",
			       addr);
		note_invalid(s);
		return -1;
	}
	return 0;
}

int session_policy_check(struct session *s, const struct sp_cmd *c)
{
	switch (c->verb) {
	case SP_MAIL:
		return check_mail(s, c);
	case SP_RCPT:
		return check_rcpt(s, c);
	default:
		return 0;
	}
}

void session_policy_rcpt_reply(struct session *s, const struct px_reply *r)
{
	if (r->code / 100 == 2) {
		if (s->lim.recipients_per_hour && table(s))
			px_harvest_note(table(s), peer(s), PX_HV_RCPT, 1, mono_now());
		return;
	}
	if (px_reply_unknown_user(r->text, r->len))
		note_invalid(s);
}
