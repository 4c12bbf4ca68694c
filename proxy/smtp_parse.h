/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smtp_parse.h - pure SMTP parsing: framing command lines, splitting the verb,
 * and the MAIL/RCPT path and parameter grammar of RFC 5321 4.1.2.
 *
 * Nothing here does I/O or keeps a session: the framer is resumable (feed it
 * the same growing buffer, or the rest after what it consumed), so input split
 * at any byte gives the same result, which is what the tests check.
 */
#ifndef PX_SMTP_PARSE_H
#define PX_SMTP_PARSE_H

#include <stddef.h>

/* ---- framing ---- */

enum sp_frame_rc {
	SP_AGAIN = 0,	  /* need more input */
	SP_LINE = 1,	  /* a complete line */
	SP_TOO_LONG = -1, /* a line over the limit; its rest is being skipped */
};

struct sp_framer {
	size_t max;	/* longest line, line end included (RFC 5321: 512) */
	size_t scanned; /* bytes of the pending input already searched */
	int skipping;	/* inside the rest of an over-long line */
};

void sp_framer_init(struct sp_framer *f, size_t max);

/*
 * Look for the next line in in[0..len). On SP_LINE, *line_len is its length
 * without the line end (CRLF or a bare LF: commands are re-issued by the proxy,
 * never forwarded raw, so a bare LF there cannot smuggle anything). *consumed
 * is always what the caller must drop from the front of its buffer before the
 * next call (the line and its end, or skipped bytes of an over-long line).
 * SP_TOO_LONG is returned once per over-long line.
 */
int sp_frame(struct sp_framer *f, const char *in, size_t len, size_t *line_len, size_t *consumed);

/* ---- commands ---- */

enum sp_verb {
	SP_UNKNOWN = 0,
	SP_HELO,
	SP_EHLO,
	SP_MAIL,
	SP_RCPT,
	SP_DATA,
	SP_BDAT,
	SP_RSET,
	SP_NOOP,
	SP_QUIT,
	SP_VRFY,
	SP_EXPN,
	SP_HELP,
	SP_STARTTLS,
	SP_AUTH,
	SP_TURN,
	SP_ETRN,
	SP_XCLIENT,
	SP_XFORWARD,
	SP_VERB_MAX,
};

struct sp_cmd {
	enum sp_verb verb;
	char name[16];	 /* the verb as sent, upper-cased, for logs */
	const char *arg; /* after the verb and its separating blanks */
	size_t arg_len;
};

/* Split a command line. Returns 0, or -1 for a line that is not a command at
 * all (empty, a NUL or other control byte, a verb that is not a word). */
int sp_command(const char *line, size_t len, struct sp_cmd *c);
const char *sp_verb_name(enum sp_verb v);
enum sp_verb sp_verb_lookup(const char *name);

/* ---- paths ---- */

#define SP_LOCAL_MAX  64  /* RFC 5321 4.5.3.1.1 */
#define SP_DOMAIN_MAX 255 /* 4.5.3.1.2 */
#define SP_PATH_MAX   256 /* 4.5.3.1.3, angle brackets included */
#define SP_PARAMS_MAX 16

struct sp_param {
	char key[24];
	char value[200];
	int has_value;
};

struct sp_path {
	char addr[SP_PATH_MAX + 1]; /* "local@domain", "postmaster", or "" (<>) */
	size_t local_len;	    /* bytes before the '@' */
	const char *domain;	    /* into addr, after '@'; "" if none */
	int null_path;		    /* <> */
	int utf8;		    /* contains non-ASCII (needs SMTPUTF8) */
	struct sp_param params[SP_PARAMS_MAX];
	int nparams;
};

enum sp_path_err {
	SP_PATH_OK = 0,
	SP_PATH_SYNTAX,	  /* 501 5.5.4 / 5.1.7 */
	SP_PATH_TOO_LONG, /* 501 5.5.4 (local part, domain or path) */
	SP_PATH_PARAM,	  /* 555 5.5.4 bad parameter syntax */
};

/*
 * Parse the argument of MAIL ("FROM:<path> [params]") or RCPT
 * ("TO:<path> [params]"). is_rcpt allows <postmaster> without a domain and
 * refuses the null path. Returns an enum sp_path_err; *why says what was wrong.
 */
int sp_parse_path(const char *arg, size_t len, int is_rcpt, struct sp_path *p, const char **why);

/* The value of a parameter (case-insensitive key), or NULL; *present set if the
 * key is there at all (a keyword without "=value" has value ""). */
const char *sp_param(const struct sp_path *p, const char *key, int *present);

/* Is domain one of these (case-insensitive)? An entry ".example.org" matches
 * every subdomain of example.org, as in Postfix's parent_domain_matches_subdomains. */
int sp_domain_match(const char *domain, const char *const *list, size_t n);

#endif
