// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - the Prometheus text format for mailedge-listsync.
 *
 * The names are an interface: alerts, the Grafana dashboard and the
 * Prometheus test use them, so they change only with all of those. Why a file
 * and not an endpoint: listsync runs from a timer and is gone between runs;
 * the node exporter's textfile collector is how Debian's own timers
 * (apt, smartmon) publish metrics. A never-successful source has an age of
 * +Inf, so an alert on age fires for it too. The text itself (escaping,
 * atomic replacement) is common/promtext's, shared with the loader.
 */
#include <math.h>

#include "metrics.h"
#include "promtext.h"

/* What a family reports: a value per source, or one for the run. */
enum what { W_ENTRIES, W_LAST_OK, W_AGE, W_FAILURES, W_RUN_AT, W_SUCCESS, W_DURATION };

static const struct family {
	const char *name, *type, *help;
	enum what what;
} families[] = {
	{ "mailedge_listsync_source_entries", "gauge",
	  "Entries the source contributes to the lists (its last good copy).", W_ENTRIES },
	{ "mailedge_listsync_source_last_success_timestamp_seconds", "gauge",
	  "Unix time of the source's last good download or not-modified answer; 0 if never.",
	  W_LAST_OK },
	{ "mailedge_listsync_source_age_seconds", "gauge",
	  "Seconds since the source's last success, at the end of the run (staleness); "
	  "+Inf if never.",
	  W_AGE },
	{ "mailedge_listsync_source_failures_total", "counter",
	  "Failed fetches of the source (download, parse or check), since its first run.",
	  W_FAILURES },
	{ "mailedge_listsync_last_run_timestamp_seconds", "gauge",
	  "Unix time at the end of the last run.", W_RUN_AT },
	{ "mailedge_listsync_last_run_success", "gauge",
	  "1 if the last run applied every source (exit status 0), else 0.", W_SUCCESS },
	{ "mailedge_listsync_run_duration_seconds", "gauge",
	  "How long the last run took, in seconds.", W_DURATION },
};

static int source_sample(FILE *f, const struct family *fam, const struct ls_metrics *m,
			 const struct ls_metric_source *s)
{
	struct prom_label l = { "source", s->name };
	double age = m->now - (double)s->last_ok;

	switch (fam->what) {
	case W_ENTRIES:
		return prom_sample_u64(f, fam->name, &l, 1, s->entries);
	case W_LAST_OK:
		return prom_sample_u64(f, fam->name, &l, 1, s->last_ok);
	case W_AGE:
		/* Never fetched: +Inf, so that an alert on age fires for it too.
		 * A clock that went back gives 0, not a negative age. Whole
		 * seconds: the fetch times it is measured from are. */
		if (!s->last_ok)
			return prom_sample_double(f, fam->name, &l, 1, INFINITY);
		return prom_sample_u64(f, fam->name, &l, 1, age > 0 ? (__u64)(age + 0.5) : 0);
	default:
		return prom_sample_u64(f, fam->name, &l, 1, s->failures_total);
	}
}

static int render(FILE *f, void *ctx)
{
	const struct ls_metrics *m = ctx;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < sizeof(families) / sizeof(families[0]) && !rc; i++) {
		const struct family *fam = &families[i];

		rc = prom_family(f, fam->name, fam->type, fam->help);
		if (rc)
			break;
		switch (fam->what) {
		case W_RUN_AT:
			rc = prom_sample_double(f, fam->name, NULL, 0, m->now);
			break;
		case W_SUCCESS:
			rc = prom_sample_u64(f, fam->name, NULL, 0, m->success ? 1 : 0);
			break;
		case W_DURATION:
			rc = prom_sample_double(f, fam->name, NULL, 0, m->duration);
			break;
		default:
			for (j = 0; j < m->nsrc && !rc; j++)
				rc = source_sample(f, fam, m, &m->src[j]);
		}
	}
	return rc;
}

void ls_metrics_format(FILE *f, const struct ls_metrics *m)
{
	render(f, (void *)m);
}

int ls_metrics_write(const char *path, const struct ls_metrics *m)
{
	return prom_write_file(path, render, (void *)m);
}
