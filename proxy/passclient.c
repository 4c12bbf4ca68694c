// SPDX-License-Identifier: GPL-2.0
/*
 * passclient.c - PROXY protocol v1/v2 and XCLIENT encoders.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "passclient.h"

static int same_family(const struct sockaddr *a, const struct sockaddr *b)
{
	return a && b && a->sa_family == b->sa_family &&
	       (a->sa_family == AF_INET || a->sa_family == AF_INET6);
}

void px_addr_port(const struct sockaddr *sa, char *buf, size_t len, unsigned int *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s->sin_addr, buf, (socklen_t)len);
		*port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, buf, (socklen_t)len);
		*port = ntohs(s->sin6_port);
	}
}

int pp_v1(const struct sockaddr *src, const struct sockaddr *dst, int local, char *out,
	  size_t outlen)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	unsigned int sp, dp;
	int n;

	if (local || !same_family(src, dst)) {
		n = snprintf(out, outlen, "PROXY UNKNOWN\r\n");
	} else {
		px_addr_port(src, sa, sizeof(sa), &sp);
		px_addr_port(dst, da, sizeof(da), &dp);
		n = snprintf(out, outlen, "PROXY %s %s %s %u %u\r\n",
			     src->sa_family == AF_INET ? "TCP4" : "TCP6", sa, da, sp, dp);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int pp_v2(const struct sockaddr *src, const struct sockaddr *dst, int local, unsigned char *out,
	  size_t outlen)
{
	size_t alen = 0;
	unsigned char *p = out + 16;

	if (outlen < 16)
		return -1;
	memcpy(out, PP2_SIGNATURE, PP2_SIGNATURE_LEN);
	if (local || !same_family(src, dst)) {
		out[12] = 0x20; /* version 2, LOCAL: the receiver uses the real addresses */
		out[13] = 0x00; /* UNSPEC */
	} else if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)dst;

		alen = 12;
		if (outlen < 16 + alen)
			return -1;
		out[12] = 0x21; /* version 2, PROXY */
		out[13] = 0x11; /* TCP over IPv4 */
		memcpy(p, &s->sin_addr, 4);
		memcpy(p + 4, &d->sin_addr, 4);
		memcpy(p + 8, &s->sin_port, 2);
		memcpy(p + 10, &d->sin_port, 2);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)dst;

		alen = 36;
		if (outlen < 16 + alen)
			return -1;
		out[12] = 0x21;
		out[13] = 0x21; /* TCP over IPv6 */
		memcpy(p, &s->sin6_addr, 16);
		memcpy(p + 16, &d->sin6_addr, 16);
		memcpy(p + 32, &s->sin6_port, 2);
		memcpy(p + 34, &d->sin6_port, 2);
	}
	out[14] = (unsigned char)(alen >> 8);
	out[15] = (unsigned char)alen;
	return (int)(16 + alen);
}

int xtext_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!outlen)
		return -1;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= '!' && c <= '~' && c != '+' && c != '=') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* Append " NAME=xtext(value)" if it fits in out[0..cap); returns the new length
 * (unchanged when it does not fit). */
static size_t attr(char *out, size_t len, size_t cap, const char *name, const char *value)
{
	char enc[XCLIENT_MAX];
	int n, e = xtext_encode(value, enc, sizeof(enc));

	if (e < 0 || len >= cap)
		return len;
	n = snprintf(out + len, cap - len, " %s=%s", name, enc);
	if (n < 0 || (size_t)n >= cap - len) {
		out[len] = '\0';
		return len;
	}
	return len + (size_t)n;
}

unsigned int xclient_attr_bits(const char *list, size_t len)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} names[] = {
		{ "NAME", XA_NAME },
		{ "ADDR", XA_ADDR },
		{ "PORT", XA_PORT },
		{ "PROTO", XA_PROTO },
		{ "HELO", XA_HELO },
		{ "LOGIN", XA_LOGIN },
		{ "REVERSE_NAME", XA_REVERSE_NAME },
		{ "DESTADDR", XA_DESTADDR },
		{ "DESTPORT", XA_DESTPORT },
	};
	unsigned int bits = 0;
	size_t i = 0, k;
	int any = 0;

	while (i < len) {
		size_t n;

		while (i < len && list[i] == ' ')
			i++;
		for (n = 0; i + n < len && list[i + n] != ' '; n++)
			;
		any |= n > 0;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strlen(names[k].name) == n && !strncasecmp(list + i, names[k].name, n))
				bits |= names[k].bit;
		i += n;
	}
	/* A bare "XCLIENT" (the first servers) means the original four; a list
	 * of names all unknown means none of ours. */
	return any ? bits : XA_NAME | XA_ADDR | XA_PROTO | XA_HELO;
}

int xclient_line(const struct xclient_attrs *a, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN + 5], ip[INET6_ADDRSTRLEN], port[8];
	size_t cap = outlen < XCLIENT_MAX ? outlen : XCLIENT_MAX, len;
	unsigned int pn, ok = a->offered;

	if (cap < 3 || !a->addr || !(ok & XA_ADDR) ||
	    (a->addr->sa_family != AF_INET && a->addr->sa_family != AF_INET6))
		return -1;
	cap -= 2; /* room for CRLF */
	px_addr_port(a->addr, ip, sizeof(ip), &pn);
	snprintf(addr, sizeof(addr), "%s%s", a->addr->sa_family == AF_INET6 ? "IPV6:" : "", ip);
	snprintf(port, sizeof(port), "%u", pn);
	if (cap <= 7)
		return -1;
	memcpy(out, "XCLIENT", 8);
	len = attr(out, 7, cap, "ADDR", addr);
	if (len == 7)
		return -1; /* an XCLIENT without ADDR says nothing useful */
	if (ok & XA_PORT)
		len = attr(out, len, cap, "PORT", port);
	/* Without a lookup, the backend is told the name is unknown rather than
	 * left with the gateway's. */
	if (ok & XA_NAME)
		len = attr(out, len, cap, "NAME", a->name ? a->name : "[UNAVAILABLE]");
	if ((ok & XA_REVERSE_NAME) && a->reverse)
		len = attr(out, len, cap, "REVERSE_NAME", a->reverse);
	if ((ok & XA_PROTO) && a->proto)
		len = attr(out, len, cap, "PROTO", a->proto);
	if ((ok & XA_LOGIN) && a->login && *a->login)
		len = attr(out, len, cap, "LOGIN", a->login);
	if ((ok & XA_HELO) && a->helo && *a->helo)
		len = attr(out, len, cap, "HELO", a->helo); /* last: the first to go */
	memcpy(out + len, "\r\n", 3);
	return (int)len + 2;
}
