/*
 * test_validate.c — checking changes against schema 1 (PROTOCOL.md §3, §7.2): each
 * quarantine code from the smallest change that earns it, UTF-8 and calendar dates at
 * their edges, retired enumeration values by schema version, and natural-key ids
 * against vectors computed independently (Python's uuid module).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "validate.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define ROW "0190f3b0-5a21-7c3d-8e4f-0a1b2c3d4e5f"
#define PERSON "0190f3b2-2b3c-7d4e-9f60-718293a4b5c6"
#define BRANCH "0190f3b1-1111-7222-8333-444455556666"

#define TXT(str) { .kind = VALUE_TEXT, .s = (str), .len = sizeof(str) - 1 }
#define INTV(n) { .kind = VALUE_INT, .i = (n) }
#define NUL { .kind = VALUE_NULL }

static struct entry upd(const char *table, struct field *f, size_t n)
{
	struct entry e = { .seq = 1, .table = table, .id = ROW, .op = 'u', .owner = UNIT,
			   .clock = 1, .fields = f, .nfields = n };
	return e;
}

static void test_validate__utf8_edges(void **state)
{
	(void)state;
	assert_true(validate_utf8("", 0));
	assert_true(validate_utf8("Thiếu kinh phí", strlen("Thiếu kinh phí")));
	assert_true(validate_utf8("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
	assert_false(validate_utf8("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
	assert_false(validate_utf8("\xc0\xaf", 2));         /* overlong '/' */
	assert_false(validate_utf8("\xe0\x80\xaf", 3));     /* overlong */
	assert_false(validate_utf8("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(validate_utf8("\xe1\xba", 2));         /* cut short */
	assert_false(validate_utf8("\x80", 1));             /* lone continuation */
	assert_false(validate_utf8("a\0b", 3));             /* NUL */
	assert_false(validate_utf8("\xff", 1));
}

static void test_validate__dates_are_real_calendar_days(void **state)
{
	(void)state;
	assert_true(validate_date("2024-02-29"));
	assert_true(validate_date("2000-02-29"));
	assert_false(validate_date("1900-02-29"));
	assert_false(validate_date("2023-02-29"));
	assert_true(validate_date("2021-12-31"));
	assert_false(validate_date("2021-04-31"));
	assert_false(validate_date("2021-13-01"));
	assert_false(validate_date("2021-00-10"));
	assert_false(validate_date("0000-01-01"));
	assert_false(validate_date("2021-1-01"));
	assert_false(validate_date("2021-01-01 "));
	assert_false(validate_date("2021/01/01"));
	assert_false(validate_date("+021-01-01"));
	assert_false(validate_date(NULL));
}

static void test_validate__each_value_rule_has_its_code(void **state)
{
	(void)state;
	const struct schema_table *m = schema_table_find("meeting", 1);
	assert_non_null(m);
	struct {
		const char *col;
		struct value v;
		enum validate_code want;
	} cases[] = {
		{ "attendees", INTV(0), VALIDATE_OK },
		{ "attendees", INTV(100000), VALIDATE_OK },
		{ "attendees", INTV(100001), VALIDATE_BAD_RANGE },
		{ "attendees", INTV(-1), VALIDATE_BAD_RANGE },
		{ "attendees", TXT("3"), VALIDATE_BAD_TYPE },
		{ "attendees", { .kind = VALUE_REAL, .r = 3.0 }, VALIDATE_BAD_TYPE },
		{ "attendees", NUL, VALIDATE_OK },
		{ "commune_secretary_attended", INTV(1), VALIDATE_OK },
		{ "commune_secretary_attended", INTV(2), VALIDATE_BAD_RANGE },
		{ "commune_secretary_attended", { .kind = VALUE_BOOL, .i = 1 }, VALIDATE_BAD_TYPE },
		{ "kind", TXT("joint"), VALIDATE_OK },
		{ "kind", TXT("Joint"), VALIDATE_BAD_ENUM },
		{ "kind", NUL, VALIDATE_REQUIRED },
		{ "held_on", TXT("2021-02-29"), VALIDATE_BAD_DATE },
		{ "held_on", INTV(20210228), VALIDATE_BAD_TYPE },
		{ "host_branch_id", TXT(BRANCH), VALIDATE_OK },
		{ "host_branch_id", TXT("0190F3B1-1111-7222-8333-444455556666"), VALIDATE_BAD_ID },
		{ "concerns", { .kind = VALUE_COMPOUND, .s = "[]", .len = 2 }, VALIDATE_BAD_TYPE },
		{ "concerns", { .kind = VALUE_TEXT, .s = "\xc3\x28", .len = 2 }, VALIDATE_BAD_TYPE },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct validate_status st;
		const struct schema_column *c = schema_column_find(m, cases[i].col, 1);
		assert_non_null(c);
		enum validate_code got = validate_value(c, &cases[i].v, 1, &st);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %s, want %s", i, cases[i].col,
				 validate_code_str(got), validate_code_str(cases[i].want));
		if (got)
			assert_string_equal(st.field, cases[i].col);
	}
}

static void test_validate__text_longer_than_its_maximum_is_too_long(void **state)
{
	(void)state;
	const struct schema_column *c = schema_column_find(schema_table_find("person", 1), "phone", 1);
	char buf[40];
	memset(buf, '9', sizeof buf);
	struct value v = { .kind = VALUE_TEXT, .s = buf, .len = (size_t)c->max_len };
	buf[c->max_len] = '\0';
	assert_int_equal(validate_value(c, &v, 1, NULL), VALIDATE_OK);
	buf[c->max_len] = '9';
	buf[c->max_len + 1] = '\0';
	v.len++;
	assert_int_equal(validate_value(c, &v, 1, NULL), VALIDATE_TOO_LONG);
}

static const struct schema_enum_value scale[] = {
	{ "old", "Cũ", 0, 1, 2 }, /* retired from schema 2 */
	{ "new", "Mới", 0, 2, 0 }, /* appeared in schema 2 */
	{ NULL, NULL, 0, 0, 0 },
};

static void test_validate__retired_enum_values_stay_valid_under_their_versions(void **state)
{
	(void)state;
	struct schema_column c = { "grade", SCHEMA_ENUM, 0, 0, 0, 0, scale, NULL, "Hạng", 1 };
	struct value old = TXT("old"), nw = TXT("new");
	assert_int_equal(validate_value(&c, &old, 1, NULL), VALIDATE_OK);
	assert_int_equal(validate_value(&c, &old, 2, NULL), VALIDATE_BAD_ENUM);
	assert_int_equal(validate_value(&c, &nw, 1, NULL), VALIDATE_BAD_ENUM);
	assert_int_equal(validate_value(&c, &nw, 2, NULL), VALIDATE_OK);
}

static void test_validate__unknown_names_make_the_change_unreadable(void **state)
{
	(void)state;
	struct validate_status st;
	struct field f[] = { { "attendees", INTV(1) } };
	struct entry e = upd("no_table", f, 1);
	assert_int_equal(validate_names(&e, 1, &st), VALIDATE_UNKNOWN_TABLE);
	e = upd("meeting", f, 1);
	assert_int_equal(validate_names(&e, 1, &st), VALIDATE_OK);
	f[0].name = "id";
	assert_int_equal(validate_names(&e, 1, &st), VALIDATE_UNKNOWN_COLUMN);
	f[0].name = "unit_id";
	assert_int_equal(validate_names(&e, 1, &st), VALIDATE_UNKNOWN_COLUMN);
	f[0].name = "attendees; DROP TABLE meeting";
	assert_int_equal(validate_names(&e, 1, &st), VALIDATE_UNKNOWN_COLUMN);
	assert_int_equal(validate_names(&e, 0, &st), VALIDATE_UNKNOWN_TABLE); /* no schema 0 */
	struct entry s = { .seq = 3, .skipped = 1 };
	assert_int_equal(validate_names(&s, 1, &st), VALIDATE_OK);
	assert_int_equal(validate_entry(&s, 1, 0, &st), VALIDATE_OK);
}

static void test_validate__insert_needs_every_column_and_required_values(void **state)
{
	(void)state;
	struct validate_status st;
	struct field f[] = {
		{ "full_name", TXT("Nguyễn Văn A") }, { "birth_year", INTV(1999) },
		{ "gender", TXT("nam") }, { "phone", NUL },
	};
	struct entry e = upd("person", f, 4);
	e.op = 'i';
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_OK);
	e.nfields = 3; /* phone missing */
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_REQUIRED);
	assert_string_equal(st.field, "phone");
	e.nfields = 4;
	f[0].v = (struct value)NUL;
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_REQUIRED);
	assert_string_equal(st.field, "full_name");
	assert_string_equal(st.table, "person");
	e.op = 'u'; /* an update may not set a required column to null either */
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_REQUIRED);
}

static void test_validate__ids_ops_and_hub_only_tables(void **state)
{
	(void)state;
	struct validate_status st;
	struct field f[] = { { "attendees", INTV(3) } };
	struct entry e = upd("meeting", f, 1);
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_OK);
	e.id = "row-1";
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_BAD_ID);
	assert_string_equal(st.field, "id");
	e.id = ROW;
	e.owner = "c1";
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_BAD_ID);
	assert_string_equal(st.field, "unit_id");
	e.owner = UNIT;
	e.op = 'x';
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_BAD_OP);
	e.op = 'd';
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_BAD_OP); /* delete with fields */
	e.nfields = 0;
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_OK);
	struct entry ev = upd("unit_event", NULL, 0);
	assert_int_equal(validate_entry(&ev, 1, 0, &st), VALIDATE_HUB_ONLY);
	assert_int_equal(validate_entry(&ev, 1, 1, &st), VALIDATE_OK);
}

static void test_validate__natural_id_is_uuid5_of_the_key_in_declared_order(void **state)
{
	(void)state;
	char id[37];
	const struct schema_table *p = schema_table_find("party", 1);
	struct field f[] = { { "step", TXT("admitted") }, { "unit_id", TXT(UNIT) },
			     { "person_id", TXT(PERSON) } };
	assert_int_equal(validate_natural_id(p, f, 3, id), 0);
	assert_string_equal(id, "455fc987-497c-5f52-b678-2e06550f00ec");
	assert_int_equal(validate_natural_id(p, f, 2, id), -1); /* person_id missing */
	const struct schema_table *y = schema_table_find("year_record", 1);
	struct field g[] = { { "unit_id", TXT(UNIT) }, { "year", INTV(2024) } };
	assert_int_equal(validate_natural_id(y, g, 2, id), 0);
	assert_string_equal(id, "e0c17ba5-5aa9-56b8-b3e5-8f9c90cda591");
	assert_int_equal(validate_natural_id(schema_table_find("meeting", 1), g, 2, id), -1);
}

static void test_validate__natural_key_rows_check_id_and_refuse_key_updates(void **state)
{
	(void)state;
	struct validate_status st;
	struct field f[] = { { "meeting_id", TXT(ROW) }, { "branch_id", TXT(BRANCH) } };
	struct entry e = upd("meeting_branch", f, 2);
	e.op = 'i';
	e.id = "52eb05e3-785a-5536-8843-8d224565b082";
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_OK);
	e.id = ROW;
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_KEY_CHANGED);
	assert_string_equal(st.field, "id");
	e.op = 'u';
	e.nfields = 1;
	assert_int_equal(validate_entry(&e, 1, 0, &st), VALIDATE_KEY_CHANGED);
	assert_string_equal(st.field, "meeting_id");
}

static void test_validate__codes_are_the_protocol_strings(void **state)
{
	(void)state;
	assert_string_equal(validate_code_str(VALIDATE_BAD_TYPE), "bad_type");
	assert_string_equal(validate_code_str(VALIDATE_BAD_ENUM), "bad_enum");
	assert_string_equal(validate_code_str(VALIDATE_BAD_RANGE), "bad_range");
	assert_string_equal(validate_code_str(VALIDATE_TOO_LONG), "too_long");
	assert_string_equal(validate_code_str(VALIDATE_BAD_DATE), "bad_date");
	assert_string_equal(validate_code_str(VALIDATE_BAD_ID), "bad_id");
	assert_string_equal(validate_code_str(VALIDATE_REQUIRED), "required");
	assert_string_equal(validate_code_str(VALIDATE_OUT_OF_SCOPE), "out_of_scope");
	assert_string_equal(validate_code_str(VALIDATE_OWNER_CHANGED), "owner_changed");
	assert_string_equal(validate_code_str(VALIDATE_KEY_CHANGED), "key_changed");
	assert_string_equal(validate_code_str(VALIDATE_HUB_ONLY), "hub_only");
	for (int a = 0; a <= VALIDATE_BAD_OP; a++)
		for (int b = a + 1; b <= VALIDATE_BAD_OP; b++)
			assert_string_not_equal(validate_code_str((enum validate_code)a),
						validate_code_str((enum validate_code)b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate__utf8_edges),
		cmocka_unit_test(test_validate__dates_are_real_calendar_days),
		cmocka_unit_test(test_validate__each_value_rule_has_its_code),
		cmocka_unit_test(test_validate__text_longer_than_its_maximum_is_too_long),
		cmocka_unit_test(test_validate__retired_enum_values_stay_valid_under_their_versions),
		cmocka_unit_test(test_validate__unknown_names_make_the_change_unreadable),
		cmocka_unit_test(test_validate__insert_needs_every_column_and_required_values),
		cmocka_unit_test(test_validate__ids_ops_and_hub_only_tables),
		cmocka_unit_test(test_validate__natural_id_is_uuid5_of_the_key_in_declared_order),
		cmocka_unit_test(test_validate__natural_key_rows_check_id_and_refuse_key_updates),
		cmocka_unit_test(test_validate__codes_are_the_protocol_strings),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
