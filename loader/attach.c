// SPDX-License-Identifier: GPL-2.0
/*
 * attach.c - attach, detach, init and destroy.
 *
 * attach loads the program against the pinned maps (creating and pinning them
 * on first use) and either creates a pinned XDP link on the interface or, when
 * the interface already has one of ours, swaps the program inside that link
 * with bpf_link_update: the old program filters until the instant the new one
 * does, so an upgrade never leaves a window where nothing filters.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "edge_load.h"
#include "links.h"
#include "log.h"
#include "threshold_view.h"

static const char attach_usage[] =
	"usage: mailedge-loader attach IFACE [--mode native|generic] [--hosts N]\n"
	"                              [--white-hosts N] [--subnets N] [--rate-entries N]\n"
	"                              [--ban-entries N]\n"
	"\n"
	"Attach the edge filter to IFACE. The first attach creates the maps and pins\n"
	"them under the pin directory; later ones reuse them, so lists and counters\n"
	"survive. Attaching to an interface that already runs mailedge replaces the\n"
	"program atomically (an upgrade).\n"
	"\n"
	"  --mode native     driver mode (the default); without --mode, an interface\n"
	"                    whose driver has no XDP support falls back to generic\n"
	"  --mode generic    generic (skb) mode: works everywhere, much slower\n"
	"  --hosts N         most hosts list sync may load per list and family (default\n"
	"                    8388608); given, also the capacity of the admin's blacklist\n"
	"                    host maps (default 65536: an empty 8M hash map costs 134 MB)\n"
	"  --white-hosts N   capacity of each whitelist host map (default 65536)\n"
	"  --subnets N       capacity of each subnet map (default 65536)\n"
	"  --rate-entries N  sources tracked by the connection threshold (default 262144)\n"
	"  --ban-entries N   sources that can be banned at once (default 65536)\n"
	"Capacities are fixed once the maps exist.\n";

static const char init_usage[] =
	"usage: mailedge-loader init [--hosts N] [--white-hosts N] [--subnets N]\n"
	"                            [--rate-entries N] [--ban-entries N]\n"
	"\n"
	"Create and pin the maps without attaching, so lists can be loaded before any\n"
	"interface is filtered. Capacities as for attach.\n";

static const char detach_usage[] =
	"usage: mailedge-loader detach IFACE\n"
	"\n"
	"Remove the edge filter from IFACE. Maps, lists and counters stay pinned.\n";

static const char destroy_usage[] =
	"usage: mailedge-loader destroy\n"
	"\n"
	"Detach from every interface and remove all pinned maps: every list, ban and\n"
	"counter is lost. Used to change capacities or after an incompatible upgrade.\n";

enum { OPT_HOSTS = 256, OPT_WHITE_HOSTS, OPT_SUBNETS, OPT_RATE, OPT_BAN, OPT_MODE };

static const struct option size_opts[] = {
	{ "hosts", required_argument, NULL, OPT_HOSTS },
	{ "white-hosts", required_argument, NULL, OPT_WHITE_HOSTS },
	{ "subnets", required_argument, NULL, OPT_SUBNETS },
	{ "rate-entries", required_argument, NULL, OPT_RATE },
	{ "ban-entries", required_argument, NULL, OPT_BAN },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Capacity limits: below 16 is a typo, above 2^28 an LPM trie or hash entry count
 * the kernel would refuse anyway (and tens of GB of memory). */
#define MIN_CAP 16
#define MAX_CAP (1ul << 28)

static const char *opt_name(int code)
{
	const struct option *o;

	for (o = size_opts; o->name; o++)
		if (o->val == code)
			return o->name;
	return "?";
}

struct attach_args {
	const char *iface;
	struct me_sizes sizes;
	int mode; /* 0 auto (native, fall back), XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE */
};

static int parse_sizes(int argc, char **argv, const char *usage, int allow_mode,
		       struct attach_args *a, int *help)
{
	int opt;

	*help = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", size_opts, NULL)) != -1) {
		__u32 *dst = NULL;

		switch (opt) {
		case OPT_HOSTS:
			dst = &a->sizes.hosts;
			break;
		case OPT_WHITE_HOSTS:
			dst = &a->sizes.white_hosts;
			break;
		case OPT_SUBNETS:
			dst = &a->sizes.subnets;
			break;
		case OPT_RATE:
			dst = &a->sizes.rate_entries;
			break;
		case OPT_BAN:
			dst = &a->sizes.ban_entries;
			break;
		case OPT_MODE:
			if (!allow_mode)
				return cli_fail("--mode only applies to attach");
			if (!strcmp(optarg, "native"))
				a->mode = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(optarg, "generic") || !strcmp(optarg, "skb"))
				a->mode = XDP_FLAGS_SKB_MODE;
			else
				return cli_fail("unknown mode '%s': use native or generic", optarg);
			continue;
		case 'h':
			fputs(usage, stdout);
			*help = 1;
			return EXIT_OK;
		default:
			return cli_bad_option(argv);
		}
		if (cli_u32(optarg, MIN_CAP, MAX_CAP, dst))
			return cli_fail("--%s: '%s' is not a capacity between %d and %lu",
					opt_name(opt), optarg, MIN_CAP, MAX_CAP);
	}
	return EXIT_OK;
}

/* Prepare and lock the pin directory, without needing the maps to exist;
 * *created says whether this call made the directory. */
static int lock_pin_dir(struct cli *c, struct me_edge *lk, int *created)
{
	int rc;

	me_edge_init(lk);
	snprintf(lk->pin_dir, sizeof(lk->pin_dir), "%s", c->pin_dir);
	rc = me_pin_dir_prepare(c->pin_dir, 1, created);
	if (rc == -EACCES || rc == -EPERM)
		return cli_fail("cannot create %s: %s", c->pin_dir, cli_perm_hint());
	if (rc == -ENOTSUP)
		return cli_fail("%s is not on a BPF filesystem (mount -t bpf bpf DIR)",
				c->pin_dir);
	if (rc == -EXDEV)
		return cli_fail("refusing to pin under %s: %s", c->pin_dir, ME_PRIVATE_MNT_HINT);
	if (rc)
		return cli_fail("cannot create %s: %s", c->pin_dir, strerror(-rc));
	lk->dir_fd = open(c->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lk->dir_fd < 0)
		return cli_fail("cannot open %s: %s", c->pin_dir, strerror(errno));
	rc = me_edge_lock(lk, LOCK_TIMEOUT_MS);
	if (rc)
		return cli_fail("cannot lock %s: %s", c->pin_dir,
				rc == -EBUSY ? "another mailedge program holds it" : strerror(-rc));
	return EXIT_OK;
}

/* Undo lock_pin_dir: unlock, and after a failure (rc != 0) remove the directory
 * if lock_pin_dir made it, to leave no empty directory behind. */
static void unlock_pin_dir(struct cli *c, struct me_edge *lk, int created, int rc)
{
	me_edge_close(lk);
	if (rc && created)
		rmdir(c->pin_dir);
}

static int prune_stale(void *ctx, const struct me_link *l)
{
	(void)ctx;
	if (!l->ifindex) {
		log_info("removing stale link %s (its interface is gone)", l->pin);
		link_remove(l->pin);
	}
	return 0;
}

/* Load the program with the pinned maps; write defaults into fresh maps. */
static int load(struct cli *c, const struct me_sizes *sizes, struct me_prog *prog,
		struct me_edge *e)
{
	char why[512];
	int created, rc;

	rc = me_prog_load(prog, c->pin_dir, sizes, e, &created, why, sizeof(why));
	if (rc == -EPERM || rc == -EACCES)
		return cli_fail("%s (%s)", why, cli_perm_hint());
	if (rc)
		return cli_fail("%s", why);
	if (created && (rc = me_edge_defaults(e))) {
		me_edge_close(e);
		me_prog_close(prog);
		return cli_fail("cannot write the default configuration: %s", strerror(-rc));
	}
	/* Fresh maps, as after a reboot: bring back the admin's lists and the
	 * threshold. A file that cannot be restored is a warning; filtering
	 * without them beats none. */
	if (created) {
		list_restore_state(c, e);
		threshold_restore_state(c, e);
	}
	return EXIT_OK;
}

static int attach_new(const struct attach_args *a, int ifindex, int prog_fd, const char *pin)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int mode = a->mode ? a->mode : (int)XDP_FLAGS_DRV_MODE;
	int fd, err;

	opts.flags = (__u32)mode;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0 && !a->mode && (errno == EOPNOTSUPP || errno == EINVAL)) {
		log_warn("the driver of %s cannot run XDP natively (%s); using generic mode, "
			 "which filters after the kernel has allocated the packet",
			 a->iface, strerror(errno));
		opts.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	}
	if (fd < 0) {
		err = errno;
		if (err == EBUSY || err == EEXIST)
			return cli_fail("%s already has another XDP program attached; remove it "
					"first (ip link set dev %s xdp off)",
					a->iface, a->iface);
		if (err == EPERM || err == EACCES)
			return cli_fail("cannot attach to %s: %s", a->iface, cli_perm_hint());
		if (err == EOPNOTSUPP || err == EINVAL)
			return cli_fail("%s cannot run XDP in %s mode (%s)", a->iface,
					mode == XDP_FLAGS_SKB_MODE ? "generic" : "native",
					strerror(err));
		return cli_fail("cannot attach to %s: %s", a->iface, strerror(err));
	}
	if (bpf_obj_pin(fd, pin)) {
		err = errno;
		bpf_link_detach(fd);
		close(fd);
		return cli_fail("cannot pin the link at %s: %s", pin, strerror(err));
	}
	close(fd);
	return EXIT_OK;
}

static int attach_replace(const struct attach_args *a, const char *pin, int prog_fd)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, rc = EXIT_OK;

	fd = bpf_obj_get(pin);
	if (fd < 0)
		return cli_fail("cannot open the link pinned at %s: %s", pin, strerror(errno));
	if (a->mode) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		int want = a->mode == XDP_FLAGS_SKB_MODE ? XDP_ATTACHED_SKB : XDP_ATTACHED_DRV;

		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !bpf_xdp_query((int)info.xdp.ifindex, 0, &q) && q.attach_mode != want) {
			close(fd);
			return cli_fail("%s runs mailedge in %s mode; detach it first to change "
					"the mode",
					a->iface, link_mode_name(q.attach_mode));
		}
	}
	if (bpf_link_update(fd, prog_fd, NULL))
		rc = cli_fail("cannot replace the program on %s: %s", a->iface, strerror(errno));
	close(fd);
	return rc;
}

int cmd_attach(struct cli *c, int argc, char **argv)
{
	struct attach_args a = { 0 };
	struct me_prog prog = { 0 };
	struct me_edge lk, e;
	char pin[512];
	int ifindex, help, rc, created = 0;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info pinfo = { 0 };
	__u32 plen = sizeof(pinfo);

	rc = parse_sizes(argc, argv, attach_usage, 1, &a, &help);
	if (rc || help)
		return rc;
	if (optind != argc - 1)
		return cli_fail("attach needs exactly one interface (see attach --help)");
	a.iface = argv[optind];
	ifindex = (int)if_nametoindex(a.iface);
	if (!ifindex)
		return cli_fail("no interface named '%s' in this network namespace", a.iface);

	rc = lock_pin_dir(c, &lk, &created);
	if (rc)
		goto out_lock;
	links_walk(c->pin_dir, prune_stale, NULL);
	rc = load(c, &a.sizes, &prog, &e);
	if (rc)
		goto out_lock;
	if ((rc = link_pin_path(pin, sizeof(pin), c->pin_dir, ifindex)))
		goto out;

	if (!access(pin, F_OK)) {
		rc = attach_replace(&a, pin, me_prog_fd(&prog));
		if (rc)
			goto out;
		bpf_obj_get_info_by_fd(me_prog_fd(&prog), &pinfo, &plen);
		printf("replaced the program on %s: now program id %u\n", a.iface, pinfo.id);
	} else {
		rc = attach_new(&a, ifindex, me_prog_fd(&prog), pin);
		if (rc)
			goto out;
		bpf_xdp_query(ifindex, 0, &q);
		bpf_obj_get_info_by_fd(me_prog_fd(&prog), &pinfo, &plen);
		printf("attached to %s in %s mode, program id %u\n", a.iface,
		       link_mode_name(q.attach_mode), pinfo.id);
	}
	rc = EXIT_OK;
out:
	me_edge_close(&e);
	me_prog_close(&prog);
out_lock:
	unlock_pin_dir(c, &lk, created, rc);
	return rc;
}

int cmd_init(struct cli *c, int argc, char **argv)
{
	struct attach_args a = { 0 };
	struct me_prog prog = { 0 };
	struct me_edge lk, e;
	int help, rc, created = 0;

	rc = parse_sizes(argc, argv, init_usage, 0, &a, &help);
	if (rc || help)
		return rc;
	if (optind != argc)
		return cli_fail("init takes no arguments (see init --help)");
	rc = lock_pin_dir(c, &lk, &created);
	if (!rc)
		rc = load(c, &a.sizes, &prog, &e);
	if (!rc) {
		printf("maps ready under %s: per family %u blacklisted and %u whitelisted "
		       "hosts, %u subnets per list (%u blacklisted hosts in the admin's map)\n",
		       c->pin_dir, e.sizes.hosts, e.sizes.white_hosts, e.sizes.subnets,
		       me_map_capacity(e.fd[ME_M_BLACK_HOST4]));
		me_edge_close(&e);
		me_prog_close(&prog);
	}
	unlock_pin_dir(c, &lk, created, rc);
	return rc;
}

struct find_link {
	int ifindex;
	char pin[PATH_MAX];  /* this namespace's link on ifindex */
	struct me_link other;	/* another namespace's link on the same ifindex */
	int have_other;
};

static int find_link_cb(void *ctx, const struct me_link *l)
{
	struct find_link *f = ctx;

	if (l->ifindex != f->ifindex)
		return 0;
	if (!l->here) {
		f->other = *l;
		f->have_other = 1;
		return 0;
	}
	snprintf(f->pin, sizeof(f->pin), "%s", l->pin);
	return 1;
}

static int simple_args(int argc, char **argv, const char *usage, int *help)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int opt;

	*help = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			*help = 1;
			return EXIT_OK;
		}
		return cli_bad_option(argv);
	}
	return EXIT_OK;
}

int cmd_detach(struct cli *c, int argc, char **argv)
{
	struct find_link f = { 0 };
	struct me_edge e;
	int help, rc;

	rc = simple_args(argc, argv, detach_usage, &help);
	if (rc || help)
		return rc;
	if (optind != argc - 1)
		return cli_fail("detach needs exactly one interface (see detach --help)");
	f.ifindex = (int)if_nametoindex(argv[optind]);
	if (!f.ifindex)
		return cli_fail("no interface named '%s' in this network namespace",
				argv[optind]);
	if (cli_open(c, &e, 1))
		return EXIT_FAIL;
	links_walk(c->pin_dir, find_link_cb, &f);
	if (!f.pin[0] && f.have_other) {
		/* Same ifindex, another interface: detaching it from here is what
		 * an ifindex-only pin used to do, silently. */
		char where[NAME_MAX + 64];

		rc = cli_fail("mailedge is not attached to %s in this network namespace; the "
			      "link on ifindex %d is %s's in %s: detach it there (nsenter "
			      "--net=/var/run/netns/%s mailedge-loader detach %s)",
			      argv[optind], f.ifindex, f.other.ifname[0] ? f.other.ifname : "?",
			      link_where(&f.other, where, sizeof(where)),
			      f.other.ns_name[0] ? f.other.ns_name : "NS",
			      f.other.ifname[0] ? f.other.ifname : "IFACE");
	} else if (!f.pin[0]) {
		rc = cli_fail("mailedge is not attached to %s", argv[optind]);
	} else if ((rc = link_remove(f.pin))) {
		rc = cli_fail("cannot detach from %s: %s", argv[optind], strerror(-rc));
	} else {
		printf("detached from %s; lists stay pinned under %s\n", argv[optind],
		       c->pin_dir);
		rc = EXIT_OK;
	}
	links_walk(c->pin_dir, prune_stale, NULL);
	me_edge_close(&e);
	return rc;
}

static int remove_link_cb(void *ctx, const struct me_link *l)
{
	char where[NAME_MAX + 64];
	int *n = ctx;

	if (link_remove(l->pin) || !l->ifindex)
		return 0;
	if (l->here)
		printf("detached from %s\n", l->ifname);
	else
		printf("detached from %s (ifindex %d) in %s\n", l->ifname[0] ? l->ifname : "?",
		       l->ifindex, link_where(l, where, sizeof(where)));
	(*n)++;
	return 0;
}

int cmd_destroy(struct cli *c, int argc, char **argv)
{
	char path[512];
	struct me_edge lk;
	struct dirent *de;
	DIR *d;
	int help, rc, links = 0;

	rc = simple_args(argc, argv, destroy_usage, &help);
	if (rc || help)
		return rc;
	if (optind != argc)
		return cli_fail("destroy takes no arguments (see destroy --help)");
	if (access(c->pin_dir, F_OK))
		return cli_fail("nothing to destroy: %s does not exist", c->pin_dir);
	rc = lock_pin_dir(c, &lk, NULL);
	if (rc)
		goto out;
	links_walk(c->pin_dir, remove_link_cb, &links);
	/* Every pinned object, not only the maps this version knows: a pin
	 * directory made by another version may hold others. */
	d = opendir(c->pin_dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", c->pin_dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (unlink(path) && errno != ENOENT) {
			rc = cli_fail("cannot remove %s: %s", path, strerror(errno));
			closedir(d);
			goto out;
		}
	}
	if (d)
		closedir(d);
	me_edge_unlock(&lk);
	if (rmdir(c->pin_dir) && errno != ENOENT) {
		rc = cli_fail("removed the maps, but not %s: %s", c->pin_dir, strerror(errno));
		goto out;
	}
	printf("removed all mailedge maps under %s\n", c->pin_dir);
out:
	me_edge_close(&lk);
	return rc;
}
