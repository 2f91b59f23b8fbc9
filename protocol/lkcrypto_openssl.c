/*
 * lkcrypto_openssl.c — lkcrypto.h on libcrypto (the Debian build).
 *
 * The low-level SHA contexts are deprecated in OpenSSL 3 but kept: on a stack context
 * they cannot fail, which the void digests of lkcrypto.h rely on (EVP digests
 * allocate and can fail).
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "lkcrypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void lkcrypto_sha256(const struct lkcrypto_part *parts, size_t n,
		     unsigned char out[LKCRYPTO_SHA256_BYTES])
{
	SHA256_CTX ctx;
	SHA256_Init(&ctx);
	for (size_t i = 0; i < n; i++)
		SHA256_Update(&ctx, parts[i].p, parts[i].n);
	SHA256_Final(out, &ctx); /* out may alias a part: the parts were consumed above */
}

void lkcrypto_sha1(const struct lkcrypto_part *parts, size_t n,
		   unsigned char out[LKCRYPTO_SHA1_BYTES])
{
	SHA_CTX ctx;
	SHA1_Init(&ctx);
	for (size_t i = 0; i < n; i++)
		SHA1_Update(&ctx, parts[i].p, parts[i].n);
	SHA1_Final(out, &ctx);
}

int lkcrypto_random(void *buf, size_t n)
{
	if (n > INT_MAX)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

void lkcrypto_cleanse(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int lkcrypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

size_t lkcrypto_base64_encode(const void *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int lkcrypto_base64_decode(const char *in, size_t n, unsigned char *out)
{
	if (n % 4 || n > INT_MAX)
		return -1;
	int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	for (size_t i = n; i > 0 && in[i - 1] == '='; i--)
		len--;
	return len;
}

int lkcrypto_platform_check(void)
{
	return 0; /* libcrypto's digests need nothing from the system */
}
