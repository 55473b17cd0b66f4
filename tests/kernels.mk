# make test-kernels [KERNELS="6.1 6.12"] [PATTERN=NAME] [KERNEL_MINUTES=150]:
# the test suite on Debian 12's own kernels, each booted in QEMU/TCG with
# this machine's root shared read-only (tools/kernels/run.sh). Packages
# are fetched with apt-get download into build/kernels/, never installed.
# PATTERN='@(lifecycle|counts)' picks several tests.
KERNELS ?= 6.1 6.12
PATTERN ?=
KERNEL_MINUTES ?= 150

.PHONY: test-kernels
test-kernels:
	./tools/install-deps.sh
	$(MAKE) all tests
	./tools/kernels/run.sh $(foreach k,$(KERNELS),-k $(k)) -t $(KERNEL_MINUTES) '$(PATTERN)'
