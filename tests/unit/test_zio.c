/*
 * test_zio.c — bounded inflate: round trips, every truncation of a stream, corrupt
 * headers and checksums, trailing bytes, the exact size limit, and a decompression
 * bomb (a few KB inflating far beyond the limit) stopped quickly at the limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "wire.h"
#include "zio.h"

static unsigned char *sample(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	assert_non_null(p);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)("{\"v\":1,\"entries\":[]} "[(x >> 16) % 22] ^ (i % 7 == 0 ? (x >> 24) : 0));
	}
	return p;
}

static void test_zio__round_trip_of_many_sizes(void **state)
{
	(void)state;
	size_t sizes[] = { 0, 1, 2, 100, 4096, 65536, 1u << 20 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		unsigned char *in = sample(sizes[k]), *z = NULL, *out = NULL;
		size_t zlen = 0, olen = 0;
		assert_int_equal(zio_deflate(in, sizes[k], 6, &z, &zlen), ZIO_OK);
		assert_int_equal(zio_inflate(z, zlen, sizes[k], &out, &olen), ZIO_OK);
		assert_int_equal(olen, sizes[k]);
		if (sizes[k])
			assert_memory_equal(out, in, sizes[k]);
		assert_int_equal(out[olen], '\0');
		free(in);
		free(z);
		free(out);
	}
}

static void test_zio__every_truncation_is_reported_truncated(void **state)
{
	(void)state;
	unsigned char *in = sample(5000), *z = NULL, *out = NULL;
	size_t zlen = 0, olen = 0;
	assert_int_equal(zio_deflate(in, 5000, 9, &z, &zlen), ZIO_OK);
	for (size_t cut = 0; cut < zlen; cut++) {
		out = NULL;
		enum zio_result r = zio_inflate(z, cut, 1u << 20, &out, &olen);
		if (r != ZIO_TRUNCATED)
			fail_msg("cut at %zu of %zu: %s", cut, zlen, zio_result_str(r));
		assert_null(out);
	}
	free(in);
	free(z);
}

static void test_zio__corrupt_header_data_or_checksum_is_corrupt(void **state)
{
	(void)state;
	unsigned char *in = sample(3000), *z = NULL, *out = NULL;
	size_t zlen = 0, olen = 0;
	assert_int_equal(zio_deflate(in, 3000, 6, &z, &zlen), ZIO_OK);
	z[0] ^= 0x01; /* header check bits no longer valid */
	assert_int_equal(zio_inflate(z, zlen, 1u << 20, &out, &olen), ZIO_CORRUPT);
	z[0] ^= 0x01;
	z[zlen - 1] ^= 0xff; /* Adler-32 */
	assert_int_equal(zio_inflate(z, zlen, 1u << 20, &out, &olen), ZIO_CORRUPT);
	z[zlen - 1] ^= 0xff;
	const char *raw = "{\"v\":1}"; /* plain JSON sent as if deflated */
	assert_int_equal(zio_inflate(raw, strlen(raw), 1u << 20, &out, &olen), ZIO_CORRUPT);
	assert_null(out);
	free(in);
	free(z);
}

static void test_zio__bytes_after_the_stream_are_trailing(void **state)
{
	(void)state;
	unsigned char *z = NULL, *out = NULL;
	size_t zlen = 0, olen = 0;
	assert_int_equal(zio_deflate("abc", 3, 6, &z, &zlen), ZIO_OK);
	unsigned char *longer = malloc(zlen + 1);
	memcpy(longer, z, zlen);
	longer[zlen] = 'x';
	assert_int_equal(zio_inflate(longer, zlen + 1, 100, &out, &olen), ZIO_TRAILING);
	assert_null(out);
	free(longer);
	free(z);
}

static void test_zio__output_of_exactly_max_passes_and_one_more_byte_is_too_large(void **state)
{
	(void)state;
	unsigned char *in = sample(10000), *z = NULL, *out = NULL;
	size_t zlen = 0, olen = 0;
	assert_int_equal(zio_deflate(in, 10000, 6, &z, &zlen), ZIO_OK);
	assert_int_equal(zio_inflate(z, zlen, 10000, &out, &olen), ZIO_OK);
	free(out);
	out = NULL;
	assert_int_equal(zio_inflate(z, zlen, 9999, &out, &olen), ZIO_TOO_LARGE);
	assert_null(out);
	assert_int_equal(zio_inflate(z, zlen, 0, &out, &olen), ZIO_TOO_LARGE);
	free(in);
	free(z);
}

/* Deflates `total` zero bytes without holding them: a bomb of a few KB per 8 MiB. */
static unsigned char *make_bomb(size_t total, size_t *zlen)
{
	static const unsigned char zeros[1 << 16];
	z_stream s;
	memset(&s, 0, sizeof s);
	assert_int_equal(deflateInit(&s, 9), Z_OK);
	size_t cap = total / 500 + 1024;
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	s.next_out = out;
	s.avail_out = (uInt)cap;
	for (size_t done = 0; done < total; done += sizeof zeros) {
		s.next_in = (Bytef *)(uintptr_t)zeros;
		s.avail_in = sizeof zeros;
		assert_int_equal(deflate(&s, Z_NO_FLUSH), Z_OK);
	}
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	*zlen = s.total_out;
	deflateEnd(&s);
	return out;
}

static void test_zio__decompression_bomb_stops_at_the_limit_quickly(void **state)
{
	(void)state;
	size_t zlen = 0, olen = 0;
	unsigned char *bomb = make_bomb((size_t)1 << 26, &zlen); /* 64 MiB of zeros, 8x the limit */
	assert_true(zlen < 2u << 20);
	unsigned char *out = NULL;
	clock_t t0 = clock();
	assert_int_equal(zio_inflate(bomb, zlen, WIRE_MAX_INFLATED_BYTES, &out, &olen),
			 ZIO_TOO_LARGE);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_null(out);
	assert_true(secs < 5.0); /* stopped at 8 MiB (generous: valgrind runs this too) */
	free(bomb);
}

static void test_zio__small_bomb_of_a_few_kilobytes_is_refused(void **state)
{
	(void)state;
	size_t zlen = 0, olen = 0;
	unsigned char *bomb = make_bomb(WIRE_MAX_INFLATED_BYTES + (1u << 16), &zlen);
	assert_true(zlen < 16u << 10);
	unsigned char *out = NULL;
	assert_int_equal(zio_inflate(bomb, zlen, WIRE_MAX_INFLATED_BYTES, &out, &olen),
			 ZIO_TOO_LARGE);
	free(bomb);
}

static void test_zio__empty_input_is_truncated_and_results_have_text(void **state)
{
	(void)state;
	unsigned char *out = NULL;
	size_t olen = 0;
	assert_int_equal(zio_inflate("", 0, 10, &out, &olen), ZIO_TRUNCATED);
	for (int r = ZIO_OK; r <= ZIO_TRAILING; r++)
		assert_true(strlen(zio_result_str((enum zio_result)r)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zio__round_trip_of_many_sizes),
		cmocka_unit_test(test_zio__every_truncation_is_reported_truncated),
		cmocka_unit_test(test_zio__corrupt_header_data_or_checksum_is_corrupt),
		cmocka_unit_test(test_zio__bytes_after_the_stream_are_trailing),
		cmocka_unit_test(test_zio__output_of_exactly_max_passes_and_one_more_byte_is_too_large),
		cmocka_unit_test(test_zio__decompression_bomb_stops_at_the_limit_quickly),
		cmocka_unit_test(test_zio__small_bomb_of_a_few_kilobytes_is_refused),
		cmocka_unit_test(test_zio__empty_input_is_truncated_and_results_have_text),
	};
	return cmocka_run_group_tests_name("zio", tests, NULL, NULL);
}
