// SPDX-License-Identifier: GPL-2.0
/*
 * evrun.c - running a libev loop in a test, for a bounded time.
 */
#include "evrun.h"

static void on_guard(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

void ev_run_for(struct ev_loop *loop, double secs)
{
	ev_timer guard;

	ev_timer_init(&guard, on_guard, secs, 0);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
}
