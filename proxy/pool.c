// SPDX-License-Identifier: GPL-2.0
/*
 * pool.c - member selection and health state.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "io.h"
#include "passclient.h"
#include "pool.h"
#include "str.h"

int px_pool_init(struct px_pool *p)
{
	struct px_pstate *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s)
		return -1;
	s->m = calloc(p->nm, sizeof(*s->m));
	if (!s->m) {
		free(s);
		return -1;
	}
	pthread_mutex_init(&s->lock, NULL);
	/* Optimistic: a member is up until a check or a connection says not, so
	 * a restart does not refuse mail for the length of a check interval. */
	for (i = 0; i < p->nm; i++)
		atomic_init(&s->m[i].up, 1);
	p->st = s;
	return 0;
}

void px_pool_inherit(struct px_pool *p, const struct px_pool *old)
{
	size_t i, j;

	for (i = 0; i < p->nm; i++)
		for (j = 0; j < old->nm; j++) {
			struct px_mstate *a = &p->st->m[i], *b = &old->st->m[j];

			if (p->m[i].addrlen != old->m[j].addrlen ||
			    memcmp(&p->m[i].addr, &old->m[j].addr, p->m[i].addrlen))
				continue;
			atomic_store(&a->up, atomic_load(&b->up));
			atomic_store(&a->ok_run, atomic_load(&b->ok_run));
			atomic_store(&a->fail_run, atomic_load(&b->fail_run));
			pthread_mutex_lock(&old->st->lock);
			a->caps = b->caps;
			a->have_caps = b->have_caps;
			pthread_mutex_unlock(&old->st->lock);
		}
}

void px_pool_fini(struct px_pool *p)
{
	if (!p->st)
		return;
	pthread_mutex_destroy(&p->st->lock);
	free(p->st->m);
	free(p->st);
	p->st = NULL;
}

static int pick_among(struct px_pool *p, unsigned long long tried, int want_up)
{
	struct px_pstate *s = p->st;
	int best = -1, total = 0;
	size_t i;

	for (i = 0; i < p->nm && i < PX_POOL_MAX_MEMBERS; i++) {
		struct px_mstate *m = &s->m[i];

		if ((tried >> i) & 1 || atomic_load(&m->up) != want_up)
			continue;
		if (p->balance == PX_BAL_LEASTCONN) {
			/* conns/weight, compared without division */
			if (best < 0 ||
			    (long long)atomic_load(&m->conns) * p->m[best].weight <
				(long long)atomic_load(&s->m[best].conns) * p->m[i].weight ||
			    (!want_up &&
			     atomic_load(&m->fail_run) < atomic_load(&s->m[best].fail_run)))
				best = (int)i;
			continue;
		}
		/* Smooth weighted round robin (as in nginx): every candidate gains
		 * its weight, the richest is chosen and pays the total. */
		m->cw += (int)p->m[i].weight;
		total += (int)p->m[i].weight;
		if (best < 0 || m->cw > s->m[best].cw)
			best = (int)i;
	}
	if (best >= 0 && p->balance == PX_BAL_ROUNDROBIN)
		s->m[best].cw -= total;
	return best;
}

int px_pool_pick(struct px_pool *p, unsigned long long tried)
{
	int i;

	pthread_mutex_lock(&p->st->lock);
	i = pick_among(p, tried, 1);
	if (i < 0)
		i = pick_among(p, tried, 0);
	pthread_mutex_unlock(&p->st->lock);
	return i;
}

void px_member_conn(struct px_pool *p, int i, int delta)
{
	atomic_fetch_add(&p->st->m[i].conns, delta);
}

int px_member_result(struct px_pool *p, int i, int ok, int from_check, const char *why)
{
	struct px_mstate *m = &p->st->m[i];
	int changed = 0;

	if (ok) {
		atomic_store(&m->fail_run, 0);
		/* Only checks bring a member back: one lucky connection is not health. */
		if (from_check && atomic_fetch_add(&m->ok_run, 1) + 1 >= (int)p->rise &&
		    !atomic_exchange(&m->up, 1)) {
			changed = 1;
			log_info("pool %s: member %s is up", p->name, p->m[i].name);
		}
		return changed;
	}
	atomic_fetch_add(&m->failures, 1);
	atomic_store(&m->ok_run, 0);
	pthread_mutex_lock(&p->st->lock);
	me_strlcpy(m->why, why ? why : "failed", sizeof(m->why));
	pthread_mutex_unlock(&p->st->lock);
	if (atomic_fetch_add(&m->fail_run, 1) + 1 >= (int)p->fall && atomic_exchange(&m->up, 0)) {
		changed = 1;
		log_warn("pool %s: member %s is down: %s", p->name, p->m[i].name,
			 why ? why : "failed");
	}
	return changed;
}

void px_member_why(struct px_pool *p, int i, char *out, size_t len)
{
	pthread_mutex_lock(&p->st->lock);
	me_strlcpy(out, p->st->m[i].why, len);
	pthread_mutex_unlock(&p->st->lock);
}

const char *px_fail_class(const char *why)
{
	/* The texts are the io layer's and the checks' own (io.c, health.c,
	 * backend.c): one place maps them to the few classes a dashboard
	 * shows. */
	static const struct {
		const char *prefix, *cls;
	} t[] = {
		{ "TLS handshake: certificate verify failed", "tls_verify" },
		{ "TLS", "tls" },
		{ "does not offer STARTTLS", "starttls" },
		{ "STARTTLS", "starttls" },
		{ "connect", "connect" },
		{ "timed out", "timeout" },
		{ "greeting", "greeting" },
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
		if (!strncmp(why, t[k].prefix, strlen(t[k].prefix)))
			return t[k].cls;
	return "protocol";
}

void px_member_set_caps(struct px_pool *p, int i, const struct px_caps *c)
{
	pthread_mutex_lock(&p->st->lock);
	p->st->m[i].caps = *c;
	p->st->m[i].have_caps = 1;
	pthread_mutex_unlock(&p->st->lock);
}

static int pool_up_count(struct px_pool *p)
{
	size_t i;
	int n = 0;

	for (i = 0; i < p->nm; i++)
		n += atomic_load(&p->st->m[i].up);
	return n;
}

void px_pool_caps(struct px_pool *p, struct px_caps *out)
{
	int any_up = pool_up_count(p) > 0, first = 1;
	size_t i;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->st->lock);
	for (i = 0; i < p->nm; i++) {
		struct px_mstate *m = &p->st->m[i];

		if (!m->have_caps || (any_up && !atomic_load(&m->up)))
			continue;
		if (first) {
			*out = m->caps;
			first = 0;
			continue;
		}
		out->bits &= m->caps.bits;
		if (m->caps.size && (!out->size || m->caps.size < out->size))
			out->size = m->caps.size;
		if (strcmp(out->auth, m->caps.auth))
			out->auth[0] = '\0'; /* members disagree: offer no AUTH */
	}
	pthread_mutex_unlock(&p->st->lock);
	if (first)
		out->bits = PX_CAP_PIPELINING | PX_CAP_8BITMIME;
	if (!out->auth[0])
		out->bits &= ~(unsigned int)PX_CAP_AUTH;
}

static int header(const struct px_pool *p, const struct sockaddr *src, const struct sockaddr *dst,
		  int local, unsigned char *out, size_t outlen)
{
	if (p->pass == PX_PASS_PROXY_V1)
		return pp_v1(src, dst, local, (char *)out, outlen);
	if (p->pass == PX_PASS_PROXY_V2)
		return pp_v2(src, dst, local, out, outlen);
	return -1;
}

void px_pool_send_proxy_header(const struct px_pool *p, int i, struct io *io,
			       const struct sockaddr *src, const struct sockaddr *dst)
{
	unsigned char hdr[PP_V2_MAX + PP_V1_MAX];
	struct sockaddr_storage self;
	int n;

	if (p->pass != PX_PASS_PROXY_V1 && p->pass != PX_PASS_PROXY_V2)
		return;
	if (src)
		n = header(p, src, dst, 0, hdr, sizeof(hdr));
	else if (p->pass == PX_PASS_PROXY_V1 && !io_local_addr(io, &self))
		n = header(p, (struct sockaddr *)&self, (const struct sockaddr *)&p->m[i].addr, 0,
			   hdr, sizeof(hdr));
	else
		n = header(p, NULL, NULL, 1, hdr, sizeof(hdr));
	if (n > 0)
		io_write(io, hdr, (size_t)n);
}
