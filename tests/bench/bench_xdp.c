// SPDX-License-Identifier: GPL-2.0
/*
 * bench_xdp.c - the primitives of the XDP benchmark (tests/bench/xdp.sh runs them).
 *
 *   bench-xdp progrun [--hosts N] [--hosts6 N] [--subnets N] [--whites N] [--packets N]
 *       every verdict path at full size, cold cache, through BPF_PROG_RUN, as a
 *       multiple of the floor (one random cache line per frame); the lists
 *       applied by me_sync_apply as list sync applies them (bench_progrun.c).
 *   bench-xdp rows [--runs N] [-v]
 *       the BPF test table's rows on its fixture, timed and checked (bench_rows.c).
 *   bench-xdp gen --netns NS --ifname IF --dst-mac MAC --src BASE --nsrc N
 *                 --dst ADDR --seconds S [--cpu C]
 *       line-rate generator: BPF_PROG_RUN in live-frames mode, XDP_TX out of IF.
 *   bench-xdp drop-attach NS IF PINDIR | drop-count PINDIR
 *       the XDP_DROP floor program, attached by a pinned link.
 *   bench-xdp hosts N BASE NSRC
 *       print N IPv4 hosts: NSRC from BASE up (the sources the generator uses)
 *       and the rest spread over 10.0.0.0/8 (never sent, only listed).
 *   bench-xdp nets N
 *       print N IPv4 /24 subnets from 60.0.0.0/24 up (never sent, only listed).
 *   bench-xdp xdpfilter-fill FILE
 *       load a host list into xdp-filter's pinned map (its CLI takes one address
 *       per process, which would make the setup, not the filter, the benchmark).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edge_load.h"
#include "listfile.h"
#include "lists.h"
#include "log.h"
#include "../lib/pkt.h"
#include "bench.skel.h"
#include "bench_xdp.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench-xdp: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Kernel memory that BPF map elements come from: slab for hash and LPM
 * nodes, per-CPU and vmalloc areas for the rest. */
long long kmem_kb(void)
{
	static const char *const keys[] = { "SUnreclaim:", "Percpu:", "VmallocUsed:" };
	char line[256];
	long long total = 0, v;
	size_t i;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%lld", &v) == 1)
				total += v;
	fclose(f);
	return total;
}

/* What the kernel says a map costs (fdinfo "memlock", from map_mem_usage). */
long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

__u32 bench_host_addr(__u32 i)
{
	return 0x0a000000u | ((i * 0x9e3779b1u) & 0x00ffffffu);
}

void ip4_str(__u32 host_order, char *buf)
{
	__u32 be = htonl(host_order);

	inet_ntop(AF_INET, &be, buf, INET_ADDRSTRLEN);
}

int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_empty", "GPL", insns, 2, NULL);

	if (fd < 0)
		die("cannot load the empty program: %s", strerror(errno));
	return fd;
}

/* ---- gen ---- */

static volatile sig_atomic_t gen_stop;

static void on_alarm(int sig)
{
	(void)sig;
	gen_stop = 1;
}

static int enter_netns(const char *ns)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return rc;
}

static void cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },  { "ifname", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'm' }, { "src", required_argument, NULL, 's' },
		{ "nsrc", required_argument, NULL, 'N' },   { "dst", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 't' }, { "cpu", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *ns = NULL, *ifname = NULL, *mac = NULL, *src = NULL, *dst = "192.0.2.1";
	unsigned int m[6], nsrc = 1, seconds = 5;
	int opt, cpu = 0, ifindex;
	struct pkt_spec p = { 0 };
	unsigned char frame[128];
	struct in_addr base;
	struct bench_bpf *skel;
	struct xdp_md ctx = { 0 };
	unsigned long long sent = 0;
	cpu_set_t set;
	double t0, t;
	size_t len;
	int i;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': ns = optarg; break;
		case 'i': ifname = optarg; break;
		case 'm': mac = optarg; break;
		case 's': src = optarg; break;
		case 'N': nsrc = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'd': dst = optarg; break;
		case 't': seconds = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'c': cpu = atoi(optarg); break;
		default: die("bad gen option");
		}
	}
	if (!ns || !ifname || !mac || !src || !nsrc || !seconds)
		die("usage: bench-xdp gen --netns NS --ifname IF --dst-mac MAC --src BASE "
		    "--nsrc N [--dst ADDR] --seconds S [--cpu C]");
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6 ||
	    inet_pton(AF_INET, src, &base) != 1)
		die("bad --dst-mac or --src");
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity: %s", strerror(errno));
	if (enter_netns(ns))
		die("cannot enter netns %s", ns);
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		die("no interface %s in %s", ifname, ns);

	p.family = AF_INET;
	p.src = src;
	p.dst = dst;
	p.l4 = 6;
	p.sport = 40000;
	p.dport = 25;
	p.tcp_flags = TF_SYN;
	len = pkt_build(&p, frame, sizeof(frame));
	for (i = 0; i < 6; i++)
		frame[i] = (unsigned char)m[i];

	skel = bench_bpf__open();
	if (!skel)
		die("cannot open bench.bpf.o");
	skel->rodata->src_base = ntohl(base.s_addr);
	skel->rodata->nsrc = nsrc;
	if (bench_bpf__load(skel))
		die("cannot load the generator program");

	/* The kernel wants the context to describe the frame: data 0, data_end = size. */
	ctx.ingress_ifindex = (__u32)ifindex;
	ctx.data_end = (__u32)len;
	signal(SIGALRM, on_alarm);
	alarm(seconds);
	t0 = now_s();
	while (!gen_stop) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .repeat = 1 << 20,
			    .batch_size = 64);

		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gen_tx), &o)) {
			if (errno == EINTR)
				break;
			die("live-frames run: %s", strerror(errno));
		}
		sent += 1 << 20;
	}
	t = now_s() - t0;
	printf("frames=%llu seconds=%.3f\n", sent, t);
	bench_bpf__destroy(skel);
}

/* ---- drop_all floor ---- */

static void cmd_drop_attach(int argc, char **argv)
{
	struct bench_bpf *skel;
	char path[512];
	int ifindex, fd;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);

	if (argc != 4)
		die("usage: bench-xdp drop-attach NS IF PINDIR");
	if (enter_netns(argv[1]))
		die("cannot enter netns %s", argv[1]);
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex)
		die("no interface %s", argv[2]);
	skel = bench_bpf__open_and_load();
	if (!skel)
		die("cannot load bench.bpf.o");
	fd = bpf_link_create(bpf_program__fd(skel->progs.drop_all), ifindex, BPF_XDP, &lo);
	if (fd < 0)
		die("attach drop_all: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/drop_link", argv[3]);
	if (bpf_obj_pin(fd, path))
		die("pin %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/drop_count", argv[3]);
	if (bpf_map__pin(skel->maps.drops, path))
		die("pin %s", path);
	bench_bpf__destroy(skel);
}

static void cmd_drop_count(int argc, char **argv)
{
	char path[512];
	__u64 *v, sum = 0;
	__u32 zero = 0;
	int fd, ncpu = libbpf_num_possible_cpus(), i;

	if (argc != 2)
		die("usage: bench-xdp drop-count PINDIR");
	snprintf(path, sizeof(path), "%s/drop_count", argv[1]);
	fd = bpf_obj_get(path);
	v = calloc((size_t)ncpu, sizeof(*v));
	if (fd < 0 || !v || bpf_map_lookup_elem(fd, &zero, v))
		die("cannot read %s", path);
	for (i = 0; i < ncpu; i++)
		sum += v[i];
	printf("%llu\n", (unsigned long long)sum);
	free(v);
}

/* ---- host lists ---- */

static void cmd_hosts(int argc, char **argv)
{
	__u32 n, nsrc, i;
	struct in_addr base;
	char a[INET_ADDRSTRLEN];

	if (argc != 4 || inet_pton(AF_INET, argv[2], &base) != 1)
		die("usage: bench-xdp hosts N BASE NSRC");
	n = (__u32)strtoul(argv[1], NULL, 10);
	nsrc = (__u32)strtoul(argv[3], NULL, 10);
	for (i = 0; i < nsrc && i < n; i++) {
		ip4_str(ntohl(base.s_addr) + i, a);
		puts(a);
	}
	for (; i < n; i++) {
		ip4_str(bench_host_addr(i), a);
		puts(a);
	}
}

static void cmd_nets(int argc, char **argv)
{
	__u32 n, i;

	if (argc != 2)
		die("usage: bench-xdp nets N");
	n = (__u32)strtoul(argv[1], NULL, 10);
	for (i = 0; i < n; i++)
		printf("%u.%u.%u.0/24\n", 60 + i / 65536, (i / 256) % 256, i % 256);
}

static int xf_cb(void *ctx, const struct me_prefix *p, unsigned long line)
{
	int fd = *(int *)ctx, ncpu = libbpf_num_possible_cpus(), i;
	__u64 v[256];
	__u32 key;

	(void)line;
	if (p->family != AF_INET || p->len != 32)
		return 0;
	for (i = 0; i < ncpu && i < 256; i++)
		v[i] = 1; /* MAP_FLAG_SRC in xdp-tools' common_kern_user.h */
	memcpy(&key, p->addr, 4);
	if (bpf_map_update_elem(fd, &key, v, BPF_ANY))
		return -errno;
	return 0;
}

static void cmd_xdpfilter_fill(int argc, char **argv)
{
	struct me_parse_err err;
	char *buf;
	size_t len;
	int fd, rc;

	if (argc != 2)
		die("usage: bench-xdp xdpfilter-fill FILE");
	fd = bpf_obj_get("/sys/fs/bpf/xdp-filter/filter_ipv4");
	if (fd < 0)
		die("xdp-filter is not loaded (no /sys/fs/bpf/xdp-filter/filter_ipv4)");
	if (me_read_file(argv[1], 1 << 30, &buf, &len))
		die("cannot read %s", argv[1]);
	rc = me_listfile_parse(buf, len, 0, xf_cb, &fd, &err);
	if (rc)
		die("filling xdp-filter: %s (line %lu)", strerror(-rc), err.line);
	free(buf);
}

int main(int argc, char **argv)
{
	log_init("bench-xdp", ME_LOG_WARN, 0);
	log_libbpf();
	if (argc < 2)
		die("usage: bench-xdp progrun|rows|gen|drop-attach|drop-count|hosts|nets|xdpfilter-fill ...");
	if (!strcmp(argv[1], "progrun"))
		cmd_progrun(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "rows"))
		cmd_rows(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "gen"))
		cmd_gen(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "drop-attach"))
		cmd_drop_attach(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "drop-count"))
		cmd_drop_count(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "hosts"))
		cmd_hosts(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "nets"))
		cmd_nets(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "xdpfilter-fill"))
		cmd_xdpfilter_fill(argc - 1, argv + 1);
	else
		die("unknown command %s", argv[1]);
	return 0;
}
