/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot file's CRC-32C and repair, free of engine code (the AFL++ mutator links it). */
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "snapshot_format.h"

uint32_t snap_crc32c(const uint8_t *p, size_t n)
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

void snap_fix_crc(uint8_t *b, size_t len)
{
	nub_put_le32(b + len - 4, snap_crc32c(b, len - 4));
}

void snap_repair(uint8_t *b, size_t len)
{
	if (len >= SNAP_HEADER_SIZE)
		nub_put_le64(b + SNAP_HDR_FILE_SIZE, len);
	if (len >= 4)
		snap_fix_crc(b, len);
}
