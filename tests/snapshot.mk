# snapshot_stream_test: user/snapshot.c's streamed snapshot against
# snapshot_json, byte for byte. Links every user source but main.c.
# Included by the Makefile after tests/tests.mk (it uses TEST_BUILD,
# TEST_CFLAGS, USER_SRCS, LDLIBS).
SNAPSHOT_STREAM_TEST_SRCS := tests/snapshot_stream_test.c tests/snapgen.c \
	tests/check.c $(filter-out user/main.c,$(USER_SRCS))

$(TEST_BUILD)/snapshot_stream_test: $(SNAPSHOT_STREAM_TEST_SRCS) $(USER_HDRS) \
		tests/snapgen.h tests/check.h $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) $(SNAPSHOT_STREAM_TEST_SRCS) -o $@ $(LDLIBS)

tests: $(TEST_BUILD)/snapshot_stream_test
