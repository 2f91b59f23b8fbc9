"""hubdb.py — the hub's database as the end-to-end suites' Python reads it: an SQLite
file, or a postgresql:// URL (LK_STORE=pg, tests/e2e/lib.sh), through psql.

connect(path) gives an object (on PostgreSQL one per database for the run) with the few
sqlite3 calls the suites make: execute(sql,
args) with ? parameters, whose result has fetchall() and fetchone() and iterates; close().
On PostgreSQL each row comes back as JSON (row_to_json), so integers stay integers, texts
texts and NULL None, as sqlite3 gives them. tables(con) and columns(con, table) list what
sqlite_master and PRAGMA table_info list. Import it with the repository's tests/e2e on
sys.path (the suites run from the repository root)."""
import json
import sqlite3
import subprocess


def is_pg(path):
    return path.startswith("postgresql://") or path.startswith("postgres://")


class Rows(list):
    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0] if self else None


class PgCon:
    """One psql process per database for the whole run (a process per query costs more
    than the query under a loaded machine): each query is followed by an \\echo of a
    marker, and its rows are the lines before it. An error ends psql (ON_ERROR_STOP):
    its message is raised."""
    END = "__lk_hubdb_end__"

    def __init__(self, url):
        self.url = url
        self.p = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def execute(self, sql, args=()):
        parts = sql.split("?")
        if len(parts) != len(args) + 1:
            raise SystemExit("hubdb: %d parameters for %r" % (len(args), sql))
        text = parts[0]
        for a, rest in zip(args, parts[1:]):
            text += (str(a) if isinstance(a, int) else "'" + str(a).replace("'", "''") + "'") + rest
        q = "SELECT row_to_json(q)::text FROM (%s) q;\n\\echo %s\n" % (text, self.END)
        try:
            self.p.stdin.write(q)
            self.p.stdin.flush()
        except BrokenPipeError:
            raise SystemExit("hubdb: psql: " + self.p.stderr.read().strip())
        rows = Rows()
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise SystemExit("hubdb: psql: " + self.p.stderr.read().strip())
            line = line.rstrip("\n")
            if line == self.END:
                return rows
            if line:
                rows.append(tuple(v for _, v in json.loads(line, object_pairs_hook=list)))

    def close(self):
        pass  # kept for the next connect() to the same database


_open = {}


def connect(path, timeout=30):
    if is_pg(path):
        if path not in _open:
            _open[path] = PgCon(path)
        return _open[path]
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=timeout)


def tables(con):
    """Every table of the hub (not the engine's own), in name order."""
    if isinstance(con, PgCon):
        return [r[0] for r in con.execute("SELECT table_name::text FROM information_schema.tables"
                                          " WHERE table_schema = current_schema()"
                                          " AND table_type = 'BASE TABLE' ORDER BY 1")]
    return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                      " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]


def columns(con, table):
    """The table's column names, in their order."""
    if isinstance(con, PgCon):
        return [r[0] for r in con.execute("SELECT column_name::text FROM information_schema.columns"
                                          " WHERE table_schema = current_schema() AND table_name = ?"
                                          " ORDER BY ordinal_position", [table])]
    return [r[1] for r in con.execute('PRAGMA table_info("%s")' % table)]
