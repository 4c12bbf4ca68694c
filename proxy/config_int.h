/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config_int.h - what the parts of the configuration reader share; not for
 * the rest of the proxy (config.h is).
 *
 *   config.c         the whole: top level, limits, dns, relay control, the two
 *                    steps (parse, then TLS), and the cross-checks
 *   config_listen.c  listeners
 *   config_pool.c    pools and their members
 *   config_tls.c     TLS profiles, and what they and the pools need built
 *   config_policy.c  policies and sender groups (the host access table)
 *   config_dict.c    the dictionaries the configuration names
 *   config_dnsbl.c   the dnsbl group (dnsbl.h)
 */
#ifndef PX_CONFIG_INT_H
#define PX_CONFIG_INT_H

#include <stddef.h>
#include <stdio.h>
#include <libconfig.h>

#include "conf.h"
#include "config.h"

#define FIELD(t, f) offsetof(struct t, f), sizeof(((struct t *)0)->f)

struct name_value {
	const char *name;
	int value;
};

/* One more zeroed element of size at the end of the array *arr of *n: a
 * pointer to it, or NULL (the array as it was) when memory runs out. */
void *px_conf_grow(void *arr, size_t *n, size_t size);

/* The value named name in the table t (ending with a NULL name), or -1. */
int px_conf_lookup(const struct name_value *t, const char *name);
/* Is s a list of strings, [ "a", "b" ] or ( "a", "b" )? -EINVAL with why. */
int px_conf_string_list(const config_setting_t *s, char *why, size_t why_len);
/* A setting that is one string or a list of them, into out[max][len]: the
 * count, or -EINVAL with why (a wrong type, too many, one too long). */
int px_conf_strings(const config_setting_t *s, char *out, size_t len, int max, char *why,
		    size_t why_len);

/* The limits table (config.c): policies take some of its items. */
extern const struct me_conf_item px_limit_items[];

/* config_pool.c */
int px_read_pools(struct px_config *c, config_setting_t *list, char *why, size_t why_len);
/* The pool "default" of --backend flags. */
int px_flags_pool(struct px_config *c, const struct px_flags *f, char *why, size_t why_len);
int px_finish_pools(struct px_config *c, char *why, size_t why_len);
void px_free_pools(struct px_config *c);
void px_help_pools(FILE *f);

/* config_listen.c */
int px_read_listeners(struct px_config *c, config_setting_t *list, char *why, size_t why_len);
int px_flags_listeners(struct px_config *c, const struct px_flags *f, char *why, size_t why_len);
int px_finish_listeners(struct px_config *c, char *why, size_t why_len);
void px_help_listeners(FILE *f);

/* config_tls.c */
int px_read_tls(struct px_config *c, config_setting_t *list, char *why, size_t why_len);
/* A profile of one certificate, for a listener's own cert/key (or --cert):
 * its index, or -errno. */
int px_tls_add_simple(struct px_config *c, const char *owner, const char *cert, const char *key,
		      const char *chain, char *why, size_t why_len);
/* The profile named name, or -1. */
int px_tls_find(const struct px_config *c, const char *name);
void px_free_tls(struct px_config *c);
void px_help_tls(FILE *f);

/* config_policy.c */
int px_read_policies(struct px_config *c, config_setting_t *list, char *why, size_t why_len);
int px_read_groups(struct px_config *c, config_setting_t *list, char *why, size_t why_len);
/* Names to pools and policies, once everything is read. */
int px_finish_policies(struct px_config *c, char *why, size_t why_len);
void px_free_policies(struct px_config *c);
void px_help_policies(FILE *f);

/* config_dict.c */
/* Is r one line, a 4xx or 5xx code, a blank and text? */
int px_config_reply_ok(const char *r);
/* Check the dictionaries' keys me_conf_read has read (their replies), with
 * file and line: 0 or -EINVAL. */
int px_read_dict_keys(const struct px_config *c, const config_setting_t *root, char *why,
		      size_t why_len);

#endif
