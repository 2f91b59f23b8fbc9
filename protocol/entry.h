/*
 * entry.h — journal entries as values, their canonical encoding, hashes, the chain
 * and the per-unit checksum (PROTOCOL.md §5 and §8).
 *
 * An entry's strings are borrowed: they belong to whoever built the entry (a decoded
 * change set, an agent's statement row). Functions here never keep them.
 * Hashes are SHA-256 from OpenSSL's libcrypto.
 */
#ifndef LK_ENTRY_H
#define LK_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#define ENTRY_HASH_BYTES 32
#define ENTRY_HASH_HEX   64

enum value_kind {
	VALUE_NULL,
	VALUE_INT,   /* ints, bools */
	VALUE_TEXT,  /* text, date, enum, ref */
	/* The following arrive from the wire only and never validate: they exist so that
	 * a wrong type is quarantined (bad_type) rather than refusing the change set. */
	VALUE_REAL,
	VALUE_BOOL,
	VALUE_COMPOUND, /* array or object */
};

struct value {
	enum value_kind kind;
	int64_t i;       /* VALUE_INT, VALUE_BOOL (0/1) */
	double r;        /* VALUE_REAL */
	const char *s;   /* VALUE_TEXT: borrowed, NUL-terminated, valid UTF-8 */
	size_t len;      /* VALUE_TEXT: bytes, excluding the NUL */
};

struct field {
	const char *name; /* borrowed */
	struct value v;
};

enum entry_op { ENTRY_INSERT = 'i', ENTRY_UPDATE = 'u', ENTRY_DELETE = 'd' };

struct entry {
	uint64_t seq;
	int skipped;            /* 1: only seq, hash and reason are meaningful */
	const char *table;      /* borrowed */
	const char *id;         /* borrowed */
	char op;                /* enum entry_op */
	const char *owner;      /* borrowed: owning unit */
	uint64_t clock;
	const struct field *fields; /* borrowed, nfields of them, any order */
	size_t nfields;
	unsigned char hash[ENTRY_HASH_BYTES]; /* skipped: H(canon(entry)) as sent */
	const char *reason;     /* skipped: "too_large" or "unencodable" */
};

/* Writes H(canon(e)) into out. For a skipped entry copies e->hash. Returns 0, or -1
 * when an allocation fails (out untouched). */
int entry_hash(const struct entry *e, unsigned char out[ENTRY_HASH_BYTES]);

/* Appends canon(e) (PROTOCOL.md §5) to a new buffer. On success returns 0 and sets
 * *out (caller frees with free()) and *len; -1 when an allocation fails. NULL strings
 * are encoded as empty; e->skipped is ignored (a skipped entry has no canon: its hash
 * travels instead). */
int entry_canonical(const struct entry *e, unsigned char **out, size_t *len);

/* chain(n) = H(prev || entry_hash): writes into next (may alias prev). */
void entry_chain_step(const unsigned char prev[ENTRY_HASH_BYTES],
		      const unsigned char entry_hash[ENTRY_HASH_BYTES],
		      unsigned char next[ENTRY_HASH_BYTES]);

/* Hash of one existing row for the unit checksum (PROTOCOL.md §8): fields must hold
 * every declared column except `id` (order free). Returns the first 8 bytes of the
 * hash as a big-endian u64 in *out; 0 on success, -1 on allocation failure. */
int entry_row_digest(const char *table, const char *id, const struct field *fields,
		     size_t nfields, uint64_t *out);

/* A running unit checksum: count and sum modulo 2^64. */
struct checksum {
	uint64_t count;
	uint64_t sum;
};
void checksum_add(struct checksum *c, uint64_t row_digest);
/* "<count>:<16 hex>", NUL-terminated; buf must hold CHECKSUM_TEXT_MAX bytes. */
#define CHECKSUM_TEXT_MAX 40
void checksum_format(const struct checksum *c, char buf[CHECKSUM_TEXT_MAX]);

/* Lowercase hex. hex_encode writes 2n chars plus NUL. hex_decode returns 0 when `hex`
 * is exactly 2n hex digits (either case), -1 otherwise (out untouched on error). */
void hex_encode(const unsigned char *in, size_t n, char *out);
int hex_decode(const char *hex, unsigned char *out, size_t n);

/* Value comparison for merge and for "unchanged" checks: equal kind and content. */
int value_equal(const struct value *a, const struct value *b);

#endif
