// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - read /etc/mailedge/listsync.conf (libconfig syntax):
 *
 *   state_dir = "/var/lib/mailedge";
 *   sources = (
 *     { name = "spamhaus-drop"; url = "https://www.spamhaus.org/drop/drop_v4.json";
 *       format = "spamhaus-json"; list = "black"; action = "drop"; },
 *     { name = "local-white"; url = "file:///etc/mailedge/white.txt";
 *       format = "plain"; list = "white"; may_be_empty = true; }
 *   );
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>

#include "conf.h"
#include "config.h"
#include "lists.h"
#include "str.h"

static const struct me_conf_item global_items[] = {
	{ "pin_dir", ME_CONF_STR, offsetof(struct ls_config, pin_dir),
	  sizeof(((struct ls_config *)0)->pin_dir), 0, 0, ME_PIN_DIR_DEFAULT,
	  "where mailedge-loader pinned the edge filter's maps" },
	{ "state_dir", ME_CONF_STR, offsetof(struct ls_config, state_dir),
	  sizeof(((struct ls_config *)0)->state_dir), 0, 0, "/var/lib/mailedge",
	  "last good copy and fetch state of every source" },
	{ "ca_file", ME_CONF_STR, offsetof(struct ls_config, ca_file),
	  sizeof(((struct ls_config *)0)->ca_file), 0, 0, "",
	  "CA bundle for https sources; empty = the system's" },
	{ "metrics_file", ME_CONF_STR, offsetof(struct ls_config, metrics_file),
	  sizeof(((struct ls_config *)0)->metrics_file), 0, 0, "",
	  "after every run, write Prometheus metrics here (absolute path, written to a "
	  "temporary file and renamed; for node exporter's textfile collector, end it in "
	  ".prom); empty = none" },
	{ "connect_timeout", ME_CONF_DURATION, offsetof(struct ls_config, connect_timeout), 0, 1,
	  600, "15s", "give up connecting to a source after this long" },
	{ "timeout", ME_CONF_DURATION, offsetof(struct ls_config, timeout), 0, 1, 3600, "120s",
	  "give up on a whole download after this long" },
	{ "max_size", ME_CONF_SIZE, offsetof(struct ls_config, max_size), 0, 1024,
	  4ull << 30, "256M", "refuse a download larger than this" },
	{ "interval", ME_CONF_DURATION, offsetof(struct ls_config, interval), 0, 10, 86400,
	  "5m", "with run --daemon: time between runs (sources still keep their own "
		"min_interval)" },
	{ "lock_timeout", ME_CONF_DURATION, offsetof(struct ls_config, lock_timeout), 0, 0, 3600,
	  "60s", "how long a run waits for another run or an admin to finish" },
	ME_CONF_END,
};

static const struct me_conf_item source_items[] = {
	{ "name", ME_CONF_STR, offsetof(struct ls_source, name), LS_NAME_MAX + 1, 0, 0, NULL,
	  "unique name, 1-31 letters, digits, '.', '_', '-' (status and state files use it)" },
	{ "url", ME_CONF_STR, offsetof(struct ls_source, url),
	  sizeof(((struct ls_source *)0)->url), 0, 0, NULL, "https://, http:// or file:// URL" },
	{ "format", ME_CONF_STR, offsetof(struct ls_source, format),
	  sizeof(((struct ls_source *)0)->format), 0, 0, NULL,
	  "plain, netset, spamhaus-json, spamhaus-text, dshield or ipset-save" },
	{ "list", ME_CONF_STR, offsetof(struct ls_source, list_s),
	  sizeof(((struct ls_source *)0)->list_s), 0, 0, "black", "black or white" },
	{ "action", ME_CONF_STR, offsetof(struct ls_source, action_s),
	  sizeof(((struct ls_source *)0)->action_s), 0, 0, "",
	  "drop, reset, pass or group:N (default drop for black, pass for white)" },
	{ "ca_file", ME_CONF_STR, offsetof(struct ls_source, ca_file),
	  sizeof(((struct ls_source *)0)->ca_file), 0, 0, "", "CA bundle for this source" },
	{ "min_interval", ME_CONF_DURATION, offsetof(struct ls_source, min_interval), 0, 0,
	  7 * 86400, "0", "fetch at most this often; 0 = the format's (1h for all published "
		     "lists; Spamhaus's terms forbid less)" },
	{ "may_be_empty", ME_CONF_BOOL, offsetof(struct ls_source, may_be_empty), 0, 0, 1,
	  "false", "accept an empty download instead of treating it as a failure" },
	{ "max_shrink", ME_CONF_PERCENT, offsetof(struct ls_source, max_shrink), 0, 0, 100, "50",
	  "refuse a download with this many percent fewer entries than the last good one" },
	{ "stale_after", ME_CONF_DURATION, offsetof(struct ls_source, stale_after), 0, 0,
	  365 * 86400, "0", "warn when the data in use is older; 0 = max(1d, 4 x min_interval)" },
	ME_CONF_END,
};

void ls_config_init(struct ls_config *c)
{
	memset(c, 0, sizeof(*c));
	me_conf_defaults(global_items, c);
}

void ls_config_free(struct ls_config *c)
{
	free(c->src);
	c->src = NULL;
	c->nsrc = 0;
}

static struct ls_source *new_source(struct ls_config *c)
{
	struct ls_source *g = realloc(c->src, (c->nsrc + 1) * sizeof(*g));

	if (!g)
		return NULL;
	c->src = g;
	memset(&g[c->nsrc], 0, sizeof(g[0]));
	me_conf_defaults(source_items, &g[c->nsrc]);
	return &g[c->nsrc++];
}

/* A relative metrics_file would land wherever the timer's working directory
 * happens to be; refuse it here, where the line is still known. */
static int check_metrics_file(const struct ls_config *c, config_setting_t *root, char *why,
			      size_t why_len)
{
	config_setting_t *s = config_setting_get_member(root, "metrics_file");
	const char *file;

	if (!s || !c->metrics_file[0] || c->metrics_file[0] == '/')
		return 0;
	file = config_setting_source_file(s);
	snprintf(why, why_len, "%s:%d: metrics_file must be an absolute path, got '%.100s'",
		 file ? file : c->path, config_setting_source_line(s), c->metrics_file);
	return -EINVAL;
}

static int load(struct ls_config *c, config_t *cf, char *why, size_t why_len)
{
	static const char *const skip[] = { "sources", NULL };
	config_setting_t *root = config_root_setting(cf), *srcs;
	int i, n, rc;

	rc = me_conf_read(root, global_items, skip, c, why, why_len);
	if (rc)
		return rc;
	rc = check_metrics_file(c, root, why, why_len);
	if (rc)
		return rc;
	srcs = config_setting_get_member(root, "sources");
	if (!srcs)
		return 0;
	if (!config_setting_is_list(srcs) && !config_setting_is_array(srcs)) {
		snprintf(why, why_len, "%s:%d: sources must be a list: ( { ... }, { ... } )",
			 c->path, config_setting_source_line(srcs));
		return -EINVAL;
	}
	n = config_setting_length(srcs);
	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(srcs, (unsigned int)i);
		struct ls_source *src;

		if (!config_setting_is_group(s)) {
			snprintf(why, why_len, "%s:%d: each source must be a group { ... }", c->path,
				 config_setting_source_line(s));
			return -EINVAL;
		}
		src = new_source(c);
		if (!src)
			return -ENOMEM;
		rc = me_conf_read(s, source_items, NULL, src, why, why_len);
		if (rc)
			return rc;
		if (!src->name[0] || !src->url[0] || !src->format[0]) {
			snprintf(why, why_len, "%s:%d: a source needs name, url and format",
				 c->path, config_setting_source_line(s));
			return -EINVAL;
		}
	}
	return 0;
}

int ls_config_load(struct ls_config *c, const char *path, int must_exist, char *why,
		   size_t why_len)
{
	config_t cf;
	FILE *f;
	int rc;

	snprintf(c->path, sizeof(c->path), "%s", path);
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	fclose(f);
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		snprintf(why, why_len, "%s:%d: %s", config_error_file(&cf) ? config_error_file(&cf) : path,
			 config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	rc = load(c, &cf, why, why_len);
	config_destroy(&cf);
	return rc;
}

int ls_config_load_string(struct ls_config *c, const char *text, char *why, size_t why_len)
{
	config_t cf;
	int rc;

	snprintf(c->path, sizeof(c->path), "(string)");
	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		snprintf(why, why_len, "line %d: %s", config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	rc = load(c, &cf, why, why_len);
	config_destroy(&cf);
	return rc;
}

/* A name for a command-line source from its URL: the last path element, made
 * unique among the sources before it. */
static void cli_name(const struct ls_config *c, size_t self, const char *url, char *name)
{
	const char *base = strrchr(url, '/');
	char stem[LS_NAME_MAX + 1];
	size_t i, k = 0;
	int dup = 1, clash;

	base = base && base[1] ? base + 1 : url;
	while (*base == '.')
		base++; /* a name may not start with a dot */
	for (i = 0; base[i] && k < LS_NAME_MAX - 4; i++) {
		char ch = base[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '_' || ch == '-')
			stem[k++] = ch;
	}
	if (!k)
		stem[k++] = 's';
	stem[k] = '\0';
	strcpy(name, stem);
	do {
		clash = 0;
		for (i = 0; i < self; i++)
			if (!strcmp(c->src[i].name, name))
				clash = 1;
		if (clash) {
			char tmp[LS_NAME_MAX + 16];

			snprintf(tmp, sizeof(tmp), "%s-%d", stem, ++dup);
			me_strlcpy(name, tmp, LS_NAME_MAX + 1);
		}
	} while (clash && dup < 1000);
}

int ls_config_add_cli(struct ls_config *c, const char *spec, char *why, size_t why_len)
{
	const char *colon, *rest = spec;
	struct ls_source *s;
	char list[8] = "black";

	if (!strncmp(rest, "white:", 6) || !strncmp(rest, "black:", 6)) {
		memcpy(list, rest, 5);
		list[5] = '\0';
		rest += 6;
	}
	colon = strchr(rest, ':');
	if (!colon || colon == rest || (size_t)(colon - rest) >= sizeof(s->format) || !colon[1]) {
		snprintf(why, why_len, "--source '%.80s': expected [white:|black:]FORMAT:URL", spec);
		return -EINVAL;
	}
	if ((colon - rest == 4 && !strncmp(rest, "http", 4)) ||
	    (colon - rest == 5 && !strncmp(rest, "https", 5)) ||
	    (colon - rest == 4 && !strncmp(rest, "file", 4))) {
		snprintf(why, why_len, "--source '%.80s': the format is missing, as in "
			 "plain:%.60s", spec, rest);
		return -EINVAL;
	}
	s = new_source(c);
	if (!s)
		return -ENOMEM;
	memcpy(s->format, rest, (size_t)(colon - rest));
	s->format[colon - rest] = '\0';
	if (strlen(colon + 1) >= sizeof(s->url)) {
		snprintf(why, why_len, "--source: URL too long");
		return -EINVAL;
	}
	strcpy(s->url, colon + 1);
	strcpy(s->list_s, list);
	s->from_cli = 1;
	cli_name(c, c->nsrc - 1, s->url, s->name);
	return 0;
}

static int valid_name(const char *n)
{
	size_t i, len = strlen(n);

	if (!len || len > LS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '.' || n[i] == '_' || n[i] == '-'))
			return 0;
	return n[0] != '.';
}

int ls_config_finish(struct ls_config *c, char *why, size_t why_len)
{
	size_t i, j;

	if (c->pin_dir[0] != '/' || c->state_dir[0] != '/') {
		snprintf(why, why_len, "pin_dir and state_dir must be absolute paths");
		return -EINVAL;
	}
	for (i = 0; i < c->nsrc; i++) {
		struct ls_source *s = &c->src[i];

		if (!valid_name(s->name)) {
			snprintf(why, why_len,
				 "source name '%.40s': use 1-31 letters, digits, '.', '_' or '-'",
				 s->name);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(c->src[j].name, s->name)) {
				snprintf(why, why_len, "two sources are named '%s'", s->name);
				return -EINVAL;
			}
		if (strncmp(s->url, "https://", 8) && strncmp(s->url, "http://", 7) &&
		    strncmp(s->url, "file://", 7)) {
			snprintf(why, why_len, "source %s: url must start with https://, http:// or "
				 "file://", s->name);
			return -EINVAL;
		}
		s->fmt = me_fmt_find(s->format);
		if (!s->fmt) {
			snprintf(why, why_len, "source %s: unknown format '%.32s' (see --help)",
				 s->name, s->format);
			return -EINVAL;
		}
		if (!strcmp(s->list_s, "black")) {
			s->list = ME_LIST_BLACK;
		} else if (!strcmp(s->list_s, "white")) {
			s->list = ME_LIST_WHITE;
		} else {
			snprintf(why, why_len, "source %s: list must be black or white", s->name);
			return -EINVAL;
		}
		memset(&s->val, 0, sizeof(s->val));
		if (!s->action_s[0])
			s->val.action = s->list == ME_LIST_WHITE ? ME_ACT_PASS : ME_ACT_DROP;
		else if (me_action_parse(s->action_s, &s->val)) {
			snprintf(why, why_len, "source %s: unknown action '%s'", s->name, s->action_s);
			return -EINVAL;
		}
		if (s->list == ME_LIST_WHITE &&
		    (s->val.action == ME_ACT_DROP || s->val.action == ME_ACT_RESET)) {
			snprintf(why, why_len, "source %s: a whitelist can only pass or map to a "
				 "group", s->name);
			return -EINVAL;
		}
		/* file:// is the admin's own file: read it every run. */
		if (!strncmp(s->url, "file://", 7))
			s->min_interval = 0;
		else if (s->fmt->interval_floor && s->min_interval < s->fmt->min_interval)
			s->min_interval = s->fmt->min_interval; /* their terms, not ours */
		else if (!s->min_interval)
			s->min_interval = s->fmt->min_interval;
		if (!s->stale_after)
			s->stale_after = s->min_interval * 4 > 86400 ? s->min_interval * 4 : 86400;
	}
	if (c->nsrc > ME_SRC_MAX - ME_SRC_SYNC_FIRST) {
		snprintf(why, why_len, "at most %d sources", ME_SRC_MAX - ME_SRC_SYNC_FIRST);
		return -EINVAL;
	}
	return 0;
}

void ls_config_help(FILE *f)
{
	fprintf(f, "Global settings:\n\n");
	me_conf_print(f, global_items, "  ");
	fprintf(f, "\nEach source in sources = ( { ... }, ... ):\n\n");
	me_conf_print(f, source_items, "  ");
}
