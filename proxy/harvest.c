// SPDX-License-Identifier: GPL-2.0
/*
 * harvest.c - per-client counts over a sliding hour (see harvest.h).
 *
 * A set-associative table: the client's hash picks a set of PX_HV_WAYS slots,
 * the client lives in one of them or nowhere. Nothing is ever deleted or
 * moved, so there are no tombstones and no chains to repair; a slot is free
 * when it is empty or its client has been idle for an hour. The sets are
 * spread over PX_HV_STRIPES mutexes, so that two workers noting different
 * clients rarely wait for each other.
 *
 * Buckets are cleared lazily: a slot remembers the minute it last moved to,
 * and moving it to a later minute clears the buckets of the minutes in
 * between (all of them after an hour).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "edgeban.h"
#include "harvest.h"

/* Enough stripes that 64 workers seldom collide, few enough to be cheap. */
#define PX_HV_STRIPES 64

struct slot {
	uint8_t key[16];
	uint8_t family;	 /* 0: never used */
	uint64_t minute; /* the minute the buckets were last moved to */
	uint16_t b[PX_HV_KINDS][PX_HV_BUCKETS];
};

struct px_harvest {
	struct slot *slots;
	size_t nsets; /* a power of two */
	uint64_t seed;
	pthread_mutex_t lock[PX_HV_STRIPES];
	atomic_uint_fast64_t evictions;
	atomic_uint_fast64_t notes;
};

struct px_harvest *px_harvest_new(size_t max_clients)
{
	struct px_harvest *h;
	size_t nsets = 1, i;

	if (max_clients < PX_HV_MIN_CLIENTS || max_clients > PX_HV_MAX_CLIENTS) {
		errno = EINVAL;
		return NULL;
	}
	while (nsets * PX_HV_WAYS < max_clients)
		nsets <<= 1;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->slots = calloc(nsets * PX_HV_WAYS, sizeof(*h->slots));
	if (!h->slots) {
		free(h);
		return NULL;
	}
	h->nsets = nsets;
	/* Without randomness (no entropy yet at early boot) the table still
	 * works; only the set of a client becomes predictable. */
	if (getrandom(&h->seed, sizeof(h->seed), GRND_NONBLOCK) != sizeof(h->seed))
		h->seed = (uint64_t)(uintptr_t)h ^ 0x9e3779b97f4a7c15ull;
	for (i = 0; i < PX_HV_STRIPES; i++)
		pthread_mutex_init(&h->lock[i], NULL);
	atomic_init(&h->evictions, 0);
	atomic_init(&h->notes, 0);
	return h;
}

void px_harvest_free(struct px_harvest *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < PX_HV_STRIPES; i++)
		pthread_mutex_destroy(&h->lock[i]);
	free(h->slots);
	free(h);
}

/* The client key: the folded prefix's family and address bytes. */
struct ckey {
	uint8_t family;
	uint8_t addr[16];
};

static int client_key(const struct sockaddr *sa, struct ckey *k)
{
	struct me_prefix p;
	int rc = me_edgeban_client(sa, &p);

	if (rc)
		return rc;
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)p.family;
	memcpy(k->addr, p.addr, sizeof(k->addr));
	return 0;
}

/* A 64-bit mix (splitmix64's finaliser) over the key, keyed by the seed. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static size_t set_of(const struct px_harvest *h, const struct ckey *k)
{
	uint64_t a, b;

	memcpy(&a, k->addr, 8);
	memcpy(&b, k->addr + 8, 8);
	return (size_t)(mix(mix(h->seed ^ a) ^ b ^ ((uint64_t)k->family << 56)) & (h->nsets - 1));
}

static int same(const struct slot *s, const struct ckey *k)
{
	return s->family == k->family && !memcmp(s->key, k->addr, sizeof(s->key));
}

/* Has the slot's client been idle for an hour (or was there never one)? */
static int idle(const struct slot *s, uint64_t minute)
{
	return !s->family || (minute > s->minute && minute - s->minute >= PX_HV_BUCKETS);
}

/* Move the buckets to minute, clearing those of the minutes skipped. A clock
 * that goes back (it should not) counts into the latest minute seen. */
static void advance(struct slot *s, uint64_t minute)
{
	uint64_t m;
	int k;

	if (minute <= s->minute)
		return;
	if (minute - s->minute >= PX_HV_BUCKETS) {
		memset(s->b, 0, sizeof(s->b));
	} else {
		for (m = s->minute + 1; m <= minute; m++)
			for (k = 0; k < PX_HV_KINDS; k++)
				s->b[k][m % PX_HV_BUCKETS] = 0;
	}
	s->minute = minute;
}

static long sum(const struct slot *s, int kind)
{
	long n = 0;
	int i;

	for (i = 0; i < PX_HV_BUCKETS; i++)
		n += s->b[kind][i];
	return n;
}

static long total(const struct slot *s)
{
	long n = 0;
	int k;

	for (k = 0; k < PX_HV_KINDS; k++)
		n += sum(s, k);
	return n;
}

/* The client's slot in its set; with create, a free or evicted one. */
static struct slot *find(struct px_harvest *h, size_t set, const struct ckey *k, uint64_t minute,
			 int create)
{
	struct slot *ways = &h->slots[set * PX_HV_WAYS], *victim = NULL;
	int i;

	for (i = 0; i < PX_HV_WAYS; i++)
		if (same(&ways[i], k))
			return &ways[i];
	if (!create)
		return NULL;
	for (i = 0; i < PX_HV_WAYS; i++) {
		struct slot *s = &ways[i];

		if (idle(s, minute)) {
			victim = s;
			break;
		}
		if (!victim || s->minute < victim->minute ||
		    (s->minute == victim->minute && total(s) < total(victim)))
			victim = s;
	}
	if (!idle(victim, minute))
		atomic_fetch_add(&h->evictions, 1);
	memset(victim, 0, sizeof(*victim));
	victim->family = k->family;
	memcpy(victim->key, k->addr, sizeof(victim->key));
	victim->minute = minute;
	return victim;
}

/* Check kind, find the client's key and set, and take the set's lock stripe:
 * 0 (locked), or -EINVAL / the client_key error (not locked). */
static int lock_client(struct px_harvest *h, const struct sockaddr *sa, enum px_hv_kind kind,
		       struct ckey *k, size_t *set)
{
	int rc;

	if ((unsigned int)kind >= PX_HV_KINDS)
		return -EINVAL;
	rc = client_key(sa, k);
	if (rc)
		return rc;
	*set = set_of(h, k);
	pthread_mutex_lock(&h->lock[*set % PX_HV_STRIPES]);
	return 0;
}

long px_harvest_note(struct px_harvest *h, const struct sockaddr *sa, enum px_hv_kind kind,
		     unsigned int n, uint64_t now)
{
	uint64_t minute = now / 60;
	struct ckey k;
	struct slot *s;
	size_t set;
	long count;
	int rc;
	uint32_t v;

	rc = lock_client(h, sa, kind, &k, &set);
	if (rc)
		return rc;
	atomic_fetch_add(&h->notes, 1);
	s = find(h, set, &k, minute, 1);
	advance(s, minute);
	v = (uint32_t)s->b[kind][s->minute % PX_HV_BUCKETS] + n;
	s->b[kind][s->minute % PX_HV_BUCKETS] = v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
	count = sum(s, kind);
	pthread_mutex_unlock(&h->lock[set % PX_HV_STRIPES]);
	return count;
}

long px_harvest_count(struct px_harvest *h, const struct sockaddr *sa, enum px_hv_kind kind,
		      uint64_t now)
{
	struct ckey k;
	struct slot *s;
	size_t set;
	long count = 0;
	int rc;

	rc = lock_client(h, sa, kind, &k, &set);
	if (rc)
		return rc;
	s = find(h, set, &k, now / 60, 0);
	if (s) {
		advance(s, now / 60);
		count = sum(s, kind);
	}
	pthread_mutex_unlock(&h->lock[set % PX_HV_STRIPES]);
	return count;
}

void px_harvest_forget(struct px_harvest *h, const struct sockaddr *sa)
{
	struct ckey k;
	struct slot *s;
	size_t set;

	if (client_key(sa, &k))
		return;
	set = set_of(h, &k);
	pthread_mutex_lock(&h->lock[set % PX_HV_STRIPES]);
	s = find(h, set, &k, 0, 0);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&h->lock[set % PX_HV_STRIPES]);
}

void px_harvest_stats(struct px_harvest *h, uint64_t now, struct px_harvest_stats *st)
{
	size_t set, i;

	memset(st, 0, sizeof(*st));
	st->capacity = h->nsets * PX_HV_WAYS;
	for (set = 0; set < h->nsets; set++) {
		pthread_mutex_lock(&h->lock[set % PX_HV_STRIPES]);
		for (i = 0; i < PX_HV_WAYS; i++)
			if (!idle(&h->slots[set * PX_HV_WAYS + i], now / 60))
				st->clients++;
		pthread_mutex_unlock(&h->lock[set % PX_HV_STRIPES]);
	}
	st->evictions = atomic_load(&h->evictions);
	st->notes = atomic_load(&h->notes);
}
