// SPDX-License-Identifier: GPL-2.0
/*
 * test_loader_ns.c - the loader across network and mount namespaces.
 *
 * An ifindex names an interface only inside one network namespace, and
 * "ip netns exec" gives the loader a mount namespace (and a fresh /sys) of its
 * own. Three namespaces, each with a veth pair created inside it, so that the
 * interface a0 has the same ifindex in all three: the loader must keep their
 * links apart, refuse to touch another namespace's link, and refuse to pin
 * where the pins would vanish with the command.
 *
 * .fini removes the namespaces (and with them the interfaces and their XDP
 * links) and the pin directory on every exit path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "lib/testenv.h"

#define NNS	   3
#define SMALL_MAPS "--hosts 1024 --white-hosts 1024 --subnets 1024 --rate-entries 1024 " \
		   "--ban-entries 1024"

static char ns[NNS][32];

static void setup(void)
{
	int i;

	for (i = 0; i < NNS; i++) {
		snprintf(ns[i], sizeof(ns[i]), "met%d%c", (int)getpid(), 'a' + i);
		cr_assert_eq(tenv_sh("ip netns add %s && ip -n %s link add a0 type veth peer "
				     "name a1 && ip -n %s link set a0 up && ip -n %s link set a1 up",
				     ns[i], ns[i], ns[i], ns[i]),
			     0);
	}
}

static void teardown(void)
{
	int i;

	for (i = 0; i < NNS; i++)
		tenv_sh("ip netns del %s 2>/dev/null || true", ns[i]);
	tenv_pin_dir_remove();
}

TestSuite(loader_ns, .init = setup, .fini = teardown, .timeout = 60);

/* The loader inside namespace i, entered the way the README says (nsenter). */
static void in_ns(struct run *r, int i, const char *args)
{
	tenv_run(r, "nsenter --net=/var/run/netns/%s %s --pin-dir %s %s", ns[i],
		 tenv_bin("mailedge-loader"), tenv_pin_dir(), args);
}

static void in_ns_ok(int i, const char *args, const char *want)
{
	struct run r;

	in_ns(&r, i, args);
	cr_assert_eq(r.status, 0, "%s: '%s' exit %d: %s", ns[i], args, r.status, r.err);
	if (want)
		cr_assert(strstr(r.out, want), "%s: '%s' printed '%s', want '%s'", ns[i], args,
			  r.out, want);
	tenv_run_free(&r);
}

/* XDP program id on a0 in namespace i, 0 if none. */
static unsigned xdp_prog(int i)
{
	unsigned id = 0;
	struct run r;
	char *p;

	tenv_run(&r, "ip -n %s -d link show a0", ns[i]);
	p = r.out ? strstr(r.out, "prog/xdp id ") : NULL;
	if (p)
		id = (unsigned)strtoul(p + strlen("prog/xdp id "), NULL, 10);
	tenv_run_free(&r);
	return id;
}

static int ifindex_of_a0(int i)
{
	struct run r;
	int idx;

	tenv_run(&r, "ip -n %s -o link show a0", ns[i]);
	idx = atoi(r.out ? r.out : "0");
	tenv_run_free(&r);
	return idx;
}

Test(loader_ns, same_ifindex_in_two_namespaces)
{
	unsigned a, b;
	struct run r;
	char want[128];

	cr_assert_eq(ifindex_of_a0(0), ifindex_of_a0(1), "the test needs equal ifindexes");
	cr_assert_eq(ifindex_of_a0(0), ifindex_of_a0(2));

	in_ns_ok(0, "attach a0 " SMALL_MAPS, "attached to a0");
	a = xdp_prog(0);
	/* Before links carried their namespace this "replaced" a's program and
	 * left b unfiltered. */
	in_ns_ok(1, "attach a0", "attached to a0");
	b = xdp_prog(1);
	cr_assert(a && b, "both interfaces filtered (a %u, b %u)", a, b);
	cr_assert_eq(xdp_prog(0), a, "attaching in %s changed %s's program", ns[1], ns[0]);

	/* The third namespace has an a0 of the same ifindex, unfiltered: detach
	 * there is refused and names the namespace whose link it is. */
	in_ns(&r, 2, "detach a0");
	cr_assert_eq(r.status, 2, "detach in %s: exit %d (%s)", ns[2], r.status, r.out);
	cr_assert(strstr(r.err, "not attached to a0 in this network namespace") &&
			  strstr(r.err, "nsenter --net=/var/run/netns/met"),
		  "detach in %s said: %s", ns[2], r.err);
	tenv_run_free(&r);
	cr_assert(xdp_prog(0) == a && xdp_prog(1) == b, "a refused detach changed a program");

	/* status from one namespace names the other one's link by namespace. */
	snprintf(want, sizeof(want), "%s", ns[1]);
	in_ns_ok(0, "status", want);

	/* Re-attach in b is an upgrade of b's link only. */
	in_ns_ok(1, "attach a0", "replaced the program on a0");
	cr_assert_eq(xdp_prog(0), a, "upgrading %s touched %s", ns[1], ns[0]);
	cr_assert(xdp_prog(1) && xdp_prog(1) != b);

	/* Detach in a removes a's filter and leaves b's. */
	in_ns_ok(0, "detach a0", "detached from a0");
	cr_assert_eq(xdp_prog(0), 0u);
	cr_assert_neq(xdp_prog(1), 0u, "detach in %s removed %s's filter", ns[0], ns[1]);

	/* destroy detaches everywhere and says where. */
	in_ns_ok(2, "destroy", ns[1]);
	cr_assert_eq(xdp_prog(1), 0u);
}

/* "ip netns exec" mounts a fresh /sys in a mount namespace of its own: a bpffs
 * mounted there dies with the command. attach must refuse, say what to use
 * instead, and leave neither a program nor a pin behind. */
Test(loader_ns, ip_netns_exec_refused)
{
	static const char *const verbs[] = { "attach a0 " SMALL_MAPS, "init " SMALL_MAPS,
					     "status", "list add black 192.0.2.1" };
	struct run r;
	size_t v;

	for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		tenv_run(&r, "ip netns exec %s %s --pin-dir %s %s", ns[0],
			 tenv_bin("mailedge-loader"), tenv_pin_dir(), verbs[v]);
		cr_assert_eq(r.status, 2, "'%s' under ip netns exec: exit %d, want 2 (%s)",
			     verbs[v], r.status, r.out);
		cr_assert(strstr(r.err, "private mount namespace") &&
				  strstr(r.err, "nsenter --net=/var/run/netns/"),
			  "'%s' said: %s", verbs[v], r.err);
		tenv_run_free(&r);
	}
	cr_assert_eq(xdp_prog(0), 0u, "an XDP program was left on a0");
	cr_assert_neq(access(tenv_pin_dir(), F_OK), 0, "%s exists", tenv_pin_dir());

	/* A shell started by ip netns exec is still inside it. */
	tenv_run(&r, "ip netns exec %s sh -c '%s --pin-dir %s attach a0'", ns[0],
		 tenv_bin("mailedge-loader"), tenv_pin_dir());
	cr_assert_eq(r.status, 2, "attach from a shell under ip netns exec: exit %d", r.status);
	tenv_run_free(&r);

	/* The same through nsenter works, and lasts. */
	in_ns_ok(0, "attach a0 " SMALL_MAPS, "attached to a0");
	cr_assert_neq(xdp_prog(0), 0u);
}
