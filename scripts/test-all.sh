#!/usr/bin/env bash
# Everything CI checks: the test suite in every build, one after another,
# stopping at the first build that fails.  `make test` runs this.
#
#   scripts/test-all.sh                      all builds
#   SK_BUILDS="default asan" scripts/test-all.sh   a subset, for fast local work
#
# Builds (directory, what it adds):
#   default     build/           gcc -O2 -g, the whole suite
#   asan-ubsan  build-asan/      ASan + UBSan (leak checking on)
#   tsan        build-tsan/      ThreadSanitizer
#   portable    build-portable/  the self-pipe backend forced on Linux (SK_PORTABLE)
#   tinyqueue   build-tinyqueue/ a 4-slot arrival queue, so arrivals are folded (SK_QUEUE_CAP=4)
#   valgrind    build-valgrind/  the core tests (ctest -L core) under valgrind memcheck
#   install     (uses build/)    tests/install/run.sh: install, then build consumers against it
#   fuzz        build-fuzz/      each libFuzzer target for SK_FUZZ_SECONDS (5) (fuzz/run.sh);
#                                one test per target
# Short names: asan, ubsan, tiny, portable, vg.
#
# Environment: SK_ASAN_CC, SK_TSAN_CC pick the sanitizer builds' compiler
# (default clang when present, else gcc); CC the others'.  SK_JOBS (2).
#
# The last line sums every build in ctest's words:
#   make test: 100% tests passed, 0 tests failed out of N (7 builds: default asan-ubsan ...)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

jobs=${SK_JOBS:-2}
all_builds="default asan-ubsan tsan portable tinyqueue valgrind install fuzz"
requested=${SK_BUILDS:-$all_builds}

canonical() {
    case "$1" in
        default|build) echo default ;;
        asan|ubsan|asan-ubsan|asan+ubsan) echo asan-ubsan ;;
        tsan) echo tsan ;;
        portable) echo portable ;;
        tiny|tinyqueue|queue) echo tinyqueue ;;
        valgrind|vg|memcheck) echo valgrind ;;
        install) echo install ;;
        fuzz|fuzzer|libfuzzer) echo fuzz ;;
        *) echo "test-all: unknown build '$1' (known: $all_builds)" >&2; return 1 ;;
    esac
}

builds=()
for b in $requested; do
    c=$(canonical "$b") || exit 2
    case " ${builds[*]-} " in *" $c "*) ;; *) builds+=("$c") ;; esac
done
[ ${#builds[@]} -gt 0 ] || { echo "test-all: SK_BUILDS names no build" >&2; exit 2; }

have() { command -v "$1" >/dev/null 2>&1; }
sanitizer_cc() { if have clang; then echo clang; else echo gcc; fi; }

# Same flags as the top-level Makefile's `make`.
release_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g")
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g")

# ---- results -------------------------------------------------------------
total_tests=0
total_failed=0
done_builds=()
timings=()

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

summary() { # summary [STOPPED_AT]
    local pct=0 passed=$((total_tests - total_failed))
    if [ "$total_tests" -gt 0 ]; then
        pct=$(((passed * 200 + total_tests) / (2 * total_tests))) # rounded, as ctest
        # as ctest: never print 100% when something failed
        if [ "$total_failed" -gt 0 ] && [ "$pct" -eq 100 ]; then pct=99; fi
    fi
    echo
    echo "test-all: times: ${timings[*]-}"
    local what="${#done_builds[@]} builds: ${done_builds[*]-}"
    [ $# -eq 0 ] || what="$what; stopped at $1"
    echo "make test: ${pct}% tests passed, ${total_failed} tests failed out of ${total_tests} (${what})"
}

stop() { # stop BUILD: the build failed (its counts are in already)
    summary "$1"
    exit 1
}

# count_ctest LOG: add the counts of ctest's closing line to the totals.
# Returns 1 if LOG has no such line.
count_ctest() {
    local line n m
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1) || return 1
    n=$(printf '%s\n' "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
    m=$(printf '%s\n' "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/')
    total_failed=$((total_failed + n))
    total_tests=$((total_tests + m))
    last_failed=$n
    last_total=$m
}

# ---- configure / build / ctest --------------------------------------------
# configure DIR CC|"" CMAKE_ARGS...: a directory configured with another
# compiler is started afresh (cmake cannot switch compilers in place).
configure() {
    local dir=$1 cc=$2
    shift 2
    if [ -n "$cc" ] && [ -f "$dir/CMakeCache.txt" ]; then
        local was want
        was=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$dir/CMakeCache.txt")
        want=$(command -v "$cc" || echo "$cc")
        if [ "$(readlink -f "$was" 2>/dev/null)" != "$(readlink -f "$want" 2>/dev/null)" ]; then
            echo "test-all: $dir was configured with $was; starting it afresh with $cc"
            rm -rf "$dir"
        fi
    fi
    if [ -n "$cc" ]; then
        CC=$cc cmake -S . -B "$dir" "$@"
    else
        cmake -S . -B "$dir" "$@"
    fi
}

compile() { cmake --build "$1" -j "$jobs"; }

# run_ctest NAME DIR [CTEST_ARGS...] (prefix the call with `env ...` or
# setarch through the array ctest_prefix)
ctest_prefix=()
run_ctest() {
    local name=$1 dir=$2 log
    shift 2
    log="$dir/test-all-ctest.log"
    set +e
    (cd "$dir" && "${ctest_prefix[@]}" ctest --output-on-failure -j "$jobs" --timeout 120 "$@") \
        </dev/null 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    set -e
    if ! count_ctest "$log"; then
        echo "test-all: $name: ctest printed no summary (no tests found?)" >&2
        return 1
    fi
    if [ "$last_total" -eq 0 ]; then
        echo "test-all: $name: ctest ran no test" >&2
        return 1
    fi
    [ "$rc" -eq 0 ] && [ "$last_failed" -eq 0 ]
}

# TSan maps its shadow at fixed addresses; with a high mmap entropy
# (vm.mmap_rnd_bits > 28) a TSan binary dies with "unexpected memory mapping"
# unless ASLR is off for it.  Probe once with a trivial program.
tsan_prefix() {
    local cc=$1 dir probe
    dir=$(mktemp -d "${TMPDIR:-/tmp}/sigkit-tsan.XXXXXX")
    probe=$dir/probe
    printf '#include <pthread.h>\nstatic int x;\nstatic void *f(void *a) { x++; return a; }\nint main(void) { pthread_t t; pthread_create(&t, 0, f, 0); pthread_join(t, 0); return x - 1; }\n' >"$dir/probe.c"
    if ! "$cc" -fsanitize=thread -g -o "$probe" "$dir/probe.c" -pthread >"$dir/log" 2>&1; then
        echo "test-all: tsan: $cc cannot build a TSan program:" >&2
        cat "$dir/log" >&2
        rm -rf "$dir"
        return 1
    fi
    if "$probe" >"$dir/log" 2>&1; then
        rm -rf "$dir"
        return 0 # nothing to add
    fi
    if grep -q "unexpected memory mapping" "$dir/log" && have setarch &&
       setarch "$(uname -m)" -R "$probe" >/dev/null 2>&1; then
        echo "test-all: tsan: this kernel's mmap randomisation breaks TSan; running ctest under setarch -R" >&2
        echo "setarch $(uname -m) -R"
        rm -rf "$dir"
        return 0
    fi
    echo "test-all: tsan: a trivial TSan program fails here:" >&2
    cat "$dir/log" >&2
    rm -rf "$dir"
    return 1
}

default_built=0
build_default() {
    [ "$default_built" -eq 0 ] || return 0
    configure build "" "${release_flags[@]}" && compile build && default_built=1
}

# ---- the builds ------------------------------------------------------------
run_build() {
    local name=$1 cc
    case "$name" in
    default)
        build_default || return 1
        run_ctest "$name" build
        ;;
    asan-ubsan)
        cc=${SK_ASAN_CC:-$(sanitizer_cc)}
        configure build-asan "$cc" "${sanitizer_flags[@]}" -DSK_SANITIZE=address,undefined &&
            compile build-asan || return 1
        # ASan (TSan too) would install its own SIGSEGV/SIGBUS/SIGFPE handlers, which
        # sigkit rightly reports as foreign; keep dispositions as a plain
        # process has them (a fault still fails the test, without ASan's report).
        ctest_prefix=(env "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0"
                      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
        run_ctest "$name" build-asan
        ;;
    tsan)
        cc=${SK_TSAN_CC:-$(sanitizer_cc)}
        local pre
        pre=$(tsan_prefix "$cc") || return 1
        configure build-tsan "$cc" "${sanitizer_flags[@]}" -DSK_SANITIZE=thread &&
            compile build-tsan || return 1
        # shellcheck disable=SC2206 # pre is "" or "setarch ARCH -R"
        ctest_prefix=($pre env "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0")
        run_ctest "$name" build-tsan
        ;;
    portable)
        configure build-portable "" "${release_flags[@]}" -DSK_PORTABLE=ON &&
            compile build-portable || return 1
        run_ctest "$name" build-portable
        ;;
    tinyqueue)
        configure build-tinyqueue "" "${release_flags[@]}" -DSK_QUEUE_CAP=4 &&
            compile build-tinyqueue || return 1
        run_ctest "$name" build-tinyqueue
        ;;
    valgrind)
        have valgrind || { echo "test-all: valgrind: not installed (scripts/install-deps.sh)" >&2; return 1; }
        configure build-valgrind "" "${release_flags[@]}" -DSK_VALGRIND=ON &&
            compile build-valgrind || return 1
        run_ctest "$name" build-valgrind -L core
        ;;
    install)
        build_default || return 1
        # One test in the totals: it passes whole or fails.
        total_tests=$((total_tests + 1))
        if tests/install/run.sh build </dev/null; then
            echo "test-all: install: passed (counted as 1 test)"
        else
            total_failed=$((total_failed + 1))
            echo "test-all: install: FAILED (counted as 1 test)" >&2
            return 1
        fi
        ;;
    fuzz)
        # A few seconds per target: enough to replay the corpus and catch a
        # regression; `make fuzz` runs longer.  One test per target.
        local t failed=0
        for t in $(fuzz/run.sh --list); do
            total_tests=$((total_tests + 1))
            if ! fuzz/run.sh "${SK_FUZZ_SECONDS:-5}" "$t" </dev/null; then
                total_failed=$((total_failed + 1))
                failed=1
            fi
        done
        [ "$failed" -eq 0 ]
        ;;
    esac
}

start_all=$(now)
for b in "${builds[@]}"; do
    echo
    echo "==================== test-all: $b ===================="
    t0=$(now)
    ctest_prefix=()
    if run_build "$b"; then
        done_builds+=("$b")
        timings+=("$b=$(elapsed "$t0")s")
    else
        done_builds+=("$b")
        timings+=("$b=$(elapsed "$t0")s(FAILED)")
        echo "test-all: build '$b' failed; stopping" >&2
        stop "$b"
    fi
done
timings+=("total=$(elapsed "$start_all")s")

if [ "$total_failed" -ne 0 ]; then stop "${builds[-1]}"; fi
summary
