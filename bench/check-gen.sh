#!/bin/sh
# check-gen.sh — checks what `lienket-gen province` wrote, by reading the CSV files alone.
#
#   bench/check-gen.sh DIR [YEAR]        (YEAR defaults to 2021)
#
# It recomputes, independently of the generator, the article's headline figures for YEAR
# over the whole province (MODEL.md "The figures, precisely": 695 secretaries in office on
# 31 December, 667 of them with a card valid that day, 245 introduced to the Party and 93
# admitted during the year — each a branch secretary on the day, each admitted one
# introduced before —, more than 6,000 volunteer participations, every branch rated
# "hoàn thành" or better and more rated xuất sắc + tốt than the year before), compares them
# with the article and with DIR/expected.json, and checks the files: same field count as
# the header on every row, unique ids, references that resolve, rows owned by the folder's
# office or its branches, 5-7 branches per commune, 12 joint meetings per commune hosted
# by every branch, 2 giao ban and 12 task meetings per district, 2-3 pilots per district,
# free text of 40-120 characters, no inactive branch in YEAR (and as many the year before as
# expected.json says). Prints the figures; exits 1 on the first failed check
# list. POSIX sh and awk (mawk is enough); fields with embedded newlines are not expected.
set -eu
dir=${1:?usage: check-gen.sh DIR [YEAR]}
year=${2:-2021}
[ -f "$dir/expected.json" ] || { echo "check-gen: no '$dir/expected.json'" >&2; exit 1; }
# The expected value of one headline key, from the one line expected.json gives it.
expected() {
  sed -n "s/.*\"key\": \"$1\".*\"expected\": \([0-9]*\).*/\1/p" "$dir/expected.json"
}
exp_parts=$(expected volunteer_participations)
# Branches inactive the year before (the first occurrence is the province total).
exp_inactive_prev=$(sed -n 's/.*"inactive_branches_prev": \([0-9]*\).*/\1/p' "$dir/expected.json" | head -n 1)

# One awk over every file, in folder and import order (no xargs: it could split the run).
IFS='
'
# shellcheck disable=SC2046
set -- $(LC_ALL=C find "$dir" -mindepth 2 -maxdepth 2 -name '[0-9][0-9]-*.csv' | LC_ALL=C sort)
unset IFS
[ $# -gt 0 ] || { echo "check-gen: no CSV files under '$dir'" >&2; exit 1; }
LC_ALL=C awk -v Y="$year" -v EXP_PARTS="$exp_parts" -v EXP_INACTIVE_PREV="$exp_inactive_prev" '
function fail(msg) { print "FAIL: " msg; bad++ }
# Splits one CSV line (RFC 4180, no embedded newline) into f[1..n]; returns n.
function csvsplit(s, f,    n, i, c, q, v, len) {
  n = 0; v = ""; q = 0; len = length(s)
  for (i = 1; i <= len; i++) {
    c = substr(s, i, 1)
    if (q) {
      if (c == "\"") {
        if (substr(s, i + 1, 1) == "\"") { v = v "\""; i++ } else q = 0
      } else v = v c
    } else if (c == "\"") q = 1
    else if (c == ",") { f[++n] = v; v = "" }
    else v = v c
  }
  if (q) fail(FILENAME ":" FNR ": unterminated quote")
  f[++n] = v
  return n
}
function chars(s,    t, k) { t = s; k = gsub(/[\200-\277]/, "", t); return length(s) - k }
function text(name, v) {
  if (v == "") return
  if (chars(v) < 40 || chars(v) > 120) fail(FILENAME ":" FNR ": " name " has " chars(v) " characters")
  texts++
}
FNR == 1 {
  sub(/\r$/, "")
  nh = csvsplit($0, h)
  delete col
  for (i = 1; i <= nh; i++) col[h[i]] = i
  n = split(FILENAME, fp, "/"); folder = fp[n - 1]; tbl = fp[n]
  sub(/^[0-9][0-9]-/, "", tbl); sub(/\.csv$/, "", tbl)
  folders[folder] = 1
  next
}
{
  sub(/\r$/, "")
  nf = csvsplit($0, v)
  if (nf != nh) fail(FILENAME ":" FNR ": " nf " fields, header has " nh)
  id = v[col["id"]]; owner = v[col["unit_id"]]
  if (length(id) != 36 || id !~ /^[0-9a-f-]+$/ || substr(id, 9, 1) != "-" || substr(id, 15, 1) !~ /[57]/)
    fail(FILENAME ":" FNR ": bad id " id)
  if (id in seen) fail(FILENAME ":" FNR ": id " id " also in " seen[id])
  seen[id] = FILENAME ":" FNR
  rows++
  nown[folder SUBSEP owner] = 1
  owners[folder, ++nowners[folder]] = owner
  if (tbl == "unit") { branch[id] = folder; office_of[folder] = owner; nbranch[folder]++ }
  else if (tbl == "unit_name") { if (v[col["kind"]] == "branch") names++ ; refs[++nref] = v[col["of_unit"]] SUBSEP "unit" }
  else if (tbl == "unit_parent") { refs[++nref] = v[col["of_unit"]] SUBSEP "unit"; refs[++nref] = v[col["parent_id"]] SUBSEP "office" }
  else if (tbl == "person") person[id] = 1
  else if (tbl == "role") {
    refs[++nref] = v[col["person_id"]] SUBSEP "person"
    if (v[col["role"]] == "branch_secretary") {
      p = v[col["person_id"]]; k = ++nterm[p]
      tfrom[p, k] = v[col["term_from"]]; tuntil[p, k] = v[col["term_until"]]; tunit[p, k] = v[col["of_unit"]]
      refs[++nref] = v[col["of_unit"]] SUBSEP "unit"
    }
    if (v[col["role"]] == "district_standing") district_office[folder] = owner
  }
  else if (tbl == "insurance_card") {
    p = v[col["person_id"]]; k = ++ncard[p]
    cfrom[p, k] = v[col["valid_from"]]; cuntil[p, k] = v[col["valid_until"]]
    refs[++nref] = p SUBSEP "person"
  }
  else if (tbl == "support") { refs[++nref] = v[col["person_id"]] SUBSEP "person"; text("note", v[col["note"]]) }
  else if (tbl == "party") {
    p = v[col["person_id"]]; refs[++nref] = p SUBSEP "person"
    pdate[p, v[col["step"]]] = v[col["on_date"]]
    if (substr(v[col["on_date"]], 1, 4) == Y) {
      if (v[col["step"]] == "introduced") intro[p] = v[col["on_date"]]
      else adm[p] = v[col["on_date"]]
    }
  }
  else if (tbl == "meeting") {
    meeting[id] = substr(v[col["held_on"]], 1, 4); kind = v[col["kind"]]
    active[meeting[id], owner] = 1; active[meeting[id], v[col["host_branch_id"]]] = 1
    text("concerns", v[col["concerns"]]); text("follow_up", v[col["follow_up"]])
    if (v[col["host_branch_id"]] != "") refs[++nref] = v[col["host_branch_id"]] SUBSEP "unit"
    if (substr(v[col["held_on"]], 1, 4) == Y) {
      mcount[folder, kind]++
      if (kind == "branch") { bmeet++; if (v[col["commune_secretary_attended"]] == 1) bmeet_att++ }
      if (kind == "joint" && !((folder, v[col["host_branch_id"]]) in hostseen)) {
        hostseen[folder, v[col["host_branch_id"]]] = 1; hosts[folder]++
      }
    }
  }
  else if (tbl == "meeting_branch") {
    refs[++nref] = v[col["meeting_id"]] SUBSEP "meeting"; refs[++nref] = v[col["branch_id"]] SUBSEP "unit"
    joined[++njoined] = v[col["meeting_id"]] SUBSEP v[col["branch_id"]]
  }
  else if (tbl == "task") {
    refs[++nref] = v[col["meeting_id"]] SUBSEP "meeting"; refs[++nref] = v[col["assignee_person_id"]] SUBSEP "person"
    text("title", v[col["title"]]); tasks++
  }
  else if (tbl == "volunteer") {
    volunteer[id] = substr(v[col["started_on"]], 1, 4); text("title", v[col["title"]])
    if (substr(v[col["started_on"]], 1, 4) == Y) { parts += v[col["participations"]]; teams += v[col["teams"]] }
  }
  else if (tbl == "volunteer_branch") {
    refs[++nref] = v[col["volunteer_id"]] SUBSEP "volunteer"; refs[++nref] = v[col["branch_id"]] SUBSEP "unit"
    took[++ntook] = v[col["volunteer_id"]] SUBSEP v[col["branch_id"]]
  }
  else if (tbl == "year_record") {
    y = v[col["year"]]; r = v[col["rating"]]
    rated[y]++; rating[y, r]++
    gathered[y] += v[col["youth_gathered"]]; area[y] += v[col["youth_in_area"]]
  }
  else if (tbl == "pilot") {
    refs[++nref] = v[col["branch_id"]] SUBSEP "unit"
    if (v[col["valid_from"]] <= Y "-12-31" && (v[col["valid_until"]] == "" || v[col["valid_until"]] >= Y "-12-31")) pilots[folder]++
  }
}
# 1 when person p held a branch_secretary term on day d.
function secretary_on(p, d,    k) {
  for (k = 1; k <= nterm[p]; k++)
    if (tfrom[p, k] <= d && (tuntil[p, k] == "" || tuntil[p, k] >= d)) return 1
  return 0
}
END {
  end = Y "-12-31"
  for (i = 1; i <= nref; i++) {
    split(refs[i], rr, SUBSEP)
    if (rr[2] == "unit" && !(rr[1] in branch)) fail("unknown branch " rr[1])
    if (rr[2] == "person" && !(rr[1] in person)) fail("unknown person " rr[1])
    if (rr[2] == "meeting" && !(rr[1] in meeting)) fail("unknown meeting " rr[1])
    if (rr[2] == "volunteer" && !(rr[1] in volunteer)) fail("unknown volunteer activity " rr[1])
  }
  # Ownership: a commune folder writes for its commune and its branches only; a district
  # folder for its district only.
  for (f in folders) {
    if (f in office_of) { communes++; if (nbranch[f] < 5 || nbranch[f] > 7) fail(f ": " nbranch[f] " branches") }
    else districts++
    for (k = 1; k <= nowners[f]; k++) {
      o = owners[f, k]
      if (f in office_of) { if (o != office_of[f] && !(o in branch && branch[o] == f)) fail(f ": row owned by " o) }
      else if (o != district_office[f]) fail(f ": row owned by " o)
    }
    if (f in office_of) {
      if (mcount[f, "joint"] != 12) fail(f ": " mcount[f, "joint"] + 0 " joint meetings")
      if (hosts[f] != nbranch[f]) fail(f ": joint meetings hosted by " hosts[f] + 0 " of " nbranch[f] " branches")
    } else {
      if (mcount[f, "giao_ban"] != 2) fail(f ": " mcount[f, "giao_ban"] + 0 " giao ban")
      if (mcount[f, "giao_nhiem_vu"] != 12) fail(f ": " mcount[f, "giao_nhiem_vu"] + 0 " task meetings")
      if (pilots[f] < 2 || pilots[f] > 3) fail(f ": " pilots[f] + 0 " pilots")
    }
  }
  # Figure 11: secretaries in office on 31 December, and their valid cards.
  for (p in nterm)
    if (secretary_on(p, end)) {
      sec++
      for (k = 1; k <= ncard[p]; k++)
        if (cfrom[p, k] <= end && (cuntil[p, k] == "" || cuntil[p, k] >= end)) { insured++; break }
    }
  # Figure 10: introduced / admitted during the year, while a secretary.
  for (p in intro) { if (secretary_on(p, intro[p])) nintro++; else fail("introduced while not a secretary: " p) }
  for (p in adm) {
    if (secretary_on(p, adm[p])) nadm++; else fail("admitted while not a secretary: " p)
    if (!(p in intro) || intro[p] >= adm[p]) fail("admitted without an earlier introduction in " Y ": " p)
  }
  P = Y - 1
  # Figure 7: branches that held no meeting, joined none and took part in no activity.
  for (i = 1; i <= njoined; i++) { split(joined[i], rr, SUBSEP); active[meeting[rr[1]], rr[2]] = 1 }
  for (i = 1; i <= ntook; i++) { split(took[i], rr, SUBSEP); active[volunteer[rr[1]], rr[2]] = 1 }
  for (b in branch) { if (!((Y, b) in active)) inactive++; if (!((P, b) in active)) inactive_prev++ }
  good = rating[Y, "xuat_sac"] + rating[Y, "tot"]; goodp = rating[P, "xuat_sac"] + rating[P, "tot"]
  done = good + rating[Y, "hoan_thanh"]
  printf "rows %d in %d commune and %d district folders; %d branches named; %d free texts checked\n", rows, communes, districts, names, texts
  printf "secretaries in office %s: %d (article 695)\n", end, sec
  printf "  with a valid insurance card: %d (article 667)\n", insured
  printf "introduced to the Party in %d: %d (article 245); admitted: %d (article 93)\n", Y, nintro, nadm
  printf "volunteer participations in %d: %d in %d teams (article: more than 6,000; expected %s)\n", Y, parts, teams, EXP_PARTS
  printf "branch meetings %d, attended by a commune secretary %d; tasks %d\n", bmeet, bmeet_att, tasks
  printf "rated %d: %d completed or better; xuat_sac+tot %d/%d in %d vs %d/%d in %d\n", rated[Y], done, good, rated[Y], Y, goodp, rated[P], P
  printf "inactive branches: %d in %d, %d in %d (expected %s)\n", inactive, Y, inactive_prev, P, EXP_INACTIVE_PREV
  printf "youth gathered %d/%d in %d vs %d/%d in %d\n", gathered[Y], area[Y], Y, gathered[P], area[P], P
  if (sec != 695) fail("secretaries " sec " != 695")
  if (insured != 667) fail("insured " insured " != 667")
  if (nintro != 245) fail("introduced " nintro " != 245")
  if (nadm != 93) fail("admitted " nadm " != 93")
  if (parts <= 6000 || parts != EXP_PARTS) fail("participations " parts)
  if (names != 695 || rated[Y] != 695 || done != rated[Y]) fail("ratings: " done " of " rated[Y] " completed or better")
  if (good * rated[P] <= goodp * rated[Y]) fail("xuat_sac+tot share not higher than the year before")
  if (gathered[Y] * area[P] <= gathered[P] * area[Y]) fail("gathering rate not higher than the year before")
  if (inactive != 0 || inactive_prev != EXP_INACTIVE_PREV) fail("inactive branches " inactive + 0 " / " inactive_prev + 0)
  if (communes != 121 || districts != 10) fail(communes " communes, " districts " districts")
  if (bad) { print bad " check(s) failed"; exit 1 }
  print "all checks passed"
}' "$@"
