#!/usr/bin/env bash
# Builds (once) the .deb of the previous released version named in packaging/previous-release,
# from `git archive` of that commit, into a cache folder keyed by the commit, outside the tree:
# $DEPOT_VM_CACHE (default /var/cache/depot-agent-vm)/prev-<commit>/. Prints the .deb's path.
#
#   tests/system/prev-deb.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache_root=${DEPOT_VM_CACHE:-/var/cache/depot-agent-vm}
commit=$(grep -v '^#' "$top/packaging/previous-release" | grep -E '^[0-9a-f]{40}$' | head -n 1)
[ -n "$commit" ] || { echo "prev-deb.sh: no commit in packaging/previous-release" >&2; exit 1; }
dir=$cache_root/prev-$commit
if [ -f "$dir/done" ]; then ls "$dir"/depot-agent_*.deb; exit 0; fi
if ! git -C "$top" cat-file -e "$commit^{commit}" 2>/dev/null; then
  # A shallow CI checkout: fetch the history once, when the origin can be reached.
  if [ "$(git -C "$top" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
    git -C "$top" fetch -q --unshallow 2>/dev/null || true
  fi
  git -C "$top" cat-file -e "$commit^{commit}" 2>/dev/null || {
    echo "prev-deb.sh: SKIPPED: commit $commit (packaging/previous-release) is not in this clone" \
      "and could not be fetched (a shallow clone? git fetch --unshallow)" >&2
    exit 77
  }
fi
mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/prev-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "prev-deb.sh: building the .deb of $commit (once; cached in $dir)" >&2
mkdir "$work/src"
git -C "$top" archive "$commit" | tar -x -C "$work/src"
( cd "$work/src" &&
  CCACHE_BASEDIR=$work/src cmake --preset dev -DDEPOT_BUILD_TESTS=OFF -DDEPOT_BUILD_BENCH=OFF >"$work/build.log" 2>&1 &&
  CCACHE_BASEDIR=$work/src nice -n 5 cmake --build --preset dev -j2 --target depot-agent >>"$work/build.log" 2>&1 &&
  cpack --config build/dev/CPackConfig.cmake -G DEB -B "$work/deb" >>"$work/build.log" 2>&1 ) ||
  { tail -n 40 "$work/build.log" >&2; echo "prev-deb.sh: build of $commit failed" >&2; exit 1; }
mkdir -p "$dir"
mv "$work"/deb/depot-agent_*.deb "$dir/"
echo "$commit" >"$dir/done"
ls "$dir"/depot-agent_*.deb
