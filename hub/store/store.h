/*
 * store.h — the hub's storage interface: one table of functions, so that a second
 * back end (PostgreSQL, a later issue) is one new file, not a rewrite.
 *
 * A back end is a struct whose first member is `struct store` with every function
 * pointer set; store_sqlite_open (store_sqlite.c) makes the SQLite one. One store
 * handle is one connection: use it from one thread at a time. Writes happen only
 * inside begin/commit; `savepoint`/`savepoint_end` nest one level inside, so one change
 * set can be undone inside a group commit.
 *
 * What the store holds (the SQLite DDL is in store_sqlite.c):
 *   - every synced table of schema_tables[], its declared columns plus metadata:
 *     _ins_clock/_ins_writer, _del_clock/_del_writer (latest insert and delete),
 *     _clock/_writer (row clock) and _fc (per-column overrides, merge.h),
 *     _hs (hub sequence of the row's last write: the pull cursor), _recv_ms (hub time
 *     of that write; the office's time is in the clocks);
 *   - meta (hub_id, hub sequence counter, schema version, the hub position of each
 *     agent's last pull from cursor 0: api.c), tokens, agents, receipts, each agent's
 *     chain at every acknowledged sequence, quarantine, skipped entries, held changes
 *     and flags; the dashboard's sessions (hashed ids); the scope each agent last
 *     pulled with (api.c); viewer accounts and failed logins (viewer.h); digest
 *     recipients and every digest mailed (digestmail.h).
 *
 * Conventions: functions return STORE_OK (0) on success and a negative enum store_code
 * on a storage failure that says why (STORE_ERR, -1, when nothing more precise is
 * known: callers testing `!= 0` or `< 0` need not care); lookups return STORE_ABSENT
 * (1) when the thing is absent (out untouched). errmsg gives the back end's words for
 * the last failure. Strings passed in are borrowed for the call; callbacks get borrowed
 * values valid during the callback only, and stop the scan by returning non-zero (that
 * value is returned).
 *
 * Back ends: hub_store_open picks one from the --db value (SQLite: a file path or
 * "sqlite:PATH"; PostgreSQL: "postgresql://…" or "postgres://…", store_pg.c). The table
 * is versioned (STORE_VERSION, like libgit2's refdb_backend): a back end sets version
 * to the layout it was written for.
 */
#ifndef LK_HUB_STORE_H
#define LK_HUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "merge.h"
#include "schema.h"

/* The layout of struct store this build knows (every back end sets .version to it). */
#define STORE_VERSION 1

/* What a store function returns. Failures are negative; lookups answer STORE_ABSENT. */
enum store_code {
	STORE_OK = 0,
	STORE_ABSENT = 1,    /* the thing looked up is not there */
	STORE_ERR = -1,      /* any other failure (SQL error, out of memory, misuse) */
	STORE_BUSY = -2,     /* another process holds the database beyond the wait: retry later */
	STORE_FULL = -3,     /* the disk, a quota or the database's size limit is full */
	STORE_CORRUPT = -4,  /* the database is damaged, or is not a hub database */
	STORE_CONFLICT = -5, /* a concurrent writer won (serialization failure, deadlock, a
			      * snapshot gone stale): roll back and retry the whole transaction */
	STORE_IO = -6,       /* reading or writing failed below the database (disk, network) */
};

/* A stable lower-case name of a code for logs ("busy", "conflict", …; "error" for any
 * other negative value, "ok", "absent"). */
const char *store_code_name(int code);

#define STORE_TOKEN_PREFIX 11 /* "lk_" + 8 characters: shown and used by `revoke` */

enum store_token_kind { STORE_TOKEN_AGENT = 0, STORE_TOKEN_VIEWER = 1 };

struct store_token {
	char hash[65];                  /* SHA-256 of the token, hex */
	char prefix[STORE_TOKEN_PREFIX + 1];
	enum store_token_kind kind;
	char unit_id[37];               /* "" for viewers */
	char name[64];
	char agent_id[37];              /* "" until the first hello */
	int64_t created_ms;
	int64_t revoked_ms;             /* 0 = active */
	int fork_refused;               /* a fork was refused for the bound agent */
	int rebound;                    /* a re-binding after a refused fork (recover) was used */
};

/* A dashboard session (session.h): only the SHA-256 of its id is kept. */
struct store_session {
	char hash[65];                  /* SHA-256 of the session id, hex */
	char token_hash[65];            /* the viewer token it was opened with, or the
					 * session key of the viewer account (store_viewer.key) */
	int64_t created_ms;
	int64_t seen_ms;                /* last use recorded */
	int remember;                   /* 1: "remember me", the longer bounds of session.h */
};

/* A named viewer account (viewer.h). */
#define STORE_VIEWER_NAME 33            /* a login name: 1..32 of [a-z0-9._-] */
#define STORE_VIEWER_HASH 160           /* an argon2id encoded hash fits with room */
struct store_viewer {
	char name[STORE_VIEWER_NAME];
	char unit_id[37];               /* "" the province; else the subtree it may read */
	char password[STORE_VIEWER_HASH]; /* argon2id encoded; "" until set by the link */
	char key[65];                   /* its sessions' key (store_session.token_hash):
					 * new at every password change, so they all end */
	char invite_hash[65];           /* SHA-256 of the one-time link; "" used or none */
	int64_t invite_expires_ms;
	int64_t created_ms;
	int64_t changed_ms;             /* last password change or link */
};

/* Failed logins of one key ("name:<login>" or "addr:<address>", viewer.h). */
struct store_login_fail {
	char key[96];
	int64_t failures;
	int64_t first_ms, last_ms;
};

/* One morning digest of one scope (digestmail.h): what was (or is to be) mailed, and
 * how its sending went. The four texts are malloc'd (store_digest_mail_release). */
struct store_digest_mail {
	char date[11];                  /* YYYY-MM-DD, the digest's date */
	char unit_id[37];               /* the scope: the province or a district */
	char *html, *status_csv, *arrivals_csv, *report_csv;
	char subject[512];              /* UTF-8, as shown (encoded when sent) */
	char recipients[1024];          /* comma-separated, as sent */
	int64_t built_ms;
	int64_t attempts;
	int64_t last_try_ms;
	int64_t sent_ms;                /* 0 until the relay accepted it */
	char error[256];                /* the last failure, "" when none */
};
void store_digest_mail_release(struct store_digest_mail *m);

struct store_agent {
	char id[37];
	char unit_id[37];
	uint64_t acked;
	char chain[65];                 /* chain(acked), hex */
	int64_t first_seen_ms;
	int64_t last_hello_ms;          /* hub time of the last hello */
	int64_t last_changes_ms;        /* hub time of the last accepted change set */
	int64_t wall_ms;                /* the laptop's wall time at the last hello */
	int64_t offset_ms;              /* hub time - laptop wall time at the last hello */
	int64_t pending;                /* unacknowledged entries reported */
	char software[64];
	char retired_to[37];            /* "" or the id that replaced it (recover) */
};

struct store_receipt {
	char agent_id[37];
	uint64_t seq_from, seq_to;
	char chain_before[65], chain_after[65];
	int64_t applied, quarantined, held, skipped;
	int duplicate;
	int64_t received_ms;
};

struct store_flag {
	const char *table, *row_id, *kind, *field, *detail, *suggestion;
};

/* One office's counters for /v1/status. */
struct store_agent_counts {
	int64_t quarantined, skipped, held;
};

/* One value of a raw row (raw_scan, raw_put): p/len for text (UTF-8, not necessarily
 * NUL-terminated) and blobs, i for integers (booleans are 0/1). */
enum store_cell_kind { STORE_CELL_NULL = 0, STORE_CELL_INT, STORE_CELL_TEXT, STORE_CELL_BLOB };
struct store_cell {
	enum store_cell_kind kind;
	int64_t i;
	const char *p;
	size_t len;
};

struct store_unit_info {
	const char *id, *code, *name, *kind, *parent_id;
};

/* ---- what the province reads (status.h, digest.h, dashpage.h) ---- */

/* An agent as the sync status reads it as of a time (status_agents). */
struct store_status_agent {
	const char *id, *unit_id, *software, *retired_to;
	uint64_t acked;
	int64_t first_seen_ms, last_hello_ms, last_changes_ms, offset_ms, pending;
	int revoked;            /* no token of the agent was active at as_of (none, or every
				 * one revoked by then) */
	int64_t receipt_ms;     /* when last_hello_ms or last_changes_ms is after as_of: the
				 * latest receipt's received_ms at or before as_of (0 none);
				 * else 0 (not read) */
	int64_t since_hello;    /* when last_hello_ms <= as_of and pending > 0: the entries
				 * (seq_to - seq_from + 1) of the non-duplicate receipts with
				 * last_hello_ms <= received_ms <= as_of; else 0 (not read) */
};

/* Something of an agent the hub refused, could not get or keeps aside (status_issues). */
enum store_issue_kind {
	STORE_ISSUE_QUARANTINE, /* hub_quarantine: code, table, row_id, field, message */
	STORE_ISSUE_SKIPPED,    /* hub_skipped: code = the reason */
	STORE_ISSUE_HELD,       /* hub_held: code = the owner unit it waits for */
};
struct store_issue {
	enum store_issue_kind kind;
	const char *agent_id;
	uint64_t seq;
	const char *code;
	const char *table, *row_id, *field, *message; /* quarantine only (may be NULL) */
	int64_t at_ms;
};

/* A flag with the writer of its row (status_flags). */
struct store_flag_row {
	const char *table, *row_id, *kind, *field, *detail, *suggestion; /* detail, suggestion
									 * may be NULL */
	int64_t at_ms;
	const char *writer;     /* _writer of the flagged row: the agent that last wrote it
				 * ("" when the row or its table is unknown) */
};

/* What one agent sent in a period (arrivals): its receipts summed. */
struct store_arrival {
	const char *agent_id;
	const char *unit_id;    /* "" when the agent is unknown */
	int64_t changesets;     /* non-duplicate receipts */
	int64_t duplicates;
	int64_t changes;        /* entries of the non-duplicate ones (seq_to - seq_from + 1) */
	int64_t applied, quarantined, held, skipped;
	int64_t first_ms, last_ms; /* received_ms, min and max */
};

struct figures_source;
struct figures_error;
struct unittree;

struct store {
	int version;         /* STORE_VERSION */
	const char *backend; /* "sqlite", "postgresql" */
	void (*close)(struct store *s);
	/* The back end's own words (English) for the last failure on this handle; never
	 * NULL, valid until the next call on the handle. */
	const char *(*errmsg)(struct store *s);

	int (*begin)(struct store *s);     /* write transaction */
	int (*commit)(struct store *s);    /* durable on return */
	int (*rollback)(struct store *s);
	/* A consistent snapshot for reads until read_end. Pairs nest: only the outermost
	 * begins and ends a transaction, and inside a write transaction both do nothing (the
	 * reads see the writer's own state), so a view can open one around its reads
	 * whether or not its caller did. */
	int (*read_begin)(struct store *s);
	int (*read_end)(struct store *s);
	int (*savepoint)(struct store *s);
	int (*savepoint_end)(struct store *s, int keep); /* keep=0 undoes since savepoint */

	/* meta: text values by key. get: 0, 1 absent, -1. */
	int (*meta_get)(struct store *s, const char *key, char *buf, size_t len);
	int (*meta_set)(struct store *s, const char *key, const char *value);
	/* Next hub sequence (within the write transaction). */
	int (*next_hs)(struct store *s, uint64_t *hs);
	/* The last hub sequence given out, this write transaction's included: rows written
	 * from now on get a greater one (rows_after that position lists them). */
	int (*last_hs)(struct store *s, uint64_t *hs);

	/* Rows. row_read fills an initialised row (merge_row_init done by the caller with
	 * the table and id) and returns 0, or 1 when absent. row_write inserts or replaces. */
	int (*row_read)(struct store *s, struct merge_row *r);
	int (*row_write)(struct store *s, const struct merge_row *r, uint64_t hs,
			 int64_t recv_ms);
	/* 1 when table holds row id inserted (tombstones count: the hub holds it), 0 not. */
	int (*row_known)(struct store *s, const struct schema_table *t, const char *id);
	/* Rows of t with _hs > after, in _hs order, at most limit; scope_json is a JSON
	 * array of unit ids, or NULL for every row. For SCHEMA_PULL_ASSIGNEE tables a row
	 * also matches when assignee_unit_id is in scope. */
	int (*rows_after)(struct store *s, const struct schema_table *t, uint64_t after,
			  const char *scope_json, size_t limit,
			  int (*cb)(void *ctx, const struct merge_row *r, uint64_t hs), void *ctx);
	/* Existing rows of t owned by units in scope_json (any order). */
	int (*rows_owned)(struct store *s, const struct schema_table *t, const char *scope_json,
			  int (*cb)(void *ctx, const struct merge_row *r), void *ctx);

	/* Units. */
	/* Parent links existing and valid on `today` (YYYY-MM-DD). */
	int (*unit_links)(struct store *s, const char *today,
			  int (*cb)(void *ctx, const char *unit, const char *parent), void *ctx);
	/* Existing events that hand a unit's records to another unit: merge, split (a
	 * part, not the unit naming itself) and close with a successor (unit, successor,
	 * effective date). Scope follows them (PROTOCOL.md §8). */
	int (*unit_merges)(struct store *s,
			   int (*cb)(void *ctx, const char *unit, const char *into, const char *on),
			   void *ctx);
	/* 1 when the unit is known (a unit row, a name or a parent link), 0 not. */
	int (*unit_known)(struct store *s, const char *unit_id);
	/* 1 when the unit has a place in the tree: a parent link (of any date), a reform
	 * event of its own, or a name of kind province (the root); 0 when it has none yet
	 * (a new branch whose `unit` row arrived before its `unit_parent` row). */
	int (*unit_placed)(struct store *s, const char *unit_id);
	/* 1 when the unit was closed on or before `on_date` by a close, merge or split
	 * event (a split that names the unit itself as a part does not close it), with the
	 * suggested successor written: the event's other unit (for a split, the part that
	 * took the unit's code, else the first recorded), or with none the unit's parent on
	 * the day before it closed ("" when neither). 0 open. Same rules as unittree.h. */
	int (*unit_closed)(struct store *s, const char *unit_id, const char *on_date,
			   char successor[37]);
	/* The unit valid today with official code `code`: 0 and id written, 1 absent. */
	int (*unit_by_code)(struct store *s, const char *code, const char *today, char id[37]);
	/* The dated rows (t is unit_name or unit_parent) of `unit_id` that exist and have
	 * not ended before `date` (valid_to NULL or >= date), with their valid_from and
	 * owner. Reforms end them (valid_to) instead of rewriting them. */
	int (*unit_dated_rows)(struct store *s, const struct schema_table *t, const char *unit_id,
			       const char *date,
			       int (*cb)(void *ctx, const char *row_id, const char *valid_from,
					 const char *owner),
			       void *ctx);
	/* Every existing unit with its name, code and kind on `today` (a unit closed by
	 * then: its last ones; not yet named: NULL) and its parent on `today`. */
	int (*units_list)(struct store *s, const char *today,
			  int (*cb)(void *ctx, const struct store_unit_info *u), void *ctx);

	/* Tokens and agents. get: 0, 1 absent, -1. put inserts or replaces. */
	int (*token_get)(struct store *s, const char *hash, struct store_token *out);
	int (*token_put)(struct store *s, const struct store_token *t);
	int (*tokens_list)(struct store *s, int (*cb)(void *ctx, const struct store_token *t),
			   void *ctx);
	int (*agent_get)(struct store *s, const char *id, struct store_agent *out);
	int (*agent_put)(struct store *s, const struct store_agent *a);
	int (*agents_list)(struct store *s, int (*cb)(void *ctx, const struct store_agent *a),
			   void *ctx);
	int (*agent_counts)(struct store *s, const char *agent_id, struct store_agent_counts *out);

	/* What happened to change sets. */
	int (*receipt_add)(struct store *s, const struct store_receipt *r);
	/* Receipts, newest first, at most limit; agent_id NULL for every agent. */
	int (*receipts_list)(struct store *s, const char *agent_id, size_t limit,
			     int (*cb)(void *ctx, const struct store_receipt *r), void *ctx);
	/* The receipt of agent ending at seq_to: 0 (chain_after written), 1 absent. */
	int (*receipt_chain_at)(struct store *s, const char *agent_id, uint64_t seq,
				char chain[65]);
	/* chain(k) of an agent (PROTOCOL.md §5, 32 bytes) for every sequence k the hub
	 * acknowledged, written in the transaction that acknowledged it, so a duplicate
	 * is checked at exactly its last sequence. chains_put records one run: `chains`
	 * holds chain(from) … chain(to), 32 bytes each (borrowed). chain_get: 0 (chain
	 * written), 1 unknown (acknowledged before the hub kept them), -1. */
	int (*chains_put)(struct store *s, const char *agent_id, uint64_t from, uint64_t to,
			  const unsigned char *chains);
	int (*chain_get)(struct store *s, const char *agent_id, uint64_t seq,
			 unsigned char chain[32]);
	int (*quarantine_add)(struct store *s, const char *agent_id, uint64_t seq,
			      const char *code, const char *table, const char *row_id,
			      const char *field, const char *message, int64_t at_ms);
	/* The row ids of an agent's quarantined changes, each once, any order (at most
	 * limit; 1 when there were more, the scan cut short). */
	int (*quarantined_rows)(struct store *s, const char *agent_id, size_t limit,
				int (*cb)(void *ctx, const char *row_id), void *ctx);
	int (*skipped_add)(struct store *s, const char *agent_id, uint64_t seq,
			   const char *hash_hex, const char *reason, int64_t at_ms);
	int (*skipped_list)(struct store *s, const char *agent_id,
			    int (*cb)(void *ctx, uint64_t seq, const char *reason), void *ctx);

	/* Held changes: an entry whose owning unit has no place in the tree yet, kept as a
	 * one-entry change set JSON with its schema version, indexed by that unit.
	 * held_of_owner lists the held changes waiting for `owner` in (agent_id, seq)
	 * order, and only those (an index lookup: a unit arriving costs what waits for
	 * it). held_count: how many an agent has (agent_id NULL: all agents). */
	int (*held_add)(struct store *s, const char *agent_id, uint64_t seq, const char *owner,
			int schema, const char *json, int64_t at_ms);
	int (*held_of_owner)(struct store *s, const char *owner,
			     int (*cb)(void *ctx, const char *agent_id, uint64_t seq,
				       const char *owner, int schema, const char *json),
			     void *ctx);
	int (*held_count)(struct store *s, const char *agent_id, int64_t *n);
	int (*held_remove)(struct store *s, const char *agent_id, uint64_t seq);

	/* The scope an agent last pulled with (PROTOCOL.md §6.3): the JSON array of unit
	 * ids of units_scope_json. get: 0 and *json (a new string, caller frees), 1 when
	 * none is recorded (*json NULL), -1. set inserts or replaces (write transaction). */
	int (*pull_scope_get)(struct store *s, const char *agent_id, char **json);
	int (*pull_scope_set)(struct store *s, const char *agent_id, const char *json);

	/* Backups (PROTOCOL.md §6.1 backup_seq): the highest sequence of an agent that the
	 * latest backup holds (0 when none), and recording it. */
	int (*backup_seq_get)(struct store *s, const char *agent_id, uint64_t *seq);
	int (*backup_seq_set)(struct store *s, const char *agent_id, uint64_t seq);

	/* Flags outside the synced tables. flag_set replaces (table,row,kind,field). */
	int (*flag_set)(struct store *s, const struct store_flag *f, int64_t at_ms);
	/* Clears flags of a row of one kind, every field; kind NULL: of every kind. */
	int (*flag_clear)(struct store *s, const char *table, const char *row_id,
			  const char *kind);
	/* Clears flags of one kind whose detail equals `detail` (a reference resolved). */
	int (*flag_resolve)(struct store *s, const char *kind, const char *detail);
	int (*flags_count)(struct store *s, const char *kind, int64_t *n);

	/* Dashboard sessions. session_put inserts or replaces; session_get: 0, 1 absent, -1;
	 * session_delete removes one (0 also when absent); sessions_prune removes every
	 * session made before made_before_ms, last used before seen_before_ms, or whose
	 * token is not an active one (revoked or gone). */
	int (*session_put)(struct store *s, const struct store_session *x);
	int (*session_get)(struct store *s, const char *hash, struct store_session *out);
	int (*session_delete)(struct store *s, const char *hash);
	int (*sessions_prune)(struct store *s, int64_t made_before_ms, int64_t seen_before_ms);
	/* The same for "remember me" sessions (their own, longer bounds), and every session
	 * whose token_hash is neither an active viewer token nor a viewer account's key. */
	int (*sessions_prune_long)(struct store *s, int64_t made_before_ms, int64_t seen_before_ms);

	/* Viewer accounts. get/by_invite/by_key: 0, 1 absent, -1. put inserts or replaces;
	 * delete: 0, 1 absent. list in name order. */
	int (*viewer_get)(struct store *s, const char *name, struct store_viewer *out);
	int (*viewer_by_invite)(struct store *s, const char *invite_hash, struct store_viewer *out);
	int (*viewer_by_key)(struct store *s, const char *key, struct store_viewer *out);
	int (*viewer_put)(struct store *s, const struct store_viewer *v);
	int (*viewer_delete)(struct store *s, const char *name);
	int (*viewers_list)(struct store *s, int (*cb)(void *ctx, const struct store_viewer *v),
			    void *ctx);
	/* Failed logins by key: get 0, 1 absent, -1; put replaces; clear removes (0 also when
	 * absent). */
	int (*login_fail_get)(struct store *s, const char *key, struct store_login_fail *out);
	int (*login_fail_put)(struct store *s, const struct store_login_fail *x);
	int (*login_fail_clear)(struct store *s, const char *key);

	/* Digest mail. Recipients per scope: add (0, also when there), remove (0, 1 absent),
	 * list (in unit, address order; unit_id NULL: every scope). */
	int (*mail_to_add)(struct store *s, const char *address, const char *unit_id);
	int (*mail_to_remove)(struct store *s, const char *address, const char *unit_id);
	int (*mail_to_list)(struct store *s, const char *unit_id,
			    int (*cb)(void *ctx, const char *address, const char *unit_id), void *ctx);
	/* A digest of (date, unit): get fills out with its texts (0, 1 absent, -1; release
	 * with store_digest_mail_release); put inserts or replaces; list gives every
	 * recorded digest without its texts (NULL), newest date first. */
	int (*digest_mail_get)(struct store *s, const char *date, const char *unit_id,
			       struct store_digest_mail *out);
	int (*digest_mail_put)(struct store *s, const struct store_digest_mail *m);
	int (*digest_mails_list)(struct store *s,
				 int (*cb)(void *ctx, const struct store_digest_mail *m), void *ctx);

	/* Write-ahead log. writer_tune makes this connection the hub's one writer: it keeps
	 * more of the database in memory, and its commits no longer copy the log into the
	 * database file — whoever calls it runs checkpoint on another connection, so that
	 * copying rarely delays a commit (only when the log has grown past a bound: the
	 * writer then catches up itself, so the log file starts over — as soon as no
	 * reader still needs its old pages — even under a steady stream of commits).
	 * checkpoint copies what is committed into the
	 * database file without waiting for readers or the writer (what a reader still
	 * needs stays in the log for the next one). 0 or -1. */
	int (*writer_tune)(struct store *s);
	int (*checkpoint)(struct store *s);

	/* A number that differs from the one read before whenever a unit table (unit,
	 * unit_name, unit_parent, unit_event) may have changed in between: written or
	 * rolled back on this connection, or committed by any other. Lets a caller keep
	 * what it derived from the unit tree (a scope) until then. 0 or -1. */
	int (*units_version)(struct store *s, uint64_t *version);

	/* Raw access, for `lienket-hub migrate` only (migrate.h): the back end's tables as
	 * rows of typed cells. Every back end has the same tables with the same column
	 * names (hub_meta, hub_token, …, one per synced table; their types may differ), so
	 * a row read from one is a row the other takes. raw_tables: the hub's tables (not
	 * the engine's own), any order. raw_scan: every row of table (a name raw_tables
	 * gave), any order; cells[i] is column names[i]. raw_clear and raw_put (in a write
	 * transaction): remove every row of table; insert one row (names are checked
	 * against the table's columns, values bound). raw_done (same transaction, after
	 * the copy): whatever the back end keeps beside the rows (a sequence behind
	 * receipt ids, the cached hub sequence, marks of its own) made to agree with the
	 * copied rows, the copied hub_id kept. */
	int (*raw_tables)(struct store *s, int (*cb)(void *ctx, const char *table), void *ctx);
	int (*raw_scan)(struct store *s, const char *table,
			int (*cb)(void *ctx, size_t n, const char *const *names,
				  const struct store_cell *cells),
			void *ctx);
	int (*raw_clear)(struct store *s, const char *table);
	int (*raw_put)(struct store *s, const char *table, size_t n, const char *const *names,
		       const struct store_cell *cells);
	int (*raw_done)(struct store *s);

	/* ---- what the province reads: the views (status.c, digest.c, dashpage.c, report.c)
	 * read through these and through nothing else. Each is one statement (or one per
	 * kind), never one per office: a status over thousands of offices is a few scans. */

	/* The figures' data source over this store (figures_source.h: the rows that exist),
	 * for report_build and the unit tree. It borrows the store's connection: free it
	 * (figures_source_free) before closing the store; its read_begin uses the store's
	 * transaction when one is open. FIGURES_OK and *out, or a code with err filled. */
	int (*figures)(struct store *s, struct figures_source **out, struct figures_error *err);
	/* Every agent first seen at or before as_of_ms, any order (store_status_agent). */
	int (*status_agents)(struct store *s, int64_t as_of_ms,
			     int (*cb)(void *ctx, const struct store_status_agent *a), void *ctx);
	/* Quarantined, then skipped, then held changes recorded at or before as_of_ms; within
	 * a kind by agent id (byte order), then seq. */
	int (*status_issues)(struct store *s, int64_t as_of_ms,
			     int (*cb)(void *ctx, const struct store_issue *i), void *ctx);
	/* Flags set at or before as_of_ms, by at_ms, then table and row id (byte order), with
	 * the writer of each flagged row. */
	int (*status_flags)(struct store *s, int64_t as_of_ms,
			    int (*cb)(void *ctx, const struct store_flag_row *f), void *ctx);
	/* Receipts with from_ms <= received_ms < to_ms summed per agent, any order. */
	int (*arrivals)(struct store *s, int64_t from_ms, int64_t to_ms,
			int (*cb)(void *ctx, const struct store_arrival *a), void *ctx);
	/* The latest year up to `current` in which a record of the figures is dated (a
	 * meeting held, a volunteer activity started, a support or Party step, a year-end
	 * record), over the rows that exist; *out 0 when there is none. Each kind is one
	 * index seek from the end, never a scan of the history. */
	int (*latest_year)(struct store *s, int current, int *out);
};

/* The unit tree of the store in one read (s->figures, unittree_load): 0 and *out (free
 * with unittree_free), or a negative store_code with an English reason in err. */
int store_units_tree(struct store *s, struct unittree **out, char *err, size_t errlen);

/* The back-end factory: every --db value goes through it. db is
 *   a file path ("tinh.db") or "sqlite:PATH"      -> store_sqlite_open(PATH)
 *   "postgresql://…" or "postgres://…"           -> store_pg_open(db) (the whole URL is
 *                                                   libpq's connection string)
 * Opens (create=0) an existing hub database or creates a new one (create=1: it must not
 * exist yet; the tables are made and a hub_id stored). 0 and *out, or a negative
 * store_code with an English reason in err (a PostgreSQL URL in a build without that
 * back end, an unknown "scheme://", a missing database…). Close with s->close(s). */
int hub_store_open(const char *db, int create, struct store **out, char *err, size_t errlen);

/* 1 when db names a PostgreSQL database (the prefixes above), 0 otherwise. */
int store_is_pg(const char *db);
/* 1 when this build has the PostgreSQL back end, 0 not. */
int store_pg_built(void);

/* The SQLite back end (store_sqlite.c): hub_store_open's contract on a file path. */
int store_sqlite_open(const char *path, int create, struct store **out, char *err,
		      size_t errlen);

/* What a copy holds: one callback per agent with the sequence it acknowledged. */
struct store_copy_info {
	char hub_id[37];
	uint64_t hs;          /* the hub sequence of the snapshot */
	int64_t taken_ms;     /* meta backup_taken_ms of the source ("" -> 0) */
	int (*agent)(void *ctx, const char *agent_id, uint64_t acked);
	void *ctx;
};

/* Copies the SQLite hub database at src into the new file dst with SQLite's online
 * backup: one consistent snapshot, read while other connections (a serving hub) go on
 * writing. dst must not exist; it is left as a single file (rollback journal mode)
 * after passing SQLite's quick_check (a damaged source is refused), and, when stamp_ms
 * is non-zero, its meta backup_taken_ms is set to it. info (may be
 * NULL) receives the snapshot's hub id, hub sequence and, through info->agent, each
 * agent's acknowledged sequence. 0, or -1 with an English reason in err (dst removed). */
int store_sqlite_copy(const char *src, const char *dst, int64_t stamp_ms,
		      struct store_copy_info *info, char *err, size_t errlen);

/* ---- the database as a whole, by its --db name (store_files.c; ops.c) ----
 * An SQLite database is a file with companions (-wal, -shm) that only the back end
 * names; a PostgreSQL one is copied and restored with PostgreSQL's own tools
 * (docs/operations.md): store_copy, store_set_aside and store_put_in_place answer so. */
#define STORE_PATH_MAX 4200 /* longest side-file path handled */

/* The path of the file kept beside the database for `what` ("operations", "serving",
 * "restoring", "digest-lock"): SQLite: PATH.what beside the file; PostgreSQL:
 * $LK_HUB_STATE_DIR (default the current folder)/lienket-HOST-PORT-DBNAME.what (no user,
 * password or parameter of the URL in the name). 0, or -1 when it does not fit. */
int store_side_path(const char *db, const char *what, char *out, size_t len);
/* Takes the serving lock of db (its "serving" side file, fcntl): a descriptor to keep
 * open while serving, or -1 with err filled. SQLite: exclusive (one hub serves a file);
 * PostgreSQL: shared (several hub processes serve one database). */
int store_serving_lock(const char *db, char *err, size_t errlen);
/* 1 when a process holds db's serving lock, 0 not. */
int store_is_serving(const char *db);
/* Copies the database src into the new dst while others may write (SQLite:
 * store_sqlite_copy's contract). 0, or a negative store_code with err. */
int store_copy(const char *src, const char *dst, int64_t stamp_ms, struct store_copy_info *info,
	       char *err, size_t errlen);
/* Moves db and the files that belong to it to db.replaced-TAG (0 also when there was
 * none; kept receives the database's new name, "" when none). 0 or a code with err. */
int store_set_aside(const char *db, const char *tag, char *kept, size_t keptlen, char *err,
		    size_t errlen);
/* Puts the copy `from` (made by store_copy, closed) in db's place. 0 or a code with err. */
int store_put_in_place(const char *from, const char *db, char *err, size_t errlen);
/* Removes a copy made by store_copy and every file that belongs to it. 0 or STORE_IO. */
int store_remove_copy(const char *db);

/* The PostgreSQL back end (store_pg.c, built when libpq is): hub_store_open's contract on
 * a libpq connection URL. */
int store_pg_open(const char *conninfo, int create, struct store **out, char *err,
		  size_t errlen);

#endif
