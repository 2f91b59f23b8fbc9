#!/bin/sh
# check-store-seam.sh [ROOT] — the hub's storage seam (issue 15): no file under
# ROOT/hub/ outside ROOT/hub/store/ names a database library. It fails (exit 1, each
# offending line printed as FILE:LINE:TEXT) when such a file includes sqlite3.h or
# libpq-fe.h (or figures_sqlite.h, which includes sqlite3.h), or uses an SQLite or libpq
# function or handle (sqlite3_*(), sqlite3 *, sqlite3_stmt, PQ*(), PGconn, PGresult).
# Comment lines (starting with /*, * or //) are not code and are skipped.
# ROOT defaults to the current directory (the repository root).
set -u
root=${1:-.}
[ -d "$root/hub" ] || { echo "check-store-seam: no $root/hub" >&2; exit 64; }
found=$(find "$root/hub" -path "$root/hub/store" -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print |
	sort | xargs grep -nE \
	'#[[:space:]]*include[[:space:]]*[<"](sqlite3|libpq-fe|figures_sqlite)\.h[>"]|\bsqlite3_[a-z0-9_]+[[:space:]]*\(|\bsqlite3(_stmt)?[[:space:]]*\*|\bPQ[a-zA-Z]+[[:space:]]*\(|\bPG(conn|result)\b' \
	/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*|//)')
if [ -n "$found" ]; then
	echo "$found"
	echo "check-store-seam: the files above name a database library outside hub/store/" >&2
	exit 1
fi
exit 0
