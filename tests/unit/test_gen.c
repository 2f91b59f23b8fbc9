/*
 * test_gen.c — lienket-gen (bench/gen.c): ids as the protocol derives them, RFC 4180
 * quoting, free text within 40-120 characters, the hub's unit listing as a mapping, the
 * planned figures met exactly, and the same seed giving the same bytes.
 *
 * gen.c is a program, not a library: it is included here whole (its main renamed) so
 * that its static functions can be tested without being exported. The full runs use
 * tests/fixtures/units-small.csv (3 districts, 10 communes) with small targets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int gen_main(int argc, char **argv);
#define main gen_main
#include "../../bench/gen.c"
#undef main

#include <unistd.h>

#include "ids.h"

#define SMALL_UNITS "tests/fixtures/units-small.csv"

static void test_gen__uuid5_is_the_protocols(void **state)
{
	(void)state;
	static const char *const names[] = { "commune:22915", "year_record\x1f" "0165e688-2e1b-718e-b77d-569ac8a9293c\x1f" "2020" };
	char a[UUID_TEXT], b[IDS_UUID_TEXT];
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		assert_int_equal(uuid5(names[i], strlen(names[i]), a), 0);
		ids_uuid5(names[i], strlen(names[i]), b);
		assert_string_equal(a, b);
	}
	/* computed independently with Python's uuid.uuid5 */
	assert_int_equal(uuid5(names[0], strlen(names[0]), a), 0);
	assert_string_equal(a, "454aa23c-2e9d-5c49-9c94-d4668391229a");
}

static void test_gen__uuid7_is_valid_and_time_ordered(void **state)
{
	(void)state;
	struct rng r;
	char a[UUID_TEXT], b[UUID_TEXT];
	rng_init(&r, 1, "t");
	uuid7(&r, 1764150000000, a);
	uuid7(&r, 1764150000001, b);
	assert_true(ids_uuid_valid(a) && ids_uuid_valid(b));
	assert_int_equal(a[14], '7');
	assert_memory_equal(a, "019abf88-b980", 13);
	assert_true(strcmp(a, b) < 0);
}

static void test_gen__fields_are_quoted_per_rfc_4180(void **state)
{
	(void)state;
	char out[64];
	size_t n = csv_put(out, "Thôn Bình Hưng");
	assert_int_equal(n, strlen("Thôn Bình Hưng"));
	n = csv_put(out, "a,b");
	out[n] = '\0';
	assert_string_equal(out, "\"a,b\"");
	n = csv_put(out, "mô hình \"2 giao\"");
	out[n] = '\0';
	assert_string_equal(out, "\"mô hình \"\"2 giao\"\"\"");
	n = csv_put(out, "x\ny");
	out[n] = '\0';
	assert_string_equal(out, "\"x\ny\"");
}

static void test_gen__free_text_has_40_to_120_characters(void **state)
{
	(void)state;
	static struct gen g;
	struct rng r;
	char out[GEN_VALUE_MAX], f[GEN_VALUE_MAX];
	const char *pc, *pf;
	struct text_ctx x = { "thôn Thiện Nghiệp", "thị trấn Phan Rí Cửa", 12, 8 };
	rng_init(&r, 3, "t");
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(draw_concerns(&g, &r, &x, 100, out, f, &pc, &pf), 0);
		long n = utf8_chars(pc);
		assert_true(n >= 40 && n <= 120);
		if (pf) {
			n = utf8_chars(pf);
			assert_true(n >= 40 && n <= 120);
		}
		const struct pool tp[] = { { vol_title[i % VK_N], 4 }, POOL(vol_where) };
		assert_int_equal(text_compose(&g, &r, out, sizeof out, tp, ARRAY_LEN(tp), &x, 300, 0), 0);
		n = utf8_chars(out);
		assert_true(n >= 40 && n <= 120 && strlen(out) <= 300);
	}
}

static void test_gen__dates_round_trip(void **state)
{
	(void)state;
	char t[DATE_TEXT];
	int64_t d;
	date_text(day_of(2021, 12, 31), t);
	assert_string_equal(t, "2021-12-31");
	assert_int_equal(date_parse("2020-02-29", &d), 0);
	assert_int_equal(d, day_of(2020, 2, 29));
	assert_int_equal(date_parse("2021-02-29", &d), -1);
	assert_int_equal(date_parse("2021-13-01", &d), -1);
}

/* A struct gen set up on the small fixture with small targets (heap: it is large). */
static struct gen *small_gen(const char *ids_path)
{
	struct gen *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->seed = 5;
	g->year = 2021;
	g->units_path = SMALL_UNITS;
	g->ids_path = ids_path;
	g->target_branches = 60;
	g->target_insured = 55;
	g->target_introduced = 20;
	g->target_admitted = 8;
	g->target_participations = 700;
	return g;
}

static void test_gen__planned_figures_are_met_exactly(void **state)
{
	(void)state;
	struct gen *g = small_gen(NULL);
	assert_int_equal(load_units(g), 0);
	assert_int_equal(assign_unit_ids(g), 0);
	assert_int_equal(plan(g), 0);
	name_branches(g);
	for (int c = 0; c < g->nc; c++)
		assert_int_equal(write_commune(g, c), 0); /* no --out: a dry run */
	for (int d = 0; d < g->nd; d++)
		assert_int_equal(write_district(g, d), 0);
	assert_int_equal(check_headline(g), 0);
	struct stats p;
	memset(&p, 0, sizeof p);
	for (int d = 0; d < g->nd; d++)
		stats_add(&p, &g->ds[d]);
	long parts = 0;
	for (int k = 0; k < VK_N; k++)
		parts += p.vol_part[k];
	assert_int_equal(p.branches, 60);
	assert_int_equal(p.secretaries, 60);
	assert_int_equal(p.insured, 55);
	assert_int_equal(p.introduced, 20);
	assert_int_equal(p.admitted, 8);
	assert_int_equal(parts, 700);
	assert_int_equal(p.rating[R_KHONG], 0);
	assert_int_equal(p.inactive, 0);
	assert_int_equal(p.joint_meetings, 12 * g->nc);
	assert_int_equal(p.joint_hosts, 60);
	assert_int_equal(p.giao_ban, 2 * g->nd);
	assert_int_equal(p.giao_nhiem_vu, 12 * g->nd);
	gen_release(g);
	free(g);
}

static void test_gen__hub_unit_listing_gives_the_ids(void **state)
{
	(void)state;
	char path[] = "/tmp/test_gen_ids_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	struct gen *g0 = small_gen(NULL);
	assert_int_equal(load_units(g0), 0);
	/* as `lienket-hub units list` prints: id, code, name, kind, parent */
	fprintf(f, "01a217c8-b395-7571-9dae-b9587d9125a0\t60\tTỉnh Bình Thuận\tprovince\t-\n");
	for (int i = 0; i < g0->nd; i++)
		fprintf(f, "01a217c8-b395-7000-8000-%012d\t%s\t%s\tdistrict\t-\n", i, g0->d[i].code, g0->d[i].name);
	for (int i = 0; i < g0->nc; i++)
		fprintf(f, "01a217c8-b395-7000-9000-%012d\t%s\t%s\tcommune\t-\n", i, g0->c[i].code, g0->c[i].name);
	fprintf(f, "01a217c8-b395-7000-a000-000000000001\t-\tThôn 1\tbranch\t-\n");
	assert_int_equal(fclose(f), 0);
	gen_release(g0);
	free(g0);

	struct gen *g = small_gen(path);
	assert_int_equal(load_units(g), 0);
	assert_int_equal(assign_unit_ids(g), 0);
	assert_int_equal(g->ids_mapped, 1);
	assert_string_equal(g->d[1].uid, "01a217c8-b395-7000-8000-000000000001");
	assert_string_equal(g->c[3].uid, "01a217c8-b395-7000-9000-000000000003");
	gen_release(g);
	free(g);
	unlink(path);
}

static int read_all(const char *path, char **out, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t k;
	while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
		len += k;
		if (len == cap) {
			char *p = realloc(buf, cap *= 2);
			if (!p) {
				free(buf);
				buf = NULL;
			}
			buf = p;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	*out = buf;
	*n = len;
	return 0;
}

static void assert_same_file(const char *a, const char *b)
{
	char *x, *y;
	size_t nx, ny;
	assert_int_equal(read_all(a, &x, &nx), 0);
	assert_int_equal(read_all(b, &y, &ny), 0);
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, nx);
	free(x);
	free(y);
}

static void test_gen__same_seed_gives_the_same_bytes(void **state)
{
	(void)state;
	char d1[] = "/tmp/test_gen_a_XXXXXX", d2[] = "/tmp/test_gen_b_XXXXXX";
	assert_non_null(mkdtemp(d1));
	assert_non_null(mkdtemp(d2));
	for (int run = 0; run < 2; run++) {
		char *argv[] = { "lienket-gen", "province", "--units", SMALL_UNITS, "--seed", "9",
				 "--branches", "60", "--insured", "55", "--introduced", "20", "--admitted", "8",
				 "--participations", "700", "--out", run ? d2 : d1, NULL };
		assert_int_equal(gen_main((int)ARRAY_LEN(argv) - 1, argv), 0);
	}
	struct gen *g = small_gen(NULL);
	assert_int_equal(load_units(g), 0);
	char a[GEN_PATH_MAX], b[GEN_PATH_MAX];
	static const char *const top[] = { "index.csv", "expected.json" };
	for (size_t i = 0; i < ARRAY_LEN(top); i++) {
		snprintf(a, sizeof a, "%s/%s", d1, top[i]);
		snprintf(b, sizeof b, "%s/%s", d2, top[i]);
		assert_same_file(a, b);
		unlink(a);
		unlink(b);
	}
	for (int k = 0; k < g->nc + g->nd; k++) {
		const char *code = k < g->nc ? g->c[k].code : g->d[k - g->nc].code;
		const char *const *tables = k < g->nc ? commune_tables : district_tables;
		size_t nt = k < g->nc ? ARRAY_LEN(commune_tables) : ARRAY_LEN(district_tables);
		for (size_t t = 0; t < nt; t++) {
			snprintf(a, sizeof a, "%s/%s/%02zu-%s.csv", d1, code, t + 1, tables[t]);
			snprintf(b, sizeof b, "%s/%s/%02zu-%s.csv", d2, code, t + 1, tables[t]);
			assert_same_file(a, b);
			unlink(a);
			unlink(b);
		}
		snprintf(a, sizeof a, "%s/%s", d1, code);
		snprintf(b, sizeof b, "%s/%s", d2, code);
		rmdir(a);
		rmdir(b);
	}
	assert_int_equal(rmdir(d1), 0);
	assert_int_equal(rmdir(d2), 0);
	gen_release(g);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen__uuid5_is_the_protocols),
		cmocka_unit_test(test_gen__uuid7_is_valid_and_time_ordered),
		cmocka_unit_test(test_gen__fields_are_quoted_per_rfc_4180),
		cmocka_unit_test(test_gen__free_text_has_40_to_120_characters),
		cmocka_unit_test(test_gen__dates_round_trip),
		cmocka_unit_test(test_gen__planned_figures_are_met_exactly),
		cmocka_unit_test(test_gen__hub_unit_listing_gives_the_ids),
		cmocka_unit_test(test_gen__same_seed_gives_the_same_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
