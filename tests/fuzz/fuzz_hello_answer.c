/*
 * fuzz_hello_answer.c — libFuzzer target: one input through fuzz_hello_answer() of fuzz_entry.h
 * (inflate when it looks like zlib, decode, check, re-encode). Built by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_hello_answer(data, size);
	return 0;
}
