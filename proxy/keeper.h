/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keeper.h - the one thing the proxy still needs root for after it starts:
 * reading its TLS keys again on SIGHUP.
 *
 * Keys are usually readable by root alone, and the proxy runs as an
 * unprivileged user once it has bound its ports, so a reload could not read
 * them. As nginx keeps a root master for the same reason (and OpenSMTPD a
 * privileged parent), mailedge forks a small keeper before it drops root. The
 * keeper only ever answers one question, "the keys of the configuration on
 * disk now": it loads that configuration itself, as root, and sends back the
 * contents of the key files it names, nothing else. A compromised proxy can
 * therefore read the keys it was configured with, which it holds in memory
 * anyway, and no other file.
 */
#ifndef PX_KEEPER_H
#define PX_KEEPER_H

#include <stddef.h>

#include "config.h"

/* Fork the keeper (as root, before dropping it and before any thread).
 * Returns 0, or -1 with errno (reloads then read keys as the proxy's user). */
int px_keeper_start(const struct px_flags *flags);

/* Fetch the keys of the configuration as it is now on disk, for the next
 * px_config_load(). 0, or -1 with why (the keeper is gone, or the
 * configuration it read is broken). */
int px_keeper_fetch(char *why, size_t why_len);

/* The fetched contents of the key file at path, or NULL. */
const char *px_keeper_key(const char *path, size_t *len);

/* Wipe and free what px_keeper_fetch() got. */
void px_keeper_forget(void);

/* Stop the keeper (at exit). */
void px_keeper_stop(void);

#endif
