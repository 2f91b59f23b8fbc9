#!/bin/sh
# filemodes — what the real binaries write is readable by its owner only (issue 12,
# security 5): the hub's database, its WAL and shared-memory files while serving, its
# backups, digests and page; the agent's database (it holds the hub token in clear) and
# its backups. The suite runs under umask 022, as a login shell would: the modes come
# from the programs themselves. Files left 0644 by an older version lose write access
# for the group and all access for others the next time a program opens them.
#
# Every process started is stopped by PID on exit (lib.sh). Run from the repository
# root; $LK_BIN holds the binaries.
set -u
. tests/e2e/lib.sh
umask 022

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
A1="$E2E_DIR/c1.db"

# mode_is NAME WANT FILE... — every FILE exists with mode WANT (stat -c %a).
mode_is() {
	name=$1; want=$2; shift 2
	bad=""
	for f in "$@"; do
		m=$(stat -c %a "$f" 2>/dev/null || echo missing)
		[ "$m" = "$want" ] || bad="$bad $(basename "$f")=$m"
	done
	if [ -z "$bad" ]; then ok "$name"; else fail "$name" "want $want:$bad"; fi
}

"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1
"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null
TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")
UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")
mode_is filemodes__hub_database_is_0600 600 "$DB"

if ! hub_start "$DB" hub; then
	fail filemodes__setup "the hub did not start"
	e2e_finish
fi
"$AGENT" init --db "$A1" --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN" >"$E2E_DIR/agent.out" 2>&1
"$AGENT" add --db "$A1" meeting kind=joint held_on=2021-03-14 attendees=20 >>"$E2E_DIR/agent.out" 2>&1
"$AGENT" sync --db "$A1" >>"$E2E_DIR/agent.out" 2>&1
mode_is filemodes__agent_database_holding_the_token_is_0600 600 "$A1"
# while serving, the hub keeps its WAL and shared-memory files
mode_is filemodes__hub_wal_and_shm_are_0600_while_serving 600 "$DB-wal" "$DB-shm"

"$HUB" backup --db "$DB" "$E2E_DIR/hub-backup.db" >"$E2E_DIR/backup.out" 2>&1
mode_is filemodes__hub_backup_is_0600 600 "$E2E_DIR/hub-backup.db"

mkdir -p "$E2E_DIR/digest"
today=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-%d)
"$HUB" digest --db "$DB" --date "$today" --out "$E2E_DIR/digest" >"$E2E_DIR/digest.out" 2>&1
"$HUB" dashboard --db "$DB" --out "$E2E_DIR/page.html" >"$E2E_DIR/page.out" 2>&1
set -- "$E2E_DIR"/digest/*
if [ $# -ge 4 ]; then
	mode_is filemodes__digest_files_and_page_are_0600 600 "$@" "$E2E_DIR/page.html"
else
	fail filemodes__digest_files_and_page_are_0600 "digest wrote $# files: $(tail -2 "$E2E_DIR/digest.out" | tr '\n' ' ')"
fi

"$AGENT" backup --db "$A1" --dir "$E2E_DIR" >"$E2E_DIR/abackup.out" 2>&1
set -- "$E2E_DIR"/lienket-*.db
if [ -f "$1" ]; then
	mode_is filemodes__agent_backups_are_0600 600 "$@"
else
	fail filemodes__agent_backups_are_0600 "no backup: $(cat "$E2E_DIR/abackup.out")"
fi
stop "$HUB_PID_hub"

# Files an older version left 0644 are tightened when opened for writing.
chmod 644 "$DB" "$A1"
"$HUB" enroll --db "$DB" --viewer >/dev/null 2>&1
"$AGENT" add --db "$A1" meeting kind=joint held_on=2021-04-11 >>"$E2E_DIR/agent.out" 2>&1
mode_is filemodes__existing_world_readable_databases_are_tightened 640 "$DB" "$A1"

if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$E2E_DIR/hub.log" "$E2E_DIR/agent.out"; then
	fail filemodes__clean_under_sanitizers "$(grep -m1 -h 'Sanitizer\|runtime error' "$E2E_DIR/hub.log" "$E2E_DIR/agent.out")"
else
	ok filemodes__clean_under_sanitizers
fi
e2e_finish
