/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvlog.h - log lines of key=value fields (logfmt), safe for text an attacker
 * chose.
 *
 * A mail gateway logs what clients send: HELO names, addresses (a quoted local
 * part may hold spaces, quotes and "=") and the replies that quote them. Pasted
 * into a line as it came, such text can forge fields (`" reason=ok
 * client=10.9.9.9`) or whole lines. Here every value is written bare only when
 * it is plain printable ASCII without space, quote, backslash or "="; anything
 * else is quoted, with \" and \\ escaped and other bytes (controls, DEL, non-ASCII)
 * as \xHH, so a parser (or grep for ' client=') reads back exactly the fields
 * that were written. Values are bounded; a cut one ends in "...".
 */
#ifndef ME_KVLOG_H
#define ME_KVLOG_H

#include <stddef.h>

#define ME_KV_LINE	4000 /* one line; the logger cuts at 4096 */
#define ME_KV_VALUE_MAX 256  /* bytes of one value taken before it is cut */

/* A line keeps whole fields only: one that does not fit any more is left
 * out, with every later one, and the line ends in " truncated=yes". */
struct me_kv {
	char buf[ME_KV_LINE];
	size_t n;
	int cut;
};

/* Start a line with its event word ("session", "reject"). */
void me_kv_init(struct me_kv *kv, const char *event);
/* " key=value", the value quoted when it needs to be. NULL adds nothing. */
void me_kv_str(struct me_kv *kv, const char *key, const char *value);
void me_kv_mem(struct me_kv *kv, const char *key, const char *value, size_t len);
/* The same for a formatted value. */
void me_kv_fmt(struct me_kv *kv, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One value into out (outlen bytes, always terminated), as me_kv_str writes
 * it: the length written. */
size_t me_kv_value(const char *in, size_t len, char *out, size_t outlen);

#endif
