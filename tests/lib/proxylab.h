/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proxylab.h - a loopback lab for mailedge-proxy: the proxy itself (the build
 * under test, in the foreground, its stderr in a file), fake backends
 * (tests/lib/fakesmtp.py), Postfix smtp-sink backends with dump directories,
 * and an SMTP client that speaks plain or TLS over a raw socket, so a test can
 * send exactly the bytes it wants, in the writes it wants.
 *
 * Everything lives in one directory per test (/tmp/mailedge-test-px-XXXXXX),
 * readable by nobody (the proxy reloads its configuration and the sinks write
 * their dumps after dropping root). Every process started here gets
 * PR_SET_PDEATHSIG and is killed by pl_fini; the fakes also exit when their
 * standard input (a pipe from the test) closes.
 */
#ifndef ME_TEST_PROXYLAB_H
#define ME_TEST_PROXYLAB_H

#include <stddef.h>
#include <sys/types.h>
#include <openssl/ssl.h>
#include <json-c/json.h>

#define PL_NFAKE   4
#define PL_NSINK   4
#define PL_NLISTEN 4

struct pl_child {
	pid_t pid;
	int in_fd; /* the fake's standard input */
	int port;
	char log[128]; /* fake: its JSON-lines log */
	char ctl[128]; /* fake: its control file */
	char dir[128]; /* sink: its dump directory */
};

struct pl {
	char dir[64]; /* "" when there is none */
	struct pl_child fake[PL_NFAKE], sink[PL_NSINK];
	int port[PL_NLISTEN];  /* reserved for listeners (@P0@ ...) */
	int hold[PL_NLISTEN];  /* the SO_REUSEPORT sockets that reserve them */
	int hold6[PL_NLISTEN]; /* and the same ports on [::1] */
	int metrics_port;      /* @M@ */
	pid_t proxy;
	int proxy_status; /* exit status once stopped (128+signal), or -1 */
	char conf[128], proxy_log[128], tls[128];
	/* A network namespace (ip netns name) the proxy and the fakes run in,
	 * entered with nsenter --net so that /sys, and the pinned maps under
	 * /sys/fs/bpf, stay the host's (ip netns exec remounts /sys); "" for
	 * the test's own. Clients connect from wherever the test puts them. */
	char netns[32];
};

/* The directory, reserved ports; 0 or -errno. */
int pl_init(struct pl *l);
/* Kill everything still running, remove the directory. */
void pl_fini(struct pl *l);

/* fakesmtp.py serve with extra arguments (printf-style); 0 or -errno. */
int pl_fake_start(struct pl *l, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Replace the fake's control file (JSON object text). */
int pl_fake_control(struct pl *l, int i, const char *json);
/* Every event the fake logged so far, as a JSON array (json_object_put it). */
json_object *pl_fake_events(const struct pl *l, int i);
/* The objects of a JSON-lines file, as a JSON array (json_object_put it), or
 * NULL if it cannot be read; a line still being written, or one that does not
 * parse, is left out. */
json_object *pl_jsonl(const char *path);
/* Events of kind ev (NULL: any) whose string field key contains needle (key
 * NULL: every event of that kind). */
int pl_count(json_object *events, const char *ev, const char *key, const char *needle);
/* Connections (distinct "conn") that sent MAIL: real sessions, not checks. */
int pl_mail_conns(json_object *events);
/* Wait until every connection the fake accepted is closed again (the proxy's
 * sessions and checks are over, so the log is complete); 0 or -ETIMEDOUT. */
int pl_fake_settle(const struct pl *l, int i, int ms);
/* Wait until the fake logged at least n events of kind ev; the count. */
int pl_fake_wait(const struct pl *l, int i, const char *ev, int n, int ms);

/* smtp-sink on a free port, dumping into its own directory; extra options
 * go before the address. 0 or -errno. */
int pl_sink_start(struct pl *l, int i, const char *extra);
void pl_child_kill(struct pl_child *c, int sig);

/* Write the configuration and start the proxy; wait until it logs "ready"
 * (0) or exits (-1; see the log). Placeholders in the configuration:
 * @P0@-@P3@ listener ports, @M@ metrics, @F0@-@F3@ fake ports, @S0@-@S3@ sink
 * ports, @DIR@ the test directory, @TLS@ its certificate directory. */
int pl_proxy_start(struct pl *l, const char *conf);
/* Start the proxy with these arguments only (no configuration file). */
int pl_proxy_run(struct pl *l, const char *args);
/* Rewrite the configuration file only (for SIGHUP). */
int pl_conf_write(struct pl *l, const char *conf);
int pl_proxy_signal(struct pl *l, int sig);
/* Wait for the proxy to exit: its status, or -ETIMEDOUT. */
int pl_proxy_wait(struct pl *l, int ms);
/* Until the proxy's log holds needle n times (or ms pass); the count. */
int pl_log_wait(const struct pl *l, const char *needle, int n, int ms);
/* A sanitizer report in text? */
int pl_sanitizer(const char *text);

/* The throwaway CA and a server certificate for mx.test / 127.0.0.1 in @TLS@
 * (ca.pem, srv.pem, srv.key); 0, or the openssl status. */
int pl_make_certs(struct pl *l);

/* Sleep, whatever signals come. */
void pl_sleep_ms(int ms);
/* A TCP port free right now on 127.0.0.1 (for a program that binds without
 * SO_REUSEPORT; another may take it first: callers retry), or -errno. */
int pl_free_port(void);
/* Start argv[0] (from PATH) with argv: standard input /dev/null, output and
 * errors appended to log, killed with the test (PR_SET_PDEATHSIG). Its pid,
 * or -errno. */
pid_t pl_spawn_logged(const char *log, char *const argv[]);

/* Run a shell command with a time limit; its status, output in *out (malloc). */
int pl_sh(char **out, int ms, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

char *pl_read_file(const char *path); /* malloc'd, NULL if unreadable */
int pl_write_file(const char *path, const char *text, size_t len);
int pl_count_str(const char *hay, const char *needle);

/* GET path over HTTP/1.0 from 127.0.0.1:port: the body (malloc), or NULL. */
char *pl_http_get(int port, const char *path);
/* The value of a sample "name{labels}" in Prometheus text; -1 if absent. */
long long pl_metric(const char *text, const char *series);

/* ---- the client ---- */

struct pl_client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int lport;	 /* our port, as the proxy sees it */
	char in[131072]; /* read but not yet taken */
	size_t len;
	char err[256];
};

/* Connect to 127.0.0.1:port from src (NULL: any loopback address). */
int pl_connect(struct pl_client *c, const char *src, int port);
/* The same to dst ("::1" for IPv6). */
int pl_connect_to(struct pl_client *c, const char *src, const char *dst, int port);
void pl_close(struct pl_client *c);
/* Send exactly these bytes, in one write (a single segment on loopback). */
int pl_write(struct pl_client *c, const void *p, size_t n);
int pl_send(struct pl_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One whole (multi-line) reply within ms: its code; text holds every line.
 * -ETIMEDOUT on silence, -EPIPE when the connection closed first. */
int pl_reply(struct pl_client *c, char *text, size_t len, int ms);
/* A command line (CRLF added), then its reply. */
int pl_cmd(struct pl_client *c, char *text, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* TLS handshake on the connection (after the 220 to STARTTLS); version 0 = any,
 * else TLS1_2_VERSION, TLS1_3_VERSION... ca NULL: no verification. 0 or -1
 * (c->err says why). */
int pl_tls(struct pl_client *c, const char *ca, int version);
/* Does the connection close within ms (1), or stay open (0)? Bytes read
 * meanwhile are kept. */
int pl_wait_close(struct pl_client *c, int ms);

#endif
