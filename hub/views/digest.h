/*
 * digest.h — the morning report of the province (`lienket-hub digest`): the sync
 * status as of a cut-off time, what arrived the day before, and the report, written
 * as one HTML page and CSV files for Excel.
 *
 * Days are Vietnam's (UTC+7): "the day before" DATE is [DATE−1 00:00, DATE 00:00)
 * Vietnam time, whatever the machine's time zone. The report is the province's for
 * the year of DATE−1, as of DATE−1 (the last whole day).
 *
 * Files written into the output directory (each first to a temporary name, then
 * renamed, so a reader never sees half a file):
 *   digest-DATE.html            the whole morning report (self-contained, no asset)
 *   digest-DATE-status.csv      status_write_csv
 *   digest-DATE-arrivals.csv    one line per office that sent change sets
 *   digest-DATE-report.csv      report_write_csv
 * Every CSV is UTF-8 with a byte-order mark and CRLF line ends (Excel shows the
 * Vietnamese then).
 *
 * Owns: what digest_arrivals returns (digest_arrivals_free).
 */
#ifndef LK_HUB_DIGEST_H
#define LK_HUB_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct store;

/* What one office sent in a period (receipts of its change sets). */
struct digest_arrival {
	char agent[37];
	char unit[37];
	char *unit_name;       /* NULL when the unit is unknown */
	char *unit_code;
	int64_t changesets;    /* accepted change sets (duplicates not counted) */
	int64_t duplicates;    /* change sets acknowledged again */
	int64_t changes;       /* entries in the accepted change sets (seq_to − seq_from + 1) */
	int64_t applied, quarantined, held, skipped;
	int64_t first_ms, last_ms;
};

/* Receipts with from_ms <= received_ms < to_ms, per agent, sorted by unit name then
 * agent. names_date ('YYYY-MM-DD') picks the unit names. Returns 0 with *out (free
 * with digest_arrivals_free) and *n, or -1 with an English reason in err. */
int digest_arrivals(struct store *s, int64_t from_ms, int64_t to_ms, const char *names_date,
		    struct digest_arrival **out, size_t *n, char *err, size_t errlen);
void digest_arrivals_free(struct digest_arrival *a, size_t n);

/* CSV of arrivals (byte-order mark, CRLF). 0, or -1 when writing failed. */
int digest_write_arrivals_csv(const struct digest_arrival *a, size_t n, FILE *f);

/* The four texts of one digest (malloc'd; digest_texts_release), and its scope. */
struct digest_texts {
	char unit_id[37];      /* "" the province */
	char scope_name[256];  /* the unit's name on the day before the digest's date */
	char *html, *status_csv, *arrivals_csv, *report_csv;
};
void digest_texts_release(struct digest_texts *t);

/* Builds the digest of date for the subtree of unit (a unit id or code; NULL or "":
 * the province): the status of its offices, their arrivals and its report. Returns 0
 * and *out, 1 when the date, cut-off or unit is bad (the caller's fault), -1 for
 * storage or memory; err says why in English. */
int digest_build(struct store *s, const char *date, int cutoff_hh, int cutoff_mm, const char *unit,
		 struct digest_texts *out, char *err, size_t errlen);

/* Writes the four files for date ('YYYY-MM-DD') with the status as of cutoff
 * (hh:mm Vietnam time on date) into dir (which must exist). Returns 0, or -1 with an
 * English reason in err: 1 when the date or cut-off is malformed (the caller's
 * fault), -1 for storage or file failures. */
int digest_write(struct store *s, const char *date, int cutoff_hh, int cutoff_mm, const char *dir,
		 char *err, size_t errlen);

#endif
