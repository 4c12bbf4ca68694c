// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - helpers shared by the loader's verbs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "listfile.h"
#include "log.h"

int cli_fail(const char *fmt, ...)
{
	char msg[1024], safe[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote what the user typed; a newline or escape sequence in it
	 * must not break the one-line error or reach the terminal raw. Text quoted
	 * from a file is already escaped by its parser, so backslashes stay. */
	me_escape_ctl(msg, strlen(msg), safe, sizeof(safe));
	log_err("%s", safe);
	return EXIT_FAIL;
}

static const char *cli_verb = "";

void cli_set_verb(const char *verb)
{
	cli_verb = verb;
}

int cli_bad_option(char **argv)
{
	/* getopt leaves the offending word just before optind; it stays quiet
	 * (opterr = 0) so that this is the only line. */
	const char *word = optind > 0 ? argv[optind - 1] : "?";

	return cli_fail("unknown option, or a missing value, at '%.64s' (see 'mailedge-loader "
			"%s --help')",
			word, cli_verb);
}

const char *cli_perm_hint(void)
{
	return "run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN";
}

int cli_open(struct cli *c, struct me_edge *e, int lock)
{
	const char *what = c->pin_dir;
	char why[768];
	int rc;

	rc = me_edge_open(e, c->pin_dir, &what);
	if (rc == -ENOENT) {
		if (what == c->pin_dir)
			cli_fail("no mailedge maps at %s: run 'mailedge-loader attach IFACE' "
				 "(or 'init') first",
				 c->pin_dir);
		else
			cli_fail("map %s is missing from %s: the pin directory is incomplete; "
				 "run 'mailedge-loader destroy' and attach again",
				 what, c->pin_dir);
		return rc;
	}
	if (rc == -EACCES || rc == -EPERM)
		return cli_fail("permission denied opening %s: %s", what, cli_perm_hint()), rc;
	if (rc == -ENOTSUP)
		return cli_fail("%s is not on a BPF filesystem (mount -t bpf bpf DIR)", c->pin_dir),
		       rc;
	if (me_edge_open_why(rc, c->pin_dir, why, sizeof(why)))
		return cli_fail("%s", why), rc;
	if (rc)
		return cli_fail("cannot open %s: %s", what, strerror(-rc)), rc;
	if (lock) {
		rc = me_edge_lock(e, LOCK_TIMEOUT_MS);
		if (rc) {
			me_edge_close(e);
			return cli_fail("cannot lock %s: %s", c->pin_dir,
					rc == -EBUSY ? "another mailedge program holds it"
						     : strerror(-rc)),
			       rc;
		}
	}
	return 0;
}

int cli_json_opts(struct cli *c, int argc, char **argv, const char *usage, int *json, int *done)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int opt;

	*json = c->json;
	*done = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		if (opt == 'j') {
			*json = 1;
			continue;
		}
		if (opt != 'h')
			return cli_bad_option(argv);
		fputs(usage, stdout);
		*done = 1;
		return EXIT_OK;
	}
	return EXIT_OK;
}

int cli_u32(const char *s, unsigned long min, unsigned long max, __u32 *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (__u32)v;
	return 0;
}

int cli_state_path(const struct cli *c, const char *name, char *buf, size_t len)
{
	const char *dir = c->state_dir;
	struct stat st;

	if (!dir || !*dir)
		dir = getenv("MAILEDGE_STATE_DIR");
	if (!dir || !*dir) {
		/* Only for the real maps: tests and second instances with pin
		 * directories of their own must not overwrite the gateway's. */
		if (strcmp(c->pin_dir, ME_PIN_DIR_DEFAULT) || stat(ME_STATE_DIR_DEFAULT, &st) ||
		    !S_ISDIR(st.st_mode))
			return -ENOENT;
		dir = ME_STATE_DIR_DEFAULT;
	}
	if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}
