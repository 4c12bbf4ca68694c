// SPDX-License-Identifier: GPL-2.0
/*
 * test_ns_edge.c - the edge filter against real traffic in a namespace lab.
 *
 * Every test builds its own lab (tests/lib/testenv.h): a client namespace and a
 * gateway namespace joined by veth, mailedge attached natively on the gateway
 * end, real TCP listeners on port 25 (0.0.0.0 and 2001:db8::1) in the gateway.
 * The client connects from documentation addresses (192.0.2.0/24,
 * 198.51.100.0/24, 2001:db8::/64) and the tests check what a sender sees:
 *
 *   connected   the filter let the SYN through and the listener answered;
 *   timeout     the filter dropped it (a dropped SYN is silence, so a short
 *               timeout is the expected outcome, not a flaky one);
 *   refused     the filter answered the SYN with RST|ACK (action "reset").
 *
 * and cross-check with the loader's own counters (status --json).
 *
 * Every loader command is a separate process (lab_loader), so whatever a test
 * shows surviving from one command to the next has survived a loader restart.
 *
 * .fini stops any background traffic generator, closes the listeners and removes
 * the lab and this test's pin directory, on every exit path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "lib/labcheck.h"
#include "lib/testenv.h"
#include "lib/tjson.h"
#include "lib/traffic.h"

#define SMTP_PORT    25
#define CONNECT_MS   3000 /* a connection that should succeed gets this long */
#define DROP_MS	     1500 /* a dropped SYN: the wait that must end in a timeout */
#define RESET_MAX_MS 1000 /* a reset must be refused well before a SYN retransmit */

/* Small maps: the default 8M-entry blacklist map costs 134 MB of kernel memory
 * per pin directory, and two tests run at once. Capacity is not under test here
 * (except in attach_native, which uses the defaults). */
#define SMALL_MAPS                                                                                 \
	"--hosts 1024 --white-hosts 1024 --subnets 1024 --rate-entries 1024 "                      \
	"--ban-entries 1024"

static struct lab lab;
static int lfd4 = -1, lfd6 = -1;
static struct bgproc bg = { .pid = -1 };
static char msg[8192]; /* assertion text built before freeing what it quotes */

/* ---- helpers ---- */

/* Connect from src (a client address) to dst:25 and check the outcome. */
static void expect_conn(const char *src, const char *dst, int want)
{
	int rc = ns_connect(lab.cl_ns, src, dst, SMTP_PORT, want ? DROP_MS : CONNECT_MS);

	cr_assert_eq(rc, want, "connect %s -> [%s]:25: got %s, want %s", src, dst, conn_name(rc),
		     conn_name(want));
}

/* Run the loader in the gateway namespace; it must succeed. Returns its
 * standard output, which the caller frees. */
static char *loader_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *loader_ok(const char *fmt, ...)
{
	char args[2048];
	struct run r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	lab_loader(&lab, &r, "%s", args);
	if (r.status != 0) {
		snprintf(msg, sizeof(msg), "mailedge-loader %s: got status %d, want 0; stderr: %s",
			 args, r.status, r.err ? r.err : "");
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	free(r.err);
	return r.out ? r.out : strdup("");
}

static void loader_do(const char *args)
{
	free(loader_ok("%s", args));
}

/* Output of the loader must contain want. */
static void expect_out(char *out, const char *what, const char *want)
{
	if (!strstr(out, want)) {
		snprintf(msg, sizeof(msg), "%s: got output '%s', want it to contain '%s'", what,
			 out, want);
		free(out);
		cr_assert_fail("%s", msg);
	}
	free(out);
}

static void attach_small(void)
{
	expect_out(loader_ok("attach %s --mode native " SMALL_MAPS, lab.gw_if), "attach",
		   "in native mode");
}

/* Run a shell command; it must succeed. Returns its stdout (caller frees). */
static char *sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *sh_ok(const char *fmt, ...)
{
	char cmd[4096];
	struct run r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	tenv_run(&r, "%s", cmd);
	if (r.status != 0) {
		snprintf(msg, sizeof(msg), "'%s': got status %d, want 0; stderr: %s", cmd, r.status,
			 r.err ? r.err : "");
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	free(r.err);
	return r.out ? r.out : strdup("");
}

static void need_hping3(void)
{
	struct run r;
	int st;

	tenv_run(&r, "command -v hping3");
	st = r.status;
	tenv_run_free(&r);
	cr_assert_eq(st, 0,
		     "hping3 not found: got status %d from 'command -v hping3', want 0 "
		     "(install it: apt-get install hping3)",
		     st);
}

/* hping3 in the client namespace, in the background until hping_finish. */
static void start_hping(const char *args)
{
	int rc = hping_start(&bg, lab.cl_ns, args);

	cr_assert_eq(rc, 0, "starting hping3: got %d, want 0", rc);
}

/* Wait up to ms for hping3 to end (SIGINT first if stop); packets it sent. */
static long finish_hping(int stop, int ms)
{
	char buf[8192];
	int rc = bg_finish(&bg, stop, ms, buf, sizeof(buf));
	long sent = hping_sent(buf);

	cr_assert_eq(rc, 0, "hping3%s: got still running after %d ms, want it ended",
		     stop ? " after SIGINT" : "", ms);
	cr_assert_geq(sent, 0, "hping3 output: got '%s', want a 'N packets transmitted' line", buf);
	return sent;
}

/* ---- status --json ---- */

static const char *const reasons[] = { "non-ip",    "malformed",  "white-host",
				       "white-net", "black-host", "black-net",
				       "banned",    "threshold",  "clean" };
static const char *const verdicts[] = { "pass", "drop", "reset" };
#define NREASONS  (int)(sizeof(reasons) / sizeof(reasons[0]))
#define NVERDICTS (int)(sizeof(verdicts) / sizeof(verdicts[0]))

struct snap {
	long long pk[NREASONS][NVERDICTS];
	long long hits[256]; /* per list source id */
	long long bans_added;
	int nif;
	char ifname[32], mode[16];
	long long prog_id, link_id;
};

static int name_idx(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static void status_snap(struct snap *s)
{
	char *out = loader_ok("status --json");
	json_object *root = json_tokener_parse(out), *a, *ev;
	const char *bad = NULL;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (!root) {
		snprintf(msg, sizeof(msg), "status --json: got '%.2000s', want JSON", out);
		free(out);
		cr_assert_fail("%s", msg);
	}
	free(out);
	if (!json_object_object_get_ex(root, "interfaces", &a) ||
	    !json_object_object_get_ex(root, "verdicts", &a) ||
	    !json_object_object_get_ex(root, "lists", &a) ||
	    !json_object_object_get_ex(root, "events", &ev))
		bad = "interfaces, verdicts, lists and events";

	if (!bad && json_object_object_get_ex(root, "interfaces", &a)) {
		s->nif = (int)json_object_array_length(a);
		if (s->nif > 0) {
			json_object *o = json_object_array_get_idx(a, 0);
			const char *name = jstr(o, "name"), *mode = jstr(o, "mode");

			snprintf(s->ifname, sizeof(s->ifname), "%s", name ? name : "(null)");
			snprintf(s->mode, sizeof(s->mode), "%s", mode ? mode : "(null)");
			s->prog_id = jint_null0(o, "prog_id");
			s->link_id = jint_null0(o, "link_id");
		}
	}
	if (!bad && json_object_object_get_ex(root, "verdicts", &a)) {
		for (i = 0; i < json_object_array_length(a); i++) {
			json_object *o = json_object_array_get_idx(a, i);
			int r = name_idx(reasons, NREASONS, jstr(o, "reason"));
			int v = name_idx(verdicts, NVERDICTS, jstr(o, "verdict"));

			if (r < 0 || v < 0) {
				bad = "verdicts with known reason and verdict names";
				break;
			}
			s->pk[r][v] = jint_null0(o, "packets");
		}
	}
	if (!bad && json_object_object_get_ex(root, "lists", &a)) {
		for (i = 0; i < json_object_array_length(a); i++) {
			long long id = jint_null0(json_object_array_get_idx(a, i), "id");

			if (id < 0 || id > 255) {
				bad = "lists with ids 0-255";
				break;
			}
			s->hits[id] = jint_null0(json_object_array_get_idx(a, i), "hits");
		}
	}
	if (!bad)
		s->bans_added = jint_null0(ev, "bans_added");
	json_object_put(root);
	cr_assert_null(bad, "status --json: got a document without %s, want them", bad);
}

static long long pk(const struct snap *s, const char *reason, const char *verdict)
{
	int r = name_idx(reasons, NREASONS, reason), v = name_idx(verdicts, NVERDICTS, verdict);

	cr_assert(r >= 0 && v >= 0, "counter %s/%s: got an unknown name, want one of status's",
		  reason, verdict);
	return s->pk[r][v];
}

#define SRC_MANUAL    0 /* enum me_src */
#define SRC_THRESHOLD 1

/* list show --json must (want=1) or must not (want=0) hold list/address/action. */
static void expect_listed(const char *list, const char *addr, const char *action, int want)
{
	char *out = loader_ok("list show --json");
	json_object *arr = json_tokener_parse(out);
	int found = 0, isarr = arr && json_object_is_type(arr, json_type_array);
	size_t i;

	for (i = 0; isarr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *l = jstr(o, "list"), *ad = jstr(o, "address"), *ac = jstr(o, "action");

		if (l && ad && ac && !strcmp(l, list) && !strcmp(ad, addr) && !strcmp(ac, action))
			found = 1;
	}
	snprintf(msg, sizeof(msg), "list show --json: got %s, want %s %s entry %s (%s)",
		 isarr ? out : "no JSON array", want ? "a" : "no", list, addr, action);
	json_object_put(arr);
	free(out);
	cr_assert(isarr && found == want, "%s", msg);
}

/* Accept every connection waiting on listener fd; return how many came from addr. */
static int accepted_from(int fd, const char *addr)
{
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN];
	int n = 0, c;

	for (;;) {
		socklen_t len = sizeof(ss);

		c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (c < 0)
			break;
		text[0] = '\0';
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text,
				  sizeof(text));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text,
				  sizeof(text));
		if (!strcmp(text, addr))
			n++;
		close(c);
	}
	return n;
}

/* ---- fixture ---- */

static void teardown(void);

/* Criterion does not run .fini when .init fails, so setup cleans up itself
 * before reporting a failure. */
static void setup_fail(const char *what, int rc)
{
	snprintf(msg, sizeof(msg), "%s: got %d, want %s", what, rc,
		 rc < -1 ? "a descriptor" : "0 (the failing command is on stderr)");
	teardown();
	cr_assert_fail("%s", msg);
}

static void setup(void)
{
	int rc = lab_up(&lab);

	if (rc)
		setup_fail("lab_up", rc);
	lfd4 = ns_listen(lab.gw_ns, "0.0.0.0", SMTP_PORT);
	if (lfd4 < 0)
		setup_fail("listening on 0.0.0.0:25 in the gateway", lfd4);
	lfd6 = ns_listen(lab.gw_ns, "2001:db8::1", SMTP_PORT);
	if (lfd6 < 0)
		setup_fail("listening on [2001:db8::1]:25 in the gateway", lfd6);
	fcntl(lfd4, F_SETFL, O_NONBLOCK);
	fcntl(lfd6, F_SETFL, O_NONBLOCK);
}

static void teardown(void)
{
	bg_kill(&bg);
	if (lfd4 >= 0)
		close(lfd4);
	if (lfd6 >= 0)
		close(lfd6);
	lfd4 = lfd6 = -1;
	lab_down(&lab);
	tenv_pin_dir_remove();
}

/* Generous: every program load costs the kernel verifier ~1.6 s of CPU, and a
 * loaded machine makes the six loads of upgrade_leaves_no_gap take 15-35 s. */
TestSuite(ns_edge, .init = setup, .fini = teardown, .timeout = 90);

/* ---- tests ---- */

Test(ns_edge, attach_native)
{
	struct snap s;
	char *out;

	/* Default capacities: the one test that attaches exactly as an admin would. */
	expect_out(loader_ok("attach %s --mode native", lab.gw_if), "attach", "in native mode");
	status_snap(&s);
	cr_assert_eq(s.nif, 1, "status interfaces: got %d, want 1", s.nif);
	cr_assert_str_eq(s.ifname, lab.gw_if, "status interface name: got %s, want %s", s.ifname,
			 lab.gw_if);
	cr_assert_str_eq(s.mode, "native", "status mode: got %s, want native", s.mode);

	out = sh_ok("ip -n %s link show dev %s", lab.gw_ns, lab.gw_if);
	snprintf(msg, sizeof(msg), "ip link: got '%s', want a driver-mode 'xdp' program", out);
	cr_assert(strstr(out, " xdp ") && !strstr(out, "xdpgeneric"), "%s", msg);
	free(out);

	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s);
	cr_assert_gt(pk(&s, "clean", "pass"), 0, "clean/pass packets: got %lld, want > 0",
		     pk(&s, "clean", "pass"));
}

Test(ns_edge, blacklisted_host_dropped)
{
	struct snap s;

	lab_addr_ok(&lab, "192.0.2.66/24");
	attach_small();
	expect_conn("192.0.2.66", "192.0.2.1", 0); /* reachable before it is listed */
	loader_do("list add black 192.0.2.66");

	expect_conn("192.0.2.66", "192.0.2.1", -ETIMEDOUT);
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s);
	cr_assert_gt(pk(&s, "black-host", "drop"), 0, "black-host/drop: got %lld, want > 0",
		     pk(&s, "black-host", "drop"));
	cr_assert_eq(pk(&s, "black-host", "pass"), 0, "black-host/pass: got %lld, want 0",
		     pk(&s, "black-host", "pass"));
	cr_assert_geq(s.hits[SRC_MANUAL], pk(&s, "black-host", "drop"),
		      "manual list hits: got %lld, want >= %lld (every black-host drop)",
		      s.hits[SRC_MANUAL], pk(&s, "black-host", "drop"));
	cr_assert_gt(pk(&s, "clean", "pass"), 0, "clean/pass: got %lld, want > 0",
		     pk(&s, "clean", "pass"));
}

Test(ns_edge, whitelisted_host_inside_blacklisted_subnet)
{
	struct snap s;

	lab_addr_ok(&lab, "198.51.100.7/24");
	lab_addr_ok(&lab, "198.51.100.20/24");
	attach_small();
	loader_do("list add black 198.51.100.0/24");
	loader_do("list add white 198.51.100.7");

	expect_conn("198.51.100.7", "198.51.100.1", 0);
	expect_conn("198.51.100.20", "198.51.100.1", -ETIMEDOUT);
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s);
	cr_assert_gt(pk(&s, "white-host", "pass"), 0, "white-host/pass: got %lld, want > 0",
		     pk(&s, "white-host", "pass"));
	cr_assert_gt(pk(&s, "black-net", "drop"), 0, "black-net/drop: got %lld, want > 0",
		     pk(&s, "black-net", "drop"));
	cr_assert_eq(pk(&s, "black-net", "pass"), 0, "black-net/pass: got %lld, want 0",
		     pk(&s, "black-net", "pass"));
}

/* A reset must be refused at once: that is the point of RST over drop. */
static void expect_refused_fast(const char *src, const char *dst)
{
	long long t0 = now_ms(), dt;
	int rc = ns_connect(lab.cl_ns, src, dst, SMTP_PORT, CONNECT_MS);

	dt = now_ms() - t0;
	cr_assert_eq(rc, -ECONNREFUSED, "connect %s -> [%s]:25: got %s after %lld ms, want refused",
		     src, dst, conn_name(rc), dt);
	cr_assert_lt(dt, RESET_MAX_MS, "refusal of %s: got %lld ms, want < %d ms", src, dt,
		     RESET_MAX_MS);
}

Test(ns_edge, reset_ipv4)
{
	struct snap s;

	lab_addr_ok(&lab, "192.0.2.77/24");
	attach_small();
	loader_do("list add black 192.0.2.77 --action reset");

	expect_refused_fast("192.0.2.77", "192.0.2.1");
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s);
	cr_assert_gt(pk(&s, "black-host", "reset"), 0, "black-host/reset: got %lld, want > 0",
		     pk(&s, "black-host", "reset"));
	cr_assert_eq(pk(&s, "black-host", "pass"), 0, "black-host/pass: got %lld, want 0",
		     pk(&s, "black-host", "pass"));
}

/* A socket made in the client namespace (it stays there once made). */
static int client_socket(void *arg)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)arg;
	return fd < 0 ? -errno : fd;
}

/* An IPv4 connection from src to dst:25, open (connected, blocking); or -errno. */
static int open_conn4(const char *src, const char *dst)
{
	struct sockaddr_in s = { .sin_family = AF_INET };
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(SMTP_PORT) };
	struct timeval tv = { .tv_sec = CONNECT_MS / 1000 };
	int fd, rc = 0;

	if (inet_pton(AF_INET, src, &s.sin_addr) != 1 || inet_pton(AF_INET, dst, &d.sin_addr) != 1)
		return -EINVAL;
	fd = ns_enter(lab.cl_ns, client_socket, NULL);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&s, sizeof(s)) ||
	    connect(fd, (struct sockaddr *)&d, sizeof(d)))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * A connection opened before its source was listed "reset": the next segment
 * it sends carries ACK, so the filter answers <SEQ=SEG.ACK><CTL=RST> (RFC 9293
 * 3.10.7.1). The client's kernel takes a RST only at exactly the sequence
 * number it expects next (RFC 5961; any other gets a challenge ACK and is
 * ignored), so a prompt ECONNRESET proves the sequence number right.
 */
Test(ns_edge, reset_open_connection)
{
	struct pollfd pfd;
	struct snap s;
	long long t0, dt;
	char buf[64];
	ssize_t n;
	int fd, err;

	lab_addr_ok(&lab, "192.0.2.77/24");
	attach_small();
	fd = open_conn4("192.0.2.77", "192.0.2.1");
	cr_assert_geq(fd, 0, "connect 192.0.2.77 -> 192.0.2.1:25: got %s, want connected",
		      conn_name(fd));
	loader_do("list add black 192.0.2.77 --action reset");

	t0 = now_ms();
	n = send(fd, "EHLO client.example\r\n", 21, MSG_NOSIGNAL);
	err = n < 0 ? errno : 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (!err && poll(&pfd, 1, RESET_MAX_MS) == 1) {
		n = recv(fd, buf, sizeof(buf), 0);
		err = n < 0 ? errno : 0;
	}
	dt = now_ms() - t0;
	close(fd);
	cr_assert_eq(err, ECONNRESET,
		     "data on an open connection from a reset source: got %s after %lld ms, want "
		     "ECONNRESET (a RST at the client's next sequence number)",
		     err ? strerror(err) : "no error", dt);
	status_snap(&s);
	cr_assert_gt(pk(&s, "black-host", "reset"), 0, "black-host/reset: got %lld, want > 0",
		     pk(&s, "black-host", "reset"));
}

Test(ns_edge, reset_ipv6)
{
	struct snap s;

	lab_addr_ok(&lab, "2001:db8::10/64");
	lab_addr_ok(&lab, "2001:db8::77/64");
	attach_small();
	/* A clean IPv6 connection first. It also resolves the gateway's address
	 * on the client: the client solicits it from the address it is about to
	 * send from, and a solicitation from a "reset" source is not TCP, so the
	 * filter drops it. Real senders reach the gateway through a router, whose
	 * solicitations come from its own address. */
	expect_conn("2001:db8::10", "2001:db8::1", 0);
	loader_do("list add black 2001:db8::77 --action reset");

	expect_refused_fast("2001:db8::77", "2001:db8::1");
	expect_conn("2001:db8::10", "2001:db8::1", 0);
	status_snap(&s);
	cr_assert_gt(pk(&s, "black-host", "reset"), 0, "black-host/reset: got %lld, want > 0",
		     pk(&s, "black-host", "reset"));
	cr_assert_eq(pk(&s, "black-host", "pass"), 0, "black-host/pass: got %lld, want 0",
		     pk(&s, "black-host", "pass"));
}

Test(ns_edge, blacklisted_ipv6_host_dropped)
{
	struct snap s;

	lab_addr_ok(&lab, "2001:db8::10/64");
	lab_addr_ok(&lab, "2001:db8::66/64");
	attach_small();
	/* Resolve the gateway first (see reset_ipv6), so that what is dropped
	 * below is the SYN itself. */
	expect_conn("2001:db8::66", "2001:db8::1", 0);
	loader_do("list add black 2001:db8::66");

	expect_conn("2001:db8::66", "2001:db8::1", -ETIMEDOUT);
	expect_conn("2001:db8::10", "2001:db8::1", 0);
	/* The IPv6 source is not mistaken for anything IPv4. */
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s);
	cr_assert_gt(pk(&s, "black-host", "drop"), 0, "black-host/drop: got %lld, want > 0",
		     pk(&s, "black-host", "drop"));
	cr_assert_eq(pk(&s, "black-host", "pass"), 0, "black-host/pass: got %lld, want 0",
		     pk(&s, "black-host", "pass"));
}

/* 500 SYNs from 192.0.2.50 to port 25 in about a second. */
#define FLOOD_SYNS 500
#define FLOOD_ARGS "-q -S -p 25 -i u2000 -c 500 -a 192.0.2.50 192.0.2.1"

Test(ns_edge, threshold_drops_flood)
{
	struct snap s;
	long sent, dropped;
	int during;

	need_hping3();
	lab_addr_ok(&lab, "192.0.2.50/24");
	attach_small();
	loader_do("threshold set --rate 5 --burst 5");

	start_hping(FLOOD_ARGS);
	usleep(300 * 1000);
	/* Another source, in the middle of the flood: its own budget is untouched. */
	during = ns_connect(lab.cl_ns, "192.0.2.10", "192.0.2.1", SMTP_PORT, CONNECT_MS);
	sent = finish_hping(0, 15000);
	cr_assert_eq(during, 0, "connect 192.0.2.10 during the flood: got %s, want connected",
		     conn_name(during));
	cr_assert_eq(sent, FLOOD_SYNS, "hping3 sent: got %ld, want %d", sent, FLOOD_SYNS);
	expect_conn("192.0.2.10", "192.0.2.1", 0);

	status_snap(&s);
	dropped = (long)pk(&s, "threshold", "drop");
	cr_log_info("flood: %ld SYNs sent, %ld dropped by the threshold", sent, dropped);
	/* burst 5 + 5/s for about a second (allow a slow hping3: 10 s) */
	cr_assert_geq(dropped, 400, "threshold/drop: got %ld, want >= 400 of %ld SYNs", dropped,
		      sent);
	cr_assert_leq(dropped, sent, "threshold/drop: got %ld, want <= %ld (SYNs sent)", dropped,
		      sent);
	cr_assert_eq(pk(&s, "banned", "drop"), 0, "banned/drop without --ban: got %lld, want 0",
		     pk(&s, "banned", "drop"));
}

Test(ns_edge, threshold_ban)
{
	struct snap s, s2;
	long sent, over;

	need_hping3();
	lab_addr_ok(&lab, "192.0.2.50/24");
	attach_small();
	loader_do("threshold set --rate 5 --burst 5 --ban 30");

	start_hping(FLOOD_ARGS);
	sent = finish_hping(0, 15000);
	cr_assert_eq(sent, FLOOD_SYNS, "hping3 sent: got %ld, want %d", sent, FLOOD_SYNS);

	status_snap(&s);
	/* The first SYN over the limit bans the source (threshold/drop); the
	 * rest of the flood is dropped as banned. */
	over = (long)(pk(&s, "threshold", "drop") + pk(&s, "banned", "drop"));
	cr_log_info("flood with ban: %ld SYNs sent, %lld threshold drops, %lld banned drops", sent,
		    pk(&s, "threshold", "drop"), pk(&s, "banned", "drop"));
	cr_assert_geq(over, 400, "threshold/drop + banned/drop: got %ld, want >= 400 of %ld", over,
		      sent);
	cr_assert_gt(pk(&s, "threshold", "drop"), 0, "threshold/drop: got %lld, want > 0",
		     pk(&s, "threshold", "drop"));
	cr_assert_gt(pk(&s, "banned", "drop"), 0, "banned/drop: got %lld, want > 0",
		     pk(&s, "banned", "drop"));
	cr_assert_geq(s.bans_added, 1, "events bans_added: got %lld, want >= 1", s.bans_added);

	/* Banned: not even one connection, though its rate budget has refilled
	 * by now (0.2 s per SYN at 5/s). */
	usleep(1200 * 1000);
	expect_conn("192.0.2.50", "192.0.2.1", -ETIMEDOUT);
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s2);
	cr_assert_gt(pk(&s2, "banned", "drop"), pk(&s, "banned", "drop"),
		     "banned/drop after the banned source's connect: got %lld, want > %lld",
		     pk(&s2, "banned", "drop"), pk(&s, "banned", "drop"));
	cr_assert_gt(s2.hits[SRC_THRESHOLD], 0, "threshold list hits: got %lld, want > 0",
		     s2.hits[SRC_THRESHOLD]);
}

Test(ns_edge, lists_survive_detach_attach_and_upgrade)
{
	struct snap s0, s1, s2, s3;
	char *out;

	lab_addr_ok(&lab, "192.0.2.66/24");
	lab_addr_ok(&lab, "198.51.100.7/24");
	lab_addr_ok(&lab, "198.51.100.20/24");
	attach_small();
	/* Each loader command is a new process: the entries below outlive the
	 * process that wrote them, which is the "loader restart" case. */
	loader_do("list add black 192.0.2.66");
	loader_do("list add black 198.51.100.0/24 --action reset");
	loader_do("list add white 198.51.100.7");
	expect_conn("192.0.2.66", "192.0.2.1", -ETIMEDOUT);
	expect_conn("198.51.100.7", "198.51.100.1", 0);
	expect_refused_fast("198.51.100.20", "198.51.100.1");
	status_snap(&s0);
	cr_assert_gt(pk(&s0, "black-host", "drop"), 0, "black-host/drop: got %lld, want > 0",
		     pk(&s0, "black-host", "drop"));

	/* Detached: nothing filters, but the lists stay. */
	expect_out(loader_ok("detach %s", lab.gw_if), "detach", "detached from");
	expect_conn("192.0.2.66", "192.0.2.1", 0);
	expect_conn("198.51.100.20", "198.51.100.1", 0);
	expect_listed("black", "192.0.2.66", "drop", 1);
	expect_listed("black", "198.51.100.0/24", "reset", 1);
	expect_listed("white", "198.51.100.7", "pass", 1);
	status_snap(&s1);
	cr_assert_eq(s1.nif, 0, "status interfaces after detach: got %d, want 0", s1.nif);

	/* Attached again: the same lists apply, counters carried on. */
	attach_small();
	status_snap(&s1);
	cr_assert_geq(pk(&s1, "black-host", "drop"), pk(&s0, "black-host", "drop"),
		      "black-host/drop after detach+attach: got %lld, want >= %lld (kept)",
		      pk(&s1, "black-host", "drop"), pk(&s0, "black-host", "drop"));
	expect_conn("192.0.2.66", "192.0.2.1", -ETIMEDOUT);
	expect_conn("198.51.100.7", "198.51.100.1", 0);
	expect_refused_fast("198.51.100.20", "198.51.100.1");
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	status_snap(&s2);
	cr_assert_gt(pk(&s2, "black-host", "drop"), pk(&s1, "black-host", "drop"),
		     "black-host/drop after re-attach: got %lld, want > %lld",
		     pk(&s2, "black-host", "drop"), pk(&s1, "black-host", "drop"));

	/* Attach over the running filter: an upgrade in place. */
	out = loader_ok("attach %s --mode native", lab.gw_if);
	expect_out(out, "attach while attached", "replaced the program");
	status_snap(&s3);
	cr_assert_eq(s3.nif, 1, "status interfaces after upgrade: got %d, want 1", s3.nif);
	cr_assert_eq(s3.link_id, s2.link_id,
		     "link id after upgrade: got %lld, want %lld (same link)", s3.link_id,
		     s2.link_id);
	cr_assert_neq(s3.prog_id, s2.prog_id,
		      "program id after upgrade: got %lld, want a new one (not %lld)", s3.prog_id,
		      s2.prog_id);
	cr_assert_str_eq(s3.mode, "native", "mode after upgrade: got %s, want native", s3.mode);
	cr_assert_geq(pk(&s3, "black-host", "drop"), pk(&s2, "black-host", "drop"),
		      "black-host/drop after upgrade: got %lld, want >= %lld (kept)",
		      pk(&s3, "black-host", "drop"), pk(&s2, "black-host", "drop"));
	cr_assert_geq(pk(&s3, "white-host", "pass"), pk(&s2, "white-host", "pass"),
		      "white-host/pass after upgrade: got %lld, want >= %lld (kept)",
		      pk(&s3, "white-host", "pass"), pk(&s2, "white-host", "pass"));
	expect_conn("192.0.2.66", "192.0.2.1", -ETIMEDOUT);
	expect_conn("198.51.100.7", "198.51.100.1", 0);
	expect_refused_fast("198.51.100.20", "198.51.100.1");
	status_snap(&s2);
	cr_assert_gt(pk(&s2, "black-net", "reset"), pk(&s3, "black-net", "reset"),
		     "black-net/reset after upgrade and a connect: got %lld, want > %lld",
		     pk(&s2, "black-net", "reset"), pk(&s3, "black-net", "reset"));
	cr_assert_gt(pk(&s2, "black-host", "drop"), pk(&s3, "black-host", "drop"),
		     "black-host/drop after upgrade and a connect: got %lld, want > %lld",
		     pk(&s2, "black-host", "drop"), pk(&s3, "black-host", "drop"));
	expect_listed("black", "192.0.2.66", "drop", 1);
}

static double boot_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A temporary entry must last at least the seconds it was given. Entries store
 * whole CLOCK_BOOTTIME seconds, so the test starts at a known point of a boot
 * second (.65) to make the outcome deterministic: an entry added with
 * --expires 2 at X.65 (the loader reads the clock within 0.35 s, still in
 * second X) must still drop a SYN at X.65 + 1.6 s, and must be gone by
 * X.65 + 3.5 s (whether the deadline is rounded up or not). Counting from the
 * truncated second would end it at X + 2, before the first check.
 */
Test(ns_edge, temporary_entry_lasts_its_seconds)
{
	double t0, frac;
	int rc;

	lab_addr_ok(&lab, "192.0.2.66/24");
	attach_small();
	frac = boot_now() - (long long)boot_now();
	usleep((useconds_t)(((frac < 0.65 ? 0.65 : 1.65) - frac) * 1e6));
	t0 = boot_now();
	loader_do("list add black 192.0.2.66 --expires 2");
	usleep((useconds_t)((t0 + 1.6 - boot_now()) * 1e6));
	rc = ns_connect(lab.cl_ns, "192.0.2.66", "192.0.2.1", SMTP_PORT, 400);
	cr_assert_eq(rc, -ETIMEDOUT,
		     "connect 1.6 s after 'list add black 192.0.2.66 --expires 2': got %s, want "
		     "timeout (the entry must last 2 s)",
		     conn_name(rc));
	usleep((useconds_t)((t0 + 3.5 - boot_now()) * 1e6));
	expect_conn("192.0.2.66", "192.0.2.1", 0);
}

static long long nft_leaked(void)
{
	long long n = nft_counter(lab.gw_ns, "inet", "metest", "leaked");

	cr_assert_geq(n, 0, "nft counter leaked: got %lld, want a count", n);
	return n;
}

/* Frames the client's veth end could not hand to the gateway (a full ring). */
static long long client_tx_dropped(void)
{
	return if_stat(lab.cl_ns, lab.cl_if, "tx_dropped");
}

/*
 * Upgrades without a gap. How it is measured: an nftables counter in the
 * gateway's prerouting hook counts every packet from the blacklisted source
 * that reaches the gateway's IP stack, i.e. every packet XDP let through
 * (whether our program passed it or no program was there at all; the filter's
 * own counters cannot see the second case). A steady hping3 SYN stream
 * (~1000/s) from that source runs while the program is replaced five times,
 * with a real connect attempt between replacements. Afterwards the nft counter
 * must be 0, every connect must have timed out and none reached the listener,
 * and black-host/drop must account for every SYN hping3 reports sent (less any
 * the client's veth dropped before the gateway saw them). A final detach shows
 * the nft counter does see packets when nothing filters.
 */
Test(ns_edge, upgrade_leaves_no_gap)
{
	struct snap s0, s;
	long long leaked, txdrop0, txdrop, drops;
	long sent;
	int i, rc;
	char *out;

	need_hping3();
	lab_addr_ok(&lab, "192.0.2.66/24");
	attach_small();
	loader_do("list add black 192.0.2.66");
	rc = nft_count_saddr(lab.gw_ns, "metest", "leaked", "192.0.2.66");
	cr_assert_eq(rc, 0, "nft counter: got status %d, want 0", rc);
	status_snap(&s0);
	txdrop0 = client_tx_dropped();

	start_hping("-q -S -p 25 -i u1000 -c 100000 -a 192.0.2.66 192.0.2.1");
	usleep(300 * 1000);
	for (i = 0; i < 5; i++) {
		out = loader_ok("attach %s", lab.gw_if);
		expect_out(out, "attach (upgrade)", "replaced the program");
		rc = ns_connect(lab.cl_ns, "192.0.2.66", "192.0.2.1", SMTP_PORT, 200);
		cr_assert_eq(rc, -ETIMEDOUT,
			     "connect from the blacklisted source after upgrade %d: got %s, want "
			     "timeout",
			     i + 1, conn_name(rc));
	}
	usleep(300 * 1000);
	sent = finish_hping(1, 5000);
	usleep(100 * 1000);

	status_snap(&s);
	leaked = nft_leaked();
	txdrop = client_tx_dropped() - txdrop0;
	drops = pk(&s, "black-host", "drop") - pk(&s0, "black-host", "drop");
	cr_log_info("upgrades: %ld SYNs sent, %lld dropped by the client's veth, %lld black-host "
		    "drops, %lld reached the stack",
		    sent, txdrop, drops, leaked);
	cr_assert_eq(leaked, 0,
		     "packets from the blacklisted source that reached the stack: got "
		     "%lld, want 0",
		     leaked);
	rc = accepted_from(lfd4, "192.0.2.66");
	cr_assert_eq(rc, 0, "connections accepted from the blacklisted source: got %d, want 0", rc);
	cr_assert_gt(sent, 500, "hping3 sent: got %ld, want > 500 (a steady stream)", sent);
	cr_assert_eq(pk(&s, "black-host", "pass"), 0, "black-host/pass: got %lld, want 0",
		     pk(&s, "black-host", "pass"));
	cr_assert_geq(
	    drops + txdrop, sent,
	    "black-host/drop during the upgrades: got %lld (+%lld dropped by the client's "
	    "veth), want >= %ld (every SYN sent)",
	    drops, txdrop, sent);

	/* Control: with the filter gone, the same counter sees the source. */
	expect_out(loader_ok("detach %s", lab.gw_if), "detach", "detached from");
	expect_conn("192.0.2.66", "192.0.2.1", 0);
	leaked = nft_leaked();
	cr_assert_gt(leaked, 0,
		     "nft counter with the filter detached: got %lld, want > 0 "
		     "(the method must see passed packets)",
		     leaked);
}

Test(ns_edge, detach_and_destroy_leave_nothing)
{
	struct snap s;
	char *out;

	lab_addr_ok(&lab, "192.0.2.66/24");
	attach_small();
	loader_do("list add black 192.0.2.66");

	expect_out(loader_ok("detach %s", lab.gw_if), "detach", "detached from");
	out = sh_ok("ip -n %s link show dev %s", lab.gw_ns, lab.gw_if);
	snprintf(msg, sizeof(msg), "ip link after detach: got '%s', want no xdp program", out);
	cr_assert(!strstr(out, "xdp"), "%s", msg);
	free(out);
	status_snap(&s);
	cr_assert_eq(s.nif, 0, "status interfaces after detach: got %d, want 0", s.nif);
	cr_assert_eq(access(tenv_pin_dir(), F_OK), 0,
		     "pin dir after detach: got it missing, want it kept (lists stay)");
	expect_conn("192.0.2.66", "192.0.2.1", 0);

	/* destroy while attached: detaches everywhere and removes every map. */
	attach_small();
	expect_conn("192.0.2.66", "192.0.2.1", -ETIMEDOUT);
	expect_out(loader_ok("destroy"), "destroy", "removed all mailedge maps");
	out = sh_ok("ip -n %s link show dev %s", lab.gw_ns, lab.gw_if);
	snprintf(msg, sizeof(msg), "ip link after destroy: got '%s', want no xdp program", out);
	cr_assert(!strstr(out, "xdp"), "%s", msg);
	free(out);
	errno = 0;
	cr_assert(access(tenv_pin_dir(), F_OK) != 0 && errno == ENOENT,
		  "pin dir %s after destroy: got %s, want it gone", tenv_pin_dir(),
		  errno ? strerror(errno) : "present");
	expect_conn("192.0.2.66", "192.0.2.1", 0);
}
