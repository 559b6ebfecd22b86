#!/bin/sh
# Install what `make bench` needs from Debian's packages, only what is missing:
# the peers (libuv, libevent, GLib, Python), valgrind for instruction counts,
# taskset (util-linux), strace for the system-call profile, pkg-config and CMake,
# and tini and gunicorn for the idle-master comparison of `sigkit run`.
set -eu
want="cmake gcc make pkg-config libuv1-dev libevent-dev libglib2.0-dev python3 valgrind util-linux strace tini gunicorn"
missing=""
for p in $want; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-bench-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
