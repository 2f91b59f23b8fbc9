/*
 * app_sync.h — the office app's syncs (docs/app-api.md §6): one at a time, in a thread
 * of their own with their own store and transport, running the same engine as
 * `lienket-agent sync` (sync.h) under the same sync lock, so the app, a daemon and a
 * `sync` typed in a shell never sync one database at once.
 *
 * The page asks for a sync (app_sync_start) and reads its progress (app_sync_get);
 * the app's main loop asks for automatic ones (app_sync_start with auto_only: only
 * when changes wait). A stop request (app_sync_free, or the process's stop signal
 * through the transport's cancel callback) ends a running sync at its next transfer,
 * and app_sync_free waits for it.
 * Owns: the thread, and while it runs its store and transport; the state is guarded
 * by a mutex, so any thread may call app_sync_get.
 */
#ifndef LK_AGENT_APP_SYNC_H
#define LK_AGENT_APP_SYNC_H

#include <stdint.h>

/* Longest error code and sentence kept from the last sync, terminators included. */
#define APP_SYNC_CODE_MAX 32
#define APP_SYNC_TEXT_MAX 512

enum app_sync_phase {
	APP_SYNC_IDLE,       /* no sync since the start */
	APP_SYNC_CONNECTING, /* started, nothing acknowledged yet */
	APP_SYNC_SENDING,    /* pushing change sets */
	APP_SYNC_RECEIVING,  /* pulling pages */
	APP_SYNC_DONE,       /* the last sync ended well (EXIT_OK or some changes refused) */
	APP_SYNC_FAILED,     /* the last sync ended with an error (error says which) */
};

struct app_sync_state {
	int running;
	enum app_sync_phase phase;
	uint64_t sent, total;   /* entries acknowledged / pending at the start of this sync */
	uint64_t received;      /* rows applied from the hub in this sync */
	int exit_code;          /* of the last finished sync (commands.h), -1 before any */
	char error[APP_SYNC_CODE_MAX];   /* its error code, "" when none */
	char error_vi[APP_SYNC_TEXT_MAX]; /* what the office reads about it, "" when none */
};

struct app_sync;

/* For the database at db_path (copied). cancel, when not NULL, is asked by a running
 * transfer whether to stop (daemon_os_cancel: the process's stop signal). NULL when
 * out of memory. */
struct app_sync *app_sync_new(const char *db_path, int (*cancel)(void *ctx));

/* Starts a sync in the background. auto_only: only when changes wait (checked in the
 * thread). 0 started, 1 one is already running (nothing started), -1 the thread could
 * not be made. */
int app_sync_start(struct app_sync *a, int auto_only);

/* A copy of the current state. */
void app_sync_get(struct app_sync *a, struct app_sync_state *out);

/* Asks a running sync to stop, waits for it, frees everything. Accepts NULL. */
void app_sync_free(struct app_sync *a);

const char *app_sync_phase_str(enum app_sync_phase p);

#endif
