#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of one, several or all modules for a bounded
# time each. A failing input is written by `go test -fuzz` into the package's
# testdata/fuzz/<FuzzName>/ directory, where it becomes a permanent seed that
# every plain `go test` (and so tools/ci.sh) replays: commit it with the fix.
#
# Usage: tools/fuzz.sh [-t DURATION] [module-dir ...]
#   -t DURATION  time per target (default 30s), as go test -fuzztime takes it
#   module-dir   e.g. httpheader or server; none means every module
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzztime=30s
while [ $# -gt 0 ]; do
	case $1 in
	-t) fuzztime=$2; shift 2 ;;
	-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown flag $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -gt 0 ]; then mods=("$@"); else mapfile -t mods < <(sed -n 's|^\t\./||p' "$root/go.work"); fi

failed=()
for m in "${mods[@]}"; do
	[ -f "$root/$m/go.mod" ] || { echo "fuzz.sh: $m is not a module" >&2; exit 2; }
	cd "$root/$m"
	# Each package of the module with its fuzz targets (go test -list).
	for pkg in $(GOWORK=off go list ./...); do
		for target in $(GOWORK=off go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
			echo "=== $pkg $target ($fuzztime)"
			dir=$(GOWORK=off go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$target
			before=$({ ls "$dir" 2>/dev/null || true; } | wc -l)
			if ! GOWORK=off go test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" "$pkg"; then
				# A failure that saved no input is the fuzzer's own trouble
				# (a worker starved on a loaded machine), not a finding: try
				# once more before calling it one.
				after=$({ ls "$dir" 2>/dev/null || true; } | wc -l)
				if [ "$after" = "$before" ] &&
					GOWORK=off go test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" "$pkg"; then
					echo "fuzz.sh: $target failed once without an input, then passed" >&2
				else
					failed+=("$pkg $target")
				fi
			fi
		done
	done
done
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz.sh: failing targets (their inputs are now under testdata/fuzz/):\n' >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz.sh: all targets passed"
