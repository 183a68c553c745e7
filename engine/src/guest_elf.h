/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a guest ELF (file or buffer) with libelf into a guest memory image; pure, no KVM. */
#ifndef NUB_GUEST_ELF_H
#define NUB_GUEST_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

#define NUB_ELF_MAX_SEGMENTS 16u
#define NUB_ELF_MAX_FILE_SIZE 0x10000000u /* 256 MiB */
#define NUB_ELF_MAX_IMAGE_END 0x10000000u /* segments must end below GPA 256 MiB */

struct nub_elf_segment {
	uint64_t gpa; /* p_vaddr (the image is linked at its guest address) */
	uint64_t memsz;
	uint64_t filesz;
	uint64_t file_offset;
	uint32_t perms; /* NUB_MEM_* from p_flags */
};

struct nub_elf_image {
	uint64_t entry;     /* e_entry, inside an executable segment */
	uint64_t image_end; /* page-aligned end of the highest segment */
	size_t nseg;
	struct nub_elf_segment seg[NUB_ELF_MAX_SEGMENTS];
	uint32_t abi_version; /* from the NUB_NOTE_NAME note */
};

/*
 * Reads the whole file at (path) into a buffer allocated through (hook); *(data) and *(len)
 * receive it (free with nub_alloc_free). Refuses files over NUB_ELF_MAX_FILE_SIZE and empty files.
 * Errors: NUB_E_IO (naming path and errno), NUB_E_ELF, NUB_E_NOMEM.
 */
enum nub_status nub_elf_read_file(const char *path, const struct nub_alloc_hook *hook,
				  uint8_t **data, size_t *len, struct nub_error *err);

/*
 * Parses and validates the ELF in (data)/(len): ELFCLASS64, little-endian, EM_X86_64, ET_EXEC,
 * 1..NUB_ELF_MAX_SEGMENTS PT_LOAD segments with p_filesz <= p_memsz, file ranges inside the file,
 * guest ranges inside [NUB_PRIMARY_BASE, NUB_ELF_MAX_IMAGE_END) without overflow, no two segments
 * overlapping, no page shared by segments with different permissions, no segment both writable and
 * executable, every segment readable, the entry inside an executable segment, and a NUB_NOTE_NAME
 * note of type NUB_NOTE_TYPE_ABI equal to NUB_ABI_VERSION (NUB_E_ABI otherwise). Errors (NUB_E_ELF)
 * name the field, the segment index and the value.
 */
enum nub_status nub_elf_parse(const uint8_t *data, size_t len, struct nub_elf_image *img,
			      struct nub_error *err);

/*
 * Copies each segment of (img) from (data) into (primary), the host view of the primary region
 * (NUB_PRIMARY_BASE .. + primary_size), zero-filling p_memsz beyond p_filesz. The caller has
 * validated (img) with nub_elf_parse on the same (data); ranges are re-checked anyway.
 */
enum nub_status nub_elf_load(const struct nub_elf_image *img, const uint8_t *data, size_t len,
			     uint8_t *primary, uint64_t primary_size, struct nub_error *err);

#endif
