/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "last inputs" ring of the AFL++ driver (Debian's AFL++ 4.04c has no AFL_PERSISTENT_RECORD):
 * one file, child-<pid>/ring, mapped shared, so keeping an input costs a memcpy and no system
 * call, and what was written survives any death of the process, SIGKILL included. Layout: a
 * 4 KiB header, then KEEP_SLOTS slots of KEEP_SLOT_CAP bytes. Input number (seq) lives in slot
 * seq % KEEP_SLOTS; the header's next_seq is written last. The reproducer replays a directory
 * holding a ring oldest input first, in one process.
 */
#ifndef NUB_FUZZ_KEEP_RING_H
#define NUB_FUZZ_KEEP_RING_H

#include <stdint.h>

#define KEEP_MAGIC "NUBKEEP1"
#define KEEP_SLOTS 8u
#define KEEP_SLOT_CAP (1u << 20) /* AFL++'s default maximum input size */
#define KEEP_HEADER_SIZE 4096u
#define KEEP_FILE_SIZE (KEEP_HEADER_SIZE + (uint64_t)KEEP_SLOTS * KEEP_SLOT_CAP)
#define KEEP_RING_NAME "ring"

struct keep_header {
	char magic[8];
	uint32_t slots;
	uint32_t slot_cap;
	uint64_t next_seq; /* inputs 0 .. next_seq - 1 were kept; the last KEEP_SLOTS remain */
	struct {
		uint64_t seq;
		uint64_t len; /* the input's full length; at most slot_cap bytes are stored */
	} slot[KEEP_SLOTS];
};
_Static_assert(sizeof(struct keep_header) <= KEEP_HEADER_SIZE, "keep header fits its page");

#endif
