/* SPDX-License-Identifier: Apache-2.0 */
/* The state-leak oracle: what the fuzz guest sees at a call's entry, checked against a snapshot. */
#ifndef NUB_FUZZ_LEAK_ORACLE_H
#define NUB_FUZZ_LEAK_ORACLE_H

#include "nub/nub.h"

/* The names of the FUZZ_FN_DIGEST ranges, indexed by enum fuzz_range (fuzz_cmds.h). */
extern const char *const leak_oracle_range_names[];

/*
 * Bytes digested per FUZZ_FN_DIGEST call: about 2.5 ms of emulated guest code here for a chunk
 * that is not all zero (0.7 ms for one that is), so that each call stays far inside the fuzz
 * targets' 20 ms time limit even on a loaded machine.
 */
#define LEAK_ORACLE_CHUNK 0x1000u

/*
 * Calls FUZZ_FN_DIGEST on (sb), a sandbox of the `fuzz` guest that must have just been restored
 * to (snap), once per LEAK_ORACLE_CHUNK of each range (fuzz_cmds.h), and compares each chunk's
 * digest with nub_snapshot_digest of (snap); the stack range must also start at the snapshot's
 * rsp. The calls see the same state: each rewrites only what the ranges exclude. NUB_OK when
 * the guest sees exactly the snapshot. NUB_E_DIVERGED when it does not, err->message naming the
 * first chunk that differs:
 *   "the guest sees its heap at [0xGVA, +0x1000) with digest 0xX, the snapshot holds 0xY"
 * or a malformed report ("FUZZ_FN_DIGEST response of N bytes, want 24", "the guest's stack range
 * starts at 0xA, the snapshot's rsp is 0xB", a range nub_snapshot_digest refuses). A failed call
 * returns its own status and error. The calls dirty (sb) (the stack, the input buffer, the call
 * state): the caller restores it again before the next input.
 */
enum nub_status leak_oracle_check(struct nub_sandbox *sb, const struct nub_snapshot *snap,
				  struct nub_error *err);

#endif
