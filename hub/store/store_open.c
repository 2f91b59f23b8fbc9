/*
 * store_open.c — the back-end factory of store.h (which back end a --db value names),
 * the names of the store's codes, and what is built over any back end's slots (the
 * unit tree).
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

#include "figures_source.h"
#include "unittree.h"

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

int store_units_tree(struct store *s, struct unittree **out, char *err, size_t errlen)
{
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	int rc = STORE_ERR;
	if (s->figures(s, &src, &fe) != FIGURES_OK || !src ||
	    src->read_begin(src, &fe) != FIGURES_OK) {
		snprintf(err, errlen, "cannot read units: %s", fe.message);
		rc = fe.code == FIGURES_BUSY ? STORE_BUSY : fe.code == FIGURES_CORRUPT ? STORE_CORRUPT
		     : fe.code == FIGURES_IO ? STORE_IO : STORE_ERR;
		goto done;
	}
	rc = unittree_load(src, out, err, errlen) == 0 ? STORE_OK : STORE_ERR;
	src->read_end(src);
done:
	figures_source_free(src);
	return rc;
}
