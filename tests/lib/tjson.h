/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tjson.h - reading members of the programs' --json output in the suites.
 */
#ifndef ME_TEST_TJSON_H
#define ME_TEST_TJSON_H

#include <json-c/json.h>

/* String member key of o, or NULL if o is NULL, or it is absent or JSON null. */
const char *jstr(json_object *o, const char *key);
/* Integer member key of o, or -1 if o is NULL, or it is absent or JSON null. */
long long jint(json_object *o, const char *key);
/* The same, except that a JSON null reads as 0 (json-c's own reading of it). */
long long jint_null0(json_object *o, const char *key);

#endif
