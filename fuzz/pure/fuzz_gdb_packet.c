/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_gdb_packet: hostile gdb client bytes through the stub's receiver, parser and registers. */
#include <stdlib.h>
#include <string.h>

#include "gdb_packet.h"
#include "nub/x86.h"
#include "nub_fuzz.h"

#define MAX_INPUT (1u << 20)
#define MAX_DESCRIBED_EVENTS 200u

static const char *const event_names[] = {
	[NUB_GDB_EV_NONE] = "none",
	[NUB_GDB_EV_PACKET] = "packet",
	[NUB_GDB_EV_ACK] = "ack",
	[NUB_GDB_EV_NACK] = "nack",
	[NUB_GDB_EV_INTERRUPT] = "interrupt",
	[NUB_GDB_EV_BAD_CHECKSUM] = "bad-checksum",
	[NUB_GDB_EV_BAD_PACKET] = "bad-packet",
	[NUB_GDB_EV_OVERFLOW] = "overflow",
};

static const char *const kind_names[NUB_GDB_CMD_KIND_COUNT] = {
	[NUB_GDB_CMD_UNSUPPORTED] = "unsupported",
	[NUB_GDB_CMD_ERROR] = "error",
	[NUB_GDB_CMD_QSUPPORTED] = "qSupported",
	[NUB_GDB_CMD_QXFER_FEATURES] = "qXfer:features",
	[NUB_GDB_CMD_QATTACHED] = "qAttached",
	[NUB_GDB_CMD_QC] = "qC",
	[NUB_GDB_CMD_QFTHREADINFO] = "qfThreadInfo",
	[NUB_GDB_CMD_QSTHREADINFO] = "qsThreadInfo",
	[NUB_GDB_CMD_SET_THREAD] = "H",
	[NUB_GDB_CMD_THREAD_ALIVE] = "T",
	[NUB_GDB_CMD_STOP_REASON] = "?",
	[NUB_GDB_CMD_READ_REGS] = "g",
	[NUB_GDB_CMD_WRITE_REGS] = "G",
	[NUB_GDB_CMD_READ_REG] = "p",
	[NUB_GDB_CMD_WRITE_REG] = "P",
	[NUB_GDB_CMD_READ_MEM] = "m",
	[NUB_GDB_CMD_WRITE_MEM] = "M",
	[NUB_GDB_CMD_WRITE_MEM_BIN] = "X",
	[NUB_GDB_CMD_CONTINUE] = "c",
	[NUB_GDB_CMD_STEP] = "s",
	[NUB_GDB_CMD_VCONT_QUERY] = "vCont?",
	[NUB_GDB_CMD_VCONT] = "vCont",
	[NUB_GDB_CMD_INSERT_BP] = "Z",
	[NUB_GDB_CMD_REMOVE_BP] = "z",
	[NUB_GDB_CMD_KILL] = "k",
	[NUB_GDB_CMD_DETACH] = "D",
};

/* What one input did, for the outcome class: the most notable thing wins. */
struct tally {
	size_t events[NUB_GDB_EV_OVERFLOW + 1];
	size_t kinds[NUB_GDB_CMD_KIND_COUNT];
};

/* The scratch a stub would own: a second receiver for round trips and the reply buffers. */
struct scratch {
	struct nub_gdb_rx echo;
	uint8_t frame[NUB_GDB_FRAME_MAX];
	uint8_t reply[NUB_GDB_PACKET_MAX];
	uint8_t hex[2 * NUB_GDB_REGS_BYTES];
};

/* A private copy of exactly (len) bytes, so ASan reports any read past the payload. */
static uint8_t *copy_exact(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	NUB_FUZZ_CHECK(c != NULL); /* the harness's own allocation */
	if (len)
		memcpy(c, p, len);
	return c;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static bool fits(uint64_t addr, uint64_t len)
{
	return len == 0 || len - 1 <= UINT64_MAX - addr;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool same_hex(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* The vCPU state the registers are read from and written to: nub's boot segments. */
static void base_state(struct nub_vcpu_state *v)
{
	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = 0x1000u + i;
	v->rip = 0x10000;
	v->rflags = X86_RFLAGS_FIXED1 | X86_RFLAGS_IF;
	v->cs.selector = X86_SEL_CODE64;
	v->ss.selector = v->ds.selector = v->es.selector = X86_SEL_DATA;
	v->fs.selector = v->gs.selector = X86_SEL_DATA;
	v->fs.base = 0x5000;
	v->gs.base = 0x6000;
	v->fpu[128] = 0x7f; /* fcw 0x37f */
	v->fpu[129] = 0x03;
	v->fpu[131] = 7u << 3; /* TOP = 7 */
	v->fpu[132] = 0x80;    /* ST0 = physical 7 in use: 1.0 */
	v->fpu[7] = 0x80;
	v->fpu[8] = 0xff;
	v->fpu[9] = 0x3f;
	v->fpu[408] = 0x80; /* mxcsr 0x1f80 */
	v->fpu[409] = 0x1f;
}

/* frame(payload) fed to a fresh receiver gives back exactly that payload, at its last byte. */
static void check_frame_round_trip(struct scratch *s, const uint8_t *payload, size_t len)
{
	size_t n = 0;

	NUB_FUZZ_CHECK_OP("nub_gdb_frame",
			  nub_gdb_frame(payload, len, s->frame, sizeof s->frame, &n) == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_frame", n >= len + 4 && n <= 2 * len + 4);
	NUB_FUZZ_CHECK_OP("nub_gdb_frame",
			  nub_gdb_frame(payload, len, s->frame, n - 1, &n) == NUB_E_LAYOUT);
	nub_gdb_rx_init(&s->echo);
	for (size_t i = 0; i + 1 < n; i++)
		NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed",
				  nub_gdb_rx_feed(&s->echo, s->frame[i]) == NUB_GDB_EV_NONE);
	NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed",
			  nub_gdb_rx_feed(&s->echo, s->frame[n - 1]) == NUB_GDB_EV_PACKET);
	NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed", s->echo.len == len);
	NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed", !len || memcmp(s->echo.payload, payload, len) == 0);
}

static void check_thread(const struct nub_gdb_thread *t)
{
	NUB_FUZZ_CHECK_OP("nub_gdb_parse", t->tid >= -1);
	NUB_FUZZ_CHECK_OP("nub_gdb_parse", t->has_pid ? t->pid >= -1 : t->pid == 0);
}

/* The qXfer reply for the command's slice of target.xml, checked against the document. */
static void check_qxfer(struct scratch *s, const struct nub_gdb_cmd *cmd)
{
	size_t doc_len, n = 0;
	const uint8_t *doc = (const uint8_t *)nub_gdb_target_xml(&doc_len);
	enum nub_status st = nub_gdb_qxfer_reply(doc, doc_len, cmd->xfer.offset, cmd->xfer.length,
						 s->reply, sizeof s->reply, &n);

	if (cmd->xfer.offset > doc_len) {
		NUB_FUZZ_CHECK_OP("nub_gdb_qxfer_reply", st == NUB_E_INVALID);
		return;
	}
	NUB_FUZZ_CHECK_OP("nub_gdb_qxfer_reply", st == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_qxfer_reply",
			  n >= 1 && n - 1 <= cmd->xfer.length && n <= sizeof s->reply);
	size_t off = (size_t)cmd->xfer.offset, data = n - 1;
	NUB_FUZZ_CHECK_OP("nub_gdb_qxfer_reply", data <= doc_len - off);
	NUB_FUZZ_CHECK_OP("nub_gdb_qxfer_reply",
			  !data || memcmp(s->reply + 1, doc + off, data) == 0);
	NUB_FUZZ_CHECK_OP("nub_gdb_qxfer_reply",
			  s->reply[0] == (off + data == doc_len ? 'l' : 'm'));
	check_frame_round_trip(s, s->reply, n);
}

/* 'G': all or nothing; what is accepted re-encodes to the same text but for ftag's detail. */
static void check_write_regs(struct scratch *s, const struct nub_gdb_cmd *cmd)
{
	struct nub_vcpu_state base, v, again;
	struct nub_error err;
	size_t n = 0, ftag = 0;

	for (unsigned r = 0; r < NUB_GDB_REG_FTAG; r++)
		ftag += 2 * nub_gdb_reg_size(r);
	base_state(&base);
	v = base;
	enum nub_status st = nub_gdb_regs_decode(&v, cmd->regs.hex, cmd->regs.hex_len, &err);
	if (st != NUB_OK) {
		NUB_FUZZ_CHECK_OP("nub_gdb_regs_decode",
				  st == NUB_E_INVALID && nub_fuzz_error_ok(&err));
		NUB_FUZZ_CHECK_OP("nub_gdb_regs_decode", memcmp(&v, &base, sizeof v) == 0);
		return;
	}
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode",
			  nub_gdb_regs_encode(&v, s->hex, sizeof s->hex, &n) == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode", n == cmd->regs.hex_len);
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode", same_hex(s->hex, cmd->regs.hex, ftag));
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode",
			  same_hex(s->hex + ftag + 8, cmd->regs.hex + ftag + 8, n - ftag - 8));
	/* ftag: the abridged tag survives; the full word is rebuilt from the registers. */
	uint64_t sent, got;
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode",
			  nub_gdb_hex_u64(cmd->regs.hex + ftag, 4, &sent) == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode", nub_gdb_hex_u64(s->hex + ftag, 4, &got) == NUB_OK);
	sent = (sent >> 8 | sent << 8) & 0xffff; /* little-endian hex */
	got = (got >> 8 | got << 8) & 0xffff;
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode", nub_gdb_ftag_abridged((uint16_t)sent) ==
							 nub_gdb_ftag_abridged((uint16_t)got));
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_encode", memcmp(s->hex + ftag + 4, "0000", 4) == 0);
	/* What was written decodes to itself. */
	again = v;
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_decode",
			  nub_gdb_regs_decode(&again, s->hex, n, &err) == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_regs_decode", memcmp(&again, &v, sizeof v) == 0);
}

/* 'p' and 'P' by number against the base state. */
static void check_reg(struct scratch *s, const struct nub_gdb_cmd *cmd)
{
	struct nub_vcpu_state base, v;
	struct nub_error err;
	size_t n = 0, size = nub_gdb_reg_size(cmd->reg.regno);

	NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->reg.regno < NUB_GDB_NREGS && size > 0);
	base_state(&base);
	if (cmd->kind == NUB_GDB_CMD_READ_REG) {
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_get", nub_gdb_reg_get(&base, cmd->reg.regno, s->hex,
								     sizeof s->hex, &n) == NUB_OK);
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_get", n == 2 * size);
		return;
	}
	NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->reg.hex_len == 2 * size);
	v = base;
	enum nub_status st = nub_gdb_reg_set(&v, cmd->reg.regno, cmd->reg.hex, cmd->reg.hex_len,
					     &err);
	if (st != NUB_OK) {
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set",
				  st == NUB_E_INVALID && nub_fuzz_error_ok(&err));
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set", memcmp(&v, &base, sizeof v) == 0);
		return;
	}
	NUB_FUZZ_CHECK_OP("nub_gdb_reg_get",
			  nub_gdb_reg_get(&v, cmd->reg.regno, s->hex, sizeof s->hex, &n) == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_reg_get", n == cmd->reg.hex_len);
	if (cmd->reg.regno == NUB_GDB_REG_FTAG) {
		/* The abridged tag is what is kept; the full word read back is rebuilt. */
		uint8_t b[4];
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set",
				  nub_gdb_hex_decode(cmd->reg.hex, 8, b, sizeof b, &n) == NUB_OK);
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set", b[2] == 0 && b[3] == 0);
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set",
				  v.fpu[132] ==
					  nub_gdb_ftag_abridged((uint16_t)(b[0] | b[1] << 8)));
		base.fpu[132] = v.fpu[132]; /* and nothing else changed */
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set", memcmp(&v, &base, sizeof v) == 0);
	} else {
		NUB_FUZZ_CHECK_OP("nub_gdb_reg_set", same_hex(s->hex, cmd->reg.hex, n));
	}
}

/* Every field of a parsed command is in the range its contract states. */
static void check_cmd(struct scratch *s, const struct nub_gdb_cmd *cmd, const uint8_t *p,
		      size_t len)
{
	size_t n;

	NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->kind < NUB_GDB_CMD_KIND_COUNT);
	NUB_FUZZ_CHECK_OP("nub_gdb_parse", (cmd->kind == NUB_GDB_CMD_ERROR) == (cmd->why != NULL));
	switch (cmd->kind) {
	case NUB_GDB_CMD_ERROR:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->why[0] != 0);
		break;
	case NUB_GDB_CMD_QXFER_FEATURES:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->xfer.length >= 1);
		check_qxfer(s, cmd);
		break;
	case NUB_GDB_CMD_QATTACHED:
	case NUB_GDB_CMD_DETACH:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->process.has_pid ? cmd->process.pid >= 1
									: cmd->process.pid == 0);
		break;
	case NUB_GDB_CMD_SET_THREAD:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->thread.op == 'g' || cmd->thread.op == 'c');
		check_thread(&cmd->thread.thread);
		break;
	case NUB_GDB_CMD_THREAD_ALIVE:
		check_thread(&cmd->thread.thread);
		break;
	case NUB_GDB_CMD_WRITE_REGS:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->regs.hex_len == 2 * NUB_GDB_REGS_BYTES);
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  inside(cmd->regs.hex, cmd->regs.hex_len, p, len));
		check_write_regs(s, cmd);
		break;
	case NUB_GDB_CMD_READ_REG:
	case NUB_GDB_CMD_WRITE_REG:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  cmd->kind == NUB_GDB_CMD_READ_REG ||
					  inside(cmd->reg.hex, cmd->reg.hex_len, p, len));
		check_reg(s, cmd);
		break;
	case NUB_GDB_CMD_READ_MEM:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  cmd->mem.len >= 1 && cmd->mem.len <= NUB_GDB_MEM_READ_MAX);
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", fits(cmd->mem.addr, cmd->mem.len));
		break;
	case NUB_GDB_CMD_WRITE_MEM:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  inside(cmd->mem.data, cmd->mem.data_len, p, len));
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->mem.data_len == 2 * cmd->mem.len);
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", fits(cmd->mem.addr, cmd->mem.len));
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  nub_gdb_hex_decode(cmd->mem.data, cmd->mem.data_len, s->reply,
						     sizeof s->reply, &n) == NUB_OK);
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", n == cmd->mem.len);
		break;
	case NUB_GDB_CMD_WRITE_MEM_BIN:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  inside(cmd->mem.data, cmd->mem.data_len, p, len));
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->mem.data_len == cmd->mem.len);
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", fits(cmd->mem.addr, cmd->mem.len));
		break;
	case NUB_GDB_CMD_CONTINUE:
	case NUB_GDB_CMD_STEP:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->resume.has_addr || cmd->resume.addr == 0);
		break;
	case NUB_GDB_CMD_VCONT:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse",
				  cmd->vcont.n >= 1 && cmd->vcont.n <= NUB_GDB_VCONT_MAX);
		for (unsigned i = 0; i < cmd->vcont.n; i++) {
			const struct nub_gdb_vcont_action *a = &cmd->vcont.action[i];
			NUB_FUZZ_CHECK_OP("nub_gdb_parse", memchr("cCsS", a->op, 4) != NULL);
			NUB_FUZZ_CHECK_OP("nub_gdb_parse",
					  a->op == 'C' || a->op == 'S' || a->signal == 0);
			if (a->has_thread)
				check_thread(&a->thread);
		}
		break;
	case NUB_GDB_CMD_INSERT_BP:
	case NUB_GDB_CMD_REMOVE_BP:
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->bp.type <= NUB_GDB_WP_ACCESS);
		if (cmd->bp.type <= NUB_GDB_BP_HW)
			NUB_FUZZ_CHECK_OP("nub_gdb_parse", cmd->bp.kind == 1);
		else
			NUB_FUZZ_CHECK_OP("nub_gdb_parse",
					  cmd->bp.kind >= 1 && cmd->bp.kind <= NUB_GDB_WATCH_MAX);
		NUB_FUZZ_CHECK_OP("nub_gdb_parse", fits(cmd->bp.addr, cmd->bp.kind));
		break;
	default:
		break;
	}
}

/* A stop reply built from bytes of the packet frames and decodes back. */
static void check_stop_reply(struct scratch *s, const uint8_t *p, size_t len)
{
	struct nub_gdb_stop stop = {
		.kind = (enum nub_gdb_stop_kind)(len % 6),
		.signal = len ? p[0] : 0,
		.addr = len >= 8 ? (uint64_t)p[len - 1] << 56 | len : len,
	};
	size_t n = 0;

	NUB_FUZZ_CHECK_OP("nub_gdb_stop_reply",
			  nub_gdb_stop_reply(&stop, s->reply, 32, &n) == NUB_OK);
	NUB_FUZZ_CHECK_OP("nub_gdb_stop_reply", n >= 3 && n <= 32);
	check_frame_round_trip(s, s->reply, n);
}

/* Feeds (data) to a receiver; with (s), checks every packet as a stub would handle it. */
static void run(const uint8_t *data, size_t size, struct nub_gdb_rx *rx, struct scratch *s,
		struct tally *t)
{
	nub_gdb_rx_init(rx);
	for (size_t i = 0; i < size; i++) {
		enum nub_gdb_event ev = nub_gdb_rx_feed(rx, data[i]);
		NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed",
				  ev >= NUB_GDB_EV_NONE && ev <= NUB_GDB_EV_OVERFLOW);
		t->events[ev]++;
		if (ev >= NUB_GDB_EV_BAD_CHECKSUM)
			NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed",
					  rx->error != NULL && rx->error[0] != 0);
		if (ev != NUB_GDB_EV_PACKET)
			continue;
		NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed", rx->len <= NUB_GDB_PACKET_MAX);
		NUB_FUZZ_CHECK_OP("nub_gdb_rx_feed", rx->error == NULL);
		struct nub_gdb_cmd cmd;
		uint8_t *payload = copy_exact(rx->payload, rx->len);
		t->kinds[nub_gdb_parse(payload, rx->len, &cmd)]++;
		if (s) {
			check_cmd(s, &cmd, payload, rx->len);
			check_frame_round_trip(s, payload, rx->len);
			check_stop_reply(s, payload, rx->len);
		}
		free(payload);
	}
}

static const char *outcome(const struct tally *t)
{
	if (t->events[NUB_GDB_EV_OVERFLOW])
		return "overflow";
	if (t->events[NUB_GDB_EV_BAD_PACKET])
		return "bad-packet";
	if (t->events[NUB_GDB_EV_BAD_CHECKSUM])
		return "bad-checksum";
	if (t->kinds[NUB_GDB_CMD_ERROR])
		return "command-error";
	for (int k = NUB_GDB_CMD_ERROR + 1; k < NUB_GDB_CMD_KIND_COUNT; k++)
		if (t->kinds[k])
			return "commands";
	if (t->kinds[NUB_GDB_CMD_UNSUPPORTED])
		return "unsupported";
	if (t->events[NUB_GDB_EV_INTERRUPT])
		return "interrupt";
	return "no-packet";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally first = { 0 }, second = { 0 };

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	struct nub_gdb_rx *rx = malloc(sizeof *rx);
	struct scratch *s = malloc(sizeof *s);
	NUB_FUZZ_CHECK(rx != NULL && s != NULL); /* the harness's own allocation */
	/* A quiet pass names the outcome before any invariant is checked; the second must agree. */
	run(data, size, rx, NULL, &first);
	nub_fuzz_outcome(outcome(&first));
	run(data, size, rx, s, &second);
	NUB_FUZZ_CHECK_OP("nub_gdb_parse", memcmp(&first, &second, sizeof first) == 0);
	free(s);
	free(rx);
	return 0;
}

/* For 'G' and 'P': whether the base state takes the write, or why not. */
static void describe_write(const struct nub_gdb_cmd *cmd, FILE *out)
{
	struct nub_vcpu_state v;
	struct nub_error err;
	enum nub_status st;

	base_state(&v);
	if (cmd->kind == NUB_GDB_CMD_WRITE_REGS)
		st = nub_gdb_regs_decode(&v, cmd->regs.hex, cmd->regs.hex_len, &err);
	else if (cmd->kind == NUB_GDB_CMD_WRITE_REG)
		st = nub_gdb_reg_set(&v, cmd->reg.regno, cmd->reg.hex, cmd->reg.hex_len, &err);
	else
		return;
	fprintf(out, "\n    -> %s", st == NUB_OK ? "accepted" : err.message);
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct nub_gdb_rx *rx = malloc(sizeof *rx);
	unsigned shown = 0;

	if (!rx)
		return;
	fprintf(out, "  %zu bytes from the client\n", len);
	nub_gdb_rx_init(rx);
	for (size_t i = 0; i < len; i++) {
		enum nub_gdb_event ev = nub_gdb_rx_feed(rx, data[i]);
		if (ev == NUB_GDB_EV_NONE)
			continue;
		if (++shown > MAX_DESCRIBED_EVENTS) {
			fprintf(out, "  ... (%zu more input bytes)\n", len - i);
			break;
		}
		fprintf(out, "  @%zu %s", i, event_names[ev]);
		if (ev == NUB_GDB_EV_PACKET) {
			struct nub_gdb_cmd cmd;
			enum nub_gdb_cmd_kind k = nub_gdb_parse(rx->payload, rx->len, &cmd);
			fprintf(out, " (%zu bytes) %s", rx->len, kind_names[k]);
			if (cmd.why)
				fprintf(out, " [%s]", cmd.why);
			fputs(": ", out);
			nub_fuzz_print_string(out, rx->payload, rx->len, 80);
			describe_write(&cmd, out);
		} else if (rx->error && ev >= NUB_GDB_EV_BAD_CHECKSUM) {
			fprintf(out, ": %s", rx->error);
		}
		fputc('\n', out);
	}
	free(rx);
}
