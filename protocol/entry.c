/*
 * entry.c — the canonical encoding of an entry, its hash, the chain and the per-unit
 * checksum (PROTOCOL.md §5 and §8).
 *
 * canon(entry) is a byte string built in a growable buffer owned by the caller of
 * entry_canonical; fields are written sorted by name (bytes) so the encoding does not
 * depend on the order the fields arrived in. The clock and the schema version are
 * never part of it: lowering clocks leaves the chain unchanged. Nothing here keeps a
 * pointer to an entry's borrowed strings.
 */
#include "entry.h"

#include <stdlib.h>
#include <string.h>

#include "lkcrypto.h" /* its SHA-256 cannot fail, which entry_chain_step relies on */

/* A growable byte buffer; `failed` makes every later append a no-op. */
struct canon_buf {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void buf_put(struct canon_buf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (n > SIZE_MAX - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void buf_u8(struct canon_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	buf_put(b, &c, 1);
}

static void buf_u32(struct canon_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	buf_put(b, c, 4);
}

static void buf_u64(struct canon_buf *b, uint64_t v)
{
	unsigned char c[8];
	for (int i = 0; i < 8; i++)
		c[i] = (unsigned char)(v >> (56 - 8 * i));
	buf_put(b, c, 8);
}

/* str = u32 length | bytes. A NULL string is written as the empty string. Strings
 * longer than 4 GiB cannot be encoded (never reached: the wire limits strings). */
static void buf_str(struct canon_buf *b, const char *s, size_t n)
{
	if (n > UINT32_MAX) {
		b->failed = 1;
		return;
	}
	buf_u32(b, (uint32_t)n);
	buf_put(b, s, n);
}

static void buf_cstr(struct canon_buf *b, const char *s)
{
	buf_str(b, s, s ? strlen(s) : 0);
}

static void buf_value(struct canon_buf *b, const struct value *v)
{
	switch (v->kind) {
	case VALUE_NULL:
		buf_u8(b, 'n');
		break;
	case VALUE_INT:
		buf_u8(b, 'i');
		buf_u64(b, (uint64_t)v->i);
		break;
	case VALUE_TEXT:
		buf_u8(b, 's');
		buf_str(b, v->s, v->s ? v->len : 0);
		break;
	case VALUE_REAL: {
		uint64_t bits;
		memcpy(&bits, &v->r, sizeof bits);
		buf_u8(b, 'r');
		buf_u64(b, bits);
		break;
	}
	case VALUE_BOOL:
		buf_u8(b, 'b');
		buf_u8(b, v->i ? 1 : 0);
		break;
	case VALUE_COMPOUND:
		buf_u8(b, 'c');
		buf_str(b, v->s, v->s ? v->len : 0);
		break;
	default:
		b->failed = 1;
		break;
	}
}

static int field_ptr_cmp(const void *a, const void *b)
{
	const struct field *fa = *(const struct field *const *)a;
	const struct field *fb = *(const struct field *const *)b;
	return strcmp(fa->name ? fa->name : "", fb->name ? fb->name : "");
}

/* Appends `u32 n | n × (str name | value)` with names sorted by bytes. */
static void buf_fields(struct canon_buf *b, const struct field *fields, size_t n)
{
	if (n > UINT32_MAX) {
		b->failed = 1;
		return;
	}
	buf_u32(b, (uint32_t)n);
	if (n == 0 || b->failed)
		return;
	/* sorted is an array of pointers: sizeof *sorted (a pointer) is the element size. */
	const struct field **sorted = malloc(n * sizeof *sorted); // NOLINT(bugprone-sizeof-expression): elements are pointers, not structs
	if (!sorted) {
		b->failed = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &fields[i];
	qsort(sorted, n, sizeof *sorted, field_ptr_cmp); // NOLINT(bugprone-sizeof-expression): sorts the pointers
	for (size_t i = 0; i < n; i++) {
		buf_cstr(b, sorted[i]->name);
		buf_value(b, &sorted[i]->v);
	}
	free(sorted);
}

int entry_canonical(const struct entry *e, unsigned char **out, size_t *len)
{
	struct canon_buf b = { 0 };
	buf_u64(&b, e->seq);
	buf_cstr(&b, e->table);
	buf_cstr(&b, e->id);
	buf_u8(&b, (unsigned char)e->op);
	buf_cstr(&b, e->owner);
	buf_fields(&b, e->fields, e->fields ? e->nfields : 0);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int entry_hash(const struct entry *e, unsigned char out[ENTRY_HASH_BYTES])
{
	if (e->skipped) {
		memmove(out, e->hash, ENTRY_HASH_BYTES);
		return 0;
	}
	unsigned char *c;
	size_t n;
	if (entry_canonical(e, &c, &n) != 0)
		return -1;
	const struct lkcrypto_part part = { c, n };
	lkcrypto_sha256(&part, 1, out);
	free(c);
	return 0;
}

void entry_chain_step(const unsigned char prev[ENTRY_HASH_BYTES],
		      const unsigned char entry_hash_[ENTRY_HASH_BYTES],
		      unsigned char next[ENTRY_HASH_BYTES])
{
	const struct lkcrypto_part parts[2] = { { prev, ENTRY_HASH_BYTES },
						{ entry_hash_, ENTRY_HASH_BYTES } };
	lkcrypto_sha256(parts, 2, next); /* next may alias prev: lkcrypto_sha256 allows it */
}

int entry_row_digest(const char *table, const char *id, const struct field *fields,
		     size_t nfields, uint64_t *out)
{
	struct canon_buf b = { 0 };
	unsigned char md[LKCRYPTO_SHA256_BYTES];
	buf_cstr(&b, table);
	buf_cstr(&b, id);
	buf_fields(&b, fields, fields ? nfields : 0);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	const struct lkcrypto_part part = { b.p, b.len };
	lkcrypto_sha256(&part, 1, md);
	free(b.p);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | md[i];
	*out = v;
	return 0;
}

void checksum_add(struct checksum *c, uint64_t row_digest)
{
	c->count++;
	c->sum += row_digest; /* unsigned: wraps modulo 2^64 as specified */
}

void checksum_format(const struct checksum *c, char buf[CHECKSUM_TEXT_MAX])
{
	static const char hex[] = "0123456789abcdef";
	char digits[24];
	size_t nd = 0;
	uint64_t n = c->count;
	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	size_t o = 0;
	while (nd)
		buf[o++] = digits[--nd];
	buf[o++] = ':';
	for (int i = 0; i < 16; i++)
		buf[o++] = hex[(c->sum >> (60 - 4 * i)) & 0xf];
	buf[o] = '\0';
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, unsigned char *out, size_t n)
{
	if (!hex)
		return -1;
	for (size_t i = 0; i < 2 * n; i++)
		if (hex_digit(hex[i]) < 0)
			return -1;
	if (hex[2 * n] != '\0')
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)((unsigned)hex_digit(hex[2 * i]) << 4 |
					 (unsigned)hex_digit(hex[2 * i + 1]));
	return 0;
}

int value_equal(const struct value *a, const struct value *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case VALUE_NULL:
		return 1;
	case VALUE_INT:
		return a->i == b->i;
	case VALUE_BOOL:
		return (a->i != 0) == (b->i != 0);
	case VALUE_REAL: {
		/* Equal means the same IEEE-754 bit pattern, as the canonical encoding
		 * (buf_value) hashes the bits: -0.0 != 0.0, and a NaN equals its own bits. */
		uint64_t ab, bb;
		memcpy(&ab, &a->r, sizeof ab);
		memcpy(&bb, &b->r, sizeof bb);
		return ab == bb;
	}
	case VALUE_TEXT:
	case VALUE_COMPOUND:
		if (!a->s || !b->s)
			return a->s == b->s;
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	default:
		return 0;
	}
}
