/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images: built from an ELF (layout, boot info, page tables), held by the uninit sandbox. */
#ifndef NUB_IMAGE_H
#define NUB_IMAGE_H

#include <stdint.h>

#include "filemap.h"
#include "hostfn.h"
#include "layout.h"
#include "mem.h"
#include "nub/nub.h"
#include "snapshot.h"

struct nub_counter;

#define NUB_GUEST_NAME_MAX 64u

/*
 * A guest image: the configuration, layout and memory of a guest with its host functions,
 * counter and file mappings. The uninitialized sandbox builds one; evolve moves it, whole, into
 * the sandbox, which owns it from then on.
 */
struct nub_image {
	struct nub_config cfg;
	struct nub_layout layout;
	struct nub_mem mem; /* both regions mapped and filled: ELF, boot info, init data, tables */
	struct nub_hostfn_table hostfns;
	struct nub_counter *counter;
	struct nub_file_map maps[NUB_MAX_FILE_MAPS]; /* mapped into the VM at evolve */
	uint32_t nmaps;
	/* Who the guest is, for core files: the ELF's base name, "guest" for a buffer. */
	char guest_name[NUB_GUEST_NAME_MAX];
	char *core_dir; /* owned copy of cfg.core_dump_dir, which points at it (or NULL) */
	/* Evolve's boot state (both 0 in a sandbox made from a snapshot): */
	uint64_t entry; /* the guest's entry point */
	uint64_t cr3;   /* the root of the page tables the image builder wrote */
};

/* An uninitialized sandbox (nub_uninit_new): a built image and no VM yet. */
struct nub_uninit {
	struct nub_image img;
};

/*
 * Releases what (img) owns: its memory, file mappings, host-function registry and counter
 * (any VM over them must be gone). Safe on a zeroed image apart from its cfg.
 */
void nub_image_release(struct nub_image *img);

/*
 * Names the guest (the base name of (path), or (fallback) when (path) is NULL) and makes
 * cfg.core_dump_dir an owned copy, so the caller's string may go away. NUB_E_NOMEM.
 */
enum nub_status nub_image_own_config(struct nub_image *img, const char *path, const char *fallback,
				     struct nub_error *err);

/* Moves the image of (u) into (dst) and frees the empty shell: (u) is gone afterwards. */
void nub_image_take(struct nub_image *dst, struct nub_uninit *u);

#endif
