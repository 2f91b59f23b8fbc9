/*
 * store_files.c — a hub database as a whole, by its --db name (store.h "the database
 * as a whole"): where the files kept beside it live, the serving lock, and what backup
 * and restore (ops.c) do to the database itself — copy it, set it aside, put a copy in
 * its place. The back end decides: an SQLite database is a file with its -wal and -shm
 * companions (named here and nowhere else outside store_sqlite.c); a PostgreSQL
 * database is copied and restored with PostgreSQL's own tools (docs/operations.md), so
 * those answer with a reason, and its side files live in a folder of the operator's
 * choosing.
 *
 * Owns: nothing; the serving lock's descriptor is the caller's to keep open.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files of an SQLite database: the database, its write-ahead log, its shared memory. */
static const char *const sqlite_files[] = { "", "-wal", "-shm" };

/* "HOST-PORT-DBNAME" of a PostgreSQL URL, every other byte than [A-Za-z0-9._] made '_'
 * (user, password and parameters left out: the name must not carry a secret). */
static void pg_name(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *at = strchr(p, '@'), *slash = strchr(p, '/');
	if (at && (!slash || at < slash))
		p = at + 1;
	size_t n = 0;
	for (; *p && *p != '?' && n + 1 < len; p++) {
		char c = *p;
		int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '.' || c == '_';
		out[n++] = keep ? c : (c == ':' || c == '/') ? '-' : '_';
	}
	out[n] = '\0';
}

int store_side_path(const char *db, const char *what, char *out, size_t len)
{
	int k;
	if (store_is_pg(db)) {
		char name[256];
		const char *dir = getenv("LK_HUB_STATE_DIR");
		pg_name(db, name, sizeof name);
		k = snprintf(out, len, "%s/lienket-%s.%s", dir && *dir ? dir : ".", name, what);
	} else {
		const char *path = strncmp(db, "sqlite:", 7) == 0 ? db + 7 : db;
		if (strncmp(path, "//", 2) == 0)
			path += 2;
		k = snprintf(out, len, "%s.%s", path, what);
	}
	return k < 0 || (size_t)k >= len ? -1 : 0;
}

/* The file path of an SQLite --db value. */
static const char *sqlite_path(const char *db)
{
	const char *path = strncmp(db, "sqlite:", 7) == 0 ? db + 7 : db;
	return strncmp(path, "//", 2) == 0 ? path + 2 : path;
}

int store_serving_lock(const char *db, char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];
	if (store_side_path(db, "serving", path, sizeof path) != 0) {
		snprintf(err, errlen, "database name too long");
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	/* SQLite: one hub serves a file (exclusive); PostgreSQL: several hub processes serve
	 * one database (shared), and a restore by lienket-hub does not apply */
	int pg = store_is_pg(db);
	struct flock fl = { .l_type = pg ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		snprintf(err, errlen, "another lienket-hub serves '%s'", db);
		close(fd);
		return -1;
	}
	if (!pg) {
		char pid[32];
		int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n) {
			snprintf(err, errlen, "cannot write '%s'", path);
			close(fd);
			return -1;
		}
	}
	return fd;
}

int store_is_serving(const char *db)
{
	char path[STORE_PATH_MAX];
	if (store_side_path(db, "serving", path, sizeof path) != 0)
		return 0;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int serving = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return serving;
}

/* The answer of the file operations on a PostgreSQL database. */
static int pg_tools(const char *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot %s '%.200s': a PostgreSQL database is backed up and restored"
		 " with PostgreSQL's tools (pg_dump, pg_basebackup, point-in-time recovery;"
		 " docs/operations.md); the hub takes a new hub id when it finds its database restored",
		 what, db);
	return STORE_ERR;
}

int store_copy(const char *src, const char *dst, int64_t stamp_ms, struct store_copy_info *info,
	       char *err, size_t errlen)
{
	if (store_is_pg(src))
		return pg_tools(src, "copy", err, errlen);
	if (store_is_pg(dst))
		return pg_tools(dst, "copy into", err, errlen);
	return store_sqlite_copy(sqlite_path(src), sqlite_path(dst), stamp_ms, info, err, errlen);
}

int store_set_aside(const char *db, const char *tag, char *kept, size_t keptlen, char *err,
		    size_t errlen)
{
	if (store_is_pg(db))
		return pg_tools(db, "set aside", err, errlen);
	const char *path = sqlite_path(db);
	if (kept && keptlen)
		kept[0] = '\0';
	for (size_t i = 0; i < sizeof sqlite_files / sizeof sqlite_files[0]; i++) {
		char from[STORE_PATH_MAX], to[STORE_PATH_MAX + 64];
		snprintf(from, sizeof from, "%s%s", path, sqlite_files[i]);
		snprintf(to, sizeof to, "%s.replaced-%s%s", path, tag, sqlite_files[i]);
		if (rename(from, to) != 0) {
			if (errno == ENOENT)
				continue;
			snprintf(err, errlen, "cannot move '%s' aside: %s", from, strerror(errno));
			return STORE_IO;
		}
		if (i == 0 && kept)
			snprintf(kept, keptlen, "%s", to);
	}
	return 0;
}

int store_put_in_place(const char *from, const char *db, char *err, size_t errlen)
{
	if (store_is_pg(db) || store_is_pg(from))
		return pg_tools(db, "replace", err, errlen);
	const char *path = sqlite_path(db), *src = sqlite_path(from);
	if (rename(src, path) != 0) {
		snprintf(err, errlen, "cannot move '%s' to '%s': %s", src, path, strerror(errno));
		return STORE_IO;
	}
	return 0;
}

int store_remove_copy(const char *db)
{
	if (store_is_pg(db))
		return 0;
	const char *path = sqlite_path(db);
	int rc = 0;
	for (size_t i = 0; i < sizeof sqlite_files / sizeof sqlite_files[0]; i++) {
		char p[STORE_PATH_MAX];
		snprintf(p, sizeof p, "%s%s", path, sqlite_files[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			rc = STORE_IO;
	}
	return rc;
}
