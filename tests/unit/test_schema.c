/*
 * test_schema.c — the invariants the generators rely on in schema.c: id and unit_id
 * first, names that are safe SQL identifiers and unique, references only to earlier
 * tables (or the table itself), natural keys that include the owning unit, sane
 * limits, and lookups that refuse what is not in the asked version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "schema.h"

static int sql_safe(const char *s)
{
	if (!s || !*s || strlen(s) > 40)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' || (p != s && *p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

static void test_schema__every_table_starts_with_id_and_owning_unit(void **state)
{
	(void)state;
	assert_true(schema_ntables > 0);
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		assert_true(t->ncolumns >= 3);
		assert_string_equal(t->columns[0].name, "id");
		assert_true(t->columns[0].flags & SCHEMA_ID);
		assert_string_equal(t->columns[1].name, "unit_id");
		assert_true(t->columns[1].flags & SCHEMA_OWNER);
		assert_string_equal(t->columns[1].ref_table, "unit");
		for (size_t k = 2; k < t->ncolumns; k++)
			assert_false(t->columns[k].flags & (SCHEMA_ID | SCHEMA_OWNER));
	}
}

static void test_schema__names_are_unique_sql_identifiers(void **state)
{
	(void)state;
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		assert_true(sql_safe(t->name));
		for (size_t j = i + 1; j < schema_ntables; j++)
			assert_string_not_equal(t->name, schema_tables[j].name);
		for (size_t k = 0; k < t->ncolumns; k++) {
			assert_true(sql_safe(t->columns[k].name));
			for (size_t m = k + 1; m < t->ncolumns; m++)
				assert_string_not_equal(t->columns[k].name, t->columns[m].name);
		}
	}
}

static void test_schema__references_point_to_earlier_tables_or_itself(void **state)
{
	(void)state;
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		for (size_t k = 1; k < t->ncolumns; k++) {
			const struct schema_column *c = &t->columns[k];
			if (c->type != SCHEMA_REF)
				continue;
			const struct schema_table *r = schema_table_find(c->ref_table, 1);
			assert_non_null(r);
			assert_true(r <= t);
		}
	}
}

static void test_schema__natural_keys_include_the_owning_unit(void **state)
{
	(void)state;
	int keyed = 0;
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		if (!schema_table_has_key(t))
			continue;
		keyed++;
		assert_true(t->columns[1].flags & SCHEMA_KEY);
		for (size_t k = 0; k < t->ncolumns; k++)
			if (t->columns[k].flags & SCHEMA_KEY)
				assert_true(t->columns[k].flags & SCHEMA_REQUIRED);
	}
	assert_int_equal(keyed, 4); /* party, meeting_branch, volunteer_branch, year_record */
}

static void test_schema__limits_and_enumerations_are_sane(void **state)
{
	(void)state;
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		for (size_t k = 0; k < t->ncolumns; k++) {
			const struct schema_column *c = &t->columns[k];
			assert_true(c->since >= 1 && c->since <= SCHEMA_VERSION);
			assert_non_null(c->label_vi);
			if (c->type == SCHEMA_TEXT)
				assert_true(c->max_len > 0 && c->max_len <= 2000);
			if (c->type == SCHEMA_INT || c->type == SCHEMA_BOOL)
				assert_true(c->min <= c->max);
			if (c->type == SCHEMA_ENUM) {
				assert_non_null(c->enum_values);
				assert_non_null(c->enum_values[0].code);
				for (const struct schema_enum_value *v = c->enum_values; v->code; v++) {
					assert_true(sql_safe(v->code)); /* ASCII codes */
					assert_ptr_equal(schema_enum_find(c, v->code), v);
				}
			}
		}
	}
}

static void test_schema__lookups_refuse_unknown_names_and_versions(void **state)
{
	(void)state;
	const struct schema_table *m = schema_table_find("meeting", SCHEMA_VERSION);
	assert_non_null(m);
	assert_null(schema_table_find("meeting", 0));
	assert_null(schema_table_find("Meeting", SCHEMA_VERSION));
	assert_null(schema_table_find("meeting ", SCHEMA_VERSION));
	assert_null(schema_table_find(NULL, SCHEMA_VERSION));
	const struct schema_column *c = schema_column_find(m, "attendees", SCHEMA_VERSION);
	assert_non_null(c);
	assert_int_equal(schema_column_index(m, c), 6);
	assert_null(schema_column_find(m, "attendees", 0));
	assert_null(schema_column_find(m, "nope", SCHEMA_VERSION));
	assert_null(schema_enum_find(c, "x")); /* not an enum column */
	assert_null(schema_enum_find(schema_column_find(m, "kind", 1), "picnic"));
	assert_true(schema_table_find("unit_event", 1)->hub_only);
	assert_false(m->hub_only);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema__every_table_starts_with_id_and_owning_unit),
		cmocka_unit_test(test_schema__names_are_unique_sql_identifiers),
		cmocka_unit_test(test_schema__references_point_to_earlier_tables_or_itself),
		cmocka_unit_test(test_schema__natural_keys_include_the_owning_unit),
		cmocka_unit_test(test_schema__limits_and_enumerations_are_sane),
		cmocka_unit_test(test_schema__lookups_refuse_unknown_names_and_versions),
	};
	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
