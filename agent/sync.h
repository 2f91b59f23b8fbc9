/*
 * sync.h — the sync engine (PROTOCOL.md §6–§9): hello, push change sets until nothing
 * is pending, pull pages until the hub has no more, compare unit checksums and repair a
 * disagreement by pulling the hub's rows again; and recover after a fork.
 *
 * Invariant: every step leaves the database consistent on its own — an entry is marked
 * acknowledged only from a hub answer, a pull page is applied in one transaction
 * together with its cursor — so a sync cut anywhere resumes cleanly next time.
 * The engine logs English to stderr (unless quiet); what the office reads is chosen
 * by the caller from the result (and from lk_config last_error, for `status`).
 * Owns nothing beyond one call; the store and the transport are borrowed.
 */
#ifndef LK_AGENT_SYNC_H
#define LK_AGENT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "transport.h"

/* Retries within one sync before giving up until next time. */
#define SYNC_MAX_CLOCK_RETRIES 3   /* clock_ahead: lowering makes the next try pass */
#define SYNC_MAX_RESEND 3          /* bad_deflate / gap: the link or the hub hiccuped */
/* Rows asked per pull page: fewer than the hub's 500 so one decoded page stays small
 * (the whole sync must fit in 16 MB resident on an old laptop). */
#define SYNC_PULL_ROWS 200
/* SQLite page cache during a sync, KiB: the journal is streamed, a big cache buys nothing. */
#define SYNC_CACHE_KIB 1024
/* How long a sync waits for another sync of the same database (the daemon's and a
 * manual `sync`, or `recover`) to end before giving up with EXIT_TEMPFAIL and error
 * "sync_running": long enough for a daemon's short sync, short enough that an office
 * typing `sync` is told what is happening (synclock_posix.h). */
#define SYNC_LOCK_WAIT_MS 10000

/* Progress of a running sync, for a terminal display. */
struct sync_progress {
	int pulling;            /* 0: pushing, 1: pulling */
	uint64_t done_entries, total_entries; /* push: entries acknowledged / pending at start */
	uint64_t done_bytes, total_bytes;     /* push: bytes of their fields JSON */
	uint64_t pulled_rows;   /* pull: rows applied so far */
	double bytes_per_s;     /* push rate so far */
};

struct sync_options {
	int quiet; /* no English log lines on stderr */
	/* Called after every acknowledged change set and applied pull page (may be NULL).
	 * The engine writes a newline on stderr before its next log line. */
	void (*progress)(const struct sync_progress *p, void *ctx);
	void *progress_ctx;
	/* How long to wait for another sync of this database: 0 means SYNC_LOCK_WAIT_MS,
	 * a negative value not at all. */
	int64_t lock_wait_ms;
};

struct sync_result {
	uint64_t pushed;       /* entries acknowledged in this run */
	uint64_t skipped;      /* entries sent skipped in this run */
	uint64_t quarantined;  /* changes quarantined by the hub in this run */
	uint64_t pulled;       /* rows applied from pull pages */
	int checksums;         /* 1 agree, 0 differ, -1 not compared */
	uint64_t dropped;      /* rows the restored hub no longer holds, removed here (§6.3) */
	int recovered;         /* sync_recover: 1 when it took a new agent id */
	uint64_t lost;         /* hub_behind: entries neither this laptop nor the restored hub
				* holds any more (PROTOCOL.md §9); the agent took a new id */
	long lock_holder;      /* error "sync_running": the process syncing (0 unknown) */
	int repaired;          /* checksums differed with nothing pending and every row was
				  pulled again (in this run or, for the same units, before):
				  1 they agree now, -1 they still differ; 0 no repair
				  (PROTOCOL.md §8) */
	char error[32];        /* the error code ("" on success), also lk_config last_error */
	char detail[256];      /* English detail for logs */
};

/* One sync, holding the database's sync lock (SYNC_LOCK_WAIT_MS; when another sync
 * keeps it: EXIT_TEMPFAIL, error "sync_running", nothing recorded). Returns the exit
 * code of commands.h: EXIT_OK, EXIT_DATAERR (some changes
 * quarantined), EXIT_TEMPFAIL (unreachable, busy, 5xx: resume next time), EXIT_NOPERM
 * (credentials refused), EXIT_PROTOCOL (fork, retired agent, schema_newer, an answer we
 * cannot use), EXIT_CONFIG (bad hub URL), EXIT_SOFTWARE (local failure). *res is
 * always filled. lk_config last_sync_ms / last_error are updated. */
int sync_run(struct store *s, struct transport *t, const struct sync_options *o,
	     struct sync_result *res);

/* PROTOCOL.md §9, under the sync lock: first a sync under the current id; when the
 * hub refuses a fork (or says the id is retired), a new agent id, the edits the hub
 * does not hold journaled again (renumbered from 1, original clocks: the entries after
 * the last sequence the hub holds identically), then a full sync under the new id with
 * the pull cursor reset. When the hub refuses no fork nothing changes (res->recovered
 * 0: the journal matches the hub). Nothing in the synced tables is deleted. The local
 * part is one transaction; if the hub is unreachable afterwards the next sync finishes
 * the job. Returns an exit code as sync_run. */
int sync_recover(struct store *s, struct transport *t, const struct sync_options *o,
		 struct sync_result *res);

/* GET /healthz: 0 when the hub answers 200, -1 otherwise. */
int sync_probe(struct transport *t);

/* Milliseconds since 1970 (wall clock). */
int64_t sync_wall_ms(void);

#endif
