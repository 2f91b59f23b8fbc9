/*
 * ops.h — the operator's side of a hub database: the operations log kept beside it,
 * the serving lock, backups and restores.
 *
 * Beside a database live (side files: store_side_path — for an SQLite FILE, FILE.what;
 * for PostgreSQL, in $LK_HUB_STATE_DIR):
 *   FILE.operations  an append-only, tab-separated log (one line per operator action:
 *                    `<unix ms> <kind> <fields…>`): backup, revoke, enroll, correction,
 *                    reform, restore. It survives a lost database (keep it with the
 *                    backups), and restore reads it: revocations are re-applied, the
 *                    latest backup is known, and what cannot be brought back is listed.
 *   FILE.serving     locked (fcntl) by `serve` while it runs; restore refuses then.
 * Line forms (fields never contain tabs or line ends):
 *   backup  HUB_ID HUB_SEQ TAKEN_MS PATH AGENT:SEQ,AGENT:SEQ,…
 *   revoke  TOKEN_SHA256_HEX TOKEN_PREFIX AGENT_ID_OR_-
 *   enroll  TOKEN_PREFIX UNIT_ID_OR_viewer NAME [AGENT_ID]   (AGENT_ID: enroll --agent)
 *   correction OP TABLE ROW_ID
 *   reform  WHAT
 *   restore BACKUP_PATH NEW_HUB_ID
 *   migrate DESTINATION HUB_ID HUB_SEQ   (migrate.h, in the source's log; a URL's
 *                                        password left out)
 *   migrated SOURCE HUB_ID HUB_SEQ       (the same, in the destination's log)
 *
 * Functions return 0 or -1 with an English reason in err; the restore report (what it
 * did and what it could not bring back) is written to the caller's stream.
 */
#ifndef LK_HUB_OPS_H
#define LK_HUB_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPS_PATH_MAX 4096 /* longest database path handled */

/* Appends one line (kind, then tab-separated fields; NULL ends them) to FILE.operations
 * and flushes it to disk. 0 or -1. */
int ops_log(const char *db, int64_t now_ms, const char *kind, ...);

struct store;
/* Logs every token of s revoked at at_ms (the time given to auth_revoke), so that a
 * restore re-applies the revocation. 0 or -1. */
int ops_log_revoked(const char *db, struct store *s, int64_t at_ms);

/* Takes the serving lock of db (store_serving_lock): returns a descriptor to keep open
 * while serving, or -1 with err filled (another process serves db, or the lock file
 * cannot be made). */
int ops_serving_lock(const char *db, char *err, size_t errlen);

struct ops_backup_result {
	char hub_id[37];
	uint64_t hs;        /* hub sequence of the snapshot */
	size_t agents;      /* agents whose backup_seq was recorded */
	int64_t taken_ms;
};

/* Backs db up into the new file out while the hub may be serving (store_copy),
 * then records in db each agent's sequence the copy holds (hello's backup_seq) and
 * logs the backup. 0, or -1 with err (out removed when the copy failed). */
int ops_backup(const char *db, const char *out, int64_t now_ms, struct ops_backup_result *res,
	       char *err, size_t errlen);

/* Restores db from backup (the hub must be stopped): refuses a backup older than the
 * latest logged one unless force (and says what that loses); the copy gets a new hub
 * id, the revocations of the log are re-applied, each agent's backup_seq is what the
 * backup holds; the database it replaces (if any) is kept as db.replaced-TIME. Writes
 * its report to out. 0; 1 refused (reason in err); -1 failure (err). */
int ops_restore(const char *db, const char *backup, int force, int64_t now_ms, FILE *out,
		char *err, size_t errlen);

#endif
