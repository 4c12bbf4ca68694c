// SPDX-License-Identifier: GPL-2.0
/*
 * test_listsync.c - mailedge-listsync against a real list publisher.
 *
 * Every test has its own directory under /tmp (served files, state directory,
 * configuration, certificates, server log), its own pin directory and its own
 * publisher: tests/lib/listserver.py on 127.0.0.1, over HTTPS with a throwaway
 * CA made here with the openssl CLI (and plain HTTP next to it). The fixtures
 * in tests/fixtures/lists/ are copied into the served directory, where a test
 * may change them between runs, as a publisher would. A URL /x/NAME serves
 * NAME until the test writes NAME.mode (500, an HTML page, a stall, a body cut
 * short, a huge body, a redirect to http), so one source can first deliver a
 * good list and then fail, which is what "keeps its last good copy" needs.
 *
 * What the maps hold is read back with the loader (list show --synced --json,
 * status --json), as an admin would. The namespace tests (suite listsync_ns)
 * attach the filter in a lab and check that synced lists really drop, really
 * stop dropping, and that a synced whitelist beats a synced blacklist.
 *
 * .fini stops the servers, removes the lab, the pin directory and the test's
 * directory on every exit path; a test that dies leaves a server that exits on
 * its own (parent-death signal, and end of its standard input).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>

#include <bpf/bpf.h>

#include "edge.h"
#include "lists.h"
#include "synctab.h"
#include "table.h"
#include "lib/labcheck.h"
#include "lib/proxylab.h"
#include "lib/testenv.h"
#include "lib/tjson.h"
#include "../listsync/metrics.h"

/* Small maps: capacity is not under test, and two tests run at once. */
#define SMALL_MAPS                                                                                 \
	"--hosts 1024 --white-hosts 1024 --subnets 1024 --rate-entries 1024 "                      \
	"--ban-entries 1024"

/* Global settings unless a test gives its own: the test CA, short timeouts. */
#define DEFAULT_GLOBALS "ca_file = \"@CA@\"; connect_timeout = \"3s\"; timeout = \"10s\";"

/* A source in the configuration, from literals. */
#define SRC(name, url, format, extra)                                                              \
	"  { name = \"" name "\"; url = \"" url "\"; format = \"" format "\"; " extra " }"

#define SMTP_PORT  25
#define CONNECT_MS 3000 /* a connection that should succeed gets this long */
#define DROP_MS	   1500 /* a dropped SYN: the wait that must end in a timeout */

#define NSRV 2
struct server {
	pid_t pid;
	int in_fd; /* its standard input: it exits when this closes */
	int http, https;
};

static struct server srv[NSRV] = { { -1, -1, 0, 0 }, { -1, -1, 0, 0 } };
static char tmp[64]; /* this test's directory; "" when there is none */
static char www[128], state_dir[128], conf_path[128], srv_log[128], tls_dir[128];
static struct lab lab;
static int lfd = -1;
static char msg[16384]; /* assertion text, built before freeing what it quotes */

/* ---- small helpers ---- */

static void write_file(const char *path, const char *text, size_t len)
{
	char t[PATH_MAX];
	int fd, ok;

	snprintf(t, sizeof(t), "%s.tmp", path);
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "creating %s: got %s, want success", t, strerror(errno));
	ok = write(fd, text, len) == (ssize_t)len;
	close(fd);
	cr_assert(ok, "writing %s: got a short write, want %zu bytes", t, len);
	cr_assert_eq(rename(t, path), 0, "renaming %s: got %s, want success", t, strerror(errno));
}

/* Put a file in the served directory (printf-style content). */
static void www_put(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void www_put(const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], text[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(text), "www_put %s: got %d bytes, want < %zu", name,
		  n, sizeof(text));
	snprintf(path, sizeof(path), "%s/%s", www, name);
	write_file(path, text, (size_t)n);
}

/* Serve a copy of a fixture under another name. */
static void www_copy(const char *name, const char *fixture)
{
	char *buf = NULL, path[PATH_MAX];
	size_t cap = 0;
	FILE *f;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/lists/%s", tenv_src(), fixture);
	f = fopen(path, "r");
	cr_assert_not_null(f, "fixture %s: got %s, want it readable", path, strerror(errno));
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s", www, name);
	write_file(path, buf ? buf : "", n > 0 ? (size_t)n : 0);
	free(buf);
}

static void www_remove(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", www, name);
	unlink(path);
}

/* Copy in to out, replacing @HTTPS@, @HTTP@ (server 0), @HTTPS2@ (server 1),
 * @CA@ (the test CA) and @OTHERCA@ (an unrelated CA). */
static void expand(const char *in, char *out, size_t len)
{
	static const char *const tok[] = { "@HTTPS2@", "@HTTPS@", "@HTTP@", "@CA@", "@OTHERCA@" };
	size_t o = 0, i, k;

	for (i = 0; in[i] && o + 1 < len;) {
		char rep[256] = "";

		for (k = 0; k < sizeof(tok) / sizeof(tok[0]); k++)
			if (!strncmp(in + i, tok[k], strlen(tok[k])))
				break;
		switch (k) {
		case 0:
			snprintf(rep, sizeof(rep), "https://127.0.0.1:%d", srv[1].https);
			break;
		case 1:
			snprintf(rep, sizeof(rep), "https://127.0.0.1:%d", srv[0].https);
			break;
		case 2:
			snprintf(rep, sizeof(rep), "http://127.0.0.1:%d", srv[0].http);
			break;
		case 3:
			snprintf(rep, sizeof(rep), "%s/ca.pem", tls_dir);
			break;
		case 4:
			snprintf(rep, sizeof(rep), "%s/other.pem", tls_dir);
			break;
		default:
			out[o++] = in[i++];
			continue;
		}
		i += strlen(tok[k]);
		o += (size_t)snprintf(out + o, len - o, "%s", rep);
		if (o >= len)
			o = len - 1;
	}
	out[o] = '\0';
}

/* The test's configuration: its pin and state directories, the global
 * settings (NULL: DEFAULT_GLOBALS) and the sources, NULL-terminated. */
static void conf_write(const char *globals, ...) __attribute__((sentinel));

static void conf_write(const char *globals, ...)
{
	char raw[8192], text[8192];
	const char *src;
	size_t o;
	va_list ap;
	int first = 1;

	o = (size_t)snprintf(
	    raw, sizeof(raw),
	    "# written by test_listsync\npin_dir = \"%s\";\nstate_dir = \"%s\";\n%s\n"
	    "sources = (\n",
	    tenv_pin_dir(), state_dir, globals ? globals : DEFAULT_GLOBALS);
	va_start(ap, globals);
	while ((src = va_arg(ap, const char *)) && o < sizeof(raw)) {
		o += (size_t)snprintf(raw + o, sizeof(raw) - o, "%s%s", first ? "" : ",\n", src);
		first = 0;
	}
	va_end(ap);
	if (o < sizeof(raw))
		snprintf(raw + o, sizeof(raw) - o, "\n);\n");
	expand(raw, text, sizeof(text));
	write_file(conf_path, text, strlen(text));
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* The first line of text holding all of a, b and c (NULL: any), or NULL. */
static const char *line_with(const char *text, const char *a, const char *b, const char *c,
			     char *line, size_t len)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		snprintf(line, len, "%.*s", (int)n, p);
		if (strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c)))
			return line;
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* ---- the publisher ---- */

static int srv_start(int i, int tls)
{
	char cmd[4 * PATH_MAX], tlsargs[2 * PATH_MAX + 16] = "", line[128];
	int pid;

	if (tls)
		snprintf(tlsargs, sizeof(tlsargs), "--tls %s/srv.pem %s/srv.key", tls_dir, tls_dir);
	snprintf(cmd, sizeof(cmd), "exec %s %s/tests/lib/listserver.py --dir %s --log %s %s 2>>%s",
		 tenv_python(), tenv_src(), www, srv_log, tlsargs, srv_log);
	pid = tenv_spawn(cmd, &srv[i].in_fd, line, sizeof(line), 10000);
	if (pid < 0)
		return pid;
	srv[i].pid = pid;
	/* "HTTP_PORT HTTPS_PORT\n" when both listen. */
	if (sscanf(line, "%d %d", &srv[i].http, &srv[i].https) != 2 || srv[i].http <= 0 ||
	    (tls && srv[i].https <= 0))
		return -EPROTO;
	return 0;
}

static void srv_stop(int i)
{
	int st, k;

	if (srv[i].pid > 0) {
		kill(srv[i].pid, SIGTERM);
		for (k = 0; k < 50 && waitpid(srv[i].pid, &st, WNOHANG) == 0; k++)
			usleep(100 * 1000);
		if (k == 50) {
			kill(srv[i].pid, SIGKILL);
			waitpid(srv[i].pid, &st, 0);
		}
	}
	if (srv[i].in_fd >= 0)
		close(srv[i].in_fd);
	srv[i].pid = -1;
	srv[i].in_fd = -1;
}

/* How many requests for path the publishers logged with status code (NULL: any). */
static int srv_hits(const char *path, const char *code)
{
	char want[512], *text = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f = fopen(srv_log, "r");

	snprintf(want, sizeof(want), "GET %s %s", path, code ? code : "");
	while (f && getline(&text, &cap, f) > 0)
		n += !strncmp(text, want, strlen(want)) && (code || text[strlen(want)] >= '1');
	free(text);
	if (f)
		fclose(f);
	return n;
}

/* The last log line for path, in line. */
static const char *srv_last(const char *path, char *line, size_t len)
{
	char want[512], *text = NULL;
	size_t cap = 0;
	FILE *f = fopen(srv_log, "r");

	snprintf(want, sizeof(want), "GET %s ", path);
	snprintf(line, len, "(none)");
	while (f && getline(&text, &cap, f) > 0)
		if (!strncmp(text, want, strlen(want)))
			snprintf(line, len, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
	if (f)
		fclose(f);
	return line;
}

/* ---- programs ---- */

/* mailedge-listsync -c CONF ARGS; placeholders expanded in ARGS. */
static void ls(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ls(struct run *r, const char *fmt, ...)
{
	char args[2048], x[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	expand(args, x, sizeof(x));
	tenv_run(r, "%s -c %s %s", tenv_bin("mailedge-listsync"), conf_path, x);
}

/* Fail with the run's output when its status is not want. */
static void check_status(struct run *r, int want, const char *what)
{
	if (r->status == want)
		return;
	snprintf(msg, sizeof(msg), "%s: got status %d, want %d\n--- stdout:\n%s--- stderr:\n%s",
		 what, r->status, want, r->out ? r->out : "", r->err ? r->err : "");
	tenv_run_free(r);
	cr_assert_fail("%s", msg);
}

/* Run listsync; its status must be want. The caller frees r. */
static void ls_expect(struct run *r, int want, const char *args)
{
	char what[600];

	ls(r, "%s", args);
	snprintf(what, sizeof(what), "mailedge-listsync %s", args);
	check_status(r, want, what);
}

static void ls_ok(const char *args)
{
	struct run r;

	ls_expect(&r, 0, args);
	tenv_run_free(&r);
}

/* In a run's output, the string must (want=1) or must not (want=0) appear. */
static void expect_text(struct run *r, int on_stderr, const char *needle, int want,
			const char *what)
{
	const char *text = on_stderr ? r->err : r->out;

	if (contains(text, needle) == want)
		return;
	snprintf(msg, sizeof(msg), "%s: got %s\n%s\nwant it %sto contain '%s'", what,
		 on_stderr ? "stderr" : "stdout", text ? text : "", want ? "" : "not ", needle);
	tenv_run_free(r);
	cr_assert_fail("%s", msg);
}

/* The summary row of a source on stdout must hold result (and detail). */
static void expect_row(struct run *r, const char *source, const char *result, const char *detail)
{
	char line[1024], start[64];
	const char *p = r->out;
	int found = 0;

	snprintf(start, sizeof(start), "%s ", source);
	while (p && *p && !found) {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		found = !strncmp(line, start, strlen(start)) && strstr(line, result) &&
			(!detail || strstr(line, detail));
		p += n + (p[n] == '\n');
	}
	if (found)
		return;
	snprintf(msg, sizeof(msg),
		 "summary row of %s: got stdout\n%s\nwant a row '%s ... %s ... %s'", source,
		 r->out ? r->out : "", source, result, detail ? detail : "");
	tenv_run_free(r);
	cr_assert_fail("%s", msg);
}

/* ---- what the maps hold ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of text, sorted, without empty ones, each ending in '\n' (malloc'd). */
static char *sort_lines(const char *text)
{
	char *copy = strdup(text), *save = NULL, *tok, **v = NULL, *out;
	size_t n = 0, i, len = 1;

	for (tok = strtok_r(copy, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = tok;
		len += strlen(tok) + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), str_cmp);
	out = malloc(len);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(out, v[i]);
		strcat(out, "\n");
	}
	free(v);
	free(copy);
	return out;
}

/*
 * The entries list show --synced --json reports, "LIST ADDRESS ACTION SOURCE"
 * a line, sorted: synced 1 for list-sync entries only, 0 for the admin's only;
 * source NULL for every source. malloc'd.
 */
static char *entries(int synced, const char *source)
{
	const char *out = loader_expect(0, "list show --synced --json");
	json_object *arr = json_tokener_parse(out);
	char *lines, *sorted;
	size_t i, n, len = 1, o = 0;

	cr_assert(arr && json_object_is_type(arr, json_type_array),
		  "list show --synced --json: got '%.4000s', want a JSON array", out);
	n = json_object_array_length(arr);
	len += n * 160;
	lines = malloc(len);
	lines[0] = '\0';
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *s;
		const char *src = jstr(e, "source");
		int is_synced =
		    json_object_object_get_ex(e, "synced", &s) && json_object_get_boolean(s);

		if (is_synced != synced || (source && (!src || strcmp(src, source))))
			continue;
		o += (size_t)snprintf(lines + o, len - o, "%s %s %s %s\n", jstr(e, "list"),
				      jstr(e, "address"), jstr(e, "action"), src ? src : "(null)");
	}
	json_object_put(arr);
	sorted = sort_lines(lines);
	free(lines);
	return sorted;
}

/* entries() into buf. */
static void entries_into(char *buf, size_t len, int synced, const char *source)
{
	char *e = entries(synced, source);

	snprintf(buf, len, "%s", e);
	free(e);
}

/* The entries (as entries() lists them) must be exactly want, in any order. */
static void expect_entries(int synced, const char *source, const char *want)
{
	char *got = entries(synced, source), *w = sort_lines(want);
	int same = !strcmp(got, w);

	snprintf(msg, sizeof(msg), "%s entries%s%s in the maps: got\n%s(end)\nwant\n%s(end)",
		 synced ? "synced" : "manual", source ? " of source " : "", source ? source : "",
		 got, w);
	free(got);
	free(w);
	cr_assert(same, "%s", msg);
}

static json_object *status_json(void)
{
	const char *out = loader_expect(0, "status --json");
	json_object *root = json_tokener_parse(out);

	cr_assert_not_null(root, "status --json: got '%.4000s', want JSON", out);
	return root;
}

/* Entries in map name (e.g. "sync_black_host4") according to status --json. */
static long long map_entries(const char *name)
{
	json_object *root = status_json(), *maps, *m;
	long long n = -1;

	if (json_object_object_get_ex(root, "maps", &maps) &&
	    json_object_object_get_ex(maps, name, &m))
		n = jint(m, "entries");
	json_object_put(root);
	return n;
}

static void expect_map(const char *name, long long want)
{
	long long got = map_entries(name);

	cr_assert_eq(got, want, "status --json maps.%s.entries: got %lld, want %lld", name, got,
		     want);
}

struct src_info {
	int found;
	char list[8], last_result[24], last_error[256];
	long long entries, failures, age;
	int stale;
};

/* A source as status --json reports it. */
static void source_info(const char *name, struct src_info *si)
{
	json_object *root = status_json(), *arr, *s;
	size_t i;

	memset(si, 0, sizeof(*si));
	if (json_object_object_get_ex(root, "sources", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			const char *n = jstr(o, "name");

			if (!n || strcmp(n, name))
				continue;
			si->found = 1;
			snprintf(si->list, sizeof(si->list), "%s", jstr(o, "list") ?: "");
			snprintf(si->last_result, sizeof(si->last_result), "%s",
				 jstr(o, "last_result") ?: "");
			snprintf(si->last_error, sizeof(si->last_error), "%s",
				 jstr(o, "last_error") ?: "");
			si->entries = jint(o, "entries");
			si->failures = jint(o, "failures");
			si->age = jint(o, "age_seconds");
			si->stale =
			    json_object_object_get_ex(o, "stale", &s) && json_object_get_boolean(s);
		}
	json_object_put(root);
	cr_assert(si->found, "status --json sources: got no source named %s, want one", name);
}

static void expect_result(const char *name, const char *result, long long failures)
{
	struct src_info si;

	source_info(name, &si);
	cr_assert_str_eq(si.last_result, result,
			 "status --json source %s last_result: got '%s', want '%s'", name,
			 si.last_result, result);
	if (failures >= 0)
		cr_assert_eq(si.failures, failures,
			     "status --json source %s failures: got %lld, want %lld", name,
			     si.failures, failures);
}

/* The source's last run got its list: fetched or not modified, no failures. */
static void expect_current(const char *name)
{
	struct src_info si;

	source_info(name, &si);
	cr_assert(!strcmp(si.last_result, "fetched") || !strcmp(si.last_result, "not modified"),
		  "status --json source %s last_result: got '%s', want 'fetched' or 'not modified'",
		  name, si.last_result);
	cr_assert_eq(si.failures, 0, "status --json source %s failures: got %lld, want 0", name,
		     si.failures);
}

/* ---- fixtures ---- */

enum { NEED_SERVER = 1, NEED_MAPS = 2, NEED_LAB = 4 };

static void teardown(void)
{
	struct run r;
	int i;

	for (i = 0; i < NSRV; i++)
		srv_stop(i);
	if (lfd >= 0)
		close(lfd);
	lfd = -1;
	lab_down(&lab);
	tenv_pin_dir_remove();
	tenv_kept_free();
	if (tmp[0]) {
		tenv_run(&r, "rm -rf %s", tmp);
		tenv_run_free(&r);
		tmp[0] = '\0';
	}
}

/* Criterion does not run .fini when .init fails: clean up, then fail. */
static void setup_fail(const char *what, int rc, struct run *r)
{
	snprintf(msg, sizeof(msg), "setup: %s: got %d, want 0%s%s", what, rc,
		 r && r->err ? "; stderr: " : "", r && r->err ? r->err : "");
	if (r)
		tenv_run_free(r);
	teardown();
	cr_assert_fail("%s", msg);
}

/* The throwaway CA, a server certificate for 127.0.0.1 (IP SAN) it signed, and
 * an unrelated CA for the wrong-CA case. EC keys: fast to make. */
static int make_certs(struct run *r)
{
	tenv_run(r,
		 "set -e; mkdir -p %s && cd %s; "
		 "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout ca.key -out ca.pem -days 2 -subj '/CN=mailedge test CA' 2>/dev/null; "
		 "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' 2>/dev/null; "
		 "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n"
		 "keyUsage=digitalSignature\\nextendedKeyUsage=serverAuth\\n' > ext.cnf; "
		 "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-out srv.pem -days 2 -extfile ext.cnf 2>/dev/null; "
		 "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout other.key -out other.pem -days 2 -subj '/CN=127.0.0.1' 2>/dev/null",
		 tls_dir, tls_dir);
	return r->status;
}

static void setup_with(int need)
{
	struct run r;
	int rc;

	memset(&lab, 0, sizeof(lab));
	snprintf(tmp, sizeof(tmp), "/tmp/mailedge-test-ls-XXXXXX");
	if (!mkdtemp(tmp)) {
		rc = -errno;
		tmp[0] = '\0';
		setup_fail("mkdtemp", rc, NULL);
	}
	snprintf(www, sizeof(www), "%s/www", tmp);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);
	snprintf(conf_path, sizeof(conf_path), "%s/listsync.conf", tmp);
	snprintf(srv_log, sizeof(srv_log), "%s/server.log", tmp);
	snprintf(tls_dir, sizeof(tls_dir), "%s/tls", tmp);
	tenv_run(&r, "mkdir %s && cp %s/tests/fixtures/lists/* %s/", www, tenv_src(), www);
	if (r.status)
		setup_fail("copying the fixtures", r.status, &r);
	tenv_run_free(&r);
	if (need & NEED_SERVER) {
		if (make_certs(&r))
			setup_fail("making the test CA with openssl", r.status, &r);
		tenv_run_free(&r);
		rc = srv_start(0, 1);
		if (rc)
			setup_fail("starting tests/lib/listserver.py", rc, NULL);
	}
	if (need & NEED_MAPS) {
		tenv_loader(&r, "init " SMALL_MAPS);
		if (r.status)
			setup_fail("mailedge-loader init", r.status, &r);
		tenv_run_free(&r);
	}
	if (need & NEED_LAB) {
		rc = lab_up(&lab);
		if (rc)
			setup_fail("lab_up", rc, NULL);
		lfd = ns_listen(lab.gw_ns, "0.0.0.0", SMTP_PORT);
		if (lfd < 0)
			setup_fail("listening on 0.0.0.0:25 in the gateway", lfd, NULL);
	}
}

static void setup_cfg(void)
{
	setup_with(0);
}

static void setup_sync(void)
{
	setup_with(NEED_SERVER | NEED_MAPS);
}

static void setup_ns(void)
{
	setup_with(NEED_SERVER | NEED_LAB);
}

/* Configuration checks: no maps, no server. */
TestSuite(listsync_cfg, .init = setup_cfg, .fini = teardown, .timeout = 30);
/* A publisher and maps (no interface). */
TestSuite(listsync, .init = setup_sync, .fini = teardown, .timeout = 60);
/* A publisher and a namespace lab with the filter attached. */
TestSuite(listsync_ns, .init = setup_ns, .fini = teardown, .timeout = 90);

/* ---- one test per format ---- */

/* One source of this format over https with the test CA: exactly want lands in
 * the maps, under the source's name, and status reports it. */
static void format_case(const char *name, const char *format, const char *fixture,
			const char *extra, const char *want, long long nentries)
{
	char sources[1024];
	struct src_info si;
	int hits;

	snprintf(sources, sizeof(sources),
		 "  { name = \"%s\"; url = \"@HTTPS@/f/%s\"; format = \"%s\"; %s }", name, fixture,
		 format, extra);
	conf_write(NULL, sources, NULL);
	ls_ok("run");
	expect_entries(1, NULL, want);
	expect_entries(0, NULL, ""); /* nothing in the admin's maps */
	source_info(name, &si);
	cr_assert_str_eq(si.last_result, "fetched",
			 "source %s last_result: got '%s', want 'fetched'", name, si.last_result);
	cr_assert_eq(si.entries, nentries, "source %s entries: got %lld, want %lld", name,
		     si.entries, nentries);
	cr_assert_eq(si.failures, 0, "source %s failures: got %lld, want 0", name, si.failures);
	snprintf(sources, sizeof(sources), "/f/%s", fixture);
	hits = srv_hits(sources, "200");
	cr_assert_eq(hits, 1, "200 responses for %s: got %d, want 1", sources, hits);
}

Test(listsync, format_plain)
{
	format_case("blocklist-de", "plain", "plain.txt", "",
		    "black 192.0.2.66 drop blocklist-de\n"
		    "black 192.0.2.67 drop blocklist-de\n"
		    "black 192.0.2.70 drop blocklist-de\n"
		    "black 198.51.100.0/24 drop blocklist-de\n"
		    "black 203.0.113.128/25 drop blocklist-de\n"
		    "black 2001:db8:66::1 drop blocklist-de\n"
		    "black 2001:db8:bad::/48 drop blocklist-de\n",
		    7);
}

Test(listsync, format_netset)
{
	format_case("firehol_level1", "netset", "firehol_level1.netset", "action = \"reset\";",
		    "black 10.0.0.0/8 reset firehol_level1\n"
		    "black 192.0.2.66 reset firehol_level1\n"
		    "black 198.51.100.0/24 reset firehol_level1\n"
		    "black 203.0.113.0/25 reset firehol_level1\n",
		    4);
}

Test(listsync, format_spamhaus_json)
{
	conf_write(NULL, SRC("spamhaus-drop", "@HTTPS@/f/drop_v4.json", "spamhaus-json", ""),
		   SRC("spamhaus-dropv6", "@HTTPS@/f/drop_v6.json", "spamhaus-json", ""), NULL);
	ls_ok("run");
	expect_entries(1, NULL,
		       "black 192.0.2.0/25 drop spamhaus-drop\n"
		       "black 198.51.100.0/24 drop spamhaus-drop\n"
		       "black 203.0.113.64/26 drop spamhaus-drop\n"
		       "black 2001:db8:bad::/48 drop spamhaus-dropv6\n"
		       "black 2001:db8:dead::/48 drop spamhaus-dropv6\n");
	expect_result("spamhaus-drop", "fetched", 0);
	expect_result("spamhaus-dropv6", "fetched", 0);
}

Test(listsync, format_spamhaus_text)
{
	format_case("spamhaus-drop-txt", "spamhaus-text", "drop.txt", "",
		    "black 192.0.2.128/25 drop spamhaus-drop-txt\n"
		    "black 198.51.100.0/24 drop spamhaus-drop-txt\n"
		    "black 203.0.113.0/24 drop spamhaus-drop-txt\n",
		    3);
}

Test(listsync, format_dshield)
{
	format_case("dshield", "dshield", "block.txt", "",
		    "black 192.0.2.0/24 drop dshield\n"
		    "black 198.51.100.0/24 drop dshield\n"
		    "black 203.0.113.128/25 drop dshield\n",
		    3);
}

Test(listsync, format_ipset_save)
{
	format_case("ipset", "ipset-save", "ipset.save", "action = \"group:7\";",
		    "black 192.0.2.0/26 group:7 ipset\n"
		    "black 198.51.100.0/24 group:7 ipset\n"
		    "black 203.0.113.9 group:7 ipset\n"
		    "black 203.0.113.10 group:7 ipset\n"
		    "black 2001:db8:bad::/48 group:7 ipset\n",
		    5);
}

Test(listsync, format_plain_whitelist)
{
	www_put("white.txt", "# the admin's partners\n198.51.100.7\n203.0.113.0/28\n"
			     "2001:db8:600d::/48\n");
	format_case("partners", "plain", "white.txt", "list = \"white\";",
		    "white 198.51.100.7 pass partners\n"
		    "white 203.0.113.0/28 pass partners\n"
		    "white 2001:db8:600d::/48 pass partners\n",
		    3);
}

/* ---- conditional GET and intervals ---- */

Test(listsync, not_modified_304_keeps_entries)
{
	char line[512], etag[128] = "";
	const char *p;
	struct run r;
	int hits;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	ls_ok("run");
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
	hits = srv_hits("/f/drop.txt", "200");
	cr_assert_eq(hits, 1, "200 responses: got %d, want 1", hits);

	ls_expect(&r, 0, "run --force");
	expect_row(&r, "drop", "not modified", NULL);
	tenv_run_free(&r);
	srv_last("/f/drop.txt", line, sizeof(line));
	cr_assert(contains(line, " 304 inm=\""),
		  "second request: got '%s', want a 304 answer to If-None-Match", line);
	/* The ETag sent back is the one the server gave. */
	p = strstr(line, "inm=\"");
	if (p)
		snprintf(etag, sizeof(etag), "%.*s", (int)strcspn(p + 4, " "), p + 4);
	cr_assert_gt(strlen(etag), 2, "If-None-Match: got '%s', want the ETag", etag);
	expect_result("drop", "not modified", 0);
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");

	/* A changed list has another ETag: fetched again, in full. */
	www_put("drop.txt", "; Spamhaus DROP List\n198.51.100.0/24 ; SBL000302\n"
			    "203.0.113.0/24 ; SBL000303\n203.0.113.77/32 ; SBL000304\n; EOF\n");
	ls_expect(&r, 0, "run --force");
	expect_row(&r, "drop", "fetched", NULL);
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
	hits = srv_hits("/f/drop.txt", "200");
	cr_assert_eq(hits, 2, "200 responses: got %d, want 2", hits);
}

/* The summary counts what a download added and removed against the last
 * good copy. */
Test(listsync, summary_counts_changes)
{
	struct run r;

	www_put("list.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
	conf_write(NULL, SRC("counted", "@HTTPS@/f/list.txt", "plain", ""), NULL);
	ls_expect(&r, 0, "run");
	expect_row(&r, "counted", "fetched", "+3 -0");
	tenv_run_free(&r);
	www_put("list.txt", "192.0.2.1\n192.0.2.2\n192.0.2.4\n192.0.2.5\n");
	ls_expect(&r, 0, "run --force");
	expect_row(&r, "counted", "fetched", "+2 -1");
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 192.0.2.1 drop counted\nblack 192.0.2.2 drop counted\n"
		       "black 192.0.2.4 drop counted\nblack 192.0.2.5 drop counted\n");
}

Test(listsync, not_modified_by_last_modified)
{
	char line[512];
	struct run r;
	long long entries;

	conf_write(NULL, SRC("lm", "@HTTPS@/lm/plain.txt", "plain", ""), NULL);
	ls_ok("run");
	ls_expect(&r, 0, "run --force");
	expect_row(&r, "lm", "not modified", NULL);
	tenv_run_free(&r);
	srv_last("/lm/plain.txt", line, sizeof(line));
	cr_assert(contains(line, " 304 inm=- ims="),
		  "second request: got '%s', want a 304 answer to If-Modified-Since", line);
	expect_result("lm", "not modified", 0);
	entries = map_entries("sync_black_host4");
	cr_assert_eq(entries, 3, "sync_black_host4: got %lld, want 3", entries);
}

Test(listsync, min_interval_prevents_refetch)
{
	struct run r;
	int n;
	long long entries;

	conf_write(NULL,
		   SRC("counted", "@HTTPS@/count/plain.txt", "plain", "min_interval = \"3s\";"),
		   NULL);
	ls_ok("run");
	n = srv_hits("/count/plain.txt", NULL);
	cr_assert_eq(n, 1, "requests: got %d, want 1", n);

	ls_expect(&r, 0, "run");
	expect_row(&r, "counted", "not due", "next fetch in");
	tenv_run_free(&r);
	n = srv_hits("/count/plain.txt", NULL);
	cr_assert_eq(n, 1, "requests after a run within min_interval: got %d, want 1", n);
	expect_result("counted", "not due", 0);
	entries = map_entries("sync_black_host4");
	cr_assert_eq(entries, 3, "sync_black_host4 after a not-due run: got %lld, want 3 (kept)",
		     entries);

	/* --force fetches whatever the interval says. */
	ls_ok("run --force");
	n = srv_hits("/count/plain.txt", NULL);
	cr_assert_eq(n, 2, "requests after run --force: got %d, want 2", n);

	/* Once the interval has passed (3 s after the second the forced run
	 * started in), a plain run fetches again. */
	sleep(3);
	ls_ok("run");
	n = srv_hits("/count/plain.txt", NULL);
	cr_assert_eq(n, 3, "requests after min_interval passed: got %d, want 3", n);
}

/* ---- --force fetches, --rebuild rebuilds ---- */

#define NOUTER 4 /* the list-sync outer maps: host4, host6, net4, net6 */

/* What list sync holds in the maps: the generation in use and the id of the
 * inner map in every slot of the outer maps (0: empty), read the way any
 * userspace program can (an ARRAY_OF_MAPS answers a lookup with the inner
 * map's id). An apply flips the generation, so an unchanged snapshot proves
 * there was none. */
struct sync_snap {
	unsigned int gen;
	unsigned int id[NOUTER][ME_SYNC_SLOTS];
	int any; /* some slot holds a map */
};

static void sync_snap(struct sync_snap *s)
{
	static const enum me_map_id outer[NOUTER] = { ME_M_SYNC_HOST4, ME_M_SYNC_HOST6,
						      ME_M_SYNC_NET4, ME_M_SYNC_NET6 };
	struct me_config cfg;
	struct me_edge e;
	const char *what = "";
	__u32 zero = 0, slot, id;
	int rc, i;

	memset(s, 0, sizeof(*s));
	me_edge_init(&e);
	rc = me_edge_open(&e, tenv_pin_dir(), &what);
	if (!rc)
		rc = bpf_map_lookup_elem(e.fd[ME_M_CONFIG], &zero, &cfg) ? -errno : 0;
	if (!rc)
		s->gen = cfg.sync_gen;
	for (i = 0; !rc && i < NOUTER; i++)
		for (slot = 0; !rc && slot < ME_SYNC_SLOTS; slot++) {
			if (bpf_map_lookup_elem(e.fd[outer[i]], &slot, &id)) {
				rc = errno == ENOENT ? 0 : -errno; /* ENOENT: an empty slot */
				continue;
			}
			s->id[i][slot] = id;
			s->any |= id != 0;
		}
	me_edge_close(&e);
	cr_assert_eq(rc, 0, "reading the list-sync maps at %s (%s): got %d, want 0",
		     tenv_pin_dir(), what, rc);
}

/* The maps as they were: same generation, same inner map in every slot. */
static void expect_same_maps(const struct sync_snap *was, const struct sync_snap *now,
			     const char *when)
{
	int i, slot;

	cr_assert_eq(now->gen, was->gen, "%s: got generation %u, want %u (no rebuild)", when,
		     now->gen, was->gen);
	for (i = 0; i < NOUTER; i++)
		for (slot = 0; slot < ME_SYNC_SLOTS; slot++)
			cr_assert_eq(now->id[i][slot], was->id[i][slot],
				     "%s: outer map %d slot %d: got inner map id %u, want %u (no "
				     "rebuild)",
				     when, i, slot, now->id[i][slot], was->id[i][slot]);
}

static const char drop_entries[] = "black 192.0.2.128/25 drop drop\n"
				   "black 198.51.100.0/24 drop drop\n"
				   "black 203.0.113.0/24 drop drop\n";

/* run --force twice on a list that did not change: the second run fetches
 * (and gets a 304), but builds nothing and swaps nothing, and says so.
 * --rebuild is the explicit way to get a rebuild anyway. */
Test(listsync, force_with_unchanged_data_does_not_rebuild)
{
	struct sync_snap first, second, rebuilt;
	struct run r;
	int hits;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	ls_expect(&r, 0, "run --force");
	expect_text(&r, 0, "applied as generation", 1, "first run --force");
	tenv_run_free(&r);
	sync_snap(&first);
	cr_assert(first.any, "after the first run: got no list-sync inner map, want some");

	ls_expect(&r, 0, "run --force");
	expect_row(&r, "drop", "not modified", NULL);
	expect_text(&r, 0, "unchanged; maps left as they are (rebuild skipped", 1,
		    "second run --force, nothing changed");
	expect_text(&r, 0, "applied as generation", 0, "second run --force, nothing changed");
	tenv_run_free(&r);
	hits = srv_hits("/f/drop.txt", NULL);
	cr_assert_eq(hits, 2, "requests: got %d, want 2 (--force still fetches)", hits);
	sync_snap(&second);
	expect_same_maps(&first, &second, "second run --force on unchanged data");
	expect_entries(1, NULL, drop_entries);

	/* --rebuild: built again from the last good copy, which is not due. */
	ls_expect(&r, 0, "run --rebuild");
	expect_row(&r, "drop", "not due", NULL);
	expect_text(&r, 0, "applied as generation", 1, "run --rebuild");
	tenv_run_free(&r);
	hits = srv_hits("/f/drop.txt", NULL);
	cr_assert_eq(hits, 2, "requests after run --rebuild: got %d, want 2 (nothing due)", hits);
	sync_snap(&rebuilt);
	cr_assert_neq(rebuilt.gen, second.gen, "run --rebuild: got generation %u again, want "
		      "the other one", rebuilt.gen);
	expect_entries(1, NULL, drop_entries);

	/* Changed data is still applied by a forced run, of course. */
	www_put("drop.txt", "; Spamhaus DROP List\n198.51.100.0/24 ; SBL000302\n"
			    "203.0.113.0/24 ; SBL000303\n; EOF\n");
	ls_expect(&r, 0, "run --force");
	expect_text(&r, 0, "applied as generation", 1, "run --force after the list changed");
	tenv_run_free(&r);
	sync_snap(&second);
	cr_assert_neq(second.gen, rebuilt.gen,
		      "run --force after the list changed: got generation %u again, want the "
		      "other one", second.gen);
	expect_entries(1, NULL,
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
}

/* A download that cannot be saved (its copy's place is a directory) is not
 * applied: the maps keep the copy the state names, the run fails, and the
 * next run that can save it applies it. The copy is saved before the maps
 * change, so that a run killed after the change finds it. */
Test(listsync, unsaved_download_is_not_applied)
{
	char path[256];
	struct run r;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	ls_ok("run");
	expect_entries(1, NULL, drop_entries);
	snprintf(path, sizeof(path), "%s/sources/drop.data", state_dir);
	cr_assert_eq(unlink(path), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(mkdir(path, 0700), 0, "%s: %s", path, strerror(errno));

	www_put("drop.txt", "; Spamhaus DROP List\n198.51.100.0/24 ; SBL000302\n"
			    "203.0.113.0/24 ; SBL000303\n; EOF\n");
	ls_expect(&r, 1, "run --force");
	expect_text(&r, 1, "source drop: cannot save the download", 1, "copy's place a directory");
	expect_text(&r, 1, "maps unchanged", 1, "copy's place a directory");
	expect_text(&r, 0, "applied as generation", 0, "copy's place a directory");
	tenv_run_free(&r);
	expect_entries(1, NULL, drop_entries);

	cr_assert_eq(rmdir(path), 0, "%s: %s", path, strerror(errno));
	ls_expect(&r, 0, "run --force");
	expect_text(&r, 0, "applied as generation", 1, "copy's place free again");
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
	expect_current("drop");
}

/* ---- -q: silent unless something failed ---- */

static void expect_silent(struct run *r, const char *what)
{
	if ((!r->out || !r->out[0]) && (!r->err || !r->err[0]))
		return;
	snprintf(msg, sizeof(msg), "%s: got stdout '%s', stderr '%s'; want both empty", what,
		 r->out ? r->out : "", r->err ? r->err : "");
	tenv_run_free(r);
	cr_assert_fail("%s", msg);
}

/* A successful run, whatever it did (fetched and applied, nothing due,
 * not modified, rebuilt), and a valid check: not one byte. */
Test(listsync, quiet_success_prints_nothing)
{
	static const char *const runs[] = { "-q run", "-q run", "-q run --rebuild",
					    "--quiet run --force", "-q check" };
	struct run r;
	size_t i;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		ls_expect(&r, 0, runs[i]);
		expect_silent(&r, runs[i]);
		tenv_run_free(&r);
	}
	expect_entries(1, NULL, drop_entries);
	expect_current("drop");
}

/* A failure still speaks under -q: the failed source with its reason (and
 * not the healthy one), stale data, and a run that applied nothing. */
Test(listsync, quiet_failure_prints_why)
{
	struct run r;

	www_put("healthy.txt", "2001:db8:beef::5\n");
	conf_write(NULL, SRC("victim", "@HTTPS@/x/plain.txt", "plain", "stale_after = \"1s\";"),
		   SRC("healthy", "@HTTPS@/f/healthy.txt", "plain", ""), NULL);
	ls_expect(&r, 0, "-q run");
	expect_silent(&r, "-q run, first");
	tenv_run_free(&r);

	www_put("plain.txt.mode", "status 500\n");
	ls_expect(&r, 1, "-q run --force");
	expect_text(&r, 1, "error: source victim: HTTP status 500", 1, "-q run, victim failing");
	expect_text(&r, 1, "healthy", 0, "-q run, victim failing");
	expect_text(&r, 0, "victim", 0, "-q run, victim failing (no summary table)");
	tenv_run_free(&r);

	/* Backing off: not even tried, so no error, but its data grows stale,
	 * and a stale blacklist is news for cron. */
	sleep(2);
	ls_expect(&r, 0, "-q run");
	expect_text(&r, 1, "warning: source victim: data in use is", 1,
		    "-q run, victim backing off with data older than stale_after");
	expect_text(&r, 0, "victim", 0, "-q run, victim backing off (no summary table)");
	tenv_run_free(&r);

	/* Nothing applied: the one-line reason, exit 2. */
	loader_expect(0, "destroy");
	ls_expect(&r, 2, "-q run");
	expect_text(&r, 1, "no mailedge maps at", 1, "-q run without maps");
	tenv_run_free(&r);
}

/* Spamhaus's terms ask for at most one download an hour: a shorter
 * min_interval is raised to that. */
Test(listsync, spamhaus_min_interval_at_least_an_hour)
{
	struct run r;
	int n;

	conf_write(
	    NULL,
	    SRC("sh", "@HTTPS@/count/drop_v4.json", "spamhaus-json", "min_interval = \"1s\";"),
	    NULL);
	ls_ok("run");
	sleep(2);
	ls_expect(&r, 0, "run");
	expect_row(&r, "sh", "not due", NULL);
	tenv_run_free(&r);
	n = srv_hits("/count/drop_v4.json", NULL);
	cr_assert_eq(n, 1, "requests 2 s later with min_interval 1s: got %d, want 1", n);
}

/* A redirect within https is followed, and the list is kept under its source. */
Test(listsync, redirect_within_https_followed)
{
	int hits;

	conf_write(NULL, SRC("moved", "@HTTPS@/redirect/drop.txt", "spamhaus-text", ""), NULL);
	ls_ok("run");
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop moved\n"
		       "black 198.51.100.0/24 drop moved\n"
		       "black 203.0.113.0/24 drop moved\n");
	hits = srv_hits("/redirect/drop.txt", "302");
	cr_assert_eq(hits, 1, "302 answers: got %d, want 1", hits);
	hits = srv_hits("/f/drop.txt", "200");
	cr_assert_eq(hits, 1, "200 answers at the target: got %d, want 1", hits);
}

/* Maps destroyed and made again (a capacity change): the next run refills
 * them from the last good copies, though nothing is due for a fetch. */
Test(listsync, recreated_maps_refilled_without_fetching)
{
	struct run r;
	int hits;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	ls_ok("run");
	loader_expect(0, "destroy");
	loader_expect(0, "init " SMALL_MAPS);
	expect_entries(1, NULL, "");
	ls_expect(&r, 0, "run");
	expect_row(&r, "drop", "not due", NULL);
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
	hits = srv_hits("/f/drop.txt", NULL);
	cr_assert_eq(hits, 1, "requests: got %d, want 1 (no refetch)", hits);
}

/* ---- failures: the failing source keeps its last good copy ---- */

/*
 * Every way a download can go wrong, each as its own source ("victim"), next
 * to one healthy source, all in one configuration: a first run gets a good
 * copy of everything; then every victim goes bad at once and the healthy list
 * changes. The second run must exit 1, name each victim (and the line, where
 * there is one) on stderr, keep each victim's last good entries, report each
 * as failed in status, and still apply the healthy source's new list.
 *
 * Victims serve good copies with prefixes of their own (10.K.x, never sent
 * anywhere), so that no two sources share an entry and each one's entries
 * can be told apart in the maps. The bad copies are fixtures.
 */
struct fail_case {
	char name[24];	/* the victim's source name */
	char group[12]; /* tests run by group: http, transport, content */
	char format[16];
	char how[8];   /* "mode" (NAME.mode), "file" (a bad fixture), "ca", "down" */
	char arg[24];  /* the mode line, or the bad fixture */
	char want[48]; /* what the error must say */
	int line;      /* the line it must name, 0 = none */
};

static const struct fail_case fail_cases[] = {
	{ "http_500", "http", "plain", "mode", "status 500", "HTTP status 500", 0 },
	{ "http_404", "http", "spamhaus-json", "mode", "status 404", "HTTP status 404", 0 },
	{ "html_200", "http", "plain", "mode", "html200", "<!DOCTYPE html>", 1 },
	{ "html_200_json", "http", "spamhaus-json", "mode", "html200", "<!DOCTYPE html>", 1 },
	{ "html_200_text", "http", "spamhaus-text", "mode", "html200", "<!DOCTYPE html>", 1 },
	{ "too_big", "http", "plain", "mode", "big 65536", "larger than max_size", 0 },
	{ "too_big_no_length", "http", "plain", "mode", "bigstream 65536", "larger than max_size",
	  0 },
	{ "redirect_to_http", "http", "plain", "mode", "redirect-to-http", "Protocol \"http\"", 0 },
	{ "timeout", "transport", "plain", "mode", "slow", "timed out", 0 },
	{ "cut_content_length", "transport", "spamhaus-text", "mode", "cut", "transfer closed", 0 },
	{ "cut_mid_line", "transport", "plain", "mode", "cutclose", "cut short", 0 },
	{ "unreachable", "transport", "plain", "down", "", "connect", 0 },
	{ "wrong_ca", "transport", "dshield", "ca", "", "TLS", 0 },
	{ "records_count", "content", "spamhaus-json", "file", "bad-records.json",
	  "metadata says 3 records, 2 were read", 3 },
	{ "no_eof", "content", "spamhaus-text", "file", "no-eof.txt", "no '; EOF' line", 6 },
	{ "empty", "content", "plain", "file", "empty.txt", "no entries", 0 },
	{ "empty_body", "content", "plain", "file", "empty0.txt", "no entries", 0 },
	{ "shrink", "content", "plain", "file", "shrunk.txt", "shrank from 5 to 2", 0 },
	{ "slash0", "content", "plain", "file", "slash0.txt", "/0", 4 },
	{ "slash0_v6", "content", "spamhaus-text", "file", "slash0v6.txt", "/0", 2 },
	{ "garbage", "content", "plain", "file", "garbage.txt", "this is not an address", 5 },
	{ "dshield_shifted", "content", "dshield", "file", "block-shifted.txt",
	  "end address does not match", 29 },
	{ "ipset_wrong_type", "content", "ipset-save", "file", "ipset-port.save",
	  "hash:ip or hash:net", 1 },
};
#define NFAIL (sizeof(fail_cases) / sizeof(fail_cases[0]))

/* A good copy in format, with prefixes only victim k has; returns its count. */
static int good_copy(const char *format, int k, char *buf, size_t len)
{
	if (!strcmp(format, "spamhaus-json")) {
		snprintf(buf, len,
			 "{\"cidr\":\"10.%d.1.0/24\",\"sblid\":\"SBL9%02d1\",\"rir\":\"arin\"}\n"
			 "{\"cidr\":\"10.%d.2.0/24\",\"sblid\":\"SBL9%02d2\",\"rir\":\"arin\"}\n"
			 "{\"cidr\":\"10.%d.0.9/32\",\"sblid\":\"SBL9%02d3\",\"rir\":\"arin\"}\n"
			 "{\"type\":\"metadata\",\"timestamp\":1795500000,\"records\":3}\n",
			 k, k, k, k, k, k);
		return 3;
	}
	if (!strcmp(format, "spamhaus-text")) {
		snprintf(buf, len,
			 "; Spamhaus DROP List (test copy %d)\n10.%d.1.0/24 ; SBL9%02d1\n"
			 "10.%d.2.0/24 ; SBL9%02d2\n10.%d.0.9/32 ; SBL9%02d3\n; EOF\n",
			 k, k, k, k, k, k, k);
		return 3;
	}
	if (!strcmp(format, "dshield")) {
		snprintf(buf, len,
			 "# DShield block list (test copy %d)\n"
			 "Start\tEnd\tNetblock\tAttacks\tName\tCountry\temail\n"
			 "10.%d.1.0\t10.%d.1.255\t24\t100\tNET-A\tZZ\tabuse@example.net\n"
			 "10.%d.2.0\t10.%d.2.255\t24\t90\tNET-B\tZZ\tabuse@example.net\n"
			 "10.%d.3.0\t10.%d.3.127\t25\t80\tNET-C\tZZ\t\n",
			 k, k, k, k, k, k, k);
		return 3;
	}
	if (!strcmp(format, "ipset-save")) {
		snprintf(buf, len,
			 "create v%d hash:net family inet hashsize 1024 maxelem 65536\n"
			 "add v%d 10.%d.1.0/24\nadd v%d 10.%d.2.0/24\nadd v%d 10.%d.0.9\n",
			 k, k, k, k, k, k, k);
		return 3;
	}
	snprintf(buf, len,
		 "# good copy of victim %d\n10.%d.0.1\n10.%d.0.2\n10.%d.1.0/24\n10.%d.2.0/24\n"
		 "10.%d.3.0/24\n",
		 k, k, k, k, k, k);
	return 5;
}

/* The configuration: the group's victims, then the healthy source. */
static void fail_conf(const char *group, int wrong_ca)
{
	char sources[8192];
	size_t i, o = 0;

	for (i = 0; i < NFAIL; i++) {
		const struct fail_case *c = &fail_cases[i];

		if (strcmp(c->group, group))
			continue;
		o += (size_t)snprintf(
		    sources + o, sizeof(sources) - o,
		    "  { name = \"%s\"; url = \"%s/%s.dat\"; format = \"%s\"; %s },\n", c->name,
		    !strcmp(c->how, "down") ? "@HTTPS2@/f" : "@HTTPS@/x", c->name, c->format,
		    wrong_ca && !strcmp(c->how, "ca") ? "ca_file = \"@OTHERCA@\";" : "");
	}
	snprintf(sources + o, sizeof(sources) - o,
		 "  { name = \"healthy\"; url = \"@HTTPS@/f/healthy.txt\"; format = \"plain\"; }");
	/* A 2 s timeout for the stalled server; 2 KiB is more than any good copy. */
	conf_write("ca_file = \"@CA@\"; connect_timeout = \"3s\"; timeout = \"2s\"; "
		   "max_size = \"2K\";",
		   sources, NULL);
}

/* Append a problem to the report. */
static void problem(char *rep, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(char *rep, size_t len, const char *fmt, ...)
{
	size_t o = strlen(rep);
	va_list ap;

	if (o + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(rep + o, len - o, fmt, ap);
	va_end(ap);
}

struct fail_group {
	char name[12];
};

static const struct fail_group fail_groups[] = { { "http" }, { "transport" }, { "content" } };

ParameterizedTestParameters(listsync, failing_sources_keep_last_good)
{
	return cr_make_param_array(struct fail_group, fail_groups,
				   sizeof(fail_groups) / sizeof(fail_groups[0]));
}

ParameterizedTest(const struct fail_group *g, listsync, failing_sources_keep_last_good)
{
	static char before[NFAIL][2048], rep[16384];
	char text[2048], line[1024], lineno[32], file[64], *now;
	struct src_info si;
	struct run r;
	int want_n[NFAIL];
	size_t i;
	int rc;

	rep[0] = '\0';
	for (i = 0; i < NFAIL; i++) {
		const struct fail_case *c = &fail_cases[i];

		if (strcmp(c->group, g->name))
			continue;
		if (!strcmp(c->how, "down") && srv[1].pid < 0) {
			rc = srv_start(1, 1);
			cr_assert_eq(rc, 0, "starting the second server: got %d, want 0", rc);
		}
		want_n[i] = good_copy(c->format, (int)i + 1, text, sizeof(text));
		snprintf(file, sizeof(file), "%s.dat", c->name);
		www_put(file, "%s", text);
	}
	www_put("healthy.txt", "2001:db8:beef::5\n");
	fail_conf(g->name, 0);
	ls_ok("run --force");
	for (i = 0; i < NFAIL; i++)
		if (!strcmp(fail_cases[i].group, g->name)) {
			entries_into(before[i], sizeof(before[i]), 1, fail_cases[i].name);
			cr_assert_gt(strlen(before[i]), 0,
				     "%s: entries after a good run: got none, want some",
				     fail_cases[i].name);
		}

	/* Every victim goes bad; the healthy source changes. */
	for (i = 0; i < NFAIL; i++) {
		const struct fail_case *c = &fail_cases[i];

		if (strcmp(c->group, g->name))
			continue;
		snprintf(file, sizeof(file), "%s.dat", c->name);
		if (!strcmp(c->how, "mode")) {
			snprintf(file, sizeof(file), "%s.dat.mode", c->name);
			www_put(file, "%s\n", c->arg);
		} else if (!strcmp(c->how, "file")) {
			www_copy(file, c->arg);
		} else if (!strcmp(c->how, "ca")) {
			fail_conf(g->name, 1);
		} else if (!strcmp(c->how, "down")) {
			srv_stop(1);
		}
	}
	www_put("healthy.txt", "2001:db8:beef::5\n2001:db8:beef::6\n");

	ls_expect(&r, 1, "run --force");
	expect_row(&r, "healthy", "fetched", NULL);
	for (i = 0; i < NFAIL; i++) {
		const struct fail_case *c = &fail_cases[i];
		char who[48];

		if (strcmp(c->group, g->name))
			continue;
		snprintf(who, sizeof(who), "source %s:", c->name);
		snprintf(lineno, sizeof(lineno), "line %d:", c->line);
		if (!line_with(r.err, who, c->want, c->line ? lineno : NULL, line, sizeof(line)))
			problem(rep, sizeof(rep), "%s: got no stderr line with '%s', '%s'%s%s\n",
				c->name, who, c->want, c->line ? " and " : "",
				c->line ? lineno : "");
		snprintf(who, sizeof(who), "%s ", c->name);
		if (!line_with(r.out, who, "FAILED", "keeping the copy", line, sizeof(line)) ||
		    strncmp(line, who, strlen(who)))
			problem(rep, sizeof(rep),
				"%s: got no summary row '%s FAILED ... keeping the copy'\n",
				c->name, c->name);
	}
	if (rep[0]) {
		snprintf(msg, sizeof(msg), "%s\n--- stdout:\n%.4000s--- stderr:\n%.6000s", rep,
			 r.out, r.err);
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	tenv_run_free(&r);

	for (i = 0; i < NFAIL; i++) {
		const struct fail_case *c = &fail_cases[i];

		if (strcmp(c->group, g->name))
			continue;
		now = entries(1, c->name);
		if (strcmp(now, before[i]))
			problem(rep, sizeof(rep),
				"%s: entries after the failure: got\n%s(end), want the last good "
				"ones\n%s(end)\n",
				c->name, now, before[i]);
		free(now);
		source_info(c->name, &si);
		if (strcmp(si.last_result, "failed") || si.failures != 1 ||
		    !contains(si.last_error, c->want) || si.entries != want_n[i])
			problem(rep, sizeof(rep),
				"%s: status got last_result '%s', failures %lld, "
				"entries %lld, last_error '%s'; want 'failed', 1, %d, '...%s...'\n",
				c->name, si.last_result, si.failures, si.entries, si.last_error,
				want_n[i], c->want);
	}
	cr_assert(!rep[0], "%s", rep);
	expect_entries(1, "healthy",
		       "black 2001:db8:beef::5 drop healthy\n"
		       "black 2001:db8:beef::6 drop healthy\n");
	expect_result("healthy", "fetched", 0);
}

/* A source that never worked contributes nothing, and says so. */
Test(listsync, failure_without_good_copy)
{
	struct src_info si;
	struct run r;

	www_put("healthy.txt", "2001:db8:beef::5\n");
	conf_write(NULL, SRC("victim", "@HTTPS@/x/plain.txt", "plain", ""),
		   SRC("healthy", "@HTTPS@/f/healthy.txt", "plain", ""), NULL);
	www_put("plain.txt.mode", "status 503\n");
	ls_expect(&r, 1, "run");
	expect_row(&r, "victim", "FAILED", "no good copy yet");
	expect_text(&r, 1, "source victim: HTTP status 503", 1, "run with a 503 source");
	tenv_run_free(&r);
	expect_entries(1, "victim", "");
	expect_entries(1, "healthy", "black 2001:db8:beef::5 drop healthy\n");
	source_info("victim", &si);
	cr_assert_eq(si.entries, 0, "victim entries: got %lld, want 0", si.entries);
	cr_assert_str_eq(si.last_result, "failed", "victim last_result: got '%s', want 'failed'",
			 si.last_result);
}

/* After a failure the source backs off (no request before its interval), and
 * status keeps saying why it failed until it works again. */
Test(listsync, failure_reported_while_backing_off)
{
	struct src_info si;
	struct run r;
	int n;
	long long entries;

	conf_write(NULL, SRC("victim", "@HTTPS@/x/plain.txt", "plain", ""), NULL);
	ls_ok("run");
	www_put("plain.txt.mode", "status 500\n");
	ls_expect(&r, 1, "run --force");
	tenv_run_free(&r);
	n = srv_hits("/x/plain.txt", NULL);
	cr_assert_eq(n, 2, "requests: got %d, want 2", n);

	ls(&r, "run");
	expect_row(&r, "victim", "not due", NULL);
	tenv_run_free(&r);
	n = srv_hits("/x/plain.txt", NULL);
	cr_assert_eq(n, 2, "requests during the back-off: got %d, want 2", n);
	entries = map_entries("sync_black_host4");
	cr_assert_eq(entries, 3,
		     "sync_black_host4 during the back-off: got %lld, want 3 (the last good copy)",
		     entries);
	source_info("victim", &si);
	cr_assert_eq(si.failures, 1, "victim failures during the back-off: got %lld, want 1",
		     si.failures);
	cr_assert(contains(si.last_error, "HTTP status 500"),
		  "victim last_error during the back-off: got '%s', want it to still say "
		  "'HTTP status 500'",
		  si.last_error);

	/* Fixed at the publisher: the next forced run clears the failure. */
	www_remove("plain.txt.mode");
	ls_ok("run --force");
	source_info("victim", &si);
	cr_assert_eq(si.failures, 0, "victim failures after recovery: got %lld, want 0",
		     si.failures);
	cr_assert_str_eq(si.last_error, "", "victim last_error after recovery: got '%s', want ''",
			 si.last_error);
}

/* A source processed after a slow one must not be called stale: its data is
 * seconds old. */
Test(listsync, no_false_stale_warning_after_slow_source)
{
	struct run r;

	www_put("healthy.txt", "2001:db8:beef::5\n");
	conf_write("ca_file = \"@CA@\"; connect_timeout = \"3s\"; timeout = \"2s\";",
		   SRC("slow", "@HTTPS@/x/plain.txt", "plain", ""),
		   SRC("healthy", "@HTTPS@/f/healthy.txt", "plain", ""), NULL);
	ls_ok("run");
	www_put("plain.txt.mode", "slow\n");
	www_put("healthy.txt", "2001:db8:beef::5\n2001:db8:beef::6\n");
	ls_expect(&r, 1, "run --force");
	expect_text(&r, 1, "source slow: timed out", 1, "run with a stalled source");
	expect_text(&r, 1, "source healthy: data in use", 0,
		    "run where 'healthy' was fetched right after a 2 s timeout");
	tenv_run_free(&r);
}

Test(listsync, stale_data_warned)
{
	struct src_info si;
	struct run r;

	conf_write(NULL,
		   SRC("stale-src", "@HTTPS@/f/drop.txt", "spamhaus-text", "stale_after = \"1s\";"),
		   SRC("fresh-src", "@HTTPS@/f/plain.txt", "plain", ""), NULL);
	ls_ok("run");
	sleep(2);
	ls_expect(&r, 0, "run");
	expect_row(&r, "stale-src", "not due", NULL);
	if (!line_with(r.err, "warning", "source stale-src:", "stale", msg, sizeof(msg))) {
		snprintf(msg, sizeof(msg),
			 "run 2 s after, stale_after 1s: got stderr\n%s\nwant a "
			 "warning about stale data naming 'source stale-src:'",
			 r.err);
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	expect_text(&r, 1, "source fresh-src", 0, "run 2 s after (fresh-src has 1 day)");
	tenv_run_free(&r);
	source_info("stale-src", &si);
	cr_assert(si.stale, "status --json stale-src stale: got false, want true");
	cr_assert_geq(si.age, 2, "status --json stale-src age_seconds: got %lld, want >= 2",
		      si.age);
	source_info("fresh-src", &si);
	cr_assert(!si.stale, "status --json fresh-src stale: got true, want false");
}

/* ---- empty lists and shrinking ---- */

Test(listsync, may_be_empty_accepts_empty_list)
{
	struct run r;

	www_copy("list.txt", "empty.txt");
	conf_write(NULL, SRC("quiet", "@HTTPS@/f/list.txt", "plain", "may_be_empty = true;"), NULL);
	ls_expect(&r, 0, "run");
	expect_row(&r, "quiet", "fetched", NULL);
	tenv_run_free(&r);
	expect_entries(1, NULL, "");
	expect_result("quiet", "fetched", 0);
}

/* An empty download that may_be_empty allows is the list's real state, even
 * when the list had entries before. */
Test(listsync, may_be_empty_list_can_become_empty)
{
	struct run r;

	www_put("list.txt", "192.0.2.66\n192.0.2.67\n");
	conf_write(NULL, SRC("quiet", "@HTTPS@/f/list.txt", "plain", "may_be_empty = true;"), NULL);
	ls_ok("run");
	expect_entries(1, NULL, "black 192.0.2.66 drop quiet\nblack 192.0.2.67 drop quiet\n");
	www_copy("list.txt", "empty.txt");
	ls(&r, "run --force");
	check_status(&r, 0, "run after a may_be_empty list emptied");
	tenv_run_free(&r);
	expect_entries(1, NULL, "");
}

Test(listsync, max_shrink_100_accepts_big_shrink)
{
	www_copy("list.txt", "plain.txt");
	conf_write(NULL, SRC("shrinker", "@HTTPS@/f/list.txt", "plain", "max_shrink = 100;"), NULL);
	ls_ok("run");
	www_copy("list.txt", "shrunk.txt");
	ls_ok("run --force");
	expect_entries(1, NULL,
		       "black 192.0.2.66 drop shrinker\n"
		       "black 198.51.100.0/24 drop shrinker\n");
}

/* max_shrink 50: losing exactly half is fine, more is not. */
Test(listsync, max_shrink_boundary)
{
	struct run r;

	www_put("list.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n192.0.2.5\n"
			    "192.0.2.6\n192.0.2.7\n192.0.2.8\n192.0.2.9\n192.0.2.10\n");
	conf_write(NULL, SRC("half", "@HTTPS@/f/list.txt", "plain", "max_shrink = \"50%\";"), NULL);
	ls_ok("run");
	www_put("list.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n192.0.2.5\n");
	ls_ok("run --force");
	expect_map("sync_black_host4", 5);
	www_put("list.txt", "192.0.2.1\n192.0.2.2\n");
	ls_expect(&r, 1, "run --force");
	expect_text(&r, 1, "source half: shrank from 5 to 2", 1, "shrinking 5 -> 2");
	tenv_run_free(&r);
	expect_map("sync_black_host4", 5);
}

/* ---- prefixes: normalised, merged, in the right maps ---- */

Test(listsync, host_bits_cleared)
{
	struct run r;

	conf_write(NULL, SRC("sloppy", "@HTTPS@/f/hostbits.txt", "plain", ""), NULL);
	ls_expect(&r, 0, "run");
	if (!contains(r.out, "host bits") && !contains(r.err, "host bits")) {
		snprintf(msg, sizeof(msg),
			 "run of a list with host bits set: got stdout\n%s\n"
			 "stderr\n%s\nwant a warning about host bits",
			 r.out, r.err);
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 192.0.2.0/24 drop sloppy\n"
		       "black 198.51.100.0/25 drop sloppy\n"
		       "black 2001:db8:bad::/48 drop sloppy\n");
}

Test(listsync, hosts_and_subnets_in_their_maps)
{
	www_put("black.txt", "192.0.2.66\n192.0.2.77/32\n198.51.100.0/24\n203.0.113.0/25\n"
			     "2001:db8::66\n2001:db8::77/128\n2001:db8:bad::/48\n");
	www_put("white.txt", "192.0.2.10\n203.0.113.0/28\n2001:db8::10/128\n");
	conf_write(NULL, SRC("black", "@HTTPS@/f/black.txt", "plain", ""),
		   SRC("white", "@HTTPS@/f/white.txt", "plain", "list = \"white\";"), NULL);
	ls_ok("run");
	expect_map("sync_black_host4", 2);
	expect_map("sync_black_net4", 2);
	expect_map("sync_black_host6", 2);
	expect_map("sync_black_net6", 1);
	expect_map("sync_white_host4", 1);
	expect_map("sync_white_net4", 1);
	expect_map("sync_white_host6", 1);
	expect_map("sync_white_net6", 0);
	expect_map("black_host4", 0); /* the admin's maps */
	expect_map("black_net4", 0);
	expect_map("white_host4", 0);
	expect_entries(1, NULL,
		       "black 192.0.2.66 drop black\n"
		       "black 192.0.2.77 drop black\n"
		       "black 198.51.100.0/24 drop black\n"
		       "black 203.0.113.0/25 drop black\n"
		       "black 2001:db8::66 drop black\n"
		       "black 2001:db8::77 drop black\n"
		       "black 2001:db8:bad::/48 drop black\n"
		       "white 192.0.2.10 pass white\n"
		       "white 203.0.113.0/28 pass white\n"
		       "white 2001:db8::10 pass white\n");
}

/* Same action: a duplicate and a covered prefix go, whichever source has the
 * covering one. */
Test(listsync, merge_duplicates_and_covered_prefixes)
{
	struct run r;

	www_put("a.txt", "198.51.100.0/24\n203.0.113.9\n203.0.113.0/25\n");
	www_put("b.txt", "198.51.100.0/25\n203.0.113.9\n203.0.113.0/24\n");
	conf_write(NULL, SRC("a", "@HTTPS@/f/a.txt", "plain", ""),
		   SRC("b", "@HTTPS@/f/b.txt", "plain", ""), NULL);
	ls_expect(&r, 0, "run");
	expect_text(&r, 0, "4 merged away", 1, "merging");
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 198.51.100.0/24 drop a\n"
		       "black 203.0.113.0/24 drop b\n");
	expect_map("sync_black_net4", 2);
	expect_map("sync_black_host4", 0);
}

/* Different actions: the longer prefix still means something. */
Test(listsync, covered_prefix_with_other_action_kept)
{
	www_put("a.txt", "198.51.100.0/24\n");
	www_put("b.txt", "198.51.100.0/25\n");
	conf_write(NULL, SRC("a", "@HTTPS@/f/a.txt", "plain", ""),
		   SRC("b", "@HTTPS@/f/b.txt", "plain", "action = \"reset\";"), NULL);
	ls_ok("run");
	expect_entries(1, NULL,
		       "black 198.51.100.0/24 drop a\n"
		       "black 198.51.100.0/25 reset b\n");
	expect_map("sync_black_net4", 2);
}

/* firehol_level1 lists 10.0.0.0/8; an admin's whitelisted 10.1.2.3 must stay,
 * whatever the order the sources are configured or arrive in. */
struct order_case {
	char name[32];
	int white_first; /* in the configuration */
	int white_late;	 /* the whitelist fails on the first run, arrives on the next */
};

static const struct order_case order_cases[] = {
	{ "white_first", 1, 0 },
	{ "black_first", 0, 0 },
	{ "white_arrives_later", 0, 1 },
	{ "white_first_arrives_later", 1, 1 },
};

ParameterizedTestParameters(listsync, whitelist_beats_firehol)
{
	return cr_make_param_array(struct order_case, order_cases,
				   sizeof(order_cases) / sizeof(order_cases[0]));
}

ParameterizedTest(const struct order_case *c, listsync, whitelist_beats_firehol)
{
	const char *white = SRC("admin-white", "@HTTPS@/x/white.txt", "plain", "list = \"white\";");
	const char *black = SRC("firehol_level1", "@HTTPS@/f/firehol_level1.netset", "netset", "");
	struct run r;

	www_put("white.txt", "# our own mail relays\n10.1.2.3\n");
	conf_write(NULL, c->white_first ? white : black, c->white_first ? black : white, NULL);
	if (c->white_late) {
		www_put("white.txt.mode", "status 503\n");
		ls_expect(&r, 1, "run");
		tenv_run_free(&r);
		expect_entries(1, "admin-white", "");
		www_remove("white.txt.mode");
	}
	ls_ok("run --force");
	expect_entries(1, NULL,
		       "white 10.1.2.3 pass admin-white\n"
		       "black 10.0.0.0/8 drop firehol_level1\n"
		       "black 192.0.2.66 drop firehol_level1\n"
		       "black 198.51.100.0/24 drop firehol_level1\n"
		       "black 203.0.113.0/25 drop firehol_level1\n");
	expect_map("sync_white_host4", 1);
	expect_map("sync_black_net4", 3);
}

/* ---- a refresh worked out from the sources' keys ---- */

/* Three file:// sources over one /22 of hosts, with subnets that merge some
 * of them away (same verdict) and keep others (another verdict). */
#define EQ_POOL 1024
#define EQ_NSRC 3

static const char *const eq_names[EQ_NSRC] = { "eq-white", "eq-drop", "eq-reset" };
static const char *const eq_subnets[EQ_NSRC] = { "10.9.3.0/26\n", "10.9.1.0/24\n",
						 "10.9.2.0/25\n10.9.1.128/25\n" };

static void eq_write(int k, const unsigned char *in, const char *subnets)
{
	char path[PATH_MAX], *text = malloc(EQ_POOL * 16 + 256);
	size_t o = 0;
	int i;

	o += (size_t)sprintf(text + o, "# source %d\n%s", k, subnets);
	for (i = 0; i < EQ_POOL; i++)
		if (in[i])
			o += (size_t)sprintf(text + o, "10.9.%d.%d\n", i / 256, i % 256);
	snprintf(path, sizeof(path), "%s/eq%d.txt", www, k);
	write_file(path, text, o);
	free(text);
}

/* The lines only one of the sorted texts has, into msg. */
static void eq_diff(const char *a, const char *b, int round)
{
	size_t o = (size_t)snprintf(msg, sizeof(msg), "round %d: refreshed and rebuilt differ:\n",
				    round);

	while ((*a || *b) && o < sizeof(msg) - 200) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		int c = !*a ? 1 : !*b ? -1 : strncmp(a, b, la < lb ? lb : la);

		if (c < 0)
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "refreshed only: %.*s\n",
					      (int)la, a);
		if (c > 0)
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "rebuilt only: %.*s\n",
					      (int)lb, b);
		if (c <= 0)
			a += la + (a[la] == '\n');
		if (c >= 0)
			b += lb + (b[lb] == '\n');
	}
}

/* The live IPv4 host table, mapped read-only into *t (me_tab_unmap, then
 * close the fd returned). */
static int live_host4(struct me_tabmap *t)
{
	struct me_config cfg;
	struct me_edge e;
	const char *what = "";
	__u32 zero = 0;
	int fd;

	me_edge_init(&e);
	cr_assert_eq(me_edge_open(&e, tenv_pin_dir(), &what), 0, "opening the maps (%s)", what);
	cr_assert_eq(bpf_map_lookup_elem(e.fd[ME_M_CONFIG], &zero, &cfg), 0);
	fd = me_sync_inner_fd(&e, ME_M_SYNC_HOST4, cfg.sync_gen & 1);
	me_edge_close(&e);
	cr_assert_geq(fd, 0, "the live IPv4 host table");
	cr_assert_eq(me_tab_map(fd, 0, t), 0, "mapping the IPv4 host table");
	return fd;
}

/* Both generations' bits agree in every bucket of the live IPv4 host table:
 * after a refresh in place, which settles only the buckets it wrote, as after
 * a rebuild. */
static void expect_settled(int round)
{
	struct me_tabmap t;
	int fd = live_host4(&t);
	__u32 b, vis;

	cr_assert_eq(t.h->settled, ME_TAB_SETTLED, "round %d: the table is not marked settled",
		     round);
	for (b = 0; b < t.h->nbuckets; b++) {
		vis = ((const struct me_hb4 *)me_tab_elem(&t, t.h->base + b))->vis;
		cr_assert_eq(vis & 0xffffu, vis >> ME_VIS_SHIFT,
			     "round %d: bucket %u unsettled (vis %#x)", round, b, vis);
	}
	me_tab_unmap(&t);
	close(fd);
}

/*
 * Random hosts come and go in one, two or all three sources, round after
 * round; each refresh must be worked out from the keys (the output says so)
 * and leave exactly the entries a rebuild from the merged union then writes.
 * One round changes a subnet too: that one merges the union, and must agree
 * as well.
 */
Test(listsync, refresh_from_keys_matches_rebuild)
{
	static unsigned char in[EQ_NSRC][EQ_POOL];
	char src[EQ_NSRC][512], *after, *rebuilt;
	unsigned int seed = 20261205;
	long long nb, nw;
	struct run r;
	int round, k, i;

	for (k = 0; k < EQ_NSRC; k++) {
		for (i = 0; i < EQ_POOL; i++)
			in[k][i] = rand_r(&seed) % 3 == 0;
		eq_write(k, in[k], eq_subnets[k]);
		snprintf(src[k], sizeof(src[k]),
			 "  { name = \"%s\"; url = \"file://%s/eq%d.txt\"; format = \"plain\"; "
			 "%s }",
			 eq_names[k], www, k,
			 k == 0 ? "list = \"white\";" : k == 1 ? "" : "action = \"reset\";");
	}
	conf_write(NULL, src[0], src[1], src[2], NULL);
	ls_ok("run");
	for (round = 0; round < 6; round++) {
		int subnet_round = round == 4;
		const char *subnets2 = round >= 4 ? "10.9.2.0/26\n10.9.0.0/25\n" : eq_subnets[2];

		for (k = 0; k < EQ_NSRC; k++) {
			/* Round 0 changes one source, round 1 two, then all. */
			if (round < 2 && k > round)
				continue;
			for (i = 0; i < 40; i++) {
				int a = rand_r(&seed) % EQ_POOL;

				in[k][a] = !in[k][a];
			}
			eq_write(k, in[k], k == 2 ? subnets2 : eq_subnets[k]);
		}
		ls_expect(&r, 0, "run");
		snprintf(msg, sizeof(msg), "round %d", round);
		expect_text(&r, 0, "changed in place from the sources' keys", !subnet_round, msg);
		tenv_run_free(&r);
		expect_settled(round);
		/* A second refresh in place on the same table, from the other
		 * generation: it starts from what the first one settled. */
		for (k = 0; k < EQ_NSRC && !subnet_round; k++) {
			for (i = 0; i < 10; i++) {
				int a = rand_r(&seed) % EQ_POOL;

				in[k][a] = !in[k][a];
			}
			eq_write(k, in[k], k == 2 ? subnets2 : eq_subnets[k]);
		}
		if (!subnet_round) {
			ls_expect(&r, 0, "run");
			expect_text(&r, 0, "changed in place from the sources' keys", 1, msg);
			tenv_run_free(&r);
			expect_settled(round);
		}
		after = entries(1, NULL);
		/* The tables' own counts, kept as the refresh went, are the
		 * rebuild's count of its hosts. */
		nb = map_entries("sync_black_host4");
		nw = map_entries("sync_white_host4");
		ls_ok("run --rebuild");
		rebuilt = entries(1, NULL);
		cr_assert(nb == map_entries("sync_black_host4") &&
			      nw == map_entries("sync_white_host4"),
			  "round %d: host counts %lld/%lld after the refresh, %lld/%lld rebuilt",
			  round, nb, nw, map_entries("sync_black_host4"),
			  map_entries("sync_white_host4"));
		eq_diff(after, rebuilt, round);
		cr_assert(!strcmp(after, rebuilt), "%s", msg);
		cr_assert(strstr(after, "eq-white") && strstr(after, "eq-drop") &&
			      strstr(after, "eq-reset"),
			  "round %d: a source has no entries:\n%s", round, after);
		free(after);
		free(rebuilt);
	}
	/* Nothing changed since: nothing applied. */
	ls_expect(&r, 0, "run");
	expect_text(&r, 0, "unchanged; maps left as they are", 1, "a run with the same files");
	tenv_run_free(&r);
}

/* A file of n hosts 10.7.x.y into www/NAME. */
static void hosts_file(const char *name, int n)
{
	char path[PATH_MAX], *text = malloc((size_t)n * 16 + 1);
	size_t o = 0;
	int i;

	for (i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "10.7.%d.%d\n", i / 256, i % 256);
	snprintf(path, sizeof(path), "%s/%s", www, name);
	write_file(path, text, o);
	free(text);
}

/*
 * n addresses of 10.192.0.0/12 whose two buckets in the live IPv4 host table
 * are the same two empty ones, as dotted quads in out. The table must hold
 * fewer hosts than it has buckets less one: the hash spreads runs of
 * addresses evenly (a multiplicative hash), so a table holding more than
 * that may have no empty bucket at all.
 */
static void crowd_one_bucket_pair(char (*out)[16], int n)
{
	__u32 x = UINT32_MAX, y = UINT32_MAX, b, a, key, b1, b2;
	struct me_tabmap t;
	int fd = live_host4(&t), found = 0;
	__u64 h;

	for (b = 0; b < t.h->nbuckets && y == UINT32_MAX; b++)
		if (!((const struct me_hb4 *)me_tab_elem(&t, t.h->base + b))->vis) {
			if (x == UINT32_MAX)
				x = b;
			else
				y = b;
		}
	cr_assert_neq(y, UINT32_MAX, "two empty buckets among %u", t.h->nbuckets);
	for (a = 0; a < (1u << 20) && found < n; a++) {
		key = htonl(0x0ac00000u | a); /* keys are in network order */
		h = me_tab_hash4(key, t.h->seed);
		b1 = me_tab_bucket1(h, t.h->nbuckets);
		b2 = me_tab_bucket2(h, t.h->nbuckets);
		if ((b1 == x && b2 == y) || (b1 == y && b2 == x))
			snprintf(out[found++], 16, "10.%u.%u.%u", 192 + (a >> 16), (a >> 8) & 255,
				 a & 255);
	}
	me_tab_unmap(&t);
	close(fd);
	cr_assert_eq(found, n, "addresses for buckets %u and %u: got %d, want %d", x, y, found, n);
}

/* Hosts of the first copy: fewer than the 112 buckets of a --hosts 1024
 * table, so at least 12 buckets are empty whatever the seed. */
#define FEW 100

/*
 * A refresh small enough to work out from the keys that the host table cannot
 * take in place: 25 new hosts whose two buckets are the same two (empty) ones,
 * which hold 24, and none of whose neighbours can move (they are all new).
 * The run falls back to merging the union, and that must still hold the
 * fetched copy's entries (the fallback once merged a source whose entries
 * were already freed, and emptied its lists). A table's size is fixed by
 * --hosts and all of it is used, so no honest list outgrows one in place:
 * a crowd in one pair of buckets is what is left of the fallback.
 */
Test(listsync, refresh_without_room_merges_the_fetched_copy)
{
	char crowd[25][16], path[PATH_MAX], *text;
	struct run r;
	char src[512];
	size_t o;
	int i;

	snprintf(src, sizeof(src), "  { name = \"grow\"; url = \"file://%s/grow.txt\"; "
		 "format = \"plain\"; max_shrink = 100; }", www);
	hosts_file("grow.txt", FEW);
	conf_write(NULL, src, NULL);
	ls_ok("run");
	expect_map("sync_black_host4", FEW);
	crowd_one_bucket_pair(crowd, 25);
	text = malloc(FEW * 16 + 25 * 16 + 1);
	cr_assert_not_null(text);
	for (o = 0, i = 0; i < FEW; i++)
		o += (size_t)sprintf(text + o, "10.7.%d.%d\n", i / 256, i % 256);
	for (i = 0; i < 25; i++)
		o += (size_t)sprintf(text + o, "%s\n", crowd[i]);
	snprintf(path, sizeof(path), "%s/grow.txt", www);
	write_file(path, text, o);
	free(text);
	ls_expect(&r, 0, "-v run");
	expect_text(&r, 1, "no room in place for an IPv4 host", 1, "25 hosts for 24 slots");
	expect_text(&r, 1, "merging the union", 1, "25 hosts for 24 slots");
	tenv_run_free(&r);
	expect_map("sync_black_host4", FEW + 25);
	/* And back down by the keys, on the table the merge built. */
	hosts_file("grow.txt", FEW - 10);
	ls_expect(&r, 0, "-v run");
	expect_text(&r, 0, "changed in place from the sources' keys", 1, "a 35-host shrink");
	/* -v says where the time went, and through which mapping the table
	 * was written (the one made at the start and written ahead). */
	expect_text(&r, 1, "source grow: ", 1, "a 35-host shrink, -v");
	expect_text(&r, 1, "fetched in", 1, "a 35-host shrink, -v");
	expect_text(&r, 1, "copies saved", 1, "a 35-host shrink, -v");
	expect_text(&r, 1, "IPv4 hosts written through the mapping made at the start", 1,
		    "a 35-host shrink, -v");
	tenv_run_free(&r);
	expect_map("sync_black_host4", FEW - 10);
}

/* A list of len bytes (comments, then hosts), seed varying the hosts. */
static void big_list(const char *path, size_t len, int seed)
{
	char *text = malloc(len);
	size_t o = 0;
	int i = 0;

	cr_assert_not_null(text);
	while (o + 64 < len - 300)
		o += (size_t)sprintf(text + o, "# padding line %d of a list over a megabyte\n", i++);
	for (i = 0; o + 16 < len; i++)
		o += (size_t)sprintf(text + o, "10.8.%d.%d\n", seed, i);
	while (o < len)
		text[o++] = '\n';
	write_file(path, text, len);
	free(text);
}

/*
 * A copy over a megabyte is written around the page cache (O_DIRECT, its
 * page-aligned head, then the rest), and the copy it replaces is unlinked
 * beside the apply: the saved copy must be the download byte for byte, an
 * odd length included, and no second name may stay behind.
 */
Test(listsync, big_copy_saved_byte_for_byte)
{
	char src[512], list[PATH_MAX], copy[PATH_MAX], old[PATH_MAX];
	size_t la, lb, sizes[2] = { (3u << 19) + 1237, (3u << 19) + 4096 * 3 };
	char *a, *b;
	int round;

	snprintf(src, sizeof(src), "  { name = \"big\"; url = \"file://%s/big.txt\"; "
		 "format = \"plain\"; max_shrink = 100; }", www);
	conf_write(NULL, src, NULL);
	snprintf(list, sizeof(list), "%s/big.txt", www);
	snprintf(copy, sizeof(copy), "%s/sources/big.data", state_dir);
	snprintf(old, sizeof(old), "%s/sources/.big.data.old", state_dir);
	for (round = 0; round < 2; round++) {
		big_list(list, sizes[round], round + 1);
		ls_ok("run");
		a = pl_read_file(list);
		b = pl_read_file(copy);
		cr_assert(a && b, "round %d: reading %s and %s", round, list, copy);
		la = strlen(a); /* text: no NUL in either */
		lb = strlen(b);
		cr_assert_eq(lb, la, "round %d: the copy has %zu bytes, the download %zu", round,
			     lb, la);
		cr_assert(!memcmp(a, b, la), "round %d: the copy differs from the download",
			  round);
		free(a);
		free(b);
		cr_assert(access(old, F_OK) && errno == ENOENT,
			  "round %d: %s is still there after the run", round, old);
	}
}

/* ---- the admin's own entries ---- */

Test(listsync, manual_entries_untouched)
{
	const char *manual = "black 192.0.2.99 drop manual\n"
			     "black 203.0.113.0/24 reset manual\n"
			     "white 198.51.100.7 pass manual\n";

	loader_expect(0, "list add black 192.0.2.99");
	loader_expect(0, "list add black 203.0.113.0/24 --action reset");
	loader_expect(0, "list add white 198.51.100.7");
	www_put("list.txt", "192.0.2.99\n203.0.113.0/24\n198.51.100.7\n192.0.2.1\n");
	conf_write(NULL, SRC("public", "@HTTPS@/f/list.txt", "plain", ""), NULL);
	ls_ok("run");
	expect_entries(0, NULL, manual);
	expect_entries(1, NULL,
		       "black 192.0.2.1 drop public\n"
		       "black 192.0.2.99 drop public\n"
		       "black 198.51.100.7 drop public\n"
		       "black 203.0.113.0/24 drop public\n");

	/* The list drops the prefixes the admin also has: only the synced
	 * copies go. */
	www_put("list.txt", "192.0.2.1\n192.0.2.2\n192.0.2.3\n");
	ls_ok("run --force");
	expect_entries(0, NULL, manual);
	expect_entries(1, NULL,
		       "black 192.0.2.1 drop public\n"
		       "black 192.0.2.2 drop public\n"
		       "black 192.0.2.3 drop public\n");
	expect_map("black_host4", 1);
	expect_map("black_net4", 1);
	expect_map("white_host4", 1);

	/* And the other way round: flushing the admin's entries leaves the
	 * synced ones. */
	loader_expect(0, "list flush all");
	expect_entries(0, NULL, "");
	expect_entries(1, NULL,
		       "black 192.0.2.1 drop public\n"
		       "black 192.0.2.2 drop public\n"
		       "black 192.0.2.3 drop public\n");
}

/* ---- runs at once ---- */

/* The file tmp/name into buf (at most len - 1 bytes, NUL-terminated); "" if it
 * cannot be read. */
static void read_into(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		buf[fread(buf, 1, len - 1, f)] = '\0';
		fclose(f);
	}
}

/* Start two runs at once; returns their statuses and output. */
static void two_runs(int *s1, int *s2, char *err1, char *err2, size_t len)
{
	struct run r;

	tenv_run(&r,
		 "cd %s; B=%s; $B -c %s run --force >o1 2>e1 & p1=$!; "
		 "$B -c %s run --force >o2 2>e2 & p2=$!; wait $p1; s1=$?; wait $p2; s2=$?; "
		 "echo $s1 $s2",
		 tmp, tenv_bin("mailedge-listsync"), conf_path, conf_path);
	cr_assert(r.status == 0 && sscanf(r.out, "%d %d", s1, s2) == 2,
		  "two runs: got status %d, output '%s', want two exit statuses", r.status, r.out);
	tenv_run_free(&r);
	read_into("e1", err1, len);
	read_into("e2", err2, len);
}

#define LOCK_MSG "another mailedge-listsync run holds"

static void expect_union_after_race(int current)
{
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop a\n"
		       "black 198.51.100.0/24 drop a\n"
		       "black 203.0.113.0/24 drop a\n"
		       "black 2001:db8:bad::/48 drop b\n"
		       "black 2001:db8:dead::/48 drop b\n");
	if (current) {
		expect_current("a");
		expect_current("b");
	}
}

/* With the default lock_timeout the second run waits for the first. */
Test(listsync, concurrent_runs_wait_for_the_lock)
{
	char e1[4096], e2[4096];
	int s1, s2;

	conf_write(NULL, SRC("a", "@HTTPS@/delay/drop.txt", "spamhaus-text", ""),
		   SRC("b", "@HTTPS@/f/drop_v6.json", "spamhaus-json", ""), NULL);
	two_runs(&s1, &s2, e1, e2, sizeof(e1));
	cr_assert((s1 == 0 || (s1 == 2 && contains(e1, LOCK_MSG))) &&
		      (s2 == 0 || (s2 == 2 && contains(e2, LOCK_MSG))) && (s1 == 0 || s2 == 0),
		  "two runs at once: got %d (stderr '%s') and %d (stderr '%s'), want 0 or 2 "
		  "with '" LOCK_MSG "' each, and one 0",
		  s1, e1, s2, e2);
	expect_union_after_race(1);
	/* And the state they left is sound: a third run is content. */
	ls_ok("run");
	expect_union_after_race(0);
	expect_result("a", "not due", 0);
}

/* With lock_timeout 0 the second run gives up at once, saying why. */
Test(listsync, concurrent_runs_second_reports_lock)
{
	char e1[4096], e2[4096];
	int s1, s2;

	conf_write("ca_file = \"@CA@\"; connect_timeout = \"3s\"; timeout = \"10s\"; "
		   "lock_timeout = 0;",
		   SRC("a", "@HTTPS@/delay/drop.txt", "spamhaus-text", ""),
		   SRC("b", "@HTTPS@/f/drop_v6.json", "spamhaus-json", ""), NULL);
	two_runs(&s1, &s2, e1, e2, sizeof(e1));
	cr_assert((s1 == 0 && s2 == 2 && contains(e2, LOCK_MSG)) ||
		      (s2 == 0 && s1 == 2 && contains(e1, LOCK_MSG)),
		  "two runs at once, lock_timeout 0: got %d (stderr '%s') and %d (stderr '%s'), "
		  "want one 0 and one 2 saying '" LOCK_MSG "'",
		  s1, e1, s2, e2);
	expect_union_after_race(1);
}

/* ---- command line ---- */

Test(listsync, one_off_source_without_config)
{
	struct run r;
	char args[1024], x[1024];

	if (!access("/etc/mailedge/listsync.conf", F_OK))
		cr_skip_test("/etc/mailedge/listsync.conf exists: the default is not missing here");
	snprintf(args, sizeof(args),
		 "--pin-dir %s --state-dir %s run --source plain:@HTTP@/f/plain.txt "
		 "--source white:plain:@HTTP@/f/white.txt",
		 tenv_pin_dir(), state_dir);
	www_put("white.txt", "203.0.113.7\n");
	expand(args, x, sizeof(x));
	tenv_run(&r, "%s %s", tenv_bin("mailedge-listsync"), x);
	check_status(&r, 0, "mailedge-listsync run --source ... without -c");
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 192.0.2.66 drop plain.txt\n"
		       "black 192.0.2.67 drop plain.txt\n"
		       "black 192.0.2.70 drop plain.txt\n"
		       "black 198.51.100.0/24 drop plain.txt\n"
		       "black 203.0.113.128/25 drop plain.txt\n"
		       "black 2001:db8:66::1 drop plain.txt\n"
		       "black 2001:db8:bad::/48 drop plain.txt\n"
		       "white 203.0.113.7 pass white.txt\n");
	expect_result("plain.txt", "fetched", 0);
}

Test(listsync, dry_run_leaves_maps_untouched)
{
	struct run r;

	/* Never synced: a dry run shows what would happen and changes nothing. */
	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	ls_expect(&r, 0, "run --dry-run");
	expect_row(&r, "drop", "fetched", "+3 -0");
	expect_text(&r, 0, "dry run, maps untouched", 1, "run --dry-run");
	tenv_run_free(&r);
	expect_entries(1, NULL, "");
	ls_ok("run");
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");

	/* A changed list, dry run: the maps keep the applied union. */
	www_put("drop.txt", "198.51.100.0/24 ; SBL000302\n203.0.113.0/24 ; SBL000303\n"
			    "203.0.113.77/32 ; SBL000304\n; EOF\n");
	ls_expect(&r, 0, "run --dry-run --force");
	expect_row(&r, "drop", "fetched", NULL);
	expect_text(&r, 0, "dry run, maps untouched", 1, "run --dry-run --force");
	tenv_run_free(&r);
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
	expect_result("drop", "fetched", 0);

	/* The dry run did not save the download as the last good copy either. */
	ls_ok("run --force");
	expect_entries(1, NULL,
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");
}

/* ---- run --dry-run: the diff ---- */

/* The lines of text that start with prefix (e.g. "+ ", "- ", "diff:"),
 * sorted, into buf. */
static void lines_starting(const char *text, const char *prefix, char *buf, size_t len)
{
	char *all = malloc(strlen(text ? text : "") + 1), *sorted;
	const char *p = text ? text : "";
	size_t o = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, prefix, strlen(prefix))) {
			memcpy(all + o, p, n);
			o += n;
			all[o++] = '\n';
		}
		p += n + (p[n] == '\n');
	}
	all[o] = '\0';
	sorted = sort_lines(all);
	snprintf(buf, len, "%s", sorted);
	free(sorted);
	free(all);
}

/* A dry run's '+' and '-' lines must be exactly want (any order), and its
 * summary line summary. */
static void expect_diff(struct run *r, const char *want, const char *summary, const char *what)
{
	char got[4096], gotsum[512], *w = sort_lines(want);
	int same;

	lines_starting(r->out, "+ ", got, sizeof(got));
	lines_starting(r->out, "- ", got + strlen(got), sizeof(got) - strlen(got));
	{
		char *s = sort_lines(got);

		snprintf(got, sizeof(got), "%s", s);
		free(s);
	}
	lines_starting(r->out, "diff:", gotsum, sizeof(gotsum));
	same = !strcmp(got, w) && !strncmp(gotsum, summary, strlen(summary)) &&
	       gotsum[strlen(summary)] == '\n';
	snprintf(msg, sizeof(msg),
		 "%s: got diff lines\n%s(end) and summary '%s', want\n%s(end) and '%s'\n"
		 "--- stdout:\n%s",
		 what, got, gotsum, w, summary, r->out ? r->out : "");
	free(w);
	if (!same) {
		tenv_run_free(r);
		cr_assert_fail("%s", msg);
	}
}

/* Suite listsync_nomaps: a publisher, but no maps at all (no loader init). */
static void setup_nomaps(void)
{
	setup_with(NEED_SERVER);
}

TestSuite(listsync_nomaps, .init = setup_nomaps, .fini = teardown, .timeout = 30);

Test(listsync_nomaps, dry_run_before_any_map)
{
	struct run r;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""),
		   SRC("white", "@HTTPS@/f/white.txt", "plain", "list = \"white\";"), NULL);
	www_put("white.txt", "203.0.113.7\n");
	ls_expect(&r, 0, "run --dry-run");
	expect_diff(&r,
		    "+ black 192.0.2.128/25 drop source=drop\n"
		    "+ black 198.51.100.0/24 drop source=drop\n"
		    "+ black 203.0.113.0/24 drop source=drop\n"
		    "+ white 203.0.113.7 pass source=white\n",
		    "diff: black +3 -0, white +1 -0", "run --dry-run without maps");
	expect_text(&r, 1, "every entry would be added", 1, "run --dry-run without maps");
	tenv_run_free(&r);
	/* Nothing written: no state directory, no maps. */
	cr_assert(access(state_dir, F_OK) && errno == ENOENT,
		  "state directory %s after a dry run: got it (or %s), want it absent", state_dir,
		  strerror(errno));
	cr_assert(access(tenv_pin_dir(), F_OK) && errno == ENOENT,
		  "pin directory %s after a dry run: got it (or %s), want it absent",
		  tenv_pin_dir(), strerror(errno));
}

Test(listsync, dry_run_prints_the_diff)
{
	char before[4096], after[4096];
	struct run r;

	conf_write(NULL, SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	ls_ok("run");

	/* Unchanged: an empty diff. */
	ls_expect(&r, 0, "run --dry-run --force");
	expect_diff(&r, "", "diff: black +0 -0, white +0 -0", "unchanged refresh");
	tenv_run_free(&r);

	/* Changed: one prefix goes, one host comes, a new whitelist source adds
	 * one, and a second blacklist takes a prefix over with another action. */
	www_put("drop.txt", "198.51.100.0/24 ; SBL000302\n203.0.113.0/24 ; SBL000303\n"
			    "192.0.2.77/32 ; SBL000304\n; EOF\n");
	www_put("white.txt", "192.0.2.7\n");
	www_put("reset.txt", "198.51.100.0/24\n");
	conf_write(NULL, SRC("reset", "@HTTPS@/f/reset.txt", "plain", "action = \"reset\";"),
		   SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""),
		   SRC("white", "@HTTPS@/f/white.txt", "plain", "list = \"white\";"), NULL);
	read_into("state/sources/drop.json", before, sizeof(before));
	ls_expect(&r, 0, "run --dry-run --force");
	expect_diff(&r,
		    "- black 192.0.2.128/25 drop source=drop\n"
		    "+ black 192.0.2.77 drop source=drop\n"
		    "- black 198.51.100.0/24 drop source=drop\n"
		    "+ black 198.51.100.0/24 reset source=reset\n"
		    "+ white 192.0.2.7 pass source=white\n",
		    "diff: black +2 -2, white +1 -0", "changed lists");
	tenv_run_free(&r);
	read_into("state/sources/drop.json", after, sizeof(after));
	cr_assert_str_eq(after, before, "sources/drop.json after a dry run: got\n%s\nwant\n%s",
			 after, before);
	snprintf(before, sizeof(before), "%s/sources/white.json", state_dir);
	cr_assert(access(before, F_OK) && errno == ENOENT,
		  "%s after a dry run: got it, want it absent", before);
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");

	/* The real run does what the dry run said; then the diff is empty. */
	ls_ok("run --force");
	expect_entries(1, NULL,
		       "black 192.0.2.77 drop drop\n"
		       "black 198.51.100.0/24 reset reset\n"
		       "black 203.0.113.0/24 drop drop\n"
		       "white 192.0.2.7 pass white\n");
	ls_expect(&r, 0, "run --dry-run --force");
	expect_diff(&r, "", "diff: black +0 -0, white +0 -0", "after applying");
	tenv_run_free(&r);
}

/* ---- metrics_file ---- */

/* The value of the sample line that starts with "name " in the metrics file,
 * as text; "" when there is none. */
static void metric(const char *text, const char *name, char *val, size_t len)
{
	char want[256];
	const char *p = text;

	snprintf(want, sizeof(want), "%s ", name);
	val[0] = '\0';
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, want, strlen(want))) {
			snprintf(val, len, "%.*s", (int)(n - strlen(want)), p + strlen(want));
			return;
		}
		p += n + (p[n] == '\n');
	}
}

static void expect_metric(const char *text, const char *name, const char *want)
{
	char got[64];

	metric(text, name, got, sizeof(got));
	cr_assert_str_eq(got, want, "metrics: %s: got '%s', want '%s'\n--- file:\n%s", name, got,
			 want, text);
}

/* A metric's value as a number, which must be present. */
static double metric_num(const char *text, const char *name)
{
	char got[64], *end;
	double v;

	metric(text, name, got, sizeof(got));
	v = strtod(got, &end);
	cr_assert(got[0] && !*end, "metrics: %s: got '%s', want a number\n--- file:\n%s", name,
		  got, text);
	return v;
}

Test(listsync, metrics_file_after_every_run)
{
	char text[8192], path[256], globals[512], val[64];
	double now = (double)time(NULL), t;
	struct stat sb;
	struct run r;

	snprintf(path, sizeof(path), "%s/listsync.prom", tmp);
	snprintf(globals, sizeof(globals), DEFAULT_GLOBALS " metrics_file = \"%s\";", path);
	conf_write(globals, SRC("drop", "@HTTPS@/x/drop.txt", "spamhaus-text", ""),
		   SRC("never", "@HTTPS@/status/500", "plain", ""), NULL);

	/* drop fetched, never failing: the run is not a success. */
	ls_expect(&r, 1, "run");
	tenv_run_free(&r);
	read_into("listsync.prom", text, sizeof(text));
	expect_metric(text, "mailedge_listsync_source_entries{source=\"drop\"}", "3");
	expect_metric(text, "mailedge_listsync_source_entries{source=\"never\"}", "0");
	expect_metric(text, "mailedge_listsync_source_failures_total{source=\"drop\"}", "0");
	expect_metric(text, "mailedge_listsync_source_failures_total{source=\"never\"}", "1");
	expect_metric(text, "mailedge_listsync_source_age_seconds{source=\"never\"}", "+Inf");
	expect_metric(text, "mailedge_listsync_source_last_success_timestamp_seconds"
			    "{source=\"never\"}", "0");
	expect_metric(text, "mailedge_listsync_last_run_success", "0");
	t = metric_num(text, "mailedge_listsync_source_last_success_timestamp_seconds"
			     "{source=\"drop\"}");
	cr_assert(t >= now - 1 && t <= now + 30, "drop last success: got %.0f, want about %.0f", t,
		  now);
	t = metric_num(text, "mailedge_listsync_source_age_seconds{source=\"drop\"}");
	cr_assert(t >= 0 && t <= 30, "drop age: got %.0f s, want 0-30", t);
	t = metric_num(text, "mailedge_listsync_last_run_timestamp_seconds");
	cr_assert(t >= now - 1 && t <= now + 30, "last run: got %.3f, want about %.0f", t, now);
	t = metric_num(text, "mailedge_listsync_run_duration_seconds");
	cr_assert(t > 0 && t < 30, "run duration: got %.3f s, want 0-30", t);
	cr_assert_eq(stat(path, &sb), 0, "stat %s: %s", path, strerror(errno));
	cr_assert_eq(sb.st_mode & 0777, 0644, "mode of %s: got %o, want 644", path,
		     sb.st_mode & 0777);

	/* Only good sources: success. */
	conf_write(globals, SRC("drop", "@HTTPS@/x/drop.txt", "spamhaus-text", ""), NULL);
	ls_ok("run --force");
	read_into("listsync.prom", text, sizeof(text));
	expect_metric(text, "mailedge_listsync_last_run_success", "1");
	metric(text, "mailedge_listsync_source_entries{source=\"never\"}", val, sizeof(val));
	cr_assert_str_eq(val, "", "a source no longer configured is still in the metrics:\n%s",
			 text);

	/* drop fails twice: the counter counts on across runs, the entries stay. */
	www_put("drop.txt.mode", "status 500\n");
	ls_expect(&r, 1, "run --force");
	tenv_run_free(&r);
	ls_expect(&r, 1, "run --force");
	tenv_run_free(&r);
	read_into("listsync.prom", text, sizeof(text));
	expect_metric(text, "mailedge_listsync_source_failures_total{source=\"drop\"}", "2");
	expect_metric(text, "mailedge_listsync_source_entries{source=\"drop\"}", "3");
	expect_metric(text, "mailedge_listsync_last_run_success", "0");

	/* A run that fails before fetching (no maps there) still writes them,
	 * from the saved state. */
	unlink(path);
	ls_expect(&r, 2, "--pin-dir /sys/fs/bpf/mailedge-test-none run");
	tenv_run_free(&r);
	read_into("listsync.prom", text, sizeof(text));
	expect_metric(text, "mailedge_listsync_last_run_success", "0");
	expect_metric(text, "mailedge_listsync_source_entries{source=\"drop\"}", "3");
	expect_metric(text, "mailedge_listsync_source_failures_total{source=\"drop\"}", "2");

	/* A dry run leaves them alone. */
	unlink(path);
	ls_expect(&r, 1, "run --dry-run --force");
	tenv_run_free(&r);
	cr_assert(access(path, F_OK) && errno == ENOENT, "a dry run wrote %s", path);
}

/* ---- run --daemon and SIGHUP ---- */

static pid_t daemon_pid = -1;

/* Stop the daemon (if any); returns its wait status. */
static int daemon_stop(void)
{
	int st = -1, k;

	if (daemon_pid <= 0)
		return -1;
	kill(daemon_pid, SIGTERM);
	for (k = 0; k < 100 && waitpid(daemon_pid, &st, WNOHANG) == 0; k++)
		usleep(100 * 1000);
	if (k == 100) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, &st, 0);
	}
	daemon_pid = -1;
	return st;
}

static void teardown_daemon(void)
{
	daemon_stop();
	teardown();
}

TestSuite(listsync_daemon, .init = setup_sync, .fini = teardown_daemon, .timeout = 60);

/* Wait up to ms for the file tmp/name to contain needle; its text in buf. */
static int wait_for(const char *name, const char *needle, char *buf, size_t len, int ms)
{
	int waited;

	for (waited = 0;; waited += 50) {
		read_into(name, buf, len);
		if (strstr(buf, needle))
			return 1;
		if (waited >= ms)
			return 0;
		usleep(50 * 1000);
	}
}

/* How many times needle occurs in text. */
static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)); text++)
		n++;
	return n;
}

/* Wait up to ms for needle to occur n times in tmp/name. */
static int wait_count(const char *name, const char *needle, int n, char *buf, size_t len, int ms)
{
	int waited;

	for (waited = 0;; waited += 50) {
		read_into(name, buf, len);
		if (count_of(buf, needle) >= n)
			return 1;
		if (waited >= ms)
			return 0;
		usleep(50 * 1000);
	}
}

Test(listsync_daemon, sighup_reloads_and_refuses_a_broken_config)
{
	char out[16384], err[16384], path[PATH_MAX];
	int st;

	www_put("white.txt", "192.0.2.7\n");
	conf_write("ca_file = \"@CA@\"; interval = \"1h\";",
		   SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	daemon_pid = fork();
	cr_assert_geq(daemon_pid, 0, "fork: %s", strerror(errno));
	if (daemon_pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a dying test */
		snprintf(path, sizeof(path), "%s/d.out", tmp);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		close(fd);
		snprintf(path, sizeof(path), "%s/d.err", tmp);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		close(fd);
		execl(tenv_bin("mailedge-listsync"), "mailedge-listsync", "-c", conf_path, "run",
		      "--daemon", (char *)NULL);
		_exit(127);
	}
	cr_assert(wait_for("d.out", "1 sources:", out, sizeof(out), 15000),
		  "daemon's first run: got stdout\n%s\nwant a '1 sources:' line", out);
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n");

	/* A new source: reloaded, logged, and run at once (the interval is an hour). */
	conf_write("ca_file = \"@CA@\"; interval = \"1h\";",
		   SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""),
		   SRC("white", "@HTTPS@/f/white.txt", "plain", "list = \"white\";"), NULL);
	kill(daemon_pid, SIGHUP);
	cr_assert(wait_for("d.out", "2 sources:", out, sizeof(out), 15000),
		  "run after SIGHUP: got stdout\n%s\nwant a '2 sources:' line", out);
	read_into("d.err", err, sizeof(err));
	cr_assert(contains(err, "SIGHUP: configuration reloaded from") &&
		      contains(err, "2 sources"),
		  "stderr after SIGHUP: got\n%s\nwant 'SIGHUP: configuration reloaded from ... 2 "
		  "sources'", err);
	expect_entries(1, NULL,
		       "black 192.0.2.128/25 drop drop\n"
		       "black 198.51.100.0/24 drop drop\n"
		       "black 203.0.113.0/24 drop drop\n"
		       "white 192.0.2.7 pass white\n");

	/* A broken configuration: refused with the reason, the old one kept, no
	 * run, the daemon alive. */
	{
		static const char broken[] =
		    "sources = ( { name = \"x\"; url = \"ftp://x\"; format = \"plain\"; } );\n";

		write_file(conf_path, broken, strlen(broken));
	}
	kill(daemon_pid, SIGHUP);
	cr_assert(wait_for("d.err", "new configuration refused", err, sizeof(err), 10000),
		  "stderr after SIGHUP with a broken configuration: got\n%s\nwant 'new "
		  "configuration refused'", err);
	cr_assert(contains(err, "url must start with"),
		  "the refusal does not say why: got stderr\n%s", err);
	usleep(300 * 1000);
	cr_assert_eq(waitpid(daemon_pid, &st, WNOHANG), 0,
		     "daemon after a refused reload: got it gone (status %#x), want it running", st);
	read_into("d.out", out, sizeof(out));
	cr_assert_eq(count_of(out, " sources:"), 2, "runs after a refused reload: got stdout\n%s\n"
		     "want still two runs", out);

	/* Still the old configuration: a good reload later works again. */
	conf_write("ca_file = \"@CA@\"; interval = \"1h\";",
		   SRC("drop", "@HTTPS@/f/drop.txt", "spamhaus-text", ""), NULL);
	kill(daemon_pid, SIGHUP);
	cr_assert(wait_count("d.out", " sources:", 3, out, sizeof(out), 15000),
		  "run after the second good SIGHUP: got stdout\n%s\nwant a third run", out);
	read_into("d.err", err, sizeof(err));
	cr_assert_eq(count_of(err, "SIGHUP: configuration reloaded"), 2,
		     "reloads logged: got stderr\n%s\nwant two", err);
	st = daemon_stop();
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "daemon after SIGTERM: got wait status %#x, want exit 0; stderr:\n%s", st, err);
}

/* ---- metrics: the exposition text itself ---- */

TestSuite(listsync_unit, .timeout = 10);

static char *metrics_text(const struct ls_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f, "open_memstream: %s", strerror(errno));
	ls_metrics_format(f, m);
	fclose(f);
	return buf;
}

Test(listsync_unit, metrics_format)
{
	static const struct ls_metric_source src[] = {
		{ "spamhaus-drop", 1723, 1790000000, 0 },
		{ "a\"b\\c\nd", 0, 0, 7 }, /* never succeeded; a name that needs escaping */
	};
	static const char want[] =
	    "# HELP mailedge_listsync_source_entries Entries the source contributes to the "
	    "lists (its last good copy).\n"
	    "# TYPE mailedge_listsync_source_entries gauge\n"
	    "mailedge_listsync_source_entries{source=\"spamhaus-drop\"} 1723\n"
	    "mailedge_listsync_source_entries{source=\"a\\\"b\\\\c\\nd\"} 0\n"
	    "# HELP mailedge_listsync_source_last_success_timestamp_seconds Unix time of the "
	    "source's last good download or not-modified answer; 0 if never.\n"
	    "# TYPE mailedge_listsync_source_last_success_timestamp_seconds gauge\n"
	    "mailedge_listsync_source_last_success_timestamp_seconds{source=\"spamhaus-drop\"} "
	    "1790000000\n"
	    "mailedge_listsync_source_last_success_timestamp_seconds{source=\"a\\\"b\\\\c\\nd\"} 0\n"
	    "# HELP mailedge_listsync_source_age_seconds Seconds since the source's last "
	    "success, at the end of the run (staleness); +Inf if never.\n"
	    "# TYPE mailedge_listsync_source_age_seconds gauge\n"
	    "mailedge_listsync_source_age_seconds{source=\"spamhaus-drop\"} 3600\n"
	    "mailedge_listsync_source_age_seconds{source=\"a\\\"b\\\\c\\nd\"} +Inf\n"
	    "# HELP mailedge_listsync_source_failures_total Failed fetches of the source "
	    "(download, parse or check), since its first run.\n"
	    "# TYPE mailedge_listsync_source_failures_total counter\n"
	    "mailedge_listsync_source_failures_total{source=\"spamhaus-drop\"} 0\n"
	    "mailedge_listsync_source_failures_total{source=\"a\\\"b\\\\c\\nd\"} 7\n"
	    "# HELP mailedge_listsync_last_run_timestamp_seconds Unix time at the end of the "
	    "last run.\n"
	    "# TYPE mailedge_listsync_last_run_timestamp_seconds gauge\n"
	    "mailedge_listsync_last_run_timestamp_seconds 1790003600.25\n"
	    "# HELP mailedge_listsync_last_run_success 1 if the last run applied every source "
	    "(exit status 0), else 0.\n"
	    "# TYPE mailedge_listsync_last_run_success gauge\n"
	    "mailedge_listsync_last_run_success 0\n"
	    "# HELP mailedge_listsync_run_duration_seconds How long the last run took, in "
	    "seconds.\n"
	    "# TYPE mailedge_listsync_run_duration_seconds gauge\n"
	    "mailedge_listsync_run_duration_seconds 2.5\n";
	struct ls_metrics m = { src, 2, 1790003600.25, 0, 2.5 };
	char *got = metrics_text(&m);
	int same = !strcmp(got, want);

	snprintf(msg, sizeof(msg), "got\n%s(end)\nwant\n%s(end)", got, want);
	free(got);
	cr_assert(same, "%s", msg);
}

/* A clock that went back must not make a negative age; success prints 1. */
Test(listsync_unit, metrics_age_never_negative)
{
	static const struct ls_metric_source src[] = { { "x", 1, 2000, 0 } };
	struct ls_metrics m = { src, 1, 1000, 1, 0 };
	char *got = metrics_text(&m);
	int ok = contains(got, "\nmailedge_listsync_source_age_seconds{source=\"x\"} 0\n") &&
		 contains(got, "\nmailedge_listsync_last_run_success 1\n");

	snprintf(msg, sizeof(msg), "got\n%s\nwant age 0 and success 1", got);
	free(got);
	cr_assert(ok, "%s", msg);
}

/* Written whole through a temporary file: no leftovers, mode 0644, same text. */
Test(listsync_unit, metrics_write_atomic)
{
	static const struct ls_metric_source src[] = { { "x", 1, 2000, 3 } };
	struct ls_metrics m = { src, 1, 3000, 1, 0.5 };
	char dir[] = "/tmp/mailedge-test-lsm-XXXXXX", path[PATH_MAX], *want, *got = NULL;
	size_t cap = 0;
	struct stat sb;
	struct run r;
	FILE *f;
	int rc;

	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/listsync.prom", dir);
	want = metrics_text(&m);
	rc = ls_metrics_write(path, &m);
	if (!rc)
		rc = ls_metrics_write(path, &m); /* replacing an existing file */
	f = fopen(path, "r");
	if (f) {
		if (getdelim(&got, &cap, '\0', f) < 0) {
			free(got);
			got = NULL;
		}
		fclose(f);
	}
	stat(path, &sb);
	tenv_run(&r, "ls -A %s", dir);
	snprintf(msg, sizeof(msg),
		 "ls_metrics_write: got %d, file '%s', mode %o, directory '%s'; want 0, the text, "
		 "644, only listsync.prom",
		 rc, got ? got : "(unreadable)", sb.st_mode & 0777, r.out ? r.out : "");
	rc = !rc && got && !strcmp(got, want) && (sb.st_mode & 0777) == 0644 && r.out &&
	     !strcmp(r.out, "listsync.prom\n");
	tenv_run_free(&r);
	free(got);
	free(want);
	unlink(path);
	rmdir(dir);
	cr_assert(rc, "%s", msg);

	/* A directory that is not there: an error, not a crash. */
	snprintf(path, sizeof(path), "%s/no/such/dir/listsync.prom", dir);
	rc = ls_metrics_write(path, &m);
	cr_assert_eq(rc, -ENOENT, "write into a missing directory: got %d, want %d", rc, -ENOENT);
}

/* ---- configuration errors ---- */

struct cfg_case {
	char name[24];
	char text[320];
	int line;      /* "FILE:LINE:" must lead the message; 0 = not checked */
	char want[80]; /* and the message must say this */
};

static const struct cfg_case cfg_cases[] = {
	{ "unknown_setting", "# mailedge-listsync\nstate_dir = \"/tmp/x\";\ncolour = \"blue\";\n",
	  3, "unknown setting 'colour'" },
	{ "unknown_source_setting",
	  "sources = (\n  { name = \"a\"; url = \"https://127.0.0.1/a\"; format = \"plain\";\n"
	  "    shrink_limit = 5; }\n);\n",
	  3, "unknown setting 'shrink_limit'" },
	{ "bad_format",
	  "sources = (\n  { name = \"a\"; url = \"https://127.0.0.1/a\"; format = \"csv\"; }\n);\n",
	  0, "source a: unknown format 'csv'" },
	{ "missing_url", "sources = (\n  { name = \"a\";\n    format = \"plain\"; }\n);\n", 2,
	  "needs name, url and format" },
	{ "syntax_error",
	  "sources = (\n  { name = \"a\"; url = \"https://127.0.0.1/a\"; format = \"plain\"; },\n"
	  ");\n",
	  3, "syntax error" },
	{ "bad_duration", "timeout = \"soon\";\n", 1, "is not a duration" },
	{ "bad_list",
	  "sources = ( { name = \"a\"; url = \"https://127.0.0.1/a\"; format = \"plain\"; "
	  "list = \"grey\"; } );\n",
	  0, "source a: list must be black or white" },
	{ "white_cannot_drop",
	  "sources = ( { name = \"a\"; url = \"https://127.0.0.1/a\"; format = \"plain\"; "
	  "list = \"white\"; action = \"drop\"; } );\n",
	  0, "source a: a whitelist can only pass" },
	{ "duplicate_name",
	  "sources = ( { name = \"a\"; url = \"https://127.0.0.1/a\"; format = \"plain\"; },\n"
	  "  { name = \"a\"; url = \"https://127.0.0.1/b\"; format = \"plain\"; } );\n",
	  0, "two sources are named 'a'" },
	{ "bad_scheme",
	  "sources = ( { name = \"a\"; url = \"ftp://127.0.0.1/a\"; format = \"plain\"; } );\n", 0,
	  "source a: url must start with" },
	{ "metrics_file_relative", "# listsync\nstate_dir = \"/tmp/x\";\nmetrics_file = \"ls.prom\";\n",
	  3, "metrics_file must be an absolute path" },
	{ "metrics_file_number", "metrics_file = 5;\n", 1, "metrics_file must be a string" },
};

ParameterizedTestParameters(listsync_cfg, config_error)
{
	return cr_make_param_array(struct cfg_case, cfg_cases,
				   sizeof(cfg_cases) / sizeof(cfg_cases[0]));
}

ParameterizedTest(const struct cfg_case *c, listsync_cfg, config_error)
{
	static const char *const cmds[] = { "check", "run" };
	char where[256], line[1024];
	struct run r;
	size_t i;

	write_file(conf_path, c->text, strlen(c->text));
	snprintf(where, sizeof(where), "%s:%d: ", conf_path, c->line);
	for (i = 0; i < 2; i++) {
		tenv_run(&r, "%s -c %s %s", tenv_bin("mailedge-listsync"), conf_path, cmds[i]);
		snprintf(msg, sizeof(msg),
			 "%s: mailedge-listsync %s: got status %d, want 2; "
			 "stderr: %s",
			 c->name, cmds[i], r.status, r.err);
		if (r.status != 2) {
			tenv_run_free(&r);
			cr_assert_fail("%s", msg);
		}
		if (!line_with(r.err, c->want, c->line ? where : NULL, NULL, line, sizeof(line))) {
			snprintf(msg, sizeof(msg),
				 "%s: mailedge-listsync %s: got stderr\n%s\nwant "
				 "a line with '%s'%s%s",
				 c->name, cmds[i], r.err, c->want, c->line ? " after " : "",
				 c->line ? where : "");
			tenv_run_free(&r);
			cr_assert_fail("%s", msg);
		}
		tenv_run_free(&r);
	}
}

Test(listsync_cfg, check_valid_config)
{
	static const char text[] =
	    "# /etc/mailedge/listsync.conf as an admin would write it\n"
	    "state_dir = \"/var/lib/mailedge\";\n"
	    "ca_file = \"\";\n"
	    "connect_timeout = \"15s\"; timeout = \"2m\"; max_size = \"64M\";\n"
	    "sources = (\n"
	    "  { name = \"spamhaus-drop\"; url = \"https://www.spamhaus.org/drop/drop_v4.json\";\n"
	    "    format = \"spamhaus-json\"; list = \"black\"; action = \"drop\"; },\n"
	    "  { name = \"firehol_level1\";\n"
	    "    url = \"https://iplists.firehol.org/files/firehol_level1.netset\";\n"
	    "    format = \"netset\"; action = \"reset\"; max_shrink = 30; },\n"
	    "  { name = \"local-white\"; url = \"file:///etc/mailedge/white.txt\";\n"
	    "    format = \"plain\"; list = \"white\"; may_be_empty = true; }\n"
	    ");\n";
	char want[256];
	struct run r;

	write_file(conf_path, text, strlen(text));
	tenv_run(&r, "%s -c %s check", tenv_bin("mailedge-listsync"), conf_path);
	check_status(&r, 0, "mailedge-listsync check (valid configuration)");
	snprintf(want, sizeof(want), "%s: 3 sources, configuration is valid", conf_path);
	expect_text(&r, 0, want, 1, "check");
	tenv_run_free(&r);
}

Test(listsync_cfg, missing_explicit_config_is_an_error)
{
	struct run r;

	tenv_run(&r,
		 "%s -c %s/nonexistent.conf --pin-dir /sys/fs/bpf/mailedge-test-none "
		 "--state-dir %s run --source plain:http://127.0.0.1:9/list.txt",
		 tenv_bin("mailedge-listsync"), tmp, state_dir);
	check_status(&r, 2, "run -c MISSING --source ...");
	expect_text(&r, 1, "nonexistent.conf", 1, "run -c MISSING --source ...");
	tenv_run_free(&r);
}

Test(listsync_cfg, missing_default_config_without_source_is_an_error)
{
	struct run r;

	if (!access("/etc/mailedge/listsync.conf", F_OK))
		cr_skip_test("/etc/mailedge/listsync.conf exists: the default is not missing here");
	tenv_run(&r, "%s --state-dir %s run", tenv_bin("mailedge-listsync"), state_dir);
	check_status(&r, 2, "run without -c or --source");
	expect_text(&r, 1, "/etc/mailedge/listsync.conf", 1, "run without -c or --source");
	tenv_run_free(&r);
}

Test(listsync_cfg, bad_source_spec)
{
	struct run r;

	tenv_run(&r, "%s --state-dir %s run --source nonsense", tenv_bin("mailedge-listsync"),
		 state_dir);
	check_status(&r, 2, "run --source nonsense");
	expect_text(&r, 1, "FORMAT:URL", 1, "run --source nonsense");
	tenv_run_free(&r);
}

Test(listsync_cfg, metrics_file_too_long)
{
	char text[600], where[256], line[1024];
	struct run r;

	snprintf(text, sizeof(text), "# listsync\nmetrics_file = \"/%0300d\";\n", 0);
	write_file(conf_path, text, strlen(text));
	tenv_run(&r, "%s -c %s check", tenv_bin("mailedge-listsync"), conf_path);
	check_status(&r, 2, "check with a 301-character metrics_file");
	snprintf(where, sizeof(where), "%s:2: ", conf_path);
	if (!line_with(r.err, where, "metrics_file is longer than 255", NULL, line, sizeof(line))) {
		snprintf(msg, sizeof(msg), "got stderr\n%s\nwant '%smetrics_file is longer than "
			 "255 characters'", r.err, where);
		tenv_run_free(&r);
		cr_assert_fail("%s", msg);
	}
	tenv_run_free(&r);
}

/* ---- the command line ---- */

Test(listsync_cfg, version_is_one_line)
{
	struct run r;
	const char *nl;

	tenv_run(&r, "%s --version", tenv_bin("mailedge-listsync"));
	check_status(&r, 0, "mailedge-listsync --version");
	nl = r.out ? strchr(r.out, '\n') : NULL;
	snprintf(msg, sizeof(msg), "--version: got '%s', want one line 'mailedge-listsync VERSION'",
		 r.out ? r.out : "");
	cr_assert(nl && !nl[1] && !strncmp(r.out, "mailedge-listsync ", 18) && r.out[18] != '\n',
		  "%s", msg);
	tenv_run_free(&r);
}

struct cli_case {
	char args[80];
	char want[64]; /* the one line must say this */
};

static const struct cli_case cli_cases[] = {
	{ "--bogus run", "'--bogus'" },
	{ "run --dry-rn", "'--dry-rn'" },
	{ "run -x", "'-x'" },
	{ "-qx check", "'-x'" },
	{ "run --source", "'--source'" },
	{ "-c", "'-c'" },
	{ "check --force", "--force belongs to run" },
	{ "check --daemon", "--daemon belongs to run" },
	{ "formats --dry-run", "--dry-run belongs to run" },
	{ "formats --source plain:http://x/y", "formats takes no options" },
	{ "run --dry-run --daemon", "do not go together" },
	{ "check --rebuild", "--rebuild belongs to run" },
	{ "run --rebuild --dry-run", "--rebuild does not go with --dry-run" },
	{ "run --daemon --rebuild", "--rebuild does not go with --daemon" },
	{ "run now", "unexpected argument 'now'" },
	{ "sync", "unknown command 'sync'" },
	{ "", "no command" },
};

ParameterizedTestParameters(listsync_cfg, bad_command_line)
{
	return cr_make_param_array(struct cli_case, cli_cases,
				   sizeof(cli_cases) / sizeof(cli_cases[0]));
}

/* A mistake gets one line on stderr naming it, nothing on stdout, exit 2. */
ParameterizedTest(const struct cli_case *c, listsync_cfg, bad_command_line)
{
	struct run r;
	const char *nl;
	int ok;

	tenv_run(&r, "%s %s", tenv_bin("mailedge-listsync"), c->args);
	nl = r.err ? strchr(r.err, '\n') : NULL;
	ok = r.status == 2 && (!r.out || !r.out[0]) && nl && !nl[1] && contains(r.err, c->want) &&
	     contains(r.err, "mailedge-listsync --help");
	snprintf(msg, sizeof(msg),
		 "mailedge-listsync %s: got status %d, stdout '%s', stderr '%s'; want 2, nothing, "
		 "one line with %s and a pointer to --help",
		 c->args, r.status, r.out ? r.out : "", r.err ? r.err : "", c->want);
	tenv_run_free(&r);
	cr_assert(ok, "%s", msg);
}

/* ---- namespace lab: synced lists against real connections ---- */

static void expect_conn(const char *src, const char *dst, int want)
{
	int rc = ns_connect(lab.cl_ns, src, dst, SMTP_PORT, want ? DROP_MS : CONNECT_MS);

	cr_assert_eq(rc, want, "connect %s -> %s:25: got %s, want %s", src, dst, conn_name(rc),
		     conn_name(want));
}

static void lab_attach(void)
{
	struct run r;

	lab_loader(&lab, &r, "attach %s --mode native " SMALL_MAPS, lab.gw_if);
	check_status(&r, 0, "mailedge-loader attach");
	tenv_run_free(&r);
}

/* Hits of the list source called name, from status --json "lists". */
static long long list_hits(const char *name)
{
	json_object *root = status_json(), *arr;
	long long n = 0;
	size_t i;

	if (json_object_object_get_ex(root, "lists", &arr))
		for (i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			const char *s = jstr(o, "source");

			if (s && !strcmp(s, name))
				n = jint(o, "hits");
		}
	json_object_put(root);
	return n;
}

Test(listsync_ns, synced_blacklist_drops_then_stops)
{
	long long hits;

	lab_addr_ok(&lab, "192.0.2.66/24");
	lab_attach();
	www_put("black.txt", "192.0.2.66\n203.0.113.50\n203.0.113.51\n");
	conf_write(NULL, SRC("ns-black", "@HTTP@/f/black.txt", "plain", ""), NULL);
	expect_conn("192.0.2.66", "192.0.2.1", 0); /* reachable before the sync */

	ls_ok("run");
	expect_conn("192.0.2.66", "192.0.2.1", -ETIMEDOUT);
	expect_conn("192.0.2.10", "192.0.2.1", 0);
	hits = list_hits("ns-black");
	cr_assert_gt(hits, 0, "status --json lists ns-black hits: got %lld, want > 0", hits);

	/* The publisher delists it: the next run lets it in again. */
	www_put("black.txt", "203.0.113.50\n203.0.113.51\n");
	ls_ok("run --force");
	expect_entries(1, NULL,
		       "black 203.0.113.50 drop ns-black\n"
		       "black 203.0.113.51 drop ns-black\n");
	expect_conn("192.0.2.66", "192.0.2.1", 0);
}

Test(listsync_ns, synced_whitelist_inside_synced_blacklist)
{
	lab_addr_ok(&lab, "198.51.100.7/24");
	lab_addr_ok(&lab, "198.51.100.20/24");
	lab_attach();
	www_put("level1.netset", "# firehol-style\n10.0.0.0/8\n198.51.100.0/24\n");
	www_put("white.txt", "198.51.100.7\n");
	conf_write(NULL, SRC("firehol_level1", "@HTTP@/f/level1.netset", "netset", ""),
		   SRC("admin-white", "@HTTP@/f/white.txt", "plain", "list = \"white\";"), NULL);
	ls_ok("run");
	expect_conn("198.51.100.7", "198.51.100.1", 0);
	expect_conn("198.51.100.20", "198.51.100.1", -ETIMEDOUT);
	expect_conn("192.0.2.10", "192.0.2.1", 0);
}
