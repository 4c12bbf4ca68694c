// SPDX-License-Identifier: GPL-2.0
/*
 * config_dict.c - the dictionaries a configuration names (sender_dict,
 * recipient_dict, valid_recipients; dict.h).
 *
 * They are loaded in a step of their own, after px_config_parse, because they
 * are files of their own: px_config_parse stays pure (the fuzz target reads
 * any text through it), and a reload loads them again with the new configuration, so a
 * changed file takes effect for new sessions while running ones keep the
 * dictionaries of their configuration (each holds a reference through it).
 * A missing or bad file fails the whole load with "FILE:LINE: why": -t says
 * so, and a reload keeps the running configuration, never an empty list of
 * valid recipients.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "dict.h"

int px_config_reply_ok(const char *r)
{
	return (r[0] == '4' || r[0] == '5') && r[1] >= '0' && r[1] <= '9' && r[2] >= '0' &&
	       r[2] <= '9' && r[3] == ' ' && r[4] && !strpbrk(r, "\r\n");
}

int px_read_dict_keys(const struct px_config *c, const config_setting_t *root, char *why,
		      size_t why_len)
{
	static const char *const keys[] = { "sender_dict_reply", "recipient_dict_reply" };
	const char *vals[] = { c->sender_dict_reply, c->recipient_dict_reply };
	const config_setting_t *s;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (px_config_reply_ok(vals[i]))
			continue;
		s = config_setting_get_member(root, keys[i]);
		snprintf(why, why_len, "%s:%d: %s must be one line, a 4xx or 5xx code and text",
			 c->path, s ? config_setting_source_line(s) : 0, keys[i]);
		return -EINVAL;
	}
	return 0;
}

static int load_one(const struct px_config *c, const char *key, const char *path,
		    struct px_dict **out, char *why, size_t why_len)
{
	char msg[512];
	int rc;

	if (!path[0])
		return 0;
	rc = px_dict_load(path, 0, out, msg, sizeof(msg));
	if (rc)
		snprintf(why, why_len, "%s: %s: %s", c->path, key, msg);
	return rc;
}

int px_config_dicts(struct px_config *c, char *why, size_t why_len)
{
	int rc;

	rc = load_one(c, "sender_dict", c->sender_dict_path, &c->sender_dict, why, why_len);
	if (!rc)
		rc = load_one(c, "recipient_dict", c->recipient_dict_path, &c->recipient_dict, why,
			      why_len);
	if (!rc)
		rc = load_one(c, "valid_recipients", c->valid_rcpt_path, &c->valid_rcpt, why,
			      why_len);
	return rc;
}
