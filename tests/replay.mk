# `protomix replay` tests: the corpus generator, capture reading without
# BPF, the BPF fuzzer, and the libFuzzer targets of the userspace parsers.
# TEST_BUILD, TEST_CFLAGS, FRAMES_SRCS, USER_LIB_*: the Makefile's.

# gen_corpus [OPTIONS] OUT: pcap/pcapng captures from tests/frames.c.
$(TEST_BUILD)/gen_corpus: tests/gen_corpus.c $(FRAMES_SRCS) $(FRAMES_HDRS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/gen_corpus.c $(FRAMES_SRCS) -o $@ $(FRAMES_LDLIBS)

# Random and mutated frames through pm_xdp and pm_tc_ingress.
$(TEST_BUILD)/fuzz_bpf_test: tests/fuzz_bpf_test.c $(FRAMES_SRCS) $(FRAMES_HDRS) \
		user/maps.c $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/fuzz_bpf_test.c $(FRAMES_SRCS) user/maps.c -o $@ $(TEST_LDLIBS)

# replay_read REF OTHER...: capture reading without BPF (replay_test.sh
# calls it). Links every user object but main.o.
$(TEST_BUILD)/replay_read: tests/replay_read.c $(USER_LIB_OBJS) $(USER_HDRS) $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/replay_read.c $(USER_LIB_OBJS) -o $@ $(LDLIBS)

tests: $(TEST_BUILD)/gen_corpus $(TEST_BUILD)/fuzz_bpf_test $(TEST_BUILD)/replay_read

# libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined), built
# by tests/fuzz_test.sh through `make fuzz`, not by `make tests`: they need
# clang's fuzzer runtime (libclang-rt-14-dev on Debian 12). Each links
# every user/*.c but main.c, compiled once into $(FUZZ_BUILD)/obj.
FUZZ_CC ?= clang
FUZZ_BUILD := $(TEST_BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	-Iheaders -I$(BUILD) -Iuser -Itests/fuzz $(FIXBUF_CFLAGS)
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_BUILD)/obj/%.o,$(USER_LIB_SRCS))
FUZZ_TARGETS := $(FUZZ_BUILD)/fuzz_rules $(FUZZ_BUILD)/fuzz_pcap $(FUZZ_BUILD)/fuzz_snapshot \
	$(FUZZ_BUILD)/fuzz_export $(FUZZ_BUILD)/fuzz_evidence

.PHONY: fuzz
fuzz: $(FUZZ_TARGETS)

$(FUZZ_BUILD)/obj/%.o: user/%.c $(USER_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@ $(LDLIBS)
