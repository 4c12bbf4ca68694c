// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - the Prometheus text format for mailedge-listsync.
 *
 * The names are an interface: alerts, the Grafana dashboard and the
 * Prometheus test use them, so they change only with all of those. Why a file
 * and not an endpoint: listsync runs from a timer and is gone between runs;
 * the node exporter's textfile collector is how Debian's own timers
 * (apt, smartmon) publish metrics. A never-successful source has an age of
 * +Inf, so an alert on age fires for it too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

/* A label value with \, " and newline escaped, as the format requires.
 * Source names cannot hold them (config.c), but the format must not depend on
 * that. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void src_line(FILE *f, const char *name, const char *source)
{
	fprintf(f, "%s{source=\"", name);
	put_label(f, source);
	fputs("\"} ", f);
}

void ls_metrics_format(FILE *f, const struct ls_metrics *m)
{
	size_t i;

	head(f, "mailedge_listsync_source_entries", "gauge",
	     "Entries the source contributes to the lists (its last good copy).");
	for (i = 0; i < m->nsrc; i++) {
		src_line(f, "mailedge_listsync_source_entries", m->src[i].name);
		fprintf(f, "%llu\n", m->src[i].entries);
	}
	head(f, "mailedge_listsync_source_last_success_timestamp_seconds", "gauge",
	     "Unix time of the source's last good download or not-modified answer; 0 if never.");
	for (i = 0; i < m->nsrc; i++) {
		src_line(f, "mailedge_listsync_source_last_success_timestamp_seconds",
			 m->src[i].name);
		fprintf(f, "%llu\n", m->src[i].last_ok);
	}
	head(f, "mailedge_listsync_source_age_seconds", "gauge",
	     "Seconds since the source's last success, at the end of the run (staleness); "
	     "+Inf if never.");
	for (i = 0; i < m->nsrc; i++) {
		double age = m->now - (double)m->src[i].last_ok;

		src_line(f, "mailedge_listsync_source_age_seconds", m->src[i].name);
		if (!m->src[i].last_ok)
			fputs("+Inf\n", f);
		else
			fprintf(f, "%.0f\n", age > 0 ? age : 0);
	}
	head(f, "mailedge_listsync_source_failures_total", "counter",
	     "Failed fetches of the source (download, parse or check), since its first run.");
	for (i = 0; i < m->nsrc; i++) {
		src_line(f, "mailedge_listsync_source_failures_total", m->src[i].name);
		fprintf(f, "%llu\n", m->src[i].failures_total);
	}
	head(f, "mailedge_listsync_last_run_timestamp_seconds", "gauge",
	     "Unix time at the end of the last run.");
	fprintf(f, "mailedge_listsync_last_run_timestamp_seconds %.3f\n", m->now);
	head(f, "mailedge_listsync_last_run_success", "gauge",
	     "1 if the last run applied every source (exit status 0), else 0.");
	fprintf(f, "mailedge_listsync_last_run_success %d\n", m->success ? 1 : 0);
	head(f, "mailedge_listsync_run_duration_seconds", "gauge",
	     "How long the last run took, in seconds.");
	fprintf(f, "mailedge_listsync_run_duration_seconds %.3f\n", m->duration);
}

int ls_metrics_write(const char *path, const struct ls_metrics *m)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, rc = 0;

	/* A unique name: a run that found the lock taken writes its metrics too.
	 * The collector reads only *.prom, so it never sees the temporary file. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644)) {
		rc = -errno;
		close(fd);
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto out;
	}
	ls_metrics_format(f, m);
	if (fflush(f) || ferror(f))
		rc = errno ? -errno : -EIO;
	if (!rc && fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
out:
	if (rc)
		unlink(tmp);
	return rc;
}
