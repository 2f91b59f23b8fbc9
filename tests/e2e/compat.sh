#!/bin/sh
# compat — protocol 2 against protocol 1, end to end (PROTOCOL.md §6.1, §6.2a): the real
# programs of the last commit before change-set shape 2 (built by the Makefile into
# $LK_BIN/compat/, lienket-hub-p1 and lienket-agent-p1) against today's.
#   - a new agent with an old hub: the hello answer names no shape, the agent sends
#     shape 1, every entry reaches the hub exactly once, nothing is refused;
#   - an old agent with the new hub: the hub takes its shape-1 change sets, exactly once;
#   - a new agent with the new hub sends shape 2 (the control: the same records).
# Each laptop enters the same records offline (people added, edited, removed, imported
# with Vietnamese text, a meeting hosted by the commune: a UUID value), syncs, and syncs again: the
# second sync sends nothing. The hub's log says each change set's shape (shape=N) and
# how many entries it merged; the laptop's status says its checksums agree.
#
# Prints one cmocka-style line per case; every process it starts is tracked and stopped
# by PID. Run from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
OLD_HUB="$LK_BIN/compat/lienket-hub-p1"
OLD_AGENT="$LK_BIN/compat/lienket-agent-p1"
NEW_HUB=$HUB
NEW_AGENT=$AGENT
AGENT_LANG=en_US.UTF-8

for bin in "$NEW_HUB" "$NEW_AGENT" "$OLD_HUB" "$OLD_AGENT"; do
	if [ ! -x "$bin" ]; then
		fail compat__programs_are_built "'$bin' missing (make B=$LK_BIN all-tests)"
		e2e_finish
	fi
done

# hub_for NAME HUBBIN — a hub database NAME.db made and served by HUBBIN; sets HDB, HLOG,
# HPID, UNIT, TOKEN (a token of the commune) and HUB_URL.
hub_for() {
	HUB=$2
	HDB="$E2E_DIR/$1.db"
	HLOG="$E2E_DIR/$1.log"
	"$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/$1-init.log" 2>&1 || return 1
	UNIT=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' -v c="$COMMUNE_CODE" '$2 == c { print $1 }')
	TOKEN=$("$HUB" enroll --db "$HDB" --unit "$COMMUNE_CODE" --name "$1" 2>/dev/null |
		sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' | head -n 1)
	[ -n "$UNIT" ] && [ -n "$TOKEN" ] || return 1
	hub_start "$HDB" "$1" || return 1
	eval "HPID=\$HUB_PID_$1"
}

# laptop NAME AGENTBIN — a laptop database NAME.db set up by AGENTBIN for the hub of
# hub_for, with the same records entered offline each time; sets ADB, ENTRIES (how many
# entries it journaled).
laptop() {
	AGENT=$2
	ADB="$E2E_DIR/$1.db"
	ag "$1-init" "$ADB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN" || return 1
	[ "$RC" = 0 ] || return 1
	ag "$1-a1" "$ADB" add person "full_name=Nguyễn Thị Hoa" birth_year=1998 gender=nu phone=0901234567
	P1=$(cat "$E2E_DIR/$1-a1.out")
	ag "$1-a2" "$ADB" add person "full_name=Trần Văn Bình" birth_year=1995 gender=nam
	P2=$(cat "$E2E_DIR/$1-a2.out")
	ag "$1-a3" "$ADB" set person "$P1" phone=0987654321
	ag "$1-a4" "$ADB" rm person "$P2"
	ag "$1-a5" "$ADB" add meeting kind=branch held_on=2021-03-14 commune_secretary_attended=1 attendees=23 \
		"host_branch_id=$UNIT" "concerns=Thiếu kinh phí, \"sân chơi\""
	[ "$RC" = 0 ] || return 1
	{
		printf 'full_name,birth_year,gender,phone\n'
		i=0
		while [ $i -lt 60 ]; do printf 'Lê Thị Mai %d,%d,nu,09120%05d\n' $i $((1980 + i % 30)) $i; i=$((i + 1)); done
	} >"$E2E_DIR/$1-people.csv"
	ag "$1-a6" "$ADB" import person "$E2E_DIR/$1-people.csv"
	[ "$RC" = 0 ] || return 1
	ENTRIES=$(sqlite3 "$ADB" "SELECT seq FROM sqlite_sequence WHERE name = 'lk_journal'" 2>/dev/null)
	[ "${ENTRIES:-0}" -ge 65 ]
}

# synced_once NAME CASE SHAPE — syncs the laptop twice; passes when the first sync
# succeeded and the hub merged each of its ENTRIES exactly once, in change sets of SHAPE
# (old: the hub does not say), none refused; the second sync sent nothing; the laptop's
# checksums agree with the hub's.
synced_once() {
	ag "$1-s1" "$ADB" sync
	rc1=$RC
	lines1=$(grep -c 'POST /v1/changes' "$HLOG")
	ag "$1-s2" "$ADB" sync
	rc2=$RC
	lines2=$(grep -c 'POST /v1/changes' "$HLOG")
	refused=$(grep 'POST /v1/changes' "$HLOG" | grep -vc 'POST /v1/changes 200 ')
	applied=$(grep 'POST /v1/changes 200 ' "$HLOG" | sed -n 's/.* applied=\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	if [ "$3" = old ]; then
		shapes=$(grep 'POST /v1/changes 200 ' "$HLOG" | grep -c ' shape=')
		want_shapes=0
	else
		shapes=$(grep 'POST /v1/changes 200 ' "$HLOG" | grep -vc " shape=$3 ")
		want_shapes=0
	fi
	ag "$1-st" "$ADB" status --json
	agree=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("checksums_agree"), d.get("pending"))' \
		"$E2E_DIR/$1-st.out" 2>/dev/null)
	if [ "$rc1" != 0 ] || [ "$rc2" != 0 ]; then
		fail "$2" "sync exit $rc1, then $rc2: $(say "$1-s1")"
	elif [ "$lines1" -lt 1 ] || [ "$lines2" != "$lines1" ]; then
		fail "$2" "change sets: $lines1 in the first sync, $((lines2 - lines1)) in the second (want 0)"
	elif [ "$refused" != 0 ]; then
		fail "$2" "$refused change sets refused: $(grep 'POST /v1/changes' "$HLOG" | grep -v ' 200 ' | head -1)"
	elif [ "$applied" != "$ENTRIES" ]; then
		fail "$2" "the hub merged $applied entries of $ENTRIES"
	elif [ "$shapes" != "$want_shapes" ]; then
		fail "$2" "change sets not of shape $3: $(grep 'POST /v1/changes 200 ' "$HLOG" | head -1)"
	elif [ "$agree" != "True 0" ]; then
		fail "$2" "status: checksums_agree, pending = $agree"
	else
		ok "$2"
	fi
}

# ---- a new agent, a hub of protocol 1 ----
if hub_for old_hub "$OLD_HUB" && laptop new-laptop "$NEW_AGENT"; then
	synced_once new-laptop compat__new_agent_sends_shape_1_to_a_protocol_1_hub_exactly_once old
else
	fail compat__new_agent_sends_shape_1_to_a_protocol_1_hub_exactly_once "set-up failed: $(say new-laptop-a6) $(tail -2 "$HLOG")"
fi
stop "$HPID"

# ---- an agent of protocol 1, the new hub ----
if hub_for new_hub "$NEW_HUB" && laptop old-laptop "$OLD_AGENT"; then
	synced_once old-laptop compat__protocol_1_agent_is_served_by_the_new_hub_exactly_once 1
else
	fail compat__protocol_1_agent_is_served_by_the_new_hub_exactly_once "set-up failed: $(say old-laptop-a6) $(tail -2 "$HLOG")"
fi
stop "$HPID"

# ---- the control: a new agent, the new hub ----
if hub_for both_new "$NEW_HUB" && laptop new-new "$NEW_AGENT"; then
	synced_once new-new compat__new_agent_sends_shape_2_to_the_new_hub_exactly_once 2
else
	fail compat__new_agent_sends_shape_2_to_the_new_hub_exactly_once "set-up failed: $(say new-new-a6) $(tail -2 "$HLOG")"
fi
stop "$HPID"

e2e_finish
