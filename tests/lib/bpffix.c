// SPDX-License-Identifier: GPL-2.0
/*
 * bpffix.c - the BPF table's fixture for Criterion tests: rowfix.c, failing the
 * calling test on any error.
 *
 * Shared by test_bpf_table.c (the kernel's verdicts) and test_loader_ops.c
 * (verdict.c, the userspace copy, judged against the same maps), so that both
 * always see the same entries in the same maps and slots.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edge_load.h"
#include "lists.h"
#include "bpffix.h"

void bpffix_load(struct me_prog *prog, struct me_edge *edge)
{
	char why[256] = "";

	cr_assert_eq(rowfix_load(prog, edge, why, sizeof(why)), 0, "loading the XDP program: %s",
		     why);
}

void bpffix_load_lists(struct me_prog *prog, struct me_edge *edge)
{
	char why[256] = "";

	bpffix_load(prog, edge);
	cr_assert_eq(rowfix_fill(edge, why, sizeof(why)), 0, "filling the fixture: %s", why);
}

void bpffix_load_pinned(struct me_prog *prog, struct me_edge *edge, const char *pin_dir)
{
	struct me_sizes none = { 0 };
	char why[256] = "";
	int created = 0, dfd;

	dfd = open(pin_dir, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(dfd, 0, "opening %s: %s", pin_dir, strerror(errno));
	cr_assert_eq(me_flock_wait(dfd, 10000, 10, NULL), 0, "locking the pin directory");
	cr_assert_eq(me_prog_load(prog, pin_dir, &none, edge, &created, why, sizeof(why)), 0,
		     "loading the program on the pinned maps: %s", why);
	close(dfd);
}

void bpffix_close(struct me_prog *prog, struct me_edge *edge)
{
	me_edge_close(edge);
	if (prog->skel)
		me_prog_close(prog);
}

void bpffix_frame_spec(const struct frame *f, struct pkt_spec *s)
{
	rowfix_frame_spec(f, s);
}
