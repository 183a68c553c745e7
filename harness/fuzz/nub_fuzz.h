/* SPDX-License-Identifier: Apache-2.0 */
/* The fuzz harness API: what targets define, and the helpers every target and driver shares. */
#ifndef NUB_FUZZ_H
#define NUB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nub/nub.h"

/*
 * Defined by each target fuzz/<kind>/fuzz_<surface>.c. TestOneInput runs one input and returns 0;
 * it calls abort() (through NUB_FUZZ_CHECK) on a violated invariant and never exits, prints to
 * stdout or writes files. The other two are optional (drivers declare them weak).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Prints (data) decoded as this target's input format, for the reproducer. */
void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out);

/*
 * The engine outcome class of the current input, e.g. "ok", "halt", "NUB_E_PROTOCOL". (cls) must
 * be a string literal or nub_status_str(). The reproducer prints it as soon as it is reported, so
 * a crash in a later invariant check still shows the outcome. Report it before checking
 * invariants, once per input.
 */
void nub_fuzz_outcome(const char *cls);
/* The outcome reported for the current input, or "-" if none was. */
const char *nub_fuzz_last_outcome(void);
/* Forgets the last outcome (drivers call it before each input). */
void nub_fuzz_outcome_reset(void);
/*
 * Drivers: (sink) is called with each reported outcome (NULL = none). Returns the sink it
 * replaces, so code that runs inputs of its own (kvm_fuzz_report_iteration) can mute and restore it.
 */
typedef void (*nub_fuzz_outcome_sink)(const char *cls);
nub_fuzz_outcome_sink nub_fuzz_set_outcome_sink(nub_fuzz_outcome_sink sink);

/*
 * The process's allocation-failure injector (alloc_inject.h) as a hook for struct nub_alloc_hook /
 * nub_config.alloc. It tracks live blocks (leak check: nub_fuzz_alloc_live() == 0 once everything
 * is freed) and fails the (fail_at)th allocation or growth after nub_fuzz_alloc_reset(fail_at)
 * (0 = never), so every target can check "an allocation failed => the API reported failure".
 */
struct nub_alloc_hook nub_fuzz_alloc_hook(void);
void nub_fuzz_alloc_reset(uint32_t fail_at);
size_t nub_fuzz_alloc_live(void);
size_t nub_fuzz_alloc_failures(void);

/*
 * True in the standalone reproducer (driver_repro.c sets it before any input), false under the
 * fuzzing engines. Targets use it only for limits that must not make a replay's outcome depend on
 * the machine's load (KVM targets' guest time limit).
 */
bool nub_fuzz_replaying(void);
void nub_fuzz_set_replaying(bool on);

/*
 * A target's size limit: `if (nub_fuzz_oversize(size, MAX_INPUT)) return 0;`. True when (size)
 * exceeds (max); the input is then skipped, and the reproducer says so ("skipped: N bytes over
 * the limit M") instead of reporting it handled. nub_fuzz_outcome_reset forgets the skip.
 */
bool nub_fuzz_oversize(size_t size, size_t max);
/* The reason the current input was skipped ("N bytes over the limit M"), or NULL. */
const char *nub_fuzz_skipped(void);

/*
 * Prints "nub-fuzz: invariant violated at FILE:LINE: EXPR" to stderr and aborts. NUB_FUZZ_CHECK
 * is for checks about the harness itself (its own allocations and tables), which are no engine
 * promise: their signature keeps the harness frames. Every check of what the engine did names
 * the operation with NUB_FUZZ_CHECK_OP below.
 */
__attribute__((noreturn)) void nub_fuzz_fail(const char *file, int line, const char *expr);

#define NUB_FUZZ_CHECK(cond)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			nub_fuzz_fail(__FILE__, __LINE__, #cond);                                  \
	} while (0)

/*
 * An invariant of engine operation (op), e.g. "nub_sandbox_restore", with (check) naming what
 * failed (NULL: EXPR without its blanks, e.g. "total==len"). Prints, besides nub_fuzz_fail's line,
 * "nub-fuzz: invariant: OP CHECK", which the crash signature uses in place of the harness frames
 * (harness/scripts/signature.sh, the reproducer's crash handler), so two engine bugs that break
 * checks in one harness function keep apart. Then aborts.
 */
__attribute__((noreturn)) void nub_fuzz_fail_op(const char *op, const char *check, const char *file,
						int line, const char *expr);

#define NUB_FUZZ_CHECK_OP(op, cond)                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			nub_fuzz_fail_op((op), NULL, __FILE__, __LINE__, #cond);                   \
	} while (0)

/* "OP CHECK" of the NUB_FUZZ_CHECK_OP invariant that failed in this process, else NULL. */
const char *nub_fuzz_failed_invariant(void);

/*
 * Checks debug-print text the engine delivered: non-empty, at most one line buffer (1 KiB), and
 * whole, valid UTF-8 sequences only (no surrogates, nothing above U+10FFFF, shortest form).
 */
void nub_fuzz_check_print(const char *text, size_t len);

/* True if (err)'s message is NUL-terminated inside the struct and non-empty. */
bool nub_fuzz_error_ok(const struct nub_error *err);

/* Writes a hex + ASCII dump of up to (max) bytes of (data), indented by two spaces. */
void nub_fuzz_hexdump(FILE *out, const uint8_t *data, size_t len, size_t max);
/* Writes (len) bytes as a quoted C-style string (printable ASCII kept, others escaped), at most (max). */
void nub_fuzz_print_string(FILE *out, const uint8_t *data, size_t len, size_t max);

#endif
