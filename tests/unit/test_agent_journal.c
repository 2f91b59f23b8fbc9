/*
 * test_agent_journal.c — the journal as the sync engine reads it (agent/journal.h):
 * entries streamed from the triggers' rows, change sets cut by bytes with one schema
 * version each, the chain continuous across batches and equal to the chain of the
 * whole journal, skipped entries (too large, unencodable) that still move the chain,
 * clock lowering after clock_ahead by row floors (never below what the laptop sent or
 * pulled for the row), compaction that keeps the chain and the floors, and the pending
 * lookup the pull merge relies on. Each test makes its own database in a temp dir.
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

#include "hlc.h"
#include "journal.h"
#include "schema.h"
#include "store.h"
#include "wire.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define AGENT "0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b"

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-journal-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/a.db", f->dir);
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
	char p[160];
	store_close(f->s);
	snprintf(p, sizeof p, "%s/a.db", f->dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/a.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/a.db-shm", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void sql(struct store *s, const char *q)
{
	char *err = NULL;
	if (sqlite3_exec(store_db(s), q, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sql failed: %s: %s\n", q, err);
		sqlite3_free(err);
		fail();
	}
}

static int64_t sql_int(struct store *s, const char *q)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	assert_int_equal(sqlite3_prepare_v2(store_db(s), q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* n persons with ids ...0001.., names padded to ~name_len bytes. */
static void add_persons(struct store *s, int n, int name_len)
{
	char q[512], name[200];
	if (name_len > 110)
		name_len = 110;
	memset(name, 'x', (size_t)name_len);
	name[name_len] = 0;
	sql(s, "BEGIN");
	for (int i = 0; i < n; i++) {
		snprintf(q, sizeof q,
			 "INSERT INTO person(id, unit_id, full_name, birth_year) VALUES("
			 "'0190f3b0-0000-7000-8000-%012d', '" UNIT "', 'Nguyễn %s %d', %d)",
			 i + 1, name, i, 1950 + i % 50);
		sql(s, q);
	}
	sql(s, "COMMIT");
}

static struct journal_batch_limits limits(size_t bytes)
{
	struct journal_batch_limits l = { bytes, bytes, WIRE_MAX_CHANGES, WIRE_CHANGES_V1 };
	return l;
}

static void test_journal__reader_gives_entries_without_id_and_owner_in_fields(void **state)
{
	struct fixture *f = *state;
	struct journal_reader *r = NULL;
	struct journal_item *it;
	add_persons(f->s, 1, 5);
	sql(f->s, "UPDATE person SET phone = '0912345678' WHERE id = '0190f3b0-0000-7000-8000-000000000001'");
	sql(f->s, "DELETE FROM person");
	assert_int_equal(journal_reader_open(f->s, 1, &r), 0);
	assert_int_equal(journal_reader_next(r, &it), 1);
	assert_int_equal(it->e.seq, 1);
	assert_int_equal(it->e.op, 'i');
	assert_string_equal(it->e.table, "person");
	assert_string_equal(it->e.owner, UNIT);
	assert_int_equal(it->e.nfields, 4); /* full_name, birth_year, gender, phone */
	assert_true(it->encodable);
	for (size_t i = 0; i < it->e.nfields; i++) {
		assert_string_not_equal(it->e.fields[i].name, "id");
		assert_string_not_equal(it->e.fields[i].name, "unit_id");
	}
	assert_int_equal(journal_reader_next(r, &it), 1);
	assert_int_equal(it->e.op, 'u');
	assert_int_equal(it->e.nfields, 1);
	assert_string_equal(it->e.fields[0].name, "phone");
	assert_int_equal(it->e.fields[0].v.kind, VALUE_TEXT);
	assert_string_equal(it->e.fields[0].v.s, "0912345678");
	assert_int_equal(journal_reader_next(r, &it), 1);
	assert_int_equal(it->e.op, 'd');
	assert_int_equal(it->e.nfields, 0);
	assert_int_equal(journal_reader_next(r, &it), 0);
	journal_reader_free(r);
}

/* Cuts the whole journal into change sets of one shape (without acknowledging):
 * returns how many, and the chain after the last; every set within cap, of that shape. */
static int cut_all(struct store *s, int shape, size_t cap, unsigned char chain[32], uint64_t *last)
{
	struct journal_batch_limits lim = limits(cap);
	char err[256];
	uint64_t next = 1;
	int n = 0;
	lim.changes_v = shape;
	for (;;) {
		struct journal_batch b = { 0 };
		struct wire_changeset *cs = NULL;
		struct wire_status ws;
		int rc = journal_build_batch(s, AGENT, next, &lim, &b, err, sizeof err);
		if (rc == 1)
			break;
		assert_int_equal(rc, 0);
		assert_true(b.json_len <= cap);
		assert_int_equal(wire_changeset_decode(b.json, b.json_len, &cs, &ws), 0);
		assert_int_equal(cs->v, shape);
		assert_int_equal(cs->nentries, b.count);
		memcpy(chain, cs->chain_after, 32);
		wire_changeset_free(cs);
		next = b.to + 1;
		journal_batch_release(&b);
		n++;
	}
	*last = next - 1;
	return n;
}

/* PROTOCOL.md §6.2a: the same journal cut in shape 2 ends on the same chain, each set
 * within batch_bytes of its own JSON, and so in fewer change sets than shape 1. */
static void test_journal__shape_2_batches_chain_the_same_in_fewer_sets(void **state)
{
	struct fixture *f = *state;
	unsigned char c1[32], c2[32];
	uint64_t last1 = 0, last2 = 0;
	add_persons(f->s, 400, 100);
	int n1 = cut_all(f->s, WIRE_CHANGES_V1, 8192, c1, &last1);
	int n2 = cut_all(f->s, WIRE_CHANGES_V2, 8192, c2, &last2);
	assert_int_equal(last1, 400);
	assert_int_equal(last2, 400);
	assert_memory_equal(c1, c2, 32);
	assert_true(n2 < n1);
}

static void test_journal__batches_are_cut_by_bytes_and_chain_across_batches(void **state)
{
	struct fixture *f = *state;
	const size_t cap = 8192;
	struct journal_batch_limits lim = limits(cap);
	unsigned char expect[32] = { 0 }, prev_after[32] = { 0 };
	char err[256];
	uint64_t next = 1;
	int nbatches = 0;

	add_persons(f->s, 400, 100);
	/* The chain of the whole journal, computed independently. */
	{
		struct journal_reader *r = NULL;
		struct journal_item *it;
		assert_int_equal(journal_reader_open(f->s, 1, &r), 0);
		while (journal_reader_next(r, &it) == 1) {
			unsigned char h[32];
			assert_int_equal(entry_hash(&it->e, h), 0);
			entry_chain_step(expect, h, expect);
		}
		journal_reader_free(r);
	}
	for (;;) {
		struct journal_batch b = { 0 };
		struct wire_changeset *cs = NULL;
		struct wire_status ws;
		int rc = journal_build_batch(f->s, AGENT, next, &lim, &b, err, sizeof err);
		if (rc == 1)
			break;
		assert_int_equal(rc, 0);
		assert_true(b.json_len <= cap);
		assert_int_equal(b.from, next);
		assert_int_equal(wire_changeset_decode(b.json, b.json_len, &cs, &ws), 0);
		assert_int_equal(cs->from, b.from);
		assert_int_equal(cs->to, b.to);
		assert_memory_equal(cs->chain_before, prev_after, 32);
		memcpy(prev_after, cs->chain_after, 32);
		wire_changeset_free(cs);
		/* a batch is not a single entry unless entries are huge */
		assert_true(b.count > 10);
		next = b.to + 1;
		assert_int_equal(journal_set_acked(f->s, b.to), 0);
		journal_batch_release(&b);
		nbatches++;
	}
	assert_int_equal(next, 401);
	assert_true(nbatches >= 5);
	assert_memory_equal(prev_after, expect, 32);
	/* stored once, the same */
	unsigned char at[32];
	assert_int_equal(journal_chain_at(f->s, 400, at), 0);
	assert_memory_equal(at, expect, 32);
}

static void test_journal__rebuilding_a_batch_after_a_lost_answer_gives_the_same_bytes(void **state)
{
	struct fixture *f = *state;
	struct journal_batch_limits lim = limits(8192);
	struct journal_batch a = { 0 }, b = { 0 };
	char err[256];
	add_persons(f->s, 100, 50);
	assert_int_equal(journal_build_batch(f->s, AGENT, 1, &lim, &a, err, sizeof err), 0);
	assert_int_equal(journal_build_batch(f->s, AGENT, 1, &lim, &b, err, sizeof err), 0);
	assert_int_equal(a.to, b.to);
	assert_int_equal(a.json_len, b.json_len);
	assert_memory_equal(a.json, b.json, a.json_len);
	journal_batch_release(&a);
	journal_batch_release(&b);
}

static void test_journal__one_schema_version_per_change_set(void **state)
{
	struct fixture *f = *state;
	struct journal_batch_limits lim = limits(65536);
	struct journal_batch b = { 0 };
	char err[256];
	add_persons(f->s, 10, 10);
	sql(f->s, "UPDATE lk_journal SET schema_version = 2 WHERE seq > 6");
	assert_int_equal(journal_build_batch(f->s, AGENT, 1, &lim, &b, err, sizeof err), 0);
	assert_int_equal(b.to, 6);
	assert_int_equal(b.schema, 1);
	journal_batch_release(&b);
	assert_int_equal(journal_build_batch(f->s, AGENT, 7, &lim, &b, err, sizeof err), 0);
	assert_int_equal(b.from, 7);
	assert_int_equal(b.to, 10);
	assert_int_equal(b.schema, 2);
	journal_batch_release(&b);
}

static void insert_raw_journal(struct store *s, const char *fields)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_db(s),
					    "INSERT INTO lk_journal(tbl, row_id, op, owner, fields,"
					    " recorded_ms, clock, schema_version) VALUES('person',"
					    " '0190f3b0-0000-7000-8000-999999999999', 'u', '" UNIT "', ?,"
					    " 0, (SELECT last_clock + 1 FROM lk_state), 1)",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, fields, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Fields are read directly when json_object() wrote them and through json_each()
 * otherwise: for every shape, what the reader gives is what json_each() says (the
 * reference), in order, id and unit_id left out; only canonical values are encodable. */
static void test_journal__fields_read_as_json_each_reads_them(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *json;
		int encodable;
	} cases[] = {
		{ "{}", 1 },
		{ "{\"full_name\":\"Nguyễn Văn A\",\"birth_year\":1990,\"gender\":null,\"phone\":\"09\"}", 1 },
		{ "{\"a\":true,\"b\":false,\"c\":\"\"}", 1 },
		{ "{\"n\":-0,\"m\":-123456789012345678,\"z\":0}", 1 },
		{ "{\"big\":1234567890123456789}", 1 },            /* 19 digits: json_each */
		{ "{\"min\":-9223372036854775808}", 1 },          /* past 18 digits: never added up */
		{ "{\"huge\":12345678901234567890}", 1 },         /* beyond int64: as json_each reads it */
		{ "{\"s\":\"a\\\"b\\\\c\\u00e9\\n\"}", 1 },          /* escapes: json_each */
		{ "{\"id\":\"x\",\"unit_id\":\"y\",\"k\":\"v\",\"idx\":1}", 1 },
		{ "{\"k\":\"v\",\"k\":\"w\"}", 1 },
		{ "{ \"k\" : 1 }", 1 },                             /* whitespace: json_each */
		{ "{\"r\":1.5}", 0 },
		{ "{\"e\":1e3}", 0 },
		{ "{\"o\":{\"x\":1},\"a\":[1]}", 0 },
		{ "{\"z\":01}", 0 },                                /* malformed */
		{ "{\"k\":\"v\"}x", 0 },
		{ "{\"k\":\"v\",}", 0 },
		{ "{\"k\":tru}", 0 },
		{ "{\"k\":\"v", 0 },
		{ "[1,2]", 0 },
	};
	const size_t n = sizeof cases / sizeof cases[0];
	sqlite3_stmt *ref = NULL;
	struct journal_reader *r = NULL;
	struct journal_item *it;

	/* lk_journal's CHECK refuses malformed JSON; the reader must not rely on it */
	sql(f->s, "PRAGMA ignore_check_constraints = ON");
	for (size_t i = 0; i < n; i++)
		insert_raw_journal(f->s, cases[i].json);
	sql(f->s, "PRAGMA ignore_check_constraints = OFF");
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
					    "SELECT key, type, value FROM json_each(?1) WHERE json_type(?1) = 'object'"
					    " AND key NOT IN ('id', 'unit_id')",
					    -1, &ref, NULL),
			 SQLITE_OK);
	assert_int_equal(journal_reader_open(f->s, 1, &r), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(journal_reader_next(r, &it), 1);
		assert_int_equal(it->e.seq, i + 1);
		if (it->encodable != cases[i].encodable)
			fail_msg("case %zu '%s': encodable %d", i, cases[i].json, it->encodable);
		sqlite3_reset(ref);
		sqlite3_bind_text(ref, 1, cases[i].json, -1, SQLITE_STATIC);
		size_t k = 0;
		int step;
		while ((step = sqlite3_step(ref)) == SQLITE_ROW) {
			const char *key = (const char *)sqlite3_column_text(ref, 0);
			const char *type = (const char *)sqlite3_column_text(ref, 1);
			if (k >= it->e.nfields)
				fail_msg("case %zu '%s': field %zu (%s) missing", i, cases[i].json, k, key);
			const struct field *fl = &it->e.fields[k++];
			assert_string_equal(fl->name, key);
			if (strcmp(type, "null") == 0) {
				assert_int_equal(fl->v.kind, VALUE_NULL);
			} else if (strcmp(type, "integer") == 0 || strcmp(type, "true") == 0 ||
				   strcmp(type, "false") == 0) {
				assert_int_equal(fl->v.kind, VALUE_INT);
				assert_int_equal(fl->v.i, sqlite3_column_int64(ref, 2));
			} else {
				const char *v = (const char *)sqlite3_column_text(ref, 2);
				assert_int_equal(fl->v.kind, VALUE_TEXT);
				assert_int_equal(fl->v.len, (size_t)sqlite3_column_bytes(ref, 2));
				assert_memory_equal(fl->v.s, v, fl->v.len);
			}
		}
		/* json_each fails on malformed text: the entry then has no fields */
		if (step != SQLITE_DONE)
			k = 0;
		if (k != it->e.nfields)
			fail_msg("case %zu '%s': %zu fields, json_each %zu", i, cases[i].json, it->e.nfields, k);
	}
	assert_int_equal(journal_reader_next(r, &it), 0);
	journal_reader_free(r);
	sqlite3_finalize(ref);
}

/* A sequence number is never given twice, even once every entry was compacted away
 * (the hub would take a new entry under a used number for one it already has). */
static void test_journal__sequence_is_never_reused_after_compacting_everything(void **state)
{
	struct fixture *f = *state;
	struct journal_batch_limits lim = limits(65536);
	struct journal_batch b = { 0 };
	struct wire_changeset *cs = NULL;
	struct wire_status ws;
	unsigned char at30[32];
	char err[256];
	add_persons(f->s, 30, 10);
	assert_int_equal(journal_chain_at(f->s, 30, at30), 0);
	assert_int_equal(journal_set_acked(f->s, 30), 0);
	assert_int_equal(journal_compact(f->s, 30), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal"), 0);
	uint64_t last = 0;
	assert_int_equal(journal_last_seq(f->s, &last), 0);
	assert_int_equal(last, 30);
	sql(f->s, "UPDATE person SET phone = '1' WHERE id = '0190f3b0-0000-7000-8000-000000000001'");
	assert_int_equal(sql_int(f->s, "SELECT min(seq) FROM lk_journal"), 31);
	/* the next change set starts there, chained to the compaction point */
	assert_int_equal(journal_build_batch(f->s, AGENT, 31, &lim, &b, err, sizeof err), 0);
	assert_int_equal(b.from, 31);
	assert_int_equal(b.to, 31);
	assert_int_equal(wire_changeset_decode(b.json, b.json_len, &cs, &ws), 0);
	assert_memory_equal(cs->chain_before, at30, 32);
	wire_changeset_free(cs);
	journal_batch_release(&b);
	/* an entry deleted by hand (the newest one) does not give its number back */
	sql(f->s, "DELETE FROM lk_journal WHERE seq = 31");
	sql(f->s, "UPDATE person SET phone = '2' WHERE id = '0190f3b0-0000-7000-8000-000000000001'");
	assert_int_equal(sql_int(f->s, "SELECT max(seq) FROM lk_journal"), 32);
}

static void test_journal__too_large_and_unencodable_entries_travel_skipped(void **state)
{
	struct fixture *f = *state;
	struct journal_batch_limits lim = limits(8192);
	struct journal_batch b = { 0 };
	struct wire_changeset *cs = NULL;
	struct wire_status ws;
	char err[256];
	size_t big = 20000;
	char *fields = malloc(big + 64);
	assert_non_null(fields);
	strcpy(fields, "{\"phone\":\"");
	memset(fields + strlen(fields), 'y', big);
	strcpy(fields + 10 + big, "\"}");

	add_persons(f->s, 2, 10);                      /* 1, 2 */
	insert_raw_journal(f->s, fields);              /* 3: too large */
	insert_raw_journal(f->s, "{\"phone\":1.5}");   /* 4: a real: not a value of ours */
	insert_raw_journal(f->s, "[1,2]");             /* 5: not an object */
	add_persons(f->s, 0, 10);
	sql(f->s, "UPDATE person SET phone = '1' WHERE id = '0190f3b0-0000-7000-8000-000000000001'"); /* 6 */
	free(fields);

	assert_int_equal(journal_build_batch(f->s, AGENT, 1, &lim, &b, err, sizeof err), 0);
	assert_int_equal(b.from, 1);
	assert_int_equal(b.to, 6);
	assert_int_equal(b.nskipped, 3);
	assert_true(b.json_len <= 8192);
	assert_int_equal(wire_changeset_decode(b.json, b.json_len, &cs, &ws), 0);
	assert_true(cs->entries[2].skipped);
	assert_string_equal(cs->entries[2].reason, "too_large");
	assert_true(cs->entries[3].skipped);
	assert_string_equal(cs->entries[3].reason, "unencodable");
	assert_true(cs->entries[4].skipped);
	assert_false(cs->entries[5].skipped);
	/* the chain the hub computes from what it received is ours */
	unsigned char c[32] = { 0 };
	for (size_t i = 0; i < cs->nentries; i++) {
		unsigned char h[32];
		assert_int_equal(entry_hash(&cs->entries[i], h), 0);
		entry_chain_step(c, h, c);
	}
	assert_memory_equal(c, cs->chain_after, 32);
	wire_changeset_free(cs);
	journal_batch_release(&b);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal WHERE skipped IS NOT NULL"), 3);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_skipped"), 3);
	/* sticky: once skipped, always skipped, even with a bigger batch */
	struct journal_batch_limits big_lim = limits(1u << 20);
	assert_int_equal(journal_build_batch(f->s, AGENT, 3, &big_lim, &b, err, sizeof err), 0);
	assert_int_equal(b.nskipped, 3);
	journal_batch_release(&b);
}

static void test_journal__lowering_after_clock_ahead_goes_to_hub_time_and_spares_acked(void **state)
{
	struct fixture *f = *state;
	const int64_t hub = 1764150000000LL;
	uint64_t acked_clock;
	add_persons(f->s, 20, 10);
	/* The laptop's clock was a day ahead for every entry (20 rows, no floors). */
	sql(f->s, "UPDATE lk_journal SET clock = ((1764150000000 + 86400000) << 16) + seq * 3");
	sql(f->s, "UPDATE lk_state SET last_clock = ((1764150000000 + 86400000) << 16) + 100");
	assert_int_equal(journal_set_acked(f->s, 5), 0);
	acked_clock = (uint64_t)sql_int(f->s, "SELECT clock FROM lk_journal WHERE seq = 5");
	int64_t n = journal_lower_clocks(f->s, hub, 6);
	assert_int_equal(n, 15);
	assert_int_equal((uint64_t)sql_int(f->s, "SELECT clock FROM lk_journal WHERE seq = 5"), acked_clock);
	/* each row has one entry and no floor: every one goes to hub time */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal WHERE seq > 5 AND clock = 1764150000000 << 16"), 15);
	/* `last` stays at least every clock written (the acknowledged ones were sent) */
	assert_int_equal((uint64_t)sql_int(f->s, "SELECT last_clock FROM lk_state"), acked_clock);
	/* lowering does not change the chain (clocks are not hashed) */
	struct journal_batch_limits lim = limits(65536);
	struct journal_batch b = { 0 };
	char err[256];
	unsigned char before[32];
	assert_int_equal(journal_chain_at(f->s, 20, before), 0);
	assert_int_equal(journal_build_batch(f->s, AGENT, 6, &lim, &b, err, sizeof err), 0);
	unsigned char after[32];
	assert_int_equal(journal_chain_at(f->s, 20, after), 0);
	assert_memory_equal(before, after, 32);
	journal_batch_release(&b);
}

#define ROW1 "0190f3b0-0000-7000-8000-000000000001"
#define HUB_MS 1764150000000LL
#define MIN_MS 60000LL

/* The laptop's recorded time is hub time + ahead_ms for the next entries. */
static void clock_ahead_by(struct store *s, int64_t ahead_ms)
{
	char q[160];
	snprintf(q, sizeof q, "UPDATE lk_state SET offset_ms = %lld + %lld - "
		 "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
		 (long long)HUB_MS, (long long)ahead_ms);
	sql(s, q);
}

static uint64_t clock_of(struct store *s, uint64_t seq)
{
	char q[96];
	snprintf(q, sizeof q, "SELECT clock FROM lk_journal WHERE seq = %llu", (unsigned long long)seq);
	return (uint64_t)sql_int(s, q);
}

/* ROW1 inserted 4 minutes ahead and acknowledged (within the drift limit), then the
 * clock jumps to 13 minutes ahead for what comes next. */
static void insert_acked_then_jump(struct store *s)
{
	clock_ahead_by(s, 4 * MIN_MS);
	add_persons(s, 1, 5);
	assert_int_equal(journal_set_acked(s, 1), 0);
	clock_ahead_by(s, 13 * MIN_MS);
}

/* Issue 12 A: insert 4 minutes ahead (accepted), edit 13 minutes ahead (clock_ahead):
 * the lowered edit must stay above the insert the hub already holds, or it loses. */
static void test_journal__lowered_edit_stays_above_its_rows_acknowledged_insert(void **state)
{
	struct fixture *f = *state;
	insert_acked_then_jump(f->s);
	sql(f->s, "UPDATE person SET birth_year = 1990 WHERE id = '" ROW1 "'");
	uint64_t ins = clock_of(f->s, 1), edit = clock_of(f->s, 2);
	assert_true(ins > hlc_from_ms(HUB_MS));
	assert_true(journal_lower_clocks(f->s, HUB_MS, 2) >= 1);
	uint64_t lowered = clock_of(f->s, 2);
	assert_true(lowered > ins);          /* the edit still wins over the insert */
	assert_true(lowered < edit);         /* and was lowered */
	assert_int_equal(lowered, ins + 1);  /* just above its floor */
	assert_int_equal(clock_of(f->s, 1), ins);
}

/* The office deleted a record it had inserted (acknowledged): the lowered delete stays
 * above the insert, so the hub does not keep the row. */
static void test_journal__lowered_delete_stays_above_its_rows_insert(void **state)
{
	struct fixture *f = *state;
	insert_acked_then_jump(f->s);
	sql(f->s, "DELETE FROM person WHERE id = '" ROW1 "'");
	uint64_t ins = clock_of(f->s, 1);
	assert_true(journal_lower_clocks(f->s, HUB_MS, 2) >= 1);
	assert_true(clock_of(f->s, 2) > ins);
	/* unacknowledged insert, edit and delete of one new row, all far ahead: they go to
	 * hub time and stay in order */
	sql(f->s, "INSERT INTO person(id, unit_id, full_name) VALUES('0190f3b0-0000-7000-8000-000000000077', '" UNIT "', 'A')");
	sql(f->s, "UPDATE person SET full_name = 'B' WHERE id = '0190f3b0-0000-7000-8000-000000000077'");
	sql(f->s, "DELETE FROM person WHERE id = '0190f3b0-0000-7000-8000-000000000077'");
	assert_true(journal_lower_clocks(f->s, HUB_MS, 3) >= 3);
	assert_int_equal(clock_of(f->s, 3), hlc_from_ms(HUB_MS));
	assert_int_equal(clock_of(f->s, 4), hlc_from_ms(HUB_MS) + 1);
	assert_int_equal(clock_of(f->s, 5), hlc_from_ms(HUB_MS) + 2);
}

/* ROW1 arrives by pull (no journal entry) with its highest stamp `pulled`, as the pull
 * merge applies it: the row, lk_row_clock and `last` raised. */
static void pull_row1(struct store *s, uint64_t pulled)
{
	char q[96];
	assert_int_equal(store_apply_begin(s), 0);
	sql(s, "INSERT INTO person(id, unit_id, full_name) VALUES('" ROW1 "', '" UNIT "', 'Kéo về')");
	assert_int_equal(journal_row_seen(s, "person", ROW1, pulled), 0);
	assert_int_equal(journal_row_seen(s, "person", ROW1, pulled - 100), 0); /* never lowers */
	snprintf(q, sizeof q, "UPDATE lk_state SET last_clock = %llu", (unsigned long long)pulled);
	sql(s, q);
	assert_int_equal(store_apply_end(s, 1), 0);
}

/* A row pulled with a clock 2 minutes ahead, edited 13 minutes ahead: the lowered edit
 * stays above the pulled stamp (the laptop had seen that version). */
static void test_journal__lowered_edit_stays_above_a_pulled_stamp_of_its_row(void **state)
{
	struct fixture *f = *state;
	uint64_t pulled = hlc_from_ms(HUB_MS + 2 * MIN_MS) + 7;
	pull_row1(f->s, pulled);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal"), 0);
	clock_ahead_by(f->s, 13 * MIN_MS);
	sql(f->s, "UPDATE person SET birth_year = 1990 WHERE id = '" ROW1 "'");
	assert_int_equal((uint64_t)sql_int(f->s, "SELECT row_floor FROM lk_journal WHERE seq = 1"), pulled);
	assert_true(journal_lower_clocks(f->s, HUB_MS, 1) >= 1);
	assert_int_equal(clock_of(f->s, 1), pulled + 1);
	/* `last` never goes below what was received */
	assert_true((uint64_t)sql_int(f->s, "SELECT last_clock FROM lk_state") >= pulled + 1);
}

/* The floor itself is beyond the drift limit and the hub refuses the entry again (it
 * no longer holds the row: a restored hub): lowered ignoring the floor, so the laptop
 * is never locked out; the row's own entries stay in order. */
static void test_journal__refused_again_at_its_floor_is_lowered_ignoring_floors(void **state)
{
	struct fixture *f = *state;
	uint64_t pulled = hlc_from_ms(HUB_MS + 60 * MIN_MS);
	pull_row1(f->s, pulled);
	sql(f->s, "UPDATE person SET birth_year = 1990 WHERE id = '" ROW1 "'");
	sql(f->s, "UPDATE person SET birth_year = 1991 WHERE id = '" ROW1 "'");
	assert_true(journal_lower_clocks(f->s, HUB_MS, 1) >= 1);
	assert_int_equal(clock_of(f->s, 1), pulled + 1); /* held up by the floor */
	assert_int_equal(clock_of(f->s, 2), pulled + 2);
	/* refused again: entry 1 is at its floor */
	assert_int_equal(journal_lower_clocks(f->s, HUB_MS, 1), 2);
	assert_int_equal(clock_of(f->s, 1), hlc_from_ms(HUB_MS));
	assert_int_equal(clock_of(f->s, 2), hlc_from_ms(HUB_MS) + 1);
}

/* Entries compacted away still hold the floor of their row's later entries. */
static void test_journal__compacted_entries_still_hold_their_rows_floor(void **state)
{
	struct fixture *f = *state;
	clock_ahead_by(f->s, 4 * MIN_MS);
	add_persons(f->s, 1, 5);
	sql(f->s, "UPDATE person SET birth_year = 1980 WHERE id = '" ROW1 "'");
	uint64_t ins = clock_of(f->s, 1);
	assert_int_equal(journal_set_acked(f->s, 1), 0);
	clock_ahead_by(f->s, 13 * MIN_MS);
	assert_int_equal(journal_compact(f->s, 1), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal WHERE seq = 1"), 0);
	sql(f->s, "UPDATE person SET birth_year = 1990 WHERE id = '" ROW1 "'");
	/* the hub refuses entry 3, the one 13 minutes ahead (entry 2, 4 minutes ahead, is
	 * within the drift; naming it refused would make a run where it was written in the
	 * insert's millisecond, at exactly its floor + 1, lower without floors) */
	assert_true(journal_lower_clocks(f->s, HUB_MS, 3) >= 1);
	assert_true(clock_of(f->s, 2) > ins);
	assert_true(clock_of(f->s, 3) > clock_of(f->s, 2));
}

static void test_journal__compaction_keeps_the_chain_at_the_compaction_point(void **state)
{
	struct fixture *f = *state;
	struct journal_batch_limits lim = limits(65536);
	struct journal_batch b = { 0 };
	unsigned char at10[32], got[32];
	char err[256];
	add_persons(f->s, 30, 10);
	assert_int_equal(journal_chain_at(f->s, 10, at10), 0);
	assert_int_equal(journal_set_acked(f->s, 20), 0);
	/* never beyond acked */
	assert_int_equal(journal_compact(f->s, 10), 0);
	assert_int_equal(sql_int(f->s, "SELECT min(seq) FROM lk_journal"), 11);
	assert_int_equal(journal_chain_at(f->s, 10, got), 0);
	assert_memory_equal(got, at10, 32);
	assert_int_equal(journal_chain_at(f->s, 5, got), 1); /* unknown below */
	uint64_t last = 0;
	assert_int_equal(journal_last_seq(f->s, &last), 0);
	assert_int_equal(last, 30);
	/* the next change set still starts right */
	assert_int_equal(journal_build_batch(f->s, AGENT, 11, &lim, &b, err, sizeof err), 0);
	assert_int_equal(b.from, 11);
	journal_batch_release(&b);
	assert_int_equal(journal_compact(f->s, 25), 0); /* clipped to acked = 20 */
	assert_int_equal(sql_int(f->s, "SELECT min(seq) FROM lk_journal"), 21);
}

static void test_journal__pending_touch_names_fields_and_existence(void **state)
{
	struct fixture *f = *state;
	const char *id = "0190f3b0-0000-7000-8000-000000000001";
	uint64_t mask = 0;
	int ex = 0;
	const struct schema_table *t = schema_table_find("person", SCHEMA_VERSION);
	const struct schema_column *phone = schema_column_find(t, "phone", SCHEMA_VERSION);
	const struct schema_column *name = schema_column_find(t, "full_name", SCHEMA_VERSION);
	add_persons(f->s, 1, 10);
	assert_int_equal(journal_set_acked(f->s, 1), 0);
	assert_int_equal(journal_pending_touch(f->s, 1, "person", id, &mask, &ex), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(ex, 0);
	sql(f->s, "UPDATE person SET phone = '0900' WHERE id = '0190f3b0-0000-7000-8000-000000000001'");
	assert_int_equal(journal_pending_touch(f->s, 1, "person", id, &mask, &ex), 0);
	assert_true(mask & (1ull << schema_column_index(t, phone)));
	assert_false(mask & (1ull << schema_column_index(t, name)));
	assert_int_equal(ex, 0);
	sql(f->s, "DELETE FROM person");
	assert_int_equal(journal_pending_touch(f->s, 1, "person", id, &mask, &ex), 0);
	assert_int_equal(ex, 1);
}

static void test_journal__pending_counts_only_unacknowledged(void **state)
{
	struct fixture *f = *state;
	uint64_t n = 0, bytes = 0;
	add_persons(f->s, 12, 10);
	assert_int_equal(journal_set_acked(f->s, 4), 0);
	assert_int_equal(journal_pending(f->s, &n, &bytes), 0);
	assert_int_equal(n, 8);
	assert_true(bytes > 8 * 20);
}

/* journal_build_batch measures and appends each entry from one encoding
 * (wire_encoded_entry_*): the writer must end with the bytes and text that encoding
 * twice (wire_entry_encoded_bytes, wire_changeset_writer_add) gave. */
static void test_journal__entries_encoded_once_give_the_same_change_set(void **state)
{
	(void)state;
	static const char name[] = "Lê Thị Hoa";
	struct field fields[] = { { .name = "full_name", .v = { .kind = VALUE_TEXT, .s = name, .len = sizeof name - 1 } },
				  { .name = "birth_year", .v = { .kind = VALUE_INT, .i = 1998 } } };
	struct wire_changeset_writer *twice = wire_changeset_writer_new(1, AGENT);
	struct wire_changeset_writer *once = wire_changeset_writer_new(1, AGENT);
	unsigned char chain[ENTRY_HASH_BYTES] = { 0 };
	assert_non_null(twice);
	assert_non_null(once);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		struct entry e = { .seq = seq, .table = "person", .id = "0190f3b2-2b3c-7d4e-9f60-718293a4b5c6",
				   .op = seq == 1 ? ENTRY_INSERT : ENTRY_UPDATE, .owner = UNIT, .clock = seq << 16,
				   .fields = fields, .nfields = seq == 1 ? 2 : 1 };
		struct wire_encoded_entry *x = NULL;
		assert_int_equal(wire_encoded_entry_new(&e, &x), 0);
		assert_int_equal(wire_encoded_entry_bytes(x), wire_entry_encoded_bytes(&e));
		assert_int_equal(wire_changeset_writer_add(twice, &e), 0);
		assert_int_equal(wire_changeset_writer_add_encoded(once, x), 0);
		assert_int_equal(wire_changeset_writer_bytes(once), wire_changeset_writer_bytes(twice));
	}
	/* a sequence that does not follow is refused, the encoding freed, the writer unchanged */
	struct entry gap = { .seq = 9, .table = "person", .id = "0190f3b2-2b3c-7d4e-9f60-718293a4b5c6",
			     .op = ENTRY_DELETE, .owner = UNIT, .clock = 9 << 16 };
	struct wire_encoded_entry *x = NULL;
	assert_int_equal(wire_encoded_entry_new(&gap, &x), 0);
	assert_int_equal(wire_changeset_writer_add_encoded(once, x), -1);
	assert_int_equal(wire_changeset_writer_count(once), 3);
	/* an entry that cannot be encoded leaves *out alone */
	struct entry bad = gap;
	bad.op = 'x';
	x = NULL;
	assert_int_equal(wire_encoded_entry_new(&bad, &x), 1);
	assert_null(x);
	char *a = wire_changeset_writer_finish(twice, chain, chain);
	char *b = wire_changeset_writer_finish(once, chain, chain);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal__reader_gives_entries_without_id_and_owner_in_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__batches_are_cut_by_bytes_and_chain_across_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__shape_2_batches_chain_the_same_in_fewer_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__rebuilding_a_batch_after_a_lost_answer_gives_the_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__one_schema_version_per_change_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__fields_read_as_json_each_reads_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__sequence_is_never_reused_after_compacting_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__too_large_and_unencodable_entries_travel_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__lowering_after_clock_ahead_goes_to_hub_time_and_spares_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__lowered_edit_stays_above_its_rows_acknowledged_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__lowered_delete_stays_above_its_rows_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__lowered_edit_stays_above_a_pulled_stamp_of_its_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__refused_again_at_its_floor_is_lowered_ignoring_floors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__compacted_entries_still_hold_their_rows_floor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__compaction_keeps_the_chain_at_the_compaction_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__pending_touch_names_fields_and_existence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal__pending_counts_only_unacknowledged, setup, teardown),
		cmocka_unit_test(test_journal__entries_encoded_once_give_the_same_change_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
