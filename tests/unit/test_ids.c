/*
 * test_ids.c — UUIDv7 and UUIDv5 layout (RFC 9562), the Liên Kết namespace against
 * vectors computed independently (Python's uuid module), and tokens: form, hash and
 * constant-time comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ids.h"

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void test_uuid7__has_version_7_variant_10_and_the_time_in_front(void **state)
{
	(void)state;
	char u[IDS_UUID_TEXT];
	int64_t ms = 1764150000000; /* 0x019abf88b980 */
	assert_int_equal(ids_uuid7(ms, u), 0);
	assert_true(ids_uuid_valid(u));
	assert_int_equal(u[14], '7');
	assert_true(strchr("89ab", u[19]) != NULL);
	assert_memory_equal(u, "019abf88-b980", 13);
}

static void test_uuid7__ids_sort_by_time_and_never_repeat(void **state)
{
	(void)state;
	char prev[IDS_UUID_TEXT], cur[IDS_UUID_TEXT];
	assert_int_equal(ids_uuid7(1000, prev), 0);
	for (int i = 1; i < 200; i++) {
		assert_int_equal(ids_uuid7(1000 + i, cur), 0);
		assert_true(strcmp(prev, cur) < 0);
		strcpy(prev, cur);
	}
	char a[IDS_UUID_TEXT], b[IDS_UUID_TEXT];
	assert_int_equal(ids_uuid7(5, a), 0);
	assert_int_equal(ids_uuid7(5, b), 0);
	assert_string_not_equal(a, b);
}

static void test_uuid5__matches_independent_vectors_in_our_namespace(void **state)
{
	(void)state;
	char u[IDS_UUID_TEXT];
	const char *name = "year_record\x1f" "0190f3a2-0000-7000-8000-0000000000c1\x1f" "2024";
	ids_uuid5(name, strlen(name), u);
	assert_string_equal(u, "e0c17ba5-5aa9-56b8-b3e5-8f9c90cda591");
	ids_uuid5("", 0, u);
	assert_string_equal(u, "3ed56bb6-b1ff-5229-93c4-2b4827014caf");
}

static void test_uuid5__same_name_same_id_and_version_5(void **state)
{
	(void)state;
	char a[IDS_UUID_TEXT], b[IDS_UUID_TEXT];
	ids_uuid5("x", 1, a);
	ids_uuid5("x", 1, b);
	assert_string_equal(a, b);
	assert_int_equal(a[14], '5');
	ids_uuid5("y", 1, b);
	assert_string_not_equal(a, b);
}

static void test_uuid_valid__accepts_only_36_lowercase_characters(void **state)
{
	(void)state;
	assert_true(ids_uuid_valid("0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b"));
	assert_false(ids_uuid_valid("0190F3A2-7C1E-7D44-9A0B-5F3E2C1D0A9B"));
	assert_false(ids_uuid_valid("0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9"));
	assert_false(ids_uuid_valid("0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9bc"));
	assert_false(ids_uuid_valid("0190f3a27c1e-7d44-9a0b-5f3e2c1d0a9b0"));
	assert_false(ids_uuid_valid("0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9g"));
	assert_false(ids_uuid_valid(""));
	assert_false(ids_uuid_valid(NULL));
}

static void test_token__new_tokens_are_wellformed_and_distinct(void **state)
{
	(void)state;
	char a[IDS_TOKEN_TEXT], b[IDS_TOKEN_TEXT];
	assert_int_equal(ids_token_new(a), 0);
	assert_int_equal(ids_token_new(b), 0);
	assert_int_equal(strlen(a), IDS_TOKEN_TEXT - 1);
	assert_memory_equal(a, "lk_", 3);
	assert_true(ids_token_wellformed(a));
	assert_true(ids_token_wellformed(b));
	assert_string_not_equal(a, b);
	/* the last character carries 4 data bits and 2 zero bits */
	int last = -1;
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	last = (int)(strchr(alpha, a[IDS_TOKEN_TEXT - 2]) - alpha);
	assert_int_equal(last & 3, 0);
}

static void test_token__malformed_tokens_are_refused(void **state)
{
	(void)state;
	char t[IDS_TOKEN_TEXT];
	assert_int_equal(ids_token_new(t), 0);
	char bad[IDS_TOKEN_TEXT + 1];
	strcpy(bad, t);
	bad[0] = 'L';
	assert_false(ids_token_wellformed(bad));
	strcpy(bad, t);
	bad[10] = '+';
	assert_false(ids_token_wellformed(bad));
	strcpy(bad, t);
	bad[IDS_TOKEN_TEXT - 2] = '\0';
	assert_false(ids_token_wellformed(bad));
	strcpy(bad, t);
	strcat(bad, "A");
	assert_false(ids_token_wellformed(bad));
	assert_true(ids_token_wellformed("lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(ids_token_wellformed("lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"));
	assert_false(ids_token_wellformed(NULL));
	assert_false(ids_token_wellformed(""));
}

static void test_token_hash__is_sha256_hex_of_the_token_text(void **state)
{
	(void)state;
	char h[65];
	ids_token_hash("lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h);
	assert_string_equal(h, "637352dd916ed388c365b881e91f0f18a5e9802ea40a3cb74361a613168cfaf9");
	ids_token_hash("", h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	for (int i = 0; i < 64; i++)
		assert_true(hexval(h[i]) >= 0 && hexval(h[i]) < 16);
}

/* A dashboard session id has the token's length and alphabet but its own prefix: one is
 * never taken for the other. */
static void test_session__ids_are_random_and_never_tokens(void **state)
{
	(void)state;
	char a[IDS_TOKEN_TEXT], b[IDS_TOKEN_TEXT], t[IDS_TOKEN_TEXT];
	assert_int_equal(ids_session_new(a), 0);
	assert_int_equal(ids_session_new(b), 0);
	assert_int_equal(ids_token_new(t), 0);
	assert_int_equal(strlen(a), IDS_TOKEN_TEXT - 1);
	assert_memory_equal(a, "ls_", 3);
	assert_string_not_equal(a, b);
	assert_true(ids_session_wellformed(a));
	assert_false(ids_token_wellformed(a));
	assert_false(ids_session_wellformed(t));
	assert_false(ids_session_wellformed("ls_short"));
	assert_false(ids_session_wellformed(NULL));
}

static void test_secure_equal__compares_all_bytes(void **state)
{
	(void)state;
	unsigned char a[32] = { 0 }, b[32] = { 0 };
	assert_true(ids_secure_equal(a, b, 32));
	b[31] = 1;
	assert_false(ids_secure_equal(a, b, 32));
	assert_true(ids_secure_equal(a, b, 31));
	assert_true(ids_secure_equal(a, b, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid7__has_version_7_variant_10_and_the_time_in_front),
		cmocka_unit_test(test_uuid7__ids_sort_by_time_and_never_repeat),
		cmocka_unit_test(test_uuid5__matches_independent_vectors_in_our_namespace),
		cmocka_unit_test(test_uuid5__same_name_same_id_and_version_5),
		cmocka_unit_test(test_uuid_valid__accepts_only_36_lowercase_characters),
		cmocka_unit_test(test_token__new_tokens_are_wellformed_and_distinct),
		cmocka_unit_test(test_token__malformed_tokens_are_refused),
		cmocka_unit_test(test_token_hash__is_sha256_hex_of_the_token_text),
		cmocka_unit_test(test_session__ids_are_random_and_never_tokens),
		cmocka_unit_test(test_secure_equal__compares_all_bytes),
	};
	return cmocka_run_group_tests_name("ids", tests, NULL, NULL);
}
