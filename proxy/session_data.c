// SPDX-License-Identifier: GPL-2.0
/*
 * session_data.c - a message on its way from the client to the backend.
 *
 * Streamed, never buffered whole: what smtp_data.c passes goes straight to the
 * backend connection, and reading from the client pauses while the backend is
 * more than DATA_HIGH_WATER behind. The client's 250 is the backend's own reply
 * to the end of the message; when the message fails here (bare CR/LF, NUL, too
 * big, a line too long) the backend connection is closed mid-message, so the
 * backend discards it instead of delivering a message the client was told was
 * refused. When the backend fails mid-message, the client gets 451 after its
 * end of data: nothing is ever reported accepted that the backend did not accept.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "session.h"

#define DATA_HIGH_WATER (512 * 1024)

/* The backend went away with the message, or did not answer its end: it may
 * or may not have it, so the client must try again, not assume. */
static void data_lost(struct session *s)
{
	atomic_fetch_add(&px_stats.data_failed, 1);
	s->msgs_failed++;
	session_reply(s,
		      "451 4.4.2 %s Error: lost the mail server during the message, try "
		      "again later",
		      s->cfg->hostname);
}

static void data_end_reply(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	char last[100];

	if (!ok) {
		session_log(s, ME_LOG_INFO, "tempfail", "error", err);
		data_lost(s);
	} else {
		/* Counted before the client can see the reply, so the metrics
		 * never lag what a client has already been told. */
		if (r->code / 100 == 2) {
			s->msgs_ok++;
			atomic_fetch_add(&px_stats.data_ok, 1);
		} else {
			s->msgs_failed++;
			s->rejects++;
			atomic_fetch_add(&px_stats.data_failed, 1);
		}
		io_write(s->io, r->text, r->len);
		snprintf(s->last_reply, sizeof(s->last_reply), "%d %s", r->code,
			 px_reply_last(r, last, sizeof(last)));
	}
	/* From SS_DATA (where every message ends) this is SS_READY again. */
	session_reset_tx(s);
	session_next(s);
}

void session_data_begin(struct session *s)
{
	sd_init(&s->data, s->cfg->data_mode, s->lim.text_line, s->lim.message_size);
	buf_reset(&s->fwd);
	s->bk.step = BK_DATA;
	s->data_start = session_now();
	s->data_paused = 0;
	session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	enter_state(s, SS_DATA);
	io_set_timeout(s->io, s->lim.data_timeout);
	session_data_in(s); /* bytes may already be waiting */
}

static void data_done(struct session *s)
{
	enum px_rej why;

	if (s->data.bad) {
		/* Refused here: the backend must not deliver what it has. */
		bk_close(s, 0);
		why = s->data.bad == SD_TOO_BIG	    ? REJ_SIZE
		      : s->data.bad == SD_LONG_LINE ? REJ_LINE
						    : REJ_BARE_NEWLINE;
		atomic_fetch_add(&px_stats.data_refused, 1);
		s->msgs_failed++;
		/* Logged with its sender, then forgotten (a 421 for too many
		 * errors leaves the session closing, which the reset keeps). */
		session_reject(s, why, "%s", sd_bad_reply(s->data.bad));
		session_reset_tx(s);
		if (s->state != SS_CLOSING)
			session_next(s);
		return;
	}
	if (s->bk.failed || !s->bk.io) {
		data_lost(s);
		session_reset_tx(s);
		session_next(s);
		return;
	}
	/* The end marker went with the rest; now the backend decides. */
	bk_wait_reply(s, data_end_reply, s->lim.backend_data_timeout);
	io_set_timeout(s->io, s->lim.backend_data_timeout + 60);
}

void session_data_in(struct session *s)
{
	struct buf *in = io_in(s->io), *out;
	double elapsed;
	size_t used;

	if (s->state != SS_DATA || s->data_paused)
		return;
	/* The message goes straight into the backend connection's output: one
	 * copy from the client's input, the one the line-end machine must make
	 * anyway. With the backend gone it goes nowhere (the client hears 451
	 * at its end). */
	out = s->bk.io && !s->bk.failed ? io_out(s->bk.io) : &s->fwd;
	used = sd_feed(&s->data, buf_ptr(in), buf_avail(in), out);
	if (used == (size_t)-1) {
		session_reply(s, "451 4.3.0 %s Error: out of memory", s->cfg->hostname);
		session_close(s, "out of memory");
		return;
	}
	io_consume(s->io, used);
	if (out == &s->fwd)
		buf_reset(&s->fwd);
	else
		io_flush(s->bk.io);
	if (s->data.done) {
		data_done(s);
		return;
	}
	/* Slowloris in DATA: a message must average data_min_rate. */
	elapsed = session_now() - s->data_start;
	if (s->lim.data_min_rate && elapsed > s->lim.data_rate_grace &&
	    (double)s->data.size < elapsed * s->lim.data_min_rate) {
		atomic_fetch_add(&px_stats.rejects[REJ_SLOW], 1);
		bk_close(s, 0);
		session_reply(s, "421 4.4.2 %s Error: message data too slow", s->cfg->hostname);
		session_close(s, "data below data_min_rate");
		return;
	}
	if (s->bk.io && io_pending(s->bk.io) > DATA_HIGH_WATER) {
		s->data_paused = 1;
		io_pause_read(s->io);
	}
	io_set_timeout(s->io, s->lim.data_timeout);
}

void session_data_backend_drained(struct session *s)
{
	if (!s->data_paused)
		return;
	s->data_paused = 0;
	io_resume_read(s->io);
	session_data_in(s); /* what was buffered while paused */
}
