/*
 * pg_internal.h — what the files of the PostgreSQL back end share (store_pg.c: open,
 * transactions, the hub sequence, rows, units, agents, records; store_pg_access.c:
 * sessions, viewers, failed logins, digest mail, flags; store_pg_views.c: the read side).
 * Only these files include libpq-fe.h; everyone else sees struct store (store.h).
 *
 * One handle is one libpq connection, used from one thread at a time (store.h).
 *
 * Transactions (store_pg.c):
 *   begin()       BEGIN ISOLATION LEVEL READ COMMITTED: every statement sees what others
 *                 committed before it, so a value read after taking its lock is current.
 *                 A function that reads something in order to write it back takes a lock
 *                 first, inside a write transaction (store_pg_in_write): rows and agents
 *                 by a transaction-level advisory lock on (kind, key) (store_pg_lock:
 *                 absent rows included), the rest by SELECT … FOR UPDATE.
 *   read_begin()  BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY: one snapshot.
 *   commit()      the rows written got provisional hub sequences (above
 *                 STORE_PG_HS_PROVISIONAL); they are renumbered here under a short
 *                 advisory lock held to the end of COMMIT, so hub sequences rise in
 *                 commit order across every process (PROTOCOL.md §6.3, ARCHITECTURE.md).
 *
 * Errors: every helper returns a store_code (store.h): SQLSTATE 40001/40P01 ->
 * STORE_CONFLICT (also 23505: an insert raced another), 53100 -> STORE_FULL,
 * 53300/55P03/57P03/57014 -> STORE_BUSY, 08xxx/57P01/57P02 and a lost connection ->
 * STORE_IO, XX001/XX002 -> STORE_CORRUPT, anything else STORE_ERR. The words are kept
 * for s->errmsg. A conflict inside a write transaction also makes its commit() fail
 * with STORE_CONFLICT (after rolling back), even when a savepoint undid the statement
 * that met it: the caller retries the whole transaction.
 *
 * Connections: one lost between transactions is made again by the next call (its
 * prepared statements made afresh); if the database then holds another hub id (it was
 * restored, a standby took over) the handle fails every later call: restart the hub.
 *
 * Owns (struct store_pg): the connection, its prepared statements, the words of the
 * last failure.
 */
#ifndef LK_HUB_PG_INTERNAL_H
#define LK_HUB_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Provisional hub sequences: rows written by an open transaction carry
 * STORE_PG_HS_PROVISIONAL + k (k = 1, 2, …), never seen by others (uncommitted), and
 * get their real number at commit. Real sequences stay far below it. */
#define STORE_PG_HS_PROVISIONAL ((uint64_t)1 << 62)

/* Advisory lock keys: pg_advisory_xact_lock(STORE_PG_LOCK_NS + kind, key). */
#define STORE_PG_LOCK_NS 0x4c4b0000 /* "LK" */
enum store_pg_lock_kind {
	STORE_PG_LOCK_HS = 1,      /* key 0: the hub sequence, taken at commit */
	STORE_PG_LOCK_DDL = 2,     /* key 0: making or upgrading tables at open */
	STORE_PG_LOCK_META = 3,    /* key hashtext(meta key) */
	STORE_PG_LOCK_AGENT = 4,   /* key hashtext(agent id) */
	STORE_PG_LOCK_TOKEN = 5,   /* key hashtext(token hash) */
	STORE_PG_LOCK_SERVING = 6, /* key 0: session-level, shared by every `serve`, exclusive
				    * for what must run with no hub serving (restore) */
	STORE_PG_LOCK_SESSION = 7, /* key hashtext(session hash) (store_pg_access.c) */
	STORE_PG_LOCK_VIEWER = 8,  /* key hashtext(viewer name) */
	STORE_PG_LOCK_LOGIN = 9,   /* key hashtext(failed-login key) */
	STORE_PG_LOCK_ROW = 256,   /* + table index (schema_tables[]), key hashtext(row id) */
};

#define STORE_PG_STMT_MAX 256  /* distinct statements kept prepared per connection */
#define STORE_PG_NUM 24        /* a decimal int64 with sign and NUL */

struct store_pg_stmt {
	char *sql;
	uint32_t hash;
	char name[16];
};

struct store_pg {
	struct store base;
	PGconn *conn;
	char hub_id[37];          /* read at open: a reconnection must find the same one */
	int in_write;             /* begin() .. commit()/rollback() */
	int in_read;              /* a snapshot of read_begin() open */
	int read_depth;           /* read_begin() pairs open (they nest) */
	int conflicted;           /* a conflict met in this write transaction */
	int gone;                 /* STORE_CORRUPT once a reconnection found another hub id */
	uint64_t hs_given;        /* provisional hub sequences given out in this transaction */
	unsigned char *written;   /* per schema table: written in this transaction */
	uint64_t unit_writes;     /* unit-table writes and rollbacks on this handle */
	struct store_pg_stmt stmts[STORE_PG_STMT_MAX];
	size_t nstmts;
	char err[512];            /* the last failure, for s->errmsg */
};

static inline struct store_pg *store_pg_of(struct store *s) { return (struct store_pg *)s; }

/* The connection of a PostgreSQL store (borrowed, valid until s->close). */
static inline PGconn *store_pg_conn(struct store *s) { return store_pg_of(s)->conn; }

/* 1 inside begin() .. commit()/rollback(). */
static inline int store_pg_in_write(struct store *s) { return store_pg_of(s)->in_write; }

/* Runs one statement with $1..$n bound as text (params[i] NULL: SQL NULL), prepared once
 * per connection and reused. 0 with *res (caller PQclear's) when res is not NULL, else
 * the result is dropped; or a negative store_code with the words recorded (*res NULL). */
int store_pg_exec(struct store_pg *p, const char *sql, int n, const char *const *params,
		  PGresult **res);
/* The same with per-parameter lengths and formats (1 = binary, e.g. bytea). */
int store_pg_exec_bin(struct store_pg *p, const char *sql, int n, const char *const *params,
		      const int *lengths, const int *formats, PGresult **res);
/* Runs sql text without parameters (several statements allowed: DDL). 0 or a code. */
int store_pg_exec_script(struct store_pg *p, const char *sql);

/* The number of rows a command changed (INSERT/UPDATE/DELETE result). */
int64_t store_pg_changed(const PGresult *r);

/* Records a failure: the code of res (or of the connection when res is NULL), its words
 * prefixed by what (may be NULL). Returns the code. */
int store_pg_fail(struct store_pg *p, const char *what, const PGresult *res);

/* Maps a SQLSTATE (NULL: none, the connection is looked at) to a store_code. */
int store_pg_code(const char *sqlstate, PGconn *conn);

/* Takes pg_advisory_xact_lock(STORE_PG_LOCK_NS + kind, hashtext(key)) inside the open
 * write transaction (nothing outside one). 0 or a code. */
int store_pg_lock(struct store_pg *p, int kind, const char *key);

/* Text of a decimal int64 into buf (returned). */
const char *store_pg_i64(char buf[STORE_PG_NUM], int64_t v);

/* Column values of row `row`: copied text ("" for NULL, cut to n-1 bytes), an integer
 * (0 for NULL), a borrowed text or NULL. */
void store_pg_text(char *dst, size_t n, const PGresult *r, int row, int col);
int64_t store_pg_int(const PGresult *r, int row, int col);
const char *store_pg_str(const PGresult *r, int row, int col);

/* store_pg_open (store.h) without its check that every slot is set: the handle of the
 * connection, its tables made (create=1, in a database without a hub) or upgraded and
 * its identity checked. For the tests of one part of the back end; 0 or a code with
 * err written. */
int store_pg_connect(const char *conninfo, int create, struct store_pg **out, char *err,
		     size_t errlen);

/* Records where the database stands now (hub_meta 'pg_identity': system identifier,
 * timeline, the OIDs of the database and of hub_meta) without touching hub_id, inside a
 * write transaction: for migrate's raw_done, after hub_meta was copied from another
 * database (whose identity must not come along, or the next open would take this one
 * for a restored copy and give it a new hub id). 0 or a code. */
int store_pg_identity_record(struct store_pg *p);

/* ---- the parts other files fill (called by store_pg_open on its table) ---- */

/* store_pg_views.c: sets figures, status_agents, status_issues, status_flags, arrivals
 * and latest_year (the read side of store.h). */
void store_pg_views_ops(struct store *ops);

/* store_pg_access.c: sets session_*, sessions_prune*, viewer_*, viewers_list,
 * login_fail_*, mail_to_*, digest_mail*, flag_* and flags_count. */
void store_pg_access_ops(struct store *ops);
/* store_pg_access.c: CREATE … IF NOT EXISTS of hub_session, hub_viewer, hub_login_fail,
 * hub_mail_to, hub_digest_mail, hub_flag and their indexes (run by store_pg_open under
 * the DDL lock, in the transaction that makes or upgrades the tables). */
extern const char STORE_PG_ACCESS_DDL[];
/* store_pg_raw.c (pg-ops, migrate): sets raw_tables, raw_scan, raw_clear, raw_put and
 * raw_done. */
void store_pg_raw_ops(struct store *ops);

#endif
