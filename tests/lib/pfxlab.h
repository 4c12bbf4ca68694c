/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfxlab.h - a real Postfix (Debian 12's 3.7, the package scripts/deps.sh
 * installs) as a backend for tests: its own configuration, queue and log in a
 * directory of the test, one smtpd on a free 127.0.0.1 port, nothing shared
 * with /etc/postfix or /var/spool/postfix, so that any number of instances run
 * side by side while the system's Postfix stays unconfigured and stopped.
 *
 * Why a real one: fakesmtp.py and smtp-sink answer what they are told to;
 * Postfix shows what a stock MTA behind the proxy does with PROXY headers,
 * XCLIENT, STARTTLS and relay rules, and its maillog is the evidence (connect
 * lines name the client it believed, qmgr and discard lines show a message
 * really went through the queue).
 *
 * Nothing leaves the instance: every address class (relay, default, local,
 * virtual) goes to the discard transport, so accepted mail is queued, logged
 * as "status=sent (...)" by discard(8), and dropped. No DNS either: there is
 * no SMTP client, and smtpd_peername_lookup = no (connect lines read
 * "unknown[ADDR]" unless XCLIENT sets a NAME), so a sandbox without a
 * resolver costs no timeouts.
 *
 * The instance is ready once a probe session got its 220: the maillog always
 * starts with that session from 127.0.0.1 (after a PROXY v2 LOCAL header when
 * proxy_protocol is on, inside TLS when tls_wrapper is), so tests look for
 * their own addresses or queue ids rather than count every "connect from".
 */
#ifndef ME_TEST_PFXLAB_H
#define ME_TEST_PFXLAB_H

#include <sys/types.h>

struct pfx_opts {
	int proxy_protocol; /* 1: smtpd_upstream_proxy_protocol = haproxy (v1 and v2) */
	int xclient;	    /* 1: smtpd_authorized_xclient_hosts = 127.0.0.0/8 */
	/* Non-NULL: STARTTLS (smtpd_tls_security_level = may) with this PEM
	 * certificate (chain) and key (NULL: in the certificate's file); the
	 * maillog gets smtpd_tls_loglevel 1. */
	const char *tls_cert, *tls_key;
	int tls_wrapper;	   /* 1: implicit TLS on the port (needs tls_cert) */
	const char *extra_main_cf; /* lines appended to main.cf (the last value wins), or NULL */
};

struct pfx {
	char dir[256];	   /* the instance: etc/ (config), spool/, data/, maillog */
	int port;	   /* its smtpd on 127.0.0.1 */
	char maillog[300]; /* maillog_file, written by postlogd */
	/* master(8), also the process group of the whole instance; kept after
	 * pfx_stop so that a test can check nothing of that group is left. */
	pid_t master;
	/* The subreaper that started master and reaps every process of the
	 * instance; > 0 while the instance runs. */
	pid_t keeper;
};

/*
 * Create an instance directory under parent_dir (which must let the postfix
 * user through: pl_init's is 0755), write its configuration and start master;
 * return once the port answered 220 (0), or -errno (what went wrong and the
 * maillog on stderr, nothing left running). o may be NULL: no options.
 */
int pfx_start(struct pfx *p, const char *parent_dir, const struct pfx_opts *o);
/* Kill master and every process of the instance and reap them all. Safe to
 * call twice, and on a zeroed struct that never started. The directory stays
 * (the test directory's owner removes it). */
void pfx_stop(struct pfx *p);

/* The maillog (malloc), NULL if there is none yet. */
char *pfx_log(const struct pfx *p);
/* Until the maillog holds needle n times (or ms pass); the count. */
int pfx_log_wait(const struct pfx *p, const char *needle, int n, int ms);
/* The first maillog line holding a and (if non-NULL) b, without its newline
 * (malloc), or NULL. */
char *pfx_log_line(const struct pfx *p, const char *a, const char *b);

/* Live or unreaped processes of the instance: those in master's process group
 * and those whose environment names its configuration (MAIL_CONFIG, which
 * master hands down to every daemon). Up to max pids in pids; the count. */
int pfx_procs(const struct pfx *p, pid_t *pids, int max);

#endif
