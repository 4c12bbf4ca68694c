// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ipset_save.c - libFuzzer target for me_fmt_ipset_save (ipset save output).
 *
 * The input is the downloaded file, parsed as it is (an exact-size heap copy,
 * not NUL-terminated: the parser takes a length), with ME_PFX_CLEAR_HOST as
 * list sync uses it and without. Every prefix handed to the callback must be
 * well formed (AF_INET or AF_INET6, length within the family, no host bits
 * left) and come with a line number that is >= 1, never decreasing and within
 * the input; a parse error must come with NUL-terminated, printable text and a
 * non-empty reason. Clearing host bits may only let more through. Violations
 * abort.
 */
#include <stddef.h>
#include <stdint.h>

#include "listfmt_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return listfmt_fuzz_one(data, size, "fuzz_ipset_save", me_fmt_ipset_save, 0);
}
