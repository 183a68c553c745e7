/* SPDX-License-Identifier: Apache-2.0 */
/* Host files mapped read-only into guest-physical memory: the list of mappings, snapshot checks. */
#include "filemap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "error.h"
#include "image.h"
#include "snapshot.h"

void nub_filemap_unmap_all(struct nub_file_map *maps, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		munmap(maps[i].host, maps[i].size);
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* NUB_E_INVALID unless [gpa, gpa + size) is free guest-physical space for a file mapping. */
static enum nub_status check_map_range(const struct nub_layout *l, const struct nub_file_map *maps,
				       uint32_t n, uint64_t gpa, uint64_t size,
				       struct nub_error *err)
{
	uint64_t end;
	if (n >= NUB_MAX_FILE_MAPS)
		return nub_error_set(err, NUB_E_INVALID,
				     "map_file: already %u file mappings (the limit)", n);
	if (gpa % NUB_PAGE_SIZE)
		return nub_error_set(err, NUB_E_INVALID, "map_file: gpa 0x%llx is not page-aligned",
				     (unsigned long long)gpa);
	if (__builtin_add_overflow(gpa, size, &end) || end > NUB_GPA_TOP)
		return nub_error_set(
			err, NUB_E_INVALID,
			"map_file: gpa 0x%llx + size 0x%llx exceeds the 36-bit guest-physical space",
			(unsigned long long)gpa, (unsigned long long)size);
	/* Below the primary region lies the NULL guard, which stays unbacked. */
	if (overlaps(gpa, end, 0, NUB_PRIMARY_BASE + l->primary_size))
		return nub_error_set(
			err, NUB_E_INVALID,
			"map_file: [0x%llx, 0x%llx) overlaps the NULL guard or the primary region [0, 0x%llx)",
			(unsigned long long)gpa, (unsigned long long)end,
			(unsigned long long)(NUB_PRIMARY_BASE + l->primary_size));
	if (overlaps(gpa, end, l->scratch_gpa, NUB_GPA_TOP))
		return nub_error_set(
			err, NUB_E_INVALID,
			"map_file: [0x%llx, 0x%llx) overlaps the scratch region from 0x%llx",
			(unsigned long long)gpa, (unsigned long long)end,
			(unsigned long long)l->scratch_gpa);
	for (uint32_t i = 0; i < n; i++)
		if (overlaps(gpa, end, maps[i].gpa, maps[i].gpa + maps[i].size))
			return nub_error_set(
				err, NUB_E_INVALID,
				"map_file: [0x%llx, 0x%llx) overlaps the file mapped at [0x%llx, 0x%llx)",
				(unsigned long long)gpa, (unsigned long long)end,
				(unsigned long long)maps[i].gpa,
				(unsigned long long)(maps[i].gpa + maps[i].size));
	return NUB_OK;
}

/* The lowest file slot number no mapping uses. */
static uint32_t free_slot(const struct nub_file_map *maps, uint32_t n)
{
	for (uint32_t slot = NUB_FILEMAP_FIRST_SLOT;; slot++) {
		bool used = false;
		for (uint32_t i = 0; i < n; i++)
			used |= maps[i].slot == slot;
		if (!used)
			return slot;
	}
}

enum nub_status nub_filemap_add(struct nub_image *img, const char *path, uint64_t gpa,
				uint64_t *size, struct nub_error *err)
{
	const struct nub_layout *l = &img->layout;
	struct nub_file_map *maps = img->maps;
	uint32_t *n = &img->nmaps;
	struct stat stbuf;
	if (!path)
		return nub_error_set(err, NUB_E_INVALID, "map_file: path is NULL");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nub_error_set_errno(err, NUB_E_IO, errno, "map_file: open '%s'", path);
	enum nub_status st = NUB_OK;
	uint64_t rounded = 0;
	if (fstat(fd, &stbuf) != 0)
		st = nub_error_set_errno(err, NUB_E_IO, errno, "map_file: fstat '%s'", path);
	else if (!S_ISREG(stbuf.st_mode))
		st = nub_error_set(err, NUB_E_INVALID, "map_file: '%s' is not a regular file",
				   path);
	else if (stbuf.st_size == 0)
		st = nub_error_set(err, NUB_E_INVALID, "map_file: '%s' is empty", path);
	else if (!nub_align_up((uint64_t)stbuf.st_size, NUB_PAGE_SIZE, &rounded))
		st = nub_error_set(err, NUB_E_INVALID, "map_file: '%s' is too large", path);
	if (st == NUB_OK)
		st = check_map_range(l, maps, *n, gpa, rounded, err);
	void *host = MAP_FAILED;
	if (st == NUB_OK) {
		/* Private and read-only on the host too: nothing in the engine ever writes it. */
		host = mmap(NULL, rounded, PROT_READ, MAP_PRIVATE, fd, 0);
		if (host == MAP_FAILED)
			st = nub_error_set_errno(err, NUB_E_NOMEM, errno, "map_file: mmap '%s'",
						 path);
	}
	close(fd);
	if (st != NUB_OK)
		return st;
	maps[*n] = (struct nub_file_map){ gpa, rounded, host, free_slot(maps, *n) };
	(*n)++;
	if (size)
		*size = rounded;
	return NUB_OK;
}

enum nub_status nub_uninit_map_file(struct nub_uninit *u, const char *path, uint64_t gpa,
				    uint64_t *size, struct nub_error *err)
{
	nub_error_clear(err);
	if (!u)
		return nub_error_set(err, NUB_E_INVALID, "uninit is NULL");
	return nub_filemap_add(&u->img, path, gpa, size, err);
}

void nub_filemap_record(const struct nub_image *img, struct nub_snapshot *snap)
{
	snap->nmaps = img->nmaps;
	for (uint32_t i = 0; i < img->nmaps; i++)
		snap->maps[i] = (struct nub_map_range){ img->maps[i].gpa, img->maps[i].size };
}

bool nub_filemap_in_snapshot(const struct nub_snapshot *snap, const struct nub_file_map *m)
{
	for (uint32_t i = 0; i < snap->nmaps; i++)
		if (snap->maps[i].gpa == m->gpa && snap->maps[i].size == m->size)
			return true;
	return false;
}

enum nub_status nub_filemap_check(const struct nub_snapshot *snap, const struct nub_image *img,
				  struct nub_error *err)
{
	for (uint32_t i = 0; i < snap->nmaps; i++) {
		bool found = false;
		for (uint32_t j = 0; j < img->nmaps; j++)
			found |= img->maps[j].gpa == snap->maps[i].gpa &&
				 img->maps[j].size == snap->maps[i].size;
		if (!found)
			return nub_error_set(
				err, NUB_E_INVALID,
				"snapshot has a file mapped at 0x%llx (0x%llx bytes), which the sandbox lacks",
				(unsigned long long)snap->maps[i].gpa,
				(unsigned long long)snap->maps[i].size);
	}
	return NUB_OK;
}
