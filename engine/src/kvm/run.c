/* SPDX-License-Identifier: Apache-2.0 */
/* The run loop: KVM_RUN until the guest halts; each exit goes to the core decoder as a record. */
#include <errno.h>

#include "error.h"
#include "exit.h"
#include "interrupt.h"
#include "kvm.h"
#include "outb.h"
#include "sandbox.h"

/* The decoder's way to the vCPU's RIP and CR2: KVM_GET_REGS and KVM_GET_SREGS. */
static enum nub_status read_fault_regs(void *vcpu, uint64_t *rip, uint64_t *cr2,
				       struct nub_error *err)
{
	return nub_kvm_read_fault_regs(vcpu, rip, cr2, err);
}

enum nub_status nub_run_guest(struct nub_sandbox *sb, struct nub_error *err)
{
	const struct nub_exit_env env = {
		.outb = &sb->outb,
		.mem = &sb->img.mem,
		.layout = &sb->img.layout,
		.read_fault_regs = read_fault_regs,
		.vcpu = &sb->kvm,
	};
	if (sb->img.cfg.gdb_port)
		return nub_gdb_run_guest(sb, err);
	struct nub_exit x;
	uint64_t gen;
	enum nub_status st = nub_interrupt_begin(sb->intr, sb->kvm.run, sb->img.cfg.time_limit_ms,
						 &gen, err);
	if (st != NUB_OK)
		return st;
	for (;;) {
		st = nub_interrupt_check(sb->intr, gen, err);
		if (st != NUB_OK)
			break;
		int r = nub_kvm_run(&sb->kvm);
		if (r == -EINTR || r == -EAGAIN)
			continue; /* the check above decides: kill, time limit, or a stale kick */
		if (r < 0 && !nub_kvm_run_faulted_on_memory(&sb->kvm, r)) {
			st = nub_error_set_errno(err, NUB_E_KVM, -r, "KVM_RUN");
			break;
		}
		nub_kvm_read_exit(&sb->kvm, &x);
		enum nub_outb_result res = nub_exit_handle(&env, &x, err);
		if (res == NUB_OUTB_CONTINUE)
			continue;
		st = res == NUB_OUTB_HALT ? NUB_OK : err->status;
		break;
	}
	nub_interrupt_end(sb->intr);
	nub_outb_flush_print(&sb->outb);
	sb->abort.len = 0; /* a partial abort stream never carries over to the next call */
	return st;
}
