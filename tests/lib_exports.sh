#!/bin/sh
# lib_exports.sh INCLUDEDIR LIBDIR MAP: the embedding libraries' global names are the API
# (docs/embedding.md "The public API"), no more and no fewer. The API is every function
# the headers INCLUDEDIR/hawser*.h declare (HW_EXPORT or not: one left unmarked is
# missing from both libraries, and said). The version script MAP (libhawser.map) must list
# exactly these; LIBDIR/libhawser.a must keep exactly these global; LIBDIR/libhawser.so
# must export exactly these, each under the version node MAP gives it (an unversioned
# one shows as NAME@Base). Run by the lib_exports test on the build tree and by
# test_install on an installed one. Exit 0 and one line "lib_exports: ok" if all hold;
# otherwise 1, with each name missing or extra.
set -u
inc=$1 libdir=$2 map=$3
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# $1 what is compared, $2 the expected list, $3 the found one.
same() {
	diff "$2" "$3" >"$tmp/diff" && return 0
	echo "lib_exports: $1 differ from what they must be:"
	sed -n 's/^< /  missing: /p; s/^> /  extra:   /p' "$tmp/diff"
	rc=1
}

rc=0
sed -n '/^typedef\|^static\|^#/!s/^\(HW_EXPORT \)\{0,1\}[a-z_][a-z0-9_ ]* \**\(hw_[a-z0-9_]*\)(.*/\2/p' \
	"$inc"/hawser*.h | sort >"$tmp/api"
grep -qx hw_node_open "$tmp/api" || { echo "lib_exports: no API found in $inc"; exit 1; }
# The map's global names as NAME@NODE: a node opens with "NAME {", its globals follow
# "global:" up to "local:" or the node's end; comments are /* ... */ lines.
awk '/^[[:space:]]*(\/\*|\*)/ { next }
     /^[A-Za-z0-9_.]+[[:space:]]*\{/ { node = $1; sub(/\{.*/, "", node); g = 0; next }
     /^[[:space:]]*global:/ { g = 1; next }
     /^[[:space:]]*local:/ || /^[[:space:]]*\}/ { g = 0; next }
     g && /;/ { n = $1; sub(/;.*/, "", n); print n "@" node }' "$map" | sort >"$tmp/map"
sed 's/@.*//' "$tmp/map" | sort >"$tmp/map_names"
same "the version script's names" "$tmp/api" "$tmp/map_names"
nm -g --defined-only "$libdir/libhawser.a" | awk 'NF == 3 { print $3 }' | sort >"$tmp/static"
same "libhawser.a's global names" "$tmp/api" "$tmp/static"
# objdump -T: ... SECTION SIZE VERSION NAME; the node's own symbol (*ABS*, NAME = VERSION)
# is no function.
objdump -T "$libdir/libhawser.so" | awk '/^[0-9a-f]+ / && !/\*UND\*/ &&
	!(/\*ABS\*/ && $NF == $(NF - 1)) { print $NF "@" $(NF - 1) }' | sort >"$tmp/shared"
same "libhawser.so's exports (NAME@VERSION)" "$tmp/map" "$tmp/shared"
[ $rc -eq 0 ] && echo "lib_exports: ok ($(wc -l <"$tmp/api") functions)"
exit $rc
