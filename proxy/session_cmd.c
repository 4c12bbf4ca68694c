// SPDX-License-Identifier: GPL-2.0
/*
 * session_cmd.c - what each SMTP command does.
 *
 * One table, one row per verb, is the one place the sequence rules live:
 * {verb, allowed states, needs TLS, check, proceed}. The states in which it
 * is allowed (and what it hears elsewhere), whether it needs TLS for a client
 * that must use it (its listener's starttls, or its sender group's
 * policy's), a check of whether the command is there at all for this client
 * (offered here, not done yet, well-formed, within a limit), and the function
 * that carries it out. session_command applies TLS, check, states, then the
 * policy (session_policy.c: dictionaries, harvest prevention, recipients per
 * hour, for a command in sequence) before any handler runs, so handlers never
 * look at the state to decide whether they may run, nor at the policy.
 * Waiting for the backend is the backend's to say (bk.waiting, backend.c):
 * handlers only call it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listfile.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "session.h"
#include "str.h"

#define ST(x)	    (1u << (x))
#define BEFORE_HELO ST(SS_GREETED)
#define AFTER_HELO  (ST(SS_READY) | ST(SS_MAIL) | ST(SS_RCPT))
#define ANY	    (BEFORE_HELO | AFTER_HELO)

struct cmd {
	enum sp_verb verb;
	unsigned int states;	/* where it is allowed */
	int needs_tls;		/* when the client's starttls is required */
	const char *helo_reply; /* out of sequence before HELO/EHLO (NULL: seq_reply) */
	const char *seq_reply;	/* out of sequence elsewhere (NULL: the generic 503) */
	/* what else must hold: 0, or -1 once it has answered (NULL: nothing) */
	int (*check)(struct session *s, const struct sp_cmd *c);
	/* what the client's policy says, once it is in sequence (NULL: nothing) */
	int (*policy)(struct session *s, const struct sp_cmd *c);
	void (*proceed)(struct session *s, const struct sp_cmd *c);
};

#define NEED_HELO "503 5.5.1 Error: send HELO/EHLO first"
#define IN_TX	  "503 5.5.1 Error: MAIL transaction in progress"

static void cmd_helo(struct session *s, const struct sp_cmd *c);
static void cmd_mail(struct session *s, const struct sp_cmd *c);
static void cmd_rcpt(struct session *s, const struct sp_cmd *c);
static void cmd_data(struct session *s, const struct sp_cmd *c);
static void cmd_rset(struct session *s, const struct sp_cmd *c);
static void cmd_noop(struct session *s, const struct sp_cmd *c);
static void cmd_quit(struct session *s, const struct sp_cmd *c);
static void cmd_help(struct session *s, const struct sp_cmd *c);
static void cmd_starttls(struct session *s, const struct sp_cmd *c);
static void cmd_auth(struct session *s, const struct sp_cmd *c);
static void cmd_vrfy(struct session *s, const struct sp_cmd *c);
static void cmd_refused(struct session *s, const struct sp_cmd *c);
static int check_mail(struct session *s, const struct sp_cmd *c);
static int check_starttls(struct session *s, const struct sp_cmd *c);
static int check_auth(struct session *s, const struct sp_cmd *c);

static const struct cmd commands[] = {
	{ SP_HELO, ANY, 0, NULL, NULL, NULL, NULL, cmd_helo },
	{ SP_EHLO, ANY, 0, NULL, NULL, NULL, NULL, cmd_helo },
	{ SP_MAIL, ST(SS_READY), 1, NEED_HELO, "503 5.5.1 Error: nested MAIL command", check_mail,
	  session_policy_check, cmd_mail },
	{ SP_RCPT, ST(SS_MAIL) | ST(SS_RCPT), 1, NULL, "503 5.5.1 Error: need MAIL command", NULL,
	  session_policy_check, cmd_rcpt },
	{ SP_DATA, ST(SS_MAIL) | ST(SS_RCPT), 1, NULL, "503 5.5.1 Error: need RCPT command", NULL,
	  NULL, cmd_data },
	{ SP_RSET, ANY, 0, NULL, NULL, NULL, NULL, cmd_rset },
	{ SP_NOOP, ANY, 0, NULL, NULL, NULL, NULL, cmd_noop },
	{ SP_QUIT, ANY, 0, NULL, NULL, NULL, NULL, cmd_quit },
	{ SP_HELP, ANY, 0, NULL, NULL, NULL, NULL, cmd_help },
	/* RFC 3207: not inside a transaction; the handshake resets to GREETED */
	{ SP_STARTTLS, BEFORE_HELO | ST(SS_READY), 0, NULL, IN_TX, check_starttls, NULL,
	  cmd_starttls },
	{ SP_AUTH, ST(SS_READY), 1, NEED_HELO, IN_TX, check_auth, NULL, cmd_auth },
	{ SP_VRFY, ANY, 1, NULL, NULL, NULL, NULL, cmd_vrfy },
	{ SP_EXPN, ANY, 1, NULL, NULL, NULL, NULL, cmd_refused },
	{ SP_TURN, ANY, 0, NULL, NULL, NULL, NULL, cmd_refused },
	{ SP_ETRN, ANY, 0, NULL, NULL, NULL, NULL, cmd_refused },
	{ SP_BDAT, ANY, 0, NULL, NULL, NULL, NULL, cmd_refused },
	{ SP_XCLIENT, ANY, 0, NULL, NULL, NULL, NULL, cmd_refused },
	{ SP_XFORWARD, ANY, 0, NULL, NULL, NULL, NULL, cmd_refused },
};

/* ---- helpers ---- */

static int tls_required_here(const struct session *s)
{
	return s->starttls == PX_TLS_REQUIRED && !s->tls;
}

/* The listener lets AUTH be offered here and now (the pool has a say too). */
static int auth_allowed(const struct session *s)
{
	return s->l->auth && (!s->l->auth_requires_tls || s->tls);
}

static int auth_offered(const struct session *s, struct px_caps *caps)
{
	if (!auth_allowed(s))
		return 0;
	px_pool_caps(s->pool, caps);
	return (caps->bits & PX_CAP_AUTH) != 0;
}

/* Relay a backend reply to the client as it came (every line). */
static void relay_reply(struct session *s, const struct px_reply *r)
{
	io_write(s->io, r->text, r->len);
	if (r->truncated)
		io_printf(s->io, "%d \r\n", r->code); /* the cut reply still ends */
}

/* The backend could not be reached or went away: the client may retry. */
static void backend_gone(struct session *s, const char *err)
{
	atomic_fetch_add(&px_stats.rejects[REJ_BACKEND], 1);
	session_log(s, ME_LOG_INFO, "tempfail", "error", err);
	session_reply(s, "451 4.4.1 %s Error: no mail server available, try again later",
		      s->cfg->hostname);
	session_reset_tx(s);
}

/* The backend's reply is handled (backend.c no longer waits): read on. */
static void resume(struct session *s)
{
	session_next(s);
}

/* A command's backend step failed: say so, and go on with the next command. */
static void backend_gone_resume(struct session *s, const char *err)
{
	backend_gone(s, err);
	resume(s);
}

/* ---- HELO / EHLO ---- */

static int helo_name_ok(const char *a, size_t n)
{
	size_t i;

	if (!n || n > SP_DOMAIN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (a[i] == ' ' || a[i] == '\t')
			return 0;
	return 1;
}

static void ehlo_reply(struct session *s)
{
	struct px_caps pool;
	unsigned long long size = s->lim.message_size;

	px_pool_caps(s->pool, &pool);
	if (pool.size && pool.size < size)
		size = pool.size;
	session_reply(s, "250-%s", s->cfg->hostname);
	session_reply(s, "250-PIPELINING");
	session_reply(s, "250-SIZE %llu", size);
	if (pool.bits & PX_CAP_8BITMIME)
		session_reply(s, "250-8BITMIME");
	if (pool.bits & PX_CAP_SMTPUTF8)
		session_reply(s, "250-SMTPUTF8");
	if (pool.bits & PX_CAP_DSN)
		session_reply(s, "250-DSN");
	if (s->starttls != PX_TLS_OFF && !s->tls)
		session_reply(s, "250-STARTTLS");
	if (auth_allowed(s) && (pool.bits & PX_CAP_AUTH))
		session_reply(s, "250-AUTH %s", pool.auth);
	/* CHUNKING (BDAT) is not offered: DATA is the one path that is checked
	 * for smuggling. ENHANCEDSTATUSCODES: every reply of ours has one. */
	session_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void after_rset(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	(void)r;
	(void)err;
	if (!ok)
		bk_close(s, 0);
	resume(s);
}

/* A transaction at the backend is abandoned (RSET, HELO): tell it too. */
static int backend_rset(struct session *s)
{
	if (!bk_ready(s) || (s->state != SS_MAIL && s->state != SS_RCPT))
		return 0;
	bk_command(s, "RSET\r\n", after_rset, s->lim.backend_timeout);
	return 1;
}

static void cmd_helo(struct session *s, const struct sp_cmd *c)
{
	if (!helo_name_ok(c->arg, c->arg_len)) {
		session_reject(s, REJ_SYNTAX, "501 5.5.4 Syntax: %s hostname", c->name);
		return;
	}
	memcpy(s->helo, c->arg, c->arg_len);
	s->helo[c->arg_len] = '\0';
	s->esmtp = c->verb == SP_EHLO;
	if (c->verb == SP_EHLO)
		ehlo_reply(s);
	else
		session_reply(s, "250 %s", s->cfg->hostname);
	backend_rset(s);
	session_reset_tx(s);
	enter_state(s, SS_READY);
}

/* ---- MAIL ---- */

static int known_param(const struct session *s, const struct sp_param *p, unsigned int caps)
{
	(void)s;
	if (!strcasecmp(p->key, "SIZE"))
		return p->has_value;
	if (!strcasecmp(p->key, "BODY"))
		return p->has_value &&
		       (!strcasecmp(p->value, "7BIT") ||
			(!strcasecmp(p->value, "8BITMIME") && (caps & PX_CAP_8BITMIME)));
	if (!strcasecmp(p->key, "SMTPUTF8"))
		return !p->has_value && (caps & PX_CAP_SMTPUTF8);
	if (!strcasecmp(p->key, "RET") || !strcasecmp(p->key, "ENVID"))
		return p->has_value && (caps & PX_CAP_DSN);
	if (!strcasecmp(p->key, "AUTH"))
		return p->has_value;
	return 0;
}

static void mail_reply(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	if (!ok) {
		backend_gone_resume(s, err);
		return;
	}
	relay_reply(s, r);
	if (r->code / 100 == 2) {
		enter_state(s, SS_MAIL);
		me_strlcpy(s->last_from, s->from, sizeof(s->last_from));
	} else {
		s->rejects++;
		atomic_fetch_add(&px_stats.rejects[REJ_BACKEND], 1);
		s->from[0] = '\0';
	}
	resume(s);
}

static void mail_send(struct session *s, int ok, const struct px_reply *r, const char *err);

static int check_mail(struct session *s, const struct sp_cmd *c)
{
	(void)c;
	/* IronPort's messages per connection: a client over it comes back on a
	 * new session (and is classified, and counted per client, again). */
	if (s->lim.messages && s->msgs_ok + s->msgs_failed >= s->lim.messages) {
		atomic_fetch_add(&px_stats.rejects[REJ_COMMANDS], 1);
		session_reply(s, "421 4.7.0 %s Error: too many messages in this session",
			      s->cfg->hostname);
		session_close(s, "too many messages");
		return -1;
	}
	return 0;
}

static void cmd_mail(struct session *s, const struct sp_cmd *c)
{
	struct px_caps caps;
	struct sp_path p;
	const char *why, *size;
	int rc, i;

	rc = sp_parse_path(c->arg, c->arg_len, 0, &p, &why);
	if (rc) {
		if (rc == SP_PATH_PARAM)
			session_reject(s, REJ_SYNTAX, "555 5.5.4 Error: %s", why);
		else
			session_reject(s, REJ_SYNTAX, "501 5.1.7 Bad sender address syntax: %s",
				       why);
		return;
	}
	/* The pool's lock is taken only when there are parameters to check. */
	if (p.nparams)
		px_pool_caps(s->pool, &caps);
	for (i = 0; i < p.nparams; i++)
		if (!known_param(s, &p.params[i], caps.bits)) {
			session_reject(s, REJ_SYNTAX, "555 5.5.4 Unsupported option: %.40s",
				       p.params[i].key);
			return;
		}
	if (p.utf8 && !sp_param(&p, "SMTPUTF8", NULL)) {
		session_reject(s, REJ_SYNTAX, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
		return;
	}
	size = sp_param(&p, "SIZE", NULL);
	if (size && strtoull(size, NULL, 10) > s->lim.message_size) {
		session_reject(s, REJ_SIZE, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	memcpy(s->from, p.addr, sizeof(s->from));
	s->smtputf8 = sp_param(&p, "SMTPUTF8", NULL) != NULL;
	/* The command the backend gets is rebuilt from what was checked, never
	 * the client's bytes: its parameters pass only if the pool offers them. */
	{
		char *line = s->pending;
		size_t n = (size_t)snprintf(line, sizeof(s->pending), "MAIL FROM:<%s>", p.addr);

		for (i = 0; i < p.nparams && n < sizeof(s->pending); i++)
			n += (size_t)snprintf(line + n, sizeof(s->pending) - n, " %s%s%s",
					      p.params[i].key, p.params[i].has_value ? "=" : "",
					      p.params[i].value);
		if (n + 3 > sizeof(s->pending)) {
			session_reject(s, REJ_SYNTAX, "501 5.5.4 Error: command too long");
			return;
		}
		memcpy(line + n, "\r\n", 3);
	}
	if (bk_ready(s))
		mail_send(s, 1, NULL, NULL);
	else
		bk_open(s, mail_send);
}

static void mail_send(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	(void)r;
	if (!ok) {
		backend_gone_resume(s, err);
		return;
	}
	bk_command(s, s->pending, mail_reply, s->lim.backend_timeout);
}

/* ---- RCPT ---- */

static void rcpt_reply(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	if (!ok) {
		backend_gone_resume(s, err);
		return;
	}
	relay_reply(s, r);
	session_policy_rcpt_reply(s, r);
	if (r->code / 100 == 2) {
		s->tx_rcpts++;
		s->rcpts++;
		enter_state(s, SS_RCPT);
	} else {
		s->rejects++;
		atomic_fetch_add(&px_stats.rejects[REJ_BACKEND], 1);
	}
	resume(s);
}

static void cmd_rcpt(struct session *s, const struct sp_cmd *c)
{
	struct px_caps caps;
	struct sp_path p;
	const char *why;
	size_t n;
	int rc, i;

	rc = sp_parse_path(c->arg, c->arg_len, 1, &p, &why);
	if (!rc)
		memcpy(s->cur_rcpt, p.addr, sizeof(s->cur_rcpt));
	if (rc) {
		if (rc == SP_PATH_PARAM)
			session_reject(s, REJ_SYNTAX, "555 5.5.4 Error: %s", why);
		else
			session_reject(s, REJ_SYNTAX, "501 5.1.3 Bad recipient address syntax: %s",
				       why);
		return;
	}
	if (s->tx_rcpts >= s->lim.recipients) {
		/* RFC 5321 4.5.3.1.10: 452, and the accepted ones stay accepted.
		 * A client that sends more recipients than the limit is not
		 * wrong (it splits the rest into another transaction), so these
		 * are no errors, until recipient_overshoot of them in one
		 * transaction (Postfix's smtpd_recipient_overshoot_limit): had
		 * they counted, ~120 recipients would lose the 100 accepted to
		 * errors_hard's 421. */
		if (++s->tx_overshoot <= s->lim.recipient_overshoot)
			session_refuse(s, REJ_RECIPIENTS, "452 4.5.3 Error: too many recipients");
		else
			session_reject(s, REJ_RECIPIENTS, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (p.utf8 && !s->smtputf8) {
		/* RFC 6531 3.4: only a transaction that said SMTPUTF8 may name a
		 * non-ASCII mailbox, for every recipient as for the sender. */
		session_reject(s, REJ_SYNTAX, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
		return;
	}
	if (px_relay_decide(s, &p) == PX_RELAY_DENIED) {
		char addr[140];

		me_escape(p.addr, strlen(p.addr), addr, sizeof(addr));
		session_reject(s, REJ_RELAY, "554 5.7.1 <%.100s>: Relay access denied", addr);
		return;
	}
	if (p.nparams)
		px_pool_caps(s->pool, &caps);
	n = (size_t)snprintf(s->pending, sizeof(s->pending), "RCPT TO:<%s>", p.addr);
	for (i = 0; i < p.nparams; i++) {
		int dsn =
		    !strcasecmp(p.params[i].key, "NOTIFY") || !strcasecmp(p.params[i].key, "ORCPT");

		if (!dsn || !(caps.bits & PX_CAP_DSN) || !p.params[i].has_value) {
			session_reject(s, REJ_SYNTAX, "555 5.5.4 Unsupported option: %.40s",
				       p.params[i].key);
			return;
		}
		n += (size_t)snprintf(s->pending + n, sizeof(s->pending) - n, " %s=%s",
				      p.params[i].key, p.params[i].value);
		if (n >= sizeof(s->pending) - 3) {
			session_reject(s, REJ_SYNTAX, "501 5.5.4 Error: command too long");
			return;
		}
	}
	memcpy(s->pending + n, "\r\n", 3);
	bk_command(s, s->pending, rcpt_reply, s->lim.backend_timeout);
}

/* ---- DATA ---- */

static void data_go(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	if (!ok) {
		backend_gone_resume(s, err);
		return;
	}
	if (r->code != 354) {
		relay_reply(s, r);
		s->rejects++;
		atomic_fetch_add(&px_stats.rejects[REJ_BACKEND], 1);
		resume(s);
		return;
	}
	session_data_begin(s);
}

static void cmd_data(struct session *s, const struct sp_cmd *c)
{
	if (c->arg_len) {
		session_reject(s, REJ_SYNTAX, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (!s->tx_rcpts) {
		session_reject(s, REJ_SEQUENCE, "554 5.5.1 Error: no valid recipients");
		return;
	}
	bk_command(s, "DATA\r\n", data_go, s->lim.backend_timeout);
}

/* ---- the rest ---- */

static void cmd_rset(struct session *s, const struct sp_cmd *c)
{
	if (c->arg_len) {
		session_reject(s, REJ_SYNTAX, "501 5.5.4 Syntax: RSET");
		return;
	}
	session_reply(s, "250 2.0.0 Ok");
	backend_rset(s);
	session_reset_tx(s);
}

static void cmd_noop(struct session *s, const struct sp_cmd *c)
{
	(void)c;
	session_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct session *s, const struct sp_cmd *c)
{
	(void)c;
	session_reply(s, "221 2.0.0 Bye");
	session_close(s, "quit");
}

static void cmd_help(struct session *s, const struct sp_cmd *c)
{
	(void)c;
	session_reply(s, "214 2.0.0 See RFC 5321");
}

static void cmd_vrfy(struct session *s, const struct sp_cmd *c)
{
	(void)c;
	/* Not denied by configuration: answer without revealing anything. */
	session_reply(s,
		      "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_refused(struct session *s, const struct sp_cmd *c)
{
	if (c->verb == SP_XCLIENT || c->verb == SP_XFORWARD)
		session_reject(s, REJ_DENIED, "550 5.7.0 Error: %s is not for clients", c->name);
	else
		session_reject(s, REJ_DENIED, "502 5.5.1 Error: command not implemented");
}

static int check_starttls(struct session *s, const struct sp_cmd *c)
{
	if (s->starttls == PX_TLS_OFF) {
		session_reject(s, REJ_DENIED, "502 5.5.1 Error: command not implemented");
		return -1;
	}
	if (s->tls) {
		/* RFC 3207 4.2: a second STARTTLS is refused. */
		session_reject(s, REJ_SEQUENCE, "554 5.5.1 Error: TLS already active");
		return -1;
	}
	if (c->arg_len) {
		session_reject(s, REJ_SYNTAX, "501 5.5.4 Syntax: STARTTLS");
		return -1;
	}
	return 0;
}

static void cmd_starttls(struct session *s, const struct sp_cmd *c)
{
	size_t discarded;

	(void)c;
	session_reply(s, "220 2.0.0 Ready to start TLS");
	/* Whatever followed STARTTLS in the same read was sent before the
	 * client saw our 220: plaintext that must not become a command after
	 * the handshake (CVE-2011-0411). */
	if (session_tls_begin(s, &discarded)) {
		session_close(s, "TLS: out of memory");
		return;
	}
	if (discarded) {
		char n[24];

		snprintf(n, sizeof(n), "%zu", discarded);
		/* Plaintext pipelined after STARTTLS: an injection attempt. */
		session_log(s, ME_LOG_INFO, "starttls", "discarded", n);
	}
	/* A backend connection would carry state from before TLS. */
	bk_close(s, 1);
	enter_state(s, SS_TLS);
	io_set_timeout(s->io, s->lim.tls_handshake_timeout);
}

/* ---- AUTH: a SASL exchange relayed to the backend ---- */

static void auth_reply(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	if (!ok) {
		backend_gone(s, err);
		enter_state(s, SS_READY);
		resume(s);
		return;
	}
	relay_reply(s, r);
	if (r->code == 334) {
		enter_state(s, SS_AUTH); /* the client's next line is its answer */
	} else {
		if (r->code == 235)
			s->authenticated = 1;
		else {
			s->rejects++;
			atomic_fetch_add(&px_stats.rejects[REJ_AUTH], 1);
		}
		enter_state(s, SS_READY);
	}
	resume(s);
}

static void auth_send(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	(void)r;
	if (!ok) {
		backend_gone_resume(s, err);
		return;
	}
	if (!(s->bk.caps.bits & PX_CAP_AUTH)) {
		session_reply(s, "454 4.7.0 Temporary authentication failure");
		resume(s);
		return;
	}
	bk_command(s, s->pending, auth_reply, s->lim.backend_timeout);
}

static int check_auth(struct session *s, const struct sp_cmd *c)
{
	struct px_caps caps;

	(void)c;
	if (!auth_offered(s, &caps)) {
		if (s->l->auth && s->l->auth_requires_tls && !s->tls)
			session_reject(s, REJ_AUTH,
				       "530 5.7.0 Must issue a STARTTLS command first");
		else
			session_reject(s, REJ_AUTH, "503 5.5.1 Error: authentication not enabled");
		return -1;
	}
	if (s->authenticated) {
		session_reject(s, REJ_SEQUENCE, "503 5.5.1 Error: already authenticated");
		return -1;
	}
	return 0;
}

static void cmd_auth(struct session *s, const struct sp_cmd *c)
{
	size_t i;

	for (i = 0; i < c->arg_len; i++)
		if (!isalnum((unsigned char)c->arg[i]) && !strchr("-_ +/=", c->arg[i]))
			break;
	if (!c->arg_len || i < c->arg_len || c->arg_len > sizeof(s->pending) - 8) {
		session_reject(s, REJ_SYNTAX,
			       "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	snprintf(s->pending, sizeof(s->pending), "AUTH %.*s\r\n", (int)c->arg_len, c->arg);
	if (bk_ready(s))
		auth_send(s, 1, NULL, NULL);
	else
		bk_open(s, auth_send);
}

void session_auth_line(struct session *s, const char *line, size_t len)
{
	size_t i;

	/* A SASL answer is base64, or "*" to cancel: nothing else is relayed. */
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)line[i]) && !strchr("+/=*", line[i]))
			break;
	if (i < len || len > sizeof(s->pending) - 3) {
		enter_state(s, SS_READY);
		/* The backend is mid-exchange: start over with a fresh connection. */
		bk_close(s, 0);
		session_reject(s, REJ_SYNTAX, "501 5.5.2 Error: malformed authentication response");
		return;
	}
	memcpy(s->pending, line, len);
	memcpy(s->pending + len, "\r\n", 3);
	bk_command(s, s->pending, auth_reply, s->lim.backend_timeout);
}

/* ---- dispatch ---- */

void session_command(struct session *s, const char *line, size_t len)
{
	struct sp_cmd c;
	size_t i;

	s->cur_rcpt[0] = '\0';
	if (sp_command(line, len, &c)) {
		session_reject(s, REJ_SYNTAX, "500 5.5.2 Error: bad syntax");
		return;
	}
	if (s->cfg->deny[c.verb]) {
		session_reject(s, REJ_DENIED, "%s", s->cfg->deny_reply);
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct cmd *k = &commands[i];

		if (k->verb != c.verb)
			continue;
		if (k->needs_tls && tls_required_here(s)) {
			session_reject(s, REJ_TLS_REQUIRED,
				       "530 5.7.0 Must issue a STARTTLS command first");
			return;
		}
		/* Whether the command is there at all for this client (offered,
		 * not done already, well-formed, within a limit) comes before
		 * where in the sequence it is: STARTTLS on a listener without
		 * TLS is 502 in any state. */
		if (k->check && k->check(s, &c))
			return;
		if (!(k->states & ST(s->state))) {
			const char *r = s->state == SS_GREETED && k->helo_reply ? k->helo_reply
					: k->seq_reply
					    ? k->seq_reply
					    : "503 5.5.1 Error: bad sequence of commands";

			session_reject(s, REJ_SEQUENCE, "%s", r);
			return;
		}
		if (k->policy && k->policy(s, &c))
			return;
		k->proceed(s, &c);
		return;
	}
	session_reject(s, REJ_UNKNOWN, "500 5.5.2 Error: command not recognized");
}
