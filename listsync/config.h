/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - mailedge-listsync's configuration: global settings and sources.
 */
#ifndef LS_CONFIG_H
#define LS_CONFIG_H

#include <stdio.h>

#include "listfmt.h"
#include "mailedge_abi.h"

#define LS_DEFAULT_CONFIG "/etc/mailedge/listsync.conf"
#define LS_NAME_MAX	  31 /* fits struct me_src_status.name */

struct ls_source {
	char name[LS_NAME_MAX + 1];
	char url[1024];
	char format[32];
	char list_s[8];
	char action_s[16];
	char ca_file[256];
	unsigned int min_interval; /* seconds; 0 = the format's */
	int may_be_empty;
	unsigned int max_shrink; /* percent */
	unsigned int stale_after; /* seconds; 0 = max(1 day, 4 x min_interval) */
	/* resolved */
	const struct me_fmt *fmt;
	int list;
	struct me_entry val;
	int from_cli;
};

struct ls_config {
	char path[256];
	char pin_dir[200];
	char state_dir[200];
	char ca_file[256];
	char metrics_file[256]; /* "" = none */
	unsigned int connect_timeout;
	unsigned int timeout;
	unsigned long long max_size;
	unsigned int interval;
	unsigned int lock_timeout;
	struct ls_source *src;
	size_t nsrc;
};

void ls_config_init(struct ls_config *c);
void ls_config_free(struct ls_config *c);

/* Read path; a missing file is an error only when must_exist. */
int ls_config_load(struct ls_config *c, const char *path, int must_exist, char *why,
		   size_t why_len);
/* Parse a configuration from text (tests and the fuzzer). */
int ls_config_load_string(struct ls_config *c, const char *text, char *why, size_t why_len);

/* --source [white:|black:]FORMAT:URL */
int ls_config_add_cli(struct ls_config *c, const char *spec, char *why, size_t why_len);

/* Check and resolve every source (format, list, action, names). */
int ls_config_finish(struct ls_config *c, char *why, size_t why_len);

void ls_config_help(FILE *f);

#endif
