/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshot objects: a refcounted, immutable guest memory image plus vCPU state and metadata. */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "hostfn.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

enum nub_status nub_snapshot_new(const struct nub_layout *l, const struct nub_vcpu_state *vcpu,
				 const uint32_t *fn_ids, uint32_t n,
				 const struct nub_alloc_hook *hook, struct nub_snapshot **out,
				 uint8_t **fill, struct nub_error *err)
{
	uint64_t size;

	if (n > NUB_SNAPSHOT_MAX_FNS)
		return nub_error_set(err, NUB_E_INVALID,
				     "snapshot: %u host functions exceed the limit %u", n,
				     NUB_SNAPSHOT_MAX_FNS);
	if (__builtin_add_overflow(l->primary_size, l->scratch_size, &size) || size == 0 ||
	    size % NUB_PAGE_SIZE)
		return nub_error_set(err, NUB_E_INVALID,
				     "snapshot: memory size 0x%llx+0x%llx is invalid",
				     (unsigned long long)l->primary_size,
				     (unsigned long long)l->scratch_size);
	struct nub_snapshot *s = nub_alloc_zeroed(hook, sizeof *s);
	if (!s)
		return nub_error_set(err, NUB_E_NOMEM, "snapshot (%zu bytes)", sizeof *s);
	atomic_init(&s->refs, 1);
	if (hook)
		s->alloc = *hook;
	s->layout = *l;
	s->abi_version = NUB_ABI_VERSION;
	s->vcpu = *vcpu;
	s->memfd = -1;
	s->mem_size = size;
	enum nub_status st = NUB_OK;
	if (n) {
		s->fn_ids = nub_alloc_zeroed(hook, (size_t)n * sizeof *s->fn_ids);
		if (!s->fn_ids) {
			st = nub_error_set(err, NUB_E_NOMEM, "snapshot fn_id list (%u entries)", n);
			goto err_free;
		}
		memcpy(s->fn_ids, fn_ids, (size_t)n * sizeof *s->fn_ids);
		qsort(s->fn_ids, n, sizeof *s->fn_ids, cmp_u32);
		for (uint32_t i = 1; i < n; i++)
			if (s->fn_ids[i] == s->fn_ids[i - 1]) {
				st = nub_error_set(err, NUB_E_INVALID,
						   "snapshot: fn_id %u is listed twice",
						   s->fn_ids[i]);
				goto err_free;
			}
		s->nfn = n;
	}
	/* A memfd, so sandboxes made from the snapshot can map it MAP_PRIVATE and share its pages. */
	s->memfd = memfd_create("nub-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0) {
		st = nub_error_set_errno(err, NUB_E_NOMEM, errno, "memfd_create for a snapshot");
		goto err_free;
	}
	if (ftruncate(s->memfd, (off_t)size) != 0) {
		st = nub_error_set_errno(err, NUB_E_NOMEM, errno,
					 "ftruncate of the snapshot memfd to 0x%llx",
					 (unsigned long long)size);
		goto err_free;
	}
	void *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (w == MAP_FAILED) {
		st = nub_error_set_errno(err, NUB_E_NOMEM, errno, "mmap of the snapshot memfd");
		goto err_free;
	}
	*fill = w;
	*out = s;
	return NUB_OK;

err_free:
	nub_snapshot_unref(s);
	return st;
}

enum nub_status nub_snapshot_seal(struct nub_snapshot *s, uint8_t *fill, struct nub_error *err)
{
	munmap(fill, s->mem_size);
	/* Why seal: sandboxes map this memory; nobody may change it under them, not even us. */
	if (fcntl(s->memfd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		return nub_error_set_errno(err, NUB_E_NOMEM, errno, "sealing the snapshot memfd");
	void *r = mmap(NULL, s->mem_size, PROT_READ, MAP_SHARED, s->memfd, 0);
	if (r == MAP_FAILED)
		return nub_error_set_errno(err, NUB_E_NOMEM, errno,
					   "read-only mmap of the snapshot memfd");
	s->mem = r;
	return NUB_OK;
}

enum nub_status nub_snapshot_check_fns(const struct nub_snapshot *snap,
				       const struct nub_hostfn_table *fns, struct nub_error *err)
{
	for (uint32_t i = 0; i < snap->nfn; i++)
		if (!nub_hostfn_find(fns, snap->fn_ids[i]))
			return nub_error_set(
				err, NUB_E_INVALID,
				"snapshot needs host function fn_id %u, which the sandbox lacks",
				snap->fn_ids[i]);
	return NUB_OK;
}

bool nub_snapshot_has_fn(const struct nub_snapshot *s, uint32_t fn_id)
{
	uint32_t lo = 0, hi = s->nfn;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->fn_ids[mid] == fn_id)
			return true;
		if (s->fn_ids[mid] < fn_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

struct nub_snapshot *nub_snapshot_ref(struct nub_snapshot *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void nub_snapshot_unref(struct nub_snapshot *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->mem)
		munmap((void *)(uintptr_t)s->mem, s->mem_size);
	if (s->memfd >= 0)
		close(s->memfd);
	struct nub_alloc_hook hook = s->alloc;
	nub_alloc_free(&hook, s->fn_ids);
	nub_alloc_free(&hook, s);
}

enum nub_status nub_snapshot_digest(const struct nub_snapshot *snap, uint64_t gva, uint64_t size,
				    uint64_t *out, struct nub_error *err)
{
	const struct nub_layout *l = &snap->layout;
	uint64_t off;

	if (gva % 8 || size % 8 || size == 0)
		return nub_error_set(
			err, NUB_E_INVALID,
			"digest range 0x%llx+0x%llx is not 8-byte aligned and non-empty",
			(unsigned long long)gva, (unsigned long long)size);
	/* Each test subtracts from a bound already checked, so no sum can wrap. */
	if (gva >= NUB_PRIMARY_BASE && gva - NUB_PRIMARY_BASE < l->primary_size &&
	    size <= l->primary_size - (gva - NUB_PRIMARY_BASE))
		off = gva - NUB_PRIMARY_BASE;
	else if (gva >= l->scratch_gpa && gva - l->scratch_gpa < l->scratch_size &&
		 size <= l->scratch_size - (gva - l->scratch_gpa))
		off = l->primary_size + (gva - l->scratch_gpa);
	else
		return nub_error_set(
			err, NUB_E_INVALID,
			"digest range 0x%llx+0x%llx is not inside the primary or the scratch region",
			(unsigned long long)gva, (unsigned long long)size);
	*out = nub_digest_words((const uint64_t *)(const void *)(snap->mem + off), size / 8);
	return NUB_OK;
}

uint64_t nub_snapshot_stack_pointer(const struct nub_snapshot *snap)
{
	return snap->vcpu.gpr[6];
}

/*
 * Where each x87/SSE field sits in the vCPU's fpu blob (NUB_FPU_*, struct kvm_fpu) and in the
 * 64-bit FXSAVE image (Intel SDM vol. 1, table 10-2); the tag word is the abridged one in both.
 */
static const struct {
	uint16_t blob, fxsave, len;
} fx_fields[] = {
	{ NUB_FPU_FCW, 0, 2 },         { NUB_FPU_FSW, 2, 2 },     { NUB_FPU_FTWX, 4, 1 },
	{ NUB_FPU_LAST_OPCODE, 6, 2 }, { NUB_FPU_LAST_IP, 8, 8 }, { NUB_FPU_LAST_DP, 16, 8 },
	{ NUB_FPU_MXCSR, 24, 4 },      { NUB_FPU_FPR, 32, 128 },  { NUB_FPU_XMM, 160, 256 },
};

void nub_vcpu_fxsave_image(uint8_t image[NUB_FXSAVE_SIZE], const struct nub_vcpu_state *s)
{
	memset(image, 0, NUB_FXSAVE_SIZE);
	for (size_t i = 0; i < sizeof fx_fields / sizeof fx_fields[0]; i++)
		memcpy(image + fx_fields[i].fxsave, s->fpu + fx_fields[i].blob, fx_fields[i].len);
}

void nub_vcpu_fpu_from_fxsave(struct nub_vcpu_state *s, const uint8_t image[NUB_FXSAVE_SIZE])
{
	memset(s->fpu, 0, NUB_FPU_SIZE);
	for (size_t i = 0; i < sizeof fx_fields / sizeof fx_fields[0]; i++)
		memcpy(s->fpu + fx_fields[i].blob, image + fx_fields[i].fxsave, fx_fields[i].len);
}
