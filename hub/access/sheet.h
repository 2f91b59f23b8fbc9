/*
 * sheet.h — the printable enrolment sheet of one office (`lienket-hub enroll --csv`):
 * an A4 HTML page in Vietnamese with the office's name, its unit, the hub's address,
 * the join code (PROTOCOL.md §12) as text and as a QR code (libqrencode, drawn as
 * inline SVG, so the page needs no other file and prints as it is shown).
 *
 * Every text that comes from the operator's CSV or the unit tables is escaped
 * (textout_html).
 */
#ifndef LK_HUB_SHEET_H
#define LK_HUB_SHEET_H

#include <stdio.h>

struct sheet_office {
	const char *office;   /* the office's name as the CSV gives it */
	const char *unit;     /* "CODE NAME" of its unit */
	const char *hub_url;
	const char *code;     /* the join code */
	const char *issued;   /* dd/mm/yyyy */
};

/* Writes the page to f. 0, or -1 when the QR code cannot be made or f fails. */
int sheet_write(FILE *f, const struct sheet_office *o);

/* The QR code (error correction M, byte mode) of text as one <svg> element, a
 * 4-module quiet zone around it. 0, or -1 when libqrencode refuses the text. */
int sheet_qr_svg(FILE *f, const char *text);

#endif
