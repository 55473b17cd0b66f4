# export_test: the Markdown, CSV and pcap exports (user/export.c,
# user/export_alerts.c) of a snapshot whose evidence comes from the frame
# builder. Links every user object but main.o (USER_LIB_OBJS, the
# Makefile's), with libpcap.
EXPORT_TEST_SRCS := tests/export_test.c tests/frames.c

$(TEST_BUILD)/export_test: $(EXPORT_TEST_SRCS) $(USER_LIB_OBJS) $(USER_HDRS) \
		tests/frames.h $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) $(EXPORT_TEST_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)

tests: $(TEST_BUILD)/export_test
