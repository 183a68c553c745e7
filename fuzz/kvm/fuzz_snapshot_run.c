/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_snapshot_run: untrusted snapshot files, loaded and run on a real VM. The input is a
 * snapshot file (engine/snapshot-format.md). The target repairs its file_size and CRC-32C trailer
 * (snapshot_format.h: the checksum must not stop the fuzzer), loads it with
 * nub_snapshot_load_buffer (the production load path), makes a sandbox from it with
 * nub_sandbox_from_snapshot (host functions ECHO 1, UPPER 2, FAIL 3, HUGE 4: what the seed
 * snapshots list), calls SIMPLE_ECHO ("ping") and SIMPLE_STATIC_COUNTER of the `simple` guest
 * (restoring the loaded snapshot in between if the first call poisoned the sandbox) and frees
 * everything. Whatever the file's memory and vCPU state make the guest do ends by the 20 ms time
 * limit at the latest.
 *
 * Reset: every input builds a fresh snapshot and sandbox and frees them; nothing carries over.
 *
 * Invariants: every result is a known status, never NUB_E_KVM (a vCPU state that passed the
 * loader's validation but that KVM refuses, or a guest-caused exit the engine does not map to a
 * guest outcome, is an engine bug), with a message on failure (kvm_target.h); each call leaves
 * the sandbox ready or poisoned as nub.h promises; restoring the snapshot a sandbox was made from
 * succeeds; every engine allocation is freed at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "kvm_skip.h"
#include "kvm_target.h"
#include "nub_fuzz.h"
#include "simple_fns.h"
#include "snapshot_format.h"

#define MAX_INPUT (4u << 20)

static bool ready;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kvm_skip_unless_available("fuzz_snapshot_run");
	kvm_fuzz_warm_up();
	/* The outcome names now, not on an input's first use (stable AFL++ coverage). */
	kvm_fuzz_outcome("load", NUB_OK);
	kvm_fuzz_outcome("sandbox", NUB_OK);
	kvm_fuzz_outcome("echo", NUB_OK);
	kvm_fuzz_outcome("counter", NUB_OK);
	ready = true;
	kvm_fuzz_report_iteration("fuzz_snapshot_run",
				  NULL); /* after (ready): it runs TestOneInput */
	return 0;
}

static enum nub_status call(struct nub_sandbox *sb, uint32_t fn, const char *payload,
			    struct nub_error *err)
{
	struct nub_buf resp;

	memset(&resp, 0, sizeof resp);
	enum nub_status st = nub_sandbox_call(sb, fn, payload, strlen(payload), &resp, err);
	nub_buf_free(&resp);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nub_config cfg;
	struct nub_error err, err1, err2;
	struct nub_snapshot *snap = NULL;
	struct nub_sandbox *sb = NULL;
	size_t nfns;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	if (!ready)
		LLVMFuzzerInitialize(NULL, NULL);
	uint8_t *file = snap_repaired_copy(data, size);

	nub_fuzz_alloc_reset(0);
	struct nub_alloc_hook hook = nub_fuzz_alloc_hook();
	enum nub_status st = nub_snapshot_load_buffer(file, size, &hook, &snap, &err);
	free(file);
	if (st != NUB_OK) {
		nub_fuzz_outcome(kvm_fuzz_outcome("load", st));
		kvm_fuzz_check_result("nub_snapshot_load_buffer", st, &err);
		NUB_FUZZ_CHECK_OP("nub_snapshot_load_buffer", nub_fuzz_alloc_live() == 0);
		return 0;
	}

	kvm_fuzz_config(&cfg);
	cfg.input_size = cfg.output_size = cfg.heap_size = cfg.stack_size = 0; /* the snapshot's */
	cfg.alloc = hook;
	const struct nub_host_function *fns = kvm_fuzz_host_functions(&nfns);
	st = nub_sandbox_from_snapshot(snap, fns, nfns, &cfg, &sb, &err);
	if (st != NUB_OK) {
		nub_fuzz_outcome(kvm_fuzz_outcome("sandbox", st));
		kvm_fuzz_check_result("nub_sandbox_from_snapshot", st, &err);
		nub_snapshot_unref(snap);
		NUB_FUZZ_CHECK_OP("nub_sandbox_from_snapshot", nub_fuzz_alloc_live() == 0);
		return 0;
	}

	enum nub_status st1 = call(sb, SIMPLE_ECHO, "ping", &err1);
	enum nub_sandbox_status after1 = nub_sandbox_status(sb);
	enum nub_status rst = NUB_OK;
	if (after1 == NUB_SANDBOX_POISONED)
		rst = nub_sandbox_restore(sb, snap, &err);
	enum nub_status st2 = rst == NUB_OK ? call(sb, SIMPLE_STATIC_COUNTER, "", &err2) : NUB_OK;
	nub_fuzz_outcome(st1 != NUB_OK ? kvm_fuzz_outcome("echo", st1)
				       : kvm_fuzz_outcome("counter", st2));
	if (rst != NUB_OK)
		fprintf(stderr, "nub-fuzz: restore failed: %s\n", err.message);
	NUB_FUZZ_CHECK_OP("nub_sandbox_restore", rst == NUB_OK);
	kvm_fuzz_check_call(after1, st1, &err1);
	kvm_fuzz_check_call(nub_sandbox_status(sb), st2, &err2);

	nub_sandbox_free(sb);
	nub_snapshot_unref(snap);
	NUB_FUZZ_CHECK_OP("nub_sandbox_free", nub_fuzz_alloc_live() == 0);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	snap_describe(data, len, out);
}
