/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tunnel.h - a connection on a "protocol = tcp" listener: TLS terminated here
 * (implicit, RFC 8314), the bytes relayed as they are to a pool member (IMAP
 * 993 -> 143, POP3 995 -> 110: the GroupWise offload), with the same pools,
 * balancing, health checks, PROXY headers and limits as SMTP sessions.
 *
 * Nothing of the protocol inside is read: the tunnel only moves bytes, with
 * back-pressure both ways (a side that cannot keep up pauses the other), and
 * ends when either side does, after what the other still had to say is out.
 */
#ifndef PX_TUNNEL_H
#define PX_TUNNEL_H

#include <sys/socket.h>

struct px_worker;
struct px_listener;
struct tunnel;

/* Take over an accepted connection (its client slot is already counted). */
void tunnel_start(struct px_worker *w, int fd, struct px_listener *l,
		  const struct sockaddr_storage *peer);
/* Close at once (the end of a drain). */
void tunnel_close(struct tunnel *t, const char *outcome);

#endif
