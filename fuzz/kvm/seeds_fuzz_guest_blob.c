/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_guest_blob: the built guests with init data, and crafted ELF files. */
#include <stdlib.h>

#include "elf_variants.h"
#include "seedgen.h"

static void blob(struct seedgen *g, const char *name, uint8_t perms, const void *init,
		 uint32_t init_len, const uint8_t *elf, size_t elf_len)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u8(&o, perms);
	fuzz_write_u32(&o, init_len);
	fuzz_write_bytes(&o, init, init_len);
	fuzz_write_bytes(&o, elf, elf_len);
	seedgen_emit(g, name, &o);
}

void seeds_fuzz_guest_blob(struct seedgen *g)
{
	static const uint8_t ret_code[] = { 0xc3, 0xc3, 0xc3, 0xc3 };
	uint8_t rw[64];
	size_t len;
	uint8_t *elf;

	for (unsigned i = 0; i < sizeof rw; i++)
		rw[i] = (uint8_t)i;
	if (g->guest_dir) {
		elf = seedgen_guest_view(g, "dummy", &len);
		blob(g, "guest-dummy", 0, NULL, 0, elf, len);
		free(elf);
		elf = seedgen_guest_view(g, "simple", &len);
		blob(g, "guest-simple-init-r", NUB_MEM_READ, "init data for simple", 20, elf, len);
		blob(g, "guest-simple-init-rw", NUB_MEM_READ | NUB_MEM_WRITE, rw, sizeof rw, elf,
		     len);
		blob(g, "guest-simple-init-rx", NUB_MEM_READ | NUB_MEM_EXECUTE, ret_code,
		     sizeof ret_code, elf, len);
		blob(g, "guest-simple-init-wx-refused",
		     NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE, ret_code, sizeof ret_code, elf,
		     len);
		free(elf);
		elf = seedgen_guest_view(g, "fuzz", &len);
		blob(g, "guest-fuzz", NUB_MEM_READ, "x", 1, elf, len);
		free(elf);
	}

	/* The crafted files of the catalogue (elf_variants.h) that are fuzz_guest_blob's seeds. */
	for (size_t i = 0; i < elf_variant_count; i++) {
		const struct elf_variant *v = &elf_variants[i];
		if (!v->blob_seed)
			continue;
		elf = elf_file_build(&v->spec, &len);
		if (!elf)
			seedgen_die("elf_file_build", v->blob_seed);
		blob(g, v->blob_seed, NUB_MEM_READ, "init", 4, elf, len);
		free(elf);
	}
}
