/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug restore-heap-leak (harness/fuzz/planted.cmake), in fuzz_outb: state leaking from one
 * input into the next. A shim around the dirty-log harvest (-Wl,--wrap=nub_kvm_collect_dirty),
 * which restore calls per memory slot. Armed, the harvest of the primary slot keeps only the
 * lowest newly dirtied page of each bitmap word (x & -x, the idiom for one bit taken for the
 * whole word): an input that dirties one page there (the fuzz guest's data page, every input)
 * restores exactly, but one that also dirties its heap (a host call's result buffer, the stream
 * copy before WRITE_INPUT) leaves those heap pages as it wrote them, for the next input to see.
 * The state-leak oracle (kvm_fuzz_check_no_leak: the guest digests its heap) catches it; the
 * planted-bug test turns the restore oracle off (NUB_FUZZ_ORACLE_EVERY=0), which would otherwise
 * see the stale page first, from the host's side.
 */
#include <stdint.h>

#include "nub_fuzz.h"
#include "planted.h"

/* The primary region's KVM memory slot (engine/src/kvm/sandbox.h, SLOT_PRIMARY). */
#define PLANTED_SLOT_PRIMARY 0u
/* Bitmap words kept on the stack: the fuzz guest's primary slot needs one. */
#define PLANTED_MAX_WORDS 64u

struct nub_kvm;
enum nub_status __real_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err);
enum nub_status __wrap_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err);

enum nub_status __wrap_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err)
{
	uint64_t words = (npages + 63) / 64, before[PLANTED_MAX_WORDS];
	if (slot != PLANTED_SLOT_PRIMARY || words > PLANTED_MAX_WORDS ||
	    !nub_planted("restore-heap-leak"))
		return __real_nub_kvm_collect_dirty(k, slot, npages, tmp, accum, err);
	for (uint64_t w = 0; w < words; w++)
		before[w] = accum[w];
	enum nub_status st = __real_nub_kvm_collect_dirty(k, slot, npages, tmp, accum, err);
	for (uint64_t w = 0; w < words; w++) {
		uint64_t fresh = accum[w] & ~before[w];
		accum[w] = before[w] | (fresh & -fresh); /* PLANTED BUG: one page per word */
	}
	return st;
}
