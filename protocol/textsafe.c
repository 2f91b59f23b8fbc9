/*
 * textsafe.c — spreadsheet cells and terminal text made harmless (see textsafe.h).
 *
 * The terminal side walks the text once, decoding UTF-8 strictly (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF); what it shows unchanged it
 * hands over in runs, so a caller writing to a stream makes few calls.
 */
#include "textsafe.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- spreadsheet cells ---- */

static int formula_start(char c)
{
	/* a line feed too: a CSV reader turns a carriage return inside a quoted field
	 * into one (agent/csv.h), and the apostrophe before it must still be dropped */
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' || c == '\n';
}

int textsafe_csv_needs_guard(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && s[i] == '\'')
		i++;
	return i < len && formula_start(s[i]);
}

int textsafe_csv_is_guarded(const char *s, size_t len)
{
	return len > 1 && s[0] == '\'' && textsafe_csv_needs_guard(s + 1, len - 1);
}

/* ---- terminals ---- */

/* The length of the valid UTF-8 sequence at s (1..4) and its code point, or 0 when
 * the byte at s does not start one. s is NUL-terminated, so reading stops there. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		*cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		*cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		unsigned char d = s[i];
		if (d < (i == 1 ? lo : 0x80) || d > (i == 1 ? hi : 0xBF))
			return 0;
		*cp = (*cp << 6) | (d & 0x3F);
	}
	return n;
}

/* The escape of code point cp (a character of n bytes at s), written into esc; its
 * length, or 0 when it is shown unchanged. */
static size_t term_escape(uint32_t cp, size_t n, const unsigned char *s,
			  char esc[TEXTSAFE_TERM_ESC_MAX + 1])
{
	if (n == 0)
		return (size_t)snprintf(esc, TEXTSAFE_TERM_ESC_MAX + 1, "\\x%02x", s[0]);
	if (cp == '\t')
		return (size_t)snprintf(esc, TEXTSAFE_TERM_ESC_MAX + 1, "\\t");
	if (cp == '\n')
		return (size_t)snprintf(esc, TEXTSAFE_TERM_ESC_MAX + 1, "\\n");
	if (cp == '\r')
		return (size_t)snprintf(esc, TEXTSAFE_TERM_ESC_MAX + 1, "\\r");
	if (cp < 0x20 || cp == 0x7F)
		return (size_t)snprintf(esc, TEXTSAFE_TERM_ESC_MAX + 1, "\\x%02x", (unsigned)cp);
	if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return (size_t)snprintf(esc, TEXTSAFE_TERM_ESC_MAX + 1, "\\u%04x", (unsigned)cp);
	return 0;
}

/* Walks s, handing each run of unchanged text and each escape (escape = 1) to emit. */
static void term_walk(const char *s, void (*emit)(void *ctx, const char *p, size_t n, int escape),
		      void *ctx)
{
	if (!s)
		return;
	const unsigned char *p = (const unsigned char *)s, *run = p;
	while (*p) {
		uint32_t cp = 0;
		char esc[TEXTSAFE_TERM_ESC_MAX + 1];
		size_t n = utf8_next(p, &cp);
		size_t k = term_escape(cp, n, p, esc);
		if (k == 0) {
			p += n;
			continue;
		}
		if (p > run)
			emit(ctx, (const char *)run, (size_t)(p - run), 0);
		emit(ctx, esc, k, 1);
		p += n ? n : 1;
		run = p;
	}
	if (p > run)
		emit(ctx, (const char *)run, (size_t)(p - run), 0);
}

struct term_each {
	void (*emit)(void *ctx, const char *p, size_t n);
	void *ctx;
};

static void term_each_emit(void *ctx, const char *p, size_t n, int escape)
{
	const struct term_each *e = ctx;
	(void)escape;
	e->emit(e->ctx, p, n);
}

void textsafe_term_each(const char *s, void (*emit)(void *ctx, const char *p, size_t n),
			void *ctx)
{
	struct term_each e = { emit, ctx };
	term_walk(s, term_each_emit, &e);
}

struct term_buf {
	char *out;
	size_t cap, len;
	int full; /* something did not fit: nothing more is written */
};

static void term_buf_emit(void *ctx, const char *p, size_t n, int escape)
{
	struct term_buf *b = ctx;
	if (b->full)
		return;
	size_t room = b->cap - 1 - b->len;
	size_t take = n;
	if (take > room) {
		b->full = 1;
		if (escape)
			return; /* an escape is written whole or not at all */
		take = room;
		/* a run is valid UTF-8: cut before the character that does not fit */
		while (take > 0 && ((unsigned char)p[take] & 0xC0) == 0x80)
			take--;
	}
	memcpy(b->out + b->len, p, take);
	b->len += take;
}

char *textsafe_term(char *out, size_t cap, const char *s)
{
	struct term_buf b = { out, cap, 0, 0 };
	term_walk(s, term_buf_emit, &b);
	out[b.len] = '\0';
	return out;
}
