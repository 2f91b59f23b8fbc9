/*
 * test_hub_fork.c — forks the hub must see wherever they hide (PROTOCOL.md §5, §9): a
 * change set is checked at exactly min(to, acked), so a fork inside a range the hub
 * acknowledged, off a receipt boundary, is refused (and the token freed for recover)
 * while the same change set re-sent stays a duplicate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "hub_test_util.h"

#define AG1 "0190f3a2-7c1e-7d44-9a0b-0000000000a1"
#define AGN "0190f3a2-7c1e-7d44-9a0b-0000000000a9"
#define P1 "0190f3b0-0000-7000-8000-000000000001"
#define P2 "0190f3b0-0000-7000-8000-000000000002"
#define P3 "0190f3b0-0000-7000-8000-000000000003"
#define P4 "0190f3b0-0000-7000-8000-000000000004"
#define PERSON "full_name=s:Nguyễn Văn An;birth_year=i:1990;gender=s:nam;phone=n"




/* Entries 1..3 both journals share (the chain ignores clocks). */
static void first_three(struct th_agent *ag)
{
	th_add(ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(ag, "person", P2, 'i', U_B1, PERSON, 0);
	th_add(ag, "person", P1, 'u', U_C1, "phone=s:0901", 0);
}

/* The laptop's journal 1..5, sent as 1..3 then 4..5: the hub's receipts end at 3 and 5. */
static void hub_holds_five(struct th_hub *h, struct th_agent *ag)
{
	th_agent_init(ag, AG1);
	first_three(ag);
	th_add(ag, "person", P3, 'i', U_C1, PERSON, 0);
	th_add(ag, "person", P3, 'u', U_C1, "phone=s:0902", 0);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_send(h, ag, h->token_c1, 1, 3), 200, "\"acked\":3");
	th_expect(th_send(h, ag, h->token_c1, 4, 5), 200, "\"acked\":5");
}

#define FORK_REFUSED "SELECT fork_refused FROM hub_token WHERE agent_id = '" AG1 "'"

static void test_hub_fork__fork_inside_a_duplicate_off_a_receipt_boundary_is_refused(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, restored;
	hub_holds_five(h, &ag);
	int64_t hs = th_sql_count(h, "SELECT max(_hs) FROM person");
	/* restored from a backup holding 1..3, the laptop wrote a new entry 4 */
	th_agent_init(&restored, AG1);
	first_three(&restored);
	th_add(&restored, "person", P4, 'i', U_C1, PERSON, 0);
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 0);
	th_expect(th_send(h, &restored, h->token_c1, 4, 4), 409, "\"fork\"");
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 1);
	th_expect(th_send(h, &restored, h->token_c1, 2, 4), 409, "sequence 4");
	/* nothing applied, nothing receipted */
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P4 "'"), 0);
	assert_int_equal(th_sql_count(h, "SELECT max(_hs) FROM person"), hs);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_receipt WHERE agent_id = '" AG1 "'"), 2);
	assert_int_equal(th_sql_count(h, "SELECT acked FROM hub_agent WHERE id = '" AG1 "'"), 5);
	th_agent_release(&ag);
	th_agent_release(&restored);
}

static void test_hub_fork__the_same_change_set_resent_is_still_a_duplicate(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	hub_holds_five(h, &ag);
	static const uint64_t ranges[][2] = { { 4, 4 }, { 2, 4 }, { 1, 1 }, { 1, 5 }, { 5, 5 }, { 3, 4 } };
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		th_expect(th_send(h, &ag, h->token_c1, ranges[i][0], ranges[i][1]), 200, "\"duplicate\":true");
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 0);
	/* an overlap reaching past acked applies only its tail */
	th_add(&ag, "person", P4, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &ag, h->token_c1, 4, 6), 200, "\"applied\":1");
	th_expect(th_send(h, &ag, h->token_c1, 6, 6), 200, "\"duplicate\":true");
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 0);
	th_agent_release(&ag);
}

/* Issue 18.2: a duplicate acknowledges only what the hub compared (its `to`), never
 * all the hub holds: a restored copy may have typed new entries under 4 and 5. */
static void test_hub_fork__a_duplicate_acknowledges_only_up_to_what_it_compared(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	hub_holds_five(h, &ag);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"acked\":3");
	th_expect(th_send(h, &ag, h->token_c1, 2, 2), 200, "\"acked\":2");
	th_expect(th_send(h, &ag, h->token_c1, 1, 5), 200, "\"acked\":5");
	assert_int_equal(th_sql_count(h, "SELECT acked FROM hub_agent WHERE id = '" AG1 "'"), 5);
	th_agent_release(&ag);
}

static void test_hub_fork__recover_rebinds_the_token_after_a_fork_in_a_duplicate(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, restored, fresh;
	hub_holds_five(h, &ag);
	th_agent_init(&restored, AG1);
	first_three(&restored);
	th_add(&restored, "person", P4, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &restored, h->token_c1, 4, 4), 409, "\"fork\"");
	/* `lienket-agent recover`: a new id, its unacknowledged entry journaled again from 1 */
	th_expect(th_hello(h, AGN, h->token_c1), 200, "\"retired\":false");
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"retired\":true");
	th_agent_init(&fresh, AGN);
	th_add(&fresh, "person", P4, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &fresh, h->token_c1, 1, 1), 200, "\"applied\":1");
	th_expect(th_send(h, &restored, h->token_c1, 4, 4), 403, "agent_retired");
	th_agent_release(&ag);
	th_agent_release(&restored);
	th_agent_release(&fresh);
}

static void test_hub_fork__a_fork_in_an_overlap_is_refused_at_acked_and_says_where(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, restored;
	hub_holds_five(h, &ag);
	th_agent_init(&restored, AG1);
	first_three(&restored);
	th_add(&restored, "person", P4, 'i', U_C1, PERSON, 0);
	th_add(&restored, "person", P4, 'u', U_C1, "phone=s:1", 0);
	th_add(&restored, "person", P4, 'u', U_C1, "phone=s:2", 0);
	th_expect(th_send(h, &restored, h->token_c1, 4, 6), 409, "sequence 5");
	/* issue 18.3: the answer says where the journals part, so that recover journals
	 * again only what the hub does not hold */
	th_expect(th_send(h, &restored, h->token_c1, 2, 6), 409, "\"expected\":4");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P4 "'"), 0);
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 1);
	th_agent_release(&ag);
	th_agent_release(&restored);
}

static void test_hub_fork__sequences_acknowledged_before_chains_were_kept_use_receipts(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, restored;
	hub_holds_five(h, &ag);
	/* a hub upgraded from a version that kept chains only at receipt boundaries */
	assert_true(th_sql_count(h, "DELETE FROM hub_agent_chain") > 0);
	th_agent_init(&restored, AG1);
	first_three(&restored);
	th_add(&restored, "person", P4, 'i', U_C1, PERSON, 0);
	/* off a boundary nothing tells: taken on trust, as before */
	th_expect(th_send(h, &restored, h->token_c1, 4, 4), 200, "\"duplicate\":true");
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P4 "'"), 0);
	/* at a receipt boundary the receipt tells */
	th_expect(th_send(h, &ag, h->token_c1, 2, 3), 200, "\"duplicate\":true");
	struct th_agent other;
	th_agent_init(&other, AG1);
	th_add(&other, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&other, "person", P2, 'i', U_B1, PERSON, 0);
	th_add(&other, "person", P2, 'u', U_B1, "phone=s:0901", 0);
	th_expect(th_send(h, &other, h->token_c1, 3, 3), 409, "sequence 3");
	assert_int_equal(th_sql_count(h, FORK_REFUSED), 1);
	th_agent_release(&other);
	/* what this hub acknowledges from now on is checked at every sequence */
	th_add(&ag, "person", P4, 'i', U_C1, PERSON, 0);
	th_add(&ag, "person", P4, 'u', U_C1, "phone=s:0903", 0);
	th_expect(th_send(h, &ag, h->token_c1, 6, 7), 200, "\"acked\":7");
	th_add(&restored, "person", P4, 'u', U_C1, "phone=s:9", 0);
	th_add(&restored, "person", P4, 'u', U_C1, "phone=s:9", 0);
	th_expect(th_send(h, &restored, h->token_c1, 6, 6), 409, "\"fork\"");
	th_agent_release(&ag);
	th_agent_release(&restored);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hub_fork__fork_inside_a_duplicate_off_a_receipt_boundary_is_refused),
		T(test_hub_fork__the_same_change_set_resent_is_still_a_duplicate),
		T(test_hub_fork__a_duplicate_acknowledges_only_up_to_what_it_compared),
		T(test_hub_fork__recover_rebinds_the_token_after_a_fork_in_a_duplicate),
		T(test_hub_fork__a_fork_in_an_overlap_is_refused_at_acked_and_says_where),
		T(test_hub_fork__sequences_acknowledged_before_chains_were_kept_use_receipts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
