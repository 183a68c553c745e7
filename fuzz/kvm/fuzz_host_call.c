/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_host_call: guest-to-host calls through a real VM. The `simple` guest's SIMPLE_HOST_CALL
 * sends its payload's bytes to a host function and relays the result; the input is that payload:
 * u32 host fn_id (little-endian), then the request bytes. The registry (kvm_target.h) has ECHO 1,
 * UPPER 2, FAIL 3 and HUGE 4 (a response larger than the guest's input buffer); every other
 * fn_id is unregistered. One sandbox per process, evolved once and snapshotted; every input
 * restores the snapshot after each input (see kvm_fuzz_restore).
 *
 * Invariants: those of every KVM call (kvm_target.h), plus the relayed result: ECHO and UPPER
 * return the request (upper-cased); FAIL is NUB_STATUS_HOST_ERROR, HUGE
 * NUB_STATUS_RESPONSE_TOO_LARGE and an unregistered fn_id NUB_STATUS_NO_SUCH_FUNCTION, each as a
 * guest error carrying that status and a message; an input shorter than the fn_id is the guest's
 * own error (5). Longer requests (above 2 KiB) may instead end as NUB_STATUS_BAD_REQUEST or
 * NUB_STATUS_RESPONSE_TOO_LARGE when they or their responses do not fit the I/O buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "kvm_target.h"
#include "nub_fuzz.h"
#include "simple_fns.h"

#define MAX_INPUT 8192u
/* Requests up to this size and their responses always fit the 16 KiB buffers. */
#define CHECKED_REQUEST_MAX 2048u

static struct kvm_fuzz_sandbox g;

/* The sandbox, made on the first call (kvm_fuzz_sandbox_once); every input calls it too. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kvm_fuzz_sandbox_once(&g, "fuzz_host_call", "simple");
	return 0;
}

static void check_relayed(const uint8_t *data, size_t size, enum nub_status st,
			  const struct nub_error *err, const struct nub_buf *resp)
{
	struct fuzz_input in;
	const uint8_t *req;

	if (st == NUB_E_TIME_LIMIT)
		return; /* a slow host may cut any call short */
	if (size < 4) {
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_E_GUEST_ERROR &&
					  err->guest_code == NUB_STATUS_GUEST_ERROR);
		return;
	}
	fuzz_input_init(&in, data, size);
	uint32_t fn = fuzz_read_u32(&in);
	size_t n = fuzz_read_rest(&in, &req);
	if (n > CHECKED_REQUEST_MAX && st == NUB_E_GUEST_ERROR &&
	    (err->guest_code == NUB_STATUS_BAD_REQUEST ||
	     err->guest_code == NUB_STATUS_RESPONSE_TOO_LARGE))
		return; /* a long request or its response may not fit the buffers */
	switch (fn) {
	case KFN_ECHO:
	case KFN_UPPER:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call", st == NUB_OK && resp->len == n);
		for (size_t i = 0; i < n; i++) {
			uint8_t c = req[i];
			if (fn == KFN_UPPER && c >= 'a' && c <= 'z')
				c = (uint8_t)(c - 32);
			NUB_FUZZ_CHECK_OP("nub_sandbox_call", resp->data[i] == c);
		}
		break;
	case KFN_FAIL:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_E_GUEST_ERROR &&
					  err->guest_code == NUB_STATUS_HOST_ERROR);
		break;
	case KFN_HUGE:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_E_GUEST_ERROR &&
					  err->guest_code == NUB_STATUS_RESPONSE_TOO_LARGE);
		break;
	default:
		NUB_FUZZ_CHECK_OP("nub_sandbox_call",
				  st == NUB_E_GUEST_ERROR &&
					  err->guest_code == NUB_STATUS_NO_SUCH_FUNCTION);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nub_error err;
	struct nub_buf resp;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	LLVMFuzzerInitialize(NULL, NULL);
	memset(&resp, 0, sizeof resp);
	enum nub_status st = nub_sandbox_call(g.sb, SIMPLE_HOST_CALL, data, size, &resp, &err);
	nub_fuzz_outcome(st == NUB_E_GUEST_ERROR ? err.guest_code == NUB_STATUS_NO_SUCH_FUNCTION
							   ? "guest-error/no-such-function"
						   : err.guest_code == NUB_STATUS_HOST_ERROR
							   ? "guest-error/host-error"
						   : err.guest_code == NUB_STATUS_RESPONSE_TOO_LARGE
							   ? "guest-error/response-too-large"
							   : "guest-error/other"
						 : kvm_fuzz_status_class(st));
	kvm_fuzz_check_call(nub_sandbox_status(g.sb), st, &err);
	check_relayed(data, size, st, &err, &resp);
	nub_buf_free(&resp);
	kvm_fuzz_restore(g.sb, g.snap);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	const uint8_t *req;
	static const char *const names[] = { "unregistered", "ECHO", "UPPER", "FAIL", "HUGE" };

	fuzz_input_init(&in, data, len);
	if (len < 4) {
		fprintf(out, "  %zu bytes: shorter than the u32 fn_id (the guest refuses it)\n",
			len);
		return;
	}
	uint32_t fn = fuzz_read_u32(&in);
	size_t n = fuzz_read_rest(&in, &req);
	fprintf(out, "  host fn_id %u (%s), %zu-byte request: ", fn,
		fn >= 1 && fn <= KFN_COUNT ? names[fn] : names[0], n);
	nub_fuzz_print_string(out, req, n, 120);
	fputc('\n', out);
}
