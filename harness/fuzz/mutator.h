/* SPDX-License-Identifier: Apache-2.0 */
/* The structure-aware mutator of command streams and snapshot files, for libFuzzer and AFL++. */
#ifndef NUB_FUZZ_MUTATOR_H
#define NUB_FUZZ_MUTATOR_H

/*
 * One mutator, two formats: the `fuzz` guest's command streams (fuzz_cmds_codec.h) and snapshot
 * files (snapshot_format.h). A mutation parses the input, changes one thing at the level of the
 * format (a field set to a boundary value, a length moved to a buffer size with its data resized,
 * a command or a memory page inserted, deleted, duplicated or moved, the data of one command or
 * page mutated byte-wise) and re-encodes it, so the output keeps its structure: a stream whose
 * every command is complete, a snapshot file whose section table matches its sections and whose
 * file_size and CRC-32C trailer are right. About one mutation in ten (NUB_MUT_INVALID_PER_100)
 * deliberately breaks the structure instead (byte-level mutation of the whole input, a lying
 * length, a stale checksum). Given the same input, size limit, seed and byte-level mutator, the
 * output is the same.
 *
 * Built two ways from this source: mutator_libfuzzer.c (LLVMFuzzerCustomMutator and
 * LLVMFuzzerCustomCrossOver, byte-level mutations by LLVMFuzzerMutate) linked into the libFuzzer
 * binary of each target that declares a format (nub_fuzz_mutator in fuzz/<kind>/<target>.cmake),
 * and mutator_afl.c (afl_custom_init / afl_custom_fuzz / afl_custom_deinit) as
 * <target>-mutator.so beside <target>-afl, which ci/campaign.sh and ci/test.sh load with
 * AFL_CUSTOM_MUTATOR_LIBRARY. NUB_FUZZ_MUTATOR=off in the environment makes both hand every input
 * to the plain byte-level mutator, for measurements.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nub_mut_format {
	NUB_MUT_CMDS,     /* a command stream of the `fuzz` guest */
	NUB_MUT_SNAPSHOT, /* a snapshot file */
};

/* Out of 100 mutations, about this many are deliberately left without a valid structure. */
#define NUB_MUT_INVALID_PER_100 10u

/*
 * A byte-level mutation of (data, size) in place, within (max_size) bytes of storage; returns the
 * new size, 1..max_size. LLVMFuzzerMutate has this shape.
 */
typedef size_t (*nub_mut_bytes_fn)(uint8_t *data, size_t size, size_t max_size);

/* One mutation's state. */
struct nub_mut {
	uint64_t rng;           /* splitmix64 state, from the seed */
	nub_mut_bytes_fn bytes; /* the byte-level mutator; NULL: nub_mut_havoc */
	bool invalid;           /* out: this mutation chose to break the structure */
};

/* (m) for a mutation from (seed) with the byte-level mutator (bytes), NULL for nub_mut_havoc. */
void nub_mut_init(struct nub_mut *m, unsigned int seed, nub_mut_bytes_fn bytes);

/*
 * Mutates (data, size) of format (fmt) in place within (max_size) bytes of storage (data holds
 * max_size bytes; max_size >= 1) and returns the new size, 1..max_size. Sets m->invalid when the
 * mutation deliberately broke the structure. An input that does not parse is first mutated
 * byte-wise and then re-encoded as far as it parses.
 */
size_t nub_mut_run(struct nub_mut *m, enum nub_mut_format fmt, uint8_t *data, size_t size,
		   size_t max_size);

/*
 * Writes to (out, at most max_size >= 1 bytes) a child of (a, a_len) and (b, b_len) in format
 * (fmt): a's first commands and b's last ones, or a with one section replaced by b's section of
 * the same type. Returns the child's size (1..max_size; 0 if neither input has a byte).
 */
size_t nub_mut_cross(struct nub_mut *m, enum nub_mut_format fmt, const uint8_t *a, size_t a_len,
		     const uint8_t *b, size_t b_len, uint8_t *out, size_t max_size);

/* True when NUB_FUZZ_MUTATOR is "off" (read once): only the byte-level mutator is to run. */
bool nub_mut_disabled(void);

/* ---- The parts shared by the two formats (mutator.c) ---- */

/* A random number in [0, n) (n >= 1). */
uint64_t nub_mut_below(struct nub_mut *m, uint64_t n);

/* True with probability num/den. */
bool nub_mut_chance(struct nub_mut *m, unsigned int num, unsigned int den);

/*
 * The byte-level mutator of (m) on (data, size) within (max_size) (size 0 is given one byte
 * first); returns the new size, 1..max_size.
 */
size_t nub_mut_bytes(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size);

/*
 * The built-in byte-level mutator (for AFL++ and the tests; libFuzzer uses its own): flips a bit,
 * sets a byte or a little-endian u16/u32 to a boundary value, adds to one, inserts or erases a
 * few bytes. Deterministic in (m).
 */
size_t nub_mut_havoc(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size);

/*
 * A value near a boundary for a field of (width) bytes whose current value is (cur): 0, 1, the
 * buffer and page sizes and their neighbours, the sign and canonical-address edges, cur plus or
 * minus a little, a flipped bit of cur, or a random value; truncated to the width.
 */
uint64_t nub_mut_value(struct nub_mut *m, uint64_t cur, unsigned int width);

/*
 * Replaces (remove) bytes at (at) of (data, *size) by (ins_len) bytes (copied from ins, which may
 * point into data, or filled by fill_bytes when NULL). False, nothing changed, when the result
 * would exceed (max_size) or the range is outside the data.
 */
bool nub_mut_splice(struct nub_mut *m, uint8_t *data, size_t *size, size_t max_size, size_t at,
		    size_t remove, const uint8_t *ins, size_t ins_len);

/* Fills (p, n) with a pattern: random bytes, one repeated byte, zeros or an ascending run. */
void nub_mut_fill(struct nub_mut *m, uint8_t *p, size_t n);

/* The command-stream and snapshot-file halves (mutate_cmds.c, mutate_snapshot.c). */
size_t nub_mut_cmds(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size);
size_t nub_mut_cmds_cross(struct nub_mut *m, const uint8_t *a, size_t a_len, const uint8_t *b,
			  size_t b_len, uint8_t *out, size_t max_size);
size_t nub_mut_snapshot(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size);
size_t nub_mut_snapshot_cross(struct nub_mut *m, const uint8_t *a, size_t a_len, const uint8_t *b,
			      size_t b_len, uint8_t *out, size_t max_size);

/*
 * True when (data, size) is a command stream every command of which is complete: it parses to
 * the end with no unknown op, no truncated arguments and no data shorter than declared.
 */
bool nub_mut_cmds_valid(const uint8_t *data, size_t size);

/*
 * True when (data, size) is a snapshot file whose header, section table and sections fit (magic,
 * header_size, 1..16 sections, every one of them after the table and before the trailer),
 * whose file_size is its size and whose trailer is its CRC-32C.
 */
bool nub_mut_snapshot_valid(const uint8_t *data, size_t size);

#endif
