// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_keys.c - libFuzzer target for the reader of list sync's keys files
 * (listsync/copykeys.c: ls_keys_decode, ls_keys_delta), which every refresh
 * maps from the state directory and walks in place.
 *
 * Only list sync (root) writes the file, so a damaged one means a crash or a
 * disk fault rather than an attacker; but whatever it says, no reader may
 * read past it, and one it accepts must be what its own writer would write.
 *
 * The input is the file itself, whose hash field must match: the target
 * reads the hash from bytes 8-15 so that inputs get past that check. The
 * bytes are copied into a buffer of exactly their size (ASan sees a read past
 * it) at an offset of 0 or 1, for the aligned and the unaligned reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copykeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_keys: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_keys k, none = { 0 };
	struct ls_keys_delta d;
	__u64 hash = 0;
	size_t i, len, shift = size & 1;
	char *mem, *buf, *again;
	int i_rc;

	if (size >= 16)
		for (i = 0; i < 8; i++)
			hash |= (__u64)data[8 + i] << (8 * i);
	mem = malloc(size + shift + 1);
	if (!mem)
		return 0;
	buf = mem + shift;
	memcpy(buf, data, size);
	if (!ls_keys_delta(buf, size, hash, &none, &d)) { /* everything removed */
		for (i = 1; i < d.nhosts; i++)
			if (d.hosts[i] <= d.hosts[i - 1])
				fail("delta hosts not ascending");
		for (i = 0; i < d.nhosts; i++) /* against nothing, all went */
			if (d.came[i / 64] >> (i % 64) & 1)
				fail("a removed host said to have come");
		ls_keys_delta_free(&d);
	}
	i_rc = ls_keys_decode(buf, size, hash, &k);
	if (!i_rc) {
		/* Accepted: the writer writes the same bytes back, and the
		 * file against its own keys is no change. */
		if (ls_keys_encode(&k, hash, &again, &len))
			fail("decoded keys not encodable");
		if (len != size || memcmp(again, buf, size))
			fail("decoded keys encode to other bytes");
		free(again);
		if (ls_keys_delta(buf, size, hash, &k, &d))
			fail("a file that decodes does not walk");
		if (d.added || d.removed || d.nhosts)
			fail("a file against its own keys changed something");
		ls_keys_delta_free(&d);
		ls_keys_free(&k);
	}
	free(mem);
	return 0;
}
