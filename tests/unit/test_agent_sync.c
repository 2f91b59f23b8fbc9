/*
 * test_agent_sync.c — the sync engine (agent/sync.h) against a fake hub behind the
 * transport interface: batching by bytes, resumption after a cut, a lost answer not
 * applied twice, clock lowering after clock_ahead, skipped entries, the pull merge (a
 * local edit not yet acknowledged survives; a lost race comes back right after ack),
 * a restored hub, a restored laptop (fork) and recover, exit codes; and the curl
 * transport's refusals (plain http off loopback, loopback detection).
 *
 * The fake hub speaks the real wire format (protocol/wire.h, zio.h) and keeps, per
 * agent, its acked sequence and the chain at every sequence, and one merged row set
 * with per-field [value, clock, writer] merged last-writer-wins (PROTOCOL.md §4). Each
 * write to a row bumps the row's version; a pull returns rows by version. It is small
 * on purpose: the real hub has its own tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "hlc.h"
#include "journal.h"
#include "msg.h"
#include "rm_tree.h"
#include "schema.h"
#include "store.h"
#include "sync.h"
#include "synclock_posix.h"
#include "transport.h"
#include "wire.h"
#include "zio.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define HUB_ID_1 "0190f3a0-0000-7000-8000-000000000001"
#define HUB_ID_2 "0190f3a0-0000-7000-8000-000000000002"
#define OTHER_LAPTOP "ffffffff-0000-7000-8000-0000000000ff"

#define FAKE_MAX_SEQ 2048
#define FAKE_MAX_ROWS 1024
#define FAKE_MAX_FIELDS 12
#define FAKE_MAX_AGENTS 4

/* ------------------------------------------------------------------ fake hub */

struct fake_field {
	char name[40];
	struct value v;
	char *text; /* owned copy for VALUE_TEXT */
	uint64_t clock;
	char writer[37];
};

struct fake_row {
	char table[40], id[37], owner[37];
	uint64_t ins_clock, del_clock;
	char ins_w[37], del_w[37];
	struct fake_field f[FAKE_MAX_FIELDS];
	size_t nf;
	uint64_t version;
};

struct fake_agent {
	char id[37];
	uint64_t acked;
	unsigned char chains[FAKE_MAX_SEQ + 1][32];
	int retired;
};

struct fake_hub {
	struct transport base;
	char hub_id[37];
	int64_t hub_time; /* 0: real time */
	uint64_t backup_seq;
	struct fake_agent agents[FAKE_MAX_AGENTS];
	size_t nagents;
	struct fake_row *rows;
	size_t nrows;
	uint64_t version;
	/* behaviour */
	int down;                 /* every request: unreachable */
	int changes_until_down;   /* >0: after this many accepted change sets, go down */
	int lose_next_answer;     /* apply the next change set, then fail the transport */
	int refuse_schema_above;  /* >0: 422 schema_newer for change sets of a higher schema */
	int status_override;      /* e.g. 401 for every request */
	int bump_only_on_change;  /* like a hub that does not re-send a row a losing write left unchanged */
	uint64_t quarantine_seq;  /* report this seq quarantined (bad_range, birth_year) */
	int latency_ms;           /* every exchange waits this long first: a slow link's round trip */
	size_t max_json_bytes;    /* >0: 413 too_large for a change set longer than this */
	uint64_t held_full_from;  /* >0: 429 held_full for a change set reaching this seq */
	int old_dup_acked;        /* answer a duplicate with all the hub holds (hubs before issue 18) */
	int stale_hello;          /* hello answers stale_hello_acked (an answer older than an ack) */
	int changes_v;            /* the hello answer's changes_v (0: 1) */
	int old_hello;            /* the hello answer without changes_v, as a hub of protocol 1 */
	int refuse_shape2;        /* 400 protocol_version for change sets of shape 2 (an older hub) */
	uint64_t stale_hello_acked;
	/* observations */
	size_t nchangesets, max_changeset_bytes, entries_received, entries_applied_twice;
	size_t clock_ahead_refusals, skipped_received, too_large_refusals;
	size_t sets_of_shape[3];  /* change sets received by shape (1, 2) */
	uint64_t last_pull_cursor_asked;
	int pulled_from_zero;
	uint64_t max_clock_seen;
};

static int64_t fake_now(struct fake_hub *h)
{
	return h->hub_time ? h->hub_time : sync_wall_ms();
}

static struct fake_agent *fake_agent(struct fake_hub *h, const char *id)
{
	for (size_t i = 0; i < h->nagents; i++)
		if (strcmp(h->agents[i].id, id) == 0)
			return &h->agents[i];
	if (h->nagents == FAKE_MAX_AGENTS)
		return NULL;
	struct fake_agent *a = &h->agents[h->nagents++];
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s", id);
	return a;
}

static struct fake_row *fake_row(struct fake_hub *h, const char *table, const char *id, int create)
{
	for (size_t i = 0; i < h->nrows; i++)
		if (strcmp(h->rows[i].table, table) == 0 && strcmp(h->rows[i].id, id) == 0)
			return &h->rows[i];
	if (!create || h->nrows == FAKE_MAX_ROWS)
		return NULL;
	struct fake_row *r = &h->rows[h->nrows++];
	memset(r, 0, sizeof *r);
	snprintf(r->table, sizeof r->table, "%s", table);
	snprintf(r->id, sizeof r->id, "%s", id);
	return r;
}

static int wins(uint64_t c, const char *w, uint64_t oc, const char *ow)
{
	return hlc_order(c, w, oc, ow[0] ? ow : NULL) > 0;
}

static int fake_set_field(struct fake_row *r, const char *name, const struct value *v, uint64_t clock,
			  const char *writer)
{
	struct fake_field *f = NULL;
	for (size_t i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].name, name) == 0)
			f = &r->f[i];
	if (!f) {
		assert_true(r->nf < FAKE_MAX_FIELDS);
		f = &r->f[r->nf++];
		memset(f, 0, sizeof *f);
		snprintf(f->name, sizeof f->name, "%s", name);
	} else if (!wins(clock, writer, f->clock, f->writer)) {
		return 0;
	}
	free(f->text);
	f->text = NULL;
	f->v = *v;
	if (v->kind == VALUE_TEXT) {
		f->text = strndup(v->s, v->len);
		f->v.s = f->text;
	}
	f->clock = clock;
	snprintf(f->writer, sizeof f->writer, "%s", writer);
	return 1;
}

/* Merges one entry (any writer) and bumps the row's version even when it loses, so its
 * writer hears the verdict by pull. */
static void fake_merge(struct fake_hub *h, const struct entry *e, const char *writer)
{
	struct fake_row *r = fake_row(h, e->table, e->id, 1);
	int changed = 0;
	assert_non_null(r);
	snprintf(r->owner, sizeof r->owner, "%s", e->owner);
	if (e->op == 'i' && wins(e->clock, writer, r->ins_clock, r->ins_w)) {
		r->ins_clock = e->clock;
		snprintf(r->ins_w, sizeof r->ins_w, "%s", writer);
		changed = 1;
	}
	if (e->op == 'd' && wins(e->clock, writer, r->del_clock, r->del_w)) {
		r->del_clock = e->clock;
		snprintf(r->del_w, sizeof r->del_w, "%s", writer);
		changed = 1;
	}
	for (size_t i = 0; i < e->nfields; i++)
		changed |= fake_set_field(r, e->fields[i].name, &e->fields[i].v, e->clock, writer);
	if (changed || !h->bump_only_on_change)
		r->version = ++h->version;
}

static void fake_respond(struct transport_response *resp, int status, const char *json, int deflate)
{
	resp->status = status;
	if (deflate) {
		unsigned char *z = NULL;
		size_t zl = 0;
		assert_int_equal(zio_deflate(json, strlen(json), 6, &z, &zl), ZIO_OK);
		resp->body = z;
		resp->len = zl;
		resp->deflated = 1;
	} else {
		resp->body = (unsigned char *)strdup(json);
		resp->len = strlen(json);
		resp->deflated = 0;
	}
}

static void fake_error(struct fake_hub *h, struct transport_response *resp, int status,
		       const char *code, uint64_t expected, int hub_schema)
{
	struct wire_error_answer e;
	memset(&e, 0, sizeof e);
	e.hub_time = fake_now(h);
	snprintf(e.code, sizeof e.code, "%s", code);
	snprintf(e.message, sizeof e.message, "fake hub: %s", code);
	e.expected = expected;
	e.hub_schema = hub_schema;
	char *json = wire_error_answer_encode(&e);
	assert_non_null(json);
	fake_respond(resp, status, json, 0);
	free(json);
}

static void fake_checksum(struct fake_hub *h, const char *unit, char out[CHECKSUM_TEXT_MAX])
{
	struct checksum c = { 0, 0 };
	for (size_t i = 0; i < h->nrows; i++) {
		struct fake_row *r = &h->rows[i];
		struct field fs[FAKE_MAX_FIELDS + 1];
		uint64_t d;
		int exists = r->ins_w[0] && (!r->del_w[0] ||
					     hlc_order(r->ins_clock, r->ins_w, r->del_clock, r->del_w) > 0);
		if (!exists || strcmp(r->owner, unit) != 0)
			continue;
		fs[0].name = "unit_id";
		memset(&fs[0].v, 0, sizeof fs[0].v);
		fs[0].v.kind = VALUE_TEXT;
		fs[0].v.s = r->owner;
		fs[0].v.len = strlen(r->owner);
		for (size_t k = 0; k < r->nf; k++) {
			fs[k + 1].name = r->f[k].name;
			fs[k + 1].v = r->f[k].v;
		}
		assert_int_equal(entry_row_digest(r->table, r->id, fs, r->nf + 1, &d), 0);
		checksum_add(&c, d);
	}
	checksum_format(&c, out);
}

static void fake_hello(struct fake_hub *h, const char *body, size_t len, struct transport_response *resp)
{
	struct wire_hello hello;
	struct wire_status ws;
	struct wire_hello_answer a;
	struct wire_checksum_item item;
	assert_int_equal(wire_hello_decode(body, len, &hello, &ws), 0);
	struct fake_agent *ag = fake_agent(h, hello.agent);
	assert_non_null(ag);
	memset(&a, 0, sizeof a);
	a.v = 1;
	a.schema = 1;
	a.hub_time = fake_now(h);
	snprintf(a.hub_id, sizeof a.hub_id, "%s", h->hub_id);
	snprintf(a.unit, sizeof a.unit, "%s", UNIT);
	a.acked = h->stale_hello ? h->stale_hello_acked : ag->acked;
	hex_encode(ag->chains[a.acked], 32, a.chain);
	a.backup_seq = h->backup_seq < ag->acked ? h->backup_seq : ag->acked;
	a.max_body_bytes = WIRE_MAX_BODY_BYTES;
	a.max_inflated_bytes = WIRE_MAX_INFLATED_BYTES;
	a.max_changes = WIRE_MAX_CHANGES;
	a.max_ahead_ms = HLC_MAX_AHEAD_MS;
	a.pull_page_rows = 50; /* small pages: exercise `more` */
	snprintf(item.unit, sizeof item.unit, "%s", UNIT);
	fake_checksum(h, UNIT, item.value);
	a.checksums = &item;
	a.nchecksums = 1;
	a.retired = ag->retired;
	a.changes_v = h->changes_v;
	char *json = wire_hello_answer_encode(&a);
	assert_non_null(json);
	if (h->old_hello) { /* a hub of protocol 1 does not know the member */
		char *m = strstr(json, ",\"changes_v\":1");
		assert_non_null(m);
		memmove(m, m + strlen(",\"changes_v\":1"), strlen(m + strlen(",\"changes_v\":1")) + 1);
	}
	fake_respond(resp, 200, json, 1);
	free(json);
}

/* 1 when the transport must fail after applying (lost answer). */
static int fake_changes(struct fake_hub *h, const char *body, size_t len, struct transport_response *resp)
{
	struct wire_changeset *cs = NULL;
	struct wire_status ws;
	int lose = 0;
	assert_int_equal(wire_changeset_decode(body, len, &cs, &ws), 0);
	struct fake_agent *ag = fake_agent(h, cs->agent);
	assert_non_null(ag);
	h->nchangesets++;
	if (len > h->max_changeset_bytes)
		h->max_changeset_bytes = len;
	assert_true(cs->v == 1 || cs->v == 2);
	h->sets_of_shape[cs->v]++;
	if (h->refuse_shape2 && cs->v == 2) {
		fake_error(h, resp, 400, "protocol_version", 0, 0);
		goto out;
	}
	if (ag->retired) {
		fake_error(h, resp, 403, "agent_retired", 0, 0);
		goto out;
	}
	if (h->max_json_bytes && len > h->max_json_bytes) {
		h->too_large_refusals++;
		fake_error(h, resp, 413, "too_large", 0, 0);
		goto out;
	}
	if (h->held_full_from && cs->to >= h->held_full_from) {
		fake_error(h, resp, 429, "held_full", 0, 0);
		goto out;
	}
	if (h->refuse_schema_above && cs->schema > h->refuse_schema_above) {
		fake_error(h, resp, 422, "schema_newer", 0, h->refuse_schema_above);
		goto out;
	}
	if (cs->from > ag->acked + 1) {
		fake_error(h, resp, 409, "gap", ag->acked + 1, 0);
		goto out;
	}
	assert_true(cs->to <= FAKE_MAX_SEQ);
	/* the chain through the overlap and at from - 1 must be the hub's */
	unsigned char c[32];
	memcpy(c, cs->chain_before, 32);
	if (memcmp(ag->chains[cs->from - 1], c, 32) != 0) {
		fake_error(h, resp, 409, "fork", 0, 0); /* where it starts: unknown */
		goto out;
	}
	for (size_t i = 0; i < cs->nentries; i++) {
		const struct entry *e = &cs->entries[i];
		if (!e->skipped && hlc_too_far_ahead(e->clock, fake_now(h), HLC_MAX_AHEAD_MS)) {
			h->clock_ahead_refusals++;
			fake_error(h, resp, 422, "clock_ahead", 0, 0);
			goto out;
		}
	}
	for (size_t i = 0; i < cs->nentries; i++) {
		const struct entry *e = &cs->entries[i];
		unsigned char hh[32];
		assert_int_equal(entry_hash(e, hh), 0);
		entry_chain_step(c, hh, c);
		if (e->seq <= ag->acked) {
			if (memcmp(ag->chains[e->seq], c, 32) != 0) {
				fake_error(h, resp, 409, "fork", e->seq, 0); /* the first that differs */
				goto out;
			}
			continue;
		}
		memcpy(ag->chains[e->seq], c, 32);
		h->entries_received++;
		if (e->skipped) {
			h->skipped_received++;
			continue;
		}
		if (e->clock > h->max_clock_seen)
			h->max_clock_seen = e->clock;
		fake_merge(h, e, cs->agent);
	}
	assert_memory_equal(c, cs->chain_after, 32);
	if (cs->to > ag->acked)
		ag->acked = cs->to;
	{
		struct wire_changes_answer a;
		struct wire_quarantine q;
		memset(&a, 0, sizeof a);
		memset(&q, 0, sizeof q);
		a.v = 1;
		a.hub_time = fake_now(h);
		a.acked = h->old_dup_acked ? ag->acked : cs->to; /* PROTOCOL.md §6.2 */
		a.applied = (int64_t)cs->nentries;
		if (h->quarantine_seq >= cs->from && h->quarantine_seq <= cs->to) {
			q.seq = h->quarantine_seq;
			snprintf(q.code, sizeof q.code, "bad_range");
			snprintf(q.table, sizeof q.table, "person");
			snprintf(q.id, sizeof q.id, "%s", cs->entries[q.seq - cs->from].id ? cs->entries[q.seq - cs->from].id : "");
			snprintf(q.field, sizeof q.field, "birth_year");
			snprintf(q.message, sizeof q.message, "birth_year: out of range");
			a.quarantined = &q;
			a.nquarantined = 1;
		}
		char *json = wire_changes_answer_encode(&a);
		assert_non_null(json);
		fake_respond(resp, 200, json, 1);
		free(json);
	}
	if (h->lose_next_answer) {
		h->lose_next_answer = 0;
		lose = 1;
	}
	if (h->changes_until_down > 0 && --h->changes_until_down == 0)
		h->down = 1;
out:
	wire_changeset_free(cs);
	return lose;
}

static int cmp_version(const void *a, const void *b)
{
	const struct fake_row *x = *(const struct fake_row *const *)a, *y = *(const struct fake_row *const *)b;
	return x->version < y->version ? -1 : x->version > y->version;
}

static void fake_pull(struct fake_hub *h, const char *query, struct transport_response *resp)
{
	unsigned long long cursor = 0;
	long limit = 0;
	assert_int_equal(sscanf(query, "cursor=%llu&limit=%ld", &cursor, &limit), 2);
	h->last_pull_cursor_asked = cursor;
	if (cursor == 0)
		h->pulled_from_zero = 1;
	struct fake_row **sel = calloc(h->nrows + 1, sizeof *sel);
	size_t n = 0;
	assert_non_null(sel);
	for (size_t i = 0; i < h->nrows; i++)
		if (h->rows[i].version > cursor)
			sel[n++] = &h->rows[i];
	qsort(sel, n, sizeof *sel, cmp_version);
	int more = n > (size_t)limit;
	if (more)
		n = (size_t)limit;
	struct wire_pull_writer *w = wire_pull_writer_new(fake_now(h));
	assert_non_null(w);
	uint64_t next = cursor;
	for (size_t i = 0; i < n; i++) {
		struct fake_row *r = sel[i];
		struct wire_pull_field pf[FAKE_MAX_FIELDS];
		struct wire_pull_row pr;
		memset(&pr, 0, sizeof pr);
		pr.table = r->table;
		pr.id = r->id;
		pr.owner = r->owner;
		pr.ins_clock = r->ins_clock;
		pr.ins_writer = r->ins_w[0] ? r->ins_w : NULL;
		pr.del_clock = r->del_clock;
		pr.del_writer = r->del_w[0] ? r->del_w : NULL;
		for (size_t k = 0; k < r->nf; k++) {
			pf[k].name = r->f[k].name;
			pf[k].v = r->f[k].v;
			pf[k].clock = r->f[k].clock;
			pf[k].writer = r->f[k].writer;
		}
		pr.fields = pf;
		pr.nfields = r->nf;
		assert_int_equal(wire_pull_writer_add(w, &pr), 0);
		next = r->version;
	}
	free(sel);
	char *json = wire_pull_writer_finish(w, next, more);
	assert_non_null(json);
	fake_respond(resp, 200, json, 1);
	free(json);
}

static enum transport_result fake_request(struct transport *t, const struct transport_request *req,
					  struct transport_response *resp, char *err, size_t errlen)
{
	struct fake_hub *h = (struct fake_hub *)t;
	unsigned char *body = NULL;
	size_t len = 0;
	enum transport_result rc = TRANSPORT_OK;
	memset(resp, 0, sizeof *resp);
	if (h->latency_ms > 0)
		usleep((useconds_t)h->latency_ms * 1000);
	if (h->down) {
		if (err)
			snprintf(err, errlen, "fake hub down");
		return TRANSPORT_UNREACHABLE;
	}
	if (req->body)
		assert_int_equal(zio_inflate(req->body, req->body_len, WIRE_MAX_INFLATED_BYTES, &body, &len), ZIO_OK);
	if (h->status_override) {
		fake_error(h, resp, h->status_override, h->status_override == 401 ? "unauthorized" : "internal", 0, 0);
	} else if (strcmp(req->path, "/healthz") == 0) {
		fake_respond(resp, 200, "{\"v\":1,\"ok\":true}", 0);
	} else if (strcmp(req->path, "/v1/hello") == 0) {
		fake_hello(h, (const char *)body, len, resp);
	} else if (strcmp(req->path, "/v1/changes") == 0) {
		if (fake_changes(h, (const char *)body, len, resp)) {
			transport_response_release(resp);
			rc = TRANSPORT_UNREACHABLE;
		}
	} else if (strncmp(req->path, "/v1/pull?", 9) == 0) {
		fake_pull(h, req->path + 9, resp);
	} else {
		fake_error(h, resp, 404, "not_found", 0, 0);
	}
	free(body);
	return rc;
}

static void fake_free(struct transport *t)
{
	struct fake_hub *h = (struct fake_hub *)t;
	for (size_t i = 0; i < h->nrows; i++)
		for (size_t k = 0; k < h->rows[i].nf; k++)
			free(h->rows[i].f[k].text);
	free(h->rows);
	free(h);
}

static const struct transport_ops fake_ops = { fake_request, fake_free };

static struct fake_hub *fake_new(void)
{
	struct fake_hub *h = calloc(1, sizeof *h);
	assert_non_null(h);
	h->base.ops = &fake_ops;
	h->rows = calloc(FAKE_MAX_ROWS, sizeof *h->rows);
	assert_non_null(h->rows);
	snprintf(h->hub_id, sizeof h->hub_id, "%s", HUB_ID_1);
	h->backup_seq = 0;
	return h;
}

/* Another laptop's write straight into the hub. */
static void fake_other_write(struct fake_hub *h, const char *id, const char *field, const char *text,
			     uint64_t clock)
{
	struct fake_field fl;
	struct entry e;
	memset(&e, 0, sizeof e);
	memset(&fl, 0, sizeof fl);
	struct field f;
	f.name = field;
	memset(&f.v, 0, sizeof f.v);
	f.v.kind = VALUE_TEXT;
	f.v.s = text;
	f.v.len = strlen(text);
	e.table = "person";
	e.id = id;
	e.op = 'u';
	e.owner = UNIT;
	e.clock = clock;
	e.fields = &f;
	e.nfields = 1;
	fake_merge(h, &e, OTHER_LAPTOP);
}

/* Another laptop's insert of a person straight into the hub (gender NULL: null). */
static void fake_other_insert(struct fake_hub *h, const char *id, const char *name, const char *gender,
			      uint64_t clock)
{
	struct field fs[4];
	struct entry e;
	memset(&e, 0, sizeof e);
	memset(fs, 0, sizeof fs);
	fs[0].name = "full_name";
	fs[0].v.kind = VALUE_TEXT;
	fs[0].v.s = name;
	fs[0].v.len = strlen(name);
	fs[1].name = "birth_year";
	fs[1].v.kind = VALUE_INT;
	fs[1].v.i = 1990;
	fs[2].name = "gender";
	fs[2].v.kind = gender ? VALUE_TEXT : VALUE_NULL;
	fs[2].v.s = gender;
	fs[2].v.len = gender ? strlen(gender) : 0;
	fs[3].name = "phone";
	fs[3].v.kind = VALUE_NULL;
	e.table = "person";
	e.id = id;
	e.op = 'i';
	e.owner = UNIT;
	e.clock = clock;
	e.fields = fs;
	e.nfields = 4;
	fake_merge(h, &e, OTHER_LAPTOP);
}

/* ------------------------------------------------------------------ fixture */

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
	struct fake_hub *hub;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-sync-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/a.db", f->dir);
	if (store_create(f->path, UNIT, &f->s, err, sizeof err) != 0) {
		fprintf(stderr, "store_create: %s\n", err);
		return -1;
	}
	f->hub = fake_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	transport_free(&f->hub->base);
	/* our own mkdtemp directory: the database, its WAL and any backup copy */
	if (rm_tree(f->dir) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
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

static char *sql_text(struct store *s, const char *q)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_db(s), q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

#define PID(n) "0190f3b0-0000-7000-8000-" n

static void add_persons(struct store *s, int first, int n)
{
	char q[512];
	sql(s, "BEGIN");
	for (int i = first; i < first + n; i++) {
		snprintf(q, sizeof q,
			 "INSERT INTO person(id, unit_id, full_name, birth_year, phone) VALUES("
			 "'0190f3b0-0000-7000-8000-%012d', '" UNIT "', 'Trần Thị Bích Ngọc số %d"
			 " — thôn Đông, xã Hòa Bình', %d, '09%08d')",
			 i, i, 1950 + i % 50, i);
		sql(s, q);
	}
	sql(s, "COMMIT");
}

static const struct sync_options quiet = { 1, NULL, NULL, 0 };

static int do_sync(struct fixture *f, struct sync_result *r)
{
	return sync_run(f->s, &f->hub->base, &quiet, r);
}

static uint64_t local_acked(struct store *s)
{
	return (uint64_t)sql_int(s, "SELECT acked_seq FROM lk_state");
}

/* ------------------------------------------------------------------ tests */

static void test_sync__pushes_everything_in_byte_bounded_batches_then_checksums_agree(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 300);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.pushed, 300);
	assert_int_equal(local_acked(f->s), 300);
	assert_int_equal(f->hub->agents[0].acked, 300);
	assert_true(f->hub->nchangesets >= 6);
	assert_true(f->hub->max_changeset_bytes <= 8192);
	assert_int_equal(f->hub->entries_received, 300);
	assert_int_equal(r.checksums, 1);
	char *ok = NULL;
	assert_int_equal(store_config_get(f->s, "checksum_ok", &ok), 0);
	assert_string_equal(ok, "1");
	free(ok);
	assert_true(store_config_int(f->s, "last_sync_ms", 0) > 0);
	/* nothing pending: a second sync sends nothing */
	size_t before = f->hub->nchangesets;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->nchangesets, before);
}

/* PROTOCOL.md §6.1/§6.2a: the shape the hello answer names is the shape sent; a hub
 * that names none (protocol 1) gets shape 1; a refusal of shape 2 (an older hub since
 * the hello) sends the same entries again in shape 1, each reaching the hub once. */
static void test_sync__sends_shape_2_when_the_hello_answer_says_so(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 300);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	f->hub->changes_v = 2;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 300);
	assert_int_equal(f->hub->entries_received, 300);
	assert_int_equal(f->hub->sets_of_shape[1], 0);
	assert_true(f->hub->sets_of_shape[2] >= 3);
	assert_true(f->hub->max_changeset_bytes <= 8192);
	assert_int_equal(r.checksums, 1);
}

static void test_sync__sends_shape_1_to_a_hub_that_names_no_shape(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 100);
	f->hub->old_hello = 1;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 100);
	assert_int_equal(f->hub->entries_received, 100);
	assert_int_equal(f->hub->sets_of_shape[2], 0);
	assert_true(f->hub->sets_of_shape[1] >= 1);
}

static void test_sync__shape_2_refused_as_protocol_version_is_sent_again_in_shape_1(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 300);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	f->hub->changes_v = 2;
	f->hub->refuse_shape2 = 1;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.pushed, 300);
	assert_int_equal(f->hub->agents[0].acked, 300);
	assert_int_equal(f->hub->entries_received, 300);
	assert_int_equal(f->hub->entries_applied_twice, 0);
	/* one refusal, then shape 1 for the rest of the sync despite the second hello */
	assert_int_equal(f->hub->sets_of_shape[2], 1);
	assert_true(f->hub->sets_of_shape[1] >= 3);
	assert_int_equal(r.checksums, 1);
}

/* PROTOCOL.md §6.2: where every exchange waits a round trip much longer than the hub's
 * work (200 ms here), change sets grow past batch_bytes, up to the hub's body limit. */
static void test_sync__change_sets_grow_on_a_slow_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 600);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	f->hub->latency_ms = 200;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.pushed, 600);
	assert_int_equal(f->hub->agents[0].acked, 600);
	assert_int_equal(f->hub->entries_received, 600);
	/* at 8 KiB a change set: about 20; doubling: 8, 16, 32, 64 KiB, then the rest */
	assert_true(f->hub->max_changeset_bytes > 2 * 8192);
	assert_true(f->hub->max_changeset_bytes <= WIRE_MAX_BODY_BYTES);
	assert_true(f->hub->nchangesets <= 6);
	assert_int_equal(r.checksums, 1);
	/* a new sync starts again from the office's setting */
	add_persons(f->s, 601, 20);
	f->hub->max_changeset_bytes = 0;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_true(f->hub->max_changeset_bytes <= 8192);
}

/* Without the round trip, the same backlog goes in change sets of batch_bytes. */
static void test_sync__change_sets_keep_batch_bytes_without_a_slow_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 600);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 600);
	assert_true(f->hub->max_changeset_bytes <= 8192);
	assert_true(f->hub->nchangesets >= 15);
}

/* A grown change set refused as too large halves the cut, and the sync never grows
 * back into the refusal (one 413, not one every other change set). */
static void test_sync__a_grown_change_set_refused_too_large_stays_smaller(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 600);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	f->hub->latency_ms = 200;
	f->hub->max_json_bytes = 20000;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 600);
	assert_int_equal(f->hub->entries_received, 600);
	assert_int_equal(f->hub->too_large_refusals, 1);
}

static void test_sync__a_cut_push_resumes_without_resending(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 200);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	f->hub->changes_until_down = 2;
	assert_int_equal(do_sync(f, &r), EXIT_TEMPFAIL);
	assert_string_equal(r.error, "unreachable");
	uint64_t mid = local_acked(f->s);
	assert_true(mid > 0 && mid < 200);
	assert_int_equal(mid, f->hub->agents[0].acked);
	char *le = NULL;
	assert_int_equal(store_config_get(f->s, "last_error", &le), 0);
	assert_string_equal(le, "unreachable");
	free(le);
	f->hub->down = 0;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 200);
	assert_int_equal(f->hub->entries_received, 200); /* each entry once */
	assert_int_equal(store_config_get(f->s, "last_error", &le), 1);
}

static void test_sync__a_lost_answer_is_not_sent_or_applied_twice(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 50);
	f->hub->lose_next_answer = 1;
	assert_int_equal(do_sync(f, &r), EXIT_TEMPFAIL);
	assert_int_equal(local_acked(f->s), 0);
	assert_int_equal(f->hub->agents[0].acked, 50);
	size_t sets = f->hub->nchangesets;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 50);
	assert_int_equal(f->hub->nchangesets, sets); /* hello told us: nothing resent */
	assert_int_equal(f->hub->entries_received, 50);
}

static void test_sync__clock_ahead_lowers_clocks_keeps_row_order_and_resends(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 30);
	sql(f->s, "UPDATE person SET phone = '0911' WHERE id = '0190f3b0-0000-7000-8000-000000000001'");
	f->hub->hub_time = sync_wall_ms();
	/* the laptop believed it was two hours later */
	sql(f->s, "UPDATE lk_journal SET clock = clock + (7200000 << 16)");
	sql(f->s, "UPDATE lk_state SET last_clock = last_clock + (7200000 << 16)");
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_true(f->hub->clock_ahead_refusals >= 1);
	assert_int_equal(f->hub->agents[0].acked, 31);
	/* down to hub time: the row with two entries has its second one just above */
	assert_true(f->hub->max_clock_seen < hlc_from_ms(f->hub->hub_time + 1));
	/* order is kept per row (PROTOCOL.md §4): later entries of a row stay above */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal a JOIN lk_journal b"
				       " ON b.tbl = a.tbl AND b.row_id = a.row_id AND b.seq > a.seq"
				       " WHERE b.clock <= a.clock"),
			 0);
	assert_true(store_config_int(f->s, "clock_ahead_at_ms", 0) > 0);
	/* offset measured from the hub's time */
	assert_true(sql_int(f->s, "SELECT abs(offset_ms) FROM lk_state") < 60000);
}

static void test_sync__skipped_entries_travel_and_never_block(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	sqlite3_stmt *st = NULL;
	size_t big = 30000;
	char *fields = malloc(big + 32);
	assert_non_null(fields);
	strcpy(fields, "{\"phone\":\"");
	memset(fields + 10, 'z', big);
	strcpy(fields + 10 + big, "\"}");
	add_persons(f->s, 1, 5);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
					    "INSERT INTO lk_journal(tbl, row_id, op, owner, fields,"
					    " recorded_ms, clock, schema_version) VALUES('person', '" PID("000000000001")
					    "', 'u', '" UNIT "', ?, 0, (SELECT max(clock) + 1 FROM lk_journal), 1)",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, fields, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	free(fields);
	sql(f->s, "UPDATE lk_state SET last_clock = (SELECT max(clock) FROM lk_journal)");
	add_persons(f->s, 6, 5);
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(f->hub->skipped_received, 1);
	assert_int_equal(f->hub->agents[0].acked, 11);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_skipped WHERE reason = 'too_large'"), 1);
	assert_int_equal(r.checksums, 1);
}

static void test_sync__quarantined_changes_are_recorded_and_exit_65(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 10);
	f->hub->quarantine_seq = 4;
	assert_int_equal(do_sync(f, &r), EXIT_DATAERR);
	assert_int_equal(r.quarantined, 1);
	assert_int_equal(local_acked(f->s), 10);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_quarantine WHERE seq = 4 AND code = 'bad_range'"
				       " AND field = 'birth_year'"),
			 1);
}

/* Entries written under schema 2 stay pending while the hub runs schema 1: the push
 * stops, the pull still runs — a handy way to hold a local edit unacknowledged. */
static void hold_pending(struct fixture *f)
{
	f->hub->refuse_schema_above = 1;
	sql(f->s, "UPDATE lk_journal SET schema_version = 2 WHERE seq > (SELECT acked_seq FROM lk_state)");
}

static void test_sync__a_local_edit_not_yet_acknowledged_survives_a_pull(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 3);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	/* the office edits the phone; another laptop edits name and phone at the hub later */
	sql(f->s, "UPDATE person SET phone = '0911111111' WHERE id = '" PID("000000000002") "'");
	uint64_t later = (uint64_t)sql_int(f->s, "SELECT max(clock) FROM lk_journal") + (1000ull << 16);
	fake_other_write(f->hub, PID("000000000002"), "phone", "0922222222", later);
	fake_other_write(f->hub, PID("000000000002"), "full_name", "Lê Văn Tám", later);
	hold_pending(f);
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	assert_string_equal(r.error, "schema_newer");
	char *phone = sql_text(f->s, "SELECT phone FROM person WHERE id = '" PID("000000000002") "'");
	char *name = sql_text(f->s, "SELECT full_name FROM person WHERE id = '" PID("000000000002") "'");
	assert_string_equal(phone, "0911111111"); /* pending: kept */
	assert_string_equal(name, "Lê Văn Tám");  /* untouched locally: taken */
	free(phone);
	free(name);
	/* the pull did not journal anything */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal WHERE seq > 3"), 1);
	char *hs = NULL;
	assert_int_equal(store_config_get(f->s, "hub_schema", &hs), 0);
	assert_string_equal(hs, "1");
	free(hs);
	/* the clock was raised by what was received */
	assert_true((uint64_t)sql_int(f->s, "SELECT last_clock FROM lk_state") >= later);
}

static void test_sync__a_lost_race_comes_back_right_after_ack(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 3);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	sql(f->s, "UPDATE person SET full_name = 'Bản của xã' WHERE id = '" PID("000000000003") "'");
	uint64_t later = (uint64_t)sql_int(f->s, "SELECT max(clock) FROM lk_journal") + (5000ull << 16);
	fake_other_write(f->hub, PID("000000000003"), "full_name", "Bản của huyện", later);
	hold_pending(f);
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	char *name = sql_text(f->s, "SELECT full_name FROM person WHERE id = '" PID("000000000003") "'");
	assert_string_equal(name, "Bản của xã");
	free(name);
	/* the hub is upgraded: our entry goes, loses by clock, and the verdict comes back */
	f->hub->refuse_schema_above = 3;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 4);
	name = sql_text(f->s, "SELECT full_name FROM person WHERE id = '" PID("000000000003") "'");
	assert_string_equal(name, "Bản của huyện");
	free(name);
	assert_int_equal(r.checksums, 1);
	assert_int_equal(store_config_get(f->s, "hub_schema", &name), 1);
}

static void test_sync__a_lost_race_comes_back_even_when_the_hub_does_not_resend_the_row(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	f->hub->bump_only_on_change = 1;
	add_persons(f->s, 1, 3);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	sql(f->s, "UPDATE person SET full_name = 'Bản của xã' WHERE id = '" PID("000000000003") "'");
	uint64_t later = (uint64_t)sql_int(f->s, "SELECT max(clock) FROM lk_journal") + (5000ull << 16);
	fake_other_write(f->hub, PID("000000000003"), "full_name", "Bản của huyện", later);
	hold_pending(f);
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	char *name = sql_text(f->s, "SELECT full_name FROM person WHERE id = '" PID("000000000003") "'");
	assert_string_equal(name, "Bản của xã");
	free(name);
	assert_true(store_config_int(f->s, "pull_replay_from", -1) >= 0);
	f->hub->refuse_schema_above = 3;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	name = sql_text(f->s, "SELECT full_name FROM person WHERE id = '" PID("000000000003") "'");
	assert_string_equal(name, "Bản của huyện");
	free(name);
	assert_int_equal(r.checksums, 1);
	assert_int_equal(store_config_int(f->s, "pull_replay_from", -1), -1);
}

static void test_sync__tombstones_delete_and_pending_inserts_keep_existence(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 2);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	/* another laptop deleted person 1 */
	struct entry e;
	memset(&e, 0, sizeof e);
	e.table = "person";
	e.id = PID("000000000001");
	e.op = 'd';
	e.owner = UNIT;
	e.clock = (uint64_t)sql_int(f->s, "SELECT max(clock) FROM lk_journal") + (10ull << 16);
	fake_merge(f->hub, &e, OTHER_LAPTOP);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person WHERE id = '" PID("000000000001") "'"), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal WHERE op = 'd'"), 0);
	assert_int_equal(r.checksums, 1);
}

static void test_sync__hub_restored_from_backup_gets_resent_and_pull_restarts(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 40);
	f->hub->backup_seq = 20;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	/* compacted only up to the hub's backup */
	assert_int_equal(sql_int(f->s, "SELECT min(seq) FROM lk_journal"), 21);
	/* the hub is restored from that backup: new id, it holds up to 20 */
	snprintf(f->hub->hub_id, sizeof f->hub->hub_id, "%s", HUB_ID_2);
	f->hub->agents[0].acked = 20;
	f->hub->pulled_from_zero = 0;
	size_t received = f->hub->entries_received;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->entries_received, received + 20);
	assert_int_equal(f->hub->agents[0].acked, 40);
	assert_true(f->hub->pulled_from_zero);
	char *hid = NULL;
	assert_int_equal(store_config_get(f->s, "hub_id", &hid), 0);
	assert_string_equal(hid, HUB_ID_2);
	free(hid);
}

/* A hub restored from a backup older than what the laptop compacted (hub_behind): the
 * laptop takes a new id by itself (PROTOCOL.md §9) and sends under it every entry its
 * journal still holds — those the old hub acknowledged and the restored one lacks
 * included — once; the compacted ones the hub lost are counted as lost. */
static void test_sync__a_hub_restored_below_the_compaction_point_gets_what_the_laptop_holds_under_a_new_id(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	char id[37];
	add_persons(f->s, 1, 40);
	f->hub->backup_seq = 20;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	snprintf(id, sizeof id, "%s", store_agent_id(f->s));
	snprintf(f->hub->hub_id, sizeof f->hub->hub_id, "%s", HUB_ID_2);
	f->hub->agents[0].acked = 10;
	f->hub->backup_seq = 0;
	size_t received = f->hub->entries_received;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.lost, 10);
	assert_string_not_equal(store_agent_id(f->s), id);
	assert_int_equal(f->hub->nagents, 2);
	assert_int_equal(f->hub->agents[1].acked, 20);
	assert_int_equal(f->hub->entries_received, received + 20);
	assert_int_equal(sql_int(f->s, "SELECT value FROM lk_config WHERE key = 'lost_entries'"), 10);
	/* the next sync sends nothing again */
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->entries_received, received + 20);
}

static void test_sync__a_laptop_restored_from_an_old_backup_forks_and_recover_keeps_edits(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	char old[160], err[256];
	add_persons(f->s, 1, 5);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	/* a backup copy of the laptop, then more work that reaches the hub */
	snprintf(old, sizeof old, "%s/old.db", f->dir);
	assert_int_equal(store_backup_to(f->s, f->dir, 0, old, sizeof old, err, sizeof err), 0);
	add_persons(f->s, 6, 5);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 10);
	char agent_before[37];
	snprintf(agent_before, sizeof agent_before, "%s", store_agent_id(f->s));
	/* the disk dies; the old copy comes back and the office types two new records */
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(old, &f->s, err, sizeof err), 0);
	add_persons(f->s, 100, 2);
	sql(f->s, "UPDATE person SET phone = '0933333333' WHERE id = '" PID("000000000001") "'");
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	assert_string_equal(r.error, "fork");
	char *le = NULL;
	assert_int_equal(store_config_get(f->s, "last_error", &le), 0);
	assert_string_equal(le, "fork");
	free(le);
	/* recover: new id, the three unacknowledged edits journaled again from 1 */
	uint64_t clock_first = (uint64_t)sql_int(f->s, "SELECT clock FROM lk_journal WHERE seq = 6");
	assert_int_equal(sync_recover(f->s, &f->hub->base, &quiet, &r), EXIT_OK);
	assert_string_not_equal(store_agent_id(f->s), agent_before);
	struct fake_agent *na = fake_agent(f->hub, store_agent_id(f->s));
	assert_int_equal(na->acked, 3);
	assert_int_equal((uint64_t)sql_int(f->s, "SELECT clock FROM lk_journal WHERE seq = 1"), clock_first);
	/* nothing deleted; what the lost disk had sent came back by pull */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person"), 12);
	char *phone = sql_text(f->s, "SELECT phone FROM person WHERE id = '" PID("000000000001") "'");
	assert_string_equal(phone, "0933333333");
	free(phone);
	assert_int_equal(r.checksums, 1);
	char *prev = NULL;
	assert_int_equal(store_config_get(f->s, "previous_agent_ids", &prev), 0);
	assert_non_null(strstr(prev, agent_before));
	free(prev);
}

static void test_sync__a_restored_laptop_without_new_edits_continues_after_the_hub(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	char old[160], err[256];
	add_persons(f->s, 1, 3);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	snprintf(old, sizeof old, "%s/old.db", f->dir);
	assert_int_equal(store_backup_to(f->s, f->dir, 0, old, sizeof old, err, sizeof err), 0);
	add_persons(f->s, 4, 4);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(old, &f->s, err, sizeof err), 0);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 7);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person"), 7); /* came back by pull */
	add_persons(f->s, 20, 1);
	assert_int_equal(sql_int(f->s, "SELECT max(seq) FROM lk_journal"), 8);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 8);
	assert_int_equal(r.checksums, 1);
}

/* 429 held_full (PROTOCOL.md §7.1): the hub holds too many changes waiting for units.
 * The change set stays pending (nothing is lost), the pull still runs, the sync exits
 * 75 (try later) with the reason kept for `status`, and a later sync sends it. */
static void test_sync__held_full_keeps_the_change_set_pending_and_a_later_sync_sends_it(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 10);
	f->hub->held_full_from = 1;
	assert_int_equal(do_sync(f, &r), EXIT_TEMPFAIL);
	assert_string_equal(r.error, "held_full");
	assert_int_equal(local_acked(f->s), 0);
	assert_int_equal(f->hub->agents[0].acked, 0);
	assert_true(f->hub->last_pull_cursor_asked == 0 && f->hub->pulled_from_zero);
	char *err = NULL;
	assert_int_equal(store_config_get(f->s, "last_error", &err), 0);
	assert_non_null(err);
	assert_string_equal(err, "held_full");
	free(err);
	/* `status` shows the office its own words for it, not "unknown error" */
	assert_string_not_equal(msg_code("held_full"), msg_code("no_such_code"));
	f->hub->held_full_from = 0;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 10);
	assert_int_equal(f->hub->agents[0].acked, 10);
	err = NULL;
	assert_true(store_config_get(f->s, "last_error", &err) >= 0);
	assert_null(err);
}

/* Puts a copy of the laptop's database back in place of the current one. */
static void restore_copy(struct fixture *f, const char *copy)
{
	char err[256];
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(copy, &f->s, err, sizeof err), 0);
}

static void copy_now(struct fixture *f, char *copy, size_t len)
{
	char err[256];
	snprintf(copy, len, "%s/copy.db", f->dir);
	assert_int_equal(store_backup_to(f->s, f->dir, 0, copy, len, err, sizeof err), 0);
}

/* Issue 18.1: entry 1 not yet sent, the database copied, entry 2 typed, both synced,
 * the copy put back. The hub refused nothing: the copy's entry 1 is a duplicate, and
 * the laptop continues after the hub instead of declaring a fork it cannot recover
 * from (recover would get 403 token_bound for good). */
static void restored_copy_of_sent_entries(struct fixture *f)
{
	struct sync_result r;
	char copy[160];
	add_persons(f->s, 1, 1);
	copy_now(f, copy, sizeof copy);
	sql(f->s, "UPDATE person SET phone = '0933333333' WHERE id = '" PID("000000000001") "'");
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 2);
	restore_copy(f, copy);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_string_equal(r.error, "");
	assert_int_equal(local_acked(f->s), 2);
	char *phone = sql_text(f->s, "SELECT phone FROM person WHERE id = '" PID("000000000001") "'");
	assert_string_equal(phone, "0933333333"); /* entry 2 came back by pull */
	free(phone);
	/* what the office types next follows the hub's sequence and arrives */
	add_persons(f->s, 2, 1);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 3);
	assert_int_equal(f->hub->nagents, 1);
	assert_int_equal(r.checksums, 1);
}

static void test_sync__a_restored_copy_whose_entries_the_hub_holds_continues_after_the_hub(void **state)
{
	restored_copy_of_sent_entries(*state);
}

/* The same against a hub that answers a duplicate with all it holds of the agent. */
static void test_sync__a_restored_copy_continues_after_a_hub_answering_beyond_the_change_set(void **state)
{
	struct fixture *f = *state;
	f->hub->old_dup_acked = 1;
	restored_copy_of_sent_entries(f);
}

/* The copy: 1..3 acknowledged, 4..150 not yet; the lost disk then sent 1..150 and
 * 151..160. The office, back on the copy, types 151..160 anew (other records). */
static void copy_then_new_edits_under_the_hubs_numbers(struct fixture *f)
{
	struct sync_result r;
	char copy[160];
	assert_int_equal(store_config_set(f->s, "batch_bytes", "8192"), 0);
	add_persons(f->s, 1, 3);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	add_persons(f->s, 4, 147);
	copy_now(f, copy, sizeof copy);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	add_persons(f->s, 151, 10);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 160);
	restore_copy(f, copy);
	add_persons(f->s, 500, 10);
	assert_int_equal(sql_int(f->s, "SELECT max(seq) FROM lk_journal"), 160);
}

/* Issue 18.2: the first change set sent again is a duplicate (4..~50); a hub answering
 * with all it holds (160) must not make the laptop skip its own 151..160. */
static void test_sync__an_edit_typed_after_a_restore_is_never_acknowledged_unsent(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	f->hub->old_dup_acked = 1;
	copy_then_new_edits_under_the_hubs_numbers(f);
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	assert_string_equal(r.error, "fork");
	assert_int_equal(local_acked(f->s), 150); /* what the hub holds identically */
	assert_int_equal(sync_recover(f->s, &f->hub->base, &quiet, &r), EXIT_OK);
	assert_int_equal(r.recovered, 1);
	for (int i = 500; i < 510; i++) {
		char id[40];
		snprintf(id, sizeof id, "0190f3b0-0000-7000-8000-%012d", i);
		assert_non_null(fake_row(f->hub, "person", id, 0));
	}
	assert_int_equal(r.checksums, 1);
}

/* Issue 18.3: recover journals again only what the hub does not hold: 151..160 of the
 * copy, not 4..150, which the lost disk had sent identically. */
static void test_sync__recover_journals_again_only_what_the_hub_does_not_hold(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	copy_then_new_edits_under_the_hubs_numbers(f);
	size_t received = f->hub->entries_received;
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	assert_string_equal(r.error, "fork");
	assert_int_equal(sync_recover(f->s, &f->hub->base, &quiet, &r), EXIT_OK);
	assert_int_equal(r.recovered, 1);
	struct fake_agent *na = fake_agent(f->hub, store_agent_id(f->s));
	assert_int_equal(na->acked, 10);
	assert_int_equal(f->hub->entries_received, received + 10);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person"), 170);
	assert_int_equal(r.checksums, 1);
}

/* PROTOCOL.md §4 floors across recover: the acknowledged insert of a row leaves the
 * journal when recover journals the rest again; a re-journaled edit of that row keeps
 * the insert's clock as its floor, so lowering after clock_ahead never puts it below. */
static void test_sync__recover_keeps_the_floor_of_a_row_whose_insert_was_acknowledged(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	copy_then_new_edits_under_the_hubs_numbers(f);
	int64_t insert_clock = sql_int(f->s, "SELECT clock FROM lk_journal WHERE row_id = '"
				       PID("000000000001") "' AND op = 'i'");
	assert_true(insert_clock > 0);
	sql(f->s, "UPDATE person SET phone = '0944444444' WHERE id = '" PID("000000000001") "'");
	assert_int_equal(do_sync(f, &r), EXIT_PROTOCOL);
	assert_string_equal(r.error, "fork");
	assert_int_equal(sync_recover(f->s, &f->hub->base, &quiet, &r), EXIT_OK);
	assert_int_equal(r.recovered, 1);
	/* the insert (acknowledged under the old id) is gone from the journal, its clock is not */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal WHERE row_id = '"
				 PID("000000000001") "' AND op = 'i'"), 0);
	assert_true(sql_int(f->s, "SELECT row_floor FROM lk_journal WHERE row_id = '"
			    PID("000000000001") "' AND op = 'u'") >= insert_clock);
	/* and a lowering to a hub time far below keeps the edit above the insert */
	assert_true(journal_lower_clocks(f->s, (insert_clock >> 16) - 3600000, 0) >= 0);
	assert_true(sql_int(f->s, "SELECT clock FROM lk_journal WHERE row_id = '"
			    PID("000000000001") "' AND op = 'u'") > insert_clock);
}

/* Issue 18.1: recover on a journal the hub holds as it is changes nothing (a new id
 * would never be bound: no fork was refused). */
static void test_sync__recover_without_a_fork_keeps_the_agent_id(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	char id[37];
	add_persons(f->s, 1, 3);
	snprintf(id, sizeof id, "%s", store_agent_id(f->s));
	assert_int_equal(sync_recover(f->s, &f->hub->base, &quiet, &r), EXIT_OK);
	assert_int_equal(r.recovered, 0);
	assert_string_equal(store_agent_id(f->s), id);
	assert_int_equal(f->hub->agents[0].acked, 3);
	assert_int_equal(f->hub->nagents, 1);
}

/* Issue 12 B: a second sync of the same database waits, then says another is running. */
static void test_sync__a_second_sync_of_one_database_is_refused_while_one_runs(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	struct synclock held;
	long holder = -1;
	char err[256];
	add_persons(f->s, 1, 3);
	assert_int_equal(synclock_acquire(f->path, 0, &held, &holder, err, sizeof err), SYNCLOCK_TAKEN);
	struct sync_options o = quiet;
	o.lock_wait_ms = 120;
	assert_int_equal(sync_run(f->s, &f->hub->base, &o, &r), EXIT_TEMPFAIL);
	assert_string_equal(r.error, "sync_running");
	assert_int_equal(r.lock_holder, (long)getpid());
	assert_int_equal(f->hub->nchangesets, 0);
	assert_int_equal(sync_recover(f->s, &f->hub->base, &o, &r), EXIT_TEMPFAIL);
	assert_int_equal(store_config_int(f->s, "last_attempt_ms", 0), 0); /* nothing recorded */
	synclock_release(&held);
	assert_int_equal(sync_run(f->s, &f->hub->base, &o, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 3);
}

/* Issue 12 B: a hello answered before an acknowledgement recorded since (another sync
 * raced this one) never moves acked back within one hub id: nothing is sent twice. */
static void test_sync__a_stale_hello_never_moves_acked_back(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 5);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	/* the hub answers as a hello sent before 1..5 were acknowledged would have */
	f->hub->stale_hello = 1;
	f->hub->stale_hello_acked = 0;
	size_t sets = f->hub->nchangesets, received = f->hub->entries_received;
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 5);
	assert_int_equal(f->hub->nchangesets, sets); /* nothing sent again */
	assert_int_equal(f->hub->entries_received, received);
	/* a hub that really lacks them says so with gap, and gets them again */
	f->hub->stale_hello = 0;
	f->hub->agents[0].acked = 2;
	add_persons(f->s, 6, 1);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->agents[0].acked, 6);
}

/* Issue 18.6: after a hub restore, rows the restored hub no longer holds (another
 * office wrote them after the backup) leave the laptop: the checksums agree again. */
/* The hub never heard of that person row (restored from a backup without it). */
static void fake_forget_row(struct fake_hub *h, const char *id)
{
	struct fake_row *r = fake_row(h, "person", id, 0);
	assert_non_null(r);
	for (size_t k = 0; k < r->nf; k++)
		free(r->f[k].text);
	size_t i = (size_t)(r - h->rows);
	memmove(&h->rows[i], &h->rows[i + 1], (h->nrows - i - 1) * sizeof *r);
	h->nrows--;
}

static void test_sync__rows_a_restored_hub_no_longer_holds_are_removed(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 5);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	fake_other_insert(f->hub, PID("000000000777"), "Lê Văn Tám", NULL, hlc_from_ms(sync_wall_ms()));
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person"), 6);
	/* a rejected record of ours stays for the office to see */
	sql(f->s, "INSERT INTO person(id, unit_id, full_name) VALUES('" PID("000000000888") "', '" UNIT "', 'Từ chối')");
	f->hub->quarantine_seq = 6;
	assert_int_equal(do_sync(f, &r), EXIT_DATAERR);
	f->hub->quarantine_seq = 0;
	/* the hub is restored from a backup that lacks the other office's row and our
	 * rejected one (it never held it) */
	fake_forget_row(f->hub, PID("000000000777"));
	fake_forget_row(f->hub, PID("000000000888"));
	snprintf(f->hub->hub_id, sizeof f->hub->hub_id, "%s", HUB_ID_2);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_true(f->hub->pulled_from_zero);
	assert_int_equal(r.dropped, 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person WHERE id = '" PID("000000000777") "'"), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person WHERE id = '" PID("000000000888") "'"), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person"), 6);
	/* the next sync has nothing more to remove */
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.dropped, 0);
}

static void test_sync__credentials_refused_exit_77_and_unreachable_75(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	add_persons(f->s, 1, 2);
	f->hub->status_override = 401;
	assert_int_equal(do_sync(f, &r), EXIT_NOPERM);
	assert_string_equal(r.error, "unauthorized");
	f->hub->status_override = 503;
	assert_int_equal(do_sync(f, &r), EXIT_TEMPFAIL);
	f->hub->status_override = 0;
	f->hub->down = 1;
	assert_int_equal(do_sync(f, &r), EXIT_TEMPFAIL);
	assert_int_equal(sync_probe(&f->hub->base), -1);
	f->hub->down = 0;
	assert_int_equal(sync_probe(&f->hub->base), 0);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 2);
}

static void test_sync__pull_pages_apply_with_their_cursor(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	/* 120 rows written by another laptop: three pages of 50 */
	for (int i = 0; i < 120; i++) {
		char id[37];
		snprintf(id, sizeof id, "0190f3b0-0000-7000-8000-%012d", 500 + i);
		fake_other_insert(f->hub, id, "Phạm Thị Hoa", "nu", hlc_from_ms(sync_wall_ms()) + (uint64_t)i);
	}
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(r.pulled, 120);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM person"), 120);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM lk_journal"), 0); /* never sent back */
	assert_int_equal(store_config_int(f->s, "pull_cursor", 0), 120);
	assert_int_equal(r.checksums, 1);
	/* the next sync asks from the stored cursor */
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(f->hub->last_pull_cursor_asked, 120);
	assert_int_equal(r.pulled, 0);
}

static void test_sync__rows_of_a_newer_schema_are_skipped_and_remembered(void **state)
{
	struct fixture *f = *state;
	struct sync_result r;
	struct entry e;
	struct field fl;
	add_persons(f->s, 1, 2);
	memset(&e, 0, sizeof e);
	memset(&fl, 0, sizeof fl);
	fl.name = "what";
	fl.v.kind = VALUE_TEXT;
	fl.v.s = "x";
	fl.v.len = 1;
	e.table = "table_of_schema_9";
	e.id = PID("000000000777");
	e.op = 'i';
	e.owner = UNIT;
	e.clock = hlc_from_ms(sync_wall_ms());
	e.fields = &fl;
	e.nfields = 1;
	fake_merge(f->hub, &e, OTHER_LAPTOP);
	assert_int_equal(do_sync(f, &r), EXIT_OK);
	assert_int_equal(local_acked(f->s), 2);
	assert_int_equal(store_config_int(f->s, "pull_partial_schema", 0), SCHEMA_VERSION);
}

/* ---- the curl transport's refusals (no network needed) ---- */

static void test_transport__plain_http_is_refused_off_loopback(void **state)
{
	struct transport *t = NULL;
	char err[256];
	(void)state;
	assert_int_equal(transport_curl_new("http://hub.example.vn", "lk_x", NULL, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "https"));
	assert_int_equal(transport_curl_new("http://10.0.0.1:8080", "lk_x", NULL, &t, err, sizeof err), -1);
	assert_int_equal(transport_curl_new("ftp://127.0.0.1", "lk_x", NULL, &t, err, sizeof err), -1);
	assert_int_equal(transport_curl_new("http://127.0.0.1:1/", "lk_x", NULL, &t, err, sizeof err), 0);
	transport_free(t);
	t = NULL;
	assert_int_equal(transport_curl_new("https://hub.example.vn", "lk_x", "/nonexistent.pem", &t, err, sizeof err), 0);
	transport_free(t);
	t = NULL;
	assert_int_equal(transport_curl_new("http://[::1]:9/", NULL, NULL, &t, err, sizeof err), 0);
	transport_free(t);
	t = NULL;
	assert_int_equal(transport_curl_new("http://localhost:9", "lk_a\r\nX: y", NULL, &t, err, sizeof err), -1);
}

static void test_transport__loopback_hosts(void **state)
{
	(void)state;
	assert_true(transport_host_is_loopback("127.0.0.1"));
	assert_true(transport_host_is_loopback("127.1.2.3"));
	assert_true(transport_host_is_loopback("localhost"));
	assert_true(transport_host_is_loopback("[::1]"));
	assert_false(transport_host_is_loopback("127.0.0.1.evil.example"));
	assert_false(transport_host_is_loopback("127.0.0"));
	assert_false(transport_host_is_loopback("128.0.0.1"));
	assert_false(transport_host_is_loopback("localhost.evil.example"));
	assert_false(transport_host_is_loopback("127.0.0.256"));
}

static void test_transport__a_closed_loopback_port_is_unreachable(void **state)
{
	struct transport *t = NULL;
	struct transport_response resp = { 0 };
	struct transport_request req = { "GET", "/healthz", NULL, 0, 0 };
	char err[256];
	(void)state;
	assert_int_equal(transport_curl_new("http://127.0.0.1:1", NULL, NULL, &t, err, sizeof err), 0);
	assert_int_equal(transport_request(t, &req, &resp, err, sizeof err), TRANSPORT_UNREACHABLE);
	transport_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync__pushes_everything_in_byte_bounded_batches_then_checksums_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__sends_shape_2_when_the_hello_answer_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__sends_shape_1_to_a_hub_that_names_no_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__shape_2_refused_as_protocol_version_is_sent_again_in_shape_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__change_sets_grow_on_a_slow_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__change_sets_keep_batch_bytes_without_a_slow_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_grown_change_set_refused_too_large_stays_smaller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_cut_push_resumes_without_resending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_lost_answer_is_not_sent_or_applied_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__clock_ahead_lowers_clocks_keeps_row_order_and_resends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__held_full_keeps_the_change_set_pending_and_a_later_sync_sends_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__skipped_entries_travel_and_never_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__quarantined_changes_are_recorded_and_exit_65, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_local_edit_not_yet_acknowledged_survives_a_pull, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_lost_race_comes_back_right_after_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_lost_race_comes_back_even_when_the_hub_does_not_resend_the_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__tombstones_delete_and_pending_inserts_keep_existence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__hub_restored_from_backup_gets_resent_and_pull_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_hub_restored_below_the_compaction_point_gets_what_the_laptop_holds_under_a_new_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_laptop_restored_from_an_old_backup_forks_and_recover_keeps_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_restored_laptop_without_new_edits_continues_after_the_hub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_restored_copy_whose_entries_the_hub_holds_continues_after_the_hub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_restored_copy_continues_after_a_hub_answering_beyond_the_change_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__an_edit_typed_after_a_restore_is_never_acknowledged_unsent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__recover_journals_again_only_what_the_hub_does_not_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__recover_keeps_the_floor_of_a_row_whose_insert_was_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__recover_without_a_fork_keeps_the_agent_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_second_sync_of_one_database_is_refused_while_one_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__a_stale_hello_never_moves_acked_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__rows_a_restored_hub_no_longer_holds_are_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__credentials_refused_exit_77_and_unreachable_75, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__pull_pages_apply_with_their_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync__rows_of_a_newer_schema_are_skipped_and_remembered, setup, teardown),
		cmocka_unit_test(test_transport__plain_http_is_refused_off_loopback),
		cmocka_unit_test(test_transport__loopback_hosts),
		cmocka_unit_test(test_transport__a_closed_loopback_port_is_unreachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
