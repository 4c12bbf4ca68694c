/* SPDX-License-Identifier: GPL-2.0 */
/*
 * promtext.h - write Prometheus text exposition (format 0.0.4) to a FILE.
 *
 * For programs that publish metrics as a file for node exporter's textfile
 * collector (mailedge-loader metrics, and list sync's metrics_file). A file
 * there is read whole at every scrape, so prom_write_file replaces it
 * atomically: the collector sees the old file or the new one, never half.
 *
 * Names are checked, not escaped: a metric or label name that the format does
 * not allow is a programming error, reported as -EINVAL. Label values and
 * HELP text come from outside (source names, interface names) and are escaped
 * as the format says (\\, \" and \n); bytes that are not UTF-8 become U+FFFD,
 * since Prometheus refuses a whole scrape over one invalid label value.
 */
#ifndef ME_PROMTEXT_H
#define ME_PROMTEXT_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct prom_label {
	const char *name;
	const char *value;
};

/* [a-zA-Z_:][a-zA-Z0-9_:]* for a metric, no ':' for a label (and not "__..."). */
int prom_metric_name_ok(const char *name);
int prom_label_name_ok(const char *name);

/* Write v escaped for a label value (in_help = 0) or for HELP text (1, where
 * quotes stay as they are). */
void prom_escape(FILE *f, const char *v, int in_help);

/* "# HELP name help" and "# TYPE name type"; type is counter, gauge or untyped.
 * 0 or -EINVAL. */
int prom_family(FILE *f, const char *name, const char *type, const char *help);

/* One sample: name{l0="v0",...} value. Labels with a NULL value are left out.
 * 0 or -EINVAL. */
int prom_sample_u64(FILE *f, const char *name, const struct prom_label *l, size_t nl, __u64 v);
int prom_sample_double(FILE *f, const char *name, const struct prom_label *l, size_t nl, double v);

/* Replace path atomically with what render writes: a temporary file in the
 * same directory (a dot file, not *.prom, so the collector never picks it up),
 * mode 0644, fsync'd, then renamed over path. render returns 0 or -errno; on
 * any failure path is left as it was. Returns 0 or -errno. */
typedef int (*prom_render_fn)(FILE *f, void *ctx);
int prom_write_file(const char *path, prom_render_fn render, void *ctx);

#endif
