/*
 * test_hub_ops.c — the hub in operation (issue 5): each reform kind with records made
 * before and after its date (scope, closed_unit flags, history rows only ended, never
 * rewritten), the real Bình Thuận reform of 1 July 2025 applied to a hub holding 2021
 * records (the 2021 report is byte-identical afterwards; new records land under the new
 * communes), corrections from the province (validation, clocks, receipts, pull), and
 * backup and restore (backup_seq in hello, the latest-backup check, a new hub id,
 * revocations re-applied).
 *
 * Records go through api_handle like an office's; reforms and corrections through
 * reform.h and correct.h inside a write transaction, as `lienket-hub` runs them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "hub_test_util.h"
#include "correct.h"
#include "ops.h"
#include "reform.h"
#include "report.h"
#include "units.h"

#define ON "2024-01-01"
#define FIXTURES "tests/fixtures/"

/* ---- helpers ---- */

static void meeting(struct th_agent *ag, const char *id, const char *owner, const char *kind,
		    const char *date)
{
	char spec[256];
	snprintf(spec, sizeof spec,
		 "kind=s:%s;held_on=s:%s;host_branch_id=n;commune_secretary_attended=i:1;"
		 "attendees=i:10;concerns=n;follow_up=n", kind, date);
	assert_non_null(th_add(ag, "meeting", id, 'i', owner, spec, 0));
}

/* Sends the agent's entries from..to and checks 200 with `quarantined` items. */
static void send_ok(struct th_hub *h, struct th_agent *ag, const char *token, uint64_t from,
		    uint64_t to, int quarantined)
{
	struct th_answer a = th_send(h, ag, token, from, to);
	assert_int_equal(a.status, 200);
	assert_non_null(a.body);
	int has_q = strstr(a.body, "\"quarantined\":[]") == NULL;
	if (has_q != quarantined)
		fail_msg("unexpected answer: %s", a.body);
	th_answer_free(&a);
}

typedef int (*reform_fn)(struct reform *r, void *ctx);

/* Runs fn as one reform effective on `on`; returns its result (0 or -1). */
static int run_reform(const char *path, const char *on, reform_fn fn, void *ctx)
{
	struct store *s;
	char err[256];
	struct reform r;
	assert_int_equal(store_sqlite_open(path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->begin(s), 0);
	int rc = reform_init(&r, s, on, th_now_ms());
	if (rc == 0)
		rc = fn(&r, ctx);
	if (rc == 0)
		assert_int_equal(s->commit(s), 0);
	else
		s->rollback(s);
	s->close(s);
	return rc;
}

static sqlite3 *db_open(const char *path)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row of sql (one text parameter), or "" / "(null)". */
static void query1(const char *path, const char *sql, const char *param, char *out, size_t len)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out, len, "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void closed_flag(const char *path, const char *row, char out[64])
{
	query1(path, "SELECT coalesce(suggestion, '-') FROM hub_flag WHERE row_id = ?1 AND kind = 'closed_unit'",
	       row, out, 64);
}

static void row_state(const char *path, const char *row, char out[160])
{
	query1(path, "SELECT unit_id || ' ' || held_on || ' ' || _hs || ' ' || _clock FROM meeting WHERE id = ?1",
	       row, out, 160);
}

static int scope_has(const char *path, const char *unit, const char *member)
{
	struct store *s;
	struct units_scope sc = { 0 };
	char err[256], today[11];
	units_today(th_now_ms(), today);
	assert_int_equal(store_sqlite_open(path, 0, &s, err, sizeof err), 0);
	assert_int_equal(units_scope_compute(s, unit, today, &sc), 0);
	int in = units_scope_contains(&sc, member);
	units_scope_release(&sc);
	s->close(s);
	return in;
}

#define M1 "0190f3b0-0000-7000-8000-0000000000a1"
#define M2 "0190f3b0-0000-7000-8000-0000000000a2"
#define M3 "0190f3b0-0000-7000-8000-0000000000a3"
#define M4 "0190f3b0-0000-7000-8000-0000000000a4"
#define AG_C1 "0190f3a2-7c1e-7d44-9a0b-00000000c001"
#define AG_C2 "0190f3a2-7c1e-7d44-9a0b-00000000c002"
#define AG_D  "0190f3a2-7c1e-7d44-9a0b-00000000d001"

struct two { const char *a, *b; };

static int do_merge(struct reform *r, void *ctx)
{
	const struct two *t = ctx;
	return reform_merge(r, t->a, t->b);
}

static int do_close(struct reform *r, void *ctx)
{
	const struct two *t = ctx;
	return reform_close(r, t->a, t->b, NULL);
}

static int do_move(struct reform *r, void *ctx)
{
	const struct two *t = ctx;
	return reform_move(r, t->a, t->b);
}

static int do_rename(struct reform *r, void *ctx)
{
	const struct two *t = ctx;
	return reform_rename(r, t->a, t->b, "99001", NULL, NULL);
}

/* ---- each reform kind ---- */

static void test_ops__merge_gives_the_survivor_the_scope_and_keeps_history(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c1, c2;
	char before[160], after[160], flag[64], link[64];
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c1, AG_C1);
	th_agent_init(&c2, AG_C2);
	meeting(&c2, M1, U_C2, "joint", "2023-05-01");
	send_ok(&h, &c2, h.token_c2, 1, 1, 0);
	row_state(h.path, M1, before);
	assert_false(scope_has(h.path, U_C1, U_C2));

	struct two t = { U_C2, U_C1 };
	assert_int_equal(run_reform(h.path, ON, do_merge, &t), 0);
	/* history: the record is untouched; C2's name and link are ended, not rewritten */
	row_state(h.path, M1, after);
	assert_string_equal(before, after);
	closed_flag(h.path, M1, flag);
	assert_string_equal(flag, "");
	query1(h.path, "SELECT valid_from || ' ' || valid_to FROM unit_parent WHERE of_unit = ?1", U_C2, link,
	       sizeof link);
	assert_string_equal(link, "2000-01-01 2023-12-31");
	query1(h.path, "SELECT kind || ' ' || other_unit || ' ' || effective_on FROM unit_event WHERE of_unit = ?1",
	       U_C2, link, sizeof link);
	assert_string_equal(link, "merge " U_C1 " " ON);

	/* the survivor's office may now write the merged unit's rows */
	assert_true(scope_has(h.path, U_C1, U_C2));
	meeting(&c1, M2, U_C2, "joint", "2024-02-01");
	send_ok(&h, &c1, h.token_c1, 1, 1, 0);
	closed_flag(h.path, M2, flag);
	assert_string_equal(flag, U_C1);
	/* a record for the closed unit is accepted, flagged, its successor suggested */
	meeting(&c2, M3, U_C2, "joint", "2024-03-01");
	send_ok(&h, &c2, h.token_c2, 2, 2, 0);
	closed_flag(h.path, M3, flag);
	assert_string_equal(flag, U_C1);
	/* a record dated before the merge, sent after it, is not flagged */
	meeting(&c2, M4, U_C2, "joint", "2023-12-31");
	send_ok(&h, &c2, h.token_c2, 3, 3, 0);
	closed_flag(h.path, M4, flag);
	assert_string_equal(flag, "");
	/* hello lists the merged unit's checksum for the survivor */
	struct th_answer a = th_hello(&h, AG_C1, h.token_c1);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "\"" U_C2 "\":\"4:"));
	th_answer_free(&a);
	/* merging a closed unit again is refused */
	assert_int_equal(run_reform(h.path, "2024-06-01", do_merge, &t), -1);
	th_agent_release(&c1);
	th_agent_release(&c2);
	th_hub_free(&h);
}

static void test_ops__rename_dates_the_name_and_leaves_records(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c1;
	char id[37], name[256], flag[64], before[160], after[160];
	struct store *s;
	char err[256];
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c1, AG_C1);
	meeting(&c1, M1, U_C1, "joint", "2023-06-01");
	send_ok(&h, &c1, h.token_c1, 1, 1, 0);
	row_state(h.path, M1, before);
	struct two t = { U_C1, "Xã C1 Mới" };
	assert_int_equal(run_reform(h.path, ON, do_rename, &t), 0);
	meeting(&c1, M2, U_C1, "joint", "2024-06-01");
	send_ok(&h, &c1, h.token_c1, 2, 2, 0);
	row_state(h.path, M1, after);
	assert_string_equal(before, after);
	closed_flag(h.path, M2, flag);
	assert_string_equal(flag, "");
	assert_int_equal(store_sqlite_open(h.path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->unit_by_code(s, "99001", "2024-01-01", id), 0);
	assert_string_equal(id, U_C1);
	assert_int_equal(s->unit_by_code(s, "99001", "2023-12-31", id), 1);
	s->close(s);
	query1(h.path, "SELECT group_concat(name || '@' || valid_from || '..' || coalesce(valid_to, ''), '|')"
		       " FROM (SELECT * FROM unit_name WHERE of_unit = ?1 ORDER BY valid_from)", U_C1, name,
	       sizeof name);
	assert_string_equal(name, "Xã C1@2000-01-01..2023-12-31|Xã C1 Mới@2024-01-01..");
	th_agent_release(&c1);
	th_hub_free(&h);
}

struct split_ctx { const char *unit; char part[37]; int lives_on; };

static int do_split(struct reform *r, void *ctx)
{
	struct split_ctx *S = ctx;
	if (reform_open(r, "Xã Mới", NULL, "commune", U_D, S->part) != 0)
		return -1;
	const char *parts[] = { S->lives_on ? S->unit : U_C1, S->part };
	return reform_split(r, S->unit, parts, 2);
}

static void test_ops__split_closes_and_fans_out_scope(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c2;
	char flag[64], succ[37];
	struct store *s;
	char err[256];
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c2, AG_C2);
	meeting(&c2, M1, U_C2, "joint", "2023-06-01");
	meeting(&c2, M2, U_C2, "joint", "2024-06-01");
	send_ok(&h, &c2, h.token_c2, 1, 2, 0);
	struct split_ctx S = { U_C2, "", 0 };
	assert_int_equal(run_reform(h.path, ON, do_split, &S), 0);
	/* both parts' offices may write the split unit's rows */
	assert_true(scope_has(h.path, U_C1, U_C2));
	assert_true(scope_has(h.path, S.part, U_C2));
	/* the record after the split is flagged (recomputed when the events arrived) */
	closed_flag(h.path, M2, flag);
	assert_string_equal(flag, U_C1);
	closed_flag(h.path, M1, flag);
	assert_string_equal(flag, "");
	/* a split that names the unit itself does not close it */
	struct split_ctx L = { U_C1, "", 1 };
	assert_int_equal(run_reform(h.path, "2024-02-01", do_split, &L), 0);
	assert_int_equal(store_sqlite_open(h.path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->unit_closed(s, U_C1, "2024-03-01", succ), 0);
	assert_int_equal(s->unit_closed(s, U_C2, "2024-03-01", succ), 1);
	s->close(s);
	th_agent_release(&c2);
	th_hub_free(&h);
}

static void test_ops__move_changes_the_parent_from_its_date(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c1, c2;
	char links[256], before[160], after[160];
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c1, AG_C1);
	th_agent_init(&c2, AG_C2);
	meeting(&c1, M1, U_B1, "branch", "2023-06-01");
	send_ok(&h, &c1, h.token_c1, 1, 1, 0);
	row_state(h.path, M1, before);
	struct two t = { U_B1, U_C2 };
	assert_int_equal(run_reform(h.path, ON, do_move, &t), 0);
	query1(h.path, "SELECT group_concat(parent_id || '@' || valid_from || '..' || coalesce(valid_to, ''), '|')"
		       " FROM (SELECT * FROM unit_parent WHERE of_unit = ?1 ORDER BY valid_from)", U_B1, links,
	       sizeof links);
	assert_string_equal(links, U_C1 "@2000-01-01..2023-12-31|" U_C2 "@2024-01-01..");
	row_state(h.path, M1, after);
	assert_string_equal(before, after);
	/* scope follows the tree of today: C2 writes B1's rows, C1 no longer does */
	meeting(&c2, M2, U_B1, "branch", "2024-06-01");
	send_ok(&h, &c2, h.token_c2, 1, 1, 0);
	meeting(&c1, M3, U_B1, "branch", "2024-06-02");
	send_ok(&h, &c1, h.token_c1, 2, 2, 1);
	/* a move that would make a cycle is refused */
	struct two cyc = { U_D, U_C1 };
	assert_int_equal(run_reform(h.path, "2024-02-01", do_move, &cyc), -1);
	th_agent_release(&c1);
	th_agent_release(&c2);
	th_hub_free(&h);
}

static void test_ops__close_flags_records_after_it_and_undoing_clears_them(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c2;
	char flag[64], ev[64], id[37], err[256];
	int changed;
	struct store *s;
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c2, AG_C2);
	meeting(&c2, M1, U_C2, "joint", "2023-06-01");
	meeting(&c2, M2, U_C2, "joint", "2024-06-01");
	send_ok(&h, &c2, h.token_c2, 1, 2, 0);
	closed_flag(h.path, M2, flag);
	assert_string_equal(flag, "");
	struct two t = { U_C2, NULL };
	assert_int_equal(run_reform(h.path, ON, do_close, &t), 0);
	/* the close event re-flagged the existing record; no successor: its last parent */
	closed_flag(h.path, M2, flag);
	assert_string_equal(flag, U_D);
	closed_flag(h.path, M1, flag);
	assert_string_equal(flag, "");
	/* the province undoes the close (a correction removing the event): flag cleared */
	query1(h.path, "SELECT id FROM unit_event WHERE of_unit = ?1 AND kind = 'close'", U_C2, ev, sizeof ev);
	assert_int_equal(store_sqlite_open(h.path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(correct_apply(s, CORRECT_RM, "unit_event", ev, NULL, 0, th_now_ms(), id, &changed,
				       err, sizeof err), CORRECT_OK);
	assert_int_equal(s->commit(s), 0);
	s->close(s);
	closed_flag(h.path, M2, flag);
	assert_string_equal(flag, "");
	th_agent_release(&c2);
	th_hub_free(&h);
}

struct x_unit { int unused; };

/* As a command writes units: the rows, then the receipt that ends it. */
static int write_x(struct store *s, void *ctx)
{
	struct changes_hub_mark m;
	(void)ctx;
	if (changes_hub_mark(s, &m) != 0 ||
	    th_hub_unit(s, U_X, U_C1, "Thôn X", "branch", U_C1, "0190f3a2-0000-7000-8000-000000001099",
			"0190f3a2-0000-7000-8000-000000002099") != 0)
		return -1;
	return changes_hub_receipt(s, &m, th_now_ms());
}

static void test_ops__hub_unit_write_settles_held_changes(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c1;
	char v[64];
	struct x_unit x = { 0 };
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c1, AG_C1);
	meeting(&c1, M1, U_X, "branch", "2024-06-01");
	send_ok(&h, &c1, h.token_c1, 1, 1, 0);
	query1(h.path, "SELECT count(*) FROM hub_held", NULL, v, sizeof v);
	assert_string_equal(v, "1");
	assert_int_equal(th_with_store(&h, write_x, &x), 0);
	query1(h.path, "SELECT count(*) FROM hub_held", NULL, v, sizeof v);
	assert_string_equal(v, "0");
	query1(h.path, "SELECT unit_id FROM meeting WHERE id = ?1", M1, v, sizeof v);
	assert_string_equal(v, U_X);
	th_agent_release(&c1);
	th_hub_free(&h);
}

/* ---- the real reform of 1 July 2025 ---- */

struct import_ctx { const char *path; struct reform_summary sum; };

static int do_import(struct reform *r, void *ctx)
{
	struct import_ctx *I = ctx;
	return reform_import(r, I->path, &I->sum);
}

static char *report_json(const char *path, const char *unit, int year)
{
	struct store *db = NULL;
	struct report *rep = NULL;
	struct report_error e;
	char *buf = NULL, err[256];
	size_t len = 0;
	assert_int_equal(hub_store_open(path, 0, &db, err, sizeof err), 0);
	if (report_build(db, unit, year, "2026-11-26", &rep, &e) != REPORT_OK)
		fail_msg("report: %s", e.message);
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_write_json(rep, f), REPORT_OK);
	fclose(f);
	report_free(rep);
	db->close(db);
	return buf;
}

static void counts_per_unit(const char *path, char *out, size_t len)
{
	query1(path, "SELECT group_concat(unit_id || ':' || n, ',') FROM (SELECT unit_id, count(*) AS n FROM meeting"
		     " GROUP BY unit_id ORDER BY unit_id)", NULL, out, len);
}

struct enrolled { const char *code; char unit[37]; char token[IDS_TOKEN_TEXT]; };

static void enroll_code(const char *path, struct enrolled *e, const char *date)
{
	struct store *s;
	char err[256];
	assert_int_equal(store_sqlite_open(path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->unit_by_code(s, e->code, date, e->unit), 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(auth_enroll(s, e->unit, e->code, th_now_ms(), e->token), 0);
	assert_int_equal(s->commit(s), 0);
	s->close(s);
}

static void test_ops__real_reform_keeps_2021_and_lands_new_records(void **state)
{
	(void)state;
	struct th_hub h;
	struct store *s;
	char err[512], flag[64], counts_before[2048], counts_after[2048];
	size_t created;
	memset(&h, 0, sizeof h);
	snprintf(h.dir, sizeof h.dir, "/tmp/lk-hubtest-XXXXXX");
	assert_non_null(mkdtemp(h.dir));
	snprintf(h.path, sizeof h.path, "%s/hub.db", h.dir);
	assert_int_equal(store_sqlite_open(h.path, 1, &s, err, sizeof err), 0);
	assert_int_equal(s->begin(s), 0);
	if (units_load_csv(s, FIXTURES "binh-thuan-before-2025-07.csv", th_now_ms(), &created, err, sizeof err))
		fail_msg("%s", err);
	assert_int_equal(s->commit(s), 0);
	s->close(s);
	assert_int_equal(created, 132);
	struct api_options o = { .db_path = h.path };
	assert_int_equal(api_new(&o, &h.api, err, sizeof err), 0);

	/* 2021 records of old communes (a merged one, the split one) and a district */
	struct enrolled mui_ne = { .code = "22915" }, phong_phu = { .code = "22978" }, phan_thiet = { .code = "593" };
	enroll_code(h.path, &mui_ne, "2021-06-01");
	enroll_code(h.path, &phong_phu, "2021-06-01");
	enroll_code(h.path, &phan_thiet, "2021-06-01");
	struct th_agent a1, a2, a3;
	th_agent_init(&a1, "0190f3a2-7c1e-7d44-9a0b-0000000b0001");
	th_agent_init(&a2, "0190f3a2-7c1e-7d44-9a0b-0000000b0002");
	th_agent_init(&a3, "0190f3a2-7c1e-7d44-9a0b-0000000b0003");
	meeting(&a1, "0190f3b0-0000-7000-8000-000000021001", mui_ne.unit, "joint", "2021-01-15");
	meeting(&a1, "0190f3b0-0000-7000-8000-000000021002", mui_ne.unit, "joint", "2021-02-15");
	meeting(&a1, "0190f3b0-0000-7000-8000-000000021003", mui_ne.unit, "branch", "2021-03-15");
	meeting(&a2, "0190f3b0-0000-7000-8000-000000021004", phong_phu.unit, "joint", "2021-04-15");
	meeting(&a3, "0190f3b0-0000-7000-8000-000000021005", phan_thiet.unit, "giao_ban", "2021-05-15");
	meeting(&a3, "0190f3b0-0000-7000-8000-000000021006", phan_thiet.unit, "giao_nhiem_vu", "2021-06-15");
	send_ok(&h, &a1, mui_ne.token, 1, 3, 0);
	send_ok(&h, &a2, phong_phu.token, 1, 1, 0);
	send_ok(&h, &a3, phan_thiet.token, 1, 2, 0);
	char *province_before = report_json(h.path, NULL, 2021);
	char *district_before = report_json(h.path, phan_thiet.unit, 2021);
	counts_per_unit(h.path, counts_before, sizeof counts_before);

	struct import_ctx I = { FIXTURES "binh-thuan-reform-2025-07-01.csv", { 0 } };
	assert_int_equal(run_reform(h.path, "2025-07-01", do_import, &I), 0);
	assert_int_equal(I.sum.new_units, 45);
	assert_int_equal(I.sum.merged, 120);
	assert_int_equal(I.sum.split, 1);
	assert_int_equal(I.sum.districts_closed, 10);
	assert_int_equal(I.sum.province_renamed, 1);
	/* applying it again is refused whole */
	assert_int_equal(run_reform(h.path, "2025-07-01", do_import, &I), -1);

	/* every 2021 figure adds up as it did; records stay with their units */
	char *province_after = report_json(h.path, NULL, 2021);
	char *district_after = report_json(h.path, phan_thiet.unit, 2021);
	assert_string_equal(province_before, province_after);
	assert_string_equal(district_before, district_after);
	counts_per_unit(h.path, counts_after, sizeof counts_after);
	assert_string_equal(counts_before, counts_after);
	assert_non_null(strstr(province_after, "Tỉnh Bình Thuận"));

	/* today the code 22918 names the new Phường Mũi Né, and the province is Lâm Đồng 68 */
	struct enrolled new_mui_ne = { .code = "22918" };
	enroll_code(h.path, &new_mui_ne, "2025-07-01");
	assert_string_not_equal(new_mui_ne.unit, mui_ne.unit);
	char *province_2025 = report_json(h.path, NULL, 2025);
	assert_non_null(strstr(province_2025, "Tỉnh Lâm Đồng"));
	/* records made after the reform land under the new unit, unflagged */
	struct th_agent a4;
	th_agent_init(&a4, "0190f3a2-7c1e-7d44-9a0b-0000000b0004");
	meeting(&a4, "0190f3b0-0000-7000-8000-000000025001", new_mui_ne.unit, "joint", "2025-09-01");
	/* and the new commune's office may correct the old commune's 2021 records */
	assert_non_null(th_add(&a4, "meeting", "0190f3b0-0000-7000-8000-000000021001", 'u', mui_ne.unit,
			       "attendees=i:12", 0));
	send_ok(&h, &a4, new_mui_ne.token, 1, 2, 0);
	closed_flag(h.path, "0190f3b0-0000-7000-8000-000000025001", flag);
	assert_string_equal(flag, "");
	/* an old office still writing for its closed commune: accepted, flagged, successor */
	meeting(&a1, "0190f3b0-0000-7000-8000-000000025002", mui_ne.unit, "joint", "2025-08-01");
	send_ok(&h, &a1, mui_ne.token, 4, 4, 0);
	closed_flag(h.path, "0190f3b0-0000-7000-8000-000000025002", flag);
	assert_string_equal(flag, new_mui_ne.unit);
	/* the split commune suggests the part that took its code (Xã Tuy Phong, 22978) */
	meeting(&a2, "0190f3b0-0000-7000-8000-000000025003", phong_phu.unit, "joint", "2025-08-01");
	send_ok(&h, &a2, phong_phu.token, 2, 2, 0);
	closed_flag(h.path, "0190f3b0-0000-7000-8000-000000025003", flag);
	char tuy_phong[37];
	assert_int_equal(store_sqlite_open(h.path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->unit_by_code(s, "22978", "2025-07-01", tuy_phong), 0);
	s->close(s);
	assert_string_equal(flag, tuy_phong);
	free(province_before);
	free(province_after);
	free(district_before);
	free(district_after);
	free(province_2025);
	th_agent_release(&a1);
	th_agent_release(&a2);
	th_agent_release(&a3);
	th_agent_release(&a4);
	th_hub_free(&h);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A conversion file that cannot be applied whole is refused and writes nothing. */
static void test_ops__reform_file_refused_whole(void **state)
{
	(void)state;
	struct th_hub h;
	char path[160], before[64], after[64];
	static const char *const bad[] = {
		"province,code\n",
		"new_province,new_province_code,new_commune,new_commune_code,old_commune,old_commune_code,"
		"how,old_district,old_district_code\nTỉnh X,1,Xã Y,2,Xã Z,99999,whole,Huyện,1\n",
		"new_province,new_province_code,new_commune,new_commune_code,old_commune,old_commune_code,"
		"how,old_district,old_district_code\nTỉnh X,1,Xã Y,2,Xã Z,3,most,Huyện,1\n",
		"new_province,new_province_code,new_commune,new_commune_code,old_commune,old_commune_code,"
		"how,old_district,old_district_code\nTỉnh X,1,,2,Xã Z,3,whole,Huyện,1\n",
	};
	assert_int_equal(th_hub_new(&h), 0);
	snprintf(path, sizeof path, "%s/conv.csv", h.dir);
	query1(h.path, "SELECT value FROM hub_meta WHERE key = 'hs'", NULL, before, sizeof before);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct import_ctx I = { path, { 0 } };
		write_text(path, bad[i]);
		assert_int_equal(run_reform(h.path, "2025-07-01", do_import, &I), -1);
	}
	struct import_ctx none = { "/nonexistent/conv.csv", { 0 } };
	assert_int_equal(run_reform(h.path, "2025-07-01", do_import, &none), -1);
	assert_int_equal(run_reform(h.path, "2025-02-30", do_import, &none), -1); /* no such date */
	query1(h.path, "SELECT value FROM hub_meta WHERE key = 'hs'", NULL, after, sizeof after);
	assert_string_equal(before, after);
	unlink(path);
	th_hub_free(&h);
}

/* ---- corrections ---- */

static int correct(const char *path, enum correct_op op, const char *table, const char *id,
		   const char *const *args, size_t n, char out_id[37], char *err, size_t errlen)
{
	struct store *s;
	int changed;
	assert_int_equal(store_sqlite_open(path, 0, &s, err, errlen), 0);
	assert_int_equal(s->begin(s), 0);
	int rc = correct_apply(s, op, table, id, args, n, th_now_ms(), out_id, &changed, err, errlen);
	if (rc == CORRECT_OK)
		assert_int_equal(s->commit(s), 0);
	else
		s->rollback(s);
	s->close(s);
	return rc;
}

static void test_ops__corrections_validate_merge_receipt_and_pull(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c1;
	char id[37], err[512], hub_id[64], v[160];
	assert_int_equal(th_hub_new(&h), 0);
	query1(h.path, "SELECT value FROM hub_meta WHERE key = 'hub_id'", NULL, hub_id, sizeof hub_id);
	th_agent_init(&c1, AG_C1);
	meeting(&c1, M1, U_C1, "joint", "2021-03-14");
	send_ok(&h, &c1, h.token_c1, 1, 1, 0);

	/* validation as the agent's */
	const char *bad_enum[] = { "kind=nope" };
	assert_int_equal(correct(h.path, CORRECT_SET, "meeting", M1, bad_enum, 1, id, err, sizeof err),
			 CORRECT_REFUSED);
	assert_non_null(strstr(err, "bad_enum"));
	const char *owner[] = { "unit_id=" U_C2 };
	assert_int_equal(correct(h.path, CORRECT_SET, "meeting", M1, owner, 1, id, err, sizeof err),
			 CORRECT_REFUSED);
	assert_non_null(strstr(err, "owner_changed"));
	const char *missing[] = { "kind=joint", "unit_id=" U_C1 };
	assert_int_equal(correct(h.path, CORRECT_ADD, "meeting", NULL, missing, 2, id, err, sizeof err),
			 CORRECT_REFUSED);
	assert_non_null(strstr(err, "held_on"));
	assert_int_equal(correct(h.path, CORRECT_SET, "nosuch", M1, owner, 1, id, err, sizeof err),
			 CORRECT_REFUSED);
	const char *range[] = { "attendees=-3" };
	assert_int_equal(correct(h.path, CORRECT_SET, "meeting", M1, range, 1, id, err, sizeof err),
			 CORRECT_REFUSED);

	/* a correction: hub clock above the row's, writer = hub_id, receipted */
	const char *fix[] = { "attendees=30" };
	assert_int_equal(correct(h.path, CORRECT_SET, "meeting", M1, fix, 1, id, err, sizeof err), CORRECT_OK);
	query1(h.path, "SELECT attendees || ' ' || (_writer = (SELECT value FROM hub_meta WHERE key = 'hub_id'))"
		       " FROM meeting WHERE id = ?1", M1, v, sizeof v);
	assert_string_equal(v, "30 1");
	query1(h.path, "SELECT count(*) || ' ' || sum(applied) FROM hub_receipt WHERE agent_id = ?1", hub_id, v,
	       sizeof v);
	assert_string_equal(v, "1 1");
	/* the owning office pulls it */
	const char *q[] = { "cursor", "0", NULL };
	struct th_answer p = th_call_raw(h.api, "GET", "/v1/pull", h.token_c1, NULL, NULL, 0, q);
	assert_int_equal(p.status, 200);
	char want[128];
	snprintf(want, sizeof want, "\"attendees\":[30,");
	assert_non_null(strstr(p.body, want));
	assert_non_null(strstr(p.body, hub_id));
	th_answer_free(&p);

	/* an office edit of the same field merges by the rule: an older clock loses, a
	 * newer one wins; another field survives alongside */
	int64_t now = th_now_ms();
	uint64_t c0 = c1.v[0].e.clock; /* the insert: before the correction */
	assert_non_null(th_add(&c1, "meeting", M1, 'u', U_C1, "attendees=i:11", c0 + 1));
	assert_non_null(th_add(&c1, "meeting", M1, 'u', U_C1, "concerns=s:Thiếu kinh phí", c0 + 2));
	send_ok(&h, &c1, h.token_c1, 2, 3, 0);
	query1(h.path, "SELECT attendees || ' ' || concerns FROM meeting WHERE id = ?1", M1, v, sizeof v);
	assert_string_equal(v, "30 Thiếu kinh phí");
	assert_non_null(th_add(&c1, "meeting", M1, 'u', U_C1, "attendees=i:40", (uint64_t)(now + 60000) << 16));
	send_ok(&h, &c1, h.token_c1, 4, 4, 0);
	query1(h.path, "SELECT attendees FROM meeting WHERE id = ?1", M1, v, sizeof v);
	assert_string_equal(v, "40");

	/* add with a code-less owner defaults to the province; rm removes */
	const char *add[] = { "kind=giao_ban", "held_on=2021-05-01" };
	assert_int_equal(correct(h.path, CORRECT_ADD, "meeting", NULL, add, 2, id, err, sizeof err), CORRECT_OK);
	query1(h.path, "SELECT unit_id FROM meeting WHERE id = ?1", id, v, sizeof v);
	assert_string_equal(v, U_P);
	assert_int_equal(correct(h.path, CORRECT_RM, "meeting", id, NULL, 0, id, err, sizeof err), CORRECT_OK);
	assert_int_equal(correct(h.path, CORRECT_RM, "meeting", id, NULL, 0, id, err, sizeof err), CORRECT_REFUSED);
	th_agent_release(&c1);
	th_hub_free(&h);
}

/* ---- backup and restore ---- */

static uint64_t hello_backup_seq(struct th_hub *h, const char *agent, const char *token, char hub_id[37])
{
	struct th_answer a = th_hello(h, agent, token);
	assert_int_equal(a.status, 200);
	const char *p = strstr(a.body, "\"backup_seq\":");
	assert_non_null(p);
	uint64_t seq = strtoull(p + 13, NULL, 10);
	const char *q = strstr(a.body, "\"hub_id\":\"");
	assert_non_null(q);
	snprintf(hub_id, 37, "%.36s", q + 10);
	th_answer_free(&a);
	return seq;
}

static void rm_file(const char *p)
{
	unlink(p);
}

static void test_ops__backup_reports_backup_seq_and_restore_renews_the_hub(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent c1;
	struct ops_backup_result res;
	char err[2048], b1[160], b2[160], hub1[37], hub2[37], v[64];
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&c1, AG_C1);
	meeting(&c1, M1, U_C1, "joint", "2021-01-01");
	meeting(&c1, M2, U_C1, "joint", "2021-02-01");
	meeting(&c1, M3, U_C1, "joint", "2021-03-01");
	send_ok(&h, &c1, h.token_c1, 1, 3, 0);
	assert_int_equal(hello_backup_seq(&h, AG_C1, h.token_c1, hub1), 0);
	snprintf(b1, sizeof b1, "%s/b1.db", h.dir);
	snprintf(b2, sizeof b2, "%s/b2.db", h.dir);
	/* a backup while the api is open */
	assert_int_equal(ops_backup(h.path, b1, th_now_ms(), &res, err, sizeof err), 0);
	assert_int_equal(res.agents, 1);
	assert_int_equal(hello_backup_seq(&h, AG_C1, h.token_c1, hub1), 3);
	assert_int_equal(ops_backup(h.path, b1, th_now_ms(), &res, err, sizeof err), -1); /* exists */
	meeting(&c1, M4, U_C1, "joint", "2021-04-01");
	send_ok(&h, &c1, h.token_c1, 4, 4, 0);
	assert_int_equal(hello_backup_seq(&h, AG_C1, h.token_c1, hub1), 3);
	usleep(5000);
	assert_int_equal(ops_backup(h.path, b2, th_now_ms(), &res, err, sizeof err), 0);
	assert_int_equal(hello_backup_seq(&h, AG_C1, h.token_c1, hub1), 4);
	/* a revocation after the backups */
	{
		struct store *s;
		int64_t now = th_now_ms();
		assert_int_equal(store_sqlite_open(h.path, 0, &s, err, sizeof err), 0);
		assert_int_equal(s->begin(s), 0);
		assert_int_equal(auth_revoke(s, AG_C2, now) >= 0, 1);
		char prefix[16];
		snprintf(prefix, sizeof prefix, "%.11s", h.token_c2);
		assert_int_equal(auth_revoke(s, prefix, now), 1);
		assert_int_equal(s->commit(s), 0);
		assert_int_equal(ops_log_revoked(h.path, s, now), 0);
		s->close(s);
	}
	api_free(h.api);
	h.api = NULL;
	/* the older backup is refused, and accepted with force */
	FILE *out = tmpfile();
	assert_non_null(out);
	assert_int_equal(ops_restore(h.path, b1, 0, th_now_ms(), out, err, sizeof err), 1);
	assert_non_null(strstr(err, "older than the latest backup"));
	assert_int_equal(ops_restore(h.path, b2, 0, th_now_ms(), out, err, sizeof err), 0);
	fclose(out);
	struct api_options o = { .db_path = h.path };
	assert_int_equal(api_new(&o, &h.api, err, sizeof err), 0);
	/* a new hub id, the backup's sequence, the revocation kept */
	assert_int_equal(hello_backup_seq(&h, AG_C1, h.token_c1, hub2), 4);
	assert_string_not_equal(hub1, hub2);
	struct th_answer a = th_hello(&h, AG_C2, h.token_c2);
	assert_int_equal(a.status, 401);
	assert_non_null(strstr(a.body, "revoked"));
	th_answer_free(&a);
	query1(h.path, "SELECT count(*) FROM meeting", NULL, v, sizeof v);
	assert_string_equal(v, "4");
	/* with --force, the older one: says what it loses */
	api_free(h.api);
	h.api = NULL;
	out = tmpfile();
	assert_int_equal(ops_restore(h.path, b1, 1, th_now_ms(), out, err, sizeof err), 0);
	rewind(out);
	char text[4096];
	size_t n = fread(text, 1, sizeof text - 1, out);
	text[n] = '\0';
	fclose(out);
	assert_non_null(strstr(text, "sequences 4..4"));
	assert_int_equal(api_new(&o, &h.api, err, sizeof err), 0);
	assert_int_equal(hello_backup_seq(&h, AG_C1, h.token_c1, hub2), 3);
	th_agent_release(&c1);
	/* clean the extra files */
	char p[256];
	rm_file(b1);
	rm_file(b2);
	snprintf(p, sizeof p, "%s.operations", h.path);
	rm_file(p);
	snprintf(p, sizeof p, "%s.serving", h.path);
	rm_file(p);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -f %s/hub.db.replaced-*", h.dir);
	assert_int_equal(system(cmd), 0);
	th_hub_free(&h);
}

/* ---- --trust-proxy ---- */

static void client_of(struct api *a, const char *peer, const char *xff, char out[64])
{
	struct api_request req = { 0 };
	struct api_response resp;
	req.method = "GET";
	req.path = "/healthz";
	req.client = peer;
	req.forwarded_for = xff;
	api_handle(a, &req, &resp);
	assert_int_equal(resp.status, 200);
	snprintf(out, 64, "%s", resp.log.client);
	api_response_release(&resp);
}

static void test_ops__trusted_proxy_logs_the_address_it_added(void **state)
{
	(void)state;
	struct th_hub h;
	struct api *proxied = NULL;
	char err[256], c[64];
	assert_int_equal(th_hub_new(&h), 0);
	struct api_options o = { .db_path = h.path, .trust_proxy = 1 };
	assert_int_equal(api_new(&o, &proxied, err, sizeof err), 0);
	client_of(proxied, "127.0.0.1", "10.9.9.9, 203.0.113.7", c);
	assert_string_equal(c, "203.0.113.7"); /* the last hop: what our proxy saw */
	client_of(proxied, "127.0.0.1", NULL, c);
	assert_string_equal(c, "127.0.0.1");
	client_of(proxied, "127.0.0.1", "1.2.3.4\n5", c);
	assert_string_equal(c, "1.2.3.4?5"); /* never a control byte in a log */
	client_of(h.api, "127.0.0.1", "203.0.113.7", c); /* not trusted: the peer */
	assert_string_equal(c, "127.0.0.1");
	api_free(proxied);
	th_hub_free(&h);
}

/* Behind a TLS-terminating proxy the hub itself speaks HTTP: the dashboard cookie is
 * Secure when the trusted proxy says the client's link is HTTPS, never on a client's
 * own say-so (no --trust-proxy). */
static const char *login_cookie(struct api *a, const char *token, const char *proto, char out[256])
{
	const char *const q[] = { "token", token, NULL };
	struct api_request req = { 0 };
	struct api_response resp;
	req.method = "GET";
	req.path = "/";
	req.query = th_query;
	req.query_ctx = (void *)q;
	req.client = "127.0.0.1";
	req.forwarded_proto = proto;
	req.sec_fetch_site = "none"; /* pasted into the address bar */
	api_handle(a, &req, &resp);
	assert_int_equal(resp.status, 303);
	snprintf(out, 256, "%s", resp.set_cookie);
	api_response_release(&resp);
	return out;
}

static void test_ops__trusted_proxy_https_makes_the_dashboard_cookie_secure(void **state)
{
	(void)state;
	struct th_hub h;
	struct api *proxied = NULL;
	char err[256], c[256];
	assert_int_equal(th_hub_new(&h), 0);
	struct api_options o = { .db_path = h.path, .trust_proxy = 1 };
	assert_int_equal(api_new(&o, &proxied, err, sizeof err), 0);
	assert_non_null(strstr(login_cookie(proxied, h.token_viewer, "https", c), "; Secure"));
	assert_non_null(strstr(login_cookie(proxied, h.token_viewer, "HTTPS", c), "; Secure"));
	assert_null(strstr(login_cookie(proxied, h.token_viewer, "http", c), "Secure"));
	assert_null(strstr(login_cookie(proxied, h.token_viewer, NULL, c), "Secure"));
	assert_null(strstr(login_cookie(h.api, h.token_viewer, "https", c), "Secure")); /* not trusted */
	api_free(proxied);
	th_hub_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops__merge_gives_the_survivor_the_scope_and_keeps_history),
		cmocka_unit_test(test_ops__rename_dates_the_name_and_leaves_records),
		cmocka_unit_test(test_ops__split_closes_and_fans_out_scope),
		cmocka_unit_test(test_ops__move_changes_the_parent_from_its_date),
		cmocka_unit_test(test_ops__close_flags_records_after_it_and_undoing_clears_them),
		cmocka_unit_test(test_ops__hub_unit_write_settles_held_changes),
		cmocka_unit_test(test_ops__real_reform_keeps_2021_and_lands_new_records),
		cmocka_unit_test(test_ops__reform_file_refused_whole),
		cmocka_unit_test(test_ops__corrections_validate_merge_receipt_and_pull),
		cmocka_unit_test(test_ops__backup_reports_backup_seq_and_restore_renews_the_hub),
		cmocka_unit_test(test_ops__trusted_proxy_logs_the_address_it_added),
		cmocka_unit_test(test_ops__trusted_proxy_https_makes_the_dashboard_cookie_secure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
