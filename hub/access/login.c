/*
 * login.c — the dashboard's logins, one-time links and sessions (see login.h and
 * PROTOCOL.md §10).
 *
 * Invariant: every text from the request is HTML-escaped before it is shown; a token,
 * password or link secret is read from the request and handed to auth_check,
 * viewer_check or viewer_invite_*, never written anywhere else; a session id leaves
 * only in the Set-Cookie header of a login's answer. Every write (sessions, failure
 * counts, a password set) goes through env->write, the writer's transaction; password
 * hashing is done before, outside it.
 * Owns: nothing between calls.
 */
#include "login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "dashpage.h"
#include "ids.h"
#include "textout.h"
#include "viewer.h"

#define LOGIN_ORIGIN_MAX 300 /* "https://" + a Host header of at most 255 bytes */

/* No script, nothing from outside, forms only to the hub itself, never framed. */
#define LOGIN_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
		  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define REFERRER_NONE "no-referrer"
/* A page with a form: its own post must carry an Origin (PROTOCOL.md §10). */
#define REFERRER_LOGIN "same-origin"

/* ---- pages ---- */

void login_html_answer(struct api_response *resp, int status, char *body)
{
	free(resp->body);
	if (!body) {
		static const char oom[] = "<!DOCTYPE html><p>Lỗi máy chủ: hết bộ nhớ.</p>";
		body = strdup(oom);
		status = 500;
	}
	resp->status = status;
	resp->content_type = LOGIN_HTML_TYPE;
	resp->content_encoding = NULL;
	resp->csp = LOGIN_CSP;
	resp->referrer_policy = REFERRER_NONE;
	resp->body = (unsigned char *)body;
	resp->body_len = body ? strlen(body) : 0;
}

/* The head and the card of a small page, readable at 390 px: nothing wider than the
 * screen (inputs take the card's width), type large enough to read on a phone. */
static void card_head(FILE *f, const char *title, const char *referrer)
{
	/* the dashboard's head and style sheet, then the card's own rules (scoped to it) */
	dashpage_head(f, title, referrer);
	fputs("<style>"
	      ".lk-card,.lk-card *{box-sizing:border-box}"
	      "main.lk-login{max-width:460px;margin:0 auto;padding:16px}"
	      ".lk-card{background:#fff;border:1px solid #d6dbe1;border-radius:8px;padding:16px;"
	      "margin:0 0 16px;font-size:17px;line-height:1.45}"
	      ".lk-card h2{margin:0 0 12px;font-size:19px}"
	      ".lk-card label{display:block;margin:0 0 12px;font-weight:bold}"
	      ".lk-card input[type=text],.lk-card input[type=password]{display:block;width:100%;"
	      "max-width:100%;font-size:17px;padding:10px;margin-top:4px;border:1px solid #9aa5b1;"
	      "border-radius:6px}"
	      ".lk-card label.check{font-weight:normal}"
	      ".lk-card button{width:100%;font-size:17px;padding:12px;background:#1565c0;color:#fff;"
	      "border:0;border-radius:6px}"
	      ".lk-card details{margin-top:12px}.lk-card summary{cursor:pointer;color:#1565c0}"
	      ".lk-card .err{color:#b71c1c;font-weight:bold}"
	      ".lk-card p,.lk-login p{overflow-wrap:anywhere}"
	      "</style><header><h1>Liên Kết — Tỉnh đoàn</h1></header><main class=\"lk-login\">", f);
}

/* Writes the page into resp: its body is what fill wrote after card_head. */
static void card_answer(struct api_response *resp, int status, const char *referrer,
			void (*fill)(FILE *f, const void *arg), const void *arg, const char *title)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		login_html_answer(resp, 500, NULL);
		return;
	}
	card_head(f, title, referrer);
	fill(f, arg);
	fputs("</main></body></html>\n", f);
	if (fclose(f) != 0) {
		free(text);
		text = NULL;
	}
	login_html_answer(resp, status, text);
	if (text)
		resp->referrer_policy = referrer;
}

static void message_fill(FILE *f, const void *arg)
{
	const char *const *m = arg;
	fputs("<div class=\"lk-card\"><h2>", f);
	textout_html(f, m[0]);
	fputs("</h2><p class=\"err\">", f);
	textout_html(f, m[1]);
	fputs("</p><p><a href=\"/\">Về trang chính</a></p></div>", f);
}

void login_message_page(struct api_response *resp, int status, const char *title,
			const char *message)
{
	const char *m[2] = { title, message };
	card_answer(resp, status, REFERRER_NONE, message_fill, m, title);
}

static void login_fill(FILE *f, const void *arg)
{
	const char *message = arg;
	fputs("<div class=\"lk-card\"><h2>Đăng nhập</h2>", f);
	if (message) {
		fputs("<p class=\"err\" role=\"alert\">", f);
		textout_html(f, message);
		fputs("</p>", f);
	}
	fputs("<form method=\"post\" action=\"/\">"
	      "<label>Tên đăng nhập<input type=\"text\" name=\"name\" autocomplete=\"username\" "
	      "autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"32\" required></label>"
	      "<label>Mật khẩu<input type=\"password\" name=\"password\" "
	      "autocomplete=\"current-password\" required></label>"
	      "<label class=\"check\"><input type=\"checkbox\" name=\"remember\" value=\"1\"> "
	      "Ghi nhớ đăng nhập trên máy này (30 ngày; đừng chọn trên máy dùng chung)</label>"
	      "<button type=\"submit\">Đăng nhập</button></form>"
	      "<details><summary>Quản trị viên: đăng nhập bằng mã truy cập</summary>"
	      "<form method=\"post\" action=\"/\"><p>Mã truy cập dành cho người xem, cấp bằng "
	      "lệnh <code>lienket-hub enroll --viewer</code>.</p>"
	      "<label>Mã truy cập<input type=\"password\" name=\"token\" autocomplete=\"off\">"
	      "</label><button type=\"submit\">Đăng nhập bằng mã</button></form></details>"
	      "</div><p>Chưa có tài khoản hoặc quên mật khẩu? Hãy nhờ quản trị máy chủ của tỉnh "
	      "gửi cho bạn một liên kết đặt mật khẩu.</p>", f);
}

static void login_page(struct api_response *resp, int status, const char *message)
{
	card_answer(resp, status, REFERRER_LOGIN, login_fill, message, "Liên Kết — đăng nhập");
}

struct invite_form {
	const char *invite;
	const char *name;
	const char *message;
};

static void invite_fill(FILE *f, const void *arg)
{
	const struct invite_form *v = arg;
	fputs("<div class=\"lk-card\"><h2>Đặt mật khẩu</h2><p>Tài khoản: <b>", f);
	textout_html(f, v->name);
	fprintf(f, "</b>. Chọn mật khẩu của bạn (ít nhất %d ký tự). Liên kết này chỉ dùng "
		   "được một lần.</p>", VIEWER_PASSWORD_MIN);
	if (v->message) {
		fputs("<p class=\"err\" role=\"alert\">", f);
		textout_html(f, v->message);
		fputs("</p>", f);
	}
	fputs("<form method=\"post\" action=\"/\"><input type=\"hidden\" name=\"invite\" value=\"", f);
	textout_html(f, v->invite);
	fputs("\"><input type=\"text\" name=\"name\" value=\"", f);
	textout_html(f, v->name);
	fputs("\" autocomplete=\"username\" hidden>"
	      "<label>Mật khẩu mới<input type=\"password\" name=\"password\" "
	      "autocomplete=\"new-password\" required></label>"
	      "<label>Nhập lại mật khẩu<input type=\"password\" name=\"password2\" "
	      "autocomplete=\"new-password\" required></label>"
	      "<button type=\"submit\">Lưu mật khẩu và đăng nhập</button></form></div>", f);
}

static void invite_page(struct api_response *resp, int status, const struct invite_form *v)
{
	card_answer(resp, status, REFERRER_LOGIN, invite_fill, v, "Liên Kết — đặt mật khẩu");
}

static void redirect(struct api_response *resp, const char *location, const char *cookie)
{
	snprintf(resp->location, sizeof resp->location, "%s", location);
	if (cookie)
		snprintf(resp->set_cookie, sizeof resp->set_cookie, "%s", cookie);
	login_html_answer(resp, 303, strdup("<!DOCTYPE html><p>Đang chuyển trang…</p>"));
}

/* ---- request fields ---- */

/* The value of cookie `name` from a Cookie header, copied into out. 0, or -1. */
static int cookie_value(const char *header, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl == 0 || vl >= n)
				return -1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		p = end;
	}
	return -1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Field `key` of an application/x-www-form-urlencoded body, decoded into out (n bytes
 * with the NUL). trim: spaces and line ends around it dropped (pasted tokens, names).
 * 0 (possibly ""), or -1 when absent or too long. */
static int form_field(const unsigned char *body, size_t len, const char *key, int trim,
		      char *out, size_t n)
{
	size_t kl = strlen(key), i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && body[j] != '&')
			j++;
		if (j - i >= kl + 1 && memcmp(body + i, key, kl) == 0 && body[i + kl] == '=') {
			size_t o = 0;
			for (size_t k = i + kl + 1; k < j; k++) {
				char c = (char)body[k];
				if (c == '+')
					c = ' ';
				else if (c == '%' && k + 2 < j && hexval((char)body[k + 1]) >= 0 &&
					 hexval((char)body[k + 2]) >= 0) {
					c = (char)(hexval((char)body[k + 1]) * 16 + hexval((char)body[k + 2]));
					k += 2;
				}
				if (o + 1 >= n)
					return -1;
				out[o++] = c;
			}
			out[o] = '\0';
			if (trim) {
				while (o && (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\r'))
					out[--o] = '\0';
				size_t lead = strspn(out, " \r\n");
				memmove(out, out + lead, strlen(out + lead) + 1);
			}
			return 0;
		}
		i = j + 1;
	}
	return -1;
}

static const char *query(const struct api_request *req, const char *key)
{
	return req->query ? req->query(req->query_ctx, key) : NULL;
}

/* ---- where a login comes from (PROTOCOL.md §10) ---- */

/* The origin "scheme://host[:port]" of the first len bytes of u, lower-cased, the
 * scheme's default port left out, into out. -1 when it is not http(s) or has user
 * information. */
static int origin_norm(const char *u, size_t len, char out[LOGIN_ORIGIN_MAX])
{
	int https = len >= 8 && strncasecmp(u, "https://", 8) == 0;
	if (!https && !(len >= 7 && strncasecmp(u, "http://", 7) == 0))
		return -1;
	if (len >= LOGIN_ORIGIN_MAX || memchr(u, '@', len))
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] - 'A' + 'a' : u[i]);
	const char *dflt = https ? ":443" : ":80";
	size_t dl = strlen(dflt);
	if (len > dl && memcmp(out + len - dl, dflt, dl) == 0)
		len -= dl;
	out[len] = '\0';
	return 0;
}

/* The hub's own origin as a browser names it: https when served so (ours or the
 * trusted proxy's), and the Host the browser asked for. -1 without a usable Host. */
static int own_origin(const struct dashboard_env *env, const struct api_request *req,
		      char out[LOGIN_ORIGIN_MAX])
{
	char u[LOGIN_ORIGIN_MAX + 8];
	if (!req->host || !*req->host || strpbrk(req->host, "/?#\\ \t"))
		return -1;
	int k = snprintf(u, sizeof u, "%s://%s", env->tls ? "https" : "http", req->host);
	if (k < 0 || (size_t)k >= sizeof u)
		return -1;
	return origin_norm(u, (size_t)k, out);
}

/* 1 when the URL u (an Origin: nothing after the authority; a Referer: a path after
 * it) names the origin own. */
static int names_origin(const char *own, const char *u, int referer)
{
	char got[LOGIN_ORIGIN_MAX];
	const char *p = strstr(u, "://");
	if (!p)
		return 0;
	size_t end = (size_t)(p + 3 - u) + strcspn(p + 3, "/?#");
	if (referer ? u[end] != '/' : u[end] != '\0')
		return 0;
	return origin_norm(u, end, got) == 0 && strcmp(own, got) == 0;
}

/* 1 when the Referer names this hub (no Referer: 0). */
static int same_origin_referer(const char *own, const struct api_request *req)
{
	return req->referer && names_origin(own, req->referer, 1);
}

/* A form post: its Origin names this hub, or, with no Origin (or "null"), its Referer
 * does. Both absent or another site's: refused (login CSRF). */
static int post_allowed(const struct dashboard_env *env, const struct api_request *req)
{
	char own[LOGIN_ORIGIN_MAX];
	if (own_origin(env, req, own) != 0)
		return 0;
	if (req->origin && strcmp(req->origin, "null") != 0)
		return names_origin(own, req->origin, 0);
	return same_origin_referer(own, req);
}

/* A login link: a navigation the browser says did not come from another site
 * (Sec-Fetch-Site none: typed, pasted, bookmarked, from another program; or
 * same-origin). Without Sec-Fetch-Site, a Referer that names this hub. */
static int link_allowed(const struct dashboard_env *env, const struct api_request *req)
{
	char own[LOGIN_ORIGIN_MAX];
	if (req->sec_fetch_site)
		return strcmp(req->sec_fetch_site, "none") == 0 ||
		       strcmp(req->sec_fetch_site, "same-origin") == 0;
	return own_origin(env, req, own) == 0 && same_origin_referer(own, req);
}

/* ---- writes, through the writer ---- */

struct login_job {
	const char *key;        /* start: a viewer token's hash or an account's key */
	int remember;
	const char *id;         /* touch, end */
	const char *name;       /* failed, succeeded: the login name (or NULL) */
	const char *address;    /* failed: the client's address */
	const char *invite;     /* invite: the link secret */
	const char *encoded;    /* invite: the new password's hash */
	int64_t now_ms;
	int outcome;            /* invite: viewer_invite_use's result */
	struct store_viewer viewer;
	char new_id[SESSION_ID_TEXT];
};

static int start_job(struct store *ws, void *arg)
{
	struct login_job *j = arg;
	if (j->name && viewer_succeeded(ws, j->name) != 0)
		return -1;
	return session_start(ws, j->key, j->remember, j->now_ms, j->new_id);
}

static int touch_job(struct store *ws, void *arg)
{
	struct login_job *j = arg;
	return session_touch(ws, j->id, j->now_ms);
}

static int end_job(struct store *ws, void *arg)
{
	struct login_job *j = arg;
	return session_end(ws, j->id);
}

static int failed_job(struct store *ws, void *arg)
{
	struct login_job *j = arg;
	return viewer_failed(ws, j->name, j->address, j->now_ms);
}

/* Uses the link, then opens the session with the account's new key. */
static int invite_job(struct store *ws, void *arg)
{
	struct login_job *j = arg;
	j->outcome = viewer_invite_use(ws, j->invite, j->encoded, j->now_ms, &j->viewer);
	if (j->outcome != 0)
		return j->outcome < 0 ? -1 : 0;
	return session_start(ws, j->viewer.key, 0, j->now_ms, j->new_id);
}

static int run_job(const struct dashboard_env *env, int (*fn)(struct store *, void *),
		   struct login_job *j)
{
	return env->write ? env->write(env->write_ctx, fn, j) : -1;
}

/* ---- logins ---- */

/* The answer to a successful login: the cookie (Max-Age: max_age_s, or none when 0 —
 * it ends with the browser) and a redirect to the unit and year asked for. */
static void logged_in(const struct dashboard_env *env, const struct api_request *req,
		      struct api_response *resp, const char *id, long long max_age_s)
{
	char cookie[256], age[48] = "", location[160] = "/";
	if (max_age_s > 0)
		snprintf(age, sizeof age, "; Max-Age=%lld", max_age_s);
	snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s%s; HttpOnly; SameSite=Strict; Path=/%s",
		 id, age, env->tls ? "; Secure" : "");
	const char *u = query(req, "unit"), *y = query(req, "year");
	int has_u = dashboard_unit_wellformed(u), has_y = dashboard_year_wellformed(y);
	if (has_u || has_y)
		snprintf(location, sizeof location, "/?%s%s%s%s%s", has_u ? "unit=" : "",
			 has_u ? u : "", has_u && has_y ? "&" : "", has_y ? "year=" : "",
			 has_y ? y : "");
	redirect(resp, location, cookie);
}

/* "…thử lại sau N phút." for a throttled login. */
static void throttled_page(struct api_response *resp, int64_t wait_ms)
{
	char m[300];
	long long minutes = (wait_ms + 59999) / 60000;
	snprintf(m, sizeof m, "Đăng nhập sai quá nhiều lần. Để bảo vệ tài khoản, việc đăng nhập "
			      "bằng tên này hoặc từ máy này tạm dừng; hãy thử lại sau %lld phút.",
		 minutes < 1 ? 1 : minutes);
	login_page(resp, 429, m);
}

/* Records a failure; answers the login form with message (401), or 500. */
static void refuse(const struct dashboard_env *env, struct api_response *resp, const char *name,
		   const char *message)
{
	struct login_job j = { .name = name, .address = env->client, .now_ms = env->now_ms };
	if (run_job(env, failed_job, &j) != 0) {
		login_page(resp, 500, "Lỗi máy chủ khi kiểm tra đăng nhập. Hãy thử lại sau.");
		return;
	}
	login_page(resp, 401, message);
}

static void login_token(const struct dashboard_env *env, const struct api_request *req,
			struct api_response *resp, const char *token)
{
	char header[DASHBOARD_MAX_TOKEN + 16];
	struct store_token t;
	int64_t wait = 0;
	int th = viewer_throttled(env->rs, NULL, env->client, env->now_ms, &wait);
	if (th != 0) {
		if (th < 0)
			login_page(resp, 500, "Lỗi máy chủ khi kiểm tra mã. Hãy thử lại sau.");
		else
			throttled_page(resp, wait);
		return;
	}
	enum auth_result ar = AUTH_MISSING;
	if (*token && strlen(token) <= DASHBOARD_MAX_TOKEN) {
		snprintf(header, sizeof header, "Bearer %s", token);
		ar = auth_check(env->rs, header, &t);
	}
	if (ar == AUTH_FAILED) {
		login_page(resp, 500, "Lỗi máy chủ khi kiểm tra mã. Hãy thử lại sau.");
		return;
	}
	if (ar == AUTH_OK && t.kind != STORE_TOKEN_VIEWER) {
		login_page(resp, 403, "Mã này là của một văn phòng xã (máy đồng bộ), không dùng để xem "
				      "trang của tỉnh. Hãy dùng mã dành cho người xem.");
		return;
	}
	if (ar != AUTH_OK) {
		refuse(env, resp, NULL, "Mã truy cập không đúng hoặc đã bị thu hồi.");
		return;
	}
	struct login_job j = { .key = t.hash, .now_ms = env->now_ms };
	if (run_job(env, start_job, &j) != 0) {
		login_page(resp, 500, "Lỗi máy chủ khi mở phiên đăng nhập. Hãy thử lại sau.");
		return;
	}
	logged_in(env, req, resp, j.new_id, SESSION_MAX_AGE_MS / 1000);
}

static void login_account(const struct dashboard_env *env, const struct api_request *req,
			  struct api_response *resp, const char *name, const char *password,
			  int remember)
{
	struct store_viewer v;
	int64_t wait = 0;
	if (!*name || !*password) {
		login_page(resp, 400, "Hãy nhập tên đăng nhập và mật khẩu.");
		return;
	}
	int th = viewer_throttled(env->rs, name, env->client, env->now_ms, &wait);
	if (th != 0) {
		if (th < 0)
			login_page(resp, 500, "Lỗi máy chủ khi kiểm tra đăng nhập. Hãy thử lại sau.");
		else
			throttled_page(resp, wait);
		return;
	}
	int rc = viewer_check(env->rs, name, password, strlen(password), &v);
	if (rc < 0) {
		login_page(resp, 500, "Lỗi máy chủ khi kiểm tra đăng nhập. Hãy thử lại sau.");
		return;
	}
	if (rc != 0) {
		refuse(env, resp, name, "Tên đăng nhập hoặc mật khẩu không đúng.");
		return;
	}
	struct login_job j = { .key = v.key, .remember = remember, .name = v.name,
			       .now_ms = env->now_ms };
	if (run_job(env, start_job, &j) != 0) {
		login_page(resp, 500, "Lỗi máy chủ khi mở phiên đăng nhập. Hãy thử lại sau.");
		return;
	}
	logged_in(env, req, resp, j.new_id, remember ? SESSION_REMEMBER_MAX_AGE_MS / 1000 : 0);
}

static const char link_gone[] =
	"Liên kết đặt mật khẩu này đã được dùng, đã hết hạn hoặc không đúng. Hãy nhờ quản trị "
	"máy chủ của tỉnh gửi một liên kết mới (lệnh lienket-hub viewer passwd).";

static void invite_show(const struct dashboard_env *env, struct api_response *resp,
			const char *invite)
{
	struct store_viewer v;
	int rc = viewer_invite_check(env->rs, invite, env->now_ms, &v);
	if (rc < 0) {
		login_message_page(resp, 500, "Lỗi máy chủ", "Lỗi máy chủ khi đọc liên kết. Hãy thử lại sau.");
		return;
	}
	if (rc != 0) {
		login_message_page(resp, 410, "Liên kết không dùng được", link_gone);
		return;
	}
	struct invite_form form = { invite, v.name, NULL };
	invite_page(resp, 200, &form);
}

static void invite_set(const struct dashboard_env *env, const struct api_request *req,
		       struct api_response *resp, const char *invite, const char *pw,
		       const char *pw2)
{
	struct store_viewer v;
	char encoded[STORE_VIEWER_HASH];
	int rc = viewer_invite_check(env->rs, invite, env->now_ms, &v);
	if (rc != 0) {
		if (rc < 0)
			login_message_page(resp, 500, "Lỗi máy chủ", "Lỗi máy chủ khi đọc liên kết.");
		else
			login_message_page(resp, 410, "Liên kết không dùng được", link_gone);
		return;
	}
	struct invite_form form = { invite, v.name, NULL };
	size_t n = strlen(pw);
	if (strcmp(pw, pw2) != 0)
		form.message = "Hai lần nhập mật khẩu không giống nhau.";
	else if (n < VIEWER_PASSWORD_MIN)
		form.message = "Mật khẩu quá ngắn: cần ít nhất 10 ký tự.";
	else if (n > VIEWER_PASSWORD_MAX)
		form.message = "Mật khẩu quá dài.";
	if (form.message) {
		invite_page(resp, 400, &form);
		return;
	}
	if (viewer_hash_password(pw, n, encoded) != 0) {
		login_message_page(resp, 500, "Lỗi máy chủ", "Lỗi máy chủ khi lưu mật khẩu. Hãy thử lại.");
		return;
	}
	struct login_job j = { .invite = invite, .encoded = encoded, .now_ms = env->now_ms };
	rc = run_job(env, invite_job, &j);
	memset(encoded, 0, sizeof encoded);
	if (rc != 0) {
		login_message_page(resp, 500, "Lỗi máy chủ", "Lỗi máy chủ khi lưu mật khẩu. Hãy thử lại.");
		return;
	}
	if (j.outcome != 0) {
		login_message_page(resp, 410, "Liên kết không dùng được", link_gone);
		return;
	}
	logged_in(env, req, resp, j.new_id, 0);
}

/* POST /: which form it is, by its fields. */
static void login_post(const struct dashboard_env *env, const struct api_request *req,
		       struct api_response *resp)
{
	char a[LOGIN_MAX_FIELD], b[LOGIN_MAX_FIELD], c[LOGIN_MAX_FIELD], r[8];
	const unsigned char *body = req->body;
	size_t len = req->body_len;
	if (form_field(body, len, "invite", 1, a, sizeof a) == 0) {
		if (form_field(body, len, "password", 0, b, sizeof b) != 0 ||
		    form_field(body, len, "password2", 0, c, sizeof c) != 0) {
			login_message_page(resp, 400, "Thiếu mật khẩu", "Hãy nhập mật khẩu hai lần.");
			return;
		}
		invite_set(env, req, resp, a, b, c);
	} else if (form_field(body, len, "token", 1, a, sizeof a) == 0) {
		if (!*a) {
			login_page(resp, 400, "Hãy nhập mã truy cập.");
			return;
		}
		login_token(env, req, resp, a);
	} else if (form_field(body, len, "name", 1, a, sizeof a) == 0 &&
		   form_field(body, len, "password", 0, b, sizeof b) == 0) {
		int remember = form_field(body, len, "remember", 1, r, sizeof r) == 0 &&
			       strcmp(r, "1") == 0;
		login_account(env, req, resp, a, b, remember);
	} else {
		login_page(resp, 400, "Hãy nhập tên đăng nhập và mật khẩu.");
	}
	memset(b, 0, sizeof b);
	memset(c, 0, sizeof c);
}

int login_admit(const struct dashboard_env *env, const struct api_request *req,
		struct api_response *resp, struct session_who *who)
{
	static const char cross_site[] =
		"Trang đăng nhập chỉ nhận mã nhập từ chính trang này. Hãy đăng nhập ở các ô dưới "
		"đây (hoặc dán liên kết đăng nhập vào thanh địa chỉ của trình duyệt).";
	char cookie[DASHBOARD_MAX_TOKEN + 1];
	if (req->method && strcmp(req->method, "POST") == 0) {
		if (!post_allowed(env, req))
			login_page(resp, 403, cross_site);
		else
			login_post(env, req, resp);
		return 1;
	}
	const char *q_token = query(req, "token"), *q_invite = query(req, "invite");
	if (q_token) {
		if (!link_allowed(env, req))
			login_page(resp, 403, cross_site);
		else
			login_token(env, req, resp, q_token);
		return 1;
	}
	if (q_invite) {
		invite_show(env, resp, q_invite);
		return 1;
	}
	int has_cookie = req->cookie &&
			 cookie_value(req->cookie, SESSION_COOKIE, cookie, sizeof cookie) == 0;
	struct login_job j = { .id = cookie, .now_ms = env->now_ms };
	if (query(req, "logout")) {
		if (has_cookie && run_job(env, end_job, &j) != 0) {
			login_page(resp, 500, "Lỗi máy chủ khi đăng xuất. Hãy thử lại sau.");
			return 1;
		}
		redirect(resp, "/", SESSION_COOKIE "=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/");
		return 1;
	}
	if (!has_cookie) {
		login_page(resp, 401, NULL);
		return 1;
	}
	enum session_state ss = session_check(env->rs, cookie, env->now_ms, who);
	if (ss == SESSION_ENDED) {
		login_page(resp, 401, "Phiên đăng nhập đã hết hiệu lực. Hãy đăng nhập lại.");
		return 1;
	}
	if (ss == SESSION_FAILED || (ss == SESSION_STALE && run_job(env, touch_job, &j) != 0)) {
		login_page(resp, 500, "Lỗi máy chủ khi kiểm tra phiên đăng nhập. Hãy thử lại sau.");
		return 1;
	}
	return 0;
}
