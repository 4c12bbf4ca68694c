/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_xdp.h - what the parts of bench-xdp share: the command entry points,
 * the helpers every part reports with, and the frames of the BPF test rows.
 *
 * bench_xdp.c      main, the veth lab's primitives (gen, drop-attach, lists)
 * bench_progrun.c  progrun: every verdict path at full size, against the floor
 * bench_rows.c     rows: the BPF test table's rows and fixture, timed; and the
 *                  frame templates progrun takes from those rows
 */
#ifndef ME_BENCH_XDP_H
#define ME_BENCH_XDP_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
double now_s(void);
/* Kernel memory BPF maps come from (slab + per-CPU + vmalloc), in kB. */
long long kmem_kb(void);
/* What the kernel says a map costs (fdinfo "memlock"), in bytes; -1 if unknown. */
long long map_memlock(int fd);
/* A bijection on 24 bits (odd multiplier): spreads host i over 10.0.0.0/8. */
__u32 bench_host_addr(__u32 i);
/* A host-order IPv4 address as text, into INET_ADDRSTRLEN bytes. */
void ip4_str(__u32 host_order, char *buf);
/* A program of two instructions, returning XDP_PASS: the harness' own cost. */
int empty_prog(void);

/* A frame of bpf_table_rows.h (opaque outside bench_rows.c). */
struct frame;

/* The frame of the row described as desc, in any table; dies if none is. */
const struct frame *bench_row_frame(const char *desc);
/* Build f into buf with src as its source address (NULL: the row's own),
 * through the same pkt_spec the BPF tests build the row with; returns the
 * length, 0 if it does not fit. */
size_t bench_frame_build(const struct frame *f, const char *src, uint8_t *buf, size_t cap);

void cmd_progrun(int argc, char **argv);
void cmd_rows(int argc, char **argv);

#endif
