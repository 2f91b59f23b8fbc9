/*
 * server.c — the hub's HTTP(S) transport on libmicrohttpd; everything else is api.h.
 *
 * What it does: listens on one address, turns each HTTP request into a struct
 * api_request, calls api_handle from libmicrohttpd's thread pool (epoll), and sends
 * the struct api_response back with `Cache-Control: no-store`. It refuses on its own,
 * with the JSON error of PROTOCOL.md §7.1, what must be refused before a body is read
 * or held in memory: too many connections (429 busy), a body over WIRE_MAX_BODY_BYTES
 * (413 too_large, decided from Content-Length before reading), a body without
 * Content-Length (411 length_required: chunked uploads are refused, so the limit is
 * always known in advance), a request over its time limit (408 timeout), and new
 * requests while stopping (503 unavailable). It logs one line per request to stderr
 * and stops cleanly on SIGTERM/SIGINT.
 *
 * Time limits. libmicrohttpd's own timeout only measures inactivity, so a client that
 * sends one byte per second would never trip it. Each connection therefore carries a
 * clock, started when the connection opens and restarted when a request completes,
 * and the main thread (which otherwise only waits for signals) looks at every
 * connection each SERVER_TICK_MS:
 *   waiting for / reading headers  at most timeout_s          (headers are < 2 KiB)
 *   reading the body               at most SERVER_TRANSFER_FACTOR × timeout_s
 *   in api_handle                  never cut (it may be committing)
 *   sending the answer             at most SERVER_TRANSFER_FACTOR × timeout_s
 * A connection over its limit is shut down (shutdown(2) on its socket: libmicrohttpd
 * sees end-of-stream and closes it in its own thread). libmicrohttpd 0.9.75 can only
 * queue an answer before it reads a body or after the whole body is in, so a request
 * whose headers or body complete late gets a 408 JSON answer, while one cut in the
 * middle of its headers or body is closed without an answer and logged as 408.
 *
 * Bodies. Before any memory is reserved for a body, api_admit decides from the request
 * line and headers whether it may be sent: a route that needs a token checks it first
 * (401/403 answered at once, the body never read), so a client without a token holds
 * nothing of the upload budget; an open route (the login form) takes a small body from
 * a budget of its own; one token holds at most SERVER_MAX_TOKEN_BUFFERED_BYTES.
 *
 * Invariants: a body in memory never exceeds WIRE_MAX_BODY_BYTES, and all bodies
 * together never exceed SERVER_MAX_BUFFERED_BYTES + SERVER_MAX_OPEN_BUFFERED_BYTES
 * (beyond: 429 busy); the reaper
 * only touches a socket while holding `lock`, and libmicrohttpd reports a connection
 * closed (server_on_connection, which unlinks it under `lock`) before it closes the
 * socket, so the reaper never shuts down a descriptor that was reused.
 *
 * Owns: the listening socket, the libmicrohttpd daemon, one struct server_conn per
 * connection (socket context) and one struct server_request per request (the
 * request context), the TLS key and certificate read from disk. The struct api is
 * borrowed. Only this file includes <microhttpd.h>.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "wire.h"

/* ---- limits, each with its reason ---- */

/* Connections beyond max_connections still get a 429 JSON answer, up to this many
 * more; past that libmicrohttpd closes new connections at accept. */
#define SERVER_BUSY_HEADROOM 64
/* Per-connection memory for the request line, headers and I/O buffers. Our clients
 * send < 2 KiB of headers; 512 connections × 32 KiB = 16 MiB. */
#define SERVER_CONNECTION_MEMORY_BYTES (32u << 10)
/* Bodies being received, all connections together: 128 full 1 MiB uploads at once,
 * thousands of ordinary 64 KiB batches. Bounds memory whatever the clients do. Only
 * requests with a valid token reserve from it (api_admit runs before the body). */
#define SERVER_MAX_BUFFERED_BYTES ((size_t)128 << 20)
/* Bodies one token may have in progress at once: a daemon's and a manual sync's change
 * set, each at most WIRE_MAX_BODY_BYTES. One token, stolen or misbehaving, can then
 * hold at most 1/64 of the budget every office shares. */
#define SERVER_MAX_TOKEN_BUFFERED_BYTES ((size_t)2 * WIRE_MAX_BODY_BYTES)
/* Bodies of requests without a token (the dashboard's login form, at most
 * API_OPEN_BODY_BYTES each), all together: 256 forms at once, apart from the budget
 * above, so that clients without a token never take from what offices upload. */
#define SERVER_MAX_OPEN_BUFFERED_BYTES ((size_t)1 << 20)
/* Body and answer transfers may take this many connection timeouts: a full 1 MiB
 * body at 2G EDGE speed (~10 KB/s) takes ~100 s, under 4 × 30 s. */
#define SERVER_TRANSFER_FACTOR 4
/* How often the main thread checks connection deadlines; the precision of the cut. */
#define SERVER_TICK_MS 250
/* On SIGTERM, requests already being handled may finish for this long (a merge in
 * progress gets its answer) before the remaining connections are closed. */
#define SERVER_STOP_GRACE_MS 10000
/* Pending connections the kernel queues before accept. */
#define SERVER_LISTEN_BACKLOG 256
/* A PEM certificate chain or key is a few KiB; refuse to read anything absurd. */
#define SERVER_MAX_PEM_BYTES (1u << 20)
/* TLS 1.2 and later: our agent is libcurl on a current OpenSSL; nothing older needs
 * support, and TLS 1.0/1.1 are deprecated (RFC 8996). */
#define SERVER_TLS_PRIORITIES "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"
/* Longest path (and forwarded address) written to a log line; the rest is cut. */
#define SERVER_LOG_PATH_MAX 160
#define SERVER_LOG_FWD_MAX 64
/* One log line; fits PIPE_BUF, so lines from several threads never interleave. */
#define SERVER_LOG_LINE_MAX 1024

/* Where a connection is in its current request; decides which deadline applies. */
enum server_phase {
	PHASE_IDLE,     /* connected, no request line yet (or between keep-alive requests) */
	PHASE_HEADERS,  /* request line seen, headers not complete */
	PHASE_BODY,     /* headers in, reading the body */
	PHASE_HANDLER,  /* in api_handle: never cut */
	PHASE_SENDING,  /* answer queued */
};

/* One TCP connection (libmicrohttpd's socket context). fd and client are set before
 * it is linked and never change; the other fields are read by the reaper and written
 * by the connection's thread, both under server.lock. */
struct server_conn {
	struct server_conn *prev, *next;
	int fd;
	enum server_phase phase;
	int64_t request_start_ms; /* connection opened, or the previous request completed */
	int64_t phase_start_ms;   /* for PHASE_SENDING */
	int64_t line_ms;          /* request line seen: the start of "ms" in the log */
	int reaped;               /* shut down by the reaper for a deadline */
	char client[64];          /* numeric peer address */
	char path[SERVER_LOG_PATH_MAX + 8]; /* of the request in progress, for a 408 line */
};

/* One HTTP request (libmicrohttpd's request context). */
struct server_request {
	struct server_conn *conn; /* NULL when it could not be allocated */
	int64_t start_ms;         /* the connection's request clock at the first call */
	int64_t line_ms;
	char method[16];
	char path[SERVER_LOG_PATH_MAX + 8];
	char client[64];
	char fwd[SERVER_LOG_FWD_MAX + 8];
	unsigned char *body;
	size_t body_len, body_cap;
	size_t reserved;          /* bytes counted in *budget */
	atomic_size_t *budget;    /* server.buffered_bytes or server.open_bytes */
	struct server_hold *hold; /* the token's entry in server.holds, or NULL */
	int answered;             /* a response is queued */
	int status;               /* of the queued response; 0 when none */
	const char *cut;          /* why server_cut closed the connection, for the log */
	size_t bytes_in, bytes_out;
	struct api_log log;
};

/* What one token has reserved for bodies in progress (SERVER_MAX_TOKEN_BUFFERED_BYTES). */
struct server_hold {
	char key[65];     /* api_admission.key; "" when the entry is free */
	size_t bytes;
	unsigned requests;
};

struct server {
	struct api *api;
	unsigned max_connections;
	int64_t header_limit_ms, transfer_limit_ms;
	pthread_mutex_t lock;       /* guards conns, nconn, in_flight and every conn's fields */
	struct server_conn *conns;
	unsigned nconn;
	unsigned in_flight;         /* requests between first call and completion */
	atomic_int stopping;
	atomic_size_t buffered_bytes; /* bodies of requests with a valid token */
	atomic_size_t open_bytes;     /* bodies of requests to open routes */
	struct server_hold *holds;    /* one per connection at most; under lock */
	size_t nholds;
};

/* ---- small helpers ---- */

static int64_t server_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4)))
static void server_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int server_is_b64url(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Copies text into a log-safe form: printable ASCII except space, others as %XX,
 * cut at max characters, and anything that looks like a token (lk_ + base64url)
 * replaced by "lk_***" — a misconfigured client must not get a token into a log. */
static void server_sanitize(char *out, size_t outlen, const char *in, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, i = 0;
	if (outlen == 0)
		return;
	if (!in)
		in = "";
	while (in[i] && o + 4 < outlen && o < max) {
		unsigned char c = (unsigned char)in[i];
		if (strncmp(in + i, "lk_", 3) == 0 && server_is_b64url((unsigned char)in[i + 3])) {
			if (o + 7 >= outlen)
				break;
			memcpy(out + o, "lk_***", 6);
			o += 6;
			i += 3;
			while (server_is_b64url((unsigned char)in[i]))
				i++;
			continue;
		}
		if (c > 0x20 && c < 0x7f && c != '%') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
		i++;
	}
	if (in[i] && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void server_format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
	socklen_t len;
	if (!sa) {
		snprintf(out, outlen, "-");
		return;
	}
	len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(sa, len, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, outlen, "-");
}

static void server_client_of(struct MHD_Connection *mc, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	server_format_addr(ci ? ci->client_addr : NULL, out, outlen);
}

/* Writes all of buf to stderr in one write(2) when it can: a line shorter than
 * PIPE_BUF is never interleaved with another thread's. */
static void server_write_stderr(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere left to report it */
		buf += n;
		len -= (size_t)n;
	}
}

struct server_logline {
	const char *client, *method, *path, *fwd, *closed;
	int status;
	size_t bytes_in, bytes_out;
	int64_t ms;
	const struct api_log *log; /* may be NULL */
	const char *error;         /* used when log has none */
};

/* One line per request: time client method path status in= out= ms= then the
 * api's fields when present. Never a header value other than the forwarded address,
 * never a query string (libmicrohttpd strips it from the path). */
static void server_log(const struct server_logline *l)
{
	char line[SERVER_LOG_LINE_MAX], stamp[40], s1[80], s2[80];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int w;
	const char *error = l->error;
	/* The api's client when it reported one: with --trust-proxy the address the proxy
	 * saw (api.c client_address, already free of control bytes), else the peer. */
	const char *client = l->log && l->log->client[0] ? l->log->client : l->client;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof stamp, "-");
	w = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s ", stamp, ts.tv_nsec / 1000000,
		     client, l->method, l->path);
	n = w < 0 ? 0 : (size_t)w;
	if (l->status > 0)
		w = snprintf(line + n, sizeof line - n, "%d", l->status);
	else
		w = snprintf(line + n, sizeof line - n, "-");
	n += w < 0 ? 0 : (size_t)w;
#define SERVER_APPEND(...)                                                          \
	do {                                                                        \
		if (n < sizeof line) {                                              \
			int k_ = snprintf(line + n, sizeof line - n, __VA_ARGS__);  \
			n += k_ < 0 ? 0 : (size_t)k_;                               \
		}                                                                   \
	} while (0)
	SERVER_APPEND(" in=%zu out=%zu ms=%lld", l->bytes_in, l->bytes_out, (long long)l->ms);
	if (l->fwd && l->fwd[0])
		SERVER_APPEND(" fwd=%s", l->fwd);
	if (l->log) {
		if (l->log->agent[0]) {
			server_sanitize(s1, sizeof s1, l->log->agent, 40);
			SERVER_APPEND(" agent=%s", s1);
		}
		if (l->log->unit[0]) {
			server_sanitize(s2, sizeof s2, l->log->unit, 40);
			SERVER_APPEND(" unit=%s", s2);
		}
		if (l->log->seq_to > 0)
			SERVER_APPEND(" seq=%llu-%llu shape=%d applied=%lld quarantined=%lld",
				      (unsigned long long)l->log->seq_from,
				      (unsigned long long)l->log->seq_to, l->log->shape,
				      (long long)l->log->applied, (long long)l->log->quarantined);
		else if (l->log->applied || l->log->quarantined)
			SERVER_APPEND(" applied=%lld quarantined=%lld", (long long)l->log->applied,
				      (long long)l->log->quarantined);
		if (l->log->error[0])
			error = l->log->error;
	}
	if (error && error[0]) {
		server_sanitize(s1, sizeof s1, error, 32);
		SERVER_APPEND(" error=%s", s1);
	}
	if (l->closed)
		SERVER_APPEND(" closed=%s", l->closed);
#undef SERVER_APPEND
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	server_write_stderr(line, n);
}

static void server_mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;
	(void)cls;
	static const char prefix[] = "lienket-hub: microhttpd: ";
	memcpy(msg, prefix, sizeof prefix); /* with its NUL */
	vsnprintf(msg + sizeof prefix - 1, sizeof msg - sizeof prefix, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	msg[n++] = '\n';
	server_write_stderr(msg, n);
}

/* ---- connections ---- */

static void server_on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
				 enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	struct server_conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci;
		c = calloc(1, sizeof *c);
		*socket_context = c;
		if (!c)
			return; /* its requests are answered 503: see server_begin */
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci ? ci->connect_fd : -1;
		c->phase = PHASE_IDLE;
		c->request_start_ms = server_now_ms();
		server_client_of(mc, c->client, sizeof c->client);
		pthread_mutex_lock(&s->lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconn++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	/* MHD_CONNECTION_NOTIFY_CLOSED: libmicrohttpd calls this before it closes the
	 * socket, so once unlinked here the reaper cannot reach a reused descriptor. */
	c = *socket_context;
	*socket_context = NULL;
	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconn--;
	pthread_mutex_unlock(&s->lock);
	free(c);
}

static struct server_conn *server_conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* The request line has arrived (headers not yet): for the phase and the log. */
static void *server_on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct server *s = cls;
	struct server_conn *c = server_conn_of(mc);
	char path[SERVER_LOG_PATH_MAX + 8];
	size_t plen;

	if (!c)
		return NULL;
	/* Never keep the query string: it may carry a token. */
	plen = strcspn(uri ? uri : "", "?");
	if (plen > SERVER_LOG_PATH_MAX)
		plen = SERVER_LOG_PATH_MAX;
	{
		char raw[SERVER_LOG_PATH_MAX + 1];
		memcpy(raw, uri ? uri : "", plen);
		raw[plen] = '\0';
		server_sanitize(path, sizeof path, raw, SERVER_LOG_PATH_MAX);
	}
	pthread_mutex_lock(&s->lock);
	c->phase = PHASE_HEADERS;
	c->line_ms = server_now_ms();
	memcpy(c->path, path, sizeof c->path);
	pthread_mutex_unlock(&s->lock);
	return NULL; /* the request context is made at the first call of server_on_request */
}

static void server_set_phase(struct server *s, struct server_conn *c, enum server_phase p)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	c->phase = p;
	c->phase_start_ms = server_now_ms();
	pthread_mutex_unlock(&s->lock);
}

/* Main thread: shuts down every connection over its deadline. */
static void server_reap(struct server *s)
{
	int64_t now = server_now_ms();
	struct server_conn *c;
	struct server_logline l;

	pthread_mutex_lock(&s->lock);
	for (c = s->conns; c; c = c->next) {
		int cut = 0, log = 0;
		if (c->reaped || c->fd < 0)
			continue;
		switch (c->phase) {
		case PHASE_IDLE:
			cut = now - c->request_start_ms > s->header_limit_ms;
			break;
		case PHASE_HEADERS:
			cut = log = now - c->request_start_ms > s->header_limit_ms;
			break;
		case PHASE_BODY:
			cut = now - c->request_start_ms > s->transfer_limit_ms;
			break;
		case PHASE_HANDLER:
			break;
		case PHASE_SENDING:
			cut = now - c->phase_start_ms > s->transfer_limit_ms;
			break;
		}
		if (!cut)
			continue;
		c->reaped = 1;
		/* Wakes the connection's thread with end-of-stream; it closes the socket. */
		(void)shutdown(c->fd, SHUT_RDWR);
		if (log) {
			/* No request context exists yet: this is the request's only line. */
			memset(&l, 0, sizeof l);
			l.client = c->client;
			l.method = "-";
			l.path = c->path[0] ? c->path : "-";
			l.status = 408;
			l.ms = now - c->line_ms;
			l.error = "timeout";
			l.closed = "headers_timeout";
			server_log(&l);
			api_count_refused(s->api, 408, 0);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- requests ---- */

static void server_release_body(struct server *s, struct server_request *rq)
{
	free(rq->body);
	rq->body = NULL;
	rq->body_cap = 0;
	if (rq->reserved) {
		atomic_fetch_sub(rq->budget, rq->reserved);
		if (rq->hold) {
			pthread_mutex_lock(&s->lock);
			rq->hold->bytes -= rq->reserved;
			if (--rq->hold->requests == 0)
				rq->hold->key[0] = '\0';
			pthread_mutex_unlock(&s->lock);
			rq->hold = NULL;
		}
		rq->reserved = 0;
	}
}

/* Counts length bytes against the token `key` (SERVER_MAX_TOKEN_BUFFERED_BYTES) and
 * records the entry in rq. 0, or -1 when the token already holds too much (or, which
 * cannot happen with one entry per connection, no entry is free). */
static int server_hold_token(struct server *s, struct server_request *rq, const char *key,
			     size_t length)
{
	struct server_hold *h = NULL, *free_slot = NULL;
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nholds && !h; i++) {
		if (!s->holds[i].key[0])
			free_slot = free_slot ? free_slot : &s->holds[i];
		else if (strcmp(s->holds[i].key, key) == 0)
			h = &s->holds[i];
	}
	if (!h && free_slot) {
		h = free_slot;
		snprintf(h->key, sizeof h->key, "%s", key);
		h->bytes = 0;
		h->requests = 0;
	}
	if (h && h->bytes + length <= SERVER_MAX_TOKEN_BUFFERED_BYTES) {
		h->bytes += length;
		h->requests++;
		rq->hold = h;
		rc = 0;
	} else if (h && h->requests == 0) {
		h->key[0] = '\0'; /* length alone is over the cap: leave the entry free */
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static const char *server_query(void *ctx, const char *key)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static const char *server_header(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

/* Sends resp (always releasing it). close_after asks the client to open a new
 * connection (refusals: shed the load). Returns what the access handler returns. */
static enum MHD_Result server_send(struct server *s, struct MHD_Connection *mc,
				   struct server_request *rq, struct api_response *resp,
				   int close_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	int ok = 1;

	if (resp->body_len > 0 && resp->body) {
		/* api.h: body is malloc'd and owned by the response; libmicrohttpd frees it
		 * with free() when the answer is sent. */
		r = MHD_create_response_from_buffer(resp->body_len, resp->body,
						    MHD_RESPMEM_MUST_FREE);
		if (r)
			resp->body = NULL;
	} else {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	rq->status = resp->status;
	rq->bytes_out = resp->body_len;
	rq->log = resp->log;
	if (!r)
		goto done;
	if (resp->content_type)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					      resp->content_type) == MHD_YES;
	if (resp->content_encoding)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
					      resp->content_encoding) == MHD_YES;
	if (resp->location[0])
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location) == MHD_YES;
	if (resp->set_cookie[0])
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie) == MHD_YES;
	if (resp->csp)
		ok &= MHD_add_response_header(r, "Content-Security-Policy", resp->csp) == MHD_YES;
	if (resp->referrer_policy)
		ok &= MHD_add_response_header(r, "Referrer-Policy", resp->referrer_policy) == MHD_YES;
	ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
	ok &= MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
	if (close_after || atomic_load(&s->stopping))
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
	if (ok)
		ret = MHD_queue_response(mc, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES) {
		rq->answered = 1;
		server_set_phase(s, rq->conn, PHASE_SENDING);
	}
done:
	api_response_release(resp);
	return ret; /* MHD_NO: libmicrohttpd closes the connection */
}

/* Answers a refusal made before the body (resp: a JSON error of §7.1), counted for
 * /metrics; the connection is closed after it. */
static enum MHD_Result server_refuse_with(struct server *s, struct MHD_Connection *mc,
					  struct server_request *rq, struct api_response *resp)
{
	server_release_body(s, rq);
	api_count_refused(s->api, resp->status, rq->bytes_in);
	return server_send(s, mc, rq, resp, 1);
}

/* A refusal the server decides itself: JSON error of §7.1, counted for /metrics. */
static enum MHD_Result server_refuse(struct server *s, struct MHD_Connection *mc,
				     struct server_request *rq, int status, const char *code,
				     const char *message)
{
	struct api_response resp;
	memset(&resp, 0, sizeof resp);
	api_error_response(&resp, status, code, message);
	if (!resp.log.error[0])
		snprintf(resp.log.error, sizeof resp.log.error, "%s", code);
	return server_refuse_with(s, mc, rq, &resp);
}

/* Records a refusal that cannot be answered (libmicrohttpd 0.9.75 cannot queue an
 * answer in the middle of a body): the connection is closed, the log says why. */
static enum MHD_Result server_cut(struct server *s, struct server_request *rq, int status,
				  const char *code, const char *why)
{
	rq->status = status;
	rq->cut = why;
	snprintf(rq->log.error, sizeof rq->log.error, "%s", code);
	server_release_body(s, rq);
	api_count_refused(s->api, status, rq->bytes_in);
	return MHD_NO;
}

/* Parses a Content-Length value: decimal digits only. Returns 0 and *out, or -1. */
static int server_parse_length(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	if (!v || !*v)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	*out = n;
	return 0;
}

static struct server_request *server_request_new(struct server *s, struct MHD_Connection *mc,
						 const char *url, const char *method)
{
	struct server_request *rq = calloc(1, sizeof *rq);
	const char *xff;
	if (!rq)
		return NULL;
	rq->conn = server_conn_of(mc);
	server_sanitize(rq->method, sizeof rq->method, method, sizeof rq->method - 5);
	server_sanitize(rq->path, sizeof rq->path, url, SERVER_LOG_PATH_MAX);
	if (rq->conn) {
		pthread_mutex_lock(&s->lock);
		rq->start_ms = rq->conn->request_start_ms;
		rq->line_ms = rq->conn->line_ms ? rq->conn->line_ms : rq->start_ms;
		rq->conn->phase = PHASE_BODY;
		s->in_flight++;
		pthread_mutex_unlock(&s->lock);
		memcpy(rq->client, rq->conn->client, sizeof rq->client);
	} else {
		rq->start_ms = rq->line_ms = server_now_ms();
		server_client_of(mc, rq->client, sizeof rq->client);
		pthread_mutex_lock(&s->lock);
		s->in_flight++;
		pthread_mutex_unlock(&s->lock);
	}
	/* Logged, never trusted: the last hop is the address the proxy saw. */
	xff = server_header(mc, "X-Forwarded-For");
	if (xff) {
		const char *last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		while (*last == ' ' || *last == '\t')
			last++;
		server_sanitize(rq->fwd, sizeof rq->fwd, last, SERVER_LOG_FWD_MAX);
	}
	return rq;
}

/* Reserves the memory for a body of `length` bytes the api admitted: from the token's
 * share and the upload budget, or from the small budget of open routes. Answers the
 * refusal itself (413 over the request's limit, 429 busy, 503 no memory). */
static enum MHD_Result server_reserve(struct server *s, struct MHD_Connection *mc,
				      struct server_request *rq, const struct api_admission *adm,
				      size_t length)
{
	char msg[160];
	size_t limit = adm->authenticated ? SERVER_MAX_BUFFERED_BYTES : SERVER_MAX_OPEN_BUFFERED_BYTES;
	if (length > adm->max_body) {
		snprintf(msg, sizeof msg, "body of %zu bytes is over the limit of %zu bytes for "
			 "this route", length, adm->max_body);
		return server_refuse(s, mc, rq, 413, "too_large", msg);
	}
	if (adm->authenticated && server_hold_token(s, rq, adm->key, length) != 0) {
		snprintf(msg, sizeof msg, "this token already has %zu bytes of uploads in progress",
			 (size_t)SERVER_MAX_TOKEN_BUFFERED_BYTES);
		return server_refuse(s, mc, rq, 429, "busy", msg);
	}
	rq->budget = adm->authenticated ? &s->buffered_bytes : &s->open_bytes;
	size_t prev = atomic_fetch_add(rq->budget, length);
	rq->reserved = length;
	if (prev + length > limit)
		return server_refuse(s, mc, rq, 429, "busy", "too many uploads in progress");
	rq->body = malloc(length);
	if (!rq->body)
		return server_refuse(s, mc, rq, 503, "unavailable",
				     "out of memory for the request body");
	rq->body_cap = length;
	return MHD_YES;
}

/* First call, headers complete: everything that can be refused before reading a
 * body is refused here, where libmicrohttpd can still answer. A body is admitted by
 * the api (its token checked) before any memory is reserved for it. */
static enum MHD_Result server_begin(struct server *s, struct MHD_Connection *mc,
				    struct server_request *rq, const char *url, const char *method)
{
	const char *cl = server_header(mc, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = server_header(mc, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	uint64_t length = 0;
	unsigned nconn;
	char msg[160];

	if (!rq->conn)
		return server_refuse(s, mc, rq, 503, "unavailable",
				     "out of memory for a new connection");
	if (atomic_load(&s->stopping))
		return server_refuse(s, mc, rq, 503, "unavailable", "the hub is shutting down");
	pthread_mutex_lock(&s->lock);
	nconn = s->nconn;
	pthread_mutex_unlock(&s->lock);
	if (nconn > s->max_connections) {
		snprintf(msg, sizeof msg, "connection limit %u reached", s->max_connections);
		return server_refuse(s, mc, rq, 429, "busy", msg);
	}
	if (server_now_ms() - rq->start_ms > s->header_limit_ms)
		return server_refuse(s, mc, rq, 408, "timeout",
				     "request headers took longer than the time limit");
	if (te)
		return server_refuse(s, mc, rq, 411, "length_required",
				     "a body must be sent with Content-Length "
				     "(Transfer-Encoding is not accepted)");
	if (cl && server_parse_length(cl, &length) != 0)
		return server_refuse(s, mc, rq, 400, "bad_message",
				     "Content-Length is not a decimal number");
	if (length > WIRE_MAX_BODY_BYTES) {
		snprintf(msg, sizeof msg, "body of %llu bytes is over the limit of %u bytes",
			 (unsigned long long)length, (unsigned)WIRE_MAX_BODY_BYTES);
		return server_refuse(s, mc, rq, 413, "too_large", msg);
	}
	if (!cl && strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return server_refuse(s, mc, rq, 411, "length_required",
				     "a POST needs Content-Length");
	if (length > 0) {
		struct api_admission adm;
		struct api_response resp;
		if (api_admit(s->api, method, url, server_header(mc, MHD_HTTP_HEADER_AUTHORIZATION),
			      &adm, &resp) != 0)
			return server_refuse_with(s, mc, rq, &resp);
		return server_reserve(s, mc, rq, &adm, (size_t)length);
	}
	return MHD_YES;
}

/* Last call, the whole body in: hand it to the api and send its answer. */
static enum MHD_Result server_finish(struct server *s, struct MHD_Connection *mc,
				     struct server_request *rq, const char *url,
				     const char *method)
{
	struct api_request ar;
	struct api_response resp;

	if (server_now_ms() - rq->start_ms > s->transfer_limit_ms)
		return server_refuse(s, mc, rq, 408, "timeout",
				     "the request took longer than the time limit");
	memset(&ar, 0, sizeof ar);
	memset(&resp, 0, sizeof resp);
	ar.method = method;
	ar.path = url;
	ar.query = server_query;
	ar.query_ctx = mc;
	ar.authorization = server_header(mc, MHD_HTTP_HEADER_AUTHORIZATION);
	ar.content_encoding = server_header(mc, MHD_HTTP_HEADER_CONTENT_ENCODING);
	ar.accept_encoding = server_header(mc, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	ar.cookie = server_header(mc, MHD_HTTP_HEADER_COOKIE);
	ar.content_type = server_header(mc, MHD_HTTP_HEADER_CONTENT_TYPE);
	ar.body = rq->body;
	ar.body_len = rq->body_len;
	ar.client = rq->client;
	ar.forwarded_for = server_header(mc, "X-Forwarded-For");
	ar.forwarded_proto = server_header(mc, "X-Forwarded-Proto");
	ar.host = server_header(mc, MHD_HTTP_HEADER_HOST);
	ar.origin = server_header(mc, MHD_HTTP_HEADER_ORIGIN);
	ar.referer = server_header(mc, MHD_HTTP_HEADER_REFERER);
	ar.sec_fetch_site = server_header(mc, "Sec-Fetch-Site");
	server_set_phase(s, rq->conn, PHASE_HANDLER);
	api_handle(s->api, &ar, &resp);
	server_release_body(s, rq);
	return server_send(s, mc, rq, &resp, 0);
}

static enum MHD_Result server_on_request(void *cls, struct MHD_Connection *mc, const char *url,
					 const char *method, const char *version,
					 const char *upload_data, size_t *upload_data_size,
					 void **req_cls)
{
	struct server *s = cls;
	struct server_request *rq = *req_cls;
	(void)version;

	if (!rq) {
		rq = server_request_new(s, mc, url, method);
		if (!rq)
			return MHD_NO; /* nothing to answer with: close */
		*req_cls = rq;
		return server_begin(s, mc, rq, url, method);
	}
	if (rq->answered) {
		/* Refused before the body: libmicrohttpd reads no more, but be safe. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		rq->bytes_in += n;
		/* Never more than Content-Length announced, itself ≤ WIRE_MAX_BODY_BYTES. */
		if (n > rq->body_cap - rq->body_len)
			return server_cut(s, rq, 413, "too_large", "body_too_large");
		memcpy(rq->body + rq->body_len, upload_data, n);
		rq->body_len += n;
		*upload_data_size = 0;
		if (server_now_ms() - rq->start_ms > s->transfer_limit_ms)
			return server_cut(s, rq, 408, "timeout", "body_timeout");
		return MHD_YES;
	}
	return server_finish(s, mc, rq, url, method);
}

static const char *server_termination(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
	case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "idle_timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
	}
	return "unknown";
}

/* Called once per request that reached the request line: logs it, frees it. */
static void server_on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
				enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct server_request *rq = *req_cls;
	struct server_conn *c = rq ? rq->conn : server_conn_of(mc);
	int64_t now = server_now_ms();
	int reaped = 0;
	struct server_logline l;

	*req_cls = NULL;
	if (c) {
		pthread_mutex_lock(&s->lock);
		reaped = c->reaped;
		if (!reaped && !rq && c->phase == PHASE_HEADERS) {
			/* libmicrohttpd refused the headers itself (malformed, too large). */
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(mc, MHD_CONNECTION_INFO_HTTP_STATUS);
			memset(&l, 0, sizeof l);
			l.client = c->client;
			l.method = "-";
			l.path = c->path[0] ? c->path : "-";
			l.status = ci ? (int)ci->http_status : 0;
			l.ms = now - c->line_ms;
			l.closed = server_termination(toe);
			l.error = l.status >= 400 ? "bad_request" : NULL;
			server_log(&l);
		}
		c->phase = PHASE_IDLE;
		c->request_start_ms = now;
		c->line_ms = 0;
		c->path[0] = '\0';
		if (rq)
			s->in_flight--;
		pthread_mutex_unlock(&s->lock);
	} else if (rq) {
		pthread_mutex_lock(&s->lock);
		s->in_flight--;
		pthread_mutex_unlock(&s->lock);
	}
	if (!rq)
		return;
	memset(&l, 0, sizeof l);
	l.client = rq->client;
	l.method = rq->method;
	l.path = rq->path;
	l.fwd = rq->fwd;
	l.status = rq->status;
	l.bytes_in = rq->bytes_in;
	l.bytes_out = rq->bytes_out;
	l.ms = now - rq->line_ms;
	l.log = &rq->log;
	l.closed = rq->cut ? rq->cut : server_termination(toe);
	if (reaped && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		if (!rq->answered) {
			l.status = 408;
			l.error = "timeout";
			api_count_refused(s->api, 408, rq->bytes_in);
		}
		l.closed = rq->answered ? "send_timeout" : "body_timeout";
	}
	server_log(&l);
	server_release_body(s, rq);
	free(rq);
}

/* ---- start-up ---- */

/* "A.B.C.D:PORT" or "[v6]:PORT", numeric only (no name lookups at start-up). */
static int server_parse_listen(const char *listen_addr, struct sockaddr_storage *ss,
			       socklen_t *sslen, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s, *end;
	size_t hlen;
	unsigned long port = 0;
	const char *p;

	if (!listen_addr || !*listen_addr) {
		server_set_err(err, errlen, "no listen address: give --listen ADDR:PORT");
		return -1;
	}
	if (listen_addr[0] == '[') {
		end = strchr(listen_addr, ']');
		if (!end || end[1] != ':') {
			server_set_err(err, errlen, "cannot parse listen address '%s': "
				       "expected [IPv6]:PORT", listen_addr);
			return -1;
		}
		hlen = (size_t)(end - listen_addr - 1);
		if (hlen == 0 || hlen >= sizeof host)
			goto bad_host;
		memcpy(host, listen_addr + 1, hlen);
		port_s = end + 2;
	} else {
		end = strrchr(listen_addr, ':');
		if (!end) {
			server_set_err(err, errlen, "cannot parse listen address '%s': "
				       "expected ADDR:PORT", listen_addr);
			return -1;
		}
		hlen = (size_t)(end - listen_addr);
		if (hlen == 0 || hlen >= sizeof host || memchr(listen_addr, ':', hlen))
			goto bad_host;
		memcpy(host, listen_addr, hlen);
		port_s = end + 1;
	}
	host[hlen] = '\0';
	if (!*port_s)
		goto bad_port;
	for (p = port_s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad_port;
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			goto bad_port;
	}
	memset(ss, 0, sizeof *ss);
	if (listen_addr[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			goto bad_host;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof *a6;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto bad_host;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sslen = sizeof *a4;
	}
	return 0;
bad_host:
	server_set_err(err, errlen, "cannot parse listen address '%s': the host must be a "
		       "numeric IPv4 address or an IPv6 address in brackets", listen_addr);
	return -1;
bad_port:
	server_set_err(err, errlen, "cannot parse listen address '%s': the port must be "
		       "0..65535 (0 picks a free port)", listen_addr);
	return -1;
}

static int server_open_listener(const char *listen_addr, int *out_fd, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int fd, one = 1;

	if (server_parse_listen(listen_addr, &ss, &sslen, err, errlen) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		server_set_err(err, errlen, "cannot create a socket for '%s': %s", listen_addr,
			       strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)) {
		server_set_err(err, errlen, "cannot set socket options for '%s': %s",
			       listen_addr, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
		server_set_err(err, errlen, "cannot listen on '%s': %s", listen_addr,
			       strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, SERVER_LISTEN_BACKLOG) != 0) {
		server_set_err(err, errlen, "cannot listen on '%s': %s", listen_addr,
			       strerror(errno));
		close(fd);
		return -1;
	}
	*out_fd = fd;
	return 0;
}

/* Reads a whole PEM file into a new NUL-terminated string (caller frees). */
static char *server_read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		server_set_err(err, errlen, "cannot open %s '%s': %s", what, path, strerror(errno));
		return NULL;
	}
	buf = malloc(SERVER_MAX_PEM_BYTES + 1);
	if (!buf) {
		server_set_err(err, errlen, "cannot read %s '%s': out of memory", what, path);
		fclose(f);
		return NULL;
	}
	len = fread(buf, 1, SERVER_MAX_PEM_BYTES + 1, f);
	if (ferror(f)) {
		server_set_err(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
		goto fail;
	}
	if (len > SERVER_MAX_PEM_BYTES) {
		server_set_err(err, errlen, "cannot read %s '%s': larger than %u bytes", what, path,
			       (unsigned)SERVER_MAX_PEM_BYTES);
		goto fail;
	}
	buf[len] = '\0';
	if (!strstr(buf, "-----BEGIN ")) {
		server_set_err(err, errlen, "cannot read %s '%s': not a PEM file", what, path);
		goto fail;
	}
	fclose(f);
	return buf;
fail:
	explicit_bzero(buf, SERVER_MAX_PEM_BYTES + 1);
	free(buf);
	fclose(f);
	return NULL;
}

static void server_free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Writes "PORT\n" to path through a temporary file and rename(2), so that a reader
 * polling the file sees either nothing or the whole number. */
static int server_write_port_file(const char *path, unsigned port, char *err, size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof tmp) {
		server_set_err(err, errlen, "cannot write port file '%s': path too long", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		server_set_err(err, errlen, "cannot write port file '%s': %s", tmp, strerror(errno));
		return -1;
	}
	if (fprintf(f, "%u\n", port) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		server_set_err(err, errlen, "cannot write port file '%s': %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0) {
		server_set_err(err, errlen, "cannot write port file '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		server_set_err(err, errlen, "cannot write port file '%s': %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static unsigned server_bound_port(struct MHD_Daemon *d, int listen_fd)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (di && di->port != 0)
		return di->port;
	/* Older libmicrohttpd or a socket it did not bind itself: ask the kernel. */
	if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Waits for SIGTERM/SIGINT (blocked in every thread), reaping between ticks.
 * Returns the signal, or 0 when `deadline_ms` (if > 0) passes first. */
static int server_wait(struct server *s, const sigset_t *set, int64_t deadline_ms)
{
	for (;;) {
		struct timespec ts = { 0, (long)SERVER_TICK_MS * 1000000L };
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return SIGTERM; /* cannot wait: stop rather than spin */
		server_reap(s);
		if (deadline_ms > 0 && server_now_ms() >= deadline_ms)
			return 0;
	}
}

int server_run(const struct server_options *opt, struct api *api, char *err, size_t errlen)
{
	struct server s;
	struct MHD_Daemon *d = NULL;
	struct MHD_OptionItem tls_opts[4];
	char *cert = NULL, *key = NULL;
	int listen_fd = -1, quiesced_fd = -1, tls, rc = -1, sig, locked = 0;
	unsigned threads, timeout_s, port, flags;
	sigset_t set, old;
	struct sigaction ign;

	memset(&s, 0, sizeof s);
	if (!opt || !api) {
		server_set_err(err, errlen, "server_run: no options or no api");
		return -1;
	}
	s.api = api;
	s.max_connections = opt->max_connections ? opt->max_connections : SERVER_MAX_CONNECTIONS;
	threads = opt->threads ? opt->threads : SERVER_THREADS;
	timeout_s = opt->timeout_s ? opt->timeout_s : SERVER_CONNECTION_TIMEOUT_S;
	s.header_limit_ms = (int64_t)timeout_s * 1000;
	s.transfer_limit_ms = (int64_t)timeout_s * 1000 * SERVER_TRANSFER_FACTOR;
	atomic_init(&s.stopping, 0);
	atomic_init(&s.buffered_bytes, 0);
	atomic_init(&s.open_bytes, 0);
	s.nholds = (size_t)s.max_connections + SERVER_BUSY_HEADROOM;
	s.holds = calloc(s.nholds, sizeof *s.holds);
	if (!s.holds) {
		server_set_err(err, errlen, "cannot start the server: out of memory");
		return -1;
	}

	tls = opt->cert_file || opt->key_file;
	if (tls) {
		if (!opt->cert_file || !opt->key_file) {
			server_set_err(err, errlen, "HTTPS needs both --cert and --key");
			goto out;
		}
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			server_set_err(err, errlen, "cannot serve HTTPS: this libmicrohttpd was "
				       "built without TLS support; serve plain HTTP behind a "
				       "TLS reverse proxy (docs/reverse-proxy.md)");
			goto out;
		}
		cert = server_read_pem(opt->cert_file, "certificate", err, errlen);
		if (!cert)
			goto out;
		key = server_read_pem(opt->key_file, "key", err, errlen);
		if (!key)
			goto out;
	}
	if (pthread_mutex_init(&s.lock, NULL) != 0) {
		server_set_err(err, errlen, "cannot start the server: mutex: %s", strerror(errno));
		goto out;
	}
	locked = 1;
	if (server_open_listener(opt->listen, &listen_fd, err, errlen) != 0)
		goto out;

	/* A peer that closes early must not kill the hub (libmicrohttpd's own threads
	 * already suppress SIGPIPE; GnuTLS or the store may write to a socket too). */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, NULL) != 0) {
		server_set_err(err, errlen, "cannot ignore SIGPIPE: %s", strerror(errno));
		goto out;
	}
	/* Blocked before the daemon starts, so every thread it creates inherits the
	 * mask and the signals reach only sigtimedwait in this thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0) {
		server_set_err(err, errlen, "cannot block SIGTERM/SIGINT");
		goto out;
	}

	memset(tls_opts, 0, sizeof tls_opts);
	if (tls) {
		tls_opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, cert };
		tls_opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, key };
		tls_opts[2] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						       (void *)SERVER_TLS_PRIORITIES };
		tls_opts[3] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	} else {
		tls_opts[0] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
		(MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL
									: MHD_USE_AUTO) |
		(tls ? MHD_USE_TLS : 0);
	d = MHD_start_daemon(
		flags, 0, NULL, NULL, server_on_request, &s,
		MHD_OPTION_EXTERNAL_LOGGER, server_mhd_logger, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, s.max_connections + SERVER_BUSY_HEADROOM,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONNECTION_MEMORY_BYTES,
		MHD_OPTION_NOTIFY_CONNECTION, server_on_connection, &s,
		MHD_OPTION_URI_LOG_CALLBACK, server_on_uri, &s,
		MHD_OPTION_NOTIFY_COMPLETED, server_on_completed, &s,
		MHD_OPTION_ARRAY, tls_opts,
		MHD_OPTION_END);
	if (!d) {
		server_set_err(err, errlen, "cannot start the HTTP%s server on '%s' (see the "
			       "microhttpd message above)", tls ? "S" : "", opt->listen);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	port = server_bound_port(d, listen_fd);
	if (opt->port_file && server_write_port_file(opt->port_file, port, err, errlen) != 0) {
		MHD_stop_daemon(d);
		d = NULL;
		listen_fd = -1; /* closed by MHD_stop_daemon */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	fprintf(stderr, "lienket-hub: serving %s on %s (port %u, %u threads, %u connections, "
		"timeout %u s)\n", tls ? "HTTPS" : "HTTP", opt->listen, port, threads,
		s.max_connections, timeout_s);
	fflush(stderr);

	sig = server_wait(&s, &set, 0);
	fprintf(stderr, "lienket-hub: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	fflush(stderr);

	/* Stop accepting, refuse new requests (503), let those in progress finish. */
	atomic_store(&s.stopping, 1);
	quiesced_fd = MHD_quiesce_daemon(d);
	if (quiesced_fd != MHD_INVALID_SOCKET)
		listen_fd = -1; /* ours again: closed after MHD_stop_daemon */
	{
		int64_t deadline = server_now_ms() + SERVER_STOP_GRACE_MS;
		for (;;) {
			unsigned busy;
			pthread_mutex_lock(&s.lock);
			busy = s.in_flight;
			pthread_mutex_unlock(&s.lock);
			if (busy == 0 || server_now_ms() >= deadline)
				break;
			/* A second signal stops at once. */
			if (server_wait(&s, &set, server_now_ms() + SERVER_TICK_MS) != 0)
				break;
		}
	}
	MHD_stop_daemon(d);
	d = NULL;
	if (quiesced_fd != MHD_INVALID_SOCKET)
		close(quiesced_fd);
	else
		listen_fd = -1; /* MHD_stop_daemon closed it */
	if (opt->port_file)
		(void)unlink(opt->port_file);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fprintf(stderr, "lienket-hub: stopped\n");
	fflush(stderr);
	rc = 0;
out:
	if (listen_fd >= 0)
		close(listen_fd);
	if (locked)
		pthread_mutex_destroy(&s.lock);
	server_free_secret(cert);
	server_free_secret(key);
	free(s.holds);
	return rc;
}
