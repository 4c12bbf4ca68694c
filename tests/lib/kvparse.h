/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvparse.h - read back a key=value log line (common/kvlog.h) the way a log
 * tool would: quoted values unescaped (\" \\ \xHH), fields in order.
 */
#ifndef ME_TEST_KVPARSE_H
#define ME_TEST_KVPARSE_H

#include <stddef.h>

#define KV_MAX_FIELDS 32

struct kv_field {
	char key[32];
	char value[512];
	size_t len; /* of value (it may hold a NUL) */
};

struct kv_line {
	char event[32];
	struct kv_field f[KV_MAX_FIELDS];
	int n;
};

/* Parse text (one line, without its newline, "prog: " prefix allowed): 0, or
 * -1 when it is not a well-formed line of fields. */
int kv_parse(const char *text, struct kv_line *l);
/* How many fields are named key; the first one's value, or NULL. */
int kv_count(const struct kv_line *l, const char *key);
const char *kv_get(const struct kv_line *l, const char *key);
/* The same, or "(none)": for assertions and messages. */
const char *kv_show(const struct kv_line *l, const char *key);

#endif
