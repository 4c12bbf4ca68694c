/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edgefd.h - list sync's tables for a proxy that no longer runs as root.
 *
 * Sender groups judge a client with list sync's tables too (verdict.c). The
 * proxy finds a table's map ID in the pinned outer maps it opened as root,
 * but turning an ID into an fd takes CAP_SYS_ADMIN, which the proxy has
 * dropped. So the keeper (keeper.h) opens tables for it, read-only and only
 * those the outer maps hold, and this file keeps what it got: a small cache
 * of fds by map ID. The tables themselves are mapped once per process by
 * common/synccache.h, which asks here only when a slot names a table it has
 * not mapped (once per table per rebuild), so a session costs no round trip
 * to the keeper and no fd at all. IDs change only when list sync rebuilds its
 * tables (a refresh in place keeps them), and a cached fd keeps its table
 * alive, so a miss first drops every cached table the outer maps no longer
 * name: a replaced table's memory is given back at the next session after
 * the rebuild (synccache.h lets its mappings go at the same miss).
 */
#ifndef PX_EDGEFD_H
#define PX_EDGEFD_H

/* Read list sync's tables through the keeper from now on (synctab.h's
 * opener). Called once, before any thread, when the keeper is up. */
void px_edgefd_install(void);

/* Back to the default opener, every cached fd closed (at exit, once no
 * worker reads the edge any more). */
void px_edgefd_uninstall(void);

#endif
