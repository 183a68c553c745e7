/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_elf: the crafted files of the ELF catalogue and the built guests. */
#include <stdio.h>
#include <stdlib.h>

#include "elf_file.h"
#include "elf_variants.h"
#include "seedgen.h"

/* The crafted files of the catalogue (elf_variants.h) that are seeds of this target, then the built
 * guests dummy and simple reduced to their loadable view. */
void seeds_fuzz_elf(struct seedgen *g)
{
	for (size_t i = 0; i < elf_variant_count; i++) {
		const struct elf_variant *v = &elf_variants[i];
		size_t len;
		if (!v->elf_seed)
			continue;
		uint8_t *b = elf_file_build(&v->spec, &len);
		if (!b)
			seedgen_die("elf_file_build", v->elf_seed);
		seedgen_write(g, v->elf_seed, b, len);
		free(b);
	}
	if (!g->guest_dir)
		return;
	static const char *const guests[] = { "dummy", "simple" };
	for (size_t i = 0; i < sizeof guests / sizeof guests[0]; i++) {
		char name[64];
		size_t len;
		uint8_t *b = seedgen_guest_view(g, guests[i], &len);
		snprintf(name, sizeof name, "guest-%s", guests[i]);
		seedgen_write(g, name, b, len);
		free(b);
	}
}
