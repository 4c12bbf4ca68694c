// SPDX-License-Identifier: GPL-2.0
/*
 * list.c - "list add|del|show|flush|import|purge": the admin's own entries.
 *
 * Every change is all or nothing: addresses are parsed and checked before any
 * map is touched, and a failure while writing (a full map) rolls back what the
 * command wrote. Entries made by list sync are never touched here; "show
 * --synced" displays them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "grow.h"
#include "cli.h"
#include "lists.h"
#include "listfile.h"
#include "listline.h"
#include "list_io.h"
#include "log.h"

static const char list_usage[] =
	"usage: mailedge-loader list add    black|white ADDR[/LEN]... [--action ACTION]\n"
	"                                   [--expires SECONDS] [--force]\n"
	"       mailedge-loader list del    black|white ADDR[/LEN]...\n"
	"       mailedge-loader list show   [black|white] [--synced] [--source NAME]\n"
	"                                   [--match ADDR[/LEN]] [--json]\n"
	"       mailedge-loader list flush  black|white|all\n"
	"       mailedge-loader list import black|white FILE [--action ACTION]\n"
	"                                   [--expires SECONDS] [--force]\n"
	"       mailedge-loader list purge\n"
	"       mailedge-loader list save   FILE\n"
	"       mailedge-loader list restore FILE [--force]\n"
	"\n"
	"Edit the admin's black and white lists. A whitelisted source always passes;\n"
	"a blacklisted one gets its entry's action:\n"
	"  drop      drop every packet from it (the default)\n"
	"  reset     answer its TCP segments with a RST, as a closed port would, and\n"
	"            drop the rest (RSTs, anything not TCP): clients fail at once\n"
	"            instead of retrying\n"
	"  pass      let it through, counting hits (monitoring)\n"
	"  group:N   let it through; the proxy serves it from service group N\n"
	"Whitelist entries take pass (the default) or group:N.\n"
	"\n"
	"  --expires SECONDS  make the entry temporary; expired entries stop matching\n"
	"                     at once and 'list purge' removes them\n"
	"  --force            add, import or restore a drop or reset entry even though\n"
	"                     it covers the client address of your SSH session\n"
	"                     (SSH_CONNECTION) or an address or connected subnet of this\n"
	"                     gateway's interfaces, which is refused without it\n"
	"  --synced           with show: include the entries loaded by list sync\n"
	"  --source NAME      with show: only entries of that source: manual, threshold,\n"
	"                     proxy, or a list-sync source's name\n"
	"  --match ADDR[/LEN] with show: only entries containing ADDR, or overlapping\n"
	"                     the prefix\n"
	"  --json             with show: one JSON array\n"
	"\n"
	"import reads one address or CIDR a line ('#' and ';' start comments; '-' is\n"
	"standard input) and adds all of them or, if any line is bad, none. A line may\n"
	"also name its list and carry options, as 'list show' and 'list save' print:\n"
	"  [black|white] ADDR[/LEN] [action=ACTION] [expires=never|YYYY-MM-DDTHH:MM:SSZ]\n"
	"                [source=NAME]\n"
	"expires= is UTC wall-clock time; entries already expired are skipped. A line's\n"
	"options win over --action and --expires; source= is informational.\n"
	"\n"
	"save writes the admin's entries of both lists to FILE ('-' for standard\n"
	"output), replacing it atomically; expired entries and the proxy's temporary\n"
	"bans are left out. restore makes the lists exactly FILE's content, all or\n"
	"nothing; every line must name its list.\n"
	"After every change, the lists are saved to STATE_DIR/manual.lists (see\n"
	"mailedge-loader --help, --state-dir), and attach or init that create the maps\n"
	"afresh, as after a reboot, restore them from there. A failed save is a\n"
	"warning: the change itself stands.\n"
	"A /32 or /128 goes to the host map, anything shorter to the subnet map;\n"
	"host bits after the prefix length are an error.\n"
	"\n"
	"The proxy's temporary bans (harvest prevention: an IPv4 client's /32, an\n"
	"IPv6 client's /64, action drop) are entries of the blacklist with source\n"
	"proxy and an expiry. show lists them (--source proxy for only those), they\n"
	"are never saved, and 'mailedge-loader unban ADDR' lifts one early.\n";

struct list_opts {
	struct me_entry val;
	int have_action;
	int synced;
	int json;
	int force;
	const char *source;
	int have_match;
	struct me_prefix match;
};

enum { OPT_ACTION = 256, OPT_EXPIRES, OPT_SYNCED, OPT_JSON, OPT_FORCE, OPT_SOURCE, OPT_MATCH };

static int parse_opts(int argc, char **argv, struct list_opts *o, int *help)
{
	static const struct option opts[] = {
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "synced", no_argument, NULL, OPT_SYNCED },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "match", required_argument, NULL, OPT_MATCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 secs;
	int opt;

	*help = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ACTION:
			if (me_action_parse(optarg, &o->val))
				return cli_fail("unknown action '%s': use drop, reset, pass or "
						"group:N (N 0-65535)",
						optarg);
			o->have_action = 1;
			break;
		case OPT_EXPIRES:
			/* Ten years is a typo guard, not a policy. */
			if (cli_u32(optarg, 1, 315360000, &secs))
				return cli_fail("--expires: '%s' is not a number of seconds "
						"(1-315360000)",
						optarg);
			o->val.expires = me_expiry_after(secs);
			break;
		case OPT_SYNCED:
			o->synced = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_SOURCE:
			o->source = optarg;
			break;
		case OPT_MATCH:
			if (me_prefix_parse(optarg, &o->match, ME_PFX_CLEAR_HOST))
				return cli_fail("--match: '%s' is not an address or prefix",
						optarg);
			o->have_match = 1;
			break;
		case 'h':
			fputs(list_usage, stdout);
			*help = 1;
			return EXIT_OK;
		default:
			return cli_bad_option(argv);
		}
	}
	return EXIT_OK;
}

static int parse_list(const char *s, int *list)
{
	if (!strcmp(s, "black"))
		*list = ME_LIST_BLACK;
	else if (!strcmp(s, "white"))
		*list = ME_LIST_WHITE;
	else
		return cli_fail("unknown list '%s': use black or white", s);
	return EXIT_OK;
}

/* Default action: drop for the blacklist, pass for the whitelist. */
static void default_action(struct list_opts *o, int list)
{
	if (!o->have_action)
		o->val.action = list == ME_LIST_WHITE ? ME_ACT_PASS : ME_ACT_DROP;
}

static int full_msg(const struct me_edge *e, enum me_map_id full)
{
	const char *opt = "hosts";

	if (full == ME_M_WHITE_NET4 || full == ME_M_WHITE_NET6 || full == ME_M_BLACK_NET4 ||
	    full == ME_M_BLACK_NET6)
		opt = "subnets";
	else if (full == ME_M_WHITE_HOST4 || full == ME_M_WHITE_HOST6)
		opt = "white-hosts";
	return cli_fail("map %s is full (%u entries); nothing was changed. Capacity is set "
			"when the maps are created (attach --%s)",
			me_map_name(full), me_map_capacity(e->fd[full]), opt);
}

static int write_fail(int rc, const char *verb)
{
	if (rc == -EPERM || rc == -EACCES)
		return cli_fail("cannot %s: %s", verb, cli_perm_hint());
	return cli_fail("cannot %s: %s; nothing was changed", verb, strerror(-rc));
}

/* Parse ADDR arguments into records; every one is checked before use. */
static int build_recs(int list, char **addrs, int n, const struct list_opts *o,
		      struct me_rec **out)
{
	struct me_rec *recs = calloc((size_t)n, sizeof(*recs));
	char why[128];
	int i, rc;

	if (!recs)
		return cli_fail("out of memory");
	for (i = 0; i < n; i++) {
		recs[i].list = list;
		recs[i].val = o->val;
		rc = me_prefix_parse(addrs[i], &recs[i].pfx, 0);
		if (rc) {
			free(recs);
			return cli_fail("'%.64s': %s", addrs[i], me_addr_strerror(rc));
		}
		if (me_rec_check(&recs[i], why, sizeof(why))) {
			free(recs);
			return cli_fail("'%.64s': %s", addrs[i], why);
		}
	}
	*out = recs;
	return EXIT_OK;
}

/* The lock-out guard (guard.c), unless --force or MAILEDGE_LIST_FORCE=1 (for
 * provisioning scripts that add known entries). */
static int guard(const struct list_opts *o, const struct me_rec *recs, size_t n)
{
	const char *env = getenv("MAILEDGE_LIST_FORCE");
	char why[512];

	if (o->force || (env && !strcmp(env, "1")))
		return EXIT_OK;
	if (guard_check(recs, n, why, sizeof(why)))
		return cli_fail("%s; nothing was changed", why);
	return EXIT_OK;
}

static int list_add(struct cli *c, int list, char **addrs, int n, struct list_opts *o)
{
	enum me_map_id full = ME_M_COUNT;
	struct me_rec *recs;
	struct me_edge e;
	int rc;

	if (n < 1)
		return cli_fail("list add needs at least one address (see list --help)");
	default_action(o, list);
	if (build_recs(list, addrs, n, o, &recs))
		return EXIT_FAIL;
	if (guard(o, recs, (size_t)n)) {
		free(recs);
		return EXIT_FAIL;
	}
	if (cli_open(c, &e, 1)) {
		free(recs);
		return EXIT_FAIL;
	}
	rc = me_manual_apply(&e, recs, (size_t)n, &full);
	if (rc == -ENOSPC)
		rc = full_msg(&e, full);
	else if (rc)
		rc = write_fail(rc, "add");
	else {
		printf("added %d entr%s to the %s list\n", n, n == 1 ? "y" : "ies",
		       me_list_name(list));
		list_autosave(c, &e);
	}
	me_edge_close(&e);
	free(recs);
	return rc;
}

static int list_del(struct cli *c, int list, char **addrs, int n)
{
	struct list_opts o = { 0 };
	struct me_rec *recs;
	struct me_edge e;
	size_t missing = 0;
	int rc;

	if (n < 1)
		return cli_fail("list del needs at least one address (see list --help)");
	default_action(&o, list);
	if (build_recs(list, addrs, n, &o, &recs))
		return EXIT_FAIL;
	if (cli_open(c, &e, 1)) {
		free(recs);
		return EXIT_FAIL;
	}
	rc = me_manual_delete(&e, recs, (size_t)n, &missing);
	if (rc == -ENOENT)
		rc = cli_fail("%s is not in the %s list; nothing was deleted", addrs[missing],
			      me_list_name(list));
	else if (rc)
		rc = write_fail(rc, "delete");
	else {
		printf("deleted %d entr%s from the %s list\n", n, n == 1 ? "y" : "ies",
		       me_list_name(list));
		list_autosave(c, &e);
	}
	me_edge_close(&e);
	free(recs);
	return rc;
}

/* show: collect, sort, print. */
struct shown {
	struct me_rec r;
	int synced;
};

/* A list-sync source's name costs a map lookup, so each source id (a __u8) is
 * resolved once, when first printed, rather than once per entry. */
struct show_ctx {
	struct shown *v;
	size_t n, cap;
	const struct me_edge *e;
	const struct list_opts *o;
	char src[256][32];
	unsigned char have_src[256];
};

static const char *src_name(struct show_ctx *s, __u8 src);

/* --match: r contains the address, or overlaps the prefix. */
static int matches(const struct me_rec *r, const struct me_prefix *m)
{
	return r->pfx.family == m->family &&
	       (me_prefix_contains(&r->pfx, m) || me_prefix_contains(m, &r->pfx));
}

static int show_collect(void *ctx, const struct me_rec *r, int synced)
{
	struct show_ctx *s = ctx;
	struct shown *grown;

	if (s->o->have_match && !matches(r, &s->o->match))
		return 0;
	if (s->o->source && strcmp(src_name(s, r->val.src), s->o->source))
		return 0;

	grown = me_grow(s->v, s->n, &s->cap, sizeof(*s->v), 256);
	if (!grown)
		return -ENOMEM;
	s->v = grown;
	s->v[s->n].r = *r;
	s->v[s->n].synced = synced;
	s->n++;
	return 0;
}

static int shown_cmp(const void *pa, const void *pb)
{
	const struct shown *a = pa, *b = pb;
	int d;

	if (a->r.list != b->r.list)
		return a->r.list - b->r.list;
	if (a->r.pfx.family != b->r.pfx.family)
		return a->r.pfx.family - b->r.pfx.family;
	d = memcmp(a->r.pfx.addr, b->r.pfx.addr, sizeof(a->r.pfx.addr));
	if (d)
		return d;
	if (a->r.pfx.len != b->r.pfx.len)
		return (int)a->r.pfx.len - (int)b->r.pfx.len;
	return a->synced - b->synced;
}

/* The EXPIRES column: expires= as import reads it, and a comment for people. */
static void expires_format(const struct me_entry *v, __u32 now, char *buf, size_t len)
{
	char utc[ME_UTC_STRLEN];

	if (!v->expires) {
		snprintf(buf, len, "expires=never");
		return;
	}
	me_utc_format((long long)time(NULL) + (long long)v->expires - (long long)now, utc,
		      sizeof(utc));
	if (v->expires <= now)
		snprintf(buf, len, "expires=%s  # expired", utc);
	else
		snprintf(buf, len, "expires=%s  # in %us", utc, v->expires - now);
}

static const char *src_name(struct show_ctx *s, __u8 src)
{
	if (!s->have_src[src]) {
		me_src_name(s->e, src, s->src[src], sizeof(s->src[src]));
		s->have_src[src] = 1;
	}
	return s->src[src];
}

static void show_text(struct show_ctx *s, __u32 now)
{
	char addr[ME_PREFIX_STRLEN], act[32], exp[80], src[40];
	size_t i, k;

	/* Each row is a line "list import" reads back (listline.h); the header
	 * is skipped there too. */
	printf("%-5s  %-43s  %-18s  %-23s  %s\n", "LIST", "ADDRESS", "ACTION", "SOURCE",
	       "EXPIRES");
	for (i = 0; i < s->n; i++) {
		const struct me_rec *r = &s->v[i].r;

		me_prefix_format(&r->pfx, addr, sizeof(addr));
		snprintf(act, sizeof(act), "action=");
		me_action_format(&r->val, act + 7, sizeof(act) - 7);
		expires_format(&r->val, now, exp, sizeof(exp));
		snprintf(src, sizeof(src), "source=%s", src_name(s, r->val.src));
		/* A source name is one word in the file. */
		for (k = 7; src[k]; k++)
			if ((unsigned char)src[k] <= 0x20 || (unsigned char)src[k] >= 0x7f ||
			    src[k] == '#' || src[k] == ';')
				src[k] = '_';
		printf("%-5s  %-43s  %-18s  %-23s  %s\n", me_list_name(r->list), addr, act, src,
		       exp);
	}
}

static void show_json(struct show_ctx *s, __u32 now)
{
	json_object *arr = json_object_new_array();
	char addr[ME_PREFIX_STRLEN], act[24];
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct me_rec *r = &s->v[i].r;
		json_object *o = json_object_new_object();
		const char *src = src_name(s, r->val.src);

		me_prefix_format(&r->pfx, addr, sizeof(addr));
		me_action_format(&r->val, act, sizeof(act));
		json_object_object_add(o, "list", json_object_new_string(me_list_name(r->list)));
		json_object_object_add(o, "address", json_object_new_string(addr));
		json_object_object_add(o, "action", json_object_new_string(act));
		json_object_object_add(o, "source", json_object_new_string(src));
		json_object_object_add(o, "synced", json_object_new_boolean(s->v[i].synced));
		if (r->val.expires)
			json_object_object_add(
				o, "expires_in",
				json_object_new_int64(r->val.expires > now ? r->val.expires - now
									   : 0));
		else
			json_object_object_add(o, "expires_in", NULL);
		json_object_array_add(arr, o);
	}
	puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
}

static int list_show(struct cli *c, int argc, char **argv, const struct list_opts *o)
{
	struct show_ctx s = { 0 };
	struct me_edge e;
	int lists[2] = { ME_LIST_WHITE, ME_LIST_BLACK };
	int nlists = 2, i, rc = 0;

	if (argc > 1)
		return cli_fail("list show takes at most one list name");
	if (argc == 1) {
		if (parse_list(argv[0], &lists[0]))
			return EXIT_FAIL;
		nlists = 1;
	}
	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	s.e = &e;
	s.o = o;
	for (i = 0; i < nlists && !rc; i++)
		rc = me_list_walk(&e, lists[i], o->synced, show_collect, &s);
	if (rc) {
		me_edge_close(&e);
		free(s.v);
		return cli_fail("cannot read the lists: %s", strerror(-rc));
	}
	if (s.n) /* qsort(NULL, 0) is undefined behaviour */
		qsort(s.v, s.n, sizeof(*s.v), shown_cmp);
	/* The edge stays open while printing: source names are looked up then. */
	if (o->json || c->json)
		show_json(&s, me_boot_seconds());
	else
		show_text(&s, me_boot_seconds());
	me_edge_close(&e);
	free(s.v);
	return EXIT_OK;
}

static int list_flush(struct cli *c, int argc, char **argv)
{
	int lists[2] = { ME_LIST_WHITE, ME_LIST_BLACK }, nlists = 2, i, rc = 0;
	struct me_edge e;
	__u64 n;

	if (argc != 1)
		return cli_fail("list flush needs black, white or all");
	if (strcmp(argv[0], "all")) {
		if (parse_list(argv[0], &lists[0]))
			return EXIT_FAIL;
		nlists = 1;
	}
	if (cli_open(c, &e, 1))
		return EXIT_FAIL;
	for (i = 0; i < nlists; i++) {
		rc = me_manual_flush(&e, lists[i], &n);
		if (rc) {
			rc = write_fail(rc, "flush");
			break;
		}
		printf("removed %llu entr%s from the %s list\n", (unsigned long long)n,
		       n == 1 ? "y" : "ies", me_list_name(lists[i]));
	}
	if (!rc)
		list_autosave(c, &e);
	me_edge_close(&e);
	return rc;
}

static int list_import(struct cli *c, int list, const char *file, struct list_opts *o)
{
	enum me_map_id full = ME_M_COUNT;
	struct rec_vec v = { 0 };
	struct me_edge e;
	int rc;

	if (list_file_read(file, list, &o->val, o->have_action, &v))
		return EXIT_FAIL;
	if (guard(o, v.v, v.n) || cli_open(c, &e, 1)) {
		free(v.v);
		return EXIT_FAIL;
	}
	rc = me_manual_apply(&e, v.v, v.n, &full);
	if (rc == -ENOSPC)
		rc = full_msg(&e, full);
	else if (rc)
		rc = write_fail(rc, "import");
	else {
		printf("imported %zu entr%s from %s into the %s list", v.n, v.n == 1 ? "y" : "ies",
		       file, me_list_name(list));
		if (v.expired)
			printf(" (%zu already expired, skipped)", v.expired);
		putchar('\n');
		list_autosave(c, &e);
	}
	me_edge_close(&e);
	free(v.v);
	return rc;
}

static int list_restore(struct cli *c, const char *file, struct list_opts *o)
{
	enum me_map_id full = ME_M_COUNT;
	struct me_entry none = { 0 };
	struct rec_vec v = { 0 };
	struct me_edge e;
	int rc;

	if (list_file_read(file, -1, &none, 0, &v))
		return EXIT_FAIL;
	if (guard(o, v.v, v.n) || cli_open(c, &e, 1)) {
		free(v.v);
		return EXIT_FAIL;
	}
	rc = list_replace(&e, v.v, v.n, &full);
	if (rc == -ENOSPC)
		rc = full_msg(&e, full);
	else if (rc)
		rc = write_fail(rc, "restore");
	else {
		printf("restored %zu entr%s from %s", v.n, v.n == 1 ? "y" : "ies", file);
		if (v.expired)
			printf(" (%zu expired meanwhile, skipped)", v.expired);
		putchar('\n');
		list_autosave(c, &e);
	}
	me_edge_close(&e);
	free(v.v);
	return rc;
}

static int list_save(struct cli *c, const char *file)
{
	struct me_edge e;
	size_t n = 0;
	int rc;

	if (cli_open(c, &e, 0))
		return EXIT_FAIL;
	if (!strcmp(file, "-")) {
		rc = list_write(&e, stdout, &n);
		if (!rc && fflush(stdout))
			rc = -errno;
	} else {
		rc = list_save_path(&e, file, &n);
	}
	me_edge_close(&e);
	if (rc)
		return cli_fail("cannot save to %s: %s", file, strerror(-rc));
	if (strcmp(file, "-"))
		printf("saved %zu entr%s to %s\n", n, n == 1 ? "y" : "ies", file);
	return EXIT_OK;
}

static int list_purge(struct cli *c)
{
	struct me_edge e;
	__u64 n;
	int rc;

	if (cli_open(c, &e, 1))
		return EXIT_FAIL;
	rc = me_manual_purge(&e, &n);
	if (!rc)
		list_autosave(c, &e);
	me_edge_close(&e);
	if (rc)
		return write_fail(rc, "purge");
	printf("removed %llu expired entr%s\n", (unsigned long long)n, n == 1 ? "y" : "ies");
	return EXIT_OK;
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	struct list_opts o = { 0 };
	const char *verb;
	char **args;
	int nargs, list = ME_LIST_BLACK, help, rc;

	rc = parse_opts(argc, argv, &o, &help);
	if (rc || help)
		return rc;
	args = argv + optind;
	nargs = argc - optind;
	if (nargs < 1)
		return cli_fail("list needs a verb: add, del, show, flush, import, purge, save or "
				"restore");
	verb = args[0];
	args++;
	nargs--;

	if (!strcmp(verb, "show"))
		return list_show(c, nargs, args, &o);
	if (!strcmp(verb, "save") || !strcmp(verb, "restore")) {
		if (nargs != 1)
			return cli_fail("list %s needs exactly one file ('-' for standard %s)",
					verb, verb[0] == 's' ? "output" : "input");
		return verb[0] == 's' ? list_save(c, args[0]) : list_restore(c, args[0], &o);
	}
	if (!strcmp(verb, "flush"))
		return list_flush(c, nargs, args);
	if (!strcmp(verb, "purge")) {
		if (nargs)
			return cli_fail("list purge takes no arguments");
		return list_purge(c);
	}
	if (strcmp(verb, "add") && strcmp(verb, "del") && strcmp(verb, "import"))
		return cli_fail("unknown list verb '%s': use add, del, show, flush, import, "
				"purge, save or restore",
				verb);
	if (nargs < 1)
		return cli_fail("list %s needs black or white", verb);
	if (parse_list(args[0], &list))
		return EXIT_FAIL;
	args++;
	nargs--;
	if (!strcmp(verb, "add"))
		return list_add(c, list, args, nargs, &o);
	if (o.have_action || o.val.expires) {
		if (!strcmp(verb, "del"))
			return cli_fail("list del takes no --action or --expires");
	}
	if (!strcmp(verb, "del"))
		return list_del(c, list, args, nargs);
	if (nargs != 1)
		return cli_fail("list import needs exactly one file ('-' for standard input)");
	return list_import(c, list, args[0], &o);
}
