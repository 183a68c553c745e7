/* SPDX-License-Identifier: Apache-2.0 */
/* What a guest port write means: log, host call, abort stream, debug print, halt; pure given a memory view. */
#ifndef NUB_OUTB_H
#define NUB_OUTB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostfn.h"
#include "nub/nub.h"

/* Accumulates the abort byte stream across port writes. Zero-initialise; reset per call. */
struct nub_abort_stream {
	uint8_t bytes[NUB_ABORT_MAX_BYTES];
	size_t len;
};

/* A finished abort. */
struct nub_abort {
	uint8_t code;
	bool has_vector; /* code == NUB_ABORT_EXCEPTION and a vector byte was sent */
	uint8_t vector;
	bool truncated; /* the stream hit NUB_ABORT_MAX_BYTES before the terminator */
	char message[NUB_ABORT_MAX_BYTES +
		     1]; /* NUL-terminated, non-printable bytes replaced by '?' */
};

/*
 * Feeds one 32-bit abort-port value [n, b1, b2, b3]. Returns NUB_OK with *(done) false while more is
 * needed; NUB_OK with *(done) true and (out) filled when the terminator arrives or the stream
 * reaches NUB_ABORT_MAX_BYTES (out->truncated). NUB_E_PROTOCOL if n is not 1..3
 * ("abort port write 0x... has byte count 0 (must be 1..3)"). The stream is reset after done.
 */
enum nub_status nub_outb_abort_feed(struct nub_abort_stream *s, uint32_t value, bool *done,
				    struct nub_abort *out, struct nub_error *err);

/* Collects debug-print scalars into UTF-8 lines. Zero-initialise. */
struct nub_print_line {
	char text[1024];
	size_t len;
};

/* Everything a port write may touch: host views of the I/O buffers, callbacks and the registry. */
struct nub_outb_env {
	volatile uint8_t *input; /* host view of the input buffer */
	uint64_t input_size;
	volatile uint8_t *output; /* host view of the output buffer */
	uint64_t output_size;
	uint8_t *staging; /* private copy space, >= max(input_size, output_size) bytes */
	uint64_t staging_size;
	const struct nub_hostfn_table *hostfns;
	const struct nub_config *cfg; /* log, debug_print, max_guest_log_level, alloc */
	struct nub_abort_stream *abort;
	struct nub_print_line *print;
};

enum nub_outb_result {
	NUB_OUTB_CONTINUE, /* resume the guest */
	NUB_OUTB_HALT,     /* the guest halted: init or call done */
	NUB_OUTB_STOP, /* the run ends with (err) filled: abort, protocol error, engine failure */
};

/*
 * Handles an OUT of (size) bytes (1, 2 or 4) of (data) to (port):
 * - NUB_PORT_HALT: HALT.
 * - NUB_PORT_LOG: pop a log record from output, deliver it if level <= max; CONTINUE.
 * - NUB_PORT_HOST_CALL: pop a request from output, call the host function, push the response to
 *   input (unknown fn_id -> NUB_STATUS_NO_SUCH_FUNCTION, host failure -> NUB_STATUS_HOST_ERROR,
 *   oversized response -> NUB_STATUS_RESPONSE_TOO_LARGE, all with a message); CONTINUE.
 * - NUB_PORT_ABORT: feed the abort stream; CONTINUE, or STOP with NUB_E_GUEST_ABORT (code in
 *   err->guest_code, exception vector in err->vector when present).
 * - NUB_PORT_DEBUG_PRINT: append the scalar (UTF-8) to the line; a newline or a full line is
 *   delivered; an invalid scalar is a protocol error.
 * - any other port, or a non-4-byte write to a protocol port: STOP with NUB_E_PROTOCOL.
 * Corrupt buffers or frames: STOP with NUB_E_PROTOCOL. Allocation failure: STOP with NUB_E_NOMEM.
 */
enum nub_outb_result nub_outb_handle(struct nub_outb_env *env, uint16_t port, const uint8_t *data,
				     uint32_t size, struct nub_error *err);

/* Delivers any partial debug-print line (at the end of a call). */
void nub_outb_flush_print(struct nub_outb_env *env);

#endif
