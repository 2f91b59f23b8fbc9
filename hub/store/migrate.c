/*
 * migrate.c — `lienket-hub migrate` (migrate.h): copy, then check, through store.h.
 *
 * Owns: the two store handles (opened and closed here) and the list of table names.
 */
#include "migrate.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lkcrypto.h"
#include "ops.h"
#include "store.h"

#define MIGRATE_COLS_MAX 128
#define META_TABLE "hub_meta"

/* A database name fit for logs and summaries: a URL's password left out. */
static void redact(const char *db, char *out, size_t cap)
{
	const char *scheme = strstr(db, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
	if (!colon) {
		snprintf(out, cap, "%s", db);
		return;
	}
	snprintf(out, cap, "%.*s%s", (int)(colon - db), db, at);
}

/* ---- the row checksum ---- */

struct table_sum {
	char *name;
	uint64_t rows;
	uint64_t lane[4]; /* row digests added as four 64-bit lanes */
};

static void put_u64(unsigned char b[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

/* Adds the row's digest (migrate.h) to sum. */
static void sum_row(struct table_sum *sum, size_t n, const char *const *names,
		    const struct store_cell *cells)
{
	size_t order[MIGRATE_COLS_MAX];
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j > 0 && strcmp(names[order[j - 1]], names[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	/* name, NUL, kind, 8 bytes, value: 4 parts a cell */
	struct lkcrypto_part parts[4 * MIGRATE_COLS_MAX];
	unsigned char heads[MIGRATE_COLS_MAX][9];
	size_t np = 0;
	for (size_t k = 0; k < n; k++) {
		const struct store_cell *c = &cells[order[k]];
		const char *name = names[order[k]];
		parts[np++] = (struct lkcrypto_part){ name, strlen(name) + 1 };
		heads[k][0] = (unsigned char)c->kind;
		if (c->kind == STORE_CELL_INT)
			put_u64(heads[k] + 1, (uint64_t)c->i);
		else if (c->kind == STORE_CELL_TEXT || c->kind == STORE_CELL_BLOB)
			put_u64(heads[k] + 1, (uint64_t)c->len);
		else
			put_u64(heads[k] + 1, 0);
		parts[np++] = (struct lkcrypto_part){ heads[k], 9 };
		if ((c->kind == STORE_CELL_TEXT || c->kind == STORE_CELL_BLOB) && c->len)
			parts[np++] = (struct lkcrypto_part){ c->p, c->len };
	}
	unsigned char d[LKCRYPTO_SHA256_BYTES];
	lkcrypto_sha256(parts, np, d);
	for (int l = 0; l < 4; l++) {
		uint64_t v = 0;
		for (int b = 0; b < 8; b++)
			v = v << 8 | d[l * 8 + b];
		sum->lane[l] += v;
	}
	sum->rows++;
}

static void sum_hex(const struct table_sum *t, char out[65])
{
	for (int l = 0; l < 4; l++)
		snprintf(out + l * 16, 17, "%016" PRIx64, t->lane[l]);
}

/* ---- the copy ---- */

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(void *ctx, const char *table)
{
	struct names *ns = ctx;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		char **v = realloc(ns->v, cap * sizeof *v);
		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strdup(table)))
		return -1;
	ns->n++;
	return 0;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int names_has(const struct names *ns, const char *t)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], t) == 0)
			return 1;
	return 0;
}

struct copy_ctx {
	struct store *dst;
	const char *table;
	struct table_sum *sum;
	char why[256];
};

static const struct store_cell *cell_named(size_t n, const char *const *names,
					   const struct store_cell *cells, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return &cells[i];
	return NULL;
}

/* Meta keys where a back end records where its own database stands (store_pg.c:
 * identity_check) and which DDL it last ran (pg_ddl): never copied nor compared — the destination's raw_done records its
 * own, so that its next open does not take it for a restored copy. */
static int own_meta(const char *key, size_t len)
{
	static const char *const own[] = { "pg_identity", "pg_ddl" };
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strlen(own[i]) == len && memcmp(own[i], key, len) == 0)
			return 1;
	return 0;
}

/* hub_meta goes through meta_set: keys the destination keeps for itself stay. */
static int copy_meta_row(void *vctx, size_t n, const char *const *names, const struct store_cell *cells)
{
	struct copy_ctx *c = vctx;
	const struct store_cell *k = cell_named(n, names, cells, "key");
	const struct store_cell *v = cell_named(n, names, cells, "value");
	if (!k || !v || k->kind != STORE_CELL_TEXT || v->kind != STORE_CELL_TEXT) {
		snprintf(c->why, sizeof c->why, "hub_meta has a row that is not a text key and value");
		return -1;
	}
	if (own_meta(k->p, k->len))
		return 0;
	char *key = strndup(k->p, k->len), *value = strndup(v->p, v->len);
	int rc = key && value ? c->dst->meta_set(c->dst, key, value) : -1;
	if (rc != 0)
		snprintf(c->why, sizeof c->why, "cannot write meta '%s' into the destination",
			 key ? key : "?");
	free(key);
	free(value);
	return rc;
}

static int copy_row(void *vctx, size_t n, const char *const *names, const struct store_cell *cells)
{
	struct copy_ctx *c = vctx;
	if (n > MIGRATE_COLS_MAX) {
		snprintf(c->why, sizeof c->why, "table %s has more than %d columns", c->table,
			 MIGRATE_COLS_MAX);
		return -1;
	}
	if (c->dst->raw_put(c->dst, c->table, n, names, cells) != 0) {
		snprintf(c->why, sizeof c->why, "cannot write a row of %s into the destination", c->table);
		return -1;
	}
	return 0;
}

static int sum_only(void *vctx, size_t n, const char *const *names, const struct store_cell *cells)
{
	struct copy_ctx *c = vctx;
	if (n > MIGRATE_COLS_MAX)
		return -1;
	sum_row(c->sum, n, names, cells);
	return 0;
}

/* ---- the check after ---- */

struct meta_check {
	struct store *dst;
	char why[256];
};

static int check_meta_row(void *vctx, size_t n, const char *const *names, const struct store_cell *cells)
{
	struct meta_check *m = vctx;
	const struct store_cell *k = cell_named(n, names, cells, "key");
	const struct store_cell *v = cell_named(n, names, cells, "value");
	if (!k || !v || k->kind != STORE_CELL_TEXT || v->kind != STORE_CELL_TEXT)
		return -1;
	if (own_meta(k->p, k->len))
		return 0;
	char *key = strndup(k->p, k->len);
	char got[4096];
	int rc = key ? m->dst->meta_get(m->dst, key, got, sizeof got) : -1;
	if (rc == 0 && (strlen(got) != v->len || memcmp(got, v->p, v->len) != 0))
		rc = 1;
	if (rc != 0)
		snprintf(m->why, sizeof m->why, "meta '%s' differs in the destination", key ? key : "?");
	free(key);
	return rc ? -1 : 0;
}

struct agent_check {
	struct store *src, *dst;
	size_t agents;
	char why[256];
};

static void hex32(const unsigned char b[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The agent's row agrees, and chain(acked) in the chain store too (when the source
 * kept it: agents acknowledged before the hub kept chains have none). */
static int check_agent(void *vctx, const struct store_agent *a)
{
	struct agent_check *c = vctx;
	struct store_agent b;
	if (c->dst->agent_get(c->dst, a->id, &b) != 0) {
		snprintf(c->why, sizeof c->why, "agent %s is missing from the destination", a->id);
		return -1;
	}
	if (a->acked != b.acked || strcmp(a->chain, b.chain) != 0 || strcmp(a->unit_id, b.unit_id) != 0 ||
	    strcmp(a->retired_to, b.retired_to) != 0) {
		snprintf(c->why, sizeof c->why, "agent %s: acknowledged %" PRIu64 " chain %.16s… in the"
			 " source, %" PRIu64 " %.16s… in the destination", a->id, a->acked, a->chain,
			 b.acked, b.chain);
		return -1;
	}
	if (a->acked > 0) {
		unsigned char x[32], y[32];
		int rs = c->src->chain_get(c->src, a->id, a->acked, x);
		int rd = c->dst->chain_get(c->dst, a->id, a->acked, y);
		char hx[65] = "", hy[65] = "";
		if (rs == 0)
			hex32(x, hx);
		if (rd == 0)
			hex32(y, hy);
		if (rs < 0 || rd != rs || (rs == 0 && (memcmp(x, y, 32) != 0 || strcmp(hx, a->chain) != 0))) {
			snprintf(c->why, sizeof c->why, "agent %s: chain(%" PRIu64 ") differs between the"
				 " source and the destination", a->id, a->acked);
			return -1;
		}
	}
	c->agents++;
	return 0;
}

/* ---- the run ---- */

static int open_db(const char *db, int create, struct store **out, char *err, size_t errlen)
{
	return hub_store_open(db, create, out, err, errlen);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every table's count and sum (hub_meta's too) of s, in tables' order. */
static int sums_of(struct store *s, const struct names *tables, struct table_sum *sums)
{
	for (size_t i = 0; i < tables->n; i++) {
		memset(&sums[i], 0, sizeof sums[i]);
		sums[i].name = tables->v[i];
		struct copy_ctx c = { .table = tables->v[i], .sum = &sums[i] };
		if (s->raw_scan(s, tables->v[i], sum_only, &c) != 0)
			return -1;
	}
	return 0;
}

/* The check of migrate.h between two open stores, each inside a read snapshot. sums
 * receives the source's figures. 0, or -1 with the first difference in err. */
static int check(struct store *src, struct store *dst, const struct names *tables,
		 struct table_sum *sums, size_t *agents, char *err, size_t errlen)
{
	struct names dtables = { 0 };
	struct table_sum *dsums = calloc(tables->n ? tables->n : 1, sizeof *dsums);
	int rc = -1;
	if (!dsums || dst->raw_tables(dst, names_add, &dtables) != 0) {
		snprintf(err, errlen, "cannot list the destination's tables");
		goto done;
	}
	for (size_t i = 0; i < tables->n; i++)
		if (!names_has(&dtables, tables->v[i])) {
			snprintf(err, errlen, "the destination has no table '%s'", tables->v[i]);
			goto done;
		}
	if (sums_of(src, tables, sums) != 0) {
		snprintf(err, errlen, "cannot read the source's tables");
		goto done;
	}
	if (sums_of(dst, tables, dsums) != 0) {
		snprintf(err, errlen, "cannot read the destination's tables");
		goto done;
	}
	for (size_t i = 0; i < tables->n; i++) {
		if (strcmp(tables->v[i], META_TABLE) == 0)
			continue; /* compared key by key below: the destination may keep more */
		if (dsums[i].rows != sums[i].rows ||
		    memcmp(dsums[i].lane, sums[i].lane, sizeof sums[i].lane) != 0) {
			snprintf(err, errlen, "table %s: %" PRIu64 " rows in the source, %" PRIu64
				 " in the destination%s", tables->v[i], sums[i].rows, dsums[i].rows,
				 dsums[i].rows == sums[i].rows ? ", and their checksums differ" : "");
			goto done;
		}
	}
	struct meta_check mc = { .dst = dst };
	if (src->raw_scan(src, META_TABLE, check_meta_row, &mc) != 0) {
		snprintf(err, errlen, "%s", mc.why[0] ? mc.why : "cannot compare hub_meta");
		goto done;
	}
	struct agent_check ac = { .src = src, .dst = dst };
	if (src->agents_list(src, check_agent, &ac) != 0) {
		snprintf(err, errlen, "%s", ac.why[0] ? ac.why : "cannot compare the agents");
		goto done;
	}
	*agents = ac.agents;
	rc = 0;
done:
	names_free(&dtables);
	free(dsums);
	return rc;
}

static void print_summary(FILE *out, struct store *src, const struct names *tables,
			  const struct table_sum *sums, size_t agents)
{
	char hub_id[64] = "", hs[32] = "0";
	src->meta_get(src, "hub_id", hub_id, sizeof hub_id);
	src->meta_get(src, "hs", hs, sizeof hs);
	fprintf(out, "hub_id: %s (kept)\nhub sequence: %s (kept)\n", hub_id, hs);
	uint64_t total = 0, meta_keys = 0;
	for (size_t i = 0; i < tables->n; i++) {
		char h[65];
		sum_hex(&sums[i], h);
		fprintf(out, "  %-24s %10" PRIu64 " rows  sha256-sum %.16s…\n", sums[i].name,
			sums[i].rows, h);
		if (strcmp(sums[i].name, META_TABLE) == 0)
			meta_keys = sums[i].rows;
		else
			total += sums[i].rows;
	}
	fprintf(out, "tables: %zu, rows: %" PRIu64 " (and %" PRIu64 " meta keys), agents: %zu\n"
		     "checked: row counts and checksums of every table, every meta value, every"
		     " agent's acknowledged sequence and chain agree\n",
		tables->n, total, meta_keys, agents);
}

/* Starts the source's snapshot and lists its tables. */
static enum migrate_result source_snapshot(struct store *src, struct names *tables, char *err,
					   size_t errlen)
{
	if (src->read_begin(src) != 0) {
		snprintf(err, errlen, "cannot read the source in one snapshot");
		return MIGRATE_FAILED;
	}
	if (src->raw_tables(src, names_add, tables) != 0) {
		src->read_end(src);
		snprintf(err, errlen, "cannot list the source's tables");
		return MIGRATE_FAILED;
	}
	if (!names_has(tables, META_TABLE)) {
		src->read_end(src);
		snprintf(err, errlen, "the source has no %s: not a hub database", META_TABLE);
		return MIGRATE_NO_SOURCE;
	}
	return MIGRATE_OK;
}

enum migrate_result migrate_stores(struct store *src, struct store *dst, FILE *out, char *err,
				   size_t errlen)
{
	struct names tables = { 0 };
	struct table_sum *sums = NULL;
	size_t agents = 0;
	enum migrate_result res = source_snapshot(src, &tables, err, errlen);
	if (res != MIGRATE_OK) {
		names_free(&tables);
		return res;
	}
	res = MIGRATE_FAILED;
	int dst_tx = 0;
	if (!(sums = calloc(tables.n, sizeof *sums))) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (dst->begin(dst) != 0) {
		snprintf(err, errlen, "cannot start writing the destination: %s", dst->errmsg(dst));
		goto done;
	}
	dst_tx = 1;
	for (size_t i = 0; i < tables.n; i++) {
		const char *t = tables.v[i];
		struct copy_ctx c = { .dst = dst, .table = t, .sum = &sums[i] };
		int meta = strcmp(t, META_TABLE) == 0;
		if (!meta && dst->raw_clear(dst, t) != 0) {
			snprintf(err, errlen, "cannot empty %s in the destination: %s", t, dst->errmsg(dst));
			goto done;
		}
		if (src->raw_scan(src, t, meta ? copy_meta_row : copy_row, &c) != 0) {
			snprintf(err, errlen, "copying %s: %s (%s)", t,
				 c.why[0] ? c.why : "cannot read the source", c.why[0] ?
				 dst->errmsg(dst) : src->errmsg(src));
			goto done;
		}
	}
	if (dst->raw_done(dst) != 0 || dst->commit(dst) != 0) {
		snprintf(err, errlen, "cannot commit the destination: %s", dst->errmsg(dst));
		goto done;
	}
	dst_tx = 0;
	res = MIGRATE_MISMATCH;
	if (dst->read_begin(dst) != 0) {
		snprintf(err, errlen, "cannot read the destination back");
		goto done;
	}
	int ck = check(src, dst, &tables, sums, &agents, err, errlen);
	dst->read_end(dst);
	if (ck == 0) {
		print_summary(out, src, &tables, sums, agents);
		res = MIGRATE_OK;
	}
done:
	if (dst_tx)
		dst->rollback(dst);
	src->read_end(src);
	names_free(&tables);
	free(sums);
	return res;
}

enum migrate_result migrate_check_stores(struct store *src, struct store *dst, FILE *out,
					 char *err, size_t errlen)
{
	struct names tables = { 0 };
	struct table_sum *sums = NULL;
	size_t agents = 0;
	enum migrate_result res = source_snapshot(src, &tables, err, errlen);
	if (res != MIGRATE_OK) {
		names_free(&tables);
		return res;
	}
	res = MIGRATE_FAILED;
	if (!(sums = calloc(tables.n, sizeof *sums)) || dst->read_begin(dst) != 0) {
		snprintf(err, errlen, "cannot read the destination");
	} else {
		res = check(src, dst, &tables, sums, &agents, err, errlen) == 0 ? MIGRATE_OK
										: MIGRATE_MISMATCH;
		dst->read_end(dst);
		if (res == MIGRATE_OK)
			print_summary(out, src, &tables, sums, agents);
	}
	src->read_end(src);
	names_free(&tables);
	free(sums);
	return res;
}

/* Opens the source, which no `serve` may be writing: a file under its (exclusive)
 * serving lock; a PostgreSQL database when no hub process of this machine holds its
 * (shared) one — hub processes elsewhere are the operator's to stop (operations.md). */
static enum migrate_result open_source(const char *from, int *lock, struct store **src, char *err,
				       size_t errlen)
{
	char oerr[512];
	if (store_is_pg(from) && store_is_serving(from)) {
		snprintf(err, errlen, "a lienket-hub serves the source: stop every hub process first");
		return MIGRATE_NO_SOURCE;
	}
	if (!store_is_pg(from) && (*lock = ops_serving_lock(from, err, errlen)) < 0)
		return MIGRATE_NO_SOURCE;
	if (open_db(from, 0, src, oerr, sizeof oerr) != 0) {
		snprintf(err, errlen, "source: %s", oerr);
		return MIGRATE_NO_SOURCE;
	}
	return MIGRATE_OK;
}

enum migrate_result migrate_run(const char *from, const char *to, FILE *out, char *err, size_t errlen)
{
	struct store *src = NULL, *dst = NULL;
	int lock = -1;
	char from_l[512], to_l[512], oerr[512];
	redact(from, from_l, sizeof from_l);
	redact(to, to_l, sizeof to_l);
	enum migrate_result res = open_source(from, &lock, &src, err, errlen);
	if (res != MIGRATE_OK)
		goto done;
	if (open_db(to, 1, &dst, oerr, sizeof oerr) != 0) {
		snprintf(err, errlen, "destination: %s (migrate writes only into a new, empty one)", oerr);
		res = MIGRATE_NOT_EMPTY;
		goto done;
	}
	fprintf(out, "migrating: %s -> %s\n", from_l, to_l);
	res = migrate_stores(src, dst, out, err, errlen);
	if (res == MIGRATE_OK) {
		/* both operations logs say so (a URL's password left out) */
		char hub_id[64] = "", hs[32] = "0";
		src->meta_get(src, "hub_id", hub_id, sizeof hub_id);
		src->meta_get(src, "hs", hs, sizeof hs);
		int64_t now = wall_ms();
		if (ops_log(from, now, "migrate", to_l, hub_id, hs, (char *)NULL) != 0 ||
		    ops_log(to, now, "migrated", from_l, hub_id, hs, (char *)NULL) != 0)
			fprintf(out, "warning: the operations log could not record the migration\n");
	}
done:
	if (src)
		src->close(src);
	if (dst)
		dst->close(dst);
	if (res == MIGRATE_FAILED && dst && !store_is_pg(to))
		store_remove_copy(to); /* the file this run made, nothing committed in it */
	if (res == MIGRATE_FAILED && dst && store_is_pg(to)) {
		size_t k = strlen(err);
		snprintf(err + k, errlen - k, "; nothing was committed, but the destination now has"
			 " the hub's empty tables: drop and re-create that database before trying again");
	}
	if (lock >= 0)
		close(lock);
	return res;
}

enum migrate_result migrate_check(const char *from, const char *to, FILE *out, char *err,
				  size_t errlen)
{
	struct store *src = NULL, *dst = NULL;
	int lock = -1;
	char oerr[512];
	enum migrate_result res = open_source(from, &lock, &src, err, errlen);
	if (res == MIGRATE_OK && open_db(to, 0, &dst, oerr, sizeof oerr) != 0) {
		snprintf(err, errlen, "destination: %s", oerr);
		res = MIGRATE_FAILED;
	}
	if (res == MIGRATE_OK)
		res = migrate_check_stores(src, dst, out, err, errlen);
	if (src)
		src->close(src);
	if (dst)
		dst->close(dst);
	if (lock >= 0)
		close(lock);
	return res;
}

int migrate_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL;
	int only_check = 0;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'c': only_check = 1; break;
		case 'h': printf("usage: %s\n", MIGRATE_USAGE); return 0;
		default:
			fprintf(stderr, "lienket-hub: unknown option '%s'\nusage: %s\n", argv[optind - 1],
				MIGRATE_USAGE);
			return 64;
		}
	}
	if (!from || !to || optind != argc) {
		fprintf(stderr, "usage: %s\n", MIGRATE_USAGE);
		return 64;
	}
	char err[1024] = "";
	enum migrate_result r = only_check ? migrate_check(from, to, stdout, err, sizeof err)
					   : migrate_run(from, to, stdout, err, sizeof err);
	if (r == MIGRATE_OK)
		return 0;
	fprintf(stderr, "lienket-hub: migrate: %s\n", err);
	switch (r) {
	case MIGRATE_NO_SOURCE: return 66;
	case MIGRATE_NOT_EMPTY: return 73;
	default: return 70;
	}
}
