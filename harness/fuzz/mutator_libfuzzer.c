/* SPDX-License-Identifier: Apache-2.0 */
/* The structure-aware mutator as libFuzzer's custom mutator (mutator.h), of NUB_MUTATOR_FORMAT. */
#include <stddef.h>
#include <stdint.h>

#include "mutator.h"

/* libFuzzer's own byte-level mutator (the same mutations as without a custom mutator). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/*
 * One mutation of (data, size) within (max_size), deterministic in (seed) and libFuzzer's state.
 * No LLVMFuzzerCustomCrossOver: libFuzzer would then use it even with NUB_FUZZ_MUTATOR=off, which
 * would no longer be plain libFuzzer; its own crossover runs inside LLVMFuzzerMutate.
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct nub_mut m;

	if (nub_mut_disabled())
		return LLVMFuzzerMutate(data, size, max_size);
	nub_mut_init(&m, seed, LLVMFuzzerMutate);
	return nub_mut_run(&m, NUB_MUTATOR_FORMAT, data, size, max_size);
}
