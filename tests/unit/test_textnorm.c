/*
 * test_textnorm.c — protocol/textnorm.h and protocol/datetext.h: NFC of decomposed
 * Vietnamese, the search key (case, diacritics, đ, spacing), the Vietnamese alphabet
 * test; dd/mm/yyyy, d/m/yyyy and ISO dates read, impossible days refused with the
 * month's length, ISO written back as dd/mm/yyyy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "datetext.h"
#include "textnorm.h"

static char *nfc(const char *s)
{
	char *out = NULL;
	size_t n = 0;
	assert_int_equal(textnorm_nfc(s, strlen(s), &out, &n), TEXTNORM_OK);
	assert_int_equal(strlen(out), n);
	return out;
}

static char *fold(const char *s)
{
	char *out = NULL;
	assert_int_equal(textnorm_fold(s, strlen(s), &out, NULL), TEXTNORM_OK);
	return out;
}

static void test_textnorm__decomposed_vietnamese_becomes_precomposed(void **state)
{
	(void)state;
	/* "Nguyễn" typed as e + U+0302 + U+0303, "Thị" as i + U+0323 */
	char *a = nfc("Nguye\xcc\x82\xcc\x83n Thi\xcc\xa3 Hoa");
	assert_string_equal(a, "Nguyễn Thị Hoa");
	free(a);
	/* already NFC and ASCII are kept byte for byte */
	char *b = nfc("Nguyễn Thị Hoa");
	assert_string_equal(b, "Nguyễn Thị Hoa");
	free(b);
	char *c = nfc("");
	assert_string_equal(c, "");
	free(c);
}

static void test_textnorm__invalid_utf8_is_refused(void **state)
{
	(void)state;
	char *out = (char *)1;
	assert_int_equal(textnorm_nfc("a\xc3", 2, &out, NULL), TEXTNORM_BAD_UTF8);
	assert_null(out);
	assert_int_equal(textnorm_fold("\xff", 1, &out, NULL), TEXTNORM_BAD_UTF8);
	assert_null(out);
}

static void test_textnorm__fold_ignores_case_diacritics_and_dstroke(void **state)
{
	(void)state;
	static const char *const same[][2] = {
		{ "Nguyễn Thị Hoa", "nguyen thi hoa" },
		{ "Đỗ", "do" },
		{ "ĐOÀN THANH NIÊN", "doan thanh nien" },
		{ "  Nguyễn \t Văn   An ", "nguyen van an" },
		{ "Nguye\xcc\x82\xcc\x83n", "nguyen" }, /* decomposed input folds the same */
		{ "Thôn Bình Hưng", "thon binh hung" },
	};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		char *a = fold(same[i][0]);
		assert_string_equal(a, same[i][1]);
		free(a);
	}
}

static void test_textnorm__vietnamese_letters_are_recognised(void **state)
{
	(void)state;
	static const int32_t yes[] = { 'a', 'Z', 0x0111, 0x0110, 0x1EC5 /* ễ */, 0x1EF9 /* ỹ */, 0x01B0 /* ư */,
				       0x0103 /* ă */, 0x1EA0 /* Ạ */, 0x00E0 /* à */ };
	static const int32_t no[] = { '1', ' ', 0x00B5 /* µ */, 0x00AE /* ® */, 0x00C4 /* Ä */, 0x00D1 /* Ñ */,
				      0x00F8 /* ø */, 0x0303 /* lone tilde */, 0x1E6D /* ṭ */, 0x00E7 /* ç */ };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_true(textnorm_vietnamese_letter(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_false(textnorm_vietnamese_letter(no[i]));
}

static void test_datetext__day_month_year_and_iso_are_read(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "14/3/2021", "2021-03-14" },  { "14/03/2021", "2021-03-14" }, { "4/3/2021", "2021-03-04" },
		{ "2021-03-14", "2021-03-14" }, { " 14-03-2021 ", "2021-03-14" }, { "14.3.2021", "2021-03-14" },
		{ "29/02/2024", "2024-02-29" }, { "31/12/2021", "2021-12-31" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char iso[DATETEXT_SIZE] = "";
		assert_int_equal(datetext_parse(cases[i][0], iso, NULL), DATETEXT_OK);
		assert_string_equal(iso, cases[i][1]);
	}
}

static void test_datetext__impossible_dates_are_refused_with_the_month_length(void **state)
{
	(void)state;
	char iso[DATETEXT_SIZE] = "unchanged";
	struct datetext_parts p;
	assert_int_equal(datetext_parse("31/02/2021", iso, &p), DATETEXT_BAD_DAY);
	assert_string_equal(iso, "unchanged");
	assert_int_equal(p.day, 31);
	assert_int_equal(p.month, 2);
	assert_int_equal(p.year, 2021);
	assert_int_equal(p.month_days, 28);
	assert_int_equal(datetext_parse("29/02/2023", iso, &p), DATETEXT_BAD_DAY);
	assert_int_equal(datetext_parse("31/04/2021", iso, &p), DATETEXT_BAD_DAY);
	assert_int_equal(datetext_parse("0/1/2021", iso, &p), DATETEXT_BAD_DAY);
	assert_int_equal(datetext_parse("1/13/2021", iso, &p), DATETEXT_BAD_MONTH);
	assert_int_equal(datetext_parse("2021-02-30", iso, &p), DATETEXT_BAD_DAY);
	assert_int_equal(datetext_parse("1/1/1850", iso, &p), DATETEXT_BAD_YEAR);
	static const char *const syntax[] = { "", "14/3", "14/3/21", "14/3-2021", "2021-3-14", "14/3/2021x",
					      "x14/3/2021", "123/3/2021", "14//2021", "2021-03-14T00:00" };
	for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
		assert_int_equal(datetext_parse(syntax[i], iso, NULL), DATETEXT_SYNTAX);
	assert_string_equal(iso, "unchanged");
}

static void test_datetext__iso_is_written_day_first(void **state)
{
	(void)state;
	char out[DATETEXT_SIZE];
	assert_int_equal(datetext_format("2021-03-04", out), 0);
	assert_string_equal(out, "04/03/2021");
	assert_int_equal(datetext_format("2021-02-31", out), -1);
	assert_int_equal(datetext_format("14/03/2021", out), -1);
	assert_int_equal(datetext_format("2021-03-041", out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_textnorm__decomposed_vietnamese_becomes_precomposed),
		cmocka_unit_test(test_textnorm__invalid_utf8_is_refused),
		cmocka_unit_test(test_textnorm__fold_ignores_case_diacritics_and_dstroke),
		cmocka_unit_test(test_textnorm__vietnamese_letters_are_recognised),
		cmocka_unit_test(test_datetext__day_month_year_and_iso_are_read),
		cmocka_unit_test(test_datetext__impossible_dates_are_refused_with_the_month_length),
		cmocka_unit_test(test_datetext__iso_is_written_day_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
