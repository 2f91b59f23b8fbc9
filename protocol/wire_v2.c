/*
 * wire_v2.c — change sets of shape 2 (PROTOCOL.md §6.2a): the writer and a decoder
 * that reads the text without building a JSON tree.
 *
 * Decoding runs three steps over text wire.c has already found well formed (syntax,
 * nesting, UTF-8, escapes): a lexical walk checking what jansson would refuse in shape
 * 1 (strings longer than WIRE_MAX_STRING, integers beyond 64 bits, reals that overflow,
 * duplicate keys, by jansson for an object of more than WIRE_V2_MAX_MEMBERS), so that those errors
 * come first whatever their place (§6); then the envelope; then the groups, each entry
 * decoded straight into the change set's arrays. Decoded strings go to one arena sized
 * from the text (a decoded string is never longer than its JSON text, a compact UUID
 * takes 37 bytes for its 24 characters: twice the text's length bounds everything), so
 * the memory a change set takes is bounded by its length. Only a value written as
 * {"j": X} (a real, boolean, array or object, which never validates) goes through
 * jansson, for that value alone (wire_value_from_text).
 *
 * The writer keeps one text buffer per column of each group and one for `refs` and
 * `skipped`; an entry is first encoded into pieces, measured, and only then appended
 * (wire_v2_writer_add's max_bytes: a cut by bytes never leaves a half-added entry).
 * Owns: everything it allocates; entries passed in are only read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "wire_internal.h"

#define WIRE_V2_MAX_MEMBERS 64 /* keys of one object checked here for duplicates */
#define WIRE_V2_UUID_CHARS 22  /* a compact UUID */

/* ------------------------------------------------------------------ compact UUIDs */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_index(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
}

/* uuid: a lowercase UUID (ids_uuid_valid); out: 22 characters, no terminator. */
static void uuid_compact(const char *uuid, char out[WIRE_V2_UUID_CHARS])
{
	unsigned char b[18] = { 0 };
	size_t n = 0;
	for (size_t i = 0; i < 36; i++) {
		if (uuid[i] == '-')
			continue;
		b[n / 2] = (unsigned char)(b[n / 2] | (hexval(uuid[i]) << (n % 2 ? 0 : 4)));
		n++;
	}
	for (size_t i = 0, o = 0; o < WIRE_V2_UUID_CHARS; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		for (int k = 3; k >= 0 && o < WIRE_V2_UUID_CHARS; k--)
			out[o++] = b64url[(v >> (6 * k)) & 63];
	}
}

/* 22 characters of a compact UUID into its 36-character text (NUL-terminated); -1 when
 * s is not one (a character outside base64url, or unused bits set). */
static int uuid_expand(const char *s, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[18] = { 0 };
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < WIRE_V2_UUID_CHARS; i++) {
		int v = b64_index((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (n != 16 || acc != 0)
		return -1;
	for (size_t i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[36] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ text buffers */

struct buf {
	char *p;
	size_t n, cap;
	int failed;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void buf_i64(struct buf *b, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%lld", (long long)v);
	buf_put(b, t, (size_t)n);
}

static void buf_u64(struct buf *b, uint64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	buf_put(b, t, (size_t)n);
}

/* A JSON string of s (valid UTF-8, no NUL: wire_text_ok). */
static void buf_json_str(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	buf_put(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_put(b, s + run, i - run);
		run = i + 1;
		char e[7] = { '\\', (char)c, 0 };
		size_t en = 2;
		switch (c) {
		case '"': case '\\': break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			en = 6;
		}
		buf_put(b, e, en);
	}
	buf_put(b, s + run, len - run);
	buf_put(b, "\"", 1);
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ writer */

struct group {
	char *table;
	char op;
	char **cols;
	size_t ncols;
	size_t n;               /* entries so far */
	uint64_t last_seq, last_clock;
	struct buf seq, id, owner, clock;
	struct buf *vals;       /* ncols */
};

struct wire_v2_writer {
	int schema;
	char agent[37];
	uint64_t from;
	size_t count;
	size_t bytes;           /* the finished text's length, from/to counted at their widest */
	struct group *groups;
	size_t ngroups, gcap;
	size_t last_group;      /* where the previous entry went: tried first */
	char (*refs)[37];
	size_t nrefs, rcap;
	uint32_t *rhash;        /* open addressing: index + 1, 0 empty */
	size_t rhcap;
	struct buf skipped;
	size_t nskipped;
};

static uint32_t hash36(const char *s)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < 36; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Index of ref s, or -1. */
static long ref_find(const struct wire_v2_writer *w, const char *s)
{
	if (!w->rhcap)
		return -1;
	for (size_t i = hash36(s) & (w->rhcap - 1);; i = (i + 1) & (w->rhcap - 1)) {
		uint32_t k = w->rhash[i];
		if (!k)
			return -1;
		if (memcmp(w->refs[k - 1], s, 36) == 0)
			return (long)k - 1;
	}
}

static int ref_add(struct wire_v2_writer *w, const char *s)
{
	if (w->nrefs == w->rcap) {
		size_t cap = w->rcap ? w->rcap * 2 : 64;
		char(*r)[37] = realloc(w->refs, cap * sizeof *r);
		if (!r)
			return -1;
		w->refs = r;
		w->rcap = cap;
	}
	if ((w->nrefs + 1) * 2 > w->rhcap) {
		size_t cap = w->rhcap ? w->rhcap * 2 : 128;
		uint32_t *h = calloc(cap, sizeof *h);
		if (!h)
			return -1;
		for (size_t k = 0; k < w->nrefs; k++) {
			size_t i = hash36(w->refs[k]) & (cap - 1);
			while (h[i])
				i = (i + 1) & (cap - 1);
			h[i] = (uint32_t)k + 1;
		}
		free(w->rhash);
		w->rhash = h;
		w->rhcap = cap;
	}
	memcpy(w->refs[w->nrefs], s, 37);
	size_t i = hash36(s) & (w->rhcap - 1);
	while (w->rhash[i])
		i = (i + 1) & (w->rhcap - 1);
	w->rhash[i] = (uint32_t)++w->nrefs;
	return 0;
}

/* {"v":2,…,"refs":[],"groups":[],"skipped":[]} with from/to at their widest. */
static size_t v2_envelope_bytes(int schema, const char *agent)
{
	return (size_t)snprintf(NULL, 0,
				"{\"v\":2,\"schema\":%d,\"agent\":\"%s\",\"from\":%s,\"to\":%s,"
				"\"chain_before\":\"%64s\",\"chain_after\":\"%64s\",\"refs\":[],"
				"\"groups\":[],\"skipped\":[]}",
				schema, agent, "9007199254740992", "9007199254740992", "", "");
}

struct wire_v2_writer *wire_v2_writer_new(int schema, const char *agent)
{
	struct wire_v2_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->schema = schema;
	snprintf(w->agent, sizeof w->agent, "%s", agent ? agent : "");
	w->bytes = v2_envelope_bytes(schema, w->agent);
	return w;
}

static void group_free(struct group *g)
{
	free(g->table);
	for (size_t i = 0; i < g->ncols; i++)
		free(g->cols[i]);
	free(g->cols);
	buf_free(&g->seq);
	buf_free(&g->id);
	buf_free(&g->owner);
	buf_free(&g->clock);
	for (size_t i = 0; g->vals && i < g->ncols; i++)
		buf_free(&g->vals[i]);
	free(g->vals);
}

void wire_v2_writer_free(struct wire_v2_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->ngroups; i++)
		group_free(&w->groups[i]);
	free(w->groups);
	free(w->refs);
	free(w->rhash);
	buf_free(&w->skipped);
	free(w);
}

size_t wire_v2_writer_bytes(const struct wire_v2_writer *w)
{
	return w->bytes;
}

size_t wire_v2_writer_count(const struct wire_v2_writer *w)
{
	return w->count;
}

static int group_matches(const struct group *g, const struct entry *e)
{
	if (g->op != e->op || g->ncols != e->nfields || strcmp(g->table, e->table) != 0)
		return 0;
	for (size_t i = 0; i < g->ncols; i++)
		if (strcmp(g->cols[i], e->fields[i].name) != 0)
			return 0;
	return 1;
}

/* The text of a new group without entries: {"t":…,"op":…,"cols":[…],"seq":[],…}. */
static void group_skeleton(struct buf *b, const struct entry *e)
{
	char op[2] = { e->op, 0 };
	buf_puts(b, "{\"t\":");
	buf_json_str(b, e->table, strlen(e->table));
	buf_puts(b, ",\"op\":\"");
	buf_puts(b, op);
	buf_puts(b, "\",\"cols\":[");
	for (size_t i = 0; i < e->nfields; i++) {
		if (i)
			buf_puts(b, ",");
		buf_json_str(b, e->fields[i].name, strlen(e->fields[i].name));
	}
	buf_puts(b, "],\"seq\":[],\"id\":[],\"owner\":[],\"clock\":[],\"vals\":[");
	for (size_t i = 0; i < e->nfields; i++)
		buf_puts(b, i ? ",[]" : "[]");
	buf_puts(b, "]}");
}

/* Pieces of one entry, measured before anything is appended. */
struct pieces {
	struct buf text;
	size_t *off;          /* 4 + nfields + 1 offsets into text: seq, id, owner, clock, values */
	const char *newref[WIRE_MAX_COLS + 1]; /* UUIDs this entry adds to refs, in order */
	size_t nnew;
};

/* Index the writer will give UUID s (found, or among this entry's new ones). */
static long ref_index(struct wire_v2_writer *w, struct pieces *pc, const char *s)
{
	long k = ref_find(w, s);
	if (k >= 0)
		return k;
	for (size_t i = 0; i < pc->nnew; i++)
		if (memcmp(pc->newref[i], s, 36) == 0)
			return (long)(w->nrefs + i);
	if (w->nrefs + pc->nnew >= WIRE_MAX_REFS)
		return -1;
	pc->newref[pc->nnew++] = s;
	return (long)(w->nrefs + pc->nnew - 1);
}

static int is_uuid(const char *s)
{
	return s && strlen(s) == 36 && ids_uuid_valid(s);
}

/* 0, 1 cannot be encoded, -1 allocation failure. */
static int encode_value_piece(struct wire_v2_writer *w, struct pieces *pc, const struct value *v)
{
	struct buf *b = &pc->text;
	switch (v->kind) {
	case VALUE_NULL:
		buf_puts(b, "null");
		return 0;
	case VALUE_INT:
		if (v->i < -WIRE_MAX_SAFE_INT || v->i > WIRE_MAX_SAFE_INT)
			return 1;
		buf_i64(b, v->i);
		return 0;
	case VALUE_TEXT: {
		if (!v->s || !wire_text_ok(v->s, v->len))
			return 1;
		long k = v->len == 36 && is_uuid(v->s) ? ref_index(w, pc, v->s) : -1;
		if (k >= 0) {
			buf_puts(b, "[");
			buf_i64(b, k);
			buf_puts(b, "]");
		} else {
			buf_json_str(b, v->s, v->len);
		}
		return 0;
	}
	default: {
		int rc = 0;
		char *t = wire_value_to_text(v, &rc);
		if (!t)
			return rc ? rc : -1;
		buf_puts(b, "{\"j\":");
		buf_puts(b, t);
		buf_puts(b, "}");
		free(t);
		return 0;
	}
	}
}

/* The owner or id of an entry: a ref index, a compact UUID, or ["text"]. */
static int encode_slot(struct wire_v2_writer *w, struct pieces *pc, const char *s, int by_ref)
{
	if (!s || !wire_text_ok(s, strlen(s)))
		return 1;
	if (is_uuid(s)) {
		long k = by_ref ? ref_index(w, pc, s) : -1;
		if (k >= 0) {
			buf_i64(&pc->text, k);
			return 0;
		}
		if (!by_ref) {
			char c[WIRE_V2_UUID_CHARS];
			uuid_compact(s, c);
			buf_puts(&pc->text, "\"");
			buf_put(&pc->text, c, sizeof c);
			buf_puts(&pc->text, "\"");
			return 0;
		}
	}
	buf_puts(&pc->text, "[");
	buf_json_str(&pc->text, s, strlen(s));
	buf_puts(&pc->text, "]");
	return 0;
}

static int add_skipped(struct wire_v2_writer *w, const struct entry *e, size_t max_bytes)
{
	const char *reason = e->reason ? e->reason : "unencodable";
	char hex[ENTRY_HASH_HEX + 1];
	struct buf t = { 0 };
	if (!wire_text_ok(reason, strlen(reason)))
		return 1;
	hex_encode(e->hash, ENTRY_HASH_BYTES, hex);
	buf_puts(&t, w->nskipped ? ",[" : "[");
	buf_u64(&t, e->seq);
	buf_puts(&t, ",\"");
	buf_puts(&t, hex);
	buf_puts(&t, "\",");
	buf_json_str(&t, reason, strlen(reason));
	buf_puts(&t, "]");
	int rc = -1;
	if (t.failed)
		goto out;
	rc = 2;
	if (w->bytes + t.n > max_bytes)
		goto out;
	rc = -1;
	buf_put(&w->skipped, t.p, t.n);
	if (w->skipped.failed)
		goto out;
	w->bytes += t.n;
	w->nskipped++;
	rc = 0;
out:
	buf_free(&t);
	return rc;
}

/* Appends a new, empty group for e. 0 or -1. */
static int group_new(struct wire_v2_writer *w, const struct entry *e, size_t skeleton)
{
	if (w->ngroups == w->gcap) {
		size_t cap = w->gcap ? w->gcap * 2 : 8;
		struct group *g = realloc(w->groups, cap * sizeof *g);
		if (!g)
			return -1;
		w->groups = g;
		w->gcap = cap;
	}
	struct group *g = &w->groups[w->ngroups];
	memset(g, 0, sizeof *g);
	g->op = e->op;
	g->table = strdup(e->table);
	g->cols = calloc(e->nfields ? e->nfields : 1, sizeof *g->cols);
	g->vals = calloc(e->nfields ? e->nfields : 1, sizeof *g->vals);
	int ok = g->table && g->cols && g->vals;
	for (size_t i = 0; ok && i < e->nfields; i++) {
		g->cols[i] = strdup(e->fields[i].name);
		ok = g->cols[i] != NULL;
		g->ncols = i + 1;
	}
	if (!ok) {
		group_free(g);
		return -1;
	}
	g->ncols = e->nfields;
	w->ngroups++;
	w->bytes += skeleton + (w->ngroups > 1 ? 1 : 0);
	return 0;
}

int wire_v2_writer_add(struct wire_v2_writer *w, const struct entry *e, size_t max_bytes)
{
	if (w->count && e->seq != w->from + w->count)
		return -1;
	if (e->seq > (uint64_t)WIRE_MAX_SAFE_INT)
		return 1;
	if (e->skipped) {
		int rc = add_skipped(w, e, max_bytes);
		if (rc == 0) {
			if (w->count == 0)
				w->from = e->seq;
			w->count++;
		}
		return rc;
	}
	if (!e->table || !wire_text_ok(e->table, strlen(e->table)) ||
	    (e->op != ENTRY_INSERT && e->op != ENTRY_UPDATE && e->op != ENTRY_DELETE) ||
	    e->clock > WIRE_MAX_CLOCK || (e->nfields && !e->fields) || e->nfields > WIRE_MAX_COLS)
		return 1;
	for (size_t i = 0; i < e->nfields; i++) {
		if (!e->fields[i].name || !wire_text_ok(e->fields[i].name, strlen(e->fields[i].name)))
			return 1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(e->fields[i].name, e->fields[k].name) == 0)
				return 1; /* the same column twice */
	}
	struct group *g = NULL;
	size_t gi = w->ngroups;
	if (w->last_group < w->ngroups && group_matches(&w->groups[w->last_group], e))
		gi = w->last_group;
	for (size_t i = 0; gi == w->ngroups && i < w->ngroups; i++)
		if (group_matches(&w->groups[i], e))
			gi = i;
	if (gi < w->ngroups)
		g = &w->groups[gi];

	struct pieces pc;
	size_t off[4 + WIRE_MAX_COLS + 1];
	memset(&pc, 0, sizeof pc);
	pc.off = off;
	int rc = 0;
	/* seq, id, owner, clock, values */
	off[0] = 0;
	if (g)
		buf_u64(&pc.text, e->seq - g->last_seq);
	else
		buf_u64(&pc.text, e->seq);
	off[1] = pc.text.n;
	if ((rc = encode_slot(w, &pc, e->id, 0)) != 0)
		goto out;
	off[2] = pc.text.n;
	if ((rc = encode_slot(w, &pc, e->owner, 1)) != 0)
		goto out;
	off[3] = pc.text.n;
	if (g)
		buf_i64(&pc.text, (int64_t)e->clock - (int64_t)g->last_clock);
	else
		buf_u64(&pc.text, e->clock);
	for (size_t i = 0; i < e->nfields; i++) {
		off[4 + i] = pc.text.n;
		if ((rc = encode_value_piece(w, &pc, &e->fields[i].v)) != 0)
			goto out;
	}
	off[4 + e->nfields] = pc.text.n;
	rc = -1;
	if (pc.text.failed)
		goto out;

	/* what the text grows by */
	size_t skeleton = 0;
	if (!g) {
		struct buf s = { 0 };
		group_skeleton(&s, e);
		skeleton = s.n;
		int failed = s.failed;
		buf_free(&s);
		if (failed)
			goto out;
	}
	size_t pieces = 4 + e->nfields;
	size_t grow = pc.text.n + (g && g->n ? pieces : 0) + (g ? 0 : skeleton + (w->ngroups ? 1 : 0)) +
		      pc.nnew * (WIRE_V2_UUID_CHARS + 2) + (pc.nnew ? pc.nnew - (w->nrefs ? 0 : 1) : 0);
	rc = 2;
	if (w->bytes + grow > max_bytes)
		goto out;
	rc = -1;
	for (size_t i = 0; i < pc.nnew; i++)
		if (ref_add(w, pc.newref[i]) != 0)
			goto out; /* the refs already added only lengthen the text: max_bytes may pass */
	w->bytes += pc.nnew * (WIRE_V2_UUID_CHARS + 2) + (pc.nnew ? pc.nnew - (w->nrefs == pc.nnew ? 1 : 0) : 0);
	if (!g) {
		if (group_new(w, e, skeleton) != 0)
			goto out;
		gi = w->ngroups - 1;
		g = &w->groups[gi];
	}
	struct buf *dst[4] = { &g->seq, &g->id, &g->owner, &g->clock };
	for (size_t i = 0; i < pieces; i++) {
		struct buf *d = i < 4 ? dst[i] : &g->vals[i - 4];
		if (g->n)
			buf_put(d, ",", 1);
		buf_put(d, pc.text.p + off[i], off[i + 1] - off[i]);
		if (d->failed)
			goto out; /* a failed buffer fails finish: the writer is then unusable */
	}
	w->bytes += pc.text.n + (g->n ? pieces : 0);
	g->n++;
	g->last_seq = e->seq;
	g->last_clock = e->clock;
	w->last_group = gi;
	if (w->count == 0)
		w->from = e->seq;
	w->count++;
	rc = 0;
out:
	buf_free(&pc.text);
	return rc;
}

char *wire_v2_writer_finish(struct wire_v2_writer *w, const unsigned char before[32],
			    const unsigned char after[32])
{
	char hb[65], ha[65];
	struct buf b = { 0 };
	hex_encode(before, 32, hb);
	hex_encode(after, 32, ha);
	uint64_t to = w->count ? w->from + w->count - 1 : 0;
	buf_puts(&b, "{\"v\":2,\"schema\":");
	buf_i64(&b, w->schema);
	buf_puts(&b, ",\"agent\":\"");
	buf_puts(&b, w->agent);
	buf_puts(&b, "\",\"from\":");
	buf_u64(&b, w->from);
	buf_puts(&b, ",\"to\":");
	buf_u64(&b, to);
	buf_puts(&b, ",\"chain_before\":\"");
	buf_puts(&b, hb);
	buf_puts(&b, "\",\"chain_after\":\"");
	buf_puts(&b, ha);
	buf_puts(&b, "\",\"refs\":[");
	for (size_t i = 0; i < w->nrefs; i++) {
		char c[WIRE_V2_UUID_CHARS];
		uuid_compact(w->refs[i], c);
		buf_puts(&b, i ? ",\"" : "\"");
		buf_put(&b, c, sizeof c);
		buf_puts(&b, "\"");
	}
	buf_puts(&b, "],\"groups\":[");
	for (size_t i = 0; i < w->ngroups; i++) {
		struct group *g = &w->groups[i];
		char op[2] = { g->op, 0 };
		if (i)
			buf_puts(&b, ",");
		buf_puts(&b, "{\"t\":");
		buf_json_str(&b, g->table, strlen(g->table));
		buf_puts(&b, ",\"op\":\"");
		buf_puts(&b, op);
		buf_puts(&b, "\",\"cols\":[");
		for (size_t k = 0; k < g->ncols; k++) {
			if (k)
				buf_puts(&b, ",");
			buf_json_str(&b, g->cols[k], strlen(g->cols[k]));
		}
		const char *names[4] = { "],\"seq\":[", "],\"id\":[", "],\"owner\":[", "],\"clock\":[" };
		struct buf *cols[4] = { &g->seq, &g->id, &g->owner, &g->clock };
		for (size_t k = 0; k < 4; k++) {
			buf_puts(&b, names[k]);
			if (cols[k]->failed)
				b.failed = 1;
			buf_put(&b, cols[k]->p ? cols[k]->p : "", cols[k]->n);
		}
		buf_puts(&b, "],\"vals\":[");
		for (size_t k = 0; k < g->ncols; k++) {
			buf_puts(&b, k ? ",[" : "[");
			if (g->vals[k].failed)
				b.failed = 1;
			buf_put(&b, g->vals[k].p ? g->vals[k].p : "", g->vals[k].n);
			buf_puts(&b, "]");
		}
		buf_puts(&b, "]}");
	}
	buf_puts(&b, "],\"skipped\":[");
	if (w->skipped.failed)
		b.failed = 1;
	buf_put(&b, w->skipped.p ? w->skipped.p : "", w->skipped.n);
	buf_puts(&b, "]}");
	if (b.failed) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* ------------------------------------------------------------------ decoder: text */

struct cur {
	const char *p, *end;
};

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* At '"' of a well-formed string: moves past it; *s, *e bound its inside. */
static void str_span(struct cur *c, const char **s, const char **e)
{
	const char *p = c->p + 1;
	*s = p;
	while (*p != '"')
		p += *p == '\\' ? 2 : 1;
	*e = p;
	c->p = p + 1;
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		v = v << 4 | (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
	}
	return v;
}

/* Decodes the inside of a well-formed string into out (when not NULL); returns its
 * decoded length. Never longer than e - s. */
static size_t str_decode(const char *s, const char *e, char *out)
{
	size_t n = 0;
	while (s < e) {
		if (*s != '\\') {
			const char *q = s;
			while (q < e && *q != '\\')
				q++;
			if (out)
				memcpy(out + n, s, (size_t)(q - s));
			n += (size_t)(q - s);
			s = q;
			continue;
		}
		char k = s[1];
		s += 2;
		if (k != 'u') {
			char ch = k == 'n' ? '\n' : k == 'r' ? '\r' : k == 't' ? '\t' : k == 'b' ? '\b' : k == 'f' ? '\f' : k;
			if (out)
				out[n] = ch;
			n++;
			continue;
		}
		unsigned u = hex4(s);
		s += 4;
		if (u >= 0xd800 && u <= 0xdbff) { /* a pair: wire_json_wellformed checked it */
			unsigned lo = hex4(s + 2);
			s += 6;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		}
		unsigned char t[4];
		size_t m;
		if (u < 0x80) {
			t[0] = (unsigned char)u;
			m = 1;
		} else if (u < 0x800) {
			t[0] = (unsigned char)(0xc0 | u >> 6);
			t[1] = (unsigned char)(0x80 | (u & 63));
			m = 2;
		} else if (u < 0x10000) {
			t[0] = (unsigned char)(0xe0 | u >> 12);
			t[1] = (unsigned char)(0x80 | ((u >> 6) & 63));
			t[2] = (unsigned char)(0x80 | (u & 63));
			m = 3;
		} else {
			t[0] = (unsigned char)(0xf0 | u >> 18);
			t[1] = (unsigned char)(0x80 | ((u >> 12) & 63));
			t[2] = (unsigned char)(0x80 | ((u >> 6) & 63));
			t[3] = (unsigned char)(0x80 | (u & 63));
			m = 4;
		}
		if (out)
			memcpy(out + n, t, m);
		n += m;
	}
	return n;
}

/* At the first character of a well-formed number: moves past it; 1 when it has a
 * fraction or exponent. */
static int num_span(struct cur *c, const char **s)
{
	int real = 0;
	*s = c->p;
	while (c->p < c->end && strchr("+-0123456789.eE", *c->p)) {
		if (*c->p == '.' || *c->p == 'e' || *c->p == 'E')
			real = 1;
		c->p++;
	}
	return real;
}

/* A well-formed integer token [s, e) into *v; -1 beyond 64 bits. */
static int parse_i64(const char *s, const char *e, int64_t *v)
{
	int neg = *s == '-';
	uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (const char *p = s + neg; p < e; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (acc > (lim - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* Skips one well-formed value. */
static void skip_value(struct cur *c)
{
	ws(c);
	char ch = *c->p;
	if (ch == '"') {
		const char *s = NULL, *e = NULL;
		str_span(c, &s, &e);
	} else if (ch == '{' || ch == '[') {
		int depth = 0;
		do {
			ch = *c->p;
			if (ch == '"') {
				const char *s = NULL, *e = NULL;
				str_span(c, &s, &e);
				continue;
			}
			if (ch == '{' || ch == '[')
				depth++;
			else if (ch == '}' || ch == ']')
				depth--;
			c->p++;
		} while (depth > 0);
	} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
		const char *s;
		num_span(c, &s);
	} else {
		c->p += ch == 'f' ? 5 : 4; /* false, true, null */
	}
}

/* Equal decoded keys. */
static int key_equal(const char *as, const char *ae, const char *bs, const char *be)
{
	if (!memchr(as, '\\', (size_t)(ae - as)) && !memchr(bs, '\\', (size_t)(be - bs)))
		return ae - as == be - bs && memcmp(as, bs, (size_t)(ae - as)) == 0;
	size_t na = str_decode(as, ae, NULL), nb = str_decode(bs, be, NULL);
	if (na != nb)
		return 0;
	char *a = malloc(na + 1), *b = malloc(nb + 1);
	int eq = -1;
	if (a && b) {
		str_decode(as, ae, a);
		str_decode(bs, be, b);
		eq = memcmp(a, b, na) == 0;
	}
	free(a);
	free(b);
	return eq; /* -1: no memory */
}

/* The lexical walk (see the top of the file). 0 or a wire_error. An object of more
 * than WIRE_V2_MAX_MEMBERS members (only inside a {"j": X} value or an unknown member:
 * ours have at most ten) sets *big: its keys are then checked by jansson instead. */
static int lex_value(struct cur *c, int *big, struct wire_status *st)
{
	ws(c);
	char ch = *c->p;
	if (ch == '"') {
		const char *s = NULL, *e = NULL;
		str_span(c, &s, &e);
		if (str_decode(s, e, NULL) > WIRE_MAX_STRING)
			return wire_fail(st, WIRE_STRING_TOO_LONG, NULL, "a string longer than %d bytes",
					 WIRE_MAX_STRING);
		return 0;
	}
	if (ch == '-' || (ch >= '0' && ch <= '9')) {
		const char *s;
		int64_t v;
		if (num_span(c, &s)) {
			char tmp[64];
			size_t n = (size_t)(c->p - s);
			/* a real overflows only with an exponent or many digits: strtod decides */
			char *dyn = n < sizeof tmp ? NULL : malloc(n + 1);
			char *t = n < sizeof tmp ? tmp : dyn;
			if (!t)
				return wire_fail(st, WIRE_NOMEM, NULL, "out of memory");
			memcpy(t, s, n);
			t[n] = 0;
			double d = strtod(t, NULL);
			free(dyn);
			if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
				return wire_fail(st, WIRE_NUMBER_RANGE, NULL, "real number overflow");
			return 0;
		}
		if (parse_i64(s, c->p, &v) != 0)
			return wire_fail(st, WIRE_NUMBER_RANGE, NULL, "an integer beyond 64 bits");
		return 0;
	}
	if (ch != '{' && ch != '[') {
		skip_value(c);
		return 0;
	}
	c->p++;
	const char *ks[WIRE_V2_MAX_MEMBERS], *ke[WIRE_V2_MAX_MEMBERS];
	size_t n = 0;
	for (;;) {
		ws(c);
		if (*c->p == '}' || *c->p == ']') {
			c->p++;
			return 0;
		}
		if (*c->p == ',') {
			c->p++;
			ws(c);
		}
		if (ch == '{') {
			const char *s = NULL, *e = NULL;
			str_span(c, &s, &e);
			if (str_decode(s, e, NULL) > WIRE_MAX_STRING)
				return wire_fail(st, WIRE_STRING_TOO_LONG, "", "object key too long");
			if (n == WIRE_V2_MAX_MEMBERS)
				*big = 1;
			for (size_t i = 0; n < WIRE_V2_MAX_MEMBERS && i < n; i++) {
				int eq = key_equal(ks[i], ke[i], s, e);
				if (eq < 0)
					return wire_fail(st, WIRE_NOMEM, NULL, "out of memory");
				if (eq)
					return wire_fail(st, WIRE_DUPLICATE_KEY, NULL, "duplicate object key");
			}
			if (n < WIRE_V2_MAX_MEMBERS) {
				ks[n] = s;
				ke[n++] = e;
			}
			ws(c);
			c->p++; /* ':' */
		}
		int rc = lex_value(c, big, st);
		if (rc)
			return rc;
	}
}

/* ------------------------------------------------------------------ decoder: members */

struct dec {
	const char *json, *end;
	char *arena;
	size_t used, cap;
	struct cs_priv *priv;
	struct wire_changeset *cs;
	struct wire_status *st;
	char (*refs)[37];
	size_t nrefs;
	char path[WIRE_PATH];
	const char *pfmt; /* see at() */
	size_t pa, pb, pc;
};

/* Room for n bytes in the arena: never short (see the top of the file); checked all
 * the same, so that a mistake in that bound is an error, not an overflow. */
static char *arena_take(struct dec *d, size_t n)
{
	if (n > d->cap - d->used)
		return NULL;
	char *p = d->arena + d->used;
	d->used += n;
	return p;
}

/* A decoded copy of a string's inside, in the arena; NULL when it has no room. */
static const char *arena_str(struct dec *d, const char *s, const char *e, size_t *len)
{
	size_t n = str_decode(s, e, NULL);
	char *out = arena_take(d, n + 1);
	if (!out)
		return NULL;
	str_decode(s, e, out);
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

/* Where the decoder is, for the error's `field`: kept as a format and its numbers and
 * written out only when an error needs it (an snprintf per value cost more than the
 * decoding). Formats take their %zu in order a, b, c; a %s takes `name`. */
static void at(struct dec *d, const char *fmt, size_t a, size_t b, size_t c)
{
	d->pfmt = fmt;
	d->pa = a;
	d->pb = b;
	d->pc = c;
}

static const char *path(struct dec *d)
{
	if (d->pfmt)
		snprintf(d->path, sizeof d->path, d->pfmt, d->pa, d->pb, d->pc);
	d->pfmt = NULL;
	return d->path;
}

static int arena_full(struct dec *d)
{
	return wire_fail(d->st, WIRE_NOMEM, NULL, "internal: decoding arena too small");
}

static int bad(struct dec *d, const char *what)
{
	path(d);
	return wire_fail(d->st, WIRE_BAD_MESSAGE, d->path, "'%s' %s", d->path, what);
}


/* Member values of one object by name: names[i] → where its value starts (NULL when
 * absent); unknown members are skipped. Keys are distinct (lex_value). Returns how
 * many members the object has. */
static size_t members(struct cur *c, const char *const *names, size_t n, const char **where)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		where[i] = NULL;
	ws(c);
	c->p++; /* '{' */
	for (;; count++) {
		ws(c);
		if (*c->p == '}') {
			c->p++;
			return count;
		}
		if (*c->p == ',') {
			c->p++;
			ws(c);
		}
		const char *s = NULL, *e = NULL;
		str_span(c, &s, &e);
		ws(c);
		c->p++; /* ':' */
		ws(c);
		size_t kl = (size_t)(e - s);
		for (size_t i = 0; i < n; i++)
			if (strlen(names[i]) == kl && memcmp(names[i], s, kl) == 0)
				where[i] = c->p;
		skip_value(c);
	}
}

static int need(struct dec *d, const char *where, const char *name)
{
	if (where)
		return 0;
	snprintf(d->path, sizeof d->path, "%s", name);
	d->pfmt = NULL;
	return wire_fail(d->st, WIRE_BAD_MESSAGE, path(d), "member '%s' missing", d->path);
}

static int get_integer(struct dec *d, struct cur *c, int64_t min, int64_t max, int64_t *out)
{
	ws(c);
	char ch = *c->p;
	if (ch != '-' && (ch < '0' || ch > '9'))
		return wire_fail(d->st, WIRE_BAD_MESSAGE, path(d), "'%s' is not a number", d->path);
	const char *s;
	int64_t v = 0;
	if (num_span(c, &s) || parse_i64(s, c->p, &v) != 0)
		return wire_fail(d->st, WIRE_NUMBER_RANGE, path(d), "'%s' is not an integer", d->path);
	if (v < min || v > max)
		return wire_fail(d->st, WIRE_NUMBER_RANGE, path(d), "'%s' out of range", d->path);
	*out = v;
	return 0;
}

static int get_string(struct dec *d, struct cur *c, const char **s, const char **e)
{
	ws(c);
	if (*c->p != '"')
		return bad(d, "is not a string");
	str_span(c, s, e);
	return 0;
}

/* Opens an array: 0 at its first member (or its end). */
static int open_array(struct dec *d, struct cur *c)
{
	ws(c);
	if (*c->p != '[')
		return bad(d, "is not an array");
	c->p++;
	return 0;
}

/* Next member of an open array: 1 there is one, 0 the array ended (and is closed). */
static int next_member(struct cur *c, size_t i)
{
	ws(c);
	if (*c->p == ']') {
		c->p++;
		return 0;
	}
	if (i)
		c->p++; /* ',' */
	ws(c);
	return 1;
}

static int hash_of(struct dec *d, const char *s, const char *e, unsigned char out[32])
{
	char hex[ENTRY_HASH_HEX + 1];
	if (e - s != ENTRY_HASH_HEX) /* an escape is not a hex digit either */
		return bad(d, "is not 64 hex digits");
	memcpy(hex, s, ENTRY_HASH_HEX);
	hex[ENTRY_HASH_HEX] = '\0';
	if (hex_decode(hex, out, ENTRY_HASH_BYTES) != 0)
		return bad(d, "is not 64 hex digits");
	return 0;
}

/* An id or owner: a compact UUID, a ref index, or ["text"]. */
static int get_slot(struct dec *d, struct cur *c, const char **out)
{
	ws(c);
	char ch = *c->p;
	const char *s = NULL, *e = NULL;
	if (ch == '"') {
		str_span(c, &s, &e);
		if (e - s != WIRE_V2_UUID_CHARS)
			return bad(d, "is not a compact UUID");
		char *u = arena_take(d, 37);
		if (!u)
			return arena_full(d);
		if (uuid_expand(s, u) != 0)
			return bad(d, "is not a compact UUID");
		*out = u;
		return 0;
	}
	if (ch == '[') {
		c->p++;
		ws(c);
		if (*c->p != '"')
			return bad(d, "is not [\"text\"]");
		str_span(c, &s, &e);
		ws(c);
		if (*c->p != ']')
			return bad(d, "is not [\"text\"]");
		c->p++;
		*out = arena_str(d, s, e, NULL);
		return *out ? 0 : arena_full(d);
	}
	int64_t k = 0;
	if (ch != '-' && (ch < '0' || ch > '9'))
		return bad(d, "is not a compact UUID, a reference to refs or [\"text\"]");
	int rc = get_integer(d, c, 0, (int64_t)d->nrefs - 1, &k);
	if (rc)
		return rc == WIRE_NUMBER_RANGE ? bad(d, "is not a reference to refs") : rc;
	*out = d->refs[k];
	return 0;
}

static int get_value(struct dec *d, struct cur *c, struct value *v)
{
	memset(v, 0, sizeof *v);
	ws(c);
	char ch = *c->p;
	const char *s = NULL, *e = NULL;
	if (ch == 'n') {
		c->p += 4;
		v->kind = VALUE_NULL;
		return 0;
	}
	if (ch == '"') {
		str_span(c, &s, &e);
		v->kind = VALUE_TEXT;
		v->s = arena_str(d, s, e, &v->len);
		return v->s ? 0 : arena_full(d);
	}
	if (ch == '-' || (ch >= '0' && ch <= '9')) {
		int64_t i = 0;
		int rc = get_integer(d, c, -WIRE_MAX_SAFE_INT, WIRE_MAX_SAFE_INT, &i);
		if (rc)
			return rc;
		v->kind = VALUE_INT;
		v->i = i;
		return 0;
	}
	if (ch == '[') {
		int64_t k = 0;
		c->p++;
		int rc = get_integer(d, c, 0, (int64_t)d->nrefs - 1, &k);
		if (rc)
			return rc == WIRE_NUMBER_RANGE ? bad(d, "is not [k], a reference to refs") : rc;
		ws(c);
		if (*c->p != ']')
			return bad(d, "is not [k], a reference to refs");
		c->p++;
		v->kind = VALUE_TEXT;
		v->s = d->refs[k];
		v->len = 36;
		return 0;
	}
	if (ch == '{') {
		static const char *const names[] = { "j" };
		const char *where[1];
		if (members(c, names, 1, where) != 1 || !where[0])
			return bad(d, "is an object other than {\"j\": value}");
		struct cur x = { where[0], c->end };
		skip_value(&x);
		return wire_value_from_text(where[0], (size_t)(x.p - where[0]), v, &d->priv->holder, path(d),
					    d->st);
	}
	return bad(d, "is not null, an integer, a string, [k] or {\"j\":…}");
}

static int seq_take(struct dec *d, uint64_t seq)
{
	struct wire_changeset *cs = d->cs;
	if (seq < cs->from || seq > cs->to)
		return wire_fail(d->st, WIRE_BAD_SEQUENCE, path(d), "sequence %llu outside %llu..%llu",
				 (unsigned long long)seq, (unsigned long long)cs->from,
				 (unsigned long long)cs->to);
	if (d->priv->seen[seq - cs->from])
		return wire_fail(d->st, WIRE_BAD_SEQUENCE, path(d), "sequence %llu twice",
				 (unsigned long long)seq);
	d->priv->seen[seq - cs->from] = 1;
	return 0;
}

static int decode_refs(struct dec *d, const char *where)
{
	struct cur c = { where, d->end };
	at(d, "refs", 0, 0, 0);
	int rc = open_array(d, &c);
	if (rc)
		return rc;
	/* counted first, so that the table is allocated once */
	struct cur k = c;
	size_t n = 0;
	const char *s = NULL, *e = NULL;
	for (; next_member(&k, n); n++) {
		at(d, "refs[%zu]", n, 0, 0);
		if (n == WIRE_MAX_REFS)
			return wire_fail(d->st, WIRE_TOO_MANY, "refs", "more than %d refs", WIRE_MAX_REFS);
		if ((rc = get_string(d, &k, &s, &e)) != 0)
			return rc;
		if (e - s != WIRE_V2_UUID_CHARS)
			return bad(d, "is not a compact UUID");
	}
	d->refs = (char(*)[37])arena_take(d, n * 37);
	if (!d->refs && n)
		return arena_full(d);
	for (size_t i = 0; next_member(&c, i); i++) {
		at(d, "refs[%zu]", i, 0, 0);
		get_string(d, &c, &s, &e);
		if (uuid_expand(s, d->refs[i]) != 0)
			return bad(d, "is not a compact UUID");
		d->nrefs++;
	}
	return 0;
}

static int decode_skipped(struct dec *d, const char *where)
{
	struct cur c = { where, d->end };
	at(d, "skipped", 0, 0, 0);
	int rc = open_array(d, &c);
	if (rc)
		return rc;
	for (size_t i = 0; next_member(&c, i); i++) {
		const char *s = NULL, *e = NULL;
		int64_t seq = 0;
		at(d, "skipped[%zu]", i, 0, 0);
		if ((rc = open_array(d, &c)) != 0)
			return rc;
		if (!next_member(&c, 0))
			return bad(d, "is not [seq, hash, reason]");
		if ((rc = get_integer(d, &c, 0, WIRE_MAX_SAFE_INT, &seq)) != 0 ||
		    (rc = seq_take(d, (uint64_t)seq)) != 0)
			return rc;
		struct entry *en = &d->cs->entries[(uint64_t)seq - d->cs->from];
		en->seq = (uint64_t)seq;
		en->skipped = 1;
		at(d, "skipped[%zu].hash", i, 0, 0);
		if (!next_member(&c, 1))
			return bad(d, "missing");
		if ((rc = get_string(d, &c, &s, &e)) != 0 || (rc = hash_of(d, s, e, en->hash)) != 0)
			return rc;
		at(d, "skipped[%zu].reason", i, 0, 0);
		if (!next_member(&c, 2))
			return bad(d, "missing");
		if ((rc = get_string(d, &c, &s, &e)) != 0)
			return rc;
		if (!(en->reason = arena_str(d, s, e, NULL)))
			return arena_full(d);
		if (strcmp(en->reason, "too_large") != 0 && strcmp(en->reason, "unencodable") != 0)
			return bad(d, "is not a skip reason");
		if (next_member(&c, 3)) {
			at(d, "skipped[%zu]", i, 0, 0);
			return bad(d, "is not [seq, hash, reason]");
		}
	}
	return 0;
}

/* Counts the members of the array at c (not moved). */
static size_t array_count(struct cur c)
{
	size_t n = 0;
	c.p++;
	while (next_member(&c, n)) {
		skip_value(&c);
		n++;
	}
	return n;
}

static int decode_group(struct dec *d, struct cur *c, size_t gi)
{
	static const char *const names[] = { "t", "op", "cols", "seq", "id", "owner", "clock", "vals" };
	const char *where[8];
	int rc;
	ws(c);
	at(d, "groups[%zu]", gi, 0, 0);
	if (*c->p != '{')
		return bad(d, "is not an object");
	members(c, names, 8, where);
	for (size_t i = 0; i < 8; i++) {
		char name[40];
		snprintf(name, sizeof name, "groups[%zu].%s", gi, names[i]);
		if ((rc = need(d, where[i], name)) != 0)
			return rc;
	}
	const char *end = c->end;
	struct cur m = { where[0], end };
	const char *s = NULL, *e = NULL;
	at(d, "groups[%zu].t", gi, 0, 0);
	if ((rc = get_string(d, &m, &s, &e)) != 0)
		return rc;
	const char *table = arena_str(d, s, e, NULL);
	if (!table)
		return arena_full(d);
	at(d, "groups[%zu].op", gi, 0, 0);
	m.p = where[1];
	if ((rc = get_string(d, &m, &s, &e)) != 0)
		return rc;
	if (e - s != 1 || (*s != ENTRY_INSERT && *s != ENTRY_UPDATE && *s != ENTRY_DELETE))
		return bad(d, "is not \"i\", \"u\" or \"d\"");
	char op = *s;
	/* cols */
	at(d, "groups[%zu].cols", gi, 0, 0);
	m.p = where[2];
	if ((rc = open_array(d, &m)) != 0)
		return rc;
	const char *cols[WIRE_MAX_COLS];
	size_t ncols = 0;
	while (next_member(&m, ncols)) {
		if (ncols == WIRE_MAX_COLS)
			return wire_fail(d->st, WIRE_TOO_MANY, path(d), "more than %d names", WIRE_MAX_COLS);
		if ((rc = get_string(d, &m, &s, &e)) != 0)
			return rc;
		if (!(cols[ncols] = arena_str(d, s, e, NULL)))
			return arena_full(d);
		for (size_t k = 0; k < ncols; k++)
			if (strcmp(cols[k], cols[ncols]) == 0)
				return wire_fail(d->st, WIRE_DUPLICATE_KEY, path(d), "field '%s' twice", cols[k]);
		ncols++;
	}
	/* seq: the group's size */
	at(d, "groups[%zu].seq", gi, 0, 0);
	m.p = where[3];
	if ((rc = open_array(d, &m)) != 0)
		return rc;
	size_t n = array_count((struct cur){ where[3] + 0, end });
	size_t room = (size_t)(d->cs->to - d->cs->from + 1);
	if (n == 0)
		return bad(d, "is empty");
	if (n > room)
		return wire_fail(d->st, WIRE_BAD_SEQUENCE, path(d), "%zu entries in a range of %zu", n, room);
	/* where each entry goes: its sequence */
	size_t *slot = malloc(n * sizeof *slot);
	if (!slot)
		return wire_fail(d->st, WIRE_NOMEM, NULL, "out of memory");
	uint64_t seq = 0;
	for (size_t k = 0; next_member(&m, k); k++) {
		int64_t v = 0;
		at(d, "groups[%zu].seq[%zu]", gi, k, 0);
		if ((rc = get_integer(d, &m, k ? 1 : 0, WIRE_MAX_SAFE_INT, &v)) != 0)
			goto out;
		if (k && (uint64_t)v > (uint64_t)WIRE_MAX_SAFE_INT - seq) {
			rc = wire_fail(d->st, WIRE_NUMBER_RANGE, path(d), "'%s' out of range", d->path);
			goto out;
		}
		seq = k ? seq + (uint64_t)v : (uint64_t)v;
		if ((rc = seq_take(d, seq)) != 0)
			goto out;
		slot[k] = (size_t)(seq - d->cs->from);
		struct entry *en = &d->cs->entries[slot[k]];
		en->seq = seq;
		en->table = table;
		en->op = op;
		en->nfields = ncols;
	}
	/* id, owner, clock: n each */
	for (int which = 0; which < 3; which++) {
		at(d, which == 0 ? "groups[%zu].id" : which == 1 ? "groups[%zu].owner" : "groups[%zu].clock", gi, 0, 0);
		m.p = where[4 + which];
		if ((rc = open_array(d, &m)) != 0)
			goto out;
		uint64_t clock = 0;
		size_t k = 0;
		for (; next_member(&m, k); k++) {
			at(d, which == 0 ? "groups[%zu].id[%zu]" : which == 1 ? "groups[%zu].owner[%zu]" : "groups[%zu].clock[%zu]", gi, k, 0);
			if (k == n) {
				rc = bad(d, "is one more than the group's entries");
				goto out;
			}
			struct entry *en = &d->cs->entries[slot[k]];
			if (which == 0)
				rc = get_slot(d, &m, &en->id);
			else if (which == 1)
				rc = get_slot(d, &m, &en->owner);
			else {
				int64_t v = 0;
				if (k == 0) {
					rc = get_integer(d, &m, 0, INT64_MAX, &v);
					clock = (uint64_t)v;
				} else if ((rc = get_integer(d, &m, INT64_MIN, INT64_MAX, &v)) == 0) {
					uint64_t next = clock + (uint64_t)v; /* modulo 2^64: checked below */
					if ((v >= 0 && next < clock) || (v < 0 && next > clock) || next > WIRE_MAX_CLOCK)
						rc = wire_fail(d->st, WIRE_NUMBER_RANGE, path(d),
							       "'%s': a clock outside [0, 2^63)", d->path);
					clock = next;
				}
				en->clock = clock;
			}
			if (rc)
				goto out;
		}
		if (k != n) {
			at(d, which == 0 ? "groups[%zu].id" : which == 1 ? "groups[%zu].owner" : "groups[%zu].clock", gi, 0, 0);
			rc = bad(d, "has fewer members than the group's entries");
			goto out;
		}
	}
	/* vals: one block of fields, decoded in place. Every value takes at least two
	 * characters of the text with its separator, so a block larger than the text could
	 * fill is refused before it is allocated. */
	at(d, "groups[%zu].vals", gi, 0, 0);
	m.p = where[7];
	if ((rc = open_array(d, &m)) != 0)
		goto out;
	if (ncols && n > (size_t)(d->end - m.p) / 2 / ncols + 1) {
		rc = bad(d, "does not have one value per entry");
		goto out;
	}
	struct field *block = NULL;
	if (ncols) {
		struct field **blocks = realloc(d->priv->blocks, (d->priv->nblocks + 1) * sizeof *blocks);
		if (!blocks || !(block = calloc(n * ncols, sizeof *block))) {
			if (blocks)
				d->priv->blocks = blocks;
			rc = wire_fail(d->st, WIRE_NOMEM, NULL, "out of memory");
			goto out;
		}
		d->priv->blocks = blocks;
		blocks[d->priv->nblocks++] = block;
	}
	for (size_t k = 0; k < n; k++)
		d->cs->entries[slot[k]].fields = block ? block + k * ncols : NULL;
	size_t j = 0;
	for (; next_member(&m, j); j++) {
		at(d, "groups[%zu].vals[%zu]", gi, j, 0);
		if (j == ncols || *m.p != '[') {
			rc = bad(d, j == ncols ? "has more arrays than names" : "is not an array");
			goto out;
		}
		m.p++; /* '[' */
		size_t k = 0;
		for (; next_member(&m, k); k++) {
			at(d, "groups[%zu].vals[%zu][%zu]", gi, j, k);
			if (k == n) {
				rc = bad(d, "is one more than the group's entries");
				goto out;
			}
			struct field *f = &block[k * ncols + j];
			f->name = cols[j];
			if ((rc = get_value(d, &m, &f->v)) != 0)
				goto out;
		}
		if (k != n) {
			at(d, "groups[%zu].vals[%zu]", gi, j, 0);
			rc = bad(d, "has fewer values than the group's entries");
			goto out;
		}
	}
	if (j != ncols) {
		at(d, "groups[%zu].vals", gi, 0, 0);
		rc = bad(d, "has fewer arrays than names");
		goto out;
	}
	rc = 0;
out:
	free(slot);
	return rc;
}

static int decode_groups(struct dec *d, const char *where)
{
	struct cur c = { where, d->end };
	at(d, "groups", 0, 0, 0);
	int rc = open_array(d, &c);
	for (size_t i = 0; rc == 0 && next_member(&c, i); i++)
		rc = decode_group(d, &c, i);
	return rc;
}

int wire_v2_changeset_decode(const char *json, size_t len, struct wire_changeset **out,
			     struct wire_status *st)
{
	static const char *const names[] = { "schema", "agent", "from", "to", "chain_before", "chain_after",
					     "refs", "groups", "skipped" };
	const char *where[9];
	struct cur c = { json, json + len };
	int big = 0;
	int rc = lex_value(&c, &big, st);
	if (!rc && big)
		rc = wire_duplicate_keys(json, len, st);
	if (rc)
		return rc;
	struct wire_changeset *cs = calloc(1, sizeof *cs);
	struct cs_priv *p = calloc(1, sizeof *p);
	/* every decoded string fits twice the text (see the top of the file) */
	char *arena = malloc(2 * len + 64);
	if (!cs || !p || !arena) {
		free(cs);
		free(p);
		free(arena);
		return wire_fail(st, WIRE_NOMEM, NULL, "out of memory");
	}
	cs->priv = p;
	p->arena = arena;
	struct dec d = { .json = json, .end = json + len, .arena = arena, .cap = 2 * len + 64, .priv = p, .cs = cs, .st = st };
	c.p = json;
	c.end = json + len;
	members(&c, names, 9, where);
	int64_t schema = 0, from = 0, to = 0;
	struct cur m = { NULL, json + len };
	const char *s = NULL, *e = NULL;
	for (size_t i = 0; i < 9; i++)
		if ((rc = need(&d, where[i], names[i])) != 0)
			goto fail;
	at(&d, "schema", 0, 0, 0);
	m.p = where[0];
	if ((rc = get_integer(&d, &m, 1, WIRE_MAX_SCHEMA, &schema)) != 0)
		goto fail;
	at(&d, "agent", 0, 0, 0);
	m.p = where[1];
	if ((rc = get_string(&d, &m, &s, &e)) != 0)
		goto fail;
	if (e - s != 36 || memchr(s, '\\', 36)) {
		rc = bad(&d, "is not a lowercase UUID");
		goto fail;
	}
	memcpy(cs->agent, s, 36);
	cs->agent[36] = '\0';
	if (!ids_uuid_valid(cs->agent)) {
		rc = bad(&d, "is not a lowercase UUID");
		goto fail;
	}
	at(&d, "from", 0, 0, 0);
	m.p = where[2];
	if ((rc = get_integer(&d, &m, 0, WIRE_MAX_SAFE_INT, &from)) != 0)
		goto fail;
	at(&d, "to", 0, 0, 0);
	m.p = where[3];
	if ((rc = get_integer(&d, &m, 0, WIRE_MAX_SAFE_INT, &to)) != 0)
		goto fail;
	for (int k = 0; k < 2; k++) {
		at(&d, names[4 + k], 0, 0, 0);
		m.p = where[4 + k];
		if ((rc = get_string(&d, &m, &s, &e)) != 0 ||
		    (rc = hash_of(&d, s, e, k ? cs->chain_after : cs->chain_before)) != 0)
			goto fail;
	}
	cs->v = 2;
	cs->schema = (int)schema;
	cs->from = (uint64_t)from;
	cs->to = (uint64_t)to;
	if (cs->from < 1 || cs->to < cs->from) {
		rc = wire_fail(st, WIRE_BAD_SEQUENCE, "from", "not a range from..to with from >= 1");
		goto fail;
	}
	if (cs->to - cs->from >= WIRE_MAX_CHANGES) {
		rc = wire_fail(st, WIRE_TOO_MANY, "to", "range of more than %d entries", WIRE_MAX_CHANGES);
		goto fail;
	}
	size_t n = (size_t)(cs->to - cs->from + 1);
	cs->entries = calloc(n, sizeof *cs->entries);
	p->seen = calloc(n, 1);
	if (!cs->entries || !p->seen) {
		rc = wire_fail(st, WIRE_NOMEM, NULL, "out of memory");
		goto fail;
	}
	if ((rc = decode_refs(&d, where[6])) != 0 || (rc = decode_skipped(&d, where[8])) != 0 ||
	    (rc = decode_groups(&d, where[7])) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!p->seen[i]) {
			rc = wire_fail(st, WIRE_BAD_SEQUENCE, "groups", "sequence %llu missing",
				       (unsigned long long)(cs->from + i));
			goto fail;
		}
	free(p->seen);
	p->seen = NULL;
	cs->nentries = n;
	*out = cs;
	return 0;
fail:
	wire_changeset_free(cs);
	return rc;
}
