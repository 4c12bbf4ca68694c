// SPDX-License-Identifier: GPL-2.0
/*
 * test_kvlog.c - key=value log lines: what an attacker puts in a value comes
 * back as that value, in its one field, never as a field of its own.
 */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "kvlog.h"
#include "lib/kvparse.h"

struct vcase {
	char in[64];
	size_t len;
	char want[128];
};

#define V(i, w)                                                                                    \
	{                                                                                          \
		i, sizeof(i) - 1, w                                                                \
	}
static const struct vcase vcases[] = {
	V("plain", "plain"),
	V("<a@example.org>", "<a@example.org>"),
	V("k=v", "\"k=v\""),
	V("", "\"\""),
	V("two words", "\"two words\""),
	V("\" reason=ok client=10.9.9.9", "\"\\\" reason=ok client=10.9.9.9\""),
	V("back\\slash", "\"back\\\\slash\""),
	V("cr\rlf\nnul\0", "\"cr\\x0dlf\\x0anul\\x00\""),
	V("tab\there", "\"tab\\x09here\""),
	V("del\x7f", "\"del\\x7f\""),
	V("caf\xc3\xa9", "\"caf\\xc3\\xa9\""),
};
#undef V

ParameterizedTestParameters(kvlog, values)
{
	return cr_make_param_array(struct vcase, vcases, sizeof(vcases) / sizeof(vcases[0]));
}

ParameterizedTest(const struct vcase *c, kvlog, values)
{
	char out[256];
	struct me_kv kv;
	struct kv_line l;
	size_t n = me_kv_value(c->in, c->len, out, sizeof(out));

	cr_assert_str_eq(out, c->want, "value %s: got %s, want %s", c->want, out, c->want);
	cr_assert_eq(n, strlen(c->want), "got length %zu, want %zu", n, strlen(c->want));
	/* And read back, as one field among others. */
	me_kv_init(&kv, "reject");
	me_kv_str(&kv, "client", "127.0.0.3");
	me_kv_mem(&kv, "from", c->in, c->len);
	me_kv_str(&kv, "reason", "relay");
	cr_assert_eq(kv_parse(kv.buf, &l), 0, "got an unreadable line: %s", kv.buf);
	cr_assert_eq(l.n, 3, "got %d fields in '%s', want 3", l.n, kv.buf);
	cr_assert_str_eq(kv_show(&l, "client"), "127.0.0.3", "got client %s, want 127.0.0.3",
			 kv_show(&l, "client"));
	cr_assert_str_eq(kv_show(&l, "reason"), "relay", "got reason %s, want relay",
			 kv_show(&l, "reason"));
	cr_assert(l.f[1].len == c->len && !memcmp(l.f[1].value, c->in, c->len),
		  "got from '%s' back, want the value given", l.f[1].value);
}

Test(kvlog, long_value_cut_and_marked)
{
	char in[1000], out[2048];
	size_t n;

	memset(in, 'x', sizeof(in));
	n = me_kv_value(in, sizeof(in), out, sizeof(out));
	cr_assert_eq(n, ME_KV_VALUE_MAX + 3, "got %zu, want %d", n, ME_KV_VALUE_MAX + 3);
	cr_assert_str_eq(out + ME_KV_VALUE_MAX, "...");
	/* A quoted one keeps its closing quote, and no escape is cut. */
	memset(in, '"', sizeof(in));
	n = me_kv_value(in, sizeof(in), out, 40);
	cr_assert_lt(n, 40);
	cr_assert(out[0] == '"' && out[n - 1] == '"' && !strncmp(out + n - 4, "...", 3), "got %s",
		  out);
	for (size_t i = 1; i + 4 < n; i += 2)
		cr_assert(out[i] == '\\' && out[i + 1] == '"', "got a cut escape in %s", out);
}

Test(kvlog, formatted_and_full_line)
{
	struct me_kv kv;
	struct kv_line l;
	char big[300];

	me_kv_init(&kv, "session");
	me_kv_fmt(&kv, "id", "%llx", 0x1000000000005ull);
	me_kv_fmt(&kv, "duration", "%.3fs", 1.5);
	cr_assert_str_eq(kv.buf, "session id=1000000000005 duration=1.500s");
	/* A line that would overflow keeps whole fields only. */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 40; i++)
		me_kv_str(&kv, "k", big);
	cr_assert_lt(kv.n, sizeof(kv.buf));
	cr_assert_eq(kv_parse(kv.buf, &l), 0, "got an unreadable line after overflow: %.80s",
		     kv.buf);
	/* Every field that made it is whole: the value cut at the value limit
	 * and marked, never a fragment cut by the line's end; the line says it
	 * lost the rest. */
	cr_assert_str_eq(l.f[l.n - 1].key, "truncated", "got a last field %s, want truncated",
			 l.f[l.n - 1].key);
	for (int i = 2; i < l.n - 1; i++)
		cr_assert(l.f[i].len == ME_KV_VALUE_MAX + 3 &&
			      !strcmp(l.f[i].value + ME_KV_VALUE_MAX, "..."),
			  "field %d: got %zu bytes ending '%s', want %d ending '...'", i,
			  l.f[i].len, l.f[i].value + (l.f[i].len > 8 ? l.f[i].len - 8 : 0),
			  ME_KV_VALUE_MAX + 3);
}
