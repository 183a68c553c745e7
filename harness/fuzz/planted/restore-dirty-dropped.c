/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug restore-dirty-dropped (harness/fuzz/planted.cmake), in fuzz_guest_call: an inexact
 * restore. A shim around the dirty-log harvest (-Wl,--wrap=nub_kvm_collect_dirty), which restore
 * calls per memory slot. Armed, the harvest of the scratch slot stops four pages short of the
 * slot's end, as an end taken from the stack top instead of the region's would: the top pages of
 * the scratch region (the exception stack, the metadata page and the top guard page,
 * engine/src/layout.h) are re-armed but not put back, so only an input that makes the guest take
 * a CPU exception (its handler runs on the exception stack) leaves one behind. The restore still
 * "succeeds"; only the restore oracle (nub_sandbox_verify, run by kvm_fuzz_restore) sees the page
 * the guest left behind, so the signature is that named invariant.
 */
#include <stdint.h>

#include "nub_fuzz.h"
#include "planted.h"

/* The scratch region's KVM memory slot (engine/src/kvm/sandbox.h, SLOT_SCRATCH). */
#define PLANTED_SLOT_SCRATCH 1u
/* Pages the harvest falls short of the slot's end by. */
#define PLANTED_SHORT 4u

struct nub_kvm;
enum nub_status __real_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err);
enum nub_status __wrap_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err);

enum nub_status __wrap_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err)
{
	if (slot != PLANTED_SLOT_SCRATCH || npages == 0 || !nub_planted("restore-dirty-dropped"))
		return __real_nub_kvm_collect_dirty(k, slot, npages, tmp, accum, err);
	uint64_t kept[PLANTED_SHORT];
	for (uint64_t i = 0; i < PLANTED_SHORT && i < npages; i++)
		kept[i] = accum[(npages - 1 - i) / 64] >> ((npages - 1 - i) % 64) & 1u;
	enum nub_status st = __real_nub_kvm_collect_dirty(k, slot, npages, tmp, accum, err);
	/* PLANTED BUG: the harvest of the last PLANTED_SHORT pages is dropped */
	for (uint64_t i = 0; i < PLANTED_SHORT && i < npages; i++) {
		uint64_t page = npages - 1 - i, bit = 1ull << (page % 64);
		accum[page / 64] = kept[i] ? accum[page / 64] | bit : accum[page / 64] & ~bit;
	}
	return st;
}
