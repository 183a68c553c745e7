/* SPDX-License-Identifier: Apache-2.0 */
/* Little-endian byte lists for initializers (engine/src/bytes.h has the loads and stores). */
#ifndef NUB_HARNESS_LE_BYTES_H
#define NUB_HARNESS_LE_BYTES_H

#include <stdint.h>

/* (v) as 2, 4 or 8 comma-separated uint8_t values, lowest first: { LE32(x), LE16(y) }. */
#define LE16(v) (uint8_t)(v), (uint8_t)((v) >> 8)
#define LE32(v) LE16(v), LE16((v) >> 16)
#define LE64(v) LE32(v), LE32((uint64_t)(v) >> 32)

#endif
