#!/bin/sh
# scripts/bench.sh [BUILD_DIR] [--write-docs] [--profile] [--runs N] [--only SECTIONS]
#
# The benchmarks of issue 3, in one run: installs the peers if missing
# (scripts/install-bench-deps.sh), builds bench/ into build-bench/ against
# BUILD_DIR/libsigkit.a (default build/, made by `make build`), runs every
# program interleaved and prints one table of medians and ratios.
# Writes nothing into the tree but build-bench/, unless --write-docs: then
# the generated part of docs/performance.md is replaced by this run's table.
# --profile adds the sk_wait-versus-sigwaitinfo profile (strace, callgrind).
# --only 6 runs only section 6, `sigkit trace` (issue 8; needs root).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=build
docs=""
extra=""
while [ $# -gt 0 ]; do
    case "$1" in
    --write-docs) docs="--write-docs $root/docs/performance.md" ;;
    --profile) extra="$extra --profile" ;;
    --runs) shift; extra="$extra --runs $1" ;;
    --only) shift; extra="$extra --only $1" ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) build="$1" ;;
    esac
    shift
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac

"$root/scripts/install-bench-deps.sh"
if [ ! -f "$build/libsigkit.a" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g" >/dev/null
    cmake --build "$build" -j 2 >/dev/null
fi
cmake -S "$root/bench" -B "$root/build-bench" -DSIGKIT_BUILD="$build" >/dev/null
cmake --build "$root/build-bench" -j 2 >/dev/null
# shellcheck disable=SC2086
exec python3 "$root/bench/run.py" --bin "$root/build-bench" --lib "$build" $docs $extra
