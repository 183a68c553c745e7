/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue of malformed and valid snapshot files; see snapshot_variants.h. */
#include "snapshot_variants.h"

#include <string.h>

#include "bytes.h"

const struct nub_layout_params snap_fixture_params = {
	.image_end = SNAP_FIX_IMAGE_END,
	.heap_size = 0x4000,
	.init_data_size = 0x1801,
	.input_size = 0x2000,
	.output_size = 0x2000,
	.stack_size = 0x2000,
};

const uint32_t snap_variants_fns[3] = { 9, 1, 3 };

void snap_variants_vcpu(struct nub_vcpu_state *v, const struct nub_layout *l)
{
	snap_fixture_vcpu(v, l);
	v->tr.base = 0x20000;
	v->cr2 = 0xdeadb000;
	v->cr3 = SNAP_FIX_PT_ROOT;
	for (unsigned i = 0; i < 256; i++)
		v->fpu[152 + i] = (uint8_t)(i * 3 + 1); /* xmm[16][16] */
	v->dr[0] = 0x4000;
	v->dr[1] = 0x5000;
	v->dr[2] = 0xffff800000000000ull;
	v->kernel_gs_base = 0xffff800000002000ull;
}

void snap_variants_fill(uint8_t *m, uint64_t size)
{
	const size_t page = NUB_PAGE_SIZE;

	(void)size;
	for (unsigned i = 0; i < 2 * page; i++)
		m[i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < 2 * page; i++)
		m[3 * page + i] = (uint8_t)(i * 13 + 5);
	m[8 * page - 1] = 0xab; /* the only byte of page 7: the zero test must see the last byte */
	memset(m + 10 * page, 0, page); /* pages 10 and 12 are written but zero: no runs */
	memset(m + 12 * page, 0, page);
	for (unsigned i = 0; i < page; i++)
		m[31 * page + i] = (uint8_t)(i ^ 0x5a);
	m[37 * page] = 1;
}

void snap_variant_apply(uint8_t *b, size_t len, const struct snap_variant *v)
{
	size_t at = v->section == SNAP_ABS ? 0 : snap_section_offset(b, len, v->section);
	uint8_t *p = b + at + v->offset;
	uint64_t value = v->value, old = 0;

	for (unsigned i = 0; i < v->width; i++)
		old |= (uint64_t)p[i] << (8 * i);
	if (v->patch == SNAP_PATCH_ADD)
		value += old;
	else if (v->patch == SNAP_PATCH_FILE_LEN)
		value = len;
	for (unsigned i = 0; i < v->width; i++)
		p[i] = (uint8_t)(value >> (8 * i));
	if (!v->keep_crc)
		snap_fix_crc(b, len);
}

/* One row per line, and macros whose bodies are braced lists: kept as written. */
/* clang-format off */
#define SNAP NUB_E_SNAPSHOT
/* A row: (w_) bytes at (off_) of section (sec_), set to (v_), or increased by it (PADD). */
#define P(sec_, off_, w_, v_, st_, msg_) \
	{ #sec_ " " #off_ " = " #v_, NULL, sec_, off_, w_, SNAP_PATCH_SET, v_, false, st_, msg_ }
#define PADD(sec_, off_, w_, v_, st_, msg_) \
	{ #sec_ " " #off_ " += " #v_, NULL, sec_, off_, w_, SNAP_PATCH_ADD, v_, false, st_, msg_ }
/* The checksum left stale. */
#define PRAW(sec_, off_, w_, v_, st_, msg_)                                                  \
	{ #sec_ " " #off_ " = " #v_ " (stale crc)", NULL, sec_, off_, w_, SNAP_PATCH_SET, v_, \
	  true, st_, msg_ }
/* Rows that are also fuzz_snapshot_file's seed-<seed_>; SLEN sets the field to the file length. */
#define S(seed_, sec_, off_, w_, v_, st_, msg_) \
	{ #sec_ " " #off_ " = " #v_, seed_, sec_, off_, w_, SNAP_PATCH_SET, v_, false, st_, msg_ }
#define SADD(seed_, sec_, off_, w_, v_, st_, msg_) \
	{ #sec_ " " #off_ " += " #v_, seed_, sec_, off_, w_, SNAP_PATCH_ADD, v_, false, st_, msg_ }
#define SLEN(seed_, sec_, off_, w_, st_, msg_)                                                \
	{ #sec_ " " #off_ " = the file length", seed_, sec_, off_, w_, SNAP_PATCH_FILE_LEN, 0, \
	  false, st_, msg_ }

const struct snap_variant snap_variants[] = {
	/* header */
	S("bad-magic", SNAP_ABS, SNAP_HDR_MAGIC, 1, 'X', SNAP, "snapshot: header.magic 0x585542534e415000 is not \"NUBSNAP\\0\""),
	P(SNAP_ABS, SNAP_HDR_MAGIC + 7, 1, 1, SNAP, "header.magic 0x4e5542534e415001"),
	S("format-version-2", SNAP_ABS, SNAP_HDR_VERSION, 4, 2, SNAP, "snapshot: header.format_version 2 is not 1"),
	P(SNAP_ABS, SNAP_HDR_VERSION, 4, 0, SNAP, "snapshot: header.format_version 0 is not 1"),
	P(SNAP_ABS, SNAP_HDR_ABI, 4, 7, NUB_E_ABI, "snapshot ABI version 7 does not match host ABI version 1"),
	P(SNAP_ABS, SNAP_HDR_SIZE, 4, 24, SNAP, "snapshot: header.header_size 0x18 is not 0x20"),
	P(SNAP_ABS, SNAP_HDR_SIZE, 4, 0xffffffff, SNAP, "snapshot: header.header_size 0xffffffff is not 0x20"),
	P(SNAP_ABS, SNAP_HDR_FILE_SIZE, 8, 0xffffffffffffffffull, SNAP, "snapshot: header.file_size 0xffffffffffffffff does not match the file length 0x749c"),
	PADD(SNAP_ABS, SNAP_HDR_FILE_SIZE, 8, 1, SNAP, "snapshot: header.file_size 0x749d does not match the file length 0x749c"),
	S("section-count-0", SNAP_ABS, SNAP_HDR_COUNT, 4, 0, SNAP, "snapshot: header.section_count 0 is outside 1..16"),
	S("section-count-17", SNAP_ABS, SNAP_HDR_COUNT, 4, 17, SNAP, "snapshot: header.section_count 17 is outside 1..16"),
	P(SNAP_ABS, SNAP_HDR_COUNT, 4, 0xffffffff, SNAP, "snapshot: header.section_count 4294967295 is outside 1..16"),
	P(SNAP_ABS, SNAP_HDR_COUNT, 4, 3, SNAP, "snapshot: required section MEMORY (type 4) is missing"),
	P(SNAP_ABS, SNAP_HDR_COUNT, 4, 5, SNAP, "snapshot: section[0] (LAYOUT) at 0x80 overlaps the header and section table, which end " "at 0x98"),
	/* section table */
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_TYPE, 4, 9, SNAP, "snapshot: section[0].type 9 is unknown"),
	P(SNAP_ABS, SNAP_ENTRY(2) + SNAP_E_TYPE, 4, 0, SNAP, "snapshot: section[2].type 0 is unknown"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_RESERVED, 4, 1, SNAP, "snapshot: section[0].reserved 0x1 is not zero"),
	P(SNAP_ABS, SNAP_ENTRY(1) + SNAP_E_TYPE, 4, SNAP_LAYOUT, SNAP, "snapshot: section[1] duplicates the LAYOUT section[0]"),
	P(SNAP_ABS, SNAP_ENTRY(3) + SNAP_E_TYPE, 4, SNAP_FNS, SNAP, "snapshot: section[3] duplicates the FNS section[2]"),
	S("section-layout-length-40", SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_LENGTH, 8, 40, SNAP, "snapshot: section[0] (LAYOUT) length 0x28 is not 0x30"),
	P(SNAP_ABS, SNAP_ENTRY(1) + SNAP_E_LENGTH, 8, 895, SNAP, "snapshot: section[1] (VCPU) length 0x37f is not 0x380"),
	P(SNAP_ABS, SNAP_ENTRY(2) + SNAP_E_LENGTH, 8, 3, SNAP, "snapshot: section[2] (FNS) length 0x3 is below 0x4"),
	P(SNAP_ABS, SNAP_ENTRY(3) + SNAP_E_LENGTH, 8, 7, SNAP, "snapshot: section[3] (MEMORY) length 0x7 is below 0x8"),
	P(SNAP_ABS, SNAP_ENTRY(3) + SNAP_E_OFFSET, 8, 0xfffffffffffffff0ull, SNAP, "snapshot: section[3] (MEMORY) offset 0xfffffffffffffff0 + length 0x7058 overflows"),
	P(SNAP_ABS, SNAP_ENTRY(3) + SNAP_E_LENGTH, 8, 0xffffffffffffffffull, SNAP, "snapshot: section[3] (MEMORY) offset 0x440 + length 0xffffffffffffffff overflows"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_OFFSET, 8, 0xffffffffffffffd0ull, SNAP, "snapshot: section[0] (LAYOUT) offset 0xffffffffffffffd0 + length 0x30 overflows"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_OFFSET, 8, 0xffffffffffffff00ull, SNAP, "snapshot: section[0] (LAYOUT) ends at 0xffffffffffffff30, past the trailer at 0x7498"),
	PADD(SNAP_ABS, SNAP_ENTRY(3) + SNAP_E_LENGTH, 8, 1, SNAP, "snapshot: section[3] (MEMORY) ends at 0x7499, past the trailer at 0x7498"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_OFFSET, 8, 0x7498 - 0x2f, SNAP, "snapshot: section[0] (LAYOUT) ends at 0x7499, past the trailer at 0x7498"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_OFFSET, 8, 0x64, SNAP, "snapshot: section[0] (LAYOUT) at 0x64 overlaps the header and section table, which end " "at 0x80"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_OFFSET, 8, 0, SNAP, "section[0] (LAYOUT) at 0x0 overlaps the header"),
	S("sections-overlap", SNAP_ABS, SNAP_ENTRY(1) + SNAP_E_OFFSET, 8, SNAP_FIX_OFF_LAYOUT + 8, SNAP, "snapshot: section[1] (VCPU) [0x88, 0x408) overlaps section[0] (LAYOUT) [0x80, 0xb0)"),
	P(SNAP_ABS, SNAP_ENTRY(0) + SNAP_E_OFFSET, 8, SNAP_FIX_OFF_FNS + 8, SNAP, "snapshot: section[0] (LAYOUT) [0x438, 0x468) overlaps section[2] (FNS) [0x430, 0x440)"),
	P(SNAP_ABS, SNAP_ENTRY(2) + SNAP_E_OFFSET, 8, SNAP_FIX_OFF_VCPU, SNAP, "snapshot: section[2] (FNS) [0xb0, 0xc0) overlaps section[1] (VCPU) [0xb0, 0x430)"),
	/* checksum */
	PRAW(SNAP_MEMORY, 100, 1, 0x77, SNAP, "does not match the computed 0x"),
	PRAW(SNAP_ABS, SNAP_FIX_FILE_LEN - 4, 4, 0x12345678, SNAP, "snapshot: checksum 0x12345678 does not match the computed 0x"),
	/* layout */
	P(SNAP_LAYOUT, SNAP_L_IMAGE_END, 8, 0x10001, SNAP, "snapshot: layout.image_end 0x10001 is not page-aligned"),
	P(SNAP_LAYOUT, SNAP_L_IMAGE_END, 8, 0x4000, SNAP, "snapshot: layout.image_end 0x4000 is outside (0x4000, 0x10000000]"),
	P(SNAP_LAYOUT, SNAP_L_IMAGE_END, 8, 0, SNAP, "snapshot: layout.image_end 0x0 is outside (0x4000, 0x10000000]"),
	P(SNAP_LAYOUT, SNAP_L_IMAGE_END, 8, 0x10001000, SNAP, "snapshot: layout.image_end 0x10001000 is outside (0x4000, 0x10000000]"),
	P(SNAP_LAYOUT, SNAP_L_IMAGE_END, 8, 0xfffffffffffff000ull, SNAP, "layout.image_end 0xfffffffffffff000 is outside"),
	P(SNAP_LAYOUT, SNAP_L_HEAP, 8, 0x40001000, SNAP, "snapshot: layout.heap_size 0x40001000 is outside 0x0..0x40000000"),
	P(SNAP_LAYOUT, SNAP_L_HEAP, 8, 0xfffffffffffff000ull, SNAP, "snapshot: layout.heap_size 0xfffffffffffff000 is outside 0x0..0x40000000"),
	P(SNAP_LAYOUT, SNAP_L_HEAP, 8, 0x4001, SNAP, "snapshot: layout.heap_size 0x4001 is not page-aligned"),
	S("layout-input-too-small", SNAP_LAYOUT, SNAP_L_INPUT, 8, 0x1000, SNAP, "snapshot: layout.input_size 0x1000 is outside 0x2000..0x1000000"),
	P(SNAP_LAYOUT, SNAP_L_INPUT, 8, 0x2800, SNAP, "snapshot: layout.input_size 0x2800 is not page-aligned"),
	P(SNAP_LAYOUT, SNAP_L_OUTPUT, 8, 0x1001000, SNAP, "snapshot: layout.output_size 0x1001000 is outside 0x2000..0x1000000"),
	P(SNAP_LAYOUT, SNAP_L_OUTPUT, 8, 0, SNAP, "snapshot: layout.output_size 0x0 is outside 0x2000..0x1000000"),
	P(SNAP_LAYOUT, SNAP_L_STACK, 8, 0x1000, SNAP, "snapshot: layout.stack_size 0x1000 is outside 0x2000..0x1000000"),
	P(SNAP_LAYOUT, SNAP_L_STACK, 8, 0xffffffffffffffffull, SNAP, "snapshot: layout.stack_size 0xffffffffffffffff is outside 0x2000..0x1000000"),
	P(SNAP_LAYOUT, SNAP_L_INIT_DATA, 8, 0xffffffffffffffffull, SNAP, "snapshot: layout is invalid: layout.init_data_size 0xffffffffffffffff overflows when " "rounded up to a page"),
	P(SNAP_LAYOUT, SNAP_L_INIT_DATA, 8, 0x7fff0000, SNAP, "snapshot: layout is invalid: layout: primary region of 0x"),
	/* vcpu: segments */
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_PRESENT), 1, 0, SNAP, "snapshot: vcpu.cs.present 0 is not 1"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_UNUSABLE), 1, 1, SNAP, "snapshot: vcpu.cs.unusable 1 is not 0"),
	S("vcpu-cs-not-long-mode", SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_L), 1, 0, SNAP, "snapshot: vcpu.cs.l 0 is not 1 (64-bit code)"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_DB), 1, 1, SNAP, "snapshot: vcpu.cs.db 1 is not 0 (64-bit code)"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_S), 1, 0, SNAP, "snapshot: vcpu.cs.s 0 is not 1 (code or data)"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_TYPE), 1, 3, SNAP, "snapshot: vcpu.cs.type 0x3 is not a code segment"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_DPL), 1, 3, SNAP, "snapshot: vcpu.cs.dpl 3 is not 0"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_L), 1, 2, SNAP, "snapshot: vcpu.cs.l 2 is not 0 or 1"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_SS, SNAP_S_DPL), 1, 3, SNAP, "snapshot: vcpu.ss.dpl 3 is not 0"),
	S("vcpu-tr-not-busy-tss", SNAP_VCPU, SNAP_V_SEGF(SNAP_TR, SNAP_S_TYPE), 1, 9, SNAP, "snapshot: vcpu.tr.type 0x9 is not 11 (busy 64-bit TSS)"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_TR, SNAP_S_PRESENT), 1, 0, SNAP, "snapshot: vcpu.tr.present 0 is not 1"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_TR, SNAP_S_UNUSABLE), 1, 1, SNAP, "snapshot: vcpu.tr.unusable 1 is not 0"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_TR, SNAP_S_S), 1, 1, SNAP, "snapshot: vcpu.tr.s 1 is not 0 (system segment)"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_DS, SNAP_S_G), 1, 2, SNAP, "snapshot: vcpu.ds.g 2 is not 0 or 1"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_DS, SNAP_S_TYPE), 1, 16, SNAP, "snapshot: vcpu.ds.type 16 exceeds 15"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_ES, SNAP_S_DPL), 1, 4, SNAP, "snapshot: vcpu.es.dpl 4 exceeds 3"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_LDT, SNAP_S_AVL), 1, 0xff, SNAP, "snapshot: vcpu.ldt.avl 255 is not 0 or 1"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_GS, SNAP_S_PRESENT), 1, 7, SNAP, "snapshot: vcpu.gs.present 7 is not 0 or 1"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_SS, SNAP_S_UNUSABLE), 1, 2, SNAP, "snapshot: vcpu.ss.unusable 2 is not 0 or 1"),
	S("vcpu-segment-reserved", SNAP_VCPU, SNAP_V_SEGF(SNAP_DS, SNAP_S_RESERVED), 1, 1, SNAP, "snapshot: vcpu.ds.reserved 0x1 is not zero"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_FS, SNAP_S_BASE), 8, 0x800000000000ull, SNAP, "snapshot: vcpu.fs.base 0x800000000000 is not canonical"),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_TR, SNAP_S_BASE), 8, 0xfff0000000000000ull, SNAP, "snapshot: vcpu.tr.base 0xfff0000000000000 is not canonical"),
	S("vcpu-gdt-base-noncanonical", SNAP_VCPU, SNAP_V_GDT_BASE, 8, 0x0000800000000000ull, SNAP, "snapshot: vcpu.gdt_base 0x800000000000 is not canonical"),
	P(SNAP_VCPU, SNAP_V_IDT_BASE, 8, 0xffff7fffffffffffull, SNAP, "snapshot: vcpu.idt_base 0xffff7fffffffffff is not canonical"),
	P(SNAP_VCPU, SNAP_V_RESERVED, 4, 1, SNAP, "snapshot: vcpu.reserved 0x1 is not zero"),
	/* vcpu: control registers */
	P(SNAP_VCPU, SNAP_V_CR0, 8, 0x80050032, SNAP, "snapshot: vcpu.cr0 0x80050032 lacks PE"),
	S("vcpu-cr0-no-paging", SNAP_VCPU, SNAP_V_CR0, 8, 0x00050033, SNAP, "snapshot: vcpu.cr0 0x50033 lacks PG"),
	P(SNAP_VCPU, SNAP_V_CR0, 8, 0xa0050033, SNAP, "snapshot: vcpu.cr0 0xa0050033 has NW without CD"),
	P(SNAP_VCPU, SNAP_V_CR0, 8, 0x80050073, SNAP, "snapshot: vcpu.cr0 0x80050073 has reserved bits 0x40"),
	P(SNAP_VCPU, SNAP_V_CR0, 8, 0x180050033ull, SNAP, "snapshot: vcpu.cr0 0x180050033 has reserved bits 0x100000000"),
	P(SNAP_VCPU, SNAP_V_CR4, 8, 0x600, SNAP, "snapshot: vcpu.cr4 0x600 lacks PAE"),
	S("vcpu-cr4-la57", SNAP_VCPU, SNAP_V_CR4, 8, 0x1620, SNAP, "snapshot: vcpu.cr4 0x1620 has unsupported bits 0x1000"), /* LA57 */ P(SNAP_VCPU, SNAP_V_CR4, 8, 0x2620, SNAP, "snapshot: vcpu.cr4 0x2620 has unsupported bits 0x2000"), /* VMXE */ P(SNAP_VCPU, SNAP_V_CR4, 8, 0x4620, SNAP, "snapshot: vcpu.cr4 0x4620 has unsupported bits 0x4000"), /* SMXE */ P(SNAP_VCPU, SNAP_V_CR4, 8, 0x400620, SNAP, "snapshot: vcpu.cr4 0x400620 has unsupported bits 0x400000"), /* PKE */ P(SNAP_VCPU, SNAP_V_CR4, 8, 0x800620, SNAP, "snapshot: vcpu.cr4 0x800620 has unsupported bits 0x800000"), /* CET */ P(SNAP_VCPU, SNAP_V_CR4, 8, 0x20620, SNAP, "snapshot: vcpu.cr4 0x20620 has unsupported bits 0x20000"), /* PCIDE */ P(SNAP_VCPU, SNAP_V_EFER, 8, 0x901, SNAP, "snapshot: vcpu.efer 0x901 does not have both LME and LMA"),
	P(SNAP_VCPU, SNAP_V_EFER, 8, 0x401, SNAP, "snapshot: vcpu.efer 0x401 does not have both LME and LMA"),
	P(SNAP_VCPU, SNAP_V_EFER, 8, 0xd03, SNAP, "snapshot: vcpu.efer 0xd03 has unsupported bits 0x2"),
	P(SNAP_VCPU, SNAP_V_EFER, 8, 0x1d01, SNAP, "snapshot: vcpu.efer 0x1d01 has unsupported bits 0x1000"), /* SVME */ SADD("vcpu-cr3-unaligned", SNAP_VCPU, SNAP_V_CR3, 8, 8, SNAP, "snapshot: vcpu.cr3 0x1d008 is not page-aligned"),
	P(SNAP_VCPU, SNAP_V_CR3, 8, 0x2000, SNAP, "snapshot: vcpu.cr3 0x2000 is outside the primary [0x4000, 0x1e000) and scratch " "[0xfffff4000, 0x1000000000) regions"),
	P(SNAP_VCPU, SNAP_V_CR3, 8, SNAP_FIX_PRIMARY_END, SNAP, "snapshot: vcpu.cr3 0x1e000 is outside the primary"),
	P(SNAP_VCPU, SNAP_V_CR3, 8, 0x1000000000ull, SNAP, "snapshot: vcpu.cr3 0x1000000000 is outside the primary"),
	P(SNAP_VCPU, SNAP_V_CR8, 8, 16, SNAP, "snapshot: vcpu.cr8 0x10 exceeds 15"),
	/* vcpu: rip, rsp, rflags */
	P(SNAP_VCPU, SNAP_V_RIP, 8, SNAP_FIX_IMAGE_END, SNAP, "snapshot: vcpu.rip 0x10000 is outside the image [0x4000, 0x10000)"),
	P(SNAP_VCPU, SNAP_V_RIP, 8, 0x3fff, SNAP, "snapshot: vcpu.rip 0x3fff is outside the image [0x4000, 0x10000)"),
	P(SNAP_VCPU, SNAP_V_RIP, 8, 0xffff800000004000ull, SNAP, "snapshot: vcpu.rip 0xffff800000004000 is outside the image"),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_STACK_GPA - 8, SNAP, "snapshot: vcpu.rsp 0xfffff8ff8 is outside the stack [0xfffff9000, 0xfffffb000] and the " "exception stack [0xfffffc000, 0xfffffe000]"),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_STACK_TOP + 8, SNAP, "snapshot: vcpu.rsp 0xfffffb008 is outside the stack"),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_EXC_TOP + 8, SNAP, "snapshot: vcpu.rsp 0xfffffe008 is outside the stack"),
	P(SNAP_VCPU, SNAP_V_RSP, 8, 0, SNAP, "snapshot: vcpu.rsp 0x0 is outside the stack"),
	P(SNAP_VCPU, SNAP_V_RFLAGS, 8, 0, SNAP, "snapshot: vcpu.rflags 0x0 lacks the reserved-one bit 1"),
	P(SNAP_VCPU, SNAP_V_RFLAGS, 8, 0x20002, SNAP, "snapshot: vcpu.rflags 0x20002 has reserved or VM bits 0x20000"),
	P(SNAP_VCPU, SNAP_V_RFLAGS, 8, 0x400002, SNAP, "snapshot: vcpu.rflags 0x400002 has reserved or VM bits 0x400000"),
	P(SNAP_VCPU, SNAP_V_RFLAGS, 8, 0x802a, SNAP, "snapshot: vcpu.rflags 0x802a has reserved or VM bits 0x8028"),
	P(SNAP_VCPU, SNAP_V_RFLAGS, 8, 0x8000000000000002ull, SNAP, "has reserved or VM bits 0x8000000000000000"),
	/* vcpu: APIC base, fpu, debug registers, MSRs */
	S("vcpu-apic-x2apic", SNAP_VCPU, SNAP_V_APIC, 8, 0xfee00d00, SNAP, "snapshot: vcpu.apic_base 0xfee00d00 enables x2APIC mode (bit 10)"),
	P(SNAP_VCPU, SNAP_V_APIC, 8, 0xfee00901, SNAP, "snapshot: vcpu.apic_base 0xfee00901 has reserved bits 0x1"),
	P(SNAP_VCPU, SNAP_V_APIC, 8, 0xfee00b00, SNAP, "snapshot: vcpu.apic_base 0xfee00b00 has reserved bits 0x200"),
	P(SNAP_VCPU, SNAP_V_APIC, 8, 0x10fee00900ull, SNAP, "snapshot: vcpu.apic_base 0x10fee00900 has reserved bits 0x1000000000"),
	P(SNAP_VCPU, SNAP_V_MXCSR, 4, 0x11f80, SNAP, "snapshot: vcpu.fpu.mxcsr 0x11f80 has reserved bits 16-31 set"),
	P(SNAP_VCPU, SNAP_V_MXCSR, 4, 0xffff1f80, SNAP, "snapshot: vcpu.fpu.mxcsr 0xffff1f80 has reserved bits 16-31 set"),
	P(SNAP_VCPU, SNAP_V_DR(1), 8, 0x800000000000ull, SNAP, "snapshot: vcpu.dr[1] 0x800000000000 is not canonical"),
	P(SNAP_VCPU, SNAP_V_DR(3), 8, 0x7fff000000000000ull, SNAP, "snapshot: vcpu.dr[3] 0x7fff000000000000 is not canonical"),
	P(SNAP_VCPU, SNAP_V_DR6, 8, 0x1ffff0ff0ull, SNAP, "snapshot: vcpu.dr6 0x1ffff0ff0 has upper 32 bits set"),
	P(SNAP_VCPU, SNAP_V_DR7, 8, 0x100000400ull, SNAP, "snapshot: vcpu.dr7 0x100000400 has upper 32 bits set"),
	P(SNAP_VCPU, SNAP_V_DR6, 8, 0xfffe0ff0, SNAP, "snapshot: vcpu.dr6 0xfffe0ff0 has fixed bits wrong: bits 4-11 and 16-31 read as one, " "bit 12 as zero"),
	P(SNAP_VCPU, SNAP_V_DR6, 8, 0xffff1ff0, SNAP, "snapshot: vcpu.dr6 0xffff1ff0 has fixed bits wrong: bits 4-11 and 16-31 read as one, " "bit 12 as zero"),
	P(SNAP_VCPU, SNAP_V_DR6, 8, 0, SNAP, "snapshot: vcpu.dr6 0x0 has fixed bits wrong: bits 4-11 and 16-31 read as one, bit 12 " "as zero"),
	P(SNAP_VCPU, SNAP_V_DR7, 8, 0, SNAP, "snapshot: vcpu.dr7 0x0 has fixed bits wrong: bit 10 reads as one, bits 12, 14 and 15 " "as zero"),
	P(SNAP_VCPU, SNAP_V_DR7, 8, 0xffffffff, SNAP, "snapshot: vcpu.dr7 0xffffffff has fixed bits wrong: bit 10 reads as one, bits 12, 14 " "and 15 as zero"),
	P(SNAP_VCPU, SNAP_V_KGS, 8, 0x0000900000000000ull, SNAP, "snapshot: vcpu.kernel_gs_base 0x900000000000 is not canonical"),
	P(SNAP_VCPU, SNAP_V_XCR0, 8, 3, SNAP, "snapshot: vcpu.xcr0 0x3 is not 0x1 (x87 only)"),
	P(SNAP_VCPU, SNAP_V_XCR0, 8, 0, SNAP, "snapshot: vcpu.xcr0 0x0 is not 0x1 (x87 only)"),
	P(SNAP_VCPU, SNAP_V_XCR0, 8, 0xe7, SNAP, "snapshot: vcpu.xcr0 0xe7 is not 0x1 (x87 only)"),
	/* fns */
	S("fns-count-too-large", SNAP_FNS, 0, 4, 65537, SNAP, "snapshot: fns.count 65537 exceeds the limit 65536"),
	P(SNAP_FNS, 0, 4, 0xffffffff, SNAP, "snapshot: fns.count 4294967295 exceeds the limit 65536"),
	P(SNAP_FNS, 0, 4, 4, SNAP, "snapshot: fns section length 0x10 does not match count 4 (0x14 bytes)"),
	P(SNAP_FNS, 0, 4, 2, SNAP, "snapshot: fns section length 0x10 does not match count 2 (0xc bytes)"),
	S("fns-not-increasing", SNAP_FNS, 8, 4, 1, SNAP, "snapshot: fns.fn_id[1] 1 is not greater than fn_id[0] 1"),
	P(SNAP_FNS, 12, 4, 2, SNAP, "snapshot: fns.fn_id[2] 2 is not greater than fn_id[1] 3"),
	P(SNAP_FNS, 4, 4, 0xffffffff, SNAP, "snapshot: fns.fn_id[1] 3 is not greater than fn_id[0] 4294967295"),
	/* memory */
	S("memory-reserved-set", SNAP_MEMORY, SNAP_M_RESERVED, 4, 1, SNAP, "snapshot: memory.reserved 0x1 is not zero"),
	P(SNAP_MEMORY, SNAP_M_COUNT, 4, 0xffffffff, SNAP, "snapshot: memory.run_count 4294967295 needs 0xffffffff8 bytes of run table, the " "section holds 0x7058"),
	P(SNAP_MEMORY, SNAP_M_COUNT, 4, 4, SNAP, "snapshot: memory data of 0x7010 bytes does not match the 0x6000 bytes the runs cover"),
	P(SNAP_MEMORY, SNAP_M_COUNT, 4, 6, SNAP, "snapshot: memory.run[5].offset 0x"),
	P(SNAP_MEMORY, SNAP_M_COUNT, 4, 0, SNAP, "snapshot: memory data of 0x7050 bytes does not match the 0x0 bytes the runs cover"),
	P(SNAP_MEMORY, SNAP_M_RUN(1) + SNAP_R_OFFSET, 8, 0x3001, SNAP, "snapshot: memory.run[1].offset 0x3001 is not page-aligned"),
	P(SNAP_MEMORY, SNAP_M_RUN(1) + SNAP_R_PAGES, 8, 0, SNAP, "snapshot: memory.run[1].page_count is 0"),
	P(SNAP_MEMORY, SNAP_M_RUN(4) + SNAP_R_PAGES, 8, 0xffffffffffffffffull, SNAP, "snapshot: memory.run[4] offset 0x25000 + 0xffffffffffffffff pages overflows"),
	P(SNAP_MEMORY, SNAP_M_RUN(4) + SNAP_R_PAGES, 8, 0x10000000000000ull, SNAP, "snapshot: memory.run[4] offset 0x25000 + 0x10000000000000 pages overflows"),
	P(SNAP_MEMORY, SNAP_M_RUN(4) + SNAP_R_OFFSET, 8, 0xfffffffffffff000ull, SNAP, "snapshot: memory.run[4] offset 0xfffffffffffff000 + 0x1 pages overflows"),
	P(SNAP_MEMORY, SNAP_M_RUN(4) + SNAP_R_PAGES, 8, 2, SNAP, "snapshot: memory.run[4] [0x25000, 0x27000) runs past the memory size 0x26000"),
	P(SNAP_MEMORY, SNAP_M_RUN(4) + SNAP_R_OFFSET, 8, SNAP_FIX_MEM_SIZE, SNAP, "snapshot: memory.run[4] [0x26000, 0x27000) runs past the memory size 0x26000"),
	P(SNAP_MEMORY, SNAP_M_RUN(1) + SNAP_R_OFFSET, 8, 0x1000, SNAP, "snapshot: memory.run[1].offset 0x1000 is below the end 0x2000 of run[0] (runs must be " "sorted and disjoint)"),
	S("memory-runs-overlap", SNAP_MEMORY, SNAP_M_RUN(1) + SNAP_R_OFFSET, 8, 0, SNAP, "snapshot: memory.run[1].offset 0x0 is below the end 0x2000 of run[0]"),
	P(SNAP_MEMORY, SNAP_M_RUN(3) + SNAP_R_OFFSET, 8, 0x6000, SNAP, "snapshot: memory.run[3].offset 0x6000 is below the end 0x8000 of run[2]"),
	P(SNAP_MEMORY, SNAP_M_RUN(0) + SNAP_R_OFFSET, 8, 0x4000, SNAP, "snapshot: memory.run[1].offset 0x3000 is below the end 0x6000 of run[0]"),
	P(SNAP_MEMORY, SNAP_M_RUN(2) + SNAP_R_PAGES, 8, 2, SNAP, "snapshot: memory data of 0x7000 bytes does not match the 0x8000 bytes the runs cover"),
	/* more malformed fields, for the seeds */
	S("abi-version-other", SNAP_ABS, SNAP_HDR_ABI, 4, NUB_ABI_VERSION + 1, NUB_E_ABI, "snapshot ABI version 2 does not match host ABI version 1"),
	S("header-size-40", SNAP_ABS, SNAP_HDR_SIZE, 4, 40, SNAP, "snapshot: header.header_size 0x28 is not 0x20"),
	S("section-type-unknown", SNAP_ABS, SNAP_ENTRY(2) + SNAP_E_TYPE, 4, 9, SNAP, "snapshot: section[2].type 9 is unknown"),
	S("section-reserved-set", SNAP_ABS, SNAP_ENTRY(1) + SNAP_E_RESERVED, 4, 1, SNAP, "snapshot: section[1].reserved 0x1 is not zero"),
	S("section-duplicate-layout", SNAP_ABS, SNAP_ENTRY(2) + SNAP_E_TYPE, 4, SNAP_LAYOUT, SNAP, "snapshot: section[2] duplicates the LAYOUT section[0]"),
	SLEN("section-past-trailer", SNAP_ABS, SNAP_ENTRY(3) + SNAP_E_LENGTH, 8, SNAP, "snapshot: section[3] (MEMORY) ends at 0x78dc, past the trailer at 0x7498"),
	S("layout-image-end-unaligned", SNAP_LAYOUT, SNAP_L_IMAGE_END, 8, 0x10010, SNAP, "snapshot: layout.image_end 0x10010 is not page-aligned"),
	S("layout-heap-too-large", SNAP_LAYOUT, SNAP_L_HEAP, 8, 0x80000000ull, SNAP, "snapshot: layout.heap_size 0x80000000 is outside 0x0..0x40000000"),
	S("vcpu-efer-no-lma", SNAP_VCPU, SNAP_V_EFER, 8, 0x101, SNAP, "snapshot: vcpu.efer 0x101 does not have both LME and LMA"),
	S("vcpu-rip-outside-image", SNAP_VCPU, SNAP_V_RIP, 8, 0x20000, SNAP, "snapshot: vcpu.rip 0x20000 is outside the image [0x4000, 0x10000)"),
	S("vcpu-rsp-outside-stack", SNAP_VCPU, SNAP_V_RSP, 8, 0x8000, SNAP, "snapshot: vcpu.rsp 0x8000 is outside the stack [0xfffff9000, 0xfffffb000]"),
	S("vcpu-rflags-reserved-clear", SNAP_VCPU, SNAP_V_RFLAGS, 8, 0x244, SNAP, "snapshot: vcpu.rflags 0x244 lacks the reserved-one bit 1"),
	S("vcpu-xcr0-avx", SNAP_VCPU, SNAP_V_XCR0, 8, 7, SNAP, "snapshot: vcpu.xcr0 0x7 is not 0x1 (x87 only)"),
	S("memory-run-unaligned", SNAP_MEMORY, SNAP_M_RUN(0) + SNAP_R_OFFSET, 8, 0x10, SNAP, "snapshot: memory.run[0].offset 0x10 is not page-aligned"),
	S("memory-run-past-end", SNAP_MEMORY, SNAP_M_RUN(0) + SNAP_R_OFFSET, 8, 0x7fffffff000ull, SNAP, "snapshot: memory.run[0] [0x7fffffff000, 0x80000001000) runs past the memory size " "0x26000"),
	S("memory-run-count-high", SNAP_MEMORY, SNAP_M_COUNT, 4, 1000, SNAP, "snapshot: memory.run[5].offset 0x"),

	/* valid variants: each must decode */
	/* ss.dpl 3 is fine once ss is unusable: dpl 3, db, s, l 0, g, avl 0, unusable 1 */
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_SS, SNAP_S_DPL), 8, 0x0001000100010103ull, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_STACK_GPA, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_STACK_TOP, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_EXC_GPA, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RSP, 8, SNAP_FIX_EXC_TOP, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RIP, 8, NUB_PRIMARY_BASE, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RIP, 8, SNAP_FIX_IMAGE_END - 1, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR3, 8, NUB_PRIMARY_BASE, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR3, 8, SNAP_FIX_SCRATCH_GPA, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR3, 8, 0xfffffe000ull, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR0, 8, 0xe005003f, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR0, 8, 0xc0000001, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR4, 8, 0x3507ff, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR4, 8, 0x20, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_EFER, 8, 0x500, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_CR8, 8, 15, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_RFLAGS, 8, 0x3d7fd7, NUB_OK, NULL), /* every permitted bit */ P(SNAP_VCPU, SNAP_V_APIC, 8, 0xffffff000ull | 0x900, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_APIC, 8, 0, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_MXCSR, 4, 0xffff, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_DR7, 8, 0xffff2fff, NUB_OK, NULL), /* every bit that is not fixed */ P(SNAP_VCPU, SNAP_V_DR6, 8, 0xffffefff, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_DR(0), 8, 0x7fffffffffffull, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_KGS, 8, 0xffff800000000000ull, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_CS, SNAP_S_TYPE), 1, 15, NUB_OK, NULL),
	P(SNAP_VCPU, SNAP_V_SEGF(SNAP_LDT, SNAP_S_TYPE), 1, 15, NUB_OK, NULL),
	/* run[1] adjacent to run[0] */
	P(SNAP_MEMORY, SNAP_M_RUN(1) + SNAP_R_OFFSET, 8, 0x2000, NUB_OK, NULL),
};
/* clang-format on */

const size_t snap_variant_count = sizeof snap_variants / sizeof snap_variants[0];
