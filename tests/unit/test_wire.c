/*
 * test_wire.c — the JSON codec: every decoder against the data-driven case folders
 * under tests/cases/ (one cmocka test per folder), round trips through the encoders,
 * and the limits that are cheaper to generate than to commit (5001 entries, a string
 * of 64 KiB + 1, depth exactly at the limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "proto_cases.h"
#include "validate.h"
#include "wire.h"

#define AGENT "0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b"
#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define ROW "0190f3b0-5a21-7c3d-8e4f-0a1b2c3d4e5f"
#define CLOCK0 115615334400000001ULL /* (1764150000000 << 16) + 1 */

/* ------------------------------------------------------------ comparing decoded values */

static void assert_entries_equal(const struct entry *a, const struct entry *b)
{
	unsigned char ha[32], hb[32];
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->skipped, b->skipped);
	assert_int_equal(entry_hash(a, ha), 0);
	assert_int_equal(entry_hash(b, hb), 0);
	assert_memory_equal(ha, hb, 32);
	if (!a->skipped) {
		assert_int_equal(a->clock, b->clock);
		assert_int_equal(a->nfields, b->nfields);
	} else {
		assert_string_equal(a->reason, b->reason);
	}
}

static void chain_over(const struct wire_changeset *cs, unsigned char out[32])
{
	memcpy(out, cs->chain_before, 32);
	for (size_t i = 0; i < cs->nentries; i++) {
		unsigned char h[32];
		assert_int_equal(entry_hash(&cs->entries[i], h), 0);
		entry_chain_step(out, h, out);
	}
}

/* Re-encodes a decoded change set with the writer of one shape and decodes it again. */
static void changeset_round_trip_shape(const struct wire_changeset *cs, int shape)
{
	struct wire_changeset_writer *w = wire_changeset_writer_new_v(cs->schema, cs->agent, shape);
	assert_non_null(w);
	assert_int_equal(wire_changeset_writer_version(w), shape);
	for (size_t i = 0; i < cs->nentries; i++)
		assert_int_equal(wire_changeset_writer_add(w, &cs->entries[i]), 0);
	assert_int_equal(wire_changeset_writer_count(w), cs->nentries);
	size_t predicted = wire_changeset_writer_bytes(w);
	char *text = wire_changeset_writer_finish(w, cs->chain_before, cs->chain_after);
	assert_non_null(text);
	assert_true(strlen(text) <= predicted);
	struct wire_changeset *back = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(text, strlen(text), &back, &st), WIRE_OK);
	assert_int_equal(back->from, cs->from);
	assert_int_equal(back->to, cs->to);
	assert_string_equal(back->agent, cs->agent);
	assert_memory_equal(back->chain_after, cs->chain_after, 32);
	assert_int_equal(back->v, shape);
	for (size_t i = 0; i < cs->nentries; i++)
		assert_entries_equal(&cs->entries[i], &back->entries[i]);
	wire_changeset_free(back);
	free(text);
}

/* Every case that decodes travels in both shapes (PROTOCOL.md §6.2, §6.2a) to the same
 * entries, hashes and chain. */
static void changeset_round_trip(const struct wire_changeset *cs)
{
	changeset_round_trip_shape(cs, WIRE_CHANGES_V1);
	changeset_round_trip_shape(cs, WIRE_CHANGES_V2);
}

static void pull_round_trip(const struct wire_pull_page *p)
{
	struct wire_pull_writer *w = wire_pull_writer_new(p->hub_time);
	assert_non_null(w);
	for (size_t i = 0; i < p->nrows; i++)
		assert_int_equal(wire_pull_writer_add(w, &p->rows[i]), 0);
	char *text = wire_pull_writer_finish(w, p->cursor, p->more);
	assert_non_null(text);
	struct wire_pull_page *b = NULL;
	struct wire_status st;
	assert_int_equal(wire_pull_page_decode(text, strlen(text), &b, &st), WIRE_OK);
	assert_int_equal(b->cursor, p->cursor);
	assert_int_equal(b->more, p->more);
	assert_int_equal(b->hub_time, p->hub_time);
	assert_int_equal(b->nrows, p->nrows);
	for (size_t i = 0; i < p->nrows; i++) {
		const struct wire_pull_row *x = &p->rows[i], *y = &b->rows[i];
		assert_string_equal(x->table, y->table);
		assert_string_equal(x->id, y->id);
		assert_string_equal(x->owner, y->owner);
		assert_int_equal(x->ins_clock, y->ins_clock);
		assert_int_equal(x->del_clock, y->del_clock);
		assert_int_equal(x->ins_writer == NULL, y->ins_writer == NULL);
		assert_int_equal(x->del_writer == NULL, y->del_writer == NULL);
		assert_int_equal(x->nfields, y->nfields);
		for (size_t k = 0; k < x->nfields; k++) {
			assert_string_equal(x->fields[k].name, y->fields[k].name);
			assert_true(value_equal(&x->fields[k].v, &y->fields[k].v));
			assert_int_equal(x->fields[k].clock, y->fields[k].clock);
			assert_string_equal(x->fields[k].writer, y->fields[k].writer);
		}
	}
	wire_pull_page_free(b);
	free(text);
}

/* ------------------------------------------------------------ case folders */

enum case_kind { K_CHANGESET, K_HELLO, K_HELLO_ANSWER, K_CHANGES_ANSWER, K_ERROR_ANSWER, K_PULL };
struct case_dir {
	const char *dir;
	enum case_kind kind;
	int valid;
};

/* Decodes `in` as `kind`; on success runs the round trip and the valid-case checks. */
static int decode_case(const struct case_item *c, enum case_kind kind, struct wire_status *st)
{
	int rc = -1;
	switch (kind) {
	case K_CHANGESET: {
		struct wire_changeset *cs = NULL;
		rc = wire_changeset_decode(c->input, c->len, &cs, st);
		if (rc)
			return rc;
		unsigned char chain[32];
		chain_over(cs, chain);
		assert_memory_equal(chain, cs->chain_after, 32); /* make_cases.py agrees */
		if (c->expect) {
			assert_int_equal(case_nlines(c->expect), cs->nentries);
			for (size_t i = 0; i < cs->nentries; i++) {
				char want[64];
				struct validate_status vs;
				case_line(c->expect, (int)i, want, sizeof want);
				enum validate_code vc = validate_entry(&cs->entries[i], cs->schema, 0, &vs);
				if (strcmp(validate_code_str(vc), want) != 0)
					fail_msg("entry %zu: got %s (%s), want %s", i, validate_code_str(vc),
						 vc ? vs.message : "", want);
			}
		}
		changeset_round_trip(cs);
		wire_changeset_free(cs);
		return 0;
	}
	case K_HELLO: {
		struct wire_hello h, back;
		memset(&h, 0x5a, sizeof h);
		if ((rc = wire_hello_decode(c->input, c->len, &h, st)))
			return rc;
		char *t = wire_hello_encode(&h);
		assert_non_null(t);
		memset(&back, 0, sizeof back);
		assert_int_equal(wire_hello_decode(t, strlen(t), &back, st), 0);
		assert_string_equal(h.agent, back.agent);
		assert_string_equal(h.software, back.software);
		assert_int_equal(h.wall_ms, back.wall_ms);
		assert_int_equal(h.acked, back.acked);
		assert_int_equal(h.pending, back.pending);
		assert_int_equal(h.schema, back.schema);
		free(t);
		return 0;
	}
	case K_HELLO_ANSWER: {
		struct wire_hello_answer a, back;
		if ((rc = wire_hello_answer_decode(c->input, c->len, &a, st)))
			return rc;
		char *t = wire_hello_answer_encode(&a);
		assert_non_null(t);
		assert_int_equal(wire_hello_answer_decode(t, strlen(t), &back, st), 0);
		assert_string_equal(a.hub_id, back.hub_id);
		assert_string_equal(a.chain, back.chain);
		assert_int_equal(a.max_ahead_ms, back.max_ahead_ms);
		assert_int_equal(a.retired, back.retired);
		assert_int_equal(a.nchecksums, back.nchecksums);
		for (size_t i = 0; i < a.nchecksums; i++) {
			assert_string_equal(a.checksums[i].unit, back.checksums[i].unit);
			assert_string_equal(a.checksums[i].value, back.checksums[i].value);
		}
		wire_hello_answer_release(&back);
		wire_hello_answer_release(&a);
		free(t);
		return 0;
	}
	case K_CHANGES_ANSWER: {
		struct wire_changes_answer a, back;
		if ((rc = wire_changes_answer_decode(c->input, c->len, &a, st)))
			return rc;
		char *t = wire_changes_answer_encode(&a);
		assert_non_null(t);
		assert_int_equal(wire_changes_answer_decode(t, strlen(t), &back, st), 0);
		assert_int_equal(a.acked, back.acked);
		assert_int_equal(a.duplicate, back.duplicate);
		assert_int_equal(a.nquarantined, back.nquarantined);
		for (size_t i = 0; i < a.nquarantined; i++)
			assert_memory_equal(&a.quarantined[i], &back.quarantined[i],
					    offsetof(struct wire_quarantine, message));
		wire_changes_answer_release(&back);
		wire_changes_answer_release(&a);
		free(t);
		return 0;
	}
	case K_ERROR_ANSWER: {
		struct wire_error_answer a, back;
		if ((rc = wire_error_answer_decode(c->input, c->len, &a, st)))
			return rc;
		char *t = wire_error_answer_encode(&a);
		assert_non_null(t);
		assert_int_equal(wire_error_answer_decode(t, strlen(t), &back, st), 0);
		assert_string_equal(a.code, back.code);
		assert_string_equal(a.field, back.field);
		assert_int_equal(a.expected, back.expected);
		assert_int_equal(a.seq, back.seq);
		assert_int_equal(a.hub_schema, back.hub_schema);
		free(t);
		return 0;
	}
	case K_PULL: {
		struct wire_pull_page *p = NULL;
		if ((rc = wire_pull_page_decode(c->input, c->len, &p, st)))
			return rc;
		pull_round_trip(p);
		wire_pull_page_free(p);
		return 0;
	}
	}
	return rc;
}

static void test_case_folder(void **state)
{
	const struct case_item *c = *state;
	const struct case_dir *d = c->arg;
	struct wire_status st;
	memset(&st, 0, sizeof st);
	int rc = decode_case(c, d->kind, &st);
	if (d->valid) {
		if (rc != 0)
			fail_msg("%s: refused with %s at '%s': %s", c->name,
				 wire_error_code((enum wire_error)rc), st.field, st.message);
		return;
	}
	char want[64], want_field[64];
	case_line(c->expect, 0, want, sizeof want);
	case_line(c->expect, 1, want_field, sizeof want_field);
	if (rc == 0)
		fail_msg("%s: accepted, want %s", c->name, want);
	assert_int_equal(st.code, rc);
	if (strcmp(wire_error_code((enum wire_error)rc), want) != 0)
		fail_msg("%s: got %s at '%s' (%s), want %s", c->name,
			 wire_error_code((enum wire_error)rc), st.field, st.message, want);
	if (want_field[0] && strcmp(st.field, want_field) != 0)
		fail_msg("%s: field '%s', want '%s'", c->name, st.field, want_field);
}

static const struct case_dir case_dirs[] = {
	{ "tests/cases/changesets/valid", K_CHANGESET, 1 },
	{ "tests/cases/changesets/invalid", K_CHANGESET, 0 },
	{ "tests/cases/hello/valid", K_HELLO, 1 },
	{ "tests/cases/hello/invalid", K_HELLO, 0 },
	{ "tests/cases/hello_answers/valid", K_HELLO_ANSWER, 1 },
	{ "tests/cases/hello_answers/invalid", K_HELLO_ANSWER, 0 },
	{ "tests/cases/changes_answers/valid", K_CHANGES_ANSWER, 1 },
	{ "tests/cases/changes_answers/invalid", K_CHANGES_ANSWER, 0 },
	{ "tests/cases/error_answers/valid", K_ERROR_ANSWER, 1 },
	{ "tests/cases/error_answers/invalid", K_ERROR_ANSWER, 0 },
	{ "tests/cases/pull_pages/valid", K_PULL, 1 },
	{ "tests/cases/pull_pages/invalid", K_PULL, 0 },
};

/* ------------------------------------------------------------ generated limits */

/* A change set of n skipped entries from seq 1 (cheap to build, exact structure). */
static char *skipped_changeset(size_t n)
{
	size_t cap = 300 + n * 100;
	char *s = malloc(cap);
	assert_non_null(s);
	int k = snprintf(s, cap,
			 "{\"v\":1,\"schema\":1,\"agent\":\"" AGENT "\",\"from\":1,\"to\":%zu,"
			 "\"chain_before\":\"%064d\",\"chain_after\":\"%064d\",\"entries\":[",
			 n, 0, 0);
	size_t o = (size_t)k;
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s[%zu,null,\"%064d\",\"too_large\"]",
				      i ? "," : "", i + 1, 0);
	snprintf(s + o, cap - o, "]}");
	return s;
}

static void test_wire__max_changes_entries_are_accepted(void **state)
{
	(void)state;
	char *s = skipped_changeset(WIRE_MAX_CHANGES);
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(s, strlen(s), &cs, &st), WIRE_OK);
	assert_int_equal(cs->nentries, WIRE_MAX_CHANGES);
	wire_changeset_free(cs);
	free(s);
}

static void test_wire__one_entry_over_max_changes_is_too_many(void **state)
{
	(void)state;
	char *s = skipped_changeset(WIRE_MAX_CHANGES + 1);
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(s, strlen(s), &cs, &st), WIRE_TOO_MANY);
	assert_null(cs);
	assert_string_equal(st.field, "entries");
	free(s);
}

static char *hello_with_software_len(size_t n)
{
	char *s = malloc(n + 200);
	assert_non_null(s);
	int k = sprintf(s, "{\"v\":1,\"schema\":1,\"agent\":\"" AGENT "\",\"wall\":1,"
			   "\"pending\":0,\"acked\":0,\"software\":\"");
	memset(s + k, 'a', n);
	strcpy(s + k + n, "\"}");
	return s;
}

static void test_wire__string_at_limit_passes_and_one_more_byte_is_refused(void **state)
{
	(void)state;
	struct wire_hello h;
	struct wire_status st;
	char *ok = hello_with_software_len(WIRE_MAX_STRING);
	char *bad = hello_with_software_len(WIRE_MAX_STRING + 1);
	assert_int_equal(wire_hello_decode(ok, strlen(ok), &h, &st), WIRE_OK);
	assert_int_equal(strlen(h.software), sizeof h.software - 1);
	assert_int_equal(wire_hello_decode(bad, strlen(bad), &h, &st), WIRE_STRING_TOO_LONG);
	assert_string_equal(st.field, "software");
	free(ok);
	free(bad);
}

/* A hello with `extra` nested arrays in an unknown member: total depth 1 + extra. */
static int hello_with_depth(int extra)
{
	char s[1024];
	struct wire_hello h;
	struct wire_status st;
	int k = sprintf(s, "{\"v\":1,\"schema\":1,\"agent\":\"" AGENT "\",\"wall\":1,"
			   "\"pending\":0,\"acked\":0,\"software\":\"[[[[[[[[[[{{{\",\"x\":");
	for (int i = 0; i < extra; i++)
		s[k++] = '[';
	for (int i = 0; i < extra; i++)
		s[k++] = ']';
	strcpy(s + k, "}");
	return wire_hello_decode(s, strlen(s), &h, &st);
}

static void test_wire__depth_counts_only_brackets_outside_strings(void **state)
{
	(void)state;
	assert_int_equal(hello_with_depth(WIRE_MAX_DEPTH - 1), WIRE_OK);
	assert_int_equal(hello_with_depth(WIRE_MAX_DEPTH), WIRE_TOO_DEEP);
	assert_int_equal(hello_with_depth(100), WIRE_TOO_DEEP);
}

static void test_wire__deep_nesting_is_refused_before_parsing(void **state)
{
	(void)state;
	size_t n = 1u << 20; /* a million brackets would overflow a recursive parser */
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, '[', n);
	s[n] = '\0';
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(s, n, &cs, &st), WIRE_TOO_DEEP);
	free(s);
}

static void test_wire__decoders_leave_out_untouched_on_failure(void **state)
{
	(void)state;
	struct wire_hello h;
	struct wire_status st;
	memset(&h, 0x77, sizeof h);
	struct wire_hello copy = h;
	assert_int_not_equal(wire_hello_decode("{\"v\":1}", 7, &h, &st), 0);
	assert_memory_equal(&h, &copy, sizeof h);
	struct wire_changeset *cs = (void *)&copy;
	assert_int_not_equal(wire_changeset_decode("{}", 2, &cs, &st), 0);
	assert_ptr_equal(cs, (void *)&copy);
	assert_int_equal(wire_changeset_decode(NULL, 0, &cs, NULL), WIRE_BAD_JSON);
}

static void test_wire__error_codes_are_distinct_stable_strings(void **state)
{
	(void)state;
	for (int a = WIRE_BAD_JSON; a <= WIRE_BAD_SEQUENCE; a++)
		for (int b = a + 1; b <= WIRE_BAD_SEQUENCE; b++)
			assert_string_not_equal(wire_error_code((enum wire_error)a),
						wire_error_code((enum wire_error)b));
	assert_string_equal(wire_error_code(WIRE_BAD_VERSION), "protocol_version");
	assert_string_equal(wire_error_code(WIRE_DUPLICATE_KEY), "duplicate_key");
	assert_string_equal(wire_error_code(WIRE_NOMEM), "internal");
}

static void test_wire__writer_encodes_every_value_kind_and_round_trips(void **state)
{
	(void)state;
	const char *compound = "{\"a\":[1,2],\"b\":null}";
	struct field f[] = {
		{ "attendees", { .kind = VALUE_INT, .i = -WIRE_MAX_SAFE_INT } },
		{ "concerns", { .kind = VALUE_TEXT, .s = "Thiếu \"kinh\" phí\n", .len = 22 } },
		{ "follow_up", { .kind = VALUE_NULL } },
		{ "r", { .kind = VALUE_REAL, .r = 0.1 } },
		{ "b", { .kind = VALUE_BOOL, .i = 1 } },
		{ "c", { .kind = VALUE_COMPOUND, .s = compound, .len = strlen(compound) } },
	};
	f[1].v.len = strlen(f[1].v.s);
	struct entry e[2] = {
		{ .seq = 7, .table = "meeting", .id = ROW, .op = 'u', .owner = UNIT,
		  .clock = CLOCK0, .fields = f, .nfields = 6 },
		{ .seq = 8, .skipped = 1, .reason = "unencodable" },
	};
	memset(e[1].hash, 0xab, 32);
	unsigned char before[32] = { 1 }, after[32];
	memcpy(after, before, 32);
	for (int i = 0; i < 2; i++) {
		unsigned char h[32];
		assert_int_equal(entry_hash(&e[i], h), 0);
		entry_chain_step(after, h, after);
	}
	struct wire_changeset_writer *w = wire_changeset_writer_new(1, AGENT);
	assert_int_equal(wire_changeset_writer_add(w, &e[0]), 0);
	assert_int_equal(wire_changeset_writer_add(w, &e[1]), 0);
	char *text = wire_changeset_writer_finish(w, before, after);
	assert_non_null(text);
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(text, strlen(text), &cs, &st), WIRE_OK);
	assert_int_equal(cs->from, 7);
	assert_int_equal(cs->to, 8);
	for (int i = 0; i < 2; i++)
		assert_entries_equal(&e[i], &cs->entries[i]);
	unsigned char again[32];
	chain_over(cs, again);
	assert_memory_equal(again, after, 32);
	wire_changeset_free(cs);
	free(text);
}

static void test_wire__writer_reports_unencodable_fields(void **state)
{
	(void)state;
	struct field bad_utf8 = { "concerns", { .kind = VALUE_TEXT, .s = "\xc3\x28", .len = 2 } };
	struct field nul = { "concerns", { .kind = VALUE_TEXT, .s = "a\0b", .len = 3 } };
	struct field big = { "attendees", { .kind = VALUE_INT, .i = WIRE_MAX_SAFE_INT + 1 } };
	struct field twice[2] = { { "attendees", { .kind = VALUE_INT, .i = 1 } },
				  { "attendees", { .kind = VALUE_INT, .i = 2 } } };
	struct field *cases[] = { &bad_utf8, &nul, &big, twice };
	size_t counts[] = { 1, 1, 1, 2 };
	for (size_t i = 0; i < 4; i++) {
		struct entry e = { .seq = 1, .table = "meeting", .id = ROW, .op = 'u',
				   .owner = UNIT, .clock = 1, .fields = cases[i], .nfields = counts[i] };
		struct wire_changeset_writer *w = wire_changeset_writer_new(1, AGENT);
		assert_int_equal(wire_changeset_writer_add(w, &e), 1);
		assert_int_equal(wire_changeset_writer_count(w), 0);
		assert_int_equal(wire_entry_encoded_bytes(&e), 0);
		wire_changeset_writer_free(w);
	}
}

static void test_wire__writer_bytes_grow_by_each_entry_size(void **state)
{
	(void)state;
	struct field f = { "attendees", { .kind = VALUE_INT, .i = 25 } };
	struct wire_changeset_writer *w = wire_changeset_writer_new(1, AGENT);
	size_t base = wire_changeset_writer_bytes(w);
	struct entry e = { .seq = 1, .table = "meeting", .id = ROW, .op = 'u', .owner = UNIT,
			   .clock = CLOCK0, .fields = &f, .nfields = 1 };
	size_t one = wire_entry_encoded_bytes(&e);
	assert_true(one > 0);
	assert_int_equal(wire_changeset_writer_add(w, &e), 0);
	assert_int_equal(wire_changeset_writer_bytes(w), base + one);
	e.seq = 2;
	assert_int_equal(wire_changeset_writer_add(w, &e), 0);
	assert_int_equal(wire_changeset_writer_bytes(w), base + 2 * one + 1);
	e.seq = 4; /* not the next sequence: a caller bug */
	assert_int_equal(wire_changeset_writer_add(w, &e), -1);
	unsigned char z[32] = { 0 };
	char *text = wire_changeset_writer_finish(w, z, z);
	assert_non_null(text);
	assert_true(strlen(text) <= base + 2 * one + 1);
	free(text);
}

static void test_wire__error_answer_carries_the_member_of_its_code(void **state)
{
	(void)state;
	struct wire_error_answer a = { .hub_time = 1764150000999, .expected = 1201, .seq = 9 };
	strcpy(a.code, "gap");
	strcpy(a.message, "expected sequence 1201, got 1305");
	strcpy(a.field, "from");
	char *t = wire_error_answer_encode(&a);
	assert_non_null(t);
	assert_non_null(strstr(t, "\"expected\":1201"));
	assert_null(strstr(t, "\"seq\""));
	free(t);
}

static void test_wire__wellformed_checker_agrees_with_the_parser(void **state)
{
	(void)state;
	static const char *good[] = {
		"{}", "[]", " {\"a\":[1,-0,2.5e-3,true,false,null,\"x\"]}\n", "[\"\\ud83d\\ude00\"]",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"Thi\xe1\xba\xbfu\"]", "[[[[[[[[]]]]]]]]",
	};
	static const char *bad[] = {
		"", " ", "1", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "[01]", "[1.]", "[.5]",
		"[+1]", "[-]", "[1e]", "[tru]", "[\"\\u0000\"]", "[\"\\ud800\"]", "[\"\\udc00\"]",
		"[\"\\x\"]", "[\"a\nb\"]", "[\"\xc3\x28\"]", "[] x", "[[[[[[[[[]]]]]]]]]", "{1:2}",
		"\xef\xbb\xbf{}",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!wire_json_wellformed(good[i], strlen(good[i])))
			fail_msg("refused good[%zu] %s", i, good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct wire_changeset *cs = NULL;
		struct wire_status st;
		if (wire_json_wellformed(bad[i], strlen(bad[i])))
			fail_msg("accepted bad[%zu] %s", i, bad[i]);
		assert_int_not_equal(wire_changeset_decode(bad[i], strlen(bad[i]), &cs, &st), WIRE_OK);
		assert_int_not_equal(st.code, WIRE_NOMEM);
	}
	assert_false(wire_json_wellformed(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire__max_changes_entries_are_accepted),
		cmocka_unit_test(test_wire__one_entry_over_max_changes_is_too_many),
		cmocka_unit_test(test_wire__string_at_limit_passes_and_one_more_byte_is_refused),
		cmocka_unit_test(test_wire__depth_counts_only_brackets_outside_strings),
		cmocka_unit_test(test_wire__deep_nesting_is_refused_before_parsing),
		cmocka_unit_test(test_wire__decoders_leave_out_untouched_on_failure),
		cmocka_unit_test(test_wire__error_codes_are_distinct_stable_strings),
		cmocka_unit_test(test_wire__writer_encodes_every_value_kind_and_round_trips),
		cmocka_unit_test(test_wire__writer_reports_unencodable_fields),
		cmocka_unit_test(test_wire__writer_bytes_grow_by_each_entry_size),
		cmocka_unit_test(test_wire__error_answer_carries_the_member_of_its_code),
		cmocka_unit_test(test_wire__wellformed_checker_agrees_with_the_parser),
	};
	int failed = cmocka_run_group_tests_name("wire", tests, NULL, NULL);

	struct case_list l = { 0 };
	for (size_t i = 0; i < sizeof case_dirs / sizeof case_dirs[0]; i++) {
		const char *label = case_dirs[i].dir + strlen("tests/cases/");
		if (case_list_add_dir(&l, case_dirs[i].dir, label, &case_dirs[i]) == 0) {
			fprintf(stderr, "no cases in %s (run from the repository root)\n",
				case_dirs[i].dir);
			failed++;
		}
	}
	struct CMUnitTest *ct = calloc(l.n ? l.n : 1, sizeof *ct);
	for (size_t i = 0; i < l.n; i++) {
		ct[i].name = l.items[i].name;
		ct[i].test_func = test_case_folder;
		ct[i].initial_state = &l.items[i];
	}
	failed += _cmocka_run_group_tests("wire_cases", ct, l.n, NULL, NULL);
	free(ct);
	case_list_free(&l);
	return failed;
}
