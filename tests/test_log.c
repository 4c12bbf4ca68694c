// SPDX-License-Identifier: GPL-2.0
/*
 * test_log.c - the logger: one line is one write, whole, however many threads
 * log at once (the proxy's workers do), and an over-long line is cut, marked,
 * and still ends in a newline.
 *
 * Standard error is pointed at a pipe for the test, as systemd points a
 * service's at the journal; a reader thread collects what comes out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "log.h"

#define THREADS 4
#define LINES	20000

struct sink {
	int fd;
	char *buf;
	size_t len, cap;
};

static void *drain(void *arg)
{
	struct sink *k = arg;

	for (;;) {
		ssize_t r;

		if (k->cap - k->len < 65536) {
			k->cap = k->cap ? k->cap * 2 : 1 << 20;
			k->buf = realloc(k->buf, k->cap);
			if (!k->buf)
				return NULL;
		}
		r = read(k->fd, k->buf + k->len, k->cap - k->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		k->len += (size_t)r;
	}
	k->buf[k->len] = '\0';
	return NULL;
}

static struct sink sink;
static pthread_t reader;
static int saved_err = -1;

/* Standard error into a pipe that the reader empties. */
static void capture(void)
{
	int p[2];

	cr_assert_eq(pipe(p), 0, "pipe: %s", strerror(errno));
	saved_err = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	memset(&sink, 0, sizeof(sink));
	sink.fd = p[0];
	pthread_create(&reader, NULL, drain, &sink);
}

static char *release(void)
{
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	pthread_join(reader, NULL);
	close(sink.fd);
	return sink.buf;
}

static void *writer(void *arg)
{
	long t = (long)arg;
	char pad[200];

	for (int i = 0; i < LINES; i++) {
		/* Lengths vary, so that a torn line cannot look whole. */
		size_t n = (size_t)((i * 7 + t * 13) % (int)(sizeof(pad) - 1));

		memset(pad, 'a' + (int)t, n);
		pad[n] = '\0';
		log_info("thread=%ld line=%d len=%zu %s", t, i, n, pad);
	}
	return NULL;
}

/* "test: thread=T line=N len=L" and L times the thread's letter. */
static int line_ok(const char *text, size_t len, int *seen)
{
	char l[512];
	long t;
	int i, used = 0;
	size_t n;

	if (len >= sizeof(l))
		return 0;
	memcpy(l, text, len);
	l[len] = '\0';
	if (sscanf(l, "test: thread=%ld line=%d len=%zu %n", &t, &i, &n, &used) != 3 || !used ||
	    t < 0 || t >= THREADS || i < 0 || i >= LINES || (size_t)used + n != len)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (l[(size_t)used + k] != 'a' + t)
			return 0;
	seen[t * LINES + i]++;
	return 1;
}

Test(log, lines_whole_across_threads)
{
	static int seen[THREADS * LINES];
	pthread_t th[THREADS];
	char *out, *l, *nl;
	int bad = 0, lines = 0;
	char first_bad[256] = "";

	log_init("test", ME_LOG_INFO, 0);
	capture();
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, writer, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	out = release();
	cr_assert_not_null(out);
	for (l = out; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		cr_assert_not_null(nl, "got output that does not end in a newline: '%.100s'", l);
		lines++;
		if (!line_ok(l, (size_t)(nl - l), seen) && !bad++)
			snprintf(first_bad, sizeof(first_bad), "%.*s", (int)(nl - l < 200 ? nl - l : 200),
				 l);
	}
	free(out);
	cr_assert_eq(bad, 0, "got %d torn or merged lines of %d, want 0; the first: '%s'", bad,
		     lines, first_bad);
	for (int k = 0; k < THREADS * LINES; k++)
		cr_assert_eq(seen[k], 1, "line %d of thread %d: seen %d times, want once",
			     k % LINES, k / LINES, seen[k]);
}

Test(log, long_line_cut_and_marked)
{
	static char big[10000];
	char *out;
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	log_init("test", ME_LOG_INFO, 0);
	capture();
	log_warn("%s", big);
	log_info("after");
	out = release();
	n = strcspn(out, "\n");
	cr_assert_eq(n, 4094, "got a first line of %zu bytes, want 4094 and a newline (PIPE_BUF)",
		     n);
	cr_assert(!strncmp(out, "test: warning: xxx", 18), "got '%.30s'", out);
	cr_assert(!strncmp(out + n - 3, "...", 3), "got '%.10s' at the cut, want '...'",
		  out + n - 3);
	cr_assert_str_eq(out + n + 1, "test: after\n", "got '%s' after the long line",
			 out + n + 1);
	free(out);
}
