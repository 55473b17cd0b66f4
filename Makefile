# protomix: `make` builds build/protomix, `make test` runs every test,
# `make bench` runs the benchmarks, `make deps` installs what is missing.

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc

VMLINUX := vmlinux/$(ARCH)/vmlinux.h
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -mcpu=v3 \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-Iheaders -Ivmlinux/$(ARCH) -Ibpf
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iheaders -I$(BUILD) -Iuser
# libfixbuf (IPFIX export, user/ipfix.c) brings glib's headers
FIXBUF_CFLAGS := $(shell pkg-config --cflags libfixbuf)
FIXBUF_LIBS := $(shell pkg-config --libs libfixbuf)
CFLAGS += $(FIXBUF_CFLAGS)
LDLIBS := -lbpf -lelf -lz -ljson-c -lpcap -lmicrohttpd -lncursesw $(FIXBUF_LIBS)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.bpf.h) $(wildcard headers/*.h)
USER_SRCS := $(wildcard user/*.c)
USER_HDRS := $(wildcard user/*.h) $(wildcard headers/*.h)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# One object per user/*.c in build/obj/, each with its dependency file
# (-MMD -MP): a header change rebuilds only the objects that include it.
# USER_LIB_*: every user source but main.c, which tests, bench and
# fuzzers link beside their own main().
OBJ_DIR := $(BUILD)/obj
USER_LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
USER_OBJS := $(patsubst user/%.c,$(OBJ_DIR)/%.o,$(USER_SRCS))
USER_LIB_OBJS := $(patsubst user/%.c,$(OBJ_DIR)/%.o,$(USER_LIB_SRCS))

# What the included fragments share, defined here so that none of them
# depends on the order of the includes below.
TEST_BUILD := tests/build
TEST_CFLAGS := $(CFLAGS) -Itests
# The frame builder's classes.c writes class lists as JSON too.
FRAMES_LDLIBS := -ljson-c
TEST_LDLIBS := -lbpf -lelf -lz $(FRAMES_LDLIBS)
BENCH_BUILD := $(BUILD)/bench
# The frame builder and its cases; classes.c names the outcomes.
FRAMES_SRCS := tests/frames.c user/classes.c
FRAMES_HDRS := tests/frames.h user/classes.h headers/protomix.h

.PHONY: all clean test bench deps vmlinux demo install uninstall screenshot static
.SECONDARY:
.DELETE_ON_ERROR:
all: $(BUILD)/protomix

$(BUILD):
	mkdir -p $@

$(BUILD)/%.tmp.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(OBJ_DIR):
	mkdir -p $@

# The skeleton is order-only: the first build makes it before any object;
# afterwards the dependency files name it for the objects that include it.
$(OBJ_DIR)/%.o: user/%.c | $(SKELS) $(OBJ_DIR)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(USER_OBJS:.o=.d)

$(BUILD)/protomix: $(USER_OBJS) | $(BUILD)
	$(CC) $(CFLAGS) $(USER_OBJS) -o $@ $(LDLIBS)

# make static: build/protomix-static, with libbpf, libelf, zlib, json-c,
# libfixbuf and glib linked in (the .a files of Debian 12's -dev packages),
# for distributions whose libbpf is older than 1.1 (Ubuntu 22.04: 0.5) or
# that lack libfixbuf. libpcap, libmicrohttpd and ncurses stay shared: their
# archives need libraries Debian ships no .a of (libsystemd, gnutls's) or,
# for ncurses, the distribution's own terminfo.
STATIC_LDLIBS := -Wl,-Bstatic -lbpf -lelf -lz -ljson-c -lfixbuf -lglib-2.0 \
	-lpcre2-8 -Wl,-Bdynamic -lpcap -lmicrohttpd -lncursesw -lm -pthread
static: $(BUILD)/protomix-static
$(BUILD)/protomix-static: $(USER_SRCS) $(USER_HDRS) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) $(USER_SRCS) -o $@ $(STATIC_LDLIBS)

# Regenerate vmlinux.h from the running kernel's BTF.
vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).new
	mv $(VMLINUX).new $(VMLINUX)

deps:
	./tools/install-deps.sh

# make install [DESTDIR=...] [PREFIX=/usr/local]: the binary, the man page,
# the systemd unit and (if absent) the configuration in /etc/protomix.
PREFIX ?= /usr/local
SBINDIR := $(PREFIX)/sbin
MANDIR := $(PREFIX)/share/man/man8
UNITDIR ?= /etc/systemd/system
install: $(BUILD)/protomix
	install -D -m 0755 $(BUILD)/protomix $(DESTDIR)$(SBINDIR)/protomix
	install -D -m 0644 packaging/protomix.8 $(DESTDIR)$(MANDIR)/protomix.8
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/protomix.service > $(DESTDIR)$(UNITDIR)/protomix.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/protomix.service
	install -d -m 0755 $(DESTDIR)/etc/protomix
	test -e $(DESTDIR)/etc/protomix/protomix.conf || \
		install -m 0644 packaging/protomix.conf $(DESTDIR)/etc/protomix/protomix.conf
	test -e $(DESTDIR)/etc/protomix/rules.conf || \
		install -m 0644 packaging/rules.conf $(DESTDIR)/etc/protomix/rules.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/protomix $(DESTDIR)$(MANDIR)/protomix.8 \
		$(DESTDIR)$(UNITDIR)/protomix.service

# The incident in namespaces: installs what is missing, builds, runs.
demo:
	./tools/install-deps.sh
	$(MAKE) all tests
	./tools/demo.sh

# docs/incident.png: the demo's incident as its HTML report shows it
screenshot:
	$(MAKE) all tests
	./tools/screenshot.sh

clean:
	rm -rf $(BUILD)

# The fragments use only what is defined above and in themselves: any order.
include tests/tests.mk
include tests/other.mk
include tests/export.mk
include bench/bench.mk
include tests/replay.mk
include tests/snapshot.mk
include tests/report.mk
include bench/snapshot.mk
include tests/kernels.mk

test:
	./tools/install-deps.sh
	$(MAKE) all tests
	./tests/run.sh

# Figures against the budgets of docs/bench.md; never fails for being slow.
bench: bench-build
	./bench/run.sh
