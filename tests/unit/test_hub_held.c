/*
 * test_hub_held.c — held changes (PROTOCOL.md §7.3, hub/merge/changes.c): a change whose
 * owning unit has no place in the tree yet is held, not quarantined; it is settled
 * when its unit is placed (merged in scope, quarantined out of it), and only the held
 * changes of the units that arrived are read then (counted through a wrapped store);
 * past the bound per agent or in all, the change set is refused whole (429
 * held_full) and stores nothing.
 *
 * Change sets are applied with changes_apply on a store of the test's own (the path
 * api.c's writer takes), so that the bounds can be small and the store's held reads
 * counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hub_test_util.h"

#define AG1 "0190f3a2-7c1e-7d44-9a0b-0000000000a1"
#define AG2 "0190f3a2-7c1e-7d44-9a0b-0000000000a2"
#define AGD "0190f3a2-7c1e-7d44-9a0b-0000000000ad"
#define U_Y "0190f3a2-0000-7000-8000-0000000000ef" /* a unit that never arrives */
#define LINK_X "0190f3b0-0000-7000-8000-0000000000e2"
#define PERSON "full_name=s:Nguyễn Văn An;birth_year=i:1990;gender=s:nam;phone=n"

/* Rows the store handed out of hub_held (held_of_owner), for the indexed settling. */
static size_t held_rows_read;
static int (*real_held_of_owner)(struct store *, const char *,
				 int (*)(void *, const char *, uint64_t, const char *, int, const char *),
				 void *);

struct counting {
	int (*cb)(void *, const char *, uint64_t, const char *, int, const char *);
	void *ctx;
};

static int count_row(void *ctx, const char *agent, uint64_t seq, const char *owner, int schema,
		     const char *json)
{
	struct counting *C = ctx;
	held_rows_read++;
	return C->cb(C->ctx, agent, seq, owner, schema, json);
}

static int counting_held_of_owner(struct store *s, const char *owner,
				  int (*cb)(void *, const char *, uint64_t, const char *, int, const char *),
				  void *ctx)
{
	struct counting C = { cb, ctx };
	return real_held_of_owner(s, owner, count_row, &C);
}

/* One writer: its connection (with held_of_owner counted) and its cache, as api.c
 * keeps them; the cache is valid only with the connection it was filled on. */
struct writer {
	struct store *s;
	struct changes_cache cache;
};

static void writer_open(struct th_hub *h, struct writer *w, int64_t per_agent, int64_t all)
{
	char err[256];
	memset(w, 0, sizeof *w);
	w->cache.held_max_per_agent = per_agent;
	w->cache.held_max = all;
	assert_int_equal(store_sqlite_open(h->path, 0, &w->s, err, sizeof err), 0);
	real_held_of_owner = w->s->held_of_owner;
	w->s->held_of_owner = counting_held_of_owner;
}

static void writer_close(struct writer *w)
{
	changes_cache_release(&w->cache);
	w->s->close(w->s);
}

/* Applies entries from..to of ag, enrolled for unit, in one write transaction; returns
 * the status (200, 429 …) and the error code in code. */
static int apply(struct writer *w, const struct th_agent *ag, const char *unit, uint64_t from,
		 uint64_t to, char code[32])
{
	struct wire_changeset *cs = NULL;
	struct wire_status ws;
	struct changes_result res;
	char *json = th_changeset(ag, from, to, SCHEMA_VERSION);
	assert_non_null(json);
	assert_int_equal(wire_changeset_decode(json, strlen(json), &cs, &ws), 0);
	assert_int_equal(w->s->begin(w->s), 0);
	assert_int_equal(changes_apply(w->s, cs, NULL, &w->cache, unit, NULL, th_now_ms(), HLC_MAX_AHEAD_MS, &res), 0);
	assert_int_equal(w->s->commit(w->s), 0);
	snprintf(code, 32, "%s", res.status == 200 ? "" : res.error.code);
	int status = res.status;
	changes_result_release(&res);
	wire_changeset_free(cs);
	free(json);
	return status;
}

static int64_t held(struct th_hub *h)
{
	return th_sql_count(h, "SELECT count(*) FROM hub_held");
}

static void person_id(char id[37], unsigned n)
{
	snprintf(id, 37, "0190f3b0-0000-7000-8000-%012x", n);
}

/* Journals on c1 (commune C1's laptop) its new branch U_X: the unit row, then its
 * parent link. */
static void branch_x(struct th_agent *c1)
{
	th_add(c1, "unit", U_X, 'i', U_C1, "opened_on=s:2024-01-01", 0);
	th_add(c1, "unit_parent", LINK_X, 'i', U_C1,
	       "of_unit=s:" U_X ";parent_id=s:" U_C1 ";valid_from=s:2024-01-01;valid_to=n", 0);
}

/* Issue 18 item 4: a change set ending right after a new branch's `unit` row, before
 * its `unit_parent` row. The branch is known but has no place: the district's held
 * change stays held (it was quarantined out_of_scope for good), and so does one sent
 * meanwhile; the parent link settles both. */
static void test_hub_held__a_branch_without_its_parent_link_keeps_its_changes_held(void **state)
{
	struct th_hub *h = *state;
	struct writer w;
	writer_open(h, &w, 0, 0);
	struct th_agent c1, d;
	char code[32], p1[37], p2[37];
	th_agent_init(&c1, AG1);
	th_agent_init(&d, AGD);
	person_id(p1, 1);
	person_id(p2, 2);
	th_add(&d, "person", p1, 'i', U_X, PERSON, 0);
	assert_int_equal(apply(&w, &d, U_D, 1, 1, code), 200);
	assert_int_equal(held(h), 1);
	branch_x(&c1);
	assert_int_equal(apply(&w, &c1, U_C1, 1, 1, code), 200); /* the unit row only */
	assert_int_equal(held(h), 1);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine"), 0);
	/* sent now, for the known branch without a place: held too */
	th_add(&d, "person", p2, 'i', U_X, PERSON, 0);
	assert_int_equal(apply(&w, &d, U_D, 2, 2, code), 200);
	assert_int_equal(held(h), 2);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine"), 0);
	assert_int_equal(apply(&w, &c1, U_C1, 2, 2, code), 200); /* its parent link */
	assert_int_equal(held(h), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine"), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE unit_id = '" U_X "'"), 2);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'held'"), 0);
	writer_close(&w);
	th_agent_release(&c1);
	th_agent_release(&d);
}

/* A held change whose unit is placed outside its agent's scope is decided: quarantined
 * out_of_scope, not held for ever. */
static void test_hub_held__a_unit_placed_outside_the_scope_quarantines_its_held_changes(void **state)
{
	struct th_hub *h = *state;
	struct writer w;
	writer_open(h, &w, 0, 0);
	struct th_agent c1, c2;
	char code[32], p1[37];
	th_agent_init(&c1, AG1);
	th_agent_init(&c2, AG2);
	person_id(p1, 1);
	th_add(&c2, "person", p1, 'i', U_X, PERSON, 0);
	assert_int_equal(apply(&w, &c2, U_C2, 1, 1, code), 200);
	assert_int_equal(held(h), 1);
	branch_x(&c1);
	assert_int_equal(apply(&w, &c1, U_C1, 1, 2, code), 200);
	assert_int_equal(held(h), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine WHERE agent_id = '" AG2
				      "' AND code = 'out_of_scope'"), 1);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	writer_close(&w);
	th_agent_release(&c1);
	th_agent_release(&c2);
}

/* Security 3: a unit arriving reads the held changes waiting for it, and only those —
 * not the 300 waiting for another unit — and a change set that writes no unit reads
 * none. */
static void test_hub_held__a_unit_arriving_reads_only_the_held_changes_waiting_for_it(void **state)
{
	struct th_hub *h = *state;
	struct writer w;
	writer_open(h, &w, 0, 0);
	struct th_agent c1, d;
	char code[32], id[37];
	th_agent_init(&c1, AG1);
	th_agent_init(&d, AGD);
	for (unsigned i = 0; i < 300; i++) {
		person_id(id, 1000 + i);
		th_add(&d, "person", id, 'i', U_Y, PERSON, 0);
	}
	person_id(id, 1);
	th_add(&d, "person", id, 'i', U_X, PERSON, 0);
	assert_int_equal(apply(&w, &d, U_D, 1, 301, code), 200);
	assert_int_equal(held(h), 301);
	/* no unit written: nothing held is read */
	person_id(id, 2);
	th_add(&c1, "person", id, 'i', U_C1, PERSON, 0);
	held_rows_read = 0;
	assert_int_equal(apply(&w, &c1, U_C1, 1, 1, code), 200);
	assert_int_equal(held_rows_read, 0);
	/* U_X arrives: its one held change is read and merged, the other 300 untouched */
	branch_x(&c1);
	held_rows_read = 0;
	assert_int_equal(apply(&w, &c1, U_C1, 2, 3, code), 200);
	assert_int_equal(held_rows_read, 1);
	assert_int_equal(held(h), 300);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE unit_id = '" U_X "'"), 1);
	writer_close(&w);
	th_agent_release(&c1);
	th_agent_release(&d);
}

/* Security 3: over the bound per agent, and over the bound in all, a change set that
 * would hold more is refused whole with held_full — nothing of it is stored, not even
 * its changes that could be merged — and is accepted once the units arrive. */
static void test_hub_held__over_the_bound_a_change_set_is_refused_whole_and_nothing_is_lost(void **state)
{
	struct th_hub *h = *state;
	struct writer w;
	writer_open(h, &w, 3, 5);
	struct th_agent c1, c2, d;
	char code[32], id[37];
	th_agent_init(&c1, AG1);
	th_agent_init(&c2, AG2);
	th_agent_init(&d, AGD);
	for (unsigned i = 0; i < 3; i++) {
		person_id(id, 100 + i);
		th_add(&d, "person", id, 'i', U_X, PERSON, 0);
	}
	assert_int_equal(apply(&w, &d, U_D, 1, 3, code), 200);
	assert_int_equal(held(h), 3);
	/* a fourth for this agent: refused, the merge-able change before it too */
	person_id(id, 200);
	th_add(&d, "person", id, 'i', U_C1, PERSON, 0);
	person_id(id, 103);
	th_add(&d, "person", id, 'i', U_X, PERSON, 0);
	assert_int_equal(apply(&w, &d, U_D, 4, 5, code), 429);
	assert_string_equal(code, "held_full");
	assert_int_equal(held(h), 3);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	assert_int_equal(th_sql_count(h, "SELECT acked FROM hub_agent WHERE id = '" AGD "'"), 3);
	/* another agent: two more fit in all (5), the third does not */
	for (unsigned i = 0; i < 3; i++) {
		person_id(id, 300 + i);
		th_add(&c2, "person", id, 'i', U_X, PERSON, 0);
	}
	assert_int_equal(apply(&w, &c2, U_C2, 1, 2, code), 200);
	assert_int_equal(apply(&w, &c2, U_C2, 3, 3, code), 429);
	assert_string_equal(code, "held_full");
	assert_int_equal(held(h), 5);
	/* the unit arrives: the held changes are settled, and the refused sets go through */
	branch_x(&c1);
	assert_int_equal(apply(&w, &c1, U_C1, 1, 2, code), 200);
	assert_int_equal(held(h), 0);
	assert_int_equal(apply(&w, &d, U_D, 4, 5, code), 200);
	assert_int_equal(apply(&w, &c2, U_C2, 3, 3, code), 200);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE " "unit_id = '" U_X "'"), 4);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine WHERE agent_id = '" AGD "'"), 0);
	/* C2's changes for C1's branch are out of its scope: decided, not held */
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine WHERE agent_id = '" AG2
				      "' AND code = 'out_of_scope'"), 3);
	writer_close(&w);
	th_agent_release(&c1);
	th_agent_release(&c2);
	th_agent_release(&d);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hub_held__a_branch_without_its_parent_link_keeps_its_changes_held),
		T(test_hub_held__a_unit_placed_outside_the_scope_quarantines_its_held_changes),
		T(test_hub_held__a_unit_arriving_reads_only_the_held_changes_waiting_for_it),
		T(test_hub_held__over_the_bound_a_change_set_is_refused_whole_and_nothing_is_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
