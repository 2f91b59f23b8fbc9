/*
 * pg_harness.h — a throw-away PostgreSQL server for a unit suite (header-only, static).
 *
 * One server per test binary, started by the group set-up and stopped by the group
 * tear-down, through scripts/pg-test-server.sh (initdb in a folder of its own under
 * $TMPDIR, as an unprivileged user when root, a free port of 127.0.0.1, trust auth; see
 * the script). Each case takes a fresh, empty database from pg_harness_fresh_db. If the
 * binary dies without its tear-down (an abort), the script's watcher stops the server
 * once this process has gone.
 *
 *   static struct pg_harness pg;
 *   static int group_setup(void **s) { (void)s; return pg_harness_start(&pg); }
 *   static int group_teardown(void **s) { (void)s; pg_harness_stop(&pg); return 0; }
 *   ... char url[PG_HARNESS_URL]; assert_int_equal(pg_harness_fresh_db(&pg, url), 0);
 *
 * Run from the repository root (as make test does); LK_PG_SCRIPT names another copy of
 * the script. Errors are printed on stderr and returned as -1.
 */
#ifndef LK_PG_HARNESS_H
#define LK_PG_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PG_HARNESS_URL 256

struct pg_harness {
	char dir[128];           /* the server's folder, "" when not started */
	char url[PG_HARNESS_URL]; /* postgresql://lienket@127.0.0.1:PORT/lienket */
	unsigned next_db;        /* pg_harness_fresh_db's counter */
};

static inline const char *pg_harness_script(void)
{
	const char *s = getenv("LK_PG_SCRIPT");
	return s && *s ? s : "scripts/pg-test-server.sh";
}

/* Runs `sh SCRIPT ARGS` (ARGS made only of the harness's own folder and names) and
 * reads its one line of output into out; 0, or -1 when it failed. */
static inline int pg_harness__run(const char *args, char *out, size_t cap)
{
	char cmd[512];
	int n = snprintf(cmd, sizeof cmd, "sh '%s' %s", pg_harness_script(), args);
	if (n < 0 || (size_t)n >= sizeof cmd) {
		fprintf(stderr, "pg_harness: command too long\n");
		return -1;
	}
	FILE *p = popen(cmd, "r");
	if (!p) {
		perror("pg_harness: popen");
		return -1;
	}
	char line[PG_HARNESS_URL] = "";
	int got = fgets(line, sizeof line, p) != NULL;
	while (fgetc(p) != EOF) /* the rest, so that the script never blocks on a pipe */
		;
	int rc = pclose(p);
	if (rc != 0) {
		fprintf(stderr, "pg_harness: '%s' failed (status %d)\n", cmd, rc);
		return -1;
	}
	if (out) {
		line[strcspn(line, "\n")] = '\0';
		if (!got || !line[0] || strlen(line) >= cap) {
			fprintf(stderr, "pg_harness: '%s' printed no usable line\n", cmd);
			return -1;
		}
		memcpy(out, line, strlen(line) + 1);
	}
	return 0;
}

/* Stops the server (waiting for it) and removes its folder. Safe to call twice. */
static inline void pg_harness_stop(struct pg_harness *h)
{
	if (!h->dir[0])
		return;
	char args[192];
	snprintf(args, sizeof args, "stop '%s'", h->dir);
	if (pg_harness__run(args, NULL, 0) != 0) {
		fprintf(stderr, "pg_harness: the server in %s may still run\n", h->dir);
	} else if (!getenv("E2E_KEEP")) {
		char cmd[192];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "pg_harness: could not remove %s\n", h->dir);
	}
	h->dir[0] = '\0';
	h->url[0] = '\0';
}

/* Starts the suite's server; 0, or -1 (nothing left behind). */
static inline int pg_harness_start(struct pg_harness *h)
{
	memset(h, 0, sizeof *h);
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(h->dir, sizeof h->dir, "%s/lk-unit-pg.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof h->dir || strchr(h->dir, '\'') || !mkdtemp(h->dir)) {
		fprintf(stderr, "pg_harness: no temporary folder\n");
		h->dir[0] = '\0';
		return -1;
	}
	char args[192];
	snprintf(args, sizeof args, "start '%s' %ld", h->dir, (long)getpid());
	if (pg_harness__run(args, h->url, sizeof h->url) != 0) {
		pg_harness_stop(h);
		return -1;
	}
	return 0;
}

/* A new, empty database NAME (a-z, 0-9, _) on the server; its URL in url. */
static inline int pg_harness_create_db(struct pg_harness *h, const char *name, char url[PG_HARNESS_URL])
{
	if (!h->dir[0])
		return -1;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return -1;
	char args[256];
	int n = snprintf(args, sizeof args, "createdb '%s' %s", h->dir, name);
	if (n < 0 || (size_t)n >= sizeof args)
		return -1;
	return pg_harness__run(args, url, PG_HARNESS_URL);
}

/* A fresh database for one case (named case_1, case_2, …); its URL in url. */
static inline int pg_harness_fresh_db(struct pg_harness *h, char url[PG_HARNESS_URL])
{
	char name[32];
	snprintf(name, sizeof name, "case_%u", ++h->next_db);
	return pg_harness_create_db(h, name, url);
}

#endif
