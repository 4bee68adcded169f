#!/usr/bin/env bash
# Regenerates BENCHMARKS.md from real runs, in one command:
#
#   cmd/regbench/gen-benchmarks.sh          # from anywhere in the repository
#
# 1. the Go benchmarks of the root package, 6 counts, into bench/go-bench.txt,
#    and benchstat's summary of them into bench/go-benchstat.txt;
# 2. the load benchmark (cmd/regbench) with defaults, writing
#    bench/report.md and the SVG plots in bench/;
# 3. BENCHMARKS.md: the blocks between the generated markers are replaced
#    with those outputs; the hand-written reading between them is kept, and
#    must be re-read against the new numbers.
#
# It takes about 15 minutes on 2 cores. Run it on a quiet machine: every
# figure is wall-clock time. SKIP_GO_BENCH=1 reuses bench/go-bench.txt and
# reruns only the load benchmark (about 4 minutes).
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
cd "$root"
mkdir -p bench

BENCHSTAT="golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"
GOBENCH_CMD="go test -run '^\$' -bench . -count 6 ."
BENCHSTAT_CMD="go run $BENCHSTAT bench/go-bench.txt"
REGBENCH_CMD="cd cmd/regbench && go run . -md ../../bench/report.md -svg ../../bench"

if [ "${SKIP_GO_BENCH:-}" = 1 ] && [ -s bench/go-bench.txt ]; then
	echo "== reusing bench/go-bench.txt (SKIP_GO_BENCH=1)" >&2
else
	echo "== $GOBENCH_CMD" >&2
	go test -run '^$' -bench . -count 6 . | tee bench/go-bench.txt >&2
fi
echo "== $BENCHSTAT_CMD" >&2
go run "$BENCHSTAT" bench/go-bench.txt > bench/go-benchstat.txt

echo "== $REGBENCH_CMD" >&2
(cd cmd/regbench && go run . -md ../../bench/report.md -svg ../../bench)

# Splice the outputs into BENCHMARKS.md between their markers.
env_part="$(sed '/<!-- regbench:tables -->/,$d' bench/report.md)"
# Plot links in bench/report.md are relative to bench/; BENCHMARKS.md is
# one level up.
tables_part="$(sed '1,/<!-- regbench:tables -->/d' bench/report.md | sed 's#](\([A-Za-z0-9_-]*\.svg\))#](bench/\1)#g')"
benchstat_part="$(printf 'Produced by `%s` then `%s` (%s), on the machine described at the top.\n\n```\n%s\n```\n' \
	"$GOBENCH_CMD" "$BENCHSTAT_CMD" "raw results in bench/go-bench.txt" "$(cat bench/go-benchstat.txt)")"

splice() { # splice FILE NAME CONTENT: replace what lies between the markers
	local body
	body="$(mktemp)"
	printf '%s\n' "$3" > "$body"
	awk -v name="$2" -v body="$body" '
		$0 == "<!-- " name ":begin -->" {
			print
			while ((getline line < body) > 0) print line
			skip = 1
			next
		}
		$0 == "<!-- " name ":end -->" { skip = 0 }
		!skip { print }
	' "$1" > "$1.tmp" && mv "$1.tmp" "$1"
	rm -f "$body"
}
splice BENCHMARKS.md env "$env_part"
splice BENCHMARKS.md tables "$tables_part"
splice BENCHMARKS.md benchstat "$benchstat_part"
echo "BENCHMARKS.md regenerated; re-read its Reading section against the new numbers." >&2
