/*
 * store_open.c — the back-end factory of store.h: which back end a --db value names,
 * and the names of the store's codes.
 *
 * The PostgreSQL back end (store_pg.c) is compiled in when it exists: the Makefile
 * defines LK_STORE_PG then. Without it a PostgreSQL URL is refused with a clear reason
 * instead of being taken for a file name.
 *
 * Owns: nothing.
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

#define SQLITE_PREFIX "sqlite:"

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int store_is_pg(const char *db)
{
	return db && (has_prefix(db, "postgresql://") || has_prefix(db, "postgres://"));
}

/* "word://" at the start: a URL of some kind (a file path has no "://" after letters). */
static int looks_like_url(const char *db)
{
	const char *p = db;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > db && strncmp(p, "://", 3) == 0;
}

int store_pg_built(void)
{
#ifdef LK_STORE_PG
	return 1;
#else
	return 0;
#endif
}

int hub_store_open(const char *db, int create, struct store **out, char *err, size_t errlen)
{
	if (!db || !*db) {
		snprintf(err, errlen, "no database given (--db FILE or --db postgresql://…)");
		return STORE_ERR;
	}
	if (store_is_pg(db)) {
#ifdef LK_STORE_PG
		return store_pg_open(db, create, out, err, errlen);
#else
		snprintf(err, errlen, "this build has no PostgreSQL back end: cannot open '%.200s'"
			 " (rebuild with libpq-dev installed, or give an SQLite file)", db);
		return STORE_ERR;
#endif
	}
	if (has_prefix(db, SQLITE_PREFIX)) {
		const char *path = db + strlen(SQLITE_PREFIX);
		if (has_prefix(path, "//"))
			path += 2; /* sqlite://PATH as well as sqlite:PATH */
		if (!*path) {
			snprintf(err, errlen, "'%.200s' names no file", db);
			return STORE_ERR;
		}
		return store_sqlite_open(path, create, out, err, errlen);
	}
	if (looks_like_url(db)) {
		snprintf(err, errlen, "unknown kind of database '%.200s' (a file path, sqlite:PATH or"
			 " postgresql://…)", db);
		return STORE_ERR;
	}
	return store_sqlite_open(db, create, out, err, errlen);
}

const char *store_code_name(int code)
{
	switch (code) {
	case STORE_OK: return "ok";
	case STORE_ABSENT: return "absent";
	case STORE_BUSY: return "busy";
	case STORE_FULL: return "full";
	case STORE_CORRUPT: return "corrupt";
	case STORE_CONFLICT: return "conflict";
	case STORE_IO: return "io";
	default: return "error";
	}
}
