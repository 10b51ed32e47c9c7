#!/usr/bin/env bash
# release.sh tags one module at a version and bumps that module's require line
# in every in-repo module that depends on it, in one commit.
#
# Usage: tools/release.sh <module-dir> <version>     e.g. tools/release.sh ketama v0.1.0
#
# Release in dependency order (STYLE.md): errors → httpheader, timeout, limits,
# ketama, tinyufo → pool, memcache → tlsbackend → server → balancer → proxy →
# umbrella. The local replace lines stay: they are what the workspace builds
# with; a user's `go get` ignores them and fetches the tagged version.
set -euo pipefail

[ $# -eq 2 ] || { sed -n '2,9p' "$0"; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${1%/} ver=$2
[[ $ver =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "release.sh: $ver is not a semantic version" >&2; exit 2; }
[ -f "$dir/go.mod" ] || { echo "release.sh: $dir is not a module" >&2; exit 2; }
[ -z "$(git status --porcelain)" ] || { echo "release.sh: the tree has uncommitted changes" >&2; exit 1; }
mod=$(sed -n 's/^module //p' "$dir/go.mod")
tag=$dir/$ver
git rev-parse -q --verify "refs/tags/$tag" >/dev/null && { echo "release.sh: tag $tag exists" >&2; exit 1; }

tools/ci.sh "$dir"
git tag -a "$tag" -m "$mod $ver"
changed=0
while read -r f; do
	if grep -q "^require $mod \|^	$mod " "$f"; then
		(cd "$(dirname "$f")" && go mod edit -require="$mod@$ver")
		changed=1
	fi
done < <(find . -name go.mod -not -path '*/testdata/*' -not -path "./$dir/go.mod")
if [ $changed = 1 ]; then
	git commit -qam "deps: require $mod $ver"
fi
echo "tagged $tag; push with: git push origin $tag HEAD"
