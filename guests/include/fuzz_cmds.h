/* SPDX-License-Identifier: Apache-2.0 */
/* The command stream the `fuzz` guest interprets (FUZZ_FN_RUN's payload); shared with the host-side encoder and decoder. */
#ifndef NUB_FUZZ_CMDS_H
#define NUB_FUZZ_CMDS_H

/*
 * The `fuzz` guest has one function, FUZZ_FN_RUN, whose payload is a sequence of commands:
 * [u8 op][arguments], integers little-endian. The guest executes them in order, then responds
 * with the bytes set by FUZZ_OP_RESPOND (empty by default). A truncated command or an unknown op
 * ends the stream early (never an error): every byte string is a valid program, which keeps the
 * fuzzer's mutations meaningful. Lengths are clamped to what the buffers hold, never trusted.
 */
#define FUZZ_FN_RUN 1u

/*
 * FUZZ_FN_DIGEST reports what the guest sees of its own writable state at the entry of a call,
 * for the state-leak oracle: a host that calls it right after restoring a snapshot checks each
 * digest against nub_snapshot_digest of that snapshot, so state leaking from one input into the
 * next is caught where the guest would see it, whatever the host's own view of guest memory.
 * Payload: u32 range (below), u32 offset into it (a multiple of 8), u32 length. Response: u64
 * gva, u64 size of the whole range, u64 digest (abi.h) of [gva + offset, gva + offset + length)
 * clipped to the range (the length rounded down to 8); NUB_STATUS_BAD_REQUEST for another
 * payload size, range or an unaligned offset. One call digests one chunk: guest code may be
 * emulated (several us per word), and a host keeps each call well inside its time limit.
 * The ranges (nub_guest.h, nub_guest_state_layout):
 *   DATA, DATA2  .data/.bss (the page-rounded writable data segment) before and after the
 *                runtime's call state, which serve() writes at every call's entry before any
 *                function runs, so the snapshot holds the previous call's values, or none;
 *   HEAP         the whole heap region (malloc hands out memory the guest may read unwritten);
 *   STACK        from the call loop's stack pointer, which is the snapshot's rsp, to the stack
 *                top: the frames that persist across calls. The part below it is excluded: each
 *                call's entry builds its frames there and rewrites it, and what an earlier call
 *                left deeper down is dead memory a correct guest never reads;
 *   INPUT        the input buffer from its stack pointer (rounded up to 8) on: below it are the
 *                pointer itself and the request element the host pushed for this very call;
 *   OUTPUT       the whole output buffer (nothing is written to it before the function runs,
 *                and the host takes and zeroes each response).
 * Not covered: the page tables (read by the MMU, not by guest code; the fuzz guest never writes
 * them), the exception stack (written by the CPU on a fault, which ends the call) and the
 * read-only pages; nub_sandbox_verify compares all of them from the host side.
 */
#define FUZZ_FN_DIGEST 2u
enum fuzz_range {
	FUZZ_RANGE_DATA,
	FUZZ_RANGE_DATA2,
	FUZZ_RANGE_HEAP,
	FUZZ_RANGE_STACK,
	FUZZ_RANGE_INPUT,
	FUZZ_RANGE_OUTPUT,
	FUZZ_RANGE_COUNT
};
#define FUZZ_DIGEST_REQUEST_SIZE 12u
#define FUZZ_DIGEST_RESPONSE_SIZE 24u

enum fuzz_op {
	FUZZ_OP_OUT = 0x01,  /* u16 port, u32 value: 32-bit OUT (any port, any value) */
	FUZZ_OP_OUT8 = 0x02, /* u16 port, u8 value: 8-bit OUT */
	FUZZ_OP_WRITE_OUTPUT =
		0x03, /* u16 offset, u16 len, bytes: raw bytes into the output buffer */
	FUZZ_OP_WRITE_INPUT =
		0x04, /* u16 offset, u16 len, bytes: raw bytes into the input buffer */
	FUZZ_OP_SET_OUTPUT_SP = 0x05, /* u64 value: the output buffer's stack pointer */
	FUZZ_OP_PUSH_OUTPUT =
		0x06, /* u16 len, bytes: push one raw element onto the output buffer */
	FUZZ_OP_HOST_CALL =
		0x07,       /* u32 fn_id, u16 len, bytes: a well-formed host call; result ignored */
	FUZZ_OP_LOG = 0x08, /* u8 level, u16 len, bytes: a well-formed log record */
	FUZZ_OP_DEBUG_PRINT = 0x09, /* u16 len, bytes: debug print, one OUT per byte */
	FUZZ_OP_ABORT = 0x0a,       /* u8 code, u16 len, bytes: a well-formed abort stream */
	FUZZ_OP_EXCEPTION = 0x0b,   /* u8 kind: fuzz_exception below (kind modulo the count) */
	FUZZ_OP_SPIN =
		0x0c, /* u32 n: spins n iterations (capped at 4096); 0xffffffff spins forever */
	FUZZ_OP_HALT = 0x0d, /* OUT to the halt port mid-call */
	FUZZ_OP_HLT = 0x0e,  /* the hlt instruction mid-call */
	FUZZ_OP_RESPOND =
		0x0f, /* u16 len, bytes: the response payload (clamped to the output space) */
	FUZZ_OP_COUNT
};

enum fuzz_exception {
	FUZZ_EXC_DIVIDE = 0,
	FUZZ_EXC_UD2 = 1,
	FUZZ_EXC_GP = 2,   /* non-canonical load */
	FUZZ_EXC_NULL = 3, /* load from address 8 */
	FUZZ_EXC_WRITE_CODE = 4,
	FUZZ_EXC_EXEC_DATA = 5,
	FUZZ_EXC_STACK_OVERFLOW = 6,
	FUZZ_EXC_COUNT
};

#endif
