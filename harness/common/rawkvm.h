/* SPDX-License-Identifier: Apache-2.0 */
/* rawkvm: the raw-KVM yardstick (an `out`-looping guest and RT) of nub-bench and KVM targets. */
#ifndef NUB_TOOLS_RAWKVM_H
#define NUB_TOOLS_RAWKVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The raw guest: one 2 MiB slot at GPA 0, identity-mapped by one 2 MiB page, 64-bit CPL0 long
 * mode, code `out %al, $0x10; jmp .-2`, so every KVM_RUN ends at the next OUT. No engine code is
 * involved: DESIGN §4 states the engine's speed as ratios to what this guest measures in the
 * same run, because this host's KVM costs vary from machine to machine and from run to run.
 */
#define RAWKVM_MEM_SIZE 0x200000u
#define RAWKVM_PORT 0x10u
#define RAWKVM_CODE 0x4000u /* GPA (and address) of the code: out (2 bytes), then jmp (2) */

/* What failed, with the errno text; the functions below fill it when they return -1. */
struct rawkvm_error {
	char message[256];
};

/* /dev/kvm, opened once, with what every raw VM reuses. */
struct rawkvm {
	int kvm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid; /* the full supported list, fetched once */
	struct kvm_sregs sregs;   /* long-mode template, built once from a fresh vCPU's state */
	bool have_sregs;
};

/* One raw VM with its vCPU, stopped at an OUT exit once rawkvm_create returned. */
struct rawkvm_vm {
	int vm_fd;
	int vcpu_fd;
	uint8_t *mem;
	struct kvm_run *run;
};

/* The steps of rawkvm_create, in order; their times are what "raw create" adds up. */
enum rawkvm_step {
	RAWKVM_STEP_CREATE_VM,
	RAWKVM_STEP_MEMORY,
	RAWKVM_STEP_SET_MEMORY,
	RAWKVM_STEP_CREATE_VCPU,
	RAWKVM_STEP_SET_CPUID,
	RAWKVM_STEP_SET_REGS,
	RAWKVM_STEP_FIRST_RUN,
	RAWKVM_STEP_COUNT
};

/* A short description of each step, for reports. */
extern const char *const rawkvm_step_names[RAWKVM_STEP_COUNT];

/*
 * Opens /dev/kvm into (*k), checks the API version and fetches the vCPU mmap size and the
 * supported CPUID list. Returns 0, or -1 with (*e) filled and nothing left open.
 */
int rawkvm_open(struct rawkvm *k, struct rawkvm_error *e);

/* Frees what rawkvm_open acquired. */
void rawkvm_close(struct rawkvm *k);

/*
 * Creates a raw VM in (*vm) and runs it to its first OUT exit. If (t) is not NULL it receives
 * each step's wall time in nanoseconds. The first call on (k) also builds the long-mode sregs
 * template (outside the timed steps). Returns 0, or -1 with (*e) filled and nothing of the VM
 * left behind.
 */
int rawkvm_create(struct rawkvm *k, struct rawkvm_vm *vm, uint64_t t[RAWKVM_STEP_COUNT],
		  struct rawkvm_error *e);

/* Unmaps and closes (vm). Returns 0, or -1 with (*e) filled (what could be freed is). */
int rawkvm_destroy(struct rawkvm *k, struct rawkvm_vm *vm, struct rawkvm_error *e);

/*
 * Runs (n) round trips on (vm), each one KVM_RUN that resumes after the OUT, runs the jmp and
 * exits at the OUT again, and stores each one's wall time in ns[i] (ns may be NULL: a warm-up).
 * Returns 0, or -1 with (*e) filled when a KVM_RUN fails or ends at anything but the OUT.
 */
int rawkvm_round_trips(struct rawkvm_vm *vm, uint64_t *ns, size_t n, struct rawkvm_error *e);

/*
 * RT, measured now: opens /dev/kvm, creates a raw VM, runs (warmup) untimed round trips, then
 * (n) timed ones (n > 0), and stores their median in (*rt_ns); destroys everything. Returns 0,
 * or -1 with (*e) filled.
 */
int rawkvm_measure_rt(size_t warmup, size_t n, double *rt_ns, struct rawkvm_error *e);

#endif
