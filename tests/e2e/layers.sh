#!/bin/sh
# layers — the hub's folders keep to their jobs (docs/ARCHITECTURE.md "hub/"): every read
# and write of the hub goes through the store's interface, so no file under hub/ outside
# hub/store/ names a database library (scripts/check-store-seam.sh; issue 15 item 1).
# No binary is run. Run from the repository root.
set -u
. tests/e2e/lib.sh

# ---- the repository as it is -------------------------------------------------------------
if sh scripts/check-store-seam.sh . >"$E2E_DIR/seam.out" 2>&1; then
	ok layers__no_hub_file_outside_store_names_a_database_library
else
	fail layers__no_hub_file_outside_store_names_a_database_library \
		"$(head -5 "$E2E_DIR/seam.out" | tr '\n' ' ')"
fi

# ---- the check itself fails on each way of naming one ------------------------------------
# A tree with a clean view and a store back end that may use SQLite, then one offending
# line at a time in the view: each must be caught, and a comment must not be.
T="$E2E_DIR/tree"
mkdir -p "$T/hub/views" "$T/hub/store"
printf '#include "store.h"\nint v(void) { return 0; }\n' >"$T/hub/views/view.c"
printf '#include <sqlite3.h>\n#include <libpq-fe.h>\nint b(sqlite3 *db) { return sqlite3_close(db); }\n' \
	>"$T/hub/store/back.c"
if sh scripts/check-store-seam.sh "$T" >/dev/null 2>&1; then
	ok layers__check_passes_a_store_back_end_that_uses_its_library
else
	fail layers__check_passes_a_store_back_end_that_uses_its_library "a clean tree was refused"
fi
missed=""
for line in '#include <sqlite3.h>' '#  include "libpq-fe.h"' '#include "figures_sqlite.h"' \
	'int n = sqlite3_changes(db);' 'static sqlite3_stmt *q;' 'int f(sqlite3 *db);' \
	'PGresult *r = PQexec(c, "SELECT 1");' 'PGconn *c;'; do
	printf '%s\n' "$line" >"$T/hub/views/bad.h"
	if sh scripts/check-store-seam.sh "$T" >/dev/null 2>&1; then missed="$missed [$line]"; fi
done
if [ -z "$missed" ]; then
	ok layers__check_catches_every_way_a_view_names_a_database_library
else
	fail layers__check_catches_every_way_a_view_names_a_database_library "not caught:$missed"
fi
printf '/* reads through store.h, never sqlite3_step() */\n * PQexec( is the back end'"'"'s\n' \
	>"$T/hub/views/bad.h"
if sh scripts/check-store-seam.sh "$T" >/dev/null 2>&1; then
	ok layers__check_ignores_comments
else
	fail layers__check_ignores_comments "a comment was taken for code"
fi

e2e_finish
