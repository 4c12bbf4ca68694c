/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keeper.h - what the proxy still needs root for after it starts: reading
 * its TLS files again on SIGHUP, and opening list sync's tables.
 *
 * Keys are usually readable by root alone (certificates often too), and the
 * proxy runs as an unprivileged user once it has bound its ports, so a reload
 * could not read them. As nginx keeps a root master for the same reason (and
 * OpenSMTPD a privileged parent), mailedge forks a small keeper before it
 * drops root. The keeper answers two questions only. The first is "the TLS
 * files of the configuration on disk now": it parses that configuration
 * itself, as root (a pure parse: no file but the configuration is opened,
 * nothing is built), and sends back the bytes of the certificates, keys,
 * chains, OCSP responses and CAs it names, nothing else, and of those only
 * the ones root owns, reached through no link but root's (material.c): the
 * proxy reads the others itself. A compromised proxy can therefore read the
 * root-owned files it was configured with, whose contents it holds in memory
 * anyway, and no other file, even with a link planted in a directory it may
 * write to.
 *
 * The second, since sender groups read the edge, is "an fd for list sync's
 * table of map ID n". The proxy finds the IDs in the pinned outer maps it
 * opened as root, but an fd by ID takes CAP_SYS_ADMIN. The keeper holds the
 * same outer maps (those pinned under the pin_dir of the configuration the
 * proxy started with, opened by itself) and gives an fd only for an ID one
 * of their slots holds at that moment, never for any other map. The fd is
 * read-write: the kernel maps a BPF array only through an fd opened for
 * writing (with BPF_F_RDONLY, mmap loses MAP_SHARED and bpf_map_mmap
 * refuses it), and tables are read through their mapping. The proxy maps it
 * PROT_READ (and the kernel then refuses an mprotect to writable), but a
 * compromised proxy could write list sync's tables through such an fd. That
 * gives it no power over the edge it lacks: it holds the admin's maps
 * read-write anyway (for bans), and the admin's whitelist beats every
 * synced entry. (The outer maps' fds it holds are writable too, but an outer
 * map takes an fd to insert a table, so through them it can only name maps
 * it could open already.)
 */
#ifndef PX_KEEPER_H
#define PX_KEEPER_H

#include <stddef.h>
#include <linux/types.h>

#include "config.h"

/* Fork the keeper (as root, before dropping it and before any thread), and
 * have list sync's tables read through it (edgefd.h). Returns 0, or -1 with
 * errno (reloads then read keys as the proxy's user, and sender groups'
 * edge criteria see the admin's entries only). */
int px_keeper_start(const struct px_flags *flags);

/* The TLS files of the configuration as it is now on disk, into m (for
 * px_config_tls). 0, or -1 with why (the keeper is gone, or the
 * configuration it read is broken). */
struct px_material;
int px_keeper_fetch(struct px_material *m, char *why, size_t why_len);

/* A new fd for list sync's table of map ID id, from the keeper (to map
 * read-only, with me_tab_map):
 * -EPERM if no slot of the pinned outer sync maps holds id now, -ENOTCONN
 * without a keeper (or after it stopped answering), or another -errno.
 * Thread-safe: one question at a time is in flight (px_keeper_fetch too). */
int px_keeper_map_fd(__u32 id);

/* Stop the keeper (at exit, once no worker asks any more). */
void px_keeper_stop(void);

#endif
