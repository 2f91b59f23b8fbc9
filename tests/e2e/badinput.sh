#!/bin/sh
# badinput — hostile input against the real lienket-hub and the real lienket-agent.
#
# Hub side (PROTOCOL.md §7, §11): every malformed, oversized, lying or unauthorised
# request is refused whole with the right 4xx and a §7.1 JSON error naming its code,
# and the hub database is byte-for-byte what it was (a digest of every synced table,
# receipts, quarantine, held, skipped, flags, agents and tokens, read with sqlite3
# before and after). Quarantine inside an acknowledged change set, a replayed change
# set and a forked journal are checked against the tables as well. /healthz still
# answers at the end. The change sets are built by a small independent Python
# implementation of §5/§6.2 (json + zlib + hashlib), not by our C library.
#
# Agent side: a python3 fake hub answering bad JSON, a huge answer, a redirect to a
# second server, and a hub URL with plain http to a non-loopback address. The agent
# must refuse each, lose nothing (pending unchanged) and then sync to the real hub.
#
# HTTP-level checks already in hub_http.sh (healthz, 401 on pull, 411, 413 on a big
# raw body, 415, slow headers, Content-Length checked before reading) are not repeated.
# Run from the repository root; $LK_BIN holds lienket-hub and lienket-agent.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB=$(hub_db hub)

if [ ! -x "$HUB" ] || [ ! -x "$AGENT" ]; then
	fail badinput__binaries_are_built "'$HUB' or '$AGENT' missing"
	e2e_finish
fi
if ! command -v python3 >/dev/null 2>&1; then
	fail badinput__python3_available "python3 missing (scripts/deps.sh --check-or-install test)"
	e2e_finish
fi
"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1 ||
	{ fail badinput__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"; e2e_finish; }

# enroll ARGS... — prints the token.
enroll() { "$HUB" enroll --db "$DB" "$@" 2>>"$E2E_DIR/enroll.log" | sed -n 's/^token: *//p'; }
unit_of() { "$HUB" units list --db "$DB" | awk -F '\t' -v c="$1" '$2 == c { print $1 }'; }
T_MAIN=$(enroll --unit 22915)
T_FORK=$(enroll --unit 22915)
T_REV=$(enroll --unit 22915)
T_VIEW=$(enroll --viewer)
T_AGENT=$(enroll --unit 22918)
U_MAIN=$(unit_of 22915)
U_OTHER=$(unit_of 23272)
U_AGENT=$(unit_of 22918)
if [ -z "$T_MAIN" ] || [ -z "$T_VIEW" ] || [ -z "$U_OTHER" ] || [ -z "$T_AGENT" ]; then
	fail badinput__enroll "$(tail -3 "$E2E_DIR/enroll.log" | tr '\n' ' ')"
	e2e_finish
fi
hub_start "$DB" hub || { fail badinput__hub_starts "no port"; e2e_finish; }

# ---- hub side: one Python driver, one line per case --------------------------------
cat >"$E2E_DIR/hubcases.py" <<'PY'
import hashlib, http.client, json, os, socket, struct, subprocess, sys, time, uuid, zlib
sys.path.insert(0, os.environ.get("LK_E2E_PY", "tests/e2e"))
import hubdb  # noqa: E402 (the hub's database: SQLite or PostgreSQL, LK_STORE)

port, db, hub_bin = int(sys.argv[1]), sys.argv[2], sys.argv[3]
T = dict(main=os.environ["T_MAIN"], fork=os.environ["T_FORK"], rev=os.environ["T_REV"],
         view=os.environ["T_VIEW"])
U_MAIN, U_OTHER = os.environ["U_MAIN"], os.environ["U_OTHER"]
failed = 0

def ok(name):
    print("[       OK ] badinput__" + name, flush=True)

def fail(name, why):
    global failed
    failed += 1
    print("[  FAILED  ] badinput__%s: %s" % (name, why), flush=True)

# ---- PROTOCOL.md §5, written again from the text ----
def sstr(b):
    return struct.pack(">I", len(b)) + b

def cval(v):
    if v is None: return b"n"
    if isinstance(v, bool): return b"b" + bytes([int(v)])
    if isinstance(v, int): return b"i" + struct.pack(">q", v)
    if isinstance(v, float): return b"r" + struct.pack(">d", v)
    if isinstance(v, str): return b"s" + sstr(v.encode())
    return b"c" + sstr(json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())

def ehash(e):
    if e[1] is None:
        return bytes.fromhex(e[2])
    seq, table, rid, op, owner, _clock, fields = e
    out = struct.pack(">Q", seq) + sstr(table.encode()) + sstr(rid.encode()) + op.encode()
    out += sstr(owner.encode()) + struct.pack(">I", len(fields))
    for n in sorted(fields, key=lambda n: n.encode()):
        out += sstr(n.encode()) + cval(fields[n])
    return hashlib.sha256(out).digest()

def chain(prev, entries):
    for e in entries:
        prev = hashlib.sha256(prev + ehash(e)).digest()
    return prev

class Journal:
    """One fake agent: its id, its entries, chain(n) for every n."""
    def __init__(self):
        self.agent = str(uuid.uuid4())
        self.entries = []
        self.chains = [bytes(32)]
        self.n = 0
    def add(self, table, op, fields, owner=U_MAIN, rid=None):
        self.n += 1
        clock = (int(time.time() * 1000) << 16) | self.n
        e = [len(self.entries) + 1, table, rid or str(uuid.uuid4()), op, owner, clock, fields]
        self.entries.append(e)
        self.chains.append(chain(self.chains[-1], [e]))
        return e
    def cs(self, frm, to, **over):
        m = {"v": 1, "schema": 1, "agent": self.agent, "from": frm, "to": to,
             "chain_before": self.chains[frm - 1].hex(), "chain_after": self.chains[to].hex(),
             "entries": self.entries[frm - 1:to]}
        m.update(over)
        return m

def person(name="Nguyễn Văn A", **kw):
    f = {"full_name": name, "birth_year": 1995, "gender": "nam", "phone": None}
    f.update(kw)
    return f

def meeting(**kw):
    f = {"kind": "joint", "held_on": "2021-03-14", "host_branch_id": None,
         "commune_secretary_attended": 1, "attendees": 23, "concerns": "Thiếu kinh phí",
         "follow_up": None}
    f.update(kw)
    return f

def js(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

# ---- HTTP ----
def post(path, raw, token="main", encoding="deflate", timeout=60):
    """Sends raw bytes (already compressed); returns (status, dict or text, seconds)."""
    h = {"Content-Type": "application/json", "Content-Encoding": encoding}
    if token is not None:
        h["Authorization"] = "Bearer " + T.get(token, token)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.time()
    try:
        c.request("POST", path, body=raw, headers=h)
        r = c.getresponse()
        body = r.read()
        if r.getheader("Content-Encoding", "") == "deflate":
            body = zlib.decompress(body)
        status = r.status
    except Exception as ex:  # the connection was cut: no answer
        return None, "no answer (%s)" % ex.__class__.__name__, time.time() - t0
    finally:
        c.close()
    try:
        return status, json.loads(body), time.time() - t0
    except ValueError:
        return status, body[:200].decode(errors="replace"), time.time() - t0

def changes(obj_or_bytes, **kw):
    raw = obj_or_bytes if isinstance(obj_or_bytes, bytes) else js(obj_or_bytes)
    return post("/v1/changes", zlib.compress(raw), **kw)

def hello(agent, token="main"):
    return post("/v1/hello", zlib.compress(js({"v": 1, "schema": 1, "agent": agent,
        "wall": int(time.time() * 1000), "pending": 0, "acked": 0,
        "software": "badinput.sh"})), token=token)

# ---- the hub database, read beside the running hub ----
def rows(sql, args=()):
    con = hubdb.connect(db, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()

def synced_tables():
    con = hubdb.connect(db, timeout=10)
    try:
        return [t for t in hubdb.tables(con) if not t.startswith("hub_")]
    finally:
        con.close()

def snapshot(receipts=True):
    """Digest of everything a request could store, and the counts for messages."""
    parts, counts = [], {}
    q = [(t, 'SELECT * FROM "%s" ORDER BY id' % t) for t in synced_tables()]
    q += [("hub_quarantine", "SELECT agent_id, seq, code, tbl, row_id, field FROM hub_quarantine ORDER BY 1, 2"),
          ("hub_held", "SELECT agent_id, seq, json FROM hub_held ORDER BY 1, 2"),
          ("hub_skipped", "SELECT agent_id, seq, hash FROM hub_skipped ORDER BY 1, 2"),
          ("hub_flag", "SELECT tbl, row_id, kind, field FROM hub_flag ORDER BY 1, 2, 3, 4"),
          ("hub_agent", "SELECT id, unit_id, acked, chain, retired_to FROM hub_agent ORDER BY id"),
          ("hub_token", "SELECT hash, agent_id, revoked_ms, rebound FROM hub_token ORDER BY hash")]
    if receipts:
        q.append(("hub_receipt", "SELECT agent_id, seq_from, seq_to, chain_after, applied, quarantined,"
                                 " duplicate FROM hub_receipt ORDER BY id"))
    for name, sql in q:
        r = rows(sql)
        counts[name] = len(r)
        parts.append(name + repr(r))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest(), counts

def diff(a, b):
    return ", ".join("%s %d->%d" % (k, a[1][k], b[1][k]) for k in a[1] if a[1][k] != b[1].get(k)) \
        or "same counts, different content"

def is_error(body, code):
    return (isinstance(body, dict) and body.get("v") == 1 and isinstance(body.get("hub_time"), int)
            and isinstance(body.get("error"), dict) and body["error"].get("code") == code
            and isinstance(body["error"].get("message"), str) and body["error"]["message"] != "")

def refused(name, send, status, code, prefix=None, field=None, extra=None, max_s=None):
    """Runs send(); passes when the answer is status + a JSON error `code` (message
    starting with prefix, field equal to field, extra members) and nothing changed."""
    before = snapshot()
    st, body, secs = send()
    after = snapshot()
    why = []
    if st != status or not is_error(body, code):
        why.append("got %s %s, want %d %s" % (st, json.dumps(body)[:240] if isinstance(body, dict)
                                                  else body, status, code))
    else:
        err = body["error"]
        if prefix and not err["message"].startswith(prefix):
            why.append("message %r does not start with %r" % (err["message"], prefix))
        if field is not None and err.get("field") != field:
            why.append("field %r, want %r" % (err.get("field"), field))
        for k, v in (extra or {}).items():
            if body["error"].get(k) != v:
                why.append("error.%s = %r, want %r" % (k, body["error"].get(k), v))
    if max_s is not None and secs > max_s:
        why.append("answered after %.1f s (limit %d s)" % (secs, max_s))
    if before[0] != after[0]:
        why.append("hub database changed: " + diff(before, after))
    if why:
        fail(name, "; ".join(why))
    else:
        ok(name)
    return body

def hub_alive():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        return r.status == 200 and json.loads(r.read()).get("ok") is True
    except Exception:
        return False
    finally:
        c.close()

# ---- a baseline: the office's first two entries are accepted ----
J = Journal()
st, body, _ = hello(J.agent)
J.add("person", "i", person())
J.add("meeting", "i", meeting())
st2, body2, _ = changes(J.cs(1, 2))
if st == 200 and st2 == 200 and body2.get("acked") == 2 and body2.get("applied") == 2:
    ok("valid_change_set_is_accepted_first")
else:
    fail("valid_change_set_is_accepted_first", "hello %s, changes %s %s" % (st, st2, body2))
    print("cannot go on without a baseline")
    sys.exit(1)

# The next entry, valid; every refusal below carries (a mangled) seq 3.
nxt = J.add("person", "i", person("Trần Thị B", gender="nu"))
good = js(J.cs(3, 3))

# ---- refused whole ----
z = zlib.compress(good)
refused("truncated_deflate_stream_400_bad_deflate_nothing_stored",
        lambda: post("/v1/changes", z[:len(z) // 2]), 400, "bad_deflate")
refused("deflate_stream_with_flipped_bytes_400_nothing_stored",
        lambda: post("/v1/changes", z[:8] + bytes(b ^ 0x5a for b in z[8:16]) + z[16:]), 400, "bad_deflate")
refused("body_that_is_not_deflate_400_bad_deflate_nothing_stored",
        lambda: post("/v1/changes", good), 400, "bad_deflate")

def bomb(target_bytes, chunk=1 << 20):
    """A valid-looking JSON start, then spaces (legal JSON whitespace) inflating to
    target_bytes: built by repeating one full-flush block, so it costs milliseconds."""
    c = zlib.compressobj(9)
    head = c.compress(b'{"v":1,"schema":1,"agent":"%s","from":3,"to":3,' % J.agent.encode())
    head += c.flush(zlib.Z_FULL_FLUSH)
    spaces = b" " * chunk
    first = c.compress(spaces) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(spaces) + c.flush(zlib.Z_FULL_FLUSH)
    n = max(1, target_bytes // chunk - 1)
    tail = c.compress(b'"entries":[]}') + c.flush()
    return head + first + block * n + tail, (n + 1) * chunk

small, small_inflated = bomb(16 << 20)
refused("decompression_bomb_%dkb_to_%dmb_413_nothing_stored" % (len(small) // 1024, small_inflated >> 20),
        lambda: post("/v1/changes", small), 413, "too_large", max_s=10)
big, big_inflated = bomb(1000 << 20)
refused("decompression_bomb_%dkb_to_%dgb_413_fast_nothing_stored" % (len(big) // 1024, big_inflated >> 30 or 1),
        lambda: post("/v1/changes", big), 413, "too_large", max_s=10)
refused("decompression_bomb_on_hello_413", lambda: post("/v1/hello", small), 413, "too_large", max_s=10)

def raw_request(body, length, shut=False):
    """Content-Length `length` with `body` bytes sent; returns (status, json, secs)."""
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port))
    # A body that never completes is the hub's to time out (hub_http.sh checks that);
    # here the client gives up after 3 s and only what was stored matters.
    s.settimeout(3 if shut else 40)
    head = ("POST /v1/changes HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            "Content-Encoding: deflate\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (T["main"], length)).encode()
    out = b""
    try:
        s.sendall(head + body)
        if shut:
            s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    s.close()
    if not out:
        return None, "no answer", time.time() - t0
    head, _, rest = out.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    try:
        return status, json.loads(rest), time.time() - t0
    except ValueError:
        return status, rest[:200].decode(errors="replace"), time.time() - t0

refused("content_length_shorter_than_body_400_bad_deflate_nothing_stored",
        lambda: raw_request(z, len(z) - 7), 400, "bad_deflate")
# Longer than what is sent, then the client closes its side: no answer is due, but
# nothing may be stored and the hub must go on.
before = snapshot()
st, body, secs = raw_request(z, len(z) + 100, shut=True)
after = snapshot()
if before[0] == after[0] and st != 200 and hub_alive():
    ok("content_length_longer_than_body_then_eof_nothing_stored")
else:
    fail("content_length_longer_than_body_then_eof_nothing_stored",
         "answer %s %s; %s" % (st, body, diff(before, after) if before[0] != after[0] else "db same"))

def mangled(fn):
    """The good change set's JSON text with fn applied (bytes -> bytes)."""
    return lambda: changes(fn(good))

name_b = "Trần Thị B".encode()
refused("invalid_utf8_in_a_value_400_bad_json_bad_utf8",
        mangled(lambda b: b.replace(name_b, b"Tr\xe1\xba\x20\xff\xfe B")), 400, "bad_json", "bad_utf8")
refused("overlong_utf8_encoding_400_bad_json_bad_utf8",
        mangled(lambda b: b.replace(name_b, b"\xc0\xaf\xe0\x80\xaf")), 400, "bad_json", "bad_utf8")
refused("utf16_surrogate_bytes_400_bad_json_bad_utf8",
        mangled(lambda b: b.replace(name_b, b"\xed\xa0\x80")), 400, "bad_json", "bad_utf8")
refused("invalid_utf8_in_a_key_400_bad_json_bad_utf8",
        mangled(lambda b: b.replace(b'"phone"', b'"ph\xffone"')), 400, "bad_json", "bad_utf8")
refused("nul_escape_in_a_string_400_bad_json",
        mangled(lambda b: b.replace(name_b, b"A\\u0000B")), 400, "bad_json")
refused("deep_nesting_in_a_field_400_bad_json_too_deep",
        mangled(lambda b: b.replace(b'"phone":null', b'"phone":' + b"[" * 20 + b"]" * 20)),
        400, "bad_json", "too_deep")
refused("nesting_200000_deep_400_bad_json_too_deep",
        mangled(lambda b: b.replace(b'"phone":null', b'"phone":' + b"[" * 200000 + b"]" * 200000)),
        400, "bad_json", "too_deep")
refused("huge_integer_in_a_field_400_bad_json_number_range",
        mangled(lambda b: b.replace(b'"birth_year":1995', b'"birth_year":123456789012345678901234567890')),
        400, "bad_json", "number_range")
refused("integer_just_over_2p53_in_a_field_400_number_range",
        mangled(lambda b: b.replace(b'"birth_year":1995', b'"birth_year":9007199254740993')),
        400, "bad_json", "number_range")
refused("real_1e400_in_a_field_400_number_range",
        mangled(lambda b: b.replace(b'"birth_year":1995', b'"birth_year":1e400')),
        400, "bad_json", "number_range")
refused("huge_sequence_number_number_range",
        mangled(lambda b: b.replace(b'"to":3', b'"to":18446744073709551617')), 400, "bad_json", "number_range")
refused("real_where_sequence_expected_number_range",
        mangled(lambda b: b.replace(b'"from":3', b'"from":3.0')), 400, "bad_json", "number_range")
clk = str(nxt[5]).encode()
refused("clock_2p64_number_range",
        mangled(lambda b: b.replace(clk, b"18446744073709551616")), 400, "bad_json", "number_range")
refused("duplicate_top_level_key_400_bad_json_duplicate_key",
        mangled(lambda b: b.replace(b'"from":3', b'"from":3,"from":4')), 400, "bad_json", "duplicate_key")
refused("duplicate_key_inside_fields_400_bad_json_duplicate_key",
        mangled(lambda b: b.replace(b'"phone":null', b'"phone":null,"phone":"0912"')),
        400, "bad_json", "duplicate_key")
refused("unknown_protocol_version_400_protocol_version",
        mangled(lambda b: b.replace(b'"v":1', b'"v":3')), 400, "protocol_version")
# shape 2 (PROTOCOL.md §6.2a) is a version of its own: shape 1's members under "v":2
refused("shape_2_with_the_members_of_shape_1_400_bad_message",
        mangled(lambda b: b.replace(b'"v":1', b'"v":2')), 400, "bad_message")
refused("missing_protocol_version_400_bad_message",
        mangled(lambda b: b.replace(b'"v":1,', b'')), 400, "bad_message")
refused("newer_schema_422_schema_newer_with_hub_schema",
        mangled(lambda b: b.replace(b'"schema":1', b'"schema":2')), 422, "schema_newer",
        extra={"hub_schema": 1})

def with_entry(fn):
    """A change set for seq 3 whose single entry is fn(copy of entry 3), chains recomputed."""
    def send():
        e = json.loads(json.dumps(nxt))
        fn(e)
        m = J.cs(3, 3)
        m["entries"] = [e]
        m["chain_after"] = chain(J.chains[2], [e]).hex()
        return changes(m)
    return send

def set_table(t):
    return lambda e: e.__setitem__(1, t)

refused("unknown_table_400_unknown_table", with_entry(set_table("meetings")), 400, "unknown_table",
        field="entries[0].table")
refused("table_name_carrying_sql_400_unknown_table",
        with_entry(set_table("meeting; DROP TABLE meeting--")), 400, "unknown_table")
refused("table_name_quoting_out_400_unknown_table",
        with_entry(set_table('person" (id) VALUES(1); DROP TABLE "person')), 400, "unknown_table")
refused("internal_table_name_400_unknown_table", with_entry(set_table("hub_token")), 400, "unknown_table")
refused("column_name_carrying_sql_400_unknown_column",
        with_entry(lambda e: e[6].__setitem__("phone = 1; DROP TABLE person--", "x")), 400, "unknown_column")
refused("internal_column_name_400_unknown_column",
        with_entry(lambda e: e[6].__setitem__("_ins_clock", 1)), 400, "unknown_column")
refused("unit_id_inside_fields_400_unknown_column",
        with_entry(lambda e: e[6].__setitem__("unit_id", U_OTHER)), 400, "unknown_column")
if "meeting" in synced_tables() and "person" in synced_tables():
    ok("tables_survive_names_carrying_sql")
else:
    fail("tables_survive_names_carrying_sql", "tables now: %s" % synced_tables())
refused("entries_not_from_to_400_bad_sequence",
        mangled(lambda b: b.replace(b'"to":3', b'"to":4')), 400, "bad_sequence")
refused("chain_after_not_following_400_bad_message",
        lambda: changes(dict(J.cs(3, 3), chain_after="ab" * 32)), 400, "bad_message", field="chain_after")

def gap():
    J2 = json.loads(json.dumps(J.cs(3, 3)))
    J2["from"] = J2["to"] = 9
    J2["entries"][0][0] = 9
    J2["chain_after"] = chain(bytes.fromhex(J2["chain_before"]), J2["entries"]).hex()
    return changes(J2)
refused("gap_409_names_expected_sequence", gap, 409, "gap", extra={"expected": 3})

# ---- tokens ----
refused("missing_token_writing_401_unauthorized", lambda: changes(good, token=None), 401, "unauthorized")
refused("malformed_token_writing_401_unauthorized",
        lambda: changes(good, token="lk_short"), 401, "unauthorized")
refused("unknown_token_of_right_shape_401_unauthorized",
        lambda: changes(good, token="lk_" + "A" * 43), 401, "unauthorized")
def basic():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request("POST", "/v1/changes", body=zlib.compress(good), headers={
        "Content-Type": "application/json", "Content-Encoding": "deflate",
        "Authorization": "Basic " + T["main"]})
    r = c.getresponse()
    st, b = r.status, r.read()
    c.close()
    return st, json.loads(b), 0
refused("basic_scheme_instead_of_bearer_401_unauthorized", basic, 401, "unauthorized")

JR = Journal()
st, _, _ = hello(JR.agent, token="rev")
r = subprocess.run([hub_bin, "revoke", "--db", db, T["rev"][:10]], capture_output=True, text=True)
JR.add("person", "i", person("Bị thu hồi"))
if st == 200 and r.returncode == 0:
    refused("revoked_token_writing_401_revoked", lambda: changes(JR.cs(1, 1), token="rev"), 401, "revoked")
    refused("revoked_token_hello_401_revoked", lambda: hello(JR.agent, token="rev"), 401, "revoked")
else:
    fail("revoked_token_writing_401_revoked", "hello %s, revoke exit %d: %s" % (st, r.returncode, r.stderr))
refused("viewer_token_writing_403_forbidden", lambda: changes(good, token="view"), 403, "forbidden")
refused("viewer_token_hello_403_forbidden", lambda: hello(str(uuid.uuid4()), token="view"), 403, "forbidden")
refused("token_used_by_another_agent_id_403_token_bound",
        lambda: changes(dict(J.cs(3, 3), agent=str(uuid.uuid4()))), 403, "token_bound")

# ---- a forked journal: same sequence numbers, different content ----
JF = Journal()
hello(JF.agent, token="fork")
JF.add("person", "i", person("Lê Văn C"))
JF.add("person", "i", person("Lê Văn D"))
st, b, _ = changes(JF.cs(1, 2), token="fork")
if st != 200:
    fail("forked_journal_setup", "%s %s" % (st, b))
# The laptop restored from an old backup writes other entries 2 and 3.
JF2 = Journal()
JF2.agent = JF.agent
JF2.entries = [JF.entries[0]]
JF2.chains = JF.chains[:2]
JF2.add("person", "i", person("Phạm Thị E"))
JF2.add("person", "i", person("Phạm Thị F"))
refused("forked_journal_same_seqs_other_content_409_fork",
        lambda: changes(JF2.cs(2, 3), token="fork"), 409, "fork")
refused("forked_journal_replayed_range_409_fork",
        lambda: changes(JF2.cs(1, 2), token="fork"), 409, "fork")
# After the fork the real journal still goes on where it was (nothing was taken).
acked = rows("SELECT acked FROM hub_agent WHERE id = ?", (JF.agent,))
names = {r[0] for r in rows("SELECT full_name FROM person")}
if acked == [(2,)] and "Phạm Thị E" not in names and "Lê Văn D" in names:
    ok("forked_journal_leaves_the_acknowledged_journal_as_it_was")
else:
    fail("forked_journal_leaves_the_acknowledged_journal_as_it_was", "acked %s" % acked)

# ---- quarantined inside an acknowledged change set ----
before = snapshot()
n_person = rows("SELECT count(*) FROM person")[0][0]
n_meeting = rows("SELECT count(*) FROM meeting")[0][0]
e_bad_type = J.add("meeting", "i", meeting(attendees="hai mươi"))             # 4
e_bad_enum = J.add("meeting", "i", meeting(kind="party"))                     # 5
e_other = J.add("person", "i", person("Người xã khác"), owner=U_OTHER)        # 6
e_good = J.add("meeting", "i", meeting(kind="giao_ban", attendees=40))        # 7
e_bool = J.add("meeting", "i", meeting(commune_secretary_attended=True))      # 8
e_range = J.add("person", "i", person("Quá già", birth_year=1850))            # 9
e_date = J.add("meeting", "i", meeting(held_on="2021-02-30"))                 # 10
e_upd_other = J.add("person", "u", {"phone": "0900"}, owner=U_OTHER, rid=J.entries[0][2])  # 11
QCS = J.cs(3, 11)
st, body, _ = changes(QCS)
want = {4: "bad_type", 5: "bad_enum", 6: "out_of_scope", 8: "bad_type", 9: "bad_range",
        10: "bad_date", 11: "out_of_scope"}
# Entry 11 updates our own row under another unit's id: that unit is out of our scope,
# which the hub checks before the owner (either code names the row of another unit).
got = {q.get("seq"): q.get("code") for q in body.get("quarantined", [])} if isinstance(body, dict) else {}
if got.get(11) == "owner_changed":
    want[11] = "owner_changed"
why = []
if st != 200 or body.get("acked") != 11:
    why.append("answer %s %s" % (st, body))
if got != want:
    why.append("quarantined %s, want %s" % (got, want))
if isinstance(body, dict) and body.get("applied") != 2:
    why.append("applied %s, want 2 (seq 3 and 7)" % body.get("applied"))
ids_present = {r[0] for r in rows("SELECT id FROM person UNION ALL SELECT id FROM meeting")}
for e in (e_bad_type, e_bad_enum, e_other, e_bool, e_range, e_date):
    if e[2] in ids_present:
        why.append("quarantined seq %d is in table %s" % (e[0], e[1]))
for e in (nxt, e_good):
    if e[2] not in ids_present:
        why.append("valid seq %d missing from %s" % (e[0], e[1]))
if rows("SELECT phone FROM person WHERE id = ?", (J.entries[0][2],)) != [(None,)]:
    why.append("update under another owner changed the row")
if rows("SELECT count(*) FROM person")[0][0] != n_person + 1 or \
        rows("SELECT count(*) FROM meeting")[0][0] != n_meeting + 1:
    why.append("row counts person %d->%d meeting %d->%d" % (n_person, rows("SELECT count(*) FROM person")[0][0],
               n_meeting, rows("SELECT count(*) FROM meeting")[0][0]))
hq = {r[0]: r[1] for r in rows("SELECT seq, code FROM hub_quarantine WHERE agent_id = ?", (J.agent,))}
if hq != want:
    why.append("hub_quarantine %s" % hq)
named = all(q.get("table") and q.get("message") for q in body.get("quarantined", [])) \
    if isinstance(body, dict) else False
if not named:
    why.append("a quarantine item lacks table or message: %s" % body.get("quarantined"))
if why:
    fail("wrong_types_enums_ranges_dates_other_units_quarantined_rest_applied", "; ".join(why))
else:
    ok("wrong_types_enums_ranges_dates_other_units_quarantined_rest_applied")

# ---- a replayed change set ----
mid = snapshot(receipts=False)
st, body, _ = changes(QCS)
st1, body1, _ = changes(J.cs(1, 11))
after = snapshot(receipts=False)
if st == 200 and body.get("duplicate") is True and body.get("applied") == 0 and body.get("acked") == 11 \
        and st1 == 200 and body1.get("duplicate") is True and body1.get("applied") == 0 \
        and body.get("quarantined") in (None, []) and mid[0] == after[0]:
    ok("replayed_change_set_acknowledged_again_nothing_applied_twice")
else:
    fail("replayed_change_set_acknowledged_again_nothing_applied_twice",
         "answers %s %s / %s %s; db %s" % (st, body, st1, body1,
                                            "same" if mid[0] == after[0] else diff(mid, after)))
# An overlapping set (9..12): only 12 is new.
e12 = J.add("person", "i", person("Võ Văn G"))
st, body, _ = changes(J.cs(9, 12))
if st == 200 and body.get("applied") == 1 and body.get("acked") == 12 and body.get("duplicate") is False \
        and rows("SELECT count(*) FROM person WHERE id = ?", (e12[2],))[0][0] == 1:
    ok("overlapping_change_set_applies_only_the_new_entry")
else:
    fail("overlapping_change_set_applies_only_the_new_entry", "%s %s" % (st, body))
# Every entry counted once over all receipts of the agent.
s = rows("SELECT sum(applied + quarantined + held + skipped) FROM hub_receipt WHERE agent_id = ? "
         "AND duplicate = 0", (J.agent,))[0][0]
if s == 12:
    ok("receipts_count_every_entry_exactly_once")
else:
    fail("receipts_count_every_entry_exactly_once", "sum %s over receipts, want 12" % s)

if hub_alive():
    ok("hub_still_serves_healthz_after_all_of_it")
else:
    fail("hub_still_serves_healthz_after_all_of_it", "no 200 from /healthz")
sys.exit(1 if failed else 0)
PY

export T_MAIN T_FORK T_REV T_VIEW U_MAIN U_OTHER
python3 "$E2E_DIR/hubcases.py" "$HUB_PORT" "$DB" "$HUB" >"$E2E_DIR/hubcases.out" 2>&1
cat "$E2E_DIR/hubcases.out"
E2E_FAILED=$((E2E_FAILED + $(grep -c '^\[  FAILED  \]' "$E2E_DIR/hubcases.out")))
if ! grep -q '^\[' "$E2E_DIR/hubcases.out"; then
	fail badinput__hub_cases_ran "$(tail -5 "$E2E_DIR/hubcases.out" | tr '\n' ' ')"
fi
# ---- agent side: a hostile hub -------------------------------------------------------
cat >"$E2E_DIR/fakehub.py" <<'PY'
# python3 fakehub.py MODE PORT-FILE HITS-FILE [REDIRECT-TARGET]: answers every request
# the MODE way and appends "METHOD PATH" to HITS-FILE.
import http.server, socketserver, sys, zlib
mode, port_file, hits = sys.argv[1], sys.argv[2], sys.argv[3]
target = sys.argv[4] if len(sys.argv) > 4 else ""

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with open(hits, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        if mode == "badjson":
            body = zlib.compress(b'{"v":1,"hub_time":17641500, "acked": [unterminated')
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "deflate")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "notdeflate":
            body = b"\x78\x9c garbage that is not a zlib stream"
            self.send_response(200)
            self.send_header("Content-Encoding", "deflate")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "huge":
            # No Content-Length: 512 MB of deflated spaces, close-delimited.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            c = zlib.compressobj(1)
            block = c.compress(b" " * (1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
            self.wfile.write(c.compress(b'{"v":1,') + c.flush(zlib.Z_SYNC_FLUSH))
            sent = 0
            try:
                for _ in range(512):
                    self.wfile.write(b"x" * (1 << 20))
                    sent += 1
            except OSError:
                pass
            with open(hits, "a") as f:
                f.write("huge: %d MB sent before the client stopped reading\n" % sent)
            self.close_connection = True
        elif mode == "hugelength":
            self.send_response(200)
            self.send_header("Content-Length", str(3 << 30))
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"x" * (1 << 20))
            except OSError:
                pass
            self.close_connection = True
        elif mode == "redirect":
            self.send_response(307)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:  # "sink": the place a redirect points to; a plain 404
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
    do_GET = do_POST = handle_one

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
srv = S(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
PY

# fake_start MODE [TARGET] — starts a fake hub; sets FAKE_URL.
fake_start() {
	rm -f "$E2E_DIR/fake-$1.port"
	python3 "$E2E_DIR/fakehub.py" "$1" "$E2E_DIR/fake-$1.port" "$E2E_DIR/fake-$1.hits" ${2:+"$2"} \
		>"$E2E_DIR/fake-$1.log" 2>&1 &
	e2e_track $!
	wait_file "$E2E_DIR/fake-$1.port" 100 || return 1
	FAKE_URL="http://127.0.0.1:$(cat "$E2E_DIR/fake-$1.port")"
}

ADB="$E2E_DIR/agent.db"
pending() { "$AGENT" status --json --db "$ADB" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])' 2>/dev/null; }
journal() { sqlite3 "$ADB" "SELECT count(*) || ':' || coalesce(max(seq), 0) FROM lk_journal"; }
rows_here() { sqlite3 "$ADB" "SELECT (SELECT count(*) FROM person) + (SELECT count(*) FROM meeting)"; }

fake_start sink || fail badinput__fake_hub_starts "sink did not start"
SINK_URL=$FAKE_URL
ok_agent=1
"$AGENT" init --db "$ADB" --unit "$U_AGENT" --hub "$HUB_URL" --token "$T_AGENT" \
	>"$E2E_DIR/agent-init.log" 2>&1 || ok_agent=0
"$AGENT" add person full_name="Hồ Thị H" birth_year=1999 --db "$ADB" >/dev/null 2>&1 || ok_agent=0
"$AGENT" add meeting kind=branch held_on=2024-05-01 attendees=12 --db "$ADB" >/dev/null 2>&1 || ok_agent=0
P0=$(pending); J0=$(journal); R0=$(rows_here)
if [ $ok_agent = 1 ] && [ "$P0" = 2 ]; then
	ok badinput__agent_with_two_pending_records
else
	fail badinput__agent_with_two_pending_records "init/add failed or pending '$P0': $(tail -3 "$E2E_DIR/agent-init.log" | tr '\n' ' ')"
fi

# hostile MODE WANT_EXIT MAX_SECONDS — the agent syncs against the fake hub.
hostile() {
	fake_start "$1" ${4:+"$4"} || { fail "badinput__agent_refuses_$1" "fake hub did not start"; return; }
	sqlite3 "$ADB" "UPDATE lk_config SET value = '$FAKE_URL' WHERE key = 'hub_url'"
	t0=$(date +%s)
	"$AGENT" sync --db "$ADB" >"$E2E_DIR/sync-$1.out" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	p=$(pending); j=$(journal); r=$(rows_here)
	err=$("$AGENT" status --json --db "$ADB" 2>/dev/null |
		python3 -c 'import json,sys; e=json.load(sys.stdin)["last_error"]; print(e if isinstance(e,str) else json.dumps(e))' 2>/dev/null)
	if [ $rc = "$2" ] && [ "$p" = "$P0" ] && [ "$j" = "$J0" ] && [ "$r" = "$R0" ] && [ $secs -le "$3" ] &&
		[ -s "$E2E_DIR/fake-$1.hits" ]; then
		ok "badinput__agent_refuses_$1"
	else
		fail "badinput__agent_refuses_$1" "exit $rc (want $2) in $secs s (max $3); pending $p (was $P0), journal $j (was $J0), rows $r (was $R0); hits $(wc -l <"$E2E_DIR/fake-$1.hits" 2>/dev/null); $(tail -2 "$E2E_DIR/sync-$1.out" | tr '\n' ' ')"
	fi
	echo "    $1: exit $rc in $secs s, last_error $err" >>"$E2E_DIR/hostile.txt"
}
hostile badjson 76 20
hostile notdeflate 76 20
hostile huge 76 30
hostile hugelength 76 30
if grep -q "huge:" "$E2E_DIR/fake-huge.hits" &&
	[ "$(sed -n 's/^huge: \([0-9]*\) MB.*/\1/p' "$E2E_DIR/fake-huge.hits")" -lt 512 ]; then
	ok badinput__agent_stops_reading_a_huge_answer_early
else
	fail badinput__agent_stops_reading_a_huge_answer_early "$(grep huge: "$E2E_DIR/fake-huge.hits")"
fi
hostile redirect 76 20 "$SINK_URL"
if [ ! -s "$E2E_DIR/fake-sink.hits" ]; then
	ok badinput__agent_never_follows_a_redirect_elsewhere
else
	fail badinput__agent_never_follows_a_redirect_elsewhere "the redirect target got: $(head -3 "$E2E_DIR/fake-sink.hits" | tr '\n' ' ')"
fi

# Plain http to a non-loopback address: `config` refuses it, and a URL put in the
# database behind the agent's back is refused by sync before any connection (a connect
# to 10.255.255.1 would hang until the connect timeout, 60 s).
before_url=$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'hub_url'")
"$AGENT" config --hub http://10.255.255.1:1 --db "$ADB" >"$E2E_DIR/cfg.out" 2>&1
rc=$?
after_url=$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'hub_url'")
if [ $rc -ne 0 ] && [ "$before_url" = "$after_url" ]; then
	ok badinput__agent_config_refuses_plain_http_to_a_non_loopback_hub
else
	fail badinput__agent_config_refuses_plain_http_to_a_non_loopback_hub "exit $rc, hub_url now '$after_url'"
fi
for url in http://10.255.255.1:1 http://example.org/ http://127.0.0.1.nip.io:1/ http://[::ffff:10.255.255.1]:1/; do
	sqlite3 "$ADB" "UPDATE lk_config SET value = '$url' WHERE key = 'hub_url'"
	t0=$(date +%s)
	"$AGENT" sync --db "$ADB" >"$E2E_DIR/sync-plain.out" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	p=$(pending)
	name=badinput__agent_refuses_plain_http_before_connecting_$(echo "$url" | tr -c 'a-z0-9\n' _ | sed 's/__*/_/g; s/_$//')
	if [ $rc = 78 ] && [ $secs -le 3 ] && [ "$p" = "$P0" ]; then
		ok "$name"
	else
		fail "$name" "exit $rc (want 78) after $secs s, pending $p; $(tail -2 "$E2E_DIR/sync-plain.out" | tr '\n' ' ')"
	fi
done

# Back to the real hub: nothing was lost.
sqlite3 "$ADB" "UPDATE lk_config SET value = '$HUB_URL' WHERE key = 'hub_url'"
"$AGENT" sync --db "$ADB" >"$E2E_DIR/sync-real.out" 2>&1
rc=$?
hub_rows=$(hub_sql "$DB" "SELECT (SELECT count(*) FROM person WHERE unit_id = '$U_AGENT') + (SELECT count(*) FROM meeting WHERE unit_id = '$U_AGENT')")
if [ $rc = 0 ] && [ "$(pending)" = 0 ] && [ "$hub_rows" = 2 ]; then
	ok badinput__agent_after_hostile_hubs_syncs_everything_to_the_real_hub
else
	fail badinput__agent_after_hostile_hubs_syncs_everything_to_the_real_hub "exit $rc, pending $(pending), hub rows $hub_rows; $(tail -2 "$E2E_DIR/sync-real.out" | tr '\n' ' ')"
fi
cat "$E2E_DIR/hostile.txt" 2>/dev/null

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$HUB_URL/healthz")
if [ "$code" = 200 ] && kill -0 "$HUB_PID_hub" 2>/dev/null; then
	ok badinput__hub_process_survives
else
	fail badinput__hub_process_survives "healthz $code; log: $(tail -5 "$E2E_DIR/hub.log" | tr '\n' ' ')"
fi
e2e_finish
