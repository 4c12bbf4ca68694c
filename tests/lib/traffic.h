/* SPDX-License-Identifier: GPL-2.0 */
/*
 * traffic.h - background traffic and the counters that judge it, for the lab.
 */
#ifndef ME_TEST_TRAFFIC_H
#define ME_TEST_TRAFFIC_H

#include <stddef.h>
#include <sys/types.h>

/* A background shell command, its output in a temporary file. It is killed
 * when the test process dies (PR_SET_PDEATHSIG), even on a Criterion timeout. */
struct bgproc {
	pid_t pid;
	char out[64];
};

int bg_start(struct bgproc *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wait up to ms for it to end (SIGINT first if stop); its output in buf. 0 if it
 * ended, -ETIMEDOUT if it had to be killed. */
int bg_finish(struct bgproc *b, int stop, int ms, char *buf, size_t len);
void bg_kill(struct bgproc *b);

/* hping3 in namespace ns; hping_sent parses "N packets transmitted" (or -1). */
int hping_start(struct bgproc *b, const char *ns, const char *args);
long hping_sent(const char *output);

/* Packets counted by a named nftables counter (nft list counter FAMILY TABLE NAME). */
long long nft_counter(const char *ns, const char *family, const char *table, const char *name);
/* Count the packets from saddr that reach namespace ns's stack: a chain "pre" in
 * the prerouting hook at priority -500 (before anything else) of table inet
 * TABLE, with a counter COUNTER for them. Several counters may share a table.
 * Returns nft's exit status (see tenv_sh). */
int nft_count_saddr(const char *ns, const char *table, const char *counter, const char *saddr);
/* /sys/class/net/IF/statistics/STAT inside namespace ns. */
long long if_stat(const char *ns, const char *ifname, const char *stat);

long long now_ms(void);

#endif
