/*
 * test_wire_alloc.c — allocation-failure loops over the codec: fail the Nth
 * allocation jansson makes, for N = 1, 2, … until a run succeeds, and check that every
 * failing run returns WIRE_NOMEM (or NULL from an encoder), writes no output, and
 * leaks nothing (LeakSanitizer checks at exit).
 *
 * This test includes jansson.h only to install the failing allocator
 * (json_set_alloc_funcs); the library still includes it in wire.c alone. The counter
 * below is the test's own global state, reset before every run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto_cases.h"
#include "wire.h"

static long alloc_left = -1; /* allocations allowed before failing; -1: never fail */

static void *failing_malloc(size_t n)
{
	if (alloc_left == 0)
		return NULL;
	if (alloc_left > 0)
		alloc_left--;
	return malloc(n);
}

static void arm(long n)
{
	alloc_left = n;
}

static void disarm(void)
{
	alloc_left = -1;
}

static char *load(const char *path, size_t *len)
{
	char *s = case_read_file(path, len);
	if (!s)
		fail_msg("cannot read '%s' (run from the repository root)", path);
	return s;
}

static void test_wire_alloc__changeset_decode_fails_cleanly_at_every_allocation(void **state)
{
	(void)state;
	size_t len;
	char *in = load("tests/cases/changesets/valid/quarantined_values/input.json", &len);
	long n;
	for (n = 0;; n++) {
		struct wire_changeset *cs = NULL;
		struct wire_status st;
		arm(n);
		int rc = wire_changeset_decode(in, len, &cs, &st);
		disarm();
		if (rc == WIRE_OK) {
			wire_changeset_free(cs);
			break;
		}
		if (rc != WIRE_NOMEM)
			fail_msg("allocation %ld: %s (%s)", n, wire_error_code((enum wire_error)rc),
				 st.message);
		assert_null(cs);
	}
	assert_true(n > 10);
	free(in);
}

/* Shape 2 (PROTOCOL.md §6.2a) calls jansson only for values written {"j": …}: each of
 * those allocations failing is WIRE_NOMEM, nothing written, nothing leaked. */
static void test_wire_alloc__shape_2_decode_fails_cleanly_at_every_jansson_allocation(void **state)
{
	(void)state;
	size_t len;
	char *in = load("tests/cases/changesets/valid/quarantined_values_shape2/input.json", &len);
	long n;
	for (n = 0;; n++) {
		struct wire_changeset *cs = NULL;
		struct wire_status st;
		arm(n);
		int rc = wire_changeset_decode(in, len, &cs, &st);
		disarm();
		if (rc == WIRE_OK) {
			assert_int_equal(cs->v, 2);
			wire_changeset_free(cs);
			break;
		}
		if (rc != WIRE_NOMEM)
			fail_msg("allocation %ld: %s (%s)", n, wire_error_code((enum wire_error)rc),
				 st.message);
		assert_null(cs);
	}
	assert_true(n > 3);
	free(in);
}

static void test_wire_alloc__pull_page_decode_fails_cleanly_at_every_allocation(void **state)
{
	(void)state;
	size_t len;
	char *in = load("tests/cases/pull_pages/valid/example_6_3/input.json", &len);
	for (long n = 0;; n++) {
		struct wire_pull_page *p = NULL;
		struct wire_status st;
		arm(n);
		int rc = wire_pull_page_decode(in, len, &p, &st);
		disarm();
		if (rc == WIRE_OK) {
			wire_pull_page_free(p);
			break;
		}
		if (rc != WIRE_NOMEM)
			fail_msg("allocation %ld: %s", n, wire_error_code((enum wire_error)rc));
		assert_null(p);
	}
	free(in);
}

static void test_wire_alloc__answers_decode_fails_cleanly_at_every_allocation(void **state)
{
	(void)state;
	size_t len;
	char *in = load("tests/cases/hello_answers/valid/example_6_1/input.json", &len);
	for (long n = 0;; n++) {
		struct wire_hello_answer a;
		struct wire_status st;
		arm(n);
		int rc = wire_hello_answer_decode(in, len, &a, &st);
		disarm();
		if (rc == WIRE_OK) {
			wire_hello_answer_release(&a);
			break;
		}
		assert_int_equal(rc, WIRE_NOMEM);
	}
	free(in);
	in = load("tests/cases/changes_answers/valid/example_6_2/input.json", &len);
	for (long n = 0;; n++) {
		struct wire_changes_answer a;
		struct wire_status st;
		arm(n);
		int rc = wire_changes_answer_decode(in, len, &a, &st);
		disarm();
		if (rc == WIRE_OK) {
			wire_changes_answer_release(&a);
			break;
		}
		assert_int_equal(rc, WIRE_NOMEM);
	}
	free(in);
}

static void test_wire_alloc__encoders_return_null_and_leak_nothing(void **state)
{
	(void)state;
	size_t len;
	char *in = load("tests/cases/changesets/valid/example_6_2/input.json", &len);
	struct wire_changeset *cs = NULL;
	struct wire_status st;
	assert_int_equal(wire_changeset_decode(in, len, &cs, &st), WIRE_OK);
	long n;
	for (n = 0;; n++) {
		arm(n);
		struct wire_changeset_writer *w = wire_changeset_writer_new(1, cs->agent);
		int ok = w != NULL;
		for (size_t i = 0; ok && i < cs->nentries; i++)
			ok = wire_changeset_writer_add(w, &cs->entries[i]) == 0;
		char *text = NULL;
		if (ok)
			text = wire_changeset_writer_finish(w, cs->chain_before, cs->chain_after);
		else
			wire_changeset_writer_free(w);
		disarm();
		if (text) {
			free(text);
			break;
		}
	}
	assert_true(n > 10);
	for (n = 0;; n++) {
		struct wire_pull_field f = { "attendees", { .kind = VALUE_INT, .i = 25 }, 7,
					     "0190f3a2-7c1e-7d44-9a0b-5f3e2c1d0a9b" };
		struct wire_pull_row r = { .table = "meeting", .id = cs->entries[0].id,
					   .owner = cs->entries[0].owner, .fields = &f, .nfields = 1 };
		arm(n);
		struct wire_pull_writer *w = wire_pull_writer_new(1);
		char *text = NULL;
		if (w && wire_pull_writer_add(w, &r) == 0)
			text = wire_pull_writer_finish(w, 1, 0);
		else
			wire_pull_writer_free(w);
		disarm();
		if (text) {
			free(text);
			break;
		}
	}
	wire_changeset_free(cs);
	free(in);
}

static void test_wire_alloc__answer_encoders_return_null_and_leak_nothing(void **state)
{
	(void)state;
	size_t len;
	struct wire_status st;
	struct wire_hello_answer ha;
	struct wire_changes_answer ca;
	struct wire_error_answer ea;
	struct wire_hello h;
	char *in = load("tests/cases/hello_answers/valid/example_6_1/input.json", &len);
	assert_int_equal(wire_hello_answer_decode(in, len, &ha, &st), WIRE_OK);
	free(in);
	in = load("tests/cases/changes_answers/valid/example_6_2/input.json", &len);
	assert_int_equal(wire_changes_answer_decode(in, len, &ca, &st), WIRE_OK);
	free(in);
	in = load("tests/cases/error_answers/valid/gap/input.json", &len);
	assert_int_equal(wire_error_answer_decode(in, len, &ea, &st), WIRE_OK);
	free(in);
	in = load("tests/cases/hello/valid/example_6_1/input.json", &len);
	assert_int_equal(wire_hello_decode(in, len, &h, &st), WIRE_OK);
	free(in);
	for (int which = 0; which < 4; which++) {
		for (long n = 0;; n++) {
			char *t = NULL;
			arm(n);
			switch (which) {
			case 0: t = wire_hello_answer_encode(&ha); break;
			case 1: t = wire_changes_answer_encode(&ca); break;
			case 2: t = wire_error_answer_encode(&ea); break;
			default: t = wire_hello_encode(&h); break;
			}
			disarm();
			if (t) {
				free(t);
				break;
			}
		}
	}
	wire_hello_answer_release(&ha);
	wire_changes_answer_release(&ca);
}

int main(void)
{
	json_set_alloc_funcs(failing_malloc, free);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_alloc__changeset_decode_fails_cleanly_at_every_allocation),
		cmocka_unit_test(test_wire_alloc__shape_2_decode_fails_cleanly_at_every_jansson_allocation),
		cmocka_unit_test(test_wire_alloc__pull_page_decode_fails_cleanly_at_every_allocation),
		cmocka_unit_test(test_wire_alloc__answers_decode_fails_cleanly_at_every_allocation),
		cmocka_unit_test(test_wire_alloc__encoders_return_null_and_leak_nothing),
		cmocka_unit_test(test_wire_alloc__answer_encoders_return_null_and_leak_nothing),
	};
	return cmocka_run_group_tests_name("wire_alloc", tests, NULL, NULL);
}
