/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reply.h - SMTP replies from a server (a backend or a health-checked member):
 * multi-line parsing and the EHLO capabilities.
 */
#ifndef PX_REPLY_H
#define PX_REPLY_H

#include <stddef.h>

#include "buf.h"

#define PX_REPLY_TEXT 2048

struct px_reply {
	int code;		  /* 250, 354, ... */
	char text[PX_REPLY_TEXT]; /* every line, CRLF-terminated, as received (cut if longer) */
	size_t len;
	int lines;
	int truncated;
};

/*
 * Take one complete reply from the front of in. Returns 1 (r filled, bytes
 * consumed), 0 (incomplete: nothing consumed), or -1 (not an SMTP reply: a line
 * without a 3-digit code, codes that change between lines, or a line over 1000
 * bytes). A server that talks garbage is a failed server, not a puzzle.
 */
int px_reply_take(struct buf *in, struct px_reply *r);

/* Capabilities from an EHLO reply. */
enum {
	PX_CAP_PIPELINING = 1 << 0,
	PX_CAP_SIZE = 1 << 1,
	PX_CAP_8BITMIME = 1 << 2,
	PX_CAP_SMTPUTF8 = 1 << 3,
	PX_CAP_DSN = 1 << 4,
	PX_CAP_ENHANCED = 1 << 5, /* ENHANCEDSTATUSCODES */
	PX_CAP_STARTTLS = 1 << 6,
	PX_CAP_AUTH = 1 << 7,
	PX_CAP_XCLIENT = 1 << 8,
	PX_CAP_CHUNKING = 1 << 9,
};

struct px_caps {
	unsigned int bits;
	unsigned long long size; /* SIZE value; 0 = none given */
	char auth[128];		 /* AUTH mechanisms, space-separated */
	unsigned int xclient;	 /* XCLIENT attributes offered (passclient.h XA_) */
};

void px_caps_parse(const struct px_reply *r, struct px_caps *c);

/* The reply's last line's text after the code and separator (for logs). */
const char *px_reply_last(const struct px_reply *r, char *buf, size_t len);

/* 0 when r has the code want; else -1, and why says "WHAT CODE TEXT" (for logs:
 * what the server answered instead, e.g. "greeting 421 shutting down"). */
int px_reply_expect(const struct px_reply *r, int want, const char *what, char *why,
		    size_t why_len);

#endif
