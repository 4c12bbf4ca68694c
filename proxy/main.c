// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - mailedge-proxy: the SMTP front door.
 *
 * The main thread binds, loads keys, drops root, starts the worker threads and
 * then runs its own loop for what belongs to the whole process: signals
 * (SIGHUP reload, SIGTERM/SIGINT drain), health checks, metrics.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <openssl/ssl.h>

#include "config.h"
#include "explain.h"
#include "health.h"
#include "harvest.h"
#include "keeper.h"
#include "material.h"
#include "tls.h"
#include "log.h"
#include "version.h"
#include "metrics.h"
#include "policy.h"
#include "pool.h"
#include "worker.h"

static const char usage[] =
    "usage: mailedge-proxy [-c FILE] [-t] [--listen ADDR:PORT]... [--backend ADDR:PORT]...\n"
    "                      [--starttls off|optional|required|implicit]\n"
    "                      [--cert FILE --key FILE [--chain FILE]]\n"
    "                      [--hostname NAME] [--domain NAME]... [--user USER]\n"
    "                      [--workers N] [--pin-dir DIR] [-v|-q] [--syslog]\n"
    "       mailedge-proxy explain ADDR [-c FILE] [--no-dns] [--json]\n"
    "       mailedge-proxy -V|--version\n"
    "\n"
    "An SMTP proxy for the front of a mail system: STARTTLS termination, command\n"
    "filtering, relay control, limits, and balancing over health-checked backend\n"
    "pools, with no change to the backend servers.\n"
    "\n"
    "  -c, --config FILE    configuration (libconfig); --help-config lists it all\n"
    "  -t, --test           check the configuration, read every TLS file, report on\n"
    "                       each certificate (names, chain, key, days left) and exit\n"
    "  --listen ADDR:PORT   accept on this address; repeatable ([::]:25 for IPv6)\n"
    "  --backend ADDR:PORT  a member of the pool 'default'; repeatable\n"
    "  --starttls MODE      for --listen listeners: off, optional, required, or\n"
    "                       implicit (TLS from the first byte, port 465)\n"
    "  --cert, --key FILE   their certificate (with chain) and key; --chain FILE\n"
    "                       for intermediates kept apart\n"
    "  --hostname NAME      name in the banner and EHLO\n"
    "  --domain NAME        accept mail for this domain; repeatable. With flags\n"
    "                       alone, no client may relay to any other domain\n"
    "  --user USER          run as USER after binding (default nobody, as root)\n"
    "  --workers N          event-loop threads (default: one per CPU)\n"
    "  --pin-dir DIR        the edge maps sender groups read (default pin_dir,\n"
    "                       /sys/fs/bpf/mailedge)\n"
    "  --syslog             log to syslog (mail facility) instead of stderr\n"
    "  -v, -q               more, or less, logging\n"
    "  -V, --version        print the version and exit\n"
    "\n"
    "Sender groups and policies (policies, sender_groups in the configuration;\n"
    "--help-config) classify each client once, at connect, before the banner, and\n"
    "choose its pool, STARTTLS mode, relaying, limits and banner, or reject it.\n"
    "Their edge criteria read the maps mailedge-loader pinned under pin_dir, opened\n"
    "as root at start; without them the proxy runs and those criteria match no one.\n"
    "Score ranges ask the dnsbl sites before the banner (at most dnsbl.timeout).\n"
    "Harvest prevention (limits harvest_limit, harvest_ban) ends a session past its\n"
    "invalid recipients per hour and bans the client in the same maps; dictionaries\n"
    "(sender_dict, recipient_dict, valid_recipients) refuse addresses themselves.\n"
    "\n"
    "Signals: SIGHUP reloads the configuration, its dictionaries and every TLS file\n"
    "(those read again as root by the keeper; running sessions keep theirs; new\n"
    "listen addresses need a restart). SIGTERM drains: no new sessions, running\n"
    "ones get limits.drain_timeout (30 s) to finish, then 421 4.3.2. A second\n"
    "SIGTERM closes them at once. Exit status 0, or 2 for a configuration error.\n";

static struct px_server srv;
static struct px_health *health;
static struct px_metrics *metrics;
static struct px_flags flags = { .workers = -1 };
static int keeper; /* a key keeper was started (keeper.h) */
static ev_timer drain_timer;
static ev_timer tickets; /* rotates the TLS session ticket keys */

/* systemd's sd_notify, without libsystemd: a datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, len) < 0)
		log_debug("sd_notify: %s", strerror(errno));
	close(fd);
}

static int drop_root(const char *user)
{
	struct passwd *pw;

	if (getuid() != 0 || !user[0])
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		log_err("no user named '%s' to run as (set user in the configuration)", user);
		return -1;
	}
	if (setgroups(0, NULL) || initgroups(user, pw->pw_gid) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid)) {
		log_err("cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	log_info("running as %s", user);
	return 0;
}

/* The edge maps, for sender groups' edge criteria: opened as root (at start),
 * kept for the life of the process. Without them the proxy still runs, the
 * edge criteria matching no one. */
static void edge_open(const struct px_config *c, const char *when)
{
	char why[512];
	int rc;

	/* Read for edge criteria, written for bans (a policy's action ban,
	 * harvest_ban): the map fds and the pin directory's fd (its flock() is
	 * the writers' lock) are opened now, as root, and kept after the
	 * proxy drops root, so a ban needs no privilege later. */
	if (!px_policy_needs_edge(c) && !px_policy_needs_ban(c))
		return;
	if (px_policy_edge()) {
		if (strcmp(c->pin_dir, srv.cfg ? srv.cfg->pin_dir : c->pin_dir))
			log_warn("pin_dir changed to %s: the maps stay those of %s until a "
				 "restart",
				 c->pin_dir, srv.cfg->pin_dir);
		return;
	}
	rc = px_policy_edge_open(c->pin_dir, why, sizeof(why));
	if (rc)
		log_warn("%s: %s: sender groups' edge criteria match no client and bans are "
			 "only logged%s",
			 when, why, getuid() ? " (the maps are opened as root, at start)" : "");
	else
		log_info("edge maps: %s", c->pin_dir);
}

static int same_listeners(const struct px_config *a, const struct px_config *b)
{
	size_t i;

	if (a->nls != b->nls)
		return 0;
	for (i = 0; i < a->nls; i++)
		if (a->ls[i].addrlen != b->ls[i].addrlen ||
		    memcmp(&a->ls[i].addr, &b->ls[i].addr, a->ls[i].addrlen))
			return 0;
	return 1;
}

/*
 * The configuration on disk, for a reload: parsed here (the proxy may read its
 * configuration), its TLS files from the keeper (root may read them), or,
 * without a keeper, read as the proxy's own user.
 */
static struct px_config *load_again(char *why, size_t why_len)
{
	struct px_material m = { 0 };
	struct px_config *n = px_config_parse(&flags, NULL, why, why_len);
	int rc;

	if (!n)
		return NULL;
	rc = px_config_tls_paths(n, &m);
	if (rc)
		px_material_strerror(rc, why, why_len);
	/* root's files from the keeper, the rest read with the proxy's own
	 * rights (a file the proxy cannot read then says why). */
	if (!rc && keeper)
		rc = px_keeper_fetch(&m, why, why_len);
	if (!rc)
		rc = px_material_read(&m, why, why_len);
	if (!rc)
		rc = px_config_tls(n, &m, why, why_len);
	/* Read with the proxy's own rights: a dictionary it cannot read is a
	 * refused reload that says so. */
	if (!rc)
		rc = px_config_dicts(n, why, why_len);
	px_material_free(&m);
	if (rc) {
		px_config_put(n);
		return NULL;
	}
	return n;
}

static void on_tickets(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	px_tls_tickets_rotate();
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct px_config *n, *old = srv.cfg;
	char why[512];
	size_t i, j;

	(void)w;
	(void)revents;
	notify("RELOADING=1");
	n = load_again(why, sizeof(why));
	if (!n) {
		log_err("reload refused, keeping the running configuration: %s", why);
		notify("READY=1");
		return;
	}
	if (!same_listeners(old, n)) {
		log_err("reload refused: the listeners changed, which needs a restart");
		px_config_put(n);
		notify("READY=1");
		return;
	}
	for (i = 0; i < n->npools; i++)
		for (j = 0; j < old->npools; j++)
			if (!strcmp(n->pools[i].name, old->pools[j].name))
				px_pool_inherit(&n->pools[i], &old->pools[j]);
	edge_open(n, "reload");
	if (n->harvest_clients != old->harvest_clients)
		log_warn("harvest_clients changed to %u: the table keeps %u clients until a "
			 "restart",
			 n->harvest_clients, old->harvest_clients);
	px_health_stop(health);
	health = px_health_start(loop, n);
	if (n->tls_ticket_rotation != old->tls_ticket_rotation) {
		ev_timer_stop(loop, &tickets);
		ev_timer_set(&tickets, n->tls_ticket_rotation, n->tls_ticket_rotation);
		ev_timer_start(loop, &tickets);
	}
	px_metrics_set_config(metrics, n);
	px_server_set_config(&srv, n);
	log_info("configuration reloaded");
	notify("READY=1");
}

static void on_drain_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	log_info("drain: closing the %zu remaining sessions", px_server_sessions(&srv));
	px_server_drain(&srv, 1);
	ev_break(loop, EVBREAK_ALL);
}

static void on_term(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (atomic_load(&srv.draining)) {
		log_info("second %s: closing now", strsignal(w->signum));
		px_server_drain(&srv, 1);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	notify("STOPPING=1");
	log_info("%s: draining %zu sessions (at most %u s)", strsignal(w->signum),
		 px_server_sessions(&srv), srv.cfg->lim.drain_timeout);
	px_server_drain(&srv, 0);
	ev_timer_init(&drain_timer, on_drain_timeout, srv.cfg->lim.drain_timeout, 0);
	ev_timer_start(loop, &drain_timer);
}

static void on_idle_check(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	if (atomic_load(&srv.draining) && !px_server_sessions(&srv))
		ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
	enum {
		O_LISTEN = 256,
		O_BACKEND,
		O_STARTTLS,
		O_CERT,
		O_KEY,
		O_CHAIN,
		O_HOSTNAME,
		O_DOMAIN,
		O_USER,
		O_WORKERS,
		O_HCONF,
		O_SYSLOG,
		O_PIN_DIR
	};
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "starttls", required_argument, NULL, O_STARTTLS },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "chain", required_argument, NULL, O_CHAIN },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "domain", required_argument, NULL, O_DOMAIN },
		{ "user", required_argument, NULL, O_USER },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "help-config", no_argument, NULL, O_HCONF },
		{ "syslog", no_argument, NULL, O_SYSLOG },
		{ "pin-dir", required_argument, NULL, O_PIN_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	ev_signal hup, term, intr;
	ev_timer idle;
	struct px_config *cfg;
	struct ev_loop *loop;
	char why[512];
	int opt, test = 0, nworkers;
	long n;

	log_init("mailedge-proxy", ME_LOG_INFO, 0);
	if (argc > 1 && !strcmp(argv[1], "explain"))
		return px_explain_main(argc - 1, argv + 1);
	opterr = 0; /* errors are ours, one line each */
	while ((opt = getopt_long(argc, argv, "c:tvqhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			flags.config = optarg;
			break;
		case 't':
			test = 1;
			break;
		case O_LISTEN:
			if (flags.nlisten == 16)
				goto toomany;
			flags.listen[flags.nlisten++] = optarg;
			break;
		case O_BACKEND:
			if (flags.nbackend == 32)
				goto toomany;
			flags.backend[flags.nbackend++] = optarg;
			break;
		case O_STARTTLS:
			flags.starttls = optarg;
			break;
		case O_CERT:
			flags.cert = optarg;
			break;
		case O_KEY:
			flags.key = optarg;
			break;
		case O_CHAIN:
			flags.chain = optarg;
			break;
		case O_HOSTNAME:
			flags.hostname = optarg;
			break;
		case O_DOMAIN:
			if (flags.ndomain == 64)
				goto toomany;
			flags.domain[flags.ndomain++] = optarg;
			break;
		case O_USER:
			flags.user = optarg;
			break;
		case O_PIN_DIR:
			flags.pin_dir = optarg;
			break;
		case O_WORKERS: {
			char *end;

			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 0 || n > 256) {
				log_err("--workers: '%.32s' is not a number from 0 to 256", optarg);
				return 2;
			}
			flags.workers = (int)n;
			break;
		}
		case O_HCONF:
			px_config_help(stdout);
			return 0;
		case O_SYSLOG:
			log_init("mailedge-proxy", log_get_level(), 1);
			break;
		case 'v':
			log_set_level(ME_LOG_DEBUG);
			break;
		case 'q':
			log_set_level(ME_LOG_WARN);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("mailedge-proxy %s\n", MAILEDGE_VERSION);
			return 0;
		default:
			/* getopt leaves the offending word just before optind. */
			log_err("unknown option, or a missing value, at '%.64s' (see "
				"mailedge-proxy --help)",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		log_err("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (!flags.config && !flags.nlisten) {
		log_err("nothing to do: give -c FILE, or --listen and --backend (see --help)");
		return 2;
	}
	if (flags.starttls && !flags.nlisten) {
		log_err("--starttls applies to --listen listeners; give --listen too");
		return 2;
	}

	cfg = px_config_load(&flags, why, sizeof(why));
	if (!cfg) {
		log_err("%s", why);
		return 2;
	}
	/* The user is only switched to when started as root, but -t is asked
	 * before a start: a user nobody created fails then, not later. */
	if ((test || !getuid()) && cfg->user[0] && !getpwnam(cfg->user)) {
		log_err("%s: user '%s' does not exist: create it (adduser --system --group "
			"--no-create-home %s) or set 'user'",
			flags.config ? flags.config : "--user", cfg->user, cfg->user);
		px_config_put(cfg);
		return 2;
	}
	if (test) {
		for (size_t i = 0; i < cfg->ntls; i++)
			if (cfg->tls[i].report)
				fputs(cfg->tls[i].report, stdout);
		printf("%s: %zu listeners, %zu pools, %zu TLS profiles, %zu relay domains, "
		       "%zu policies, %zu sender groups: configuration OK\n",
		       flags.config ? flags.config : "flags", cfg->nls, cfg->npools, cfg->ntls,
		       cfg->ndomains, cfg->npolicies, cfg->ngroups);
		px_config_put(cfg);
		return 0;
	}
	if (px_tls_tickets_init()) {
		log_err("TLS session tickets: no random bytes for a key");
		return 2;
	}
	/* Before binding (the keeper holds no socket) and before any thread. */
	if (!getuid() && cfg->user[0]) {
		if (px_keeper_start(&flags))
			log_warn("no key keeper (%s): a reload reads the keys as %s",
				 strerror(errno), cfg->user);
		else
			keeper = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	nworkers = cfg->workers ? (int)cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers < 1)
		nworkers = 1;
	srv.cfg = cfg;
	pthread_mutex_init(&srv.lock, NULL);
	/* One table for every worker: a client's sessions land on any of them. */
	srv.harvest = px_harvest_new(cfg->harvest_clients);
	if (!srv.harvest) {
		log_err("harvest table of %u clients: %s", cfg->harvest_clients, strerror(errno));
		return 2;
	}
	loop = ev_default_loop(EVFLAG_AUTO);
	if (px_server_bind(&srv, cfg, nworkers, why, sizeof(why))) {
		log_err("cannot listen: %s", why);
		return 2;
	}
	metrics = px_metrics_start(loop, cfg, why, sizeof(why));
	if (!metrics && cfg->metrics[0]) {
		log_err("%s", why);
		return 2;
	}
	edge_open(cfg, "start");
	if (drop_root(cfg->user))
		return 2;
	if (px_server_start(&srv)) {
		log_err("cannot start the workers: %s", strerror(errno));
		return 2;
	}
	health = px_health_start(loop, cfg);
	ev_signal_init(&hup, on_hup, SIGHUP);
	ev_signal_init(&term, on_term, SIGTERM);
	ev_signal_init(&intr, on_term, SIGINT);
	ev_signal_start(loop, &hup);
	ev_signal_start(loop, &term);
	ev_signal_start(loop, &intr);
	ev_timer_init(&idle, on_idle_check, 0.2, 0.2);
	ev_timer_start(loop, &idle);
	ev_timer_init(&tickets, on_tickets, cfg->tls_ticket_rotation, cfg->tls_ticket_rotation);
	ev_timer_start(loop, &tickets);
	log_info("ready: %zu listeners, %d workers, pools:%s", cfg->nls, nworkers,
		 cfg->pools[0].name);
	notify("READY=1");

	ev_run(loop, 0);

	px_server_drain(&srv, 1);
	px_server_join(&srv);
	px_health_stop(health);
	px_metrics_stop(metrics);
	px_config_put(srv.cfg);
	px_harvest_free(srv.harvest);
	px_policy_edge_close();
	px_keeper_stop();
	log_info("stopped");
	return 0;
toomany:
	log_err("too many --listen, --backend or --domain options");
	return 2;
}
