/* SPDX-License-Identifier: Apache-2.0 */
/* The state-leak oracle; see leak_oracle.h and FUZZ_FN_DIGEST in fuzz_cmds.h. */
#include "leak_oracle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_cmds.h"
#include "bytes.h"

const char *const leak_oracle_range_names[FUZZ_RANGE_COUNT] = {
	[FUZZ_RANGE_DATA] = "data",          [FUZZ_RANGE_DATA2] = "data2",
	[FUZZ_RANGE_HEAP] = "heap",          [FUZZ_RANGE_STACK] = "stack",
	[FUZZ_RANGE_INPUT] = "input buffer", [FUZZ_RANGE_OUTPUT] = "output buffer",
};

static enum nub_status diverged(struct nub_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum nub_status diverged(struct nub_error *err, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof *err);
	err->status = NUB_E_DIVERGED;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return NUB_E_DIVERGED;
}

/* One FUZZ_FN_DIGEST call: the range's *(gva, size) and the digest of its chunk at (off). */
static enum nub_status digest_chunk(struct nub_sandbox *sb, uint32_t range, uint32_t off,
				    uint64_t *gva, uint64_t *size, uint64_t *digest,
				    struct nub_error *err)
{
	uint8_t req[FUZZ_DIGEST_REQUEST_SIZE];
	struct nub_buf resp = { 0 };

	nub_put_le32(req, range);
	nub_put_le32(req + 4, off);
	nub_put_le32(req + 8, LEAK_ORACLE_CHUNK);
	enum nub_status st = nub_sandbox_call(sb, FUZZ_FN_DIGEST, req, sizeof req, &resp, err);
	if (st == NUB_OK && resp.len != FUZZ_DIGEST_RESPONSE_SIZE)
		st = diverged(err, "FUZZ_FN_DIGEST response of %zu bytes, want %u", resp.len,
			      FUZZ_DIGEST_RESPONSE_SIZE);
	if (st == NUB_OK) {
		*gva = nub_le64(resp.data);
		*size = nub_le64(resp.data + 8);
		*digest = nub_le64(resp.data + 16);
	}
	nub_buf_free(&resp);
	return st;
}

/* Compares range (i), chunk by chunk, with the snapshot; NUB_OK if they agree. */
static enum nub_status check_range(struct nub_sandbox *sb, const struct nub_snapshot *snap,
				   uint32_t i, struct nub_error *err)
{
	const char *name = leak_oracle_range_names[i];
	uint64_t gva, size = 0, seen;
	uint32_t off = 0;

	do {
		enum nub_status st = digest_chunk(sb, i, off, &gva, &size, &seen, err);
		if (st != NUB_OK)
			return st;
		if (i == FUZZ_RANGE_STACK && gva != nub_snapshot_stack_pointer(snap))
			return diverged(err,
					"the guest's stack range starts at 0x%" PRIx64
					", the snapshot's rsp is 0x%" PRIx64,
					gva, nub_snapshot_stack_pointer(snap));
		if (size > UINT32_MAX)
			return diverged(err,
					"the guest's %s range of 0x%" PRIx64 " bytes is over 4 GiB",
					name, size);
		uint64_t n = size - off < LEAK_ORACLE_CHUNK ? size - off : LEAK_ORACLE_CHUNK;
		uint64_t want = 0;
		if (n) {
			st = nub_snapshot_digest(snap, gva + off, n, &want, err);
			if (st != NUB_OK)
				return diverged(err, "the guest's %s range: %s", name,
						err->message);
		}
		if (seen != want)
			return diverged(err,
					"the guest sees its %s at [0x%" PRIx64 ", +0x%" PRIx64
					") with digest 0x%016" PRIx64
					", the snapshot holds 0x%016" PRIx64,
					name, gva + off, n, seen, want);
		off += (uint32_t)n;
	} while (off < size);
	return NUB_OK;
}

enum nub_status leak_oracle_check(struct nub_sandbox *sb, const struct nub_snapshot *snap,
				  struct nub_error *err)
{
	enum nub_status st = NUB_OK;

	for (uint32_t i = 0; st == NUB_OK && i < FUZZ_RANGE_COUNT; i++)
		st = check_range(sb, snap, i, err);
	return st;
}
