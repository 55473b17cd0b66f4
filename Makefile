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
LDLIBS := -lbpf -lelf -lz -ljson-c -lpcap -lmicrohttpd -lncursesw

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.bpf.h) $(wildcard headers/*.h)
USER_SRCS := $(wildcard user/*.c)
USER_HDRS := $(wildcard user/*.h) $(wildcard headers/*.h)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

.PHONY: all clean test bench deps vmlinux demo
.SECONDARY:
all: $(BUILD)/protomix

$(BUILD):
	mkdir -p $@

$(BUILD)/%.tmp.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(BUILD)/protomix: $(USER_SRCS) $(USER_HDRS) $(SKELS) | $(BUILD)
	$(CC) $(CFLAGS) $(USER_SRCS) -o $@ $(LDLIBS)

# Regenerate vmlinux.h from the running kernel's BTF.
vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).new
	mv $(VMLINUX).new $(VMLINUX)

deps:
	./tools/install-deps.sh

# The incident in namespaces: installs what is missing, builds, runs.
demo:
	./tools/install-deps.sh
	$(MAKE) all tests
	./tools/demo.sh

clean:
	rm -rf $(BUILD)

include tests/tests.mk
include tests/other.mk
include tests/export.mk
include bench/bench.mk
include tests/replay.mk

test:
	./tools/install-deps.sh
	$(MAKE) all tests
	./tests/run.sh

# Figures against DESIGN.md's budgets; never fails for being slow.
bench: bench-build
	./bench/run.sh
