/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side encoder and decoder of the `fuzz` guest's command stream (guests/fuzz/fuzz_cmds.h). */
#ifndef NUB_FUZZ_CMDS_CODEC_H
#define NUB_FUZZ_CMDS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_cmds.h"

/*
 * ---- How the guest reads a stream (the one place these rules are written down) ----
 *
 * guests/fuzz/main.c implements exactly this, and fuzz_prog_describe() / fuzz_cmd_next() below
 * parse the same way. The stream is FUZZ_FN_RUN's payload, (n) bytes; a cursor (pos) starts at 0.
 *
 * 1. Parsing depends on the stream bytes only (never on buffer sizes or host replies):
 *    - pos == n: the stream ends ("end").
 *    - op = byte[pos]; an op outside FUZZ_OP_OUT..FUZZ_OP_RESPOND (0x01..0x0f) stops the stream
 *      ("stop: unknown op").
 *    - Each op has fixed arguments of a fixed size (table below, integers little-endian). Fewer
 *      than that many bytes after the op byte stops the stream ("stop: truncated").
 *    - Ops with data carry a u16 declared length (L) among their fixed arguments; the data is the
 *      next D = min(L, bytes left after the fixed arguments) bytes. A short data tail is not a
 *      stop: the command runs with its D bytes (and the stream then ends, nothing being left).
 *    - The command takes 1 + fixed + D bytes; pos moves past it before it runs.
 *
 *      op             fixed  arguments (then data)
 *      OUT            6      u16 port, u32 value
 *      OUT8           3      u16 port, u8 value
 *      WRITE_OUTPUT   4      u16 off, u16 L, data
 *      WRITE_INPUT    4      u16 off, u16 L, data
 *      SET_OUTPUT_SP  8      u64 value
 *      PUSH_OUTPUT    2      u16 L, data
 *      HOST_CALL      6      u32 fn_id, u16 L, data
 *      LOG            3      u8 level, u16 L, data
 *      DEBUG_PRINT    2      u16 L, data
 *      ABORT          3      u8 code, u16 L, data
 *      EXCEPTION      1      u8 kind
 *      SPIN           4      u32 n
 *      HALT           0
 *      HLT            0
 *      RESPOND        2      u16 L, data
 *
 * 2. What each command does (S = the buffer's size from the boot info; D as above):
 *    - OUT / OUT8: outl / outb of value to port, whatever the port.
 *    - WRITE_OUTPUT / WRITE_INPUT: copies the first min(D, S - off % S) data bytes to buffer
 *      offset off % S (stack pointers, back-pointers and stale frames included). The stream
 *      itself is never affected: the guest copies it out of the input buffer (to its heap) before
 *      the first WRITE_INPUT. If that copy cannot be allocated (a heap smaller than the payload)
 *      the guest aborts with NUB_ABORT_OUT_OF_MEMORY "fuzz: no heap for the stream copy".
 *    - SET_OUTPUT_SP: stores value as the output buffer's u64 stack pointer (offset 0).
 *    - PUSH_OUTPUT: reads the output stack pointer sp; if 8 <= sp <= S - 8 it writes the first
 *      min(D, S - sp - 8) data bytes at sp, then the u64 back-pointer sp, and sets the stack
 *      pointer past them (a raw element, as the ABI lays it out); otherwise it does nothing.
 *    - HOST_CALL: nub_guest_host_call(fn_id, data, D): a well-formed request; the status and
 *      result are ignored (a request too large for the output buffer is not sent; a malformed
 *      host reply is the runtime's NUB_ABORT_PROTOCOL).
 *    - LOG: nub_guest_log_n(level, "fuzz.c", line = the command's offset in the stream, data, D):
 *      dropped by the runtime when level is 0 or above the boot info's max_log_level, the message
 *      truncated to what fits the output buffer.
 *    - DEBUG_PRINT: debug-prints the first min(D, FUZZ_DEBUG_PRINT_MAX) data bytes, one OUT each
 *      (the rest of the data is consumed but not printed).
 *    - ABORT: nub_guest_abort_n(code, data, D) (0xff bytes go out as '?'). Does not return.
 *    - EXCEPTION: raises fuzz_exception kind % FUZZ_EXC_COUNT. Does not return.
 *    - SPIN: n == FUZZ_SPIN_FOREVER spins forever (does not return); otherwise min(n,
 *      FUZZ_SPIN_MAX) iterations of `pause`.
 *    - HALT: OUT 0 to NUB_PORT_HALT; HLT: the hlt instruction. Both end the call on the host's
 *      side (it pops whatever tops the output buffer as the response). Should the host resume the
 *      guest, the stream continues.
 *    - RESPOND: remembers the data (the last RESPOND wins; nothing is written yet).
 *
 * 3. When the stream ends or stops (not after ABORT, EXCEPTION or SPIN forever), FUZZ_FN_RUN
 *    returns NUB_STATUS_OK with the last RESPOND's data as the response, its first
 *    min(D, out->cap) bytes (empty if there was no RESPOND).
 */

/* SPIN's argument for "forever", and the cap on any other count. */
#define FUZZ_SPIN_FOREVER 0xffffffffu
#define FUZZ_SPIN_MAX 4096u
/* DEBUG_PRINT prints at most this many bytes. */
#define FUZZ_DEBUG_PRINT_MAX 64u

/* ---- Decoder ---- */

/* One parsed command (rule 1). Fields an op does not have are zero. */
struct fuzz_cmd {
	size_t offset; /* of the op byte */
	size_t size;   /* bytes the command takes: 1 + fixed + data_len */
	uint8_t op;
	uint16_t port;         /* OUT, OUT8 */
	uint32_t value;        /* OUT, OUT8 (the u8), SPIN (n) */
	uint64_t value64;      /* SET_OUTPUT_SP */
	uint16_t off;          /* WRITE_OUTPUT, WRITE_INPUT */
	uint32_t fn_id;        /* HOST_CALL */
	uint8_t level;         /* LOG */
	uint8_t code;          /* ABORT */
	uint8_t kind;          /* EXCEPTION: the raw byte (the guest uses kind % FUZZ_EXC_COUNT) */
	uint16_t declared_len; /* L */
	const uint8_t *data;   /* D bytes of data, inside the stream */
	size_t data_len;       /* D */
};

enum fuzz_cmd_result {
	FUZZ_CMD_OK = 0,    /* *cmd holds the command at pos */
	FUZZ_CMD_END,       /* pos == len */
	FUZZ_CMD_UNKNOWN,   /* the byte at pos is not an op */
	FUZZ_CMD_TRUNCATED, /* the op's fixed arguments run past the end */
};

/* Parses the command at (pos) of (data, len) by rule 1. */
enum fuzz_cmd_result fuzz_cmd_next(const uint8_t *data, size_t len, size_t pos,
				   struct fuzz_cmd *cmd);

/* The fixed-argument size of (op), or -1 if (op) is not an op. */
int fuzz_cmd_fixed_size(uint8_t op);

/* "OUT", "WRITE_OUTPUT", ...; "?" for a byte that is not an op. */
const char *fuzz_op_name(uint8_t op);

/*
 * Prints (data, len) decoded as the guest runs it, one line per command, e.g.
 *	OUT port=0x66 value=0x00ff0202
 *	WRITE_OUTPUT off=16 len=4 bytes=deadbeef
 *	SPIN n=forever
 *	stop: unknown op 0x7f at offset 12
 * then the response line. Data is shown up to 64 bytes.
 */
void fuzz_prog_describe(const uint8_t *data, size_t len, FILE *out);

/* ---- Encoder ---- */

/*
 * A program being built. Zero-initialise it (or fuzz_prog_init), append commands, use buf[0..len)
 * as the FUZZ_FN_RUN payload, then fuzz_prog_free. Every append returns false and leaves the
 * program unchanged if memory runs out or a data length exceeds UINT16_MAX.
 */
struct fuzz_prog {
	uint8_t *buf;
	size_t len, cap;
};

void fuzz_prog_init(struct fuzz_prog *p);
void fuzz_prog_free(struct fuzz_prog *p);

bool fuzz_prog_out(struct fuzz_prog *p, uint16_t port, uint32_t value);
bool fuzz_prog_out8(struct fuzz_prog *p, uint16_t port, uint8_t value);
bool fuzz_prog_write_output(struct fuzz_prog *p, uint16_t off, const void *bytes, size_t len);
bool fuzz_prog_write_input(struct fuzz_prog *p, uint16_t off, const void *bytes, size_t len);
bool fuzz_prog_set_output_sp(struct fuzz_prog *p, uint64_t value);
bool fuzz_prog_push_output(struct fuzz_prog *p, const void *bytes, size_t len);
bool fuzz_prog_host_call(struct fuzz_prog *p, uint32_t fn_id, const void *bytes, size_t len);
bool fuzz_prog_log(struct fuzz_prog *p, uint8_t level, const void *bytes, size_t len);
bool fuzz_prog_debug_print(struct fuzz_prog *p, const void *bytes, size_t len);
bool fuzz_prog_abort(struct fuzz_prog *p, uint8_t code, const void *bytes, size_t len);
bool fuzz_prog_exception(struct fuzz_prog *p, uint8_t kind);
bool fuzz_prog_spin(struct fuzz_prog *p, uint32_t n);
bool fuzz_prog_halt(struct fuzz_prog *p);
bool fuzz_prog_hlt(struct fuzz_prog *p);
bool fuzz_prog_respond(struct fuzz_prog *p, const void *bytes, size_t len);
/* Appends raw bytes (unknown ops, truncated commands, lying lengths). */
bool fuzz_prog_raw(struct fuzz_prog *p, const void *bytes, size_t len);

#endif
