/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rowfix.h - the BPF test rows' fixture without a test framework: the edge
 * program on private, small maps, the entries of fixture_entries[]
 * (bpf_table_rows.h) in them, and a row's frame as a pkt_spec.
 *
 * tests/lib/bpffix.c wraps it for Criterion tests (failing the test on an
 * error); bench-xdp rows uses it as is. One fixture, two uses.
 */
#ifndef ME_TEST_ROWFIX_H
#define ME_TEST_ROWFIX_H

#include <stddef.h>

#include "edge_load.h"
#include "pkt.h"

struct frame;
struct row;

/* Every table of rows in bpf_table_rows.h, by name. */
struct bpffix_table {
	const char *name;
	const struct row *rows;
	size_t n;
};

extern const struct bpffix_table bpffix_tables[];
extern const size_t bpffix_ntables;

/* Load the edge program with private maps (small capacities) and write the
 * default config. 0, or -errno with why filled. */
int rowfix_load(struct me_prog *prog, struct me_edge *edge, char *why, size_t why_len);

/* Put fixture_entries[] in: the admin's into their maps, list sync's into the
 * tables of their generation, built by list sync's builder. */
int rowfix_fill(struct me_edge *edge, char *why, size_t why_len);

/* The pkt_spec for a row's frame; zero fields become the defaults: TCP to the
 * gateway (GW4/GW6), port 40001 -> 25. */
void rowfix_frame_spec(const struct frame *f, struct pkt_spec *s);

#endif
