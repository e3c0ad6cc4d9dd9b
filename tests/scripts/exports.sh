#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=30
# exports: libgreen.so exports exactly the symbols listed in
# shim/exports.list (one per line, # comments allowed), besides the
# linker's own (_init, _fini, _edata, _end, __bss_start) and the version
# nodes of shim/exports.map: nothing unlisted is exported, and every listed
# name is.  And no other public name of a wrapped call is missed: for each
# listed name X (leading underscores dropped: B), any of
#   __B_chk __B64_chk  (_FORTIFY_SOURCE)   __B __B64 B64 __libc_B
#   __B_nocancel  __B_2 __B64_2  __isoc99_B
# that libc.so.6 (or libpthread.so.0, librt.so.1) exports with a default,
# non-private version must be listed too: a program that reaches the call
# by that name would go straight to the kernel (privoxy calls __poll_chk).
# Derived from nm each run, so a new wrapper brings its names with it.
# Not by this rule: the *_unlocked stdio forms (not aliases; docs/stdio.md).
set -u

list=$SRC/shim/exports.list
if [ ! -f "$list" ]; then
	echo "skip: shim/exports.list does not exist yet"
	exit 77
fi
if [ ! -f "$LIBGREEN" ]; then
	echo "FAIL: $LIBGREEN missing"
	exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# "0000000000012340 T read@@GLIBC_2.2.5" -> "read"
if ! nm -D --defined-only "$LIBGREEN" > "$tmp/nm"; then
	echo "FAIL: nm -D $LIBGREEN"
	exit 1
fi
# Type A entries are version nodes from the version script, not symbols.
awk 'NF >= 2 && $(NF-1) != "A" { print $NF }' "$tmp/nm" | sed 's/@.*//' |
	sort -u > "$tmp/exported"
{
	sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list"
	printf '%s\n' _init _fini _edata _end __bss_start
} | grep -v '^$' | sort -u > "$tmp/allowed"

fails=0
extra=$(comm -23 "$tmp/exported" "$tmp/allowed")
if [ -n "$extra" ]; then
	echo "FAIL: libgreen.so exports symbols not in shim/exports.list:"
	printf '%s\n' "$extra" | sed 's/^/  /'
	fails=1
fi
sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$' | sort -u > "$tmp/listed"
absent=$(comm -13 "$tmp/exported" "$tmp/listed")
if [ -n "$absent" ]; then
	echo "FAIL: shim/exports.list names symbols libgreen.so does not export:"
	printf '%s\n' "$absent" | sed 's/^/  /'
	fails=1
fi

# libc's public names: default version (@@), not GLIBC_PRIVATE.
libc=$(ldd "$LIBGREEN" | awk '$1 == "libc.so.6" { print $3 }')
if [ -z "$libc" ] || [ ! -f "$libc" ]; then
	echo "FAIL: cannot find the libc.so.6 libgreen.so loads"
	exit 1
fi
libdir=$(dirname "$libc")
for l in "$libc" "$libdir/libpthread.so.0" "$libdir/librt.so.1"; do
	[ -f "$l" ] && nm -D --defined-only "$l"
done | awk '{ print $NF }' | grep '@@' | grep -v '@@GLIBC_PRIVATE$' |
	sed 's/@@.*//' | sort -u > "$tmp/libc"
sed 's/^_*//' "$tmp/listed" | sort -u |
	awk '{ b = $1
	       print "__" b "_chk"; print "__" b "64_chk"; print "__" b
	       print "__" b "64"; print b "64"; print "__libc_" b
	       print "__" b "_nocancel"; print "__" b "_2"; print "__" b "64_2"
	       print "__isoc99_" b }' | sort -u > "$tmp/candidates"
missed=$(comm -12 "$tmp/candidates" "$tmp/libc" | comm -23 - "$tmp/listed")
if [ -n "$missed" ]; then
	echo "FAIL: libc exports other names of wrapped calls that the shim misses:"
	printf '%s\n' "$missed" | sed 's/^/  /'
	fails=1
fi
[ $fails -eq 0 ] || exit 1
echo "exports: $(wc -l < "$tmp/exported") symbols, all listed and all exported;" \
	"$(comm -12 "$tmp/candidates" "$tmp/libc" | wc -l) other libc names of wrapped calls, all exported"
exit 0
