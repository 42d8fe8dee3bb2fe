#!/usr/bin/env bash
# The test runner: C unit tests (plain and sanitized builds), then every
# test script (tests/*/*.sh, nf/*/tests/*.sh, */tests/*.sh). A script
# reports sub-tests as lines "ok - name" / "not ok - name"; exit 77 with
# no report means skipped; no report otherwise is a failure. Ends with the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
export NFC_TOP=$PWD
export NFC_BIN=$PWD/.output-asan/bin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
filter=${1:-}
pass=0 fail=0 skip=0
failed=()
logdir=$(mktemp -d /tmp/nfc-test-logs.XXXXXX)

count_output() { # name log rc
	local name=$1 log=$2 rc=$3 p f
	p=$(grep -c '^ok - ' "$log" || true)
	f=$(grep -c '^not ok - ' "$log" || true)
	if [ "$rc" = 77 ] && [ "$p" = 0 ] && [ "$f" = 0 ]; then
		skip=$((skip + 1)); echo "SKIP $name"; return
	fi
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then
		# Exit 0 alone proves nothing: a script whose checks never ran
		# (a typo, an early exit 0) must not count as a pass.
		f=1
		echo "not ok - $name reported no result (rc=$rc)" >>"$log"
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1 # died after its last report
	fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" != 0 ]; then
		failed+=("$name")
		echo "FAIL $name ($p passed, $f failed; rc=$rc)"
		grep -E '^not ok - ' "$log" | sed 's/^/    /'
		tail -n 30 "$log" | sed 's/^/    | /'
	else
		echo "PASS $name ($p)"
	fi
}

# A runner stopped from outside (an outer timeout, Ctrl-C) passes the signal
# on to the running test, whose own trap then removes its namespaces and
# stops its daemon; otherwise the test would live on as an orphan.
child=
stop() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
	echo "interrupted: $pass passed, $fail failed, $skip skipped"
	exit 130
}
trap stop INT TERM

run_one() { # name cmd...
	local name=$1; shift
	case "$name" in *"$filter"*) ;; *) return ;; esac
	local log="$logdir/$(echo "$name" | tr '/ ' '__').log" rc
	timeout --kill-after=10 900 "$@" >"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=
	count_output "$name" "$log" "$rc"
}

# A unit test's name carries the folder of its source, so that a filter by
# path (`tests/run.sh nf/firewall`) runs that NF's C tests with its scripts.
declare -A src_dir
while IFS= read -r c; do
	b=${c##*/}
	src_dir[${b%.c}]=${c%/*}
done < <(find . -path ./.output -prune -o -path ./.output-asan -prune -o \
	-name 'test_*.c' -printf '%P\n')
for t in .output/bin/test_* .output-asan/bin/test_*; do
	[ -x "$t" ] || continue
	b=${t##*/}
	run_one "unit:${t#./}${src_dir[$b]:+ (${src_dir[$b]})}" "$t"
done
for t in tests/*/*.sh nf/*/tests/*.sh */tests/*.sh; do
	[ -f "$t" ] || continue
	case "$t" in tests/lib*.sh | */tests/lib*.sh) continue ;; esac
	run_one "$t" bash "$t"
done
# nf/*/tests/*.sh also matches */tests/*.sh for top-level folders only, so
# no script runs twice.

echo "logs: $logdir"
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
