#!/bin/bash
# ab.sh: two commits of hawser side by side, the way docs/benchmarks.md compares them.
# This host's speed drifts by up to 1.3 x from one minute to the next, and two runs of
# one binary differ by up to 8-10 % in the means of four or five, so only alternating
# pairs of one sitting are read, never numbers from different runs.
#
# usage: bench/ab.sh [--pairs N (5)] [--clients C (32)] [--window W (1)]
#                    [--records R (60000)] [--mode M (durable)] REV_A REV_B
# Builds each REV from `git archive REV` in its own tree, configured there with its own
# `cmake -S` (a build directory copied with cp -r keeps CMake's absolute source path and
# builds the tree it came from), under ${TMPDIR:-/tmp}/hawser-ab-<commit>, reused when
# it exists. Then runs `hawser bench` N times for each, alternating A and B, one line per
# run (records/s, p50, and with perf installed the CPU of all processes and context
# switches per record), and the mean records/s and p50 of each side. A documented long
# command, not part of CI.
set -euo pipefail

PAIRS=5
CLIENTS=32
WINDOW=1
RECORDS=60000
MODE=durable
REPO=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,15p' "$0"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--pairs) PAIRS="$2"; shift 2 ;;
	--clients) CLIENTS="$2"; shift 2 ;;
	--window) WINDOW="$2"; shift 2 ;;
	--records) RECORDS="$2"; shift 2 ;;
	--mode) MODE="$2"; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
for n in "$PAIRS" "$CLIENTS" "$WINDOW" "$RECORDS"; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: not a positive number: $n" >&2; exit 2; }
done

# The hawser binary of rev, built once in a tree of its own; prints its path.
build() {
	local commit dir
	commit=$(git -C "$REPO" rev-parse --verify --quiet "$1^{commit}") ||
		{ echo "ab.sh: no commit $1" >&2; exit 2; }
	dir="${TMPDIR:-/tmp}/hawser-ab-$commit"
	if [ ! -x "$dir/build/hawser" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		git -C "$REPO" archive "$commit" | tar xf - -C "$dir"
		cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
		cmake --build "$dir/build" --target hawser -j"$(nproc)" >/dev/null
	fi
	echo "$dir/build/hawser"
}

# First number after "key": in a JSON line.
num() { grep -o "\"$1\":[0-9.eE+-]*" <<<"$2" | head -1 | cut -d: -f2; }

# One run of side $1 (binary $2): prints "side rps p50 [cpu_us cs]" on one line.
run() {
	local out stat cpu cs args
	args=(bench --clients "$CLIENTS" --window "$WINDOW" --records "$RECORDS" --mode "$MODE" --json)
	stat=$(mktemp)
	if command -v perf >/dev/null; then
		out=$(perf stat -x, -e task-clock,context-switches -o "$stat" -- "$2" "${args[@]}")
		cpu=$(awk -F, '/task-clock/ { print $1 }' "$stat")
		cs=$(awk -F, '/context-switches/ { print $1 }' "$stat")
		echo "$1 $(num records_per_s "$out") $(num p50 "$out")" \
			"$(awk -v c="$cpu" -v r="$RECORDS" 'BEGIN { printf "%.1f", c * 1000 / r }')" \
			"$(awk -v c="$cs" -v r="$RECORDS" 'BEGIN { printf "%.2f", c / r }')"
	else
		out=$("$2" "${args[@]}")
		echo "$1 $(num records_per_s "$out") $(num p50 "$out")"
	fi
	rm -f "$stat"
	grep -q '"missing_on_standby":0,"digests_equal":true' <<<"$out" ||
		{ echo "ab.sh: side $1 lost records or diverged: $out" >&2; exit 1; }
}

A=$(build "$1")
B=$(build "$2")
echo "# A=$1 B=$2 clients=$CLIENTS window=$WINDOW records=$RECORDS mode=$MODE pairs=$PAIRS," \
	"$(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# side records_per_s p50_us [cpu_us_per_record context_switches_per_record]"
lines=$(for i in $(seq "$PAIRS"); do run A "$A"; run B "$B"; done | tee /dev/stderr)
awk '{ n[$1]++; r[$1] += $2; p[$1] += $3 }
     END { for (s in n) printf "mean %s records_per_s=%.0f p50_us=%.0f\n", s, r[s] / n[s], p[s] / n[s]
           if (n["A"] && r["A"]) printf "B / A records_per_s=%.3f\n", r["B"] / r["A"] }' <<<"$lines"
