/* SPDX-License-Identifier: Apache-2.0 */
/* Guest ELF files for tests and seeds: a writer, the loadable view, a describer. */
#ifndef NUB_HARNESS_ELF_FILE_H
#define NUB_HARNESS_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The smallest guest code: mov $0, %eax; out %eax, $108 (the halt port); hlt. */
extern const uint8_t elf_halt_code[8];

/*
 * One program header and the bytes it describes. Zero fields take the defaults in brackets, so a
 * well-formed segment names only its type, flags, address and bytes.
 */
struct elf_seg {
	uint32_t type;    /* PT_LOAD, PT_NOTE, ... */
	uint32_t flags;   /* PF_R | PF_W | PF_X */
	uint64_t vaddr;   /* p_vaddr and p_paddr */
	const void *data; /* (len) bytes written to the file at (at); NULL with len 0: none */
	size_t len;
	uint64_t at;     /* file offset of the bytes [the next 16-byte boundary after the last] */
	uint64_t offset; /* p_offset [at] */
	uint64_t filesz; /* p_filesz [len] */
	uint64_t memsz;  /* p_memsz [len] */
	uint64_t align;  /* p_align [4 for PT_NOTE, else 0x1000] */
};

/* A whole file: an ELF64 x86-64 ET_EXEC header, the program headers right after it, the bytes. */
struct elf_spec {
	uint64_t entry;
	const struct elf_seg *segs;
	size_t nseg;
	/* Header fields and defects; zero: well formed. */
	uint8_t ei_class;   /* [ELFCLASS64] */
	uint16_t e_type;    /* [ET_EXEC] */
	uint16_t e_machine; /* [EM_X86_64] */
	uint64_t phoff;     /* e_phoff [right after the header] */
	bool bad_magic;     /* "\177XLF" */
	size_t size;        /* the file's length [the end of the last bytes]; zeros pad it */
	size_t truncate;    /* cut the file to this many bytes [whole] */
};

/*
 * Writes (s) as a calloc'd image of *(len) bytes; free it. NULL if memory ran out or a segment's
 * bytes overlap the headers.
 */
uint8_t *elf_file_build(const struct elf_spec *s, size_t *len);

/* Writes the ELF note header (namesz, descsz, type) and (namesz) bytes of (name) at (p). */
void elf_file_note(uint8_t *p, uint32_t namesz, uint32_t descsz, uint32_t type, const char *name);

/* The 20-byte nub ABI note carrying (version), with descsz (descsz) (4 when well formed). */
void elf_file_abi_note(uint8_t p[20], uint32_t version, uint32_t descsz);

/*
 * A built guest reduced to its loadable view: the bytes up to the end of the last program header
 * or segment, with the section header fields cleared. Debug info and symbols (which hold build
 * paths) are dropped; everything nub_elf_parse reads is kept. Reads (path); returns a malloc'd
 * image of *(len) bytes, or NULL with a reason in (why).
 */
uint8_t *elf_file_loadable_view(const char *path, size_t *len, const char **why);

/* Prints the ELF header and program headers of (data, len) for the reproducers. */
void elf_file_describe(const uint8_t *data, size_t len, FILE *out);

#endif
