/*
 * test_hub_unittree.c — the unit tree as of a date (figures/unittree.c) on a small
 * province written straight into the hub's tables:
 *   P province; D1, D2 districts.
 *   D1: C1 (renamed "Xã An" → "Xã An Phú" on 2021-01-01), C2 merged into C1 on
 *       2021-07-01. C1: B1 (plus a deleted link moving it under D2), B9 closed with no
 *       successor on 2021-05-01. C2: B4 (relinked to C1 on 2021-07-01), B5 (left
 *       linked to C2).
 *   D2: C3 split on 2021-07-01 into C5 (recorded first) and C4 (takes code 10003).
 *       C5: B7; B10 merged into B7 on 2021-10-01.
 *   X1, X2: two units merged into each other (a recording mistake) under D2.
 *   GONE: a deleted unit row.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "figures_sqlite.h"
#include "unittree.h"

#define END ((const char *)"\x01")
#define NONE ((const char *)NULL) /* SQL NULL among the variadic values */

struct fixture {
	char dir[64];
	char path[96];
	sqlite3 *db;
	struct unittree *t;
	int64_t hs;
};

/* Inserts one row (deleted = 1: a tombstone) with column, value pairs ended by END. */
static void put(struct fixture *fx, int deleted, const char *table, const char *id, ...)
{
	char sql[2048], vals[512];
	const char *names[12], *values[12];
	int n = 0;
	va_list ap;
	va_start(ap, id);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (name == END)
			break;
		names[n] = name;
		values[n] = va_arg(ap, const char *);
		n++;
		assert_true(n < 12);
	}
	va_end(ap);
	size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\"(id, unit_id", table);
	size_t vlen = (size_t)snprintf(vals, sizeof vals, "?1, 'P'");
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", \"%s\"", names[i]);
		vlen += (size_t)snprintf(vals + vlen, sizeof vals - vlen, ", ?%d", i + 2);
	}
	snprintf(sql + len, sizeof sql - len,
		 ", _ins_clock, _ins_writer, _del_clock, _del_writer, _clock, _writer, _fc,"
		 " _hs, _recv_ms) VALUES (%s, 10, 'a', ?%d, ?%d, 1, 'w', '', ?%d, 0)",
		 vals, n + 2, n + 3, n + 4);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(fx->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(fx->db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++)
		if (values[i])
			sqlite3_bind_text(st, i + 2, values[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, n + 2, deleted ? 20 : 0);
	sqlite3_bind_text(st, n + 3, deleted ? "a" : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, n + 4, ++fx->hs);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("insert into %s: %s", table, sqlite3_errmsg(fx->db));
	sqlite3_finalize(st);
}

static void unit(struct fixture *fx, const char *id, const char *opened, const char *name,
		 const char *code, const char *kind, const char *parent)
{
	char nid[64], lid[64];
	put(fx, 0, "unit", id, "opened_on", opened, END);
	snprintf(nid, sizeof nid, "name-%s", id);
	put(fx, 0, "unit_name", nid, "of_unit", id, "name", name, "code", code, "kind", kind,
	    "valid_from", opened, END);
	if (parent) {
		snprintf(lid, sizeof lid, "link-%s", id);
		put(fx, 0, "unit_parent", lid, "of_unit", id, "parent_id", parent, "valid_from",
		    opened, END);
	}
}

static void event(struct fixture *fx, const char *id, const char *kind, const char *of,
		  const char *other, const char *on)
{
	put(fx, 0, "unit_event", id, "kind", kind, "of_unit", of, "other_unit", other,
	    "effective_on", on, END);
}

static void build_fixture(struct fixture *fx)
{
	unit(fx, "P", "2000-01-01", "Tỉnh Thử Nghiệm", "99", "province", NULL);
	unit(fx, "D1", "2000-01-01", "Huyện Một", "901", "district", "P");
	unit(fx, "D2", "2000-01-01", "Huyện Hai", "902", "district", "P");
	/* C1 renamed: its first name ends on 2020-12-31 */
	put(fx, 0, "unit", "C1", "opened_on", "2000-01-01", END);
	put(fx, 0, "unit_name", "name-C1a", "of_unit", "C1", "name", "Xã An", "code", "10001",
	    "kind", "commune", "valid_from", "2000-01-01", "valid_to", "2020-12-31", END);
	put(fx, 0, "unit_name", "name-C1b", "of_unit", "C1", "name", "Xã An Phú", "code",
	    "10001", "kind", "commune", "valid_from", "2021-01-01", END);
	put(fx, 0, "unit_parent", "link-C1", "of_unit", "C1", "parent_id", "D1", "valid_from",
	    "2000-01-01", END);
	unit(fx, "C2", "2000-01-01", "Xã Bình", "10002", "commune", "D1");
	unit(fx, "C3", "2000-01-01", "Xã Châu", "10003", "commune", "D2");
	unit(fx, "C4", "2021-07-01", "Xã Châu Bắc", "10003", "commune", "D2");
	unit(fx, "C5", "2021-07-01", "Xã Châu Nam", "10005", "commune", "D2");
	unit(fx, "B1", "2000-01-01", "Thôn 1", NULL, "branch", "C1");
	put(fx, 1, "unit_parent", "link-B1-gone", "of_unit", "B1", "parent_id", "D2",
	    "valid_from", "2021-01-01", END);
	unit(fx, "B9", "2000-01-01", "Thôn 9", NULL, "branch", "C1");
	/* B4: under C2, then under C1 (the reform wrote valid_to = the effective date) */
	put(fx, 0, "unit", "B4", "opened_on", "2000-01-01", END);
	put(fx, 0, "unit_name", "name-B4", "of_unit", "B4", "name", "Thôn 4", "kind", "branch",
	    "valid_from", "2000-01-01", END);
	put(fx, 0, "unit_parent", "link-B4a", "of_unit", "B4", "parent_id", "C2", "valid_from",
	    "2000-01-01", "valid_to", "2021-07-01", END);
	put(fx, 0, "unit_parent", "link-B4b", "of_unit", "B4", "parent_id", "C1", "valid_from",
	    "2021-07-01", END);
	unit(fx, "B5", "2000-01-01", "Thôn 5", NULL, "branch", "C2");
	unit(fx, "B7", "2000-01-01", "Thôn 7", NULL, "branch", "C5");
	unit(fx, "B10", "2000-01-01", "Thôn 10", NULL, "branch", "C5");
	unit(fx, "X1", "2000-01-01", "Lỗi 1", NULL, "branch", "D2");
	unit(fx, "X2", "2000-01-01", "Lỗi 2", NULL, "branch", "D2");
	put(fx, 1, "unit", "GONE", "opened_on", "2000-01-01", END);
	event(fx, "e1", "merge", "C2", "C1", "2021-07-01");
	event(fx, "e2", "split", "C3", "C5", "2021-07-01");
	event(fx, "e3", "split", "C3", "C4", "2021-07-01");
	event(fx, "e4", "close", "B9", NULL, "2021-05-01");
	event(fx, "e5", "merge", "B10", "B7", "2021-10-01");
	event(fx, "e6", "merge", "X1", "X2", "2021-01-01");
	event(fx, "e7", "merge", "X2", "X1", "2021-01-01");
	event(fx, "e8", "rename", "C1", NULL, "2021-01-01");
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	char err[256];
	struct store *s = NULL;
	assert_non_null(fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/lk-unittree-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/hub.db", fx->dir);
	if (store_sqlite_open(fx->path, 1, &s, err, sizeof err) != 0)
		fail_msg("store: %s", err);
	s->close(s);
	assert_int_equal(sqlite3_open(fx->path, &fx->db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(fx->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	build_fixture(fx);
	assert_int_equal(sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	if (figures_sqlite_load_tree(fx->db, FIGURES_SQLITE_HUB, &fx->t, err, sizeof err) != 0)
		fail_msg("load: %s", err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char p[128];
	unittree_free(fx->t);
	sqlite3_close(fx->db);
	static const char *const files[] = { "hub.db", "hub.db-wal", "hub.db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", fx->dir, files[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

#define T(state) (((struct fixture *)*(state))->t)

static void test_unittree__deleted_rows_are_not_part_of_the_tree(void **state)
{
	assert_int_equal(unittree_index(T(state), "GONE"), -1);
	assert_null(unittree_intern(T(state), "GONE"));
	/* the deleted link to D2 does not move B1 */
	assert_string_equal(unittree_parent_of(T(state), "B1", "2021-06-01"), "C1");
	assert_int_equal(unittree_count(T(state)), 16);
}

static void test_unittree__parent_follows_dated_links(void **state)
{
	assert_string_equal(unittree_parent_of(T(state), "B4", "2021-06-30"), "C2");
	/* both links include 2021-07-01: the later one wins */
	assert_string_equal(unittree_parent_of(T(state), "B4", "2021-07-01"), "C1");
	assert_null(unittree_parent_of(T(state), "P", "2021-07-01"));
	assert_null(unittree_parent_of(T(state), "nope", "2021-07-01"));
}

static void test_unittree__effective_parent_follows_a_merged_parent(void **state)
{
	assert_string_equal(unittree_parent_of(T(state), "B5", "2021-12-31"), "C2");
	assert_string_equal(unittree_effective_parent(T(state), "B5", "2021-12-31"), "C1");
	assert_string_equal(unittree_effective_parent(T(state), "B5", "2021-06-30"), "C2");
	assert_null(unittree_effective_parent(T(state), "P", "2021-06-30"));
}

static void test_unittree__children_as_of_a_date(void **state)
{
	const char **ids = NULL;
	size_t n = 0;
	assert_int_equal(unittree_children(T(state), "D1", "2021-06-30", &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "C1");
	assert_string_equal(ids[1], "C2");
	free(ids);
	assert_int_equal(unittree_children(T(state), "D1", "2021-12-31", &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "C1");
	free(ids);
	/* after the merge C1 holds B1, B4 (relinked) and B5 (still linked to C2); B9 closed */
	assert_int_equal(unittree_children(T(state), "C1", "2021-12-31", &ids, &n), 0);
	assert_int_equal(n, 3);
	free(ids);
	/* D2 after the split: C4 (code 10003) then C5, and not the closed C3 */
	assert_int_equal(unittree_children(T(state), "D2", "2021-12-31", &ids, &n), 0);
	assert_true(n >= 2);
	assert_string_equal(ids[0], "C4");
	assert_string_equal(ids[1], "C5");
	free(ids);
}

static void test_unittree__name_is_dated(void **state)
{
	struct unittree_name nm;
	assert_int_equal(unittree_name_of(T(state), "C1", "2020-06-01", &nm), 0);
	assert_string_equal(nm.name, "Xã An");
	assert_int_equal(unittree_name_of(T(state), "C1", "2021-06-01", &nm), 0);
	assert_string_equal(nm.name, "Xã An Phú");
	assert_string_equal(nm.kind, "commune");
	assert_string_equal(nm.code, "10001");
	/* a closed unit keeps its last name */
	assert_int_equal(unittree_name_of(T(state), "C3", "2022-01-01", &nm), 0);
	assert_string_equal(nm.name, "Xã Châu");
	assert_int_equal(unittree_name_of(T(state), "B1", "2021-01-01", &nm), 0);
	assert_null(nm.code);
	assert_int_equal(unittree_name_of(T(state), "nope", "2021-01-01", &nm), 1);
}

static void test_unittree__reused_code_resolves_by_date(void **state)
{
	assert_string_equal(unittree_find_code(T(state), "10003", "2021-06-30", "2021-06-30"), "C3");
	assert_string_equal(unittree_find_code(T(state), "10003", "2021-07-01", "2021-07-01"), "C4");
	assert_string_equal(unittree_find_code(T(state), "901", "2021-07-01", "2021-07-01"), "D1");
	assert_null(unittree_find_code(T(state), "10005", "2021-06-30", "2021-06-30"));
	assert_null(unittree_find_code(T(state), "77777", "2021-06-30", "2021-06-30"));
}

/* Issue 12 item 9: a commune merged on 1 July is found by its code in that year. */
static void test_unittree__code_held_in_a_range_resolves_to_its_latest_holder(void **state)
{
	/* C2 (merged 2021-07-01) held 10002 until 06-30, though its name was never ended */
	assert_string_equal(unittree_find_code(T(state), "10002", "2021-01-01", "2021-12-31"), "C2");
	assert_null(unittree_find_code(T(state), "10002", "2021-07-01", "2021-07-01"));
	assert_null(unittree_find_code(T(state), "10002", "2022-01-01", "2022-12-31"));
	/* 10003: C3 until 06-30, then C4: the latest holder of the year */
	assert_string_equal(unittree_find_code(T(state), "10003", "2021-01-01", "2021-12-31"), "C4");
	assert_string_equal(unittree_find_code(T(state), "10003", "2021-01-01", "2021-06-30"), "C3");
	assert_string_equal(unittree_find_code(T(state), "10003", "2020-01-01", "2020-12-31"), "C3");
	/* a name record ended mid-range: C1's first name (10001 too) ends 2020-12-31 */
	assert_string_equal(unittree_find_code(T(state), "10001", "2020-06-01", "2021-12-31"), "C1");
}

static void test_unittree__closing_dates_from_events(void **state)
{
	assert_string_equal(unittree_closed_on(T(state), "C2"), "2021-07-01");
	assert_true(unittree_is_open(T(state), "C2", "2021-06-30"));
	assert_false(unittree_is_open(T(state), "C2", "2021-07-01"));
	assert_false(unittree_is_open(T(state), "C4", "2021-06-30"));
	assert_true(unittree_is_open(T(state), "C4", "2021-07-01"));
	assert_string_equal(unittree_closed_on(T(state), "B9"), "2021-05-01");
	assert_null(unittree_closed_on(T(state), "C1")); /* a rename closes nothing */
	assert_string_equal(unittree_opened_on(T(state), "C5"), "2021-07-01");
}

static void test_unittree__successor_of_merge_and_split(void **state)
{
	const char *const *succ = NULL;
	assert_string_equal(unittree_successor(T(state), "C2"), "C1");
	/* the split's primary successor is the one that took the code, not the first */
	assert_string_equal(unittree_successor(T(state), "C3"), "C4");
	assert_int_equal(unittree_successors(T(state), "C3", &succ), 2);
	assert_string_equal(succ[0], "C5");
	assert_string_equal(succ[1], "C4");
	assert_null(unittree_successor(T(state), "B9"));
	assert_null(unittree_successor(T(state), "C1"));
}

static void test_unittree__merged_unit_rolls_up_once_under_successor(void **state)
{
	const char *rows[8];
	size_t n;
	assert_int_equal(unittree_rollup(T(state), "P", "C2", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0], "D1");
	assert_int_equal(unittree_rollup(T(state), "D1", "C2", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0], "C1");
	/* before the merge, C2 is its own row */
	assert_int_equal(unittree_rollup(T(state), "D1", "C2", "2021-06-30", rows, 8, &n), 1);
	assert_string_equal(rows[0], "C2");
	/* a branch linked to the merged commune follows it */
	assert_int_equal(unittree_rollup(T(state), "D1", "B5", "2021-12-31", rows, 8, &n), 1);
	assert_string_equal(rows[0], "C1");
	/* a chain: B10 merged into B7 */
	assert_int_equal(unittree_rollup(T(state), "C5", "B10", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0], "B7");
}

static void test_unittree__split_unit_fans_out_to_each_successor(void **state)
{
	const char *rows[8];
	size_t n;
	assert_int_equal(unittree_rollup(T(state), "D2", "C3", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 2);
	assert_true((strcmp(rows[0], "C4") == 0 && strcmp(rows[1], "C5") == 0) ||
		    (strcmp(rows[0], "C5") == 0 && strcmp(rows[1], "C4") == 0));
	/* one level up both successors are one row */
	assert_int_equal(unittree_rollup(T(state), "P", "C3", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0], "D2");
}

static void test_unittree__closed_without_successor_counts_under_last_parent(void **state)
{
	const char *rows[8];
	size_t n;
	assert_int_equal(unittree_rollup(T(state), "D1", "B9", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0], "C1");
	/* at C1 itself: in scope, no child row */
	assert_int_equal(unittree_rollup(T(state), "C1", "B9", "2021-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 0);
}

static void test_unittree__subtree_includes_merged_units(void **state)
{
	const char **ids = NULL;
	size_t n = 0;
	assert_true(unittree_in_subtree(T(state), "D1", "C2", "2021-12-31"));
	assert_true(unittree_in_subtree(T(state), "D1", "D1", "2021-12-31"));
	assert_false(unittree_in_subtree(T(state), "D1", "C3", "2021-12-31"));
	assert_false(unittree_in_subtree(T(state), "D1", "nope", "2021-12-31"));
	assert_int_equal(unittree_descendants_as_of(T(state), "D1", "2021-12-31", &ids, &n), 0);
	/* C1 C2 B1 B4 B5 B9 */
	assert_int_equal(n, 6);
	free(ids);
}

/* A lookup that loops for ever fails the suite at once instead of hanging it. */
static void on_alarm(int sig)
{
	static const char msg[] = "[  FAILED  ] test_unittree__merge_cycle_does_not_hang: "
				  "a lookup was still running after 10 s (a loop on the merge cycle)\n";
	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

/* X1 and X2 were each recorded as merged into the other: following successors never
 * reaches an open unit. The walk stops (UNITTREE_MAX_DEPTH) at one of the two, whose
 * last parent is D2, so their records still count, once, in D2's subtree and the
 * province's, under one child of D2 — the cycle itself — and nowhere else. */
static void test_unittree__merge_cycle_does_not_hang(void **state)
{
	const char *rows[8] = { NULL };
	size_t n = 99;
	signal(SIGALRM, on_alarm);
	alarm(10);
	int in_d2 = unittree_rollup(T(state), "D2", "X1", "2021-12-31", rows, 8, &n);
	int x2_in_p = unittree_in_subtree(T(state), "P", "X2", "2021-12-31");
	int x1_in_d1 = unittree_in_subtree(T(state), "D1", "X1", "2021-12-31");
	const char *rows2[8] = { NULL };
	size_t n2 = 99;
	int x2_in_d2 = unittree_rollup(T(state), "D2", "X2", "2021-12-31", rows2, 8, &n2);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(in_d2, 1);
	assert_int_equal(n, 1);
	assert_non_null(rows[0]);
	assert_true(strcmp(rows[0], "X1") == 0 || strcmp(rows[0], "X2") == 0);
	assert_int_equal(x2_in_p, 1);
	assert_int_equal(x1_in_d1, 0);
	assert_int_equal(x2_in_d2, 1);
	assert_int_equal(n2, 1);
	assert_non_null(rows2[0]);
	assert_true(strcmp(rows2[0], "X1") == 0 || strcmp(rows2[0], "X2") == 0);
	/* before the mistake (2020) both were open branches of D2, each its own row */
	assert_int_equal(unittree_rollup(T(state), "D2", "X1", "2020-12-31", rows, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0], "X1");
}

static void test_unittree__day_before_crosses_months_and_leap_years(void **state)
{
	char d[11];
	(void)state;
	unittree_day_before("2021-07-01", d);
	assert_string_equal(d, "2021-06-30");
	unittree_day_before("2024-03-01", d);
	assert_string_equal(d, "2024-02-29");
	unittree_day_before("2021-01-01", d);
	assert_string_equal(d, "2020-12-31");
	unittree_day_before("junk", d);
	assert_string_equal(d, "junk");
}

static void test_unittree__root_is_the_province(void **state)
{
	assert_string_equal(unittree_root(T(state), "2021-12-31"), "P");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unittree__deleted_rows_are_not_part_of_the_tree),
		cmocka_unit_test(test_unittree__parent_follows_dated_links),
		cmocka_unit_test(test_unittree__effective_parent_follows_a_merged_parent),
		cmocka_unit_test(test_unittree__children_as_of_a_date),
		cmocka_unit_test(test_unittree__name_is_dated),
		cmocka_unit_test(test_unittree__reused_code_resolves_by_date),
		cmocka_unit_test(test_unittree__code_held_in_a_range_resolves_to_its_latest_holder),
		cmocka_unit_test(test_unittree__closing_dates_from_events),
		cmocka_unit_test(test_unittree__successor_of_merge_and_split),
		cmocka_unit_test(test_unittree__merged_unit_rolls_up_once_under_successor),
		cmocka_unit_test(test_unittree__split_unit_fans_out_to_each_successor),
		cmocka_unit_test(test_unittree__closed_without_successor_counts_under_last_parent),
		cmocka_unit_test(test_unittree__subtree_includes_merged_units),
		cmocka_unit_test(test_unittree__merge_cycle_does_not_hang),
		cmocka_unit_test(test_unittree__day_before_crosses_months_and_leap_years),
		cmocka_unit_test(test_unittree__root_is_the_province),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
