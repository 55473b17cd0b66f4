# `make bench`: the benchmarks of docs/bench.md's budgets (bench/run.sh).
# Included by the Makefile. Figures only: a slow result never fails the
# build, and none of this is part of `make test`.
BENCH_BPF := $(patsubst bench/bpf/%.bpf.c,$(BENCH_BUILD)/%.skel.h,$(wildcard bench/bpf/*.bpf.c))
BENCH_SRCS := $(wildcard bench/*.c)
# pmbench loads the observer the way watch does (user/observer.c), and
# builds frames with the tests' frame builder.
BENCH_USER_SRCS := tests/frames.c

.PHONY: bench-build

bench-build: $(BUILD)/protomix $(BENCH_BUILD)/pmbench

$(BENCH_BUILD):
	mkdir -p $@

$(BENCH_BUILD)/%.tmp.bpf.o: bench/bpf/%.bpf.c $(VMLINUX) | $(BENCH_BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_BUILD)/%.bpf.o: $(BENCH_BUILD)/%.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BENCH_BUILD)/%.skel.h: $(BENCH_BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name bench_$* > $@

$(BENCH_BUILD)/pmbench: $(BENCH_SRCS) bench/bench.h $(BENCH_BPF) $(SKELS) \
		$(BENCH_USER_SRCS) $(USER_LIB_OBJS) $(USER_HDRS) tests/frames.h | $(BENCH_BUILD)
	$(CC) $(CFLAGS) -I$(BENCH_BUILD) -Ibench -Itests $(BENCH_SRCS) \
		$(BENCH_USER_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)
