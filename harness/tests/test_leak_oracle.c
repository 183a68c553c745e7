/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests of the state-leak oracle (leak_oracle.h): what the fuzz guest sees is the snapshot. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bytes.h"
#include "fuzz_cmds_codec.h"
#include "kvm_target.h"
#include "le_bytes.h"
#include "leak_oracle.h"
#include "mem.h"
#include "nub_fuzz.h"
#include "sandbox.h"
#include "snapshot.h"
#include "testlib.h"

struct fixture {
	struct nub_sandbox *sb;
	struct nub_snapshot *snap;
	struct nub_error err;
	/* The ranges FUZZ_FN_DIGEST reported right after the snapshot: gva, size. */
	uint64_t gva[FUZZ_RANGE_COUNT], size[FUZZ_RANGE_COUNT];
};

static void restore(struct fixture *f)
{
	if (nub_sandbox_restore(f->sb, f->snap, &f->err) != NUB_OK)
		fail_msg("restore: %s", f->err.message);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->sb = nub_test_evolve("fuzz", NULL);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &f->snap, &f->err), NUB_OK);
	for (uint32_t i = 0; i < FUZZ_RANGE_COUNT; i++) {
		struct nub_buf resp = { 0 };
		uint8_t req[FUZZ_DIGEST_REQUEST_SIZE] = { LE32(i), LE32(0), LE32(8) };

		assert_int_equal(nub_sandbox_call(f->sb, FUZZ_FN_DIGEST, req, sizeof req, &resp,
						  &f->err),
				 NUB_OK);
		assert_int_equal(resp.len, FUZZ_DIGEST_RESPONSE_SIZE);
		f->gva[i] = nub_le64(resp.data);
		f->size[i] = nub_le64(resp.data + 8);
		nub_buf_free(&resp);
	}
	restore(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nub_sandbox_free(f->sb);
	nub_snapshot_unref(f->snap);
	free(f);
	return 0;
}

/* The digest of the sandbox's memory [gva, gva + size), read through the host mapping. */
static uint64_t host_digest(struct fixture *f, uint64_t gva, uint64_t size)
{
	uint64_t *w = malloc(size), h;
	volatile uint8_t *p = nub_mem_ptr(&f->sb->img.mem, gva, size);

	assert_non_null(w);
	assert_non_null(p);
	for (uint64_t i = 0; i < size / 8; i++)
		w[i] = nub_vload64(p + 8 * i);
	h = nub_digest_words(w, size / 8);
	free(w);
	return h;
}

static void assert_no_leak(struct fixture *f, const char *when)
{
	if (leak_oracle_check(f->sb, f->snap, &f->err) != NUB_OK)
		fail_msg("leak oracle %s: %s", when, f->err.message);
}

static void test_exact_states_pass(void **state)
{
	struct fixture *f = *state;
	struct fuzz_prog p = { 0 };
	struct nub_buf resp = { 0 };
	static const uint8_t bytes[] = "written over the input buffer";

	/* The ranges follow fuzz_cmds.h (the call state is the runtime's two words). */
	const struct nub_layout *l = &f->sb->img.layout;
	assert_int_equal(f->gva[FUZZ_RANGE_DATA2],
			 f->gva[FUZZ_RANGE_DATA] + f->size[FUZZ_RANGE_DATA] + 16);
	assert_int_equal((f->gva[FUZZ_RANGE_DATA2] + f->size[FUZZ_RANGE_DATA2]) % NUB_PAGE_SIZE, 0);
	assert_int_equal(f->gva[FUZZ_RANGE_HEAP], l->heap_gpa);
	assert_int_equal(f->size[FUZZ_RANGE_HEAP], l->heap_size);
	assert_int_equal(f->gva[FUZZ_RANGE_STACK], nub_snapshot_stack_pointer(f->snap));
	assert_int_equal(f->gva[FUZZ_RANGE_STACK] + f->size[FUZZ_RANGE_STACK],
			 l->stack_gpa + l->stack_size);
	/* sp 36 = 8 + the 8-byte request header, 12 bytes of payload and the back-pointer. */
	assert_int_equal(f->gva[FUZZ_RANGE_INPUT], l->input_gpa + 40);
	assert_int_equal(f->size[FUZZ_RANGE_INPUT], l->input_size - 40);
	assert_int_equal(f->gva[FUZZ_RANGE_OUTPUT], l->output_gpa);
	assert_int_equal(f->size[FUZZ_RANGE_OUTPUT], l->output_size);
	assert_no_leak(f, "right after a restore");
	restore(f);
	/* A call that mallocs (the stream copy), writes both buffers and the output's pointer. */
	assert_true(fuzz_prog_write_input(&p, 0x100, bytes, sizeof bytes));
	assert_true(fuzz_prog_write_output(&p, 0x200, bytes, sizeof bytes));
	assert_true(fuzz_prog_respond(&p, bytes, sizeof bytes));
	assert_int_equal(nub_sandbox_call(f->sb, FUZZ_FN_RUN, p.buf, p.len, &resp, &f->err),
			 NUB_OK);
	assert_memory_equal(resp.data, bytes, sizeof bytes);
	nub_buf_free(&resp);
	fuzz_prog_free(&p);
	restore(f);
	assert_no_leak(f, "after a call and a restore");
	restore(f);
	assert_no_leak(f, "again");
	restore(f);
}

/*
 * A byte changed behind the dirty log (a host write, which KVM does not log, so restore keeps
 * it) in the last word of each range is named with both digests; the same change below the
 * snapshot's rsp, where each call builds its frames, is not state the next call sees.
 */
static void test_each_range_named(void **state)
{
	struct fixture *f = *state;
	char want[NUB_ERROR_MESSAGE_MAX];

	for (unsigned i = 0; i < FUZZ_RANGE_COUNT; i++) {
		/* The last chunk of the range, and a change in its last word. */
		uint64_t size = f->size[i],
			 last = (size - 1) / LEAK_ORACLE_CHUNK * LEAK_ORACLE_CHUNK;
		uint64_t gva = f->gva[i] + last, n = size - last, snap_digest;
		volatile uint8_t *p = nub_mem_ptr(&f->sb->img.mem, gva + n - 8, 1);
		uint8_t old = *p;

		assert_int_equal(nub_snapshot_digest(f->snap, gva, n, &snap_digest, &f->err),
				 NUB_OK);
		*p = (uint8_t)(old ^ 0x5a);
		snprintf(want, sizeof want,
			 "the guest sees its %s at [0x%" PRIx64 ", +0x%" PRIx64
			 ") with digest 0x%016" PRIx64 ", the snapshot holds 0x%016" PRIx64,
			 leak_oracle_range_names[i], gva, n, host_digest(f, gva, n), snap_digest);
		assert_int_equal(leak_oracle_check(f->sb, f->snap, &f->err), NUB_E_DIVERGED);
		assert_int_equal(f->err.status, NUB_E_DIVERGED);
		assert_string_equal(f->err.message, want);
		*p = old;
		restore(f);
		assert_no_leak(f, "with the byte put back");
		restore(f);
	}
	volatile uint8_t *dead = nub_mem_ptr(&f->sb->img.mem, f->gva[FUZZ_RANGE_STACK] - 0x1000, 1);
	*dead ^= 0x5a;
	assert_no_leak(f, "with dead stack below the snapshot's rsp changed");
	*dead ^= 0x5a;
	restore(f);
}

/* nub_snapshot_digest: the known digest of a range, and every malformed range refused. */
static void test_snapshot_digest(void **state)
{
	struct fixture *f = *state;
	const struct nub_layout *l = &f->snap->layout;
	uint64_t d = 0, top = l->scratch_gpa + l->scratch_size;

	/* The unused top page of scratch is zero, which digests to 0. */
	assert_int_equal(nub_snapshot_digest(f->snap, top - 16, 16, &d, &f->err), NUB_OK);
	assert_int_equal(d, 0);
	/* The boot info's first word, abi_version 1 and the default level ERROR: FNV-1a by hand. */
	uint64_t w = NUB_ABI_VERSION | (uint64_t)NUB_LEVEL_ERROR << 32;
	assert_int_equal(nub_snapshot_digest(f->snap, l->boot_info_gpa, 8, &d, &f->err), NUB_OK);
	assert_int_equal(d, (0xcbf29ce484222325ull ^ w) * 0x100000001b3ull);
	assert_int_equal(nub_snapshot_digest(f->snap, top - 8, 16, &d, &f->err), NUB_E_INVALID);
	assert_string_equal(f->err.message, "digest range 0xffffffff8+0x10 is not inside the "
					    "primary or the scratch region");
	assert_int_equal(nub_snapshot_digest(f->snap, NUB_PRIMARY_BASE - 8, 16, &d, &f->err),
			 NUB_E_INVALID);
	assert_int_equal(nub_snapshot_digest(f->snap, NUB_PRIMARY_BASE + l->primary_size - 8, 16,
					     &d, &f->err),
			 NUB_E_INVALID);
	assert_int_equal(nub_snapshot_digest(f->snap, UINT64_MAX - 7, 8, &d, &f->err),
			 NUB_E_INVALID);
	assert_int_equal(nub_snapshot_digest(f->snap, NUB_PRIMARY_BASE + 4, 8, &d, &f->err),
			 NUB_E_INVALID);
	assert_string_equal(f->err.message,
			    "digest range 0x4004+0x8 is not 8-byte aligned and non-empty");
	assert_int_equal(nub_snapshot_digest(f->snap, NUB_PRIMARY_BASE, 0, &d, &f->err),
			 NUB_E_INVALID);
	assert_int_equal(nub_snapshot_digest(f->snap, NUB_PRIMARY_BASE, 12, &d, &f->err),
			 NUB_E_INVALID);
}

/* kvm_target.c's trivial-iteration line runs the target's input function; no case here does. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}

/*
 * In a child, which makes its own sandbox (KVM serves a VM only to the process that made it):
 * the last heap byte changed behind the dirty log, then the fuzz targets' check, which aborts.
 */
static _Noreturn void leak_child(int out_fd)
{
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("fuzz") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *snap = NULL;
	struct nub_error err;

	if (dup2(out_fd, STDERR_FILENO) < 0 || nub_uninit_new(&env, NULL, &u, &err) != NUB_OK ||
	    nub_uninit_evolve(u, &sb, &err) != NUB_OK ||
	    nub_sandbox_snapshot(sb, &snap, &err) != NUB_OK)
		_exit(2);
	const struct nub_layout *l = &sb->img.layout;
	*nub_mem_ptr(&sb->img.mem, l->heap_gpa + l->heap_size - 8, 1) ^= 0x5a;
	kvm_fuzz_check_no_leak(sb, snap);
	_exit(3); /* not reached */
}

/* The target's check prints the differing chunk and the host's view, then the named invariant. */
static void test_invariant_names_the_leak(void **state)
{
	struct fixture *f = *state;
	const struct nub_layout *l = &f->sb->img.layout;
	uint64_t end = l->heap_gpa + l->heap_size, chunk[LEAK_ORACLE_CHUNK / 8] = { 0 };
	char out[8192], want[3][512];
	size_t n = 0;
	ssize_t r;
	int fds[2], ws;

	chunk[LEAK_ORACLE_CHUNK / 8 - 1] = 0x5a;
	snprintf(
		want[0], sizeof want[0],
		"nub-fuzz: state-leak oracle: NUB_E_DIVERGED: the guest sees its heap at [0x%" PRIx64
		", +0x%x) with digest 0x%016" PRIx64 ", the snapshot holds 0x0000000000000000\n",
		end - LEAK_ORACLE_CHUNK, LEAK_ORACLE_CHUNK,
		nub_digest_fnv(chunk, LEAK_ORACLE_CHUNK / 8));
	snprintf(want[1], sizeof want[1],
		 "nub-fuzz: state-leak oracle: host view: guest page 0x%" PRIx64
		 " (primary region) differs from the snapshot: byte 0x%" PRIx64
		 " is 0x5a in the sandbox, 0x00 in the snapshot\n",
		 end - NUB_PAGE_SIZE, end - 8);
	snprintf(want[2], sizeof want[2],
		 "nub-fuzz: invariant: nub_sandbox_restore guest state digest == snapshot\n");
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		leak_child(fds[1]);
	}
	close(fds[1]);
	while ((r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGABRT)
		fail_msg("the check did not abort (wait status 0x%x): %s", ws, out);
	for (unsigned i = 0; i < 3; i++)
		if (!strstr(out, want[i]))
			fail_msg("missing \"%s\" in:\n%s", want[i], out);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_exact_states_pass),
	NUB_TEST_CASE(test_each_range_named),
	NUB_TEST_CASE(test_snapshot_digest),
	NUB_TEST_CASE(test_invariant_names_the_leak),
};
NUB_TEST_SUITE(tests);
