#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=120
# fuzz_dns_answers.sh - a short fuzzing pass over the code that turns DNS
# answers into hostents and address tuples (runtime/names/dnsmod.c): valid
# answers (CNAME chains, A, AAAA, PTR, compressed names) with flipped
# bytes, truncations and bad compression pointers, for each entry point,
# transport outcome and buffer size from 0 to 4 KiB.  Built here with
# AddressSanitizer and UBSan; any crash, sanitizer report or result that
# points outside the caller's buffer fails.  `make fuzz` runs libFuzzer on
# the same code for longer.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
BIN=$BUILD/fuzz/dns_answers
SECONDS_RUN=${FUZZ_SECONDS:-8}

mkdir -p "$BUILD/fuzz" || exit 1
if ! ${CC:-cc} -O1 -g -std=gnu11 -D_GNU_SOURCE -fsanitize=address,undefined \
    -fno-sanitize-recover=all -I"$SRC/runtime/core" -I"$SRC/runtime/names" -I"$SRC/runtime/core/arch/$(uname -m)" "$SRC/tests/fuzz/dns_answers.c" \
    -o "$BIN" 2>"$BUILD/fuzz/build.log"; then
    if grep -q "sanitize" "$BUILD/fuzz/build.log"; then
        echo "skip: the compiler cannot build with -fsanitize=address,undefined"
        exit 77
    fi
    cat "$BUILD/fuzz/build.log" >&2
    echo "FAIL: tests/fuzz/dns_answers.c does not build" >&2
    exit 1
fi
# The seed varies from run to run; a failure prints it to stderr.
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
if ! ASAN_OPTIONS=detect_leaks=1 timeout -k 5 60 "$BIN" "$SECONDS_RUN" "$seed"; then
    echo "FAIL: dns_answers crashed or reported (seed $seed: rerun with $BIN $SECONDS_RUN $seed)" >&2
    exit 1
fi
