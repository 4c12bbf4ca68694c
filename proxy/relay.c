// SPDX-License-Identifier: GPL-2.0
/*
 * relay.c - who may send mail to whom through the gateway.
 *
 * Decided here, before a recipient reaches any backend: a backend usually
 * trusts the gateway's address (it is on its own network), so a gateway that
 * forwarded every RCPT and let the backend decide would turn that trust into an
 * open relay (the classic nginx-mail mistake). The rules, as the relay truth
 * table tests them:
 *
 *   recipient in relay_domains               accepted, from anyone
 *   else, client in relay_networks           accepted (a trusted sender)
 *         (or its sender group's policy says relay = yes; relay = no
 *         overrides relay_networks: session.c sets relay_ok once, at connect)
 *   else, client authenticated (AUTH)        accepted (submission)
 *   else                                     554 5.7.1 relay access denied
 *
 * A local part that routes on ("user%remote@local", "remote!user@local",
 * "\"user@remote\"@local") is not for a relay domain: a backend that honours
 * it sends the mail on to the remote site, so from an untrusted client it is
 * relaying like any other (Postfix's allow_untrusted_routing = no).
 *
 * The sender address plays no part: it is the client's claim, and anyone can
 * claim a local sender.
 */
#include <string.h>

#include "session.h"

/* Sender-specified routing in the local part: '@', '%' or '!'. */
static int routes_on(const struct sp_path *rcpt)
{
	return strcspn(rcpt->addr, "@%!") < rcpt->local_len;
}

enum px_relay px_relay_decide(const struct session *s, const struct sp_path *rcpt)
{
	const struct px_config *c = s->cfg;

	/* RCPT TO:<postmaster> with no domain is for us (RFC 5321 4.5.1). */
	if ((!rcpt->domain[0] && rcpt->local_len == 10) ||
	    (!routes_on(rcpt) &&
	     sp_domain_match(rcpt->domain, (const char *const *)c->domains, c->ndomains)))
		return PX_RELAY_LOCAL;
	if (s->relay_ok || s->authenticated)
		return PX_RELAY_ALLOWED;
	return PX_RELAY_DENIED;
}
