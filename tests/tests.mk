# Test programs: built into tests/build/ by `make tests`.
TEST_BUILD := tests/build
TEST_CFLAGS := $(CFLAGS) -Itests
.PHONY: tests
tests: $(BUILD)/protomix
