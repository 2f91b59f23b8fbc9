/*
 * test_hub_store_pg.c — the storage contract of store.h, the same cases run against the
 * SQLite back end and the PostgreSQL one (store_pg.c), then what only the PostgreSQL
 * back end promises: several connections (hub processes) on one database — hub
 * sequences given in commit order, row and agent reads that wait for a concurrent
 * writer, deadlocks answered as conflicts, held changes settled once, a restored or
 * rewound database under a new hub id.
 *
 * PostgreSQL is started by the test itself (pg_harness.h: initdb in a temporary folder,
 * a free port of 127.0.0.1, stopped by PID at the end); every case gets a database of
 * its own. Without PostgreSQL's programs the PostgreSQL cases FAIL
 * (they say why): they are never skipped in silence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "merge.h"
#include "pg_harness.h"
#include "pg_internal.h"
#include "store.h"
#include "unittree.h"

#define PG_BIN "/usr/lib/postgresql/15/bin"

#define U_P  "0190f3a2-0000-7000-8000-000000000001"
#define U_D  "0190f3a2-0000-7000-8000-000000000002"
#define U_C1 "0190f3a2-0000-7000-8000-0000000000c1"
#define U_C2 "0190f3a2-0000-7000-8000-0000000000c2"
#define W1 "0190f3a2-7c1e-7d44-9a0b-0000000000a1"
#define W2 "0190f3a2-7c1e-7d44-9a0b-0000000000a2"
#define R1 "0190f3b0-0000-7000-8000-000000000001"
#define R2 "0190f3b0-0000-7000-8000-000000000002"
#define R3 "0190f3b0-0000-7000-8000-000000000003"

/* ---- the PostgreSQL server of this run (pg_harness.h) ---- */

static struct pg_harness pg;

static int pg_group_setup(void **state)
{
	(void)state;
	if (access(PG_BIN "/initdb", X_OK) != 0) {
		print_error("FAILED, not skipped: PostgreSQL's programs are missing (" PG_BIN
			    "/initdb): scripts/deps.sh --check-or-install test\n");
		return -1;
	}
	return pg_harness_start(&pg);
}

static int pg_group_teardown(void **state)
{
	(void)state;
	pg_harness_stop(&pg);
	return 0;
}

/* A new empty database: its URL and name. 0 or -1. */
static int pg_newdb(char *url, size_t len, char *name, size_t nlen)
{
	char u[PG_HARNESS_URL];
	if (pg_harness_fresh_db(&pg, u) != 0)
		return -1;
	snprintf(url, len, "%s", u);
	snprintf(name, nlen, "case_%u", pg.next_db);
	return 0;
}

/* The server's port (from its URL). */
static const char *pg_port(void)
{
	static char port[16];
	const char *c = strrchr(pg.url, ':');
	snprintf(port, sizeof port, "%.*s", c ? (int)strcspn(c + 1, "/") : 0, c ? c + 1 : "");
	return port;
}

/* Runs SQL on the database `name` through psql (the server's own client). */
static int pg_psql(const char *name, const char *sql)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, PG_BIN "/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U lienket"
		 " -d %s -c \"%s\" >/dev/null", pg_port(), name, sql);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- fixtures: one store per case, of either back end ---- */

enum backend { SQLITE, PG };

struct fx {
	enum backend b;
	struct store *s;
	char path[256]; /* SQLite: the file; PostgreSQL: the URL */
	char dbname[64];
	char dir[64];
};

static int open_store(struct fx *f, int create, struct store **out)
{
	char err[512];
	if (f->b == SQLITE)
		return store_sqlite_open(f->path, create, out, err, sizeof err);
	struct store_pg *p;
	int rc = store_pg_connect(f->path, create, &p, err, sizeof err);
	if (rc == 0)
		*out = &p->base;
	else
		print_error("%s\n", err);
	return rc;
}

static int setup_backend(void **state, enum backend b)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->b = b;
	if (b == SQLITE) {
		snprintf(f->dir, sizeof f->dir, "/tmp/lk-storet.XXXXXX");
		if (!mkdtemp(f->dir))
			return -1;
		snprintf(f->path, sizeof f->path, "%s/hub.db", f->dir);
	} else {
		if (pg_newdb(f->path, sizeof f->path, f->dbname, sizeof f->dbname) != 0) {
			free(f);
			return -1;
		}
	}
	if (open_store(f, 1, &f->s) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_sqlite(void **state) { return setup_backend(state, SQLITE); }
static int setup_pg(void **state) { return setup_backend(state, PG); }

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	f->s->close(f->s);
	if (f->b == SQLITE) {
		char p[300];
		static const char *const suffix[] = { "", "-wal", "-shm" };
		for (int i = 0; i < 3; i++) {
			snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
			unlink(p);
		}
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

/* ---- rows ---- */

/* Parses "name=s:text;n=i:5;x=n" into fields (texts point into buf). */
static size_t parse_fields(char *buf, struct field *out, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ";", &save); tok && n < max;
	     tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = 0;
		struct field *fl = &out[n++];
		fl->name = tok;
		memset(&fl->v, 0, sizeof fl->v);
		if (eq[1] == 's') {
			fl->v.kind = VALUE_TEXT;
			fl->v.s = eq + 3;
			fl->v.len = strlen(eq + 3);
		} else if (eq[1] == 'i') {
			fl->v.kind = VALUE_INT;
			fl->v.i = strtoll(eq + 3, NULL, 10);
		} else {
			fl->v.kind = VALUE_NULL;
		}
	}
	return n;
}

/* Merges one entry (op 'i', 'u' or 'd') into row (table, id) as `writer` at `clock`
 * and writes it with the next hub sequence, inside the caller's write transaction. */
static void put(struct store *s, const char *table, const char *id, const char *owner, char op,
		uint64_t clock, const char *writer, const char *fields)
{
	char buf[1024];
	struct field fl[16];
	snprintf(buf, sizeof buf, "%s", fields ? fields : "");
	size_t n = fields && *fields ? parse_fields(buf, fl, 16) : 0;
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	assert_non_null(t);
	struct entry e = { .table = table, .id = id, .op = op, .owner = owner, .clock = clock,
			   .fields = fl, .nfields = n };
	struct merge_row r;
	int changed = 0;
	uint64_t hs;
	assert_int_equal(merge_row_init(&r, t, id, owner), 0);
	assert_true(s->row_read(s, &r) >= 0);
	assert_int_equal(merge_apply(&r, &e, writer, &changed), 0);
	assert_int_equal(s->next_hs(s, &hs), 0);
	assert_int_equal(s->row_write(s, &r, hs, 1000), 0);
	merge_row_release(&r);
}

/* put in a transaction of its own. */
static void put1(struct store *s, const char *table, const char *id, const char *owner, char op,
		 uint64_t clock, const char *writer, const char *fields)
{
	assert_int_equal(s->begin(s), 0);
	put(s, table, id, owner, op, clock, writer, fields);
	assert_int_equal(s->commit(s), 0);
}

/* The text of column `col` of row (table, id) ("<null>", "<absent>"). */
static const char *cell(struct store *s, const char *table, const char *id, const char *col)
{
	static char out[256];
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	const struct schema_column *c = schema_column_find(t, col, SCHEMA_VERSION);
	struct merge_row r;
	assert_non_null(c);
	assert_int_equal(merge_row_init(&r, t, id, NULL), 0);
	int rc = s->row_read(s, &r);
	assert_true(rc >= 0);
	const struct value *v = &r.cells[schema_column_index(t, c)].v;
	if (rc == 1)
		snprintf(out, sizeof out, "<absent>");
	else if (v->kind == VALUE_TEXT)
		snprintf(out, sizeof out, "%s", v->s);
	else if (v->kind == VALUE_INT)
		snprintf(out, sizeof out, "%lld", (long long)v->i);
	else
		snprintf(out, sizeof out, "<null>");
	merge_row_release(&r);
	return out;
}

struct seen {
	char ids[16][37];
	uint64_t hs[16];
	size_t n;
};

static int see_hs(void *ctx, const struct merge_row *r, uint64_t hs)
{
	struct seen *S = ctx;
	if (S->n < 16) {
		snprintf(S->ids[S->n], 37, "%s", r->id);
		S->hs[S->n++] = hs;
	}
	return 0;
}

static int see(void *ctx, const struct merge_row *r)
{
	return see_hs(ctx, r, 0);
}

static struct seen after(struct store *s, const char *table, uint64_t cursor, const char *scope)
{
	struct seen S = { 0 };
	assert_int_equal(s->rows_after(s, schema_table_find(table, SCHEMA_VERSION), cursor, scope, 100,
				       see_hs, &S), 0);
	return S;
}

/* ---- the contract, on both back ends ---- */

static void test_store__meta_absent_then_set(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	char v[64];
	assert_int_equal(s->meta_get(s, "nothing", v, sizeof v), 1);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->meta_set(s, "k", "một"), 0);
	assert_int_equal(s->meta_set(s, "k", "hai"), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->meta_get(s, "k", v, sizeof v), 0);
	assert_string_equal(v, "hai");
	assert_int_equal(s->meta_get(s, "hub_id", v, sizeof v), 0);
	assert_int_equal(strlen(v), 36);
}

static void test_store__row_written_reads_back_the_same(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	put1(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:Nguyễn Văn An;birth_year=i:1990;gender=n;phone=s:0901");
	put1(s, "person", R1, U_C1, 'u', 101, W2, "phone=s:0902");
	assert_string_equal(cell(s, "person", R1, "full_name"), "Nguyễn Văn An");
	assert_string_equal(cell(s, "person", R1, "birth_year"), "1990");
	assert_string_equal(cell(s, "person", R1, "gender"), "<null>");
	assert_string_equal(cell(s, "person", R1, "phone"), "0902");
	assert_string_equal(cell(s, "person", R2, "phone"), "<absent>");
	/* the column clocks come back: an older update loses to the newer one */
	const struct schema_table *t = schema_table_find("person", SCHEMA_VERSION);
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, t, R1, NULL), 0);
	assert_int_equal(s->row_read(s, &r), 0);
	assert_string_equal(r.owner, U_C1);
	assert_int_equal(r.ins_clock, 100);
	assert_string_equal(r.ins_writer, W1);
	assert_int_equal(r.cells[schema_column_index(t, schema_column_find(t, "phone", 1))].clock, 101);
	assert_int_equal(r.cells[schema_column_index(t, schema_column_find(t, "full_name", 1))].clock, 100);
	merge_row_release(&r);
	assert_int_equal(s->row_known(s, t, R1), 1);
	assert_int_equal(s->row_known(s, t, R2), 0);
	/* a bool column, and a meeting of another table */
	put1(s, "meeting", R2, U_C1, 'i', 102, W1,
	     "kind=s:branch;held_on=s:2025-03-01;commune_secretary_attended=i:1;attendees=i:12");
	assert_string_equal(cell(s, "meeting", R2, "commune_secretary_attended"), "1");
}

static void test_store__rows_after_gives_hub_order_past_the_cursor(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	uint64_t hs0, hs1, hs2;
	assert_int_equal(s->last_hs(s, &hs0), 0);
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R2, U_C1, 'i', 100, W1, "full_name=s:B");
	put(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->last_hs(s, &hs1), 0);
	assert_int_equal(hs1, hs0 + 2);
	put1(s, "person", R2, U_C1, 'u', 101, W1, "full_name=s:B2");
	assert_int_equal(s->last_hs(s, &hs2), 0);
	assert_int_equal(hs2, hs1 + 1);
	struct seen S = after(s, "person", hs0, NULL);
	assert_int_equal(S.n, 2);
	assert_string_equal(S.ids[0], R1); /* R2 moved on: its last write is the latest */
	assert_string_equal(S.ids[1], R2);
	assert_true(S.hs[0] < S.hs[1]);
	assert_int_equal(S.hs[1], hs2);
	S = after(s, "person", S.hs[0], NULL);
	assert_int_equal(S.n, 1);
	assert_string_equal(S.ids[0], R2);
	/* inside a write transaction: rows written from now on come after last_hs */
	assert_int_equal(s->begin(s), 0);
	uint64_t mark;
	assert_int_equal(s->last_hs(s, &mark), 0);
	put(s, "person", R3, U_C2, 'i', 100, W2, "full_name=s:C");
	S = after(s, "person", mark, NULL);
	assert_int_equal(S.n, 1);
	assert_string_equal(S.ids[0], R3);
	assert_int_equal(s->commit(s), 0);
}

static void test_store__rollback_and_undone_savepoint_leave_nothing(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	uint64_t hs0, hs1;
	assert_int_equal(s->last_hs(s, &hs0), 0);
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	assert_int_equal(s->rollback(s), 0);
	assert_string_equal(cell(s, "person", R1, "full_name"), "<absent>");
	assert_int_equal(s->last_hs(s, &hs1), 0);
	assert_int_equal(hs1, hs0);
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	assert_int_equal(s->savepoint(s), 0);
	put(s, "person", R2, U_C1, 'i', 100, W1, "full_name=s:B");
	assert_int_equal(s->savepoint_end(s, 0), 0);
	assert_int_equal(s->savepoint(s), 0);
	put(s, "person", R3, U_C1, 'i', 100, W1, "full_name=s:C");
	assert_int_equal(s->savepoint_end(s, 1), 0);
	assert_int_equal(s->commit(s), 0);
	assert_string_equal(cell(s, "person", R1, "full_name"), "A");
	assert_string_equal(cell(s, "person", R2, "full_name"), "<absent>");
	assert_string_equal(cell(s, "person", R3, "full_name"), "C");
	struct seen S = after(s, "person", hs0, NULL);
	assert_int_equal(S.n, 2);
}

static void test_store__scope_filters_owners_and_assignees(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	assert_int_equal(s->begin(s), 0);
	put(s, "task", R1, U_C1, 'i', 100, W1, "title=s:mine");
	put(s, "task", R2, U_C2, 'i', 100, W1, "title=s:assigned;assignee_unit_id=s:" U_C1);
	put(s, "task", R3, U_C2, 'i', 100, W1, "title=s:other");
	assert_int_equal(s->commit(s), 0);
	struct seen S = after(s, "task", 0, "[\"" U_C1 "\"]");
	assert_int_equal(S.n, 2);
	assert_string_equal(S.ids[0], R1);
	assert_string_equal(S.ids[1], R2);
	S = after(s, "task", 0, "[]");
	assert_int_equal(S.n, 0);
	struct seen O = { 0 };
	assert_int_equal(s->rows_owned(s, schema_table_find("task", 1), "[\"" U_C2 "\"]", see, &O), 0);
	assert_int_equal(O.n, 2);
}

/* Existence ties (same clock) compare writers as bytes (hlc_order): "b…" > "C…", where
 * a Vietnamese collation would put "b" first. */
static void test_store__writer_ties_compare_as_bytes(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R1, U_C1, 'i', 100, "b0000000", "full_name=s:A");
	put(s, "person", R1, U_C1, 'd', 100, "C0000000", NULL);
	assert_int_equal(s->commit(s), 0);
	struct seen O = { 0 };
	assert_int_equal(s->rows_owned(s, schema_table_find("person", 1), "[\"" U_C1 "\"]", see, &O), 0);
	assert_int_equal(O.n, 1);
}

struct tok_seen {
	char prefix[8][16];
	size_t n;
};

static int see_token(void *ctx, const struct store_token *t)
{
	struct tok_seen *T = ctx;
	if (T->n < 8)
		snprintf(T->prefix[T->n++], 16, "%s", t->prefix);
	return 0;
}

static void test_store__tokens_and_agents_round_trip(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	struct store_token t = { .hash = "aa", .prefix = "lk_b1234567", .kind = STORE_TOKEN_AGENT,
				 .unit_id = U_C1, .name = "Xã Một", .created_ms = 5 };
	struct store_token v = { .hash = "bb", .prefix = "lk_C1234567", .kind = STORE_TOKEN_VIEWER,
				 .created_ms = 5 };
	struct store_token got;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->token_get(s, "aa", &got), 1);
	assert_int_equal(s->token_put(s, &t), 0);
	assert_int_equal(s->token_put(s, &v), 0);
	snprintf(t.agent_id, sizeof t.agent_id, "%s", W1);
	t.fork_refused = 1;
	assert_int_equal(s->token_put(s, &t), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->token_get(s, "aa", &got), 0);
	assert_string_equal(got.agent_id, W1);
	assert_string_equal(got.name, "Xã Một");
	assert_int_equal(got.fork_refused, 1);
	assert_int_equal(got.kind, STORE_TOKEN_AGENT);
	/* same created_ms: prefix in byte order ("C" before "b") */
	struct tok_seen T = { 0 };
	assert_int_equal(s->tokens_list(s, see_token, &T), 0);
	assert_int_equal(T.n, 2);
	assert_string_equal(T.prefix[0], "lk_C1234567");

	struct store_agent a = { .id = W1, .unit_id = U_C1, .acked = 7, .first_seen_ms = 1,
				 .software = "lienket 0.1", .offset_ms = -30 };
	snprintf(a.chain, sizeof a.chain, "%064d", 1);
	struct store_agent b;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->agent_get(s, W1, &b), 1);
	assert_int_equal(s->agent_put(s, &a), 0);
	a.acked = 9;
	assert_int_equal(s->agent_put(s, &a), 0);
	assert_int_equal(s->quarantine_add(s, W1, 3, "bad_type", "person", R1, "birth_year", "x", 1), 0);
	assert_int_equal(s->skipped_add(s, W1, 4, "00", "too_large", 1), 0);
	assert_int_equal(s->held_add(s, W1, 5, U_C2, 1, "{}", 1), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->agent_get(s, W1, &b), 0);
	assert_int_equal(b.acked, 9);
	assert_int_equal(b.offset_ms, -30);
	assert_string_equal(b.chain, a.chain);
	struct store_agent_counts c;
	assert_int_equal(s->agent_counts(s, W1, &c), 0);
	assert_int_equal(c.quarantined, 1);
	assert_int_equal(c.skipped, 1);
	assert_int_equal(c.held, 1);
}

static void test_store__chains_of_each_acknowledged_sequence(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	unsigned char run1[3 * 32], run2[2 * 32], got[32];
	for (int i = 0; i < 3 * 32; i++)
		run1[i] = (unsigned char)(i / 32 + 1);
	for (int i = 0; i < 2 * 32; i++)
		run2[i] = (unsigned char)(i / 32 + 4);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->chains_put(s, W1, 3, 5, run1), 0); /* 1..2 before the hub kept chains */
	assert_int_equal(s->chains_put(s, W1, 6, 7, run2), 0);
	assert_int_equal(s->commit(s), 0);
	for (uint64_t k = 3; k <= 7; k++) {
		assert_int_equal(s->chain_get(s, W1, k, got), 0);
		assert_int_equal(got[0], k - 2);
		assert_int_equal(got[31], k - 2);
	}
	assert_int_equal(s->chain_get(s, W1, 2, got), 1);
	assert_int_equal(s->chain_get(s, W1, 8, got), 1);
	assert_int_equal(s->chain_get(s, W2, 3, got), 1);

	struct store_receipt r = { .agent_id = W1, .seq_from = 3, .seq_to = 5, .applied = 3 };
	snprintf(r.chain_before, sizeof r.chain_before, "%064d", 2);
	snprintf(r.chain_after, sizeof r.chain_after, "%064d", 5);
	char hex[65];
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->receipt_add(s, &r), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->receipt_chain_at(s, W1, 5, hex), 0);
	assert_string_equal(hex, r.chain_after);
	assert_int_equal(s->receipt_chain_at(s, W1, 2, hex), 0);
	assert_string_equal(hex, r.chain_before);
	assert_int_equal(s->receipt_chain_at(s, W1, 4, hex), 1);
}

struct held_seen {
	char what[8][64];
	size_t n;
};

static int see_held(void *ctx, const char *agent, uint64_t seq, const char *owner, int schema,
		    const char *json)
{
	struct held_seen *H = ctx;
	(void)owner;
	(void)schema;
	(void)json;
	if (H->n < 8)
		snprintf(H->what[H->n++], 64, "%.3s:%llu", agent + 33, (unsigned long long)seq);
	return 0;
}

static int see_id(void *ctx, const char *id)
{
	(*(size_t *)ctx)++;
	(void)id;
	return 0;
}

static void test_store__held_quarantined_skipped_lists(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->held_add(s, W2, 3, U_C2, 1, "{}", 1), 0);
	assert_int_equal(s->held_add(s, W1, 9, U_C2, 1, "{}", 1), 0);
	assert_int_equal(s->held_add(s, W1, 4, U_C2, 1, "{}", 1), 0);
	assert_int_equal(s->held_add(s, W1, 5, U_C1, 1, "{}", 1), 0);
	for (uint64_t k = 1; k <= 5; k++) {
		char id[40];
		snprintf(id, sizeof id, "0190f3b0-0000-7000-8000-00000000010%llu", (unsigned long long)k);
		assert_int_equal(s->quarantine_add(s, W1, k, "bad_type", "person", id, NULL, "m", 1), 0);
	}
	assert_int_equal(s->skipped_add(s, W1, 8, "00", "too_large", 1), 0);
	assert_int_equal(s->skipped_add(s, W1, 2, "00", "unencodable", 1), 0);
	assert_int_equal(s->commit(s), 0);
	struct held_seen H = { 0 };
	assert_int_equal(s->held_of_owner(s, U_C2, see_held, &H), 0);
	assert_int_equal(H.n, 3);
	assert_string_equal(H.what[0], "0a1:4");
	assert_string_equal(H.what[1], "0a1:9");
	assert_string_equal(H.what[2], "0a2:3");
	int64_t n;
	assert_int_equal(s->held_count(s, W1, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->held_remove(s, W1, 9), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->held_count(s, NULL, &n), 0);
	assert_int_equal(n, 3);
	size_t q = 0;
	assert_int_equal(s->quarantined_rows(s, W1, 3, see_id, &q), 1);
	assert_int_equal(q, 3);
	q = 0;
	assert_int_equal(s->quarantined_rows(s, W1, 10, see_id, &q), 0);
	assert_int_equal(q, 5);
}

static void test_store__pull_scope_and_backup_seq(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	char *json = NULL;
	uint64_t seq = 99;
	assert_int_equal(s->pull_scope_get(s, W1, &json), 1);
	assert_null(json);
	assert_int_equal(s->backup_seq_get(s, W1, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->pull_scope_set(s, W1, "[\"" U_C1 "\"]"), 0);
	assert_int_equal(s->pull_scope_set(s, W1, "[\"" U_C2 "\"]"), 0);
	assert_int_equal(s->backup_seq_set(s, W1, 41), 0);
	assert_int_equal(s->backup_seq_set(s, W1, 42), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->pull_scope_get(s, W1, &json), 0);
	assert_string_equal(json, "[\"" U_C2 "\"]");
	free(json);
	assert_int_equal(s->backup_seq_get(s, W1, &seq), 0);
	assert_int_equal(seq, 42);
}

#define HUB "0190f3a0-0000-7000-8000-00000000ffff"
#define N_P  "0190f3a3-0000-7000-8000-000000000001"
#define N_D  "0190f3a3-0000-7000-8000-000000000002"
#define N_C1 "0190f3a3-0000-7000-8000-000000000003"
#define N_C2 "0190f3a3-0000-7000-8000-000000000004"
#define L_D  "0190f3a4-0000-7000-8000-000000000002"
#define L_C1 "0190f3a4-0000-7000-8000-000000000003"
#define L_C2 "0190f3a4-0000-7000-8000-000000000004"
#define E_1  "0190f3a5-0000-7000-8000-000000000001"

static void unit(struct store *s, const char *id, const char *name, const char *code,
		 const char *kind, const char *name_id, const char *parent, const char *link_id)
{
	char f[512];
	put(s, "unit", id, U_P, 'i', 10, HUB, "opened_on=s:2000-01-01");
	snprintf(f, sizeof f, "of_unit=s:%s;name=s:%s;code=%s%s;kind=s:%s;valid_from=s:2000-01-01;valid_to=n",
		 id, name, code ? "s:" : "n", code ? code : "", kind);
	put(s, "unit_name", name_id, U_P, 'i', 10, HUB, f);
	if (parent) {
		snprintf(f, sizeof f, "of_unit=s:%s;parent_id=s:%s;valid_from=s:2000-01-01;valid_to=n", id, parent);
		put(s, "unit_parent", link_id, U_P, 'i', 10, HUB, f);
	}
}

struct units_seen {
	char line[8][160];
	size_t n;
};

static int see_unit(void *ctx, const struct store_unit_info *u)
{
	struct units_seen *U = ctx;
	if (U->n < 8)
		snprintf(U->line[U->n++], 160, "%s|%s|%s|%s", u->id + 33, u->code ? u->code : "-",
			 u->name ? u->name : "-", u->parent_id ? u->parent_id + 33 : "-");
	return 0;
}

static int see_link(void *ctx, const char *a, const char *b)
{
	(void)a;
	(void)b;
	(*(size_t *)ctx)++;
	return 0;
}

static int see_merge(void *ctx, const char *a, const char *b, const char *on)
{
	(void)on;
	return see_link(ctx, a, b);
}

static void test_store__unit_tree_queries(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	char id[37], succ[37];
	assert_int_equal(s->begin(s), 0);
	unit(s, U_P, "Tỉnh", "01", "province", N_P, NULL, NULL);
	unit(s, U_D, "Huyện", "001", "district", N_D, U_P, L_D);
	unit(s, U_C1, "Xã Một", "00001", "commune", N_C1, U_D, L_C1);
	unit(s, U_C2, "Xã Hai", NULL, "commune", N_C2, U_D, L_C2);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->unit_known(s, U_C1), 1);
	assert_int_equal(s->unit_known(s, R1), 0);
	assert_int_equal(s->unit_placed(s, U_P), 1);
	assert_int_equal(s->unit_placed(s, U_C2), 1);
	assert_int_equal(s->unit_placed(s, R1), 0);
	size_t links = 0;
	assert_int_equal(s->unit_links(s, "2025-01-01", see_link, &links), 0);
	assert_int_equal(links, 3);
	assert_int_equal(s->unit_by_code(s, "00001", "2025-01-01", id), 0);
	assert_string_equal(id, U_C1);
	assert_int_equal(s->unit_by_code(s, "00009", "2025-01-01", id), 1);
	struct units_seen U = { 0 };
	assert_int_equal(s->units_list(s, "2025-01-01", see_unit, &U), 0);
	assert_int_equal(U.n, 4);
	assert_string_equal(U.line[0], "0c2|-|Xã Hai|002"); /* no code sorts first */
	assert_string_equal(U.line[1], "0c1|00001|Xã Một|002");
	/* C2 closed on 2025-07-01 without a successor: its parent the day before */
	assert_int_equal(s->unit_closed(s, U_C2, "2025-07-01", succ), 0);
	assert_int_equal(s->begin(s), 0);
	put(s, "unit_event", E_1, U_P, 'i', 11, HUB, "kind=s:close;of_unit=s:" U_C2 ";effective_on=s:2025-07-01");
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->unit_closed(s, U_C2, "2025-06-30", succ), 0);
	assert_int_equal(s->unit_closed(s, U_C2, "2025-07-01", succ), 1);
	assert_string_equal(succ, U_D);
	size_t merges = 0;
	assert_int_equal(s->unit_merges(s, see_merge,
					&merges), 0);
	assert_int_equal(merges, 0);
	/* merged into C1: C1 is the successor, and a merge hands records over */
	assert_int_equal(s->begin(s), 0);
	put(s, "unit_event", E_1, U_P, 'u', 12, HUB, "kind=s:merge;other_unit=s:" U_C1);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->unit_closed(s, U_C2, "2025-07-01", succ), 1);
	assert_string_equal(succ, U_C1);
	assert_int_equal(s->unit_merges(s, see_merge,
					&merges), 0);
	assert_int_equal(merges, 1);
}

static void test_store__units_version_moves_with_another_connection(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s, *other;
	uint64_t v0, v1, v2;
	assert_int_equal(open_store(f, 0, &other), 0);
	assert_int_equal(s->units_version(s, &v0), 0);
	assert_int_equal(s->units_version(s, &v1), 0);
	assert_int_equal(v1, v0); /* nothing written */
	assert_int_equal(other->begin(other), 0);
	unit(other, U_P, "Tỉnh", "01", "province", N_P, NULL, NULL);
	assert_int_equal(other->commit(other), 0);
	assert_int_equal(s->units_version(s, &v2), 0);
	assert_true(v2 != v1);
	other->close(other);
}

/* A read snapshot holds across nested pairs: what another connection commits meanwhile
 * is not seen until the outermost read_end; inside a write transaction the pair does
 * nothing. */
static void test_store__read_snapshot_nests_and_holds(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s, *other;
	uint64_t hs;
	assert_int_equal(open_store(f, 0, &other), 0);
	assert_int_equal(s->read_begin(s), 0);
	assert_int_equal(s->read_begin(s), 0);
	assert_int_equal(s->last_hs(s, &hs), 0);
	put1(other, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	assert_int_equal(s->read_end(s), 0);
	assert_int_equal(after(s, "person", hs, NULL).n, 0);
	assert_int_equal(s->read_end(s), 0);
	assert_int_equal(after(s, "person", hs, NULL).n, 1);
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R2, U_C1, 'i', 100, W1, "full_name=s:B");
	assert_int_equal(s->read_begin(s), 0);
	assert_string_equal(cell(s, "person", R2, "full_name"), "B");
	assert_int_equal(s->read_end(s), 0);
	assert_int_equal(s->commit(s), 0);
	assert_string_equal(cell(other, "person", R2, "full_name"), "B");
	other->close(other);
}


/* ---- what the province reads (store.h "what the province reads") ---- */

struct agents_seen {
	struct { char id[40]; int revoked; int64_t receipt_ms, since_hello; } v[8];
	size_t n;
};

static int see_status_agent(void *ctx, const struct store_status_agent *a)
{
	struct agents_seen *A = ctx;
	if (A->n < 8) {
		snprintf(A->v[A->n].id, 40, "%s", a->id);
		A->v[A->n].revoked = a->revoked;
		A->v[A->n].receipt_ms = a->receipt_ms;
		A->v[A->n].since_hello = a->since_hello;
		A->n++;
	}
	return 0;
}

static struct agents_seen agents_at(struct store *s, int64_t as_of)
{
	struct agents_seen A = { 0 };
	assert_int_equal(s->status_agents(s, as_of, see_status_agent, &A), 0);
	return A;
}

static void receipt(struct store *s, const char *agent, uint64_t from, uint64_t to, int dup,
		    int64_t at_ms)
{
	struct store_receipt r = { .seq_from = from, .seq_to = to, .applied = (int64_t)(to - from + 1),
				   .duplicate = dup, .received_ms = at_ms };
	snprintf(r.agent_id, sizeof r.agent_id, "%s", agent);
	assert_int_equal(s->receipt_add(s, &r), 0);
}

/* Contact after the status time falls back to the last receipt before it; what a
 * hello said is pending, less what arrived since (duplicates not counted); an agent
 * whose tokens were all revoked by then is retired; one first seen later is left out. */
static void test_store__status_agents_as_of_a_time(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	struct store_agent a = { .id = W1, .unit_id = U_C1, .acked = 8, .first_seen_ms = 100,
				 .last_hello_ms = 5000, .last_changes_ms = 5500, .pending = 10,
				 .software = "lienket 0.1" };
	struct store_agent b = { .id = W2, .unit_id = U_C2, .first_seen_ms = 7000,
				 .last_hello_ms = 7000 };
	struct store_token t = { .hash = "t1", .prefix = "lk_t1", .kind = STORE_TOKEN_AGENT,
				 .unit_id = U_C1, .name = "c1", .agent_id = W1, .created_ms = 50,
				 .revoked_ms = 2000 };
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->agent_put(s, &a), 0);
	assert_int_equal(s->agent_put(s, &b), 0);
	assert_int_equal(s->token_put(s, &t), 0);
	receipt(s, W1, 1, 3, 0, 1000);
	receipt(s, W1, 4, 5, 0, 4500);
	receipt(s, W1, 6, 8, 0, 5500);
	receipt(s, W1, 6, 8, 1, 5600); /* the same change set again */
	assert_int_equal(s->commit(s), 0);

	struct agents_seen A = agents_at(s, 1500);
	assert_int_equal(A.n, 1);
	assert_string_equal(A.v[0].id, W1);
	assert_int_equal(A.v[0].revoked, 0);       /* revoked only at 2000 */
	assert_int_equal(A.v[0].receipt_ms, 1000); /* hello at 5000 is after 1500 */
	A = agents_at(s, 3000);
	assert_int_equal(A.v[0].revoked, 1);
	assert_int_equal(A.v[0].receipt_ms, 1000);
	assert_int_equal(A.v[0].since_hello, 0);   /* its hello is after the status time */
	A = agents_at(s, 6000);
	assert_int_equal(A.n, 1);
	assert_int_equal(A.v[0].receipt_ms, 0);    /* every contact before 6000: not read */
	assert_int_equal(A.v[0].since_hello, 3);   /* 6..8 once, after the hello at 5000 */
	A = agents_at(s, 8000);
	assert_int_equal(A.n, 2);
}

struct issues_seen {
	char line[8][96];
	size_t n;
};

static int see_issue(void *ctx, const struct store_issue *i)
{
	struct issues_seen *I = ctx;
	if (I->n < 8)
		snprintf(I->line[I->n++], 96, "%d|%s|%llu|%s|%s", (int)i->kind, i->agent_id,
			 (unsigned long long)i->seq, i->code, i->row_id ? i->row_id : "-");
	return 0;
}

/* One list: quarantined, skipped, held; within a kind by agent id in byte order ("B"
 * before "a"), then sequence; what was recorded after the status time left out. */
static void test_store__status_issues_in_kind_then_byte_order(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->quarantine_add(s, "a-agent", 9, "bad_enum", "person", "p2", "gender", "m", 10), 0);
	assert_int_equal(s->quarantine_add(s, "a-agent", 3, "bad_type", "person", "p1", "birth_year", "m", 10), 0);
	assert_int_equal(s->quarantine_add(s, "B-agent", 7, "required", "meeting", "m1", "held_on", "m", 10), 0);
	assert_int_equal(s->quarantine_add(s, "B-agent", 8, "required", "meeting", "m2", "held_on", "m", 99), 0);
	assert_int_equal(s->skipped_add(s, "a-agent", 4, "00", "too_large", 10), 0);
	assert_int_equal(s->held_add(s, "B-agent", 5, U_C2, 1, "{}", 10), 0);
	assert_int_equal(s->commit(s), 0);
	struct issues_seen I = { 0 };
	assert_int_equal(s->status_issues(s, 50, see_issue, &I), 0);
	assert_int_equal(I.n, 5);
	assert_string_equal(I.line[0], "0|B-agent|7|required|m1");
	assert_string_equal(I.line[1], "0|a-agent|3|bad_type|p1");
	assert_string_equal(I.line[2], "0|a-agent|9|bad_enum|p2");
	assert_string_equal(I.line[3], "1|a-agent|4|too_large|-");
	assert_string_equal(I.line[4], "2|B-agent|5|" U_C2 "|-");
}

struct flags_seen {
	char line[8][160];
	size_t n;
};

static int see_flag_row(void *ctx, const struct store_flag_row *f)
{
	struct flags_seen *F = ctx;
	if (F->n < 8)
		snprintf(F->line[F->n++], 160, "%s|%s|%s|%s|%s", f->table, f->row_id, f->kind, f->field,
			 f->writer);
	return 0;
}

/* Each flag with the writer of its row (none for a row the hub does not hold). */
static void test_store__status_flags_name_the_rows_writer(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	struct store_flag f1 = { .table = "person", .row_id = R1, .kind = "dangling_ref",
				 .field = "unit_id", .detail = "unit/x" };
	struct store_flag f2 = { .table = "person", .row_id = R2, .kind = "held", .field = "" };
	struct store_flag f3 = { .table = "meeting", .row_id = R3, .kind = "closed_unit", .field = "" };
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:Một");
	assert_int_equal(s->flag_set(s, &f1, 20), 0);
	assert_int_equal(s->flag_set(s, &f2, 10), 0);
	assert_int_equal(s->flag_set(s, &f3, 99), 0);
	assert_int_equal(s->commit(s), 0);
	struct flags_seen F = { 0 };
	assert_int_equal(s->status_flags(s, 50, see_flag_row, &F), 0);
	assert_int_equal(F.n, 2);
	assert_string_equal(F.line[0], "person|" R2 "|held||");
	assert_string_equal(F.line[1], "person|" R1 "|dangling_ref|unit_id|" W1);
}

struct arrivals_seen {
	struct store_arrival v[4];
	char agent[4][40], unit[4][40];
	size_t n;
};

static int see_arrival(void *ctx, const struct store_arrival *a)
{
	struct arrivals_seen *A = ctx;
	if (A->n < 4) {
		A->v[A->n] = *a;
		snprintf(A->agent[A->n], 40, "%s", a->agent_id);
		snprintf(A->unit[A->n], 40, "%s", a->unit_id);
		A->n++;
	}
	return 0;
}

/* A day's receipts summed per agent: duplicates counted apart, entries of the accepted
 * change sets, the first and last time; [from, to). */
static void test_store__arrivals_summed_per_agent(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	struct store_agent a = { .id = W1, .unit_id = U_C1, .first_seen_ms = 1 };
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->agent_put(s, &a), 0);
	receipt(s, W1, 1, 3, 0, 1000);
	receipt(s, W1, 4, 5, 0, 1500);
	receipt(s, W1, 4, 5, 1, 1600);
	receipt(s, W1, 6, 6, 0, 2000); /* the next day */
	receipt(s, W2, 1, 1, 0, 1999); /* an agent the hub no longer lists */
	assert_int_equal(s->commit(s), 0);
	struct arrivals_seen A = { 0 };
	assert_int_equal(s->arrivals(s, 1000, 2000, see_arrival, &A), 0);
	assert_int_equal(A.n, 2);
	size_t w1 = strcmp(A.agent[0], W1) == 0 ? 0 : 1;
	assert_string_equal(A.agent[w1], W1);
	assert_string_equal(A.unit[w1], U_C1);
	assert_int_equal(A.v[w1].changesets, 2);
	assert_int_equal(A.v[w1].duplicates, 1);
	assert_int_equal(A.v[w1].changes, 5);
	assert_int_equal(A.v[w1].applied, 3 + 2 + 2);
	assert_int_equal(A.v[w1].first_ms, 1000);
	assert_int_equal(A.v[w1].last_ms, 1600);
	assert_string_equal(A.unit[1 - w1], "");
}

/* The latest year with a dated record, up to the current year, over rows that exist: a
 * deleted meeting or one held after the current year does not count. */
static void test_store__latest_year_of_rows_that_exist(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	int y = -1;
	assert_int_equal(s->latest_year(s, 2026, &y), 0);
	assert_int_equal(y, 0);
	assert_int_equal(s->begin(s), 0);
	put(s, "meeting", R1, U_C1, 'i', 100, W1, "unit_id=s:" U_C1 ";kind=s:joint;held_on=s:2021-05-01");
	put(s, "meeting", R2, U_C1, 'i', 100, W1, "unit_id=s:" U_C1 ";kind=s:joint;held_on=s:2024-05-01");
	put(s, "meeting", R2, U_C1, 'd', 200, W1, NULL);
	put(s, "volunteer", R3, U_C1, 'i', 100, W1, "unit_id=s:" U_C1 ";kind=s:other;started_on=s:2022-12-31");
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->latest_year(s, 2026, &y), 0);
	assert_int_equal(y, 2022);
	assert_int_equal(s->latest_year(s, 2021, &y), 0);
	assert_int_equal(y, 2021);
	assert_int_equal(s->latest_year(s, 2020, &y), 0);
	assert_int_equal(y, 0);
}

/* The unit tree read through the store's figures source (store_units_tree). */
static void test_store__units_tree_through_the_figures_source(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	struct unittree *t = NULL;
	struct unittree_name nm;
	char err[256];
	assert_int_equal(s->begin(s), 0);
	put(s, "unit", U_P, U_P, 'i', 10, HUB, "opened_on=s:2000-01-01");
	put(s, "unit_name", R1, U_P, 'i', 10, HUB, "of_unit=s:" U_P ";name=s:Tỉnh P;code=s:01;"
	    "kind=s:province;valid_from=s:2000-01-01;valid_to=n");
	put(s, "unit", U_C1, U_P, 'i', 10, HUB, "opened_on=s:2000-01-01");
	put(s, "unit_name", R2, U_P, 'i', 10, HUB, "of_unit=s:" U_C1 ";name=s:Xã Một;code=s:10001;"
	    "kind=s:commune;valid_from=s:2000-01-01;valid_to=n");
	put(s, "unit_parent", R3, U_P, 'i', 10, HUB, "of_unit=s:" U_C1 ";parent_id=s:" U_P ";"
	    "valid_from=s:2000-01-01;valid_to=n");
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(store_units_tree(s, &t, err, sizeof err), 0);
	assert_string_equal(unittree_root(t, "2025-01-01"), U_P);
	assert_int_equal(unittree_name_of(t, U_C1, "2025-01-01", &nm), 0);
	assert_string_equal(nm.name, "Xã Một");
	assert_true(unittree_in_subtree(t, U_P, U_C1, "2025-01-01"));
	unittree_free(t);
}

#define CASES(setup) \
	cmocka_unit_test_setup_teardown(test_store__meta_absent_then_set, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__row_written_reads_back_the_same, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__rows_after_gives_hub_order_past_the_cursor, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__rollback_and_undone_savepoint_leave_nothing, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__scope_filters_owners_and_assignees, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__writer_ties_compare_as_bytes, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__tokens_and_agents_round_trip, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__chains_of_each_acknowledged_sequence, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__held_quarantined_skipped_lists, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__pull_scope_and_backup_seq, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__unit_tree_queries, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__units_version_moves_with_another_connection, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__read_snapshot_nests_and_holds, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__status_agents_as_of_a_time, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__status_issues_in_kind_then_byte_order, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__status_flags_name_the_rows_writer, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__arrivals_summed_per_agent, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__latest_year_of_rows_that_exist, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_store__units_tree_through_the_figures_source, setup, teardown)

/* ---- PostgreSQL only: several connections on one database ---- */

/* Two writers: the one that began writing first commits last. Its rows must come after
 * the other's in hub order, or a reader that pulled between the two commits (cursor at
 * the other's row) would never see them. */
static void test_store_pg__hub_sequence_follows_commit_order(void **state)
{
	struct fx *f = *state;
	struct store *a = f->s, *b;
	assert_int_equal(open_store(f, 0, &b), 0);
	assert_int_equal(a->begin(a), 0);
	put(a, "person", R1, U_C1, 'i', 100, W1, "full_name=s:first written, last committed");
	put1(b, "person", R2, U_C1, 'i', 100, W2, "full_name=s:second written, first committed");
	/* a puller reads now: B's row, and moves its cursor past it */
	struct seen S = after(b, "person", 0, NULL);
	assert_int_equal(S.n, 1);
	uint64_t cursor = S.hs[0];
	assert_int_equal(a->commit(a), 0);
	S = after(b, "person", cursor, NULL);
	assert_int_equal(S.n, 1);
	assert_string_equal(S.ids[0], R1);
	uint64_t last;
	assert_int_equal(b->last_hs(b, &last), 0);
	assert_int_equal(last, S.hs[0]);
	b->close(b);
}

struct racer {
	struct fx *f;
	int (*fn)(struct store *s, void *arg);
	void *arg;
	int rc;
	atomic_int done;
};

static void *race(void *arg)
{
	struct racer *R = arg;
	struct store *s;
	R->rc = open_store(R->f, 0, &s);
	if (R->rc == 0) {
		R->rc = R->fn(s, R->arg);
		s->close(s);
	}
	R->done = 1;
	return NULL;
}

static void wait_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* Reads the phone of R1 under its lock, and writes its name where the row stands. */
static int merge_name(struct store *s, void *arg)
{
	(void)arg;
	if (s->begin(s) != 0)
		return -1;
	put(s, "person", R1, U_C1, 'u', 200, W2, "full_name=s:tên mới");
	return s->commit(s);
}

/* A read-modify-write of a row waits for the one in flight and starts from its result:
 * neither update is lost. */
static void test_store_pg__row_merge_waits_and_loses_no_update(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	put1(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A;phone=s:0900");
	assert_int_equal(s->begin(s), 0);
	const struct schema_table *t = schema_table_find("person", 1);
	struct merge_row r;
	assert_int_equal(merge_row_init(&r, t, R1, NULL), 0);
	assert_int_equal(s->row_read(s, &r), 0);
	struct racer R = { .f = f, .fn = merge_name };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	wait_ms(300);
	assert_false(R.done); /* waiting for our lock */
	struct field fl[] = { { "phone", { .kind = VALUE_TEXT, .s = "0911", .len = 4 } } };
	struct entry e = { .table = "person", .id = R1, .op = 'u', .owner = U_C1, .clock = 150,
			   .fields = fl, .nfields = 1 };
	int changed;
	uint64_t hs;
	assert_int_equal(merge_apply(&r, &e, W1, &changed), 0);
	assert_int_equal(s->next_hs(s, &hs), 0);
	assert_int_equal(s->row_write(s, &r, hs, 1), 0);
	merge_row_release(&r);
	assert_int_equal(s->commit(s), 0);
	pthread_join(th, NULL);
	assert_int_equal(R.rc, 0);
	assert_string_equal(cell(s, "person", R1, "phone"), "0911");
	assert_string_equal(cell(s, "person", R1, "full_name"), "tên mới");
}

static int nothing(struct store *s, void *arg)
{
	(void)s;
	(void)arg;
	return 0;
}

/* A connection opened while another holds a write in flight (row locks on a synced
 * table) opens at once: the DDL runs only when the database's differs from this build's
 * (hub_meta pg_ddl). Run at every open, CREATE INDEX IF NOT EXISTS waited for the
 * writer's table lock, and a hub's pool connection deadlocked with its own writer. */
static void test_store_pg__open_does_not_wait_for_a_write_in_flight(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	struct racer R = { .f = f, .fn = nothing };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	for (int i = 0; i < 100 && !R.done; i++)
		wait_ms(50);
	int opened = R.done;
	assert_int_equal(s->commit(s), 0);
	pthread_join(th, NULL);
	assert_true(opened); /* within 5 s, while the write was in flight */
	assert_int_equal(R.rc, 0);
}

static int read_agent(struct store *s, void *arg)
{
	struct store_agent *a = arg;
	if (s->begin(s) != 0)
		return -1;
	int rc = s->agent_get(s, W1, a);
	s->rollback(s);
	return rc;
}

/* The same agent's change sets through two processes: the second reads the agent only
 * once the first committed, so it sees the new acknowledged sequence (a duplicate or a
 * gap), never the old one (both applied). An agent not yet recorded included. */
static void test_store_pg__agent_read_waits_for_a_change_set_in_flight(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_agent a = { .id = W1, .unit_id = U_C1, .acked = 10 }, seen = { 0 };
	snprintf(a.chain, sizeof a.chain, "%064d", 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->agent_get(s, W1, &seen), 1);
	struct racer R = { .f = f, .fn = read_agent, .arg = &seen };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	wait_ms(300);
	assert_false(R.done);
	assert_int_equal(s->agent_put(s, &a), 0);
	assert_int_equal(s->commit(s), 0);
	pthread_join(th, NULL);
	assert_int_equal(R.rc, 0);
	assert_int_equal(seen.acked, 10);
}

static int lock_r2_then_r1(struct store *s, void *arg)
{
	atomic_int *holds_r2 = arg;
	if (s->begin(s) != 0)
		return -1;
	put(s, "person", R2, U_C1, 'u', 300, W2, "phone=s:2");
	*holds_r2 = 1;
	wait_ms(300);
	put(s, "person", R1, U_C1, 'u', 300, W2, "phone=s:2");
	return s->commit(s);
}

/* Two writers locking two rows in opposite orders: PostgreSQL breaks the deadlock, and
 * the loser's commit says conflict (run it again), not a bare failure. */
static void test_store_pg__deadlock_is_a_conflict(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	put1(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	put1(s, "person", R2, U_C1, 'i', 100, W1, "full_name=s:B");
	atomic_int holds_r2 = 0;
	struct racer R = { .f = f, .fn = lock_r2_then_r1, .arg = &holds_r2 };
	pthread_t th;
	assert_int_equal(s->begin(s), 0);
	const struct schema_table *t = schema_table_find("person", 1);
	struct merge_row r1, r2;
	assert_int_equal(merge_row_init(&r1, t, R1, NULL), 0);
	assert_int_equal(merge_row_init(&r2, t, R2, NULL), 0);
	assert_int_equal(s->row_read(s, &r1), 0);
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	for (int i = 0; i < 1000 && !holds_r2; i++) /* the other holds R2 (10 s at most) */
		wait_ms(10);
	assert_true(holds_r2);
	int mine = s->row_read(s, &r2); /* waits for R2, which waits for R1 */
	int mine_commit = mine == 0 ? s->commit(s) : s->commit(s);
	pthread_join(th, NULL);
	merge_row_release(&r1);
	merge_row_release(&r2);
	/* exactly one lost, as a conflict */
	int lost_here = mine == STORE_CONFLICT;
	int lost_there = R.rc == STORE_CONFLICT;
	assert_true(lost_here != lost_there);
	if (lost_here)
		assert_int_equal(mine_commit, STORE_CONFLICT);
	else
		assert_int_equal(mine_commit, 0);
}

static int count_held(struct store *s, void *arg)
{
	struct held_seen *H = arg;
	if (s->begin(s) != 0)
		return -1;
	int rc = s->held_of_owner(s, U_C2, see_held, H);
	s->rollback(s);
	return rc;
}

/* Held changes one process is settling are left alone by another. */
static void test_store_pg__held_changes_settled_by_one_process(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->held_add(s, W1, 4, U_C2, 1, "{}", 1), 0);
	assert_int_equal(s->held_add(s, W2, 4, U_C2, 1, "{}", 1), 0);
	assert_int_equal(s->commit(s), 0);
	struct held_seen mine = { 0 }, theirs = { 0 };
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->held_of_owner(s, U_C2, see_held, &mine), 0);
	struct racer R = { .f = f, .fn = count_held, .arg = &theirs };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	pthread_join(th, NULL);
	assert_int_equal(R.rc, 0);
	assert_int_equal(mine.n, 2);
	assert_int_equal(theirs.n, 0);
	assert_int_equal(s->rollback(s), 0);
}

struct binder {
	struct store_token t; /* as the request read it, before the other binding */
	const char *agent;
	int result;
};

static int bind_agent(struct store *s, void *arg)
{
	struct binder *B = arg;
	if (s->begin(s) != 0)
		return -1;
	B->result = auth_bind(s, &B->t, B->agent, 1);
	return s->commit(s);
}

/* Two laptops present one unbound token through two hub processes at once: one binding
 * wins, the other is refused (token_bound), never both bound in turn. */
static void test_store_pg__token_bound_once_across_processes(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_token t = { .hash = "cafe", .prefix = "lk_abcdefgh", .kind = STORE_TOKEN_AGENT,
				 .unit_id = U_C1, .created_ms = 1 }, got;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->token_put(s, &t), 0);
	assert_int_equal(s->commit(s), 0);
	struct binder B = { .t = t, .agent = W2 }; /* read unbound, like ours */
	struct store_token mine = t;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(auth_bind(s, &mine, W1, 1), AUTH_BIND_OK);
	struct racer R = { .f = f, .fn = bind_agent, .arg = &B };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	wait_ms(300);
	assert_false(R.done);
	assert_int_equal(s->commit(s), 0);
	pthread_join(th, NULL);
	assert_int_equal(R.rc, 0);
	assert_int_equal(B.result, AUTH_BIND_REFUSED);
	assert_int_equal(s->token_get(s, "cafe", &got), 0);
	assert_string_equal(got.agent_id, W1);
}

static int next_hub_seq(struct store *s, void *arg)
{
	char v[32];
	(void)arg;
	if (s->begin(s) != 0)
		return -1;
	int r = s->meta_get(s, "hub_seq", v, sizeof v);
	if (r < 0)
		return -1;
	snprintf(v, sizeof v, "%lld", (r == 0 ? strtoll(v, NULL, 10) : 0) + 1);
	if (s->meta_set(s, "hub_seq", v) != 0)
		return -1;
	return s->commit(s);
}

/* The hub's own journal (meta hub_seq, hub_chain, hub_clock: changes_apply_hub) advanced
 * by two processes at once — corrections typed on two servers: the second reads the
 * value only once the first committed, so no sequence number is given twice (the key
 * absent at first included). */
static void test_store_pg__hub_journal_advanced_once_per_writer(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	char v[32];
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->meta_get(s, "hub_seq", v, sizeof v), 1);
	struct racer R = { .f = f, .fn = next_hub_seq };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, race, &R), 0);
	wait_ms(300);
	assert_false(R.done);
	assert_int_equal(s->meta_set(s, "hub_seq", "1"), 0);
	assert_int_equal(s->commit(s), 0);
	pthread_join(th, NULL);
	assert_int_equal(R.rc, 0);
	assert_int_equal(s->meta_get(s, "hub_seq", v, sizeof v), 0);
	assert_string_equal(v, "2");
}

/* A statement failed and nothing undid it: the commit refuses (PostgreSQL would answer
 * ROLLBACK to the COMMIT, silently). */
static void test_store_pg__commit_after_a_failed_statement_fails(void **state)
{
	struct store *s = ((struct fx *)*state)->s;
	struct store_pg *p = store_pg_of(s);
	char v[16];
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->meta_set(s, "k", "v"), 0);
	assert_true(store_pg_exec(p, "SELECT no_such_column FROM hub_meta", 0, NULL, NULL) < 0);
	assert_true(s->commit(s) < 0);
	assert_non_null(strstr(s->errmsg(s), "rolled back"));
	assert_int_equal(s->meta_get(s, "k", v, sizeof v), 1);
	/* with rows written (their numbers given at commit) */
	assert_int_equal(s->begin(s), 0);
	put(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	assert_true(store_pg_exec(p, "SELECT no_such_column FROM hub_meta", 0, NULL, NULL) < 0);
	assert_true(s->commit(s) < 0);
	assert_string_equal(cell(s, "person", R1, "full_name"), "<absent>");
}

static void test_store_pg__create_and_open_refuse_the_wrong_database(void **state)
{
	struct fx *f = *state;
	struct store *x = NULL;
	char url[256], name[64], err[256];
	struct store_pg *p;
	assert_true(store_pg_connect(f->path, 1, &p, err, sizeof err) < 0);
	assert_non_null(strstr(err, "already holds"));
	assert_int_equal(pg_newdb(url, sizeof url, name, sizeof name), 0);
	assert_true(store_pg_connect(url, 0, &p, err, sizeof err) < 0);
	assert_non_null(strstr(err, "holds no hub"));
	assert_true(store_pg_connect("postgresql://lienket@127.0.0.1:1/none", 0, &p, err, sizeof err) ==
		    STORE_IO);
	(void)x;
}

/* pg_dump of the hub loaded into another database (what pg_restore makes): a new hub
 * id there, the old one named as restored_from; the original keeps its id. */
static void test_store_pg__restored_copy_gets_a_new_hub_id(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s, *copy;
	char id[40], id2[40], from[40], url[256], name[64], cmd[1024];
	put1(s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	assert_int_equal(s->meta_get(s, "hub_id", id, sizeof id), 0);
	assert_int_equal(pg_newdb(url, sizeof url, name, sizeof name), 0);
	snprintf(cmd, sizeof cmd, PG_BIN "/pg_dump -h 127.0.0.1 -p %s -U lienket -Fc %s | " PG_BIN
		 "/pg_restore -h 127.0.0.1 -p %s -U lienket -d %s", pg_port(), f->dbname, pg_port(), name);
	assert_int_equal(system(cmd), 0);
	struct fx g = *f;
	snprintf(g.path, sizeof g.path, "%s", url);
	assert_int_equal(open_store(&g, 0, &copy), 0);
	assert_int_equal(copy->meta_get(copy, "hub_id", id2, sizeof id2), 0);
	assert_string_not_equal(id2, id);
	assert_int_equal(copy->meta_get(copy, "restored_from", from, sizeof from), 0);
	assert_string_equal(from, id);
	assert_string_equal(cell(copy, "person", R1, "full_name"), "A");
	copy->close(copy);
	/* opened again: the same (new) id, nothing rotates twice */
	assert_int_equal(open_store(&g, 0, &copy), 0);
	assert_int_equal(copy->meta_get(copy, "hub_id", from, sizeof from), 0);
	assert_string_equal(from, id2);
	copy->close(copy);
	s->close(s);
	assert_int_equal(open_store(f, 0, &f->s), 0);
	assert_int_equal(f->s->meta_get(f->s, "hub_id", id2, sizeof id2), 0);
	assert_string_equal(id2, id);
}

/* The recorded identity says another timeline of this cluster (the database continued
 * after point-in-time recovery or a standby's promotion): a new hub id. Another system
 * identifier with the same OIDs (pg_upgrade) keeps it. */
static void test_store_pg__new_timeline_gives_a_new_hub_id(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	char id[40], now[40], ident[256], sys[64], rest[192], sql[512];
	assert_int_equal(s->meta_get(s, "hub_id", id, sizeof id), 0);
	assert_int_equal(s->meta_get(s, "pg_identity", ident, sizeof ident), 0);
	/* SYSID:TIMELINE:DBOID:RELOID */
	char *c = strchr(ident, ':');
	assert_non_null(c);
	snprintf(sys, sizeof sys, "%.*s", (int)(c - ident), ident);
	snprintf(rest, sizeof rest, "%s", strchr(c + 1, ':'));
	s->close(s);
	/* an upgrade: another system identifier, the same OIDs */
	snprintf(sql, sizeof sql, "UPDATE hub_meta SET value = '1%s' || substr(value, %zu) WHERE key = 'pg_identity'",
		 sys, strlen(sys) + 1);
	assert_int_equal(pg_psql(f->dbname, sql), 0);
	assert_int_equal(open_store(f, 0, &f->s), 0);
	s = f->s;
	assert_int_equal(s->meta_get(s, "hub_id", now, sizeof now), 0);
	assert_string_equal(now, id);
	s->close(s);
	/* the timeline the hub last ran on was 7 */
	snprintf(sql, sizeof sql, "UPDATE hub_meta SET value = '%s:7%s' WHERE key = 'pg_identity'", sys, rest);
	assert_int_equal(pg_psql(f->dbname, sql), 0);
	assert_int_equal(open_store(f, 0, &f->s), 0);
	s = f->s;
	assert_int_equal(s->meta_get(s, "hub_id", now, sizeof now), 0);
	assert_string_not_equal(now, id);
}

/* Ends this store's server process from outside (a restart, a failover cut it). */
static void cut_connection(struct fx *f)
{
	char sql[128];
	PGresult *r;
	struct store_pg *p = store_pg_of(f->s);
	assert_int_equal(store_pg_exec(p, "SELECT pg_backend_pid()", 0, NULL, &r), 0);
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", PQgetvalue(r, 0, 0));
	PQclear(r);
	assert_int_equal(pg_psql(f->dbname, sql), 0);
	wait_ms(100);
}

/* The server went away and came back between two requests: the next call connects
 * again and works. If the database then holds another hub id (restored, a standby took
 * over), every call fails with a reason: this process must not serve the new id with
 * what it handed out under the old one. */
static void test_store_pg__lost_connection_is_made_again(void **state)
{
	struct fx *f = *state;
	char v[256], sql[512];
	put1(f->s, "person", R1, U_C1, 'i', 100, W1, "full_name=s:A");
	cut_connection(f);
	assert_int_equal(f->s->meta_get(f->s, "hub_id", v, sizeof v), 0);
	put1(f->s, "person", R2, U_C1, 'i', 100, W1, "full_name=s:B");
	assert_string_equal(cell(f->s, "person", R2, "full_name"), "B");
	/* the hub's database continued on another timeline meanwhile */
	assert_int_equal(f->s->meta_get(f->s, "pg_identity", v, sizeof v), 0);
	char *c = strchr(v, ':');
	assert_non_null(c);
	snprintf(sql, sizeof sql, "UPDATE hub_meta SET value = '%.*s:9%s' WHERE key = 'pg_identity'",
		 (int)(c - v), v, strchr(c + 1, ':'));
	assert_int_equal(pg_psql(f->dbname, sql), 0);
	cut_connection(f);
	assert_int_equal(f->s->meta_get(f->s, "hub_id", v, sizeof v), STORE_CORRUPT);
	assert_non_null(strstr(f->s->errmsg(f->s), "start lienket-hub again"));
	assert_int_equal(f->s->begin(f->s), STORE_CORRUPT);
}

#define PG_CASE(f) cmocka_unit_test_setup_teardown(f, setup_pg, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_cases[] = { CASES(setup_sqlite) };
	const struct CMUnitTest pg_cases[] = {
		CASES(setup_pg),
		PG_CASE(test_store_pg__hub_sequence_follows_commit_order),
		PG_CASE(test_store_pg__row_merge_waits_and_loses_no_update),
		PG_CASE(test_store_pg__open_does_not_wait_for_a_write_in_flight),
		PG_CASE(test_store_pg__agent_read_waits_for_a_change_set_in_flight),
		PG_CASE(test_store_pg__deadlock_is_a_conflict),
		PG_CASE(test_store_pg__held_changes_settled_by_one_process),
		PG_CASE(test_store_pg__token_bound_once_across_processes),
		PG_CASE(test_store_pg__hub_journal_advanced_once_per_writer),
		PG_CASE(test_store_pg__commit_after_a_failed_statement_fails),
		PG_CASE(test_store_pg__create_and_open_refuse_the_wrong_database),
		PG_CASE(test_store_pg__restored_copy_gets_a_new_hub_id),
		PG_CASE(test_store_pg__new_timeline_gives_a_new_hub_id),
		PG_CASE(test_store_pg__lost_connection_is_made_again),
	};
	int failed = cmocka_run_group_tests_name("store contract on SQLite", sqlite_cases, NULL, NULL);
	failed += cmocka_run_group_tests_name("store contract on PostgreSQL", pg_cases, pg_group_setup,
					      pg_group_teardown);
	return failed;
}
