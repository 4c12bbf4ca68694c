// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c - sender groups and policies (proxy/policy.c,
 * proxy/config_policy.c) without a network.
 *
 * px_classify is a pure function of a configuration and a struct px_facts, so
 * its contract is a table: every kind of criterion, first match wins, the
 * default group wherever it stands, and no groups at all meaning today's
 * behaviour. The configuration reader gets a table of bad input, each row
 * written to a real file so the message must name that file and the line.
 * The edge facts are read by the one verdict function (me_verdict_judge) from
 * the edge program's private maps (lib/bpffix.c), entries put there as the
 * loader puts them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "edge_load.h"
#include "lists.h"
#include "../proxy/config.h"
#include "../proxy/policy.h"
#include "../proxy/session.h"
#include "lib/bpffix.h"
#include "lib/testenv.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct me_prog prog;
static struct me_edge edge;
static char conf_path[64];

static void teardown(void)
{
	bpffix_close(&prog, &edge);
	memset(&prog, 0, sizeof(prog));
	if (conf_path[0])
		unlink(conf_path);
	conf_path[0] = '\0';
}

TestSuite(policy, .fini = teardown, .timeout = 30);

/* Everything a configuration needs besides the host access table. */
#define BASE                                                                                       \
	"hostname = \"mx.test\";\n"                                                                \
	"limits = { recipients = 50; message_size = \"10M\"; max_per_client = 10; "                \
	"greet_delay = 100; };\n"                                                                  \
	"listeners = ( { listen = \"127.0.0.1:2525\"; pool = \"one\"; } );\n"                      \
	"pools = ( { name = \"one\"; members = ( \"127.0.0.1:10025\" ); },\n"                      \
	"          { name = \"two\"; members = ( \"127.0.0.1:10026\" ); } );\n"
#define BASE_LINES 5

static struct px_config *parse(const char *text)
{
	struct px_flags f = { .workers = -1 };
	char why[512];
	struct px_config *c = px_config_parse(&f, text, why, sizeof(why));

	cr_assert_not_null(c, "parsing: got '%s', want the configuration to parse", why);
	return c;
}

/* ---- classification, as a table ---- */

/* The default group comes first in the file: its place does not matter. */
static const char table_conf[] =
    BASE "policies = ( { name = \"A\"; }, { name = \"B\"; action = \"reject\"; },\n"
	 "  { name = \"C\"; pool = \"two\"; }, { name = \"D\"; greet_delay = 0; } );\n"
	 "sender_groups = (\n"
	 "  { name = \"REST\"; policy = \"A\"; default = true; },\n"
	 "  { name = \"NETS\"; policy = \"A\"; networks = [ \"192.0.2.0/25\", "
	 "\"2001:db8:1::/48\" ]; },\n"
	 "  { name = \"WHITE\"; policy = \"A\"; edge = [ \"white\" ]; },\n"
	 "  { name = \"G2\"; policy = \"C\"; edge = [ \"group:2\", \"group:7\" ]; },\n"
	 "  { name = \"PASS\"; policy = \"B\"; edge = [ \"pass\" ]; },\n"
	 "  { name = \"BLACK\"; policy = \"B\"; edge = [ \"black\" ]; },\n"
	 "  { name = \"NAMED\"; policy = \"A\"; hosts = [ \".trusted.example\", "
	 "\"mx.partner.example\" ]; },\n"
	 "  { name = \"NORDNS\"; policy = \"D\"; rdns = [ \"none\", \"unverified\" ]; },\n"
	 "  { name = \"HIGH\"; policy = \"B\"; score_min = 5; },\n"
	 "  { name = \"MID\"; policy = \"D\"; score_min = 1; score_max = 4; }\n"
	 ");\n";

#define NOEDGE -2 /* edge not readable */

/* Arrays, not pointers: Criterion hands parameters to a test process of its
 * own, where the addresses of the parent's strings mean nothing. */
struct class_case {
	char what[64];
	char addr[48];
	int edge_list; /* -1 none, NOEDGE unknown, else ME_LIST_* */
	int edge_action;
	unsigned int edge_group;
	enum px_rdns rdns;
	int has_ptr;
	char name[64];
	int score, score_known;
	char want_group[16]; /* "-" for none */
	char want_why[48];   /* its start */
};

static const struct class_case class_cases[] = {
	{ "v4 in a network", "192.0.2.1", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "NETS",
	  "network 192.0.2.0/25" },
	{ "v4 just outside", "192.0.2.200", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "REST",
	  "default" },
	{ "v6 in a network", "2001:db8:1::5", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "NETS",
	  "network 2001:db8:1::/48" },
	{ "v6 outside", "2001:db8:2::5", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "REST",
	  "default" },
	{ "v4-mapped v6 is v4", "::ffff:192.0.2.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "NETS",
	  "network 192.0.2.0/25" },
	{ "first match wins: network before edge white", "192.0.2.1", ME_LIST_WHITE, ME_ACT_PASS, 0,
	  PX_RDNS_PENDING, 0, "", 0, 1, "NETS", "network" },
	{ "edge whitelist", "198.51.100.1", ME_LIST_WHITE, ME_ACT_PASS, 0, PX_RDNS_PENDING, 0, "",
	  0, 1, "WHITE", "edge whitelist" },
	{ "white group:2 is white first", "198.51.100.1", ME_LIST_WHITE, ME_ACT_GROUP, 2,
	  PX_RDNS_PENDING, 0, "", 0, 1, "WHITE", "edge whitelist" },
	{ "black group:2", "198.51.100.2", ME_LIST_BLACK, ME_ACT_GROUP, 2, PX_RDNS_PENDING, 0, "",
	  0, 1, "G2", "edge group:2" },
	{ "black group:7", "198.51.100.2", ME_LIST_BLACK, ME_ACT_GROUP, 7, PX_RDNS_PENDING, 0, "",
	  0, 1, "G2", "edge group:7" },
	{ "black group:3 is only black", "198.51.100.2", ME_LIST_BLACK, ME_ACT_GROUP, 3,
	  PX_RDNS_PENDING, 0, "", 0, 1, "BLACK", "edge blacklist" },
	{ "black pass", "198.51.100.3", ME_LIST_BLACK, ME_ACT_PASS, 0, PX_RDNS_PENDING, 0, "", 0, 1,
	  "PASS", "edge action pass" },
	{ "black drop (no XDP attached)", "198.51.100.3", ME_LIST_BLACK, ME_ACT_DROP, 0,
	  PX_RDNS_PENDING, 0, "", 0, 1, "BLACK", "edge blacklist" },
	{ "edge unreadable matches nothing", "198.51.100.3", NOEDGE, ME_ACT_PASS, 0,
	  PX_RDNS_PENDING, 0, "", 0, 1, "REST", "default" },
	{ "verified name under a domain", "203.0.113.1", -1, 0, 0, PX_RDNS_OK, 1,
	  "a.trusted.example", 0, 1, "NAMED", "host .trusted.example" },
	{ "the domain itself is not under it", "203.0.113.1", -1, 0, 0, PX_RDNS_OK, 1,
	  "trusted.example", 0, 1, "REST", "default" },
	{ "exact name, any case, final dot", "203.0.113.1", -1, 0, 0, PX_RDNS_OK, 1,
	  "MX.Partner.Example.", 0, 1, "NAMED", "host mx.partner.example" },
	{ "a longer name is another", "203.0.113.1", -1, 0, 0, PX_RDNS_OK, 1,
	  "evilmx.partner.example", 0, 1, "REST", "default" },
	{ "no PTR", "203.0.113.2", -1, 0, 0, PX_RDNS_UNKNOWN, 0, "", 0, 1, "NORDNS", "rdns none" },
	{ "PTR not confirmed", "203.0.113.2", -1, 0, 0, PX_RDNS_UNKNOWN, 1, "", 0, 1, "NORDNS",
	  "rdns unverified" },
	{ "DNS failed", "203.0.113.2", -1, 0, 0, PX_RDNS_TEMPFAIL, 0, "", 0, 1, "REST", "default" },
	{ "score above", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 9, 1, "HIGH",
	  "score 9 in 5..100000" },
	{ "score at the lower bound", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 5, 1, "HIGH",
	  "score 5" },
	{ "score at an upper bound", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 4, 1, "MID",
	  "score 4 in 1..4" },
	{ "score at a lower bound", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 1, 1, "MID",
	  "score 1" },
	{ "score 0 (no DNSBL)", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "REST",
	  "default" },
	{ "negative score (DNSWL)", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", -3, 1, "REST",
	  "default" },
	{ "score unknown matches no range", "203.0.113.3", -1, 0, 0, PX_RDNS_PENDING, 0, "", 9, 0,
	  "REST", "default" },
};

static void facts_for(const struct class_case *t, struct px_facts *f)
{
	struct sockaddr_storage ss = { 0 };

	if (strchr(t->addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, t->addr, &s6->sin6_addr), 1, "%s", t->addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, t->addr, &s4->sin_addr), 1, "%s", t->addr);
	}
	px_facts_init(f, (struct sockaddr *)&ss);
	if (t->edge_list != NOEDGE) {
		f->edge_known = 1;
		f->edge_list = t->edge_list;
	} else {
		f->edge_list = ME_LIST_BLACK; /* what it would be: must not count */
	}
	f->edge_action = t->edge_action;
	f->edge_group = t->edge_group;
	if (t->rdns != PX_RDNS_PENDING) {
		struct px_rdns_result r = { .status = t->rdns };

		if (t->rdns == PX_RDNS_OK)
			snprintf(r.name, sizeof(r.name), "%s", t->name);
		if (t->has_ptr)
			snprintf(r.reverse, sizeof(r.reverse), "%s",
				 t->name[0] ? t->name : "ptr.example");
		px_facts_rdns(f, &r);
	}
	f->score = t->score;
	f->score_known = t->score_known;
}

ParameterizedTestParameters(policy, classify_table)
{
	return cr_make_param_array(struct class_case, class_cases, ARRAY_LEN(class_cases));
}

ParameterizedTest(const struct class_case *t, policy, classify_table)
{
	struct px_config *c = parse(table_conf);
	struct px_facts f;
	struct px_class k;
	const char *got;

	facts_for(t, &f);
	px_classify(c, &f, &k);
	got = k.group ? k.group->name : "-";
	cr_expect_str_eq(got, t->want_group, "%s: group: got %s, want %s (why '%s')", t->what, got,
			 t->want_group, k.why);
	cr_expect(!strncmp(k.why, t->want_why, strlen(t->want_why)),
		  "%s: why: got '%s', want '%s...'", t->what, k.why, t->want_why);
	if (k.group)
		cr_expect_eq(k.policy, k.group->policy, "%s: the group's own policy", t->what);
	px_config_put(c);
}

/* What a policy resolves to: its pool, its limits over the global ones. */
Test(policy, resolved_policies)
{
	struct px_config *c = parse(
	    BASE
	    "policies = ( { name = \"P\"; pool = \"two\"; starttls = \"required\"; "
	    "relay = \"yes\"; pregreet = \"reject\"; banner = \"hello there\";\n"
	    "  limits = { recipients = 5; max_per_client = 80; messages = 3; }; },\n"
	    "  { name = \"Q\"; }, { name = \"R\"; greet_delay = 0; action = \"ban\"; ban_time = "
	    "\"2m\"; } );\n"
	    "sender_groups = ( { name = \"G\"; policy = \"P\"; networks = [ \"10.0.0.0/8\" ]; "
	    "} );\n");
	const struct px_policy *p = &c->policies[0], *q = &c->policies[1], *r = &c->policies[2];

	cr_assert_eq(c->npolicies, 3, "policies: got %zu, want 3", c->npolicies);
	cr_expect_eq(p->pool, &c->pools[1], "P's pool: got %s, want two",
		     p->pool ? p->pool->name : "(listener's)");
	cr_expect_null(q->pool, "Q's pool: got %s, want the listener's",
		       q->pool ? q->pool->name : "");
	cr_expect_eq(p->starttls, PX_TLS_REQUIRED, "P starttls: got %d", p->starttls);
	cr_expect_eq(q->starttls, PX_POL_INHERIT, "Q starttls: got %d, want inherit", q->starttls);
	cr_expect_eq(p->relay, 1, "P relay: got %d, want 1", p->relay);
	cr_expect_eq(q->relay, PX_POL_INHERIT, "Q relay: got %d, want inherit", q->relay);
	cr_expect_eq(p->pregreet, PX_PREGREET_REJECT, "P pregreet: got %d", p->pregreet);
	cr_expect_str_eq(p->banner, "hello there");
	cr_expect_eq(p->lim.recipients, 5, "P recipients: got %u, want 5", p->lim.recipients);
	cr_expect_eq(p->lim.messages, 3, "P messages: got %u, want 3", p->lim.messages);
	cr_expect_eq(p->lim.message_size, c->lim.message_size,
		     "P message_size: got %llu, want the global %llu", p->lim.message_size,
		     c->lim.message_size);
	cr_expect_eq(p->lim.greet_delay, 100, "P greet_delay: got %u, want the global 100",
		     p->lim.greet_delay);
	cr_expect(!memcmp(&q->lim, &c->lim, sizeof(c->lim)),
		  "Q sets no limit: want the global limits exactly");
	cr_expect_eq(r->lim.greet_delay, 0, "R greet_delay: got %u, want 0", r->lim.greet_delay);
	cr_expect_eq(r->action, PX_POL_BAN, "R action: got %d, want ban", r->action);
	cr_expect_eq(r->ban_time, 120, "R ban_time: got %u, want 120", r->ban_time);
	cr_expect_eq(q->action, PX_POL_ACCEPT, "Q action: got %d, want accept", q->action);
	cr_expect_str_eq(q->reject_reply, "554 5.7.1 Access denied");
	/* Accept lets in up to the highest per-client limit of any policy. */
	cr_expect_eq(c->max_per_client_any, 80, "max_per_client_any: got %u, want 80",
		     c->max_per_client_any);
	cr_expect_eq(c->lim.max_per_client, 10, "global max_per_client: got %u, want 10",
		     c->lim.max_per_client);
	px_config_put(c);
}

/* No groups: nothing is decided, nothing looked up, no limit moves. */
Test(policy, no_groups_is_today)
{
	static const char *const confs[] = {
		BASE,
		BASE
		"policies = ( { name = \"P\"; action = \"reject\"; limits = { max_per_client = "
		"90; }; } );\n",
	};
	struct class_case any = { "everything known",
				  "192.0.2.1",
				  ME_LIST_BLACK,
				  ME_ACT_GROUP,
				  2,
				  PX_RDNS_UNKNOWN,
				  0,
				  "",
				  9,
				  1,
				  "-",
				  "no groups" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(confs); i++) {
		struct px_config *c = parse(confs[i]);
		struct px_facts f;
		struct px_class k;

		facts_for(&any, &f);
		px_classify(c, &f, &k);
		cr_expect_null(k.group, "config %zu: got group %s, want none", i,
			       k.group ? k.group->name : "");
		cr_expect_null(k.policy, "config %zu: got a policy, want none", i);
		cr_expect_str_eq(k.why, "no groups", "config %zu", i);
		cr_expect_eq(c->max_per_client_any, c->lim.max_per_client,
			     "config %zu: accept's per-client limit: got %u, want the global %u", i,
			     c->max_per_client_any, c->lim.max_per_client);
		cr_expect(!px_policy_needs_edge(c) && !px_policy_needs_rdns(c),
			  "config %zu: want no edge and no DNS lookups", i);
		px_config_put(c);
	}
}

/* Groups but no default: an unmatched client gets today's behaviour. */
Test(policy, no_default_no_match)
{
	struct px_config *c = parse(
	    BASE "policies = ( { name = \"P\"; action = \"refuse\"; } );\n"
		 "sender_groups = ( { name = \"G\"; policy = \"P\"; edge = [ \"black\" ]; } );\n");
	struct class_case t = { "not black", "192.0.2.1", ME_LIST_WHITE,
				ME_ACT_PASS, 0,		  PX_RDNS_PENDING,
				0,	     "",	  0,
				1,	     "-",	  "" };
	struct px_facts f;
	struct px_class k;

	facts_for(&t, &f);
	px_classify(c, &f, &k);
	cr_expect_null(k.policy, "got policy %s, want none", k.policy ? k.policy->name : "");
	cr_expect_str_eq(k.why, "no group matched");
	cr_expect(px_policy_needs_edge(c), "an edge criterion: want the edge read");
	cr_expect(!px_policy_needs_rdns(c), "no rdns criterion: want no DNS before the banner");
	px_config_put(c);
}

/* ---- bad input: every message names the file and the line ---- */

struct bad_case {
	char snippet[256]; /* one line, after BASE */
	char want[96];	   /* in the message */
};

#define G(x) "sender_groups = ( { name = \"G\"; policy = \"A\"; " x " } );"
#define P(x) "policies = ( { name = \"A\"; " x " } );"
#define PA   "policies = ( { name = \"A\"; } ); "

static const struct bad_case bad_cases[] = {
	{ P("pool = \"nope\";"), "policy A: there is no pool nope" },
	{ P("action = \"drop\";"), "action 'drop' is not accept, reject, refuse or ban" },
	{ P("reject_reply = \"250 ok\";"), "reject_reply must be one line, a 5xx" },
	{ P("reject_reply = \"554 a\\nb\";"), "reject_reply must be one line" },
	{ P("starttls = \"implicit\";"), "starttls must be off, optional or required" },
	{ P("relay = \"maybe\";"), "relay must be yes or no" },
	{ P("pregreet = \"drop\";"), "pregreet must be ignore, log or reject" },
	{ P("banner = \"a\\r\\nb\";"), "banner must be one line" },
	{ P("greet_delay = 60001;"), "greet_delay must be between 0 and 60000" },
	{ P("greet_delay = \"5s\";"), "greet_delay must be between 0 and 60000" },
	{ P("ban_time = 0;"), "ban_time must be between" },
	{ P("limits = { max_sessions = 5; };"), "limits.max_sessions is not a per-client limit" },
	{ P("limits = { recipients = 0; };"), "recipients must be between 1 and" },
	{ P("limits = { errors_soft = 9; errors_hard = 3; };"), "errors_soft (9) is above" },
	{ P("limits = 5;"), "limits must be a group" },
	{ P("colour = \"red\";"), "unknown setting 'colour'" },
	{ "policies = ( { action = \"reject\"; } );", "a policy needs a name" },
	{ "policies = ( { name = \"A\"; }, { name = \"A\"; } );", "a second policy named A" },
	{ "policies = { name = \"A\"; };", "policies must be a list" },
	{ PA G("networks = [ \"300.1.2.3/8\" ];"), "network '300.1.2.3/8'" },
	{ PA G("networks = [ \"192.0.2.1/24\" ];"), "network '192.0.2.1/24'" },
	{ PA G("networks = \"192.0.2.0/24\";"), "networks must be a list of strings" },
	{ PA G("edge = [ \"gray\" ];"),
	  "edge 'gray' is not white, black, pass, listed or group:N" },
	{ PA G("edge = [ \"group:70000\" ];"), "edge 'group:70000'" },
	{ PA G("edge = [ \"group:\" ];"), "edge 'group:'" },
	{ PA G("rdns = [ \"maybe\" ];"),
	  "rdns 'maybe' is not verified, unverified, none or tempfail" },
	{ PA G("hosts = [ \"bad host!\" ];"), "host 'bad host!' is not a host name" },
	{ PA G("hosts = [ \".\" ];"), "host '.' is not a host name" },
	{ PA G("score_min = 200000;"), "score_min must be between -100000 and 100000" },
	{ PA G("score_max = \"3\";"), "score_max must be a whole number" },
	{ PA G("score_min = 5; score_max = 2;"), "score_min (5) is above score_max (2)" },
	{ PA G("default = true; score_min = 1;"), "the default group takes no criteria" },
	{ PA G(""), "sender group G matches no client" },
	{ PA G("netwroks = [ \"192.0.2.0/24\" ];"), "unknown setting 'netwroks'" },
	{ PA "sender_groups = ( { name = \"G\"; policy = \"Z\"; score_min = 1; } );",
	  "sender group G: there is no policy Z" },
	{ PA "sender_groups = ( { name = \"G\"; score_min = 1; } );",
	  "a sender group needs a name and a policy" },
	{ PA "sender_groups = ( { name = \"G\"; policy = \"A\"; score_min = 1; }, { name = \"G\"; "
	     "policy = \"A\"; score_max = 1; } );",
	  "a second sender group named G" },
	{ PA "sender_groups = ( { name = \"D1\"; policy = \"A\"; default = true; }, { name = "
	     "\"D2\"; policy = \"A\"; default = true; } );",
	  "sender groups D1 and D2 are both the default" },
	{ PA "sender_groups = ( \"G\" );", "a sender group must be a group" },
	/* harvest prevention and recipients per hour: per-client limits */
	{ P("limits = { harvest_limit = 2000000; };"), "harvest_limit must be between 0 and" },
	{ P("limits = { harvest_ban = \"31d\"; };"), "harvest_ban must be between" },
	{ P("limits = { recipients_per_hour = -1; };"), "recipients_per_hour cannot be negative" },
	{ "sender_dict_reply = \"250 fine\";", "sender_dict_reply must be one line, a 4xx or 5xx" },
	{ "recipient_dict_reply = \"550\";", "recipient_dict_reply must be one line" },
	{ "harvest_clients = 1;", "harvest_clients must be between" },
	{ "dnsbl = { sites = [ \"bad zone!\" ]; };", "dnsbl site 'bad zone!'" },
	{ "dnsbl = { timeout = 5; };", "timeout must be between" },
};

ParameterizedTestParameters(policy, bad_config)
{
	return cr_make_param_array(struct bad_case, bad_cases, ARRAY_LEN(bad_cases));
}

ParameterizedTest(const struct bad_case *t, policy, bad_config)
{
	struct px_flags f = { .workers = -1 };
	struct px_config *c;
	char text[4096], why[512], at[128];
	int fd, n;

	snprintf(conf_path, sizeof(conf_path), "/tmp/mailedge-test-policy-XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	n = snprintf(text, sizeof(text), "%s%s\n", BASE, t->snippet);
	cr_assert_eq(write(fd, text, (size_t)n), n, "writing %s", conf_path);
	close(fd);
	f.config = conf_path;
	c = px_config_parse(&f, NULL, why, sizeof(why));
	cr_assert_null(c, "'%s': got it accepted, want '%s'", t->snippet, t->want);
	cr_expect(strstr(why, t->want), "'%s': got '%s', want '%s'", t->snippet, why, t->want);
	snprintf(at, sizeof(at), "%s:%d: ", conf_path, BASE_LINES + 1);
	cr_expect(!strncmp(why, at, strlen(at)), "'%s': got '%s', want it to start with '%s'",
		  t->snippet, why, at);
}

/* ---- the example in proxy/examples/proxy.conf, uncommented ---- */

static char *example_uncommented(void)
{
	char path[512], *text, *out, *line, *save;
	size_t len = 0;
	int in = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/proxy/examples/proxy.conf", tenv_src());
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	text = calloc(1, 65536);
	out = calloc(1, 65536);
	cr_assert(text && out);
	len = fread(text, 1, 65535, fp);
	fclose(fp);
	cr_assert_gt(len, 0, "%s is empty", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "# --- sender groups example")) {
			in = 1;
			continue;
		}
		if (strstr(line, "# --- end of sender groups example"))
			in = 0;
		strcat(out, in && !strncmp(line, "# ", 2) ? line + 2 : line);
		strcat(out, "\n");
	}
	free(text);
	return out;
}

Test(policy, example_conf)
{
	static const struct class_case rows[] = {
		{ "own network", "192.0.2.9", -1, 0, 0, PX_RDNS_OK, 1, "mx.example.org", 0, 1,
		  "WHITELIST", "network" },
		{ "edge white", "203.0.113.5", ME_LIST_WHITE, ME_ACT_PASS, 0, PX_RDNS_OK, 1,
		  "mx.example.net", 0, 1, "WHITELIST", "edge whitelist" },
		{ "edge pass", "203.0.113.6", ME_LIST_BLACK, ME_ACT_PASS, 0, PX_RDNS_OK, 1,
		  "mx.example.net", 0, 1, "BLACKLIST", "edge action pass" },
		{ "DNSBL 3", "203.0.113.7", -1, 0, 0, PX_RDNS_OK, 1, "mx.example.net", 3, 1,
		  "BLACKLIST", "score 3" },
		{ "no PTR", "203.0.113.8", -1, 0, 0, PX_RDNS_UNKNOWN, 0, "", 0, 1, "SUSPECTLIST",
		  "rdns none" },
		{ "DNSBL 1", "203.0.113.8", -1, 0, 0, PX_RDNS_OK, 1, "mx.example.net", 1, 1,
		  "SUSPECTLIST", "score 1" },
		{ "clean", "203.0.113.9", -1, 0, 0, PX_RDNS_OK, 1, "mx.example.net", 0, 1,
		  "UNKNOWNLIST", "default" },
	};
	char *text = example_uncommented();
	struct px_config *c = parse(text);
	size_t i;

	free(text);
	cr_assert_eq(c->ngroups, 4, "sender groups: got %zu, want 4", c->ngroups);
	cr_assert_eq(c->npolicies, 4, "policies: got %zu, want 4", c->npolicies);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct px_facts f;
		struct px_class k;

		facts_for(&rows[i], &f);
		px_classify(c, &f, &k);
		cr_expect_str_eq(k.group ? k.group->name : "-", rows[i].want_group,
				 "%s: got %s (%s), want %s", rows[i].what,
				 k.group ? k.group->name : "-", k.why, rows[i].want_group);
	}
	px_config_put(c);
}

/* ---- the edge facts, from real maps, through me_verdict_judge ---- */

static void add(int list, const char *pfx, const char *action)
{
	struct me_rec r = { .list = list };
	enum me_map_id full;

	cr_assert_eq(me_prefix_parse(pfx, &r.pfx, 0), 0, "%s", pfx);
	cr_assert_eq(me_action_parse(action, &r.val), 0, "%s", action);
	r.val.src = ME_SRC_MANUAL;
	cr_assert_eq(me_manual_apply(&edge, &r, 1, &full), 0, "adding %s %s", pfx, action);
}

Test(policy, edge_facts)
{
	static const struct {
		const char *addr;
		int list, action;
		unsigned int group;
		const char *want_group;
	} rows[] = {
		{ "198.51.100.7", ME_LIST_BLACK, ME_ACT_GROUP, 2, "G2" },
		{ "198.51.100.8", ME_LIST_WHITE, ME_ACT_GROUP, 2, "WHITE" },
		{ "203.0.113.77", ME_LIST_WHITE, ME_ACT_PASS, 0, "WHITE" }, /* white /24 */
		{ "203.0.113.9", ME_LIST_WHITE, ME_ACT_PASS, 0, "WHITE" },  /* white beats black */
		{ "198.51.100.99", ME_LIST_BLACK, ME_ACT_PASS, 0, "PASS" },
		{ "2001:db8::7", ME_LIST_BLACK, ME_ACT_GROUP, 7, "G2" },
		{ "192.0.2.200", -1, 0, 0, "REST" },
	};
	struct px_config *c = parse(table_conf);
	size_t i;

	bpffix_load(&prog, &edge);
	add(ME_LIST_BLACK, "198.51.100.7", "group:2");
	add(ME_LIST_WHITE, "198.51.100.8", "group:2");
	add(ME_LIST_WHITE, "203.0.113.0/24", "pass");
	add(ME_LIST_BLACK, "203.0.113.9", "pass");
	add(ME_LIST_BLACK, "198.51.100.99", "pass");
	add(ME_LIST_BLACK, "2001:db8::7", "group:7");
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct class_case t = { "", "", -1, 0, 0, PX_RDNS_PENDING, 0, "", 0, 1, "", "" };
		struct px_facts f;
		struct px_class k;
		int rc;

		snprintf(t.addr, sizeof(t.addr), "%s", rows[i].addr);
		facts_for(&t, &f);
		f.edge_known = 0;
		f.edge_list = -1;
		rc = px_facts_edge(&f, &edge);
		cr_assert_eq(rc, 0, "%s: px_facts_edge: got %d, want 0", rows[i].addr, rc);
		cr_expect(f.edge_known, "%s: want the edge known", rows[i].addr);
		cr_expect_eq(f.edge_list, rows[i].list, "%s: list: got %d, want %d", rows[i].addr,
			     f.edge_list, rows[i].list);
		if (rows[i].list >= 0) {
			cr_expect_eq(f.edge_action, rows[i].action, "%s: action: got %d, want %d",
				     rows[i].addr, f.edge_action, rows[i].action);
			cr_expect_eq(f.edge_group, rows[i].group, "%s: group: got %u, want %u",
				     rows[i].addr, f.edge_group, rows[i].group);
		}
		px_classify(c, &f, &k);
		cr_expect_str_eq(k.group ? k.group->name : "-", rows[i].want_group,
				 "%s: got %s (%s), want %s", rows[i].addr,
				 k.group ? k.group->name : "-", k.why, rows[i].want_group);
	}
	cr_expect_eq(px_facts_edge(&(struct px_facts){ 0 }, NULL), -ENOENT,
		     "no maps: want -ENOENT");
	px_config_put(c);
}

/* --help-config documents every key the reader takes. */
Test(policy, help_config)
{
	static const char *const keys[] = {
		"policies = (",
		"sender_groups = (",
		"action = ",
		"reject_reply = ",
		"ban_time = ",
		"pool = ",
		"starttls = ",
		"relay = ",
		"greet_delay = ",
		"pregreet = ",
		"banner = ",
		"messages = ",
		"max_per_client = ",
		"networks = ",
		"edge = ",
		"rdns = ",
		"hosts = ",
		"score_min = ",
		"default = ",
		"pin_dir = ",
		"harvest_limit = ",
		"harvest_ban = ",
		"recipients_per_hour = ",
		"harvest_clients = ",
		"sender_dict = ",
		"sender_dict_reply = ",
		"recipient_dict = ",
		"recipient_dict_reply = ",
		"valid_recipients = ",
		"dnsbl = {",
		"sites",
		"on_failure = ",
	};
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&buf, &len);

	cr_assert_not_null(m);
	px_config_help(m);
	fclose(m);
	for (i = 0; i < ARRAY_LEN(keys); i++)
		cr_expect(strstr(buf, keys[i]), "--help-config: want '%s' in it", keys[i]);
	free(buf);
}

/* ---- harvest prevention: which backend replies are an unknown user ---- */

struct unknown_case {
	char reply[128];
	int want;
};

static const struct unknown_case unknown_cases[] = {
	/* Postfix, local_recipient_maps */
	{ "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local "
	  "recipient table\r\n",
	  1 },
	/* Exchange Online */
	{ "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
	  "lookup\r\n",
	  1 },
	{ "550 5.1.0 Address rejected\r\n", 1 },
	{ "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 "
	  "more\r\n",
	  1 },
	{ "550 5.1.1", 1 },
	{ "550 5.1.11 not a mailbox code\r\n", 0 },
	{ "550 5.1.2 Host unknown\r\n", 0 },
	{ "550 5.1.100\r\n", 0 },
	{ "553 5.1.1 policy, not a directory\r\n", 0 },
	{ "554 5.7.1 Relay access denied\r\n", 0 },
	{ "450 4.1.1 try again\r\n", 0 },
	{ "550 5.7.1 Blocked\r\n", 0 },
	{ "550 User unknown\r\n", 0 },
	{ "5505.1.1 glued\r\n", 0 },
	{ "550  5.1.1 two blanks\r\n", 0 },
	{ "250 2.1.5 Ok\r\n", 0 },
	{ "", 0 },
};

ParameterizedTestParameters(policy, unknown_user_reply)
{
	return cr_make_param_array(struct unknown_case, unknown_cases, ARRAY_LEN(unknown_cases));
}

ParameterizedTest(const struct unknown_case *t, policy, unknown_user_reply)
{
	int got = px_reply_unknown_user(t->reply, strlen(t->reply));

	cr_expect_eq(got, t->want, "'%s': got %d, want %d", t->reply, got, t->want);
}

/* The scorer runs only when a group has a score range and sites are given;
 * the edge opens for writing when a policy or the limits ban. */
Test(policy, needs_score_and_ban)
{
	struct px_config *c;

	c = parse(BASE "dnsbl = { sites = [ \"bl.test*2\" ]; };\n"
		       "policies = ( { name = \"A\"; } );\n"
		       "sender_groups = ( { name = \"G\"; policy = \"A\"; networks = [ "
		       "\"192.0.2.0/24\" ]; } );\n");
	cr_expect(!px_policy_needs_score(c), "sites but no score range: want no lookups");
	cr_expect(!px_policy_needs_ban(c), "no ban anywhere: want the edge not written");
	cr_expect_eq(c->dnsbl.nsites, 1, "sites: got %u, want 1", c->dnsbl.nsites);
	px_config_put(c);
	c = parse(BASE "policies = ( { name = \"A\"; } );\n"
		       "sender_groups = ( { name = \"G\"; policy = \"A\"; score_min = 1; } );\n");
	cr_expect(!px_policy_needs_score(c), "a score range but no sites: want no lookups");
	px_config_put(c);
	c = parse(BASE "dnsbl = { sites = [ \"bl.test*2\" ]; };\n"
		       "policies = ( { name = \"A\"; limits = { harvest_limit = 5; harvest_ban = "
		       "\"1h\"; recipients_per_hour = 100; }; } );\n"
		       "sender_groups = ( { name = \"G\"; policy = \"A\"; score_min = 1; } );\n");
	cr_expect(px_policy_needs_score(c), "a score range and sites: want lookups");
	cr_expect(px_policy_needs_ban(c), "a policy's harvest_ban: want the edge written");
	cr_expect_eq(c->policies[0].lim.harvest_limit, 5, "harvest_limit: got %u, want 5",
		     c->policies[0].lim.harvest_limit);
	cr_expect_eq(c->policies[0].lim.harvest_ban, 3600, "harvest_ban: got %u, want 3600",
		     c->policies[0].lim.harvest_ban);
	cr_expect_eq(c->policies[0].lim.recipients_per_hour, 100,
		     "recipients_per_hour: got %u, want 100",
		     c->policies[0].lim.recipients_per_hour);
	cr_expect_eq(c->lim.harvest_limit, 0, "global harvest_limit: got %u, want 0 (off)",
		     c->lim.harvest_limit);
	px_config_put(c);
}
