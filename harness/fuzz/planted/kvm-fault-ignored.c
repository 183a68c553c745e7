/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug kvm-fault-ignored (harness/fuzz/planted.cmake), in fuzz_kvm_fault: a mishandled KVM
 * ioctl failure. A shim around the dirty-log harvest (-Wl,--wrap=nub_kvm_collect_dirty), whose
 * KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG restore and snapshot depend on. Armed, a harvest that
 * failed is reported as a success with nothing harvested, as an unchecked ioctl return would: the
 * pages the guest dirtied are not put back, and the "successful" restore breaks nub.h's promise
 * that the sandbox then equals the snapshot, which fuzz_kvm_fault checks with nub_sandbox_verify.
 */
#include <stdint.h>

#include "error.h"
#include "nub_fuzz.h"
#include "planted.h"

struct nub_kvm;
enum nub_status __real_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err);
enum nub_status __wrap_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err);

enum nub_status __wrap_nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
					     uint64_t *tmp, uint64_t *accum, struct nub_error *err)
{
	enum nub_status st = __real_nub_kvm_collect_dirty(k, slot, npages, tmp, accum, err);
	if (st == NUB_E_KVM && nub_planted("kvm-fault-ignored")) {
		nub_error_clear(err);
		return NUB_OK; /* PLANTED BUG: the failed ioctl is taken for a success */
	}
	return st;
}
