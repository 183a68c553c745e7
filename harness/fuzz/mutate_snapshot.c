/* SPDX-License-Identifier: Apache-2.0 */
/* The structure-aware mutator's half for snapshot files (engine/snapshot-format.md). */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "config.h"
#include "guest_elf.h"
#include "mutator.h"
#include "snapshot_format.h"

#define MAX_SECTIONS 16u

static const uint8_t magic[8] = "NUBSNAP";

struct sec {
	uint32_t type;
	uint64_t off, len;
	bool fits; /* after the table, before the trailer */
};

/* The header and section table as far as they lie inside the file. */
struct snap {
	size_t n, table_end;
	struct sec s[MAX_SECTIONS];
};

static bool parse(const uint8_t *b, size_t size, struct snap *p)
{
	if (size < SNAP_HEADER_SIZE + 4)
		return false;
	uint32_t count = nub_le32(b + SNAP_HDR_COUNT);
	if (count < 1 || count > MAX_SECTIONS || SNAP_ENTRY(count) + 4 > size)
		return false;
	p->n = count;
	p->table_end = SNAP_ENTRY(count);
	for (size_t i = 0; i < count; i++) {
		const uint8_t *e = b + SNAP_ENTRY(i);
		struct sec *s = &p->s[i];
		s->type = nub_le32(e + SNAP_E_TYPE);
		s->off = nub_le64(e + SNAP_E_OFFSET);
		s->len = nub_le64(e + SNAP_E_LENGTH);
		s->fits = s->off >= p->table_end && s->off <= size - 4 &&
			  s->len <= size - 4 - s->off;
	}
	return true;
}

bool nub_mut_snapshot_valid(const uint8_t *data, size_t size)
{
	struct snap p;

	if (!parse(data, size, &p) || memcmp(data, magic, sizeof magic) != 0 ||
	    nub_le32(data + SNAP_HDR_SIZE) != SNAP_HEADER_SIZE ||
	    nub_le64(data + SNAP_HDR_FILE_SIZE) != size)
		return false;
	for (size_t i = 0; i < p.n; i++)
		if (!p.s[i].fits)
			return false;
	return nub_le32(data + size - 4) == snap_crc32c(data, size - 4);
}

/* The fitting section of (type), or NULL. */
static struct sec *find(struct snap *p, uint32_t type)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->s[i].type == type && p->s[i].fits)
			return &p->s[i];
	return NULL;
}

/*
 * Replaces (remove) bytes at (at) by (ins_len) bytes (ins, or a pattern) and keeps the table
 * right: section (grow), if not NULL, takes the size change; every other section starting at or
 * after the replaced bytes moves with them.
 */
static bool resize(struct nub_mut *m, uint8_t *b, size_t *size, size_t max_size, struct snap *p,
		   struct sec *grow, size_t at, size_t remove, const uint8_t *ins, size_t ins_len)
{
	if (!nub_mut_splice(m, b, size, max_size, at, remove, ins, ins_len))
		return false;
	for (size_t i = 0; i < p->n; i++) {
		struct sec *s = &p->s[i];
		uint8_t *e = b + SNAP_ENTRY(i);
		if (s == grow) {
			s->len = s->len - remove + ins_len;
			nub_put_le64(e + SNAP_E_LENGTH, s->len);
		} else if (s->fits && s->off >= at + remove) {
			s->off = s->off - remove + ins_len;
			nub_put_le64(e + SNAP_E_OFFSET, s->off);
		}
	}
	return true;
}

/* A field of the VCPU section: offset and width. */
struct vfield {
	uint16_t at;
	uint8_t width;
};

/* The VCPU fields, in the order of engine/snapshot-format.md; returns their number. */
static size_t vcpu_fields(struct vfield *f)
{
	static const uint8_t seg_bytes[] = { SNAP_S_TYPE,    SNAP_S_PRESENT, SNAP_S_DPL,
					     SNAP_S_DB,      SNAP_S_S,       SNAP_S_L,
					     SNAP_S_G,       SNAP_S_AVL,     SNAP_S_UNUSABLE,
					     SNAP_S_RESERVED };
	size_t n = 0;

	for (uint16_t i = 0; i < 18; i++) /* 16 GPRs, rip, rflags */
		f[n++] = (struct vfield){ (uint16_t)(8u * i), 8 };
	for (uint16_t s = 0; s < 8; s++) {
		f[n++] = (struct vfield){ (uint16_t)SNAP_V_SEG(s), 8 };        /* base */
		f[n++] = (struct vfield){ (uint16_t)(SNAP_V_SEG(s) + 8), 4 };  /* limit */
		f[n++] = (struct vfield){ (uint16_t)(SNAP_V_SEG(s) + 12), 2 }; /* selector */
		for (size_t k = 0; k < sizeof seg_bytes; k++)
			f[n++] = (struct vfield){ (uint16_t)(SNAP_V_SEG(s) + seg_bytes[k]), 1 };
	}
	f[n++] = (struct vfield){ SNAP_V_GDT_BASE, 8 };
	f[n++] = (struct vfield){ SNAP_V_IDT_BASE, 8 };
	f[n++] = (struct vfield){ SNAP_V_GDT_BASE + 16, 2 }; /* gdt_limit */
	f[n++] = (struct vfield){ SNAP_V_GDT_BASE + 18, 2 }; /* idt_limit */
	f[n++] = (struct vfield){ SNAP_V_RESERVED, 4 };
	for (uint16_t at = SNAP_V_CR0; at <= SNAP_V_APIC;
	     at += 8) /* cr0 cr2 cr3 cr4 cr8 efer apic */
		f[n++] = (struct vfield){ at, 8 };
	f[n++] = (struct vfield){ SNAP_V_FPU + 128, 2 }; /* fcw */
	f[n++] = (struct vfield){ SNAP_V_MXCSR, 4 };
	for (uint16_t at = SNAP_V_DR(0); at <= SNAP_V_XCR0; at += 8) /* dr0-3 dr6 dr7 kgs xcr0 */
		f[n++] = (struct vfield){ at, 8 };
	return n;
}

/* Room for vcpu_fields: 18 + 8 * 13 + 5 + 7 + 2 + 8. */
#define VCPU_FIELDS 144u

/* A LAYOUT value: on the page grid near the loader's limits, or any value. */
static uint64_t layout_value(struct nub_mut *m, uint64_t cur)
{
	static const uint64_t limits[] = {
		0,
		NUB_PAGE_SIZE,
		0x4000,
		NUB_MIN_IO_SIZE,
		NUB_MIN_STACK_SIZE,
		NUB_MAX_IO_SIZE,
		NUB_MAX_STACK_SIZE,
		NUB_MAX_HEAP_SIZE,
		NUB_ELF_MAX_IMAGE_END,
	};

	switch (nub_mut_below(m, 4)) {
	case 0:
		return limits[nub_mut_below(m, sizeof limits / sizeof limits[0])] +
		       NUB_PAGE_SIZE * (nub_mut_below(m, 3) - 1) * nub_mut_chance(m, 1, 2);
	case 1:
		return cur + NUB_PAGE_SIZE * (1 + nub_mut_below(m, 4));
	case 2:
		return cur - NUB_PAGE_SIZE * (1 + nub_mut_below(m, 4));
	default:
		return nub_mut_value(m, cur, 8);
	}
}

static void mutate_vcpu(struct nub_mut *m, uint8_t *b, const struct sec *s)
{
	struct vfield f[VCPU_FIELDS];

	if (s->len < SNAP_VCPU_SIZE)
		return;
	size_t n = vcpu_fields(f);
	const struct vfield *x = &f[nub_mut_below(m, n)];
	uint8_t *p = b + s->off + x->at;
	/* Control registers and flags are bit sets the loader checks bit by bit. */
	uint64_t v = nub_le_n(p, x->width);
	if (nub_mut_chance(m, 1, 3))
		v ^= 1ull << nub_mut_below(m, 8u * x->width);
	else
		v = nub_mut_value(m, v, x->width);
	nub_put_le_n(p, x->width, v);
}

/* FNS: an id inserted (in order, if there is room), deleted or changed, or the count changed. */
static void mutate_fns(struct nub_mut *m, uint8_t *b, size_t *size, size_t max_size, struct snap *p,
		       struct sec *s)
{
	uint32_t count = nub_le32(b + s->off);
	uint64_t have = (s->len - 4) / 4; /* the ids both listed and present */
	uint8_t *ids = b + s->off + 4;

	if (have > count)
		have = count;
	size_t i = have ? nub_mut_below(m, have) : 0;
	switch (nub_mut_below(m, 4)) {
	case 0: {
		uint32_t lo = i ? nub_le32(ids + 4 * (i - 1)) + 1 : 0;
		uint32_t hi = i < have ? nub_le32(ids + 4 * i) : UINT32_MAX;
		uint8_t id[4];
		nub_put_le32(id, hi > lo ? lo + (uint32_t)nub_mut_below(m, hi - lo)
					 : (uint32_t)nub_mut_value(m, lo, 4));
		if (resize(m, b, size, max_size, p, s, s->off + 4 + 4 * i, 0, id, 4))
			nub_put_le32(b + s->off, count + 1);
		break;
	}
	case 1:
		if (have && resize(m, b, size, max_size, p, s, s->off + 4 + 4 * i, 4, NULL, 0))
			nub_put_le32(b + s->off, count - 1);
		break;
	case 2:
		if (have)
			nub_put_le32(ids + 4 * i,
				     (uint32_t)nub_mut_value(m, nub_le32(ids + 4 * i), 4));
		break;
	default:
		nub_put_le32(b + s->off, (uint32_t)nub_mut_value(m, count, 4));
		break;
	}
}

/*
 * MEMORY: the bytes of one page, a run's offset or page count, a run of one page added after
 * the last one, or a run removed with its pages.
 */
static void mutate_memory(struct nub_mut *m, uint8_t *b, size_t *size, size_t max_size,
			  struct snap *p, struct sec *s)
{
	uint32_t runs = nub_le32(b + s->off + SNAP_M_COUNT);
	uint64_t table = SNAP_M_RUN((uint64_t)runs);

	if (s->len < SNAP_M_RUN(0) || table > s->len) {
		nub_put_le32(b + s->off + SNAP_M_COUNT, (uint32_t)nub_mut_value(m, runs, 4));
		return;
	}
	/* Where each run's pages start, as far as they lie in the section. */
	uint64_t data = s->off + table, end = s->off + s->len, last_end = 0;
	size_t r = runs ? nub_mut_below(m, runs) : 0;
	uint64_t r_data = data, r_pages = 0;
	for (size_t k = 0; k < runs; k++) {
		const uint8_t *run = b + s->off + SNAP_M_RUN(k);
		uint64_t pages = nub_le64(run + SNAP_R_PAGES);
		if (pages > (end - data) / NUB_PAGE_SIZE)
			pages = (end - data) / NUB_PAGE_SIZE;
		if (k == r)
			r_data = data, r_pages = pages;
		data += pages * NUB_PAGE_SIZE;
		last_end = nub_le64(run + SNAP_R_OFFSET) + pages * NUB_PAGE_SIZE;
	}
	switch (runs ? nub_mut_below(m, 8) : 6) {
	case 0:
	case 1:
	case 2:
	case 3: { /* the bytes of a page, its size kept */
		if (r_pages == 0)
			break;
		uint8_t page[NUB_PAGE_SIZE];
		uint8_t *at = b + r_data + NUB_PAGE_SIZE * nub_mut_below(m, r_pages);
		memcpy(page, at, sizeof page);
		size_t n = nub_mut_bytes(m, page, sizeof page, sizeof page);
		memset(page + n, 0, sizeof page - n);
		memcpy(at, page, sizeof page);
		break;
	}
	case 4:
	case 5: { /* a run's offset or page count */
		uint8_t *f = b + s->off + SNAP_M_RUN(r) +
			     (nub_mut_chance(m, 1, 2) ? SNAP_R_OFFSET : SNAP_R_PAGES);
		nub_put_le64(f, nub_mut_chance(m, 1, 2) ? layout_value(m, nub_le64(f))
							: nub_mut_value(m, nub_le64(f), 8));
		break;
	}
	case 6: { /* a page added in a new run after the last (or at a random page) */
		uint8_t run[16];
		uint64_t at = nub_mut_chance(m, 3, 4)
				      ? last_end + NUB_PAGE_SIZE * nub_mut_below(m, 4)
				      : NUB_PAGE_SIZE * nub_mut_below(m, 64);
		nub_put_le64(run + SNAP_R_OFFSET, at);
		nub_put_le64(run + SNAP_R_PAGES, 1);
		if (*size + sizeof run + NUB_PAGE_SIZE > max_size)
			break;
		resize(m, b, size, max_size, p, s, s->off + table, 0, run, sizeof run);
		resize(m, b, size, max_size, p, s, s->off + s->len, 0, NULL, NUB_PAGE_SIZE);
		nub_put_le32(b + s->off + SNAP_M_COUNT, runs + 1);
		break;
	}
	default: /* run r removed, with its pages */
		if (resize(m, b, size, max_size, p, s, r_data, r_pages * NUB_PAGE_SIZE, NULL, 0) &&
		    resize(m, b, size, max_size, p, s, s->off + SNAP_M_RUN(r), 16, NULL, 0))
			nub_put_le32(b + s->off + SNAP_M_COUNT, runs - 1);
		break;
	}
}

/* The deliberately broken fraction: byte-level anywhere, and the trailer left stale. */
static size_t break_file(struct nub_mut *m, uint8_t *b, size_t size, size_t max_size)
{
	m->invalid = true;
	size = nub_mut_bytes(m, b, size, max_size);
	if (size >= 4) {
		snap_repair(b, size);
		b[size - 1 - nub_mut_below(m, 4)] ^= (uint8_t)(1u << nub_mut_below(m, 8));
	}
	return size;
}

size_t nub_mut_snapshot(struct nub_mut *m, uint8_t *b, size_t size, size_t max_size)
{
	struct snap p;
	struct sec *s;

	if (!parse(b, size, &p)) { /* nothing to stand on: byte-level, then repaired */
		size = nub_mut_bytes(m, b, size, max_size);
		snap_repair(b, size);
		return size;
	}
	if (nub_mut_below(m, 100) < NUB_MUT_INVALID_PER_100)
		return break_file(m, b, size, max_size);

	size_t e = SNAP_ENTRY(nub_mut_below(m, p.n));
	unsigned int kind = (unsigned int)nub_mut_below(m, 90);
	if (kind < 4) { /* format_version or abi_version */
		uint8_t *f = b + (kind < 2 ? SNAP_HDR_VERSION : SNAP_HDR_ABI);
		nub_put_le32(f, (uint32_t)nub_mut_value(m, nub_le32(f), 4));
	} else if (kind < 8) { /* a table entry's type, reserved word, offset or length */
		static const uint8_t at[] = { SNAP_E_TYPE, SNAP_E_RESERVED, SNAP_E_OFFSET,
					      SNAP_E_LENGTH };
		size_t k = nub_mut_below(m, 4);
		unsigned int w = k < 2 ? 4 : 8;
		uint64_t v = k == 0 ? nub_mut_below(m, 6)
				    : nub_mut_value(m, nub_le_n(b + e + at[k], w), w);
		nub_put_le_n(b + e + at[k], w, v);
	} else if (kind < 22) { /* LAYOUT */
		if ((s = find(&p, SNAP_LAYOUT)) && s->len >= SNAP_LAYOUT_SIZE) {
			uint8_t *f = b + s->off + 8 * nub_mut_below(m, 6);
			nub_put_le64(f, layout_value(m, nub_le64(f)));
		}
	} else if (kind < 47) {
		if ((s = find(&p, SNAP_VCPU)))
			mutate_vcpu(m, b, s);
	} else if (kind < 57) {
		if ((s = find(&p, SNAP_FNS)) && s->len >= 4)
			mutate_fns(m, b, &size, max_size, &p, s);
	} else if (kind < 82) {
		if ((s = find(&p, SNAP_MEMORY)))
			mutate_memory(m, b, &size, max_size, &p, s);
	} else { /* a gap before a section, or a section moved behind the others */
		s = &p.s[nub_mut_below(m, p.n)];
		if (s->fits && nub_mut_chance(m, 1, 2)) {
			resize(m, b, &size, max_size, &p, NULL, s->off, 0, NULL,
			       nub_mut_chance(m, 1, 2) ? 1 + nub_mut_below(m, 64) : NUB_PAGE_SIZE);
		} else if (s->fits && s->len <= max_size) {
			uint8_t *copy = malloc(s->len ? s->len : 1);
			size_t len = s->len, i = (size_t)(s - p.s);
			if (copy) {
				memcpy(copy, b + s->off, len);
				if (resize(m, b, &size, max_size, &p, s, s->off, len, NULL, 0) &&
				    resize(m, b, &size, max_size, &p, s, size - 4, 0, copy, len)) {
					nub_put_le64(b + SNAP_ENTRY(i) + SNAP_E_OFFSET,
						     size - 4 - len);
				}
				free(copy);
			}
		}
	}
	snap_repair(b, size);
	return size;
}

size_t nub_mut_snapshot_cross(struct nub_mut *m, const uint8_t *a, size_t a_len, const uint8_t *b,
			      size_t b_len, uint8_t *out, size_t max_size)
{
	struct snap pa, pb;
	size_t size = a_len < max_size ? a_len : max_size;

	memcpy(out, a, size);
	if (size == 0 || !parse(out, size, &pa) || !parse(b, b_len, &pb))
		return size;
	/* One of a's sections replaced by b's section of the same type. */
	struct sec *s = &pa.s[nub_mut_below(m, pa.n)];
	const struct sec *t = s->fits ? find(&pb, s->type) : NULL;
	if (t)
		resize(m, out, &size, max_size, &pa, s, s->off, s->len, b + t->off, t->len);
	snap_repair(out, size);
	return size;
}
