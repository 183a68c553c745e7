/* SPDX-License-Identifier: Apache-2.0 */
/* nub guest/host ABI: guest-physical layout, ports, boot info and wire frames (C99, freestanding). */
#ifndef NUB_ABI_H
#define NUB_ABI_H

#include <stdint.h>

/*
 * Bumped on any incompatible change to anything in this file. Guests carry it in an ELF note
 * (NUB_NOTE_NAME / NUB_NOTE_TYPE_ABI, a u32 descriptor); the host refuses a guest whose note is
 * absent or different.
 */
#define NUB_ABI_VERSION 1u
#define NUB_NOTE_NAME "nub"
#define NUB_NOTE_TYPE_ABI 1u

/* ---- Guest-physical layout (guest-virtual addresses are identical: the host identity-maps) ---- */

#define NUB_PAGE_SIZE 0x1000u
/*
 * GPA 0..0x3FFF is never mapped by the guest's page tables, so a NULL dereference is a clean page
 * fault. The host keeps its read-only vCPU reset stub there (engine/src/reset.h).
 */
#define NUB_PRIMARY_BASE 0x4000u
/* Scratch (buffers, stacks, host metadata) ends at the top of a 36-bit guest-physical space. */
#define NUB_GPA_BITS 36u
#define NUB_GPA_TOP (1ull << NUB_GPA_BITS)
/* The host-owned guest counter (u64) lives at scratch_size - 0x1008, in a page mapped read-only. */
#define NUB_COUNTER_TOP_OFFSET 0x1008u

/* Memory permissions, used for init data and page mappings. */
#define NUB_MEM_READ 1u
#define NUB_MEM_WRITE 2u
#define NUB_MEM_EXECUTE 4u

/*
 * Boot info ("PEB"), written by the host at boot_info_gpa (passed to the entry point in rdi) and
 * mapped read-only. Structs here only ever grow by appending fields.
 */
struct nub_boot_info {
	uint32_t abi_version;   /* NUB_ABI_VERSION */
	uint32_t max_log_level; /* enum nub_abi_log_level: the guest drops records above this */
	uint64_t input_gva;     /* host -> guest stack buffer */
	uint64_t input_size;
	uint64_t output_gva; /* guest -> host stack buffer */
	uint64_t output_size;
	uint64_t heap_gva;
	uint64_t heap_size;
	uint64_t init_data_gva; /* 0 when there is no init data */
	uint64_t init_data_size;
	uint64_t init_data_perms; /* NUB_MEM_* */
	uint64_t counter_gva;     /* u64, written only by the host, read-only to the guest */
	uint64_t stack_top_gva;   /* initial rsp + 8; an unmapped guard page lies below the stack */
	uint64_t exception_stack_top_gva; /* IST1 top for every exception vector */
	uint64_t page_tables_gva;         /* the host-built tables, mapped read-write, no-execute */
	uint64_t page_tables_size;
	uint64_t scratch_gva;
	uint64_t scratch_size;
};
_Static_assert(sizeof(struct nub_boot_info) == 136, "boot info layout is ABI");

/* ---- Ports (a 32-bit OUT; an OUT to any other port is a protocol error) ---- */

enum nub_abi_port {
	NUB_PORT_LOG = 99,          /* pop a log record from the output buffer */
	NUB_PORT_HOST_CALL = 101,   /* pop a request from output, push the response to input */
	NUB_PORT_ABORT = 102,       /* abort byte stream, see below */
	NUB_PORT_DEBUG_PRINT = 103, /* value = one Unicode scalar */
	NUB_PORT_HALT = 108,        /* init done / call done (a HLT instruction means the same) */
};

/*
 * Abort stream over NUB_PORT_ABORT: each 32-bit write is [n, b1, b2, b3] (little-endian bytes)
 * with n = 1..3 valid data bytes. The data is: abort code (1 byte), the exception vector (1 byte,
 * only when the code is NUB_ABORT_EXCEPTION), the message, then NUB_ABORT_TERMINATOR. The host
 * stops reading at NUB_ABORT_MAX_BYTES data bytes.
 */
#define NUB_ABORT_TERMINATOR 0xFFu
#define NUB_ABORT_MAX_BYTES 1024u

enum nub_abi_abort_code {
	NUB_ABORT_PANIC = 1,         /* guest-detected bug or explicit abort */
	NUB_ABORT_EXCEPTION = 2,     /* CPU exception; the vector byte follows */
	NUB_ABORT_OUT_OF_MEMORY = 3, /* heap exhausted */
	NUB_ABORT_PROTOCOL = 4,      /* the guest found a malformed frame from the host */
};

/*
 * On NUB_ABORT_EXCEPTION the CPU frame sits at the top of the exception stack, which the host reads
 * itself (the guest's word is not needed): [top-48] error code (0 for vectors without one),
 * [top-40] RIP, [top-32] CS, [top-24] RFLAGS, [top-16] RSP, [top-8] SS.
 */
#define NUB_EXCEPTION_FRAME_SIZE 48u

/* ---- I/O buffers ----
 * Each buffer begins with a u64 stack pointer sp (offset of the next free byte, initially 8).
 * An element is [bytes][u64 back-pointer = sp before the push]; its length is sp - back - 8.
 */
#define NUB_IOBUF_SP_INIT 8u

/* ---- Wire frames (little-endian, fixed headers, explicit lengths) ---- */

/* Request, both directions: header then payload_len bytes. */
struct nub_wire_request {
	uint32_t fn_id;
	uint32_t payload_len;
};
_Static_assert(sizeof(struct nub_wire_request) == 8, "request header is ABI");

/* Response, both directions: header, payload_len bytes of payload, msg_len bytes of message. */
struct nub_wire_response {
	uint32_t status; /* enum nub_abi_status; 0 = ok */
	uint32_t payload_len;
	uint32_t msg_len;
};
_Static_assert(sizeof(struct nub_wire_response) == 12, "response header is ABI");

/* Log record: header, file_len bytes of source file name, msg_len bytes of message. */
struct nub_wire_log {
	uint32_t level; /* enum nub_abi_log_level, 1..5 */
	uint32_t line;
	uint32_t file_len;
	uint32_t msg_len;
};
_Static_assert(sizeof(struct nub_wire_log) == 16, "log header is ABI");

enum nub_abi_status {
	NUB_STATUS_OK = 0,
	NUB_STATUS_NO_SUCH_FUNCTION = 1,   /* no function with that fn_id */
	NUB_STATUS_BAD_REQUEST = 2,        /* malformed request frame */
	NUB_STATUS_RESPONSE_TOO_LARGE = 3, /* the response does not fit the buffer */
	NUB_STATUS_HOST_ERROR = 4,         /* a host function reported an error */
	NUB_STATUS_GUEST_ERROR = 5,        /* first code free for guest functions' own errors */
};

enum nub_abi_log_level {
	NUB_LEVEL_OFF = 0,
	NUB_LEVEL_ERROR = 1,
	NUB_LEVEL_WARN = 2,
	NUB_LEVEL_INFO = 3,
	NUB_LEVEL_DEBUG = 4,
	NUB_LEVEL_TRACE = 5,
};

/* ---- Memory digest ----
 * The digest a guest may report of its own memory (the fuzz guest's FUZZ_FN_DIGEST) and the host
 * computes over a snapshot's (nub_snapshot_digest), of a range of little-endian u64 words: 0 when
 * every word is zero, else FNV-1a over the words, one multiply per word rather than per byte.
 * Both choices are for guests whose code is emulated instruction by instruction: one `repe
 * scasq` establishes the zero case (most of a fresh guest's writable memory) about three times
 * faster than any loop, and the loop is unrolled. Ranges are 8-byte aligned multiples of 8
 * bytes. It detects accidental differences (a non-zero range digests to 0 with probability
 * 2^-64), not adversarial ones: it checks a cooperating guest's view, not a hostile guest.
 */
#define NUB_DIGEST_INIT 0xcbf29ce484222325ull
#define NUB_DIGEST_PRIME 0x100000001b3ull

#define NUB_DIGEST_STEP(h, v) ((h) = ((h) ^ (v)) * NUB_DIGEST_PRIME)

/* FNV-1a of the (n) words at (w), from NUB_DIGEST_INIT: the digest of a range not all zero. */
static inline uint64_t nub_digest_fnv(const uint64_t *w, uint64_t n)
{
	uint64_t h = NUB_DIGEST_INIT, i = 0;

	for (; n - i >= 8; i += 8) {
		NUB_DIGEST_STEP(h, w[i]);
		NUB_DIGEST_STEP(h, w[i + 1]);
		NUB_DIGEST_STEP(h, w[i + 2]);
		NUB_DIGEST_STEP(h, w[i + 3]);
		NUB_DIGEST_STEP(h, w[i + 4]);
		NUB_DIGEST_STEP(h, w[i + 5]);
		NUB_DIGEST_STEP(h, w[i + 6]);
		NUB_DIGEST_STEP(h, w[i + 7]);
	}
	for (; i < n; i++)
		NUB_DIGEST_STEP(h, w[i]);
	return h;
}

/* The digest of the (n) words at (w): 0 if all are zero, else nub_digest_fnv. */
static inline uint64_t nub_digest_words(const uint64_t *w, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (w[i])
			return nub_digest_fnv(w, n);
	return 0;
}

#endif /* NUB_ABI_H */
