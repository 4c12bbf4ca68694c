// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - mailedge-loader: attach the edge filter, edit its lists, show status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "version.h"



static const char usage[] =
	"usage: mailedge-loader [--pin-dir DIR] [-v|-q] [--json] VERB [ARGS]\n"
	"\n"
	"Run and manage the mailedge XDP edge filter on a mail gateway.\n"
	"\n"
	"Verbs:\n"
	"  attach IFACE [--mode native|generic]   attach (or upgrade) the filter\n"
	"  detach IFACE                           remove it from IFACE; lists stay\n"
	"  init                                   create the maps without attaching\n"
	"  destroy                                detach everywhere, delete all maps\n"
	"  list add|del black|white ADDR[/LEN]... edit the admin's lists\n"
	"  list show [black|white] [--synced]     show them\n"
	"  list flush black|white|all             empty them\n"
	"  list import black|white FILE           add a file of addresses, all or none\n"
	"  list purge                             remove expired temporary entries\n"
	"  list save|restore FILE                 the admin's lists to/from a file\n"
	"  threshold set|show|off|bans            per-source new-connection limit\n"
	"  lookup ADDR [--json]                   which entry judges ADDR, and why\n"
	"  unban ADDR                             lift a threshold or proxy ban\n"
	"  status [--json]                        interfaces, maps, counters\n"
	"  watch [--interval S]                   packets per second, live\n"
	"  metrics [--output FILE]                counters for Prometheus (textfile)\n"
	"\n"
	"Options:\n"
	"  --pin-dir DIR   where the maps and links are pinned\n"
	"                  (default $MAILEDGE_PIN_DIR or /sys/fs/bpf/mailedge)\n"
	"  --state-dir DIR where the admin's lists are saved after every change and\n"
	"                  restored from when the maps are created afresh (default\n"
	"                  $MAILEDGE_STATE_DIR, else /var/lib/mailedge if it exists and\n"
	"                  the pin directory is the default; else no saving)\n"
	"  --json          JSON output for show and status\n"
	"  -v, --verbose   more detail, including libbpf and verifier messages\n"
	"  -q, --quiet     errors only\n"
	"  -h, --help      this text; 'mailedge-loader VERB --help' for a verb\n"
	"  -V, --version\n"
	"\n"
	"Needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN. Exit status: 0 when\n"
	"done, 2 on any error (with a one-line message on standard error).\n";

struct verb {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
};

static const struct verb verbs[] = {
	{ "attach", cmd_attach },	{ "detach", cmd_detach }, { "init", cmd_init },
	{ "destroy", cmd_destroy },	{ "list", cmd_list },	  { "threshold", cmd_threshold },
	{ "status", cmd_status },	{ "watch", cmd_watch },
	{ "metrics", cmd_metrics },
	{ "lookup", cmd_lookup },	{ "unban", cmd_unban },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	size_t i;
	int opt;

	log_init("mailedge-loader", ME_LOG_INFO, 0);
	log_libbpf();
	c.pin_dir = getenv("MAILEDGE_PIN_DIR");
	if (!c.pin_dir || !*c.pin_dir)
		c.pin_dir = ME_PIN_DIR_DEFAULT;

	opterr = 0; /* errors are ours, one line each */
	/* "+": stop at the verb, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+p:jvqhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			c.pin_dir = optarg;
			break;
		case 'S':
			c.state_dir = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'v':
			log_set_level(ME_LOG_DEBUG);
			break;
		case 'q':
			log_set_level(ME_LOG_ERR);
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		case 'V':
			printf("mailedge-loader %s\n", MAILEDGE_VERSION);
			return EXIT_OK;
		default:
			return cli_fail("unknown option, or a missing value, at '%.64s' (see "
					"mailedge-loader --help)",
					argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return EXIT_FAIL;
	}
	if (c.pin_dir[0] != '/' || strlen(c.pin_dir) >= 200)
		return cli_fail("--pin-dir must be an absolute path under 200 characters");
	if (c.state_dir && (c.state_dir[0] != '/' || strlen(c.state_dir) >= 4000))
		return cli_fail("--state-dir must be an absolute path under 4000 characters");
	if (!strcmp(argv[optind], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[optind], verbs[i].name)) {
			cli_set_verb(verbs[i].name);
			return verbs[i].fn(&c, argc - optind, argv + optind);
		}
	return cli_fail("unknown verb '%s' (see mailedge-loader --help)", argv[optind]);
}
