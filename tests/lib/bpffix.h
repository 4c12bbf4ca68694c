/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpffix.h - the BPF table's fixture: the edge program loaded on private, small
 * maps, with the list entries of fixture_entries[] (bpf_table_rows.h) in them.
 *
 * test_bpf_table.c runs its frames through this program, and test_loader_ops.c
 * holds common/verdict.c to the same maps; one fixture keeps the two judging the
 * very same lists. Each function fails the calling test on any error.
 */
#ifndef ME_TEST_BPFFIX_H
#define ME_TEST_BPFFIX_H

#include <stddef.h>

#include "edge_load.h"
#include "pkt.h"

#include "rowfix.h" /* bpffix_tables, the rows' fixture without Criterion */

/* Load the edge program with private maps (no pin directory, small
 * capacities) and write the default config (threshold off, ports 25/465/587). */
void bpffix_load(struct me_prog *prog, struct me_edge *edge);

/* bpffix_load, then the lists of fixture_entries[]: manual entries go into
 * the admin's maps, list-sync entries into the tables of their generation,
 * built as list sync builds them and put into that generation's slots. */
void bpffix_load_lists(struct me_prog *prog, struct me_edge *edge);

/* Load the edge program on the maps pinned in pin_dir (as attach does, but
 * on no interface), taking the pin-directory lock for it, so that
 * BPF_PROG_RUN drops, counts and bans in them; edge gets the program's fds. */
void bpffix_load_pinned(struct me_prog *prog, struct me_edge *edge, const char *pin_dir);

/* Close what bpffix_load opened; safe when it failed half-way or never ran. */
void bpffix_close(struct me_prog *prog, struct me_edge *edge);

/* The pkt_spec for a row's frame; zero fields become the defaults: TCP to the
 * gateway (GW4/GW6), port 40001 -> 25. */
void bpffix_frame_spec(const struct frame *f, struct pkt_spec *s);

#endif /* ME_TEST_BPFFIX_H */
