/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_elf: guest ELF parsing and loading; what parses must load inside the image it describes. */
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"
#include "fuzz_formats.h"
#include "guest_elf.h"
#include "nub_fuzz.h"

#define MAX_INPUT (1u << 20)
#define PATTERN 0xa5
#define NEGATIVE_LOAD_LIMIT (64u << 10)
#define PAGE_OF(a) ((a) & ~(uint64_t)(NUB_PAGE_SIZE - 1))

/* The invariants nub_elf_parse promises in guest_elf.h, checked on its output. */
static void check_image(const struct nub_elf_image *img, size_t len)
{
	NUB_FUZZ_CHECK_OP("nub_elf_parse", img->nseg >= 1 && img->nseg <= NUB_ELF_MAX_SEGMENTS);
	NUB_FUZZ_CHECK_OP("nub_elf_parse", img->image_end % NUB_PAGE_SIZE == 0);
	NUB_FUZZ_CHECK_OP("nub_elf_parse", img->image_end > NUB_PRIMARY_BASE &&
						   img->image_end <= NUB_ELF_MAX_IMAGE_END);
	NUB_FUZZ_CHECK_OP("nub_elf_parse", img->abi_version == NUB_ABI_VERSION);
	bool entry_ok = false;
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *a = &img->seg[i];
		NUB_FUZZ_CHECK_OP("nub_elf_parse", a->gpa >= NUB_PRIMARY_BASE && a->memsz > 0 &&
							   a->filesz <= a->memsz);
		NUB_FUZZ_CHECK_OP("nub_elf_parse", a->memsz <= img->image_end &&
							   a->gpa <= img->image_end - a->memsz);
		NUB_FUZZ_CHECK_OP("nub_elf_parse",
				  a->file_offset <= len && a->filesz <= len - a->file_offset);
		NUB_FUZZ_CHECK_OP("nub_elf_parse", a->perms & NUB_MEM_READ);
		NUB_FUZZ_CHECK_OP("nub_elf_parse",
				  !((a->perms & NUB_MEM_WRITE) && (a->perms & NUB_MEM_EXECUTE)));
		if ((a->perms & NUB_MEM_EXECUTE) && img->entry >= a->gpa &&
		    img->entry - a->gpa < a->memsz)
			entry_ok = true;
		for (size_t j = 0; j < i; j++) {
			const struct nub_elf_segment *b = &img->seg[j];
			NUB_FUZZ_CHECK_OP("nub_elf_parse", a->gpa + a->memsz <= b->gpa ||
								   b->gpa + b->memsz <= a->gpa);
			bool share = PAGE_OF(a->gpa) <= PAGE_OF(b->gpa + b->memsz - 1) &&
				     PAGE_OF(b->gpa) <= PAGE_OF(a->gpa + a->memsz - 1);
			NUB_FUZZ_CHECK_OP("nub_elf_parse", !share || a->perms == b->perms);
		}
	}
	NUB_FUZZ_CHECK_OP("nub_elf_parse", entry_ok);
}

/* Segment indices of (img) by ascending gpa. */
static void sort_segments(const struct nub_elf_image *img, size_t *order)
{
	for (size_t i = 0; i < img->nseg; i++) {
		size_t k = i;
		order[i] = i;
		while (k > 0 && img->seg[order[k - 1]].gpa > img->seg[order[k]].gpa) {
			size_t t = order[k - 1];
			order[k - 1] = order[k];
			order[k] = t;
			k--;
		}
	}
}

/* After a load: each segment holds its file bytes then zeros; every other byte is untouched. */
static void check_loaded(const struct nub_elf_image *img, const uint8_t *data,
			 const uint8_t *primary, uint64_t primary_size)
{
	size_t order[NUB_ELF_MAX_SEGMENTS];
	uint64_t pos = 0;

	sort_segments(img, order);
	for (size_t k = 0; k < img->nseg; k++) {
		const struct nub_elf_segment *s = &img->seg[order[k]];
		uint64_t off = s->gpa - NUB_PRIMARY_BASE;
		for (; pos < off; pos++)
			NUB_FUZZ_CHECK_OP("nub_elf_load", primary[pos] == PATTERN);
		NUB_FUZZ_CHECK_OP("nub_elf_load",
				  s->filesz == 0 || memcmp(primary + off, data + s->file_offset,
							   s->filesz) == 0);
		for (uint64_t i = s->filesz; i < s->memsz; i++)
			NUB_FUZZ_CHECK_OP("nub_elf_load", primary[off + i] == 0);
		pos = off + s->memsz;
	}
	for (; pos < primary_size; pos++)
		NUB_FUZZ_CHECK_OP("nub_elf_load", primary[pos] == PATTERN);
}

/* Loading into a region one byte short of the highest segment's end fails and writes nothing. */
static void check_short_load(const struct nub_elf_image *img, const uint8_t *data, size_t len)
{
	uint64_t end = 0;
	struct nub_error err;

	for (size_t i = 0; i < img->nseg; i++)
		if (img->seg[i].gpa + img->seg[i].memsz > end)
			end = img->seg[i].gpa + img->seg[i].memsz;
	uint64_t short_size = end - NUB_PRIMARY_BASE - 1;
	if (short_size == 0 || short_size > NEGATIVE_LOAD_LIMIT)
		return;
	uint8_t *region = malloc(short_size);
	NUB_FUZZ_CHECK(region != NULL); /* the harness's own allocation */
	memset(region, PATTERN, short_size);
	NUB_FUZZ_CHECK_OP("nub_elf_load",
			  nub_elf_load(img, data, len, region, short_size, &err) == NUB_E_LAYOUT);
	NUB_FUZZ_CHECK_OP("nub_elf_load", nub_fuzz_error_ok(&err));
	for (uint64_t i = 0; i < short_size; i++)
		NUB_FUZZ_CHECK_OP("nub_elf_load", region[i] == PATTERN);
	free(region);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nub_elf_image img;
	struct nub_error err;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	/* A private copy of exactly (size) bytes: ASan reports any read past the file. */
	uint8_t *file = malloc(size ? size : 1);
	NUB_FUZZ_CHECK(file != NULL); /* the harness's own allocation */
	if (size)
		memcpy(file, data, size);

	enum nub_status st = nub_elf_parse(file, size, &img, &err);
	if (st != NUB_OK) {
		nub_fuzz_outcome(nub_status_str(st));
		NUB_FUZZ_CHECK_OP("nub_elf_parse", st == NUB_E_ELF || st == NUB_E_ABI);
		NUB_FUZZ_CHECK_OP("nub_elf_parse", err.status == st && nub_fuzz_error_ok(&err));
		free(file);
		return 0;
	}
	uint64_t primary_size = img.image_end - NUB_PRIMARY_BASE;
	nub_fuzz_outcome(primary_size <= ELF_LOAD_LIMIT ? "ok" : "ok-not-loaded");
	check_image(&img, size);
	if (primary_size <= ELF_LOAD_LIMIT) {
		uint8_t *primary = malloc(primary_size);
		NUB_FUZZ_CHECK(primary != NULL); /* the harness's own allocation */
		memset(primary, PATTERN, primary_size);
		NUB_FUZZ_CHECK_OP("nub_elf_load", nub_elf_load(&img, file, size, primary,
							       primary_size, &err) == NUB_OK);
		check_loaded(&img, file, primary, primary_size);
		free(primary);
		check_short_load(&img, file, size);
	}
	free(file);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	elf_file_describe(data, len, out);
}
