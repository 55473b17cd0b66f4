# Test programs: built into tests/build/ by `make tests`.
# TEST_BUILD, TEST_CFLAGS, TEST_LDLIBS, FRAMES_*, BENCH_BUILD: the Makefile.
TEST_PROGS := $(TEST_BUILD)/sendframes $(TEST_BUILD)/bpf_parse_test \
	$(TEST_BUILD)/table_test $(TEST_BUILD)/clock_test

.PHONY: tests
tests: $(BUILD)/protomix $(TEST_PROGS)

$(TEST_BUILD):
	mkdir -p $@

# sendframes IFACE CASE COUNT: the cases on the wire (AF_PACKET).
$(TEST_BUILD)/sendframes: tests/sendframes.c $(FRAMES_SRCS) $(FRAMES_HDRS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/sendframes.c $(FRAMES_SRCS) -o $@ $(FRAMES_LDLIBS)

# Every case through pm_xdp and pm_tc_ingress (BPF_PROG_TEST_RUN).
# tests/check.c: the PASS/FAIL line of a check, for the C tests.
CHECK_SRCS := tests/check.c user/maps.c
CHECK_HDRS := tests/check.h user/maps.h

$(TEST_BUILD)/bpf_parse_test: tests/bpf_parse_test.c $(FRAMES_SRCS) $(FRAMES_HDRS) \
		$(CHECK_SRCS) $(CHECK_HDRS) $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/bpf_parse_test.c $(FRAMES_SRCS) $(CHECK_SRCS) -o $@ $(TEST_LDLIBS)

# The destination table on both CPUs at once, and its eviction: pm_xdp
# behind bench_tail (bench/bpf/gen.bpf.c, built by bench/bench.mk's rules).
$(TEST_BUILD)/table_test: tests/table_test.c $(FRAMES_SRCS) $(FRAMES_HDRS) \
		$(CHECK_SRCS) $(CHECK_HDRS) user/util.c user/util.h $(SKELS) $(BENCH_BUILD)/gen.skel.h | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) -I$(BENCH_BUILD) tests/table_test.c $(FRAMES_SRCS) $(CHECK_SRCS) \
		user/util.c -o $@ $(TEST_LDLIBS) -lpthread

# user/util.c's conversion of monotonic instants to wall-clock time.
$(TEST_BUILD)/clock_test: tests/clock_test.c user/util.c user/util.h $(CHECK_SRCS) $(CHECK_HDRS) $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/clock_test.c user/util.c $(CHECK_SRCS) -o $@ $(TEST_LDLIBS)

# evidence_cases OUT.pcap SNAP: the frames of tests/evidence_test.sh and
# the decoder's line for each (compared with tcpdump's by the script).
# The decoder: user/evidence.c and its IPsec, tunnel and carrier printers.
EVIDENCE_SRCS := user/evidence.c user/evidence_tunnel.c
EVIDENCE_HDRS := user/evidence.h user/evidence_dec.h
$(TEST_BUILD)/evidence_cases: tests/evidence_cases.c $(EVIDENCE_SRCS) $(EVIDENCE_HDRS) \
		$(FRAMES_SRCS) $(FRAMES_HDRS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) tests/evidence_cases.c $(EVIDENCE_SRCS) $(FRAMES_SRCS) -o $@ \
		-lpcap $(FRAMES_LDLIBS)

tests: $(TEST_BUILD)/evidence_cases
