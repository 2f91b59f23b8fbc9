"""merge_soak.py — randomized, seeded histories of offices SHARING rows through the real
binaries, whose end state is compared row by row, field by field with an independent
oracle of PROTOCOL.md's merge rule (tests/e2e/merge_oracle.py; its top says what the
ground truth is). Issue 12 ("Done when") and issue 18 ("Done when").

Run by tests/e2e/merge_soak.sh (the short run in `make test`) and scripts/soak-merge.sh
(the long run in `make soak`):

  python3 tests/e2e/merge_soak.py --seed S --histories N --steps K --dir DIR [--dims LIST]

LIST is comma-separated; "a|b" takes one of a and b per history (by its seed), for two
dimensions each fixed alone whose combination is not yet.

Each history has its own seed (S * 1000 + i, printed), so one failing history replays
alone with `--history-seed H`: the same choices, while kills and cuts land where the
timing of the moment puts them (real processes on a loaded machine), so a failure
reproduces often rather than always. One history: a fresh hub (tests/fixtures/units-small.csv),
tests/tools/faultproxy in front of it, and real `lienket-agent` offices:
  c1 (commune 22915), c2 (commune 22918), d (district 593, whose scope holds both
  communes: it edits the communes' rows and they edit its rows for them).
Then K steps, each chosen at random among the enabled dimensions:

  shared        writes (inserts, updates of any column, deletes) by every office on rows
                of shared units — mostly through the journaling triggers (python sqlite3,
                journaled exactly like `add`, agent/store.c), some with the real
                `lienket-agent add/set/rm` — and syncs of several offices at once
  corrections   `lienket-hub set/rm` on rows the offices edit, while the hub serves
  clocks        lk_state.offset_ms set to minutes/days/years ahead or behind before a
                write: recorded time is wall + offset_ms (PROTOCOL.md §4), so this is
                exactly a laptop clock that is skewed or jumps (as tests/e2e/faults.sh)
  kills         kill -9 of an agent mid-sync; kill -9 of the hub mid-merge (restarted
                on its port)
  cuts          a fault on the proxy for the round: drops before/during/after the
                request and the answer, truncated answers, delays, random mixes
  concurrent    two `sync` of one database at once (a daemon and a manual sync)
  laptop_restore  a copy of an office's database file is taken, later put back, then
                sync (and `recover` when the agent says so)
  hub_restore   `lienket-hub backup` while serving; later the hub stopped, `restore`,
                restarted on its port (corrections after the backup are gone with it);
                a fourth office c3 (commune 22921) is revoked between the backup and the
                restore, so what it sent after the backup is gone for good
  reform        `units merge --unit 22918 --into 22915` while both communes' laptops
                hold unsent edits; the successor then edits the merged commune's rows
  branches      c1 creates a village branch (`unit`, later `unit_name` and
                `unit_parent`); d writes rows owned by it and meetings hosted by it
                before the branch's rows reach the hub

At the end the faults are switched off, every office syncs until nothing is pending,
and merge_oracle.check compares the hub and every office with the rule. One JSON line
per history goes to DIR/results.jsonl; the cmocka-style lines go to stdout.
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import merge_oracle  # noqa: E402

ALL_DIMS = ("shared", "corrections", "clocks", "kills", "cuts", "concurrent", "laptop_restore",
            "hub_restore", "reform", "branches")
UNITS_CSV = "tests/fixtures/units-small.csv"
OFFSETS_MS = [0, 0, 4 * 60000, 13 * 60000, 9 * 60000, -3 * 365 * 86400000, 2 * 365 * 86400000,
              30 * 86400000, -10000, 240000, -86400000]
FAULTS = ["drop-before-request", "drop-during-request:{b}", "drop-after-request",
          "drop-during-answer:{b}", "drop-after-answer", "truncate-answer:{b}", "delay-answer:{ms}",
          "random:0.5:3000", "every:2:random:1:3000", "every:3:drop-after-request"]


def log(*a):
    print(*a, flush=True)


class History:
    def __init__(self, hseed, steps, dims, bindir, work):
        self.seed = hseed
        self.rnd = random.Random(hseed)
        self.steps = steps
        self.dims = dims
        self.bin = bindir
        self.dir = work
        self.procs = []
        self.hub_db = os.path.join(work, "hub.db")
        self.hub_port = 0
        self.hub = None
        self.proxy = None
        self.archive = merge_oracle.Archive()
        self.corrections = []
        self.offices = {}
        self.branches = []
        self.backup = None
        self.copies = {}
        self.merged = False
        self.stats = {k: 0 for k in ("writes", "cli_writes", "syncs", "sync_failures", "agent_kills",
                                     "hub_kills", "cuts", "clock_jumps", "corrections", "concurrent",
                                     "laptop_restores", "recovers", "hub_restores", "revoked", "reforms",
                                     "branches", "early_refs")}
        self.env = dict(os.environ, LANG="en_US.UTF-8", LC_ALL="en_US.UTF-8")

    # ---- processes ------------------------------------------------------------------------
    def run(self, args, log_name, timeout=120):
        with open(os.path.join(self.dir, log_name), "a") as f:
            f.write("$ %s\n" % " ".join(args))
            f.flush()
            try:
                p = subprocess.run(args, stdout=subprocess.PIPE, stderr=f, env=self.env, timeout=timeout)
            except subprocess.TimeoutExpired:
                f.write("(timed out)\n")
                return 124, ""
            out = p.stdout.decode("utf-8", "replace")
            f.write(out)
            return p.returncode, out

    def start(self, args, log_name):
        f = open(os.path.join(self.dir, log_name), "a")
        f.write("$ %s\n" % " ".join(args))
        f.flush()
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, env=self.env)
        f.close()
        self.procs.append(p)
        return p

    def wait_file(self, path, secs):
        t = time.time() + secs
        while time.time() < t:
            if os.path.exists(path) and os.path.getsize(path) > 0:
                return True
            time.sleep(0.05)
        return False

    def hub_up(self):
        for attempt in range(4):
            pf = os.path.join(self.dir, "hub.port")
            if os.path.exists(pf):
                os.unlink(pf)
            self.hub = self.start([self.hub_bin, "serve", "--db", self.hub_db, "--listen",
                                   "127.0.0.1:%d" % self.hub_port, "--port-file", pf], "hub.log")
            if self.wait_file(pf, 15):
                self.hub_port = int(open(pf).read())
                return
            self.stop(self.hub)
            time.sleep(1)
        raise RuntimeError("the hub did not start (hub.log)")

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    @property
    def hub_bin(self):
        return os.path.join(self.bin, "lienket-hub")

    @property
    def agent_bin(self):
        return os.path.join(self.bin, "lienket-agent")

    def proxy_up(self):
        self.ctl = os.path.join(self.dir, "proxy.ctl")
        self.proxy_log = os.path.join(self.dir, "proxy.log")
        with open(self.ctl, "w") as f:
            f.write("fault=none\n")
        pf = os.path.join(self.dir, "proxy.port")
        self.proxy = self.start([os.path.join(self.bin, "tools", "faultproxy"), "--listen", "127.0.0.1:0",
                                 "--port-file", pf, "--target", "127.0.0.1:%d" % self.hub_port,
                                 "--control-file", self.ctl, "--control-check-ms", "20",
                                 "--seed", str(self.seed % 2**31), "--log", self.proxy_log], "proxy.out")
        if not self.wait_file(pf, 10):
            raise RuntimeError("the fault proxy did not start")
        self.proxy_url = "http://127.0.0.1:%s" % open(pf).read().strip()

    def reloads(self):
        try:
            return open(self.proxy_log).read().count("control (file changed)")
        except OSError:
            return 0

    def fault(self, spec):
        n = self.reloads()
        with open(self.ctl + ".tmp", "w") as f:
            f.write("fault=%s\nrate-bps=0\nlatency-ms=0\n" % spec)
        os.rename(self.ctl + ".tmp", self.ctl)
        t = time.time() + 3
        while self.reloads() <= n and time.time() < t:
            time.sleep(0.02)

    # ---- set-up ---------------------------------------------------------------------------
    def units(self):
        rc, out = self.run([self.hub_bin, "units", "list", "--db", self.hub_db, "--all"], "hub-cli.log")
        return {l.split("\t")[1]: l.split("\t")[0] for l in out.splitlines() if "\t" in l}

    def enroll(self, code):
        rc, out = self.run([self.hub_bin, "enroll", "--db", self.hub_db, "--unit", code], "hub-cli.log")
        for l in out.splitlines():
            if l.startswith("token:"):
                return l.split()[1]
        raise RuntimeError("enroll %s failed" % code)

    def setup(self):
        rc, _ = self.run([self.hub_bin, "init", "--db", self.hub_db, "--units", UNITS_CSV], "hub-cli.log")
        if rc:
            raise RuntimeError("hub init failed")
        self.hub_up()
        self.proxy_up()
        u = self.units()
        self.unit = u
        offices = [("c1", "22915"), ("c2", "22918"), ("d", "593")]
        if "hub_restore" in self.dims:
            offices.append(("c3", "22921"))  # revoked after a backup the hub is restored from
        for name, code in offices:
            db = os.path.join(self.dir, name + ".db")
            rc, _ = self.run([self.agent_bin, "init", "--db", db, "--unit", u[code], "--hub", self.proxy_url,
                              "--token", self.enroll(code)], name + ".log")
            if rc:
                raise RuntimeError("agent init %s failed" % name)
            self.offices[name] = {"db": db, "unit": u[code], "owners": [u[code]]}
        self.offices["d"]["owners"] = [u["593"], u["22915"], u["22918"]]
        for name in self.offices:
            self.sync(name)
        self.snapshot_all()

    # ---- the offices' writes --------------------------------------------------------------
    def con(self, name):
        c = sqlite3.connect(self.offices[name]["db"], timeout=30, isolation_level=None)
        c.execute("PRAGMA busy_timeout = 30000")
        return c

    def new_id(self):
        ms = int(time.time() * 1000)
        r = self.rnd.getrandbits(74)
        n = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))
        return str(uuid.UUID(int=n))

    def rows(self, name):
        """Rows this office may edit: its own copies of person/meeting in its owners."""
        owners = set(self.owners_now(name))
        c = self.con(name)
        out = [(t, i) for t in ("person", "meeting")
               for i, o in c.execute('SELECT id, unit_id FROM "%s"' % t) if o in owners]
        c.close()
        return sorted(out)

    def meeting_fields(self, host=None):
        r = self.rnd
        return {"kind": r.choice(["giao_ban", "giao_nhiem_vu", "branch", "joint"]),
                "held_on": "2026-%02d-%02d" % (1 + r.randrange(12), 1 + r.randrange(28)),
                "host_branch_id": host, "commune_secretary_attended": r.choice([0, 1, None]),
                "attendees": r.randrange(300), "concerns": r.choice([None, "Kiến nghị %d" % r.randrange(99)]),
                "follow_up": None}

    def person_fields(self):
        r = self.rnd
        return {"full_name": "Người %d" % r.randrange(10**6), "birth_year": 1950 + r.randrange(60),
                "gender": r.choice(["nam", "nu", "khac", None]), "phone": "09%08d" % r.randrange(10**8)}

    def update_fields(self, t):
        r = self.rnd
        pool = (self.meeting_fields() if t == "meeting" else self.person_fields())
        pool.pop("host_branch_id", None)
        keys = r.sample(sorted(pool), 1 + r.randrange(2))
        return {k: pool[k] for k in keys}

    def write(self, name, cli=False, recent=False):
        """One edit by office `name`: insert, update or delete. recent: an update of a row
        this office itself wrote lately (what a clock that jumps between the two meets)."""
        r = self.rnd
        mine = self.rows(name)
        roll = r.random()
        last = [x for x in self.offices[name].get("recent", []) if x in mine]
        if recent and last:
            t, i = r.choice(last[-3:])
            self.do_write(name, cli, "set", t, i, self.update_fields(t))
            return
        owners = self.owners_now(name)
        if mine and roll < 0.08:
            t, i = r.choice(mine)
            self.do_write(name, cli, "rm", t, i, None)
        elif mine and roll < 0.55:
            t, i = r.choice(mine)
            self.do_write(name, cli, "set", t, i, self.update_fields(t))
        else:
            t = r.choice(["person", "meeting"])
            owner = r.choice(owners)
            host = None
            if t == "meeting" and self.branches and r.random() < 0.4:
                b = r.choice(self.branches)
                host = b["id"]
                if b["state"] != "placed":
                    self.stats["early_refs"] += 1
            f = self.meeting_fields(host) if t == "meeting" else self.person_fields()
            if owner in {b["id"] for b in self.branches if b["state"] == "local"}:
                self.stats["early_refs"] += 1
                cli = False  # the CLI refuses a unit the laptop does not know yet
            rid = self.new_id()
            self.do_write(name, cli, "add", t, rid, f, owner)
            self.offices[name].setdefault("recent", []).append((t, rid))

    def owners_now(self, name):
        """Owning units office `name` writes for now. A branch: c1 once it wrote the parent
        link; d while the hub has never seen the branch (the rows are held there until it
        arrives: issue 18.4) and again once the hub holds its parent link — never in
        between, when the hub knows the unit but cannot place it (out_of_scope by §7.2)."""
        out = list(self.offices[name]["owners"])
        for b in self.branches:
            if name == "c1" and b["state"] in ("parented", "placed"):
                out.append(b["id"])
            if name == "d" and b["state"] in ("local", "placed"):
                out.append(b["id"])
        return out

    def branch_states(self):
        """A branch whose parent link the hub holds is placed."""
        todo = [b for b in self.branches if b["state"] == "parented"]
        if not todo:
            return
        c = self.hub_con()
        for b in todo:
            if c.execute("SELECT 1 FROM unit_parent WHERE of_unit = ?", (b["id"],)).fetchone():
                b["state"] = "placed"
        c.close()

    def do_write(self, name, cli, op, t, rid, fields, owner=None):
        self.stats["writes"] += 1
        db = self.offices[name]["db"]
        if cli:
            self.stats["cli_writes"] += 1
            kv = ["%s=%s" % (k, "" if v is None else v) for k, v in sorted((fields or {}).items())]
            if op == "add":
                if t == "meeting" and fields.get("host_branch_id"):
                    kv = [x for x in kv if not x.startswith("host_branch_id=")]
                args = [self.agent_bin, "add", t, "--db", db, "unit_id=%s" % owner] + kv
            elif op == "set":
                args = [self.agent_bin, "set", t, rid, "--db", db] + kv
            else:
                args = [self.agent_bin, "rm", t, rid, "--db", db]
            rc, out = self.run(args, name + ".log")
            if rc not in (0,):
                self.cli_fail = getattr(self, "cli_fail", 0) + 1
            return
        c = self.con(name)
        if op == "add":
            cols = ["id", "unit_id"] + sorted(fields)
            c.execute('INSERT INTO "%s"(%s) VALUES(%s)' % (t, ", ".join(cols), ", ".join("?" * len(cols))),
                      [rid, owner] + [fields[k] for k in sorted(fields)])
        elif op == "set":
            c.execute('UPDATE "%s" SET %s WHERE id = ?' % (t, ", ".join("%s = ?" % k for k in sorted(fields))),
                      [fields[k] for k in sorted(fields)] + [rid])
        else:
            c.execute('DELETE FROM "%s" WHERE id = ?' % t, (rid,))
        c.close()

    def jump_and_type(self, name):
        """The clock jumps ahead past the drift limit and the office types."""
        self.set_offset(name, self.rnd.choice([6, 9, 13, 20]) * 60000)
        self.stats["clock_jumps"] += 1
        for _ in range(1 + self.rnd.randrange(2)):
            self.write(name, recent=self.rnd.random() < 0.5)

    def set_offset(self, name, ms):
        c = self.con(name)
        c.execute("UPDATE lk_state SET offset_ms = ? WHERE one = 1", (ms,))
        c.close()

    # ---- syncs ----------------------------------------------------------------------------
    def sync_args(self, name):
        return [self.agent_bin, "sync", "--quiet", "--db", self.offices[name]["db"]]

    def sync(self, name):
        self.stats["syncs"] += 1
        rc, _ = self.run(self.sync_args(name), name + ".log", timeout=120)
        if rc:
            self.stats["sync_failures"] += 1
        return rc

    def after_sync(self, name, rc):
        """A sync that ended 76 asking for recover: run it (when laptops are restored)."""
        if rc != 76 or "laptop_restore" not in self.dims:
            return rc
        text = open(os.path.join(self.dir, name + ".log"), encoding="utf-8", errors="replace").read()[-2000:]
        if "recover" not in text:
            return rc
        self.archive.snapshot(self.offices[name]["db"])
        self.stats["recovers"] += 1
        rc, _ = self.run([self.agent_bin, "recover", "--db", self.offices[name]["db"]], name + ".log")
        return rc

    def flush_early(self, names):
        """Before c1 first sends a branch's unit row, d's rows for that branch reach the hub
        (so they are held there when the unit arrives), and d stops writing for it."""
        if "c1" not in names or not [b for b in self.branches if b["state"] == "local"]:
            return
        if "d" in self.offices:
            self.fault("none")
            for _ in range(5):
                rc = self.after_sync("d", self.sync("d"))
                if rc == 0 and pending(self.offices["d"]["db"]) == 0:
                    break
        for b in self.branches:
            if b["state"] == "local":
                b["state"] = "sent"

    def sync_round(self, names, faulty):
        self.flush_early(names)
        spec = "none"
        if faulty and "cuts" in self.dims and self.rnd.random() < 0.6:
            spec = self.rnd.choice(FAULTS).format(b=self.rnd.randrange(50, 3000), ms=self.rnd.randrange(100, 1500))
            self.stats["cuts"] += 1
        self.fault(spec)
        procs = []
        for n in names:
            procs.append((n, self.start(self.sync_args(n), n + ".log")))
            self.stats["syncs"] += 1
            if faulty and "concurrent" in self.dims and self.rnd.random() < 0.3:
                # A daemon's sync and a manual one; the office may type in between, with a
                # clock that has just jumped ahead (issue 12 B).
                typing = "clocks" in self.dims and self.rnd.random() < 0.6
                late = self.rnd.random() < 0.5  # typed once both syncs said hello
                time.sleep(self.rnd.random() * (0.05 if late else 0.3))
                if typing and not late:
                    self.jump_and_type(n)
                procs.append((n, self.start(self.sync_args(n), n + ".log")))
                if typing and late:
                    time.sleep(self.rnd.random() * 0.4)
                    self.jump_and_type(n)
                self.stats["syncs"] += 1
                self.stats["concurrent"] += 1
        if faulty and "kills" in self.dims:
            if self.rnd.random() < 0.5:
                time.sleep(self.rnd.random() * 0.5)
                n, p = self.rnd.choice(procs)
                if p.poll() is None:
                    p.kill()
                    self.stats["agent_kills"] += 1
            if self.rnd.random() < 0.2:
                time.sleep(self.rnd.random() * 0.1)
                self.hub.kill()
                self.hub.wait()
                self.stats["hub_kills"] += 1
                self.hub_up()
        for n, p in procs:
            try:
                rc = p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            if rc:
                self.stats["sync_failures"] += 1
            self.after_sync(n, rc)
        if spec != "none":
            self.fault("none")
        self.snapshot_all()
        self.branch_states()

    def daemon_and_manual(self, n):
        """Issue 12 B's shape: an edit pending, two syncs of one database at once, one
        hello's answer held back by the proxy, and the office types meanwhile (with a
        clock that has just jumped past the drift limit when clocks are on)."""
        self.flush_early([n])
        self.write(n)
        self.fault("every:2:delay-answer:%d" % self.rnd.randrange(150, 900))
        procs = [self.start(self.sync_args(n), n + ".log")]
        time.sleep(self.rnd.random() * 0.03)
        procs.append(self.start(self.sync_args(n), n + ".log"))
        self.stats["syncs"] += 2
        self.stats["concurrent"] += 1
        time.sleep(0.05 + self.rnd.random() * 0.6)
        if "clocks" in self.dims:
            self.set_offset(n, self.rnd.choice([6, 9, 13, 20]) * 60000)
            self.stats["clock_jumps"] += 1
        self.write(n, recent=True)
        for p in procs:
            try:
                rc = p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            if rc:
                self.stats["sync_failures"] += 1
            self.after_sync(n, rc)
        self.fault("none")
        self.snapshot_all()
        self.branch_states()

    def snapshot_all(self):
        for o in self.offices.values():
            o["agent"] = self.archive.snapshot(o["db"])

    # ---- the hub's side -------------------------------------------------------------------
    def hub_con(self):
        c = sqlite3.connect(self.hub_db, timeout=30, isolation_level=None)
        c.execute("PRAGMA busy_timeout = 30000")
        return c

    def correction(self):
        c = self.hub_con()
        rows = [(t, i, o) for t in ("person", "meeting") for i, o in c.execute(
            'SELECT id, unit_id FROM "%s" WHERE _ins_writer <> \'\' AND (_del_writer = \'\' OR _ins_clock > _del_clock)' % t)]
        c.close()
        if not rows:
            return
        t, rid, owner = self.rnd.choice(sorted(rows))
        rm = self.rnd.random() < 0.1
        fields = {} if rm else self.update_fields(t)
        before = self.row_clock(t, rid)
        seq0 = self.hub_seq()
        args = [self.hub_bin, "rm" if rm else "set", "--db", self.hub_db, t, rid]
        args += ["%s=%s" % (k, "" if v is None else v) for k, v in sorted(fields.items())]
        rc, _ = self.run(args, "hub-cli.log")
        if rc or self.hub_seq() == seq0:
            return  # refused, or the same values: the hub journaled nothing
        c = self.hub_con()
        r = read_stamps(c, t, rid)
        c.close()
        if rm:
            clock, writer = r["del"]
        else:
            st = {r["stamps"][k] for k in fields}
            if len(st) != 1:
                raise RuntimeError("correction of %s %s: fields with different stamps %s" % (t, rid, st))
            clock, writer = st.pop()
        self.stats["corrections"] += 1
        self.corrections.append({"tbl": t, "row": rid, "op": "d" if rm else "u", "owner": owner,
                                 "fields": fields, "clock": clock, "writer": writer,
                                 "clock_before": before, "survives": True})

    def hub_seq(self):
        c = self.hub_con()
        r = c.execute("SELECT value FROM hub_meta WHERE key = 'hub_seq'").fetchone()
        c.close()
        return r and r[0]

    def row_clock(self, t, rid):
        c = self.hub_con()
        r = read_stamps(c, t, rid)
        c.close()
        m = max([r["ins"][0] if r["ins"] else 0, r["del"][0] if r["del"] else 0] +
                [s[0] for s in r["stamps"].values()])
        return m

    def hub_backup(self):
        out = os.path.join(self.dir, "hub-backup-%d.db" % len(self.corrections))
        rc, _ = self.run([self.hub_bin, "backup", "--db", self.hub_db, out], "hub-cli.log")
        if rc == 0:
            self.backup = (out, len(self.corrections), self.merged)

    def hub_restore(self):
        path, ncorr, merged = self.backup
        self.backup = None
        if "c3" in self.offices and self.rnd.random() < 0.6:
            # The province revokes c3's laptop after the backup: the revocation stays in
            # force after the restore, and what c3 sent after the backup is gone with the
            # hub's file; no office may keep those rows (issue 18.6).
            for _ in range(2):
                self.write("c3")
            self.fault("none")
            self.sync("c3")
            self.sync("d")
            self.snapshot_all()
            c = self.con("c3")
            agent = c.execute("SELECT agent_id FROM lk_state").fetchone()[0]
            c.close()
            rc, _ = self.run([self.hub_bin, "revoke", "--db", self.hub_db, agent], "hub-cli.log")
            if rc == 0:
                del self.offices["c3"]
                self.stats["revoked"] += 1
        self.stop(self.hub)
        rc, _ = self.run([self.hub_bin, "restore", "--db", self.hub_db, path], "hub-cli.log")
        if rc:
            rc, _ = self.run([self.hub_bin, "restore", "--db", self.hub_db, "--force", path], "hub-cli.log")
        if rc == 0 and self.merged and not merged:
            # `restore` lists what it cannot bring back; the operator applies the reform
            # again before the hub serves (the offices already write under it).
            self.run(self.merge_args(), "hub-cli.log")
        self.hub_up()
        if rc == 0:
            self.stats["hub_restores"] += 1
            for c in self.corrections[ncorr:]:
                c["survives"] = False

    def laptop_copy(self, name):
        src = sqlite3.connect(self.offices[name]["db"], timeout=30)
        dst_path = os.path.join(self.dir, "%s.copy.db" % name)
        if os.path.exists(dst_path):
            os.unlink(dst_path)
        dst = sqlite3.connect(dst_path)
        src.backup(dst)
        dst.close()
        src.close()
        self.copies[name] = dst_path

    def laptop_restore(self, name):
        db = self.offices[name]["db"]
        self.archive.snapshot(db)
        for ext in ("", "-wal", "-shm"):
            if os.path.exists(db + ext):
                os.unlink(db + ext)
        shutil.copyfile(self.copies.pop(name), db)
        self.stats["laptop_restores"] += 1
        if name == "c1":
            self.branches_after_restore()

    def branches_after_restore(self):
        """c1's copy may predate a branch it created: the office enters what the copy
        lacks again (the unit row under the id the district already uses; the name and
        parent link anew), or the district's rows for it would wait for ever."""
        c = self.con("c1")
        u1 = self.offices["c1"]["unit"]
        for b in self.branches:
            if not c.execute("SELECT 1 FROM unit WHERE id = ?", (b["id"],)).fetchone():
                c.execute("INSERT INTO unit(id, unit_id, opened_on) VALUES(?, ?, ?)", (b["id"], u1, "2026-01-05"))
            if b["state"] in ("parented", "placed") and \
                    not c.execute("SELECT 1 FROM unit_parent WHERE of_unit = ?", (b["id"],)).fetchone():
                b["state"] = "sent"
        c.close()

    def merge_args(self):
        return [self.hub_bin, "units", "merge", "--db", self.hub_db, "--unit", "22918", "--into", "22915"]

    def reform(self):
        for n in ("c1", "c2"):
            self.write(n)
            self.write(n)
        rc, _ = self.run(self.merge_args(), "hub-cli.log")
        if rc == 0:
            self.merged = True
            self.stats["reforms"] += 1
            self.offices["c1"]["owners"].append(self.unit["22918"])

    def branch_start(self):
        """c1 writes a branch's unit row; d learns its id at once (a phone call)."""
        bid = self.new_id()
        c = self.con("c1")
        c.execute("INSERT INTO unit(id, unit_id, opened_on) VALUES(?, ?, ?)", (bid, self.offices["c1"]["unit"], "2026-01-05"))
        c.close()
        self.branches.append({"id": bid, "state": "local"})
        self.stats["branches"] += 1

    def branch_finish(self):
        todo = [b for b in self.branches if b["state"] in ("local", "sent")]
        if not todo:
            return
        b = self.rnd.choice(todo)
        u1 = self.offices["c1"]["unit"]
        c = self.con("c1")
        c.execute("INSERT INTO unit_name(id, unit_id, of_unit, name, code, kind, valid_from, valid_to) "
                  "VALUES(?, ?, ?, ?, NULL, 'branch', '2026-01-05', NULL)",
                  (self.new_id(), u1, b["id"], "Chi đoàn thôn %d" % self.rnd.randrange(1000)))
        if self.rnd.random() < 0.5:
            c.close()
            self.sync_round(["c1"], True)
            c = self.con("c1")
        c.execute("INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from, valid_to) "
                  "VALUES(?, ?, ?, ?, '2026-01-05', NULL)", (self.new_id(), u1, b["id"], u1))
        c.close()
        b["state"] = "parented"

    # ---- the history ------------------------------------------------------------------------
    def step(self):
        r = self.rnd
        d = self.dims
        names = sorted(self.offices)
        choices = [("write", 6), ("sync", 4)]
        if "corrections" in d:
            choices.append(("correction", 1))
        if "clocks" in d:
            choices.append(("clock", 2))
        if "concurrent" in d:
            choices.append(("twosyncs", 1))
        if "laptop_restore" in d:
            choices.append(("laptop", 1))
        if "hub_restore" in d:
            choices.append(("hubbackup", 1))
        if "reform" in d and not self.merged:
            choices.append(("reform", 0.3))
        if "branches" in d:
            choices.append(("branch", 0.6))
        total = sum(w for _, w in choices)
        x = r.random() * total
        for what, w in choices:
            x -= w
            if x < 0:
                break
        if what == "write":
            n = r.choice(names)
            for _ in range(1 + r.randrange(4)):
                self.write(n, cli=r.random() < 0.15)
        elif what == "sync":
            k = 1 + r.randrange(len(names))
            self.sync_round(r.sample(names, k), True)
        elif what == "twosyncs":
            self.daemon_and_manual(r.choice(names))
        elif what == "correction":
            self.correction()
        elif what == "clock":
            n = r.choice(names)
            self.set_offset(n, r.choice(OFFSETS_MS))
            self.stats["clock_jumps"] += 1
            self.write(n, recent=r.random() < 0.5)
            if r.random() < 0.5:
                self.sync_round([n], True)
        elif what == "laptop":
            n = r.choice(names)
            if n in self.copies:
                self.laptop_restore(n)
                if r.random() < 0.5:
                    self.write(n)
                self.sync_round([n], False)
            else:
                self.laptop_copy(n)
        elif what == "hubbackup":
            if self.backup and r.random() < 0.6:
                self.hub_restore()
            else:
                self.hub_backup()
        elif what == "reform":
            self.reform()
        elif what == "branch":
            if [b for b in self.branches if b["state"] in ("local", "sent")] and r.random() < 0.6:
                self.branch_finish()
            else:
                self.branch_start()

    def converge(self):
        """No faults, every office syncs until none has pending entries, then once more."""
        self.fault("none")
        self.flush_early(["c1"])
        while [b for b in self.branches if b["state"] in ("local", "sent")]:
            self.branch_finish()
        for o in self.offices:
            self.set_offset(o, 0)
        clean = 0
        for rnd in range(10):
            codes = {}
            for n in sorted(self.offices):
                rc = self.sync(n)
                codes[n] = self.after_sync(n, rc)
            self.snapshot_all()
            pend = sum(pending(o["db"]) for o in self.offices.values())
            if pend == 0 and all(c == 0 for c in codes.values()):
                clean += 1
                if clean == 2:
                    return True, codes
            else:
                clean = 0
        return False, codes

    def play(self):
        self.setup()
        for _ in range(self.steps):
            self.step()
        converged, codes = self.converge()
        self.archive.dump(os.path.join(self.dir, "archive.jsonl"))
        with open(os.path.join(self.dir, "corrections.json"), "w") as f:
            json.dump(self.corrections, f, ensure_ascii=False)
        res = merge_oracle.check(self.archive, self.hub_db,
                                 [(n, o["db"]) for n, o in sorted(self.offices.items())], self.corrections)
        if not converged:
            res["ok"] = False
            res["classes"]["not_converged"] = 1
            res["examples"]["not_converged"] = ["last sync exit codes %s, pending %s" % (
                codes, {n: pending(o["db"]) for n, o in self.offices.items()})]
        san = 0
        for f in os.listdir(self.dir):
            if f.endswith(".log"):
                t = open(os.path.join(self.dir, f), encoding="utf-8", errors="replace").read()
                if "AddressSanitizer" in t or "runtime error:" in t or "LeakSanitizer" in t:
                    san += 1
        if san:
            res["ok"] = False
            res["classes"]["sanitizer"] = san
        res["stats"] = self.stats
        return res

    def tamper_check(self):
        """The check can fail: one hub value and one office value changed behind the
        journal's back (the office's without journaling, as a pull writes) must be found."""
        change = {"person": "full_name = full_name || ' (sửa ngầm)'", "meeting": "kind = CASE kind WHEN 'joint' THEN 'branch' ELSE 'joint' END"}
        exists = "_ins_writer <> '' AND (_del_writer = '' OR _ins_clock > _del_clock)"
        c = self.hub_con()
        hub_row = None
        for t in ("person", "meeting"):
            r = c.execute('SELECT id FROM "%s" WHERE %s ORDER BY id LIMIT 1' % (t, exists)).fetchone()
            if r and not hub_row:
                hub_row = (t, r[0])
                c.execute('UPDATE "%s" SET %s WHERE id = ?' % (t, change[t]), r)
        c.close()
        office_row = None
        for n in sorted(self.offices):
            o = self.con(n)
            for t in ("meeting", "person"):
                r = o.execute('SELECT id FROM "%s" ORDER BY id LIMIT 1' % t).fetchone()
                if r and not office_row:
                    office_row = (n, t, r[0])
                    o.execute("UPDATE lk_state SET applying = 1")
                    o.execute('UPDATE "%s" SET %s WHERE id = ?' % (t, change[t]), r)
                    o.execute("UPDATE lk_state SET applying = 0")
            o.close()
        if not hub_row or not office_row:
            return "no rows to change"
        res = merge_oracle.check(self.archive, self.hub_db,
                                 [(n, o["db"]) for n, o in sorted(self.offices.items())], self.corrections)
        want = {"hub_value", "office_value"}
        if not want <= set(res["classes"]):
            return "the oracle found %s after changing a hub and an office value" % (res["classes"] or "nothing")
        return None


def pending(db):
    c = sqlite3.connect(db, timeout=30)
    n = c.execute("SELECT count(*) FROM lk_journal WHERE seq > (SELECT acked_seq FROM lk_state)").fetchone()[0]
    c.close()
    return n


def read_stamps(c, t, rid):
    return merge_oracle.read_hub_row(c, t, rid, merge_oracle.table_columns(c, t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--history-seed", type=int, default=None)
    ap.add_argument("--histories", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=0, help="stop starting histories after this")
    ap.add_argument("--dims", default=",".join(ALL_DIMS))
    ap.add_argument("--dir", required=True)
    ap.add_argument("--bin", default=os.environ.get("LK_BIN", "build/asan"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tamper-check", action="store_true",
                    help="after the first history that passes, prove the check finds a silent change")
    a = ap.parse_args()
    # Told to stop: the finally below stops every process this history started, by PID.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    # A token "a|b" takes one of a and b per history (chosen by the history's seed): two
    # dimensions that are each fixed alone while their combination is not.
    tokens = [d for d in a.dims.split(",") if d]
    dims = {x for d in tokens for x in d.split("|")}
    bad = dims - set(ALL_DIMS)
    if bad:
        sys.exit("unknown dimensions: %s (known: %s)" % (",".join(sorted(bad)), ",".join(ALL_DIMS)))
    seed = a.seed if a.seed is not None else int(time.time()) % 100000
    seeds = [a.history_seed] if a.history_seed is not None else [seed * 1000 + i for i in range(a.histories)]
    log("merge soak: seed %d, %d histories of %d steps, dimensions %s" % (
        seed, len(seeds), a.steps, ",".join(tokens)))
    t0 = time.time()
    failed = 0
    done = 0
    totals = {}
    classes = {}
    mismatches = {}
    for hs in seeds:
        if a.seconds and done and time.time() - t0 > a.seconds:
            break
        work = os.path.join(a.dir, "h%d" % hs)
        os.makedirs(work, exist_ok=True)
        hdims = {t if "|" not in t else random.Random(hs).choice(t.split("|")) for t in tokens}
        h = History(hs, a.steps, hdims, a.bin, work)
        try:
            res = h.play()
            if a.tamper_check and res["ok"] and res["rows"]:
                a.tamper_check = False
                why = h.tamper_check()
                name = "merge_soak__oracle_finds_a_hub_and_an_office_value_changed_in_silence"
                log("[       OK ] %s" % name if why is None else "[  FAILED  ] %s: %s" % (name, why))
                failed += why is not None
        except Exception as e:  # a broken history is a failure, never a skip
            res = {"ok": False, "classes": {"driver": 1}, "examples": {"driver": [repr(e)]}, "stats": h.stats}
        finally:
            h.cleanup()
        done += 1
        res["history_seed"] = hs
        with open(os.path.join(a.dir, "results.jsonl"), "a") as f:
            f.write(json.dumps(res, ensure_ascii=False) + "\n")
        for k, v in res.get("stats", {}).items():
            totals[k] = totals.get(k, 0) + v
        for k, v in res["classes"].items():
            classes[k] = classes.get(k, 0) + 1
            mismatches[k] = mismatches.get(k, 0) + v
        name = "merge_soak__history_%d_equals_the_merge_rule" % hs
        if res["ok"]:
            log("[       OK ] %s (%d rows, %d writes; hub and %d offices equal the rule)" % (
                name, res["rows"], res["writes"], len(h.offices)))
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
        else:
            failed += 1
            why = "; ".join("%s %d (e.g. %s)" % (k, v, (res["examples"].get(k) or [""])[0])
                            for k, v in res["classes"].items())
            log("[  FAILED  ] %s: %s; replay: --history-seed %d --steps %d --dims %s; work in %s" % (
                name, why, hs, a.steps, ",".join(sorted(hdims)), work))
    log("merge soak: %d histories in %.0f s, %d failed; %s" % (
        done, time.time() - t0, failed, " ".join("%s=%d" % kv for kv in sorted(totals.items()))))
    if classes:
        log("merge soak: histories failing per class: %s" % " ".join("%s=%d" % kv for kv in sorted(classes.items())))
        log("merge soak: mismatches found per class: %s" % " ".join("%s=%d" % kv for kv in sorted(mismatches.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
