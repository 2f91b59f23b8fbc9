/*
 * test_figures_office_and_hub.c — one implementation of the thirteen figures
 * (figures/figures.h) seen from both programs: the same records, written through the
 * real write paths, give the same figures at the office (office_figures.h, from the
 * agent's own database, before it syncs) and at the hub (report_build, after the sync).
 *
 * The hub is the real one in process (hub_test_util.h: api_handle on a temporary
 * database with P > D > C1, C2 and branch B1 under C1); the offices are real agent
 * databases whose rows are written with records_write (what `add` and the office app
 * use: the journaling triggers) and synced by the real sync engine (sync_run) through
 * a transport that hands each request to api_handle. So the records reach the hub by
 * the path they take in the field: journal, change set, wire, merge.
 *
 * Links the hub, agent and figures libraries together (Makefile: test_figures_*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hub_test_util.h"

#include "figures_sqlite.h"
#include "office_figures.h"
#include "records.h"
#include "report.h"
#include "report_text.h"
#include "sync.h"
#include "transport.h"

#define YEAR 2021
#define TODAY "2022-03-01"

/* ---- a transport into the hub in this process ---- */

struct inproc {
	struct transport base; /* first */
	struct api *api;
	const char *token;
};

/* The query string of a path as key/value pairs for api_request.query. */
struct query {
	char buf[512];
	const char *kv[17];
};

static void query_parse(const char *path, char *bare, size_t bare_len, struct query *q)
{
	const char *qs = strchr(path, '?');
	size_t n = 0;
	snprintf(bare, bare_len, "%.*s", (int)(qs ? (size_t)(qs - path) : strlen(path)), path);
	memset(q, 0, sizeof *q);
	if (!qs)
		return;
	snprintf(q->buf, sizeof q->buf, "%s", qs + 1);
	for (char *save = NULL, *p = strtok_r(q->buf, "&", &save); p && n + 2 < 17;
	     p = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		q->kv[n++] = p;
		q->kv[n++] = eq ? eq : "";
	}
}

static enum transport_result inproc_request(struct transport *t, const struct transport_request *r,
					    struct transport_response *resp, char *err, size_t errlen)
{
	struct inproc *ip = (struct inproc *)t;
	char path[256], auth[96];
	struct query q;
	struct api_request req = { 0 };
	struct api_response ar;
	(void)err;
	(void)errlen;
	query_parse(r->path, path, sizeof path, &q);
	snprintf(auth, sizeof auth, "Bearer %s", ip->token);
	req.method = r->method;
	req.path = path;
	req.query = th_query;
	req.query_ctx = (void *)q.kv;
	req.authorization = r->authenticated ? auth : NULL;
	req.content_encoding = r->body ? "deflate" : NULL;
	req.accept_encoding = "deflate";
	req.body = r->body;
	req.body_len = r->body_len;
	req.client = "test";
	api_handle(ip->api, &req, &ar);
	memset(resp, 0, sizeof *resp);
	resp->status = ar.status;
	resp->deflated = ar.content_encoding && strcmp(ar.content_encoding, "deflate") == 0;
	resp->body = malloc(ar.body_len + 1);
	if (!resp->body) {
		api_response_release(&ar);
		return TRANSPORT_NOMEM;
	}
	if (ar.body_len)
		memcpy(resp->body, ar.body, ar.body_len);
	resp->body[ar.body_len] = '\0';
	resp->len = ar.body_len;
	api_response_release(&ar);
	return TRANSPORT_OK;
}

static void inproc_free(struct transport *t)
{
	(void)t; /* lives in the office struct */
}

static const struct transport_ops inproc_ops = { inproc_request, inproc_free };

/* ---- offices ---- */

struct office {
	char path[128];
	struct store *s;
	struct inproc t;
};

static void office_open(struct office *o, struct th_hub *h, const char *name, const char *unit,
			const char *token)
{
	char err[256];
	snprintf(o->path, sizeof o->path, "%s/%s.db", h->dir, name);
	if (store_create(o->path, unit, &o->s, err, sizeof err) != 0)
		fail_msg("store_create: %s", err);
	o->t.base.ops = &inproc_ops;
	o->t.api = h->api;
	o->t.token = token;
}

static void office_close(struct office *o)
{
	char p[160];
	store_close(o->s);
	o->s = NULL;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", o->path, suffix[i]);
		unlink(p);
	}
}

static void office_sync(struct office *o)
{
	struct sync_options so = { .quiet = 1, .lock_wait_ms = -1 };
	struct sync_result res;
	int rc = sync_run(o->s, &o->t.base, &so, &res);
	if (rc != 0)
		fail_msg("sync_run: %d %s %s", rc, res.error, res.detail);
}

static void sink_refuse(void *ctx, unsigned long line, const struct schema_column *col,
			const char *text)
{
	(void)ctx;
	(void)line;
	print_error("refused %s: %s\n", col ? col->name : "(row)", text);
}

/* Writes one row as `add TABLE name=value …` does; owner NULL: the office's unit.
 * Returns the new row's id in a static ring (valid for the next 63 calls). */
static const char *add(struct office *o, const char *table, const char *owner, ...)
{
	static char ids[64][IDS_UUID_TEXT];
	static size_t next;
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	const char *text[32] = { 0 };
	const struct records_sink sink = { .refuse = sink_refuse, .ctx = NULL };
	va_list ap;
	assert_non_null(t);
	assert_true(t->ncolumns <= 32);
	text[1] = owner;
	va_start(ap, owner);
	for (const char *name; (name = va_arg(ap, const char *)) != NULL;) {
		const char *value = va_arg(ap, const char *);
		const struct schema_column *c = schema_column_find(t, name, SCHEMA_VERSION);
		if (!c)
			fail_msg("no column %s.%s", table, name);
		text[schema_column_index(t, c)] = value;
	}
	va_end(ap);
	struct records_writer *w = records_writer_new(o->s, t, &sink);
	assert_non_null(w);
	char *id = ids[next++ % 64];
	enum records_result r = records_write(w, text, NULL, id);
	records_writer_free(w);
	if (r != RECORDS_INSERTED)
		fail_msg("add %s: %d", table, (int)r);
	return id;
}

static void rm(struct office *o, const char *table, const char *id)
{
	const struct records_sink sink = { .refuse = sink_refuse, .ctx = NULL };
	struct records_writer *w = records_writer_new(o->s, schema_table_find(table, SCHEMA_VERSION), &sink);
	assert_non_null(w);
	assert_int_equal(sqlite3_exec(store_db(o->s), "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(records_delete(w, id), RECORDS_DELETED);
	assert_int_equal(sqlite3_exec(store_db(o->s), "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	records_writer_free(w);
}

/* A village branch of the office's commune, as the commune's office creates it: its
 * unit row, name and link (all owned by the commune). Its id into out. */
static void add_branch(struct office *o, const char *commune, const char *name,
		       char out[IDS_UUID_TEXT])
{
	snprintf(out, IDS_UUID_TEXT, "%s", add(o, "unit", NULL, "opened_on", "2020-01-01", NULL));
	add(o, "unit_name", NULL, "of_unit", out, "name", name, "kind", "branch", "valid_from",
	    "2020-01-01", NULL);
	add(o, "unit_parent", NULL, "of_unit", out, "parent_id", commune, "valid_from", "2020-01-01",
	    NULL);
}

/* ---- the report of each program ---- */

static struct report *hub_report(struct th_hub *h, const char *unit)
{
	struct store *s = NULL;
	struct report *r = NULL;
	struct report_error e;
	char err[256];
	assert_int_equal(hub_store_open(h->path, 0, &s, err, sizeof err), 0);
	if (report_build(s, unit, YEAR, TODAY, &r, &e) != REPORT_OK)
		fail_msg("report_build: %s", e.message);
	s->close(s);
	return r;
}

static struct report *office_report(struct office *o)
{
	struct report *r = NULL;
	struct report_error e;
	if (office_figures_build(o->s, YEAR, TODAY, &r, &e) != REPORT_OK)
		fail_msg("office_figures_build: %s", e.message);
	return r;
}

static int cells_equal(const struct report_cell *a, const struct report_cell *b)
{
	return a->value == b->value && a->of == b->of && a->split == b->split;
}

static int measures_equal(const struct report_measure *a, const struct report_measure *b)
{
	return strcmp(a->key, b->key) == 0 && cells_equal(&a->value, &b->value) &&
	       a->has_previous == b->has_previous && cells_equal(&a->previous, &b->previous) &&
	       a->target == b->target;
}

/* Figure by figure, measure by measure, the total and every breakdown row: value, of,
 * split, target and the previous year. Returns the number of differing cells (each
 * printed). */
static int differences(const struct report *a, const struct report *b)
{
	int n = 0;
	if (strcmp(a->unit_id, b->unit_id) != 0 || a->nrows != b->nrows) {
		print_error("unit %s/%s rows %zu/%zu\n", a->unit_id, b->unit_id, a->nrows, b->nrows);
		return 1;
	}
	for (size_t i = 0; i < a->nrows; i++)
		if (strcmp(a->rows[i].id, b->rows[i].id) != 0)
			n++;
	for (size_t f = 0; f < REPORT_NFIGURES; f++) {
		const struct report_figure *x = &a->figures[f], *y = &b->figures[f];
		if (x->nmeasures != y->nmeasures)
			return n + 1;
		for (size_t m = 0; m < x->nmeasures; m++) {
			if (!measures_equal(&x->total[m], &y->total[m])) {
				print_error("figure %d %s total: %lld/%lld vs %lld/%lld\n", x->number,
					    x->total[m].key, (long long)x->total[m].value.value,
					    (long long)x->total[m].value.of, (long long)y->total[m].value.value,
					    (long long)y->total[m].value.of);
				n++;
			}
			for (size_t row = 0; row < a->nrows; row++)
				if (!measures_equal(&x->rows[row * x->nmeasures + m],
						    &y->rows[row * y->nmeasures + m])) {
					print_error("figure %d %s row %zu differs\n", x->number,
						    x->total[m].key, row);
					n++;
				}
		}
	}
	return n;
}

static char *json_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(report_write_json(r, f), REPORT_OK);
	fclose(f);
	return buf;
}

static const struct report_measure *total(const struct report *r, int number, const char *key)
{
	const struct report_figure *f = &r->figures[number - 1];
	for (size_t m = 0; m < f->nmeasures; m++)
		if (strcmp(f->total[m].key, key) == 0)
			return &f->total[m];
	fail_msg("figure %d has no measure %s", number, key);
	return NULL;
}

/* ---- the records ---- */

/* What commune C1's office records for 2020 and 2021: two more branches (B2, B3) beside
 * B1, meetings of every kind a commune holds, participations, volunteer work, a
 * secretary per branch with cards, support and Party steps, year-end records; and a
 * meeting typed by mistake and deleted (`rm`), which must count nowhere. */
static void commune_records(struct office *c1, char *b2, char *b3)
{
	add_branch(c1, U_C1, "Chi đoàn thôn Hai", b2);
	add_branch(c1, U_C1, "Chi đoàn thôn Ba", b3);
	/* figure 6: four joint meetings in 2021 hosted by B1, B2, B1; one in 2020 */
	add(c1, "meeting", NULL, "kind", "joint", "held_on", "2021-01-10", "host_branch_id", U_B1, NULL);
	add(c1, "meeting", NULL, "kind", "joint", "held_on", "2021-02-10", "host_branch_id", b2, NULL);
	add(c1, "meeting", NULL, "kind", "joint", "held_on", "2021-03-10", "host_branch_id", U_B1, NULL);
	add(c1, "meeting", NULL, "kind", "joint", "held_on", "2020-05-10", "host_branch_id", b2, NULL);
	/* figure 5: branch meetings, two of three attended by the commune secretary */
	const char *m1 = add(c1, "meeting", U_B1, "kind", "branch", "held_on", "2021-04-01",
			     "commune_secretary_attended", "1", NULL);
	char m1s[IDS_UUID_TEXT];
	strcpy(m1s, m1);
	add(c1, "meeting", b2, "kind", "branch", "held_on", "2021-04-02", "commune_secretary_attended",
	    "0", NULL);
	add(c1, "meeting", U_C1, "kind", "branch", "held_on", "2021-04-03", "host_branch_id", b2,
	    "commune_secretary_attended", "1", NULL);
	/* figure 7: B3 took part in B1's meeting in 2021 (not inactive); nothing in 2020 */
	add(c1, "meeting_branch", NULL, "meeting_id", m1s, "branch_id", b3, NULL);
	/* typed by mistake, then deleted */
	const char *wrong = add(c1, "meeting", NULL, "kind", "joint", "held_on", "2021-06-10", NULL);
	char wrongs[IDS_UUID_TEXT];
	strcpy(wrongs, wrong);
	rm(c1, "meeting", wrongs);
	/* figure 9 */
	add(c1, "volunteer", NULL, "kind", "vaccination", "started_on", "2021-08-01", "teams", "3",
	    "participations", "420", NULL);
	add(c1, "volunteer", b3, "kind", "green_shipper", "started_on", "2020-09-01", "teams", "1",
	    "participations", "35", NULL);
	/* figures 10-12: secretaries of B1 and B2 */
	char p1[IDS_UUID_TEXT], p2[IDS_UUID_TEXT];
	strcpy(p1, add(c1, "person", NULL, "full_name", "Nguyễn Văn An", "birth_year", "1995", NULL));
	strcpy(p2, add(c1, "person", NULL, "full_name", "Trần Thị Bình", "birth_year", "1997", NULL));
	add(c1, "role", NULL, "person_id", p1, "role", "branch_secretary", "of_unit", U_B1,
	    "term_from", "2019-01-01", NULL);
	add(c1, "role", NULL, "person_id", p2, "role", "branch_secretary", "of_unit", b2,
	    "term_from", "2021-01-01", NULL);
	add(c1, "insurance_card", NULL, "person_id", p1, "valid_from", "2021-01-01", "valid_until",
	    "2021-12-31", NULL);
	add(c1, "support", NULL, "person_id", p1, "kind", "loan", "on_date", "2021-05-05", "amount_vnd",
	    "30000000", NULL);
	add(c1, "support", NULL, "person_id", p2, "kind", "training", "on_date", "2021-06-06", NULL);
	add(c1, "party", NULL, "person_id", p1, "step", "introduced", "on_date", "2021-07-07", NULL);
	/* figures 8 and 13 */
	add(c1, "year_record", U_B1, "year", "2021", "rating", "xuat_sac", "youth_gathered", "80",
	    "youth_in_area", "100", NULL);
	add(c1, "year_record", b2, "year", "2021", "rating", "hoan_thanh", "youth_gathered", "40",
	    "youth_in_area", "90", NULL);
	add(c1, "year_record", U_B1, "year", "2020", "rating", "tot", "youth_gathered", "70",
	    "youth_in_area", "100", NULL);
}

/* What district D's office records: giao ban and task meetings with their tasks, and
 * its pilot branch (B1 of commune C1). */
static void district_records(struct office *d)
{
	add(d, "meeting", NULL, "kind", "giao_ban", "held_on", "2021-03-01", NULL);
	add(d, "meeting", NULL, "kind", "giao_ban", "held_on", "2021-09-01", NULL);
	char m[IDS_UUID_TEXT];
	strcpy(m, add(d, "meeting", NULL, "kind", "giao_nhiem_vu", "held_on", "2021-04-01", NULL));
	add(d, "task", NULL, "meeting_id", m, "title", "Kiểm tra sinh hoạt chi đoàn", NULL);
	add(d, "task", NULL, "meeting_id", m, "assignee_unit_id", U_C1, "title", "Tổ chức liên chi đoàn",
	    NULL);
	add(d, "meeting", NULL, "kind", "giao_ban", "held_on", "2020-03-01", NULL);
	add(d, "pilot", NULL, "branch_id", U_B1, "valid_from", "2020-06-01", NULL);
}

/* ---- tests ---- */

static void test_figures__office_before_sync_equals_hub_after_sync(void **state)
{
	struct th_hub *h = *state;
	struct office c1, d;
	char b2[IDS_UUID_TEXT], b3[IDS_UUID_TEXT];
	office_open(&c1, h, "c1", U_C1, h->token_c1);
	office_open(&d, h, "d", U_D, h->token_d);
	office_sync(&c1); /* the unit tree arrives */
	office_sync(&d);

	/* the commune: its records, then its figures before the sync */
	commune_records(&c1, b2, b3);
	struct report *office = office_report(&c1);
	struct report *hub_before = hub_report(h, U_C1);
	assert_true(differences(office, hub_before) > 0); /* the hub has none of it yet */
	office_sync(&c1);
	struct report *hub = hub_report(h, U_C1);
	assert_int_equal(differences(office, hub), 0);
	char *jo = json_of(office), *jh = json_of(hub);
	assert_string_equal(jo, jh); /* the same GET /v1/report document */
	/* and not vacuously: the figures computed by hand from commune_records */
	assert_int_equal(total(office, 6, "meetings")->value.value, 3);
	assert_int_equal(total(office, 6, "meetings")->previous.value, 1);
	assert_int_equal(total(office, 6, "hosts")->value.value, 2);
	assert_int_equal(total(office, 5, "attended")->value.value, 2);
	assert_int_equal(total(office, 5, "attended")->value.of, 3);
	assert_int_equal(total(office, 7, "branches")->value.value, 0);  /* B3 took part */
	assert_int_equal(total(office, 7, "branches")->value.of, 3);
	assert_int_equal(total(office, 7, "branches")->previous.value, 1); /* B1 in 2020 */
	assert_int_equal(total(office, 8, "youth")->value.value, 120);
	assert_int_equal(total(office, 8, "youth")->value.of, 190);
	assert_int_equal(total(office, 9, "participations")->value.value, 420);
	assert_int_equal(total(office, 9, "participations")->previous.value, 35);
	assert_int_equal(total(office, 10, "introduced")->value.value, 1);
	assert_int_equal(total(office, 11, "secretaries")->value.value, 1);
	assert_int_equal(total(office, 11, "secretaries")->value.of, 2);
	assert_int_equal(total(office, 12, "secretaries")->value.value, 2);
	assert_int_equal(total(office, 12, "loan_amount_vnd")->value.value, 30000000);
	assert_int_equal(total(office, 13, "completed")->value.value, 2);
	assert_int_equal(total(office, 13, "excellent_good")->value.value, 1);
	assert_int_equal(total(office, 13, "excellent_good")->previous.value, 1);
	free(jo);
	free(jh);
	report_free(office);
	report_free(hub_before);
	report_free(hub);

	/* the district: the commune's synced records pulled, its own not yet sent */
	office_sync(&d);
	district_records(&d);
	office = office_report(&d);
	office_sync(&d);
	hub = hub_report(h, U_D);
	assert_int_equal(differences(office, hub), 0);
	jo = json_of(office);
	jh = json_of(hub);
	assert_string_equal(jo, jh);
	assert_int_equal(total(office, 1, "units")->value.value, 1);
	assert_int_equal(total(office, 1, "units")->value.of, 1);
	assert_int_equal(total(office, 2, "branches")->value.value, 1);
	assert_int_equal(total(office, 3, "meetings")->value.value, 2);
	assert_int_equal(total(office, 3, "meetings")->previous.value, 1);
	assert_int_equal(total(office, 3, "meetings")->target, 2);
	assert_int_equal(total(office, 4, "tasks")->value.value, 2);
	assert_int_equal(total(office, 6, "meetings")->value.value, 3); /* C1's, pulled */
	free(jo);
	free(jh);
	report_free(office);
	report_free(hub);
	office_close(&c1);
	office_close(&d);
}

/* Before the first sync an office has no unit tree: its figures are refused with
 * REPORT_UNKNOWN_UNIT (the command says "sync first"), never computed on nothing. */
static void test_figures__office_without_unit_tree_is_unknown_unit(void **state)
{
	struct th_hub *h = *state;
	struct office c2;
	struct report *r = NULL;
	struct report_error e;
	char *json = NULL;
	size_t len = 0;
	office_open(&c2, h, "c2", U_C2, h->token_c2);
	assert_int_equal(office_figures_build(c2.s, YEAR, TODAY, &r, &e), REPORT_UNKNOWN_UNIT);
	assert_null(r);
	assert_int_equal(office_figures_json(c2.s, YEAR, TODAY, &json, &len, &e), REPORT_UNKNOWN_UNIT);
	assert_null(json);
	assert_int_equal(report_http_status(e.code), 404);
	office_sync(&c2);
	assert_int_equal(office_figures_json(c2.s, YEAR, TODAY, &json, &len, &e), REPORT_OK);
	assert_non_null(strstr(json, "\"unit\":\"" U_C2 "\""));
	assert_int_equal(strlen(json), len);
	free(json);
	assert_int_equal(office_figures_build(c2.s, 1999, TODAY, &r, &e), REPORT_BAD_ARGUMENT);
	assert_int_equal(office_figures_build(c2.s, 2023, TODAY, &r, &e), REPORT_BAD_ARGUMENT);
	office_close(&c2);
}

static int count_unit(void *arg, const struct figures_unit_row *r)
{
	(void)arg;
	(void)r;
	return 0;
}

/* The source says why it failed: an agent's tables read as a hub's (no metadata
 * columns) are "missing", a database locked by another writer is "busy". */
static void test_figures__sqlite_source_errors_say_why(void **state)
{
	struct th_hub *h = *state;
	struct office c1;
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	sqlite3 *a = NULL, *b = NULL;
	char path[160];
	office_open(&c1, h, "c1-errors", U_C1, h->token_c1);
	/* SQLite checks a view's columns when it is first read */
	assert_int_equal(figures_sqlite_new(store_db(c1.s), FIGURES_SQLITE_HUB, &src, &fe), FIGURES_OK);
	assert_int_equal(src->units(src, count_unit, NULL, &fe), FIGURES_MISSING);
	assert_non_null(strstr(fe.message, "_ins_"));
	assert_string_equal(figures_code_name(fe.code), "missing");
	figures_source_free(src);
	src = NULL;
	office_close(&c1);

	/* a rollback-journal copy of the hub, locked exclusively by another connection */
	snprintf(path, sizeof path, "%s/locked.db", h->dir);
	assert_int_equal(sqlite3_open(h->path, &a), SQLITE_OK);
	char *sql = sqlite3_mprintf("VACUUM INTO %Q", path);
	assert_int_equal(sqlite3_exec(a, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sqlite3_close(a);
	assert_int_equal(sqlite3_open(path, &a), SQLITE_OK);
	assert_int_equal(sqlite3_open(path, &b), SQLITE_OK);
	assert_int_equal(sqlite3_exec(a, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(figures_sqlite_new(b, FIGURES_SQLITE_HUB, &src, &fe), FIGURES_OK);
	assert_int_equal(sqlite3_exec(a, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	struct unittree *t = NULL;
	char err[256];
	assert_int_equal(unittree_load(src, &t, err, sizeof err), -1);
	assert_null(t);
	assert_non_null(strstr(err, "locked"));
	struct report *r = NULL;
	struct report_error re;
	assert_int_equal(figures_build(src, NULL, YEAR, TODAY, &r, &re), REPORT_STORAGE);
	assert_non_null(strstr(re.message, "locked"));
	int found = 0;
	assert_int_equal(src->branch_took_part(src, U_B1, "2021-01-01", "2021-12-31", &found, &fe),
			 FIGURES_BUSY);
	assert_string_equal(figures_code_name(fe.code), "busy");
	assert_int_equal(sqlite3_exec(a, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(figures_build(src, NULL, YEAR, TODAY, &r, &re), REPORT_OK);
	report_free(r);
	figures_source_free(src);
	sqlite3_close(a);
	sqlite3_close(b);
	unlink(path);
}

/* A table of functions of another version is refused before any slot is called. */
static void test_figures__source_of_another_version_is_refused(void **state)
{
	struct figures_source other = { .version = FIGURES_SOURCE_VERSION + 1 };
	struct report *r = NULL;
	struct report_error re;
	struct figures_error fe = { 0 };
	(void)state;
	assert_int_equal(figures_source_check(&other, &fe), FIGURES_VERSION);
	assert_non_null(strstr(fe.message, "version"));
	assert_int_equal(figures_build(&other, NULL, YEAR, TODAY, &r, &re), REPORT_STORAGE);
	assert_null(r);
	assert_int_equal(figures_source_check(NULL, &fe), FIGURES_VERSION);
}

/* "Today" for a report is Vietnam's date (UTC+7): 17:00 UTC on 31 December is already
 * New Year's Day there, the minute before is not. */
static void test_figures__today_is_vietnam_date(void **state)
{
	char d[11];
	(void)state;
	figures_vn_date(1640970000000LL, d); /* 2021-12-31T17:00:00Z */
	assert_string_equal(d, "2022-01-01");
	figures_vn_date(1640969999999LL, d);
	assert_string_equal(d, "2021-12-31");
	figures_vn_date(0, d);
	assert_string_equal(d, "1970-01-01");
	unittree_date_of_day(unittree_day_number("2024-02-29"), d);
	assert_string_equal(d, "2024-02-29");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures__office_before_sync_equals_hub_after_sync),
		cmocka_unit_test(test_figures__office_without_unit_tree_is_unknown_unit),
		cmocka_unit_test(test_figures__sqlite_source_errors_say_why),
		cmocka_unit_test(test_figures__source_of_another_version_is_refused),
		cmocka_unit_test(test_figures__today_is_vietnam_date),
	};
	return cmocka_run_group_tests(tests, th_setup, th_teardown);
}
