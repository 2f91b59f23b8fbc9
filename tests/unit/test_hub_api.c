/*
 * test_hub_api.c — every answer of the hub's API through api_handle (no sockets):
 * hello, duplicate, overlap, gap, fork and recover, held changes, quarantine, another
 * unit's row, dangling references, closed units, tokens (revoked, viewer, bound),
 * version mismatches, size limits, clocks too far ahead, pull, status and metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "hub_test_util.h"

#define AG1 "0190f3a2-7c1e-7d44-9a0b-0000000000a1"
#define AG2 "0190f3a2-7c1e-7d44-9a0b-0000000000a2"
#define AGD "0190f3a2-7c1e-7d44-9a0b-0000000000ad"
#define AGN "0190f3a2-7c1e-7d44-9a0b-0000000000a9"
#define P1 "0190f3b0-0000-7000-8000-000000000001"
#define P2 "0190f3b0-0000-7000-8000-000000000002"
#define P3 "0190f3b0-0000-7000-8000-000000000003"
#define R1 "0190f3b0-0000-7000-8000-0000000000f1"
#define PERSON "full_name=s:Nguyễn Văn An;birth_year=i:1990;gender=s:nam;phone=n"




static void three_people(struct th_agent *ag)
{
	th_add(ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(ag, "person", P2, 'i', U_B1, PERSON, 0);
	th_add(ag, "person", P1, 'u', U_C1, "phone=s:0901", 0);
}

static void test_hub_api__hello_binds_the_token_and_lists_checksums_of_the_scope(void **state)
{
	struct th_hub *h = *state;
	struct th_answer a = th_hello(h, AG1, h->token_c1);
	assert_int_equal(a.status, 200);
	struct wire_hello_answer ans;
	struct wire_status st;
	assert_int_equal(wire_hello_answer_decode(a.body, strlen(a.body), &ans, &st), 0);
	assert_int_equal(ans.acked, 0);
	assert_string_equal(ans.unit, U_C1);
	assert_int_equal(ans.max_ahead_ms, HLC_MAX_AHEAD_MS);
	assert_int_equal(ans.nchecksums, 2); /* C1 and its branch B1 */
	assert_false(ans.retired);
	wire_hello_answer_release(&ans);
	th_answer_free(&a);
	/* another agent id on the same token is refused */
	th_expect(th_hello(h, AG2, h->token_c1), 403, "token_bound");
}

#define AGM "0190f3a2-7c1e-7d44-9a0b-0000000000a8"

/* A binding made before the hub was restored (the backup predates a recover's
 * re-binding: the laptop speaks an id the hub never saw): the token re-binds once, as
 * after a refused fork, to a never-seen id only — never to another laptop's id. */
static void test_hub_api__a_binding_older_than_the_hubs_restore_rebinds_once_to_a_never_seen_id(void **state)
{
	struct th_hub *h = *state;
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"retired\":false");
	th_expect(th_hello(h, AG2, h->token_c2), 200, "\"retired\":false");
	/* before any restore: no re-binding */
	th_expect(th_hello(h, AGN, h->token_c1), 403, "token_bound");
	/* restored: the hub's id changes */
	assert_int_equal(th_sql_count(h, "UPDATE hub_meta SET value = '0190f3a0-0000-7000-8000-0000000000ee'"
				      " WHERE key = 'hub_id'"), 1);
	/* never another laptop's id, nothing retired */
	th_expect(th_hello(h, AG2, h->token_c1), 403, "token_bound");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_agent WHERE retired_to <> ''"), 0);
	th_expect(th_hello(h, AGN, h->token_c1), 200, "\"retired\":false");
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"retired\":true");
	/* once: the new binding is of the current hub id */
	th_expect(th_hello(h, AGM, h->token_c1), 403, "token_bound");
	th_expect(th_hello(h, AG2, h->token_c2), 200, "\"retired\":false");
}

/* A hello whose acked is beyond what the hub holds for its id: the hub lost entries it
 * acknowledged (restored from an older backup), so the token may re-bind to a never-seen
 * id as after a refused fork; a hello at or below it changes nothing. */
static void test_hub_api__a_hello_beyond_what_the_hub_holds_lets_the_token_rebind_as_after_a_fork(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "");
	th_expect(th_hello(h, AG2, h->token_c2), 200, "\"retired\":false");
	th_expect(th_hello_acked(h, AG1, h->token_c1, 3), 200, "\"acked\":3");
	th_expect(th_hello(h, AGN, h->token_c1), 403, "token_bound");
	th_expect(th_hello_acked(h, AG1, h->token_c1, 7), 200, "\"acked\":3");
	th_expect(th_hello(h, AG2, h->token_c1), 403, "token_bound"); /* never-seen only */
	th_expect(th_hello(h, AGN, h->token_c1), 200, "\"retired\":false");
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"retired\":true");
	th_agent_release(&ag);
}

/* PROTOCOL.md §6.1: the hello answer names the change-set shape: 1 to an agent that
 * names none (protocol 1), the smaller of the agent's and the hub's otherwise. */
static void test_hub_api__hello_answer_names_shape_2_only_to_an_agent_that_sends_it(void **state)
{
	struct th_hub *h = *state;
	char json[400];
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"changes_v\":1");
	snprintf(json, sizeof json,
		 "{\"v\":1,\"schema\":1,\"agent\":\"%s\",\"wall\":%lld,\"pending\":0,\"acked\":0,"
		 "\"software\":\"test\",\"changes_v\":2}", AG1, (long long)th_now_ms());
	th_expect(th_call(h->api, "POST", "/v1/hello", h->token_c1, json), 200, "\"changes_v\":2");
	snprintf(json, sizeof json,
		 "{\"v\":1,\"schema\":1,\"agent\":\"%s\",\"wall\":%lld,\"pending\":0,\"acked\":0,"
		 "\"software\":\"test\",\"changes_v\":9}", AG1, (long long)th_now_ms());
	th_expect(th_call(h->api, "POST", "/v1/hello", h->token_c1, json), 200, "\"changes_v\":2");
	snprintf(json, sizeof json,
		 "{\"v\":1,\"schema\":1,\"agent\":\"%s\",\"wall\":%lld,\"pending\":0,\"acked\":0,"
		 "\"software\":\"test\",\"changes_v\":0}", AG1, (long long)th_now_ms());
	th_expect(th_call(h->api, "POST", "/v1/hello", h->token_c1, json), 400, "bad_message");
}

/* PROTOCOL.md §6.2a: the chain does not depend on the shape, so entries sent again in
 * the other shape are duplicates. */
static void test_hub_api__entries_sent_again_in_the_other_shape_are_duplicates(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_add(&ag, "person", P3, 'd', U_C1, NULL, 0);
	th_expect(th_send_shape(h, &ag, h->token_c1, 1, 3, WIRE_CHANGES_V2), 200, "\"applied\":3");
	th_expect(th_send_shape(h, &ag, h->token_c1, 1, 3, WIRE_CHANGES_V1), 200, "\"duplicate\":true");
	th_expect(th_send_shape(h, &ag, h->token_c1, 2, 4, WIRE_CHANGES_V2), 200, "\"applied\":1");
	th_expect(th_send_shape(h, &ag, h->token_c1, 1, 4, WIRE_CHANGES_V2), 200, "\"duplicate\":true");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE _del_writer <> ''"), 1);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_receipt"), 4);
	th_agent_release(&ag);
}

static void test_hub_api__duplicate_is_acknowledged_again_without_applying(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"applied\":3");
	int64_t hs = th_sql_count(h, "SELECT max(_hs) FROM person");
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"duplicate\":true");
	th_expect(th_send(h, &ag, h->token_c1, 1, 2), 200, "\"applied\":0");
	assert_int_equal(th_sql_count(h, "SELECT max(_hs) FROM person"), hs);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_receipt"), 3);
	th_agent_release(&ag);
}

static void test_hub_api__overlap_applies_only_the_tail(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_add(&ag, "person", P3, 'i', U_C1, PERSON, 0);
	th_add(&ag, "person", P3, 'd', U_C1, NULL, 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"acked\":3");
	th_expect(th_send(h, &ag, h->token_c1, 2, 5), 200, "\"applied\":2");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P3 "' AND _del_writer <> ''"), 1);
	th_agent_release(&ag);
}

static void test_hub_api__gap_is_refused_with_the_sequence_expected(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_add(&ag, "person", P3, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, 1), 200, "\"acked\":1");
	th_expect(th_send(h, &ag, h->token_c1, 3, 4), 409, "\"expected\":2");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 1);
	th_expect(th_send(h, &ag, h->token_c1, 2, 4), 200, "\"acked\":4");
	th_agent_release(&ag);
}

static void test_hub_api__fork_is_refused_and_recover_rebinds_the_token_once(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, restored;
	th_agent_init(&ag, AG1);
	th_agent_init(&restored, AG1);
	three_people(&ag);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"acked\":3");
	/* a laptop restored from an old backup wrote other entries 2..4 */
	th_add(&restored, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&restored, "person", P3, 'i', U_C1, PERSON, 0);
	th_add(&restored, "person", P3, 'u', U_C1, "phone=s:1", 0);
	th_add(&restored, "person", P3, 'u', U_C1, "phone=s:2", 0);
	th_expect(th_send(h, &restored, h->token_c1, 4, 4), 409, "\"fork\"");
	th_expect(th_send(h, &restored, h->token_c1, 2, 4), 409, "\"fork\"");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P3 "'"), 0);
	/* recover: a new id binds once; the old id is retired */
	th_expect(th_hello(h, AGN, h->token_c1), 200, "\"retired\":false");
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"retired\":true");
	th_expect(th_hello(h, AG2, h->token_c1), 403, "token_bound");
	th_expect(th_send(h, &restored, h->token_c1, 4, 4), 403, "agent_retired");
	th_agent_release(&ag);
	th_agent_release(&restored);
}

/* PROTOCOL.md §9: a district office's laptop pushes; its agent id is visible to any
 * office in pulled rows (the writer of every field). */
static void district_pushes(struct th_hub *h, struct th_agent *ad)
{
	th_agent_init(ad, AGD);
	th_add(ad, "person", P1, 'i', U_D, PERSON, 0);
	th_expect(th_hello(h, AGD, h->token_d), 200, NULL);
	th_expect(th_send(h, ad, h->token_d, 1, 1), 200, "\"acked\":1");
}

static int close_c2(struct store *s, void *ctx);

static void test_hub_api__a_token_cannot_take_over_another_offices_agent_id(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ad, thief;
	district_pushes(h, &ad);
	/* a commune token that never said hello tries the district laptop's id */
	struct th_answer a = th_hello(h, AGD, h->token_c2);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.body, "token_bound"));
	assert_null(strstr(a.body, "\"acked\""));
	assert_null(strstr(a.body, "\"chain\""));
	th_answer_free(&a);
	/* and pushes as that office from acked+1: a row of the district, outside C2 */
	th_agent_init(&thief, AGD);
	th_add(&thief, "person", P1, 'i', U_D, PERSON, 0);
	th_add(&thief, "person", P2, 'i', U_D, PERSON, 0);
	th_expect(th_send(h, &thief, h->token_c2, 2, 2), 403, "token_bound");
	th_expect(th_send(h, &thief, h->token_c2, 1, 2), 403, "token_bound");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P2 "'"), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_token WHERE agent_id = '" AGD "'"), 1);
	assert_int_equal(th_sql_count(h, "SELECT unit_id = '" U_D "' AND acked = 1 FROM hub_agent WHERE id = '" AGD "'"), 1);
	/* the token is still free for its own laptop; the district laptop goes on unharmed */
	th_expect(th_hello(h, AG2, h->token_c2), 200, "\"acked\":0");
	th_add(&ad, "person", P1, 'u', U_D, "phone=s:0901", 0);
	th_expect(th_send(h, &ad, h->token_d, 2, 2), 200, "\"acked\":2");
	th_agent_release(&ad);
	th_agent_release(&thief);
}

static void test_hub_api__a_token_that_forks_itself_cannot_rebind_to_an_existing_id(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ad, ag, forked;
	district_pushes(h, &ad);
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"acked\":3");
	/* a fork on purpose: other entries under the same sequence numbers */
	th_agent_init(&forked, AG1);
	th_add(&forked, "person", P3, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &forked, h->token_c1, 1, 1), 409, "\"fork\"");
	/* then the district laptop's id: refused, nothing learnt, nothing retired */
	struct th_answer a = th_hello(h, AGD, h->token_c1);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.body, "token_bound"));
	assert_null(strstr(a.body, "\"acked\""));
	th_answer_free(&a);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_agent WHERE retired_to <> ''"), 0);
	assert_int_equal(th_sql_count(h, "SELECT unit_id = '" U_D "' FROM hub_agent WHERE id = '" AGD "'"), 1);
	th_add(&ad, "person", P1, 'u', U_D, "phone=s:0902", 0);
	th_expect(th_send(h, &ad, h->token_d, 2, 2), 200, "\"acked\":2");
	/* a real recover (a never-seen id) still works, and the retired id answers only
	 * its own token */
	th_expect(th_hello(h, AGN, h->token_c1), 200, "\"retired\":false");
	th_expect(th_hello(h, AG1, h->token_c1), 200, "\"retired\":true");
	a = th_hello(h, AG1, h->token_c2);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.body, "token_bound"));
	assert_null(strstr(a.body, "retired"));
	th_answer_free(&a);
	th_agent_release(&ad);
	th_agent_release(&ag);
	th_agent_release(&forked);
}

struct enroll_job {
	const char *unit, *agent;
	char token[IDS_TOKEN_TEXT];
	int result, revoked;
};

static int enroll_agent(struct store *s, void *ctx)
{
	struct enroll_job *E = ctx;
	E->result = auth_enroll_agent(s, E->unit, "laptop", E->agent, th_now_ms(), E->token, &E->revoked);
	return E->result < 0 ? -1 : 0;
}

static void test_hub_api__a_reinstalled_laptop_enrolled_with_its_agent_id_keeps_its_sequence(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, a2;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "\"acked\":3");
	/* the province names ids: unknown, of another unit, then the laptop's own */
	struct enroll_job E = { .unit = U_C1, .agent = AGN };
	assert_int_equal(th_with_store(h, enroll_agent, &E), 0);
	assert_int_equal(E.result, AUTH_ENROLL_UNKNOWN_AGENT);
	E.unit = U_C2;
	E.agent = AG1;
	assert_int_equal(th_with_store(h, enroll_agent, &E), 0);
	assert_int_equal(E.result, AUTH_ENROLL_OTHER_UNIT);
	E.unit = U_C1;
	assert_int_equal(th_with_store(h, enroll_agent, &E), 0);
	assert_int_equal(E.result, AUTH_ENROLL_OK);
	assert_int_equal(E.revoked, 1);
	/* the old token is revoked; the new one speaks for the id and keeps its sequence */
	th_expect(th_hello(h, AG1, h->token_c1), 401, "revoked");
	th_expect(th_hello(h, AG1, E.token), 200, "\"acked\":3");
	th_add(&ag, "person", P3, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &ag, E.token, 4, 4), 200, "\"acked\":4");
	/* a laptop of C2, enrolled again for C1 once C2 was merged into it */
	th_agent_init(&a2, AG2);
	th_add(&a2, "person", P2, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &a2, h->token_c2, 1, 1), 200, "\"acked\":1");
	struct enroll_job M = { .unit = U_C1, .agent = AG2 };
	assert_int_equal(th_with_store(h, enroll_agent, &M), 0);
	assert_int_equal(M.result, AUTH_ENROLL_OTHER_UNIT);
	assert_int_equal(th_with_store(h, close_c2, NULL), 0);
	assert_int_equal(th_with_store(h, enroll_agent, &M), 0);
	assert_int_equal(M.result, AUTH_ENROLL_OK);
	assert_int_equal(th_sql_count(h, "SELECT unit_id = '" U_C1 "' FROM hub_agent WHERE id = '" AG2 "'"), 1);
	th_expect(th_hello(h, AG2, M.token), 200, "\"acked\":1");
	th_agent_release(&ag);
	th_agent_release(&a2);
}

static void test_hub_api__update_before_insert_is_held_hidden_then_settled(void **state)
{
	struct th_hub *h = *state;
	struct th_agent a1, a2;
	th_agent_init(&a1, AG1);
	th_agent_init(&a2, AGD);
	/* the update is later than the insert, but arrives first */
	th_add(&a2, "person", P1, 'u', U_C1, "phone=s:0909", hlc_from_ms(th_now_ms() + 1000));
	th_add(&a1, "person", P1, 'i', U_C1, PERSON, hlc_from_ms(th_now_ms() - 1000));
	th_expect(th_send(h, &a2, h->token_d, 1, 1), 200, "\"applied\":1");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'held' AND row_id = '" P1 "'"), 1);
	th_expect(th_send(h, &a1, h->token_c1, 1, 1), 200, "\"applied\":1");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'held'"), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE phone = '0909' AND _ins_writer <> ''"), 1);
	th_agent_release(&a1);
	th_agent_release(&a2);
}

static void test_hub_api__change_for_an_unknown_unit_is_held_until_the_unit_arrives(void **state)
{
	struct th_hub *h = *state;
	struct th_agent a1, ad;
	th_agent_init(&a1, AG1);
	th_agent_init(&ad, AGD);
	/* the district writes for a branch its commune created but has not synced yet */
	th_add(&ad, "person", P2, 'i', U_X, PERSON, 0);
	th_expect(th_send(h, &ad, h->token_d, 1, 1), 200, "\"applied\":0");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_held"), 1);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	th_add(&a1, "unit", U_X, 'i', U_C1, "opened_on=s:2024-01-01", 0);
	th_add(&a1, "unit_parent", "0190f3b0-0000-7000-8000-0000000000e2", 'i', U_C1,
	       "of_unit=s:" U_X ";parent_id=s:" U_C1 ";valid_from=s:2024-01-01;valid_to=n", 0);
	th_expect(th_send(h, &a1, h->token_c1, 1, 2), 200, "\"applied\":2");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_held"), 0);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE unit_id = '" U_X "'"), 1);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'held'"), 0);
	th_agent_release(&a1);
	th_agent_release(&ad);
}

static void test_hub_api__bad_value_is_quarantined_and_the_set_acknowledged(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C1, "full_name=s:An;birth_year=i:1990;gender=s:zzz;phone=n", 0);
	th_add(&ag, "person", P2, 'i', U_C1, PERSON, 0);
	struct th_answer a = th_send(h, &ag, h->token_c1, 1, 2);
	assert_int_equal(a.status, 200);
	struct wire_changes_answer ans;
	struct wire_status st;
	assert_int_equal(wire_changes_answer_decode(a.body, strlen(a.body), &ans, &st), 0);
	assert_int_equal(ans.acked, 2);
	assert_int_equal(ans.applied, 1);
	assert_int_equal(ans.nquarantined, 1);
	assert_int_equal(ans.quarantined[0].seq, 1);
	assert_string_equal(ans.quarantined[0].code, "bad_enum");
	assert_string_equal(ans.quarantined[0].field, "gender");
	wire_changes_answer_release(&ans);
	th_answer_free(&a);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine WHERE code = 'bad_enum'"), 1);
	th_agent_release(&ag);
}

static void test_hub_api__owner_change_is_quarantined_and_skipped_entries_listed(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&ag, "person", P1, 'u', U_B1, "phone=s:1", 0); /* another owner: refused */
	struct th_entry *sk = th_add(&ag, "person", P2, 'i', U_C1, PERSON, 0);
	/* entry 3 could not be sent: it travels as (seq, hash, reason) */
	unsigned char h3[32], prev[32];
	entry_hash(&sk->e, h3);
	memcpy(prev, ag.v[1].chain, 32);
	sk->e.skipped = 1;
	memcpy(sk->e.hash, h3, 32);
	sk->e.reason = "too_large";
	entry_chain_step(prev, h3, sk->chain);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, "owner_changed");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_skipped WHERE seq = 3 AND reason = 'too_large'"), 1);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE unit_id = '" U_C1 "' AND phone IS NULL"), 1);
	th_expect(th_call(h->api, "GET", "/v1/status", h->token_viewer, NULL), 200,
	       "\"skipped\":[{\"seq\":3,\"reason\":\"too_large\"}]");
	th_agent_release(&ag);
}

static void test_hub_api__another_units_row_is_quarantined_out_of_scope(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C2, PERSON, 0);
	th_add(&ag, "person", P2, 'i', U_D, PERSON, 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, 2), 200, "out_of_scope");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine WHERE code = 'out_of_scope'"), 2);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	/* nor pull another unit into its scope with a parent link */
	th_add(&ag, "unit_parent", "0190f3b0-0000-7000-8000-0000000000e3", 'i', U_C1,
	       "of_unit=s:" U_C2 ";parent_id=s:" U_C1 ";valid_from=s:2024-01-01;valid_to=n", 0);
	th_add(&ag, "unit_parent", "0190f3b0-0000-7000-8000-0000000000e4", 'i', U_C1,
	       "of_unit=s:" U_B1 ";parent_id=s:" U_D ";valid_from=s:2024-01-01;valid_to=n", 0);
	th_expect(th_send(h, &ag, h->token_c1, 3, 4), 200, "\"applied\":0");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_quarantine WHERE code = 'out_of_scope'"), 4);
	/* the district may write for its communes */
	struct th_agent ad;
	th_agent_init(&ad, AGD);
	th_add(&ad, "person", P1, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &ad, h->token_d, 1, 1), 200, "\"applied\":1");
	th_agent_release(&ag);
	th_agent_release(&ad);
}

static void test_hub_api__dangling_reference_is_flagged_until_the_row_arrives(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "role", R1, 'i', U_C1,
	       "person_id=s:" P1 ";role=s:branch_secretary;of_unit=s:" U_B1 ";term_from=s:2021-01-01;term_until=n", 0);
	th_add(&ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, 1), 200, "\"applied\":1");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'dangling_ref' AND field = 'person_id'"), 1);
	th_expect(th_send(h, &ag, h->token_c1, 2, 2), 200, "\"applied\":1");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'dangling_ref'"), 0);
	th_agent_release(&ag);
}

static int close_c2(struct store *s, void *ctx)
{
	(void)ctx;
	struct validate_status vs;
	struct field f[] = { { "kind", th_text("merge") }, { "of_unit", th_text(U_C2) },
			     { "other_unit", th_text(U_C1) }, { "effective_on", th_text("2020-01-01") },
			     { "note", th_text(NULL) } };
	struct entry e = { .table = "unit_event", .id = "0190f3b0-0000-7000-8000-0000000000e5", .op = 'i',
			   .owner = U_P, .fields = f, .nfields = 5 };
	return changes_apply_hub(s, &e, th_now_ms(), &vs);
}

static void test_hub_api__closed_unit_record_is_flagged_and_merged_unit_joins_the_scope(void **state)
{
	struct th_hub *h = *state;
	assert_int_equal(th_with_store(h, close_c2, NULL), 0);
	struct th_agent ad;
	th_agent_init(&ad, AGD);
	th_add(&ad, "person", P1, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &ad, h->token_d, 1, 1), 200, "\"applied\":1");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'closed_unit' AND suggestion = '" U_C1 "'"), 1);
	/* C2 was merged into C1: C1's office may now write C2's rows */
	struct th_agent a1;
	th_agent_init(&a1, AG1);
	th_add(&a1, "person", P2, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &a1, h->token_c1, 1, 1), 200, "\"applied\":1");
	th_agent_release(&a1);
	th_agent_release(&ad);
}

/* Pulls one page from cursor with token; returns it decoded (free with
 * wire_pull_page_free). */
static struct wire_pull_page *pull_page(struct th_hub *h, const char *token, uint64_t cursor)
{
	char cur[32];
	struct wire_pull_page *page = NULL;
	struct wire_status st;
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)cursor);
	const char *q[] = { "cursor", cur, NULL };
	struct th_answer a = th_call_raw(h->api, "GET", "/v1/pull", token, NULL, NULL, 0, q);
	assert_int_equal(a.status, 200);
	assert_int_equal(wire_pull_page_decode(a.body, strlen(a.body), &page, &st), 0);
	th_answer_free(&a);
	return page;
}

static int branch_under_c1(struct store *s, void *ctx)
{
	(void)ctx;
	return th_hub_unit(s, U_X, U_C1, "Thôn X", "branch", U_C1, "0190f3a2-0000-7000-8000-000000001009",
			   "0190f3a2-0000-7000-8000-000000002009");
}

/* Issue 18 item 5, PROTOCOL.md §6.3: C2's person lies below C1's cursor; once C2 is
 * merged into C1, C1's next pull answers an empty page with cursor 0 and more, and
 * the pull from 0 brings the person. A scope grown by a unit with no older row (a new
 * branch), or unchanged, goes on from the cursor. */
static void test_hub_api__a_pull_after_the_scope_grew_starts_again_from_0(void **state)
{
	struct th_hub *h = *state;
	struct th_agent a1, a2;
	th_agent_init(&a1, AG1);
	th_agent_init(&a2, AG2);
	th_add(&a2, "person", P2, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &a2, h->token_c2, 1, 1), 200, "\"applied\":1");
	th_add(&a1, "person", P1, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &a1, h->token_c1, 1, 1), 200, "\"applied\":1");
	struct wire_pull_page *p = pull_page(h, h->token_c1, 0);
	uint64_t cursor = p->cursor;
	assert_false(p->more);
	wire_pull_page_free(p);
	p = pull_page(h, h->token_c1, cursor); /* unchanged: from the cursor */
	assert_int_equal(p->nrows, 0);
	assert_int_equal(p->cursor, cursor);
	wire_pull_page_free(p);
	assert_int_equal(th_with_store(h, branch_under_c1, NULL), 0);
	p = pull_page(h, h->token_c1, cursor); /* grown by a unit without older rows */
	assert_true(p->nrows > 0);
	assert_true(p->cursor > cursor);
	cursor = p->cursor;
	wire_pull_page_free(p);
	assert_int_equal(th_with_store(h, close_c2, NULL), 0);
	p = pull_page(h, h->token_c1, cursor); /* grown by C2, whose person is older */
	assert_int_equal(p->nrows, 0);
	assert_int_equal(p->cursor, 0);
	assert_true(p->more);
	wire_pull_page_free(p);
	p = pull_page(h, h->token_c1, 0);
	int found = 0;
	for (size_t i = 0; i < p->nrows; i++)
		found |= strcmp(p->rows[i].id, P2) == 0;
	assert_true(found);
	cursor = p->cursor;
	wire_pull_page_free(p);
	p = pull_page(h, h->token_c1, cursor); /* recorded: no second restart */
	assert_int_equal(p->cursor, cursor);
	assert_false(p->more);
	wire_pull_page_free(p);
	th_agent_release(&a1);
	th_agent_release(&a2);
}

/* The merge remembers, for one change set, which owner it found never closed: that
 * must not spill over to the rows of another owner, closed, later in the same set. */
static void test_hub_api__rows_of_a_closed_unit_after_an_open_one_in_a_change_set_are_flagged(void **state)
{
	struct th_hub *h = *state;
	assert_int_equal(th_with_store(h, close_c2, NULL), 0);
	struct th_agent ad;
	th_agent_init(&ad, AGD);
	th_add(&ad, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&ad, "person", P2, 'i', U_C2, PERSON, 0);
	th_add(&ad, "person", P3, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &ad, h->token_d, 1, 3), 200, "\"applied\":3");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'closed_unit'"), 2);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_flag WHERE kind = 'closed_unit' AND row_id = '" P1 "'"), 0);
	th_agent_release(&ad);
}

/* The writer keeps each office's scope between change sets: a reform written by
 * another connection (the CLI) must reach the next change set all the same. */
static void test_hub_api__scope_kept_between_change_sets_follows_a_reform_written_elsewhere(void **state)
{
	struct th_hub *h = *state;
	struct th_agent a1;
	th_agent_init(&a1, AG1);
	th_add(&a1, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&a1, "person", P2, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &a1, h->token_c1, 1, 1), 200, "\"applied\":1");
	th_expect(th_send(h, &a1, h->token_c1, 2, 2), 200, "out_of_scope");
	assert_int_equal(th_with_store(h, close_c2, NULL), 0);
	th_add(&a1, "person", P3, 'i', U_C2, PERSON, 0);
	th_expect(th_send(h, &a1, h->token_c1, 3, 3), 200, "\"applied\":1");
	th_agent_release(&a1);
}

static int unit_write_undone(struct store *s, void *ctx)
{
	uint64_t *v = ctx;
	struct validate_status vs;
	struct field uf[] = { { "opened_on", th_text("2001-01-01") } };
	struct entry e = { .table = "unit", .id = U_X, .op = 'i', .owner = U_P, .fields = uf, .nfields = 1 };
	if (s->units_version(s, &v[0]) != 0 || s->savepoint(s) != 0 ||
	    changes_apply_hub(s, &e, th_now_ms(), &vs) != 0 || s->units_version(s, &v[1]) != 0 ||
	    s->savepoint_end(s, 0) != 0 || s->units_version(s, &v[2]) != 0)
		return -1;
	return 0;
}

/* What a scope was derived from may change by a unit write and again by undoing it:
 * the version differs after each, never returning to a value a scope was kept at. */
static void test_hub_api__units_version_changes_on_a_unit_write_and_on_its_undoing(void **state)
{
	struct th_hub *h = *state;
	uint64_t v[3];
	assert_int_equal(th_with_store(h, unit_write_undone, v), 0);
	assert_true(v[0] != v[1]);
	assert_true(v[1] != v[2]);
	assert_true(v[0] != v[2]);
}

/* The writer's commits leave copying the log into the database to another thread;
 * the log file must still start over, even when that thread never runs (or never
 * catches up under a steady stream of commits): ~10,000 pages committed, 400 commits,
 * and the log stays within twice the point where the writer catches up itself. */
static void test_hub_api__writer_log_stays_bounded_without_a_checkpointer(void **state)
{
	struct th_hub *h = *state;
	struct store *s;
	char err[256], wal[128];
	assert_int_equal(store_sqlite_open(h->path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->writer_tune(s), 0);
	char *big = malloc(100001);
	assert_non_null(big);
	memset(big, 'x', 100000);
	big[100000] = 0;
	for (int i = 0; i < 400; i++) {
		big[0] = (char)('a' + i % 26);
		assert_int_equal(s->begin(s), 0);
		assert_int_equal(s->meta_set(s, "test_blob", big), 0);
		assert_int_equal(s->commit(s), 0);
	}
	snprintf(wal, sizeof wal, "%s-wal", h->path);
	struct stat st;
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size < 2 * 4096 * (4096 + 24));
	free(big);
	s->close(s);
}

static void test_hub_api__revoked_token_is_refused(void **state)
{
	struct th_hub *h = *state;
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	char prefix[12];
	snprintf(prefix, sizeof prefix, "%.11s", h->token_c1);
	struct store *s;
	char err[200];
	assert_int_equal(store_sqlite_open(h->path, 0, &s, err, sizeof err), 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(auth_revoke(s, prefix, th_now_ms()), 1);
	assert_int_equal(s->commit(s), 0);
	s->close(s);
	th_expect(th_hello(h, AG1, h->token_c1), 401, "\"revoked\"");
	th_expect(th_hello(h, AG1, "lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401, "unauthorized");
	th_expect(th_hello(h, AG1, NULL), 401, "unauthorized");
}

/* GET /v1/whoami (PROTOCOL.md §12): the office a join code sets up, before the laptop
 * exists — its name, code, kind and parent — and whether the code was used already;
 * asking binds nothing (a hello with any new id still binds afterwards). */
static void test_hub_api__whoami_names_the_office_and_binds_nothing(void **state)
{
	struct th_hub *h = *state;
	struct th_answer a = th_call(h->api, "GET", "/v1/whoami", h->token_c1, NULL);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "\"unit\":\"" U_C1 "\""));
	assert_non_null(strstr(a.body, "\"unit_name\":\"Xã C1\""));
	assert_non_null(strstr(a.body, "\"unit_kind\":\"commune\""));
	assert_non_null(strstr(a.body, "\"parent_name\":\"Huyện D\""));
	assert_non_null(strstr(a.body, "\"bound\":false"));
	th_answer_free(&a);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_agent"), 0);
	/* once the laptop said hello, the code is used */
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_call(h->api, "GET", "/v1/whoami", h->token_c1, NULL), 200, "\"bound\":true");
	/* a viewer's token, an unknown one: refused as on every agent route */
	th_expect(th_call(h->api, "GET", "/v1/whoami", h->token_viewer, NULL), 403, "forbidden");
	th_expect(th_call(h->api, "GET", "/v1/whoami", "lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL), 401,
		  "unauthorized");
}

static void test_hub_api__viewer_token_cannot_write_and_agent_cannot_read_status(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_expect(th_send(h, &ag, h->token_viewer, 1, 3), 403, "forbidden");
	th_expect(th_hello(h, AG1, h->token_viewer), 403, "forbidden");
	th_expect(th_call(h->api, "GET", "/v1/status", h->token_c1, NULL), 403, "forbidden");
	th_expect(th_call(h->api, "GET", "/metrics", h->token_c1, NULL), 403, "forbidden");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	th_agent_release(&ag);
}

static void test_hub_api__protocol_and_schema_version_mismatch_are_refused_whole(void **state)
{
	struct th_hub *h = *state;
	th_expect(th_call(h->api, "POST", "/v1/hello", h->token_c1,
		       "{\"v\":2,\"schema\":1,\"agent\":\"" AG1 "\",\"wall\":1,\"pending\":0,\"acked\":0}"),
	       400, "protocol_version");
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	char *json = th_changeset(&ag, 1, 3, SCHEMA_VERSION + 1);
	th_expect(th_call(h->api, "POST", "/v1/changes", h->token_c1, json), 422, "\"hub_schema\":1");
	free(json);
	/* an unknown column refuses the whole change set */
	th_add(&ag, "person", P3, 'u', U_C1, "nickname=s:x", 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, 4), 400, "unknown_column");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	th_agent_release(&ag);
}

static void test_hub_api__size_limits_and_encoding_are_enforced(void **state)
{
	struct th_hub *h = *state;
	/* inflated over 8 MiB: a bomb is stopped while inflating */
	size_t big = WIRE_MAX_INFLATED_BYTES + 16;
	char *spaces = malloc(big);
	assert_non_null(spaces);
	memset(spaces, ' ', big);
	unsigned char *z;
	size_t zlen;
	assert_int_equal(zio_deflate(spaces, big, 9, &z, &zlen), ZIO_OK);
	th_expect(th_call_raw(h->api, "POST", "/v1/changes", h->token_c1, "deflate", z, zlen, NULL), 413,
	       "too_large");
	free(z);
	/* compressed body over 1 MiB */
	th_expect(th_call_raw(h->api, "POST", "/v1/changes", h->token_c1, "deflate", spaces,
			   WIRE_MAX_BODY_BYTES + 1, NULL), 413, "too_large");
	/* not deflated */
	th_expect(th_call_raw(h->api, "POST", "/v1/changes", h->token_c1, NULL, "{}", 2, NULL), 415,
	       "bad_encoding");
	th_expect(th_call_raw(h->api, "POST", "/v1/changes", h->token_c1, "deflate", "xx", 2, NULL), 400,
	       "bad_deflate");
	free(spaces);
	/* more than max_changes entries */
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	for (int i = 0; i < WIRE_MAX_CHANGES + 1; i++)
		th_add(&ag, "person", P1, 'u', U_C1, "phone=s:1", 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, WIRE_MAX_CHANGES + 1), 413, "too_large");
	th_agent_release(&ag);
}

static void test_hub_api__clock_too_far_ahead_is_refused_with_hub_time(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&ag, "person", P1, 'u', U_C1, "phone=s:1", hlc_from_ms(th_now_ms() + 600000));
	th_expect(th_send(h, &ag, h->token_c1, 1, 2), 422, "\"seq\":2");
	th_expect(th_send(h, &ag, h->token_c1, 1, 2), 422, "hub_time");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person"), 0);
	/* lowered below hub time, the same entries go through (the chain ignores clocks) */
	ag.v[1].e.clock = ag.v[0].e.clock + 1;
	th_expect(th_send(h, &ag, h->token_c1, 1, 2), 200, "\"acked\":2");
	th_agent_release(&ag);
}

/* PROTOCOL.md §4: a clock beyond the drift limit is still taken when it is just above
 * the highest clock the hub holds for its row (the hub's clock stepped back after the
 * row was written ahead), so a laptop that pulled that row can write after it; further
 * ahead, or for a row the hub does not hold, it is refused; a duplicate never is. */
static void test_hub_api__clock_ahead_of_hub_time_but_just_above_its_row_is_accepted(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	uint64_t far = hlc_from_ms(th_now_ms() + 3600000);
	char q[256];
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &ag, h->token_c1, 1, 1), 200, "\"acked\":1");
	snprintf(q, sizeof q, "UPDATE person SET _clock = %llu, _ins_clock = %llu WHERE id = '" P1 "'",
		 (unsigned long long)far, (unsigned long long)far);
	assert_int_equal(th_sql_count(h, q), 1);
	th_add(&ag, "person", P1, 'u', U_C1, "phone=s:2", far + 1);
	th_expect(th_send(h, &ag, h->token_c1, 2, 2), 200, "\"acked\":2");
	assert_int_equal(th_sql_count(h, "SELECT phone = '2' FROM person WHERE id = '" P1 "'"), 1);
	/* a duplicate is acknowledged again whatever its clocks */
	th_expect(th_send(h, &ag, h->token_c1, 1, 2), 200, "\"duplicate\":true");
	/* two milliseconds above the row: refused */
	th_add(&ag, "person", P1, 'u', U_C1, "phone=s:3", far + (2 << 16) + (1 << 16));
	th_expect(th_send(h, &ag, h->token_c1, 3, 3), 422, "\"seq\":3");
	/* a row the hub does not hold: the drift limit alone */
	ag.v[2].e.clock = far;
	th_add(&ag, "person", P2, 'i', U_C1, PERSON, far);
	th_expect(th_send(h, &ag, h->token_c1, 3, 4), 422, "\"seq\":4");
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM person WHERE id = '" P2 "'"), 0);
	assert_int_equal(th_sql_count(h, "SELECT phone = '2' FROM person WHERE id = '" P1 "'"), 1);
	th_agent_release(&ag);
}

static void test_hub_api__pull_pages_scope_rows_and_reference_data_in_hub_order(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	three_people(&ag);
	th_expect(th_send(h, &ag, h->token_c1, 1, 3), 200, NULL);
	const char *q0[] = { "cursor", "0", NULL };
	struct th_answer a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c1, NULL, NULL, 0, q0);
	assert_int_equal(a.status, 200);
	struct wire_pull_page *page;
	struct wire_status st;
	assert_int_equal(wire_pull_page_decode(a.body, strlen(a.body), &page, &st), 0);
	/* 5 units + 5 names + 4 links + 2 people */
	assert_int_equal(page->nrows, 16);
	assert_false(page->more);
	assert_string_equal(page->rows[15].table, "person");
	uint64_t cursor = page->cursor;
	wire_pull_page_free(page);
	th_answer_free(&a);
	/* the other commune sees the units but not C1's people */
	a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c2, NULL, NULL, 0, q0);
	assert_int_equal(a.status, 200);
	assert_null(strstr(a.body, "\"person\""));
	th_answer_free(&a);
	/* paging */
	const char *q1[] = { "cursor", "0", "limit", "4", NULL };
	a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c1, NULL, NULL, 0, q1);
	assert_int_equal(wire_pull_page_decode(a.body, strlen(a.body), &page, &st), 0);
	assert_int_equal(page->nrows, 4);
	assert_true(page->more);
	wire_pull_page_free(page);
	th_answer_free(&a);
	char cur[32];
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)cursor);
	const char *q2[] = { "cursor", cur, NULL };
	a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c1, NULL, NULL, 0, q2);
	assert_int_equal(wire_pull_page_decode(a.body, strlen(a.body), &page, &st), 0);
	assert_int_equal(page->nrows, 0);
	wire_pull_page_free(page);
	th_answer_free(&a);
	th_agent_release(&ag);
}

/* A cursor or limit outside [0, 2^53] is 400 bad_message (PROTOCOL.md §6): 2^63 and
 * beyond must not wrap to a negative position that answers from the start. */
static void test_hub_api__pull_cursor_outside_0_to_2_pow_53_is_bad_message(void **state)
{
	struct th_hub *h = *state;
	static const char *const bad[] = { "9223372036854775808", "18446744073709551615",
					   "18446744073709551616", "9007199254740993", "-1", "+5",
					   " 5", "5x", "1e3" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *q[] = { "cursor", bad[i], NULL };
		struct th_answer a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c1, NULL, NULL, 0, q);
		assert_int_equal(a.status, 400);
		assert_non_null(strstr(a.body, "\"bad_message\""));
		assert_non_null(strstr(a.body, "\"cursor\""));
		th_answer_free(&a);
		const char *ql[] = { "cursor", "0", "limit", bad[i], NULL };
		a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c1, NULL, NULL, 0, ql);
		assert_int_equal(a.status, 400);
		assert_non_null(strstr(a.body, "\"limit\""));
		th_answer_free(&a);
	}
	/* 2^53 itself is a cursor: past every row, an empty page */
	const char *q[] = { "cursor", "9007199254740992", NULL };
	struct th_answer a = th_call_raw(h->api, "GET", "/v1/pull", h->token_c1, NULL, NULL, 0, q);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "\"rows\":[]"));
	th_answer_free(&a);
}

/* Pulls every page from cursor (limit 0: the hub's page size) and counts the rows of
 * `table`; *end is the last cursor, *pages the requests made. */
static size_t pull_count(struct th_hub *h, const char *token, uint64_t cursor, unsigned limit,
			 const char *table, uint64_t *end, size_t *pages)
{
	size_t n = 0;
	int more = 1;
	*pages = 0;
	while (more) {
		char cur[32], lim[16];
		snprintf(cur, sizeof cur, "%llu", (unsigned long long)cursor);
		snprintf(lim, sizeof lim, "%u", limit ? limit : WIRE_MAX_PULL_ROWS);
		const char *q[] = { "cursor", cur, "limit", lim, NULL };
		struct th_answer a = th_call_raw(h->api, "GET", "/v1/pull", token, NULL, NULL, 0, q);
		assert_int_equal(a.status, 200);
		struct wire_pull_page *page;
		struct wire_status st;
		assert_int_equal(wire_pull_page_decode(a.body, strlen(a.body), &page, &st), 0);
		assert_true(page->nrows <= (limit ? limit : WIRE_MAX_PULL_ROWS));
		for (size_t i = 0; i < page->nrows; i++)
			n += strcmp(page->rows[i].table, table) == 0;
		more = page->more;
		assert_true(page->cursor >= cursor);
		assert_true(!more || page->cursor > cursor);
		cursor = page->cursor;
		wire_pull_page_free(page);
		th_answer_free(&a);
		(*pages)++;
	}
	*end = cursor;
	return n;
}

#define OWN_ROWS 1200 /* more than two pages */

static void own_rows(struct th_agent *ag)
{
	char id[37];
	for (unsigned i = 0; i < OWN_ROWS; i++) {
		snprintf(id, sizeof id, "0190f3b0-0000-7000-8000-%012x", 0x100000u + i);
		th_add(ag, "person", id, 'i', i % 2 ? U_B1 : U_C1, PERSON, 0);
	}
}

static void test_hub_api__pull_leaves_out_the_agents_own_rows_except_from_cursor_0(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	uint64_t c1, cd, end;
	size_t pages;
	th_agent_init(&ag, AG1);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_hello(h, AGD, h->token_d), 200, NULL);
	assert_int_equal(pull_count(h, h->token_c1, 0, 0, "person", &c1, &pages), 0);
	assert_int_equal(pull_count(h, h->token_d, 0, 0, "person", &cd, &pages), 0);
	own_rows(&ag);
	for (uint64_t from = 1; from <= OWN_ROWS; from += 400)
		th_expect(th_send(h, &ag, h->token_c1, from, from + 399), 200, "\"applied\":400");
	int64_t last = th_sql_count(h, "SELECT max(_hs) FROM person");
	/* the agent that sent them gets none back, and its cursor moves past them */
	assert_int_equal(pull_count(h, h->token_c1, c1, 0, "person", &end, &pages), 0);
	assert_int_equal(end, (uint64_t)last);
	assert_int_equal(pages, 1);
	assert_int_equal(pull_count(h, h->token_c1, c1, 7, "person", &end, &pages), 0);
	assert_int_equal(end, (uint64_t)last);
	/* the district's office gets them all */
	assert_int_equal(pull_count(h, h->token_d, cd, 0, "person", &end, &pages), OWN_ROWS);
	assert_int_equal(pages, 3);
	/* and so does the agent from cursor 0 */
	assert_int_equal(pull_count(h, h->token_c1, 0, 0, "person", &end, &pages), OWN_ROWS);
	assert_int_equal(end, (uint64_t)last);
	th_agent_release(&ag);
}

static void test_hub_api__pull_sends_the_agent_rows_others_wrote_or_it_had_refused(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag, ad;
	uint64_t c1, end;
	size_t pages;
	th_agent_init(&ag, AG1);
	th_agent_init(&ad, AGD);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	assert_int_equal(pull_count(h, h->token_c1, 0, 0, "person", &c1, &pages), 0);
	own_rows(&ag);
	th_add(&ag, "person", P1, 'i', U_C1, PERSON, 0);
	th_add(&ag, "person", P1, 'u', U_C1, "gender=s:zzz", 0); /* quarantined: bad_enum */
	th_expect(th_send(h, &ag, h->token_c1, 1, 1000), 200, "\"applied\":1000");
	th_expect(th_send(h, &ag, h->token_c1, 1001, OWN_ROWS + 2), 200, "bad_enum");
	/* the district corrects two of the commune's rows and adds one */
	th_add(&ad, "person", "0190f3b0-0000-7000-8000-000000100007", 'u', U_B1, "phone=s:0909", 0);
	th_add(&ad, "person", "0190f3b0-0000-7000-8000-000000100100", 'u', U_C1, "phone=s:0909", 0);
	th_add(&ad, "person", P2, 'i', U_C1, PERSON, 0);
	th_expect(th_send(h, &ad, h->token_d, 1, 3), 200, "\"applied\":3");
	/* P1 (its change was refused, the hub's state is not what the laptop holds) and the
	 * district's three; small pages keep `more` honest across the rows left out */
	assert_int_equal(pull_count(h, h->token_c1, c1, 2, "person", &end, &pages), 4);
	assert_int_equal(pages, 2);
	assert_int_equal(end, (uint64_t)th_sql_count(h, "SELECT max(_hs) FROM person"));
	assert_int_equal(pull_count(h, h->token_c1, c1, 0, "person", &end, &pages), 4);
	assert_int_equal(pages, 1);
	th_agent_release(&ag);
	th_agent_release(&ad);
}

static void test_hub_api__status_and_metrics_for_viewers_and_unknown_routes(void **state)
{
	struct th_hub *h = *state;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C1, "full_name=s:An;birth_year=i:1990;gender=s:zzz;phone=n", 0);
	th_expect(th_hello(h, AG1, h->token_c1), 200, NULL);
	th_expect(th_send(h, &ag, h->token_c1, 1, 1), 200, NULL);
	th_expect(th_call(h->api, "GET", "/v1/status", h->token_viewer, NULL), 200, "\"quarantined\":1");
	th_expect(th_call(h->api, "GET", "/v1/status", h->token_viewer, NULL), 200, "Xã C1");
	th_expect(th_call(h->api, "GET", "/v1/status", h->token_viewer, NULL), 200, "Chưa kết nối lần nào");
	th_expect(th_call(h->api, "GET", "/metrics", h->token_viewer, NULL), 200, "lienket_changesets_total 1");
	th_expect(th_call(h->api, "GET", "/healthz", NULL, NULL), 200, "\"ok\":true");
	th_expect(th_call(h->api, "GET", "/v1/report", h->token_viewer, NULL), 200, "\"figures\"");
	th_expect(th_call(h->api, "GET", "/v1/report", h->token_c1, NULL), 403, "forbidden");
	th_expect(th_call(h->api, "GET", "/nowhere", h->token_viewer, NULL), 404, "not_found");
	th_expect(th_call(h->api, "GET", "/v1/changes", h->token_c1, NULL), 405, "method");
	th_agent_release(&ag);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hub_api__hello_binds_the_token_and_lists_checksums_of_the_scope),
		T(test_hub_api__hello_answer_names_shape_2_only_to_an_agent_that_sends_it),
		T(test_hub_api__entries_sent_again_in_the_other_shape_are_duplicates),
		T(test_hub_api__duplicate_is_acknowledged_again_without_applying),
		T(test_hub_api__overlap_applies_only_the_tail),
		T(test_hub_api__gap_is_refused_with_the_sequence_expected),
		T(test_hub_api__fork_is_refused_and_recover_rebinds_the_token_once),
		T(test_hub_api__a_binding_older_than_the_hubs_restore_rebinds_once_to_a_never_seen_id),
		T(test_hub_api__a_hello_beyond_what_the_hub_holds_lets_the_token_rebind_as_after_a_fork),
		T(test_hub_api__a_token_cannot_take_over_another_offices_agent_id),
		T(test_hub_api__a_token_that_forks_itself_cannot_rebind_to_an_existing_id),
		T(test_hub_api__a_reinstalled_laptop_enrolled_with_its_agent_id_keeps_its_sequence),
		T(test_hub_api__update_before_insert_is_held_hidden_then_settled),
		T(test_hub_api__change_for_an_unknown_unit_is_held_until_the_unit_arrives),
		T(test_hub_api__bad_value_is_quarantined_and_the_set_acknowledged),
		T(test_hub_api__owner_change_is_quarantined_and_skipped_entries_listed),
		T(test_hub_api__another_units_row_is_quarantined_out_of_scope),
		T(test_hub_api__dangling_reference_is_flagged_until_the_row_arrives),
		T(test_hub_api__closed_unit_record_is_flagged_and_merged_unit_joins_the_scope),
		T(test_hub_api__rows_of_a_closed_unit_after_an_open_one_in_a_change_set_are_flagged),
		T(test_hub_api__scope_kept_between_change_sets_follows_a_reform_written_elsewhere),
		T(test_hub_api__units_version_changes_on_a_unit_write_and_on_its_undoing),
		T(test_hub_api__writer_log_stays_bounded_without_a_checkpointer),
		T(test_hub_api__revoked_token_is_refused),
		T(test_hub_api__whoami_names_the_office_and_binds_nothing),
	T(test_hub_api__viewer_token_cannot_write_and_agent_cannot_read_status),
		T(test_hub_api__protocol_and_schema_version_mismatch_are_refused_whole),
		T(test_hub_api__size_limits_and_encoding_are_enforced),
		T(test_hub_api__clock_too_far_ahead_is_refused_with_hub_time),
		T(test_hub_api__clock_ahead_of_hub_time_but_just_above_its_row_is_accepted),
		T(test_hub_api__pull_pages_scope_rows_and_reference_data_in_hub_order),
		T(test_hub_api__pull_leaves_out_the_agents_own_rows_except_from_cursor_0),
		T(test_hub_api__pull_cursor_outside_0_to_2_pow_53_is_bad_message),
		T(test_hub_api__a_pull_after_the_scope_grew_starts_again_from_0),
		T(test_hub_api__pull_sends_the_agent_rows_others_wrote_or_it_had_refused),
		T(test_hub_api__status_and_metrics_for_viewers_and_unknown_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
