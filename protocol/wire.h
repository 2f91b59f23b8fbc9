/*
 * wire.h — the JSON messages of PROTOCOL.md §6, decoded defensively and encoded.
 *
 * Only this module includes jansson. Decoders take the *inflated* JSON text (see
 * zio.h), check every limit of PROTOCOL.md §11 and return a typed error with the
 * field concerned. A decoded message owns all of its strings; free it with its
 * _free function (accepts NULL). Encoders return a new NUL-terminated JSON text
 * (caller frees with free()).
 *
 * Change sets have two shapes (PROTOCOL.md §6.2 and §6.2a): wire_changeset_decode reads
 * either (shape 2 without a JSON tree, protocol/wire_v2.c) into the same entries, and a
 * writer writes the shape it was made for. Every other message has one shape, `v` 1.
 */
#ifndef LK_WIRE_H
#define LK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

#define WIRE_PROTOCOL_VERSION 2 /* what this library speaks: change sets of shape 1 and 2 */
#define WIRE_MESSAGE_V 1        /* the `v` of every message but a change set of shape 2 */
#define WIRE_CHANGES_V1 1       /* change-set shapes (PROTOCOL.md §6.2, §6.2a) */
#define WIRE_CHANGES_V2 2
#define WIRE_CHANGES_MAX WIRE_CHANGES_V2 /* the highest shape we write and read */

/* Limits of PROTOCOL.md §11; each is a named constant with its reason there. */
#define WIRE_MAX_BODY_BYTES     (1u << 20) /* compressed request body */
#define WIRE_MAX_INFLATED_BYTES (8u << 20) /* inflated body: bomb guard */
#define WIRE_MAX_CHANGES        5000       /* entries per change set: bounds one transaction */
#define WIRE_MAX_DEPTH          8          /* our messages nest at most 5 deep */
#define WIRE_MAX_STRING         65536      /* longest column is 2000 bytes */
#define WIRE_MAX_PULL_ROWS      500        /* rows per pull page */
#define WIRE_MAX_PULL_INFLATED_BYTES (4u << 20) /* inflated pull page: 500 rows fit easily */
#define WIRE_MAX_SAFE_INT       9007199254740992LL /* 2^53: JSON-safe integers */
#define WIRE_DEFAULT_BATCH_BYTES (64u << 10) /* agent batch, uncompressed: suits 2G */
#define WIRE_MAX_REFS           65536      /* shape 2: refs per change set (an index < 65536) */
#define WIRE_MAX_COLS           256        /* shape 2: names per group (tables have < 64) */

enum wire_error {
	WIRE_OK = 0,
	WIRE_NOMEM,
	WIRE_BAD_JSON,        /* not JSON at all / syntax error */
	WIRE_BAD_UTF8,        /* invalid UTF-8 */
	WIRE_DUPLICATE_KEY,   /* an object with a repeated key */
	WIRE_TOO_DEEP,        /* nesting deeper than WIRE_MAX_DEPTH */
	WIRE_NUMBER_RANGE,    /* an integer beyond 64 bits, or a non-integer where one is needed */
	WIRE_STRING_TOO_LONG, /* a string longer than WIRE_MAX_STRING */
	WIRE_TOO_MANY,        /* more than WIRE_MAX_CHANGES entries / WIRE_MAX_PULL_ROWS rows */
	WIRE_BAD_MESSAGE,     /* a member missing or of the wrong type: `field` names it */
	WIRE_BAD_VERSION,     /* "v" is not a shape of the message (code "protocol_version") */
	WIRE_BAD_SEQUENCE,    /* entries not exactly from..to, or from < 1 */
};

/* Caller-owned error detail; written on failure only. */
struct wire_status {
	enum wire_error code;
	char field[64];   /* the member concerned, e.g. "entries[3].table" */
	char message[160];/* English, for logs */
};

/* The stable code string of PROTOCOL.md §7.1 for an error: "bad_json", "bad_utf8",
 * "duplicate_key", "too_deep", "number_range", "string_too_long", "too_many",
 * "bad_message", "protocol_version", "bad_sequence"; WIRE_NOMEM gives "internal". */
const char *wire_error_code(enum wire_error e);

/* 1 when json[0..len) is well-formed JSON text as our decoders accept it: an object or
 * array at the top, nesting at most WIRE_MAX_DEPTH, valid UTF-8, no \u0000, escapes
 * and surrogate pairs valid, RFC 8259 numbers (their range is not checked). Never
 * allocates: the decoders use it to tell an allocation failure inside the JSON parser
 * (WIRE_NOMEM) from a sender's syntax error (WIRE_BAD_JSON). */
int wire_json_wellformed(const char *json, size_t len);

/* ---- hello (PROTOCOL.md §6.1) ---- */
struct wire_hello {
	int v, schema;
	char agent[37];
	int64_t wall_ms;
	int64_t pending;
	uint64_t acked;
	char software[64];
	int changes_v;   /* the highest change-set shape the agent sends; 1 when absent
			  * (encoded only when > 1, so a version-1 hub reads it as before) */
};
int wire_hello_decode(const char *json, size_t len, struct wire_hello *out, struct wire_status *st);
char *wire_hello_encode(const struct wire_hello *h);

struct wire_checksum_item { char unit[37]; char value[40]; };
struct wire_hello_answer {
	int v, schema;
	int64_t hub_time;
	char hub_id[37];
	char unit[37];
	uint64_t acked;
	char chain[65];
	uint64_t backup_seq;
	int64_t max_body_bytes, max_inflated_bytes, max_changes, max_ahead_ms, pull_page_rows;
	struct wire_checksum_item *checksums; /* owned */
	size_t nchecksums;
	int retired;
	int changes_v;   /* the shape the agent sends in this sync; 1 when absent (a hub of
			  * protocol version 1) */
};
int wire_hello_answer_decode(const char *json, size_t len, struct wire_hello_answer *out,
			     struct wire_status *st);
char *wire_hello_answer_encode(const struct wire_hello_answer *a);
void wire_hello_answer_release(struct wire_hello_answer *a); /* frees checksums */

/* ---- change set (PROTOCOL.md §6.2) ---- */
struct wire_changeset {
	int v, schema;         /* v: the shape it came in (1 or 2) */
	char agent[37];
	uint64_t from, to;
	unsigned char chain_before[32], chain_after[32];
	struct entry *entries; /* nentries == to - from + 1, in sequence order */
	size_t nentries;
	void *priv;            /* owned storage (the parsed document) */
};
/* Decodes and checks structure and limits (not the schema: see validate.h). On
 * success *out is a new change set; free with wire_changeset_free. */
int wire_changeset_decode(const char *json, size_t len, struct wire_changeset **out,
			  struct wire_status *st);
void wire_changeset_free(struct wire_changeset *cs);

/* Incremental encoder used by the agent to cut change sets by bytes. _new writes shape
 * 1; _new_v the shape changes_v (WIRE_CHANGES_V1 or WIRE_CHANGES_V2; anything else is 1).
 * Both shapes take the same entries, except that shape 2 has no room for an entry of
 * more than WIRE_MAX_COLS fields (schema tables have fewer than 64 columns). */
struct wire_changeset_writer;
struct wire_changeset_writer *wire_changeset_writer_new(int schema, const char *agent);
struct wire_changeset_writer *wire_changeset_writer_new_v(int schema, const char *agent, int changes_v);
int wire_changeset_writer_version(const struct wire_changeset_writer *w);
/* wire_changeset_writer_add, unless the text would then be longer than max_bytes:
 * returns 2 and leaves the writer unchanged (an agent cutting change sets by bytes in
 * either shape). */
int wire_changeset_writer_add_within(struct wire_changeset_writer *w, const struct entry *e,
				     size_t max_bytes);
/* Appends an entry; returns 0, -1 on allocation failure or when e->seq does not follow
 * the previous entry's (a caller bug), 1 when the entry cannot be encoded: text not
 * valid UTF-8 or containing NUL or longer than WIRE_MAX_STRING, an integer beyond
 * ±2^53, a clock of 2^63 or more, a non-finite real, the same field twice (the caller
 * then sends it skipped with reason "unencodable"). On -1 or 1 the writer is unchanged.
 * wire_changeset_writer_bytes is an upper bound of the JSON size so far (from/to
 * counted at their widest); the finished text is never longer. */
int wire_changeset_writer_add(struct wire_changeset_writer *w, const struct entry *e);
size_t wire_changeset_writer_bytes(const struct wire_changeset_writer *w);
size_t wire_changeset_writer_count(const struct wire_changeset_writer *w);
/* The encoded size one entry would add (for "alone larger than a batch"); 0 when it
 * cannot be encoded or an allocation fails. */
size_t wire_entry_encoded_bytes(const struct entry *e);
/* One entry encoded once (in shape 1), for a caller that must know its size before
 * deciding to append it (the agent cutting change sets by bytes): the pair
 * wire_entry_encoded_bytes + wire_changeset_writer_add without encoding twice.
 * new: 0 and *out (free with wire_encoded_entry_free unless handed to
 * wire_changeset_writer_add_encoded), 1 when e cannot be encoded (the cases of
 * wire_changeset_writer_add), -1 on allocation failure; *out is written only on 0.
 * bytes: equal to wire_entry_encoded_bytes(e). add_encoded: appends as
 * wire_changeset_writer_add(w, e) would and takes x in every case; 0, or -1 on
 * allocation failure or when e->seq does not follow or w writes shape 2 (the writer is
 * then unchanged). */
struct wire_encoded_entry;
int wire_encoded_entry_new(const struct entry *e, struct wire_encoded_entry **out);
size_t wire_encoded_entry_bytes(const struct wire_encoded_entry *x);
int wire_changeset_writer_add_encoded(struct wire_changeset_writer *w, struct wire_encoded_entry *x);
void wire_encoded_entry_free(struct wire_encoded_entry *x); /* accepts NULL */
/* Finishes: sets from/to and chains, returns the JSON text (caller frees). The writer
 * is freed in every case. */
char *wire_changeset_writer_finish(struct wire_changeset_writer *w,
				   const unsigned char chain_before[32],
				   const unsigned char chain_after[32]);
void wire_changeset_writer_free(struct wire_changeset_writer *w);

/* ---- answer to a change set ---- */
struct wire_quarantine {
	uint64_t seq;
	char code[24];
	char table[40];
	char id[37];
	char field[64];
	char message[160];
};
struct wire_changes_answer {
	int v;
	int64_t hub_time;
	uint64_t acked;
	int64_t applied;
	int duplicate;
	struct wire_quarantine *quarantined; /* owned */
	size_t nquarantined;
};
int wire_changes_answer_decode(const char *json, size_t len, struct wire_changes_answer *out,
			       struct wire_status *st);
char *wire_changes_answer_encode(const struct wire_changes_answer *a);
void wire_changes_answer_release(struct wire_changes_answer *a);

/* ---- error answer (PROTOCOL.md §7.1) ---- */
struct wire_error_answer {
	int64_t hub_time;
	char code[32];
	char message[200];
	char field[64];
	uint64_t expected;   /* gap; fork: the first sequence that differs (0 unknown) */
	uint64_t seq;        /* clock_ahead */
	int hub_schema;      /* schema_newer */
};
int wire_error_answer_decode(const char *json, size_t len, struct wire_error_answer *out,
			     struct wire_status *st);
char *wire_error_answer_encode(const struct wire_error_answer *a);

/* ---- pull page (PROTOCOL.md §6.3) ---- */
struct wire_pull_field {
	const char *name;   /* borrowed from the page */
	struct value v;     /* strings borrowed from the page */
	uint64_t clock;
	const char *writer; /* borrowed */
};
struct wire_pull_row {
	const char *table, *id, *owner;
	uint64_t ins_clock; const char *ins_writer; /* ins_writer NULL: no insert */
	uint64_t del_clock; const char *del_writer; /* del_writer NULL: no delete */
	struct wire_pull_field *fields;
	size_t nfields;
};
struct wire_pull_page {
	int v;
	int64_t hub_time;
	uint64_t cursor;
	int more;
	struct wire_pull_row *rows;
	size_t nrows;
	void *priv; /* owned storage */
};
int wire_pull_page_decode(const char *json, size_t len, struct wire_pull_page **out,
			  struct wire_status *st);
void wire_pull_page_free(struct wire_pull_page *p);

/* Builds a pull page row by row (hub side). */
struct wire_pull_writer;
struct wire_pull_writer *wire_pull_writer_new(int64_t hub_time);
int wire_pull_writer_add(struct wire_pull_writer *w, const struct wire_pull_row *row);
char *wire_pull_writer_finish(struct wire_pull_writer *w, uint64_t cursor, int more); /* frees w */
void wire_pull_writer_free(struct wire_pull_writer *w);

#endif
