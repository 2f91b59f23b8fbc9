/*
 * test_hub_api_pg.c — the hub's API on PostgreSQL where another hub process shares the
 * database: a group commit that lost a deadlock to the other process is run again by
 * the writer (api.c), so the office gets its change set stored and answered 200, not a
 * 500 it would send again; and the same agent's change set sent through two hubs at once
 * is applied once (the other answer is a duplicate), never twice.
 *
 * PostgreSQL comes from pg_harness.h (started by the suite, stopped by PID); without
 * PostgreSQL's programs the suite FAILS, it is not skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "hub_test_util.h"
#include "pg_harness.h"
#include "pg_internal.h"

#define AG1 "0190f3a2-7c1e-7d44-9a0b-0000000000a1"
#define PERSON1 "0190f3b0-0000-7000-8000-00000000a001"
#define PERSON2 "0190f3b0-0000-7000-8000-00000000a002"

static struct pg_harness pg;

static int group_setup(void **state)
{
	(void)state;
	if (access("/usr/lib/postgresql/15/bin/initdb", X_OK) != 0) {
		print_error("FAILED, not skipped: PostgreSQL's programs are missing"
			    " (scripts/deps.sh --check-or-install test)\n");
		return -1;
	}
	return pg_harness_start(&pg);
}

static int group_teardown(void **state)
{
	(void)state;
	pg_harness_stop(&pg);
	return 0;
}

/* A hub on a fresh PostgreSQL database with the unit tree of hub_test_util.h. */
struct pg_hub {
	struct th_hub h;
	char url[PG_HARNESS_URL];
};

static int setup(void **state)
{
	struct pg_hub *H = calloc(1, sizeof *H);
	struct store *s = NULL;
	char err[256];
	if (!H || pg_harness_fresh_db(&pg, H->url) != 0 ||
	    hub_store_open(H->url, 1, &s, err, sizeof err) != 0) {
		print_error("%s\n", err);
		free(H);
		return -1;
	}
	int ok = s->begin(s) == 0 && th_setup_tree(s, &H->h) == 0 && s->commit(s) == 0;
	s->close(s);
	struct api_options o = { .db_path = H->url };
	if (!ok || api_new(&o, &H->h.api, err, sizeof err) != 0) {
		print_error("%s\n", err);
		free(H);
		return -1;
	}
	*state = H;
	return 0;
}

static int teardown(void **state)
{
	struct pg_hub *H = *state;
	api_free(H->h.api);
	free(H);
	return 0;
}

struct sender {
	struct th_hub *h;
	const struct th_agent *ag;
	const char *token;
	int status;
	char body[512];
};

static void *send_all(void *arg)
{
	struct sender *S = arg;
	struct th_answer a = th_send(S->h, S->ag, S->token, 1, S->ag->n);
	S->status = a.status;
	snprintf(S->body, sizeof S->body, "%s", a.body ? a.body : "");
	th_answer_free(&a);
	return NULL;
}

static void pause_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* Another process holds the agent's lock and then asks for the token's, which the
 * hub's writer took first (auth_bind) before waiting for the agent: a deadlock, which
 * PostgreSQL breaks by failing the writer (it waited first). The writer runs the group
 * again once the other process has let go: 200, the change set stored once. */
static void test_hub_api_pg__group_lost_to_a_deadlock_is_run_again(void **state)
{
	struct pg_hub *H = *state;
	struct store *other;
	char err[256], hash[65];
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", PERSON1, 'i', U_C1, "full_name=s:Nguyễn Văn An;birth_year=i:1990;gender=s:nam;phone=n", 0);
	th_add(&ag, "person", PERSON2, 'i', U_C1, "full_name=s:Trần Thị Bình;birth_year=i:1992;gender=s:nu;phone=n", 0);
	ids_token_hash(H->h.token_c1, hash);

	assert_int_equal(hub_store_open(H->url, 0, &other, err, sizeof err), 0);
	struct store_pg *o = store_pg_of(other);
	assert_int_equal(other->begin(other), 0);
	assert_int_equal(store_pg_lock(o, STORE_PG_LOCK_AGENT, AG1), 0);
	struct sender S = { .h = &H->h, .ag = &ag, .token = H->h.token_c1 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, send_all, &S), 0);
	pause_ms(400); /* the writer holds the token's lock and waits for the agent's */
	assert_int_equal(store_pg_lock(o, STORE_PG_LOCK_TOKEN, hash), 0);
	assert_int_equal(other->rollback(other), 0);
	pthread_join(th, NULL);
	assert_int_equal(S.status, 200);
	assert_non_null(strstr(S.body, "\"acked\":2"));
	assert_non_null(strstr(S.body, "\"applied\":2"));

	struct store_agent a;
	assert_int_equal(other->agent_get(other, AG1, &a), 0);
	assert_int_equal(a.acked, 2);
	int64_t n = 0;
	PGresult *r;
	assert_int_equal(store_pg_exec(o, "SELECT count(*) FROM hub_receipt WHERE agent_id = $1", 1,
				       (const char *const[]){ AG1 }, &r), 0);
	n = store_pg_int(r, 0, 0);
	PQclear(r);
	assert_int_equal(n, 1);
	other->close(other);
	th_agent_release(&ag);
}

/* Two hubs (two processes' APIs) on one database, the same change set through both at
 * once: one applies it, the other answers it as a duplicate — the agent is acknowledged
 * once, one receipt applied. */
static void test_hub_api_pg__same_change_set_through_two_hubs_applied_once(void **state)
{
	struct pg_hub *H = *state;
	struct th_hub second = H->h;
	char err[256];
	struct api_options o = { .db_path = H->url };
	assert_int_equal(api_new(&o, &second.api, err, sizeof err), 0);
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	for (int i = 0; i < 20; i++) {
		char id[40];
		snprintf(id, sizeof id, "0190f3b0-0000-7000-8000-0000000b%04d", i % 10000);
		th_add(&ag, "person", id, 'i', U_C1, "full_name=s:Lê Văn Cường;birth_year=i:1995;gender=s:nam;phone=n", 0);
	}
	struct sender A = { .h = &H->h, .ag = &ag, .token = H->h.token_c1 };
	struct sender B = { .h = &second, .ag = &ag, .token = H->h.token_c1 };
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, send_all, &A), 0);
	assert_int_equal(pthread_create(&tb, NULL, send_all, &B), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(A.status, 200);
	assert_int_equal(B.status, 200);
	int dupA = strstr(A.body, "\"duplicate\":true") != NULL;
	int dupB = strstr(B.body, "\"duplicate\":true") != NULL;
	assert_true(dupA != dupB);

	struct store *s;
	assert_int_equal(hub_store_open(H->url, 0, &s, err, sizeof err), 0);
	PGresult *r;
	assert_int_equal(store_pg_exec(store_pg_of(s), "SELECT sum(applied), count(*) FROM hub_receipt"
				       " WHERE agent_id = $1", 1, (const char *const[]){ AG1 }, &r), 0);
	assert_int_equal(store_pg_int(r, 0, 0), 20);
	assert_int_equal(store_pg_int(r, 0, 1), 2);
	PQclear(r);
	s->close(s);
	api_free(second.api);
	th_agent_release(&ag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hub_api_pg__group_lost_to_a_deadlock_is_run_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hub_api_pg__same_change_set_through_two_hubs_applied_once,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
