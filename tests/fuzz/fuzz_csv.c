/*
 * fuzz_csv.c — libFuzzer target: one input through fuzz_csv() of fuzz_csv_entry.h (the
 * CSV reader `lienket-agent import` uses, and the writer round trip). Built by
 * scripts/fuzz.sh with agent/csv.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_csv_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_csv(data, size);
	return 0;
}
