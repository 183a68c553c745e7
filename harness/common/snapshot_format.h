/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot file format as the harness sees it: offsets, CRC-32C, repair, describer, fixture. */
#ifndef NUB_HARNESS_SNAPSHOT_FORMAT_H
#define NUB_HARNESS_SNAPSHOT_FORMAT_H

/*
 * The one place outside the engine where the layout of engine/snapshot-format.md is written down,
 * typed independently of engine/src/snapshot_file.c so that a format change shows up in the tests
 * (harness/tests/test_snapshot_file.c pins the fixture file field by field) and in seeds-match.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "layout.h"
#include "snapshot.h"

/* The header: 32 bytes at offset 0. */
#define SNAP_HEADER_SIZE 32u
#define SNAP_HDR_MAGIC 0u
#define SNAP_HDR_VERSION 8u
#define SNAP_HDR_ABI 12u
#define SNAP_HDR_SIZE 16u
#define SNAP_HDR_COUNT 20u
#define SNAP_HDR_FILE_SIZE 24u

/* The section table follows: entry (i) of 24 bytes. */
#define SNAP_ENTRY_SIZE 24u
#define SNAP_ENTRY(i) (SNAP_HEADER_SIZE + SNAP_ENTRY_SIZE * (i))
#define SNAP_E_TYPE 0u
#define SNAP_E_RESERVED 4u
#define SNAP_E_OFFSET 8u
#define SNAP_E_LENGTH 16u

/* Section types; SNAP_ABS is not one: it marks offsets counted from the start of the file. */
enum snap_section { SNAP_ABS = 0, SNAP_LAYOUT = 1, SNAP_VCPU = 2, SNAP_FNS = 3, SNAP_MEMORY = 4 };

/* LAYOUT (48 bytes): the layout parameters, u64 each. */
#define SNAP_LAYOUT_SIZE 48u
#define SNAP_L_IMAGE_END 0u
#define SNAP_L_HEAP 8u
#define SNAP_L_INIT_DATA 16u
#define SNAP_L_INPUT 24u
#define SNAP_L_OUTPUT 32u
#define SNAP_L_STACK 40u

/* VCPU (896 bytes): registers, then segments of 24 bytes in the order of enum snap_segment. */
#define SNAP_VCPU_SIZE 896u
#define SNAP_V_GPR(i) (8u * (i))
#define SNAP_V_RSP SNAP_V_GPR(6)
#define SNAP_V_RIP 128u
#define SNAP_V_RFLAGS 136u
#define SNAP_V_SEG(i) (144u + 24u * (i))
enum snap_segment { SNAP_CS, SNAP_DS, SNAP_ES, SNAP_FS, SNAP_GS, SNAP_SS, SNAP_TR, SNAP_LDT };
#define SNAP_S_BASE 0u
#define SNAP_S_TYPE 14u
#define SNAP_S_PRESENT 15u
#define SNAP_S_DPL 16u
#define SNAP_S_DB 17u
#define SNAP_S_S 18u
#define SNAP_S_L 19u
#define SNAP_S_G 20u
#define SNAP_S_AVL 21u
#define SNAP_S_UNUSABLE 22u
#define SNAP_S_RESERVED 23u
#define SNAP_V_SEGF(seg, field) (SNAP_V_SEG(seg) + (field))
#define SNAP_V_GDT_BASE 336u
#define SNAP_V_IDT_BASE 344u
#define SNAP_V_RESERVED 356u
#define SNAP_V_CR0 360u
#define SNAP_V_CR3 376u
#define SNAP_V_CR4 384u
#define SNAP_V_CR8 392u
#define SNAP_V_EFER 400u
#define SNAP_V_APIC 408u
#define SNAP_V_FPU 416u
#define SNAP_V_MXCSR (SNAP_V_FPU + 408u)
#define SNAP_V_DR(i) (832u + 8u * (i))
#define SNAP_V_DR6 864u
#define SNAP_V_DR7 872u
#define SNAP_V_KGS 880u
#define SNAP_V_XCR0 888u

/* MEMORY: u32 run count, u32 reserved, runs of 16 bytes (u64 offset, u64 pages), then the data. */
#define SNAP_M_COUNT 0u
#define SNAP_M_RESERVED 4u
#define SNAP_M_RUN(i) (8u + 16u * (i))
#define SNAP_R_OFFSET 0u
#define SNAP_R_PAGES 8u

/* CRC-32C (Castagnoli, reflected 0x82F63B78), table-driven, independent of the engine's code. */
uint32_t snap_crc32c(const uint8_t *p, size_t n);

/*
 * Snapshot-file repair for the snapshot fuzz targets (and the seed generator's hand-made
 * variants). The loader verifies the CRC-32C trailer before it interprets any section, so a
 * mutated file would almost never get past the checksum; the targets therefore rewrite, after
 * mutation and before decoding, in (b, len):
 *   - file_size to the input's real length, when the input holds a header: inserting or erasing
 *     bytes is then not stopped by the truncation check either;
 *   - the trailer (the last 4 bytes) to the CRC-32C of every byte before it.
 * What the checksum and file_size checks themselves reject is covered by test_snapshot_file.c.
 * The same fix-up is applied to every input, so a saved crash file reproduces (the reproducer
 * repairs it the same way).
 */
void snap_repair(uint8_t *b, size_t len);

/* Only the trailer of (b, len >= 4): the CRC-32C of every byte before it. */
void snap_fix_crc(uint8_t *b, size_t len);

/*
 * A repaired private copy of exactly (size) bytes of (data) (at least 1 byte allocated), so the
 * decoder's reads stay checked by ASan; free() it. Aborts (an invariant) if malloc fails.
 */
uint8_t *snap_repaired_copy(const uint8_t *data, size_t size);

/*
 * The file offset of the section of (type) in the table of (b, len), or 0 if the table, as far as
 * it lies inside the file, lists none.
 */
size_t snap_section_offset(const uint8_t *b, size_t len, enum snap_section type);

/*
 * Prints the header and section table of (data, len) (and the key fields of LAYOUT and VCPU) for
 * the reproducers; the sections themselves are validated (and named) by the loader.
 */
void snap_describe(const uint8_t *data, size_t len, FILE *out);

/*
 * The name of the first field of the vCPU state in which (a) and (b) differ ("rip", "cs.base",
 * "fpu", ...), or NULL when every field (not the padding) is equal: the round-trip check of the
 * snapshot tests and of fuzz_snapshot_file.
 */
const char *snap_vcpu_differs(const struct nub_vcpu_state *a, const struct nub_vcpu_state *b);

/*
 * A plausible state of a long-mode guest at CPL0 halted in its dispatch loop in layout (l): the
 * registers a KVM snapshot holds, every field valid for the loader. Fields it leaves zero: cr2,
 * cr8, dr0-dr3, kernel_gs_base and the FPU image beyond FCW and MXCSR.
 */
void snap_fixture_vcpu(struct nub_vcpu_state *v, const struct nub_layout *l);

/*
 * A snapshot file made without KVM by the engine's encoder from layout (p), host functions
 * (fns, nfns), the fixture vCPU state and, with (fill), a memory pattern (the halt code at the
 * entry, two data pages, the last byte of the primary region, the top of the stack); else all
 * memory is zero. (*file) is zeroed first; nub_buf_free it. NUB_OK, or the failing step's status
 * with (err) saying which.
 */
enum nub_status snap_fixture_file(const struct nub_layout_params *p, const uint32_t *fns,
				  uint32_t nfns, bool fill, struct nub_buf *file,
				  struct nub_error *err);

#endif
