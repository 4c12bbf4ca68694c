// SPDX-License-Identifier: GPL-2.0
/*
 * test_atomicfile.c - a file replaced whole, with or without the fsync: the
 * new content and mode in place, no temporary left behind, and on failure
 * the old file untouched.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "atomicfile.h"

static char dir[] = "/tmp/me-atomicfile-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(atomicfile, .init = setup, .fini = teardown);

static void assert_file(const char *path, const char *want, mode_t mode)
{
	char buf[64] = "";
	struct stat st;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fread(buf, 1, sizeof(buf) - 1, f), strlen(want));
	fclose(f);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %o, want %o", path, st.st_mode & 07777,
		     mode);
}

/* Entries in dir: only the file itself, no ".NAME.XXXXXX" left over. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

Test(atomicfile, replaces_with_and_without_fsync)
{
	int (*const fn[2])(const char *, mode_t, const void *, size_t) = {
		me_file_replace_buf, me_file_replace_buf_nosync
	};
	char path[64];
	int k;

	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, k);
		cr_assert_eq(fn[k](path, 0600, "old\n", 4), 0);
		assert_file(path, "old\n", 0600);
		cr_assert_eq(fn[k](path, 0644, "new one\n", 8), 0);
		assert_file(path, "new one\n", 0644);
		cr_assert_eq(fn[k](path, 0600, "", 0), 0);
		assert_file(path, "", 0600);
	}
	cr_assert_eq(entries(), 2, "temporaries left in %s", dir);
}

/* Where the temporary cannot be made, or the rename fails: the error, and the
 * old file as it was, with no temporary left. */
Test(atomicfile, failure_leaves_the_old_file)
{
	int (*const fn[2])(const char *, mode_t, const void *, size_t) = {
		me_file_replace_buf, me_file_replace_buf_nosync
	};
	char path[64], *longp = malloc(5000);
	int k;

	cr_assert_not_null(longp);
	/* A name too long for PATH_MAX with its temporary suffix. */
	memset(longp, 'a', 4999);
	longp[0] = '/';
	longp[4999] = '\0';
	snprintf(path, sizeof(path), "%s/missing/f", dir);
	for (k = 0; k < 2; k++) {
		cr_assert_eq(fn[k](path, 0600, "x", 1), -ENOENT);
		cr_assert_eq(fn[k](longp, 0600, "x", 1), -ENAMETOOLONG);
	}
	free(longp);
	snprintf(path, sizeof(path), "%s/sub", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/f", dir);
	cr_assert_eq(me_file_replace_buf(path, 0600, "kept\n", 5), 0);
	/* A directory where the file would go: the rename fails. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	for (k = 0; k < 2; k++)
		cr_assert_neq(fn[k](path, 0600, "x", 1), 0);
	snprintf(path, sizeof(path), "%s/sub/f", dir);
	assert_file(path, "kept\n", 0600);
	cr_assert_eq(entries(), 1, "temporaries left in %s", dir);
}
