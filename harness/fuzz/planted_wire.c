/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A deliberately planted bug, to prove the fuzz harness finds memory bugs (NUB_PLANT_BUG=pure).
 * Linked only into fuzz_wire, with -Wl,--wrap=nub_wire_decode_log, so every call of the engine's
 * log decoder goes through this shim; the engine sources stay untouched. With NUB_PLANT_BUG
 * defined, a log frame that decodes with line == 0x4242 makes the shim read one byte past the
 * frame: a heap-buffer-overflow READ of size 1 that ASan reports (fuzz_wire hands the decoder a
 * private copy of exactly the frame's size). No seed has that line number: the fuzzer must find it.
 */
#include "nub_fuzz.h"
#include "wire.h"

enum nub_status __real_nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
					   struct nub_error *err);
enum nub_status __wrap_nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
					   struct nub_error *err);

/* Keeps the planted read from being optimised away. */
volatile uint8_t nub_planted_sink;

enum nub_status __wrap_nub_wire_decode_log(const uint8_t *buf, size_t len, struct nub_log_view *out,
					   struct nub_error *err)
{
	enum nub_status st = __real_nub_wire_decode_log(buf, len, out, err);
#ifdef NUB_PLANT_BUG
	if (st == NUB_OK && out->line == 0x4242)
		nub_planted_sink = buf[len]; /* PLANTED BUG: one byte past the frame */
#endif
	return st;
}
