/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_wire: frames made by the engine's encoders, broken frames, encode requests. */
#include <string.h>

#include "fuzz_formats.h"
#include "seedgen.h"
#include "wire.h"

static void wire_frame(struct seedgen *g, const char *name, enum fuzz_wire_mode mode,
		       const uint8_t *frame, size_t n)
{
	struct fuzz_output o = { 0 };

	fuzz_write_u8(&o, (uint8_t)mode);
	fuzz_write_bytes(&o, frame, n);
	seedgen_emit(g, name, &o);
}

static void wire_request(struct seedgen *g, const char *name, uint32_t fn_id, const char *payload,
			 int extra)
{
	uint8_t buf[256];
	size_t n;

	if (nub_wire_encode_request(buf, sizeof buf, fn_id, (const uint8_t *)payload,
				    strlen(payload), &n, NULL) != NUB_OK)
		seedgen_die("encode request", name);
	for (int i = 0; i < extra; i++)
		buf[n++] = 0xee;
	wire_frame(g, name, WIRE_REQUEST, buf, n);
}

static void wire_response(struct seedgen *g, const char *name, uint32_t status, const char *payload,
			  const char *msg)
{
	uint8_t buf[256];
	size_t n;

	if (nub_wire_encode_response(buf, sizeof buf, status, (const uint8_t *)payload,
				     strlen(payload), msg, strlen(msg), &n, NULL) != NUB_OK)
		seedgen_die("encode response", name);
	wire_frame(g, name, WIRE_RESPONSE, buf, n);
}

static void wire_log(struct seedgen *g, const char *name, uint32_t level, uint32_t line,
		     const char *file, const char *msg)
{
	uint8_t buf[256];
	size_t n;

	if (nub_wire_encode_log(buf, sizeof buf, level, line, file, strlen(file), msg, strlen(msg),
				&n, NULL) != NUB_OK)
		seedgen_die("encode log", name);
	wire_frame(g, name, WIRE_LOG, buf, n);
}

static void wire_encode(struct seedgen *g, const char *name, unsigned kind, uint32_t a,
			uint32_t line, const char *p1, const char *p2)
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
	seedgen_emit(g, name, &o);
}

void seeds_fuzz_wire(struct seedgen *g)
{
	uint8_t raw[32];

	wire_request(g, "request-empty", 1, "", 0);
	wire_request(g, "request-payload", 7, "hello", 0);
	wire_request(g, "request-trailing-byte", 7, "hello", 1);
	wire_frame(g, "request-short-header", WIRE_REQUEST, (const uint8_t *)"\x01\x00\x00\x00\x05",
		   5);
	memcpy(raw,
	       "\x01\x00\x00\x00\xff\xff\xff\xff"
	       "abcd",
	       12);
	wire_frame(g, "request-payload-len-overflow", WIRE_REQUEST, raw, 12);

	wire_response(g, "response-ok", NUB_STATUS_OK, "result", "");
	wire_response(g, "response-guest-error", NUB_STATUS_GUEST_ERROR, "", "guest error");
	wire_response(g, "response-payload-and-message", NUB_STATUS_HOST_ERROR, "\x01\x02", "why");
	memcpy(raw,
	       "\x00\x00\x00\x00\x02\x00\x00\x00\xff\xff\xff\xff"
	       "ab",
	       14);
	wire_frame(g, "response-msg-len-overflow", WIRE_RESPONSE, raw, 14);
	memcpy(raw,
	       "\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00"
	       "ab",
	       14);
	wire_frame(g, "response-payload-past-end", WIRE_RESPONSE, raw, 14);

	wire_log(g, "log-error", NUB_LEVEL_ERROR, 12, "main.c", "something failed");
	wire_log(g, "log-trace", NUB_LEVEL_TRACE, 7, "runtime/io.c", "trace");
	wire_log(g, "log-empty-strings", NUB_LEVEL_INFO, 0, "", "");
	wire_log(g, "log-level-0", 0, 1, "a.c", "off is not a level");
	wire_log(g, "log-level-6", 6, 1, "a.c", "above trace");
	memcpy(raw,
	       "\x03\x00\x00\x00\x01\x00\x00\x00\xff\xff\xff\xff\x01\x00\x00\x00"
	       "ab",
	       18);
	wire_frame(g, "log-file-len-overflow", WIRE_LOG, raw, 18);

	wire_encode(g, "encode-request", 0, 42, 0, "payload", "");
	wire_encode(g, "encode-response", 1, NUB_STATUS_OK, 0, "out", "message");
	wire_encode(g, "encode-log", 2, NUB_LEVEL_WARN, 99, "guest.c", "careful");
	wire_encode(g, "encode-log-bad-level", 2, 9, 99, "guest.c", "level 9");
}
