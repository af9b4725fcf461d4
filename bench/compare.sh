#!/bin/bash
# compare.sh: hawser and PostgreSQL 15 with synchronous replication, side by side in one run
# on this machine (DESIGN.md "Benchmarks are fair": the machines here are shared and
# noisy, so numbers from different runs are not compared).
#
# usage: bench/compare.sh [--seconds S (10)] [--hawser PATH (build/hawser)]
#                         [--bare PATH (build/hawser-bare-pipeline)] [--rounds N (1)]
# Runs, in order: PostgreSQL (pg_sync.sh) at 32 clients and at 1 client, each for S
# seconds; `hawser bench` (1 standby, mode durable) at 32 clients x 1 outstanding, 32 x 8
# (256 outstanding) and 1 x 1, every connection encrypted as deployed, and once more at
# 32 x 1 with --insecure (hawser-plain): PostgreSQL here runs without TLS, so that row is
# the like-for-like one. Then the bare pipeline (bench/bare_pipeline.c: no validation,
# store, checksums or encryption, one flush at a time on each side) at 32 x 1 and 32 x 8,
# the yardstick issue 3's targets are sized against. Prints each run's JSON line, then a
# table, the ratios to postgres and to the bare pipeline, and where the hawser runs' time
# went on the primary (primary_stages_us). --rounds N runs all of it N times in a row
# (each round's ratios are of neighbouring runs, as this host's speed drifts) and ends
# with each ratio's median and range over the rounds. Every run lasts about S seconds,
# pgbench's by its clock and the others by their record counts, sized in the first
# round by a short run and kept for the next. About two minutes a round at S = 10 (the
# first more); run as root (pg_sync.sh installs and runs postgres). A documented long
# command, not in CI.
set -euo pipefail
shopt -s inherit_errexit # a run that fails inside $(...) stops the script too

HERE=$(cd "$(dirname "$0")" && pwd)
SECS=10
HAWSER="$HERE/../build/hawser"
BARE="$HERE/../build/hawser-bare-pipeline"
ROUNDS=1
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECS="$2"; shift 2 ;;
	--hawser) HAWSER="$2"; shift 2 ;;
	--bare) BARE="$2"; shift 2 ;;
	--rounds) ROUNDS="$2"; shift 2 ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds wants a positive number" >&2; exit 2; }
for b in "$HAWSER" "$BARE"; do
	[ -x "$b" ] || { echo "compare.sh: no binary at $b (build it first)" >&2; exit 2; }
done

# First number after "key": in a JSON line (the first match: p50 and p99 appear once).
num() { grep -o "\"$1\":[0-9.eE+-]*" <<<"$2" | head -1 | cut -d: -f2 || true; } # "" when absent

declare -a ROWS=() SUMMARY=()
row() { # system clients outstanding json rate_key
	ROWS+=("$1|$2|$3|$(num "$5" "$4")|$(num p50 "$4")|$(num p99 "$4")")
}

# The primary's own account of a hawser run: a record's mean time per stage.
stages() {
	local q s d
	q=$(num queued "$1") s=$(num store "$1") d=$(num durability "$1")
	if [ -n "$q" ]; then printf 'queued %.0f, store %.0f, durability %.0f us' "$q" "$s" "$d"; else printf 'n/a'; fi
}

# sized NAME RECORDS CMD...: run CMD --records N, N sized so that the run lasts about
# SECS seconds (a fifth of that either way): from RECORDS, or from the count NAME ended
# at in an earlier round, scaled by the rate of a run that missed, at most three runs
# and RECORDS_MAX records; the third run counts even when it missed too (the host's
# speed changed under it). Prints the JSON of the last run; fails when a run does. (A
# file, not a variable: the caller runs this in a subshell.)
RECORDS_MAX=5000000
SIZES=$(mktemp)
trap 'rm -f "$SIZES"' EXIT
sized() {
	local name=$1 n out secs i
	n=$(awk -v k="$name" '$1 == k { v = $2 } END { print v }' "$SIZES")
	[ -n "$n" ] || n=$2
	shift 2
	for i in 1 2 3; do
		out=$("$@" --records "$n") || { echo "compare.sh: $name failed" >&2; return 1; }
		secs=$(num seconds "$out")
		[ -n "$secs" ] || { echo "compare.sh: $name printed no seconds" >&2; return 1; }
		n=$(awk -v n="$n" -v s="$secs" -v want="$SECS" -v max="$RECORDS_MAX" 'BEGIN {
			if (s >= want * 0.8 && s <= want * 1.2) { print "ok " n; exit }
			m = int(n * want / (s > 0.05 ? s : 0.05)); print (m > max ? max : m) }')
		[ "${n%% *}" = ok ] && { n=${n#ok }; break; }
	done
	echo "$name $n" >>"$SIZES"
	echo "$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
# Keep one round's value of a ratio for the summary.
keep() { SUMMARY+=("$1|$2"); }

one_round() {
	ROWS=()
	echo "# $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
		"$(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)"

	pg32=$("$HERE/peers/pg_sync.sh" --clients 32 --seconds "$SECS")
	echo "$pg32"
	row postgresql-15 32 32 "$pg32" tps
	pg1=$("$HERE/peers/pg_sync.sh" --clients 1 --seconds "$SECS")
	echo "$pg1"
	row postgresql-15 1 1 "$pg1" tps

	# Each run lasts about S seconds, as pgbench's do (a store that grows is slower, so
	# a shorter run would flatter hawser): see sized() above.
	hw32=$(sized hw32 $((SECS * 3000)) "$HAWSER" bench --clients 32 --window 1 --json)
	echo "$hw32"
	row hawser 32 32 "$hw32" records_per_s
	hw256=$(sized hw256 $((SECS * 6000)) "$HAWSER" bench --clients 32 --window 8 --json)
	echo "$hw256"
	row hawser 32 256 "$hw256" records_per_s
	hw1=$(sized hw1 $((SECS * 500)) "$HAWSER" bench --clients 1 --window 1 --json)
	echo "$hw1"
	row hawser 1 1 "$hw1" records_per_s
	hwp=$(sized hwp $((SECS * 3000)) "$HAWSER" bench --clients 32 --window 1 --insecure --json)
	echo "$hwp"
	row hawser-plain 32 32 "$hwp" records_per_s
	bare32=$(sized bare32 $((SECS * 6000)) "$BARE" --clients 32 --window 1)
	echo "$bare32"
	row bare-pipeline 32 32 "$bare32" records_per_s
	bare256=$(sized bare256 $((SECS * 30000)) "$BARE" --clients 32 --window 8)
	echo "$bare256"
	row bare-pipeline 32 256 "$bare256" records_per_s

	echo
	printf '%-14s %8s %12s %12s %10s %10s\n' system clients outstanding records/s p50_us p99_us
	for r in "${ROWS[@]}"; do
		IFS='|' read -r sys c o rate p50 p99 <<<"$r"
		printf '%-14s %8s %12s %12.0f %10s %10s\n' "$sys" "$c" "$o" "$rate" "$p50" "$p99"
	done

	echo
	echo "hawser / postgres, 32 clients x 1:   throughput $(ratio "$(num records_per_s "$hw32")" "$(num tps "$pg32")")," \
		"p50 $(ratio "$(num p50 "$hw32")" "$(num p50 "$pg32")"), p99 $(ratio "$(num p99 "$hw32")" "$(num p99 "$pg32")")"
	echo "hawser-plain / postgres, 32 x 1:     throughput $(ratio "$(num records_per_s "$hwp")" "$(num tps "$pg32")")," \
		"p50 $(ratio "$(num p50 "$hwp")" "$(num p50 "$pg32")"), p99 $(ratio "$(num p99 "$hwp")" "$(num p99 "$pg32")")"
	echo "hawser / postgres, 1 client:         throughput $(ratio "$(num records_per_s "$hw1")" "$(num tps "$pg1")")," \
		"p50 $(ratio "$(num p50 "$hw1")" "$(num p50 "$pg1")"), p99 $(ratio "$(num p99 "$hw1")" "$(num p99 "$pg1")")"
	echo "hawser 256 outstanding / postgres 32: throughput $(ratio "$(num records_per_s "$hw256")" "$(num tps "$pg32")")"
	echo "bare-pipeline / postgres, 32 x 1:    throughput $(ratio "$(num records_per_s "$bare32")" "$(num tps "$pg32")")"
	echo "hawser / bare-pipeline, 32 x 1:      throughput $(ratio "$(num records_per_s "$hw32")" "$(num records_per_s "$bare32")")," \
		"plaintext $(ratio "$(num records_per_s "$hwp")" "$(num records_per_s "$bare32")")"
	echo "hawser / bare-pipeline, 32 x 8:      throughput $(ratio "$(num records_per_s "$hw256")" "$(num records_per_s "$bare256")")"
	echo "hawser 1-client limit (loopback RTT + one fdatasync): $(num limit_us "$hw1") us"
	echo "hawser on the primary, a record's mean (docs/operations.md \"Reading status\"):"
	echo "  32 x 1: $(stages "$hw32"); 32 x 8: $(stages "$hw256"); 1 x 1: $(stages "$hw1")"
	keep "hawser / postgres, 32 x 1, throughput" "$(ratio "$(num records_per_s "$hw32")" "$(num tps "$pg32")")"
	keep "hawser-plain / postgres, 32 x 1, throughput" "$(ratio "$(num records_per_s "$hwp")" "$(num tps "$pg32")")"
	keep "hawser / postgres, 1 client, p50" "$(ratio "$(num p50 "$hw1")" "$(num p50 "$pg1")")"
	keep "hawser 32 x 8, records/s" "$(num records_per_s "$hw256" | cut -d. -f1)"
	keep "bare-pipeline / postgres, 32 x 1, throughput" "$(ratio "$(num records_per_s "$bare32")" "$(num tps "$pg32")")"
	keep "hawser / bare-pipeline, 32 x 1" "$(ratio "$(num records_per_s "$hw32")" "$(num records_per_s "$bare32")")"
	keep "hawser / bare-pipeline, 32 x 8" "$(ratio "$(num records_per_s "$hw256")" "$(num records_per_s "$bare256")")"
}

for r in $(seq "$ROUNDS"); do
	[ "$ROUNDS" -eq 1 ] || echo "## round $r of $ROUNDS"
	one_round
done
[ "$ROUNDS" -gt 1 ] || exit 0
echo
echo "## over $ROUNDS rounds: median (lowest - highest)"
printf '%s\n' "${SUMMARY[@]}" | cut -d'|' -f1 | awk '!seen[$0]++' | while IFS= read -r label; do
	printf '%s\n' "${SUMMARY[@]}" | awk -F'|' -v l="$label" '$1 == l { print $2 }' | sort -g |
		awk -v l="$label" '{ v[NR] = $1 } END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-46s %s (%s - %s)\n", l ":", m, v[1], v[NR] }'
done
