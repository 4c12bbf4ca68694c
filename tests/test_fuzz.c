// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz.c - every libFuzzer target, briefly, as part of the test run.
 *
 * Each target runs for 10 seconds with a fixed seed over its checked-in corpus
 * (tests/fuzz/corpus/<target>/), writing what it finds to a temporary directory
 * so the source tree is never touched. A crash, a sanitizer report or a broken
 * invariant (the targets abort()) makes the test fail with the end of the
 * fuzzer's output. "make test" builds the fuzzers (build/fuzz/) first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include "lib/testenv.h"

static char workdir[64];

static void setup(void)
{
	snprintf(workdir, sizeof(workdir), "/tmp/mailedge-test-fuzz-XXXXXX");
	if (!mkdtemp(workdir))
		workdir[0] = '\0';
}

static void teardown(void)
{
	struct run r;

	if (!workdir[0])
		return;
	tenv_run(&r, "rm -rf '%s'", workdir);
	tenv_run_free(&r);
}

TestSuite(fuzz, .init = setup, .fini = teardown, .timeout = 60);

/* The last n lines of s (all of it if shorter). */
static const char *tail_lines(const char *s, int n)
{
	const char *p = s + strlen(s);

	if (p > s && p[-1] == '\n')
		p--;
	while (p > s) {
		if (p[-1] == '\n' && --n == 0)
			break;
		p--;
	}
	return p;
}

static void run_target(const char *target)
{
	char bin[4096], corpus[4096], out[128];
	static char msg[8192];
	struct run r;
	int status;

	snprintf(bin, sizeof(bin), "%s/build/fuzz/%s", tenv_src(), target);
	snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/%s", tenv_src(), target);
	cr_assert(workdir[0], "got no temporary directory, want one from .init");
	cr_assert_eq(access(bin, X_OK), 0, "got no fuzzer at %s, want one ('make fuzzers')", bin);
	cr_assert_eq(access(corpus, R_OK), 0, "got no seed corpus at %s, want one", corpus);
	snprintf(out, sizeof(out), "%s/%s", workdir, target);
	cr_assert_eq(mkdir(out, 0700), 0, "cannot create %s", out);

	tenv_run(&r, "cd '%s' && '%s' -max_total_time=10 -seed=1 -print_final_stats=1 '%s' '%s'",
		 workdir, bin, out, corpus);
	/* Quote the output before freeing it: a failed assertion leaves at once. */
	snprintf(msg, sizeof(msg), "%s", tail_lines(r.err ? r.err : "", 40));
	status = r.status;
	tenv_run_free(&r);
	cr_assert_eq(status, 0, "%s: got exit %d, want 0; end of its output:\n%s", target, status,
		     msg);
}

Test(fuzz, fuzz_addr)
{
	run_target("fuzz_addr");
}

Test(fuzz, fuzz_keys)
{
	run_target("fuzz_keys");
}

Test(fuzz, fuzz_listfile)
{
	run_target("fuzz_listfile");
}

Test(fuzz, fuzz_spamhaus_json)
{
	run_target("fuzz_spamhaus_json");
}

Test(fuzz, fuzz_spamhaus_text)
{
	run_target("fuzz_spamhaus_text");
}

Test(fuzz, fuzz_dshield)
{
	run_target("fuzz_dshield");
}

Test(fuzz, fuzz_ipset_save)
{
	run_target("fuzz_ipset_save");
}

Test(fuzz, fuzz_listsync_config)
{
	run_target("fuzz_listsync_config");
}

Test(fuzz, fuzz_smtp_command)
{
	run_target("fuzz_smtp_command");
}

Test(fuzz, fuzz_smtp_data)
{
	run_target("fuzz_smtp_data");
}

Test(fuzz, fuzz_passclient)
{
	run_target("fuzz_passclient");
}

Test(fuzz, fuzz_smtp_reply)
{
	run_target("fuzz_smtp_reply");
}

Test(fuzz, fuzz_proxy_config)
{
	run_target("fuzz_proxy_config");
}

Test(fuzz, fuzz_dict)
{
	run_target("fuzz_dict");
}

Test(fuzz, fuzz_dnsbl_spec)
{
	run_target("fuzz_dnsbl_spec");
}

Test(fuzz, fuzz_dns_a_reply)
{
	run_target("fuzz_dns_a_reply");
}

Test(fuzz, fuzz_table)
{
	run_target("fuzz_table");
}
