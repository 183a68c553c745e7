/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug elf-load-overread (harness/fuzz/planted.cmake), in fuzz_elf: a shim around the
 * engine's ELF segment loader (-Wl,--wrap=nub_elf_load). Armed, after a successful load it reads
 * the byte just past each segment's file range, as a loader that copies one byte too many would:
 * harmless inside the file, a heap-buffer-overflow READ of size 1 when a segment's file range ends
 * at the end of the file (fuzz_elf hands the engine a private copy of exactly the file's size).
 */
#include "guest_elf.h"
#include "nub_fuzz.h"
#include "planted.h"

enum nub_status __real_nub_elf_load(const struct nub_elf_image *img, const uint8_t *data,
				    size_t len, uint8_t *primary, uint64_t primary_size,
				    struct nub_error *err);
enum nub_status __wrap_nub_elf_load(const struct nub_elf_image *img, const uint8_t *data,
				    size_t len, uint8_t *primary, uint64_t primary_size,
				    struct nub_error *err);

/* Keeps the planted read from being optimised away. */
volatile uint8_t nub_planted_elf_sink;

enum nub_status __wrap_nub_elf_load(const struct nub_elf_image *img, const uint8_t *data,
				    size_t len, uint8_t *primary, uint64_t primary_size,
				    struct nub_error *err)
{
	enum nub_status st = __real_nub_elf_load(img, data, len, primary, primary_size, err);
	if (st != NUB_OK || !nub_planted("elf-load-overread"))
		return st;
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *s = &img->seg[i];
		if (s->filesz) /* PLANTED BUG: one byte past the segment's file range */
			nub_planted_elf_sink = data[s->file_offset + s->filesz];
	}
	return st;
}
