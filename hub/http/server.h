/*
 * server.h — the HTTP(S) server on libmicrohttpd that feeds api.h.
 *
 * Only server.c includes <microhttpd.h>. It enforces the transport limits
 * (connections, body size, request time), logs one line per request to stderr, and
 * stops cleanly on SIGTERM/SIGINT.
 */
#ifndef LK_HUB_SERVER_H
#define LK_HUB_SERVER_H

#include <stddef.h>

#include "api.h"

/* Transport limits; each is also documented in PROTOCOL.md §11 and README. */
#define SERVER_MAX_CONNECTIONS     512  /* beyond: 429 busy / refused */
#define SERVER_CONNECTION_TIMEOUT_S 30  /* a slow client cannot hold a connection longer */
/* Thread pool size. A thread that hands a change set to the writer waits for its group
 * commit, and so do the other connections it serves: with 8, eight offices' change sets
 * can share one commit. Each thread costs memory (its read connection's cache, malloc's
 * arena): bench/README.md figure 6, hub peak 84 MB with 8 threads, 142 MB with 16, for
 * the same throughput. */
#define SERVER_THREADS              8

struct server_options {
	const char *listen;     /* "127.0.0.1:8080" or "[::1]:8080"; port 0 = any free port */
	const char *cert_file;  /* PEM; with key_file enables HTTPS */
	const char *key_file;
	const char *port_file;  /* when set, the bound port is written there once listening */
	unsigned max_connections;  /* 0 = SERVER_MAX_CONNECTIONS */
	unsigned timeout_s;        /* 0 = SERVER_CONNECTION_TIMEOUT_S */
	unsigned threads;          /* 0 = SERVER_THREADS */
};

/* Serves until SIGTERM or SIGINT. Returns 0 after a clean stop, -1 when it cannot
 * start (reason written to err). */
int server_run(const struct server_options *opt, struct api *api, char *err, size_t errlen);

#endif
