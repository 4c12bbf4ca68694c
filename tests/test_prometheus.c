// SPDX-License-Identifier: GPL-2.0
/*
 * test_prometheus.c - the metrics of all three programs, read by a real
 * Prometheus, and the operator's views (status, watch) of the same counters.
 *
 * Unit tests: common/promtext.c writes the text exposition format (escaping of
 * label values and HELP text, invalid UTF-8, name checks, atomic replacement);
 * "mailedge-loader metrics" escapes what it takes from the maps and writes
 * nothing half-done.
 *
 * end_to_end: a lab (namespaces met<pid>-gw/-cl) with the filter attached;
 * manual entries, a threshold, and two list-sync sources (file:// lists) whose
 * run writes its metrics_file into a textfile directory; frames through the
 * attached program with BPF_PROG_RUN, so the counters hold exact numbers;
 * "metrics --output" into the same directory; a mailedge-proxy with a healthy
 * and a dead backend and its metrics endpoint; Debian's node exporter (only
 * the textfile collector) and Prometheus (1 s scrapes, its own directory). The
 * test then reads contrib/grafana/mailedge.json, takes every expression of
 * every panel and template variable out of it (it does not repeat them), and
 * asks Prometheus's HTTP API for each: every one must return data. A few
 * series must hold the exact numbers set up here.
 *
 * .fini stops Prometheus, node exporter, the proxy and the fake backend,
 * removes the lab, the pin directory and the test's directory on every exit
 * path; the daemons also get SIGKILL if the test process dies
 * (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "edge.h"
#include "mailedge_abi.h"
#include "promtext.h"
#include "lib/pkt.h"
#include "lib/proxylab.h"
#include "lib/testenv.h"
#include "lib/traffic.h"
#include "lib/tjson.h"

/* Small maps: capacity is not under test. */
#define SIZES "--hosts 64 --white-hosts 64 --subnets 64 --rate-entries 64 --ban-entries 64"

static char tmp[64]; /* this test's directory; "" when there is none */
static char textdir[128];
static struct lab lab;
static struct pl px;
static int px_up;
static pid_t nodex = -1, prom = -1;
static char msg[65536]; /* assertion text, built before freeing what it quotes */

/* ---- fixtures ---- */

static void stop(pid_t *pid)
{
	int k;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (k = 0; k < 300 && waitpid(*pid, NULL, WNOHANG) == 0; k++)
		usleep(10000);
	if (k == 300) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static void setup(void)
{
	tenv_pin_dir_remove();
	snprintf(tmp, sizeof(tmp), "/tmp/mailedge-test-prom-XXXXXX");
	if (!mkdtemp(tmp)) {
		tmp[0] = '\0';
		return;
	}
	snprintf(textdir, sizeof(textdir), "%s/textfile", tmp);
	mkdir(textdir, 0755);
}

static void teardown(void)
{
	struct run r;

	stop(&prom);
	stop(&nodex);
	if (px_up) {
		pl_fini(&px);
		px_up = 0;
	}
	lab_down(&lab);
	tenv_pin_dir_remove();
	if (tmp[0]) {
		tenv_run(&r, "rm -rf '%s'", tmp);
		tenv_run_free(&r);
		tmp[0] = '\0';
	}
}

TestSuite(prometheus, .init = setup, .fini = teardown, .timeout = 120);

/* ---- small helpers ---- */

/* What fn writes to a FILE, as a malloc'd string. */
static char *written(void (*fn)(FILE *f))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f, "open_memstream");
	fn(f);
	fclose(f);
	return buf;
}

static void expect_text(const char *got, const char *want, const char *what)
{
	cr_assert_str_eq(got, want, "%s: got '%s', want '%s'", what, got, want);
}

static char *slurp(const char *path)
{
	char *p = pl_read_file(path);

	cr_assert_not_null(p, "reading %s: got %s, want it readable", path, strerror(errno));
	return p;
}

/* Run a command that must succeed; its output (malloc'd). */
static char *must(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *must(const char *fmt, ...)
{
	char cmd[4096];
	struct run r;
	va_list ap;
	char *out;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	tenv_run(&r, "%s", cmd);
	if (r.status) {
		snprintf(msg, sizeof(msg), "'%s': got exit %d (stderr: %.2000s), want 0", cmd,
			 r.status, r.err ? r.err : "");
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	out = r.out;
	free(r.err);
	return out;
}

/* The loader with this test's pin directory, in the lab's gateway namespace
 * when the lab is up (so that the attached interface is "here"). */
static char *loader(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *loader(const char *fmt, ...)
{
	char args[2048], pre[128] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (lab.up)
		snprintf(pre, sizeof(pre), "nsenter --net=/var/run/netns/%s ", lab.gw_ns);
	return must("%s%s --pin-dir %s %s", pre, tenv_bin("mailedge-loader"), tenv_pin_dir(), args);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- unit: the exposition writer ---- */

static void w_escaping(FILE *f)
{
	struct prom_label l[] = { { "a", "q\"b\\s\nn" }, { "skip", NULL }, { "z", "" } };

	cr_assert_eq(prom_sample_u64(f, "m_total", l, 3, 7), 0);
}

Test(prometheus, label_escaping)
{
	char *s = written(w_escaping);

	/* quote, backslash and newline escaped; a NULL value leaves the label out */
	expect_text(s, "m_total{a=\"q\\\"b\\\\s\\nn\",z=\"\"} 7\n", "escaped sample");
	free(s);
}

static void w_utf8(FILE *f)
{
	/* é and € are UTF-8; 0xff, an overlong '/', a surrogate, and a sequence
	 * cut short by the end are not. */
	struct prom_label l[] = { { "v",
				    "\xc3\xa9\xe2\x82\xac|\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82" } };

	cr_assert_eq(prom_sample_u64(f, "m", l, 1, 1), 0);
}

Test(prometheus, invalid_utf8_replaced)
{
	char *s = written(w_utf8);
#define R "\xef\xbf\xbd"
	expect_text(s, "m{v=\"\xc3\xa9\xe2\x82\xac|" R "|" R R "|" R R R "|" R R "\"} 1\n",
		    "sample with bad UTF-8");
#undef R
	free(s);
}

static void w_help(FILE *f)
{
	cr_assert_eq(prom_family(f, "m_bytes_total", "counter", "a \"q\" b\\c\nd"), 0);
}

Test(prometheus, help_escaping)
{
	char *s = written(w_help);

	/* In HELP only backslash and newline are escaped. */
	expect_text(s, "# HELP m_bytes_total a \"q\" b\\\\c\\nd\n# TYPE m_bytes_total counter\n",
		    "HELP and TYPE");
	free(s);
}

static void w_values(FILE *f)
{
	prom_sample_double(f, "a", NULL, 0, 1.5);
	prom_sample_double(f, "b", NULL, 0, 1.0 / 0.0);
	prom_sample_double(f, "c", NULL, 0, -1.0 / 0.0);
	prom_sample_double(f, "d", NULL, 0, 0.0 / 0.0);
	prom_sample_u64(f, "e", NULL, 0, 18446744073709551615ull);
}

Test(prometheus, values)
{
	char *s = written(w_values);

	expect_text(s, "a 1.5\nb +Inf\nc -Inf\nd NaN\ne 18446744073709551615\n", "values");
	free(s);
}

static void w_bad(FILE *f)
{
	struct prom_label bad_label[] = { { "le-x", "1" } };
	struct prom_label reserved[] = { { "__name__", "x" } };

	cr_assert_eq(prom_sample_u64(f, "m", bad_label, 1, 1), -EINVAL, "label 'le-x'");
	cr_assert_eq(prom_sample_u64(f, "m", reserved, 1, 1), -EINVAL, "label '__name__'");
	cr_assert_eq(prom_sample_u64(f, "1m", NULL, 0, 1), -EINVAL, "metric '1m'");
	cr_assert_eq(prom_family(f, "m", "histogram", "h"), -EINVAL, "type histogram");
	cr_assert_eq(prom_family(f, "m x", "gauge", "h"), -EINVAL, "metric 'm x'");
}

Test(prometheus, names)
{
	static const char *const good[] = { "a", "_a", "a:b_c9", "mailedge_edge_packets_total" };
	static const char *const bad[] = { "", "9a", "a-b", "a b", "a.b", "\xc3\xa9" };
	size_t i;
	char *s;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(prom_metric_name_ok(good[i]), "metric name '%s': got refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(!prom_metric_name_ok(bad[i]), "metric name '%s': got accepted", bad[i]);
		cr_assert(!prom_label_name_ok(bad[i]), "label name '%s': got accepted", bad[i]);
	}
	cr_assert(!prom_label_name_ok("a:b"), "label name 'a:b': got accepted");
	cr_assert(!prom_label_name_ok("__x"), "label name '__x': got accepted (reserved)");
	cr_assert(prom_label_name_ok("source"), "label name 'source': got refused");
	/* A refused sample or family writes nothing at all. */
	s = written(w_bad);
	expect_text(s, "", "output of refused calls");
	free(s);
}

struct wctx {
	const char *text;
	int rc;
};

static int render_text(FILE *f, void *ctx)
{
	struct wctx *w = ctx;

	fputs(w->text, f);
	return w->rc;
}

static int dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d, "opendir %s", dir);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	closedir(d);
	return n;
}

Test(prometheus, write_file_atomic)
{
	struct wctx good = { "x 1\n", 0 }, bad = { "x 2\n", -EIO };
	char path[256], *s;
	struct stat st;
	int rc;

	cr_assert(tmp[0], "no test directory");
	snprintf(path, sizeof(path), "%s/m.prom", textdir);
	umask(077); /* the file must be readable by the collector all the same */
	rc = prom_write_file(path, render_text, &good);
	umask(022);
	cr_assert_eq(rc, 0, "prom_write_file: got %d, want 0", rc);
	s = slurp(path);
	expect_text(s, "x 1\n", path);
	free(s);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644, "mode of %s: got %o, want 644", path,
		     st.st_mode & 0777);
	/* A failing render leaves the old file and no temporary file behind. */
	rc = prom_write_file(path, render_text, &bad);
	cr_assert_eq(rc, -EIO, "failing render: got %d, want -EIO", rc);
	s = slurp(path);
	expect_text(s, "x 1\n", "file after a failed write");
	free(s);
	cr_assert_eq(dir_entries(textdir), 1, "files in %s: got %d, want only m.prom", textdir,
		     dir_entries(textdir));
	/* A directory that does not exist: an error, not a crash or a stray file. */
	snprintf(path, sizeof(path), "%s/none/m.prom", tmp);
	rc = prom_write_file(path, render_text, &good);
	cr_assert_eq(rc, -ENOENT, "missing directory: got %d, want -ENOENT", rc);
}

/* ---- the metrics verb ---- */

/* promtool's linter on a file: its exit status; its complaints in *out. */
static int promtool_check(const char *path, char **out)
{
	struct run r;
	int st;

	tenv_run(&r, "promtool check metrics < '%s' 2>&1", path);
	st = r.status;
	*out = r.out;
	free(r.err);
	return st;
}

Test(prometheus, metrics_cli)
{
	char path[256], *out, *lint;
	struct me_src_status st = { 0 };
	struct me_edge e;
	const char *what;
	struct run r;
	__u32 id = ME_SRC_SYNC_FIRST;
	int rc;

	cr_assert(tmp[0], "no test directory");
	/* Nothing pinned yet: a state to report (maps_pinned 0), exit 0. */
	out = loader("metrics");
	cr_assert(strstr(out, "\nmailedge_edge_maps_pinned 0\n"),
		  "metrics without maps: got '%.500s', want mailedge_edge_maps_pinned 0", out);
	cr_assert_null(strstr(out, "packets_total"), "metrics without maps: got counters");
	free(out);
	/* A mistyped flag: one line, exit 2. */
	tenv_loader(&r, "metrics --outptu x");
	cr_assert_eq(r.status, 2, "metrics --outptu: got exit %d, want 2", r.status);
	cr_assert_eq(count_lines(r.err), 1, "metrics --outptu: got stderr '%s', want one line",
		     r.err);
	tenv_run_free(&r);

	free(loader("init %s", SIZES));
	/* A list-sync source whose name needs every kind of escaping (list sync
	 * would refuse such a name; the maps are what metrics trusts least). */
	rc = me_edge_open(&e, tenv_pin_dir(), &what);
	cr_assert_eq(rc, 0, "opening the maps: got %d at %s", rc, what);
	memcpy(st.name, "a\"b\\c\nd\xff", 9);
	st.in_use = 1;
	st.list = ME_LIST_BLACK;
	st.entries = 5;
	rc = bpf_map_update_elem(e.fd[ME_M_SOURCES], &id, &st, BPF_ANY);
	me_edge_close(&e);
	cr_assert_eq(rc, 0, "writing the sources map: got %d", rc);

	snprintf(path, sizeof(path), "%s/mailedge-edge.prom", textdir);
	free(loader("metrics --output %s", path));
	out = slurp(path);
	cr_assert(strstr(out, "\nmailedge_edge_sync_source_entries{source=\"a\\\"b\\\\c\\nd"
			      "\xef\xbf\xbd\",list=\"black\"} 5\n"),
		  "metrics: got no escaped source in '%.3000s'", out);
	cr_assert(strstr(out, "\nmailedge_edge_map_capacity{map=\"black_host4\",list=\"black\","
			      "family=\"ipv4\",kind=\"manual\"} 64\n"),
		  "metrics: got no black_host4 capacity 64 in '%.3000s'", out);
	cr_assert_null(strstr(out, "mailedge_edge_map_capacity{map=\"sync_"),
		       "metrics: got a capacity for a synced map, want none");
	rc = promtool_check(path, &lint);
	snprintf(msg, sizeof(msg), "promtool check metrics: got exit %d (%s), want 0", rc,
		 lint ? lint : "");
	free(lint);
	free(out);
	cr_assert_eq(rc, 0, "%s", msg);
	cr_assert_eq(dir_entries(textdir), 1, "files in %s: got %d, want only the .prom file",
		     textdir, dir_entries(textdir));
	/* Writing into a directory that does not exist: exit 2, one line. */
	tenv_loader(&r, "metrics --output %s/none/x.prom", tmp);
	cr_assert_eq(r.status, 2, "metrics into a missing directory: got exit %d, want 2",
		     r.status);
	cr_assert_eq(count_lines(r.err), 1, "got stderr '%s', want one line", r.err);
	tenv_run_free(&r);
}

/* ---- end to end ---- */

/* Frames through the attached program (the one the pinned link holds). */
static int attached_prog_fd(void)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(tenv_pin_dir());
	int fd = -1;

	cr_assert_not_null(d, "opendir %s", tenv_pin_dir());
	while ((de = readdir(d)) && fd < 0) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		int lfd;

		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tenv_pin_dir(), de->d_name);
		lfd = bpf_obj_get(path);
		if (lfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(lfd, &info, &len))
			fd = bpf_prog_get_fd_by_id(info.prog_id);
		close(lfd);
	}
	closedir(d);
	cr_assert_geq(fd, 0, "no program behind a pinned link in %s", tenv_pin_dir());
	return fd;
}

static void send_frames(int prog, const char *src, int dport, __u8 flags, int n, __u32 want)
{
	struct pkt_spec s = { .family = AF_INET,
			      .src = src,
			      .dst = "192.0.2.1",
			      .sport = 40000,
			      .dport = (uint16_t)dport,
			      .tcp_flags = flags };
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&s, in, sizeof(in));
	int i;

	cr_assert_gt(len, 0, "building a frame from %s", src);
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		cr_assert_eq(bpf_prog_test_run_opts(prog, &o), 0, "BPF_PROG_RUN: %s",
			     strerror(errno));
		cr_assert_eq(o.retval, want,
			     "frame %d from %s to port %d: got XDP action %u, want %u", i, src,
			     dport, o.retval, want);
	}
}

/* Start a daemon on a free port, retrying when another process took the
 * port first; ready when GET path answers with a body containing needle. */
static pid_t daemon_up(const char *log, int *port, const char *path, const char *needle,
		       char *(*argv_for)(int port, char **argv))
{
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		char *argv[16], *body = NULL;
		long long deadline;
		pid_t pid;

		*port = pl_free_port();
		cr_assert_gt(*port, 0, "no free port");
		argv_for(*port, argv);
		pid = pl_spawn_logged(log, argv);
		cr_assert_gt(pid, 0, "starting %s", argv[0]);
		deadline = now_ms() + 20000;
		while (now_ms() < deadline && waitpid(pid, NULL, WNOHANG) == 0) {
			body = pl_http_get(*port, path);
			if (body && strstr(body, needle)) {
				free(body);
				return pid;
			}
			free(body);
			usleep(100000);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	{
		char *l = pl_read_file(log);

		snprintf(msg, sizeof(msg), "%s did not come up; its log:\n%.4000s", log,
			 l ? l : "(none)");
		free(l);
	}
	cr_assert_fail("%s", msg);
	return -1;
}

static char argbuf[8][512];

static char *nodex_argv(int port, char **argv)
{
	snprintf(argbuf[0], sizeof(argbuf[0]), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(argbuf[1], sizeof(argbuf[1]), "--collector.textfile.directory=%s", textdir);
	argv[0] = "prometheus-node-exporter";
	argv[1] = argbuf[0];
	argv[2] = "--collector.disable-defaults";
	argv[3] = "--collector.textfile";
	argv[4] = argbuf[1];
	argv[5] = NULL;
	return argv[0];
}

static char *prom_argv(int port, char **argv)
{
	snprintf(argbuf[2], sizeof(argbuf[2]), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(argbuf[3], sizeof(argbuf[3]), "--config.file=%s/prometheus.yml", tmp);
	snprintf(argbuf[4], sizeof(argbuf[4]), "--storage.tsdb.path=%s/tsdb", tmp);
	argv[0] = "prometheus";
	argv[1] = argbuf[2];
	argv[2] = argbuf[3];
	argv[3] = argbuf[4];
	argv[4] = "--log.level=warn";
	argv[5] = NULL;
	return argv[0];
}

/* ---- Prometheus's HTTP API ---- */

static int prom_port;

static void urlencode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	cr_assert(!*s, "query too long to encode: %s", s);
	out[o] = '\0';
}

/* The result vector of an instant query (json_object_put the return value;
 * *result borrows from it), or NULL with the reason in msg. */
static json_object *query(const char *expr, json_object **result)
{
	char path[8192], *body;
	json_object *o, *data;

	snprintf(path, sizeof(path), "/api/v1/query?query=");
	urlencode(expr, path + strlen(path), sizeof(path) - strlen(path));
	body = pl_http_get(prom_port, path);
	if (!body) {
		snprintf(msg, sizeof(msg), "query '%s': no answer from Prometheus", expr);
		return NULL;
	}
	o = json_tokener_parse(body);
	if (!o || strcmp(jstr(o, "status") ? jstr(o, "status") : "", "success") ||
	    !json_object_object_get_ex(o, "data", &data) ||
	    !json_object_object_get_ex(data, "result", result)) {
		snprintf(msg, sizeof(msg), "query '%s': got '%.1000s', want a success", expr, body);
		free(body);
		json_object_put(o);
		return NULL;
	}
	free(body);
	return o;
}

/* Number of series an instant query returns; -1 on error (msg says why). */
static int query_count(const char *expr)
{
	json_object *res, *o = query(expr, &res);
	int n;

	if (!o)
		return -1;
	n = json_object_is_type(res, json_type_array) ? (int)json_object_array_length(res) : 1;
	json_object_put(o);
	return n;
}

/* The value of a query that must return exactly one series. */
static double query_value(const char *expr)
{
	json_object *res, *o = query(expr, &res), *v;
	double d;

	cr_assert_not_null(o, "%s", msg);
	if (json_object_array_length(res) != 1) {
		snprintf(msg, sizeof(msg), "query '%s': got %zu series (%s), want 1", expr,
			 json_object_array_length(res), json_object_to_json_string(res));
		json_object_put(o);
		cr_assert_fail("%s", msg);
	}
	v = json_object_object_get(json_object_array_get_idx(res, 0), "value");
	d = strtod(json_object_get_string(json_object_array_get_idx(v, 1)), NULL);
	json_object_put(o);
	return d;
}

static void expect_value(const char *expr, double want)
{
	double got = query_value(expr);

	cr_assert_eq(got, want, "query '%s': got %g, want %g", expr, got, want);
}

/* ---- the dashboard's expressions ---- */

#define MAX_EXPRS 128

struct exprs {
	char *v[MAX_EXPRS];
	int n;
};

/* Replace every occurrence of from in s (malloc'd) by to. */
static char *replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p;

	while ((p = strstr(s, from))) {
		size_t off = (size_t)(p - s), len = strlen(s);
		char *n = malloc(len - fl + tl + 1);

		cr_assert_not_null(n);
		memcpy(n, s, off);
		memcpy(n + off, to, tl);
		memcpy(n + off + tl, p + fl, len - off - fl + 1);
		free(s);
		s = n;
	}
	return s;
}

/*
 * Grafana's variables, made concrete: the dashboard's own template variables
 * take their "All" value (allValue, read from the JSON), and the one builtin
 * the panels may use, $__rate_interval, becomes 1m (Grafana would make it at
 * least four scrape intervals; a minute holds many 1 s scrapes here). Any
 * other '$' left is a variable this test does not know: a failure.
 */
static char *concrete(json_object *dash, const char *expr)
{
	json_object *tl, *list;
	char *s = strdup(expr), name[128];
	size_t i;

	cr_assert_not_null(s);
	if (json_object_object_get_ex(dash, "templating", &tl) &&
	    json_object_object_get_ex(tl, "list", &list))
		for (i = 0; i < json_object_array_length(list); i++) {
			json_object *v = json_object_array_get_idx(list, i);
			const char *all = jstr(v, "allValue"), *n = jstr(v, "name");

			if (!n || !all)
				continue;
			snprintf(name, sizeof(name), "${%s}", n);
			s = replace_all(s, name, all);
			snprintf(name, sizeof(name), "$%s", n);
			s = replace_all(s, name, all);
		}
	s = replace_all(s, "$__rate_interval", "1m");
	cr_assert_null(strchr(s, '$'),
		       "dashboard expression '%s': a variable this test cannot "
		       "fill in is left",
		       s);
	return s;
}

static void add_expr(struct exprs *x, json_object *dash, const char *e)
{
	cr_assert_lt(x->n, MAX_EXPRS, "more than %d expressions", MAX_EXPRS);
	x->v[x->n++] = concrete(dash, e);
}

static void panel_exprs(struct exprs *x, json_object *dash, json_object *panels)
{
	size_t i, j;

	for (i = 0; panels && i < json_object_array_length(panels); i++) {
		json_object *p = json_object_array_get_idx(panels, i), *t, *sub;

		if (json_object_object_get_ex(p, "panels", &sub)) /* rows nest panels */
			panel_exprs(x, dash, sub);
		if (!json_object_object_get_ex(p, "targets", &t))
			continue;
		for (j = 0; j < json_object_array_length(t); j++) {
			const char *e = jstr(json_object_array_get_idx(t, j), "expr");

			cr_assert(e && *e, "panel '%s': a target without an expression",
				  jstr(p, "title"));
			add_expr(x, dash, e);
		}
	}
}

/* label_values(METRIC, label) of a query variable: its METRIC. */
static void variable_exprs(struct exprs *x, json_object *dash)
{
	json_object *tl, *list;
	size_t i;

	if (!json_object_object_get_ex(dash, "templating", &tl) ||
	    !json_object_object_get_ex(tl, "list", &list))
		return;
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i), *q;
		const char *def, *open, *comma;
		char metric[256];

		if (strcmp(jstr(v, "type") ? jstr(v, "type") : "", "query"))
			continue;
		def = json_object_object_get_ex(v, "query", &q) &&
			      json_object_is_type(q, json_type_object)
			  ? jstr(q, "query")
			  : jstr(v, "query");
		cr_assert_not_null(def, "variable '%s' without a query", jstr(v, "name"));
		open = strstr(def, "label_values(");
		comma = open ? strchr(open, ',') : NULL;
		cr_assert(open && comma, "variable '%s': got query '%s', want label_values(M, L)",
			  jstr(v, "name"), def);
		open += strlen("label_values(");
		snprintf(metric, sizeof(metric), "%.*s", (int)(comma - open), open);
		add_expr(x, dash, metric);
	}
}

static void write_text(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void write_text(const char *path, const char *fmt, ...)
{
	char text[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof(text));
	cr_assert_eq(pl_write_file(path, text, (size_t)n), 0, "writing %s", path);
}

/* One SMTP session through the proxy: greeting, QUIT. */
static void smtp_session(int port)
{
	struct pl_client c;
	char text[1024];
	int code;

	cr_assert_eq(pl_connect(&c, NULL, port), 0, "connecting to the proxy");
	code = pl_reply(&c, text, sizeof(text), 5000);
	cr_assert_eq(code, 220, "proxy greeting: got %d (%s), want 220", code, text);
	code = pl_cmd(&c, text, sizeof(text), "QUIT");
	cr_assert_eq(code, 221, "QUIT: got %d (%s), want 221", code, text);
	pl_close(&c);
}

Test(prometheus, end_to_end)
{
	char path[512], conf[4096], *out, *line;
	struct exprs x = { .n = 0 };
	json_object *dash;
	int prog, nodex_port, i, missing;
	long long deadline;

	cr_assert(tmp[0], "no test directory");

	/* The filter on the lab's gateway interface, manual entries, a
	 * threshold of 1 connection/s per source with bans. */
	cr_assert_eq(lab_up(&lab), 0, "lab_up");
	free(loader("attach %s %s", lab.gw_if, SIZES));
	free(loader("list add black 198.51.100.7"));
	free(loader("threshold set --rate 1 --burst 1 --ports 25 --ban 600"));

	/* List sync: a black and a white source from files, metrics into the
	 * textfile directory. */
	snprintf(path, sizeof(path), "%s/black.txt", tmp);
	write_text(path, "# test blacklist\n203.0.113.0/24\n2001:db8:66::/48\n");
	snprintf(path, sizeof(path), "%s/white.txt", tmp);
	write_text(path, "192.0.2.30\n");
	snprintf(path, sizeof(path), "%s/state", tmp);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/listsync.conf", tmp);
	write_text(path,
		   "pin_dir = \"%s\";\nstate_dir = \"%s/state\";\n"
		   "metrics_file = \"%s/mailedge-listsync.prom\";\n"
		   "sources = (\n"
		   "  { name = \"prom-black\"; url = \"file://%s/black.txt\"; format = \"plain\";"
		   " list = \"black\"; },\n"
		   "  { name = \"prom-white\"; url = \"file://%s/white.txt\"; format = \"plain\";"
		   " list = \"white\"; }\n);\n",
		   tenv_pin_dir(), tmp, textdir, tmp, tmp);
	free(must("%s -c %s run", tenv_bin("mailedge-listsync"), path));

	/* Frames through the attached program: exact counts per reason. */
	prog = attached_prog_fd();
	send_frames(prog, "198.51.100.7", 25, TF_SYN, 3, XDP_DROP); /* black-host, manual */
	send_frames(prog, "203.0.113.5", 25, TF_ACK, 2, XDP_DROP);  /* black-net, prom-black */
	send_frames(prog, "192.0.2.30", 25, TF_SYN, 1, XDP_PASS);   /* white-host, prom-white */
	send_frames(prog, "192.0.2.77", 25, TF_SYN, 1, XDP_PASS);   /* clean, within the burst */
	send_frames(prog, "192.0.2.77", 25, TF_SYN, 1, XDP_DROP);   /* threshold, then banned */
	send_frames(prog, "192.0.2.77", 25, TF_ACK, 1, XDP_DROP);   /* banned */
	close(prog);

	/* status: synced maps show their entries, never a fill level. */
	out = loader("status");
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "sync_", 5))
			cr_assert(strstr(line, "synced") && !strchr(line, '%'),
				  "status line '%s': want 'synced' and no fill %%", line);
	free(out);
	out = loader("status --json");
	{
		json_object *o = json_tokener_parse(out), *maps, *m, *cap;

		cr_assert_not_null(o, "status --json: got '%.300s'", out);
		cr_assert(json_object_object_get_ex(o, "maps", &maps) &&
			      json_object_object_get_ex(maps, "sync_black_net4", &m),
			  "status --json: no maps.sync_black_net4");
		cr_assert_eq(jint(m, "entries"), 1, "sync_black_net4 entries: got %lld, want 1",
			     jint(m, "entries"));
		cr_assert(json_object_object_get_ex(m, "capacity", &cap) && !cap,
			  "sync_black_net4 capacity: got %s, want null",
			  json_object_to_json_string(m));
		json_object_put(o);
	}
	free(out);

	/* watch: plain lines off a terminal; a table redrawn in place on one. */
	out = loader("watch --interval 1 --count 1");
	cr_assert_eq(count_lines(out), 1, "watch off a terminal: got '%s', want one line", out);
	cr_assert_null(strchr(out, '\033'), "watch off a terminal: got escape sequences");
	free(out);
	out = must("script -qec 'nsenter --net=/var/run/netns/%s %s --pin-dir %s watch -i 1 -n 1' "
		   "/dev/null",
		   lab.gw_ns, tenv_bin("mailedge-loader"), tenv_pin_dir());
	cr_assert_eq(pl_count_str(out, "\033[H"), 2, "watch on a terminal: got %d frames, want 2",
		     pl_count_str(out, "\033[H"));
	cr_assert(strstr(out, "\033[2J") && strstr(out, "\033[J"),
		  "watch on a terminal: want a clear screen and frames that clear below");
	cr_assert(strstr(out, "black-host") && strstr(out, "prom-black") &&
		      strstr(out, "threshold"),
		  "watch frame: want rows for black-host, prom-black and threshold in '%s'", out);
	free(out);

	/* The edge's metrics into the textfile directory. */
	free(loader("metrics --output %s/mailedge-edge.prom", textdir));
	{
		char *lint;
		int rc;

		snprintf(path, sizeof(path), "%s/mailedge-edge.prom", textdir);
		rc = promtool_check(path, &lint);
		snprintf(msg, sizeof(msg), "promtool check metrics: got exit %d (%s), want 0", rc,
			 lint ? lint : "");
		free(lint);
		cr_assert_eq(rc, 0, "%s", msg);
	}

	/* The proxy: a healthy member (the fake) and a dead one (port 1). */
	cr_assert_eq(pl_init(&px), 0, "pl_init");
	px_up = 1;
	cr_assert_eq(pl_fake_start(&px, 0, "%s", ""), 0, "starting the fake backend");
	snprintf(conf, sizeof(conf),
		 "hostname = \"mx.test\";\nuser = \"nobody\";\nworkers = 1;\n"
		 "metrics = \"127.0.0.1:@M@\";\n"
		 "relay_domains = [ \"example.org\" ];\n"
		 "limits = { connect_timeout = \"1s\"; };\n"
		 "listeners = ( { listen = \"127.0.0.1:@P0@\"; auth_requires_tls = false; } );\n"
		 "pools = ( { name = \"main\"; members = ( \"127.0.0.1:@F0@\", \"127.0.0.1:1\" ); "
		 "health = { interval = 200; timeout = 1000; rise = 1; fall = 1; }; } );\n");
	cr_assert_eq(pl_proxy_start(&px, conf), 0, "starting mailedge-proxy (status %d)",
		     px.proxy_status);
	smtp_session(px.port[0]);

	/* node exporter with the textfile collector only, then Prometheus. */
	snprintf(path, sizeof(path), "%s/node-exporter.log", tmp);
	nodex = daemon_up(path, &nodex_port, "/metrics", "mailedge_listsync_last_run_success",
			  nodex_argv);
	{
		char *m = pl_http_get(nodex_port, "/metrics");

		cr_assert_eq(pl_metric(m, "node_textfile_scrape_error"), 0,
			     "node_textfile_scrape_error: got %lld, want 0 (both files parsed)",
			     pl_metric(m, "node_textfile_scrape_error"));
		free(m);
	}
	snprintf(path, sizeof(path), "%s/prometheus.yml", tmp);
	write_text(path,
		   "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
		   "scrape_configs:\n"
		   "  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
		   "  - job_name: proxy\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
		   nodex_port, px.metrics_port);
	snprintf(path, sizeof(path), "%s/prometheus.log", tmp);
	prom = daemon_up(path, &prom_port, "/-/ready", "Ready", prom_argv);

	/* Every expression of the dashboard, out of its JSON. */
	snprintf(path, sizeof(path), "%s/contrib/grafana/mailedge.json", tenv_src());
	dash = json_object_from_file(path);
	cr_assert_not_null(dash, "%s: %s", path, json_util_get_last_err());
	panel_exprs(&x, dash, json_object_object_get(dash, "panels"));
	variable_exprs(&x, dash);
	json_object_put(dash);
	cr_assert_gt(x.n, 20, "expressions in the dashboard: got %d, want the whole dashboard",
		     x.n);

	/* Until every one has data (the first scrapes, and two samples for
	 * rate()), at most 30 s. */
	deadline = now_ms() + 30000;
	for (;;) {
		for (missing = 0; missing < x.n && query_count(x.v[missing]) > 0; missing++)
			;
		if (missing == x.n || now_ms() >= deadline)
			break;
		usleep(500000);
	}
	if (missing < x.n) {
		char m2[1024];

		snprintf(m2, sizeof(m2), "dashboard expression '%.900s': got no data after 30 s",
			 x.v[missing]);
		for (i = 0; i < x.n; i++)
			free(x.v[i]);
		cr_assert_fail("%s", m2);
	}
	for (i = 0; i < x.n; i++)
		free(x.v[i]);

	/* The exact numbers set up above, as Prometheus has them. */
	expect_value("mailedge_edge_packets_total{reason=\"black-host\",verdict=\"drop\"}", 3);
	expect_value("mailedge_edge_packets_total{reason=\"black-net\",verdict=\"drop\"}", 2);
	expect_value("mailedge_edge_packets_total{reason=\"white-host\",verdict=\"pass\"}", 1);
	expect_value("mailedge_edge_packets_total{reason=\"threshold\",verdict=\"drop\"}", 1);
	expect_value("mailedge_edge_packets_total{reason=\"banned\",verdict=\"drop\"}", 1);
	expect_value("mailedge_edge_list_hits_total{source=\"manual\"}", 3);
	expect_value("mailedge_edge_list_hits_total{source=\"prom-black\",list=\"black\"}", 2);
	expect_value("mailedge_edge_list_hits_total{source=\"prom-white\",list=\"white\"}", 1);
	expect_value("mailedge_edge_list_hits_total{source=\"threshold\"}", 1);
	expect_value("mailedge_edge_bans_active", 1);
	expect_value("mailedge_edge_map_entries{map=\"black_host4\"}", 1);
	expect_value("mailedge_edge_map_capacity{map=\"black_host4\"}", 64);
	expect_value("mailedge_edge_map_entries{map=\"sync_black_net4\"}", 1);
	expect_value("mailedge_edge_map_entries{map=\"sync_black_net6\"}", 1);
	expect_value("mailedge_edge_map_entries{map=\"sync_white_host4\"}", 1);
	cr_assert_eq(query_count("mailedge_edge_map_capacity{kind=\"synced\"}"), 0,
		     "capacity series for synced maps: want none");
	snprintf(path, sizeof(path),
		 "mailedge_edge_interface_attached{interface=\"%s\",mode=\"native\"}", lab.gw_if);
	expect_value(path, 1);
	expect_value("mailedge_edge_sync_source_entries{source=\"prom-black\"}", 2);
	expect_value("mailedge_listsync_source_entries{source=\"prom-black\"}", 2);
	expect_value("mailedge_listsync_source_entries{source=\"prom-white\"}", 1);
	expect_value("mailedge_listsync_last_run_success", 1);
	expect_value("mailedge_sessions_total", 1);
	expect_value("mailedge_backend_up{member=\"127.0.0.1:1\"}", 0);
	expect_value("mailedge_backend_down_reason{member=\"127.0.0.1:1\",reason=\"connect\"}", 1);
}
