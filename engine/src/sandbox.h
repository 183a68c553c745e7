/* Internal shape of sandboxes, shared by the modules that implement them (sandbox, counter, filemap). */
#ifndef NUB_SANDBOX_H
#define NUB_SANDBOX_H

#include <pthread.h>
#include <stdint.h>

#include "hostfn.h"
#include "interrupt.h"
#include "kvm.h"
#include "layout.h"
#include "mem.h"
#include "nub/nub.h"
#include "outb.h"
#include "reset.h"
#include "snapshot.h"

#define SLOT_PRIMARY 0u
#define SLOT_SCRATCH 1u
#define SLOT_RESET_STUB 2u
#define SLOT_FIRST_FILE 3u

/* A host file mapped read-only into guest-physical memory. */
struct nub_file_map {
	uint64_t gpa;
	uint64_t size; /* the file size rounded up to a page */
	void *host;    /* PROT_READ private mapping of the file */
	uint32_t slot;
};

/* The host-owned guest counter; the sandbox (or the uninit before evolve) owns it. */
struct nub_counter {
	pthread_mutex_t lock; /* value and its store into guest memory change together */
	uint64_t value;
	struct nub_image *img; /* the evolved sandbox's image; NULL until evolve */
};

/*
 * A guest image: the configuration, layout and memory of a guest with its host functions,
 * counter and file mappings. The uninitialized sandbox builds one; evolve moves it, whole, into
 * the sandbox, which owns it from then on.
 */
struct nub_image {
	struct nub_config cfg;
	struct nub_layout layout;
	struct nub_mem mem; /* both regions mapped and filled: image, boot info, init data, tables */
	struct nub_hostfn_table hostfns;
	struct nub_counter *counter;
	struct nub_file_map maps[NUB_MAX_FILE_MAPS]; /* mapped into the VM at evolve */
	uint32_t nmaps;
	/* Evolve's boot state (both 0 in a sandbox made from a snapshot): */
	uint64_t entry; /* the guest's entry point */
	uint64_t cr3;   /* the root of the page tables the image builder wrote */
};

struct nub_uninit {
	struct nub_image img;
};

struct nub_sandbox {
	struct nub_image img;
	struct nub_kvm kvm;
	struct nub_reset_stub stub; /* mapped read-only at NUB_RESET_GPA */
	struct nub_interrupt *intr;
	enum nub_sandbox_status status;
	enum nub_status poisoned_by;
	uint8_t *staging; /* private copies of frames; max(input, output) bytes */
	uint64_t staging_size;
	struct nub_abort_stream abort;
	struct nub_print_line print;
	struct nub_outb_env outb;

	/*
	 * Restore bookkeeping: guest memory equals (base) except for the pages in (dirty) (guest
	 * writes, collected from KVM's dirty log) and the I/O buffer and metadata pages the host
	 * itself writes (compared with base at restore). NULL base: never snapshotted.
	 */
	struct nub_snapshot *base;
	uint64_t slot_pages[2];
	uint64_t *dirty[2];
	uint64_t *dirty_tmp;
	uint64_t restores, stub_resets, ioctl_resets; /* for nub_sandbox_get_stats */
};

/*
 * Releases what (img) owns: its memory, file mappings, host-function registry and counter
 * (any VM over them must be gone). Safe on a zeroed image apart from its cfg.
 */
void nub_image_release(struct nub_image *img);

/* Moves the image of (u) into (dst) and frees the empty shell: (u) is gone afterwards. */
void nub_image_take(struct nub_image *dst, struct nub_uninit *u);

/* NUB_E_POISONED or NUB_E_UNRECOVERABLE (with a message) unless (sb) is ready. */
enum nub_status nub_sandbox_check_ready(const struct nub_sandbox *sb, struct nub_error *err);

/* ---- counter.c ---- */

/* Frees (c); NULL is a no-op. */
void nub_counter_free(struct nub_counter *c, const struct nub_alloc_hook *hook);
/* Stores the host's counter value (0 without a counter) into the read-only guest slot of (img). */
void nub_counter_write(struct nub_image *img);

/* ---- filemap.c ---- */

/* Unmaps the host side of (n) file mappings (their KVM slots must already be gone). */
void nub_filemap_unmap_all(struct nub_file_map *maps, uint32_t n);
/* Records (sb)'s file mappings in (snap). */
void nub_filemap_record(const struct nub_sandbox *sb, struct nub_snapshot *snap);
/* NUB_E_INVALID if (snap) had a file mapping (sb) lacks now; changes nothing. */
enum nub_status nub_filemap_check(const struct nub_snapshot *snap, const struct nub_sandbox *sb,
				  struct nub_error *err);
/* Removes (sb)'s file mappings made after (snap) was taken (KVM slot first, then the memory). */
enum nub_status nub_filemap_drop_later(const struct nub_snapshot *snap, struct nub_sandbox *sb,
				       struct nub_error *err);

#endif
