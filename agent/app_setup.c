/*
 * app_setup.c — the office app's first screen: a join code to a set-up laptop
 * (see app_setup.h).
 */
#include "app_setup.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "joincode.h"
#include "lkcrypto.h"
#include "msg.h"
#include "plat.h"
#include "schema.h"
#include "store.h"
#include "transport.h"
#include "zio.h"

#define WHOAMI_MAX_BYTES (64u << 10) /* a whoami answer is a few hundred bytes */

struct app_setup {
	char *db;
	char csrf[64];
};

/* The sentences of the first screen. Each says what happened and what to do. */
#define SAY_NO_CODE "Hãy dán mã tham gia (bắt đầu bằng LK1.) in trên phiếu Tỉnh đoàn gửi cho văn phòng."
#define SAY_UNREACHABLE                                                                                       \
	"Không kết nối được máy chủ của Tỉnh (%s). Hãy kiểm tra mạng Internet của máy này (thử mở một trang " \
	"web), rồi bấm \"Kiểm tra mã\" lại. Nếu mạng vẫn tốt mà không được, hãy gọi cán bộ phụ trách ở Tỉnh đoàn."
#define SAY_TLS                                                                                               \
	"Máy chủ trả lời không đúng chứng chỉ ghi trong mã tham gia: có thể mạng này chặn hoặc giả mạo kết nối. " \
	"Đừng dùng mạng này để cài đặt; hãy thử mạng khác, hoặc gọi cán bộ phụ trách ở Tỉnh đoàn."
#define SAY_REVOKED                                                                                          \
	"Mã tham gia này đã bị Tỉnh đoàn thu hồi (hoặc đã hết hiệu lực). Hãy xin Tỉnh đoàn một phiếu mới cho " \
	"văn phòng."
#define SAY_UNKNOWN                                                                                          \
	"Máy chủ của Tỉnh không nhận mã tham gia này (có thể đã được thay bằng mã mới). Hãy xin Tỉnh đoàn một " \
	"phiếu mới cho văn phòng."
#define SAY_VIEWER "Mã này dùng để xem báo cáo của Tỉnh, không phải mã cài đặt cho văn phòng. Hãy dùng mã trên phiếu tham gia của văn phòng."
#define SAY_BOUND                                                                                             \
	"Mã tham gia này đã được dùng để cài một máy khác. Mỗi máy cần một mã riêng: hãy xin Tỉnh đoàn mã mới " \
	"cho máy này (nếu máy cũ hỏng, hãy nói rõ để Tỉnh chuyển sổ sang máy mới)."
#define SAY_HUB_ODD                                                                                          \
	"Máy chủ của Tỉnh trả lời không như mong đợi (%s). Hãy thử lại sau ít phút; nếu vẫn vậy, hãy gọi cán bộ " \
	"phụ trách ở Tỉnh đoàn."
#define SAY_EXISTS "Máy này đã được cài đặt rồi. Hãy đóng trang này và mở lại ứng dụng Liên Kết."
#define SAY_CANNOT_CREATE                                                                                     \
	"Không tạo được sổ trên máy này (%s). Hãy kiểm tra ổ đĩa còn chỗ trống, rồi thử lại; nếu vẫn không " \
	"được, hãy báo cán bộ kỹ thuật."
#define SAY_NOT_SET_UP "Máy này chưa được cài đặt: hãy nhập mã tham gia trước."

struct app_setup *app_setup_new(const char *db, const char *csrf)
{
	struct app_setup *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->db = strdup(db);
	if (!st->db) {
		free(st);
		return NULL;
	}
	snprintf(st->csrf, sizeof st->csrf, "%s", csrf ? csrf : "");
	return st;
}

void app_setup_free(struct app_setup *st)
{
	if (!st)
		return;
	free(st->db);
	free(st);
}

static void answer_json(struct app_api_response *resp, unsigned status, json_t *j)
{
	resp->status = status;
	resp->content_type = "application/json; charset=utf-8";
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	if (!resp->body) {
		resp->status = 500;
		resp->content_type = "text/plain; charset=utf-8";
	}
	json_decref(j);
}

static void answer_error(struct app_api_response *resp, unsigned status, const char *text_vi)
{
	answer_json(resp, status, json_pack("{s:s}", "error", text_vi));
}

/* The code in the request's JSON body {"code": "…"}: 0 and *j decoded, or 1 after
 * answering why not. */
static int code_of(const struct app_api_request *req, struct joincode *j, struct app_api_response *resp)
{
	json_error_t e;
	json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, &e) : NULL;
	const char *code = json_string_value(json_object_get(body, "code"));
	int why = 0, rc = 0;
	if (!code || !*code) {
		answer_error(resp, 422, SAY_NO_CODE);
		rc = 1;
	} else if (commands_join_decode(code, j, &why) != 0) {
		answer_error(resp, 422, msg_lang((enum msg_id)why, 0));
		rc = 1;
	}
	json_decref(body);
	return rc;
}

/* Asks the hub of code j which office it sets up (GET /v1/whoami): 0 and *office (the
 * answer: unit, unit_name, unit_code, unit_kind, parent_name), or 1 after answering
 * why not. */
static int ask_hub(const struct joincode *j, json_t **office, struct app_api_response *resp)
{
	struct transport *t = NULL;
	struct transport_response r;
	char err[256] = "", text[1024];
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	json_t *ans = NULL;
	int ret = 1;
	*office = NULL;
	memset(&r, 0, sizeof r);
	if (transport_curl_new_pinned(j->url, j->token, NULL, j->pins[0] ? j->pins : NULL, &t, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-agent app: join code's hub %s: %s\n", j->url, err);
		answer_error(resp, 422, msg_lang(MSG_ERR_JOIN_BAD, 0));
		return 1;
	}
	struct transport_request req = { .method = "GET", .path = "/v1/whoami", .authenticated = 1 };
	enum transport_result tr = transport_request(t, &req, &r, err, sizeof err);
	transport_free(t);
	if (tr != TRANSPORT_OK) {
		fprintf(stderr, "lienket-agent app: asking %s which office: %s (%s)\n", j->url, transport_result_str(tr), err);
		if (tr == TRANSPORT_TLS || tr == TRANSPORT_CA_FILE) {
			answer_error(resp, 502, SAY_TLS);
		} else if (tr == TRANSPORT_UNREACHABLE || tr == TRANSPORT_CANCELLED) {
			snprintf(text, sizeof text, SAY_UNREACHABLE, j->url);
			answer_error(resp, 502, text);
		} else {
			snprintf(text, sizeof text, SAY_HUB_ODD, transport_result_str(tr));
			answer_error(resp, 502, text);
		}
		return 1;
	}
	if (r.deflated) {
		if (zio_inflate(r.body, r.len, WHOAMI_MAX_BYTES, &plain, &plain_len) != ZIO_OK)
			plain = NULL;
	} else if ((plain = malloc(r.len + 1)) != NULL) {
		memcpy(plain, r.body, r.len);
		plain[r.len] = '\0';
		plain_len = r.len;
	}
	json_error_t e;
	ans = plain ? json_loadb((const char *)plain, plain_len, 0, &e) : NULL;
	const char *code = json_string_value(json_object_get(json_object_get(ans, "error"), "code"));
	fprintf(stderr, "lienket-agent app: %s/v1/whoami answered %d%s%s\n", j->url, r.status, code ? " " : "",
		code ? code : "");
	if (r.status == 200 && json_is_object(ans) && json_is_string(json_object_get(ans, "unit"))) {
		if (strcmp(json_string_value(json_object_get(ans, "unit")), j->unit) != 0) {
			snprintf(text, sizeof text, SAY_HUB_ODD, "đơn vị khác với mã");
			answer_error(resp, 502, text);
		} else if (json_is_true(json_object_get(ans, "bound"))) {
			answer_error(resp, 409, SAY_BOUND);
		} else {
			*office = ans;
			ans = NULL;
			ret = 0;
		}
	} else if (r.status == 401 && code && strcmp(code, "revoked") == 0) {
		answer_error(resp, 422, SAY_REVOKED);
	} else if (r.status == 401) {
		answer_error(resp, 422, SAY_UNKNOWN);
	} else if (r.status == 403) {
		answer_error(resp, 422, SAY_VIEWER);
	} else {
		char what[64];
		snprintf(what, sizeof what, "HTTP %d", r.status);
		snprintf(text, sizeof text, SAY_HUB_ODD, what);
		answer_error(resp, 502, text);
	}
	json_decref(ans);
	free(plain);
	transport_response_release(&r);
	return ret;
}

/* The office the page shows: the hub's answer, the kind as the office reads it. */
static json_t *office_json(const struct joincode *j, json_t *who)
{
	const struct schema_table *un = schema_table_find("unit_name", SCHEMA_VERSION);
	const struct schema_column *kc = un ? schema_column_find(un, "kind", SCHEMA_VERSION) : NULL;
	const char *kind = json_string_value(json_object_get(who, "unit_kind"));
	const struct schema_enum_value *kv = kc && kind ? schema_enum_find(kc, kind) : NULL;
	return json_pack("{s:s, s:O?, s:O?, s:s?, s:O?, s:s}", "unit", j->unit, "unit_name",
			 json_object_get(who, "unit_name"), "unit_code", json_object_get(who, "unit_code"), "unit_kind",
			 kv ? kv->label_vi : kind, "parent_name", json_object_get(who, "parent_name"), "hub", j->url);
}

int app_setup_needed(const char *db)
{
	FILE *f = plat_fopen(db, "rb");
	if (!f)
		return 1;
	fclose(f);
	return 0;
}

int app_setup_handle(struct app_setup *st, const struct app_api_request *req, struct app_api_response *resp)
{
	memset(resp, 0, sizeof *resp);
	const char *path = req->path ? req->path : "";
	int get = req->method && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0);
	int post = req->method && strcmp(req->method, "POST") == 0;
	struct joincode j;
	json_t *who = NULL;
	int joined = 0;
	memset(&j, 0, sizeof j);
	if (strcmp(path, "/api/meta") == 0 && get) {
		answer_json(resp, 200, json_pack("{s:s, s:b}", "csrf", st->csrf, "setup", 1));
	} else if (strcmp(path, "/api/setup/check") == 0 && post) {
		if (code_of(req, &j, resp) == 0 && ask_hub(&j, &who, resp) == 0)
			answer_json(resp, 200, office_json(&j, who));
	} else if (strcmp(path, "/api/setup/join") == 0 && post) {
		if (!app_setup_needed(st->db)) {
			answer_error(resp, 409, SAY_EXISTS);
		} else if (code_of(req, &j, resp) == 0 && ask_hub(&j, &who, resp) == 0) {
			struct store *s = NULL;
			char err[256], text[512];
			if (commands_init_joined(st->db, &j, &s, err, sizeof err) != 0) {
				fprintf(stderr, "lienket-agent app: cannot create %s: %s\n", st->db, err);
				snprintf(text, sizeof text, SAY_CANNOT_CREATE, st->db);
				answer_error(resp, 500, text);
			} else {
				fprintf(stderr, "lienket-agent app: set up %s for unit %s (hub %s), agent %s\n", st->db, j.unit,
					j.url, store_agent_id(s));
				store_close(s);
				answer_json(resp, 201, json_pack("{s:b}", "joined", 1));
				joined = 1;
			}
		}
	} else if (strncmp(path, "/api/", 5) == 0) {
		answer_error(resp, 409, SAY_NOT_SET_UP);
	} else {
		answer_error(resp, 404, "Không có trang này.");
	}
	json_decref(who);
	lkcrypto_cleanse(j.token, sizeof j.token);
	return joined;
}
