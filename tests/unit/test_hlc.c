/*
 * test_hlc.c — clock properties (PROTOCOL.md §4): strictly increasing in sequence
 * order whatever the wall clock does; receiving raises only later entries; lowering
 * after a clock_ahead refusal stays above the row's floor, at or below the limit
 * otherwise, never above the original; the hub refuses only clocks beyond both the
 * drift limit and the row; the write order. Random histories use a fixed-seed generator so failures reproduce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hlc.h"

#define T0 1764150000000LL

/* xorshift64*: deterministic, no global state. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void test_hlc__next_is_strictly_increasing_under_wall_clock_jumps_both_ways(void **state)
{
	(void)state;
	uint64_t seed = 42, last = 0;
	int64_t wall = T0;
	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd(&seed);
		switch (r % 8) {
		case 0: wall -= (int64_t)(r >> 8) % (400LL * 86400000); break; /* back up to 400 days */
		case 1: wall += (int64_t)(r >> 8) % (400LL * 86400000); break; /* forward */
		case 2: break;                                                 /* same ms */
		default: wall += (int64_t)((r >> 8) % 50); break;
		}
		uint64_t c = hlc_next(last, wall);
		assert_true(c > last);
		assert_true(c >= hlc_from_ms(wall));
		last = c;
	}
}

static void test_hlc__next_takes_the_wall_clock_when_it_is_ahead(void **state)
{
	(void)state;
	uint64_t c = hlc_next(0, T0);
	assert_int_equal(c, (uint64_t)T0 << 16);
	assert_int_equal(hlc_next(c, T0), c + 1);
	assert_int_equal(hlc_next(c, T0 - 5000), c + 1);
	assert_int_equal(hlc_next(c + 7, T0 + 1), (uint64_t)(T0 + 1) << 16);
	assert_int_equal(hlc_ms(hlc_next(c, T0 + 1)), T0 + 1);
	assert_int_equal(hlc_next(0, -5), 1);               /* before 1970: counter only */
	assert_int_equal(hlc_next(UINT64_MAX, T0), UINT64_MAX); /* saturates, never wraps */
}

static void test_hlc__receive_raises_only_entries_recorded_afterwards(void **state)
{
	(void)state;
	uint64_t journal[6], last = 0;
	for (int i = 0; i < 3; i++)
		journal[i] = last = hlc_next(last, T0 + i);
	uint64_t before[3];
	memcpy(before, journal, sizeof before);
	uint64_t from_hub = (uint64_t)(T0 + 60000) << 16 | 9; /* a minute ahead */
	last = hlc_receive(last, from_hub);
	assert_memory_equal(journal, before, sizeof before); /* recorded entries unchanged */
	for (int i = 3; i < 6; i++)
		journal[i] = last = hlc_next(last, T0 + i);
	assert_true(journal[3] > from_hub);
	for (int i = 1; i < 6; i++)
		assert_true(journal[i] > journal[i - 1]);
	/* receiving an older clock changes nothing */
	assert_int_equal(hlc_receive(last, 5), last);
}

static void test_hlc__lower_one_stays_above_the_floor_and_never_rises(void **state)
{
	(void)state;
	uint64_t seed = 7;
	for (int round = 0; round < 20000; round++) {
		uint64_t limit = hlc_from_ms(T0 + (int64_t)(rnd(&seed) % 1000000));
		uint64_t clock = hlc_from_ms(T0 + (int64_t)(rnd(&seed) % 2000000)) + rnd(&seed) % 7;
		uint64_t fl = rnd(&seed) % 2 ? clock - 1 - rnd(&seed) % (clock / 2) : 0;
		uint64_t c = hlc_lower_one(clock, fl, limit);
		assert_true(c <= clock);
		assert_true(c > fl);
		assert_true(c <= limit || c == fl + 1 || c == clock);
		/* lowering again under the same limit and floor changes nothing */
		assert_int_equal(hlc_lower_one(c, fl, limit), c);
	}
}

static void test_hlc__lower_one_follows_the_formula_of_the_protocol(void **state)
{
	(void)state;
	uint64_t L = (uint64_t)T0 << 16;
	/* no floor in the way: down to hub time */
	assert_int_equal(hlc_lower_one(L + 900000, 0, L), L);
	/* already low enough: untouched */
	assert_int_equal(hlc_lower_one(L - 10, 0, L), L - 10);
	/* the row's floor above hub time holds it up, just above the floor */
	assert_int_equal(hlc_lower_one(L + 900000, L + 500, L), L + 501);
	/* never above the original clock, even for a floor at or above it (damaged) */
	assert_int_equal(hlc_lower_one(L + 5, L + 5, L), L + 5);
	assert_int_equal(hlc_lower_one(L + 5, L + 9, L), L + 5);
}

static void test_hlc__refused_only_beyond_the_drift_and_the_row(void **state)
{
	(void)state;
	uint64_t far = hlc_from_ms(T0 + 3600000);
	/* beyond the drift limit, row unknown or behind: refused */
	assert_true(hlc_refused(far, T0, HLC_MAX_AHEAD_MS, 0));
	assert_true(hlc_refused(far, T0, HLC_MAX_AHEAD_MS, hlc_from_ms(T0)));
	/* just above what the hub holds for the row (with one millisecond of carry): taken */
	assert_false(hlc_refused(far + 1, T0, HLC_MAX_AHEAD_MS, far));
	assert_false(hlc_refused(hlc_from_ms(T0 + 3600001) | 5, T0, HLC_MAX_AHEAD_MS, far | 0xffff));
	assert_true(hlc_refused(hlc_from_ms(T0 + 3600002), T0, HLC_MAX_AHEAD_MS, far | 0xffff));
	/* within the drift limit: never refused */
	assert_false(hlc_refused(hlc_from_ms(T0 + HLC_MAX_AHEAD_MS), T0, HLC_MAX_AHEAD_MS, 0));
}

static void test_hlc__too_far_ahead_is_strictly_beyond_hub_time_plus_limit(void **state)
{
	(void)state;
	uint64_t at = hlc_from_ms(T0 + HLC_MAX_AHEAD_MS) | 0xffff;
	assert_false(hlc_too_far_ahead(at, T0, HLC_MAX_AHEAD_MS));
	assert_true(hlc_too_far_ahead(hlc_from_ms(T0 + HLC_MAX_AHEAD_MS + 1), T0, HLC_MAX_AHEAD_MS));
	assert_false(hlc_too_far_ahead(0, T0, HLC_MAX_AHEAD_MS));
	assert_true(hlc_too_far_ahead(UINT64_MAX, T0, HLC_MAX_AHEAD_MS));
	assert_false(hlc_too_far_ahead(UINT64_MAX, INT64_MAX, INT64_MAX)); /* no overflow */
}

static void test_hlc__order_higher_clock_wins_then_greater_writer(void **state)
{
	(void)state;
	const char *a = "0190f3a2-0000-7000-8000-00000000000a";
	const char *b = "0190f3a2-0000-7000-8000-00000000000b";
	assert_true(hlc_order(2, a, 1, b) > 0);
	assert_true(hlc_order(1, b, 2, a) < 0);
	assert_true(hlc_order(5, b, 5, a) > 0);
	assert_true(hlc_order(5, a, 5, b) < 0);
	assert_int_equal(hlc_order(5, a, 5, a), 0);
	assert_true(hlc_order(5, NULL, 5, a) < 0);
	assert_true(hlc_order(5, a, 5, NULL) > 0);
	assert_int_equal(hlc_order(5, NULL, 5, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hlc__next_is_strictly_increasing_under_wall_clock_jumps_both_ways),
		cmocka_unit_test(test_hlc__next_takes_the_wall_clock_when_it_is_ahead),
		cmocka_unit_test(test_hlc__receive_raises_only_entries_recorded_afterwards),
		cmocka_unit_test(test_hlc__lower_one_stays_above_the_floor_and_never_rises),
		cmocka_unit_test(test_hlc__lower_one_follows_the_formula_of_the_protocol),
		cmocka_unit_test(test_hlc__refused_only_beyond_the_drift_and_the_row),
		cmocka_unit_test(test_hlc__too_far_ahead_is_strictly_beyond_hub_time_plus_limit),
		cmocka_unit_test(test_hlc__order_higher_clock_wins_then_greater_writer),
	};
	return cmocka_run_group_tests_name("hlc", tests, NULL, NULL);
}
