/* SPDX-License-Identifier: GPL-2.0 */
/*
 * held.h - heap buffers for unit tests that ASan can judge, and printable text
 * for their failure messages.
 *
 * A test hands the code under test an exact-size heap copy, so ASan sees a
 * read or write past what the caller holds. A failed assertion leaves the test
 * at once, so the suite's .fini frees whatever is still held (th_release):
 * a failure is not reported as a leak too.
 */
#ifndef ME_TEST_HELD_H
#define ME_TEST_HELD_H

#include <stddef.h>

#define TH_MAX 8

/* Up to cap (at most TH_MAX) buffers held at once: { .cap = 4 }. */
struct th_held {
	size_t cap;
	void *p[TH_MAX];
};

/* A heap buffer of exactly n bytes (1 if n is 0), a copy of src unless src is
 * NULL; more than cap at once fails the test. */
void *th_hold(struct th_held *h, const void *src, size_t n);
/* Free one buffer from th_hold. */
void th_let_go(struct th_held *h, void *p);
/* Free every buffer still held. */
void th_release(struct th_held *h);

/* p[0..n) with CR, LF and other control bytes spelled out, cut (with "...")
 * to fit width bytes (at most TH_SHOW_MAX); four results stay valid at once. */
#define TH_SHOW_MAX 512
const char *th_show(const char *p, size_t n, size_t width);

#endif
