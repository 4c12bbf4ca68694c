/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keeper.h - the one thing the proxy still needs root for after it starts:
 * reading its TLS files again on SIGHUP.
 *
 * Keys are usually readable by root alone (certificates often too), and the
 * proxy runs as an unprivileged user once it has bound its ports, so a reload
 * could not read them. As nginx keeps a root master for the same reason (and
 * OpenSMTPD a privileged parent), mailedge forks a small keeper before it
 * drops root. The keeper only ever answers one question, "the TLS files of the
 * configuration on disk now": it parses that configuration itself, as root
 * (a pure parse: no file but the configuration is opened, nothing is built),
 * and sends back the bytes of the certificates, keys, chains, OCSP responses
 * and CAs it names, nothing else, and of those only the ones root owns,
 * reached through no link but root's (material.c): the proxy reads the
 * others itself. A compromised proxy can therefore read the root-owned files
 * it was configured with, whose contents it holds in memory anyway, and no
 * other file, even with a link planted in a directory it may write to.
 */
#ifndef PX_KEEPER_H
#define PX_KEEPER_H

#include <stddef.h>

#include "config.h"

/* Fork the keeper (as root, before dropping it and before any thread).
 * Returns 0, or -1 with errno (reloads then read keys as the proxy's user). */
int px_keeper_start(const struct px_flags *flags);

/* The TLS files of the configuration as it is now on disk, into m (for
 * px_config_tls). 0, or -1 with why (the keeper is gone, or the
 * configuration it read is broken). */
struct px_material;
int px_keeper_fetch(struct px_material *m, char *why, size_t why_len);

/* Stop the keeper (at exit). */
void px_keeper_stop(void);

#endif
