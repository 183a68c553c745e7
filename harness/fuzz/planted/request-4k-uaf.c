/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug request-4k-uaf (harness/fuzz/planted.cmake), in fuzz_host_call: a shim around the
 * engine's host-call request decoder (-Wl,--wrap=nub_wire_decode_request), which the port handler
 * calls on every guest-to-host call. Armed, a request whose payload is over 4 KiB is copied to a
 * heap buffer that is freed and then read: a heap-use-after-free READ of size 1. Reaching it
 * takes an input over 4 KiB, which libFuzzer tries from the start only with the seeds past 4 KiB
 * and len_control = 0 of fuzz_host_call.options.
 */
#include <stdlib.h>
#include <string.h>

#include "nub_fuzz.h"
#include "planted.h"
#include "wire.h"

#define PLANTED_BIG 4096u

enum nub_status __real_nub_wire_decode_request(const uint8_t *buf, size_t len,
					       struct nub_request_view *out, struct nub_error *err);
enum nub_status __wrap_nub_wire_decode_request(const uint8_t *buf, size_t len,
					       struct nub_request_view *out, struct nub_error *err);

/* Keeps the planted read from being optimised away. */
volatile uint8_t nub_planted_request_sink;

enum nub_status __wrap_nub_wire_decode_request(const uint8_t *buf, size_t len,
					       struct nub_request_view *out, struct nub_error *err)
{
	enum nub_status st = __real_nub_wire_decode_request(buf, len, out, err);
	if (st != NUB_OK || out->payload_len <= PLANTED_BIG || !nub_planted("request-4k-uaf"))
		return st;
	/* Through a volatile pointer: the compiler must not fold the copy away. */
	uint8_t *volatile copy = malloc(out->payload_len);
	if (copy) {
		memcpy(copy, out->payload, out->payload_len);
		free(copy);
		nub_planted_request_sink = copy[PLANTED_BIG]; /* PLANTED BUG: read after free */
	}
	return st;
}
