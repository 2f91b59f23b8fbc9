/*
 * app_server.h — the office app's HTTP server (docs/app-api.md §1–§2): libmicrohttpd on
 * 127.0.0.1 only, one thread, the gate (app_gate.h) on every request before any body is
 * read, the page's embedded files (app_assets.h), and /api/… handed to app_api.h.
 *
 * Every answer carries the security headers of the contract (CSP without inline
 * script or style, nosniff, frame denial, no referrer, no-store). Bodies: only writes
 * have one, with a Content-Length (411 otherwise) of at most app_api_body_max (413)
 * and a content type the route takes (415); a refused request's body is never read.
 *
 * Owns: the libmicrohttpd daemon (its listening socket) and its thread, the gate, the
 * api (or the first screen, and then the store it opens). The store and the sync are
 * borrowed: the server's thread is the only one that
 * uses the store between app_server_start and app_server_stop. Only this file includes
 * <microhttpd.h>.
 */
#ifndef LK_AGENT_APP_SERVER_H
#define LK_AGENT_APP_SERVER_H

#include <stddef.h>

#include "app_sync.h"
#include "store.h"

/* Longest start URL: "http://127.0.0.1:65535/?k=" + 43 characters. */
#define APP_SERVER_URL_MAX 96

struct app_server;

/* Binds 127.0.0.1:port (0: a free port) and serves in a thread. 0 and *out, or -1
 * with an English reason in err. */
int app_server_start(struct store *s, struct app_sync *sync, unsigned port, struct app_server **out, char *err,
		     size_t errlen);

/* The same for a laptop not set up yet: the first screen (app_setup.h) for the
 * database to create at db (copied); once it is made, the server opens it, owns that
 * store, serves the app over it and starts a first sync on `sync`. */
int app_server_start_setup(const char *db, struct app_sync *sync, unsigned port, struct app_server **out,
			   char *err, size_t errlen);

/* 1 once the app itself is served (at once with app_server_start; after the first
 * screen set the laptop up with app_server_start_setup), else 0. Any thread. */
int app_server_ready(struct app_server *srv);

/* The port listened on. */
unsigned app_server_port(const struct app_server *srv);

/* The start URL with the single-use secret: "http://127.0.0.1:PORT/?k=SECRET". */
void app_server_url(const struct app_server *srv, char url[APP_SERVER_URL_MAX]);

/* Stops serving (waits for the thread) and frees everything. Accepts NULL. */
void app_server_stop(struct app_server *srv);

#endif
