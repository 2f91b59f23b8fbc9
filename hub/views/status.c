/*
 * status.c — the sync status of every office (see status.h for the order and the
 * meaning of "as of").
 *
 * status_build reads through the store (store.h "what the province reads"), in one
 * read transaction: the hub id, the unit tree (for names and codes as of the status
 * date), every agent, every enrolled agent token that never said hello, the
 * quarantined changes, skipped entries and held changes of all agents (one scan per
 * kind, each matched to its office by agent id); then every flag, each attributed to
 * the agent that last wrote the flagged row (the row's `_writer`); flags on rows no
 * office wrote are the province's own ("loose"). A few statements whatever the number
 * of offices.
 *
 * JSON (GET /v1/status), compatible with the first version of the route:
 *   {"v":1,"hub_time":ms,"as_of":"YYYY-MM-DD HH:MM","hub_id":"…","labels_vi":{…},
 *    "flags":{"held":n,"dangling_ref":n,"closed_unit":n},
 *    "offices":[{"agent":"…"|null,"unit":"…","unit_code":…,"unit_name":…,
 *      "software":…,"acked":n,"last_sync_ms":ms,"last_sync":"YYYY-MM-DD HH:MM"|null,
 *      "waiting":n,"group":"…"|null,"group_name":"…"|null,"last_changes_ms":ms,"pending":n,"clock_offset_ms":n,"clock_off":bool,
 *      "days_silent":n,"silent_1d":bool,"silent_3d":bool,"quarantined":n,"held":n,
 *      "skipped_count":n,"flagged":n,"rank":0..5,"state":"…","state_vi":"…",
 *      "retired_to":…,"skipped":[{"seq":n,"reason":"…"}],
 *      "issues":[{"kind":"quarantine|skipped|held|flag","seq":n,"code":"…",
 *                 "table":…,"id":…,"field":…,"detail":…,"reason_vi":"…"}]}, …],
 *    "loose_flags":[issue…]}
 *   A never-connected office has "agent":null, "token" (the prefix) and "enrolled_ms".
 *
 * Invariant: every count is complete; lists stop at STATUS_MAX_ISSUES per office.
 * Owns: nothing beyond what status_build returns.
 */
#include "status.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"
#include "store.h"
#include "textout.h"
#include "unittree.h"

/* ---- Vietnam time and escaping ---- */

static void vn_tm(int64_t ms, struct tm *tm)
{
	int64_t s = ms + STATUS_VN_OFFSET_MS;
	/* floor division: instants before 1970 stay on the right day */
	time_t t = (time_t)(s >= 0 ? s / 1000 : -((-s + 999) / 1000));
	gmtime_r(&t, tm);
}

void status_vn_date(int64_t ms, char out[11])
{
	struct tm tm;
	vn_tm(ms, &tm);
	if (strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 11, "0000-00-00");
}

void status_vn_time(int64_t ms, char out[17])
{
	struct tm tm;
	vn_tm(ms, &tm);
	if (strftime(out, 17, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, 17, "0000-00-00 00:00");
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int status_vn_ms(const char *date, int hh, int mm, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-' || hh < 0 || hh > 23 ||
	    mm < 0 || mm > 59)
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (date[i] < '0' || date[i] > '9'))
			return -1;
	int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return -1;
	int64_t days = days_from_civil(y, m, d);
	*out = days * STATUS_DAY_MS + ((int64_t)hh * 60 + mm) * 60000 - STATUS_VN_OFFSET_MS;
	return 0;
}

/* ---- Vietnamese reasons ---- */

static const struct { const char *code, *vi; } quarantine_vi[] = {
	{ "bad_type", "giá trị không đúng kiểu (chữ, số hay ngày)" },
	{ "bad_enum", "giá trị không có trong danh sách được phép" },
	{ "bad_range", "số nằm ngoài khoảng cho phép" },
	{ "too_long", "chữ dài quá mức cho phép" },
	{ "bad_date", "ngày không hợp lệ" },
	{ "bad_id", "mã định danh không đúng dạng" },
	{ "required", "thiếu thông tin bắt buộc" },
	{ "out_of_scope", "bản ghi thuộc đơn vị ngoài phạm vi của văn phòng này" },
	{ "owner_changed", "đổi đơn vị sở hữu của bản ghi (không được phép)" },
	{ "key_changed", "sửa trường khóa của bản ghi (không được phép)" },
	{ "hub_only", "bảng chỉ Tỉnh đoàn được ghi" },
	{ "bad_op", "thao tác xóa không hợp lệ" },
	{ "agent_retired", "máy đã được thay thế (khôi phục) vẫn gửi dữ liệu" },
};

static const char *code_vi(const char *code)
{
	for (size_t i = 0; code && i < sizeof quarantine_vi / sizeof quarantine_vi[0]; i++)
		if (strcmp(quarantine_vi[i].code, code) == 0)
			return quarantine_vi[i].vi;
	return "lỗi không xác định";
}

static const char *table_vi(const char *table)
{
	const struct schema_table *t = table ? schema_table_find(table, SCHEMA_VERSION) : NULL;
	return t ? t->label_vi : table;
}

/* "Bị cách ly: <reason> — bảng Người (person), trường gender". malloc'd or NULL. */
static char *reason_text(const char *head, const char *reason, const char *table,
			 const char *field, const char *tail)
{
	size_t cap = 64 + strlen(head) + strlen(reason) + (table ? 2 * strlen(table) + 200 : 0) +
		     (field ? strlen(field) : 0) + (tail ? strlen(tail) : 0);
	char *s = malloc(cap);
	if (!s)
		return NULL;
	int n = snprintf(s, cap, "%s: %s", head, reason);
	if (table && n > 0 && (size_t)n < cap)
		n += snprintf(s + n, cap - (size_t)n, " — bảng %s", table_vi(table));
	if (field && *field && n > 0 && (size_t)n < cap)
		n += snprintf(s + n, cap - (size_t)n, ", trường %s", field);
	if (tail && *tail && n > 0 && (size_t)n < cap)
		snprintf(s + n, cap - (size_t)n, " (%s)", tail);
	return s;
}

/* ---- building ---- */

struct agent_ix {
	const char *agent;
	size_t office;
};

struct build {
	struct store *s;
	struct unittree *tree;
	char date[11];
	int64_t as_of;
	struct status *st;
	size_t cap;
	struct agent_ix *by_agent; /* the connected offices, sorted by agent id */
	size_t nby_agent;
	char *err;
	size_t errlen;
};

static char *dup_or_null(const char *t)
{
	return t ? strdup(t) : NULL;
}

static void issue_release(struct status_issue *i)
{
	free(i->code);
	free(i->table);
	free(i->row_id);
	free(i->field);
	free(i->detail);
	free(i->reason_vi);
}

static struct status_office *office_add(struct build *B)
{
	struct status *st = B->st;
	if (st->n == B->cap) {
		size_t nc = B->cap ? B->cap * 2 : 32;
		struct status_office *v = realloc(st->offices, nc * sizeof *v);
		if (!v)
			return NULL;
		st->offices = v;
		B->cap = nc;
	}
	struct status_office *o = &st->offices[st->n++];
	memset(o, 0, sizeof *o);
	return o;
}

/* The child of the root under which unit counts on date (its district, or the commune
 * itself where there is no district level): climbs effective parents. NULL for the
 * root itself or a unit outside the tree. */
static const char *top_unit(const struct unittree *t, const char *unit, const char *date)
{
	const char *root = unittree_root(t, date), *u = unittree_intern(t, unit);
	size_t guard = unittree_count(t);
	while (u && root && guard--) {
		const char *p = unittree_effective_parent(t, u, date);
		if (!p)
			return NULL;
		if (strcmp(p, root) == 0)
			return u;
		u = p;
	}
	return NULL;
}

static int office_unit(struct build *B, struct status_office *o)
{
	struct unittree_name nm;
	const char *top = top_unit(B->tree, o->unit, B->date);
	/* grouped by district-level units only: after a reform without districts the
	 * communes are the root's children, and each would be a group of its own */
	if (top && unittree_name_of(B->tree, top, B->date, &nm) == 0 && nm.kind &&
	    (strcmp(nm.kind, "district") == 0 || strcmp(nm.kind, "affiliated") == 0)) {
		snprintf(o->group, sizeof o->group, "%s", top);
		if (nm.name && !(o->group_name = strdup(nm.name)))
			return -1;
	}
	if (unittree_name_of(B->tree, o->unit, B->date, &nm) != 0)
		return 0;
	o->unit_name = nm.name ? strdup(nm.name) : NULL;
	o->unit_code = nm.code ? strdup(nm.code) : NULL;
	return (nm.name && !o->unit_name) || (nm.code && !o->unit_code) ? -1 : 0;
}

/* Appends an issue to o (or to the loose list when o is NULL). Takes ownership of
 * every string of *src, also on failure. */
static int issue_add(struct build *B, struct status_office *o, struct status_issue *src)
{
	struct status_issue **v = o ? &o->issues : &B->st->loose;
	size_t *n = o ? &o->nissues : &B->st->nloose;
	if (*n >= STATUS_MAX_ISSUES) {
		issue_release(src);
		return 0;
	}
	struct status_issue *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv) {
		issue_release(src);
		return -1;
	}
	*v = nv;
	nv[(*n)++] = *src;
	return 0;
}

static int agent_read(void *ctx, const struct store_status_agent *a)
{
	struct build *B = ctx;
	struct status_office *o = office_add(B);
	if (!o)
		return -1;
	snprintf(o->agent, sizeof o->agent, "%s", a->id);
	snprintf(o->unit, sizeof o->unit, "%s", a->unit_id);
	o->acked = a->acked;
	o->enrolled_ms = a->first_seen_ms;
	int64_t hello = a->last_hello_ms;
	o->last_changes_ms = a->last_changes_ms;
	o->offset_ms = a->offset_ms;
	o->pending = a->pending;
	snprintf(o->software, sizeof o->software, "%s", a->software);
	snprintf(o->retired_to, sizeof o->retired_to, "%s", a->retired_to);
	o->revoked = a->revoked;
	o->retired = o->retired_to[0] != 0 || o->revoked;
	o->last_ms = hello > o->last_changes_ms ? hello : o->last_changes_ms;
	if (o->last_changes_ms > B->as_of || o->last_ms > B->as_of) {
		/* contact after the cut-off: the last receipt before it, else first seen */
		int64_t rec = a->receipt_ms;
		if (o->last_changes_ms > B->as_of)
			o->last_changes_ms = rec;
		if (o->last_ms > B->as_of)
			o->last_ms = rec > o->enrolled_ms ? rec : o->enrolled_ms;
	}
	/* what the last hello before the cut-off said is still waiting at the office,
	 * less what arrived since (the hub keeps only the last hello) */
	o->hello_ms = hello <= B->as_of ? hello : 0;
	if (o->hello_ms && o->pending > 0)
		o->waiting = o->pending > a->since_hello ? o->pending - a->since_hello : 0;
	return office_unit(B, o);
}

static int read_agents(struct build *B)
{
	int rc = B->s->status_agents(B->s, B->as_of, agent_read, B);
	if (rc != 0 && !B->err[0])
		snprintf(B->err, B->errlen, "cannot read the agents: %s", B->s->errmsg(B->s));
	return rc == 0 ? 0 : -1;
}

/* Enrolled agent tokens, active, that never said hello: offices never connected. */
static int never_read(void *ctx, const struct store_token *t)
{
	struct build *B = ctx;
	if (t->kind != STORE_TOKEN_AGENT || t->agent_id[0] || t->revoked_ms != 0 ||
	    t->created_ms > B->as_of)
		return 0;
	struct status_office *o = office_add(B);
	if (!o)
		return -1;
	snprintf(o->token_prefix, sizeof o->token_prefix, "%s", t->prefix);
	snprintf(o->unit, sizeof o->unit, "%s", t->unit_id);
	o->enrolled_ms = t->created_ms;
	o->never = 1;
	return office_unit(B, o);
}

static int read_never(struct build *B)
{
	int rc = B->s->tokens_list(B->s, never_read, B);
	if (rc != 0 && !B->err[0])
		snprintf(B->err, B->errlen, "cannot read the tokens: %s", B->s->errmsg(B->s));
	return rc == 0 ? 0 : -1;
}

static int by_agent_cmp(const void *x, const void *y)
{
	return strcmp(((const struct agent_ix *)x)->agent, ((const struct agent_ix *)y)->agent);
}

/* Indexes the connected offices by agent id (after every office is added: the array no
 * longer moves). */
static int index_agents(struct build *B)
{
	B->by_agent = B->st->n ? malloc(B->st->n * sizeof *B->by_agent) : NULL;
	if (B->st->n && !B->by_agent)
		return -1;
	for (size_t i = 0; i < B->st->n; i++)
		if (B->st->offices[i].agent[0])
			B->by_agent[B->nby_agent++] = (struct agent_ix){ B->st->offices[i].agent, i };
	if (B->nby_agent)
		qsort(B->by_agent, B->nby_agent, sizeof *B->by_agent, by_agent_cmp);
	return 0;
}

static struct status_office *office_of_agent(struct build *B, const char *agent)
{
	if (!agent || !*agent)
		return NULL;
	struct agent_ix key = { agent, 0 };
	const struct agent_ix *hit = B->nby_agent ? bsearch(&key, B->by_agent, B->nby_agent,
							    sizeof key, by_agent_cmp) : NULL;
	return hit ? &B->st->offices[hit->office] : NULL;
}

/* Quarantined, skipped and held changes of every agent (counted, the first ones listed). */
static int issue_read(void *ctx, const struct store_issue *in)
{
	struct build *B = ctx;
	struct status_office *o = office_of_agent(B, in->agent_id);
	if (!o)
		return 0; /* an agent first seen after the status time */
	struct status_issue is = { 0 };
	is.seq = in->seq;
	is.code = dup_or_null(in->code);
	if (in->kind == STORE_ISSUE_QUARANTINE) {
		o->quarantined++;
		is.kind = STATUS_ISSUE_QUARANTINE;
		is.table = dup_or_null(in->table);
		is.row_id = dup_or_null(in->row_id);
		is.field = dup_or_null(in->field);
		is.detail = dup_or_null(in->message);
		is.at_ms = in->at_ms;
		is.reason_vi = reason_text("Bị cách ly", code_vi(is.code), is.table, is.field, NULL);
	} else if (in->kind == STORE_ISSUE_SKIPPED) {
		o->skipped++;
		is.kind = STATUS_ISSUE_SKIPPED;
		is.at_ms = in->at_ms;
		is.reason_vi = reason_text("Máy xã không gửi được bản ghi", "dữ liệu không mã hóa được",
					   NULL, NULL, is.code);
	} else {
		o->held++;
		is.kind = STATUS_ISSUE_HELD;
		is.detail = is.code;
		is.code = strdup("held");
		is.at_ms = in->at_ms;
		is.reason_vi = reason_text("Đang chờ", "đơn vị của bản ghi chưa có trên máy chủ tỉnh",
					   NULL, NULL, is.detail);
	}
	if (!is.reason_vi || !is.code) {
		issue_release(&is);
		return -1;
	}
	return issue_add(B, o, &is);
}

static int read_agent_issues(struct build *B)
{
	int rc = B->s->status_issues(B->s, B->as_of, issue_read, B);
	if (rc != 0 && !B->err[0])
		snprintf(B->err, B->errlen, "cannot read quarantined changes: %s", B->s->errmsg(B->s));
	return rc == 0 ? 0 : -1;
}

static char *flag_reason(struct build *B, const char *kind, const char *table, const char *field,
			 const char *detail, const char *suggestion)
{
	if (strcmp(kind, "dangling_ref") == 0) {
		const char *slash = detail ? strchr(detail, '/') : NULL;
		char what[80] = "";
		if (slash)
			snprintf(what, sizeof what, "%.*s", (int)(slash - detail), detail);
		return reason_text("Gắn cờ", "tham chiếu tới bản ghi máy chủ tỉnh chưa nhận", table,
				   field, what[0] ? table_vi(what) : NULL);
	}
	if (strcmp(kind, "closed_unit") == 0) {
		char tail[300] = "";
		struct unittree_name nm;
		if (suggestion && unittree_name_of(B->tree, suggestion, B->date, &nm) == 0 && nm.name)
			snprintf(tail, sizeof tail, "đơn vị kế tiếp: %s", nm.name);
		return reason_text("Gắn cờ", "đơn vị đã sáp nhập hoặc giải thể trước ngày của bản ghi",
				   table, NULL, tail);
	}
	if (strcmp(kind, "held") == 0)
		return reason_text("Gắn cờ", "chưa nhận được bản ghi gốc (lệnh thêm mới)", table, NULL,
				   NULL);
	return reason_text("Gắn cờ", kind, table, field, NULL);
}

static int flag_read(void *ctx, const struct store_flag_row *f)
{
	struct build *B = ctx;
	const char *kind = f->kind, *field = f->field;
	if (strcmp(kind, "held") == 0)
		B->st->flags_held++;
	else if (strcmp(kind, "dangling_ref") == 0)
		B->st->flags_dangling++;
	else if (strcmp(kind, "closed_unit") == 0)
		B->st->flags_closed++;
	/* a change kept aside for an unknown unit is listed from hub_held already */
	if (strcmp(kind, "held") == 0 && field && strcmp(field, "unit_id") == 0)
		return 0;
	struct status_office *o = office_of_agent(B, f->writer);
	struct status_issue is = { .kind = STATUS_ISSUE_FLAG };
	is.code = strdup(kind);
	is.table = strdup(f->table);
	is.row_id = strdup(f->row_id);
	is.field = field && *field ? strdup(field) : NULL;
	is.detail = dup_or_null(f->detail);
	is.at_ms = f->at_ms;
	is.reason_vi = flag_reason(B, kind, f->table, field, is.detail, f->suggestion);
	if (!is.code || !is.table || !is.row_id || !is.reason_vi) {
		issue_release(&is);
		return -1;
	}
	if (o)
		o->flagged++;
	return issue_add(B, o, &is);
}

static int read_flags(struct build *B)
{
	int rc = B->s->status_flags(B->s, B->as_of, flag_read, B);
	if (rc != 0 && !B->err[0])
		snprintf(B->err, B->errlen, "cannot read the flags: %s", B->s->errmsg(B->s));
	return rc == 0 ? 0 : -1;
}

static void classify(struct status_office *o, int64_t as_of)
{
	int64_t since = o->never ? o->enrolled_ms : o->last_ms;
	int64_t silent_ms = as_of - since;
	if (silent_ms < 0)
		silent_ms = 0;
	o->days_silent = silent_ms / STATUS_DAY_MS;
	o->silent_1d = !o->retired && silent_ms > STATUS_DAY_MS;
	o->silent_3d = !o->retired && silent_ms > 3 * STATUS_DAY_MS;
	o->clock_off = !o->never && (o->offset_ms > STATUS_CLOCK_WARN_MS ||
				     o->offset_ms < -STATUS_CLOCK_WARN_MS);
	int issues = o->quarantined || o->skipped || o->held || o->flagged || o->clock_off;
	if (o->revoked && !o->retired_to[0]) {
		o->rank = STATUS_RANK_RETIRED;
		o->state = "revoked";
		o->state_vi = "Mã truy cập đã thu hồi";
	} else if (o->retired) {
		o->rank = STATUS_RANK_RETIRED;
		o->state = "retired";
		o->state_vi = "Đã thay thế (khôi phục)";
	} else if (o->silent_3d) {
		o->rank = STATUS_RANK_SILENT_3D;
		o->state = o->never ? "never" : "silent";
		o->state_vi = o->never ? "Chưa kết nối lần nào — quá 3 ngày" : "Quá 3 ngày chưa liên lạc";
	} else if (o->silent_1d) {
		o->rank = STATUS_RANK_SILENT_1D;
		o->state = o->never ? "never" : "silent";
		o->state_vi = o->never ? "Chưa kết nối lần nào — quá 1 ngày" : "Quá 1 ngày chưa liên lạc";
	} else if (o->never) {
		o->rank = STATUS_RANK_NEVER;
		o->state = "never";
		o->state_vi = "Chưa kết nối lần nào";
	} else if (issues) {
		o->rank = STATUS_RANK_ISSUES;
		o->state = o->clock_off && !(o->quarantined || o->skipped || o->held || o->flagged)
				   ? "clock" : "issues";
		o->state_vi = strcmp(o->state, "clock") == 0 ? "Đồng hồ máy lệch"
							      : "Có dữ liệu cần xử lý";
	} else {
		o->rank = STATUS_RANK_OK;
		o->state = "ok";
		o->state_vi = "Đã đồng bộ";
	}
}

static int by_priority(const void *x, const void *y)
{
	const struct status_office *a = x, *b = y;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	int64_t sa = a->never ? a->enrolled_ms : a->last_ms;
	int64_t sb = b->never ? b->enrolled_ms : b->last_ms;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	int64_t ia = a->quarantined + a->skipped + a->held + a->flagged;
	int64_t ib = b->quarantined + b->skipped + b->held + b->flagged;
	if (ia != ib)
		return ia > ib ? -1 : 1;
	int c = strcmp(a->unit_name ? a->unit_name : "", b->unit_name ? b->unit_name : "");
	if (c)
		return c;
	c = strcmp(a->agent, b->agent);
	return c ? c : strcmp(a->token_prefix, b->token_prefix);
}

int status_build(struct store *s, int64_t as_of_ms, struct status **out, char *err,
		 size_t errlen)
{
	char ebuf[256] = "";
	struct build B = { .s = s, .as_of = as_of_ms, .err = err ? err : ebuf,
			   .errlen = err ? errlen : sizeof ebuf };
	int rc = -1, reading = 0;
	if (B.errlen)
		B.err[0] = '\0';
	B.st = calloc(1, sizeof *B.st);
	if (!B.st) {
		snprintf(B.err, B.errlen, "out of memory");
		goto done;
	}
	B.st->as_of_ms = as_of_ms;
	status_vn_date(as_of_ms, B.date);
	if (s->read_begin(s) != 0) {
		snprintf(B.err, B.errlen, "cannot begin a read: %s", s->errmsg(s));
		goto done;
	}
	reading = 1;
	if (store_units_tree(s, &B.tree, B.err, B.errlen) != 0)
		goto done;
	if (s->meta_get(s, "hub_id", B.st->hub_id, sizeof B.st->hub_id) < 0) {
		snprintf(B.err, B.errlen, "cannot read the hub id: %s", s->errmsg(s));
		goto done;
	}
	if (read_agents(&B) != 0 || read_never(&B) != 0 || index_agents(&B) != 0 ||
	    read_agent_issues(&B) != 0 || read_flags(&B) != 0)
		goto done;
	for (size_t i = 0; i < B.st->n; i++)
		classify(&B.st->offices[i], as_of_ms);
	if (B.st->n)
		qsort(B.st->offices, B.st->n, sizeof *B.st->offices, by_priority);
	*out = B.st;
	B.st = NULL;
	rc = 0;
done:
	if (rc != 0 && !B.err[0])
		snprintf(B.err, B.errlen, "out of memory");
	if (reading)
		s->read_end(s);
	free(B.by_agent);
	unittree_free(B.tree);
	status_free(B.st);
	return rc;
}

static void office_release(struct status_office *o)
{
	free(o->group_name);
	free(o->unit_code);
	free(o->unit_name);
	for (size_t k = 0; k < o->nissues; k++)
		issue_release(&o->issues[k]);
	free(o->issues);
}

static void loose_release(struct status *st)
{
	for (size_t k = 0; k < st->nloose; k++)
		issue_release(&st->loose[k]);
	free(st->loose);
	st->loose = NULL;
	st->nloose = 0;
}

void status_keep_subtree(struct status *st, const struct unittree *t, const char *root,
			 const char *date)
{
	size_t k = 0;
	for (size_t i = 0; i < st->n; i++) {
		if (unittree_in_subtree(t, root, st->offices[i].unit, date))
			st->offices[k++] = st->offices[i];
		else
			office_release(&st->offices[i]);
	}
	st->n = k;
	loose_release(st);
}

void status_free(struct status *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		office_release(&st->offices[i]);
	loose_release(st);
	free(st->offices);
	free(st);
}

/* ---- JSON ---- */

static const char *issue_kind(enum status_issue_kind k)
{
	switch (k) {
	case STATUS_ISSUE_QUARANTINE: return "quarantine";
	case STATUS_ISSUE_SKIPPED: return "skipped";
	case STATUS_ISSUE_HELD: return "held";
	default: return "flag";
	}
}

static void json_issue(FILE *f, const struct status_issue *is)
{
	fprintf(f, "{\"kind\":\"%s\",\"seq\":%" PRIu64 ",\"code\":", issue_kind(is->kind), is->seq);
	textout_json(f, is->code);
	fputs(",\"table\":", f);
	textout_json(f, is->table);
	fputs(",\"id\":", f);
	textout_json(f, is->row_id);
	fputs(",\"field\":", f);
	textout_json(f, is->field);
	fputs(",\"detail\":", f);
	textout_json(f, is->detail);
	fputs(",\"reason_vi\":", f);
	textout_json(f, is->reason_vi);
	fputc('}', f);
}

static const char *json_bool(int b) { return b ? "true" : "false"; }

int status_write_json(const struct status *st, FILE *f)
{
	char when[17];
	status_vn_time(st->as_of_ms, when);
	fprintf(f, "{\"v\":1,\"hub_time\":%" PRId64 ",\"as_of\":\"%s\",\"hub_id\":", st->as_of_ms, when);
	textout_json(f, st->hub_id);
	fputs(",\"labels_vi\":{\"last_sync_ms\":\"Lần đồng bộ cuối\",\"pending\":\"Bản ghi chờ gửi\","
	      "\"clock_offset_ms\":\"Lệch đồng hồ (ms)\",\"days_silent\":\"Số ngày chưa đồng bộ\","
	      "\"quarantined\":\"Bản ghi bị cách ly\",\"held\":\"Bản ghi đang chờ\","
	      "\"skipped\":\"Bản ghi không gửi được\",\"flagged\":\"Bản ghi bị gắn cờ\"}", f);
	fprintf(f, ",\"flags\":{\"held\":%" PRId64 ",\"dangling_ref\":%" PRId64 ",\"closed_unit\":%" PRId64
		   "},\"offices\":[", st->flags_held, st->flags_dangling, st->flags_closed);
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		fputs(i ? ",{\"agent\":" : "{\"agent\":", f);
		textout_json(f, o->agent[0] ? o->agent : NULL);
		fputs(",\"unit\":", f);
		textout_json(f, o->unit);
		fputs(",\"unit_code\":", f);
		textout_json(f, o->unit_code);
		fputs(",\"unit_name\":", f);
		textout_json(f, o->unit_name);
		if (o->never) {
			fputs(",\"token\":", f);
			textout_json(f, o->token_prefix);
			fprintf(f, ",\"enrolled_ms\":%" PRId64, o->enrolled_ms);
		} else {
			fputs(",\"software\":", f);
			textout_json(f, o->software);
		}
		char last[17];
		status_vn_time(o->last_ms, last);
		fprintf(f, ",\"acked\":%" PRIu64 ",\"last_sync_ms\":%" PRId64 ",\"last_sync\":", o->acked,
			o->last_ms);
		textout_json(f, o->last_ms ? last : NULL);
		fprintf(f, ",\"waiting\":%" PRId64 ",\"group\":", o->waiting);
		textout_json(f, o->group[0] ? o->group : NULL);
		fputs(",\"group_name\":", f);
		textout_json(f, o->group_name);
		fprintf(f, ",\"last_changes_ms\":%" PRId64 ",\"pending\":%" PRId64
			   ",\"clock_offset_ms\":%" PRId64 ",\"clock_off\":%s,\"days_silent\":%" PRId64
			   ",\"silent_1d\":%s,\"silent_3d\":%s,\"quarantined\":%" PRId64 ",\"held\":%" PRId64
			   ",\"skipped_count\":%" PRId64 ",\"flagged\":%" PRId64 ",\"rank\":%d,\"state\":",
			o->last_changes_ms, o->pending, o->offset_ms, json_bool(o->clock_off), o->days_silent,
			json_bool(o->silent_1d), json_bool(o->silent_3d), o->quarantined, o->held,
			o->skipped, o->flagged, (int)o->rank);
		textout_json(f, o->state);
		fputs(",\"state_vi\":", f);
		textout_json(f, o->state_vi);
		fputs(",\"retired_to\":", f);
		textout_json(f, o->retired_to[0] ? o->retired_to : NULL);
		fputs(",\"skipped\":[", f);
		int first = 1;
		for (size_t k = 0; k < o->nissues; k++) {
			if (o->issues[k].kind != STATUS_ISSUE_SKIPPED)
				continue;
			fprintf(f, "%s{\"seq\":%" PRIu64 ",\"reason\":", first ? "" : ",", o->issues[k].seq);
			textout_json(f, o->issues[k].code);
			fputc('}', f);
			first = 0;
		}
		fputs("],\"issues\":[", f);
		for (size_t k = 0; k < o->nissues; k++) {
			if (k)
				fputc(',', f);
			json_issue(f, &o->issues[k]);
		}
		fputs("]}", f);
	}
	fputs("],\"loose_flags\":[", f);
	for (size_t k = 0; k < st->nloose; k++) {
		if (k)
			fputc(',', f);
		json_issue(f, &st->loose[k]);
	}
	fputs("]}", f);
	return ferror(f) ? -1 : 0;
}

/* ---- text ---- */

static void office_name(const struct status_office *o, char *buf, size_t n)
{
	snprintf(buf, n, "%s", o->unit_name ? o->unit_name : o->unit);
}

static void offset_text(const struct status_office *o, char *buf, size_t n)
{
	if (o->never) {
		snprintf(buf, n, "—");
		return;
	}
	/* offset = hub − laptop: negative is a laptop ahead of the hub ("nhanh") */
	int64_t a = o->offset_ms < 0 ? -o->offset_ms : o->offset_ms;
	const char *how = o->offset_ms < 0 ? "nhanh" : "chậm";
	if (a < 60000)
		snprintf(buf, n, "đúng giờ");
	else if (a < 3600000)
		snprintf(buf, n, "%s %" PRId64 " phút", how, a / 60000);
	else if (a < STATUS_DAY_MS)
		snprintf(buf, n, "%s %" PRId64 " giờ %" PRId64 " phút", how, a / 3600000,
			 (a % 3600000) / 60000);
	else
		snprintf(buf, n, "%s %" PRId64 " ngày %" PRId64 " giờ", how, a / STATUS_DAY_MS,
			 (a % STATUS_DAY_MS) / 3600000);
}

int status_write_text(const struct status *st, FILE *f)
{
	static const char *const head[] = { "#", "Đơn vị", "Mã", "Tình trạng", "Liên lạc cuối",
					    "Số ngày", "Chờ gửi", "Lệch giờ máy", "Cách ly",
					    "Chờ/Bỏ qua", "Gắn cờ" };
	static const size_t width[] = { 3, 26, 6, 34, 16, 7, 7, 14, 7, 10, 6 };
	char when[17];
	status_vn_time(st->as_of_ms, when);
	fprintf(f, "TÌNH TRẠNG ĐỒNG BỘ — lúc %s (giờ Việt Nam)\n", when);
	fprintf(f, "Văn phòng: %zu. Cờ trên toàn tỉnh: %" PRId64 " đang chờ, %" PRId64
		   " tham chiếu thiếu, %" PRId64 " đơn vị đã đóng.\n\n",
		st->n, st->flags_held, st->flags_dangling, st->flags_closed);
	for (size_t c = 0; c < sizeof head / sizeof head[0]; c++) {
		textout_term_cell(f, head[c], width[c], c == 0 || c >= 5);
		fputs(c + 1 < sizeof head / sizeof head[0] ? "  " : "", f);
	}
	fputc('\n', f);
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		char cells[11][160];
		snprintf(cells[0], sizeof cells[0], "%zu", i + 1);
		office_name(o, cells[1], sizeof cells[1]);
		snprintf(cells[2], sizeof cells[2], "%s", o->unit_code ? o->unit_code : "—");
		snprintf(cells[3], sizeof cells[3], "%s", o->state_vi);
		if (o->last_ms)
			status_vn_time(o->last_ms, cells[4]);
		else
			snprintf(cells[4], sizeof cells[4], "chưa bao giờ");
		snprintf(cells[5], sizeof cells[5], "%" PRId64, o->days_silent);
		snprintf(cells[6], sizeof cells[6], "%" PRId64, o->pending);
		offset_text(o, cells[7], sizeof cells[7]);
		snprintf(cells[8], sizeof cells[8], "%" PRId64, o->quarantined);
		snprintf(cells[9], sizeof cells[9], "%" PRId64 "/%" PRId64, o->held, o->skipped);
		snprintf(cells[10], sizeof cells[10], "%" PRId64, o->flagged);
		for (size_t c = 0; c < 11; c++) {
			textout_term_cell(f, cells[c], width[c], c == 0 || c >= 5);
			fputs(c + 1 < 11 ? "  " : "", f);
		}
		fputc('\n', f);
	}
	int any = 0;
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		if (!o->nissues)
			continue;
		if (!any)
			fputs("\nCHI TIẾT CẦN XỬ LÝ\n", f);
		any = 1;
		char name[160];
		office_name(o, name, sizeof name);
		fputc('\n', f);
		textout_term(f, name);
		fprintf(f, "%s%s%s:\n", o->agent[0] ? " (máy " : "", o->agent, o->agent[0] ? ")" : "");
		for (size_t k = 0; k < o->nissues; k++) {
			const struct status_issue *is = &o->issues[k];
			if (is->seq)
				fprintf(f, "  - [#%" PRIu64 "] ", is->seq);
			else
				fputs("  - ", f);
			textout_term(f, is->reason_vi);
			fputc('\n', f);
		}
		int64_t total = o->quarantined + o->skipped + o->held + o->flagged;
		if ((int64_t)o->nissues < total)
			fprintf(f, "  … và %" PRId64 " mục khác\n", total - (int64_t)o->nissues);
	}
	if (st->nloose) {
		fputs("\nCờ trên dữ liệu do tỉnh ghi:\n", f);
		for (size_t k = 0; k < st->nloose; k++) {
			fputs("  - ", f);
			textout_term(f, st->loose[k].reason_vi);
			fputc('\n', f);
		}
	}
	return ferror(f) ? -1 : 0;
}

/* ---- CSV ---- */

int status_write_csv(const struct status *st, FILE *f)
{
	fputs("\xEF\xBB\xBF", f);
	fputs("STT,Đơn vị,Mã đơn vị,Mã máy,Tình trạng,Liên lạc cuối (giờ Việt Nam),Số ngày chưa liên lạc,"
	      "Quá 1 ngày,Quá 3 ngày,Bản ghi chờ gửi,Lệch đồng hồ (giây),Bị cách ly,Đang chờ,"
	      "Không gửi được,Gắn cờ,Chi tiết\r\n", f);
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		char last[17] = "";
		if (o->last_ms)
			status_vn_time(o->last_ms, last);
		fprintf(f, "%zu,", i + 1);
		textout_csv(f, o->unit_name ? o->unit_name : o->unit);
		fputc(',', f);
		textout_csv(f, o->unit_code);
		fputc(',', f);
		textout_csv(f, o->agent);
		fputc(',', f);
		textout_csv(f, o->state_vi);
		fprintf(f, ",%s,%" PRId64 ",%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			   ",%" PRId64 ",",
			last, o->days_silent, o->silent_1d ? "có" : "không", o->silent_3d ? "có" : "không",
			o->pending, o->never ? 0 : o->offset_ms / 1000, o->quarantined, o->held,
			o->skipped, o->flagged);
		size_t len = 1;
		for (size_t k = 0; k < o->nissues; k++)
			len += strlen(o->issues[k].reason_vi) + 2;
		char *all = malloc(len);
		if (!all)
			return -1;
		size_t used = 0;
		all[0] = '\0';
		for (size_t k = 0; k < o->nissues; k++) {
			/* Bounded appends: len counted each reason plus "; " above. */
			int w = snprintf(all + used, len - used, "%s%s", k ? "; " : "",
					 o->issues[k].reason_vi);
			if (w < 0 || (size_t)w >= len - used)
				break;
			used += (size_t)w;
		}
		textout_csv(f, all);
		free(all);
		fputs("\r\n", f);
	}
	return ferror(f) ? -1 : 0;
}

/* ---- HTML ---- */

static const char *rank_class(enum status_rank r)
{
	static const char *const c[] = { "s3", "s1", "nv", "is", "ok", "rt" };
	return (size_t)r < sizeof c / sizeof c[0] ? c[r] : "ok";
}

/* "14:05 07/12/2026": how a leader reads a time (Vietnam). */
static void human_time(int64_t ms, char out[20])
{
	char t[17];
	status_vn_time(ms, t);
	snprintf(out, 20, "%.5s %.2s/%.2s/%.4s", t + 11, t + 8, t + 5, t);
}

int status_needs_call(const struct status_office *o)
{
	return o->rank < STATUS_RANK_ISSUES;
}

/* One problem and what to do about it. */
static void problem(FILE *f, const char *what, const char *todo)
{
	fputs("<li><span class=\"lk-what\">", f);
	textout_html(f, what);
	fputs("</span> <span class=\"lk-do\">Việc cần làm: ", f);
	textout_html(f, todo);
	fputs("</span></li>", f);
}

size_t status_problems_html(const struct status_office *o, FILE *f)
{
	char buf[400], when[20], off[64];
	size_t n = 0;
	if (o->retired)
		return 0;
	fputs("<ul class=\"lk-probs\">", f);
	if (o->never) {
		human_time(o->enrolled_ms, when);
		snprintf(buf, sizeof buf, "Chưa kết nối lần nào (mã cấp lúc %s).", when);
		problem(f, buf, "gọi văn phòng cài Liên Kết trên máy bằng mã đã cấp và đồng bộ lần đầu.");
		n++;
	} else if (o->silent_1d) {
		human_time(o->last_ms, when);
		snprintf(buf, sizeof buf, "%" PRId64 " ngày chưa liên lạc (lần cuối %s).", o->days_silent,
			 when);
		problem(f, buf, "gọi văn phòng: bật máy, kiểm tra mạng rồi đồng bộ.");
		n++;
	}
	if (o->waiting > 0) {
		human_time(o->hello_ms, when);
		snprintf(buf, sizeof buf, "Còn %" PRId64 " thay đổi ở máy xã chưa gửi lên tỉnh (theo lần "
					  "liên lạc lúc %s).", o->waiting, when);
		problem(f, buf, "nhắc văn phòng đồng bộ lại khi có mạng.");
		n++;
	}
	if (o->clock_off) {
		offset_text(o, off, sizeof off);
		snprintf(buf, sizeof buf, "Đồng hồ máy %s.", off);
		problem(f, buf, "hướng dẫn văn phòng chỉnh ngày giờ của máy cho đúng.");
		n++;
	}
	if (o->quarantined) {
		snprintf(buf, sizeof buf, "%" PRId64 " bản ghi bị từ chối (không hợp lệ).", o->quarantined);
		problem(f, buf, "văn phòng xem lý do bằng lệnh «lienket-agent status», sửa rồi đồng bộ lại.");
		n++;
	}
	if (o->held) {
		snprintf(buf, sizeof buf, "%" PRId64 " thay đổi đang chờ: chi đoàn của chúng chưa có trên "
					  "máy chủ tỉnh.", o->held);
		problem(f, buf, "văn phòng đã tạo chi đoàn đó cần đồng bộ; quá 1 ngày thì gọi văn phòng đó.");
		n++;
	}
	if (o->skipped) {
		snprintf(buf, sizeof buf, "%" PRId64 " bản ghi máy xã không gửi được.", o->skipped);
		problem(f, buf, "văn phòng rút gọn nội dung quá dài của bản ghi rồi đồng bộ lại; "
				"không được thì báo quản trị tỉnh.");
		n++;
	}
	if (o->flagged) {
		snprintf(buf, sizeof buf, "%" PRId64 " bản ghi đã nhận nhưng cần xem lại.", o->flagged);
		problem(f, buf, "tỉnh xem chi tiết bên dưới và sửa nếu cần.");
		n++;
	}
	if (o->nissues) {
		fputs("<li><details><summary>Chi tiết</summary><ul>", f);
		for (size_t k = 0; k < o->nissues; k++) {
			fputs("<li>", f);
			textout_html(f, o->issues[k].reason_vi);
			fputs("</li>", f);
		}
		fputs("</ul></details></li>", f);
	}
	fputs("</ul>", f);
	return n;
}

static void office_label_html(FILE *f, const struct status_office *o)
{
	textout_html(f, o->unit_name ? o->unit_name : o->unit);
	if (o->unit_code) {
		fputs(" <small>(", f);
		textout_html(f, o->unit_code);
		fputs(")</small>", f);
	}
}

static void office_row(FILE *f, const struct status_office *o)
{
	char last[20] = "chưa bao giờ", off[64];
	if (o->last_ms)
		human_time(o->last_ms, last);
	offset_text(o, off, sizeof off);
	fprintf(f, "<tr class=\"%s\" data-unit=\"", rank_class(o->rank));
	textout_html(f, o->unit);
	fputs("\"><td data-label=\"Văn phòng\">", f);
	office_label_html(f, o);
	fputs("</td><td data-label=\"Tình trạng\" class=\"lk-badge\">", f);
	textout_html(f, o->state_vi);
	fputs("</td><td data-label=\"Liên lạc lần cuối\">", f);
	textout_html(f, last);
	fprintf(f, "</td><td data-label=\"Số ngày chưa liên lạc\" class=\"n\">%" PRId64
		   "</td><td data-label=\"Thay đổi chưa gửi\" class=\"n\">%" PRId64
		   "</td><td data-label=\"Giờ trên máy\">",
		o->days_silent, o->waiting);
	textout_html(f, off);
	fputs("</td><td data-label=\"Vấn đề và việc cần làm\">", f);
	if (!status_problems_html(o, f) && !o->nissues)
		fputs(o->retired ? "Không cần liên hệ." : "Không có.", f);
	fputs("</td></tr>", f);
}

/* The groups (district-level units) in order of first appearance, i.e. the group
 * holding the most urgent office first; "" (no district) last. */
static size_t group_list(const struct status *st, const char **out)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < st->n; i++) {
			const char *g = st->offices[i].group;
			if ((pass == 0) != (g[0] != 0))
				continue;
			size_t k = 0;
			while (k < n && strcmp(out[k], g) != 0)
				k++;
			if (k == n)
				out[n++] = g;
		}
	return n;
}

#define STATUS_CSS                                                                          \
	".lk-status table{border-collapse:collapse;width:100%;font-size:14px}"             \
	".lk-status th,.lk-status td{border:1px solid #ccc;padding:4px 6px;text-align:left;" \
	"vertical-align:top}.lk-status td.n{text-align:right}"                                \
	".lk-status tr.s3 td,.lk-status li.s3{background:#fde0dc}"                           \
	".lk-status tr.s1 td,.lk-status li.s1{background:#ffe9cc}"                           \
	".lk-status tr.nv td,.lk-status li.nv{background:#fde0dc}"                           \
	".lk-status tr.is td,.lk-status li.is{background:#fff6cc}"                           \
	".lk-status tr.rt td{color:#666}.lk-status ul{margin:2px 0;padding-left:18px}"      \
	".lk-status .lk-badge{font-weight:bold}.lk-status .lk-do{color:#0d47a1}"           \
	".lk-status ol.lk-calls{padding-left:0;list-style:none}"                             \
	".lk-status ol.lk-calls>li{border:1px solid #ccc;border-radius:6px;padding:6px 8px;" \
	"margin:6px 0}"                                                                      \
	".lk-status details.lk-group{margin:6px 0}.lk-status summary{cursor:pointer}"       \
	".lk-status .lk-chip{display:inline-block;border-radius:10px;padding:0 8px;"        \
	"margin:2px;font-weight:bold}"                                                       \
	".lk-chip.bad{background:#fde0dc}.lk-chip.att{background:#fff6cc}"                   \
	".lk-chip.good{background:#dcefdc}"                                                  \
	"@media screen and (max-width:720px){.lk-status table,.lk-status tbody,.lk-status tr,"          \
	".lk-status td{display:block;width:auto}.lk-status thead{display:none}"             \
	".lk-status tr{border:1px solid #ccc;border-radius:6px;margin:6px 0}"                \
	".lk-status td{border:0;padding:2px 8px}.lk-status td.n{text-align:left}"           \
	".lk-status td[data-label]::before{content:attr(data-label) \": \";color:#555}}"   \
	"@media print{.lk-status details::details-content{content-visibility:visible;"       \
	"display:block}.lk-status tr{break-inside:avoid}}"

int status_write_html(const struct status *st, FILE *f)
{
	char when[20];
	size_t calls = 0, remind = 0, fine = 0;
	human_time(st->as_of_ms, when);
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		if (status_needs_call(o))
			calls++;
		else if (o->rank == STATUS_RANK_ISSUES || (o->waiting > 0 && !o->retired))
			remind++;
		else if (!o->retired)
			fine++;
	}
	fputs("<section class=\"lk-status\"><style>" STATUS_CSS "</style>", f);
	fputs("<h2>Tình trạng đồng bộ</h2><p>Lúc ", f);
	textout_html(f, when);
	fprintf(f, " (giờ Việt Nam): <b data-status=\"offices\">%zu</b> văn phòng — "
		   "<span class=\"lk-chip bad\">%zu cần gọi điện</span>"
		   "<span class=\"lk-chip att\">%zu cần nhắc hoặc xử lý</span>"
		   "<span class=\"lk-chip good\">%zu ổn</span></p>",
		st->n, calls, remind, fine);
	fputs("<h3>Cần gọi điện trước</h3>", f);
	if (!calls)
		fputs("<p>Không có văn phòng nào cần gọi.</p>", f);
	else
		fputs("<ol class=\"lk-calls\">", f);
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		if (!status_needs_call(o))
			continue;
		fprintf(f, "<li class=\"%s\" data-unit=\"", rank_class(o->rank));
		textout_html(f, o->unit);
		fputs("\"><b>", f);
		office_label_html(f, o);
		fputs("</b>", f);
		if (o->group_name) {
			fputs(" — ", f);
			textout_html(f, o->group_name);
		}
		fputs(": <span class=\"lk-badge\">", f);
		textout_html(f, o->state_vi);
		fputs("</span>", f);
		status_problems_html(o, f);
		fputs("</li>", f);
	}
	if (calls)
		fputs("</ol>", f);
	const char **groups = st->n ? malloc(st->n * sizeof *groups) : NULL;
	if (st->n && !groups)
		return -1;
	size_t ng = group_list(st, groups);
	fputs("<h3>Theo huyện</h3>", f);
	for (size_t g = 0; g < ng; g++) {
		size_t count = 0, gcalls = 0;
		const char *gname = NULL;
		for (size_t i = 0; i < st->n; i++)
			if (strcmp(st->offices[i].group, groups[g]) == 0) {
				count++;
				gcalls += (size_t)status_needs_call(&st->offices[i]);
				gname = st->offices[i].group_name;
			}
		/* groups with an office to call open; the others folded (a phone scrolls less) */
		fprintf(f, "<details class=\"lk-group\"%s data-group=\"", gcalls ? " open" : "");
		textout_html(f, groups[g]);
		fputs("\"><summary><b>", f);
		textout_html(f, groups[g][0] && gname ? gname : "Trực thuộc tỉnh");
		fprintf(f, "</b> — %zu văn phòng%s", count, gcalls ? ", " : "");
		if (gcalls)
			fprintf(f, "<span class=\"lk-chip bad\">%zu cần gọi</span>", gcalls);
		fputs("</summary><table><thead><tr><th>Văn phòng</th><th>Tình trạng</th>"
		      "<th>Liên lạc lần cuối</th><th>Số ngày chưa liên lạc</th><th>Thay đổi chưa gửi</th>"
		      "<th>Giờ trên máy</th><th>Vấn đề và việc cần làm</th></tr></thead><tbody>", f);
		for (size_t i = 0; i < st->n; i++)
			if (strcmp(st->offices[i].group, groups[g]) == 0)
				office_row(f, &st->offices[i]);
		fputs("</tbody></table></details>", f);
	}
	free(groups);
	fprintf(f, "<p>Cờ trên toàn tỉnh: %" PRId64 " thay đổi đang chờ đơn vị, %" PRId64
		   " tham chiếu thiếu, %" PRId64 " bản ghi của đơn vị đã đóng.</p>",
		st->flags_held, st->flags_dangling, st->flags_closed);
	if (st->nloose) {
		fputs("<details><summary>Cờ trên dữ liệu do tỉnh ghi</summary><ul>", f);
		for (size_t k = 0; k < st->nloose; k++) {
			fputs("<li>", f);
			textout_html(f, st->loose[k].reason_vi);
			fputs("</li>", f);
		}
		fputs("</ul></details>", f);
	}
	fputs("</section>", f);
	return ferror(f) ? -1 : 0;
}
