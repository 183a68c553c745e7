/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue of crafted guest ELF files: checked by test_elf.c, written as seeds by seedgen. */
#ifndef NUB_HARNESS_ELF_VARIANTS_H
#define NUB_HARNESS_ELF_VARIANTS_H

#include <stddef.h>

#include "elf_file.h"
#include "nub/nub.h"

/*
 * One crafted file (elf_file_build(&spec)) and what nub_elf_parse must say about it. A variant is
 * a seed of fuzz_elf (seed-<elf_seed>), of fuzz_guest_blob (seed-<blob_seed>, with 4 bytes of
 * read-only init data "init"), or both; at least one name is set.
 */
struct elf_variant {
	const char *elf_seed;
	const char *blob_seed;
	struct elf_spec spec;
	enum nub_status status; /* NUB_OK, NUB_E_ELF or NUB_E_ABI */
	const char *message;    /* a substring of the parse error's message; NULL for NUB_OK */
};

extern const struct elf_variant elf_variants[];
extern const size_t elf_variant_count;

#endif
