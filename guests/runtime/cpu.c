/* SPDX-License-Identifier: Apache-2.0 */
/* CPU tables: the guest's own GDT and TSS, the exception path into the abort stream, page mapping. */
#include "internal.h"

/* The 64-bit TSS: only IST1 is used (no privilege changes happen at CPL0). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "the 64-bit TSS is 104 bytes");

/* No I/O permission bitmap: its offset points past the TSS limit. */
static struct tss tss = { .iomap_base = sizeof(struct tss) };

/*
 * Selectors match what the host put in the segment registers: 0x08 code, 0x10 data, 0x18 TSS.
 * The accessed bits are preset so loading a selector never writes to the table. The GDT lives in
 * writable data because ltr writes the TSS descriptor's busy bit.
 */
static uint64_t gdt[5] = {
	0,
	0x00AF9B000000FFFFull, /* 0x08: code, present, DPL 0, L = 1 (64-bit) */
	0x00CF93000000FFFFull, /* 0x10: data, present, DPL 0, writable */
	/*
	 * 0x18: a 16-byte system descriptor (base bits 0..23, 24..31 in the low half, 32..63 in the
	 * high half). Its base is an address split in pieces, which no relocation expresses, so
	 * nub_cpu_init fills in the low half; the high half stays 0 as the host loads images below
	 * 0x10000000.
	 */
	0,
	0,
};

static const struct {
	uint16_t limit;
	const void *base;
} __attribute__((packed)) gdtr = { sizeof gdt - 1, gdt };

void nub_cpu_init(uint64_t ist1)
{
	uint64_t base = (uintptr_t)&tss;

	tss.ist[0] = ist1;
	/* limit, base 0..23, type 0x89 (present, available 64-bit TSS), base 24..31 */
	gdt[3] = (sizeof tss - 1) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
		 (base >> 24 & 0xFF) << 56;
	/*
	 * The host's CS/DS hidden state already describes these segments, but GDTR is empty: load
	 * ours, reload every selector from it (CS with a far return), then TR and the IDT. Until lidt
	 * any exception is a triple fault.
	 */
	__asm__ volatile("lgdt %[gdtr]\n\t"
			 "movl $0x10, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "pushq $0x08\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl $0x18, %%eax\n\t"
			 "ltr %%ax\n\t"
			 "lidt %[idtr]"
			 :
			 : [gdtr] "m"(gdtr), [idtr] "m"(nub_idtr)
			 : "rax", "memory");
}

static const char *const exception_names[32] = {
	"divide error",
	"debug",
	"non-maskable interrupt",
	"breakpoint",
	"overflow",
	"bound range exceeded",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor segment overrun",
	"invalid TSS",
	"segment not present",
	"stack-segment fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 floating-point error",
	"alignment check",
	"machine check",
	"SIMD floating-point exception",
	"virtualization exception",
	"control protection",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"hypervisor injection",
	"VMM communication",
	"security exception",
	"reserved",
};

_Noreturn void nub_rt_exception(uint64_t vector)
{
	const char *name = exception_names[vector & 31];

	nub_rt_abort(NUB_ABORT_EXCEPTION, (int)(vector & 31), name, strlen(name));
}

int nub_guest_map_page(uint64_t gva, uint64_t gpa, uint32_t perms)
{
	volatile uint64_t *table;
	uint64_t cr3, leaf, high = gva >> 47;

	if (((gva | gpa) & (NUB_PAGE_SIZE - 1)) || (high != 0 && high != 0x1FFFF) ||
	    gpa >= NUB_GPA_TOP || !(perms & NUB_MEM_READ) ||
	    (perms & ~(uint32_t)(NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE)) ||
	    ((perms & NUB_MEM_WRITE) && (perms & NUB_MEM_EXECUTE)))
		return NUB_GUEST_MAP_EINVAL;
	leaf = gpa | X86_PTE_P | X86_PTE_A | X86_PTE_D;
	if (perms & NUB_MEM_WRITE)
		leaf |= X86_PTE_RW;
	if (!(perms & NUB_MEM_EXECUTE))
		leaf |= X86_PTE_NX;

	/* PML4, PDPT, PD: each entry on the path leads to the next table (GVA == GPA for tables). */
	__asm__ volatile("movq %%cr3, %0" : "=r"(cr3));
	table = (volatile uint64_t *)(uintptr_t)(cr3 & X86_PTE_ADDR);
	for (unsigned shift = 39; shift > 12; shift -= 9) {
		volatile uint64_t *slot = &table[(gva >> shift) & 511];
		uint64_t e = *slot;

		if (!(e & X86_PTE_P)) {
			void *page = nub_guest_alloc_pages(1);

			if (!page)
				return NUB_GUEST_MAP_ENOMEM;
			memset(page, 0, NUB_PAGE_SIZE);
			e = (uintptr_t)page | X86_PTE_P | X86_PTE_RW | X86_PTE_A;
			*slot = e;
		} else if (e & X86_PTE_PS) {
			return NUB_GUEST_MAP_ELARGE;
		}
		table = (volatile uint64_t *)(uintptr_t)(e & X86_PTE_ADDR);
	}
	table[(gva >> 12) & 511] = leaf;
	__asm__ volatile("invlpg (%0)" : : "r"(gva) : "memory");
	return 0;
}
