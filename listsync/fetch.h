/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fetch.h - download one list with libcurl: conditional GET, limits, TLS checks.
 */
#ifndef LS_FETCH_H
#define LS_FETCH_H

#include <stddef.h>

enum ls_fetch_outcome {
	LS_FETCH_OK,		/* a new body */
	LS_FETCH_NOT_MODIFIED,	/* 304: the last good copy is current */
	LS_FETCH_FAILED,
};

struct ls_fetch_req {
	const char *url;
	const char *ca_file;	   /* NULL or "" = the system bundle */
	const char *etag;	   /* from the last good response, or "" */
	const char *last_modified; /* idem */
	unsigned int connect_timeout, timeout;
	unsigned long long max_size;
};

struct ls_fetch_res {
	enum ls_fetch_outcome outcome;
	long http_code;
	char *body; /* malloc'd, LS_DIRECT_ALIGN-aligned (state.h), NUL-terminated; NULL
		    * unless LS_FETCH_OK */
	size_t len;
	char etag[256];
	char last_modified[64];
	char err[256];
};

/* Call once per process before any fetch. */
int ls_fetch_global_init(void);
int ls_fetch(const struct ls_fetch_req *req, struct ls_fetch_res *res);
void ls_fetch_res_free(struct ls_fetch_res *res);

#endif
