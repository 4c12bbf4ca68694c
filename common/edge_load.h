/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edge_load.h - load the XDP program from its skeleton, with pinned or private maps.
 */
#ifndef ME_EDGE_LOAD_H
#define ME_EDGE_LOAD_H

#include "edge.h"

struct edge_bpf;

struct me_prog {
	struct edge_bpf *skel;
};

/*
 * Open and load the edge program. With pin_dir set, every map already pinned
 * there is reused (it must have the layout this program expects, and the
 * capacity asked for in req, if any) and the others are created and pinned; the
 * caller must hold the pin-directory lock. Without pin_dir the maps are private
 * to this program (tests, benchmarks). Either way *e receives its own fds for
 * all maps, and *created tells whether the config maps were new (so defaults
 * must be written). On failure why holds a one-line reason.
 */
int me_prog_load(struct me_prog *p, const char *pin_dir, const struct me_sizes *req,
		 struct me_edge *e, int *created, char *why, size_t why_len);
int me_prog_fd(const struct me_prog *p);
void me_prog_close(struct me_prog *p);

#endif
