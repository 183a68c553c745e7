/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_guest_call: any function of the `simple` guest (guests/simple/simple_fns.h) with any
 * payload, through nub_sandbox_call on a real VM. Input: u32 fn_id (little-endian; fewer bytes
 * read as zero), then the payload. Nothing is excluded: the faulting, aborting, protocol-breaking
 * and spinning functions are all reachable (SIMPLE_SPIN ends by the engine's 20 ms time limit).
 * One sandbox per process, evolved once and snapshotted; the snapshot is restored after every
 * input, so every input starts from it (see kvm_fuzz_restore).
 *
 * Invariants: those of every KVM call (kvm_target.h), plus exact results for the functions whose
 * behaviour simple_fns.h pins down: ECHO returns the payload, ADD the sum, FILL its pattern,
 * STATIC_COUNTER 1 (every input starts from the snapshot), and each exception function its
 * vector.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fuzz_input.h"
#include "kvm_target.h"
#include "nub_fuzz.h"
#include "simple_fns.h"

#define MAX_INPUT 8192u

static struct kvm_fuzz_sandbox g;

/* The sandbox, made on the first call (kvm_fuzz_sandbox_once); every input calls it too. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kvm_fuzz_sandbox_once(&g, "fuzz_guest_call", "simple");
	return 0;
}

/* The exact results simple_fns.h promises. */
static void check_known(uint32_t fn, const uint8_t *p, size_t n, enum nub_status st,
			const struct nub_error *err, const struct nub_buf *resp)
{
	if (st == NUB_E_TIME_LIMIT)
		return; /* a slow host may cut any call short */
	switch (fn) {
	case SIMPLE_ECHO:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_OK && resp->len == n &&
					  (n == 0 || !memcmp(resp->data, p, n)));
		break;
	case SIMPLE_ADD:
		if (n != 8) {
			NUB_FUZZ_CHECK_OP("nub_sandbox_call",
					  st == NUB_E_GUEST_ERROR && err->guest_code == 5);
		} else {
			uint32_t sum = nub_le32(p) + nub_le32(p + 4);
			NUB_FUZZ_CHECK_OP("nub_sandbox_call", st == NUB_OK && resp->len == 4 &&
								      nub_le32(resp->data) == sum);
		}
		break;
	case SIMPLE_FILL:
		if (n == 4 && nub_le32(p) <= 4096) {
			NUB_FUZZ_CHECK_OP("nub_sandbox_call",
					  st == NUB_OK && resp->len == nub_le32(p));
			for (size_t i = 0; i < resp->len; i++)
				NUB_FUZZ_CHECK_OP("nub_sandbox_call", resp->data[i] == (uint8_t)i);
		}
		break;
	case SIMPLE_STATIC_COUNTER:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_OK && resp->len == 4 && nub_le32(resp->data) == 1);
		break;
	case SIMPLE_DIVIDE_BY_ZERO:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", st == NUB_E_GUEST_FAULT && err->vector == 0);
		break;
	case SIMPLE_INVALID_OPCODE:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", st == NUB_E_GUEST_FAULT && err->vector == 6);
		break;
	case SIMPLE_NULL_DEREF:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_E_GUEST_FAULT && err->vector == 14 && err->cr2 == 8);
		break;
	case SIMPLE_SPIN:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", st == NUB_E_TIME_LIMIT);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct nub_error err;
	struct nub_buf resp;
	const uint8_t *payload;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	LLVMFuzzerInitialize(NULL, NULL);
	fuzz_input_init(&in, data, size);
	uint32_t fn = fuzz_read_u32(&in);
	size_t n = fuzz_read_rest(&in, &payload);

	memset(&resp, 0, sizeof resp);
	enum nub_status st = nub_sandbox_call(g.sb, fn, payload, n, &resp, &err);
	nub_fuzz_outcome(kvm_fuzz_status_class(st));
	kvm_fuzz_check_call(nub_sandbox_status(g.sb), st, &err);
	check_known(fn, payload, n, st, &err, &resp);
	nub_buf_free(&resp);
	kvm_fuzz_restore(g.sb, g.snap);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	const uint8_t *payload;

	fuzz_input_init(&in, data, len);
	uint32_t fn = fuzz_read_u32(&in);
	size_t n = fuzz_read_rest(&in, &payload);
	fprintf(out, "  simple fn_id %u, %zu-byte payload:\n", fn, n);
	nub_fuzz_hexdump(out, payload, n, 128);
}
