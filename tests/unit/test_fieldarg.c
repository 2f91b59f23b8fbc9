/*
 * test_fieldarg.c — the "field=value" syntax shared by the agent's and the hub's
 * command lines (protocol/fieldarg.h): how an argument is split and refused, and how a
 * value's text becomes a typed, validated value, on the tables of schema 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fieldarg.h"

#define MAX_COLUMNS 32

static const struct schema_table *table(const char *name)
{
	const struct schema_table *t = schema_table_find(name, SCHEMA_VERSION);
	assert_non_null(t);
	assert_true(t->ncolumns <= MAX_COLUMNS);
	return t;
}

static const struct schema_column *column(const char *tname, const char *cname)
{
	const struct schema_column *c = schema_column_find(table(tname), cname, SCHEMA_VERSION);
	assert_non_null(c);
	return c;
}

static void test_fieldarg__value_is_everything_after_the_first_equals(void **state)
{
	(void)state;
	const struct schema_table *t = table("person");
	const char *text[MAX_COLUMNS] = { 0 };
	struct fieldarg_status st;
	const char *arg = "full_name=a=b";
	assert_int_equal(fieldarg_put(t, arg, 0, text, &st), FIELDARG_OK);
	assert_int_equal(st.code, FIELDARG_OK);
	assert_string_equal(st.name, "full_name");
	assert_ptr_equal(st.column, column("person", "full_name"));
	size_t i = schema_column_index(t, st.column);
	assert_ptr_equal(text[i], arg + strlen("full_name="));
	assert_string_equal(text[i], "a=b");
	assert_int_equal(fieldarg_put(t, "phone=", 0, text, NULL), FIELDARG_OK);
	assert_string_equal(text[schema_column_index(t, column("person", "phone"))], "");
}

static void test_fieldarg__each_refusal_has_its_code_and_leaves_text_alone(void **state)
{
	(void)state;
	const struct schema_table *t = table("person");
	const char *text[MAX_COLUMNS] = { 0 };
	const char *before[MAX_COLUMNS];
	struct fieldarg_status st;
	char long_name[FIELDARG_NAME_MAX + 8];
	memset(long_name, 'a', FIELDARG_NAME_MAX);
	memcpy(long_name + FIELDARG_NAME_MAX, "=x", 3);

	assert_int_equal(fieldarg_put(t, "full_name=An", 0, text, NULL), FIELDARG_OK);
	memcpy(before, text, sizeof before);
	assert_int_equal(fieldarg_put(t, "full_name", 0, text, &st), FIELDARG_NOT_FIELD_VALUE);
	assert_string_equal(st.name, "");
	assert_int_equal(fieldarg_put(t, "=x", 0, text, &st), FIELDARG_NOT_FIELD_VALUE);
	assert_int_equal(fieldarg_put(t, long_name, 0, text, &st), FIELDARG_NAME_TOO_LONG);
	assert_string_equal(st.name, "");
	assert_null(st.column);
	assert_int_equal(fieldarg_put(t, "nickname=x", 0, text, &st), FIELDARG_UNKNOWN_FIELD);
	assert_int_equal(st.code, FIELDARG_UNKNOWN_FIELD);
	assert_string_equal(st.name, "nickname");
	assert_null(st.column);
	assert_int_equal(fieldarg_put(t, "id=x", 0, text, &st), FIELDARG_ID_NOT_FIELD);
	assert_string_equal(st.name, "id");
	assert_int_equal(fieldarg_put(t, "full_name=Bình", 0, text, &st), FIELDARG_DUPLICATE);
	assert_string_equal(st.name, "full_name");
	assert_memory_equal(before, text, sizeof before);
	/* a name one byte shorter than the limit is looked up, not refused unread */
	long_name[FIELDARG_NAME_MAX - 1] = '=';
	assert_int_equal(fieldarg_put(t, long_name, 0, text, &st), FIELDARG_UNKNOWN_FIELD);
}

static void test_fieldarg__id_is_a_field_only_when_allowed(void **state)
{
	(void)state;
	const struct schema_table *t = table("person");
	const char *text[MAX_COLUMNS] = { 0 };
	assert_int_equal(fieldarg_put(t, "id=0190f3b2-2b3c-7d4e-9f60-718293a4b5c6", 1, text, NULL),
			 FIELDARG_OK);
	assert_string_equal(text[0], "0190f3b2-2b3c-7d4e-9f60-718293a4b5c6");
	assert_int_equal(fieldarg_put(t, "unit_id=x", 0, text, NULL), FIELDARG_OK);
	assert_string_equal(text[1], "x");
}

static void test_fieldarg__empty_text_is_null(void **state)
{
	(void)state;
	struct value v;
	assert_int_equal(fieldarg_value(column("person", "phone"), "", &v), VALIDATE_OK);
	assert_int_equal(v.kind, VALUE_NULL);
	assert_int_equal(fieldarg_value(column("person", "birth_year"), NULL, &v), VALIDATE_OK);
	assert_int_equal(v.kind, VALUE_NULL);
	/* validate_value decides whether the column may be null */
	assert_int_equal(fieldarg_value(column("person", "full_name"), "", &v), VALIDATE_REQUIRED);
	assert_int_equal(v.kind, VALUE_NULL);
}

static void test_fieldarg__booleans_take_numbers_and_words(void **state)
{
	(void)state;
	const struct schema_column *c = column("meeting", "commune_secretary_attended");
	static const struct {
		const char *text;
		enum validate_code code;
		int64_t i;
	} cases[] = { { "có", VALIDATE_OK, 1 },	  { "true", VALIDATE_OK, 1 }, { "1", VALIDATE_OK, 1 },
		      { "không", VALIDATE_OK, 0 }, { "false", VALIDATE_OK, 0 }, { "0", VALIDATE_OK, 0 },
		      { "yes", VALIDATE_BAD_TYPE, 0 }, { "True", VALIDATE_BAD_TYPE, 0 } };
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct value v;
		assert_int_equal(fieldarg_value(c, cases[k].text, &v), cases[k].code);
		if (cases[k].code == VALIDATE_OK) {
			assert_int_equal(v.kind, VALUE_INT);
			assert_int_equal(v.i, cases[k].i);
		} else {
			assert_int_equal(v.kind, VALUE_NULL);
		}
	}
}

static void test_fieldarg__integers_are_strict_decimal(void **state)
{
	(void)state;
	const struct schema_column *c = column("person", "birth_year");
	struct value v;
	assert_int_equal(fieldarg_value(c, "1990", &v), VALIDATE_OK);
	assert_int_equal(v.kind, VALUE_INT);
	assert_int_equal(v.i, 1990);
	assert_int_equal(fieldarg_value(c, "1990x", &v), VALIDATE_BAD_TYPE);
	assert_int_equal(v.kind, VALUE_NULL);
	assert_int_equal(fieldarg_value(c, "0x7c6", &v), VALIDATE_BAD_TYPE);
	assert_int_equal(fieldarg_value(c, "-", &v), VALIDATE_BAD_TYPE);
	assert_int_equal(fieldarg_value(c, "19.5", &v), VALIDATE_BAD_TYPE);
	/* beyond 64 bits: a range error, and no value */
	assert_int_equal(fieldarg_value(c, "99999999999999999999", &v), VALIDATE_BAD_RANGE);
	assert_int_equal(v.kind, VALUE_NULL);
	assert_int_equal(fieldarg_value(c, "-99999999999999999999x", &v), VALIDATE_BAD_TYPE);
	/* a number outside the column's range: refused, yet parsed */
	assert_int_equal(fieldarg_value(c, "1800", &v), VALIDATE_BAD_RANGE);
	assert_int_equal(v.kind, VALUE_INT);
	assert_int_equal(v.i, 1800);
}

static void test_fieldarg__text_columns_are_validated_as_given(void **state)
{
	(void)state;
	struct value v;
	const char *name = "Nguyễn Văn An";
	assert_int_equal(fieldarg_value(column("person", "full_name"), name, &v), VALIDATE_OK);
	assert_int_equal(v.kind, VALUE_TEXT);
	assert_ptr_equal(v.s, name);
	assert_int_equal(v.len, strlen(name));
	assert_int_equal(fieldarg_value(column("person", "gender"), "nu", &v), VALIDATE_OK);
	assert_int_equal(fieldarg_value(column("person", "gender"), "Nữ", &v), VALIDATE_BAD_ENUM);
	assert_int_equal(fieldarg_value(column("role", "term_from"), "2023-02-29", &v), VALIDATE_BAD_DATE);
	assert_int_equal(fieldarg_value(column("role", "person_id"), "42", &v), VALIDATE_BAD_ID);
	assert_int_equal(fieldarg_value(column("person", "phone"), "012345678901234567890", &v),
			 VALIDATE_TOO_LONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fieldarg__value_is_everything_after_the_first_equals),
		cmocka_unit_test(test_fieldarg__each_refusal_has_its_code_and_leaves_text_alone),
		cmocka_unit_test(test_fieldarg__id_is_a_field_only_when_allowed),
		cmocka_unit_test(test_fieldarg__empty_text_is_null),
		cmocka_unit_test(test_fieldarg__booleans_take_numbers_and_words),
		cmocka_unit_test(test_fieldarg__integers_are_strict_decimal),
		cmocka_unit_test(test_fieldarg__text_columns_are_validated_as_given),
	};
	return cmocka_run_group_tests_name("fieldarg", tests, NULL, NULL);
}
