// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_passclient.c - libFuzzer target for the PROXY protocol and XCLIENT
 * encoders: pp_v1, pp_v2, xtext_encode, xclient_line.
 *
 * Input: byte 0 flags (bit 0: source IPv6, bit 1: destination IPv6, bit 2:
 * local, bit 3: no source, bit 4: no destination, bit 5: source AF_UNIX,
 * bit 6: a verified NAME, bit 7: a REVERSE_NAME), 16 + 16 address bytes,
 * 2 + 2 port bytes, 2 bytes of an XCLIENT buffer size (0..699), 2 bytes of
 * the XCLIENT attributes the server offers, then HELO, LOGIN and PROTO
 * strings separated by NUL bytes.
 *
 * Every result is written into an exact-size heap buffer (ASan sees a write past
 * it) and checked (violations abort):
 *   - v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" that parses back to the
 *     addresses and ports, or "PROXY UNKNOWN\r\n" for local / mixed / other
 *     families; shorter than PP_V1_MAX; one byte less of room gives -1;
 *   - v2: the signature, 0x21 with family 0x11/0x21 and 12/36 bytes of
 *     addresses and ports in network order, or 0x20 LOCAL with none;
 *   - xtext: the length predicted byte by byte, decodes back to its input,
 *     -1 with one byte less of room;
 *   - XCLIENT: with XCLIENT_MAX + 1 bytes of room a line of at most 512 bytes,
 *     "XCLIENT ADDR=... PORT=... NAME=... ...", only attributes the server
 *     offered, CRLF at its end and nowhere else, every value xtext that
 *     decodes to what was given; with any other room, -1 or such a line that
 *     fits (and still says ADDR); -1 when ADDR is not offered.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 41

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_passclient: %s\n", what);
	abort();
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

static int is_inet(const struct sockaddr *sa)
{
	return sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6);
}

static int same_family(const struct sockaddr *a, const struct sockaddr *b)
{
	return is_inet(a) && is_inet(b) && a->sa_family == b->sa_family;
}

static void addr_str(const struct sockaddr *sa, char *buf, size_t len, unsigned int *port)
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

static void check_v1(const struct sockaddr *src, const struct sockaddr *dst, int local)
{
	char big[256], want[256], sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], *exact;
	unsigned int sp, dp;
	int n, m;

	n = pp_v1(src, dst, local, big, sizeof(big));
	if (n <= 0 || n >= PP_V1_MAX)
		fail("v1: length out of range");
	if ((size_t)n != strlen(big))
		fail("v1: length is not the string's");
	if (local || !same_family(src, dst)) {
		snprintf(want, sizeof(want), "PROXY UNKNOWN\r\n");
	} else {
		addr_str(src, sa, sizeof(sa), &sp);
		addr_str(dst, da, sizeof(da), &dp);
		snprintf(want, sizeof(want), "PROXY %s %s %s %u %u\r\n",
			 src->sa_family == AF_INET ? "TCP4" : "TCP6", sa, da, sp, dp);
	}
	if (strcmp(big, want))
		fail("v1: not the header of these addresses");
	if (strcspn(big, "\r\n") != (size_t)n - 2)
		fail("v1: a CR or LF inside");
	exact = xmalloc((size_t)n + 1);
	m = pp_v1(src, dst, local, exact, (size_t)n + 1);
	if (m != n || memcmp(exact, big, (size_t)n + 1))
		fail("v1: another result in an exact-size buffer");
	free(exact);
	exact = xmalloc((size_t)n);
	if (pp_v1(src, dst, local, exact, (size_t)n) != -1)
		fail("v1: a result in a buffer one byte short");
	free(exact);
}

static void check_v2(const struct sockaddr *src, const struct sockaddr *dst, int local)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					       0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	unsigned char big[128], *exact;
	size_t alen;
	int n;

	n = pp_v2(src, dst, local, big, sizeof(big));
	if (memcmp(big, sig, 12))
		fail("v2: not the signature");
	if (local || !same_family(src, dst)) {
		if (n != 16 || big[12] != 0x20 || big[13] != 0x00 || big[14] || big[15])
			fail("v2: not LOCAL without addresses");
		alen = 0;
	} else if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)dst;

		alen = 12;
		if (n != 28 || big[12] != 0x21 || big[13] != 0x11 || big[14] != 0 || big[15] != 12)
			fail("v2: not a TCP4 header");
		if (memcmp(big + 16, &s->sin_addr, 4) || memcmp(big + 20, &d->sin_addr, 4) ||
		    big[24] != (ntohs(s->sin_port) >> 8) || big[25] != (ntohs(s->sin_port) & 255) ||
		    big[26] != (ntohs(d->sin_port) >> 8) || big[27] != (ntohs(d->sin_port) & 255))
			fail("v2: TCP4 addresses or ports wrong");
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)dst;

		alen = 36;
		if (n != 52 || big[12] != 0x21 || big[13] != 0x21 || big[14] != 0 || big[15] != 36)
			fail("v2: not a TCP6 header");
		if (memcmp(big + 16, &s->sin6_addr, 16) || memcmp(big + 32, &d->sin6_addr, 16) ||
		    big[48] != (ntohs(s->sin6_port) >> 8) ||
		    big[49] != (ntohs(s->sin6_port) & 255) ||
		    big[50] != (ntohs(d->sin6_port) >> 8) || big[51] != (ntohs(d->sin6_port) & 255))
			fail("v2: TCP6 addresses or ports wrong");
	}
	if ((size_t)n != 16 + alen || n > PP_V2_MAX)
		fail("v2: length wrong");
	exact = xmalloc((size_t)n);
	if (pp_v2(src, dst, local, exact, (size_t)n) != n || memcmp(exact, big, (size_t)n))
		fail("v2: another result in an exact-size buffer");
	free(exact);
	exact = xmalloc((size_t)n - 1);
	if (pp_v2(src, dst, local, exact, (size_t)n - 1) != -1)
		fail("v2: a result in a buffer one byte short");
	free(exact);
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode xtext s[0..n) into out (at least n + 1 bytes); -1 if it is not xtext. */
static long xtext_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = unhex(s[i + 1]);
			l = unhex(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			out[o++] = (char)(h << 4 | l);
			i += 2;
		} else if (c >= '!' && c <= '~' && c != '=') {
			out[o++] = (char)c;
		} else {
			return -1;
		}
	}
	out[o] = '\0';
	return (long)o;
}

static void check_xtext(const char *s)
{
	size_t want = 0, len = strlen(s);
	char *exact, *dec;
	int n;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		want += c >= '!' && c <= '~' && c != '+' && c != '=' ? 1 : 3;
	}
	exact = xmalloc(want + 1);
	n = xtext_encode(s, exact, want + 1);
	if (n < 0 || (size_t)n != want || strlen(exact) != want)
		fail("xtext: length not the predicted one");
	dec = xmalloc(want + 1);
	if (xtext_decode(exact, want, dec) != (long)len || strcmp(dec, s))
		fail("xtext: does not decode to its input");
	free(dec);
	free(exact);
	exact = xmalloc(want);
	if (xtext_encode(s, exact, want) != -1)
		fail("xtext: a result in a buffer one byte short");
	free(exact);
}

/* Check an XCLIENT line: shape, attributes, values. */
static void check_xclient_line(const char *line, int n, const struct xclient_attrs *a)
{
	static const char *const order[] = { "ADDR",  "PORT",  "NAME", "REVERSE_NAME",
					     "PROTO", "LOGIN", "HELO" };
	static const unsigned int bit[] = { XA_ADDR,  XA_PORT,	XA_NAME, XA_REVERSE_NAME,
					    XA_PROTO, XA_LOGIN, XA_HELO };
	char ip[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN + 8], val[XCLIENT_MAX + 1];
	const char *p, *end;
	unsigned int port;
	int next = 0, seen_addr = 0;

	if (n <= 0 || n > XCLIENT_MAX || (size_t)n != strlen(line))
		fail("xclient: length out of range or not the string's");
	if (n < 2 || line[n - 2] != '\r' || line[n - 1] != '\n')
		fail("xclient: not ended by CRLF");
	if (strcspn(line, "\r\n") != (size_t)n - 2)
		fail("xclient: a CR or LF inside");
	if (strncmp(line, "XCLIENT", 7))
		fail("xclient: does not start with XCLIENT");
	addr_str(a->addr, ip, sizeof(ip), &port);
	end = line + n - 2;
	p = line + 7;
	while (p < end) {
		const char *sp, *eq;
		size_t k;
		long vl;
		int i;

		if (*p != ' ')
			fail("xclient: attributes not separated by one space");
		p++;
		sp = memchr(p, ' ', (size_t)(end - p));
		if (!sp)
			sp = end;
		eq = memchr(p, '=', (size_t)(sp - p));
		if (!eq)
			fail("xclient: an attribute without '='");
		k = (size_t)(eq - p);
		for (i = next; i < 7; i++)
			if (strlen(order[i]) == k && !memcmp(p, order[i], k))
				break;
		if (i == 7)
			fail("xclient: an unknown, repeated or misplaced attribute");
		if (!(a->offered & bit[i]))
			fail("xclient: an attribute the server did not offer");
		next = i + 1;
		vl = xtext_decode(eq + 1, (size_t)(sp - eq - 1), val);
		if (vl < 0)
			fail("xclient: a value that is not xtext");
		switch (i) {
		case 0:
			snprintf(want, sizeof(want), "%s%s",
				 a->addr->sa_family == AF_INET6 ? "IPV6:" : "", ip);
			if (strcmp(val, want))
				fail("xclient: ADDR is not the client's");
			seen_addr = 1;
			break;
		case 1:
			snprintf(want, sizeof(want), "%u", port);
			if (strcmp(val, want))
				fail("xclient: PORT is not the client's");
			break;
		case 2:
			if (strcmp(val, a->name ? a->name : "[UNAVAILABLE]"))
				fail("xclient: NAME is not the one given, or [UNAVAILABLE]");
			break;
		case 3:
			if (!a->reverse || strcmp(val, a->reverse))
				fail("xclient: REVERSE_NAME is not the one given");
			break;
		case 4:
			if (!a->proto || strcmp(val, a->proto))
				fail("xclient: PROTO is not the one given");
			break;
		case 5:
			if (!a->login || !*a->login || strcmp(val, a->login))
				fail("xclient: LOGIN is not the one given");
			break;
		case 6:
			if (!a->helo || !*a->helo || strcmp(val, a->helo))
				fail("xclient: HELO is not the one given");
			break;
		}
		p = sp;
	}
	if (!seen_addr)
		fail("xclient: a line without ADDR");
}

static void check_xclient(const struct xclient_attrs *a, size_t outlen)
{
	char *big = xmalloc(XCLIENT_MAX + 1), *exact;
	int n = xclient_line(a, big, XCLIENT_MAX + 1);

	if (!is_inet(a->addr) || !(a->offered & XA_ADDR)) {
		if (n != -1)
			fail("xclient: a line without an IPv4 or IPv6 ADDR to send");
		free(big);
		return;
	}
	check_xclient_line(big, n, a);
	/* what fits in 512 is kept: the first attributes are always there */
	if (strncmp(big, "XCLIENT ADDR=", 13) ||
	    (!strstr(big, " PORT=") && (a->offered & XA_PORT)) ||
	    (!strstr(big, " NAME=") && (a->offered & XA_NAME)))
		fail("xclient: ADDR, PORT or NAME left out of a 512-byte line");
	if (a->proto && strlen(a->proto) < 100 && (a->offered & XA_PROTO) &&
	    !strstr(big, " PROTO="))
		fail("xclient: a short PROTO left out");
	/* exactly its size */
	exact = xmalloc((size_t)n + 1);
	if (xclient_line(a, exact, (size_t)n + 1) != n || strcmp(exact, big))
		fail("xclient: another line in an exact-size buffer");
	free(exact);
	/* any other room: -1, or a line that fits */
	exact = xmalloc(outlen);
	n = xclient_line(a, exact, outlen);
	if (n != -1) {
		if ((size_t)n >= outlen)
			fail("xclient: a line longer than the room given");
		check_xclient_line(exact, n, a);
	}
	free(exact);
	free(big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR];
	struct sockaddr_storage ss, ds;
	struct sockaddr *src = (struct sockaddr *)&ss, *dst = (struct sockaddr *)&ds;
	struct xclient_attrs a;
	char *str[3] = { NULL, NULL, NULL }, *rest;
	size_t rlen, outlen, pos = 0;
	int flags, local;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, data, size < HDR ? size : HDR);
	flags = hdr[0];
	local = !!(flags & 4);
	memset(&ss, 0, sizeof(ss));
	memset(&ds, 0, sizeof(ds));
	if (flags & 32) {
		src->sa_family = AF_UNIX;
	} else if (flags & 1) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)src;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, hdr + 1, 16);
		memcpy(&s->sin6_port, hdr + 33, 2);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)src;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, hdr + 1, 4);
		memcpy(&s->sin_port, hdr + 33, 2);
	}
	if (flags & 2) {
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)dst;

		d->sin6_family = AF_INET6;
		memcpy(&d->sin6_addr, hdr + 17, 16);
		memcpy(&d->sin6_port, hdr + 35, 2);
	} else {
		struct sockaddr_in *d = (struct sockaddr_in *)dst;

		d->sin_family = AF_INET;
		memcpy(&d->sin_addr, hdr + 17, 4);
		memcpy(&d->sin_port, hdr + 35, 2);
	}
	outlen = (size_t)(hdr[37] | hdr[38] << 8) % 700;

	/* HELO, LOGIN, PROTO: NUL-separated, each its own exact-size string. */
	rest = (char *)data + (size < HDR ? size : HDR);
	rlen = size < HDR ? 0 : size - HDR;
	for (int i = 0; i < 3 && pos <= rlen; i++) {
		const char *nul = memchr(rest + pos, '\0', rlen - pos);
		size_t l = nul ? (size_t)(nul - rest - pos) : rlen - pos;

		if (pos == rlen && i)
			break;
		str[i] = xmalloc(l + 1);
		memcpy(str[i], rest + pos, l);
		str[i][l] = '\0';
		pos += l + 1;
	}

	check_v1(flags & 8 ? NULL : src, flags & 16 ? NULL : dst, local);
	check_v2(flags & 8 ? NULL : src, flags & 16 ? NULL : dst, local);
	for (int i = 0; i < 3; i++)
		if (str[i])
			check_xtext(str[i]);

	/* Which attributes the server offers, and names known or not. */
	/* byte 40 bit 7: everything offered (Postfix); else a set of bits */
	a.offered = hdr[40] & 0x80 ? 0x1ff : (unsigned int)(hdr[39] | hdr[40] << 8) & 0x1ff;
	a.name = flags & 64 ? "client.example" : NULL;
	a.reverse = flags & 128 ? "[TEMPUNAVAIL]" : NULL;
	a.addr = flags & 8 ? NULL : src;
	a.helo = str[0];
	a.login = str[1];
	a.proto = str[2];
	check_xclient(&a, outlen);

	for (int i = 0; i < 3; i++)
		free(str[i]);
	return 0;
}
