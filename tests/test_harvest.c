// SPDX-License-Identifier: GPL-2.0
/*
 * test_harvest.c - proxy/harvest.c: per-client counts over a sliding hour.
 *
 * Time is the caller's: every test passes its own seconds, so the window is
 * checked to the second without waiting. A table of PX_HV_WAYS slots is one
 * set, where every client competes, so eviction is checked without knowing
 * the table's random seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <criterion/criterion.h>

#include "../proxy/harvest.h"

static struct px_harvest *h;

static void teardown(void)
{
	px_harvest_free(h);
	h = NULL;
}

TestSuite(harvest, .fini = teardown, .timeout = 30);

/* A client address as the proxy's accept() gives it. */
static struct sockaddr_storage peer(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1, "bad test address %s",
			     text);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1, "bad test address %s",
			     text);
	}
	return ss;
}

static long note(const char *who, enum px_hv_kind k, unsigned int n, uint64_t now)
{
	struct sockaddr_storage ss = peer(who);

	return px_harvest_note(h, (struct sockaddr *)&ss, k, n, now);
}

static long count(const char *who, enum px_hv_kind k, uint64_t now)
{
	struct sockaddr_storage ss = peer(who);

	return px_harvest_count(h, (struct sockaddr *)&ss, k, now);
}

#define MIN(m) ((uint64_t)(m)*60)
#define T0     MIN(100000) /* an arbitrary minute, far from 0 */

Test(harvest, window_arithmetic)
{
	const char *c = "192.0.2.1";
	long n;

	h = px_harvest_new(64);
	cr_assert_not_null(h);
	cr_expect_eq(note(c, PX_HV_INVALID, 1, T0 + 5), 1);
	cr_expect_eq(note(c, PX_HV_INVALID, 1, T0 + 59), 2, "same minute");
	cr_expect_eq(note(c, PX_HV_INVALID, 3, T0 + MIN(30)), 5, "n adds n");
	/* The first minute's events count through minute +59, not +60. */
	n = count(c, PX_HV_INVALID, T0 + MIN(59) + 59);
	cr_expect_eq(n, 5, "at +59:59 got %ld, want 5", n);
	n = count(c, PX_HV_INVALID, T0 + MIN(60));
	cr_expect_eq(n, 3, "at +60:00 got %ld, want 3 (the first minute left the hour)", n);
	n = count(c, PX_HV_INVALID, T0 + MIN(89) + 59);
	cr_expect_eq(n, 3, "at +89:59 got %ld, want 3", n);
	n = count(c, PX_HV_INVALID, T0 + MIN(90));
	cr_expect_eq(n, 0, "at +90:00 got %ld, want 0", n);
	/* Kinds are counted apart. */
	cr_expect_eq(note(c, PX_HV_RCPT, 7, T0 + MIN(91)), 7);
	cr_expect_eq(count(c, PX_HV_INVALID, T0 + MIN(91)), 0);
	cr_expect_eq(note(c, PX_HV_INVALID, 1, T0 + MIN(92)), 1);
	cr_expect_eq(count(c, PX_HV_RCPT, T0 + MIN(92)), 7);
	/* A gap of hours clears all; reading does not add. */
	cr_expect_eq(count(c, PX_HV_RCPT, T0 + MIN(500)), 0);
	cr_expect_eq(count(c, PX_HV_RCPT, T0 + MIN(500)), 0);
	/* A clock going back counts into the latest minute seen. */
	cr_expect_eq(note(c, PX_HV_INVALID, 1, T0 + MIN(600)), 1);
	cr_expect_eq(note(c, PX_HV_INVALID, 1, T0 + MIN(590)), 2);
	cr_expect_eq(count(c, PX_HV_INVALID, T0 + MIN(659)), 2);
	cr_expect_eq(count(c, PX_HV_INVALID, T0 + MIN(660)), 0);
	/* A minute's bucket saturates instead of wrapping. */
	cr_expect_eq(note(c, PX_HV_RCPT, 70000, T0 + MIN(700)), 65535);
	cr_expect_eq(note(c, PX_HV_RCPT, 1, T0 + MIN(700)), 65535);
	cr_expect_eq(note(c, PX_HV_RCPT, 1, T0 + MIN(701)), 65536);
	/* Every minute of the hour adds up. */
	for (n = 0; n < 60; n++)
		note("192.0.2.2", PX_HV_INVALID, 1, T0 + MIN(n));
	cr_expect_eq(count("192.0.2.2", PX_HV_INVALID, T0 + MIN(59)), 60);
	cr_expect_eq(count("192.0.2.2", PX_HV_INVALID, T0 + MIN(60)), 59);
	cr_expect_eq(count("192.0.2.2", PX_HV_INVALID, T0 + MIN(118)), 1);
}

Test(harvest, clients_fold_as_the_edge_bans)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_storage ss = peer("192.0.2.1");

	h = px_harvest_new(64);
	cr_assert_not_null(h);
	cr_expect_eq(note("2001:db8:1::1", PX_HV_INVALID, 1, T0), 1);
	cr_expect_eq(note("2001:db8:1::ffff:2", PX_HV_INVALID, 1, T0), 2, "same /64");
	cr_expect_eq(note("2001:db8:1:0:8000::1", PX_HV_INVALID, 1, T0), 3, "same /64");
	cr_expect_eq(note("2001:db8:1:1::1", PX_HV_INVALID, 1, T0), 1, "another /64");
	cr_expect_eq(note("192.0.2.1", PX_HV_INVALID, 1, T0), 1);
	cr_expect_eq(note("::ffff:192.0.2.1", PX_HV_INVALID, 1, T0), 2,
		     "v4-mapped is the v4 client");
	cr_expect_eq(note("192.0.2.2", PX_HV_INVALID, 1, T0), 1, "IPv4 counts per /32");
	cr_expect_eq(px_harvest_note(h, (struct sockaddr *)&un, PX_HV_INVALID, 1, T0),
		     -EAFNOSUPPORT);
	cr_expect_eq(px_harvest_note(h, (struct sockaddr *)&ss, PX_HV_KINDS, 1, T0), -EINVAL);
	cr_expect_eq(px_harvest_count(h, (struct sockaddr *)&ss, (enum px_hv_kind)99, T0), -EINVAL);
	px_harvest_forget(h, (struct sockaddr *)&ss);
	cr_expect_eq(count("192.0.2.1", PX_HV_INVALID, T0), 0, "forgotten");
	cr_expect_eq(count("192.0.2.2", PX_HV_INVALID, T0), 1, "another client forgotten too");
}

Test(harvest, bounds_and_eviction)
{
	struct px_harvest_stats st;
	char who[32];
	int i;

	errno = 0;
	cr_expect_null(px_harvest_new(PX_HV_MIN_CLIENTS - 1));
	cr_expect_eq(errno, EINVAL);
	cr_expect_null(px_harvest_new((size_t)PX_HV_MAX_CLIENTS + 1));
	h = px_harvest_new(PX_HV_WAYS + 1); /* rounds up to two sets */
	cr_assert_not_null(h);
	px_harvest_stats(h, T0, &st);
	cr_expect_eq(st.capacity, 2 * PX_HV_WAYS);
	px_harvest_free(h);

	h = px_harvest_new(PX_HV_WAYS); /* one set: every client competes */
	cr_assert_not_null(h);
	/* Client i last seen at minute i, with i + 1 events. */
	for (i = 0; i < PX_HV_WAYS; i++) {
		snprintf(who, sizeof(who), "198.51.100.%d", i + 1);
		note(who, PX_HV_INVALID, (unsigned int)i + 1, T0 + MIN(i));
	}
	px_harvest_stats(h, T0 + MIN(PX_HV_WAYS), &st);
	cr_expect_eq(st.clients, PX_HV_WAYS);
	cr_expect_eq(st.evictions, 0);
	/* A newcomer takes the least recently seen client's slot. */
	cr_expect_eq(note("203.0.113.1", PX_HV_INVALID, 1, T0 + MIN(PX_HV_WAYS)), 1);
	px_harvest_stats(h, T0 + MIN(PX_HV_WAYS), &st);
	cr_expect_eq(st.evictions, 1, "evictions: got %llu, want 1",
		     (unsigned long long)st.evictions);
	cr_expect_eq(st.clients, PX_HV_WAYS);
	cr_expect_eq(count("198.51.100.1", PX_HV_INVALID, T0 + MIN(PX_HV_WAYS)), 0,
		     "the oldest client kept its count");
	for (i = 1; i < PX_HV_WAYS; i++) {
		snprintf(who, sizeof(who), "198.51.100.%d", i + 1);
		cr_expect_eq(count(who, PX_HV_INVALID, T0 + MIN(PX_HV_WAYS)), i + 1,
			     "%s lost its count", who);
	}
	/* Seen in the same minute: the smallest count goes first. The newcomer
	 * (1) and 198.51.100.2 (2) are bumped to this minute; 1 is smaller. */
	note("198.51.100.2", PX_HV_INVALID, 0, T0 + MIN(PX_HV_WAYS + 1));
	note("203.0.113.1", PX_HV_INVALID, 0, T0 + MIN(PX_HV_WAYS + 1));
	for (i = 2; i < PX_HV_WAYS; i++) {
		snprintf(who, sizeof(who), "198.51.100.%d", i + 1);
		note(who, PX_HV_INVALID, 0, T0 + MIN(PX_HV_WAYS + 1));
	}
	note("203.0.113.2", PX_HV_INVALID, 1, T0 + MIN(PX_HV_WAYS + 1));
	cr_expect_eq(count("203.0.113.1", PX_HV_INVALID, T0 + MIN(PX_HV_WAYS + 1)), 0,
		     "the tie went to a larger count");
	cr_expect_eq(count("198.51.100.2", PX_HV_INVALID, T0 + MIN(PX_HV_WAYS + 1)), 2);
	/* After an hour of quiet, slots are free: no eviction is counted. */
	px_harvest_stats(h, T0 + MIN(PX_HV_WAYS + 1), &st);
	cr_expect_eq(st.evictions, 2);
	for (i = 0; i < PX_HV_WAYS; i++) {
		snprintf(who, sizeof(who), "192.0.2.%d", i + 1);
		note(who, PX_HV_RCPT, 1, T0 + MIN(PX_HV_WAYS + 61));
	}
	px_harvest_stats(h, T0 + MIN(PX_HV_WAYS + 61), &st);
	cr_expect_eq(st.evictions, 2, "idle clients counted as evicted: %llu",
		     (unsigned long long)st.evictions);
	cr_expect_eq(st.clients, PX_HV_WAYS);
	cr_expect_eq(st.notes, 3 * PX_HV_WAYS + 2);
}

#define THREADS 8
#define ROUNDS	8000 /* 8 x 8000 = 64000: under a bucket's 65535 */

/* Every thread notes one shared client (the contended slot), its own client,
 * and reads the shared count, all in one minute: a lost update shows as a
 * total short of the sum. */
static void *hammer(void *arg)
{
	int t = (int)(long)arg, i;
	char own[32];
	struct sockaddr_storage shared = peer("2001:db8:7::1"), mine;

	snprintf(own, sizeof(own), "198.51.100.%d", t + 1);
	mine = peer(own);
	for (i = 0; i < ROUNDS; i++) {
		px_harvest_note(h, (struct sockaddr *)&shared, PX_HV_INVALID, 1, T0);
		if (!(i & 7)) {
			px_harvest_note(h, (struct sockaddr *)&mine, PX_HV_RCPT, 1, T0);
			px_harvest_count(h, (struct sockaddr *)&shared, PX_HV_INVALID, T0);
		}
	}
	return NULL;
}

/* Lost updates are a matter of timing: five rounds of 0.1 s each make one
 * certain to show on two cores when the lock is missing. */
#define REPS 5

Test(harvest, threads_lose_nothing)
{
	pthread_t th[THREADS];
	struct px_harvest_stats st;
	char who[32];
	long i, n;
	int rep;

	for (rep = 0; rep < REPS; rep++) {
		px_harvest_free(h);
		h = px_harvest_new(1024);
		cr_assert_not_null(h);
		for (i = 0; i < THREADS; i++)
			cr_assert_eq(pthread_create(&th[i], NULL, hammer, (void *)i), 0);
		for (i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		n = count("2001:db8:7::2", PX_HV_INVALID, T0);
		cr_assert_eq(n, THREADS * ROUNDS, "round %d, shared client: got %ld, want %d", rep,
			     n, THREADS * ROUNDS);
		for (i = 0; i < THREADS; i++) {
			snprintf(who, sizeof(who), "198.51.100.%ld", i + 1);
			cr_assert_eq(count(who, PX_HV_RCPT, T0), ROUNDS / 8, "round %d, %s", rep,
				     who);
		}
		px_harvest_stats(h, T0, &st);
		cr_assert_eq(st.notes, THREADS * ROUNDS + THREADS * ROUNDS / 8);
		cr_assert_eq(st.evictions, 0);
	}
}
