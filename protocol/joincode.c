/*
 * joincode.c — encoding and decoding join codes (PROTOCOL.md §12). Base64 comes from
 * lkcrypto.h (OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock on Debian, crypt32 on
 * Windows; translated to base64url here), the checksum from zlib (crc32).
 */
#include "joincode.h"

#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "ids.h"
#include "lkcrypto.h"

#define PREFIX "LK1."
#define CHECK_LEN 8

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

static int is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

int joincode_pins_valid(const char *pins, size_t *n)
{
	const char *p = pins;
	size_t count = 0;
	*n = 0;
	if (!*p)
		return 0;
	for (;;) {
		if (count == JOINCODE_MAX_PINS || strncmp(p, "sha256//", 8) != 0)
			return 0;
		for (size_t i = 0; i < 43; i++)
			if (!is_b64(p[8 + i]))
				return 0;
		if (p[8 + 43] != '=' || (p[JOINCODE_PIN_LEN] != ';' && p[JOINCODE_PIN_LEN] != '\0'))
			return 0;
		for (const char *q = pins; q < p; q += JOINCODE_PIN_LEN + 1)
			if (memcmp(q, p, JOINCODE_PIN_LEN) == 0)
				return 0; /* the same key twice is no backup */
		count++;
		if (p[JOINCODE_PIN_LEN] == '\0')
			break;
		p += JOINCODE_PIN_LEN + 1;
	}
	*n = count;
	return 1;
}

/* "http://" to 127.x, localhost or [::1]. */
static int http_loopback(const char *url)
{
	const char *h = url + 7;
	size_t n = strcspn(h, ":/?#");
	if (h[0] == '[')
		return strncmp(h, "[::1]", 5) == 0 && strchr(":/?#", h[5]) != NULL;
	return (n == 9 && strncmp(h, "localhost", 9) == 0) || strncmp(h, "127.", 4) == 0;
}

int joincode_fields_valid(const struct joincode *j)
{
	size_t len = strnlen(j->url, sizeof j->url), npins = 0;
	if (len == 0 || len > JOINCODE_URL_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)j->url[i] <= ' ' || j->url[i] == 0x7f)
			return 0;
	int https = strncmp(j->url, "https://", 8) == 0 && len > 8;
	int http = strncmp(j->url, "http://", 7) == 0 && len > 7 && http_loopback(j->url);
	if (!https && !http)
		return 0;
	if (!ids_uuid_valid(j->unit) || !ids_token_wellformed(j->token))
		return 0;
	if (http)
		return j->pins[0] == '\0';
	return joincode_pins_valid(j->pins, &npins) && npins >= 2;
}

static unsigned long check_of(const char *s, size_t n)
{
	return crc32(crc32(0L, Z_NULL, 0), (const Bytef *)s, (uInt)n);
}

int joincode_encode(const struct joincode *j, char *out, size_t outlen)
{
	char plain[JOINCODE_MAX];
	char b64[LKCRYPTO_BASE64_LEN(JOINCODE_MAX)];
	if (!joincode_fields_valid(j))
		return -1;
	int n = snprintf(plain, sizeof plain, "%s\n%s\n%s\n%s", j->url, j->unit, j->token, j->pins);
	if (n < 0 || (size_t)n >= sizeof plain)
		return -1;
	int m = (int)lkcrypto_base64_encode(plain, (size_t)n, b64);
	while (m > 0 && b64[m - 1] == '=')
		m--;
	for (int i = 0; i < m; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	size_t need = strlen(PREFIX) + (size_t)m + 1 + CHECK_LEN;
	if (need > JOINCODE_MAX || need + 1 > outlen)
		return -1;
	memcpy(out, PREFIX, strlen(PREFIX));
	memcpy(out + strlen(PREFIX), b64, (size_t)m);
	size_t body = strlen(PREFIX) + (size_t)m;
	snprintf(out + body, outlen - body, ".%08lx", check_of(out, body));
	return 0;
}

enum joincode_result joincode_decode(const char *text, struct joincode *out)
{
	char code[JOINCODE_MAX + 1];
	size_t n = 0;
	memset(out, 0, sizeof *out);
	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			continue;
		if (n == JOINCODE_MAX)
			return JOINCODE_TOO_LONG;
		code[n++] = *p;
	}
	code[n] = '\0';
	if (n < 3 || strncmp(code, "LK", 2) != 0)
		return JOINCODE_NOT_A_CODE;
	size_t digits = strspn(code + 2, "0123456789");
	if (digits == 0 || code[2 + digits] != '.')
		return JOINCODE_NOT_A_CODE;
	if (digits != 1 || code[2] != '1')
		return JOINCODE_NEWER;
	for (size_t i = strlen(PREFIX); i < n; i++)
		if (!is_b64url(code[i]) && code[i] != '.')
			return JOINCODE_NOT_A_CODE;
	const char *dot = strrchr(code, '.');
	size_t body = (size_t)(dot - code);
	if (body <= strlen(PREFIX) || strlen(dot + 1) != CHECK_LEN)
		return JOINCODE_MISTYPED;
	char want[CHECK_LEN + 1];
	snprintf(want, sizeof want, "%08lx", check_of(code, body));
	if (strcmp(want, dot + 1) != 0)
		return JOINCODE_MISTYPED;
	/* base64url back to padded base64 */
	char b64[JOINCODE_MAX + 4];
	unsigned char plain[JOINCODE_MAX];
	size_t m = body - strlen(PREFIX);
	for (size_t i = 0; i < m; i++) {
		char c = code[strlen(PREFIX) + i];
		if (c == '.')
			return JOINCODE_BAD_FIELD;
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	if (m % 4 == 1)
		return JOINCODE_BAD_FIELD;
	size_t pad = (4 - m % 4) % 4;
	for (size_t i = 0; i < pad; i++)
		b64[m + i] = '=';
	int len = lkcrypto_base64_decode(b64, m + pad, plain);
	if (len <= 0 || memchr(plain, '\0', (size_t)len))
		return JOINCODE_BAD_FIELD;
	plain[len] = '\0';
	char *fields[4];
	char *p = (char *)plain;
	for (size_t i = 0; i < 4; i++) {
		fields[i] = p;
		char *nl = strchr(p, '\n');
		if (i < 3) {
			if (!nl)
				return JOINCODE_BAD_FIELD;
			*nl = '\0';
			p = nl + 1;
		} else if (nl) {
			return JOINCODE_BAD_FIELD;
		}
	}
	if (strlen(fields[0]) > JOINCODE_URL_MAX || strlen(fields[1]) >= sizeof out->unit ||
	    strlen(fields[2]) >= sizeof out->token || strlen(fields[3]) >= sizeof out->pins)
		return JOINCODE_BAD_FIELD;
	struct joincode j;
	memset(&j, 0, sizeof j);
	snprintf(j.url, sizeof j.url, "%s", fields[0]);
	snprintf(j.unit, sizeof j.unit, "%s", fields[1]);
	snprintf(j.token, sizeof j.token, "%s", fields[2]);
	snprintf(j.pins, sizeof j.pins, "%s", fields[3]);
	if (!joincode_fields_valid(&j))
		return JOINCODE_BAD_FIELD;
	*out = j;
	return JOINCODE_OK;
}
