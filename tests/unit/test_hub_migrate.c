/*
 * test_hub_migrate.c — `lienket-hub migrate` between back ends (migrate.h), on an SQLite
 * hub that served an office through the api (agents, receipts, chains, synced rows) and
 * the tests' own PostgreSQL server (pg_harness.h):
 *   - into PostgreSQL every table agrees, the hub id, the hub sequence and the agent's
 *     acknowledged sequence and chain are kept, and receipt ids continue after the
 *     copied ones;
 *   - a PostgreSQL copy of a PostgreSQL hub keeps its hub id when opened again (the
 *     copied identity of the source database is not taken for a restore);
 *   - the check finds a chain changed in the destination;
 *   - the raw functions refuse a table that is not the hub's and a column name that is
 *     not a plain identifier.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hub_test_util.h"
#include "migrate.h"
#include "pg_harness.h"
#include "pg_internal.h"

#define AG1 "0190f3a2-7c1e-7d44-9a0b-0000000000a1"
#define P1 "0190f3c0-0000-7000-8000-000000000001"
#define P2 "0190f3c0-0000-7000-8000-000000000002"
#define P3 "0190f3c0-0000-7000-8000-000000000003"

static struct pg_harness pg;

struct fx {
	struct th_hub h;
	struct store *src;
};

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

/* An SQLite hub to which office C1 sent three entries in two change sets (the last one
 * quarantined). */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f || th_hub_new(&f->h) != 0)
		return -1;
	struct th_agent ag;
	th_agent_init(&ag, AG1);
	th_add(&ag, "person", P1, 'i', U_C1, "full_name=s:Nguyễn Thị Ánh;birth_year=i:1998;gender=s:nu;phone=n", 0);
	th_add(&ag, "person", P2, 'i', U_B1, "full_name=s:Trần Văn Bình;birth_year=i:1995;gender=s:nam;phone=s:0901", 0);
	th_add(&ag, "person", P3, 'i', U_C1, "full_name=s:Lê Đức", 0); /* quarantined: incomplete */
	struct th_answer a = th_hello(&f->h, AG1, f->h.token_c1);
	int ok = a.status == 200;
	th_answer_free(&a);
	a = th_send(&f->h, &ag, f->h.token_c1, 1, 2);
	ok = ok && a.status == 200;
	th_answer_free(&a);
	a = th_send(&f->h, &ag, f->h.token_c1, 3, 3);
	ok = ok && a.status == 200;
	th_answer_free(&a);
	th_agent_release(&ag);
	char err[256];
	api_free(f->h.api); /* the api's writer is done: the hub is stopped */
	f->h.api = NULL;
	if (!ok || store_sqlite_open(f->h.path, 0, &f->src, err, sizeof err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	f->src->close(f->src);
	th_hub_free(&f->h);
	free(f);
	return 0;
}

/* A PostgreSQL store on url, made (create=1) or opened, with its raw functions. */
static struct store *pg_open(const char *url, int create)
{
	struct store_pg *p;
	char err[512];
	if (store_pg_connect(url, create, &p, err, sizeof err) != 0) {
		print_error("%s\n", err);
		return NULL;
	}
	store_pg_raw_ops(&p->base);
	return &p->base;
}

static int count_row(void *ctx, size_t n, const char *const *names, const struct store_cell *cells)
{
	(void)n, (void)names, (void)cells;
	(*(int64_t *)ctx)++;
	return 0;
}

static int64_t rows_of(struct store *s, const char *table)
{
	int64_t n = 0;
	if (s->read_begin(s) != 0)
		return -1;
	int rc = s->raw_scan(s, table, count_row, &n);
	s->read_end(s);
	return rc == 0 ? n : -1;
}

static int max_id(void *ctx, size_t n, const char *const *names, const struct store_cell *cells)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], "id") == 0 && cells[i].kind == STORE_CELL_INT && cells[i].i > *(int64_t *)ctx)
			*(int64_t *)ctx = cells[i].i;
	return 0;
}

static int64_t max_receipt_id(struct store *s)
{
	int64_t m = 0;
	if (s->read_begin(s) != 0)
		return -1;
	int rc = s->raw_scan(s, "hub_receipt", max_id, &m);
	s->read_end(s);
	return rc == 0 ? m : -1;
}

/* The copy into a new PostgreSQL database; its store (kept open) in *dst. */
static void migrate_into_pg(struct store *src, struct store **dst)
{
	char url[PG_HARNESS_URL], err[1024] = "";
	assert_int_equal(pg_harness_fresh_db(&pg, url), 0);
	*dst = pg_open(url, 1);
	assert_non_null(*dst);
	FILE *out = fopen("/dev/null", "w");
	assert_non_null(out);
	enum migrate_result r = migrate_stores(src, *dst, out, err, sizeof err);
	fclose(out);
	if (r != MIGRATE_OK)
		fail_msg("migrate: %d %s", (int)r, err);
}

static void test_migrate__sqlite_hub_into_postgresql_keeps_ids_positions_and_chains(void **state)
{
	struct fx *f = *state;
	struct store *dst;
	migrate_into_pg(f->src, &dst);
	char a[64], b[64];
	assert_int_equal(f->src->meta_get(f->src, "hub_id", a, sizeof a), 0);
	assert_int_equal(dst->meta_get(dst, "hub_id", b, sizeof b), 0);
	assert_string_equal(a, b);
	assert_int_equal(f->src->meta_get(f->src, "hs", a, sizeof a), 0);
	assert_int_equal(dst->meta_get(dst, "hs", b, sizeof b), 0);
	assert_string_equal(a, b);
	assert_true(strtoull(b, NULL, 10) > 0);
	struct store_agent x, y;
	assert_int_equal(f->src->agent_get(f->src, AG1, &x), 0);
	assert_int_equal(dst->agent_get(dst, AG1, &y), 0);
	assert_int_equal(y.acked, 3);
	assert_int_equal(x.acked, y.acked);
	assert_string_equal(x.chain, y.chain);
	unsigned char cx[32], cy[32];
	assert_int_equal(f->src->chain_get(f->src, AG1, 2, cx), 0);
	assert_int_equal(dst->chain_get(dst, AG1, 2, cy), 0);
	assert_memory_equal(cx, cy, 32);
	const char *tables[] = { "person", "unit", "unit_name", "hub_token", "hub_receipt", "hub_agent_chain",
				 "hub_quarantine" };
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		int64_t n = rows_of(f->src, tables[i]);
		if (n <= 0)
			fail_msg("%s: %lld rows in the source", tables[i], (long long)n);
		assert_int_equal(rows_of(dst, tables[i]), n);
	}
	/* a row read back through the back end's own functions */
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, schema_table_find("person", SCHEMA_VERSION), P1, U_C1), 0);
	assert_int_equal(dst->row_read(dst, &r), 0);
	merge_row_release(&r);
	/* receipt ids continue after the copied ones */
	int64_t before = max_receipt_id(dst);
	assert_true(before >= 2);
	struct store_receipt rc = { .seq_from = 4, .seq_to = 4, .received_ms = th_now_ms() };
	snprintf(rc.agent_id, sizeof rc.agent_id, "%s", AG1);
	assert_int_equal(dst->begin(dst), 0);
	assert_int_equal(dst->receipt_add(dst, &rc), 0);
	assert_int_equal(dst->commit(dst), 0);
	assert_int_equal(max_receipt_id(dst), before + 1);
	dst->close(dst);
}

static void test_migrate__postgresql_copy_keeps_its_hub_id_when_opened_again(void **state)
{
	struct fx *f = *state;
	struct store *pg1, *pg2;
	char id[64], url2[PG_HARNESS_URL], err[1024] = "", got[64];
	assert_int_equal(f->src->meta_get(f->src, "hub_id", id, sizeof id), 0);
	migrate_into_pg(f->src, &pg1);
	assert_int_equal(pg_harness_fresh_db(&pg, url2), 0);
	pg2 = pg_open(url2, 1);
	assert_non_null(pg2);
	FILE *out = fopen("/dev/null", "w");
	assert_non_null(out);
	enum migrate_result r = migrate_stores(pg1, pg2, out, err, sizeof err);
	fclose(out);
	if (r != MIGRATE_OK)
		fail_msg("migrate pg to pg: %d %s", (int)r, err);
	pg1->close(pg1);
	pg2->close(pg2);
	pg2 = pg_open(url2, 0); /* its identity checked: a migrated database, not a restore */
	assert_non_null(pg2);
	assert_int_equal(pg2->meta_get(pg2, "hub_id", got, sizeof got), 0);
	assert_string_equal(got, id);
	assert_int_equal(pg2->meta_get(pg2, "restored_from", got, sizeof got), 1);
	pg2->close(pg2);
}

static void test_migrate__check_finds_a_chain_changed_in_the_destination(void **state)
{
	struct fx *f = *state;
	struct store *dst;
	char err[1024] = "";
	migrate_into_pg(f->src, &dst);
	FILE *out = fopen("/dev/null", "w");
	assert_non_null(out);
	assert_int_equal(migrate_check_stores(f->src, dst, out, err, sizeof err), MIGRATE_OK);
	PGresult *r = PQexec(store_pg_conn(dst), "UPDATE hub_agent_chain SET chains ="
			     " overlay(chains placing '\\x00'::bytea from 1 for 1) WHERE seq_to = 2");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	assert_string_equal(PQcmdTuples(r), "1");
	PQclear(r);
	assert_int_equal(migrate_check_stores(f->src, dst, out, err, sizeof err), MIGRATE_MISMATCH);
	fclose(out);
	assert_non_null(strstr(err, "hub_agent_chain"));
	dst->close(dst);
}

static void test_migrate__raw_access_refuses_other_tables_and_odd_column_names(void **state)
{
	struct fx *f = *state;
	struct store *dst;
	migrate_into_pg(f->src, &dst);
	int64_t n = 0;
	assert_int_equal(dst->read_begin(dst), 0);
	assert_true(dst->raw_scan(dst, "pg_class", count_row, &n) < 0);
	assert_true(dst->raw_scan(dst, "person\"; DROP TABLE person; --", count_row, &n) < 0);
	assert_int_equal(dst->read_end(dst), 0);
	const char *names[] = { "key\" text, x", "value" };
	struct store_cell cells[2] = { { .kind = STORE_CELL_TEXT, .p = "k", .len = 1 },
				       { .kind = STORE_CELL_TEXT, .p = "v", .len = 1 } };
	assert_int_equal(dst->begin(dst), 0);
	assert_true(dst->raw_put(dst, "hub_meta", 2, names, cells) < 0);
	dst->rollback(dst);
	assert_true(rows_of(dst, "person") > 0);
	dst->close(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate__sqlite_hub_into_postgresql_keeps_ids_positions_and_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate__postgresql_copy_keeps_its_hub_id_when_opened_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate__check_finds_a_chain_changed_in_the_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate__raw_access_refuses_other_tables_and_odd_column_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
