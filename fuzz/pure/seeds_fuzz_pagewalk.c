/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_pagewalk: the engine's own tables, large pages, the upper half, loops, strays. */
#include <string.h>

#include "fuzz_formats.h"
#include "nub/x86.h"
#include "paging.h"
#include "seedgen.h"

#define T(i) (PAGEWALK_TABLES_GPA + (uint64_t)(i)*4096u)

static uint8_t tables[PAGEWALK_TABLES * 4096];

static void put(unsigned table, unsigned index, uint64_t e)
{
	memcpy(tables + table * 4096u + index * 8u, &e, 8);
}

static void emit(struct seedgen *g, const char *name, unsigned root, unsigned limits, size_t pages)
{
	struct fuzz_output o = { 0 };
	fuzz_write_u8(&o, (uint8_t)root);
	fuzz_write_u8(&o, (uint8_t)limits);
	fuzz_write_bytes(&o, tables, pages * 4096u);
	seedgen_emit(g, name, &o);
	memset(tables, 0, sizeof tables);
}

void seeds_fuzz_pagewalk(struct seedgen *g)
{
	const uint64_t P = X86_PTE_P, RW = X86_PTE_RW, PS = X86_PTE_PS, NX = X86_PTE_NX;

	/* Tables as the engine builds them for a guest: W^X segments, data, the tables themselves. */
	const struct nub_page_map maps[] = {
		{ 0x4000, 0x3000, NUB_MEM_READ | NUB_MEM_EXECUTE },
		{ 0x7000, 0x1000, NUB_MEM_READ },
		{ 0x8000, 0x4000, NUB_MEM_READ | NUB_MEM_WRITE },
		{ T(0), PAGEWALK_TABLES * 4096u, NUB_MEM_READ | NUB_MEM_WRITE },
		{ NUB_GPA_TOP - PAGEWALK_SCRATCH_SIZE, 0x4000, NUB_MEM_READ | NUB_MEM_WRITE },
	};
	uint64_t root;
	if (nub_paging_build(tables, T(0), sizeof tables, maps, 5, &root, NULL) != NUB_OK ||
	    root != T(0))
		seedgen_die("paging build", "fuzz_pagewalk identity tables");
	emit(g, "engine-tables", 0, 0, PAGEWALK_TABLES);
	if (nub_paging_build(tables, T(0), sizeof tables, maps, 5, &root, NULL) != NUB_OK)
		seedgen_die("paging build", "fuzz_pagewalk identity tables");
	emit(g, "engine-tables-few-ranges", 0, 2, PAGEWALK_TABLES);

	/* 2 MiB and 1 GiB pages, one hanging over the primary region's end; a reserved frame bit. */
	put(0, 0, T(1) | P | RW);
	put(1, 0, T(2) | P | RW);
	put(2, 0, 0x0 | P | RW | PS);
	put(2, 1, 0x202000 | P | RW | PS); /* bit 13 of a 2 MiB frame: reserved */
	put(1, 1, 0x40000000 | P | PS | NX);
	put(0, 1, 0x0 | P | RW | PS); /* PS in a PML4E: reserved */
	emit(g, "large-pages", 0, 0, 3);

	/* The top of the upper half onto the scratch region, read-only, through four levels. */
	put(3, 511, T(4) | P | RW);
	put(4, 511, T(5) | P | RW);
	put(5, 511, T(6) | P | RW);
	for (unsigned i = 496; i < 512; i++)
		put(6, i, (NUB_GPA_TOP - PAGEWALK_SCRATCH_SIZE + (i - 496) * 4096u) | P);
	emit(g, "upper-half-root-3", 3, 0, 7);

	/* Every PML4 entry pointing back at the PML4: bounded by each limit in turn. */
	for (unsigned i = 0; i < 512; i++)
		put(0, i, T(0) | P | RW);
	emit(g, "self-loop", 0, 0, 1);
	for (unsigned i = 0; i < 512; i++)
		put(0, i, T(0) | P | RW);
	emit(g, "self-loop-all-limits", 0, 7, 1);

	/* Tables and pages outside guest memory, a table that is its own PT, permission mixes. */
	put(0, 0, 0x100000000ull | P | RW);
	put(0, 2, T(1) | P);
	put(1, 0, T(1) | P | RW | NX);
	put(1, 3, T(2) | P | RW);
	put(2, 0, T(2) | P | RW);
	put(2, 5, 0x7ff000ull | P | RW);
	emit(g, "strays", 0, 1, 3);
}
