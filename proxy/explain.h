/* SPDX-License-Identifier: GPL-2.0 */
/*
 * explain.h - "mailedge-proxy explain ADDR" (explain.c).
 */
#ifndef PX_EXPLAIN_H
#define PX_EXPLAIN_H

/* argv[0] is "explain"; the exit status. */
int px_explain_main(int argc, char **argv);

#endif
