# report_test: the watch's interval report (user/report.c), its top N
# against a full sort. Links every user object but main.o.
REPORT_TEST_SRCS := tests/report_test.c tests/check.c

$(TEST_BUILD)/report_test: $(REPORT_TEST_SRCS) $(USER_LIB_OBJS) $(USER_HDRS) \
		tests/check.h $(SKELS) | $(TEST_BUILD)
	$(CC) $(TEST_CFLAGS) $(REPORT_TEST_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)

tests: $(TEST_BUILD)/report_test
