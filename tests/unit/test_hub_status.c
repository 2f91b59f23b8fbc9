/*
 * test_hub_status.c — the sync status of status.c: the order that puts the offices to
 * call on top, the silent flags at their exact boundaries, the "as of" reading, the
 * Vietnamese reasons, flags attributed to the office that wrote the row, Vietnam-time
 * days whatever the machine's zone, and the CSV/HTML renderings (BOM, CRLF, escaping).
 *
 * Each test writes the hub's bookkeeping rows (hub_agent, hub_token, hub_quarantine,
 * hub_receipt, hub_flag) directly with SQL on the fixture hub of hub_test_util.h, at
 * chosen times, and builds the status as of a chosen instant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "hub_test_util.h"
#include "status.h"
#include "store_sqlite_internal.h" /* the store's connection: its statements counted */

#define DAY STATUS_DAY_MS
#define AS_OF ((int64_t)1795600000000) /* 2026-11-25 07:06:40 UTC */
#define AG_OK "0190f3a2-0000-7000-8000-00000000a001"
#define AG_1D "0190f3a2-0000-7000-8000-00000000a002"
#define AG_3D "0190f3a2-0000-7000-8000-00000000a003"
#define AG_Q  "0190f3a2-0000-7000-8000-00000000a004"
#define AG_RT "0190f3a2-0000-7000-8000-00000000a005"
#define AG_CK "0190f3a2-0000-7000-8000-00000000a006"

struct fx {
	struct th_hub h;
	sqlite3 *db;       /* the SQLite file itself: the rows the tests set up */
	struct store *s;   /* what status_build reads through */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f || th_hub_new(&f->h) != 0)
		return -1;
	char err[256];
	if (sqlite3_open(f->h.path, &f->db) != SQLITE_OK ||
	    hub_store_open(f->h.path, 0, &f->s, err, sizeof err) != 0)
		return -1;
	/* the fixture's agent tokens never said hello: start without them */
	if (sqlite3_exec(f->db, "DELETE FROM hub_token WHERE kind = 0", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	f->s->close(f->s);
	sqlite3_close(f->db);
	th_hub_free(&f->h);
	free(f);
	return 0;
}

static void sql(struct fx *f, const char *fmt, ...)
{
	char q[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	char *err = NULL;
	if (sqlite3_exec(f->db, q, NULL, NULL, &err) != SQLITE_OK)
		print_error("%s: %s\n", q, err ? err : "");
	sqlite3_free(err);
	assert_null(err);
}

static void agent_row(struct fx *f, const char *id, const char *unit, int64_t last_ms,
		      int64_t offset_ms, const char *retired_to)
{
	sql(f, "INSERT INTO hub_agent VALUES('%s','%s',5,'',%lld,%lld,%lld,%lld,%lld,2,'lienket-agent 0.1.0','%s')",
	    id, unit, (long long)(last_ms - 10 * DAY), (long long)last_ms, (long long)last_ms,
	    (long long)(last_ms - offset_ms), (long long)offset_ms, retired_to);
	sql(f, "INSERT INTO hub_token VALUES('h%s','lk_%.8s',0,'%s','n','%s',0,0,0,0)", id, id + 28, unit, id);
}

static struct status *build(struct fx *f, int64_t as_of)
{
	struct status *st = NULL;
	char err[256];
	int rc = status_build(f->s, as_of, &st, err, sizeof err);
	if (rc != 0)
		print_error("status_build: %s\n", err);
	assert_int_equal(rc, 0);
	return st;
}

static const struct status_office *find(const struct status *st, const char *agent)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->offices[i].agent, agent) == 0)
			return &st->offices[i];
	return NULL;
}

static void test_hub_status__offices_to_call_are_on_top(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_OK, U_C1, AS_OF - 3600 * 1000, 0, "");
	agent_row(f, AG_1D, U_C2, AS_OF - 2 * DAY, 0, "");
	agent_row(f, AG_3D, U_D, AS_OF - 5 * DAY, 0, "");
	agent_row(f, AG_Q, U_C1, AS_OF - 60 * 1000, 0, "");
	agent_row(f, AG_RT, U_C1, AS_OF - 30 * DAY, 0, AG_OK);
	sql(f, "INSERT INTO hub_quarantine VALUES('%s',7,'bad_enum','person','p1','gender','bad',%lld)",
	    AG_Q, (long long)(AS_OF - 1000));
	/* enrolled four days ago, never connected: a call too, after the 5-day silence */
	sql(f, "INSERT INTO hub_token VALUES('h1','lk_neverxx',0,'%s','c2','',%lld,0,0,0)", U_C2,
	    (long long)(AS_OF - 4 * DAY));
	struct status *st = build(f, AS_OF);
	assert_int_equal(st->n, 6);
	assert_string_equal(st->offices[0].agent, AG_3D);
	assert_int_equal(st->offices[0].rank, STATUS_RANK_SILENT_3D);
	assert_true(st->offices[1].never);
	assert_int_equal(st->offices[1].rank, STATUS_RANK_SILENT_3D);
	assert_string_equal(st->offices[1].state, "never");
	assert_string_equal(st->offices[2].agent, AG_1D);
	assert_int_equal(st->offices[2].rank, STATUS_RANK_SILENT_1D);
	assert_string_equal(st->offices[3].agent, AG_Q);
	assert_int_equal(st->offices[3].rank, STATUS_RANK_ISSUES);
	assert_string_equal(st->offices[4].agent, AG_OK);
	assert_int_equal(st->offices[4].rank, STATUS_RANK_OK);
	assert_string_equal(st->offices[5].agent, AG_RT);
	assert_int_equal(st->offices[5].rank, STATUS_RANK_RETIRED);
	assert_false(st->offices[5].silent_3d); /* a retired laptop is not a call */
	assert_string_equal(st->offices[0].unit_name, "Huyện D");
	status_free(st);
}

static void test_hub_status__silent_flags_are_strictly_more_than_one_and_three_days(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_OK, U_C1, AS_OF - DAY, 0, "");
	agent_row(f, AG_1D, U_C2, AS_OF - DAY - 1, 0, "");
	agent_row(f, AG_3D, U_D, AS_OF - 3 * DAY, 0, "");
	agent_row(f, AG_Q, U_C1, AS_OF - 3 * DAY - 1, 0, "");
	struct status *st = build(f, AS_OF);
	const struct status_office *a = find(st, AG_OK), *b = find(st, AG_1D), *c = find(st, AG_3D),
				   *d = find(st, AG_Q);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_false(a->silent_1d);
	assert_int_equal(a->days_silent, 1);
	assert_true(b->silent_1d);
	assert_false(b->silent_3d);
	assert_true(c->silent_1d);
	assert_false(c->silent_3d);
	assert_int_equal(c->days_silent, 3);
	assert_true(d->silent_3d);
	assert_string_equal(st->offices[0].agent, AG_Q);
	status_free(st);
}

static void test_hub_status__an_agent_whose_tokens_are_revoked_is_not_a_call(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_OK, U_C1, AS_OF - 1000, 0, "");
	agent_row(f, AG_3D, U_C2, AS_OF - 9 * DAY, 0, "");
	sql(f, "UPDATE hub_token SET revoked_ms = %lld WHERE agent_id = '%s'", (long long)(AS_OF - DAY), AG_3D);
	struct status *st = build(f, AS_OF);
	assert_string_equal(st->offices[1].agent, AG_3D);
	assert_string_equal(st->offices[1].state, "revoked");
	assert_false(st->offices[1].silent_3d);
	status_free(st);
	/* before the revocation it was a call */
	st = build(f, AS_OF - 2 * DAY);
	assert_true(find(st, AG_3D)->silent_3d);
	assert_int_equal(find(st, AG_3D)->rank, STATUS_RANK_SILENT_3D);
	status_free(st);
}

static void test_hub_status__clock_offset_over_ten_minutes_is_flagged(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_OK, U_C1, AS_OF - 1000, 9 * 60 * 1000, "");
	agent_row(f, AG_CK, U_C2, AS_OF - 1000, -(int64_t)3 * 3600 * 1000, "");
	struct status *st = build(f, AS_OF);
	assert_false(find(st, AG_OK)->clock_off);
	assert_true(find(st, AG_CK)->clock_off);
	assert_string_equal(find(st, AG_CK)->state, "clock");
	assert_string_equal(st->offices[0].agent, AG_CK);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(status_write_text(st, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "nhanh 3 giờ 0 phút"));
	assert_non_null(strstr(text, "Đồng hồ máy lệch"));
	free(text);
	status_free(st);
}

static void test_hub_status__quarantine_and_flags_carry_vietnamese_reasons(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_Q, U_C1, AS_OF - 1000, 0, "");
	sql(f, "INSERT INTO hub_quarantine VALUES('%s',3,'bad_enum','person','p1','<gender>','m',%lld)",
	    AG_Q, (long long)(AS_OF - 5000));
	sql(f, "INSERT INTO hub_skipped VALUES('%s',4,'00','too_large',%lld)", AG_Q, (long long)(AS_OF - 4000));
	/* a meeting last written by AG_Q, flagged for a reference the hub does not hold */
	sql(f, "INSERT INTO meeting(id, unit_id, kind, held_on, _ins_clock, _ins_writer, _del_clock,"
	       " _del_writer, _clock, _writer, _fc, _hs, _recv_ms) VALUES('m1','%s','joint','2021-03-14',"
	       " 1,'%s',0,'',1,'%s','{}',1,0)", U_C1, AG_Q, AG_Q);
	sql(f, "INSERT INTO hub_flag VALUES('meeting','m1','dangling_ref','host_branch_id','unit/x',NULL,%lld)",
	    (long long)(AS_OF - 3000));
	/* a flag on a row the province wrote itself belongs to no office */
	sql(f, "INSERT INTO hub_flag VALUES('unit','u9','held','',NULL,NULL,%lld)", (long long)(AS_OF - 3000));
	struct status *st = build(f, AS_OF);
	const struct status_office *o = find(st, AG_Q);
	assert_non_null(o);
	assert_int_equal(o->quarantined, 1);
	assert_int_equal(o->skipped, 1);
	assert_int_equal(o->flagged, 1);
	assert_int_equal(o->nissues, 3);
	assert_non_null(strstr(o->issues[0].reason_vi, "danh sách được phép"));
	assert_non_null(strstr(o->issues[0].reason_vi, "bảng Người"));
	assert_non_null(strstr(o->issues[2].reason_vi, "tham chiếu"));
	assert_int_equal(st->nloose, 1);
	assert_int_equal(st->flags_dangling, 1);
	assert_int_equal(st->flags_held, 1);

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(status_write_html(st, out), 0);
	fclose(out);
	assert_null(strstr(text, "<gender>"));
	assert_non_null(strstr(text, "&lt;gender&gt;"));
	free(text);
	out = open_memstream(&text, &len);
	assert_int_equal(status_write_json(st, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "\"skipped\":[{\"seq\":4,\"reason\":\"too_large\"}]"));
	assert_non_null(strstr(text, "\"kind\":\"quarantine\",\"seq\":3,\"code\":\"bad_enum\""));
	free(text);
	status_free(st);
}

static int count_stmt(unsigned type, void *ctx, void *stmt, void *x)
{
	(void)stmt;
	(void)x;
	if (type == SQLITE_TRACE_STMT)
		(*(size_t *)ctx)++;
	return 0;
}

/* Offices numbered from `from` to `to` - 1, each with a quarantined, a skipped and a
 * held change and a flagged row. */
static void offices_with_issues(struct fx *f, int from, int to)
{
	for (int i = from; i < to; i++) {
		char id[40];
		snprintf(id, sizeof id, "0190f3a2-0000-7000-8000-%012d", 500000 + i);
		agent_row(f, id, U_C1, AS_OF - 1000, 0, "");
		sql(f, "INSERT INTO hub_quarantine VALUES('%s',3,'bad_enum','person','p%d','gender','m',%lld)",
		    id, i, (long long)(AS_OF - 5000));
		sql(f, "INSERT INTO hub_skipped VALUES('%s',4,'00','too_large',%lld)", id,
		    (long long)(AS_OF - 4000));
		sql(f, "INSERT INTO hub_held VALUES('%s',5,'%s',1,'{}',%lld)", id, U_X,
		    (long long)(AS_OF - 4000));
		sql(f, "INSERT INTO meeting(id, unit_id, kind, held_on, _ins_clock, _ins_writer, _del_clock,"
		       " _del_writer, _clock, _writer, _fc, _hs, _recv_ms) VALUES('m%d','%s','joint',"
		       "'2021-03-14', 1,'%s',0,'',1,'%s','{}',1,0)", i, U_C1, id, id);
		sql(f, "INSERT INTO hub_flag VALUES('meeting','m%d','dangling_ref','host_branch_id',"
		       "'unit/x',NULL,%lld)", i, (long long)(AS_OF - 3000));
	}
}

/* The status reads a few statements whatever the number of offices (never one or more
 * per office: a province of thousands of offices on PostgreSQL would wait on each). */
static void test_hub_status__statements_do_not_grow_with_the_offices(void **state)
{
	struct fx *f = *state;
	sqlite3 *conn = store_sqlite_conn(f->s);
	size_t few = 0, many = 0;
	offices_with_issues(f, 0, 2);
	sqlite3_trace_v2(conn, SQLITE_TRACE_STMT, count_stmt, &few);
	struct status *st = build(f, AS_OF);
	sqlite3_trace_v2(conn, 0, NULL, NULL);
	assert_int_equal(st->n, 2);
	assert_int_equal(st->offices[0].quarantined + st->offices[0].skipped + st->offices[0].held +
			 st->offices[0].flagged, 4);
	status_free(st);
	offices_with_issues(f, 2, 60);
	sqlite3_trace_v2(conn, SQLITE_TRACE_STMT, count_stmt, &many);
	st = build(f, AS_OF);
	sqlite3_trace_v2(conn, 0, NULL, NULL);
	assert_int_equal(st->n, 60);
	for (size_t i = 0; i < st->n; i++) {
		assert_int_equal(st->offices[i].quarantined, 1);
		assert_int_equal(st->offices[i].skipped, 1);
		assert_int_equal(st->offices[i].held, 1);
		assert_int_equal(st->offices[i].flagged, 1);
		assert_int_equal(st->offices[i].nissues, 4);
	}
	status_free(st);
	if (many != few)
		fail_msg("%zu statements for 2 offices, %zu for 60", few, many);
	if (few > 40)
		fail_msg("%zu statements for a status", few);
}

static void test_hub_status__as_of_ignores_what_came_later(void **state)
{
	struct fx *f = *state;
	/* heard from an hour after the cut-off; its last change set before it was 2 days earlier */
	agent_row(f, AG_1D, U_C2, AS_OF + 3600 * 1000, 0, "");
	sql(f, "INSERT INTO hub_receipt(agent_id, seq_from, seq_to, chain_before, chain_after, applied,"
	       " quarantined, held, skipped, duplicate, received_ms) VALUES('%s',1,5,'','',5,0,0,0,0,%lld)",
	    AG_1D, (long long)(AS_OF - 2 * DAY));
	sql(f, "INSERT INTO hub_quarantine VALUES('%s',9,'bad_date','meeting','m','held_on','x',%lld)",
	    AG_1D, (long long)(AS_OF + 1));
	struct status *st = build(f, AS_OF);
	const struct status_office *o = find(st, AG_1D);
	assert_non_null(o);
	assert_int_equal(o->last_ms, AS_OF - 2 * DAY);
	assert_true(o->silent_1d);
	assert_int_equal(o->quarantined, 0);
	status_free(st);
	st = build(f, AS_OF + 2 * 3600 * 1000);
	o = find(st, AG_1D);
	assert_int_equal(o->quarantined, 1);
	assert_false(o->silent_1d);
	status_free(st);
}

static void test_hub_status__vietnam_days_whatever_the_machine_zone(void **state)
{
	(void)state;
	setenv("TZ", "America/New_York", 1);
	tzset();
	char d[11], t[17];
	int64_t ms;
	/* 2021-03-13 16:59:59.999 UTC is 23:59:59 in Vietnam; one ms later the 14th begins */
	assert_int_equal(status_vn_ms("2021-03-14", 0, 0, &ms), 0);
	assert_int_equal(ms, (int64_t)1615654800000);
	status_vn_date(ms - 1, d);
	assert_string_equal(d, "2021-03-13");
	status_vn_date(ms, d);
	assert_string_equal(d, "2021-03-14");
	status_vn_time(ms + 7 * 3600 * 1000 + 30 * 60 * 1000, t);
	assert_string_equal(t, "2021-03-14 07:30");
	assert_int_equal(status_vn_ms("2024-02-29", 7, 0, &ms), 0);
	assert_int_equal(status_vn_ms("2021-02-29", 7, 0, &ms), -1);
	assert_int_equal(status_vn_ms("2021-13-01", 7, 0, &ms), -1);
	assert_int_equal(status_vn_ms("2021-03-14", 24, 0, &ms), -1);
	assert_int_equal(status_vn_ms("21-03-14", 0, 0, &ms), -1);
	unsetenv("TZ");
	tzset();
}

static void test_hub_status__csv_starts_with_a_bom_and_ends_lines_with_crlf(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_OK, U_C1, AS_OF - 1000, 0, "");
	agent_row(f, AG_1D, U_C2, AS_OF - 2 * DAY, 0, "");
	struct status *st = build(f, AS_OF);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(status_write_csv(st, out), 0);
	fclose(out);
	assert_memory_equal(text, "\xEF\xBB\xBF", 3);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n') {
			assert_true(i > 0 && text[i - 1] == '\r');
			lines++;
		}
	assert_int_equal(lines, 3);
	assert_non_null(strstr(text, "Xã C2"));
	assert_non_null(strstr(text, "Quá 1 ngày chưa liên lạc"));
	free(text);
	status_free(st);
}

/* A unit name (reference data an office writes, read by the province) holding
 * terminal escapes is shown escaped by the text status, and one that starts like a
 * formula gets a leading apostrophe in the CSV, digest included (status_write_csv). */
static void test_hub_status__names_are_escaped_for_the_terminal_and_the_spreadsheet(void **state)
{
	struct fx *f = *state;
	agent_row(f, AG_OK, U_C1, AS_OF - 1000, 0, "");
	agent_row(f, AG_Q, U_C2, AS_OF - 1000, 0, "");
	sql(f, "UPDATE unit_name SET name = 'Xã' || char(27) || ']0;x' || char(7) || ' Hòa' WHERE of_unit = '%s'", U_C1);
	sql(f, "UPDATE unit_name SET name = '=HYPERLINK(\"http://x\",\"Xã C2\")' WHERE of_unit = '%s'", U_C2);
	sql(f, "INSERT INTO hub_quarantine VALUES('%s',7,'bad_enum','person','p1',char(27) || '[2J','bad',%lld)",
	    AG_Q, (long long)(AS_OF - 1000));
	struct status *st = build(f, AS_OF);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(status_write_text(st, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "Xã\\x1b]0;x\\x07 Hòa"));
	assert_non_null(strstr(text, "\\x1b[2J"));
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\x07'));
	free(text);
	out = open_memstream(&text, &len);
	assert_int_equal(status_write_csv(st, out), 0);
	fclose(out);
	assert_non_null(strstr(text, ",\"'=HYPERLINK(\"\"http://x\"\",\"\"Xã C2\"\")\","));
	assert_null(strstr(text, ",\"=HYPERLINK"));
	free(text);
	status_free(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* ---- closed_unit flags of a merged commune (issue 12 item 11) ---- */

#define AG_C2 "0190f3a2-0000-7000-8000-00000000a0c2"
#define MERGE_ON "2024-01-01"
#define CLOCK(y, m, d) hlc_from_ms(vn_ms(y, m, d))

static int64_t vn_ms(const char *y, const char *m, const char *d)
{
	char date[11];
	int64_t ms;
	snprintf(date, sizeof date, "%s-%s-%s", y, m, d);
	assert_int_equal(status_vn_ms(date, 10, 0, &ms), 0);
	return ms;
}

/* C2 merged into C1 on MERGE_ON, written by the hub (a reform recorded any time). */
static int merge_c2(struct store *s, void *ctx)
{
	(void)ctx;
	struct validate_status vs;
	struct field f[] = { { "kind", th_text("merge") }, { "of_unit", th_text(U_C2) },
			     { "other_unit", th_text(U_C1) }, { "effective_on", th_text(MERGE_ON) },
			     { "note", th_text(NULL) } };
	struct entry e = { .table = "unit_event", .id = "0190f3b0-0000-7000-8000-0000000000e9", .op = 'i',
			   .owner = U_P, .fields = f, .nfields = 5 };
	return changes_apply_hub(s, &e, th_now_ms(), &vs);
}

#define ROW(n) "0190f3b0-0000-7000-8000-0000000001" n

/* The UUIDv5 id of a natural-key row (PROTOCOL.md §2): table, owner, then a, b. */
static const char *key_id(const char *table, const char *a, const char *b, char out[IDS_UUID_TEXT])
{
	char name[160];
	int n = snprintf(name, sizeof name, "%s\x1f%s\x1f%s\x1f%s", table, U_C2, a, b);
	if (!b)
		n = snprintf(name, sizeof name, "%s\x1f%s\x1f%s", table, U_C2, a);
	ids_uuid5(name, (size_t)n, out);
	return out;
}
#define PERSON_SPEC "full_name=s:Trần Thị Bình;birth_year=n;gender=n;phone=n"

/* C2's joint meeting held on held_on, and B1's participation `part` in it. */
static void joint_with_branch(struct th_agent *ag, const char *meeting, const char *held_on,
			      const char *part, uint64_t clock)
{
	char spec[200];
	snprintf(spec, sizeof spec, "kind=s:joint;held_on=s:%s;host_branch_id=n;"
		 "commune_secretary_attended=n;attendees=n;concerns=n;follow_up=n", held_on);
	assert_non_null(th_add(ag, "meeting", meeting, 'i', U_C2, spec, clock));
	snprintf(spec, sizeof spec, "meeting_id=s:%s;branch_id=s:%s", meeting, U_B1);
	assert_non_null(th_add(ag, "meeting_branch", part, 'i', U_C2, spec, clock));
}

static void year_rating(struct th_agent *ag, const char *id, int year, uint64_t clock)
{
	char spec[120];
	snprintf(spec, sizeof spec, "year=i:%d;rating=s:tot;youth_gathered=n;youth_in_area=n", year);
	assert_non_null(th_add(ag, "year_record", id, 'i', U_C2, spec, clock));
}

static int64_t closed_flags(struct th_hub *h)
{
	return th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'closed_unit'");
}

static int closed_flag_on(struct th_hub *h, const char *row)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM hub_flag WHERE kind = 'closed_unit' AND row_id = '%s'", row);
	return (int)th_sql_count(h, sql);
}

/* Persons, participations and year-end records carry no date column of their own:
 * those recorded before the merge (the clock's recorded time, the meeting's or the
 * activity's date, the record's year) are not flagged, whether they reach the hub
 * before the merge is written (flags recomputed then) or after it. */
static void test_hub_status__rows_recorded_before_a_merge_are_not_flagged_closed(void **state)
{
	(void)state;
	struct th_hub h;
	struct th_agent ag;
	struct store *db = NULL;
	char mb1[IDS_UUID_TEXT], yr1[IDS_UUID_TEXT], mb2[IDS_UUID_TEXT], yr2[IDS_UUID_TEXT],
		vb[IDS_UUID_TEXT];
	key_id("meeting_branch", ROW("02"), U_B1, mb1);
	key_id("year_record", "2023", NULL, yr1);
	key_id("meeting_branch", ROW("12"), U_B1, mb2);
	key_id("year_record", "2024", NULL, yr2);
	key_id("volunteer_branch", ROW("04"), U_B1, vb);
	assert_int_equal(th_hub_new(&h), 0);
	th_agent_init(&ag, AG_C2);
	/* recorded before the merge */
	th_add(&ag, "person", ROW("01"), 'i', U_C2, PERSON_SPEC, CLOCK("2023", "12", "20"));
	joint_with_branch(&ag, ROW("02"), "2023-12-15", mb1, CLOCK("2023", "12", "20"));
	th_add(&ag, "volunteer", ROW("04"), 'i', U_C2,
	       "kind=s:vaccination;title=n;started_on=s:2023-11-01;ended_on=n;teams=i:1;"
	       "participations=i:30", CLOCK("2023", "12", "21"));
	year_rating(&ag, yr1, 2023, CLOCK("2024", "01", "10"));
	/* recorded after it: flagged */
	th_add(&ag, "person", ROW("11"), 'i', U_C2, PERSON_SPEC, CLOCK("2024", "02", "01"));
	joint_with_branch(&ag, ROW("12"), "2024-02-01", mb2, CLOCK("2024", "02", "01"));
	year_rating(&ag, yr2, 2024, CLOCK("2024", "02", "01"));
	th_expect(th_send(&h, &ag, h.token_c2, 1, 9), 200, "\"applied\":9");
	assert_int_equal(closed_flags(&h), 0);

	/* the merge is recorded after these rows reached the hub: flags are recomputed */
	assert_int_equal(th_with_store(&h, merge_c2, NULL), 0);
	assert_int_equal(closed_flag_on(&h, ROW("01")), 0);
	assert_int_equal(closed_flag_on(&h, ROW("02")), 0);
	assert_int_equal(closed_flag_on(&h, mb1), 0);
	assert_int_equal(closed_flag_on(&h, yr1), 0);
	assert_int_equal(closed_flag_on(&h, ROW("11")), 1);
	assert_int_equal(closed_flag_on(&h, ROW("12")), 1);
	assert_int_equal(closed_flag_on(&h, mb2), 1);
	assert_int_equal(closed_flag_on(&h, yr2), 1);
	assert_int_equal(closed_flags(&h), 4);

	/* synced after the merge: a person recorded before it; a participation recorded
	 * after it in an activity held before it (dated by the activity); and one more
	 * person recorded after it */
	th_add(&ag, "person", ROW("21"), 'i', U_C2, PERSON_SPEC, CLOCK("2023", "12", "28"));
	th_add(&ag, "volunteer_branch", vb, 'i', U_C2,
	       "volunteer_id=s:" ROW("04") ";branch_id=s:" U_B1, CLOCK("2024", "02", "03"));
	th_add(&ag, "person", ROW("23"), 'i', U_C2, PERSON_SPEC, CLOCK("2024", "03", "01"));
	th_expect(th_send(&h, &ag, h.token_c2, 10, 12), 200, "\"applied\":3");
	assert_int_equal(closed_flag_on(&h, ROW("21")), 0);
	assert_int_equal(closed_flag_on(&h, vb), 0);
	assert_int_equal(closed_flag_on(&h, ROW("23")), 1);

	/* what `status` shows: 5 flags, all the office's */
	char err[256];
	struct status *st = NULL;
	assert_int_equal(hub_store_open(h.path, 0, &db, err, sizeof err), 0);
	assert_int_equal(status_build(db, th_now_ms(), &st, err, sizeof err), 0);
	assert_int_equal(st->flags_closed, 5);
	const struct status_office *o = find(st, AG_C2);
	assert_non_null(o);
	assert_int_equal(o->flagged, 5);
	status_free(st);
	db->close(db);
	th_agent_release(&ag);
	th_hub_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hub_status__offices_to_call_are_on_top),
		T(test_hub_status__silent_flags_are_strictly_more_than_one_and_three_days),
		T(test_hub_status__an_agent_whose_tokens_are_revoked_is_not_a_call),
		T(test_hub_status__clock_offset_over_ten_minutes_is_flagged),
		T(test_hub_status__quarantine_and_flags_carry_vietnamese_reasons),
		T(test_hub_status__as_of_ignores_what_came_later),
		T(test_hub_status__statements_do_not_grow_with_the_offices),
		cmocka_unit_test(test_hub_status__vietnam_days_whatever_the_machine_zone),
		T(test_hub_status__csv_starts_with_a_bom_and_ends_lines_with_crlf),
		T(test_hub_status__names_are_escaped_for_the_terminal_and_the_spreadsheet),
		cmocka_unit_test(test_hub_status__rows_recorded_before_a_merge_are_not_flagged_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
