/*
 * datetext.c — dd/mm/yyyy and ISO dates (see datetext.h).
 *
 * A hand-written scanner rather than strptime: strptime's %d/%m accept a leading space
 * and out-of-range values differently between C libraries (and Windows has none), and
 * none of them says which part was wrong.
 */
#include "datetext.h"

#include <string.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads between min and max digits at *p into *out, advancing *p. 0 or -1. */
static int digits(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;
	while (n < max && is_digit((*p)[n])) {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min || is_digit((*p)[n]))
		return -1;
	*p += n;
	*out = v;
	return 0;
}

/* Writes v (0 <= v < 10^n) as n digits at p. */
static char *put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* "YYYY-MM-DD" (sep '-', year first) or "DD/MM/YYYY" of checked parts. */
static void put_date(char out[DATETEXT_SIZE], int year, int month, int day, int year_first)
{
	char *p = out;
	if (year_first) {
		p = put_digits(p, year, 4);
		*p++ = '-';
		p = put_digits(p, month, 2);
		*p++ = '-';
		p = put_digits(p, day, 2);
	} else {
		p = put_digits(p, day, 2);
		*p++ = '/';
		p = put_digits(p, month, 2);
		*p++ = '/';
		p = put_digits(p, year, 4);
	}
	*p = '\0';
}

int datetext_month_days(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[month - 1];
}

enum datetext_code datetext_parse(const char *text, char iso[DATETEXT_SIZE], struct datetext_parts *parts)
{
	struct datetext_parts d = { 0, 0, 0, 0 };
	const char *p = text;
	while (is_space(*p))
		p++;
	const char *start = p;
	if (digits(&p, 4, 4, &d.year) == 0 && *p == '-') {
		p++; /* ISO: yyyy-mm-dd, two digits each */
		if (digits(&p, 2, 2, &d.month) || *p++ != '-' || digits(&p, 2, 2, &d.day))
			return DATETEXT_SYNTAX;
	} else {
		p = start;
		if (digits(&p, 1, 2, &d.day))
			return DATETEXT_SYNTAX;
		char sep = *p;
		if (sep != '/' && sep != '-' && sep != '.')
			return DATETEXT_SYNTAX;
		p++;
		if (digits(&p, 1, 2, &d.month) || *p++ != sep || digits(&p, 4, 4, &d.year))
			return DATETEXT_SYNTAX;
	}
	while (is_space(*p))
		p++;
	if (*p)
		return DATETEXT_SYNTAX;
	d.month_days = datetext_month_days(d.year, d.month);
	if (parts)
		*parts = d;
	if (d.year < DATETEXT_YEAR_MIN || d.year > DATETEXT_YEAR_MAX)
		return DATETEXT_BAD_YEAR;
	if (!d.month_days)
		return DATETEXT_BAD_MONTH;
	if (d.day < 1 || d.day > d.month_days)
		return DATETEXT_BAD_DAY;
	put_date(iso, d.year, d.month, d.day, 1);
	return DATETEXT_OK;
}

int datetext_format(const char *iso, char out[DATETEXT_SIZE])
{
	int y, m, d;
	const char *p = iso;
	if (strlen(iso) != 10 || digits(&p, 4, 4, &y) || *p++ != '-' || digits(&p, 2, 2, &m) || *p++ != '-' ||
	    digits(&p, 2, 2, &d) || *p)
		return -1;
	int md = datetext_month_days(y, m);
	if (!md || d < 1 || d > md)
		return -1;
	put_date(out, y, m, d, 0);
	return 0;
}
