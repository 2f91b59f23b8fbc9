/*
 * test_hub_dashboard.c — the dashboard behind api_handle, without sockets: the login
 * (link and form) sets the cookie and redirects without the token, the cookie then
 * opens the page, agent and unknown tokens do not, what the request carries is
 * escaped in the page, bad years and units are answered in the page, and
 * GET /v1/report takes a unit code and refuses a malformed year.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hub_test_util.h"

struct page {
	int status;
	char *body;
	char location[256];
	char cookie[256];
};

static struct page call(struct th_hub *h, const char *method, const char *cookie, const char *body,
			const char *const *query)
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
	api_handle(h->api, &req, &resp);
	p.status = resp.status;
	p.body = calloc(1, resp.body_len + 1);
	if (p.body && resp.body_len)
		memcpy(p.body, resp.body, resp.body_len);
	snprintf(p.location, sizeof p.location, "%s", resp.location);
	snprintf(p.cookie, sizeof p.cookie, "%s", resp.set_cookie);
	api_response_release(&resp);
	return p;
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

static void test_hub_dashboard__login_link_sets_the_cookie_and_drops_the_token(void **state)
{
	struct th_hub *h = *state;
	const char *const q[] = { "token", h->token_viewer, "year", "2021", "unit", "<x>", NULL };
	struct page p = call(h, "GET", NULL, NULL, q);
	char want[256];
	snprintf(want, sizeof want, "lk_session=%s; HttpOnly; SameSite=Strict; Path=/", h->token_viewer);
	assert_int_equal(p.status, 303);
	assert_string_equal(p.cookie, want);
	assert_string_equal(p.location, "/?year=2021"); /* an unsafe unit is dropped, never echoed */
	assert_null(strstr(p.body, h->token_viewer));
	free(p.body);
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
	assert_non_null(strstr(p.cookie, h->token_viewer));
	free(p.body);
	p = call(h, "POST", NULL, "token=", NULL);
	assert_int_equal(p.status, 400);
	assert_string_equal(p.cookie, "");
	free(p.body);
}

static void test_hub_dashboard__the_cookie_opens_the_page_and_agents_get_403(void **state)
{
	struct th_hub *h = *state;
	char cookie[128];
	snprintf(cookie, sizeof cookie, "theme=dark; lk_session=%s", h->token_viewer);
	struct page p = call(h, "GET", cookie, NULL, NULL);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body, "data-figure=\"insurance\""));
	assert_non_null(strstr(p.body, "Tình trạng đồng bộ"));
	assert_non_null(strstr(p.body, "<option value=\"" U_D "\">— Huyện D</option>"));
	assert_non_null(strstr(p.body, "<svg"));
	assert_null(strstr(p.body, "<script"));
	assert_null(strstr(p.body, h->token_viewer));
	free(p.body);

	snprintf(cookie, sizeof cookie, "lk_session=%s", h->token_c1);
	p = call(h, "GET", cookie, NULL, NULL);
	assert_int_equal(p.status, 403);
	assert_null(strstr(p.body, "data-figure"));
	free(p.body);
	const char *const q[] = { "token", h->token_c1, NULL };
	p = call(h, "GET", NULL, NULL, q);
	assert_int_equal(p.status, 403);
	assert_string_equal(p.cookie, "");
	free(p.body);
	p = call(h, "GET", "lk_session=lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL);
	assert_int_equal(p.status, 401);
	assert_non_null(strstr(p.body, "name=\"token\""));
	free(p.body);
	p = call(h, "GET", NULL, NULL, NULL);
	assert_int_equal(p.status, 401);
	free(p.body);
}

static void test_hub_dashboard__bad_year_and_unit_are_said_in_the_page(void **state)
{
	struct th_hub *h = *state;
	char cookie[128];
	snprintf(cookie, sizeof cookie, "lk_session=%s", h->token_viewer);
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

static void test_hub_dashboard__logout_clears_the_cookie(void **state)
{
	struct th_hub *h = *state;
	const char *const q[] = { "logout", "1", NULL };
	struct page p = call(h, "GET", NULL, NULL, q);
	assert_int_equal(p.status, 303);
	assert_non_null(strstr(p.cookie, "lk_session=; Max-Age=0"));
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
		T(test_hub_dashboard__login_link_sets_the_cookie_and_drops_the_token),
		T(test_hub_dashboard__login_form_takes_a_urlencoded_token),
		T(test_hub_dashboard__the_cookie_opens_the_page_and_agents_get_403),
		T(test_hub_dashboard__bad_year_and_unit_are_said_in_the_page),
		T(test_hub_dashboard__logout_clears_the_cookie),
		T(test_hub_dashboard__report_route_takes_codes_and_checks_the_year),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
