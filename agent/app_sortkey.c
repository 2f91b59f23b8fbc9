/*
 * app_sortkey.c — people's names in folded order, for the app's lists (app_sortkey.h).
 */
#include "app_sortkey.h"

#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

/* The fold's revision: raise it when textnorm_fold or lk_fold change their keys. */
#define SORTKEY_FOLD_REV 1

#define SORTKEY_DDL                                                                                    \
	"CREATE TABLE IF NOT EXISTS lk_app_person_key(key TEXT NOT NULL, id TEXT NOT NULL,"            \
	" PRIMARY KEY (key, id)) WITHOUT ROWID;"                                                       \
	"CREATE INDEX IF NOT EXISTS lk_app_person_key_id ON lk_app_person_key(id);"                    \
	"CREATE TABLE IF NOT EXISTS lk_app_person_dirty(id TEXT PRIMARY KEY) WITHOUT ROWID;"

#define SORTKEY_TRIGGERS                                                                               \
	"CREATE TRIGGER lk_app_person_key_i AFTER INSERT ON person BEGIN"                              \
	" INSERT OR IGNORE INTO lk_app_person_dirty(id) VALUES (NEW.id); END;"                         \
	"CREATE TRIGGER lk_app_person_key_u AFTER UPDATE OF id, full_name, birth_year ON person BEGIN" \
	" DELETE FROM lk_app_person_key WHERE id = OLD.id;"                                            \
	" INSERT OR IGNORE INTO lk_app_person_dirty(id) VALUES (NEW.id); END;"                         \
	"CREATE TRIGGER lk_app_person_key_d AFTER DELETE ON person BEGIN"                              \
	" DELETE FROM lk_app_person_key WHERE id = OLD.id;"                                            \
	" DELETE FROM lk_app_person_dirty WHERE id = OLD.id; END;"

/* Every person dirty, no key kept. */
#define SORTKEY_RESET                                                                                  \
	"DROP TRIGGER IF EXISTS lk_app_person_key_i; DROP TRIGGER IF EXISTS lk_app_person_key_u;"      \
	" DROP TRIGGER IF EXISTS lk_app_person_key_d;"                                                 \
	"DELETE FROM lk_app_person_key;"                                                               \
	"INSERT OR IGNORE INTO lk_app_person_dirty(id) SELECT id FROM person;"

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* The text of the one-column answer of sql with ?1 bound to arg (may be NULL), into
 * out ("" when no row). 0 or -1. */
static int query_text(sqlite3 *db, const char *sql, const char *arg, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int app_sortkey_setup(sqlite3 *db)
{
	char fp[64], had[64], trig[8];
	snprintf(fp, sizeof fp, "%d utf8proc %s", SORTKEY_FOLD_REV, utf8proc_version());
	if (exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	int ok = exec(db, SORTKEY_DDL) == 0 &&
		 query_text(db, "SELECT value FROM lk_config WHERE key = 'app_person_key'", NULL, had, sizeof had) == 0 &&
		 query_text(db, "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'lk_app_person_key_u'",
			    NULL, trig, sizeof trig) == 0;
	if (ok && (strcmp(had, fp) != 0 || !trig[0])) {
		sqlite3_stmt *st = NULL;
		ok = exec(db, SORTKEY_RESET) == 0 && exec(db, SORTKEY_TRIGGERS) == 0 &&
		     sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO lk_config(key, value) VALUES ('app_person_key', ?1)", -1,
					&st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
	}
	if (ok && exec(db, "COMMIT") == 0)
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int app_sortkey_refresh(sqlite3 *db, int busy_ms, int restore_ms)
{
	char any[8];
	if (query_text(db, "SELECT 1 FROM lk_app_person_dirty LIMIT 1", NULL, any, sizeof any) != 0)
		return -1;
	if (!any[0])
		return 0;
	sqlite3_busy_timeout(db, busy_ms);
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_busy_timeout(db, restore_ms);
	if (rc == SQLITE_BUSY)
		return 1;
	if (rc != SQLITE_OK)
		return -1;
	if (exec(db, "DELETE FROM lk_app_person_key WHERE id IN (SELECT id FROM lk_app_person_dirty);"
		     "INSERT OR IGNORE INTO lk_app_person_key(key, id)"
		     " SELECT coalesce(lk_fold(p.full_name || coalesce(' (' || p.birth_year || ')', '')), ''), p.id"
		     " FROM lk_app_person_dirty d JOIN person p ON p.id = d.id;"
		     "DELETE FROM lk_app_person_dirty;") == 0 &&
	    exec(db, "COMMIT") == 0)
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
