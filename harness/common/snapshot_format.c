/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot file format as the harness sees it; see snapshot_format.h. */
#include "snapshot_format.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "elf_file.h"
#include "nub/x86.h"
#include "nub_fuzz.h"

uint32_t snap_crc32c(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t crc = 0xffffffffu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
			table[i] = c;
		}
	for (size_t i = 0; i < n; i++)
		crc = (crc >> 8) ^ table[(crc ^ p[i]) & 0xff];
	return ~crc;
}

void snap_fix_crc(uint8_t *b, size_t len)
{
	nub_put_le32(b + len - 4, snap_crc32c(b, len - 4));
}

void snap_repair(uint8_t *b, size_t len)
{
	if (len >= SNAP_HEADER_SIZE)
		nub_put_le64(b + SNAP_HDR_FILE_SIZE, len);
	if (len >= 4)
		snap_fix_crc(b, len);
}

uint8_t *snap_repaired_copy(const uint8_t *data, size_t size)
{
	uint8_t *file = malloc(size ? size : 1);

	NUB_FUZZ_CHECK(file != NULL); /* the harness's own allocation */
	if (size)
		memcpy(file, data, size);
	snap_repair(file, size);
	return file;
}

size_t snap_section_offset(const uint8_t *b, size_t len, enum snap_section type)
{
	if (len < SNAP_HEADER_SIZE)
		return 0;
	uint32_t count = nub_le32(b + SNAP_HDR_COUNT);
	for (uint32_t i = 0; i < count && SNAP_ENTRY(i + 1) <= len; i++)
		if (nub_le32(b + SNAP_ENTRY(i) + SNAP_E_TYPE) == type)
			return (size_t)nub_le64(b + SNAP_ENTRY(i) + SNAP_E_OFFSET);
	return 0;
}

void snap_describe(const uint8_t *data, size_t len, FILE *out)
{
	static const char *const types[] = { "?", "LAYOUT", "VCPU", "FNS", "MEMORY" };

	fprintf(out, "  (file_size and the CRC-32C trailer are repaired before loading)\n");
	if (len < SNAP_HEADER_SIZE) {
		fprintf(out, "  %zu bytes: shorter than the 32-byte header\n", len);
		nub_fuzz_hexdump(out, data, len, 32);
		return;
	}
	fprintf(out, "  magic ");
	nub_fuzz_print_string(out, data, 8, 8);
	unsigned count = nub_le32(data + SNAP_HDR_COUNT);
	fprintf(out, ", format %u, abi %u, header_size %u, %u sections\n",
		nub_le32(data + SNAP_HDR_VERSION), nub_le32(data + SNAP_HDR_ABI),
		nub_le32(data + SNAP_HDR_SIZE), count);
	for (unsigned i = 0; i < count && i < 16; i++) {
		size_t at = SNAP_ENTRY(i);
		if (len < at + SNAP_ENTRY_SIZE) {
			fprintf(out, "  section[%u]: past the end of the file\n", i);
			break;
		}
		unsigned type = nub_le32(data + at + SNAP_E_TYPE);
		uint64_t off = nub_le64(data + at + SNAP_E_OFFSET);
		uint64_t n = nub_le64(data + at + SNAP_E_LENGTH);
		fprintf(out, "  section[%u] %s (type %u, reserved %u) at 0x%llx, 0x%llx bytes\n", i,
			type >= SNAP_LAYOUT && type <= SNAP_MEMORY ? types[type] : types[0], type,
			nub_le32(data + at + SNAP_E_RESERVED), (unsigned long long)off,
			(unsigned long long)n);
		if (off > len)
			continue;
		const uint8_t *s = data + off;
		if (type == SNAP_LAYOUT && n == SNAP_LAYOUT_SIZE && len - off >= SNAP_LAYOUT_SIZE)
			fprintf(out,
				"    image_end 0x%llx heap 0x%llx init_data 0x%llx "
				"input 0x%llx output 0x%llx stack 0x%llx\n",
				(unsigned long long)nub_le64(s + SNAP_L_IMAGE_END),
				(unsigned long long)nub_le64(s + SNAP_L_HEAP),
				(unsigned long long)nub_le64(s + SNAP_L_INIT_DATA),
				(unsigned long long)nub_le64(s + SNAP_L_INPUT),
				(unsigned long long)nub_le64(s + SNAP_L_OUTPUT),
				(unsigned long long)nub_le64(s + SNAP_L_STACK));
		if (type == SNAP_VCPU && n == SNAP_VCPU_SIZE && len - off >= SNAP_VCPU_SIZE)
			fprintf(out,
				"    rip 0x%llx rsp 0x%llx rflags 0x%llx cr0 0x%llx "
				"cr3 0x%llx cr4 0x%llx efer 0x%llx\n",
				(unsigned long long)nub_le64(s + SNAP_V_RIP),
				(unsigned long long)nub_le64(s + SNAP_V_RSP),
				(unsigned long long)nub_le64(s + SNAP_V_RFLAGS),
				(unsigned long long)nub_le64(s + SNAP_V_CR0),
				(unsigned long long)nub_le64(s + SNAP_V_CR3),
				(unsigned long long)nub_le64(s + SNAP_V_CR4),
				(unsigned long long)nub_le64(s + SNAP_V_EFER));
	}
}

static const char *segment_differs(const struct nub_segment *a, const struct nub_segment *b)
{
	if (a->base != b->base)
		return "base";
	if (a->limit != b->limit)
		return "limit";
	if (a->selector != b->selector)
		return "selector";
	if (a->type != b->type)
		return "type";
	if (a->present != b->present || a->dpl != b->dpl || a->db != b->db || a->s != b->s ||
	    a->l != b->l || a->g != b->g || a->avl != b->avl || a->unusable != b->unusable)
		return "flags";
	return NULL;
}

const char *snap_vcpu_differs(const struct nub_vcpu_state *a, const struct nub_vcpu_state *b)
{
	static const char *const seg_names[] = { "cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt" };
	const struct nub_segment *sa[] = { &a->cs, &a->ds, &a->es, &a->fs,
					   &a->gs, &a->ss, &a->tr, &a->ldt };
	const struct nub_segment *sb[] = { &b->cs, &b->ds, &b->es, &b->fs,
					   &b->gs, &b->ss, &b->tr, &b->ldt };
	static char name[32];

	if (memcmp(a->gpr, b->gpr, sizeof a->gpr) != 0)
		return "gpr";
	if (a->rip != b->rip || a->rflags != b->rflags)
		return "rip/rflags";
	for (unsigned i = 0; i < 8; i++) {
		const char *field = segment_differs(sa[i], sb[i]);
		if (field) {
			snprintf(name, sizeof name, "%s.%s", seg_names[i], field);
			return name;
		}
	}
	if (a->gdt_base != b->gdt_base || a->gdt_limit != b->gdt_limit ||
	    a->idt_base != b->idt_base || a->idt_limit != b->idt_limit)
		return "gdt/idt";
	if (a->cr0 != b->cr0 || a->cr2 != b->cr2 || a->cr3 != b->cr3 || a->cr4 != b->cr4 ||
	    a->cr8 != b->cr8 || a->efer != b->efer || a->apic_base != b->apic_base)
		return "control registers";
	if (memcmp(a->fpu, b->fpu, sizeof a->fpu) != 0)
		return "fpu";
	if (memcmp(a->dr, b->dr, sizeof a->dr) != 0 || a->dr6 != b->dr6 || a->dr7 != b->dr7)
		return "debug registers";
	if (a->kernel_gs_base != b->kernel_gs_base || a->xcr0 != b->xcr0)
		return "kernel_gs_base/xcr0";
	return NULL;
}

static struct nub_segment segment(uint64_t base, uint32_t limit, uint16_t sel, uint8_t type,
				  uint8_t present, uint8_t db, uint8_t s, uint8_t l, uint8_t g,
				  uint8_t unusable)
{
	struct nub_segment r;

	memset(&r, 0, sizeof r);
	r.base = base;
	r.limit = limit;
	r.selector = sel;
	r.type = type;
	r.present = present;
	r.db = db;
	r.s = s;
	r.l = l;
	r.g = g;
	r.unusable = unusable;
	return r;
}

void snap_fixture_vcpu(struct nub_vcpu_state *v, const struct nub_layout *l)
{
	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = 0x0101010101010101ull * (i + 1);
	v->gpr[6] = l->stack_gpa + l->stack_size - 0x18;
	v->rip = NUB_PRIMARY_BASE + 0x10;
	v->rflags = 0x246;
	v->cs = segment(0, 0xffffffff, X86_SEL_CODE64, X86_SEG_TYPE_CODE_RX_ACCESSED, 1, 0, 1, 1, 1,
			0);
	v->ds = segment(0, 0xffffffff, X86_SEL_DATA, X86_SEG_TYPE_DATA_RW_ACCESSED, 1, 1, 1, 0, 1,
			0);
	v->es = v->ds;
	v->ss = v->ds;
	v->fs = v->ds;
	v->fs.base = 0x12345000;
	v->gs = v->ds;
	v->gs.base = 0xffff800000001000ull;
	v->tr = segment(l->boot_info_gpa, 0x67, 0x18, X86_SEG_TYPE_TSS64_BUSY, 1, 0, 0, 0, 0, 0);
	v->ldt = segment(0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
	v->gdt_base = NUB_PRIMARY_BASE + 0x1000;
	v->gdt_limit = 0x27;
	v->idt_base = NUB_PRIMARY_BASE + 0x2000;
	v->idt_limit = 0xfff;
	v->cr0 = X86_CR0_PG | X86_CR0_AM | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET | X86_CR0_MP |
		 X86_CR0_PE;
	v->cr3 = l->page_tables_gpa;
	v->cr4 = X86_CR4_OSXMMEXCPT | X86_CR4_OSFXSR | X86_CR4_PAE;
	v->efer = X86_EFER_NXE | X86_EFER_LMA | X86_EFER_LME | X86_EFER_SCE;
	v->apic_base = 0xfee00900;
	nub_put_le32(v->fpu + 128, 0x37f);  /* fcw (a u16; fsw 0 follows) */
	nub_put_le32(v->fpu + 408, 0x1f80); /* mxcsr */
	v->dr6 = X86_DR6_FIXED_VALUE;
	v->dr7 = X86_DR7_FIXED_VALUE;
	v->xcr0 = NUB_XCR0_X87;
}

enum nub_status snap_fixture_file(const struct nub_layout_params *p, const uint32_t *fns,
				  uint32_t nfns, bool fill, struct nub_buf *file,
				  struct nub_error *err)
{
	struct nub_layout l;
	struct nub_vcpu_state v;
	struct nub_snapshot *snap = NULL;
	uint8_t *mem = NULL;
	enum nub_status st;

	memset(file, 0, sizeof *file);
	if ((st = nub_layout_compute(p, &l, err)) != NUB_OK)
		return st;
	snap_fixture_vcpu(&v, &l);
	if ((st = nub_snapshot_new(&l, &v, fns, nfns, NULL, &snap, &mem, err)) != NUB_OK)
		return st;
	if (fill) {
		memcpy(mem + 0x10, elf_halt_code, sizeof elf_halt_code); /* at the entry */
		for (unsigned i = 0; i < 2 * NUB_PAGE_SIZE; i++)
			mem[NUB_PAGE_SIZE + i] = (uint8_t)(i * 7 + 1);
		mem[l.primary_size - 1] = 0xab;
		mem[l.primary_size + (l.stack_gpa - l.scratch_gpa) + l.stack_size - 8] = 0x5a;
	}
	st = nub_snapshot_seal(snap, mem, err);
	if (st == NUB_OK)
		st = nub_snapshot_file_encode(snap, file, err);
	nub_snapshot_unref(snap);
	return st;
}
