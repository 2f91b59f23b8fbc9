/*
 * wire_internal.h — what wire.c (shape 1 and every other message, over jansson) and
 * wire_v2.c (change sets of shape 2, PROTOCOL.md §6.2a, without a JSON tree) share.
 * Not part of the module's contract: only those two files include it.
 */
#ifndef LK_WIRE_INTERNAL_H
#define LK_WIRE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "wire.h"

#define WIRE_MAX_CLOCK ((uint64_t)INT64_MAX) /* clocks within 2^63 (PROTOCOL.md §11) */
#define WIRE_MAX_SCHEMA 1000000              /* a schema version is a small positive int */
#define WIRE_PATH 64                         /* = sizeof wire_status.field */

/* Fills st (when not NULL) and returns code. */
int wire_fail(struct wire_status *st, enum wire_error code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The storage a decoded change set owns (wire_changeset.priv), for either shape: the
 * parsed jansson document (shape 1), the canonical texts of compound values (`holder`,
 * a jansson array, made when needed), the fields, and the decoded strings (shape 2). */
struct cs_priv {
	void *doc;           /* json_t *, shape 1 */
	void *holder;        /* json_t * array, or NULL */
	struct field *fields;/* shape 1: one block */
	struct field **blocks; /* shape 2: one block per group */
	size_t nblocks;
	char *arena;         /* shape 2: decoded strings */
	unsigned char *seen; /* shape 2: sequence coverage while decoding */
};

/* A field value from the JSON text of one value (any JSON type), read exactly as a
 * shape-1 field value is (compound values get their canonical text, kept alive by
 * *holder, made on first use). 0 or a wire_error with st filled. */
int wire_value_from_text(const char *text, size_t len, struct value *v, void **holder, const char *path,
			 struct wire_status *st);

/* Duplicate keys anywhere in well-formed text, found by jansson (for the rare object
 * too large for wire_v2.c's own check): 0 or WIRE_DUPLICATE_KEY (or WIRE_NOMEM). */
int wire_duplicate_keys(const char *json, size_t len, struct wire_status *st);

/* The compact JSON text of a value as shape 1 writes it (new string, caller frees):
 * NULL with *rc 1 when it cannot be encoded, -1 on allocation failure. */
char *wire_value_to_text(const struct value *v, int *rc);

/* 1 when s is text a change set can carry: valid UTF-8, no NUL, at most WIRE_MAX_STRING. */
int wire_text_ok(const char *s, size_t len);

/* The shape-2 writer (wire_v2.c); wire.c's wire_changeset_writer wraps it. */
struct wire_v2_writer;
struct wire_v2_writer *wire_v2_writer_new(int schema, const char *agent);
/* 0 appended, 1 cannot be encoded, 2 the text would grow beyond max_bytes (the writer
 * is then unchanged), -1 allocation failure or e->seq out of order. */
int wire_v2_writer_add(struct wire_v2_writer *w, const struct entry *e, size_t max_bytes);
size_t wire_v2_writer_bytes(const struct wire_v2_writer *w);
size_t wire_v2_writer_count(const struct wire_v2_writer *w);
char *wire_v2_writer_finish(struct wire_v2_writer *w, const unsigned char before[32],
			    const unsigned char after[32]); /* does not free w */
void wire_v2_writer_free(struct wire_v2_writer *w);

/* The shape-2 decoder: json is well formed (wire_json_wellformed) and its top-level
 * "v" is 2. */
int wire_v2_changeset_decode(const char *json, size_t len, struct wire_changeset **out,
			     struct wire_status *st);

#endif
