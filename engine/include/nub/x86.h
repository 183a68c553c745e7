/* SPDX-License-Identifier: Apache-2.0 */
/* x86-64 architectural constants shared by the engine, guests, tools and fuzz targets (C11 freestanding). */
#ifndef NUB_X86_H
#define NUB_X86_H

#include <stdint.h>

/*
 * Every value here is architectural: it comes from the Intel SDM (vol. 3A unless noted) and
 * means the same on AMD. Values are UINT64_C so they combine with 64-bit registers and page-table
 * entries without sign surprises; narrow them explicitly where a 32-bit field needs it.
 */

/* CR0, SDM §2.5 "Control Registers". */
#define X86_CR0_PE UINT64_C(0x1)        /* protection enable */
#define X86_CR0_MP UINT64_C(0x2)        /* monitor coprocessor */
#define X86_CR0_EM UINT64_C(0x4)        /* x87 emulation */
#define X86_CR0_TS UINT64_C(0x8)        /* task switched */
#define X86_CR0_ET UINT64_C(0x10)       /* extension type (reads 1) */
#define X86_CR0_NE UINT64_C(0x20)       /* native x87 error reporting */
#define X86_CR0_WP UINT64_C(0x10000)    /* write protect, honoured at CPL0 */
#define X86_CR0_AM UINT64_C(0x40000)    /* alignment mask */
#define X86_CR0_NW UINT64_C(0x20000000) /* not write-through */
#define X86_CR0_CD UINT64_C(0x40000000) /* cache disable */
#define X86_CR0_PG UINT64_C(0x80000000) /* paging */

/* CR4, SDM §2.5. */
#define X86_CR4_VME UINT64_C(0x1)          /* virtual-8086 mode extensions */
#define X86_CR4_PVI UINT64_C(0x2)          /* protected-mode virtual interrupts */
#define X86_CR4_TSD UINT64_C(0x4)          /* time stamp disable: RDTSC at CPL0 only */
#define X86_CR4_DE UINT64_C(0x8)           /* debugging extensions */
#define X86_CR4_PSE UINT64_C(0x10)         /* page size extensions */
#define X86_CR4_PAE UINT64_C(0x20)         /* physical address extension (required by long mode) */
#define X86_CR4_MCE UINT64_C(0x40)         /* machine-check enable */
#define X86_CR4_PGE UINT64_C(0x80)         /* page global enable */
#define X86_CR4_PCE UINT64_C(0x100)        /* performance-monitoring counter enable */
#define X86_CR4_OSFXSR UINT64_C(0x200)     /* FXSAVE/FXRSTOR and SSE enabled */
#define X86_CR4_OSXMMEXCPT UINT64_C(0x400) /* unmasked SIMD exceptions raise #XM */
#define X86_CR4_FSGSBASE UINT64_C(0x10000) /* RDFSBASE and friends */
#define X86_CR4_OSXSAVE UINT64_C(0x40000)  /* XSAVE and XSETBV enabled */
#define X86_CR4_SMEP UINT64_C(0x100000)    /* supervisor-mode execution prevention */
#define X86_CR4_SMAP UINT64_C(0x200000)    /* supervisor-mode access prevention */

/* IA32_EFER (MSR 0xC0000080), SDM §2.2.1 "Extended Feature Enable Register". */
#define X86_EFER_SCE UINT64_C(0x1)   /* SYSCALL enable */
#define X86_EFER_LME UINT64_C(0x100) /* long mode enable */
#define X86_EFER_LMA UINT64_C(0x400) /* long mode active (set by the CPU) */
#define X86_EFER_NXE UINT64_C(0x800) /* execute-disable bit in page-table entries */

/* RFLAGS, SDM vol. 1 §3.4.3. */
#define X86_RFLAGS_FIXED1 UINT64_C(0x2) /* bit 1 always reads 1 */
#define X86_RFLAGS_TF UINT64_C(0x100)   /* trap flag: single step */
#define X86_RFLAGS_IF UINT64_C(0x200)   /* interrupts enabled */
#define X86_RFLAGS_RF UINT64_C(0x10000) /* resume flag: suppress the next instruction breakpoint */
#define X86_RFLAGS_VM UINT64_C(0x20000) /* virtual-8086 mode (impossible in long mode) */
#define X86_RFLAGS_RESERVED0 UINT64_C(0xFFFFFFFFFFC08028) /* bits 3, 5, 15, 22..63: read as zero */

/* 4-level paging entries, SDM §4.5 "4-Level Paging and 5-Level Paging", tables 4-15 to 4-20. */
#define X86_PTE_P UINT64_C(0x1)                 /* present */
#define X86_PTE_RW UINT64_C(0x2)                /* writable */
#define X86_PTE_US UINT64_C(0x4)                /* user accessible */
#define X86_PTE_A UINT64_C(0x20)                /* accessed */
#define X86_PTE_D UINT64_C(0x40)                /* dirty (leaf entries) */
#define X86_PTE_PS UINT64_C(0x80)               /* 1 GiB page in a PDPTE, 2 MiB page in a PDE */
#define X86_PTE_NX UINT64_C(0x8000000000000000) /* execute-disable, honoured with EFER.NXE */
#define X86_PTE_ADDR                                                                               \
	UINT64_C(0x000FFFFFFFFFF000) /* bits 51..12: the next table or the 4 KiB page */
#define X86_PT_ENTRIES 512u          /* entries per table (9 bits of address each) */
#define X86_PAGE_SHIFT 12u
#define X86_PAGE_SIZE (UINT64_C(1) << X86_PAGE_SHIFT)
#define X86_LARGE_PAGE_SIZE (UINT64_C(1) << 21) /* a PDE with PS */
#define X86_HUGE_PAGE_SIZE (UINT64_C(1) << 30)  /* a PDPTE with PS */

/*
 * Segment descriptor types (SDM §3.4.5.1 table 3-1, §3.5 table 3-2) as KVM's struct kvm_segment
 * and the GDT hold them, and the selectors nub's flat 64-bit GDT uses (engine boot state and the
 * guest runtime's own GDT agree on them).
 */
#define X86_SEG_TYPE_DATA_RW_ACCESSED 0x3u /* read/write data, accessed */
#define X86_SEG_TYPE_CODE 0x8u             /* type bit 3: a code segment */
#define X86_SEG_TYPE_CODE_RX_ACCESSED 0xBu /* execute/read code, accessed */
#define X86_SEG_TYPE_LDT 0x2u              /* system: LDT */
#define X86_SEG_TYPE_TSS64_BUSY 0xBu       /* system: busy 64-bit TSS */
#define X86_SEL_CODE64 UINT16_C(0x08)      /* nub's flat 64-bit code segment */
#define X86_SEL_DATA UINT16_C(0x10)        /* nub's flat data segment */

/* Debug registers, SDM vol. 3B §18.2: bits that read back fixed. */
#define X86_DR6_FIXED_MASK UINT64_C(0xFFFF1FF0)
#define X86_DR6_FIXED_VALUE UINT64_C(0xFFFF0FF0)
#define X86_DR7_FIXED_MASK UINT64_C(0xD400)
#define X86_DR7_FIXED_VALUE UINT64_C(0x400)

/* Breakpoint exception (SDM §6.15, vector 3) and the one-byte opcodes of int3 and hlt. */
#define X86_VEC_BP 3u
#define X86_OP_INT3 0xCCu
#define X86_OP_HLT 0xF4u

/* Model-specific registers, SDM vol. 4 table 2-2. */
#define X86_MSR_APIC_BASE UINT32_C(0x1B)
#define X86_MSR_EFER UINT32_C(0xC0000080)
#define X86_MSR_FS_BASE UINT32_C(0xC0000100)
#define X86_MSR_GS_BASE UINT32_C(0xC0000101)
#define X86_MSR_KERNEL_GS_BASE UINT32_C(0xC0000102) /* the value SWAPGS exchanges with GS.base */

/*
 * IA32_APIC_BASE (MSR 0x1B), SDM §10.4.4 "Local APIC Status and Location" (figure 10-5); its
 * value after reset is the default base with EN, and BSP on the bootstrap processor.
 */
#define X86_APIC_BASE_BSP UINT64_C(0x100)               /* this is the bootstrap processor */
#define X86_APIC_BASE_EXTD UINT64_C(0x400)              /* x2APIC mode enable */
#define X86_APIC_BASE_EN UINT64_C(0x800)                /* xAPIC global enable */
#define X86_APIC_BASE_ADDR_DEFAULT UINT64_C(0xFEE00000) /* the local APIC's base after reset */

/* XCR0 (XFEATURE_ENABLED_MASK), SDM vol. 1 §13.3: bit 0, x87, must always be set. */
#define X86_XCR0_X87 UINT64_C(0x1)
#define X86_XCR0_SSE UINT64_C(0x2)

/* The layout facts nub's page-table code and its walkers rely on. */
_Static_assert(X86_PT_ENTRIES * 8u == X86_PAGE_SIZE, "a page table fills exactly one page");
_Static_assert((X86_PTE_ADDR & (X86_PAGE_SIZE - 1)) == 0, "table addresses are page aligned");
_Static_assert((X86_PTE_ADDR & X86_PTE_NX) == 0, "NX is not an address bit");
_Static_assert(X86_LARGE_PAGE_SIZE == X86_PAGE_SIZE * X86_PT_ENTRIES, "a PDE maps 512 pages");
_Static_assert(X86_HUGE_PAGE_SIZE == X86_LARGE_PAGE_SIZE * X86_PT_ENTRIES, "a PDPTE maps 512 PDEs");
_Static_assert((X86_EFER_LME | X86_EFER_LMA) == UINT64_C(0x500), "long mode bits");
_Static_assert((X86_APIC_BASE_ADDR_DEFAULT | X86_APIC_BASE_EN | X86_APIC_BASE_BSP) ==
		       UINT64_C(0xFEE00900),
	       "IA32_APIC_BASE after reset on the bootstrap processor");

#endif
