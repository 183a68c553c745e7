/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_outb: every guest-to-host path through real VM exits. The input is a command stream of the
 * `fuzz` guest (guests/fuzz/fuzz_cmds.h, rules in fuzz_cmds_codec.h): raw OUTs to any port,
 * writes over the I/O buffers and their stack pointers, well-formed host calls, log records,
 * debug print, aborts, CPU exceptions, spins, halts. One sandbox per process, evolved once (on
 * the first input: with AFL++ that is in the fork server's child) and snapshotted; every input
 * restores that snapshot after each input (see kvm_fuzz_restore), so each input runs
 * alone and reproduces alone. Guest hangs end by the engine's 20 ms time limit.
 *
 * Invariants: restore always succeeds; the outcome is a known status, never NUB_E_KVM (an engine
 * bug: every guest-caused outcome has its own status); on failure the error message is
 * NUL-terminated and non-empty; the sandbox is ready or poisoned as nub.h promises; what the
 * engine hands the log and debug-print callbacks is well formed (kvm_target.c); the restore
 * oracle and the state-leak oracle (the guest sees exactly the snapshot before an input) pass.
 * A stream that only makes well-formed requests (host calls, logs, debug print, finite spins,
 * RESPOND) must end with NUB_OK and exactly the last RESPOND's bytes, or by the time limit.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_cmds_codec.h"
#include "kvm_target.h"
#include "nub_fuzz.h"

/* Well inside the 16 KiB input buffer (a request frame adds 8 bytes). */
#define MAX_INPUT 8192u
/* RESPOND data up to this size always fits the response space of the output buffer. */
#define CHECKED_RESPONSE_MAX 1024u

static struct kvm_fuzz_sandbox g;

/* The sandbox, made on the first call (kvm_fuzz_sandbox_once); every input calls it too. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kvm_fuzz_sandbox_once(&g, "fuzz_outb", "fuzz");
	kvm_fuzz_enable_leak_oracle("fuzz_outb", &g);
	return 0;
}

/*
 * If the stream only makes well-formed requests, sets *(resp, resp_len) to the last RESPOND's
 * data (NULL, 0 without one) and returns true.
 */
static bool well_formed(const uint8_t *data, size_t len, const uint8_t **resp, size_t *resp_len)
{
	struct fuzz_cmd c;
	size_t pos = 0;

	*resp = NULL;
	*resp_len = 0;
	while (fuzz_cmd_next(data, len, pos, &c) == FUZZ_CMD_OK) {
		switch (c.op) {
		case FUZZ_OP_HOST_CALL:
		case FUZZ_OP_LOG:
		case FUZZ_OP_DEBUG_PRINT:
			break;
		case FUZZ_OP_SPIN:
			if (c.value == FUZZ_SPIN_FOREVER)
				return false;
			break;
		case FUZZ_OP_RESPOND:
			*resp = c.data;
			*resp_len = c.data_len;
			break;
		default:
			return false;
		}
		pos += c.size;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nub_error err;
	struct nub_buf resp;
	const uint8_t *want;
	size_t want_len;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	LLVMFuzzerInitialize(NULL, NULL);

	memset(&resp, 0, sizeof resp);
	enum nub_status st = nub_sandbox_call(g.sb, FUZZ_FN_RUN, data, size, &resp, &err);
	nub_fuzz_outcome(kvm_fuzz_status_class(st));
	kvm_fuzz_check_call(nub_sandbox_status(g.sb), st, &err);
	if (well_formed(data, size, &want, &want_len) && want_len <= CHECKED_RESPONSE_MAX) {
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", st == NUB_OK || st == NUB_E_TIME_LIMIT);
		if (st == NUB_OK)
			NUB_FUZZ_CHECK_OP("nub_sandbox_call",
					  resp.len == want_len &&
						  (want_len == 0 ||
						   memcmp(resp.data, want, want_len) == 0));
	}
	nub_buf_free(&resp);
	kvm_fuzz_restore(g.sb, g.snap);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	fuzz_prog_describe(data, len, out);
}
