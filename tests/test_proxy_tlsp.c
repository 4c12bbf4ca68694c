// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_tlsp.c - TLS profiles, end to end: what a client sees through
 * openssl s_client (certificates, SNI, ciphers, protocols, OCSP, session
 * resumption), implicit TLS for SMTP, what "-t" reports, and what it refuses.
 *
 * The certificates come from tests/lib/mkpki.sh: a root, an intermediate, and
 * leaves for mx.test (ECDSA and RSA), other.test / *.wild.test, one that
 * expires in 10 days, one that has expired, and an OCSP response.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/testenv.h"

TestSuite(proxy_tlsp, .init = pxc_setup, .fini = pxc_teardown, .timeout = 60);

/* Two profiles, the default one with an ECDSA and an RSA certificate and an
 * OCSP response; a STARTTLS listener (P0) carrying both, an implicit one
 * (P1) carrying mx only. */
static void start_profiles(const char *mx_extra, const char *top)
{
	const char *d = pki();
	char conf[8192], tls[3072], ls[1024];

	snprintf(tls, sizeof(tls),
		 "tls = ( { name = \"mx\"; %s\n"
		 "  certificates = ( { cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; },\n"
		 "                   { cert = \"%s/mx-rsa.pem\"; key = \"%s/mx-rsa.key\"; } );\n"
		 "  ocsp = \"%s/ocsp.der\"; },\n"
		 "  { name = \"other\"; cert = \"%s/other.pem\"; key = \"%s/other.key\"; } );\n",
		 mx_extra ? mx_extra : "", d, d, d, d, d, d, d);
	snprintf(ls, sizeof(ls),
		 "{ listen = \"127.0.0.1:@P0@\"; tls = \"optional\"; tls_profile = [ \"mx\", "
		 "\"other\" ]; auth_requires_tls = false; },"
		 "{ listen = \"127.0.0.1:@P1@\"; tls = \"implicit\"; tls_profile = \"mx\"; }");
	snprintf(conf, sizeof(conf), "%s%s", top ? top : TOP_DEFAULT, tls);
	fake(0, NULL);
	start(conf, NULL, ls, NULL);
}

static void want_in(const char *out, const char *needle, const char *what)
{
	cr_assert(strstr(out, needle), "%s: got\n%s\nwant it to show '%s'", what, out, needle);
}

static void want_not(const char *out, const char *needle, const char *what)
{
	cr_assert_null(strstr(out, needle), "%s: got\n%s\nwant no '%s'", what, out, needle);
}

#define STARTTLS(i) "-starttls smtp -connect 127.0.0.1:%d", lab.port[i]

/* One profile, two certificates: a client that can only use RSA gets the RSA
 * one, the others the ECDSA one; both verify up to the root through the
 * intermediate the proxy sends. */
Test(proxy_tlsp, two_certificates)
{
	const char *out;

	start_profiles(NULL, NULL);
	out = sclient(NULL, "QUIT\r\n", "-showcerts " STARTTLS(0));
	want_in(out, "Server public key is 256 bit", "default client");
	want_in(out, "Verify return code: 0 (ok)", "default client");
	want_in(out, "1 s:CN = mailedge test intermediate", "the chain sent");
	out = sclient(NULL, "QUIT\r\n", "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 " STARTTLS(0));
	want_in(out, "Server public key is 2048 bit", "an RSA-only client");
	want_in(out, "Verify return code: 0 (ok)", "an RSA-only client");
	finish();
}

/* SNI chooses among the listener's profiles by the names in their
 * certificates (wildcards one label deep); no name, or a name none carries,
 * gets the default. A listener without the profile never serves it. */
Test(proxy_tlsp, sni_chooses_profile)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ NULL, "subject=CN = mx.test" },
		{ "mx.test", "subject=CN = mx.test" },
		{ "other.test", "subject=CN = other.test" },
		{ "OTHER.test", "subject=CN = other.test" },
		{ "a.wild.test", "subject=CN = other.test" },
		{ "a.b.wild.test", "subject=CN = mx.test" },
		{ "unknown.example", "subject=CN = mx.test" },
	};
	char args[256];

	start_profiles(NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *out;

		snprintf(args, sizeof(args), "%s%s",
			 cases[i].name ? "-servername " : "-noservername",
			 cases[i].name ? cases[i].name : "");
		out = sclient(NULL, "QUIT\r\n", "%s -starttls smtp -connect 127.0.0.1:%d", args,
			      lab.port[0]);
		snprintf(msg, sizeof(msg), "SNI %s", cases[i].name ? cases[i].name : "(none)");
		want_in(out, cases[i].want, msg);
	}
	/* P1 has mx only */
	want_in(
	    sclient(NULL, "QUIT\r\n", "-servername other.test -connect 127.0.0.1:%d", lab.port[1]),
	    "subject=CN = mx.test", "SNI other.test on a listener without that profile");
	finish();
}

/* A profile's protocols and ciphers are what is negotiated. */
Test(proxy_tlsp, protocols_and_ciphers)
{
	const char *out;

	start_profiles("min_protocol = \"TLSv1.3\";", NULL);
	out = sclient(NULL, "QUIT\r\n", "-tls1_2 " STARTTLS(0));
	want_in(out, "Cipher is (NONE)", "TLS 1.2 to a TLS 1.3-only profile");
	out = sclient(NULL, "QUIT\r\n", STARTTLS(0));
	want_in(out, "New, TLSv1.3,", "a TLS 1.3-only profile");
	finish();
}

/* TLS 1.2 with one cipher, IronPort style. */
Test(proxy_tlsp, one_cipher)
{
	const char *out;

	start_profiles("max_protocol = \"TLSv1.2\"; ciphers = \"ECDHE-ECDSA-AES256-GCM-SHA384\";",
		       NULL);
	out = sclient(NULL, "QUIT\r\n", STARTTLS(0));
	want_in(out, "Cipher is ECDHE-ECDSA-AES256-GCM-SHA384", "one cipher allowed");
	out = sclient(NULL, "QUIT\r\n", "-cipher ECDHE-ECDSA-AES128-GCM-SHA256 " STARTTLS(0));
	want_in(out, "Cipher is (NONE)", "a cipher the profile does not allow");
	finish();
}

/* OCSP stapling: a client that asks gets the response, good. */
Test(proxy_tlsp, ocsp_stapled)
{
	const char *out;

	start_profiles(NULL, NULL);
	out = sclient(NULL, "QUIT\r\n", "-status -connect 127.0.0.1:%d", lab.port[1]);
	want_in(out, "OCSP Response Status: successful", "-status on the implicit listener");
	want_in(out, "Cert Status: good", "-status");
	/* the RSA certificate has no response: nothing stapled, no error */
	out = sclient(NULL, "QUIT\r\n",
		      "-status -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 " STARTTLS(0));
	want_in(out, "OCSP response: no response sent", "-status, RSA certificate");
	finish();
}

/* Implicit TLS (RFC 8314): the banner inside TLS, no STARTTLS offered or
 * taken, mail delivered; a plaintext client gets nothing. */
Test(proxy_tlsp, implicit_tls_smtp)
{
	struct pl_client c;
	const char *out;
	int rc;

	start_profiles(NULL, NULL);
	out = sclient(NULL,
		      "EHLO client.test\r\nSTARTTLS\r\nMAIL FROM:<alice@example.org>\r\n"
		      "RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: 465\r\n\r\nimplicit\r\n.\r\n"
		      "QUIT\r\n",
		      "-ign_eof -connect 127.0.0.1:%d", lab.port[1]);
	want_in(out, "220 mx.test ESMTP", "the banner after the handshake");
	want_not(out, "250-STARTTLS", "EHLO on an implicit-TLS listener");
	want_in(out, "554 5.5.1 Error: TLS already active", "STARTTLS inside implicit TLS");
	want_in(out, "250 2.0.0 Ok: queued as FAKE", "the message");
	rc = pl_connect(&c, UNTRUSTED, lab.port[1]);
	cr_assert_eq(rc, 0, "connecting: %s", c.err);
	pl_send(&c, "EHLO plain.test\r\n");
	rc = pl_reply(&c, rbuf, sizeof(rbuf), 2000);
	cr_assert(rc < 0, "a plaintext client on an implicit-TLS port: got '%s', want no reply",
		  rbuf);
	pl_close(&c);
	cr_assert_eq(seen_count(0, "message", "data", "implicit"), 1,
		     "messages at the backend: got %d, want 1",
		     seen_count(0, "message", "data", "implicit"));
	finish();
}

/* Resumption works across the workers (SO_REUSEPORT spreads connections
 * over both) and across a reload, for TLS 1.3 and 1.2 tickets alike: the
 * ticket keys belong to the process. With tickets off, TLS 1.2 resumes from
 * the shared session cache. */
Test(proxy_tlsp, resumption_across_workers_and_reload)
{
	static const char *const versions[] = { "-tls1_3", "-tls1_2" };
	char sess[300];
	int v, i;

	char *log;
	int w0 = 0, w1 = 0;

	start_profiles(NULL, NULL);
	for (v = 0; v < 2; v++) {
		snprintf(sess, sizeof(sess), "%s/sess%d", lab.dir, v);
		want_in(sclient(NULL, "QUIT\r\n", "%s -sess_out %s -connect 127.0.0.1:%d",
				versions[v], sess, lab.port[1]),
			"New,", "the first connection");
		for (i = 0; i < 12; i++) {
			if (i == 6) {
				pl_proxy_signal(&lab, SIGHUP);
				cr_assert_eq(
				    pl_log_wait(&lab, "configuration reloaded", v + 1, 5000), v + 1,
				    "no reload; log:\n%s", proxy_log());
			}
			snprintf(msg, sizeof(msg), "%s resumption %d (%s the reload)", versions[v],
				 i, i < 6 ? "before" : "after");
			want_in(sclient(NULL, "QUIT\r\n", "%s -sess_in %s -connect 127.0.0.1:%d",
					versions[v], sess, lab.port[1]),
				"Reused,", msg);
		}
	}
	finish();
	/* Both workers served some (ids carry the worker in their top bits):
	 * each resumed what the other had issued. */
	log = pl_read_file(lab.proxy_log);
	for (const char *l = log; l && (l = strstr(l, "session id=")); l++)
		if (strtoull(l + 11, NULL, 16) >> 48)
			w1++;
		else
			w0++;
	free(log);
	cr_assert(w0 && w1, "sessions per worker: got %d and %d, want both serving", w0, w1);
}

Test(proxy_tlsp, resumption_from_cache_without_tickets)
{
	char sess[300];

	start_profiles("tickets = false;", NULL);
	snprintf(sess, sizeof(sess), "%s/sess", lab.dir);
	want_in(sclient(NULL, "QUIT\r\n", "-tls1_2 -sess_out %s -connect 127.0.0.1:%d", sess,
			lab.port[1]),
		"New,", "the first connection");
	for (int i = 0; i < 4; i++)
		want_in(sclient(NULL, "QUIT\r\n", "-tls1_2 -sess_in %s -connect 127.0.0.1:%d", sess,
				lab.port[1]),
			"Reused,", "a TLS 1.2 session from the cache");
	finish();
}

/* ---- -t ---- */

static int check(char **out, const char *tls_profile)
{
	char conf[4096];

	snprintf(conf, sizeof(conf),
		 "hostname = \"mx.test\";\nuser = \"nobody\";\ntls = ( { name = \"mx\"; %s } );\n"
		 "listeners = ( { listen = \"127.0.0.1:@P0@\"; tls_profile = \"mx\"; } );\n"
		 "pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n",
		 tls_profile);
	cr_assert_eq(pl_conf_write(&lab, conf), 0);
	return pl_sh(out, 20000, "%s -c %s -t 2>&1", tenv_bin("mailedge-proxy"), lab.conf);
}

/* What -t says about a good profile: every certificate, its names, issuer,
 * chain, key and days left, the OCSP response, the names SNI goes by. */
Test(proxy_tlsp, check_reports_profiles)
{
	const char *d = pki();
	char prof[2048], *out;
	int st;

	snprintf(
	    prof, sizeof(prof),
	    "certificates = ( { cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; },"
	    "{ cert = \"%s/mx-rsa.pem\"; key = \"%s/mx-rsa.key\"; } ); ocsp = \"%s/ocsp.der\";",
	    d, d, d, d, d);
	st = check(&out, prof);
	cr_assert_eq(st, 0, "-t: got status %d, want 0:\n%s", st, out);
	want_in(out, "(ECDSA prime256v1)", "-t");
	want_in(out, "(RSA 2048)", "-t");
	want_in(out, "subject:  CN=mx.test", "-t");
	want_in(out, "names:    mx.test, IP 127.0.0.1", "-t");
	want_in(out, "issuer:   CN=mailedge test intermediate", "-t");
	want_in(out, "clients must trust 'CN=mailedge test root'", "-t");
	want_in(out, "matches the certificate", "-t");
	want_in(out, "(89 days)", "-t");
	want_in(out, "ocsp.der: good", "-t");
	want_in(out, "server names (SNI): mx.test", "-t");
	want_not(out, "WARNING", "-t on certificates with 89 days left");
	free(out);
	/* under 30 days: a warning, and still OK */
	snprintf(prof, sizeof(prof), "cert = \"%s/soon.pem\"; key = \"%s/soon.key\";", d, d);
	st = check(&out, prof);
	cr_assert_eq(st, 0, "-t, 10 days left: got status %d, want 0:\n%s", st, out);
	want_in(out, "WARNING: less than 30 days", "-t, 10 days left");
	want_in(out, "expires in 9 days", "-t, 10 days left");
	free(out);
}

/* A cipher string that lets anonymous ciphers in is the admin's to choose,
 * and -t says what it means. */
Test(proxy_tlsp, check_warns_anonymous_ciphers)
{
	const char *d = pki();
	char prof[1024], *out;
	int st;

	snprintf(prof, sizeof(prof),
		 "cert = \"%s/mx-rsa.pem\"; key = \"%s/mx-rsa.key\"; max_protocol = \"TLSv1.2\"; "
		 "ciphers = \"ADH-AES128-GCM-SHA256:AES128-SHA:HIGH:@SECLEVEL=0\";",
		 d, d);
	st = check(&out, prof);
	cr_assert_eq(st, 0, "-t: got status %d:\n%s", st, out);
	want_in(out, "anonymous ciphers allowed (no server authentication)", "-t, aNULL");
	want_in(out, "without forward secrecy", "-t, static RSA");
	free(out);
}

struct bad_case {
	char name[32];
	char profile[200]; /* %s: the PKI directory, every time */
	char want[96];
};

static const struct bad_case bad_cases[] = {
	{ "expired", "cert = \"%s/expired.pem\"; key = \"%s/expired.key\";", "has expired" },
	{ "wrong key", "cert = \"%s/mx-ec.pem\"; key = \"%s/wrong.key\";", "does not match" },
	{ "chain out of order", "cert = \"%s/unordered.pem\"; key = \"%s/mx-ec.key\";",
	  "chain out of order" },
	{ "chain of another",
	  "cert = \"%s/mx-ec-leaf.pem\"; key = \"%s/mx-ec.key\"; chain = "
	  "\"%s/root.pem\";",
	  "chain out of order" },
	{ "ocsp of another",
	  "cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; ocsp = "
	  "\"%s/ocsp-other.der\";",
	  "is not about certificate" },
	{ "ocsp not ocsp",
	  "cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; ocsp = \"%s/int.pem\";",
	  "not a successful OCSP response" },
	{ "key not a key", "cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.pem\";",
	  "not an unencrypted PEM private key" },
	{ "two ECDSA",
	  "certificates = ( { cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; }, { cert "
	  "= \"%s/other.pem\"; key = \"%s/other.key\"; } );",
	  "two certificates with id-ecPublicKey keys" },
	{ "TLS 1.1", "cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; min_protocol = \"TLSv1.1\";",
	  "RFC 8996" },
	{ "bad ciphers", "cert = \"%s/mx-ec.pem\"; key = \"%s/mx-ec.key\"; ciphers = \"NOPE\";",
	  "ciphers 'NOPE'" },
	{ "missing file", "cert = \"%s/nothere.pem\"; key = \"%s/mx-ec.key\";", "nothere.pem" },
	{ "no certificate", "min_protocol = \"TLSv1.2\";", "has no certificate" },
};

ParameterizedTestParameters(proxy_tlsp, check_refuses)
{
	return cr_make_param_array(struct bad_case, bad_cases,
				   sizeof(bad_cases) / sizeof(bad_cases[0]));
}

/* What clients would fail on fails here first, naming the file. */
ParameterizedTest(const struct bad_case *t, proxy_tlsp, check_refuses)
{
	const char *d = pki();
	char prof[1024], *out;
	int st;

	snprintf(prof, sizeof(prof), t->profile, d, d, d, d);
	st = check(&out, prof);
	cr_assert(st == 2 && strstr(out, t->want), "%s: got status %d and\n%s\nwant 2 and '%s'",
		  t->name, st, out, t->want);
	cr_assert(!pl_sanitizer(out), "%s: a sanitizer report:\n%s", t->name, out);
	free(out);
}

/* Certificates and keys both readable by root alone: a start reads them as
 * root, and a reload (the proxy runs as nobody by then) gets them from the
 * keeper, new certificate included. */
Test(proxy_tlsp, root_only_files_on_reload)
{
	const char *d = pki();
	char conf[4096], *out = NULL;
	const char *res;

	pl_sh(&out, 10000,
	      "cd %s && cp %s/mx-ec.pem mx.pem && cp %s/mx-ec.key mx.key && "
	      "chmod 0600 mx.pem mx.key && chown root:root mx.pem mx.key",
	      lab.dir, d, d);
	free(out);
	snprintf(conf, sizeof(conf),
		 TOP_DEFAULT "tls = ( { name = \"mx\"; cert = \"@DIR@/mx.pem\"; key = "
			     "\"@DIR@/mx.key\"; } );\n");
	fake(0, NULL);
	start(conf, NULL,
	      "{ listen = \"127.0.0.1:@P1@\"; tls = \"implicit\"; tls_profile = \"mx\"; }", NULL);
	want_in(sclient(NULL, "QUIT\r\n", "-connect 127.0.0.1:%d", lab.port[1]),
		"subject=CN = mx.test", "before the reload");
	pl_sh(
	    &out, 10000,
	    "cd %s && cp %s/other.pem mx.pem && cp %s/other.key mx.key && chmod 0600 mx.pem mx.key",
	    lab.dir, d, d);
	free(out);
	pl_proxy_signal(&lab, SIGHUP);
	cr_assert_eq(pl_log_wait(&lab, "configuration reloaded", 1, 5000), 1,
		     "reload with root-only files: no 'configuration reloaded'; log:\n%s",
		     proxy_log());
	res = sclient(NULL, "QUIT\r\n", "-connect 127.0.0.1:%d", lab.port[1]);
	want_in(res, "subject=CN = other.test", "after the reload");
	finish();
}
