# build/bench/snapshot_stream: user/snapshot_stream.c's snapshot_stream with
# 1,000,000 destinations (bench/run.sh calls it; bench/snapshot_big.sh is the
# end-to-end figure through a watch). Links every user object but main.o.
SNAPSHOT_STREAM_SRCS := bench/snapshot/stream.c tests/snapgen.c

$(BENCH_BUILD)/snapshot_stream: $(SNAPSHOT_STREAM_SRCS) $(USER_LIB_OBJS) $(USER_HDRS) \
		tests/snapgen.h $(SKELS) | $(BENCH_BUILD)
	$(CC) $(CFLAGS) -Itests $(SNAPSHOT_STREAM_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)

bench-build: $(BENCH_BUILD)/snapshot_stream
