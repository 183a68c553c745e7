/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_pagewalk: hostile guest page tables through the walker core files and the gdb stub use
 * (input format in fuzz_formats.h). Invariants: the walk respects its limits; its ranges are
 * page aligned, ascending, disjoint, backed by guest memory and readable; a single translation
 * of each range's first and last page agrees with the walk; and the totals add up.
 */
#include <string.h>

#include "fuzz_formats.h"
#include "fuzz_input.h"
#include "mem.h"
#include "nub_fuzz.h"
#include "pagewalk.h"

#define MAX_INPUT (2u + PAGEWALK_TABLES * 4096u)

static struct nub_mem mem;
static bool mapped;
static struct nub_vrange ranges[NUB_PAGEWALK_DEFAULT_RANGES];

static void check_translation(uint64_t root, uint64_t gva, uint64_t gpa, uint32_t perms)
{
	uint64_t got;
	uint32_t got_perms;
	NUB_FUZZ_CHECK_OP("nub_pagewalk_translate",
			  nub_pagewalk_translate(&mem, root, gva, &got, &got_perms));
	NUB_FUZZ_CHECK_OP("nub_pagewalk_translate", got == gpa);
	NUB_FUZZ_CHECK_OP("nub_pagewalk_translate", got_perms == perms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	if (!mapped) {
		NUB_FUZZ_CHECK_OP("nub_mem_map",
				  nub_mem_map(&mem, PAGEWALK_PRIMARY_SIZE,
					      NUB_GPA_TOP - PAGEWALK_SCRATCH_SIZE,
					      PAGEWALK_SCRATCH_SIZE, -1, NULL) == NUB_OK);
		mapped = true;
	}
	struct fuzz_input in;
	fuzz_input_init(&in, data, size);
	unsigned root_index = fuzz_read_u8(&in) % PAGEWALK_TABLES;
	unsigned limits = fuzz_read_u8(&in);
	const uint8_t *tables;
	size_t n = fuzz_read_rest(&in, &tables);
	volatile uint8_t *dst = nub_mem_ptr(&mem, PAGEWALK_TABLES_GPA,
					    PAGEWALK_TABLES * (uint64_t)4096);
	NUB_FUZZ_CHECK_OP("nub_mem_ptr", dst != NULL);
	nub_mem_copy_in(dst, tables, n);
	for (size_t i = n; i < PAGEWALK_TABLES * 4096u; i++) /* what the last input left */
		dst[i] = 0;

	struct nub_pagewalk_limits lim = {
		.max_entries = limits & 1 ? 4096 : 1u << 16,
		.max_ranges = limits & 2 ? 8 : NUB_PAGEWALK_DEFAULT_RANGES,
		.max_bytes = limits & 4 ? 0x5000 : 0,
	};
	uint64_t root = PAGEWALK_TABLES_GPA + root_index * 4096u;
	struct nub_pagewalk_stats st;
	size_t count = 0;
	NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", nub_pagewalk_ranges(&mem, root, &lim, ranges,
								     &count, &st, NULL) == NUB_OK);
	nub_fuzz_outcome(st.truncated ? "truncated" : count ? "ranges" : "empty");

	NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", count <= lim.max_ranges);
	NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", st.entries <= lim.max_entries);
	NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", !lim.max_bytes || st.bytes <= lim.max_bytes);
	uint64_t bytes = 0, end = 0;
	for (size_t i = 0; i < count; i++) {
		const struct nub_vrange *r = &ranges[i];
		NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges",
				  r->size > 0 && (r->gva | r->gpa) % 4096 == 0);
		NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", r->size % 4096 == 0);
		NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges",
				  i == 0 || r->gva >= end); /* ascending and disjoint */
		NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges",
				  nub_mem_ptr(&mem, r->gpa, r->size) != NULL);
		NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", r->perms & NUB_MEM_READ);
		check_translation(root, r->gva, r->gpa, r->perms);
		if (r->size >= 4096)
			check_translation(root, r->gva + r->size - 4096, r->gpa + r->size - 4096,
					  r->perms);
		end = r->gva + r->size;
		bytes += r->size;
	}
	NUB_FUZZ_CHECK_OP("nub_pagewalk_ranges", bytes == st.bytes);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	fuzz_input_init(&in, data, len);
	unsigned root_index = fuzz_read_u8(&in) % PAGEWALK_TABLES;
	unsigned limits = fuzz_read_u8(&in);
	const uint8_t *tables;
	size_t n = fuzz_read_rest(&in, &tables);
	fprintf(out, "  root: table %u at 0x%llx; limits 0x%x; %zu bytes of tables\n", root_index,
		(unsigned long long)(PAGEWALK_TABLES_GPA + root_index * 4096u), limits, n);
	for (size_t i = 0; i + 8 <= n && i < 4096 * PAGEWALK_TABLES; i += 8) {
		uint64_t e;
		memcpy(&e, tables + i, 8);
		if (e)
			fprintf(out, "    table %zu entry %3zu: 0x%016llx\n", i / 4096,
				(i % 4096) / 8, (unsigned long long)e);
	}
}
