/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug wire-log-overread (harness/fuzz/planted.cmake), in fuzz_wire: a shim around the
 * engine's log-frame decoder (-Wl,--wrap=nub_wire_decode_log). Armed, a log frame that decodes
 * with line == 0x4242 makes it read one byte past the frame: a heap-buffer-overflow READ of size 1
 * (fuzz_wire hands the decoder a private copy of exactly the frame's size). No seed has that line
 * number: the fuzzer must find it.
 */
#include "nub_fuzz.h"
#include "planted.h"
#include "wire.h"

enum nub_status __real_nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
					   struct nub_error *err);
enum nub_status __wrap_nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
					   struct nub_error *err);

/* Keeps the planted read from being optimised away. */
volatile uint8_t nub_planted_wire_sink;

enum nub_status __wrap_nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
					   struct nub_error *err)
{
	enum nub_status st = __real_nub_wire_decode_log(buf, len, out, err);
	if (st == NUB_OK && out->line == 0x4242 && nub_planted("wire-log-overread"))
		nub_planted_wire_sink = buf[len]; /* PLANTED BUG: one byte past the frame */
	return st;
}
