// SPDX-License-Identifier: GPL-2.0
/*
 * test_dict.c - proxy/dict.c: sender and recipient dictionaries.
 *
 * Tables: lookups against one dictionary (every kind of entry, the order
 * address, domain, parent domains, case folding, label boundaries), and bad
 * lines, each with the message it must give (file and line included). Then
 * the file side: loading from disk, a missing file, reference counting, and a
 * dictionary of 100,000 entries that must find every one of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "../proxy/dict.h"

static struct px_dict *d;

static void teardown(void)
{
	px_dict_put(d);
	d = NULL;
}

TestSuite(dict, .fini = teardown, .timeout = 30);

static const char sample[] = "# blocked senders and the like\n"
			     "spammer@example.net   550 5.7.1 Sender blocked\n" /* 2 */
			     "User@Example.ORG\n"				/* 3 */
			     "@example.org\t550 5.1.1 Unknown user\n"		/* 4 */
			     "@example.com          554 5.7.1 No mail from example.com\n"
			     "\n"
			     "example.edu\r\n" /* 7 */
			     ".example.com          550 Subdomains of example.com blocked   \n"
			     ".mx.example.com 451 4.7.1 Try later\n" /* 9 */
			     "   # an indented comment\n"
			     ".sub.example.edu\n"      /* 11 */
			     "[192.0.2.1]\n"	       /* 12 */
			     "xn--bcher-kva.example\n" /* 13 */
			     "b\303\274cher.example";  /* 14, UTF-8, no final newline */

struct lk {
	const char *addr;
	int how; /* enum px_dict_how, or -1: no match */
	const char *key, *reply;
	unsigned long line;
};

static const struct lk lookups[] = {
	{ "spammer@example.net", PX_DICT_ADDRESS, "spammer@example.net", "550 5.7.1 Sender blocked",
	  2 },
	{ "SPAMMER@Example.NET", PX_DICT_ADDRESS, "spammer@example.net", "550 5.7.1 Sender blocked",
	  2 },
	{ "other@example.net", -1, NULL, NULL, 0 },
	{ "user@example.org", PX_DICT_ADDRESS, "user@example.org", NULL, 3 },
	{ "bob@example.org", PX_DICT_DOMAIN, "example.org", "550 5.1.1 Unknown user", 4 },
	{ "anyone@example.com", PX_DICT_DOMAIN, "example.com", "554 5.7.1 No mail from example.com",
	  5 },
	{ "anyone@EXAMPLE.COM.", PX_DICT_DOMAIN, "example.com",
	  "554 5.7.1 No mail from example.com", 5 },
	{ "a@mx2.example.com", PX_DICT_PARENT, ".example.com",
	  "550 Subdomains of example.com blocked", 8 },
	{ "a@deep.er.example.com", PX_DICT_PARENT, ".example.com",
	  "550 Subdomains of example.com blocked", 8 },
	{ "a@mx.example.com", PX_DICT_PARENT, ".example.com",
	  "550 Subdomains of example.com blocked", 8 },
	{ "a@in.mx.example.com", PX_DICT_PARENT, ".mx.example.com", "451 4.7.1 Try later", 9 },
	{ "a@notexample.com", -1, NULL, NULL, 0 },
	{ "a@example.com.evil", -1, NULL, NULL, 0 },
	{ "a@example.edu", PX_DICT_DOMAIN, "example.edu", NULL, 7 },
	{ "a@x.example.edu", -1, NULL, NULL, 0 },
	{ "a@sub.example.edu", -1, NULL, NULL, 0 },
	{ "a@x.sub.example.edu", PX_DICT_PARENT, ".sub.example.edu", NULL, 11 },
	{ "a@[192.0.2.1]", PX_DICT_DOMAIN, "[192.0.2.1]", NULL, 12 },
	{ "a@XN--BCHER-KVA.example", PX_DICT_DOMAIN, "xn--bcher-kva.example", NULL, 13 },
	{ "a@B\303\274CHER.example", PX_DICT_DOMAIN, "b\303\274cher.example", NULL, 14 },
	{ "postmaster", -1, NULL, NULL, 0 },
	{ "example.com", -1, NULL, NULL, 0 },
	{ "@example.com", PX_DICT_DOMAIN, "example.com", "554 5.7.1 No mail from example.com", 5 },
	{ "user@", -1, NULL, NULL, 0 },
	{ "", -1, NULL, NULL, 0 },
};

static void parse_ok(const char *text, size_t len, unsigned int flags)
{
	char why[256] = "";
	int rc = px_dict_parse("t.dict", text, len, flags, &d, why, sizeof(why));

	cr_assert_eq(rc, 0, "parse: got %d (%s), want 0", rc, why);
	cr_assert_not_null(d);
}

Test(dict, lookup_table)
{
	struct px_dict_hit hit;
	size_t i;

	parse_ok(sample, sizeof(sample) - 1, 0);
	cr_expect_eq(px_dict_size(d), 11, "entries: got %zu, want 11", px_dict_size(d));
	cr_expect_str_eq(px_dict_name(d), "t.dict");
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		const struct lk *l = &lookups[i];
		int got = px_dict_lookup(d, l->addr, strlen(l->addr), &hit);

		if (l->how < 0) {
			cr_expect_eq(got, 0, "'%s': got a match (%s, line %lu), want none", l->addr,
				     got ? hit.key : "", got ? hit.line : 0);
			continue;
		}
		cr_expect_eq(got, 1, "'%s': got no match, want %s", l->addr, l->key);
		if (!got)
			continue;
		cr_expect_eq((int)hit.how, l->how, "'%s': got kind %d, want %d", l->addr, hit.how,
			     l->how);
		cr_expect_str_eq(hit.key, l->key, "'%s': got key %s, want %s", l->addr, hit.key,
				 l->key);
		cr_expect_eq(hit.line, l->line, "'%s': got line %lu, want %lu", l->addr, hit.line,
			     l->line);
		if (l->reply)
			cr_expect(hit.reply && !strcmp(hit.reply, l->reply),
				  "'%s': got reply '%s', want '%s'", l->addr,
				  hit.reply ? hit.reply : "(none)", l->reply);
		else
			cr_expect_null(hit.reply, "'%s': got reply '%s', want none", l->addr,
				       hit.reply);
	}
	/* The length given counts, not a NUL: "spammer@example.net" inside a
	 * longer buffer. */
	cr_expect_eq(px_dict_lookup(d, "spammer@example.netXYZ", 19, &hit), 1);
	cr_expect_eq(px_dict_lookup(d, "spammer@example.ne", 18, &hit), 0);
}

Test(dict, local_part_case)
{
	static const char text[] = "User@Example.org\n";
	struct px_dict_hit hit;

	parse_ok(text, sizeof(text) - 1, PX_DICT_CASE_LOCAL);
	cr_expect_eq(px_dict_lookup(d, "User@EXAMPLE.ORG", 16, &hit), 1,
		     "the domain must still fold");
	cr_expect_str_eq(hit.key, "User@example.org");
	cr_expect_eq(px_dict_lookup(d, "user@example.org", 16, &hit), 0,
		     "PX_DICT_CASE_LOCAL: user matched User");
	px_dict_put(d);
	d = NULL;
	parse_ok(text, sizeof(text) - 1, 0);
	cr_expect_eq(px_dict_lookup(d, "uSER@example.org", 16, &hit), 1, "default: fold");
}

struct bad {
	const char *text;
	size_t len; /* 0: strlen */
	const char *why;
};

static char long_line[1200], long_local[128], long_label[128], long_reply[600], long_domain[300];

static void make_long(void)
{
	memset(long_line, 'a', 1100);
	memcpy(long_line + 1100, ".org\n", 6);
	memset(long_local, 'l', 65);
	strcpy(long_local + 65, "@example.org\n");
	memset(long_label, 'd', 64);
	strcpy(long_label + 64, ".example\n");
	strcpy(long_reply, "a@example.org 550 ");
	memset(long_reply + 18, 'x', 520);
	long_reply[538] = '\0';
	for (int i = 0; i < 64; i++)
		memcpy(long_domain + i * 4, "abc.", 4);
	strcpy(long_domain + 256, "org\n");
}

static const struct bad bads[] = {
	{ "user@ 550 5.1.1 x\n", 0, "t.dict:1: 'user@': a local part in any domain (user@)" },
	{ "a@b..c\n", 0, "t.dict:1: 'a@b..c': the domain has an empty label" },
	{ ".\n", 0, "t.dict:1: '.': the domain is empty" },
	{ "example.org.\n", 0, "empty label" },
	{ "# ok\n\nok.org\n indented\n", 0,
	  "t.dict:4: ' indented': the line starts with a blank, which continues" },
	{ "a@example.org 250 ok\n", 0,
	  "t.dict:1: '250 ok': the reply must start with a 4xx or 5xx" },
	{ "a@example.org 5501 no\n", 0, "4xx or 5xx" },
	{ "a@example.org 599 no\n", 0, "4xx or 5xx" },
	{ "a@example.org 550 4.7.1 no\n", 0, "class differs from the reply code" },
	{ "a@example.org 550 5.7 no\n", 0, "CLASS.SUBJECT.DETAIL" },
	{ "a@example.org 550 5.7.1.2 no\n", 0, "CLASS.SUBJECT.DETAIL" },
	{ "a@example.org 550 5.7.1x no\n", 0, "CLASS.SUBJECT.DETAIL" },
	{ "a@example.org 550 5.7.1234 no\n", 0, "CLASS.SUBJECT.DETAIL" },
	{ "a@example.org 550 bad\x01\n", 0, "'550 bad\\x01': the reply holds a control" },
	{ "a@example.org 550 caf\xc3\xa9\n", 0, "non-ASCII" },
	{ "ex ample\n", 0, "'ample': the reply must start" },
	{ "exa$mple.org\n", 0, "a character other than letters" },
	{ "a b@example.org\n", 0, "t.dict:1: 'b@example.org': the reply must start" },
	{ "a@b@example.org\n", 0, "the local part holds an '@'" },
	{ "[192.0.2.1\n", 0, "[ADDRESS]" },
	{ "[1 2]\n", 0, "t.dict:1: '[1': an address literal must be [ADDRESS]" },
	{ "[a/b]\n", 0, "an address literal holds" },
	{ "example.org\n@EXAMPLE.org\n", 0,
	  "t.dict:2: 'example.org': the same entry as on line 1" },
	{ "a@x.org\nA@X.ORG 550 no\n", 0, "t.dict:2: 'a@x.org': the same entry as on line 1" },
	{ "a@b.c\0x\n", 7, "NUL byte" },
	{ long_line, 0, "t.dict:1: 'aaaa" },
	{ long_line, 0, "longer than 1024 bytes" },
	{ long_local, 0, "local part is longer than 64" },
	{ long_label, 0, "label of the domain is longer than 63" },
	{ long_domain, 0, "longer than 255 bytes" },
	{ long_reply, 0, "reply is longer than 510" },
};

Test(dict, bad_lines_name_file_and_line, .init = make_long)
{
	char why[512];
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct px_dict *x = (struct px_dict *)&why; /* must be reset to NULL */
		int rc;

		why[0] = '\0';
		rc = px_dict_parse("t.dict", b->text, b->len ? b->len : strlen(b->text), 0, &x, why,
				   sizeof(why));
		cr_expect_lt(rc, 0, "bad %zu (%.40s): got %d, want an error", i, b->text, rc);
		cr_expect_null(x, "bad %zu: got a dictionary along with the error", i);
		cr_expect(strstr(why, b->why), "bad %zu (%.40s): got '%s', want '%s'", i, b->text,
			  why, b->why);
		cr_expect(!strchr(why, '\n'), "bad %zu: the message is not one line: %s", i, why);
		if (rc == 0)
			px_dict_put(x);
	}
}

Test(dict, file_load_and_references)
{
	char path[] = "/tmp/mailedge-test-dict-XXXXXX", why[512];
	struct px_dict_hit hit;
	struct px_dict *again;
	FILE *f;
	int fd, rc;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(sample, f);
	fclose(f);
	rc = px_dict_load(path, 0, &d, why, sizeof(why));
	unlink(path);
	cr_assert_eq(rc, 0, "load: %s", why);
	cr_expect_str_eq(px_dict_name(d), path);
	cr_expect_eq(px_dict_lookup(d, "x@example.com", 13, &hit), 1);

	/* A reload keeps a session's reference valid until it is put. */
	again = px_dict_get(d);
	cr_expect_eq(again, d);
	px_dict_put(d);
	cr_expect_eq(px_dict_lookup(again, "x@example.com", 13, &hit), 1);
	cr_expect_str_eq(hit.reply, "554 5.7.1 No mail from example.com");
	d = again;

	rc = px_dict_load("/nonexistent/mailedge.dict", 0, &again, why, sizeof(why));
	cr_expect_eq(rc, -ENOENT);
	cr_expect_null(again);
	cr_expect(strstr(why, "/nonexistent/mailedge.dict: No such file"), "got '%s'", why);
	px_dict_put(NULL);
	cr_expect_eq(px_dict_lookup(NULL, "a@b.c", 5, &hit), 0);

	/* Empty files and comment-only files are empty dictionaries. */
	px_dict_put(d);
	d = NULL;
	parse_ok("", 0, 0);
	cr_expect_eq(px_dict_size(d), 0);
	cr_expect_eq(px_dict_lookup(d, "a@b.c", 5, &hit), 0);
}

Test(dict, large_finds_every_entry)
{
	enum { N = 100000 };
	char *text = malloc((size_t)N * 40), addr[64];
	struct px_dict_hit hit;
	size_t len = 0;
	int i, missed = 0;

	cr_assert_not_null(text);
	for (i = 0; i < N; i++)
		len += (size_t)sprintf(text + len, "u%d@d%d.example\n", i, i % 977);
	parse_ok(text, len, 0);
	free(text);
	cr_expect_eq(px_dict_size(d), N);
	for (i = 0; i < N; i++) {
		int n = snprintf(addr, sizeof(addr), "U%d@D%d.EXAMPLE", i, i % 977);

		if (px_dict_lookup(d, addr, (size_t)n, &hit) != 1 ||
		    hit.line != (unsigned long)i + 1)
			missed++;
	}
	cr_expect_eq(missed, 0, "%d of %d entries not found", missed, N);
	cr_expect_eq(px_dict_lookup(d, "u1@d2.example", 13, &hit), 0);
}
