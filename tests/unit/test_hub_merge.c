/*
 * test_hub_merge.c — the merge rules of hub/merge/merge.h on one row, without storage:
 * field-level last-writer-wins, ties by writer, deletes and re-inserts in any order,
 * updates never reviving, and the compact field-clock encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "schema.h"

#define ROW "0190f3b0-0000-7000-8000-000000000001"
#define OWNER "0190f3a2-0000-7000-8000-0000000000c1"
#define WA "0190f3a2-0000-7000-8000-00000000000a"
#define WB "0190f3a2-0000-7000-8000-00000000000b"

static const struct schema_table *person(void)
{
	return schema_table_find("person", SCHEMA_VERSION);
}

static struct value txt(const char *s)
{
	struct value v = { .kind = VALUE_TEXT, .s = s, .len = strlen(s) };
	return v;
}

static struct value num(int64_t i)
{
	struct value v = { .kind = VALUE_INT, .i = i };
	return v;
}

static struct value nul(void)
{
	struct value v = { .kind = VALUE_NULL };
	return v;
}

static struct entry mk(char op, uint64_t clock, struct field *f, size_t n)
{
	struct entry e = { .seq = 1, .table = "person", .id = ROW, .op = op, .owner = OWNER,
			   .clock = clock, .fields = f, .nfields = n };
	return e;
}

static void apply(struct merge_row *r, char op, uint64_t clock, const char *writer,
		  struct field *f, size_t n)
{
	struct entry e = mk(op, clock, f, n);
	int changed;
	assert_int_equal(merge_apply(r, &e, writer, &changed), 0);
}

static void insert_full(struct merge_row *r, uint64_t clock, const char *writer, const char *name)
{
	struct field f[] = { { "full_name", txt(name) }, { "birth_year", num(1990) },
			     { "gender", txt("nam") }, { "phone", nul() } };
	apply(r, 'i', clock, writer, f, 4);
}

static size_t col(const char *name)
{
	return schema_column_index(person(), schema_column_find(person(), name, SCHEMA_VERSION));
}

/* A whole-state text for comparisons: values, clocks, writers, existence. */
static char *state(const struct merge_row *r)
{
	char *out = malloc(4096);
	size_t n = 0;
	n += (size_t)snprintf(out + n, 4096 - n, "%s|%llu,%s|%llu,%s", r->owner,
			      (unsigned long long)r->ins_clock, r->ins_writer,
			      (unsigned long long)r->del_clock, r->del_writer);
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		const struct merge_cell *c = &r->cells[i];
		n += (size_t)snprintf(out + n, 4096 - n, "|%s=", r->t->columns[i].name);
		if (c->v.kind == VALUE_TEXT)
			n += (size_t)snprintf(out + n, 4096 - n, "s:%s", c->v.s);
		else if (c->v.kind == VALUE_INT)
			n += (size_t)snprintf(out + n, 4096 - n, "i:%lld", (long long)c->v.i);
		else
			n += (size_t)snprintf(out + n, 4096 - n, "null");
		n += (size_t)snprintf(out + n, 4096 - n, "@%llu,%s", (unsigned long long)c->clock, c->writer);
	}
	return out;
}

static void test_hub_merge__two_edits_to_different_fields_both_survive(void **st)
{
	(void)st;
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	insert_full(&r, 100, WA, "An");
	struct field f1[] = { { "phone", txt("0901") } };
	struct field f2[] = { { "birth_year", num(1991) } };
	apply(&r, 'u', 300, WB, f2, 1); /* later edit arrives first */
	apply(&r, 'u', 200, WA, f1, 1);
	assert_string_equal(r.cells[col("phone")].v.s, "0901");
	assert_int_equal(r.cells[col("birth_year")].v.i, 1991);
	assert_string_equal(r.cells[col("full_name")].v.s, "An");
	assert_true(merge_row_exists(&r));
	merge_row_release(&r);
}

static void test_hub_merge__equal_clocks_are_broken_by_the_greater_writer_id(void **st)
{
	(void)st;
	for (int order = 0; order < 2; order++) {
		struct merge_row r;
		assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
		insert_full(&r, 100, WA, "An");
		struct field fa[] = { { "phone", txt("A") } };
		struct field fb[] = { { "phone", txt("B") } };
		if (order) {
			apply(&r, 'u', 500, WA, fa, 1);
			apply(&r, 'u', 500, WB, fb, 1);
		} else {
			apply(&r, 'u', 500, WB, fb, 1);
			apply(&r, 'u', 500, WA, fa, 1);
		}
		assert_string_equal(r.cells[col("phone")].v.s, "B");
		assert_string_equal(r.cells[col("phone")].writer, WB);
		merge_row_release(&r);
	}
}

static void test_hub_merge__older_update_never_revives_a_delete(void **st)
{
	(void)st;
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	insert_full(&r, 100, WA, "An");
	apply(&r, 'd', 200, WA, NULL, 0);
	struct field f[] = { { "phone", txt("0901") } };
	apply(&r, 'u', 150, WB, f, 1);
	assert_false(merge_row_exists(&r));
	/* the change still merges into the tombstone, hidden */
	assert_string_equal(r.cells[col("phone")].v.s, "0901");
	merge_row_release(&r);
}

static void test_hub_merge__newer_update_never_revives_a_delete_either(void **st)
{
	(void)st;
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	insert_full(&r, 100, WA, "An");
	apply(&r, 'd', 200, WA, NULL, 0);
	struct field f[] = { { "full_name", txt("Bình") } };
	apply(&r, 'u', 900, WB, f, 1);
	assert_false(merge_row_exists(&r));
	merge_row_release(&r);
}

static void test_hub_merge__delete_and_reinsert_in_any_order_give_one_state(void **st)
{
	(void)st;
	/* insert@100, update@150, delete@200, re-insert@300 (NULL phone), update@250 */
	char *first = NULL;
	static const int perms[][5] = { { 0, 1, 2, 3, 4 }, { 4, 3, 2, 1, 0 }, { 2, 0, 4, 3, 1 },
					{ 3, 2, 1, 4, 0 }, { 1, 4, 0, 2, 3 } };
	for (size_t p = 0; p < sizeof perms / sizeof perms[0]; p++) {
		struct merge_row r;
		assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
		for (int k = 0; k < 5; k++) {
			struct field up[] = { { "phone", txt("0901") } };
			struct field up2[] = { { "birth_year", num(2001) } };
			switch (perms[p][k]) {
			case 0: insert_full(&r, 100, WA, "An"); break;
			case 1: apply(&r, 'u', 150, WA, up, 1); break;
			case 2: apply(&r, 'd', 200, WB, NULL, 0); break;
			case 3: insert_full(&r, 300, WB, "An lại"); break;
			case 4: apply(&r, 'u', 250, WA, up2, 1); break;
			}
		}
		char *s = state(&r);
		if (!first)
			first = s;
		else {
			assert_string_equal(first, s);
			free(s);
		}
		assert_true(merge_row_exists(&r));
		assert_string_equal(r.cells[col("full_name")].v.s, "An lại");
		/* the re-insert set phone to NULL at 300, beating the update at 150 */
		assert_int_equal(r.cells[col("phone")].v.kind, VALUE_NULL);
		merge_row_release(&r);
	}
	free(first);
}

static void test_hub_merge__update_before_insert_is_hidden_until_the_insert(void **st)
{
	(void)st;
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	struct field f[] = { { "phone", txt("0901") } };
	apply(&r, 'u', 200, WA, f, 1);
	assert_false(merge_row_inserted(&r));
	assert_false(merge_row_exists(&r));
	insert_full(&r, 100, WA, "An");
	assert_true(merge_row_exists(&r));
	assert_string_equal(r.cells[col("phone")].v.s, "0901");
	merge_row_release(&r);
}

static void test_hub_merge__insert_sets_every_column_including_nulls(void **st)
{
	(void)st;
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	struct field f[] = { { "full_name", txt("An") } }; /* others missing: NULL */
	apply(&r, 'i', 100, WA, f, 1);
	for (size_t i = 2; i < r.t->ncolumns; i++) {
		assert_int_equal(r.cells[i].clock, 100);
		assert_string_equal(r.cells[i].writer, WA);
	}
	assert_int_equal(r.cells[col("phone")].v.kind, VALUE_NULL);
	merge_row_release(&r);
}

static void test_hub_merge__field_clocks_round_trip_through_the_compact_encoding(void **st)
{
	(void)st;
	struct merge_row r, back;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	insert_full(&r, 100, WA, "An");
	struct field f[] = { { "phone", txt("0901") } };
	apply(&r, 'u', 700, WB, f, 1);
	char *fc = merge_fc_encode(&r);
	assert_non_null(fc);
	uint64_t rc;
	char rw[MERGE_WRITER_MAX];
	merge_row_clock(&r, &rc, rw);
	assert_int_equal(rc, 700);
	assert_string_equal(rw, WB);
	/* only the columns that differ from the row clock are listed */
	assert_non_null(strstr(fc, "\"full_name\":[100,\"" WA "\"]"));
	assert_null(strstr(fc, "phone"));
	assert_int_equal(merge_row_init(&back, person(), ROW, OWNER), 0);
	assert_int_equal(merge_fc_decode(&back, rc, rw, fc), 0);
	for (size_t i = 2; i < r.t->ncolumns; i++) {
		assert_int_equal(back.cells[i].clock, r.cells[i].clock);
		assert_string_equal(back.cells[i].writer, r.cells[i].writer);
	}
	assert_int_not_equal(merge_fc_decode(&back, rc, rw, "{\"nope\":[1,\"x\"]}"), 0);
	assert_int_not_equal(merge_fc_decode(&back, rc, rw, "{\"phone\":[1,"), 0);
	free(fc);
	merge_row_release(&r);
	merge_row_release(&back);
}

static void test_hub_merge__a_later_delete_wins_over_an_earlier_insert_and_ties_by_writer(void **st)
{
	(void)st;
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, person(), ROW, OWNER), 0);
	insert_full(&r, 100, WA, "An");
	apply(&r, 'd', 100, WB, NULL, 0); /* same clock, greater writer: delete wins */
	assert_false(merge_row_exists(&r));
	insert_full(&r, 100, WB, "An"); /* equal stamps: insert is not greater */
	assert_false(merge_row_exists(&r));
	insert_full(&r, 101, WA, "An");
	assert_true(merge_row_exists(&r));
	merge_row_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hub_merge__two_edits_to_different_fields_both_survive),
		cmocka_unit_test(test_hub_merge__equal_clocks_are_broken_by_the_greater_writer_id),
		cmocka_unit_test(test_hub_merge__older_update_never_revives_a_delete),
		cmocka_unit_test(test_hub_merge__newer_update_never_revives_a_delete_either),
		cmocka_unit_test(test_hub_merge__delete_and_reinsert_in_any_order_give_one_state),
		cmocka_unit_test(test_hub_merge__update_before_insert_is_hidden_until_the_insert),
		cmocka_unit_test(test_hub_merge__insert_sets_every_column_including_nulls),
		cmocka_unit_test(test_hub_merge__field_clocks_round_trip_through_the_compact_encoding),
		cmocka_unit_test(test_hub_merge__a_later_delete_wins_over_an_earlier_insert_and_ties_by_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
