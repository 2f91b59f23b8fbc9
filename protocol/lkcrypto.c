/*
 * lkcrypto.c — the known-answer self-test shared by both implementations of
 * lkcrypto.h (lkcrypto_openssl.c, lkcrypto_win.c), which each add their own
 * lkcrypto_platform_check.
 */
#include "lkcrypto.h"

#include <string.h>

int lkcrypto_selftest(void)
{
	/* FIPS 180-2, appendix B.1 and A.1: the digests of "abc", hashed in two parts to
	 * exercise the concatenation too. */
	static const unsigned char sha256_abc[LKCRYPTO_SHA256_BYTES] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	static const unsigned char sha1_abc[LKCRYPTO_SHA1_BYTES] = {
		0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d,
	};
	const struct lkcrypto_part abc[2] = { { "a", 1 }, { "bc", 2 } };
	unsigned char md[LKCRYPTO_SHA256_BYTES];
	if (lkcrypto_platform_check() != 0)
		return -1;
	lkcrypto_sha256(abc, 2, md);
	if (memcmp(md, sha256_abc, sizeof sha256_abc) != 0)
		return -1;
	lkcrypto_sha1(abc, 2, md);
	if (memcmp(md, sha1_abc, sizeof sha1_abc) != 0)
		return -1;
	return lkcrypto_random(md, sizeof md);
}
