/*
 * enrollcsv.h — enrolling many offices at once (`lienket-hub enroll --csv`): one token
 * per office of a CSV file, and one printable sheet per office (sheet.h) carrying its
 * join code (PROTOCOL.md §12).
 *
 * The CSV (UTF-8, an optional BOM, comma-separated, "quoted" fields allowed) has the
 * header `unit,name`: the unit as an id or an official code valid today, the office's
 * name as the sheet shows it (at most 63 bytes). Everything is checked before any
 * token is made; the tokens are made in one transaction, and the sheets written before
 * it commits: either every office has its token and its sheet, or none (the sheets
 * written are removed). A sheet is never overwritten.
 */
#ifndef LK_HUB_ENROLLCSV_H
#define LK_HUB_ENROLLCSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

struct enrollcsv_options {
	const char *db;      /* the database's path, for its .operations log */
	const char *csv;
	const char *hub_url; /* what the join codes carry */
	const char *pins;    /* "sha256//…;sha256//…" (empty for an http URL) */
	const char *out_dir; /* made (0700) when missing */
	int64_t now_ms;
};

enum enrollcsv_result {
	ENROLLCSV_OK = 0,
	ENROLLCSV_BAD,    /* the CSV: a header, a field, a unit that does not exist (exit 65) */
	ENROLLCSV_EXISTS, /* a sheet's file exists already (exit 73) */
	ENROLLCSV_FAIL,   /* storage or file system (exit 70) */
};

/* Runs the enrolment; on success writes one line per office to `report`
 * (sheet file, unit, office name, token prefix — never the token). On failure, an
 * English reason (file and line for the CSV) in err. */
enum enrollcsv_result enrollcsv_run(struct store *s, const struct enrollcsv_options *o, FILE *report,
				    char *err, size_t errlen);

#endif
