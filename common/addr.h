/* SPDX-License-Identifier: GPL-2.0 */
/*
 * addr.h - parse and print "ADDR[/LEN]" for IPv4 and IPv6.
 *
 * Every list entry passes through here, from an admin's command line or from a
 * downloaded list, so the parser is strict: inet_pton for the address, 1-3
 * digits without a leading zero for the length ("/024" is refused), and host
 * bits are an error unless the caller asks for them to be cleared (public
 * lists sometimes publish 1.2.3.4/24).
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) become IPv4: the XDP program
 * sees those clients as IPv4 packets.
 */
#ifndef ME_ADDR_H
#define ME_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct me_prefix {
	int family;	     /* AF_INET or AF_INET6 */
	unsigned int len;    /* prefix length: 0..32 or 0..128 */
	uint8_t addr[16];    /* network order; IPv4 uses the first 4 bytes */
	int host_bits_fixed; /* set when host bits were cleared (ME_PFX_CLEAR_HOST) */
};

enum me_addr_err {
	ME_ADDR_OK = 0,
	ME_ADDR_SYNTAX = -1,	 /* not an address */
	ME_ADDR_LEN = -2,	 /* prefix length missing, not a number, or too long */
	ME_ADDR_HOST_BITS = -3,	 /* bits set after the prefix */
	ME_ADDR_LEN_ZERO = -4,	 /* prefix length with a leading zero ("/024") */
};

#define ME_PFX_CLEAR_HOST 0x1 /* clear host bits instead of failing */

/* Longest text form: an IPv6 address and "/128". */
#define ME_PREFIX_STRLEN (46 + 4)

int me_prefix_parse(const char *s, struct me_prefix *out, unsigned int flags);
const char *me_addr_strerror(int err);

/* "192.0.2.1" for a host, "192.0.2.0/24" for a subnet. */
void me_prefix_format(const struct me_prefix *p, char *buf, size_t len);

unsigned int me_prefix_maxlen(int family);
int me_prefix_is_host(const struct me_prefix *p);

/* Does a contain b (b's network inside a's)? Same family only. */
int me_prefix_contains(const struct me_prefix *a, const struct me_prefix *b);

/* Clear bits after p->len; returns 1 if any were set. */
int me_prefix_mask(struct me_prefix *p);

/* Host bits after p->len: ME_ADDR_HOST_BITS, unless flags has ME_PFX_CLEAR_HOST;
 * then they are cleared and p->host_bits_fixed is set. */
int me_prefix_host_bits(struct me_prefix *p, unsigned int flags);

#endif
