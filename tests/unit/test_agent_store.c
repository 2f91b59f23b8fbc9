/*
 * test_agent_store.c — the agent's local store: generated tables and constraints,
 * journaling triggers (every operation on every table, writes by other programs,
 * pulled rows skipped, clocks, no-op updates, immutable owner and keys), config,
 * agent id replacement and backup rotation.
 *
 * Each test gets a fresh directory under /tmp with a new database (POSIX calls are
 * fine here: tests run on Linux). Rows for every table are generated from the schema,
 * so a table added to schema.c is covered without touching this file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ids.h"
#include "rm_tree.h"
#include "schema.h"
#include "store.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define OTHER_UUID "0190f3a2-0000-7000-8000-0000000000ff"

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/agent.db", f->dir);
	char err[256];
	if (store_create(f->path, UNIT, &f->s, err, sizeof err) != 0) {
		fprintf(stderr, "store_create: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	rm_tree(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The text of column 0 of the first row, copied into buf ("" when none). */
static void query_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static int64_t journal_count(sqlite3 *db)
{
	return query_int(db, "SELECT count(*) FROM lk_journal");
}

/* A valid SQL literal for column c; variant 1 gives a different valid value. */
static void literal(const struct schema_column *c, int variant, char *buf, size_t n)
{
	switch (c->type) {
	case SCHEMA_TEXT:
		snprintf(buf, n, "'%s'", variant ? "Đổi" : "Thử");
		break;
	case SCHEMA_INT:
		snprintf(buf, n, "%lld", (long long)(variant ? c->max : c->min));
		break;
	case SCHEMA_BOOL:
		snprintf(buf, n, "%d", variant ? 0 : 1);
		break;
	case SCHEMA_DATE:
		snprintf(buf, n, "'%s'", variant ? "2022-12-31" : "2021-03-14");
		break;
	case SCHEMA_ENUM:
		snprintf(buf, n, "'%s'", variant && c->enum_values[1].code ? c->enum_values[1].code : c->enum_values[0].code);
		break;
	case SCHEMA_REF:
		snprintf(buf, n, "'%s'", variant ? OTHER_UUID : "0190f3a2-0000-7000-8000-00000000aaaa");
		break;
	}
}

/* INSERT of one row of t with every column set, id `id`, owner UNIT. */
static void insert_sql(const struct schema_table *t, const char *id, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "INSERT INTO \"%s\"(", t->name);
	for (size_t i = 0; i < t->ncolumns; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s\"%s\"", i ? ", " : "", t->columns[i].name);
	len += (size_t)snprintf(buf + len, n - len, ") VALUES ('%s', '%s'", id, UNIT);
	for (size_t i = 2; i < t->ncolumns; i++) {
		char lit[64];
		literal(&t->columns[i], 0, lit, sizeof lit);
		len += (size_t)snprintf(buf + len, n - len, ", %s", lit);
	}
	snprintf(buf + len, n - len, ")");
}

/* The first column an update may change (not id, owner or key); NULL if none. */
static const struct schema_column *mutable_column(const struct schema_table *t)
{
	for (size_t i = 2; i < t->ncolumns; i++)
		if (!(t->columns[i].flags & SCHEMA_KEY))
			return &t->columns[i];
	return NULL;
}

static size_t field_count(const struct schema_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->ncolumns; i++)
		if (!(t->columns[i].flags & (SCHEMA_ID | SCHEMA_OWNER)))
			n++;
	return n;
}

/* Checks the newest journal entry. */
static void expect_last_entry(sqlite3 *db, const char *table, const char *id, const char *op,
			      int64_t nfields)
{
	char sql[512], got[256];
	query_text(db, "SELECT tbl || '|' || row_id || '|' || op || '|' || owner FROM lk_journal ORDER BY seq DESC LIMIT 1",
		   got, sizeof got);
	char want[256];
	snprintf(want, sizeof want, "%s|%s|%s|%s", table, id, op, UNIT);
	assert_string_equal(got, want);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM json_each((SELECT fields FROM lk_journal ORDER BY seq DESC LIMIT 1))");
	assert_int_equal(query_int(db, sql), nfields);
	assert_int_equal(query_int(db, "SELECT schema_version FROM lk_journal ORDER BY seq DESC LIMIT 1"), SCHEMA_VERSION);
	/* the trigger raised last_clock to the entry's clock */
	assert_int_equal(query_int(db, "SELECT clock FROM lk_journal ORDER BY seq DESC LIMIT 1"),
			 query_int(db, "SELECT last_clock FROM lk_state"));
}

static void assert_clocks_strictly_increase(sqlite3 *db)
{
	assert_int_equal(query_int(db, "SELECT count(*) FROM lk_journal a JOIN lk_journal b ON b.seq = a.seq + 1"
				       " WHERE b.clock <= a.clock"),
			 0);
}

/* ---- tests ---- */

static void test_agent_store__create_then_open_keeps_ids(void **state)
{
	struct fixture *f = *state;
	char agent[IDS_UUID_TEXT], err[256];
	snprintf(agent, sizeof agent, "%s", store_agent_id(f->s));
	assert_true(ids_uuid_valid(agent));
	assert_int_equal(agent[14], '7'); /* UUIDv7 */
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_string_equal(store_agent_id(f->s), agent);
	assert_string_equal(store_unit_id(f->s), UNIT);
}

static void test_agent_store__create_refuses_an_existing_file(void **state)
{
	struct fixture *f = *state;
	struct store *s2 = NULL;
	char err[256] = "";
	assert_int_equal(store_create(f->path, UNIT, &s2, err, sizeof err), -1);
	assert_null(s2);
	assert_non_null(strstr(err, "exists"));
	/* and the existing database is untouched */
	assert_int_equal(query_int(store_db(f->s), "SELECT count(*) FROM lk_state"), 1);
}

static void test_agent_store__open_refuses_missing_and_foreign_files(void **state)
{
	struct fixture *f = *state;
	struct store *s2 = NULL;
	char err[256], other[160];
	snprintf(other, sizeof other, "%s/missing.db", f->dir);
	assert_int_equal(store_open(other, &s2, err, sizeof err), -1);
	snprintf(other, sizeof other, "%s/foreign.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(exec_sql(db, "CREATE TABLE x(a)"), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(other, &s2, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an agent database"));
	assert_null(s2);
}

static void test_agent_store__wal_full_sync_and_busy_timeout(void **state)
{
	struct fixture *f = *state;
	char mode[32];
	query_text(store_db(f->s), "PRAGMA journal_mode", mode, sizeof mode);
	assert_string_equal(mode, "wal");
	assert_int_equal(query_int(store_db(f->s), "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(query_int(store_db(f->s), "PRAGMA busy_timeout"), STORE_BUSY_TIMEOUT_MS);
}

static void test_agent_store__every_operation_on_every_table_is_journaled(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	char sql[4096], id[IDS_UUID_TEXT];
	int tables = 0;
	for (size_t k = 0; k < schema_ntables; k++) {
		const struct schema_table *t = &schema_tables[k];
		if (t->hub_only)
			continue; /* test_agent_store__hub_only_tables_refuse_local_writes */
		tables++;
		assert_int_equal(ids_uuid7(1764150000000 + (int64_t)k, id), 0);

		insert_sql(t, id, sql, sizeof sql);
		int64_t before = journal_count(db);
		assert_int_equal(exec_sql(db, sql), SQLITE_OK);
		assert_int_equal(journal_count(db), before + 1);
		expect_last_entry(db, t->name, id, "i", (int64_t)field_count(t));

		const struct schema_column *c = mutable_column(t);
		if (c) {
			char lit[64];
			literal(c, 1, lit, sizeof lit);
			snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = %s WHERE id = '%s'", t->name, c->name, lit, id);
			assert_int_equal(exec_sql(db, sql), SQLITE_OK);
			assert_int_equal(journal_count(db), before + 2);
			expect_last_entry(db, t->name, id, "u", 1);
			snprintf(sql, sizeof sql,
				 "SELECT json_extract(fields, '$.%s') IS (SELECT \"%s\" FROM \"%s\" WHERE id = '%s')"
				 " FROM lk_journal ORDER BY seq DESC LIMIT 1",
				 c->name, c->name, t->name, id);
			assert_int_equal(query_int(db, sql), 1);
		}

		snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE id = '%s'", t->name, id);
		assert_int_equal(exec_sql(db, sql), SQLITE_OK);
		expect_last_entry(db, t->name, id, "d", 0);
	}
	assert_true(tables >= 15);
	assert_clocks_strictly_increase(db);
	/* sequence numbers have no gaps */
	assert_int_equal(query_int(db, "SELECT max(seq) - count(*) FROM lk_journal"), 0);
}

static void test_agent_store__insert_entry_carries_every_field_with_nulls(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000001', '" UNIT "', 'Lê Văn Tám')"),
			 SQLITE_OK);
	char fields[512];
	query_text(db, "SELECT fields FROM lk_journal", fields, sizeof fields);
	assert_string_equal(fields, "{\"full_name\":\"Lê Văn Tám\",\"birth_year\":null,\"gender\":null,\"phone\":null}");
}

static void test_agent_store__write_from_another_program_is_journaled(void **state)
{
	struct fixture *f = *state;
	sqlite3 *other = NULL;
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(exec_sql(other, "INSERT INTO person(id, unit_id, full_name, birth_year) VALUES"
					 " ('0190f3a2-0000-7000-8000-000000000002', '" UNIT "', 'Phạm Thị Lan', 1998)"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(other, "UPDATE person SET phone = '0912345678'"), SQLITE_OK);
	assert_int_equal(exec_sql(other, "DELETE FROM person"), SQLITE_OK);
	sqlite3_close(other);
	sqlite3 *db = store_db(f->s);
	char ops[16];
	query_text(db, "SELECT group_concat(op, '') FROM (SELECT op FROM lk_journal ORDER BY seq)", ops, sizeof ops);
	assert_string_equal(ops, "iud");
	char fields[128];
	query_text(db, "SELECT fields FROM lk_journal WHERE op = 'u'", fields, sizeof fields);
	assert_string_equal(fields, "{\"phone\":\"0912345678\"}");
	assert_clocks_strictly_increase(db);
}

static void test_agent_store__pulled_rows_are_not_journaled(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(store_apply_begin(f->s), 0);
	assert_int_equal(query_int(db, "SELECT applying FROM lk_state"), 1);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000003', '" UNIT "', 'Từ máy chủ')"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "UPDATE person SET phone = '1'"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO unit_event(id, unit_id, kind, of_unit, effective_on) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000004', '" UNIT "', 'rename', '" UNIT "', '2025-07-01')"),
			 SQLITE_OK);
	assert_int_equal(store_apply_end(f->s, 1), 0);
	assert_int_equal(journal_count(db), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM person"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM unit_event"), 1);
	assert_int_equal(query_int(db, "SELECT applying FROM lk_state"), 0);

	/* a rolled-back apply leaves nothing, and applying is 0 again */
	assert_int_equal(store_apply_begin(f->s), 0);
	assert_int_equal(exec_sql(db, "DELETE FROM person"), SQLITE_OK);
	assert_int_equal(store_apply_end(f->s, 0), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM person"), 1);
	assert_int_equal(query_int(db, "SELECT applying FROM lk_state"), 0);

	/* local writes after the apply are journaled again */
	assert_int_equal(exec_sql(db, "UPDATE person SET phone = '2'"), SQLITE_OK);
	assert_int_equal(journal_count(db), 1);
}

static void test_agent_store__a_committed_applying_flag_is_reset_on_open(void **state)
{
	struct fixture *f = *state;
	char err[256];
	assert_int_equal(exec_sql(store_db(f->s), "UPDATE lk_state SET applying = 1"), SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_int_equal(query_int(store_db(f->s), "SELECT applying FROM lk_state"), 0);
	assert_int_equal(exec_sql(store_db(f->s), "INSERT INTO person(id, unit_id, full_name) VALUES"
						  " ('0190f3a2-0000-7000-8000-000000000030', '" UNIT "', 'A')"),
			 SQLITE_OK);
	assert_int_equal(journal_count(store_db(f->s)), 1);
}

static void test_agent_store__another_program_sees_applying_zero_while_pull_runs(void **state)
{
	struct fixture *f = *state;
	sqlite3 *other = NULL;
	assert_int_equal(store_apply_begin(f->s), 0);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	/* WAL: the reader sees the last committed state, where applying = 0 */
	assert_int_equal(query_int(other, "SELECT applying FROM lk_state"), 0);
	assert_int_equal(store_apply_end(f->s, 1), 0);
	sqlite3_close(other);
}

static void test_agent_store__clocks_increase_when_wall_time_goes_back(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000005', '" UNIT "', 'A')"),
			 SQLITE_OK);
	int64_t c1 = query_int(db, "SELECT max(clock) FROM lk_journal");
	int64_t r1 = query_int(db, "SELECT recorded_ms FROM lk_journal ORDER BY seq DESC LIMIT 1");
	/* an ordinary entry: clock = recorded_ms << 16 */
	assert_int_equal(c1 >> 16, r1);

	/* the laptop's clock jumps a day back */
	assert_int_equal(exec_sql(db, "UPDATE lk_state SET offset_ms = -86400000"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "UPDATE person SET full_name = 'B'"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "UPDATE person SET full_name = 'C'"), SQLITE_OK);
	int64_t r2 = query_int(db, "SELECT recorded_ms FROM lk_journal ORDER BY seq DESC LIMIT 1");
	assert_true(r2 < r1);
	assert_int_equal(query_int(db, "SELECT max(clock) FROM lk_journal"), c1 + 2);

	/* a clock raised from the hub (far ahead) is followed too */
	assert_int_equal(exec_sql(db, "UPDATE lk_state SET offset_ms = 0, last_clock = last_clock + (3600000 << 16)"),
			 SQLITE_OK);
	int64_t raised = query_int(db, "SELECT last_clock FROM lk_state");
	assert_int_equal(exec_sql(db, "UPDATE person SET full_name = 'D'"), SQLITE_OK);
	assert_int_equal(query_int(db, "SELECT max(clock) FROM lk_journal"), raised + 1);
	assert_clocks_strictly_increase(db);
}

static void test_agent_store__noop_update_writes_no_entry(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name, birth_year) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000006', '" UNIT "', 'A', 1990)"),
			 SQLITE_OK);
	int64_t clock = query_int(db, "SELECT last_clock FROM lk_state");
	assert_int_equal(exec_sql(db, "UPDATE person SET full_name = 'A', birth_year = 1990"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "UPDATE person SET birth_year = '1990'"), SQLITE_OK); /* affinity: same */
	assert_int_equal(journal_count(db), 1);
	assert_int_equal(query_int(db, "SELECT last_clock FROM lk_state"), clock);
	/* setting a null field to null is no change either; null to a value is */
	assert_int_equal(exec_sql(db, "UPDATE person SET phone = NULL"), SQLITE_OK);
	assert_int_equal(journal_count(db), 1);
	assert_int_equal(exec_sql(db, "UPDATE person SET phone = '1', full_name = 'A'"), SQLITE_OK);
	char fields[64];
	query_text(db, "SELECT fields FROM lk_journal ORDER BY seq DESC LIMIT 1", fields, sizeof fields);
	assert_string_equal(fields, "{\"phone\":\"1\"}");
}

static void test_agent_store__owner_and_key_changes_are_refused(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000007', '" UNIT "', 'A')"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO party(id, unit_id, person_id, step, on_date) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000008', '" UNIT "',"
				      " '0190f3a2-0000-7000-8000-000000000007', 'introduced', '2021-05-01')"),
			 SQLITE_OK);
	int64_t n = journal_count(db);
	assert_int_equal(exec_sql(db, "UPDATE person SET unit_id = '" OTHER_UUID "'"), SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "owner_changed"));
	assert_int_equal(exec_sql(db, "UPDATE person SET id = '" OTHER_UUID "'"), SQLITE_CONSTRAINT);
	assert_int_equal(exec_sql(db, "UPDATE party SET step = 'admitted'"), SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "key_changed"));
	assert_int_equal(exec_sql(db, "UPDATE party SET person_id = '" OTHER_UUID "'"), SQLITE_CONSTRAINT);
	/* a non-key field of a natural-key row may change */
	assert_int_equal(exec_sql(db, "UPDATE party SET on_date = '2021-06-01'"), SQLITE_OK);
	assert_int_equal(journal_count(db), n + 1);
	/* pulled rows never change owner either */
	assert_int_equal(store_apply_begin(f->s), 0);
	assert_int_equal(exec_sql(db, "UPDATE person SET unit_id = '" OTHER_UUID "'"), SQLITE_CONSTRAINT);
	assert_int_equal(store_apply_end(f->s, 0), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM person WHERE unit_id = '" UNIT "'"), 1);
}

static void test_agent_store__natural_keys_are_unique(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(exec_sql(db, "INSERT INTO year_record(id, unit_id, year) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000009', '" UNIT "', 2021)"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO year_record(id, unit_id, year) VALUES"
				      " ('0190f3a2-0000-7000-8000-00000000000a', '" UNIT "', 2021)"),
			 SQLITE_CONSTRAINT);
	assert_int_equal(journal_count(db), 1);
}

static void test_agent_store__check_constraints_refuse_bad_values(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	static const char *const bad[] = {
		/* enumeration */
		"INSERT INTO person(id, unit_id, full_name, gender) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'A', 'male')",
		/* too long: 121 bytes where 120 are allowed (multi-byte letters count as bytes) */
		"INSERT INTO person(id, unit_id, full_name) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'ă' || printf('%.119c', 'x'))",
		/* dates: impossible day, wrong form, trailing text, a number */
		"INSERT INTO meeting(id, unit_id, kind, held_on) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'joint', '2021-02-30')",
		"INSERT INTO meeting(id, unit_id, kind, held_on) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'joint', '2021-2-3')",
		"INSERT INTO meeting(id, unit_id, kind, held_on) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'joint', '2021-03-01 ')",
		"INSERT INTO meeting(id, unit_id, kind, held_on) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'joint', 20210301)",
		/* integer range, type; bool */
		"INSERT INTO person(id, unit_id, full_name, birth_year) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'A', 1899)",
		"INSERT INTO person(id, unit_id, full_name, birth_year) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'A', 'nineteen')",
		"INSERT INTO person(id, unit_id, full_name, birth_year) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'A', 1990.5)",
		"INSERT INTO meeting(id, unit_id, kind, held_on, commune_secretary_attended) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'joint', '2021-03-01', 2)",
		/* references and ids: not lowercase UUIDs */
		"INSERT INTO role(id, unit_id, person_id, role, of_unit, term_from) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', 'nobody', 'member', '" UNIT "', '2021-01-01')",
		"INSERT INTO person(id, unit_id, full_name) VALUES ('0190F3A2-0000-7000-8000-000000000010', '" UNIT "', 'A')",
		"INSERT INTO person(id, unit_id, full_name) VALUES ('0190f3a2-0000-7000-8000-000000000010', 'commune', 'A')",
		/* required */
		"INSERT INTO person(id, unit_id, full_name) VALUES ('0190f3a2-0000-7000-8000-000000000010', '" UNIT "', NULL)",
		"INSERT INTO person(id, unit_id, full_name) VALUES ('0190f3a2-0000-7000-8000-000000000010', NULL, 'A')",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = exec_sql(db, bad[i]);
		if (rc != SQLITE_CONSTRAINT)
			fail_msg("accepted: %s", bad[i]);
	}
	assert_int_equal(journal_count(db), 0);
	/* the boundaries themselves are accepted */
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name, birth_year, gender) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000011', '" UNIT "', printf('%.120c', 'x'), 2100, 'nu')"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO meeting(id, unit_id, kind, held_on) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000012', '" UNIT "', 'joint', '2024-02-29')"),
			 SQLITE_OK);
}

static void test_agent_store__hub_only_tables_refuse_local_writes(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	assert_int_equal(exec_sql(db, "INSERT INTO unit_event(id, unit_id, kind, of_unit, effective_on) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000013', '" UNIT "', 'close', '" UNIT "', '2025-07-01')"),
			 SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "hub_only"));
	assert_int_equal(journal_count(db), 0);
}

static void test_agent_store__config_u64_defaults_when_absent_null_or_empty(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 1;
	assert_int_equal(store_config_u64(f->s, "pull_cursor", 9, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(store_config_set_u64(f->s, "pull_cursor", UINT64_MAX), 0);
	assert_int_equal(store_config_u64(f->s, "pull_cursor", 9, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(store_config_set(f->s, "pull_cursor", ""), 0);
	assert_int_equal(store_config_u64(f->s, "pull_cursor", 9, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(exec_sql(store_db(f->s), "UPDATE lk_config SET value = NULL WHERE key = 'pull_cursor'"),
			 SQLITE_OK);
	assert_int_equal(store_config_u64(f->s, "pull_cursor", 9, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(store_config_set_u64(f->s, "pull_cursor", 42), 0);
	assert_int_equal(store_config_u64(f->s, "pull_cursor", 9, &v), 0);
	assert_int_equal(v, 42);
}

static void test_agent_store__state_numbers_round_trip(void **state)
{
	struct fixture *f = *state;
	int64_t v = -1;
	assert_int_equal(store_state_i64(f->s, STORE_STATE_ACKED_SEQ, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(store_state_set_i64(f->s, STORE_STATE_ACKED_SEQ, 17), 0);
	assert_int_equal(store_state_set_i64(f->s, STORE_STATE_OFFSET_MS, -2500), 0);
	assert_int_equal(store_state_set_i64(f->s, STORE_STATE_LAST_CLOCK, INT64_MAX), 0);
	assert_int_equal(store_state_i64(f->s, STORE_STATE_ACKED_SEQ, &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(store_state_i64(f->s, STORE_STATE_OFFSET_MS, &v), 0);
	assert_int_equal(v, -2500);
	assert_int_equal(store_state_i64(f->s, STORE_STATE_LAST_CLOCK, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(query_int(store_db(f->s), "SELECT acked_seq FROM lk_state"), 17);
	/* a field outside the enumeration is refused, *out untouched */
	v = 5;
	assert_int_equal(store_state_i64(f->s, (enum store_state)99, &v), -1);
	assert_int_equal(v, 5);
	assert_int_equal(store_state_set_i64(f->s, (enum store_state)99, 1), -1);
}

static void test_agent_store__config_values_round_trip(void **state)
{
	struct fixture *f = *state;
	char *v = NULL;
	assert_int_equal(store_config_get(f->s, "hub_url", &v), 1);
	assert_null(v);
	assert_int_equal(store_config_set(f->s, "hub_url", "https://hub.example"), 0);
	assert_int_equal(store_config_set(f->s, "hub_url", "https://hub2.example"), 0);
	assert_int_equal(store_config_get(f->s, "hub_url", &v), 0);
	assert_string_equal(v, "https://hub2.example");
	free(v);
	assert_int_equal(store_config_set_int(f->s, "batch_bytes", 32768), 0);
	assert_int_equal(store_config_int(f->s, "batch_bytes", 1), 32768);
	assert_int_equal(store_config_int(f->s, "missing", 7), 7);
	assert_int_equal(store_config_set(f->s, "hub_url", NULL), 0);
	assert_int_equal(store_config_get(f->s, "hub_url", &v), 1);
}

static void test_agent_store__new_agent_id_keeps_the_previous_ones(void **state)
{
	struct fixture *f = *state;
	char first[IDS_UUID_TEXT], *prev = NULL, err[256];
	snprintf(first, sizeof first, "%s", store_agent_id(f->s));
	assert_int_equal(store_new_agent_id(f->s), -1); /* outside a transaction */
	assert_int_equal(exec_sql(store_db(f->s), "BEGIN"), SQLITE_OK);
	assert_int_equal(store_new_agent_id(f->s), 0);
	assert_int_equal(exec_sql(store_db(f->s), "COMMIT"), SQLITE_OK);
	assert_string_not_equal(store_agent_id(f->s), first);
	assert_int_equal(store_config_get(f->s, "previous_agent_ids", &prev), 0);
	assert_string_equal(prev, first);
	free(prev);
	char second[IDS_UUID_TEXT];
	snprintf(second, sizeof second, "%s", store_agent_id(f->s));
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_string_equal(store_agent_id(f->s), second);
}

static void test_agent_store__unit_known_by_code_is_set_once(void **state)
{
	struct fixture *f = *state;
	struct store *s2 = NULL;
	char path[160], err[256];
	snprintf(path, sizeof path, "%s/bycode.db", f->dir);
	assert_int_equal(store_create(path, NULL, &s2, err, sizeof err), 0);
	assert_string_equal(store_unit_id(s2), "");
	assert_int_equal(store_in_scope(s2, UNIT), 0);
	assert_int_equal(store_set_unit_id(s2, "22918"), -1);
	assert_int_equal(store_set_unit_id(s2, UNIT), 0);
	assert_string_equal(store_unit_id(s2), UNIT);
	assert_int_equal(store_set_unit_id(s2, OTHER_UUID), -1);
	store_close(s2);
	assert_int_equal(store_open(path, &s2, err, sizeof err), 0);
	assert_string_equal(store_unit_id(s2), UNIT);
	store_close(s2);
}

static void test_agent_store__scope_follows_current_parent_links(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	/* branch b1 under the commune since 2020; b2 was under it until 2021 only */
	assert_int_equal(exec_sql(db, "INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from, valid_to) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000a1', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b1', '" UNIT "', '2020-01-01', NULL),"
				      " ('0190f3a2-0000-7000-8000-0000000000a2', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b2', '" UNIT "', '2020-01-01', '2021-01-01'),"
				      " ('0190f3a2-0000-7000-8000-0000000000a3', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b3', '0190f3a2-0000-7000-8000-0000000000b1', '2020-01-01', NULL)"),
			 SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, UNIT), 1);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000b1"), 1);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000b3"), 1);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000b2"), 0);
	assert_int_equal(store_in_scope(f->s, OTHER_UUID), 0);
}

static void test_agent_store__scope_follows_units_merged_into_it(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	/* Pulled reform: commune c1 (with its branch d1) merged into ours on 2025-07-01;
	 * commune c2 merges into ours only in 2999, so it is not ours yet. */
	assert_int_equal(store_apply_begin(f->s), 0);
	assert_int_equal(exec_sql(db, "INSERT INTO unit_event(id, unit_id, kind, of_unit, other_unit, effective_on) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000e1', '" OTHER_UUID "', 'merge', '0190f3a2-0000-7000-8000-0000000000c1', '" UNIT "', '2025-07-01'),"
				      " ('0190f3a2-0000-7000-8000-0000000000e2', '" OTHER_UUID "', 'merge', '0190f3a2-0000-7000-8000-0000000000c2', '" UNIT "', '2999-01-01')"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from, valid_to) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000a4', '0190f3a2-0000-7000-8000-0000000000c1', '0190f3a2-0000-7000-8000-0000000000d1', '0190f3a2-0000-7000-8000-0000000000c1', '2020-01-01', NULL)"),
			 SQLITE_OK);
	assert_int_equal(store_apply_end(f->s, 1), 0);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000c1"), 1);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000d1"), 1);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000c2"), 0);
}

/* An import runs in one transaction and may write the unit links its later rows
 * depend on: scope is decided on the tree as it stands, uncommitted rows included. */
static void test_agent_store__scope_sees_links_written_in_the_same_transaction(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	const char *b1 = "0190f3a2-0000-7000-8000-0000000000b1";
	const char *b2 = "0190f3a2-0000-7000-8000-0000000000b2";
	assert_int_equal(exec_sql(db, "BEGIN IMMEDIATE"), SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, b1), 0);
	assert_int_equal(exec_sql(db, "INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000a1', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b1', '" UNIT "', '2020-01-01')"),
			 SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, b1), 1);
	assert_int_equal(store_in_scope(f->s, b2), 0);
	assert_int_equal(exec_sql(db, "INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000a2', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b2', '0190f3a2-0000-7000-8000-0000000000b1', '2020-01-01')"),
			 SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, b2), 1);
	/* the link ends: b1 (and b2 under it) leave the subtree at once */
	assert_int_equal(exec_sql(db, "UPDATE unit_parent SET valid_to = '2021-01-01'"
				      " WHERE id = '0190f3a2-0000-7000-8000-0000000000a1'"),
			 SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, b1), 0);
	assert_int_equal(store_in_scope(f->s, b2), 0);
	assert_int_equal(exec_sql(db, "ROLLBACK"), SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, b1), 0);
}

/* A parent-link cycle (bad data) ends the walk instead of looping. */
static void test_agent_store__scope_walk_stops_on_a_cycle(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(exec_sql(store_db(f->s), "INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from) VALUES"
				      " ('0190f3a2-0000-7000-8000-0000000000a1', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b1', '0190f3a2-0000-7000-8000-0000000000b2', '2020-01-01'),"
				      " ('0190f3a2-0000-7000-8000-0000000000a2', '" UNIT "', '0190f3a2-0000-7000-8000-0000000000b2', '0190f3a2-0000-7000-8000-0000000000b1', '2020-01-01')"),
			 SQLITE_OK);
	assert_int_equal(store_in_scope(f->s, "0190f3a2-0000-7000-8000-0000000000b1"), 0);
}

/* Databases made before the scope indexes existed get them when opened. */
static void test_agent_store__open_adds_the_scope_indexes(void **state)
{
	struct fixture *f = *state;
	char err[256];
	const char *count = "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
			    " AND name IN ('lk_unit_parent_of', 'lk_unit_event_of')";
	assert_int_equal(query_int(store_db(f->s), count), 2);
	assert_int_equal(exec_sql(store_db(f->s), "DROP INDEX lk_unit_parent_of; DROP INDEX lk_unit_event_of"), SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_int_equal(query_int(store_db(f->s), count), 2);
	/* the walk uses them rather than reading unit_parent whole at each level */
	sqlite3_stmt *st = NULL;
	int used = 0;
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
					    "EXPLAIN QUERY PLAN SELECT parent_id FROM unit_parent WHERE of_unit = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		used |= d && strstr(d, "lk_unit_parent_of") != NULL;
	}
	sqlite3_finalize(st);
	assert_true(used);
}

/* The scope indexes only make a walk faster: a database that lacks them opens at once
 * while another process (a syncing daemon) holds its write lock, and gets them at a
 * later open. */
static void test_agent_store__busy_database_opens_without_waiting_for_the_scope_indexes(void **state)
{
	struct fixture *f = *state;
	char err[256];
	const char *count = "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
			    " AND name IN ('lk_unit_parent_of', 'lk_unit_event_of')";
	assert_int_equal(exec_sql(store_db(f->s), "DROP INDEX lk_unit_parent_of; DROP INDEX lk_unit_event_of"), SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	sqlite3 *daemon = NULL;
	assert_int_equal(sqlite3_open(f->path, &daemon), SQLITE_OK);
	assert_int_equal(exec_sql(daemon, "BEGIN IMMEDIATE"), SQLITE_OK);
	time_t t0 = time(NULL);
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_true(time(NULL) - t0 < 5); /* not the 10 s busy timeout */
	assert_int_equal(query_int(store_db(f->s), count), 0);
	assert_int_equal(exec_sql(daemon, "COMMIT"), SQLITE_OK);
	sqlite3_close(daemon);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_int_equal(query_int(store_db(f->s), count), 2);
}

/* A statement given back is the one the next take of the same SQL gets; two takes get
 * two statements; every kept statement is finalized by store_close (a connection left
 * with statements would not close, and the sanitizer would report the leak). */
static void test_agent_store__statements_are_reused_and_closed(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
	const char *sql = "SELECT value FROM lk_config WHERE key = ?1";
	assert_int_equal(store_stmt_take(f->s, sql, &a), 0);
	assert_int_equal(store_stmt_take(f->s, sql, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(sqlite3_bind_text(a, 1, "hub_url", -1, SQLITE_STATIC), SQLITE_OK);
	assert_int_equal(sqlite3_step(a), SQLITE_DONE);
	store_stmt_give(f->s, a);
	assert_int_equal(store_stmt_take(f->s, sql, &c), 0);
	assert_ptr_equal(c, a);
	/* given back reset and unbound */
	assert_int_equal(sqlite3_stmt_busy(c), 0);
	assert_null(sqlite3_column_text(c, 0));
	assert_int_equal(store_config_set(f->s, "k", "v"), 0);
	assert_int_equal(sqlite3_bind_text(c, 1, "k", -1, SQLITE_STATIC), SQLITE_OK);
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(c, 0), "v");
	store_stmt_give(f->s, c);
	store_stmt_give(f->s, b);
	store_stmt_give(f->s, NULL);
	/* more distinct statements than the store keeps: the oldest are finalized */
	for (int i = 0; i < 40; i++) {
		char q[64];
		sqlite3_stmt *st = NULL;
		snprintf(q, sizeof q, "SELECT %d", i);
		assert_int_equal(store_stmt_take(f->s, q, &st), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), i);
		store_stmt_give(f->s, st);
	}
	sqlite3_stmt *bad = NULL;
	assert_int_equal(store_stmt_take(f->s, "SELECT FROM nowhere", &bad), -1);
	assert_null(bad);
}

static int file_exists(const char *p)
{
	FILE *fp = fopen(p, "rb");
	if (fp)
		fclose(fp);
	return fp != NULL;
}

static void test_agent_store__backup_rotation_removes_only_old_copies(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	char bdir[128], old[192], recent[192], foreign[192], made[512], err[256], sql[512];
	snprintf(bdir, sizeof bdir, "%s/backups", f->dir);
	assert_int_equal(mkdir(bdir, 0700), 0);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000014', '" UNIT "', 'Sao lưu')"),
			 SQLITE_OK);
	/* an old copy this database made 10 days ago, a recent one, and someone else's file */
	snprintf(old, sizeof old, "%s/lienket-20200101-000000.db", bdir);
	snprintf(recent, sizeof recent, "%s/lienket-20200102-000000.db", bdir);
	snprintf(foreign, sizeof foreign, "%s/lienket-19990101-000000.db", bdir);
	const char *files[] = { old, recent, foreign };
	for (size_t i = 0; i < 3; i++) {
		FILE *fp = fopen(files[i], "wb");
		assert_non_null(fp);
		fputs("x", fp);
		fclose(fp);
	}
	int64_t now = store_wall_ms();
	snprintf(sql, sizeof sql, "INSERT INTO lk_backup(path, made_ms) VALUES ('%s', %lld), ('%s', %lld)", old,
		 (long long)(now - 10LL * 86400000), recent, (long long)(now - 2LL * 86400000));
	assert_int_equal(exec_sql(db, sql), SQLITE_OK);

	assert_int_equal(store_backup_to(f->s, bdir, 7, made, sizeof made, err, sizeof err), 0);
	assert_false(file_exists(old));
	assert_true(file_exists(recent));
	assert_true(file_exists(foreign));
	assert_true(file_exists(made));
	assert_int_equal(query_int(db, "SELECT count(*) FROM lk_backup"), 2);

	/* the copy is a complete agent database */
	struct store *copy = NULL;
	assert_int_equal(store_open(made, &copy, err, sizeof err), 0);
	assert_string_equal(store_agent_id(copy), store_agent_id(f->s));
	assert_int_equal(query_int(store_db(copy), "SELECT count(*) FROM person"), 1);
	assert_int_equal(query_int(store_db(copy), "SELECT count(*) FROM lk_journal"), 1);
	store_close(copy);

	/* keep_days 0 keeps everything; a missing directory is an error */
	assert_int_equal(store_backup(f->s, bdir, 0, err, sizeof err), 0);
	assert_true(file_exists(recent));
	snprintf(old, sizeof old, "%s/none", f->dir);
	assert_int_equal(store_backup(f->s, old, 7, err, sizeof err), -1);
}

static void test_agent_store__schema_sql_creates_every_table(void **state)
{
	(void)state;
	char *sql = NULL;
	sqlite3 *db = NULL;
	assert_int_equal(store_schema_sql(&sql), 0);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(exec_sql(db, sql), SQLITE_OK);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'lk\\_%' ESCAPE '\\'"
				      " AND name NOT LIKE 'sqlite%'"),
			 (int64_t)schema_ntables);
	/* three journaling triggers and an owner guard per table */
	assert_true(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") >= (int64_t)(4 * schema_ntables));
	sqlite3_close(db);
	free(sql);
}

static void test_agent_store__older_schema_is_upgraded_on_open(void **state)
{
	struct fixture *f = *state;
	char err[256];
	store_close(f->s);
	f->s = NULL;
	/* an "older" database: one table missing, one trigger missing, version 0 */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(exec_sql(db, "DROP TABLE year_record; DROP TRIGGER lk_person_ai;"
				      " UPDATE lk_state SET schema_version = 0"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000020', '" UNIT "', 'cũ')"),
			 SQLITE_OK);
	assert_int_equal(journal_count(db), 0);
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	db = store_db(f->s);
	assert_int_equal(query_int(db, "SELECT schema_version FROM lk_state"), SCHEMA_VERSION);
	assert_int_equal(exec_sql(db, "INSERT INTO year_record(id, unit_id, year) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000021', '" UNIT "', 2024)"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000022', '" UNIT "', 'mới')"),
			 SQLITE_OK);
	assert_int_equal(journal_count(db), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM person"), 2);
}

/* A database from before row floors (layout 0: no lk_row_clock, no row_floor, triggers
 * without it) gets them on open, keeps its journal, records floors for new entries and
 * pulls from cursor 0 once (PROTOCOL.md §4). */
static void test_agent_store__database_before_floors_gets_them_on_open(void **state)
{
	struct fixture *f = *state;
	char err[256];
	sqlite3 *db = store_db(f->s);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(exec_sql(db, "INSERT INTO person(id, unit_id, full_name) VALUES"
				      " ('0190f3a2-0000-7000-8000-000000000030', '" UNIT "', 'cũ')"),
			 SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	/* what an older agent made: its triggers, no floors */
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 'DROP TRIGGER \"' || name || '\";' FROM sqlite_master"
						" WHERE type = 'trigger'", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		assert_int_equal(exec_sql(db, (const char *)sqlite3_column_text(st, 0)), SQLITE_OK);
	sqlite3_finalize(st);
	assert_int_equal(exec_sql(db, "ALTER TABLE lk_journal DROP COLUMN row_floor; DROP TABLE lk_row_clock;"
				      " PRAGMA user_version = 0;"
				      " INSERT INTO lk_config(key, value) VALUES('pull_cursor', '1234')"),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	db = store_db(f->s);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM lk_journal WHERE row_floor = 0"), 1);
	assert_int_equal(query_int(db, "SELECT value FROM lk_config WHERE key = 'pull_cursor'"), 0);
	assert_int_equal(exec_sql(db, "INSERT INTO lk_row_clock(tbl, row_id, clock) VALUES"
				      " ('person', '0190f3a2-0000-7000-8000-000000000030', 777)"),
			 SQLITE_OK);
	assert_int_equal(exec_sql(db, "UPDATE person SET full_name = 'mới'"
				      " WHERE id = '0190f3a2-0000-7000-8000-000000000030'"),
			 SQLITE_OK);
	assert_int_equal(query_int(db, "SELECT row_floor FROM lk_journal ORDER BY seq DESC LIMIT 1"), 777);
	/* opened again: nothing to do */
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), 0);
	assert_int_equal(query_int(store_db(f->s), "SELECT count(*) FROM lk_journal"), 2);
}

static void test_agent_store__newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	assert_int_equal(exec_sql(store_db(f->s), "UPDATE lk_state SET schema_version = 99"), SQLITE_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof err), -1);
	assert_non_null(strstr(err, "newer"));
}

/* A counting wrapper around the default VFS: how many statement journals (subjournals)
 * SQLite moved to a temporary file. Registered by main before any test runs. */
static sqlite3_vfs counting_vfs;
static sqlite3_vfs *real_vfs;
static int subjournal_files;

static int counting_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	(void)vfs;
	if (flags & SQLITE_OPEN_SUBJOURNAL)
		subjournal_files++;
	return real_vfs->xOpen(real_vfs, name, file, flags, out_flags);
}

static int register_counting_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return -1;
	counting_vfs = *real_vfs;
	counting_vfs.zName = "lk-counting";
	counting_vfs.xOpen = counting_open;
	return sqlite3_vfs_register(&counting_vfs, 1) == SQLITE_OK ? 0 : -1;
}

/* One journaled statement that touches some 20–40 existing pages (an UPDATE of every
 * row of a table of ~30 pages: each rewritten row runs the journaling trigger) keeps
 * its statement journal in memory (STORE_STMT_JOURNAL_SPILL): with SQLite's default
 * of 64 KiB it went to a temporary file, and stayed there for the rest of the
 * transaction. */
static void test_agent_store__statement_journal_of_a_bulk_write_stays_in_memory(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	int64_t pages0 = query_int(db, "PRAGMA page_count");
	assert_int_equal(store_apply_begin(f->s), 0); /* the rows arrive by pull: no journal yet */
	for (int i = 0; query_int(db, "PRAGMA page_count") < pages0 + 30; i++) {
		char sql[512];
		assert_true(i < 10000);
		snprintf(sql, sizeof sql,
			 "INSERT INTO person(id, unit_id, full_name) VALUES ('0190f3a2-0000-7000-8000-%012d',"
			 " '" UNIT "', 'Nguyễn Thị Hồng Nhung %d, Bí thư chi đoàn thôn Phú Hòa, xã Hàm Thắng')",
			 i, i);
		assert_int_equal(exec_sql(db, sql), SQLITE_OK);
	}
	assert_int_equal(store_apply_end(f->s, 1), 0);
	int64_t rows = query_int(db, "SELECT count(*) FROM person");
	subjournal_files = 0;
	assert_int_equal(exec_sql(db, "BEGIN IMMEDIATE"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "UPDATE person SET phone = '0912345678'"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "DELETE FROM person WHERE rowid % 2 = 0"), SQLITE_OK);
	assert_int_equal(exec_sql(db, "COMMIT"), SQLITE_OK);
	assert_int_equal(journal_count(db), rows + rows / 2);
	assert_int_equal(subjournal_files, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_agent_store__create_then_open_keeps_ids),
		T(test_agent_store__create_refuses_an_existing_file),
		T(test_agent_store__open_refuses_missing_and_foreign_files),
		T(test_agent_store__wal_full_sync_and_busy_timeout),
		T(test_agent_store__every_operation_on_every_table_is_journaled),
		T(test_agent_store__insert_entry_carries_every_field_with_nulls),
		T(test_agent_store__write_from_another_program_is_journaled),
		T(test_agent_store__pulled_rows_are_not_journaled),
		T(test_agent_store__another_program_sees_applying_zero_while_pull_runs),
		T(test_agent_store__a_committed_applying_flag_is_reset_on_open),
		T(test_agent_store__clocks_increase_when_wall_time_goes_back),
		T(test_agent_store__noop_update_writes_no_entry),
		T(test_agent_store__owner_and_key_changes_are_refused),
		T(test_agent_store__natural_keys_are_unique),
		T(test_agent_store__check_constraints_refuse_bad_values),
		T(test_agent_store__hub_only_tables_refuse_local_writes),
		T(test_agent_store__config_values_round_trip),
		T(test_agent_store__state_numbers_round_trip),
		T(test_agent_store__config_u64_defaults_when_absent_null_or_empty),
		T(test_agent_store__new_agent_id_keeps_the_previous_ones),
		T(test_agent_store__unit_known_by_code_is_set_once),
		T(test_agent_store__scope_follows_current_parent_links),
		T(test_agent_store__scope_follows_units_merged_into_it),
		T(test_agent_store__scope_sees_links_written_in_the_same_transaction),
		T(test_agent_store__scope_walk_stops_on_a_cycle),
		T(test_agent_store__open_adds_the_scope_indexes),
		T(test_agent_store__busy_database_opens_without_waiting_for_the_scope_indexes),
		T(test_agent_store__statements_are_reused_and_closed),
		T(test_agent_store__backup_rotation_removes_only_old_copies),
		T(test_agent_store__schema_sql_creates_every_table),
		T(test_agent_store__older_schema_is_upgraded_on_open),
		T(test_agent_store__database_before_floors_gets_them_on_open),
		T(test_agent_store__newer_schema_is_refused),
		T(test_agent_store__statement_journal_of_a_bulk_write_stays_in_memory),
#undef T
	};
	/* as lienket-agent's main does, before anything else touches SQLite */
	if (store_process_init() != 0 || register_counting_vfs() != 0) {
		fputs("cannot configure SQLite\n", stderr);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
