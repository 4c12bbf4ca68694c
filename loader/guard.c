// SPDX-License-Identifier: GPL-2.0
/*
 * guard.c - refuse a blacklist entry that would lock the admin out.
 *
 * A drop or reset entry that covers the address the admin's SSH session comes
 * from, or the gateway's own addresses and the subnets its interfaces sit on,
 * cuts the admin off or breaks the gateway's own traffic. Such an entry is
 * refused unless --force says it is meant. Pass and group entries stop nothing
 * and are not checked.
 *
 * "Covers" means the entry contains the address, or is a range (not a single
 * host) overlapping a connected subnet: a whole neighbourhood is cut off that
 * way, while blacklisting a single neighbour on the LAN may well be meant.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "list_io.h"

struct guarded {
	struct me_prefix p;
	char what[128];
};

/* The first word of an SSH_CONNECTION / SSH_CLIENT value: the client address. */
static int ssh_client(struct me_prefix *p, const char **var)
{
	static const char *const vars[] = { "SSH_CONNECTION", "SSH_CLIENT" };
	char word[64];
	size_t i, n;

	for (i = 0; i < 2; i++) {
		const char *v = getenv(vars[i]);

		if (!v)
			continue;
		n = strcspn(v, " \t");
		if (!n || n >= sizeof(word))
			continue;
		memcpy(word, v, n);
		word[n] = '\0';
		if (!me_prefix_parse(word, p, 0) && me_prefix_is_host(p)) {
			*var = vars[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* ::ffff:a.b.c.d is a.b.c.d: sshd reports IPv4 clients so on a dual-stack
 * socket, and the filter sees them as IPv4. */
static int unmap_v4(const struct me_prefix *p, struct me_prefix *v4)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (p->family != AF_INET6 || memcmp(p->addr, mapped, 12))
		return -1;
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	v4->len = 32;
	memcpy(v4->addr, p->addr + 12, 4);
	return 0;
}

static int sa_prefix(const struct sockaddr *sa, const struct sockaddr *mask, struct me_prefix *p,
		     struct me_prefix *net)
{
	const unsigned char *a, *m = NULL;
	unsigned int i, bytes, len = 0;

	memset(p, 0, sizeof(*p));
	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (mask)
			m = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		bytes = 4;
	} else if (sa->sa_family == AF_INET6) {
		a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (mask)
			m = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		bytes = 16;
	} else {
		return -1;
	}
	p->family = sa->sa_family;
	p->len = bytes * 8;
	memcpy(p->addr, a, bytes);
	*net = *p;
	for (i = 0; m && i < bytes * 8 && (m[i / 8] & (0x80 >> (i % 8))); i++)
		len++;
	net->len = len;
	me_prefix_mask(net);
	return 0;
}

/* A drop or reset entry r covering g? */
static int covers(const struct me_rec *r, const struct me_prefix *g)
{
	return r->pfx.family == g->family && r->pfx.len <= g->len && me_prefix_contains(&r->pfx, g);
}

static int refuse(const struct me_rec *r, const struct me_prefix *g, const char *what, char *why,
		  size_t len)
{
	char e[ME_PREFIX_STRLEN], a[ME_PREFIX_STRLEN];

	me_prefix_format(&r->pfx, e, sizeof(e));
	me_prefix_format(g, a, sizeof(a));
	snprintf(why, len,
		 "refusing to blacklist %s: it covers %s: %s; add --force if that is really "
		 "meant",
		 e, what, a);
	return -EPERM;
}

static int blocks(const struct me_rec *r)
{
	return r->list == ME_LIST_BLACK &&
	       (r->val.action == ME_ACT_DROP || r->val.action == ME_ACT_RESET);
}

int guard_check(const struct me_rec *recs, size_t n, char *why, size_t len)
{
	struct me_prefix ssh, ssh4, own, net;
	struct ifaddrs *ifa = NULL, *i;
	const char *var = NULL;
	char what[128];
	int have_ssh, have_ssh4 = 0, rc = 0;
	size_t k;

	have_ssh = !ssh_client(&ssh, &var);
	if (have_ssh)
		have_ssh4 = !unmap_v4(&ssh, &ssh4);
	for (k = 0; k < n; k++) {
		if (!blocks(&recs[k]))
			continue;
		snprintf(what, sizeof(what), "your SSH session's client address (%s)",
			 var ? var : "");
		if (have_ssh && covers(&recs[k], &ssh))
			return refuse(&recs[k], &ssh, what, why, len);
		if (have_ssh4 && covers(&recs[k], &ssh4))
			return refuse(&recs[k], &ssh4, what, why, len);
	}
	/* The interfaces of the loader's network namespace: the one it filters. */
	if (getifaddrs(&ifa))
		return 0; /* nothing known to protect; the SSH check has run */
	for (i = ifa; i && !rc; i = i->ifa_next) {
		if (!i->ifa_addr || sa_prefix(i->ifa_addr, i->ifa_netmask, &own, &net))
			continue;
		for (k = 0; k < n && !rc; k++) {
			if (!blocks(&recs[k]))
				continue;
			if (covers(&recs[k], &own)) {
				snprintf(what, sizeof(what), "the address of this gateway's %s",
					 i->ifa_name);
				rc = refuse(&recs[k], &own, what, why, len);
			} else if (net.len && !me_prefix_is_host(&recs[k].pfx) &&
				   recs[k].pfx.family == net.family &&
				   (me_prefix_contains(&recs[k].pfx, &net) ||
				    me_prefix_contains(&net, &recs[k].pfx))) {
				snprintf(what, sizeof(what), "the subnet directly connected to %s",
					 i->ifa_name);
				rc = refuse(&recs[k], &net, what, why, len);
			}
		}
	}
	freeifaddrs(ifa);
	return rc;
}
