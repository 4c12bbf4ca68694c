# mailedge - top-level Makefile.
#
#   make            build the programs (build/rel/)
#   make deps       install build and test dependencies (Debian packages)
#   make test       install missing deps, build with ASan+UBSan (build/san/), run all tests
#   make bench      run the benchmarks; results in bench-results/
#   make demo       build the namespace lab and show the gateway at work
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make format     clang-format the sources
#   make install    binaries, units, man pages, completion, example configuration
#                   (PREFIX, DESTDIR); make uninstall removes them, never /etc
#   make deb        a Debian package in build/deb/
#   V=1             show full commands
#
# One Makefile for the whole tree (no recursion), so dependencies between the
# BPF skeleton, the common library and the programs are all visible to make.

.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-7s %s\n' "$(1)" "$(2)";
endif

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

# SAN=1: the test build, with AddressSanitizer and UndefinedBehaviorSanitizer.
SAN ?= 0
ifeq ($(SAN),1)
OUT      := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
OUT      := build/rel
SANFLAGS :=
endif
BPFOUT := build/bpf

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wpointer-arith
CFLAGS   ?= -O2 -g
# The version --version prints: the newest entry of debian/changelog.
VERSION  := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
XCFLAGS  := $(CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -DMAILEDGE_VERSION='"$(VERSION)"' \
	-Icommon -I$(BPFOUT) $(SANFLAGS) \
	-MMD -MP
XLDFLAGS := $(LDFLAGS) $(SANFLAGS)
LIBS_BPF := -lbpf -lelf -lz
LIBS_JSON := -ljson-c

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Icommon -I/usr/include/$(MULTIARCH)

PROGS := $(OUT)/mailedge-loader $(OUT)/mailedge-listsync $(OUT)/mailedge-proxy

all: $(PROGS)

# ---- BPF: foo.bpf.c -> build/bpf/foo.bpf.o -> build/bpf/foo.skel.h ----
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.h) common/mailedge_abi.h common/table.h
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BPFOUT)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BPFOUT)/%.skel.h,$(BPF_SRCS))

define bpf_compile
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
endef

$(BPFOUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BPFOUT)
	$(bpf_compile)

# BPF programs used only by the benchmarks, tests and demo.
$(BPFOUT)/%.bpf.o: tests/bench/%.bpf.c | $(BPFOUT)
	$(bpf_compile)

$(BPFOUT)/%.bpf.o: tests/lib/%.bpf.c | $(BPFOUT)
	$(bpf_compile)

LAB_BPF := $(BPFOUT)/xdp_pass.bpf.o

$(BPFOUT)/%.skel.h: $(BPFOUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(basename $(basename $(notdir $<)))_bpf > $@

# ---- common library ----
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(patsubst %.c,$(OUT)/%.o,$(COMMON_SRCS))
LIBCOMMON   := $(OUT)/libmailedge.a

$(OUT)/common/edge_load.o: $(SKELS)

# Archived afresh: "ar r" never drops a member, so a file moved out of common/
# would otherwise stay in the library and clash with its new home.
$(LIBCOMMON): $(COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# ---- programs ----
LOADER_OBJS := $(patsubst %.c,$(OUT)/%.o,$(wildcard loader/*.c))

$(OUT)/mailedge-loader: $(LOADER_OBJS) $(LIBCOMMON)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ $(LIBS_BPF) $(LIBS_JSON)

LISTSYNC_OBJS := $(patsubst %.c,$(OUT)/%.o,$(wildcard listsync/*.c))
# What the tests link of each program: everything but its main().
LISTSYNC_LIB := $(filter-out $(OUT)/listsync/main.o,$(LISTSYNC_OBJS))
LIBS_LISTSYNC := -lcurl -lconfig

$(OUT)/mailedge-listsync: $(LISTSYNC_OBJS) $(LIBCOMMON)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ $(LIBS_BPF) $(LIBS_JSON) $(LIBS_LISTSYNC)

PROXY_OBJS := $(patsubst %.c,$(OUT)/%.o,$(wildcard proxy/*.c))
PROXY_LIB  := $(filter-out $(OUT)/proxy/main.o,$(PROXY_OBJS))
LIBS_PROXY := -lev -lssl -lcrypto -lconfig -lcares -lpthread

$(OUT)/mailedge-proxy: $(PROXY_OBJS) $(LIBCOMMON)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ $(LIBS_PROXY) $(LIBS_BPF) $(LIBS_JSON)

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(XCFLAGS) -c $< -o $@

$(BPFOUT):
	@mkdir -p $@

# ---- tests ----
TEST_SRCS := $(wildcard tests/*.c tests/lib/*.c)
TEST_OBJS := $(patsubst %.c,$(OUT)/%.o,$(TEST_SRCS))
TESTS_BIN := $(OUT)/mailedge-tests

$(TESTS_BIN): $(TEST_OBJS) $(LISTSYNC_LIB) $(PROXY_LIB) $(LIBCOMMON)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ -lcriterion $(LIBS_BPF) $(LIBS_JSON) $(LIBS_LISTSYNC) \
		$(LIBS_PROXY)

tests: $(PROGS) $(TESTS_BIN) $(LAB_BPF)

# One suite alone, for working on it: make SAN=1 build/san/t/test_foo
TEST_LIB_OBJS := $(patsubst %.c,$(OUT)/%.o,$(wildcard tests/lib/*.c))
$(OUT)/t/%: $(OUT)/tests/%.o $(TEST_LIB_OBJS) $(LISTSYNC_LIB) $(PROXY_LIB) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ -lcriterion $(LIBS_BPF) $(LIBS_JSON) $(LIBS_LISTSYNC) \
		$(LIBS_PROXY)

# ---- benchmarks ----
BENCH_SKELS := $(patsubst tests/bench/%.bpf.c,$(BPFOUT)/%.skel.h,$(wildcard tests/bench/*.bpf.c))
BENCH_BINS  := $(OUT)/bench-xdp $(OUT)/smtpload

BENCH_XDP_OBJS := $(patsubst %.c,$(OUT)/%.o,$(wildcard tests/bench/bench_*.c))

$(BENCH_XDP_OBJS): $(BENCH_SKELS)

# The list-sync objects: progrun and rows load their lists as list sync does.
$(OUT)/bench-xdp: $(BENCH_XDP_OBJS) $(OUT)/tests/lib/pkt.o $(OUT)/tests/lib/rowfix.o \
		$(LISTSYNC_LIB) $(LIBCOMMON)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ $(LIBS_BPF) $(LIBS_JSON) $(LIBS_LISTSYNC)

$(OUT)/smtpload: $(OUT)/tests/bench/smtpload.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XLDFLAGS) -o $@ $^ -lssl -lcrypto -lpthread

benchbins: $(BENCH_BINS) $(LAB_BPF)

# ---- fuzzing (clang libFuzzer, always with ASan+UBSan) ----
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_FLAGS := -g -O1 -std=gnu11 $(WARN) -D_GNU_SOURCE -Icommon \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
# Extra sources a fuzz target needs beyond common/.
LISTFMT_SRCS := $(wildcard listsync/listfmt*.c)
FUZZ_SRCS_fuzz_listsync_config := listsync/config.c $(LISTFMT_SRCS)
FUZZ_SRCS_fuzz_dshield         := $(LISTFMT_SRCS)
FUZZ_SRCS_fuzz_ipset_save      := $(LISTFMT_SRCS)
FUZZ_SRCS_fuzz_spamhaus_json   := $(LISTFMT_SRCS)
FUZZ_SRCS_fuzz_spamhaus_text   := $(LISTFMT_SRCS)
FUZZ_SRCS_fuzz_keys            := listsync/copykeys.c listsync/radix.c
FUZZ_SRCS_fuzz_smtp_command    := proxy/smtp_parse.c
FUZZ_SRCS_fuzz_smtp_data       := proxy/smtp_data.c proxy/buf.c
FUZZ_SRCS_fuzz_passclient      := proxy/passclient.c
FUZZ_SRCS_fuzz_smtp_reply      := proxy/reply.c proxy/buf.c proxy/passclient.c
FUZZ_SRCS_fuzz_dict            := proxy/dict.c
FUZZ_SRCS_fuzz_proxy_config    := proxy/config.c proxy/config_listen.c proxy/config_pool.c \
	proxy/config_tls.c proxy/material.c proxy/pool.c proxy/passclient.c proxy/smtp_parse.c \
	proxy/tls.c proxy/tls_check.c proxy/tls_tickets.c proxy/tls_client.c proxy/buf.c proxy/io.c \
	proxy/config_policy.c proxy/policy.c proxy/config_dnsbl.c proxy/dnsbl_spec.c \
	proxy/config_dict.c proxy/dict.c
FUZZ_LIBS_fuzz_proxy_config    := -lssl -lcrypto -lev -lpthread
FUZZ_SRCS_fuzz_dnsbl_spec      := proxy/dnsbl_spec.c
FUZZ_SRCS_fuzz_dns_a_reply     := proxy/dns.c
FUZZ_LIBS_fuzz_dns_a_reply     := -lcares -lev -lpthread

build/fuzz/%: tests/fuzz/%.c $(COMMON_SRCS) $(wildcard common/*.h listsync/*.c listsync/*.h proxy/*.c proxy/*.h) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -I$(BPFOUT) -Ilistsync -Iproxy -o $@ $< \
		$(filter-out common/edge_load.c,$(COMMON_SRCS)) $(FUZZ_SRCS_$*) \
		$(LIBS_BPF) $(LIBS_JSON) -lconfig $(FUZZ_LIBS_$*)

fuzzers: $(FUZZ_BINS)

fuzz: fuzzers
	$(Q)for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
		echo "fuzzing $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-$$n tests/fuzz/corpus/$$n \
			|| exit 1; \
	done

# ---- man pages (scdoc sources in man/) ----
MAN_SRCS  := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(OUT)/man/%,$(MAN_SRCS))

$(OUT)/man/%: man/%.scd
	@mkdir -p $(@D)
	$(call msg,SCDOC,$@)
	@# Written aside and renamed: two makes at once (tests) never see half a page.
	$(Q)scdoc < $< > $@.$$$$ && mv -f $@.$$$$ $@

man: $(MAN_PAGES)

# ---- install ----
# Source installs go under /usr/local (units in /usr/local/lib/systemd/system,
# which systemd reads); the Debian package sets PREFIX=/usr, SBINDIR=/usr/sbin
# and UNITDIR=/lib/systemd/system. An admin's files in /etc are never
# overwritten, and uninstall never touches /etc.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/mailedge
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# Every unit, whichever program's folder it is in.
UNITS      := $(wildcard */systemd/*.service */systemd/*.timer)
COMPLETIONS := $(wildcard contrib/bash-completion/mailedge-*)
EXAMPLES   := listsync/examples/listsync.conf proxy/examples/proxy.conf \
	loader/examples/mailedge-loader.default
# example file -> its place under /etc
ETC_FILES  := listsync/examples/listsync.conf:$(SYSCONFDIR)/mailedge/listsync.conf \
	proxy/examples/proxy.conf:$(SYSCONFDIR)/mailedge/proxy.conf \
	loader/examples/mailedge-loader.default:$(SYSCONFDIR)/default/mailedge-loader

install: all man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(SYSCONFDIR)/mailedge $(DESTDIR)$(SYSCONFDIR)/default
	install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(COMPLETIONS) $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/
	@# Never overwrite an admin's configuration.
	for f in $(ETC_FILES); do \
		test -e $(DESTDIR)$${f#*:} || install -m 0644 $${f%%:*} $(DESTDIR)$${f#*:} || exit 1; \
	done

# Removes what install put outside /etc; the configuration stays.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(PROGS)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(notdir $(COMPLETIONS)))
	rm -rf $(DESTDIR)$(DOCDIR)

# ---- Debian package ----
# dpkg-buildpackage runs on a copy of the tracked and untracked (not ignored)
# sources in $(DEB_DIR)/src, so the working tree is never dirtied; the .deb
# lands in $(DEB_DIR). The version is debian/changelog's.
DEB_DIR ?= build/deb

deb:
	rm -rf $(DEB_DIR)/src && mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		tar --null -T - -cf - | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$$(nproc) $$DEB_BUILD_OPTIONS" \
		dpkg-buildpackage -b -us -uc
	@ls $(DEB_DIR)/*.deb

# ---- top-level jobs ----
# The jobs build with every core unless make was already given -j (whose
# jobserver the sub-make then shares): CI runs a bare "make test".
PAR = $(if $(findstring j,$(filter-out --%,$(MAKEFLAGS))$(findstring --jobserver,$(MAKEFLAGS))),,-j$(shell nproc))

deps:
	$(Q)bash scripts/deps.sh install

test:
	$(Q)bash scripts/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory $(PAR) SAN=1 tests
	$(Q)$(MAKE) --no-print-directory $(PAR) fuzzers
	$(Q)bash tests/run.sh build/san

bench:
	$(Q)bash scripts/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory $(PAR) all benchbins
	$(Q)bash tests/bench/run.sh build/rel

demo:
	$(Q)bash scripts/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory $(PAR) all $(LAB_BPF)
	$(Q)bash scripts/demo.sh build/rel

format:
	$(Q)clang-format -i $(shell git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf build

.PHONY: all tests benchbins fuzzers fuzz deps test bench demo format clean install \
	uninstall man deb

-include $(shell find build -name '*.d' 2>/dev/null)
