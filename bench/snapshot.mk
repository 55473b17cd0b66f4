# build/bench/snapshot_stream: user/snapshot.c's snapshot_stream with 1,000,000
# destinations (bench/run.sh calls it; bench/snapshot_big.sh is the end-to-end
# figure through a watch). Included by the Makefile after bench/bench.mk.
SNAPSHOT_STREAM_SRCS := bench/snapshot/stream.c tests/snapgen.c \
	$(filter-out user/main.c,$(USER_SRCS))

$(BENCH_BUILD)/snapshot_stream: $(SNAPSHOT_STREAM_SRCS) $(USER_HDRS) tests/snapgen.h \
		$(SKELS) | $(BENCH_BUILD)
	$(CC) $(CFLAGS) -Itests $(SNAPSHOT_STREAM_SRCS) -o $@ $(LDLIBS)

bench-build: $(BENCH_BUILD)/snapshot_stream
