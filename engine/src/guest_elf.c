/* SPDX-License-Identifier: Apache-2.0 */
/* Guest ELF loading: read the file, validate every field (libelf plus own range checks), copy. */
#include "guest_elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "bytes.h"
#include "error.h"
#include "file.h"

#define NOTE_HEADER_SIZE 12u /* namesz, descsz, type */

/* "RWX" with '-' for each missing permission; (buf) holds 4 bytes. */
static const char *perms_str(uint32_t perms, char *buf)
{
	buf[0] = (perms & NUB_MEM_READ) ? 'R' : '-';
	buf[1] = (perms & NUB_MEM_WRITE) ? 'W' : '-';
	buf[2] = (perms & NUB_MEM_EXECUTE) ? 'X' : '-';
	buf[3] = '\0';
	return buf;
}

static uint32_t perms_from_flags(uint64_t p_flags)
{
	uint32_t perms = 0;
	if (p_flags & PF_R)
		perms |= NUB_MEM_READ;
	if (p_flags & PF_W)
		perms |= NUB_MEM_WRITE;
	if (p_flags & PF_X)
		perms |= NUB_MEM_EXECUTE;
	return perms;
}

enum nub_status nub_elf_read_file(const char *path, const struct nub_alloc_hook *hook,
				  uint8_t **data, size_t *len, struct nub_error *err)
{
	if (!path || !data || !len)
		return nub_error_set(err, NUB_E_INVALID,
				     "nub_elf_read_file: path, data and len are required");
	enum nub_status st = nub_file_read(path, NUB_ELF_MAX_FILE_SIZE, NUB_E_ELF, hook, data, len,
					   err);
	if (st == NUB_OK && *len == 0)
		st = nub_error_set(err, NUB_E_ELF, "%s is empty", path);
	return st;
}

/* A libelf failure, with libelf's own message. */
static enum nub_status libelf_error(struct nub_error *err, const char *what)
{
	const char *msg = elf_errmsg(-1);
	return nub_error_set(err, NUB_E_ELF, "libelf %s: %s", what, msg ? msg : "unknown error");
}

/* The identification bytes, checked by hand before libelf sees the image. */
static enum nub_status check_ident(const uint8_t *data, size_t len, struct nub_error *err)
{
	if (len < sizeof(Elf64_Ehdr))
		return nub_error_set(err, NUB_E_ELF,
				     "file size 0x%zx is smaller than an ELF64 header "
				     "(0x%zx bytes)",
				     len, sizeof(Elf64_Ehdr));
	if (memcmp(data, ELFMAG, SELFMAG) != 0)
		return nub_error_set(err, NUB_E_ELF,
				     "bad ELF magic %02x %02x %02x %02x (expected 7f 45 4c 46)",
				     data[0], data[1], data[2], data[3]);
	if (data[EI_CLASS] != ELFCLASS64)
		return nub_error_set(err, NUB_E_ELF, "EI_CLASS %u is not ELFCLASS64 (%u)",
				     data[EI_CLASS], ELFCLASS64);
	if (data[EI_DATA] != ELFDATA2LSB)
		return nub_error_set(err, NUB_E_ELF, "EI_DATA %u is not ELFDATA2LSB (%u)",
				     data[EI_DATA], ELFDATA2LSB);
	if (data[EI_VERSION] != EV_CURRENT)
		return nub_error_set(err, NUB_E_ELF, "EI_VERSION %u is not EV_CURRENT (%u)",
				     data[EI_VERSION], EV_CURRENT);
	return NUB_OK;
}

/* The ELF header fields that libelf returned. */
static enum nub_status check_ehdr(const GElf_Ehdr *eh, size_t len, struct nub_error *err)
{
	if (eh->e_machine != EM_X86_64)
		return nub_error_set(err, NUB_E_ELF, "e_machine 0x%x is not EM_X86_64 (0x%x)",
				     eh->e_machine, EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return nub_error_set(err, NUB_E_ELF, "e_type 0x%x is not ET_EXEC (0x%x)",
				     eh->e_type, ET_EXEC);
	if (eh->e_version != EV_CURRENT)
		return nub_error_set(err, NUB_E_ELF, "e_version 0x%x is not EV_CURRENT (0x%x)",
				     eh->e_version, EV_CURRENT);
	if (eh->e_phnum == 0)
		return nub_error_set(err, NUB_E_ELF,
				     "e_phnum 0: no program headers, so no PT_LOAD segment");
	if (eh->e_phnum == PN_XNUM)
		return nub_error_set(err, NUB_E_ELF,
				     "e_phnum 0x%x (extended program header numbering) is not "
				     "supported",
				     eh->e_phnum);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return nub_error_set(err, NUB_E_ELF, "e_phentsize 0x%x is not 0x%zx",
				     eh->e_phentsize, sizeof(Elf64_Phdr));
	if (eh->e_phoff < sizeof(Elf64_Ehdr))
		return nub_error_set(err, NUB_E_ELF,
				     "e_phoff 0x%" PRIx64 " overlaps the ELF header",
				     (uint64_t)eh->e_phoff);
	/* libelf quietly shortens a program header table cut off by the end of the file. */
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (eh->e_phoff > len || table > len - eh->e_phoff)
		return nub_error_set(err, NUB_E_ELF,
				     "e_phoff 0x%" PRIx64 " + %u program headers (0x%" PRIx64
				     " bytes) exceeds the file size 0x%zx",
				     (uint64_t)eh->e_phoff, eh->e_phnum, table, len);
	return NUB_OK;
}

/*
 * One PT_LOAD header: file range inside the file, memory range inside the image window, sane
 * permissions. Fills (seg).
 */
static enum nub_status check_load(const GElf_Phdr *ph, size_t idx, size_t len,
				  struct nub_elf_segment *seg, struct nub_error *err)
{
	uint64_t end;
	char pb[4];

	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &end))
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64
				     " overflows",
				     idx, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz);
	if (end > len)
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64
				     " exceeds the file size 0x%zx",
				     idx, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz, len);
	if (ph->p_filesz > ph->p_memsz)
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_filesz 0x%" PRIx64
				     " exceeds p_memsz 0x%" PRIx64,
				     idx, (uint64_t)ph->p_filesz, (uint64_t)ph->p_memsz);
	if (ph->p_memsz == 0)
		return nub_error_set(err, NUB_E_ELF, "PT_LOAD[%zu]: p_memsz 0x0 (empty segment)",
				     idx);
	if (ph->p_vaddr < NUB_PRIMARY_BASE)
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_vaddr 0x%" PRIx64
				     " is below the primary base 0x%x",
				     idx, (uint64_t)ph->p_vaddr, NUB_PRIMARY_BASE);
	if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end))
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64
				     " overflows",
				     idx, (uint64_t)ph->p_vaddr, (uint64_t)ph->p_memsz);
	if (end > NUB_ELF_MAX_IMAGE_END)
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64
				     " exceeds the image limit 0x%x",
				     idx, (uint64_t)ph->p_vaddr, (uint64_t)ph->p_memsz,
				     NUB_ELF_MAX_IMAGE_END);

	uint32_t perms = perms_from_flags(ph->p_flags);
	if (!(perms & NUB_MEM_READ))
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_flags 0x%x (%s) is not readable", idx,
				     (unsigned)ph->p_flags, perms_str(perms, pb));
	/* W^X: guest code must never be able to rewrite itself or run what it wrote. */
	if ((perms & NUB_MEM_WRITE) && (perms & NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_ELF,
				     "PT_LOAD[%zu]: p_flags 0x%x (%s) is both writable and "
				     "executable",
				     idx, (unsigned)ph->p_flags, perms_str(perms, pb));

	seg->gpa = ph->p_vaddr;
	seg->memsz = ph->p_memsz;
	seg->filesz = ph->p_filesz;
	seg->file_offset = ph->p_offset;
	seg->perms = perms;
	return NUB_OK;
}

/*
 * Walks the notes of PT_NOTE[idx] (file range already checked), padding name and descriptor to
 * (align). Records the first NUB_NOTE_NAME / NUB_NOTE_TYPE_ABI note in *(found) and *(version).
 */
static enum nub_status scan_notes(const uint8_t *seg, uint64_t size, uint64_t align, size_t idx,
				  bool *found, uint32_t *version, struct nub_error *err)
{
	uint64_t pos = 0;
	while (pos < size) {
		uint64_t at = pos;
		if (size - pos < NOTE_HEADER_SIZE)
			return nub_error_set(err, NUB_E_ELF,
					     "PT_NOTE[%zu]: note at offset 0x%" PRIx64
					     ": header needs 0x%x bytes, the segment has 0x%" PRIx64
					     " left",
					     idx, at, NOTE_HEADER_SIZE, size - pos);
		uint32_t namesz = nub_le32(seg + pos);
		uint32_t descsz = nub_le32(seg + pos + 4);
		uint32_t type = nub_le32(seg + pos + 8);
		pos += NOTE_HEADER_SIZE;

		/* 64-bit sums of 32-bit sizes and a bounded pos cannot overflow. */
		if (namesz > size - pos)
			return nub_error_set(err, NUB_E_ELF,
					     "PT_NOTE[%zu]: note at offset 0x%" PRIx64
					     ": namesz 0x%x runs past "
					     "the segment end (0x%" PRIx64 " bytes left)",
					     idx, at, namesz, size - pos);
		const uint8_t *name = seg + pos;
		uint64_t desc_at = (pos + namesz + align - 1) & ~(align - 1);
		if (descsz > 0 && (desc_at > size || descsz > size - desc_at))
			return nub_error_set(err, NUB_E_ELF,
					     "PT_NOTE[%zu]: note at offset 0x%" PRIx64
					     ": descsz 0x%x runs past "
					     "the segment end (0x%" PRIx64 " bytes left)",
					     idx, at, descsz, desc_at > size ? 0 : size - desc_at);
		pos = (desc_at + descsz + align - 1) & ~(align - 1); /* the last may pass size */

		if (namesz == sizeof(NUB_NOTE_NAME) && memcmp(name, NUB_NOTE_NAME, namesz) == 0 &&
		    type == NUB_NOTE_TYPE_ABI) {
			if (descsz != 4)
				return nub_error_set(err, NUB_E_ELF,
						     "PT_NOTE[%zu]: note at offset 0x%" PRIx64
						     ": nub ABI note descsz 0x%x is not 4",
						     idx, at, descsz);
			if (!*found) {
				*found = true;
				*version = nub_le32(seg + desc_at);
			}
		}
	}
	return NUB_OK;
}

static enum nub_status check_note(const GElf_Phdr *ph, size_t idx, const uint8_t *data, size_t len,
				  bool *found, uint32_t *version, struct nub_error *err)
{
	uint64_t end;
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &end))
		return nub_error_set(err, NUB_E_ELF,
				     "PT_NOTE[%zu]: p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64
				     " overflows",
				     idx, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz);
	if (end > len)
		return nub_error_set(err, NUB_E_ELF,
				     "PT_NOTE[%zu]: p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64
				     " exceeds the file size 0x%zx",
				     idx, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz, len);
	/* Notes pad to 4 bytes in practice; an 8-aligned PT_NOTE pads to 8, as binutils has it. */
	uint64_t align = ph->p_align == 8 ? 8 : 4;
	return scan_notes(data + ph->p_offset, ph->p_filesz, align, idx, found, version, err);
}

#define PAGE_OF(a) ((a) & ~(uint64_t)(NUB_PAGE_SIZE - 1))

/*
 * Pairwise: no two segments overlap; then no page is shared by segments with different
 * permissions (the page tables could only give it one set). Ends are <= NUB_ELF_MAX_IMAGE_END.
 */
static enum nub_status check_segments(const struct nub_elf_image *img, const size_t *phidx,
				      struct nub_error *err)
{
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *a = &img->seg[i];
		uint64_t a_end = a->gpa + a->memsz;
		for (size_t j = 0; j < i; j++) {
			const struct nub_elf_segment *b = &img->seg[j];
			uint64_t b_end = b->gpa + b->memsz;
			if (a->gpa < b_end && b->gpa < a_end)
				return nub_error_set(err, NUB_E_ELF,
						     "PT_LOAD[%zu] [0x%" PRIx64 ", 0x%" PRIx64
						     ") overlaps PT_LOAD[%zu] [0x%" PRIx64
						     ", 0x%" PRIx64 ")",
						     phidx[i], a->gpa, a_end, phidx[j], b->gpa,
						     b_end);
		}
	}
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *a = &img->seg[i];
		uint64_t a_first = PAGE_OF(a->gpa), a_last = PAGE_OF(a->gpa + a->memsz - 1);
		for (size_t j = 0; j < i; j++) {
			const struct nub_elf_segment *b = &img->seg[j];
			uint64_t b_first = PAGE_OF(b->gpa), b_last = PAGE_OF(b->gpa + b->memsz - 1);
			if (a->perms == b->perms || a_first > b_last || b_first > a_last)
				continue;
			char pa[4], pb[4];
			uint64_t page = a_first > b_first ? a_first : b_first;
			return nub_error_set(err, NUB_E_ELF,
					     "PT_LOAD[%zu] (%s) and PT_LOAD[%zu] (%s) share the "
					     "page 0x%" PRIx64 " with different permissions",
					     phidx[i], perms_str(a->perms, pa), phidx[j],
					     perms_str(b->perms, pb), page);
		}
	}
	return NUB_OK;
}

static enum nub_status check_entry(const struct nub_elf_image *img, const size_t *phidx,
				   struct nub_error *err)
{
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *s = &img->seg[i];
		if (img->entry < s->gpa || img->entry - s->gpa >= s->memsz)
			continue;
		if (s->perms & NUB_MEM_EXECUTE)
			return NUB_OK;
		char pb[4];
		return nub_error_set(err, NUB_E_ELF,
				     "e_entry 0x%" PRIx64
				     " is in PT_LOAD[%zu] (%s), which is not executable",
				     img->entry, phidx[i], perms_str(s->perms, pb));
	}
	return nub_error_set(err, NUB_E_ELF,
			     "e_entry 0x%" PRIx64 " is outside every PT_LOAD segment", img->entry);
}

/* Everything after the identification bytes, with libelf open on the image. */
static enum nub_status parse_elf(Elf *e, const uint8_t *data, size_t len, struct nub_elf_image *img,
				 struct nub_error *err)
{
	enum nub_status st;
	GElf_Ehdr eh;

	if (elf_kind(e) != ELF_K_ELF)
		return nub_error_set(err, NUB_E_ELF,
				     "libelf does not recognise the image as an ELF object");
	if (!gelf_getehdr(e, &eh))
		return libelf_error(err, "gelf_getehdr");
	if ((st = check_ehdr(&eh, len, err)) != NUB_OK)
		return st;

	size_t phnum;
	if (elf_getphdrnum(e, &phnum) != 0)
		return libelf_error(err, "elf_getphdrnum");
	if (phnum != eh.e_phnum)
		return nub_error_set(err, NUB_E_ELF,
				     "e_phnum %u but libelf reports %zu program headers",
				     eh.e_phnum, phnum);

	size_t phidx[NUB_ELF_MAX_SEGMENTS];
	bool found = false;
	uint32_t version = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return libelf_error(err, "gelf_getphdr");
		if (ph.p_type == PT_LOAD) {
			if (img->nseg == NUB_ELF_MAX_SEGMENTS)
				return nub_error_set(err, NUB_E_ELF,
						     "PT_LOAD[%zu]: more than %u PT_LOAD segments",
						     i, NUB_ELF_MAX_SEGMENTS);
			st = check_load(&ph, i, len, &img->seg[img->nseg], err);
			if (st != NUB_OK)
				return st;
			phidx[img->nseg++] = i;
		} else if (ph.p_type == PT_NOTE) {
			st = check_note(&ph, i, data, len, &found, &version, err);
			if (st != NUB_OK)
				return st;
		}
	}
	if (img->nseg == 0)
		return nub_error_set(err, NUB_E_ELF, "no PT_LOAD segment among %zu program headers",
				     phnum);
	if ((st = check_segments(img, phidx, err)) != NUB_OK)
		return st;

	img->entry = eh.e_entry;
	if ((st = check_entry(img, phidx, err)) != NUB_OK)
		return st;

	uint64_t end = 0;
	for (size_t i = 0; i < img->nseg; i++)
		if (img->seg[i].gpa + img->seg[i].memsz > end)
			end = img->seg[i].gpa + img->seg[i].memsz;
	/* end <= NUB_ELF_MAX_IMAGE_END, a page multiple, so rounding up cannot overflow. */
	(void)nub_align_up(end, NUB_PAGE_SIZE, &img->image_end);

	if (!found)
		return nub_error_set(err, NUB_E_ABI,
				     "guest ELF has no nub ABI note (expected version %u)",
				     NUB_ABI_VERSION);
	if (version != NUB_ABI_VERSION)
		return nub_error_set(err, NUB_E_ABI,
				     "guest ABI version %" PRIu32
				     " does not match host ABI version %u",
				     version, NUB_ABI_VERSION);
	img->abi_version = version;
	return NUB_OK;
}

enum nub_status nub_elf_parse(const uint8_t *data, size_t len, struct nub_elf_image *img,
			      struct nub_error *err)
{
	if (!img || (!data && len))
		return nub_error_set(err, NUB_E_INVALID,
				     "nub_elf_parse: img and data are required");
	memset(img, 0, sizeof *img);

	enum nub_status st = check_ident(data, len, err);
	if (st != NUB_OK)
		return st;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return libelf_error(err, "elf_version");
	/*
	 * elf_memory takes a non-const pointer. Only read-side calls follow and the image is
	 * little-endian like the host, so libelf never converts (writes) it in place.
	 */
	Elf *e = elf_memory((char *)(uintptr_t)data, len);
	if (!e)
		return libelf_error(err, "elf_memory");
	st = parse_elf(e, data, len, img, err);
	elf_end(e);
	if (st != NUB_OK)
		memset(img, 0, sizeof *img);
	return st;
}

enum nub_status nub_elf_load(const struct nub_elf_image *img, const uint8_t *data, size_t len,
			     uint8_t *primary, uint64_t primary_size, struct nub_error *err)
{
	if (!img || !primary || (!data && len))
		return nub_error_set(err, NUB_E_INVALID,
				     "nub_elf_load: img, data and primary are required");
	if (img->nseg > NUB_ELF_MAX_SEGMENTS)
		return nub_error_set(err, NUB_E_INVALID, "nub_elf_load: %zu segments (max %u)",
				     img->nseg, NUB_ELF_MAX_SEGMENTS);

	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *s = &img->seg[i];
		uint64_t file_end, off, mem_end;
		if (s->filesz > s->memsz ||
		    __builtin_add_overflow(s->file_offset, s->filesz, &file_end) || file_end > len)
			return nub_error_set(err, NUB_E_INVALID,
					     "segment %zu: file range 0x%" PRIx64 " + 0x%" PRIx64
					     " (memsz 0x%" PRIx64
					     ") does not fit the 0x%zx-byte image",
					     i, s->file_offset, s->filesz, s->memsz, len);
		if (s->gpa < NUB_PRIMARY_BASE)
			return nub_error_set(err, NUB_E_INVALID,
					     "segment %zu: gpa 0x%" PRIx64
					     " is below the primary base 0x%x",
					     i, s->gpa, NUB_PRIMARY_BASE);
		off = s->gpa - NUB_PRIMARY_BASE;
		if (__builtin_add_overflow(off, s->memsz, &mem_end) || mem_end > primary_size)
			return nub_error_set(err, NUB_E_LAYOUT,
					     "segment %zu: [0x%" PRIx64 ", +0x%" PRIx64
					     ") does not fit the primary region (0x%" PRIx64
					     " bytes from 0x%x)",
					     i, s->gpa, s->memsz, primary_size, NUB_PRIMARY_BASE);
	}
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *s = &img->seg[i];
		uint8_t *dst = primary + (s->gpa - NUB_PRIMARY_BASE);
		if (s->filesz)
			memcpy(dst, data + s->file_offset, (size_t)s->filesz);
		memset(dst + s->filesz, 0, (size_t)(s->memsz - s->filesz));
	}
	return NUB_OK;
}
