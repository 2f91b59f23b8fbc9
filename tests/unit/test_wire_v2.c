/*
 * test_wire_v2.c — change sets of shape 2 (PROTOCOL.md §6.2a, protocol/wire_v2.c):
 * every kind of entry and value round-trips to the same entries, hashes and chain as
 * shape 1; every bound (refs, names per group, members per object, string length,
 * clocks, sequences) holds at its limit and refuses one past it; malformed change sets
 * are refused with their code and field and leave *out untouched; the writer's cut
 * (add_within) leaves it unchanged; the hello's changes_v is optional both ways.
 * (tests/unit/test_wire.c also sends every case folder through both shapes.)
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
#include "wire.h"
#include "zio.h"

#define AGENT "0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b"
#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define UNIT2 "0190f3a2-0000-7000-8000-0000000000c2"
#define ROW1 "0190f3b0-5a21-7c3d-8e4f-0a1b2c3d4e5f"
#define ROW2 "0190f3b0-5a21-7c3d-8e4f-0a1b2c3d4e60"
#define HOST "0190f3b1-1111-7222-8333-444455556666"
#define CLOCK0 115615334400000001ULL

static struct value txt(const char *s)
{
	struct value v = { .kind = VALUE_TEXT, .s = s, .len = strlen(s) };
	return v;
}

static struct value num(int64_t i)
{
	struct value v = { .kind = VALUE_INT, .i = i };
	return v;
}

/* Entries of every kind: inserts of two tables, updates, a delete, values of every
 * kind (UUIDs referred to, text with escapes and diacritics, integers at ±2^53, null,
 * and the forms that never validate: a real, a boolean, an object), an id and an owner
 * that are not lowercase UUIDs, a clock lowered below its group's previous one, and
 * both skip reasons. */
static struct field f_meet[] = {
	{ "kind", { .kind = VALUE_TEXT, .s = "joint", .len = 5 } },
	{ "held_on", { .kind = VALUE_TEXT, .s = "2021-03-14", .len = 10 } },
	{ "host_branch_id", { .kind = VALUE_TEXT, .s = HOST, .len = 36 } },
	{ "attendees", { .kind = VALUE_INT, .i = 9007199254740992LL } },
	{ "concerns", { .kind = VALUE_TEXT, .s = "Thiếu \"kinh phí\"\n\ttab \\ /", .len = 0 } },
	{ "follow_up", { .kind = VALUE_NULL } },
};
static struct field f_upd[] = { { "attendees", { .kind = VALUE_INT, .i = -9007199254740992LL } } };
static struct field f_odd[] = {
	{ "attendees", { .kind = VALUE_REAL, .r = -0.0 } },
	{ "kind", { .kind = VALUE_BOOL, .i = 1 } },
	{ "concerns", { .kind = VALUE_COMPOUND, .s = "{\"a\":[1,2.5,null]}", .len = 0 } },
};
static struct field f_person[] = {
	{ "full_name", { .kind = VALUE_TEXT, .s = "Nguyễn Văn Bảy", .len = 0 } },
	{ "birth_year", { .kind = VALUE_INT, .i = 1990 } },
};

static size_t sample(struct entry *e)
{
	size_t n = 0;
	f_meet[4].v.len = strlen(f_meet[4].v.s);
	f_odd[2].v.len = strlen(f_odd[2].v.s);
	f_person[0].v.len = strlen(f_person[0].v.s);
	memset(e, 0, 12 * sizeof *e);
	e[n] = (struct entry){ .seq = 41, .table = "meeting", .id = ROW1, .op = 'i', .owner = UNIT,
			       .clock = CLOCK0, .fields = f_meet, .nfields = 6 };
	n++;
	e[n] = (struct entry){ .seq = 42, .table = "person", .id = ROW2, .op = 'i', .owner = UNIT2,
			       .clock = CLOCK0 + 1, .fields = f_person, .nfields = 2 };
	n++;
	e[n] = (struct entry){ .seq = 43, .table = "meeting", .id = ROW1, .op = 'u', .owner = UNIT,
			       .clock = CLOCK0 + 5, .fields = f_upd, .nfields = 1 };
	n++;
	e[n] = (struct entry){ .seq = 44, .skipped = 1, .reason = "too_large" };
	memset(e[n].hash, 0xab, 32);
	n++;
	e[n] = (struct entry){ .seq = 45, .table = "meeting", .id = ROW1, .op = 'u', .owner = UNIT,
			       .clock = CLOCK0 + 2, .fields = f_upd, .nfields = 1 }; /* lowered */
	n++;
	e[n] = (struct entry){ .seq = 46, .table = "meeting", .id = "not-a-uuid", .op = 'u',
			       .owner = "0190F3A2-0000-7000-8000-0000000000C1", .clock = CLOCK0 + 6,
			       .fields = f_odd, .nfields = 3 };
	n++;
	e[n] = (struct entry){ .seq = 47, .table = "meeting", .id = ROW1, .op = 'd', .owner = UNIT,
			       .clock = CLOCK0 + 7 };
	n++;
	e[n] = (struct entry){ .seq = 48, .skipped = 1, .reason = "unencodable" };
	memset(e[n].hash, 0xcd, 32);
	n++;
	e[n] = (struct entry){ .seq = 49, .table = "meeting", .id = ROW2, .op = 'i', .owner = UNIT2,
			       .clock = (uint64_t)INT64_MAX, .fields = f_meet, .nfields = 6 };
	n++;
	return n;
}

static char *encode(const struct entry *e, size_t n, int shape, size_t *predicted)
{
	unsigned char before[32] = { 1 }, after[32] = { 2 };
	struct wire_changeset_writer *w = wire_changeset_writer_new_v(1, AGENT, shape);
	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(wire_changeset_writer_add(w, &e[i]), 0);
	if (predicted)
		*predicted = wire_changeset_writer_bytes(w);
	char *t = wire_changeset_writer_finish(w, before, after);
	assert_non_null(t);
	return t;
}

static void test_wire_v2__every_kind_of_entry_round_trips_to_the_same_entries_and_hashes(void **state)
{
	(void)state;
	struct entry e[12];
	size_t n = sample(e), predicted = 0;
	char *t2 = encode(e, n, WIRE_CHANGES_V2, &predicted);
	char *t1 = encode(e, n, WIRE_CHANGES_V1, NULL);
	assert_true(strlen(t2) <= predicted);
	assert_true(strlen(t2) < strlen(t1));
	struct wire_changeset *a = NULL, *b = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(t2, strlen(t2), &a, &st), WIRE_OK);
	assert_int_equal(wire_changeset_decode(t1, strlen(t1), &b, &st), WIRE_OK);
	assert_int_equal(a->v, 2);
	assert_int_equal(b->v, 1);
	assert_int_equal(a->from, 41);
	assert_int_equal(a->to, 49);
	assert_int_equal(a->nentries, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char h0[32], ha[32], hb[32];
		assert_int_equal(entry_hash(&e[i], h0), 0);
		assert_int_equal(entry_hash(&a->entries[i], ha), 0);
		assert_int_equal(entry_hash(&b->entries[i], hb), 0);
		assert_memory_equal(h0, ha, 32);
		assert_memory_equal(h0, hb, 32);
		assert_int_equal(a->entries[i].seq, e[i].seq);
		assert_int_equal(a->entries[i].skipped, e[i].skipped);
		if (e[i].skipped) {
			assert_string_equal(a->entries[i].reason, e[i].reason);
			continue;
		}
		assert_int_equal(a->entries[i].clock, e[i].clock);
		assert_string_equal(a->entries[i].id, e[i].id);
		assert_string_equal(a->entries[i].owner, e[i].owner);
		assert_string_equal(a->entries[i].table, e[i].table);
		assert_int_equal(a->entries[i].op, e[i].op);
		assert_int_equal(a->entries[i].nfields, e[i].nfields);
		for (size_t k = 0; k < e[i].nfields; k++) {
			assert_string_equal(a->entries[i].fields[k].name, e[i].fields[k].name);
			assert_true(value_equal(&a->entries[i].fields[k].v, &b->entries[i].fields[k].v));
		}
	}
	/* the owner and the host were written once, referred to after */
	assert_non_null(strstr(t2, "\"refs\":[\""));
	wire_changeset_free(a);
	wire_changeset_free(b);
	free(t1);
	free(t2);
}

/* A valid change set of shape 2 (the sample) with one piece of its text replaced. */
static char *mutate(const char *from, const char *to)
{
	struct entry e[12];
	size_t n = sample(e);
	char *t = encode(e, n, WIRE_CHANGES_V2, NULL);
	char *at = strstr(t, from);
	if (!at)
		fail_msg("'%s' not in %s", from, t);
	size_t fl = strlen(from), tl = strlen(to), len = strlen(t);
	char *out = malloc(len - fl + tl + 1);
	assert_non_null(out);
	memcpy(out, t, (size_t)(at - t));
	memcpy(out + (at - t), to, tl);
	memcpy(out + (at - t) + tl, at + fl, len - (size_t)(at - t) - fl + 1);
	free(t);
	return out;
}

static void expect_refused(const char *text, enum wire_error code, const char *field)
{
	struct wire_changeset *cs = (struct wire_changeset *)(uintptr_t)1; /* untouched on failure */
	struct wire_status st;
	memset(&st, 0, sizeof st);
	int rc = wire_changeset_decode(text, strlen(text), &cs, &st);
	if (rc != (int)code)
		fail_msg("got %s (%s: %s), want %s", wire_error_code(rc), st.field, st.message,
			 wire_error_code(code));
	assert_true(cs == (struct wire_changeset *)(uintptr_t)1);
	if (field && strcmp(st.field, field) != 0)
		fail_msg("field '%s' (%s), want '%s'", st.field, st.message, field);
	assert_true(st.message[0] != '\0');
}

static void refused(const char *from, const char *to, enum wire_error code, const char *field)
{
	char *t = mutate(from, to);
	expect_refused(t, code, field);
	free(t);
}

static void test_wire_v2__malformed_change_sets_are_refused_with_their_code_and_field(void **state)
{
	(void)state;
	refused("\"v\":2", "\"v\":3", WIRE_BAD_VERSION, "v");
	refused("\"refs\":[", "\"reefs\":[", WIRE_BAD_MESSAGE, "refs");
	refused("\"skipped\":[", "\"skip\":[", WIRE_BAD_MESSAGE, "skipped");
	refused("\"groups\":[", "\"groups\":{\"a\":1},\"g\":[", WIRE_BAD_MESSAGE, "groups");
	/* compact UUIDs: a character outside base64url, unused bits, a wrong length */
	refused("\"id\":[\"AZDzsFohfD2OTwobLD1OXw\"", "\"id\":[\"AZDzsFohfD2OTwobLD1OX!\"", WIRE_BAD_MESSAGE,
		"groups[0].id[0]");
	refused("\"id\":[\"AZDzsFohfD2OTwobLD1OXw\"", "\"id\":[\"AZDzsFohfD2OTwobLD1OXx\"", WIRE_BAD_MESSAGE,
		"groups[0].id[0]");
	refused("\"id\":[\"AZDzsFohfD2OTwobLD1OXw\"", "\"id\":[\"AZDzsFohfD2OTwobLD1OX\"", WIRE_BAD_MESSAGE,
		"groups[0].id[0]");
	refused("\"id\":[\"AZDzsFohfD2OTwobLD1OXw\"", "\"id\":[true", WIRE_BAD_MESSAGE, "groups[0].id[0]");
	/* references outside refs */
	refused("\"owner\":[0", "\"owner\":[99", WIRE_BAD_MESSAGE, "groups[0].owner[0]");
	refused("\"owner\":[0", "\"owner\":[-1", WIRE_BAD_MESSAGE, "groups[0].owner[0]");
	refused("[[1],[1]]", "[[77],[1]]", WIRE_BAD_MESSAGE, "groups[0].vals[2][0]");
	refused("[[1],[1]]", "[[1,3],[1]]", WIRE_BAD_MESSAGE, "groups[0].vals[2][0]");
	/* values: a bare boolean, an object other than {"j": …}, a real where j is needed */
	refused("[\"joint\"", "[true", WIRE_BAD_MESSAGE, "groups[0].vals[0][0]");
	refused("{\"j\":true}", "{\"j\":true,\"k\":1}", WIRE_BAD_MESSAGE, NULL);
	refused("{\"j\":true}", "{\"k\":true}", WIRE_BAD_MESSAGE, NULL);
	refused("{\"j\":true}", "{\"j\":{\"a\":1,\"a\":2}}", WIRE_DUPLICATE_KEY, NULL);
	refused("[9007199254740992", "[9007199254740993", WIRE_NUMBER_RANGE, "groups[0].vals[3][0]");
	refused("[9007199254740992", "[1.5", WIRE_NUMBER_RANGE, "groups[0].vals[3][0]");
	refused("[9007199254740992", "[99999999999999999999", WIRE_NUMBER_RANGE, NULL);
	/* sequences: outside from..to, twice, missing, a step of 0 */
	refused("\"seq\":[41", "\"seq\":[40", WIRE_BAD_SEQUENCE, "groups[0].seq[0]");
	refused("\"seq\":[41", "\"seq\":[42", WIRE_BAD_SEQUENCE, NULL);
	refused("[44,\"", "[50,\"", WIRE_BAD_SEQUENCE, "skipped[0]");
	refused("\"seq\":[41,8]", "\"seq\":[41,0]", WIRE_NUMBER_RANGE, "groups[0].seq[1]");
	refused("\"from\":41", "\"from\":40", WIRE_BAD_SEQUENCE, NULL);
	refused("\"from\":41", "\"from\":0", WIRE_BAD_SEQUENCE, "from");
	refused("\"to\":49", "\"to\":5049", WIRE_TOO_MANY, "to");
	/* a group's arrays: one entry more or fewer than its seq */
	refused("\"owner\":[0,2]", "\"owner\":[0,2,0]", WIRE_BAD_MESSAGE, "groups[0].owner[2]");
	refused("\"owner\":[0,2]", "\"owner\":[0]", WIRE_BAD_MESSAGE, "groups[0].owner");
	refused("[\"joint\",\"joint\"]", "[\"joint\"]", WIRE_BAD_MESSAGE, "groups[0].vals[0]");
	refused("[\"joint\",\"joint\"]", "[\"joint\",\"joint\",\"x\"]", WIRE_BAD_MESSAGE, "groups[0].vals[0][2]");
	refused("\"vals\":[[\"joint\"", "\"vals\":[[\"joint\"],[\"x\"", WIRE_BAD_MESSAGE, NULL);
	/* names, op, table */
	refused("\"cols\":[\"kind\",", "\"cols\":[\"kind\",\"kind\",", WIRE_DUPLICATE_KEY, "groups[0].cols");
	refused("\"op\":\"i\"", "\"op\":\"x\"", WIRE_BAD_MESSAGE, "groups[0].op");
	refused("\"t\":\"meeting\"", "\"t\":7", WIRE_BAD_MESSAGE, "groups[0].t");
	refused("\"t\":\"meeting\",", "", WIRE_BAD_MESSAGE, "groups[0].t");
	/* clocks: below 0, past 2^63 by a difference, an absolute clock too large */
	refused("\"clock\":[115615334400000001", "\"clock\":[-1", WIRE_NUMBER_RANGE, "groups[0].clock[0]");
	refused("\"clock\":[115615334400000001,", "\"clock\":[9223372036854775807,", WIRE_NUMBER_RANGE,
		"groups[0].clock[1]");
	refused("\"clock\":[115615334400000001,", "\"clock\":[1,-2,", WIRE_NUMBER_RANGE, "groups[0].clock[1]");
	/* skipped: a reason of its own, a short hash */
	refused("\"too_large\"", "\"big\"", WIRE_BAD_MESSAGE, "skipped[0].reason");
	refused("[44,\"abab", "[44,\"ab", WIRE_BAD_MESSAGE, "skipped[0].hash");
	/* the envelope, as in shape 1 */
	refused("\"agent\":\"" AGENT "\"", "\"agent\":\"" UNIT "x\"", WIRE_BAD_MESSAGE, "agent");
	refused("\"refs\":[", "\"refs\":[],\"refs\":[", WIRE_DUPLICATE_KEY, NULL);
	refused("\"chain_before\":\"01", "\"chain_before\":\"zz", WIRE_BAD_MESSAGE, "chain_before");
	/* text: syntax (through the same refusal as shape 1), UTF-8 */
	refused("\"groups\":[", "\"groups\":[,", WIRE_BAD_JSON, NULL);
	refused("\"joint\"", "\"jo\xc3\x28nt\"", WIRE_BAD_UTF8, NULL);
}

/* The sample has these pieces; if the writer changes its layout the test above must
 * change with it. */
static void test_wire_v2__sample_layout_is_the_one_the_refusals_edit(void **state)
{
	(void)state;
	struct entry e[12];
	size_t n = sample(e);
	char *t = encode(e, n, WIRE_CHANGES_V2, NULL);
	const char *pieces[] = { "\"seq\":[41,8]", "\"owner\":[0,2]", "[[1],[1]]", "[\"joint\",\"joint\"]",
				 "\"clock\":[115615334400000001,", "[44,\"abab", "{\"j\":true}" };
	for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++)
		if (!strstr(t, pieces[i]))
			fail_msg("'%s' not in %s", pieces[i], t);
	free(t);
}

/* Bounds: at the limit decodes, one past is refused. */
static char *many_refs(size_t nrefs)
{
	size_t cap = 400 + nrefs * 25;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t o = (size_t)snprintf(t, cap,
				    "{\"v\":2,\"schema\":1,\"agent\":\"" AGENT "\",\"from\":1,\"to\":1,"
				    "\"chain_before\":\"%064d\",\"chain_after\":\"%064d\",\"refs\":[", 0, 0);
	for (size_t i = 0; i < nrefs; i++)
		o += (size_t)snprintf(t + o, cap - o, "%s\"AZDzogAAcACAAAAAAAAAwQ\"", i ? "," : "");
	snprintf(t + o, cap - o, "],\"groups\":[],\"skipped\":[[1,\"%064d\",\"too_large\"]]}", 0);
	return t;
}

static char *many_cols(size_t ncols)
{
	size_t cap = 600 + ncols * 16;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t o = (size_t)snprintf(t, cap,
				    "{\"v\":2,\"schema\":1,\"agent\":\"" AGENT "\",\"from\":1,\"to\":1,"
				    "\"chain_before\":\"%064d\",\"chain_after\":\"%064d\",\"refs\":[],"
				    "\"groups\":[{\"t\":\"meeting\",\"op\":\"u\",\"cols\":[", 0, 0);
	for (size_t i = 0; i < ncols; i++)
		o += (size_t)snprintf(t + o, cap - o, "%s\"c%zu\"", i ? "," : "", i);
	o += (size_t)snprintf(t + o, cap - o, "],\"seq\":[1],\"id\":[[\"x\"]],\"owner\":[[\"y\"]],"
					      "\"clock\":[1],\"vals\":[");
	for (size_t i = 0; i < ncols; i++)
		o += (size_t)snprintf(t + o, cap - o, "%s[%zu]", i ? "," : "", i);
	snprintf(t + o, cap - o, "]}],\"skipped\":[]}");
	return t;
}

static void test_wire_v2__refs_names_members_and_strings_hold_at_their_limits(void **state)
{
	(void)state;
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	char *t = many_refs(WIRE_MAX_REFS);
	assert_int_equal(wire_changeset_decode(t, strlen(t), &cs, &st), WIRE_OK);
	wire_changeset_free(cs);
	free(t);
	t = many_refs(WIRE_MAX_REFS + 1);
	expect_refused(t, WIRE_TOO_MANY, "refs");
	free(t);
	t = many_cols(WIRE_MAX_COLS);
	assert_int_equal(wire_changeset_decode(t, strlen(t), &cs, &st), WIRE_OK);
	assert_int_equal(cs->entries[0].nfields, WIRE_MAX_COLS);
	assert_int_equal(cs->entries[0].fields[255].v.i, 255);
	assert_string_equal(cs->entries[0].id, "x");
	wire_changeset_free(cs);
	free(t);
	t = many_cols(WIRE_MAX_COLS + 1);
	expect_refused(t, WIRE_TOO_MANY, "groups[0].cols");
	free(t);
	/* the top object has 10 members: with 54 unknown ones 64 keys are checked here,
	 * with 55 jansson checks them; either way a repeated key is refused */
	char tail[64 * 12 + 32], *p = tail;
	for (int i = 0; i < 54; i++)
		p += sprintf(p, "\"x%d\":0,", i);
	sprintf(p, "\"refs\":[");
	t = mutate("\"refs\":[", tail); /* 10 + 54 = 64 members */
	assert_int_equal(wire_changeset_decode(t, strlen(t), &cs, &st), WIRE_OK);
	wire_changeset_free(cs);
	free(t);
	p = tail;
	for (int i = 0; i < 55; i++)
		p += sprintf(p, "\"x%d\":0,", i);
	sprintf(p, "\"refs\":[");
	t = mutate("\"refs\":[", tail);
	assert_int_equal(wire_changeset_decode(t, strlen(t), &cs, &st), WIRE_OK);
	wire_changeset_free(cs);
	free(t);
	for (int big = 0; big < 2; big++) {
		p = tail;
		int count = big ? 60 : 40; /* + the 10 members of the change set */
		for (int i = 0; i < count; i++)
			p += sprintf(p, "\"x%d\":0,", i == count - 1 ? 0 : i);
		sprintf(p, "\"refs\":[");
		t = mutate("\"refs\":[", tail);
		expect_refused(t, WIRE_DUPLICATE_KEY, NULL);
		free(t);
	}
	/* a text of 65,536 bytes passes, one more is refused */
	char *big = malloc(WIRE_MAX_STRING + 4);
	assert_non_null(big);
	for (int k = 0; k < 2; k++) {
		size_t len = WIRE_MAX_STRING + (size_t)k;
		big[0] = '"';
		memset(big + 1, 'a', len);
		big[len + 1] = '"';
		big[len + 2] = '\0';
		t = mutate("\"joint\"", big);
		if (k == 0) {
			assert_int_equal(wire_changeset_decode(t, strlen(t), &cs, &st), WIRE_OK);
			assert_int_equal(cs->entries[0].fields[0].v.len, WIRE_MAX_STRING);
			wire_changeset_free(cs);
		} else {
			expect_refused(t, WIRE_STRING_TOO_LONG, NULL);
		}
		free(t);
	}
	free(big);
}

/* The agent's cut: an entry that would pass max_bytes is not added and the writer is
 * as before; what it finishes decodes to the entries added, within its byte count. */
static void test_wire_v2__add_within_leaves_the_writer_unchanged_when_the_cut_is_reached(void **state)
{
	(void)state;
	struct entry e[12];
	size_t n = sample(e);
	for (int shape = WIRE_CHANGES_V1; shape <= WIRE_CHANGES_V2; shape++) {
		struct wire_changeset_writer *w = wire_changeset_writer_new_v(1, AGENT, shape);
		assert_non_null(w);
		assert_int_equal(wire_changeset_writer_add_within(w, &e[0], SIZE_MAX), 0);
		size_t b1 = wire_changeset_writer_bytes(w);
		assert_int_equal(wire_changeset_writer_add_within(w, &e[1], b1 + 10), 2);
		assert_int_equal(wire_changeset_writer_bytes(w), b1);
		assert_int_equal(wire_changeset_writer_count(w), 1);
		/* an entry out of sequence is a caller bug */
		assert_int_equal(wire_changeset_writer_add_within(w, &e[2], SIZE_MAX), -1);
		assert_int_equal(wire_changeset_writer_add_within(w, &e[1], SIZE_MAX), 0);
		size_t b2 = wire_changeset_writer_bytes(w);
		unsigned char z[32] = { 0 };
		char *t = wire_changeset_writer_finish(w, z, z);
		assert_non_null(t);
		assert_true(strlen(t) <= b2);
		struct wire_changeset *cs = NULL;
		struct wire_status st;
		assert_int_equal(wire_changeset_decode(t, strlen(t), &cs, &st), WIRE_OK);
		assert_int_equal(cs->nentries, 2);
		assert_int_equal(cs->v, shape);
		wire_changeset_free(cs);
		free(t);
	}
	(void)n;
}

/* Rows like the office's meetings (an owner, a host, two texts): shape 2 is less than
 * shape 1, before and after deflate. */
static void test_wire_v2__meetings_take_fewer_bytes_than_in_shape_1(void **state)
{
	(void)state;
	enum { N = 200 };
	static struct entry e[N];
	static struct field f[N][6];
	static char ids[N][37], texts[N][80];
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "0190f3b0-5a21-7c3d-8e4f-%012x", 0x51a2b3 * (i + 1));
		snprintf(texts[i], sizeof texts[i], "Đoàn viên thôn %d phản ánh chưa rõ thủ tục vay vốn", i * 7);
		f[i][0] = (struct field){ "kind", txt(i % 3 ? "branch" : "joint") };
		f[i][1] = (struct field){ "held_on", txt(i % 2 ? "2021-06-16" : "2021-08-09") };
		f[i][2] = (struct field){ "host_branch_id", txt(i % 2 ? HOST : UNIT) };
		f[i][3] = (struct field){ "attendees", num(20 + i % 30) };
		f[i][4] = (struct field){ "concerns", txt(texts[i]) };
		f[i][5] = (struct field){ "follow_up", { .kind = VALUE_NULL } };
		e[i] = (struct entry){ .seq = (uint64_t)i + 1, .table = "meeting", .id = ids[i], .op = 'i',
				       .owner = i % 2 ? UNIT : UNIT2, .clock = CLOCK0 + (uint64_t)i, .fields = f[i],
				       .nfields = 6 };
	}
	char *t1 = encode(e, N, WIRE_CHANGES_V1, NULL), *t2 = encode(e, N, WIRE_CHANGES_V2, NULL);
	unsigned char *z1 = NULL, *z2 = NULL;
	size_t n1 = 0, n2 = 0;
	assert_int_equal(zio_deflate(t1, strlen(t1), 6, &z1, &n1), ZIO_OK);
	assert_int_equal(zio_deflate(t2, strlen(t2), 6, &z2, &n2), ZIO_OK);
	assert_true(strlen(t2) * 10 < strlen(t1) * 7);
	assert_true(n2 < n1);
	free(z1);
	free(z2);
	free(t1);
	free(t2);
}

/* PROTOCOL.md §6.1: changes_v is optional in a hello and its answer (1 when absent), an
 * integer of at least 1 when present. */
static void test_wire_v2__hello_changes_v_is_optional_and_checked(void **state)
{
	(void)state;
	struct wire_hello h;
	struct wire_status st;
	const char *old = "{\"v\":1,\"schema\":1,\"agent\":\"" AGENT "\",\"wall\":1,\"pending\":0,\"acked\":0,"
			  "\"software\":\"x\"}";
	assert_int_equal(wire_hello_decode(old, strlen(old), &h, &st), WIRE_OK);
	assert_int_equal(h.changes_v, 1);
	char *t = wire_hello_encode(&h);
	assert_null(strstr(t, "changes_v")); /* a hub of protocol 1 reads it as before */
	free(t);
	h.changes_v = 2;
	t = wire_hello_encode(&h);
	assert_non_null(strstr(t, "\"changes_v\":2"));
	struct wire_hello back;
	assert_int_equal(wire_hello_decode(t, strlen(t), &back, &st), WIRE_OK);
	assert_int_equal(back.changes_v, 2);
	free(t);
	const char *bad[] = { "\"changes_v\":0", "\"changes_v\":\"2\"", "\"changes_v\":2.0" };
	for (size_t i = 0; i < 3; i++) {
		char buf[300];
		snprintf(buf, sizeof buf, "{\"v\":1,\"schema\":1,\"agent\":\"" AGENT "\",\"wall\":1,\"pending\":0,"
					  "\"acked\":0,\"software\":\"x\",%s}", bad[i]);
		assert_int_not_equal(wire_hello_decode(buf, strlen(buf), &h, &st), WIRE_OK);
		assert_string_equal(st.field, "changes_v");
	}
	struct wire_hello_answer a;
	const char *ans = "{\"v\":1,\"schema\":1,\"hub_time\":1,\"hub_id\":\"" AGENT "\",\"unit\":\"" UNIT "\","
			  "\"acked\":0,\"chain\":\"0000000000000000000000000000000000000000000000000000000000000000\","
			  "\"backup_seq\":0,\"limits\":{\"max_body_bytes\":1,\"max_inflated_bytes\":1,"
			  "\"max_changes\":1,\"max_ahead_ms\":1,\"pull_page_rows\":1},\"checksums\":{},"
			  "\"retired\":false}";
	assert_int_equal(wire_hello_answer_decode(ans, strlen(ans), &a, &st), WIRE_OK);
	assert_int_equal(a.changes_v, 1);
	a.changes_v = 2;
	t = wire_hello_answer_encode(&a);
	struct wire_hello_answer b;
	assert_int_equal(wire_hello_answer_decode(t, strlen(t), &b, &st), WIRE_OK);
	assert_int_equal(b.changes_v, 2);
	wire_hello_answer_release(&a);
	wire_hello_answer_release(&b);
	free(t);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *b = malloc(1 << 20);
	assert_non_null(b);
	*len = fread(b, 1, (1 << 20) - 1, f);
	b[*len] = '\0';
	fclose(f);
	return b;
}

/* PROTOCOL.md §6.2a's example: §6.2's change set written in shape 2 by our writer is
 * byte for byte what tests/cases/make_cases.py's own encoder of the text wrote. */
static void test_wire_v2__the_example_is_what_an_independent_encoder_writes(void **state)
{
	(void)state;
	size_t n1 = 0, n2 = 0;
	char *one = slurp("tests/cases/changesets/valid/example_6_2/input.json", &n1);
	char *two = slurp("tests/cases/changesets/valid/example_6_2a/input.json", &n2);
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(one, n1, &cs, &st), WIRE_OK);
	struct wire_changeset_writer *w = wire_changeset_writer_new_v(cs->schema, cs->agent, WIRE_CHANGES_V2);
	for (size_t i = 0; i < cs->nentries; i++)
		assert_int_equal(wire_changeset_writer_add(w, &cs->entries[i]), 0);
	char *t = wire_changeset_writer_finish(w, cs->chain_before, cs->chain_after);
	assert_non_null(t);
	assert_string_equal(t, two);
	free(t);
	wire_changeset_free(cs);
	free(one);
	free(two);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_v2__every_kind_of_entry_round_trips_to_the_same_entries_and_hashes),
		cmocka_unit_test(test_wire_v2__sample_layout_is_the_one_the_refusals_edit),
		cmocka_unit_test(test_wire_v2__malformed_change_sets_are_refused_with_their_code_and_field),
		cmocka_unit_test(test_wire_v2__refs_names_members_and_strings_hold_at_their_limits),
		cmocka_unit_test(test_wire_v2__add_within_leaves_the_writer_unchanged_when_the_cut_is_reached),
		cmocka_unit_test(test_wire_v2__meetings_take_fewer_bytes_than_in_shape_1),
		cmocka_unit_test(test_wire_v2__hello_changes_v_is_optional_and_checked),
		cmocka_unit_test(test_wire_v2__the_example_is_what_an_independent_encoder_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
