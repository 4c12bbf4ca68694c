/* SPDX-License-Identifier: GPL-2.0 */
/*
 * copyhash.h - the 64-bit hash that names a source's copy.
 *
 * A keys file and the source's state name the copy they were made from by
 * this hash, so that a keys file of another copy is never taken for this
 * one's.
 */
#ifndef LS_COPYHASH_H
#define LS_COPYHASH_H

#include <stddef.h>
#include <linux/types.h>

__u64 ls_copy_hash(const char *buf, size_t len);

#endif
