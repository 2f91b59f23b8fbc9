/*
 * test_textsafe.c — protocol/textsafe.h: the spreadsheet rule (which cells get an
 * apostrophe, which apostrophes a reader drops, and that the two are inverse) and the
 * terminal escapes (controls, C1, bidi overrides, invalid UTF-8 escaped; Vietnamese
 * and every other valid character unchanged; a short buffer cut at a boundary).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "textsafe.h"

static int guard(const char *s) { return textsafe_csv_needs_guard(s, strlen(s)); }
static int guarded(const char *s) { return textsafe_csv_is_guarded(s, strlen(s)); }

static void test_textsafe__formula_starts_need_an_apostrophe(void **state)
{
	(void)state;
	static const char *const yes[] = { "=1", "+84", "-1", "@A1", "\tx", "\rx", "\nx", "'=1", "'''@" };
	static const char *const no[] = { "", "a=1", "1-2", "'", "''", "'abc", " =1", "Đoàn" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_true(guard(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_false(guard(no[i]));
}

/* For every text v: reading back (v with an apostrophe when it needs one) gives v. */
static void test_textsafe__writing_and_reading_a_cell_are_inverse(void **state)
{
	(void)state;
	static const char *const cells[] = { "", "'", "''", "=", "'=", "''=", "'a", "a", "-", "'-x",
					     "'\t", "@@", "x'=", "'''", "'''+" };
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		const char *v = cells[i];
		char written[16];
		snprintf(written, sizeof written, "%s%s", guard(v) ? "'" : "", v);
		const char *read = guarded(written) ? written + 1 : written;
		assert_string_equal(read, v);
	}
}

static void test_textsafe__terminal_controls_are_escaped_and_utf8_kept(void **state)
{
	(void)state;
	char out[256];
	assert_string_equal(textsafe_term(out, sizeof out, "Nguyễn Thị Ánh — Bình Thuận \\ ok"),
			    "Nguyễn Thị Ánh — Bình Thuận \\ ok");
	assert_string_equal(textsafe_term(out, sizeof out, "a\x1b[2Jb\x07\x7f\t\n\r\x01"),
			    "a\\x1b[2Jb\\x07\\x7f\\t\\n\\r\\x01");
	/* C1 CSI, NEL; bidi override and isolate */
	assert_string_equal(textsafe_term(out, sizeof out, "\xc2\x9b" "1m\xc2\x85\xe2\x80\xae" "x\xe2\x81\xa6"),
			    "\\u009b1m\\u0085\\u202ex\\u2066");
	/* invalid UTF-8: a lone continuation, an overlong ESC, a surrogate, a cut sequence */
	assert_string_equal(textsafe_term(out, sizeof out, "\x80" "a\xc0\x9b" "b\xed\xa0\x80" "c\xe1\x80"),
			    "\\x80a\\xc0\\x9bb\\xed\\xa0\\x80c\\xe1\\x80");
	/* a four-byte character is valid and kept */
	assert_string_equal(textsafe_term(out, sizeof out, "\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
	assert_string_equal(textsafe_term(out, sizeof out, NULL), "");
}

static void test_textsafe__a_short_buffer_is_cut_at_a_boundary(void **state)
{
	(void)state;
	char out[6];
	/* "ab" + "\x1b" (4 bytes) does not fit in 5: the escape is left out whole */
	assert_string_equal(textsafe_term(out, sizeof out, "ab\x1b" "cd"), "ab");
	/* "aĐ" is 3 bytes, "ễ" 3 more: cut before the character */
	assert_string_equal(textsafe_term(out, sizeof out, "aĐễ"), "aĐ");
	char one[1];
	assert_string_equal(textsafe_term(one, sizeof one, "x"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_textsafe__formula_starts_need_an_apostrophe),
		cmocka_unit_test(test_textsafe__writing_and_reading_a_cell_are_inverse),
		cmocka_unit_test(test_textsafe__terminal_controls_are_escaped_and_utf8_kept),
		cmocka_unit_test(test_textsafe__a_short_buffer_is_cut_at_a_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
