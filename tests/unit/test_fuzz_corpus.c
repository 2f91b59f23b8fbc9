/*
 * test_fuzz_corpus.c — replays every committed fuzz corpus file
 * (tests/fuzz/corpus/<target>/) through the same entry functions the libFuzzer targets
 * call (tests/fuzz/fuzz_entry.h), under gcc and the ordinary sanitizers, so the corpus
 * is part of every test run. A broken invariant aborts the binary, which the runner
 * counts as a failure; one cmocka test per target.
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

#include "../fuzz/fuzz_entry.h"
#include "proto_cases.h"

struct target {
	const char *name;
	void (*run)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
	{ "fuzz_changeset", fuzz_changeset },
	{ "fuzz_hello_answer", fuzz_hello_answer },
	{ "fuzz_changes_answer", fuzz_changes_answer },
	{ "fuzz_pull_page", fuzz_pull_page },
	{ "fuzz_error_answer", fuzz_error_answer },
};

static void replay(void **state)
{
	const struct target *t = *state;
	char dir[256];
	snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", t->name);
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
		t->run((const uint8_t *)data, len);
		free(data);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int main(void)
{
	struct CMUnitTest tests[sizeof targets / sizeof targets[0]];
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		memset(&tests[i], 0, sizeof tests[i]);
		tests[i].name = targets[i].name;
		tests[i].test_func = replay;
		tests[i].initial_state = (void *)(uintptr_t)&targets[i];
	}
	return _cmocka_run_group_tests("fuzz_corpus", tests, sizeof tests / sizeof tests[0], NULL,
				       NULL);
}
