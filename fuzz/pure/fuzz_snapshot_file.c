/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_snapshot_file: the snapshot file decoder and validator (engine/src/snapshot_file.c), no VM.
 * The input is a snapshot file (engine/snapshot-format.md); the target repairs its file_size and
 * CRC-32C trailer (snapshot_format.h: the checksum must not stop the fuzzer) and decodes it with
 * nub_snapshot_file_decode.
 *
 * Invariants: the status is NUB_OK, NUB_E_SNAPSHOT or NUB_E_ABI (NUB_E_NOMEM only for an
 * allocation that failed), with a NUL-terminated, non-empty message naming the field; a decoded
 * snapshot re-encodes (nub_snapshot_file_encode) to a file that decodes again to the same layout,
 * vCPU state, host function list and memory, and whose own re-encoding is byte-identical (the
 * writer's output is canonical); every allocation is freed.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nub_fuzz.h"
#include "snapshot.h"
#include "snapshot_format.h"

#define MAX_INPUT (4u << 20)

/*
 * The data extents of (a)'s memory (holes are zero and cost nothing) compare equal in (b). Run
 * both ways, this compares all of both memories while touching only what either holds.
 */
static void check_mem_covered(const struct nub_snapshot *a, const struct nub_snapshot *b)
{
	off_t pos = 0, end = (off_t)a->mem_size;

	while (pos < end) {
		off_t data = lseek(a->memfd, pos, SEEK_DATA);
		if (data < 0 || data >= end)
			break; /* ENXIO: only holes are left */
		off_t hole = lseek(a->memfd, data, SEEK_HOLE);
		NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode", hole > data);
		if (hole > end)
			hole = end;
		NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
				  memcmp(a->mem + data, b->mem + data, (size_t)(hole - data)) == 0);
		pos = hole;
	}
}

static void check_same(const struct nub_snapshot *a, const struct nub_snapshot *b)
{
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
			  memcmp(&a->layout, &b->layout, sizeof a->layout) == 0);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode", a->abi_version == b->abi_version);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
			  snap_vcpu_differs(&a->vcpu, &b->vcpu) == NULL);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode", a->nfn == b->nfn);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
			  a->nfn == 0 ||
				  memcmp(a->fn_ids, b->fn_ids, a->nfn * sizeof *a->fn_ids) == 0);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
			  a->nmaps == 0 && b->nmaps == 0); /* files store no mappings */
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode", a->mem_size == b->mem_size);
	check_mem_covered(a, b);
	check_mem_covered(b, a);
}

static void check_status(enum nub_status st, const struct nub_error *err)
{
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
			  st == NUB_OK || st == NUB_E_SNAPSHOT || st == NUB_E_ABI ||
				  (st == NUB_E_NOMEM && nub_fuzz_alloc_failures() > 0));
	if (st != NUB_OK)
		NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode",
				  err->status == st && nub_fuzz_error_ok(err));
}

/* Encodes (s) into a buffer allocated with the counting hook. */
static struct nub_buf encode(const struct nub_snapshot *s)
{
	struct nub_buf buf;
	struct nub_error err;

	memset(&buf, 0, sizeof buf);
	buf.alloc = nub_fuzz_alloc_hook();
	enum nub_status st = nub_snapshot_file_encode(s, &buf, &err);
	if (st != NUB_OK)
		fprintf(stderr, "nub-fuzz: encode failed: %s\n", err.message);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_encode", st == NUB_OK);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nub_error err;
	struct nub_snapshot *snap = NULL, *again = NULL;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	uint8_t *file = snap_repaired_copy(data, size);

	nub_fuzz_alloc_reset(0);
	struct nub_alloc_hook hook = nub_fuzz_alloc_hook();
	enum nub_status st = nub_snapshot_file_decode(file, size, &hook, &snap, &err);
	free(file);
	nub_fuzz_outcome(st == NUB_OK ? "ok" : nub_status_str(st));
	check_status(st, &err);
	if (st != NUB_OK) {
		NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode", nub_fuzz_alloc_live() == 0);
		return 0;
	}

	/* decode(encode(s)) == s, and the writer's output is a fixed point. */
	struct nub_buf first = encode(snap);
	st = nub_snapshot_file_decode(first.data, first.len, &hook, &again, &err);
	if (st != NUB_OK)
		fprintf(stderr, "nub-fuzz: the re-encoded file does not decode: %s\n", err.message);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_decode", st == NUB_OK);
	check_same(snap, again);
	struct nub_buf second = encode(again);
	NUB_FUZZ_CHECK_OP("nub_snapshot_file_encode",
			  second.len == first.len &&
				  memcmp(second.data, first.data, first.len) == 0);

	nub_buf_free(&first);
	nub_buf_free(&second);
	nub_snapshot_unref(snap);
	nub_snapshot_unref(again);
	NUB_FUZZ_CHECK_OP("nub_snapshot_unref", nub_fuzz_alloc_live() == 0);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	snap_describe(data, len, out);
}
