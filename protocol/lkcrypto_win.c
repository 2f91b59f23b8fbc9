/*
 * lkcrypto_win.c — lkcrypto.h on Windows' own cryptography (bcrypt.dll, Windows 10+):
 * nothing to ship or patch, and Windows Update keeps it current.
 *
 * Digests use BCrypt's algorithm pseudo-handles (no provider to open, no state) and a
 * hash object on the stack, so BCrypt allocates nothing and can fail only on invalid
 * parameters; lkcrypto_selftest checks once that the object fits and the answers are
 * right. Randomness: BCryptGenRandom with the system-preferred generator. Base64:
 * crypt32's CryptBinaryToStringA / CryptStringToBinaryA.
 */
#include "lkcrypto.h"

#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <bcrypt.h>
#include <wincrypt.h>

/* Documented in bcrypt.h of the Windows 10 SDK; mingw-w64 10 does not define them yet. */
#ifndef BCRYPT_SHA1_ALG_HANDLE
#define BCRYPT_SHA1_ALG_HANDLE ((BCRYPT_ALG_HANDLE)0x00000031)
#define BCRYPT_SHA256_ALG_HANDLE ((BCRYPT_ALG_HANDLE)0x00000041)
#endif

/* Room for a SHA hash object: Windows needs a few hundred bytes (BCRYPT_OBJECT_LENGTH,
 * checked by lkcrypto_selftest). */
#define HASH_OBJECT_MAX 1024

static int digest(BCRYPT_ALG_HANDLE alg, const struct lkcrypto_part *parts, size_t n,
		  unsigned char *out, ULONG outlen)
{
	unsigned char object[HASH_OBJECT_MAX];
	unsigned char md[LKCRYPTO_SHA256_BYTES];
	BCRYPT_HASH_HANDLE h = NULL;
	if (!BCRYPT_SUCCESS(BCryptCreateHash(alg, &h, object, sizeof object, NULL, 0, 0)))
		return -1;
	int ok = 1;
	for (size_t i = 0; ok && i < n; i++) {
		const unsigned char *p = parts[i].p;
		size_t left = parts[i].n;
		while (ok && left > 0) { /* BCryptHashData takes a ULONG length */
			ULONG chunk = left > 0x40000000u ? 0x40000000u : (ULONG)left;
			ok = BCRYPT_SUCCESS(BCryptHashData(h, (PUCHAR)p, chunk, 0));
			p += chunk;
			left -= chunk;
		}
	}
	/* Finish into a local buffer: out may alias a part, which was consumed above. */
	ok = ok && BCRYPT_SUCCESS(BCryptFinishHash(h, md, outlen, 0));
	BCryptDestroyHash(h);
	if (!ok)
		return -1;
	memcpy(out, md, outlen);
	return 0;
}

void lkcrypto_sha256(const struct lkcrypto_part *parts, size_t n,
		     unsigned char out[LKCRYPTO_SHA256_BYTES])
{
	if (digest(BCRYPT_SHA256_ALG_HANDLE, parts, n, out, LKCRYPTO_SHA256_BYTES) != 0)
		abort(); /* impossible after lkcrypto_selftest: see lkcrypto.h */
}

void lkcrypto_sha1(const struct lkcrypto_part *parts, size_t n,
		   unsigned char out[LKCRYPTO_SHA1_BYTES])
{
	if (digest(BCRYPT_SHA1_ALG_HANDLE, parts, n, out, LKCRYPTO_SHA1_BYTES) != 0)
		abort(); /* impossible after lkcrypto_selftest: see lkcrypto.h */
}

int lkcrypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		ULONG chunk = n > 0x40000000u ? 0x40000000u : (ULONG)n;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return -1;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

void lkcrypto_cleanse(void *p, size_t n)
{
	SecureZeroMemory(p, n);
}

int lkcrypto_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

size_t lkcrypto_base64_encode(const void *in, size_t n, char *out)
{
	DWORD len = (DWORD)LKCRYPTO_BASE64_LEN(n);
	if (n == 0 || !CryptBinaryToStringA(in, (DWORD)n, CRYPT_STRING_BASE64 | CRYPT_STRING_NOCRLF,
					    out, &len)) {
		out[0] = '\0';
		return 0;
	}
	return len; /* without the NUL, which it wrote */
}

int lkcrypto_base64_decode(const char *in, size_t n, unsigned char *out)
{
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) { /* crypt32 would skip what is not base64 */
		char c = in[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return -1;
	}
	if (n == 0)
		return 0;
	DWORD len = (DWORD)(n / 4 * 3);
	if (!CryptStringToBinaryA(in, (DWORD)n, CRYPT_STRING_BASE64, out, &len, NULL, NULL))
		return -1;
	return (int)len;
}

int lkcrypto_platform_check(void)
{
	BCRYPT_ALG_HANDLE algs[2] = { BCRYPT_SHA1_ALG_HANDLE, BCRYPT_SHA256_ALG_HANDLE };
	for (size_t i = 0; i < 2; i++) {
		DWORD len = 0;
		ULONG got = 0;
		if (!BCRYPT_SUCCESS(BCryptGetProperty(algs[i], BCRYPT_OBJECT_LENGTH, (PUCHAR)&len,
						      sizeof len, &got, 0)) ||
		    len > HASH_OBJECT_MAX)
			return -1;
	}
	return 0;
}
