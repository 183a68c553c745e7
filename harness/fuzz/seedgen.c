/*
 * nub-seedgen OUT_DIR [--guest-dir DIR] [--no-kvm]: writes the seed corpus of every fuzz target
 * into OUT_DIR/<target>/seed-<what>, encoding each input with the engine's own encoders (frames,
 * snapshot files), the formats of fuzz_formats.h and the `fuzz` guest's program encoder
 * (fuzz_cmds_codec.h). With --guest-dir, fuzz_elf and fuzz_guest_blob also get the built guests
 * (dummy.elf, simple.elf, fuzz.elf) as seeds, reduced to their loadable view (section headers and
 * everything after the last segment dropped) so they do not depend on build paths; and when
 * /dev/kvm can be opened, the snapshot targets get real snapshots of `simple` and `dummy` taken
 * after their init (seed-kvm-*, unless --no-kvm; the line "kvm seeds: generated|skipped" tells
 * harness/scripts/seeds.sh). Output is deterministic: `ctest -R seeds-match` regenerates and compares with
 * corpus/.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "fuzz_cmds_codec.h"
#include "fuzz_formats.h"
#include "fuzz_output.h"
#include "guest_elf.h"
#include "host_fns.h"
#include "layout.h"
#include "nub/abi.h"
#include "simple_fns.h"
#include "snapshot.h"
#include "snapshot_repair.h"
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

/* Appends an ELF file made of (segs) to (o); (opt) NULL: a well-formed file. */
static void encode_elf(struct fuzz_output *o, uint64_t entry, const struct seg *segs, size_t n,
		       const struct elf_opts *opt)
{
	struct elf_opts none = { 0 };
	size_t start = o->len;
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
	fuzz_write_bytes(o, &eh, sizeof eh);
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
		fuzz_write_bytes(o, &ph, sizeof ph);
	}
	for (size_t i = 0; i < n; i++) {
		while (o->len - start < offsets[i])
			fuzz_write_u8(o, 0);
		fuzz_write_bytes(o, segs[i].data, segs[i].len);
	}
	if (opt->truncate && opt->truncate < o->len - start)
		o->len = start + opt->truncate;
}

static void build_elf(const char *name, uint64_t entry, const struct seg *segs, size_t n,
		      const struct elf_opts *opt)
{
	struct fuzz_output o = { 0 };

	encode_elf(&o, entry, segs, n, opt);
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
static uint8_t *guest_view(const char *guest_dir, const char *guest, size_t *len)
{
	char path[4096];
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
	*len = (size_t)end;
	return buf;
}

static void seed_guest(const char *guest_dir, const char *guest)
{
	char name[64];
	size_t len;
	uint8_t *buf = guest_view(guest_dir, guest, &len);

	snprintf(name, sizeof name, "guest-%s", guest);
	write_seed("fuzz_elf", name, buf, len);
	free(buf);
}

/* ---- fuzz_outb: programs of the `fuzz` guest (fuzz_cmds_codec.h) ---- */

static struct fuzz_prog prog;

static void prog_check(bool ok)
{
	if (!ok)
		die("fuzz_prog", "out of memory");
}

static void prog_emit(const char *name)
{
	write_seed("fuzz_outb", name, prog.buf, prog.len);
	fuzz_prog_free(&prog);
	fuzz_prog_init(&prog);
}

static void seeds_fuzz_outb(void)
{
	static const char hello[] = "hello from the fuzz guest";
	uint8_t sp[8], elem[24], big[2048];

	fuzz_prog_init(&prog);
	prog_emit("empty");

	prog_check(fuzz_prog_respond(&prog, "pong", 4));
	prog_emit("respond");

	prog_check(fuzz_prog_host_call(&prog, 1, "echo me", 7));
	prog_check(fuzz_prog_host_call(&prog, 2, "upper me", 8));
	prog_check(fuzz_prog_respond(&prog, "done", 4));
	prog_emit("host-call-echo-upper");

	prog_check(fuzz_prog_host_call(&prog, 3, "fail me", 7));
	prog_check(fuzz_prog_host_call(&prog, 4, "huge", 4));
	prog_check(fuzz_prog_host_call(&prog, 99, "nobody", 6));
	prog_emit("host-call-fail-huge-unregistered");

	memset(big, 'b', sizeof big);
	prog_check(fuzz_prog_host_call(&prog, 1, big, sizeof big));
	prog_check(fuzz_prog_respond(&prog, big, 512));
	prog_emit("host-call-2k-respond-512");

	for (uint8_t level = 0; level <= 6; level++)
		prog_check(fuzz_prog_log(&prog, level, hello, sizeof hello - 1));
	prog_emit("log-levels-0-to-6");

	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_ERROR, "", 0));
	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_WARN, big, sizeof big));
	prog_emit("log-empty-and-long");

	prog_check(fuzz_prog_debug_print(&prog, "hello, world\n", 13));
	prog_check(fuzz_prog_debug_print(&prog, "\xe9\xff\x7f\x00 no newline", 15));
	prog_emit("debug-print");

	prog_check(fuzz_prog_abort(&prog, NUB_ABORT_PANIC, "boom", 4));
	prog_emit("abort-panic");

	prog_check(fuzz_prog_abort(&prog, NUB_ABORT_EXCEPTION, "\x0e" "fake page fault", 16));
	prog_emit("abort-exception-code");

	prog_check(fuzz_prog_abort(&prog, NUB_ABORT_OUT_OF_MEMORY, "\xff\xff\xff", 3));
	prog_emit("abort-oom-0xff-bytes");

	for (uint8_t kind = 0; kind < FUZZ_EXC_COUNT; kind++) {
		static const char *const names[FUZZ_EXC_COUNT] = {
			"exception-divide", "exception-ud2", "exception-gp", "exception-null",
			"exception-write-code", "exception-exec-data", "exception-stack-overflow",
		};
		prog_check(fuzz_prog_exception(&prog, kind));
		prog_emit(names[kind]);
	}

	prog_check(fuzz_prog_spin(&prog, 100));
	prog_check(fuzz_prog_respond(&prog, "after spin", 10));
	prog_emit("spin-100");

	prog_check(fuzz_prog_spin(&prog, FUZZ_SPIN_FOREVER));
	prog_emit("spin-forever");

	prog_check(fuzz_prog_push_output(&prog, "\0\0\0\0\0\0\0\0\0\0\0\0", 12));
	prog_check(fuzz_prog_halt(&prog));
	prog_emit("halt-mid-call");

	prog_check(fuzz_prog_hlt(&prog));
	prog_check(fuzz_prog_respond(&prog, "resumed?", 8));
	prog_emit("hlt-mid-call");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, 'A'));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, 0x1f600));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, '\n'));
	prog_check(fuzz_prog_respond(&prog, "printed", 7));
	prog_emit("out-debug-print-scalars");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, 0xd800));
	prog_emit("out-debug-print-surrogate");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_ABORT, 0x78020203)); /* exception, vector 2, 'x' */
	prog_check(fuzz_prog_out(&prog, NUB_PORT_ABORT, 0x0000ff01));
	prog_emit("out-abort-stream");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_ABORT, 0x41414100)); /* byte count 0 */
	prog_emit("out-abort-bad-count");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_LOG, 0));
	prog_emit("out-log-empty-output");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_HOST_CALL, 0));
	prog_emit("out-host-call-empty-output");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_HALT, 0));
	prog_emit("out-halt-empty-output");

	prog_check(fuzz_prog_out(&prog, 0x3f8, 0x41));
	prog_emit("out-unknown-port");

	prog_check(fuzz_prog_out8(&prog, NUB_PORT_LOG, 1));
	prog_emit("out8-log-port");

	prog_check(fuzz_prog_out8(&prog, NUB_PORT_HALT, 0));
	prog_emit("out8-halt-port");

	nub_put_le64(sp, 0xfffffff0u);
	prog_check(fuzz_prog_write_output(&prog, 0, sp, 8));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_HOST_CALL, 0));
	prog_emit("write-output-sp-then-host-call");

	prog_check(fuzz_prog_set_output_sp(&prog, 4));
	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_ERROR, "sp too low", 10));
	prog_emit("set-output-sp-low-then-log");

	/* A request element for fn 1 whose payload_len lies (1000, holds 4). */
	nub_put_le32(elem, 1);
	nub_put_le32(elem + 4, 1000);
	memcpy(elem + 8, "ping", 4);
	prog_check(fuzz_prog_push_output(&prog, elem, 12));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_HOST_CALL, 0));
	prog_emit("push-output-lying-request");

	/* A log element: level 9 (no such level). */
	memset(elem, 0, sizeof elem);
	nub_put_le32(elem, 9);
	nub_put_le32(elem + 4, 1);
	prog_check(fuzz_prog_push_output(&prog, elem, 16));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_LOG, 0));
	prog_emit("push-output-log-bad-level");

	prog_check(fuzz_prog_write_input(&prog, 0, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
	prog_check(fuzz_prog_host_call(&prog, 1, "after a bad input sp", 20));
	prog_emit("write-input-sp-then-host-call");

	prog_check(fuzz_prog_write_input(&prog, 16, "scribble", 8));
	prog_check(fuzz_prog_respond(&prog, "survived", 8));
	prog_emit("write-input-scribble");

	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_INFO, "start", 5));
	prog_check(fuzz_prog_debug_print(&prog, "step\n", 5));
	prog_check(fuzz_prog_host_call(&prog, 2, "mixed", 5));
	prog_check(fuzz_prog_spin(&prog, 10));
	prog_check(fuzz_prog_respond(&prog, "mixed ok", 8));
	prog_emit("mixed-well-formed");

	prog_check(fuzz_prog_respond(&prog, "before", 6));
	prog_check(fuzz_prog_raw(&prog, "\x7f\x01\x02", 3));
	prog_emit("stop-unknown-op");

	prog_check(fuzz_prog_respond(&prog, "before", 6));
	prog_check(fuzz_prog_raw(&prog, "\x01\x63\x00", 3)); /* OUT needs 6 argument bytes */
	prog_emit("stop-truncated");

	prog_check(fuzz_prog_raw(&prog, "\x0f\xff\x00" "short", 8)); /* RESPOND declares 255 */
	prog_emit("respond-length-past-end");
	fuzz_prog_free(&prog);
}

/* ---- fuzz_guest_call: one input per `simple` function ---- */

static void guest_call(const char *name, uint32_t fn, const void *payload, size_t n)
{
	struct fuzz_output o = { 0 };
	char full[96];

	fuzz_write_u32(&o, fn);
	fuzz_write_bytes(&o, payload, n);
	snprintf(full, sizeof full, "%02u-%s", fn, name);
	emit("fuzz_guest_call", full, &o);
}

static void seeds_guest_call(void)
{
	uint8_t b[16];

	guest_call("echo", SIMPLE_ECHO, "hello", 5);
	nub_put_le32(b, 2);
	nub_put_le32(b + 4, 0xffffffff);
	guest_call("add-wrapping", SIMPLE_ADD, b, 8);
	nub_put_le32(b, 300);
	guest_call("fill-300", SIMPLE_FILL, b, 4);
	nub_put_le32(b, 1);
	memcpy(b + 4, "ping", 4);
	guest_call("host-call-echo", SIMPLE_HOST_CALL, b, 8);
	nub_put_le32(b, 3);
	nub_put_le32(b + 4, 2);
	memcpy(b + 8, "abc", 3);
	guest_call("host-call-chain-upper", SIMPLE_HOST_CALL_CHAIN, b, 11);
	nub_put_le32(b, NUB_LEVEL_WARN);
	memcpy(b + 4, "careful", 7);
	guest_call("log-warn", SIMPLE_LOG, b, 11);
	guest_call("log-all", SIMPLE_LOG_ALL, "", 0);
	guest_call("debug-print", SIMPLE_DEBUG_PRINT, "hi there\n", 9);
	guest_call("abort", SIMPLE_ABORT, "\x01" "boom", 5);
	guest_call("abort-long", SIMPLE_ABORT_LONG, "", 0);
	guest_call("divide-by-zero", SIMPLE_DIVIDE_BY_ZERO, "", 0);
	guest_call("invalid-opcode", SIMPLE_INVALID_OPCODE, "", 0);
	guest_call("breakpoint", SIMPLE_BREAKPOINT, "", 0);
	guest_call("general-protection", SIMPLE_GENERAL_PROTECTION, "", 0);
	guest_call("null-deref", SIMPLE_NULL_DEREF, "", 0);
	guest_call("write-code", SIMPLE_WRITE_CODE, "", 0);
	guest_call("execute-data", SIMPLE_EXECUTE_DATA, "", 0);
	guest_call("stack-overflow", SIMPLE_STACK_OVERFLOW, "", 0);
	guest_call("heap-exhaust", SIMPLE_HEAP_EXHAUST, "", 0);
	guest_call("spin", SIMPLE_SPIN, "", 0);
	guest_call("bad-port", SIMPLE_BAD_PORT, "", 0);
	guest_call("corrupt-output-sp", SIMPLE_CORRUPT_OUTPUT_SP, "", 0);
	guest_call("corrupt-output-back", SIMPLE_CORRUPT_OUTPUT_BACK, "", 0);
	guest_call("corrupt-output-frame", SIMPLE_CORRUPT_OUTPUT_FRAME, "", 0);
	guest_call("mmio", SIMPLE_MMIO, "", 0);
	guest_call("triple-fault", SIMPLE_TRIPLE_FAULT, "", 0);
	guest_call("static-counter", SIMPLE_STATIC_COUNTER, "", 0);
	guest_call("boot-info", SIMPLE_BOOT_INFO, "", 0);
	guest_call("bad-response", SIMPLE_BAD_RESPONSE, "", 0);
	guest_call("log-bad-level", SIMPLE_LOG_BAD_LEVEL, "", 0);
	guest_call("print-bad-scalar", SIMPLE_PRINT_BAD_SCALAR, "", 0);
	guest_call("abort-bad-count", SIMPLE_ABORT_BAD_COUNT, "", 0);
	guest_call("hlt", SIMPLE_HLT, "", 0);
	guest_call("read-counter", SIMPLE_READ_COUNTER, "", 0);
	nub_put_le32(b, 4);
	nub_put_le32(b + 4, 0x55);
	guest_call("dirty-heap-pages", SIMPLE_DIRTY_HEAP_PAGES, b, 8);
	nub_put_le32(b, 100);
	guest_call("heap-alloc", SIMPLE_HEAP_ALLOC, b, 4);
	guest_call("stack-smash", SIMPLE_STACK_SMASH, "", 0);
	guest_call("buffer-scribble", SIMPLE_BUFFER_SCRIBBLE, "", 0);
	nub_put_le32(b, 0);
	nub_put_le32(b + 4, 4);
	guest_call("init-data-read", SIMPLE_INIT_DATA_READ, b, 8);
	guest_call("init-data-write", SIMPLE_INIT_DATA_WRITE, "\0\0\0\0\x01", 5);
	guest_call("init-data-exec", SIMPLE_INIT_DATA_EXEC, "\0\0\0\0", 4);
	nub_put_le64(b, 0x100000000ull);
	nub_put_le32(b + 8, 16);
	guest_call("mapped-read-unmapped", SIMPLE_MAPPED_READ, b, 12);
	b[8] = 0x77;
	guest_call("mapped-write-unmapped", SIMPLE_MAPPED_WRITE, b, 9);
	guest_call("mapped-exec-unmapped", SIMPLE_MAPPED_EXEC, b, 8);
	guest_call("enable-xsave", SIMPLE_ENABLE_XSAVE, "", 0);
	guest_call("no-such-function", 99, "x", 1);
}

/* ---- fuzz_host_call: SIMPLE_HOST_CALL payloads (u32 host fn_id, request) ---- */

static void host_call(const char *name, uint32_t fn, const void *req, size_t n)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u32(&o, fn);
	fuzz_write_bytes(&o, req, n);
	emit("fuzz_host_call", name, &o);
}

static void seeds_host_call(void)
{
	uint8_t big[2048];

	host_call("echo", 1, "hello host", 10);
	host_call("echo-empty", 1, "", 0);
	host_call("upper", 2, "Mixed Case 123 zz", 17);
	host_call("fail", 3, "please fail", 11);
	host_call("huge", 4, "x", 1);
	host_call("unregistered", 7, "anyone?", 7);
	host_call("unregistered-max", 0xffffffffu, "", 0);
	host_call("unregistered-zero", 0, "zero", 4);
	memset(big, 'q', sizeof big);
	host_call("echo-2k", 1, big, sizeof big);
	write_seed("fuzz_host_call", "short-fn-id", "\x01\x00", 2);
}

/* ---- fuzz_guest_blob: [u8 perms][u32 init_len][init][ELF] ---- */

static void blob(const char *name, uint8_t perms, const void *init, uint32_t init_len,
		 const uint8_t *elf, size_t elf_len)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u8(&o, perms);
	fuzz_write_u32(&o, init_len);
	fuzz_write_bytes(&o, init, init_len);
	fuzz_write_bytes(&o, elf, elf_len);
	emit("fuzz_guest_blob", name, &o);
}

static void blob_crafted(const char *name, uint64_t entry, const struct seg *segs, size_t n,
			 const struct elf_opts *opt)
{
	struct fuzz_output elf = { 0 };

	encode_elf(&elf, entry, segs, n, opt);
	blob(name, NUB_MEM_READ, "init", 4, elf.data, elf.len);
	fuzz_output_free(&elf);
}

static void seeds_guest_blob(const char *guest_dir)
{
	static const uint8_t ret_code[] = { 0xc3, 0xc3, 0xc3, 0xc3 };
	static const uint8_t data[16] = "initialised";
	uint8_t note[20], rw[64];
	size_t len;
	uint8_t *elf;

	for (unsigned i = 0; i < sizeof rw; i++)
		rw[i] = (uint8_t)i;
	if (guest_dir) {
		elf = guest_view(guest_dir, "dummy", &len);
		blob("guest-dummy", 0, NULL, 0, elf, len);
		free(elf);
		elf = guest_view(guest_dir, "simple", &len);
		blob("guest-simple-init-r", NUB_MEM_READ, "init data for simple", 20, elf, len);
		blob("guest-simple-init-rw", NUB_MEM_READ | NUB_MEM_WRITE, rw, sizeof rw, elf, len);
		blob("guest-simple-init-rx", NUB_MEM_READ | NUB_MEM_EXECUTE, ret_code,
		     sizeof ret_code, elf, len);
		blob("guest-simple-init-wx-refused", NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE,
		     ret_code, sizeof ret_code, elf, len);
		free(elf);
		elf = guest_view(guest_dir, "fuzz", &len);
		blob("guest-fuzz", NUB_MEM_READ, "x", 1, elf, len);
		free(elf);
	}

	make_note(note, NUB_ABI_VERSION, 4);
	{
		struct seg s[] = { CODE(0x4000), NOTE(note) };
		blob_crafted("elf-minimal-halts", 0x4000, s, 2, NULL);
		blob_crafted("elf-truncated-phdrs", 0x4000, s, 2, &(struct elf_opts){ .truncate = 100 });
	}
	{
		struct seg s[] = {
			CODE(0x4000),
			{ .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x6000, .data = data,
			  .len = sizeof data, .memsz = 0x1800 },
			NOTE(note),
		};
		blob_crafted("elf-code-data-bss", 0x4000, s, 3, NULL);
		blob_crafted("elf-entry-in-data", 0x6004, s, 3, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000) };
		blob_crafted("elf-no-abi-note", 0x4000, s, 1, NULL);
	}
	{
		struct seg s[] = { CODE(0x4000),
				   { .type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = 0x5000,
				     .data = data, .len = sizeof data, .memsz = 2u << 20 },
				   NOTE(note) };
		blob_crafted("elf-bss-2mib", 0x4000, s, 3, NULL);
	}
	{
		/* Code that never halts: `jmp .` (the 20 ms limit ends the init). */
		static const uint8_t spin[] = { 0xeb, 0xfe };
		struct seg s[] = { { .type = PT_LOAD, .flags = PF_R | PF_X, .vaddr = 0x4000,
				     .data = spin, .len = sizeof spin },
				   NOTE(note) };
		blob_crafted("elf-init-spins", 0x4000, s, 2, NULL);
	}
}

/* ---- Snapshot files: fuzz_snapshot_file (pure) and fuzz_snapshot_run (KVM) ---- */

#define SNAP_SECTION(i) (SNAPSHOT_HEADER_SIZE + 24u * (i))
enum { SEC_LAYOUT = 1, SEC_VCPU = 2, SEC_FNS = 3, SEC_MEMORY = 4 };
/* VCPU section offsets (engine/snapshot-format.md). */
#define V_RSP (8u * 6)
#define V_RIP 128u
#define V_RFLAGS 136u
#define V_SEG(i) (144u + 24u * (i))
#define V_CS 0u
#define V_TR 6u
#define S_TYPE 14u
#define S_L 19u
#define S_RESERVED 23u
#define V_GDT_BASE 336u
#define V_CR0 360u
#define V_CR3 376u
#define V_CR4 384u
#define V_EFER 400u
#define V_APIC 408u
#define V_XCR0 888u

static struct nub_segment segment(uint64_t base, uint32_t limit, uint16_t sel, uint8_t type,
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

/* A plausible state of a long-mode guest at CPL0 (as harness/tests/test_snapshot_file.c). */
static void plausible_vcpu(struct nub_vcpu_state *v, const struct nub_layout *l)
{
	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = 0x0101010101010101ull * (i + 1);
	v->gpr[6] = l->stack_gpa + l->stack_size - 0x18;
	v->rip = NUB_PRIMARY_BASE + 0x10;
	v->rflags = 0x246;
	v->cs = segment(0, 0xffffffff, 0x08, 11, 1, 0, 1, 1, 1, 0);
	v->ds = segment(0, 0xffffffff, 0x10, 3, 1, 1, 1, 0, 1, 0);
	v->es = v->ds;
	v->ss = v->ds;
	v->fs = segment(0x12345000, 0xffffffff, 0x10, 3, 1, 1, 1, 0, 1, 0);
	v->gs = segment(0xffff800000001000ull, 0xffffffff, 0x10, 3, 1, 1, 1, 0, 1, 0);
	v->tr = segment(l->boot_info_gpa, 0x67, 0x18, 11, 1, 0, 0, 0, 0, 0);
	v->ldt = segment(0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
	v->gdt_base = NUB_PRIMARY_BASE + 0x1000;
	v->gdt_limit = 0x27;
	v->idt_base = NUB_PRIMARY_BASE + 0x2000;
	v->idt_limit = 0xfff;
	v->cr0 = 0x80050033;
	v->cr3 = l->page_tables_gpa;
	v->cr4 = 0x620;
	v->efer = 0xd01;
	v->apic_base = 0xfee00900;
	nub_put_le32(v->fpu + 128, 0x37f);  /* fcw */
	nub_put_le32(v->fpu + 408, 0x1f80); /* mxcsr */
	v->dr6 = 0xffff0ff0;
	v->dr7 = 0x400;
	v->xcr0 = NUB_XCR0_X87;
}

enum mem_fill { FILL_NONE, FILL_PATTERN };

/* A snapshot file built without KVM from (p), (fns) and a memory pattern. */
static void constructed_snapshot(struct nub_buf *file, const struct nub_layout_params *p,
				 const uint32_t *fns, uint32_t nfns, enum mem_fill fill)
{
	struct nub_layout l;
	struct nub_vcpu_state v;
	struct nub_snapshot *snap = NULL;
	struct nub_error err;
	uint8_t *mem = NULL;

	if (nub_layout_compute(p, &l, &err) != NUB_OK)
		die("nub_layout_compute", err.message);
	plausible_vcpu(&v, &l);
	if (nub_snapshot_new(&l, &v, fns, nfns, NULL, &snap, &mem, &err) != NUB_OK)
		die("nub_snapshot_new", err.message);
	if (fill == FILL_PATTERN) {
		/* Code at the entry (the guest_code halt sequence), two data runs, the stack top. */
		memcpy(mem + 0x10, guest_code, sizeof guest_code);
		for (unsigned i = 0; i < 2 * NUB_PAGE_SIZE; i++)
			mem[NUB_PAGE_SIZE + i] = (uint8_t)(i * 7 + 1);
		mem[l.primary_size - 1] = 0xab;
		mem[l.primary_size + (l.stack_gpa - l.scratch_gpa) + l.stack_size - 8] = 0x5a;
	}
	memset(file, 0, sizeof *file);
	if (nub_snapshot_seal(snap, mem, &err) != NUB_OK ||
	    nub_snapshot_file_encode(snap, file, &err) != NUB_OK)
		die("snapshot encode", err.message);
	nub_snapshot_unref(snap);
}

/* The offset of section (type) in a writer-made file. */
static size_t section_offset(const struct nub_buf *f, uint32_t type)
{
	uint32_t count = nub_le32(f->data + 20);

	for (uint32_t i = 0; i < count; i++)
		if (nub_le32(f->data + SNAP_SECTION(i)) == type)
			return (size_t)nub_le64(f->data + SNAP_SECTION(i) + 8);
	die("section_offset", "no such section");
}

/* Writes (f) with (n) bytes at (at) replaced by (v) (little-endian), trailer repaired. */
static void snapshot_variant(const char *target, const char *name, const struct nub_buf *f,
			     size_t at, uint64_t v, unsigned n)
{
	uint8_t *b = malloc(f->len);

	if (!b)
		die("snapshot_variant", "out of memory");
	memcpy(b, f->data, f->len);
	for (unsigned i = 0; i < n; i++)
		b[at + i] = (uint8_t)(v >> (8 * i));
	snapshot_repair(b, f->len);
	write_seed(target, name, b, f->len);
	free(b);
}

static const struct nub_layout_params small_layout = {
	.image_end = 0x10000, .heap_size = 0x4000, .init_data_size = 0x1801,
	.input_size = 0x2000, .output_size = 0x2000, .stack_size = 0x2000,
};

static void seeds_snapshot_constructed(void)
{
	static const uint32_t fns[] = { 1, 2, 4 };
	const char *t = "fuzz_snapshot_file";
	struct nub_buf f, g;

	constructed_snapshot(&f, &small_layout, fns, 3, FILL_PATTERN);
	write_seed(t, "valid-small", f.data, f.len);
	write_seed("fuzz_snapshot_run", "constructed-small", f.data, f.len);

	constructed_snapshot(&g, &small_layout, NULL, 0, FILL_NONE);
	write_seed(t, "valid-no-fns-zero-memory", g.data, g.len);
	nub_buf_free(&g);

	{
		struct nub_layout_params p = { .image_end = 0x100000, .heap_size = 0x100000,
					       .input_size = 0x10000, .output_size = 0x10000,
					       .stack_size = 0x10000 };
		constructed_snapshot(&g, &p, fns, 1, FILL_PATTERN);
		write_seed(t, "valid-larger-layout", g.data, g.len);
		nub_buf_free(&g);
	}

	/* The same sections in reverse order, 8 unused bytes between each. */
	{
		struct fuzz_output o = { 0 };
		size_t off[5], len[5], pos = SNAPSHOT_HEADER_SIZE + 4 * 24;

		for (uint32_t type = SEC_MEMORY; type >= SEC_LAYOUT; type--) {
			off[type] = section_offset(&f, type);
			len[type] = (size_t)nub_le64(f.data + SNAP_SECTION(type - 1) + 16);
		}
		fuzz_write_bytes(&o, f.data, SNAPSHOT_HEADER_SIZE);
		for (uint32_t type = SEC_MEMORY, i = 0; type >= SEC_LAYOUT; type--, i++) {
			fuzz_write_u32(&o, type);
			fuzz_write_u32(&o, 0);
			fuzz_write_u64(&o, pos + 8);
			fuzz_write_u64(&o, len[type]);
			pos += 8 + len[type];
		}
		for (uint32_t type = SEC_MEMORY; type >= SEC_LAYOUT; type--) {
			fuzz_write_u64(&o, 0);
			fuzz_write_bytes(&o, f.data + off[type], len[type]);
		}
		fuzz_write_u32(&o, 0); /* trailer */
		snapshot_repair(o.data, o.len);
		emit(t, "valid-reordered-with-gaps", &o);
	}

	size_t lay = section_offset(&f, SEC_LAYOUT), vcpu = section_offset(&f, SEC_VCPU);
	size_t fns_at = section_offset(&f, SEC_FNS), mem = section_offset(&f, SEC_MEMORY);
	snapshot_variant(t, "bad-magic", &f, 0, 'X', 1);
	snapshot_variant(t, "format-version-2", &f, 8, 2, 4);
	snapshot_variant(t, "abi-version-other", &f, 12, NUB_ABI_VERSION + 1, 4);
	snapshot_variant(t, "header-size-40", &f, 16, 40, 4);
	snapshot_variant(t, "section-count-0", &f, 20, 0, 4);
	snapshot_variant(t, "section-count-17", &f, 20, 17, 4);
	snapshot_variant(t, "section-type-unknown", &f, SNAP_SECTION(2), 9, 4);
	snapshot_variant(t, "section-reserved-set", &f, SNAP_SECTION(1) + 4, 1, 4);
	snapshot_variant(t, "section-duplicate-layout", &f, SNAP_SECTION(2), SEC_LAYOUT, 4);
	snapshot_variant(t, "section-layout-length-40", &f, SNAP_SECTION(0) + 16, 40, 8);
	snapshot_variant(t, "sections-overlap", &f, SNAP_SECTION(1) + 8, lay + 8, 8);
	snapshot_variant(t, "section-past-trailer", &f, SNAP_SECTION(3) + 16, f.len, 8);
	snapshot_variant(t, "layout-image-end-unaligned", &f, lay, 0x10010, 8);
	snapshot_variant(t, "layout-heap-too-large", &f, lay + 8, 0x80000000ull, 8);
	snapshot_variant(t, "layout-input-too-small", &f, lay + 24, 0x1000, 8);
	snapshot_variant(t, "vcpu-cs-not-long-mode", &f, vcpu + V_SEG(V_CS) + S_L, 0, 1);
	snapshot_variant(t, "vcpu-tr-not-busy-tss", &f, vcpu + V_SEG(V_TR) + S_TYPE, 9, 1);
	snapshot_variant(t, "vcpu-segment-reserved", &f, vcpu + V_SEG(1) + S_RESERVED, 1, 1);
	snapshot_variant(t, "vcpu-cr0-no-paging", &f, vcpu + V_CR0, 0x50033, 8);
	snapshot_variant(t, "vcpu-cr4-la57", &f, vcpu + V_CR4, 0x1620, 8);
	snapshot_variant(t, "vcpu-efer-no-lma", &f, vcpu + V_EFER, 0x101, 8);
	snapshot_variant(t, "vcpu-cr3-unaligned", &f, vcpu + V_CR3,
			 nub_le64(f.data + vcpu + V_CR3) + 8, 8);
	snapshot_variant(t, "vcpu-rip-outside-image", &f, vcpu + V_RIP, 0x20000, 8);
	snapshot_variant(t, "vcpu-rsp-outside-stack", &f, vcpu + V_RSP, 0x8000, 8);
	snapshot_variant(t, "vcpu-rflags-reserved-clear", &f, vcpu + V_RFLAGS, 0x244, 8);
	snapshot_variant(t, "vcpu-gdt-base-noncanonical", &f, vcpu + V_GDT_BASE,
			 0x0000800000000000ull, 8);
	snapshot_variant(t, "vcpu-apic-x2apic", &f, vcpu + V_APIC, 0xfee00d00, 8);
	snapshot_variant(t, "vcpu-xcr0-avx", &f, vcpu + V_XCR0, 7, 8);
	snapshot_variant(t, "fns-not-increasing", &f, fns_at + 8, 1, 4);
	snapshot_variant(t, "fns-count-too-large", &f, fns_at, 0x10001, 4);
	snapshot_variant(t, "memory-reserved-set", &f, mem + 4, 1, 4);
	snapshot_variant(t, "memory-run-unaligned", &f, mem + 8, 0x10, 8);
	snapshot_variant(t, "memory-run-past-end", &f, mem + 8, 0x7fffffff000ull, 8);
	snapshot_variant(t, "memory-runs-overlap", &f, mem + 8 + 16, 0, 8);
	snapshot_variant(t, "memory-run-count-high", &f, mem, 1000, 4);
	nub_buf_free(&f);
}

/* ---- Real snapshots, taken on KVM after the guest's init (seed-kvm-*) ---- */

/*
 * The file of a snapshot of (guest) taken right after its init, with host functions 1..4
 * registered (the ids fuzz_snapshot_run provides). Deterministic: the guests read no clock, and
 * the vCPU state after init holds no timestamps.
 */
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
		die(path, err.message);
	for (uint32_t id = 1; id <= 4; id++)
		if (nub_uninit_register(u, id, host_fn_echo, NULL, &err) != NUB_OK)
			die("nub_uninit_register", err.message);
	if (nub_uninit_evolve(u, &sb, &err) != NUB_OK)
		die("nub_uninit_evolve", err.message);
	if (nub_sandbox_snapshot(sb, &snap, &err) != NUB_OK)
		die("nub_sandbox_snapshot", err.message);
	memset(file, 0, sizeof *file);
	if (nub_snapshot_file_encode(snap, file, &err) != NUB_OK)
		die("nub_snapshot_file_encode", err.message);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

static void seeds_snapshot_kvm(const char *guest_dir)
{
	static const char *const guests[] = { "simple", "dummy" };
	char name[64];

	for (size_t i = 0; i < sizeof guests / sizeof guests[0]; i++) {
		struct nub_buf f;
		kvm_snapshot(guest_dir, guests[i], &f);
		snprintf(name, sizeof name, "kvm-%s", guests[i]);
		write_seed("fuzz_snapshot_run", name, f.data, f.len);
		write_seed("fuzz_snapshot_file", name, f.data, f.len);
		nub_buf_free(&f);
	}
}

int main(int argc, char **argv)
{
	const char *guest_dir = NULL;
	bool no_kvm = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--guest-dir") == 0 && i + 1 < argc)
			guest_dir = argv[++i];
		else if (strcmp(argv[i], "--no-kvm") == 0)
			no_kvm = true;
		else if (argv[i][0] != '-' && !out_dir)
			out_dir = argv[i];
		else
			out_dir = NULL, i = argc;
	}
	if (!out_dir) {
		fprintf(stderr, "usage: nub-seedgen OUT_DIR [--guest-dir DIR] [--no-kvm]\n"
				"Writes OUT_DIR/<target>/seed-* for every fuzz target (seed-kvm-* only\n"
				"with --guest-dir, where /dev/kvm opens, and without --no-kvm).\n");
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
	seeds_fuzz_outb();
	seeds_guest_call();
	seeds_host_call();
	seeds_guest_blob(guest_dir);
	seeds_snapshot_constructed();
	/* seeds.sh reads this line: without it, committed seed-kvm-* files are not compared. */
	if (guest_dir && !no_kvm && nub_kvm_available()) {
		seeds_snapshot_kvm(guest_dir);
		printf("nub-seedgen: kvm seeds: generated\n");
	} else {
		printf("nub-seedgen: kvm seeds: skipped: %s\n",
		       !guest_dir ? "no --guest-dir" : no_kvm ? "--no-kvm"
		       : "/dev/kvm cannot be opened");
	}
	printf("nub-seedgen: %u seeds written to %s\n", written_count, out_dir);
	return 0;
}
