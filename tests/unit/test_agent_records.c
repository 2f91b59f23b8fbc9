/*
 * test_agent_records.c — agent/records.h and agent/resolve.h, the one write path as the
 * office app and the command line use it: text stored NFC whatever was typed; dates
 * day first (and ISO) stored ISO, an impossible day refused with the month's length;
 * choices by Vietnamese label, an unknown one refused with the allowed ones and the
 * nearest; links by a person's name (with the birth year when two share it), by a
 * unit's name or official code; two people of one name refused with both listed; a
 * name that matches nothing answered with the nearest; search by lk_fold ignoring
 * case, diacritics and đ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ids.h"
#include "records.h"
#include "resolve.h"
#include "store.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"

struct fixture {
	char path[64];
	struct store *s;
	char codes[512];   /* problem codes, each followed by ';' */
	char fields[512];  /* the column of each problem ("-" for the row), each followed by ';' */
	char texts[8192];  /* problem sentences, each followed by '\n' */
	size_t nmatches;   /* of the last "ambiguous" */
};

static void collect(void *arg, const struct records_problem *p)
{
	struct fixture *f = arg;
	strncat(f->codes, p->code, sizeof f->codes - strlen(f->codes) - 2);
	strcat(f->codes, ";");
	strncat(f->fields, p->column ? p->column->name : "-", sizeof f->fields - strlen(f->fields) - 2);
	strcat(f->fields, ";");
	strncat(f->texts, p->text, sizeof f->texts - strlen(f->texts) - 2);
	strcat(f->texts, "\n");
	if (strcmp(p->code, "ambiguous") == 0)
		f->nmatches = p->nmatches;
}

/* With records_writer_detail set, the plain refuse is never called. */
static void refuse_unused(void *ctx, unsigned long line, const struct schema_column *col, const char *text)
{
	(void)ctx;
	(void)line;
	(void)col;
	fail_msg("refuse called for: %s", text);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (!f)
		return -1;
	snprintf(f->path, sizeof f->path, "/tmp/lk-record-%d.db", (int)getpid());
	unlink(f->path);
	if (store_create(f->path, UNIT, &f->s, err, sizeof err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[96];
	store_close(f->s);
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	free(f);
	return 0;
}

/* Writes one record of table given as "field", "value" pairs (NULL-terminated);
 * returns the result, the id in id (when not NULL). Problems go to the fixture. */
static enum records_result put(struct fixture *f, const char *table, char id[IDS_UUID_TEXT], ...)
{
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	assert_non_null(t);
	const char *text[RECORDS_MAX_COLUMNS] = { 0 };
	va_list ap;
	va_start(ap, id);
	const char *name;
	while ((name = va_arg(ap, const char *)) != NULL) {
		const struct schema_column *c = schema_column_find(t, name, SCHEMA_VERSION);
		assert_non_null(c);
		text[schema_column_index(t, c)] = va_arg(ap, const char *);
	}
	va_end(ap);
	f->codes[0] = f->fields[0] = f->texts[0] = '\0';
	const struct records_sink sink = { refuse_unused, f };
	struct records_writer *w = records_writer_new(f->s, t, &sink);
	assert_non_null(w);
	records_writer_detail(w, collect);
	char got[IDS_UUID_TEXT];
	enum records_result r = records_write(w, text, NULL, got);
	if (id && (r == RECORDS_INSERTED))
		memcpy(id, got, IDS_UUID_TEXT);
	records_writer_free(w);
	return r;
}

static void text_of(struct fixture *f, const char *sql, const char *id, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;
	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1, &st, NULL), SQLITE_OK);
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void test_records__text_is_stored_nfc_whatever_was_typed(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], got[256];
	/* "Nguyễn Thị Hoa" typed decomposed: e + U+0302 + U+0303, i + U+0323 */
	assert_int_equal(put(f, "person", id, "full_name", "Nguye\xcc\x82\xcc\x83n Thi\xcc\xa3 Hoa", NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT full_name FROM person WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, "Nguyễn Thị Hoa");
	/* the journal carries the same bytes the hub will receive */
	text_of(f, "SELECT fields FROM lk_journal ORDER BY seq DESC LIMIT 1", NULL, got, sizeof got);
	assert_non_null(strstr(got, "Nguyễn Thị Hoa"));
	assert_null(strstr(got, "Nguye\xcc\x82"));
}

static void test_records__dates_are_read_day_first_and_stored_iso(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], got[64];
	assert_int_equal(put(f, "meeting", id, "kind", "joint", "held_on", "14/3/2021", NULL), RECORDS_INSERTED);
	text_of(f, "SELECT held_on FROM meeting WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, "2021-03-14");
	assert_int_equal(put(f, "meeting", id, "kind", "joint", "held_on", "2021-03-15", NULL), RECORDS_INSERTED);
	text_of(f, "SELECT held_on FROM meeting WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, "2021-03-15");
}

static void test_records__an_impossible_day_is_refused_with_the_month_length(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(put(f, "meeting", NULL, "kind", "joint", "held_on", "31/02/2021", NULL), RECORDS_REJECTED);
	assert_string_equal(f->codes, "bad_date;");
	assert_string_equal(f->fields, "held_on;");
	assert_non_null(strstr(f->texts, "tháng 2 năm 2021 chỉ có 28 ngày"));
	assert_int_equal(put(f, "meeting", NULL, "kind", "joint", "held_on", "14 tháng 3", NULL), RECORDS_REJECTED);
	assert_non_null(strstr(f->texts, "14/03/2021"));
}

static void test_records__choices_are_read_by_label_without_diacritics(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], got[64];
	assert_int_equal(put(f, "meeting", id, "kind", "Sinh hoạt liên chi đoàn", "held_on", "1/3/2021", NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT kind FROM meeting WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, "joint");
	assert_int_equal(put(f, "meeting", id, "kind", "giao ban", "held_on", "1/3/2021", NULL), RECORDS_INSERTED);
	text_of(f, "SELECT kind FROM meeting WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, "giao_ban");
}

static void test_records__an_unknown_choice_lists_the_allowed_ones_and_the_nearest(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(put(f, "meeting", NULL, "kind", "sinh hoat lien chi", "held_on", "1/3/2021", NULL),
			 RECORDS_REJECTED);
	assert_string_equal(f->codes, "bad_enum;");
	assert_non_null(strstr(f->texts, "Có phải ý bạn là 'Sinh hoạt liên chi đoàn' (joint)?"));
	assert_non_null(strstr(f->texts, "Giao ban (giao_ban), Giao nhiệm vụ (giao_nhiem_vu)"));
	assert_int_equal(put(f, "meeting", NULL, "kind", "xyz", "held_on", "1/3/2021", NULL), RECORDS_REJECTED);
	assert_null(strstr(f->texts, "Có phải"));
	assert_non_null(strstr(f->texts, "Chọn một trong: Giao ban (giao_ban)"));
}

static void test_records__a_person_is_linked_by_name_and_birth_year(void **state)
{
	struct fixture *f = *state;
	char a98[IDS_UUID_TEXT], a01[IDS_UUID_TEXT], hoa[IDS_UUID_TEXT], role[IDS_UUID_TEXT], got[64];
	assert_int_equal(put(f, "person", a98, "full_name", "Nguyễn Văn An", "birth_year", "1998", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "person", a01, "full_name", "Nguyễn Văn An", "birth_year", "2001", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "person", hoa, "full_name", "Nguyễn Thị Hoa", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "insurance_card", role, "person_id", "nguyen thi hoa", "valid_from", "1/1/2021", NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT person_id FROM insurance_card WHERE id = ?1", role, got, sizeof got);
	assert_string_equal(got, hoa);
	/* two of one name: refused, both listed with their ids and birth years */
	assert_int_equal(put(f, "insurance_card", NULL, "person_id", "Nguyễn Văn An", "valid_from", "1/1/2021", NULL),
			 RECORDS_REJECTED);
	assert_string_equal(f->codes, "ambiguous;");
	assert_int_equal(f->nmatches, 2);
	assert_non_null(strstr(f->texts, a98));
	assert_non_null(strstr(f->texts, a01));
	assert_non_null(strstr(f->texts, "Nguyễn Văn An (1998)"));
	assert_non_null(strstr(f->texts, "Nguyễn Văn An (2001)"));
	/* the birth year tells them apart */
	assert_int_equal(put(f, "insurance_card", role, "person_id", "nguyen van an (2001)", "valid_from", "1/1/2021", NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT person_id FROM insurance_card WHERE id = ?1", role, got, sizeof got);
	assert_string_equal(got, a01);
}

static void test_records__a_unit_is_linked_by_name_or_official_code(void **state)
{
	struct fixture *f = *state;
	char branch[IDS_UUID_TEXT], id[IDS_UUID_TEXT], got[64];
	assert_int_equal(put(f, "unit", branch, "opened_on", "1/1/2019", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "unit_name", id, "of_unit", branch, "name", "Thôn Bình Hưng", "code", "TBH01", "kind",
			     "Chi đoàn thôn, khu phố", "valid_from", "1/1/2019", NULL),
			 RECORDS_INSERTED);
	assert_int_equal(put(f, "unit_parent", id, "of_unit", "thon binh hung", "parent_id", UNIT, "valid_from",
			     "1/1/2019", NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT of_unit FROM unit_parent WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, branch);
	assert_int_equal(put(f, "meeting", id, "kind", "branch", "held_on", "1/3/2021", "host_branch_id", "tbh01", NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT host_branch_id FROM meeting WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, branch);
	/* the owning unit by name too */
	assert_int_equal(put(f, "meeting", id, "unit_id", "Thôn Bình Hưng", "kind", "branch", "held_on", "2/3/2021",
			     NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT unit_id FROM meeting WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, branch);
}

/* Names repeat across a province ("Thôn 1"): the office's own unit of that name is
 * meant — also a branch it is still setting up, before its parent link — and two of
 * its own are refused as ambiguous. */
static void test_records__a_unit_name_prefers_the_office_own_and_refuses_two_of_them(void **state)
{
	struct fixture *f = *state;
	char mine[IDS_UUID_TEXT], id[IDS_UUID_TEXT], got[64];
	/* a unit of another commune, as a pull brings it (no journal) */
	assert_int_equal(store_apply_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(store_db(f->s),
				      "INSERT INTO unit(id, unit_id, opened_on) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000e1', '0190f3a2-0000-7000-8000-0000000000ee', '2019-01-01');"
				      "INSERT INTO unit_name(id, unit_id, of_unit, name, kind, valid_from) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000e2', '0190f3a2-0000-7000-8000-0000000000ee',"
				      "  '0190f3a2-0000-7000-8000-0000000000e1', 'Thôn 1', 'branch', '2019-01-01')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_apply_end(f->s, 1), 0);
	assert_int_equal(put(f, "unit", mine, "opened_on", "1/1/2020", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "unit_name", id, "of_unit", mine, "name", "Thôn 1", "kind", "branch", "valid_from",
			     "1/1/2020", NULL),
			 RECORDS_INSERTED);
	assert_int_equal(put(f, "unit_parent", id, "of_unit", "thon 1", "parent_id", UNIT, "valid_from", "1/1/2020",
			     NULL),
			 RECORDS_INSERTED);
	text_of(f, "SELECT of_unit FROM unit_parent WHERE id = ?1", id, got, sizeof got);
	assert_string_equal(got, mine);
	char second[IDS_UUID_TEXT];
	assert_int_equal(put(f, "unit", second, "opened_on", "1/1/2020", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "unit_name", id, "of_unit", second, "name", "Thôn 1", "kind", "branch", "valid_from",
			     "1/1/2020", NULL),
			 RECORDS_INSERTED);
	assert_int_equal(put(f, "meeting", NULL, "kind", "branch", "held_on", "1/3/2021", "host_branch_id", "Thôn 1",
			     NULL),
			 RECORDS_REJECTED);
	assert_string_equal(f->codes, "ambiguous;");
	assert_int_equal(f->nmatches, 2);
	assert_non_null(strstr(f->texts, mine));
	assert_non_null(strstr(f->texts, second));
}

static void test_records__a_name_that_matches_nothing_gets_the_nearest(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(put(f, "person", NULL, "full_name", "Nguyễn Thị Hoa", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "insurance_card", NULL, "person_id", "Nguyen Thi Hoaa", "valid_from", "1/1/2021", NULL),
			 RECORDS_REJECTED);
	assert_string_equal(f->codes, "not_found;");
	assert_non_null(strstr(f->texts, "Có phải ý bạn là 'Nguyễn Thị Hoa'?"));
	assert_int_equal(put(f, "insurance_card", NULL, "person_id", "Trần Quốc Toản", "valid_from", "1/1/2021", NULL),
			 RECORDS_REJECTED);
	assert_string_equal(f->codes, "not_found;");
	assert_null(strstr(f->texts, "Có phải"));
	/* a table linked by id only says so */
	assert_int_equal(put(f, "task", NULL, "meeting_id", "Giao ban tháng 3", "title", "x", NULL), RECORDS_REJECTED);
	assert_string_equal(f->codes, "by_id_only;");
}

static void test_resolve__search_ignores_case_diacritics_and_dstroke(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(put(f, "person", NULL, "full_name", "Đỗ Văn Nam", "birth_year", "1995", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "person", NULL, "full_name", "Nguyễn Thị Hoa", NULL), RECORDS_INSERTED);
	assert_int_equal(put(f, "person", NULL, "full_name", "Lê Hoà", NULL), RECORDS_INSERTED);
	struct resolve_match m[4];
	size_t n = 0;
	assert_int_equal(resolve_search(f->s, "person", "do", m, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].label, "Đỗ Văn Nam (1995)");
	assert_int_equal(resolve_search(f->s, "person", "nguyen thi hoa", m, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].label, "Nguyễn Thị Hoa");
	assert_int_equal(resolve_search(f->s, "person", "HOA", m, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(resolve_search(f->s, "person", "", m, 2, &n), 0);
	assert_int_equal(n, 2); /* capped */
	char label[RESOLVE_LABEL_MAX];
	assert_int_equal(resolve_label(f->s, "person", m[0].id, label), 1);
	assert_string_equal(label, m[0].label);
}

int main(void)
{
	setenv("LC_ALL", "vi_VN.UTF-8", 1);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_records__text_is_stored_nfc_whatever_was_typed),
		T(test_records__dates_are_read_day_first_and_stored_iso),
		T(test_records__an_impossible_day_is_refused_with_the_month_length),
		T(test_records__choices_are_read_by_label_without_diacritics),
		T(test_records__an_unknown_choice_lists_the_allowed_ones_and_the_nearest),
		T(test_records__a_person_is_linked_by_name_and_birth_year),
		T(test_records__a_unit_is_linked_by_name_or_official_code),
		T(test_records__a_unit_name_prefers_the_office_own_and_refuses_two_of_them),
		T(test_records__a_name_that_matches_nothing_gets_the_nearest),
		T(test_resolve__search_ignores_case_diacritics_and_dstroke),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
