/*
 * test_agent_fuzz_csv.c — replays the committed CSV fuzz corpus
 * (tests/fuzz/corpus/fuzz_csv/) through fuzz_csv() under gcc and the ordinary
 * sanitizers, so every input the fuzzer kept (and every past finding) is an ordinary
 * test. A broken invariant aborts the binary, which the runner counts as a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_csv_entry.h"
#include "proto_cases.h"

static void test_fuzz_csv__corpus_replays_without_breaking_an_invariant(void **state)
{
	(void)state;
	const char *dir = "tests/fuzz/corpus/fuzz_csv";
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open '%s' (run from the repository root)", dir);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[600];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		char *data = case_read_file(path, &len);
		if (!data)
			continue;
		fuzz_csv((const uint8_t *)data, len);
		free(data);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_csv__corpus_replays_without_breaking_an_invariant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
