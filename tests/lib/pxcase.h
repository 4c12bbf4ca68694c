/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pxcase.h - the vocabulary the mailedge-proxy suites are written in.
 *
 * Every test starts its own proxy (the build under test) from a configuration
 * built from parts, in front of its own backends (fakesmtp.py, smtp-sink), in
 * a lab of its own (proxylab.h). The helpers here assert as they go, with
 * "got X, want Y" messages, so a test reads as the conversation it checks.
 *
 * Trusted and untrusted clients differ by source address: the whole of
 * 127.0.0.0/8 is loopback, relay_networks trusts 127.0.0.2 only, and the
 * untrusted client comes from 127.0.0.3.
 */
#ifndef ME_TEST_PXCASE_H
#define ME_TEST_PXCASE_H

#include <stddef.h>
#include <json-c/json.h>

#include "proxylab.h"

#define TRUSTED	  "127.0.0.2"
#define UNTRUSTED "127.0.0.3"
#define TOP_DEFAULT                                                                                \
	"relay_domains = [ \"example.org\", \".sub.example.org\" ];\n"                             \
	"relay_networks = [ \"127.0.0.2/32\" ];\n"
#define LIM_DEFAULT "connect_timeout = \"2s\"; "
#define LISTEN0	    "{ listen = \"127.0.0.1:@P0@\"; auth_requires_tls = false; }"
#define HEALTH	    "health = { interval = 200; timeout = 1000; rise = 1; fall = 2; };"
#define POOL_F0	    "{ name = \"main\"; members = ( \"127.0.0.1:@F0@\" ); " HEALTH " }"
#define TLS_FILES   "cert = \"@TLS@/srv.pem\"; key = \"@TLS@/srv.key\";"
#define LISTEN_TLS                                                                                 \
	"{ listen = \"127.0.0.1:@P0@\"; starttls = \"optional\"; " TLS_FILES " },"                 \
	"{ listen = \"127.0.0.1:@P1@\"; starttls = \"required\"; " TLS_FILES " },"                 \
	"{ listen = \"127.0.0.1:@P2@\"; starttls = \"optional\"; auth_requires_tls = "             \
	"false; " TLS_FILES " }"

extern struct pl lab;
extern char msg[131072];  /* assertion text, built before freeing what it quotes */
extern char rbuf[16384];  /* the last reply */
extern char ca_path[256]; /* the lab CA, once start_tls made it */

/* Suite fixtures: .init = pxc_setup, .fini = pxc_teardown. */
void pxc_setup(void);
void pxc_teardown(void);

/* The proxy's log, for a failure message (static, truncated at the front). */
const char *proxy_log(void);
/* Backends: fakesmtp.py i with extra arguments; smtp-sink i. */
void fake(int i, const char *args);
void sink(int i);
/* Start the proxy on a whole configuration, or one from its parts (NULL: the
 * default part: TOP_DEFAULT, LIM_DEFAULT, LISTEN0, POOL_F0). */
void start_conf(const char *conf);
void make_conf(char *out, size_t len, const char *top, const char *limits, const char *listeners,
	       const char *pools);
void start(const char *top, const char *limits, const char *listeners, const char *pools);
/* The end of every test: SIGTERM drains, the proxy exits 0, and its log holds
 * no sanitizer report. */
void finish(void);

/* ---- the client ---- */
void open_at(struct pl_client *c, const char *src, int port);
void open_client(struct pl_client *c, const char *src);
int starts(const char *text, const char *want);
/* Read a reply; it must start with want ("250", "554 5.7.1"). */
const char *expect(struct pl_client *c, const char *want, const char *what);
/* Send a command (CRLF added); its reply must start with want. */
const char *cmd(struct pl_client *c, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ehlo(struct pl_client *c, const char *name);
/* A connection from src, greeted as client.test. */
void session(struct pl_client *c, const char *src);
/* The rest of a message after the 354 and its end; the reply starts with want. */
void body(struct pl_client *c, const char *text, const char *want);
/* MAIL (with params unless NULL), RCPT and DATA, each accepted. */
void start_data_params(struct pl_client *c, const char *from, const char *params, const char *to);
void start_data(struct pl_client *c, const char *from, const char *to);
void deliver(struct pl_client *c, const char *from, const char *to, const char *text);
void quit(struct pl_client *c);
/* A harvester's recipients: RCPT TO:<userN@domain> for N = 0.. up to max,
 * while the replies are 550 5.1.1 (unknown user). The number of those; the
 * reply that ended the run is in rbuf, its code in *last. */
int unknown_rcpts(struct pl_client *c, const char *domain, int max, int *last);
/* Every reply until a 221 or the connection closes (or ms pass), as text. */
const char *read_all(struct pl_client *c, int ms);
/* Replies in a transcript: lines "CODE " (the last line of each reply). */
int final_replies(const char *all);

/* ---- what the backends saw ---- */
/* The fake's events once its connections are over (json_object_put them). */
json_object *seen(int i);
int seen_count(int i, const char *ev, const char *key, const char *needle);
/* The n-th (0-based) event of kind ev, or NULL; borrowed from a. */
json_object *nth(json_object *a, const char *ev, int n);
const char *field(json_object *o, const char *key);
long long ifield(json_object *o, const char *key);
/* Wait until the proxy offers cap in EHLO (the first health check is in). */
void wait_cap(const char *cap);

/* ---- metrics ---- */
char *metrics(void);
long long metric(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wait until the series has the value; returns the last value seen. */
long long metric_wait(long long want, int ms, const char *series);

const char *b64_plain(const char *user, const char *pass);

/* A "dns = { ... };" line for a resolver of this test's own that knows no
 * name (every answer NXDOMAIN), started at the first call: for pools that
 * pass XCLIENT, whose NAME would otherwise depend on the machine's DNS. */
const char *pxc_dns_none(void);

/* ---- TLS ---- */
/* The PKI of tests/lib/mkpki.sh: tests/run.sh makes one for the whole run
 * ($MAILEDGE_PKI); without it, one in this test's directory. Its path. */
const char *pki(void);
/* openssl s_client ARGS (plus -CAfile of the PKI root and -ign_eof), fed
 * input, which must end with what makes the server close (QUIT, LOGOUT): its
 * output (static), and its exit status in *status unless NULL. */
const char *sclient(int *status, const char *input, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The lab's CA and certificate, fake 0, and the proxy on LISTEN_TLS. */
void start_tls(const char *fake_args, const char *limits);
/* STARTTLS on an open client: 220, then a verified handshake. */
void starttls(struct pl_client *c);

#endif
