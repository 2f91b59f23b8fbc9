/*
 * xlsx.h — the province report as a spreadsheet leaders keep (.xlsx), written with
 * libxlsxwriter (Debian's libxlsxwriter-dev; this file's .c is its only user).
 *
 * One sheet per level, Vietnamese labels, numbers as numbers:
 *   "Tổng hợp"      the unit's own totals (one row per figure and measure);
 *   one sheet for its children (the report's unit_breakdown), named by their kind
 *                   ("Cấp huyện", "Cấp xã", "Chi đoàn", "Trực thuộc");
 *   one sheet for their children in turn (each child's own report's breakdown), with
 *                   the parent in column "Thuộc".
 * Columns: Đơn vị, Mã đơn vị, [Thuộc,] STT, Chỉ tiêu, Nội dung, Năm Y, Trên tổng số,
 * Tỷ lệ, Chỉ tiêu giao, Năm Y−1, Trên tổng số (Y−1), Tỷ lệ (Y−1), then the keys a
 * program matches on: Mã chỉ tiêu (figure key), Mã nội dung (measure key), Mã định
 * danh (the unit's id). Counts and denominators are numbers, shares numbers with a
 * percent format; an empty cell where the JSON report has null.
 *
 * Owns: nothing between calls.
 */
#ifndef LK_HUB_XLSX_H
#define LK_HUB_XLSX_H

#include <stddef.h>

struct store;

#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* Writes the report of unit (id or code; NULL: the province) for year, as of today
 * ('YYYY-MM-DD'), into the new file path. 0; 1 when the unit or year is bad (the
 * caller's fault); -1 (storage, memory, the file); err says why in English. */
int xlsx_write_report(struct store *s, const char *unit, int year, const char *today,
		      const char *path, char *err, size_t errlen);

/* The same into memory: 0 and *out (malloc'd) and *len, or as above. The file goes
 * through a temporary file in tmpdir (NULL: $TMPDIR or /tmp), removed before return. */
int xlsx_report_bytes(struct store *s, const char *unit, int year, const char *today,
		      const char *tmpdir, unsigned char **out, size_t *len, char *err,
		      size_t errlen);

#endif
