/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dovelab.h - a real Dovecot (IMAP and POP3) on loopback, as a backend for
 * tests: one instance per call, in a directory of its own under the test's
 * directory, with its own configuration, base_dir, state_dir and log.
 *
 * Why the real server and not a fake: what a mail client and a proxy in front
 * of it must get right (greetings, literals, multi-line replies, PROXY headers,
 * the log's view of the client address) is what Dovecot really does, and
 * curl and other stock clients can check the lab itself.
 *
 * The instance: one user, "alice" with password "secret" (a passwd-file
 * passdb, so any other name fails as it would on a real server; a static
 * userdb), plaintext login allowed without TLS on loopback, a maildir with one
 * message (DL_MESSAGE) already delivered to her INBOX. The master runs as root
 * in the foreground (dovecot -F) with PR_SET_PDEATHSIG; Dovecot's own
 * children exit when the master does. Mail is accessed as nobody/nogroup
 * (Dovecot refuses uid 0), the login processes run as dovenull and the
 * internal ones as dovecot, the users the Debian packages create: so the
 * parent directory must be searchable by others (mode o+x; proxylab's is).
 *
 * Needs the Debian packages dovecot-imapd and dovecot-pop3d (whose own
 * service must not be left running: the tests run their own instances).
 */
#ifndef ME_TEST_DOVELAB_H
#define ME_TEST_DOVELAB_H

#include <stddef.h>
#include <sys/types.h>

#include "proxylab.h"

#define DL_USER "alice"
#define DL_PASS "secret"
/* The message in alice's INBOX, byte for byte as IMAP FETCH BODY[] and POP3
 * RETR 1 return it (before POP3's dot-stuffing and final dot). */
#define DL_MESSAGE                                                                                 \
	"Return-Path: <bob@example.org>\r\n"                                                       \
	"From: Bob <bob@example.org>\r\n"                                                          \
	"To: Alice <alice@example.org>\r\n"                                                        \
	"Subject: dovelab message\r\n"                                                             \
	"Message-ID: <dovelab-1@example.org>\r\n"                                                  \
	"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"                                                \
	"\r\n"                                                                                     \
	"Hello Alice, this is the one message of the dovelab mailbox.\r\n"

struct dl_opts {
	/* Accept PROXY v1/v2 headers from 127.0.0.0/8 on both listeners
	 * (haproxy_trusted_networks, inet_listener haproxy = yes): every
	 * connection must then start with one. */
	int haproxy;
};

struct dl {
	char dir[256]; /* "" before dl_start */
	int imap_port, pop3_port;
	pid_t pid; /* the master; -1 when none */
	char log[300];
};

/*
 * Create PARENT_DIR/dl-XXXXXX, write the configuration, the passwd-file and
 * the maildir, start Dovecot on two free loopback ports and wait until both
 * greet. The parent's path: at most 64 characters (Dovecot's socket paths
 * grow from it), of letters, digits and "/._-". o may be NULL (defaults). 0, or -errno (what went
 * wrong is printed on stderr with the log). The files stay after dl_stop, for the test to read;
 * whoever owns the parent directory removes them.
 */
int dl_start(struct dl *d, const char *parent_dir, const struct dl_opts *o);
/* Stop the instance and make sure none of its processes is left: SIGTERM to
 * the sessions (clients get "* BYE" / the connection closes) and the master,
 * and once the log is written, SIGKILL to whatever remains (~30 ms; Dovecot
 * on its own takes 1 s, 10 s with sessions). Safe twice, and on a struct
 * that dl_start failed on or that is all zeroes. */
void dl_stop(struct dl *d);
/* How many processes of this instance run: the master (its command line
 * names the configuration in d->dir) and its children (their titles carry
 * the instance name, "dovecot-dl-XXXXXX/..."). */
int dl_procs(const struct dl *d);

/*
 * Read lines into text until one starts with end (an IMAP tag and a space,
 * "a1 ", or "+OK"/"-ERR" for POP3, or "." alone for the end of a POP3
 * multi-line reply: end ".\r\n"), within ms. IMAP literals need no care: the
 * tagged line cannot appear inside the one message. 0, -ETIMEDOUT, -EPIPE, or
 * -ENOBUFS when text fills up first.
 */
int dl_read_until(struct pl_client *c, const char *end, char *text, size_t len, int ms);

#endif
