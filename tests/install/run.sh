#!/usr/bin/env bash
# The install test: install BUILD_DIR into a temporary prefix, check the
# installed tree, and build and run a consumer program against it three ways:
# pkg-config + the shared library, find_package(sigkit) + sigkit::sigkit,
# and the static library (by hand and as sigkit::sigkit_static).
#
#   tests/install/run.sh BUILD_DIR
#
# Prints "install: ok" and exits 0, or names what is wrong and exits 1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sigkit-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failures=0
fail() { echo "install: FAILED: $*" >&2; failures=$((failures + 1)); }
step() { echo "install: $*"; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log" >&2; fail "cmake --install"; exit 1; }

# --- the installed tree -------------------------------------------------
find_one() { # find_one NAME: the one installed file called NAME
    local hits
    hits=$(find "$prefix" -name "$1" \( -type f -o -type l \) | sort)
    [ -n "$hits" ] || { fail "no $1 installed"; return 1; }
    [ "$(printf '%s\n' "$hits" | wc -l)" -eq 1 ] || { fail "several $1: $hits"; return 1; }
    printf '%s\n' "$hits"
}

[ -f "$prefix/include/sigkit.h" ] || fail "no include/sigkit.h"
so0=$(find_one libsigkit.so.0) || true
so=$(find_one libsigkit.so) || true
ar=$(find_one libsigkit.a) || true
pc=$(find_one sigkit.pc) || true
cfg=$(find_one sigkitConfig.cmake) || true
find_one sigkitConfigVersion.cmake >/dev/null || true
find_one sigkitTargets.cmake >/dev/null || true
man=$(find_one sigkit.3) || true
case "$man" in */man/man3/sigkit.3) ;; "") ;; *) fail "man page in the wrong place: $man" ;; esac
[ -z "$man" ] || [ -s "$man" ] || fail "empty man page $man"

[ -z "$so" ] || [ -L "$so" ] || fail "libsigkit.so (for -lsigkit) is not a symlink to the versioned library"
if [ -n "$so0" ]; then
    [ -L "$so0" ] || fail "libsigkit.so.0 is not a symlink to the versioned library"
    soname=$(readelf -d "$so0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [ "$soname" = libsigkit.so.0 ] || fail "SONAME is '$soname', want libsigkit.so.0"
    # The ABI is the header: every function it declares is exported, and
    # nothing but sk_ names (and no internal sk__ ones) is.
    nm -D --defined-only "$so0" | awk '$2 ~ /^[TtWiDdBbRrVv]$/ {print $3}' | sort -u >"$tmp/exported"
    sed -n 's/^[a-z].*[ *]\(sk_[a-z0-9_]*\)(.*/\1/p' "$prefix/include/sigkit.h" | sort -u >"$tmp/declared"
    [ -s "$tmp/declared" ] || fail "found no declarations in sigkit.h"
    missing=$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
    [ -z "$missing" ] || fail "declared in sigkit.h but not exported: $missing"
    extra=$(grep -v -E '^sk_[a-z0-9]' "$tmp/exported" | grep -v -E '^(_init|_fini)$' | tr '\n' ' ' || true)
    [ -z "$extra" ] || fail "exported but not sk_ API: $extra"
    internal=$(grep -E '^sk__' "$tmp/exported" | tr '\n' ' ' || true)
    [ -z "$internal" ] || fail "internal symbols exported: $internal"
    if [ -n "$ar" ]; then
        nm --defined-only "$ar" 2>/dev/null | awk '$2 == "T" {print $3}' | sort -u >"$tmp/archived"
        missing=$(comm -23 "$tmp/declared" "$tmp/archived" | tr '\n' ' ')
        [ -z "$missing" ] || fail "declared in sigkit.h but not in libsigkit.a: $missing"
    fi
fi

# --- consumer programs ---------------------------------------------------
cc=${CC:-cc}
libdir=${so0%/*}

run_consumer() { # run_consumer WHAT EXE: runs it, checks "ok" and which library it loads
    local what=$1 exe=$2 out
    if ! out=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$exe" </dev/null 2>&1); then
        fail "$what: consumer exited non-zero: $out"; return
    fi
    [ "$out" = ok ] || { fail "$what: consumer printed '$out', want 'ok'"; return; }
    step "$what: ok"
}

loads_installed() { # loads_installed WHAT EXE: the dynamic linker picks the installed libsigkit.so.0
    local what=$1 exe=$2 got
    got=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$exe" |
          awk '$1 == "libsigkit.so.0" {print $3}')
    [ -n "$got" ] || { fail "$what: does not load libsigkit.so.0"; return; }
    [ "$(readlink -f "$got")" = "$(readlink -f "$so0")" ] ||
        fail "$what: loads $got, not the installed $so0"
}

# 1. pkg-config, the way the README tells a C programmer to build.
if [ -n "$pc" ] && [ -n "$so0" ]; then
    export PKG_CONFIG_PATH="${pc%/*}"
    flags=$(pkg-config --cflags --libs sigkit) || fail "pkg-config --cflags --libs sigkit"
    step "pkg-config --cflags --libs sigkit: $flags"
    pc_libdir=$(pkg-config --variable=libdir sigkit)
    pc_incdir=$(pkg-config --variable=includedir sigkit)
    [ "$(readlink -f "$pc_libdir")" = "$(readlink -f "$libdir")" ] ||
        fail "sigkit.pc says libdir=$pc_libdir, but the library was installed in $libdir"
    [ "$(readlink -f "$pc_incdir")" = "$(readlink -f "$prefix/include")" ] ||
        fail "sigkit.pc says includedir=$pc_incdir, but the header was installed in $prefix/include"
    # shellcheck disable=SC2086 # word splitting of the flags is the point
    if "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic -Werror \
           -o "$tmp/consumer-pc" "$here/consumer.c" $flags 2>"$tmp/cc.log"; then
        loads_installed pkg-config "$tmp/consumer-pc"
        run_consumer pkg-config "$tmp/consumer-pc"
    else
        cat "$tmp/cc.log" >&2; fail "pkg-config build"
    fi
fi

# 2. find_package(sigkit) + target_link_libraries(consumer sigkit::sigkit).
if [ -n "$cfg" ]; then
    if cmake -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
             -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$tmp/cmake.log" 2>&1 &&
       cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1; then
        [ -z "$so0" ] || loads_installed find_package "$tmp/cmake-build/consumer"
        run_consumer find_package "$tmp/cmake-build/consumer"
    else
        cat "$tmp/cmake.log" >&2; fail "find_package(sigkit) build"
    fi
fi

# 3. The static library, by hand (pkg-config --static for what it needs)
#    and through sigkit::sigkit_static: nothing of libsigkit.so at run time.
static_ok() { # static_ok WHAT EXE
    if ldd "$2" | grep libsigkit >/dev/null; then
        fail "$1: consumer still needs libsigkit.so"
    else
        run_consumer "$1" "$2"
    fi
}
if [ -n "$ar" ]; then
    private=
    if [ -n "$pc" ]; then
        private=$(PKG_CONFIG_PATH="${pc%/*}" pkg-config --static --libs-only-l --libs-only-other sigkit |
                  tr ' ' '\n' | grep -v -x -e -lsigkit -e '' | tr '\n' ' ')
    fi
    # shellcheck disable=SC2086 # word splitting of the flags is the point
    if "$cc" -Wall -Wextra -Werror -I"$prefix/include" -o "$tmp/consumer-static" \
           "$here/consumer.c" "$ar" $private 2>"$tmp/cc.log"; then
        static_ok "static (libsigkit.a $private)" "$tmp/consumer-static"
    else
        cat "$tmp/cc.log" >&2; fail "static build with libsigkit.a $private"
    fi
    if [ -n "$cfg" ]; then
        if cmake -S "$here" -B "$tmp/cmake-static" -DCMAKE_PREFIX_PATH="$prefix" \
                 -DSIGKIT_TARGET=sigkit::sigkit_static \
                 -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$tmp/cmake.log" 2>&1 &&
           cmake --build "$tmp/cmake-static" >>"$tmp/cmake.log" 2>&1; then
            static_ok "find_package static" "$tmp/cmake-static/consumer"
        else
            cat "$tmp/cmake.log" >&2; fail "find_package(sigkit) + sigkit::sigkit_static build"
        fi
    fi
fi

# 4. The header alone also compiles as C++ (extern "C").
if command -v c++ >/dev/null 2>&1; then
    printf '#include <sigkit.h>\nint main() { return sk_getsignal(SIGINT, 0, 0) < 0; }\n' >"$tmp/cxx.cc"
    c++ -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" "$tmp/cxx.cc" 2>"$tmp/cxx.log" || {
        cat "$tmp/cxx.log" >&2; fail "sigkit.h does not compile as C++"; }
fi

if [ "$failures" -ne 0 ]; then
    echo "install: $failures problem(s)" >&2
    exit 1
fi
echo "install: ok"
