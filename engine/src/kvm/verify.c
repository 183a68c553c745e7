/* SPDX-License-Identifier: Apache-2.0 */
/* The restore-exactness oracle: a sandbox compared with a snapshot, page by page and register by register. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "filemap.h"
#include "kvm.h"
#include "sandbox.h"
#include "snapshot.h"

/*
 * Why memcmp and not per-page hashes of the snapshot computed once: hashing the sandbox's side
 * still reads every byte, and a hash is a dependent multiply chain per word where memcmp is
 * vectorised; nub-bench measured 264 KiB of fuzz-guest memory at 8.9 us by memcmp and 42 us by a
 * 64-bit multiply-xor hash. memcmp also stops at the first difference and cannot collide.
 */

/* NUB_E_DIVERGED naming the first byte of page (gpa) that differs. */
static enum nub_status page_differs(const char *region, uint64_t gpa, const uint8_t *have,
				    const uint8_t *want, struct nub_error *err)
{
	size_t i = 0;
	while (i < NUB_PAGE_SIZE - 1 && have[i] == want[i])
		i++;
	return nub_error_set(err, NUB_E_DIVERGED,
			     "guest page 0x%" PRIx64 " (%s region) differs from the snapshot: "
			     "byte 0x%" PRIx64 " is 0x%02x in the sandbox, 0x%02x in the snapshot",
			     gpa, region, gpa + i, have[i], want[i]);
}

/*
 * Compares region (r) with (want) page by page. The counter's 8 bytes, when they lie in (r), are
 * compared with (counter) instead: restore writes the host's value there, not the snapshot's.
 */
static enum nub_status check_region(const char *name, const struct nub_region *r,
				    const uint8_t *want, uint64_t counter_gpa, uint64_t counter,
				    struct nub_error *err)
{
	for (uint64_t off = 0; off < r->size; off += NUB_PAGE_SIZE) {
		const uint8_t *have = r->host + off;
		uint64_t gpa = r->gpa + off;
		if (nub_region_is_gap(r, gpa))
			continue; /* PROT_NONE: neither guest nor host can have changed it */
		if (counter_gpa - gpa < NUB_PAGE_SIZE) {
			size_t at = (size_t)(counter_gpa - gpa);
			uint8_t page[NUB_PAGE_SIZE];
			memcpy(page, want + off, sizeof page);
			nub_put_le64(page + at, counter);
			if (memcmp(have, page, sizeof page) != 0)
				return page_differs(name, gpa, have, page, err);
			continue;
		}
		if (memcmp(have, want + off, NUB_PAGE_SIZE) != 0)
			return page_differs(name, gpa, have, want + off, err);
	}
	return NUB_OK;
}

struct field {
	const char *name;
	uint16_t off; /* in struct nub_vcpu_state */
	uint8_t size; /* 1, 2, 4 or 8 bytes */
};

/* clang-format off */
#define U64(f, name) { name, offsetof(struct nub_vcpu_state, f), 8 }
#define U16(f, name) { name, offsetof(struct nub_vcpu_state, f), 2 }
#define SEG(sg) \
	{ #sg ".selector", offsetof(struct nub_vcpu_state, sg.selector), 2 }, \
	{ #sg ".base", offsetof(struct nub_vcpu_state, sg.base), 8 }, \
	{ #sg ".limit", offsetof(struct nub_vcpu_state, sg.limit), 4 }, \
	{ #sg ".type", offsetof(struct nub_vcpu_state, sg.type), 1 }, \
	{ #sg ".present", offsetof(struct nub_vcpu_state, sg.present), 1 }, \
	{ #sg ".dpl", offsetof(struct nub_vcpu_state, sg.dpl), 1 }, \
	{ #sg ".db", offsetof(struct nub_vcpu_state, sg.db), 1 }, \
	{ #sg ".s", offsetof(struct nub_vcpu_state, sg.s), 1 }, \
	{ #sg ".l", offsetof(struct nub_vcpu_state, sg.l), 1 }, \
	{ #sg ".g", offsetof(struct nub_vcpu_state, sg.g), 1 }, \
	{ #sg ".avl", offsetof(struct nub_vcpu_state, sg.avl), 1 }, \
	{ #sg ".unusable", offsetof(struct nub_vcpu_state, sg.unusable), 1 }
#define FPU(at, name, size) \
	{ name, (uint16_t)(offsetof(struct nub_vcpu_state, fpu) + (at)), size }

/* Every register the engine resets, in the order the message names the first difference. */
static const struct field fields[] = {
	U64(gpr[0], "rax"), U64(gpr[1], "rbx"), U64(gpr[2], "rcx"), U64(gpr[3], "rdx"),
	U64(gpr[4], "rsi"), U64(gpr[5], "rdi"), U64(gpr[6], "rsp"), U64(gpr[7], "rbp"),
	U64(gpr[8], "r8"), U64(gpr[9], "r9"), U64(gpr[10], "r10"), U64(gpr[11], "r11"),
	U64(gpr[12], "r12"), U64(gpr[13], "r13"), U64(gpr[14], "r14"), U64(gpr[15], "r15"),
	U64(rip, "rip"), U64(rflags, "rflags"),
	SEG(cs), SEG(ds), SEG(es), SEG(fs), SEG(gs), SEG(ss), SEG(tr), SEG(ldt),
	U64(gdt_base, "gdt.base"), U16(gdt_limit, "gdt.limit"),
	U64(idt_base, "idt.base"), U16(idt_limit, "idt.limit"),
	U64(cr0, "cr0"), U64(cr2, "cr2"), U64(cr3, "cr3"), U64(cr4, "cr4"), U64(cr8, "cr8"),
	U64(efer, "efer"), U64(apic_base, "apic_base"),
	FPU(NUB_FPU_FCW, "fcw", 2), FPU(NUB_FPU_FSW, "fsw", 2), FPU(NUB_FPU_FTWX, "ftwx", 1),
	FPU(NUB_FPU_LAST_OPCODE, "fop", 2), FPU(NUB_FPU_LAST_IP, "fip", 8),
	FPU(NUB_FPU_LAST_DP, "fdp", 8), FPU(NUB_FPU_MXCSR, "mxcsr", 4),
	U64(dr[0], "dr0"), U64(dr[1], "dr1"), U64(dr[2], "dr2"), U64(dr[3], "dr3"),
	U64(dr6, "dr6"), U64(dr7, "dr7"),
	U64(kernel_gs_base, "kernel_gs_base"), U64(xcr0, "xcr0"),
};
/* clang-format on */

static uint64_t field_value(const struct nub_vcpu_state *s, const struct field *f)
{
	const uint8_t *p = (const uint8_t *)s + f->off;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	switch (f->size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

/* The x87 and XMM registers: 80 of 128 bits for st0..7, all 128 for xmm0..15. */
static enum nub_status check_vector_regs(const struct nub_vcpu_state *have,
					 const struct nub_vcpu_state *want, struct nub_error *err)
{
	for (unsigned i = 0; i < 24; i++) {
		bool st = i < 8;
		size_t at = st ? NUB_FPU_FPR + 16u * i : NUB_FPU_XMM + 16u * (i - 8);
		size_t n = st ? 10 : 16;
		const uint8_t *a = have->fpu + at, *b = want->fpu + at;
		if (memcmp(a, b, n) == 0)
			continue;
		/* Printed as two 64-bit halves, high first (st's high half is its 16-bit exponent). */
		uint64_t ah = st ? (uint64_t)(a[8] | a[9] << 8) : nub_le64(a + 8), al = nub_le64(a);
		uint64_t bh = st ? (uint64_t)(b[8] | b[9] << 8) : nub_le64(b + 8), bl = nub_le64(b);
		return nub_error_set(err, NUB_E_DIVERGED,
				     "vCPU register %s%u is 0x%" PRIx64 ":%016" PRIx64
				     " in the sandbox, 0x%" PRIx64 ":%016" PRIx64
				     " in the snapshot",
				     st ? "st" : "xmm", st ? i : i - 8, ah, al, bh, bl);
	}
	return NUB_OK;
}

static enum nub_status check_vcpu(struct nub_sandbox *sb, const struct nub_vcpu_state *want,
				  struct nub_error *err)
{
	struct nub_vcpu_state have;
	const char *pending;
	enum nub_status st = NUB_OK;

	/*
	 * Nothing queued means the vCPU's own registers are next; complete a pending exit first, as
	 * snapshot does: KVM would do the same work at the start of the next KVM_RUN anyway.
	 */
	const uint64_t queued = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if ((sb->kvm.run->kvm_dirty_regs & queued) != queued &&
	    sb->kvm.exit_owes != NUB_KVM_OWES_NOTHING)
		st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_get_next_state(&sb->kvm, &have, &pending, err);
	if (st != NUB_OK)
		return st;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint64_t a = field_value(&have, &fields[i]), b = field_value(want, &fields[i]);
		if (a != b)
			return nub_error_set(err, NUB_E_DIVERGED,
					     "vCPU register %s is 0x%" PRIx64
					     " in the sandbox, 0x%" PRIx64 " in the snapshot",
					     fields[i].name, a, b);
	}
	st = check_vector_regs(&have, want, err);
	if (st == NUB_OK && pending)
		st = nub_error_set(err, NUB_E_DIVERGED,
				   "the vCPU's next entry carries %s; a snapshot carries none",
				   pending);
	return st;
}

/* The file mappings of (sb) and (snap) are the same places and sizes. */
static enum nub_status check_maps(const struct nub_sandbox *sb, const struct nub_snapshot *snap,
				  struct nub_error *err)
{
	for (uint32_t i = 0; i < sb->img.nmaps; i++)
		if (!nub_filemap_in_snapshot(snap, &sb->img.maps[i]))
			return nub_error_set(err, NUB_E_DIVERGED,
					     "file mapping at gpa 0x%" PRIx64 " (0x%" PRIx64
					     " bytes) is not in the snapshot",
					     sb->img.maps[i].gpa, sb->img.maps[i].size);
	if (nub_filemap_check(snap, &sb->img, err) == NUB_OK)
		return NUB_OK;
	err->status = NUB_E_DIVERGED; /* the message names the mapping the sandbox lacks */
	return NUB_E_DIVERGED;
}

enum nub_status nub_sandbox_verify(struct nub_sandbox *sb, const struct nub_snapshot *snap,
				   struct nub_error *err)
{
	struct nub_error local;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!sb || !snap)
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL", sb ? "snapshot" : "sandbox");
	if (sb->status == NUB_SANDBOX_UNRECOVERABLE)
		return nub_error_set(err, NUB_E_UNRECOVERABLE, "sandbox is unrecoverable; free it");
	const struct nub_layout *l = &sb->img.layout;
	if (memcmp(&snap->layout, l, sizeof *l) != 0)
		return nub_error_set(
			err, NUB_E_DIVERGED,
			"snapshot layout differs from the sandbox's (primary 0x%" PRIx64
			" vs 0x%" PRIx64 ", scratch 0x%" PRIx64 " vs 0x%" PRIx64 ")",
			snap->layout.primary_size, l->primary_size, snap->layout.scratch_size,
			l->scratch_size);
	uint64_t counter = sb->img.counter ? nub_counter_value(sb->img.counter) : 0;
	enum nub_status st = check_region("primary", &sb->img.mem.primary, snap->mem,
					  l->counter_gpa, counter, err);
	if (st == NUB_OK)
		st = check_region("scratch", &sb->img.mem.scratch, snap->mem + l->primary_size,
				  l->counter_gpa, counter, err);
	if (st == NUB_OK)
		st = check_maps(sb, snap, err);
	if (st == NUB_OK)
		st = check_vcpu(sb, &snap->vcpu, err);
	return st;
}
