#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each for a bounded time.
#
#   fuzz/run.sh [SECONDS [TARGET...]]   default 60 s, every target
#   fuzz/run.sh --list                  the target names
#   FUZZ_MERGE=1 fuzz/run.sh 600        ... and fold new inputs into fuzz/corpus/
#
# Targets (fuzz/fuzz_NAME.c, seeds in fuzz/corpus/NAME/):
#   signum        sk_signum(): the signal-name parser
#   proc_status   sk__parse_proc_status(): the /proc/PID/status parser
#   args          skc_parse(): the whole sigkit command line
#   listen        sk__listen_parse(): the --listen address parser
# Builds into build-fuzz/.  New inputs go to a scratch directory, so a run
# leaves the committed corpus as it was unless FUZZ_MERGE=1.  A crash
# leaves its input in build-fuzz/ and the script fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
targets=(signum proc_status args listen)

if [ "${1-}" = "--list" ]; then
    printf '%s\n' "${targets[@]}"
    exit 0
fi
seconds=${1:-60}
shift || true
[ $# -eq 0 ] || targets=("$@")

cc=${SK_FUZZ_CC:-clang}
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (scripts/install-deps.sh)" >&2; exit 1; }
out=build-fuzz
mkdir -p "$out"

# Only the sources a target reaches: names and /proc (library), the parser
# and its output words (command).
lib_sources=(src/names.c src/proc.c)
cli_sources=(cli/args.c cli/out.c)
flags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -Iinclude -Isrc -Icli
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -pthread)

build() { # build NAME
    local extra=()
    [ "$1" != args ] || extra=("${cli_sources[@]}")
    [ "$1" != listen ] || extra=(src/listen.c)
    "$cc" "${flags[@]}" -o "$out/fuzz_$1" "fuzz/fuzz_$1.c" "${lib_sources[@]}" "${extra[@]}"
}

status=0
for t in "${targets[@]}"; do
    [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t'" >&2; exit 2; }
    build "$t"
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/sigkit-fuzz-$t.XXXXXX")
    mkdir -p "fuzz/corpus/$t"
    if "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$t-" -print_final_stats=1 "$scratch" "fuzz/corpus/$t" \
        >"$out/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
        echo "fuzz: $t: ok, ${runs:-?} inputs in ${seconds}s"
        if [ "${FUZZ_MERGE:-0}" = 1 ]; then
            "$out/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$scratch" >>"$out/$t.log" 2>&1
            echo "fuzz: $t: corpus now $(ls "fuzz/corpus/$t" | wc -l) files"
        fi
    else
        echo "fuzz: $t: FAILED (log: $out/$t.log)" >&2
        tail -n 40 "$out/$t.log" >&2
        status=1
    fi
    rm -rf "$scratch"
done
exit $status
