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
#include "elf_file.h"
#include "elf_variants.h"
#include "fuzz_cmds_codec.h"
#include "fuzz_formats.h"
#include "fuzz_output.h"
#include "guest_elf.h"
#include "host_fns.h"
#include "layout.h"
#include "nub/abi.h"
#include "simple_fns.h"
#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_variants.h"
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

/* The crafted files of the catalogue (elf_variants.h) that are fuzz_elf's seeds. */
static void seeds_elf_crafted(void)
{
	for (size_t i = 0; i < elf_variant_count; i++) {
		const struct elf_variant *v = &elf_variants[i];
		size_t len;
		if (!v->elf_seed)
			continue;
		uint8_t *b = elf_file_build(&v->spec, &len);
		if (!b)
			die("elf_file_build", v->elf_seed);
		write_seed("fuzz_elf", v->elf_seed, b, len);
		free(b);
	}
}

/* The built guest (guest) reduced to its loadable view (elf_file_loadable_view). */
static uint8_t *guest_view(const char *guest_dir, const char *guest, size_t *len)
{
	char path[4096];
	const char *why;

	snprintf(path, sizeof path, "%s/%s.elf", guest_dir, guest);
	uint8_t *buf = elf_file_loadable_view(path, len, &why);
	if (!buf)
		die(path, why);
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

static void seeds_guest_blob(const char *guest_dir)
{
	static const uint8_t ret_code[] = { 0xc3, 0xc3, 0xc3, 0xc3 };
	uint8_t rw[64];
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

	/* The crafted files of the catalogue (elf_variants.h) that are fuzz_guest_blob's seeds. */
	for (size_t i = 0; i < elf_variant_count; i++) {
		const struct elf_variant *v = &elf_variants[i];
		if (!v->blob_seed)
			continue;
		elf = elf_file_build(&v->spec, &len);
		if (!elf)
			die("elf_file_build", v->blob_seed);
		blob(v->blob_seed, NUB_MEM_READ, "init", 4, elf, len);
		free(elf);
	}
}

/* ---- Snapshot files: fuzz_snapshot_file (pure) and fuzz_snapshot_run (KVM) ---- */

/* (file) with the seed variants of the catalogue (snapshot_variants.h) applied, one each. */
static void seeds_snapshot_variants(const char *target, const struct nub_buf *file)
{
	uint8_t *b = malloc(file->len);

	if (!b)
		die("seeds_snapshot_variants", "out of memory");
	for (size_t i = 0; i < snap_variant_count; i++) {
		if (!snap_variants[i].seed)
			continue;
		memcpy(b, file->data, file->len);
		snap_variant_apply(b, file->len, &snap_variants[i]);
		write_seed(target, snap_variants[i].seed, b, file->len);
	}
	free(b);
}

/* A constructed snapshot file (snap_fixture_file); dies on failure. */
static void constructed(struct nub_buf *file, const struct nub_layout_params *p,
			const uint32_t *fns, uint32_t nfns, bool fill)
{
	struct nub_error err;

	if (snap_fixture_file(p, fns, nfns, fill, file, &err) != NUB_OK)
		die("snap_fixture_file", err.message);
}

static void seeds_snapshot_constructed(void)
{
	static const uint32_t fns[] = { 1, 2, 4 };
	static const struct nub_layout_params larger = {
		.image_end = 0x100000, .heap_size = 0x100000, .input_size = 0x10000,
		.output_size = 0x10000, .stack_size = 0x10000,
	};
	const char *t = "fuzz_snapshot_file";
	struct nub_buf f, g;

	constructed(&f, &snap_fixture_params, fns, 3, true);
	write_seed(t, "valid-small", f.data, f.len);
	write_seed("fuzz_snapshot_run", "constructed-small", f.data, f.len);

	constructed(&g, &snap_fixture_params, NULL, 0, false);
	write_seed(t, "valid-no-fns-zero-memory", g.data, g.len);
	nub_buf_free(&g);

	constructed(&g, &larger, fns, 1, true);
	write_seed(t, "valid-larger-layout", g.data, g.len);
	nub_buf_free(&g);

	/* The same sections in reverse order, 8 unused bytes between each. */
	{
		struct fuzz_output o = { 0 };
		size_t off[5], len[5], pos = SNAP_ENTRY(4);

		for (uint32_t type = SNAP_MEMORY; type >= SNAP_LAYOUT; type--) {
			off[type] = snap_section_offset(f.data, f.len, type);
			len[type] = (size_t)nub_le64(f.data + SNAP_ENTRY(type - 1) + SNAP_E_LENGTH);
		}
		fuzz_write_bytes(&o, f.data, SNAP_HEADER_SIZE);
		for (uint32_t type = SNAP_MEMORY; type >= SNAP_LAYOUT; type--) {
			fuzz_write_u32(&o, type);
			fuzz_write_u32(&o, 0);
			fuzz_write_u64(&o, pos + 8);
			fuzz_write_u64(&o, len[type]);
			pos += 8 + len[type];
		}
		for (uint32_t type = SNAP_MEMORY; type >= SNAP_LAYOUT; type--) {
			fuzz_write_u64(&o, 0);
			fuzz_write_bytes(&o, f.data + off[type], len[type]);
		}
		fuzz_write_u32(&o, 0); /* trailer */
		snap_repair(o.data, o.len);
		emit(t, "valid-reordered-with-gaps", &o);
	}

	seeds_snapshot_variants(t, &f);
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
