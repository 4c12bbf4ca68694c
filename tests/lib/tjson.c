// SPDX-License-Identifier: GPL-2.0
/*
 * tjson.c - reading members of the programs' --json output in the suites.
 */
#include "tjson.h"

const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

long long jint(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && v ? (long long)json_object_get_int64(v)
							       : -1;
}

long long jint_null0(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (long long)json_object_get_int64(v) : -1;
}
