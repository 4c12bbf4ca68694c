/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dict.h - sender and recipient dictionaries: files of addresses, domains and
 * @domain entries, each with an optional reply of its own (issue 9; IronPort's
 * dictionaries of blocked senders, Postfix's access tables).
 *
 * File format, one entry a line:
 *
 *   # a comment (a whole line; blank lines are ignored too)
 *   spammer@example.net   550 5.7.1 Sender blocked
 *   user@example.org                    an address
 *   @example.com                        every address in example.com
 *   example.com                         the same: the domain itself
 *   .example.com                        every address in a subdomain of
 *                                       example.com (not example.com itself:
 *                                       list both, as in Postfix)
 *
 * The reply, if any, follows the key after blanks: a 4xx or 5xx code, then
 * optionally an enhanced status code of the same class (5.7.1), then text;
 * printable ASCII, at most PX_DICT_REPLY_MAX bytes (an SMTP reply line is 512
 * with its CRLF). An entry without one gets the policy's default reply.
 *
 * Matching, as Postfix's check_*_access does for user@domain: the exact
 * address, then the domain (@domain or domain entries), then the parent
 * domains for .domain entries, the closest parent first. Domains compare
 * case-insensitively (ASCII); local parts too unless PX_DICT_CASE_LOCAL is
 * given, Postfix's default (it folds the lookup key of every table). An
 * address without an '@' (RCPT TO:<postmaster>) matches only an exact entry
 * without a domain part, which a file cannot hold: it matches nothing.
 *
 * A dictionary is immutable once loaded and reference counted: SIGHUP builds a
 * new one with px_dict_load, swaps the pointer, and puts the old one; sessions
 * holding it keep a consistent view until they put theirs. A file with any bad
 * line is refused whole with "FILE:LINE: why", so a typo never empties a
 * dictionary of valid recipients: the old one stays in use.
 */
#ifndef PX_DICT_H
#define PX_DICT_H

#include <stddef.h>

#define PX_DICT_MAX_BYTES   (64u << 20) /* 64 MiB: far more than a hand-kept list */
#define PX_DICT_MAX_ENTRIES 2000000u	/* ~100 MB of index and strings at most */
#define PX_DICT_LINE_MAX    1024u	/* a line, without its line end */
#define PX_DICT_LOCAL_MAX   64u		/* RFC 5321 4.5.3.1.1 */
#define PX_DICT_DOMAIN_MAX  255u	/* RFC 5321 4.5.3.1.2 */
#define PX_DICT_REPLY_MAX   510u	/* a reply line of 512 with its CRLF */

/* Flags of px_dict_load/px_dict_parse. */
#define PX_DICT_CASE_LOCAL 0x1 /* compare local parts case-sensitively */

enum px_dict_how {
	PX_DICT_ADDRESS = 0, /* user@domain: the exact address */
	PX_DICT_DOMAIN = 1,  /* @domain or domain: the domain itself */
	PX_DICT_PARENT = 2,  /* .domain: a subdomain of it */
};

struct px_dict;

struct px_dict_hit {
	enum px_dict_how how;
	const char *key;    /* the entry as normalised: "user@example.org",
			     * "example.org" (both domain forms), ".example.org" */
	const char *reply;  /* its own reply, or NULL: the caller's default */
	unsigned long line; /* where it is in the file */
};

/* Load a dictionary file. 0 and *out (a reference), or -errno with a one-line
 * reason naming the file, and the line for a bad one, in why. */
int px_dict_load(const char *path, unsigned int flags, struct px_dict **out, char *why,
		 size_t why_len);

/* The same for len bytes of buf (need not be NUL-terminated); name is what
 * messages call it. */
int px_dict_parse(const char *name, const char *buf, size_t len, unsigned int flags,
		  struct px_dict **out, char *why, size_t why_len);

/* Look addr (len bytes, without angle brackets) up. 1 with *hit filled (its
 * strings live as long as the dictionary), 0 when nothing matches. */
int px_dict_lookup(const struct px_dict *d, const char *addr, size_t len, struct px_dict_hit *hit);

size_t px_dict_size(const struct px_dict *d);
const char *px_dict_name(const struct px_dict *d);

/* Take another reference; put one (the last frees it). NULL is allowed. */
struct px_dict *px_dict_get(struct px_dict *d);
void px_dict_put(struct px_dict *d);

#endif
