# custscore: a thin wrapper over meson.
#   make demo    install what is missing, build, run the demo on bundled data
#   make check   install what is missing, build, run every test (plain, ASan+UBSan, valgrind, Python)
#   make bench   build and run the benchmark programs (figures on stdout)
#   make install PREFIX=/usr/local

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
MESON_OPTS ?=
# Debian packages the build and the tests need (checked with dpkg, installed when missing).
DEB_PACKAGES = meson ninja-build pkg-config gcc libsqlite3-dev check python3 python3-pytest valgrind python3-numpy python3-pandas

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build demo check test test-asan test-valgrind test-python bench install clean format

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
	meson setup $(BUILD) $(MESON_OPTS)

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
	  meson test -C $(ASAN_BUILD) --print-errorlogs --no-suite bench --no-suite abi

test-valgrind: build
	CK_FORK=no meson test -C $(BUILD) --setup=valgrind --print-errorlogs --no-suite bench --no-suite abi

check: build
	$(MAKE) test
	$(MAKE) test-asan
	$(MAKE) test-valgrind
	@if [ -d bindings/python/tests ]; then $(MAKE) test-python; fi

# Debian's interpreter: apt installs python3-pytest/numpy/pandas for it (a pyenv
# python3 on PATH would lack them).
PYTHON ?= /usr/bin/python3
test-python: build
	CUSTSCORE_LIBRARY=$(CURDIR)/$(BUILD)/libcustscore.so.0 PYTHONPATH=$(CURDIR)/bindings/python \
	  $(PYTHON) -m pytest -q bindings/python/tests

bench: build
	meson test -C $(BUILD) --benchmark --verbose

install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson install -C $(BUILD)

format:
	clang-format -i include/*.h src/*.c src/*.h src/cli/*.c src/cli/*.h tests/*.c tests/*.h tests/bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
