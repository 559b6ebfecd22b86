#!/usr/bin/env bash
# Install what sigkit's build and tests need on a fresh Debian 12 machine.
#
#   scripts/install-deps.sh        check, and apt-get install only what is missing
#
# Each package is checked with dpkg first, so a second run does nothing and
# needs no network.  Runs as root; otherwise through sudo when there is one;
# otherwise it names what is missing and fails.
set -euo pipefail

# What each one is for:
#   cmake make gcc libc6-dev   the build (gcc brings binutils: readelf, nm)
#   clang libclang-rt-14-dev   a second compiler and its sanitizer runtimes
#   valgrind                   the core tests under memcheck
#   pkg-config                 finding libuv; the install test's pkg-config build
#   libuv1-dev                 the event-loop test (sk_fd inside libuv)
#   python3                    test and demo helpers
#   procps                     ps, which the sigkit list tests cross-check against
packages=(cmake make gcc libc6-dev clang libclang-rt-14-dev valgrind pkg-config libuv1-dev python3 procps)

installed() {
    # dpkg -s succeeds for a removed package whose config files remain, so
    # read the status line rather than the exit code alone.  (No `| grep -q`:
    # under pipefail, dpkg dying of SIGPIPE would read as "missing".)
    local status
    status=$(dpkg -s "$1" 2>/dev/null) || return 1
    grep -qx 'Status: install ok installed' <<<"$status"
}

if ! command -v dpkg >/dev/null 2>&1; then
    echo "install-deps: no dpkg here: this script knows Debian only; install by hand: ${packages[*]}" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps: missing: ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: not root and no sudo: as root, run" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_get=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
         -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

"${apt_get[@]}" update
"${apt_get[@]}" install --no-install-recommends "${missing[@]}" </dev/null

still=()
for p in "${missing[@]}"; do
    installed "$p" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
    echo "install-deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "install-deps: installed ${missing[*]}"
