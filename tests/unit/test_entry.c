/*
 * test_entry.c — the canonical encoding byte by byte (PROTOCOL.md §5), the chain
 * (independent of how entries are cut into change sets and of lowered clocks; skipped
 * entries move it with the hash they carry), the unit checksum (order independent,
 * modulo 2^64) and the hex and value helpers.
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
#include "hlc.h"
#include "wire.h"

#define AGENT "0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b"
#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define ROW "0190f3b0-5a21-7c3d-8e4f-0a1b2c3d4e5f"
#define T0 1764150000000LL
#define NENT 40

static void test_canonical__matches_the_byte_layout_of_the_protocol(void **state)
{
	(void)state;
	struct field f[] = {
		{ "b", { .kind = VALUE_TEXT, .s = "xy", .len = 2 } },
		{ "a", { .kind = VALUE_INT, .i = -2 } },
		{ "c", { .kind = VALUE_NULL } },
	};
	struct entry e = { .seq = 258, .table = "t", .id = "id", .op = 'u', .owner = "o",
			   .clock = 99, .fields = f, .nfields = 3 };
	static const unsigned char want[] = {
		0, 0, 0, 0, 0, 0, 1, 2,           /* seq */
		0, 0, 0, 1, 't',                  /* table */
		0, 0, 0, 2, 'i', 'd',             /* id */
		'u',                              /* op */
		0, 0, 0, 1, 'o',                  /* owner */
		0, 0, 0, 3,                       /* nfields, then sorted by name: */
		0, 0, 0, 1, 'a', 'i', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0, 0, 0, 1, 'b', 's', 0, 0, 0, 2, 'x', 'y',
		0, 0, 0, 1, 'c', 'n',
	};
	unsigned char *c = NULL;
	size_t n = 0;
	assert_int_equal(entry_canonical(&e, &c, &n), 0);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(c, want, n);
	free(c);
}

static void test_canonical__field_order_and_clock_do_not_change_the_hash(void **state)
{
	(void)state;
	struct field f1[] = { { "kind", { .kind = VALUE_TEXT, .s = "joint", .len = 5 } },
			      { "attendees", { .kind = VALUE_INT, .i = 25 } } };
	struct field f2[] = { f1[1], f1[0] };
	struct entry a = { .seq = 1, .table = "meeting", .id = ROW, .op = 'i', .owner = UNIT,
			   .clock = 1, .fields = f1, .nfields = 2 };
	struct entry b = a;
	b.fields = f2;
	b.clock = 123456789;
	unsigned char ha[32], hb[32];
	assert_int_equal(entry_hash(&a, ha), 0);
	assert_int_equal(entry_hash(&b, hb), 0);
	assert_memory_equal(ha, hb, 32);
	f2[0].v.i = 26;
	assert_int_equal(entry_hash(&b, hb), 0);
	assert_memory_not_equal(ha, hb, 32);
}

/* A journal of NENT entries with their strings kept in `store`. */
struct journal {
	struct entry e[NENT];
	struct field f[NENT][2];
	char text[NENT][32];
};

static void journal_init(struct journal *j)
{
	uint64_t last = 0;
	memset(j, 0, sizeof *j);
	for (int i = 0; i < NENT; i++) {
		snprintf(j->text[i], sizeof j->text[i], "ghi chú %d", i);
		j->f[i][0] = (struct field){ "attendees", { .kind = VALUE_INT, .i = i } };
		j->f[i][1] = (struct field){ "concerns",
					     { .kind = VALUE_TEXT, .s = j->text[i],
					       .len = strlen(j->text[i]) } };
		last = hlc_next(last, T0 + i * 1000);
		j->e[i] = (struct entry){ .seq = (uint64_t)i + 1, .table = "meeting", .id = ROW,
					  .op = 'u', .owner = UNIT, .clock = last,
					  .fields = j->f[i], .nfields = 2 };
	}
	/* One entry travels skipped, with the hash of what it was: the chain must not
	 * notice the difference. */
	assert_int_equal(entry_hash(&j->e[7], j->e[7].hash), 0);
	j->e[7].skipped = 1;
	j->e[7].reason = "too_large";
}

static void chain_direct(const struct entry *e, size_t n, unsigned char out[32])
{
	memset(out, 0, 32);
	for (size_t i = 0; i < n; i++) {
		unsigned char h[32];
		assert_int_equal(entry_hash(&e[i], h), 0);
		entry_chain_step(out, h, out);
	}
}

/* Sends the journal through the wire in change sets of the given sizes, computing the
 * chain from what was decoded each time (as the hub does). */
static void chain_via_wire(const struct entry *e, size_t n, const size_t *cuts, size_t ncuts,
			   unsigned char out[32])
{
	unsigned char chain[32] = { 0 };
	size_t at = 0, k = 0;
	while (at < n) {
		size_t take = cuts[k++ % ncuts];
		if (take > n - at)
			take = n - at;
		unsigned char after[32];
		memcpy(after, chain, 32);
		struct wire_changeset_writer *w = wire_changeset_writer_new(1, AGENT);
		for (size_t i = at; i < at + take; i++) {
			unsigned char h[32];
			assert_int_equal(entry_hash(&e[i], h), 0);
			entry_chain_step(after, h, after);
			assert_int_equal(wire_changeset_writer_add(w, &e[i]), 0);
		}
		char *text = wire_changeset_writer_finish(w, chain, after);
		struct wire_changeset *cs = NULL;
		struct wire_status st;
		assert_int_equal(wire_changeset_decode(text, strlen(text), &cs, &st), WIRE_OK);
		assert_memory_equal(cs->chain_before, chain, 32);
		for (size_t i = 0; i < cs->nentries; i++) {
			unsigned char h[32];
			assert_int_equal(entry_hash(&cs->entries[i], h), 0);
			entry_chain_step(chain, h, chain);
		}
		assert_memory_equal(chain, cs->chain_after, 32);
		wire_changeset_free(cs);
		free(text);
		at += take;
	}
	memcpy(out, chain, 32);
}

static void test_chain__same_entries_cut_differently_give_same_chain(void **state)
{
	(void)state;
	struct journal *j = malloc(sizeof *j);
	journal_init(j);
	unsigned char direct[32], a[32], b[32], c[32];
	chain_direct(j->e, NENT, direct);
	size_t one[] = { 1 }, big[] = { NENT }, mixed[] = { 3, 1, 7, 2, 11 };
	chain_via_wire(j->e, NENT, one, 1, a);
	chain_via_wire(j->e, NENT, big, 1, b);
	chain_via_wire(j->e, NENT, mixed, 5, c);
	assert_memory_equal(direct, a, 32);
	assert_memory_equal(direct, b, 32);
	assert_memory_equal(direct, c, 32);
	free(j);
}

static void test_chain__lowered_clocks_give_same_chain(void **state)
{
	(void)state;
	struct journal *j = malloc(sizeof *j);
	journal_init(j);
	unsigned char before[32], after[32];
	chain_direct(j->e, NENT, before);
	int lowered = 0;
	for (int i = 0; i < NENT; i++) {
		uint64_t c = hlc_lower_one(j->e[i].clock, 0, hlc_from_ms(T0 + 5000));
		lowered += c != j->e[i].clock;
		j->e[i].clock = c;
	}
	assert_true(lowered > 0);
	chain_direct(j->e, NENT, after);
	assert_memory_equal(before, after, 32);
	free(j);
}

static void test_chain__skipped_entry_moves_the_chain_with_the_given_hash(void **state)
{
	(void)state;
	struct entry s = { .seq = 5, .skipped = 1, .reason = "unencodable" };
	memset(s.hash, 0x42, 32);
	unsigned char zero[32] = { 0 }, got[32], want[32], h[32];
	assert_int_equal(entry_hash(&s, h), 0);
	assert_memory_equal(h, s.hash, 32);
	entry_chain_step(zero, s.hash, want);
	entry_chain_step(zero, h, got);
	assert_memory_equal(got, want, 32);
	assert_memory_not_equal(got, zero, 32);
	s.hash[0] ^= 1; /* another hash: another chain */
	entry_chain_step(zero, s.hash, got);
	assert_memory_not_equal(got, want, 32);
}

static void test_chain__step_output_may_alias_its_input(void **state)
{
	(void)state;
	unsigned char prev[32] = { 1, 2, 3 }, h[32] = { 9 }, sep[32];
	entry_chain_step(prev, h, sep);
	entry_chain_step(prev, h, prev);
	assert_memory_equal(prev, sep, 32);
}

static void test_checksum__does_not_depend_on_row_order(void **state)
{
	(void)state;
	uint64_t d[50];
	char idbuf[50][40];
	for (int i = 0; i < 50; i++) {
		struct field f[] = { { "unit_id", { .kind = VALUE_TEXT, .s = UNIT, .len = 36 } },
				     { "year", { .kind = VALUE_INT, .i = 2000 + i } } };
		snprintf(idbuf[i], sizeof idbuf[i], "row-%d", i);
		assert_int_equal(entry_row_digest("year_record", idbuf[i], f, 2, &d[i]), 0);
	}
	struct checksum fwd = { 0 }, rev = { 0 }, odd = { 0 };
	for (int i = 0; i < 50; i++) {
		checksum_add(&fwd, d[i]);
		checksum_add(&rev, d[49 - i]);
		checksum_add(&odd, d[(i * 7) % 50]);
	}
	char a[CHECKSUM_TEXT_MAX], b[CHECKSUM_TEXT_MAX], c[CHECKSUM_TEXT_MAX];
	checksum_format(&fwd, a);
	checksum_format(&rev, b);
	checksum_format(&odd, c);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_memory_equal(a, "50:", 3);
	assert_int_equal(strlen(a), 3 + 16);
}

static void test_checksum__row_digest_ignores_field_order_but_not_values(void **state)
{
	(void)state;
	struct field f[] = { { "a", { .kind = VALUE_INT, .i = 1 } },
			     { "b", { .kind = VALUE_NULL } } };
	struct field g[] = { f[1], f[0] };
	uint64_t x, y;
	assert_int_equal(entry_row_digest("t", "id", f, 2, &x), 0);
	assert_int_equal(entry_row_digest("t", "id", g, 2, &y), 0);
	assert_int_equal(x, y);
	g[0].v = (struct value){ .kind = VALUE_TEXT, .s = "", .len = 0 };
	assert_int_equal(entry_row_digest("t", "id", g, 2, &y), 0);
	assert_int_not_equal(x, y); /* null and empty text differ */
	assert_int_equal(entry_row_digest("t", "id2", f, 2, &y), 0);
	assert_int_not_equal(x, y);
}

static void test_checksum__sum_wraps_modulo_2_64_and_formats(void **state)
{
	(void)state;
	struct checksum c = { 0 };
	char t[CHECKSUM_TEXT_MAX];
	checksum_format(&c, t);
	assert_string_equal(t, "0:0000000000000000");
	checksum_add(&c, UINT64_MAX);
	checksum_add(&c, 2);
	checksum_format(&c, t);
	assert_string_equal(t, "2:0000000000000001");
	c.count = UINT64_MAX;
	checksum_format(&c, t);
	assert_string_equal(t, "18446744073709551615:0000000000000001");
}

static void test_hex__round_trip_and_refusals(void **state)
{
	(void)state;
	unsigned char in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4] = { 0 };
	char h[9];
	hex_encode(in, 4, h);
	assert_string_equal(h, "00ab7fff");
	assert_int_equal(hex_decode("00AB7fff", out, 4), 0);
	assert_memory_equal(in, out, 4);
	memset(out, 0x11, 4);
	assert_int_equal(hex_decode("00ab7ff", out, 4), -1);
	assert_int_equal(hex_decode("00ab7fff0", out, 4), -1);
	assert_int_equal(hex_decode("00ab7fzf", out, 4), -1);
	assert_int_equal(hex_decode(NULL, out, 4), -1);
	assert_int_equal(out[0], 0x11); /* untouched on error */
}

static void test_value_equal__kind_and_content(void **state)
{
	(void)state;
	struct value a = { .kind = VALUE_TEXT, .s = "ab", .len = 2 };
	struct value b = { .kind = VALUE_TEXT, .s = "abc", .len = 2 };
	struct value i1 = { .kind = VALUE_INT, .i = 1 }, b1 = { .kind = VALUE_BOOL, .i = 1 };
	struct value n = { .kind = VALUE_NULL };
	assert_true(value_equal(&a, &b));
	b.len = 3;
	assert_false(value_equal(&a, &b));
	assert_false(value_equal(&i1, &b1));
	assert_true(value_equal(&n, &n));
	assert_false(value_equal(&n, &i1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical__matches_the_byte_layout_of_the_protocol),
		cmocka_unit_test(test_canonical__field_order_and_clock_do_not_change_the_hash),
		cmocka_unit_test(test_chain__same_entries_cut_differently_give_same_chain),
		cmocka_unit_test(test_chain__lowered_clocks_give_same_chain),
		cmocka_unit_test(test_chain__skipped_entry_moves_the_chain_with_the_given_hash),
		cmocka_unit_test(test_chain__step_output_may_alias_its_input),
		cmocka_unit_test(test_checksum__does_not_depend_on_row_order),
		cmocka_unit_test(test_checksum__row_digest_ignores_field_order_but_not_values),
		cmocka_unit_test(test_checksum__sum_wraps_modulo_2_64_and_formats),
		cmocka_unit_test(test_hex__round_trip_and_refusals),
		cmocka_unit_test(test_value_equal__kind_and_content),
	};
	return cmocka_run_group_tests_name("entry", tests, NULL, NULL);
}
