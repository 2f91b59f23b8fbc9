/*
 * textnorm.h — text as it is stored and text as it is searched, shared by the agent's
 * write path (command line, CSV, the office app), its search, and the hub.
 *
 * Stored: every text an office types is kept in Unicode Normalization Form C, so
 * "Nguyễn" typed on a keyboard that sends "e + circumflex + tilde" and one that sends
 * the precomposed letter are the same bytes (same checksums, same search, same
 * duplicates check). textnorm_nfc is that normalisation.
 *
 * Searched: textnorm_fold gives a key that ignores case, diacritics and spacing:
 * "nguyen thi hoa" and "Nguyễn  Thị Hoa" fold to the same key, and so do "do" and
 * "Đỗ" (đ/Đ is a letter of its own, not d with a combining mark, so it is mapped
 * explicitly). Runs of white space become one space; leading and trailing space goes.
 *
 * textnorm_vietnamese_letter says whether a character is one the Vietnamese alphabet
 * writes (a letter with its tone and shape marks), for recognising legacy encodings.
 *
 * Built on utf8proc (Debian's libutf8proc), the only file that includes it. Pure: no
 * I/O, no global state; the two transforms return a new string the caller frees with
 * free().
 */
#ifndef LK_TEXTNORM_H
#define LK_TEXTNORM_H

#include <stddef.h>
#include <stdint.h>

enum textnorm_code {
	TEXTNORM_OK = 0,
	TEXTNORM_BAD_UTF8, /* the input is not valid UTF-8 (or holds a non-character) */
	TEXTNORM_NOMEM,
};

/* The NFC form of s[0..len). On TEXTNORM_OK *out is a new NUL-terminated string (free
 * with free()) and *out_len (if not NULL) its length in bytes; on error *out is NULL.
 * s may hold ASCII only, then the copy is exact. */
enum textnorm_code textnorm_nfc(const char *s, size_t len, char **out, size_t *out_len);

/* The search key of s[0..len): compatibility-decomposed, case-folded, combining marks
 * removed, đ/Đ → d, white space collapsed and trimmed. Same ownership and errors as
 * textnorm_nfc. Two texts match in search when one key contains the other; they name
 * the same thing when the keys are equal. */
enum textnorm_code textnorm_fold(const char *s, size_t len, char **out, size_t *out_len);

/* 1 when the code point cp is a letter of the Vietnamese alphabet in precomposed form
 * (a-z, A-Z, đ, Đ, and a vowel with the shape marks ˘ ˆ ˛ and at most one of the five
 * tone marks), else 0. */
int textnorm_vietnamese_letter(int32_t cp);

/* Decodes one UTF-8 character at s[0..len): returns its length in bytes and writes *cp,
 * or returns 0 when the bytes are not valid UTF-8 (then *cp is not written). */
size_t textnorm_next(const char *s, size_t len, int32_t *cp);

#endif
