/*
 * nub-seedgen OUT_DIR [--guest-dir DIR]: writes the seed corpus of every pure fuzz target into
 * OUT_DIR/<target>/seed-<what>, encoding each input with the engine's own frame encoders and the
 * formats of fuzz/fuzz_formats.h. With --guest-dir, fuzz_elf also gets the built guests
 * (dummy.elf, simple.elf) as seeds, reduced to their loadable view (section headers and
 * everything after the last segment dropped) so they do not depend on build paths.
 * Output is deterministic: `ctest -R seeds-match` regenerates and compares with corpus/.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf.h" /* engine/src/elf.h (quote include), not the system <elf.h> above */
#include "fuzz_formats.h"
#include "fuzz_output.h"
#include "nub/abi.h"
#include "wire.h"

static const char *out_dir;
static unsigned written_count;

__attribute__((noreturn)) static void die(const char *what, const char *detail)
{
	fprintf(stderr, "nub-seedgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		die(path, strerror(errno));
}

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", out_dir, target);
	make_dir(path);
	snprintf(path, sizeof path, "%s/%s/seed-%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		die(path, strerror(errno));
	written_count++;
}

static void emit(const char *target, const char *name, struct fuzz_output *o)
{
	write_seed(target, name, o->data, o->len);
	fuzz_output_free(o);
}

/* ---- fuzz_wire ---- */

static void wire_frame(const char *name, enum fuzz_wire_mode mode, const uint8_t *frame, size_t n)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u8(&o, (uint8_t)mode);
	fuzz_write_bytes(&o, frame, n);
	emit("fuzz_wire", name, &o);
}

static void wire_request(const char *name, uint32_t fn_id, const char *payload, int extra)
{
	uint8_t buf[256];
	size_t n;

	if (nub_wire_encode_request(buf, sizeof buf, fn_id, (const uint8_t *)payload,
				    strlen(payload), &n, NULL) != NUB_OK)
		die("encode request", name);
	for (int i = 0; i < extra; i++)
		buf[n++] = 0xee;
	wire_frame(name, WIRE_REQUEST, buf, n);
}

static void wire_response(const char *name, uint32_t status, const char *payload, const char *msg)
{
	uint8_t buf[256];
	size_t n;

	if (nub_wire_encode_response(buf, sizeof buf, status, (const uint8_t *)payload,
				     strlen(payload), msg, strlen(msg), &n, NULL) != NUB_OK)
		die("encode response", name);
	wire_frame(name, WIRE_RESPONSE, buf, n);
}

static void wire_log(const char *name, uint32_t level, uint32_t line, const char *file,
		     const char *msg)
{
	uint8_t buf[256];
	size_t n;

	if (nub_wire_encode_log(buf, sizeof buf, level, line, file, strlen(file), msg, strlen(msg),
				&n, NULL) != NUB_OK)
		die("encode log", name);
	wire_frame(name, WIRE_LOG, buf, n);
}

static void wire_encode(const char *name, unsigned kind, uint32_t a, uint32_t line,
			const char *p1, const char *p2)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u8(&o, WIRE_ENCODE);
	fuzz_write_u8(&o, (uint8_t)kind);
	fuzz_write_u32(&o, a);
	fuzz_write_u32(&o, line);
	fuzz_write_u16(&o, (uint16_t)strlen(p1));
	fuzz_write_u16(&o, (uint16_t)strlen(p2));
	fuzz_write_bytes(&o, p1, strlen(p1));
	fuzz_write_bytes(&o, p2, strlen(p2));
	emit("fuzz_wire", name, &o);
}

static void seeds_wire(void)
{
	uint8_t raw[32];

	wire_request("request-empty", 1, "", 0);
	wire_request("request-payload", 7, "hello", 0);
	wire_request("request-trailing-byte", 7, "hello", 1);
	wire_frame("request-short-header", WIRE_REQUEST, (const uint8_t *)"\x01\x00\x00\x00\x05", 5);
	memcpy(raw, "\x01\x00\x00\x00\xff\xff\xff\xff" "abcd", 12);
	wire_frame("request-payload-len-overflow", WIRE_REQUEST, raw, 12);

	wire_response("response-ok", NUB_STATUS_OK, "result", "");
	wire_response("response-guest-error", NUB_STATUS_GUEST_ERROR, "", "guest error");
	wire_response("response-payload-and-message", NUB_STATUS_HOST_ERROR, "\x01\x02", "why");
	memcpy(raw, "\x00\x00\x00\x00\x02\x00\x00\x00\xff\xff\xff\xff" "ab", 14);
	wire_frame("response-msg-len-overflow", WIRE_RESPONSE, raw, 14);
	memcpy(raw, "\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00" "ab", 14);
	wire_frame("response-payload-past-end", WIRE_RESPONSE, raw, 14);

	wire_log("log-error", NUB_LEVEL_ERROR, 12, "main.c", "something failed");
	wire_log("log-trace", NUB_LEVEL_TRACE, 7, "runtime/io.c", "trace");
	wire_log("log-empty-strings", NUB_LEVEL_INFO, 0, "", "");
	wire_log("log-level-0", 0, 1, "a.c", "off is not a level");
	wire_log("log-level-6", 6, 1, "a.c", "above trace");
	memcpy(raw, "\x03\x00\x00\x00\x01\x00\x00\x00\xff\xff\xff\xff\x01\x00\x00\x00" "ab", 18);
	wire_frame("log-file-len-overflow", WIRE_LOG, raw, 18);

	wire_encode("encode-request", 0, 42, 0, "payload", "");
	wire_encode("encode-response", 1, NUB_STATUS_OK, 0, "out", "message");
	wire_encode("encode-log", 2, NUB_LEVEL_WARN, 99, "guest.c", "careful");
	wire_encode("encode-log-bad-level", 2, 9, 99, "guest.c", "level 9");
}

/* ---- fuzz_iobuf ---- */

static void iobuf_begin(struct fuzz_output *o, unsigned size, uint8_t flags)
{
	fuzz_write_u8(o, (uint8_t)((size - 16) / 8));
	fuzz_write_u8(o, flags);
}

static void iobuf_push(struct fuzz_output *o, const void *data, size_t n)
{
	fuzz_write_u8(o, IOBUF_PUSH);
	fuzz_write_u16(o, (uint16_t)n);
	fuzz_write_bytes(o, data, n);
}

static void iobuf_pop(struct fuzz_output *o, uint16_t cap)
{
	fuzz_write_u8(o, IOBUF_POP);
	fuzz_write_u16(o, cap);
}

static void iobuf_poke(struct fuzz_output *o, uint16_t off, uint64_t v)
{
	fuzz_write_u8(o, IOBUF_POKE);
	fuzz_write_u16(o, off);
	fuzz_write_u64(o, v);
}

static void seeds_iobuf(void)
{
	struct fuzz_output o = { 0 };
	uint8_t image[48];

	iobuf_begin(&o, 256, 0);
	iobuf_push(&o, "hello", 5);
	iobuf_pop(&o, 64);
	emit("fuzz_iobuf", "push-pop", &o);

	iobuf_begin(&o, 256, 0);
	iobuf_push(&o, "", 0);
	iobuf_push(&o, "a", 1);
	iobuf_push(&o, "seven.7", 7);
	iobuf_push(&o, "eight..8", 8);
	iobuf_push(&o, "thirteen.13", 11);
	for (int i = 0; i < 6; i++)
		iobuf_pop(&o, 64);
	emit("fuzz_iobuf", "push-pop-many", &o);

	iobuf_begin(&o, 32, 0);
	iobuf_push(&o, "0123456789abcdef", 16);
	iobuf_push(&o, "", 0);
	iobuf_pop(&o, 16);
	iobuf_push(&o, "0123456789abcdefg", 17);
	emit("fuzz_iobuf", "fill-to-full", &o);

	iobuf_begin(&o, 16, 0);
	iobuf_pop(&o, 16);
	iobuf_push(&o, "x", 1);
	emit("fuzz_iobuf", "pop-empty-tiny", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "twenty bytes of data", 20);
	iobuf_pop(&o, 4);
	iobuf_pop(&o, 20);
	emit("fuzz_iobuf", "pop-cap-too-small", &o);

	iobuf_begin(&o, 64, 0);
	iobuf_push(&o, "", 0);
	iobuf_pop(&o, 0);
	iobuf_push(&o, "abc", 3);
	iobuf_pop(&o, 0);
	emit("fuzz_iobuf", "pop-null-destination", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "data", 4);
	iobuf_poke(&o, 0, 0xffffffffffffff00ull);
	iobuf_push(&o, "more", 4);
	iobuf_pop(&o, 64);
	emit("fuzz_iobuf", "corrupt-sp-high", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_poke(&o, 0, 3);
	iobuf_push(&o, "data", 4);
	iobuf_pop(&o, 64);
	emit("fuzz_iobuf", "corrupt-sp-low", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "12345678", 8);
	iobuf_poke(&o, 16, 0x7fffffffffffffffull); /* the back-pointer of the element */
	iobuf_pop(&o, 64);
	iobuf_poke(&o, 16, 20); /* back-pointer past sp - 8 */
	iobuf_pop(&o, 64);
	emit("fuzz_iobuf", "corrupt-back-pointer", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "abcde", 5);       /* sp = 8 + 5 + 8 = 21: unaligned */
	iobuf_push(&o, "xyz", 3);         /* back-pointer at an odd offset */
	iobuf_pop(&o, 8);
	iobuf_pop(&o, 8);
	emit("fuzz_iobuf", "unaligned-elements", &o);

	memset(image, 0, sizeof image);
	image[0] = 40;  /* sp */
	image[32] = 16; /* back-pointer at sp - 8 */
	memcpy(image + 16, "imagedat", 8);
	iobuf_begin(&o, 48, IOBUF_FLAG_IMAGE);
	fuzz_write_bytes(&o, image, sizeof image);
	iobuf_pop(&o, 64);
	iobuf_pop(&o, 64);
	iobuf_push(&o, "after", 5);
	emit("fuzz_iobuf", "guest-image", &o);

	iobuf_begin(&o, 64, IOBUF_FLAG_MISALIGN);
	iobuf_push(&o, "odd", 3);
	iobuf_push(&o, "address", 7);
	iobuf_pop(&o, 16);
	fuzz_write_u8(&o, IOBUF_POKE8);
	fuzz_write_u16(&o, 0);
	fuzz_write_u8(&o, 0x40);
	iobuf_pop(&o, 16);
	emit("fuzz_iobuf", "misaligned-buffer", &o);

	iobuf_begin(&o, 64, 0);
	iobuf_push(&o, "before", 6);
	fuzz_write_u8(&o, IOBUF_RESET);
	iobuf_pop(&o, 16);
	iobuf_push(&o, "after", 5);
	iobuf_pop(&o, 16);
	emit("fuzz_iobuf", "reset-mid-stream", &o);
}

/* ---- fuzz_outb_decode ---- */

#define SIZES(in, out) ((uint8_t)((in) | (out) << 2)) /* indices into OUTB_SIZES */
#define BIG 3u
#define IDX_512 2u
#define IDX_16 0u

static void outb_begin(struct fuzz_output *o, uint8_t level, uint8_t sizes, uint8_t fail_at)
{
	fuzz_write_u8(o, level);
	fuzz_write_u8(o, sizes);
	fuzz_write_u8(o, fail_at);
}

static void outb_out(struct fuzz_output *o, enum fuzz_outb_op op, uint32_t v)
{
	fuzz_write_u8(o, (uint8_t)op);
	fuzz_write_u32(o, v);
}

static void outb_raw(struct fuzz_output *o, uint16_t port, uint8_t size, uint32_t v)
{
	fuzz_write_u8(o, OUTB_OUT_RAW);
	fuzz_write_u16(o, port);
	fuzz_write_u8(o, size);
	fuzz_write_u32(o, v);
}

static void outb_bytes(struct fuzz_output *o, enum fuzz_outb_op op, const void *p, size_t n)
{
	fuzz_write_u8(o, (uint8_t)op);
	fuzz_write_u16(o, (uint16_t)n);
	fuzz_write_bytes(o, p, n);
}

static void outb_push_log(struct fuzz_output *o, uint8_t level, uint32_t line, const char *file,
			  const char *msg)
{
	fuzz_write_u8(o, OUTB_PUSH_LOG);
	fuzz_write_u8(o, level);
	fuzz_write_u32(o, line);
	fuzz_write_u8(o, (uint8_t)strlen(file));
	fuzz_write_u16(o, (uint16_t)strlen(msg));
	fuzz_write_bytes(o, file, strlen(file));
	fuzz_write_bytes(o, msg, strlen(msg));
}

static void outb_push_request(struct fuzz_output *o, uint32_t fn_id, const void *p, size_t n)
{
	fuzz_write_u8(o, OUTB_PUSH_REQUEST);
	fuzz_write_u32(o, fn_id);
	fuzz_write_u16(o, (uint16_t)n);
	fuzz_write_bytes(o, p, n);
}

static void outb_host_call(struct fuzz_output *o, uint32_t fn_id, const void *p, size_t n)
{
	outb_push_request(o, fn_id, p, n);
	outb_out(o, OUTB_OUT_HOST_CALL, 0);
	fuzz_write_u8(o, OUTB_POP_INPUT);
}

/* An abort stream: (n) bytes then the terminator, 3 bytes per write. */
static void outb_abort(struct fuzz_output *o, const void *p, size_t n)
{
	outb_bytes(o, OUTB_ABORT_BYTES, p, n);
	outb_out(o, OUTB_OUT_ABORT, 1 | NUB_ABORT_TERMINATOR << 8);
}

static void seeds_outb(void)
{
	const char *t = "fuzz_outb_decode";
	struct fuzz_output o = { 0 };
	uint8_t big[1100];

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_HALT, 0);
	emit(t, "halt", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_abort(&o, "\x01" "boom", 5);
	emit(t, "abort-panic", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_abort(&o, "\x02\x0e" "page fault at 0x0", 19);
	emit(t, "abort-exception-vector", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_abort(&o, "\x01" "tab\there\x01\x7f" "nl\n", 14);
	emit(t, "abort-control-bytes", &o);

	memset(big, 'A', sizeof big);
	big[0] = NUB_ABORT_PANIC;
	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_ABORT_BYTES, big, sizeof big);
	emit(t, "abort-truncated-1024", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_ABORT, 0x41414100);
	emit(t, "abort-bad-byte-count", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_FEED_ABORT, 0x780d0203); /* exception, vector 13, 'x' */
	outb_out(&o, OUTB_FEED_ABORT, 0x00ff7902); /* 'y', terminator */
	outb_out(&o, OUTB_FEED_ABORT, 0x00000004); /* bad count */
	outb_out(&o, OUTB_FEED_ABORT, 0x69680103); /* panic "hi" */
	outb_out(&o, OUTB_FEED_ABORT, 0x0000ff01);
	outb_out(&o, OUTB_FEED_ABORT, 0x0000ff01); /* empty stream */
	emit(t, "abort-feed-direct", &o);

	outb_begin(&o, NUB_LEVEL_INFO, SIZES(BIG, BIG), 0);
	outb_push_log(&o, NUB_LEVEL_INFO, 7, "guest.c", "hello from the guest");
	outb_out(&o, OUTB_OUT_LOG, 0);
	outb_push_log(&o, NUB_LEVEL_ERROR, 8, "", "");
	outb_out(&o, OUTB_OUT_LOG, 0);
	outb_out(&o, OUTB_OUT_HALT, 0);
	emit(t, "log-delivered", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_push_log(&o, NUB_LEVEL_TRACE, 1, "guest.c", "filtered out");
	outb_out(&o, OUTB_OUT_LOG, 0);
	outb_out(&o, OUTB_OUT_HALT, 0);
	emit(t, "log-filtered", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_push_log(&o, 9, 1, "guest.c", "level 9");
	outb_out(&o, OUTB_OUT_LOG, 0);
	emit(t, "log-bad-level", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_LOG, 0);
	emit(t, "log-empty-buffer", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PUSH_RAW, "\x03\x00\x00\x00garbage", 11);
	outb_out(&o, OUTB_OUT_LOG, 0);
	emit(t, "log-garbage-frame", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_push_log(&o, NUB_LEVEL_WARN, 3, "guest.c", "sp is rewritten");
	fuzz_write_u8(&o, OUTB_POKE_OUTPUT);
	fuzz_write_u16(&o, 0);
	fuzz_write_u64(&o, 0x100000);
	outb_out(&o, OUTB_OUT_LOG, 0);
	emit(t, "log-corrupt-sp", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_host_call(&o, OUTB_FN_ECHO, "ping", 4);
	outb_out(&o, OUTB_OUT_HALT, 0);
	emit(t, "host-call-echo", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_push_request(&o, OUTB_FN_ECHO, "first", 5);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	outb_push_request(&o, OUTB_FN_ECHO, "second", 6);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	fuzz_write_u8(&o, OUTB_POP_INPUT);
	fuzz_write_u8(&o, OUTB_POP_INPUT);
	fuzz_write_u8(&o, OUTB_POP_INPUT); /* nothing left */
	emit(t, "host-calls-stacked", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_host_call(&o, 77, "x", 1);
	emit(t, "host-call-unknown-fn", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_host_call(&o, OUTB_FN_FAIL, "please", 6);
	emit(t, "host-call-host-error", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(IDX_512, BIG), 0);
	outb_host_call(&o, OUTB_FN_GROW, "0123456789", 10);
	emit(t, "host-call-response-too-large", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(IDX_16, BIG), 0);
	outb_host_call(&o, OUTB_FN_ECHO, "no room", 7);
	emit(t, "host-call-input-too-small", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 2);
	outb_host_call(&o, OUTB_FN_ECHO, "copy fails", 10);
	emit(t, "host-call-alloc-fail-copy", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 3);
	outb_host_call(&o, OUTB_FN_ECHO, "echo fails", 10);
	emit(t, "host-call-alloc-fail-echo", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PUSH_RAW, "\x01\x00\x00", 3);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	emit(t, "host-call-short-frame", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, IDX_512), 0);
	outb_push_request(&o, OUTB_FN_ECHO, "abc", 3);
	fuzz_write_u8(&o, OUTB_POKE_OUTPUT);
	fuzz_write_u16(&o, 19);  /* the element's back-pointer */
	fuzz_write_u64(&o, 2);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	emit(t, "host-call-corrupt-back-pointer", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PRINT_BYTES, "hello, world\n", 13);
	outb_out(&o, OUTB_OUT_HALT, 0);
	emit(t, "print-line", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_PRINT, 0xe9);
	outb_out(&o, OUTB_OUT_PRINT, 0x20ac);
	outb_out(&o, OUTB_OUT_PRINT, 0x1f600);
	outb_out(&o, OUTB_OUT_PRINT, '\n');
	outb_out(&o, OUTB_OUT_PRINT, 0x7ff);
	emit(t, "print-unicode", &o);

	memset(big, 'x', sizeof big);
	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PRINT_BYTES, big, sizeof big);
	emit(t, "print-long-line", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_PRINT, 'a');
	outb_out(&o, OUTB_OUT_PRINT, 0xd800);
	emit(t, "print-surrogate", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_PRINT, 0x110000);
	emit(t, "print-above-unicode", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_raw(&o, 0x3f8, 1, 'A');
	emit(t, "port-unknown", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_raw(&o, NUB_PORT_LOG, 2, 0);
	emit(t, "port-wrong-size", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_raw(&o, NUB_PORT_HALT, 1, 0);
	emit(t, "port-halt-byte", &o);
}

/* ---- fuzz_elf ---- */

struct seg {
	uint32_t type;
	uint32_t flags;
	uint64_t vaddr;
	uint64_t memsz; /* 0: the data length */
	uint64_t align;
	const void *data;
	size_t len;
	uint64_t filesz;   /* 0: the data length */
	uint64_t offset;   /* 0: where the data lands */
};

struct elf_opts {
	uint8_t ei_class;
	uint16_t e_type;
	uint16_t e_machine;
	uint64_t phoff; /* 0: right after the header */
	size_t truncate; /* 0: whole file */
	bool bad_magic;
};

static const uint8_t guest_code[] = {
	0xb8, 0x00, 0x00, 0x00, 0x00, /* mov $0, %eax */
	0xe7, 0x6c,                   /* out %eax, $108 (halt port) */
	0xf4,                         /* hlt */
};

/* A NUB_NOTE_NAME note of type NUB_NOTE_TYPE_ABI carrying (version), with (descsz). */
static size_t make_note(uint8_t *buf, uint32_t version, uint32_t descsz)
{
	uint32_t hdr[3] = { sizeof(NUB_NOTE_NAME), descsz, NUB_NOTE_TYPE_ABI };

	memcpy(buf, hdr, sizeof hdr);
	memcpy(buf + 12, NUB_NOTE_NAME "\0\0\0\0", 4 + 4);
	memcpy(buf + 16, &version, 4);
	return 20;
}

static void build_elf(const char *name, uint64_t entry, const struct seg *segs, size_t n,
		      const struct elf_opts *opt)
{
	struct elf_opts none = { 0 };
	struct fuzz_output o = { 0 };
	Elf64_Ehdr eh;
	uint64_t offsets[32];
	uint64_t pos = sizeof eh + n * sizeof(Elf64_Phdr);

	if (!opt)
		opt = &none;
	for (size_t i = 0; i < n; i++) {
		pos = (pos + 15) & ~(uint64_t)15;
		offsets[i] = pos;
		pos += segs[i].len;
	}
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	if (opt->bad_magic)
		eh.e_ident[EI_MAG1] = 'X';
	eh.e_ident[EI_CLASS] = opt->ei_class ? opt->ei_class : ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = opt->e_type ? opt->e_type : ET_EXEC;
	eh.e_machine = opt->e_machine ? opt->e_machine : EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = opt->phoff ? opt->phoff : sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)n;
	fuzz_write_bytes(&o, &eh, sizeof eh);
	for (size_t i = 0; i < n; i++) {
		Elf64_Phdr ph;
		memset(&ph, 0, sizeof ph);
		ph.p_type = segs[i].type;
		ph.p_flags = segs[i].flags;
		ph.p_offset = segs[i].offset ? segs[i].offset : offsets[i];
		ph.p_vaddr = ph.p_paddr = segs[i].vaddr;
		ph.p_filesz = segs[i].filesz ? segs[i].filesz : segs[i].len;
		ph.p_memsz = segs[i].memsz ? segs[i].memsz : segs[i].len;
		ph.p_align = segs[i].align ? segs[i].align : (segs[i].type == PT_NOTE ? 4 : 0x1000);
		fuzz_write_bytes(&o, &ph, sizeof ph);
	}
	for (size_t i = 0; i < n; i++) {
		while (o.len < offsets[i])
			fuzz_write_u8(&o, 0);
		fuzz_write_bytes(&o, segs[i].data, segs[i].len);
	}
	if (opt->truncate && opt->truncate < o.len)
		o.len = opt->truncate;
	emit("fuzz_elf", name, &o);
}

#define CODE(va) { .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = (va), \
		      .data = guest_code, .len = sizeof guest_code }
#define NOTE(buf) { .type = PT_NOTE, .flags = PF_R, .data = (buf), .len = 20 }

static void seeds_elf_crafted(void)
{
	uint8_t note[20], note_v2[20], note_bad_desc[20], note8[24];
	static const uint8_t rodata[] = "read-only data";
	static const uint8_t data[16] = "initialised";

	make_note(note, NUB_ABI_VERSION, 4);
	make_note(note_v2, NUB_ABI_VERSION + 1, 4);
	make_note(note_bad_desc, NUB_ABI_VERSION, 0x7fffffff);
	make_note(note8, NUB_ABI_VERSION, 4);
	memset(note8 + 20, 0, 4);

	{
		struct seg s[] = { CODE(0x4000), NOTE(note) };
		build_elf("minimal", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = {
			CODE(0x4000),
			{ .type = PT_LOAD, .flags = PF_R, .vaddr = 0x5000, .data = rodata,
			  .len = sizeof rodata },
			{ .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x6000, .data = data,
			  .len = sizeof data, .memsz = 0x1800 },
			NOTE(note),
		};
		build_elf("code-rodata-data-bss", 0x4004, s, 4, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_NOTE, .flags = PF_R, .data = note8, .len = 24,
				     .align = 8 } };
		build_elf("note-aligned-8", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000) };
		build_elf("no-abi-note", 0x4000, s, 1, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000), NOTE(note_v2) };
		build_elf("abi-version-mismatch", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000), NOTE(note_bad_desc) };
		build_elf("note-descsz-past-end", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = { { .type = PT_LOAD, .flags = PF_R | PF_W | PF_X, .vaddr = 0x4000,
				     .data = guest_code, .len = sizeof guest_code },
				   NOTE(note) };
		build_elf("writable-and-executable", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R, .vaddr = 0x4004, .data = rodata,
				     .len = sizeof rodata },
				   NOTE(note) };
		build_elf("overlapping-segments", 0x4000, s, 3, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x4800,
				     .data = data, .len = sizeof data },
				   NOTE(note) };
		build_elf("page-shared-by-permissions", 0x4000, s, 3, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = 0x4100,
				     .data = rodata, .len = sizeof rodata },
				   NOTE(note) };
		build_elf("page-shared-same-permissions", 0x4100, s, 3, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000), NOTE(note) };
		build_elf("entry-outside-segments", 0x9000, s, 2, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x6000,
				     .data = data, .len = sizeof data },
				   NOTE(note) };
		build_elf("entry-in-data", 0x6004, s, 3, NULL);
	}
	{
		struct seg s[] = { CODE(0x1000), NOTE(note) };
		build_elf("below-primary-base", 0x1000, s, 2, NULL);
	}
	{
		struct seg s[] = { { .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = 0x4000,
				     .data = guest_code, .len = sizeof guest_code, .memsz = 4 },
				   NOTE(note) };
		build_elf("filesz-above-memsz", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = { { .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = 0x4000,
				     .data = guest_code, .len = sizeof guest_code,
				     .filesz = 0x100000 },
				   NOTE(note) };
		build_elf("file-range-past-end", 0x4000, s, 2, NULL);
	}
	{
		struct seg s[] = { { .type = PT_LOAD, .flags = PF_R | PF_X,
				     .vaddr = NUB_ELF_MAX_IMAGE_END - 4, .data = guest_code,
				     .len = sizeof guest_code },
				   NOTE(note) };
		build_elf("past-image-limit", NUB_ELF_MAX_IMAGE_END - 4, s, 2, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x5000,
				     .data = data, .len = sizeof data, .memsz = 2u << 20 },
				   NOTE(note) };
		build_elf("bss-2mib", 0x4000, s, 3, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x5000,
				     .data = data, .len = sizeof data, .memsz = 64u << 20 },
				   NOTE(note) };
		build_elf("bss-64mib-not-loaded", 0x4000, s, 3, NULL);
	}
	{
		struct seg s[17];
		for (unsigned i = 0; i < 17; i++)
			s[i] = (struct seg){ .type = PT_LOAD, .flags = i ? PF_R : PF_R | PF_X,
					     .vaddr = 0x4000 + 0x1000 * (uint64_t)i,
					     .data = guest_code, .len = sizeof guest_code };
		build_elf("sixteen-loads", 0x4000, s, 16, NULL);
		s[16] = (struct seg)NOTE(note);
		build_elf("sixteen-loads-and-note", 0x4000, s, 17, NULL);
		s[16] = s[15];
		s[16].vaddr += 0x1000;
		build_elf("seventeen-loads", 0x4000, s, 17, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000), NOTE(note) };
		build_elf("phoff-past-end", 0x4000, s, 2, &(struct elf_opts){ .phoff = 0x10000 });
		build_elf("truncated-header", 0x4000, s, 2, &(struct elf_opts){ .truncate = 40 });
		build_elf("truncated-phdrs", 0x4000, s, 2, &(struct elf_opts){ .truncate = 100 });
		build_elf("bad-magic", 0x4000, s, 2, &(struct elf_opts){ .bad_magic = true });
		build_elf("elfclass32", 0x4000, s, 2, &(struct elf_opts){ .ei_class = ELFCLASS32 });
		build_elf("e-type-dyn", 0x4000, s, 2, &(struct elf_opts){ .e_type = ET_DYN });
		build_elf("e-machine-386", 0x4000, s, 2, &(struct elf_opts){ .e_machine = EM_386 });
	}
	{
		struct seg s[] = { { .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = 0x4000,
				     .data = guest_code, .len = 0, .memsz = 0 },
				   NOTE(note) };
		build_elf("empty-segment", 0x4000, s, 2, NULL);
	}
}

/*
 * A built guest reduced to its loadable view: the bytes up to the end of the last program header
 * or segment, with the section header fields cleared. Debug info and symbols (which hold build
 * paths) are dropped; everything nub_elf_parse reads is kept.
 */
static void seed_guest(const char *guest_dir, const char *guest)
{
	char path[4096], name[64];
	FILE *f;
	long size = 0;

	snprintf(path, sizeof path, "%s/%s.elf", guest_dir, guest);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < (long)sizeof(Elf64_Ehdr) ||
	    fseek(f, 0, SEEK_SET) != 0)
		die(path, "cannot read the guest (build it first)");
	uint8_t *buf = malloc((size_t)size);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
		die(path, "short read");
	fclose(f);

	Elf64_Ehdr eh;
	memcpy(&eh, buf, sizeof eh);
	uint64_t end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || end > (uint64_t)size)
		die(path, "not an ELF file with program headers inside it");
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, buf + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	if (end > (uint64_t)size)
		die(path, "a segment runs past the end of the file");
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = 0;
	memcpy(buf, &eh, sizeof eh);
	snprintf(name, sizeof name, "guest-%s", guest);
	write_seed("fuzz_elf", name, buf, (size_t)end);
	free(buf);
}

int main(int argc, char **argv)
{
	const char *guest_dir = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--guest-dir") == 0 && i + 1 < argc)
			guest_dir = argv[++i];
		else if (argv[i][0] != '-' && !out_dir)
			out_dir = argv[i];
		else
			out_dir = NULL, i = argc;
	}
	if (!out_dir) {
		fprintf(stderr, "usage: nub-seedgen OUT_DIR [--guest-dir DIR]\n"
				"Writes OUT_DIR/<target>/seed-* for every pure fuzz target.\n");
		return 2;
	}
	make_dir(out_dir);
	seeds_wire();
	seeds_iobuf();
	seeds_outb();
	seeds_elf_crafted();
	if (guest_dir) {
		seed_guest(guest_dir, "dummy");
		seed_guest(guest_dir, "simple");
	}
	printf("nub-seedgen: %u seeds written to %s\n", written_count, out_dir);
	return 0;
}
