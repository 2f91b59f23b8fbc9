/*
 * lkcrypto.h — the few cryptographic primitives protocol/ needs, behind one seam so the
 * Windows build uses the operating system's (bcrypt.dll) instead of shipping OpenSSL:
 * SHA-1 (UUIDv5 only, RFC 9562 requires it), SHA-256 (entry hashes, the chain, token
 * hashes, row digests), random bytes (UUIDv7, tokens), wiping a secret, comparing
 * secrets in constant time, and base64 (join codes, PROTOCOL.md §12).
 *
 * Two implementations, one linked: lkcrypto_openssl.c (Debian, libcrypto) and
 * lkcrypto_win.c (Windows 10+, BCrypt and crypt32). No state: every function is pure apart from
 * the random source.
 *
 * The digests cannot fail: OpenSSL's low-level digests on a stack context cannot; on
 * Windows, BCrypt on its documented pseudo-handles with a caller-provided hash object
 * fails only on invalid parameters, which lkcrypto_selftest proves absent once at
 * start (lienket-agent's main calls it before any command) — a failure after that
 * is a broken system and aborts rather than return a wrong hash.
 */
#ifndef LK_LKCRYPTO_H
#define LK_LKCRYPTO_H

#include <stddef.h>

#define LKCRYPTO_SHA1_BYTES 20
#define LKCRYPTO_SHA256_BYTES 32

/* One piece of a message hashed as the concatenation of its pieces. */
struct lkcrypto_part {
	const void *p;
	size_t n;
};

/* SHA-256 / SHA-1 of the concatenation of the n parts into out, which may overlap a
 * part. Always succeed. */
void lkcrypto_sha256(const struct lkcrypto_part *parts, size_t n,
		     unsigned char out[LKCRYPTO_SHA256_BYTES]);
void lkcrypto_sha1(const struct lkcrypto_part *parts, size_t n,
		   unsigned char out[LKCRYPTO_SHA1_BYTES]);

/* n random bytes from the system's cryptographic generator. 0, or -1 when it fails
 * (buf is then unspecified). */
int lkcrypto_random(void *buf, size_t n);

/* Overwrites n bytes with zeros in a way the compiler cannot remove. */
void lkcrypto_cleanse(void *p, size_t n);

/* Constant-time equality of two n-byte buffers: 1 equal, 0 different. */
int lkcrypto_equal(const void *a, const void *b, size_t n);

/* Standard base64 (RFC 4648 §4, "+/", padded) of n bytes into out, which must hold
 * LKCRYPTO_BASE64_LEN(n) bytes; NUL-terminated. Returns the length without the NUL. */
#define LKCRYPTO_BASE64_LEN(n) (((n) + 2) / 3 * 4 + 1)
size_t lkcrypto_base64_encode(const void *in, size_t n, char *out);
/* Decodes n characters of padded standard base64 (n a multiple of 4) into out, which must
 * hold n / 4 * 3 bytes. Returns the number of bytes decoded (padding not counted), or -1
 * when the text is not base64. */
int lkcrypto_base64_decode(const char *in, size_t n, unsigned char *out);

/* Checks the digests against known answers (FIPS 180-2 "abc"): 0, or -1 when the
 * platform's implementation is unusable. */
int lkcrypto_selftest(void);

/* The implementation's own readiness check, the first step of lkcrypto_selftest
 * (Windows: the hash objects fit the stack buffer): 0 or -1. */
int lkcrypto_platform_check(void);

#endif
