/*
 * ids.c — UUIDs and tokens (PROTOCOL.md §2 and §9).
 *
 * UUIDv7 (RFC 9562 §5.7): 48-bit big-endian Unix milliseconds, version 7, 12 + 62
 * random bits from lkcrypto_random. UUIDv5 (RFC 9562 §5.5): SHA-1 of the namespace
 * 6c69656e-6b65-7420-8000-6e616d657370 followed by the name. Tokens are "lk_" and the
 * unpadded base64url of 32 random bytes; the hub keeps only their SHA-256 and compares
 * secrets in constant time. No state: every function is pure apart from the random
 * source. The digests and the random source are lkcrypto.h's (libcrypto on Debian,
 * bcrypt.dll on Windows); its digests cannot fail, which the void contracts of
 * ids_uuid5 and ids_token_hash rely on.
 */
#include "ids.h"

#include <string.h>

#include "lkcrypto.h"

#define TOKEN_PREFIX "lk_"
#define TOKEN_PREFIX_LEN 3
#define SESSION_PREFIX "ls_" /* a dashboard session id: never taken for a token */
#define INVITE_PREFIX "li_"  /* a viewer account's one-time link: never a token or session */
#define TOKEN_RANDOM_BYTES 32
#define TOKEN_B64_CHARS 43 /* ceil(32 * 4 / 3), unpadded */

static const unsigned char ids_namespace[16] = {
	0x6c, 0x69, 0x65, 0x6e, 0x6b, 0x65, 0x74, 0x20,
	0x80, 0x00, 0x6e, 0x61, 0x6d, 0x65, 0x73, 0x70,
};

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void uuid_format(const unsigned char b[16], char out[IDS_UUID_TEXT])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

int ids_uuid7(int64_t ms, char out[IDS_UUID_TEXT])
{
	unsigned char b[16];
	uint64_t t = ms < 0 ? 0 : (uint64_t)ms & 0xffffffffffffULL;
	if (lkcrypto_random(b + 6, 10) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(t >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	uuid_format(b, out);
	return 0;
}

void ids_uuid5(const char *name, size_t len, char out[IDS_UUID_TEXT])
{
	const struct lkcrypto_part parts[2] = { { ids_namespace, sizeof ids_namespace }, { name, len } };
	unsigned char md[LKCRYPTO_SHA1_BYTES];
	lkcrypto_sha1(parts, 2, md);
	md[6] = (unsigned char)(0x50 | (md[6] & 0x0f));
	md[8] = (unsigned char)(0x80 | (md[8] & 0x3f));
	uuid_format(md, out);
}

int ids_uuid_valid(const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}

/* A secret: prefix (TOKEN_PREFIX_LEN characters) + base64url(32 random bytes). */
static int secret_new(const char *prefix, char out[IDS_TOKEN_TEXT])
{
	unsigned char r[TOKEN_RANDOM_BYTES];
	if (lkcrypto_random(r, sizeof r) != 0)
		return -1;
	memcpy(out, prefix, TOKEN_PREFIX_LEN);
	size_t o = TOKEN_PREFIX_LEN;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < sizeof r; i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
	lkcrypto_cleanse(r, sizeof r);
	return 0;
}

int ids_token_new(char out[IDS_TOKEN_TEXT]) { return secret_new(TOKEN_PREFIX, out); }
int ids_session_new(char out[IDS_TOKEN_TEXT]) { return secret_new(SESSION_PREFIX, out); }
int ids_invite_new(char out[IDS_TOKEN_TEXT]) { return secret_new(INVITE_PREFIX, out); }

int ids_random(void *buf, size_t n)
{
	return lkcrypto_random(buf, n);
}

static int b64url_index(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;
	return p ? (int)(p - b64url) : -1;
}

static int secret_wellformed(const char *prefix, const char *s)
{
	if (!s || strncmp(s, prefix, TOKEN_PREFIX_LEN) != 0)
		return 0;
	for (size_t i = 0; i < TOKEN_B64_CHARS; i++) {
		int v = b64url_index(s[TOKEN_PREFIX_LEN + i]);
		if (v < 0)
			return 0;
		/* 32 bytes leave 2 unused bits in the last character: they must be zero. */
		if (i == TOKEN_B64_CHARS - 1 && (v & 0x3))
			return 0;
	}
	return s[TOKEN_PREFIX_LEN + TOKEN_B64_CHARS] == '\0';
}

int ids_token_wellformed(const char *s) { return secret_wellformed(TOKEN_PREFIX, s); }
int ids_session_wellformed(const char *s) { return secret_wellformed(SESSION_PREFIX, s); }
int ids_invite_wellformed(const char *s) { return secret_wellformed(INVITE_PREFIX, s); }

void ids_token_hash(const char *token, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	const struct lkcrypto_part part = { token ? token : "", token ? strlen(token) : 0 };
	unsigned char md[LKCRYPTO_SHA256_BYTES];
	lkcrypto_sha256(&part, 1, md);
	for (size_t i = 0; i < sizeof md; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
}

int ids_secure_equal(const void *a, const void *b, size_t n)
{
	return lkcrypto_equal(a, b, n);
}
