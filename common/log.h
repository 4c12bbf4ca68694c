/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - one logger for every mailedge program.
 *
 * Messages go to stderr as "prog: message" (what a CLI user expects) or, for
 * daemons, to syslog. libbpf's own messages are routed here too, at debug level
 * unless they are warnings, so a failed load explains itself with -v.
 */
#ifndef ME_LOG_H
#define ME_LOG_H

#include <stdarg.h>

enum me_log_level {
	ME_LOG_ERR = 0,
	ME_LOG_WARN,
	ME_LOG_INFO,
	ME_LOG_DEBUG,
};

void log_init(const char *prog, enum me_log_level level, int use_syslog);
void log_set_level(enum me_log_level level);
enum me_log_level log_get_level(void);

void log_msg(enum me_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum me_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...)   log_msg(ME_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(ME_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(ME_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(ME_LOG_DEBUG, __VA_ARGS__)

/* Route libbpf's print callback into this logger. */
void log_libbpf(void);

#endif
