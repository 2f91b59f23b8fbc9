/*
 * journal.c — lk_journal as a stream of entries for the sync engine (see journal.h).
 *
 * Fields are stored as a JSON object (written by the journaling triggers); they are
 * read back one entry at a time, so this file needs no JSON library and holds one
 * entry at a time. What json_object() writes for our values — string keys and
 * values without escapes, plain integers, true/false/null, no whitespace — is read
 * directly (read_plain_fields); anything else (escapes, reals, nesting, a hand-made
 * row) goes through SQLite's json_each(), which is the reference: the direct reader
 * accepts only text on which the two cannot differ. Hash, chain and skip reason are written back into the
 * row while it is being read (same connection, inside one write transaction: SQLite
 * allows updating the row a statement stands on; it only leaves undefined whether the
 * statement would see changes to rows it has not reached, and we change none).
 * Owns: a reader owns its two statements and one growable arena per entry.
 */
#include "journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "schema.h"
#include "wire.h"

/* A skipped entry in a change set: [seq,null,"64 hex","unencodable"] plus a comma. */
#define JOURNAL_SKIPPED_BYTES 120

struct field_slot {
	size_t name_off;
	enum value_kind kind;
	int64_t i;
	size_t s_off, s_len;
};

struct journal_reader {
	struct store *store;
	sqlite3_stmt *rows;
	sqlite3_stmt *each;
	char *arena;
	size_t arena_len, arena_cap;
	struct field_slot *slots;
	struct field *fields;
	size_t nslots, cap_slots;
	struct journal_item item;
};

static int arena_put(struct journal_reader *r, const void *p, size_t n, size_t *off)
{
	if (r->arena_len + n + 1 > r->arena_cap) {
		size_t cap = r->arena_cap ? r->arena_cap : 1024;
		while (cap < r->arena_len + n + 1)
			cap *= 2;
		char *a = realloc(r->arena, cap);
		if (!a)
			return -1;
		r->arena = a;
		r->arena_cap = cap;
	}
	if (n)
		memcpy(r->arena + r->arena_len, p, n);
	r->arena[r->arena_len + n] = 0;
	*off = r->arena_len;
	r->arena_len += n + 1;
	return 0;
}

static int arena_put_column(struct journal_reader *r, sqlite3_stmt *st, int col, size_t *off,
			    size_t *len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	if (!t && sqlite3_column_type(st, col) != SQLITE_NULL)
		return -1; /* out of memory converting */
	if (len)
		*len = n;
	return arena_put(r, t ? (const char *)t : "", t ? n : 0, off);
}

int journal_reader_open(struct store *s, uint64_t from_seq, struct journal_reader **out)
{
	struct journal_reader *r = calloc(1, sizeof *r);
	sqlite3 *db = store_db(s);
	int rc = -1;
	if (!r)
		goto out;
	r->store = s;
	if (sqlite3_prepare_v2(db,
			       "SELECT seq, tbl, row_id, op, owner, fields, clock, schema_version,"
			       " hash, chain, skipped, recorded_ms FROM lk_journal WHERE seq >= ?"
			       " ORDER BY seq",
			       -1, &r->rows, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT key, value, type FROM json_each(?1)"
				   " WHERE json_type(?1) = 'object'",
			       -1, &r->each, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(r->rows, 1, (sqlite3_int64)(from_seq > INT64_MAX ? INT64_MAX : from_seq));
	*out = r;
	r = NULL;
	rc = 0;
out:
	journal_reader_free(r);
	return rc;
}

void journal_reader_free(struct journal_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->rows);
	sqlite3_finalize(r->each);
	free(r->arena);
	free(r->slots);
	free(r->fields);
	free(r);
}

static int slot_push(struct journal_reader *r, struct field_slot **slot)
{
	if (r->nslots == r->cap_slots) {
		size_t cap = r->cap_slots ? r->cap_slots * 2 : 16;
		struct field_slot *ns = realloc(r->slots, cap * sizeof *ns);
		if (!ns)
			return -1;
		r->slots = ns;
		struct field *nf = realloc(r->fields, cap * sizeof *nf);
		if (!nf)
			return -1;
		r->fields = nf;
		r->cap_slots = cap;
	}
	*slot = &r->slots[r->nslots++];
	memset(*slot, 0, sizeof **slot);
	return 0;
}

/* A JSON string at *p with no escape and no control character: sets its bytes
 * (between the quotes) and moves *p past it. 0, or 1 for anything else. */
static int plain_string(const char **p, const char *end, const char **s, size_t *len)
{
	const char *q = *p;
	if (q >= end || *q != '"')
		return 1;
	const char *start = ++q;
	while (q < end && *q != '"') {
		if (*q == '\\' || (unsigned char)*q < 0x20)
			return 1;
		q++;
	}
	if (q >= end)
		return 1;
	*s = start;
	*len = (size_t)(q - start);
	*p = q + 1;
	return 0;
}

/* Up to this many digits an integer fits int64_t whatever they are. */
#define JOURNAL_PLAIN_INT_DIGITS 18

/* The direct reader of read_fields: json of the shape {"k":v,...} with v a plain
 * string, an integer of at most JOURNAL_PLAIN_INT_DIGITS digits (no leading zero,
 * no fraction or exponent), true, false or null, and no whitespace anywhere: fills
 * slots exactly as json_each() would. 0 when read, 1 when json is of another shape
 * (nothing kept: the caller resets the slots and asks json_each), -1 on allocation. */
static int read_plain_fields(struct journal_reader *r, const char *json, size_t json_len)
{
	const char *p = json, *end = json + json_len;
	if (p >= end || *p++ != '{')
		return 1;
	if (p < end && *p == '}')
		return p + 1 == end ? 0 : 1;
	for (;;) {
		const char *key, *sv = NULL;
		size_t klen, slen = 0;
		struct field_slot tmp = { 0 };
		if (plain_string(&p, end, &key, &klen) != 0 || p >= end || *p++ != ':' || p >= end)
			return 1;
		if (*p == '"') {
			if (plain_string(&p, end, &sv, &slen) != 0)
				return 1;
			tmp.kind = VALUE_TEXT;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			int neg = *p == '-';
			const char *d = p + neg;
			int64_t v = 0;
			size_t n = 0;
			/* digits past JOURNAL_PLAIN_INT_DIGITS are counted, not added: v never
			 * overflows, and such a number goes to json_each below */
			while (d + n < end && d[n] >= '0' && d[n] <= '9') {
				if (n < JOURNAL_PLAIN_INT_DIGITS)
					v = v * 10 + (d[n] - '0');
				n++;
			}
			if (n == 0 || n > JOURNAL_PLAIN_INT_DIGITS || (n > 1 && d[0] == '0') ||
			    (d + n < end && (d[n] == '.' || d[n] == 'e' || d[n] == 'E')))
				return 1;
			tmp.kind = VALUE_INT;
			tmp.i = neg ? -v : v;
			p = d + n;
		} else if ((size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0) {
			tmp.kind = VALUE_INT;
			tmp.i = 1;
			p += 4;
		} else if ((size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0) {
			tmp.kind = VALUE_INT;
			tmp.i = 0;
			p += 5;
		} else if ((size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0) {
			tmp.kind = VALUE_NULL;
			p += 4;
		} else {
			return 1;
		}
		/* `id` and `unit_id` travel as the entry's id and owner, never as fields. */
		int skip = (klen == 2 && memcmp(key, "id", 2) == 0) ||
			   (klen == 7 && memcmp(key, "unit_id", 7) == 0);
		if (!skip) {
			struct field_slot *f;
			if (slot_push(r, &f) != 0)
				return -1;
			*f = tmp;
			if (arena_put(r, key, klen, &f->name_off) != 0 ||
			    (tmp.kind == VALUE_TEXT && arena_put(r, sv, slen, &f->s_off) != 0))
				return -1;
			f->s_len = slen;
		}
		if (p >= end)
			return 1;
		if (*p == '}')
			return p + 1 == end ? 0 : 1;
		if (*p++ != ',')
			return 1;
	}
}

/* Reads the fields JSON into slots. Sets *encodable to 0 for JSON that is not an object
 * of canonical values; such values are kept as their JSON text so the entry still has
 * a deterministic hash. 0 or -1 (allocation). */
static int read_fields(struct journal_reader *r, const char *json, int json_len, int *encodable)
{
	int rc = -1, step;
	*encodable = 1;
	sqlite3_reset(r->each);
	sqlite3_clear_bindings(r->each);
	if (!json) {
		/* NULL fields: a delete written by hand, or a damaged row. */
		rc = 0;
		goto out;
	}
	/* The arena is rewound with the slots when the direct reader gives up. */
	size_t arena_mark = r->arena_len, slots_mark = r->nslots;
	int plain = read_plain_fields(r, json, (size_t)json_len);
	if (plain <= 0) {
		rc = plain;
		goto out;
	}
	r->arena_len = arena_mark;
	r->nslots = slots_mark;
	sqlite3_bind_text(r->each, 1, json, json_len, SQLITE_STATIC);
	int nrows = 0;
	while ((step = sqlite3_step(r->each)) == SQLITE_ROW) {
		struct field_slot *f;
		const char *type = (const char *)sqlite3_column_text(r->each, 2);
		const char *key = (const char *)sqlite3_column_text(r->each, 0);
		nrows++;
		if (!type || !key) {
			*encodable = 0;
			continue;
		}
		/* `id` and `unit_id` travel as the entry's id and owner, never as fields. */
		if (strcmp(key, "id") == 0 || strcmp(key, "unit_id") == 0)
			continue;
		if (slot_push(r, &f) != 0)
			goto out;
		if (arena_put_column(r, r->each, 0, &f->name_off, NULL) != 0)
			goto out;
		if (strcmp(type, "null") == 0) {
			f->kind = VALUE_NULL;
		} else if (strcmp(type, "integer") == 0) {
			f->kind = VALUE_INT;
			f->i = sqlite3_column_int64(r->each, 1);
		} else if (strcmp(type, "true") == 0 || strcmp(type, "false") == 0) {
			f->kind = VALUE_INT;
			f->i = type[0] == 't';
		} else if (strcmp(type, "text") == 0) {
			f->kind = VALUE_TEXT;
			if (arena_put_column(r, r->each, 1, &f->s_off, &f->s_len) != 0)
				goto out;
		} else {
			/* real, object, array: not a value of our schema. */
			*encodable = 0;
			f->kind = VALUE_TEXT;
			if (arena_put_column(r, r->each, 1, &f->s_off, &f->s_len) != 0)
				goto out;
		}
	}
	if (step != SQLITE_DONE) {
		/* Malformed JSON: hash it as an entry without fields. */
		*encodable = 0;
		r->nslots = 0;
	} else if (nrows == 0) {
		/* json_type was not 'object' (an array, a number…): unusable, unless "{}". */
		const char *p = json;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '{')
			*encodable = 0;
	}
	rc = 0;
out:
	sqlite3_reset(r->each);
	sqlite3_clear_bindings(r->each);
	return rc;
}

int journal_reader_next(struct journal_reader *r, struct journal_item **item)
{
	int step = sqlite3_step(r->rows);
	size_t off_tbl, off_id, off_owner, off_skip = 0;
	struct journal_item *it = &r->item;
	if (step == SQLITE_DONE)
		return 0;
	if (step != SQLITE_ROW)
		return -1;
	r->arena_len = 0;
	r->nslots = 0;
	memset(it, 0, sizeof *it);
	sqlite3_stmt *st = r->rows;
	it->e.seq = (uint64_t)sqlite3_column_int64(st, 0);
	if (arena_put_column(r, st, 1, &off_tbl, NULL) != 0 ||
	    arena_put_column(r, st, 2, &off_id, NULL) != 0 ||
	    arena_put_column(r, st, 4, &off_owner, NULL) != 0)
		return -1;
	const unsigned char *op = sqlite3_column_text(st, 3);
	it->e.op = op ? (char)op[0] : 0;
	it->e.clock = (uint64_t)sqlite3_column_int64(st, 6);
	it->schema = sqlite3_column_int(st, 7);
	it->recorded_ms = sqlite3_column_int64(st, 11);
	if (sqlite3_column_type(st, 8) == SQLITE_BLOB && sqlite3_column_bytes(st, 8) == ENTRY_HASH_BYTES) {
		memcpy(it->e.hash, sqlite3_column_blob(st, 8), ENTRY_HASH_BYTES);
		it->has_hash = 1;
	}
	if (sqlite3_column_type(st, 9) == SQLITE_BLOB && sqlite3_column_bytes(st, 9) == ENTRY_HASH_BYTES) {
		memcpy(it->chain, sqlite3_column_blob(st, 9), ENTRY_HASH_BYTES);
		it->has_chain = 1;
	}
	int has_skip = sqlite3_column_type(st, 10) != SQLITE_NULL;
	if (has_skip && arena_put_column(r, st, 10, &off_skip, NULL) != 0)
		return -1;
	const char *fj = (const char *)sqlite3_column_text(st, 5);
	int fl = sqlite3_column_bytes(st, 5);
	it->fields_bytes = (size_t)fl;
	if (read_fields(r, fj, fl, &it->encodable) != 0)
		return -1;
	if (it->e.op != ENTRY_INSERT && it->e.op != ENTRY_UPDATE && it->e.op != ENTRY_DELETE)
		it->encodable = 0;
	/* The arena no longer moves: hand out pointers. */
	it->e.table = r->arena + off_tbl;
	it->e.id = r->arena + off_id;
	it->e.owner = r->arena + off_owner;
	it->skipped = has_skip ? r->arena + off_skip : NULL;
	for (size_t i = 0; i < r->nslots; i++) {
		struct field_slot *sl = &r->slots[i];
		struct field *f = &r->fields[i];
		f->name = r->arena + sl->name_off;
		memset(&f->v, 0, sizeof f->v);
		f->v.kind = sl->kind;
		f->v.i = sl->i;
		if (sl->kind == VALUE_TEXT) {
			f->v.s = r->arena + sl->s_off;
			f->v.len = sl->s_len;
		}
	}
	it->e.fields = r->nslots ? r->fields : NULL;
	it->e.nfields = r->nslots;
	*item = it;
	return 1;
}

/* ---- small SQL helpers ---- */

static int exec_sql(struct store *s, const char *sql)
{
	return sqlite3_exec(store_db(s), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int query_u64(struct store *s, const char *sql, uint64_t arg, int has_arg, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (has_arg)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)arg);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = 0;
	} else if (step == SQLITE_DONE) {
		*out = 0;
		rc = 0;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

int journal_acked(struct store *s, uint64_t *acked)
{
	int64_t v;
	if (store_state_i64(s, STORE_STATE_ACKED_SEQ, &v) != 0)
		return -1;
	*acked = (uint64_t)v;
	return 0;
}

int journal_set_acked(struct store *s, uint64_t acked)
{
	return store_state_set_i64(s, STORE_STATE_ACKED_SEQ, (int64_t)acked);
}

int journal_last_seq(struct store *s, uint64_t *seq)
{
	uint64_t m = 0, c = 0;
	if (query_u64(s, "SELECT coalesce(max(seq), 0) FROM lk_journal", 0, 0, &m) != 0 ||
	    store_config_u64(s, "compacted_seq", 0, &c) != 0)
		return -1;
	*seq = m > c ? m : c;
	return 0;
}

int journal_pending(struct store *s, uint64_t *count, uint64_t *bytes)
{
	sqlite3_stmt *st = NULL;
	uint64_t acked;
	int rc = -1;
	if (journal_acked(s, &acked) != 0)
		goto out;
	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT count(*), coalesce(sum(length(fields)), 0) FROM lk_journal"
			       " WHERE seq > ?",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)acked);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*count = (uint64_t)sqlite3_column_int64(st, 0);
	if (bytes)
		*bytes = (uint64_t)sqlite3_column_int64(st, 1);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int store_hash_chain(struct store *s, sqlite3_stmt **st, uint64_t seq,
			    const unsigned char hash[ENTRY_HASH_BYTES],
			    const unsigned char chain[ENTRY_HASH_BYTES], const char *skipped)
{
	if (!*st && sqlite3_prepare_v2(store_db(s),
				       "UPDATE lk_journal SET hash = ?, chain = ?,"
				       " skipped = coalesce(skipped, ?) WHERE seq = ?",
				       -1, st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_reset(*st);
	sqlite3_bind_blob(*st, 1, hash, ENTRY_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 2, chain, ENTRY_HASH_BYTES, SQLITE_STATIC);
	if (skipped)
		sqlite3_bind_text(*st, 3, skipped, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(*st, 3);
	sqlite3_bind_int64(*st, 4, (sqlite3_int64)seq);
	return sqlite3_step(*st) == SQLITE_DONE ? 0 : -1;
}

/* The stored chain at seq without computing anything, compacted being the compaction
 * point (lk_config compacted_seq): 0 found, 1 not (yet) known, -1 on error. */
static int chain_lookup(struct store *s, uint64_t compacted, uint64_t seq,
			unsigned char out[ENTRY_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (seq == 0) {
		memset(out, 0, ENTRY_HASH_BYTES);
		rc = 0;
		goto out;
	}
	if (seq < compacted) {
		rc = 1;
		goto out;
	}
	if (seq == compacted) {
		char *hex = NULL;
		int g = store_config_get(s, "compacted_chain", &hex);
		rc = (g == 0 && hex && hex_decode(hex, out, ENTRY_HASH_BYTES) == 0) ? 0 : -1;
		free(hex);
		goto out;
	}
	if (sqlite3_prepare_v2(store_db(s), "SELECT chain FROM lk_journal WHERE seq = ?", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 0) == ENTRY_HASH_BYTES) {
		memcpy(out, sqlite3_column_blob(st, 0), ENTRY_HASH_BYTES);
		rc = 0;
	} else if (step == SQLITE_ROW || step == SQLITE_DONE) {
		rc = 1;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* Computes and stores hashes and chains of every entry up to `upto` that lacks one
 * (compacted as for chain_lookup). */
static int compute_chains(struct store *s, uint64_t compacted, uint64_t upto)
{
	struct journal_reader *r = NULL;
	struct journal_item *it;
	sqlite3_stmt *upd = NULL;
	unsigned char prev[ENTRY_HASH_BYTES];
	uint64_t start = 0;
	int rc = -1, in_tx = 0, n;

	if (query_u64(s, "SELECT coalesce(min(seq), 0) FROM lk_journal WHERE chain IS NULL", 0, 0, &start) != 0)
		goto out;
	if (start == 0 || start > upto) {
		rc = 0;
		goto out;
	}
	if (chain_lookup(s, compacted, start - 1, prev) != 0)
		goto out; /* a hole before the first unchained entry: damaged journal */
	if (exec_sql(s, "BEGIN IMMEDIATE") != 0)
		goto out;
	in_tx = 1;
	if (journal_reader_open(s, start, &r) != 0)
		goto out;
	while ((n = journal_reader_next(r, &it)) == 1 && it->e.seq <= upto) {
		unsigned char h[ENTRY_HASH_BYTES];
		if (it->has_hash)
			memcpy(h, it->e.hash, sizeof h);
		else if (entry_hash(&it->e, h) != 0)
			goto out;
		entry_chain_step(prev, h, prev);
		if (store_hash_chain(s, &upd, it->e.seq, h, prev, NULL) != 0)
			goto out;
	}
	if (n < 0)
		goto out;
	journal_reader_free(r);
	r = NULL;
	if (exec_sql(s, "COMMIT") != 0)
		goto out;
	in_tx = 0;
	rc = 0;
out:
	journal_reader_free(r);
	sqlite3_finalize(upd);
	if (in_tx)
		exec_sql(s, "ROLLBACK");
	return rc;
}

int journal_chain_at(struct store *s, uint64_t seq, unsigned char out[ENTRY_HASH_BYTES])
{
	uint64_t compacted = 0;
	if (store_config_u64(s, "compacted_seq", 0, &compacted) != 0)
		return -1;
	int rc = chain_lookup(s, compacted, seq, out);
	if (rc != 1 || seq < compacted)
		return rc;
	if (compute_chains(s, compacted, seq) != 0)
		return -1;
	return chain_lookup(s, compacted, seq, out);
}

/* lk_skipped outlives compaction, so status can still list what never travelled. */
static int record_skipped(struct store *s, uint64_t seq, const char *reason)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(store_db(s),
			       "INSERT OR IGNORE INTO lk_skipped(seq, reason, at_ms) VALUES(?, ?,"
			       " CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	return rc;
}

void journal_batch_release(struct journal_batch *b)
{
	if (!b)
		return;
	free(b->json);
	b->json = NULL;
}

int journal_build_batch(struct store *s, const char *agent_id, uint64_t from,
			const struct journal_batch_limits *lim, struct journal_batch *out,
			char *err, size_t errlen)
{
	struct journal_reader *r = NULL;
	struct journal_item *it;
	struct wire_changeset_writer *w = NULL;
	struct wire_encoded_entry *enc = NULL; /* the entry being measured */
	sqlite3_stmt *upd = NULL;
	unsigned char before[ENTRY_HASH_BYTES], prev[ENTRY_HASH_BYTES];
	struct journal_batch b = { 0 };
	int rc = -1, in_tx = 0, n, cr;
	size_t max_changes = lim->max_changes ? lim->max_changes : WIRE_MAX_CHANGES;

	if (max_changes > WIRE_MAX_CHANGES)
		max_changes = WIRE_MAX_CHANGES;
	b.schema = -1;
	if (from == 0)
		from = 1;
	cr = journal_chain_at(s, from - 1, before);
	if (cr != 0) {
		snprintf(err, errlen, "no chain known at sequence %" PRIu64 " (compacted?)", from - 1);
		goto out;
	}
	memcpy(prev, before, sizeof prev);
	if (exec_sql(s, "BEGIN IMMEDIATE") != 0) {
		snprintf(err, errlen, "cannot lock the journal: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	in_tx = 1;
	if (journal_reader_open(s, from, &r) != 0) {
		snprintf(err, errlen, "cannot read the journal: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	while ((n = journal_reader_next(r, &it)) == 1) {
		unsigned char h[ENTRY_HASH_BYTES];
		const char *reason = it->skipped;
		const char *new_reason = NULL;
		size_t size = 0;

		if (it->e.seq != from + b.count)
			break; /* a hole: cannot happen with AUTOINCREMENT; send what is contiguous */
		if (b.schema < 0) {
			b.schema = it->schema;
			w = wire_changeset_writer_new_v(b.schema, agent_id, lim->changes_v);
			if (!w) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		} else if (it->schema != b.schema) {
			break; /* one schema version per change set */
		}
		if (b.count >= max_changes)
			break;
		if (it->has_hash)
			memcpy(h, it->e.hash, sizeof h);
		else if (entry_hash(&it->e, h) != 0) {
			snprintf(err, errlen, "out of memory hashing entry %" PRIu64, it->e.seq);
			goto out;
		}
		if (!reason && !it->encodable)
			reason = new_reason = "unencodable";
		/* Encoded once: measured for the cut, then appended. */
		int enc_rc = 0;
		if (!reason) {
			enc_rc = wire_encoded_entry_new(&it->e, &enc);
			size = enc_rc == 0 ? wire_encoded_entry_bytes(enc) : 0;
			if (size + JOURNAL_ENVELOPE_BYTES > lim->entry_max_bytes)
				reason = new_reason = "too_large";
		}
		if (!reason && enc_rc == 0 && wire_changeset_writer_version(w) != WIRE_CHANGES_V1) {
			/* the shape's own bytes decide the cut; the entry is encoded in it */
			wire_encoded_entry_free(enc);
			enc = NULL;
			size_t room = lim->batch_bytes > JOURNAL_ENVELOPE_BYTES
					      ? lim->batch_bytes - JOURNAL_ENVELOPE_BYTES : 0;
			int a = wire_changeset_writer_add_within(w, &it->e, b.count > 0 ? room : SIZE_MAX);
			if (a == 2)
				break;
			if (a < 0) {
				snprintf(err, errlen, "out of memory encoding entry %" PRIu64, it->e.seq);
				goto out;
			}
			if (a == 1)
				reason = new_reason = "unencodable";
		} else if (!reason) {
			if (b.count > 0 && wire_changeset_writer_bytes(w) + size +
						   JOURNAL_ENVELOPE_BYTES > lim->batch_bytes)
				break;
			if (enc_rc == 1) {
				reason = new_reason = "unencodable";
			} else {
				int a = enc_rc < 0 ? -1 : wire_changeset_writer_add_encoded(w, enc);
				enc = NULL; /* taken by add_encoded */
				if (a < 0) {
					snprintf(err, errlen, "out of memory encoding entry %" PRIu64, it->e.seq);
					goto out;
				}
			}
		}
		wire_encoded_entry_free(enc); /* too large to send */
		enc = NULL;
		if (reason) {
			struct entry se;
			if (b.count > 0 && wire_changeset_writer_bytes(w) + JOURNAL_SKIPPED_BYTES +
						   JOURNAL_ENVELOPE_BYTES > lim->batch_bytes)
				break;
			memset(&se, 0, sizeof se);
			se.seq = it->e.seq;
			se.skipped = 1;
			memcpy(se.hash, h, sizeof h);
			se.reason = reason;
			if (wire_changeset_writer_add(w, &se) != 0) {
				snprintf(err, errlen, "cannot encode skipped entry %" PRIu64, it->e.seq);
				goto out;
			}
			b.nskipped++;
		}
		entry_chain_step(prev, h, prev);
		if ((!it->has_hash || !it->has_chain || new_reason) &&
		    store_hash_chain(s, &upd, it->e.seq, h, prev, new_reason) != 0) {
			snprintf(err, errlen, "cannot store chain: %s", sqlite3_errmsg(store_db(s)));
			goto out;
		}
		if (new_reason && record_skipped(s, it->e.seq, new_reason) != 0) {
			snprintf(err, errlen, "cannot record skipped entry: %s", sqlite3_errmsg(store_db(s)));
			goto out;
		}
		b.entry_bytes += it->fields_bytes;
		b.count++;
		b.to = it->e.seq;
	}
	if (n < 0) {
		snprintf(err, errlen, "cannot read the journal: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	journal_reader_free(r);
	r = NULL;
	sqlite3_finalize(upd);
	upd = NULL;
	if (exec_sql(s, "COMMIT") != 0) {
		snprintf(err, errlen, "cannot store chains: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	in_tx = 0;
	if (b.count == 0) {
		rc = 1;
		goto out;
	}
	b.from = from;
	b.json = wire_changeset_writer_finish(w, before, prev);
	w = NULL; /* freed by finish in every case */
	if (!b.json) {
		snprintf(err, errlen, "out of memory finishing change set");
		goto out;
	}
	b.json_len = strlen(b.json);
	*out = b;
	b.json = NULL;
	rc = 0;
out:
	wire_encoded_entry_free(enc);
	journal_reader_free(r);
	sqlite3_finalize(upd);
	wire_changeset_writer_free(w);
	if (in_tx)
		exec_sql(s, "ROLLBACK");
	free(b.json);
	return rc;
}

/* One pass of lowering over the unacknowledged entries, in sequence order (PROTOCOL.md
 * §4): c'(k) = hlc_lower_one(c(k), F(k), limit), F(k) the entry's effective floor: the
 * clocks of the earlier entries of its row still in the journal (as lowered: they come
 * first) and, unless `ignore_floors`, its recorded floor. Ignoring floors, only the
 * earlier unacknowledged entries of the row count (the hub refused what the rest stands
 * for). Adds the entries changed to *changed; *watch_changed says whether entry
 * watch_seq was. Inside the caller's transaction. 0 or -1. */
static int lower_pass(struct store *s, uint64_t acked, uint64_t limit, int ignore_floors,
		      uint64_t watch_seq, int64_t *changed, int *watch_changed)
{
	sqlite3_stmt *rd = NULL, *dyn = NULL, *upd = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(store_db(s),
			       "SELECT seq, tbl, row_id, clock, row_floor FROM lk_journal WHERE seq > ?"
			       " ORDER BY seq",
			       -1, &rd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(store_db(s),
			       "SELECT coalesce(max(clock), 0) FROM lk_journal WHERE tbl = ?1 AND row_id = ?2"
			       " AND seq < ?3 AND seq > ?4",
			       -1, &dyn, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(store_db(s), "UPDATE lk_journal SET clock = ? WHERE seq = ?", -1,
			       &upd, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(rd, 1, (sqlite3_int64)acked);
	while ((step = sqlite3_step(rd)) == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(rd, 0);
		uint64_t c = (uint64_t)sqlite3_column_int64(rd, 3);
		uint64_t f = ignore_floors ? 0 : (uint64_t)sqlite3_column_int64(rd, 4);
		sqlite3_reset(dyn);
		sqlite3_bind_value(dyn, 1, sqlite3_column_value(rd, 1));
		sqlite3_bind_value(dyn, 2, sqlite3_column_value(rd, 2));
		sqlite3_bind_int64(dyn, 3, seq);
		sqlite3_bind_int64(dyn, 4, ignore_floors ? (sqlite3_int64)acked : -1);
		if (sqlite3_step(dyn) != SQLITE_ROW)
			goto out;
		uint64_t earlier = (uint64_t)sqlite3_column_int64(dyn, 0);
		if (earlier > f)
			f = earlier;
		uint64_t lowered = hlc_lower_one(c, f, limit);
		if (lowered == c)
			continue;
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, (sqlite3_int64)lowered);
		sqlite3_bind_int64(upd, 2, seq);
		if (sqlite3_step(upd) != SQLITE_DONE)
			goto out;
		(*changed)++;
		if ((uint64_t)seq == watch_seq)
			*watch_changed = 1;
	}
	rc = step == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(rd);
	sqlite3_finalize(dyn);
	sqlite3_finalize(upd);
	return rc;
}

int64_t journal_lower_clocks(struct store *s, int64_t hub_time_ms, uint64_t refused_seq)
{
	uint64_t acked, limit = hlc_from_ms(hub_time_ms), top = 0, seen = 0;
	int64_t changed = 0, rc = -1, last_i = 0;
	int in_tx = 0, watch_changed = 0;

	if (exec_sql(s, "BEGIN IMMEDIATE") != 0)
		goto out;
	in_tx = 1;
	if (journal_acked(s, &acked) != 0)
		goto out;
	if (lower_pass(s, acked, limit, 0, refused_seq, &changed, &watch_changed) != 0)
		goto out;
	/* The refused entry was already at its floor, or nothing could be lowered: the hub
	 * does not hold what the floors stand for (PROTOCOL.md §4, never locked out). */
	if ((refused_seq > acked && !watch_changed) || changed == 0) {
		if (lower_pass(s, acked, limit, 1, refused_seq, &changed, &watch_changed) != 0)
			goto out;
	}
	/* `last` goes down to the hub's time too, never below a clock written (the
	 * journal) or received (lk_row_clock): a later entry must follow every one of them. */
	if (store_state_i64(s, STORE_STATE_LAST_CLOCK, &last_i) != 0 ||
	    query_u64(s, "SELECT coalesce(max(clock), 0) FROM lk_journal", 0, 0, &top) != 0 ||
	    query_u64(s, "SELECT coalesce(max(clock), 0) FROM lk_row_clock", 0, 0, &seen) != 0)
		goto out;
	uint64_t new_last = (uint64_t)last_i < limit ? (uint64_t)last_i : limit;
	if (new_last < top)
		new_last = top;
	if (new_last < seen)
		new_last = seen;
	if (store_state_set_i64(s, STORE_STATE_LAST_CLOCK, (int64_t)new_last) != 0)
		goto out;
	if (exec_sql(s, "COMMIT") != 0)
		goto out;
	in_tx = 0;
	rc = changed;
out:
	if (in_tx)
		exec_sql(s, "ROLLBACK");
	return rc;
}

int journal_row_seen(struct store *s, const char *table, const char *id, uint64_t clock)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (clock == 0)
		return 0;
	if (clock > (uint64_t)INT64_MAX)
		clock = (uint64_t)INT64_MAX;
	if (store_stmt_take(s,
			    "INSERT INTO lk_row_clock(tbl, row_id, clock) VALUES(?1, ?2, ?3)"
			    " ON CONFLICT(tbl, row_id) DO UPDATE SET clock = excluded.clock"
			    " WHERE excluded.clock > clock",
			    &st) != 0)
		goto out;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)clock);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	store_stmt_give(s, st);
	return rc;
}

int journal_keep_floors(struct store *s, uint64_t upto)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	/* Later entries of those rows, and entries written later, must still follow them. */
	static const char *const sql[] = {
		"INSERT INTO lk_row_clock(tbl, row_id, clock) SELECT tbl, row_id, max(clock)"
		" FROM lk_journal WHERE seq <= ?1 GROUP BY tbl, row_id"
		" ON CONFLICT(tbl, row_id) DO UPDATE SET clock = excluded.clock"
		" WHERE excluded.clock > clock",
		"UPDATE lk_journal SET row_floor = max(row_floor, coalesce((SELECT max(c.clock)"
		" FROM lk_journal AS c WHERE c.tbl = lk_journal.tbl AND c.row_id = lk_journal.row_id"
		" AND c.seq <= ?1), 0)) WHERE seq > ?1",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		if (sqlite3_prepare_v2(store_db(s), sql[i], -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(upto > INT64_MAX ? INT64_MAX : upto));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int journal_compact(struct store *s, uint64_t upto)
{
	unsigned char chain[ENTRY_HASH_BYTES];
	char hex[ENTRY_HASH_HEX + 1];
	uint64_t compacted = 0, acked = 0;
	sqlite3_stmt *del = NULL;
	int rc = -1, in_tx = 0;

	if (store_config_u64(s, "compacted_seq", 0, &compacted) != 0 || journal_acked(s, &acked) != 0)
		goto out;
	if (upto > acked)
		upto = acked;
	if (upto <= compacted) {
		rc = 0;
		goto out;
	}
	int cr = journal_chain_at(s, upto, chain);
	if (cr != 0) {
		rc = cr < 0 ? -1 : 0; /* unknown chain: keep the entries */
		goto out;
	}
	hex_encode(chain, sizeof chain, hex);
	if (exec_sql(s, "BEGIN IMMEDIATE") != 0)
		goto out;
	in_tx = 1;
	if (store_config_set(s, "compacted_chain", hex) != 0 || store_config_set_u64(s, "compacted_seq", upto) != 0 ||
	    journal_keep_floors(s, upto) != 0)
		goto out;
	if (sqlite3_prepare_v2(store_db(s), "DELETE FROM lk_journal WHERE seq <= ?", -1, &del,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(del, 1, (sqlite3_int64)upto);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto out;
	if (exec_sql(s, "COMMIT") != 0)
		goto out;
	in_tx = 0;
	rc = 0;
out:
	sqlite3_finalize(del);
	if (in_tx)
		exec_sql(s, "ROLLBACK");
	return rc;
}

int journal_fast_forward(struct store *s, uint64_t seq, const unsigned char chain[ENTRY_HASH_BYTES])
{
	char hex[ENTRY_HASH_HEX + 1];
	sqlite3_stmt *st = NULL;
	int rc = -1, in_tx = 0;
	static const char *const seq_sql[] = {
		"UPDATE main.sqlite_sequence SET seq = ?1 WHERE name = 'lk_journal' AND seq < ?1",
		"INSERT INTO main.sqlite_sequence(name, seq) SELECT 'lk_journal', ?1"
		" WHERE NOT EXISTS (SELECT 1 FROM main.sqlite_sequence WHERE name = 'lk_journal')",
	};

	hex_encode(chain, ENTRY_HASH_BYTES, hex);
	if (exec_sql(s, "BEGIN IMMEDIATE") != 0)
		goto out;
	in_tx = 1;
	for (size_t i = 0; i < sizeof seq_sql / sizeof seq_sql[0]; i++) {
		if (sqlite3_prepare_v2(store_db(s), seq_sql[i], -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (store_config_set_u64(s, "compacted_seq", seq) != 0 || store_config_set(s, "compacted_chain", hex) != 0 ||
	    store_config_set(s, "pull_cursor", "0") != 0 || journal_set_acked(s, seq) != 0)
		goto out;
	if (exec_sql(s, "COMMIT") != 0)
		goto out;
	in_tx = 0;
	rc = 0;
out:
	sqlite3_finalize(st);
	if (in_tx)
		exec_sql(s, "ROLLBACK");
	return rc;
}

int journal_pending_touch(struct store *s, uint64_t acked, const char *table, const char *id,
			  uint64_t *mask, int *existence)
{
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	uint64_t m = 0;
	int ex = 0;

	if (store_stmt_take(s,
			    "SELECT j.op, e.key FROM lk_journal AS j LEFT JOIN json_each("
			    "CASE WHEN json_valid(j.fields) THEN j.fields ELSE '{}' END) AS e"
			    " WHERE j.seq > ?1 AND j.tbl = ?2 AND j.row_id = ?3",
			    &st) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)acked);
	sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(st, 0);
		const char *key = (const char *)sqlite3_column_text(st, 1);
		if (op && (op[0] == ENTRY_INSERT || op[0] == ENTRY_DELETE)) {
			ex = 1;
			if (op[0] == ENTRY_INSERT)
				m = ~(uint64_t)0;
		}
		if (key && t) {
			const struct schema_column *c = schema_column_find(t, key, SCHEMA_VERSION);
			size_t i = c ? schema_column_index(t, c) : 64;
			if (i < 64)
				m |= (uint64_t)1 << i;
		}
	}
	if (step != SQLITE_DONE)
		goto out;
	*mask = m;
	*existence = ex;
	rc = 0;
out:
	store_stmt_give(s, st);
	return rc;
}

int journal_quarantine_add(struct store *s, uint64_t seq, const char *code, const char *table,
			   const char *id, const char *field, const char *message, int64_t at_ms)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(store_db(s),
			       "INSERT INTO lk_quarantine(seq, code, tbl, row_id, field, message, at_ms)"
			       " VALUES(?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, field, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, at_ms);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	return rc;
}
