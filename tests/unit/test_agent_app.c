/*
 * test_agent_app.c — the office app's safety (app_gate.h) and its JSON API (app_api.h)
 * without the HTTP transport: the gate's verdicts for a wrong Host, another site, no
 * session, a reused start secret and a write without its CSRF token; the API's writes
 * (422 with Vietnamese field errors and nothing written, a link to a missing record
 * refused at entry, one form → several rows in one transaction through the journaling
 * path), dd/mm/yyyy dates, folded search, deletes.
 *
 * Each test gets a fresh agent database in a temporary directory, its unit set and
 * named, and an api over it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_api.h"
#include "app_gate.h"
#include "app_search.h"
#include "app_setup.h"
#include "joincode.h"
#include "rm_tree.h"
#include "store.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define MISSING "0190f3a2-0000-7000-8000-0000000000ee"
#define PORT 41234

struct fixture {
	char dir[64];
	char db[128];
	struct store *s;
	struct app_api *api;
};

struct params {
	const char *names[4];
	const char *values[4];
};

static const char *param_get(void *ctx, const char *name)
{
	const struct params *p = ctx;
	for (size_t i = 0; i < 4 && p->names[i]; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-app-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof f->db, "%s/agent.db", f->dir);
	if (store_create(f->db, UNIT, &f->s, err, sizeof err) != 0)
		return -1;
	/* the office's own unit, named: what a first sync brings */
	if (sqlite3_exec(store_db(f->s),
			 "INSERT INTO unit(id, unit_id, opened_on) VALUES ('" UNIT "', '" UNIT "', '2019-01-01');"
			 "INSERT INTO unit_name(id, unit_id, of_unit, name, kind, valid_from) VALUES"
			 " ('0190f3a2-0000-7000-8000-0000000000d1', '" UNIT "', '" UNIT "', 'Xã Quảng Thành',"
			 " 'commune', '2019-01-01');",
			 NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	f->api = app_api_new(f->s, "csrf-token", NULL, err, sizeof err);
	if (!f->api)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	app_api_free(f->api);
	store_close(f->s);
	if (rm_tree(f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t count(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Calls the api; returns the status and the parsed JSON answer (caller decrefs). */
static unsigned call(struct fixture *f, const char *method, const char *path, const char *body,
		     const struct params *p, json_t **out)
{
	struct app_api_request req = {
		.method = method,
		.path = path,
		.param = param_get,
		.param_ctx = (void *)p,
		.content_type = "application/json",
		.body = body,
		.body_len = body ? strlen(body) : 0,
	};
	static const struct params none = { { NULL }, { NULL } };
	if (!p)
		req.param_ctx = (void *)&none;
	struct app_api_response resp;
	app_api_handle(f->api, &req, &resp);
	json_error_t e;
	*out = resp.body ? json_loadb(resp.body, resp.body_len, 0, &e) : NULL;
	unsigned status = resp.status;
	app_api_response_release(&resp);
	return status;
}

static const char *error_of(json_t *j, const char *field)
{
	return json_string_value(json_object_get(json_object_get(j, "errors"), field));
}

/* Creates a record and returns its id (static buffer per call site). */
static void create(struct fixture *f, const char *form, const char *values, char id[IDS_UUID_TEXT])
{
	char path[64], body[1024];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/forms/%s", form);
	snprintf(body, sizeof body, "{\"values\": %s}", values);
	unsigned st = call(f, "POST", path, body, NULL, &j);
	if (st != 201)
		fprintf(stderr, "create %s: %u %s\n", form, st, j ? json_dumps(j, 0) : "");
	assert_int_equal(st, 201);
	snprintf(id, IDS_UUID_TEXT, "%s", json_string_value(json_object_get(j, "id")));
	json_decref(j);
}

/* ---- the gate ---- */

static void gate_started(struct app_gate *g, char session[APP_GATE_TOKEN_TEXT])
{
	assert_int_equal(app_gate_init(g), 0);
	g->port = PORT;
	struct app_gate_request r = { .method = "GET", .path = "/", .secret = g->secret, .host = "127.0.0.1:41234" };
	assert_int_equal(app_gate_check(g, &r), APP_GATE_START);
	memcpy(session, g->session, APP_GATE_TOKEN_TEXT);
}

static void test_app_gate__another_host_is_misdirected(void **state)
{
	(void)state;
	struct app_gate g;
	char session[APP_GATE_TOKEN_TEXT];
	gate_started(&g, session);
	struct app_gate_request r = { .method = "GET", .path = "/api/meta", .host = "evil.example:41234",
				      .cookie = session };
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_MISDIRECTED);
	r.host = "127.0.0.1:41235"; /* another port */
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_MISDIRECTED);
	r.host = NULL;
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_MISDIRECTED);
	r.host = "localhost:41234";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_PASS);
}

static void test_app_gate__another_site_is_refused(void **state)
{
	(void)state;
	struct app_gate g;
	char session[APP_GATE_TOKEN_TEXT];
	gate_started(&g, session);
	struct app_gate_request r = { .method = "POST", .path = "/api/forms/person", .host = "127.0.0.1:41234",
				      .cookie = session, .csrf = g.csrf, .origin = "http://evil.example" };
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_CROSS_SITE);
	r.origin = NULL;
	r.sec_fetch_site = "cross-site";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_CROSS_SITE);
	r.sec_fetch_site = "same-origin";
	r.origin = "http://127.0.0.1:41234";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_PASS);
}

static void test_app_gate__no_session_is_refused(void **state)
{
	(void)state;
	struct app_gate g;
	assert_int_equal(app_gate_init(&g), 0);
	g.port = PORT;
	struct app_gate_request r = { .method = "GET", .path = "/api/meta", .host = "127.0.0.1:41234" };
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_SESSION);
	r.path = "/";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_SESSION);
	r.cookie = ""; /* no session yet: an empty cookie must not match the empty session */
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_SESSION);
	r.secret = "not-the-secret";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_SESSION);
	char session[APP_GATE_TOKEN_TEXT];
	struct app_gate g2;
	gate_started(&g2, session);
	struct app_gate_request w = { .method = "GET", .path = "/api/meta", .host = "127.0.0.1:41234",
				      .cookie = "wrong-session" };
	assert_int_equal(app_gate_check(&g2, &w), APP_GATE_NO_SESSION);
}

static void test_app_gate__the_start_secret_works_once(void **state)
{
	(void)state;
	struct app_gate g;
	char session[APP_GATE_TOKEN_TEXT];
	gate_started(&g, session);
	char cookie[128];
	assert_int_equal(app_gate_cookie(&g, cookie, sizeof cookie), 0);
	assert_non_null(strstr(cookie, "HttpOnly"));
	assert_non_null(strstr(cookie, "SameSite=Strict"));
	/* another browser with the same link: refused */
	struct app_gate_request r = { .method = "GET", .path = "/", .secret = g.secret, .host = "127.0.0.1:41234" };
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_SESSION);
	assert_string_equal(g.session, session); /* the first session stays */
	/* the browser that has the session is just sent to the page */
	r.cookie = session;
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_TO_ROOT);
}

static void test_app_gate__a_write_needs_the_csrf_token(void **state)
{
	(void)state;
	struct app_gate g;
	char session[APP_GATE_TOKEN_TEXT];
	gate_started(&g, session);
	struct app_gate_request r = { .method = "POST", .path = "/api/forms/person", .host = "127.0.0.1:41234",
				      .cookie = session };
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_CSRF);
	r.csrf = "wrong";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_CSRF);
	r.method = "DELETE";
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_NO_CSRF);
	r.csrf = g.csrf;
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_PASS);
	r.method = "GET";
	r.csrf = NULL;
	assert_int_equal(app_gate_check(&g, &r), APP_GATE_PASS);
}

/* ---- the API ---- */

static void test_app_api__meta_lists_the_forms_in_vietnamese(void **state)
{
	struct fixture *f = *state;
	json_t *j = NULL;
	assert_int_equal(call(f, "GET", "/api/meta", NULL, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "csrf")), "csrf-token");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "office"), "unit_name")),
			    "Xã Quảng Thành");
	json_t *forms = json_object_get(j, "forms");
	assert_true(json_array_size(forms) >= 9);
	assert_string_equal(json_string_value(json_object_get(json_array_get(forms, 0), "key")), "branch");
	json_decref(j);
}

static void test_app_api__wrong_fields_are_422_in_vietnamese_and_nothing_is_written(void **state)
{
	struct fixture *f = *state;
	int64_t before = count(f, "SELECT count(*) FROM lk_journal");
	json_t *j = NULL;
	assert_int_equal(call(f, "POST", "/api/forms/person",
			      "{\"values\": {\"full_name\": \"\", \"birth_year\": 1800, \"gender\": \"x\"}}", NULL, &j),
			 422);
	/* every wrong field at once, each with its own sentence */
	assert_non_null(error_of(j, "full_name"));
	assert_non_null(error_of(j, "birth_year"));
	assert_non_null(error_of(j, "gender"));
	assert_non_null(strstr(error_of(j, "full_name"), "buộc"));
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM person"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal"), before);
}

static void test_app_api__a_link_to_a_missing_person_is_refused_at_entry(void **state)
{
	struct fixture *f = *state;
	int64_t before = count(f, "SELECT count(*) FROM lk_journal");
	json_t *j = NULL;
	assert_int_equal(call(f, "POST", "/api/forms/insurance_card",
			      "{\"values\": {\"person_id\": \"" MISSING "\", \"valid_from\": \"01/01/2021\"}}", NULL, &j),
			 422);
	assert_non_null(error_of(j, "person_id"));
	assert_non_null(strstr(error_of(j, "person_id"), "Không có người này"));
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM insurance_card"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal"), before);
}

static void test_app_api__an_impossible_date_is_refused_with_the_reason(void **state)
{
	struct fixture *f = *state;
	json_t *j = NULL;
	assert_int_equal(call(f, "POST", "/api/forms/branch",
			      "{\"values\": {\"name\": \"Thôn Đông\", \"opened_on\": \"31/02/2021\"}}", NULL, &j),
			 422);
	assert_non_null(strstr(error_of(j, "opened_on"), "28 ngày"));
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM unit"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM unit_name"), 1);
}

static void test_app_api__a_branch_is_one_form_and_three_journaled_rows(void **state)
{
	struct fixture *f = *state;
	char b[IDS_UUID_TEXT];
	int64_t before = count(f, "SELECT count(*) FROM lk_journal");
	create(f, "branch", "{\"name\": \"Thôn Bình Hưng\", \"opened_on\": \"14/03/2019\"}", b);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal"), before + 3);
	assert_int_equal(count(f, "SELECT count(*) FROM unit_name WHERE kind = 'branch' AND valid_from = '2019-03-14'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM unit_parent WHERE parent_id = '" UNIT "'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM unit WHERE opened_on = '2019-03-14'"), 1);
	json_t *j = NULL;
	char path[80];
	snprintf(path, sizeof path, "/api/forms/branch/%s", b);
	assert_int_equal(call(f, "GET", path, NULL, NULL, &j), 200);
	json_t *d = json_object_get(j, "display");
	assert_string_equal(json_string_value(json_object_get(d, "opened_on")), "14/03/2019");
	assert_string_equal(json_string_value(json_object_get(d, "parent_id")), "Xã Quảng Thành");
	json_decref(j);
}

/* A secretary who forgets the opening date of a new branch is told at that field only
 * (not also by a second "required" that names no field), and nothing is written. */
static void test_app_api__a_branch_without_its_opening_date_is_told_at_that_field_only(void **state)
{
	struct fixture *f = *state;
	json_t *j = NULL;
	int64_t before = count(f, "SELECT count(*) FROM lk_journal");
	assert_int_equal(call(f, "POST", "/api/forms/branch", "{\"values\": {\"name\": \"Thôn Mới\"}}", NULL, &j), 422);
	assert_non_null(error_of(j, "opened_on"));
	assert_int_equal(json_object_size(json_object_get(j, "errors")), 1);
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal"), before);
}

static void test_app_api__a_meeting_keeps_its_branches_as_rows(void **state)
{
	struct fixture *f = *state;
	char b1[IDS_UUID_TEXT], b2[IDS_UUID_TEXT], b3[IDS_UUID_TEXT], m[IDS_UUID_TEXT], body[600], path[80];
	create(f, "branch", "{\"name\": \"Thôn Một\", \"opened_on\": \"2019-01-01\"}", b1);
	create(f, "branch", "{\"name\": \"Thôn Hai\", \"opened_on\": \"2019-01-01\"}", b2);
	create(f, "branch", "{\"name\": \"Thôn Ba\", \"opened_on\": \"2019-01-01\"}", b3);
	snprintf(body, sizeof body,
		 "{\"kind\": \"joint\", \"held_on\": \"14/3/2021\", \"host_branch_id\": \"%s\", \"branches\": [\"%s\", \"%s\", \"%s\"]}",
		 b1, b1, b2, b3);
	create(f, "meeting", body, m);
	assert_int_equal(count(f, "SELECT count(*) FROM meeting_branch"), 3);
	/* editing the set replaces it: one gone (a tombstone), none added twice */
	snprintf(path, sizeof path, "/api/forms/meeting/%s", m);
	snprintf(body, sizeof body, "{\"values\": {\"branches\": [\"%s\", \"%s\"]}}", b1, b2);
	json_t *j = NULL;
	assert_int_equal(call(f, "PUT", path, body, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "values"), "branches")), 2);
	/* the names of the branches as a list, in the order of their ids */
	json_t *labels = json_object_get(json_object_get(j, "labels"), "branches");
	assert_int_equal(json_array_size(labels), 2);
	assert_non_null(strstr("Thôn Một Thôn Hai", json_string_value(json_array_get(labels, 0))));
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM meeting_branch"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal WHERE tbl = 'meeting_branch' AND op = 'd'"), 1);
	/* a missing branch among them: nothing changes */
	snprintf(body, sizeof body, "{\"values\": {\"attendees\": 30, \"branches\": [\"%s\", \"" MISSING "\"]}}", b1);
	assert_int_equal(call(f, "PUT", path, body, NULL, &j), 422);
	assert_non_null(error_of(j, "branches"));
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM meeting WHERE attendees IS NULL"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM meeting_branch"), 2);
	/* deleting the meeting deletes its branch rows too, as tombstones */
	assert_int_equal(call(f, "DELETE", path, NULL, NULL, &j), 200);
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM meeting"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM meeting_branch"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal WHERE tbl = 'meeting' AND op = 'd'"), 1);
}

static void test_app_api__search_ignores_case_and_diacritics(void **state)
{
	struct fixture *f = *state;
	char p1[IDS_UUID_TEXT], p2[IDS_UUID_TEXT], r[IDS_UUID_TEXT], body[300];
	create(f, "person", "{\"full_name\": \"Nguyễn Thị Hoa\", \"birth_year\": 1998}", p1);
	create(f, "person", "{\"full_name\": \"Đỗ Văn Nam\"}", p2);
	snprintf(body, sizeof body, "{\"person_id\": \"%s\", \"role\": \"branch_secretary\", \"of_unit\": \"" UNIT
		 "\", \"term_from\": \"01/01/2020\"}", p1);
	create(f, "role", body, r);
	json_t *j = NULL;
	struct params q1 = { { "q" }, { "nguyen thi hoa" } };
	assert_int_equal(call(f, "GET", "/api/forms/person", NULL, &q1, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	json_decref(j);
	struct params q2 = { { "q" }, { "do" } };
	assert_int_equal(call(f, "GET", "/api/pick/person", NULL, &q2, &j), 200);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "label")), "Đỗ Văn Nam");
	json_decref(j);
	/* a page past the end still says how many there are */
	struct params q5 = { { "q", "offset" }, { "van", "5" } };
	assert_int_equal(call(f, "GET", "/api/forms/person", NULL, &q5, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "rows")), 0);
	json_decref(j);
	/* a role is found by its person's name, and shows the name, not the id */
	struct params q3 = { { "q" }, { "HOA" } };
	assert_int_equal(call(f, "GET", "/api/forms/role", NULL, &q3, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	json_t *d = json_object_get(json_array_get(json_object_get(j, "rows"), 0), "display");
	assert_string_equal(json_string_value(json_object_get(d, "person_id")), "Nguyễn Thị Hoa (1998)");
	assert_string_equal(json_string_value(json_object_get(d, "role")), "Bí thư chi đoàn");
	json_decref(j);
}

/* The `display` of `field` of every row of a list, joined by "|", pages of `limit`
 * read one after the other (at most 32 rows). */
static void list_order(struct fixture *f, const char *form, const char *sort, const char *dir, const char *q,
		       const char *field, int limit, char *out, size_t cap)
{
	char path[64], lim[16], off[16];
	snprintf(path, sizeof path, "/api/forms/%s", form);
	snprintf(lim, sizeof lim, "%d", limit);
	out[0] = '\0';
	for (int offset = 0; offset < 32; offset += limit) {
		snprintf(off, sizeof off, "%d", offset);
		struct params p = { { "sort", "dir", "limit", "offset" }, { sort, dir, lim, off } };
		struct params pq = { { "sort", "dir", "limit", "q" }, { sort, dir, lim, q } };
		json_t *j = NULL;
		assert_int_equal(call(f, "GET", path, NULL, q ? &pq : &p, &j), 200);
		json_t *rows = json_object_get(j, "rows");
		for (size_t i = 0; i < json_array_size(rows); i++) {
			const char *d = json_string_value(
				json_object_get(json_object_get(json_array_get(rows, i), "display"), field));
			size_t n = strlen(out);
			snprintf(out + n, cap - n, "%s%s", n ? "|" : "", d && *d ? d : "-");
		}
		size_t got = json_array_size(rows);
		json_decref(j);
		if (q || got < (size_t)limit)
			break;
	}
}

static void test_app_api__lists_by_a_linked_name_page_in_folded_order(void **state)
{
	struct fixture *f = *state;
	char b1[IDS_UUID_TEXT], b2[IDS_UUID_TEXT], b3[IDS_UUID_TEXT], m[IDS_UUID_TEXT], body[400], got[1024];
	create(f, "branch", "{\"name\": \"Thôn Đông\", \"opened_on\": \"01/01/2019\"}", b1);
	create(f, "branch", "{\"name\": \"thôn an\", \"opened_on\": \"01/01/2019\"}", b2);
	create(f, "branch", "{\"name\": \"Thôn Bình\", \"opened_on\": \"01/01/2019\"}", b3);
	const char *hosts[] = { b1, b2, b3, b1, NULL, b2 };
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		snprintf(body, sizeof body, "{\"kind\": \"branch\", \"held_on\": \"0%zu/03/2021\"%s%s%s}", i + 1,
			 hosts[i] ? ", \"host_branch_id\": \"" : "", hosts[i] ? hosts[i] : "", hosts[i] ? "\"" : "");
		create(f, "meeting", body, m);
	}
	/* a host the laptop does not hold (a pulled row): shown by its id, sorted as no name */
	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE meeting SET host_branch_id = '" MISSING "' WHERE held_on = '2021-03-06'",
				      NULL, NULL, NULL), SQLITE_OK);
	list_order(f, "meeting", "host_branch_id", "asc", NULL, "host_branch_id", 2, got, sizeof got);
	assert_string_equal(got, "-|" MISSING "|thôn an|Thôn Bình|Thôn Đông|Thôn Đông");
	list_order(f, "meeting", "host_branch_id", "desc", NULL, "host_branch_id", 4, got, sizeof got);
	assert_string_equal(got, "Thôn Đông|Thôn Đông|Thôn Bình|thôn an|" MISSING "|-");
	list_order(f, "meeting", "host_branch_id", "asc", "thon", "host_branch_id", 10, got, sizeof got);
	assert_string_equal(got, "thôn an|Thôn Bình|Thôn Đông|Thôn Đông");
	/* a branch renamed: the next page sees the new order */
	char path[80];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/forms/branch/%s", b1);
	assert_int_equal(call(f, "PUT", path, "{\"values\": {\"name\": \"Ấp A\"}}", NULL, &j), 200);
	json_decref(j);
	list_order(f, "meeting", "host_branch_id", "asc", NULL, "host_branch_id", 50, got, sizeof got);
	assert_string_equal(got, "-|" MISSING "|Ấp A|Ấp A|thôn an|Thôn Bình");
}

static void test_app_api__lists_by_a_persons_name_follow_every_write(void **state)
{
	struct fixture *f = *state;
	char p1[IDS_UUID_TEXT], p2[IDS_UUID_TEXT], p3[IDS_UUID_TEXT], r[IDS_UUID_TEXT], body[400], got[1024];
	create(f, "person", "{\"full_name\": \"Đỗ Văn Nam\", \"birth_year\": 1990}", p1);
	create(f, "person", "{\"full_name\": \"an thị bé\"}", p2);
	create(f, "person", "{\"full_name\": \"Nguyễn Thị Hoa\", \"birth_year\": 1998}", p3);
	const char *who[] = { p1, p2, p3, p1 };
	for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
		snprintf(body, sizeof body, "{\"person_id\": \"%s\", \"role\": \"member\", \"of_unit\": \"" UNIT
			 "\", \"term_from\": \"0%zu/01/2020\"}", who[i], i + 1);
		create(f, "role", body, r);
	}
	/* a role whose person is not on this laptop comes first, as an empty name */
	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE role SET person_id = '" MISSING "' WHERE term_from = '2020-01-04'",
				      NULL, NULL, NULL), SQLITE_OK);
	list_order(f, "role", "person_id", "asc", NULL, "person_id", 2, got, sizeof got);
	assert_string_equal(got, MISSING "|an thị bé|Đỗ Văn Nam (1990)|Nguyễn Thị Hoa (1998)");
	list_order(f, "role", "person_id", "desc", NULL, "person_id", 3, got, sizeof got);
	assert_string_equal(got, "Nguyễn Thị Hoa (1998)|Đỗ Văn Nam (1990)|an thị bé|" MISSING);
	list_order(f, "person", "full_name", "desc", NULL, "full_name", 1, got, sizeof got);
	assert_string_equal(got, "Nguyễn Thị Hoa|Đỗ Văn Nam|an thị bé");
	/* written by another program (the sqlite3 shell has no lk_fold): renamed, added,
	 * removed — the kept keys follow */
	assert_int_equal(sqlite3_exec(store_db(f->s),
				      "UPDATE person SET full_name = 'Bùi Thị Yến' WHERE full_name = 'Nguyễn Thị Hoa';"
				      "INSERT INTO person(id, unit_id, full_name) VALUES ('0190f3a2-0000-7000-8000-0000000000f1', '" UNIT
				      "', 'Ân Văn Cường');"
				      "DELETE FROM role WHERE person_id = (SELECT id FROM person WHERE full_name = 'an thị bé');"
				      "DELETE FROM person WHERE full_name = 'an thị bé';",
				      NULL, NULL, NULL), SQLITE_OK);
	list_order(f, "person", "full_name", "asc", NULL, "full_name", 2, got, sizeof got);
	assert_string_equal(got, "Ân Văn Cường|Bùi Thị Yến|Đỗ Văn Nam");
	list_order(f, "role", "person_id", "asc", NULL, "person_id", 2, got, sizeof got);
	assert_string_equal(got, MISSING "|Bùi Thị Yến (1998)|Đỗ Văn Nam (1990)");
	assert_int_equal(count(f, "SELECT count(*) FROM lk_app_person_key"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_app_person_dirty"), 0);
}

/* The first screen (app_setup.h) with no hub needed: a code that is not one, a
 * mistyped one, one whose hub does not answer — each refused in Vietnamese with what
 * to do, and no database made; the records' API is not there yet. */
static unsigned setup_call(struct app_setup *st, const char *method, const char *path, const char *body, json_t **out,
			   int *joined)
{
	struct app_api_request req = { .method = method, .path = path, .content_type = "application/json",
				       .body = body, .body_len = body ? strlen(body) : 0 };
	struct app_api_response resp;
	*joined = app_setup_handle(st, &req, &resp);
	json_error_t e;
	*out = resp.body ? json_loadb(resp.body, resp.body_len, 0, &e) : NULL;
	unsigned status = resp.status;
	app_api_response_release(&resp);
	return status;
}

static void test_app_setup__wrong_codes_and_an_unreachable_hub_are_told_and_nothing_is_made(void **state)
{
	(void)state;
	char dir[64], db[128], body[2048];
	snprintf(dir, sizeof dir, "/tmp/lk-app-setup-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/xa.db", dir);
	struct app_setup *st = app_setup_new(db, "csrf-token");
	assert_non_null(st);
	json_t *j = NULL;
	int joined = 0;
	assert_int_equal(setup_call(st, "GET", "/api/meta", NULL, &j, &joined), 200);
	assert_true(json_is_true(json_object_get(j, "setup")));
	assert_string_equal(json_string_value(json_object_get(j, "csrf")), "csrf-token");
	json_decref(j);
	/* not a code */
	assert_int_equal(setup_call(st, "POST", "/api/setup/check", "{\"code\": \"xin chào\"}", &j, &joined), 422);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "không phải mã tham gia"));
	json_decref(j);
	/* a good code whose hub is a closed port on this machine */
	struct joincode jc;
	memset(&jc, 0, sizeof jc);
	snprintf(jc.url, sizeof jc.url, "http://127.0.0.1:9");
	snprintf(jc.unit, sizeof jc.unit, UNIT);
	snprintf(jc.token, sizeof jc.token, "lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	char code[JOINCODE_MAX + 1];
	assert_int_equal(joincode_encode(&jc, code, sizeof code), 0);
	/* mistyped: one character changed */
	char typo[JOINCODE_MAX + 1];
	snprintf(typo, sizeof typo, "%s", code);
	typo[10] = typo[10] == 'A' ? 'B' : 'A';
	snprintf(body, sizeof body, "{\"code\": \"%s\"}", typo);
	assert_int_equal(setup_call(st, "POST", "/api/setup/check", body, &j, &joined), 422);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "gõ sai"));
	json_decref(j);
	/* a code wrapped over lines, as copied from the sheet: read; its hub does not answer */
	snprintf(body, sizeof body, "{\"code\": \"%.20s\\n%s\"}", code, code + 20);
	assert_int_equal(setup_call(st, "POST", "/api/setup/join", body, &j, &joined), 502);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "Không kết nối được máy chủ của Tỉnh"));
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "kiểm tra mạng Internet"));
	assert_int_equal(joined, 0);
	json_decref(j);
	assert_int_equal(access(db, F_OK), -1);
	/* nothing of the records yet */
	assert_int_equal(setup_call(st, "GET", "/api/forms/person", NULL, &j, &joined), 409);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "chưa được cài đặt"));
	json_decref(j);
	app_setup_free(st);
	assert_int_equal(rmdir(dir), 0);
}

/* A search whose words fall in several values of a row: a choice's label repeating from
 * row to row is remembered (app_search.c), the other values still decide. */
static void test_app_api__search_words_across_a_repeated_label_and_a_date(void **state)
{
	struct fixture *f = *state;
	char p[IDS_UUID_TEXT], r[IDS_UUID_TEXT], body[300];
	create(f, "person", "{\"full_name\": \"Lý Văn Sáu\"}", p);
	const char *terms[] = { "01/01/2020", "01/01/2021", "01/06/2020", "01/01/2022" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(body, sizeof body, "{\"person_id\": \"%s\", \"role\": \"%s\", \"of_unit\": \"" UNIT
			 "\", \"term_from\": \"%s\"}", p, i == 2 ? "member" : "branch_secretary", terms[i]);
		create(f, "role", body, r);
	}
	json_t *j = NULL;
	struct params q = { { "q" }, { "bi thu 2020" } };
	assert_int_equal(call(f, "GET", "/api/forms/role", NULL, &q, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	json_decref(j);
	struct params q2 = { { "q" }, { "BÍ THƯ" } };
	assert_int_equal(call(f, "GET", "/api/forms/role", NULL, &q2, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
	json_decref(j);
}

static void test_app_api__a_person_still_linked_is_not_deleted(void **state)
{
	struct fixture *f = *state;
	char p[IDS_UUID_TEXT], c[IDS_UUID_TEXT], body[300], path[80];
	create(f, "person", "{\"full_name\": \"Lê Văn Tám\"}", p);
	snprintf(body, sizeof body, "{\"person_id\": \"%s\", \"valid_from\": \"2021-01-01\"}", p);
	create(f, "insurance_card", body, c);
	snprintf(path, sizeof path, "/api/forms/person/%s", p);
	json_t *j = NULL;
	assert_int_equal(call(f, "DELETE", path, NULL, NULL, &j), 422);
	assert_non_null(error_of(j, ""));
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM person"), 1);
	snprintf(path, sizeof path, "/api/forms/insurance_card/%s", c);
	assert_int_equal(call(f, "DELETE", path, NULL, NULL, &j), 200);
	json_decref(j);
	snprintf(path, sizeof path, "/api/forms/person/%s", p);
	assert_int_equal(call(f, "DELETE", path, NULL, NULL, &j), 200);
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal WHERE tbl = 'person' AND op = 'd'"), 1);
}

static void test_app_api__unknown_fields_and_forms_are_refused(void **state)
{
	struct fixture *f = *state;
	json_t *j = NULL;
	assert_int_equal(call(f, "POST", "/api/forms/person", "{\"values\": {\"id\": \"x\", \"full_name\": \"A\"}}",
			      NULL, &j),
			 422);
	assert_non_null(error_of(j, "id"));
	json_decref(j);
	assert_int_equal(call(f, "POST", "/api/forms/unit_event", "{\"values\": {}}", NULL, &j), 404);
	json_decref(j);
	assert_int_equal(call(f, "POST", "/api/forms/person", "not json", NULL, &j), 400);
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM person"), 0);
}

static void test_app_api__figures_are_the_hubs_report_of_the_office(void **state)
{
	struct fixture *f = *state;
	char b[IDS_UUID_TEXT], m[IDS_UUID_TEXT], body[300];
	create(f, "branch", "{\"name\": \"Thôn Một\", \"opened_on\": \"2019-01-01\"}", b);
	snprintf(body, sizeof body, "{\"kind\": \"joint\", \"held_on\": \"14/03/2021\", \"host_branch_id\": \"%s\"}", b);
	create(f, "meeting", body, m);
	json_t *j = NULL;
	struct params y = { { "year" }, { "2021" } };
	assert_int_equal(call(f, "GET", "/api/figures", NULL, &y, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "year")), 2021);
	assert_true(json_array_size(json_object_get(j, "figures")) == 13);
	json_decref(j);
	struct params bad = { { "year" }, { "1999" } };
	assert_int_equal(call(f, "GET", "/api/figures", NULL, &bad, &j), 400);
	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
}

/* Calls the api with a raw body and content type; returns the status, the body in out. */
static unsigned call_raw(struct fixture *f, const char *method, const char *path, const char *body, size_t len,
			 char **out, size_t *out_len)
{
	static const struct params none = { { NULL }, { NULL } };
	struct app_api_request req = { .method = method, .path = path, .param = param_get,
				       .param_ctx = (void *)&none, .content_type = "text/csv",
				       .body = body, .body_len = len };
	struct app_api_response resp;
	app_api_handle(f->api, &req, &resp);
	*out = resp.body;
	*out_len = resp.body_len;
	return resp.status;
}

static void test_app_api__csv_import_is_all_or_nothing_and_export_reads_back(void **state)
{
	struct fixture *f = *state;
	char *out = NULL;
	size_t len = 0;
	static const char bad[] = "full_name;birth_year\r\nNguyễn Thị Hoa;1998\r\nĐỗ Văn Nam;năm\r\n";
	int64_t before = count(f, "SELECT count(*) FROM lk_journal");
	assert_int_equal(call_raw(f, "POST", "/api/import/person", bad, sizeof bad - 1, &out, &len), 422);
	json_t *j = json_loadb(out, len, 0, NULL);
	free(out);
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e0, "line")), 3);
	assert_string_equal(json_string_value(json_object_get(e0, "field")), "birth_year");
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM person"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal"), before);

	static const char good[] = "full_name;birth_year\r\nNguyễn Thị Hoa;1998\r\nĐỗ Văn Nam;1995\r\n";
	assert_int_equal(call_raw(f, "POST", "/api/import/person", good, sizeof good - 1, &out, &len), 200);
	j = json_loadb(out, len, 0, NULL);
	free(out);
	assert_int_equal(json_integer_value(json_object_get(j, "imported")), 2);
	json_decref(j);
	assert_int_equal(count(f, "SELECT count(*) FROM person"), 2);

	/* export, then import the export: nothing changes */
	assert_int_equal(call_raw(f, "GET", "/api/export/person.csv", NULL, 0, &out, &len), 200);
	assert_true(len > 3 && memcmp(out, "\xEF\xBB\xBF", 3) == 0); /* the BOM Excel wants */
	int64_t journal = count(f, "SELECT count(*) FROM lk_journal");
	char *again = NULL;
	size_t alen = 0;
	assert_int_equal(call_raw(f, "POST", "/api/import/person", out, len, &again, &alen), 200);
	j = json_loadb(again, alen, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "unchanged")), 2);
	json_decref(j);
	free(again);
	free(out);
	assert_int_equal(count(f, "SELECT count(*) FROM lk_journal"), journal);
	assert_int_equal(call_raw(f, "GET", "/api/export/branch.csv", NULL, 0, &out, &len), 404);
	free(out);
}

static void test_app_api__sync_state_says_what_waits_and_what_was_refused(void **state)
{
	struct fixture *f = *state;
	char p[IDS_UUID_TEXT], err[128], sql[400];
	create(f, "person", "{\"full_name\": \"Nguyễn Thị Hoa\"}", p);
	struct app_sync *sync = app_sync_new(f->db, NULL);
	struct app_api *api = app_api_new(f->s, "csrf-token", sync, err, sizeof err);
	assert_non_null(api);
	/* 2026-12-07 21:03:00 in Vietnam = 14:03:00 UTC */
	assert_int_equal(store_config_set(f->s, "last_sync_ms", "1796652180000"), 0);
	snprintf(sql, sizeof sql,
		 "INSERT INTO lk_quarantine(seq, code, tbl, row_id, field, message, at_ms) VALUES"
		 " (1, 'bad_enum', 'person', '%s', 'gender', 'x', 1)", p);
	assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
	struct app_api *keep = f->api;
	f->api = api;
	json_t *j = NULL;
	assert_int_equal(call(f, "GET", "/api/sync", NULL, NULL, &j), 200);
	f->api = keep;
	assert_string_equal(json_string_value(json_object_get(j, "last_ok")), "2026-12-07T21:03:00+07:00");
	assert_int_equal(json_integer_value(json_object_get(j, "pending")), count(f, "SELECT count(*) FROM lk_journal"));
	assert_false(json_is_true(json_object_get(j, "running")));
	json_t *r0 = json_array_get(json_object_get(j, "refused"), 0);
	assert_string_equal(json_string_value(json_object_get(r0, "form")), "person");
	assert_string_equal(json_string_value(json_object_get(r0, "id")), p);
	assert_non_null(strstr(json_string_value(json_object_get(r0, "message")), "Giới tính"));
	json_decref(j);
	app_api_free(api);
	app_sync_free(sync);
}

static void test_app_api__the_list_fold_equals_textnorm_fold(void **state)
{
	(void)state;
	/* every character of the fast table, in ASCII, Latin-1/Extended and Vietnamese */
	for (int32_t cp = 1; cp < 0x370; cp++)
		if (!app_search_fold_agrees(cp))
			fail_msg("U+%04X folds differently", (unsigned)cp);
	for (int32_t cp = 0x1E00; cp < 0x1F00; cp++)
		if (!app_search_fold_agrees(cp))
			fail_msg("U+%04X folds differently", (unsigned)cp);
}

int main(void)
{
	setenv("LC_ALL", "vi_VN.UTF-8", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_gate__another_host_is_misdirected),
		cmocka_unit_test(test_app_gate__another_site_is_refused),
		cmocka_unit_test(test_app_gate__no_session_is_refused),
		cmocka_unit_test(test_app_gate__the_start_secret_works_once),
		cmocka_unit_test(test_app_gate__a_write_needs_the_csrf_token),
		cmocka_unit_test_setup_teardown(test_app_api__meta_lists_the_forms_in_vietnamese, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__wrong_fields_are_422_in_vietnamese_and_nothing_is_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__a_link_to_a_missing_person_is_refused_at_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__an_impossible_date_is_refused_with_the_reason, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__a_branch_is_one_form_and_three_journaled_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__a_branch_without_its_opening_date_is_told_at_that_field_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__a_meeting_keeps_its_branches_as_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__search_ignores_case_and_diacritics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__lists_by_a_linked_name_page_in_folded_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__lists_by_a_persons_name_follow_every_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__search_words_across_a_repeated_label_and_a_date, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__a_person_still_linked_is_not_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__unknown_fields_and_forms_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__figures_are_the_hubs_report_of_the_office, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_api__csv_import_is_all_or_nothing_and_export_reads_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_app_api__sync_state_says_what_waits_and_what_was_refused, setup,
						teardown),
		cmocka_unit_test(test_app_api__the_list_fold_equals_textnorm_fold),
		cmocka_unit_test(test_app_setup__wrong_codes_and_an_unreachable_hub_are_told_and_nothing_is_made),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
