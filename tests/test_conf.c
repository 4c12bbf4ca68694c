// SPDX-License-Identifier: GPL-2.0
/*
 * test_conf.c - the declarative settings layer (common/conf.c) and
 * mailedge-listsync's configuration built on it (listsync/config.c).
 *
 * conf: defaults, every accepted spelling of every type, and errors that name
 * the setting and its line (unknown names, wrong types, out-of-range values,
 * bad units, overflow). listsync: a complete configuration, each mistake an
 * admin can make with the message it gets, the min_interval rules, and
 * --source parsing with its generated names.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <libconfig.h>

#include "conf.h"
#include "listfile.h"
#include "../listsync/config.h"

/* ---- a small settings table with every type ---- */

struct tconf {
	char s[16];
	unsigned int u;
	unsigned long long u64;
	int b;
	unsigned long long size;
	unsigned int dur;
	unsigned int pct;
	unsigned int wide;
	char nodef[8];
	unsigned int tail;
};

static const struct me_conf_item titems[] = {
	{ "s", ME_CONF_STR, offsetof(struct tconf, s), sizeof(((struct tconf *)0)->s), 0, 0,
	  "hello", "a string" },
	{ "u", ME_CONF_UINT, offsetof(struct tconf, u), 0, 1, 1000, "10", "a number 1-1000" },
	{ "u64", ME_CONF_U64, offsetof(struct tconf, u64), 0, 0, 1ull << 40, "5",
	  "a 64-bit number" },
	{ "b", ME_CONF_BOOL, offsetof(struct tconf, b), 0, 0, 1, "true", "a flag" },
	{ "size", ME_CONF_SIZE, offsetof(struct tconf, size), 0, 1024, 4ull << 30, "64M",
	  "a size" },
	{ "dur", ME_CONF_DURATION, offsetof(struct tconf, dur), 0, 0, 7 * 86400, "90s",
	  "a duration" },
	{ "pct", ME_CONF_PERCENT, offsetof(struct tconf, pct), 0, 0, 100, "50%", "a percentage" },
	{ "wide", ME_CONF_UINT, offsetof(struct tconf, wide), 0, 0, UINT_MAX, "4294967295",
	  "a number up to UINT_MAX" },
	{ "nodef", ME_CONF_STR, offsetof(struct tconf, nodef), sizeof(((struct tconf *)0)->nodef),
	  0, 0, NULL, "a string without a default" },
	{ "tail", ME_CONF_UINT, offsetof(struct tconf, tail), 0, 0, 100, "1",
	  "set after the bad setting in the error cases" },
	ME_CONF_END,
};

static const struct me_conf_item *titem(const char *name)
{
	const struct me_conf_item *it;

	for (it = titems; it->name; it++)
		if (!strcmp(it->name, name))
			return it;
	cr_assert_fail("test table: no item '%s'", name);
	return NULL;
}

/* The value of a numeric field, whatever its type. */
static unsigned long long tvalue(const struct tconf *t, const char *name)
{
	const struct me_conf_item *it = titem(name);
	const char *f = (const char *)t + it->offset;

	switch (it->type) {
	case ME_CONF_UINT:
	case ME_CONF_DURATION:
	case ME_CONF_PERCENT:
		return *(const unsigned int *)f;
	case ME_CONF_U64:
	case ME_CONF_SIZE:
		return *(const unsigned long long *)f;
	case ME_CONF_BOOL:
		return (unsigned long long)*(const int *)f;
	default:
		cr_assert_fail("test table: '%s' is not numeric", name);
	}
	return 0;
}

/* Read text with libconfig and apply titems; returns me_conf_read's rc. */
static int read_text(const char *text, struct tconf *t, char *why, size_t why_len)
{
	config_t cf;
	int rc;

	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		int line = config_error_line(&cf);
		char msg[128];

		snprintf(msg, sizeof(msg), "%s", config_error_text(&cf));
		config_destroy(&cf);
		cr_assert_fail("test input does not parse as libconfig: line %d: %s\n%s", line, msg,
			       text);
	}
	rc = me_conf_read(config_root_setting(&cf), titems, NULL, t, why, why_len);
	config_destroy(&cf);
	return rc;
}

Test(conf, defaults)
{
	struct tconf t;

	memset(&t, 0x5a, sizeof(t));
	me_conf_defaults(titems, &t);
	cr_assert_str_eq(t.s, "hello", "s: got '%s', want 'hello'", t.s);
	cr_assert_eq(t.u, 10, "u: got %u, want 10", t.u);
	cr_assert_eq(t.u64, 5, "u64: got %llu, want 5", t.u64);
	cr_assert_eq(t.b, 1, "b: got %d, want 1", t.b);
	cr_assert_eq(t.size, 64ull << 20, "size: got %llu, want %llu", t.size, 64ull << 20);
	cr_assert_eq(t.dur, 90, "dur: got %u, want 90", t.dur);
	cr_assert_eq(t.pct, 50, "pct: got %u, want 50", t.pct);
	cr_assert_eq(t.wide, UINT_MAX, "wide: got %u, want %u", t.wide, UINT_MAX);
	cr_assert_str_eq(t.nodef, "", "nodef: got '%s', want '' (a string without default)",
			 t.nodef);
}

/* An empty file changes nothing. */
Test(conf, read_nothing)
{
	struct tconf t, want;
	char why[256] = "";

	me_conf_defaults(titems, &t);
	want = t;
	cr_assert_eq(read_text("# nothing\n", &t, why, sizeof(why)), 0, "got an error: %s", why);
	cr_assert(!memcmp(&t, &want, sizeof(t)), "got fields changed by an empty file");
}

struct value_case {
	char text[64]; /* one libconfig setting */
	char name[8];
	unsigned long long want;
};

static const struct value_case value_cases[] = {
	{ "size = \"64M\";", "size", 64ull << 20 },
	{ "size = 1048576;", "size", 1048576 },
	{ "size = \"1048576\";", "size", 1048576 },
	{ "size = \"64K\";", "size", 65536 },
	{ "size = \"64k\";", "size", 65536 },
	{ "size = \"2G\";", "size", 2ull << 30 },
	{ "size = \"4G\";", "size", 4ull << 30 },
	{ "size = 1024;", "size", 1024 },
	{ "size = 4294967296L;", "size", 4ull << 30 },
	{ "dur = \"90s\";", "dur", 90 },
	{ "dur = \"5m\";", "dur", 300 },
	{ "dur = \"1h\";", "dur", 3600 },
	{ "dur = \"2d\";", "dur", 172800 },
	{ "dur = \"7d\";", "dur", 604800 },
	{ "dur = 90;", "dur", 90 },
	{ "dur = \"90\";", "dur", 90 },
	{ "dur = 0;", "dur", 0 },
	{ "dur = \"0s\";", "dur", 0 },
	{ "pct = \"50%\";", "pct", 50 },
	{ "pct = 50;", "pct", 50 },
	{ "pct = \"50\";", "pct", 50 },
	{ "pct = \"0%\";", "pct", 0 },
	{ "pct = \"100%\";", "pct", 100 },
	{ "b = true;", "b", 1 },
	{ "b = false;", "b", 0 },
	{ "b = TRUE;", "b", 1 },
	{ "b = 1;", "b", 1 },
	{ "b = 0;", "b", 0 },
	{ "b = \"yes\";", "b", 1 },
	{ "b = \"no\";", "b", 0 },
	{ "b = \"true\";", "b", 1 },
	{ "u = 1;", "u", 1 },
	{ "u = 1000;", "u", 1000 },
	{ "u = \"77\";", "u", 77 },
	{ "u = 0x20;", "u", 32 },
	{ "u64 = 1099511627776L;", "u64", 1ull << 40 },
	{ "u64 = \"1099511627776\";", "u64", 1ull << 40 },
	{ "u64 = 0;", "u64", 0 },
	{ "wide = \"4294967295\";", "wide", UINT_MAX },
	{ "wide = 0;", "wide", 0 },
};

ParameterizedTestParameters(conf, values)
{
	return cr_make_param_array(struct value_case, value_cases,
				   sizeof(value_cases) / sizeof(value_cases[0]));
}

ParameterizedTest(const struct value_case *c, conf, values)
{
	struct tconf t;
	char why[256] = "";
	int rc;

	me_conf_defaults(titems, &t);
	rc = read_text(c->text, &t, why, sizeof(why));
	cr_assert_eq(rc, 0, "'%s': got rc %d (%s), want 0", c->text, rc, why);
	cr_assert_eq(tvalue(&t, c->name), c->want, "'%s': got %llu, want %llu", c->text,
		     tvalue(&t, c->name), c->want);
}

Test(conf, string_values)
{
	struct tconf t;
	char why[256] = "";
	int rc;

	me_conf_defaults(titems, &t);
	rc = read_text("s = \"world\";\nnodef = \"1234567\";\n", &t, why, sizeof(why));
	cr_assert_eq(rc, 0, "got rc %d (%s), want 0", rc, why);
	cr_assert_str_eq(t.s, "world", "s: got '%s', want 'world'", t.s);
	cr_assert_str_eq(t.nodef, "1234567", "nodef: got '%s', want '1234567'", t.nodef);
	rc = read_text("s = \"\";\n", &t, why, sizeof(why));
	cr_assert_eq(rc, 0, "empty string: got rc %d (%s), want 0", rc, why);
	cr_assert_str_eq(t.s, "", "s: got '%s', want ''", t.s);
}

/* Several settings at once, each with its own type. */
Test(conf, read_all_types)
{
	struct tconf t;
	char why[256] = "";
	int rc;

	me_conf_defaults(titems, &t);
	rc = read_text("s = \"abc\";\nu = 999;\nu64 = 7;\nb = false;\nsize = \"1G\";\n"
		       "dur = \"1h\";\npct = \"75%\";\nwide = 123;\n",
		       &t, why, sizeof(why));
	cr_assert_eq(rc, 0, "got rc %d (%s), want 0", rc, why);
	cr_assert_str_eq(t.s, "abc");
	cr_assert_eq(t.u, 999, "u: got %u", t.u);
	cr_assert_eq(t.u64, 7, "u64: got %llu", t.u64);
	cr_assert_eq(t.b, 0, "b: got %d", t.b);
	cr_assert_eq(t.size, 1ull << 30, "size: got %llu", t.size);
	cr_assert_eq(t.dur, 3600, "dur: got %u", t.dur);
	cr_assert_eq(t.pct, 75, "pct: got %u", t.pct);
	cr_assert_eq(t.wide, 123, "wide: got %u", t.wide);
}

/* Every error names the setting's line: the bad setting is always on line 2. */
struct error_case {
	char text[96]; /* line 2 */
	char want_why[64];
};

static const struct error_case error_cases[] = {
	{ "bogus = 1;", "unknown setting 'bogus'" },
	{ "S = \"x\";", "unknown setting 'S'" },
	{ "group = { u = 5; };", "unknown setting 'group'" },
	{ "u = \"abc\";", "u: 'abc' is not a number" },
	{ "u = \"5s\";", "u: '5s' is not a number" },
	{ "u = \"1K\";", "u: '1K' is not a number" },
	{ "u = \"\";", "is not a number" },
	{ "u = 1.5;", "u must be a number or string" },
	{ "u = [1];", "u must be a number or string" },
	{ "u = { a = 1; };", "u must be a number or string" },
	{ "u = true;", "u is not a true/false setting" },
	{ "s = 5;", "s must be a string" },
	{ "s = 5L;", "s must be a string" },
	{ "s = [\"a\"];", "s must be a string" },
	{ "s = (\"a\");", "s must be a string" },
	{ "s = { a = \"b\"; };", "s must be a string" },
	{ "s = 1.0;", "s must be a string" },
	{ "s = \"0123456789abcdef\";", "s is longer than 15 characters" },
	{ "nodef = \"12345678\";", "nodef is longer than 7 characters" },
	{ "u = 0;", "u must be between 1 and 1000" },
	{ "u = 1001;", "u must be between 1 and 1000" },
	{ "u = \"1001\";", "u must be between 1 and 1000" },
	{ "u = -1;", "u cannot be negative" },
	{ "u = -9223372036854775807L;", "u cannot be negative" },
	{ "u = \"-1\";", "is not a number" },
	{ "u = \"+1\";", "is not a number" },
	{ "u = \" 1\";", "is not a number" },
	{ "u = \"1 \";", "is not a number" },
	{ "u = \"0x10\";", "is not a number" },
	{ "wide = 4294967296L;", "wide must be between 0 and 4294967295" },
	{ "wide = \"4294967296\";", "wide must be between 0 and 4294967295" },
	{ "u64 = \"18446744073709551616\";", "is not a number" },
	{ "u64 = 1099511627777L;", "u64 must be between 0 and 1099511627776" },
	{ "dur = \"5x\";", "dur: '5x' is not a duration" },
	{ "dur = \"1.5h\";", "is not a duration" },
	{ "dur = \"-1\";", "is not a duration" },
	{ "dur = -1;", "dur cannot be negative" },
	{ "dur = \"\";", "is not a duration" },
	{ "dur = \"h\";", "is not a duration" },
	{ "dur = \"5 m\";", "is not a duration" },
	{ "dur = \"5mm\";", "is not a duration" },
	{ "dur = \"5M\";", "is not a duration" },
	{ "dur = \"8d\";", "dur must be between 0 and 604800" },
	{ "dur = \"99999999999999999999s\";", "is not a duration" },
	{ "dur = \"213503982334602d\";", "is not a duration" },
	{ "dur = \"4294967296\";", "dur must be between 0 and 604800" },
	{ "dur = 1.5;", "dur must be a number or string" },
	{ "size = \"5x\";", "size: '5x' is not a size" },
	{ "size = \"5s\";", "is not a size" },
	{ "size = \"1.5M\";", "is not a size" },
	{ "size = \"64 M\";", "is not a size" },
	{ "size = \"64MB\";", "is not a size" },
	{ "size = \"-1\";", "is not a size" },
	{ "size = 512;", "size must be between 1024 and 4294967296" },
	{ "size = \"5G\";", "size must be between 1024 and 4294967296" },
	{ "size = \"99999999999999999999\";", "is not a size" },
	{ "size = \"17179869184G\";", "is not a size" },
	{ "size = \"18014398509481984K\";", "is not a size" },
	{ "pct = \"101%\";", "pct must be between 0 and 100" },
	{ "pct = 101;", "pct must be between 0 and 100" },
	{ "pct = \"50%%\";", "is not a percentage" },
	{ "pct = \"%\";", "is not a percentage" },
	{ "pct = \"-5%\";", "is not a percentage" },
	{ "pct = \"50.5%\";", "is not a percentage" },
	{ "pct = \"5K\";", "is not a percentage" },
	{ "pct = \"50 %\";", "is not a percentage" },
	{ "pct = \"99999999999999999999%\";", "is not a percentage" },
	{ "b = \"maybe\";", "b: 'maybe' is not true or false" },
	{ "b = \"True\";", "is not true or false" },
	{ "b = 2;", "is not true or false" },
	{ "b = 1.0;", "b must be a number or string" },
};

ParameterizedTestParameters(conf, errors)
{
	return cr_make_param_array(struct error_case, error_cases,
				   sizeof(error_cases) / sizeof(error_cases[0]));
}

ParameterizedTest(const struct error_case *c, conf, errors)
{
	struct tconf t;
	char text[160], why[256];
	int rc;

	me_conf_defaults(titems, &t);
	snprintf(text, sizeof(text), "# line 1\n%s\ntail = 7;\n", c->text);
	memset(why, 0x5a, sizeof(why));
	rc = read_text(text, &t, why, sizeof(why));
	cr_assert_eq(rc, -EINVAL, "'%s': got rc %d, want -EINVAL", c->text, rc);
	cr_assert(memchr(why, '\0', sizeof(why)), "'%s': got why unterminated", c->text);
	cr_assert(strstr(why, ":2: "), "'%s': got why '%s', want it to name line 2 (\":2: \")",
		  c->text, why);
	cr_assert(strstr(why, c->want_why), "'%s': got why '%s', want it to mention '%s'", c->text,
		  why, c->want_why);
	cr_assert_eq(t.tail, 1,
		     "'%s': got tail %u, want the default 1 (nothing after the error read)",
		     c->text, t.tail);
}

/* A short why buffer is cut, never overrun. */
Test(conf, error_short_buffer)
{
	struct tconf t;
	char why[16];
	int rc;

	me_conf_defaults(titems, &t);
	memset(why, 0x5a, sizeof(why));
	rc = read_text("u = \"this is not a number at all\";\n", &t, why, 8);
	cr_assert_eq(rc, -EINVAL);
	cr_assert(memchr(why, '\0', 8), "got why unterminated within 8 bytes");
	cr_assert_eq((unsigned char)why[8], 0x5a, "got a write past why_len");
}

Test(conf, skip_list)
{
	static const char *const skip[] = { "sources", "other", NULL };
	struct tconf t;
	config_t cf;
	char why[256] = "";
	int rc;

	me_conf_defaults(titems, &t);
	config_init(&cf);
	cr_assert(config_read_string(&cf, "u = 5;\nsources = ( { a = 1; } );\nother = \"x\";\n"));
	rc = me_conf_read(config_root_setting(&cf), titems, skip, &t, why, sizeof(why));
	config_destroy(&cf);
	cr_assert_eq(rc, 0, "got rc %d (%s), want 0 with sources and other skipped", rc, why);
	cr_assert_eq(t.u, 5, "got u %u, want 5", t.u);
}

/* The line named is the bad setting's own, in a longer file too. */
Test(conf, error_line_numbers)
{
	static const struct {
		const char *text;
		const char *want;
	} t[] = {
		{ "bogus = 1;", "-:1: unknown setting 'bogus'" },
		{ "u = 5;\n\n# comment\n\n\nbogus = 1;", "-:6: unknown setting 'bogus'" },
		{ "u = 5;\n/* a\n   b */\ndur = \"1w\";",
		  "-:4: dur: '1w' is not a duration (like 90, 90s, 5m, 1h, 2d)" },
		{ "u = 5; pct = 200;", "-:1: pct must be between 0 and 100" },
	};
	size_t k;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct tconf c;
		char why[256] = "";
		int rc;

		me_conf_defaults(titems, &c);
		rc = read_text(t[k].text, &c, why, sizeof(why));
		cr_assert_eq(rc, -EINVAL, "case %zu: got rc %d, want -EINVAL", k, rc);
		cr_assert_str_eq(why, t[k].want, "case %zu: got '%s', want '%s'", k, why,
				 t[k].want);
	}
}

/* A file's name is in the message when the configuration came from a file. */
Test(conf, error_names_file)
{
	char path[] = "/tmp/mailedge-test-conf-XXXXXX";
	char why[512] = "", want[128];
	struct tconf t;
	config_t cf;
	int fd, rc;

	fd = mkstemp(path);
	cr_assert(fd >= 0, "cannot create a temporary file");
	cr_assert(write(fd, "u = 5;\nbogus = 1;\n", 18) == 18);
	close(fd);
	config_init(&cf);
	cr_assert(config_read_file(&cf, path), "cannot read %s", path);
	me_conf_defaults(titems, &t);
	rc = me_conf_read(config_root_setting(&cf), titems, NULL, &t, why, sizeof(why));
	config_destroy(&cf);
	unlink(path);
	snprintf(want, sizeof(want), "%s:2: unknown setting 'bogus'", path);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(why, want, "got '%s', want '%s'", why, want);
}

/* ---- me_conf_parse_value, the command-line path ---- */

struct pv_case {
	char name[8];
	char text[40];
	int want_rc;
	unsigned long long want; /* numeric items */
};

static const struct pv_case pv_cases[] = {
	{ "u", "1", 0, 1 },
	{ "u", "1000", 0, 1000 },
	{ "u", "0010", 0, 10 },
	{ "u", "0", -EINVAL, 0 },
	{ "u", "1001", -EINVAL, 0 },
	{ "u", "", -EINVAL, 0 },
	{ "u", "1h", -EINVAL, 0 },
	{ "u", "-1", -EINVAL, 0 },
	{ "u", "4294967297", -EINVAL, 0 },
	{ "wide", "4294967295", 0, UINT_MAX },
	{ "wide", "4294967296", -EINVAL, 0 },
	{ "u64", "1099511627776", 0, 1ull << 40 },
	{ "u64", "1099511627777", -EINVAL, 0 },
	{ "u64", "18446744073709551615", -EINVAL, 0 },
	{ "u64", "18446744073709551616", -EINVAL, 0 },
	{ "b", "true", 0, 1 },
	{ "b", "yes", 0, 1 },
	{ "b", "1", 0, 1 },
	{ "b", "false", 0, 0 },
	{ "b", "no", 0, 0 },
	{ "b", "0", 0, 0 },
	{ "b", "", -EINVAL, 0 },
	{ "b", "on", -EINVAL, 0 },
	{ "b", "TRUE", -EINVAL, 0 },
	{ "b", "2", -EINVAL, 0 },
	{ "size", "64M", 0, 64ull << 20 },
	{ "size", "1048576", 0, 1048576 },
	{ "size", "1k", 0, 1024 },
	{ "size", "1K", 0, 1024 },
	{ "size", "4G", 0, 4ull << 30 },
	{ "size", "1023", -EINVAL, 0 },
	{ "size", "M", -EINVAL, 0 },
	{ "size", "1T", -EINVAL, 0 },
	{ "size", "1KB", -EINVAL, 0 },
	{ "size", "1h", -EINVAL, 0 },
	{ "size", "18446744073709551615", -EINVAL, 0 },
	{ "size", "18446744073709551615K", -EINVAL, 0 },
	{ "dur", "90s", 0, 90 },
	{ "dur", "5m", 0, 300 },
	{ "dur", "1h", 0, 3600 },
	{ "dur", "2d", 0, 172800 },
	{ "dur", "90", 0, 90 },
	{ "dur", "0", 0, 0 },
	{ "dur", "604800", 0, 604800 },
	{ "dur", "604801", -EINVAL, 0 },
	{ "dur", "5x", -EINVAL, 0 },
	{ "dur", "1.5h", -EINVAL, 0 },
	{ "dur", "-1", -EINVAL, 0 },
	{ "dur", "1w", -EINVAL, 0 },
	{ "dur", "1H", -EINVAL, 0 },
	{ "dur", "1K", -EINVAL, 0 },
	{ "dur", "s", -EINVAL, 0 },
	{ "dur", "", -EINVAL, 0 },
	{ "dur", " 5", -EINVAL, 0 },
	{ "dur", "5 ", -EINVAL, 0 },
	{ "dur", "+5", -EINVAL, 0 },
	{ "dur", "0x10", -EINVAL, 0 },
	{ "dur", "4294967296", -EINVAL, 0 },
	{ "dur", "99999999999999999999", -EINVAL, 0 },
	{ "pct", "50%", 0, 50 },
	{ "pct", "50", 0, 50 },
	{ "pct", "0%", 0, 0 },
	{ "pct", "100", 0, 100 },
	{ "pct", "101%", -EINVAL, 0 },
	{ "pct", "%", -EINVAL, 0 },
	{ "pct", "", -EINVAL, 0 },
	{ "pct", "50%%", -EINVAL, 0 },
	{ "pct", "%50", -EINVAL, 0 },
	{ "pct", "-1%", -EINVAL, 0 },
	{ "pct", "5s", -EINVAL, 0 },
	{ "pct", "5M", -EINVAL, 0 },
	{ "pct", "123456789012345678%", -EINVAL, 0 },
};

ParameterizedTestParameters(conf, parse_value)
{
	return cr_make_param_array(struct pv_case, pv_cases,
				   sizeof(pv_cases) / sizeof(pv_cases[0]));
}

ParameterizedTest(const struct pv_case *c, conf, parse_value)
{
	struct tconf t, before;
	char why[256];
	int rc;

	me_conf_defaults(titems, &t);
	before = t;
	memset(why, 0x5a, sizeof(why));
	rc = me_conf_parse_value(titem(c->name), c->text, &t, why, sizeof(why));
	cr_assert_eq(rc, c->want_rc, "%s '%s': got rc %d (%s), want %d", c->name, c->text, rc,
		     rc ? why : "", c->want_rc);
	if (rc) {
		cr_assert(memchr(why, '\0', sizeof(why)), "%s '%s': got why unterminated", c->name,
			  c->text);
		cr_assert(!strncmp(why, c->name, strlen(c->name)),
			  "%s '%s': got why '%s', want it to start with the setting's name",
			  c->name, c->text, why);
		cr_assert(!memcmp(&t, &before, sizeof(t)),
			  "%s '%s': got the target changed by a refused value", c->name, c->text);
		return;
	}
	cr_assert_eq(tvalue(&t, c->name), c->want, "%s '%s': got %llu, want %llu", c->name, c->text,
		     tvalue(&t, c->name), c->want);
}

/* Blanks around a number are refused: " 90s" is, and a tab or a newline must
 * be too (strtoull skips all of them). */
Test(conf, parse_value_leading_whitespace)
{
	static const char *const names[] = { "u", "u64", "size", "dur", "pct" };
	static const char *const texts[] = { " 5",   "\t5",   "\n5",   "\v5",
					     "\t5%", "\t90s", "\t64K", "\r5" };
	size_t i, k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
			struct tconf t;
			char why[256], shown[32];
			int rc;

			me_conf_defaults(titems, &t);
			me_escape(texts[k], strlen(texts[k]), shown, sizeof(shown));
			rc = me_conf_parse_value(titem(names[i]), texts[k], &t, why, sizeof(why));
			cr_expect_eq(rc, -EINVAL,
				     "%s '%s': got rc %d (value %llu), want -EINVAL like for ' 5'",
				     names[i], shown, rc, tvalue(&t, names[i]));
		}
	}
}

Test(conf, parse_value_string)
{
	struct tconf t;
	char why[256] = "";
	int rc;

	me_conf_defaults(titems, &t);
	rc = me_conf_parse_value(titem("s"), "012345678901234", &t, why, sizeof(why));
	cr_assert_eq(rc, 0, "15 characters: got rc %d (%s), want 0", rc, why);
	cr_assert_str_eq(t.s, "012345678901234");
	rc = me_conf_parse_value(titem("s"), "0123456789012345", &t, why, sizeof(why));
	cr_assert_eq(rc, -EINVAL, "16 characters: got rc %d, want -EINVAL", rc);
	cr_assert(strstr(why, "longer than 15"), "got why '%s'", why);
	cr_assert_str_eq(t.s, "012345678901234", "got s '%s' changed by a refused value", t.s);
}

Test(conf, print_reference)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(f);
	me_conf_print(f, titems, "  ");
	fclose(f);
	cr_assert(strstr(out, "  s = \"hello\";\n  "), "got:\n%s", out);
	cr_assert(strstr(out, "  u = 10;\n"), "got:\n%s", out);
	cr_assert(strstr(out, "  size = \"64M\";\n"), "got:\n%s", out);
	cr_assert(strstr(out, "  dur = \"90s\";\n"), "got:\n%s", out);
	cr_assert(strstr(out, "  pct = 50%;\n"), "got:\n%s", out);
	cr_assert(strstr(out, "  b = true;\n"), "got:\n%s", out);
	cr_assert(strstr(out, "a duration"), "got:\n%s", out);
	free(out);
}

/* ---- listsync configuration ---- */

static int ls_load(struct ls_config *c, const char *text, char *why, size_t len)
{
	ls_config_init(c);
	return ls_config_load_string(c, text, why, len);
}

#define FULL_CONFIG                                                                                \
	"pin_dir = \"/sys/fs/bpf/mailedge-test\";\n"                                               \
	"state_dir = \"/var/lib/mailedge-test\";\n"                                                \
	"ca_file = \"/etc/ssl/certs/ca-certificates.crt\";\n"                                      \
	"connect_timeout = \"20s\";\n"                                                             \
	"timeout = \"5m\";\n"                                                                      \
	"max_size = \"64M\";\n"                                                                    \
	"interval = \"10m\";\n"                                                                    \
	"lock_timeout = 30;\n"                                                                     \
	"sources = (\n"                                                                            \
	"  { name = \"spamhaus-drop-v4\"; url = \"https://www.spamhaus.org/drop/drop_v4.json\";\n" \
	"    format = \"spamhaus-json\"; list = \"black\"; action = \"drop\";\n"                   \
	"    ca_file = \"/etc/ssl/spamhaus.pem\"; min_interval = \"2h\"; may_be_empty = false;\n"  \
	"    max_shrink = \"20%\"; stale_after = \"3d\"; },\n"                                     \
	"  { name = \"dshield\"; url = \"http://feeds.dshield.org/block.txt\";\n"                  \
	"    format = \"dshield\"; list = \"black\"; action = \"reset\"; min_interval = 7200;\n"   \
	"    max_shrink = 90; },\n"                                                                \
	"  { name = \"partners\"; url = \"file:///etc/mailedge/white.txt\"; format = \"plain\";\n" \
	"    list = \"white\"; action = \"group:7\"; may_be_empty = true; min_interval = \"1h\"; " \
	"},\n"                                                                                     \
	"  { name = \"White_Pass.v2\"; url = \"https://example.org/w.netset\";\n"                  \
	"    format = \"netset\"; list = \"white\"; },\n"                                          \
	"  { name = \"nets\"; url = \"https://example.org/s.save\"; format = \"ipset-save\"; }\n"  \
	");\n"

Test(lsconfig, full_config)
{
	struct ls_config c;
	char why[512] = "";
	const struct ls_source *s;
	int rc;

	rc = ls_load(&c, FULL_CONFIG, why, sizeof(why));
	cr_assert_eq(rc, 0, "load: got rc %d (%s), want 0", rc, why);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "finish: got rc %d (%s), want 0", rc, why);

	cr_assert_str_eq(c.pin_dir, "/sys/fs/bpf/mailedge-test");
	cr_assert_str_eq(c.state_dir, "/var/lib/mailedge-test");
	cr_assert_str_eq(c.ca_file, "/etc/ssl/certs/ca-certificates.crt");
	cr_assert_eq(c.connect_timeout, 20, "connect_timeout: got %u", c.connect_timeout);
	cr_assert_eq(c.timeout, 300, "timeout: got %u", c.timeout);
	cr_assert_eq(c.max_size, 64ull << 20, "max_size: got %llu", c.max_size);
	cr_assert_eq(c.interval, 600, "interval: got %u", c.interval);
	cr_assert_eq(c.lock_timeout, 30, "lock_timeout: got %u", c.lock_timeout);
	cr_assert_eq(c.nsrc, 5, "got %zu sources, want 5", c.nsrc);

	s = &c.src[0];
	cr_assert_str_eq(s->name, "spamhaus-drop-v4");
	cr_assert_str_eq(s->url, "https://www.spamhaus.org/drop/drop_v4.json");
	cr_assert_str_eq(s->format, "spamhaus-json");
	cr_assert(s->fmt == me_fmt_find("spamhaus-json"), "got another format");
	cr_assert_eq(s->list, ME_LIST_BLACK);
	cr_assert_eq(s->val.action, ME_ACT_DROP);
	cr_assert_str_eq(s->ca_file, "/etc/ssl/spamhaus.pem");
	cr_assert_eq(s->min_interval, 7200, "min_interval: got %u, want 7200", s->min_interval);
	cr_assert_eq(s->may_be_empty, 0);
	cr_assert_eq(s->max_shrink, 20, "max_shrink: got %u, want 20", s->max_shrink);
	cr_assert_eq(s->stale_after, 3 * 86400, "stale_after: got %u", s->stale_after);
	cr_assert_eq(s->from_cli, 0);

	s = &c.src[1];
	cr_assert_str_eq(s->name, "dshield");
	cr_assert(s->fmt == me_fmt_find("dshield"));
	cr_assert_eq(s->val.action, ME_ACT_RESET, "got action %u, want reset", s->val.action);
	cr_assert_eq(s->min_interval, 7200);
	cr_assert_eq(s->max_shrink, 90);
	cr_assert_eq(s->stale_after, 86400, "stale_after: got %u, want the 1-day floor",
		     s->stale_after);

	s = &c.src[2];
	cr_assert_str_eq(s->name, "partners");
	cr_assert_eq(s->list, ME_LIST_WHITE);
	cr_assert_eq(s->val.action, ME_ACT_GROUP);
	cr_assert_eq(s->val.group, 7, "got group %u, want 7", s->val.group);
	cr_assert_eq(s->may_be_empty, 1);
	cr_assert_eq(s->min_interval, 0, "file:// min_interval: got %u, want 0", s->min_interval);

	s = &c.src[3];
	cr_assert_str_eq(s->name, "White_Pass.v2");
	cr_assert_eq(s->list, ME_LIST_WHITE);
	cr_assert_eq(s->val.action, ME_ACT_PASS, "whitelist default: got action %u, want pass",
		     s->val.action);
	cr_assert_eq(s->min_interval, 3600, "got min_interval %u, want the format's 3600",
		     s->min_interval);
	cr_assert_eq(s->max_shrink, 50, "got max_shrink %u, want the default 50", s->max_shrink);

	s = &c.src[4];
	cr_assert_eq(s->list, ME_LIST_BLACK, "default list: got %d, want black", s->list);
	cr_assert_eq(s->val.action, ME_ACT_DROP, "blacklist default: got action %u, want drop",
		     s->val.action);
	cr_assert(s->fmt == me_fmt_find("ipset-save"));
	cr_assert_str_eq(s->ca_file, "");
	ls_config_free(&c);
	cr_assert_eq(c.nsrc, 0);
	cr_assert_null(c.src);
}

Test(lsconfig, defaults)
{
	struct ls_config c;
	char why[256] = "";

	ls_config_init(&c);
	cr_assert_str_eq(c.pin_dir, ME_PIN_DIR_DEFAULT);
	cr_assert_str_eq(c.state_dir, "/var/lib/mailedge");
	cr_assert_str_eq(c.ca_file, "");
	cr_assert_eq(c.connect_timeout, 15);
	cr_assert_eq(c.timeout, 120);
	cr_assert_eq(c.max_size, 256ull << 20);
	cr_assert_eq(c.interval, 300);
	cr_assert_eq(c.lock_timeout, 60);
	cr_assert_eq(c.nsrc, 0);
	cr_assert_eq(ls_config_finish(&c, why, sizeof(why)), 0, "finish with no sources: %s", why);
	ls_config_free(&c);
}

/* A name of 31 characters is the longest allowed. */
Test(lsconfig, name_31_ok)
{
	struct ls_config c;
	char why[256] = "";
	int rc;

	rc = ls_load(&c,
		     "sources = ( { name = \"abcdefghijklmnopqrstuvwxyz01234\";\n"
		     "  url = \"https://example.org/x\"; format = \"plain\"; } );\n",
		     why, sizeof(why));
	cr_assert_eq(rc, 0, "load: got rc %d (%s), want 0", rc, why);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "finish: got rc %d (%s), want 0", rc, why);
	cr_assert_eq(strlen(c.src[0].name), 31);
	ls_config_free(&c);
}

enum { AT_LOAD = 1, AT_FINISH = 2 };

struct lserr_case {
	char name[48];
	char text[600];
	int at; /* which step fails */
	char want_why[80];
	char want_line[12]; /* "" or e.g. ":3:" */
};

#define SRC(x) "sources = (\n" x "\n);\n"
#define OK_A   "{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\"; }"

static const struct lserr_case lserr_cases[] = {
	{ "duplicate names", SRC(OK_A ",\n" OK_A), AT_FINISH, "two sources are named 'a'", "" },
	{ "name with a blank",
	  SRC("{ name = \"a b\"; url = \"https://example.org/a\"; format = \"plain\"; }"),
	  AT_FINISH, "source name 'a b'", "" },
	{ "name with a slash",
	  SRC("{ name = \"../etc\"; url = \"https://example.org/a\"; format = \"plain\"; }"),
	  AT_FINISH, "source name '../etc'", "" },
	{ "name starting with a dot",
	  SRC("{ name = \".hidden\"; url = \"https://example.org/a\"; format = \"plain\"; }"),
	  AT_FINISH, "source name '.hidden'", "" },
	{ "name with non-ASCII",
	  SRC("{ name = \"caf\xc3\xa9\"; url = \"https://example.org/a\"; format = \"plain\"; }"),
	  AT_FINISH, "use 1-31 letters, digits", "" },
	{ "name of 32 characters",
	  SRC("{ name = \"abcdefghijklmnopqrstuvwxyz012345\";\n"
	      "  url = \"https://example.org/a\"; format = \"plain\"; }"),
	  AT_LOAD, "name is longer than 31 characters", ":2:" },
	{ "name not a string",
	  SRC("{ name = 5; url = \"https://example.org/a\"; format = \"plain\"; }"), AT_LOAD,
	  "name must be a string", ":2:" },
	{ "ftp url", SRC("{ name = \"a\"; url = \"ftp://example.org/a\"; format = \"plain\"; }"),
	  AT_FINISH, "source a: url must start with https://, http:// or file://", "" },
	{ "path as url", SRC("{ name = \"a\"; url = \"/etc/mailedge/a\"; format = \"plain\"; }"),
	  AT_FINISH, "url must start with https://", "" },
	{ "unknown format",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"csv\"; }"), AT_FINISH,
	  "source a: unknown format 'csv'", "" },
	{ "list neither black nor white",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  list = \"grey\"; }"),
	  AT_FINISH, "source a: list must be black or white", "" },
	{ "list too long",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  list = \"blacklist\"; }"),
	  AT_LOAD, "list is longer than 7 characters", ":3:" },
	{ "whitelist with action drop",
	  SRC("{ name = \"w\"; url = \"https://example.org/w\"; format = \"plain\";\n"
	      "  list = \"white\"; action = \"drop\"; }"),
	  AT_FINISH, "source w: a whitelist can only pass or map to a group", "" },
	{ "whitelist with action reset",
	  SRC("{ name = \"w\"; url = \"https://example.org/w\"; format = \"plain\";\n"
	      "  list = \"white\"; action = \"reset\"; }"),
	  AT_FINISH, "a whitelist can only pass or map to a group", "" },
	{ "unknown action",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  action = \"block\"; }"),
	  AT_FINISH, "source a: unknown action 'block'", "" },
	{ "group out of range",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  action = \"group:65536\"; }"),
	  AT_FINISH, "unknown action 'group:65536'", "" },
	{ "group without a number",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  action = \"group:\"; }"),
	  AT_FINISH, "unknown action 'group:'", "" },
	{ "sources a string", "sources = \"spamhaus\";\n", AT_LOAD, "sources must be a list",
	  ":1:" },
	{ "sources a group", "\nsources = { a = 1; };\n", AT_LOAD, "sources must be a list",
	  ":2:" },
	{ "sources a number", "sources = 5;\n", AT_LOAD, "sources must be a list", ":1:" },
	{ "sources an array", "sources = [ 1, 2 ];\n", AT_LOAD, "each source must be a group",
	  ":1:" },
	/* libconfig gives a scalar list element the line of the token after it. */
	{ "a source a string", SRC(OK_A ",\n\"https://example.org/b\""), AT_LOAD,
	  "each source must be a group", "" },
	{ "a source a list", SRC("( \"a\" )"), AT_LOAD, "each source must be a group", ":2:" },
	{ "a source without url", SRC(OK_A ",\n{ name = \"b\"; format = \"plain\"; }"), AT_LOAD,
	  "a source needs name, url and format", ":3:" },
	{ "a source without name", SRC("{ url = \"https://example.org/a\"; format = \"plain\"; }"),
	  AT_LOAD, "a source needs name, url and format", ":2:" },
	{ "a source without format", SRC("{ name = \"a\"; url = \"https://example.org/a\"; }"),
	  AT_LOAD, "a source needs name, url and format", ":2:" },
	{ "an empty source", SRC("{ }"), AT_LOAD, "a source needs name, url and format", ":2:" },
	{ "unknown setting in a source",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  intervall = \"1h\"; }"),
	  AT_LOAD, "unknown setting 'intervall'", ":3:" },
	{ "global setting in a source",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  timeout = \"1h\"; }"),
	  AT_LOAD, "unknown setting 'timeout'", ":3:" },
	{ "unknown global setting", "state_dir = \"/var/lib/x\";\nstatedir = \"/x\";\n", AT_LOAD,
	  "unknown setting 'statedir'", ":2:" },
	{ "source setting at the top", "name = \"a\";\n", AT_LOAD, "unknown setting 'name'",
	  ":1:" },
	{ "syntax error", "state_dir = \"/var/lib/x\";\ntimeout = ;\n", AT_LOAD, "line 2", "" },
	{ "unclosed list", "sources = (\n  { name = \"a\"; }\n", AT_LOAD, "line ", "" },
	{ "relative pin_dir", "pin_dir = \"bpf/mailedge\";\n", AT_FINISH,
	  "pin_dir and state_dir must be absolute paths", "" },
	{ "empty state_dir", "state_dir = \"\";\n", AT_FINISH,
	  "pin_dir and state_dir must be absolute paths", "" },
	{ "max_shrink over 100",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  max_shrink = \"150%\"; }"),
	  AT_LOAD, "max_shrink must be between 0 and 100", ":3:" },
	{ "min_interval over a week",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  min_interval = \"8d\"; }"),
	  AT_LOAD, "min_interval must be between 0 and 604800", ":3:" },
	{ "may_be_empty a string",
	  SRC("{ name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	      "  may_be_empty = \"sometimes\"; }"),
	  AT_LOAD, "may_be_empty: 'sometimes' is not true or false", ":3:" },
	{ "timeout 0", "timeout = 0;\n", AT_LOAD, "timeout must be between 1 and 3600", ":1:" },
	{ "max_size too small", "max_size = \"1000\";\n", AT_LOAD,
	  "max_size must be between 1024 and 4294967296", ":1:" },
	{ "interval negative", "interval = -5;\n", AT_LOAD, "interval cannot be negative", ":1:" },
};

ParameterizedTestParameters(lsconfig, errors)
{
	return cr_make_param_array(struct lserr_case, lserr_cases,
				   sizeof(lserr_cases) / sizeof(lserr_cases[0]));
}

ParameterizedTest(const struct lserr_case *e, lsconfig, errors)
{
	struct ls_config c;
	char why[512];
	int rc;

	memset(why, 0x5a, sizeof(why));
	rc = ls_load(&c, e->text, why, sizeof(why));
	if (e->at == AT_LOAD) {
		cr_assert_eq(rc, -EINVAL, "%s: load: got rc %d, want -EINVAL", e->name, rc);
	} else {
		cr_assert_eq(rc, 0, "%s: load: got rc %d (%s), want 0 (the error is for finish)",
			     e->name, rc, why);
		rc = ls_config_finish(&c, why, sizeof(why));
		cr_assert_eq(rc, -EINVAL, "%s: finish: got rc %d, want -EINVAL", e->name, rc);
	}
	cr_assert(memchr(why, '\0', sizeof(why)), "%s: got why unterminated", e->name);
	cr_assert(strstr(why, e->want_why), "%s: got why '%s', want it to mention '%s'", e->name,
		  why, e->want_why);
	if (e->want_line[0])
		cr_assert(strstr(why, e->want_line), "%s: got why '%s', want the line '%s'",
			  e->name, why, e->want_line);
	ls_config_free(&c);
}

Test(lsconfig, too_many_sources)
{
	struct ls_config c;
	char why[256] = "";
	size_t len = 0, i;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);
	int rc;

	cr_assert_not_null(f);
	fprintf(f, "sources = (\n");
	for (i = 0; i < 241; i++)
		fprintf(f,
			"%s{ name = \"s%zu\"; url = \"https://example.org/%zu\"; format = "
			"\"plain\"; }\n",
			i ? "," : "", i, i);
	fprintf(f, ");\n");
	fclose(f);
	rc = ls_load(&c, text, why, sizeof(why));
	free(text);
	cr_assert_eq(rc, 0, "load: got rc %d (%s)", rc, why);
	cr_assert_eq(c.nsrc, 241);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, -EINVAL, "finish with 241 sources: got rc %d, want -EINVAL", rc);
	cr_assert(strstr(why, "at most 240 sources"), "got why '%s'", why);
	/* 240 are fine. */
	c.nsrc = 240;
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "finish with 240 sources: got rc %d (%s), want 0", rc, why);
	c.nsrc = 241;
	ls_config_free(&c);
}

/* min_interval: Spamhaus's hour is a floor, other formats take what is set,
 * 0 means the format's, file:// is read every run. stale_after defaults to
 * max(1 day, 4 x min_interval). */
struct interval_case {
	char format[16];
	char url[48];
	char min_interval[24]; /* "" = not set */
	char stale_after[16];  /* "" = not set */
	unsigned int want_min, want_stale;
};

static const struct interval_case interval_cases[] = {
	{ "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "60", "", 3600, 86400 },
	{ "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "\"1m\"", "", 3600,
	  86400 },
	{ "spamhaus-text", "https://www.spamhaus.org/drop/drop.txt", "60", "", 3600, 86400 },
	{ "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "3599", "", 3600, 86400 },
	{ "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "\"2h\"", "", 7200,
	  86400 },
	{ "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "", "", 3600, 86400 },
	{ "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "\"1d\"", "", 86400,
	  4 * 86400 },
	{ "plain", "https://example.org/a", "60", "", 60, 86400 },
	{ "plain", "https://example.org/a", "\"1m\"", "", 60, 86400 },
	{ "plain", "https://example.org/a", "", "", 3600, 86400 },
	{ "plain", "https://example.org/a", "0", "", 3600, 86400 },
	{ "dshield", "https://feeds.dshield.org/block.txt", "60", "", 60, 86400 },
	{ "ipset-save", "http://example.org/s.save", "\"2d\"", "", 172800, 8 * 86400 },
	{ "plain", "https://example.org/a", "\"7d\"", "", 604800, 28 * 86400 },
	{ "plain", "https://example.org/a", "60", "\"1h\"", 60, 3600 },
	{ "spamhaus-json", "file:///etc/mailedge/drop.json", "\"2h\"", "", 0, 86400 },
	{ "spamhaus-json", "file:///etc/mailedge/drop.json", "", "", 0, 86400 },
	{ "plain", "file:///etc/mailedge/white.txt", "60", "", 0, 86400 },
};

ParameterizedTestParameters(lsconfig, min_interval)
{
	return cr_make_param_array(struct interval_case, interval_cases,
				   sizeof(interval_cases) / sizeof(interval_cases[0]));
}

ParameterizedTest(const struct interval_case *t, lsconfig, min_interval)
{
	struct ls_config c;
	char text[512], why[256] = "";
	int rc;

	snprintf(text, sizeof(text),
		 "sources = ( { name = \"s\"; url = \"%s\"; format = \"%s\"; %s%s%s %s%s%s } );\n",
		 t->url, t->format, t->min_interval[0] ? "min_interval = " : "", t->min_interval,
		 t->min_interval[0] ? ";" : "", t->stale_after[0] ? "stale_after = " : "",
		 t->stale_after, t->stale_after[0] ? ";" : "");
	rc = ls_load(&c, text, why, sizeof(why));
	cr_assert_eq(rc, 0, "%s: load: got rc %d (%s)", text, rc, why);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "%s: finish: got rc %d (%s)", text, rc, why);
	cr_assert_eq(c.src[0].min_interval, t->want_min, "%s %s min_interval %s: got %u, want %u",
		     t->format, t->url, t->min_interval[0] ? t->min_interval : "(unset)",
		     c.src[0].min_interval, t->want_min);
	cr_assert_eq(c.src[0].stale_after, t->want_stale,
		     "%s %s min_interval %s: got stale_after %u, want %u", t->format, t->url,
		     t->min_interval[0] ? t->min_interval : "(unset)", c.src[0].stale_after,
		     t->want_stale);
	ls_config_free(&c);
}

/* ---- --source [white:|black:]FORMAT:URL ---- */

struct cli_case {
	char spec[96];
	int want_rc;
	int want_list;
	char want_format[16];
	char want_url[64];
	char want_name[32];
};

static const struct cli_case cli_cases[] = {
	{ "white:plain:file:///x", 0, ME_LIST_WHITE, "plain", "file:///x", "x" },
	{ "black:dshield:https://feeds.dshield.org/block.txt", 0, ME_LIST_BLACK, "dshield",
	  "https://feeds.dshield.org/block.txt", "block.txt" },
	{ "plain:https://lists.blocklist.de/lists/mail.txt", 0, ME_LIST_BLACK, "plain",
	  "https://lists.blocklist.de/lists/mail.txt", "mail.txt" },
	{ "spamhaus-json:https://www.spamhaus.org/drop/drop_v4.json", 0, ME_LIST_BLACK,
	  "spamhaus-json", "https://www.spamhaus.org/drop/drop_v4.json", "drop_v4.json" },
	{ "white:netset:http://example.org/lists/", 0, ME_LIST_WHITE, "netset",
	  "http://example.org/lists/", "httpexample.orglists" },
	{ "plain:https://example.org/a%20b?x=1", 0, ME_LIST_BLACK, "plain",
	  "https://example.org/a%20b?x=1", "a20bx1" },
	{ "plain:https://example.org/%%%", 0, ME_LIST_BLACK, "plain", "https://example.org/%%%",
	  "s" },
	{ "", -EINVAL, 0, "", "", "" },
	{ "plain", -EINVAL, 0, "", "", "" },
	{ "plain:", -EINVAL, 0, "", "", "" },
	{ "white:", -EINVAL, 0, "", "", "" },
	{ "white:plain", -EINVAL, 0, "", "", "" },
	{ "white:plain:", -EINVAL, 0, "", "", "" },
	{ ":https://example.org/a", -EINVAL, 0, "", "", "" },
	{ "white::https://example.org/a", -EINVAL, 0, "", "", "" },
	{ "abcdefghijklmnopqrstuvwxyz0123456:https://example.org/a", -EINVAL, 0, "", "", "" },
};

ParameterizedTestParameters(lsconfig, add_cli)
{
	return cr_make_param_array(struct cli_case, cli_cases,
				   sizeof(cli_cases) / sizeof(cli_cases[0]));
}

ParameterizedTest(const struct cli_case *t, lsconfig, add_cli)
{
	struct ls_config c;
	char why[256];
	int rc;

	ls_config_init(&c);
	memset(why, 0x5a, sizeof(why));
	rc = ls_config_add_cli(&c, t->spec, why, sizeof(why));
	cr_assert_eq(rc, t->want_rc, "'%s': got rc %d (%s), want %d", t->spec, rc, rc ? why : "",
		     t->want_rc);
	if (rc) {
		cr_assert(memchr(why, '\0', sizeof(why)), "'%s': got why unterminated", t->spec);
		cr_assert(strstr(why, "FORMAT:URL"), "'%s': got why '%s', want the expected form",
			  t->spec, why);
		ls_config_free(&c);
		return;
	}
	cr_assert_eq(c.nsrc, 1, "'%s': got %zu sources, want 1", t->spec, c.nsrc);
	cr_assert_str_eq(c.src[0].format, t->want_format, "'%s': got format '%s', want '%s'",
			 t->spec, c.src[0].format, t->want_format);
	cr_assert_str_eq(c.src[0].url, t->want_url, "'%s': got url '%s', want '%s'", t->spec,
			 c.src[0].url, t->want_url);
	cr_assert_str_eq(c.src[0].name, t->want_name, "'%s': got name '%s', want '%s'", t->spec,
			 c.src[0].name, t->want_name);
	cr_assert_eq(c.src[0].from_cli, 1, "'%s': got from_cli %d", t->spec, c.src[0].from_cli);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "'%s': finish: got rc %d (%s), want 0", t->spec, rc, why);
	cr_assert_eq(c.src[0].list, t->want_list, "'%s': got list %d, want %d", t->spec,
		     c.src[0].list, t->want_list);
	cr_assert_eq(c.src[0].val.action, t->want_list == ME_LIST_WHITE ? ME_ACT_PASS : ME_ACT_DROP,
		     "'%s': got action %u", t->spec, c.src[0].val.action);
	ls_config_free(&c);
}

/* Without a format the URL's scheme is taken for one: that must not end in a
 * configuration that passes. */
Test(lsconfig, add_cli_missing_format)
{
	static const char *const specs[] = { "https://example.org/drop.txt",
					     "white:file:///etc/mailedge/white.txt",
					     "black:http://example.org/x" };
	size_t k;

	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct ls_config c;
		char why[256] = "";
		int rc;

		ls_config_init(&c);
		rc = ls_config_add_cli(&c, specs[k], why, sizeof(why));
		if (!rc)
			rc = ls_config_finish(&c, why, sizeof(why));
		cr_assert_eq(rc, -EINVAL, "'%s': got rc %d, want -EINVAL (no format)", specs[k],
			     rc);
		ls_config_free(&c);
	}
}

Test(lsconfig, add_cli_url_too_long)
{
	struct ls_config c;
	char spec[1200], why[256] = "";
	int rc;

	snprintf(spec, sizeof(spec), "plain:https://example.org/");
	memset(spec + strlen(spec), 'a', 1030);
	spec[26 + 1030] = '\0';
	ls_config_init(&c);
	rc = ls_config_add_cli(&c, spec, why, sizeof(why));
	cr_assert_eq(rc, -EINVAL, "got rc %d for a 1050-byte URL, want -EINVAL", rc);
	cr_assert(strstr(why, "URL too long"), "got why '%s'", why);
	ls_config_free(&c);
}

Test(lsconfig, add_cli_unique_names)
{
	static const char *const specs[] = {
		"plain:file:///etc/a/drop.txt",
		"white:plain:file:///etc/b/drop.txt",
		"spamhaus-text:https://www.spamhaus.org/drop/drop.txt",
		"plain:https://example.org/other.txt",
	};
	static const char *const want[] = { "drop.txt", "drop.txt-2", "drop.txt-3", "other.txt" };
	struct ls_config c;
	char why[256] = "";
	size_t k;
	int rc;

	ls_config_init(&c);
	for (k = 0; k < 4; k++) {
		rc = ls_config_add_cli(&c, specs[k], why, sizeof(why));
		cr_assert_eq(rc, 0, "'%s': got rc %d (%s)", specs[k], rc, why);
	}
	for (k = 0; k < 4; k++)
		cr_assert_str_eq(c.src[k].name, want[k], "'%s': got name '%s', want '%s'", specs[k],
				 c.src[k].name, want[k]);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "finish: got rc %d (%s), want 0", rc, why);
	ls_config_free(&c);
}

/* A --source after the file's sources does not clash with their names. */
Test(lsconfig, add_cli_after_file_sources)
{
	struct ls_config c;
	char why[256] = "";
	int rc;

	rc = ls_load(&c,
		     "sources = ( { name = \"drop.txt\"; url = \"https://example.org/drop.txt\";\n"
		     "  format = \"spamhaus-text\"; },\n"
		     "  { name = \"drop.txt-2\"; url = \"https://example.org/x\"; format = "
		     "\"plain\"; } );\n",
		     why, sizeof(why));
	cr_assert_eq(rc, 0, "load: %s", why);
	rc = ls_config_add_cli(&c, "plain:file:///etc/mailedge/drop.txt", why, sizeof(why));
	cr_assert_eq(rc, 0, "add_cli: %s", why);
	cr_assert_str_eq(c.src[2].name, "drop.txt-3", "got name '%s', want drop.txt-3",
			 c.src[2].name);
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "finish: got rc %d (%s), want 0", rc, why);
	ls_config_free(&c);
}

/* Long file names are cut so that a "-N" suffix still fits in 31 characters. */
Test(lsconfig, add_cli_long_names)
{
	const char *spec = "plain:https://example.org/"
			   "a-very-long-list-file-name-that-goes-on-and-on.txt";
	struct ls_config c;
	char why[256] = "";
	int rc, k;

	ls_config_init(&c);
	for (k = 0; k < 12; k++) {
		rc = ls_config_add_cli(&c, spec, why, sizeof(why));
		cr_assert_eq(rc, 0, "add %d: %s", k, why);
		cr_assert(strlen(c.src[k].name) <= LS_NAME_MAX, "got name '%s' of %zu characters",
			  c.src[k].name, strlen(c.src[k].name));
	}
	rc = ls_config_finish(&c, why, sizeof(why));
	cr_assert_eq(rc, 0,
		     "finish: got rc %d (%s), want 0: generated names must be valid and "
		     "unique",
		     rc, why);
	cr_assert_str_eq(c.src[11].name, "a-very-long-list-file-name--12", "got '%s'",
			 c.src[11].name);
	ls_config_free(&c);
}

/* A generated name must be a valid name whatever the URL ends in. */
Test(lsconfig, add_cli_generated_names_valid)
{
	static const char *const specs[] = {
		"white:plain:file:///etc/mailedge/.white",
		"plain:https://example.org/...",
		"plain:https://example.org/.list.txt",
		"plain:https://example.org/_x",
	};
	size_t k;

	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct ls_config c;
		char why[256] = "";
		int rc;

		ls_config_init(&c);
		rc = ls_config_add_cli(&c, specs[k], why, sizeof(why));
		cr_assert_eq(rc, 0, "'%s': add: got rc %d (%s)", specs[k], rc, why);
		rc = ls_config_finish(&c, why, sizeof(why));
		cr_expect_eq(rc, 0,
			     "'%s': generated name '%s': finish got rc %d (%s), want 0: a name "
			     "made up by --source must be valid",
			     specs[k], c.src[0].name, rc, why);
		ls_config_free(&c);
	}
}

/* ls_config_load: a missing file is fine unless it must exist; errors name
 * the file and the line. */
Test(lsconfig, load_file)
{
	char path[] = "/tmp/mailedge-test-lsconf-XXXXXX";
	struct ls_config c;
	char why[512] = "", want[128];
	int fd, rc;
	const char *text =
	    "timeout = \"1m\";\nsources = (\n"
	    "  { name = \"a\"; url = \"https://example.org/a\"; format = \"plain\";\n"
	    "    colour = \"red\"; }\n);\n";

	ls_config_init(&c);
	rc = ls_config_load(&c, "/nonexistent/mailedge/listsync.conf", 0, why, sizeof(why));
	cr_assert_eq(rc, 0, "missing optional file: got rc %d (%s), want 0", rc, why);
	rc = ls_config_load(&c, "/nonexistent/mailedge/listsync.conf", 1, why, sizeof(why));
	cr_assert_eq(rc, -ENOENT, "missing required file: got rc %d, want -ENOENT", rc);
	cr_assert(strstr(why, "/nonexistent/mailedge/listsync.conf"), "got why '%s'", why);
	ls_config_free(&c);

	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	ls_config_init(&c);
	rc = ls_config_load(&c, path, 1, why, sizeof(why));
	unlink(path);
	snprintf(want, sizeof(want), "%s:4: unknown setting 'colour'", path);
	cr_assert_eq(rc, -EINVAL, "got rc %d, want -EINVAL", rc);
	cr_assert_str_eq(why, want, "got '%s', want '%s'", why, want);
	cr_assert_eq(c.timeout, 60, "got timeout %u, want 60 (read before the error)", c.timeout);
	ls_config_free(&c);
}

Test(lsconfig, help_lists_settings)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	static const char *const names[] = { "pin_dir",	     "state_dir",    "connect_timeout",
					     "timeout",	     "max_size",     "interval",
					     "lock_timeout", "name",	     "url",
					     "format",	     "list",	     "action",
					     "min_interval", "may_be_empty", "max_shrink",
					     "stale_after" };
	size_t k;

	cr_assert_not_null(f);
	ls_config_help(f);
	fclose(f);
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		char needle[40];

		snprintf(needle, sizeof(needle), "  %s = ", names[k]);
		cr_assert(strstr(out, needle), "got no '%s' in the help:\n%s", names[k], out);
	}
	free(out);
}
