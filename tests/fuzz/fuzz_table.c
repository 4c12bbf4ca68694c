// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_table.c - libFuzzer target for the reader of list sync's tables
 * (common/synctab.c: me_tab_check, me_hostab_lookup, me_nettab_lookup,
 * me_tab_walk), which mailedge-loader lookup and list show, and the proxy at
 * every connection, run over a table mapped from the kernel.
 *
 * Only list sync (root) writes a table, so a damaged one means a bug or a
 * writer killed half-way rather than an attacker; but whatever the table
 * says, no reader may leave the map. The table here is a heap buffer of
 * exactly the map's size, so AddressSanitizer sees any read past it.
 *
 * The input, so that the fuzzer spends its time on what a reader trusts:
 *   byte 0      the kind (4 kinds), byte 1 extra elements (0-63) after the
 *               header, dictionary and (subnets) root;
 *   64 bytes    the header, over element 0; magic, kind, elem_size, nelem and
 *               base are then set right (they are checked against the map
 *               and would only make every input fail);
 *   then        patches {u32 element, u16 offset, u8 n, n bytes}, each written
 *               into one element (clipped at its end): buckets, trie chunks,
 *               prefix records, dictionary entries anywhere in the table.
 * Every table that passes me_tab_check is looked up at the addresses the
 * patches carry and at fixed ones, in both generations, and walked; a walk
 * that reports an entry must report a prefix that fits its family.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "mailedge_abi.h"
#include "synctab.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t elem_sizes[5] = { 0, 64, 64, sizeof(struct me_tn4), sizeof(struct me_tn6) };

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_table: %s\n", what);
	abort();
}

static int walk_cb(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e)
{
	int family = *(int *)ctx;

	(void)list;
	(void)e;
	if (p->family != family || p->len > me_prefix_maxlen(p->family))
		fail("walk reported a prefix of another family or too long");
	return 0;
}

/* Look addr up the way its kind is looked up; a dictionary index the reader
 * returns is read when it is in range, as every caller does. */
static void lookup(const struct me_tabmap *t, const uint8_t *addr16)
{
	int v4 = t->h->kind == ME_TAB_HOST4 || t->h->kind == ME_TAB_NET4;
	struct me_prefix p = { .family = v4 ? AF_INET : AF_INET6, .len = v4 ? 32 : 128 };
	volatile __u32 sink;
	__u32 gen;
	int v;

	memcpy(p.addr, addr16, v4 ? 4 : 16);
	for (gen = 0; gen < 2; gen++) {
		if (t->h->kind == ME_TAB_HOST4 || t->h->kind == ME_TAB_HOST6)
			v = me_hostab_lookup(t, &p, gen);
		else
			v = me_nettab_lookup(t, &p);
		if (v >= 0 && (__u32)v < t->h->nvals)
			sink = me_tab_val(t, (__u32)v)->list;
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[3][16] = {
		{ 192, 0, 2, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255 },
	};
	struct me_tab_hdr *h;
	struct me_tabmap t;
	uint32_t kind, esize, nelem, i;
	size_t pos;
	int family;
	uint8_t *mem;

	if (size < 2 + sizeof(struct me_tab_hdr))
		return 0;
	kind = data[0] % 4 + 1;
	esize = elem_sizes[kind];
	nelem = me_tab_head_elems(esize) + data[1] % 64;
	if (kind == ME_TAB_NET4)
		nelem += (1u << ME_TN4_STRIDE) / ME_TN_FANOUT;
	else if (kind == ME_TAB_NET6)
		nelem += (1u << ME_TN6_STRIDE) / ME_TN_FANOUT;
	mem = calloc(nelem, esize);
	if (!mem)
		return 0;
	h = (struct me_tab_hdr *)mem;
	memcpy(h, data + 2, sizeof(*h));
	h->magic = ME_TAB_MAGIC;
	h->kind = kind;
	h->elem_size = esize;
	h->nelem = nelem;
	h->base = me_tab_head_elems(esize);

	memset(&t, 0, sizeof(t));
	t.fd = -1;
	t.mem = mem;
	t.size = (size_t)nelem * esize;
	t.h = h;

	/* patches, each also an address to look up */
	pos = 2 + sizeof(*h);
	while (pos + 7 <= size) {
		uint32_t el, off, n;
		uint8_t addr[16] = { 0 };

		memcpy(&el, data + pos, 4);
		off = (uint32_t)(data[pos + 4] | data[pos + 5] << 8) % esize;
		n = data[pos + 6];
		pos += 7;
		if (n > size - pos)
			n = (uint32_t)(size - pos);
		el %= nelem;
		if (el == 0) /* the header stays as checked below */
			el = 1 % nelem;
		if (n > esize - off)
			n = esize - off;
		memcpy(mem + (size_t)el * esize + off, data + pos, n);
		memcpy(addr, data + pos, n < 16 ? n : 16);
		pos += n;
		if (!me_tab_check(h, esize, nelem))
			lookup(&t, addr);
	}
	if (me_tab_check(h, esize, nelem)) {
		free(mem);
		return 0;
	}
	for (i = 0; i < 3; i++)
		lookup(&t, fixed[i]);
	family = kind == ME_TAB_HOST4 || kind == ME_TAB_NET4 ? AF_INET : AF_INET6;
	me_tab_walk(&t, 0, walk_cb, &family);
	me_tab_walk(&t, 1, walk_cb, &family);
	free(mem);
	return 0;
}
