# rows.py dump|checksum hub|agent DB UNIT [AGENT_DB]
#   dump: one line per row of every synced table ("table id col=value ..."), sorted.
#     hub side: rows that exist (insert stamp beats delete stamp, as
#     hub/store/store_sqlite.c EXISTS_SQL), of owning unit UNIT, plus every unit* reference
#     row and task rows assigned to UNIT (PROTOCOL.md §6.3); metadata columns ('_…')
#     left out. agent side: every row.
#   checksum: the PROTOCOL.md §8 checksum of owning unit UNIT, computed here.
# The synced tables are the agent database's tables other than lk_* (AGENT_DB names
# it for the hub side). The hub's DB may be a postgresql:// URL (LK_STORE=pg, lib.sh):
# it is read through psql (tests/e2e/hubdb.py).
import hashlib, os, struct, sys
sys.path.insert(0, os.environ.get("LK_E2E_PY", "tests/e2e"))
import hubdb  # noqa: E402 (the hub's database: SQLite or PostgreSQL)
mode, side, db, unit = sys.argv[1:5]
agent_db = sys.argv[5] if len(sys.argv) > 5 else db
EXISTS = ("(_ins_writer <> '' AND (_del_writer = '' OR _ins_clock > _del_clock OR"
          " (_ins_clock = _del_clock AND _ins_writer > _del_writer)))")
REF = ("unit", "unit_name", "unit_parent", "unit_event")

def connect(path):
    return hubdb.connect(path)

a = connect(agent_db)
tables = [r[0] for r in a.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                  " AND name NOT LIKE 'lk\\_%' ESCAPE '\\'"
                                  " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
a.close()
con = connect(db)

def columns(t):
    return [c for c in hubdb.columns(con, t) if not c.startswith("_")]

def rows(t, cols, owned_only):
    sql = "SELECT %s FROM \"%s\"" % (", ".join('"%s"' % c for c in cols), t)
    args = []
    conds = []
    if side == "hub":
        conds.append(EXISTS)
        if owned_only or t not in REF:
            if t == "task" and not owned_only:
                conds.append("(unit_id = ? OR assignee_unit_id = ?)")
                args += [unit, unit]
            else:
                conds.append("unit_id = ?")
                args.append(unit)
    elif owned_only:
        conds.append("unit_id = ?")
        args.append(unit)
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    return con.execute(sql, args).fetchall()

def show(v):
    if v is None:
        return "null"
    if isinstance(v, int):
        return "int:%d" % v
    if isinstance(v, str):
        return "text:" + v.encode("unicode_escape").decode("ascii")
    return "%s:%r" % (type(v).__name__, v)

def enc_str(b):
    return struct.pack(">I", len(b)) + b

def enc_value(v):
    if v is None:
        return b"n"
    if isinstance(v, int):
        return b"i" + struct.pack(">q", v)
    if isinstance(v, str):
        return b"s" + enc_str(v.encode("utf-8"))
    raise SystemExit("unexpected stored value %r" % (v,))

def dump(side_, path):
    global side, con
    side, con = side_, connect(path)
    out = []
    for t in tables:
        cols = columns(t)
        if "id" not in cols:
            raise SystemExit("%s: table %s missing" % (side, t))
        for r in rows(t, cols, False):
            d = dict(zip(cols, r))
            out.append("%s %s %s" % (t, d["id"], " ".join(
                "%s=%s" % (c, show(d[c])) for c in sorted(cols) if c != "id")))
    out.sort()
    return out

if mode == "same":
    # rows.py same hub HUB_DB UNIT AGENT_DB [ID]: the hub's rows and the laptop's, the
    # same (exit 0), or the first differences (exit 1). With ID, that row only.
    only = sys.argv[6] if len(sys.argv) > 6 else None
    h, l = dump("hub", db), dump("agent", agent_db)
    if only:
        h = [x for x in h if x.split(" ")[1] == only]
        l = [x for x in l if x.split(" ")[1] == only]
    if h == l:
        sys.exit(0)
    hs, ls = set(h), set(l)
    diff = ["hub only: " + x[:300] for x in h if x not in ls][:2] + \
           ["laptop only: " + x[:300] for x in l if x not in hs][:2]
    print("hub %d rows, laptop %d; %s" % (len(h), len(l), " ".join(diff)))
    sys.exit(1)
elif mode == "dump":
    out = []
    for t in tables:
        cols = columns(t)
        if "id" not in cols:
            raise SystemExit("%s: table %s missing" % (side, t))
        for r in rows(t, cols, False):
            d = dict(zip(cols, r))
            out.append("%s %s %s" % (t, d["id"], " ".join(
                "%s=%s" % (c, show(d[c])) for c in sorted(cols) if c != "id")))
    out.sort()
    print("\n".join(out))
elif mode == "checksum":
    n = 0
    total = 0
    for t in tables:
        cols = columns(t)
        for r in rows(t, cols, True):
            d = dict(zip(cols, r))
            named = sorted(c for c in cols if c != "id")
            m = enc_str(t.encode()) + enc_str(d["id"].encode()) + struct.pack(">I", len(named))
            for c in named:
                m += enc_str(c.encode()) + enc_value(d[c])
            h = hashlib.sha256(m).digest()
            total = (total + struct.unpack(">Q", h[:8])[0]) % (1 << 64)
            n += 1
    print("%d:%016x" % (n, total))
