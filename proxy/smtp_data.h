/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smtp_data.h - the DATA stream between client and backend.
 *
 * SMTP smuggling (CVE-2023-51764/5/6) lives in one gap: a proxy and the server
 * behind it disagree on where a message ends. mailedge closes the gap by never
 * forwarding a line end it did not write itself: only <CR><LF>.<CR><LF> ends
 * DATA, in every mode, every line reaches the backend ending in CRLF, and a
 * bare CR or bare LF either makes the message fail (SD_REJECT, the default) or
 * is turned into CRLF before it is forwarded (SD_NORMALIZE), where a line of
 * "." beside it is content and goes out dot-stuffed. A NUL fails the message in both
 * modes. Either way the backend sees exactly the message mailedge saw, with the
 * same end, and a failed message never reaches its end at the backend at all.
 *
 * The machine is resumable at any byte: feed it whatever arrived.
 */
#ifndef PX_SMTP_DATA_H
#define PX_SMTP_DATA_H

#include <stddef.h>

#include "buf.h"

enum sd_mode {
	SD_REJECT = 0, /* a bare CR or LF fails the message */
	SD_NORMALIZE,  /* a bare CR or LF becomes CRLF */
};

/* Why a message failed (the first reason seen). */
enum sd_bad {
	SD_OK = 0,
	SD_BARE_LF,
	SD_BARE_CR,
	SD_NUL,
	SD_LONG_LINE,
	SD_TOO_BIG,
};

struct sd_state {
	enum sd_mode mode;
	size_t max_line;	     /* longest text line, CRLF included; 0 = no limit */
	unsigned long long max_size; /* most content bytes; 0 = no limit */
	int st;			     /* internal machine state */
	size_t line_len;
	int after_crlf;		 /* the last line end was a real CRLF (or none yet) */
	unsigned long long size; /* content bytes seen (the end marker excluded) */
	enum sd_bad bad;
	int done; /* the end marker was consumed */
};

void sd_init(struct sd_state *s, enum sd_mode mode, size_t max_line, unsigned long long max_size);

/*
 * Consume DATA content from in[0..len). What must go to the backend is
 * appended to out (nothing once the message has failed). Returns the bytes
 * consumed: all of them, or fewer once the end marker is complete (*done set),
 * so that pipelined commands after the message stay in the caller's buffer.
 * Returns (size_t)-1 if out refused bytes (its limit).
 */
size_t sd_feed(struct sd_state *s, const char *in, size_t len, struct buf *out);

const char *sd_bad_reply(enum sd_bad bad);

#endif
