/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - read the per-CPU counters of the edge filter, summed over CPUs.
 */
#ifndef ME_COUNTERS_H
#define ME_COUNTERS_H

#include <linux/types.h>
#include "mailedge_abi.h"

/* Sum of stats/list_hits element key over all possible CPUs. */
int me_counter_read(int fd, __u32 key, struct me_counter *out);
/* Sum of events element key over all possible CPUs. */
int me_event_read(int fd, __u32 key, __u64 *out);

const char *me_reason_name(enum me_reason r);
const char *me_verdict_name(enum me_verdict v);
const char *me_event_name(enum me_event ev);

#endif
