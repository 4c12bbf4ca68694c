/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - mailedge-listsync's Prometheus metrics, written to a file after
 * every run (metrics_file), for node exporter's textfile collector or any
 * scraper that reads a file.
 */
#ifndef LS_METRICS_H
#define LS_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct ls_metric_source {
	const char *name;
	unsigned long long entries;	   /* in the union from this source now */
	unsigned long long last_ok;	   /* unix time of the last good fetch or 304; 0 never */
	unsigned long long failures_total; /* failed fetches and parses, ever */
};

struct ls_metrics {
	const struct ls_metric_source *src;
	size_t nsrc;
	double now;	 /* unix time at the end of the run */
	int success;	 /* the run's exit status was 0 */
	double duration; /* seconds the run took */
};

/* The metrics in Prometheus text exposition format (version 0.0.4). */
void ls_metrics_format(FILE *f, const struct ls_metrics *m);

/* Write them to path atomically: a temporary file in the same directory,
 * fsync, rename, mode 0644 (the collector runs as another user). */
int ls_metrics_write(const char *path, const struct ls_metrics *m);

#endif
