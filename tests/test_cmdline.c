// SPDX-License-Identifier: GPL-2.0
/*
 * test_cmdline.c - what every program does with --version and a mistyped flag.
 *
 * The version must be debian/changelog's (the package and the programs cannot
 * disagree); a mistyped flag gets one line on standard error naming the word,
 * nothing on standard output and exit 2, as for the verbs' own errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "lib/testenv.h"

TestSuite(cmdline, .timeout = 30);

static const char *const progs[] = { "mailedge-loader", "mailedge-listsync", "mailedge-proxy" };

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* The newest version in debian/changelog. */
static void changelog_version(char *buf, size_t len)
{
	char path[512], line[256], *a, *b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/debian/changelog", tenv_src());
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	a = strchr(line, '(');
	b = a ? strchr(a, ')') : NULL;
	cr_assert(a && b, "no version in '%s'", line);
	snprintf(buf, len, "%.*s", (int)(b - a - 1), a + 1);
}

Test(cmdline, version)
{
	char ver[64], want[128];
	const char *flag[] = { "--version", "-V" };
	struct run r;
	size_t p, f;

	changelog_version(ver, sizeof(ver));
	for (p = 0; p < 3; p++)
		for (f = 0; f < 2; f++) {
			tenv_run(&r, "%s %s", tenv_bin(progs[p]), flag[f]);
			snprintf(want, sizeof(want), "%s %s\n", progs[p], ver);
			cr_assert_eq(r.status, 0, "%s %s: exit %d", progs[p], flag[f], r.status);
			cr_assert_str_eq(r.out, want, "%s %s", progs[p], flag[f]);
			tenv_run_free(&r);
		}
}

Test(cmdline, mistyped_flag_is_one_line)
{
	static const char *const bad[] = { "--bogus", "-x", "--verison", "--pin-dirr=/x" };
	struct run r;
	size_t p, b;

	for (p = 0; p < 3; p++)
		for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			tenv_run(&r, "%s %s", tenv_bin(progs[p]), bad[b]);
			cr_assert_eq(r.status, 2, "%s %s: exit %d, want 2", progs[p], bad[b],
				     r.status);
			cr_assert_str_eq(r.out, "", "%s %s wrote to stdout", progs[p], bad[b]);
			cr_assert_eq(count_lines(r.err), 1, "%s %s: %d lines: %s", progs[p],
				     bad[b], count_lines(r.err), r.err);
			cr_assert(strstr(r.err, bad[b]), "%s %s: message '%s' does not name it",
				  progs[p], bad[b], r.err);
			tenv_run_free(&r);
		}
}
