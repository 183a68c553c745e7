/* SPDX-License-Identifier: Apache-2.0 */
/* The GDB remote stub's pure layer: packet framing, hex, commands, amd64 registers; no I/O. */
#ifndef NUB_GDB_PACKET_H
#define NUB_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"
#include "snapshot.h"

/*
 * The largest payload (the decoded bytes between '$' and '#') the stub accepts; advertised to
 * gdb as PacketSize, which gdb takes as the limit of the payload it sends, framing excluded.
 */
#define NUB_GDB_PACKET_MAX 0x4000u
/* A buffer this big frames any payload of up to NUB_GDB_PACKET_MAX bytes (every byte escaped). */
#define NUB_GDB_FRAME_MAX (2u * NUB_GDB_PACKET_MAX + 4u)
/* The most bytes one 'm' may ask for: its hex reply must fit in one packet. */
#define NUB_GDB_MEM_READ_MAX (NUB_GDB_PACKET_MAX / 2u)
/* The most actions one vCont packet may carry (gdb sends one or two for a single thread). */
#define NUB_GDB_VCONT_MAX 8u
/* The widest watchpoint one Z2/Z3/Z4 may ask for: what one debug register covers. */
#define NUB_GDB_WATCH_MAX 8u

/*
 * The stub's replies to qSupported and vCont?. PacketSize is hex (0x4000). gdb uses vCont only
 * if the reply lists all of c, C, s and S; the signal of C and S is ignored (nothing delivers
 * signals to a guest). swbreak+/hwbreak+ let stop replies say which breakpoint kind stopped.
 */
#define NUB_GDB_QSUPPORTED_REPLY "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+"
#define NUB_GDB_VCONT_REPLY "vCont;c;C;s;S"

/* gdb's signal numbers (its own numbering, not the host's) for stop replies. */
#define NUB_GDB_SIGINT 0x02u  /* Ctrl-C */
#define NUB_GDB_SIGILL 0x04u  /* #UD */
#define NUB_GDB_SIGTRAP 0x05u /* breakpoints, watchpoints, single step */
#define NUB_GDB_SIGABRT 0x06u /* guest abort */
#define NUB_GDB_SIGFPE 0x08u  /* #DE, #MF, #XM */
#define NUB_GDB_SIGKILL 0x09u
#define NUB_GDB_SIGBUS 0x0au
#define NUB_GDB_SIGSEGV 0x0bu /* #PF, #GP, other faults */

/* ---- Receiving packets ---- */

/* What one received byte means to the stub. */
enum nub_gdb_event {
	NUB_GDB_EV_NONE = 0,     /* consumed; nothing to do yet (also: garbage between packets) */
	NUB_GDB_EV_PACKET,       /* rx->payload[0..rx->len) is a whole packet: '+', then parse it */
	NUB_GDB_EV_ACK,          /* '+' between packets: the last reply arrived */
	NUB_GDB_EV_NACK,         /* '-' between packets: send the last reply again */
	NUB_GDB_EV_INTERRUPT,    /* 0x03 between packets: stop the guest, send a stop reply */
	NUB_GDB_EV_BAD_CHECKSUM, /* the checksum does not match or is not hex: answer '-' */
	NUB_GDB_EV_BAD_PACKET,   /* checksum fine but the escapes or run lengths are broken */
	NUB_GDB_EV_OVERFLOW,     /* the payload would exceed NUB_GDB_PACKET_MAX */
};

/*
 * An incremental receiver: feed it every byte read from the connection, in order. Its state is
 * a few fields and a fixed buffer; each byte costs O(1) work except a run-length byte, which
 * writes at most 97 bytes, so no input makes it loop or grow.
 */
struct nub_gdb_rx {
	int state;         /* private: where in a frame the next byte falls */
	uint8_t sum;       /* private: running checksum of the raw bytes after '$' */
	uint8_t sum_hi;    /* private: the first checksum digit */
	const char *error; /* after BAD_CHECKSUM, BAD_PACKET or OVERFLOW: why (a fixed string) */
	size_t len;        /* after PACKET: payload length */
	uint8_t payload[NUB_GDB_PACKET_MAX]; /* after PACKET: the decoded payload (no NUL) */
};

/* Resets (rx) to "between packets", forgetting any partial packet. */
void nub_gdb_rx_init(struct nub_gdb_rx *rx);

/*
 * Feeds one byte to (rx) and says what it completed. payload and len are valid from a PACKET
 * event until the next call. Framing rules:
 * - between packets '+', '-' and 0x03 are events; '$' starts a packet; anything else is ignored;
 * - inside a packet '$' abandons it and starts a new one (as gdb itself does), '#' ends it and two
 *   hex digits (either case) follow, '}' escapes the next byte (XOR 0x20), and "X*c" repeats the
 *   decoded byte X another c - 29 times, c in ' '..'~' (3..97 more); every other byte, 0x03
 *   included, is payload;
 * - the checksum is the sum modulo 256 of the raw bytes between '$' and '#'. A mismatch is
 *   BAD_CHECKSUM; a valid checksum over a broken encoding (a run length with nothing to repeat,
 *   a count byte outside ' '..'~', '}' or '*' just before '#') is BAD_PACKET;
 * - OVERFLOW is reported at the byte that would take the decoded payload past
 *   NUB_GDB_PACKET_MAX; the rest of that packet, up to its checksum, is skipped silently.
 */
enum nub_gdb_event nub_gdb_rx_feed(struct nub_gdb_rx *rx, uint8_t byte);

/* ---- Sending packets ---- */

/*
 * Frames (payload, len) as "$payload#cc" into (out, cap), escaping '$', '#', '}' and '*' as '}'
 * followed by the byte XOR 0x20 (no run-length encoding), and sets *(outlen). NUB_E_LAYOUT if
 * the frame does not fit (cap >= 2 * len + 4 always does); NUB_E_INVALID for NULL pointers.
 */
enum nub_status nub_gdb_frame(const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
			      size_t *outlen);

/* ---- Hex ---- */

/*
 * Parses all of (s, len) as an unsigned hex number of 1 to 16 digits, either case, into *(out).
 * NUB_E_PROTOCOL if it is empty, longer than 16 digits (leading zeros count) or has a non-hex
 * byte; *(out) is then unchanged.
 */
enum nub_status nub_gdb_hex_u64(const uint8_t *s, size_t len, uint64_t *out);

/*
 * Decodes the hex string (hex, len) into (out, cap) and sets *(outlen) = len / 2. Checked in this
 * order, reading no digit before the first two: NUB_E_PROTOCOL for an odd length, NUB_E_LAYOUT
 * if len / 2 > cap, NUB_E_PROTOCOL for a non-hex byte. (out) is untouched on any error.
 */
enum nub_status nub_gdb_hex_decode(const uint8_t *hex, size_t len, uint8_t *out, size_t cap,
				   size_t *outlen);

/*
 * Writes (bytes, len) as lower-case hex into (out, cap) and sets *(outlen) = 2 * len.
 * NUB_E_LAYOUT, before reading anything, if 2 * len does not fit in (cap) (or overflows size_t).
 */
enum nub_status nub_gdb_hex_encode(const uint8_t *bytes, size_t len, uint8_t *out, size_t cap,
				   size_t *outlen);

/* ---- Commands ---- */

enum nub_gdb_cmd_kind {
	NUB_GDB_CMD_UNSUPPORTED = 0, /* unknown: reply with an empty packet, as the protocol asks */
	NUB_GDB_CMD_ERROR,           /* a known command, malformed or out of range: see (why) */
	NUB_GDB_CMD_QSUPPORTED,      /* qSupported[:features]: reply NUB_GDB_QSUPPORTED_REPLY */
	NUB_GDB_CMD_QXFER_FEATURES,  /* qXfer:features:read:target.xml:offset,length */
	NUB_GDB_CMD_QATTACHED,       /* qAttached[:pid] */
	NUB_GDB_CMD_QC,              /* qC: the current thread */
	NUB_GDB_CMD_QFTHREADINFO,    /* qfThreadInfo: first part of the thread list */
	NUB_GDB_CMD_QSTHREADINFO,    /* qsThreadInfo: the rest of the thread list */
	NUB_GDB_CMD_SET_THREAD,      /* H op thread */
	NUB_GDB_CMD_THREAD_ALIVE,    /* T thread */
	NUB_GDB_CMD_STOP_REASON,     /* ? */
	NUB_GDB_CMD_READ_REGS,       /* g */
	NUB_GDB_CMD_WRITE_REGS,      /* G hex */
	NUB_GDB_CMD_READ_REG,        /* p n */
	NUB_GDB_CMD_WRITE_REG,       /* P n=hex */
	NUB_GDB_CMD_READ_MEM,        /* m addr,len */
	NUB_GDB_CMD_WRITE_MEM,       /* M addr,len:hex */
	NUB_GDB_CMD_WRITE_MEM_BIN,   /* X addr,len:bytes */
	NUB_GDB_CMD_CONTINUE,        /* c [addr] */
	NUB_GDB_CMD_STEP,            /* s [addr] */
	NUB_GDB_CMD_VCONT_QUERY,     /* vCont?: reply NUB_GDB_VCONT_REPLY */
	NUB_GDB_CMD_VCONT,           /* vCont;action[:thread]... */
	NUB_GDB_CMD_INSERT_BP,       /* Z type,addr,kind */
	NUB_GDB_CMD_REMOVE_BP,       /* z type,addr,kind */
	NUB_GDB_CMD_KILL,            /* k */
	NUB_GDB_CMD_DETACH,          /* D[;pid] */
	NUB_GDB_CMD_KIND_COUNT
};

/* Z/z types. */
enum nub_gdb_bp_type {
	NUB_GDB_BP_SW = 0,    /* int3 written into guest memory */
	NUB_GDB_BP_HW = 1,    /* a debug register, execution */
	NUB_GDB_WP_WRITE = 2, /* a debug register, data writes */
	NUB_GDB_WP_READ = 3,  /* reads (x86 debug registers catch reads and writes: see awatch) */
	NUB_GDB_WP_ACCESS = 4 /* reads or writes */
};

/* A thread-id: -1 means all threads, 0 any thread; otherwise 1..INT64_MAX. */
struct nub_gdb_thread {
	bool has_pid; /* the "pPID.TID" form (multiprocess); else only tid is given */
	int64_t pid;  /* with has_pid; "pPID" alone means tid -1 */
	int64_t tid;
};

/* One vCont action; the leftmost action whose thread matches a thread applies to it. */
struct nub_gdb_vcont_action {
	uint8_t op;      /* 'c', 'C', 's' or 'S' */
	uint8_t signal;  /* C and S: the signal (ignored by the stub), else 0 */
	bool has_thread; /* false: applies to every thread not matched by an earlier action */
	struct nub_gdb_thread thread;
};

/*
 * A parsed command. Spans (data, hex) point into the payload passed to nub_gdb_parse and live as
 * long as it does. Only the member named for (kind) is meaningful.
 */
struct nub_gdb_cmd {
	enum nub_gdb_cmd_kind kind;
	const char *why; /* ERROR: what was wrong (a fixed string); else NULL */
	union {
		struct { /* QSUPPORTED: what gdb said it supports */
			bool swbreak, hwbreak, vcont_supported, xml_registers_i386;
		} supported;
		struct { /* QXFER_FEATURES (annex target.xml): length >= 1 */
			uint64_t offset, length;
		} xfer;
		struct { /* QATTACHED, DETACH */
			bool has_pid;
			int64_t pid; /* 1..INT64_MAX */
		} process;
		struct { /* SET_THREAD ('g': registers and memory, 'c': resumption), THREAD_ALIVE */
			uint8_t op;
			struct nub_gdb_thread thread;
		} thread;
		struct { /* WRITE_REGS: exactly 2 * NUB_GDB_REGS_BYTES hex digits */
			const uint8_t *hex;
			size_t hex_len;
		} regs;
		struct { /* READ_REG, WRITE_REG: regno < NUB_GDB_NREGS; WRITE_REG: hex is
			    2 * nub_gdb_reg_size(regno) hex digits */
			uint64_t regno;
			const uint8_t *hex;
			size_t hex_len;
		} reg;
		struct { /* READ_MEM: 1 <= len <= NUB_GDB_MEM_READ_MAX; WRITE_MEM: data is 2 * len
			    hex digits; WRITE_MEM_BIN: data is len raw bytes (len 0: gdb probing for
			    X). Always addr + len <= 2^64. */
			uint64_t addr, len;
			const uint8_t *data;
			size_t data_len;
		} mem;
		struct { /* CONTINUE, STEP: resume at addr if has_addr */
			bool has_addr;
			uint64_t addr;
		} resume;
		struct { /* VCONT: 1..NUB_GDB_VCONT_MAX actions */
			unsigned n;
			struct nub_gdb_vcont_action action[NUB_GDB_VCONT_MAX];
		} vcont;
		struct { /* INSERT_BP, REMOVE_BP: types 0/1 have kind 1 (int3's length); types 2..4
			    have kind (the length) 1..NUB_GDB_WATCH_MAX; addr + kind <= 2^64 */
			enum nub_gdb_bp_type type;
			uint64_t addr, kind;
		} bp;
	};
};

/*
 * Parses the packet (payload, len) into *(cmd) and returns cmd->kind. Every number is checked
 * against the range documented for its field, every hex digit is checked, and nothing is read
 * outside (payload, len). An unknown command (including an empty payload and everything gdb asks
 * only of stubs that advertised it: vMustReplyEmpty, qTStatus, qOffsets, qSymbol, QStartNoAckMode,
 * vFile, ...) is UNSUPPORTED; a known one that is malformed is ERROR with cmd->why set.
 */
enum nub_gdb_cmd_kind nub_gdb_parse(const uint8_t *payload, size_t len, struct nub_gdb_cmd *cmd);

/* ---- Target description ---- */

/*
 * The amd64 target description (target.xml) the stub serves through qXfer: features
 * org.gnu.gdb.i386.core, org.gnu.gdb.i386.sse and org.gnu.gdb.i386.segments (fs_base, gs_base),
 * registers numbered as NUB_GDB_REG_*. Returns the NUL-terminated document; *(len) (may be NULL)
 * gets its length without the NUL. It contains none of '$', '#', '}', '*'.
 */
const char *nub_gdb_target_xml(size_t *len);

/*
 * Builds the qXfer read reply for (offset, length) of the document (doc, doc_len) into (out, cap):
 * 'm' + data if more follows, 'l' + data if the data reaches the end ("l" alone at the end).
 * The data is at most (length) bytes and is shortened to fit (cap); it is raw document bytes, to
 * be escaped once, by nub_gdb_frame. NUB_E_INVALID if offset > doc_len (the stub replies "E00")
 * or length is 0, NUB_E_LAYOUT if cap is 0.
 */
enum nub_status nub_gdb_qxfer_reply(const uint8_t *doc, size_t doc_len, uint64_t offset,
				    uint64_t length, uint8_t *out, size_t cap, size_t *outlen);

/* ---- Registers ---- */

/* gdb's register numbers for this target description ('p'/'P', and the order of 'g'/'G'). */
enum nub_gdb_regno {
	NUB_GDB_REG_RAX = 0, /* 0..15: rax rbx rcx rdx rsi rdi rbp rsp r8..r15 (rbp before rsp) */
	NUB_GDB_REG_RIP = 16,
	NUB_GDB_REG_EFLAGS = 17,
	NUB_GDB_REG_CS = 18,  /* 18..23: cs ss ds es fs gs */
	NUB_GDB_REG_ST0 = 24, /* 24..31: st0..st7, 10 bytes each */
	NUB_GDB_REG_FCTRL = 32,
	NUB_GDB_REG_FSTAT = 33,
	NUB_GDB_REG_FTAG = 34,
	NUB_GDB_REG_FISEG = 35,
	NUB_GDB_REG_FIOFF = 36,
	NUB_GDB_REG_FOSEG = 37,
	NUB_GDB_REG_FOOFF = 38,
	NUB_GDB_REG_FOP = 39,
	NUB_GDB_REG_XMM0 = 40, /* 40..55: xmm0..xmm15 */
	NUB_GDB_REG_MXCSR = 56,
	NUB_GDB_REG_FS_BASE = 57,
	NUB_GDB_REG_GS_BASE = 58,
	NUB_GDB_NREGS = 59
};

/* Bytes of the whole register file in 'g'/'G' (twice as many hex digits). */
#define NUB_GDB_REGS_BYTES 552u
/* The widest single register (xmm). */
#define NUB_GDB_REG_MAX_BYTES 16u

/* gdb's name of register (regno) ("rax", "st0", "fs_base"); NULL if regno >= NUB_GDB_NREGS. */
const char *nub_gdb_reg_name(uint64_t regno);

/* Size in bytes of register (regno) in gdb's view; 0 if regno >= NUB_GDB_NREGS. */
size_t nub_gdb_reg_size(uint64_t regno);

/*
 * Writes the 'g' reply for (vcpu): every register in NUB_GDB_REG_* order, little-endian, as
 * 2 * NUB_GDB_REGS_BYTES lower-case hex digits into (hex, cap); sets *(len). NUB_E_LAYOUT if it
 * does not fit. The x87 view follows gdb's own amd64 FXSAVE reading: st<i> is the first 10 bytes
 * of fpr slot i; ftag is the full tag word rebuilt from the abridged one (nub_gdb_ftag_full);
 * fioff/fooff are the low halves of the 64-bit last_ip/last_dp and fiseg/foseg their high halves
 * (the bytes the 64-bit FXSAVE layout puts where the 32-bit one keeps the selectors; no selectors
 * exist in 64-bit mode); fop is the 11-bit opcode.
 */
enum nub_status nub_gdb_regs_encode(const struct nub_vcpu_state *vcpu, uint8_t *hex, size_t cap,
				    size_t *len);

/*
 * Applies a 'G' register file (hex, len) to (vcpu): all or nothing. NUB_E_PROTOCOL if len is not
 * 2 * NUB_GDB_REGS_BYTES or a digit is not hex; NUB_E_INVALID, naming the register, for a value
 * the vCPU could not hold: see nub_gdb_reg_set. (vcpu) is unchanged on any error.
 */
enum nub_status nub_gdb_regs_decode(struct nub_vcpu_state *vcpu, const uint8_t *hex, size_t len,
				    struct nub_error *err);

/*
 * Writes register (regno) of (vcpu) as 2 * nub_gdb_reg_size(regno) hex digits (the 'p' reply).
 * NUB_E_INVALID if regno >= NUB_GDB_NREGS, NUB_E_LAYOUT if it does not fit in (cap).
 */
enum nub_status nub_gdb_reg_get(const struct nub_vcpu_state *vcpu, uint64_t regno, uint8_t *hex,
				size_t cap, size_t *len);

/*
 * Sets register (regno) of (vcpu) from (hex, len), 2 * nub_gdb_reg_size(regno) hex digits (the
 * 'P' packet). Refused, leaving (vcpu) unchanged, with NUB_E_INVALID: regno out of range, the
 * segment selectors (read-only: a selector without its descriptor would be a state no CPU can
 * reach), a non-canonical rip, fs_base or gs_base, eflags with bit 1 clear or a reserved bit
 * (3, 5, 15, 22..31) or VM set (long mode), fctrl/fstat/ftag above 0xffff, fop above 0x7ff,
 * mxcsr with bits 16..31 set. NUB_E_PROTOCOL for a wrong length or a non-hex digit.
 */
enum nub_status nub_gdb_reg_set(struct nub_vcpu_state *vcpu, uint64_t regno, const uint8_t *hex,
				size_t len, struct nub_error *err);

/*
 * The full x87 tag word of (vcpu) from the abridged ftwx FXSAVE keeps (SDM vol. 1 §10.5.1.1):
 * 2 bits per physical register i, 11 (empty) where ftwx bit i is clear, else classified from the
 * register's contents (00 valid, 01 zero, 10 special); physical register i is ST((i - TOP) mod 8)
 * with TOP = FSW bits 13..11, and fpr slot j holds ST(j).
 */
uint16_t nub_gdb_ftag_full(const struct nub_vcpu_state *vcpu);

/* The abridged tag byte of a full tag word: bit i set where register i's tag is not 11 (empty). */
uint8_t nub_gdb_ftag_abridged(uint16_t full);

/* ---- Stop replies ---- */

enum nub_gdb_stop_kind {
	NUB_GDB_STOP_SIGNAL = 0, /* "Sxx" */
	NUB_GDB_STOP_SWBREAK,    /* "Txxswbreak:;": a Z0's int3; rip must be the int3's address */
	NUB_GDB_STOP_HWBREAK,    /* "Txxhwbreak:;": a Z1 (after a single step: SIGNAL, "S05") */
	NUB_GDB_STOP_WATCH,      /* "Txxwatch:addr;" */
	NUB_GDB_STOP_RWATCH,     /* "Txxrwatch:addr;" */
	NUB_GDB_STOP_AWATCH,     /* "Txxawatch:addr;" */
};

/* Why the guest stopped, for a stop reply. */
struct nub_gdb_stop {
	enum nub_gdb_stop_kind kind;
	uint8_t signal; /* a NUB_GDB_SIG* number; NUB_GDB_SIGTRAP for breakpoints and watchpoints */
	uint64_t addr;  /* watchpoints: the data address that triggered */
};

/*
 * Writes the stop reply payload for (stop) into (out, cap) and sets *(len). NUB_E_LAYOUT if it
 * does not fit (32 bytes always do), NUB_E_INVALID for an unknown kind. Send swbreak/hwbreak only
 * if gdb's qSupported said swbreak+/hwbreak+; otherwise "T05" (or "S05") alone.
 */
enum nub_status nub_gdb_stop_reply(const struct nub_gdb_stop *stop, uint8_t *out, size_t cap,
				   size_t *len);

#endif
