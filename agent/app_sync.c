/*
 * app_sync.c — the office app's background syncs (see app_sync.h).
 *
 * One thread per sync, joined before the next starts or at app_sync_free. The thread
 * opens its own store (SQLite connections are not shared between threads here) and
 * transport, runs sync_run (which takes the sync lock itself), and copies the result
 * into the shared state under the mutex.
 */
#include "app_sync.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "journal.h"
#include "store.h"
#include "sync.h"
#include "transport.h"

struct app_sync {
	pthread_mutex_t mu;
	pthread_t thread;
	int joinable;        /* a thread was made and not joined yet */
	int auto_only;       /* of the running sync */
	atomic_int stop;     /* app_sync_free asks the running sync to stop */
	int (*cancel)(void *ctx);
	char *db_path;
	struct app_sync_state st;
};

const char *app_sync_phase_str(enum app_sync_phase p)
{
	switch (p) {
	case APP_SYNC_IDLE: return "idle";
	case APP_SYNC_CONNECTING: return "connecting";
	case APP_SYNC_SENDING: return "sending";
	case APP_SYNC_RECEIVING: return "receiving";
	case APP_SYNC_DONE: return "done";
	case APP_SYNC_FAILED: return "failed";
	}
	return "idle";
}

struct app_sync *app_sync_new(const char *db_path, int (*cancel)(void *ctx))
{
	struct app_sync *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->db_path = strdup(db_path);
	if (!a->db_path || pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a->db_path);
		free(a);
		return NULL;
	}
	a->cancel = cancel;
	a->st.exit_code = -1;
	return a;
}

static int transfer_cancel(void *ctx)
{
	struct app_sync *a = ctx;
	return atomic_load(&a->stop) || (a->cancel && a->cancel(NULL));
}

static void on_progress(const struct sync_progress *p, void *ctx)
{
	struct app_sync *a = ctx;
	pthread_mutex_lock(&a->mu);
	if (p->pulling) {
		a->st.phase = APP_SYNC_RECEIVING;
		a->st.received = p->pulled_rows;
	} else {
		a->st.phase = APP_SYNC_SENDING;
		a->st.sent = p->done_entries;
		a->st.total = p->total_entries;
	}
	pthread_mutex_unlock(&a->mu);
}

/* Ends the running sync in the state: rc its exit code, code its error code. */
static void finish(struct app_sync *a, int rc, const char *code)
{
	pthread_mutex_lock(&a->mu);
	a->st.running = 0;
	a->st.exit_code = rc;
	snprintf(a->st.error, sizeof a->st.error, "%s", code ? code : "");
	if (rc == EXIT_OK || rc == EXIT_DATAERR) {
		a->st.phase = APP_SYNC_DONE;
		a->st.error[0] = '\0';
		a->st.error_vi[0] = '\0';
	} else {
		a->st.phase = APP_SYNC_FAILED;
		snprintf(a->st.error_vi, sizeof a->st.error_vi, "%s", commands_sync_error_vi(code));
	}
	pthread_mutex_unlock(&a->mu);
}

static void *sync_thread(void *arg)
{
	struct app_sync *a = arg;
	struct store *s = NULL;
	struct transport *t = NULL;
	struct sync_result r;
	char err[256];
	memset(&r, 0, sizeof r);
	if (store_open(a->db_path, &s, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-agent app: cannot open the database for a sync: %s\n", err);
		finish(a, EXIT_NOINPUT, "local_error");
		return NULL;
	}
	if (a->auto_only) {
		uint64_t count = 0, bytes = 0;
		if (journal_pending(s, &count, &bytes) != 0 || count == 0) {
			store_close(s);
			pthread_mutex_lock(&a->mu);
			a->st.running = 0; /* nothing waits: this was no sync; the state stays */
			if (a->st.phase == APP_SYNC_CONNECTING)
				a->st.phase = a->st.exit_code < 0 ? APP_SYNC_IDLE
					    : a->st.error[0] ? APP_SYNC_FAILED : APP_SYNC_DONE;
			pthread_mutex_unlock(&a->mu);
			return NULL;
		}
	}
	int rc = commands_open_transport(s, &t);
	if (rc != 0) {
		store_close(s);
		finish(a, rc, rc == EXIT_CONFIG ? "not_configured" : "local_error");
		return NULL;
	}
	t->cancel = transfer_cancel;
	t->cancel_ctx = a;
	struct sync_options so;
	memset(&so, 0, sizeof so);
	so.progress = on_progress;
	so.progress_ctx = a;
	so.lock_wait_ms = -1; /* another sync at work does this round */
	rc = sync_run(s, t, &so, &r);
	transport_free(t);
	store_close(s);
	finish(a, rc, r.error);
	return NULL;
}

int app_sync_start(struct app_sync *a, int auto_only)
{
	pthread_mutex_lock(&a->mu);
	if (a->st.running) {
		pthread_mutex_unlock(&a->mu);
		return 1;
	}
	if (a->joinable) {
		pthread_join(a->thread, NULL); /* finished: it cleared running */
		a->joinable = 0;
	}
	a->st.running = 1;
	a->st.phase = APP_SYNC_CONNECTING;
	a->st.sent = a->st.total = a->st.received = 0;
	a->auto_only = auto_only;
	if (pthread_create(&a->thread, NULL, sync_thread, a) != 0) {
		a->st.running = 0;
		a->st.phase = APP_SYNC_IDLE;
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	a->joinable = 1;
	pthread_mutex_unlock(&a->mu);
	return 0;
}

void app_sync_get(struct app_sync *a, struct app_sync_state *out)
{
	pthread_mutex_lock(&a->mu);
	*out = a->st;
	pthread_mutex_unlock(&a->mu);
}

void app_sync_free(struct app_sync *a)
{
	if (!a)
		return;
	atomic_store(&a->stop, 1);
	pthread_mutex_lock(&a->mu);
	int joinable = a->joinable;
	a->joinable = 0;
	pthread_mutex_unlock(&a->mu);
	if (joinable)
		pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->mu);
	free(a->db_path);
	free(a);
}
