/* SPDX-License-Identifier: Apache-2.0 */
/* Function ids of the `simple` test guest and the exact behaviour each one promises (shared with host tests). */
#ifndef NUB_SIMPLE_FNS_H
#define NUB_SIMPLE_FNS_H

/* Payload integers are little-endian. "error S 'M'" = response with status S and message M. */
enum simple_fn {
	SIMPLE_ECHO = 1, /* returns the payload unchanged */
	SIMPLE_ADD =
		2, /* u32 a, u32 b -> u32 a+b (wrapping); other length: error 5 'add needs 8 bytes, got N' */
	SIMPLE_FILL =
		3, /* u32 n -> n bytes, byte i = i & 0xff; too big: error 3 (RESPONSE_TOO_LARGE) 'fill N bytes: only M fit' */
	SIMPLE_HOST_CALL =
		4, /* u32 fn_id, bytes -> host fn_id(bytes); its payload on success, else its status and message */
	SIMPLE_HOST_CALL_CHAIN =
		5, /* u32 count, u32 fn_id, bytes -> calls fn_id count times, feeding each response into the next; returns the last */
	SIMPLE_LOG =
		6, /* u32 level, bytes message -> logs it at that level (file "simple.c", any line); empty response */
	SIMPLE_LOG_ALL = 7, /* logs "level 1" .. "level 5" at levels 1..5; empty response */
	SIMPLE_DEBUG_PRINT =
		8,        /* debug-prints the payload bytes (one scalar per byte); empty response */
	SIMPLE_ABORT = 9, /* u8 code, bytes message -> aborts with that code and message */
	SIMPLE_ABORT_LONG = 10,     /* aborts with code 7 and a 2000-byte message: 'a'+(i%26) */
	SIMPLE_DIVIDE_BY_ZERO = 11, /* #DE, vector 0 */
	SIMPLE_INVALID_OPCODE = 12, /* ud2: #UD, vector 6 */
	SIMPLE_BREAKPOINT = 13,     /* int3: #BP, vector 3 */
	SIMPLE_GENERAL_PROTECTION =
		14,             /* load from non-canonical 0x8000000000000000: #GP, vector 13 */
	SIMPLE_NULL_DEREF = 15, /* load from address 0x8: #PF, vector 14, CR2 0x8 */
	SIMPLE_WRITE_CODE =
		16, /* store to the first byte of this function's code: #PF, CR2 = that address */
	SIMPLE_EXECUTE_DATA =
		17, /* call into a writable data byte holding 0xC3: #PF (instruction fetch) */
	SIMPLE_STACK_OVERFLOW =
		18, /* unbounded recursion with 1 KiB frames: #PF in the stack guard page */
	SIMPLE_HEAP_EXHAUST =
		19, /* malloc(4096) until NULL, then abort 3 (OUT_OF_MEMORY) 'heap exhausted after N allocations' */
	SIMPLE_SPIN = 20,     /* loops forever */
	SIMPLE_BAD_PORT = 21, /* 32-bit OUT of 0 to port 0x1234 */
	SIMPLE_CORRUPT_OUTPUT_SP =
		22, /* sets the output stack pointer to 0xfffffff0, then OUT to the host-call port */
	SIMPLE_CORRUPT_OUTPUT_BACK =
		23, /* pushes a valid request for fn_id 1, sets its back-pointer to sp+64, OUT host-call */
	SIMPLE_CORRUPT_OUTPUT_FRAME =
		24, /* pushes a request element whose payload_len says 1000 but holds 4 bytes, OUT host-call */
	SIMPLE_MMIO =
		25, /* remaps a heap page to unbacked GPA 0x800000000 and reads it: MMIO exit at that GPA */
	SIMPLE_TRIPLE_FAULT = 26,   /* loads an empty IDT and executes ud2: the vCPU shuts down */
	SIMPLE_STATIC_COUNTER = 27, /* increments a static u32 and returns its new value (u32) */
	SIMPLE_BOOT_INFO = 28, /* returns the boot info struct as the guest sees it (136 bytes) */
	SIMPLE_BAD_RESPONSE =
		29, /* pushes a response element whose payload_len exceeds it, then OUT halt */
	SIMPLE_LOG_BAD_LEVEL = 30,    /* pushes a log record with level 9, OUT log */
	SIMPLE_PRINT_BAD_SCALAR = 31, /* OUT debug-print 0xD800 (a surrogate) */
	SIMPLE_ABORT_BAD_COUNT = 32,  /* OUT abort 0x00000000 (byte count 0) */
	SIMPLE_HLT = 33, /* pushes an empty ok response, then executes hlt (no OUT halt) */

	/* State, init data, mapped files and the counter (snapshot and restore tests). */
	SIMPLE_READ_COUNTER = 34, /* returns the u64 at boot_info.counter_gva */
	SIMPLE_DIRTY_HEAP_PAGES =
		35, /* u32 n, u32 v: writes v at offset 2048 of heap pages 0..n-1 (raw, not via malloc); too many: error 5 'heap has only N pages' */
	SIMPLE_HEAP_ALLOC =
		36, /* u32 size: malloc(size), writes 0x5a into its first byte if size > 0, returns the u64 address (0 when NULL) */
	SIMPLE_STACK_SMASH =
		37, /* fills 4 KiB of stack below the current frame with 0xcc; empty response */
	SIMPLE_BUFFER_SCRIBBLE =
		38, /* writes 0xee over up to 1 KiB of input and output buffer space above their stack pointers; empty response */
	SIMPLE_INIT_DATA_READ =
		39, /* u32 offset, u32 len -> init data bytes; no init data or out of range: error 5 'init data range OFF+LEN outside SIZE bytes' */
	SIMPLE_INIT_DATA_WRITE =
		40, /* u32 offset, u8 v: stores v at init data + offset (faults unless writable); empty response */
	SIMPLE_INIT_DATA_EXEC =
		41, /* u32 offset: calls init data + offset as a function (faults unless executable); empty response */
	SIMPLE_MAPPED_READ =
		42, /* u64 gpa, u32 len: maps the pages (identity, read-only, no-execute) into the guest page tables, returns the bytes */
	SIMPLE_MAPPED_WRITE =
		43, /* u64 gpa, u8 v: maps the page writable and stores v (a read-only KVM slot turns this into an MMIO exit) */
	SIMPLE_MAPPED_EXEC =
		44, /* u64 gpa: maps the page read-only executable and calls it; empty response */
	SIMPLE_ENABLE_XSAVE =
		45, /* sets CR4.OSXSAVE (bit 18), then xsetbv XCR0=7: #GP (vector 13) where KVM enforces the CPUID it was given (XSAVE hidden); kvm_pvm lets both through */

	/* vCPU state that KVM's sync registers do not cover (restore's vCPU reset tests). */
	SIMPLE_SET_FPU_STATE =
		46, /* u32 mxcsr, u16 fcw -> fxsave, then in that image MXCSR = mxcsr, FCW = fcw, xmmN byte j = (16N+j) ^ payload[(16N+j) % 6] (N 0..15), 1.0 pushed as fld1 does (TOP - 1, its tag valid, ST(0) = 1.0; no overflow check), fxrstor (MXCSR bits 16..31: #GP, vector 13); empty response; other length: error 5 'set fpu state needs 6 bytes, got N' */
	SIMPLE_GET_FPU_STATE =
		47, /* from fxsave: u32 MXCSR, u16 FCW, u16 FSW, xmm0, xmm15 (16 bytes each): 40 bytes */
	SIMPLE_SET_DEBUG_REGS =
		48, /* u64 dr0, dr1, dr2, dr3, dr7 -> mov to DR0..DR3, then DR7 (invalid DR7 bits: #GP; DR7.GD already set: #DB, vector 1); empty response; other length: error 5 'set debug regs needs 40 bytes, got N' */
	SIMPLE_SWAPGS =
		49, /* u32 base -> GS.base = base (selector 0x10 reloaded from a temporary GDT), then swapgs: MSR_KERNEL_GS_BASE = base, GS.base = the old MSR_KERNEL_GS_BASE; empty response; other length: error 5 'swapgs needs 4 bytes, got N' */
};

#endif
