/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_guest_blob: untrusted guest binaries and init data, end to end on a real VM. Input:
 * u8 init_data_perms (NUB_MEM_* bits, passed as they are), u32 init_len (little-endian), then
 * min(init_len, what is left) bytes of init data, then the ELF file (the rest). The target loads
 * it from memory (nub_uninit_new), registers the host functions of kvm_target.h, evolves it (the
 * guest's init runs under the 20 ms time limit), calls fn_id 1 once with a 3-byte payload and
 * frees everything.
 *
 * Reset: every input builds a fresh sandbox from nothing and frees it, so no state carries over
 * (no snapshot is needed; this is also why it runs far fewer inputs per second than the
 * snapshot-restoring targets).
 *
 * Invariants: every result is a known status, never NUB_E_KVM, with a message on failure
 * (kvm_target.h); the call leaves the sandbox ready or poisoned as nub.h promises; and every
 * engine allocation is freed once the sandbox is (the counting allocation hook).
 */
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"
#include "fuzz_input.h"
#include "kvm_skip.h"
#include "kvm_target.h"
#include "nub_fuzz.h"

#define MAX_INPUT (1u << 20)

static bool ready;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kvm_skip_unless_available("fuzz_guest_blob");
	kvm_fuzz_warm_up();
	/* The outcome names now, not on an input's first use (stable AFL++ coverage). */
	kvm_fuzz_outcome("load", NUB_OK);
	kvm_fuzz_outcome("init", NUB_OK);
	kvm_fuzz_outcome("call", NUB_OK);
	ready = true;
	kvm_fuzz_report_iteration("fuzz_guest_blob",
				  NULL); /* after (ready): it runs TestOneInput */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	struct fuzz_input in;
	struct nub_config cfg;
	struct nub_error err;
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_buf resp;
	const uint8_t *init, *elf;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	if (!ready)
		LLVMFuzzerInitialize(NULL, NULL);
	fuzz_input_init(&in, data, size);
	uint8_t perms = fuzz_read_u8(&in);
	uint32_t want = fuzz_read_u32(&in);
	size_t init_len = fuzz_read_bytes(&in, want, &init);
	size_t elf_len = fuzz_read_rest(&in, &elf);

	nub_fuzz_alloc_reset(0);
	kvm_fuzz_config(&cfg);
	cfg.alloc = nub_fuzz_alloc_hook();
	struct nub_guest_env env = {
		.data = elf_len ? elf : empty,
		.data_len = elf_len,
		.init_data = init_len ? init : NULL,
		.init_data_len = init_len,
		.init_data_perms = perms,
	};
	enum nub_status st = nub_uninit_new(&env, &cfg, &u, &err);
	if (st != NUB_OK) {
		nub_fuzz_outcome(kvm_fuzz_outcome("load", st));
		kvm_fuzz_check_result("nub_uninit_new", st, &err);
		NUB_FUZZ_CHECK_OP("nub_uninit_new", u == NULL);
		NUB_FUZZ_CHECK_OP("nub_uninit_new", nub_fuzz_alloc_live() == 0);
		return 0;
	}
	kvm_fuzz_register(u);
	st = nub_uninit_evolve(u, &sb, &err);
	if (st != NUB_OK) {
		nub_fuzz_outcome(kvm_fuzz_outcome("init", st));
		kvm_fuzz_check_result("nub_uninit_evolve", st, &err);
		NUB_FUZZ_CHECK_OP("nub_uninit_evolve", sb == NULL);
		NUB_FUZZ_CHECK_OP("nub_uninit_evolve", nub_fuzz_alloc_live() == 0);
		return 0;
	}
	memset(&resp, 0, sizeof resp);
	st = nub_sandbox_call(sb, 1, "nub", 3, &resp, &err);
	nub_fuzz_outcome(kvm_fuzz_outcome("call", st));
	kvm_fuzz_check_call(nub_sandbox_status(sb), st, &err);
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
	NUB_FUZZ_CHECK_OP("nub_sandbox_free", nub_fuzz_alloc_live() == 0);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	const uint8_t *init, *elf;

	fuzz_input_init(&in, data, len);
	unsigned perms = fuzz_read_u8(&in);
	uint32_t want = fuzz_read_u32(&in);
	size_t init_len = fuzz_read_bytes(&in, want, &init);
	size_t n = fuzz_read_rest(&in, &elf);
	fprintf(out, "  init data perms 0x%x (%s%s%s), %zu bytes (declared %u)\n", perms,
		perms & NUB_MEM_READ ? "r" : "-", perms & NUB_MEM_WRITE ? "w" : "-",
		perms & NUB_MEM_EXECUTE ? "x" : "-", init_len, want);
	nub_fuzz_hexdump(out, init, init_len, 64);
	fprintf(out, "  ELF file, %zu bytes\n", n);
	elf_file_describe(elf, n, out);
}
