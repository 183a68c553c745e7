/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images: the ELF loaded, the layout, boot info and page tables written; the uninit API. */
#include "image.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "counter.h"
#include "error.h"
#include "guest_elf.h"
#include "iobuf.h"
#include "nub/abi.h"
#include "paging.h"

static enum nub_status check_env(const struct nub_guest_env *env, uint32_t *perms,
				 struct nub_error *err)
{
	if (!env)
		return nub_error_set(err, NUB_E_INVALID, "env is NULL");
	if (!env->path == !env->data)
		return nub_error_set(err, NUB_E_INVALID,
				     "env: exactly one of path and data must be set");
	if (env->data && env->data_len == 0)
		return nub_error_set(err, NUB_E_INVALID, "env.data_len is 0");
	if (env->init_data_len && !env->init_data)
		return nub_error_set(err, NUB_E_INVALID,
				     "env.init_data is NULL but init_data_len is %zu",
				     env->init_data_len);
	uint32_t p = env->init_data_perms ? env->init_data_perms : NUB_MEM_READ;
	if (p & ~(uint32_t)(NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_INVALID,
				     "env.init_data_perms 0x%x has unknown bits", p);
	if (!(p & NUB_MEM_READ))
		return nub_error_set(err, NUB_E_INVALID,
				     "env.init_data_perms 0x%x lacks NUB_MEM_READ", p);
	/* W^X: a page the guest can write must never be executable, whoever asks. */
	if ((p & NUB_MEM_WRITE) && (p & NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_INVALID,
				     "env.init_data_perms 0x%x is writable and executable at once",
				     p);
	*perms = p;
	return NUB_OK;
}

static uint64_t page_down(uint64_t v)
{
	return v & ~(uint64_t)(NUB_PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t v)
{
	/* Callers only pass addresses below NUB_GPA_TOP, far from overflow. */
	return (v + NUB_PAGE_SIZE - 1) & ~(uint64_t)(NUB_PAGE_SIZE - 1);
}

/*
 * The identity mappings of a guest: ELF segments with their own permissions (pages shared by
 * segments have equal permissions, nub_elf_parse saw to it, so they merge), then the host-owned
 * areas. Guard pages below both stacks and the top scratch page are left out on purpose.
 */
static size_t page_maps(const struct nub_elf_image *elf, const struct nub_layout *l,
			uint32_t init_perms, struct nub_page_map *maps)
{
	size_t n = 0;
	size_t order[NUB_ELF_MAX_SEGMENTS];

	for (size_t i = 0; i < elf->nseg; i++)
		order[i] = i;
	for (size_t i = 1; i < elf->nseg; i++) /* insertion sort by address: at most 16 */
		for (size_t j = i; j > 0 && elf->seg[order[j]].gpa < elf->seg[order[j - 1]].gpa;
		     j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < elf->nseg; i++) {
		const struct nub_elf_segment *s = &elf->seg[order[i]];
		uint64_t start = page_down(s->gpa), end = page_up(s->gpa + s->memsz);
		if (n && maps[n - 1].gpa + maps[n - 1].size > start) {
			uint64_t prev_end = maps[n - 1].gpa + maps[n - 1].size;
			maps[n - 1].size = (end > prev_end ? end : prev_end) - maps[n - 1].gpa;
			continue;
		}
		maps[n++] = (struct nub_page_map){ start, end - start, s->perms };
	}
	maps[n++] = (struct nub_page_map){ l->boot_info_gpa, NUB_PAGE_SIZE, NUB_MEM_READ };
	if (l->heap_size)
		maps[n++] = (struct nub_page_map){ l->heap_gpa, l->heap_size,
						   NUB_MEM_READ | NUB_MEM_WRITE };
	if (l->init_data_size)
		maps[n++] = (struct nub_page_map){ l->init_data_gpa, page_up(l->init_data_size),
						   init_perms };
	/* The guest may edit its own tables (it runs at CPL0 anyway); the host never trusts them. */
	maps[n++] = (struct nub_page_map){ l->page_tables_gpa, l->page_tables_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->input_gpa, l->input_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->output_gpa, l->output_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->stack_gpa, l->stack_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->exception_stack_gpa, l->exception_stack_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	/* Host-owned metadata (the guest counter): readable, never writable by the guest. */
	maps[n++] = (struct nub_page_map){ l->meta_gpa, NUB_PAGE_SIZE, NUB_MEM_READ };
	return n;
}

static void fill_boot_info(const struct nub_layout *l, const struct nub_config *cfg,
			   uint32_t init_perms, struct nub_boot_info *bi)
{
	memset(bi, 0, sizeof *bi);
	bi->abi_version = NUB_ABI_VERSION;
	bi->max_log_level = (uint32_t)cfg->max_guest_log_level;
	bi->input_gva = l->input_gpa;
	bi->input_size = l->input_size;
	bi->output_gva = l->output_gpa;
	bi->output_size = l->output_size;
	bi->heap_gva = l->heap_gpa;
	bi->heap_size = l->heap_size;
	bi->init_data_gva = l->init_data_gpa;
	bi->init_data_size = l->init_data_size;
	bi->init_data_perms = l->init_data_size ? init_perms : 0;
	bi->counter_gva = l->counter_gpa;
	bi->stack_top_gva = l->stack_gpa + l->stack_size;
	bi->exception_stack_top_gva = l->exception_stack_gpa + l->exception_stack_size;
	bi->page_tables_gva = l->page_tables_gpa;
	bi->page_tables_size = l->page_tables_size;
	bi->scratch_gva = l->scratch_gpa;
	bi->scratch_size = l->scratch_size;
}

/* Fills the mapped regions of (im) from the ELF (elf, data) and the environment. */
static enum nub_status build_image(struct nub_image *im, const struct nub_elf_image *elf,
				   const uint8_t *data, size_t len, const struct nub_guest_env *env,
				   uint32_t init_perms, struct nub_error *err)
{
	const struct nub_layout *l = &im->layout;
	enum nub_status st = nub_elf_load(elf, data, len, im->mem.primary.host, l->primary_size,
					  err);
	if (st != NUB_OK)
		return st;

	struct nub_boot_info bi;
	fill_boot_info(l, &im->cfg, init_perms, &bi);
	st = nub_mem_write(&im->mem, l->boot_info_gpa, &bi, sizeof bi, err);
	if (st == NUB_OK && env->init_data_len)
		st = nub_mem_write(&im->mem, l->init_data_gpa, env->init_data, env->init_data_len,
				   err);
	if (st != NUB_OK)
		return st;

	struct nub_page_map maps[NUB_ELF_MAX_SEGMENTS + 10];
	size_t n = page_maps(elf, l, init_perms, maps);
	volatile uint8_t *tables = nub_mem_ptr(&im->mem, l->page_tables_gpa, l->page_tables_size);
	if (!tables)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "page tables at 0x%llx are outside the primary region",
				     (unsigned long long)l->page_tables_gpa);
	st = nub_paging_build((uint8_t *)(uintptr_t)tables, l->page_tables_gpa, l->page_tables_size,
			      maps, n, &im->cr3, err);
	if (st != NUB_OK)
		return st;

	nub_iobuf_reset(nub_mem_ptr(&im->mem, l->input_gpa, l->input_size), l->input_size);
	nub_iobuf_reset(nub_mem_ptr(&im->mem, l->output_gpa, l->output_size), l->output_size);
	im->entry = elf->entry;
	return NUB_OK;
}

enum nub_status nub_uninit_new(const struct nub_guest_env *env, const struct nub_config *cfg,
			       struct nub_uninit **out, struct nub_error *err)
{
	struct nub_config rc;
	uint32_t init_perms = 0;
	uint8_t *file = NULL;
	size_t file_len = 0;
	struct nub_elf_image elf;

	nub_error_clear(err);
	if (!out)
		return nub_error_set(err, NUB_E_INVALID, "out is NULL");
	*out = NULL;
	enum nub_status st = nub_config_resolve(cfg, &rc, err);
	if (st == NUB_OK)
		st = check_env(env, &init_perms, err);
	if (st != NUB_OK)
		return st;

	const uint8_t *data = env->data;
	size_t len = env->data_len;
	if (env->path) {
		st = nub_elf_read_file(env->path, &rc.alloc, &file, &file_len, err);
		if (st != NUB_OK)
			return st;
		data = file;
		len = file_len;
	}
	st = nub_elf_parse(data, len, &elf, err);
	if (st != NUB_OK)
		goto out_free_file;

	struct nub_layout_params lp = {
		.image_end = elf.image_end,
		.heap_size = rc.heap_size,
		.init_data_size = env->init_data_len,
		.input_size = rc.input_size,
		.output_size = rc.output_size,
		.stack_size = rc.stack_size,
	};
	struct nub_layout layout;
	st = nub_layout_compute(&lp, &layout, err);
	if (st != NUB_OK)
		goto out_free_file;

	struct nub_uninit *u = nub_alloc_zeroed(&rc.alloc, sizeof *u);
	if (!u) {
		st = nub_error_set(err, NUB_E_NOMEM, "uninitialized sandbox (%zu bytes)",
				   sizeof *u);
		goto out_free_file;
	}
	u->img.cfg = rc;
	u->img.layout = layout;
	st = nub_image_own_config(&u->img, env->path, "guest", err);
	if (st == NUB_OK)
		st = nub_mem_map_guarded(&u->img.mem, &layout, -1, err);
	if (st == NUB_OK)
		st = build_image(&u->img, &elf, data, len, env, init_perms, err);
	if (st != NUB_OK) {
		nub_uninit_free(u);
		goto out_free_file;
	}
	*out = u;
out_free_file:
	nub_alloc_free(&rc.alloc, file);
	return st;
}

void nub_image_release(struct nub_image *img)
{
	struct nub_alloc_hook hook = img->cfg.alloc;
	nub_mem_unmap(&img->mem);
	nub_filemap_unmap_all(img->maps, img->nmaps);
	img->nmaps = 0;
	nub_hostfn_free(&img->hostfns, &hook);
	nub_counter_free(img->counter, &hook);
	img->counter = NULL;
	nub_alloc_free(&hook, img->core_dir);
	img->core_dir = NULL;
	img->cfg.core_dump_dir = NULL;
}

enum nub_status nub_image_own_config(struct nub_image *img, const char *path, const char *fallback,
				     struct nub_error *err)
{
	const char *name = fallback;
	if (path) {
		const char *slash = strrchr(path, '/');
		name = slash ? slash + 1 : path;
	}
	snprintf(img->guest_name, sizeof img->guest_name, "%s", name);
	const char *dir = img->cfg.core_dump_dir;
	img->cfg.core_dump_dir = NULL;
	if (!dir)
		return NUB_OK;
	size_t n = strlen(dir) + 1; /* below NUB_CORE_DIR_MAX: the config was validated */
	img->core_dir = nub_alloc_zeroed(&img->cfg.alloc, n);
	if (!img->core_dir)
		return nub_error_set(err, NUB_E_NOMEM, "config.core_dump_dir copy (%zu bytes)", n);
	memcpy(img->core_dir, dir, n);
	img->cfg.core_dump_dir = img->core_dir;
	return NUB_OK;
}

void nub_image_take(struct nub_image *dst, struct nub_uninit *u)
{
	struct nub_alloc_hook hook = u->img.cfg.alloc;
	*dst = u->img;
	nub_alloc_free(&hook, u);
}

void nub_uninit_free(struct nub_uninit *u)
{
	if (!u)
		return;
	struct nub_alloc_hook hook = u->img.cfg.alloc;
	nub_image_release(&u->img);
	nub_alloc_free(&hook, u);
}

enum nub_status nub_uninit_register(struct nub_uninit *u, uint32_t fn_id, nub_host_fn fn, void *ctx,
				    struct nub_error *err)
{
	nub_error_clear(err);
	if (!u)
		return nub_error_set(err, NUB_E_INVALID, "uninit is NULL");
	return nub_hostfn_register(&u->img.hostfns, &u->img.cfg.alloc, fn_id, fn, ctx, err);
}

enum nub_status nub_uninit_set_max_guest_log_level(struct nub_uninit *u,
						   enum nub_abi_log_level level,
						   struct nub_error *err)
{
	nub_error_clear(err);
	if (!u)
		return nub_error_set(err, NUB_E_INVALID, "uninit is NULL");
	if ((unsigned)level > NUB_LEVEL_TRACE)
		return nub_error_set(err, NUB_E_INVALID, "log level %u is outside 0..5",
				     (unsigned)level);
	u->img.cfg.max_guest_log_level = level;
	uint32_t v = (uint32_t)level;
	uint64_t gpa = u->img.layout.boot_info_gpa + offsetof(struct nub_boot_info, max_log_level);
	return nub_mem_write(&u->img.mem, gpa, &v, sizeof v, err);
}

uint64_t nub_uninit_shared_mem_size(const struct nub_uninit *u)
{
	return u ? u->img.layout.primary_size : 0;
}
