/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - mailedge-proxy's configuration, and every limit it enforces.
 *
 * A configuration is immutable once loaded and shared by reference: SIGHUP
 * loads a new one, new sessions take it, running sessions keep theirs until
 * they end (px_config_put).
 */
#ifndef PX_CONFIG_H
#define PX_CONFIG_H

#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "addr.h"
#include "smtp_data.h"
#include "smtp_parse.h"

enum px_starttls { PX_TLS_OFF, PX_TLS_OPTIONAL, PX_TLS_REQUIRED };
enum px_pass { PX_PASS_NONE, PX_PASS_XCLIENT, PX_PASS_PROXY_V1, PX_PASS_PROXY_V2 };
enum px_balance { PX_BAL_ROUNDROBIN, PX_BAL_LEASTCONN };
enum px_pregreet { PX_PREGREET_IGNORE, PX_PREGREET_LOG, PX_PREGREET_REJECT };

/* Every limit in one place; defaults and reasons are in config.c's table. */
struct px_limits {
	unsigned int command_line;	  /* RFC 5321 4.5.3.1.4: 512 */
	unsigned int text_line;		  /* RFC 5321 4.5.3.1.6: 1000 */
	unsigned int recipients;	  /* RFC 5321 4.5.3.1.8: at least 100 */
	unsigned int recipient_overshoot; /* past recipients, before they count as errors */
	unsigned long long message_size;
	unsigned int errors_soft;	   /* from here, each error costs error_delay */
	unsigned int errors_hard;	   /* then 421 and close */
	unsigned int error_delay;	   /* milliseconds */
	unsigned int commands;		   /* per session; 0 = no limit */
	unsigned int command_timeout;	   /* seconds; RFC 5321 4.5.3.2.7: at least 5 min */
	unsigned int data_timeout;	   /* seconds between DATA blocks (4.5.3.2.6: 3 min) */
	unsigned int data_min_rate;	   /* bytes/s over a whole message, after data_rate_grace */
	unsigned int data_rate_grace;	   /* seconds */
	unsigned int session_timeout;	   /* seconds a session may last in total; 0 = none */
	unsigned int max_sessions;	   /* all clients together */
	unsigned int max_per_client;	   /* sessions from one address */
	unsigned int backend_timeout;	   /* seconds to wait for a backend reply */
	unsigned int backend_data_timeout; /* for its reply to the end of DATA (4.5.3.2.8) */
	unsigned int connect_timeout;	   /* seconds to connect to a backend */
	unsigned int greet_delay;	   /* milliseconds before the banner (pre-greet test) */
	unsigned int tls_handshake_timeout; /* seconds */
	unsigned int drain_timeout;	    /* seconds sessions get to finish after SIGTERM */
};

struct px_member {
	char name[128]; /* as configured, host:port */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned int weight;
};

struct px_pstate;

struct px_pool {
	char name[32];
	enum px_balance balance;
	enum px_pass pass;
	struct px_member *m;
	size_t nm;
	unsigned int hc_interval; /* milliseconds between health checks */
	unsigned int hc_timeout;  /* milliseconds for one check */
	unsigned int rise, fall;
	struct px_pstate *st; /* run-time state (pool.h) */
};

struct px_listener {
	char listen[128];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum px_starttls starttls;
	char cert[256], key[256], chain[256];
	char pool_name[32];
	struct px_pool *pool;
	char banner[256];
	enum px_pregreet pregreet;
	int auth; /* offer AUTH (relayed to the pool) */
	int auth_requires_tls;
	SSL_CTX *ssl; /* built from cert/key/chain */
};

#define PX_MAX_DENY 32

struct px_config {
	atomic_int refs;
	char path[256];
	char hostname[256];
	char user[64];
	unsigned int workers;
	char metrics[128];
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addrlen;
	struct px_limits lim;
	enum sd_mode data_mode;
	char bare_newline[16];
	/* commands refused without being forwarded */
	int deny[SP_VERB_MAX];
	char deny_reply[256];
	/* relay control */
	char **domains;
	size_t ndomains;
	struct me_prefix *relay_nets;
	size_t nrelay_nets;
	struct px_listener *ls;
	size_t nls;
	struct px_pool *pools;
	size_t npools;
};

/* What the command line says; applied over (or instead of) the file. */
struct px_flags {
	const char *config;
	const char *listen[16];
	int nlisten;
	const char *backend[32];
	int nbackend;
	const char *starttls;
	const char *cert, *key, *chain;
	const char *hostname;
	const char *domain[64];
	int ndomain;
	const char *user;
	int workers;
};

/* Load and check a configuration; on failure why says what and where. */
struct px_config *px_config_load(const struct px_flags *f, char *why, size_t why_len);
void px_config_get(struct px_config *c);
void px_config_put(struct px_config *c);
void px_config_help(FILE *f);

/* Is addr (a client) inside the relay networks? */
int px_relay_allowed(const struct px_config *c, const struct sockaddr *addr);

/* "ADDR:PORT" or "[V6]:PORT" into a socket address. */
int px_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len);
/* And back, for logs. */
void px_format_addr(const struct sockaddr *sa, char *buf, size_t len);

#endif
