/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshot objects: a refcounted, immutable guest memory image plus vCPU state and metadata. */
#ifndef NUB_SNAPSHOT_H
#define NUB_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "layout.h"
#include "nub/nub.h"
#include "nub/x86.h"

struct nub_hostfn_table;

/* A segment register as KVM describes it (struct kvm_segment), hypervisor-neutral. */
struct nub_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl, unusable;
};

/*
 * The fpu blob of struct nub_vcpu_state: x87/SSE state laid out as KVM's struct kvm_fpu
 * (asm/kvm.h), which snapshot files store as it is; the backend asserts this layout against the
 * kernel header (kvm/kvm.c). Offsets in bytes. Note that mxcsr sits at byte 408, not FXSAVE's 24.
 */
#define NUB_FPU_SIZE 416u
#define NUB_FPU_FPR 0u           /* u8[8][16]: st0..st7, 80 bits each in 16 bytes */
#define NUB_FPU_FCW 128u         /* u16 control word */
#define NUB_FPU_FSW 130u         /* u16 status word */
#define NUB_FPU_FTWX 132u        /* u8 abridged tag word, then one pad byte */
#define NUB_FPU_LAST_OPCODE 134u /* u16 */
#define NUB_FPU_LAST_IP 136u     /* u64 */
#define NUB_FPU_LAST_DP 144u     /* u64 */
#define NUB_FPU_XMM 152u         /* u8[16][16]: xmm0..xmm15 */
#define NUB_FPU_MXCSR 408u       /* u32, then four pad bytes */

/* Bytes of the legacy FXSAVE region (x87, MXCSR, XMM registers). */
#define NUB_FXSAVE_SIZE 512u

/*
 * The vCPU state a snapshot restores. Everything a CPL0 guest can change and the engine resets:
 * general registers, segments and descriptor tables, control registers and EFER, the x87/SSE
 * state (the 416-byte struct kvm_fpu layout), debug registers, MSR_KERNEL_GS_BASE (swapgs
 * changes it even though the MSR filter denies rdmsr/wrmsr) and XCR0.
 */
struct nub_vcpu_state {
	uint64_t gpr[16]; /* rax rbx rcx rdx rsi rdi rsp rbp r8 .. r15 */
	uint64_t rip, rflags;
	struct nub_segment cs, ds, es, fs, gs, ss, tr, ldt;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
	uint8_t fpu[NUB_FPU_SIZE]; /* the struct kvm_fpu layout: NUB_FPU_* above */
	uint64_t dr[4], dr6, dr7;
	uint64_t kernel_gs_base;
	uint64_t xcr0; /* always NUB_XCR0_X87: snapshots refuse guests that enabled XSAVE state */
};

#define NUB_XCR0_X87 ((uint32_t)X86_XCR0_X87) /* narrowed: messages print it with %x */

#define NUB_SNAPSHOT_MAX_FNS 65536u
#define NUB_MAX_FILE_MAPS 16u

/* A file mapping's place in guest-physical memory (the file itself is not part of a snapshot). */
struct nub_map_range {
	uint64_t gpa;
	uint64_t size;
};

struct nub_snapshot {
	atomic_long refs;
	struct nub_alloc_hook alloc;
	struct nub_layout layout;
	uint32_t abi_version;
	struct nub_vcpu_state vcpu;
	uint32_t *fn_ids; /* the host functions registered when it was taken: sorted, unique */
	uint32_t nfn;
	uint32_t
		nmaps; /* file mappings present when it was taken (in memory only; files store none) */
	struct nub_map_range maps[NUB_MAX_FILE_MAPS];
	int memfd;          /* sealed: primary region bytes, then scratch region bytes */
	const uint8_t *mem; /* read-only mapping of memfd */
	uint64_t mem_size;  /* layout.primary_size + layout.scratch_size */
};

/*
 * Creates a snapshot with refcount 1 whose memory is a fresh memfd of primary_size + scratch_size
 * bytes, zero-filled and mapped writable at *(fill) so the caller can write it; (fn_ids) (n, any
 * order, duplicates refused) are copied. Call nub_snapshot_seal when the memory is complete.
 * Errors: NUB_E_NOMEM, NUB_E_INVALID (too many or duplicate fn_ids, naming the value).
 */
enum nub_status nub_snapshot_new(const struct nub_layout *l, const struct nub_vcpu_state *vcpu,
				 const uint32_t *fn_ids, uint32_t n,
				 const struct nub_alloc_hook *hook, struct nub_snapshot **out,
				 uint8_t **fill, struct nub_error *err);

/*
 * Drops the writable mapping (fill), seals the memfd against writes and resizing, and maps it
 * read-only at snap->mem. After this the snapshot is immutable and shareable.
 */
enum nub_status nub_snapshot_seal(struct nub_snapshot *snap, uint8_t *fill, struct nub_error *err);

/*
 * NUB_E_INVALID naming the first host function (snap) needs (was taken with) that the registry
 * (fns) lacks; NUB_OK if (fns) has them all.
 */
enum nub_status nub_snapshot_check_fns(const struct nub_snapshot *snap,
				       const struct nub_hostfn_table *fns, struct nub_error *err);

/* True if the snapshot lists (fn_id) (binary search). */
bool nub_snapshot_has_fn(const struct nub_snapshot *snap, uint32_t fn_id);

/*
 * Decodes and validates a snapshot file image (data, len) into a new snapshot (refcount 1).
 * Pure: no KVM, no files. Every field is checked before use; errors name field and value.
 */
enum nub_status nub_snapshot_file_decode(const uint8_t *data, size_t len,
					 const struct nub_alloc_hook *hook,
					 struct nub_snapshot **out, struct nub_error *err);

/* Encodes (snap) in the file format (see snapshot_file.c) by appending to (out). */
enum nub_status nub_snapshot_file_encode(const struct nub_snapshot *snap, struct nub_buf *out,
					 struct nub_error *err);

/*
 * Writes (s)'s x87/SSE state as a 64-bit FXSAVE image: what FXRSTOR64 and XSAVE's legacy region
 * read, and what an ELF core's NT_FPREGSET holds. MXCSR_MASK is left 0 (FXRSTOR ignores it).
 */
void nub_vcpu_fxsave_image(uint8_t image[NUB_FXSAVE_SIZE], const struct nub_vcpu_state *s);

/* The reverse: sets (s)'s x87/SSE state from a 64-bit FXSAVE image (KVM_GET_XSAVE's legacy region). */
void nub_vcpu_fpu_from_fxsave(struct nub_vcpu_state *s, const uint8_t image[NUB_FXSAVE_SIZE]);

#endif
