/* SPDX-License-Identifier: GPL-2.0 */
/*
 * health.h - active health checks of every pool member.
 */
#ifndef PX_HEALTH_H
#define PX_HEALTH_H

#include <ev.h>

#include "config.h"

struct px_health;

/* Check every member of every pool of c, on loop, from now on. */
struct px_health *px_health_start(struct ev_loop *loop, struct px_config *c);
void px_health_stop(struct px_health *h);

#endif
