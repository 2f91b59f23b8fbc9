/*
 * textout.c — HTML, JSON, CSV and terminal text escaping (see textout.h).
 */
#include "textout.h"

#include <string.h>

#include "textsafe.h"

void textout_html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

void textout_json(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void textout_csv(FILE *f, const char *s)
{
	if (!s)
		return;
	const char *guard = textsafe_csv_needs_guard(s, strlen(s)) ? "'" : "";
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(guard, f);
		fputs(s, f);
		return;
	}
	fputc('"', f);
	fputs(guard, f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void term_emit(void *ctx, const char *p, size_t n)
{
	fwrite(p, 1, n, ctx);
}

void textout_term(FILE *f, const char *s)
{
	textsafe_term_each(s, term_emit, f);
}

/* Display width of UTF-8 text: code points, not counting combining marks U+0300..036F. */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		if (p[0] == 0xCC || (p[0] == 0xCD && p[1] < 0xB0))
			continue;
		w++;
	}
	return w;
}

/* Longest cell escaped: status.c's cells hold under 160 bytes, and an escape is at
 * most four bytes per byte (\xNN); a longer cell is cut at a character boundary. */
#define TEXTOUT_CELL_MAX 1024

void textout_term_cell(FILE *f, const char *s, size_t width, int right_align)
{
	char safe[TEXTOUT_CELL_MAX];
	textsafe_term(safe, sizeof safe, s);
	size_t w = text_width(safe);
	if (right_align)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
	fputs(safe, f);
	if (!right_align)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
}
