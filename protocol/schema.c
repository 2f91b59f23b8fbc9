/*
 * schema.c — the declaration of every synced table (see schema.h).
 *
 * This is the single place a table, column, enumeration or limit is declared. The
 * agent's DDL and triggers, the hub's tables, validation and the wire whitelist are
 * all generated from it. Adding a column: append it with `since` = the new
 * SCHEMA_VERSION; never remove or reorder (retire enumeration values instead).
 */
#include "schema.h"

#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Columns every table starts with. */
#define COL_ID { "id", SCHEMA_REF, SCHEMA_ID | SCHEMA_REQUIRED, 0, 0, 0, NULL, NULL, "Mã", 1 }
#define COL_OWNER { "unit_id", SCHEMA_REF, SCHEMA_OWNER | SCHEMA_REQUIRED, 0, 0, 0, NULL, "unit", "Đơn vị", 1 }
#define COL_OWNER_KEY { "unit_id", SCHEMA_REF, SCHEMA_OWNER | SCHEMA_REQUIRED | SCHEMA_KEY, 0, 0, 0, NULL, "unit", "Đơn vị", 1 }

#define TEXT(n, flags, max, label) { n, SCHEMA_TEXT, flags, max, 0, 0, NULL, NULL, label, 1 }
#define INT(n, flags, lo, hi, label) { n, SCHEMA_INT, flags, 0, lo, hi, NULL, NULL, label, 1 }
#define BOOL(n, flags, label) { n, SCHEMA_BOOL, flags, 0, 0, 1, NULL, NULL, label, 1 }
#define DATE(n, flags, label) { n, SCHEMA_DATE, flags, 10, 0, 0, NULL, NULL, label, 1 }
#define ENUM(n, flags, values, label) { n, SCHEMA_ENUM, flags, 0, 0, 0, values, NULL, label, 1 }
#define REF(n, flags, table, label) { n, SCHEMA_REF, flags, 36, 0, 0, NULL, table, label, 1 }

#define REQ SCHEMA_REQUIRED
#define KEY (SCHEMA_KEY | SCHEMA_REQUIRED)

static const struct schema_enum_value unit_kinds[] = {
	{ "province", "Tỉnh", 1, 1, 0 },
	{ "district", "Huyện, thị xã, thành phố", 2, 1, 0 },
	{ "commune", "Xã, phường, thị trấn", 3, 1, 0 },
	{ "branch", "Chi đoàn thôn, khu phố", 4, 1, 0 },
	{ "affiliated", "Đoàn trực thuộc", 2, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value event_kinds[] = {
	{ "open", "Thành lập", 0, 1, 0 },
	{ "rename", "Đổi tên", 0, 1, 0 },
	{ "merge", "Sáp nhập", 0, 1, 0 },
	{ "split", "Chia tách", 0, 1, 0 },
	{ "move", "Chuyển đơn vị cấp trên", 0, 1, 0 },
	{ "close", "Giải thể", 0, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value genders[] = {
	{ "nam", "Nam", 0, 1, 0 },
	{ "nu", "Nữ", 0, 1, 0 },
	{ "khac", "Khác", 0, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value roles[] = {
	{ "branch_secretary", "Bí thư chi đoàn", 0, 1, 0 },
	{ "branch_deputy", "Phó bí thư chi đoàn", 0, 1, 0 },
	{ "commune_secretary", "Bí thư đoàn xã", 0, 1, 0 },
	{ "district_standing", "Ủy viên ban thường vụ huyện đoàn", 0, 1, 0 },
	{ "member", "Đoàn viên", 0, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value support_kinds[] = {
	{ "loan", "Vay vốn", 0, 1, 0 },
	{ "training", "Tập huấn khuyến nông, khuyến ngư", 0, 1, 0 },
	{ "seminar", "Hội thảo", 0, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value party_steps[] = {
	{ "introduced", "Giới thiệu cho Đảng xem xét kết nạp", 1, 1, 0 },
	{ "admitted", "Được kết nạp Đảng", 2, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value meeting_kinds[] = {
	{ "giao_ban", "Giao ban", 0, 1, 0 },
	{ "giao_nhiem_vu", "Giao nhiệm vụ", 0, 1, 0 },
	{ "branch", "Sinh hoạt chi đoàn", 0, 1, 0 },
	{ "joint", "Sinh hoạt liên chi đoàn", 0, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_enum_value volunteer_kinds[] = {
	{ "vaccination", "Hỗ trợ tiêm vắc xin", 0, 1, 0 },
	{ "testing", "Xét nghiệm sàng lọc cộng đồng", 0, 1, 0 },
	{ "quarantine", "Phục vụ khu cách ly tập trung", 0, 1, 0 },
	{ "green_shipper", "Shipper xanh đi chợ giúp dân", 0, 1, 0 },
	{ "covid_team", "Tổ Covid cộng đồng", 0, 1, 0 },
	{ "other", "Hoạt động tình nguyện khác", 0, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

/* Ratings compare by rank (higher is better), so a renamed scale still compares. */
static const struct schema_enum_value ratings[] = {
	{ "xuat_sac", "Hoàn thành xuất sắc nhiệm vụ", 4, 1, 0 },
	{ "tot", "Hoàn thành tốt nhiệm vụ", 3, 1, 0 },
	{ "hoan_thanh", "Hoàn thành nhiệm vụ", 2, 1, 0 },
	{ "khong_hoan_thanh", "Không hoàn thành nhiệm vụ", 1, 1, 0 },
	{ NULL, NULL, 0, 0, 0 },
};

static const struct schema_column unit_cols[] = {
	COL_ID, COL_OWNER,
	DATE("opened_on", REQ, "Ngày thành lập"),
};
static const struct schema_column unit_name_cols[] = {
	COL_ID, COL_OWNER,
	REF("of_unit", REQ, "unit", "Đơn vị"),
	TEXT("name", REQ, 200, "Tên"),
	TEXT("code", 0, 20, "Mã hành chính"),
	ENUM("kind", REQ, unit_kinds, "Loại đơn vị"),
	DATE("valid_from", REQ, "Từ ngày"),
	DATE("valid_to", 0, "Đến ngày"),
};
static const struct schema_column unit_parent_cols[] = {
	COL_ID, COL_OWNER,
	REF("of_unit", REQ, "unit", "Đơn vị"),
	REF("parent_id", REQ, "unit", "Đơn vị cấp trên"),
	DATE("valid_from", REQ, "Từ ngày"),
	DATE("valid_to", 0, "Đến ngày"),
};
static const struct schema_column unit_event_cols[] = {
	COL_ID, COL_OWNER,
	ENUM("kind", REQ, event_kinds, "Loại sự kiện"),
	REF("of_unit", REQ, "unit", "Đơn vị"),
	REF("other_unit", 0, "unit", "Đơn vị liên quan"),
	DATE("effective_on", REQ, "Ngày hiệu lực"),
	TEXT("note", 0, 500, "Ghi chú"),
};
static const struct schema_column pilot_cols[] = {
	COL_ID, COL_OWNER,
	REF("branch_id", REQ, "unit", "Chi đoàn"),
	DATE("valid_from", REQ, "Từ ngày"),
	DATE("valid_until", 0, "Đến ngày"),
};
static const struct schema_column person_cols[] = {
	COL_ID, COL_OWNER,
	TEXT("full_name", REQ, 120, "Họ và tên"),
	INT("birth_year", 0, 1900, 2100, "Năm sinh"),
	ENUM("gender", 0, genders, "Giới tính"),
	TEXT("phone", 0, 20, "Điện thoại"),
};
static const struct schema_column role_cols[] = {
	COL_ID, COL_OWNER,
	REF("person_id", REQ, "person", "Người"),
	ENUM("role", REQ, roles, "Chức vụ"),
	REF("of_unit", REQ, "unit", "Tại đơn vị"),
	DATE("term_from", REQ, "Từ ngày"),
	DATE("term_until", 0, "Đến ngày"),
};
static const struct schema_column insurance_cols[] = {
	COL_ID, COL_OWNER,
	REF("person_id", REQ, "person", "Người"),
	TEXT("card_no", 0, 30, "Số thẻ"),
	DATE("valid_from", REQ, "Có giá trị từ"),
	DATE("valid_until", 0, "Có giá trị đến"),
};
static const struct schema_column support_cols[] = {
	COL_ID, COL_OWNER,
	REF("person_id", REQ, "person", "Người"),
	ENUM("kind", REQ, support_kinds, "Hình thức"),
	DATE("on_date", REQ, "Ngày"),
	INT("amount_vnd", 0, 0, 100000000000LL, "Số tiền (đồng)"),
	TEXT("note", 0, 500, "Ghi chú"),
};
static const struct schema_column party_cols[] = {
	COL_ID, COL_OWNER_KEY,
	REF("person_id", KEY, "person", "Người"),
	ENUM("step", KEY, party_steps, "Bước"),
	DATE("on_date", REQ, "Ngày"),
};
static const struct schema_column meeting_cols[] = {
	COL_ID, COL_OWNER,
	ENUM("kind", REQ, meeting_kinds, "Loại cuộc họp"),
	DATE("held_on", REQ, "Ngày tổ chức"),
	REF("host_branch_id", 0, "unit", "Chi đoàn đăng cai"),
	BOOL("commune_secretary_attended", 0, "Bí thư đoàn xã dự"),
	INT("attendees", 0, 0, 100000, "Số người dự"),
	TEXT("concerns", 0, 2000, "Tâm tư, kiến nghị"),
	TEXT("follow_up", 0, 2000, "Kết quả giải quyết"),
};
static const struct schema_column meeting_branch_cols[] = {
	COL_ID, COL_OWNER_KEY,
	REF("meeting_id", KEY, "meeting", "Cuộc họp"),
	REF("branch_id", KEY, "unit", "Chi đoàn"),
};
static const struct schema_column task_cols[] = {
	COL_ID, COL_OWNER,
	REF("meeting_id", 0, "meeting", "Tại cuộc họp"),
	REF("assignee_person_id", 0, "person", "Người được giao"),
	REF("assignee_unit_id", 0, "unit", "Đơn vị được giao"),
	TEXT("title", REQ, 300, "Nội dung nhiệm vụ"),
	DATE("due_on", 0, "Hạn"),
	DATE("done_on", 0, "Ngày hoàn thành"),
};
static const struct schema_column volunteer_cols[] = {
	COL_ID, COL_OWNER,
	ENUM("kind", REQ, volunteer_kinds, "Loại hoạt động"),
	TEXT("title", 0, 300, "Tên hoạt động"),
	DATE("started_on", REQ, "Bắt đầu"),
	DATE("ended_on", 0, "Kết thúc"),
	INT("teams", 0, 0, 10000, "Số đội hình"),
	INT("participations", 0, 0, 1000000, "Số lượt tham gia"),
};
static const struct schema_column volunteer_branch_cols[] = {
	COL_ID, COL_OWNER_KEY,
	REF("volunteer_id", KEY, "volunteer", "Hoạt động"),
	REF("branch_id", KEY, "unit", "Chi đoàn"),
};
static const struct schema_column year_record_cols[] = {
	COL_ID, COL_OWNER_KEY,
	INT("year", KEY, 2000, 2100, "Năm"),
	ENUM("rating", 0, ratings, "Xếp loại"),
	INT("youth_gathered", 0, 0, 1000000, "Thanh niên được tập hợp"),
	INT("youth_in_area", 0, 0, 1000000, "Thanh niên trên địa bàn"),
};

#define TABLE(n, label, cols, hub_only, pull) { n, label, cols, ARRAY_LEN(cols), hub_only, pull, 1 }

const struct schema_table schema_tables[] = {
	TABLE("unit", "Đơn vị", unit_cols, 0, SCHEMA_PULL_ALL),
	TABLE("unit_name", "Tên đơn vị", unit_name_cols, 0, SCHEMA_PULL_ALL),
	TABLE("unit_parent", "Đơn vị cấp trên", unit_parent_cols, 0, SCHEMA_PULL_ALL),
	TABLE("unit_event", "Sự kiện sắp xếp đơn vị", unit_event_cols, 1, SCHEMA_PULL_ALL),
	TABLE("pilot", "Chi đoàn chỉ đạo điểm", pilot_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("person", "Người", person_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("role", "Chức vụ", role_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("insurance_card", "Thẻ bảo hiểm y tế", insurance_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("support", "Hỗ trợ bí thư chi đoàn", support_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("party", "Giới thiệu, kết nạp Đảng", party_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("meeting", "Cuộc họp, sinh hoạt", meeting_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("meeting_branch", "Chi đoàn tham gia cuộc họp", meeting_branch_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("task", "Nhiệm vụ được giao", task_cols, 0, SCHEMA_PULL_ASSIGNEE),
	TABLE("volunteer", "Hoạt động tình nguyện", volunteer_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("volunteer_branch", "Chi đoàn tham gia tình nguyện", volunteer_branch_cols, 0, SCHEMA_PULL_SCOPE),
	TABLE("year_record", "Đánh giá cuối năm", year_record_cols, 0, SCHEMA_PULL_SCOPE),
};
const size_t schema_ntables = ARRAY_LEN(schema_tables);

const struct schema_table *schema_table_find(const char *name, int version)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < schema_ntables; i++)
		if (schema_tables[i].since <= version && strcmp(schema_tables[i].name, name) == 0)
			return &schema_tables[i];
	return NULL;
}

const struct schema_column *schema_column_find(const struct schema_table *t, const char *name,
					       int version)
{
	if (!t || !name)
		return NULL;
	for (size_t i = 0; i < t->ncolumns; i++)
		if (t->columns[i].since <= version && strcmp(t->columns[i].name, name) == 0)
			return &t->columns[i];
	return NULL;
}

size_t schema_column_index(const struct schema_table *t, const struct schema_column *c)
{
	return (size_t)(c - t->columns);
}

const struct schema_enum_value *schema_enum_find(const struct schema_column *c, const char *code)
{
	if (!c || c->type != SCHEMA_ENUM || !code)
		return NULL;
	for (const struct schema_enum_value *v = c->enum_values; v->code; v++)
		if (strcmp(v->code, code) == 0)
			return v;
	return NULL;
}

int schema_table_has_key(const struct schema_table *t)
{
	for (size_t i = 0; i < t->ncolumns; i++)
		if (t->columns[i].flags & SCHEMA_KEY)
			return 1;
	return 0;
}
