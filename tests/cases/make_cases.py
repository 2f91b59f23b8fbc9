#!/usr/bin/env python3
"""Writes the data-driven decoder cases under tests/cases/ (run from the repo root).

Each case is a folder: input.json, and expect.txt. For an invalid case expect.txt
holds the wire_error_code() string and, on a second line, the field it names. For a
valid change set it holds one line per entry: the validate_code_str() the entry gets
(schema 1, from an agent). The chains in valid change sets are computed here by an
independent implementation of PROTOCOL.md §5, so tests/unit/test_wire.c also checks
that the C library computes the same chain. Re-running overwrites the cases.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import struct
import uuid

ROOT = "tests/cases"
NS = uuid.UUID("6c69656e-6b65-7420-8000-6e616d657370")
AGENT = "0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b"
HUB = "0190f3a0-0000-7000-8000-000000000001"
UNIT = "0190f3a2-0000-7000-8000-0000000000c1"
MEETING = "0190f3b0-5a21-7c3d-8e4f-0a1b2c3d4e5f"
BRANCH = "0190f3b1-1111-7222-8333-444455556666"
PERSON = "0190f3b2-2b3c-7d4e-9f60-718293a4b5c6"
T0 = 1764150000000
def clock(ms, n=0):
    return (ms << 16) | n

def sstr(b):
    return struct.pack(">I", len(b)) + b

def canon_value(v):
    if v is None:
        return b"n"
    if isinstance(v, bool):
        return b"b" + bytes([1 if v else 0])
    if isinstance(v, int):
        return b"i" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"r" + struct.pack(">d", v)
    if isinstance(v, str):
        return b"s" + sstr(v.encode())
    return b"c" + sstr(json.dumps(v, sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False).encode())

def canon(e):
    seq, table, rid, op, owner, _clock, fields = e
    out = struct.pack(">Q", seq) + sstr(table.encode()) + sstr(rid.encode())
    out += op.encode() + sstr(owner.encode()) + struct.pack(">I", len(fields))
    for name in sorted(fields, key=lambda n: n.encode()):
        out += sstr(name.encode()) + canon_value(fields[name])
    return out

def entry_hash(e):
    if e[1] is None:
        return bytes.fromhex(e[2])
    return hashlib.sha256(canon(e)).digest()

def chain(prev, entries):
    for e in entries:
        prev = hashlib.sha256(prev + entry_hash(e)).digest()
    return prev

def row_digest(table, rid, fields):
    """PROTOCOL.md §8: first 8 bytes of H(str table | str id | u32 n | sorted fields)."""
    out = sstr(table.encode()) + sstr(rid.encode()) + struct.pack(">I", len(fields))
    for name in sorted(fields, key=lambda n: n.encode()):
        out += sstr(name.encode()) + canon_value(fields[name])
    return struct.unpack(">Q", hashlib.sha256(out).digest()[:8])[0]

def checksum(rows):
    return "%d:%016x" % (len(rows), sum(row_digest(*r) for r in rows) % (1 << 64))

def uuid5(table, *key):
    name = "\x1f".join([table] + [str(k) for k in key])
    return str(uuid.uuid5(NS, name))

def changeset(frm, entries, before=bytes(32), **over):
    msg = {"v": 1, "schema": 1, "agent": AGENT, "from": frm, "to": frm + len(entries) - 1,
           "chain_before": before.hex(), "chain_after": chain(before, entries).hex(),
           "entries": entries}
    msg.update(over)
    return msg

# Change sets of shape 2 (PROTOCOL.md §6.2a), written from the text of the protocol
# alone: owners and UUID values in refs (in order of first use: an entry's owner, then
# its values), row ids as compact UUIDs, groups in order of their first entry.
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

def compact(u):
    return base64.urlsafe_b64encode(uuid.UUID(u).bytes).decode().rstrip("=")

def is_uuid(v):
    return isinstance(v, str) and UUID_RE.match(v) is not None

def changeset2(msg):
    refs, groups, skipped, where = [], [], [], {}
    def ref(u):
        if u not in refs:
            refs.append(u)
        return refs.index(u)
    def value(v):
        if is_uuid(v):
            return [ref(v)]
        if v is None or isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
            return v
        return {"j": v}
    for e in msg["entries"]:
        if e[1] is None:
            skipped.append([e[0], e[2], e[3]])
            continue
        seq, table, rid, op, owner, clk, fields = e
        key = (table, op, tuple(fields))
        if key not in where:
            where[key] = len(groups)
            groups.append({"t": table, "op": op, "cols": list(fields), "seq": [], "id": [], "owner": [],
                           "clock": [], "vals": [[] for _ in fields], "last": None})
        g = groups[where[key]]
        owner_v = ref(owner) if is_uuid(owner) else [owner]
        vals = [value(fields[n]) for n in fields]
        g["seq"].append(seq - g["last"][0] if g["last"] else seq)
        g["id"].append(compact(rid) if is_uuid(rid) else [rid])
        g["owner"].append(owner_v)
        g["clock"].append(clk - g["last"][1] if g["last"] else clk)
        for i, v in enumerate(vals):
            g["vals"][i].append(v)
        g["last"] = (seq, clk)
    out = {k: msg[k] for k in ("schema", "agent", "from", "to", "chain_before", "chain_after")}
    out = dict({"v": 2}, **out)
    out["refs"] = [compact(u) for u in refs]
    out["groups"] = [{k: g[k] for k in ("t", "op", "cols", "seq", "id", "owner", "clock", "vals")}
                     for g in groups]
    out["skipped"] = skipped
    return out

def write(kind, validity, name, body, expect):
    d = os.path.join(ROOT, kind, validity, name)
    os.makedirs(d, exist_ok=True)
    mode = "wb" if isinstance(body, bytes) else "w"
    with open(os.path.join(d, "input.json"), mode) as f:
        if isinstance(body, bytes):
            f.write(body)
        elif isinstance(body, str):
            f.write(body)
        else:
            f.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    if expect is not None:
        with open(os.path.join(d, "expect.txt"), "w") as f:
            f.write(expect + "\n")

MEETING_INSERT = [1201, "meeting", MEETING, "i", UNIT, clock(T0, 1),
                  {"kind": "joint", "held_on": "2021-03-14", "host_branch_id": BRANCH,
                   "commune_secretary_attended": 1, "attendees": 23,
                   "concerns": "Thiếu kinh phí", "follow_up": None}]

# The example of PROTOCOL.md §6.2 and §5, byte for byte the same values.
CHAIN_1200 = hashlib.sha256(bytes(64)).digest()  # a stand-in: H(zeros || zeros)
TOO_LARGE = [1203, "meeting", MEETING, "u", UNIT, clock(T0, 3), {"concerns": "x" * 69999}]
EXAMPLE_6_2 = [MEETING_INSERT,
               [1202, "meeting", MEETING, "u", UNIT, clock(T0, 2), {"attendees": 25}],
               [1203, None, entry_hash(TOO_LARGE).hex(), "too_large"]]
CHAIN_1203 = chain(CHAIN_1200, EXAMPLE_6_2)
assert CHAIN_1200.hex() == "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"
assert EXAMPLE_6_2[2][2] == "72ae18dd9d3a4efef8f43dd5d1779cf1035dcbcbddbd2d66f122c63622c6ffaa"
assert CHAIN_1203.hex() == "543f1f0fb9984dab3e6d4f8dea6c4957d2e568e7646348dfdad6ec72b0e6b824"
MEETING_ROW = dict(MEETING_INSERT[6], unit_id=UNIT, attendees=25)
assert checksum([("meeting", MEETING, MEETING_ROW)]) == "1:af3b68b6f4b1c229"

def changesets():
    k = "changesets"
    write(k, "valid", "example_6_2", changeset(1201, EXAMPLE_6_2, CHAIN_1200), "ok\nok\nok")
    yr = uuid5("year_record", UNIT, 2024)
    party = uuid5("party", UNIT, PERSON, "admitted")
    write(k, "valid", "natural_keys", changeset(1, [
        [1, "year_record", yr, "i", UNIT, clock(T0, 0),
         {"year": 2024, "rating": "tot", "youth_gathered": 120, "youth_in_area": 300}],
        [2, "party", party, "i", UNIT, clock(T0, 1),
         {"person_id": PERSON, "step": "admitted", "on_date": "2024-02-29"}],
        [3, "year_record", uuid5("year_record", UNIT, 2023), "i", UNIT, clock(T0, 2),
         {"year": 2024, "rating": "tot", "youth_gathered": 1, "youth_in_area": 2}],
        [4, "party", party, "u", UNIT, clock(T0, 3), {"step": "introduced"}],
        [5, "party", party, "d", UNIT, clock(T0, 4), {}],
    ]), "ok\nok\nkey_changed\nkey_changed\nok")
    c = clock(T0, 10)
    upd = lambda seq, f, table="meeting": [seq, table, MEETING, "u", UNIT, c + seq, f]
    write(k, "valid", "quarantined_values", changeset(1, [
        upd(1, {"attendees": 1.5}),
        upd(2, {"commune_secretary_attended": True}),
        upd(3, {"concerns": ["a", {"b": 1}]}),
        upd(4, {"kind": "picnic"}),
        upd(5, {"attendees": 100001}),
        upd(6, {"held_on": "2021-02-29"}),
        upd(7, {"host_branch_id": "not-a-uuid"}),
        upd(8, {"kind": None}),
        upd(9, {"commune_secretary_attended": 2}),
        upd(10, {"concerns": "x" * 2001}),
        [11, "meeting", MEETING, "i", UNIT, c + 11, {"kind": "joint", "held_on": "2021-03-14"}],
        [12, "unit_event", MEETING, "i", UNIT, c + 12,
         {"kind": "merge", "of_unit": UNIT, "other_unit": None, "effective_on": "2025-07-01",
          "note": None}],
        [13, "meeting", "0190F3B0-5A21-7C3D-8E4F-0A1B2C3D4E5F", "u", UNIT, c + 13, {}],
        [14, "meeting", MEETING, "d", UNIT, c + 14, {"attendees": 3}],
        upd(15, {"attendees": "12"}),
        upd(16, {"attendees": {}}),
    ]), "bad_type\nbad_type\nbad_type\nbad_enum\nbad_range\nbad_date\nbad_id\nrequired\n"
        "bad_range\ntoo_long\nrequired\nhub_only\nbad_id\nbad_op\nbad_type\nbad_type")
    write(k, "valid", "unknown_names_decode", changeset(7, [
        [7, "no_such_table", MEETING, "u", UNIT, c, {"x": 1}],
        [8, "meeting", MEETING, "u", UNIT, c + 1, {"no_such_column": 1}],
        [9, "meeting", MEETING, "u", UNIT, c + 2, {"unit_id": UNIT}],
    ]), "unknown_table\nunknown_column\nunknown_column")
    m = changeset(1, [upd(1, {"attendees": 5, "concerns": "\u00e9\u1ec7 \"quoted\" \\ /\u0001"})])
    m["future_member"] = {"ignored": [1, 2, 3]}
    write(k, "valid", "unknown_members_and_escapes", m, "ok")
    # the valid cases again in shape 2: the same entries, the same chain and verdicts
    for name, name2 in (("example_6_2", "example_6_2a"), ("natural_keys", "natural_keys_shape2"),
                        ("quarantined_values", "quarantined_values_shape2"),
                        ("unknown_names_decode", "unknown_names_decode_shape2")):
        d = os.path.join(ROOT, k, "valid", name)
        with open(os.path.join(d, "input.json")) as f:
            msg = json.load(f)
        with open(os.path.join(d, "expect.txt")) as f:
            expect = f.read().rstrip("\n")
        write(k, "valid", name2, changeset2(msg), expect)
    write(k, "valid", "both_skip_reasons", changeset(40, [
        [40, None, "ab" * 32, "unencodable"], [41, None, "CD" * 32, "too_large"]]),
        "ok\nok")

    good = changeset(1201, EXAMPLE_6_2, CHAIN_1200)
    txt = json.dumps(good, ensure_ascii=False, separators=(",", ":"))
    write(k, "invalid", "truncated_json", txt[: len(txt) // 2], "bad_json")
    write(k, "invalid", "not_json", "hello, hub", "bad_json")
    write(k, "invalid", "trailing_garbage", txt + "}", "bad_json")
    write(k, "invalid", "empty_body", "", "bad_json")
    write(k, "invalid", "nul_escape_in_string",
          txt.replace("Thiếu kinh phí", "Thi\\u0000u"), "bad_json")
    write(k, "invalid", "invalid_utf8",
          txt.encode().replace("Thiếu".encode(), b"Thi\xc3\x28u"), "bad_utf8")
    write(k, "invalid", "overlong_utf8",
          txt.encode().replace(b"joint", b"jo\xc0\xafnt"), "bad_utf8")
    write(k, "invalid", "duplicate_top_key", txt[:-1] + ',"from":1201}', "duplicate_key")
    write(k, "invalid", "duplicate_field_key",
          txt.replace('"attendees":25', '"attendees":25,"attendees":26'), "duplicate_key")
    deep = "[" * 9 + "]" * 9
    write(k, "invalid", "deep_nesting_in_field",
          txt.replace('"attendees":25', '"attendees":' + deep), "too_deep")
    write(k, "invalid", "deep_nesting_hidden_brackets_in_strings_ok_then_deep",
          txt.replace('"attendees":25', '"attendees":"[[[[[[[[[[[[","x":' + "{\"a\":" * 9 + "1" + "}" * 9),
          "too_deep")
    write(k, "invalid", "huge_integer", txt.replace('"attendees":25', '"attendees":123456789012345678901234567890'),
          "number_range")
    write(k, "invalid", "huge_negative_integer", txt.replace('"attendees":25', '"attendees":-99999999999999999999'),
          "number_range")
    write(k, "invalid", "field_int_beyond_2_53", txt.replace('"attendees":25', '"attendees":9007199254740993'),
          "number_range\nentries[1].fields.attendees")
    write(k, "invalid", "from_is_real", txt.replace('"from":1201', '"from":1201.0'),
          "number_range\nfrom")
    write(k, "invalid", "negative_clock", txt.replace(str(clock(T0, 2)), "-5"),
          "number_range\nentries[1].clock")
    write(k, "invalid", "protocol_version_3", txt.replace('{"v":1', '{"v":3'), "protocol_version\nv")
    # shape 2 (PROTOCOL.md §6.2a) is a version of its own: shape 1's members are not it
    write(k, "invalid", "shape2_with_entries_of_shape1", txt.replace('{"v":1', '{"v":2'), "bad_message\nrefs")
    write(k, "invalid", "protocol_version_missing", txt.replace('"v":1,', ''), "bad_message\nv")
    write(k, "invalid", "protocol_version_string", txt.replace('"v":1', '"v":"1"'), "bad_message\nv")
    for member in ("schema", "agent", "from", "to", "chain_before", "chain_after", "entries"):
        m = dict(good)
        del m[member]
        write(k, "invalid", "missing_" + member, m, "bad_message\n" + member)
    write(k, "invalid", "top_level_array", "[1,2,3]", "bad_message")
    write(k, "invalid", "agent_uppercase", dict(good, agent=AGENT.upper()), "bad_message\nagent")
    write(k, "invalid", "chain_not_hex", dict(good, chain_before="zz" * 32), "bad_message\nchain_before")
    write(k, "invalid", "chain_short", dict(good, chain_after="ab" * 31), "bad_message\nchain_after")
    write(k, "invalid", "entries_not_array", dict(good, entries={}), "bad_message\nentries")
    bad = json.loads(json.dumps(good))
    bad["entries"][1] = bad["entries"][1][:6]
    write(k, "invalid", "entry_missing_fields", bad, "bad_message\nentries[1]")
    bad = json.loads(json.dumps(good))
    bad["entries"][1][3] = "x"
    write(k, "invalid", "entry_bad_op", bad, "bad_message\nentries[1].op")
    bad = json.loads(json.dumps(good))
    bad["entries"][1][1] = 7
    write(k, "invalid", "entry_table_not_string", bad, "bad_message\nentries[1].table")
    bad = json.loads(json.dumps(good))
    bad["entries"][2][3] = "lost"
    write(k, "invalid", "skip_unknown_reason", bad, "bad_message\nentries[2].reason")
    bad = json.loads(json.dumps(good))
    bad["entries"][0], bad["entries"][1] = bad["entries"][1], bad["entries"][0]
    write(k, "invalid", "entries_out_of_order", bad, "bad_sequence\nentries[0]")
    bad = json.loads(json.dumps(good))
    bad["entries"][2][0] = 1204
    write(k, "invalid", "entries_gap", bad, "bad_sequence\nentries[2]")
    write(k, "invalid", "entries_fewer_than_range", dict(good, to=1204), "bad_sequence\nentries")
    write(k, "invalid", "from_zero", dict(good, **{"from": 0, "to": 2}), "bad_sequence\nfrom")
    write(k, "invalid", "empty_range", dict(good, **{"from": 5, "to": 4, "entries": []}), "bad_sequence\nfrom")
    write(k, "invalid", "range_too_long", dict(good, to=1201 + 5000), "too_many\nto")

def hellos():
    k = "hello"
    h = {"v": 1, "schema": 1, "agent": AGENT, "wall": T0, "pending": 42, "acked": 1200,
         "software": "lienket-agent 0.1.0"}
    write(k, "valid", "example_6_1", h, None)
    write(k, "valid", "long_software_truncated", dict(h, software="lienket-agent " + "é" * 60), None)
    write(k, "valid", "unknown_member", dict(h, os="Windows 7"), None)
    write(k, "invalid", "protocol_version_0", dict(h, v=0), "protocol_version\nv")
    for m in ("schema", "agent", "wall", "pending", "acked", "software"):
        x = dict(h)
        del x[m]
        write(k, "invalid", "missing_" + m, x, "bad_message\n" + m)
    write(k, "invalid", "negative_pending", dict(h, pending=-1), "number_range\npending")
    write(k, "invalid", "wall_string", dict(h, wall="now"), "bad_message\nwall")
    write(k, "invalid", "schema_zero", dict(h, schema=0), "number_range\nschema")
    write(k, "invalid", "duplicate_key", json.dumps(h)[:-1] + ', "acked": 1}', "duplicate_key")
    write(k, "invalid", "invalid_utf8", json.dumps(h).encode().replace(b"0.1.0", b"0.1\xff"), "bad_utf8")

def hello_answers():
    k = "hello_answers"
    a = {"v": 1, "schema": 1, "hub_time": T0 + 123, "hub_id": HUB, "unit": UNIT,
         "acked": 1203, "chain": CHAIN_1203.hex(), "backup_seq": 1100,
         "limits": {"max_body_bytes": 1048576, "max_inflated_bytes": 8388608, "max_changes": 5000,
                    "max_ahead_ms": 300000, "pull_page_rows": 500},
         "checksums": {UNIT: checksum([("meeting", MEETING, MEETING_ROW)])}, "retired": False}
    write(k, "valid", "example_6_1", a, None)
    write(k, "valid", "new_agent", dict(a, acked=0, chain="0" * 64, checksums={}), None)
    for m in ("hub_time", "hub_id", "chain", "limits", "checksums", "retired"):
        x = dict(a)
        del x[m]
        write(k, "invalid", "missing_" + m, x, "bad_message\n" + m)
    x = json.loads(json.dumps(a))
    del x["limits"]["max_ahead_ms"]
    write(k, "invalid", "missing_limit", x, "bad_message\nmax_ahead_ms")
    write(k, "invalid", "checksum_malformed", dict(a, checksums={UNIT: "318-9a0b"}), "bad_message\nchecksums")
    write(k, "invalid", "checksum_key_not_uuid", dict(a, checksums={"c1": "1:0000000000000000"}),
          "bad_message\nchecksums")
    write(k, "invalid", "retired_as_int", dict(a, retired=0), "bad_message\nretired")
    write(k, "invalid", "protocol_version_3", dict(a, v=3), "protocol_version\nv")

def changes_answers():
    k = "changes_answers"
    a = {"v": 1, "hub_time": T0 + 456, "acked": 1203, "applied": 2, "duplicate": False,
         "quarantined": [{"seq": 1202, "code": "bad_range", "table": "meeting", "id": MEETING,
                          "field": "attendees", "message": "attendees: out of range"}]}
    write(k, "valid", "example_6_2", a, None)
    write(k, "valid", "duplicate_nothing_new", dict(a, applied=0, duplicate=True, quarantined=[]), None)
    write(k, "valid", "quarantine_nulls", dict(a, quarantined=[{"seq": 9, "code": "hub_only",
          "table": "unit_event", "id": MEETING, "field": None, "message": "x" * 300}]), None)
    for m in ("hub_time", "acked", "applied", "duplicate", "quarantined"):
        x = dict(a)
        del x[m]
        write(k, "invalid", "missing_" + m, x, "bad_message\n" + m)
    write(k, "invalid", "quarantine_without_code", dict(a, quarantined=[{"seq": 1}]), "bad_message\ncode")
    write(k, "invalid", "quarantine_code_too_long", dict(a, quarantined=[{"seq": 1, "code": "c" * 40}]),
          "bad_message\ncode")
    write(k, "invalid", "quarantine_not_object", dict(a, quarantined=[7]), "bad_message\nquarantined[0]")
    write(k, "invalid", "acked_huge", json.dumps(a).replace('"acked": 1203', '"acked": 1e400'),
          "number_range")

def error_answers():
    k = "error_answers"
    e = {"v": 1, "hub_time": T0 + 999,
         "error": {"code": "gap", "message": "expected sequence 1201, got 1305", "field": "from",
                   "expected": 1201}}
    write(k, "valid", "gap", e, None)
    write(k, "valid", "clock_ahead", dict(e, error={"code": "clock_ahead", "message": "clock ahead",
                                                    "field": "entries[0].clock", "seq": 1201}), None)
    write(k, "valid", "schema_newer", dict(e, error={"code": "schema_newer", "message": "upgrade the hub",
                                                     "hub_schema": 1}), None)
    write(k, "valid", "minimal", dict(e, error={"code": "internal"}), None)
    write(k, "invalid", "missing_error", {"v": 1, "hub_time": T0}, "bad_message\nerror")
    write(k, "invalid", "missing_code", dict(e, error={"message": "m"}), "bad_message\nerror.code")
    write(k, "invalid", "error_is_string", dict(e, error="gap"), "bad_message\nerror")
    write(k, "invalid", "missing_hub_time", {"v": 1, "error": {"code": "gap"}}, "bad_message\nhub_time")
    write(k, "invalid", "expected_negative", dict(e, error={"code": "gap", "expected": -1}),
          "number_range\nerror.expected")
    write(k, "invalid", "plain_text", "Bad Gateway", "bad_json")

def pull_pages():
    k = "pull_pages"
    row = {"t": "meeting", "id": MEETING, "u": UNIT, "ins": [clock(T0, 1), AGENT], "del": None,
           "f": {"kind": ["joint", clock(T0, 1), AGENT], "attendees": [25, clock(T0, 2), AGENT],
                 "follow_up": [None, clock(T0, 1), AGENT]}}
    p = {"v": 1, "hub_time": T0 + 789, "cursor": 88213, "more": False, "rows": [row]}
    write(k, "valid", "example_6_3", p, None)
    tomb = dict(row, ins=[clock(T0, 1), AGENT], **{"del": [clock(T0 + 5, 0), HUB]}, f={})
    write(k, "valid", "tombstone_and_empty", dict(p, more=True, rows=[tomb]), None)
    write(k, "valid", "no_rows", dict(p, rows=[]), None)
    for m in ("t", "id", "u", "ins", "del", "f"):
        r = dict(row)
        del r[m]
        write(k, "invalid", "row_missing_" + m, dict(p, rows=[r]), "bad_message\nrows[0]." + m)
    for m in ("hub_time", "cursor", "more", "rows"):
        x = dict(p)
        del x[m]
        write(k, "invalid", "missing_" + m, x, "bad_message\n" + m)
    write(k, "invalid", "field_not_triple", dict(p, rows=[dict(row, f={"kind": ["joint", 1]})]),
          "bad_message\nrows[0].f.kind")
    write(k, "invalid", "writer_not_uuid", dict(p, rows=[dict(row, ins=[1, "me"])]),
          "bad_message\nrows[0].ins")
    write(k, "invalid", "clock_too_big", json.dumps(dict(p, rows=[dict(row, ins=[1, AGENT])]))
          .replace("[1, ", "[18446744073709551615, "), "number_range")
    write(k, "invalid", "too_many_rows", dict(p, rows=[row] * 501), "too_many\nrows")

if __name__ == "__main__":
    for sub in ("changesets", "hello", "hello_answers", "changes_answers", "error_answers",
                "pull_pages"):
        shutil.rmtree(os.path.join(ROOT, sub), ignore_errors=True)
    changesets()
    hellos()
    hello_answers()
    changes_answers()
    error_answers()
    pull_pages()
