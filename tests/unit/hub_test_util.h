/*
 * hub_test_util.h — helpers for the hub's unit tests (header-only, static): a temp
 * hub database with a small unit tree, simulated agents that journal entries with
 * their chain and cut change sets, and api_handle calls with deflated bodies.
 *
 * The tree: province P > district D > communes C1, C2; branch B1 under C1. Each test
 * binary includes this once. Everything it allocates is freed by the matching _free.
 */
#ifndef LK_HUB_TEST_UTIL_H
#define LK_HUB_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "api.h"
#include "auth.h"
#include "changes.h"
#include "entry.h"
#include "hlc.h"
#include "ids.h"
#include "store.h"
#include "wire.h"
#include "zio.h"

#define U_P  "0190f3a2-0000-7000-8000-000000000001"
#define U_D  "0190f3a2-0000-7000-8000-000000000002"
#define U_C1 "0190f3a2-0000-7000-8000-0000000000c1"
#define U_C2 "0190f3a2-0000-7000-8000-0000000000c2"
#define U_B1 "0190f3a2-0000-7000-8000-0000000000b1"
#define U_X  "0190f3a2-0000-7000-8000-0000000000ee" /* created late: held changes */

static inline int64_t th_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a hub database ---- */

struct th_hub {
	char dir[64];
	char path[96];
	struct api *api;
	char token_c1[IDS_TOKEN_TEXT], token_c2[IDS_TOKEN_TEXT], token_d[IDS_TOKEN_TEXT];
	char token_viewer[IDS_TOKEN_TEXT];
};

static inline struct value th_text(const char *s)
{
	struct value v = { .kind = s ? VALUE_TEXT : VALUE_NULL };
	if (s) {
		v.s = s;
		v.len = strlen(s);
	}
	return v;
}

/* Writes a unit with its name and parent link as the hub. 0 or -1. */
static inline int th_hub_unit(struct store *s, const char *id, const char *owner, const char *name,
			      const char *kind, const char *parent, const char *name_id,
			      const char *link_id)
{
	struct validate_status vs;
	struct field uf[] = { { "opened_on", th_text("2000-01-01") } };
	struct entry e = { .table = "unit", .id = id, .op = 'i', .owner = owner, .fields = uf, .nfields = 1 };
	if (changes_apply_hub(s, &e, th_now_ms(), &vs) != 0)
		return -1;
	struct field nf[] = { { "of_unit", th_text(id) }, { "name", th_text(name) },
			      { "code", th_text(NULL) }, { "kind", th_text(kind) },
			      { "valid_from", th_text("2000-01-01") }, { "valid_to", th_text(NULL) } };
	struct entry n = { .table = "unit_name", .id = name_id, .op = 'i', .owner = owner, .fields = nf, .nfields = 6 };
	if (changes_apply_hub(s, &n, th_now_ms(), &vs) != 0)
		return -1;
	if (!parent)
		return 0;
	struct field pf[] = { { "of_unit", th_text(id) }, { "parent_id", th_text(parent) },
			      { "valid_from", th_text("2000-01-01") }, { "valid_to", th_text(NULL) } };
	struct entry p = { .table = "unit_parent", .id = link_id, .op = 'i', .owner = owner, .fields = pf, .nfields = 4 };
	return changes_apply_hub(s, &p, th_now_ms(), &vs) == 0 ? 0 : -1;
}

/* Runs fn inside a write transaction on a fresh connection. */
static inline int th_with_store(struct th_hub *h, int (*fn)(struct store *, void *), void *ctx)
{
	struct store *s;
	char err[256];
	if (store_sqlite_open(h->path, 0, &s, err, sizeof err) != 0)
		return -1;
	int rc = s->begin(s) == 0 && fn(s, ctx) == 0 && s->commit(s) == 0 ? 0 : -1;
	s->close(s);
	return rc;
}

static inline int th_setup_tree(struct store *s, void *ctx)
{
	struct th_hub *h = ctx;
	if (th_hub_unit(s, U_P, U_P, "Tỉnh P", "province", NULL, "0190f3a2-0000-7000-8000-000000001001", NULL) ||
	    th_hub_unit(s, U_D, U_P, "Huyện D", "district", U_P, "0190f3a2-0000-7000-8000-000000001002",
			"0190f3a2-0000-7000-8000-000000002002") ||
	    th_hub_unit(s, U_C1, U_P, "Xã C1", "commune", U_D, "0190f3a2-0000-7000-8000-000000001003",
			"0190f3a2-0000-7000-8000-000000002003") ||
	    th_hub_unit(s, U_C2, U_P, "Xã C2", "commune", U_D, "0190f3a2-0000-7000-8000-000000001004",
			"0190f3a2-0000-7000-8000-000000002004") ||
	    th_hub_unit(s, U_B1, U_C1, "Thôn B1", "branch", U_C1, "0190f3a2-0000-7000-8000-000000001005",
			"0190f3a2-0000-7000-8000-000000002005"))
		return -1;
	int64_t now = th_now_ms();
	if (auth_enroll(s, U_C1, "c1", now, h->token_c1) || auth_enroll(s, U_C2, "c2", now, h->token_c2) ||
	    auth_enroll(s, U_D, "d", now, h->token_d) || auth_enroll(s, NULL, "viewer", now, h->token_viewer))
		return -1;
	return 0;
}

/* Creates the database and the api. 0 or -1. */
static inline int th_hub_new(struct th_hub *h)
{
	struct store *s;
	char err[256];
	memset(h, 0, sizeof *h);
	snprintf(h->dir, sizeof h->dir, "/tmp/lk-hubtest-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->path, sizeof h->path, "%s/hub.db", h->dir);
	if (store_sqlite_open(h->path, 1, &s, err, sizeof err) != 0)
		return -1;
	s->close(s);
	if (th_with_store(h, th_setup_tree, h) != 0)
		return -1;
	struct api_options o = { .db_path = h->path };
	return api_new(&o, &h->api, err, sizeof err);
}

static inline void th_hub_free(struct th_hub *h)
{
	char p[160];
	api_free(h->api);
	h->api = NULL;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", h->path, suffix[i]);
		unlink(p);
	}
	rmdir(h->dir);
}

/* ---- calls ---- */

struct th_answer {
	int status;
	char *body; /* inflated, NUL-terminated */
};

/* cmocka group fixture: a fresh hub (th_hub_new) in *state; th_teardown frees it. */
static inline int th_setup(void **state)
{
	struct th_hub *h = calloc(1, sizeof *h);
	if (!h || th_hub_new(h) != 0) {
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static inline int th_teardown(void **state)
{
	struct th_hub *h = *state;
	th_hub_free(h);
	free(h);
	return 0;
}

/* Runs one SQL statement on the hub's database through its own connection: the first
 * column of the first row for a query, the number of rows changed for a write, -1 on
 * error. */
static inline int64_t th_sql_count(struct th_hub *h, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;
	if (sqlite3_open_v2(h->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE)
			n = sqlite3_changes(db);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static inline const char *th_query(void *ctx, const char *key)
{
	const char *const *kv = ctx;
	for (; kv && kv[0]; kv += 2)
		if (strcmp(kv[0], key) == 0)
			return kv[1];
	return NULL;
}

static inline struct th_answer th_call_raw(struct api *a, const char *method, const char *path,
					   const char *token, const char *encoding,
					   const void *body, size_t len, const char *const *query)
{
	char auth[80];
	struct api_request req = { 0 };
	struct api_response resp;
	struct th_answer ans = { 0 };
	snprintf(auth, sizeof auth, "Bearer %s", token ? token : "");
	req.method = method;
	req.path = path;
	req.query = th_query;
	req.query_ctx = (void *)query;
	req.authorization = token ? auth : NULL;
	req.content_encoding = encoding;
	req.accept_encoding = "deflate";
	req.body = body;
	req.body_len = len;
	req.client = "test";
	api_handle(a, &req, &resp);
	ans.status = resp.status;
	if (resp.content_encoding && strcmp(resp.content_encoding, "deflate") == 0) {
		unsigned char *out;
		size_t olen;
		if (zio_inflate(resp.body, resp.body_len, 64u << 20, &out, &olen) == ZIO_OK)
			ans.body = (char *)out;
	} else {
		ans.body = malloc(resp.body_len + 1);
		if (ans.body) {
			if (resp.body_len)
				memcpy(ans.body, resp.body, resp.body_len);
			ans.body[resp.body_len] = '\0';
		}
	}
	api_response_release(&resp);
	return ans;
}

static inline struct th_answer th_call(struct api *a, const char *method, const char *path,
				       const char *token, const char *json)
{
	unsigned char *z = NULL;
	size_t zlen = 0;
	if (json && zio_deflate(json, strlen(json), 6, &z, &zlen) != ZIO_OK) {
		struct th_answer none = { 0 };
		return none;
	}
	struct th_answer ans = th_call_raw(a, method, path, token, json ? "deflate" : NULL, z, zlen, NULL);
	free(z);
	return ans;
}

static inline void th_answer_free(struct th_answer *ans)
{
	free(ans->body);
	ans->body = NULL;
}

/* Asserts an answer's status and, when needle is not NULL, that its body contains
 * needle (printing the body when not); frees the answer. Needs cmocka.h, which every
 * test includes before this header. */
static inline void th_expect(struct th_answer a, int status, const char *needle)
{
	if (a.status != status || (needle && (!a.body || !strstr(a.body, needle))))
		print_error("status %d body %s (wanted %d with %s)\n", a.status, a.body ? a.body : "",
			    status, needle ? needle : "");
	assert_int_equal(a.status, status);
	if (needle) {
		assert_non_null(a.body);
		assert_non_null(strstr(a.body, needle));
	}
	th_answer_free(&a);
}

/* ---- simulated agents ---- */

#define TH_MAX_FIELDS 8

struct th_entry {
	struct entry e;
	struct field f[TH_MAX_FIELDS];
	char strs[TH_MAX_FIELDS][64];
	char table[32], id[37], owner[37];
	unsigned char chain[32]; /* chain(seq) */
};

struct th_agent {
	char id[37];
	struct th_entry *v;
	size_t n, cap;
	uint64_t last_clock;
};

static inline void th_agent_init(struct th_agent *ag, const char *id)
{
	memset(ag, 0, sizeof *ag);
	snprintf(ag->id, sizeof ag->id, "%s", id);
}

static inline void th_agent_release(struct th_agent *ag)
{
	free(ag->v);
	ag->v = NULL;
	ag->n = ag->cap = 0;
}

/* Journals an entry. spec: "name=s:text;name=i:42;name=n" (text without ';').
 * clock 0: the next clock after the agent's last at wall time. Returns the entry. */
static inline struct th_entry *th_add(struct th_agent *ag, const char *table, const char *id,
				      char op, const char *owner, const char *spec, uint64_t clock)
{
	if (ag->n == ag->cap) {
		size_t nc = ag->cap ? ag->cap * 2 : 32;
		struct th_entry *nv = realloc(ag->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		ag->v = nv;
		ag->cap = nc;
		/* entries point into themselves: re-point after a move */
		for (size_t i = 0; i < ag->n; i++) {
			struct th_entry *x = &ag->v[i];
			x->e.table = x->table;
			x->e.id = x->id;
			x->e.owner = x->owner;
			x->e.fields = x->f;
			for (size_t k = 0; k < x->e.nfields; k++)
				if (x->f[k].v.kind == VALUE_TEXT)
					x->f[k].v.s = x->strs[k] + strlen(x->strs[k]) + 1;
			for (size_t k = 0; k < x->e.nfields; k++)
				x->f[k].name = x->strs[k];
		}
	}
	struct th_entry *x = &ag->v[ag->n];
	memset(x, 0, sizeof *x);
	snprintf(x->table, sizeof x->table, "%s", table);
	snprintf(x->id, sizeof x->id, "%s", id);
	snprintf(x->owner, sizeof x->owner, "%s", owner);
	x->e.seq = ag->n + 1;
	x->e.table = x->table;
	x->e.id = x->id;
	x->e.op = op;
	x->e.owner = x->owner;
	x->e.clock = clock ? clock : hlc_next(ag->last_clock, th_now_ms());
	if (x->e.clock > ag->last_clock)
		ag->last_clock = x->e.clock;
	x->e.fields = x->f;
	/* strs[k] holds "name\0value\0" */
	const char *p = spec ? spec : "";
	while (*p && x->e.nfields < TH_MAX_FIELDS) {
		size_t k = x->e.nfields;
		const char *eq = strchr(p, '=');
		const char *end = strchr(p, ';');
		if (!eq)
			break;
		if (!end)
			end = p + strlen(p);
		size_t nl = (size_t)(eq - p);
		char kind = eq[1];
		const char *val = eq + 3;
		size_t vl = end > val ? (size_t)(end - val) : 0;
		memcpy(x->strs[k], p, nl);
		x->strs[k][nl] = '\0';
		memcpy(x->strs[k] + nl + 1, val, vl);
		x->strs[k][nl + 1 + vl] = '\0';
		x->f[k].name = x->strs[k];
		if (kind == 's') {
			x->f[k].v.kind = VALUE_TEXT;
			x->f[k].v.s = x->strs[k] + nl + 1;
			x->f[k].v.len = vl;
		} else if (kind == 'i') {
			x->f[k].v.kind = VALUE_INT;
			x->f[k].v.i = strtoll(val, NULL, 10);
		} else {
			x->f[k].v.kind = VALUE_NULL;
		}
		x->e.nfields++;
		p = *end ? end + 1 : end;
	}
	unsigned char h[32], prev[32] = { 0 };
	if (ag->n)
		memcpy(prev, ag->v[ag->n - 1].chain, 32);
	entry_hash(&x->e, h);
	entry_chain_step(prev, h, x->chain);
	ag->n++;
	return x;
}

/* The change set JSON of entries from..to (1-based, inclusive); caller frees. */
static inline char *th_changeset_shape(const struct th_agent *ag, uint64_t from, uint64_t to, int schema,
				       int shape)
{
	unsigned char before[32] = { 0 };
	struct wire_changeset_writer *w = wire_changeset_writer_new_v(schema, ag->id, shape);
	if (!w)
		return NULL;
	if (from > 1)
		memcpy(before, ag->v[from - 2].chain, 32);
	for (uint64_t s = from; s <= to; s++)
		if (wire_changeset_writer_add(w, &ag->v[s - 1].e) != 0) {
			wire_changeset_writer_free(w);
			return NULL;
		}
	return wire_changeset_writer_finish(w, before, ag->v[to - 1].chain);
}

static inline char *th_changeset(const struct th_agent *ag, uint64_t from, uint64_t to, int schema)
{
	return th_changeset_shape(ag, from, to, schema, WIRE_CHANGES_V1);
}

/* Sends entries from..to in change-set shape `shape` (PROTOCOL.md §6.2a). */
static inline struct th_answer th_send_shape(struct th_hub *h, const struct th_agent *ag, const char *token,
					     uint64_t from, uint64_t to, int shape)
{
	char *json = th_changeset_shape(ag, from, to, SCHEMA_VERSION, shape);
	struct th_answer a = th_call(h->api, "POST", "/v1/changes", token, json);
	free(json);
	return a;
}

/* Sends entries from..to; returns the answer. */
static inline struct th_answer th_send(struct th_hub *h, const struct th_agent *ag, const char *token,
				       uint64_t from, uint64_t to)
{
	char *json = th_changeset(ag, from, to, SCHEMA_VERSION);
	struct th_answer a = th_call(h->api, "POST", "/v1/changes", token, json);
	free(json);
	return a;
}

/* A hello saying the agent believes `acked` acknowledged. */
static inline struct th_answer th_hello_acked(struct th_hub *h, const char *agent, const char *token,
					      uint64_t acked)
{
	char json[400];
	snprintf(json, sizeof json,
		 "{\"v\":1,\"schema\":1,\"agent\":\"%s\",\"wall\":%lld,\"pending\":3,\"acked\":%llu,"
		 "\"software\":\"test\"}", agent, (long long)th_now_ms(), (unsigned long long)acked);
	return th_call(h->api, "POST", "/v1/hello", token, json);
}

static inline struct th_answer th_hello(struct th_hub *h, const char *agent, const char *token)
{
	return th_hello_acked(h, agent, token, 0);
}

#endif
