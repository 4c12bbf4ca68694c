// SPDX-License-Identifier: GPL-2.0
/*
 * test_listfmt.c - the list format registry and the four non-plain parsers:
 * Spamhaus DROP JSON and text, DShield block.txt and "ipset save".
 *
 * Valid files: every prefix reaches the callback, in file order, with the
 * 1-based number of the line it came from. Invalid files (a cut download, a
 * missing or disagreeing completeness marker, a bad column, a set type that is
 * not a list): -EINVAL, the number of the offending line, its text (escaped)
 * and a reason. A callback error stops the parse and is returned as it is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "addr.h"
#include "listfile.h"
#include "../listsync/copyparse.h"
#include "../listsync/listfmt.h"
#include "lib/seen.h"

#define MAX_WANT 8
#define ANY_LINE ULONG_MAX /* want_line: do not check */

enum fmt_id { F_JSON, F_TEXT, F_DSHIELD, F_IPSET, F_COUNT };

/* Parsers by index: parameters are copied into re-executed workers, where a
 * function pointer taken in the parent need not be valid. */
static const me_fmt_parse_fn parsers[F_COUNT] = {
	[F_JSON] = me_fmt_spamhaus_json,
	[F_TEXT] = me_fmt_spamhaus_text,
	[F_DSHIELD] = me_fmt_dshield,
	[F_IPSET] = me_fmt_ipset_save,
};

static const char *const fmt_names[F_COUNT] = {
	[F_JSON] = "spamhaus-json",
	[F_TEXT] = "spamhaus-text",
	[F_DSHIELD] = "dshield",
	[F_IPSET] = "ipset-save",
};

/* Parse an exact-size heap copy (no terminator: ASan catches overreads). */
static int parse(int fmt, const char *in, size_t len, unsigned int flags, struct seen *s,
		 struct me_parse_err *err)
{
	return seen_parse(parsers[fmt], in, len, flags, s, err);
}

/* ---- valid input ---- */

/* Inline arrays only: Criterion copies parameters into re-executed workers. */
struct valid_case {
	char name[48];
	int fmt;
	char in[1024];
	unsigned int flags;
	int nwant;
	char want[MAX_WANT][ME_PREFIX_STRLEN];
	unsigned long want_line[MAX_WANT];
	unsigned int want_fixed; /* bit i: entry i had its host bits cleared */
};

#define META(n)                                                                                    \
	"{\"type\":\"metadata\",\"timestamp\":1795500000,\"size\":187,\"records\":" #n             \
	",\"copyright\":\"(c) 2026 The Spamhaus Project SLU\","                                    \
	"\"terms\":\"https://www.spamhaus.org/drop/terms/\"}"

#define DSHIELD_HEAD                                                                               \
	"#\n#   DShield.org Recommended Block List\n#   (c) 2026 DShield.org\n"                    \
	"#    updated: Tue Nov 24 10:00:00 2026 UTC\n#\n"                                          \
	"#    Columns (tab delimited):\n#\n"                                                       \
	"Start\tEnd\tNetblock\tAttacks\tName\tCountry\temail\n"

static const struct valid_case valid_cases[] = {
	/* Spamhaus DROP JSON */
	{ "json drop v4",
	  F_JSON,
	  "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n"
	  "{\"cidr\":\"2.56.192.0/22\",\"sblid\":\"SBL459831\",\"rir\":\"ripencc\"}\n"
	  "{\"cidr\":\"203.0.113.64/26\",\"sblid\":\"SBL000103\",\"rir\":\"apnic\"}\n" META(3) "\n",
	  0,
	  3,
	  { "1.10.16.0/20", "2.56.192.0/22", "203.0.113.64/26" },
	  { 1, 2, 3 },
	  0 },
	{ "json drop v6",
	  F_JSON,
	  "{\"cidr\":\"2001:db8:bad::/48\",\"sblid\":\"SBL000201\",\"rir\":\"ripencc\"}\n"
	  "{\"cidr\":\"2001:db8:dead::/48\",\"sblid\":\"SBL000202\",\"rir\":\"arin\"}\n" META(2),
	  0,
	  2,
	  { "2001:db8:bad::/48", "2001:db8:dead::/48" },
	  { 1, 2 },
	  0 },
	{ "json crlf and blank lines",
	  F_JSON,
	  "\r\n{\"cidr\":\"192.0.2.0/25\",\"sblid\":\"SBL1\",\"rir\":\"arin\"}\r\n\r\n"
	  "{\"cidr\":\"198.51.100.0/24\",\"sblid\":\"SBL2\",\"rir\":\"arin\"}\r\n" META(2) "\r\n",
	  0,
	  2,
	  { "192.0.2.0/25", "198.51.100.0/24" },
	  { 2, 4 },
	  0 },
	{ "json blanks around objects",
	  F_JSON,
	  "  { \"sblid\" : \"SBL1\", \"cidr\" : \"192.0.2.0/24\" }\t\n"
	  "\t" META(1) "  \n\n\n",
	  0,
	  1,
	  { "192.0.2.0/24" },
	  { 1 },
	  0 },
	{ "json empty list, records 0", F_JSON, META(0) "\n", 0, 0, { "" }, { 0 }, 0 },
	{ "json host without length",
	  F_JSON,
	  "{\"cidr\":\"192.0.2.7\",\"sblid\":\"SBL1\"}\n" META(1),
	  0,
	  1,
	  { "192.0.2.7" },
	  { 1 },
	  0 },
	{ "json host bits cleared with flag",
	  F_JSON,
	  "{\"cidr\":\"192.0.2.0/24\"}\n{\"cidr\":\"198.51.100.7/24\"}\n"
	  "{\"cidr\":\"2001:db8::1/48\"}\n" META(3),
	  ME_PFX_CLEAR_HOST,
	  3,
	  { "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/48" },
	  { 1, 2, 3 },
	  0x6 },

	/* Spamhaus DROP text */
	{ "text drop.txt",
	  F_TEXT,
	  "; Spamhaus DROP List 2026/11/24 - (c) 2026 The Spamhaus Project SLU\n"
	  "; https://www.spamhaus.org/drop/drop.txt\n"
	  "; Last-Modified: Tue, 24 Nov 2026 09:00:00 GMT\n"
	  "; Expires: Tue, 24 Nov 2026 10:00:00 GMT\n"
	  "1.10.16.0/20 ; SBL256894\n2.56.192.0/22 ; SBL459831\n203.0.113.0/24 ; SBL000303\n"
	  "; EOF\n",
	  0,
	  3,
	  { "1.10.16.0/20", "2.56.192.0/22", "203.0.113.0/24" },
	  { 5, 6, 7 },
	  0 },
	{ "text drop v6",
	  F_TEXT,
	  "; Spamhaus IPv6 DROP List 2026/11/24\n"
	  "2001:db8:bad::/48 ; SBL000201\n2001:db8:dead::/48 ; SBL000202\n; EOF",
	  0,
	  2,
	  { "2001:db8:bad::/48", "2001:db8:dead::/48" },
	  { 2, 3 },
	  0 },
	{ "text crlf",
	  F_TEXT,
	  "; Spamhaus DROP List\r\n192.0.2.0/24 ; SBL1\r\n\r\n198.51.100.0/24 ; SBL2\r\n; EOF\r\n",
	  0,
	  2,
	  { "192.0.2.0/24", "198.51.100.0/24" },
	  { 2, 4 },
	  0 },
	{ "text tabs, no blank, no comment",
	  F_TEXT,
	  "192.0.2.0/24\t;\tSBL1\n198.51.100.0/24;SBL2\n203.0.113.7\n  ;EOF  \n\n\n",
	  0,
	  3,
	  { "192.0.2.0/24", "198.51.100.0/24", "203.0.113.7" },
	  { 1, 2, 3 },
	  0 },
	{ "text # comments",
	  F_TEXT,
	  "# x\n192.0.2.0/24 ; SBL1\n# y\n; EOF\n",
	  0,
	  1,
	  { "192.0.2.0/24" },
	  { 2 },
	  0 },
	{ "text empty list", F_TEXT, "; Spamhaus DROP List\n; EOF\n", 0, 0, { "" }, { 0 }, 0 },
	{ "text host bits cleared with flag",
	  F_TEXT,
	  "192.0.2.1/24 ; SBL1\n198.51.100.0/24 ; SBL2\n; EOF\n",
	  ME_PFX_CLEAR_HOST,
	  2,
	  { "192.0.2.0/24", "198.51.100.0/24" },
	  { 1, 2 },
	  0x1 },

	/* DShield block.txt */
	{ "dshield block.txt",
	  F_DSHIELD,
	  DSHIELD_HEAD
	  "192.0.2.0\t192.0.2.255\t24\t4512\tEXAMPLE-NET-1\tZZ\tabuse@example.net\n"
	  "198.51.100.0\t198.51.100.255\t24\t2210\tEXAMPLE-NET-2\tZZ\tabuse@example.org\n"
	  "203.0.113.128\t203.0.113.255\t25\t1077\tEXAMPLE-NET-3\tZZ\t\n"
	  "#\n# end of listing 3 subnets\n",
	  0,
	  3,
	  { "192.0.2.0/24", "198.51.100.0/24", "203.0.113.128/25" },
	  { 9, 10, 11 },
	  0 },
	{ "dshield crlf, three columns",
	  F_DSHIELD,
	  "# x\r\nStart\tEnd\tNetblock\r\n192.0.2.0\t192.0.2.255\t24\r\n\r\n"
	  "198.51.100.64\t198.51.100.127\t26\r\n",
	  0,
	  2,
	  { "192.0.2.0/24", "198.51.100.64/26" },
	  { 3, 5 },
	  0 },
	{ "dshield blanks around fields",
	  F_DSHIELD,
	  "  192.0.2.0 \t 192.0.2.255 \t 24 \t 12 \t NAME \n",
	  0,
	  1,
	  { "192.0.2.0/24" },
	  { 1 },
	  0 },
	{ "dshield /32 and /1",
	  F_DSHIELD,
	  "192.0.2.7\t192.0.2.7\t32\n128.0.0.0\t255.255.255.255\t1\n",
	  0,
	  2,
	  { "192.0.2.7", "128.0.0.0/1" },
	  { 1, 2 },
	  0 },
	{ "dshield only comments", F_DSHIELD, DSHIELD_HEAD "#\n", 0, 0, { "" }, { 0 }, 0 },
	{ "dshield empty file", F_DSHIELD, "", 0, 0, { "" }, { 0 }, 0 },
	{ "dshield host bits cleared with flag",
	  F_DSHIELD,
	  "192.0.2.1\t192.0.2.255\t24\n198.51.100.0\t198.51.100.255\t24\n",
	  ME_PFX_CLEAR_HOST,
	  2,
	  { "192.0.2.0/24", "198.51.100.0/24" },
	  { 1, 2 },
	  0x1 },

	/* ipset save */
	{ "ipset hash:net and hash:ip",
	  F_IPSET,
	  "create mailedge-nets hash:net family inet hashsize 1024 maxelem 65536\n"
	  "add mailedge-nets 192.0.2.0/26\n"
	  "add mailedge-nets 198.51.100.0/24\n"
	  "create mailedge-hosts hash:ip family inet hashsize 1024 maxelem 65536 timeout 0\n"
	  "add mailedge-hosts 203.0.113.9 timeout 300\n"
	  "add mailedge-hosts 203.0.113.10 timeout 0\n"
	  "create mailedge-nets6 hash:net family inet6 hashsize 1024 maxelem 65536\n"
	  "add mailedge-nets6 2001:db8:bad::/48\n",
	  0,
	  5,
	  { "192.0.2.0/26", "198.51.100.0/24", "203.0.113.9", "203.0.113.10", "2001:db8:bad::/48" },
	  { 2, 3, 5, 6, 8 },
	  0 },
	{ "ipset element options",
	  F_IPSET,
	  "create bl hash:net family inet hashsize 1024 maxelem 65536 counters comment "
	  "skbinfo\n"
	  "add bl 192.0.2.0/24 packets 12 bytes 720 comment \"spam run, 2026-11-24\"\n"
	  "add bl 198.51.100.7 skbmark 0x1/0xffffffff comment \"one host\"\n",
	  0,
	  2,
	  { "192.0.2.0/24", "198.51.100.7" },
	  { 2, 3 },
	  0 },
	{ "ipset crlf and blanks",
	  F_IPSET,
	  "create s hash:ip family inet6\r\n\r\n  add   s\t2001:db8::25  \r\nadd s "
	  "2001:db8::26\r\n",
	  0,
	  2,
	  { "2001:db8::25", "2001:db8::26" },
	  { 3, 4 },
	  0 },
	{ "ipset create only",
	  F_IPSET,
	  "create s hash:net family inet hashsize 64\n",
	  0,
	  0,
	  { "" },
	  { 0 },
	  0 },
	{ "ipset empty file", F_IPSET, "", 0, 0, { "" }, { 0 }, 0 },
	{ "ipset host bits cleared with flag",
	  F_IPSET,
	  "create s hash:net family inet\nadd s 192.0.2.1/24\nadd s 198.51.100.0/24\n",
	  ME_PFX_CLEAR_HOST,
	  2,
	  { "192.0.2.0/24", "198.51.100.0/24" },
	  { 2, 3 },
	  0x1 },
};

ParameterizedTestParameters(listfmt, valid)
{
	return cr_make_param_array(struct valid_case, valid_cases,
				   sizeof(valid_cases) / sizeof(valid_cases[0]));
}

ParameterizedTest(const struct valid_case *c, listfmt, valid)
{
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	int rc, i;

	rc = parse(c->fmt, c->in, strlen(c->in), c->flags, &s, &err);
	cr_assert_eq(rc, 0, "%s: got rc %d (line %lu '%s': %s), want 0", c->name, rc, err.line,
		     err.text, err.why);
	cr_assert_eq(s.n, c->nwant, "%s: got %d prefixes, want %d", c->name, s.n, c->nwant);
	for (i = 0; i < c->nwant; i++) {
		int want_fixed = !!(c->want_fixed & (1u << i));

		cr_assert_str_eq(s.text[i], c->want[i], "%s: prefix %d: got %s, want %s", c->name,
				 i, s.text[i], c->want[i]);
		cr_assert_eq(s.line[i], c->want_line[i], "%s: prefix %d: got line %lu, want %lu",
			     c->name, i, s.line[i], c->want_line[i]);
		cr_assert_eq(s.fixed[i], want_fixed,
			     "%s: prefix %d (%s): got host_bits_fixed %d, want %d", c->name, i,
			     s.text[i], s.fixed[i], want_fixed);
	}
}

/* ---- invalid input ---- */

struct invalid_case {
	char name[48];
	int fmt;
	char in[640];
	size_t len; /* 0: strlen(in); set for inputs holding NUL bytes */
	unsigned int flags;
	int nbefore; /* prefixes reported before the error */
	unsigned long want_line;
	char want_why[64];  /* substring of err.why */
	char want_text[64]; /* substring of err.text */
};

#define R1 "{\"cidr\":\"192.0.2.0/25\",\"sblid\":\"SBL000101\",\"rir\":\"ripencc\"}\n"
#define R2 "{\"cidr\":\"198.51.100.0/24\",\"sblid\":\"SBL000102\",\"rir\":\"arin\"}\n"

/* Inputs with a NUL byte: their length is the literal's, not strlen's. */
#define JSON_NUL R1 "{\"cidr\":\"198.51.100.0/24\"}\0\n" META(2) "\n"
#define TEXT_NUL "192.0.2.0/24 ; SBL1\n198.51.100.0/24 ; SB\0L2\n; EOF\n"
#define DSHIELD_NUL                                                                                \
	"192.0.2.0\t192.0.2.255\t24\n198.51.100.0\t198.51.\0"                                      \
	"100.255\t24\n"
#define IPSET_NUL                                                                                  \
	"create s hash:ip\nadd s 192.0.2.1\nadd s 19\0"                                            \
	"2.0.2.2\n"

static const struct invalid_case invalid_cases[] = {
	/* Spamhaus DROP JSON */
	{ "json truncated line", F_JSON, R1 "{\"cidr\":\"198.51.100.0/24\",\"sbl", 0, 0, 1, 2,
	  "not a JSON object on one line", "{\"cidr\":\"198.51.100.0/24\",\"sbl" },
	{ "json object split over two lines", F_JSON, "{\"cidr\":\n\"192.0.2.0/24\"}\n" META(1), 0,
	  0, 0, 1, "not a JSON object on one line", "{\"cidr\":" },
	{ "json two objects on a line", F_JSON, "{\"cidr\":\"192.0.2.0/24\"}{\"cidr\":\"x\"}\n", 0,
	  0, 0, 1, "not a JSON object on one line", "" },
	{ "json missing metadata", F_JSON, R1 R2, 0, 0, 2, 2, "no metadata record", "" },
	{ "json missing metadata, cut after a record", F_JSON, R1 R2 "\n\n", 0, 0, 2, ANY_LINE,
	  "no metadata record", "" },
	{ "json empty file", F_JSON, "", 0, 0, 0, ANY_LINE, "no metadata record", "" },
	{ "json records 3, 2 read", F_JSON, R1 R2 META(3) "\n", 0, 0, 2, 3,
	  "metadata says 3 records, 2 were read", "" },
	{ "json records 1, 2 read", F_JSON, R1 R2 META(1) "\n", 0, 0, 2, 3,
	  "metadata says 1 records, 2 were read", "" },
	{ "json records 1, none read", F_JSON, "\n" META(1), 0, 0, 0, 2,
	  "metadata says 1 records, 0 were read", "" },
	{ "json data after metadata", F_JSON, R1 META(1) "\n" R2, 0, 0, 1, 3,
	  "data after the metadata record", "198.51.100.0/24" },
	{ "json second metadata", F_JSON, R1 META(1) "\n" META(1) "\n", 0, 0, 1, 3,
	  "data after the metadata record", "metadata" },
	{ "json garbage after metadata", F_JSON, R1 META(1) "\n<html>\n", 0, 0, 1, 3,
	  "data after the metadata record", "<html>" },
	{ "json metadata without records", F_JSON, R1 "{\"type\":\"metadata\",\"size\":187}\n", 0,
	  0, 1, 2, "metadata record without a records count", "metadata" },
	{ "json metadata records a string", F_JSON, R1 "{\"type\":\"metadata\",\"records\":\"1\"}",
	  0, 0, 1, 2, "metadata record without a records count", "metadata" },
	{ "json metadata records negative", F_JSON, "{\"type\":\"metadata\",\"records\":-1}", 0, 0,
	  0, 1, "metadata record without a records count", "" },
	{ "json array", F_JSON, R1 "[\"192.0.2.0/24\"]\n" META(2), 0, 0, 1, 2, "not a JSON object",
	  "[\"192.0.2.0/24\"]" },
	{ "json string", F_JSON, "\"192.0.2.0/24\"\n" META(1), 0, 0, 0, 1, "not a JSON object",
	  "192.0.2.0/24" },
	{ "json number", F_JSON, "42\n" META(1), 0, 0, 0, 1, "not a JSON object", "42" },
	{ "json null", F_JSON, "null\n" META(1), 0, 0, 0, 1, "not a JSON object", "null" },
	{ "json plain text list", F_JSON, "192.0.2.0/24\n", 0, 0, 0, 1, "not a JSON object",
	  "192.0.2.0/24" },
	{ "json html", F_JSON, "<html><body>503</body></html>\n", 0, 0, 0, 1, "not a JSON object",
	  "<html>" },
	{ "json missing cidr", F_JSON, R1 "{\"sblid\":\"SBL000102\",\"rir\":\"arin\"}\n" META(2), 0,
	  0, 1, 2, "object without a \"cidr\" string", "SBL000102" },
	{ "json cidr a number", F_JSON, "{\"cidr\":3221225984,\"sblid\":\"SBL1\"}\n" META(1), 0, 0,
	  0, 1, "object without a \"cidr\" string", "3221225984" },
	{ "json cidr an object", F_JSON, "{\"cidr\":{\"a\":1}}\n" META(1), 0, 0, 0, 1,
	  "object without a \"cidr\" string", "" },
	{ "json cidr null", F_JSON, "{\"cidr\":null}\n" META(1), 0, 0, 0, 1,
	  "object without a \"cidr\" string", "" },
	{ "json bad cidr", F_JSON, R1 "{\"cidr\":\"198.51.100.300/24\"}\n" META(2), 0, 0, 1, 2,
	  "not an IPv4 or IPv6 address", "198.51.100.300/24" },
	{ "json cidr /33", F_JSON, "{\"cidr\":\"192.0.2.0/33\"}\n" META(1), 0, 0, 0, 1,
	  "prefix length out of range", "192.0.2.0/33" },
	{ "json empty cidr", F_JSON, "{\"cidr\":\"\"}\n" META(1), 0, 0, 0, 1, "not an IPv4 or IPv6",
	  "" },
	{ "json cidr longer than any address", F_JSON,
	  "{\"cidr\":\"2001:0db8:0000:0000:0000:0000:0000:0001:0000:0000:0000/128\"}\n" META(1), 0,
	  0, 0, 1, "not an IPv4 or IPv6", "2001:0db8" },
	{ "json host bits without flag", F_JSON, "{\"cidr\":\"192.0.2.1/24\"}\n" META(1), 0, 0, 0,
	  1, "host bits", "192.0.2.1/24" },
	{ "json nul byte", F_JSON, JSON_NUL, sizeof(JSON_NUL) - 1, 0, 1, 2, "NUL",
	  "198.51.100.0/24" },

	/* Spamhaus DROP text */
	{ "text without '; EOF'", F_TEXT, "; Spamhaus DROP List\n192.0.2.0/24 ; SBL1\n", 0, 0, 1, 2,
	  "no '; EOF' line", "" },
	{ "text cut mid-line", F_TEXT, "; Spamhaus DROP List\n192.0.2.0/24 ; SBL1\n198.51.1", 0, 0,
	  1, 3, "not an IPv4 or IPv6", "198.51.1" },
	{ "text empty file", F_TEXT, "", 0, 0, 0, ANY_LINE, "no '; EOF' line", "" },
	{ "text EOF in lower case", F_TEXT, "192.0.2.0/24 ; SBL1\n; eof\n", 0, 0, 1, 2,
	  "no '; EOF' line", "" },
	{ "text data after EOF", F_TEXT, "192.0.2.0/24 ; SBL1\n; EOF\n198.51.100.0/24 ; SBL2\n", 0,
	  0, 1, 3, "data after the '; EOF' line", "198.51.100.0/24 ; SBL2" },
	{ "text comment after EOF", F_TEXT, "192.0.2.0/24 ; SBL1\n; EOF\n\n; more\n", 0, 0, 1, 4,
	  "data after the '; EOF' line", "; more" },
	{ "text second EOF", F_TEXT, "; EOF\n; EOF\n", 0, 0, 0, 2, "data after the '; EOF' line",
	  "; EOF" },
	{ "text two words before ';'", F_TEXT, "192.0.2.0/24 ; SBL1\n198.51.100.0 24 ; SBL2\n", 0,
	  0, 1, 2, "more than one word before ';'", "198.51.100.0 24" },
	{ "text two words without ';'", F_TEXT, "192.0.2.0/24 SBL1\n; EOF\n", 0, 0, 0, 1,
	  "more than one word before ';'", "192.0.2.0/24 SBL1" },
	{ "text bad cidr", F_TEXT, "192.0.2.0/24 ; SBL1\n198.51.100.0/40 ; SBL2\n; EOF\n", 0, 0, 1,
	  2, "prefix length out of range", "198.51.100.0/40" },
	{ "text not an address", F_TEXT, "<html>\n; EOF\n", 0, 0, 0, 1,
	  "not an IPv4 or IPv6 address", "<html>" },
	{ "text host bits without flag", F_TEXT, "192.0.2.1/24 ; SBL1\n; EOF\n", 0, 0, 0, 1,
	  "host bits", "192.0.2.1/24" },
	{ "text nul byte", F_TEXT, TEXT_NUL, sizeof(TEXT_NUL) - 1, 0, 1, 2, "NUL",
	  "198.51.100.0/24 ; SB\\x00L2" },

	/* DShield block.txt */
	{ "dshield a column missing", F_DSHIELD,
	  DSHIELD_HEAD "192.0.2.0\t192.0.2.255\t24\t4512\n198.51.100.0\t198.51.100.255\n", 0, 0, 1,
	  10, "expected start, end and prefix length", "198.51.100.0\\x09198.51.100.255" },
	{ "dshield one column", F_DSHIELD, "192.0.2.0/24\n", 0, 0, 0, 1,
	  "expected start, end and prefix length", "192.0.2.0/24" },
	{ "dshield spaces, not tabs", F_DSHIELD, "192.0.2.0 192.0.2.255 24 4512\n", 0, 0, 0, 1,
	  "expected start, end and prefix length", "192.0.2.0 192.0.2.255 24" },
	{ "dshield end does not match", F_DSHIELD,
	  "192.0.2.0\t192.0.2.255\t24\n198.51.100.0\t198.51.100.254\t24\n", 0, 0, 1, 2,
	  "end address does not match", "198.51.100.254" },
	{ "dshield end for a shorter prefix", F_DSHIELD, "192.0.2.0\t192.0.3.255\t24\n", 0, 0, 0, 1,
	  "end address does not match", "192.0.3.255" },
	{ "dshield columns shifted", F_DSHIELD, "192.0.2.0\t24\t4512\tNAME\n", 0, 0, 0, 1,
	  "start or end is not an IPv4 address", "192.0.2.0\\x0924" },
	{ "dshield prefix length 0", F_DSHIELD, "0.0.0.0\t255.255.255.255\t0\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "0.0.0.0" },
	{ "dshield prefix length 33", F_DSHIELD, "192.0.2.0\t192.0.2.0\t33\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "192.0.2.0" },
	{ "dshield prefix length x", F_DSHIELD, "192.0.2.0\t192.0.2.255\tx\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "192.0.2.0" },
	{ "dshield prefix length empty", F_DSHIELD, "192.0.2.0\t192.0.2.255\t\t4512\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "192.0.2.0" },
	{ "dshield prefix length /24", F_DSHIELD, "192.0.2.0\t192.0.2.255\t/24\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "192.0.2.0" },
	{ "dshield prefix length 100", F_DSHIELD, "192.0.2.0\t192.0.2.255\t100\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "192.0.2.0" },
	{ "dshield prefix length -1", F_DSHIELD, "192.0.2.0\t192.0.2.255\t-1\n", 0, 0, 0, 1,
	  "prefix length is not 1-32", "192.0.2.0" },
	{ "dshield ipv6 start and end", F_DSHIELD, "2001:db8::\t2001:db8::ffff\t112\n", 0, 0, 0, 1,
	  "start or end is not an IPv4 address", "2001:db8::" },
	{ "dshield hostname", F_DSHIELD, "mail.example.org\t192.0.2.255\t24\n", 0, 0, 0, 1,
	  "start or end is not an IPv4 address", "mail.example.org" },
	{ "dshield start with a length", F_DSHIELD, "192.0.2.0/24\t192.0.2.255\t24\n", 0, 0, 0, 1,
	  "start or end is not an IPv4 address", "192.0.2.0/24" },
	{ "dshield host bits without flag", F_DSHIELD, "192.0.2.1\t192.0.2.255\t24\n", 0, 0, 0, 1,
	  "host bits", "192.0.2.1" },
	{ "dshield nul byte", F_DSHIELD, DSHIELD_NUL, sizeof(DSHIELD_NUL) - 1, 0, 1, 2, "NUL",
	  "198.51.\\x00" },

	/* ipset save */
	{ "ipset hash:net,port", F_IPSET,
	  "create mailedge-smtp hash:net,port family inet hashsize 1024 maxelem 65536\n"
	  "add mailedge-smtp 192.0.2.0/24,tcp:25\n",
	  0, 0, 0, 1, "set type is not hash:ip or hash:net", "hash:net,port" },
	{ "ipset hash:ip,port after a good set", F_IPSET,
	  "create a hash:ip family inet\nadd a 192.0.2.1\n"
	  "create mailedge-smtp hash:ip,port family inet hashsize 1024 maxelem 65536\n",
	  0, 0, 1, 3, "set type is not hash:ip or hash:net", "hash:ip,port" },
	{ "ipset bitmap:ip", F_IPSET, "create b bitmap:ip range 192.0.2.0/24\n", 0, 0, 0, 1,
	  "set type is not hash:ip or hash:net", "bitmap:ip" },
	{ "ipset list:set", F_IPSET, "create l list:set size 8\n", 0, 0, 0, 1,
	  "set type is not hash:ip or hash:net", "list:set" },
	{ "ipset create without a type", F_IPSET, "create s\n", 0, 0, 0, 1,
	  "create without a name and type", "create s" },
	{ "ipset range element", F_IPSET,
	  "create s hash:ip family inet\nadd s 192.0.2.1-192.0.2.9\n", 0, 0, 0, 2,
	  "element is not an address or CIDR", "192.0.2.1-192.0.2.9" },
	{ "ipset port element", F_IPSET, "add s 192.0.2.66,tcp:25\n", 0, 0, 0, 1,
	  "not an IPv4 or IPv6 address", "192.0.2.66,tcp:25" },
	{ "ipset add without an element", F_IPSET, "create s hash:ip\nadd s\n", 0, 0, 0, 2,
	  "add without a set and element", "add s" },
	{ "ipset garbage line", F_IPSET, "create s hash:ip\nadd s 192.0.2.1\nhello world\n", 0, 0,
	  1, 3, "not a 'create' or 'add' line", "hello world" },
	{ "ipset restore commands", F_IPSET, "create s hash:ip\nflush s\n", 0, 0, 0, 2,
	  "not a 'create' or 'add' line", "flush s" },
	{ "ipset plain list", F_IPSET, "192.0.2.1\n", 0, 0, 0, 1, "not a 'create' or 'add' line",
	  "192.0.2.1" },
	{ "ipset bad address", F_IPSET, "create s hash:ip\nadd s 192.0.2.256 timeout 30\n", 0, 0, 0,
	  2, "not an IPv4 or IPv6 address", "192.0.2.256" },
	{ "ipset /33", F_IPSET, "create s hash:net\nadd s 192.0.2.0/33\n", 0, 0, 0, 2,
	  "prefix length out of range", "192.0.2.0/33" },
	{ "ipset host bits without flag", F_IPSET, "create s hash:net\nadd s 192.0.2.1/24\n", 0, 0,
	  0, 2, "host bits", "192.0.2.1/24" },
	{ "ipset nul byte", F_IPSET, IPSET_NUL, sizeof(IPSET_NUL) - 1, 0, 1, 3, "NUL",
	  "add s 19\\x00" },
};

ParameterizedTestParameters(listfmt, invalid)
{
	return cr_make_param_array(struct invalid_case, invalid_cases,
				   sizeof(invalid_cases) / sizeof(invalid_cases[0]));
}

ParameterizedTest(const struct invalid_case *c, listfmt, invalid)
{
	size_t len = c->len ? c->len : strlen(c->in);
	struct seen s = { 0 };
	struct me_parse_err err;
	int rc;

	memset(&err, 0x5a, sizeof(err));
	rc = parse(c->fmt, c->in, len, c->flags, &s, &err);
	cr_assert_eq(rc, -EINVAL, "%s: got rc %d (%d prefixes), want -EINVAL", c->name, rc, s.n);
	cr_assert(memchr(err.text, '\0', sizeof(err.text)),
		  "%s: got err.text unterminated, want a NUL within %zu bytes", c->name,
		  sizeof(err.text));
	cr_assert(memchr(err.why, '\0', sizeof(err.why)),
		  "%s: got err.why unterminated, want a NUL within %zu bytes", c->name,
		  sizeof(err.why));
	if (c->want_line != ANY_LINE)
		cr_assert_eq(err.line, c->want_line, "%s: got line %lu, want %lu (why: %s)",
			     c->name, err.line, c->want_line, err.why);
	cr_assert(strstr(err.why, c->want_why), "%s: got why '%s', want it to mention '%s'",
		  c->name, err.why, c->want_why);
	cr_assert(strstr(err.text, c->want_text), "%s: got text '%s', want it to contain '%s'",
		  c->name, err.text, c->want_text);
	cr_assert_eq(s.n, c->nbefore, "%s: got %d prefixes before the error, want %d", c->name, s.n,
		     c->nbefore);
}

/* ---- line length: 1024 bytes is fine, 1025 is an error, in every format ---- */

struct long_line {
	int fmt;
	const char *before; /* lines before the long one */
	const char *head;
	char pad;
	const char *tail;
	const char *after; /* lines after (the completeness marker) */
	const char *want;  /* the long line's prefix */
	unsigned long line;
};

static const struct long_line long_lines[] = {
	{ F_JSON, "{\"cidr\":\"198.51.100.0/24\"}\n", "{\"cidr\":\"192.0.2.0/24\",\"rir\":\"", '.',
	  "\"}", "\n{\"type\":\"metadata\",\"records\":2}\n", "192.0.2.0/24", 2 },
	{ F_TEXT, "; Spamhaus DROP List\n", "192.0.2.0/24 ; SBL1 ", 'x', "", "\n; EOF\n",
	  "192.0.2.0/24", 2 },
	{ F_DSHIELD, "# DShield\n", "192.0.2.0\t192.0.2.255\t24\t12\t", 'N', "", "\n",
	  "192.0.2.0/24", 2 },
	{ F_IPSET, "create s hash:net family inet\n", "add s 192.0.2.0/24 comment \"", 'c', "\"",
	  "\n", "192.0.2.0/24", 2 },
};

Test(listfmt, line_1024_ok)
{
	size_t k;

	for (k = 0; k < sizeof(long_lines) / sizeof(long_lines[0]); k++) {
		const struct long_line *t = &long_lines[k];
		char *line = pad_line(ME_LISTFILE_MAX_LINE, t->head, t->pad, t->tail);
		struct me_parse_err err = { 0 };
		struct seen s = { 0 };
		char *buf;
		int rc;

		cr_assert(asprintf(&buf, "%s%s%s", t->before, line, t->after) > 0);
		rc = parse(t->fmt, buf, strlen(buf), 0, &s, &err);
		cr_assert_eq(rc, 0, "%s: got rc %d (line %lu: %s), want 0 for a 1024-byte line",
			     fmt_names[t->fmt], rc, err.line, err.why);
		cr_assert_eq(s.n, t->fmt == F_JSON ? 2 : 1, "%s: got %d prefixes, want %d",
			     fmt_names[t->fmt], s.n, t->fmt == F_JSON ? 2 : 1);
		cr_assert_str_eq(s.text[s.n - 1], t->want, "%s: got %s, want %s", fmt_names[t->fmt],
				 s.text[s.n - 1], t->want);
		cr_assert_eq(s.line[s.n - 1], t->line, "%s: got line %lu, want %lu",
			     fmt_names[t->fmt], s.line[s.n - 1], t->line);
		free(buf);
		free(line);
	}
}

Test(listfmt, line_1025_refused)
{
	size_t k;

	for (k = 0; k < sizeof(long_lines) / sizeof(long_lines[0]); k++) {
		const struct long_line *t = &long_lines[k];
		char *line = pad_line(ME_LISTFILE_MAX_LINE + 1, t->head, t->pad, t->tail);
		struct me_parse_err err;
		struct seen s = { 0 };
		char *buf;
		int rc;

		memset(&err, 0x5a, sizeof(err));
		cr_assert(asprintf(&buf, "%s%s%s", t->before, line, t->after) > 0);
		rc = parse(t->fmt, buf, strlen(buf), 0, &s, &err);
		cr_assert_eq(rc, -EINVAL, "%s: got rc %d, want -EINVAL for a 1025-byte line",
			     fmt_names[t->fmt], rc);
		cr_assert_eq(err.line, t->line, "%s: got line %lu, want %lu", fmt_names[t->fmt],
			     err.line, t->line);
		cr_assert(memchr(err.why, '\0', sizeof(err.why)), "%s: got err.why unterminated",
			  fmt_names[t->fmt]);
		cr_assert(strstr(err.why, "1024"), "%s: got why '%s', want it to mention 1024",
			  fmt_names[t->fmt], err.why);
		cr_assert(memchr(err.text, '\0', sizeof(err.text)), "%s: got err.text unterminated",
			  fmt_names[t->fmt]);
		cr_assert(!strncmp(err.text, t->head, 9),
			  "%s: got text '%s', want the line's start", fmt_names[t->fmt], err.text);
		cr_assert_eq(s.n, t->fmt == F_JSON ? 1 : 0,
			     "%s: got %d prefixes, want only those before the long line",
			     fmt_names[t->fmt], s.n);
		free(buf);
		free(line);
	}
}

/* ---- a callback error stops every parser and comes back unchanged ---- */

struct cb_case {
	int fmt;
	const char *in;
};

static const struct cb_case cb_cases[] = {
	{ F_JSON, R1 R2 "{\"cidr\":\"bogus\"}\n" META(3) },
	{ F_TEXT, "192.0.2.0/24 ; SBL1\n198.51.100.0/24 ; SBL2\nbogus\n; EOF\n" },
	{ F_DSHIELD, "192.0.2.0\t192.0.2.255\t24\n198.51.100.0\t198.51.100.255\t24\nbogus\n" },
	{ F_IPSET, "create s hash:net\nadd s 192.0.2.0/24\nadd s 198.51.100.0/24\nbogus\n" },
};

Test(listfmt, callback_error_propagates)
{
	size_t k;
	int at;

	for (k = 0; k < sizeof(cb_cases) / sizeof(cb_cases[0]); k++) {
		for (at = 1; at <= 2; at++) {
			const struct cb_case *t = &cb_cases[k];
			struct seen s = { .fail_at = at, .fail_rc = at == 1 ? -ENOMEM : -E2BIG };
			struct me_parse_err err = { 0 };
			int rc;

			rc = parse(t->fmt, t->in, strlen(t->in), 0, &s, &err);
			cr_assert_eq(
			    rc, s.fail_rc,
			    "%s, failing call %d: got rc %d (%s), want %d from the callback",
			    fmt_names[t->fmt], at, rc, err.why, s.fail_rc);
			cr_assert_eq(s.n, at,
				     "%s, failing call %d: got %d callback calls, want %d (stop at "
				     "the failing one)",
				     fmt_names[t->fmt], at, s.n, at);
		}
	}
}

/* ---- host bits: an error without ME_PFX_CLEAR_HOST, cleared with it ---- */

Test(listfmt, host_bits_only_with_flag)
{
	static const struct {
		int fmt;
		const char *in;
	} t[] = {
		{ F_JSON,
		  "{\"cidr\":\"2001:db8::1/64\"}\n{\"type\":\"metadata\",\"records\":1}\n" },
		{ F_TEXT, "2001:db8::1/64 ; SBL1\n; EOF\n" },
		{ F_DSHIELD, "198.51.100.77\t198.51.100.127\t26\n" },
		{ F_IPSET, "create s hash:net family inet6\nadd s 2001:db8::1/64 timeout 5\n" },
	};
	static const char *const want[] = { "2001:db8::/64", "2001:db8::/64", "198.51.100.64/26",
					    "2001:db8::/64" };
	size_t k;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct seen s = { 0 };
		struct me_parse_err err = { 0 };
		int rc;

		rc = parse(t[k].fmt, t[k].in, strlen(t[k].in), 0, &s, &err);
		cr_assert_eq(rc, -EINVAL, "%s without the flag: got rc %d, want -EINVAL",
			     fmt_names[t[k].fmt], rc);
		cr_assert(strstr(err.why, "host bits"),
			  "%s without the flag: got why '%s', want host bits", fmt_names[t[k].fmt],
			  err.why);
		cr_assert_eq(s.n, 0, "%s without the flag: got %d prefixes, want 0",
			     fmt_names[t[k].fmt], s.n);

		memset(&s, 0, sizeof(s));
		rc = parse(t[k].fmt, t[k].in, strlen(t[k].in), ME_PFX_CLEAR_HOST, &s, &err);
		cr_assert_eq(rc, 0, "%s with the flag: got rc %d (%s), want 0", fmt_names[t[k].fmt],
			     rc, err.why);
		cr_assert_eq(s.n, 1, "%s with the flag: got %d prefixes, want 1",
			     fmt_names[t[k].fmt], s.n);
		cr_assert_str_eq(s.text[0], want[k], "%s with the flag: got %s, want %s",
				 fmt_names[t[k].fmt], s.text[0], want[k]);
		cr_assert_eq(s.fixed[0], 1, "%s with the flag: got host_bits_fixed %d, want 1",
			     fmt_names[t[k].fmt], s.fixed[0]);
	}
}

/* A NUL inside a JSON string ("\u0000") must not cut the cidr short: the
 * value is not an address, whatever its first bytes are. */
Test(listfmt, json_cidr_with_escaped_nul_refused)
{
	const char *in = "{\"cidr\":\"192.0.2.1\\u0000; 198.51.100.0/24\"}\n"
			 "{\"type\":\"metadata\",\"records\":1}\n";
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	int rc;

	rc = parse(F_JSON, in, strlen(in), 0, &s, &err);
	cr_assert_eq(rc, -EINVAL,
		     "got rc %d with %d prefix(es) (first: %s), want -EINVAL: "
		     "\"192.0.2.1\\u0000...\" is not an address",
		     rc, s.n, s.n ? s.text[0] : "-");
	cr_assert_eq(err.line, 1, "got line %lu, want 1", err.line);
	cr_assert_eq(s.n, 0, "got %d prefixes, want 0", s.n);
}

/* "nomatch" makes an ipset element an exception: the addresses are NOT in the
 * set. Taking it as an ordinary entry would list exactly what the set excludes;
 * the parser must refuse it (or at least not report it as an entry). */
Test(listfmt, ipset_nomatch_not_an_entry)
{
	const char *in = "create bl hash:net family inet hashsize 1024 maxelem 65536\n"
			 "add bl 192.0.2.0/24\n"
			 "add bl 198.51.100.0/24 nomatch\n";
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	int rc, i;

	rc = parse(F_IPSET, in, strlen(in), 0, &s, &err);
	for (i = 0; i < s.n && i < MAX_SEEN; i++)
		cr_assert_str_neq(s.text[i], "198.51.100.0/24",
				  "got 198.51.100.0/24 (line %lu) reported as an entry, rc %d; "
				  "want a 'nomatch' element refused or left out",
				  s.line[i], rc);
	cr_assert(rc == 0 || rc == -EINVAL, "got rc %d, want 0 or -EINVAL", rc);
	if (rc == -EINVAL)
		cr_assert_eq(err.line, 3, "got error line %lu, want 3", err.line);
}

/* A hash:ip set created with "netmask N" stores network addresses: a saved
 * "add s 192.0.2.0" means 192.0.2.0/N. Reading it as a host would list one
 * address where the set holds a whole network. */
Test(listfmt, ipset_hash_ip_netmask_not_a_host)
{
	const char *in = "create nets hash:ip family inet hashsize 1024 maxelem 65536 netmask 24\n"
			 "add nets 192.0.2.0\n";
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	int rc;

	rc = parse(F_IPSET, in, strlen(in), 0, &s, &err);
	if (rc == 0) {
		cr_assert_eq(s.n, 1, "got %d prefixes, want 1", s.n);
		cr_assert_str_eq(s.text[0], "192.0.2.0/24",
				 "got %s from a hash:ip set with netmask 24, want 192.0.2.0/24 "
				 "(or the set refused)",
				 s.text[0]);
	} else {
		cr_assert_eq(rc, -EINVAL, "got rc %d, want 0 or -EINVAL", rc);
		cr_assert_eq(err.line, 1, "got error line %lu, want 1 (the create line)", err.line);
	}
}

/* ---- the registry ---- */

Test(listfmt, find_every_name)
{
	static const struct {
		const char *name;
		me_fmt_parse_fn parse; /* NULL: the plain parser */
	} names[] = {
		{ "plain", NULL },
		{ "netset", NULL },
		{ "firehol", NULL },
		{ "blocklist-de", NULL },
		{ "spamhaus-json", me_fmt_spamhaus_json },
		{ "spamhaus-text", me_fmt_spamhaus_text },
		{ "dshield", me_fmt_dshield },
		{ "ipset-save", me_fmt_ipset_save },
	};
	const struct me_fmt *plain = me_fmt_find("plain");
	size_t k;

	cr_assert_not_null(plain, "got NULL for 'plain', want a format");
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const struct me_fmt *f = me_fmt_find(names[k].name);
		me_fmt_parse_fn want = names[k].parse ? names[k].parse : plain->parse;

		cr_assert_not_null(f, "'%s': got NULL, want a format", names[k].name);
		cr_assert_str_eq(f->name, names[k].name, "'%s': got format '%s'", names[k].name,
				 f->name);
		cr_assert(f->parse == want, "'%s': got another parser than expected",
			  names[k].name);
		cr_assert_eq(f->min_interval, 3600, "'%s': got min_interval %u, want 3600",
			     names[k].name, f->min_interval);
		cr_assert(f->what && f->what[0], "'%s': got no help text", names[k].name);
	}
}

Test(listfmt, plain_aliases_parse_plain)
{
	static const char *const aliases[] = { "plain", "netset", "firehol", "blocklist-de" };
	const char *in = "# FireHOL level1\n192.0.2.0/24\n198.51.100.7 ; x\n";
	size_t k;

	for (k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++) {
		const struct me_fmt *f = me_fmt_find(aliases[k]);
		struct seen s = { 0 };
		struct me_parse_err err = { 0 };
		int rc;

		cr_assert_not_null(f);
		rc = f->parse(in, strlen(in), 0, seen_collect, &s, &err);
		cr_assert_eq(rc, 0, "%s: got rc %d (%s), want 0", aliases[k], rc, err.why);
		cr_assert_eq(s.n, 2, "%s: got %d prefixes, want 2", aliases[k], s.n);
		cr_assert_str_eq(s.text[0], "192.0.2.0/24", "%s: got %s", aliases[k], s.text[0]);
		cr_assert_str_eq(s.text[1], "198.51.100.7", "%s: got %s", aliases[k], s.text[1]);
		cr_assert_eq(s.line[1], 3, "%s: got line %lu, want 3", aliases[k], s.line[1]);
	}
}

Test(listfmt, find_unknown)
{
	static const char *const unknown[] = { "",	   "Plain",	    "PLAIN",
					       "spamhaus", "json",	    "text",
					       "ipset",	   "dshield ",	    " plain",
					       "plain\n",  "spamhaus_json", "ipset-save-v2",
					       "hash:net" };
	size_t k;

	for (k = 0; k < sizeof(unknown) / sizeof(unknown[0]); k++)
		cr_assert_null(me_fmt_find(unknown[k]), "'%s': got a format, want NULL",
			       unknown[k]);
}

Test(listfmt, list_is_complete)
{
	const struct me_fmt *f;
	int n = 0;

	for (f = me_fmt_list(); f->name; f++) {
		cr_assert(me_fmt_find(f->name) == f, "'%s': me_fmt_find gives another entry",
			  f->name);
		cr_assert_not_null(f->parse, "'%s': got no parser", f->name);
		n++;
	}
	cr_assert_eq(n, 8, "got %d formats, want 8", n);
}

/* ---- the shared helpers ---- */

Test(listfmt, trim)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "", "" },	{ "   ", "" },	{ " \t\r a b \r\t ", "a b" }, { "x", "x" },
		{ "\tx", "x" }, { "x\r", "x" }, { "\vx\f", "\vx\f" }, /* only blank, tab and CR */
	};
	size_t k;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		const char *s = t[k].in;
		size_t n = strlen(s);

		me_trim(&s, &n);
		cr_assert_eq(n, strlen(t[k].want), "'%s': got length %zu, want %zu", t[k].in, n,
			     strlen(t[k].want));
		cr_assert(!memcmp(s, t[k].want, n), "'%s': got '%.*s', want '%s'", t[k].in, (int)n,
			  s, t[k].want);
	}
}

Test(listfmt, lines_next)
{
	const char in[] = "a\r\n\nbb\rc\nlast";
	struct me_lines it = { .buf = in, .len = sizeof(in) - 1 };
	static const char *const want[] = { "a", "", "bb\rc", "last" };
	struct me_parse_err err = { 0 };
	const char *l;
	size_t n, k = 0;
	int rc;

	while ((rc = me_lines_next(&it, &l, &n, &err)) > 0) {
		cr_assert(k < 4, "got more than 4 lines");
		cr_assert_eq(n, strlen(want[k]), "line %zu: got length %zu, want %zu", k + 1, n,
			     strlen(want[k]));
		cr_assert(!memcmp(l, want[k], n), "line %zu: got '%.*s', want '%s'", k + 1, (int)n,
			  l, want[k]);
		cr_assert_eq(it.no, k + 1, "got line number %lu, want %zu", it.no, k + 1);
		k++;
	}
	cr_assert_eq(rc, 0, "got rc %d at the end, want 0", rc);
	cr_assert_eq(k, 4, "got %zu lines, want 4", k);
}

Test(listfmt, parse_fail_fills_err)
{
	struct me_parse_err err;
	int rc;

	memset(&err, 0x5a, sizeof(err));
	rc = me_parse_fail(&err, 7, "a\tb\x01", 4, "because");
	cr_assert_eq(rc, -EINVAL, "got rc %d, want -EINVAL", rc);
	cr_assert_eq(err.line, 7, "got line %lu, want 7", err.line);
	cr_assert_str_eq(err.text, "a\\x09b\\x01", "got text '%s'", err.text);
	cr_assert_str_eq(err.why, "because", "got why '%s'", err.why);
}

/* ---- a big copy parsed in two parts (copyparse.c) ---- */

struct collected {
	__u64 *keys; /* address << 8 | length, IPv4 only */
	size_t n, cap;
};

static int collect_key(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct collected *c = ctx;
	__u32 a;

	(void)line;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->keys = realloc(c->keys, c->cap * sizeof(*c->keys));
		cr_assert_not_null(c->keys);
	}
	memcpy(&a, p->addr, 4);
	c->keys[c->n++] = (__u64)ntohl(a) << 8 | p->len;
	return 0;
}

static int key_order(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* ~1M lines (14 MB, past the size that splits): hosts, subnets, comments. */
static char *big_copy(size_t *len, size_t *lines)
{
	size_t cap = 20u << 20, o = 0, i;
	char *b = malloc(cap);

	cr_assert_not_null(b);
	for (i = 0; i < 1000000; i++) {
		if (i % 997 == 0)
			o += (size_t)sprintf(b + o, "# comment %zu\n", i);
		else if (i % 1009 == 0)
			o += (size_t)sprintf(b + o, "10.%zu.%zu.0/24\n", i >> 16 & 255, i >> 8 & 255);
		else
			o += (size_t)sprintf(b + o, "%zu.%zu.%zu.%zu\n", 11 + (i >> 24), i >> 16 & 255,
					     i >> 8 & 255, i & 255);
	}
	*len = o;
	*lines = i;
	return b;
}

Test(listfmt, big_copy_in_two_parts_as_in_one)
{
	struct ls_source src = { .fmt = me_fmt_find("plain") };
	struct collected ref = { 0 };
	struct me_parse_err err;
	struct prefixes ps;
	size_t len, lines, i, n = 0;
	char why[256], *b = big_copy(&len, &lines);
	__u64 *got;

	cr_assert_eq(me_listfile_parse(b, len, ME_PFX_CLEAR_HOST, collect_key, &ref, &err), 0);
	cr_assert_eq(ls_copy_parse(&src, b, len, &ps, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ps.n, ref.n);
	got = malloc(ps.n * sizeof(*got));
	for (i = 0; i < ps.h4.n; i++)
		got[n++] = (__u64)ps.h4.v[i] << 8 | 32;
	for (i = 0; i < ps.nv; i++) {
		__u32 a;

		memcpy(&a, ps.v[i].addr, 4);
		got[n++] = (__u64)ntohl(a) << 8 | ps.v[i].len;
	}
	qsort(got, n, 8, key_order);
	qsort(ref.keys, ref.n, 8, key_order);
	cr_assert(!memcmp(got, ref.keys, n * 8), "two parts gave other entries than one pass");
	free(got);
	free(ref.keys);
	ls_prefixes_free(&ps);

	/* An error in the second half names its line in the whole file; with
	 * one in each half, the first half's is the one reported. */
	{
		size_t at = len * 3 / 4, line = 1;
		char *late;

		while (b[at - 1] != '\n')
			at--;
		for (i = 0; i < at; i++)
			line += b[i] == '\n';
		b[at] = 'x'; /* "x1.2.3.4": not an address */
		cr_assert_eq(ls_copy_parse(&src, b, len, &ps, why, sizeof(why)), -EINVAL);
		late = strstr(why, "line ");
		cr_assert(late && strtoul(late + 5, NULL, 10) == line, "want line %zu: %s", line,
			  why);
		for (i = len / 4; b[i - 1] != '\n' || b[i] == '#'; i++)
			;
		b[i] = 'x';
		cr_assert_eq(ls_copy_parse(&src, b, len, &ps, why, sizeof(why)), -EINVAL);
		late = strstr(why, "line ");
		cr_assert(late && strtoul(late + 5, NULL, 10) < line / 2,
			  "want the first half's error: %s", why);
	}
	free(b);
}
