#!/usr/bin/env bash
# ci.sh runs everything CI checks. It is the README's test command; .ci/run and
# .github/workflows/ci.yml call it too, so a new user and CI run the same thing.
#
# Usage: tools/ci.sh [module-dir ...]
#   With no arguments every module in go.work is checked, then the repository-
#   wide checks run. With arguments only those modules are (one CI job each).
#
# Environment:
#   CI_RACE_COUNT  -count for `go test -race` (default 1)
#   CI_TIMEOUT     -timeout for each module's tests (default 10m)
#   CI_FUZZTIME    time per fuzz target in the final fuzz pass (default 5s;
#                  0 skips it); runs only when every module is checked
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
count=${CI_RACE_COUNT:-1}
timeout=${CI_TIMEOUT:-10m}
step() { printf '\n=== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [ $# -gt 0 ]; then
	mods=("$@")
	whole=0
else
	mapfile -t mods < <(sed -n 's|^\t\./||p' go.work)
	whole=1
fi

# Go tools the tests use: h2spec checks server/protocol/http2's conformance
# (its test skips, saying so, only if h2spec cannot be installed).
export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v h2spec >/dev/null; then
	step "installing h2spec"
	go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible ||
		echo "ci.sh: could not install h2spec; its conformance test will skip" >&2
fi

if [ $whole = 1 ]; then
	step "gofmt"
	unformatted=$(gofmt -l .)
	[ -z "$unformatted" ] || fail "not gofmt-ed: $unformatted"

	step "workspace files are generated and current"
	tools/workspace.sh --check || fail "run tools/workspace.sh"

	step "errors module imported as perr"
	bad=$(grep -rn --include='*.go' '"github.com/pingora-go/pingora/errors"' . | grep -v 'perr "' || true)
	[ -z "$bad" ] || fail "import the errors module as perr: $bad"
fi

for m in "${mods[@]}"; do
	[ -f "$m/go.mod" ] || fail "$m is not a module"
	step "module $m"
	(
		cd "$m"
		export GOWORK=off
		go mod tidy -diff || fail "$m: go.mod/go.sum not tidy (run tools/workspace.sh)"
		go vet ./... || fail "$m: go vet"
		go test -race -count="$count" -timeout="$timeout" ./... || fail "$m: tests"
		go test -run='^$' -bench=. -benchtime=1x -timeout="$timeout" ./... >/dev/null ||
			fail "$m: benchmarks (rerun without >/dev/null to see them)"
	) || exit 1
	# Extra build modes a module asks for: a file ci.extra next to its go.mod,
	# one shell command per line, run from the module's directory.
	if [ -f "$m/ci.extra" ]; then
		while IFS= read -r cmd; do
			case $cmd in '' | '#'*) continue ;; esac
			step "$m: $cmd"
			(cd "$m" && GOWORK=off bash -c "$cmd") || fail "$m: $cmd"
		done <"$m/ci.extra"
	fi
done

fuzztime=${CI_FUZZTIME:-5s}
if [ $whole = 1 ] && [ "$fuzztime" != 0 ]; then
	step "every fuzz target for $fuzztime"
	log=$(mktemp)
	if ! tools/fuzz.sh -t "$fuzztime" >"$log" 2>&1; then
		tail -n 60 "$log"
		fail "fuzzing found a failing input; it is now a seed under testdata/fuzz/"
	fi
	rm -f "$log"
fi

step "ok"
