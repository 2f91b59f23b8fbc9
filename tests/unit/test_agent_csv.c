/*
 * test_agent_csv.c — the RFC 4180 reader and writer: BOM, quoting, embedded commas,
 * quotes and line breaks, CRLF/LF, bad records reported with their line and skipped,
 * limits, and a write→read round trip with Vietnamese text. Inputs are in-memory
 * streams (fmemopen; tests/unit/win_compat.h on Windows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

struct reader_fixture {
	FILE *f;
	struct csv_reader *r;
};

static struct csv_reader *open_text(struct reader_fixture *fx, const char *text, size_t len)
{
	fx->f = fmemopen((void *)text, len, "rb");
	assert_non_null(fx->f);
	fx->r = csv_reader_new(fx->f);
	assert_non_null(fx->r);
	return fx->r;
}

static void close_text(struct reader_fixture *fx)
{
	csv_reader_free(fx->r);
	fclose(fx->f);
}

#define OPEN(fx, lit) open_text(&(fx), (lit), sizeof(lit) - 1)

/* Expects a good record with exactly the given fields (NULL-terminated list). */
static void expect_record(struct csv_reader *r, unsigned long line, ...)
{
	assert_int_equal(csv_reader_next(r), CSV_OK);
	assert_int_equal(csv_reader_line(r), line);
	va_list ap;
	va_start(ap, line);
	size_t i = 0;
	const char *want;
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < csv_reader_nfields(r));
		assert_string_equal(csv_reader_field(r, i, NULL), want);
		i++;
	}
	va_end(ap);
	assert_int_equal(csv_reader_nfields(r), i);
}

static void test_agent_csv__reads_plain_records(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "full_name,birth_year\nAn,1990\nBình,1991\n");
	expect_record(r, 1, "full_name", "birth_year", NULL);
	expect_record(r, 2, "An", "1990", NULL);
	expect_record(r, 3, "Bình", "1991", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__strips_the_utf8_bom(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "\xEF\xBB\xBF" "full_name\r\nNguyễn Văn Ánh\r\n");
	expect_record(r, 1, "full_name", NULL);
	expect_record(r, 2, "Nguyễn Văn Ánh", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__a_first_character_like_a_bom_is_kept(void **state)
{
	(void)state;
	struct reader_fixture fx;
	/* U+F8FF starts with 0xEF like a BOM but is not one */
	struct csv_reader *r = OPEN(fx, "\xEF\xA3\xBFx,y\n");
	expect_record(r, 1, "\xEF\xA3\xBFx", "y", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
	r = OPEN(fx, "\xEF\xBB");
	expect_record(r, 1, "\xEF\xBB", NULL);
	close_text(&fx);
}

static void test_agent_csv__semicolons_from_vietnamese_excel_are_read(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "full_name;note\r\nAn;\"a, b; c\"\r\nBình;x,y\r\n");
	expect_record(r, 1, "full_name", "note", NULL);
	expect_record(r, 2, "An", "a, b; c", NULL);
	expect_record(r, 3, "Bình", "x,y", NULL); /* a comma is text once ';' separates */
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__crlf_and_lf_line_ends_both_work(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "a,b\r\nc,d\ne,f\r\ng,h\ri,j");
	expect_record(r, 1, "a", "b", NULL);
	expect_record(r, 2, "c", "d", NULL);
	expect_record(r, 3, "e", "f", NULL);
	expect_record(r, 4, "g", "h", NULL); /* old Mac: CR alone */
	expect_record(r, 5, "i", "j", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__quoted_fields_keep_commas_quotes_and_newlines(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "concerns,follow_up\r\n"
					"\"Thiếu kinh phí, thiếu chỗ họp\",\"Đã báo \"\"xã\"\"\"\r\n"
					"\"dòng một\r\ndòng hai\",\"\"\r\n"
					"next,row\r\n");
	expect_record(r, 1, "concerns", "follow_up", NULL);
	expect_record(r, 2, "Thiếu kinh phí, thiếu chỗ họp", "Đã báo \"xã\"", NULL);
	/* line breaks inside quotes are kept (as LF); the record started on line 3 */
	expect_record(r, 3, "dòng một\ndòng hai", "", NULL);
	expect_record(r, 5, "next", "row", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__empty_fields_blank_lines_and_no_final_newline(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "a,,\n\n\r\n,b,\nlast,x");
	expect_record(r, 1, "a", "", "", NULL);
	expect_record(r, 4, "", "b", "", NULL);
	expect_record(r, 5, "last", "x", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__bad_quotes_are_reported_with_their_line_and_skipped(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "h1,h2\n"
					"\"closed\"then,x\n"
					"ok,1\n"
					"in\"side,y\n"
					"ok,2\n");
	expect_record(r, 1, "h1", "h2", NULL);
	assert_int_equal(csv_reader_next(r), CSV_BAD_QUOTE);
	assert_int_equal(csv_reader_line(r), 2);
	expect_record(r, 3, "ok", "1", NULL);
	assert_int_equal(csv_reader_next(r), CSV_BAD_QUOTE);
	assert_int_equal(csv_reader_line(r), 4);
	expect_record(r, 5, "ok", "2", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__unterminated_quote_ends_the_file(void **state)
{
	(void)state;
	struct reader_fixture fx;
	struct csv_reader *r = OPEN(fx, "a\n\"never closed\nb\nc\n");
	expect_record(r, 1, "a", NULL);
	assert_int_equal(csv_reader_next(r), CSV_UNTERMINATED);
	assert_int_equal(csv_reader_line(r), 2);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

static void test_agent_csv__field_over_the_limit_is_refused_and_skipped(void **state)
{
	(void)state;
	size_t big = CSV_MAX_FIELD_BYTES + 10;
	size_t len = big + 64;
	char *text = malloc(len);
	assert_non_null(text);
	size_t n = (size_t)snprintf(text, len, "h\n\"");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)snprintf(text + n, len - n, "\"\nok\n");
	struct reader_fixture fx;
	struct csv_reader *r = open_text(&fx, text, n);
	expect_record(r, 1, "h", NULL);
	assert_int_equal(csv_reader_next(r), CSV_FIELD_TOO_LONG);
	assert_int_equal(csv_reader_line(r), 2);
	expect_record(r, 3, "ok", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
	free(text);
}

static void test_agent_csv__too_many_fields_and_nul_bytes_are_refused(void **state)
{
	(void)state;
	char text[1024];
	size_t n = 0;
	for (int i = 0; i <= CSV_MAX_FIELDS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s%d", i ? "," : "", i);
	n += (size_t)snprintf(text + n, sizeof text - n, "\nbad");
	text[n++] = '\0';
	n += (size_t)snprintf(text + n, sizeof text - n, "byte\nok\n");
	struct reader_fixture fx;
	struct csv_reader *r = open_text(&fx, text, n);
	assert_int_equal(csv_reader_next(r), CSV_TOO_MANY_FIELDS);
	assert_int_equal(csv_reader_line(r), 1);
	assert_int_equal(csv_reader_next(r), CSV_NUL_BYTE);
	assert_int_equal(csv_reader_line(r), 2);
	expect_record(r, 3, "ok", NULL);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
}

/* Writes records into a memory buffer; returns it (free with free()). */
static char *write_records(const char *const *fields, size_t nfields, size_t per_record, int bom, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_non_null(f);
	struct csv_writer w;
	assert_int_equal(csv_writer_init(&w, f, bom), 0);
	for (size_t i = 0; i < nfields; i++) {
		assert_int_equal(csv_write_field(&w, fields[i], fields[i] ? strlen(fields[i]) : 0), 0);
		if ((i + 1) % per_record == 0)
			assert_int_equal(csv_end_record(&w), 0);
	}
	fclose(f);
	return buf;
}

static void test_agent_csv__writer_quotes_only_when_needed_with_bom_and_crlf(void **state)
{
	(void)state;
	const char *fields[] = { "id", "Hà Nội", NULL, "a,b", "say \"hi\"", "two\nlines", " edge", "1990" };
	size_t len;
	char *out = write_records(fields, 8, 4, 1, &len);
	assert_string_equal(out, "\xEF\xBB\xBF" "id,Hà Nội,,\"a,b\"\r\n"
				 "\"say \"\"hi\"\"\",\"two\nlines\",\" edge\",1990\r\n");
	free(out);
}

static void test_agent_csv__write_then_read_round_trips_vietnamese_text(void **state)
{
	(void)state;
	const char *fields[] = {
		"full_name", "note", "phone",
		"Nguyễn Thị Thu Hằng", "Bí thư chi đoàn thôn Phú Mỹ, xã Hòa Thắng", "0912 345 678",
		"Trần Văn Đức", "Nói: \"Cần hỗ trợ vay vốn\"\nvà tập huấn khuyến nông", "",
		"Lê Ánh", "  khoảng trắng hai đầu  ", "",
	};
	size_t len;
	char *out = write_records(fields, 12, 3, 1, &len);
	struct reader_fixture fx;
	struct csv_reader *r = open_text(&fx, out, len);
	for (size_t rec = 0; rec < 4; rec++) {
		assert_int_equal(csv_reader_next(r), CSV_OK);
		assert_int_equal(csv_reader_nfields(r), 3);
		for (size_t i = 0; i < 3; i++)
			assert_string_equal(csv_reader_field(r, i, NULL), fields[rec * 3 + i]);
	}
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
	free(out);
}

static void test_agent_csv__formula_cells_are_written_with_an_apostrophe(void **state)
{
	(void)state;
	const char *fields[] = { "=HYPERLINK(\"http://x\")", "+84912345678", "-2+3", "@SUM(A1)",
				 "\tx", "\rx", "'=1", "'abc", "a=b", "Đoàn" };
	size_t len;
	char *out = write_records(fields, 10, 10, 0, &len);
	assert_string_equal(out, "\"'=HYPERLINK(\"\"http://x\"\")\",'+84912345678,'-2+3,'@SUM(A1),"
				 "\"'\tx\",\"'\rx\",''=1,'abc,a=b,Đoàn\r\n");
	free(out);
}

/* Every cell the writer can be given reads back byte for byte, including those that
 * start with apostrophes before a formula character, and a cell typed by hand with a
 * leading apostrophe before anything else is read as it is. */
static void test_agent_csv__apostrophes_round_trip_and_hand_typed_ones_are_kept(void **state)
{
	(void)state;
	const char *fields[] = { "=1+1", "'=1+1", "''=1+1", "'", "''", "'abc", "-", "'-",
				 "'\n", "\nx", "@", "a", "'\t'", "=", "''@x", "x'=", "'''" };
	size_t n = sizeof fields / sizeof fields[0];
	size_t len;
	char *out = write_records(fields, n, n, 1, &len);
	struct reader_fixture fx;
	struct csv_reader *r = open_text(&fx, out, len);
	assert_int_equal(csv_reader_next(r), CSV_OK);
	assert_int_equal(csv_reader_nfields(r), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(csv_reader_field(r, i, NULL), fields[i]);
	close_text(&fx);
	free(out);

	struct csv_reader *h = OPEN(fx, "'abc,'=x,''+y,'\n");
	expect_record(h, 1, "'abc", "=x", "'+y", "'", NULL);
	close_text(&fx);
}

/* A formula-like field of exactly the limit still reads back: its apostrophe is not
 * counted against CSV_MAX_FIELD_BYTES, and one byte more is still refused. */
static void test_agent_csv__a_guarded_field_at_the_limit_reads_back(void **state)
{
	(void)state;
	char *big = malloc(CSV_MAX_FIELD_BYTES + 2);
	assert_non_null(big);
	memset(big, 'x', CSV_MAX_FIELD_BYTES + 1);
	big[0] = '=';
	big[CSV_MAX_FIELD_BYTES] = '\0';
	const char *fields[] = { big };
	size_t len;
	char *out = write_records(fields, 1, 1, 0, &len);
	struct reader_fixture fx;
	struct csv_reader *r = open_text(&fx, out, len);
	assert_int_equal(csv_reader_next(r), CSV_OK);
	assert_string_equal(csv_reader_field(r, 0, NULL), big);
	close_text(&fx);
	free(out);
	big[CSV_MAX_FIELD_BYTES] = 'x';
	big[CSV_MAX_FIELD_BYTES + 1] = '\0';
	out = write_records(fields, 1, 1, 0, &len);
	r = open_text(&fx, out, len);
	assert_int_equal(csv_reader_next(r), CSV_FIELD_TOO_LONG);
	assert_int_equal(csv_reader_next(r), CSV_EOF);
	close_text(&fx);
	free(out);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_csv__reads_plain_records),
		cmocka_unit_test(test_agent_csv__strips_the_utf8_bom),
		cmocka_unit_test(test_agent_csv__a_first_character_like_a_bom_is_kept),
		cmocka_unit_test(test_agent_csv__semicolons_from_vietnamese_excel_are_read),
		cmocka_unit_test(test_agent_csv__crlf_and_lf_line_ends_both_work),
		cmocka_unit_test(test_agent_csv__quoted_fields_keep_commas_quotes_and_newlines),
		cmocka_unit_test(test_agent_csv__empty_fields_blank_lines_and_no_final_newline),
		cmocka_unit_test(test_agent_csv__bad_quotes_are_reported_with_their_line_and_skipped),
		cmocka_unit_test(test_agent_csv__unterminated_quote_ends_the_file),
		cmocka_unit_test(test_agent_csv__field_over_the_limit_is_refused_and_skipped),
		cmocka_unit_test(test_agent_csv__too_many_fields_and_nul_bytes_are_refused),
		cmocka_unit_test(test_agent_csv__writer_quotes_only_when_needed_with_bom_and_crlf),
		cmocka_unit_test(test_agent_csv__write_then_read_round_trips_vietnamese_text),
		cmocka_unit_test(test_agent_csv__formula_cells_are_written_with_an_apostrophe),
		cmocka_unit_test(test_agent_csv__apostrophes_round_trip_and_hand_typed_ones_are_kept),
		cmocka_unit_test(test_agent_csv__a_guarded_field_at_the_limit_reads_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
