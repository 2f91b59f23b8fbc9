/*
 * ops.c — operations log, serving lock, backup and restore (see ops.h).
 *
 * A backup is a consistent snapshot taken while the hub serves (store_copy); what it
 * holds per agent is recorded in the live database only after the copy is complete, so
 * an agent never compacts an entry that no backup holds. A restore works on a copy (the
 * "restoring" side file) and puts it in place once it is complete: an interrupted
 * restore leaves the database it was replacing untouched. Which files make a database,
 * and where the side files live, is the back end's (store.h "the database as a
 * whole"): this file names none.
 */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ids.h"
#include "store.h"

#define OPS_LINE_MAX 65536   /* longest log line read (a backup line lists every agent) */
#define OPS_MAX_FIELDS 8

/* The path of db's operations log (store_side_path). 0 or -1. */
static int log_path(const char *db, char *out, size_t n)
{
	return store_side_path(db, "operations", out, n);
}

static void iso_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* ---- the operations log ---- */

int ops_log(const char *db, int64_t now_ms, const char *kind, ...)
{
	char path[STORE_PATH_MAX];
	char *line = NULL;
	size_t len = 0;
	int rc = -1;
	if (log_path(db, path, sizeof path) != 0)
		return -1;
	/* The line is built first and written with one write(2) on an O_APPEND descriptor,
	 * so lines of commands run at the same time never interleave. */
	FILE *m = open_memstream(&line, &len);
	if (!m)
		return -1;
	fprintf(m, "%" PRId64 "\t%s", now_ms, kind);
	va_list ap;
	va_start(ap, kind);
	for (const char *v; (v = va_arg(ap, const char *)) != NULL;) {
		fputc('\t', m);
		for (const char *p = v; *p; p++)
			fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, m);
		if (!*v)
			fputc('-', m);
	}
	va_end(ap);
	fputc('\n', m);
	if (fclose(m) != 0)
		goto done;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		goto done;
	ssize_t w = write(fd, line, len);
	rc = w == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
	if (close(fd) != 0)
		rc = -1;
done:
	free(line);
	return rc;
}

struct log_line {
	int64_t ms;
	char *f[OPS_MAX_FIELDS]; /* f[0] = kind */
	size_t n;
};

/* Calls cb for each well-formed line of db's log (fields borrowed for the call).
 * 0 (also when there is no log: *exists = 0), -1 on a read error or cb's failure. */
static int log_each(const char *db, int *exists, int (*cb)(void *ctx, const struct log_line *l),
		    void *ctx)
{
	char path[STORE_PATH_MAX];
	*exists = 0;
	if (log_path(db, path, sizeof path) != 0)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	*exists = 1;
	char *line = malloc(OPS_LINE_MAX);
	int rc = line ? 0 : -1;
	while (rc == 0 && fgets(line, OPS_LINE_MAX, f)) {
		size_t len = strlen(line);
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		struct log_line L = { 0 };
		char *save = NULL, *tok = strtok_r(line, "\t", &save);
		if (!tok)
			continue;
		L.ms = strtoll(tok, NULL, 10);
		while ((tok = strtok_r(NULL, "\t", &save)) && L.n < OPS_MAX_FIELDS)
			L.f[L.n++] = tok;
		if (L.n && L.ms > 0)
			rc = cb(ctx, &L);
	}
	if (rc == 0 && ferror(f))
		rc = -1;
	free(line);
	fclose(f);
	return rc;
}

struct revoke_log {
	const char *db;
	int64_t at_ms;
	int failed;
};

static int log_revoked(void *ctx, const struct store_token *t)
{
	struct revoke_log *L = ctx;
	if (t->revoked_ms != L->at_ms)
		return 0;
	if (ops_log(L->db, L->at_ms, "revoke", t->hash, t->prefix, t->agent_id[0] ? t->agent_id : "-",
		    (char *)NULL) != 0)
		L->failed = 1;
	return 0;
}

int ops_log_revoked(const char *db, struct store *s, int64_t at_ms)
{
	struct revoke_log L = { db, at_ms, 0 };
	return s->tokens_list(s, log_revoked, &L) != 0 || L.failed ? -1 : 0;
}

/* ---- serving lock ---- */

int ops_serving_lock(const char *db, char *err, size_t errlen)
{
	return store_serving_lock(db, err, errlen);
}

/* ---- backup ---- */

struct agent_seqs {
	struct { char id[37]; uint64_t seq; } *v;
	size_t n, cap;
};

static int collect_agent(void *ctx, const char *agent, uint64_t acked)
{
	struct agent_seqs *A = ctx;
	if (A->n == A->cap) {
		size_t nc = A->cap ? A->cap * 2 : 32;
		void *p = realloc(A->v, nc * sizeof *A->v);
		if (!p)
			return -1;
		A->v = p;
		A->cap = nc;
	}
	snprintf(A->v[A->n].id, 37, "%s", agent);
	A->v[A->n].seq = acked;
	A->n++;
	return 0;
}

/* "agent:seq,agent:seq" (new string) or NULL. */
static char *agents_text(const struct agent_seqs *A)
{
	size_t cap = A->n * 60 + 2;
	char *s = malloc(cap);
	size_t n = 0;
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < A->n; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s%s:%" PRIu64, i ? "," : "", A->v[i].id, A->v[i].seq);
	if (A->n == 0)
		snprintf(s, cap, "-");
	return s;
}

int ops_backup(const char *db, const char *out, int64_t now_ms, struct ops_backup_result *res,
	       char *err, size_t errlen)
{
	struct agent_seqs A = { 0 };
	struct store_copy_info info = { .agent = collect_agent, .ctx = &A };
	struct store *s = NULL;
	char *agents = NULL;
	int rc = -1;
	memset(res, 0, sizeof *res);
	if (store_copy(db, out, now_ms, &info, err, errlen) != 0)
		goto done;
	if (hub_store_open(db, 0, &s, err, errlen) != 0)
		goto done;
	if (s->begin(s) != 0) {
		snprintf(err, errlen, "cannot record the backup in '%s': database busy", db);
		goto done;
	}
	for (size_t i = 0; i < A.n; i++)
		if (s->backup_seq_set(s, A.v[i].id, A.v[i].seq) != 0) {
			s->rollback(s);
			snprintf(err, errlen, "cannot record the backup in '%s'", db);
			goto done;
		}
	char when[32];
	snprintf(when, sizeof when, "%" PRId64, now_ms);
	if (s->meta_set(s, "last_backup_ms", when) != 0) { /* /metrics: the backup's age */
		s->rollback(s);
		snprintf(err, errlen, "cannot record the backup in '%s'", db);
		goto done;
	}
	if (s->commit(s) != 0) {
		snprintf(err, errlen, "cannot record the backup in '%s'", db);
		goto done;
	}
	char hs[32], taken[32];
	snprintf(hs, sizeof hs, "%" PRIu64, info.hs);
	snprintf(taken, sizeof taken, "%" PRId64, info.taken_ms);
	if (!(agents = agents_text(&A)) ||
	    ops_log(db, now_ms, "backup", info.hub_id, hs, taken, out, agents, (char *)NULL) != 0) {
		snprintf(err, errlen, "backup '%s' made but not logged in '%s.operations'", out, db);
		goto done;
	}
	snprintf(res->hub_id, sizeof res->hub_id, "%s", info.hub_id);
	res->hs = info.hs;
	res->agents = A.n;
	res->taken_ms = info.taken_ms;
	rc = 0;
done:
	if (s)
		s->close(s);
	free(agents);
	free(A.v);
	return rc;
}

/* ---- restore ---- */

struct restore_scan {
	/* the latest logged backup */
	int have_latest;
	int64_t latest_ms;
	char latest_hub[37];
	uint64_t latest_hs;
	char latest_path[OPS_PATH_MAX];
	char *latest_agents;
	/* this backup */
	int64_t taken_ms;
	int failed;
};

static int scan_backups(void *ctx, const struct log_line *l)
{
	struct restore_scan *R = ctx;
	if (strcmp(l->f[0], "backup") != 0 || l->n < 6)
		return 0;
	R->have_latest = 1;
	R->latest_ms = l->ms;
	snprintf(R->latest_hub, sizeof R->latest_hub, "%s", l->f[1]);
	R->latest_hs = strtoull(l->f[2], NULL, 10);
	snprintf(R->latest_path, sizeof R->latest_path, "%s", l->f[4]);
	free(R->latest_agents);
	R->latest_agents = strdup(l->f[5]);
	return R->latest_agents ? 0 : -1;
}

struct reapply {
	struct store *s;
	int64_t since_ms;
	size_t revoked;
	FILE *out;
	size_t lost;
};

static int reapply_revocations(void *ctx, const struct log_line *l)
{
	struct reapply *R = ctx;
	if (strcmp(l->f[0], "revoke") != 0 || l->n < 2)
		return 0;
	struct store_token t;
	int k = R->s->token_get(R->s, l->f[1], &t);
	if (k < 0)
		return -1;
	if (k == 1 || t.revoked_ms)
		return 0;
	t.revoked_ms = l->ms;
	if (R->s->token_put(R->s, &t) != 0)
		return -1;
	R->revoked++;
	return 0;
}

static int list_lost(void *ctx, const struct log_line *l)
{
	struct reapply *R = ctx;
	char when[32];
	if (l->ms <= R->since_ms)
		return 0;
	iso_time(l->ms, when);
	if (strcmp(l->f[0], "enroll") == 0 && l->n >= 3) {
		fprintf(R->out, "  not restored: enrolment of token %s for %s (%s) at %s — enroll again%s%s"
				" and give the office its new token\n", l->f[1], l->f[2],
			l->n >= 4 ? l->f[3] : "-", when, l->n >= 5 ? " with --agent " : "",
			l->n >= 5 ? l->f[4] : "");
		R->lost++;
	} else if (strcmp(l->f[0], "correction") == 0 && l->n >= 4) {
		fprintf(R->out, "  not restored: correction `%s %s %s` at %s — make it again\n", l->f[1],
			l->f[2], l->f[3], when);
		R->lost++;
	} else if (strcmp(l->f[0], "reform") == 0 && l->n >= 2) {
		fprintf(R->out, "  not restored: reform `%s` at %s — apply it again\n", l->f[1], when);
		R->lost++;
	}
	return 0;
}

/* Prints, agent by agent, what the latest backup held beyond this one. */
static void print_loss(FILE *out, const char *latest, const struct agent_seqs *mine)
{
	char *copy = strdup(latest ? latest : "");
	char *save = NULL;
	if (!copy)
		return;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		if (!colon)
			continue;
		*colon = '\0';
		uint64_t theirs = strtoull(colon + 1, NULL, 10), ours = 0;
		for (size_t i = 0; i < mine->n; i++)
			if (strcmp(mine->v[i].id, tok) == 0)
				ours = mine->v[i].seq;
		if (theirs > ours)
			fprintf(out, "  agent %s: sequences %" PRIu64 "..%" PRIu64 " are in the later backup;"
				     " the office may have compacted them since, and then they are lost\n",
				tok, ours + 1, theirs);
	}
	free(copy);
}

int ops_restore(const char *db, const char *backup, int force, int64_t now_ms, FILE *out,
		char *err, size_t errlen)
{
	char tmp[STORE_PATH_MAX], kept[STORE_PATH_MAX + 64], new_id[IDS_UUID_TEXT], when[32],
		stamp[32];
	struct agent_seqs A = { 0 };
	struct store_copy_info info = { .agent = collect_agent, .ctx = &A };
	struct restore_scan R = { 0 };
	struct store *s = NULL;
	struct stat sb;
	int rc = -1, exists = 0, tmp_made = 0;
	if (strlen(db) >= OPS_PATH_MAX) {
		snprintf(err, errlen, "database path too long");
		return -1;
	}
	if (store_is_pg(db)) /* PostgreSQL's own tools restore it: the reason in err */
		return store_set_aside(db, "", NULL, 0, err, errlen) == 0 ? -1 : 1;
	if (store_is_serving(db)) {
		snprintf(err, errlen, "a lienket-hub is serving '%s': stop it first", db);
		return 1;
	}
	if (stat(backup, &sb) != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", backup, strerror(errno));
		return 1;
	}
	if (store_side_path(db, "restoring", tmp, sizeof tmp) != 0) {
		snprintf(err, errlen, "database path too long");
		return -1;
	}
	store_remove_copy(tmp); /* a restore interrupted before: ours to remove */
	if (store_copy(backup, tmp, 0, &info, err, errlen) != 0)
		goto done;
	tmp_made = 1;
	/* Is it the latest backup? */
	if (log_each(db, &exists, scan_backups, &R) != 0) {
		snprintf(err, errlen, "cannot read '%s.operations'", db);
		goto done;
	}
	iso_time(info.taken_ms, when);
	if (!exists || !R.have_latest) {
		fprintf(out, "warning: no backup is logged in '%s.operations': cannot check that"
			     " '%s' is the latest backup\n", db, backup);
	} else if (!(strcmp(R.latest_hub, info.hub_id) == 0 && R.latest_hs == info.hs) &&
		   info.taken_ms < R.latest_ms) {
		char later[32];
		iso_time(R.latest_ms, later);
		if (!force) {
			snprintf(err, errlen, "'%s' (taken %s, hub sequence %" PRIu64 ") is older than the"
				 " latest backup '%s' (taken %s, hub sequence %" PRIu64 "): restore that one,"
				 " or give --force to accept the loss", backup, when, info.hs, R.latest_path,
				 later, R.latest_hs);
			rc = 1;
			goto done;
		}
		fprintf(out, "warning: restoring '%s' (taken %s), older than the latest backup '%s'"
			     " (taken %s); what only the later backup held:\n", backup, when, R.latest_path,
			later);
		print_loss(out, R.latest_agents, &A);
	}
	/* The restored database: a new id, revocations re-applied, backup_seq set. */
	if (hub_store_open(tmp, 0, &s, err, errlen) != 0)
		goto done;
	if (ids_uuid7(now_ms, new_id) != 0) {
		snprintf(err, errlen, "cannot make a hub id: random source failed");
		goto done;
	}
	struct reapply P = { .s = s, .since_ms = info.taken_ms, .out = out };
	int ok = s->begin(s) == 0;
	ok = ok && s->meta_set(s, "hub_id", new_id) == 0 && s->meta_set(s, "restored_from", info.hub_id) == 0;
	for (size_t i = 0; ok && i < A.n; i++)
		ok = s->backup_seq_set(s, A.v[i].id, A.v[i].seq) == 0;
	ok = ok && log_each(db, &exists, reapply_revocations, &P) == 0;
	if (!ok)
		s->rollback(s);
	if (!ok || s->commit(s) != 0) {
		snprintf(err, errlen, "cannot prepare the restored database '%s'", tmp);
		goto done;
	}
	s->close(s);
	s = NULL;
	/* Swap it in; the database it replaces is kept. */
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	if (store_set_aside(db, stamp, kept, sizeof kept, err, errlen) != 0)
		goto done;
	if (store_put_in_place(tmp, db, err, errlen) != 0)
		goto done;
	tmp_made = 0;
	fprintf(out, "restored: '%s' from '%s' (taken %s, hub sequence %" PRIu64 ")\n", db, backup,
		when, info.hs);
	fprintf(out, "hub_id: %s (was %s): offices notice it at their next sync and send again"
		     " what the backup lacks\n", new_id, info.hub_id);
	fprintf(out, "revocations re-applied: %zu\n", P.revoked);
	if (kept[0])
		fprintf(out, "the replaced database is kept as '%s'\n", kept);
	if (log_each(db, &exists, list_lost, &P) != 0)
		fprintf(out, "warning: cannot read '%s.operations' to list what is not restored\n", db);
	if (P.lost == 0)
		fprintf(out, "nothing logged after the backup is missing (enrolments, corrections,"
			     " reforms)\n");
	if (ops_log(db, now_ms, "restore", backup, new_id, (char *)NULL) != 0)
		fprintf(out, "warning: cannot append to '%s.operations'\n", db);
	rc = 0;
done:
	if (s)
		s->close(s);
	if (tmp_made)
		store_remove_copy(tmp);
	free(R.latest_agents);
	free(A.v);
	return rc;
}
