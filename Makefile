# The commands the README names.  CMake does the work underneath.
#
#   make                    configure and build into build/ (-O2 -g)
#   make demo               build, then run every seed scenario (scripts/demo.sh)
#   make test               install what is missing, then every build's tests (scripts/test-all.sh)
#   make install PREFIX=DIR library, header, sigkit.pc, CMake package, man page (default /usr/local;
#                           DESTDIR is honoured)
#   make bench              the benchmarks (issue 3)
#   make fuzz               the libFuzzer targets, FUZZ_SECONDS (60) each (fuzz/run.sh)
#   make stress             the long adversarial suite: default, tiny-queue, TSan (scripts/stress.sh)
#   make clean              remove every build directory
#
# SK_BUILDS="default asan" make test runs a subset of the builds.

PREFIX ?= /usr/local
JOBS   ?= 2
BUILD  := build
CMAKE  ?= cmake
CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g"

.PHONY: all build demo test install bench fuzz stress clean help

all: build

build:
	$(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS)
	$(CMAKE) --build $(BUILD) -j $(JOBS)

demo: build
	@test -x scripts/demo.sh || { echo "make demo: scripts/demo.sh is missing" >&2; exit 1; }
	scripts/demo.sh $(BUILD)

test:
	scripts/install-deps.sh
	scripts/test-all.sh

# sigkit.pc records the prefix chosen at configure time, so configure with it.
install: build
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX="$(PREFIX)"
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	$(CMAKE) --install $(BUILD) --prefix "$(PREFIX)"

# Benchmarks print figures; they are not timed tests (issue 3: scripts/bench.sh
# builds bench/ into build-bench/ against build/ and prints one table).
bench: build
	@if [ -x scripts/bench.sh ]; then scripts/bench.sh $(BUILD); \
	else echo "make bench: the benchmarks come with issue 3; nothing to run yet"; fi

# libFuzzer (clang) on the name, /proc and command-line parsers; corpus in fuzz/corpus/.
FUZZ_SECONDS ?= 60
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Floods, races, a SIGCHLD storm and resource faults at the issue's sizes
# (SK_STRESS=1), each build in a directory of its own; docs/reliability.md.
stress:
	scripts/stress.sh

clean:
	rm -rf build-stress build-stress-tiny build-stress-tsan build-fuzz build build-asan build-tsan build-portable build-tinyqueue build-valgrind build-bench

help:
	@sed -n '2,14s/^# \{0,1\}//p' Makefile
