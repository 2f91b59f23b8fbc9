/*
 * test_hub_concurrency.c — api_handle called from many threads at once: change sets
 * of several agents share group commits, every one is answered 200 once stored, each
 * agent's sequence ends fully acknowledged, and pulls running beside the writes see
 * consistent pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "hub_test_util.h"

#define NTHREADS 3
#define NSETS 40     /* change sets per agent */
#define PER_SET 10   /* entries per change set */

struct worker {
	struct th_hub *h;
	struct th_agent ag;
	const char *token;
	int failures;
	double ms;
};

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	double t0 = mono_ms();
	for (uint64_t s = 0; s < NSETS; s++) {
		struct th_answer a = th_send(w->h, &w->ag, w->token, s * PER_SET + 1, (s + 1) * PER_SET);
		if (a.status != 200 || !a.body || !strstr(a.body, "\"quarantined\":[]"))
			w->failures++;
		th_answer_free(&a);
		if (s % 8 == 0) {
			const char *q[] = { "cursor", "0", "limit", "50", NULL };
			a = th_call_raw(w->h->api, "GET", "/v1/pull", w->token, NULL, NULL, 0, q);
			if (a.status != 200)
				w->failures++;
			th_answer_free(&a);
		}
	}
	w->ms = mono_ms() - t0;
	return NULL;
}

static void test_hub_concurrency__parallel_change_sets_are_all_stored_and_acknowledged(void **st)
{
	(void)st;
	struct th_hub h;
	assert_int_equal(th_hub_new(&h), 0);
	static const char *const ids[NTHREADS] = { "0190f3a2-7c1e-7d44-9a0b-0000000000a1",
						   "0190f3a2-7c1e-7d44-9a0b-0000000000a2",
						   "0190f3a2-7c1e-7d44-9a0b-0000000000ad" };
	const char *owners[NTHREADS] = { U_C1, U_C2, U_B1 };
	const char *tokens[NTHREADS] = { h.token_c1, h.token_c2, h.token_d };
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].h = &h;
		w[i].token = tokens[i];
		th_agent_init(&w[i].ag, ids[i]);
		for (int k = 0; k < NSETS * PER_SET; k++) {
			char id[37];
			snprintf(id, sizeof id, "0190f3b0-0000-7000-8%03u-%012u", (unsigned)i % 1000, (unsigned)k % 1000000);
			th_add(&w[i].ag, "person", id, 'i', owners[i],
			       "full_name=s:Trần Thị Bình;birth_year=i:1995;gender=s:nu;phone=n", 0);
		}
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, run, &w[i]), 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(w[i].failures, 0);
		print_message("agent %d: %d change sets of %d in %.0f ms\n", i, NSETS, PER_SET, w[i].ms);
	}
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open_v2(h.path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM person),"
					    " (SELECT count(*) FROM hub_agent WHERE acked = ?1),"
					    " (SELECT count(DISTINCT _hs) FROM person)", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_int(q, 1, NSETS * PER_SET);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), NTHREADS * NSETS * PER_SET);
	assert_int_equal(sqlite3_column_int(q, 1), NTHREADS);
	assert_int_equal(sqlite3_column_int(q, 2), NTHREADS * NSETS * PER_SET);
	sqlite3_finalize(q);
	sqlite3_close(db);
	for (int i = 0; i < NTHREADS; i++)
		th_agent_release(&w[i].ag);
	th_hub_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hub_concurrency__parallel_change_sets_are_all_stored_and_acknowledged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
