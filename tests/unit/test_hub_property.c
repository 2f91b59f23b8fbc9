/*
 * test_hub_property.c — the convergence property of the hub's merge: the same
 * journals of several agents (inserts, updates, deletes, re-inserts, equal clocks
 * across agents), delivered in random interleavings across agents and random cuts and
 * orders within each (gaps refused and re-sent, duplicates, overlaps), leave
 * byte-identical synced tables: values and field clocks, existence clocks included;
 * receipts, arrival times (_recv_ms) and hub order (_hs) excluded. The unit tables are
 * excluded too: each trial's hub writes its own tree under its own hub id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "hub_test_util.h"

#define NAGENTS 3
#define NROWS 8
#define NENTRIES 60  /* per agent */
#define NTRIALS 8

static const char *const agent_ids[NAGENTS] = {
	"0190f3a2-7c1e-7d44-9a0b-0000000000a1", /* commune C1 */
	"0190f3a2-7c1e-7d44-9a0b-0000000000a2", /* commune C2 */
	"0190f3a2-7c1e-7d44-9a0b-0000000000ad", /* district D: writes for both */
};

static const char *const names[] = { "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường",
				     "Phạm Thị Dung", "Hoàng Văn Em" };

/* xorshift: reproducible from a seed. */
static uint64_t rnd_state;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 11);
}

static void row_id(int r, char out[37])
{
	snprintf(out, 37, "0190f3b0-0000-7000-8000-%012d", 100 + r);
}

static const char *row_owner(int r)
{
	return r < NROWS / 2 ? U_C1 : U_C2;
}

static void journal(struct th_agent ag[NAGENTS])
{
	int64_t t0 = th_now_ms() - 3600 * 1000;
	rnd_state = 0x9e3779b97f4a7c15ULL;
	for (int a = 0; a < NAGENTS; a++)
		th_agent_init(&ag[a], agent_ids[a]);
	for (int k = 0; k < NENTRIES; k++) {
		for (int a = 0; a < NAGENTS; a++) {
			/* C1 writes rows 0..3, C2 rows 4..7, the district any */
			int r = a == 2 ? (int)(rnd() % NROWS) : a * (NROWS / 2) + (int)(rnd() % (NROWS / 2));
			char id[37], spec[200];
			row_id(r, id);
			/* few distinct milliseconds: equal clocks across agents happen */
			uint64_t clock = hlc_next(ag[a].last_clock, t0 + k * 3 + (int64_t)(rnd() % 3));
			uint32_t op = rnd() % 10;
			if (op < 3) {
				snprintf(spec, sizeof spec, "full_name=s:%s;birth_year=i:%d;gender=s:%s;phone=%s",
					 names[rnd() % 5], 1980 + (int)(rnd() % 25), rnd() % 2 ? "nam" : "nu",
					 rnd() % 2 ? "n" : "s:0901234567");
				th_add(&ag[a], "person", id, 'i', row_owner(r), spec, clock);
			} else if (op < 8) {
				switch (rnd() % 4) {
				case 0: snprintf(spec, sizeof spec, "phone=s:09%08u", rnd() % 100000000u); break;
				case 1: snprintf(spec, sizeof spec, "birth_year=i:%d", 1980 + (int)(rnd() % 25)); break;
				case 2: snprintf(spec, sizeof spec, "full_name=s:%s;phone=n", names[rnd() % 5]); break;
				default: snprintf(spec, sizeof spec, "gender=s:khac"); break;
				}
				th_add(&ag[a], "person", id, 'u', row_owner(r), spec, clock);
			} else {
				th_add(&ag[a], "person", id, 'd', row_owner(r), NULL, clock);
			}
		}
	}
}

/* Every synced table except the unit tables, every column except _hs and _recv_ms. */
static char *dump(const char *path)
{
	sqlite3 *db;
	struct { char *p; size_t n, cap; } b = { 0 };
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return NULL;
	for (size_t t = 0; t < schema_ntables; t++) {
		if (strncmp(schema_tables[t].name, "unit", 4) == 0)
			continue;
		char sql[128];
		sqlite3_stmt *st;
		snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY id", schema_tables[t].name);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const char *cn = sqlite3_column_name(st, c);
				if (strcmp(cn, "_hs") == 0 || strcmp(cn, "_recv_ms") == 0)
					continue;
				const unsigned char *v = sqlite3_column_text(st, c);
				size_t need = strlen(cn) + (v ? strlen((const char *)v) : 4) + 8;
				if (b.n + need >= b.cap) {
					b.cap = (b.cap + need) * 2;
					b.p = realloc(b.p, b.cap);
				}
				b.n += (size_t)snprintf(b.p + b.n, b.cap - b.n, "%s=%s|", cn,
							v ? (const char *)v : "NULL");
			}
			b.p[b.n++] = '\n';
			b.p[b.n] = '\0';
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return b.p;
}

static const char *token_of(struct th_hub *h, int a)
{
	return a == 0 ? h->token_c1 : a == 1 ? h->token_c2 : h->token_d;
}

static void deliver(struct th_hub *h, struct th_agent ag[NAGENTS], uint64_t seed)
{
	uint64_t acked[NAGENTS] = { 0 };
	rnd_state = seed;
	for (int guard = 0; guard < 100000; guard++) {
		int left = 0;
		for (int a = 0; a < NAGENTS; a++)
			left += acked[a] < ag[a].n;
		if (!left)
			return;
		int a;
		do
			a = (int)(rnd() % NAGENTS);
		while (acked[a] >= ag[a].n);
		uint64_t n = ag[a].n, from, to;
		uint32_t action = rnd() % 10;
		struct th_answer ans;
		if (action == 0 && acked[a] + 2 <= n) { /* a gap: refused, nothing stored */
			from = acked[a] + 2 + rnd() % 3;
			if (from > n)
				from = n;
			to = from + rnd() % 4;
			if (to > n)
				to = n;
			ans = th_send(h, &ag[a], token_of(h, a), from, to);
			assert_int_equal(ans.status, 409);
			assert_non_null(strstr(ans.body, "\"gap\""));
		} else if (action == 1 && acked[a] > 0) { /* a duplicate */
			from = 1 + rnd() % acked[a];
			to = from + rnd() % (acked[a] - from + 1);
			ans = th_send(h, &ag[a], token_of(h, a), from, to);
			assert_int_equal(ans.status, 200);
			assert_non_null(strstr(ans.body, "\"duplicate\":true"));
		} else if (action == 2 && acked[a] > 0) { /* an overlap */
			from = 1 + rnd() % acked[a];
			to = acked[a] + 1 + rnd() % 6;
			if (to > n)
				to = n;
			ans = th_send(h, &ag[a], token_of(h, a), from, to);
			assert_int_equal(ans.status, 200);
			acked[a] = to;
		} else {
			from = acked[a] + 1;
			to = from + rnd() % 9;
			if (to > n)
				to = n;
			ans = th_send(h, &ag[a], token_of(h, a), from, to);
			if (ans.status != 200)
				print_error("%s\n", ans.body ? ans.body : "");
			assert_int_equal(ans.status, 200);
			acked[a] = to;
		}
		assert_null(strstr(ans.body, "quarantined\":[{"));
		th_answer_free(&ans);
	}
	fail_msg("delivery did not finish");
}

static void test_hub_property__any_delivery_order_gives_byte_identical_tables(void **st)
{
	(void)st;
	struct th_agent ag[NAGENTS];
	char *first = NULL;
	journal(ag);
	for (int trial = 0; trial < NTRIALS; trial++) {
		struct th_hub h;
		assert_int_equal(th_hub_new(&h), 0);
		deliver(&h, ag, 0x1234567ULL + (uint64_t)trial * 7919);
		char *d = dump(h.path);
		assert_non_null(d);
		th_hub_free(&h);
		if (!first) {
			first = d;
			/* the journals exercise what they claim to */
			assert_non_null(strstr(first, "_del_writer=0190"));
			assert_non_null(strstr(first, "_fc={\""));
			continue;
		}
		if (strcmp(first, d) != 0)
			print_error("trial %d differs:\n%s\n--- first ---\n%s\n", trial, d, first);
		assert_string_equal(first, d);
		free(d);
	}
	free(first);
	for (int a = 0; a < NAGENTS; a++)
		th_agent_release(&ag[a]);
}

static void test_hub_property__one_big_change_set_equals_many_small_ones(void **st)
{
	(void)st;
	struct th_agent ag[NAGENTS];
	journal(ag);
	char *d[2];
	for (int mode = 0; mode < 2; mode++) {
		struct th_hub h;
		assert_int_equal(th_hub_new(&h), 0);
		for (int a = NAGENTS - 1; a >= 0; a--) {
			if (mode == 0) {
				struct th_answer ans = th_send(&h, &ag[a], token_of(&h, a), 1, ag[a].n);
				assert_int_equal(ans.status, 200);
				th_answer_free(&ans);
			} else {
				for (uint64_t s = 1; s <= ag[a].n; s++) {
					struct th_answer ans = th_send(&h, &ag[a], token_of(&h, a), s, s);
					assert_int_equal(ans.status, 200);
					th_answer_free(&ans);
				}
			}
		}
		d[mode] = dump(h.path);
		th_hub_free(&h);
	}
	assert_string_equal(d[0], d[1]);
	free(d[0]);
	free(d[1]);
	for (int a = 0; a < NAGENTS; a++)
		th_agent_release(&ag[a]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hub_property__any_delivery_order_gives_byte_identical_tables),
		cmocka_unit_test(test_hub_property__one_big_change_set_equals_many_small_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
