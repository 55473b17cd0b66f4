# The foreign XDP program of tests/lifecycle_test.sh ("another program
# holds XDP"), built with the observer's own BPF flags.

$(TEST_BUILD)/xdp_other.bpf.o: tests/bpf/xdp_other.bpf.c $(VMLINUX)
	mkdir -p $(TEST_BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

tests: $(TEST_BUILD)/xdp_other.bpf.o
