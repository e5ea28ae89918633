# custscore: a thin wrapper over meson.
#   make demo    install what is missing, build, run the demo on bundled data
#   make check   install what is missing, build, run every test (plain, ASan+UBSan, valgrind, Python)
#   make bench   build and run the benchmark programs (figures on stdout)
#   make install PREFIX=/usr/local

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
MESON_OPTS ?=
# Reliability (docs/reliability.md): the plain build is hardened; fault
# injection and fuzzing get their own build directories.
HARDEN_CFLAGS ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong
FAULT_BUILD   ?= build-faults
FUZZ_BUILD    ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_PACKAGES  = clang libclang-rt-dev
ABI_PACKAGES   = abigail-tools
# Debian packages the build and the tests need (checked with dpkg, installed when missing).
DEB_PACKAGES = meson ninja-build pkg-config gcc libsqlite3-dev check python3 python3-pytest valgrind python3-numpy python3-pandas chromium cppcheck clang-tidy

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build demo check test test-asan test-valgrind test-python bench install clean format \
	test-faults lint lint-deep fuzz abi-baseline abi-check

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dc_args="$(HARDEN_CFLAGS)" $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	rm -f $(BUILD)/demo.db $(BUILD)/demo.db-wal $(BUILD)/demo.db-shm
	cd $(BUILD) && ./src/cli/custscore --db demo.db demo

test: build
	meson test -C $(BUILD) --print-errorlogs --no-suite bench

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false $(MESON_OPTS)

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --no-suite bench --no-suite abi --no-suite slow

test-valgrind: build
	CK_FORK=no meson test -C $(BUILD) --setup=valgrind --print-errorlogs --no-suite bench --no-suite abi --no-suite slow

check: build
	$(MAKE) test
	$(MAKE) test-asan
	$(MAKE) test-valgrind
	$(MAKE) test-faults
	$(MAKE) lint
	@if [ -d bindings/python/tests ]; then $(MAKE) test-python; fi

# Debian's interpreter: apt installs python3-pytest/numpy/pandas for it (a pyenv
# python3 on PATH would lack them).
PYTHON ?= /usr/bin/python3
test-python: build
	CUSTSCORE_LIBRARY=$(CURDIR)/$(BUILD)/libcustscore.so.0 PYTHONPATH=$(CURDIR)/bindings/python \
	  $(PYTHON) -m pytest -q bindings/python/tests

# Allocation failures (cs_fault_reset) and the other faults of tests/test_faults.c
# in a -Dfault_injection=true build under ASan: every N-th allocation fails in turn.
$(FAULT_BUILD)/build.ninja:
	meson setup $(FAULT_BUILD) -Dfault_injection=true -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dbenchmarks=false -Dcli=false $(MESON_OPTS)

test-faults: deps $(FAULT_BUILD)/build.ninja
	ninja -C $(FAULT_BUILD) tests/test_faults
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  TMPDIR=$$([ -w /dev/shm ] && echo /dev/shm || echo $${TMPDIR:-/tmp}) \
	  meson test -C $(FAULT_BUILD) --no-rebuild --print-errorlogs --suite faults

# cppcheck and clang-tidy with explained suppressions (tests/lint/); new findings fail.
lint: build
	tests/lint/run.sh $(BUILD)

lint-deep: build
	tests/lint/run.sh $(BUILD) --deep

# libFuzzer targets (clang), FUZZ_SECONDS each: make fuzz FUZZ_SECONDS=600
fuzz:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="meson ninja-build pkg-config libsqlite3-dev check $(FUZZ_PACKAGES)"
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run.sh

# ABI against the stored baseline (abi/, abidiff); not part of check while the
# API moves: the baseline is regenerated at each release (docs/reliability.md).
abi-baseline: build
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(ABI_PACKAGES)"
	abi/abi.sh baseline $(BUILD)

abi-check: build
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(ABI_PACKAGES)"
	abi/abi.sh check $(BUILD)

bench: build
	meson test -C $(BUILD) --benchmark --verbose

install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson install -C $(BUILD)

format:
	clang-format -i include/*.h src/*.c src/*.h src/cli/*.c src/cli/*.h tests/*.c tests/*.h tests/bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FAULT_BUILD) $(FUZZ_BUILD)
