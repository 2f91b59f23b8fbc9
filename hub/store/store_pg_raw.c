/*
 * store_pg_raw.c — store.h's raw access (raw_tables, raw_scan, raw_clear, raw_put,
 * raw_done) on PostgreSQL, for `lienket-hub migrate` (migrate.h).
 *
 * Tables are the ordinary tables of the connection's current schema; a table name is
 * used in SQL only once found there, a column name only as a plain identifier, quoted
 * (PostgreSQL itself matches it against the table); values are bound. Cells: bigint,
 * integer, smallint and boolean columns are integers, bytea a blob (its hex text
 * decoded), text and varchar text; any other type is refused. raw_scan reads through a
 * cursor, RAW_FETCH rows at a time, so a table of any size takes bounded memory and
 * the callback may use the same store.
 *
 * Owns: nothing beyond each call (results and decoded blobs are freed before return).
 */
#include "pg_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_COLS_MAX 128 /* widest table taken */
#define RAW_FETCH "1000" /* rows a FETCH brings */
/* Type OIDs (pg_type.h, stable across releases). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_VARCHAR 1043

/* A plain lower-case identifier: once quoted, nothing else in SQL. */
static int plain_ident(const char *n)
{
	if (!*n || strlen(n) > 63 || (*n >= '0' && *n <= '9'))
		return 0;
	for (const char *c = n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return 0;
	return 1;
}

#define TABLES_SQL \
	"SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" WHERE c.relkind = 'r' AND n.nspname = current_schema()"

/* 1 when table is one of the hub's tables here, 0 not, or a negative code. */
static int raw_known(struct store_pg *p, const char *table)
{
	if (!plain_ident(table))
		return 0;
	PGresult *r;
	const char *params[1] = { table };
	int rc = store_pg_exec(p, TABLES_SQL " AND c.relname = $1", 1, params, &r);
	if (rc != 0)
		return rc;
	int yes = PQntuples(r) == 1;
	PQclear(r);
	return yes;
}

static int pg_raw_tables(struct store *s, int (*cb)(void *ctx, const char *table), void *ctx)
{
	struct store_pg *p = store_pg_of(s);
	PGresult *r;
	int rc = store_pg_exec(p, TABLES_SQL " ORDER BY c.relname", 0, NULL, &r);
	if (rc != 0)
		return rc;
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		if (plain_ident(name))
			rc = cb(ctx, name);
	}
	PQclear(r);
	return rc;
}

/* The cells of row i of r into cells (blobs decoded into blobs[], freed by the caller).
 * 0, or -1 for a type the raw functions do not take. */
static int row_cells(struct store_pg *p, const PGresult *r, int i, int n, struct store_cell *cells,
		     unsigned char **blobs)
{
	for (int c = 0; c < n; c++) {
		struct store_cell *x = &cells[c];
		memset(x, 0, sizeof *x);
		blobs[c] = NULL;
		if (PQgetisnull(r, i, c)) {
			x->kind = STORE_CELL_NULL;
			continue;
		}
		const char *v = PQgetvalue(r, i, c);
		switch (PQftype(r, c)) {
		case OID_INT8: case OID_INT4: case OID_INT2:
			x->kind = STORE_CELL_INT;
			x->i = strtoll(v, NULL, 10);
			break;
		case OID_BOOL:
			x->kind = STORE_CELL_INT;
			x->i = v[0] == 't';
			break;
		case OID_TEXT: case OID_VARCHAR:
			x->kind = STORE_CELL_TEXT;
			x->p = v;
			x->len = (size_t)PQgetlength(r, i, c);
			break;
		case OID_BYTEA: {
			size_t len = 0;
			blobs[c] = PQunescapeBytea((const unsigned char *)v, &len);
			if (!blobs[c]) {
				snprintf(p->err, sizeof p->err, "out of memory decoding a bytea");
				return -1;
			}
			x->kind = STORE_CELL_BLOB;
			x->p = (const char *)blobs[c];
			x->len = len;
			break;
		}
		default:
			snprintf(p->err, sizeof p->err, "column %s has a type (oid %u) migrate does not copy",
				 PQfname(r, c), PQftype(r, c));
			return -1;
		}
	}
	return 0;
}

static int pg_raw_scan(struct store *s, const char *table,
		       int (*cb)(void *ctx, size_t n, const char *const *names,
				 const struct store_cell *cells),
		       void *ctx)
{
	struct store_pg *p = store_pg_of(s);
	if (!p->in_write && !p->in_read) {
		snprintf(p->err, sizeof p->err, "raw_scan outside a transaction");
		return STORE_ERR;
	}
	int rc = raw_known(p, table);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(p->err, sizeof p->err, "no table '%.64s'", table);
		return rc < 0 ? rc : STORE_ERR;
	}
	/* a cursor of this call (a callback may scan another table meanwhile) */
	char cur[40], sql[192], fetch[80];
	snprintf(cur, sizeof cur, "lk_raw_%lx", (unsigned long)(uintptr_t)&rc);
	snprintf(sql, sizeof sql, "DECLARE %s NO SCROLL CURSOR FOR SELECT * FROM \"%s\"", cur, table);
	snprintf(fetch, sizeof fetch, "FETCH " RAW_FETCH " FROM %s", cur);
	if ((rc = store_pg_exec_script(p, sql)) != 0)
		return rc;
	struct store_cell cells[RAW_COLS_MAX];
	unsigned char *blobs[RAW_COLS_MAX];
	const char *names[RAW_COLS_MAX];
	for (;;) {
		/* FETCH cannot be prepared: sent as it is */
		PGresult *r = PQexec(store_pg_conn(s), fetch);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			rc = store_pg_fail(p, "reading a table", r);
			PQclear(r);
			break;
		}
		int rows = PQntuples(r), n = PQnfields(r);
		if (n <= 0 || n > RAW_COLS_MAX) {
			PQclear(r);
			rc = rows ? STORE_ERR : 0;
			break;
		}
		for (int c = 0; c < n; c++)
			names[c] = PQfname(r, c);
		for (int i = 0; rc == 0 && i < rows; i++) {
			rc = row_cells(p, r, i, n, cells, blobs) != 0 ? STORE_ERR : 0;
			if (rc == 0)
				rc = cb(ctx, (size_t)n, names, cells);
			for (int c = 0; c < n; c++)
				PQfreemem(blobs[c]);
		}
		PQclear(r);
		if (rc != 0 || rows == 0)
			break;
	}
	snprintf(sql, sizeof sql, "CLOSE %s", cur);
	int closed = store_pg_exec_script(p, sql);
	return rc != 0 ? rc : closed;
}

static int pg_raw_clear(struct store *s, const char *table)
{
	struct store_pg *p = store_pg_of(s);
	if (!p->in_write) {
		snprintf(p->err, sizeof p->err, "raw_clear outside a write transaction");
		return STORE_ERR;
	}
	int rc = raw_known(p, table);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(p->err, sizeof p->err, "no table '%.64s'", table);
		return rc < 0 ? rc : STORE_ERR;
	}
	char sql[128];
	snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", table);
	return store_pg_exec(p, sql, 0, NULL, NULL);
}

static int pg_raw_put(struct store *s, const char *table, size_t n, const char *const *names,
		      const struct store_cell *cells)
{
	struct store_pg *p = store_pg_of(s);
	if (!p->in_write || n == 0 || n > RAW_COLS_MAX) {
		snprintf(p->err, sizeof p->err, "raw_put outside a write transaction or too wide");
		return STORE_ERR;
	}
	int rc = raw_known(p, table);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(p->err, sizeof p->err, "no table '%.64s'", table);
		return rc < 0 ? rc : STORE_ERR;
	}
	char sql[8192];
	size_t k = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\"(", table);
	for (size_t i = 0; i < n && k < sizeof sql; i++) {
		if (!plain_ident(names[i])) {
			snprintf(p->err, sizeof p->err, "column name '%.64s' refused", names[i]);
			return STORE_ERR;
		}
		k += (size_t)snprintf(sql + k, sizeof sql - k, "%s\"%s\"", i ? ", " : "", names[i]);
	}
	for (size_t i = 0; i < n && k < sizeof sql; i++)
		k += (size_t)snprintf(sql + k, sizeof sql - k, "%s$%zu", i ? ", " : ") VALUES(", i + 1);
	if (k < sizeof sql)
		k += (size_t)snprintf(sql + k, sizeof sql - k, ")");
	if (k >= sizeof sql) {
		snprintf(p->err, sizeof p->err, "raw_put: statement too long");
		return STORE_ERR;
	}
	const char *params[RAW_COLS_MAX];
	int lengths[RAW_COLS_MAX], formats[RAW_COLS_MAX];
	char nums[RAW_COLS_MAX][STORE_PG_NUM];
	char *texts[RAW_COLS_MAX] = { 0 };
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct store_cell *c = &cells[i];
		lengths[i] = 0;
		formats[i] = 0;
		switch (c->kind) {
		case STORE_CELL_NULL: params[i] = NULL; break;
		case STORE_CELL_INT: params[i] = store_pg_i64(nums[i], c->i); break;
		case STORE_CELL_TEXT:
			/* text parameters are NUL-terminated: a copy */
			if (!(texts[i] = malloc(c->len + 1)) || memchr(c->p, '\0', c->len)) {
				snprintf(p->err, sizeof p->err, "a text of %s cannot be copied", names[i]);
				rc = STORE_ERR;
				break;
			}
			memcpy(texts[i], c->p, c->len);
			texts[i][c->len] = '\0';
			params[i] = texts[i];
			break;
		case STORE_CELL_BLOB:
			params[i] = c->p ? c->p : "";
			lengths[i] = (int)c->len;
			formats[i] = 1;
			break;
		default: rc = STORE_ERR;
		}
	}
	if (rc == 0)
		rc = store_pg_exec_bin(p, sql, (int)n, params, lengths, formats, NULL);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	return rc;
}

/* After the copy: identity columns (hub_receipt.id) continue above the copied ids; the
 * hub id of this handle is the copied one; the recorded identity of the database
 * (pg_identity, which a PostgreSQL source's hub_meta brought along) is this database's
 * again, so that the next open does not take it for a restored copy and change the
 * hub id. */
static int pg_raw_done(struct store *s)
{
	struct store_pg *p = store_pg_of(s);
	if (!p->in_write) {
		snprintf(p->err, sizeof p->err, "raw_done outside a write transaction");
		return STORE_ERR;
	}
	PGresult *r;
	int rc = store_pg_exec(p, "SELECT table_name, column_name FROM information_schema.columns"
			       " WHERE table_schema = current_schema() AND is_identity = 'YES'", 0,
			       NULL, &r);
	if (rc != 0)
		return rc;
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		const char *t = PQgetvalue(r, i, 0), *c = PQgetvalue(r, i, 1);
		if (!plain_ident(t) || !plain_ident(c))
			continue;
		char sql[512];
		snprintf(sql, sizeof sql, "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'),"
			 " coalesce((SELECT max(\"%s\") FROM \"%s\"), 0) + 1, false)", t, c, c, t);
		rc = store_pg_exec(p, sql, 0, NULL, NULL);
	}
	PQclear(r);
	if (rc == 0)
		rc = store_pg_identity_record(p);
	if (rc == 0 && (rc = store_pg_exec(p, "SELECT value FROM hub_meta WHERE key = 'hub_id'", 0,
					    NULL, &r)) == 0) {
		if (PQntuples(r) == 1)
			snprintf(p->hub_id, sizeof p->hub_id, "%s", PQgetvalue(r, 0, 0));
		else
			rc = store_pg_fail(p, "the copy has no hub_id", NULL);
		PQclear(r);
	}
	return rc;
}

void store_pg_raw_ops(struct store *ops)
{
	ops->raw_tables = pg_raw_tables;
	ops->raw_scan = pg_raw_scan;
	ops->raw_clear = pg_raw_clear;
	ops->raw_put = pg_raw_put;
	ops->raw_done = pg_raw_done;
}
