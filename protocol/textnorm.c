/*
 * textnorm.c — NFC for storage, a diacritic-insensitive key for search (textnorm.h).
 *
 * utf8proc does the Unicode work (its tables follow the Unicode version it was built
 * with); what is ours is the search key's extra rules — đ/Đ → d, white space — and the
 * Vietnamese alphabet test. utf8proc allocates with malloc, so its results are handed
 * to the caller as they are.
 */
#include "textnorm.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

/* utf8proc takes a signed length; a text longer than this is refused as too large to
 * be anything an office typed (the longest column is 2000 bytes). */
#define TEXTNORM_MAX_BYTES ((size_t)1 << 30)

static enum textnorm_code map(const char *s, size_t len, utf8proc_option_t opts, utf8proc_custom_func fn,
			      char **out, size_t *out_len)
{
	utf8proc_uint8_t *r = NULL;
	*out = NULL;
	if (len > TEXTNORM_MAX_BYTES)
		return TEXTNORM_NOMEM;
	utf8proc_ssize_t n =
		utf8proc_map_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &r, opts, fn, NULL);
	if (n < 0) {
		free(r);
		return n == UTF8PROC_ERROR_NOMEM || n == UTF8PROC_ERROR_OVERFLOW ? TEXTNORM_NOMEM
										 : TEXTNORM_BAD_UTF8;
	}
	*out = (char *)r;
	if (out_len)
		*out_len = (size_t)n;
	return TEXTNORM_OK;
}

enum textnorm_code textnorm_nfc(const char *s, size_t len, char **out, size_t *out_len)
{
	return map(s, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE, NULL, out, out_len);
}

/* đ and Đ are letters of their own (no decomposition), read as d in search. */
static utf8proc_int32_t fold_dstroke(utf8proc_int32_t cp, void *data)
{
	(void)data;
	return cp == 0x0110 || cp == 0x0111 ? 'd' : cp;
}

static int is_space(int32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0x00A0 ||
	       utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

enum textnorm_code textnorm_fold(const char *s, size_t len, char **out, size_t *out_len)
{
	char *m = NULL;
	size_t mlen = 0;
	enum textnorm_code rc = map(s, len,
				    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
					    UTF8PROC_STRIPMARK | UTF8PROC_LUMP | UTF8PROC_IGNORE,
				    fold_dstroke, &m, &mlen);
	if (rc != TEXTNORM_OK)
		return rc;
	/* Collapse white space in place: the result is never longer. */
	size_t w = 0, i = 0;
	int pending_space = 0;
	while (i < mlen) {
		int32_t cp;
		size_t n = textnorm_next(m + i, mlen - i, &cp);
		if (n == 0) { /* cannot happen on utf8proc's output; refuse rather than guess */
			free(m);
			return TEXTNORM_BAD_UTF8;
		}
		if (is_space(cp)) {
			pending_space = w > 0;
		} else {
			if (pending_space)
				m[w++] = ' ';
			pending_space = 0;
			memmove(m + w, m + i, n);
			w += n;
		}
		i += n;
	}
	m[w] = '\0';
	*out = m;
	if (out_len)
		*out_len = w;
	return TEXTNORM_OK;
}

size_t textnorm_next(const char *s, size_t len, int32_t *cp)
{
	utf8proc_int32_t c;
	if (len == 0)
		return 0;
	utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, len > 4 ? 4 : (utf8proc_ssize_t)len, &c);
	if (n <= 0 || c < 0)
		return 0;
	*cp = c;
	return (size_t)n;
}

/* The marks Vietnamese writes on a vowel: shape (breve, circumflex, horn) and tone
 * (grave, acute, tilde, hook above, dot below). */
static int is_shape_mark(utf8proc_int32_t m)
{
	return m == 0x0306 || m == 0x0302 || m == 0x031B;
}

static int is_tone_mark(utf8proc_int32_t m)
{
	return m == 0x0300 || m == 0x0301 || m == 0x0303 || m == 0x0309 || m == 0x0323;
}

int textnorm_vietnamese_letter(int32_t cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == 0x0110 || cp == 0x0111)
		return 1;
	if (cp < 0x00C0 || cp > 0x1EF9)
		return 0;
	utf8proc_int32_t d[4];
	int last = 0;
	utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 4, UTF8PROC_DECOMPOSE, &last);
	if (n < 2 || n > 3)
		return 0;
	if (d[0] <= 0 || d[0] > 'z' || !strchr("aeiouyAEIOUY", (int)d[0]))
		return 0;
	int shapes = 0, tones = 0;
	for (utf8proc_ssize_t k = 1; k < n; k++) {
		if (is_shape_mark(d[k]))
			shapes++;
		else if (is_tone_mark(d[k]))
			tones++;
		else
			return 0;
	}
	if (shapes > 1 || tones > 1)
		return 0;
	/* Only the shapes Vietnamese has: ă, â ê ô, ơ ư. */
	if (shapes) {
		utf8proc_int32_t sm = is_shape_mark(d[1]) ? d[1] : d[2];
		int b = (int)(d[0] | 0x20);
		if (sm == 0x0306 && b != 'a')
			return 0;
		if (sm == 0x0302 && b != 'a' && b != 'e' && b != 'o')
			return 0;
		if (sm == 0x031B && b != 'o' && b != 'u')
			return 0;
	}
	return 1;
}
