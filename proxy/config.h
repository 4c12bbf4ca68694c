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
#include "dnsbl.h"
#include "smtp_data.h"
#include "smtp_parse.h"

/* TLS toward clients, per listener: STARTTLS offered, required before mail,
 * or (implicit, RFC 8314) from the first byte. */
enum px_starttls { PX_TLS_OFF, PX_TLS_OPTIONAL, PX_TLS_REQUIRED, PX_TLS_IMPLICIT };
/* "off", "optional", ... as the configuration spells it; NULL for another value. */
const char *px_starttls_name(int mode);
/* What a listener speaks: SMTP (checked command by command) or bytes relayed
 * as they are, after TLS (IMAP/POP offload). */
enum px_protocol { PX_PROTO_SMTP, PX_PROTO_TCP };
/* How a pool's members are health-checked. */
enum px_check { PX_CHECK_SMTP, PX_CHECK_IMAP, PX_CHECK_POP3, PX_CHECK_CONNECT };
/* TLS toward a pool's members. */
enum px_btls { PX_BTLS_NONE, PX_BTLS_OPTIONAL, PX_BTLS_REQUIRED, PX_BTLS_VERIFY };
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
	unsigned int messages;		   /* messages per session; 0 = no limit */
	unsigned int tls_handshake_timeout; /* seconds */
	unsigned int drain_timeout;	    /* seconds sessions get to finish after SIGTERM */
	/* per client (harvest.h: v4 address, v6 /64), over a sliding hour */
	unsigned int harvest_limit;	  /* invalid recipients; 0 = off */
	unsigned int harvest_ban;	  /* seconds banned at the edge when over; 0 = none */
	unsigned int recipients_per_hour; /* recipients (accepted); 0 = no limit */
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
	enum px_check check;
	struct px_member *m;
	size_t nm;
	unsigned int hc_interval; /* milliseconds between health checks */
	unsigned int hc_timeout;  /* milliseconds for one check */
	unsigned int rise, fall;
	/* TLS to the members: STARTTLS (SMTP) or from the first byte */
	enum px_btls tls;
	int tls_implicit;
	char tls_ca[256];     /* PEM: the CAs "verify" trusts */
	char tls_name[256];   /* the name a member's certificate must carry; "" = its address */
	SSL_CTX *tls_ctx;     /* built from the above */
	struct px_pstate *st; /* run-time state (pool.h) */
};

#define PX_TLS_CERTS	   2  /* an ECDSA and an RSA pair, say */
#define PX_TLS_NAMES	   16 /* server names a profile is chosen by (SNI) */
#define PX_LISTEN_PROFILES 8  /* profiles on one listener */

struct px_tls_cert {
	char cert[256];	 /* PEM: the certificate, its chain may follow */
	char key[256];	 /* PEM: its private key */
	char chain[256]; /* PEM: intermediates, when not in cert */
};

/* A named TLS profile ("SSL template"): what a listener presents. */
struct px_tls_profile {
	char name[64];
	struct px_tls_cert certs[PX_TLS_CERTS];
	int ncerts;
	int min_proto, max_proto; /* TLS1_2_VERSION... */
	char ciphers[512];	  /* TLS 1.2, OpenSSL syntax */
	char ciphersuites[256];	  /* TLS 1.3 */
	char groups[128];
	unsigned int session_cache;    /* sessions kept for resumption; 0 = none */
	unsigned int session_timeout;  /* seconds a session (or ticket) is good for */
	int tickets;		       /* RFC 5077 tickets, keys rotated by the proxy */
	char ocsp[256];		       /* DER OCSP response to staple; "" = none */
	char names[PX_TLS_NAMES][256]; /* server_names; none: the certificates' */
	int nnames;
	/* built by px_config_tls() */
	SSL_CTX *ctx;
	char **sni; /* the names it is chosen by, lower case ("*.example.org") */
	size_t nsni;
	char *report;		 /* what -t prints about it */
	unsigned char *ocsp_der; /* the response stapled, for ocsp_cert */
	size_t ocsp_len;
	X509 *ocsp_cert, *ocsp_issuer;
};

/* One listener's TLS: its profiles, the first the default, and the names
 * that choose the others (given to every SSL of the listener, see tls.h). */
struct px_tls_server {
	SSL_CTX *def;
	struct px_tls_profile *const *profiles;
	size_t nprofiles;
};

struct px_listener {
	char listen[128];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum px_protocol protocol;
	enum px_starttls starttls;
	int profile[PX_LISTEN_PROFILES]; /* indexes into the configuration's tls */
	int nprofiles;
	char pool_name[32];
	struct px_pool *pool;
	char banner[256];
	enum px_pregreet pregreet;
	int auth; /* offer AUTH (relayed to the pool) */
	int auth_requires_tls;
	unsigned int idle_timeout; /* protocol tcp: seconds without a byte either way */
	struct px_tls_profile *profiles[PX_LISTEN_PROFILES];
	struct px_tls_server tls; /* built: tls.def is NULL without TLS */
};

#define PX_MAX_DENY 32

struct px_policy;
struct px_sender_group;
struct px_dict;

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
	struct px_tls_profile *tls;
	size_t ntls;
	/* the resolver: "ADDR[:PORT],..." for c-ares ("" = resolv.conf) */
	char dns_servers[512];
	unsigned int dns_timeout; /* milliseconds per try */
	unsigned int dns_tries;
	unsigned int tls_ticket_rotation; /* seconds between new session ticket keys */
	/* the host access table (policy.h): none = every client as the listener says */
	struct px_policy *policies;
	size_t npolicies;
	struct px_sender_group *groups; /* in order; the first match wins */
	size_t ngroups;
	char pin_dir[256];		 /* the edge maps, for edge criteria */
	unsigned int max_per_client_any; /* the highest sessions-per-client of any policy */
	/* DNSBL/DNSWL scoring (dnsbl.h), asked only when a group has a score range */
	struct px_dnsbl_conf dnsbl;
	/* the process-wide harvest table (harvest.h): clients it holds; start only */
	unsigned int harvest_clients;
	/* dictionaries (dict.h): paths as configured, loaded by px_config_dicts */
	char sender_dict_path[256], recipient_dict_path[256], valid_rcpt_path[256];
	char sender_dict_reply[256], recipient_dict_reply[256];
	struct px_dict *sender_dict;	/* MAIL FROM found here is refused */
	struct px_dict *recipient_dict; /* RCPT TO found here is refused */
	struct px_dict *valid_rcpt;	/* RCPT TO in relay_domains must be here */
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
	const char *pin_dir;
};

/*
 * A configuration comes in two steps. px_config_parse reads the file (or
 * text, when not NULL) and the flags and checks them: pure, no other file is
 * opened and nothing is built. px_config_tls then builds the TLS contexts
 * from the bytes of the files it names (tls_paths), which the caller reads
 * as whoever may: root at start, the keeper on a reload.
 * px_config_load does both, reading the files itself.
 */
struct px_config *px_config_parse(const struct px_flags *f, const char *text, char *why,
				  size_t why_len);
struct px_material;
/* Every TLS file the configuration names (certificates, keys, chains, OCSP
 * responses, CAs), each once; 0 or -ENOMEM. */
int px_config_tls_paths(const struct px_config *c, struct px_material *m);
int px_config_tls(struct px_config *c, const struct px_material *m, char *why, size_t why_len);
struct px_config *px_config_load(const struct px_flags *f, char *why, size_t why_len);
/* Load the dictionaries the configuration names (config_dict.c); a third
 * step, as they are files of their own: 0, or -errno with "FILE:LINE: why". */
int px_config_dicts(struct px_config *c, char *why, size_t why_len);
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
