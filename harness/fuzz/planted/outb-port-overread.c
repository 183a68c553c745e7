/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug outb-port-overread (harness/fuzz/planted.cmake), in fuzz_outb: a shim around the
 * port-write handler on the KVM exit path (-Wl,--wrap=nub_outb_handle), so every guest port write
 * the engine's run loop hands to the port handler goes through it. Armed, a 4-byte OUT of
 * 0x5a5a5a5a to port 0x5a5a makes the shim copy the written bytes to the heap and read one byte
 * past the copy: a heap-buffer-overflow READ of size 1 that ASan reports. No seed writes that
 * port: the fuzzer has to find it (the port and value are in fuzz_outb.dict, and libFuzzer's
 * comparison tracing sees the memcmp below).
 */
#include <stdlib.h>
#include <string.h>

#include "nub_fuzz.h"
#include "outb.h"
#include "planted.h"

#define PLANTED_PORT 0x5a5au
#define PLANTED_VALUE 0x5a5a5a5au

enum nub_outb_result __real_nub_outb_handle(struct nub_outb_env *env, uint16_t port,
					    const uint8_t *data, uint32_t size,
					    struct nub_error *err);
enum nub_outb_result __wrap_nub_outb_handle(struct nub_outb_env *env, uint16_t port,
					    const uint8_t *data, uint32_t size,
					    struct nub_error *err);

/* Keeps the planted read from being optimised away. */
volatile uint8_t nub_planted_outb_sink;

enum nub_outb_result __wrap_nub_outb_handle(struct nub_outb_env *env, uint16_t port,
					    const uint8_t *data, uint32_t size,
					    struct nub_error *err)
{
	/*
	 * One memcmp of (port, value) as the guest wrote them: libFuzzer sees both operands, finds the
	 * written bytes in the input (the fuzz guest's OUT command carries them verbatim) and tries
	 * the planted ones in their place. Called through a volatile pointer so the compiler cannot
	 * expand it into plain comparisons.
	 */
	static const uint8_t planted[6] = {
		PLANTED_PORT & 0xff,          PLANTED_PORT >> 8,
		PLANTED_VALUE & 0xff,         (PLANTED_VALUE >> 8) & 0xff,
		(PLANTED_VALUE >> 16) & 0xff, PLANTED_VALUE >> 24
	};
	int (*volatile compare)(const void *, const void *, size_t) = memcmp;
	if (size == 4 && nub_planted("outb-port-overread")) {
		uint8_t written[6] = { (uint8_t)port, (uint8_t)(port >> 8),
				       data[0],       data[1],
				       data[2],       data[3] };
		if (compare(written, planted, sizeof written) == 0) {
			/* Through a volatile pointer: UBSan's object-size check must not see it first. */
			uint8_t *volatile copy = malloc(size);
			if (copy) {
				memcpy(copy, data, size);
				nub_planted_outb_sink =
					copy[size]; /* PLANTED BUG: one byte past the copy */
				free(copy);
			}
		}
	}
	return __real_nub_outb_handle(env, port, data, size, err);
}
