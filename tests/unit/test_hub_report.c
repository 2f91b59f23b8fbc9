/*
 * test_hub_report.c — golden tests of the province report (hub/views/report.c) on a
 * fixture province written straight into the hub's tables.
 *
 * The fixture (ids are short names; every date and count below is used by a test):
 *   P province "99"; districts D1 "901", D2 "902"; affiliated A1 "950".
 *   D1: communes C1 "10001", C2 "10002"; C2 merged into C1 on 2021-07-01.
 *   D2: commune C3 "10003", split on 2021-07-01 into C4 (takes code 10003) and C5.
 *   Branches: B1 B2 B3 (C1); B4 B5 (C2; B4 relinked to C1 from 2021-07-01, B5 left
 *   linked to the closed C2); B6 B7 B8 (C3; from 2021-07-01 B6 under C4, B7 B8
 *   under C5).
 *   Plus a deleted and a phantom meeting and a deleted unit link, which must not count.
 * Expected values were computed by hand from the rows inserted in build_fixture; the
 * comment beside each assertion says which rows make it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "dashboard.h"
#include "report.h"
#include "schema.h"
#include "store.h"
#include "store_sqlite_internal.h" /* the SQLite back end itself: its connection */
#include "figures_sqlite.h"
#include "unittree.h"

#define END ((const char *)"\x01")
#define NONE ((const char *)NULL) /* SQL NULL among the variadic values */

enum row_state { LIVE, DELETED, PHANTOM, TIE_DELETED };

struct fixture {
	char dir[64];
	char path[96];
	struct store *s;   /* what report_build reads through */
	sqlite3 *db;       /* its SQLite connection (store_sqlite_conn): the rows the tests
			    * set up, the statements traced and their plans */
	int64_t hs;
};

/* Inserts one row with the hub's metadata; varargs are column, value pairs (value
 * NULL for SQL NULL) ended by END. */
static void put(struct fixture *fx, enum row_state state, const char *table, const char *id,
		const char *unit, ...)
{
	char sql[2048], vals[512];
	const char *names[16], *values[16];
	int n = 0;
	va_list ap;
	va_start(ap, unit);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (name == END)
			break;
		names[n] = name;
		values[n] = va_arg(ap, const char *);
		n++;
		assert_true(n < 16);
	}
	va_end(ap);
	size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\"(id, unit_id", table);
	size_t vlen = (size_t)snprintf(vals, sizeof vals, "?1, ?2");
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", \"%s\"", names[i]);
		vlen += (size_t)snprintf(vals + vlen, sizeof vals - vlen, ", ?%d", i + 3);
	}
	snprintf(sql + len, sizeof sql - len,
		 ", _ins_clock, _ins_writer, _del_clock, _del_writer, _clock, _writer, _fc,"
		 " _hs, _recv_ms) VALUES (%s, ?%d, ?%d, ?%d, ?%d, 1, 'w', '', ?%d, 0)",
		 vals, n + 3, n + 4, n + 5, n + 6, n + 7);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(fx->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(fx->db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++)
		if (values[i])
			sqlite3_bind_text(st, i + 3, values[i], -1, SQLITE_STATIC);
	/* insert clock/writer, delete clock/writer */
	static const struct {
		int64_t ic;
		const char *iw;
		int64_t dc;
		const char *dw;
	} meta[] = {
		[LIVE] = { 10, "a", 0, "" },
		[DELETED] = { 10, "a", 20, "a" },
		[PHANTOM] = { 0, "", 0, "" },
		[TIE_DELETED] = { 10, "a", 10, "b" },
	};
	sqlite3_bind_int64(st, n + 3, meta[state].ic);
	sqlite3_bind_text(st, n + 4, meta[state].iw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, n + 5, meta[state].dc);
	sqlite3_bind_text(st, n + 6, meta[state].dw, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, n + 7, ++fx->hs);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("insert into %s: %s", table, sqlite3_errmsg(fx->db));
	sqlite3_finalize(st);
}

static void unit(struct fixture *fx, const char *id, const char *opened, const char *name,
		 const char *code, const char *kind, const char *name_to)
{
	char nid[64];
	put(fx, LIVE, "unit", id, "P", "opened_on", opened, END);
	snprintf(nid, sizeof nid, "name-%s", id);
	put(fx, LIVE, "unit_name", nid, "P", "of_unit", id, "name", name, "code", code, "kind",
	    kind, "valid_from", opened, "valid_to", name_to, END);
}

static void link_unit(struct fixture *fx, const char *id, const char *child,
		      const char *parent, const char *from, const char *to)
{
	put(fx, LIVE, "unit_parent", id, "P", "of_unit", child, "parent_id", parent, "valid_from",
	    from, "valid_to", to, END);
}

static void meeting(struct fixture *fx, const char *id, const char *owner, const char *kind,
		    const char *on, const char *host, const char *attended)
{
	put(fx, LIVE, "meeting", id, owner, "kind", kind, "held_on", on, "host_branch_id", host,
	    "commune_secretary_attended", attended, END);
}

static void secretary(struct fixture *fx, const char *person, const char *branch,
		      const char *from, const char *until)
{
	char rid[64];
	put(fx, LIVE, "person", person, branch, "full_name", person, END);
	snprintf(rid, sizeof rid, "role-%s", person);
	put(fx, LIVE, "role", rid, branch, "person_id", person, "role", "branch_secretary",
	    "of_unit", branch, "term_from", from, "term_until", until, END);
}

static void year_record(struct fixture *fx, const char *branch, const char *year,
			const char *rating, const char *gathered, const char *in_area)
{
	char id[64];
	snprintf(id, sizeof id, "yr-%s-%s", branch, year);
	put(fx, LIVE, "year_record", id, branch, "year", year, "rating", rating,
	    "youth_gathered", gathered, "youth_in_area", in_area, END);
}

static void build_fixture(struct fixture *fx)
{
	/* ---- the tree ---- */
	unit(fx, "P", "2000-01-01", "Tỉnh Thử Nghiệm", "99", "province", NULL);
	unit(fx, "D1", "2000-01-01", "Huyện Một", "901", "district", NULL);
	unit(fx, "D2", "2000-01-01", "Huyện Hai", "902", "district", NULL);
	unit(fx, "A1", "2000-01-01", "Đoàn Khối <Cơ quan> & DN", "950", "affiliated", NULL);
	unit(fx, "C1", "2000-01-01", "Xã An", "10001", "commune", NULL);
	unit(fx, "C2", "2000-01-01", "Xã Bình", "10002", "commune", "2021-06-30");
	unit(fx, "C3", "2000-01-01", "Xã Châu", "10003", "commune", "2021-06-30");
	unit(fx, "C4", "2021-07-01", "Xã Châu Bắc", "10003", "commune", NULL);
	unit(fx, "C5", "2021-07-01", "Xã Châu Nam", "10005", "commune", NULL);
	static const char *const branches[] = { "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8" };
	for (size_t i = 0; i < 8; i++) {
		char name[32];
		snprintf(name, sizeof name, "Chi đoàn thôn %zu", i + 1);
		unit(fx, branches[i], "2000-01-01", name, NULL, "branch", NULL);
	}
	link_unit(fx, "l-D1", "D1", "P", "2000-01-01", NULL);
	link_unit(fx, "l-D2", "D2", "P", "2000-01-01", NULL);
	link_unit(fx, "l-A1", "A1", "P", "2000-01-01", NULL);
	link_unit(fx, "l-C1", "C1", "D1", "2000-01-01", NULL);
	link_unit(fx, "l-C2", "C2", "D1", "2000-01-01", "2021-06-30");
	link_unit(fx, "l-C3", "C3", "D2", "2000-01-01", "2021-06-30");
	link_unit(fx, "l-C4", "C4", "D2", "2021-07-01", NULL);
	link_unit(fx, "l-C5", "C5", "D2", "2021-07-01", NULL);
	link_unit(fx, "l-B1", "B1", "C1", "2000-01-01", NULL);
	link_unit(fx, "l-B2", "B2", "C1", "2000-01-01", NULL);
	link_unit(fx, "l-B3", "B3", "C1", "2000-01-01", NULL);
	link_unit(fx, "l-B4a", "B4", "C2", "2000-01-01", "2021-06-30");
	link_unit(fx, "l-B4b", "B4", "C1", "2021-07-01", NULL);
	link_unit(fx, "l-B5", "B5", "C2", "2000-01-01", NULL);
	link_unit(fx, "l-B6a", "B6", "C3", "2000-01-01", "2021-06-30");
	link_unit(fx, "l-B6b", "B6", "C4", "2021-07-01", NULL);
	link_unit(fx, "l-B7a", "B7", "C3", "2000-01-01", "2021-06-30");
	link_unit(fx, "l-B7b", "B7", "C5", "2021-07-01", NULL);
	link_unit(fx, "l-B8a", "B8", "C3", "2000-01-01", "2021-06-30");
	link_unit(fx, "l-B8b", "B8", "C5", "2021-07-01", NULL);
	/* a deleted link that would move B1 to D2: must be ignored */
	put(fx, DELETED, "unit_parent", "l-B1-gone", "P", "of_unit", "B1", "parent_id", "C5",
	    "valid_from", "2021-01-01", "valid_to", NONE, END);
	put(fx, LIVE, "unit_event", "e-merge", "P", "kind", "merge", "of_unit", "C2", "other_unit",
	    "C1", "effective_on", "2021-07-01", END);
	put(fx, LIVE, "unit_event", "e-split1", "P", "kind", "split", "of_unit", "C3", "other_unit",
	    "C4", "effective_on", "2021-07-01", END);
	put(fx, LIVE, "unit_event", "e-split2", "P", "kind", "split", "of_unit", "C3", "other_unit",
	    "C5", "effective_on", "2021-07-01", END);

	/* ---- 1, 3, 4: district meetings ---- */
	meeting(fx, "gb1", "D1", "giao_ban", "2021-03-10", NULL, NULL);
	meeting(fx, "gb2", "D1", "giao_ban", "2021-09-10", NULL, NULL);
	meeting(fx, "gb3", "D2", "giao_ban", "2021-05-05", NULL, NULL);
	meeting(fx, "gb4", "A1", "giao_ban", "2021-06-06", NULL, NULL);
	meeting(fx, "gb5", "D1", "giao_ban", "2020-06-01", NULL, NULL);
	put(fx, DELETED, "meeting", "gb-del", "D1", "kind", "giao_ban", "held_on", "2021-11-11",
	    END);
	put(fx, TIE_DELETED, "meeting", "gb-tie", "D1", "kind", "giao_ban", "held_on",
	    "2021-11-12", END);
	put(fx, PHANTOM, "meeting", "gb-ph", "D2", "kind", "giao_ban", "held_on", "2021-11-13",
	    END);
	meeting(fx, "nv1", "D1", "giao_nhiem_vu", "2021-01-15", NULL, NULL);
	meeting(fx, "nv2", "D1", "giao_nhiem_vu", "2021-02-15", NULL, NULL);
	meeting(fx, "nv3", "D1", "giao_nhiem_vu", "2021-03-15", NULL, NULL);
	meeting(fx, "nv4", "D2", "giao_nhiem_vu", "2020-11-11", NULL, NULL);
	put(fx, LIVE, "task", "t1", "D1", "meeting_id", "nv1", "title", "Việc 1", END);
	put(fx, LIVE, "task", "t2", "D1", "meeting_id", "nv1", "title", "Việc 2", END);
	put(fx, LIVE, "task", "t3", "D1", "meeting_id", "nv2", "title", "Việc 3", END);
	put(fx, LIVE, "task", "t4", "D2", "meeting_id", "nv4", "title", "Việc 4", END);
	put(fx, DELETED, "task", "t5", "D1", "meeting_id", "nv3", "title", "Việc 5", END);

	/* ---- 2: pilots ---- */
	put(fx, LIVE, "pilot", "p1", "D1", "branch_id", "B1", "valid_from", "2020-01-01", END);
	put(fx, LIVE, "pilot", "p2", "D1", "branch_id", "B4", "valid_from", "2021-02-01",
	    "valid_until", "2021-12-31", END);
	put(fx, LIVE, "pilot", "p3", "D1", "branch_id", "B2", "valid_from", "2019-01-01",
	    "valid_until", "2020-06-30", END);
	put(fx, LIVE, "pilot", "p4", "D2", "branch_id", "B6", "valid_from", "2020-05-01", END);

	/* ---- 5: branch meetings ---- */
	meeting(fx, "mb1", "C1", "branch", "2021-02-02", "B1", "1");
	meeting(fx, "mb2", "C1", "branch", "2021-04-04", "B2", "0");
	meeting(fx, "mb3", "B4", "branch", "2021-05-05", NULL, "1");
	meeting(fx, "mb4", "C2", "branch", "2021-03-03", "B5", "1");
	meeting(fx, "mb5", "C3", "branch", "2021-03-03", "B6", NULL);
	meeting(fx, "mb6", "C5", "branch", "2021-08-08", "B7", "1");
	meeting(fx, "mb7", "C1", "branch", "2020-05-05", "B1", "1");
	meeting(fx, "mb8", "C3", "branch", "2020-06-06", "B8", "0");

	/* ---- 6: joint meetings ---- */
	meeting(fx, "j1", "C1", "joint", "2021-01-20", "B1", NULL);
	meeting(fx, "j2", "C1", "joint", "2021-02-20", "B2", NULL);
	meeting(fx, "j3", "C1", "joint", "2021-03-20", "B1", NULL);
	meeting(fx, "j4", "C2", "joint", "2021-04-20", "B4", NULL);
	meeting(fx, "j5", "C1", "joint", "2021-08-20", "B4", NULL);
	meeting(fx, "j6", "C3", "joint", "2021-02-25", "B6", NULL);
	meeting(fx, "j7", "C5", "joint", "2021-09-25", "B7", NULL);
	meeting(fx, "j8", "C2", "joint", "2020-04-04", "B5", NULL);
	meeting(fx, "j9", "C3", "joint", "2020-05-05", "B6", NULL);
	meeting(fx, "j10", "C3", "joint", "2020-06-06", "B7", NULL);
	put(fx, LIVE, "meeting_branch", "mbp1", "C1", "meeting_id", "j1", "branch_id", "B2", END);
	put(fx, LIVE, "meeting_branch", "mbp2", "C2", "meeting_id", "j8", "branch_id", "B4", END);
	put(fx, LIVE, "meeting_branch", "mbp3", "C3", "meeting_id", "j9", "branch_id", "B8", END);
	/* a deleted participation that would make B3 active in 2020 */
	put(fx, DELETED, "meeting_branch", "mbp4", "C1", "meeting_id", "mb7", "branch_id", "B3",
	    END);

	/* ---- 9 (and 7): volunteer activities ---- */
	put(fx, LIVE, "volunteer", "v1", "C1", "kind", "vaccination", "started_on", "2021-05-01",
	    "teams", "2", "participations", "100", END);
	put(fx, LIVE, "volunteer_branch", "vb1", "C1", "volunteer_id", "v1", "branch_id", "B3",
	    END);
	put(fx, LIVE, "volunteer", "v2", "C5", "kind", "testing", "started_on", "2021-08-01",
	    "ended_on", "2021-08-10", "teams", "1", "participations", "50", END);
	put(fx, LIVE, "volunteer", "v3", "B2", "kind", "covid_team", "started_on", "2020-07-07",
	    "teams", "1", "participations", "40", END);
	put(fx, LIVE, "volunteer", "v4", "C3", "kind", "vaccination", "started_on", "2021-03-01",
	    "teams", "3", "participations", "70", END);
	put(fx, LIVE, "volunteer", "v5", "C1", "kind", "green_shipper", "started_on",
	    "2020-12-20", "ended_on", "2021-01-10", "teams", "1", "participations", "30", END);

	/* ---- 8, 13: year-end records ---- */
	year_record(fx, "B1", "2021", "xuat_sac", "80", "100");
	year_record(fx, "B2", "2021", "tot", "45", "60");
	year_record(fx, "B3", "2021", "hoan_thanh", "30", "50");
	year_record(fx, "B4", "2021", "hoan_thanh", "20", "40");
	year_record(fx, "B5", "2021", "khong_hoan_thanh", "10", "30");
	year_record(fx, "B6", "2021", "tot", "50", "50");
	year_record(fx, "B7", "2021", "xuat_sac", "60", "80");
	year_record(fx, "B8", "2021", NULL, "15", NULL);
	year_record(fx, "B1", "2020", "tot", "70", "100");
	year_record(fx, "B2", "2020", "tot", "40", "60");
	year_record(fx, "B3", "2020", "hoan_thanh", "20", "50");
	year_record(fx, "B4", "2020", "khong_hoan_thanh", "15", "40");
	year_record(fx, "B5", "2020", "hoan_thanh", "10", "30");
	year_record(fx, "B6", "2020", "hoan_thanh", "40", "50");
	year_record(fx, "B7", "2020", "tot", "50", "80");
	year_record(fx, "B8", "2020", "hoan_thanh", "10", "20");

	/* ---- 10, 11, 12: secretaries ---- */
	secretary(fx, "S1", "B1", "2019-01-01", NULL);
	secretary(fx, "S2", "B2", "2019-01-01", "2021-06-30");
	secretary(fx, "S3", "B2", "2021-07-01", NULL);
	secretary(fx, "S4", "B4", "2020-01-01", NULL);
	secretary(fx, "S5", "B5", "2018-01-01", NULL);
	secretary(fx, "S6", "B6", "2020-01-01", NULL);
	secretary(fx, "S7", "B7", "2019-01-01", NULL);
	secretary(fx, "S8", "B8", "2020-03-01", "2021-09-30");
	secretary(fx, "S9", "B3", "2021-02-01", NULL);
	put(fx, LIVE, "person", "N1", "B1", "full_name", "Người thường", END);
	put(fx, LIVE, "role", "role-N1", "B1", "person_id", "N1", "role", "member", "of_unit", "B1",
	    "term_from", "2019-01-01", END);
	put(fx, LIVE, "person", "CS", "C1", "full_name", "Bí thư xã", END);
	put(fx, LIVE, "role", "role-CS", "C1", "person_id", "CS", "role", "commune_secretary",
	    "of_unit", "C1", "term_from", "2019-01-01", END);

	put(fx, LIVE, "insurance_card", "k1", "B1", "person_id", "S1", "valid_from", "2021-01-01",
	    "valid_until", "2021-12-31", END);
	put(fx, LIVE, "insurance_card", "k1b", "B1", "person_id", "S1", "valid_from",
	    "2019-01-01", "valid_until", "2020-12-31", END);
	put(fx, LIVE, "insurance_card", "k3", "B2", "person_id", "S3", "valid_from", "2021-07-01",
	    "valid_until", "2022-06-30", END);
	put(fx, LIVE, "insurance_card", "k4", "B4", "person_id", "S4", "valid_from", "2020-01-01",
	    "valid_until", "2020-12-31", END);
	put(fx, LIVE, "insurance_card", "k5", "B5", "person_id", "S5", "valid_from", "2019-01-01",
	    END);
	put(fx, LIVE, "insurance_card", "k6", "B6", "person_id", "S6", "valid_from", "2021-01-01",
	    "valid_until", "2021-11-30", END);
	put(fx, LIVE, "insurance_card", "k6b", "B6", "person_id", "S6", "valid_from", "2020-01-01",
	    "valid_until", "2020-12-31", END);
	put(fx, LIVE, "insurance_card", "k7", "B7", "person_id", "S7", "valid_from", "2020-06-01",
	    "valid_until", "2022-05-31", END);
	put(fx, LIVE, "insurance_card", "k2", "B2", "person_id", "S2", "valid_from", "2020-01-01",
	    "valid_until", "2020-12-31", END);
	/* a deleted card that would make S9 insured */
	put(fx, DELETED, "insurance_card", "k9", "B3", "person_id", "S9", "valid_from",
	    "2021-01-01", END);

	put(fx, LIVE, "party", "pa1", "C1", "person_id", "S1", "step", "introduced", "on_date",
	    "2021-03-03", END);
	put(fx, LIVE, "party", "pa2", "C1", "person_id", "S1", "step", "admitted", "on_date",
	    "2021-11-11", END);
	put(fx, LIVE, "party", "pa3", "C1", "person_id", "S2", "step", "introduced", "on_date",
	    "2021-05-05", END);
	put(fx, LIVE, "party", "pa4", "C1", "person_id", "S3", "step", "introduced", "on_date",
	    "2021-06-15", END);
	put(fx, LIVE, "party", "pa5", "C5", "person_id", "S7", "step", "introduced", "on_date",
	    "2020-09-09", END);
	put(fx, LIVE, "party", "pa6", "C5", "person_id", "S7", "step", "admitted", "on_date",
	    "2021-02-02", END);
	put(fx, LIVE, "party", "pa7", "C5", "person_id", "S8", "step", "introduced", "on_date",
	    "2021-10-10", END);
	put(fx, LIVE, "party", "pa8", "C1", "person_id", "N1", "step", "introduced", "on_date",
	    "2021-04-04", END);
	put(fx, LIVE, "party", "pa9", "C3", "person_id", "S6", "step", "introduced", "on_date",
	    "2021-01-05", END);

	put(fx, LIVE, "support", "s1", "C1", "person_id", "S1", "kind", "loan", "on_date",
	    "2021-02-01", "amount_vnd", "20000000", END);
	put(fx, LIVE, "support", "s2", "C1", "person_id", "S1", "kind", "training", "on_date",
	    "2021-03-01", END);
	put(fx, LIVE, "support", "s3", "C1", "person_id", "S1", "kind", "loan", "on_date",
	    "2021-09-01", "amount_vnd", "10000000", END);
	put(fx, LIVE, "support", "s4", "C1", "person_id", "S4", "kind", "seminar", "on_date",
	    "2021-04-04", END);
	put(fx, LIVE, "support", "s5", "C5", "person_id", "S7", "kind", "training", "on_date",
	    "2021-05-05", END);
	put(fx, LIVE, "support", "s6", "C1", "person_id", "N1", "kind", "loan", "on_date",
	    "2021-06-06", "amount_vnd", "50000000", END);
	put(fx, LIVE, "support", "s7", "C5", "person_id", "S8", "kind", "loan", "on_date",
	    "2021-10-10", "amount_vnd", "5000000", END);
	put(fx, LIVE, "support", "s8", "C1", "person_id", "S2", "kind", "loan", "on_date",
	    "2020-05-05", "amount_vnd", "15000000", END);
	put(fx, LIVE, "support", "s9", "C3", "person_id", "S6", "kind", "seminar", "on_date",
	    "2020-08-08", END);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	char err[256];
	struct store *s = NULL;
	assert_non_null(fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/lk-report-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/hub.db", fx->dir);
	if (hub_store_open(fx->path, 1, &s, err, sizeof err) != 0)
		fail_msg("store: %s", err);
	fx->s = s;
	fx->db = store_sqlite_conn(s);
	assert_int_equal(sqlite3_exec(fx->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	build_fixture(fx);
	assert_int_equal(sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	*state = fx;
	return 0;
}

/* The fixture plus 40 idle branches under C1: enough left to check that figure 7
 * takes its set queries rather than one look-up per branch. */
static int setup_many_idle(void **state)
{
	setup(state);
	struct fixture *fx = *state;
	assert_int_equal(sqlite3_exec(fx->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 40; i++) {
		char id[16], lid[16];
		snprintf(id, sizeof id, "I%d", i);
		snprintf(lid, sizeof lid, "l-I%d", i);
		unit(fx, id, "2000-01-01", "Chi đoàn nghỉ", NULL, "branch", NULL);
		link_unit(fx, lid, id, "C1", "2000-01-01", NULL);
	}
	assert_int_equal(sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char p[128];
	fx->s->close(fx->s);
	static const char *const files[] = { "hub.db", "hub.db-wal", "hub.db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", fx->dir, files[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct report *build(void **state, const char *unit_id, int year, const char *today)
{
	struct fixture *fx = *state;
	struct report *r = NULL;
	struct report_error err;
	int rc = report_build(fx->s, unit_id, year, today, &r, &err);
	if (rc != REPORT_OK)
		fail_msg("report_build: %d %s", rc, err.message);
	return r;
}

/* The measure `key` of figure `number`, for the breakdown row of unit (NULL: total). */
static const struct report_measure *M(const struct report *r, int number, const char *key,
				      const char *unit_id)
{
	const struct report_figure *f = &r->figures[number - 1];
	assert_int_equal(f->number, number);
	int row = -1;
	if (unit_id) {
		for (size_t i = 0; i < r->nrows; i++)
			if (strcmp(r->rows[i].id, unit_id) == 0)
				row = (int)i;
		if (row < 0)
			fail_msg("no row for unit %s", unit_id);
	}
	for (size_t m = 0; m < f->nmeasures; m++)
		if (strcmp(f->total[m].key, key) == 0)
			return row < 0 ? &f->total[m] : &f->rows[(size_t)row * f->nmeasures + m];
	fail_msg("figure %d has no measure %s", number, key);
	return NULL;
}

/* value, of (-1: a count) this year; then the previous year. */
#define CHECK(r, num, key, unit, v, o, pv, po)                                            \
	do {                                                                              \
		const struct report_measure *ms_ = M(r, num, key, unit);                  \
		assert_int_equal(ms_->value.value, v);                                    \
		assert_int_equal(ms_->value.of, o);                                       \
		assert_int_equal(ms_->previous.value, pv);                                \
		assert_int_equal(ms_->previous.of, po);                                   \
	} while (0)

static void test_report__province_rows_are_children_as_of_year_end(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	assert_string_equal(r->unit_id, "P");
	assert_string_equal(r->unit_name, "Tỉnh Thử Nghiệm");
	assert_string_equal(r->as_of, "2021-12-31");
	assert_string_equal(r->previous_as_of, "2020-12-31");
	assert_int_equal(r->nrows, 3);
	assert_string_equal(r->rows[0].id, "D1"); /* sorted by code: 901, 902, 950 */
	assert_string_equal(r->rows[1].id, "D2");
	assert_string_equal(r->rows[2].id, "A1");
	report_free(r);
}

static void test_report__figure1_implementing_counts_district_level_units(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: D1 (gb1), D2 (gb3), A1 (gb4) of D1 D2 A1; 2020: D1 (gb5), D2 (nv4) */
	CHECK(r, 1, "units", NULL, 3, 3, 2, 3);
	CHECK(r, 1, "units", "D1", 1, 1, 1, 1);
	CHECK(r, 1, "units", "A1", 1, 1, 0, 1);
	assert_int_equal(M(r, 1, "units", NULL)->target, -1);
	report_free(r);
}

static void test_report__figure2_pilots_as_of_year_end_with_target(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* as of 2021-12-31: B1, B4 (until 12-31 inclusive), B6; 2020: B1, B6 */
	CHECK(r, 2, "branches", NULL, 3, -1, 2, -1);
	CHECK(r, 2, "branches", "D1", 2, -1, 1, -1);
	CHECK(r, 2, "branches", "D2", 1, -1, 1, -1);
	assert_int_equal(M(r, 2, "branches", NULL)->target, 4); /* 2 districts × 2 */
	assert_int_equal(M(r, 2, "branches", "D1")->target, 2);
	assert_int_equal(M(r, 2, "branches", "A1")->target, 0);
	report_free(r);
}

static void test_report__figure3_giao_ban_excludes_deleted_and_phantom_rows(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* gb1 gb2 (D1), gb3 (D2), gb4 (A1); gb-del, gb-tie, gb-ph do not exist */
	CHECK(r, 3, "meetings", NULL, 4, -1, 1, -1);
	CHECK(r, 3, "meetings", "D1", 2, -1, 1, -1);
	CHECK(r, 3, "meetings", "D2", 1, -1, 0, -1);
	assert_int_equal(M(r, 3, "meetings", NULL)->target, 4);
	assert_int_equal(M(r, 3, "meetings", "D2")->target, 2);
	report_free(r);
}

static void test_report__figure4_task_meetings_and_tasks(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* nv1 nv2 nv3 in 2021 with t1 t2 t3 (t5 deleted); nv4 in 2020 with t4 */
	CHECK(r, 4, "meetings", NULL, 3, -1, 1, -1);
	CHECK(r, 4, "tasks", NULL, 3, -1, 1, -1);
	CHECK(r, 4, "tasks", "D2", 0, -1, 1, -1);
	assert_int_equal(M(r, 4, "meetings", NULL)->target, 24);
	assert_int_equal(M(r, 4, "meetings", "D1")->target, 12);
	report_free(r);
}

static void test_report__figure5_branch_meetings_attended_by_commune_secretary(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: mb1..mb6, attended mb1 mb3 mb4 mb6; 2020: mb7 (attended), mb8 */
	CHECK(r, 5, "attended", NULL, 4, 6, 1, 2);
	CHECK(r, 5, "attended", "D1", 3, 4, 1, 1); /* mb4 of closed C2 counts under D1 */
	CHECK(r, 5, "attended", "D2", 1, 2, 0, 1);
	report_free(r);
}

static void test_report__figure6_joint_meetings_and_rotation(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: j1..j7; hosts D1 {B1 B2 B4}, D2 {B6 B7}; 2020: j8 j9 j10, hosts B5 B6 B7 */
	CHECK(r, 6, "meetings", NULL, 7, -1, 3, -1);
	CHECK(r, 6, "meetings", "D1", 5, -1, 1, -1);
	CHECK(r, 6, "meetings", "D2", 2, -1, 2, -1);
	CHECK(r, 6, "hosts", NULL, 5, -1, 3, -1);
	CHECK(r, 6, "hosts", "D1", 3, -1, 1, -1);
	CHECK(r, 6, "hosts", "D2", 2, -1, 2, -1);
	/* communes on 2021-12-31: C1, C4, C5 → 36; rotation C1 5 branches, C4 1, C5 2 */
	assert_int_equal(M(r, 6, "meetings", NULL)->target, 36);
	assert_int_equal(M(r, 6, "meetings", "D2")->target, 24);
	assert_int_equal(M(r, 6, "hosts", NULL)->target, 8);
	assert_int_equal(M(r, 6, "hosts", "D1")->target, 5);
	assert_int_equal(M(r, 6, "hosts", "D2")->target, 3);
	report_free(r);
}

static void test_report__figure7_inactive_branches(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: only B8 did nothing (B3 took part in v1); 2020: only B3 (mbp4 deleted) */
	CHECK(r, 7, "branches", NULL, 1, 8, 1, 8);
	CHECK(r, 7, "branches", "D1", 0, 5, 1, 5);
	CHECK(r, 7, "branches", "D2", 1, 3, 0, 3);
	assert_int_equal(M(r, 7, "branches", NULL)->target, 0);
	report_free(r);
}

static void test_report__figure8_gathering_rate_year_against_last(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* B8 2021 has no youth_in_area and is left out */
	CHECK(r, 8, "youth", NULL, 295, 410, 255, 430);
	CHECK(r, 8, "youth", "D1", 185, 280, 155, 280);
	CHECK(r, 8, "youth", "D2", 110, 130, 100, 150);
	report_free(r);
}

static void test_report__figure9_volunteer_work_by_kind(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: v1 (100, 2), v2 (50, 1), v4 (70, 3); 2020: v3 (40, 1), v5 (30, 1) */
	CHECK(r, 9, "participations", NULL, 220, -1, 70, -1);
	CHECK(r, 9, "teams", NULL, 6, -1, 2, -1);
	CHECK(r, 9, "activities", NULL, 3, -1, 2, -1);
	CHECK(r, 9, "participations.vaccination", NULL, 170, -1, 0, -1);
	CHECK(r, 9, "teams.vaccination", NULL, 5, -1, 0, -1);
	CHECK(r, 9, "participations.testing", "D2", 50, -1, 0, -1);
	CHECK(r, 9, "participations.green_shipper", NULL, 0, -1, 30, -1);
	CHECK(r, 9, "participations", "D1", 100, -1, 70, -1);
	CHECK(r, 9, "participations", "D2", 120, -1, 0, -1);
	report_free(r);
}

static void test_report__figure10_party_counts_secretaries_on_the_date(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* introduced 2021: S1 S2 S6 (not S3: not yet secretary, S8: no longer, N1: never) */
	CHECK(r, 10, "introduced", NULL, 3, -1, 1, -1);
	CHECK(r, 10, "introduced", "D1", 2, -1, 0, -1);
	CHECK(r, 10, "introduced", "D2", 1, -1, 1, -1);
	CHECK(r, 10, "admitted", NULL, 2, -1, 0, -1);
	CHECK(r, 10, "admitted", "D2", 1, -1, 0, -1);
	report_free(r);
}

static void test_report__figure11_insurance_of_secretaries_in_office(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021-12-31: S1 S3 S9 S4 S5 S6 S7 in office; insured S1 S3 S5 S7.
	 * 2020-12-31: S1 S2 S4 S5 S6 S7 S8; insured all but S8. */
	CHECK(r, 11, "secretaries", NULL, 4, 7, 6, 7);
	CHECK(r, 11, "secretaries", "D1", 3, 5, 4, 4);
	CHECK(r, 11, "secretaries", "D2", 1, 2, 2, 3);
	report_free(r);
}

static void test_report__figure12_support_distinct_secretaries_and_loans(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: S1 (2 loans, training), S4 (seminar), S7 (training); N1 and S8 excluded */
	CHECK(r, 12, "secretaries", NULL, 3, -1, 2, -1);
	CHECK(r, 12, "secretaries", "D1", 2, -1, 1, -1);
	CHECK(r, 12, "secretaries.loan", NULL, 1, -1, 1, -1);
	CHECK(r, 12, "secretaries.training", NULL, 2, -1, 0, -1);
	CHECK(r, 12, "secretaries.seminar", NULL, 1, -1, 1, -1);
	CHECK(r, 12, "loan_amount_vnd", NULL, 30000000, -1, 15000000, -1);
	CHECK(r, 12, "loan_amount_vnd", "D2", 0, -1, 0, -1);
	report_free(r);
}

static void test_report__figure13_evaluation_by_rank_year_against_last(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* 2021: B1..B7 rated (B8 not); B5 not completed; excellent/good B1 B2 B6 B7 */
	CHECK(r, 13, "completed", NULL, 6, 7, 7, 8);
	CHECK(r, 13, "excellent_good", NULL, 4, 7, 3, 8);
	CHECK(r, 13, "completed", "D1", 4, 5, 4, 5);
	CHECK(r, 13, "excellent_good", "D2", 2, 2, 1, 3);
	report_free(r);
}

static void test_report__merged_commune_counts_once_under_its_successor(void **state)
{
	struct report *r = build(state, "D1", 2021, "2022-03-01");
	/* C2 closed on 2021-07-01: D1 has one row, C1, holding C2's records too */
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->rows[0].id, "C1");
	CHECK(r, 6, "meetings", "C1", 5, -1, 1, -1);    /* j4 and j8 of C2 included */
	CHECK(r, 6, "meetings", NULL, 5, -1, 1, -1);    /* and counted once */
	CHECK(r, 5, "attended", "C1", 3, 4, 1, 1);
	CHECK(r, 13, "completed", "C1", 4, 5, 4, 5);     /* B4, B5 rated under C1 */
	assert_false(M(r, 6, "meetings", "C1")->value.split);
	report_free(r);
}

static void test_report__year_before_the_merge_shows_both_communes(void **state)
{
	struct report *r = build(state, "D1", 2020, "2022-03-01");
	assert_string_equal(r->as_of, "2020-12-31");
	assert_int_equal(r->nrows, 2);
	assert_string_equal(r->rows[0].id, "C1");
	assert_string_equal(r->rows[1].id, "C2");
	CHECK(r, 6, "meetings", "C1", 0, -1, 0, -1);
	CHECK(r, 6, "meetings", "C2", 1, -1, 0, -1); /* j8 */
	CHECK(r, 8, "youth", "C2", 25, 70, 0, 0);    /* B4 15/40 + B5 10/30 */
	report_free(r);
}

static void test_report__split_commune_marked_tach_and_counted_once(void **state)
{
	struct report *r = build(state, "D2", 2021, "2022-03-01");
	assert_int_equal(r->nrows, 2);
	assert_string_equal(r->rows[0].id, "C4"); /* code 10003 */
	assert_string_equal(r->rows[1].id, "C5");
	/* j9 j10 (C3, 2020) shown whole beside each successor, once in the total */
	const struct report_measure *c4 = M(r, 6, "meetings", "C4"), *c5 = M(r, 6, "meetings", "C5");
	assert_int_equal(c4->previous.value, 2);
	assert_int_equal(c5->previous.value, 2);
	assert_true(c4->previous.split);
	assert_true(c5->previous.split);
	CHECK(r, 6, "meetings", NULL, 2, -1, 2, -1);
	assert_false(M(r, 6, "meetings", NULL)->previous.split);
	/* this year: j6 (C3) beside both, j7 (C5) */
	assert_int_equal(c4->value.value, 1);
	assert_int_equal(c5->value.value, 2);
	/* branch figures follow their branches: no split */
	CHECK(r, 8, "youth", "C4", 50, 50, 40, 50);
	CHECK(r, 8, "youth", "C5", 60, 80, 60, 100);
	assert_false(M(r, 8, "youth", "C4")->previous.split);
	CHECK(r, 9, "participations", "C5", 120, -1, 0, -1); /* v2 + v4 of C3 (tách) */
	CHECK(r, 9, "participations", NULL, 120, -1, 0, -1);
	CHECK(r, 6, "hosts", "C5", 2, -1, 2, -1);
	CHECK(r, 6, "hosts", NULL, 2, -1, 2, -1);
	report_free(r);
}

static char *render(const struct report *r, int (*fn)(const struct report *, FILE *),
		    size_t *len);

/* Marks the rows of the 2021 reform deleted (1) or live again (0). */
static void reform_rows(struct fixture *fx, int deleted)
{
	static const struct {
		const char *table, *where;
	} rows[] = {
		{ "unit_event", "1" },
		{ "unit_parent", "valid_from >= '2021-07-01'" },
		{ "unit", "id IN ('C4', 'C5')" },
		{ "unit_name", "of_unit IN ('C4', 'C5')" },
	};
	char sql[512];
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		snprintf(sql, sizeof sql, "UPDATE %s SET _del_clock = %d, _del_writer = '%s' WHERE %s",
			 rows[i].table, deleted ? 20 : 0, deleted ? "a" : "", rows[i].where);
		assert_int_equal(sqlite3_exec(fx->db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
}

static void test_report__a_later_reform_does_not_change_an_earlier_year(void **state)
{
	struct fixture *fx = *state;
	size_t len_with, len_without;
	struct report *r = build(state, NULL, 2020, "2022-03-01");
	char *with = render(r, report_write_json, &len_with);
	report_free(r);
	reform_rows(fx, 1);
	r = build(state, NULL, 2020, "2022-03-01");
	char *without = render(r, report_write_json, &len_without);
	report_free(r);
	reform_rows(fx, 0);
	assert_string_equal(with, without);
	/* and the reform rows really were gone: the 2021 tree of D2 differs without them */
	reform_rows(fx, 1);
	r = build(state, "D2", 2021, "2022-03-01");
	assert_int_equal(r->nrows, 1); /* C3 only */
	report_free(r);
	reform_rows(fx, 0);
	free(with);
	free(without);
}

static void test_report__current_year_is_as_of_today(void **state)
{
	struct report *r = build(state, NULL, 2021, "2021-08-15");
	assert_string_equal(r->as_of, "2021-08-15");
	/* in office on 08-15: S1 S3 S9 S4 S5 S6 S7 S8; insured S1 S3 S5 S6 S7 */
	CHECK(r, 11, "secretaries", NULL, 5, 8, 6, 7);
	report_free(r);
}

static void test_report__unit_closed_during_year_is_reported_to_its_last_day(void **state)
{
	struct report *r = build(state, "C2", 2021, "2022-03-01");
	assert_string_equal(r->as_of, "2021-06-30");
	assert_int_equal(r->nrows, 2); /* B4, B5 */
	CHECK(r, 6, "meetings", NULL, 1, -1, 1, -1);      /* j4; j8 */
	/* the 2021 ratings of B4 and B5 are year-end records: C1's (below); 2020: B5 of both */
	CHECK(r, 13, "completed", NULL, 0, 0, 1, 2);
	report_free(r);
}

/* Fails unless r rendered by fn holds needle. */
static void rendered_has(const struct report *r, int (*fn)(const struct report *, FILE *),
			 const char *needle)
{
	size_t len;
	char *out = render(r, fn, &len);
	if (!strstr(out, needle))
		fail_msg("'%s' not in: %.400s", needle, out);
	free(out);
}

/* Records of C2's branches and of C2 itself dated after C2 closed (2021-07-01): the
 * fixture's ids prefixed "late-". */
static void late_records(struct fixture *fx, int add)
{
	if (!add) {
		static const char *const tables[] = { "meeting", "volunteer", "support", "party" };
		for (size_t i = 0; i < 4; i++) {
			char sql[128];
			snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id LIKE 'late-%%'", tables[i]);
			assert_int_equal(sqlite3_exec(fx->db, sql, NULL, NULL, NULL), SQLITE_OK);
		}
		return;
	}
	meeting(fx, "late-mb", "B5", "branch", "2021-08-08", NULL, "1");
	meeting(fx, "late-j", "C2", "joint", "2021-09-09", "B5", NULL);
	put(fx, LIVE, "volunteer", "late-v", "B5", "kind", "testing", "started_on", "2021-08-01",
	    "teams", "1", "participations", "25", END);
	put(fx, LIVE, "support", "late-s", "C2", "person_id", "S5", "kind", "loan", "on_date",
	    "2021-08-15", "amount_vnd", "7000000", END);
	put(fx, LIVE, "party", "late-pa", "C1", "person_id", "S4", "step", "admitted", "on_date",
	    "2021-09-01", END);
}

/* Issue 12 item 10: C2's own 2021 report covers 2021-01-01..06-30; what its branches
 * (B4 relinked to C1, B5 left under C2) and C2 did from July counts under C1, and the
 * province counts every record once. */
static void test_report__closed_unit_counts_only_the_part_of_the_year_it_lived(void **state)
{
	struct fixture *fx = *state;
	late_records(fx, 1);
	struct report *r = build(state, "C2", 2021, "2022-03-01");
	assert_string_equal(r->as_of, "2021-06-30");
	CHECK(r, 5, "attended", NULL, 2, 2, 0, 0);            /* mb3 (B4), mb4 (B5); not late-mb */
	CHECK(r, 6, "meetings", NULL, 1, -1, 1, -1);          /* j4; not late-j */
	CHECK(r, 6, "hosts", NULL, 1, -1, 1, -1);             /* B4; not B5 of late-j */
	/* targets for 181 of 365 days: 12 joint meetings → 6; hosts: its 2 branches */
	assert_int_equal(M(r, 6, "meetings", NULL)->target, 6);
	assert_int_equal(M(r, 6, "hosts", NULL)->target, 2);
	CHECK(r, 9, "participations", NULL, 0, -1, 0, -1);    /* not late-v */
	CHECK(r, 10, "admitted", NULL, 0, -1, 0, -1);         /* not late-pa (S4, B4) */
	CHECK(r, 12, "secretaries", NULL, 1, -1, 0, -1);      /* S4 (s4, 04-04); not S5 */
	CHECK(r, 12, "loan_amount_vnd", NULL, 0, -1, 0, -1);  /* not late-s */
	CHECK(r, 8, "youth", NULL, 0, 0, 25, 70);             /* 2021 year-end: C1's */
	CHECK(r, 13, "completed", NULL, 0, 0, 1, 2);
	CHECK(r, 13, "excellent_good", NULL, 0, 0, 0, 2);
	CHECK(r, 11, "secretaries", NULL, 1, 2, 2, 2);        /* on 06-30: S4 S5, S5 insured */
	CHECK(r, 7, "branches", NULL, 0, 2, 0, 2);
	/* and every rendering says what the figures cover */
	assert_string_equal(r->closed_on, "2021-07-01");
	rendered_has(r, report_write_text, "từ ngày 2021-07-01");
	rendered_has(r, report_write_text, "cuối năm 2021 tính ở đơn vị kế thừa");
	rendered_has(r, report_write_json, "\"closed_on\":\"2021-07-01\"");
	rendered_has(r, report_write_csv, "cuối năm: tính ở đơn vị kế thừa");
	rendered_has(r, report_write_html, "tính ở đơn vị kế thừa");
	report_free(r);

	/* the successor: its own, C2's before the merge and everything after it */
	r = build(state, "C1", 2021, "2022-03-01");
	assert_string_equal(r->as_of, "2021-12-31");
	CHECK(r, 5, "attended", NULL, 4, 5, 1, 1);            /* mb1 mb3 mb4 late-mb of + mb2 */
	CHECK(r, 6, "meetings", NULL, 6, -1, 1, -1);          /* j1 j2 j3 j4 j5 late-j; j8 */
	CHECK(r, 9, "participations", NULL, 125, -1, 70, -1); /* v1 100 + late-v 25 */
	CHECK(r, 10, "admitted", NULL, 2, -1, 0, -1);         /* S1, S4 */
	CHECK(r, 12, "secretaries", NULL, 3, -1, 1, -1);      /* S1 S4 S5 */
	CHECK(r, 12, "loan_amount_vnd", NULL, 37000000, -1, 15000000, -1);
	CHECK(r, 8, "youth", NULL, 185, 280, 155, 280);       /* B1..B5 */
	CHECK(r, 13, "completed", NULL, 4, 5, 4, 5);
	report_free(r);

	/* the province: each record once (the fixture's figures plus the late ones) */
	r = build(state, NULL, 2021, "2022-03-01");
	CHECK(r, 5, "attended", NULL, 5, 7, 1, 2);
	CHECK(r, 5, "attended", "D1", 4, 5, 1, 1);
	CHECK(r, 6, "meetings", NULL, 8, -1, 3, -1);
	CHECK(r, 9, "participations", NULL, 245, -1, 70, -1);
	CHECK(r, 10, "admitted", NULL, 3, -1, 0, -1);
	CHECK(r, 12, "secretaries", NULL, 4, -1, 2, -1);
	CHECK(r, 12, "loan_amount_vnd", NULL, 37000000, -1, 15000000, -1);
	CHECK(r, 8, "youth", NULL, 295, 410, 255, 430);       /* unchanged: each record once */
	CHECK(r, 13, "completed", NULL, 6, 7, 7, 8);
	CHECK(r, 8, "youth", "D1", 185, 280, 155, 280);       /* = C1's, which holds C2's */
	assert_string_equal(r->closed_on, "");
	rendered_has(r, report_write_json, "\"closed_on\":null");
	report_free(r);
	late_records(fx, 0);
}

static void test_report__unit_that_did_not_exist_in_the_year_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct report *r = NULL;
	struct report_error err;
	assert_int_equal(report_build(fx->s, "C2", 2022, "2022-03-01", &r, &err),
			 REPORT_BAD_ARGUMENT);
	assert_string_equal(err.field, "unit");
	assert_int_equal(report_build(fx->s, "C4", 2020, "2022-03-01", &r, &err),
			 REPORT_BAD_ARGUMENT);
	assert_null(r);
}

static void test_report__unit_given_by_code(void **state)
{
	struct report *r = build(state, "902", 2021, "2022-03-01");
	assert_string_equal(r->unit_id, "D2");
	assert_string_equal(r->unit_code, "902");
	report_free(r);
}

/* Issue 12 item 9: C2's code 10002 named it until 2021-06-30 (its name ended then, as
 * a reform writes it): the 2021 report by code is C2's, up to its last day — from the
 * command line and from GET /v1/report alike. A reused code gives its latest holder. */
static void test_report__unit_merged_mid_year_is_found_by_its_code_in_that_year(void **state)
{
	struct fixture *fx = *state;
	struct report *r = build(state, "10002", 2021, "2022-03-01");
	assert_string_equal(r->unit_id, "C2");
	assert_string_equal(r->unit_code, "10002");
	assert_string_equal(r->as_of, "2021-06-30");
	report_free(r);
	r = build(state, "10003", 2021, "2022-03-01"); /* C3 until 06-30, then C4 */
	assert_string_equal(r->unit_id, "C4");
	report_free(r);
	r = build(state, "10003", 2020, "2022-03-01");
	assert_string_equal(r->unit_id, "C3");
	report_free(r);
	/* the year after its merge, the code names nothing open: refused with its dates */
	struct report_error err;
	r = NULL;
	assert_int_equal(report_build(fx->s, "10002", 2022, "2022-03-01", &r, &err),
			 REPORT_BAD_ARGUMENT);
	assert_non_null(strstr(err.message, "closed on 2021-07-01"));
	assert_null(r);
	/* GET /v1/report?unit=10002&year=2021 */
	char *json = NULL;
	struct dashboard_error de = { 0 };
	if (dashboard_report_json(fx->s, "10002", "2021", 1795600000000LL, &json, &de) != 0)
		fail_msg("/v1/report: %d %s", de.status, de.message);
	assert_non_null(strstr(json, "\"unit\":\"C2\""));
	assert_non_null(strstr(json, "\"as_of\":\"2021-06-30\""));
	free(json);
}

static void test_report__bad_arguments_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct report *r = NULL;
	struct report_error err;
	assert_int_equal(report_build(fx->s, "nope", 2021, "2022-03-01", &r, &err),
			 REPORT_UNKNOWN_UNIT);
	assert_string_equal(err.field, "unit");
	assert_int_equal(report_build(fx->s, NULL, 2023, "2022-03-01", &r, &err),
			 REPORT_BAD_ARGUMENT);
	assert_string_equal(err.field, "year");
	assert_int_equal(report_build(fx->s, NULL, 1999, "2022-03-01", &r, &err),
			 REPORT_BAD_ARGUMENT);
	assert_int_equal(report_build(fx->s, NULL, 2021, "2022-3-1", &r, &err),
			 REPORT_BAD_ARGUMENT);
	assert_null(r);
}

static void test_report__many_inactive_branches_counted_by_set_queries(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	/* as in figure7 test, plus the 40 idle branches of D1 */
	CHECK(r, 7, "branches", NULL, 41, 48, 41, 48);
	CHECK(r, 7, "branches", "D1", 40, 45, 41, 45);
	CHECK(r, 7, "branches", "D2", 1, 3, 0, 3);
	report_free(r);
}

static void test_report__formats_parse_and_map(void **state)
{
	enum report_format f = REPORT_FORMAT_TEXT;
	(void)state;
	assert_int_equal(report_format_parse("csv", &f), 0);
	assert_int_equal(f, REPORT_FORMAT_CSV);
	assert_int_equal(report_format_parse("pdf", &f), -1);
	assert_int_equal(report_format_parse(NULL, &f), -1);
	assert_string_equal(report_format_content_type(REPORT_FORMAT_JSON), "application/json");
	assert_int_equal(report_http_status(REPORT_UNKNOWN_UNIT), 404);
	assert_int_equal(report_http_status(REPORT_BAD_ARGUMENT), 400);
	assert_int_equal(report_http_status(REPORT_STORAGE), 500);
	assert_string_equal(report_code_name(REPORT_UNKNOWN_UNIT), "unknown_unit");
}

static void test_report__database_without_hub_tables_is_a_storage_error(void **state)
{
	struct fixture *fx = *state;
	struct report *r = NULL;
	struct report_error err;
	/* a database that lost its unit tables (the fixture is rebuilt for the next test) */
	assert_int_equal(sqlite3_exec(fx->db, "DROP TABLE unit_event; DROP TABLE unit_parent;"
				      " DROP TABLE unit_name; DROP TABLE unit;", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(report_build(fx->s, NULL, 2021, "2022-03-01", &r, &err), REPORT_STORAGE);
	assert_null(r);
	assert_non_null(strstr(err.message, "unit"));
	assert_int_equal(report_build(fx->s, NULL, 2021, "2022-03-01", &r, NULL), REPORT_STORAGE);
	assert_true(sqlite3_get_autocommit(fx->db)); /* its transaction was rolled back */
}

static void test_report__caller_transaction_is_kept(void **state)
{
	struct fixture *fx = *state;
	struct report *r = NULL;
	assert_int_equal(sqlite3_exec(fx->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(report_build(fx->s, "D1", 2021, "2022-03-01", &r, NULL), REPORT_OK);
	assert_false(sqlite3_get_autocommit(fx->db));
	assert_int_equal(sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	report_free(r);
}

static char *render(const struct report *r, int (*fn)(const struct report *, FILE *),
		    size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_non_null(f);
	assert_int_equal(fn(r, f), REPORT_OK);
	fclose(f);
	return buf;
}

static void test_report__json_matches_the_figures(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	size_t len;
	char *s = render(r, report_write_json, &len);
	json_error_t jerr;
	json_t *j = json_loads(s, 0, &jerr);
	if (!j)
		fail_msg("json: %s", jerr.text);
	assert_string_equal(json_string_value(json_object_get(j, "unit")), "P");
	assert_int_equal(json_integer_value(json_object_get(j, "year")), 2021);
	json_t *figs = json_object_get(j, "figures");
	assert_int_equal(json_array_size(figs), 13);
	json_t *f11 = json_array_get(figs, 10);
	assert_string_equal(json_string_value(json_object_get(f11, "key")), "insurance");
	assert_int_equal(json_integer_value(json_object_get(f11, "value")), 4);
	assert_int_equal(json_integer_value(json_object_get(f11, "of")), 7);
	assert_true(json_real_value(json_object_get(f11, "share")) > 0.57139 &&
		    json_real_value(json_object_get(f11, "share")) < 0.57141);
	json_t *prev = json_object_get(f11, "previous");
	assert_int_equal(json_integer_value(json_object_get(prev, "value")), 6);
	json_t *bd = json_object_get(f11, "unit_breakdown");
	assert_int_equal(json_array_size(bd), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(bd, 0), "unit")),
			    "D1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(bd, 0), "value")), 3);
	json_t *f3 = json_array_get(figs, 2);
	assert_int_equal(json_integer_value(json_object_get(f3, "target")), 4);
	assert_string_equal(json_string_value(json_object_get(f3, "label")), "Giao ban");
	json_decref(j);
	free(s);
	report_free(r);
}

/* ---- the indexes the report relies on (report.h) ---- */

#define TRACE_MAX 64

/* Every statement a report_build ran, as prepared (parameters unexpanded). */
struct traced {
	char *sql[TRACE_MAX];
	size_t n;
};

static int trace_stmt(unsigned type, void *ctx, void *stmt, void *x)
{
	struct traced *t = ctx;
	const char *sql = x;
	(void)stmt;
	if (type == SQLITE_TRACE_STMT && t->n < TRACE_MAX && strncmp(sql, "--", 2) != 0) {
		t->sql[t->n] = strdup(sql);
		assert_non_null(t->sql[t->n]);
		t->n++;
	}
	return 0;
}

static void traced_free(struct traced *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->sql[i]);
	t->n = 0;
}

/* EXPLAIN QUERY PLAN of sql on db: its detail lines joined by '\n' (caller frees). */
static char *plan_of(sqlite3 *db, const char *sql)
{
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *st = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(q);
	assert_non_null(f);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("plan of %s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(f, "%s\n", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_free(q);
	fclose(f);
	return buf;
}

/* The report of fx for 2021 as JSON (caller frees). */
static char *report_json(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	size_t len;
	char *s = render(r, report_write_json, &len);
	report_free(r);
	return s;
}

/* Runs on the fixture with 40 idle branches, so figure 7's set query over the year's
 * meetings runs too. */
static void test_report__meetings_of_a_year_are_read_through_meeting_year_without_a_sort(
	void **state)
{
	struct fixture *fx = *state;
	struct traced t = { { 0 }, 0 };
	size_t pass = 0, by_year = 0;
	sqlite3_trace_v2(fx->db, SQLITE_TRACE_STMT, trace_stmt, &t);
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	sqlite3_trace_v2(fx->db, 0, NULL, NULL);
	report_free(r);
	for (size_t i = 0; i < t.n; i++) {
		if (!strstr(t.sql[i], "r_meeting ")) /* not r_meeting_branch alone */
			continue;
		char *plan = plan_of(fx->db, t.sql[i]);
		if (strstr(t.sql[i], "substr(")) {
			by_year++;
			if (!strstr(plan, "USING INDEX meeting_year ("))
				fail_msg("not through meeting_year: %s\n%s", t.sql[i], plan);
		}
		if (strstr(t.sql[i], "GROUP BY kind, unit_id, host_branch_id")) {
			pass++;
			/* one range of the index, in group order: no sort, no other table */
			assert_non_null(strstr(plan, "(<expr>=? AND kind=?)"));
			if (strstr(plan, "TEMP B-TREE"))
				fail_msg("the meeting pass sorts: %s", plan);
		}
		free(plan);
	}
	traced_free(&t);
	assert_int_equal(pass, 2); /* Y and Y-1 */
	assert_true(by_year >= 6); /* + figure 4's tasks and figure 7's set query, each year */
}

/* A database made before meeting_year (meeting(kind, held_on) instead) gives the same
 * report; opening it as a store upgrades it, and the report stays the same. */
static void test_report__older_database_gets_meeting_year_when_opened_and_same_report(
	void **state)
{
	struct fixture *fx = *state;
	struct store *s = NULL;
	sqlite3_stmt *st = NULL;
	char err[256];
	char *now = report_json(state);
	assert_int_equal(sqlite3_exec(fx->db,
				      "DROP INDEX meeting_year;"
				      "CREATE INDEX meeting_kind ON meeting(kind, held_on);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	char *before = report_json(state);
	assert_string_equal(before, now);
	if (hub_store_open(fx->path, 0, &s, err, sizeof err) != 0)
		fail_msg("store: %s", err);
	s->close(s);
	assert_int_equal(sqlite3_prepare_v2(fx->db,
					    "SELECT group_concat(name || ':' || sql, '|') FROM"
					    " sqlite_master WHERE tbl_name = 'meeting' AND name IN"
					    " ('meeting_year', 'meeting_kind')",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const char *idx = (const char *)sqlite3_column_text(st, 0);
	assert_non_null(idx);
	assert_null(strstr(idx, "meeting_kind:")); /* dropped */
	assert_non_null(strstr(idx, "meeting_year:CREATE INDEX meeting_year ON meeting("
				    "substr(held_on, 1, 4), kind,"));
	/* the partial index's WHERE is the views' existence predicate, word for word */
	assert_non_null(strstr(idx, " WHERE " FIGURES_SQLITE_ROW_EXISTS));
	sqlite3_finalize(st);
	char *after = report_json(state);
	assert_string_equal(after, now);
	free(now);
	free(before);
	free(after);
}

static void test_report__csv_has_bom_and_crlf(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	size_t len;
	char *s = render(r, report_write_csv, &len);
	assert_memory_equal(s, "\xEF\xBB\xBF", 3);
	assert_non_null(strstr(s, "\r\n11,insurance,"));
	/* the province total of figure 11: 4 of 7 (57.1%), 2020: 6 of 7 (85.7%) */
	assert_non_null(strstr(s, ",99,4,7,57.1,,6,7,85.7,\r\n"));
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			assert_int_equal(s[i - 1], '\r');
	/* text without comma or quote is written as is */
	assert_non_null(strstr(s, "Đoàn Khối <Cơ quan> & DN"));
	free(s);
	report_free(r);
}

/* A unit name with a terminal escape is shown escaped by the text report, and one that
 * starts like a formula gets a leading apostrophe in the CSV. */
static void test_report__names_are_escaped_for_the_terminal_and_the_spreadsheet(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(sqlite3_exec(fx->db,
				      "UPDATE unit_name SET name = '=1+2' || char(27) || '[31mĐoàn Khối'"
				      " WHERE of_unit = 'A1'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	size_t len;
	char *s = render(r, report_write_text, &len);
	assert_non_null(strstr(s, "     - =1+2\\x1b[31mĐoàn Khối: "));
	assert_null(strchr(s, '\x1b'));
	free(s);
	s = render(r, report_write_csv, &len);
	assert_non_null(strstr(s, ",'=1+2\x1b[31mĐoàn Khối,950,"));
	assert_null(strstr(s, ",=1+2"));
	free(s);
	report_free(r);
	/* the fixture is shared by the group: put the name back */
	assert_int_equal(sqlite3_exec(fx->db,
				      "UPDATE unit_name SET name = 'Đoàn Khối <Cơ quan> & DN' WHERE of_unit = 'A1'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
}

static void test_report__html_is_self_contained_and_escaped(void **state)
{
	struct report *r = build(state, NULL, 2021, "2022-03-01");
	size_t len;
	char *s = render(r, report_write_html, &len);
	assert_non_null(strstr(s, "class=\"lk-chart\""));
	assert_non_null(strstr(s, "Đoàn Khối &lt;Cơ quan&gt; &amp; DN"));
	assert_null(strstr(s, "<Cơ quan>"));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "src="));
	assert_null(strstr(s, "href="));
	free(s);
	s = render(r, report_write_text, &len);
	assert_non_null(strstr(s, "11. Bí thư chi đoàn có thẻ bảo hiểm y tế"));
	free(s);
	report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report__province_rows_are_children_as_of_year_end),
		cmocka_unit_test(test_report__figure1_implementing_counts_district_level_units),
		cmocka_unit_test(test_report__figure2_pilots_as_of_year_end_with_target),
		cmocka_unit_test(test_report__figure3_giao_ban_excludes_deleted_and_phantom_rows),
		cmocka_unit_test(test_report__figure4_task_meetings_and_tasks),
		cmocka_unit_test(test_report__figure5_branch_meetings_attended_by_commune_secretary),
		cmocka_unit_test(test_report__figure6_joint_meetings_and_rotation),
		cmocka_unit_test(test_report__figure7_inactive_branches),
		cmocka_unit_test(test_report__figure8_gathering_rate_year_against_last),
		cmocka_unit_test(test_report__figure9_volunteer_work_by_kind),
		cmocka_unit_test(test_report__figure10_party_counts_secretaries_on_the_date),
		cmocka_unit_test(test_report__figure11_insurance_of_secretaries_in_office),
		cmocka_unit_test(test_report__figure12_support_distinct_secretaries_and_loans),
		cmocka_unit_test(test_report__figure13_evaluation_by_rank_year_against_last),
		cmocka_unit_test(test_report__merged_commune_counts_once_under_its_successor),
		cmocka_unit_test(test_report__year_before_the_merge_shows_both_communes),
		cmocka_unit_test(test_report__split_commune_marked_tach_and_counted_once),
		cmocka_unit_test(test_report__a_later_reform_does_not_change_an_earlier_year),
		cmocka_unit_test(test_report__current_year_is_as_of_today),
		cmocka_unit_test(test_report__unit_closed_during_year_is_reported_to_its_last_day),
		cmocka_unit_test(test_report__closed_unit_counts_only_the_part_of_the_year_it_lived),
		cmocka_unit_test(test_report__unit_that_did_not_exist_in_the_year_is_refused),
		cmocka_unit_test(test_report__unit_given_by_code),
		cmocka_unit_test(test_report__unit_merged_mid_year_is_found_by_its_code_in_that_year),
		cmocka_unit_test(test_report__bad_arguments_are_refused),
		cmocka_unit_test(test_report__json_matches_the_figures),
		cmocka_unit_test(test_report__csv_has_bom_and_crlf),
		cmocka_unit_test(test_report__names_are_escaped_for_the_terminal_and_the_spreadsheet),
		cmocka_unit_test(test_report__html_is_self_contained_and_escaped),
		cmocka_unit_test(test_report__formats_parse_and_map),
		cmocka_unit_test_setup_teardown(test_report__database_without_hub_tables_is_a_storage_error, setup, teardown),
		cmocka_unit_test(test_report__caller_transaction_is_kept),
		cmocka_unit_test(test_report__older_database_gets_meeting_year_when_opened_and_same_report),
	};
	const struct CMUnitTest many[] = {
		cmocka_unit_test(test_report__many_inactive_branches_counted_by_set_queries),
		cmocka_unit_test(
			test_report__meetings_of_a_year_are_read_through_meeting_year_without_a_sort),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);
	return failed + cmocka_run_group_tests(many, setup_many_idle, teardown);
}
