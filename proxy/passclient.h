/* SPDX-License-Identifier: GPL-2.0 */
/*
 * passclient.h - telling a backend who the client really is: the PROXY protocol
 * (v1 text, v2 binary; haproxy.org/download/2.9/doc/proxy-protocol.txt) and
 * Postfix's XCLIENT command (postfix.org/XCLIENT_README.html).
 *
 * Opt-in per pool: by default backends see the gateway's address, which is what
 * "no change to the backend servers" means.
 */
#ifndef PX_PASSCLIENT_H
#define PX_PASSCLIENT_H

#include <stddef.h>
#include <sys/socket.h>

#define PP2_SIGNATURE	  "\r\n\r\n\0\r\nQUIT\n"
#define PP2_SIGNATURE_LEN 12
#define PP_V1_MAX	  108 /* the spec's bound on a v1 header */
#define PP_V2_MAX	  (16 + 36)
#define XCLIENT_MAX	  512 /* a command line, CRLF included */

/*
 * Write a PROXY header for a connection from src to dst (the client and the
 * address it connected to) into out (outlen bytes). local: a connection of the
 * proxy's own (health checks): v1 "UNKNOWN", v2 LOCAL. Returns the length, or
 * -1 if the addresses are not both IPv4 or both IPv6 (v1/v2 then say UNKNOWN /
 * LOCAL, as the spec asks) or out is too small.
 */
int pp_v1(const struct sockaddr *src, const struct sockaddr *dst, int local, char *out,
	  size_t outlen);
int pp_v2(const struct sockaddr *src, const struct sockaddr *dst, int local, unsigned char *out,
	  size_t outlen);

/* xtext (RFC 3461 4): bytes outside '!'..'~', '+' and '=' become "+HH". Returns
 * the length written (out always terminated), or -1 if it does not fit. */
/* The address (numeric) and port of an IPv4 or IPv6 socket address. */
void px_addr_port(const struct sockaddr *sa, char *buf, size_t len, unsigned int *port);

int xtext_encode(const char *in, char *out, size_t outlen);

/* The attributes a server names after XCLIENT in its EHLO reply: only those
 * may be sent (Postfix answers 501 to any other). */
enum {
	XA_NAME = 1 << 0,
	XA_ADDR = 1 << 1,
	XA_PORT = 1 << 2,
	XA_PROTO = 1 << 3,
	XA_HELO = 1 << 4,
	XA_LOGIN = 1 << 5,
	XA_REVERSE_NAME = 1 << 6,
	XA_DESTADDR = 1 << 7,
	XA_DESTPORT = 1 << 8,
};
/* "NAME ADDR PORT ..." (the capability's argument, len bytes) as XA_ bits;
 * an empty list means the original set, NAME ADDR PROTO HELO; names not
 * known here count for nothing. */
unsigned int xclient_attr_bits(const char *list, size_t len);

struct xclient_attrs {
	unsigned int offered;	     /* XA_ bits the server accepts */
	const struct sockaddr *addr; /* the client */
	const char *name;	     /* verified name, "[UNAVAILABLE]" or "[TEMPUNAVAIL]" */
	const char *reverse;	     /* PTR name (unverified), or one of those */
	const char *helo;	     /* NULL or "" when not known yet */
	const char *proto;	     /* "SMTP" or "ESMTP" */
	const char *login;	     /* NULL unless authenticated */
};

/*
 * The XCLIENT command line, "XCLIENT ADDR=... PORT=... NAME=... ...\r\n", with
 * the attributes the server offers, at most XCLIENT_MAX bytes: attributes that
 * would not fit are left out (the HELO name first). IPv6 addresses get the
 * "IPV6:" prefix. Returns the length, or -1 (no ADDR to send).
 */
int xclient_line(const struct xclient_attrs *a, char *out, size_t outlen);

#endif
