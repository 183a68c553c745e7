/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshot file format (snapshot_file.c): round trips, atomic save, and every malformed field refused. */
#define _GNU_SOURCE /* mkdtemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc_inject.h"
#include "testlib.h"

#include "bytes.h"
#include "layout.h"
#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_variants.h"

#define PAGE 0x1000u

struct fixture {
	struct nub_layout layout;
	struct nub_vcpu_state vcpu;
	struct nub_snapshot *snap;
	uint8_t *file;
	size_t len;
	char dir[64];
};

/* ---- building snapshots by hand ---- */

static void fixture_layout(struct nub_layout *l)
{
	struct nub_error err;
	assert_int_equal(nub_layout_compute(&snap_fixture_params, l, &err), NUB_OK);
}

static struct nub_snapshot *make_snapshot(const struct nub_layout *l,
					  const struct nub_vcpu_state *v, const uint32_t *fns,
					  uint32_t n, void (*fill_fn)(uint8_t *, uint64_t))
{
	struct nub_snapshot *s = NULL;
	struct nub_error err;
	uint8_t *fill = NULL;

	assert_int_equal(nub_snapshot_new(l, v, fns, n, NULL, &s, &fill, &err), NUB_OK);
	if (fill_fn)
		fill_fn(fill, s->mem_size);
	assert_int_equal(nub_snapshot_seal(s, fill, &err), NUB_OK);
	return s;
}

static void encode(const struct nub_snapshot *s, uint8_t **data, size_t *len)
{
	struct nub_buf buf;
	struct nub_error err;

	memset(&buf, 0, sizeof buf);
	assert_int_equal(nub_snapshot_file_encode(s, &buf, &err), NUB_OK);
	*data = buf.data;
	*len = buf.len;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	fixture_layout(&f->layout);
	snap_variants_vcpu(&f->vcpu, &f->layout);
	f->snap = make_snapshot(&f->layout, &f->vcpu, snap_variants_fns, 3, snap_variants_fill);
	encode(f->snap, &f->file, &f->len);
	snprintf(f->dir, sizeof f->dir, "/tmp/nub-test-snapshot-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static void remove_tree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		chmod(path, 0700);
		DIR *d = opendir(path);
		struct dirent *e;
		char sub[512];
		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	remove_tree(f->dir);
	nub_snapshot_unref(f->snap);
	free(f->file);
	free(f);
	return 0;
}

/* ---- checking ---- */

static void assert_snapshot_equal(const struct nub_snapshot *a, const struct nub_snapshot *b)
{
	assert_memory_equal(&a->layout, &b->layout, sizeof a->layout);
	assert_int_equal(a->abi_version, b->abi_version);
	const char *field = snap_vcpu_differs(&a->vcpu, &b->vcpu);
	if (field)
		fail_msg("vcpu.%s differs", field);
	assert_int_equal(a->nfn, b->nfn);
	if (a->nfn)
		assert_memory_equal(a->fn_ids, b->fn_ids, a->nfn * sizeof *a->fn_ids);
	assert_int_equal(a->mem_size, b->mem_size);
	assert_non_null(b->mem);
	assert_memory_equal(a->mem, b->mem, a->mem_size);
}

static struct nub_snapshot *decode_ok(const uint8_t *b, size_t len)
{
	struct nub_snapshot *s = NULL;
	struct nub_error err;
	enum nub_status st = nub_snapshot_file_decode(b, len, NULL, &s, &err);
	if (st != NUB_OK)
		print_error("decode failed: %s\n", err.message);
	assert_int_equal(st, NUB_OK);
	assert_non_null(s);
	return s;
}

static void decode_fails(const uint8_t *b, size_t len, enum nub_status want, const char *msg)
{
	struct nub_snapshot *s = (struct nub_snapshot *)(uintptr_t)1;
	struct nub_error err;

	assert_int_equal(nub_snapshot_file_decode(b, len, NULL, &s, &err), want);
	nub_assert_error(&err, want, msg);
	assert_null(s);
}

static uint8_t *copy(const struct fixture *f)
{
	uint8_t *b = malloc(f->len);
	assert_non_null(b);
	memcpy(b, f->file, f->len);
	return b;
}

static size_t count_dir_entries(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	long n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	uint8_t *b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/* ---- round trips ---- */

static void test_fixture_layout(void **state)
{
	struct fixture *f = *state;
	const struct nub_layout *l = &f->layout;

	assert_int_equal(l->primary_size, SNAP_FIX_PRIMARY_END - NUB_PRIMARY_BASE);
	assert_int_equal(l->page_tables_gpa + l->page_tables_size - PAGE, SNAP_FIX_PT_ROOT);
	assert_int_equal(l->scratch_gpa, SNAP_FIX_SCRATCH_GPA);
	assert_int_equal(l->stack_gpa, SNAP_FIX_STACK_GPA);
	assert_int_equal(l->stack_gpa + l->stack_size, SNAP_FIX_STACK_TOP);
	assert_int_equal(l->exception_stack_gpa, SNAP_FIX_EXC_GPA);
	assert_int_equal(l->exception_stack_gpa + l->exception_stack_size, SNAP_FIX_EXC_TOP);
	assert_int_equal(l->primary_size + l->scratch_size, SNAP_FIX_MEM_SIZE);
	assert_int_equal(f->len, SNAP_FIX_FILE_LEN);
	assert_int_equal(nub_le32(f->file + SNAP_ENTRY(0) + SNAP_E_TYPE), SNAP_LAYOUT);
	assert_int_equal(nub_le64(f->file + SNAP_ENTRY(0) + SNAP_E_OFFSET), SNAP_FIX_OFF_LAYOUT);
	assert_int_equal(nub_le64(f->file + SNAP_ENTRY(1) + SNAP_E_OFFSET), SNAP_FIX_OFF_VCPU);
	assert_int_equal(nub_le64(f->file + SNAP_ENTRY(2) + SNAP_E_OFFSET), SNAP_FIX_OFF_FNS);
	assert_int_equal(nub_le64(f->file + SNAP_ENTRY(3) + SNAP_E_OFFSET), SNAP_FIX_OFF_MEMORY);
}

static void test_crc_reference(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(snap_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
	assert_int_equal(nub_le32(f->file + f->len - 4), snap_crc32c(f->file, f->len - 4));
}

/* The encoded bytes, pinned field by field where they are fixed by the format. */
static void test_encoding_is_as_documented(void **state)
{
	struct fixture *f = *state;
	const uint8_t *b = f->file;
	const uint8_t *m = b + SNAP_FIX_OFF_MEMORY;
	static const uint64_t runs[5][2] = {
		{ 0, 2 }, { 0x3000, 2 }, { 0x7000, 1 }, { 0x1f000, 1 }, { 0x25000, 1 }
	};

	assert_memory_equal(b, "NUBSNAP", 8);
	assert_int_equal(nub_le32(b + SNAP_HDR_VERSION), 1);
	assert_int_equal(nub_le32(b + SNAP_HDR_ABI), NUB_ABI_VERSION);
	assert_int_equal(nub_le32(b + SNAP_HDR_SIZE), 32);
	assert_int_equal(nub_le32(b + SNAP_HDR_COUNT), 4);
	assert_int_equal(nub_le64(b + SNAP_HDR_FILE_SIZE), SNAP_FIX_FILE_LEN);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_LAYOUT + SNAP_L_IMAGE_END), SNAP_FIX_IMAGE_END);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_LAYOUT + SNAP_L_HEAP), 0x4000);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_LAYOUT + SNAP_L_INIT_DATA), 0x1801);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_LAYOUT + SNAP_L_STACK), 0x2000);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_RSP), SNAP_FIX_STACK_TOP - 0x18);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_RIP), 0x4010);
	assert_int_equal(b[SNAP_FIX_OFF_VCPU + SNAP_V_SEG(SNAP_CS) + SNAP_S_L], 1);
	assert_int_equal(b[SNAP_FIX_OFF_VCPU + SNAP_V_SEG(SNAP_TR) + SNAP_S_TYPE], 11);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_SEG(SNAP_GS) + SNAP_S_BASE),
			 0xffff800000001000ull);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_CR0), 0x80050033);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_CR3), SNAP_FIX_PT_ROOT);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_EFER), 0xd01);
	assert_int_equal(nub_le32(b + SNAP_FIX_OFF_VCPU + SNAP_V_MXCSR), 0x1f80);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_DR7), 0x400);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_KGS), 0xffff800000002000ull);
	assert_int_equal(nub_le64(b + SNAP_FIX_OFF_VCPU + SNAP_V_XCR0), 1);
	assert_int_equal(nub_le32(b + SNAP_FIX_OFF_FNS), 3);
	assert_int_equal(nub_le32(b + SNAP_FIX_OFF_FNS + 4), 1);
	assert_int_equal(nub_le32(b + SNAP_FIX_OFF_FNS + 8), 3);
	assert_int_equal(nub_le32(b + SNAP_FIX_OFF_FNS + 12), 9);
	assert_int_equal(nub_le32(m + SNAP_M_COUNT), 5);
	assert_int_equal(nub_le32(m + SNAP_M_RESERVED), 0);
	const uint8_t *data = m + SNAP_M_RUN(5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(nub_le64(m + SNAP_M_RUN(i) + SNAP_R_OFFSET), runs[i][0]);
		assert_int_equal(nub_le64(m + SNAP_M_RUN(i) + SNAP_R_PAGES), runs[i][1]);
		assert_memory_equal(data, f->snap->mem + runs[i][0], runs[i][1] * PAGE);
		data += runs[i][1] * PAGE;
	}
	assert_ptr_equal(data, b + f->len - 4);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *s = decode_ok(f->file, f->len);

	assert_snapshot_equal(f->snap, s);
	assert_true(nub_snapshot_has_fn(s, 3));
	assert_false(nub_snapshot_has_fn(s, 2));
	/* Deterministic: the decoded snapshot encodes to the same bytes. */
	uint8_t *again;
	size_t len;
	encode(s, &again, &len);
	assert_int_equal(len, f->len);
	assert_memory_equal(again, f->file, len);
	free(again);
	nub_snapshot_unref(s);
}

static void test_encode_appends(void **state)
{
	struct fixture *f = *state;
	struct nub_buf buf;
	struct nub_error err;

	memset(&buf, 0, sizeof buf);
	assert_int_equal(nub_buf_append(&buf, "abc", 3), NUB_OK);
	assert_int_equal(nub_snapshot_file_encode(f->snap, &buf, &err), NUB_OK);
	assert_int_equal(buf.len, 3 + f->len);
	assert_memory_equal(buf.data, "abc", 3);
	assert_memory_equal(buf.data + 3, f->file, f->len);
	nub_buf_free(&buf);
}

static void zero_fill(uint8_t *m, uint64_t size)
{
	memset(m, 0, (size_t)size); /* every page becomes data, all zero: still no runs */
}

static void test_round_trip_empty(void **state)
{
	struct fixture *f = *state;
	void (*fills[2])(uint8_t *, uint64_t) = { NULL, zero_fill };

	for (int i = 0; i < 2; i++) {
		struct nub_snapshot *a = make_snapshot(&f->layout, &f->vcpu, NULL, 0, fills[i]);
		uint8_t *b;
		size_t len;
		encode(a, &b, &len);
		assert_int_equal(len, SNAP_FIX_OFF_FNS + 4 + 8 + 4); /* no fns, no runs */
		assert_int_equal(nub_le32(b + SNAP_FIX_OFF_FNS), 0);
		assert_int_equal(nub_le32(b + SNAP_FIX_OFF_FNS + 4), 0);
		struct nub_snapshot *s = decode_ok(b, len);
		assert_snapshot_equal(a, s);
		nub_snapshot_unref(s);
		nub_snapshot_unref(a);
		free(b);
	}
}

static void full_fill(uint8_t *m, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++)
		m[i] = (uint8_t)(i / PAGE + 1);
}

static void test_round_trip_max_fns_full_memory(void **state)
{
	struct fixture *f = *state;
	uint32_t *ids = malloc(NUB_SNAPSHOT_MAX_FNS * sizeof *ids);

	assert_non_null(ids);
	for (uint32_t i = 0; i < NUB_SNAPSHOT_MAX_FNS; i++)
		ids[i] = NUB_SNAPSHOT_MAX_FNS * 2 - 2 * i; /* descending, even */
	struct nub_snapshot *a = make_snapshot(&f->layout, &f->vcpu, ids, NUB_SNAPSHOT_MAX_FNS,
					       full_fill);
	uint8_t *b;
	size_t len;
	encode(a, &b, &len);
	/* One run over all memory. */
	size_t mem = SNAP_FIX_OFF_FNS + 4 + 4 * NUB_SNAPSHOT_MAX_FNS;
	assert_int_equal(nub_le32(b + mem + SNAP_M_COUNT), 1);
	assert_int_equal(nub_le64(b + mem + SNAP_M_RUN(0) + SNAP_R_OFFSET), 0);
	assert_int_equal(nub_le64(b + mem + SNAP_M_RUN(0) + SNAP_R_PAGES),
			 SNAP_FIX_MEM_SIZE / PAGE);
	assert_int_equal(len, mem + 8 + 16 + SNAP_FIX_MEM_SIZE + 4);
	struct nub_snapshot *s = decode_ok(b, len);
	assert_snapshot_equal(a, s);
	nub_snapshot_unref(s);
	nub_snapshot_unref(a);
	free(b);
	free(ids);
}

static void test_encode_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *s = NULL;
	struct nub_buf buf;
	struct nub_error err;
	uint8_t *fill = NULL;

	memset(&buf, 0, sizeof buf);
	assert_int_equal(nub_snapshot_file_encode(NULL, &buf, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_file_encode(f->snap, NULL, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_new(&f->layout, &f->vcpu, NULL, 0, NULL, &s, &fill, &err),
			 NUB_OK);
	assert_int_equal(nub_snapshot_file_encode(s, &buf, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "not sealed");
	assert_int_equal(buf.len, 0);
	assert_int_equal(nub_snapshot_seal(s, fill, &err), NUB_OK);
	nub_snapshot_unref(s);

	assert_int_equal(nub_snapshot_file_decode(f->file, f->len, NULL, NULL, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_snapshot_file_decode(NULL, 5, NULL, &s, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_load_buffer(NULL, 0, NULL, &s, &err), NUB_E_SNAPSHOT);
	nub_assert_error(&err, NUB_E_SNAPSHOT,
			 "snapshot: file of 0 bytes is shorter than the 32-byte header");
	assert_int_equal(nub_snapshot_load(NULL, NULL, &s, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_save(NULL, "x", &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_save(f->snap, NULL, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_save(f->snap, "", &err), NUB_E_INVALID);
}

/* ---- malformed files (snapshot_variants.h): one patch each, the checksum fixed unless said */

static void run_variants(const struct fixture *f, bool valid)
{
	for (size_t i = 0; i < snap_variant_count; i++) {
		const struct snap_variant *v = &snap_variants[i];
		if ((v->status == NUB_OK) != valid)
			continue;
		uint8_t *b = copy(f);
		snap_variant_apply(b, f->len, v);
		print_message("  case: %s\n", v->name);
		if (v->status == NUB_OK)
			nub_snapshot_unref(decode_ok(b, f->len));
		else
			decode_fails(b, f->len, v->status, v->message);
		free(b);
	}
}

static void test_malformed_fields(void **state)
{
	run_variants(*state, false);
}

static void test_valid_variants(void **state)
{
	run_variants(*state, true);
}

/* The section table may list the sections in any order, and leave gaps between them. */
static void test_table_order_and_gaps(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = copy(f), entry[24];

	memcpy(entry, b + SNAP_ENTRY(0), 24);
	memcpy(b + SNAP_ENTRY(0), b + SNAP_ENTRY(3), 24);
	memcpy(b + SNAP_ENTRY(3), entry, 24);
	snap_fix_crc(b, f->len);
	struct nub_snapshot *s = decode_ok(b, f->len);
	assert_snapshot_equal(f->snap, s);
	nub_snapshot_unref(s);

	free(b);

	/* 16 bytes of padding between the table and the first section. */
	size_t len = f->len + 16;
	b = calloc(1, len);
	assert_non_null(b);
	memcpy(b, f->file, SNAP_FIX_OFF_LAYOUT);
	memcpy(b + SNAP_FIX_OFF_LAYOUT + 16, f->file + SNAP_FIX_OFF_LAYOUT,
	       f->len - SNAP_FIX_OFF_LAYOUT);
	for (unsigned i = 0; i < 4; i++)
		nub_put_le64(b + SNAP_ENTRY(i) + SNAP_E_OFFSET,
			     nub_le64(b + SNAP_ENTRY(i) + SNAP_E_OFFSET) + 16);
	nub_put_le64(b + SNAP_HDR_FILE_SIZE, len);
	snap_fix_crc(b, len);
	s = decode_ok(b, len);
	assert_snapshot_equal(f->snap, s);
	nub_snapshot_unref(s);
	free(b);
}

/* Every truncation: inside the header, then at and around every section boundary. */
static void test_truncated(void **state)
{
	struct fixture *f = *state;
	const size_t cuts[] = { 0,
				1,
				7,
				8,
				12,
				31,
				32,
				33,
				SNAP_ENTRY(1),
				SNAP_ENTRY(4),
				SNAP_FIX_OFF_VCPU,
				SNAP_FIX_OFF_VCPU + 1,
				SNAP_FIX_OFF_FNS,
				SNAP_FIX_OFF_MEMORY,
				SNAP_FIX_OFF_MEMORY + 8,
				SNAP_FIX_OFF_MEMORY + 88,
				SNAP_FIX_FILE_LEN - 5,
				SNAP_FIX_FILE_LEN - 4,
				SNAP_FIX_FILE_LEN - 1 };
	char msg[128];

	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		size_t n = cuts[i];
		print_message("  cut at 0x%zx\n", n);
		uint8_t *b = malloc(n + 1);
		assert_non_null(b);
		memcpy(b, f->file, n);
		if (n < 32)
			snprintf(msg, sizeof msg,
				 "snapshot: file of %zu bytes is shorter than the 32-byte header",
				 n);
		else
			snprintf(
				msg, sizeof msg,
				"snapshot: header.file_size 0x749c does not match the file length 0x%zx",
				n);
		decode_fails(b, n, NUB_E_SNAPSHOT, msg);
		free(b);
	}
}

/* Truncations whose header was made consistent again (file_size, trailer): the table catches them. */
static void test_truncated_consistent(void **state)
{
	struct fixture *f = *state;
	const struct {
		size_t cut;
		const char *msg;
	} cases[] = {
		{ 32,
		  "snapshot: section table of 4 entries ends at 0x80, past the trailer at 0x20" },
		{ SNAP_ENTRY(3),
		  "snapshot: section table of 4 entries ends at 0x80, past the trailer at 0x68" },
		{ SNAP_FIX_OFF_LAYOUT,
		  "snapshot: section[0] (LAYOUT) ends at 0xb0, past the trailer at 0x80" },
		{ SNAP_FIX_OFF_VCPU,
		  "snapshot: section[1] (VCPU) ends at 0x430, past the trailer at 0xb0" },
		{ SNAP_FIX_OFF_FNS,
		  "snapshot: section[2] (FNS) ends at 0x440, past the trailer at 0x430" },
		{ SNAP_FIX_OFF_MEMORY,
		  "snapshot: section[3] (MEMORY) ends at 0x7498, past the trailer at 0x440" },
		{ SNAP_FIX_FILE_LEN - 5,
		  "snapshot: section[3] (MEMORY) ends at 0x7498, past the trailer at 0x7497" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = cases[i].cut + 4;
		uint8_t *b = malloc(n);
		assert_non_null(b);
		memcpy(b, f->file, cases[i].cut);
		nub_put_le64(b + SNAP_HDR_FILE_SIZE, n);
		snap_fix_crc(b, n);
		decode_fails(b, n, NUB_E_SNAPSHOT, cases[i].msg);
		free(b);
	}
}

/*
 * A byte flipped before the trailer is caught, by the checksum or an earlier check: every byte of
 * the metadata, then every 61st byte of the memory data and the trailer.
 */
static void test_byte_flips_are_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = copy(f);
	struct nub_snapshot *s = NULL;
	struct nub_error err;

	for (size_t i = 0; i < f->len;
	     i += i < SNAP_FIX_OFF_MEMORY + 0x60 || i >= f->len - 4 ? 1 : 61) {
		b[i] ^= 0x01;
		enum nub_status st = nub_snapshot_file_decode(b, f->len, NULL, &s, &err);
		if (st == NUB_OK)
			fail_msg("flipping byte 0x%zx was accepted", i);
		assert_true(st == NUB_E_SNAPSHOT || st == NUB_E_ABI);
		assert_null(s);
		b[i] ^= 0x01;
	}
	free(b);
}

/* ---- allocation failures ---- */

static void test_decode_allocation_failures(void **state)
{
	struct fixture *f = *state;
	long fail_at;

	for (fail_at = 1;; fail_at++) {
		struct alloc_inject a = { .fail_at = fail_at };
		struct nub_alloc_hook hook = alloc_inject_hook(&a);
		struct nub_snapshot *s = NULL;
		struct nub_error err;
		enum nub_status st = nub_snapshot_load_buffer(f->file, f->len, &hook, &s, &err);
		if (st == NUB_OK) {
			assert_snapshot_equal(f->snap, s);
			nub_snapshot_unref(s);
			assert_int_equal(a.live, 0);
			break;
		}
		nub_assert_error(&err, NUB_E_NOMEM, NULL);
		assert_null(s);
		assert_int_equal(a.live, 0);
	}
	assert_true(fail_at >= 4); /* the fn_id list, the snapshot, its fn_id copy */
}

static void test_load_allocation_failures(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	char path[128];
	long fail_at;

	snprintf(path, sizeof path, "%s/a.snap", f->dir);
	assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_OK);
	for (fail_at = 1;; fail_at++) {
		struct alloc_inject a = { .fail_at = fail_at };
		struct nub_alloc_hook hook = alloc_inject_hook(&a);
		struct nub_snapshot *s = NULL;
		enum nub_status st = nub_snapshot_load(path, &hook, &s, &err);
		if (st == NUB_OK) {
			nub_snapshot_unref(s);
			assert_int_equal(a.live, 0);
			break;
		}
		nub_assert_error(&err, NUB_E_NOMEM, NULL);
		assert_null(s);
		assert_int_equal(a.live, 0);
	}
	assert_true(fail_at >= 5);
}

static void test_encode_allocation_failures(void **state)
{
	struct fixture *f = *state;
	long fail_at;

	for (fail_at = 1;; fail_at++) {
		struct alloc_inject a = { .fail_at = 0 };
		struct nub_buf buf;
		struct nub_error err;
		memset(&buf, 0, sizeof buf);
		buf.alloc = alloc_inject_hook(&a);
		assert_int_equal(nub_buf_append(&buf, "xy", 2), NUB_OK);
		a.fail_at = a.calls +
			    fail_at; /* the (fail_at)-th allocation of the encoder fails */
		size_t before = buf.len;
		enum nub_status st = nub_snapshot_file_encode(f->snap, &buf, &err);
		if (st == NUB_OK) {
			assert_int_equal(buf.len, before + f->len);
			assert_memory_equal(buf.data + before, f->file, f->len);
			nub_buf_free(&buf);
			assert_int_equal(a.live, 0);
			break;
		}
		nub_assert_error(&err, NUB_E_NOMEM, "snapshot encode");
		assert_int_equal(buf.len, before);
		nub_buf_free(&buf);
		assert_int_equal(a.live, 0);
	}
	assert_true(fail_at > 2);
}

/* ---- save and load ---- */

static void test_save_load(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *s = NULL;
	struct nub_error err;
	char path[128];
	size_t len;

	snprintf(path, sizeof path, "%s/a.snap", f->dir);
	assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_OK);
	assert_int_equal(count_dir_entries(f->dir), 1);
	uint8_t *b = read_all(path, &len);
	assert_int_equal(len, f->len);
	assert_memory_equal(b, f->file, len);
	free(b);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_OK);
	assert_snapshot_equal(f->snap, s);
	nub_snapshot_unref(s);

	/* A relative path: the temporary and the directory fsync use ".". */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(nub_snapshot_save(f->snap, "b.snap", &err), NUB_OK);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(count_dir_entries(f->dir), 2);
}

static void test_save_replaces(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *other, *s = NULL;
	struct nub_vcpu_state v = f->vcpu;
	struct nub_error err;
	char path[128];

	v.gpr[0] = 42;
	other = make_snapshot(&f->layout, &v, NULL, 0, full_fill);
	snprintf(path, sizeof path, "%s/a.snap", f->dir);
	assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_OK);
	assert_int_equal(nub_snapshot_save(other, path, &err), NUB_OK);
	assert_int_equal(count_dir_entries(f->dir), 1);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_OK);
	assert_snapshot_equal(other, s);
	nub_snapshot_unref(s);
	nub_snapshot_unref(other);
}

static void assert_file_is(const char *path, const uint8_t *want, size_t want_len)
{
	size_t len;
	uint8_t *b = read_all(path, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(b, want, len);
	free(b);
}

/*
 * A save that fails while writing leaves the old file intact and no temporary behind. The write
 * is made to fail with RLIMIT_FSIZE (EFBIG), which binds root too.
 */
static void test_save_failure_keeps_old_file(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *other;
	struct nub_error err;
	struct rlimit old, lim;
	char path[128];

	other = make_snapshot(&f->layout, &f->vcpu, NULL, 0, full_fill);
	snprintf(path, sizeof path, "%s/a.snap", f->dir);
	assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_OK);

	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	enum nub_status st = nub_snapshot_save(other, path, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(st, NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, path);
	nub_assert_error(&err, NUB_E_IO, ": File too large");
	assert_int_equal(err.sys_errno, EFBIG);
	assert_file_is(path, f->file, f->len);
	assert_int_equal(count_dir_entries(f->dir), 1);
	nub_snapshot_unref(other);
}

/*
 * Only a regular file is ever replaced: a directory, a FIFO, a symbolic link or a device at the
 * path is refused before anything is created, naming what it is; a missing directory fails the
 * temporary's creation.
 */
static void test_save_refuses_non_regular_targets(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	char path[128], link[160];
	const struct {
		const char *name, *what;
	} cases[] = { { "d", "a directory" }, { "fifo", "a FIFO" }, { "link", "a symbolic link" } };

	snprintf(path, sizeof path, "%s/d", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/fifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof path, "%s/link", f->dir);
	snprintf(link, sizeof link, "%s/absent", f->dir);
	assert_int_equal(symlink(link, path), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", f->dir, cases[i].name);
		assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_E_INVALID);
		nub_assert_error(&err, NUB_E_INVALID, path);
		nub_assert_error(&err, NUB_E_INVALID, cases[i].what);
		nub_assert_error(&err, NUB_E_INVALID, "not replacing it");
	}
	assert_int_equal(count_dir_entries(f->dir), 3); /* the three above: no temporary left */
	assert_int_equal(access(link, F_OK), -1);       /* the link was not followed */
	assert_int_equal(nub_snapshot_save(f->snap, "/dev/null", &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID,
			 "snapshot save /dev/null: it exists and is a character device");
	snprintf(path, sizeof path, "%s/d", f->dir);
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof path, "%s/fifo", f->dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/link", f->dir);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof path, "%s/missing/a.snap", f->dir);
	assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, path);
	assert_int_equal(err.sys_errno, ENOENT);
}

static void test_save_allocation_failures(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	char path[128];
	long fail_at;

	snprintf(path, sizeof path, "%s/a.snap", f->dir);
	for (fail_at = 1;; fail_at++) {
		struct alloc_inject a = { .fail_at = fail_at };
		struct nub_alloc_hook hook = alloc_inject_hook(&a);
		struct nub_snapshot *s = NULL;
		assert_int_equal(nub_snapshot_load_buffer(f->file, f->len, NULL, &s, &err), NUB_OK);
		s->alloc = hook; /* save allocates through the snapshot's hook */
		enum nub_status st = nub_snapshot_save(s, path, &err);
		s->alloc = (struct nub_alloc_hook){ 0 };
		nub_snapshot_unref(s);
		assert_int_equal(a.live, 0);
		if (st == NUB_OK)
			break;
		nub_assert_error(&err, NUB_E_NOMEM, NULL);
		assert_int_equal(count_dir_entries(f->dir), 0);
	}
	assert_true(fail_at > 2);
	assert_file_is(path, f->file, f->len);
	assert_int_equal(count_dir_entries(f->dir), 1);
}

static void write_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	if (len)
		assert_int_equal(fwrite(b, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *s = (struct nub_snapshot *)(uintptr_t)1;
	struct nub_error err;
	char path[128], msg[256];

	snprintf(path, sizeof path, "%s/none.snap", f->dir);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, path);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_null(s);

	assert_int_equal(nub_snapshot_load(f->dir, NULL, &s, &err), NUB_E_IO);
	snprintf(msg, sizeof msg, "%s is not a regular file", f->dir);
	nub_assert_error(&err, NUB_E_IO, msg);

	snprintf(path, sizeof path, "%s/empty.snap", f->dir);
	write_file(path, NULL, 0);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_SNAPSHOT);
	snprintf(msg, sizeof msg,
		 "%s: snapshot: file of 0 bytes is shorter than the 32-byte header", path);
	nub_assert_error(&err, NUB_E_SNAPSHOT, msg);

	/* A sparse file just over the limit: refused from its size, never read. */
	snprintf(path, sizeof path, "%s/huge.snap", f->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0xC4000001), 0);
	close(fd);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_SNAPSHOT);
	nub_assert_error(&err, NUB_E_SNAPSHOT, "file size 0xc4000001 exceeds the limit 0xc4000000");

	/* Format errors name the file. */
	snprintf(path, sizeof path, "%s/bad.snap", f->dir);
	uint8_t *b = copy(f);
	nub_put_le32(b + SNAP_HDR_ABI, 7);
	write_file(path, b, f->len);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_ABI);
	snprintf(msg, sizeof msg, "%s: snapshot ABI version 7 does not match host ABI version 1",
		 path);
	nub_assert_error(&err, NUB_E_ABI, msg);
	b[SNAP_FIX_OFF_MEMORY + 100] ^= 1;
	nub_put_le32(b + SNAP_HDR_ABI, 1);
	write_file(path, b, f->len);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_SNAPSHOT);
	snprintf(msg, sizeof msg, "%s: snapshot: checksum 0x", path);
	nub_assert_error(&err, NUB_E_SNAPSHOT, msg);
	assert_null(s);
	free(b);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_fixture_layout),
	NUB_TEST_CASE(test_crc_reference),
	NUB_TEST_CASE(test_encoding_is_as_documented),
	NUB_TEST_CASE(test_round_trip),
	NUB_TEST_CASE(test_encode_appends),
	NUB_TEST_CASE(test_round_trip_empty),
	NUB_TEST_CASE(test_round_trip_max_fns_full_memory),
	NUB_TEST_CASE(test_encode_bad_arguments),
	NUB_TEST_CASE(test_malformed_fields),
	NUB_TEST_CASE(test_valid_variants),
	NUB_TEST_CASE(test_table_order_and_gaps),
	NUB_TEST_CASE(test_truncated),
	NUB_TEST_CASE(test_truncated_consistent),
	NUB_TEST_CASE(test_byte_flips_are_refused),
	NUB_TEST_CASE(test_decode_allocation_failures),
	NUB_TEST_CASE(test_load_allocation_failures),
	NUB_TEST_CASE(test_encode_allocation_failures),
	NUB_TEST_CASE(test_save_load),
	NUB_TEST_CASE(test_save_replaces),
	NUB_TEST_CASE(test_save_failure_keeps_old_file),
	NUB_TEST_CASE(test_save_refuses_non_regular_targets),
	NUB_TEST_CASE(test_save_allocation_failures),
	NUB_TEST_CASE(test_load_errors),
};

NUB_TEST_SUITE(tests);
