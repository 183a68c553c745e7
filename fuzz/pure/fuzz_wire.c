/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_wire: request, response and log frame decoding; whatever decodes must re-encode to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fuzz_formats.h"
#include "fuzz_input.h"
#include "nub_fuzz.h"
#include "wire.h"

#define MAX_INPUT (1u << 20)
#define SENTINEL 0xa5

struct frame_view {
	enum fuzz_wire_mode kind; /* WIRE_REQUEST, WIRE_RESPONSE or WIRE_LOG */
	union {
		struct nub_request_view req;
		struct nub_response_view resp;
		struct nub_log_view log;
	} v;
};

static const uint32_t header_size[] = {
	[WIRE_REQUEST] = sizeof(struct nub_wire_request),
	[WIRE_RESPONSE] = sizeof(struct nub_wire_response),
	[WIRE_LOG] = sizeof(struct nub_wire_log),
};

/* The engine operations a frame kind goes through, which name its invariants. */
static const char *const decode_op[] = {
	[WIRE_REQUEST] = "nub_wire_decode_request",
	[WIRE_RESPONSE] = "nub_wire_decode_response",
	[WIRE_LOG] = "nub_wire_decode_log",
};
static const char *const encode_op[] = {
	[WIRE_REQUEST] = "nub_wire_encode_request",
	[WIRE_RESPONSE] = "nub_wire_encode_response",
	[WIRE_LOG] = "nub_wire_encode_log",
};

/* A private copy of exactly (len) bytes, so ASan reports any read past the frame. */
static uint8_t *copy_exact(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	NUB_FUZZ_CHECK(c != NULL); /* the harness's own allocation */
	if (len)
		memcpy(c, p, len);
	return c;
}

static bool inside(const void *p, uint64_t n, const uint8_t *buf, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)buf;

	return a >= b && n <= len && a - b <= len - n;
}

static enum nub_status decode(struct frame_view *f, const uint8_t *buf, size_t len,
			      struct nub_error *err)
{
	switch (f->kind) {
	case WIRE_REQUEST:
		return nub_wire_decode_request(buf, len, &f->v.req, err);
	case WIRE_RESPONSE:
		return nub_wire_decode_response(buf, len, &f->v.resp, err);
	default:
		return nub_wire_decode_log(buf, len, &f->v.log, err);
	}
}

static enum nub_status encode(const struct frame_view *f, uint8_t *dst, size_t cap, size_t *written,
			      struct nub_error *err)
{
	switch (f->kind) {
	case WIRE_REQUEST:
		return nub_wire_encode_request(dst, cap, f->v.req.fn_id, f->v.req.payload,
					       f->v.req.payload_len, written, err);
	case WIRE_RESPONSE:
		return nub_wire_encode_response(dst, cap, f->v.resp.status, f->v.resp.payload,
						f->v.resp.payload_len, f->v.resp.msg,
						f->v.resp.msg_len, written, err);
	default:
		return nub_wire_encode_log(dst, cap, f->v.log.level, f->v.log.line, f->v.log.file,
					   f->v.log.file_len, f->v.log.msg, f->v.log.msg_len,
					   written, err);
	}
}

/* Every part of a decoded view lies inside the frame, and the lengths add up to it. */
static void check_view(const struct frame_view *f, const uint8_t *buf, size_t len)
{
	uint64_t total = header_size[f->kind];

	switch (f->kind) {
	case WIRE_REQUEST:
		NUB_FUZZ_CHECK_OP(decode_op[f->kind],
				  inside(f->v.req.payload, f->v.req.payload_len, buf, len));
		total += f->v.req.payload_len;
		break;
	case WIRE_RESPONSE:
		NUB_FUZZ_CHECK_OP(decode_op[f->kind],
				  inside(f->v.resp.payload, f->v.resp.payload_len, buf, len));
		NUB_FUZZ_CHECK_OP(decode_op[f->kind],
				  inside(f->v.resp.msg, f->v.resp.msg_len, buf, len));
		total += (uint64_t)f->v.resp.payload_len + f->v.resp.msg_len;
		break;
	default:
		NUB_FUZZ_CHECK_OP(decode_op[f->kind], f->v.log.level >= NUB_LEVEL_ERROR &&
							      f->v.log.level <= NUB_LEVEL_TRACE);
		NUB_FUZZ_CHECK_OP(decode_op[f->kind],
				  inside(f->v.log.file, f->v.log.file_len, buf, len));
		NUB_FUZZ_CHECK_OP(decode_op[f->kind],
				  inside(f->v.log.msg, f->v.log.msg_len, buf, len));
		total += (uint64_t)f->v.log.file_len + f->v.log.msg_len;
		break;
	}
	NUB_FUZZ_CHECK_OP(decode_op[f->kind], total == len);
}

/*
 * Encoding (f) into len - 1 bytes fails with NUB_E_LAYOUT and writes nothing; into exactly (len)
 * bytes it succeeds and reproduces (frame).
 */
static void check_reencode(const struct frame_view *f, const uint8_t *frame, size_t len)
{
	struct nub_error err;
	size_t written = 0;
	uint8_t *dst = malloc(len);

	NUB_FUZZ_CHECK(dst != NULL); /* the harness's own allocation */
	memset(dst, SENTINEL, len);
	NUB_FUZZ_CHECK_OP(encode_op[f->kind],
			  encode(f, dst, len - 1, &written, &err) == NUB_E_LAYOUT);
	NUB_FUZZ_CHECK_OP(encode_op[f->kind], nub_fuzz_error_ok(&err));
	for (size_t i = 0; i < len; i++)
		NUB_FUZZ_CHECK_OP(encode_op[f->kind], dst[i] == SENTINEL);
	NUB_FUZZ_CHECK_OP(encode_op[f->kind], encode(f, dst, len, &written, &err) == NUB_OK);
	NUB_FUZZ_CHECK_OP(encode_op[f->kind], written == len);
	NUB_FUZZ_CHECK_OP(encode_op[f->kind], memcmp(dst, frame, len) == 0);
	free(dst);
}

/* Decodes (frame) as (kind); the outcome is the decoder's status. */
static void fuzz_decode(enum fuzz_wire_mode kind, const uint8_t *data, size_t len)
{
	struct frame_view f, untouched;
	struct nub_error err;
	uint8_t *frame = copy_exact(data, len);

	memset(&f, SENTINEL, sizeof f);
	f.kind = kind;
	untouched = f;
	enum nub_status st = decode(&f, frame, len, &err);
	nub_fuzz_outcome(st == NUB_OK ? "ok" : nub_status_str(st));
	if (st == NUB_OK) {
		check_view(&f, frame, len);
		check_reencode(&f, frame, len);
	} else {
		NUB_FUZZ_CHECK_OP(decode_op[kind], st == NUB_E_PROTOCOL);
		NUB_FUZZ_CHECK_OP(decode_op[kind], err.status == st && nub_fuzz_error_ok(&err));
		NUB_FUZZ_CHECK_OP(decode_op[kind],
				  memcmp(&f, &untouched, sizeof f) == 0); /* no partial output */
	}
	free(frame);
}

/* Builds a frame from fields with the encoder; the decoder must give the fields back. */
static void fuzz_encode(struct fuzz_input *in)
{
	struct frame_view f, d;
	struct nub_error err;
	const uint8_t *p1 = NULL, *p2 = NULL;

	memset(&f, 0, sizeof f);
	f.kind = (enum fuzz_wire_mode)(fuzz_read_u8(in) % 3);
	uint32_t a = fuzz_read_u32(in), line = fuzz_read_u32(in);
	uint16_t want1 = fuzz_read_u16(in), want2 = fuzz_read_u16(in);
	uint32_t n1 = (uint32_t)fuzz_read_bytes(in, want1, &p1);
	uint32_t n2 = f.kind == WIRE_REQUEST ? 0 : (uint32_t)fuzz_read_bytes(in, want2, &p2);
	if (f.kind == WIRE_REQUEST)
		f.v.req = (struct nub_request_view){ .fn_id = a, .payload = p1, .payload_len = n1 };
	else if (f.kind == WIRE_RESPONSE)
		f.v.resp = (struct nub_response_view){ .status = a,
						       .payload = p1,
						       .payload_len = n1,
						       .msg = (const char *)p2,
						       .msg_len = n2 };
	else
		f.v.log = (struct nub_log_view){ .level = a,
						 .line = line,
						 .file = (const char *)p1,
						 .file_len = n1,
						 .msg = (const char *)p2,
						 .msg_len = n2 };

	size_t len = header_size[f.kind] + (size_t)n1 + n2, written = 0;
	uint8_t *frame = malloc(len);
	NUB_FUZZ_CHECK(frame != NULL); /* the harness's own allocation */
	NUB_FUZZ_CHECK_OP(encode_op[f.kind], encode(&f, frame, len, &written, &err) == NUB_OK);
	NUB_FUZZ_CHECK_OP(encode_op[f.kind], written == len);

	memset(&d, 0, sizeof d);
	d.kind = f.kind;
	enum nub_status st = decode(&d, frame, len, &err);
	nub_fuzz_outcome(st == NUB_OK ? "ok" : nub_status_str(st));
	if (f.kind == WIRE_LOG && (a < NUB_LEVEL_ERROR || a > NUB_LEVEL_TRACE)) {
		/* The encoder accepts any level (for hostile test frames); the decoder must not. */
		NUB_FUZZ_CHECK_OP(decode_op[f.kind],
				  st == NUB_E_PROTOCOL && nub_fuzz_error_ok(&err));
	} else {
		NUB_FUZZ_CHECK_OP(decode_op[f.kind], st == NUB_OK);
		check_view(&d, frame, len);
		if (f.kind == WIRE_REQUEST) {
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  d.v.req.fn_id == a && d.v.req.payload_len == n1);
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  !n1 || memcmp(d.v.req.payload, p1, n1) == 0);
		} else if (f.kind == WIRE_RESPONSE) {
			NUB_FUZZ_CHECK_OP(decode_op[f.kind], d.v.resp.status == a &&
								     d.v.resp.payload_len == n1 &&
								     d.v.resp.msg_len == n2);
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  !n1 || memcmp(d.v.resp.payload, p1, n1) == 0);
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  !n2 || memcmp(d.v.resp.msg, p2, n2) == 0);
		} else {
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  d.v.log.level == a && d.v.log.line == line &&
						  d.v.log.file_len == n1 && d.v.log.msg_len == n2);
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  !n1 || memcmp(d.v.log.file, p1, n1) == 0);
			NUB_FUZZ_CHECK_OP(decode_op[f.kind],
					  !n2 || memcmp(d.v.log.msg, p2, n2) == 0);
		}
	}
	free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	const uint8_t *rest;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	fuzz_input_init(&in, data, size);
	enum fuzz_wire_mode mode = (enum fuzz_wire_mode)(fuzz_read_u8(&in) % WIRE_MODES);
	if (mode == WIRE_ENCODE) {
		fuzz_encode(&in);
	} else {
		size_t n = fuzz_read_rest(&in, &rest);
		fuzz_decode(mode, rest, n);
	}
	return 0;
}

static const char *const mode_names[] = { "request", "response", "log", "encode" };
static const char *const kind_names[] = { "request", "response", "log" };

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	const uint8_t *p;

	fuzz_input_init(&in, data, len);
	if (len == 0) {
		fprintf(out, "  empty input (mode byte missing: decodes an empty request frame)\n");
		return;
	}
	enum fuzz_wire_mode mode = (enum fuzz_wire_mode)(fuzz_read_u8(&in) % WIRE_MODES);
	if (mode == WIRE_ENCODE) {
		unsigned kind = fuzz_read_u8(&in) % 3;
		uint32_t a = fuzz_read_u32(&in), line = fuzz_read_u32(&in);
		uint16_t l1 = fuzz_read_u16(&in), l2 = fuzz_read_u16(&in);
		fprintf(out, "  mode: encode a %s frame, then decode it\n", kind_names[kind]);
		fprintf(out, "  %s %u, line %u, len1 %u, len2 %u\n",
			kind == 0   ? "fn_id"
			: kind == 1 ? "status"
				    : "level",
			a, line, l1, l2);
		size_t n1 = fuzz_read_bytes(&in, l1, &p);
		fprintf(out, "  part1 (%zu bytes): ", n1);
		nub_fuzz_print_string(out, p, n1, 64);
		if (kind != 0) {
			size_t n2 = fuzz_read_bytes(&in, l2, &p);
			fprintf(out, "\n  part2 (%zu bytes): ", n2);
			nub_fuzz_print_string(out, p, n2, 64);
		}
		fputc('\n', out);
		return;
	}
	size_t n = fuzz_read_rest(&in, &p);
	uint32_t hs = header_size[mode];
	fprintf(out, "  mode: decode a %s frame of %zu bytes (%u-byte header)\n", mode_names[mode],
		n, hs);
	if (n < hs) {
		nub_fuzz_hexdump(out, p, n, 64);
		return;
	}
	uint32_t f0 = nub_le32(p), f1 = nub_le32(p + 4), f2 = hs > 8 ? nub_le32(p + 8) : 0,
		 f3 = hs > 12 ? nub_le32(p + 12) : 0;
	uint64_t declared;
	if (mode == WIRE_REQUEST) {
		fprintf(out, "  fn_id %u, payload_len %u\n", f0, f1);
		declared = f1;
	} else if (mode == WIRE_RESPONSE) {
		fprintf(out, "  status %u, payload_len %u, msg_len %u\n", f0, f1, f2);
		declared = (uint64_t)f1 + f2;
	} else {
		fprintf(out, "  level %u, line %u (0x%x), file_len %u, msg_len %u\n", f0, f1, f1,
			f2, f3);
		declared = (uint64_t)f2 + f3;
	}
	fprintf(out, "  declared variable bytes %llu, present %zu\n", (unsigned long long)declared,
		n - hs);
	nub_fuzz_hexdump(out, p + hs, n - hs, 128);
}
