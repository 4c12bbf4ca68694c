// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - mailedge-listsync: keep the edge filter's maps in step with public
 * spam lists, from cron or a systemd timer, or as a daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "listfmt.h"
#include "log.h"
#include "run.h"

static const char usage[] =
	"usage: mailedge-listsync [-c FILE] [--pin-dir DIR] [--state-dir DIR] [-v|-q] COMMAND\n"
	"\n"
	"Commands:\n"
	"  run [--source [white:|black:]FORMAT:URL]... [--force] [--dry-run] [--daemon]\n"
	"        fetch every due source, check it, merge all lists and swap the union\n"
	"        into the edge filter's maps in one step; --daemon repeats every\n"
	"        'interval'; --force fetches every source now; --dry-run only reports\n"
	"  check    read and check the configuration, then exit\n"
	"  formats  list the list formats\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   configuration (default " LS_DEFAULT_CONFIG ";\n"
	"                      a missing default file is fine when --source is given)\n"
	"  --pin-dir DIR       where mailedge-loader pinned the maps\n"
	"  --state-dir DIR     last good copies and fetch state (default /var/lib/mailedge)\n"
	"  --help-config       every configuration setting with its default\n"
	"  -v, --verbose / -q, --quiet\n"
	"\n"
	"A source that fails to download, parse or pass its checks (record count,\n"
	"'; EOF' marker, empty, shrinking past max_shrink) keeps its last good copy in\n"
	"the maps; the others still refresh. Entries added with mailedge-loader are\n"
	"never touched. Exit status: 0 all sources current, 1 some source failed (the\n"
	"rest applied), 2 nothing applied (configuration, lock or maps).\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int run_daemon(const struct ls_config *cfg, const struct ls_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int last = LS_EXIT_OK;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_info("running every %us until stopped", cfg->interval);
	while (!stop) {
		struct timespec ts = { 1, 0 };
		unsigned int slept;

		last = ls_run(cfg, o);
		fflush(stdout);
		for (slept = 0; slept < cfg->interval && !stop; slept++)
			nanosleep(&ts, NULL);
	}
	return last == LS_EXIT_FATAL ? LS_EXIT_FATAL : LS_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_PIN = 256, OPT_STATE, OPT_SOURCE, OPT_FORCE, OPT_DRY, OPT_DAEMON, OPT_HCFG };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, OPT_PIN },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "daemon", no_argument, NULL, OPT_DAEMON },
		{ "help-config", no_argument, NULL, OPT_HCFG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *pin = NULL, *state = NULL, *cmd;
	struct ls_opts o = { 0 };
	struct ls_config cfg;
	char why[512];
	char **cli = NULL;
	int ncli = 0, daemon = 0, opt, rc, i;

	log_init("mailedge-listsync", ME_LOG_INFO, 0);
	log_libbpf();
	ls_config_init(&cfg);
	cli = calloc((size_t)argc, sizeof(*cli));
	if (!cli)
		return LS_EXIT_FATAL;
	while ((opt = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case OPT_PIN: pin = optarg; break;
		case OPT_STATE: state = optarg; break;
		case OPT_SOURCE: cli[ncli++] = optarg; break;
		case OPT_FORCE: o.force = 1; break;
		case OPT_DRY: o.dry_run = 1; break;
		case OPT_DAEMON: daemon = 1; break;
		case OPT_HCFG:
			ls_config_help(stdout);
			return LS_EXIT_OK;
		case 'v': log_set_level(ME_LOG_DEBUG); break;
		case 'q': log_set_level(ME_LOG_ERR); break;
		case 'h':
			fputs(usage, stdout);
			return LS_EXIT_OK;
		default:
			fputs(usage, stderr);
			return LS_EXIT_FATAL;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return LS_EXIT_FATAL;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "formats")) {
		const struct me_fmt *f;

		for (f = me_fmt_list(); f->name; f++)
			printf("%-14s %s\n", f->name, f->what);
		return LS_EXIT_OK;
	}
	if (strcmp(cmd, "run") && strcmp(cmd, "check")) {
		log_err("unknown command '%s' (see --help)", cmd);
		return LS_EXIT_FATAL;
	}

	rc = ls_config_load(&cfg, config_path ? config_path : LS_DEFAULT_CONFIG,
			    config_path != NULL || !ncli, why, sizeof(why));
	for (i = 0; !rc && i < ncli; i++)
		rc = ls_config_add_cli(&cfg, cli[i], why, sizeof(why));
	free(cli);
	if (!rc && pin && snprintf(cfg.pin_dir, sizeof(cfg.pin_dir), "%s", pin) >=
				  (int)sizeof(cfg.pin_dir))
		rc = -ENAMETOOLONG, snprintf(why, sizeof(why), "--pin-dir too long");
	if (!rc && state && snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", state) >=
				    (int)sizeof(cfg.state_dir))
		rc = -ENAMETOOLONG, snprintf(why, sizeof(why), "--state-dir too long");
	if (!rc)
		rc = ls_config_finish(&cfg, why, sizeof(why));
	if (rc) {
		log_err("%s", why);
		ls_config_free(&cfg);
		return LS_EXIT_FATAL;
	}
	if (!strcmp(cmd, "check")) {
		printf("%s: %zu sources, configuration is valid\n", cfg.path, cfg.nsrc);
		ls_config_free(&cfg);
		return LS_EXIT_OK;
	}
	if (ls_fetch_global_init()) {
		log_err("cannot initialise libcurl");
		return LS_EXIT_FATAL;
	}
	rc = daemon ? run_daemon(&cfg, &o) : ls_run(&cfg, &o);
	ls_config_free(&cfg);
	return rc;
}
