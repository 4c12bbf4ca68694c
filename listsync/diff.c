// SPDX-License-Identifier: GPL-2.0
/*
 * diff.c - the entries a list-sync run would add and remove.
 *
 * The reference is what the maps hold, not what the state directory says was
 * applied: after 'mailedge-loader destroy' and 'attach' the maps are empty
 * whatever the state says, and the next run fills them. Both sides are turned
 * into one record type, sorted the same way, and walked together once, so the
 * cost is two sorts of the union's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "grow.h"
#include "diff.h"
#include "lists.h"
#include "mailedge_abi.h"

struct drec {
	int list;
	struct me_prefix pfx;
	struct me_entry val;
};

struct drecs {
	struct drec *v;
	size_t n, cap;
};

static int push(struct drecs *d, int list, const struct me_prefix *p, const struct me_entry *val)
{
	struct drec *g = me_grow(d->v, d->n, &d->cap, sizeof(*g), 1024);

	if (!g)
		return -ENOMEM;
	d->v = g;
	memset(&d->v[d->n], 0, sizeof(d->v[0]));
	d->v[d->n].list = list;
	d->v[d->n].pfx = *p;
	d->v[d->n].pfx.host_bits_fixed = 0;
	if (p->family == AF_INET) /* compare whole addresses: no stray bytes past 4 */
		memset(d->v[d->n].pfx.addr + 4, 0, sizeof(p->addr) - 4);
	d->v[d->n].val = *val;
	d->n++;
	return 0;
}

static int from_map(void *ctx, const struct me_rec *r, int synced)
{
	if (!synced)
		return 0; /* the admin's entries: list sync never touches them */
	return push(ctx, r->list, &r->pfx, &r->val);
}

/* Black before white (the admin reads the blacklist first), then family,
 * address, length. */
static int key_cmp(const struct drec *a, const struct drec *b)
{
	int d;

	if (a->list != b->list)
		return a->list == ME_LIST_BLACK ? -1 : 1;
	if (a->pfx.family != b->pfx.family)
		return a->pfx.family == AF_INET ? -1 : 1;
	d = memcmp(a->pfx.addr, b->pfx.addr, sizeof(a->pfx.addr));
	if (d)
		return d;
	return a->pfx.len < b->pfx.len ? -1 : a->pfx.len > b->pfx.len;
}

static int drec_cmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* Same map value? expires is 0 for every list-sync entry. */
static int same_val(const struct me_entry *a, const struct me_entry *b)
{
	return a->action == b->action && a->src == b->src &&
	       (a->action != ME_ACT_GROUP || a->group == b->group);
}

static void print_one(FILE *out, char sign, const struct drec *r, const char *src)
{
	char addr[ME_PREFIX_STRLEN], act[32];

	me_prefix_format(&r->pfx, addr, sizeof(addr));
	me_action_format(&r->val, act, sizeof(act));
	fprintf(out, "%c %s %s %s source=%s\n", sign, me_list_name(r->list), addr, act, src);
}

static void new_name(const struct drec *r, const char *const *names, const unsigned char *ids,
		     size_t nsrc, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < nsrc; i++)
		if (ids[i] == r->val.src) {
			snprintf(buf, len, "%s", names[i]);
			return;
		}
	me_src_format(r->val.src, buf, len);
}

int ls_diff_print(struct me_edge *e, const struct me_union *u, const char *const *names,
		  const unsigned char *ids, size_t nsrc, FILE *out, struct ls_diff_counts *c)
{
	struct drecs old = { 0 }, new = { 0 };
	char name[64];
	size_t i = 0, j = 0;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (e) {
		rc = me_list_walk(e, ME_LIST_BLACK, 1, from_map, &old);
		if (!rc)
			rc = me_list_walk(e, ME_LIST_WHITE, 1, from_map, &old);
		if (rc)
			goto out;
	}
	for (j = 0; j < u->n; j++) {
		struct me_prefix p;

		me_urec_prefix(&u->v[j], &p);
		rc = push(&new, u->v[j].list, &p, &u->v[j].val);
		if (rc)
			goto out;
	}
	if (old.n) /* qsort(NULL, 0) is undefined behaviour */
		qsort(old.v, old.n, sizeof(*old.v), drec_cmp);
	if (new.n)
		qsort(new.v, new.n, sizeof(*new.v), drec_cmp);
	j = 0;
	while (i < old.n || j < new.n) {
		int d = i == old.n ? 1 : j == new.n ? -1 : key_cmp(&old.v[i], &new.v[j]);

		if (d == 0 && same_val(&old.v[i].val, &new.v[j].val)) {
			i++;
			j++;
			continue;
		}
		if (d <= 0) {
			me_src_name(e, old.v[i].val.src, name, sizeof(name));
			print_one(out, '-', &old.v[i], name);
			c->removed[old.v[i].list]++;
			i++;
		}
		if (d >= 0) {
			new_name(&new.v[j], names, ids, nsrc, name, sizeof(name));
			print_one(out, '+', &new.v[j], name);
			c->added[new.v[j].list]++;
			j++;
		}
	}
	fprintf(out, "diff: black +%zu -%zu, white +%zu -%zu\n", c->added[ME_LIST_BLACK],
		c->removed[ME_LIST_BLACK], c->added[ME_LIST_WHITE], c->removed[ME_LIST_WHITE]);
out:
	free(old.v);
	free(new.v);
	return rc;
}
