/*
 * fuzz_csv_entry.h — what the CSV fuzz target does with one input, shared by the
 * libFuzzer target (tests/fuzz/fuzz_csv.c, clang) and the corpus replay test
 * (tests/unit/test_agent_fuzz_csv.c, gcc).
 *
 * The input is read as a CSV file (what `lienket-agent import` takes from an office).
 * Invariants: the reader terminates, never reports more than CSV_MAX_FIELDS fields or
 * a field longer than CSV_MAX_FIELD_BYTES, line numbers never go backwards, and every
 * good record written back with the writer reads back identically.
 */
#ifndef LK_FUZZ_CSV_ENTRY_H
#define LK_FUZZ_CSV_ENTRY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define FUZZ_CSV_CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

/* Writes the current record of r to a memory stream and reads it back: same fields. */
static inline void fuzz_csv_roundtrip(const struct csv_reader *r)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	if (!out)
		return;
	struct csv_writer w;
	size_t n = csv_reader_nfields(r);
	/* With the BOM, as export writes: the reader strips exactly one, so a field that
	 * itself starts with U+FEFF survives. */
	int ok = csv_writer_init(&w, out, 1) == 0;
	for (size_t i = 0; ok && i < n; i++) {
		size_t len = 0;
		const char *f = csv_reader_field(r, i, &len);
		ok = csv_write_field(&w, f, len) == 0;
	}
	ok = ok && csv_end_record(&w) == 0;
	if (fclose(out) != 0)
		ok = 0;
	if (ok && size > 0) {
		FILE *in = fmemopen(buf, size, "rb");
		struct csv_reader *back = in ? csv_reader_new(in) : NULL;
		if (back) {
			enum csv_status st = csv_reader_next(back);
			/* A record of one empty field is written as an empty line, which the
			 * reader skips by contract; anything else must come back whole. */
			int lone_empty = n == 1 && csv_reader_field(r, 0, NULL)[0] == '\0';
			if (!lone_empty) {
				FUZZ_CSV_CHECK(st == CSV_OK);
				FUZZ_CSV_CHECK(csv_reader_nfields(back) == n);
				for (size_t i = 0; i < n; i++) {
					size_t la = 0, lb = 0;
					const char *a = csv_reader_field(r, i, &la);
					const char *b = csv_reader_field(back, i, &lb);
					/* CR and CRLF inside a quoted field read back as LF. */
					if (!memchr(a, '\r', la))
						FUZZ_CSV_CHECK(la == lb && memcmp(a, b, la) == 0);
				}
			}
		}
		csv_reader_free(back);
		if (in)
			fclose(in);
	}
	free(buf);
}

static inline void fuzz_csv(const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return;
	struct csv_reader *r = csv_reader_new(f);
	unsigned long last_line = 0;
	for (int guard = 0; r && guard < 1000000; guard++) {
		enum csv_status st = csv_reader_next(r);
		if (st == CSV_EOF)
			break;
		unsigned long line = csv_reader_line(r);
		FUZZ_CSV_CHECK(line >= last_line);
		last_line = line;
		if (st != CSV_OK)
			continue;
		size_t n = csv_reader_nfields(r);
		FUZZ_CSV_CHECK(n >= 1 && n <= CSV_MAX_FIELDS);
		for (size_t i = 0; i < n; i++) {
			size_t len = 0;
			const char *fld = csv_reader_field(r, i, &len);
			FUZZ_CSV_CHECK(fld && len <= CSV_MAX_FIELD_BYTES && strlen(fld) == len);
		}
		fuzz_csv_roundtrip(r);
	}
	csv_reader_free(r);
	fclose(f);
}

#endif
