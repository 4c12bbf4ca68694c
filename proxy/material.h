/* SPDX-License-Identifier: GPL-2.0 */
/*
 * material.h - the bytes of the files a configuration names for TLS.
 *
 * Building TLS contexts never opens a file: it takes the bytes from here.
 * Whoever may read the files fills this in: the proxy itself at start (as
 * root), the keeper on a reload (the proxy runs unprivileged by then and keys
 * are readable by root alone, certificates often too). So parsing stays pure,
 * and the code that reads root-only files is small and in one place.
 */
#ifndef PX_MATERIAL_H
#define PX_MATERIAL_H

#include <stddef.h>

#define PX_MATERIAL_FILE_MAX (1u << 20) /* a PEM or DER file; real ones are kB */
#define PX_MATERIAL_FILES    256

struct px_file {
	char *path;
	char *data; /* NULL until read; then len bytes and a terminator */
	size_t len;
};

struct px_material {
	struct px_file *f;
	size_t n;
};

/* Name a file (once however often it is named); 0 or -ENOMEM/-E2BIG. */
int px_material_want(struct px_material *m, const char *path);
/* Read every named file: 0, or -1 with why naming the file and the error.
 * A file must be a regular file of at most PX_MATERIAL_FILE_MAX bytes. */
int px_material_read(struct px_material *m, char *why, size_t why_len);
/* The keeper's reading, as root: every file not read yet that root owns,
 * reached only through links root made; the others are left for the proxy
 * to read with its own rights. 0, or -1 with why (a link that is not
 * root's, a file that cannot be opened). */
int px_material_read_root(struct px_material *m, char *why, size_t why_len);
/* Set a file's bytes (from the keeper); 0 or -ENOMEM. */
int px_material_set(struct px_material *m, const char *path, const char *data, size_t len);
/* The bytes of path, or NULL when it was not read. */
const struct px_file *px_material_get(const struct px_material *m, const char *path);
/* What px_material_want's error means, for a message. */
void px_material_strerror(int rc, char *why, size_t why_len);
/* Wipe (keys are in here) and free. */
void px_material_free(struct px_material *m);

#endif
