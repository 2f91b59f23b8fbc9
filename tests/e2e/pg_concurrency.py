"""pg_concurrency.py — records and checks for tests/e2e/pg_concurrency.sh (several
`lienket-hub serve` processes on one PostgreSQL database).

  record DB N SEED             N journaled writes on an office database (inserts, updates
                               and deletes of person and meeting rows of its unit)
  people DB N SEED             N new person rows of the office's unit
  edit DB SEED COLS            one update of every person row of the unit, setting COLS
                               (comma-separated: full_name, birth_year, phone)
  archive ARCHIVE DB...        adds every journal entry of each DB to the archive (JSON
                               lines; an entry's latest version wins), so that the oracle
                               still sees entries an office compacts away after its sync
  check HUB_URL ARCHIVE SPEC   the end state; prints one JSON line, exit 0 when it holds

SPEC is a JSON object: {"offices": [DB...], "pullers": {DB: [unit ids of its scope]}}.
The check, against the hub's tables read with psql (rows that exist by PROTOCOL.md §4):
  * exactly once: per office, the hub's non-duplicate receipts cover 1..acked without a
    gap or an overlap and count each entry once, and acked is the office's last journal
    sequence (nothing lost, nothing applied twice);
  * the merge rule: every person and meeting row any office wrote is, at the hub, what
    tests/e2e/merge_oracle.py's merge() makes of every write (existence, owner, each
    column's value, the insert and delete stamps); and no other row of those offices'
    units exists at the hub;
  * pullers: each puller's rows of those tables are exactly the hub's existing rows of
    its scope (a row committed behind a pull cursor would be missing: skipped);
  * the offices themselves hold the hub's rows of their unit.
Classes in the result: lost, duplicated, receipts, merge, extra, skipped, office.
"""
import json
import os
import random
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import merge_oracle  # noqa: E402  (the independent merge rule)

TABLES = ("person", "meeting")


connect = merge_oracle.connect


def new_id():
    ms = int(time.time() * 1000)
    r = random.getrandbits(74)
    n = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))
    return str(uuid.UUID(int=n))


def record(db, n, seed):
    rnd = random.Random(seed)
    con = connect(db)
    unit = con.execute("SELECT unit_id FROM lk_state").fetchone()[0]
    mine = [("person", r[0]) for r in con.execute("SELECT id FROM person WHERE unit_id = ?", (unit,))]
    mine += [("meeting", r[0]) for r in con.execute("SELECT id FROM meeting WHERE unit_id = ?", (unit,))]
    con.execute("BEGIN IMMEDIATE")
    for k in range(n):
        roll = rnd.random()
        if mine and roll < 0.1:
            t, i = mine.pop(rnd.randrange(len(mine)))
            con.execute('DELETE FROM "%s" WHERE id = ?' % t, (i,))
        elif mine and roll < 0.35:
            t, i = rnd.choice(mine)
            if t == "person":
                con.execute("UPDATE person SET phone = ? WHERE id = ?", ("09%08d" % rnd.randrange(10**8), i))
            else:
                con.execute("UPDATE meeting SET attendees = ? WHERE id = ?", (rnd.randrange(1000), i))
        elif roll < 0.7:
            i = new_id()
            con.execute("INSERT INTO person(id, unit_id, full_name, birth_year, gender) VALUES(?,?,?,?,?)",
                        (i, unit, "Người %d-%d" % (seed, k), 1950 + rnd.randrange(60),
                         rnd.choice(["nam", "nu", "khac", None])))
            mine.append(("person", i))
        else:
            i = new_id()
            con.execute("INSERT INTO meeting(id, unit_id, kind, held_on, attendees, concerns)"
                        " VALUES(?,?,?,?,?,?)",
                        (i, unit, rnd.choice(["giao_ban", "branch", "joint"]),
                         "2024-%02d-%02d" % (1 + rnd.randrange(12), 1 + rnd.randrange(28)),
                         rnd.randrange(200), "Kiến nghị số %d" % k))
            mine.append(("meeting", i))
    con.execute("COMMIT")
    con.close()


def people(db, n, seed):
    """n new person rows of the office's unit (the rows two laptops then edit at once)."""
    rnd = random.Random(seed)
    con = connect(db)
    unit = con.execute("SELECT unit_id FROM lk_state").fetchone()[0]
    con.execute("BEGIN IMMEDIATE")
    for k in range(n):
        con.execute("INSERT INTO person(id, unit_id, full_name, birth_year) VALUES(?,?,?,?)",
                    (new_id(), unit, "Người %d-%d" % (seed, k), 1950 + rnd.randrange(60)))
    con.execute("COMMIT")
    con.close()


def edit(db, seed, cols):
    rnd = random.Random(seed)
    con = connect(db)
    unit = con.execute("SELECT unit_id FROM lk_state").fetchone()[0]
    ids = [r[0] for r in con.execute("SELECT id FROM person WHERE unit_id = ? ORDER BY id", (unit,))]
    con.execute("BEGIN IMMEDIATE")
    for i in ids:
        vals = {"full_name": "Tên %d %s" % (seed, i[-4:]), "birth_year": 1950 + rnd.randrange(60),
                "phone": "08%08d" % rnd.randrange(10**8)}
        sets = [c for c in cols.split(",") if c]
        con.execute("UPDATE person SET %s WHERE id = ?" % ", ".join('"%s" = ?' % c for c in sets),
                    [vals[c] for c in sets] + [i])
    con.execute("COMMIT")
    con.close()


def journal(db):
    con = connect(db)
    agent = con.execute("SELECT agent_id FROM lk_state").fetchone()[0]
    out = [{"agent": agent, "seq": s, "tbl": t, "row": r, "op": o, "owner": w, "fields": f, "clock": c}
           for s, t, r, o, w, f, c in con.execute(
               "SELECT seq, tbl, row_id, op, owner, fields, clock FROM lk_journal ORDER BY seq")]
    con.close()
    return out


def archive(path, dbs):
    """One write of every line (O_APPEND): laptops archiving at once never interleave."""
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for db in dbs for e in journal(db))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        data = text.encode()
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def hub_rows(url, sql):
    """Rows of a query on the hub as dicts (json_agg: integers stay integers)."""
    q = "SELECT coalesce(json_agg(q), '[]'::json) FROM (%s) q" % sql
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", q],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


EXISTS = ("(_ins_writer <> '' AND (_del_writer = '' OR _ins_clock > _del_clock OR "
          "(_ins_clock = _del_clock AND _ins_writer COLLATE \"C\" > _del_writer COLLATE \"C\")))")


def columns(con, t):
    return [r[1] for r in con.execute('PRAGMA table_info("%s")' % t) if not r[1].startswith("_")]


def check(url, archive_path, spec):
    problems = {}

    def note(k, msg):
        problems.setdefault(k, []).append(msg)

    counts = {"lost": 0, "duplicated": 0}
    offices = spec.get("offices", [])
    # writes: the archive's entries and the offices' journals now; per (agent, seq) the
    # latest version seen
    entries = {}
    if os.path.exists(archive_path):
        for line in open(archive_path):
            e = json.loads(line)
            entries[(e["agent"], e["seq"])] = e
    units, tops = set(), {}
    for db in offices:
        con = connect(db)
        agent, unit = con.execute("SELECT agent_id, unit_id FROM lk_state").fetchone()
        con.close()
        units.add(unit)
        j = journal(db)
        for e in j:
            entries[(e["agent"], e["seq"])] = e
        tops[agent] = max([e["seq"] for e in j] + [0])
    # exactly once
    acked = {a["id"]: a["acked"] for a in hub_rows(url, "SELECT id, acked FROM hub_agent")}
    recs = hub_rows(url, "SELECT agent_id, seq_from, seq_to, applied + quarantined + held + skipped"
                         " AS counted, duplicate FROM hub_receipt ORDER BY agent_id, seq_from, id")
    dups = sum(1 for r in recs if r["duplicate"])
    for agent, top in tops.items():
        if acked.get(agent, 0) != top:
            note("lost", "%s: hub acked %s, journal ends at %d" % (agent[-8:], acked.get(agent), top))
            counts["lost"] += max(top - acked.get(agent, 0), 0)
        nxt = 1
        for r in (r for r in recs if r["agent_id"] == agent and not r["duplicate"]):
            f, t = r["seq_from"], r["seq_to"]
            if f > nxt:
                note("receipts", "%s: receipts leave a gap at %d..%d" % (agent[-8:], nxt, f - 1))
            new = t - max(f, nxt) + 1
            if t < nxt or r["counted"] != new:
                note("duplicated", "%s: receipt %d..%d counts %d entries, %d of them new"
                     % (agent[-8:], f, t, r["counted"], max(new, 0)))
                counts["duplicated"] += r["counted"] - max(new, 0)
            nxt = max(nxt, t + 1)
        if nxt - 1 != acked.get(agent, 0):
            note("receipts", "%s: receipts end at %d, hub acked %s" % (agent[-8:], nxt - 1, acked.get(agent)))
    # the merge rule, row by row
    writes = [{"tbl": e["tbl"], "row": e["row"], "op": e["op"], "owner": e["owner"],
               "fields": json.loads(e["fields"]), "clock": e["clock"], "writer": e["agent"]}
              for e in entries.values() if e["tbl"] in TABLES and e["agent"] in tops]
    truth = merge_oracle.merge(writes)
    hub = {}
    for t in TABLES:
        for r in hub_rows(url, 'SELECT * FROM "%s"' % t):
            hub[(t, r["id"])] = r
    compared = 0
    for (t, rid), w in truth.items():
        h = hub.get((t, rid))
        want = merge_oracle.exists(w)
        have = h is not None and h["_ins_writer"] != "" and (
            h["_del_writer"] == "" or (h["_ins_clock"], h["_ins_writer"]) > (h["_del_clock"], h["_del_writer"]))
        compared += 1
        if want != have:
            note("merge", "%s %s: exists %s at the hub, %s by the rule" % (t, rid[-8:], have, want))
            if want:
                counts["lost"] += 1
            continue
        if not h:
            continue
        ins = (h["_ins_clock"], h["_ins_writer"]) if h["_ins_writer"] else None
        dl = (h["_del_clock"], h["_del_writer"]) if h["_del_writer"] else None
        if ins != (tuple(w["ins"]) if w["ins"] else None) or dl != (tuple(w["del"]) if w["del"] else None):
            note("merge", "%s %s: stamps ins %s del %s, by the rule ins %s del %s"
                 % (t, rid[-8:], ins, dl, w["ins"], w["del"]))
        if want and h["unit_id"] != w["owner"]:
            note("merge", "%s %s: owner %s, by the rule %s" % (t, rid[-8:], h["unit_id"], w["owner"]))
        for c, (v, st) in w["cols"].items():
            if want and h.get(c) != v:
                note("merge", "%s %s.%s = %r at the hub, %r by the rule (written at %s)"
                     % (t, rid[-8:], c, h.get(c), v, st))
    for (t, rid), h in hub.items():
        live = h["_ins_writer"] != "" and (
            h["_del_writer"] == "" or (h["_ins_clock"], h["_ins_writer"]) > (h["_del_clock"], h["_del_writer"]))
        if live and h["unit_id"] in units and (t, rid) not in truth:
            note("extra", "%s %s exists at the hub, no office wrote it" % (t, rid[-8:]))
    # what offices and pullers hold
    scopes = {db: [u] for db, u in ((db, None) for db in offices)}
    for db in offices:
        con = connect(db)
        scopes[db] = [con.execute("SELECT unit_id FROM lk_state").fetchone()[0]]
        con.close()
    pullers = spec.get("pullers", {})
    scopes.update(pullers)
    for db, scope in scopes.items():
        con = connect(db)
        for t in TABLES:
            cols = columns(con, t)
            local = {r[0]: dict(zip(cols, r)) for r in con.execute(
                'SELECT %s FROM "%s"' % (", ".join('"%s"' % c for c in cols), t)) if r[1] in scope}
            want = {}
            for (tt, rid), h in hub.items():
                live = h["_ins_writer"] != "" and (h["_del_writer"] == "" or (
                    h["_ins_clock"], h["_ins_writer"]) > (h["_del_clock"], h["_del_writer"]))
                if tt == t and live and h["unit_id"] in scope:
                    want[rid] = {c: h[c] for c in cols}
            kind = "skipped" if db in pullers else "office"
            missing = [i for i in want if i not in local]
            stale = [i for i in want if i in local and local[i] != want[i]]
            more = [i for i in local if i not in want]
            if missing or stale or more:
                note(kind, "%s %s: %d hub rows missing, %d differ, %d not at the hub (e.g. %s)"
                     % (os.path.basename(db), t, len(missing), len(stale), len(more),
                        (missing + stale + more)[0][-8:]))
        con.close()
    ok = not problems
    print(json.dumps({"ok": ok, "rows_compared": compared, "duplicate_receipts": dups,
                      "lost": counts["lost"], "duplicated": counts["duplicated"],
                      "problems": {k: v[:4] for k, v in problems.items()}}, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "record":
        record(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "people":
        people(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "edit":
        edit(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "archive":
        archive(sys.argv[2], sys.argv[3:])
    elif cmd == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], json.loads(sys.argv[4])))
    else:
        sys.exit("pg_concurrency.py: unknown command %s" % cmd)
