"""merge_oracle.py — an independent oracle of PROTOCOL.md's merge rule, for the merge soak
(tests/e2e/merge_soak.py). Written from PROTOCOL.md alone (§4 order of writes, §6.3
existence, §8 scope); shares no code with the C library.

GROUND TRUTH (what the end state must equal, and why)
=====================================================
The truth is the set W of writes that some surviving party still holds, each with the
stamp it was sent with, merged by §4's rule:

  * An office's write is a journal entry (agent id, seq, table, row id, op, owner,
    fields, clock). The soak reads every office's journal (lk_journal) after every sync
    and before it throws a database file away (a laptop restored from a copy, `recover`),
    and keeps every version it ever saw in the ARCHIVE. For one (agent, seq) the clock
    that counts is the one the entry had when the laptop first counted it acknowledged
    by the FINAL hub (its hub id): clocks are lowered only while unacknowledged (§4), so
    what was acknowledged is what was sent; after a hub restore the entries the backup
    lacks are sent again and may be lowered again on the way, so the acknowledgement of
    the final hub id is the one that counts; an entry the final hub holds from its backup
    keeps the clock of its first acknowledgement. An entry not acknowledged: the latest
    clock seen.
  * Entries in W: (1) every entry of every live laptop's current journal — what the
    office typed and still holds must take effect, whether or not the hub has it (if not,
    that is reported as `not_acknowledged`); (2) every archived entry the final hub
    acknowledges (seq <= hub_agent.acked for that agent id), in the version whose chain
    equals the hub's chain at that sequence (hub_agent_chain; the chain excludes clocks,
    §5) — this is what the hub received from a file since thrown away. An archived entry
    beyond what the final hub acknowledges is held by nobody (the laptop was restored
    from a copy older than it, or the hub from a backup older than it and the file that
    had it is gone): it is not in W, and is counted as `gone_with_a_file`.
  * A correction by the province (`lienket-hub set/rm`) is a write by writer hub_id with
    the clock the hub gave it; the hub keeps no per-entry journal of them (only the
    sequence and chain, PROTOCOL.md §4), so the soak records each correction it made —
    table, id, fields — and reads the clock from the corrected row right after the
    command (no sync runs meanwhile; §4 requires that clock to exceed every clock the row
    held before, which is checked too). A correction made after the backup a hub is later
    restored from is gone with the hub's file: not in W.
  * Reform rows and the hub's unit tree written at `init` are reference data outside W;
    they only decide scope.

THE MERGE RULE (§4, §6.3)
=========================
Per row: the insert stamp is the greatest (clock, writer) of its inserts, the delete
stamp the greatest of its deletes; the row exists when it has an insert stamp greater
than its delete stamp. Per column: the value of the greatest (clock, writer) among the
inserts (which carry every column) and the updates that set it. (clock, writer) compare
as (unsigned integer, lowercase text).

WHAT IS CHECKED
===============
  * hub: for every row W touches, existence, owner, every column's value AND its stamp
    (hub columns _ins_clock/_ins_writer, _del_*, _clock/_writer/_fc); and no existing hub
    row in a data table that W does not produce.
  * every live office: for every row of W whose owner is in its scope (§8, the unit
    tree as of today and reform hand-overs, computed here from the hub's unit tables) or
    that is reference data (unit tables): existence and every column's value; and no
    existing local row in scope that W says does not exist.
  * exactly once: per agent id the hub's non-duplicate receipts cover 1..acked without
    gap or overlap, and each receipt counts every sequence it covers once; no logical
    entry (table, row, op, owner, fields, clock) is acknowledged under two agent ids
    (a re-journal after `recover` of what the hub already held).
  * nothing quarantined or left held (the soak only writes valid, in-scope changes).
  * each correction's clock exceeded every clock its row held before.

Classes of mismatch (the keys of "classes" in the result): hub_value, hub_stamp,
hub_existence, hub_extra, office_value, office_existence, office_extra, office_silent
(an office differs while its status says the checksums agree), not_acknowledged,
receipts, applied_then_lowered (the hub holds an entry at a clock the laptop lowered
afterwards, issue 12 B), applied_twice, journaled_twice (an entry the hub holds journaled again under
another id, not sent yet), quarantined, held, correction_clock; the driver adds
not_converged (pending entries or failing syncs after 10 clean-link rounds), sanitizer
and driver (the history itself broke).
"""
import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone

UNIT_TABLES = ("unit", "unit_name", "unit_parent")


def connect(path):
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 30000")
    return con


def stamp_key(st):
    """(clock, writer) ordered as §4: clock as unsigned integer, writer lowercase text."""
    return (st[0], st[1].lower())


def greater(a, b):
    if a is None:
        return False
    if b is None:
        return True
    return stamp_key(a) > stamp_key(b)


# ---- the archive of journals ----------------------------------------------------------

def content_key(e):
    return json.dumps([e["tbl"], e["row"], e["op"], e["owner"], json.loads(e["fields"])],
                      sort_keys=True, ensure_ascii=False)


class Archive:
    """Every version of every journal entry seen: (agent, seq) -> {content: version}."""

    def __init__(self):
        self.v = {}
        self.n = 0

    def snapshot(self, db):
        """Reads one agent database's journal into the archive."""
        self.n += 1
        con = connect(db)
        try:
            agent, acked = con.execute("SELECT agent_id, acked_seq FROM lk_state").fetchone()
            hub = con.execute("SELECT value FROM lk_config WHERE key = 'hub_id'").fetchone()
            hub = hub[0] if hub else ""
            rows = con.execute("SELECT seq, tbl, row_id, op, owner, fields, clock, hex(chain), skipped "
                               "FROM lk_journal ORDER BY seq").fetchall()
        finally:
            con.close()
        for seq, tbl, row, op, owner, fields, clock, chain, skipped in rows:
            e = {"agent": agent, "seq": seq, "tbl": tbl, "row": row, "op": op, "owner": owner,
                 "fields": fields, "clock": clock, "chain": (chain or "").lower(), "skipped": skipped}
            versions = self.v.setdefault((agent, seq), {})
            k = content_key(e)
            old = versions.get(k)
            if old is None:
                e["clocks_seen"] = []
                e["first"] = self.n
                e["acked_at"] = None
                e["acked_by"] = {}
                versions[k] = old = e
            if clock not in old["clocks_seen"]:
                old["clocks_seen"].append(clock)
            old["clock"] = clock  # the latest seen
            if seq <= acked:
                if old["acked_at"] is None:
                    old["acked_at"] = self.n
                # The clock it had when this hub (id) first acknowledged it.
                old["acked_by"].setdefault(hub, clock)
            if e["chain"] and not old["chain"]:
                old["chain"] = e["chain"]
        return agent

    def dump(self, path):
        with open(path, "w") as f:
            for (agent, seq), versions in sorted(self.v.items()):
                for e in versions.values():
                    f.write(json.dumps(e, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path):
        a = cls()
        for line in open(path):
            e = json.loads(line)
            a.v.setdefault((e["agent"], e["seq"]), {})[content_key(e)] = e
        return a


# ---- the hub's side ----------------------------------------------------------------------

def hub_chains(hub):
    """(agent, seq) -> chain hex, from hub_agent_chain (chain(k) for the change set's range)."""
    out = {}
    for agent, seq_to, blob in hub.execute("SELECT agent_id, seq_to, chains FROM hub_agent_chain"):
        n = len(blob) // 32
        for k in range(n):
            out[(agent, seq_to - n + 1 + k)] = blob[32 * k:32 * k + 32].hex()
    return out


def table_columns(con, t):
    return [r[1] for r in con.execute('PRAGMA table_info("%s")' % t)
            if not r[1].startswith("_") and r[1] not in ("id", "unit_id")]


def data_tables(con):
    return [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
        "('person', 'meeting', 'support', 'task', 'volunteer', 'year_record', 'role', "
        "'insurance_card', 'pilot', 'meeting_branch', 'volunteer_branch', 'party') ORDER BY name")]


# ---- the merge rule ----------------------------------------------------------------------

def merge(writes):
    """writes: dicts with tbl, row, op, owner, fields (dict), clock, writer.
    Returns {(tbl, row): {"owner", "ins", "del", "cols": {c: (value, stamp)}}}."""
    rows = {}
    for w in writes:
        st = (w["clock"], w["writer"])
        r = rows.setdefault((w["tbl"], w["row"]), {"owner": w["owner"], "owners": set(), "ins": None,
                                                   "del": None, "cols": {}})
        r["owners"].add(w["owner"])
        if w["op"] == "i":
            if greater(st, r["ins"]):
                r["ins"] = st
                r["owner"] = w["owner"]
        elif w["op"] == "d":
            if greater(st, r["del"]):
                r["del"] = st
        if w["op"] in ("i", "u"):
            for c, v in w["fields"].items():
                old = r["cols"].get(c)
                if old is None or greater(st, old[1]):
                    r["cols"][c] = (v, st)
    return rows


def exists(r):
    return r["ins"] is not None and greater(r["ins"], r["del"])


# ---- scope (§8) --------------------------------------------------------------------------

def today_vn():
    return (datetime.now(timezone.utc) + timedelta(hours=7)).strftime("%Y-%m-%d")


def scope_of(hub, unit, today):
    """Units whose rows an office of `unit` holds: u is in scope when walking up from u
    through parent links valid today and merge/split/close hand-overs reaches `unit`."""
    up = {}
    for of, parent in hub.execute(
            "SELECT of_unit, parent_id FROM unit_parent WHERE valid_from <= ? AND "
            "(valid_to IS NULL OR valid_to >= ?)", (today, today)):
        up.setdefault(of, set()).add(parent)
    for of, other in hub.execute(
            "SELECT of_unit, other_unit FROM unit_event WHERE kind IN ('merge','split','close') "
            "AND other_unit IS NOT NULL AND effective_on <= ?", (today,)):
        up.setdefault(of, set()).add(other)
    units = {r[0] for r in hub.execute("SELECT id FROM unit")}
    units |= set(up)
    out = set()
    for u in units:
        seen, todo = set(), [u]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo.extend(up.get(x, ()))
        if unit in seen:
            out.add(u)
    return out


# ---- the check -----------------------------------------------------------------------------

def truth_clock(e, hub_id):
    """The clock an acknowledged entry was applied with: the one it had when the final
    hub first acknowledged it (after a hub restore an entry is sent again, and may be
    lowered on the way); else when any hub first did (the restored hub holds it from its
    backup); else the latest seen."""
    by = e.get("acked_by") or {}
    if hub_id in by:
        return by[hub_id]
    if by:
        return next(iter(by.values()))  # in the order first seen (dicts and JSON keep it)
    return e["clock"]


def build_truth(archive, hub, live_agents, corrections):
    """W as described at the top. Returns (writes, problems dict, counts)."""
    cls = {}

    def note(k, msg):
        cls.setdefault(k, []).append(msg)

    acked = {a: n for a, n in hub.execute("SELECT id, acked FROM hub_agent")}
    hub_id = hub.execute("SELECT value FROM hub_meta WHERE key = 'hub_id'").fetchone()[0]
    chains = hub_chains(hub)
    live = {(a, seq): k for a, entries in live_agents for seq, k in entries.items()}
    writes, gone, chosen = [], 0, {}

    def add(e, agent, seq, acknowledged):
        if e.get("skipped"):
            return
        e = dict(e, clock=truth_clock(e, hub_id) if acknowledged else e["clock"])
        chosen.setdefault((agent, seq), []).append((e, acknowledged))
        writes.append({"tbl": e["tbl"], "row": e["row"], "op": e["op"], "owner": e["owner"],
                       "fields": json.loads(e["fields"]), "clock": e["clock"], "writer": agent, "seq": seq})

    for (agent, seq), versions in sorted(archive.v.items()):
        vs = list(versions.values())
        hub_acked = acked.get(agent, 0)
        pick = None
        if seq <= hub_acked:
            hc = chains.get((agent, seq))
            match = [e for e in vs if hc and e["chain"] == hc]
            if match:
                pick = match[0]
            else:
                acked_vs = sorted((e for e in vs if e["acked_at"] is not None), key=lambda e: e["acked_at"])
                pick = acked_vs[0] if acked_vs else sorted(vs, key=lambda e: e["first"])[-1]
            add(pick, agent, seq, True)
        lk = live.get((agent, seq))
        if lk is not None and (pick is None or content_key(pick) != lk):
            # Typed on a laptop that still holds it, and not what the hub holds.
            e = versions[lk]
            add(e, agent, seq, False)
            note("not_acknowledged", "%s seq %d (%s %s %s) %s (hub acked %d)"
                 % (agent[-8:], seq, e["op"], e["tbl"], e["row"][-8:],
                    "not acknowledged by the hub" if pick is None else "differs from what the hub holds at that sequence",
                    hub_acked))
        if pick is None and lk is None:
            gone += 1
    # Applied twice: one logical entry acknowledged under two agent ids; journaled twice:
    # one the hub holds journaled again under another id (not acknowledged yet).
    seen = {}
    for (agent, seq), es in sorted(chosen.items(), key=lambda kv: not any(a for _, a in kv[1])):
        for e, acknowledged in es:
            k = (content_key(e), e["clock"])
            if k in seen and seen[k][0] != agent:
                a2, s2, ack2 = seen[k]
                note("applied_twice" if acknowledged and ack2 else "journaled_twice",
                     "%s %s %s clock %d %s as %s seq %d and %s seq %d"
                     % (e["op"], e["tbl"], e["row"][-8:], e["clock"],
                        "applied" if acknowledged and ack2 else "journaled", a2[-8:], s2, agent[-8:], seq))
            else:
                seen[k] = (agent, seq, acknowledged)
    for c in corrections:
        if not c["survives"]:
            continue
        writes.append({"tbl": c["tbl"], "row": c["row"], "op": c["op"], "owner": c["owner"],
                       "fields": c["fields"], "clock": c["clock"], "writer": c["writer"], "seq": None})
        if c.get("clock_before") is not None and c["clock"] <= c["clock_before"]:
            note("correction_clock", "correction of %s %s got clock %d, not above the row's %d"
                 % (c["tbl"], c["row"][-8:], c["clock"], c["clock_before"]))
    return writes, cls, {"gone_with_a_file": gone, "entries": len(chosen)}


def check_receipts(hub, note):
    hub_id = hub.execute("SELECT value FROM hub_meta WHERE key = 'hub_id'").fetchone()[0]
    agents = {a: n for a, n in hub.execute("SELECT id, acked FROM hub_agent")}
    by_agent = {}
    for a, f, t, ap, q, h, s in hub.execute(
            "SELECT agent_id, seq_from, seq_to, applied, quarantined, held, skipped FROM hub_receipt "
            "WHERE duplicate = 0 ORDER BY agent_id, seq_from"):
        by_agent.setdefault(a, []).append((f, t, ap + q + h + s))
    for a, recs in by_agent.items():
        if a == hub_id or a not in agents:
            continue  # the hub's own journal (corrections, reforms); or a hub id before a restore
        # A change set may start below what the hub holds (sent again with new entries
        # after it): its receipt counts only the new part, nxt..t.
        nxt = 1
        for f, t, counted in recs:
            if f > nxt:
                note("receipts", "%s: receipts leave a gap at %d..%d" % (a[-8:], nxt, f - 1))
            new = t - max(f, nxt) + 1
            if t < nxt or counted != new:
                note("receipts", "%s: receipt %d..%d counts %d entries, %d of them new (applied twice?)"
                     % (a[-8:], f, t, counted, max(new, 0)))
            nxt = max(nxt, t + 1)
        if nxt - 1 != agents[a]:
            note("receipts", "%s: receipts end at %d, hub acked %d" % (a[-8:], nxt - 1, agents[a]))
    for a, seq, code, tbl, row in hub.execute("SELECT agent_id, seq, code, tbl, row_id FROM hub_quarantine"):
        note("quarantined", "%s seq %d %s %s %s" % (a[-8:], seq, code, tbl, (row or "")[-8:]))
    for a, seq in hub.execute("SELECT agent_id, seq FROM hub_held"):
        note("held", "%s seq %d still held" % (a[-8:], seq))


def read_hub_row(hub, t, rid, cols):
    q = 'SELECT unit_id, %s, _ins_clock, _ins_writer, _del_clock, _del_writer, _clock, _writer, _fc ' \
        'FROM "%s" WHERE id = ?' % (", ".join('"%s"' % c for c in cols), t)
    r = hub.execute(q, (rid,)).fetchone()
    if r is None:
        return None
    n = len(cols)
    vals = dict(zip(cols, r[1:1 + n]))
    ic, iw, dc, dw, rc, rw, fc = r[1 + n:]
    fcs = json.loads(fc or "{}")
    stamps = {c: tuple(fcs[c]) if c in fcs else (rc, rw) for c in cols}
    return {"owner": r[0], "vals": vals, "ins": (ic, iw) if iw else None, "del": (dc, dw) if dw else None,
            "stamps": stamps}


def short(st):
    return None if st is None else "%d/%s" % (st[0], st[1][-6:])


def check(archive, hub_db, offices, corrections):
    """offices: list of (name, path). Returns the result dict (see the top)."""
    hub = connect(hub_db)
    cls = {}

    def note(k, msg):
        cls.setdefault(k, []).append(msg)

    live_agents, office_info = [], []
    for name, path in offices:
        con = connect(path)
        agent, unit = con.execute("SELECT agent_id, unit_id FROM lk_state").fetchone()
        entries = {}
        for seq, tbl, row, op, owner, fields in con.execute(
                "SELECT seq, tbl, row_id, op, owner, fields FROM lk_journal"):
            entries[seq] = content_key({"tbl": tbl, "row": row, "op": op, "owner": owner, "fields": fields})
        silent = con.execute("SELECT value FROM lk_config WHERE key = 'checksum_ok'").fetchone()
        con.close()
        live_agents.append((agent, entries))
        office_info.append((name, path, agent, unit, silent and silent[0] == "1"))
    writes, cls2, counts = build_truth(archive, hub, live_agents, corrections)
    for k, v in cls2.items():
        cls.setdefault(k, []).extend(v)
    check_receipts(hub, note)
    truth = merge(writes)
    hub_id = hub.execute("SELECT value FROM hub_meta WHERE key = 'hub_id'").fetchone()[0]
    stamps_of = {}
    for w in writes:
        stamps_of.setdefault((w["tbl"], w["row"]), set()).add((w["clock"], w["writer"]))
    # A stamp at the hub that is a clock an entry had before the laptop lowered it: the
    # hub applied the entry, then the laptop lowered it as if it had not (issue 12 B).
    earlier = {}
    for versions in archive.v.values():
        for e in versions.values():
            tc = truth_clock(e, hub_id)
            for c in e.get("clocks_seen", []):
                if c != tc:
                    earlier[(e["tbl"], e["row"], c)] = dict(e, clock=tc)
    for (t, rid), r in truth.items():
        if len(r["owners"]) > 1:
            note("hub_value", "%s %s written with owners %s" % (t, rid[-8:], sorted(r["owners"])))

    # --- the hub
    tables = sorted({t for t, _ in truth} | set(data_tables(hub)))
    cols_of = {t: table_columns(hub, t) for t in tables}
    hub_rows = 0
    for (t, rid), r in sorted(truth.items()):
        h = read_hub_row(hub, t, rid, cols_of[t])
        want = exists(r)
        if h is None:
            if want or r["del"] is not None:
                note("hub_existence", "%s %s missing at the hub (want %s)" % (t, rid[-8:], "row" if want else "tombstone"))
            continue
        hub_rows += 1
        have = h["ins"] is not None and greater(h["ins"], h["del"])
        if have != want:
            note("hub_existence", "%s %s exists at the hub: %s, by the rule: %s (ins %s del %s; rule ins %s del %s)"
                 % (t, rid[-8:], have, want, short(h["ins"]), short(h["del"]), short(r["ins"]), short(r["del"])))
        if h["ins"] != r["ins"] or h["del"] != r["del"]:
            note("hub_stamp", "%s %s ins/del stamps %s/%s, rule %s/%s"
                 % (t, rid[-8:], short(h["ins"]), short(h["del"]), short(r["ins"]), short(r["del"])))
        if r["ins"] is not None and h["owner"] != r["owner"]:
            note("hub_value", "%s %s owner %s, rule %s" % (t, rid[-8:], h["owner"], r["owner"]))
        for c, (v, st) in r["cols"].items():
            if h["vals"].get(c) != v:
                note("hub_value", "%s %s.%s = %r at the hub, %r by the rule (stamp hub %s, rule %s)"
                     % (t, rid[-8:], c, h["vals"].get(c), v, short(h["stamps"].get(c)), short(st)))
            elif tuple(h["stamps"].get(c)) != tuple(st):
                note("hub_stamp", "%s %s.%s stamp %s at the hub, %s by the rule"
                     % (t, rid[-8:], c, short(h["stamps"].get(c)), short(st)))
            hs = h["stamps"].get(c)
            if hs and (t, rid, hs[0]) in earlier and tuple(hs) not in stamps_of.get((t, rid), ()):
                e = earlier[(t, rid, hs[0])]
                note("applied_then_lowered", "%s %s.%s: the hub applied %s seq %d at clock %d, which the "
                     "laptop later lowered to %d" % (t, rid[-8:], c, e["agent"][-8:], e["seq"], hs[0], e["clock"]))
    for t in data_tables(hub):
        for (rid,) in hub.execute('SELECT id FROM "%s" WHERE _ins_writer <> \'\' AND (_del_writer = \'\' OR '
                                  '_ins_clock > _del_clock OR (_ins_clock = _del_clock AND '
                                  'lower(_ins_writer) > lower(_del_writer)))' % t):
            if (t, rid) not in truth:
                note("hub_extra", "%s %s exists at the hub, no write of W made it" % (t, rid[-8:]))

    # --- every office
    today = today_vn()
    office_rows = 0
    for name, path, agent, unit, checksum_ok in office_info:
        scope = scope_of(hub, unit, today)
        con = connect(path)
        before = sum(len(v) for k, v in cls.items() if k.startswith("office_"))
        for (t, rid), r in sorted(truth.items()):
            ref = t in UNIT_TABLES
            if not ref and r["owner"] not in scope:
                continue
            cols = [c for c in table_columns(con, t)]
            row = con.execute('SELECT unit_id, %s FROM "%s" WHERE id = ?'
                              % (", ".join('"%s"' % c for c in cols), t), (rid,)).fetchone()
            want = exists(r)
            if (row is not None) != want:
                note("office_existence", "%s: %s %s %s at the office, %s by the rule"
                     % (name, t, rid[-8:], "exists" if row else "absent", "exists" if want else "absent"))
                continue
            if row is None:
                continue
            office_rows += 1
            vals = dict(zip(cols, row[1:]))
            for c, (v, st) in r["cols"].items():
                if vals.get(c) != v:
                    note("office_value", "%s: %s %s.%s = %r at the office, %r by the rule (stamp %s)"
                         % (name, t, rid[-8:], c, vals.get(c), v, short(st)))
        for t in data_tables(con):
            for rid, owner in con.execute('SELECT id, unit_id FROM "%s"' % t):
                if owner in scope and (t, rid) not in truth:
                    note("office_extra", "%s: %s %s at the office, no write of W made it" % (name, t, rid[-8:]))
        con.close()
        after = sum(len(v) for k, v in cls.items() if k.startswith("office_"))
        if after > before and checksum_ok:
            note("office_silent", "%s differs from the rule in %d places while its status says the checksums agree"
                 % (name, after - before))
    hub.close()
    return {"ok": not cls, "classes": {k: len(v) for k, v in sorted(cls.items())},
            "examples": {k: v[:4] for k, v in sorted(cls.items())},
            "rows": len(truth), "hub_rows": hub_rows, "office_rows": office_rows,
            "writes": len(writes), **counts}


def selftest():
    """The rule on hand-made writes (PROTOCOL.md §4, §6.3), and the check on a tampered
    copy; returns [(case name, problem or None)]."""
    A, B, Bu = "0190f3a2-0000-7000-8000-00000000000a", "0190f3a2-0000-7000-8000-00000000000b", \
        "0190f3a2-0000-7000-8000-00000000000B"

    def w(op, clock, writer, **f):
        return {"tbl": "meeting", "row": "r", "op": op, "owner": "u", "fields": f, "clock": clock, "writer": writer}

    cases = []

    def case(name, writes, want_exists, want):
        r = merge(writes)[("meeting", "r")]
        got = {c: v for c, (v, _) in r["cols"].items()}
        ok = exists(r) == want_exists and all(got.get(k) == v for k, v in want.items())
        cases.append(("merge_oracle__" + name, None if ok else "exists %s, values %s" % (exists(r), got)))

    case("higher_clock_wins_whatever_the_order", [w("u", 9, A, attendees=5), w("i", 3, B, attendees=10, kind="joint")],
         True, {"attendees": 5, "kind": "joint"})
    case("equal_clocks_the_greater_writer_wins", [w("i", 3, A, attendees=1), w("u", 3, B, attendees=2)], True, {"attendees": 2})
    case("writers_compare_as_lowercase_text", [w("u", 3, Bu, attendees=2), w("i", 3, A, attendees=1)], True, {"attendees": 2})
    case("a_lower_update_loses_to_the_insert", [w("i", 10, A, attendees=10), w("u", 5, A, attendees=5)], True, {"attendees": 10})
    case("a_later_delete_removes_the_row", [w("i", 3, A, attendees=1), w("d", 4, B)], False, {})
    case("an_earlier_delete_does_not", [w("d", 2, B), w("i", 3, A, attendees=1)], True, {"attendees": 1})
    case("delete_and_insert_at_one_clock_by_writer", [w("i", 3, B, attendees=1), w("d", 3, A)], True, {})
    case("updates_without_an_insert_make_no_row", [w("u", 3, A, attendees=1)], False, {"attendees": 1})
    return cases


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["selftest"]:
        bad = 0
        for name, problem in selftest():
            print("[       OK ] %s" % name if problem is None else "[  FAILED  ] %s: %s" % (name, problem))
            bad += problem is not None
        sys.exit(1 if bad else 0)
    # merge_oracle.py ARCHIVE.jsonl HUB.db CORRECTIONS.json NAME=AGENT.db...
    arc = Archive.load(sys.argv[1])
    corr = json.load(open(sys.argv[3])) if os.path.exists(sys.argv[3]) else []
    offs = [tuple(a.split("=", 1)) for a in sys.argv[4:]]
    res = check(arc, sys.argv[2], offs, corr)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    sys.exit(0 if res["ok"] else 1)
