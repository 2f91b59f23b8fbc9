/*
 * fuzz_entry.h — what every fuzz target does with one input, shared by the libFuzzer
 * targets (tests/fuzz/fuzz_*.c, clang) and by the corpus replay test
 * (tests/unit/test_fuzz_corpus.c, gcc), so the committed corpus runs as ordinary
 * tests through exactly the same code.
 *
 * An input starting with 0x78 (the usual first byte of a zlib stream) is inflated
 * first, with the limit the hub uses; anything else is taken as the inflated JSON
 * text, so the fuzzer can reach the JSON decoders without first learning deflate.
 * Each function decodes, and for what decodes: validates, re-encodes and decodes again,
 * aborting when an invariant breaks (a round trip that changes the chain, an encoder
 * that cannot encode what its own decoder accepted). Everything is freed on every path,
 * so LeakSanitizer reports any leak as a finding.
 */
#ifndef LK_FUZZ_ENTRY_H
#define LK_FUZZ_ENTRY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "validate.h"
#include "wire.h"
#include "zio.h"

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

/* The JSON text of an input: inflated (new buffer in *owned) or the input itself.
 * 0 when there is text, -1 when inflating refused it. */
static inline int fuzz_text(const uint8_t *data, size_t size, size_t max_inflated,
			    const char **text, size_t *len, unsigned char **owned)
{
	*owned = NULL;
	if (size > 0 && data[0] == 0x78) {
		size_t n = 0;
		if (zio_inflate(data, size, max_inflated, owned, &n) != ZIO_OK) {
			FUZZ_CHECK(*owned == NULL);
			return -1;
		}
		*text = (const char *)*owned;
		*len = n;
		return 0;
	}
	*text = (const char *)data;
	*len = size;
	return 0;
}

/* A refusal is well described, and never blamed on memory (nothing fails to allocate
 * here); a syntax error is confirmed by the library's own non-allocating checker. */
static inline void fuzz_check_refusal(int rc, const struct wire_status *st, const char *text,
				      size_t len)
{
	FUZZ_CHECK(rc > WIRE_NOMEM && rc <= WIRE_BAD_SEQUENCE);
	FUZZ_CHECK(rc != WIRE_BAD_JSON || !wire_json_wellformed(text, len));
	FUZZ_CHECK((int)st->code == rc);
	FUZZ_CHECK(memchr(st->field, '\0', sizeof st->field) != NULL);
	FUZZ_CHECK(memchr(st->message, '\0', sizeof st->message) != NULL);
	FUZZ_CHECK(wire_error_code(st->code)[0] != '\0');
}

static inline void fuzz_changeset(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	unsigned char *owned;
	if (fuzz_text(data, size, WIRE_MAX_INFLATED_BYTES, &text, &len, &owned) != 0)
		return;
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	int rc = wire_changeset_decode(text, len, &cs, &st);
	if (rc != WIRE_OK) {
		fuzz_check_refusal(rc, &st, text, len);
		FUZZ_CHECK(cs == NULL);
		free(owned);
		return;
	}
	FUZZ_CHECK(cs->nentries == cs->to - cs->from + 1 && cs->nentries <= WIRE_MAX_CHANGES);
	FUZZ_CHECK(cs->v == WIRE_CHANGES_V1 || cs->v == WIRE_CHANGES_V2);
	unsigned char chain[ENTRY_HASH_BYTES];
	memcpy(chain, cs->chain_before, sizeof chain);
	for (size_t i = 0; i < cs->nentries; i++) {
		const struct entry *e = &cs->entries[i];
		struct validate_status vs;
		unsigned char h[ENTRY_HASH_BYTES];
		FUZZ_CHECK(e->seq == cs->from + i);
		enum validate_code vc = validate_entry(e, cs->schema, (int)(i & 1), &vs);
		FUZZ_CHECK(validate_code_str(vc)[0] != '\0');
		FUZZ_CHECK(entry_hash(e, h) == 0);
		entry_chain_step(chain, h, chain);
	}
	/* Both shapes (PROTOCOL.md §6.2, §6.2a) carry what either decodes, to the same chain. */
	for (int shape = WIRE_CHANGES_V1; shape <= WIRE_CHANGES_V2; shape++) {
		struct wire_changeset_writer *w = wire_changeset_writer_new_v(cs->schema, cs->agent, shape);
		FUZZ_CHECK(w != NULL);
		size_t n = 0;
		for (; n < cs->nentries; n++) {
			int rc2 = wire_changeset_writer_add(w, &cs->entries[n]);
			if (rc2 == 1 && shape == WIRE_CHANGES_V2 && cs->entries[n].nfields > WIRE_MAX_COLS)
				break; /* the one entry shape 2 has no room for (wire.h) */
			FUZZ_CHECK(rc2 == 0);
		}
		if (n < cs->nentries) {
			wire_changeset_writer_free(w);
			continue;
		}
		size_t predicted = wire_changeset_writer_bytes(w);
		char *again = wire_changeset_writer_finish(w, cs->chain_before, chain);
		FUZZ_CHECK(again != NULL);
		FUZZ_CHECK(strlen(again) <= predicted);
		struct wire_changeset *cs2 = NULL;
		FUZZ_CHECK(wire_changeset_decode(again, strlen(again), &cs2, &st) == WIRE_OK);
		FUZZ_CHECK(cs2->nentries == cs->nentries && cs2->v == shape);
		unsigned char chain2[ENTRY_HASH_BYTES];
		memcpy(chain2, cs2->chain_before, sizeof chain2);
		for (size_t i = 0; i < cs2->nentries; i++) {
			unsigned char h[ENTRY_HASH_BYTES];
			FUZZ_CHECK(entry_hash(&cs2->entries[i], h) == 0);
			entry_chain_step(chain2, h, chain2);
		}
		FUZZ_CHECK(memcmp(chain, chain2, sizeof chain) == 0);
		wire_changeset_free(cs2);
		free(again);
	}
	wire_changeset_free(cs);
	free(owned);
}

static inline void fuzz_hello_answer(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	unsigned char *owned;
	if (fuzz_text(data, size, WIRE_MAX_INFLATED_BYTES, &text, &len, &owned) != 0)
		return;
	struct wire_status st;
	struct wire_hello_answer a;
	int rc = wire_hello_answer_decode(text, len, &a, &st);
	if (rc == WIRE_OK) {
		char *t = wire_hello_answer_encode(&a);
		struct wire_hello_answer b;
		FUZZ_CHECK(t != NULL);
		FUZZ_CHECK(wire_hello_answer_decode(t, strlen(t), &b, &st) == WIRE_OK);
		FUZZ_CHECK(b.nchecksums == a.nchecksums && strcmp(a.chain, b.chain) == 0);
		wire_hello_answer_release(&b);
		wire_hello_answer_release(&a);
		free(t);
	} else {
		fuzz_check_refusal(rc, &st, text, len);
	}
	/* The hub decodes the agent's hello from the same kind of input. */
	struct wire_hello h;
	rc = wire_hello_decode(text, len, &h, &st);
	if (rc == WIRE_OK) {
		char *t = wire_hello_encode(&h);
		struct wire_hello h2;
		FUZZ_CHECK(t != NULL);
		FUZZ_CHECK(wire_hello_decode(t, strlen(t), &h2, &st) == WIRE_OK);
		FUZZ_CHECK(strcmp(h.software, h2.software) == 0 && h.acked == h2.acked);
		free(t);
	} else {
		fuzz_check_refusal(rc, &st, text, len);
	}
	free(owned);
}

static inline void fuzz_changes_answer(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	unsigned char *owned;
	if (fuzz_text(data, size, WIRE_MAX_INFLATED_BYTES, &text, &len, &owned) != 0)
		return;
	struct wire_status st;
	struct wire_changes_answer a;
	int rc = wire_changes_answer_decode(text, len, &a, &st);
	if (rc == WIRE_OK) {
		char *t = wire_changes_answer_encode(&a);
		struct wire_changes_answer b;
		FUZZ_CHECK(t != NULL);
		FUZZ_CHECK(wire_changes_answer_decode(t, strlen(t), &b, &st) == WIRE_OK);
		FUZZ_CHECK(b.nquarantined == a.nquarantined && b.acked == a.acked);
		wire_changes_answer_release(&b);
		wire_changes_answer_release(&a);
		free(t);
	} else {
		fuzz_check_refusal(rc, &st, text, len);
	}
	free(owned);
}

static inline void fuzz_pull_page(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	unsigned char *owned;
	if (fuzz_text(data, size, WIRE_MAX_PULL_INFLATED_BYTES, &text, &len, &owned) != 0)
		return;
	struct wire_status st;
	struct wire_pull_page *p = NULL;
	int rc = wire_pull_page_decode(text, len, &p, &st);
	if (rc == WIRE_OK) {
		FUZZ_CHECK(p->nrows <= WIRE_MAX_PULL_ROWS);
		struct wire_pull_writer *w = wire_pull_writer_new(p->hub_time);
		FUZZ_CHECK(w != NULL);
		for (size_t i = 0; i < p->nrows; i++)
			FUZZ_CHECK(wire_pull_writer_add(w, &p->rows[i]) == 0);
		char *t = wire_pull_writer_finish(w, p->cursor, p->more);
		FUZZ_CHECK(t != NULL);
		struct wire_pull_page *q = NULL;
		FUZZ_CHECK(wire_pull_page_decode(t, strlen(t), &q, &st) == WIRE_OK);
		FUZZ_CHECK(q->nrows == p->nrows);
		for (size_t i = 0; i < p->nrows; i++) {
			FUZZ_CHECK(q->rows[i].nfields == p->rows[i].nfields);
			for (size_t k = 0; k < p->rows[i].nfields; k++)
				FUZZ_CHECK(value_equal(&q->rows[i].fields[k].v, &p->rows[i].fields[k].v));
		}
		wire_pull_page_free(q);
		free(t);
		wire_pull_page_free(p);
	} else {
		fuzz_check_refusal(rc, &st, text, len);
		FUZZ_CHECK(p == NULL);
	}
	free(owned);
}

static inline void fuzz_error_answer(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	unsigned char *owned;
	if (fuzz_text(data, size, WIRE_MAX_INFLATED_BYTES, &text, &len, &owned) != 0)
		return;
	struct wire_status st;
	struct wire_error_answer a;
	int rc = wire_error_answer_decode(text, len, &a, &st);
	if (rc == WIRE_OK) {
		char *t = wire_error_answer_encode(&a);
		struct wire_error_answer b;
		FUZZ_CHECK(t != NULL);
		FUZZ_CHECK(wire_error_answer_decode(t, strlen(t), &b, &st) == WIRE_OK);
		FUZZ_CHECK(strcmp(a.code, b.code) == 0);
		free(t);
	} else {
		fuzz_check_refusal(rc, &st, text, len);
	}
	free(owned);
}

#endif
