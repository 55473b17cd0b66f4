# snapshot_big: snapshot_stream with 1,000,000 destinations (bench/run.sh
# calls it). Included by the Makefile after bench/bench.mk (BENCH_BUILD).
SNAPSHOT_BIG_SRCS := bench/snapshot/snapshot_big.c tests/snapgen.c \
	$(filter-out user/main.c,$(USER_SRCS))

$(BENCH_BUILD)/snapshot_big: $(SNAPSHOT_BIG_SRCS) $(USER_HDRS) tests/snapgen.h \
		$(SKELS) | $(BENCH_BUILD)
	$(CC) $(CFLAGS) -Itests $(SNAPSHOT_BIG_SRCS) -o $@ $(LDLIBS)

bench-build: $(BENCH_BUILD)/snapshot_big
