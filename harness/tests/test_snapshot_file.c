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

/*
 * The file the fixture encodes (offsets pinned here independently of the engine, so a format
 * change shows up as a test failure):
 *   0x0000 header (32)            0x0020 section table, 4 entries of 24
 *   0x0080 LAYOUT (48)            0x00b0 VCPU (896)
 *   0x0430 FNS (4 + 3 * 4)        0x0440 MEMORY: 8 + 5 runs * 16 + 7 pages
 *   0x7498 CRC-32C trailer        0x749c file length
 */
#define HDR_MAGIC 0
#define HDR_VERSION 8
#define HDR_ABI 12
#define HDR_SIZE 16
#define HDR_COUNT 20
#define HDR_FILE_SIZE 24
#define ENTRY(i) (32 + 24 * (i))
#define E_TYPE 0
#define E_RESERVED 4
#define E_OFFSET 8
#define E_LENGTH 16
#define OFF_LAYOUT 0x80
#define OFF_VCPU 0xb0
#define OFF_FNS 0x430
#define OFF_MEMORY 0x440
#define FILE_LEN 0x749c

/* Section types, and offsets inside LAYOUT, VCPU, FNS and MEMORY. */
enum { ABS = 0, LAYOUT = 1, VCPU = 2, FNS = 3, MEMORY = 4 };
#define L_IMAGE_END 0
#define L_HEAP 8
#define L_INIT_DATA 16
#define L_INPUT 24
#define L_OUTPUT 32
#define L_STACK 40
#define V_GPR(i) (8 * (i))
#define V_RSP V_GPR(6)
#define V_RIP 128
#define V_RFLAGS 136
#define V_SEG(i) (144 + 24 * (i))
enum { CS, DS, ES, FS, GS, SS, TR, LDT };
#define S_BASE 0
#define S_TYPE 14
#define S_PRESENT 15
#define S_DPL 16
#define S_DB 17
#define S_S 18
#define S_L 19
#define S_G 20
#define S_AVL 21
#define S_UNUSABLE 22
#define S_RESERVED 23
#define V_GDT_BASE 336
#define V_IDT_BASE 344
#define V_RESERVED 356
#define V_CR0 360
#define V_CR3 376
#define V_CR4 384
#define V_CR8 392
#define V_EFER 400
#define V_APIC 408
#define V_FPU 416
#define V_MXCSR (V_FPU + 408)
#define V_DR(i) (832 + 8 * (i))
#define V_DR6 864
#define V_DR7 872
#define V_KGS 880
#define V_XCR0 888
#define M_COUNT 0
#define M_RESERVED 4
#define M_RUN(i) (8 + 16 * (i))
#define R_OFFSET 0
#define R_PAGES 8

#define PAGE 0x1000u
/* The fixture layout (pinned in test_fixture_layout). */
#define IMAGE_END 0x10000u
#define PT_ROOT 0x1d000u       /* last page-table page */
#define PRIMARY_END 0x1e000u
#define SCRATCH_GPA 0xfffff4000ull
#define STACK_GPA 0xfffff9000ull
#define STACK_TOP 0xfffffb000ull
#define EXC_GPA 0xfffffc000ull
#define EXC_TOP 0xfffffe000ull
#define MEM_SIZE 0x26000u

static const uint32_t fixture_fns[] = { 9, 1, 3 }; /* any order: the snapshot sorts them */

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
	struct nub_layout_params p = { .image_end = IMAGE_END, .heap_size = 0x4000,
				       .init_data_size = 0x1801, .input_size = 0x2000,
				       .output_size = 0x2000, .stack_size = 0x2000 };
	struct nub_error err;
	assert_int_equal(nub_layout_compute(&p, l, &err), NUB_OK);
}

static struct nub_segment seg(uint64_t base, uint32_t limit, uint16_t sel, uint8_t type,
			      uint8_t present, uint8_t db, uint8_t s, uint8_t l, uint8_t g,
			      uint8_t unusable)
{
	struct nub_segment r;
	memset(&r, 0, sizeof r);
	r.base = base;
	r.limit = limit;
	r.selector = sel;
	r.type = type;
	r.present = present;
	r.db = db;
	r.s = s;
	r.l = l;
	r.g = g;
	r.unusable = unusable;
	return r;
}

/* A plausible state of a long-mode guest halted in its dispatch loop. */
static void valid_vcpu(struct nub_vcpu_state *v, const struct nub_layout *l)
{
	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = 0x0101010101010101ull * (i + 1);
	v->gpr[6] = l->stack_gpa + l->stack_size - 0x18;
	v->rip = 0x4010;
	v->rflags = 0x246;
	v->cs = seg(0, 0xffffffff, 0x08, 11, 1, 0, 1, 1, 1, 0);
	v->ds = seg(0, 0xffffffff, 0x10, 3, 1, 1, 1, 0, 1, 0);
	v->es = v->ds;
	v->ss = v->ds;
	v->fs = seg(0x12345000, 0xffffffff, 0x10, 3, 1, 1, 1, 0, 1, 0);
	v->gs = seg(0xffff800000001000ull, 0xffffffff, 0x10, 3, 1, 1, 1, 0, 1, 0);
	v->tr = seg(0x20000, 0x67, 0x18, 11, 1, 0, 0, 0, 0, 0);
	v->ldt = seg(0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
	v->gdt_base = 0x5000;
	v->gdt_limit = 0x27;
	v->idt_base = 0x6000;
	v->idt_limit = 0xfff;
	v->cr0 = 0x80050033;
	v->cr2 = 0xdeadb000;
	v->cr3 = PT_ROOT;
	v->cr4 = 0x620;
	v->cr8 = 0;
	v->efer = 0xd01;
	v->apic_base = 0xfee00900;
	nub_put_le32(v->fpu + 128, 0x37f);  /* fcw (a u16; fsw 0 follows) */
	nub_put_le32(v->fpu + 408, 0x1f80); /* mxcsr */
	for (unsigned i = 0; i < 256; i++)
		v->fpu[152 + i] = (uint8_t)(i * 3 + 1); /* xmm[16][16] */
	v->dr[0] = 0x4000;
	v->dr[1] = 0x5000;
	v->dr[2] = 0xffff800000000000ull;
	v->dr[3] = 0;
	v->dr6 = 0xffff0ff0;
	v->dr7 = 0x400;
	v->kernel_gs_base = 0xffff800000002000ull;
	v->xcr0 = NUB_XCR0_X87;
}

/* Runs [0,2) [3,5) [7,8) [31,32) [37,38); pages 10 and 12 are written but zero. */
static void fill_pattern(uint8_t *m, uint64_t size)
{
	assert_int_equal(size, MEM_SIZE);
	for (unsigned i = 0; i < 2 * PAGE; i++)
		m[i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < 2 * PAGE; i++)
		m[3 * PAGE + i] = (uint8_t)(i * 13 + 5);
	m[8 * PAGE - 1] = 0xab; /* the only byte of page 7: the zero test must see the last byte */
	memset(m + 10 * PAGE, 0, PAGE);
	memset(m + 12 * PAGE, 0, PAGE);
	for (unsigned i = 0; i < PAGE; i++)
		m[31 * PAGE + i] = (uint8_t)(i ^ 0x5a);
	m[37 * PAGE] = 1;
}

static struct nub_snapshot *make_snapshot(const struct nub_layout *l, const struct nub_vcpu_state *v,
					  const uint32_t *fns, uint32_t n,
					  void (*fill_fn)(uint8_t *, uint64_t))
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
	valid_vcpu(&f->vcpu, &f->layout);
	f->snap = make_snapshot(&f->layout, &f->vcpu, fixture_fns, 3, fill_pattern);
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

/* Bitwise CRC-32C, independent of the engine's table. */
static uint32_t crc32c_ref(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void fix_crc(uint8_t *b, size_t len)
{
	nub_put_le32(b + len - 4, crc32c_ref(b, len - 4));
}

static void assert_segment_equal(const struct nub_segment *a, const struct nub_segment *b)
{
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->selector, b->selector);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->present, b->present);
	assert_int_equal(a->dpl, b->dpl);
	assert_int_equal(a->db, b->db);
	assert_int_equal(a->s, b->s);
	assert_int_equal(a->l, b->l);
	assert_int_equal(a->g, b->g);
	assert_int_equal(a->avl, b->avl);
	assert_int_equal(a->unusable, b->unusable);
}

static void assert_vcpu_equal(const struct nub_vcpu_state *a, const struct nub_vcpu_state *b)
{
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(a->gpr[i], b->gpr[i]);
	assert_int_equal(a->rip, b->rip);
	assert_int_equal(a->rflags, b->rflags);
	assert_segment_equal(&a->cs, &b->cs);
	assert_segment_equal(&a->ds, &b->ds);
	assert_segment_equal(&a->es, &b->es);
	assert_segment_equal(&a->fs, &b->fs);
	assert_segment_equal(&a->gs, &b->gs);
	assert_segment_equal(&a->ss, &b->ss);
	assert_segment_equal(&a->tr, &b->tr);
	assert_segment_equal(&a->ldt, &b->ldt);
	assert_int_equal(a->gdt_base, b->gdt_base);
	assert_int_equal(a->idt_base, b->idt_base);
	assert_int_equal(a->gdt_limit, b->gdt_limit);
	assert_int_equal(a->idt_limit, b->idt_limit);
	assert_int_equal(a->cr0, b->cr0);
	assert_int_equal(a->cr2, b->cr2);
	assert_int_equal(a->cr3, b->cr3);
	assert_int_equal(a->cr4, b->cr4);
	assert_int_equal(a->cr8, b->cr8);
	assert_int_equal(a->efer, b->efer);
	assert_int_equal(a->apic_base, b->apic_base);
	assert_memory_equal(a->fpu, b->fpu, sizeof a->fpu);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(a->dr[i], b->dr[i]);
	assert_int_equal(a->dr6, b->dr6);
	assert_int_equal(a->dr7, b->dr7);
	assert_int_equal(a->kernel_gs_base, b->kernel_gs_base);
	assert_int_equal(a->xcr0, b->xcr0);
}

static void assert_snapshot_equal(const struct nub_snapshot *a, const struct nub_snapshot *b)
{
	assert_memory_equal(&a->layout, &b->layout, sizeof a->layout);
	assert_int_equal(a->abi_version, b->abi_version);
	assert_vcpu_equal(&a->vcpu, &b->vcpu);
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

	assert_int_equal(l->primary_size, PRIMARY_END - NUB_PRIMARY_BASE);
	assert_int_equal(l->page_tables_gpa + l->page_tables_size - PAGE, PT_ROOT);
	assert_int_equal(l->scratch_gpa, SCRATCH_GPA);
	assert_int_equal(l->stack_gpa, STACK_GPA);
	assert_int_equal(l->stack_gpa + l->stack_size, STACK_TOP);
	assert_int_equal(l->exception_stack_gpa, EXC_GPA);
	assert_int_equal(l->exception_stack_gpa + l->exception_stack_size, EXC_TOP);
	assert_int_equal(l->primary_size + l->scratch_size, MEM_SIZE);
	assert_int_equal(f->len, FILE_LEN);
	assert_int_equal(nub_le32(f->file + ENTRY(0) + E_TYPE), LAYOUT);
	assert_int_equal(nub_le64(f->file + ENTRY(0) + E_OFFSET), OFF_LAYOUT);
	assert_int_equal(nub_le64(f->file + ENTRY(1) + E_OFFSET), OFF_VCPU);
	assert_int_equal(nub_le64(f->file + ENTRY(2) + E_OFFSET), OFF_FNS);
	assert_int_equal(nub_le64(f->file + ENTRY(3) + E_OFFSET), OFF_MEMORY);
}

static void test_crc_reference(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(crc32c_ref((const uint8_t *)"123456789", 9), 0xe3069283u);
	assert_int_equal(nub_le32(f->file + f->len - 4), crc32c_ref(f->file, f->len - 4));
}

/* The encoded bytes, pinned field by field where they are fixed by the format. */
static void test_encoding_is_as_documented(void **state)
{
	struct fixture *f = *state;
	const uint8_t *b = f->file;
	const uint8_t *m = b + OFF_MEMORY;
	static const uint64_t runs[5][2] = { { 0, 2 }, { 0x3000, 2 }, { 0x7000, 1 },
					     { 0x1f000, 1 }, { 0x25000, 1 } };

	assert_memory_equal(b, "NUBSNAP", 8);
	assert_int_equal(nub_le32(b + HDR_VERSION), 1);
	assert_int_equal(nub_le32(b + HDR_ABI), NUB_ABI_VERSION);
	assert_int_equal(nub_le32(b + HDR_SIZE), 32);
	assert_int_equal(nub_le32(b + HDR_COUNT), 4);
	assert_int_equal(nub_le64(b + HDR_FILE_SIZE), FILE_LEN);
	assert_int_equal(nub_le64(b + OFF_LAYOUT + L_IMAGE_END), IMAGE_END);
	assert_int_equal(nub_le64(b + OFF_LAYOUT + L_HEAP), 0x4000);
	assert_int_equal(nub_le64(b + OFF_LAYOUT + L_INIT_DATA), 0x1801);
	assert_int_equal(nub_le64(b + OFF_LAYOUT + L_STACK), 0x2000);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_RSP), STACK_TOP - 0x18);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_RIP), 0x4010);
	assert_int_equal(b[OFF_VCPU + V_SEG(CS) + S_L], 1);
	assert_int_equal(b[OFF_VCPU + V_SEG(TR) + S_TYPE], 11);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_SEG(GS) + S_BASE), 0xffff800000001000ull);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_CR0), 0x80050033);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_CR3), PT_ROOT);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_EFER), 0xd01);
	assert_int_equal(nub_le32(b + OFF_VCPU + V_MXCSR), 0x1f80);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_DR7), 0x400);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_KGS), 0xffff800000002000ull);
	assert_int_equal(nub_le64(b + OFF_VCPU + V_XCR0), 1);
	assert_int_equal(nub_le32(b + OFF_FNS), 3);
	assert_int_equal(nub_le32(b + OFF_FNS + 4), 1);
	assert_int_equal(nub_le32(b + OFF_FNS + 8), 3);
	assert_int_equal(nub_le32(b + OFF_FNS + 12), 9);
	assert_int_equal(nub_le32(m + M_COUNT), 5);
	assert_int_equal(nub_le32(m + M_RESERVED), 0);
	const uint8_t *data = m + M_RUN(5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(nub_le64(m + M_RUN(i) + R_OFFSET), runs[i][0]);
		assert_int_equal(nub_le64(m + M_RUN(i) + R_PAGES), runs[i][1]);
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
		assert_int_equal(len, OFF_FNS + 4 + 8 + 4); /* no fns, no runs */
		assert_int_equal(nub_le32(b + OFF_FNS), 0);
		assert_int_equal(nub_le32(b + OFF_FNS + 4), 0);
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
	size_t mem = OFF_FNS + 4 + 4 * NUB_SNAPSHOT_MAX_FNS;
	assert_int_equal(nub_le32(b + mem + M_COUNT), 1);
	assert_int_equal(nub_le64(b + mem + M_RUN(0) + R_OFFSET), 0);
	assert_int_equal(nub_le64(b + mem + M_RUN(0) + R_PAGES), MEM_SIZE / PAGE);
	assert_int_equal(len, mem + 8 + 16 + MEM_SIZE + 4);
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

	assert_int_equal(nub_snapshot_file_decode(f->file, f->len, NULL, NULL, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_file_decode(NULL, 5, NULL, &s, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_load_buffer(NULL, 0, NULL, &s, &err), NUB_E_SNAPSHOT);
	nub_assert_error(&err, NUB_E_SNAPSHOT, "snapshot: file of 0 bytes is shorter than the 32-byte header");
	assert_int_equal(nub_snapshot_load(NULL, NULL, &s, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_save(NULL, "x", &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_save(f->snap, NULL, &err), NUB_E_INVALID);
	assert_int_equal(nub_snapshot_save(f->snap, "", &err), NUB_E_INVALID);
}

/* ---- malformed files: one patch each, the checksum fixed afterwards unless said ---- */

struct bad_case {
	const char *name;
	unsigned sec;   /* ABS: file offset; else a section type, offset inside it */
	uint64_t off;
	unsigned width; /* 1, 2, 4 or 8 bytes */
	uint64_t value;
	bool add;       /* add (value) to the field instead of storing it */
	bool keep_crc;  /* leave the stale checksum */
	enum nub_status st; /* NUB_OK: a valid variant */
	const char *msg;
};

#define SNAP NUB_E_SNAPSHOT
#define P(sec_, off_, w_, v_, st_, msg_) { #sec_ " " #off_ " = " #v_, sec_, off_, w_, v_, false, false, st_, msg_ }
#define PADD(sec_, off_, w_, v_, st_, msg_) { #sec_ " " #off_ " += " #v_, sec_, off_, w_, v_, true, false, st_, msg_ }
#define PRAW(sec_, off_, w_, v_, st_, msg_) { #sec_ " " #off_ " = " #v_ " (stale crc)", sec_, off_, w_, v_, false, true, st_, msg_ }
#define SEGF(s, field) (V_SEG(s) + (field))

static const struct bad_case bad_cases[] = {
	/* header */
	P(ABS, HDR_MAGIC, 1, 'X', SNAP, "snapshot: header.magic 0x585542534e415000 is not \"NUBSNAP\\0\""),
	P(ABS, HDR_MAGIC + 7, 1, 1, SNAP, "header.magic 0x4e5542534e415001"),
	P(ABS, HDR_VERSION, 4, 2, SNAP, "snapshot: header.format_version 2 is not 1"),
	P(ABS, HDR_VERSION, 4, 0, SNAP, "snapshot: header.format_version 0 is not 1"),
	P(ABS, HDR_ABI, 4, 7, NUB_E_ABI, "snapshot ABI version 7 does not match host ABI version 1"),
	P(ABS, HDR_SIZE, 4, 24, SNAP, "snapshot: header.header_size 0x18 is not 0x20"),
	P(ABS, HDR_SIZE, 4, 0xffffffff, SNAP, "snapshot: header.header_size 0xffffffff is not 0x20"),
	P(ABS, HDR_FILE_SIZE, 8, 0xffffffffffffffffull, SNAP,
	  "snapshot: header.file_size 0xffffffffffffffff does not match the file length 0x749c"),
	PADD(ABS, HDR_FILE_SIZE, 8, 1, SNAP, "snapshot: header.file_size 0x749d does not match the file length 0x749c"),
	P(ABS, HDR_COUNT, 4, 0, SNAP, "snapshot: header.section_count 0 is outside 1..16"),
	P(ABS, HDR_COUNT, 4, 17, SNAP, "snapshot: header.section_count 17 is outside 1..16"),
	P(ABS, HDR_COUNT, 4, 0xffffffff, SNAP, "snapshot: header.section_count 4294967295 is outside 1..16"),
	P(ABS, HDR_COUNT, 4, 3, SNAP, "snapshot: required section MEMORY (type 4) is missing"),
	P(ABS, HDR_COUNT, 4, 5, SNAP, "snapshot: section[0] (LAYOUT) at 0x80 overlaps the header and section table, which end at 0x98"),
	/* section table */
	P(ABS, ENTRY(0) + E_TYPE, 4, 9, SNAP, "snapshot: section[0].type 9 is unknown"),
	P(ABS, ENTRY(2) + E_TYPE, 4, 0, SNAP, "snapshot: section[2].type 0 is unknown"),
	P(ABS, ENTRY(0) + E_RESERVED, 4, 1, SNAP, "snapshot: section[0].reserved 0x1 is not zero"),
	P(ABS, ENTRY(1) + E_TYPE, 4, LAYOUT, SNAP, "snapshot: section[1] duplicates the LAYOUT section[0]"),
	P(ABS, ENTRY(3) + E_TYPE, 4, FNS, SNAP, "snapshot: section[3] duplicates the FNS section[2]"),
	P(ABS, ENTRY(0) + E_LENGTH, 8, 40, SNAP, "snapshot: section[0] (LAYOUT) length 0x28 is not 0x30"),
	P(ABS, ENTRY(1) + E_LENGTH, 8, 895, SNAP, "snapshot: section[1] (VCPU) length 0x37f is not 0x380"),
	P(ABS, ENTRY(2) + E_LENGTH, 8, 3, SNAP, "snapshot: section[2] (FNS) length 0x3 is below 0x4"),
	P(ABS, ENTRY(3) + E_LENGTH, 8, 7, SNAP, "snapshot: section[3] (MEMORY) length 0x7 is below 0x8"),
	P(ABS, ENTRY(3) + E_OFFSET, 8, 0xfffffffffffffff0ull, SNAP,
	  "snapshot: section[3] (MEMORY) offset 0xfffffffffffffff0 + length 0x7058 overflows"),
	P(ABS, ENTRY(3) + E_LENGTH, 8, 0xffffffffffffffffull, SNAP,
	  "snapshot: section[3] (MEMORY) offset 0x440 + length 0xffffffffffffffff overflows"),
	P(ABS, ENTRY(0) + E_OFFSET, 8, 0xffffffffffffffd0ull, SNAP,
	  "snapshot: section[0] (LAYOUT) offset 0xffffffffffffffd0 + length 0x30 overflows"),
	P(ABS, ENTRY(0) + E_OFFSET, 8, 0xffffffffffffff00ull, SNAP,
	  "snapshot: section[0] (LAYOUT) ends at 0xffffffffffffff30, past the trailer at 0x7498"),
	PADD(ABS, ENTRY(3) + E_LENGTH, 8, 1, SNAP, "snapshot: section[3] (MEMORY) ends at 0x7499, past the trailer at 0x7498"),
	P(ABS, ENTRY(0) + E_OFFSET, 8, 0x7498 - 0x2f, SNAP,
	  "snapshot: section[0] (LAYOUT) ends at 0x7499, past the trailer at 0x7498"),
	P(ABS, ENTRY(0) + E_OFFSET, 8, 0x64, SNAP,
	  "snapshot: section[0] (LAYOUT) at 0x64 overlaps the header and section table, which end at 0x80"),
	P(ABS, ENTRY(0) + E_OFFSET, 8, 0, SNAP, "section[0] (LAYOUT) at 0x0 overlaps the header"),
	P(ABS, ENTRY(1) + E_OFFSET, 8, OFF_LAYOUT + 8, SNAP,
	  "snapshot: section[1] (VCPU) [0x88, 0x408) overlaps section[0] (LAYOUT) [0x80, 0xb0)"),
	P(ABS, ENTRY(0) + E_OFFSET, 8, OFF_FNS + 8, SNAP,
	  "snapshot: section[0] (LAYOUT) [0x438, 0x468) overlaps section[2] (FNS) [0x430, 0x440)"),
	P(ABS, ENTRY(2) + E_OFFSET, 8, OFF_VCPU, SNAP,
	  "snapshot: section[2] (FNS) [0xb0, 0xc0) overlaps section[1] (VCPU) [0xb0, 0x430)"),
	/* checksum */
	PRAW(MEMORY, 100, 1, 0x77, SNAP, "does not match the computed 0x"),
	PRAW(ABS, FILE_LEN - 4, 4, 0x12345678, SNAP, "snapshot: checksum 0x12345678 does not match the computed 0x"),
	/* layout */
	P(LAYOUT, L_IMAGE_END, 8, 0x10001, SNAP, "snapshot: layout.image_end 0x10001 is not page-aligned"),
	P(LAYOUT, L_IMAGE_END, 8, 0x4000, SNAP, "snapshot: layout.image_end 0x4000 is outside (0x4000, 0x10000000]"),
	P(LAYOUT, L_IMAGE_END, 8, 0, SNAP, "snapshot: layout.image_end 0x0 is outside (0x4000, 0x10000000]"),
	P(LAYOUT, L_IMAGE_END, 8, 0x10001000, SNAP, "snapshot: layout.image_end 0x10001000 is outside (0x4000, 0x10000000]"),
	P(LAYOUT, L_IMAGE_END, 8, 0xfffffffffffff000ull, SNAP, "layout.image_end 0xfffffffffffff000 is outside"),
	P(LAYOUT, L_HEAP, 8, 0x40001000, SNAP, "snapshot: layout.heap_size 0x40001000 is outside 0x0..0x40000000"),
	P(LAYOUT, L_HEAP, 8, 0xfffffffffffff000ull, SNAP, "snapshot: layout.heap_size 0xfffffffffffff000 is outside 0x0..0x40000000"),
	P(LAYOUT, L_HEAP, 8, 0x4001, SNAP, "snapshot: layout.heap_size 0x4001 is not page-aligned"),
	P(LAYOUT, L_INPUT, 8, 0x1000, SNAP, "snapshot: layout.input_size 0x1000 is outside 0x2000..0x1000000"),
	P(LAYOUT, L_INPUT, 8, 0x2800, SNAP, "snapshot: layout.input_size 0x2800 is not page-aligned"),
	P(LAYOUT, L_OUTPUT, 8, 0x1001000, SNAP, "snapshot: layout.output_size 0x1001000 is outside 0x2000..0x1000000"),
	P(LAYOUT, L_OUTPUT, 8, 0, SNAP, "snapshot: layout.output_size 0x0 is outside 0x2000..0x1000000"),
	P(LAYOUT, L_STACK, 8, 0x1000, SNAP, "snapshot: layout.stack_size 0x1000 is outside 0x2000..0x1000000"),
	P(LAYOUT, L_STACK, 8, 0xffffffffffffffffull, SNAP, "snapshot: layout.stack_size 0xffffffffffffffff is outside 0x2000..0x1000000"),
	P(LAYOUT, L_INIT_DATA, 8, 0xffffffffffffffffull, SNAP,
	  "snapshot: layout is invalid: layout.init_data_size 0xffffffffffffffff overflows when rounded up to a page"),
	P(LAYOUT, L_INIT_DATA, 8, 0x7fff0000, SNAP, "snapshot: layout is invalid: layout: primary region of 0x"),
	/* vcpu: segments */
	P(VCPU, SEGF(CS, S_PRESENT), 1, 0, SNAP, "snapshot: vcpu.cs.present 0 is not 1"),
	P(VCPU, SEGF(CS, S_UNUSABLE), 1, 1, SNAP, "snapshot: vcpu.cs.unusable 1 is not 0"),
	P(VCPU, SEGF(CS, S_L), 1, 0, SNAP, "snapshot: vcpu.cs.l 0 is not 1 (64-bit code)"),
	P(VCPU, SEGF(CS, S_DB), 1, 1, SNAP, "snapshot: vcpu.cs.db 1 is not 0 (64-bit code)"),
	P(VCPU, SEGF(CS, S_S), 1, 0, SNAP, "snapshot: vcpu.cs.s 0 is not 1 (code or data)"),
	P(VCPU, SEGF(CS, S_TYPE), 1, 3, SNAP, "snapshot: vcpu.cs.type 0x3 is not a code segment"),
	P(VCPU, SEGF(CS, S_DPL), 1, 3, SNAP, "snapshot: vcpu.cs.dpl 3 is not 0"),
	P(VCPU, SEGF(CS, S_L), 1, 2, SNAP, "snapshot: vcpu.cs.l 2 is not 0 or 1"),
	P(VCPU, SEGF(SS, S_DPL), 1, 3, SNAP, "snapshot: vcpu.ss.dpl 3 is not 0"),
	P(VCPU, SEGF(TR, S_TYPE), 1, 9, SNAP, "snapshot: vcpu.tr.type 0x9 is not 11 (busy 64-bit TSS)"),
	P(VCPU, SEGF(TR, S_PRESENT), 1, 0, SNAP, "snapshot: vcpu.tr.present 0 is not 1"),
	P(VCPU, SEGF(TR, S_UNUSABLE), 1, 1, SNAP, "snapshot: vcpu.tr.unusable 1 is not 0"),
	P(VCPU, SEGF(TR, S_S), 1, 1, SNAP, "snapshot: vcpu.tr.s 1 is not 0 (system segment)"),
	P(VCPU, SEGF(DS, S_G), 1, 2, SNAP, "snapshot: vcpu.ds.g 2 is not 0 or 1"),
	P(VCPU, SEGF(DS, S_TYPE), 1, 16, SNAP, "snapshot: vcpu.ds.type 16 exceeds 15"),
	P(VCPU, SEGF(ES, S_DPL), 1, 4, SNAP, "snapshot: vcpu.es.dpl 4 exceeds 3"),
	P(VCPU, SEGF(LDT, S_AVL), 1, 0xff, SNAP, "snapshot: vcpu.ldt.avl 255 is not 0 or 1"),
	P(VCPU, SEGF(GS, S_PRESENT), 1, 7, SNAP, "snapshot: vcpu.gs.present 7 is not 0 or 1"),
	P(VCPU, SEGF(SS, S_UNUSABLE), 1, 2, SNAP, "snapshot: vcpu.ss.unusable 2 is not 0 or 1"),
	P(VCPU, SEGF(DS, S_RESERVED), 1, 1, SNAP, "snapshot: vcpu.ds.reserved 0x1 is not zero"),
	P(VCPU, SEGF(FS, S_BASE), 8, 0x800000000000ull, SNAP, "snapshot: vcpu.fs.base 0x800000000000 is not canonical"),
	P(VCPU, SEGF(TR, S_BASE), 8, 0xfff0000000000000ull, SNAP, "snapshot: vcpu.tr.base 0xfff0000000000000 is not canonical"),
	P(VCPU, V_GDT_BASE, 8, 0x0000800000000000ull, SNAP, "snapshot: vcpu.gdt_base 0x800000000000 is not canonical"),
	P(VCPU, V_IDT_BASE, 8, 0xffff7fffffffffffull, SNAP, "snapshot: vcpu.idt_base 0xffff7fffffffffff is not canonical"),
	P(VCPU, V_RESERVED, 4, 1, SNAP, "snapshot: vcpu.reserved 0x1 is not zero"),
	/* vcpu: control registers */
	P(VCPU, V_CR0, 8, 0x80050032, SNAP, "snapshot: vcpu.cr0 0x80050032 lacks PE"),
	P(VCPU, V_CR0, 8, 0x00050033, SNAP, "snapshot: vcpu.cr0 0x50033 lacks PG"),
	P(VCPU, V_CR0, 8, 0xa0050033, SNAP, "snapshot: vcpu.cr0 0xa0050033 has NW without CD"),
	P(VCPU, V_CR0, 8, 0x80050073, SNAP, "snapshot: vcpu.cr0 0x80050073 has reserved bits 0x40"),
	P(VCPU, V_CR0, 8, 0x180050033ull, SNAP, "snapshot: vcpu.cr0 0x180050033 has reserved bits 0x100000000"),
	P(VCPU, V_CR4, 8, 0x600, SNAP, "snapshot: vcpu.cr4 0x600 lacks PAE"),
	P(VCPU, V_CR4, 8, 0x1620, SNAP, "snapshot: vcpu.cr4 0x1620 has unsupported bits 0x1000"), /* LA57 */
	P(VCPU, V_CR4, 8, 0x2620, SNAP, "snapshot: vcpu.cr4 0x2620 has unsupported bits 0x2000"), /* VMXE */
	P(VCPU, V_CR4, 8, 0x4620, SNAP, "snapshot: vcpu.cr4 0x4620 has unsupported bits 0x4000"), /* SMXE */
	P(VCPU, V_CR4, 8, 0x400620, SNAP, "snapshot: vcpu.cr4 0x400620 has unsupported bits 0x400000"), /* PKE */
	P(VCPU, V_CR4, 8, 0x800620, SNAP, "snapshot: vcpu.cr4 0x800620 has unsupported bits 0x800000"), /* CET */
	P(VCPU, V_CR4, 8, 0x20620, SNAP, "snapshot: vcpu.cr4 0x20620 has unsupported bits 0x20000"), /* PCIDE */
	P(VCPU, V_EFER, 8, 0x901, SNAP, "snapshot: vcpu.efer 0x901 does not have both LME and LMA"),
	P(VCPU, V_EFER, 8, 0x401, SNAP, "snapshot: vcpu.efer 0x401 does not have both LME and LMA"),
	P(VCPU, V_EFER, 8, 0xd03, SNAP, "snapshot: vcpu.efer 0xd03 has unsupported bits 0x2"),
	P(VCPU, V_EFER, 8, 0x1d01, SNAP, "snapshot: vcpu.efer 0x1d01 has unsupported bits 0x1000"), /* SVME */
	P(VCPU, V_CR3, 8, PT_ROOT + 8, SNAP, "snapshot: vcpu.cr3 0x1d008 is not page-aligned"),
	P(VCPU, V_CR3, 8, 0x2000, SNAP,
	  "snapshot: vcpu.cr3 0x2000 is outside the primary [0x4000, 0x1e000) and scratch [0xfffff4000, 0x1000000000) regions"),
	P(VCPU, V_CR3, 8, PRIMARY_END, SNAP, "snapshot: vcpu.cr3 0x1e000 is outside the primary"),
	P(VCPU, V_CR3, 8, 0x1000000000ull, SNAP, "snapshot: vcpu.cr3 0x1000000000 is outside the primary"),
	P(VCPU, V_CR8, 8, 16, SNAP, "snapshot: vcpu.cr8 0x10 exceeds 15"),
	/* vcpu: rip, rsp, rflags */
	P(VCPU, V_RIP, 8, IMAGE_END, SNAP, "snapshot: vcpu.rip 0x10000 is outside the image [0x4000, 0x10000)"),
	P(VCPU, V_RIP, 8, 0x3fff, SNAP, "snapshot: vcpu.rip 0x3fff is outside the image [0x4000, 0x10000)"),
	P(VCPU, V_RIP, 8, 0xffff800000004000ull, SNAP, "snapshot: vcpu.rip 0xffff800000004000 is outside the image"),
	P(VCPU, V_RSP, 8, STACK_GPA - 8, SNAP,
	  "snapshot: vcpu.rsp 0xfffff8ff8 is outside the stack [0xfffff9000, 0xfffffb000] and the exception stack [0xfffffc000, 0xfffffe000]"),
	P(VCPU, V_RSP, 8, STACK_TOP + 8, SNAP, "snapshot: vcpu.rsp 0xfffffb008 is outside the stack"),
	P(VCPU, V_RSP, 8, EXC_TOP + 8, SNAP, "snapshot: vcpu.rsp 0xfffffe008 is outside the stack"),
	P(VCPU, V_RSP, 8, 0, SNAP, "snapshot: vcpu.rsp 0x0 is outside the stack"),
	P(VCPU, V_RFLAGS, 8, 0, SNAP, "snapshot: vcpu.rflags 0x0 lacks the reserved-one bit 1"),
	P(VCPU, V_RFLAGS, 8, 0x20002, SNAP, "snapshot: vcpu.rflags 0x20002 has reserved or VM bits 0x20000"),
	P(VCPU, V_RFLAGS, 8, 0x400002, SNAP, "snapshot: vcpu.rflags 0x400002 has reserved or VM bits 0x400000"),
	P(VCPU, V_RFLAGS, 8, 0x802a, SNAP, "snapshot: vcpu.rflags 0x802a has reserved or VM bits 0x8028"),
	P(VCPU, V_RFLAGS, 8, 0x8000000000000002ull, SNAP, "has reserved or VM bits 0x8000000000000000"),
	/* vcpu: APIC base, fpu, debug registers, MSRs */
	P(VCPU, V_APIC, 8, 0xfee00d00, SNAP, "snapshot: vcpu.apic_base 0xfee00d00 enables x2APIC mode (bit 10)"),
	P(VCPU, V_APIC, 8, 0xfee00901, SNAP, "snapshot: vcpu.apic_base 0xfee00901 has reserved bits 0x1"),
	P(VCPU, V_APIC, 8, 0xfee00b00, SNAP, "snapshot: vcpu.apic_base 0xfee00b00 has reserved bits 0x200"),
	P(VCPU, V_APIC, 8, 0x10fee00900ull, SNAP, "snapshot: vcpu.apic_base 0x10fee00900 has reserved bits 0x1000000000"),
	P(VCPU, V_MXCSR, 4, 0x11f80, SNAP, "snapshot: vcpu.fpu.mxcsr 0x11f80 has reserved bits 16-31 set"),
	P(VCPU, V_MXCSR, 4, 0xffff1f80, SNAP, "snapshot: vcpu.fpu.mxcsr 0xffff1f80 has reserved bits 16-31 set"),
	P(VCPU, V_DR(1), 8, 0x800000000000ull, SNAP, "snapshot: vcpu.dr[1] 0x800000000000 is not canonical"),
	P(VCPU, V_DR(3), 8, 0x7fff000000000000ull, SNAP, "snapshot: vcpu.dr[3] 0x7fff000000000000 is not canonical"),
	P(VCPU, V_DR6, 8, 0x1ffff0ff0ull, SNAP, "snapshot: vcpu.dr6 0x1ffff0ff0 has upper 32 bits set"),
	P(VCPU, V_DR7, 8, 0x100000400ull, SNAP, "snapshot: vcpu.dr7 0x100000400 has upper 32 bits set"),
	P(VCPU, V_DR6, 8, 0xfffe0ff0, SNAP, "snapshot: vcpu.dr6 0xfffe0ff0 has fixed bits wrong: bits 4-11 and 16-31 read as one, bit 12 as zero"),
	P(VCPU, V_DR6, 8, 0xffff1ff0, SNAP, "snapshot: vcpu.dr6 0xffff1ff0 has fixed bits wrong: bits 4-11 and 16-31 read as one, bit 12 as zero"),
	P(VCPU, V_DR6, 8, 0, SNAP, "snapshot: vcpu.dr6 0x0 has fixed bits wrong: bits 4-11 and 16-31 read as one, bit 12 as zero"),
	P(VCPU, V_DR7, 8, 0, SNAP, "snapshot: vcpu.dr7 0x0 has fixed bits wrong: bit 10 reads as one, bits 12, 14 and 15 as zero"),
	P(VCPU, V_DR7, 8, 0xffffffff, SNAP, "snapshot: vcpu.dr7 0xffffffff has fixed bits wrong: bit 10 reads as one, bits 12, 14 and 15 as zero"),
	P(VCPU, V_KGS, 8, 0x0000900000000000ull, SNAP, "snapshot: vcpu.kernel_gs_base 0x900000000000 is not canonical"),
	P(VCPU, V_XCR0, 8, 3, SNAP, "snapshot: vcpu.xcr0 0x3 is not 0x1 (x87 only)"),
	P(VCPU, V_XCR0, 8, 0, SNAP, "snapshot: vcpu.xcr0 0x0 is not 0x1 (x87 only)"),
	P(VCPU, V_XCR0, 8, 0xe7, SNAP, "snapshot: vcpu.xcr0 0xe7 is not 0x1 (x87 only)"),
	/* fns */
	P(FNS, 0, 4, 65537, SNAP, "snapshot: fns.count 65537 exceeds the limit 65536"),
	P(FNS, 0, 4, 0xffffffff, SNAP, "snapshot: fns.count 4294967295 exceeds the limit 65536"),
	P(FNS, 0, 4, 4, SNAP, "snapshot: fns section length 0x10 does not match count 4 (0x14 bytes)"),
	P(FNS, 0, 4, 2, SNAP, "snapshot: fns section length 0x10 does not match count 2 (0xc bytes)"),
	P(FNS, 8, 4, 1, SNAP, "snapshot: fns.fn_id[1] 1 is not greater than fn_id[0] 1"),
	P(FNS, 12, 4, 2, SNAP, "snapshot: fns.fn_id[2] 2 is not greater than fn_id[1] 3"),
	P(FNS, 4, 4, 0xffffffff, SNAP, "snapshot: fns.fn_id[1] 3 is not greater than fn_id[0] 4294967295"),
	/* memory */
	P(MEMORY, M_RESERVED, 4, 1, SNAP, "snapshot: memory.reserved 0x1 is not zero"),
	P(MEMORY, M_COUNT, 4, 0xffffffff, SNAP,
	  "snapshot: memory.run_count 4294967295 needs 0xffffffff8 bytes of run table, the section holds 0x7058"),
	P(MEMORY, M_COUNT, 4, 4, SNAP, "snapshot: memory data of 0x7010 bytes does not match the 0x6000 bytes the runs cover"),
	P(MEMORY, M_COUNT, 4, 6, SNAP, "snapshot: memory.run[5].offset 0x"),
	P(MEMORY, M_COUNT, 4, 0, SNAP, "snapshot: memory data of 0x7050 bytes does not match the 0x0 bytes the runs cover"),
	P(MEMORY, M_RUN(1) + R_OFFSET, 8, 0x3001, SNAP, "snapshot: memory.run[1].offset 0x3001 is not page-aligned"),
	P(MEMORY, M_RUN(1) + R_PAGES, 8, 0, SNAP, "snapshot: memory.run[1].page_count is 0"),
	P(MEMORY, M_RUN(4) + R_PAGES, 8, 0xffffffffffffffffull, SNAP,
	  "snapshot: memory.run[4] offset 0x25000 + 0xffffffffffffffff pages overflows"),
	P(MEMORY, M_RUN(4) + R_PAGES, 8, 0x10000000000000ull, SNAP,
	  "snapshot: memory.run[4] offset 0x25000 + 0x10000000000000 pages overflows"),
	P(MEMORY, M_RUN(4) + R_OFFSET, 8, 0xfffffffffffff000ull, SNAP,
	  "snapshot: memory.run[4] offset 0xfffffffffffff000 + 0x1 pages overflows"),
	P(MEMORY, M_RUN(4) + R_PAGES, 8, 2, SNAP,
	  "snapshot: memory.run[4] [0x25000, 0x27000) runs past the memory size 0x26000"),
	P(MEMORY, M_RUN(4) + R_OFFSET, 8, MEM_SIZE, SNAP,
	  "snapshot: memory.run[4] [0x26000, 0x27000) runs past the memory size 0x26000"),
	P(MEMORY, M_RUN(1) + R_OFFSET, 8, 0x1000, SNAP,
	  "snapshot: memory.run[1].offset 0x1000 is below the end 0x2000 of run[0] (runs must be sorted and disjoint)"),
	P(MEMORY, M_RUN(1) + R_OFFSET, 8, 0, SNAP, "snapshot: memory.run[1].offset 0x0 is below the end 0x2000 of run[0]"),
	P(MEMORY, M_RUN(3) + R_OFFSET, 8, 0x6000, SNAP, "snapshot: memory.run[3].offset 0x6000 is below the end 0x8000 of run[2]"),
	P(MEMORY, M_RUN(0) + R_OFFSET, 8, 0x4000, SNAP, "snapshot: memory.run[1].offset 0x3000 is below the end 0x6000 of run[0]"),
	P(MEMORY, M_RUN(2) + R_PAGES, 8, 2, SNAP, "snapshot: memory data of 0x7000 bytes does not match the 0x8000 bytes the runs cover"),
};

/* Valid variants: each must decode. */
static const struct bad_case good_cases[] = {
	P(VCPU, SEGF(SS, S_DPL), 1, 3, NUB_OK, NULL), /* made unusable below */
	P(VCPU, V_RSP, 8, STACK_GPA, NUB_OK, NULL),
	P(VCPU, V_RSP, 8, STACK_TOP, NUB_OK, NULL),
	P(VCPU, V_RSP, 8, EXC_GPA, NUB_OK, NULL),
	P(VCPU, V_RSP, 8, EXC_TOP, NUB_OK, NULL),
	P(VCPU, V_RIP, 8, NUB_PRIMARY_BASE, NUB_OK, NULL),
	P(VCPU, V_RIP, 8, IMAGE_END - 1, NUB_OK, NULL),
	P(VCPU, V_CR3, 8, NUB_PRIMARY_BASE, NUB_OK, NULL),
	P(VCPU, V_CR3, 8, SCRATCH_GPA, NUB_OK, NULL),
	P(VCPU, V_CR3, 8, 0xfffffe000ull, NUB_OK, NULL),
	P(VCPU, V_CR0, 8, 0xe005003f, NUB_OK, NULL),
	P(VCPU, V_CR0, 8, 0xc0000001, NUB_OK, NULL),
	P(VCPU, V_CR4, 8, 0x3507ff, NUB_OK, NULL),
	P(VCPU, V_CR4, 8, 0x20, NUB_OK, NULL),
	P(VCPU, V_EFER, 8, 0x500, NUB_OK, NULL),
	P(VCPU, V_CR8, 8, 15, NUB_OK, NULL),
	P(VCPU, V_RFLAGS, 8, 0x3d7fd7, NUB_OK, NULL), /* every permitted bit */
	P(VCPU, V_APIC, 8, 0xffffff000ull | 0x900, NUB_OK, NULL),
	P(VCPU, V_APIC, 8, 0, NUB_OK, NULL),
	P(VCPU, V_MXCSR, 4, 0xffff, NUB_OK, NULL),
	P(VCPU, V_DR7, 8, 0xffff2fff, NUB_OK, NULL), /* every bit that is not fixed */
	P(VCPU, V_DR6, 8, 0xffffefff, NUB_OK, NULL),
	P(VCPU, V_DR(0), 8, 0x7fffffffffffull, NUB_OK, NULL),
	P(VCPU, V_KGS, 8, 0xffff800000000000ull, NUB_OK, NULL),
	P(VCPU, SEGF(CS, S_TYPE), 1, 15, NUB_OK, NULL),
	P(VCPU, SEGF(LDT, S_TYPE), 1, 15, NUB_OK, NULL),
	P(MEMORY, M_RUN(1) + R_OFFSET, 8, 0x2000, NUB_OK, NULL), /* adjacent to run[0] */
};

static void apply(uint8_t *b, const struct bad_case *c)
{
	static const uint64_t section_at[] = { 0, OFF_LAYOUT, OFF_VCPU, OFF_FNS, OFF_MEMORY };
	uint8_t *p = b + section_at[c->sec] + c->off;
	uint64_t v = c->value;

	if (c->add) {
		uint64_t old = c->width == 8 ? nub_le64(p) : c->width == 4 ? nub_le32(p) : p[0];
		v += old;
	}
	switch (c->width) {
	case 1:
		p[0] = (uint8_t)v;
		break;
	case 2:
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		break;
	case 4:
		nub_put_le32(p, (uint32_t)v);
		break;
	default:
		nub_put_le64(p, v);
		break;
	}
}

static void run_case(const struct fixture *f, const struct bad_case *c)
{
	uint8_t *b = copy(f);

	apply(b, c);
	if (c == &good_cases[0])
		b[OFF_VCPU + SEGF(SS, S_UNUSABLE)] = 1;
	if (!c->keep_crc)
		fix_crc(b, f->len);
	print_message("  case: %s\n", c->name);
	if (c->st == NUB_OK)
		nub_snapshot_unref(decode_ok(b, f->len));
	else
		decode_fails(b, f->len, c->st, c->msg);
	free(b);
}

static void test_malformed_fields(void **state)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		run_case(*state, &bad_cases[i]);
}

static void test_valid_variants(void **state)
{
	for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++)
		run_case(*state, &good_cases[i]);
}

/* The section table may list the sections in any order, and leave gaps between them. */
static void test_table_order_and_gaps(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = copy(f), entry[24];

	memcpy(entry, b + ENTRY(0), 24);
	memcpy(b + ENTRY(0), b + ENTRY(3), 24);
	memcpy(b + ENTRY(3), entry, 24);
	fix_crc(b, f->len);
	struct nub_snapshot *s = decode_ok(b, f->len);
	assert_snapshot_equal(f->snap, s);
	nub_snapshot_unref(s);

	free(b);

	/* 16 bytes of padding between the table and the first section. */
	size_t len = f->len + 16;
	b = calloc(1, len);
	assert_non_null(b);
	memcpy(b, f->file, OFF_LAYOUT);
	memcpy(b + OFF_LAYOUT + 16, f->file + OFF_LAYOUT, f->len - OFF_LAYOUT);
	for (unsigned i = 0; i < 4; i++)
		nub_put_le64(b + ENTRY(i) + E_OFFSET, nub_le64(b + ENTRY(i) + E_OFFSET) + 16);
	nub_put_le64(b + HDR_FILE_SIZE, len);
	fix_crc(b, len);
	s = decode_ok(b, len);
	assert_snapshot_equal(f->snap, s);
	nub_snapshot_unref(s);
	free(b);
}

/* Every truncation: inside the header, then at and around every section boundary. */
static void test_truncated(void **state)
{
	struct fixture *f = *state;
	const size_t cuts[] = { 0, 1, 7, 8, 12, 31, 32, 33, ENTRY(1), ENTRY(4), OFF_VCPU,
				OFF_VCPU + 1, OFF_FNS, OFF_MEMORY, OFF_MEMORY + 8, OFF_MEMORY + 88,
				FILE_LEN - 5, FILE_LEN - 4, FILE_LEN - 1 };
	char msg[128];

	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		size_t n = cuts[i];
		print_message("  cut at 0x%zx\n", n);
		uint8_t *b = malloc(n + 1);
		assert_non_null(b);
		memcpy(b, f->file, n);
		if (n < 32)
			snprintf(msg, sizeof msg,
				 "snapshot: file of %zu bytes is shorter than the 32-byte header", n);
		else
			snprintf(msg, sizeof msg,
				 "snapshot: header.file_size 0x749c does not match the file length 0x%zx", n);
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
		{ 32, "snapshot: section table of 4 entries ends at 0x80, past the trailer at 0x20" },
		{ ENTRY(3), "snapshot: section table of 4 entries ends at 0x80, past the trailer at 0x68" },
		{ OFF_LAYOUT, "snapshot: section[0] (LAYOUT) ends at 0xb0, past the trailer at 0x80" },
		{ OFF_VCPU, "snapshot: section[1] (VCPU) ends at 0x430, past the trailer at 0xb0" },
		{ OFF_FNS, "snapshot: section[2] (FNS) ends at 0x440, past the trailer at 0x430" },
		{ OFF_MEMORY, "snapshot: section[3] (MEMORY) ends at 0x7498, past the trailer at 0x440" },
		{ FILE_LEN - 5, "snapshot: section[3] (MEMORY) ends at 0x7498, past the trailer at 0x7497" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = cases[i].cut + 4;
		uint8_t *b = malloc(n);
		assert_non_null(b);
		memcpy(b, f->file, cases[i].cut);
		nub_put_le64(b + HDR_FILE_SIZE, n);
		fix_crc(b, n);
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

	for (size_t i = 0; i < f->len; i += i < OFF_MEMORY + 0x60 || i >= f->len - 4 ? 1 : 61) {
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
		a.fail_at = a.calls + fail_at; /* the (fail_at)-th allocation of the encoder fails */
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

/* The rename fails (the target is a non-empty directory): the temporary is removed. */
static void test_save_rename_failure_cleans_up(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	char path[128], inner[160];

	snprintf(path, sizeof path, "%s/d", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(inner, sizeof inner, "%s/keep", path);
	assert_int_equal(mkdir(inner, 0700), 0);
	assert_int_equal(nub_snapshot_save(f->snap, path, &err), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, "renaming");
	nub_assert_error(&err, NUB_E_IO, path);
	assert_true(err.sys_errno != 0);
	assert_int_equal(count_dir_entries(f->dir), 1);
	assert_int_equal(count_dir_entries(path), 1);

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
	snprintf(msg, sizeof msg, "%s: snapshot: file of 0 bytes is shorter than the 32-byte header", path);
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
	nub_put_le32(b + HDR_ABI, 7);
	write_file(path, b, f->len);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_ABI);
	snprintf(msg, sizeof msg, "%s: snapshot ABI version 7 does not match host ABI version 1", path);
	nub_assert_error(&err, NUB_E_ABI, msg);
	b[OFF_MEMORY + 100] ^= 1;
	nub_put_le32(b + HDR_ABI, 1);
	write_file(path, b, f->len);
	assert_int_equal(nub_snapshot_load(path, NULL, &s, &err), NUB_E_SNAPSHOT);
	snprintf(msg, sizeof msg, "%s: snapshot: checksum 0x", path);
	nub_assert_error(&err, NUB_E_SNAPSHOT, msg);
	assert_null(s);
	free(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_fixture_layout),
	T(test_crc_reference),
	T(test_encoding_is_as_documented),
	T(test_round_trip),
	T(test_encode_appends),
	T(test_round_trip_empty),
	T(test_round_trip_max_fns_full_memory),
	T(test_encode_bad_arguments),
	T(test_malformed_fields),
	T(test_valid_variants),
	T(test_table_order_and_gaps),
	T(test_truncated),
	T(test_truncated_consistent),
	T(test_byte_flips_are_refused),
	T(test_decode_allocation_failures),
	T(test_load_allocation_failures),
	T(test_encode_allocation_failures),
	T(test_save_load),
	T(test_save_replaces),
	T(test_save_failure_keeps_old_file),
	T(test_save_rename_failure_cleans_up),
	T(test_save_allocation_failures),
	T(test_load_errors),
};

NUB_TEST_SUITE(tests);
