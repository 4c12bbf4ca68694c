/* SPDX-License-Identifier: GPL-2.0 */
/*
 * labcheck.h - lab steps as Criterion assertions, for the suites that run
 * connections through a lab (tests/lib/testenv.h).
 */
#ifndef ME_TEST_LABCHECK_H
#define ME_TEST_LABCHECK_H

#include "testenv.h"

/* What ns_connect's result means to a sender: "connected", "refused",
 * "timeout" or "error N (...)". The last lives in a static buffer. */
const char *conn_name(int rc);

/* lab_addr, which must succeed. */
void lab_addr_ok(struct lab *l, const char *cidr);

#endif
