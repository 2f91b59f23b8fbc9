/*
 * app_server.c — the office app's HTTP server on libmicrohttpd (see app_server.h).
 *
 * One request, three stages in libmicrohttpd's access callback: the first call sees
 * only the request line and headers and decides everything that can be decided there
 * (the gate, the body's length and type), answering at once when refused; the next
 * calls append the body (never beyond its cap); the last call answers — a page file,
 * or what app_api_handle says.
 */
#include "app_server.h"

#ifndef _WIN32
#include <arpa/inet.h>
#include <netinet/in.h>
#endif
#include <microhttpd.h> /* on Windows it brings winsock2.h */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_api.h"
#include "app_assets.h"
#include "app_gate.h"
#include "app_setup.h"

#define APP_SERVER_CONNECTIONS 64      /* one office, a few tabs; more is not a browser */
#define APP_SERVER_TIMEOUT_S 60        /* idle connection closed after this */

/* No script or style from anywhere but the app itself, nothing inline, no frames. */
#define APP_CSP                                                                          \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char forbidden_page[] =
	"<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Liên Kết</title></head><body>"
	"<h1>Không mở được ứng dụng</h1><p>Liên kết đã dùng hoặc không đúng. Hãy mở ứng dụng bằng lối tắt "
	"\"Liên Kết\" hoặc chạy lại lệnh <code>lienket-agent app</code>.</p></body></html>";
static const char forbidden_json[] =
	"{\"error\":\"Phiên làm việc không hợp lệ. Hãy mở lại ứng dụng bằng lối tắt \\\"Liên Kết\\\" hoặc lệnh "
	"lienket-agent app.\"}";
static const char misdirected_text[] = "Misdirected request: this server answers 127.0.0.1 and localhost only.\n";

struct app_server {
	struct MHD_Daemon *d;
	unsigned port;           /* main thread's copy */
	atomic_uint bound_port;  /* set once the daemon runs; the server thread copies it
				    into the gate, which only that thread touches */
	struct app_gate gate;
	struct app_api *api;     /* NULL while the first screen is served */
	/* The first screen (app_setup.h), while the laptop has no database: then the
	 * server opens the store itself once the database is made, and owns it. */
	struct app_setup *setup;
	struct store *own_store;
	struct app_sync *sync;   /* borrowed */
	char *db;
	atomic_int ready;        /* the app is served (not the first screen) */
};

/* The body of a request being read. */
struct req_ctx {
	char *body;
	size_t len, max;
};

static int answered; /* the address marks a request already answered in its first call */

static int is_api(const char *url)
{
	return strncmp(url, "/api/", 5) == 0;
}

/* Queues an answer with the contract's headers. data is copied. */
static enum MHD_Result send_answer(struct MHD_Connection *c, unsigned status, const char *type, const void *data,
				   size_t len, const char *location, const char *cookie, const char *disposition)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	int ok = 1;
	if (type)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES;
	if (location)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location) == MHD_YES;
	if (cookie)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie) == MHD_YES;
	if (disposition && *disposition)
		ok &= MHD_add_response_header(r, "Content-Disposition", disposition) == MHD_YES;
	ok &= MHD_add_response_header(r, "Content-Security-Policy", APP_CSP) == MHD_YES;
	ok &= MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
	ok &= MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES;
	ok &= MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES;
	ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
	enum MHD_Result res = ok ? MHD_queue_response(c, status, r) : MHD_NO;
	MHD_destroy_response(r);
	return res;
}

static enum MHD_Result send_refusal(struct MHD_Connection *c, const char *url, unsigned status)
{
	if (status == MHD_HTTP_MISDIRECTED_REQUEST)
		return send_answer(c, status, "text/plain; charset=utf-8", misdirected_text, sizeof misdirected_text - 1,
				   NULL, NULL, NULL);
	if (is_api(url) && status == MHD_HTTP_FORBIDDEN)
		return send_answer(c, status, "application/json; charset=utf-8", forbidden_json,
				   sizeof forbidden_json - 1, NULL, NULL, NULL);
	if (status == MHD_HTTP_FORBIDDEN)
		return send_answer(c, status, "text/html; charset=utf-8", forbidden_page, sizeof forbidden_page - 1, NULL,
				   NULL, NULL);
	char body[64];
	int n = snprintf(body, sizeof body, "{\"error\":\"HTTP %u\"}", status);
	return send_answer(c, status, "application/json; charset=utf-8", body, (size_t)n, NULL, NULL, NULL);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int has_body_method(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
}

/* The first call: the gate and the body's admission. Returns the status to refuse
 * with, 0 to go on (*ctx made for a body), or -1 when the answer was queued. */
static int admit(struct app_server *srv, struct MHD_Connection *c, const char *url, const char *method,
		 struct req_ctx **ctx)
{
	struct app_gate_request gr = {
		.method = method,
		.path = url,
		.secret = strcmp(url, "/") == 0 ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
									      APP_GATE_SECRET_PARAM)
						: NULL,
		.host = header(c, MHD_HTTP_HEADER_HOST),
		.origin = header(c, "Origin"),
		.sec_fetch_site = header(c, "Sec-Fetch-Site"),
		.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, APP_GATE_COOKIE),
		.csrf = header(c, APP_GATE_CSRF_HEADER),
	};
	switch (app_gate_check(&srv->gate, &gr)) {
	case APP_GATE_PASS:
		break;
	case APP_GATE_START: {
		char cookie[128];
		if (app_gate_cookie(&srv->gate, cookie, sizeof cookie) != 0)
			return MHD_HTTP_INTERNAL_SERVER_ERROR;
		return send_answer(c, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "", 0, "/", cookie, NULL) ==
				       MHD_YES
			       ? -1
			       : MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	case APP_GATE_TO_ROOT:
		return send_answer(c, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "", 0, "/", NULL, NULL) == MHD_YES
			       ? -1
			       : MHD_HTTP_INTERNAL_SERVER_ERROR;
	case APP_GATE_MISDIRECTED:
		fprintf(stderr, "lienket-agent app: refused %s %s: Host not ours\n", method, url);
		return MHD_HTTP_MISDIRECTED_REQUEST;
	case APP_GATE_CROSS_SITE:
		fprintf(stderr, "lienket-agent app: refused %s %s: from another site\n", method, url);
		return MHD_HTTP_FORBIDDEN;
	case APP_GATE_NO_SESSION:
		fprintf(stderr, "lienket-agent app: refused %s %s: no session\n", method, url);
		return MHD_HTTP_FORBIDDEN;
	case APP_GATE_NO_CSRF:
		fprintf(stderr, "lienket-agent app: refused %s %s: no CSRF token\n", method, url);
		return MHD_HTTP_FORBIDDEN;
	}
	if (!has_body_method(method))
		return 0;
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	size_t max = app_api_body_max(url);
	char *end = NULL;
	unsigned long long len = cl ? strtoull(cl, &end, 10) : 0;
	if (strcmp(method, "DELETE") != 0 || (cl && len > 0)) {
		if (!cl || !*cl || *end)
			return MHD_HTTP_LENGTH_REQUIRED;
		if (len > max)
			return MHD_HTTP_CONTENT_TOO_LARGE;
		if (!app_api_content_type_ok(url, header(c, MHD_HTTP_HEADER_CONTENT_TYPE)))
			return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	}
	struct req_ctx *r = calloc(1, sizeof *r);
	if (!r)
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	r->max = (size_t)len;
	r->body = malloc(r->max + 1);
	if (!r->body) {
		free(r);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	*ctx = r;
	return 0;
}

static const char *query_param(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* The laptop was just set up from the first screen: the app itself from now on, and a
 * first sync at once (it brings the unit tree and the office's records). A failure
 * leaves the first screen, whose join then says the laptop is set up already. */
static void setup_done(struct app_server *srv)
{
	char err[256];
	if (store_open(srv->db, &srv->own_store, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-agent app: cannot open the new database %s: %s\n", srv->db, err);
		return;
	}
	srv->api = app_api_new(srv->own_store, srv->gate.csrf, srv->sync, err, sizeof err);
	if (!srv->api) {
		fprintf(stderr, "lienket-agent app: cannot serve the new database %s: %s\n", srv->db, err);
		store_close(srv->own_store);
		srv->own_store = NULL;
		return;
	}
	app_setup_free(srv->setup);
	srv->setup = NULL;
	atomic_store(&srv->ready, 1);
	if (srv->sync)
		(void)app_sync_start(srv->sync, 0);
}

static enum MHD_Result serve(struct app_server *srv, struct MHD_Connection *c, const char *url, const char *method,
			     const struct req_ctx *body)
{
	if (is_api(url)) {
		struct app_api_request req = {
			.method = method,
			.path = url,
			.param = query_param,
			.param_ctx = c,
			.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
			.body = body ? body->body : NULL,
			.body_len = body ? body->len : 0,
		};
		struct app_api_response resp;
		if (srv->api)
			app_api_handle(srv->api, &req, &resp);
		else if (app_setup_handle(srv->setup, &req, &resp) == 1)
			setup_done(srv);
		enum MHD_Result r = send_answer(c, resp.status, resp.content_type, resp.body ? resp.body : "",
						resp.body_len, NULL, NULL, resp.disposition);
		app_api_response_release(&resp);
		return r;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_refusal(c, url, MHD_HTTP_METHOD_NOT_ALLOWED);
	const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
	for (const struct app_asset *a = app_assets; a->path; a++)
		if (strcmp(a->path, path) == 0)
			return send_answer(c, MHD_HTTP_OK, a->content_type, a->data, a->len, NULL, NULL, NULL);
	return send_refusal(c, url, MHD_HTTP_NOT_FOUND);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct app_server *srv = cls;
	if (!srv->gate.port)
		srv->gate.port = atomic_load(&srv->bound_port);
	if (*con_cls == &answered)
		return MHD_YES; /* a refused body is dropped unread */
	if (!*con_cls) {
		struct req_ctx *ctx = NULL;
		int st = admit(srv, c, url, method, &ctx);
		if (st < 0) {
			*con_cls = &answered;
			return MHD_YES;
		}
		if (st > 0) {
			*con_cls = &answered;
			return send_refusal(c, url, (unsigned)st);
		}
		if (ctx) {
			*con_cls = ctx;
			return MHD_YES;
		}
		*con_cls = &answered;
		return serve(srv, c, url, method, NULL);
	}
	struct req_ctx *ctx = *con_cls;
	if (*upload_size) {
		if (*upload_size > ctx->max - ctx->len)
			return MHD_NO; /* more than its Content-Length: drop the connection */
		memcpy(ctx->body + ctx->len, upload_data, *upload_size);
		ctx->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	ctx->body[ctx->len] = '\0';
	return serve(srv, c, url, method, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (*con_cls && *con_cls != &answered) {
		struct req_ctx *ctx = *con_cls;
		free(ctx->body);
		free(ctx);
	}
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("lienket-agent app: microhttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* Starts serving: the app over store s, or with s NULL the first screen for the
 * database to create at db. */
static int server_start(struct store *s, const char *db, struct app_sync *sync, unsigned port,
			struct app_server **out, char *err, size_t errlen)
{
	struct app_server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->sync = sync;
	if (port > 65535) {
		snprintf(err, errlen, "port %u out of range", port);
		goto fail;
	}
	if (app_gate_init(&srv->gate) != 0) {
		snprintf(err, errlen, "no random source for the start secret");
		goto fail;
	}
	if (s) {
		srv->api = app_api_new(s, srv->gate.csrf, sync, err, errlen);
		if (!srv->api)
			goto fail;
		atomic_store(&srv->ready, 1);
	} else if (!(srv->db = strdup(db)) || !(srv->setup = app_setup_new(db, srv->gate.csrf))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* 127.0.0.1 only; the system picks the port when port is 0. Until the gate knows
	 * the port every request is refused as misdirected: nobody knows it yet anyway. */
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->d = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
				  NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)APP_SERVER_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)APP_SERVER_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
	if (!srv->d) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u (see the microhttpd message above)", port);
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	if (!srv->port) {
		snprintf(err, errlen, "cannot learn the port listened on");
		MHD_stop_daemon(srv->d);
		goto fail;
	}
	atomic_store(&srv->bound_port, srv->port);
	*out = srv;
	return 0;
fail:
	app_api_free(srv->api);
	app_setup_free(srv->setup);
	free(srv->db);
	free(srv);
	return -1;
}

int app_server_start(struct store *s, struct app_sync *sync, unsigned port, struct app_server **out, char *err,
		     size_t errlen)
{
	return server_start(s, NULL, sync, port, out, err, errlen);
}

int app_server_start_setup(const char *db, struct app_sync *sync, unsigned port, struct app_server **out,
			   char *err, size_t errlen)
{
	return server_start(NULL, db, sync, port, out, err, errlen);
}

int app_server_ready(struct app_server *srv)
{
	return atomic_load(&srv->ready);
}

unsigned app_server_port(const struct app_server *srv)
{
	return srv->port;
}

void app_server_url(const struct app_server *srv, char url[APP_SERVER_URL_MAX])
{
	snprintf(url, APP_SERVER_URL_MAX, "http://127.0.0.1:%u/?%s=%s", srv->port, APP_GATE_SECRET_PARAM,
		 srv->gate.secret);
}

void app_server_stop(struct app_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->d);
	app_api_free(srv->api);
	app_setup_free(srv->setup);
	store_close(srv->own_store);
	free(srv->db);
	memset(&srv->gate, 0, sizeof srv->gate);
	free(srv);
}
