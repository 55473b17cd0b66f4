# export_test: the Markdown, CSV and pcap exports (user/export.c) of a
# snapshot whose evidence comes from the frame builder. Links every user
# source but main.c, with libpcap. Included by the Makefile after
# tests/tests.mk (it uses TEST_BUILD, TEST_CFLAGS, USER_SRCS, LDLIBS).
EXPORT_TEST_SRCS := tests/export_test.c tests/frames.c \
	$(filter-out user/main.c,$(USER_SRCS))

$(TEST_BUILD)/export_test: $(EXPORT_TEST_SRCS) $(USER_HDRS) tests/frames.h \
		$(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) $(EXPORT_TEST_SRCS) -o $@ $(LDLIBS)

tests: $(TEST_BUILD)/export_test
