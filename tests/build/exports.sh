#!/usr/bin/env bash
# The library's export list tells the truth: libnfchain.so exports exactly
# the names in lib/libnfchain.map, and every function the public headers
# (include/nfchain/*.h) declare is among them. Derived from the headers, so
# a new public function only needs its line in the .map file.
# EXPORTS_MAP, EXPORTS_HDRS and EXPORTS_LIBS override the inputs (to see
# this test fail on purpose).
. "$(dirname "$0")/../lib.sh"
top=$NFC_TOP
map=${EXPORTS_MAP:-$top/lib/libnfchain.map}
hdrs=${EXPORTS_HDRS:-$top/include/nfchain/*.h}
libs=${EXPORTS_LIBS:-$top/.output/libnfchain.so $top/.output/libnfchain.a
	$top/.output-asan/libnfchain.so $top/.output-asan/libnfchain.a}

# Functions declared at file scope, comments stripped by the preprocessor
# (no include expanded); static inline ones are not exports.
header_funcs() {
	for h in $hdrs; do
		gcc -fpreprocessed -dD -E -P -x c "$h"
	done | awk '
		cont { cont = /\\$/; next }
		/^[[:space:]]*#/ { cont = /\\$/; next }
		{
			line = $0
			if (depth == 0 && line !~ /^[[:space:]]*(typedef|static)[[:space:]]/ &&
			    match(line, /^[^(]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(/)) {
				s = substr(line, 1, RLENGTH)
				sub(/[[:space:]]*\($/, "", s)
				n = split(s, w, /[^A-Za-z0-9_]+/)
				if (w[n] !~ /^__/)
					print w[n]
			}
			depth += gsub(/{/, "{", line) - gsub(/}/, "}", line)
		}' | sort -u
}
map_names() {
	sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p' "$map" | sort -u
}

want=$(header_funcs)
listed=$(map_names)
if [ -z "$want" ] || [ -z "$listed" ]; then
	not_ok "read the headers ($(echo "$want" | wc -w) functions) and $map ($(echo "$listed" | wc -w) names)"
	exit 1
fi
missing=$(comm -23 <(echo "$want") <(echo "$listed"))
if [ -z "$missing" ]; then
	ok "every function of include/nfchain/*.h is in the export list ($(echo "$want" | wc -w))"
else
	not_ok "declared in include/nfchain/*.h but not in $map:" $missing
fi

seen=0
for lib in $libs; do
	[ -f "$lib" ] || continue
	seen=$((seen + 1))
	case "$lib" in
	*.so) got=$(nm -D --defined-only "$lib") ;;
	*) got=$(nm -g --defined-only "$lib") ;;
	esac
	# The version node itself is an absolute symbol, not an export.
	got=$(echo "$got" | awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
	extra=$(comm -13 <(echo "$listed") <(echo "$got"))
	absent=$(comm -23 <(echo "$listed") <(echo "$got"))
	if [ -z "$extra$absent" ]; then
		ok "$lib exports exactly the $(echo "$listed" | wc -w) names of the list"
	else
		not_ok "$lib: exported but not listed: ${extra:-none}; listed but not exported: ${absent:-none}"
	fi
done
[ "$seen" -gt 0 ] || not_ok "no libnfchain.so among: $libs (build first)"
nfc_done
