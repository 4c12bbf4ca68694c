// SPDX-License-Identifier: GPL-2.0
/*
 * bench_rows.c - bench-xdp rows: the BPF test table's rows, timed.
 *
 *   bench-xdp rows [--runs N] [-v]
 *
 * One description of frames for test and bench (Katran's fixtures and
 * testPerfFromFixture): this file loads tests/lib/rowfix.c's fixture, the one
 * the Criterion tests load through bpffix.c (admin entries into the admin's
 * maps, list-sync entries merged into a union per generation and built by
 * list sync's own builder into that generation's slots), and runs every row
 * of the tables bpffix_tables lists through
 * BPF_PROG_RUN, N times each, under the row's sync generation. Every run must
 * get the row's XDP action (or the kernel's refusal, for a row that expects
 * it); the figures are ns per frame by row class (family, reason/verdict, and
 * whether an admin or a list-sync entry decided), all tables hot: what a
 * verdict costs when nothing has to come from memory. progrun takes its frame
 * templates from here too.
 *
 * rowfix.c rather than bpffix.c: the latter reports through Criterion's
 * cr_assert, which outside a Criterion test aborts and loses the message. Rows
 * whose frames test_bpf_table.c
 * mangles or truncates after building (malformed headers) are skipped and
 * counted: that code is the test's own, and those rows are not verdict paths.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "edge_load.h"
#include "lists.h"
#include "../../listsync/sync_apply.h"
#include "../../listsync/table_build.h"
#include "../../listsync/union.h"
#include "../lib/pkt.h"
#include "../lib/rowfix.h"
#include "../bpf_table_rows.h"
#include "bench_xdp.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Padding is the one edit after building that the bench repeats (it leaves
 * the headers as built); the others make malformed frames. */
static int buildable(const struct frame *f)
{
	return f->cut_from == CUT_NONE && (f->mangle == MANGLE_NONE || f->mangle == MANGLE_PAD);
}

size_t bench_frame_build(const struct frame *f, const char *src, uint8_t *buf, size_t cap)
{
	struct pkt_spec s;
	size_t len;

	rowfix_frame_spec(f, &s);
	if (src)
		s.src = src;
	len = pkt_build(&s, buf, cap);
	if (len && f->mangle == MANGLE_PAD && (size_t)f->arg > len) {
		if ((size_t)f->arg > cap)
			return 0;
		memset(buf + len, 0, (size_t)f->arg - len);
		len = (size_t)f->arg;
	}
	return len;
}

const struct frame *bench_row_frame(const char *desc)
{
	size_t t, i;

	for (t = 0; t < bpffix_ntables; t++)
		for (i = 0; i < bpffix_tables[t].n; i++)
			if (!strcmp(bpffix_tables[t].rows[i].desc, desc))
				return &bpffix_tables[t].rows[i].f;
	die("bpf_table_rows.h has no row '%s'", desc);
}

static void fixture_load(struct me_prog *prog, struct me_edge *e)
{
	char why[256] = "";

	if (rowfix_load(prog, e, why, sizeof(why)) || rowfix_fill(e, why, sizeof(why)))
		die("%s", why);
}

static void set_gen(struct me_edge *e, __u32 gen)
{
	struct me_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &c))
		die("cannot read the configuration: %s", strerror(errno));
	c.sync_gen = gen;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, &c, BPF_ANY))
		die("cannot write the configuration: %s", strerror(errno));
}

/* ---- timing ---- */

struct rclass {
	char name[64];
	__u32 rows;
	__u32 med[256]; /* each row's median */
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static void class_name(const struct row *r, char *buf, size_t len)
{
	const char *fam = r->f.family == AF_INET ? "v4" : r->f.family == AF_INET6 ? "v6" : "--";
	const char *by = r->want.hit == NO_HIT		    ? ""
			 : r->want.hit >= ME_SRC_SYNC_FIRST ? " (sync)"
							    : " (admin)";

	if (r->refused) {
		snprintf(buf, len, "%s refused by the kernel", fam);
		return;
	}
	snprintf(buf, len, "%s %s/%s%s", fam, me_reason_name((enum me_reason)r->want.reason),
		 me_verdict_name((enum me_verdict)r->want.verdict), by);
}

/* Run a row's frame runs times; its median ns, or -1 after a wrong verdict. */
static long time_row(int prog_fd, const struct row *r, __u32 runs, __u32 *ns)
{
	unsigned char in[PKT_MAX], out[PKT_MAX];
	size_t len = bench_frame_build(&r->f, NULL, in, sizeof(in));
	__u32 i;

	if (!len)
		die("row '%s': the frame builder refused the frame", r->desc);
	for (i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		int rc = bpf_prog_test_run_opts(prog_fd, &o);

		if (r->refused) {
			if (!rc || errno != EINVAL) {
				fprintf(stderr, "bench-xdp: row '%s': got %s, want EINVAL\n",
					r->desc, rc ? strerror(errno) : "a run");
				return -1;
			}
			/* The refusal is the verdict; there is no duration. */
			ns[i] = 0;
			continue;
		}
		if (rc)
			die("row '%s': BPF_PROG_RUN: %s", r->desc, strerror(errno));
		if (o.retval != r->want.act) {
			fprintf(stderr, "bench-xdp: row '%s': got XDP action %u, want %u\n",
				r->desc, o.retval, r->want.act);
			return -1;
		}
		ns[i] = o.duration;
	}
	qsort(ns, runs, sizeof(*ns), cmp_u32);
	return ns[runs / 2];
}

void cmd_rows(int argc, char **argv)
{
	static const struct option opts[] = { { "runs", required_argument, NULL, 'r' },
					      { "verbose", no_argument, NULL, 'v' },
					      { NULL, 0, NULL, 0 } };
	static struct rclass cls[64];
	__u32 runs = 1000, *ns, ncls = 0, timed = 0, skipped = 0, wrong = 0, c;
	struct me_prog prog = { 0 };
	struct me_edge e;
	size_t t, i;
	int opt, verbose = 0;

	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (opt == 'r')
			runs = (__u32)strtoul(optarg, NULL, 10);
		else if (opt == 'v')
			verbose = 1;
		else
			die("usage: bench-xdp rows [--runs N] [-v]");
	}
	if (runs < 1)
		die("--runs must be at least 1");
	ns = calloc(runs, sizeof(*ns));
	if (!ns)
		die("out of memory");
	fixture_load(&prog, &e);

	for (t = 0; t < bpffix_ntables; t++) {
		for (i = 0; i < bpffix_tables[t].n; i++) {
			const struct row *r = &bpffix_tables[t].rows[i];
			char name[64];
			long med;

			if (!buildable(&r->f)) {
				skipped++;
				continue;
			}
			set_gen(&e, r->gen);
			med = time_row(me_prog_fd(&prog), r, runs, ns);
			if (med < 0) {
				wrong++;
				continue;
			}
			timed++;
			if (verbose)
				printf("  %-28s %6ld ns  %s\n", bpffix_tables[t].name, med, r->desc);
			class_name(r, name, sizeof(name));
			for (c = 0; c < ncls && strcmp(cls[c].name, name); c++)
				;
			if (c == ncls) {
				if (ncls == ARRAY_LEN(cls))
					die("more than %zu row classes", ARRAY_LEN(cls));
				snprintf(cls[ncls++].name, sizeof(cls[0].name), "%s", name);
			}
			if (cls[c].rows < ARRAY_LEN(cls[c].med))
				cls[c].med[cls[c].rows++] = (__u32)med;
		}
	}
	set_gen(&e, 0);

	printf("BPF test rows (tests/bpf_table_rows.h, the fixture of tests/lib/bpffix.c): "
	       "%u rows timed, %u runs each,\nevery run checked against the row's action; "
	       "%u mangled or truncated rows skipped\n",
	       timed, runs, skipped);
	printf("%-40s %5s %10s %8s %8s\n", "row class (hot cache)", "rows", "median ns", "min",
	       "max");
	for (c = 0; c < ncls; c++) {
		qsort(cls[c].med, cls[c].rows, sizeof(cls[c].med[0]), cmp_u32);
		printf("%-40s %5u %10u %8u %8u\n", cls[c].name, cls[c].rows,
		       cls[c].med[cls[c].rows / 2], cls[c].med[0], cls[c].med[cls[c].rows - 1]);
	}
	free(ns);
	me_edge_close(&e);
	me_prog_close(&prog);
	if (wrong) {
		fprintf(stderr, "bench-xdp: %u rows got another verdict than the table's\n", wrong);
		exit(1);
	}
}
