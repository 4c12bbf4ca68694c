// SPDX-License-Identifier: GPL-2.0
/*
 * lookup.c - "lookup ADDR": which entry judges an address at the edge, and why.
 *
 * The answer comes from common/verdict.c, the userspace copy of the XDP
 * verdict order that the tests hold to the kernel's, so what this prints is
 * what the filter does. It is the verdict for a new connection (a SYN) to port
 * 25; the rate limit is not predicted, since one SYN more or less changes it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "cli.h"
#include "counters.h"
#include "lists.h"
#include "verdict_show.h"

static const char lookup_usage[] =
    "usage: mailedge-loader lookup ADDR [--json]\n"
    "\n"
    "Show how the edge filter judges packets from ADDR (IPv4 or IPv6), in the\n"
    "XDP program's order: whitelisted host, whitelisted subnet, blacklisted host,\n"
    "blacklisted subnet (the admin's entries before list sync's, the longest\n"
    "live prefix first, expired entries absent), then a threshold ban.\n"
    "\n"
    "Prints the verdict for a new connection (pass, drop, reset: the SYN, as\n"
    "any TCP segment without RST, is answered with a RST and the rest dropped,\n"
    "or group N: passed to the proxy's backend pool N), the entry that decides\n"
    "it (host or prefix, list, source: manual, threshold, proxy or the list-sync\n"
    "source's name, action, expiry), every other entry that covers ADDR and why\n"
    "it lost, and the source's threshold ban, if any. A temporary ban by the\n"
    "proxy (harvest prevention) is a blacklist entry of source proxy: the verdict\n"
    "then reads \"drop (banned by the proxy)\". Exit status 0 whether ADDR\n"
    "is listed or not; 2 if ADDR is not an address or the maps cannot be read.\n"
    "\n"
    "  --json   one JSON object\n";

int cmd_lookup(struct cli *c, int argc, char **argv)
{
	struct me_vquery q = { .syn = 1, .answerable = 1, .dport = 25 };
	struct me_vresult *r = NULL;
	char addr[ME_PREFIX_STRLEN];
	struct me_edge e;
	int json, done, rc, ret = EXIT_OK;

	rc = cli_json_opts(c, argc, argv, lookup_usage, &json, &done);
	if (rc || done)
		return rc;
	if (argc - optind != 1)
		return cli_fail("lookup takes one address (see 'mailedge-loader lookup --help')");
	rc = me_prefix_parse(argv[optind], &q.src, 0);
	if (rc)
		return cli_fail("lookup: '%.64s' is not an address: %s", argv[optind],
				me_addr_strerror(rc));
	if (!me_prefix_is_host(&q.src))
		return cli_fail("lookup: '%.64s' is a prefix; give one address", argv[optind]);
	me_prefix_format(&q.src, addr, sizeof(addr));

	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = cli_fail("lookup: out of memory");
		goto out;
	}
	rc = me_verdict_judge(&e, &q, r);
	if (rc) {
		ret = cli_fail("lookup: cannot read the maps: %s", strerror(-rc));
		goto out;
	}
	if (json) {
		json_object *o = me_vshow_json(&e, r, addr);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		me_vshow_text(stdout, &e, r, addr);
	}
out:
	free(r);
	me_edge_close(&e);
	return ret;
}
