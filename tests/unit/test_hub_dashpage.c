/*
 * test_hub_dashpage.c — the rendering logic of the dashboard pages (issue 14):
 * colours by each figure's own goal (goal.c), the year a page opens on (dashpage.c),
 * what a figure may miss and how old its data is (caveat.c, with status.c's
 * `waiting`), the charts (legend, target line, numbers, aria-label: report_html.c),
 * the communes as freshness tiles linking to their figures, and the status grouped by
 * district with the offices to call first (status.c).
 *
 * The hub of hub_test_util.h: province P, district D, communes C1 and C2 (branch B1
 * under C1); offices enrolled for C1, C2 and D, none connected until a test says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "caveat.h"
#include "dashpage.h"
#include "goal.h"
#include "hub_test_util.h"
#include "report.h"
#include "status.h"
#include "unittree.h"

#define AG_C1 "0190f3a2-0000-7000-8000-00000000a0c1"
#define AG_D  "0190f3a2-0000-7000-8000-00000000a0d1"

static struct report_measure measure(const char *key, int64_t value, int64_t of, int64_t target)
{
	struct report_measure ms = { .key = key, .label = key, .target = target };
	ms.value.value = value;
	ms.value.of = of;
	ms.previous.of = -1;
	return ms;
}

static void test_goal__a_target_reached_is_good_three_quarters_attention_less_bad(void **state)
{
	(void)state;
	struct report_measure ms = measure("meetings", 12, -1, 12);
	assert_int_equal(goal_tone_of("giao_nhiem_vu", &ms), GOAL_GOOD);
	ms.value.value = 13;
	assert_int_equal(goal_tone_of("giao_nhiem_vu", &ms), GOAL_GOOD);
	ms.value.value = 9;
	assert_int_equal(goal_tone_of("giao_nhiem_vu", &ms), GOAL_ATTENTION);
	ms.value.value = 8;
	assert_int_equal(goal_tone_of("giao_nhiem_vu", &ms), GOAL_BAD);
	/* no district in the scope: a target of 0 is no goal, not "reached" */
	ms.target = 0;
	assert_int_equal(goal_tone_of("giao_nhiem_vu", &ms), GOAL_NONE);
	/* the bug: a bar at 100 % was red; every unit implementing is good */
	struct report_measure all = measure("units", 10, 10, -1);
	assert_int_equal(goal_tone_of("implementing", &all), GOAL_GOOD);
	all.value.value = 8;
	assert_int_equal(goal_tone_of("implementing", &all), GOAL_ATTENTION);
	all.value.value = 7;
	assert_int_equal(goal_tone_of("implementing", &all), GOAL_BAD);
	assert_string_equal(goal_class(GOAL_GOOD), "lk-good");
	assert_string_equal(goal_label(GOAL_BAD), "Chưa đạt");
}

static void test_goal__inactive_branches_none_good_few_attention_more_bad(void **state)
{
	(void)state;
	struct report_measure ms = measure("branches", 0, 695, 0);
	assert_int_equal(goal_tone_of("inactive", &ms), GOAL_GOOD);
	ms.value.value = 30; /* 4.3 % */
	assert_int_equal(goal_tone_of("inactive", &ms), GOAL_ATTENTION);
	ms.value.value = 40; /* 5.8 % */
	assert_int_equal(goal_tone_of("inactive", &ms), GOAL_BAD);
	ms.value.value = 0;
	ms.value.of = 0; /* no branch at all: nothing to judge */
	assert_int_equal(goal_tone_of("inactive", &ms), GOAL_NONE);
}

static void test_goal__gathering_is_judged_against_last_year_and_counts_are_neutral(void **state)
{
	(void)state;
	struct report_measure ms = measure("youth", 700, 1000, -1);
	assert_int_equal(goal_tone_of("gathering", &ms), GOAL_NONE); /* no last year */
	ms.has_previous = 1;
	ms.previous.value = 700;
	ms.previous.of = 1000;
	assert_int_equal(goal_tone_of("gathering", &ms), GOAL_GOOD);
	ms.value.value = 660; /* 4 points lower */
	assert_int_equal(goal_tone_of("gathering", &ms), GOAL_ATTENTION);
	ms.value.value = 640; /* 6 points lower */
	assert_int_equal(goal_tone_of("gathering", &ms), GOAL_BAD);
	struct report_measure count = measure("participations", 6000, -1, -1);
	assert_int_equal(goal_tone_of("volunteer", &count), GOAL_NONE);
	struct report_measure ins = measure("secretaries", 667, 695, -1);
	assert_int_equal(goal_tone_of("insurance", &ins), GOAL_NONE);
	assert_int_equal(goal_kind_of("evaluation", "completed"), GOAL_KIND_ALL);
	assert_int_equal(goal_kind_of("evaluation", "excellent_good"), GOAL_KIND_NOT_LESS);
	assert_int_equal(goal_kind_of("nope", "meetings"), GOAL_KIND_NONE);
}

static void test_dashpage__opens_on_the_latest_year_with_data(void **state)
{
	(void)state;
	/* January 2022, data up to 2021: 2021, not an empty 2022 */
	assert_int_equal(dashpage_pick_year(0, 2022, 2021), 2021);
	assert_int_equal(dashpage_pick_year(0, 2022, 2022), 2022);
	assert_int_equal(dashpage_pick_year(2020, 2022, 2021), 2020); /* asked */
	assert_int_equal(dashpage_pick_year(0, 2022, 0), 2022);       /* nothing yet */
	assert_int_equal(dashpage_pick_year(0, 2022, 1990), 2022);
}

/* C1's office says hello (3 pending, th_hello) and sends two joint meetings of 2021. */
static void c1_syncs_two_of_three(struct th_hub *h)
{
	struct th_agent ag;
	th_agent_init(&ag, AG_C1);
	struct th_answer a = th_hello(h, AG_C1, h->token_c1);
	assert_int_equal(a.status, 200);
	th_answer_free(&a);
	const char *dates[] = { "2021-03-14", "2021-04-11" };
	const char *ids[] = { "0190f3b0-0000-7000-8000-000000031001", "0190f3b0-0000-7000-8000-000000031002" };
	for (int i = 0; i < 2; i++) {
		char spec[256];
		snprintf(spec, sizeof spec, "kind=s:joint;held_on=s:%s;host_branch_id=n;"
			 "commune_secretary_attended=i:1;attendees=i:10;concerns=n;follow_up=n", dates[i]);
		assert_non_null(th_add(&ag, "meeting", ids[i], 'i', U_C1, spec, 0));
	}
	a = th_send(h, &ag, h->token_c1, 1, 2);
	assert_int_equal(a.status, 200);
	th_answer_free(&a);
	th_agent_release(&ag);
}

struct loaded {
	struct store *db;
	struct unittree *tree;
	struct status *st;
};

static void load(struct th_hub *h, struct loaded *l)
{
	char err[256];
	assert_int_equal(hub_store_open(h->path, 0, &l->db, err, sizeof err), 0);
	assert_int_equal(store_units_tree(l->db, &l->tree, err, sizeof err), 0);
	assert_int_equal(status_build(l->db, th_now_ms(), &l->st, err, sizeof err), 0);
}

static void unload(struct loaded *l)
{
	status_free(l->st);
	unittree_free(l->tree);
	l->db->close(l->db);
}

static const struct status_office *office_of(const struct status *st, const char *unit)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->offices[i].unit, unit) == 0)
			return &st->offices[i];
	return NULL;
}

static void test_dashpage__latest_year_is_read_from_the_records(void **state)
{
	struct th_hub *h = *state;
	struct loaded l;
	int y = -1;
	load(h, &l);
	assert_int_equal(dashpage_latest_year(l.db, 2026, &y), 0);
	assert_int_equal(y, 0);
	unload(&l);
	c1_syncs_two_of_three(h);
	load(h, &l);
	assert_int_equal(dashpage_latest_year(l.db, 2026, &y), 0);
	assert_int_equal(y, 2021);
	assert_int_equal(dashpage_latest_year(l.db, 2020, &y), 0); /* nothing up to 2020 */
	assert_int_equal(y, 0);
	unload(&l);
}

static void test_status__waiting_is_what_the_last_hello_reported_less_what_came_since(void **state)
{
	struct th_hub *h = *state;
	c1_syncs_two_of_three(h);
	struct loaded l;
	load(h, &l);
	const struct status_office *o = office_of(l.st, U_C1);
	assert_non_null(o);
	assert_int_equal(o->pending, 3);
	assert_int_equal(o->waiting, 1);
	assert_true(o->hello_ms > 0);
	assert_string_equal(o->group, U_D); /* grouped by its district */
	assert_string_equal(o->group_name, "Huyện D");
	const struct status_office *d = office_of(l.st, U_D);
	assert_non_null(d);
	assert_string_equal(d->group, U_D); /* the district's own office is in its group */
	unload(&l);
}

static void test_caveat__names_never_synced_stale_and_waiting_offices(void **state)
{
	struct th_hub *h = *state;
	c1_syncs_two_of_three(h);
	struct loaded l;
	load(h, &l);
	char today[11], text[CAVEAT_TEXT_MAX], fresh[200];
	status_vn_date(th_now_ms(), today);
	struct caveat c;
	/* the communes (figures 5–13), as of today: C2 never synced, C1 waits for one change */
	caveat_build(&c, l.st, l.tree, U_P, today, CAVEAT_COMMUNE);
	assert_int_equal(c.in_scope, 2);
	assert_int_equal(c.offices, 2);
	assert_int_equal(c.never, 1);
	assert_int_equal(c.waiting, 1);
	assert_int_equal(c.waiting_changes, 1);
	caveat_text(&c, today, text, sizeof text);
	assert_non_null(strstr(text, "Có thể chưa đủ số liệu: 2/2 văn phòng"));
	assert_non_null(strstr(text, "Xã C2"));
	assert_non_null(strstr(text, "1 chưa đồng bộ lần nào"));
	assert_non_null(strstr(text, "còn 1 thay đổi chưa gửi lên tỉnh"));
	assert_non_null(strstr(caveat_freshness(&c, th_now_ms(), fresh, sizeof fresh), "(hôm nay)"));
	/* the district level (figures 1–4): D never connected */
	caveat_build(&c, l.st, l.tree, U_P, today, CAVEAT_DISTRICT);
	assert_int_equal(c.in_scope, 1);
	assert_int_equal(c.never, 1);
	assert_string_equal(caveat_freshness(&c, th_now_ms(), fresh, sizeof fresh),
			    "Chưa nhận dữ liệu nào từ các văn phòng này.");
	/* C1 alone, for a year whose as-of date is after its last contact: stale */
	caveat_build(&c, l.st, l.tree, U_C1, "2999-12-31", CAVEAT_ALL);
	assert_int_equal(c.in_scope, 1);
	assert_int_equal(c.stale, 1);
	caveat_text(&c, "2999-12-31", text, sizeof text);
	assert_non_null(strstr(text, "liên lạc lần cuối trước ngày 31/12/2999"));
	/* nothing missing: no caveat at all */
	caveat_build(&c, l.st, l.tree, U_B1, today, CAVEAT_ALL);
	assert_int_equal(c.offices, 0);
	assert_string_equal(caveat_text(&c, today, text, sizeof text), "");
	unload(&l);
}

static char *page_of(struct th_hub *h, const char *unit, const char *year, int *status)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	struct store *s = NULL;
	char err[256];
	assert_int_equal(hub_store_open(h->path, 0, &s, err, sizeof err), 0);
	*status = dashpage_write(s, unit, year, th_now_ms(), f);
	s->close(s);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_dashpage__page_shows_caveats_tiles_cards_and_charts(void **state)
{
	struct th_hub *h = *state;
	c1_syncs_two_of_three(h);
	int st;
	char *p = page_of(h, NULL, NULL, &st);
	assert_int_equal(st, 200);
	/* the latest year with data, said so */
	assert_non_null(strstr(p, "data-report-year=\"2021\""));
	assert_non_null(strstr(p, "data-year-note=\"1\""));
	/* the picker offers it, marked, and the years around it */
	assert_non_null(strstr(p, "<option value=\"2021\" selected>2021 (mới nhất)</option>"));
	assert_non_null(strstr(p, "<option value=\"2019\">2019</option>"));
	/* a caveat naming the never-synced commune, by the figures and in the list */
	assert_non_null(strstr(p, "data-caveat=\"1\""));
	assert_non_null(strstr(p, "data-caveat-unit=\"" U_C2 "\""));
	/* tiles grouped by district, each linking to its unit's figures for the year */
	const char *grp = strstr(p, "<div class=\"lk-tgroup\" data-group=\"" U_D "\">");
	assert_non_null(grp);
	const char *t1 = strstr(grp, "data-unit=\"" U_C1 "\" data-fresh=\"today\" "
				     "href=\"/?unit=" U_C1 "&amp;year=2021\"");
	const char *t2 = strstr(grp, "data-unit=\"" U_C2 "\" data-fresh=\"never\" "
				     "href=\"/?unit=" U_C2 "&amp;year=2021\"");
	assert_non_null(t1);
	assert_non_null(t2);
	assert_non_null(strstr(p, "lk-tile f-today f-waiting")); /* C1 still has one to send */
	/* cards coloured by goal: 2 joint meetings of a target of 24 */
	assert_non_null(strstr(p, "<article class=\"lk-card lk-bad\" id=\"f-joint\""));
	assert_non_null(strstr(p, "<article class=\"lk-card lk-none\" id=\"f-volunteer\""));
	/* charts: legend, target line, numbers, accessible text; no SVG, no script */
	assert_non_null(strstr(p, "<figure class=\"lk-chart\" role=\"img\" data-chart=\"joint\" "
				  "aria-label=\"Biểu đồ cột: Sinh hoạt liên chi đoàn, năm 2021 so với năm 2020."));
	assert_non_null(strstr(p, "<figcaption class=\"lk-legend\">"));
	assert_non_null(strstr(p, "class=\"lk-tline\""));
	assert_non_null(strstr(p, "<span class=\"lk-bval\""));
	assert_null(strstr(p, "<script"));
	assert_null(strstr(p, "<svg"));
	assert_non_null(strstr(p, "@media print"));
	assert_non_null(strstr(p, "@page{size:A4"));
	/* the district's row of each breakdown says it may miss data too */
	assert_non_null(strstr(p, "data-caveat-row=\"1\""));
	free(p);

	/* the district's own page: its communes' caveats, its offices' status */
	p = page_of(h, U_D, "2021", &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(p, "data-report-unit=\"" U_D "\""));
	assert_non_null(strstr(p, "Xã C2"));
	assert_non_null(strstr(p, "data-caveat=\"1\""));
	free(p);

	/* a year asked for is shown, without the note */
	p = page_of(h, NULL, "2020", &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(p, "data-report-year=\"2020\""));
	assert_null(strstr(p, "data-year-note"));
	free(p);
}

/* The 2025 reform: on 1 July 2025 district D is dissolved and C1, C2 come directly
 * under the province. */
static int reform_2025(struct store *s, void *ctx)
{
	(void)ctx;
	struct validate_status vs;
	static const char *const links[][2] = {
		{ U_C1, "0190f3a2-0000-7000-8000-000000002003" },
		{ U_C2, "0190f3a2-0000-7000-8000-000000002004" },
	};
	static const char *const new_links[] = { "0190f3b0-0000-7000-8000-000000052003",
						 "0190f3b0-0000-7000-8000-000000052004" };
	for (int i = 0; i < 2; i++) {
		struct field end[] = { { "valid_to", th_text("2025-06-30") } };
		struct entry u = { .table = "unit_parent", .id = links[i][1], .op = 'u', .owner = U_P,
				   .fields = end, .nfields = 1 };
		struct field pf[] = { { "of_unit", th_text(links[i][0]) }, { "parent_id", th_text(U_P) },
				      { "valid_from", th_text("2025-07-01") }, { "valid_to", th_text(NULL) } };
		struct entry n = { .table = "unit_parent", .id = new_links[i], .op = 'i', .owner = U_P,
				   .fields = pf, .nfields = 4 };
		if (changes_apply_hub(s, &u, th_now_ms(), &vs) != 0 ||
		    changes_apply_hub(s, &n, th_now_ms(), &vs) != 0)
			return -1;
	}
	struct field f[] = { { "kind", th_text("close") }, { "of_unit", th_text(U_D) },
			     { "other_unit", th_text(NULL) }, { "effective_on", th_text("2025-07-01") },
			     { "note", th_text(NULL) } };
	struct entry e = { .table = "unit_event", .id = "0190f3b0-0000-7000-8000-0000000052e1", .op = 'i',
			   .owner = U_P, .fields = f, .nfields = 5 };
	return changes_apply_hub(s, &e, th_now_ms(), &vs);
}

static void test_dashpage__tiles_are_grouped_by_districts_before_the_reform_none_after(void **state)
{
	struct th_hub *h = *state;
	assert_int_equal(th_with_store(h, reform_2025, NULL), 0);
	int st;
	char *p = page_of(h, NULL, "2024", &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(p, "<div class=\"lk-tgroup\" data-group=\"" U_D "\">"));
	assert_null(strstr(p, "<div class=\"lk-tgroup\" data-group=\"\">"));
	free(p);
	p = page_of(h, NULL, "2025", &st);
	assert_int_equal(st, 200);
	const char *loose = strstr(p, "<div class=\"lk-tgroup\" data-group=\"\">");
	assert_non_null(loose);
	assert_null(strstr(p, "<div class=\"lk-tgroup\" data-group=\"" U_D "\">"));
	assert_non_null(strstr(loose, "data-unit=\"" U_C1 "\""));
	assert_non_null(strstr(loose, "data-unit=\"" U_C2 "\""));
	free(p);
}

static void test_status__html_groups_by_district_with_calls_first_and_what_to_do(void **state)
{
	struct th_hub *h = *state;
	c1_syncs_two_of_three(h);
	struct loaded l;
	load(h, &l);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(status_write_html(l.st, f), 0);
	fclose(f);
	const char *calls = strstr(text, "<h3>Cần gọi điện trước</h3><ol class=\"lk-calls\">");
	const char *group = strstr(text, "<details class=\"lk-group\" open data-group=\"" U_D "\">");
	assert_non_null(calls);
	assert_non_null(group);
	assert_true(calls < group);
	/* never-connected offices are to call, with what to do */
	const char *c2 = strstr(calls, "data-unit=\"" U_C2 "\"");
	assert_non_null(c2);
	assert_true(c2 < group);
	assert_non_null(strstr(c2, "Việc cần làm: gọi văn phòng cài Liên Kết"));
	/* C1 is fine but one change waits: a reminder, not a call */
	const char *c1 = strstr(calls, "data-unit=\"" U_C1 "\"");
	assert_true(c1 == NULL || c1 > group);
	assert_non_null(strstr(group, "Còn 1 thay đổi ở máy xã chưa gửi lên tỉnh"));
	/* plain Vietnamese column names */
	assert_non_null(strstr(group, "<th>Văn phòng</th><th>Tình trạng</th><th>Liên lạc lần cuối</th>"));
	assert_non_null(strstr(group, "data-label=\"Thay đổi chưa gửi\""));
	free(text);
	unload(&l);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goal__a_target_reached_is_good_three_quarters_attention_less_bad),
		cmocka_unit_test(test_goal__inactive_branches_none_good_few_attention_more_bad),
		cmocka_unit_test(test_goal__gathering_is_judged_against_last_year_and_counts_are_neutral),
		cmocka_unit_test(test_dashpage__opens_on_the_latest_year_with_data),
		T(test_dashpage__latest_year_is_read_from_the_records),
		T(test_status__waiting_is_what_the_last_hello_reported_less_what_came_since),
		T(test_caveat__names_never_synced_stale_and_waiting_offices),
		T(test_dashpage__page_shows_caveats_tiles_cards_and_charts),
		T(test_status__html_groups_by_district_with_calls_first_and_what_to_do),
		T(test_dashpage__tiles_are_grouped_by_districts_before_the_reform_none_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
