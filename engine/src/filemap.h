/* SPDX-License-Identifier: Apache-2.0 */
/* Host files mapped read-only into guest-physical memory: a guest image's list of mappings. */
#ifndef NUB_FILEMAP_H
#define NUB_FILEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "nub/nub.h"

struct nub_image;
struct nub_snapshot;

/*
 * The memory slot of the first file mapping: the backend keeps the slots below it for the
 * primary and scratch regions and the reset stub.
 */
#define NUB_FILEMAP_FIRST_SLOT 3u

/* A host file mapped read-only into guest-physical memory. */
struct nub_file_map {
	uint64_t gpa;
	uint64_t size; /* the file size rounded up to a page */
	void *host;    /* PROT_READ private mapping of the file */
	uint32_t slot; /* its memory slot: the lowest from NUB_FILEMAP_FIRST_SLOT no other uses */
};

/*
 * Opens and maps (path) read-only on the host, checks that [gpa, gpa + size) is free
 * guest-physical space in (img) and appends it to img->maps (the caller maps it into a VM, if
 * any). *(size), when given, receives the size rounded up to a page. Errors: NUB_E_INVALID (bad
 * place, too many mappings, not a regular or an empty file), NUB_E_IO, NUB_E_NOMEM.
 */
enum nub_status nub_filemap_add(struct nub_image *img, const char *path, uint64_t gpa,
				uint64_t *size, struct nub_error *err);

/* Unmaps the host side of (n) file mappings (their memory slots must already be gone). */
void nub_filemap_unmap_all(struct nub_file_map *maps, uint32_t n);

/* Records (img)'s file mappings in (snap). */
void nub_filemap_record(const struct nub_image *img, struct nub_snapshot *snap);

/* Whether (snap) recorded a file mapping at (m)'s place and size. */
bool nub_filemap_in_snapshot(const struct nub_snapshot *snap, const struct nub_file_map *m);

/* NUB_E_INVALID if (snap) had a file mapping (img) lacks now; changes nothing. */
enum nub_status nub_filemap_check(const struct nub_snapshot *snap, const struct nub_image *img,
				  struct nub_error *err);

#endif
