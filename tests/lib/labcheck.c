// SPDX-License-Identifier: GPL-2.0
/*
 * labcheck.c - lab steps as Criterion assertions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "labcheck.h"

const char *conn_name(int rc)
{
	static char buf[64];

	switch (rc) {
	case 0:
		return "connected";
	case -ECONNREFUSED:
		return "refused";
	case -ETIMEDOUT:
		return "timeout";
	}
	snprintf(buf, sizeof(buf), "error %d (%s)", rc, strerror(-rc));
	return buf;
}

void lab_addr_ok(struct lab *l, const char *cidr)
{
	int rc = lab_addr(l, cidr);

	cr_assert_eq(rc, 0, "adding %s to the client: got status %d, want 0", cidr, rc);
}
