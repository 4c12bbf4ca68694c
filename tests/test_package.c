// SPDX-License-Identifier: GPL-2.0
/*
 * test_package.c - how mailedge is installed: the systemd units, make
 * install/uninstall, and the Debian package.
 *
 *   units:   every unit in a systemd/ folder passes "systemd-analyze verify" installed
 *            in a root of its own (PID 1 need not be systemd: --root= with the
 *            host's targets copied in, MANPATH at the installed man pages so
 *            Documentation= is checked too), and every service's
 *            "systemd-analyze security --offline" exposure is at most the
 *            limit below.
 *   install: make install DESTDIR=... puts every file where it belongs and
 *            leaves an admin's /etc file alone; make uninstall removes all of
 *            it but /etc.
 *   deb:     one "make deb" build, then its contents, lintian, Build-Depends
 *            against scripts/deps.sh, dpkg -i on this machine, the programs'
 *            configuration checks from /usr/sbin, the mailedge user, the man
 *            pages, dpkg -r and dpkg -P. .fini purges the package and removes
 *            the files the test put in /etc/mailedge on every exit path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "lib/testenv.h"

static char tmpdir[64];
static int installed_deb; /* dpkg -i was tried: .fini purges */

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mailedge-test-pkg-XXXXXX");
	if (!mkdtemp(tmpdir))
		tmpdir[0] = '\0';
	installed_deb = 0;
}

/* Files the deb test adds to /etc/mailedge so that the example proxy.conf
 * passes -t; dpkg leaves a directory with foreign files behind. */
static const char *const etc_keys[] = { "mx-ecdsa.pem", "mx-ecdsa.key", "mx-rsa.pem",
					"mx-rsa.key", "internal-ca.pem" };

static void teardown(void)
{
	size_t i;

	if (installed_deb) {
		for (i = 0; i < sizeof(etc_keys) / sizeof(etc_keys[0]); i++)
			tenv_sh("rm -f /etc/mailedge/%s", etc_keys[i]);
		tenv_sh("dpkg -P mailedge >/dev/null 2>&1 || true");
	}
	if (tmpdir[0])
		tenv_sh("rm -rf '%s'", tmpdir);
}

TestSuite(package, .init = setup, .fini = teardown, .timeout = 300);

/* Run, require exit 0, return stdout (kept until the test process ends). */
static char *must(const char *what, const char *fmt, const char *arg1, const char *arg2)
{
	struct run r;

	tenv_run(&r, fmt, arg1, arg2);
	cr_assert_eq(r.status, 0, "%s: got exit %d, want 0; stderr:\n%s\nstdout:\n%s", what,
		     r.status, r.err ? r.err : "", r.out ? r.out : "");
	free(r.err);
	return r.out ? r.out : strdup("");
}

/* make in the source tree, with the programs of the test build (-o all: the
 * binaries under test are installed as they are, never rebuilt here). */
static void make_install(const char *target, const char *vars)
{
	char cmd[1024];

	cr_assert(tmpdir[0], "got no temporary directory, want one from .init");
	snprintf(cmd, sizeof(cmd), "make -s -C '%%s' -o all SAN=1 OUT='%%s' %s %s 2>&1", target,
		 vars);
	must(target, cmd, tenv_src(), getenv("MAILEDGE_BUILD"));
}

/* The unit files of the tree, one a line, base names. */
static char *unit_names(void)
{
	return must("list units", "cd '%s' && ls */systemd/ | grep -E '\\.(service|timer)$'%s",
		    tenv_src(), "");
}

/* ================= units ================= */

/* The highest exposure each service may have (systemd-analyze security,
 * 0 = locked down, 10 = none). The loader and list sync keep root, CAP_BPF
 * and CAP_SYS_ADMIN and /sys/fs/bpf writable; the proxy only binds and
 * changes user. Raising a limit needs a reason in the unit file. */
static double exposure_limit(const char *unit)
{
	if (!strncmp(unit, "mailedge-proxy", 14))
		return 2.5;
	return 2.8;
}

Test(package, units_verify_and_security)
{
	char root[128], vars[512], *units, *line, *save = NULL;
	int n = 0;

	snprintf(root, sizeof(root), "%s/root", tmpdir);
	/* A root where systemd-analyze finds the targets and /bin/kill. */
	must("prepare root",
	     "set -e; r=%s; mkdir -p $r/usr/lib/systemd/system $r/usr/bin $r/usr/sbin; "
	     "ln -s usr/lib $r/lib; ln -s usr/bin $r/bin; "
	     "cp /lib/systemd/system/*.target $r/usr/lib/systemd/system/; cp /bin/kill $r/usr/bin/%s",
	     root, "");
	snprintf(vars, sizeof(vars),
		 "DESTDIR=%s PREFIX=/usr SBINDIR=/usr/sbin UNITDIR=/usr/lib/systemd/system", root);
	make_install("install", vars);

	units = unit_names();
	for (line = strtok_r(units, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char unit[256];
		struct run r;
		double score = -1;
		const char *p;

		/* A template is checked as an instance. */
		p = strstr(line, "@.");
		if (p)
			snprintf(unit, sizeof(unit), "%.*s@eth0%s", (int)(p - line), line, p + 1);
		else
			snprintf(unit, sizeof(unit), "%s", line);
		n++;

		tenv_run(&r, "MANPATH=%s/usr/share/man systemd-analyze verify --root=%s %s", root,
			 root, unit);
		cr_expect(r.status == 0 && (!r.err || !r.err[0]),
			  "verify %s: got exit %d, stderr:\n%s\nwant 0 and nothing", unit, r.status,
			  r.err ? r.err : "");
		tenv_run_free(&r);

		if (!strstr(unit, ".service"))
			continue;
		tenv_run(&r, "systemd-analyze security --offline=yes --root=%s %s", root, unit);
		cr_expect_eq(r.status, 0, "security %s: got exit %d, stderr:\n%s", unit, r.status,
			     r.err ? r.err : "");
		p = r.out ? strstr(r.out, "Overall exposure level for ") : NULL;
		if (p && (p = strchr(p, ':')))
			score = strtod(p + 1, NULL);
		cr_expect(score >= 0 && score <= exposure_limit(unit),
			  "security %s: got exposure %.1f, want at most %.1f\n%s", unit, score,
			  exposure_limit(unit), r.out ? r.out : "");
		tenv_run_free(&r);
	}
	cr_expect(n >= 5, "got %d unit files, want at least 5 (proxy, listsync + timer, loader@)",
		  n);
}

/* The reload of the proxy checks first: ExecReload runs -t, then signals. */
Test(package, proxy_reload_checks_first)
{
	char *u = must("read unit", "cat '%s/proxy/systemd/mailedge-proxy.service'%s", tenv_src(),
		       "");
	const char *t = strstr(u, "ExecReload=@SBINDIR@/mailedge-proxy -c /etc/mailedge/proxy.conf -t\n");
	const char *k = strstr(u, "ExecReload=/bin/kill -HUP $MAINPID\n");

	cr_assert(t && k && t < k,
		  "got ExecReload lines out of order or missing, want the -t check before kill -HUP:\n%s",
		  u);
}

/* ================= make install / uninstall ================= */

Test(package, install_uninstall)
{
	char root[128], vars[256], *out;
	const char *admin = "# the admin's own\nhostname = \"mx.example.net\";\n";
	FILE *f;

	snprintf(root, sizeof(root), "%s/inst", tmpdir);
	must("mkdir", "mkdir -p %s/etc/mailedge%s", root, "");
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/etc/mailedge/proxy.conf", root);
		f = fopen(path, "w");
		cr_assert_not_null(f, "cannot create %s", path);
		fputs(admin, f);
		fclose(f);
	}
	snprintf(vars, sizeof(vars), "DESTDIR=%s", root);
	make_install("install", vars);

	out = must("list", "cd %s && find . -type f -o -type l | sort%s", root, "");
	{
		static const char *const want[] = {
			"./usr/local/sbin/mailedge-loader",
			"./usr/local/sbin/mailedge-listsync",
			"./usr/local/sbin/mailedge-proxy",
			"./usr/local/lib/systemd/system/mailedge-proxy.service",
			"./usr/local/lib/systemd/system/mailedge-listsync.service",
			"./usr/local/lib/systemd/system/mailedge-listsync.timer",
			"./usr/local/lib/systemd/system/mailedge-loader@.service",
			"./usr/local/share/man/man8/mailedge-loader.8",
			"./usr/local/share/man/man8/mailedge-listsync.8",
			"./usr/local/share/man/man8/mailedge-proxy.8",
			"./usr/local/share/man/man5/mailedge-listsync.conf.5",
			"./usr/local/share/man/man5/mailedge-proxy.conf.5",
			"./usr/local/share/bash-completion/completions/mailedge-loader",
			"./usr/local/share/bash-completion/completions/mailedge-listsync",
			"./usr/local/share/bash-completion/completions/mailedge-proxy",
			"./usr/local/share/doc/mailedge/LICENSE",
			"./usr/local/share/doc/mailedge/examples/proxy.conf",
			"./etc/mailedge/listsync.conf",
			"./etc/mailedge/proxy.conf",
			"./etc/default/mailedge-loader",
		};
		size_t i;

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			char needle[256];

			snprintf(needle, sizeof(needle), "%s\n", want[i]);
			cr_expect(strstr(out, needle), "after install: got no %s; files:\n%s",
				  want[i], out);
		}
	}
	/* Units point at the installed programs. */
	out = must("unit", "cat %s/usr/local/lib/systemd/system/mailedge-proxy.service%s", root,
		   "");
	cr_expect(strstr(out, "ExecStart=/usr/local/sbin/mailedge-proxy ") &&
			  !strstr(out, "@SBINDIR@"),
		  "got a proxy unit that does not run /usr/local/sbin/mailedge-proxy:\n%s", out);
	out = must("admin file", "cat %s/etc/mailedge/proxy.conf%s", root, "");
	cr_expect_str_eq(out, admin, "install changed the admin's proxy.conf: got\n%s\nwant\n%s",
			 out, admin);

	/* A second install over the first (an upgrade) keeps /etc too. */
	make_install("install", vars);
	make_install("uninstall", vars);
	out = must("list", "cd %s && find . -type f -o -type l | sort%s", root, "");
	cr_expect_str_eq(out,
			 "./etc/default/mailedge-loader\n./etc/mailedge/listsync.conf\n"
			 "./etc/mailedge/proxy.conf\n",
			 "after uninstall: got files\n%s\nwant only the /etc files", out);
	out = must("admin file", "cat %s/etc/mailedge/proxy.conf%s", root, "");
	cr_expect_str_eq(out, admin, "uninstall changed the admin's proxy.conf: got\n%s", out);
}

/* ================= the Debian package ================= */

/* Every Build-Depends of debian/control is installed by scripts/deps.sh. */
static void check_build_depends(void)
{
	char *missing = must("build-depends",
			     "cd '%s' && deps=$(bash scripts/deps.sh list); "
			     "sed -n '/^Build-Depends:/,/^[A-Z]/p' debian/control | sed '$d' | "
			     "sed 's/^Build-Depends://; s/([^)]*)//g' | tr ',' '\\n' | "
			     "sed 's/^ *//; s/ *$//' | grep -v '^$' | sed 's/^debhelper-compat$/debhelper/' | "
			     "while read -r p; do printf '%%s\\n' \"$deps\" | grep -qx \"$p\" || echo \"$p\"; done%s",
			     tenv_src(), "");

	cr_expect_str_eq(missing, "",
			 "got Build-Depends that scripts/deps.sh does not install:\n%s", missing);
}

/* dpkg, retried while another dpkg (an apt-get of someone else) holds the lock. */
static void dpkg(const char *what, const char *args)
{
	struct run r;
	int i;

	for (i = 0; i < 60; i++) {
		tenv_run(&r, "dpkg %s", args);
		if (r.status == 0 || !r.err || !strstr(r.err, "lock"))
			break;
		tenv_run_free(&r);
		sleep(1);
	}
	cr_assert_eq(r.status, 0, "%s: dpkg %s: got exit %d, stderr:\n%s", what, args, r.status,
		     r.err ? r.err : "");
	tenv_run_free(&r);
}

Test(package, deb)
{
	char debdir[128], deb[256], *out;
	const char *pki = getenv("MAILEDGE_PKI");
	struct run r;

	check_build_depends();

	out = must("dpkg-query", "dpkg-query -W -f='${Status}' mailedge 2>/dev/null || true%s", "",
		   "");
	cr_assert(!strstr(out, "installed"),
		  "got the mailedge package already on this machine (%s); the test installs and "
		  "purges it, remove it first",
		  out);

	snprintf(debdir, sizeof(debdir), "%s/deb", tmpdir);
	must("make deb", "make -s -C '%s' deb DEB_DIR=%s >/dev/null 2>&1", tenv_src(), debdir);
	out = must("find deb", "ls %s/mailedge_*.deb%s", debdir, "");
	cr_assert(out[0], "make deb made no .deb in %s", debdir);
	snprintf(deb, sizeof(deb), "%.*s", (int)strcspn(out, "\n"), out);

	/* Contents. */
	out = must("dpkg-deb -c", "dpkg-deb -c %s | awk '{print $6}'%s", deb, "");
	{
		static const char *const want[] = {
			"./usr/sbin/mailedge-loader",
			"./usr/sbin/mailedge-listsync",
			"./usr/sbin/mailedge-proxy",
			"./lib/systemd/system/mailedge-proxy.service",
			"./lib/systemd/system/mailedge-listsync.service",
			"./lib/systemd/system/mailedge-listsync.timer",
			"./lib/systemd/system/mailedge-loader@.service",
			"./etc/mailedge/proxy.conf",
			"./etc/mailedge/listsync.conf",
			"./etc/default/mailedge-loader",
			"./usr/share/doc/mailedge/examples/proxy.conf",
			"./usr/share/doc/mailedge/examples/listsync.conf",
			"./usr/share/doc/mailedge/copyright",
			"./usr/share/man/man8/mailedge-loader.8.gz",
			"./usr/share/man/man8/mailedge-listsync.8.gz",
			"./usr/share/man/man8/mailedge-proxy.8.gz",
			"./usr/share/man/man5/mailedge-proxy.conf.5.gz",
			"./usr/share/man/man5/mailedge-listsync.conf.5.gz",
			"./usr/share/bash-completion/completions/mailedge-loader",
			"./usr/share/bash-completion/completions/mailedge-listsync",
			"./usr/share/bash-completion/completions/mailedge-proxy",
		};
		size_t i;

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			char needle[256];

			snprintf(needle, sizeof(needle), "%s\n", want[i]);
			cr_expect(strstr(out, needle), "package: got no %s; contents:\n%s", want[i],
				  out);
		}
	}
	out = must("conffiles", "dpkg-deb -f %s Package >/dev/null && dpkg-deb --ctrl-tarfile %s | "
				"tar -xOf - ./conffiles",
		   deb, deb);
	cr_expect(strstr(out, "/etc/mailedge/proxy.conf\n") &&
			  strstr(out, "/etc/mailedge/listsync.conf\n") &&
			  strstr(out, "/etc/default/mailedge-loader\n"),
		  "got conffiles\n%s\nwant the /etc/mailedge files and /etc/default/mailedge-loader",
		  out);

	/* lintian: no errors, no warnings that are not overridden with a reason. */
	tenv_run(&r, "lintian %s", deb);
	cr_expect(r.out && !strstr(r.out, "E: ") && !strstr(r.out, "W: "),
		  "lintian: got\n%s%s\nwant no E: or W: tags", r.out ? r.out : "",
		  r.err ? r.err : "");
	tenv_run_free(&r);

	/* Install on this machine. */
	installed_deb = 1;
	{
		char args[300];

		snprintf(args, sizeof(args), "-i %s", deb);
		dpkg("install", args);
	}
	out = must("user", "getent passwd mailedge%s%s", "", "");
	cr_expect(strstr(out, ":/var/lib/mailedge:/usr/sbin/nologin"),
		  "got mailedge user '%s', want a system user without a shell", out);
	must("group", "getent group mailedge%s%s", "", "");

	/* The configuration checks, from /usr/sbin, with the example files as
	 * installed: the proxy's needs the certificates it names. */
	cr_assert_not_null(pki, "got no MAILEDGE_PKI, want the test PKI (tests/run.sh makes it)");
	must("keys",
	     "set -e; cp %1$s/mx-ec.pem /etc/mailedge/mx-ecdsa.pem; "
	     "cp %1$s/mx-ec.key /etc/mailedge/mx-ecdsa.key; cp %1$s/mx-rsa.pem /etc/mailedge/; "
	     "cp %1$s/mx-rsa.key /etc/mailedge/; cp %1$s/root.pem /etc/mailedge/internal-ca.pem%2$s",
	     pki, "");
	out = must("proxy -t", "/usr/sbin/mailedge-proxy -t -c /etc/mailedge/proxy.conf%s%s", "",
		   "");
	cr_expect(strstr(out, "configuration OK"), "proxy -t: got\n%s\nwant 'configuration OK'",
		  out);
	out = must("listsync check",
		   "/usr/sbin/mailedge-listsync -c /etc/mailedge/listsync.conf check%s%s", "", "");
	cr_expect(strstr(out, "valid"), "listsync check: got '%s'", out);
	out = must("loader help", "/usr/sbin/mailedge-loader --help%s%s", "", "");
	cr_expect(strstr(out, "attach"), "loader --help: got '%s'", out);

	/* Man pages open, and the installed units verify with every program and
	 * man page in place. */
	out = must("man -w", "man -w mailedge-loader mailedge-listsync mailedge-proxy "
			     "mailedge-listsync.conf mailedge-proxy.conf%s%s",
		   "", "");
	cr_expect(strstr(out, "/usr/share/man/man8/mailedge-loader.8.gz") &&
			  strstr(out, "/usr/share/man/man5/mailedge-proxy.conf.5.gz"),
		  "man -w: got\n%s", out);
	out = must("man", "MANPAGER=cat man mailedge-proxy.conf 2>/dev/null | head -5%s%s", "", "");
	cr_expect(strstr(out, "NAME"), "man mailedge-proxy.conf: got\n%s", out);
	must("verify installed units",
	     "cd /lib/systemd/system && systemd-analyze verify mailedge-proxy.service "
	     "mailedge-listsync.service mailedge-listsync.timer mailedge-loader@eth0.service%s%s",
	     "", "");

	/* Remove: programs go, conffiles stay. */
	dpkg("remove", "-r mailedge");
	tenv_run(&r, "ls /usr/sbin/mailedge-proxy /lib/systemd/system/mailedge-proxy.service");
	cr_expect_neq(r.status, 0, "after dpkg -r: got files still there:\n%s", r.out);
	tenv_run_free(&r);
	tenv_run(&r, "test -f /etc/mailedge/proxy.conf");
	cr_expect_eq(r.status, 0, "after dpkg -r: got no /etc/mailedge/proxy.conf, want it kept");
	tenv_run_free(&r);

	/* Purge: configuration, state and the user go. */
	for (size_t i = 0; i < sizeof(etc_keys) / sizeof(etc_keys[0]); i++)
		tenv_sh("rm -f /etc/mailedge/%s", etc_keys[i]);
	dpkg("purge", "-P mailedge");
	installed_deb = 0;
	tenv_run(&r, "ls -d /etc/mailedge /etc/default/mailedge-loader /var/lib/mailedge 2>&1; "
		     "getent passwd mailedge; getent group mailedge; dpkg-query -W mailedge 2>&1 | "
		     "grep -v 'no packages found'");
	cr_expect(r.out && !strstr(r.out, "/etc/mailedge\n") && !strstr(r.out, "mailedge:x") &&
			  !strstr(r.out, "mailedge-loader\n") && !strstr(r.out, "/var/lib/mailedge\n") &&
			  !strstr(r.out, "mailedge\t") && !strstr(r.out, "mailedge:"),
		  "after dpkg -P: got left over\n%s", r.out ? r.out : "");
	tenv_run_free(&r);
}

/* ================= the units' capability sets are enough ================= */

static char cap_ns[32];

static void caps_setup(void)
{
	setup();
	snprintf(cap_ns, sizeof(cap_ns), "met%d", (int)getpid());
	tenv_pin_dir_remove();
}

static void caps_teardown(void)
{
	tenv_sh("ip netns del %s 2>/dev/null || true", cap_ns);
	tenv_pin_dir_remove();
	teardown();
}

/* setpriv's --bounding-set argument for a unit's CapabilityBoundingSet=:
 * a root process exec'd with it has exactly those capabilities, as under
 * systemd. */
static char *bounding_set(const char *unit)
{
	char *set = must("caps",
			 "printf -- '-all,%%s' \"$(sed -n 's/^CapabilityBoundingSet=//p' '%s/%s' | "
			 "tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')\"",
			 tenv_src(), unit);

	cr_assert(strstr(set, "+bpf"), "got bounding set '%s' from %s, want CAP_BPF in it", set,
		  unit);
	return set;
}

/*
 * The loader attaches a fresh filter (maps created, program verified, XDP link
 * made) with only the loader unit's capabilities, inside a namespace of the
 * test's own; list sync then loads a list into those maps with only its
 * unit's. Without CAP_SYS_ADMIN the same attach is refused, so the check has
 * teeth.
 */
Test(package, unit_capabilities, .init = caps_setup, .fini = caps_teardown)
{
	char *lset = bounding_set("loader/systemd/mailedge-loader@.service");
	char *sset = bounding_set("listsync/systemd/mailedge-listsync.service");
	const char *sizes = "--hosts 16 --white-hosts 16 --subnets 16 --rate-entries 16 "
			    "--ban-entries 16";
	struct run r;

	cr_assert_eq(tenv_sh("ip netns add %s && ip -n %s link add mea type veth peer name meb && "
			     "ip -n %s link set mea up && ip -n %s link set meb up",
			     cap_ns, cap_ns, cap_ns, cap_ns),
		     0, "cannot make namespace %s", cap_ns);

	tenv_run(&r,
		 "nsenter --net=/var/run/netns/%s setpriv --no-new-privs --bounding-set=-all,+bpf,"
		 "+net_admin %s --pin-dir %s attach mea %s",
		 cap_ns, tenv_bin("mailedge-loader"), tenv_pin_dir(), sizes);
	cr_expect_neq(r.status, 0, "attach without CAP_SYS_ADMIN: got exit 0, want a refusal");
	tenv_run_free(&r);
	tenv_pin_dir_remove();

	tenv_run(&r,
		 "nsenter --net=/var/run/netns/%s setpriv --no-new-privs --bounding-set=%s %s "
		 "--pin-dir %s attach mea %s",
		 cap_ns, lset, tenv_bin("mailedge-loader"), tenv_pin_dir(), sizes);
	cr_assert_eq(r.status, 0, "attach with the unit's %s: got exit %d, stderr:\n%s", lset,
		     r.status, r.err ? r.err : "");
	tenv_run_free(&r);

	tenv_run(&r,
		 "set -e; d=%s; mkdir -p $d/state; printf '192.0.2.77\\n198.51.100.0/24\\n' >$d/l.txt; "
		 ": >$d/empty.conf; setpriv --no-new-privs --bounding-set=%s %s -c $d/empty.conf "
		 "--pin-dir %s --state-dir $d/state run --source black:plain:file://$d/l.txt",
		 tmpdir, sset, tenv_bin("mailedge-listsync"), tenv_pin_dir());
	cr_assert_eq(r.status, 0, "list sync with the unit's %s: got exit %d, stderr:\n%s", sset,
		     r.status, r.err ? r.err : "");
	tenv_run_free(&r);

	tenv_run(&r, "%s --pin-dir %s list show --synced", tenv_bin("mailedge-loader"),
		 tenv_pin_dir());
	cr_expect(r.out && strstr(r.out, "198.51.100.0/24"),
		  "got synced lists\n%s\nwant 198.51.100.0/24 from the list sync run",
		  r.out ? r.out : "");
	tenv_run_free(&r);

	tenv_run(&r,
		 "nsenter --net=/var/run/netns/%s setpriv --no-new-privs --bounding-set=%s %s "
		 "--pin-dir %s detach mea",
		 cap_ns, lset, tenv_bin("mailedge-loader"), tenv_pin_dir());
	cr_expect_eq(r.status, 0, "detach with the unit's %s: got exit %d, stderr:\n%s", lset,
		     r.status, r.err ? r.err : "");
	tenv_run_free(&r);
}
