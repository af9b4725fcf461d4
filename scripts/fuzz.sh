#!/usr/bin/env bash
# Build the libFuzzer harnesses of fuzz/ (clang, ASan, UBSan) in build-fuzz/ and run each
# for a bounded time; exits 1 on the first harness that crashes, leaks or breaks its
# contract (docs/testing.md, "Fuzzing").
#
#   scripts/fuzz.sh [--seconds S] [--seeds] [HARNESS...]
#     --seconds S  run each harness for S seconds (default 10: the CI run; a long run
#                  is --seconds 3600)
#     --seeds      rewrite the generated seeds of fuzz/corpus/ with hawser-fuzz-seeds and
#                  exit (after a change to a format or to the workload generator)
#     HARNESS      frame wire record channel config backup (default: all)
#
# Seeds are read from fuzz/corpus/<name>/ and never written; what a run finds goes to
# build-fuzz/corpus/<name>/ and is reused by the next run. A crash leaves its input in
# build-fuzz/artifacts/ and the command that replays it in the output.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
seeds=0
harnesses=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds)
		seconds="${2:?--seconds needs a number}"
		shift 2
		;;
	--seeds)
		seeds=1
		shift
		;;
	-h | --help)
		sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "fuzz.sh: unknown option $1" >&2
		exit 2
		;;
	*)
		harnesses+=("$1")
		shift
		;;
	esac
done
[ ${#harnesses[@]} -eq 0 ] && harnesses=(frame wire record channel config backup)
case "$seconds" in
'' | *[!0-9]*)
	echo "fuzz.sh: --seconds takes a whole number" >&2
	exit 2
	;;
esac

if ! command -v clang >/dev/null; then
	echo "fuzz.sh: clang is not installed (HW_DEPS_TEST=1 bash scripts/deps.sh installs it)" >&2
	exit 1
fi
mkdir -p build-fuzz
if ! { cmake -S . -B build-fuzz -DHW_FUZZ=ON -DCMAKE_C_COMPILER=clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	cmake --build build-fuzz --target hw_fuzz -j"$(nproc)"; } >build-fuzz/build.log 2>&1; then
	tail -n 40 build-fuzz/build.log >&2
	echo "fuzz.sh: the fuzz build failed (build-fuzz/build.log)" >&2
	exit 1
fi

if [ $seeds = 1 ]; then
	build-fuzz/fuzz/hawser-fuzz-seeds fuzz/corpus # overwrites its own; crash inputs stay
	echo "fuzz.sh: fuzz/corpus/ holds $(find fuzz/corpus -type f | wc -l) seeds"
	exit 0
fi

# Longest input per harness: past every limit the decoder enforces (a record's 64 KiB,
# the MANIFEST's 4 KiB), small enough to keep the run fast.
max_len() {
	case "$1" in
	record) echo 65600 ;;
	frame | wire) echo 140000 ;;
	backup) echo 70000 ;;
	config) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

mkdir -p build-fuzz/artifacts
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for h in "${harnesses[@]}"; do
	bin=build-fuzz/fuzz/fuzz_$h
	if [ ! -x "$bin" ]; then
		echo "fuzz.sh: no harness $h" >&2
		exit 2
	fi
	mkdir -p "build-fuzz/corpus/$h"
	dict=()
	[ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
	log="build-fuzz/fuzz_$h.log"
	if ! "$bin" -max_total_time="$seconds" -max_len="$(max_len "$h")" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/artifacts/$h-" "${dict[@]}" \
		"build-fuzz/corpus/$h" "fuzz/corpus/$h" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		echo "fuzz.sh: fuzz_$h FAILED; replay: $bin ${crash:-<input>}" >&2
		exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	echo "fuzz.sh: fuzz_$h ok: ${runs:-?} runs in ${seconds} s (${rate:-?} exec/s)"
done
