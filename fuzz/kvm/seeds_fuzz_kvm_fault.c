/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_kvm_fault: one whole life, with ioctls across evolve, calls, snapshot and restore failing. */
#include <stdio.h>

#include "kvm_faults.h"
#include "seedgen.h"

static void life(struct seedgen *g, unsigned fail_at, unsigned errno_index, unsigned repeat)
{
	static const enum kvm_fault_op ops[] = {
		KF_ECHO,    KF_HOST_CALL, KF_SNAPSHOT, KF_DIRTY,
		KF_RESTORE, KF_ECHO,      KF_SPIN,     KF_RESTORE
	};
	static const char *const errnos[] = { "eintr", "eagain", "enomem", "efault", "eio" };
	struct fuzz_output o = { 0 };
	char name[64];

	fuzz_write_u16(&o, (uint16_t)fail_at);
	fuzz_write_u8(&o, (uint8_t)errno_index);
	fuzz_write_u8(&o, (uint8_t)repeat);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		fuzz_write_u8(&o, (uint8_t)ops[i]);
	if (fail_at)
		snprintf(name, sizeof name, "ioctl-%02u-%s-x%u", fail_at, errnos[errno_index],
			 repeat + 1);
	else
		snprintf(name, sizeof name, "no-failure");
	seedgen_emit(g, name, &o);
}

void seeds_fuzz_kvm_fault(struct seedgen *g)
{
	life(g, 0, 0, 0);
	/* Spread over the life's ioctls (about 50): evolve's, the calls' KVM_RUNs, the snapshot's
	 * state reads and dirty log, the restore's stub run and dirty log. */
	static const unsigned at[] = { 1, 3, 8, 12, 15, 18, 21, 23, 26, 30, 34, 38, 42, 46 };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		life(g, at[i], (unsigned)i % 5, i % 7 == 0 ? 2 : 0);
}
