/*
 * textenc.c — legacy encodings recognised, Windows-1258 decoded (see textenc.h).
 *
 * A legacy byte string is decoded through a 128-entry table for its upper half (the
 * lower half is ASCII), encoded as UTF-8 and normalised to NFC with textnorm, and then
 * judged character by character: a file of Vietnamese names and sentences read under
 * its right encoding holds nothing else than letters of the alphabet and a little
 * punctuation; read under the wrong one it holds symbols (µ ¸ ¶ ®) and marks on
 * consonants.
 */
#include "textenc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textnorm.h"

/* Upper halves (bytes 0x80..0xFF) as Unicode code points, 0 where undefined: glibc's
 * iconv tables (`printf '\xNN' | iconv -f WINDOWS-1258 -t UTF-32BE`). */
static const uint16_t cp1258[128] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0, 0x2039, 0x0152, 0, 0, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0, 0x203A, 0x0153, 0, 0, 0x0178,
	0x00A0, 0x00A1, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7,
	0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF,
	0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7,
	0x00B8, 0x00B9, 0x00BA, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x00BF,
	0x00C0, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
	0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x0300, 0x00CD, 0x00CE, 0x00CF,
	0x0110, 0x00D1, 0x0309, 0x00D3, 0x00D4, 0x01A0, 0x00D6, 0x00D7,
	0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x01AF, 0x0303, 0x00DF,
	0x00E0, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x00E5, 0x00E6, 0x00E7,
	0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x0301, 0x00ED, 0x00EE, 0x00EF,
	0x0111, 0x00F1, 0x0323, 0x00F3, 0x00F4, 0x01A1, 0x00F6, 0x00F7,
	0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x01B0, 0x20AB, 0x00FF,
};

static const uint16_t tcvn3[128] = {
	0x00C0, 0x1EA2, 0x00C3, 0x00C1, 0x1EA0, 0x1EB6, 0x1EAC, 0x00C8,
	0x1EBA, 0x1EBC, 0x00C9, 0x1EB8, 0x1EC6, 0x00CC, 0x1EC8, 0x0128,
	0x00CD, 0x1ECA, 0x00D2, 0x1ECE, 0x00D5, 0x00D3, 0x1ECC, 0x1ED8,
	0x1EDC, 0x1EDE, 0x1EE0, 0x1EDA, 0x1EE2, 0x00D9, 0x1EE6, 0x0168,
	0x00A0, 0x0102, 0x00C2, 0x00CA, 0x00D4, 0x01A0, 0x01AF, 0x0110,
	0x0103, 0x00E2, 0x00EA, 0x00F4, 0x01A1, 0x01B0, 0x0111, 0x1EB0,
	0x0300, 0x0309, 0x0303, 0x0301, 0x0323, 0x00E0, 0x1EA3, 0x00E3,
	0x00E1, 0x1EA1, 0x1EB2, 0x1EB1, 0x1EB3, 0x1EB5, 0x1EAF, 0x1EB4,
	0x1EAE, 0x1EA6, 0x1EA8, 0x1EAA, 0x1EA4, 0x1EC0, 0x1EB7, 0x1EA7,
	0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD, 0x00E8, 0x1EC2, 0x1EBB, 0x1EBD,
	0x00E9, 0x1EB9, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EBF, 0x1EC7, 0x00EC,
	0x1EC9, 0x1EC4, 0x1EBE, 0x1ED2, 0x0129, 0x00ED, 0x1ECB, 0x00F2,
	0x1ED4, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD, 0x1ED3, 0x1ED5, 0x1ED7,
	0x1ED1, 0x1ED9, 0x1EDD, 0x1EDF, 0x1EE1, 0x1EDB, 0x1EE3, 0x00F9,
	0x1ED6, 0x1EE7, 0x0169, 0x00FA, 0x1EE5, 0x1EEB, 0x1EED, 0x1EEF,
	0x1EE9, 0x1EF1, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5, 0x1ED0,
};

/* A legacy file with more bad characters than this share of its good ones is not in
 * that encoding (a stray symbol in a file of names is tolerated, garbage is not). */
#define TEXTENC_BAD_PER_GOOD 20

static size_t put_utf8(char *p, uint32_t cp)
{
	if (cp < 0x80) {
		p[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (char)(0xC0 | (cp >> 6));
		p[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	p[0] = (char)(0xE0 | (cp >> 12));
	p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	p[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* data decoded with table, NFC. 0 or -1 (memory, or a byte the table lacks). */
static int decode(const uint16_t table[128], const char *data, size_t len, char **out, size_t *out_len)
{
	*out = NULL;
	if (len > SIZE_MAX / 3 - 1)
		return -1;
	char *raw = malloc(3 * len + 1);
	if (!raw)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)data[i];
		uint32_t cp = b < 0x80 ? b : table[b - 0x80];
		if (b >= 0x80 && cp == 0) {
			free(raw);
			return -1;
		}
		n += put_utf8(raw + n, cp);
	}
	enum textnorm_code rc = textnorm_nfc(raw, n, out, out_len);
	free(raw);
	return rc == TEXTNORM_OK ? 0 : -1;
}

int textenc_cp1258_to_utf8(const char *data, size_t len, char **out, size_t *out_len)
{
	return decode(cp1258, data, len, out, out_len);
}

static int punctuation(int32_t cp)
{
	static const int32_t ok[] = { 0x00A0, 0x00AB, 0x00BB, 0x00B0, 0x2013, 0x2014, 0x2018, 0x2019,
				      0x201C, 0x201D, 0x2022, 0x2026, 0x20AB, 0x20AC };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (cp == ok[i])
			return 1;
	return 0;
}

/* Counts the good and bad non-ASCII characters of data read with table. -1 when it
 * cannot be read at all (an undefined byte, memory). */
static int judge(const uint16_t table[128], const char *data, size_t len, size_t *good, size_t *bad)
{
	char *u = NULL;
	size_t n = 0;
	*good = *bad = 0;
	if (decode(table, data, len, &u, &n) != 0)
		return -1;
	for (size_t i = 0; i < n;) {
		int32_t cp;
		size_t k = textnorm_next(u + i, n - i, &cp);
		if (k == 0)
			break;
		if (cp >= 0x80) {
			if (textnorm_vietnamese_letter(cp) || punctuation(cp))
				(*good)++;
			else
				(*bad)++;
		}
		i += k;
	}
	free(u);
	return 0;
}

static int utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		int32_t cp;
		size_t k = textnorm_next(s + i, len - i, &cp);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

enum textenc_kind textenc_detect(const char *data, size_t len)
{
	if (utf8_valid(data, len))
		return TEXTENC_UTF8;
	size_t good, bad;
	if (judge(cp1258, data, len, &good, &bad) == 0 && bad == 0)
		return TEXTENC_CP1258;
	if (judge(tcvn3, data, len, &good, &bad) == 0 && good > 0 && bad * TEXTENC_BAD_PER_GOOD <= good)
		return TEXTENC_TCVN3;
	return TEXTENC_UNKNOWN;
}

const char *textenc_name(enum textenc_kind k)
{
	switch (k) {
	case TEXTENC_UTF8: return "UTF-8";
	case TEXTENC_CP1258: return "Windows-1258";
	case TEXTENC_TCVN3: return "TCVN3";
	case TEXTENC_UNKNOWN: break;
	}
	return "unknown";
}
