/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conf.h - declarative settings over libconfig.
 *
 * Each program describes its settings once, in a table: name, type, where it is
 * stored, bounds, default and meaning (what Postfix's mail_params.h and nginx's
 * ngx_command_t do). The same table fills in defaults, checks a configuration
 * file's group (an unknown name is an error naming its line: a typo must not be
 * silently ignored), and prints the reference for --help-config.
 */
#ifndef ME_CONF_H
#define ME_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <libconfig.h>

enum me_conf_type {
	ME_CONF_STR,	  /* char[size] */
	ME_CONF_UINT,	  /* unsigned int, min..max */
	ME_CONF_U64,	  /* unsigned long long, min..max */
	ME_CONF_BOOL,	  /* int 0/1 */
	ME_CONF_SIZE,	  /* unsigned long long bytes: 1048576 or "1M" (K, M, G) */
	ME_CONF_DURATION, /* unsigned int seconds: 90 or "90s", "5m", "1h", "2d" */
	ME_CONF_PERCENT,  /* unsigned int 0..100: 50 or "50%" */
};

struct me_conf_item {
	const char *name;
	enum me_conf_type type;
	size_t offset; /* in the target struct */
	size_t size;   /* ME_CONF_STR: buffer size */
	unsigned long long min, max;
	const char *def; /* default, as it would be written in the file; NULL = none */
	const char *help;
};

#define ME_CONF_END { NULL, ME_CONF_STR, 0, 0, 0, 0, NULL, NULL }

/* Write every default into target. */
void me_conf_defaults(const struct me_conf_item *items, void *target);

/*
 * Read the members of group (a libconfig group setting, or the root) into
 * target. Members named in skip (NULL-terminated, e.g. "sources") are left for
 * the caller. Returns 0, or -EINVAL with why = "FILE:LINE: message".
 */
int me_conf_read(const config_setting_t *group, const struct me_conf_item *items,
		 const char *const *skip, void *target, char *why, size_t why_len);

/* Parse one value given as text (command-line overrides use this too). */
int me_conf_parse_value(const struct me_conf_item *it, const char *text, void *target,
			char *why, size_t why_len);

/* The reference: one paragraph per setting, with its default. */
void me_conf_print(FILE *f, const struct me_conf_item *items, const char *indent);

#endif
