/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input formats of the fuzz targets, shared by the targets (decoders), their describe functions
 * and the seed files fuzz/<kind>/seeds_<target>.c (encoders). All integers are little-endian; a
 * field cut off by the end of the input reads as zero (fuzz_input.h). Changing a format means
 * regenerating corpus/ (seeds-match fails until then) and renaming or re-encoding regress-* files
 * by hand.
 */
#ifndef NUB_FUZZ_FORMATS_H
#define NUB_FUZZ_FORMATS_H

/*
 * fuzz_wire: u8 mode (taken modulo 4), then
 *   WIRE_REQUEST / WIRE_RESPONSE / WIRE_LOG: the rest of the input is one frame to decode;
 *   WIRE_ENCODE: u8 kind (modulo 3: request, response, log), u32 a (fn_id / status / level),
 *     u32 line, u16 len1, u16 len2, then up to len1 + len2 bytes for the variable parts
 *     (payload / payload+message / file+message); encoded, then decoded.
 */
enum fuzz_wire_mode { WIRE_REQUEST, WIRE_RESPONSE, WIRE_LOG, WIRE_ENCODE, WIRE_MODES };

/*
 * fuzz_iobuf: u8 size_sel (buffer size = 16 + 8 * (size_sel % 64)), u8 flags, then with
 * IOBUF_FLAG_IMAGE (size) bytes of initial buffer image (else the buffer is reset), then ops until
 * the input ends, each a u8 opcode (modulo IOBUF_OPS) and its operands:
 *   IOBUF_PUSH  u16 len, len bytes (fewer if the input ends)
 *   IOBUF_POP   u16 cap (0: NULL destination)
 *   IOBUF_RESET
 *   IOBUF_POKE  u16 offset, u64 value (the guest rewriting 8 bytes; offset modulo size - 7)
 *   IOBUF_POKE8 u16 offset, u8 value
 */
#define IOBUF_FLAG_IMAGE 1u
#define IOBUF_FLAG_MISALIGN 2u /* the buffer starts at an odd host address */
enum fuzz_iobuf_op { IOBUF_PUSH, IOBUF_POP, IOBUF_RESET, IOBUF_POKE, IOBUF_POKE8, IOBUF_OPS };

/*
 * fuzz_outb_decode: u8 max_guest_log_level (modulo 6), u8 sizes (input buffer size index in bits
 * 0-1, output in bits 2-3, into OUTB_SIZES), u8 fail_alloc_at (0 = no injected failure), then ops
 * until the input ends or a port write ends the "call" (HALT or STOP), each a u8 opcode (modulo
 * OUTB_OPS) and its operands:
 *   OUTB_OUT_LOG, OUTB_OUT_HOST_CALL, OUTB_OUT_ABORT, OUTB_OUT_PRINT, OUTB_OUT_HALT: u32 value,
 *       written to that port as a 4-byte OUT;
 *   OUTB_OUT_RAW      u16 port, u8 size (modulo 5), u32 value;
 *   OUTB_PUSH_LOG     u8 level, u32 line, u8 file_len, u16 msg_len, file bytes, message bytes
 *                     (a log frame built with nub_wire_encode_log, pushed to the output buffer);
 *   OUTB_PUSH_REQUEST u32 fn_id, u16 payload_len, payload bytes (a request frame, pushed);
 *   OUTB_PUSH_RAW     u16 len, bytes (pushed as one element, whatever they are);
 *   OUTB_POKE_OUTPUT  u16 offset, u64 value (the guest corrupting its output buffer);
 *   OUTB_POP_INPUT    (the guest pops and decodes the host's response from the input buffer);
 *   OUTB_FEED_ABORT   u32 value (straight into nub_outb_abort_feed on a separate stream);
 *   OUTB_ABORT_BYTES  u16 n, n bytes (sent over the abort port, 3 per write, no terminator);
 *   OUTB_PRINT_BYTES  u16 n, n bytes (each byte written to the debug-print port as a scalar).
 * Host functions: OUTB_FN_ECHO returns the request, OUTB_FN_FAIL fails with a message,
 * OUTB_FN_GROW returns 64 bytes per request byte (responses too large for small buffers).
 */
/* clang-format off */
#define OUTB_SIZES { 16u, 64u, 512u, 4096u }
/* clang-format on */
enum fuzz_outb_op {
	OUTB_OUT_LOG,
	OUTB_OUT_HOST_CALL,
	OUTB_OUT_ABORT,
	OUTB_OUT_PRINT,
	OUTB_OUT_HALT,
	OUTB_OUT_RAW,
	OUTB_PUSH_LOG,
	OUTB_PUSH_REQUEST,
	OUTB_PUSH_RAW,
	OUTB_POKE_OUTPUT,
	OUTB_POP_INPUT,
	OUTB_FEED_ABORT,
	OUTB_ABORT_BYTES,
	OUTB_PRINT_BYTES,
	OUTB_OPS
};
enum fuzz_outb_fn { OUTB_FN_ECHO = 1, OUTB_FN_FAIL = 2, OUTB_FN_GROW = 3 };

/*
 * The KVM targets (their files say more):
 *   fuzz_outb:          the `fuzz` guest's command stream (fuzz_cmds_codec.h), the payload of
 *                       FUZZ_FN_RUN;
 *   fuzz_guest_call:    u32 fn_id of the `simple` guest, then the payload;
 *   fuzz_host_call:     u32 host fn_id (kvm_target.h's registry), then the request bytes: the
 *                       payload of SIMPLE_HOST_CALL;
 *   fuzz_guest_blob:    u8 init_data_perms, u32 init_len, min(init_len, rest) bytes of init data,
 *                       then the ELF file;
 *   fuzz_snapshot_run and fuzz_snapshot_file (pure): a snapshot file (engine/snapshot-format.md),
 *                       file_size and CRC-32C trailer repaired before decoding (snapshot_format.h).
 */

/* fuzz_elf: the whole input is the ELF file. Images whose primary region would exceed this are parsed, not loaded. */
#define ELF_LOAD_LIMIT (4u << 20)

/*
 * fuzz_pagewalk: u8 root (the PML4 is table root % PAGEWALK_TABLES), u8 limits (bit 0: small
 * entry budget, bit 1: few ranges, bit 2: few bytes), then up to PAGEWALK_TABLES pages of table
 * bytes written from PAGEWALK_TABLES_GPA on in a 1 MiB primary region (0x4000..0x104000) with a
 * 64 KiB scratch region at the top of guest-physical space.
 */
#define PAGEWALK_TABLES 16u
#define PAGEWALK_TABLES_GPA 0x80000ull
#define PAGEWALK_PRIMARY_SIZE (1ull << 20)
#define PAGEWALK_SCRATCH_SIZE 0x10000ull

#endif
