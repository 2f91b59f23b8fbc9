/*
 * textenc.h — which encoding a file an office hands us is in, and Windows-1258 read
 * as UTF-8.
 *
 * Offices save CSV from Excel. "CSV UTF-8" is what we read; the plain "CSV" save of a
 * Vietnamese Windows writes Windows-1258 (tone marks as combining bytes after the
 * letter: "ễ" is ê + 0xDE); files from the 1990s-2000s fonts (.VnTime, ABC) are in
 * TCVN3, whose bytes read as Windows-1258 give garbage such as "NguyÔn ThÞ". A file
 * is recognised by what its bytes mean under each: UTF-8 when they are valid UTF-8
 * (with or without a byte-order mark); else Windows-1258 when, so read and normalised
 * to NFC, every non-ASCII character is a Vietnamese letter or common punctuation;
 * else TCVN3 when so read under TCVN3; else unknown. TCVN3 and unknown are refused by
 * callers (never read as garbage).
 *
 * The byte tables are glibc iconv's WINDOWS-1258 and TCVN5712-1 (upper half), copied
 * so the Windows build needs no iconv. Pure: no I/O, no global state.
 */
#ifndef LK_TEXTENC_H
#define LK_TEXTENC_H

#include <stddef.h>

enum textenc_kind {
	TEXTENC_UTF8 = 0,
	TEXTENC_CP1258, /* Windows-1258: read it with textenc_cp1258_to_utf8 */
	TEXTENC_TCVN3,  /* the old TCVN 5712 (ABC / VN3) fonts' encoding: refuse */
	TEXTENC_UNKNOWN,
};

/* The encoding data[0..len) is in (see the top). */
enum textenc_kind textenc_detect(const char *data, size_t len);

/* data[0..len) read as Windows-1258, in UTF-8 NFC: 0 and *out (a new string, free
 * with free(); *out_len its length), or -1 when out of memory or a byte is undefined
 * in Windows-1258 (*out NULL). */
int textenc_cp1258_to_utf8(const char *data, size_t len, char **out, size_t *out_len);

/* The English name of a kind, for logs. */
const char *textenc_name(enum textenc_kind k);

#endif
