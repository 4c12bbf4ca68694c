/* SPDX-License-Identifier: GPL-2.0 */
/*
 * session.h - one client session, from accept to close, and its backend.
 *
 * The client side is a state machine driven by commands read from the client
 * connection, one at a time: a command that needs the backend marks the session
 * busy, and the next pipelined command is read only when its reply is written.
 * So replies always go out in order and no input is lost (RFC 2920), and the
 * backend never sees a command the proxy has not checked.
 */
#ifndef PX_SESSION_H
#define PX_SESSION_H

#include <netinet/in.h>

#include "config.h"
#include "dns.h"
#include "kvlog.h"
#include "log.h"
#include "io.h"
#include "metrics.h"
#include "reply.h"
#include "smtp_data.h"
#include "smtp_parse.h"

struct px_worker;
struct session;
struct px_dnsbl_lookup;

enum ss_state {
	SS_CONNECTED, /* accepted; banner not sent yet (greet delay) */
	SS_GREETED,   /* banner sent; waiting for HELO/EHLO */
	SS_READY,     /* HELO/EHLO done; no transaction */
	SS_MAIL,      /* MAIL accepted */
	SS_RCPT,      /* at least one RCPT accepted */
	SS_DATA,      /* streaming a message */
	SS_TLS,	      /* TLS handshake after STARTTLS */
	SS_AUTH,      /* a SASL exchange with the backend */
	SS_CLOSING,   /* last reply being written */
	SS_STATE_MAX,
};

const char *strstate(enum ss_state s);

/* Called with the backend's reply to a command (ok), or ok = 0 and err when the
 * backend is gone or could not be reached. */
typedef void (*bk_cb)(struct session *s, int ok, const struct px_reply *r, const char *err);

enum bk_step {
	BK_NONE,
	BK_CONNECTING,
	BK_GREETING,
	BK_EHLO,
	BK_STARTTLS, /* STARTTLS sent (backend_tls); then the handshake */
	BK_RDNS,     /* XCLIENT waits for the client's name */
	BK_XCLIENT,
	BK_EHLO2,
	BK_READY,
	BK_WAIT, /* a command's reply */
	BK_DATA, /* message bytes flowing */
};

struct px_backend {
	struct io *io;
	struct px_pool *pool;
	int member;
	unsigned long long tried;
	enum bk_step step;
	struct px_caps caps;
	bk_cb cb;
	char name[192]; /* pool/member, for logs */
	int failed;	/* went away mid-transaction */
	int counted;	/* counted in the member's connections */
	int tls;	/* the connection is TLS (backend_tls) */
	/* A command of the session waits for the backend (to connect, or to
	 * reply): the client's next command is not read meanwhile. Set and
	 * cleared here alone, by bk_open/bk_command/bk_wait_reply and when the
	 * callback is given its answer. */
	int waiting;
};

struct session {
	struct session *next, *prev; /* the worker's list */
	int refs;		     /* callbacks of this session running now */
	int dying;		     /* closed while a callback ran: freed when it returns */
	struct px_worker *w;
	struct px_config *cfg;
	struct px_listener *l;
	/* What this client gets: the listener's and the global settings, with
	 * its sender group's policy over them (policy.h), decided at connect. */
	struct px_limits lim;
	struct px_pool *pool;
	enum px_starttls starttls;
	enum px_pregreet pregreet_mode;
	const char *banner;
	const struct px_sender_group *group; /* NULL: no group */
	const struct px_policy *policy;	     /* NULL: the listener's ways */
	int classified;			     /* the above are final */
	struct io *io;
	unsigned long long id;
	enum ss_state state;
	struct sockaddr_storage peer, local;
	char peer_text[64];
	double start;	  /* session_now() at accept, for the duration */
	int busy;	  /* waiting for a delay (greet, error) or the client's name */
	ev_timer delay;	  /* greet delay, error delay */
	char *held_reply; /* the error reply the error delay holds back */
	ev_timer life;	  /* session_timeout */

	struct sp_framer framer;
	unsigned int commands, errors;
	int esmtp;
	char helo[256];
	int tls;
	char tls_info[96];
	struct px_dns_query *rdns_q; /* the client's name, being looked up */
	struct px_rdns_result rdns;
	struct px_dnsbl_lookup *dnsbl_q; /* the client's DNSBL score, being asked */
	int score, score_known;		 /* its answer (policy.h px_facts) */
	int authenticated;
	int relay_ok; /* client inside relay_networks, or its policy says relay */
	int pregreet;

	char pending[1024]; /* the command on its way to the backend */

	/* the transaction */
	char from[SP_PATH_MAX + 1];
	int smtputf8;		   /* MAIL said SMTPUTF8 */
	unsigned int tx_rcpts;	   /* this transaction */
	unsigned int tx_overshoot; /* refused past the recipient limit, this transaction */
	unsigned int rcpts;	   /* accepted in the whole session */
	struct sd_state data;
	struct buf fwd; /* DATA bytes dropped: the backend is gone mid-message */
	double data_start;
	int data_paused;

	/* what happened, for the session log */
	unsigned int msgs_ok, msgs_failed, rejects;
	char last_from[SP_PATH_MAX + 1];
	char outcome[96];
	char last_reply[128];		/* the backend's reply to the last message (its queue id) */
	char cur_rcpt[SP_PATH_MAX + 1]; /* the RCPT being handled, for a reject line */

	struct px_backend bk;
};

/* Take over an accepted connection. */
void session_start(struct px_worker *w, int fd, struct px_listener *l,
		   const struct sockaddr_storage *peer);
/* Close now (after the last reply is written if there is one). */
void session_close(struct session *s, const char *outcome);
/* The end of a drain: 421 4.3.2 where a reply can still be said, and close.
 * Called twice for a session whose 421 could not leave at once: the second
 * call frees it. */
void session_shutdown(struct session *s);
/* Every callback into a session (its connections' events, its timers) holds
 * it for the duration: a close requested inside frees it only when the
 * outermost callback returns, so no code runs on a freed session. */
void session_hold(struct session *s);
void session_release(struct session *s);

/* A reply to the client; "CODE TEXT" without CRLF. */
void session_reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A rejection: counted under kind, logged (reason: the kind's metric name),
 * replied (after the error delay past errors_soft). */
void session_reject(struct session *s, enum px_rej kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, for a refusal that is not the client's error (a recipient past
 * the limit): it does not count toward errors_soft/errors_hard. */
void session_refuse(struct session *s, enum px_rej kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A log line about the session: "EVENT id=... client=..." and, unless key is
 * NULL, key=value; every value quoted as kvlog.h says. session_kv starts such
 * a line for a caller that adds more fields. */
void session_kv(const struct session *s, struct me_kv *kv, const char *event);
void session_log(const struct session *s, enum me_log_level level, const char *event,
		 const char *key, const char *value);
void enter_state(struct session *s, enum ss_state st);
/* Start the TLS handshake with the listener's profiles (STARTTLS, or at once
 * for implicit TLS); what was buffered is discarded (count in *discarded).
 * 0, or -1 when no TLS session could be made. */
int session_tls_begin(struct session *s, size_t *discarded);
/* The command is done (its reply written): read the next one. */
void session_next(struct session *s);
void session_reset_tx(struct session *s);
double session_now(void);

/* session_cmd.c */
void session_command(struct session *s, const char *line, size_t len);
void session_auth_line(struct session *s, const char *line, size_t len);

/* session_data.c */
void session_data_begin(struct session *s);
void session_data_in(struct session *s);
void session_data_backend_drained(struct session *s);

/* backend.c */
void bk_open(struct session *s, bk_cb cb);
void bk_command(struct session *s, const char *line, bk_cb cb, double timeout);
/* Wait for a reply to what was already sent (the end of a message). */
void bk_wait_reply(struct session *s, bk_cb cb, double timeout);
void bk_close(struct session *s, int quit);
/* The client's name lookup is over: an XCLIENT waiting for it goes. */
void bk_rdns_done(struct session *s);
int bk_ready(const struct session *s);

/* session_policy.c: the one place MAIL and RCPT meet the policy (the
 * dictionaries, harvest prevention, recipients per hour). The check runs
 * from the command table once the command is in sequence: 0 to go on, -1
 * once it has answered. The reply hook sees the backend's answer to a RCPT. */
int session_policy_check(struct session *s, const struct sp_cmd *c);
void session_policy_rcpt_reply(struct session *s, const struct px_reply *r);
/* Ban the client at the edge (policy.h px_policy_ban), counted in the metrics. */
void session_ban(struct session *s, unsigned int secs, const char *reason);
/* Is this reply a "bad destination mailbox" (550 and 5.1.0, 5.1.1, 5.1.10)? */
int px_reply_unknown_user(const char *text, size_t len);

/* relay.c */
enum px_relay { PX_RELAY_LOCAL, PX_RELAY_ALLOWED, PX_RELAY_DENIED };
enum px_relay px_relay_decide(const struct session *s, const struct sp_path *rcpt);

#endif
