/*
 * Snapshot-file repair for the snapshot fuzz targets (and the seed generator's hand-made
 * variants). The loader verifies a CRC-32C trailer before it interprets any section
 * (engine/snapshot-format.md), so a mutated file would almost never get past the checksum; the
 * targets therefore rewrite, after mutation and before decoding:
 *   - file_size (header offset 24, u64) to the input's real length, when the input holds a header:
 *     inserting or erasing bytes is then not stopped by the truncation check either;
 *   - the trailer (the last 4 bytes) to the CRC-32C of every byte before it.
 * What the checksum and file_size checks themselves reject is covered by
 * harness/tests/test_snapshot_file.c. The same fix-up is applied to every input, so a saved crash
 * file reproduces (the reproducer repairs it the same way). snapshot_describe prints a file's
 * header and section table for the reproducers.
 */
#ifndef NUB_FUZZ_SNAPSHOT_REPAIR_H
#define NUB_FUZZ_SNAPSHOT_REPAIR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nub_fuzz.h"

#define SNAPSHOT_HEADER_SIZE 32u
#define SNAPSHOT_FILE_SIZE_AT 24u

/* CRC-32C (Castagnoli, reflected 0x82F63B78), table-driven, independent of the engine's code. */
static inline uint32_t snapshot_crc32c(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t crc = 0xffffffffu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
			table[i] = c;
		}
	for (size_t i = 0; i < n; i++)
		crc = (crc >> 8) ^ table[(crc ^ p[i]) & 0xff];
	return ~crc;
}

/* Rewrites file_size and the trailer of (b, len) in place, as described above. */
static inline void snapshot_repair(uint8_t *b, size_t len)
{
	if (len >= SNAPSHOT_HEADER_SIZE)
		for (unsigned i = 0; i < 8; i++)
			b[SNAPSHOT_FILE_SIZE_AT + i] = (uint8_t)((uint64_t)len >> (8 * i));
	if (len >= 4) {
		uint32_t crc = snapshot_crc32c(b, len - 4);
		for (unsigned i = 0; i < 4; i++)
			b[len - 4 + i] = (uint8_t)(crc >> (8 * i));
	}
}

/*
 * A repaired private copy of exactly (size) bytes of (data) (at least 1 byte allocated), so the
 * decoder's reads stay checked by ASan; free() it. Aborts (an invariant) if malloc fails.
 */
static inline uint8_t *snapshot_repaired_copy(const uint8_t *data, size_t size)
{
	uint8_t *file = malloc(size ? size : 1);
	NUB_FUZZ_CHECK(file != NULL);
	if (size)
		memcpy(file, data, size);
	snapshot_repair(file, size);
	return file;
}

static inline uint64_t snapshot_rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The header and section table; the sections themselves are validated (and named) by the loader. */
static inline void snapshot_describe(const uint8_t *data, size_t len, FILE *out)
{
	static const char *const types[] = { "?", "LAYOUT", "VCPU", "FNS", "MEMORY" };

	fprintf(out, "  (file_size and the CRC-32C trailer are repaired before loading)\n");
	if (len < SNAPSHOT_HEADER_SIZE) {
		fprintf(out, "  %zu bytes: shorter than the 32-byte header\n", len);
		nub_fuzz_hexdump(out, data, len, 32);
		return;
	}
	fprintf(out, "  magic ");
	nub_fuzz_print_string(out, data, 8, 8);
	unsigned count = (unsigned)snapshot_rd(data + 20, 4);
	fprintf(out, ", format %u, abi %u, header_size %u, %u sections\n",
		(unsigned)snapshot_rd(data + 8, 4), (unsigned)snapshot_rd(data + 12, 4),
		(unsigned)snapshot_rd(data + 16, 4), count);
	for (unsigned i = 0; i < count && i < 16; i++) {
		size_t at = SNAPSHOT_HEADER_SIZE + (size_t)i * 24;
		if (len < at + 24) {
			fprintf(out, "  section[%u]: past the end of the file\n", i);
			break;
		}
		unsigned type = (unsigned)snapshot_rd(data + at, 4);
		uint64_t off = snapshot_rd(data + at + 8, 8), n = snapshot_rd(data + at + 16, 8);
		fprintf(out, "  section[%u] %s (type %u, reserved %u) at 0x%llx, 0x%llx bytes\n", i,
			type >= 1 && type <= 4 ? types[type] : types[0], type,
			(unsigned)snapshot_rd(data + at + 4, 4), (unsigned long long)off, (unsigned long long)n);
		if (type == 1 && n == 48 && off <= len && len - off >= 48)
			fprintf(out, "    image_end 0x%llx heap 0x%llx init_data 0x%llx input 0x%llx "
				     "output 0x%llx stack 0x%llx\n",
				(unsigned long long)snapshot_rd(data + off, 8),
				(unsigned long long)snapshot_rd(data + off + 8, 8),
				(unsigned long long)snapshot_rd(data + off + 16, 8),
				(unsigned long long)snapshot_rd(data + off + 24, 8),
				(unsigned long long)snapshot_rd(data + off + 32, 8),
				(unsigned long long)snapshot_rd(data + off + 40, 8));
		if (type == 2 && n == 896 && off <= len && len - off >= 896)
			fprintf(out, "    rip 0x%llx rsp 0x%llx rflags 0x%llx cr0 0x%llx cr3 0x%llx "
				     "cr4 0x%llx efer 0x%llx\n",
				(unsigned long long)snapshot_rd(data + off + 128, 8),
				(unsigned long long)snapshot_rd(data + off + 48, 8),
				(unsigned long long)snapshot_rd(data + off + 136, 8),
				(unsigned long long)snapshot_rd(data + off + 360, 8),
				(unsigned long long)snapshot_rd(data + off + 376, 8),
				(unsigned long long)snapshot_rd(data + off + 384, 8),
				(unsigned long long)snapshot_rd(data + off + 400, 8));
	}
}

#endif
