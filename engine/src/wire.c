/* SPDX-License-Identifier: Apache-2.0 */
/* Encode/decode of request, response and log frames; every length is checked against the frame. */
#include "wire.h"

#include <string.h>

#include "bytes.h"
#include "error.h"

#define REQUEST_HEADER ((uint32_t)sizeof(struct nub_wire_request))
#define RESPONSE_HEADER ((uint32_t)sizeof(struct nub_wire_response))
#define LOG_HEADER ((uint32_t)sizeof(struct nub_wire_log))

/*
 * Checks that the variable parts (first, then second unless second_name is NULL) fill exactly the
 * (avail) bytes after the header. Lengths are u32 and summed in 64 bits, so no sum can wrap.
 * (first_noun) names the first part in messages ("payload").
 */
static enum nub_status check_parts(const char *frame, const char *first_name,
				   const char *first_noun, uint32_t first, const char *second_name,
				   uint32_t second, uint64_t avail, struct nub_error *err)
{
	uint64_t trailing;

	if (first > avail)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s frame: %s %u exceeds the %llu bytes after the header",
				     frame, first_name, first, (unsigned long long)avail);
	if (!second_name)
		second = 0;
	if (second > avail - first)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s frame: %s %u exceeds the %llu bytes after the %s", frame,
				     second_name, second, (unsigned long long)(avail - first),
				     first_noun);
	trailing = avail - first - second;
	if (trailing && second_name)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s frame: %llu trailing bytes after %s %u and %s %u", frame,
				     (unsigned long long)trailing, first_name, first, second_name,
				     second);
	if (trailing)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s frame: %llu trailing bytes after %s %u", frame,
				     (unsigned long long)trailing, first_name, first);
	return NUB_OK;
}

static enum nub_status check_header(const char *frame, const uint8_t *buf, size_t len,
				    uint32_t header, struct nub_error *err)
{
	if (!buf && len)
		return nub_error_set(err, NUB_E_INVALID, "%s frame: NULL buffer", frame);
	if (len < header)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s frame: %zu bytes is shorter than the %u-byte header",
				     frame, len, header);
	return NUB_OK;
}

enum nub_status nub_wire_decode_request(const uint8_t *buf, size_t len,
					struct nub_request_view *out, struct nub_error *err)
{
	enum nub_status st;
	uint32_t payload_len;

	if (!out)
		return nub_error_set(err, NUB_E_INVALID, "request frame: NULL output");
	st = check_header("request", buf, len, REQUEST_HEADER, err);
	if (st)
		return st;
	payload_len = nub_le32(buf + 4);
	st = check_parts("request", "payload_len", "payload", payload_len, NULL, 0,
			 len - REQUEST_HEADER, err);
	if (st)
		return st;
	out->fn_id = nub_le32(buf);
	out->payload_len = payload_len;
	out->payload = buf + REQUEST_HEADER;
	return NUB_OK;
}

enum nub_status nub_wire_decode_response(const uint8_t *buf, size_t len,
					 struct nub_response_view *out, struct nub_error *err)
{
	enum nub_status st;
	uint32_t payload_len, msg_len;

	if (!out)
		return nub_error_set(err, NUB_E_INVALID, "response frame: NULL output");
	st = check_header("response", buf, len, RESPONSE_HEADER, err);
	if (st)
		return st;
	payload_len = nub_le32(buf + 4);
	msg_len = nub_le32(buf + 8);
	st = check_parts("response", "payload_len", "payload", payload_len, "msg_len", msg_len,
			 len - RESPONSE_HEADER, err);
	if (st)
		return st;
	out->status = nub_le32(buf);
	out->payload_len = payload_len;
	out->payload = buf + RESPONSE_HEADER;
	out->msg_len = msg_len;
	out->msg = (const char *)buf + RESPONSE_HEADER + payload_len;
	return NUB_OK;
}

enum nub_status nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
				    struct nub_error *err)
{
	enum nub_status st;
	uint32_t level, file_len, msg_len;

	if (!out)
		return nub_error_set(err, NUB_E_INVALID, "log frame: NULL output");
	st = check_header("log", buf, len, LOG_HEADER, err);
	if (st)
		return st;
	level = nub_le32(buf);
	/* Level 0 means "off": a record cannot be sent at it. */
	if (level < NUB_LEVEL_ERROR || level > NUB_LEVEL_TRACE)
		return nub_error_set(err, NUB_E_PROTOCOL, "log frame: level %u is not %d..%d",
				     level, NUB_LEVEL_ERROR, NUB_LEVEL_TRACE);
	file_len = nub_le32(buf + 8);
	msg_len = nub_le32(buf + 12);
	st = check_parts("log", "file_len", "file name", file_len, "msg_len", msg_len,
			 len - LOG_HEADER, err);
	if (st)
		return st;
	out->level = level;
	out->line = nub_le32(buf + 4);
	out->file_len = file_len;
	out->file = (const char *)buf + LOG_HEADER;
	out->msg_len = msg_len;
	out->msg = (const char *)buf + LOG_HEADER + file_len;
	return NUB_OK;
}

/*
 * Checks that (a_len) and (b_len) fit u32 and that header + a_len + b_len fits (cap); sets *(total).
 */
static enum nub_status encode_size(const char *frame, const char *a_name, size_t a_len,
				   const char *b_name, size_t b_len, uint32_t header, uint8_t *dst,
				   size_t cap, size_t *written, size_t *total,
				   struct nub_error *err)
{
	uint64_t sum;

	if (!written || (!dst && cap))
		return nub_error_set(err, NUB_E_INVALID, "%s frame: NULL output", frame);
	if (a_len > UINT32_MAX)
		return nub_error_set(err, NUB_E_LAYOUT, "%s frame: %s %zu exceeds UINT32_MAX",
				     frame, a_name, a_len);
	if (b_len > UINT32_MAX)
		return nub_error_set(err, NUB_E_LAYOUT, "%s frame: %s %zu exceeds UINT32_MAX",
				     frame, b_name, b_len);
	/* Both are <= UINT32_MAX: the 64-bit sum cannot wrap. */
	sum = (uint64_t)header + a_len + b_len;
	if (sum > cap)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "%s frame of %llu bytes does not fit the %zu-byte buffer",
				     frame, (unsigned long long)sum, cap);
	*total = (size_t)sum;
	return NUB_OK;
}

static void put_bytes(uint8_t *dst, const void *src, size_t n)
{
	if (n)
		memcpy(dst, src, n);
}

enum nub_status nub_wire_encode_request(uint8_t *dst, size_t cap, uint32_t fn_id,
					const uint8_t *payload, size_t payload_len, size_t *written,
					struct nub_error *err)
{
	enum nub_status st;
	size_t total = 0;

	if (!payload && payload_len)
		return nub_error_set(err, NUB_E_INVALID, "request frame: NULL payload");
	st = encode_size("request", "payload_len", payload_len, "", 0, REQUEST_HEADER, dst, cap,
			 written, &total, err);
	if (st)
		return st;
	nub_put_le32(dst, fn_id);
	nub_put_le32(dst + 4, (uint32_t)payload_len);
	put_bytes(dst + REQUEST_HEADER, payload, payload_len);
	*written = total;
	return NUB_OK;
}

enum nub_status nub_wire_encode_response(uint8_t *dst, size_t cap, uint32_t status,
					 const uint8_t *payload, size_t payload_len,
					 const char *msg, size_t msg_len, size_t *written,
					 struct nub_error *err)
{
	enum nub_status st;
	size_t total = 0;

	if ((!payload && payload_len) || (!msg && msg_len))
		return nub_error_set(err, NUB_E_INVALID, "response frame: NULL payload or message");
	st = encode_size("response", "payload_len", payload_len, "msg_len", msg_len,
			 RESPONSE_HEADER, dst, cap, written, &total, err);
	if (st)
		return st;
	nub_put_le32(dst, status);
	nub_put_le32(dst + 4, (uint32_t)payload_len);
	nub_put_le32(dst + 8, (uint32_t)msg_len);
	put_bytes(dst + RESPONSE_HEADER, payload, payload_len);
	put_bytes(dst + RESPONSE_HEADER + payload_len, msg, msg_len);
	*written = total;
	return NUB_OK;
}

enum nub_status nub_wire_encode_log(uint8_t *dst, size_t cap, uint32_t level, uint32_t line,
				    const char *file, size_t file_len, const char *msg,
				    size_t msg_len, size_t *written, struct nub_error *err)
{
	enum nub_status st;
	size_t total = 0;

	if ((!file && file_len) || (!msg && msg_len))
		return nub_error_set(err, NUB_E_INVALID, "log frame: NULL file or message");
	/* The level is not checked here, so tests and seed generators can build hostile frames. */
	st = encode_size("log", "file_len", file_len, "msg_len", msg_len, LOG_HEADER, dst, cap,
			 written, &total, err);
	if (st)
		return st;
	nub_put_le32(dst, level);
	nub_put_le32(dst + 4, line);
	nub_put_le32(dst + 8, (uint32_t)file_len);
	nub_put_le32(dst + 12, (uint32_t)msg_len);
	put_bytes(dst + LOG_HEADER, file, file_len);
	put_bytes(dst + LOG_HEADER + file_len, msg, msg_len);
	*written = total;
	return NUB_OK;
}
