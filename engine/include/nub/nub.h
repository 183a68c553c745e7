/* SPDX-License-Identifier: Apache-2.0 */
/* nub public API: build a guest into a sandbox, evolve it on KVM, call it, let it call the host. */
#ifndef NUB_NUB_H
#define NUB_NUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nub/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ---- */

/*
 * Every fallible call returns one of these. Engine failures (NUB_E_KVM, NUB_E_NOMEM, NUB_E_IO) are
 * kept apart from guest outcomes (NUB_E_GUEST_*, NUB_E_MMIO, NUB_E_TRIPLE_FAULT, NUB_E_PROTOCOL,
 * NUB_E_CANCELLED, NUB_E_TIME_LIMIT, NUB_E_EMULATION).
 */
enum nub_status {
	NUB_OK = 0,
	NUB_E_INVALID,       /* bad argument or configuration from the caller */
	NUB_E_NOMEM,         /* allocation or mapping failed */
	NUB_E_IO,            /* reading a file failed */
	NUB_E_KVM,           /* a KVM ioctl failed or /dev/kvm is missing */
	NUB_E_ELF,           /* the guest binary is malformed or unsupported */
	NUB_E_ABI,           /* ABI version mismatch */
	NUB_E_LAYOUT,        /* sizes do not fit the guest memory layout */
	NUB_E_STATE,         /* call not allowed in the object's current state */
	NUB_E_POISONED,      /* the sandbox is poisoned: only restore or free */
	NUB_E_UNRECOVERABLE, /* the sandbox can only be freed */
	NUB_E_GUEST_ERROR,   /* the guest returned an error response (does not poison) */
	NUB_E_GUEST_ABORT,   /* the guest aborted with a code and a message */
	NUB_E_GUEST_FAULT,   /* a CPU exception in the guest (vector, RIP, CR2, error code) */
	NUB_E_MMIO,          /* the guest touched guest-physical memory that is not backed */
	NUB_E_TRIPLE_FAULT,  /* the vCPU shut down */
	NUB_E_PROTOCOL,      /* the guest broke the port, buffer or frame protocol */
	NUB_E_CANCELLED,     /* nub_interrupt_kill stopped the call */
	NUB_E_TIME_LIMIT,    /* the call ran past the configured time limit */
	NUB_E_EMULATION,     /* the hypervisor could not emulate a guest instruction */
	NUB_E_EXISTS,        /* something with that identity is already registered */
	NUB_E_SNAPSHOT,      /* a snapshot file is malformed */
	NUB_E_DIVERGED,      /* nub_sandbox_verify: the sandbox differs from the snapshot */
	NUB_STATUS_COUNT
};

/* A fixed name for (status), e.g. "NUB_E_GUEST_ABORT"; never NULL. */
const char *nub_status_str(enum nub_status status);

#define NUB_ERROR_MESSAGE_MAX 1280

/*
 * Details of the last failure. Only the fields that apply to (status) are meaningful; the others
 * are zero. (message) is always NUL-terminated and names the operation, field or value at fault.
 */
struct nub_error {
	enum nub_status status;
	int sys_errno;       /* errno of the failed system call, else 0 */
	uint32_t guest_code; /* abort code (GUEST_ABORT) or response status (GUEST_ERROR) */
	uint8_t vector;      /* exception vector (GUEST_FAULT) */
	uint64_t error_code; /* exception error code (GUEST_FAULT) */
	uint64_t rip;        /* faulting RIP (GUEST_FAULT) */
	uint64_t cr2;        /* CR2 (GUEST_FAULT) */
	uint64_t gpa;        /* guest-physical address (MMIO) */
	char message[NUB_ERROR_MESSAGE_MAX];
};

/* ---- Allocation and ioctl hooks, buffers ---- */

/*
 * Every heap allocation the engine makes goes through this one function: realloc(ctx, NULL, n)
 * allocates, realloc(ctx, p, n) resizes, realloc(ctx, p, 0) frees and returns NULL. NULL hook means
 * the C library. Tests use it to inject allocation failures.
 */
struct nub_alloc_hook {
	void *(*realloc)(void *ctx, void *ptr, size_t size);
	void *ctx;
};

/*
 * Every KVM ioctl a sandbox makes goes through this one function: ioctl(ctx, fd, request, arg)
 * must behave like ioctl(2) (a result >= 0, or -1 with errno set). NULL means ioctl(2) itself.
 * Tests and fuzz targets use it to make any ioctl fail; nub_ioctl_name names a request. Two
 * process-wide probes made once per process (KVM_GET_SUPPORTED_CPUID, and the KVM_SET_XCRS
 * probe of whether guests may change XCR0) bypass it: their answers are cached for the whole
 * process, which an injected failure must not decide. EINTR is retried, at most 100 times.
 */
struct nub_ioctl_hook {
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	void *ctx;
};

/* The name of a KVM ioctl request ("KVM_RUN", ...), or "unknown ioctl"; never NULL. */
const char *nub_ioctl_name(unsigned long request);

/* A growable byte buffer the engine fills and the caller frees with nub_buf_free. */
struct nub_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	struct nub_alloc_hook alloc; /* set by whoever first allocates into the buffer */
};

/* Appends (len) bytes of (data) to (buf), growing it. NUB_E_NOMEM leaves (buf) unchanged. */
enum nub_status nub_buf_append(struct nub_buf *buf, const void *data, size_t len);
/* Releases (buf)'s storage and zeroes it; NULL and an empty buffer are no-ops. */
void nub_buf_free(struct nub_buf *buf);

/* ---- Configuration ---- */

enum nub_log_source { NUB_LOG_FROM_GUEST = 0, NUB_LOG_FROM_ENGINE = 1 };

/* One log record; all strings are borrowed for the duration of the callback. */
struct nub_log_record {
	enum nub_log_source source;
	enum nub_abi_log_level level;
	const char *file; /* may be empty, never NULL */
	uint32_t line;
	const char *message;
	size_t message_len;
};

typedef void (*nub_log_fn)(void *ctx, const struct nub_log_record *record);
/* Debug-print text from the guest, delivered a line (or 1 KiB) at a time, UTF-8. */
typedef void (*nub_print_fn)(void *ctx, const char *text, size_t len);

/*
 * Sandbox configuration. Start from nub_config_default(); zero sizes mean "default". Sizes are
 * rounded up to whole pages.
 */
struct nub_config {
	uint64_t input_size;         /* host -> guest buffer, default 16 KiB, min 8 KiB */
	uint64_t output_size;        /* guest -> host buffer, default 16 KiB, min 8 KiB */
	uint64_t heap_size;          /* guest heap, default 128 KiB */
	uint64_t stack_size;         /* guest stack, default 32 KiB, min 8 KiB */
	uint32_t time_limit_ms;      /* per call (and for init); 0 = no limit */
	int interrupt_signal_offset; /* the kick signal is SIGRTMIN + this, default 0 */
	enum nub_abi_log_level max_guest_log_level; /* default NUB_LEVEL_ERROR */
	nub_log_fn log; /* guest and engine log records; NULL drops them */
	void *log_ctx;
	nub_print_fn debug_print; /* guest debug print; NULL drops it */
	void *debug_print_ctx;
	struct nub_alloc_hook alloc;
	struct nub_ioctl_hook ioctl; /* every KVM ioctl of the sandbox; zero: ioctl(2) */
	/*
	 * ELF core files (off by default, so fuzzing pays nothing): when on, every outcome that
	 * poisons the sandbox (fault, abort, protocol error, MMIO, triple fault, emulation failure,
	 * time limit; never a kill) and a failed evolve write a core of the guest, named
	 * GUEST.YYYYmmdd-HHMMSS.PID.N.core, into (core_dump_dir) (copied), else $NUB_CORE_DUMP_DIR,
	 * else $TMPDIR, else /tmp. A core that cannot be written is reported through (log) at
	 * NUB_LEVEL_ERROR and never changes the call's outcome; a written one at NUB_LEVEL_INFO.
	 */
	bool core_dump;
	const char *core_dump_dir; /* NULL or a non-empty path shorter than NUB_CORE_DIR_MAX */
	/*
	 * A GDB remote stub (0 = off, the default: then it costs nothing, no socket and no ioctl).
	 * Else the sandbox listens on 127.0.0.1:(gdb_port), one client at a time, and every run of
	 * guest code (evolve's init, each call) first stops and waits for gdb: evolve before the
	 * guest's first instruction, a call at its entry. The calling thread serves gdb while the
	 * guest is stopped; time stopped does not count against time_limit_ms. A guest outcome
	 * stops with its signal and is returned once gdb continues or detaches; gdb's kill makes
	 * the call return NUB_E_CANCELLED (poisoned); detach lets the call run on. A client silent
	 * for 30 s while the guest is stopped is detached; after a detach the next run waits for a
	 * new client. gdb's Ctrl-C reaches a running guest as the kick signal (see
	 * interrupt_signal_offset) raised by the socket on the calling thread. Breakpoints and
	 * watchpoints share the four debug registers. A port that cannot be bound is NUB_E_IO.
	 */
	uint16_t gdb_port;
};

#define NUB_CORE_DIR_MAX 3072u

/* Fills (cfg) with the defaults. */
void nub_config_default(struct nub_config *cfg);
/* Checks (cfg); NUB_E_INVALID or NUB_E_LAYOUT with the offending field named in (err). */
enum nub_status nub_config_validate(const struct nub_config *cfg, struct nub_error *err);

/* ---- The guest environment ---- */

/* The guest binary (exactly one of path or data) plus optional init data with its permissions. */
struct nub_guest_env {
	const char *path;    /* ELF file, or NULL */
	const uint8_t *data; /* ELF image in memory (borrowed during nub_uninit_new), or NULL */
	size_t data_len;
	const uint8_t *init_data; /* optional, copied into guest memory */
	size_t init_data_len;
	uint32_t
		init_data_perms; /* NUB_MEM_*; 0 means NUB_MEM_READ; WRITE together with EXECUTE is refused */
};

/* ---- Host functions ---- */

/*
 * A host function the guest calls by fn_id. (req) is a private copy of the guest's payload,
 * borrowed for the call. Append the response to (resp) (nub_buf_append) and return 0, or fill
 * (err->message) and return non-zero: the guest then receives NUB_STATUS_HOST_ERROR with that
 * message. The sandbox stays usable either way.
 */
typedef int (*nub_host_fn)(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
			   struct nub_error *err);

/* ---- Uninitialized sandbox ---- */

struct nub_uninit;

/*
 * Loads the guest in (env) into a fresh guest memory image per (cfg) (NULL = defaults): ELF
 * segments, boot info, heap, init data, page tables. No VM is created. On success *(out) owns the
 * image; free it with nub_uninit_free or hand it to nub_uninit_evolve.
 * Errors: NUB_E_INVALID, NUB_E_IO, NUB_E_ELF, NUB_E_ABI, NUB_E_LAYOUT, NUB_E_NOMEM.
 */
enum nub_status nub_uninit_new(const struct nub_guest_env *env, const struct nub_config *cfg,
			       struct nub_uninit **out, struct nub_error *err);

/* Frees (uninit); NULL is a no-op. */
void nub_uninit_free(struct nub_uninit *uninit);

/*
 * Registers (fn) with (ctx) under (fn_id). NUB_E_EXISTS if (fn_id) is taken, NUB_E_INVALID if
 * (fn) is NULL, NUB_E_NOMEM.
 */
enum nub_status nub_uninit_register(struct nub_uninit *uninit, uint32_t fn_id, nub_host_fn fn,
				    void *ctx, struct nub_error *err);

/* Sets the most verbose guest log level delivered (the guest also filters on it). */
enum nub_status nub_uninit_set_max_guest_log_level(struct nub_uninit *uninit,
						   enum nub_abi_log_level level,
						   struct nub_error *err);

/*
 * Maps the file at (path) read-only into guest-physical memory at (gpa) when the sandbox evolves
 * (see nub_sandbox_map_file for the rules); *(size) receives the mapped size (the file size
 * rounded up to a page). At most 16 mappings per sandbox.
 */
enum nub_status nub_uninit_map_file(struct nub_uninit *uninit, const char *path, uint64_t gpa,
				    uint64_t *size, struct nub_error *err);

/* Size in bytes of the guest's primary memory region (image, boot info, heap, init data, tables). */
uint64_t nub_uninit_shared_mem_size(const struct nub_uninit *uninit);

/* ---- Multi-use sandbox ---- */

struct nub_sandbox;

enum nub_sandbox_status {
	NUB_SANDBOX_READY = 0,
	NUB_SANDBOX_POISONED,      /* a call left guest state suspect */
	NUB_SANDBOX_UNRECOVERABLE, /* only nub_sandbox_free is allowed */
};

/*
 * Consumes (uninit) in every case, creates the VM and runs the guest's initialisation. On success
 * *(out) is a ready sandbox. A guest that fails during init yields that guest outcome status.
 * Errors: NUB_E_KVM, NUB_E_NOMEM, and every guest outcome.
 */
enum nub_status nub_uninit_evolve(struct nub_uninit *uninit, struct nub_sandbox **out,
				  struct nub_error *err);

/*
 * Calls guest function (fn_id) with (len) bytes of (payload). On NUB_OK the response payload is
 * appended to (resp), which the caller owns (nub_buf_free). NUB_E_GUEST_ERROR carries the guest's
 * status in err->guest_code and its message, and leaves the sandbox ready. Every other guest
 * outcome poisons the sandbox. A poisoned sandbox refuses with NUB_E_POISONED.
 * Not thread-safe for one sandbox; different sandboxes may be called from different threads.
 */
enum nub_status nub_sandbox_call(struct nub_sandbox *sb, uint32_t fn_id, const void *payload,
				 size_t len, struct nub_buf *resp, struct nub_error *err);

/*
 * Maps the file at (path) read-only into guest-physical memory at (gpa), page-aligned, outside
 * the NULL guard, the primary and the scratch regions and every other mapping. The guest must map
 * the pages into its own page tables to use them; a guest write becomes NUB_E_MMIO. A restore
 * removes mappings made after its snapshot. Errors: NUB_E_INVALID (alignment, overlap, empty
 * file, overflow, too many mappings, naming the value), NUB_E_IO, NUB_E_KVM, NUB_E_POISONED.
 */
enum nub_status nub_sandbox_map_file(struct nub_sandbox *sb, const char *path, uint64_t gpa,
				     uint64_t *size, struct nub_error *err);

/* The sandbox's state. */
enum nub_sandbox_status nub_sandbox_status(const struct nub_sandbox *sb);

/* Frees (sb), its VM and memory; NULL is a no-op. Outstanding interrupt handles stay valid. */
void nub_sandbox_free(struct nub_sandbox *sb);

/*
 * What a sandbox spent its KVM time on, counted since it was made. Fuzz targets and benchmarks
 * use it to split an iteration into guest work and the engine's own cost.
 */
struct nub_sandbox_stats {
	uint64_t guest_runs;   /* KVM_RUNs that ran guest code: evolve, calls, host-call returns */
	uint64_t guest_run_ns; /* wall time inside those KVM_RUNs (CLOCK_MONOTONIC) */
	uint64_t exit_completions; /* KVM_RUNs with immediate_exit that completed a pending exit */
	uint64_t restores;         /* successful nub_sandbox_restore calls */
	uint64_t stub_resets;      /* restores whose vCPU reset ran the in-guest reset stub */
	uint64_t ioctl_resets;     /* restores whose vCPU reset used vCPU ioctls instead */
};

/* Copies (sb)'s counters into (*out). Call it from the thread that uses the sandbox. */
void nub_sandbox_get_stats(const struct nub_sandbox *sb, struct nub_sandbox_stats *out);

/*
 * Writes an ELF core file of (sb)'s guest as it is now to (path), atomically: one PT_LOAD per
 * range the guest's own page tables map (walked as hostile input, bounded), the registers, the
 * x87/SSE state, the entry point and the guest's name; `gdb GUEST.elf CORE` opens it. Works on a
 * ready or poisoned sandbox; after a fault the registers are those the CPU saved at the fault.
 * (path) must be absent or a regular file. Errors: NUB_E_INVALID (NULL, a path that is not a
 * regular file), NUB_E_UNRECOVERABLE, NUB_E_IO, NUB_E_NOMEM, NUB_E_KVM reading the vCPU.
 */
enum nub_status nub_sandbox_write_core(struct nub_sandbox *sb, const char *path,
				       struct nub_error *err);

/*
 * The path of the core file (config.core_dump) the last poisoning outcome of (sb) wrote, or NULL
 * if it wrote none. Valid until the next poisoning outcome of (sb) or its free.
 */
const char *nub_sandbox_last_core(const struct nub_sandbox *sb);

/* ---- Snapshots ---- */

struct nub_snapshot;

/*
 * Captures (sb)'s guest memory, vCPU state and registered fn_ids into an immutable, refcounted
 * snapshot (*out, refcount 1). The sandbox must be ready. Cost: one copy of guest memory.
 * Errors: NUB_E_POISONED, NUB_E_UNRECOVERABLE, NUB_E_KVM, NUB_E_NOMEM.
 */
enum nub_status nub_sandbox_snapshot(struct nub_sandbox *sb, struct nub_snapshot **out,
				     struct nub_error *err);

/*
 * Brings (sb) back to (snap) exactly, whatever the guest did since: memory, vCPU state, host
 * metadata (the guest counter is rewritten from the host's value); clears poisoning. Restoring
 * the snapshot the sandbox last took, restored or was made from costs O(pages dirtied since);
 * another compatible snapshot costs a full copy. File mappings made after the snapshot are
 * removed. Refuses, changing nothing, a snapshot with a different layout, that needs a fn_id the
 * sandbox lacks, or that has a file mapping the sandbox lacks (NUB_E_INVALID naming the
 * difference). A failure after memory was touched marks the sandbox unrecoverable.
 */
enum nub_status nub_sandbox_restore(struct nub_sandbox *sb, struct nub_snapshot *snap,
				    struct nub_error *err);

/*
 * The restore-exactness oracle: checks that (sb) is exactly (snap) as the guest will see it on
 * its next entry, independently of the dirty log restore trusts. Compares every page of the
 * primary and scratch regions with the snapshot's (the counter slot with the host's counter
 * value, which restore writes there; pages the host keeps PROT_NONE are skipped), the file
 * mappings' places, and every vCPU register restore resets: general registers, RIP, RFLAGS,
 * segments, GDT/IDT, CR0/2/3/4/8, EFER, APIC base, x87/SSE (control, status and tag words, last
 * instruction and data pointers, st0-7, xmm0-15, MXCSR), DR0-3, DR6, DR7, KERNEL_GS_BASE and
 * XCR0, plus "no exception, interrupt, NMI or interrupt shadow on entry". The registers compared
 * are those queued for the next KVM_RUN after a restore (not the reset stub's own), read from the
 * kvm_run sync area and with vCPU get-ioctls, which change nothing. Otherwise (after a snapshot or
 * a call) they are the vCPU's; a pending exit is first completed with one KVM_RUN with
 * immediate_exit (runs no guest code), work KVM would do at the start of the next entry anyway.
 * Memory is only read. Works on a ready or poisoned sandbox.
 * NUB_OK when equal; NUB_E_DIVERGED naming the first difference with both values: "guest page
 * GPA (REGION region) differs from the snapshot: byte GPA is X in the sandbox, Y in the
 * snapshot", "vCPU register NAME is X in the sandbox, Y in the snapshot", a layout or file
 * mapping difference. Errors: NUB_E_INVALID, NUB_E_UNRECOVERABLE, NUB_E_KVM.
 * Cost: one memcmp of guest memory plus four vCPU get-ioctls after a restore, seven otherwise;
 * about 3.7 RT on the fuzz and simple guests, three quarters of it the ioctls (README).
 */
enum nub_status nub_sandbox_verify(struct nub_sandbox *sb, const struct nub_snapshot *snap,
				   struct nub_error *err);

/* A host function for nub_sandbox_from_snapshot. */
struct nub_host_function {
	uint32_t fn_id;
	nub_host_fn fn;
	void *ctx;
};

/*
 * Makes a ready sandbox that starts from (snap), with host functions (fns, n) that must cover
 * every fn_id the snapshot lists. (cfg) supplies the runtime settings (time limit, callbacks,
 * allocation hook, signal); its sizes must be zero or equal to the snapshot's. Unmodified pages
 * are shared with the snapshot. The sandbox has no guest counter (its slot reads 0) and no file
 * mappings (files are not part of snapshots: map them again with nub_sandbox_map_file).
 */
enum nub_status nub_sandbox_from_snapshot(struct nub_snapshot *snap,
					  const struct nub_host_function *fns, size_t n,
					  const struct nub_config *cfg, struct nub_sandbox **out,
					  struct nub_error *err);

/* Takes a reference. */
struct nub_snapshot *nub_snapshot_ref(struct nub_snapshot *snap);
/* Drops a reference; the last one frees the snapshot. NULL is a no-op. */
void nub_snapshot_unref(struct nub_snapshot *snap);

/*
 * The memory digest of abi.h (nub_digest_words) over (snap)'s guest memory
 * [gva, gva + size) into *(out): what a guest that reports a digest of its own memory (the fuzz
 * guest's FUZZ_FN_DIGEST) must see right after a restore to (snap). GVA == GPA. The range must be
 * 8-byte aligned, a non-zero multiple of 8 bytes and inside the primary or the scratch region.
 * Errors: NUB_E_INVALID naming the value.
 */
enum nub_status nub_snapshot_digest(const struct nub_snapshot *snap, uint64_t gva, uint64_t size,
				    uint64_t *out, struct nub_error *err);

/* The guest's stack pointer (rsp) in (snap): a call's own frames are built below it. */
uint64_t nub_snapshot_stack_pointer(const struct nub_snapshot *snap);

/*
 * Writes (snap) to (path) atomically (temporary file in the same directory, fsync, rename).
 * Errors: NUB_E_INVALID when (path) exists and is not a regular file (a device, FIFO, socket,
 * directory or symbolic link is never replaced), NUB_E_IO naming the path, NUB_E_NOMEM.
 */
enum nub_status nub_snapshot_save(const struct nub_snapshot *snap, const char *path,
				  struct nub_error *err);

/*
 * Loads a snapshot file from (path) or from memory (data, len), validating every field before
 * use (NUB_E_SNAPSHOT naming the field and value; NUB_E_ABI for another ABI version). (alloc)
 * may be NULL (C library).
 */
enum nub_status nub_snapshot_load(const char *path, const struct nub_alloc_hook *alloc,
				  struct nub_snapshot **out, struct nub_error *err);
enum nub_status nub_snapshot_load_buffer(const uint8_t *data, size_t len,
					 const struct nub_alloc_hook *alloc,
					 struct nub_snapshot **out, struct nub_error *err);

/* ---- Guest counter ---- */

struct nub_counter;

/*
 * The sandbox's guest counter (one per sandbox: a second call is NUB_E_EXISTS). The host is its
 * only writer: the value lives in the host and is written to guest memory at
 * scratch_size - 0x1008 (read-only to the guest) on every change and after every restore. The
 * counter belongs to the sandbox and is freed with it.
 */
enum nub_status nub_uninit_guest_counter(struct nub_uninit *uninit, struct nub_counter **out,
					 struct nub_error *err);
/* Adds or subtracts 1. NUB_E_STATE before evolve; NUB_E_INVALID on overflow or underflow. */
enum nub_status nub_counter_increment(struct nub_counter *c, struct nub_error *err);
enum nub_status nub_counter_decrement(struct nub_counter *c, struct nub_error *err);
/* The host's value (never read from guest memory). */
uint64_t nub_counter_value(const struct nub_counter *c);

/* ---- Interruption ---- */

struct nub_interrupt;

/*
 * A reference to (sb)'s interrupt handle, usable from any thread and valid after the sandbox is
 * freed; release it with nub_interrupt_unref.
 */
struct nub_interrupt *nub_sandbox_interrupt_handle(struct nub_sandbox *sb);
void nub_interrupt_unref(struct nub_interrupt *h);

/*
 * Stops the call running in (h)'s sandbox, if any, with NUB_E_CANCELLED. Returns true if a call
 * was running. A kill never carries over to a later call. Thread-safe and async-signal-unsafe.
 */
bool nub_interrupt_kill(struct nub_interrupt *h);

/* True if /dev/kvm can be opened for read and write. */
bool nub_kvm_available(void);

#ifdef __cplusplus
}
#endif

#endif /* NUB_NUB_H */
