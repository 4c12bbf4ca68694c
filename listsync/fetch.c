// SPDX-License-Identifier: GPL-2.0
/*
 * fetch.c - libcurl, configured as a careful downloader of public lists.
 *
 * - https, http and file only, also across redirects (and never from https
 *   down to http), at most 5 redirects;
 * - certificate and host name verification always on;
 * - connect and total timeouts, and a hard size limit enforced while the body
 *   arrives (Content-Length can lie or be absent);
 * - If-None-Match / If-Modified-Since from the last good response, so an
 *   unchanged list costs the publisher a 304 and us nothing;
 * - anything but 200 or 304 is a failure, with the status in the message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "hugemem.h"
#include "fetch.h"
#include "state.h"

#define USER_AGENT "mailedge-listsync/0.1 (+https://github.com/mailedge)"

struct sink {
	char *buf;
	size_t len, cap;
	unsigned long long max;
	int too_big;
	struct ls_fetch_res *res;
	CURL *c;
};

int ls_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (s->len + n > s->max) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		curl_off_t cl = -1;
		char *g;

		/* The size announced (a file's, a Content-Length) is room for all
		 * of it at once: no doubling and copying on the way to 100 MB. */
		if (!s->cap && !curl_easy_getinfo(s->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) &&
		    cl > 0 && (unsigned long long)cl <= s->max)
			cap = (size_t)cl + 1;
		while (cap < s->len + n + 1)
			cap *= 2;
		/* Page-aligned, so that the copy can be written to disk straight
		 * from it (state.c): hence no realloc, which keeps no alignment. */
		if (posix_memalign((void **)&g, LS_DIRECT_ALIGN, cap))
			return 0;
		me_hugepages(g, cap);
		if (s->len)
			memcpy(g, s->buf, s->len);
		free(s->buf);
		s->buf = g;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* Keep ETag and Last-Modified of the final response. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb, vlen;
	const char *v;
	char *dst;
	size_t cap;

	if (n > 5 && !strncmp(data, "HTTP/", 5)) {
		/* A new response (after a redirect): forget the last one's. */
		s->res->etag[0] = s->res->last_modified[0] = '\0';
		return n;
	}
	if (n > 5 && !strncasecmp(data, "ETag:", 5)) {
		v = data + 5;
		dst = s->res->etag;
		cap = sizeof(s->res->etag);
	} else if (n > 14 && !strncasecmp(data, "Last-Modified:", 14)) {
		v = data + 14;
		dst = s->res->last_modified;
		cap = sizeof(s->res->last_modified);
	} else {
		return n;
	}
	vlen = n - (size_t)(v - data);
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	/* Values with control characters are not echoed back to anyone. */
	if (vlen < cap && !memchr(v, '\r', vlen) && !memchr(v, '\n', vlen)) {
		memcpy(dst, v, vlen);
		dst[vlen] = '\0';
	}
	return n;
}

int ls_fetch(const struct ls_fetch_req *req, struct ls_fetch_res *res)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct sink s = { 0 };
	char h[320];
	CURLcode cc;
	CURL *c;
	int is_https = !strncmp(req->url, "https://", 8);

	memset(res, 0, sizeof(*res));
	res->outcome = LS_FETCH_FAILED;
	s.max = req->max_size;
	s.res = res;
	c = curl_easy_init();
	if (!c) {
		snprintf(res->err, sizeof(res->err), "cannot initialise libcurl");
		return -ENOMEM;
	}
	s.c = c;
	/* Bigger reads: a 100 MB file:// list is 6,000 16 KB ones otherwise. */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 1L << 20);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, is_https ? "https" : "https,http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)req->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_size);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file && *req->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip if offered */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (req->etag && *req->etag) {
		snprintf(h, sizeof(h), "If-None-Match: %s", req->etag);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (req->last_modified && *req->last_modified) {
		snprintf(h, sizeof(h), "If-Modified-Since: %s", req->last_modified);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_code);
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(res->err, sizeof(res->err), "larger than max_size (%llu bytes)",
			 req->max_size);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(res->err, sizeof(res->err), "timed out: %s", errbuf);
	} else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		   cc == CURLE_SSL_CONNECT_ERROR) {
		snprintf(res->err, sizeof(res->err), "TLS: %s", errbuf[0] ? errbuf :
			 curl_easy_strerror(cc));
	} else if (cc != CURLE_OK) {
		snprintf(res->err, sizeof(res->err), "%s", errbuf[0] ? errbuf :
			 curl_easy_strerror(cc));
	} else if (res->http_code == 304) {
		res->outcome = LS_FETCH_NOT_MODIFIED;
	} else if (res->http_code != 200 && strncmp(req->url, "file://", 7)) {
		snprintf(res->err, sizeof(res->err), "HTTP status %ld", res->http_code);
	} else {
		res->outcome = LS_FETCH_OK;
		res->body = s.buf ? s.buf : calloc(1, 1);
		res->len = s.len;
		s.buf = NULL;
	}
	free(s.buf);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return res->outcome == LS_FETCH_FAILED ? -EIO : 0;
}

void ls_fetch_res_free(struct ls_fetch_res *res)
{
	free(res->body);
	res->body = NULL;
}
