/* SPDX-License-Identifier: Apache-2.0 */
/* Guest ELF loader: a valid in-test image, each field broken in turn, loading, reading files. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc_inject.h"
#include "testlib.h"

#include "alloc.h"
#include "bytes.h"
#include "elf_file.h"
#include "elf_variants.h"
#include "guest_elf.h"

/*
 * The image the builder makes (file offsets -> guest addresses):
 *   0x0000 ELF header, program headers from 0x40 (room for MAX_PHDRS)
 *   0x1000 text   0x100 bytes  -> 0x4000  R+X           PT_LOAD[0]
 *   0x2000 rodata 0x40 bytes   -> 0x5000  R, notes first PT_LOAD[1], PT_NOTE[2]
 *   0x3000 data   0x20 bytes   -> 0x6000  R+W, memsz 0x2000 (bss) PT_LOAD[3]
 * The notes are a GNU build-id (5-byte descriptor, padded) followed by the nub ABI note.
 */
#define PHOFF 0x40u
#define MAX_PHDRS 20u
#define TEXT_OFF 0x1000u
#define TEXT_GPA 0x4000u
#define TEXT_SIZE 0x100u
#define RO_OFF 0x2000u
#define RO_GPA 0x5000u
#define RO_SIZE 0x40u
#define NUB_NOTE_AT 24u /* offset of the nub note in the note area */
#define NOTES_SIZE 44u  /* build-id note (24) + nub note (20) */
#define DATA_OFF 0x3000u
#define DATA_GPA 0x6000u
#define DATA_FILESZ 0x20u
#define DATA_MEMSZ 0x2000u
#define ENTRY 0x4010u
#define FILE_SIZE (DATA_OFF + DATA_FILESZ)
#define IMAGE_END 0x8000u

enum { PH_TEXT = 0, PH_RO = 1, PH_NOTE = 2, PH_DATA = 3, NPHDRS = 4 };

struct fixture {
	uint8_t *b;
	size_t len;
	char dir[64]; /* scratch directory for the file tests */
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7u + 1u);
}

static Elf64_Ehdr *ehdr(struct fixture *f)
{
	return (Elf64_Ehdr *)(void *)f->b;
}

static Elf64_Phdr *phdr(struct fixture *f, unsigned i)
{
	return (Elf64_Phdr *)(void *)(f->b + PHOFF + i * sizeof(Elf64_Phdr));
}

static void set_phdr(Elf64_Phdr *p, uint32_t type, uint32_t flags, uint64_t off, uint64_t gpa,
		     uint64_t filesz, uint64_t memsz, uint64_t align)
{
	p->p_type = type;
	p->p_flags = flags;
	p->p_offset = off;
	p->p_vaddr = gpa;
	p->p_paddr = gpa;
	p->p_filesz = filesz;
	p->p_memsz = memsz;
	p->p_align = align;
}

/* A valid minimal ELF64 ET_EXEC guest image in a fresh heap buffer. */
static uint8_t *build_elf(size_t *len)
{
	uint8_t text[TEXT_SIZE], ro[RO_SIZE], data[DATA_FILESZ];

	for (size_t i = 0; i < TEXT_SIZE; i++)
		text[i] = pattern(i);
	elf_file_note(ro, 4, 5, NT_GNU_BUILD_ID, "GNU");
	memcpy(ro + 16, "\x01\x02\x03\x04\x05\0\0\0", 8);
	elf_file_abi_note(ro + NUB_NOTE_AT, NUB_ABI_VERSION, 4);
	for (size_t i = NOTES_SIZE; i < RO_SIZE; i++)
		ro[i] = pattern(i + 0x100);
	for (size_t i = 0; i < DATA_FILESZ; i++)
		data[i] = pattern(i + 0x200);

	/* In PH_* order; the notes are the start of the rodata segment. */
	const struct elf_seg segs[NPHDRS] = {
		{ .type = PT_LOAD,
		  .flags = PF_R | PF_X,
		  .vaddr = TEXT_GPA,
		  .data = text,
		  .len = TEXT_SIZE,
		  .at = TEXT_OFF },
		{ .type = PT_LOAD,
		  .flags = PF_R,
		  .vaddr = RO_GPA,
		  .data = ro,
		  .len = RO_SIZE,
		  .at = RO_OFF },
		{ .type = PT_NOTE,
		  .flags = PF_R,
		  .vaddr = RO_GPA,
		  .offset = RO_OFF,
		  .filesz = NOTES_SIZE,
		  .memsz = NOTES_SIZE },
		{ .type = PT_LOAD,
		  .flags = PF_R | PF_W,
		  .vaddr = DATA_GPA,
		  .data = data,
		  .len = DATA_FILESZ,
		  .at = DATA_OFF,
		  .memsz = DATA_MEMSZ },
	};
	const struct elf_spec spec = { .entry = ENTRY, .segs = segs, .nseg = NPHDRS };
	uint8_t *b = elf_file_build(&spec, len);
	assert_non_null(b);
	assert_int_equal(*len, FILE_SIZE);
	return b;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->b = build_elf(&f->len);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->b);
	if (f->dir[0])
		rmdir(f->dir);
	free(f);
	return 0;
}

/* Parses the fixture's image and asserts the status and a message substring. */
#define assert_parse_fails(f, st, needle)                                                          \
	do {                                                                                       \
		struct nub_error err_;                                                             \
		struct nub_elf_image img_;                                                         \
		memset(&img_, 0x5a, sizeof img_);                                                  \
		assert_int_equal(nub_elf_parse((f)->b, (f)->len, &img_, &err_), (st));             \
		nub_assert_error(&err_, (st), (needle));                                           \
		assert_int_equal(img_.nseg, 0);                                                    \
	} while (0)

/* ---- The valid image ---- */

static void test_valid_parses(void **state)
{
	struct fixture *f = *state;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.entry, ENTRY);
	assert_int_equal(img.image_end, IMAGE_END);
	assert_int_equal(img.abi_version, NUB_ABI_VERSION);
	assert_int_equal(img.nseg, 3);

	assert_int_equal(img.seg[0].gpa, TEXT_GPA);
	assert_int_equal(img.seg[0].memsz, TEXT_SIZE);
	assert_int_equal(img.seg[0].filesz, TEXT_SIZE);
	assert_int_equal(img.seg[0].file_offset, TEXT_OFF);
	assert_int_equal(img.seg[0].perms, NUB_MEM_READ | NUB_MEM_EXECUTE);

	assert_int_equal(img.seg[1].gpa, RO_GPA);
	assert_int_equal(img.seg[1].memsz, RO_SIZE);
	assert_int_equal(img.seg[1].filesz, RO_SIZE);
	assert_int_equal(img.seg[1].file_offset, RO_OFF);
	assert_int_equal(img.seg[1].perms, NUB_MEM_READ);

	assert_int_equal(img.seg[2].gpa, DATA_GPA);
	assert_int_equal(img.seg[2].memsz, DATA_MEMSZ);
	assert_int_equal(img.seg[2].filesz, DATA_FILESZ);
	assert_int_equal(img.seg[2].file_offset, DATA_OFF);
	assert_int_equal(img.seg[2].perms, NUB_MEM_READ | NUB_MEM_WRITE);
}

static void test_valid_loads(void **state)
{
	struct fixture *f = *state;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);

	uint64_t size = img.image_end - NUB_PRIMARY_BASE;
	uint8_t *primary = malloc(size);
	assert_non_null(primary);
	memset(primary, 0xAA, size);
	assert_int_equal(nub_elf_load(&img, f->b, f->len, primary, size, &err), NUB_OK);

	uint8_t *text = primary + (TEXT_GPA - NUB_PRIMARY_BASE);
	uint8_t *ro = primary + (RO_GPA - NUB_PRIMARY_BASE);
	uint8_t *data = primary + (DATA_GPA - NUB_PRIMARY_BASE);
	assert_memory_equal(text, f->b + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(ro, f->b + RO_OFF, RO_SIZE);
	assert_memory_equal(data, f->b + DATA_OFF, DATA_FILESZ);
	for (size_t i = DATA_FILESZ; i < DATA_MEMSZ; i++)
		assert_int_equal(data[i], 0); /* bss */
	/* Bytes outside every segment are the caller's: untouched. */
	assert_int_equal(text[TEXT_SIZE], 0xAA);
	assert_int_equal(ro[-1], 0xAA);
	assert_int_equal(ro[RO_SIZE], 0xAA);
	free(primary);
}

static void test_load_rechecks_ranges(void **state)
{
	struct fixture *f = *state;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	uint64_t size = img.image_end - NUB_PRIMARY_BASE;
	uint8_t *primary = calloc(1, size);
	assert_non_null(primary);

	/* Primary one byte short of the bss end. */
	assert_int_equal(nub_elf_load(&img, f->b, f->len, primary, size - 1, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "segment 2: [0x6000, +0x2000) does not fit");
	/* Data shorter than the image parsed from it. */
	assert_int_equal(nub_elf_load(&img, f->b, FILE_SIZE - 1, primary, size, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "segment 2: file range 0x3000 + 0x20");
	/* A tampered image. */
	struct nub_elf_image bad = img;
	bad.seg[1].gpa = 0x3000;
	assert_int_equal(nub_elf_load(&bad, f->b, f->len, primary, size, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "segment 1: gpa 0x3000 is below the primary base");
	bad = img;
	bad.seg[0].memsz = UINT64_MAX;
	assert_int_equal(nub_elf_load(&bad, f->b, f->len, primary, size, &err), NUB_E_LAYOUT);
	bad = img;
	bad.nseg = NUB_ELF_MAX_SEGMENTS + 1;
	assert_int_equal(nub_elf_load(&bad, f->b, f->len, primary, size, &err), NUB_E_INVALID);
	free(primary);
}

static void test_sixteen_loads_accepted(void **state)
{
	struct fixture *f = *state;
	/* 3 + 13 extra PT_LOADs, each one read-only page of bss above the image. */
	for (unsigned i = NPHDRS; i < NPHDRS + 13; i++)
		set_phdr(phdr(f, i), PT_LOAD, PF_R, 0, 0x10000 + (i - NPHDRS) * 0x1000, 0, 0x1000,
			 0x1000);
	ehdr(f)->e_phnum = NPHDRS + 13;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.nseg, NUB_ELF_MAX_SEGMENTS);
	assert_int_equal(img.image_end, 0x10000 + 13 * 0x1000);
}

static void test_same_perms_may_share_a_page(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_RO)->p_vaddr = TEXT_GPA + TEXT_SIZE; /* right after the text, same page */
	phdr(f, PH_RO)->p_flags = PF_R | PF_X;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.seg[1].perms, NUB_MEM_READ | NUB_MEM_EXECUTE);
}

static void test_entry_at_last_code_byte(void **state)
{
	struct fixture *f = *state;
	ehdr(f)->e_entry = TEXT_GPA + TEXT_SIZE - 1;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.entry, TEXT_GPA + TEXT_SIZE - 1);
}

static void test_unaligned_buffer(void **state)
{
	struct fixture *f = *state;
	uint8_t *copy = malloc(f->len + 1);
	assert_non_null(copy);
	memcpy(copy + 1, f->b, f->len);
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(copy + 1, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.nseg, 3);
	free(copy);
}

static void test_load_null_arguments(void **state)
{
	struct fixture *f = *state;
	struct nub_elf_image img;
	struct nub_error err;
	uint8_t primary[16];
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(nub_elf_load(NULL, f->b, f->len, primary, sizeof primary, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "nub_elf_load: img, data and primary are required");
	assert_int_equal(nub_elf_load(&img, f->b, f->len, NULL, sizeof primary, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "nub_elf_load: img, data and primary are required");
	assert_int_equal(nub_elf_load(&img, NULL, f->len, primary, sizeof primary, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "nub_elf_load: img, data and primary are required");
	/* No data at all: the first segment's file bytes are missing. */
	assert_int_equal(nub_elf_load(&img, NULL, 0, primary, sizeof primary, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "segment 0: file range 0x1000 + 0x100");
}

/* A segment with no file bytes (pure bss) is zero-filled over whatever the primary held. */
static void test_load_bss_only_segment(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_RO)->p_filesz = 0;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.seg[1].filesz, 0);
	uint64_t size = img.image_end - NUB_PRIMARY_BASE;
	uint8_t *primary = malloc(size);
	assert_non_null(primary);
	memset(primary, 0xAA, size);
	assert_int_equal(nub_elf_load(&img, f->b, f->len, primary, size, &err), NUB_OK);
	uint8_t *ro = primary + (RO_GPA - NUB_PRIMARY_BASE);
	for (size_t i = 0; i < RO_SIZE; i++)
		assert_int_equal(ro[i], 0);
	assert_int_equal(ro[RO_SIZE], 0xAA);
	assert_memory_equal(primary + (TEXT_GPA - NUB_PRIMARY_BASE), f->b + TEXT_OFF, TEXT_SIZE);
	free(primary);
}

/* Program headers need not be sorted: the segments keep their order, image_end is the highest end. */
static void test_segments_out_of_address_order(void **state)
{
	struct fixture *f = *state;
	Elf64_Phdr text = *phdr(f, PH_TEXT);
	*phdr(f, PH_TEXT) = *phdr(f, PH_DATA);
	*phdr(f, PH_DATA) = text;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.nseg, 3);
	assert_int_equal(img.seg[0].gpa, DATA_GPA);
	assert_int_equal(img.seg[1].gpa, RO_GPA);
	assert_int_equal(img.seg[2].gpa, TEXT_GPA);
	assert_int_equal(img.image_end, IMAGE_END);
	assert_int_equal(img.entry, ENTRY);

	/* A read-only segment below the data, in the page where the data starts, is still refused. */
	phdr(f, PH_TEXT)->p_vaddr = DATA_GPA + 0x100; /* slot 0 now holds the data segment */
	phdr(f, PH_RO)->p_vaddr = DATA_GPA;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[1] (R--) and PT_LOAD[0] (RW-) share the page 0x6000");
}

/* Only the first nub ABI note counts; a later one, whatever its version, is ignored. */
static void test_first_abi_note_wins(void **state)
{
	struct fixture *f = *state;
	uint8_t *notes = f->b + RO_OFF;
	elf_file_note(notes + NOTES_SIZE, 4, 4, NUB_NOTE_TYPE_ABI, NUB_NOTE_NAME);
	nub_put_le32(notes + NOTES_SIZE + 16, NUB_ABI_VERSION + 1);
	phdr(f, PH_NOTE)->p_filesz = NOTES_SIZE + 20;
	phdr(f, PH_NOTE)->p_memsz = NOTES_SIZE + 20;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.abi_version, NUB_ABI_VERSION);

	/* Swapped: the first note now carries the wrong version. */
	nub_put_le32(notes + NUB_NOTE_AT + 16, NUB_ABI_VERSION + 1);
	nub_put_le32(notes + NOTES_SIZE + 16, NUB_ABI_VERSION);
	assert_parse_fails(f, NUB_E_ABI, "guest ABI version 2 does not match host ABI version 1");
}

/* ---- Truncation and identification ---- */

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	f->len = 0;
	assert_parse_fails(f, NUB_E_ELF,
			   "file size 0x0 is smaller than an ELF64 header (0x40 bytes)");
	f->len = 10;
	assert_parse_fails(f, NUB_E_ELF, "file size 0xa is smaller than an ELF64 header");
	f->len = 0x30; /* inside the ELF header */
	assert_parse_fails(f, NUB_E_ELF, "file size 0x30 is smaller than an ELF64 header");
	f->len = 0x80; /* inside the program headers */
	assert_parse_fails(
		f, NUB_E_ELF,
		"e_phoff 0x40 + 4 program headers (0xe0 bytes) exceeds the file size 0x80");
	f->len = TEXT_OFF + 0x80; /* inside the text segment */
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_LOAD[0]: p_offset 0x1000 + p_filesz 0x100 exceeds the file size 0x1080");
	f->len = DATA_OFF + 0x10; /* inside the data segment */
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_LOAD[3]: p_offset 0x3000 + p_filesz 0x20 exceeds the file size 0x3010");
}

static void test_null_arguments(void **state)
{
	struct fixture *f = *state;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(NULL, 10, &img, &err), NUB_E_INVALID);
	assert_int_equal(nub_elf_parse(f->b, f->len, NULL, &err), NUB_E_INVALID);
	/* A NULL error pointer is allowed. */
	assert_int_equal(nub_elf_parse(f->b, 10, &img, NULL), NUB_E_ELF);
	/* No data and no length is simply too short to be an ELF. */
	assert_int_equal(nub_elf_parse(NULL, 0, &img, &err), NUB_E_ELF);
	nub_assert_error(&err, NUB_E_ELF, "file size 0x0 is smaller than an ELF64 header");
}

static void test_bad_magic(void **state)
{
	struct fixture *f = *state;
	f->b[1] = 'X';
	assert_parse_fails(f, NUB_E_ELF, "bad ELF magic 7f 58 4c 46");
}

static void test_elfclass32(void **state)
{
	struct fixture *f = *state;
	f->b[EI_CLASS] = ELFCLASS32;
	assert_parse_fails(f, NUB_E_ELF, "EI_CLASS 1 is not ELFCLASS64 (2)");
}

static void test_big_endian(void **state)
{
	struct fixture *f = *state;
	f->b[EI_DATA] = ELFDATA2MSB;
	assert_parse_fails(f, NUB_E_ELF, "EI_DATA 2 is not ELFDATA2LSB (1)");
}

static void test_bad_ident_version(void **state)
{
	struct fixture *f = *state;
	f->b[EI_VERSION] = 2;
	assert_parse_fails(f, NUB_E_ELF, "EI_VERSION 2 is not EV_CURRENT (1)");
}

static void test_wrong_machine(void **state)
{
	struct fixture *f = *state;
	ehdr(f)->e_machine = EM_386;
	assert_parse_fails(f, NUB_E_ELF, "e_machine 0x3 is not EM_X86_64 (0x3e)");
	ehdr(f)->e_machine = EM_AARCH64;
	assert_parse_fails(f, NUB_E_ELF, "e_machine 0xb7 is not EM_X86_64");
}

static void test_et_dyn(void **state)
{
	struct fixture *f = *state;
	ehdr(f)->e_type = ET_DYN;
	assert_parse_fails(f, NUB_E_ELF, "e_type 0x3 is not ET_EXEC (0x2)");
}

static void test_bad_e_version(void **state)
{
	struct fixture *f = *state;
	ehdr(f)->e_version = 0;
	assert_parse_fails(f, NUB_E_ELF, "e_version 0x0 is not EV_CURRENT");
}

/* ---- Program header table ---- */

static void test_bad_phdr_table(void **state)
{
	struct fixture *f = *state;
	ehdr(f)->e_phentsize = 32;
	assert_parse_fails(f, NUB_E_ELF, "e_phentsize 0x20 is not 0x38");
	ehdr(f)->e_phentsize = sizeof(Elf64_Phdr);

	ehdr(f)->e_phoff = 0;
	assert_parse_fails(f, NUB_E_ELF, "e_phoff 0x0 overlaps the ELF header");
	ehdr(f)->e_phoff = UINT64_MAX - 8;
	assert_parse_fails(f, NUB_E_ELF, "e_phoff 0xfffffffffffffff7 + 4 program headers");
	ehdr(f)->e_phoff = FILE_SIZE - 0x38; /* room for one header, not four */
	assert_parse_fails(f, NUB_E_ELF, "exceeds the file size 0x3020");
	ehdr(f)->e_phoff = PHOFF;

	ehdr(f)->e_phnum = PN_XNUM;
	assert_parse_fails(f, NUB_E_ELF, "e_phnum 0xffff (extended program header numbering)");
	ehdr(f)->e_phnum = 0;
	assert_parse_fails(f, NUB_E_ELF, "no PT_LOAD segment");
}

static void test_no_pt_load(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_TEXT)->p_type = PT_NULL;
	phdr(f, PH_RO)->p_type = PT_NULL;
	phdr(f, PH_DATA)->p_type = PT_GNU_STACK;
	assert_parse_fails(f, NUB_E_ELF, "no PT_LOAD segment among 4 program headers");
}

static void test_seventeen_loads(void **state)
{
	struct fixture *f = *state;
	for (unsigned i = NPHDRS; i < NPHDRS + 14; i++)
		set_phdr(phdr(f, i), PT_LOAD, PF_R, 0, 0x10000 + (i - NPHDRS) * 0x1000, 0, 0x1000,
			 0x1000);
	ehdr(f)->e_phnum = NPHDRS + 14;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[17]: more than 16 PT_LOAD segments");
}

/* ---- PT_LOAD fields ---- */

static void test_file_range_beyond_file(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_TEXT)->p_offset = DATA_OFF;
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_LOAD[0]: p_offset 0x3000 + p_filesz 0x100 exceeds the file size 0x3020");
}

static void test_file_range_overflow(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_DATA)->p_offset = 0xFFFFFFFFFFFFFFF0ull;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[3]: p_offset 0xfffffffffffffff0 + p_filesz 0x20 overflows");
}

static void test_filesz_above_memsz(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_RO)->p_memsz = 0x20;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[1]: p_filesz 0x40 exceeds p_memsz 0x20");
}

static void test_memsz_zero(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_RO)->p_filesz = 0;
	phdr(f, PH_RO)->p_memsz = 0;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[1]: p_memsz 0x0");
}

static void test_huge_memsz(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_DATA)->p_memsz = 0xffffffffffff0000ull;
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_LOAD[3]: p_vaddr 0x6000 + p_memsz 0xffffffffffff0000 exceeds the image "
		"limit 0x10000000");
	phdr(f, PH_DATA)->p_memsz = 0xfffffffffffff000ull;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[3]: p_vaddr 0x6000 + p_memsz 0xfffffffffffff000 overflows");
	phdr(f, PH_DATA)->p_memsz = NUB_ELF_MAX_IMAGE_END;
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_LOAD[3]: p_vaddr 0x6000 + p_memsz 0x10000000 exceeds the image limit "
		"0x10000000");
	/* Ending exactly at the limit is fine. */
	phdr(f, PH_DATA)->p_memsz = NUB_ELF_MAX_IMAGE_END - DATA_GPA;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.image_end, NUB_ELF_MAX_IMAGE_END);
}

static void test_vaddr_below_base(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_TEXT)->p_vaddr = 0x3000;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[0]: p_vaddr 0x3000 is below the primary base 0x4000");
	phdr(f, PH_TEXT)->p_vaddr = 0;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[0]: p_vaddr 0x0 is below the primary base");
	phdr(f, PH_TEXT)->p_vaddr = NUB_PRIMARY_BASE - 1;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[0]: p_vaddr 0x3fff is below the primary base");
}

static void test_overlapping_segments(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_RO)->p_vaddr = TEXT_GPA + 0x80;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[1] [0x4080, 0x40c0) overlaps PT_LOAD[0] [0x4000, 0x4100)");
	/* Same permissions do not make an overlap acceptable. */
	phdr(f, PH_RO)->p_flags = PF_R | PF_X;
	assert_parse_fails(f, NUB_E_ELF, "overlaps PT_LOAD[0]");
	/* The bss of the data segment reaching into a later segment. */
	phdr(f, PH_RO)->p_vaddr = RO_GPA;
	phdr(f, PH_RO)->p_flags = PF_R;
	phdr(f, PH_DATA)->p_vaddr = RO_GPA - 0x10;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[3] [0x4ff0, 0x6ff0) overlaps PT_LOAD[1] [0x5000, 0x5040)");
}

static void test_page_shared_with_other_perms(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_RO)->p_vaddr = TEXT_GPA + TEXT_SIZE; /* same page as the text */
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_LOAD[1] (R--) and PT_LOAD[0] (R-X) share the page 0x4000 with different "
		"permissions");
	/* The last page of the data bss shared with a read-only segment after it. */
	phdr(f, PH_DATA)->p_memsz = 0x1800;
	phdr(f, PH_RO)->p_vaddr = DATA_GPA + 0x1800;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[3] (RW-) and PT_LOAD[1] (R--) share the page 0x7000");
}

static void test_writable_and_executable(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_DATA)->p_flags = PF_R | PF_W | PF_X;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_LOAD[3]: p_flags 0x7 (RWX) is both writable and executable");
}

static void test_unreadable(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_TEXT)->p_flags = PF_X;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[0]: p_flags 0x1 (--X) is not readable");
	phdr(f, PH_TEXT)->p_flags = PF_R | PF_X;
	phdr(f, PH_DATA)->p_flags = PF_W;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[3]: p_flags 0x2 (-W-) is not readable");
	phdr(f, PH_DATA)->p_flags = 0;
	assert_parse_fails(f, NUB_E_ELF, "PT_LOAD[3]: p_flags 0x0 (---) is not readable");
}

static void test_entry_outside_code(void **state)
{
	struct fixture *f = *state;
	ehdr(f)->e_entry = DATA_GPA + 0x100; /* in the bss */
	assert_parse_fails(f, NUB_E_ELF,
			   "e_entry 0x6100 is in PT_LOAD[3] (RW-), which is not executable");
	ehdr(f)->e_entry = RO_GPA;
	assert_parse_fails(f, NUB_E_ELF,
			   "e_entry 0x5000 is in PT_LOAD[1] (R--), which is not executable");
	ehdr(f)->e_entry = TEXT_GPA + TEXT_SIZE; /* one past the code */
	assert_parse_fails(f, NUB_E_ELF, "e_entry 0x4100 is outside every PT_LOAD segment");
	ehdr(f)->e_entry = 0;
	assert_parse_fails(f, NUB_E_ELF, "e_entry 0x0 is outside every PT_LOAD segment");
	ehdr(f)->e_entry = 0x100000;
	assert_parse_fails(f, NUB_E_ELF, "e_entry 0x100000 is outside every PT_LOAD segment");
}

/* ---- The ABI note ---- */

static void test_missing_note(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_NOTE)->p_type = PT_NULL;
	assert_parse_fails(f, NUB_E_ABI, "guest ELF has no nub ABI note (expected version 1)");
}

static void test_note_with_other_name_or_type(void **state)
{
	struct fixture *f = *state;
	uint8_t *note = f->b + RO_OFF + NUB_NOTE_AT;
	memcpy(note + 12, "nuc", 4);
	assert_parse_fails(f, NUB_E_ABI, "guest ELF has no nub ABI note");
	memcpy(note + 12, "nub", 4);
	nub_put_le32(note + 8, NUB_NOTE_TYPE_ABI + 1);
	assert_parse_fails(f, NUB_E_ABI, "guest ELF has no nub ABI note");
	/* The nub note outside the PT_NOTE range does not count. */
	nub_put_le32(note + 8, NUB_NOTE_TYPE_ABI);
	phdr(f, PH_NOTE)->p_filesz = NUB_NOTE_AT;
	assert_parse_fails(f, NUB_E_ABI, "guest ELF has no nub ABI note");
}

static void test_wrong_note_version(void **state)
{
	struct fixture *f = *state;
	nub_put_le32(f->b + RO_OFF + NUB_NOTE_AT + 16, 7);
	assert_parse_fails(f, NUB_E_ABI, "guest ABI version 7 does not match host ABI version 1");
	nub_put_le32(f->b + RO_OFF + NUB_NOTE_AT + 16, 0);
	assert_parse_fails(f, NUB_E_ABI, "guest ABI version 0 does not match host ABI version 1");
}

static void test_note_bad_descsz(void **state)
{
	struct fixture *f = *state;
	nub_put_le32(f->b + RO_OFF + NUB_NOTE_AT + 4, 8);
	phdr(f, PH_NOTE)->p_filesz = NOTES_SIZE + 4;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: note at offset 0x18: nub ABI note descsz 0x8 is not 4");
}

static void test_note_runs_past_segment(void **state)
{
	struct fixture *f = *state;
	uint8_t *notes = f->b + RO_OFF;
	nub_put_le32(notes, 0x100); /* first note's namesz */
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: note at offset 0x0: namesz 0x100 runs past the segment end "
			   "(0x20 bytes left)");
	nub_put_le32(notes, 0xFFFFFFFF);
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: note at offset 0x0: namesz 0xffffffff runs past");
	nub_put_le32(notes, 4);

	nub_put_le32(notes + 4, 0x100); /* first note's descsz */
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: note at offset 0x0: descsz 0x100 runs past the segment end "
			   "(0x1c bytes left)");
	nub_put_le32(notes + 4, 0xFFFFFFFF);
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: note at offset 0x0: descsz 0xffffffff runs past");
	nub_put_le32(notes + 4, 5);

	nub_put_le32(notes + NUB_NOTE_AT + 4, 5); /* the nub note's descsz, one byte too many */
	assert_parse_fails(f, NUB_E_ELF, "PT_NOTE[2]: note at offset 0x18: descsz 0x5 runs past");
	nub_put_le32(notes + NUB_NOTE_AT + 4, 4);

	/* A last note whose name padding alone reaches the segment end. */
	elf_file_note(notes + NOTES_SIZE, 1, 4, 9, "");
	phdr(f, PH_NOTE)->p_filesz = NOTES_SIZE + 13;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: note at offset 0x2c: descsz 0x4 runs past the segment end "
			   "(0x0 bytes left)");
	phdr(f, PH_NOTE)->p_filesz = NOTES_SIZE + 16;
	assert_parse_fails(f, NUB_E_ELF, "note at offset 0x2c: descsz 0x4 runs past");

	/* A partial note header at the end of the segment. */
	phdr(f, PH_NOTE)->p_filesz = NOTES_SIZE + 8;
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_NOTE[2]: note at offset 0x2c: header needs 0xc bytes, the segment has "
		"0x8 left");
}

static void test_note_segment_beyond_file(void **state)
{
	struct fixture *f = *state;
	phdr(f, PH_NOTE)->p_offset = FILE_SIZE - 8;
	assert_parse_fails(
		f, NUB_E_ELF,
		"PT_NOTE[2]: p_offset 0x3018 + p_filesz 0x2c exceeds the file size 0x3020");
	phdr(f, PH_NOTE)->p_offset = UINT64_MAX;
	assert_parse_fails(f, NUB_E_ELF,
			   "PT_NOTE[2]: p_offset 0xffffffffffffffff + p_filesz 0x2c overflows");
}

static void test_note_padding_cut_at_segment_end(void **state)
{
	struct fixture *f = *state;
	/* A last note with a 1-byte name and no descriptor; its name padding lies past the end. */
	uint8_t *notes = f->b + RO_OFF;
	elf_file_note(notes + NOTES_SIZE, 1, 0, 9, "");
	phdr(f, PH_NOTE)->p_filesz = NOTES_SIZE + 13;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
}

static void test_note_segment_aligned_to_8(void **state)
{
	struct fixture *f = *state;
	/* With 8-byte note alignment the 5-byte build-id pads to 8 from offset 16: still 24. */
	phdr(f, PH_NOTE)->p_align = 8;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	assert_int_equal(img.abi_version, NUB_ABI_VERSION);
}

static void test_section_headers_ignored(void **state)
{
	struct fixture *f = *state;
	/* The loader uses program headers only: a section header table past the file is ignored. */
	ehdr(f)->e_shoff = FILE_SIZE - 0x10;
	ehdr(f)->e_shentsize = sizeof(Elf64_Shdr);
	ehdr(f)->e_shnum = 4;
	ehdr(f)->e_shstrndx = 3;
	struct nub_elf_image img;
	struct nub_error err;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
	ehdr(f)->e_shoff = UINT64_MAX;
	ehdr(f)->e_shnum = 0;
	assert_int_equal(nub_elf_parse(f->b, f->len, &img, &err), NUB_OK);
}

/* Parses (len) bytes of (src) placed flush against an inaccessible page: any over-read faults. */
static enum nub_status parse_flush(const uint8_t *src, size_t len, struct nub_error *err)
{
	size_t room = (len + 0xFFFu) & ~(size_t)0xFFF;
	uint8_t *m = mmap(NULL, room + 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mprotect(m + room, 0x1000, PROT_NONE), 0);
	uint8_t *b = m + room - len;
	memcpy(b, src, len);
	assert_int_equal(mprotect(m, room, PROT_READ), 0); /* libelf must not write either */
	struct nub_elf_image img;
	enum nub_status st = nub_elf_parse(b, len, &img, err);
	munmap(m, room + 0x1000);
	return st;
}

static void test_no_access_past_the_end(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	assert_int_equal(parse_flush(f->b, f->len, &err), NUB_OK);
	static const size_t cuts[] = { 0x40, 0x41, 0x80, 0x11f, 0x120, 0x1080, 0x2010, 0x301f };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
		assert_int_equal(parse_flush(f->b, cuts[i], &err), NUB_E_ELF);

	/* Section header tables in and past the end of the file, with every kind of count. */
	static const uint64_t shoffs[] = { FILE_SIZE - 0x10,   FILE_SIZE,
					   FILE_SIZE + 0x1000, 0x40,
					   UINT64_MAX,         UINT64_MAX - 0x100 };
	static const uint16_t shnums[] = { 0, 1, 4, 0xff00, 0xffff };
	for (size_t i = 0; i < sizeof shoffs / sizeof shoffs[0]; i++) {
		for (size_t j = 0; j < sizeof shnums / sizeof shnums[0]; j++) {
			ehdr(f)->e_shoff = shoffs[i];
			ehdr(f)->e_shnum = shnums[j];
			ehdr(f)->e_shentsize = sizeof(Elf64_Shdr);
			ehdr(f)->e_shstrndx = (j & 1) ? SHN_XINDEX : 1;
			assert_int_equal(parse_flush(f->b, f->len, &err), NUB_OK);
		}
	}

	/* Notes running up to the very last byte. */
	phdr(f, PH_NOTE)->p_offset = FILE_SIZE - NOTES_SIZE;
	memcpy(f->b + FILE_SIZE - NOTES_SIZE, f->b + RO_OFF, NOTES_SIZE);
	assert_int_equal(parse_flush(f->b, f->len, &err), NUB_OK);
	nub_put_le32(f->b + FILE_SIZE - NOTES_SIZE + NUB_NOTE_AT + 4, 5);
	assert_int_equal(parse_flush(f->b, f->len, &err), NUB_E_ELF);
	nub_assert_error(&err, NUB_E_ELF, "descsz 0x5 runs past");
}

/* ---- Reading files ---- */

static void make_dir(struct fixture *f)
{
	snprintf(f->dir, sizeof f->dir, "/tmp/nub-test-elf-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
}

static void path_in(const struct fixture *f, const char *name, char *out, size_t n)
{
	int w = snprintf(out, n, "%s/%s", f->dir, name);
	assert_true(w > 0 && (size_t)w < n);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void test_read_file_roundtrip(void **state)
{
	struct fixture *f = *state;
	make_dir(f);
	char path[128];
	path_in(f, "guest.elf", path, sizeof path);
	write_file(path, f->b, f->len);

	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, NULL, &data, &len, &err), NUB_OK);
	assert_int_equal(len, f->len);
	assert_memory_equal(data, f->b, len);
	struct nub_elf_image img;
	assert_int_equal(nub_elf_parse(data, len, &img, &err), NUB_OK);
	nub_alloc_free(NULL, data);
	unlink(path);
}

static void test_read_file_missing(void **state)
{
	struct fixture *f = *state;
	make_dir(f);
	char path[128];
	path_in(f, "missing.elf", path, sizeof path);
	uint8_t *data = (uint8_t *)"sentinel";
	size_t len = 99;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, NULL, &data, &len, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, path);
	nub_assert_error(&err, NUB_E_IO, "No such file or directory");
	assert_int_equal(err.sys_errno, ENOENT);
	assert_null(data);
	assert_int_equal(len, 0);
}

static void test_read_file_empty(void **state)
{
	struct fixture *f = *state;
	make_dir(f);
	char path[128];
	path_in(f, "empty.elf", path, sizeof path);
	write_file(path, "", 0);
	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, NULL, &data, &len, &err), NUB_E_ELF);
	nub_assert_error(&err, NUB_E_ELF, path);
	nub_assert_error(&err, NUB_E_ELF, "is empty");
	assert_null(data);
	unlink(path);
}

static void test_read_file_not_regular(void **state)
{
	struct fixture *f = *state;
	make_dir(f);
	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(f->dir, NULL, &data, &len, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, f->dir);
	nub_assert_error(&err, NUB_E_IO, "is not a regular file");
	assert_null(data);

	/* A FIFO with no writer: opening it must not block. */
	char path[128];
	path_in(f, "fifo", path, sizeof path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(nub_elf_read_file(path, NULL, &data, &len, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, "is not a regular file");
	unlink(path);
}

static void test_read_file_too_large(void **state)
{
	struct fixture *f = *state;
	make_dir(f);
	char path[128];
	path_in(f, "big.elf", path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)NUB_ELF_MAX_FILE_SIZE + 1), 0); /* sparse */
	close(fd);
	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, NULL, &data, &len, &err), NUB_E_ELF);
	nub_assert_error(&err, NUB_E_ELF, "file size 0x10000001 exceeds the limit 0x10000000");
	assert_null(data);
	unlink(path);
}

static void test_read_file_alloc_failure(void **state)
{
	struct fixture *f = *state;
	make_dir(f);
	char path[128];
	path_in(f, "guest.elf", path, sizeof path);
	write_file(path, f->b, f->len);

	struct alloc_inject a = { .fail_at = 1 };
	struct nub_alloc_hook hook = alloc_inject_hook(&a);
	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, &hook, &data, &len, &err), NUB_E_NOMEM);
	nub_assert_error(&err, NUB_E_NOMEM, "0x3020 bytes");
	assert_null(data);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.live, 0);

	/* Without injected failure: one block, released through the same hook. */
	a = (struct alloc_inject){ 0 };
	assert_int_equal(nub_elf_read_file(path, &hook, &data, &len, &err), NUB_OK);
	assert_int_equal(a.live, 1);
	assert_int_equal(len, f->len);
	nub_alloc_free(&hook, data);
	assert_int_equal(a.live, 0);
	unlink(path);
}

static void test_read_file_null_arguments(void **state)
{
	(void)state;
	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(NULL, NULL, &data, &len, &err), NUB_E_INVALID);
	assert_int_equal(nub_elf_read_file("/x", NULL, NULL, &len, &err), NUB_E_INVALID);
	assert_int_equal(nub_elf_read_file("/x", NULL, &data, NULL, &err), NUB_E_INVALID);
}

/*
 * sysfs attributes report a size of one page but hold a few bytes: the read ends early, and the
 * loader reports the short read instead of using a half-filled buffer.
 */
static void test_read_file_shrank(void **state)
{
	(void)state;
	const char *path = "/sys/devices/system/cpu/online";
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 0x1000);
	struct alloc_inject a = { 0 };
	struct nub_alloc_hook hook = alloc_inject_hook(&a);
	uint8_t *data = (uint8_t *)"sentinel";
	size_t len = 99;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, &hook, &data, &len, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, "read /sys/devices/system/cpu/online: file shrank (0x");
	nub_assert_error(&err, NUB_E_IO, " of 0x1000 bytes)");
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.live, 0);
}

/* A read that fails (this sysfs attribute answers EIO while autosuspend is off) names errno. */
static void test_read_file_read_error(void **state)
{
	(void)state;
	const char *path = "/sys/devices/software/power/autosuspend_delay_ms";
	struct alloc_inject a = { 0 };
	struct nub_alloc_hook hook = alloc_inject_hook(&a);
	uint8_t *data = NULL;
	size_t len = 0;
	struct nub_error err;
	assert_int_equal(nub_elf_read_file(path, &hook, &data, &len, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, "read /sys/devices/software/power/autosuspend_delay_ms: ");
	assert_int_equal(err.sys_errno, EIO);
	assert_null(data);
	assert_int_equal(a.live, 0);
}

/* ---- The catalogue of crafted files (elf_variants.h), also fuzz_elf's and fuzz_guest_blob's seeds */

static void test_catalogue_variants(void **state)
{
	(void)state;
	for (size_t i = 0; i < elf_variant_count; i++) {
		const struct elf_variant *v = &elf_variants[i];
		struct nub_elf_image img;
		struct nub_error err;
		size_t len;
		uint8_t *b = elf_file_build(&v->spec, &len);

		assert_non_null(b);
		print_message("  variant: %s\n", v->elf_seed ? v->elf_seed : v->blob_seed);
		enum nub_status st = nub_elf_parse(b, len, &img, &err);
		assert_int_equal(st, v->status);
		if (st != NUB_OK)
			nub_assert_error(&err, v->status, v->message);
		free(b);
	}
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_valid_parses),
	NUB_TEST_CASE(test_valid_loads),
	NUB_TEST_CASE(test_load_rechecks_ranges),
	NUB_TEST_CASE(test_sixteen_loads_accepted),
	NUB_TEST_CASE(test_same_perms_may_share_a_page),
	NUB_TEST_CASE(test_entry_at_last_code_byte),
	NUB_TEST_CASE(test_unaligned_buffer),
	NUB_TEST_CASE(test_load_null_arguments),
	NUB_TEST_CASE(test_load_bss_only_segment),
	NUB_TEST_CASE(test_segments_out_of_address_order),
	NUB_TEST_CASE(test_first_abi_note_wins),
	NUB_TEST_CASE(test_truncated),
	NUB_TEST_CASE(test_null_arguments),
	NUB_TEST_CASE(test_bad_magic),
	NUB_TEST_CASE(test_elfclass32),
	NUB_TEST_CASE(test_big_endian),
	NUB_TEST_CASE(test_bad_ident_version),
	NUB_TEST_CASE(test_wrong_machine),
	NUB_TEST_CASE(test_et_dyn),
	NUB_TEST_CASE(test_bad_e_version),
	NUB_TEST_CASE(test_bad_phdr_table),
	NUB_TEST_CASE(test_no_pt_load),
	NUB_TEST_CASE(test_seventeen_loads),
	NUB_TEST_CASE(test_file_range_beyond_file),
	NUB_TEST_CASE(test_file_range_overflow),
	NUB_TEST_CASE(test_filesz_above_memsz),
	NUB_TEST_CASE(test_memsz_zero),
	NUB_TEST_CASE(test_huge_memsz),
	NUB_TEST_CASE(test_vaddr_below_base),
	NUB_TEST_CASE(test_overlapping_segments),
	NUB_TEST_CASE(test_page_shared_with_other_perms),
	NUB_TEST_CASE(test_writable_and_executable),
	NUB_TEST_CASE(test_unreadable),
	NUB_TEST_CASE(test_entry_outside_code),
	NUB_TEST_CASE(test_missing_note),
	NUB_TEST_CASE(test_note_with_other_name_or_type),
	NUB_TEST_CASE(test_wrong_note_version),
	NUB_TEST_CASE(test_note_bad_descsz),
	NUB_TEST_CASE(test_note_runs_past_segment),
	NUB_TEST_CASE(test_note_segment_beyond_file),
	NUB_TEST_CASE(test_note_padding_cut_at_segment_end),
	NUB_TEST_CASE(test_note_segment_aligned_to_8),
	NUB_TEST_CASE(test_section_headers_ignored),
	NUB_TEST_CASE(test_no_access_past_the_end),
	NUB_TEST_CASE(test_read_file_roundtrip),
	NUB_TEST_CASE(test_read_file_missing),
	NUB_TEST_CASE(test_read_file_empty),
	NUB_TEST_CASE(test_read_file_not_regular),
	NUB_TEST_CASE(test_read_file_too_large),
	NUB_TEST_CASE(test_read_file_alloc_failure),
	NUB_TEST_CASE(test_read_file_null_arguments),
	NUB_TEST_CASE(test_read_file_shrank),
	NUB_TEST_CASE(test_read_file_read_error),
	cmocka_unit_test(test_catalogue_variants),
};

NUB_TEST_SUITE(tests);
