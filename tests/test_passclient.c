// SPDX-License-Identifier: GPL-2.0
/*
 * test_passclient.c - telling the backend who the client is: PROXY protocol v1
 * and v2 headers, xtext (RFC 3461) and the XCLIENT command line.
 *
 * Headers are written into exact-size heap buffers (ASan sees a write past the
 * end): the size a header needs must be enough, one byte less must give -1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../proxy/passclient.h"
#include "lib/held.h"

/* Heap buffers freed by .fini too, when a failed assertion leaves early. */
static struct th_held held = { .cap = 4 };

static void release(void)
{
	th_release(&held);
}

TestSuite(passclient, .fini = release);

static struct sockaddr_in v4(const char *a, unsigned short port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, a, &s.sin_addr), 1, "bad test address %s", a);
	return s;
}

static struct sockaddr_in6 v6(const char *a, unsigned short port)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1, "bad test address %s", a);
	return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* ---- PROXY v1 ---- */

/* The v1 header for src/dst must be want, fit a buffer of exactly its length
 * plus the terminator, and not fit one byte less. */
static void v1_is(const struct sockaddr *src, const struct sockaddr *dst, int local,
		  const char *want)
{
	size_t n = strlen(want);
	char *out = th_hold(&held, NULL, n + 1);
	int rc;

	rc = pp_v1(src, dst, local, out, n + 1);
	cr_assert_eq(rc, (int)n, "got length %d, want %zu for '%s'", rc, n, want);
	cr_assert_str_eq(out, want, "got '%s', want '%s'", out, want);
	th_let_go(&held, out);
	out = th_hold(&held, NULL, n);
	rc = pp_v1(src, dst, local, out, n);
	cr_assert_eq(rc, -1, "got %d with a buffer one byte short, want -1", rc);
	th_let_go(&held, out);
	cr_assert_lt(n, (size_t)PP_V1_MAX, "got %zu bytes, more than PP_V1_MAX", n);
}

Test(passclient, v1_ipv4)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000), d = v4("198.51.100.1", 25);

	v1_is(SA(s), SA(d), 0, "PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\r\n");
	s = v4("0.0.0.0", 0);
	d = v4("255.255.255.255", 65535);
	v1_is(SA(s), SA(d), 0, "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
}

Test(passclient, v1_ipv6)
{
	struct sockaddr_in6 s = v6("2001:db8::10", 40000), d = v6("2001:db8::1", 587);

	v1_is(SA(s), SA(d), 0, "PROXY TCP6 2001:db8::10 2001:db8::1 40000 587\r\n");
	s = v6("::ffff:192.0.2.10", 1);
	v1_is(SA(s), SA(d), 0, "PROXY TCP6 ::ffff:192.0.2.10 2001:db8::1 1 587\r\n");
}

/* The longest header there is: within the spec's 107 characters. */
Test(passclient, v1_longest)
{
	struct sockaddr_in6 s = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), d = s;

	v1_is(SA(s), SA(d), 0,
	      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
}

Test(passclient, v1_unknown)
{
	struct sockaddr_in s4 = v4("192.0.2.10", 40000), d4 = v4("198.51.100.1", 25);
	struct sockaddr_in6 s6 = v6("2001:db8::10", 40000), d6 = v6("2001:db8::1", 25);
	struct sockaddr un = { .sa_family = AF_UNIX };

	/* local: a connection of the proxy's own, addresses or not */
	v1_is(NULL, NULL, 1, "PROXY UNKNOWN\r\n");
	v1_is(SA(s4), SA(d4), 1, "PROXY UNKNOWN\r\n");
	v1_is(SA(s6), SA(d6), 1, "PROXY UNKNOWN\r\n");
	/* mixed or unsupported families */
	v1_is(SA(s4), SA(d6), 0, "PROXY UNKNOWN\r\n");
	v1_is(SA(s6), SA(d4), 0, "PROXY UNKNOWN\r\n");
	v1_is(&un, &un, 0, "PROXY UNKNOWN\r\n");
	v1_is(SA(s4), NULL, 0, "PROXY UNKNOWN\r\n");
	v1_is(NULL, SA(d4), 0, "PROXY UNKNOWN\r\n");
}

Test(passclient, v1_no_room)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000), d = v4("198.51.100.1", 25);
	char out[4] = "xyz";

	cr_assert_eq(pp_v1(SA(s), SA(d), 0, out, 0), -1, "got a header in 0 bytes");
	cr_assert_str_eq(out, "xyz", "got the buffer written with outlen 0");
	cr_assert_eq(pp_v1(NULL, NULL, 1, out, 1), -1, "got a header in 1 byte");
}

/* ---- PROXY v2 ---- */

static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				       0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* The v2 header must be want (n bytes), fit exactly n, and not n - 1. */
static void v2_is(const struct sockaddr *src, const struct sockaddr *dst, int local,
		  const unsigned char *want, size_t n)
{
	unsigned char *out = th_hold(&held, NULL, n);
	int rc;

	rc = pp_v2(src, dst, local, out, n);
	cr_assert_eq(rc, (int)n, "got length %d, want %zu", rc, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(out[i], want[i], "byte %zu: got 0x%02x, want 0x%02x", i, out[i],
			     want[i]);
	th_let_go(&held, out);
	out = th_hold(&held, NULL, n - 1);
	rc = pp_v2(src, dst, local, out, n - 1);
	cr_assert_eq(rc, -1, "got %d with %zu bytes of room, want -1", rc, n - 1);
	th_let_go(&held, out);
	cr_assert_leq(n, (size_t)PP_V2_MAX, "got %zu bytes, more than PP_V2_MAX", n);
}

Test(passclient, v2_signature)
{
	cr_assert_eq(PP2_SIGNATURE_LEN, 12);
	cr_assert(!memcmp(PP2_SIGNATURE, sig, 12), "got PP2_SIGNATURE not the spec's");
}

Test(passclient, v2_ipv4)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000), d = v4("198.51.100.1", 25);
	unsigned char want[28];

	memcpy(want, sig, 12);
	memcpy(want + 12,
	       (const unsigned char[]){
		   0x21, 0x11, 0x00, 0x0c, /* v2 PROXY, TCP over IPv4, 12 bytes */
		   192, 0, 2, 10,	   /* source address */
		   198, 51, 100, 1,	   /* destination address */
		   0x9c, 0x40,		   /* 40000 */
		   0x00, 0x19,		   /* 25 */
	       },
	       16);
	v2_is(SA(s), SA(d), 0, want, sizeof(want));
}

Test(passclient, v2_ipv6)
{
	struct sockaddr_in6 s = v6("2001:db8::10", 40000), d = v6("2001:db8:1::ab:1", 587);
	unsigned char want[52];

	memcpy(want, sig, 12);
	memcpy(want + 12,
	       (const unsigned char[]){
		   0x21, 0x21, 0x00, 0x24, /* v2 PROXY, TCP over IPv6, 36 bytes */
		   0x20, 0x01, 0x0d, 0xb8, 0,	 0,    0,    0,	   0,	 0,    0, 0,
		   0,	 0,    0,    0x10, 0x20, 0x01, 0x0d, 0xb8, 0,	 1,    0, 0,
		   0,	 0,    0,    0,	   0,	 0xab, 0,    0x01, 0x9c, 0x40, /* 40000 */
		   0x02, 0x4b,						       /* 587 */
	       },
	       40);
	v2_is(SA(s), SA(d), 0, want, sizeof(want));
}

Test(passclient, v2_local)
{
	struct sockaddr_in s4 = v4("192.0.2.10", 40000), d4 = v4("198.51.100.1", 25);
	struct sockaddr_in6 d6 = v6("2001:db8::1", 25);
	struct sockaddr un = { .sa_family = AF_UNIX };
	unsigned char want[16];

	memcpy(want, sig, 12);
	memcpy(want + 12, (const unsigned char[]){ 0x20, 0x00, 0x00, 0x00 }, 4);
	v2_is(NULL, NULL, 1, want, 16);	    /* health checks */
	v2_is(SA(s4), SA(d4), 1, want, 16); /* local wins over addresses */
	v2_is(SA(s4), SA(d6), 0, want, 16); /* mixed families */
	v2_is(SA(d6), SA(s4), 0, want, 16);
	v2_is(&un, &un, 0, want, 16);
	v2_is(SA(s4), NULL, 0, want, 16);
}

Test(passclient, v2_no_room)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000), d = v4("198.51.100.1", 25);
	unsigned char out[16];

	memset(out, 0xee, sizeof(out));
	cr_assert_eq(pp_v2(SA(s), SA(d), 0, out, 0), -1);
	cr_assert_eq(pp_v2(NULL, NULL, 1, out, 15), -1);
	for (size_t i = 0; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0xee, "byte %zu written with too little room", i);
}

/* ---- xtext ---- */

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3461 4: xtext = *( xchar / hexchar ), hexchar = "+" 2 upper-case hex. */
static size_t xtext_decode(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		cr_assert_lt(o + 1, cap);
		if (c == '+') {
			int h = unhex(in[1]), l = h < 0 ? -1 : unhex(in[2]);

			cr_assert(h >= 0 && l >= 0,
				  "got '+' not followed by 2 upper-case hex digits");
			out[o++] = (char)(h << 4 | l);
			in += 2;
			continue;
		}
		cr_assert(c >= '!' && c <= '~' && c != '=', "got 0x%02x in xtext", c);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

Test(passclient, xtext_every_byte)
{
	static char in[256], enc[256 * 3 + 1], dec[256];
	int n;

	/* Bytes 1..255 (a C string cannot hold 0). */
	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	n = xtext_encode(in, enc, sizeof(enc));
	cr_assert_gt(n, 0, "got %d", n);
	cr_assert_eq((size_t)n, strlen(enc), "got length %d, strlen %zu", n, strlen(enc));
	/* 92 printable bytes stay (the 94 of '!'..'~' but '+' and '='), 163 become +HH */
	cr_assert_eq(n, 92 + 163 * 3, "got %d, want %d", n, 92 + 163 * 3);
	cr_assert_eq(xtext_decode(enc, dec, sizeof(dec)), 255);
	cr_assert_str_eq(dec, in, "got a different round trip");

	/* each byte alone */
	for (int i = 1; i < 256; i++) {
		char one[2] = { (char)i, 0 }, e[8], want[8];
		int literal = i >= '!' && i <= '~' && i != '+' && i != '=';

		if (literal)
			snprintf(want, sizeof(want), "%c", i);
		else
			snprintf(want, sizeof(want), "+%02X", i);
		n = xtext_encode(one, e, sizeof(e));
		cr_assert_str_eq(e, want, "byte 0x%02x: got '%s', want '%s'", i, e, want);
		cr_assert_eq(n, literal ? 1 : 3, "byte 0x%02x: got length %d", i, n);
	}
}

Test(passclient, xtext_examples)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "" },
		{ "user@example.org", "user@example.org" },
		{ "a b", "a+20b" },
		{ "a+b=c", "a+2Bb+3Dc" },
		{ "[UNAVAILABLE]", "[UNAVAILABLE]" },
		{ "IPV6:2001:db8::1", "IPV6:2001:db8::1" },
		{ "x\r\nMAIL FROM:<a@b>", "x+0D+0AMAIL+20FROM:<a@b>" },
		{ "\xc3\xa9", "+C3+A9" },
		{ "\x7f~!", "+7F~!" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t wl = strlen(cases[i].want);
		char *out = th_hold(&held, NULL, wl + 1);
		int n = xtext_encode(cases[i].in, out, wl + 1);

		cr_assert_eq(n, (int)wl, "'%s': got %d, want %zu", cases[i].in, n, wl);
		cr_assert_str_eq(out, cases[i].want, "got '%s', want '%s'", out, cases[i].want);
		th_let_go(&held, out);
		/* one byte short: -1, and nothing past the buffer */
		if (wl) {
			out = th_hold(&held, NULL, wl);
			n = xtext_encode(cases[i].in, out, wl);
			cr_assert_eq(n, -1, "'%s': got %d with one byte short, want -1",
				     cases[i].in, n);
			th_let_go(&held, out);
		}
	}
	cr_assert_eq(xtext_encode("a", NULL, 0), -1, "got a result with outlen 0");
}

/* ---- XCLIENT ---- */

/* A well-formed line: "XCLIENT" then attributes, ends in CRLF, no other CR or
 * LF, within XCLIENT_MAX, and the length returned is the string's. */
static void xclient_ok(const char *line, int n)
{
	cr_assert_gt(n, 0, "got %d", n);
	cr_assert_eq((size_t)n, strlen(line), "got length %d, strlen %zu", n, strlen(line));
	cr_assert_leq(n, XCLIENT_MAX, "got %d bytes, more than %d", n, XCLIENT_MAX);
	cr_assert(!strncmp(line, "XCLIENT ", 8), "got '%s', want it to start 'XCLIENT '", line);
	cr_assert(n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n',
		  "got '%s', want it to end in CRLF", line);
	cr_assert_eq(strcspn(line, "\r\n"), (size_t)n - 2, "got a CR or LF inside '%s'", line);
}

/* What Postfix 3.7 offers. */
#define XA_ALL                                                                                     \
	(XA_NAME | XA_ADDR | XA_PORT | XA_PROTO | XA_HELO | XA_LOGIN | XA_REVERSE_NAME |           \
	 XA_DESTADDR | XA_DESTPORT)

static void xclient_is(const struct xclient_attrs *a, const char *want)
{
	size_t wl = strlen(want);
	char *out = th_hold(&held, NULL, wl + 1);
	int n = xclient_line(a, out, wl + 1);

	xclient_ok(out, n);
	cr_assert_str_eq(out, want, "got '%s', want '%s'", out, want);
	th_let_go(&held, out);
	out = th_hold(&held, NULL, XCLIENT_MAX + 1);
	n = xclient_line(a, out, XCLIENT_MAX + 1);
	cr_assert_str_eq(out, want, "with XCLIENT_MAX + 1: got '%s', want '%s'", out, want);
	th_let_go(&held, out);
}

Test(passclient, xclient_ipv4)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000);
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .helo = "client.example.org",
				   .proto = "ESMTP",
				   .login = NULL };

	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=[UNAVAILABLE] PROTO=ESMTP "
		       "HELO=client.example.org\r\n");
}

Test(passclient, xclient_ipv6)
{
	struct sockaddr_in6 s = v6("2001:db8::10", 2525);
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .helo = "[IPv6:2001:db8::10]",
				   .proto = "SMTP",
				   .login = NULL };

	xclient_is(&a, "XCLIENT ADDR=IPV6:2001:db8::10 PORT=2525 NAME=[UNAVAILABLE] PROTO=SMTP "
		       "HELO=[IPv6:2001:db8::10]\r\n");
}

Test(passclient, xclient_login)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000);
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .helo = "h",
				   .proto = "ESMTP",
				   .login = "user+x@example.org" };

	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=[UNAVAILABLE] PROTO=ESMTP "
		       "LOGIN=user+2Bx@example.org HELO=h\r\n");
	a.login = "";
	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=[UNAVAILABLE] PROTO=ESMTP "
		       "HELO=h\r\n");
	a.login = NULL;
	a.helo = NULL;
	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=[UNAVAILABLE] PROTO=ESMTP\r\n");
	a.helo = "";
	a.proto = NULL;
	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=[UNAVAILABLE]\r\n");
}

/* A HELO that smuggles a command is xtext: no CR or LF gets through. */
Test(passclient, xclient_helo_encoded)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000);
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .helo = "x\r\nRCPT TO:<a@b> =+",
				   .proto = "ESMTP",
				   .login = "a b\n" };

	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=[UNAVAILABLE] PROTO=ESMTP "
		       "LOGIN=a+20b+0A HELO=x+0D+0ARCPT+20TO:<a@b>+20+3D+2B\r\n");
}

/* A HELO too long for the line is the first thing left out. */
Test(passclient, xclient_long_helo_dropped)
{
	struct sockaddr_in6 s = v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	static char helo[600], line[1024];
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .helo = helo,
				   .proto = "ESMTP",
				   .login = "someone@example.org" };
	static const char base[] = "XCLIENT ADDR=IPV6:2001:db8:ffff:ffff:ffff:ffff:ffff:ffff "
				   "PORT=65535 NAME=[UNAVAILABLE] PROTO=ESMTP "
				   "LOGIN=someone@example.org";
	size_t room = XCLIENT_MAX - 2 - (sizeof(base) - 1) - strlen(" HELO=");
	int n;

	/* every HELO length around what fits */
	for (size_t hl = room > 20 ? room - 20 : 1; hl < room + 20; hl++) {
		memset(helo, 'h', hl);
		helo[hl] = '\0';
		n = xclient_line(&a, line, sizeof(line));
		xclient_ok(line, n);
		cr_assert(!strncmp(line, base, sizeof(base) - 1), "HELO %zu: got '%s'", hl, line);
		if (strstr(line, " HELO=")) {
			cr_assert_eq(strlen(strstr(line, " HELO=")), 6 + hl + 2,
				     "HELO %zu: got it cut: '%s'", hl, line);
		} else {
			cr_assert_eq(strlen(line), sizeof(base) - 1 + 2, "HELO %zu: got '%s'", hl,
				     line);
			/* dropped only when it would not have fitted */
			cr_assert_gt(sizeof(base) - 1 + 6 + hl + 2, (size_t)XCLIENT_MAX - 1,
				     "HELO %zu dropped though it fitted", hl);
		}
	}
	/* far too long, and one whose xtext is three times as long */
	memset(helo, 'h', 590);
	helo[590] = '\0';
	n = xclient_line(&a, line, sizeof(line));
	xclient_ok(line, n);
	cr_assert_null(strstr(line, "HELO="), "got a 590-byte HELO kept: %d bytes", n);
	memset(helo, '+', 200);
	helo[200] = '\0';
	n = xclient_line(&a, line, sizeof(line));
	xclient_ok(line, n);
	cr_assert_null(strstr(line, "HELO="), "got a 600-byte xtext HELO kept: %d bytes", n);
	cr_assert(strstr(line, " LOGIN=someone@example.org\r\n"), "got LOGIN lost: '%s'", line);
}

/* Only what the server offers: Postfix answers 501 to an attribute it does
 * not know. A verified name and the PTR name go as NAME and REVERSE_NAME. */
Test(passclient, xclient_offered_only)
{
	struct sockaddr_in s = v4("192.0.2.10", 40000);
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .name = "client.example",
				   .reverse = "client.example",
				   .helo = "h",
				   .proto = "ESMTP" };
	const char *list = "NAME ADDR PORT PROTO HELO REVERSE_NAME LOGIN DESTADDR DESTPORT";

	cr_assert_eq(xclient_attr_bits(list, strlen(list)), XA_ALL, "got %#x for Postfix's list",
		     xclient_attr_bits(list, strlen(list)));
	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 PORT=40000 NAME=client.example "
		       "REVERSE_NAME=client.example PROTO=ESMTP HELO=h\r\n");
	list = "name  addr helo";
	a.offered = xclient_attr_bits(list, strlen(list));
	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 NAME=client.example HELO=h\r\n");
	/* an old server that lists nothing: the original four */
	a.offered = xclient_attr_bits("", 0);
	xclient_is(&a, "XCLIENT ADDR=192.0.2.10 NAME=client.example PROTO=ESMTP HELO=h\r\n");
	/* without ADDR, nothing worth saying */
	a.offered = XA_NAME | XA_HELO;
	cr_assert_eq(xclient_line(&a, (char[600]){ 0 }, 600), -1, "got a line without ADDR");
}

Test(passclient, xclient_refused)
{
	struct sockaddr un = { .sa_family = AF_UNIX };
	struct xclient_attrs a = {
		.offered = XA_ALL, .addr = NULL, .helo = "h", .proto = "ESMTP", .login = NULL
	};
	char out[600];

	cr_assert_eq(xclient_line(&a, out, sizeof(out)), -1, "got a line without an address");
	a.addr = &un;
	cr_assert_eq(xclient_line(&a, out, sizeof(out)), -1, "got a line for AF_UNIX");
}

/*
 * Any outlen: a line that fits in outlen (terminator included) and still says
 * ADDR (Postfix: "XCLIENT 1*( SP attribute-name=attribute-value )"; without
 * the address it tells the backend nothing), or -1. Never a byte written past
 * outlen: the buffer is exact-size.
 */
Test(passclient, xclient_any_outlen)
{
	struct sockaddr_in6 s = v6("2001:db8::10", 2525);
	struct xclient_attrs a = { .offered = XA_ALL,
				   .addr = SA(s),
				   .helo = "client.example.org",
				   .proto = "ESMTP",
				   .login = "user" };

	for (size_t outlen = 0; outlen <= XCLIENT_MAX + 2; outlen++) {
		char *out = th_hold(&held, NULL, outlen);
		int n = xclient_line(&a, out, outlen);

		if (n != -1) {
			cr_assert_lt((size_t)n, outlen, "outlen %zu: got length %d", outlen, n);
			xclient_ok(out, n);
			cr_assert(!strncmp(out, "XCLIENT ADDR=IPV6:2001:db8::10", 30),
				  "outlen %zu: got '%s', want ADDR in it", outlen, out);
		}
		th_let_go(&held, out);
	}
}
