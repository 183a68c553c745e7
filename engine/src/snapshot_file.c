/* SPDX-License-Identifier: Apache-2.0 */
/* The on-disk snapshot format: encode, decode with validation of every field, atomic save, load. */

/*
 * Format version 1 (engine/snapshot-format.md is the full description). All integers are
 * little-endian; offsets and lengths are in bytes from the start of the file.
 *
 *   header (32 bytes)
 *     0  u8[8] magic           "NUBSNAP\0"
 *     8  u32   format_version  1
 *    12  u32   abi_version     NUB_ABI_VERSION of the engine that wrote it
 *    16  u32   header_size     32
 *    20  u32   section_count   1..16 (the writer emits 4)
 *    24  u64   file_size       length of the whole file, trailer included
 *   section table at header_size: section_count entries of 24 bytes
 *     0  u32 type (1 LAYOUT, 2 VCPU, 3 FNS, 4 MEMORY)   4  u32 reserved, 0
 *     8  u64 offset                                        16 u64 length
 *   sections: anywhere after the table and before the trailer, in any order, never overlapping
 *   (the writer packs them in type order). LAYOUT, VCPU, FNS, MEMORY each appear exactly once.
 *   trailer: u32 CRC-32C (Castagnoli, reflected 0x82F63B78, init and final xor 0xFFFFFFFF) of
 *   every byte before it.
 *
 *   LAYOUT (48 bytes): u64 image_end, heap_size, init_data_size, input_size, output_size,
 *     stack_size: the struct nub_layout_params the loader recomputes the layout from.
 *   VCPU (896 bytes), struct nub_vcpu_state field by field:
 *       0 u64 gpr[16] (rax rbx rcx rdx rsi rdi rsp rbp r8..r15)   128 u64 rip   136 u64 rflags
 *     144 8 segments of 24 bytes, in the order cs ds es fs gs ss tr ldt, each:
 *           0 u64 base  8 u32 limit  12 u16 selector  14 u8 type  15 present  16 dpl  17 db
 *          18 s  19 l  20 g  21 avl  22 unusable  23 u8 reserved, 0
 *     336 u64 gdt_base  344 u64 idt_base  352 u16 gdt_limit  354 u16 idt_limit  356 u32 reserved, 0
 *     360 u64 cr0  368 cr2  376 cr3  384 cr4  392 cr8  400 efer  408 apic_base
 *     416 u8[416] fpu, the struct kvm_fpu image (fcw at fpu+128, mxcsr at fpu+408)
 *     832 u64 dr0 dr1 dr2 dr3  864 u64 dr6  872 u64 dr7  880 u64 kernel_gs_base  888 u64 xcr0
 *   FNS (4 + 4n bytes): u32 count n (<= NUB_SNAPSHOT_MAX_FNS), then n strictly increasing u32 fn_ids.
 *   MEMORY: u32 run_count, u32 reserved (0), run_count runs {u64 offset, u64 page_count}, then
 *     the bytes of every run in run order. Offsets are into the snapshot memory (primary region
 *     bytes, then scratch region bytes; mem_size = primary_size + scratch_size), page-aligned;
 *     runs are non-empty, sorted, disjoint (adjacent is allowed) and inside mem_size. Pages not
 *     covered are zero; the writer omits every all-zero page and merges neighbours into one run.
 *
 * Decoding checks, in order: the header, every table entry (type, ranges, overlaps), the checksum
 * (so no section content is interpreted before it passes), then LAYOUT (recomputed with
 * nub_layout_compute, never trusted), VCPU (check_vcpu: only long-mode CPL0 states KVM accepts),
 * FNS and MEMORY. Only then is anything allocated.
 */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "bytes.h"
#include "config.h"
#include "guest_elf.h"
#include "error.h"
#include "file.h"
#include "nub/x86.h"

#define MAGIC "NUBSNAP" /* with its NUL: 8 bytes */
#define MAGIC_SIZE 8u
#define FORMAT_VERSION 1u
#define HEADER_SIZE 32u
#define ENTRY_SIZE 24u
#define TRAILER_SIZE 4u
#define MAX_SECTIONS 16u
#define NSEG 8u
#define SEGMENT_SIZE 24u
#define LAYOUT_SIZE 48u
#define VCPU_SIZE 896u
#define FNS_MIN 4u
#define MEMORY_HEAD 8u
#define RUN_SIZE 16u
/* Largest file nub_snapshot_load reads: all memory the layout allows, plus room for metadata. */
#define MAX_FILE_SIZE (NUB_MAX_PRIMARY_SIZE + NUB_MAX_SCRATCH_SIZE + 0x4000000ull)

enum section_type { SEC_LAYOUT = 1, SEC_VCPU = 2, SEC_FNS = 3, SEC_MEMORY = 4, SEC_COUNT = 4 };

static const char *const section_names[SEC_COUNT + 1] = {
	[SEC_LAYOUT] = "LAYOUT",
	[SEC_VCPU] = "VCPU",
	[SEC_FNS] = "FNS",
	[SEC_MEMORY] = "MEMORY",
};

_Static_assert(sizeof MAGIC == MAGIC_SIZE, "the magic is 8 bytes with its NUL");
_Static_assert(HEADER_SIZE + SEC_COUNT * ENTRY_SIZE + LAYOUT_SIZE + VCPU_SIZE < 0x1000,
	       "the writer's metadata fits in a page");
/* The fpu blob has struct kvm_fpu's layout (NUB_FPU_*, snapshot.h; kvm/kvm.c checks it). */
_Static_assert(sizeof(((struct nub_vcpu_state *)0)->fpu) == NUB_FPU_SIZE, "vcpu fpu blob size");
_Static_assert(16 * 8 + 2 * 8 + NSEG * SEGMENT_SIZE + 2 * 8 + 2 * 2 + 4 + 7 * 8 + NUB_FPU_SIZE +
			       6 * 8 + 8 + 8 ==
		       VCPU_SIZE,
	       "VCPU section size");
/* A new field in struct nub_vcpu_state must be added to the VCPU section (and the version bumped). */
_Static_assert(
	sizeof(struct nub_vcpu_state) == 896,
	"struct nub_vcpu_state changed: update encode_vcpu, decode_vcpu, check_vcpu and the format");

/*
 * Architectural bits: nub/x86.h (Intel SDM vol. 3A §2.5 control registers, §2.2.1 EFER, §10.4.4
 * APIC base). What a snapshot may hold, built from them:
 * CR0: PE MP EM TS ET NE (0-5), WP (16), AM (18), NW (29), CD (30), PG (31).
 */
#define CR0_ALLOWED                                                                                \
	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET | X86_CR0_NE |             \
	 X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
/* VME..OSXMMEXCPT (0-10), FSGSBASE (16), OSXSAVE (18), SMEP (20), SMAP (21); no LA57, VMXE, PKE, CET. */
#define CR4_ALLOWED                                                                                \
	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE |        \
	 X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |           \
	 X86_CR4_FSGSBASE | X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP)
#define EFER_ALLOWED (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)
/* Reserved bits 3, 5, 15, 22-63, and VM (17): virtual-8086 mode cannot exist in long mode. */
#define RFLAGS_REFUSED (X86_RFLAGS_RESERVED0 | X86_RFLAGS_VM)
/* Bits 0-7 and 9 are reserved, as is everything at or above the guest's MAXPHYADDR. */
#define APIC_BASE_RESERVED (UINT64_C(0x2FF) | ~((uint64_t)NUB_GPA_TOP - 1))
/* The masks as the format has always had them. */
_Static_assert(CR0_ALLOWED == UINT64_C(0xE005003F), "CR0_ALLOWED");
_Static_assert(CR4_ALLOWED == (UINT64_C(0x7FF) | UINT64_C(1) << 16 | UINT64_C(1) << 18 |
			       UINT64_C(1) << 20 | UINT64_C(1) << 21),
	       "CR4_ALLOWED");
_Static_assert(EFER_ALLOWED == UINT64_C(0xD01), "EFER_ALLOWED");
_Static_assert(RFLAGS_REFUSED == (UINT64_C(0xFFFFFFFFFFC00000) | UINT64_C(1) << 17 |
				  UINT64_C(1) << 15 | UINT64_C(1) << 5 | UINT64_C(1) << 3),
	       "RFLAGS_REFUSED");
_Static_assert((APIC_BASE_RESERVED & (X86_APIC_BASE_BSP | X86_APIC_BASE_EXTD | X86_APIC_BASE_EN)) ==
		       0,
	       "the APIC base's defined bits are not reserved");

/* Offsets of the segments in struct nub_vcpu_state, in file order. */
static const size_t segment_offsets[NSEG] = {
	offsetof(struct nub_vcpu_state, cs), offsetof(struct nub_vcpu_state, ds),
	offsetof(struct nub_vcpu_state, es), offsetof(struct nub_vcpu_state, fs),
	offsetof(struct nub_vcpu_state, gs), offsetof(struct nub_vcpu_state, ss),
	offsetof(struct nub_vcpu_state, tr), offsetof(struct nub_vcpu_state, ldt),
};
static const char *const segment_names[NSEG] = { "cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt" };

/* CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, one byte per step. */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8,
	0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3,
	0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070,
	0x25afd373, 0x36ff2087, 0xc494a384, 0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54,
	0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29,
	0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa, 0x30e349b1,
	0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696,
	0x6ef07595, 0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0,
	0x67dafa54, 0x95b17957, 0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c,
	0xfe53516f, 0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f, 0x3ac7f2eb,
	0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7, 0x61c69362, 0x93ad1061,
	0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789, 0xeb1fcbad,
	0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5,
	0xa55230e6, 0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67,
	0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043,
	0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c, 0x92a8fc17, 0x60c37f14, 0x73938ce0,
	0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db,
	0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6,
	0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81,
	0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5,
	0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19,
	0x0d3d3e1a, 0x1e6dcdee, 0xec064eed, 0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530,
	0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc,
	0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540, 0x590ab964,
	0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2,
	0x37faccf1, 0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9,
	0x4f48173d, 0xbd23943e, 0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a,
	0xc69f7b69, 0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++)
		crc = crc32c_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

/* Sets a NUB_E_SNAPSHOT error whose message starts with "snapshot: ". */
static __attribute__((format(printf, 2, 3))) enum nub_status bad(struct nub_error *err,
								 const char *fmt, ...)
{
	char msg[NUB_ERROR_MESSAGE_MAX];
	va_list ap;

	if (!err)
		return NUB_E_SNAPSHOT;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nub_error_set(err, NUB_E_SNAPSHOT, "snapshot: %s", msg);
}

static bool canonical(uint64_t v)
{
	/* 48-bit virtual addresses (CR4.LA57 is refused): bits 63..47 all equal. */
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* ---- field-by-field serialization ---- */

struct wcur {
	uint8_t *p;
	size_t at;
};

static void put8(struct wcur *c, uint8_t v)
{
	c->p[c->at++] = v;
}

static void put16(struct wcur *c, uint16_t v)
{
	put8(c, (uint8_t)v);
	put8(c, (uint8_t)(v >> 8));
}

static void put32(struct wcur *c, uint32_t v)
{
	nub_put_le32(c->p + c->at, v);
	c->at += 4;
}

static void put64(struct wcur *c, uint64_t v)
{
	nub_put_le64(c->p + c->at, v);
	c->at += 8;
}

struct rcur {
	const uint8_t *p;
	size_t at;
};

static uint8_t get8(struct rcur *c)
{
	return c->p[c->at++];
}

static uint16_t get16(struct rcur *c)
{
	uint16_t v = (uint16_t)(c->p[c->at] | c->p[c->at + 1] << 8);
	c->at += 2;
	return v;
}

static uint32_t get32(struct rcur *c)
{
	uint32_t v = nub_le32(c->p + c->at);
	c->at += 4;
	return v;
}

static uint64_t get64(struct rcur *c)
{
	uint64_t v = nub_le64(c->p + c->at);
	c->at += 8;
	return v;
}

static const struct nub_segment *segment_c(const struct nub_vcpu_state *v, unsigned i)
{
	return (const struct nub_segment *)(const void *)((const char *)v + segment_offsets[i]);
}

static struct nub_segment *segment(struct nub_vcpu_state *v, unsigned i)
{
	return (struct nub_segment *)(void *)((char *)v + segment_offsets[i]);
}

static void encode_vcpu(const struct nub_vcpu_state *v, uint8_t out[VCPU_SIZE])
{
	struct wcur c = { out, 0 };

	for (unsigned i = 0; i < 16; i++)
		put64(&c, v->gpr[i]);
	put64(&c, v->rip);
	put64(&c, v->rflags);
	for (unsigned i = 0; i < NSEG; i++) {
		const struct nub_segment *s = segment_c(v, i);
		put64(&c, s->base);
		put32(&c, s->limit);
		put16(&c, s->selector);
		put8(&c, s->type);
		put8(&c, s->present);
		put8(&c, s->dpl);
		put8(&c, s->db);
		put8(&c, s->s);
		put8(&c, s->l);
		put8(&c, s->g);
		put8(&c, s->avl);
		put8(&c, s->unusable);
		put8(&c, 0);
	}
	put64(&c, v->gdt_base);
	put64(&c, v->idt_base);
	put16(&c, v->gdt_limit);
	put16(&c, v->idt_limit);
	put32(&c, 0);
	put64(&c, v->cr0);
	put64(&c, v->cr2);
	put64(&c, v->cr3);
	put64(&c, v->cr4);
	put64(&c, v->cr8);
	put64(&c, v->efer);
	put64(&c, v->apic_base);
	memcpy(c.p + c.at, v->fpu, NUB_FPU_SIZE); /* already a little-endian byte image */
	c.at += NUB_FPU_SIZE;
	for (unsigned i = 0; i < 4; i++)
		put64(&c, v->dr[i]);
	put64(&c, v->dr6);
	put64(&c, v->dr7);
	put64(&c, v->kernel_gs_base);
	put64(&c, v->xcr0);
}

/* The inverse of encode_vcpu; the reserved fields go to (seg_reserved) and (reserved). */
static void decode_vcpu(const uint8_t in[VCPU_SIZE], struct nub_vcpu_state *v,
			uint8_t seg_reserved[NSEG], uint32_t *reserved)
{
	struct rcur c = { in, 0 };

	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = get64(&c);
	v->rip = get64(&c);
	v->rflags = get64(&c);
	for (unsigned i = 0; i < NSEG; i++) {
		struct nub_segment *s = segment(v, i);
		s->base = get64(&c);
		s->limit = get32(&c);
		s->selector = get16(&c);
		s->type = get8(&c);
		s->present = get8(&c);
		s->dpl = get8(&c);
		s->db = get8(&c);
		s->s = get8(&c);
		s->l = get8(&c);
		s->g = get8(&c);
		s->avl = get8(&c);
		s->unusable = get8(&c);
		seg_reserved[i] = get8(&c);
	}
	v->gdt_base = get64(&c);
	v->idt_base = get64(&c);
	v->gdt_limit = get16(&c);
	v->idt_limit = get16(&c);
	*reserved = get32(&c);
	v->cr0 = get64(&c);
	v->cr2 = get64(&c);
	v->cr3 = get64(&c);
	v->cr4 = get64(&c);
	v->cr8 = get64(&c);
	v->efer = get64(&c);
	v->apic_base = get64(&c);
	memcpy(v->fpu, c.p + c.at, NUB_FPU_SIZE);
	c.at += NUB_FPU_SIZE;
	for (unsigned i = 0; i < 4; i++)
		v->dr[i] = get64(&c);
	v->dr6 = get64(&c);
	v->dr7 = get64(&c);
	v->kernel_gs_base = get64(&c);
	v->xcr0 = get64(&c);
}

/* ---- validation ---- */

/* One section table entry, already range-checked. */
struct section {
	uint32_t type;
	uint64_t offset, length;
};

/* The checked container: where each required section is. */
struct container {
	uint32_t count;
	uint64_t table_end;
	struct section entry[MAX_SECTIONS];
	unsigned index[SEC_COUNT + 1]; /* entry index + 1 of each type; 0 = absent */
};

static enum nub_status check_header(const uint8_t *data, size_t len, struct container *c,
				    struct nub_error *err)
{
	if (len < HEADER_SIZE)
		return bad(err, "file of %zu bytes is shorter than the %u-byte header", len,
			   HEADER_SIZE);
	if (memcmp(data, MAGIC, MAGIC_SIZE) != 0)
		return bad(err, "header.magic 0x%016" PRIx64 " is not \"NUBSNAP\\0\"",
			   (uint64_t)data[0] << 56 | (uint64_t)data[1] << 48 |
				   (uint64_t)data[2] << 40 | (uint64_t)data[3] << 32 |
				   (uint64_t)data[4] << 24 | (uint64_t)data[5] << 16 |
				   (uint64_t)data[6] << 8 | data[7]);
	uint32_t version = nub_le32(data + 8), abi = nub_le32(data + 12);
	uint32_t header_size = nub_le32(data + 16), count = nub_le32(data + 20);
	uint64_t file_size = nub_le64(data + 24);
	if (version != FORMAT_VERSION)
		return bad(err, "header.format_version %u is not %u", version, FORMAT_VERSION);
	if (abi != NUB_ABI_VERSION)
		return nub_error_set(err, NUB_E_ABI,
				     "snapshot ABI version %u does not match host ABI version %u",
				     abi, NUB_ABI_VERSION);
	if (header_size != HEADER_SIZE)
		return bad(err, "header.header_size 0x%x is not 0x%x", header_size, HEADER_SIZE);
	if (file_size != len)
		return bad(err,
			   "header.file_size 0x%" PRIx64 " does not match the file length 0x%zx",
			   file_size, len);
	if (count < 1 || count > MAX_SECTIONS)
		return bad(err, "header.section_count %u is outside 1..%u", count, MAX_SECTIONS);
	c->count = count;
	c->table_end = HEADER_SIZE + (uint64_t)count * ENTRY_SIZE;
	if (c->table_end > len - TRAILER_SIZE)
		return bad(err,
			   "section table of %u entries ends at 0x%" PRIx64
			   ", past the trailer at 0x%zx",
			   count, c->table_end, len - TRAILER_SIZE);
	return NUB_OK;
}

/* The exact (or, for FNS and MEMORY, minimum) length of each section type. */
static enum nub_status check_entry_length(unsigned i, const struct section *s,
					  struct nub_error *err)
{
	const char *name = section_names[s->type];

	switch (s->type) {
	case SEC_LAYOUT:
	case SEC_VCPU: {
		uint64_t want = s->type == SEC_LAYOUT ? LAYOUT_SIZE : VCPU_SIZE;
		if (s->length != want)
			return bad(err, "section[%u] (%s) length 0x%" PRIx64 " is not 0x%" PRIx64,
				   i, name, s->length, want);
		return NUB_OK;
	}
	default: {
		uint64_t min = s->type == SEC_FNS ? FNS_MIN : MEMORY_HEAD;
		if (s->length < min)
			return bad(err, "section[%u] (%s) length 0x%" PRIx64 " is below 0x%" PRIx64,
				   i, name, s->length, min);
		return NUB_OK;
	}
	}
}

static enum nub_status check_table(const uint8_t *data, size_t len, struct container *c,
				   struct nub_error *err)
{
	uint64_t trailer = len - TRAILER_SIZE;
	unsigned order[MAX_SECTIONS];
	enum nub_status st;

	for (unsigned i = 0; i < c->count; i++) {
		const uint8_t *e = data + HEADER_SIZE + (size_t)i * ENTRY_SIZE;
		struct section *s = &c->entry[i];
		uint32_t reserved = nub_le32(e + 4);
		uint64_t end;

		s->type = nub_le32(e);
		s->offset = nub_le64(e + 8);
		s->length = nub_le64(e + 16);
		if (s->type < 1 || s->type > SEC_COUNT)
			return bad(err, "section[%u].type %u is unknown", i, s->type);
		const char *name = section_names[s->type];
		if (reserved != 0)
			return bad(err, "section[%u].reserved 0x%x is not zero", i, reserved);
		if (c->index[s->type])
			return bad(err, "section[%u] duplicates the %s section[%u]", i, name,
				   c->index[s->type] - 1);
		c->index[s->type] = i + 1;
		st = check_entry_length(i, s, err);
		if (st)
			return st;
		if (__builtin_add_overflow(s->offset, s->length, &end))
			return bad(err,
				   "section[%u] (%s) offset 0x%" PRIx64 " + length 0x%" PRIx64
				   " overflows",
				   i, name, s->offset, s->length);
		if (s->offset < c->table_end)
			return bad(
				err,
				"section[%u] (%s) at 0x%" PRIx64
				" overlaps the header and section table, which end at 0x%" PRIx64,
				i, name, s->offset, c->table_end);
		if (end > trailer)
			return bad(err,
				   "section[%u] (%s) ends at 0x%" PRIx64
				   ", past the trailer at 0x%" PRIx64,
				   i, name, end, trailer);
	}
	for (unsigned t = 1; t <= SEC_COUNT; t++)
		if (!c->index[t])
			return bad(err, "required section %s (type %u) is missing",
				   section_names[t], t);

	/* Sort the entries by offset (at most 16: insertion sort), then neighbours must not overlap. */
	for (unsigned i = 0; i < c->count; i++) {
		unsigned j = i;
		for (; j > 0 && c->entry[order[j - 1]].offset > c->entry[i].offset; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (unsigned k = 1; k < c->count; k++) {
		const struct section *a = &c->entry[order[k - 1]], *b = &c->entry[order[k]];
		if (a->offset + a->length > b->offset)
			return bad(err,
				   "section[%u] (%s) [0x%" PRIx64 ", 0x%" PRIx64
				   ") overlaps section[%u] (%s) [0x%" PRIx64 ", 0x%" PRIx64 ")",
				   order[k], section_names[b->type], b->offset,
				   b->offset + b->length, order[k - 1], section_names[a->type],
				   a->offset, a->offset + a->length);
	}
	return NUB_OK;
}

static enum nub_status check_checksum(const uint8_t *data, size_t len, struct nub_error *err)
{
	uint32_t stored = nub_le32(data + len - TRAILER_SIZE);
	uint32_t computed = crc32c(data, len - TRAILER_SIZE);

	if (stored != computed)
		return bad(err, "checksum 0x%08x does not match the computed 0x%08x", stored,
			   computed);
	return NUB_OK;
}

/* A layout size within the configuration's limits and page-aligned, as the engine writes it. */
static enum nub_status check_size(const char *field, uint64_t v, uint64_t min, uint64_t max,
				  struct nub_error *err)
{
	if (v < min || v > max)
		return bad(err, "layout.%s 0x%" PRIx64 " is outside 0x%" PRIx64 "..0x%" PRIx64,
			   field, v, min, max);
	if (v % NUB_PAGE_SIZE)
		return bad(err, "layout.%s 0x%" PRIx64 " is not page-aligned", field, v);
	return NUB_OK;
}

/* Never trusts a stored layout: recomputes it from the parameters with nub_layout_compute. */
static enum nub_status decode_layout(const uint8_t *p, struct nub_layout *l, struct nub_error *err)
{
	struct nub_layout_params lp = {
		.image_end = nub_le64(p),
		.heap_size = nub_le64(p + 8),
		.init_data_size = nub_le64(p + 16),
		.input_size = nub_le64(p + 24),
		.output_size = nub_le64(p + 32),
		.stack_size = nub_le64(p + 40),
	};
	enum nub_status st;

	if (lp.image_end <= NUB_PRIMARY_BASE || lp.image_end > NUB_ELF_MAX_IMAGE_END)
		return bad(err, "layout.image_end 0x%" PRIx64 " is outside (0x%x, 0x%x]",
			   lp.image_end, NUB_PRIMARY_BASE, NUB_ELF_MAX_IMAGE_END);
	if (lp.image_end % NUB_PAGE_SIZE)
		return bad(err, "layout.image_end 0x%" PRIx64 " is not page-aligned", lp.image_end);
	st = check_size("heap_size", lp.heap_size, 0, NUB_MAX_HEAP_SIZE, err);
	if (!st)
		st = check_size("input_size", lp.input_size, NUB_MIN_IO_SIZE, NUB_MAX_IO_SIZE, err);
	if (!st)
		st = check_size("output_size", lp.output_size, NUB_MIN_IO_SIZE, NUB_MAX_IO_SIZE,
				err);
	if (!st)
		st = check_size("stack_size", lp.stack_size, NUB_MIN_STACK_SIZE, NUB_MAX_STACK_SIZE,
				err);
	if (st)
		return st;
	/* init_data_size is an exact byte count with no configured limit: the layout bounds it. */
	struct nub_error inner;
	if (nub_layout_compute(&lp, l, &inner) != NUB_OK)
		return bad(err, "layout is invalid: %s", inner.message);
	return NUB_OK;
}

static enum nub_status check_segment(unsigned i, const struct nub_segment *s, uint8_t reserved,
				     struct nub_error *err)
{
	const char *n = segment_names[i];
	const struct {
		const char *name;
		uint8_t v;
	} bits[] = {
		{ "present", s->present },
		{ "db", s->db },
		{ "s", s->s },
		{ "l", s->l },
		{ "g", s->g },
		{ "avl", s->avl },
		{ "unusable", s->unusable },
	};

	if (reserved)
		return bad(err, "vcpu.%s.reserved 0x%x is not zero", n, reserved);
	for (size_t b = 0; b < sizeof bits / sizeof bits[0]; b++)
		if (bits[b].v > 1)
			return bad(err, "vcpu.%s.%s %u is not 0 or 1", n, bits[b].name, bits[b].v);
	if (s->type > 15)
		return bad(err, "vcpu.%s.type %u exceeds 15", n, s->type);
	if (s->dpl > 3)
		return bad(err, "vcpu.%s.dpl %u exceeds 3", n, s->dpl);
	if (!canonical(s->base))
		return bad(err, "vcpu.%s.base 0x%" PRIx64 " is not canonical", n, s->base);
	return NUB_OK;
}

/* CS, SS and TR as 64-bit long mode at CPL0 needs them (Intel SDM vol. 3C §26.3.1.2). */
static enum nub_status check_special_segments(const struct nub_vcpu_state *v, struct nub_error *err)
{
	const struct nub_segment *cs = &v->cs, *tr = &v->tr;

	if (cs->present != 1)
		return bad(err, "vcpu.cs.present %u is not 1", cs->present);
	if (cs->unusable != 0)
		return bad(err, "vcpu.cs.unusable %u is not 0", cs->unusable);
	if (cs->l != 1)
		return bad(err, "vcpu.cs.l %u is not 1 (64-bit code)", cs->l);
	if (cs->db != 0)
		return bad(err, "vcpu.cs.db %u is not 0 (64-bit code)", cs->db);
	if (cs->s != 1)
		return bad(err, "vcpu.cs.s %u is not 1 (code or data)", cs->s);
	if (!(cs->type & X86_SEG_TYPE_CODE))
		return bad(err, "vcpu.cs.type 0x%x is not a code segment", cs->type);
	if (cs->dpl != 0)
		return bad(err, "vcpu.cs.dpl %u is not 0", cs->dpl);
	if (!v->ss.unusable && v->ss.dpl != 0)
		return bad(err, "vcpu.ss.dpl %u is not 0", v->ss.dpl);
	if (tr->present != 1)
		return bad(err, "vcpu.tr.present %u is not 1", tr->present);
	if (tr->unusable != 0)
		return bad(err, "vcpu.tr.unusable %u is not 0", tr->unusable);
	if (tr->s != 0)
		return bad(err, "vcpu.tr.s %u is not 0 (system segment)", tr->s);
	if (tr->type != X86_SEG_TYPE_TSS64_BUSY)
		return bad(err, "vcpu.tr.type 0x%x is not 11 (busy 64-bit TSS)", tr->type);
	return NUB_OK;
}

/* Control registers and EFER: KVM would refuse the rest, or it would leave 64-bit long mode. */
static enum nub_status check_control(const struct nub_vcpu_state *v, const struct nub_layout *l,
				     struct nub_error *err)
{
	uint64_t primary_end = NUB_PRIMARY_BASE + l->primary_size;
	uint64_t scratch_end = l->scratch_gpa + l->scratch_size;

	if (v->cr0 & ~CR0_ALLOWED)
		return bad(err, "vcpu.cr0 0x%" PRIx64 " has reserved bits 0x%" PRIx64, v->cr0,
			   v->cr0 & ~CR0_ALLOWED);
	if (!(v->cr0 & X86_CR0_PE))
		return bad(err, "vcpu.cr0 0x%" PRIx64 " lacks PE", v->cr0);
	if (!(v->cr0 & X86_CR0_PG))
		return bad(err, "vcpu.cr0 0x%" PRIx64 " lacks PG", v->cr0);
	if ((v->cr0 & X86_CR0_NW) && !(v->cr0 & X86_CR0_CD))
		return bad(err, "vcpu.cr0 0x%" PRIx64 " has NW without CD", v->cr0);
	if (v->cr4 & ~CR4_ALLOWED)
		return bad(err, "vcpu.cr4 0x%" PRIx64 " has unsupported bits 0x%" PRIx64, v->cr4,
			   v->cr4 & ~CR4_ALLOWED);
	if (!(v->cr4 & X86_CR4_PAE))
		return bad(err, "vcpu.cr4 0x%" PRIx64 " lacks PAE", v->cr4);
	if (v->efer & ~EFER_ALLOWED)
		return bad(err, "vcpu.efer 0x%" PRIx64 " has unsupported bits 0x%" PRIx64, v->efer,
			   v->efer & ~EFER_ALLOWED);
	if ((v->efer & (X86_EFER_LME | X86_EFER_LMA)) != (X86_EFER_LME | X86_EFER_LMA))
		return bad(err, "vcpu.efer 0x%" PRIx64 " does not have both LME and LMA", v->efer);
	if (v->cr3 % NUB_PAGE_SIZE)
		return bad(err, "vcpu.cr3 0x%" PRIx64 " is not page-aligned", v->cr3);
	if (!(v->cr3 >= NUB_PRIMARY_BASE && v->cr3 < primary_end) &&
	    !(v->cr3 >= l->scratch_gpa && v->cr3 < scratch_end))
		return bad(err,
			   "vcpu.cr3 0x%" PRIx64 " is outside the primary [0x%x, 0x%" PRIx64
			   ") and scratch [0x%" PRIx64 ", 0x%" PRIx64 ") regions",
			   v->cr3, NUB_PRIMARY_BASE, primary_end, l->scratch_gpa, scratch_end);
	if (v->cr8 > 15)
		return bad(err, "vcpu.cr8 0x%" PRIx64 " exceeds 15", v->cr8);
	return NUB_OK;
}

static enum nub_status check_vcpu(const struct nub_vcpu_state *v, const uint8_t seg_reserved[NSEG],
				  uint32_t reserved, const struct nub_layout *l,
				  struct nub_error *err)
{
	uint64_t rsp = v->gpr[6];
	uint64_t stack_top = l->stack_gpa + l->stack_size;
	uint64_t exc_top = l->exception_stack_gpa + l->exception_stack_size;
	uint32_t mxcsr = nub_le32(v->fpu + NUB_FPU_MXCSR);
	enum nub_status st;

	for (unsigned i = 0; i < NSEG; i++) {
		st = check_segment(i, segment_c(v, i), seg_reserved[i], err);
		if (st)
			return st;
	}
	st = check_special_segments(v, err);
	if (st)
		return st;
	if (reserved)
		return bad(err, "vcpu.reserved 0x%x is not zero", reserved);
	if (!canonical(v->gdt_base))
		return bad(err, "vcpu.gdt_base 0x%" PRIx64 " is not canonical", v->gdt_base);
	if (!canonical(v->idt_base))
		return bad(err, "vcpu.idt_base 0x%" PRIx64 " is not canonical", v->idt_base);
	st = check_control(v, l, err);
	if (st)
		return st;
	if (v->rip < NUB_PRIMARY_BASE || v->rip >= l->image_end)
		return bad(err, "vcpu.rip 0x%" PRIx64 " is outside the image [0x%x, 0x%" PRIx64 ")",
			   v->rip, NUB_PRIMARY_BASE, l->image_end);
	if (!(rsp >= l->stack_gpa && rsp <= stack_top) &&
	    !(rsp >= l->exception_stack_gpa && rsp <= exc_top))
		return bad(err,
			   "vcpu.rsp 0x%" PRIx64 " is outside the stack [0x%" PRIx64 ", 0x%" PRIx64
			   "] and the exception stack [0x%" PRIx64 ", 0x%" PRIx64 "]",
			   rsp, l->stack_gpa, stack_top, l->exception_stack_gpa, exc_top);
	if (!(v->rflags & X86_RFLAGS_FIXED1))
		return bad(err, "vcpu.rflags 0x%" PRIx64 " lacks the reserved-one bit 1",
			   v->rflags);
	if (v->rflags & RFLAGS_REFUSED)
		return bad(err, "vcpu.rflags 0x%" PRIx64 " has reserved or VM bits 0x%" PRIx64,
			   v->rflags, v->rflags & RFLAGS_REFUSED);
	if (v->apic_base & X86_APIC_BASE_EXTD)
		return bad(err, "vcpu.apic_base 0x%" PRIx64 " enables x2APIC mode (bit 10)",
			   v->apic_base);
	if (v->apic_base & APIC_BASE_RESERVED)
		return bad(err, "vcpu.apic_base 0x%" PRIx64 " has reserved bits 0x%" PRIx64,
			   v->apic_base, v->apic_base & APIC_BASE_RESERVED);
	if (mxcsr >> 16)
		return bad(err, "vcpu.fpu.mxcsr 0x%x has reserved bits 16-31 set", mxcsr);
	for (unsigned i = 0; i < 4; i++)
		if (!canonical(v->dr[i]))
			return bad(err, "vcpu.dr[%u] 0x%" PRIx64 " is not canonical", i, v->dr[i]);
	/*
	 * Debug-register bits that read back fixed (SDM vol. 3B §18.2; RTM and bus-lock detection,
	 * whose DR6 bits 16 and 11 would otherwise be live, are hidden from the guest's CPUID).
	 * Why refuse rather than accept: KVM_SET_DEBUGREGS keeps such a value as given while a
	 * MOV to DR6/DR7 (the reset stub) fixes the bits, so the two ways restore loads state
	 * would disagree.
	 */
	if (v->dr6 >> 32)
		return bad(err, "vcpu.dr6 0x%" PRIx64 " has upper 32 bits set", v->dr6);
	if ((v->dr6 & X86_DR6_FIXED_MASK) != X86_DR6_FIXED_VALUE)
		return bad(err,
			   "vcpu.dr6 0x%" PRIx64
			   " has fixed bits wrong: bits 4-11 and 16-31 read as one, bit 12 as zero",
			   v->dr6);
	if (v->dr7 >> 32)
		return bad(err, "vcpu.dr7 0x%" PRIx64 " has upper 32 bits set", v->dr7);
	if ((v->dr7 & X86_DR7_FIXED_MASK) != X86_DR7_FIXED_VALUE)
		return bad(err,
			   "vcpu.dr7 0x%" PRIx64
			   " has fixed bits wrong: bit 10 reads as one, bits 12, 14 and 15 as zero",
			   v->dr7);
	if (!canonical(v->kernel_gs_base))
		return bad(err, "vcpu.kernel_gs_base 0x%" PRIx64 " is not canonical",
			   v->kernel_gs_base);
	/* Only x87/SSE state is saved (the fpu blob): a guest with XSAVE components enabled is refused. */
	if (v->xcr0 != NUB_XCR0_X87)
		return bad(err, "vcpu.xcr0 0x%" PRIx64 " is not 0x%x (x87 only)", v->xcr0,
			   NUB_XCR0_X87);
	return NUB_OK;
}

static enum nub_status check_fns(const uint8_t *p, uint64_t length, uint32_t *count,
				 struct nub_error *err)
{
	uint32_t n = nub_le32(p);

	if (n > NUB_SNAPSHOT_MAX_FNS)
		return bad(err, "fns.count %u exceeds the limit %u", n, NUB_SNAPSHOT_MAX_FNS);
	if (length != FNS_MIN + (uint64_t)4 * n)
		return bad(err,
			   "fns section length 0x%" PRIx64 " does not match count %u (0x%" PRIx64
			   " bytes)",
			   length, n, FNS_MIN + (uint64_t)4 * n);
	for (uint32_t i = 1; i < n; i++) {
		uint32_t prev = nub_le32(p + 4 + 4 * (size_t)(i - 1)),
			 cur = nub_le32(p + 4 + 4 * (size_t)i);
		if (cur <= prev)
			return bad(err, "fns.fn_id[%u] %u is not greater than fn_id[%u] %u", i, cur,
				   i - 1, prev);
	}
	*count = n;
	return NUB_OK;
}

static enum nub_status check_memory(const uint8_t *p, uint64_t length, uint64_t mem_size,
				    uint32_t *runs, struct nub_error *err)
{
	uint32_t n = nub_le32(p), reserved = nub_le32(p + 4);
	uint64_t table = MEMORY_HEAD + (uint64_t)n * RUN_SIZE, covered = 0, prev_end = 0;

	if (reserved)
		return bad(err, "memory.reserved 0x%x is not zero", reserved);
	if (table > length)
		return bad(err,
			   "memory.run_count %u needs 0x%" PRIx64
			   " bytes of run table, the section holds 0x%" PRIx64,
			   n, table, length);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = p + MEMORY_HEAD + (size_t)i * RUN_SIZE;
		uint64_t offset = nub_le64(r), pages = nub_le64(r + 8), bytes, end;

		if (offset % NUB_PAGE_SIZE)
			return bad(err, "memory.run[%u].offset 0x%" PRIx64 " is not page-aligned",
				   i, offset);
		if (pages == 0)
			return bad(err, "memory.run[%u].page_count is 0", i);
		if (__builtin_mul_overflow(pages, (uint64_t)NUB_PAGE_SIZE, &bytes) ||
		    __builtin_add_overflow(offset, bytes, &end))
			return bad(err,
				   "memory.run[%u] offset 0x%" PRIx64 " + 0x%" PRIx64
				   " pages overflows",
				   i, offset, pages);
		if (end > mem_size)
			return bad(err,
				   "memory.run[%u] [0x%" PRIx64 ", 0x%" PRIx64
				   ") runs past the memory size 0x%" PRIx64,
				   i, offset, end, mem_size);
		if (offset < prev_end)
			return bad(err,
				   "memory.run[%u].offset 0x%" PRIx64 " is below the end 0x%" PRIx64
				   " of run[%u] (runs must be sorted and disjoint)",
				   i, offset, prev_end, i - 1);
		prev_end = end;
		covered += bytes; /* runs are disjoint inside mem_size: no overflow */
	}
	if (length - table != covered)
		return bad(err,
			   "memory data of 0x%" PRIx64 " bytes does not match the 0x%" PRIx64
			   " bytes the runs cover",
			   length - table, covered);
	*runs = n;
	return NUB_OK;
}

enum nub_status nub_snapshot_file_decode(const uint8_t *data, size_t len,
					 const struct nub_alloc_hook *hook,
					 struct nub_snapshot **out, struct nub_error *err)
{
	struct container c;
	struct nub_layout l;
	struct nub_vcpu_state v;
	uint8_t seg_reserved[NSEG];
	uint32_t vcpu_reserved, nfn = 0, nruns = 0;
	enum nub_status st;

	if (!out || (!data && len))
		return nub_error_set(err, NUB_E_INVALID, "snapshot decode: NULL data or output");
	*out = NULL;
	memset(&c, 0, sizeof c);
	st = check_header(data, len, &c, err);
	if (!st)
		st = check_table(data, len, &c, err);
	if (!st)
		st = check_checksum(data, len, err);
	if (st)
		return st;

	const struct section *ls = &c.entry[c.index[SEC_LAYOUT] - 1];
	const struct section *vs = &c.entry[c.index[SEC_VCPU] - 1];
	const struct section *fs = &c.entry[c.index[SEC_FNS] - 1];
	const struct section *ms = &c.entry[c.index[SEC_MEMORY] - 1];
	st = decode_layout(data + ls->offset, &l, err);
	if (st)
		return st;
	decode_vcpu(data + vs->offset, &v, seg_reserved, &vcpu_reserved);
	st = check_vcpu(&v, seg_reserved, vcpu_reserved, &l, err);
	if (!st)
		st = check_fns(data + fs->offset, fs->length, &nfn, err);
	if (!st)
		st = check_memory(data + ms->offset, ms->length, l.primary_size + l.scratch_size,
				  &nruns, err);
	if (st)
		return st;

	/* Everything is valid: build the snapshot. */
	uint32_t *fn_ids = NULL;
	if (nfn) {
		fn_ids = nub_alloc_zeroed(hook, (size_t)nfn * sizeof *fn_ids);
		if (!fn_ids)
			return nub_error_set(err, NUB_E_NOMEM,
					     "snapshot decode: fn_id list (%u entries)", nfn);
		for (uint32_t i = 0; i < nfn; i++)
			fn_ids[i] = nub_le32(data + fs->offset + 4 + 4 * (size_t)i);
	}
	struct nub_snapshot *s = NULL;
	uint8_t *fill = NULL;
	st = nub_snapshot_new(&l, &v, fn_ids, nfn, hook, &s, &fill, err);
	nub_alloc_free(hook, fn_ids);
	if (st)
		return st;
	const uint8_t *run = data + ms->offset + MEMORY_HEAD;
	const uint8_t *bytes = run + (size_t)nruns * RUN_SIZE;
	for (uint32_t i = 0; i < nruns; i++, run += RUN_SIZE) {
		size_t n = (size_t)(nub_le64(run + 8) * NUB_PAGE_SIZE);
		memcpy(fill + nub_le64(run), bytes, n);
		bytes += n;
	}
	st = nub_snapshot_seal(s, fill, err);
	if (st) {
		nub_snapshot_unref(s);
		return st;
	}
	*out = s;
	return NUB_OK;
}

/* ---- encoding ---- */

/*
 * Walks the snapshot memory's non-zero pages as maximal runs, in order. The memfd's holes are
 * skipped with SEEK_DATA/SEEK_HOLE without reading them (reading a hole of a shared memfd
 * mapping would allocate it); within data extents each page is compared with zero.
 */
struct run_iter {
	const struct nub_snapshot *s;
	uint64_t npages, page;
	uint64_t ext_start, ext_end; /* current data extent, in pages */
	bool seek;                   /* SEEK_DATA works on this fd */
};

static void run_iter_init(struct run_iter *it, const struct nub_snapshot *s)
{
	memset(it, 0, sizeof *it);
	it->s = s;
	it->npages = s->mem_size / NUB_PAGE_SIZE;
	it->seek = s->memfd >= 0;
}

static bool page_is_zero(const uint8_t *p)
{
	return p[0] == 0 && memcmp(p, p + 1, NUB_PAGE_SIZE - 1) == 0;
}

/* Whether page (p) holds data; (p) never decreases between calls. */
static bool page_has_data(struct run_iter *it, uint64_t p)
{
	if (it->seek && p >= it->ext_end) {
		off_t d = lseek(it->s->memfd, (off_t)(p * NUB_PAGE_SIZE), SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO) {
				it->ext_start = it->ext_end = it->npages; /* no data from here on */
			} else {
				it->seek = false; /* fall back to reading every page */
			}
		} else {
			off_t h = lseek(it->s->memfd, d, SEEK_HOLE);
			uint64_t hole = h < 0 ? it->s->mem_size : (uint64_t)h;
			it->ext_start = (uint64_t)d / NUB_PAGE_SIZE;
			it->ext_end = (hole + NUB_PAGE_SIZE - 1) / NUB_PAGE_SIZE;
			if (it->ext_end > it->npages || it->ext_end <= p)
				it->ext_end = it->npages;
		}
	}
	if (it->seek && (p < it->ext_start || p >= it->ext_end))
		return false;
	return !page_is_zero(it->s->mem + p * NUB_PAGE_SIZE);
}

/* The next run as (first page, page count); false when there is none. */
static bool run_next(struct run_iter *it, uint64_t *first, uint64_t *count)
{
	uint64_t p = it->page;

	while (p < it->npages && !page_has_data(it, p))
		p++;
	if (p >= it->npages) {
		it->page = p;
		return false;
	}
	*first = p;
	while (p < it->npages && page_has_data(it, p))
		p++;
	*count = p - *first;
	it->page = p;
	return true;
}

static enum nub_status encode_nomem(struct nub_buf *out, size_t start, uint64_t size,
				    struct nub_error *err)
{
	out->len = start;
	return nub_error_set(err, NUB_E_NOMEM,
			     "snapshot encode: growing the output by 0x%" PRIx64 " bytes", size);
}

enum nub_status nub_snapshot_file_encode(const struct nub_snapshot *snap, struct nub_buf *out,
					 struct nub_error *err)
{
	struct run_iter it;
	uint64_t first, count, nruns = 0, data_pages = 0;

	if (!snap || !out)
		return nub_error_set(err, NUB_E_INVALID,
				     "snapshot encode: NULL snapshot or output");
	if (!snap->mem)
		return nub_error_set(err, NUB_E_INVALID,
				     "snapshot encode: the snapshot is not sealed");

	run_iter_init(&it, snap);
	while (run_next(&it, &first, &count)) {
		nruns++;
		data_pages += count;
	}
	/* Bounded by the layout: at most mem_size / 2 pages of runs, far below 2^32. */
	uint64_t off_layout = HEADER_SIZE + SEC_COUNT * ENTRY_SIZE;
	uint64_t off_vcpu = off_layout + LAYOUT_SIZE;
	uint64_t off_fns = off_vcpu + VCPU_SIZE;
	uint64_t len_fns = FNS_MIN + (uint64_t)4 * snap->nfn;
	uint64_t off_mem = off_fns + len_fns;
	uint64_t len_mem = MEMORY_HEAD + nruns * RUN_SIZE + data_pages * NUB_PAGE_SIZE;
	uint64_t file_size = off_mem + len_mem + TRAILER_SIZE;
	const struct section table[SEC_COUNT] = {
		{ SEC_LAYOUT, off_layout, LAYOUT_SIZE },
		{ SEC_VCPU, off_vcpu, VCPU_SIZE },
		{ SEC_FNS, off_fns, len_fns },
		{ SEC_MEMORY, off_mem, len_mem },
	};
	uint8_t meta[HEADER_SIZE + SEC_COUNT * ENTRY_SIZE + LAYOUT_SIZE + VCPU_SIZE];
	struct wcur w = { meta, 0 };
	const struct nub_layout *l = &snap->layout;

	memcpy(meta, MAGIC, MAGIC_SIZE);
	w.at = MAGIC_SIZE;
	put32(&w, FORMAT_VERSION);
	put32(&w, snap->abi_version);
	put32(&w, HEADER_SIZE);
	put32(&w, SEC_COUNT);
	put64(&w, file_size);
	for (unsigned i = 0; i < SEC_COUNT; i++) {
		put32(&w, table[i].type);
		put32(&w, 0);
		put64(&w, table[i].offset);
		put64(&w, table[i].length);
	}
	put64(&w, l->image_end);
	put64(&w, l->heap_size);
	put64(&w, l->init_data_size);
	put64(&w, l->input_size);
	put64(&w, l->output_size);
	put64(&w, l->stack_size);
	encode_vcpu(&snap->vcpu, meta + w.at);

	size_t start = out->len;
	if (!out->data && !out->alloc.realloc)
		out->alloc = snap->alloc;
	if (file_size > SIZE_MAX - start || nub_buf_append(out, meta, sizeof meta))
		return encode_nomem(out, start, file_size, err);
	uint8_t word[RUN_SIZE];
	nub_put_le32(word, snap->nfn);
	if (nub_buf_append(out, word, 4))
		return encode_nomem(out, start, file_size, err);
	for (uint32_t i = 0; i < snap->nfn; i++) {
		nub_put_le32(word, snap->fn_ids[i]);
		if (nub_buf_append(out, word, 4))
			return encode_nomem(out, start, file_size, err);
	}
	nub_put_le32(word, (uint32_t)nruns);
	nub_put_le32(word + 4, 0);
	if (nub_buf_append(out, word, MEMORY_HEAD))
		return encode_nomem(out, start, file_size, err);
	/* The run table, then the bytes of each run: two more walks, no allocation for the runs. */
	run_iter_init(&it, snap);
	while (run_next(&it, &first, &count)) {
		nub_put_le64(word, first * NUB_PAGE_SIZE);
		nub_put_le64(word + 8, count);
		if (nub_buf_append(out, word, RUN_SIZE))
			return encode_nomem(out, start, file_size, err);
	}
	run_iter_init(&it, snap);
	while (run_next(&it, &first, &count))
		if (nub_buf_append(out, snap->mem + first * NUB_PAGE_SIZE,
				   (size_t)(count * NUB_PAGE_SIZE)))
			return encode_nomem(out, start, file_size, err);
	nub_put_le32(word, crc32c(out->data + start, out->len - start));
	if (nub_buf_append(out, word, TRAILER_SIZE))
		return encode_nomem(out, start, file_size, err);
	return NUB_OK;
}

/* ---- files ---- */

enum nub_status nub_snapshot_save(const struct nub_snapshot *snap, const char *path,
				  struct nub_error *err)
{
	struct nub_file_writer w;
	struct nub_buf buf;

	if (!snap || !path || !*path)
		return nub_error_set(err, NUB_E_INVALID,
				     "snapshot save: NULL snapshot or empty path");
	memset(&buf, 0, sizeof buf);
	buf.alloc = snap->alloc;
	enum nub_status st = nub_snapshot_file_encode(snap, &buf, err);
	if (st == NUB_OK)
		st = nub_file_writer_open(&w, path, "snapshot save", &snap->alloc, err);
	if (st == NUB_OK) {
		st = nub_file_writer_put(&w, buf.data, buf.len, err);
		if (st == NUB_OK)
			st = nub_file_writer_commit(&w, err);
		else
			nub_file_writer_abort(&w);
	}
	nub_buf_free(&buf);
	return st;
}

enum nub_status nub_snapshot_load(const char *path, const struct nub_alloc_hook *alloc,
				  struct nub_snapshot **out, struct nub_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	enum nub_status st;

	if (!path || !out)
		return nub_error_set(err, NUB_E_INVALID, "snapshot load: NULL path or output");
	*out = NULL;
	st = nub_file_read(path, MAX_FILE_SIZE, NUB_E_SNAPSHOT, alloc, &data, &len, err);
	if (st)
		return st;
	st = nub_snapshot_file_decode(data, len, alloc, out, err);
	nub_alloc_free(alloc, data);
	/* Name the file in format errors; the message is copied because it is reformatted in place. */
	if ((st == NUB_E_SNAPSHOT || st == NUB_E_ABI) && err) {
		char msg[NUB_ERROR_MESSAGE_MAX];
		memcpy(msg, err->message, sizeof msg);
		nub_error_set(err, st, "%s: %s", path, msg);
	}
	return st;
}

enum nub_status nub_snapshot_load_buffer(const uint8_t *data, size_t len,
					 const struct nub_alloc_hook *alloc,
					 struct nub_snapshot **out, struct nub_error *err)
{
	return nub_snapshot_file_decode(data, len, alloc, out, err);
}
