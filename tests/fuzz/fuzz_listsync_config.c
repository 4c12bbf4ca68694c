// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_listsync_config.c - libFuzzer target for mailedge-listsync's
 * configuration reader: libconfig text through ls_config_load_string and, when
 * that succeeds, ls_config_finish (names, URLs, formats, lists, actions,
 * intervals). The only invariants are the sanitizers': no crash, no leak, no
 * undefined behaviour, whatever the text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lists.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define MAX_TEXT 65536

/*
 * libconfig 1.5 (Debian 12) leaks what its lexer allocated for a token when a
 * syntax error follows: 'a = "x' loses the string buffer (strbuf_append),
 * 'a =1\nm "";' the string "" (calloc), both from libconfig_yylex, and no
 * config_destroy can free them. Those are the library's leaks, not ours; what
 * the parser allocates (settings, the tree config_destroy frees) is still
 * checked, so a missing config_destroy would still be reported. Both names
 * are needed: the fuzzer's fast unwinder stops inside libconfig (no frame
 * pointers), so a report may show strbuf_append without libconfig_yylex.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_config c;
	char why[512];
	char *text;

	if (size > MAX_TEXT)
		size = MAX_TEXT;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	ls_config_init(&c);
	if (!ls_config_load_string(&c, text, why, sizeof(why)))
		ls_config_finish(&c, why, sizeof(why));
	ls_config_free(&c);
	free(text);
	return 0;
}
