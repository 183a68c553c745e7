/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the structure-aware mutator (harness/fuzz/mutator.h) from the committed seeds. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "mutator.h"
#include "snapshot.h"
#include "snapshot_format.h"
#include "testlib.h"

/* Mutations per seed, and the chain length of the long walks. */
#define RUNS 100u
#define CHAIN 1000u

/* The targets' MAX_INPUT (nub_fuzz_mutator in their .cmake). */
#define CMDS_MAX 8192u
#define SNAPSHOT_MAX 131072u

struct seeds {
	size_t n;
	uint8_t *data[64];
	size_t len[64];
	char name[64][64];
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of corpus/(target)/ whose name starts with "seed-", in name order. */
static void load(const char *target, struct seeds *s)
{
	char dir[512], path[1024];
	char *names[64];
	size_t n = 0;

	snprintf(dir, sizeof dir, "%s/%s", NUB_CORPUS_DIR, target);
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, "seed-", 5) == 0) {
			assert_true(n < 64);
			names[n++] = strdup(e->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		FILE *f;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		assert_non_null(f = fopen(path, "rb"));
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		long len = ftell(f);
		assert_true(len >= 0); /* seed-empty is empty */
		rewind(f);
		s->data[i] = malloc((size_t)len + 1);
		assert_non_null(s->data[i]);
		assert_int_equal(fread(s->data[i], 1, (size_t)len, f), (size_t)len);
		fclose(f);
		s->len[i] = (size_t)len;
		snprintf(s->name[i], sizeof s->name[i], "%s", names[i]);
		free(names[i]);
	}
	assert_true(n >= 3);
}

static void unload(struct seeds *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
}

/* Counts over a run of mutations. */
struct tally {
	size_t total, invalid, valid, invalid_but_valid, decoded;
};

/* A buffer of exactly (max) bytes holding (data, len) (ASan sees every write past it). */
static uint8_t *buffer(const uint8_t *data, size_t len, size_t max)
{
	uint8_t *b = malloc(max);

	assert_non_null(b);
	memcpy(b, data, len < max ? len : max);
	return b;
}

static bool valid(enum nub_mut_format fmt, const uint8_t *b, size_t n)
{
	return fmt == NUB_MUT_CMDS ? nub_mut_cmds_valid(b, n) : nub_mut_snapshot_valid(b, n);
}

static bool decodes(const uint8_t *b, size_t n)
{
	struct nub_snapshot *snap = NULL;
	struct nub_error err;

	if (nub_snapshot_file_decode(b, n, NULL, &snap, &err) != NUB_OK)
		return false;
	nub_snapshot_unref(snap);
	return true;
}

/*
 * One mutation of (data, len) from (seed) into a fresh buffer of (max) bytes: checks the size,
 * that it is reproducible, and, for snapshot files, that the checksum is right exactly when the
 * mutation did not choose to break it; counts the rest in (t).
 */
static void one(enum nub_mut_format fmt, const uint8_t *data, size_t len, size_t max,
		unsigned int seed, struct tally *t, bool decode)
{
	struct nub_mut m, m2;
	uint8_t *a = buffer(data, len, max), *b = buffer(data, len, max);

	nub_mut_init(&m, seed, NULL);
	size_t n = nub_mut_run(&m, fmt, a, len < max ? len : max, max);
	assert_true(n >= 1 && n <= max);
	nub_mut_init(&m2, seed, NULL);
	assert_int_equal(nub_mut_run(&m2, fmt, b, len < max ? len : max, max), n);
	assert_memory_equal(a, b, n);
	assert_int_equal(m.invalid, m2.invalid);

	bool ok = valid(fmt, a, n);
	t->total++;
	t->invalid += m.invalid;
	t->valid += ok;
	t->invalid_but_valid += m.invalid && ok;
	if (fmt == NUB_MUT_SNAPSHOT && n >= SNAP_HEADER_SIZE + 4) {
		bool crc = nub_le32(a + n - 4) == snap_crc32c(a, n - 4);
		assert_int_equal(crc, !m.invalid);
		assert_int_equal(nub_le64(a + SNAP_HDR_FILE_SIZE), n);
	}
	if (decode && !m.invalid)
		t->decoded += decodes(a, n);
	free(a);
	free(b);
}

/*
 * Command streams: every mutation not marked invalid is a complete stream, and about one in ten
 * (NUB_MUT_INVALID_PER_100) is marked; over all outputs at least 85 % parse completely.
 */
static void test_cmds_from_seeds(void **state)
{
	struct seeds s;
	struct tally t = { 0 };

	(void)state;
	load("fuzz_outb", &s);
	for (size_t i = 0; i < s.n; i++)
		for (unsigned int k = 0; k < RUNS; k++)
			one(NUB_MUT_CMDS, s.data[i], s.len[i], CMDS_MAX, 1000u * (unsigned)i + k,
			    &t, false);
	print_message("cmds: %zu mutations of %zu seeds, %zu marked invalid, %zu complete\n",
		      t.total, s.n, t.invalid, t.valid);
	assert_int_equal(t.valid - t.invalid_but_valid, t.total - t.invalid);
	assert_true(t.invalid * 100 >= t.total * 6 && t.invalid * 100 <= t.total * 14);
	assert_true(t.valid * 100 >= t.total * 85);
	unload(&s);
}

/*
 * Snapshot files: every mutation not marked invalid has the right file_size and CRC-32C, every
 * marked one a stale CRC; at least 85 % of the outputs of the valid seeds keep the whole
 * structure (magic, table, sections in place, size, checksum), and at least 40 % of the
 * mutations of the loader-valid seeds still load (a byte-level mutation of the same files almost
 * never does: the checksum and a field check stop it).
 */
static void test_snapshot_from_seeds(void **state)
{
	struct seeds s;
	struct tally all = { 0 }, good = { 0 };

	(void)state;
	load("fuzz_snapshot_file", &s);
	for (size_t i = 0; i < s.n; i++) {
		bool loads = decodes(s.data[i], s.len[i]);
		/* The seeds the loader refuses, each made for one check, need fewer. */
		for (unsigned int k = 0; k < (loads ? RUNS : RUNS / 5); k++)
			one(NUB_MUT_SNAPSHOT, s.data[i], s.len[i], SNAPSHOT_MAX,
			    1000u * (unsigned)i + k, loads ? &good : &all, loads);
	}
	print_message("snapshot: %zu mutations of loadable seeds: %zu marked invalid, %zu keep "
		      "the structure, %zu load; %zu of the others\n",
		      good.total, good.invalid, good.valid, good.decoded, all.total);
	assert_true(good.total >= 5u * RUNS); /* seed-kvm-*, seed-valid-* */
	assert_int_equal(good.invalid_but_valid, 0);
	assert_true(good.invalid * 100 >= good.total * 6 && good.invalid * 100 <= good.total * 14);
	assert_true(good.valid * 100 >= good.total * 85);
	assert_true(good.decoded * 100 >= good.total * 40);
	unload(&s);
}

/*
 * Long walks: each output is the next input, CHAIN times, in buffers of exactly max_size (ASan
 * checks every access), splicing with another seed every 16th step.
 */
static void walk(const char *target, enum nub_mut_format fmt, size_t max)
{
	struct seeds s;
	struct nub_mut m;

	load(target, &s);
	for (size_t i = 0; i < s.n; i += 3) {
		uint8_t *a = buffer(s.data[i], s.len[i], max), *out = malloc(max);
		size_t n = s.len[i] < max ? s.len[i] : max;
		assert_non_null(out);
		for (unsigned int k = 0; k < CHAIN; k++) {
			nub_mut_init(&m, k, NULL);
			if (k % 16 == 15) {
				size_t j = (i + k) % s.n;
				size_t c = nub_mut_cross(&m, fmt, a, n, s.data[j], s.len[j], out,
							 max);
				assert_true(c >= 1 && c <= max);
				memcpy(a, out, c);
				n = c;
			} else {
				n = nub_mut_run(&m, fmt, a, n, max);
				assert_true(n >= 1 && n <= max);
			}
		}
		free(a);
		free(out);
	}
	unload(&s);
}

static void test_cmds_walk(void **state)
{
	(void)state;
	walk("fuzz_outb", NUB_MUT_CMDS, CMDS_MAX);
}

static void test_snapshot_walk(void **state)
{
	(void)state;
	walk("fuzz_snapshot_file", NUB_MUT_SNAPSHOT, SNAPSHOT_MAX);
}

/* A splice of two complete streams is complete, within max_size, and reproducible. */
static void test_cmds_cross(void **state)
{
	struct seeds s;
	struct nub_mut m;
	uint8_t *out = malloc(CMDS_MAX), *again = malloc(CMDS_MAX);
	size_t n_complete = 0;

	(void)state;
	assert_non_null(out);
	assert_non_null(again);
	load("fuzz_outb", &s);
	for (size_t i = 0; i < s.n; i++)
		for (size_t j = 0; j < s.n; j++) {
			if (!nub_mut_cmds_valid(s.data[i], s.len[i]) ||
			    !nub_mut_cmds_valid(s.data[j], s.len[j]))
				continue;
			nub_mut_init(&m, (unsigned)(i * 64 + j), NULL);
			size_t n = nub_mut_cross(&m, NUB_MUT_CMDS, s.data[i], s.len[i], s.data[j],
						 s.len[j], out, CMDS_MAX);
			assert_true(n >= 1 && n <= CMDS_MAX);
			assert_true(nub_mut_cmds_valid(out, n));
			nub_mut_init(&m, (unsigned)(i * 64 + j), NULL);
			assert_int_equal(nub_mut_cross(&m, NUB_MUT_CMDS, s.data[i], s.len[i],
						       s.data[j], s.len[j], again, CMDS_MAX),
					 n);
			assert_memory_equal(out, again, n);
			n_complete++;
		}
	assert_true(n_complete >= 100);
	free(out);
	free(again);
	unload(&s);
}

/* Different seeds give different mutations (the seed is used). */
static void test_seed_matters(void **state)
{
	struct seeds s;
	size_t distinct = 0;
	uint8_t *prev = NULL;
	size_t prev_n = 0;

	(void)state;
	load("fuzz_snapshot_file", &s);
	for (unsigned int k = 0; k < 50; k++) {
		struct nub_mut m;
		uint8_t *b = buffer(s.data[0], s.len[0], SNAPSHOT_MAX);
		nub_mut_init(&m, k, NULL);
		size_t n = nub_mut_run(&m, NUB_MUT_SNAPSHOT, b, s.len[0], SNAPSHOT_MAX);
		distinct += !prev || n != prev_n || memcmp(prev, b, n) != 0;
		free(prev);
		prev = b;
		prev_n = n;
	}
	free(prev);
	assert_true(distinct >= 45);
	unload(&s);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_cmds_from_seeds), cmocka_unit_test(test_snapshot_from_seeds),
	cmocka_unit_test(test_cmds_walk),       cmocka_unit_test(test_snapshot_walk),
	cmocka_unit_test(test_cmds_cross),      cmocka_unit_test(test_seed_matters),
};

NUB_TEST_SUITE(tests);
