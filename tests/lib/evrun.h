/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evrun.h - running a libev loop in a test, for a bounded time.
 */
#ifndef ME_TEST_EVRUN_H
#define ME_TEST_EVRUN_H

#include <ev.h>

/* Run loop until a callback breaks it (ev_break) or secs pass, whichever is
 * first: a callback that never comes fails the test's check after this,
 * instead of hanging it. */
void ev_run_for(struct ev_loop *loop, double secs);

#endif
