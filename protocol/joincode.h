/*
 * joincode.h — join codes (PROTOCOL.md §12): the one string that sets an office laptop
 * up — hub URL, unit id, token and the pinned public keys of the hub — with a version
 * and a checksum, so that a mistyped code is refused before any of it is used.
 *
 *   LK1.<base64url(url \n unit \n token \n pins)>.<crc32 hex>
 *
 * The hub encodes (`lienket-hub enroll --csv`), the agent decodes (`init --join`).
 * No allocation: everything lives in the caller's struct joincode.
 */
#ifndef LK_JOINCODE_H
#define LK_JOINCODE_H

#include <stddef.h>

#define JOINCODE_MAX 1024      /* characters of a whole code, whitespace removed */
#define JOINCODE_URL_MAX 255
#define JOINCODE_MAX_PINS 4
#define JOINCODE_PIN_LEN 52    /* "sha256//" + 44 base64 characters */
#define JOINCODE_PINS_MAX (JOINCODE_MAX_PINS * (JOINCODE_PIN_LEN + 1))

struct joincode {
	char url[JOINCODE_URL_MAX + 1];
	char unit[37];
	char token[47];
	char pins[JOINCODE_PINS_MAX]; /* "sha256//…;sha256//…", "" for an http URL */
};

enum joincode_result {
	JOINCODE_OK = 0,
	JOINCODE_NOT_A_CODE, /* does not start with "LK", or characters a code never has */
	JOINCODE_NEWER,      /* "LK<n>." with n other than 1: made for a newer version */
	JOINCODE_MISTYPED,   /* the checksum does not match (or the code is cut short) */
	JOINCODE_BAD_FIELD,  /* the checksum matches but a field is malformed */
	JOINCODE_TOO_LONG,
};

/* Decodes `text` (whitespace anywhere ignored) into *out. JOINCODE_OK, or why not;
 * *out is zeroed on failure. */
enum joincode_result joincode_decode(const char *text, struct joincode *out);

/* Encodes *j into out (at most JOINCODE_MAX + 1 bytes with the NUL). 0, or -1 when a
 * field is malformed (joincode_fields_valid) or out is too small. */
int joincode_encode(const struct joincode *j, char *out, size_t outlen);

/* 1 when the fields satisfy §12: an https URL (or http to loopback), a lowercase UUID,
 * a well-formed token, and pins as §12 wants them for that URL (at least two distinct
 * ones for https, none for http). */
int joincode_fields_valid(const struct joincode *j);

/* 1 when `pins` is a ';'-joined list of 1..JOINCODE_MAX_PINS distinct "sha256//"
 * + 44-character base64 values, else 0; *n receives their number. */
int joincode_pins_valid(const char *pins, size_t *n);

#endif
