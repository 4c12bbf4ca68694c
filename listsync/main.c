// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - mailedge-listsync: keep the edge filter's maps in step with public
 * spam lists, from cron or a systemd timer, or as a daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "listfmt.h"
#include "lists.h"
#include "log.h"
#include "version.h"
#include "run.h"


static const char usage[] =
	"usage: mailedge-listsync [-c FILE] [--pin-dir DIR] [--state-dir DIR] [-v|-q] COMMAND\n"
	"\n"
	"Commands:\n"
	"  run [--source [white:|black:]FORMAT:URL]... [--force] [--rebuild]\n"
	"      [--dry-run | --daemon]\n"
	"        fetch every due source, check it, merge all lists and, if the union\n"
	"        differs from what the maps hold, swap it into the edge filter's maps\n"
	"        in one step.\n"
	"        --force fetches every source now, whatever its interval or back-off\n"
	"        (still a conditional GET: an unchanged list answers 304). It does not\n"
	"        rebuild the maps when the merged lists come out the same; the run\n"
	"        says 'unchanged; maps left as they are'.\n"
	"        --rebuild builds and swaps the union in even when it is unchanged\n"
	"        (the maps were changed by other means, or to see that an apply\n"
	"        works); it fetches only what is due unless --force is given too.\n"
	"        --dry-run fetches and checks as usual but changes nothing (no maps, no\n"
	"        state, no metrics) and prints what the maps would gain and lose, a line\n"
	"        each ('+ black 203.0.113.0/24 drop source=NAME', '- white ...'), then\n"
	"        'diff: black +N -N, white +N -N'. Without maps, every entry is a '+'.\n"
	"        --daemon repeats every 'interval' until SIGTERM; SIGHUP re-reads the\n"
	"        configuration (a bad one is refused and the running one kept) and\n"
	"        runs at once with the new one.\n"
	"  check [--source SPEC]...   read and check the configuration, then exit\n"
	"                             (quietly with -q: the exit status says it)\n"
	"  formats                    list the list formats\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   configuration (default " LS_DEFAULT_CONFIG ";\n"
	"                      a missing default file is fine when --source is given)\n"
	"  --pin-dir DIR       where mailedge-loader pinned the maps\n"
	"  --state-dir DIR     last good copies and fetch state (default /var/lib/mailedge)\n"
	"  --help-config       every configuration setting with its default\n"
	"  -v, --verbose       also debug messages (and libbpf's)\n"
	"  -q, --quiet         print only warnings and errors: a successful run or\n"
	"                      check prints nothing, so cron mails only a failure\n"
	"                      (a source failed, data is stale, nothing applied);\n"
	"                      --dry-run still prints its diff, formats its list\n"
	"  -h, --help / -V, --version\n"
	"\n"
	"A source that fails to download, parse or pass its checks (record count,\n"
	"'; EOF' marker, empty, shrinking past max_shrink) keeps its last good copy in\n"
	"the maps; the others still refresh. Entries added with mailedge-loader are\n"
	"never touched. With metrics_file set, every run (not a dry run) leaves\n"
	"Prometheus metrics there: mailedge_listsync_source_{entries,\n"
	"last_success_timestamp_seconds,age_seconds,failures_total}{source=\"NAME\"},\n"
	"mailedge_listsync_last_run_{timestamp_seconds,success},\n"
	"mailedge_listsync_run_duration_seconds.\n"
	"Exit status: 0 all sources current, 1 some source failed (the rest applied),\n"
	"2 nothing applied (configuration, lock, maps, or a wrong command line, which\n"
	"gets a one-line message).\n";

/* What the command line says about the configuration: kept for SIGHUP, which
 * builds the configuration again from the same pieces. */
struct cfg_args {
	const char *path; /* -c, or NULL for the default */
	const char *pin, *state;
	char **cli;	  /* --source specs */
	int ncli;
};

/* The configuration file, then the command line's sources and overrides. */
static int config_build(struct ls_config *cfg, const struct cfg_args *a, char *why,
			size_t why_len)
{
	int rc, i;

	ls_config_init(cfg);
	rc = ls_config_load(cfg, a->path ? a->path : LS_DEFAULT_CONFIG, a->path != NULL || !a->ncli,
			    why, why_len);
	for (i = 0; !rc && i < a->ncli; i++)
		rc = ls_config_add_cli(cfg, a->cli[i], why, why_len);
	if (!rc && a->pin &&
	    snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s", a->pin) >= (int)sizeof(cfg->pin_dir))
		rc = -ENAMETOOLONG, snprintf(why, why_len, "--pin-dir too long");
	if (!rc && a->state && snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", a->state) >=
				       (int)sizeof(cfg->state_dir))
		rc = -ENAMETOOLONG, snprintf(why, why_len, "--state-dir too long");
	if (!rc)
		rc = ls_config_finish(cfg, why, why_len);
	if (rc)
		ls_config_free(cfg);
	return rc;
}

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

/* SIGHUP: the new configuration replaces the running one only when it is
 * valid as a whole. Returns 1 when it did. */
static int reload_config(struct ls_config *cfg, const struct cfg_args *a)
{
	struct ls_config fresh;
	char why[512];

	if (config_build(&fresh, a, why, sizeof(why))) {
		log_err("SIGHUP: new configuration refused, still running the old one (%zu "
			"sources): %s",
			cfg->nsrc, why);
		return 0;
	}
	ls_config_free(cfg);
	*cfg = fresh;
	log_info("SIGHUP: configuration reloaded from %s: %zu sources, every %us; running now",
		 cfg->path, cfg->nsrc, cfg->interval);
	return 1;
}

static int run_daemon(struct ls_config *cfg, const struct cfg_args *a, const struct ls_opts *o)
{
	/* SA_RESTART: a signal during a download must not fail the download;
	 * the sleep below is cut short anyway. */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	int last = LS_EXIT_OK, due = 1;
	double next = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	log_info("running every %us until stopped; SIGHUP reloads %s", cfg->interval, cfg->path);
	while (!stop) {
		if (reload) {
			reload = 0;
			due |= reload_config(cfg, a);
		}
		if (due) {
			last = ls_run(cfg, o);
			fflush(stdout);
			next = me_mono_seconds() + cfg->interval;
			due = 0;
		}
		/* Short naps: a signal that lands just before nanosleep still
		 * gets an answer within a second. */
		while (!stop && !reload && me_mono_seconds() < next) {
			struct timespec ts = { 0, 250 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		if (!stop && !reload)
			due = 1;
	}
	log_info("stopped by a signal");
	return last == LS_EXIT_FATAL ? LS_EXIT_FATAL : LS_EXIT_OK;
}

/* One line and exit status 2: a typo deserves a pointer, not the manual. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char text[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_err("%s (see mailedge-listsync --help)", text);
	return LS_EXIT_FATAL;
}

int main(int argc, char **argv)
{
	enum {
		OPT_PIN = 256,
		OPT_STATE,
		OPT_SOURCE,
		OPT_FORCE,
		OPT_REBUILD,
		OPT_DRY,
		OPT_DAEMON,
		OPT_HCFG
	};
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, OPT_PIN },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "rebuild", no_argument, NULL, OPT_REBUILD },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "daemon", no_argument, NULL, OPT_DAEMON },
		{ "help-config", no_argument, NULL, OPT_HCFG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg_args a = { 0 };
	struct ls_opts o = { 0 };
	struct ls_config cfg;
	const char *cmd, *run_only = NULL;
	char why[512];
	int daemon = 0, opt, rc;

	log_init("mailedge-listsync", ME_LOG_INFO, 0);
	log_libbpf();
	a.cli = calloc((size_t)argc, sizeof(*a.cli));
	if (!a.cli)
		return LS_EXIT_FATAL;
	opterr = 0; /* errors are ours, one line each */
	while ((opt = getopt_long(argc, argv, "c:vqhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': a.path = optarg; break;
		case OPT_PIN: a.pin = optarg; break;
		case OPT_STATE: a.state = optarg; break;
		case OPT_SOURCE: a.cli[a.ncli++] = optarg; break;
		case OPT_FORCE: o.force = 1; run_only = "--force"; break;
		case OPT_REBUILD: o.rebuild = 1; run_only = "--rebuild"; break;
		case OPT_DRY: o.dry_run = 1; run_only = "--dry-run"; break;
		case OPT_DAEMON: daemon = 1; run_only = "--daemon"; break;
		case OPT_HCFG:
			ls_config_help(stdout);
			free(a.cli);
			return LS_EXIT_OK;
		case 'v': log_set_level(ME_LOG_DEBUG); break;
		/* Warnings stay: stale data is a failure cron must mail. */
		case 'q': log_set_level(ME_LOG_WARN); break;
		case 'h':
			fputs(usage, stdout);
			free(a.cli);
			return LS_EXIT_OK;
		case 'V':
			printf("mailedge-listsync %s\n", MAILEDGE_VERSION);
			free(a.cli);
			return LS_EXIT_OK;
		default:
			free(a.cli);
			/* A short option is in optopt (it may sit inside "-qx"); a
			 * long one is the word just before optind. */
			if (optopt > 0 && optopt < 256)
				return usage_error("unknown option, or a missing value, at '-%c'",
						   optopt);
			return usage_error("unknown option, or a missing value, at '%.64s'",
					   argv[optind - 1]);
		}
	}
	rc = LS_EXIT_FATAL;
	if (optind == argc) {
		rc = usage_error("no command: give run, check or formats");
		goto out_args;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "run") && strcmp(cmd, "check") && strcmp(cmd, "formats")) {
		rc = usage_error("unknown command '%.64s'", cmd);
		goto out_args;
	}
	if (optind + 1 < argc) {
		rc = usage_error("unexpected argument '%.64s' after %s", argv[optind + 1], cmd);
		goto out_args;
	}
	if (strcmp(cmd, "run") && run_only) {
		rc = usage_error("%s belongs to run, not %s", run_only, cmd);
		goto out_args;
	}
	if (o.rebuild && (o.dry_run || daemon)) {
		rc = usage_error("--rebuild does not go with %s: %s",
				 o.dry_run ? "--dry-run" : "--daemon",
				 o.dry_run ? "a dry run changes no maps"
					   : "it would rebuild every map at every interval");
		goto out_args;
	}
	if (daemon && o.dry_run) {
		rc = usage_error("--dry-run and --daemon do not go together: a dry run changes "
				 "nothing, so there is nothing to repeat");
		goto out_args;
	}
	if (!strcmp(cmd, "formats")) {
		const struct me_fmt *f;

		if (a.ncli || a.path || a.pin || a.state) {
			rc = usage_error("formats takes no options");
			goto out_args;
		}
		for (f = me_fmt_list(); f->name; f++)
			printf("%-14s %s\n", f->name, f->what);
		rc = LS_EXIT_OK;
		goto out_args;
	}

	if (config_build(&cfg, &a, why, sizeof(why))) {
		log_err("%s", why);
		goto out_args;
	}
	if (!strcmp(cmd, "check")) {
		if (log_get_level() >= ME_LOG_INFO)
			printf("%s: %zu sources, configuration is valid\n", cfg.path, cfg.nsrc);
		rc = LS_EXIT_OK;
		goto out_cfg;
	}
	if (ls_fetch_global_init()) {
		log_err("cannot initialise libcurl");
		goto out_cfg;
	}
	rc = daemon ? run_daemon(&cfg, &a, &o) : ls_run(&cfg, &o);
out_cfg:
	ls_config_free(&cfg);
out_args:
	free(a.cli);
	return rc;
}
