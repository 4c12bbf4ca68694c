// SPDX-License-Identifier: GPL-2.0
/*
 * labcheck.c - lab steps and loader runs as Criterion assertions.
 */
#include <errno.h>
#include <stdarg.h>
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

const char *loader_expect(int want, const char *fmt, ...)
{
	char args[4096];
	struct run r;
	va_list ap;

	va_start(ap, fmt);
	tenv_vloader(&r, args, sizeof(args), fmt, ap);
	va_end(ap);
	tenv_keep_run(&r);
	cr_assert_eq(r.status, want, "'%s': got exit %d (stderr: %s), want %d", args, r.status,
		     r.err, want);
	return want ? r.err : r.out;
}
