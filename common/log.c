// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - stderr/syslog logger with a printf-checked interface.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
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

	if (level > log_level)
		return;
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	fprintf(stderr, "%s: %s", log_prog, tag[level]);
	vfprintf(stderr, fmt, ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
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
