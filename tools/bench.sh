#!/usr/bin/env bash
# bench.sh runs the benchmarks of one, several or all modules and prints the
# results in the format benchstat reads (go test's own benchmark output).
#
# Usage: tools/bench.sh [-count N] [-bench REGEX] [-benchtime T] [-o FILE] [module-dir ...]
#   -count N      runs of each benchmark, for benchstat's statistics (default 6)
#   -bench REGEX  which benchmarks (default .)
#   -benchtime T  go test -benchtime (default: go test's 1s)
#   -o FILE       also write the results to FILE
#   module-dir    e.g. ketama or tinyufo/benchmarks; none means every module
#
# Compare two runs:
#   tools/bench.sh -o old.txt ketama; (change code); tools/bench.sh -o new.txt ketama
#   go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
count=6 bench=. benchtime= out=
while [ $# -gt 0 ]; do
	case $1 in
	-count) count=$2; shift 2 ;;
	-bench) bench=$2; shift 2 ;;
	-benchtime) benchtime=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	-h | --help) sed -n '2,15p' "$0"; exit 0 ;;
	-*) echo "bench.sh: unknown flag $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -gt 0 ]; then mods=("$@"); else mapfile -t mods < <(sed -n 's|^\t\./||p' "$root/go.work"); fi
args=(-run='^$' -bench="$bench" -benchmem -count="$count")
[ -n "$benchtime" ] && args+=(-benchtime="$benchtime")

run() {
	for m in "${mods[@]}"; do
		[ -f "$root/$m/go.mod" ] || { echo "bench.sh: $m is not a module" >&2; exit 2; }
		# go test prints goos/goarch/pkg/cpu headers per package, which
		# benchstat uses to keep packages apart.
		(cd "$root/$m" && go test "${args[@]}" ./...) | grep -Ev '^(PASS|ok |\?)' || true
	done
}
if [ -n "$out" ]; then run | tee "$out"; else run; fi
