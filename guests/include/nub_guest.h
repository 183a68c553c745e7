/* SPDX-License-Identifier: Apache-2.0 */
/* The nub guest runtime API: what a freestanding guest program defines and may call. */
#ifndef NUB_GUEST_H
#define NUB_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "nub/abi.h"
#include "nub/x86.h" /* the architectural constants guests program the CPU with */

/*
 * ---- What a guest defines ----
 *
 * A guest program links against nub_guest_runtime, which owns the entry point, CPU set-up
 * (GDT, TSS, IDT: every CPU exception aborts with NUB_ABORT_EXCEPTION), the heap and the call loop.
 * The guest defines its function table:
 *
 *	const struct nub_guest_fn nub_guest_functions[] = { { 1, my_fn }, ... };
 *	const uint32_t nub_guest_function_count = 1;
 *
 * and may define nub_guest_main(), run once during initialisation before the guest reports ready
 * (the runtime's weak default does nothing). A table of consecutive fn_ids in order
 * (functions[i].fn_id == functions[0].fn_id + i) is looked up in one step, any other by a scan.
 */

/*
 * Where a function writes its response. (data) points straight into the output buffer, after the
 * response header; (cap) bytes fit there. A function writes its payload at data[0..len) and sets
 * (len) <= (cap). Bytes data[0..len) survive nub_guest_log() and nub_guest_host_call(), which
 * place their own records after them; bytes beyond (len) may be overwritten by those calls, so set
 * (len) as the payload grows if the function logs or calls the host in between.
 * On an error status the payload is dropped and (msg) (NUL-terminated, NULL = none) becomes the
 * response message, truncated to (cap) bytes; it must stay valid after the function returns
 * (static storage, or the msg of a host-call result).
 */
struct nub_guest_out {
	uint8_t *data;
	uint32_t cap;
	uint32_t len;
	const char *msg;
};

/*
 * A guest function: (in) and (len) are the request payload, read-only and valid for the whole
 * call (they point into the input buffer). Returns NUB_STATUS_OK with out->len payload bytes, or
 * an error status: NUB_STATUS_GUEST_ERROR and above for the guest's own errors,
 * NUB_STATUS_RESPONSE_TOO_LARGE when the response does not fit, or a status relayed from a host
 * call. A function that returns OK with out->len > out->cap gets NUB_STATUS_RESPONSE_TOO_LARGE
 * instead.
 */
struct nub_guest_fn {
	uint32_t fn_id;
	uint32_t (*fn)(const uint8_t *in, uint32_t len, struct nub_guest_out *out);
};

extern const struct nub_guest_fn nub_guest_functions[];
extern const uint32_t nub_guest_function_count;
void nub_guest_main(void);

/* ---- Environment ---- */

/* The boot info the host passed at entry (read-only, valid forever). */
const struct nub_boot_info *nub_guest_boot_info(void);

/*
 * Where a call's view of the guest's state lies, for a digest of it (the fuzz guest's
 * FUZZ_FN_DIGEST). [data_start, data_end) is the writable data segment, .data and .bss, with
 * data_end rounded up to the page (the host maps the whole page writable); [call_state_start,
 * call_state_end) inside it is what the runtime writes at each call's entry before the function
 * runs (so not what the snapshot holds). call_sp is the call loop's stack pointer, which is the
 * snapshot's rsp: every call builds its frames below it. All 8-byte aligned.
 */
struct nub_guest_state_layout {
	uint64_t data_start, call_state_start, call_state_end, data_end;
	uint64_t call_sp;
};
void nub_guest_state_layout(struct nub_guest_state_layout *out);

/*
 * Makes the runtime report the end of the current call with a HLT instruction instead of an OUT
 * to NUB_PORT_HALT (both mean "call done" to the host); the response is pushed as usual. For tests
 * of the host's HLT handling.
 */
void nub_guest_end_call_with_hlt(void);

/* A 32-bit OUT of (value) to (port): the only way the guest talks to the host. */
static inline void nub_guest_outl(uint16_t port, uint32_t value)
{
	/* "memory": everything written for the host must be in guest memory before the exit. */
	__asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port) : "memory");
}

/* ---- Host calls ---- */

/* The host's response to nub_guest_host_call(). */
struct nub_guest_host_result {
	const uint8_t *payload;
	uint32_t payload_len;
	const char *msg; /* NUL-terminated (a NUL inside the message ends it early for C strings) */
	uint32_t msg_len;
};

/*
 * Calls host function (fn_id) with (len) bytes of (req) and returns the response status; (res)
 * points at a private copy of the response, valid until the next host call ((req) may point into
 * the previous result). A request that does not fit the output buffer returns
 * NUB_STATUS_BAD_REQUEST without calling the host. A malformed response aborts the guest with
 * NUB_ABORT_PROTOCOL; no heap for the copy aborts with NUB_ABORT_OUT_OF_MEMORY (the copy buffer,
 * input_size bytes, is allocated at the first host call).
 */
uint32_t nub_guest_host_call(uint32_t fn_id, const void *req, uint32_t len,
			     struct nub_guest_host_result *res);

/* ---- Logging and printing ---- */

/*
 * Sends a log record at (level) (enum nub_abi_log_level) from source (file):(line) if
 * 0 < level <= boot_info.max_log_level, else does nothing. A message that does not fit the output
 * buffer is truncated; a record whose header and file name do not fit is dropped.
 */
void nub_guest_log_n(uint32_t level, const char *file, uint32_t line, const char *msg,
		     uint32_t msg_len);
void nub_guest_log(uint32_t level, const char *file, uint32_t line, const char *msg);

#ifdef __FILE_NAME__
#define NUB_LOG(level, msg) nub_guest_log((level), __FILE_NAME__, __LINE__, (msg))
#else
#define NUB_LOG(level, msg) nub_guest_log((level), __FILE__, __LINE__, (msg))
#endif

/*
 * Debug-prints (len) bytes of (s), one OUT per byte: byte b is the scalar U+00bb, so ASCII prints
 * as itself (UTF-8 sequences are not decoded).
 */
void nub_guest_debug_print(const char *s, uint32_t len);

/* ---- Abort ---- */

/*
 * Aborts the guest: sends (code) (as is) and the message over the abort stream, then halts for
 * good. 0xFF bytes in the message (the stream terminator) are sent as '?'. The host keeps at most
 * NUB_ABORT_MAX_BYTES of the stream. NUB_ABORT_EXCEPTION belongs to the runtime's exception path:
 * with it the host reads the first message byte as the vector.
 */
_Noreturn void nub_guest_abort_n(uint8_t code, const char *msg, uint32_t len);
_Noreturn void nub_guest_abort(uint8_t code, const char *msg);

/* ---- Heap ---- */

/*
 * First-fit allocator over the boot-info heap: 16-byte aligned blocks, freed neighbours merge.
 * Returns NULL when no block fits (size 0 gets a minimal block). free() checks a tag in the
 * block header and aborts with NUB_ABORT_PANIC on a pointer that is not a block in use (double
 * frees included).
 */
void *nub_guest_malloc(size_t size);
void nub_guest_free(void *p);
/* (n) contiguous 4 KiB-aligned pages from the heap, or NULL; they cannot be freed. */
void *nub_guest_alloc_pages(size_t n);

/* ---- Page tables ---- */

/* nub_guest_map_page() errors (all negative). */
#define NUB_GUEST_MAP_EINVAL                                                                       \
	(-1) /* gva/gpa unaligned, gva non-canonical, gpa >= NUB_GPA_TOP, bad perms */
#define NUB_GUEST_MAP_ENOMEM (-2) /* no heap page for a missing page table */
#define NUB_GUEST_MAP_ELARGE (-3) /* a 1 GiB / 2 MiB page entry lies on the path */

/*
 * Maps the 4 KiB page at (gva) to guest-physical (gpa) (both page-aligned) in the live page tables
 * (CR3), replacing any existing mapping, and invalidates the TLB entry (invlpg). (perms) is
 * NUB_MEM_READ, optionally with NUB_MEM_WRITE or NUB_MEM_EXECUTE (never both: W^X, like the host).
 * The leaf is P | A | D | (RW if WRITE) | (NX unless EXECUTE); missing PDPT/PD/PT tables are taken
 * from the heap (nub_guest_alloc_pages, zeroed, never freed) and entered as P | RW | A. Relies on
 * the host's identity mapping (every table is reachable at its physical address) and on EFER.NXE.
 * Tables taken from the heap lie outside boot_info.page_tables_gva, where the host's own walker
 * does not look. Returns 0 or a NUB_GUEST_MAP_* error; nothing is changed on EINVAL and ELARGE.
 */
int nub_guest_map_page(uint64_t gva, uint64_t gpa, uint32_t perms);

/* ---- Messages ---- */

/*
 * Appenders for building messages in [p, end): each writes what fits, always leaves a NUL
 * terminator (when p < end) and returns the position of that NUL, to chain calls:
 *	p = nub_guest_fmt_str(p, end, "got "); p = nub_guest_fmt_dec(p, end, n);
 * fmt_hex writes "0x" and lowercase digits without leading zeros.
 */
char *nub_guest_fmt_str(char *p, char *end, const char *s);
char *nub_guest_fmt_dec(char *p, char *end, uint64_t v);
char *nub_guest_fmt_hex(char *p, char *end, uint64_t v);

/* ---- String functions (runtime/string.c; the compiler may also emit calls to these) ---- */

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* NUB_GUEST_H */
