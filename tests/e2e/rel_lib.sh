# tests/e2e/rel_lib.sh — shared by tests/e2e/faults.sh and scripts/soak.sh (sourced
# after tests/e2e/lib.sh, POSIX sh): a hub on a fixed port that can be killed and
# restarted, the fault proxy with a control file, office agents, records written
# through the agent's own journaling triggers, crash iterations and the invariant
# check "the hub holds exactly what the agents recorded, every entry acknowledged,
# none applied twice".
#
# Records are written with python3's sqlite3 module straight into the agent database:
# the agent journals every write to a synced table by trigger, whoever makes it
# (agent/store.c), so these are journaled exactly like `lienket-agent add` — and cost
# milliseconds instead of an ASan process start. A few real `add`s are mixed in.
#
# Counters (for the soak report): REL_FAULTS_SET, REL_AGENT_KILLS, REL_HUB_KILLS,
# REL_SYNCS, REL_SYNC_FAILS, REL_RECORDS.
#
# scripts/run-tests.sh runs every tests/e2e/*.sh: run on its own this file only says
# what it is and exits 0 (no case lines).
if [ -z "${E2E_DIR:-}" ]; then
	echo "rel_lib.sh: helpers sourced by tests/e2e/faults.sh and scripts/soak.sh; nothing to run"
	exit 0
fi

UNITS=${UNITS:-tests/fixtures/units-small.csv}
REL_HUB_DB=$(hub_db hub)
REL_HUB_LOG="$E2E_DIR/hub.log"
REL_HUB_PID=""
REL_HUB_PORT=""
REL_PROXY_PID=""
REL_PROXY_URL=""
REL_CTL="$E2E_DIR/proxy.ctl"
REL_PROXY_LOG="$E2E_DIR/proxy.log"
REL_AGENTS=""
REL_AGENT_KILLS=0
REL_HUB_KILLS=0
REL_SYNCS=0
REL_SYNC_FAILS=0
REL_FAULTS_SET=0
REL_PY="$E2E_DIR/rel.py"

cat >"$REL_PY" <<'PY'
"""rel.py — records, clones and the invariant check for faults.sh / soak.sh."""
import hashlib, json, os, random, sqlite3, sys, time, uuid
sys.path.insert(0, os.environ.get("LK_E2E_PY", "tests/e2e"))
import hubdb  # noqa: E402 (the hub's database: SQLite or PostgreSQL, LK_STORE)

def connect(path):
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 30000")
    return con

def new_id():
    # A UUIDv7 like the agent's: time-ordered, lowercase.
    ms = int(time.time() * 1000)
    r = random.getrandbits(74)
    n = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))
    return str(uuid.UUID(int=n))

def record(db, n, seed, expect, inserts_only=False):
    """n operations: inserts of person/meeting, updates and deletes of rows this
    office wrote before. Appends 'table id alive|dead' lines to expect."""
    rnd = random.Random(seed)
    con = connect(db)
    unit = con.execute("SELECT unit_id FROM lk_state").fetchone()[0]
    mine = {}
    if os.path.exists(expect):
        for line in open(expect):
            t, i, s = line.split()
            if s == "alive":
                mine[i] = t
            else:
                mine.pop(i, None)
    out = []
    con.execute("BEGIN IMMEDIATE")
    for k in range(n):
        roll = rnd.random()
        if inserts_only:
            roll = 0.4 + 0.6 * roll
        if mine and roll < 0.15:
            i = rnd.choice(sorted(mine))
            con.execute('DELETE FROM "%s" WHERE id = ?' % mine[i], (i,))
            out.append("%s %s dead" % (mine.pop(i), i))
        elif mine and roll < 0.40:
            i = rnd.choice(sorted(mine))
            if mine[i] == "person":
                con.execute("UPDATE person SET phone = ? WHERE id = ?", ("09%08d" % rnd.randrange(10**8), i))
            else:
                con.execute("UPDATE meeting SET attendees = ? WHERE id = ?", (rnd.randrange(1000), i))
        elif roll < 0.75:
            i = new_id()
            con.execute("INSERT INTO person(id, unit_id, full_name, birth_year, gender) VALUES(?,?,?,?,?)",
                        (i, unit, "Người %d-%d" % (seed, k), 1950 + rnd.randrange(60),
                         rnd.choice(["nam", "nu", "khac", None])))
            mine[i] = "person"
            out.append("person %s alive" % i)
        else:
            i = new_id()
            con.execute("INSERT INTO meeting(id, unit_id, kind, held_on, attendees, concerns) VALUES(?,?,?,?,?,?)",
                        (i, unit, rnd.choice(["giao_ban", "branch", "joint"]),
                         "2024-%02d-%02d" % (1 + rnd.randrange(12), 1 + rnd.randrange(28)),
                         rnd.randrange(200), "Kiến nghị số %d" % k))
            mine[i] = "meeting"
            out.append("meeting %s alive" % i)
    con.execute("COMMIT")
    con.close()
    with open(expect, "a") as f:
        f.write("".join(l + "\n" for l in out))

def clone(template, out, token, records, seed):
    """A copy of an initialised agent database under a new agent id and token."""
    src = connect(template)
    dst = sqlite3.connect(out)
    src.backup(dst)
    dst.close()
    src.close()
    con = connect(out)
    con.execute("UPDATE lk_state SET agent_id = ? WHERE one = 1", (str(uuid.uuid4()),))
    con.execute("UPDATE lk_config SET value = ? WHERE key = 'token'", (token,))
    con.close()
    if records:
        record(out, records, seed, out + ".expect", inserts_only=True)

def clonemany(listfile, records):
    """Lines 'TEMPLATE OUT TOKEN SEED': one clone each (one python start for all)."""
    for line in open(listfile):
        t, o, tok, seed = line.split()
        clone(t, o, tok, records, int(seed))

DATA = ('person', 'meeting', 'support', 'task', 'volunteer', 'year_record', 'role')

def data_tables(con):
    return [t for t in hubdb.tables(con) if t in DATA]

def columns(con, t):
    return [c for c in hubdb.columns(con, t) if not c.startswith("_")]

EXISTS = ("(_ins_writer <> '' AND (_del_writer = '' OR _ins_clock > _del_clock OR "
          "(_ins_clock = _del_clock AND _ins_writer > _del_writer)))")

def check(hub_db, agent_dbs, label):
    """Prints one JSON line; exit 0 when every invariant holds."""
    hub = hubdb.connect(hub_db)
    problems, lost, extra, dup, entries, quarantined = [], 0, 0, 0, 0, 0
    union, units, expected = {}, set(), {}
    for db in agent_dbs:
        a = connect(db)
        agent, unit, acked = a.execute("SELECT agent_id, unit_id, acked_seq FROM lk_state").fetchone()
        units.add(unit)
        top = a.execute("SELECT coalesce(max(seq), 0) FROM lk_journal").fetchone()[0]
        pend = a.execute("SELECT count(*) FROM lk_journal WHERE seq > ?", (acked,)).fetchone()[0]
        entries += top
        name = os.path.basename(db)
        if pend:
            problems.append("%s: %d entries pending" % (name, pend))
        h = hub.execute("SELECT acked FROM hub_agent WHERE id = ?", (agent,)).fetchone()
        if top and (not h or h[0] != top):
            problems.append("%s: hub acked %s, journal ends at %d" % (name, h and h[0], top))
        s = hub.execute("SELECT coalesce(sum(applied + quarantined + held + skipped), 0), "
                        "coalesce(sum(quarantined), 0) FROM hub_receipt "
                        "WHERE agent_id = ? AND duplicate = 0", (agent,)).fetchone()
        quarantined += s[1]
        if s[0] != top:
            problems.append("%s: receipts count %d entries applied, journal has %d" % (name, s[0], top))
            if s[0] > top:
                dup += s[0] - top
        for t in data_tables(a):
            cols = columns(a, t)
            for r in a.execute('SELECT %s FROM "%s"' % (", ".join('"%s"' % c for c in cols), t)):
                union.setdefault(t, set()).add(r)
        if os.path.exists(db + ".expect"):
            mine = {}
            for line in open(db + ".expect"):
                t, i, st = line.split()
                if st == "alive":
                    mine[i] = t
                else:
                    mine.pop(i, None)
            have = {r[0] for t in data_tables(a) for r in a.execute('SELECT id FROM "%s"' % t)}
            missing = [i for i in mine if i not in have]
            if missing:
                problems.append("%s: %d recorded rows gone from the agent itself" % (name, len(missing)))
                lost += len(missing)
            expected.update(mine)
        a.close()
    hub_sets, digests = {}, {}
    for t in data_tables(hub):
        cols = [c for c in columns(hub, t)]
        q = 'SELECT %s FROM "%s" WHERE %s AND unit_id IN (%s)' % (
            ", ".join('"%s"' % c for c in cols), t, EXISTS, ",".join("?" * len(units)))
        hub_sets[t] = set(hub.execute(q, sorted(units)))
    for t in sorted(set(hub_sets) | set(union)):
        hs, us = hub_sets.get(t, set()), union.get(t, set())
        dh = hashlib.sha256(repr(sorted(hs)).encode()).hexdigest()[:16]
        du = hashlib.sha256(repr(sorted(us)).encode()).hexdigest()[:16]
        if hs or us:
            digests[t] = "%d:%s" % (len(hs), dh) if dh == du else "hub %d:%s agents %d:%s" % (len(hs), dh, len(us), du)
        if hs != us:
            miss, more = us - hs, hs - us
            lost += len({r[0] for r in miss} - {r[0] for r in more})
            extra += len({r[0] for r in more} - {r[0] for r in miss})
            problems.append("%s: %d agent rows not at the hub as they are, %d hub rows no agent has "
                            "(e.g. %s)" % (t, len(miss), len(more), sorted(miss or more)[0][:3]))
    hub_ids = {r[0] for rows in hub_sets.values() for r in rows}
    gone = [i for i in expected if i not in hub_ids]
    if gone:
        problems.append("%d recorded rows missing at the hub" % len(gone))
        lost = max(lost, len(gone))
    print(json.dumps({"label": label, "ok": not problems, "agents": len(agent_dbs), "entries": entries,
                      "expected_rows": len(expected), "lost": lost, "duplicated": dup, "extra": extra,
                      "quarantined": quarantined, "tables": digests, "problems": problems[:8]},
                     ensure_ascii=False))
    return 0 if not problems else 1

def powercut(db, first_name):
    """Rows named first_name* and the journal entries inserting them: (rows, entries)."""
    con = connect(db)
    ids = [r[0] for r in con.execute("SELECT id FROM person WHERE full_name LIKE ?", (first_name + "%",))]
    j = con.execute("SELECT count(*) FROM lk_journal WHERE tbl = 'person' AND op = 'i' AND "
                    "json_extract(fields, '$.full_name') LIKE ?", (first_name + "%",)).fetchone()[0]
    print(len(ids), j)

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "record":
        record(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[2] + ".expect")
    elif cmd == "clone":
        clone(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "clonemany":
        clonemany(sys.argv[2], int(sys.argv[3]))
    elif cmd == "check":
        sys.exit(check(sys.argv[2], sys.argv[4:], sys.argv[3]))
    elif cmd == "powercut":
        powercut(sys.argv[2], sys.argv[3])
    elif cmd == "csv":
        n, prefix = int(sys.argv[3]), sys.argv[4]
        with open(sys.argv[2], "w") as f:
            f.write("full_name,birth_year,gender\n")
            for k in range(n):
                f.write("%s %d,%d,%s\n" % (prefix, k, 1960 + k % 50, ("nam", "nu")[k % 2]))
PY

# rel_rand MAX — sets REL_R to a pseudo-random integer in [0, MAX) (an LCG seeded by
# REL_SEED, so a run can be repeated; not a command substitution, which would lose
# the state in a subshell).
REL_SEED=${REL_SEED:-$$}
rel_rand() {
	REL_SEED=$(( (REL_SEED * 1103515245 + 12345) % 2147483648 ))
	REL_R=$(( (REL_SEED / 65536) % $1 ))
}

# rel_hub_init — creates the hub database with the small province.
rel_hub_init() {
	"$HUB" init --db "$REL_HUB_DB" --units "$UNITS" >"$E2E_DIR/hub-init.log" 2>&1
}

# rel_hub_up — starts the hub (on REL_HUB_PORT once it has one, so agents and the
# proxy keep their address across restarts); waits until /healthz answers.
rel_hub_up() {
	rm -f "$E2E_DIR/hub.port"
	"$HUB" serve --db "$REL_HUB_DB" --listen "127.0.0.1:${REL_HUB_PORT:-0}" \
		--port-file "$E2E_DIR/hub.port" >>"$REL_HUB_LOG" 2>&1 &
	REL_HUB_PID=$!
	e2e_track $REL_HUB_PID
	if ! wait_file "$E2E_DIR/hub.port" 150; then
		# The port may still be held by the killed hub's sockets for a moment.
		sleep 1
		"$HUB" serve --db "$REL_HUB_DB" --listen "127.0.0.1:${REL_HUB_PORT:-0}" \
			--port-file "$E2E_DIR/hub.port" >>"$REL_HUB_LOG" 2>&1 &
		REL_HUB_PID=$!
		e2e_track $REL_HUB_PID
		wait_file "$E2E_DIR/hub.port" 150 || return 1
	fi
	REL_HUB_PORT=$(cat "$E2E_DIR/hub.port")
	REL_HUB_URL="http://127.0.0.1:$REL_HUB_PORT"
}

# rel_hub_kill — kill -9 the hub (a power cut of the server).
rel_hub_kill() {
	kill -9 "$REL_HUB_PID" 2>/dev/null
	wait "$REL_HUB_PID" 2>/dev/null
	REL_HUB_KILLS=$((REL_HUB_KILLS + 1))
}

# rel_proxy_up — the fault proxy in front of the hub, driven by $REL_CTL.
rel_proxy_up() {
	echo "fault=none" >"$REL_CTL"
	rm -f "$E2E_DIR/proxy.port"
	"$LK_BIN/tools/faultproxy" --listen 127.0.0.1:0 --port-file "$E2E_DIR/proxy.port" \
		--target "127.0.0.1:$REL_HUB_PORT" --control-file "$REL_CTL" --control-check-ms 20 \
		--seed "${REL_PROXY_SEED:-1}" --log "$REL_PROXY_LOG" 2>/dev/null &
	REL_PROXY_PID=$!
	e2e_track $REL_PROXY_PID
	wait_file "$E2E_DIR/proxy.port" 100 || return 1
	REL_PROXY_URL="http://127.0.0.1:$(cat "$E2E_DIR/proxy.port")"
}

# rel_proxy_set LINE... — writes the control file atomically, waits for the reload.
rel_proxy_set() {
	_rn=$(grep -c 'control (file changed)' "$REL_PROXY_LOG" 2>/dev/null)
	printf '%s\n' "$@" >"$REL_CTL.tmp"
	mv "$REL_CTL.tmp" "$REL_CTL"
	_ri=0
	while [ "$(grep -c 'control (file changed)' "$REL_PROXY_LOG" 2>/dev/null)" -le "$_rn" ] && [ $_ri -lt 50 ]; do
		sleep 0.05; _ri=$((_ri + 1))
	done
	REL_FAULTS_SET=$((REL_FAULTS_SET + 1))
}

# rel_proxy_stat KEY — a counter from the proxy's stats line (SIGUSR1).
rel_proxy_stat() {
	_rn=$(grep -c ' stats ' "$REL_PROXY_LOG" 2>/dev/null)
	kill -USR1 "$REL_PROXY_PID" 2>/dev/null
	_ri=0
	while [ "$(grep -c ' stats ' "$REL_PROXY_LOG" 2>/dev/null)" -le "$_rn" ] && [ $_ri -lt 40 ]; do
		sleep 0.05; _ri=$((_ri + 1))
	done
	grep ' stats ' "$REL_PROXY_LOG" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# rel_enroll CODE — prints a new office token for the unit with that code.
rel_enroll() {
	"$HUB" enroll --db "$REL_HUB_DB" --unit "$1" 2>>"$E2E_DIR/enroll.log" | sed -n 's/^token: *//p'
}

rel_unit() { "$HUB" units list --db "$REL_HUB_DB" | awk -F '\t' -v c="$1" '$2 == c { print $1 }'; }

# rel_agent NAME CODE URL — a real `lienket-agent init` for unit CODE at URL, which
# syncs once; the database is $E2E_DIR/NAME.db.
rel_agent() {
	_rtok=$(rel_enroll "$2")
	_ru=$(rel_unit "$2")
	"$AGENT" init --db "$E2E_DIR/$1.db" --unit "$_ru" --hub "$3" --token "$_rtok" \
		>"$E2E_DIR/$1.init.log" 2>&1 || return 1
	REL_AGENTS="$REL_AGENTS $1"
}

# rel_record NAME N — N journaled writes on agent NAME.
rel_record() {
	REL_SEEDN=$(( ${REL_SEEDN:-0} + 1 ))
	python3 "$REL_PY" record "$E2E_DIR/$1.db" "$2" "$(( REL_SEED % 100000 * 1000 + REL_SEEDN ))"
	REL_RECORDS=$(( ${REL_RECORDS:-0} + $2 ))
}

# rel_sync NAME — one `lienket-agent sync`; returns its exit status.
rel_sync() {
	REL_SYNCS=$((REL_SYNCS + 1))
	"$AGENT" sync --quiet --db "$E2E_DIR/$1.db" >>"$E2E_DIR/$1.sync.log" 2>&1
	_rr=$?
	[ $_rr -eq 0 ] || REL_SYNC_FAILS=$((REL_SYNC_FAILS + 1))
	return $_rr
}

# rel_sync_all_bg NAMES... — starts a sync of each in the background; REL_BG = pids.
rel_sync_all_bg() {
	REL_BG=""
	for _ra in "$@"; do
		"$AGENT" sync --quiet --db "$E2E_DIR/$_ra.db" >>"$E2E_DIR/$_ra.sync.log" 2>&1 &
		REL_BG="$REL_BG $!"
		e2e_track $!
		REL_SYNCS=$((REL_SYNCS + 1))
	done
}

# rel_wait_bg — waits for REL_BG; counts failures; REL_CODES = the exit statuses.
rel_wait_bg() {
	REL_CODES=""
	for _rp in $REL_BG; do
		wait "$_rp"
		_rr=$?
		[ $_rr = 0 ] || REL_SYNC_FAILS=$((REL_SYNC_FAILS + 1))
		REL_CODES="$REL_CODES${REL_CODES:+ }$_rr"
	done
	REL_BG=""
}

# rel_pending NAME — entries not yet acknowledged (from the agent database).
rel_pending() {
	sqlite3 "$E2E_DIR/$1.db" "SELECT count(*) FROM lk_journal WHERE seq > (SELECT acked_seq FROM lk_state)" 2>/dev/null
}

# rel_converge NAMES... — syncs all (no faults) until none has pending entries and a
# last round changed nothing; at most 6 rounds. Returns 0 when converged.
rel_converge() {
	_rround=0
	while [ $_rround -lt 6 ]; do
		rel_sync_all_bg "$@"
		rel_wait_bg
		_rleft=0
		for _ra in "$@"; do [ "$(rel_pending "$_ra")" = 0 ] || _rleft=$((_rleft + 1)); done
		_rround=$((_rround + 1))
		if [ $_rleft -eq 0 ]; then
			# One more round so every agent pulls what the others sent last.
			rel_sync_all_bg "$@"
			rel_wait_bg
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# rel_check LABEL NAMES... — the invariant check; prints its JSON line to
# $E2E_DIR/check.json; returns 0 when it holds. REL_WHY: the problems.
rel_check() {
	_rlabel=$1; shift
	_rdbs=""
	for _ra in "$@"; do _rdbs="$_rdbs $E2E_DIR/$_ra.db"; done
	# shellcheck disable=SC2086
	python3 "$REL_PY" check "$REL_HUB_DB" "$_rlabel" $_rdbs >"$E2E_DIR/check.json" 2>&1
	_rr=$?
	REL_WHY=$(python3 -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))
    print("; ".join(d["problems"]) or "ok", "| lost", d["lost"], "duplicated", d["duplicated"], "extra", d["extra"])
except Exception as e:
    print(open(sys.argv[1]).read()[-300:])' "$E2E_DIR/check.json")
	# With REL_STATUS_CHECK=1, each agent's own view too: `status --json` says
	# pending 0 and that its unit checksums agree with the hub's (PROTOCOL.md §8).
	if [ "${REL_STATUS_CHECK:-0}" = 1 ]; then
		for _ra in "$@"; do
			_rs=$("$AGENT" status --json --db "$E2E_DIR/$_ra.db" 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin)
print("ok" if d["pending"] == 0 and d["checksums_agree"] is True else "pending %s checksums_agree %s" % (d["pending"], d["checksums_agree"]))' 2>&1)
			if [ "$_rs" != ok ]; then
				_rr=1
				REL_WHY="$REL_WHY; $_ra status: $_rs"
			fi
		done
	fi
	return $_rr
}

# rel_crash_iteration NAMES... — one crash iteration: a few records on some agents,
# all of them syncing, then kill -9 of one agent at a random point and, every other
# time, kill -9 of the hub at a random point of the merge (restarted on its port).
rel_crash_iteration() {
	for _ra in "$@"; do
		rel_rand 2
		if [ $REL_R = 0 ]; then
			rel_rand 6
			rel_record "$_ra" $((1 + REL_R))
		fi
	done
	rel_sync_all_bg "$@"
	# shellcheck disable=SC2086
	set -- $REL_BG
	rel_rand 400
	sleep "0.$(printf '%03d' $REL_R)"
	rel_rand $#
	_rvictim=$REL_R
	_ri=0
	for _rp in "$@"; do
		if [ $_ri = "$_rvictim" ] && kill -9 "$_rp" 2>/dev/null; then
			REL_AGENT_KILLS=$((REL_AGENT_KILLS + 1))
		fi
		_ri=$((_ri + 1))
	done
	rel_rand 2
	if [ $REL_R = 0 ]; then
		rel_rand 100
		sleep "0.0$(printf '%02d' $REL_R)"
		rel_hub_kill
		rel_hub_up || return 1
	fi
	rel_wait_bg
	return 0
}
