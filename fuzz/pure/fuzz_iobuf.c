/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_iobuf: push/pop/reset and guest rewrites on an I/O buffer, checked against a model of the spec in iobuf.h. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fuzz_formats.h"
#include "fuzz_input.h"
#include "iobuf.h"
#include "nub_fuzz.h"

#define MAX_INPUT (64u << 10)
#define MAX_TRACKED 1024u
#define MAX_DESCRIBED_OPS 200u

struct pushed {
	uint64_t len;
	uint64_t hash;
};

struct state {
	volatile uint8_t *buf; /* the buffer under test */
	uint8_t *raw;          /* its allocation */
	uint8_t *model;        /* what the buffer must hold after every operation */
	uint64_t size;
	/* Elements pushed since the buffer was last known to be made by pushes only. */
	bool clean;
	size_t depth;
	struct pushed stack[MAX_TRACKED];
	enum nub_status first_failure;
};

static uint64_t fnv1a(const uint8_t *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* After (op): the buffer is exactly the model. */
static void check_matches_model(const struct state *s, const char *op)
{
	/* Single-threaded here: the buffer may be compared as plain memory. */
	NUB_FUZZ_CHECK_OP(op, memcmp((const void *)s->buf, s->model, s->size) == 0);
	NUB_FUZZ_CHECK_OP(op, nub_iobuf_sp(s->buf) == nub_le64(s->model));
}

static void note_failure(struct state *s, const char *op, enum nub_status st,
			 const struct nub_error *err)
{
	NUB_FUZZ_CHECK_OP(op, err->status == st && nub_fuzz_error_ok(err));
	if (s->first_failure == NUB_OK)
		s->first_failure = st;
}

static void op_push(struct state *s, const uint8_t *data, uint64_t len)
{
	struct nub_error err;
	uint64_t sp = nub_le64(s->model);
	bool sp_ok = sp >= NUB_IOBUF_SP_INIT && sp <= s->size;
	bool fits = sp_ok && s->size - sp >= 8 && len <= s->size - sp - 8;

	enum nub_status st = nub_iobuf_push(s->buf, s->size, data, len, &err);
	if (!fits) {
		NUB_FUZZ_CHECK_OP("nub_iobuf_push", st == (sp_ok ? NUB_E_LAYOUT : NUB_E_PROTOCOL));
		note_failure(s, "nub_iobuf_push", st, &err);
	} else {
		NUB_FUZZ_CHECK_OP("nub_iobuf_push", st == NUB_OK);
		if (len)
			memcpy(s->model + sp, data, len);
		nub_put_le64(s->model + sp + len, sp);
		nub_put_le64(s->model, sp + len + 8);
		if (s->clean && s->depth < MAX_TRACKED)
			s->stack[s->depth++] = (struct pushed){ .len = len,
								.hash = fnv1a(data, len) };
		else
			s->clean = false;
	}
	check_matches_model(s, "nub_iobuf_push"); /* a failed push changed nothing */
}

static void op_pop(struct state *s, uint64_t cap)
{
	struct nub_error err;
	uint64_t sp = nub_le64(s->model), back = 0, n = 0, len = UINT64_MAX;
	bool ok = sp >= 16 && sp <= s->size;
	uint8_t *dst = cap ? malloc(cap) : NULL; /* exactly (cap) bytes: ASan sees any overrun */

	NUB_FUZZ_CHECK(!cap || dst); /* the harness's own allocation */
	if (ok) {
		back = nub_le64(s->model + sp - 8);
		ok = back >= NUB_IOBUF_SP_INIT && back <= sp - 8;
	}
	if (ok) {
		n = sp - back - 8;
		ok = n <= cap;
	}
	enum nub_status st = nub_iobuf_pop(s->buf, s->size, dst, cap, &len, "output", &err);
	if (!ok) {
		NUB_FUZZ_CHECK_OP("nub_iobuf_pop", st == NUB_E_PROTOCOL);
		NUB_FUZZ_CHECK_OP("nub_iobuf_pop",
				  len == UINT64_MAX); /* nothing written on failure */
		note_failure(s, "nub_iobuf_pop", st, &err);
	} else {
		NUB_FUZZ_CHECK_OP("nub_iobuf_pop", st == NUB_OK && len == n);
		NUB_FUZZ_CHECK_OP("nub_iobuf_pop", n == 0 || memcmp(dst, s->model + back, n) == 0);
		if (s->clean) {
			/* Made by pushes only: the pop returns exactly the last element pushed. */
			NUB_FUZZ_CHECK_OP("nub_iobuf_pop", s->depth > 0);
			NUB_FUZZ_CHECK_OP("nub_iobuf_pop", s->stack[s->depth - 1].len == n);
			NUB_FUZZ_CHECK_OP("nub_iobuf_pop",
					  s->stack[s->depth - 1].hash == fnv1a(dst, n));
			s->depth--;
		}
		memset(s->model + back, 0, sp - back);
		nub_put_le64(s->model, back);
	}
	check_matches_model(s, "nub_iobuf_pop"); /* a failed pop changed nothing */
	free(dst);
}

static void op_reset(struct state *s)
{
	nub_iobuf_reset(s->buf, s->size);
	memset(s->model, 0, s->size);
	nub_put_le64(s->model, NUB_IOBUF_SP_INIT);
	s->clean = true;
	s->depth = 0;
	check_matches_model(s, "nub_iobuf_reset");
}

/* The guest rewrites (n) bytes at (off): the model follows, the push history is lost. */
static void op_poke(struct state *s, uint64_t off, uint64_t value, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		s->buf[off + i] = (uint8_t)(value >> (8 * i));
		s->model[off + i] = (uint8_t)(value >> (8 * i));
	}
	s->clean = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	const uint8_t *p;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	fuzz_input_init(&in, data, size);
	struct state *s = calloc(1, sizeof *s);
	NUB_FUZZ_CHECK(s != NULL); /* the harness's own allocation */
	s->size = 16 + 8 * (uint64_t)(fuzz_read_u8(&in) % 64);
	uint8_t flags = fuzz_read_u8(&in);
	bool misalign = flags & IOBUF_FLAG_MISALIGN;
	/* Exactly (size) bytes up to the end of the allocation, so overruns reach a redzone. */
	s->raw = misalign ? malloc(s->size + 1) : aligned_alloc(8, s->size);
	s->model = malloc(s->size);
	NUB_FUZZ_CHECK(s->raw && s->model); /* the harness's own allocation */
	s->buf = s->raw + (misalign ? 1 : 0);

	if (flags & IOBUF_FLAG_IMAGE) {
		size_t n = fuzz_read_bytes(&in, s->size, &p);
		memset(s->model, 0, s->size);
		if (n)
			memcpy(s->model, p, n);
		for (uint64_t i = 0; i < s->size; i++)
			s->buf[i] = s->model[i];
		s->clean = false;
	} else {
		op_reset(s);
	}

	while (fuzz_remaining(&in)) {
		switch (fuzz_read_u8(&in) % IOBUF_OPS) {
		case IOBUF_PUSH: {
			uint16_t want = fuzz_read_u16(&in);
			size_t n = fuzz_read_bytes(&in, want, &p);
			op_push(s, p, n);
			break;
		}
		case IOBUF_POP:
			op_pop(s, fuzz_read_u16(&in));
			break;
		case IOBUF_RESET:
			op_reset(s);
			break;
		case IOBUF_POKE: {
			uint64_t off = fuzz_read_u16(&in) % (s->size - 7);
			op_poke(s, off, fuzz_read_u64(&in), 8);
			break;
		}
		default: {
			uint64_t off = fuzz_read_u16(&in) % s->size;
			op_poke(s, off, fuzz_read_u8(&in), 1);
			break;
		}
		}
	}
	nub_fuzz_outcome(s->first_failure == NUB_OK ? "ok" : nub_status_str(s->first_failure));
	free(s->raw);
	free(s->model);
	free(s);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	const uint8_t *p;
	unsigned ops = 0;

	fuzz_input_init(&in, data, len);
	uint64_t size = 16 + 8 * (uint64_t)(fuzz_read_u8(&in) % 64);
	uint8_t flags = fuzz_read_u8(&in);
	fprintf(out, "  buffer of %llu bytes%s, %s\n", (unsigned long long)size,
		flags & IOBUF_FLAG_MISALIGN ? " at an odd address" : "",
		flags & IOBUF_FLAG_IMAGE ? "initial image:" : "reset (sp = 8)");
	if (flags & IOBUF_FLAG_IMAGE) {
		size_t n = fuzz_read_bytes(&in, size, &p);
		nub_fuzz_hexdump(out, p, n, 64);
		fprintf(out, "  image sp = 0x%llx\n",
			(unsigned long long)(n >= 8 ? nub_le64(p) : 0));
	}
	while (fuzz_remaining(&in)) {
		if (++ops > MAX_DESCRIBED_OPS) {
			fprintf(out, "  ... (%zu more input bytes)\n", fuzz_remaining(&in));
			return;
		}
		switch (fuzz_read_u8(&in) % IOBUF_OPS) {
		case IOBUF_PUSH: {
			uint16_t want = fuzz_read_u16(&in);
			size_t n = fuzz_read_bytes(&in, want, &p);
			fprintf(out, "  push %zu bytes ", n);
			nub_fuzz_print_string(out, p, n, 32);
			fputc('\n', out);
			break;
		}
		case IOBUF_POP:
			fprintf(out, "  pop (destination capacity %u)\n", fuzz_read_u16(&in));
			break;
		case IOBUF_RESET:
			fprintf(out, "  reset\n");
			break;
		case IOBUF_POKE: {
			uint64_t off = fuzz_read_u16(&in) % (size - 7);
			fprintf(out, "  guest writes u64 0x%llx at offset 0x%llx\n",
				(unsigned long long)fuzz_read_u64(&in), (unsigned long long)off);
			break;
		}
		default: {
			uint64_t off = fuzz_read_u16(&in) % size;
			fprintf(out, "  guest writes byte 0x%02x at offset 0x%llx\n",
				fuzz_read_u8(&in), (unsigned long long)off);
			break;
		}
		}
	}
}
