#!/bin/sh
# Builds the Debian packages lienket-hub and lienket-agent (debian/, debhelper) and
# checks them with lintian.
#   scripts/deb.sh [--commit REV] OUT_DIR
# Without --commit: the working tree as it is (the files git tracks and the untracked
# ones it does not ignore). With --commit: that commit's tree (git archive); a commit
# from before the packaging existed gets this tree's debian/, contrib/ and
# scripts/manpages.sh.
# The version is the Makefile's VERSION + "+git<commits>.<hash>" (".dirty" for a
# working tree with changes), so a later commit always upgrades an earlier one. The
# .deb files, the .buildinfo and lintian's report (lintian.txt) end up in OUT_DIR.
# lintian's errors and warnings fail the build (the overrides, each with its reason,
# are in debian/*.lintian-overrides).
set -eu
commit=""
if [ "${1:-}" = --commit ]; then commit=$2; shift 2; fi
out=${1:?usage: scripts/deb.sh [--commit REV] OUT_DIR}
top=$(git rev-parse --show-toplevel)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lienket-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/lienket
mkdir "$src"
cd "$top"
if [ -n "$commit" ]; then
	rev=$(git rev-parse --verify "$commit^{commit}")
	git archive "$rev" | tar -x -C "$src"
	if [ ! -f "$src/debian/control" ]; then
		echo "deb.sh: $rev has no debian/: using this tree's packaging" >&2
		tar -c debian contrib scripts/manpages.sh | tar -x -C "$src"
	fi
	dirty=""
else
	rev=$(git rev-parse HEAD)
	git ls-files -z -c -o --exclude-standard | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar -c --null -T - | tar -x -C "$src"
	dirty=$(git status --porcelain | head -n 1)
fi
base=$(sed -n 's/^VERSION *:= *//p' "$src/Makefile")
count=$(git rev-list --count "$rev")
version="$base+git$count.$(git rev-parse --short=10 "$rev")${dirty:+.dirty}"
when=$(git log -1 --format=%cD "$rev")
maint=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
{
	printf 'lienket (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * Built from commit %s.\n\n' "$rev"
	printf ' -- %s  %s\n\n' "$maint" "$when"
	cat "$src/debian/changelog"
} >"$work/changelog"
mv "$work/changelog" "$src/debian/changelog"
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct "$rev")
echo "deb.sh: building $version" >&2
(cd "$src" && dpkg-buildpackage -us -uc -b -j2 >"$work/build.log" 2>&1) || {
	tail -40 "$work/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed" >&2
	exit 1
}
rm -f "$out"/lienket-*.deb "$out"/lienket_*.buildinfo "$out"/lienket_*.changes
mv "$work"/lienket-hub_"$version"_*.deb "$work"/lienket-agent_"$version"_*.deb "$out"/
mv "$work"/lienket_"$version"_*.buildinfo "$work"/lienket_"$version"_*.changes "$out"/ 2>/dev/null || true
echo "$version" >"$out/version"
if command -v lintian >/dev/null 2>&1; then
	# --fail-on warning: errors and warnings fail; info and pedantic tags are shown.
	lintian --info --display-info --pedantic --fail-on error,warning "$out"/lienket-*_"$version"_*.deb \
		>"$out/lintian.txt" 2>&1 || { cat "$out/lintian.txt" >&2; echo "deb.sh: lintian failed" >&2; exit 1; }
	cat "$out/lintian.txt" >&2
fi
ls "$out"/*.deb
