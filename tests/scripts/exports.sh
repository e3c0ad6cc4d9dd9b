#!/bin/bash
# TEST: timeout=30
# exports: libgreen.so exports only the symbols listed in shim/exports.list
# (one per line, # comments allowed), besides the linker's own (_init,
# _fini, _edata, _end, __bss_start) and the version nodes of
# shim/exports.map. Everything else must stay hidden.
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

extra=$(comm -23 "$tmp/exported" "$tmp/allowed")
if [ -n "$extra" ]; then
	echo "FAIL: libgreen.so exports symbols not in shim/exports.list:"
	printf '%s\n' "$extra" | sed 's/^/  /'
	exit 1
fi
echo "exports: $(wc -l < "$tmp/exported") symbols, all listed"
exit 0
