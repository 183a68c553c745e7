/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue of crafted guest ELF files; see elf_variants.h. */
#include "elf_variants.h"

#include <elf.h>

#include "guest_elf.h"
#include "le_bytes.h"
#include "nub/abi.h"

/* The nub ABI note (elf_file_abi_note) as an initializer: version (v), descsz (d). */
/* clang-format off */
#define ABI_NOTE(v, d) \
	{ LE32(sizeof NUB_NOTE_NAME), LE32(d), LE32(NUB_NOTE_TYPE_ABI), 'n', 'u', 'b', 0, LE32(v) }
/* clang-format on */
_Static_assert(sizeof NUB_NOTE_NAME == 4, "ABI_NOTE spells the note name out");

static const uint8_t note[20] = ABI_NOTE(NUB_ABI_VERSION, 4);
static const uint8_t note_v2[20] = ABI_NOTE(NUB_ABI_VERSION + 1, 4);
static const uint8_t note_bad_desc[20] = ABI_NOTE(NUB_ABI_VERSION, 0x7fffffff);
static const uint8_t note8[24] = ABI_NOTE(NUB_ABI_VERSION, 4); /* then 4 bytes of padding */
static const uint8_t rodata[] = "read-only data";
static const uint8_t data[16] = "initialised";
static const uint8_t spin[] = { 0xeb, 0xfe }; /* jmp . */

/* Macros whose bodies are braced lists: kept as written. */
/* clang-format off */
#define SEGS(...)                                      \
	.segs = (const struct elf_seg[]){ __VA_ARGS__ }, \
	.nseg = sizeof((const struct elf_seg[]){ __VA_ARGS__ }) / sizeof(struct elf_seg)
#define LOAD(fl, va, bytes, ...)                                                              \
	{ .type = PT_LOAD, .flags = (fl), .vaddr = (va), .data = (bytes), .len = sizeof(bytes), \
	  __VA_ARGS__ }
#define CODE(va) LOAD(PF_R | PF_X, va, elf_halt_code)
#define NOTE(buf) { .type = PT_NOTE, .flags = PF_R, .data = (buf), .len = 20 }
#define RO_PAGE(i) LOAD(PF_R, 0x4000 + 0x1000 * (i), elf_halt_code)
#define SIXTEEN_LOADS                                                                          \
	CODE(0x4000), RO_PAGE(1), RO_PAGE(2), RO_PAGE(3), RO_PAGE(4), RO_PAGE(5), RO_PAGE(6),   \
	RO_PAGE(7), RO_PAGE(8), RO_PAGE(9), RO_PAGE(10), RO_PAGE(11), RO_PAGE(12), RO_PAGE(13), \
	RO_PAGE(14), RO_PAGE(15)
#define MINIMAL .entry = 0x4000, SEGS(CODE(0x4000), NOTE(note))
/* clang-format on */

const struct elf_variant elf_variants[] = {
	/* Well formed. */
	{ "minimal", "elf-minimal-halts", { MINIMAL }, NUB_OK, NULL },
	{ "code-rodata-data-bss",
	  NULL,
	  { .entry = 0x4004,
	    SEGS(CODE(0x4000), LOAD(PF_R, 0x5000, rodata),
		 LOAD(PF_R | PF_W, 0x6000, data, .memsz = 0x1800), NOTE(note)) },
	  NUB_OK,
	  NULL },
	{ NULL,
	  "elf-code-data-bss",
	  { .entry = 0x4000,
	    SEGS(CODE(0x4000), LOAD(PF_R | PF_W, 0x6000, data, .memsz = 0x1800), NOTE(note)) },
	  NUB_OK,
	  NULL },
	{ NULL,
	  "elf-init-spins",
	  { .entry = 0x4000, SEGS(LOAD(PF_R | PF_X, 0x4000, spin), NOTE(note)) },
	  NUB_OK,
	  NULL },
	{ "note-aligned-8",
	  NULL,
	  { .entry = 0x4000,
	    SEGS(CODE(0x4000),
		 { .type = PT_NOTE, .flags = PF_R, .data = note8, .len = 24, .align = 8 }) },
	  NUB_OK,
	  NULL },
	{ "page-shared-same-permissions",
	  NULL,
	  { .entry = 0x4100, SEGS(CODE(0x4000), LOAD(PF_R | PF_X, 0x4100, rodata), NOTE(note)) },
	  NUB_OK,
	  NULL },
	{ "bss-2mib",
	  "elf-bss-2mib",
	  { .entry = 0x4000,
	    SEGS(CODE(0x4000), LOAD(PF_R | PF_W, 0x5000, data, .memsz = 2u << 20), NOTE(note)) },
	  NUB_OK,
	  NULL },
	{ "bss-64mib-not-loaded",
	  NULL, /* parsed, not loaded, by fuzz_elf (ELF_LOAD_LIMIT) */
	  { .entry = 0x4000,
	    SEGS(CODE(0x4000), LOAD(PF_R | PF_W, 0x5000, data, .memsz = 64u << 20), NOTE(note)) },
	  NUB_OK,
	  NULL },
	{ "sixteen-loads-and-note",
	  NULL,
	  { .entry = 0x4000, SEGS(SIXTEEN_LOADS, NOTE(note)) },
	  NUB_OK,
	  NULL },

	/* The ABI note. */
	{ "no-abi-note",
	  "elf-no-abi-note",
	  { .entry = 0x4000, SEGS(CODE(0x4000)) },
	  NUB_E_ABI,
	  "guest ELF has no nub ABI note (expected version 1)" },
	{ "sixteen-loads",
	  NULL,
	  { .entry = 0x4000, SEGS(SIXTEEN_LOADS) },
	  NUB_E_ABI,
	  "guest ELF has no nub ABI note (expected version 1)" },
	{ "abi-version-mismatch",
	  NULL,
	  { .entry = 0x4000, SEGS(CODE(0x4000), NOTE(note_v2)) },
	  NUB_E_ABI,
	  "guest ABI version 2 does not match host ABI version 1" },
	{ "note-descsz-past-end",
	  NULL,
	  { .entry = 0x4000, SEGS(CODE(0x4000), NOTE(note_bad_desc)) },
	  NUB_E_ELF,
	  "PT_NOTE[1]: note at offset 0x0: descsz 0x7fffffff runs past the segment end (0x4" },

	/* Segments. */
	{ "writable-and-executable",
	  NULL,
	  { .entry = 0x4000, SEGS(LOAD(PF_R | PF_W | PF_X, 0x4000, elf_halt_code), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[0]: p_flags 0x7 (RWX) is both writable and executable" },
	{ "overlapping-segments",
	  NULL,
	  { .entry = 0x4000, SEGS(CODE(0x4000), LOAD(PF_R, 0x4004, rodata), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[1] [0x4004, 0x4013) overlaps PT_LOAD[0] [0x4000, 0x4008)" },
	{ "page-shared-by-permissions",
	  NULL,
	  { .entry = 0x4000, SEGS(CODE(0x4000), LOAD(PF_R | PF_W, 0x4800, data), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[1] (RW-) and PT_LOAD[0] (R-X) share the page 0x4000 with different permission" },
	{ "below-primary-base",
	  NULL,
	  { .entry = 0x1000, SEGS(CODE(0x1000), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[0]: p_vaddr 0x1000 is below the primary base 0x4000" },
	{ "filesz-above-memsz",
	  NULL,
	  { .entry = 0x4000,
	    SEGS(LOAD(PF_R | PF_X, 0x4000, elf_halt_code, .memsz = 4), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[0]: p_filesz 0x8 exceeds p_memsz 0x4" },
	{ "file-range-past-end",
	  NULL,
	  { .entry = 0x4000,
	    SEGS(LOAD(PF_R | PF_X, 0x4000, elf_halt_code, .filesz = 0x100000), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[0]: p_offset 0xb0 + p_filesz 0x100000 exceeds the file size 0xd4" },
	{ "past-image-limit",
	  NULL,
	  { .entry = NUB_ELF_MAX_IMAGE_END - 4, SEGS(CODE(NUB_ELF_MAX_IMAGE_END - 4), NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[0]: p_vaddr 0xffffffc + p_memsz 0x8 exceeds the image limit 0x10000000" },
	{ "seventeen-loads",
	  NULL,
	  { .entry = 0x4000, SEGS(SIXTEEN_LOADS, RO_PAGE(16)) },
	  NUB_E_ELF,
	  "PT_LOAD[16]: more than 16 PT_LOAD segments" },
	{ "empty-segment",
	  NULL,
	  { .entry = 0x4000,
	    SEGS({ .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = 0x4000, .data = elf_halt_code },
		 NOTE(note)) },
	  NUB_E_ELF,
	  "PT_LOAD[0]: p_memsz 0x0 (empty segment)" },

	/* The entry point. */
	{ "entry-outside-segments",
	  NULL,
	  { .entry = 0x9000, SEGS(CODE(0x4000), NOTE(note)) },
	  NUB_E_ELF,
	  "e_entry 0x9000 is outside every PT_LOAD segment" },
	{ "entry-in-data",
	  NULL,
	  { .entry = 0x6004, SEGS(CODE(0x4000), LOAD(PF_R | PF_W, 0x6000, data), NOTE(note)) },
	  NUB_E_ELF,
	  "e_entry 0x6004 is in PT_LOAD[1] (RW-), which is not executable" },
	{ NULL,
	  "elf-entry-in-data",
	  { .entry = 0x6004,
	    SEGS(CODE(0x4000), LOAD(PF_R | PF_W, 0x6000, data, .memsz = 0x1800), NOTE(note)) },
	  NUB_E_ELF,
	  "e_entry 0x6004 is in PT_LOAD[1] (RW-), which is not executable" },

	/* The header. */
	{ "phoff-past-end",
	  NULL,
	  { MINIMAL, .phoff = 0x10000 },
	  NUB_E_ELF,
	  "e_phoff 0x10000 + 2 program headers (0x70 bytes) exceeds the file size 0xd4" },
	{ "truncated-header",
	  NULL,
	  { MINIMAL, .truncate = 40 },
	  NUB_E_ELF,
	  "file size 0x28 is smaller than an ELF64 header (0x40 bytes)" },
	{ "truncated-phdrs",
	  "elf-truncated-phdrs",
	  { MINIMAL, .truncate = 100 },
	  NUB_E_ELF,
	  "e_phoff 0x40 + 2 program headers (0x70 bytes) exceeds the file size 0x64" },
	{ "bad-magic",
	  NULL,
	  { MINIMAL, .bad_magic = true },
	  NUB_E_ELF,
	  "bad ELF magic 7f 58 4c 46 (expected 7f 45 4c 46)" },
	{ "elfclass32",
	  NULL,
	  { MINIMAL, .ei_class = ELFCLASS32 },
	  NUB_E_ELF,
	  "EI_CLASS 1 is not ELFCLASS64 (2)" },
	{ "e-type-dyn",
	  NULL,
	  { MINIMAL, .e_type = ET_DYN },
	  NUB_E_ELF,
	  "e_type 0x3 is not ET_EXEC (0x2)" },
	{ "e-machine-386",
	  NULL,
	  { MINIMAL, .e_machine = EM_386 },
	  NUB_E_ELF,
	  "e_machine 0x3 is not EM_X86_64 (0x3e)" },
};

const size_t elf_variant_count = sizeof elf_variants / sizeof elf_variants[0];
