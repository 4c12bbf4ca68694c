// SPDX-License-Identifier: GPL-2.0
/*
 * smtp_data.c - the DATA line-end machine.
 *
 * States, by what the current line holds so far:
 *
 *   BOL     nothing: at the start of a line
 *   DOT     "."      (could become the end marker)
 *   DOTCR   ".\r"
 *   TEXT    anything else
 *   CR      a line that ended in "\r", waiting to see if "\n" follows
 *
 * Only <CR><LF>.<CR><LF> ends a message, in both modes and whether or not the
 * message has failed: the dot's line must start after a real CRLF and end in
 * one. In SD_NORMALIZE mode a bare CR or LF ends a line (and goes out as CRLF),
 * but a line of "." next to such a line end is content, not the end: it goes
 * out dot-stuffed ("..\r\n"), so the backend cannot see an end the proxy did
 * not. This is how Postfix's smtpd_forbid_bare_newline = normalize behaves;
 * ending at "\n.\n" in this mode is exactly the smuggling receiver of
 * CVE-2023-51764: the bytes after it would run as a second transaction.
 *
 * Once a message has failed nothing more is forwarded; the machine goes on to
 * the strict end, so the bytes a smuggler hoped would end the message and start
 * a command ("\n.\n MAIL FROM:...") stay message content and go with it.
 *
 * The first dot of a line is the transparency dot (RFC 5321 4.5.2): the
 * server removes it, so it counts toward neither the line limit (4.5.3.1.6)
 * nor the message size (RFC 1870 4).
 */
#include <string.h>

#include "smtp_data.h"

enum { BOL, DOT, DOTCR, TEXT, CR };

void sd_init(struct sd_state *s, enum sd_mode mode, size_t max_line, unsigned long long max_size)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->max_line = max_line;
	s->max_size = max_size;
	s->st = BOL;
	s->after_crlf = 1; /* the DATA command's own line end */
}

static void fail(struct sd_state *s, enum sd_bad why)
{
	if (!s->bad)
		s->bad = why;
}

/* Forward bytes, unless the message already failed. */
static int emit(struct sd_state *s, struct buf *out, const char *p, size_t n)
{
	if (s->bad)
		return 0;
	return buf_add(out, p, n);
}

/* Account content bytes against the size and line limits. */
static void count(struct sd_state *s, size_t n, int line_bytes)
{
	s->size += n;
	if (s->max_size && s->size > s->max_size)
		fail(s, SD_TOO_BIG);
	if (line_bytes) {
		s->line_len += n;
		/* max_line counts the CRLF, which is not here yet. */
		if (s->max_line && s->line_len + 2 > s->max_line)
			fail(s, SD_LONG_LINE);
	}
}

/*
 * Account and forward a run of text bytes. Only what fits the limits is
 * forwarded, and the byte that crosses a limit is counted on its own, so
 * the result (what went out, and why the message failed) is the same
 * whichever way the bytes were split as they arrived.
 */
static int text(struct sd_state *s, struct buf *out, const char *p, size_t n)
{
	size_t room = n;
	int err;

	if (!s->bad && s->max_size && s->max_size - s->size < room)
		room = (size_t)(s->max_size - s->size);
	if (!s->bad && s->max_line) {
		/* max_line counts the CRLF, which is not here yet */
		size_t line_room =
		    s->max_line > s->line_len + 2 ? s->max_line - 2 - s->line_len : 0;

		if (line_room < room)
			room = line_room;
	}
	count(s, room, 1);
	err = emit(s, out, p, room);
	if (room < n) {
		count(s, 1, 1); /* the byte that crosses the first limit */
		count(s, n - room - 1, 1);
	}
	return err;
}

/* A line end (a real CRLF, or a bare CR/LF normalised): forward CRLF. */
static int line_end(struct sd_state *s, struct buf *out, int real)
{
	count(s, 2, 0);
	s->line_len = 0;
	s->st = BOL;
	s->after_crlf = real;
	return emit(s, out, "\r\n", 2);
}

/* A line of "." that is not the end (normalize mode only: it touches a bare
 * line end). Forwarded stuffed, so the backend reads a line of "." as content
 * rather than its own end of data. */
static int lone_dot(struct sd_state *s, struct buf *out, int real)
{
	int err = emit(s, out, ".", 1);

	err = err ? err : emit(s, out, ".", 1);
	count(s, 1, 1); /* the dot left after the server removes the stuffing */
	return err ? err : line_end(s, out, real);
}

/* A bare CR or LF: fail the message or treat it as a line end. Returns 1 if
 * it ended the line. */
static int bare(struct sd_state *s, enum sd_bad why, struct buf *out, int *err)
{
	if (s->mode == SD_NORMALIZE) {
		*err = line_end(s, out, 0);
		return 1;
	}
	fail(s, why);
	return 0;
}

size_t sd_feed(struct sd_state *s, const char *in, size_t len, struct buf *out)
{
	size_t i = 0;
	int err = 0;

	while (i < len && !s->done && !err) {
		unsigned char c = (unsigned char)in[i];

		/* NUL has no place in a message (RFC 5321 2.3.8). It fails the
		 * message in both modes: dropping it could turn a line ".\0" into
		 * "." and forward an end marker the client never sent. The line is
		 * text from here on, so "\0." and ".\0" never end DATA. */
		if (c == '\0' && s->st != CR && s->st != DOTCR) {
			fail(s, SD_NUL);
			count(s, 1, 1);
			s->st = TEXT;
			i++;
			continue;
		}
		switch (s->st) {
		case BOL:
			if (c == '.') {
				s->st = DOT;
			} else if (c == '\r') {
				s->st = CR;
			} else if (c == '\n') {
				if (!bare(s, SD_BARE_LF, out, &err))
					s->st = TEXT; /* the line goes on, strictly, as text */
			} else {
				s->st = TEXT; /* look at c again, as text */
				break;
			}
			i++;
			break;
		case TEXT:
			if (c == '\r') {
				s->st = CR;
				i++;
			} else if (c == '\n') {
				bare(s, SD_BARE_LF, out, &err);
				i++;
			} else {
				/* A run of ordinary bytes goes in one piece. */
				size_t j = i + 1;

				while (j < len && in[j] != '\r' && in[j] != '\n' && in[j] != '\0')
					j++;
				err = text(s, out, in + i, j - i);
				i = j;
			}
			break;
		case CR:
			if (c == '\n') {
				err = line_end(s, out, 1);
				i++;
			} else if (!bare(s, SD_BARE_CR, out, &err)) {
				/* Failed: the CR is text; look at c again as text. */
				count(s, 1, 1);
				s->st = TEXT;
			}
			/* normalised: now at BOL, c is looked at again */
			break;
		case DOT:
			if (c == '\r') {
				s->st = DOTCR;
				i++;
			} else if (c == '\n') {
				if (s->mode == SD_NORMALIZE) {
					/* ".\n": a line of "." ended by a bare LF. */
					err = lone_dot(s, out, 0);
				} else {
					fail(s, SD_BARE_LF);
					s->st = TEXT;
				}
				i++;
			} else {
				/* A line that starts with a dot (stuffed or not): forwarded
				 * as it came, stuffing and all; the dot is not counted. */
				err = emit(s, out, ".", 1);
				s->st = TEXT;
			}
			break;
		case DOTCR:
			if (c == '\n' && s->after_crlf) {
				err = emit(s, out, ".\r\n", 3);
				s->done = 1;
				i++;
			} else if (c == '\n') {
				/* ".\r\n" after a bare line end (normalize only). */
				err = lone_dot(s, out, 1);
				i++;
			} else if (s->mode == SD_NORMALIZE) {
				/* ".\r" then not LF: a line of "." ended by a bare CR;
				 * c belongs to what follows. */
				err = lone_dot(s, out, 0);
			} else {
				fail(s, SD_BARE_CR);
				count(s, 1, 1); /* the CR; the dot is not counted */
				s->st = TEXT;
			}
			break;
		}
	}
	return err ? (size_t)-1 : i;
}

const char *sd_bad_reply(enum sd_bad bad)
{
	switch (bad) {
	case SD_BARE_LF:
		return "550 5.5.2 Message refused: bare <LF> received (lines must end in <CR><LF>)";
	case SD_BARE_CR:
		return "550 5.5.2 Message refused: bare <CR> received (lines must end in <CR><LF>)";
	case SD_NUL:
		return "550 5.6.0 Message refused: NUL character in message";
	case SD_LONG_LINE:
		return "550 5.5.2 Message refused: line longer than 1000 characters";
	case SD_TOO_BIG:
		return "552 5.3.4 Message size exceeds the fixed maximum message size";
	default:
		return "250 2.0.0 Ok";
	}
}
