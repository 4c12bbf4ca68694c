/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atomicfile.h - replace a file so that a reader sees the old one or the new
 * one, never half of either, even across a crash.
 *
 * The text goes to a fresh temporary file next to the target (the rename must
 * not cross filesystems; mkostemp never reuses an existing name or follows a
 * planted symlink), named ".NAME.XXXXXX" so that collectors that glob for
 * "*.prom" or "*.lists" never pick it up. It is fsync'd before the rename, or a
 * crash could leave an empty file where the last good one was. Used for list
 * sync's state, the loader's saved lists and the metrics files.
 */
#ifndef ME_ATOMICFILE_H
#define ME_ATOMICFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Writes the content; returns 0 or -errno. */
typedef int (*me_render_fn)(FILE *f, void *ctx);

/* Replace path with what render writes, with the given mode. On any failure
 * path is left as it was and nothing else remains. 0 or -errno. */
int me_file_replace(const char *path, mode_t mode, me_render_fn render, void *ctx);

/* The same for content already in memory. */
int me_file_replace_buf(const char *path, mode_t mode, const void *buf, size_t len);

/*
 * The same without the fsync, for a file that describes what a crash takes
 * with it (the kernel's maps): readers and a killed writer still see the old
 * file or the new one, but after a power loss it may be either, or empty,
 * and its reader must then take it as unknown. The fsync waits for a journal
 * commit, which a big write beside it makes last tens of milliseconds.
 */
int me_file_replace_buf_nosync(const char *path, mode_t mode, const void *buf, size_t len);

#endif
