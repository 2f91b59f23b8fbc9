/*
 * sync.c — the sync engine (see sync.h): hello → push → pull → checksums.
 *
 * Each hub answer is decoded by protocol/wire.c after a bounded inflate; every
 * outcome of PROTOCOL.md §7.1 maps to one action here (resend, lower clocks, stop,
 * exit code). Acknowledgement only moves forward from a hub answer, except when the
 * hub's database id changed (restored): then the hub's `acked` is the truth and the
 * pull cursor restarts at 0. Pull pages are applied with the journaling triggers off
 * (store_apply_begin) in one transaction with the new cursor and the raised clock.
 * Change sets are cut at batch_bytes, and grow within a sync on a link whose round trip
 * weighs on every exchange (next_cut, PROTOCOL.md §6.2).
 * Owns: per call, the answer buffers it decodes; nothing survives a call.
 */
#include "sync.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "hlc.h"
#include "ids.h"
#include "journal.h"
#include "schema.h"
#include "synclock_posix.h"
#include "wire.h"
#include "zio.h"

/* Compressed request bodies: zlib's default level is a good size/CPU trade on old laptops. */
#define SYNC_DEFLATE_LEVEL 6
/* The most units an agent compares checksums for (a province office has ~1000). */
#define SYNC_MAX_UNITS 4096
/* The largest answer is a pull page (PROTOCOL.md §11): a bigger inflated answer is a
 * hostile or broken hub and stops at this many bytes of memory. */
#define SYNC_MAX_ANSWER_INFLATED WIRE_MAX_PULL_INFLATED_BYTES
/* Columns per table fit in the merge's 64-bit pending mask. */
#define SYNC_MAX_COLUMNS 64
/* Change sets grow on a slow link (PROTOCOL.md §6.2). Each exchange costs a round trip
 * on top of its bytes: 1 s at 2G's 500 ms one way, against 2 s to send a 64 KiB batch
 * (8 KB deflated) at 32 kbit/s, so a third of the time went to waiting. The cut doubles
 * for the next change set while the round trip (the quickest exchange of this sync) is
 * at least SYNC_GROW_MIN_RTT_MS and more than 1/SYNC_GROW_RTT_SHARE of the last change
 * set's exchange; on a LAN or loopback the round trip costs nothing next to the hub's
 * work and batches stay at batch_bytes. */
#define SYNC_GROW_MIN_RTT_MS 100
#define SYNC_GROW_RTT_SHARE 8
/* A link that drops loses the change set on the wire: a grown one is expected to be
 * answered within this long, and one that took twice as long shrinks the cut back. */
#define SYNC_BATCH_MAX_MS 10000

struct sync_ctx {
	struct store *s;
	struct transport *t;
	const struct sync_options *o;
	struct sync_result *res;
	const char *agent;
	/* hello answer */
	struct wire_hello_answer hello;
	int have_hello;
	/* a change set of shape 2 was refused protocol_version: shape 1 for the rest of the
	 * sync, whatever a later hello says (PROTOCOL.md §6.1) */
	int shape1_only;
	/* progress */
	uint64_t total_entries, total_bytes, done_entries, done_bytes;
	int64_t started_ms;
	int progress_shown;
	/* a pulled table or column this build does not know (a newer hub schema) */
	int unknown_seen;
	/* the page being applied kept a local value for an unacknowledged entry */
	int kept_local;
	/* this pull from 0 follows a new hub id: rows it brings are noted (resync_note) */
	int resyncing;
	/* the quickest answered exchange of this sync, ms (-1: none yet): an upper bound
	 * on the link's round trip */
	int64_t rtt_ms;
};

int64_t sync_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(struct sync_ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
static void logf_(struct sync_ctx *c, const char *fmt, ...)
{
	va_list ap;
	if (c->o && c->o->quiet)
		return;
	if (c->progress_shown) {
		fputc('\n', stderr);
		c->progress_shown = 0;
	}
	fputs("lienket-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Sets the result's error code and detail; returns exit_code for tail calls. */
static int fail(struct sync_ctx *c, int exit_code, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
static int fail(struct sync_ctx *c, int exit_code, const char *code, const char *fmt, ...)
{
	va_list ap;
	snprintf(c->res->error, sizeof c->res->error, "%s", code);
	va_start(ap, fmt);
	vsnprintf(c->res->detail, sizeof c->res->detail, fmt, ap);
	va_end(ap);
	logf_(c, "%s", c->res->detail);
	return exit_code;
}

static void progress(struct sync_ctx *c, int pulling)
{
	struct sync_progress p;
	if (!c->o || !c->o->progress)
		return;
	double secs = (double)(mono_ms() - c->started_ms) / 1000.0;
	memset(&p, 0, sizeof p);
	p.pulling = pulling;
	p.done_entries = c->done_entries;
	p.total_entries = c->total_entries;
	p.done_bytes = c->done_bytes;
	p.total_bytes = c->total_bytes;
	p.pulled_rows = c->res->pulled;
	p.bytes_per_s = secs > 0.05 ? (double)c->done_bytes / secs : 0.0;
	c->o->progress(&p, c->o->progress_ctx);
	c->progress_shown = 1;
}

/* A config number; an unreadable one counts as absent (the next write reports the
 * database's trouble). */
static uint64_t config_u64(struct store *s, const char *key, uint64_t dflt)
{
	uint64_t v = dflt;
	(void)store_config_u64(s, key, dflt, &v);
	return v;
}

static void set_offset(struct sync_ctx *c, int64_t hub_time, int64_t arrived_ms)
{
	if (hub_time <= 0)
		return;
	if (store_state_set_i64(c->s, STORE_STATE_OFFSET_MS, hub_time - arrived_ms) != 0)
		logf_(c, "cannot store the clock offset: %s", sqlite3_errmsg(store_db(c->s)));
}

/* ---- one exchange ---- */

enum call_kind { CALL_OK, CALL_HTTP_ERROR, CALL_TRANSPORT };

struct call {
	enum call_kind kind;
	int status;
	char *text;        /* inflated answer (owned), NUL-terminated */
	size_t len;
	int64_t arrived_ms;
	int64_t took_ms;   /* request sent to answer read */
	struct wire_error_answer err; /* CALL_HTTP_ERROR: decoded, or code "http_<status>" */
	enum transport_result tr;
	char detail[256];
};

static void call_release(struct call *k)
{
	free(k->text);
	k->text = NULL;
}

static int call_hub(struct sync_ctx *c, const char *method, const char *path, const char *json,
		    struct call *k)
{
	unsigned char *body = NULL;
	size_t body_len = 0;
	struct transport_response resp = { 0 };
	struct transport_request req = { method, path, NULL, 0, 1 };
	int rc = -1;

	memset(k, 0, sizeof *k);
	if (json) {
		if (zio_deflate(json, strlen(json), SYNC_DEFLATE_LEVEL, &body, &body_len) != ZIO_OK) {
			snprintf(k->detail, sizeof k->detail, "cannot compress request");
			goto out;
		}
		req.body = body;
		req.body_len = body_len;
	}
	int64_t sent_ms = mono_ms();
	k->tr = transport_request(c->t, &req, &resp, k->detail, sizeof k->detail);
	k->arrived_ms = sync_wall_ms();
	k->took_ms = mono_ms() - sent_ms;
	if (k->tr != TRANSPORT_OK) {
		k->kind = CALL_TRANSPORT;
		rc = 0;
		goto out;
	}
	if (c->rtt_ms < 0 || k->took_ms < c->rtt_ms)
		c->rtt_ms = k->took_ms;
	k->status = resp.status;
	if (resp.deflated) {
		unsigned char *in = NULL;
		size_t in_len = 0;
		enum zio_result zr = zio_inflate(resp.body, resp.len, SYNC_MAX_ANSWER_INFLATED, &in,
						 &in_len);
		if (zr != ZIO_OK) {
			k->kind = CALL_HTTP_ERROR;
			snprintf(k->err.code, sizeof k->err.code, "bad_answer");
			snprintf(k->detail, sizeof k->detail, "%s %s: answer %d not inflatable: %s",
				 method, path, resp.status, zio_result_str(zr));
			rc = 0;
			goto out;
		}
		k->text = (char *)in;
		k->len = in_len;
	} else {
		k->text = (char *)resp.body;
		k->len = resp.len;
		resp.body = NULL;
		if (!k->text) {
			k->text = calloc(1, 1);
			if (!k->text)
				goto out;
		}
	}
	if (resp.status == 200) {
		k->kind = CALL_OK;
	} else {
		struct wire_status ws = { 0 };
		/* Decoded into a local, then copied: passing &k->err made clang-analyzer forget
		 * k->text and report it leaked (a false positive). */
		struct wire_error_answer err = { 0 };
		k->kind = CALL_HTTP_ERROR;
		if (wire_error_answer_decode(k->text, k->len, &err, &ws) != 0) {
			memset(&err, 0, sizeof err);
			snprintf(err.code, sizeof err.code, "http_%d", resp.status);
		}
		k->err = err;
		snprintf(k->detail, sizeof k->detail, "%s %s: HTTP %d %s: %s", method, path,
			 resp.status, k->err.code, k->err.message);
		set_offset(c, k->err.hub_time, k->arrived_ms);
	}
	rc = 0;
out:
	free(body);
	transport_response_release(&resp);
	return rc;
}

/* The exit code and error for an exchange that did not succeed (and that the caller
 * did not handle itself). */
static int outcome(struct sync_ctx *c, const struct call *k)
{
	if (k->kind == CALL_TRANSPORT) {
		switch (k->tr) {
		case TRANSPORT_UNREACHABLE:
			return fail(c, EXIT_TEMPFAIL, "unreachable", "hub unreachable: %s", k->detail);
		case TRANSPORT_CANCELLED:
			return fail(c, EXIT_TEMPFAIL, "cancelled", "sync stopped on request");
		case TRANSPORT_TLS:
			return fail(c, EXIT_TEMPFAIL, "tls", "TLS failure: %s", k->detail);
		case TRANSPORT_CA_FILE:
			return fail(c, EXIT_CONFIG, "ca_file", "CA file: %s", k->detail);
		case TRANSPORT_BAD_URL:
		case TRANSPORT_INSECURE:
			return fail(c, EXIT_CONFIG, "bad_url", "hub URL refused: %s", k->detail);
		case TRANSPORT_REDIRECT:
			return fail(c, EXIT_PROTOCOL, "redirect", "%s", k->detail);
		case TRANSPORT_TOO_LARGE:
			return fail(c, EXIT_PROTOCOL, "answer_too_large", "%s", k->detail);
		default:
			return fail(c, EXIT_SOFTWARE, "local_error", "transport: %s %s",
				    transport_result_str(k->tr), k->detail);
		}
	}
	const char *code = k->err.code;
	int st = k->status;
	if (st == 401)
		return fail(c, EXIT_NOPERM, code[0] ? code : "unauthorized", "%s", k->detail);
	if (st == 403 && strcmp(code, "agent_retired") == 0)
		return fail(c, EXIT_PROTOCOL, "agent_retired", "%s", k->detail);
	if (st == 403)
		return fail(c, EXIT_NOPERM, code[0] ? code : "forbidden", "%s", k->detail);
	if (st == 408 || st == 429 || st >= 500)
		return fail(c, EXIT_TEMPFAIL, code[0] ? code : "unavailable", "%s", k->detail);
	return fail(c, EXIT_PROTOCOL, code[0] ? code : "protocol", "%s", k->detail);
}

/* ---- hello ---- */

static int do_hello(struct sync_ctx *c)
{
	struct wire_hello h;
	struct wire_status ws = { 0 };
	struct call k;
	char *json = NULL;
	uint64_t pending = 0, acked = 0;
	int rc = EXIT_SOFTWARE;

	if (journal_pending(c->s, &pending, NULL) != 0 || journal_acked(c->s, &acked) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot read the journal: %s",
			    sqlite3_errmsg(store_db(c->s)));
	memset(&h, 0, sizeof h);
	h.v = WIRE_MESSAGE_V;
	h.schema = SCHEMA_VERSION;
	h.changes_v = WIRE_CHANGES_MAX;
	snprintf(h.agent, sizeof h.agent, "%s", c->agent);
	h.wall_ms = sync_wall_ms();
	h.pending = (int64_t)pending;
	h.acked = acked;
	snprintf(h.software, sizeof h.software, "lienket-agent %s", LK_VERSION);
	json = wire_hello_encode(&h);
	if (!json)
		return fail(c, EXIT_SOFTWARE, "local_error", "out of memory encoding hello");
	if (call_hub(c, "POST", "/v1/hello", json, &k) != 0) {
		rc = fail(c, EXIT_SOFTWARE, "local_error", "hello: %s", k.detail);
		goto out;
	}
	if (k.kind != CALL_OK) {
		rc = outcome(c, &k);
		goto out;
	}
	if (c->have_hello) {
		wire_hello_answer_release(&c->hello);
		c->have_hello = 0;
	}
	memset(&c->hello, 0, sizeof c->hello);
	if (wire_hello_answer_decode(k.text, k.len, &c->hello, &ws) != 0) {
		rc = fail(c, EXIT_PROTOCOL, "bad_answer", "hello answer: %s (%s)", ws.message, ws.field);
		goto out;
	}
	c->have_hello = 1;
	set_offset(c, c->hello.hub_time, k.arrived_ms);
	rc = EXIT_OK;
out:
	call_release(&k);
	free(json);
	return rc;
}

/* ---- rows a restored hub no longer holds (PROTOCOL.md §6.3) ---- */

/* Pulled rows go in whatever the local foreign keys say (references may dangle by
 * design, §7.3 dangling_ref), and a row the hub lost goes out the same way. Returns
 * whether foreign keys were on, for fk_resume. */
static int fk_suspend(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int fk = 0;
	if (sqlite3_prepare_v2(store_db(s), "PRAGMA foreign_keys", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		fk = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (fk)
		sqlite3_exec(store_db(s), "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	return fk;
}

static void fk_resume(struct store *s, int fk)
{
	if (fk)
		sqlite3_exec(store_db(s), "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
}

/* After a new hub id the pull restarts from 0 and brings every row the restored hub
 * holds in scope. Each row it brings is noted (lk_resync_seen, in the page's
 * transaction, so a pull cut half-way resumes the count); when the pull ends,
 * resync_finish removes the rows in scope it did not bring. The table is made here
 * rather than in store.c's schema because only this exchange uses it. 0 or -1. */
static int resync_begin(struct sync_ctx *c, const char *hub_id)
{
	if (sqlite3_exec(store_db(c->s),
			 "CREATE TABLE IF NOT EXISTS lk_resync_seen(tbl TEXT NOT NULL, id TEXT NOT NULL,"
			 " PRIMARY KEY(tbl, id)) WITHOUT ROWID; DELETE FROM lk_resync_seen;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return store_config_set(c->s, "resync_hub_id", hub_id);
}

/* Notes a pulled row during a resync (inside the page's transaction). 0 or -1. */
static int resync_note(struct sync_ctx *c, const struct wire_pull_row *row)
{
	sqlite3_stmt *st = NULL;
	const struct schema_table *t = schema_table_find(row->table, SCHEMA_VERSION);
	if (!t || !row->id || !ids_uuid_valid(row->id))
		return 0;
	if (store_stmt_take(c->s, "INSERT OR IGNORE INTO lk_resync_seen(tbl, id) VALUES(?, ?)", &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	store_stmt_give(c->s, st);
	return rc;
}

/* The pull from 0 after a new hub id has ended: a row owned by a unit in scope (the
 * hello's checksum list) that it did not bring is one the restored hub no longer
 * holds. It goes, unless an unacknowledged entry touches it (it is being sent again:
 * the hub gets it back) or the hub refused a change of it (a rejected record stays for
 * the office to see). Our own acknowledged writes since the backup were sent again
 * before this pull (reconcile), so what goes is what others wrote and the hub lost.
 * Removed with the journaling triggers off, in one transaction. 0 or -1. */
static int resync_finish(struct sync_ctx *c)
{
	sqlite3 *db = store_db(c->s);
	sqlite3_stmt *st = NULL;
	uint64_t acked = 0;
	char sql[1024];
	int rc = -1, fk = 0, began = 0;

	if (journal_acked(c->s, &acked) != 0 ||
	    sqlite3_exec(db, "CREATE TEMP TABLE IF NOT EXISTS lk_resync_scope(unit TEXT PRIMARY KEY);"
			     "DELETE FROM temp.lk_resync_scope;", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.lk_resync_scope(unit) VALUES(?)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < c->hello.nchecksums; i++) {
		sqlite3_bind_text(st, 1, c->hello.checksums[i].unit, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	fk = fk_suspend(c->s);
	if (store_apply_begin(c->s) != 0)
		goto out;
	began = 1;
	for (size_t ti = 0; ti < schema_ntables; ti++) {
		const struct schema_table *t = &schema_tables[ti];
		if (t->since > SCHEMA_VERSION)
			continue;
		/* t->name comes from the schema, never from the wire */
		snprintf(sql, sizeof sql,
			 "DELETE FROM \"%s\" WHERE unit_id IN (SELECT unit FROM temp.lk_resync_scope)"
			 " AND NOT EXISTS (SELECT 1 FROM lk_resync_seen s WHERE s.tbl = ?1 AND s.id = \"%s\".id)"
			 " AND NOT EXISTS (SELECT 1 FROM lk_journal j WHERE j.tbl = ?1 AND j.row_id = \"%s\".id"
			 " AND j.seq > ?2)"
			 " AND NOT EXISTS (SELECT 1 FROM lk_quarantine q WHERE q.tbl = ?1 AND q.row_id = \"%s\".id)",
			 t->name, t->name, t->name, t->name);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)acked);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		c->res->dropped += (uint64_t)sqlite3_changes(db);
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_exec(db, "DELETE FROM lk_resync_seen", NULL, NULL, NULL) != SQLITE_OK ||
	    store_config_set(c->s, "resync_hub_id", NULL) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	if (began && store_apply_end(c->s, rc == 0) != 0)
		rc = -1;
	fk_resume(c->s, fk);
	if (rc == 0 && c->res->dropped)
		logf_(c, "%" PRIu64 " rows the restored hub no longer holds were removed", c->res->dropped);
	return rc;
}

/* After a hello: hub restored? batch answer lost? laptop restored (fork)? */
static int reconcile(struct sync_ctx *c)
{
	struct wire_hello_answer *a = &c->hello;
	char *old_hub = NULL;
	uint64_t acked = 0, last = 0, compacted = config_u64(c->s, "compacted_seq", 0);
	unsigned char hub_chain[ENTRY_HASH_BYTES], ours[ENTRY_HASH_BYTES];
	int rc = EXIT_SOFTWARE;

	if (a->retired) {
		rc = fail(c, EXIT_PROTOCOL, "agent_retired",
			  "the hub says agent %s was retired by a recover", c->agent);
		goto out;
	}
	if (store_config_get(c->s, "hub_id", &old_hub) < 0 || journal_acked(c->s, &acked) != 0 ||
	    journal_last_seq(c->s, &last) != 0) {
		rc = fail(c, EXIT_SOFTWARE, "local_error", "cannot read state: %s",
			  sqlite3_errmsg(store_db(c->s)));
		goto out;
	}
	if (a->hub_id[0] && old_hub && strcmp(old_hub, a->hub_id) != 0) {
		/* The hub was restored from a backup: what it holds now is the truth. */
		logf_(c, "hub database changed (%s -> %s): resending after %" PRIu64
			 ", pulling from the start", old_hub, a->hub_id, a->acked);
		if (a->acked < compacted) {
			/* Not a fork (the hub refused nothing, so `recover` could not rebind the
			 * token): the hub was restored from a backup older than what this laptop
			 * compacted, which only the province can sort out. */
			rc = fail(c, EXIT_PROTOCOL, "hub_behind",
				  "hub restored to sequence %" PRIu64 " below our compaction point %" PRIu64,
				  a->acked, compacted);
			c->res->lost = compacted - a->acked;
			goto out;
		}
		if (a->acked <= last && journal_set_acked(c->s, a->acked) != 0)
			goto db_error;
		if (a->acked <= last)
			acked = a->acked;
		/* The pull from 0 that follows tells which rows the restored hub no longer
		 * holds (PROTOCOL.md §6.3): resync_begin. */
		if (store_config_set(c->s, "pull_cursor", "0") != 0 || resync_begin(c, a->hub_id) != 0)
			goto db_error;
	}
	/* A database made for an official code learns its unit from the hub. */
	if (!store_unit_id(c->s)[0] && a->unit[0] && store_set_unit_id(c->s, a->unit) != 0)
		logf_(c, "cannot set the unit to %s", a->unit);
	if (a->hub_id[0] && store_config_set(c->s, "hub_id", a->hub_id) != 0)
		goto db_error;
	if (store_config_set_u64(c->s, "backup_seq", a->backup_seq) != 0)
		goto db_error;

	if (hex_decode(a->chain, hub_chain, sizeof hub_chain) != 0) {
		rc = fail(c, EXIT_PROTOCOL, "bad_answer", "hello answer: bad chain");
		goto out;
	}
	if (a->acked > last) {
		if (acked == last) {
			/* Restored from a backup, nothing typed since: continue after the hub. */
			logf_(c, "the hub holds sequence %" PRIu64 " but the journal ends at %" PRIu64
				 " with nothing pending: continuing after the hub, pulling from the start",
			      a->acked, last);
			if (journal_fast_forward(c->s, a->acked, hub_chain) != 0)
				goto db_error;
			rc = EXIT_OK;
			goto out;
		}
		/* Restored from a copy whose last entries were not acknowledged: the hub may
		 * hold them (the lost disk sent them) or others under the same numbers (a
		 * fork). Never decided here: the push lets the hub compare, each duplicate
		 * acknowledges what it holds identically, a fork is refused by the hub (which
		 * lets `recover` rebind the token), and a journal found whole at the hub
		 * continues after it (catch_up). */
		logf_(c, "the hub holds sequence %" PRIu64 " but the journal ends at %" PRIu64
			 " (restored from an old copy?): letting the hub compare", a->acked, last);
		rc = EXIT_OK;
		goto out;
	}
	/* The hub's chain at its acked must be ours, or the journals forked; again the
	 * push lets the hub say so. */
	int cr = journal_chain_at(c->s, a->acked, ours);
	if (cr < 0)
		goto db_error;
	if (cr == 0 && memcmp(ours, hub_chain, sizeof ours) != 0) {
		logf_(c, "the hub's chain at sequence %" PRIu64 " differs from this journal", a->acked);
		rc = EXIT_OK;
		goto out;
	}
	if (a->acked > acked) {
		/* A batch whose answer was lost: the hub has it. */
		logf_(c, "hub already holds up to %" PRIu64 " (we had %" PRIu64 ")", a->acked, acked);
		if (journal_set_acked(c->s, a->acked) != 0)
			goto db_error;
	} else if (a->acked < acked) {
		/* Same hub database, yet it says it holds less: an answer older than an
		 * acknowledgement we recorded since (another sync of this database raced this
		 * one before the sync lock). Acknowledgement never moves back on a hello of the
		 * same hub id (§6.1): if the hub really lacks them, the next change set is
		 * answered `gap` and the push resends from there. */
		logf_(c, "hub says it holds %" PRIu64 " but acknowledged %" PRIu64
			 " before: a stale answer, not moving back", a->acked, acked);
	}
	rc = EXIT_OK;
	goto out;
db_error:
	rc = fail(c, EXIT_SOFTWARE, "local_error", "database: %s", sqlite3_errmsg(store_db(c->s)));
out:
	free(old_hub);
	return rc;
}

/* ---- push ---- */

static int record_quarantine(struct sync_ctx *c, const struct wire_changes_answer *a)
{
	int64_t now = sync_wall_ms();
	for (size_t i = 0; i < a->nquarantined; i++) {
		const struct wire_quarantine *q = &a->quarantined[i];
		if (journal_quarantine_add(c->s, q->seq, q->code, q->table, q->id, q->field,
					   q->message, now) != 0)
			return -1;
		logf_(c, "entry %" PRIu64 " quarantined by the hub: %s %s %s: %s", q->seq, q->code,
		      q->table, q->field, q->message);
	}
	c->res->quarantined += a->nquarantined;
	return 0;
}

/* The cut for the next change set, after one of json_len bytes cut at `cut` was
 * answered in took_ms (PROTOCOL.md §6.2). Sending time is taken to grow with the bytes
 * and the round trip to stay: while the round trip weighs on every exchange the cut
 * grows (at most doubling) to what is expected within SYNC_BATCH_MAX_MS; after a change
 * set that took more than twice that it shrinks back to it. Never above `ceiling`,
 * never shrunk below `base`. */
static size_t next_cut(const struct sync_ctx *c, size_t cut, size_t json_len, int64_t took_ms,
		       size_t base, size_t ceiling)
{
	int64_t rtt = c->rtt_ms < 0 ? 0 : c->rtt_ms;
	int64_t send_ms = took_ms - rtt > 0 ? took_ms - rtt : 1;
	/* bytes a change set can hold to be answered within the bound, at this rate */
	double fit = rtt < SYNC_BATCH_MAX_MS
			     ? (double)json_len * (double)(SYNC_BATCH_MAX_MS - rtt) / (double)send_ms
			     : 0.0;
	if (took_ms > 2 * SYNC_BATCH_MAX_MS && cut > base)
		return fit > (double)base ? (size_t)fit : base;
	/* a set cut short (the last one, or a schema change) says little about the link */
	if (json_len < cut / 2 || cut >= ceiling)
		return cut;
	if (rtt < SYNC_GROW_MIN_RTT_MS || rtt * SYNC_GROW_RTT_SHARE <= took_ms || fit <= (double)cut)
		return cut;
	size_t next = fit < 2.0 * (double)cut ? (size_t)fit : 2 * cut;
	return next < ceiling ? next : ceiling;
}

/* The change-set shape to send: what the hello answer agreed (1 from a hub that does not
 * say), never above ours, and 1 after a refusal of shape 2 in this sync. */
static int changes_shape(const struct sync_ctx *c)
{
	if (c->shape1_only || c->hello.changes_v < WIRE_CHANGES_V2)
		return WIRE_CHANGES_V1;
	return c->hello.changes_v < WIRE_CHANGES_MAX ? c->hello.changes_v : WIRE_CHANGES_MAX;
}

static int do_push(struct sync_ctx *c, int *blocked)
{
	struct journal_batch_limits lim;
	int64_t batch_bytes = store_config_int(c->s, "batch_bytes", WIRE_DEFAULT_BATCH_BYTES);
	int clock_tries = 0, resends = 0;
	int rc = EXIT_SOFTWARE;
	/* How far a change set may grow: its JSON within the hub's compressed-body limit,
	 * so the deflated body is too whatever the compression; lowered by a 413. */
	size_t ceiling = WIRE_MAX_BODY_BYTES;

	*blocked = 0;
	if (batch_bytes < (int64_t)JOURNAL_MIN_BATCH_BYTES)
		batch_bytes = JOURNAL_MIN_BATCH_BYTES;
	if (batch_bytes > (int64_t)WIRE_MAX_BODY_BYTES)
		batch_bytes = WIRE_MAX_BODY_BYTES; /* uncompressed, yet keep it under the body cap */
	if (c->hello.max_body_bytes > 0 && (uint64_t)c->hello.max_body_bytes < ceiling)
		ceiling = (size_t)c->hello.max_body_bytes;
	if (ceiling < (size_t)batch_bytes)
		ceiling = (size_t)batch_bytes;
	lim.batch_bytes = (size_t)batch_bytes;
	/* what is "too large to send" stays the office's setting, whatever the link */
	lim.entry_max_bytes = (size_t)batch_bytes;
	lim.max_changes = c->hello.max_changes > 0 && c->hello.max_changes < WIRE_MAX_CHANGES
				  ? (size_t)c->hello.max_changes
				  : WIRE_MAX_CHANGES;
	lim.changes_v = changes_shape(c);
	if (journal_pending(c->s, &c->total_entries, &c->total_bytes) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot count pending entries");
	c->done_entries = c->done_bytes = 0;
	c->started_ms = mono_ms();

	for (;;) {
		struct journal_batch b = { 0 };
		struct call k;
		uint64_t acked = 0, last = 0;
		char err[256] = "";

		if (journal_acked(c->s, &acked) != 0 || journal_last_seq(c->s, &last) != 0)
			return fail(c, EXIT_SOFTWARE, "local_error", "cannot read the journal");
		int br = journal_build_batch(c->s, c->agent, acked + 1, &lim, &b, err, sizeof err);
		if (br == 1)
			break;
		if (br != 0)
			return fail(c, EXIT_SOFTWARE, "local_error", "cannot build a change set: %s", err);
		if (call_hub(c, "POST", "/v1/changes", b.json, &k) != 0) {
			journal_batch_release(&b);
			return fail(c, EXIT_SOFTWARE, "local_error", "changes: %s", k.detail);
		}
		if (k.kind == CALL_OK) {
			struct wire_changes_answer a;
			struct wire_status ws = { 0 };
			memset(&a, 0, sizeof a);
			if (wire_changes_answer_decode(k.text, k.len, &a, &ws) != 0) {
				rc = fail(c, EXIT_PROTOCOL, "bad_answer", "changes answer: %s (%s)",
					  ws.message, ws.field);
				goto batch_fail;
			}
			set_offset(c, a.hub_time, k.arrived_ms);
			/* Never beyond what this exchange sent (§6.2): the hub compared the chain
			 * only up to b.to, and an older hub answers a duplicate with all it holds
			 * of this agent — entries a restored copy may have typed anew. */
			if (a.acked > b.to) {
				logf_(c, "hub answered acked %" PRIu64 " to %" PRIu64 "..%" PRIu64
					 ": taking %" PRIu64, a.acked, b.from, b.to, b.to);
				a.acked = b.to;
			}
			if (a.acked <= acked) {
				wire_changes_answer_release(&a);
				rc = fail(c, EXIT_PROTOCOL, "bad_answer",
					  "changes %" PRIu64 "..%" PRIu64 " answered acked %" PRIu64,
					  b.from, b.to, a.acked);
				goto batch_fail;
			}
			/* The acknowledgement and the quarantine list land together. */
			if (sqlite3_exec(store_db(c->s), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
			    record_quarantine(c, &a) != 0 || journal_set_acked(c->s, a.acked) != 0 ||
			    sqlite3_exec(store_db(c->s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
				sqlite3_exec(store_db(c->s), "ROLLBACK", NULL, NULL, NULL);
				wire_changes_answer_release(&a);
				rc = fail(c, EXIT_SOFTWARE, "local_error", "cannot record acknowledgement: %s",
					  sqlite3_errmsg(store_db(c->s)));
				goto batch_fail;
			}
			lim.batch_bytes = next_cut(c, lim.batch_bytes, b.json_len, k.took_ms,
						   (size_t)batch_bytes, ceiling);
			c->res->pushed += a.acked - acked;
			c->res->skipped += b.nskipped;
			c->done_entries += b.count;
			c->done_bytes += b.entry_bytes;
			progress(c, 0);
			wire_changes_answer_release(&a);
			resends = 0;
			call_release(&k);
			journal_batch_release(&b);
			continue;
		}
		if (k.kind == CALL_HTTP_ERROR) {
			const char *code = k.err.code;
			if (k.status == 409 && strcmp(code, "gap") == 0 && k.err.expected >= 1 &&
			    k.err.expected - 1 <= last && k.err.expected != acked + 1 &&
			    resends++ < SYNC_MAX_RESEND) {
				logf_(c, "hub expects sequence %" PRIu64 ": resending from there",
				      k.err.expected);
				if (k.err.expected - 1 < config_u64(c->s, "compacted_seq", 0) ||
				    journal_set_acked(c->s, k.err.expected - 1) != 0) {
					rc = fail(c, EXIT_PROTOCOL, "gap",
						  "hub expects %" PRIu64 ", which was compacted", k.err.expected);
					goto batch_fail;
				}
				goto batch_next;
			}
			if (k.status == 409 && strcmp(code, "fork") == 0) {
				/* The hub holds identically every entry before `expected` (§7.1):
				 * acknowledged, so that recover journals again only the rest. */
				if (k.err.expected > acked + 1 && k.err.expected - 1 <= b.to &&
				    journal_set_acked(c->s, k.err.expected - 1) != 0) {
					rc = fail(c, EXIT_SOFTWARE, "local_error", "cannot record acknowledgement: %s",
						  sqlite3_errmsg(store_db(c->s)));
					goto batch_fail;
				}
				rc = fail(c, EXIT_PROTOCOL, "fork", "%s", k.detail);
				goto batch_fail;
			}
			if (k.status == 422 && strcmp(code, "clock_ahead") == 0 &&
			    clock_tries++ < SYNC_MAX_CLOCK_RETRIES && k.err.hub_time > 0) {
				int64_t n = journal_lower_clocks(c->s, k.err.hub_time, k.err.seq);
				if (n < 0) {
					rc = fail(c, EXIT_SOFTWARE, "local_error", "cannot lower clocks: %s",
						  sqlite3_errmsg(store_db(c->s)));
					goto batch_fail;
				}
				logf_(c, "laptop clock ahead of the hub: lowered %" PRId64 " clocks, resending", n);
				/* Remembered for status: the office should fix the laptop's clock. */
				if (store_config_set_u64(c->s, "clock_ahead_at_ms", (uint64_t)sync_wall_ms()) != 0)
					logf_(c, "cannot record clock_ahead");
				goto batch_next;
			}
			if (k.status == 422 && strcmp(code, "schema_newer") == 0) {
				char num[16];
				snprintf(num, sizeof num, "%d", k.err.hub_schema);
				if (store_config_set(c->s, "hub_schema", num) != 0)
					logf_(c, "cannot record hub schema");
				logf_(c, "hub runs schema %d, older than our entries (%d): keeping them pending",
				      k.err.hub_schema, b.schema);
				snprintf(c->res->error, sizeof c->res->error, "schema_newer");
				snprintf(c->res->detail, sizeof c->res->detail, "%s", k.detail);
				*blocked = 1;
				rc = EXIT_OK;
				call_release(&k);
				journal_batch_release(&b);
				return rc;
			}
			if (k.status == 429 && strcmp(code, "held_full") == 0) {
				/* The hub holds too many changes waiting for units: this change set
				 * stays pending, the pull goes on, and a later sync sends it again. */
				logf_(c, "hub holds too many changes waiting for units: keeping %" PRIu64
				      "..%" PRIu64 " pending", b.from, b.to);
				snprintf(c->res->error, sizeof c->res->error, "held_full");
				snprintf(c->res->detail, sizeof c->res->detail, "%s", k.detail);
				*blocked = 1;
				rc = EXIT_OK;
				call_release(&k);
				journal_batch_release(&b);
				return rc;
			}
			if (k.status == 413 && lim.batch_bytes > JOURNAL_MIN_BATCH_BYTES &&
			    resends++ < SYNC_MAX_RESEND * 4) {
				lim.batch_bytes /= 2;
				if (lim.batch_bytes < JOURNAL_MIN_BATCH_BYTES)
					lim.batch_bytes = JOURNAL_MIN_BATCH_BYTES;
				ceiling = lim.batch_bytes; /* no growing back into the refusal */
				logf_(c, "change set too large for the hub: cutting at %zu bytes",
				      lim.batch_bytes);
				goto batch_next;
			}
			if (k.status == 400 && strcmp(code, "protocol_version") == 0 &&
			    lim.changes_v != WIRE_CHANGES_V1) {
				/* an older hub than the hello's (replaced since): the same entries in
				 * shape 1, the same chain (PROTOCOL.md §6.2a) */
				logf_(c, "hub refused change-set shape %d: sending shape 1", lim.changes_v);
				c->shape1_only = 1;
				lim.changes_v = WIRE_CHANGES_V1;
				goto batch_next;
			}
			if (k.status == 400 && strcmp(code, "bad_deflate") == 0 &&
			    resends++ < SYNC_MAX_RESEND) {
				logf_(c, "hub could not inflate the change set: resending");
				goto batch_next;
			}
		}
		rc = outcome(c, &k);
	batch_fail:
		call_release(&k);
		journal_batch_release(&b);
		return rc;
	batch_next:
		call_release(&k);
		journal_batch_release(&b);
	}
	return EXIT_OK;
}

/* After the push, with nothing pending: the hub holds more of this agent than the
 * journal has (a laptop restored from a copy whose every entry the lost disk had sent,
 * each re-sent change set answered as a duplicate, so the hub compared them all).
 * Continue after the hub rather than declare a fork the hub never saw: the rows of the
 * entries this copy lacks come back by the pull from 0 journal_fast_forward asks. */
static int catch_up(struct sync_ctx *c)
{
	uint64_t acked = 0, last = 0;
	unsigned char hub_chain[ENTRY_HASH_BYTES];
	if (journal_acked(c->s, &acked) != 0 || journal_last_seq(c->s, &last) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot read the journal");
	if (c->hello.acked <= last || acked != last)
		return EXIT_OK;
	if (hex_decode(c->hello.chain, hub_chain, sizeof hub_chain) != 0)
		return fail(c, EXIT_PROTOCOL, "bad_answer", "hello answer: bad chain");
	logf_(c, "every entry up to %" PRIu64 " was found at the hub, which holds up to %" PRIu64
		 ": continuing after the hub, pulling from the start", last, c->hello.acked);
	if (journal_fast_forward(c->s, c->hello.acked, hub_chain) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "database: %s", sqlite3_errmsg(store_db(c->s)));
	return EXIT_OK;
}

/* ---- pull ---- */

static int exists_local(struct store *s, const struct schema_table *t, const char *id, int *exists)
{
	sqlite3_stmt *st = NULL;
	char sql[128];
	int rc = -1;
	snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" WHERE id = ?", t->name);
	if (store_stmt_take(s, sql, &st) != 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto out;
	*exists = step == SQLITE_ROW;
	rc = 0;
out:
	store_stmt_give(s, st);
	return rc;
}

static void bind_value(sqlite3_stmt *st, int i, const struct value *v)
{
	switch (v->kind) {
	case VALUE_INT:
	case VALUE_BOOL:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case VALUE_TEXT:
		sqlite3_bind_text(st, i, v->s, (int)v->len, SQLITE_STATIC);
		break;
	case VALUE_REAL:
		sqlite3_bind_double(st, i, v->r);
		break;
	default:
		sqlite3_bind_null(st, i);
		break;
	}
}

/* 1 when an unacknowledged entry touches column col of t (mask from
 * journal_pending_touch: bit i for column index i). */
static int column_pending(const struct schema_table *t, const struct schema_column *col, uint64_t mask)
{
	size_t ci = schema_column_index(t, col);
	return ci < 64 && (mask & ((uint64_t)1 << ci));
}

/* The columns of a pulled row that we write: known in our schema, not id/unit_id, and
 * (when mask is given) not touched by an unacknowledged entry. Returns count; idx gets
 * the row's field indexes. */
static size_t writable_fields(struct sync_ctx *c, const struct schema_table *t,
			      const struct wire_pull_row *row, uint64_t mask, size_t *idx,
			      const struct schema_column **cols)
{
	size_t n = 0;
	for (size_t i = 0; i < row->nfields && n < SYNC_MAX_COLUMNS; i++) {
		const struct schema_column *col = schema_column_find(t, row->fields[i].name, SCHEMA_VERSION);
		if (!col) {
			c->unknown_seen = 1;
			continue;
		}
		if ((col->flags & (SCHEMA_ID | SCHEMA_OWNER)) || column_pending(t, col, mask))
			continue;
		idx[n] = i;
		cols[n] = col;
		n++;
	}
	return n;
}

static int apply_row(struct sync_ctx *c, uint64_t acked, const struct wire_pull_row *row,
		     uint64_t *last_clock)
{
	const struct schema_table *t = schema_table_find(row->table, SCHEMA_VERSION);
	size_t idx[SYNC_MAX_COLUMNS];
	const struct schema_column *cols[SYNC_MAX_COLUMNS];
	uint64_t mask = 0;
	int pending_ex = 0, local = 0, rc = -1;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;

	uint64_t row_clock = 0; /* the highest stamp of the row: the floor of later entries */
	if (row->ins_writer)
		row_clock = hlc_receive(row_clock, row->ins_clock);
	if (row->del_writer)
		row_clock = hlc_receive(row_clock, row->del_clock);
	for (size_t i = 0; i < row->nfields; i++)
		row_clock = hlc_receive(row_clock, row->fields[i].clock);
	*last_clock = hlc_receive(*last_clock, row_clock);
	if (!t) {
		if (!c->unknown_seen)
			logf_(c, "pulled rows of unknown table '%s' skipped (the hub's schema is newer)",
			      row->table ? row->table : "?");
		c->unknown_seen = 1;
		return 0;
	}
	if (!row->id || !ids_uuid_valid(row->id)) {
		logf_(c, "pulled %s row with a malformed id skipped", t->name);
		return 0;
	}
	int remote = row->ins_writer &&
		     (!row->del_writer ||
		      hlc_order(row->ins_clock, row->ins_writer, row->del_clock, row->del_writer) > 0);
	if (journal_row_seen(c->s, t->name, row->id, row_clock) != 0 ||
	    journal_pending_touch(c->s, acked, t->name, row->id, &mask, &pending_ex) != 0 ||
	    exists_local(c->s, t, row->id, &local) != 0)
		goto out;
	if (pending_ex)
		c->kept_local = 1;
	for (size_t i = 0; i < row->nfields && !c->kept_local && mask; i++) {
		const struct schema_column *col = schema_column_find(t, row->fields[i].name, SCHEMA_VERSION);
		if (col && column_pending(t, col, mask))
			c->kept_local = 1;
	}
	if (pending_ex && !(local && remote)) {
		/* An unacknowledged insert or delete keeps our existence; when both sides have
		 * the row, the fields no pending entry touches are still taken below. */
		rc = 0;
		goto out;
	}
	if (!remote && !local) {
		rc = 0; /* a tombstone of a row we do not have */
		goto out;
	}
	size_t bufsz = 256 + 80 * (row->nfields + 2);
	sql = malloc(bufsz);
	if (!sql)
		goto out;
	if (!remote) {
		snprintf(sql, bufsz, "DELETE FROM \"%s\" WHERE id = ?", t->name);
		if (store_stmt_take(c->s, sql, &st) != 0)
			goto out;
		sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	} else if (local) {
		size_t n = writable_fields(c, t, row, mask, idx, cols);
		if (n == 0) {
			rc = 0;
			goto out;
		}
		size_t len = (size_t)snprintf(sql, bufsz, "UPDATE \"%s\" SET ", t->name);
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(sql + len, bufsz - len, "%s\"%s\" = ?", i ? ", " : "",
						cols[i]->name);
		snprintf(sql + len, bufsz - len, " WHERE id = ?");
		if (store_stmt_take(c->s, sql, &st) != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			bind_value(st, (int)i + 1, &row->fields[idx[i]].v);
		sqlite3_bind_text(st, (int)n + 1, row->id, -1, SQLITE_STATIC);
	} else {
		size_t n = writable_fields(c, t, row, 0, idx, cols);
		size_t len = (size_t)snprintf(sql, bufsz, "INSERT INTO \"%s\"(id, unit_id", t->name);
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(sql + len, bufsz - len, ", \"%s\"", cols[i]->name);
		len += (size_t)snprintf(sql + len, bufsz - len, ") VALUES(?, ?");
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(sql + len, bufsz - len, ", ?");
		snprintf(sql + len, bufsz - len, ")");
		if (store_stmt_take(c->s, sql, &st) != 0)
			goto out;
		sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
		if (row->owner)
			sqlite3_bind_text(st, 2, row->owner, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		for (size_t i = 0; i < n; i++)
			bind_value(st, (int)i + 3, &row->fields[idx[i]].v);
	}
	int step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT) {
		/* The hub's merged row breaks a local constraint (a newer schema's value?):
		 * keep going; the checksum comparison will show the difference. */
		logf_(c, "pulled row %s %s not applied: %s", t->name, row->id,
		      sqlite3_errmsg(store_db(c->s)));
		rc = 0;
		goto out;
	}
	if (step != SQLITE_DONE)
		goto out;
	c->res->pulled++;
	rc = 0;
out:
	if (rc != 0)
		logf_(c, "cannot apply pulled row %s %s: %s", row->table ? row->table : "?",
		      row->id ? row->id : "?", sqlite3_errmsg(store_db(c->s)));
	store_stmt_give(c->s, st);
	free(sql);
	return rc;
}

static int apply_page(struct sync_ctx *c, const struct wire_pull_page *p, uint64_t start_cursor)
{
	int64_t last_i = 0;
	uint64_t acked = 0, last;
	int rc = -1, fk;

	fk = fk_suspend(c->s);
	if (store_apply_begin(c->s) != 0) {
		logf_(c, "cannot start applying: %s", sqlite3_errmsg(store_db(c->s)));
		goto out_fk;
	}
	if (journal_acked(c->s, &acked) != 0 || store_state_i64(c->s, STORE_STATE_LAST_CLOCK, &last_i) != 0)
		goto out;
	last = (uint64_t)last_i;
	c->kept_local = 0;
	for (size_t i = 0; i < p->nrows; i++)
		if (apply_row(c, acked, &p->rows[i], &last) != 0 ||
		    (c->resyncing && resync_note(c, &p->rows[i]) != 0))
			goto out;
	if (last > (uint64_t)INT64_MAX)
		last = (uint64_t)INT64_MAX;
	if (store_state_set_i64(c->s, STORE_STATE_LAST_CLOCK, (int64_t)last) != 0 ||
	    store_config_set_u64(c->s, "pull_cursor", p->cursor) != 0)
		goto out;
	/* A value kept for a pending entry may lose at the hub, and a losing write leaves the
	 * hub's row unchanged, so the hub need not send it again: remember where this page
	 * started and pull from there once nothing is pending (do_pull). */
	if (c->kept_local && config_u64(c->s, "pull_replay_from", UINT64_MAX) > start_cursor &&
	    store_config_set_u64(c->s, "pull_replay_from", start_cursor) != 0)
		goto out;
	/* What a newer hub schema sent is pulled again once this agent is upgraded. */
	if (c->unknown_seen && store_config_set_u64(c->s, "pull_partial_schema", SCHEMA_VERSION) != 0)
		goto out;
	rc = 0;
out:
	if (store_apply_end(c->s, rc == 0) != 0 && rc == 0) {
		logf_(c, "cannot commit pulled rows: %s", sqlite3_errmsg(store_db(c->s)));
		rc = -1;
	}
out_fk:
	fk_resume(c->s, fk);
	return rc;
}

static int do_pull(struct sync_ctx *c)
{
	uint64_t partial = config_u64(c->s, "pull_partial_schema", 0);
	if (partial && partial < SCHEMA_VERSION) {
		/* rows of tables or columns we did not know were skipped: pull them now */
		logf_(c, "schema upgraded from %" PRIu64 ": pulling everything again", partial);
		if (store_config_set(c->s, "pull_cursor", "0") != 0 ||
		    store_config_set(c->s, "pull_partial_schema", NULL) != 0)
			return fail(c, EXIT_SOFTWARE, "local_error", "cannot reset the pull cursor");
	}
	uint64_t replay = config_u64(c->s, "pull_replay_from", UINT64_MAX), pending = 0;
	if (replay != UINT64_MAX) {
		if (journal_pending(c->s, &pending, NULL) != 0)
			return fail(c, EXIT_SOFTWARE, "local_error", "cannot count pending entries");
		if (pending == 0) {
			/* every entry is acknowledged now: fetch the hub's verdicts */
			logf_(c, "pulling again from %" PRIu64 " for values kept while edits were pending",
			      replay);
			if (sqlite3_exec(store_db(c->s), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
			    store_config_set_u64(c->s, "pull_cursor", replay) != 0 ||
			    store_config_set(c->s, "pull_replay_from", NULL) != 0 ||
			    sqlite3_exec(store_db(c->s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
				sqlite3_exec(store_db(c->s), "ROLLBACK", NULL, NULL, NULL);
				return fail(c, EXIT_SOFTWARE, "local_error", "cannot rewind the pull cursor");
			}
		}
	}
	uint64_t cursor = config_u64(c->s, "pull_cursor", 0);
	char *resync = NULL;
	if (store_config_get(c->s, "resync_hub_id", &resync) < 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot read the configuration");
	/* the pull from 0 after a new hub id, perhaps resumed after a cut */
	c->resyncing = resync && strcmp(resync, c->hello.hub_id) == 0;
	free(resync);
	int64_t limit = c->hello.pull_page_rows > 0 ? c->hello.pull_page_rows : SYNC_PULL_ROWS;
	if (limit > SYNC_PULL_ROWS)
		limit = SYNC_PULL_ROWS;
	for (;;) {
		char path[96];
		struct call k;
		struct wire_pull_page *p = NULL;
		struct wire_status ws = { 0 };
		int rc;

		snprintf(path, sizeof path, "/v1/pull?cursor=%" PRIu64 "&limit=%" PRId64, cursor, limit);
		if (call_hub(c, "GET", path, NULL, &k) != 0)
			return fail(c, EXIT_SOFTWARE, "local_error", "pull: %s", k.detail);
		if (k.kind != CALL_OK) {
			rc = outcome(c, &k);
			call_release(&k);
			return rc;
		}
		if (wire_pull_page_decode(k.text, k.len, &p, &ws) != 0) {
			rc = fail(c, EXIT_PROTOCOL, "bad_answer", "pull page: %s (%s)", ws.message, ws.field);
			call_release(&k);
			return rc;
		}
		set_offset(c, p->hub_time, k.arrived_ms);
		call_release(&k);
		if (apply_page(c, p, cursor) != 0) {
			wire_pull_page_free(p);
			return fail(c, EXIT_SOFTWARE, "local_error", "cannot apply a pull page");
		}
		int more = p->more;
		uint64_t next = p->cursor;
		wire_pull_page_free(p);
		progress(c, 1);
		if (!more) {
			if (c->resyncing && resync_finish(c) != 0)
				return fail(c, EXIT_SOFTWARE, "local_error",
					    "cannot remove the rows the restored hub no longer holds: %s",
					    sqlite3_errmsg(store_db(c->s)));
			break;
		}
		if (next == cursor)
			return fail(c, EXIT_PROTOCOL, "bad_answer",
				    "pull page says more but the cursor did not move (%" PRIu64 ")", cursor);
		cursor = next;
	}
	return EXIT_OK;
}

/* ---- checksums ---- */

struct unit_sum {
	const char *unit; /* borrowed from the hello answer or the caller */
	struct checksum sum;
};

static int checksum_tables(struct store *s, struct unit_sum *units, size_t nunits)
{
	struct field fields[SYNC_MAX_COLUMNS];
	int rc = -1;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;

	for (size_t ti = 0; ti < schema_ntables; ti++) {
		const struct schema_table *t = &schema_tables[ti];
		if (t->since > SCHEMA_VERSION || t->ncolumns > SYNC_MAX_COLUMNS)
			continue;
		size_t bufsz = 64 + 72 * t->ncolumns, len = 0;
		free(sql);
		sql = malloc(bufsz);
		if (!sql)
			goto out;
		len = (size_t)snprintf(sql, bufsz, "SELECT ");
		for (size_t i = 0; i < t->ncolumns; i++)
			len += (size_t)snprintf(sql + len, bufsz - len, "%s\"%s\"", i ? ", " : "",
						t->columns[i].name);
		snprintf(sql + len, bufsz - len, " FROM \"%s\"", t->name);
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
			goto out;
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			const char *unit = (const char *)sqlite3_column_text(st, 1);
			struct unit_sum *u = NULL;
			if (!id || !unit)
				continue;
			for (size_t i = 0; i < nunits && !u; i++)
				if (strcmp(units[i].unit, unit) == 0)
					u = &units[i];
			if (!u)
				continue;
			size_t nf = 0;
			for (size_t ci = 1; ci < t->ncolumns; ci++) {
				struct field *f = &fields[nf++];
				const struct schema_column *col = &t->columns[ci];
				int ct = sqlite3_column_type(st, (int)ci);
				memset(f, 0, sizeof *f);
				f->name = col->name;
				if (ct == SQLITE_NULL) {
					f->v.kind = VALUE_NULL;
				} else if (col->type == SCHEMA_INT || col->type == SCHEMA_BOOL) {
					f->v.kind = VALUE_INT;
					f->v.i = sqlite3_column_int64(st, (int)ci);
				} else {
					f->v.kind = VALUE_TEXT;
					f->v.s = (const char *)sqlite3_column_text(st, (int)ci);
					f->v.len = (size_t)sqlite3_column_bytes(st, (int)ci);
					if (!f->v.s)
						goto out;
				}
			}
			uint64_t d;
			if (entry_row_digest(t->name, id, fields, nf, &d) != 0)
				goto out;
			checksum_add(&u->sum, d);
		}
		if (step != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	free(sql);
	return rc;
}

/* Units named in the record of a disagreement: more are counted, not listed. */
#define SYNC_UNITS_LISTED 8
/* "id,id,…,+N": SYNC_UNITS_LISTED ids and the count of the others. */
#define SYNC_UNITS_TEXT (SYNC_UNITS_LISTED * IDS_UUID_TEXT + 24)

/* Compares with the hello answer's checksums; stores the verdict for status
 * (lk_config checksum_ok, checksum_detail, checksum_units: the units that differ,
 * SYNC_UNITS_TEXT at most). units_out (may be NULL) gets that list. */
static int compare_checksums(struct sync_ctx *c, char units_out[SYNC_UNITS_TEXT])
{
	const struct wire_hello_answer *a = &c->hello;
	struct unit_sum *units = NULL;
	size_t n = a->nchecksums < SYNC_MAX_UNITS ? a->nchecksums : SYNC_MAX_UNITS;
	char detail[256] = "", list[SYNC_UNITS_TEXT] = "";
	size_t ndiff = 0, len = 0;
	int agree = 1, rc = -1;

	if (units_out)
		units_out[0] = 0;
	if (n == 0) {
		c->res->checksums = -1;
		rc = store_config_set(c->s, "checksum_ok", NULL);
		goto out;
	}
	units = calloc(n, sizeof *units);
	if (!units)
		goto out;
	for (size_t i = 0; i < n; i++)
		units[i].unit = a->checksums[i].unit;
	if (checksum_tables(c->s, units, n) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char mine[CHECKSUM_TEXT_MAX];
		checksum_format(&units[i].sum, mine);
		if (strcmp(mine, a->checksums[i].value) == 0)
			continue;
		if (agree)
			snprintf(detail, sizeof detail, "%s local %s hub %s", units[i].unit, mine,
				 a->checksums[i].value);
		agree = 0;
		if (ndiff++ < SYNC_UNITS_LISTED)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "",
						units[i].unit);
	}
	if (ndiff > SYNC_UNITS_LISTED)
		snprintf(list + len, sizeof list - len, ",+%zu", ndiff - SYNC_UNITS_LISTED);
	c->res->checksums = agree;
	if (!agree)
		logf_(c, "checksums differ (%zu units): %s", ndiff, detail);
	if (store_config_set(c->s, "checksum_ok", agree ? "1" : "0") != 0 ||
	    store_config_set(c->s, "checksum_detail", agree ? NULL : detail) != 0 ||
	    store_config_set(c->s, "checksum_units", agree ? NULL : list) != 0)
		goto out;
	if (units_out)
		memcpy(units_out, list, sizeof list);
	rc = 0;
out:
	free(units);
	return rc;
}

/* A fresh hello's checksums compared with the local rows (after a pull). */
static int hello_and_compare(struct sync_ctx *c, char units[SYNC_UNITS_TEXT])
{
	int rc = do_hello(c);
	if (rc != EXIT_OK)
		return rc;
	if (compare_checksums(c, units) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot compute checksums: %s",
			    sqlite3_errmsg(store_db(c->s)));
	return EXIT_OK;
}

/* A disagreement over the same units that a full pull did not repair is pulled again at
 * most this often: a 2G office pulls its whole scope once a day at worst, and a new
 * disagreement in those units is still repaired. */
#define SYNC_REPAIR_AGAIN_MS (24LL * 3600 * 1000)

/* Checksums differ with nothing pending (PROTOCOL.md §8, repair): the hub's merged rows
 * win. First a pull from where it stands (another office may have written meanwhile);
 * if they still differ, a pull from cursor 0, which leaves nothing out — once per
 * disagreement: lk_config checksum_repair_units keeps the units that still differed
 * after a repair, and a disagreement over the same units is not pulled again until the
 * checksums have agreed once or SYNC_REPAIR_AGAIN_MS has passed. What was repaired,
 * when and how many rows are kept for status (checksum_repaired_ms, _rows, _units). */
static int repair_checksums(struct sync_ctx *c, const char *units)
{
	char *done = NULL, now_units[SYNC_UNITS_TEXT], before[SYNC_UNITS_TEXT];
	uint64_t pending = 0;
	int rc;

	if (journal_pending(c->s, &pending, NULL) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot count pending entries");
	if (pending)
		return EXIT_OK; /* kept local values differ until the hub's verdicts come back */
	if (store_config_get(c->s, "checksum_repair_units", &done) < 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot read the repair record");
	uint64_t last_repair = config_u64(c->s, "checksum_repaired_ms", 0);
	int again = done && strcmp(done, units) == 0 &&
		    (uint64_t)sync_wall_ms() < last_repair + SYNC_REPAIR_AGAIN_MS;
	free(done);
	if (again) {
		c->res->repaired = -1; /* repaired once already: status says which units differ */
		return EXIT_OK;
	}
	snprintf(before, sizeof before, "%s", units);
	uint64_t pulled0 = c->res->pulled;
	if ((rc = do_pull(c)) != EXIT_OK || (rc = hello_and_compare(c, now_units)) != EXIT_OK)
		return rc;
	if (c->res->checksums != 0)
		return EXIT_OK; /* another office wrote meanwhile: no repair needed */
	logf_(c, "checksums differ with nothing pending (units %s): pulling every row again from the hub",
	      now_units);
	if (sqlite3_exec(store_db(c->s), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    store_config_set(c->s, "pull_cursor", "0") != 0 ||
	    store_config_set(c->s, "pull_replay_from", NULL) != 0 ||
	    sqlite3_exec(store_db(c->s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(store_db(c->s), "ROLLBACK", NULL, NULL, NULL);
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot rewind the pull cursor");
	}
	if ((rc = do_pull(c)) != EXIT_OK || (rc = hello_and_compare(c, now_units)) != EXIT_OK)
		return rc;
	c->res->repaired = c->res->checksums == 1 ? 1 : -1;
	if (c->res->repaired > 0)
		logf_(c, "repaired: the checksums agree after pulling %" PRIu64 " rows",
		      c->res->pulled - pulled0);
	else
		logf_(c, "checksums still differ after pulling every row again (units %s)", now_units);
	if (store_config_set_u64(c->s, "checksum_repaired_ms", (uint64_t)sync_wall_ms()) != 0 ||
	    store_config_set_u64(c->s, "checksum_repaired_rows", c->res->pulled - pulled0) != 0 ||
	    store_config_set(c->s, "checksum_repaired_units", before) != 0 ||
	    store_config_set(c->s, "checksum_repair_units", c->res->repaired > 0 ? NULL : now_units) != 0)
		return fail(c, EXIT_SOFTWARE, "local_error", "cannot record the repair");
	return EXIT_OK;
}

/* ---- the whole sync ---- */

static void finish(struct sync_ctx *c, int code)
{
	int64_t now = sync_wall_ms();
	if (store_config_set_u64(c->s, "last_attempt_ms", (uint64_t)now) != 0)
		logf_(c, "cannot record the attempt");
	if (code == EXIT_OK || code == EXIT_DATAERR) {
		if (store_config_set_u64(c->s, "last_sync_ms", (uint64_t)now) != 0 ||
		    store_config_set(c->s, "last_error", c->res->error[0] ? c->res->error : NULL) != 0 ||
		    store_config_set(c->s, "last_error_detail", c->res->error[0] ? c->res->detail : NULL) != 0)
			logf_(c, "cannot record the sync");
	} else {
		if (store_config_set(c->s, "last_error", c->res->error[0] ? c->res->error : "local_error") != 0 ||
		    store_config_set(c->s, "last_error_detail", c->res->detail) != 0 ||
		    store_config_set_u64(c->s, "last_error_ms", (uint64_t)now) != 0)
			logf_(c, "cannot record the error");
	}
}

static int run(struct sync_ctx *c)
{
	int rc, blocked = 0;
	uint64_t pushed_before;

	rc = do_hello(c);
	if (rc != EXIT_OK)
		return rc;
	rc = reconcile(c);
	if (rc != EXIT_OK)
		return rc;
	pushed_before = c->res->pushed;
	rc = do_push(c, &blocked);
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(c->res->error, "schema_newer") != 0)
		(void)store_config_set(c->s, "hub_schema", NULL);
	if (!blocked) {
		rc = catch_up(c);
		if (rc != EXIT_OK)
			return rc;
	}
	rc = do_pull(c);
	if (rc != EXIT_OK)
		return rc;
	/* The first hello's checksums predate what we just pushed and pulled. */
	if (c->res->pushed != pushed_before || c->res->pulled) {
		rc = do_hello(c);
		if (rc != EXIT_OK)
			return rc;
		if (store_config_set_u64(c->s, "backup_seq", c->hello.backup_seq) != 0)
			logf_(c, "cannot record backup_seq");
	}
	/* Compact what the hub's latest backup covers. */
	{
		uint64_t acked = 0, backup = c->hello.backup_seq;
		if (journal_acked(c->s, &acked) == 0 &&
		    journal_compact(c->s, backup < acked ? backup : acked) != 0)
			logf_(c, "compaction failed: %s", sqlite3_errmsg(store_db(c->s)));
	}
	char units[SYNC_UNITS_TEXT];
	if (compare_checksums(c, units) != 0) {
		logf_(c, "cannot compute checksums: %s", sqlite3_errmsg(store_db(c->s)));
	} else if (c->res->checksums == 1) {
		/* agreement ends a disagreement: a later one is repaired again */
		if (store_config_set(c->s, "checksum_repair_units", NULL) != 0)
			logf_(c, "cannot clear the repair record");
	} else if (c->res->checksums == 0 && !blocked) {
		rc = repair_checksums(c, units);
		if (rc != EXIT_OK)
			return rc;
	}
	if (blocked) /* error already set: schema_newer (upgrade) or held_full (later) */
		return strcmp(c->res->error, "held_full") == 0 ? EXIT_TEMPFAIL : EXIT_PROTOCOL;
	if (c->res->quarantined)
		return EXIT_DATAERR;
	return EXIT_OK;
}

/* One sync; the caller holds the sync lock. */
static int sync_once(struct store *s, struct transport *t, const struct sync_options *o,
		     struct sync_result *res)
{
	struct sync_ctx c;
	static const struct sync_options dflt = { 0, NULL, NULL, 0 };
	memset(res, 0, sizeof *res);
	res->checksums = -1;
	memset(&c, 0, sizeof c);
	c.s = s;
	c.t = t;
	c.o = o ? o : &dflt;
	c.res = res;
	c.agent = store_agent_id(s);
	c.rtt_ms = -1;
	{
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", SYNC_CACHE_KIB);
		if (sqlite3_exec(store_db(s), pragma, NULL, NULL, NULL) != SQLITE_OK)
			logf_(&c, "cannot shrink the page cache: %s", sqlite3_errmsg(store_db(s)));
	}
	int rc = run(&c);
	if ((rc == EXIT_PROTOCOL && strcmp(res->error, "schema_newer") == 0) ||
	    (rc == EXIT_TEMPFAIL && strcmp(res->error, "held_full") == 0))
		finish(&c, EXIT_OK); /* synced what it could; the error stays for status */
	else
		finish(&c, rc);
	if (c.have_hello)
		wire_hello_answer_release(&c.hello);
	return rc;
}

/* Takes the database's sync lock (synclock_posix.h). EXIT_OK taken (release with
 * synclock_release), EXIT_TEMPFAIL another sync holds it (res: "sync_running"),
 * EXIT_SOFTWARE. Nothing is recorded in the database when it is not taken: the other
 * sync is writing its own outcome. */
static int sync_lock(struct store *s, const struct sync_options *o, struct sync_result *res,
		     struct synclock *lk)
{
	const char *path = sqlite3_db_filename(store_db(s), "main");
	long holder = 0;
	char err[256] = "";
	int64_t wait_ms = o && o->lock_wait_ms ? o->lock_wait_ms : SYNC_LOCK_WAIT_MS;
	memset(res, 0, sizeof *res);
	res->checksums = -1;
	synclock_init(lk);
	if (!path || !*path)
		return EXIT_OK; /* a database in memory: no other process can open it */
	switch (synclock_acquire(path, wait_ms < 0 ? 0 : wait_ms, lk, &holder, err, sizeof err)) {
	case SYNCLOCK_TAKEN:
		return EXIT_OK;
	case SYNCLOCK_BUSY:
		res->lock_holder = holder;
		snprintf(res->error, sizeof res->error, "sync_running");
		snprintf(res->detail, sizeof res->detail,
			 "another sync of this database is running (process %ld)", holder);
		break;
	default:
		snprintf(res->error, sizeof res->error, "local_error");
		snprintf(res->detail, sizeof res->detail, "sync lock: %.200s", err);
		break;
	}
	if (!o || !o->quiet)
		fprintf(stderr, "lienket-agent: %s\n", res->detail);
	return strcmp(res->error, "sync_running") == 0 ? EXIT_TEMPFAIL : EXIT_SOFTWARE;
}

static int renew_id(struct store *s, struct transport *t, const struct sync_options *o,
		    struct sync_result *res);

/* A hub restored below our compaction point (hub_behind, PROTOCOL.md §9): journal again
 * under a new id what the journal still holds; the entries neither side holds are
 * counted (res->lost, config lost_entries). */
static int after_hub_behind(struct store *s, struct transport *t, const struct sync_options *o,
			    struct sync_result *res, int rc)
{
	if (rc != EXIT_PROTOCOL || strcmp(res->error, "hub_behind") != 0)
		return rc;
	uint64_t lost = res->lost;
	if (store_config_set_u64(s, "lost_entries", config_u64(s, "lost_entries", 0) + lost) != 0)
		return rc;
	rc = renew_id(s, t, o, res);
	res->lost = lost;
	return rc;
}

int sync_run(struct store *s, struct transport *t, const struct sync_options *o,
	     struct sync_result *res)
{
	struct synclock lk;
	int rc = sync_lock(s, o, res, &lk);
	if (rc != EXIT_OK)
		return rc;
	rc = sync_once(s, t, o, res);
	rc = after_hub_behind(s, t, o, res, rc);
	synclock_release(&lk);
	return rc;
}

int sync_probe(struct transport *t)
{
	struct transport_request req = { "GET", "/healthz", NULL, 0, 0 };
	struct transport_response resp = { 0 };
	if (transport_request(t, &req, &resp, NULL, 0) != TRANSPORT_OK)
		return -1;
	int ok = resp.status == 200;
	transport_response_release(&resp);
	return ok ? 0 : -1;
}

/* ---- recover ---- */

/* Journals again, under a new agent id, the entries after `cut` (the hub holds the
 * ones up to it; none of them are in the journal when cut is the compaction point).
 * cut UINT64_MAX: after the acknowledged sequence. */
static int rejournal(struct store *s, uint64_t cut, char *err, size_t errlen)
{
	sqlite3 *db = store_db(s);
	uint64_t acked = cut;
	char sql[1024];
	int rc = -1, in_tx = 0;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto db_error;
	in_tx = 1;
	if (cut == UINT64_MAX && journal_acked(s, &acked) != 0)
		goto db_error;
	if (store_new_agent_id(s) != 0)
		goto db_error;
	/* The acknowledged entries leave the journal below: their clocks stay the floors of
	 * their rows (PROTOCOL.md §4), as on compaction, so a re-journaled edit lowered after
	 * clock_ahead never falls below this laptop's own acknowledged insert of its row. */
	if (journal_keep_floors(s, acked) != 0)
		goto db_error;
	/* The entries the hub never acknowledged, renumbered from 1 under the new id,
	 * with their original clocks, floors and recorded times. Acknowledged entries are
	 * at the hub under the old id; they leave the journal (never the synced tables). */
	snprintf(sql, sizeof sql,
		 "DROP TABLE IF EXISTS temp.lk_recover;"
		 "CREATE TEMP TABLE lk_recover AS SELECT tbl, row_id, op, owner, fields,"
		 " recorded_ms, clock, schema_version, row_floor FROM main.lk_journal WHERE seq > %" PRIu64
		 " ORDER BY seq;"
		 "DELETE FROM main.lk_skipped WHERE seq > %" PRIu64 ";"
		 "DELETE FROM main.lk_journal;"
		 "DELETE FROM main.sqlite_sequence WHERE name = 'lk_journal';"
		 "INSERT INTO main.lk_journal(tbl, row_id, op, owner, fields, recorded_ms, clock,"
		 " schema_version, row_floor) SELECT tbl, row_id, op, owner, fields, recorded_ms,"
		 " clock, schema_version, row_floor FROM temp.lk_recover ORDER BY rowid;"
		 "DROP TABLE temp.lk_recover;"
		 "UPDATE main.lk_state SET acked_seq = 0 WHERE one = 1;",
		 acked, acked);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		goto db_error;
	if (store_config_set(s, "compacted_seq", NULL) != 0 || store_config_set(s, "compacted_chain", NULL) != 0 ||
	    store_config_set(s, "pull_cursor", "0") != 0 || store_config_set(s, "backup_seq", NULL) != 0 ||
	    store_config_set(s, "last_error", NULL) != 0 || store_config_set(s, "last_error_detail", NULL) != 0)
		goto db_error;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto db_error;
	in_tx = 0;
	rc = 0;
	goto out;
db_error:
	snprintf(err, errlen, "database: %s", sqlite3_errmsg(db));
out:
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int sync_recover(struct store *s, struct transport *t, const struct sync_options *o,
		 struct sync_result *res)
{
	struct synclock lk;
	int rc = sync_lock(s, o, res, &lk);
	if (rc != EXIT_OK)
		return rc;
	/* The hub decides whether the journals forked (§9): a sync under the current id
	 * first. Its duplicates and the fork answer's `expected` acknowledge what the hub
	 * holds identically, so only the rest is journaled again. */
	rc = sync_once(s, t, o, res);
	if (rc == EXIT_PROTOCOL && strcmp(res->error, "hub_behind") == 0) {
		rc = after_hub_behind(s, t, o, res, rc);
		goto out;
	}
	if (rc != EXIT_PROTOCOL ||
	    (strcmp(res->error, "fork") != 0 && strcmp(res->error, "agent_retired") != 0))
		goto out; /* no fork: nothing to recover (or the hub cannot be asked now) */
	rc = renew_id(s, t, o, res);
out:
	synclock_release(&lk);
	return rc;
}

/* Takes a new agent id for the journal's entries after `cut` (UINT64_MAX: after the
 * acknowledged ones) and syncs under it; the caller holds the sync lock. */
static int renew_id_after(struct store *s, struct transport *t, const struct sync_options *o,
			  struct sync_result *res, uint64_t cut)
{
	char err[256] = "";
	char old[IDS_UUID_TEXT];
	int rc;
	snprintf(old, sizeof old, "%s", store_agent_id(s));
	if (rejournal(s, cut, err, sizeof err) != 0) {
		memset(res, 0, sizeof *res);
		res->checksums = -1;
		snprintf(res->error, sizeof res->error, "local_error");
		snprintf(res->detail, sizeof res->detail, "recover: %.200s", err);
		if (!o || !o->quiet)
			fprintf(stderr, "lienket-agent: %s\n", res->detail);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (!o || !o->quiet)
		fprintf(stderr, "lienket-agent: recover: agent %s replaced by %s\n", old,
			store_agent_id(s));
	rc = sync_once(s, t, o, res);
	res->recovered = 1;
out:
	return rc;
}

static int renew_id(struct store *s, struct transport *t, const struct sync_options *o,
		    struct sync_result *res)
{
	/* after hub_behind every entry the journal holds goes again: the restored hub
	 * lacks them all (it holds less than the compaction point) */
	uint64_t cut = strcmp(res->error, "hub_behind") == 0 ? config_u64(s, "compacted_seq", 0) : UINT64_MAX;
	return renew_id_after(s, t, o, res, cut);
}
