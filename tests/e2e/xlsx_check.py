"""xlsx_check.py — compares every number of the report spreadsheet (hub/views/xlsx.h) with the
JSON report (tests/e2e/xlsx.sh), read back with openpyxl (Debian's python3-openpyxl).

    xlsx_check.py BOOK.xlsx TOP.json CHILD1.json CHILD2.json ...

TOP.json is `report --format json` of the spreadsheet's unit; CHILDk.json the same for
each of its children (their breakdowns are the third sheet). Every JSON cell (value, of,
target, previous value and of; shares as value/of) must be in the sheet as a number,
every sheet row must come from the JSON, and nothing else. Prints what differs; exits 1
then, 0 when all agree (with the count of numbers compared).
"""
import json
import sys

import openpyxl


def expected_rows(measures):
    """(figure key, measure key) -> the numbers a row must hold."""
    out = {}
    for fig_key, m in measures:
        prev = m.get("previous") or {}
        out[(fig_key, m["key"])] = {
            "value": m["value"], "of": m["of"], "target": m["target"],
            "prev": prev.get("value") if prev else None, "prev_of": prev.get("of") if prev else None,
        }
    return out


def totals(doc):
    return [(f["key"], m) for f in doc["figures"] for m in f["measures"]]


def breakdown(doc):
    rows = {}
    for f in doc["figures"]:
        for u in f["unit_breakdown"]:
            rows.setdefault(u["unit"], []).extend((f["key"], m) for m in u["measures"])
    return rows


def sheet_rows(ws):
    it = ws.iter_rows(values_only=True)
    head = list(next(it))
    col = {name: i for i, name in enumerate(head)}
    year_cols = [h for h in head if isinstance(h, str) and h.startswith("Năm ")]
    rows = []
    for r in it:
        def get(name):
            return r[col[name]]
        rows.append({
            "unit": get("Mã định danh"), "fig": get("Mã chỉ tiêu"), "measure": get("Mã nội dung"),
            "value": get(year_cols[0]), "of": get("Trên tổng số"), "target": get("Chỉ tiêu giao"),
            "prev": get(year_cols[1]), "prev_of": r[col[year_cols[1]] + 1],
            "share": get("Tỷ lệ"),
        })
    return rows


def compare(name, rows, expected, errors):
    """expected: {(unit, fig, measure): numbers}. Returns how many numbers matched."""
    n = 0
    seen = set()
    for r in rows:
        key = (r["unit"], r["fig"], r["measure"])
        if key not in expected:
            errors.append("%s: row %s not in the JSON report" % (name, key))
            continue
        seen.add(key)
        e = expected[key]
        for k in ("value", "of", "target", "prev", "prev_of"):
            got = r[k]
            if got is not None and not isinstance(got, (int, float)):
                errors.append("%s %s %s: %r is not a number" % (name, key, k, got))
            if (got is None) != (e[k] is None) or (got is not None and got != e[k]):
                errors.append("%s %s %s: sheet %r, JSON %r" % (name, key, k, got, e[k]))
            elif got is not None:
                n += 1
        if e["of"]:
            if r["share"] is None or abs(r["share"] - e["value"] / e["of"]) > 1e-9:
                errors.append("%s %s share: %r" % (name, key, r["share"]))
            else:
                n += 1
    for key in expected:
        if key not in seen:
            errors.append("%s: JSON row %s missing from the sheet" % (name, key))
    return n


def main():
    book, top_path, kids = sys.argv[1], sys.argv[2], sys.argv[3:]
    top = json.load(open(top_path))
    wb = openpyxl.load_workbook(book)
    sheets = wb.worksheets
    errors = []
    n = 0
    if sheets[0].title != "Tổng hợp":
        errors.append("first sheet is %r" % sheets[0].title)
    exp = {(top["unit"],) + k: v for k, v in expected_rows(totals(top)).items()}
    n += compare(sheets[0].title, sheet_rows(sheets[0]), exp, errors)
    exp = {}
    for unit, ms in breakdown(top).items():
        exp.update({(unit,) + k: v for k, v in expected_rows(ms).items()})
    n += compare(sheets[1].title, sheet_rows(sheets[1]), exp, errors)
    exp = {}
    for path in kids:
        for unit, ms in breakdown(json.load(open(path))).items():
            exp.update({(unit,) + k: v for k, v in expected_rows(ms).items()})
    if exp:
        n += compare(sheets[2].title, sheet_rows(sheets[2]), exp, errors)
    if len(sheets) != (3 if exp else 2):
        errors.append("%d sheets" % len(sheets))
    for e in errors[:20]:
        print(e)
    if errors:
        sys.exit(1)
    print("%d numbers equal in %d sheets: %s" % (n, len(sheets), ", ".join(s.title for s in sheets)))


if __name__ == "__main__":
    main()
