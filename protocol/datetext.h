/*
 * datetext.h — dates as offices write them (dd/mm/yyyy) and as they are stored
 * (ISO 8601, YYYY-MM-DD).
 *
 * Accepted on input: "d/m/yyyy" and "dd/mm/yyyy" (also with '-' or '.' between the
 * parts: 14-03-2021, 14.3.2021), and ISO "yyyy-mm-dd"; white space around the date is
 * ignored. The year has four digits, from DATETEXT_YEAR_MIN to DATETEXT_YEAR_MAX. A day
 * the month does not have (31/02/2021, 29/02/2023) is refused with the facts the
 * message needs, never moved to the next month. Output: ISO → "dd/mm/yyyy".
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef LK_DATETEXT_H
#define LK_DATETEXT_H

/* "YYYY-MM-DD" or "DD/MM/YYYY" and the terminator. */
#define DATETEXT_SIZE 11
/* The years an office record can carry: nothing before the youth union's book keeping,
 * nothing a typo of the current century would make. */
#define DATETEXT_YEAR_MIN 1900
#define DATETEXT_YEAR_MAX 2100

enum datetext_code {
	DATETEXT_OK = 0,
	DATETEXT_SYNTAX,    /* not a date in any accepted form */
	DATETEXT_BAD_YEAR,  /* a year outside [DATETEXT_YEAR_MIN, DATETEXT_YEAR_MAX] */
	DATETEXT_BAD_MONTH, /* a month outside 1..12 */
	DATETEXT_BAD_DAY,   /* a day the month does not have (0, 32, 31/04, 29/02 of 2023) */
};

/* What datetext_parse read, filled on every return but DATETEXT_SYNTAX (the parts as
 * typed, so a message can say "tháng 2 năm 2021 chỉ có 28 ngày"). */
struct datetext_parts {
	int day, month, year;
	int month_days; /* days in that month of that year; 0 when the month is bad */
};

/* Reads text in any accepted form into iso[] ("YYYY-MM-DD", terminated) on DATETEXT_OK;
 * iso is not written otherwise. parts may be NULL. */
enum datetext_code datetext_parse(const char *text, char iso[DATETEXT_SIZE], struct datetext_parts *parts);

/* Writes "dd/mm/yyyy" for an ISO date. 0, or -1 (out not written) when iso is not
 * "YYYY-MM-DD" of a real date. */
int datetext_format(const char *iso, char out[DATETEXT_SIZE]);

/* Days in month (1..12) of year, Gregorian; 0 for a bad month. */
int datetext_month_days(int year, int month);

#endif
