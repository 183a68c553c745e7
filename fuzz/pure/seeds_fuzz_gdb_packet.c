/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_gdb_packet: gdb 13's side of real sessions, framed by the stub's own encoder. */
#include <stdio.h>
#include <string.h>

#include "fuzz_output.h"
#include "gdb_packet.h"
#include "nub/x86.h"
#include "seedgen.h"

#define ACK '+'

/* Appends (payload, len) as one frame, then the client's ack of the stub's reply. */
static void packet_n(struct fuzz_output *o, const void *payload, size_t len)
{
	static uint8_t frame[NUB_GDB_FRAME_MAX];
	size_t n;
	if (nub_gdb_frame(payload, len, frame, sizeof frame, &n) != NUB_OK)
		seedgen_die("gdb frame", (const char *)payload);
	fuzz_write_bytes(o, frame, n);
	fuzz_write_u8(o, ACK);
}

static void packet(struct fuzz_output *o, const char *payload)
{
	packet_n(o, payload, strlen(payload));
}

/*
 * Appends "$(payload)#cc" as it stands, with its checksum: for payloads that use run-length
 * encoding, which nub_gdb_frame (a sender that never compresses) would escape.
 */
static void raw_packet(struct fuzz_output *o, const char *payload, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + (uint8_t)payload[i]);
	fuzz_write_u8(o, '$');
	fuzz_write_bytes(o, payload, len);
	fuzz_write_u8(o, '#');
	fuzz_write_u8(o, (uint8_t)hex[sum >> 4]);
	fuzz_write_u8(o, (uint8_t)hex[sum & 15]);
	fuzz_write_u8(o, ACK);
}

/* A seed of the NULL-terminated packet list (p), after a leading ack if (ack_first). */
static void session(struct seedgen *g, const char *name, bool ack_first, const char *const *p)
{
	struct fuzz_output o = { 0 };
	if (ack_first)
		fuzz_write_u8(&o, ACK);
	for (; *p; p++)
		packet(&o, *p);
	seedgen_emit(g, name, &o);
}

/* A plausible register file: every general register distinct, flat long-mode selectors. */
static void sample_state(struct nub_vcpu_state *v)
{
	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = 0x1000u * (i + 1) + i;
	v->rip = 0x4010;
	v->rflags = X86_RFLAGS_FIXED1 | X86_RFLAGS_IF;
	v->cs.selector = X86_SEL_CODE64;
	v->ss.selector = v->ds.selector = v->es.selector = X86_SEL_DATA;
	v->fs.base = 0x5000;
	v->gs.base = 0x6000;
	v->fpu[NUB_FPU_FCW] = 0x7f; /* FCW 0x037f, MXCSR 0x1f80: the reset values */
	v->fpu[NUB_FPU_FCW + 1] = 0x03;
	v->fpu[NUB_FPU_MXCSR] = 0x80;
	v->fpu[NUB_FPU_MXCSR + 1] = 0x1f;
}

/* "G" and the hex register file of (v), NUL-terminated, in (buf). */
static void g_packet(char *buf, size_t cap, const struct nub_vcpu_state *v)
{
	size_t n;
	buf[0] = 'G';
	if (nub_gdb_regs_encode(v, (uint8_t *)buf + 1, cap - 2, &n) != NUB_OK)
		seedgen_die("gdb regs encode", "sample state");
	buf[1 + n] = '\0';
}

/*
 * Run-length encodes (s) as gdb does in replies: a run of 4 to 97 equal bytes becomes the byte,
 * '*' and 29 + the repeat count, skipping counts whose character would be '#' or '$'.
 */
static size_t rle(const char *s, char *out)
{
	size_t n = 0;
	for (size_t i = 0; s[i];) {
		size_t run = 1;
		while (s[i + run] == s[i] && run < 98)
			run++;
		size_t repeat = run - 1;
		while (repeat >= 3 && (29 + repeat == '#' || 29 + repeat == '$'))
			repeat--;
		out[n++] = s[i];
		if (repeat >= 3) {
			out[n++] = '*';
			out[n++] = (char)(29 + repeat);
			i += repeat + 1;
		} else {
			i++;
		}
	}
	out[n] = '\0';
	return n;
}

void seeds_fuzz_gdb_packet(struct seedgen *g)
{
	static const char qsupported[] =
		"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;"
		"vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;"
		"memory-tagging+;xmlRegisters=i386";
	const char *const connect[] = {
		qsupported,
		"vMustReplyEmpty",
		"Hg0",
		"qXfer:features:read:target.xml:0,1000",
		"qXfer:features:read:target.xml:1000,1000",
		"qTStatus",
		"?",
		"qfThreadInfo",
		"qsThreadInfo",
		"qAttached",
		"Hc-1",
		"qC",
		"g",
		NULL,
	};
	session(g, "connect", true, connect);
	const char *const multiprocess[] = {
		qsupported,
		"vMustReplyEmpty",
		"Hgp0.0",
		"qXfer:features:read:target.xml:0,1000",
		"qXfer:features:read:target.xml:1000,1000",
		"qTStatus",
		"?",
		"qfThreadInfo",
		"qsThreadInfo",
		"qAttached:1",
		"Hc-1",
		"g",
		"m10000,1",
		"vCont?",
		"vCont;s:p1.1;c:p1.-1",
		"g",
		"Z1,10010,1",
		"vCont;c:p1.-1",
		"z1,10010,1",
		"qThreadExtraInfo,p1.1",
		"qP0000001f0000000000000001",
		"D;1",
		NULL,
	};
	session(g, "multiprocess", true, multiprocess);
	const char *const threads[] = {
		"Hg0",
		"qfThreadInfo",
		"qsThreadInfo",
		"Hc-1",
		"qC",
		"qThreadExtraInfo,1",
		"qP0000001f0000000000000001",
		"T1",
		NULL,
	};
	session(g, "threads", false, threads);
	const char *const z_z[] = {
		"Z1,10010,1", "z1,10010,1", "Z0,10020,1", "z0,10020,1", "Z2,10040,4", "z2,10040,4",
		"Z3,10080,4", "z3,10080,4", "Z4,10080,8", "z4,10080,8", NULL,
	};
	session(g, "Z-z", false, z_z);
	const char *const mem[] = {
		"m10000,1", "m10001,1", "m10000,2000", "M10000,4:44332211", "X10000,0:", NULL,
	};
	session(g, "m-M-X", false, mem);
	const char *const p_p[] = {
		"P0=3412000000000000",
		"P39=0070000000000000",
		"P18=00000000000000c0ff3f",
		"P11=00000000",
		"p10",
		"p22",
		"p3a",
		"p3b",
		NULL,
	};
	session(g, "p-P", false, p_p);
	const char *const qxfer[] = {
		"qXfer:features:read:target.xml:0,1000",
		"qXfer:features:read:target.xml:1000,1000",
		"qXfer:features:read:target.xml:ffff,1000",
		NULL,
	};
	session(g, "qxfer", false, qxfer);
	const char *const vcont[] = { "vCont?", "vCont;c", "vCont;s:1;c", "s", "c", NULL };
	session(g, "vcont", false, vcont);
	const char *const detach[] = { "D", NULL };
	session(g, "detach", false, detach);
	const char *const kill[] = { "vKill;a410", "k", NULL };
	session(g, "kill", false, kill);

	/* Binary data that the framer must escape: '$', '#', '}', '*' and a Ctrl-C byte. */
	struct fuzz_output o = { 0 };
	static const char escapes[] = "X10000,5:$#}*\x03";
	packet_n(&o, escapes, sizeof escapes - 1);
	seedgen_emit(g, "escapes", &o);

	/* Ctrl-C between packets and inside a binary one (where it is data). */
	o = (struct fuzz_output){ 0 };
	packet(&o, "vCont;c");
	fuzz_write_u8(&o, 0x03);
	packet(&o, "g");
	packet_n(&o, "X10000,2:\x03\x03", 11);
	fuzz_write_u8(&o, 0x03);
	seedgen_emit(g, "interrupt", &o);

	/* Checksums: wrong, wrong by one, right. */
	o = (struct fuzz_output){ 0 };
	fuzz_write_bytes(&o, "$g#00$qC#b5", 11);
	packet(&o, "qC");
	seedgen_emit(g, "bad-checksum", &o);

	/* A register file read, written back, and a write that changes a selector (refused). */
	struct nub_vcpu_state v;
	static char gbuf[2 * NUB_GDB_REGS_BYTES + 2], rbuf[2 * NUB_GDB_REGS_BYTES + 2];
	sample_state(&v);
	g_packet(gbuf, sizeof gbuf, &v);
	o = (struct fuzz_output){ 0 };
	packet(&o, "g");
	packet(&o, gbuf);
	packet(&o, "g");
	seedgen_emit(g, "g-G", &o);
	v.cs.selector = 0x2b;
	g_packet(gbuf, sizeof gbuf, &v);
	o = (struct fuzz_output){ 0 };
	packet(&o, gbuf);
	seedgen_emit(g, "G-refused", &o);

	/* The same register file run-length encoded, as a client may send it. */
	sample_state(&v);
	g_packet(gbuf, sizeof gbuf, &v);
	size_t n = rle(gbuf, rbuf);
	o = (struct fuzz_output){ 0 };
	raw_packet(&o, rbuf, n);
	seedgen_emit(g, "rle-G", &o);

	/* Run lengths that expand past NUB_GDB_PACKET_MAX, then a packet the receiver still takes. */
	o = (struct fuzz_output){ 0 };
	fuzz_write_u8(&o, '$');
	fuzz_write_u8(&o, 'm');
	for (unsigned i = 0; i < 2 * NUB_GDB_PACKET_MAX / 97 + 2; i++)
		fuzz_write_bytes(&o, "0*~", 3);
	fuzz_write_bytes(&o, "#00", 3);
	packet(&o, "?");
	seedgen_emit(g, "overflow", &o);

	/* Packets at the size boundaries: 4 KiB of data, exactly NUB_GDB_PACKET_MAX, one past it. */
	static char big[NUB_GDB_PACKET_MAX + 2];
	static const struct {
		const char *name;
		size_t len;
	} sizes[] = { { "M-4k", 0 },
		      { "X-at-max", NUB_GDB_PACKET_MAX },
		      { "X-past-max", NUB_GDB_PACKET_MAX + 1 } };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		if (i == 0) {
			n = (size_t)snprintf(big, sizeof big, "M10000,1000:");
			memset(big + n, 'a', 2 * 4096);
			n += 2 * 4096;
		} else {
			size_t data = sizes[i].len - strlen("X10000,3ff0:");
			n = (size_t)snprintf(big, sizeof big, "X10000,%zx:", data);
			memset(big + n, 'b', sizes[i].len - n);
			n = sizes[i].len;
		}
		o = (struct fuzz_output){ 0 };
		raw_packet(&o, big, n);
		seedgen_emit(g, sizes[i].name, &o);
	}
}
