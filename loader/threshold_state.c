// SPDX-License-Identifier: GPL-2.0
/*
 * threshold_state.c - the connection threshold's settings survive a reboot.
 *
 * The settings live in the pinned config and ports maps, which a reboot
 * empties. As for the admin's lists (list_save.c), every `threshold set` or
 * `off` saves them to <state dir>/threshold.conf, and an attach or init that
 * creates the maps afresh writes them back before the first packet is judged.
 * One line, written and read only by this file:
 *
 *   rate=5 burst=10 ban=300 v4_prefix=32 v6_prefix=64 ports=25,465,587
 *
 * or "off". A file edited by hand is held to the bounds `threshold set` holds
 * its options to; one that fails them leaves the threshold off, with a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "atomicfile.h"
#include "log.h"
#include "threshold_view.h"

#define THR_STATE_FILE "threshold.conf"

struct thr_saved {
	struct me_config cfg;
	struct me_ports ports;
};

static int render(FILE *f, void *ctx)
{
	const struct thr_saved *t = ctx;
	const char *sep = "";
	unsigned int port;

	if (!t->cfg.thr_rate) {
		fputs("off\n", f);
		return 0;
	}
	fprintf(f, "rate=%u burst=%u ban=%u v4_prefix=%u v6_prefix=%u ports=", t->cfg.thr_rate,
		t->cfg.thr_burst, t->cfg.thr_ban_secs, t->cfg.thr_v4_prefix, t->cfg.thr_v6_prefix);
	for (port = 1; port < 65536; port++)
		if (t->ports.bits[port >> 3] & (1 << (port & 7))) {
			fprintf(f, "%s%u", sep, port);
			sep = ",";
		}
	fputc('\n', f);
	return 0;
}

void threshold_autosave(const struct cli *c, struct me_edge *e)
{
	struct thr_saved t;
	char path[4096];
	__u32 zero = 0;
	int rc;

	if (cli_state_path(c, THR_STATE_FILE, path, sizeof(path)))
		return;
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &t.cfg) ||
	    bpf_map_lookup_elem(e->fd[ME_M_PORTS], &zero, &t.ports))
		rc = -errno;
	else
		rc = me_file_replace(path, 0640, render, &t);
	if (rc)
		log_warn("the threshold is set, but saving it to %s failed (%s): it will not "
			 "survive a reboot",
			 path, strerror(-rc));
}

/* The saved line into t; -EINVAL for anything `threshold set` would refuse. */
static int parse(const char *line, struct thr_saved *t)
{
	char ports[4096];
	int used = 0;

	if (!strcmp(line, "off\n") || !strcmp(line, "off"))
		return 1;
	if (sscanf(line, "rate=%u burst=%u ban=%u v4_prefix=%u v6_prefix=%u ports=%4095[0-9,]%n",
		   &t->cfg.thr_rate, &t->cfg.thr_burst, &t->cfg.thr_ban_secs,
		   &t->cfg.thr_v4_prefix, &t->cfg.thr_v6_prefix, ports, &used) != 6 ||
	    (line[used] && strcmp(line + used, "\n")))
		return -EINVAL;
	if (t->cfg.thr_rate < 1 || t->cfg.thr_rate > 1000000 || t->cfg.thr_burst < 1 ||
	    t->cfg.thr_burst > 1000000 || t->cfg.thr_ban_secs > 604800 ||
	    t->cfg.thr_v4_prefix < 8 || t->cfg.thr_v4_prefix > 32 || t->cfg.thr_v6_prefix < 32 ||
	    t->cfg.thr_v6_prefix > 128 || threshold_parse_ports(ports, &t->ports))
		return -EINVAL;
	return 0;
}

int threshold_restore_state(struct cli *c, struct me_edge *e)
{
	char path[4096], line[4352];
	struct thr_saved t;
	struct me_config cfg;
	__u32 zero = 0;
	FILE *f;
	int rc;

	if (cli_state_path(c, THR_STATE_FILE, path, sizeof(path)) || access(path, F_OK))
		return 0;
	f = fopen(path, "re");
	if (!f) {
		log_warn("the connection threshold stays off: cannot read %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	rc = fgets(line, sizeof(line), f) ? parse(line, &t) : -EINVAL;
	fclose(f);
	if (rc == 1)
		return 0;
	if (rc) {
		log_warn("the connection threshold stays off: %s does not hold settings "
			 "'threshold set' accepts",
			 path);
		return rc;
	}
	/* Ports first, as threshold set does: a rate never meets the old ports. */
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg) ||
	    bpf_map_update_elem(e->fd[ME_M_PORTS], &zero, &t.ports, BPF_ANY)) {
		log_warn("the connection threshold stays off: %s", strerror(errno));
		return -errno;
	}
	cfg.thr_rate = t.cfg.thr_rate;
	cfg.thr_burst = t.cfg.thr_burst;
	cfg.thr_ban_secs = t.cfg.thr_ban_secs;
	cfg.thr_v4_prefix = t.cfg.thr_v4_prefix;
	cfg.thr_v6_prefix = t.cfg.thr_v6_prefix;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY)) {
		log_warn("the connection threshold stays off: %s", strerror(errno));
		return -errno;
	}
	log_info("restored the connection threshold from %s: %u new connections per second, "
		 "burst %u",
		 path, cfg.thr_rate, cfg.thr_burst);
	return 0;
}
