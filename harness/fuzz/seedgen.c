/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nub-seedgen OUT_DIR [--guest-dir DIR] [--no-kvm]: writes the seed corpus of every fuzz target
 * into OUT_DIR/<target>/seed-<what>, target by target, with the seed file of each,
 * fuzz/<kind>/seeds_<target>.c (listed by harness/fuzz/targets.cmake in seedgen_targets.h). The
 * seeds are encoded with the engine's own encoders (frames, snapshot files), the formats of
 * fuzz_formats.h, the `fuzz` guest's program encoder (fuzz_cmds_codec.h) and the catalogues of
 * crafted ELF and snapshot files (elf_variants.h, snapshot_variants.h). With --guest-dir, targets
 * that take guests also get the built ones (dummy.elf, simple.elf, fuzz.elf), reduced to their
 * loadable view so they do not depend on build paths; and when /dev/kvm can be opened, the
 * snapshot targets get real snapshots of `simple` and `dummy` taken after their init (seed-kvm-*,
 * unless --no-kvm; the line "kvm seeds: generated|skipped" tells harness/scripts/seeds.sh).
 * Output is deterministic: `ctest -R seeds-match` regenerates and compares with corpus/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf_file.h"
#include "host_fns.h"
#include "seedgen.h"
#include "snapshot_format.h"
#include "snapshot_variants.h"

void seedgen_die(const char *what, const char *detail)
{
	fprintf(stderr, "nub-seedgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		seedgen_die(path, strerror(errno));
}

void seedgen_write(struct seedgen *g, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", g->out_dir, g->target);
	make_dir(path);
	snprintf(path, sizeof path, "%s/%s/seed-%s", g->out_dir, g->target, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		seedgen_die(path, strerror(errno));
	g->written++;
}

void seedgen_emit(struct seedgen *g, const char *name, struct fuzz_output *o)
{
	seedgen_write(g, name, o->data, o->len);
	fuzz_output_free(o);
}

uint8_t *seedgen_guest_view(const struct seedgen *g, const char *guest, size_t *len)
{
	char path[4096];
	const char *why;

	snprintf(path, sizeof path, "%s/%s.elf", g->guest_dir, guest);
	uint8_t *buf = elf_file_loadable_view(path, len, &why);
	if (!buf)
		seedgen_die(path, why);
	return buf;
}

void seedgen_snapshot(struct nub_buf *file, const struct nub_layout_params *p, const uint32_t *fns,
		      uint32_t nfns, bool fill)
{
	struct nub_error err;

	if (snap_fixture_file(p, fns, nfns, fill, file, &err) != NUB_OK)
		seedgen_die("snap_fixture_file", err.message);
}

void seedgen_small_snapshot(struct nub_buf *file)
{
	static const uint32_t fns[] = { 1, 2, 4 };

	seedgen_snapshot(file, &snap_fixture_params, fns, 3, true);
}

/* The file of a snapshot of (guest) taken right after its init; see seedgen_kvm_snapshots. */
static void kvm_snapshot(const char *guest_dir, const char *guest, struct nub_buf *file)
{
	char path[4096];
	struct nub_config cfg;
	struct nub_error err;
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *snap = NULL;

	snprintf(path, sizeof path, "%s/%s.elf", guest_dir, guest);
	nub_config_default(&cfg);
	cfg.time_limit_ms = 10000;
	struct nub_guest_env env = { .path = path };
	if (nub_uninit_new(&env, &cfg, &u, &err) != NUB_OK)
		seedgen_die(path, err.message);
	for (uint32_t id = 1; id <= 4; id++)
		if (nub_uninit_register(u, id, host_fn_echo, NULL, &err) != NUB_OK)
			seedgen_die("nub_uninit_register", err.message);
	if (nub_uninit_evolve(u, &sb, &err) != NUB_OK)
		seedgen_die("nub_uninit_evolve", err.message);
	if (nub_sandbox_snapshot(sb, &snap, &err) != NUB_OK)
		seedgen_die("nub_sandbox_snapshot", err.message);
	memset(file, 0, sizeof *file);
	if (nub_snapshot_file_encode(snap, file, &err) != NUB_OK)
		seedgen_die("nub_snapshot_file_encode", err.message);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

void seedgen_kvm_snapshots(struct seedgen *g)
{
	static const char *const guests[] = { "simple", "dummy" };
	char name[64];

	if (!g->kvm)
		return;
	for (size_t i = 0; i < sizeof guests / sizeof guests[0]; i++) {
		struct nub_buf f;
		kvm_snapshot(g->guest_dir, guests[i], &f);
		snprintf(name, sizeof name, "kvm-%s", guests[i]);
		seedgen_write(g, name, f.data, f.len);
		nub_buf_free(&f);
	}
}

static const struct {
	const char *name;
	void (*write)(struct seedgen *g);
} targets[] = {
#define SEEDGEN_TARGET(target) { #target, seeds_##target },
#include "seedgen_targets.h"
#undef SEEDGEN_TARGET
};

int main(int argc, char **argv)
{
	struct seedgen g = { 0 };
	bool no_kvm = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--guest-dir") == 0 && i + 1 < argc)
			g.guest_dir = argv[++i];
		else if (strcmp(argv[i], "--no-kvm") == 0)
			no_kvm = true;
		else if (argv[i][0] != '-' && !g.out_dir)
			g.out_dir = argv[i];
		else
			g.out_dir = NULL, i = argc;
	}
	if (!g.out_dir) {
		fprintf(stderr,
			"usage: nub-seedgen OUT_DIR [--guest-dir DIR] [--no-kvm]\n"
			"Writes OUT_DIR/<target>/seed-* for every fuzz target (seed-kvm-* only\n"
			"with --guest-dir, where /dev/kvm opens, and without --no-kvm).\n");
		return 2;
	}
	make_dir(g.out_dir);
	g.kvm = g.guest_dir && !no_kvm && nub_kvm_available();
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		g.target = targets[i].name;
		targets[i].write(&g);
	}
	/* seeds.sh reads this line: without it, committed seed-kvm-* files are not compared. */
	if (g.kvm)
		printf("nub-seedgen: kvm seeds: generated\n");
	else
		printf("nub-seedgen: kvm seeds: skipped: %s\n",
		       !g.guest_dir ? "no --guest-dir"
		       : no_kvm     ? "--no-kvm"
				    : "/dev/kvm cannot be opened");
	printf("nub-seedgen: %u seeds written to %s\n", g.written, g.out_dir);
	return 0;
}
