/*
 * api.c — the routes of PROTOCOL.md §10 behind api_handle (see api.h).
 *
 * Writes go through one writer thread that owns the write connection: a request
 * queues a job and waits; the writer takes every queued job, runs them in one
 * transaction (each inside its own savepoint, so one refused change set undoes only
 * itself), commits once (synchronous=FULL: durable on return) and then wakes every
 * waiter. That is group commit: concurrent change sets share one fsync, and each is
 * answered only after the commit that holds it. Reads (auth, pull, checksums, status)
 * use connections from a small pool, each in its own WAL snapshot. A checkpointer
 * thread with its own connection copies the write-ahead log into the database after
 * commits (at most every API_CHECKPOINT_MS), so the writer's commits rarely do it
 * (only to let the log start over once it has grown past a bound: store.h).
 * Several hub processes may share one PostgreSQL database: the writer of one can lose a
 * lock to another's (a deadlock, STORE_CONFLICT); the whole group is then rolled back and
 * run again (API_WRITE_ATTEMPTS), so a change set is answered from a run that committed.
 *
 * Invariant: an answer 200 to a change set means it is on disk; a refusal stores
 * nothing (except the fork mark, PROTOCOL.md §9). Owns: the writer thread, its
 * connection, the pool, the metrics counters.
 */
#include "api.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <time.h>

#include "auth.h"
#include "changes.h"
#include "dashboard.h"
#include "downloads.h"
#include "entry.h"
#include "hlc.h"
#include "schema.h"
#include "store.h"
#include "units.h"
#include "wire.h"
#include "zio.h"

#define API_POOL_MAX 16       /* idle read connections kept */
#define API_CHECKPOINT_MS 100 /* least time between two checkpoints */
/* Runs of one group commit when another hub process on the same database wins a lock
 * (STORE_CONFLICT: a deadlock or serialization failure, PostgreSQL): each run starts
 * over from a rolled-back transaction, after API_RETRY_MS times the runs so far. */
#define API_WRITE_ATTEMPTS 8
#define API_RETRY_MS 5
#define API_JSON_TYPE "application/json"
#define API_DEFLATE_LEVEL 6

static const double latency_buckets_ms[] = { 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000 };
#define API_NBUCKETS (sizeof latency_buckets_ms / sizeof latency_buckets_ms[0])

struct job {
	int (*fn)(struct store *s, void *ctx);
	void *ctx;
	int rc;
	int done;
	struct job *next;
};

struct api {
	char db_path[1024];
	int64_t max_ahead_ms;
	char hub_id[37];
	int trust_proxy;
	int tls; /* served over HTTPS: the dashboard cookie gets Secure */

	pthread_mutex_t lock; /* queue, pool and metrics */
	pthread_cond_t work, done;
	struct job *head, *tail;
	int stop;
	pthread_t writer;
	struct store *wstore;
	pthread_t checkpointer;
	pthread_cond_t committed;     /* signalled after each commit */
	uint64_t commits;             /* commits so far */
	struct store *cstore;         /* the checkpointer's connection */
	struct changes_cache scopes;  /* agents' scopes, used by the writer thread only */

	struct store *pool[API_POOL_MAX];
	size_t npool;

	/* metrics */
	uint64_t requests[600];
	uint64_t changesets, changes_merged, quarantined, bytes_in, duplicates;
	uint64_t lat_bucket[API_NBUCKETS + 1];
	double lat_sum_ms;
	uint64_t lat_count;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- writer thread ---- */

static void *writer_main(void *arg)
{
	struct api *a = arg;
	prctl(PR_SET_NAME, "lk-writer"); /* a name in top -H and perf; failure is harmless */
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->stop && !a->head)
			pthread_cond_wait(&a->work, &a->lock);
		if (!a->head && a->stop)
			break;
		struct job *batch = a->head;
		a->head = a->tail = NULL;
		pthread_mutex_unlock(&a->lock);

		struct store *s = a->wstore;
		int ok = 0;
		for (int attempt = 1;; attempt++) {
			ok = s->begin(s) == 0;
			for (struct job *j = batch; j; j = j->next)
				j->rc = ok ? j->fn(s, j->ctx) : -1;
			int c = ok ? s->commit(s) : -1;
			ok = c == 0;
			if (c != STORE_CONFLICT || attempt == API_WRITE_ATTEMPTS)
				break;
			/* every job runs again from the start: each sets its own result */
			struct timespec pause = { 0, (long)attempt * API_RETRY_MS * 1000000L };
			nanosleep(&pause, NULL);
		}
		pthread_mutex_lock(&a->lock);
		for (struct job *j = batch; j; j = j->next) {
			if (!ok)
				j->rc = -1;
			j->done = 1;
		}
		pthread_cond_broadcast(&a->done);
		a->commits++;
		pthread_cond_signal(&a->committed);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Copies the log into the database after commits, at most every API_CHECKPOINT_MS. A
 * failed checkpoint is logged and retried after the next commit: the log only grows. */
static void *checkpointer_main(void *arg)
{
	struct api *a = arg;
	uint64_t seen = 0;
	prctl(PR_SET_NAME, "lk-checkpoint"); /* as in writer_main */
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->stop && a->commits == seen)
			pthread_cond_wait(&a->committed, &a->lock);
		if (a->stop)
			break;
		seen = a->commits;
		pthread_mutex_unlock(&a->lock);
		if (a->cstore->checkpoint(a->cstore) != 0)
			fprintf(stderr, "lienket-hub: checkpoint failed; retried after the next commit\n");
		struct timespec pause = { 0, API_CHECKPOINT_MS * 1000000L };
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Runs fn in the next group commit; returns its result, or -1 when the commit failed. */
static int run_write(struct api *a, int (*fn)(struct store *, void *), void *ctx)
{
	/* The job lives on this stack frame: the writer thread unlinks the whole batch
	 * before running it and marks each job done only after the commit, and we wait
	 * for that under the lock, so the queue never holds &j after we return. */
	struct job j = { .fn = fn, .ctx = ctx };
	pthread_mutex_lock(&a->lock);
	if (a->tail)
		a->tail->next = &j;
	else
		a->head = &j; // cppcheck-suppress autoVariables
	a->tail = &j; // cppcheck-suppress autoVariables
	pthread_cond_signal(&a->work);
	while (!j.done)
		pthread_cond_wait(&a->done, &a->lock);
	pthread_mutex_unlock(&a->lock);
	return j.rc;
}

static struct store *pool_get(struct api *a)
{
	struct store *s = NULL;
	char err[256];
	pthread_mutex_lock(&a->lock);
	if (a->npool)
		s = a->pool[--a->npool];
	pthread_mutex_unlock(&a->lock);
	if (!s && hub_store_open(a->db_path, 0, &s, err, sizeof err) != 0)
		return NULL;
	return s;
}

static void pool_put(struct api *a, struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->npool < API_POOL_MAX) {
		a->pool[a->npool++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	if (s)
		s->close(s);
}

static void api_destroy(struct api *a);

int api_new(const struct api_options *opt, struct api **out, char *err, size_t errlen)
{
	struct api *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(a->db_path, sizeof a->db_path, "%s", opt->db_path ? opt->db_path : "");
	a->max_ahead_ms = opt->max_ahead_ms > 0 ? opt->max_ahead_ms : HLC_MAX_AHEAD_MS;
	a->trust_proxy = opt->trust_proxy;
	a->tls = opt->tls;
	if (hub_store_open(a->db_path, 0, &a->wstore, err, errlen) != 0) {
		free(a);
		return -1;
	}
	if (a->wstore->meta_get(a->wstore, "hub_id", a->hub_id, sizeof a->hub_id) != 0) {
		snprintf(err, errlen, "'%s' has no hub id", a->db_path);
		a->wstore->close(a->wstore);
		free(a);
		return -1;
	}
	if (a->wstore->writer_tune(a->wstore) != 0) {
		snprintf(err, errlen, "cannot set up the writer connection to '%s'", a->db_path);
		a->wstore->close(a->wstore);
		free(a);
		return -1;
	}
	if (hub_store_open(a->db_path, 0, &a->cstore, err, errlen) != 0) {
		a->wstore->close(a->wstore);
		free(a);
		return -1;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->done, NULL);
	pthread_cond_init(&a->committed, NULL);
	/* The threads start with SIGTERM and SIGINT blocked: the server waits for them in
	 * its main thread (server.c), and one delivered here would stop the hub undrained. */
	sigset_t stops, old;
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	int masked = pthread_sigmask(SIG_BLOCK, &stops, &old) == 0;
	int writer = pthread_create(&a->writer, NULL, writer_main, a) == 0;
	int checkpointer = writer && pthread_create(&a->checkpointer, NULL, checkpointer_main, a) == 0;
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!checkpointer) {
		snprintf(err, errlen, "cannot start the %s thread", writer ? "checkpointer" : "writer");
		if (writer) {
			pthread_mutex_lock(&a->lock);
			a->stop = 1;
			pthread_cond_signal(&a->work);
			pthread_mutex_unlock(&a->lock);
			pthread_join(a->writer, NULL);
		}
		api_destroy(a);
		return -1;
	}
	*out = a;
	return 0;
}

/* Frees what api_new made once both threads have stopped. */
static void api_destroy(struct api *a)
{
	changes_cache_release(&a->scopes);
	a->wstore->close(a->wstore);
	a->cstore->close(a->cstore);
	for (size_t i = 0; i < a->npool; i++)
		a->pool[i]->close(a->pool[i]);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->done);
	pthread_cond_destroy(&a->committed);
	free(a);
}

void api_free(struct api *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_signal(&a->work);
	pthread_cond_signal(&a->committed);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->writer, NULL);
	pthread_join(a->checkpointer, NULL);
	api_destroy(a);
}

/* ---- responses ---- */

void api_response_release(struct api_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static void set_error(struct api_response *resp, const struct wire_error_answer *e, int status)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = status;
	resp->content_type = API_JSON_TYPE;
	resp->content_encoding = NULL;
	snprintf(resp->log.error, sizeof resp->log.error, "%s", e->code);
	char *json = wire_error_answer_encode(e);
	if (!json) {
		static const char fallback[] =
			"{\"v\":1,\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
		json = strdup(fallback);
		resp->status = 500;
	}
	if (json) {
		resp->body = (unsigned char *)json;
		resp->body_len = strlen(json);
	}
}

static void fail(struct api_response *resp, int status, const char *code, const char *field,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fail(struct api_response *resp, int status, const char *code, const char *field,
		 const char *fmt, ...)
{
	struct wire_error_answer e = { 0 };
	va_list ap;
	e.hub_time = now_ms();
	snprintf(e.code, sizeof e.code, "%s", code);
	snprintf(e.field, sizeof e.field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof e.message, fmt, ap);
	va_end(ap);
	set_error(resp, &e, status);
}

void api_error_response(struct api_response *resp, int status, const char *code,
			const char *message)
{
	fail(resp, status, code, NULL, "%s", message ? message : code);
}

/* Takes ownership of text (NUL-terminated JSON or plain text) and answers 200, deflated
 * when the client accepts it. */
static void answer(const struct api_request *req, struct api_response *resp, char *text,
		   const char *content_type)
{
	if (!text) {
		fail(resp, 500, "internal", NULL, "cannot encode the answer");
		return;
	}
	size_t len = strlen(text);
	resp->status = 200;
	resp->content_type = content_type;
	resp->content_encoding = NULL;
	if (req->accept_encoding && strstr(req->accept_encoding, "deflate")) {
		unsigned char *z;
		size_t zlen;
		if (zio_deflate(text, len, API_DEFLATE_LEVEL, &z, &zlen) != ZIO_OK) {
			free(text);
			fail(resp, 500, "internal", NULL, "cannot compress the answer");
			return;
		}
		free(text);
		resp->body = z;
		resp->body_len = zlen;
		resp->content_encoding = "deflate";
		return;
	}
	resp->body = (unsigned char *)text;
	resp->body_len = len;
}

/* ---- a growable text buffer for JSON and metrics ---- */

struct buf {
	char *p;
	size_t n, cap;
	int failed;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->failed = 1;
			return;
		}
		if (b->p && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)k;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

static char *buf_detach(struct buf *b)
{
	if (b->failed || !b->p) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

/* ---- request helpers ---- */

enum route_auth { ROUTE_OPEN, ROUTE_AGENT, ROUTE_VIEWER };

struct ctx {
	struct api *a;
	const struct api_request *req;
	struct api_response *resp;
	struct store *rs;          /* a read connection */
	struct store_token token;  /* when authenticated */
	int64_t now;
};

/* Inflates the body into *json. 0, or 1 after filling an error response. */
static int read_body(struct ctx *c, unsigned char **json, size_t *len)
{
	const struct api_request *req = c->req;
	if (!req->content_encoding || strcmp(req->content_encoding, "deflate") != 0) {
		fail(c->resp, 415, "bad_encoding", "Content-Encoding",
		     "the body must be sent with Content-Encoding: deflate");
		return 1;
	}
	if (req->body_len > WIRE_MAX_BODY_BYTES) {
		fail(c->resp, 413, "too_large", NULL, "compressed body over %u bytes",
		     (unsigned)WIRE_MAX_BODY_BYTES);
		return 1;
	}
	if (!req->body || req->body_len == 0) {
		fail(c->resp, 400, "bad_deflate", NULL, "empty body");
		return 1;
	}
	enum zio_result zr = zio_inflate(req->body, req->body_len, WIRE_MAX_INFLATED_BYTES, json, len);
	switch (zr) {
	case ZIO_OK:
		return 0;
	case ZIO_TOO_LARGE:
		fail(c->resp, 413, "too_large", NULL, "inflated body over %u bytes",
		     (unsigned)WIRE_MAX_INFLATED_BYTES);
		return 1;
	case ZIO_NOMEM:
		fail(c->resp, 500, "internal", NULL, "out of memory");
		return 1;
	default:
		fail(c->resp, 400, "bad_deflate", NULL, "%s", zio_result_str(zr));
		return 1;
	}
}

/* Maps a decoder error to its §7.1 answer. */
static void decode_failed(struct ctx *c, const struct wire_status *st)
{
	const char *code = wire_error_code(st->code);
	if (strcmp(code, "protocol_version") == 0 || strcmp(code, "bad_message") == 0 ||
	    strcmp(code, "bad_sequence") == 0)
		fail(c->resp, 400, code, st->field, "%s", st->message);
	else if (strcmp(code, "too_many") == 0)
		fail(c->resp, 413, "too_large", st->field, "%s", st->message);
	else if (strcmp(code, "internal") == 0)
		fail(c->resp, 500, "internal", NULL, "%s", st->message);
	else
		fail(c->resp, 400, "bad_json", st->field, "%s: %s", code, st->message);
}

static void result_error(struct ctx *c, const struct changes_result *r)
{
	set_error(c->resp, &r->error, r->status);
}

/* ---- hello ---- */

struct hello_job {
	struct store_token *token;
	const struct wire_hello *h;
	int64_t now;
	int status;        /* 200 or 403 */
	char code[32];
	struct store_agent agent;
	int retired;
};

/* The token's binding is checked first (PROTOCOL.md §9): for an id that is not the
 * token's the answer is token_bound and nothing else, whether that id exists, is
 * retired or not. A new agent takes the token's unit; hello never changes it. */
static int hello_write(struct store *s, void *ctx)
{
	struct hello_job *J = ctx;
	if (s->savepoint(s) != 0)
		return -1;
	int rc = -1;
	int b = auth_bind(s, J->token, J->h->agent, J->now);
	if (b < 0)
		goto done;
	if (b == AUTH_BIND_REFUSED) {
		J->status = 403;
		snprintf(J->code, sizeof J->code, "token_bound");
		rc = 0;
		goto done;
	}
	int found = s->agent_get(s, J->h->agent, &J->agent);
	if (found < 0)
		goto done;
	if (b == AUTH_BIND_RETIRED) {
		J->retired = 1;
		J->status = 200;
		rc = 0;
		goto done;
	}
	if (found == 1) {
		/* bound at enrolment to a record a restored hub lacks */
		memset(&J->agent, 0, sizeof J->agent);
		snprintf(J->agent.id, sizeof J->agent.id, "%s", J->h->agent);
		snprintf(J->agent.unit_id, sizeof J->agent.unit_id, "%s", J->token->unit_id);
		snprintf(J->agent.chain, sizeof J->agent.chain, "%064d", 0);
		J->agent.first_seen_ms = J->now;
	}
	J->agent.last_hello_ms = J->now;
	J->agent.wall_ms = J->h->wall_ms;
	J->agent.offset_ms = J->now - J->h->wall_ms;
	J->agent.pending = J->h->pending;
	snprintf(J->agent.software, sizeof J->agent.software, "%s", J->h->software);
	if (s->agent_put(s, &J->agent) != 0)
		goto done;
	/* The hub lost entries it acknowledged (restored from an older backup): the token
	 * may re-bind as after a refused fork (PROTOCOL.md §9). */
	if (J->h->acked > J->agent.acked && !J->token->fork_refused) {
		J->token->fork_refused = 1;
		if (s->token_put(s, J->token) != 0)
			goto done;
	}
	J->status = 200;
	rc = 0;
done:
	if (s->savepoint_end(s, rc == 0) != 0)
		rc = -1;
	return rc;
}

/* Per-unit checksums over the scope (PROTOCOL.md §8). */
struct sums {
	const struct units_scope *scope;
	struct checksum *sum;
	int failed;
};

static int cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int sum_row(void *ctx, const struct merge_row *r)
{
	struct sums *S = ctx;
	const struct schema_table *t = r->t;
	struct field fields[64];
	size_t n = 0;
	if (t->ncolumns > 64)
		return -1;
	struct value owner = { .kind = VALUE_TEXT, .s = r->owner, .len = strlen(r->owner) };
	fields[n].name = "unit_id";
	fields[n++].v = owner;
	for (size_t i = 2; i < t->ncolumns; i++) {
		fields[n].name = t->columns[i].name;
		fields[n++].v = r->cells[i].v;
	}
	uint64_t d;
	if (entry_row_digest(t->name, r->id, fields, n, &d) != 0)
		return -1;
	const char (*hit)[37] = bsearch(r->owner, S->scope->ids, S->scope->n, sizeof S->scope->ids[0],
				       cmp_id);
	if (hit)
		checksum_add(&S->sum[hit - S->scope->ids], d);
	return 0;
}

static int compute_checksums(struct store *s, const struct units_scope *scope,
			     struct wire_checksum_item **out)
{
	struct sums S = { .scope = scope };
	int rc = -1;
	char *json = units_scope_json(scope);
	S.sum = calloc(scope->n ? scope->n : 1, sizeof *S.sum);
	struct wire_checksum_item *items = calloc(scope->n ? scope->n : 1, sizeof *items);
	if (!json || !S.sum || !items)
		goto done;
	for (size_t t = 0; t < schema_ntables; t++)
		if (s->rows_owned(s, &schema_tables[t], json, sum_row, &S) != 0)
			goto done;
	for (size_t i = 0; i < scope->n; i++) {
		snprintf(items[i].unit, sizeof items[i].unit, "%s", scope->ids[i]);
		checksum_format(&S.sum[i], items[i].value);
	}
	*out = items;
	items = NULL;
	rc = 0;
done:
	free(items);
	free(S.sum);
	free(json);
	return rc;
}

static void handle_hello(struct ctx *c)
{
	unsigned char *json = NULL;
	size_t len;
	struct wire_hello h;
	struct wire_status st = { 0 };
	struct units_scope scope = { 0 };
	struct wire_hello_answer ans = { 0 };
	if (read_body(c, &json, &len) != 0)
		return;
	if (wire_hello_decode((const char *)json, len, &h, &st) != 0) {
		decode_failed(c, &st);
		goto done;
	}
	snprintf(c->resp->log.agent, sizeof c->resp->log.agent, "%s", h.agent);
	struct hello_job J = { .token = &c->token, .h = &h, .now = c->now };
	if (run_write(c->a, hello_write, &J) != 0) {
		fail(c->resp, 500, "internal", NULL, "cannot record the hello");
		goto done;
	}
	if (J.status != 200) {
		fail(c->resp, J.status, J.code, "agent", "token is bound to another agent id");
		goto done;
	}
	ans.v = WIRE_MESSAGE_V;
	/* the change-set shape this agent sends: the smaller of its own and ours (§6.1) */
	ans.changes_v = h.changes_v < WIRE_CHANGES_MAX ? h.changes_v : WIRE_CHANGES_MAX;
	ans.schema = SCHEMA_VERSION;
	ans.hub_time = c->now;
	snprintf(ans.hub_id, sizeof ans.hub_id, "%s", c->a->hub_id);
	snprintf(ans.unit, sizeof ans.unit, "%s", c->token.unit_id);
	ans.acked = J.agent.acked;
	snprintf(ans.chain, sizeof ans.chain, "%s", J.agent.chain);
	if (c->rs->backup_seq_get(c->rs, h.agent, &ans.backup_seq) != 0) {
		fail(c->resp, 500, "internal", NULL, "cannot read the backup sequence");
		goto done;
	}
	ans.max_body_bytes = WIRE_MAX_BODY_BYTES;
	ans.max_inflated_bytes = WIRE_MAX_INFLATED_BYTES;
	ans.max_changes = WIRE_MAX_CHANGES;
	ans.max_ahead_ms = c->a->max_ahead_ms;
	ans.pull_page_rows = WIRE_MAX_PULL_ROWS;
	ans.retired = J.retired;
	if (!J.retired) {
		char today[11];
		units_today(c->now, today);
		int ok = c->rs->read_begin(c->rs) == 0;
		ok = ok && units_scope_compute(c->rs, c->token.unit_id, today, &scope) == 0 &&
		     compute_checksums(c->rs, &scope, &ans.checksums) == 0;
		c->rs->read_end(c->rs);
		if (!ok) {
			fail(c->resp, 500, "internal", NULL, "cannot compute checksums");
			goto done;
		}
		ans.nchecksums = scope.n;
	}
	answer(c->req, c->resp, wire_hello_answer_encode(&ans), API_JSON_TYPE);
done:
	wire_hello_answer_release(&ans);
	units_scope_release(&scope);
	free(json);
}

/* ---- changes ---- */

struct changes_job {
	struct store_token *token;
	const struct wire_changeset *cs;
	const struct changes_prep *prep;
	struct changes_cache *cache; /* the writer's: only touched inside changes_write */
	int64_t now;
	int64_t max_ahead_ms; /* the drift limit (PROTOCOL.md §4) */
	struct changes_result res;
};

static int changes_write(struct store *s, void *ctx)
{
	struct changes_job *J = ctx;
	/* run again after a conflict: the result of the run rolled back goes */
	changes_result_release(&J->res);
	memset(&J->res, 0, sizeof J->res);
	/* A store failure leaves no partial result behind (changes_apply releases it). */
	if (s->savepoint(s) != 0)
		return -1;
	int rc = -1;
	/* The binding first (PROTOCOL.md §9): another laptop's id learns nothing. */
	int b = auth_bind(s, J->token, J->cs->agent, J->now);
	if (b < 0)
		goto done;
	if (b == AUTH_BIND_REFUSED) {
		changes_error(&J->res, 403, "token_bound", "agent", J->now,
			      "token is bound to another agent id");
		rc = 0;
		goto done;
	}
	if (b == AUTH_BIND_RETIRED) {
		changes_error(&J->res, 403, "agent_retired", "agent", J->now,
			      "agent %s was retired by recover", J->cs->agent);
		rc = 0;
		goto done;
	}
	rc = changes_apply(s, J->cs, J->prep, J->cache, J->token->unit_id, J->token, J->now,
			   J->max_ahead_ms, &J->res);
done:
	if (s->savepoint_end(s, rc == 0) != 0) {
		changes_result_release(&J->res);
		rc = -1;
	}
	return rc;
}

static void observe_latency(struct api *a, double ms)
{
	pthread_mutex_lock(&a->lock);
	size_t i = 0;
	while (i < API_NBUCKETS && ms > latency_buckets_ms[i])
		i++;
	a->lat_bucket[i]++;
	a->lat_sum_ms += ms;
	a->lat_count++;
	pthread_mutex_unlock(&a->lock);
}

static void handle_changes(struct ctx *c)
{
	unsigned char *json = NULL;
	size_t len;
	struct wire_changeset *cs = NULL;
	struct wire_status st = { 0 };
	struct changes_job J = { 0 };
	struct changes_prep prep = { 0 };
	if (read_body(c, &json, &len) != 0)
		return;
	if (wire_changeset_decode((const char *)json, len, &cs, &st) != 0) {
		decode_failed(c, &st);
		goto done;
	}
	struct api_log *lg = &c->resp->log;
	snprintf(lg->agent, sizeof lg->agent, "%s", cs->agent);
	lg->seq_from = cs->from;
	lg->shape = cs->v;
	lg->seq_to = cs->to;
	if (changes_precheck(cs, c->now, &J.res) != 0) {
		result_error(c, &J.res);
		goto done;
	}
	/* chains and validation here, in the request's thread: the writer only merges */
	if (changes_prepare(cs, &prep) != 0) {
		fail(c->resp, 500, "internal", NULL, "cannot check the change set");
		goto done;
	}
	J.token = &c->token;
	J.cs = cs;
	J.prep = &prep;
	J.cache = &c->a->scopes;
	J.now = c->now;
	J.max_ahead_ms = c->a->max_ahead_ms;
	double t0 = mono_ms();
	if (run_write(c->a, changes_write, &J) != 0) {
		fail(c->resp, 500, "internal", NULL, "cannot store the change set");
		goto done;
	}
	observe_latency(c->a, mono_ms() - t0);
	if (J.res.status != 200) {
		result_error(c, &J.res);
		goto done;
	}
	lg->applied = J.res.answer.applied;
	lg->quarantined = (int64_t)J.res.answer.nquarantined;
	pthread_mutex_lock(&c->a->lock);
	c->a->changesets++;
	c->a->changes_merged += (uint64_t)J.res.answer.applied;
	c->a->quarantined += J.res.answer.nquarantined;
	c->a->duplicates += (uint64_t)J.res.answer.duplicate;
	pthread_mutex_unlock(&c->a->lock);
	answer(c->req, c->resp, wire_changes_answer_encode(&J.res.answer), API_JSON_TYPE);
done:
	changes_prep_release(&prep);
	changes_result_release(&J.res);
	wire_changeset_free(cs);
	free(json);
}

/* ---- pull ---- */

/* Rows a pull reads at most while leaving out the agent's own: bounds one request's
 * work when an agent pulls after pushing many rows; `more` brings it back for the rest. */
#define PULL_SCAN_MAX 20000
/* Rows read per table in one go once a page was short of rows by leaving some out:
 * fewer, larger reads (each costs a scan of the scope), at most ~64 bytes a row held. */
#define PULL_SCAN_BATCH 5000
/* Quarantined rows of one agent kept in memory for a pull; beyond, nothing is left out. */
#define PULL_QUARANTINED_MAX 10000

/* The row ids whose merged state may differ from what this agent sent although only it
 * wrote them: a change of its own went to quarantine. Sorted for bsearch. */
struct idset {
	char (*v)[37];
	size_t n, cap;
};

static int idset_add(void *ctx, const char *id)
{
	struct idset *S = ctx;
	if (S->n == S->cap) {
		size_t nc = S->cap ? S->cap * 2 : 64;
		char (*n)[37] = realloc(S->v, nc * sizeof *n);
		if (!n)
			return -1;
		S->v = n;
		S->cap = nc;
	}
	snprintf(S->v[S->n++], sizeof S->v[0], "%s", id);
	return 0;
}

static int cmp_id37(const void *a, const void *b)
{
	return strcmp(a, b);
}

struct cand {
	uint64_t hs;
	size_t table;
	char id[37];
	int own; /* left out: its merged state is exactly what the pulling agent sent */
};

struct cands {
	struct cand *v;
	size_t n, cap;
	size_t table;
	const char *self;          /* the pulling agent, NULL: leave nothing out */
	const struct idset *quar;  /* its quarantined rows */
};

/* 1 when the agent wrote every stamp of r — the insert, the delete if any, every
 * column written — and none of its changes to r went to quarantine: its copy is then
 * exactly the merged state (PROTOCOL.md §6.3). From the row's metadata alone. */
static int row_is_own(const struct cands *C, const struct merge_row *r)
{
	if (!C->self || strcmp(r->ins_writer, C->self) != 0 ||
	    (r->del_writer[0] && strcmp(r->del_writer, C->self) != 0))
		return 0;
	for (size_t i = 2; i < r->t->ncolumns; i++)
		if (r->cells[i].writer[0] && strcmp(r->cells[i].writer, C->self) != 0)
			return 0;
	return !(C->quar->n &&
		 bsearch(r->id, C->quar->v, C->quar->n, sizeof C->quar->v[0], cmp_id37));
}

static int collect_cand(void *ctx, const struct merge_row *r, uint64_t hs)
{
	struct cands *C = ctx;
	if (C->n == C->cap) {
		size_t nc = C->cap ? C->cap * 2 : 256;
		struct cand *n = realloc(C->v, nc * sizeof *n);
		if (!n)
			return -1;
		C->v = n;
		C->cap = nc;
	}
	C->v[C->n].hs = hs;
	C->v[C->n].table = C->table;
	snprintf(C->v[C->n].id, sizeof C->v[C->n].id, "%s", r->id);
	C->v[C->n].own = row_is_own(C, r);
	C->n++;
	return 0;
}

static int by_hs(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return a->hs < b->hs ? -1 : a->hs > b->hs;
}

/* A query integer in [0, 2^53] (PROTOCOL.md §6: cursors and counts), decimal digits
 * only: 0 and *out, 1 absent (out untouched), -1 anything else — a sign, a space, or a
 * value past 2^53 (which a 64-bit signed binding would read as negative). */
static int parse_u53(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return 1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > (uint64_t)WIRE_MAX_SAFE_INT)
			return -1;
	}
	*out = v;
	return 0;
}

static int pull_add_row(struct wire_pull_writer *w, const struct merge_row *r)
{
	struct wire_pull_field f[64];
	size_t n = 0;
	const struct schema_table *t = r->t;
	if (t->ncolumns > 64)
		return -1;
	if (merge_row_inserted(r)) {
		f[n].name = "unit_id";
		f[n].v = (struct value){ .kind = VALUE_TEXT, .s = r->owner, .len = strlen(r->owner) };
		f[n].clock = r->ins_clock;
		f[n++].writer = r->ins_writer;
	}
	for (size_t i = 2; i < t->ncolumns; i++) {
		if (!r->cells[i].writer[0])
			continue;
		f[n].name = t->columns[i].name;
		f[n].v = r->cells[i].v;
		f[n].clock = r->cells[i].clock;
		f[n++].writer = r->cells[i].writer;
	}
	struct wire_pull_row row = {
		.table = t->name, .id = r->id, .owner = r->owner,
		.ins_clock = r->ins_clock, .ins_writer = r->ins_writer[0] ? r->ins_writer : NULL,
		.del_clock = r->del_clock, .del_writer = r->del_writer[0] ? r->del_writer : NULL,
		.fields = f, .nfields = n,
	};
	return wire_pull_writer_add(w, &row);
}

/* A pull from cursor 0 leaves nothing out, and neither do the pages that continue it
 * (PROTOCOL.md §6.3): the agent may lack rows only it wrote (a laptop restored from a
 * backup). The hub position of its snapshot is kept in meta "pull_full_until:<agent>";
 * while the agent's cursor is below it, its pulls are full ones. Resumes after an
 * interruption too, as the mark lives in the database. */
static void full_key(char key[64], const char *agent)
{
	snprintf(key, 64, "pull_full_until:%s", agent);
}

struct full_mark {
	const char *agent;
	uint64_t hs;
};

static int full_mark_write(struct store *s, void *ctx)
{
	const struct full_mark *M = ctx;
	char key[64], v[32];
	full_key(key, M->agent);
	int r = s->meta_get(s, key, v, sizeof v);
	if (r < 0)
		return -1;
	if (r == 0 && strtoull(v, NULL, 10) >= M->hs)
		return 0;
	snprintf(v, sizeof v, "%" PRIu64, M->hs);
	return s->meta_set(s, key, v);
}

/* Adds the rows after *next to w in hub order until `limit` rows are in the page, the
 * candidates run out or PULL_SCAN_MAX were read; *next moves past every row read
 * (sent or left out) and *more says whether rows remain after it. 0 or -1. */
static int pull_fill(struct store *s, struct cands *C, const char *scope_json, uint64_t limit,
		     struct wire_pull_writer *w, uint64_t *next, int *more)
{
	size_t sent = 0, scanned = 0, batch = (size_t)limit;
	*more = 0;
	for (;;) {
		C->n = 0;
		for (size_t t = 0; t < schema_ntables; t++) {
			const struct schema_table *tb = &schema_tables[t];
			C->table = t;
			if (s->rows_after(s, tb, *next, tb->pull == SCHEMA_PULL_ALL ? NULL : scope_json,
					  batch + 1, collect_cand, C) != 0)
				return -1;
		}
		if (C->n)
			qsort(C->v, C->n, sizeof *C->v, by_hs);
		/* Each table gave its first batch + 1 rows: the first `batch` of the union
		 * are the first `batch` of all, in order; beyond, some may be missing. */
		size_t take = C->n < batch ? C->n : batch, i;
		for (i = 0; i < take && sent < limit; i++) {
			*next = C->v[i].hs;
			scanned++;
			if (C->v[i].own)
				continue;
			struct merge_row r;
			if (merge_row_init(&r, &schema_tables[C->v[i].table], C->v[i].id, NULL) != 0)
				return -1;
			int rr = s->row_read(s, &r);
			int add = rr == 0 && (merge_row_inserted(&r) || r.del_writer[0]);
			int bad = rr < 0 || (add && pull_add_row(w, &r) != 0);
			merge_row_release(&r);
			if (bad)
				return -1;
			sent += (size_t)add;
		}
		if (i < C->n && (i < take || sent == limit || scanned >= PULL_SCAN_MAX)) {
			*more = 1;
			return 0;
		}
		if (i == C->n)
			return 0;
		/* short of rows by leaving some out: read ahead in larger steps */
		batch = PULL_SCAN_MAX - scanned < PULL_SCAN_BATCH ? PULL_SCAN_MAX - scanned
								  : PULL_SCAN_BATCH;
		if (batch < limit)
			batch = (size_t)limit;
	}
}

/* When an agent's scope grows (a reform hands its office a unit: PROTOCOL.md §6.3),
 * the rows of the newly in-scope units that lie below its cursor were never sent to
 * it. The hub keeps the scope each agent last pulled with (store pull_scope_*) and,
 * when a pull finds units in scope that were not then and one of them owns (or, for
 * tasks, is assigned) a row at or below the cursor, answers an empty page with
 * cursor 0 and more: the agent pulls again from 0, a full pull. */
static int scope_record_write(struct store *s, void *ctx)
{
	const char *const *agent_json = ctx;
	return s->pull_scope_set(s, agent_json[0], agent_json[1]);
}

/* Reads the ids of a scope's JSON (units_scope_json) into a sorted set. 0 or -1. */
static int scope_parse(const char *json, struct idset *out)
{
	for (const char *p = strchr(json, '"'); p; p = strchr(p + 1, '"')) {
		const char *end = strchr(p + 1, '"');
		if (!end)
			break;
		if (end - p - 1 == 36) {
			char id[37];
			memcpy(id, p + 1, 36);
			id[36] = '\0';
			if (idset_add(out, id) != 0)
				return -1;
		}
		p = end;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof out->v[0], cmp_id37);
	return 0;
}

static int first_hs(void *ctx, const struct merge_row *r, uint64_t hs)
{
	(void)r;
	*(uint64_t *)ctx = hs;
	return 0;
}

/* 1 when a unit of `scope` that `prev` (the scope last pulled with, JSON) lacked has a
 * row at or below `cursor` in a table pulled by scope; 0 not; -1 on failure. */
static int scope_missed(struct store *s, const struct units_scope *scope, const char *prev,
			uint64_t cursor)
{
	struct idset before = { 0 };
	struct units_scope added = { 0 };
	char *json = NULL;
	int rc = -1;
	if (scope_parse(prev, &before) != 0 ||
	    !(added.ids = malloc((scope->n ? scope->n : 1) * sizeof *added.ids)))
		goto done;
	for (size_t i = 0; i < scope->n; i++)
		if (!before.n || !bsearch(scope->ids[i], before.v, before.n, sizeof before.v[0], cmp_id37))
			memcpy(added.ids[added.n++], scope->ids[i], sizeof added.ids[0]);
	rc = 0;
	if (!added.n || !(json = units_scope_json(&added))) {
		rc = added.n ? -1 : 0;
		goto done;
	}
	for (size_t t = 0; rc == 0 && t < schema_ntables; t++) {
		uint64_t hs = UINT64_MAX;
		if (schema_tables[t].pull == SCHEMA_PULL_ALL)
			continue;
		if (s->rows_after(s, &schema_tables[t], 0, json, 1, first_hs, &hs) != 0)
			rc = -1;
		else if (hs <= cursor)
			rc = 1;
	}
done:
	free(json);
	free(added.ids);
	free(before.v);
	return rc;
}

static void handle_pull(struct ctx *c)
{
	uint64_t cursor = 0, limit = WIRE_MAX_PULL_ROWS;
	struct units_scope scope = { 0 };
	struct cands C = { 0 };
	struct idset quar = { 0 };
	char *scope_json = NULL;
	struct wire_pull_writer *w = NULL;
	const char *qc = c->req->query ? c->req->query(c->req->query_ctx, "cursor") : NULL;
	const char *ql = c->req->query ? c->req->query(c->req->query_ctx, "limit") : NULL;
	if (parse_u53(qc, &cursor) < 0) {
		fail(c->resp, 400, "bad_message", "cursor", "cursor is not an integer in [0, 2^53]");
		return;
	}
	if (parse_u53(ql, &limit) < 0 || limit == 0) {
		fail(c->resp, 400, "bad_message", "limit", "limit is not an integer in [1, 2^53]");
		return;
	}
	if (limit > WIRE_MAX_PULL_ROWS)
		limit = WIRE_MAX_PULL_ROWS;
	char today[11];
	units_today(c->now, today);
	struct store *s = c->rs;
	int ok = s->read_begin(s) == 0;
	if (!ok)
		goto fail_internal;
	if (units_scope_compute(s, c->token.unit_id, today, &scope) != 0 ||
	    !(scope_json = units_scope_json(&scope)))
		goto fail_read;
	/* The agent's own rows are left out, except in a full pull (from cursor 0 and
	 * the pages continuing it): it asks from 0 when its copy may lack what it once
	 * sent (PROTOCOL.md §6.3). */
	C.quar = &quar;
	const char *agent = c->token.agent_id;
	uint64_t pos = 0; /* from 0: this snapshot's hub position; else where a full pull ends */
	char key[64], v[32];
	/* The scope it last pulled with: recorded when it changed (none yet: from now). */
	int rewind = 0, changed = 0;
	if (agent[0]) {
		char *prev = NULL;
		int r = s->pull_scope_get(s, agent, &prev);
		changed = r == 1 || (r == 0 && strcmp(prev, scope_json) != 0);
		if (r == 0 && changed && cursor > 0)
			rewind = scope_missed(s, &scope, prev, cursor);
		free(prev);
		if (r < 0 || rewind < 0)
			goto fail_read;
	}
	const char *record[2] = { agent, scope_json };
	if (rewind) {
		s->read_end(s);
		if (run_write(c->a, scope_record_write, record) != 0 || !(w = wire_pull_writer_new(c->now)))
			goto fail_internal;
		answer(c->req, c->resp, wire_pull_writer_finish(w, 0, 1), API_JSON_TYPE);
		w = NULL;
		goto done;
	}
	if (agent[0]) {
		full_key(key, agent);
		int r = s->meta_get(s, cursor == 0 ? "hs" : key, v, sizeof v);
		if (r < 0)
			goto fail_read;
		pos = r == 0 ? strtoull(v, NULL, 10) : 0;
	}
	if (agent[0] && cursor > 0 && cursor >= pos) {
		int q = s->quarantined_rows(s, agent, PULL_QUARANTINED_MAX, idset_add, &quar);
		if (q < 0)
			goto fail_read;
		if (q == 0) {
			if (quar.n)
				qsort(quar.v, quar.n, sizeof quar.v[0], cmp_id37);
			C.self = agent;
		}
	}
	w = wire_pull_writer_new(c->now);
	if (!w)
		goto fail_read;
	uint64_t next = cursor;
	int more = 0;
	if (pull_fill(s, &C, scope_json, limit, w, &next, &more) != 0)
		goto fail_read;
	s->read_end(s);
	if (cursor == 0 && more && agent[0]) {
		struct full_mark M = { agent, pos };
		if (run_write(c->a, full_mark_write, &M) != 0)
			goto fail_internal;
	}
	if (changed && run_write(c->a, scope_record_write, record) != 0)
		goto fail_internal;
	answer(c->req, c->resp, wire_pull_writer_finish(w, next, more), API_JSON_TYPE);
	w = NULL;
	goto done;
fail_read:
	s->read_end(s);
fail_internal:
	fail(c->resp, 500, "internal", NULL, "cannot read the rows to pull");
done:
	wire_pull_writer_free(w);
	free(C.v);
	free(quar.v);
	free(scope_json);
	units_scope_release(&scope);
}

/* ---- status, report, dashboard (status.c, dashboard.c) ---- */

static const char *query(struct ctx *c, const char *key)
{
	return c->req->query ? c->req->query(c->req->query_ctx, key) : NULL;
}

static void handle_status(struct ctx *c)
{
	char *json = NULL;
	struct dashboard_error e = { 0 };
	if (!c->rs && !(c->rs = pool_get(c->a)))
		fail(c->resp, 503, "unavailable", NULL, "cannot open the database");
	else if (dashboard_status_json(c->rs, c->now, &json, &e) != 0)
		fail(c->resp, e.status, e.code, e.field, "%s", e.message);
	else
		answer(c->req, c->resp, json, API_JSON_TYPE);
}

static void handle_report(struct ctx *c)
{
	char *json = NULL;
	struct dashboard_error e = { 0 };
	if (!c->rs && !(c->rs = pool_get(c->a)))
		fail(c->resp, 503, "unavailable", NULL, "cannot open the database");
	else if (dashboard_report_json(c->rs, query(c, "unit"), query(c, "year"), c->now, &json,
				       &e) != 0)
		fail(c->resp, e.status, e.code, e.field, "%s", e.message);
	else
		answer(c->req, c->resp, json, API_JSON_TYPE);
}

/* The dashboard's session writes go through the writer like every other write. */
static int dashboard_write_job(void *a, int (*fn)(struct store *, void *), void *arg)
{
	return run_write(a, fn, arg);
}

/* The dashboard's environment for c; 0, or 1 after answering 503. */
static int dashboard_env_of(struct ctx *c, struct dashboard_env *env)
{
	if (!c->rs && !(c->rs = pool_get(c->a))) {
		fail(c->resp, 503, "unavailable", NULL, "cannot open the database");
		return 1;
	}
	/* HTTPS to the client: ours, or the trusted proxy's (it says so; docs/reverse-proxy.md) */
	const char *proto = c->req->forwarded_proto;
	int https = c->a->tls || (c->a->trust_proxy && proto && strcasecmp(proto, "https") == 0);
	*env = (struct dashboard_env){ .rs = c->rs, .now_ms = c->now,
				       .tls = https, .write = dashboard_write_job, .write_ctx = c->a,
				       .client = c->resp->log.client };
	return 0;
}

/* GET / and POST /: authenticated by the page itself (cookie or login form). */
static void handle_dashboard(struct ctx *c)
{
	struct dashboard_env env;
	if (dashboard_env_of(c, &env) == 0)
		dashboard_page(&env, c->req, c->resp);
}

/* GET /digest/DATE: the morning digest as mailed (cookie, like the page). */
static void handle_digest(struct ctx *c)
{
	struct dashboard_env env;
	if (dashboard_env_of(c, &env) == 0)
		dashboard_digest(&env, c->req, c->req->path + strlen("/digest/"), c->resp);
}

/* GET /report.xlsx?unit=&year=: the report as a spreadsheet (cookie, like the page). */
static void handle_xlsx(struct ctx *c)
{
	struct dashboard_env env;
	if (dashboard_env_of(c, &env) == 0)
		dashboard_xlsx(&env, c->req, c->resp);
}

/* ---- metrics, healthz ---- */

/* What the hub's database says for /metrics: offices silent for over a day, the last
 * backup, the digests mailed and not. */
struct db_gauges {
	int64_t now;
	int64_t silent;            /* active offices whose last hello is over a day old (or never) */
	int64_t backup_ms;         /* 0: no backup recorded */
	int64_t digest_sent_ms;    /* the latest digest the relay accepted, 0 none */
	int64_t digest_unsent;     /* recorded digests not yet accepted */
	int64_t digest_failures;   /* failed tries, over every recorded digest */
};

#define API_SILENT_MS (24 * 3600 * 1000LL) /* "silent for over a day" */

static int gauge_agent(void *ctx, const struct store_agent *ag)
{
	struct db_gauges *G = ctx;
	int64_t last = ag->last_hello_ms ? ag->last_hello_ms : ag->first_seen_ms;
	if (!ag->retired_to[0] && G->now - last > API_SILENT_MS)
		G->silent++;
	return 0;
}

static int gauge_digest(void *ctx, const struct store_digest_mail *m)
{
	struct db_gauges *G = ctx;
	if (m->sent_ms > G->digest_sent_ms)
		G->digest_sent_ms = m->sent_ms;
	if (!m->sent_ms)
		G->digest_unsent++;
	G->digest_failures += m->attempts - (m->sent_ms ? 1 : 0);
	return 0;
}

static int db_gauges_read(struct store *s, struct db_gauges *G)
{
	char v[32];
	if (s->read_begin(s) != 0)
		return -1;
	int rc = s->agents_list(s, gauge_agent, G) == 0 && s->digest_mails_list(s, gauge_digest, G) == 0
		 ? 0 : -1;
	int m = rc == 0 ? s->meta_get(s, "last_backup_ms", v, sizeof v) : -1;
	if (m < 0)
		rc = -1;
	else if (m == 0)
		G->backup_ms = strtoll(v, NULL, 10);
	s->read_end(s);
	return rc;
}

static void handle_metrics(struct ctx *c)
{
	struct buf b = { 0 };
	struct api *a = c->a;
	struct db_gauges G = { .now = c->now };
	if (db_gauges_read(c->rs, &G) != 0) {
		fail(c->resp, 500, "internal", NULL, "cannot read the hub's database");
		return;
	}
	buf_printf(&b, "# HELP lienket_offices_silent Offices (active agents) not heard from for over"
		       " a day.\n# TYPE lienket_offices_silent gauge\nlienket_offices_silent %" PRId64 "\n",
		   G.silent);
	buf_printf(&b, "# HELP lienket_backup_age_seconds Age of the last backup (-1: none yet).\n"
		       "# TYPE lienket_backup_age_seconds gauge\nlienket_backup_age_seconds %" PRId64 "\n",
		   G.backup_ms ? (c->now - G.backup_ms) / 1000 : -1);
	buf_printf(&b, "# HELP lienket_digest_last_sent_timestamp_seconds When the relay last accepted"
		       " a digest (0: never).\n# TYPE lienket_digest_last_sent_timestamp_seconds gauge\n"
		       "lienket_digest_last_sent_timestamp_seconds %" PRId64 "\n"
		       "# HELP lienket_digest_unsent Digests recorded and not yet accepted by the relay.\n"
		       "# TYPE lienket_digest_unsent gauge\nlienket_digest_unsent %" PRId64 "\n"
		       "# HELP lienket_digest_send_failures_total Failed tries to send a digest.\n"
		       "# TYPE lienket_digest_send_failures_total counter\n"
		       "lienket_digest_send_failures_total %" PRId64 "\n",
		   G.digest_sent_ms / 1000, G.digest_unsent, G.digest_failures);
	pthread_mutex_lock(&a->lock);
	buf_printf(&b, "# HELP lienket_requests_total HTTP requests by status.\n"
		       "# TYPE lienket_requests_total counter\n");
	for (int st = 100; st < 600; st++)
		if (a->requests[st])
			buf_printf(&b, "lienket_requests_total{status=\"%d\"} %" PRIu64 "\n", st,
				   a->requests[st]);
	buf_printf(&b, "# HELP lienket_changesets_total Change sets accepted.\n"
		       "# TYPE lienket_changesets_total counter\nlienket_changesets_total %" PRIu64 "\n"
		       "# HELP lienket_changesets_duplicate_total Change sets acknowledged again.\n"
		       "# TYPE lienket_changesets_duplicate_total counter\n"
		       "lienket_changesets_duplicate_total %" PRIu64 "\n"
		       "# HELP lienket_changes_merged_total Changes merged.\n"
		       "# TYPE lienket_changes_merged_total counter\nlienket_changes_merged_total %" PRIu64 "\n"
		       "# HELP lienket_changes_quarantined_total Changes quarantined.\n"
		       "# TYPE lienket_changes_quarantined_total counter\n"
		       "lienket_changes_quarantined_total %" PRIu64 "\n"
		       "# HELP lienket_bytes_in_total Request body bytes received (compressed).\n"
		       "# TYPE lienket_bytes_in_total counter\nlienket_bytes_in_total %" PRIu64 "\n",
		   a->changesets, a->duplicates, a->changes_merged, a->quarantined, a->bytes_in);
	buf_printf(&b, "# HELP lienket_merge_seconds Time from queueing a change set to its commit.\n"
		       "# TYPE lienket_merge_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t i = 0; i < API_NBUCKETS; i++) {
		cum += a->lat_bucket[i];
		buf_printf(&b, "lienket_merge_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			   latency_buckets_ms[i] / 1000.0, cum);
	}
	cum += a->lat_bucket[API_NBUCKETS];
	buf_printf(&b, "lienket_merge_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		       "lienket_merge_seconds_sum %.6f\nlienket_merge_seconds_count %" PRIu64 "\n",
		   cum, a->lat_sum_ms / 1000.0, a->lat_count);
	pthread_mutex_unlock(&a->lock);
	answer(c->req, c->resp, buf_detach(&b), "text/plain; version=0.0.4");
}

static void handle_healthz(struct ctx *c)
{
	struct buf b = { 0 };
	buf_printf(&b, "{\"v\":1,\"ok\":true,\"hub_time\":%" PRId64 "}", c->now);
	answer(c->req, c->resp, buf_detach(&b), API_JSON_TYPE);
}

/* GET /v1/whoami (PROTOCOL.md §12): the asking token's unit with its name, code and kind
 * today and its parent's name, and whether the token is bound to an agent yet — for
 * the office app's first screen. Binds nothing, records nothing. */
struct whoami {
	const char *unit;
	char parent_id[37];
	json_t *ans;
	int pass; /* 0: the unit itself, 1: its parent */
};

static int whoami_unit(void *ctx, const struct store_unit_info *u)
{
	struct whoami *w = ctx;
	if (w->pass == 0 && u->id && strcmp(u->id, w->unit) == 0) {
		json_object_set_new(w->ans, "unit_name", u->name ? json_string(u->name) : json_null());
		json_object_set_new(w->ans, "unit_code", u->code ? json_string(u->code) : json_null());
		json_object_set_new(w->ans, "unit_kind", u->kind ? json_string(u->kind) : json_null());
		snprintf(w->parent_id, sizeof w->parent_id, "%s", u->parent_id ? u->parent_id : "");
	} else if (w->pass == 1 && u->id && strcmp(u->id, w->parent_id) == 0) {
		json_object_set_new(w->ans, "parent_name", u->name ? json_string(u->name) : json_null());
	}
	return 0;
}

static void handle_whoami(struct ctx *c)
{
	char today[11];
	units_today(c->now, today);
	struct whoami w = { .unit = c->token.unit_id };
	w.ans = json_pack("{s:i, s:I, s:s, s:n, s:n, s:n, s:n, s:b}", "v", 1, "hub_time", (json_int_t)c->now, "unit",
			  c->token.unit_id, "unit_name", "unit_code", "unit_kind", "parent_name", "bound",
			  c->token.agent_id[0] != '\0');
	int ok = w.ans && c->rs->read_begin(c->rs) == 0;
	if (ok) {
		ok = c->rs->units_list(c->rs, today, whoami_unit, &w) == 0;
		w.pass = 1;
		if (ok && w.parent_id[0])
			ok = c->rs->units_list(c->rs, today, whoami_unit, &w) == 0;
		c->rs->read_end(c->rs);
	}
	if (!ok)
		fail(c->resp, 500, "internal", NULL, "cannot read the unit");
	else
		answer(c->req, c->resp, json_dumps(w.ans, JSON_COMPACT), API_JSON_TYPE);
	json_decref(w.ans);
}

/* ---- the route table ---- */

struct route {
	const char *method;
	const char *path;
	enum route_auth auth;
	void (*handle)(struct ctx *c);
};

static const struct route routes[] = {
	{ "POST", "/v1/hello",   ROUTE_AGENT,  handle_hello },
	{ "POST", "/v1/changes", ROUTE_AGENT,  handle_changes },
	{ "GET",  "/v1/pull",    ROUTE_AGENT,  handle_pull },
	{ "GET",  "/v1/whoami",  ROUTE_AGENT,  handle_whoami },
	{ "GET",  "/v1/status",  ROUTE_VIEWER, handle_status },
	{ "GET",  "/v1/report",  ROUTE_VIEWER, handle_report },
	{ "GET",  "/",           ROUTE_OPEN,   handle_dashboard },
	{ "POST", "/",           ROUTE_OPEN,   handle_dashboard },
	{ "GET",  "/digest/",    ROUTE_OPEN,   handle_digest },    /* a prefix: /digest/DATE */
	{ "GET",  "/report.xlsx", ROUTE_OPEN,  handle_xlsx },
	{ "GET",  "/metrics",    ROUTE_VIEWER, handle_metrics },
	{ "GET",  "/healthz",    ROUTE_OPEN,   handle_healthz },
};

/* Authenticates for the route. 0, or 1 after filling an error response. */
static int authenticate(struct ctx *c, enum route_auth need)
{
	if (need == ROUTE_OPEN)
		return 0;
	switch (auth_check(c->rs, c->req->authorization, &c->token)) {
	case AUTH_OK:
		break;
	case AUTH_REVOKED:
		fail(c->resp, 401, "revoked", NULL, "token revoked");
		return 1;
	case AUTH_FAILED:
		fail(c->resp, 500, "internal", NULL, "cannot check the token");
		return 1;
	default:
		fail(c->resp, 401, "unauthorized", NULL, "missing, malformed or unknown token");
		return 1;
	}
	if (need == ROUTE_AGENT && c->token.kind != STORE_TOKEN_AGENT) {
		fail(c->resp, 403, "forbidden", NULL, "a viewer token cannot do this");
		return 1;
	}
	if (need == ROUTE_VIEWER && c->token.kind != STORE_TOKEN_VIEWER) {
		fail(c->resp, 403, "forbidden", NULL, "an agent token cannot read province pages");
		return 1;
	}
	snprintf(c->resp->log.unit, sizeof c->resp->log.unit, "%s", c->token.unit_id);
	if (c->token.agent_id[0])
		snprintf(c->resp->log.agent, sizeof c->resp->log.agent, "%s", c->token.agent_id);
	return 0;
}

void api_count_refused(struct api *a, int status, size_t bytes_in)
{
	pthread_mutex_lock(&a->lock);
	if (status >= 100 && status < 600)
		a->requests[status]++;
	a->bytes_in += bytes_in;
	pthread_mutex_unlock(&a->lock);
}

/* The client's address for logs: behind a trusted proxy, the last address of
 * X-Forwarded-For (earlier ones are the client's own claims). */
static void client_address(const struct api *a, const struct api_request *req, char out[64])
{
	const char *src = req->client ? req->client : "";
	size_t len = strlen(src);
	if (a->trust_proxy && req->forwarded_for && *req->forwarded_for) {
		const char *last = strrchr(req->forwarded_for, ',');
		src = last ? last + 1 : req->forwarded_for;
		while (*src == ' ' || *src == '\t')
			src++;
		len = strlen(src);
		while (len && (src[len - 1] == ' ' || src[len - 1] == '\t'))
			len--;
	}
	if (len > 63)
		len = 63;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];
		out[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?'; /* never a control byte in a log */
	}
	out[len] = '\0';
}

/* The route of method and path; NULL after filling resp with 404 or 405. */
static const struct route *route_find(const char *method, const char *path,
				      struct api_response *resp)
{
	const struct route *r = NULL;
	int path_known = 0;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		/* a route path ending in '/' (other than "/") is a prefix */
		size_t rl = strlen(routes[i].path);
		int prefix = rl > 1 && routes[i].path[rl - 1] == '/';
		if (!path || (prefix ? strncmp(routes[i].path, path, rl) != 0
				     : strcmp(routes[i].path, path) != 0))
			continue;
		path_known = 1;
		if (method && strcmp(routes[i].method, method) == 0)
			r = &routes[i];
	}
	if (!r && path_known)
		fail(resp, 405, "method", NULL, "wrong method for '%s'", path);
	else if (!r)
		fail(resp, 404, "not_found", NULL, "no route '%s'", path ? path : "");
	return r;
}

int api_admit(struct api *a, const char *method, const char *path, const char *authorization,
	      struct api_admission *out, struct api_response *resp)
{
	memset(resp, 0, sizeof *resp);
	memset(out, 0, sizeof *out);
	const struct route *r = route_find(method, path, resp);
	if (!r)
		return 1;
	if (r->auth == ROUTE_OPEN) {
		out->max_body = API_OPEN_BODY_BYTES;
		return 0;
	}
	struct api_request req = { .method = method, .path = path, .authorization = authorization };
	struct ctx c = { .a = a, .req = &req, .resp = resp, .now = now_ms() };
	if (!(c.rs = pool_get(a))) {
		fail(resp, 503, "unavailable", NULL, "cannot open the database");
		return 1;
	}
	int refused = authenticate(&c, r->auth);
	pool_put(a, c.rs);
	if (refused)
		return 1;
	out->authenticated = 1;
	snprintf(out->key, sizeof out->key, "%s", c.token.hash);
	out->max_body = WIRE_MAX_BODY_BYTES;
	return 0;
}

void api_handle(struct api *a, const struct api_request *req, struct api_response *resp)
{
	memset(resp, 0, sizeof *resp);
	client_address(a, req, resp->log.client);
	struct ctx c = { .a = a, .req = req, .resp = resp, .now = now_ms() };
	const struct route *r = route_find(req->method, req->path, resp);
	if (!r)
		goto done;
	if (r->auth != ROUTE_OPEN && !(c.rs = pool_get(a))) {
		fail(resp, 503, "unavailable", NULL, "cannot open the database");
		goto done;
	}
	if (authenticate(&c, r->auth) == 0)
		r->handle(&c);
	pool_put(a, c.rs);
done:
	api_count_refused(a, resp->status, req->body_len);
}
