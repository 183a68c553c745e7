/* SPDX-License-Identifier: Apache-2.0 */
/* Encode/decode of request, response and log frames (abi.h); pure. */
#ifndef NUB_WIRE_H
#define NUB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/* Decoded frames point into the buffer they were decoded from (a private copy). */
struct nub_request_view {
	uint32_t fn_id;
	const uint8_t *payload;
	uint32_t payload_len;
};

struct nub_response_view {
	uint32_t status;
	const uint8_t *payload;
	uint32_t payload_len;
	const char *msg; /* not NUL-terminated */
	uint32_t msg_len;
};

struct nub_log_view {
	uint32_t level;
	uint32_t line;
	const char *file; /* not NUL-terminated */
	uint32_t file_len;
	const char *msg; /* not NUL-terminated */
	uint32_t msg_len;
};

/*
 * Decoders: the frame must be exactly (len) bytes: header, then the lengths it declares, with no
 * overflow and no trailing bytes. Log levels must be 1..5. Errors: NUB_E_PROTOCOL naming the frame,
 * field and value ("response frame: payload_len 70000 exceeds the 20 bytes after the header").
 */
enum nub_status nub_wire_decode_request(const uint8_t *buf, size_t len,
					struct nub_request_view *out, struct nub_error *err);
enum nub_status nub_wire_decode_response(const uint8_t *buf, size_t len,
					 struct nub_response_view *out, struct nub_error *err);
enum nub_status nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
				    struct nub_error *err);

/*
 * Encoders write into (dst) of capacity (cap) and set *(written). NUB_E_LAYOUT if it does not fit
 * or a length exceeds UINT32_MAX.
 */
enum nub_status nub_wire_encode_request(uint8_t *dst, size_t cap, uint32_t fn_id,
					const uint8_t *payload, size_t payload_len, size_t *written,
					struct nub_error *err);
enum nub_status nub_wire_encode_response(uint8_t *dst, size_t cap, uint32_t status,
					 const uint8_t *payload, size_t payload_len,
					 const char *msg, size_t msg_len, size_t *written,
					 struct nub_error *err);
enum nub_status nub_wire_encode_log(uint8_t *dst, size_t cap, uint32_t level, uint32_t line,
				    const char *file, size_t file_len, const char *msg,
				    size_t msg_len, size_t *written, struct nub_error *err);

#endif
