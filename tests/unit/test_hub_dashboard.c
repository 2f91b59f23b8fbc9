/*
 * test_hub_dashboard.c — the dashboard behind api_handle, without sockets: the login
 * (link and form) opens a session whose random id, never the token, is the cookie, with
 * its lifetime, and redirects without the token; the session opens the page, agent and
 * unknown tokens do not; sessions are stored hashed, end when idle, when too old, at
 * logout and when the viewer token is revoked; a login from another site (login CSRF)
 * is refused; HTML answers carry the security headers; what the request carries is
 * escaped in the page, bad years and units are answered in the page, and
 * GET /v1/report takes a unit code and refuses a malformed year.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hub_test_util.h"
#include "session.h"

struct page {
	int status;
	char *body;
	char location[256];
	char cookie[256];
	const char *csp, *referrer_policy;
};

/* Where a request comes from, as a browser says it (NULL: header absent). */
struct from {
	const char *origin, *referer, *sec_fetch_site;
};

#define HUB_HOST "hub.test"
#define HUB_ORIGIN "http://" HUB_HOST
/* What a browser sends: a form post from the hub's own login page, a link pasted into
 * the address bar. */
static const struct from own_form = { HUB_ORIGIN, HUB_ORIGIN "/", "same-origin" };
static const struct from pasted = { NULL, NULL, "none" };

static struct page call_from(struct th_hub *h, const char *method, const char *cookie,
			     const char *body, const char *const *query, const struct from *from)
{
	struct api_request req = { 0 };
	struct api_response resp;
	struct page p = { 0 };
	req.method = method;
	req.path = "/";
	req.query = th_query;
	req.query_ctx = (void *)query;
	req.cookie = cookie;
	req.content_type = body ? "application/x-www-form-urlencoded" : NULL;
	req.body = (const unsigned char *)body;
	req.body_len = body ? strlen(body) : 0;
	req.client = "test";
	req.host = HUB_HOST;
	req.origin = from->origin;
	req.referer = from->referer;
	req.sec_fetch_site = from->sec_fetch_site;
	api_handle(h->api, &req, &resp);
	p.status = resp.status;
	p.body = calloc(1, resp.body_len + 1);
	if (p.body && resp.body_len)
		memcpy(p.body, resp.body, resp.body_len);
	snprintf(p.location, sizeof p.location, "%s", resp.location);
	snprintf(p.cookie, sizeof p.cookie, "%s", resp.set_cookie);
	p.csp = resp.csp;
	p.referrer_policy = resp.referrer_policy;
	api_response_release(&resp);
	return p;
}

/* A browser's request: a post from the login form, any other from the address bar. */
static struct page call(struct th_hub *h, const char *method, const char *cookie, const char *body,
			const char *const *query)
{
	return call_from(h, method, cookie, body, query, body ? &own_form : &pasted);
}

/* Logs in with the viewer token by the link; writes the Cookie header to send back
 * ("lk_session=ls_…") into cookie and the session id into id (both may be NULL). */
static void login(struct th_hub *h, char cookie[128], char id[IDS_TOKEN_TEXT])
{
	const char *const q[] = { "token", h->token_viewer, NULL };
	struct page p = call(h, "GET", NULL, NULL, q);
	assert_int_equal(p.status, 303);
	assert_memory_equal(p.cookie, "lk_session=ls_", 14);
	size_t n = strcspn(p.cookie, ";");
	assert_int_equal(n, strlen("lk_session=") + IDS_TOKEN_TEXT - 1);
	if (cookie)
		snprintf(cookie, 128, "%.*s", (int)n, p.cookie);
	if (id)
		snprintf(id, IDS_TOKEN_TEXT, "%.*s", (int)(n - strlen("lk_session=")), p.cookie + strlen("lk_session="));
	free(p.body);
}

static int setup(void **state)
{
	struct th_hub *h = calloc(1, sizeof *h);
	if (!h || th_hub_new(h) != 0)
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	th_hub_free(*state);
	free(*state);
	return 0;
}

/* The cookie is a new random session id with its lifetime, never the token. */
static void test_hub_dashboard__login_link_sets_a_session_cookie_and_drops_the_token(void **state)
{
	struct th_hub *h = *state;
	const char *const q[] = { "token", h->token_viewer, "year", "2021", "unit", "<x>", NULL };
	struct page p = call(h, "GET", NULL, NULL, q);
	assert_int_equal(p.status, 303);
	assert_memory_equal(p.cookie, "lk_session=ls_", 14);
	assert_non_null(strstr(p.cookie, "; Max-Age=43200; HttpOnly; SameSite=Strict; Path=/"));
	assert_null(strstr(p.cookie, h->token_viewer));
	assert_null(strstr(p.cookie, h->token_viewer + 3));
	assert_string_equal(p.location, "/?year=2021"); /* an unsafe unit is dropped, never echoed */
	assert_null(strstr(p.body, h->token_viewer));
	free(p.body);
	char a[IDS_TOKEN_TEXT], b[IDS_TOKEN_TEXT];
	login(h, NULL, a);
	login(h, NULL, b);
	assert_string_not_equal(a, b);
}

static void test_hub_dashboard__login_form_takes_a_urlencoded_token(void **state)
{
	struct th_hub *h = *state;
	char body[128];
	/* pasted with a newline after it, as people do */
	snprintf(body, sizeof body, "x=1&token=%s%%0A", h->token_viewer);
	struct page p = call(h, "POST", NULL, body, NULL);
	assert_int_equal(p.status, 303);
	assert_string_equal(p.location, "/");
	assert_memory_equal(p.cookie, "lk_session=ls_", 14);
	assert_null(strstr(p.cookie, h->token_viewer));
	free(p.body);
	p = call(h, "POST", NULL, "token=", NULL);
	assert_int_equal(p.status, 400);
	assert_string_equal(p.cookie, "");
	free(p.body);
}

/* Only the session opens the page: the token itself in the cookie (what the hub set
 * before sessions) does not, an agent token logs nobody in. */
static void test_hub_dashboard__the_session_opens_the_page_and_a_token_cookie_does_not(void **state)
{
	struct th_hub *h = *state;
	char cookie[160], session[128];
	login(h, session, NULL);
	snprintf(cookie, sizeof cookie, "theme=dark; %s", session);
	struct page p = call(h, "GET", cookie, NULL, NULL);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body, "data-figure=\"insurance\""));
	assert_non_null(strstr(p.body, "Tình trạng đồng bộ"));
	assert_non_null(strstr(p.body, "<option value=\"" U_D "\">— Huyện D</option>"));
	assert_non_null(strstr(p.body, "class=\"lk-chart\""));
	assert_null(strstr(p.body, "<script"));
	assert_null(strstr(p.body, h->token_viewer));
	free(p.body);

	snprintf(cookie, sizeof cookie, "lk_session=%s", h->token_viewer);
	p = call(h, "GET", cookie, NULL, NULL);
	assert_int_equal(p.status, 401);
	assert_null(strstr(p.body, "data-figure"));
	free(p.body);
	snprintf(cookie, sizeof cookie, "lk_session=%s", h->token_c1);
	p = call(h, "GET", cookie, NULL, NULL);
	assert_int_equal(p.status, 401);
	assert_null(strstr(p.body, "data-figure"));
	free(p.body);
	const char *const q[] = { "token", h->token_c1, NULL };
	p = call(h, "GET", NULL, NULL, q);
	assert_int_equal(p.status, 403);
	assert_string_equal(p.cookie, "");
	free(p.body);
	p = call(h, "GET", "lk_session=ls_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL);
	assert_int_equal(p.status, 401);
	assert_non_null(strstr(p.body, "name=\"token\""));
	free(p.body);
	p = call(h, "GET", NULL, NULL, NULL);
	assert_int_equal(p.status, 401);
	free(p.body);
}

/* The hub keeps the SHA-256 of the session id, never the id. */
static void test_hub_dashboard__a_session_is_stored_hashed(void **state)
{
	struct th_hub *h = *state;
	char id[IDS_TOKEN_TEXT], hash[65], q[256];
	login(h, NULL, id);
	ids_token_hash(id, hash);
	snprintf(q, sizeof q, "SELECT count(*) FROM hub_session WHERE hash = '%s'", hash);
	assert_int_equal(th_sql_count(h, q), 1);
	snprintf(q, sizeof q, "SELECT count(*) FROM hub_session WHERE hash = '%s' OR token_hash = '%s'"
			      " OR instr(hash, '%s') > 0", id, id, id + 3);
	assert_int_equal(th_sql_count(h, q), 0);
}

static int status_with(struct th_hub *h, const char *cookie)
{
	struct page p = call(h, "GET", cookie, NULL, NULL);
	free(p.body);
	return p.status;
}

/* A session ends two hours after its last page and twelve after the login; a page
 * within a session records its use (at most once a minute), which keeps it alive. */
static void test_hub_dashboard__idle_and_absolute_expiry_end_a_session(void **state)
{
	struct th_hub *h = *state;
	char cookie[128], q[256];
	login(h, cookie, NULL);
	/* used 90 seconds ago: the page records this use */
	snprintf(q, sizeof q, "UPDATE hub_session SET seen_ms = seen_ms - %lld", SESSION_TOUCH_MS + 30000);
	assert_int_equal(th_sql_count(h, q), 1);
	int64_t before = th_now_ms() - 5000;
	assert_int_equal(status_with(h, cookie), 200);
	snprintf(q, sizeof q, "SELECT count(*) FROM hub_session WHERE seen_ms >= %lld", (long long)before);
	assert_int_equal(th_sql_count(h, q), 1);
	/* idle for two hours */
	snprintf(q, sizeof q, "UPDATE hub_session SET seen_ms = seen_ms - %lld", SESSION_IDLE_MS + 1000);
	assert_int_equal(th_sql_count(h, q), 1);
	assert_int_equal(status_with(h, cookie), 401);

	/* used a minute ago, but logged in thirteen hours ago */
	assert_int_equal(th_sql_count(h, "DELETE FROM hub_session"), 1);
	login(h, cookie, NULL);
	snprintf(q, sizeof q, "UPDATE hub_session SET created_ms = created_ms - %lld",
		 SESSION_MAX_AGE_MS + 3600 * 1000LL);
	assert_int_equal(th_sql_count(h, q), 1);
	assert_int_equal(status_with(h, cookie), 401);
	/* the next login clears ended sessions away */
	login(h, NULL, NULL);
	assert_int_equal(th_sql_count(h, "SELECT count(*) FROM hub_session"), 1);
}

/* Logout ends the session on the hub: the old cookie, sent again, opens nothing. */
static void test_hub_dashboard__logout_ends_the_session(void **state)
{
	struct th_hub *h = *state;
	char cookie[128], other[128];
	login(h, cookie, NULL);
	login(h, other, NULL);
	assert_int_equal(status_with(h, cookie), 200);
	const char *const q[] = { "logout", "1", NULL };
	struct page p = call(h, "GET", cookie, NULL, q);
	assert_int_equal(p.status, 303);
	assert_non_null(strstr(p.cookie, "lk_session=; Max-Age=0"));
	free(p.body);
	assert_int_equal(status_with(h, cookie), 401);
	assert_int_equal(status_with(h, other), 200); /* another browser's session stays */
	p = call(h, "GET", NULL, NULL, q);            /* without a cookie: cleared all the same */
	assert_int_equal(p.status, 303);
	free(p.body);
}

static int revoke_viewer(struct store *s, void *ctx)
{
	return auth_revoke(s, ctx, th_now_ms()) == 1 ? 0 : -1;
}

/* Revoking the viewer token ends every session opened with it, at once. */
static void test_hub_dashboard__revoking_the_viewer_token_ends_its_sessions(void **state)
{
	struct th_hub *h = *state;
	char a[128], b[128];
	login(h, a, NULL);
	login(h, b, NULL);
	assert_int_equal(status_with(h, a), 200);
	assert_int_equal(th_with_store(h, revoke_viewer, h->token_viewer), 0);
	assert_int_equal(status_with(h, a), 401);
	assert_int_equal(status_with(h, b), 401);
}

static int login_status(struct th_hub *h, const char *method, const struct from *from, char *cookie_out)
{
	char body[128];
	snprintf(body, sizeof body, "token=%s", h->token_viewer);
	const char *const q[] = { "token", h->token_viewer, NULL };
	int post = strcmp(method, "POST") == 0;
	struct page p = call_from(h, method, NULL, post ? body : NULL, post ? NULL : q, from);
	snprintf(cookie_out, 256, "%s", p.cookie);
	free(p.body);
	return p.status;
}

/* Login CSRF: another site's form or link cannot log a browser in under a token of
 * its choosing. The form needs an Origin naming the hub (or, with none or "null", a
 * Referer); a link needs Sec-Fetch-Site none/same-origin (or, without it, a Referer). */
static void test_hub_dashboard__a_login_from_another_site_is_refused(void **state)
{
	struct th_hub *h = *state;
	char cookie[256];
	static const struct from refused_posts[] = {
		{ "http://evil.example", NULL, "cross-site" },
		{ "http://evil.example", HUB_ORIGIN "/", NULL },
		{ NULL, NULL, NULL },                           /* neither Origin nor Referer */
		{ "null", NULL, NULL },
		{ "null", "http://evil.example/" HUB_HOST, NULL },
		{ NULL, "http://hub.test.evil.example/", NULL },
		{ "https://" HUB_HOST, NULL, NULL },            /* another scheme */
		{ "http://" HUB_HOST ":8080", NULL, NULL },     /* another port */
		{ "http://" HUB_HOST "/x", NULL, NULL },        /* not an origin */
		{ NULL, HUB_ORIGIN, NULL },                     /* a Referer without a path */
		{ "http://user@" HUB_HOST, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof refused_posts / sizeof refused_posts[0]; i++) {
		assert_int_equal(login_status(h, "POST", &refused_posts[i], cookie), 403);
		assert_string_equal(cookie, "");
	}
	static const struct from allowed_posts[] = {
		{ HUB_ORIGIN, NULL, NULL },
		{ "HTTP://Hub.Test:80", NULL, NULL },           /* the default port, any case */
		{ "null", HUB_ORIGIN "/?year=2021", NULL },
		{ NULL, HUB_ORIGIN "/", NULL },
	};
	for (size_t i = 0; i < sizeof allowed_posts / sizeof allowed_posts[0]; i++) {
		assert_int_equal(login_status(h, "POST", &allowed_posts[i], cookie), 303);
		assert_memory_equal(cookie, "lk_session=ls_", 14);
	}
	static const struct from refused_links[] = {
		{ NULL, "http://evil.example/", "cross-site" },
		{ NULL, NULL, "cross-site" },
		{ NULL, NULL, "same-site" },
		{ NULL, NULL, NULL },
		{ NULL, "http://evil.example/", NULL },
	};
	for (size_t i = 0; i < sizeof refused_links / sizeof refused_links[0]; i++) {
		assert_int_equal(login_status(h, "GET", &refused_links[i], cookie), 403);
		assert_string_equal(cookie, "");
	}
	static const struct from allowed_links[] = {
		{ NULL, NULL, "none" },
		{ NULL, HUB_ORIGIN "/", "same-origin" },
		{ NULL, HUB_ORIGIN "/?logout=1", NULL },
	};
	for (size_t i = 0; i < sizeof allowed_links / sizeof allowed_links[0]; i++) {
		assert_int_equal(login_status(h, "GET", &allowed_links[i], cookie), 303);
		assert_memory_equal(cookie, "lk_session=ls_", 14);
	}
}

/* HTML answers forbid framing and scripts and send no Referer; the login form's page
 * sends it to its own origin only, so that its post carries an Origin. */
static void test_hub_dashboard__html_answers_carry_the_security_headers(void **state)
{
	struct th_hub *h = *state;
	char cookie[128];
	login(h, cookie, NULL);
	struct page p = call(h, "GET", cookie, NULL, NULL);
	assert_int_equal(p.status, 200);
	assert_non_null(p.csp);
	assert_non_null(strstr(p.csp, "frame-ancestors 'none'"));
	assert_non_null(strstr(p.csp, "default-src 'none'"));
	assert_null(strstr(p.csp, "script-src"));
	assert_string_equal(p.referrer_policy, "no-referrer");
	assert_non_null(strstr(p.body, "<meta name=\"referrer\" content=\"no-referrer\">"));
	free(p.body);
	p = call(h, "GET", NULL, NULL, NULL);
	assert_int_equal(p.status, 401);
	assert_non_null(p.csp);
	assert_non_null(strstr(p.csp, "frame-ancestors 'none'"));
	assert_string_equal(p.referrer_policy, "same-origin");
	assert_non_null(strstr(p.body, "<meta name=\"referrer\" content=\"same-origin\">"));
	free(p.body);
}

static void test_hub_dashboard__bad_year_and_unit_are_said_in_the_page(void **state)
{
	struct th_hub *h = *state;
	char cookie[128];
	login(h, cookie, NULL);
	const char *const q1[] = { "year", "1999", NULL };
	struct page p = call(h, "GET", cookie, NULL, q1);
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.body, "Năm không hợp lệ"));
	assert_non_null(strstr(p.body, "data-figure"));
	free(p.body);
	const char *const q2[] = { "unit", "<script>alert(1)</script>", NULL };
	p = call(h, "GET", cookie, NULL, q2);
	assert_int_equal(p.status, 404);
	assert_null(strstr(p.body, "<script>"));
	assert_non_null(strstr(p.body, "Không có đơn vị này"));
	free(p.body);
	const char *const q3[] = { "unit", U_C1, NULL };
	p = call(h, "GET", cookie, NULL, q3);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body, "data-report-unit=\"" U_C1 "\""));
	/* the status of the chosen unit's offices only */
	assert_non_null(strstr(p.body, "data-unit=\"" U_C1 "\""));
	assert_null(strstr(p.body, "data-unit=\"" U_C2 "\""));
	assert_null(strstr(p.body, "data-unit=\"" U_D "\""));
	free(p.body);
	p = call(h, "GET", cookie, NULL, NULL);
	assert_non_null(strstr(p.body, "data-unit=\"" U_C2 "\""));
	assert_non_null(strstr(p.body, "data-unit=\"" U_D "\""));
	free(p.body);
}

static void test_hub_dashboard__report_route_takes_codes_and_checks_the_year(void **state)
{
	struct th_hub *h = *state;
	const char *const q1[] = { "year", "20x1", NULL };
	struct th_answer a = th_call_raw(h->api, "GET", "/v1/report", h->token_viewer, NULL, NULL, 0, q1);
	assert_int_equal(a.status, 400);
	assert_non_null(strstr(a.body, "\"field\":\"year\""));
	th_answer_free(&a);
	const char *const q2[] = { "unit", U_D, "year", "2021", NULL };
	a = th_call_raw(h->api, "GET", "/v1/report", h->token_viewer, NULL, NULL, 0, q2);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "\"unit\":\"" U_D "\""));
	assert_non_null(strstr(a.body, "\"year\":2021"));
	th_answer_free(&a);
	const char *const q3[] = { "unit", "nope", NULL };
	a = th_call_raw(h->api, "GET", "/v1/report", h->token_viewer, NULL, NULL, 0, q3);
	assert_int_equal(a.status, 404);
	th_answer_free(&a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hub_dashboard__login_link_sets_a_session_cookie_and_drops_the_token),
		T(test_hub_dashboard__login_form_takes_a_urlencoded_token),
		T(test_hub_dashboard__the_session_opens_the_page_and_a_token_cookie_does_not),
		T(test_hub_dashboard__bad_year_and_unit_are_said_in_the_page),
		T(test_hub_dashboard__a_session_is_stored_hashed),
		T(test_hub_dashboard__idle_and_absolute_expiry_end_a_session),
		T(test_hub_dashboard__logout_ends_the_session),
		T(test_hub_dashboard__revoking_the_viewer_token_ends_its_sessions),
		T(test_hub_dashboard__a_login_from_another_site_is_refused),
		T(test_hub_dashboard__html_answers_carry_the_security_headers),
		T(test_hub_dashboard__report_route_takes_codes_and_checks_the_year),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
