// SPDX-License-Identifier: GPL-2.0
/*
 * conf.c - settings tables applied to libconfig groups.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static void *field(void *target, const struct me_conf_item *it)
{
	return (char *)target + it->offset;
}

static int bounds(const struct me_conf_item *it, unsigned long long v, char *why, size_t why_len)
{
	if (v < it->min || v > it->max) {
		snprintf(why, why_len, "%s must be between %llu and %llu", it->name, it->min,
			 it->max);
		return -EINVAL;
	}
	return 0;
}

/* "90", "90s", "5m", "1h", "2d" -> seconds; "1024", "64K", "1M", "2G" -> bytes. */
static int parse_unit(const char *s, int durations, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	/* strtoull would skip any leading blank and accept a sign. */
	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		if (end[1])
			return -1;
		switch (*end) {
		case 's': mul = durations ? 1 : 0; break;
		case 'm': mul = durations ? 60 : 0; break;
		case 'h': mul = durations ? 3600 : 0; break;
		case 'd': mul = durations ? 86400 : 0; break;
		case 'K': case 'k': mul = durations ? 0 : 1024ull; break;
		case 'M': mul = durations ? 0 : 1024ull * 1024; break;
		case 'G': mul = durations ? 0 : 1024ull * 1024 * 1024; break;
		case '%': mul = 0; break;
		default: return -1;
		}
		if (!mul)
			return -1;
	}
	if (v > ~0ull / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int store_number(const struct me_conf_item *it, unsigned long long v, void *target,
			char *why, size_t why_len)
{
	if (bounds(it, v, why, why_len))
		return -EINVAL;
	switch (it->type) {
	case ME_CONF_UINT:
	case ME_CONF_DURATION:
	case ME_CONF_PERCENT:
		*(unsigned int *)field(target, it) = (unsigned int)v;
		break;
	case ME_CONF_U64:
	case ME_CONF_SIZE:
		*(unsigned long long *)field(target, it) = v;
		break;
	case ME_CONF_BOOL:
		*(int *)field(target, it) = v != 0;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

int me_conf_parse_value(const struct me_conf_item *it, const char *text, void *target,
			char *why, size_t why_len)
{
	unsigned long long v;
	size_t n;

	switch (it->type) {
	case ME_CONF_STR:
		n = strlen(text);
		if (n >= it->size) {
			snprintf(why, why_len, "%s is longer than %zu characters", it->name,
				 it->size - 1);
			return -EINVAL;
		}
		memcpy(field(target, it), text, n + 1);
		return 0;
	case ME_CONF_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1"))
			v = 1;
		else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0"))
			v = 0;
		else
			goto bad;
		return store_number(it, v, target, why, why_len);
	case ME_CONF_PERCENT:
		n = strlen(text);
		if (n && text[n - 1] == '%') {
			char tmp[16];

			if (n >= sizeof(tmp))
				goto bad;
			memcpy(tmp, text, n - 1);
			tmp[n - 1] = '\0';
			if (parse_unit(tmp, 0, &v))
				goto bad;
			return store_number(it, v, target, why, why_len);
		}
		/* fall through */
	default:
		if (parse_unit(text, it->type == ME_CONF_DURATION, &v))
			goto bad;
		if (it->type != ME_CONF_SIZE && it->type != ME_CONF_DURATION &&
		    strspn(text, "0123456789") != strlen(text))
			goto bad;
		return store_number(it, v, target, why, why_len);
	}
bad:
	snprintf(why, why_len, "%s: '%.40s' is not %s", it->name, text,
		 it->type == ME_CONF_BOOL	  ? "true or false"
		 : it->type == ME_CONF_SIZE	  ? "a size (like 1048576 or 64M)"
		 : it->type == ME_CONF_DURATION ? "a duration (like 90, 90s, 5m, 1h, 2d)"
		 : it->type == ME_CONF_PERCENT	  ? "a percentage (0-100)"
						  : "a number");
	return -EINVAL;
}

void me_conf_defaults(const struct me_conf_item *items, void *target)
{
	const struct me_conf_item *it;
	char why[128];

	for (it = items; it->name; it++) {
		if (it->type == ME_CONF_STR)
			((char *)field(target, it))[0] = '\0';
		if (it->def && me_conf_parse_value(it, it->def, target, why, sizeof(why)))
			abort(); /* a bad default in a table is a programming error */
	}
}

static const struct me_conf_item *find(const struct me_conf_item *items, const char *name)
{
	for (; items->name; items++)
		if (!strcmp(items->name, name))
			return items;
	return NULL;
}

static int in_list(const char *const *skip, const char *name)
{
	for (; skip && *skip; skip++)
		if (!strcmp(*skip, name))
			return 1;
	return 0;
}

int me_conf_read(const config_setting_t *group, const struct me_conf_item *items,
		 const char *const *skip, void *target, char *why, size_t why_len)
{
	int i, n = config_setting_length(group);
	char msg[200];

	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned int)i);
		const char *name = config_setting_name(s);
		const char *file = config_setting_source_file(s);
		const struct me_conf_item *it;
		char text[64];
		int rc = 0;

		if (!name || in_list(skip, name))
			continue;
		it = find(items, name);
		if (!it) {
			snprintf(why, why_len, "%s:%d: unknown setting '%.40s'", file ? file : "-",
				 config_setting_source_line(s), name);
			return -EINVAL;
		}
		switch (config_setting_type(s)) {
		case CONFIG_TYPE_STRING:
			rc = me_conf_parse_value(it, config_setting_get_string(s), target, msg,
						 sizeof(msg));
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			if (it->type == ME_CONF_STR) {
				snprintf(msg, sizeof(msg), "%s must be a string", name);
				rc = -EINVAL;
				break;
			}
			if (config_setting_get_int64(s) < 0) {
				snprintf(msg, sizeof(msg), "%s cannot be negative", name);
				rc = -EINVAL;
				break;
			}
			snprintf(text, sizeof(text), "%lld", config_setting_get_int64(s));
			rc = me_conf_parse_value(it, text, target, msg, sizeof(msg));
			break;
		case CONFIG_TYPE_BOOL:
			if (it->type != ME_CONF_BOOL) {
				snprintf(msg, sizeof(msg), "%s is not a true/false setting", name);
				rc = -EINVAL;
				break;
			}
			rc = store_number(it, (unsigned long long)config_setting_get_bool(s), target,
					  msg, sizeof(msg));
			break;
		default:
			snprintf(msg, sizeof(msg), "%s must be a %s", name,
				 it->type == ME_CONF_STR ? "string" : "number or string");
			rc = -EINVAL;
		}
		if (rc) {
			snprintf(why, why_len, "%s:%d: %s", file ? file : "-",
				 config_setting_source_line(s), msg);
			return rc;
		}
	}
	return 0;
}

void me_conf_print(FILE *f, const struct me_conf_item *items, const char *indent)
{
	const struct me_conf_item *it;

	for (it = items; it->name; it++)
		fprintf(f, "%s%s = %s%s%s;\n%s    %s\n", indent, it->name,
			it->type == ME_CONF_STR || it->type == ME_CONF_DURATION ||
					it->type == ME_CONF_SIZE
				? "\""
				: "",
			it->def ? it->def : "",
			it->type == ME_CONF_STR || it->type == ME_CONF_DURATION ||
					it->type == ME_CONF_SIZE
				? "\""
				: "",
			indent, it->help);
}
