/*
 * test_joincode.c — join codes (PROTOCOL.md §12): a code computed independently
 * (Python's base64 and zlib.crc32) decodes to its fields and our encoder writes the
 * same text; every single mistyped character is refused as a typing error; whitespace
 * from a wrapped printout is ignored; another version, a non-code, and fields §12
 * forbids (one pin for https, pins for http, the same key twice) are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "joincode.h"

#define URL "https://hub.binhthuan.gov.vn"
#define UNIT "01a252a0-e622-7523-9e2d-92096d9761cc"
#define TOKEN "lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define PIN1 "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define PIN2 "sha256//AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
/* python3: "LK1." + urlsafe_b64encode(payload).rstrip("=") + "." + "%08x" % zlib.crc32(...) */
static const char PY_CODE[] =
	"LK1.aHR0cHM6Ly9odWIuYmluaHRodWFuLmdvdi52bgowMWEyNTJhMC1lNjIyLTc1MjMtOWUyZC05MjA5NmQ5NzYxY2MKbGtf"
	"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQpzaGEyNTYvL0FBRUNBd1FGQmdjSUNRb0xEQTBP"
	"RHhBUkVoTVVGUllYR0JrYUd4d2RIaDg9O3NoYTI1Ni8vQVFJREJBVUdCd2dKQ2dzTURRNFBFQkVTRXhRVkZoY1lHUm9iSEIw"
	"ZUh5QT0.14b485ec";

static struct joincode sample(void)
{
	struct joincode j;
	memset(&j, 0, sizeof j);
	snprintf(j.url, sizeof j.url, "%s", URL);
	snprintf(j.unit, sizeof j.unit, "%s", UNIT);
	snprintf(j.token, sizeof j.token, "%s", TOKEN);
	snprintf(j.pins, sizeof j.pins, "%s;%s", PIN1, PIN2);
	return j;
}

static void test_joincode__independent_vector_decodes_and_encodes_identically(void **state)
{
	(void)state;
	struct joincode j, s = sample();
	assert_int_equal(joincode_decode(PY_CODE, &j), JOINCODE_OK);
	assert_string_equal(j.url, URL);
	assert_string_equal(j.unit, UNIT);
	assert_string_equal(j.token, TOKEN);
	assert_string_equal(j.pins, PIN1 ";" PIN2);
	char out[JOINCODE_MAX + 1];
	assert_int_equal(joincode_encode(&s, out, sizeof out), 0);
	assert_string_equal(out, PY_CODE);
	for (const char *p = out; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", *p));
}

static void test_joincode__every_mistyped_character_is_refused(void **state)
{
	(void)state;
	char code[sizeof PY_CODE];
	size_t n = strlen(PY_CODE);
	for (size_t i = 4; i < n; i++) { /* after "LK1." */
		for (const char *c = "Ab9-_"; *c; c++) {
			if (PY_CODE[i] == *c || (PY_CODE[i] == '.' && *c != '.'))
				continue;
			memcpy(code, PY_CODE, sizeof code);
			code[i] = *c;
			struct joincode j;
			enum joincode_result r = joincode_decode(code, &j);
			if (r != JOINCODE_MISTYPED)
				fail_msg("position %zu '%c' -> %d", i, *c, r);
			assert_string_equal(j.token, "");
		}
	}
	/* a character left out, two swapped, the code cut short */
	memcpy(code, PY_CODE, sizeof code);
	memmove(code + 40, code + 41, n - 40);
	assert_int_equal(joincode_decode(code, &(struct joincode){ 0 }), JOINCODE_MISTYPED);
	memcpy(code, PY_CODE, sizeof code);
	char t = code[50];
	code[50] = code[51];
	code[51] = t;
	assert_int_equal(joincode_decode(code, &(struct joincode){ 0 }), JOINCODE_MISTYPED);
	memcpy(code, PY_CODE, sizeof code);
	code[n - 3] = '\0';
	assert_int_equal(joincode_decode(code, &(struct joincode){ 0 }), JOINCODE_MISTYPED);
}

static void test_joincode__whitespace_from_a_wrapped_printout_is_ignored(void **state)
{
	(void)state;
	char wrapped[sizeof PY_CODE + 64];
	size_t w = 0;
	for (size_t i = 0; PY_CODE[i]; i++) {
		if (i && i % 60 == 0)
			wrapped[w++] = i % 120 ? '\n' : ' ';
		wrapped[w++] = PY_CODE[i];
	}
	wrapped[w] = '\0';
	struct joincode j;
	assert_int_equal(joincode_decode(wrapped, &j), JOINCODE_OK);
	assert_string_equal(j.token, TOKEN);
}

static void test_joincode__other_versions_and_non_codes_are_told_apart(void **state)
{
	(void)state;
	struct joincode j;
	char code[sizeof PY_CODE];
	memcpy(code, PY_CODE, sizeof code);
	code[2] = '2';
	assert_int_equal(joincode_decode(code, &j), JOINCODE_NEWER);
	assert_int_equal(joincode_decode(TOKEN, &j), JOINCODE_NOT_A_CODE);
	assert_int_equal(joincode_decode("https://hub.example.vn", &j), JOINCODE_NOT_A_CODE);
	assert_int_equal(joincode_decode("", &j), JOINCODE_NOT_A_CODE);
	memcpy(code, PY_CODE, sizeof code);
	code[20] = '+';
	assert_int_equal(joincode_decode(code, &j), JOINCODE_NOT_A_CODE);
	char big[JOINCODE_MAX + 10];
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(joincode_decode(big, &j), JOINCODE_TOO_LONG);
}

static void test_joincode__fields_section_12_forbids_are_refused(void **state)
{
	(void)state;
	char out[JOINCODE_MAX + 1];
	struct joincode j = sample();
	snprintf(j.pins, sizeof j.pins, "%s", PIN1); /* no backup key */
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	snprintf(j.pins, sizeof j.pins, "%s;%s", PIN1, PIN1); /* the same key twice */
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	snprintf(j.pins, sizeof j.pins, "%s;sha256//short=", PIN1);
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	j = sample();
	snprintf(j.url, sizeof j.url, "http://hub.example.vn"); /* plain http to a real host */
	j.pins[0] = '\0';
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	snprintf(j.url, sizeof j.url, "http://127.0.0.1:8080");
	assert_int_equal(joincode_encode(&j, out, sizeof out), 0);
	snprintf(j.pins, sizeof j.pins, "%s;%s", PIN1, PIN2); /* pins with http */
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	j = sample();
	snprintf(j.unit, sizeof j.unit, "22915");
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	j = sample();
	snprintf(j.token, sizeof j.token, "lk_short");
	assert_int_equal(joincode_encode(&j, out, sizeof out), -1);
	j = sample();
	assert_int_equal(joincode_encode(&j, out, 40), -1); /* no room */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_joincode__independent_vector_decodes_and_encodes_identically),
		cmocka_unit_test(test_joincode__every_mistyped_character_is_refused),
		cmocka_unit_test(test_joincode__whitespace_from_a_wrapped_printout_is_ignored),
		cmocka_unit_test(test_joincode__other_versions_and_non_codes_are_told_apart),
		cmocka_unit_test(test_joincode__fields_section_12_forbids_are_refused),
	};
	return cmocka_run_group_tests_name("joincode", tests, NULL, NULL);
}
