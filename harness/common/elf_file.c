/* SPDX-License-Identifier: Apache-2.0 */
/* Guest ELF files for tests and seeds; see elf_file.h. */
#include "elf_file.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "nub/abi.h"
#include "nub_fuzz.h"

const uint8_t elf_halt_code[8] = {
	0xb8, 0x00, 0x00, 0x00, 0x00, /* mov $0, %eax */
	0xe7, 0x6c,                   /* out %eax, $108 (halt port) */
	0xf4,                         /* hlt */
};

uint8_t *elf_file_build(const struct elf_spec *s, size_t *len)
{
	const uint64_t headers = sizeof(Elf64_Ehdr) + s->nseg * sizeof(Elf64_Phdr);
	uint64_t *at = calloc(s->nseg ? s->nseg : 1, sizeof *at);
	uint64_t pos = headers, end = headers;

	if (!at)
		return NULL;
	for (size_t i = 0; i < s->nseg; i++) {
		at[i] = s->segs[i].at ? s->segs[i].at : (pos + 15) & ~(uint64_t)15;
		if (s->segs[i].len && at[i] < headers) {
			free(at);
			return NULL;
		}
		pos = at[i] + s->segs[i].len;
		if (pos > end)
			end = pos;
	}
	if (s->size > end)
		end = s->size;
	uint8_t *b = calloc(1, end);
	if (!b) {
		free(at);
		return NULL;
	}

	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	if (s->bad_magic)
		eh.e_ident[EI_MAG1] = 'X';
	eh.e_ident[EI_CLASS] = s->ei_class ? s->ei_class : ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = s->e_type ? s->e_type : ET_EXEC;
	eh.e_machine = s->e_machine ? s->e_machine : EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = s->entry;
	eh.e_phoff = s->phoff ? s->phoff : sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)s->nseg;
	memcpy(b, &eh, sizeof eh);
	for (size_t i = 0; i < s->nseg; i++) {
		const struct elf_seg *g = &s->segs[i];
		Elf64_Phdr ph = {
			.p_type = g->type,
			.p_flags = g->flags,
			.p_offset = g->offset ? g->offset : at[i],
			.p_vaddr = g->vaddr,
			.p_paddr = g->vaddr,
			.p_filesz = g->filesz ? g->filesz : g->len,
			.p_memsz = g->memsz ? g->memsz : g->len,
			.p_align = g->align             ? g->align
				   : g->type == PT_NOTE ? 4
							: 0x1000,
		};
		memcpy(b + sizeof eh + i * sizeof ph, &ph, sizeof ph);
		if (g->len)
			memcpy(b + at[i], g->data, g->len);
	}
	free(at);
	*len = s->truncate && s->truncate < end ? s->truncate : (size_t)end;
	return b;
}

void elf_file_note(uint8_t *p, uint32_t namesz, uint32_t descsz, uint32_t type, const char *name)
{
	nub_put_le32(p, namesz);
	nub_put_le32(p + 4, descsz);
	nub_put_le32(p + 8, type);
	memcpy(p + 12, name, namesz);
}

void elf_file_abi_note(uint8_t p[20], uint32_t version, uint32_t descsz)
{
	elf_file_note(p, sizeof NUB_NOTE_NAME, descsz, NUB_NOTE_TYPE_ABI, NUB_NOTE_NAME);
	nub_put_le32(p + 16, version);
}

uint8_t *elf_file_loadable_view(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	long size = 0;
	uint8_t *buf = NULL;

	*why = "cannot read the guest (build it first)";
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < (long)sizeof(Elf64_Ehdr) ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	*why = "short read";
	buf = malloc((size_t)size);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
		goto fail;
	fclose(f);
	f = NULL;

	Elf64_Ehdr eh;
	memcpy(&eh, buf, sizeof eh);
	uint64_t end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	*why = "not an ELF file with program headers inside it";
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || end > (uint64_t)size)
		goto fail;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, buf + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	*why = "a segment runs past the end of the file";
	if (end > (uint64_t)size)
		goto fail;
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = 0;
	memcpy(buf, &eh, sizeof eh);
	*len = (size_t)end;
	*why = NULL;
	return buf;
fail:
	if (f)
		fclose(f);
	free(buf);
	return NULL;
}

static const char *ptype_name(uint32_t t)
{
	switch (t) {
	case PT_NULL:
		return "NULL";
	case PT_LOAD:
		return "LOAD";
	case PT_DYNAMIC:
		return "DYNAMIC";
	case PT_INTERP:
		return "INTERP";
	case PT_NOTE:
		return "NOTE";
	case PT_PHDR:
		return "PHDR";
	case PT_TLS:
		return "TLS";
	case PT_GNU_STACK:
		return "GNU_STACK";
	default:
		return "?";
	}
}

void elf_file_describe(const uint8_t *data, size_t len, FILE *out)
{
	Elf64_Ehdr eh;

	if (len < sizeof eh) {
		fprintf(out, "  %zu bytes: shorter than an ELF64 header\n", len);
		nub_fuzz_hexdump(out, data, len, 64);
		return;
	}
	/* The fields are little-endian, as on the only host nub runs on (x86-64). */
	memcpy(&eh, data, sizeof eh);
	fprintf(out, "  ident %02x %02x %02x %02x class %u data %u version %u\n", data[0], data[1],
		data[2], data[3], data[EI_CLASS], data[EI_DATA], data[EI_VERSION]);
	fprintf(out, "  e_type %u e_machine %u e_entry 0x%llx\n", eh.e_type, eh.e_machine,
		(unsigned long long)eh.e_entry);
	fprintf(out, "  e_phoff 0x%llx e_phentsize %u e_phnum %u, e_shoff 0x%llx e_shnum %u\n",
		(unsigned long long)eh.e_phoff, eh.e_phentsize, eh.e_phnum,
		(unsigned long long)eh.e_shoff, eh.e_shnum);
	for (unsigned i = 0; i < eh.e_phnum && i < 32; i++) {
		uint64_t at = eh.e_phoff + (uint64_t)i * sizeof(Elf64_Phdr);
		if (eh.e_phoff > len || at > len || len - at < sizeof(Elf64_Phdr)) {
			fprintf(out, "  phdr[%u] at 0x%llx: past the end of the file\n", i,
				(unsigned long long)at);
			break;
		}
		Elf64_Phdr ph;
		memcpy(&ph, data + at, sizeof ph);
		fprintf(out,
			"  phdr[%u] %-9s %c%c%c off 0x%llx vaddr 0x%llx filesz 0x%llx memsz 0x%llx "
			"align 0x%llx\n",
			i, ptype_name(ph.p_type), ph.p_flags & PF_R ? 'R' : '-',
			ph.p_flags & PF_W ? 'W' : '-', ph.p_flags & PF_X ? 'X' : '-',
			(unsigned long long)ph.p_offset, (unsigned long long)ph.p_vaddr,
			(unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz,
			(unsigned long long)ph.p_align);
	}
	if (eh.e_phnum > 32)
		fprintf(out, "  ... (%u program headers)\n", eh.e_phnum);
}
