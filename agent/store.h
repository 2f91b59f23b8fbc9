/*
 * store.h — the agent's local SQLite database: open/create, the synced tables with
 * their CHECK constraints and journaling triggers (generated from schema.h), and the
 * agent's own tables (lk_state, lk_journal, lk_config, lk_quarantine, lk_skipped).
 *
 * Internal tables (exact DDL in store.c; PROTOCOL.md §4–§5 give the meaning):
 *   lk_state(one=1, agent_id, unit_id, last_clock, offset_ms, applying, schema_version,
 *            acked_seq)       -- one row; `applying`=1 only inside store_apply_begin/end,
 *                                so triggers skip rows written by pull; entries with
 *                                seq <= acked_seq are acknowledged
 *   lk_journal(seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl, row_id, op, owner, fields JSON,
 *            recorded_ms, clock, schema_version, hash BLOB, chain BLOB, skipped TEXT,
 *            row_floor)   -- row_floor: the highest clock known for the row from outside
 *                            the journal when the entry was written (PROTOCOL.md §4)
 *   lk_row_clock(tbl, row_id, clock)  -- per row, the highest clock pulled, and of own
 *                                        entries compacted away: the floor source
 *   lk_config(key PRIMARY KEY, value)  -- hub_url, token, ca_file, batch_bytes, hub_id,
 *            pull_cursor, backup_seq, compacted_seq, compacted_chain, last_sync_ms,
 *            last_error, hub_checksums, backup_dir, backup_keep_days …
 *   lk_quarantine(seq, code, tbl, row_id, field, message, at_ms)  -- from hub answers
 *   lk_skipped(seq PRIMARY KEY, reason, at_ms)  -- entries sent as skipped (§5)
 *   lk_backup(path PRIMARY KEY, made_ms)        -- backup copies made, for rotation
 * Journal rows are written with hash, chain and skipped NULL: the sync engine fills
 * hash and chain in sequence order (SQL has no SHA-256).
 *
 * PRAGMA user_version numbers the layout of these tables (1: floors); an older
 * database is brought to it on open, in one transaction.
 *
 * Every connection has the SQL function lk_fold(text): the search key of textnorm.h
 * (case, diacritics and đ ignored), for searches by name.
 *
 * The database runs in WAL mode with synchronous=FULL and a busy timeout, so a power
 * cut after a command returned loses nothing and a daemon can sync beside interactive
 * use.
 */
#ifndef LK_AGENT_STORE_H
#define LK_AGENT_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"

#define STORE_BUSY_TIMEOUT_MS 10000 /* a daemon's sync may hold the write lock this long */

/* Bytes of a statement journal kept in memory before SQLite moves it to a temporary
 * file (SQLite's default: 64 KiB). Every write to a synced table runs a journaling
 * trigger, so SQLite keeps a statement journal for it: the original of every page
 * the statement touches. A statement of an import or a removal in bulk often touches
 * more than 16 pages (a b-tree rebalance), and past 64 KiB the journal went to a file
 * for the rest of the transaction, two system calls per page of every later
 * statement: half of a journaled DELETE's time in bulk (bench/README.md, figure 4). */
#define STORE_STMT_JOURNAL_SPILL (256 * 1024)

/* Process-wide SQLite settings for the agent (STORE_STMT_JOURNAL_SPILL). Call once,
 * first thing, before any other SQLite call of the process (sqlite3_config refuses
 * afterwards): 0, or -1 when SQLite was already in use (nothing changed; the agent
 * still works, only slower). */
int store_process_init(void);

struct store;

/* Where --db defaults to: $LIENKET_DB, else "lienket.db" in the current directory. */
const char *store_default_path(void);

/* Opens an existing agent database. 0 on success (*out set; close with store_close),
 * -1 with an English reason in err (missing file, not an agent database, newer schema). */
int store_open(const char *path, struct store **out, char *err, size_t errlen);

/* Creates a new database at path (which must not exist) for unit_id (a UUID, or NULL
 * or "" when the unit is known only by its official code: see store_set_unit_id), with
 * a new agent id. 0 on success (*out set), -1 with reason in err; nothing is left behind on
 * failure. */
int store_create(const char *path, const char *unit_id, struct store **out, char *err,
		 size_t errlen);

void store_close(struct store *s); /* accepts NULL */

/* Borrowed handle, valid until store_close. */
sqlite3 *store_db(struct store *s);

/* Prepared statements kept between uses, for SQL run once per row (the pull merge,
 * journal lookups). take: 0 and *out, a statement for `sql` (one SQL statement) that
 * the caller owns until it hands it to store_stmt_give — one given back earlier (reset,
 * no bindings) or a newly prepared one; -1 when SQLite cannot prepare it
 * (sqlite3_errmsg(store_db(s)) says why), *out untouched. Two takes of the same SQL
 * without a give between them get two statements. give: resets the statement, clears
 * its bindings and keeps it for a later take (the store finalizes the oldest kept one
 * beyond a small number, and all of them in store_close); accepts NULL. The caller may
 * also finalize a taken statement itself instead of giving it back. */
int store_stmt_take(struct store *s, const char *sql, sqlite3_stmt **out);
void store_stmt_give(struct store *s, sqlite3_stmt *st);

/* Borrowed strings, valid until store_close. */
const char *store_agent_id(struct store *s);
const char *store_unit_id(struct store *s);

/* Config values. get: 0 and *out = new string (free with free()), 1 when absent
 * (*out = NULL), -1 on error. set: value NULL deletes; 0 or -1. */
int store_config_get(struct store *s, const char *key, char **out);
int store_config_set(struct store *s, const char *key, const char *value);
int64_t store_config_int(struct store *s, const char *key, int64_t dflt);
int store_config_set_int(struct store *s, const char *key, int64_t value);
/* Sequence numbers, cursors and times kept as unsigned decimal text. get: 0 and *out,
 * dflt when the key is absent, null or ""; -1 on error (*out untouched). set: 0 or -1.
 * Like every config call, one plain statement: safe inside a caller's transaction. */
int store_config_u64(struct store *s, const char *key, uint64_t dflt, uint64_t *out);
int store_config_set_u64(struct store *s, const char *key, uint64_t value);

/* The numbers of lk_state the sync engine reads and moves (meaning: the table above). */
enum store_state {
	STORE_STATE_ACKED_SEQ,
	STORE_STATE_LAST_CLOCK,
	STORE_STATE_OFFSET_MS,
};
/* get: 0 and *out, -1 on error (*out untouched). set: 0 or -1. One plain statement
 * each: safe inside a caller's transaction. */
int store_state_i64(struct store *s, enum store_state field, int64_t *out);
int store_state_set_i64(struct store *s, enum store_state field, int64_t value);

/* Starts a write transaction (BEGIN IMMEDIATE) in which triggers do not journal
 * (applying = 1): for rows arriving by pull. store_apply_end commits (commit=1) or rolls
 * back, always resetting applying. 0 or -1. */
int store_apply_begin(struct store *s);
int store_apply_end(struct store *s, int commit);

/* Replaces the agent id (recover): a new UUIDv7; old id kept in lk_config
 * "previous_agent_ids". 0 or -1. Must be called inside a transaction. */
int store_new_agent_id(struct store *s);

/* Copies the database to dir/lienket-YYYYMMDD-HHMMSS.db with SQLite's online backup,
 * and removes copies older than keep_days. 0 or -1 (reason in err). */
int store_backup(struct store *s, const char *dir, int keep_days, char *err, size_t errlen);

/* store_backup that also writes the new copy's path into path_out (path_len bytes;
 * may be NULL). Only copies this database made (listed in lk_backup) are ever removed;
 * keep_days <= 0 keeps every copy. The directory must exist. */
int store_backup_to(struct store *s, const char *dir, int keep_days, char *path_out, size_t path_len,
		    char *err, size_t errlen);

/* Binds value v (copied) to parameter idx of st: integer, text or null. */
void store_bind_value(sqlite3_stmt *st, int idx, const struct value *v);

/* Wall time in Unix milliseconds. */
int64_t store_wall_ms(void);

/* The whole DDL of an agent database (lk_* tables, synced tables, their CHECK
 * constraints, indexes and triggers) as one SQL text. 0 and *out (free with free()),
 * or -1 when out of memory. */
int store_schema_sql(char **out);

/* A database created for an official code (store_create with unit_id "" and lk_config
 * "unit_code") has no owning unit until the hub names it (hello answer's `unit`) or the
 * office gives it (`config --unit`). Sets it once: 0, or -1 when unit_id is not a UUID,
 * the unit is already set, or SQLite fails. store_unit_id() is "" until then. */
int store_set_unit_id(struct store *s, const char *unit_id);

/* 1 when unit_id is the agent's unit or below it in the local unit tree as of today
 * (unit_parent links valid today), 0 when not (or the agent's unit is not known yet),
 * -1 on SQLite error. */
int store_in_scope(struct store *s, const char *unit_id);

#endif
