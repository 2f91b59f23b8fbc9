/*
 * test_hub_figures_pg.c — the thirteen figures are the same on both hub back ends: the
 * same rows, written through the store interface (row_write) into an SQLite hub and
 * into a PostgreSQL hub (the suite's own server, pg_harness.h, whose default collation
 * is ICU's Vietnamese), give the same answer from every slot of the figures source
 * (figures_sqlite.c's and figures_pg.c's) and the same report for every unit and year.
 *
 * The rows are made by a seeded generator over a small province (two districts, three
 * communes, five branches): meetings of every kind with hosts, attendance, tasks and
 * participants, volunteer activities and their branches, pilots, year-end records,
 * persons, secretaries (one with two branches at once), cards, support and Party steps,
 * over 2020–2022. Rows that must not count are among them: deleted ones (a later
 * delete), held updates (no insert), and rows whose insert and delete have the same
 * clock, decided by the writers compared in byte order ("a…" after "B…", where
 * Vietnamese collation puts it before); the secretary's smallest branch is also a byte
 * order ("B…" before "a…").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "figures.h"
#include "figures_pg.h"
#include "figures_sqlite.h"
#include "merge.h"
#include "pg_harness.h"
#include "report_text.h"
#include "schema.h"
#include "store.h"
#include "unittree.h"

static struct pg_harness pg;

static int group_setup(void **state)
{
	(void)state;
	return pg_harness_start(&pg);
}

static int group_teardown(void **state)
{
	(void)state;
	pg_harness_stop(&pg);
	return 0;
}

/* ---- the generator ---- */

static uint64_t rng_state;
static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng_state >> 33) % n);
}

/* Two stores written alike. */
struct both {
	struct store *s[2];
	unsigned ids;
};

enum fate { LIVE, DELETED, HELD, TIE_LIVE, TIE_DEAD };

/* A value of column c given as text ("" NULL; an int column's text is its number). */
static void put_row(struct both *b, const char *table, const char *id, const char *owner,
		    enum fate fate, const char *const *vals)
{
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	assert_non_null(t);
	for (int k = 0; k < 2; k++) {
		struct merge_row r;
		uint64_t hs;
		assert_int_equal(merge_row_init(&r, t, id, owner), 0);
		/* writers compared by byte order on a tie: "a…" > "B…" (Vietnamese: a < B) */
		const char *w = "a0000000-0000-7000-8000-000000000001";
		const char *wd = "B0000000-0000-7000-8000-000000000002";
		if (fate != HELD) {
			r.ins_clock = 1000 + b->ids;
			snprintf(r.ins_writer, sizeof r.ins_writer, "%s", fate == TIE_DEAD ? wd : w);
		}
		if (fate == DELETED || fate == TIE_LIVE || fate == TIE_DEAD) {
			r.del_clock = fate == DELETED ? 5000 + b->ids : r.ins_clock;
			snprintf(r.del_writer, sizeof r.del_writer, "%s", fate == TIE_DEAD ? w : wd);
		}
		for (size_t c = 2; c < t->ncolumns; c++) {
			const char *v = vals[c - 2];
			struct value x = { .kind = VALUE_NULL };
			if (v && *v) {
				int integer = t->columns[c].type == SCHEMA_INT ||
					      t->columns[c].type == SCHEMA_BOOL;
				x.kind = integer ? VALUE_INT : VALUE_TEXT;
				x.i = integer ? strtoll(v, NULL, 10) : 0;
				x.s = integer ? NULL : v;
				x.len = integer ? 0 : strlen(v);
			}
			assert_int_equal(merge_cell_set(&r, c, &x, 1000 + b->ids, w), 0);
		}
		assert_int_equal(b->s[k]->next_hs(b->s[k], &hs), 0);
		assert_int_equal(b->s[k]->row_write(b->s[k], &r, hs, 1700000000000), 0);
		merge_row_release(&r);
	}
	b->ids++;
}

static enum fate some_fate(void)
{
	unsigned x = rnd(20);
	return x < 14 ? LIVE : x < 16 ? DELETED : x < 17 ? HELD : x < 18 ? TIE_LIVE : x < 19 ? TIE_DEAD : LIVE;
}

static void new_id(struct both *b, const char *prefix, char id[37])
{
	snprintf(id, 37, "%s-%06u-7000-8000-00000000%04u", prefix, b->ids, rnd(10000));
}

static void date_in(int year, char out[24])
{
	snprintf(out, 24, "%04d-%02u-%02u", year, 1 + rnd(12), 1 + rnd(28));
}

#define P_ID "00000000-0000-7000-8000-000000000001"
static const char *const DISTRICTS[] = { "d1000000-0000-7000-8000-000000000001",
					 "D2000000-0000-7000-8000-000000000002" };
static const char *const COMMUNES[] = { "c1100000-0000-7000-8000-000000000011",
					"C1200000-0000-7000-8000-000000000012",
					"c2100000-0000-7000-8000-000000000021" };
static const int COMMUNE_DISTRICT[] = { 0, 0, 1 };
static const char *const BRANCHES[] = { "a1110000-0000-7000-8000-000000000111",
					"B1120000-0000-7000-8000-000000000112",
					"B1210000-0000-7000-8000-000000000121",
					"a1220000-0000-7000-8000-000000000122",
					"b2110000-0000-7000-8000-000000000211" };
static const int BRANCH_COMMUNE[] = { 0, 0, 1, 1, 2 };

static void unit(struct both *b, const char *id, const char *parent, const char *name,
		 const char *code, const char *kind)
{
	char rid[37];
	put_row(b, "unit", id, id, LIVE, (const char *[]){ "2015-01-01" });
	new_id(b, "0a", rid);
	put_row(b, "unit_name", rid, id, LIVE,
		(const char *[]){ id, name, code, kind, "2015-01-01", "" });
	if (parent) {
		new_id(b, "0b", rid);
		put_row(b, "unit_parent", rid, id, LIVE,
			(const char *[]){ id, parent, "2015-01-01", "" });
	}
}

static void generate(struct both *b)
{
	char id[37], id2[37], d1[24], d2[24], n[32];
	static const char *const kinds[] = { "giao_ban", "giao_nhiem_vu", "branch", "joint" };
	static const char *const vkinds[] = { "vaccination", "testing", "other" };
	static const char *const ratings[] = { "xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh" };
	rng_state = 20240601;
	unit(b, P_ID, NULL, "Tỉnh Thử", "99", "province");
	unit(b, DISTRICTS[0], P_ID, "Huyện Một", "901", "district");
	unit(b, DISTRICTS[1], P_ID, "Huyện Hai", "902", "district");
	for (int c = 0; c < 3; c++) {
		snprintf(n, sizeof n, "Xã %d", c + 1);
		char code[32];
		snprintf(code, sizeof code, "9%d0%d", COMMUNE_DISTRICT[c], c);
		unit(b, COMMUNES[c], DISTRICTS[COMMUNE_DISTRICT[c]], n, code, "commune");
	}
	for (int br = 0; br < 5; br++) {
		snprintf(n, sizeof n, "Chi đoàn %d", br + 1);
		unit(b, BRANCHES[br], COMMUNES[BRANCH_COMMUNE[br]], n, NULL, "branch");
	}
	for (int year = 2020; year <= 2022; year++) {
		/* meetings, their tasks and participants */
		for (int m = 0; m < 60; m++) {
			const char *kind = kinds[rnd(4)];
			const char *owner = !strcmp(kind, "giao_ban") || !strcmp(kind, "giao_nhiem_vu")
						    ? DISTRICTS[rnd(2)]
						    : COMMUNES[rnd(3)];
			const char *host = rnd(3) ? BRANCHES[rnd(5)] : "";
			char att[4];
			snprintf(att, sizeof att, "%s", rnd(3) == 0 ? "" : rnd(2) ? "1" : "0");
			date_in(year, d1);
			new_id(b, "0e", id);
			enum fate f = some_fate();
			put_row(b, "meeting", id, owner, f,
				(const char *[]){ kind, d1, host, att, "12", "", "" });
			if (!strcmp(kind, "giao_nhiem_vu"))
				for (unsigned k = rnd(3); k > 0; k--) {
					new_id(b, "0f", id2);
					put_row(b, "task", id2, owner, some_fate(),
						(const char *[]){ id, "", COMMUNES[rnd(3)], "Việc", "", "" });
				}
			if (rnd(2)) {
				new_id(b, "10", id2);
				put_row(b, "meeting_branch", id2, owner, some_fate(),
					(const char *[]){ id, BRANCHES[rnd(5)] });
			}
		}
		/* volunteer activities */
		for (int v = 0; v < 12; v++) {
			date_in(year, d1);
			snprintf(d2, sizeof d2, "%s", rnd(2) ? "" : d1);
			if (rnd(4) == 0)
				snprintf(d2, sizeof d2, "%04d-01-15", year + 1);
			new_id(b, "11", id);
			char teams[8], parts[8];
			snprintf(teams, sizeof teams, "%s", rnd(4) ? "3" : "");
			snprintf(parts, sizeof parts, "%u", rnd(500));
			put_row(b, "volunteer", id, COMMUNES[rnd(3)], some_fate(),
				(const char *[]){ vkinds[rnd(3)], "Tình nguyện", d1, d2, teams, parts });
			if (rnd(2)) {
				new_id(b, "12", id2);
				put_row(b, "volunteer_branch", id2, COMMUNES[rnd(3)], some_fate(),
					(const char *[]){ id, BRANCHES[rnd(5)] });
			}
		}
		/* year-end records and pilots */
		for (int br = 0; br < 5; br++) {
			char y[16], g[16], a[16];
			snprintf(y, sizeof y, "%d", year);
			snprintf(g, sizeof g, "%s", rnd(5) ? "40" : "");
			snprintf(a, sizeof a, "%u", 50 + rnd(50));
			new_id(b, "13", id);
			put_row(b, "year_record", id, BRANCHES[br], some_fate(),
				(const char *[]){ y, rnd(5) ? ratings[rnd(4)] : "", g, a });
			date_in(year, d1);
			new_id(b, "14", id);
			put_row(b, "pilot", id, COMMUNES[BRANCH_COMMUNE[br]], some_fate(),
				(const char *[]){ BRANCHES[br], d1, rnd(2) ? "" : "2022-12-31" });
		}
	}
	/* persons: secretaries of branches (one of two at once), their cards, support and
	 * Party steps */
	for (int p = 0; p < 14; p++) {
		char pid[37];
		int br = (int)rnd(5);
		new_id(b, "15", pid);
		put_row(b, "person", pid, BRANCHES[br], p < 12 ? LIVE : some_fate(),
			(const char *[]){ "Nguyễn Văn A", "1995", "nam", "" });
		date_in(2019 + (int)rnd(3), d1);
		new_id(b, "16", id);
		put_row(b, "role", id, BRANCHES[br], p < 10 ? LIVE : some_fate(),
			(const char *[]){ pid, "branch_secretary", BRANCHES[br], d1,
					  rnd(3) ? "" : "2021-06-30" });
		if (p % 4 == 0) { /* a second branch at once: the smallest in byte order counts */
			new_id(b, "17", id);
			put_row(b, "role", id, BRANCHES[(br + 1) % 5], LIVE,
				(const char *[]){ pid, "branch_secretary", BRANCHES[(br + 1) % 5],
						  "2019-01-01", "" });
		}
		new_id(b, "18", id);
		date_in(2020, d1);
		put_row(b, "insurance_card", id, BRANCHES[br], some_fate(),
			(const char *[]){ pid, "SV123", d1, rnd(2) ? "" : "2021-12-31" });
		for (int k = 0; k < 3; k++) {
			date_in(2020 + (int)rnd(3), d1);
			new_id(b, "19", id);
			put_row(b, "support", id, BRANCHES[br], some_fate(),
				(const char *[]){ pid, rnd(2) ? "loan" : "training", d1,
						  rnd(3) ? "5000000" : "", "" });
		}
		date_in(2020 + (int)rnd(3), d1);
		new_id(b, "1a", id);
		put_row(b, "party", id, BRANCHES[br], some_fate(),
			(const char *[]){ pid, rnd(2) ? "introduced" : "admitted", d1 });
	}
}

/* ---- what each source answers ---- */

struct lines {
	char **v;
	size_t n, cap;
};

static void add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct lines *l, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		assert_non_null(l->v);
	}
	l->v[l->n] = strdup(buf);
	assert_non_null(l->v[l->n]);
	l->n++;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

#define S(x) ((x) ? (x) : "NULL")
static int c_unit(void *a, const struct figures_unit_row *r)
{ add(a, "unit %s %s", S(r->id), S(r->opened_on)); return 0; }
static int c_name(void *a, const struct figures_name_row *r)
{ add(a, "name %s %s %s %s %s %s %s", S(r->row_id), S(r->unit), S(r->name), S(r->code), S(r->kind), S(r->valid_from), S(r->valid_to)); return 0; }
static int c_link(void *a, const struct figures_link_row *r)
{ add(a, "link %s %s %s %s %s", S(r->row_id), S(r->unit), S(r->parent), S(r->valid_from), S(r->valid_to)); return 0; }
static int c_event(void *a, const struct figures_event_row *r)
{ add(a, "event %s %s %s %s %s", S(r->row_id), S(r->kind), S(r->unit), S(r->other), S(r->effective_on)); return 0; }
static int c_mg(void *a, const struct figures_meeting_group *r)
{ add(a, "meetings %s %s %s %" PRId64 " %" PRId64, S(r->kind), S(r->unit), S(r->host), r->meetings, r->attended); return 0; }
static int c_cnt(void *a, const struct figures_unit_count *r)
{ add(a, "tasks %s %" PRId64, S(r->unit), r->count); return 0; }
static int c_id(void *a, const struct figures_unit_id *r)
{ add(a, "id %s", S(r->unit)); return 0; }
static int c_vg(void *a, const struct figures_volunteer_group *r)
{ add(a, "volunteer %s %s %" PRId64 " %" PRId64 " %" PRId64, S(r->unit), S(r->kind), r->activities, r->teams, r->participations); return 0; }
static int c_ga(void *a, const struct figures_gathering_row *r)
{ add(a, "gathering %s %" PRId64 " %" PRId64, S(r->unit), r->gathered, r->in_area); return 0; }
static int c_ra(void *a, const struct figures_rating_row *r)
{ add(a, "rating %s %s %" PRId64, S(r->unit), S(r->rating), r->count); return 0; }
static int c_pa(void *a, const struct figures_party_row *r)
{ add(a, "party %s %s %s", S(r->branch), S(r->person), S(r->step)); return 0; }
static int c_se(void *a, const struct figures_secretary_row *r)
{ add(a, "secretary %s %s %d", S(r->branch), S(r->person), r->insured); return 0; }
static int c_su(void *a, const struct figures_support_row *r)
{ add(a, "support %s %s %s %" PRId64, S(r->branch), S(r->person), S(r->kind), r->amount_vnd); return 0; }

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every slot's rows over 2020–2022 as sorted lines (a slot's order is unspecified). */
static void answers(struct figures_source *s, struct lines *l)
{
	struct figures_error e = { 0 };
	assert_int_equal(s->read_begin(s, &e), FIGURES_OK);
	assert_int_equal(s->units(s, c_unit, l, &e), FIGURES_OK);
	assert_int_equal(s->unit_names(s, c_name, l, &e), FIGURES_OK);
	assert_int_equal(s->unit_links(s, c_link, l, &e), FIGURES_OK);
	assert_int_equal(s->unit_events(s, c_event, l, &e), FIGURES_OK);
	for (int y = 2020; y <= 2022; y++) {
		char from[24], to[24], mid[24], before[24];
		snprintf(from, sizeof from, "%d-01-01", y);
		snprintf(to, sizeof to, "%d-12-31", y);
		snprintf(mid, sizeof mid, "%d-06-30", y);
		snprintf(before, sizeof before, "%d-01-01", y - 1);
		add(l, "year %d", y);
		assert_int_equal(s->meeting_groups(s, y, from, to, c_mg, l, &e), FIGURES_OK);
		assert_int_equal(s->meeting_groups(s, y, from, mid, c_mg, l, &e), FIGURES_OK);
		assert_int_equal(s->meeting_tasks(s, y, from, to, c_cnt, l, &e), FIGURES_OK);
		assert_int_equal(s->meeting_participants(s, y, from, to, c_id, l, &e), FIGURES_OK);
		assert_int_equal(s->volunteer_units(s, before, from, to, c_id, l, &e), FIGURES_OK);
		assert_int_equal(s->volunteer_groups(s, from, to, c_vg, l, &e), FIGURES_OK);
		assert_int_equal(s->pilots(s, mid, c_id, l, &e), FIGURES_OK);
		assert_int_equal(s->gathering(s, y, c_ga, l, &e), FIGURES_OK);
		assert_int_equal(s->ratings(s, y, c_ra, l, &e), FIGURES_OK);
		assert_int_equal(s->party_steps(s, from, to, c_pa, l, &e), FIGURES_OK);
		assert_int_equal(s->secretaries(s, mid, c_se, l, &e), FIGURES_OK);
		assert_int_equal(s->support(s, from, to, c_su, l, &e), FIGURES_OK);
		for (int br = 0; br < 5; br++) {
			int found = -1;
			assert_int_equal(s->branch_took_part(s, BRANCHES[br], from, mid, &found, &e),
					 FIGURES_OK);
			add(l, "took_part %s %d", BRANCHES[br], found);
		}
	}
	s->read_end(s);
	qsort(l->v, l->n, sizeof *l->v, by_text);
}

static char *report_json(struct figures_source *src, const char *unit, int year)
{
	struct report *r = NULL;
	struct report_error re = { 0 };
	char *json = NULL;
	size_t len = 0;
	int rc = figures_build(src, unit, year, "2022-06-15", &r, &re);
	if (rc != REPORT_OK)
		fail_msg("report of %s %d: %s", unit, year, re.message);
	FILE *f = open_memstream(&json, &len);
	assert_non_null(f);
	assert_int_equal(report_write_json(r, f), 0);
	fclose(f);
	report_free(r);
	return json;
}

/* ---- the case ---- */

static void test_figures_pg__same_rows_give_the_same_figures_on_both_back_ends(void **state)
{
	(void)state;
	char url[PG_HARNESS_URL], path[] = "/tmp/lk-figures-pg-XXXXXX", file[64], err[256];
	struct both b = { 0 };
	assert_int_equal(pg_harness_fresh_db(&pg, url), 0);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(file, sizeof file, "%s.db", path);
	if (hub_store_open(file, 1, &b.s[0], err, sizeof err) != 0 ||
	    hub_store_open(url, 1, &b.s[1], err, sizeof err) != 0)
		fail_msg("cannot create the hubs: %s", err);
	assert_int_equal(b.s[0]->begin(b.s[0]), 0);
	assert_int_equal(b.s[1]->begin(b.s[1]), 0);
	generate(&b);
	assert_int_equal(b.s[0]->commit(b.s[0]), 0);
	assert_int_equal(b.s[1]->commit(b.s[1]), 0);

	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	PGconn *conn = PQconnectdb(url);
	assert_int_equal(PQstatus(conn), CONNECTION_OK);
	struct figures_source *src[2] = { NULL, NULL };
	struct figures_error fe = { 0 };
	assert_int_equal(figures_sqlite_new(db, FIGURES_SQLITE_HUB, &src[0], &fe), FIGURES_OK);
	assert_int_equal(figures_pg_new(conn, &src[1], &fe), FIGURES_OK);

	/* every slot */
	struct lines l[2] = { { 0 }, { 0 } };
	answers(src[0], &l[0]);
	answers(src[1], &l[1]);
	size_t diffs = 0;
	for (size_t i = 0; i < l[0].n || i < l[1].n; i++) {
		const char *x = i < l[0].n ? l[0].v[i] : "(none)", *y = i < l[1].n ? l[1].v[i] : "(none)";
		if (strcmp(x, y) != 0 && diffs++ < 8)
			print_error("line %zu\n  sqlite:     %s\n  postgresql: %s\n", i, x, y);
	}
	print_message("%zu answers from each source, %zu differ\n", l[0].n, diffs);
	assert_int_equal(diffs, 0);
	assert_true(l[0].n > 300);

	/* the report of every unit, every year */
	const char *units[] = { "", DISTRICTS[0], DISTRICTS[1], COMMUNES[0], COMMUNES[1],
				COMMUNES[2], BRANCHES[0], BRANCHES[2] };
	for (int y = 2020; y <= 2022; y++)
		for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
			char *a = report_json(src[0], units[u], y), *c = report_json(src[1], units[u], y);
			if (strcmp(a, c) != 0)
				fail_msg("report of '%s' %d differs:\n  sqlite:     %.600s\n"
					 "  postgresql: %.600s", units[u], y, a, c);
			free(a);
			free(c);
		}

	lines_free(&l[0]);
	lines_free(&l[1]);
	figures_source_free(src[0]);
	figures_source_free(src[1]);
	PQfinish(conn);
	sqlite3_close(db);
	b.s[0]->close(b.s[0]);
	b.s[1]->close(b.s[1]);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures_pg__same_rows_give_the_same_figures_on_both_back_ends),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
