// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - stderr/syslog logger with a printf-checked interface.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "log.h"

static const char *log_prog = "mailedge";
static enum me_log_level log_level = ME_LOG_INFO;
static int log_syslog;

void log_init(const char *prog, enum me_log_level level, int use_syslog)
{
	log_prog = prog;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID, LOG_MAIL);
}

void log_set_level(enum me_log_level level)
{
	log_level = level;
}

enum me_log_level log_get_level(void)
{
	return log_level;
}

void log_vmsg(enum me_log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	/* One line, one write(2): the proxy's workers log from several threads
	 * (and its keeper from another process), and stdio's prefix, text and
	 * newline as three writes tear lines apart under load. A pipe keeps a
	 * write of up to PIPE_BUF (4096) bytes whole, so lines are cut there. */
	char line[4096];
	size_t n, cap = sizeof(line) - 1; /* room for the newline */
	int k;

	if (level > log_level)
		return;
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	k = snprintf(line, cap, "%s: %s", log_prog, tag[level]);
	n = k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
	k = vsnprintf(line + n, cap - n, fmt, ap);
	if (k >= 0 && (size_t)k >= cap - n) {
		n = cap - 1; /* cut: say so */
		memcpy(line + n - 3, "...", 3);
	} else if (k > 0) {
		n += (size_t)k;
	}
	if (!n || line[n - 1] != '\n')
		line[n++] = '\n';
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
}

void log_msg(enum me_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static int log_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warns about things we handle and report ourselves (a missing
	 * pin, a failed feature probe); its text, including the verifier log
	 * of a failed load, is shown with -v. */
	(void)level;
	if (log_level < ME_LOG_DEBUG)
		return 0;
	vfprintf(stderr, fmt, ap);
	return 0;
}

void log_libbpf(void)
{
	libbpf_set_print(log_libbpf_print);
}
