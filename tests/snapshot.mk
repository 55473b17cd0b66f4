# snapshot_stream_test: user/snapshot_stream.c's streamed snapshot against
# snapshot_json (user/snapshot.c), byte for byte. Links every user object but main.o.
SNAPSHOT_STREAM_TEST_SRCS := tests/snapshot_stream_test.c tests/snapgen.c \
	tests/check.c

$(TEST_BUILD)/snapshot_stream_test: $(SNAPSHOT_STREAM_TEST_SRCS) $(USER_LIB_OBJS) \
		$(USER_HDRS) tests/snapgen.h tests/check.h $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) $(SNAPSHOT_STREAM_TEST_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)

tests: $(TEST_BUILD)/snapshot_stream_test
