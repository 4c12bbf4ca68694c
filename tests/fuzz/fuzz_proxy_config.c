// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_proxy_config.c - libFuzzer target for mailedge-proxy's configuration
 * parser: libconfig text through px_config_parse, which is pure (it opens no
 * other file and builds no TLS context), so any text can be thrown at it:
 * every setting, list, profile, listener, pool and cross-check. The
 * invariants are the sanitizers': no crash, no leak, no undefined behaviour.
 * A configuration that parses is also asked for its TLS file list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/config.h"
#include "../../proxy/material.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TEXT 65536

/* libconfig's own lexer leaks on some syntax errors: see
 * fuzz_listsync_config.c for the two frames. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct px_flags flags = { .workers = -1 };
	struct px_material m = { 0 };
	struct px_config *c;
	char why[512];
	char *text;

	if (size > MAX_TEXT)
		size = MAX_TEXT;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	why[0] = '\0';
	c = px_config_parse(&flags, text, why, sizeof(why));
	/* A refusal always says why, in a terminated string. */
	if (!c && (!why[0] || !memchr(why, '\0', sizeof(why))))
		__builtin_trap();
	if (c) {
		px_config_tls_paths(c, &m);
		px_material_free(&m);
		px_config_put(c);
	}
	free(text);
	return 0;
}
