/* SPDX-License-Identifier: GPL-2.0 */
/*
 * labcheck.h - steps of tests/lib/testenv.h as Criterion assertions: lab
 * steps, for the suites that run connections through a lab, and loader runs.
 */
#ifndef ME_TEST_LABCHECK_H
#define ME_TEST_LABCHECK_H

#include "testenv.h"

/* What ns_connect's result means to a sender: "connected", "refused",
 * "timeout" or "error N (...)". The last lives in a static buffer. */
const char *conn_name(int rc);

/* lab_addr, which must succeed. */
void lab_addr_ok(struct lab *l, const char *cidr);

/*
 * tenv_loader, whose exit status must be want: the test fails otherwise,
 * naming the arguments and the loader's stderr. Returns its stdout, or its
 * stderr when want is not 0, held until tenv_kept_free().
 */
const char *loader_expect(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
