/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testenv.h - what the Criterion suites share: running programs, private pin
 * directories, and a namespace lab (client and gateway joined by a veth pair).
 *
 * tests/run.sh sets MAILEDGE_BUILD (where the programs under test are) and
 * MAILEDGE_SRC (the source tree). Every test that creates a namespace, link or
 * pin directory removes it in its .fini; run.sh sweeps what a crashed test left
 * (names start with "met" and "mailedge-test-").
 */
#ifndef ME_TEST_ENV_H
#define ME_TEST_ENV_H

#include <stdarg.h>
#include <stddef.h>

/* Path of a built program, e.g. tenv_bin("mailedge-loader"). */
const char *tenv_bin(const char *name);
const char *tenv_src(void);

/* Result of a command: exit status (or 128+signal), and its output. */
struct run {
	int status;
	char *out;
	char *err;
};

/* Run a shell command line (printf-style); always returns with *r filled. */
void tenv_run(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tenv_run_free(struct run *r);
/* Run a shell command line (printf-style) that should succeed: returns its exit
 * status, after printing the command and its stderr on stderr if not 0. */
int tenv_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Output a test reads after the run that made it, freed by tenv_kept_free()
 * in the suite's .fini (so that an assertion failing half-way leaks nothing).
 * tenv_keep holds any malloc'd p (NULL is ignored); tenv_keep_run holds r's
 * out and err and makes a missing one "", for printing and searching without
 * checks (tenv_run_free must not be called on r afterwards).
 */
void tenv_keep(void *p);
void tenv_keep_run(struct run *r);
void tenv_kept_free(void);

/* The python3 to run helper scripts with: the system's when there is one
 * (version-manager shims cost a third of a second per start). */
const char *tenv_python(void);

/*
 * Start a helper server, bash -c cmd, and read the first line it prints (its
 * ports) into line, waiting at most ms. Its stdin is a pipe whose write end
 * goes to *in_fd: the server exits when that closes, so it never outlives the
 * test, and it gets SIGKILL if the test process dies. Returns the pid, or
 * -errno; line is "" if nothing came in time.
 */
int tenv_spawn(const char *cmd, int *in_fd, char *line, size_t cap, int ms);

/* A pin directory of this test's own: /sys/fs/bpf/mailedge-test-<pid>. */
const char *tenv_pin_dir(void);
/* Remove it and everything pinned in it. */
void tenv_pin_dir_remove(void);

/*
 * The lab: namespaces "<tag>-gw" and "<tag>-cl" joined by veth <tag>g / <tag>c.
 * Gateway: 192.0.2.1/24, 198.51.100.1/24, 203.0.113.1/24, 2001:db8::1/64.
 * Client:  192.0.2.10/24 plus whatever the test adds with lab_addr().
 * The gateway side runs native XDP; the client side runs an XDP_PASS program
 * (so XDP_TX replies reach its stack, see xdp_pass.bpf.c) and both have TX
 * checksum offload off (so frames carry complete checksums).
 */
struct lab {
	char tag[12];
	char gw_ns[32], cl_ns[32];
	char gw_if[16], cl_if[16];
	int up;
};

int lab_up(struct lab *l);
void lab_down(struct lab *l);
/* Add an address (with prefix, e.g. "198.51.100.7/24") on the client side. */
int lab_addr(struct lab *l, const char *cidr);

/* Run the loader on the host with this test's pin directory. */
void tenv_loader(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a va_list; the arguments as formatted are left in args. */
void tenv_vloader(struct run *r, char *args, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* Run the loader in the gateway namespace with this test's pin directory. */
void lab_loader(struct lab *l, struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Listen on addr:port inside namespace ns; returns the fd (or -errno). */
int ns_listen(const char *ns, const char *addr, int port);

/* Connect from src to dst:port inside namespace ns, waiting up to timeout_ms.
 * Returns 0 when connected, -ECONNREFUSED on a reset, -ETIMEDOUT on silence. */
int ns_connect(const char *ns, const char *src, const char *dst, int port, int timeout_ms);

/* Run fn(arg) with the calling thread inside namespace ns. */
int ns_enter(const char *ns, int (*fn)(void *), void *arg);

#endif
