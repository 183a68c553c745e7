/* SPDX-License-Identifier: Apache-2.0 */
/* The GDB remote stub's pure layer: framing, hex, commands, target description, registers. */
#include "gdb_packet.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "nub/x86.h"

/* ---- Receiver ---- */

enum rx_state {
	RX_IDLE = 0,  /* between packets */
	RX_DATA,      /* inside a payload */
	RX_ESCAPE,    /* after '}' */
	RX_REPEAT,    /* after '*': the next byte is a repeat count */
	RX_SUM1,      /* after '#' */
	RX_SUM2,      /* after the first checksum digit */
	RX_SKIP,      /* inside a payload that overflowed: skipped up to its '#' */
	RX_SKIP_SUM1, /* its two checksum digits, skipped */
	RX_SKIP_SUM2,
};

/* A run-length count byte c stands for c - 29 more copies (' ' = 3 .. '~' = 97). */
#define RLE_BIAS 29u
#define RLE_FIRST ' '
#define RLE_LAST '~'

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void nub_gdb_rx_init(struct nub_gdb_rx *rx)
{
	rx->state = RX_IDLE;
	rx->sum = 0;
	rx->sum_hi = 0;
	rx->error = NULL;
	rx->len = 0;
}

static void start_packet(struct nub_gdb_rx *rx)
{
	rx->state = RX_DATA;
	rx->sum = 0;
	rx->error = NULL;
	rx->len = 0;
}

static enum nub_gdb_event overflow(struct nub_gdb_rx *rx, const char *why)
{
	rx->state = RX_SKIP;
	rx->error = why;
	return NUB_GDB_EV_OVERFLOW;
}

/* Appends one decoded byte, unless the packet is already known to be broken. */
static enum nub_gdb_event put(struct nub_gdb_rx *rx, uint8_t b)
{
	if (rx->error)
		return NUB_GDB_EV_NONE;
	if (rx->len == NUB_GDB_PACKET_MAX)
		return overflow(rx, "payload longer than PacketSize");
	rx->payload[rx->len++] = b;
	return NUB_GDB_EV_NONE;
}

/* "X*c": the last decoded byte, c - 29 more times. */
static enum nub_gdb_event repeat(struct nub_gdb_rx *rx, uint8_t count)
{
	if (rx->error)
		return NUB_GDB_EV_NONE;
	if (rx->len == 0) {
		rx->error = "run length with nothing to repeat";
		return NUB_GDB_EV_NONE;
	}
	if (count < RLE_FIRST || count > RLE_LAST) {
		rx->error = "run-length count outside ' '..'~'";
		return NUB_GDB_EV_NONE;
	}
	size_t n = (size_t)count - RLE_BIAS;
	if (n > NUB_GDB_PACKET_MAX - rx->len)
		return overflow(rx, "run length expands past PacketSize");
	memset(rx->payload + rx->len, rx->payload[rx->len - 1], n);
	rx->len += n;
	return NUB_GDB_EV_NONE;
}

/* A byte inside a payload (states DATA, ESCAPE, REPEAT). */
static enum nub_gdb_event data_byte(struct nub_gdb_rx *rx, uint8_t byte)
{
	int state = rx->state;

	/*
	 * '$' and '#' are never payload: the sender escapes them. So they frame the packet even
	 * where an escaped byte or a count was due, and a lost '#' cannot swallow the next packet.
	 */
	if (byte == '$') {
		start_packet(rx);
		return NUB_GDB_EV_NONE;
	}
	if (byte == '#') {
		if (state == RX_ESCAPE && !rx->error)
			rx->error = "escape '}' just before '#'";
		if (state == RX_REPEAT && !rx->error)
			rx->error = "run length '*' just before '#'";
		rx->state = RX_SUM1;
		return NUB_GDB_EV_NONE;
	}
	/* The checksum covers the bytes as sent: escapes and counts included. */
	rx->sum = (uint8_t)(rx->sum + byte);
	rx->state = RX_DATA;
	if (state == RX_ESCAPE)
		return put(rx, byte ^ 0x20);
	if (state == RX_REPEAT)
		return repeat(rx, byte);
	if (byte == '}') {
		rx->state = RX_ESCAPE;
		return NUB_GDB_EV_NONE;
	}
	if (byte == '*') {
		rx->state = RX_REPEAT;
		return NUB_GDB_EV_NONE;
	}
	return put(rx, byte);
}

static enum nub_gdb_event bad_checksum(struct nub_gdb_rx *rx, const char *why)
{
	rx->state = RX_IDLE;
	rx->error = why;
	return NUB_GDB_EV_BAD_CHECKSUM;
}

enum nub_gdb_event nub_gdb_rx_feed(struct nub_gdb_rx *rx, uint8_t byte)
{
	int d;

	switch (rx->state) {
	case RX_IDLE:
		switch (byte) {
		case '$':
			start_packet(rx);
			return NUB_GDB_EV_NONE;
		case '+':
			return NUB_GDB_EV_ACK;
		case '-':
			return NUB_GDB_EV_NACK;
		case 0x03:
			return NUB_GDB_EV_INTERRUPT;
		default:
			return NUB_GDB_EV_NONE;
		}
	case RX_DATA:
	case RX_ESCAPE:
	case RX_REPEAT:
		return data_byte(rx, byte);
	case RX_SUM1:
		d = hexval(byte);
		if (d < 0)
			return bad_checksum(rx, "checksum digit is not hex");
		rx->sum_hi = (uint8_t)d;
		rx->state = RX_SUM2;
		return NUB_GDB_EV_NONE;
	case RX_SUM2:
		d = hexval(byte);
		if (d < 0)
			return bad_checksum(rx, "checksum digit is not hex");
		if ((uint8_t)(rx->sum_hi << 4 | d) != rx->sum)
			return bad_checksum(rx, "checksum mismatch");
		rx->state = RX_IDLE;
		return rx->error ? NUB_GDB_EV_BAD_PACKET : NUB_GDB_EV_PACKET;
	case RX_SKIP:
		if (byte == '$')
			start_packet(rx);
		else if (byte == '#')
			rx->state = RX_SKIP_SUM1;
		return NUB_GDB_EV_NONE;
	case RX_SKIP_SUM1:
		rx->state = RX_SKIP_SUM2;
		return NUB_GDB_EV_NONE;
	default: /* RX_SKIP_SUM2 */
		rx->state = RX_IDLE;
		return NUB_GDB_EV_NONE;
	}
}

/* ---- Framing and hex ---- */

static const char hexdigit[] = "0123456789abcdef";

static bool needs_escape(uint8_t b)
{
	return b == '$' || b == '#' || b == '}' || b == '*';
}

enum nub_status nub_gdb_frame(const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
			      size_t *outlen)
{
	size_t need = 4, o = 0;
	uint8_t sum = 0;

	if ((len && !payload) || !out || !outlen)
		return NUB_E_INVALID;
	if (cap < need)
		return NUB_E_LAYOUT;
	for (size_t i = 0; i < len; i++) {
		size_t step = needs_escape(payload[i]) ? 2 : 1;
		if (cap - need < step)
			return NUB_E_LAYOUT;
		need += step;
	}
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t b = payload[i];
		if (needs_escape(b)) {
			out[o++] = '}';
			sum = (uint8_t)(sum + '}');
			b ^= 0x20;
		}
		out[o++] = b;
		sum = (uint8_t)(sum + b);
	}
	out[o++] = '#';
	out[o++] = (uint8_t)hexdigit[sum >> 4];
	out[o++] = (uint8_t)hexdigit[sum & 0xf];
	*outlen = o;
	return NUB_OK;
}

enum nub_status nub_gdb_hex_u64(const uint8_t *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!out || (len && !s))
		return NUB_E_INVALID;
	if (len == 0 || len > 16)
		return NUB_E_PROTOCOL;
	for (size_t i = 0; i < len; i++) {
		int d = hexval(s[i]);
		if (d < 0)
			return NUB_E_PROTOCOL;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return NUB_OK;
}

static bool all_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval(p[i]) < 0)
			return false;
	return true;
}

enum nub_status nub_gdb_hex_decode(const uint8_t *hex, size_t len, uint8_t *out, size_t cap,
				   size_t *outlen)
{
	if (!outlen || (len && (!hex || !out)))
		return NUB_E_INVALID;
	if (len % 2)
		return NUB_E_PROTOCOL;
	/* Capacity first: a huge (len) is refused before a single digit is read. */
	if (len / 2 > cap)
		return NUB_E_LAYOUT;
	if (!all_hex(hex, len))
		return NUB_E_PROTOCOL;
	for (size_t i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	*outlen = len / 2;
	return NUB_OK;
}

enum nub_status nub_gdb_hex_encode(const uint8_t *bytes, size_t len, uint8_t *out, size_t cap,
				   size_t *outlen)
{
	if (!outlen || (len && (!bytes || !out)))
		return NUB_E_INVALID;
	if (len > cap / 2)
		return NUB_E_LAYOUT;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = (uint8_t)hexdigit[bytes[i] >> 4];
		out[2 * i + 1] = (uint8_t)hexdigit[bytes[i] & 0xf];
	}
	*outlen = 2 * len;
	return NUB_OK;
}

/* ---- Command parser ---- */

/* Index of the first (c) in (p, n), or n. */
static size_t find(const uint8_t *p, size_t n, uint8_t c)
{
	const uint8_t *q = n ? memchr(p, c, n) : NULL;

	return q ? (size_t)(q - p) : n;
}

/* True if (p, n) is exactly the string (lit). */
static bool is(const uint8_t *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && memcmp(p, lit, l) == 0;
}

static bool num(const uint8_t *p, size_t n, uint64_t *v)
{
	return nub_gdb_hex_u64(p, n, v) == NUB_OK;
}

static enum nub_gdb_cmd_kind fail(struct nub_gdb_cmd *cmd, const char *why)
{
	memset(cmd, 0, sizeof *cmd);
	cmd->kind = NUB_GDB_CMD_ERROR;
	cmd->why = why;
	return cmd->kind;
}

static enum nub_gdb_cmd_kind ok(struct nub_gdb_cmd *cmd, enum nub_gdb_cmd_kind kind)
{
	cmd->kind = kind;
	return kind;
}

/* One part of a thread-id: "-1" or 1..16 hex digits up to INT64_MAX. */
static bool thread_part(const uint8_t *p, size_t n, int64_t *v)
{
	uint64_t u;

	if (is(p, n, "-1")) {
		*v = -1;
		return true;
	}
	if (!num(p, n, &u) || u > INT64_MAX)
		return false;
	*v = (int64_t)u;
	return true;
}

/* A thread-id: "tid" or, with the multiprocess extension, "pPID" or "pPID.TID". */
static bool thread_id(const uint8_t *p, size_t n, struct nub_gdb_thread *t)
{
	memset(t, 0, sizeof *t);
	if (n && p[0] == 'p') {
		size_t dot = find(p + 1, n - 1, '.');
		t->has_pid = true;
		if (!thread_part(p + 1, dot, &t->pid))
			return false;
		if (dot == n - 1) {
			t->tid = -1;
			return true;
		}
		return thread_part(p + dot + 2, n - dot - 2, &t->tid);
	}
	return thread_part(p, n, &t->tid);
}

/* A process id as qAttached and D carry it: 1..INT64_MAX. */
static bool pid(const uint8_t *p, size_t n, int64_t *v)
{
	uint64_t u;

	if (!num(p, n, &u) || u == 0 || u > INT64_MAX)
		return false;
	*v = (int64_t)u;
	return true;
}

/* True if the comma-separated list (p, n) contains (item). */
static bool list_has(const uint8_t *p, size_t n, const char *item)
{
	while (n) {
		size_t c = find(p, n, ',');
		if (is(p, c, item))
			return true;
		if (c == n)
			break;
		p += c + 1;
		n -= c + 1;
	}
	return false;
}

/* qSupported:f1;f2;...: each is name+, name-, name? or name=value; gdb's own are recorded. */
static enum nub_gdb_cmd_kind parse_qsupported(const uint8_t *p, size_t n, bool has_args,
					      struct nub_gdb_cmd *cmd)
{
	if (!has_args)
		return ok(cmd, NUB_GDB_CMD_QSUPPORTED);
	for (;;) {
		size_t f = find(p, n, ';'), eq = find(p, f, '=');
		if (eq < f) {
			if (eq == 0)
				return fail(cmd, "qSupported: feature without a name");
			if (is(p, eq, "xmlRegisters") && list_has(p + eq + 1, f - eq - 1, "i386"))
				cmd->supported.xml_registers_i386 = true;
		} else {
			if (f < 2 || !memchr("+-?", p[f - 1], 3))
				return fail(cmd, "qSupported: feature not name+, -, ? or =value");
			if (is(p, f, "swbreak+"))
				cmd->supported.swbreak = true;
			else if (is(p, f, "hwbreak+"))
				cmd->supported.hwbreak = true;
			else if (is(p, f, "vContSupported+"))
				cmd->supported.vcont_supported = true;
		}
		if (f == n)
			return ok(cmd, NUB_GDB_CMD_QSUPPORTED);
		p += f + 1;
		n -= f + 1;
	}
}

/* qXfer:features:read:target.xml:offset,length; other objects and operations are unsupported. */
static enum nub_gdb_cmd_kind parse_qxfer(const uint8_t *p, size_t n, struct nub_gdb_cmd *cmd)
{
	size_t f = find(p, n, ':');
	if (!is(p, f, "features"))
		return ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
	if (f == n)
		return fail(cmd, "qXfer:features: no operation");
	p += f + 1;
	n -= f + 1;
	f = find(p, n, ':');
	if (!is(p, f, "read"))
		return ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
	if (f == n)
		return fail(cmd, "qXfer:features:read: no annex");
	p += f + 1;
	n -= f + 1;
	f = find(p, n, ':');
	if (f == n)
		return fail(cmd, "qXfer:features:read: no offset,length");
	if (!is(p, f, "target.xml"))
		return fail(cmd, "qXfer:features:read: annex is not target.xml");
	p += f + 1;
	n -= f + 1;
	f = find(p, n, ',');
	if (f == n)
		return fail(cmd, "qXfer:features:read: no length");
	if (!num(p, f, &cmd->xfer.offset))
		return fail(cmd, "qXfer:features:read: offset is not 1-16 hex digits");
	if (!num(p + f + 1, n - f - 1, &cmd->xfer.length))
		return fail(cmd, "qXfer:features:read: length is not 1-16 hex digits");
	if (cmd->xfer.length == 0)
		return fail(cmd, "qXfer:features:read: length 0");
	return ok(cmd, NUB_GDB_CMD_QXFER_FEATURES);
}

static enum nub_gdb_cmd_kind parse_q(const uint8_t *p, size_t n, struct nub_gdb_cmd *cmd)
{
	size_t colon = find(p, n, ':');
	bool has_args = colon < n;
	const uint8_t *args = p + colon + has_args;
	size_t nargs = n - colon - has_args;

	if (is(p, colon, "qSupported"))
		return parse_qsupported(args, nargs, has_args, cmd);
	if (is(p, colon, "qXfer"))
		return has_args ? parse_qxfer(args, nargs, cmd) : ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
	if (is(p, colon, "qAttached")) {
		if (!has_args)
			return ok(cmd, NUB_GDB_CMD_QATTACHED);
		if (!pid(args, nargs, &cmd->process.pid))
			return fail(cmd, "qAttached: pid is not 1-16 hex digits in 1..INT64_MAX");
		cmd->process.has_pid = true;
		return ok(cmd, NUB_GDB_CMD_QATTACHED);
	}
	static const struct {
		const char *name;
		enum nub_gdb_cmd_kind kind;
		const char *trailing;
	} plain[] = {
		{ "qC", NUB_GDB_CMD_QC, "qC: trailing bytes" },
		{ "qfThreadInfo", NUB_GDB_CMD_QFTHREADINFO, "qfThreadInfo: trailing bytes" },
		{ "qsThreadInfo", NUB_GDB_CMD_QSTHREADINFO, "qsThreadInfo: trailing bytes" },
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (is(p, colon, plain[i].name))
			return has_args ? fail(cmd, plain[i].trailing) : ok(cmd, plain[i].kind);
	return ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
}

/* One vCont action: c, s, Cxx or Sxx, then optionally ":thread-id". */
static const char *parse_action(const uint8_t *a, size_t n, struct nub_gdb_vcont_action *act)
{
	uint64_t sig;

	if (n == 0)
		return "vCont: empty action";
	size_t colon = find(a, n, ':');
	act->op = a[0];
	switch (a[0]) {
	case 'c':
	case 's':
		if (colon != 1)
			return "vCont: bytes after c or s";
		break;
	case 'C':
	case 'S':
		if (colon != 3 || !num(a + 1, 2, &sig))
			return "vCont: C and S take a signal of 2 hex digits";
		act->signal = (uint8_t)sig;
		break;
	default:
		return "vCont: action other than c, C, s, S";
	}
	if (colon < n) {
		act->has_thread = true;
		if (!thread_id(a + colon + 1, n - colon - 1, &act->thread))
			return "vCont: malformed thread-id";
	}
	return NULL;
}

static enum nub_gdb_cmd_kind parse_v(const uint8_t *p, size_t n, struct nub_gdb_cmd *cmd)
{
	size_t end = 0;

	while (end < n && p[end] != ';' && p[end] != '?')
		end++;
	if (!is(p, end, "vCont"))
		return ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
	if (end == n)
		return fail(cmd, "vCont: no action");
	if (p[end] == '?')
		return end + 1 == n ? ok(cmd, NUB_GDB_CMD_VCONT_QUERY)
				    : fail(cmd, "vCont?: trailing bytes");
	/* p[end] == ';': each action follows a ';'. */
	for (size_t i = end; i < n;) {
		i++;
		size_t len = find(p + i, n - i, ';');
		if (cmd->vcont.n == NUB_GDB_VCONT_MAX)
			return fail(cmd, "vCont: more than 8 actions");
		const char *why = parse_action(p + i, len, &cmd->vcont.action[cmd->vcont.n]);
		if (why)
			return fail(cmd, why);
		cmd->vcont.n++;
		i += len;
	}
	return ok(cmd, NUB_GDB_CMD_VCONT);
}

/* True unless addr + len passes 2^64 (a range ending exactly at 2^64 is fine). */
static bool fits(uint64_t addr, uint64_t len)
{
	return len == 0 || len - 1 <= UINT64_MAX - addr;
}

/* m addr,len / M addr,len:hex / X addr,len:bytes, (p, n) after the letter. */
static enum nub_gdb_cmd_kind parse_mem(uint8_t op, const uint8_t *p, size_t n,
				       struct nub_gdb_cmd *cmd)
{
	static const char *const why[][6] = {
		{ "m: expected addr,len", "m: address is not 1-16 hex digits",
		  "m: length is not 1-16 hex digits", "m: addr + len passes 2^64", "m: length 0",
		  "m: length above 0x2000 (the reply would not fit)" },
		{ "M: expected addr,len:hex", "M: address is not 1-16 hex digits",
		  "M: length is not 1-16 hex digits", "M: addr + len passes 2^64",
		  "M: data is not 2 * len hex digits", NULL },
		{ "X: expected addr,len:bytes", "X: address is not 1-16 hex digits",
		  "X: length is not 1-16 hex digits", "X: addr + len passes 2^64",
		  "X: data is not len bytes", NULL },
	};
	const char *const *w = why[op == 'm' ? 0 : op == 'M' ? 1 : 2];
	size_t comma = find(p, n, ',');

	if (comma == n)
		return fail(cmd, w[0]);
	if (!num(p, comma, &cmd->mem.addr))
		return fail(cmd, w[1]);
	p += comma + 1;
	n -= comma + 1;
	/* X data is raw binary and may hold ',' or ':', so only the first ':' counts. */
	size_t colon = op == 'm' ? n : find(p, n, ':');
	if (op != 'm' && colon == n)
		return fail(cmd, w[0]);
	if (!num(p, colon, &cmd->mem.len))
		return fail(cmd, w[2]);
	if (!fits(cmd->mem.addr, cmd->mem.len))
		return fail(cmd, w[3]);
	if (op == 'm') {
		if (cmd->mem.len == 0)
			return fail(cmd, w[4]);
		if (cmd->mem.len > NUB_GDB_MEM_READ_MAX)
			return fail(cmd, w[5]);
		return ok(cmd, NUB_GDB_CMD_READ_MEM);
	}
	cmd->mem.data = p + colon + 1;
	cmd->mem.data_len = n - colon - 1;
	if (op == 'M') {
		if (cmd->mem.data_len % 2 || cmd->mem.data_len / 2 != cmd->mem.len ||
		    !all_hex(cmd->mem.data, cmd->mem.data_len))
			return fail(cmd, w[4]);
		return ok(cmd, NUB_GDB_CMD_WRITE_MEM);
	}
	if (cmd->mem.data_len != cmd->mem.len)
		return fail(cmd, w[4]);
	return ok(cmd, NUB_GDB_CMD_WRITE_MEM_BIN);
}

/* Ztype,addr,kind and ztype,addr,kind, (p, n) after the letter. */
static enum nub_gdb_cmd_kind parse_bp(bool insert, const uint8_t *p, size_t n,
				      struct nub_gdb_cmd *cmd)
{
	uint64_t type;
	size_t c1 = find(p, n, ','), c2;

	if (c1 == n)
		return fail(cmd, "Z: expected type,addr,kind");
	c2 = c1 + 1 + find(p + c1 + 1, n - c1 - 1, ',');
	if (c2 == n)
		return fail(cmd, "Z: expected type,addr,kind");
	if (!num(p, c1, &type) || type > NUB_GDB_WP_ACCESS)
		return fail(cmd, "Z: type is not 0..4");
	if (!num(p + c1 + 1, c2 - c1 - 1, &cmd->bp.addr))
		return fail(cmd, "Z: address is not 1-16 hex digits");
	if (find(p + c2 + 1, n - c2 - 1, ';') < n - c2 - 1)
		return fail(cmd, "Z: conditions and commands are not supported");
	if (!num(p + c2 + 1, n - c2 - 1, &cmd->bp.kind))
		return fail(cmd, "Z: kind is not 1-16 hex digits");
	cmd->bp.type = (enum nub_gdb_bp_type)type;
	if (type <= NUB_GDB_BP_HW) {
		if (cmd->bp.kind != 1)
			return fail(cmd, "Z: breakpoint kind is not 1 (int3)");
	} else {
		if (cmd->bp.kind == 0 || cmd->bp.kind > NUB_GDB_WATCH_MAX)
			return fail(cmd, "Z: watchpoint length is not 1..8");
		if (!fits(cmd->bp.addr, cmd->bp.kind))
			return fail(cmd, "Z: addr + length passes 2^64");
	}
	return ok(cmd, insert ? NUB_GDB_CMD_INSERT_BP : NUB_GDB_CMD_REMOVE_BP);
}

enum nub_gdb_cmd_kind nub_gdb_parse(const uint8_t *payload, size_t len, struct nub_gdb_cmd *cmd)
{
	const uint8_t *p = payload;
	size_t n = len;

	memset(cmd, 0, sizeof *cmd);
	if (n == 0 || !p)
		return ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
	switch (p[0]) {
	case '?':
		return n == 1 ? ok(cmd, NUB_GDB_CMD_STOP_REASON) : fail(cmd, "?: trailing bytes");
	case 'g':
		return n == 1 ? ok(cmd, NUB_GDB_CMD_READ_REGS) : fail(cmd, "g: trailing bytes");
	case 'k':
		return n == 1 ? ok(cmd, NUB_GDB_CMD_KILL) : fail(cmd, "k: trailing bytes");
	case 'G':
		cmd->regs.hex = p + 1;
		cmd->regs.hex_len = n - 1;
		if (n - 1 != 2 * NUB_GDB_REGS_BYTES || !all_hex(p + 1, n - 1))
			return fail(cmd, "G: not 1104 hex digits (the whole register file)");
		return ok(cmd, NUB_GDB_CMD_WRITE_REGS);
	case 'p':
		if (!num(p + 1, n - 1, &cmd->reg.regno) || cmd->reg.regno >= NUB_GDB_NREGS)
			return fail(cmd, "p: register number is not hex below 0x3b");
		return ok(cmd, NUB_GDB_CMD_READ_REG);
	case 'P': {
		size_t eq = find(p, n, '=');
		if (eq == n)
			return fail(cmd, "P: expected n=value");
		if (!num(p + 1, eq - 1, &cmd->reg.regno) || cmd->reg.regno >= NUB_GDB_NREGS)
			return fail(cmd, "P: register number is not hex below 0x3b");
		cmd->reg.hex = p + eq + 1;
		cmd->reg.hex_len = n - eq - 1;
		if (cmd->reg.hex_len != 2 * nub_gdb_reg_size(cmd->reg.regno) ||
		    !all_hex(cmd->reg.hex, cmd->reg.hex_len))
			return fail(cmd, "P: value is not 2 * the register's size hex digits");
		return ok(cmd, NUB_GDB_CMD_WRITE_REG);
	}
	case 'm':
	case 'M':
	case 'X':
		return parse_mem(p[0], p + 1, n - 1, cmd);
	case 'c':
	case 's':
		if (n > 1) {
			if (!num(p + 1, n - 1, &cmd->resume.addr))
				return fail(cmd, p[0] == 'c' ? "c: address is not 1-16 hex digits"
							     : "s: address is not 1-16 hex digits");
			cmd->resume.has_addr = true;
		}
		return ok(cmd, p[0] == 'c' ? NUB_GDB_CMD_CONTINUE : NUB_GDB_CMD_STEP);
	case 'Z':
	case 'z':
		return parse_bp(p[0] == 'Z', p + 1, n - 1, cmd);
	case 'D':
		if (n == 1)
			return ok(cmd, NUB_GDB_CMD_DETACH);
		if (p[1] != ';' || !pid(p + 2, n - 2, &cmd->process.pid))
			return fail(cmd, "D: expected D or D;pid (hex, 1..INT64_MAX)");
		cmd->process.has_pid = true;
		return ok(cmd, NUB_GDB_CMD_DETACH);
	case 'H':
		if (n < 2 || (p[1] != 'g' && p[1] != 'c'))
			return fail(cmd, "H: operation is not g or c");
		cmd->thread.op = p[1];
		if (!thread_id(p + 2, n - 2, &cmd->thread.thread))
			return fail(cmd, "H: malformed thread-id");
		return ok(cmd, NUB_GDB_CMD_SET_THREAD);
	case 'T':
		if (!thread_id(p + 1, n - 1, &cmd->thread.thread))
			return fail(cmd, "T: malformed thread-id");
		return ok(cmd, NUB_GDB_CMD_THREAD_ALIVE);
	case 'q':
		return parse_q(p, n, cmd);
	case 'v':
		return parse_v(p, n, cmd);
	default:
		return ok(cmd, NUB_GDB_CMD_UNSUPPORTED);
	}
}

/* ---- Target description ---- */

#define FLAG(name, bit) "<field name=\"" name "\" start=\"" #bit "\" end=\"" #bit "\"/>\n"
#define REG(name, bits, type, num)                                                                 \
	"<reg name=\"" name "\" bitsize=\"" #bits "\" type=\"" type "\" regnum=\"" #num "\"/>\n"
#define REGG(name, bits, type, num, group)                                                         \
	"<reg name=\"" name "\" bitsize=\"" #bits "\" type=\"" type "\" regnum=\"" #num            \
	"\" group=\"" group "\"/>\n"

/*
 * Register numbers are explicit so they cannot drift from enum nub_gdb_regno. Type names:
 * i387_ext, int64, code_ptr and friends are gdb's predefined types; the flags, vectors and the
 * vec128 union are defined here (gdb's amd64 code finds x87 values by the i387_ext type).
 * eflags and mxcsr fields are the architectural bits (SDM vol. 1 §3.4.3, §10.2.3).
 */
static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"i386_eflags\" size=\"4\">\n" FLAG("CF", 0) FLAG("", 1) FLAG("PF", 2) FLAG("AF",
											       4)
		FLAG("ZF", 6) FLAG("SF", 7) FLAG("TF", 8) FLAG("IF", 9) FLAG("DF",
									     10) FLAG("OF",
										      11) FLAG("NT",
											       14)
			FLAG("RF", 16) FLAG("VM", 17) FLAG("AC", 18) FLAG("VIF", 19) FLAG(
				"VIP",
				20) FLAG("ID",
					 21) "</flags>\n" REG("rax", 64, "int64",
							      0) REG("rbx", 64, "int64", 1)
				REG("rcx", 64, "int64", 2) REG("rdx", 64, "int64", 3) REG(
					"rsi",
					64,
					"int64",
					4) REG("rdi", 64, "int64",
					       5) REG("rbp", 64, "data_ptr",
						      6) REG("rsp", 64, "data_ptr",
							     7) REG("r8", 64, "int64", 8)
					REG("r9", 64, "int64",
					    9) REG("r10", 64, "int64",
						   10) REG("r11", 64, "int64",
							   11) REG("r12", 64, "int64",
								   12) REG("r13", 64, "int64",
									   13) REG("r14",
										   64, "int64",
										   14) REG("r15",
											   64, "int64",
											   15) REG("rip",
												   64, "code_ptr",
												   16)
						REG("eflags", 32, "i386_eflags", 17) REG(
							"cs", 32,
							"int32", 18) REG("ss", 32,
									 "int32", 19) REG("ds", 32, "int32", 20)
							REG("es", 32, "int32", 21) REG("fs", 32, "int32", 22) REG(
								"gs", 32,
								"int32", 23) REG("st0", 80,
										 "i387_ext",
										 24) REG("st1", 80,
											 "i387_ext",
											 25) REG("st2",
												 80,
												 "i387_ext",
												 26) REG("st3",
													 80,
													 "i387_ext",
													 27)
								REG("st4", 80, "i387_ext", 28) REG(
									"st5", 80, "i387_ext",
									29) REG("st6", 80, "i387_ext", 30)
									REG("st7", 80, "i387_ext", 31) REGG(
										"fctrl",
										32, "int", 32,
										"float") REGG("fstat",
											      32,
											      "int",
											      33,
											      "float")
										REGG("ftag", 32,
										     "int", 34,
										     "float") REGG("fiseg",
												   32,
												   "int",
												   35,
												   "float")
											REGG("fioff",
											     32, "int", 36, "float") REGG("foseg", 32, "int", 37, "float") REGG("fooff", 32, "int", 38, "float") REGG("fop", 32, "int", 39, "float") "</feature>\n"
																												     "<feature name=\"org.gnu.gdb.i386.sse\">\n"
																												     "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
																												     "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
																												     "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
																												     "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
																												     "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
																												     "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
																												     "<union id=\"vec128\">\n"
																												     "<field name=\"v4_float\" type=\"v4f\"/>\n"
																												     "<field name=\"v2_double\" type=\"v2d\"/>\n"
																												     "<field name=\"v16_int8\" type=\"v16i8\"/>\n"
																												     "<field name=\"v8_int16\" type=\"v8i16\"/>\n"
																												     "<field name=\"v4_int32\" type=\"v4i32\"/>\n"
																												     "<field name=\"v2_int64\" type=\"v2i64\"/>\n"
																												     "<field name=\"uint128\" type=\"uint128\"/>\n"
																												     "</union>\n"
																												     "<flags id=\"i386_mxcsr\" size=\"4\">\n" FLAG("IE", 0) FLAG("DE", 1) FLAG("ZE",
																																					       2) FLAG("OE",
																																						       3) FLAG("UE",
																																							       4) FLAG("PE",
																																								       5) FLAG("DAZ",
																																									       6) FLAG("IM",
																																										       7) FLAG("DM",
																																											       8) FLAG("ZM", 9) FLAG("OM", 10) FLAG("UM", 11) FLAG("PM", 12) FLAG("FZ",
																																																				  15) "</flags>\n" REG("xmm0",
																																																						       128,
																																																						       "vec128",
																																																						       40) REG("xmm1",
																																																							       128,
																																																							       "vec128",
																																																							       41) REG("xmm2",
																																																								       128,
																																																								       "vec128", 42) REG("xmm3",
																																																											 128, "vec128", 43) REG("xmm4", 128, "vec128", 44) REG("xmm5",
																																																																	       128, "vec128", 45) REG("xmm6",
																																																																				      128, "vec128", 46) REG("xmm7", 128, "vec128", 47) REG("xmm8",
																																																																											    128, "vec128", 48) REG("xmm9",
																																																																														   128, "vec128",
																																																																														   49) REG("xmm10", 128, "vec128", 50) REG("xmm11", 128, "vec128", 51) REG("xmm12",
																																																																																							   128,
																																																																																							   "vec128", 52) REG("xmm13",
																																																																																									     128,
																																																																																									     "vec128", 53) REG("xmm14",
																																																																																											       128, "vec128", 54) REG("xmm15",
																																																																																														      128,
																																																																																														      "vec128",
																																																																																														      55) REGG("mxcsr",
																																																																																															       32,
																																																																																															       "i386_mxcsr", 56, "vector") "</feature>\n"
																																																																																																			   "<feature name=\"org.gnu.gdb.i386.segments\">\n" REG(
																																																																																																				   "fs_base",
																																																																																																				   64,
																																																																																																				   "int",
																																																																																																				   57)
																																																																																																				   REG("gs_base",
																																																																																																				       64,
																																																																																																				       "int",
																																																																																																				       58) "</feature>\n"
																																																																																																					   "</target>\n";

const char *nub_gdb_target_xml(size_t *len)
{
	if (len)
		*len = sizeof target_xml - 1;
	return target_xml;
}

enum nub_status nub_gdb_qxfer_reply(const uint8_t *doc, size_t doc_len, uint64_t offset,
				    uint64_t length, uint8_t *out, size_t cap, size_t *outlen)
{
	if (!outlen || (doc_len && !doc) || (cap && !out))
		return NUB_E_INVALID;
	if (length == 0 || offset > doc_len)
		return NUB_E_INVALID;
	if (cap == 0)
		return NUB_E_LAYOUT;
	size_t n = doc_len - (size_t)offset;
	if (length < n)
		n = (size_t)length;
	if (cap - 1 < n)
		n = cap - 1;
	/* 'l' only if the chunk ends the document: gdb stops asking on 'l', not on a short 'm'. */
	out[0] = (size_t)offset + n == doc_len ? 'l' : 'm';
	if (n)
		memcpy(out + 1, doc + offset, n);
	*outlen = n + 1;
	return NUB_OK;
}

/* ---- Registers ---- */

#define ST_BYTES 10u /* an x87 register in gdb's view: 64-bit significand, sign and exponent */

static const char *const reg_names[NUB_GDB_NREGS] = {
	"rax",   "rbx",   "rcx",   "rdx",   "rsi",   "rdi",   "rbp",   "rsp",     "r8",      "r9",
	"r10",   "r11",   "r12",   "r13",   "r14",   "r15",   "rip",   "eflags",  "cs",      "ss",
	"ds",    "es",    "fs",    "gs",    "st0",   "st1",   "st2",   "st3",     "st4",     "st5",
	"st6",   "st7",   "fctrl", "fstat", "ftag",  "fiseg", "fioff", "foseg",   "fooff",   "fop",
	"xmm0",  "xmm1",  "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",    "xmm8",    "xmm9",
	"xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "mxcsr", "fs_base", "gs_base",
};

/* gdb numbers rbp before rsp; nub_vcpu_state keeps KVM's order (rsp, then rbp). */
static const uint8_t gpr_slot[16] = { 0, 1, 2, 3, 4, 5, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool canonical(uint64_t a)
{
	/* 48-bit linear addresses (4-level paging): bits 63..47 all equal. */
	return a <= UINT64_C(0x00007fffffffffff) || a >= UINT64_C(0xffff800000000000);
}

const char *nub_gdb_reg_name(uint64_t regno)
{
	return regno < NUB_GDB_NREGS ? reg_names[regno] : NULL;
}

size_t nub_gdb_reg_size(uint64_t regno)
{
	if (regno >= NUB_GDB_NREGS)
		return 0;
	if (regno <= NUB_GDB_REG_RIP || regno >= NUB_GDB_REG_FS_BASE)
		return 8;
	if (regno >= NUB_GDB_REG_ST0 && regno < NUB_GDB_REG_FCTRL)
		return ST_BYTES;
	if (regno >= NUB_GDB_REG_XMM0 && regno < NUB_GDB_REG_MXCSR)
		return 16;
	return 4;
}

/* The segment of register (regno), NUB_GDB_REG_CS..GS: cs ss ds es fs gs in gdb's order. */
static const struct nub_segment *segment(const struct nub_vcpu_state *v, unsigned regno)
{
	const struct nub_segment *seg[6] = { &v->cs, &v->ss, &v->ds, &v->es, &v->fs, &v->gs };

	return seg[regno - NUB_GDB_REG_CS];
}

/* The 2-bit tag of an x87 register that holds something (SDM vol. 1 table 10-2). */
static unsigned classify(const uint8_t *st)
{
	uint64_t significand = nub_le64(st);
	unsigned exponent = le16(st + 8) & 0x7fffu;

	if (exponent == 0x7fffu)
		return 2; /* infinity or NaN: special */
	if (exponent == 0)
		return significand == 0 ? 1 : 2; /* zero, or a (pseudo-)denormal: special */
	return significand >> 63 ? 0 : 2;        /* valid, or unnormal (J bit clear): special */
}

uint16_t nub_gdb_ftag_full(const struct nub_vcpu_state *vcpu)
{
	const uint8_t *fpu = vcpu->fpu;
	unsigned top = (le16(fpu + NUB_FPU_FSW) >> 11) & 7u;
	uint8_t ftwx = fpu[NUB_FPU_FTWX];
	unsigned tag = 0;

	for (unsigned phys = 0; phys < 8; phys++) {
		unsigned t = 3; /* empty */
		if (ftwx & (1u << phys))
			t = classify(fpu + NUB_FPU_FPR + 16u * ((phys - top) & 7u));
		tag |= t << (2 * phys);
	}
	return (uint16_t)tag;
}

uint8_t nub_gdb_ftag_abridged(uint16_t full)
{
	unsigned ftwx = 0;

	for (unsigned i = 0; i < 8; i++)
		if (((full >> (2 * i)) & 3u) != 3u)
			ftwx |= 1u << i;
	return (uint8_t)ftwx;
}

/* Register (regno < NUB_GDB_NREGS) of (v) in gdb's little-endian layout; returns its size. */
static size_t reg_read(const struct nub_vcpu_state *v, unsigned regno,
		       uint8_t out[NUB_GDB_REG_MAX_BYTES])
{
	const uint8_t *fpu = v->fpu;
	uint64_t fip = nub_le64(fpu + NUB_FPU_LAST_IP), fdp = nub_le64(fpu + NUB_FPU_LAST_DP);
	uint32_t r32;

	if (regno < 16) {
		nub_put_le64(out, v->gpr[gpr_slot[regno]]);
		return 8;
	}
	if (regno >= NUB_GDB_REG_ST0 && regno < NUB_GDB_REG_FCTRL) {
		memcpy(out, fpu + NUB_FPU_FPR + 16u * (regno - NUB_GDB_REG_ST0), ST_BYTES);
		return ST_BYTES;
	}
	if (regno >= NUB_GDB_REG_XMM0 && regno < NUB_GDB_REG_MXCSR) {
		memcpy(out, fpu + NUB_FPU_XMM + 16u * (regno - NUB_GDB_REG_XMM0), 16);
		return 16;
	}
	if (regno >= NUB_GDB_REG_CS && regno < NUB_GDB_REG_ST0) {
		nub_put_le32(out, segment(v, regno)->selector);
		return 4;
	}
	switch (regno) {
	case NUB_GDB_REG_RIP:
		nub_put_le64(out, v->rip);
		return 8;
	case NUB_GDB_REG_FS_BASE:
		nub_put_le64(out, v->fs.base);
		return 8;
	case NUB_GDB_REG_GS_BASE:
		nub_put_le64(out, v->gs.base);
		return 8;
	case NUB_GDB_REG_EFLAGS:
		r32 = (uint32_t)v->rflags;
		break;
	case NUB_GDB_REG_FCTRL:
		r32 = le16(fpu + NUB_FPU_FCW);
		break;
	case NUB_GDB_REG_FSTAT:
		r32 = le16(fpu + NUB_FPU_FSW);
		break;
	case NUB_GDB_REG_FTAG:
		r32 = nub_gdb_ftag_full(v);
		break;
	/*
	 * 64-bit FXSAVE keeps a 64-bit FPU instruction and data pointer and no selectors; gdb's
	 * own amd64 code shows the high halves as fiseg/foseg, so the pointers survive a 'G'.
	 */
	case NUB_GDB_REG_FISEG:
		r32 = (uint32_t)(fip >> 32);
		break;
	case NUB_GDB_REG_FIOFF:
		r32 = (uint32_t)fip;
		break;
	case NUB_GDB_REG_FOSEG:
		r32 = (uint32_t)(fdp >> 32);
		break;
	case NUB_GDB_REG_FOOFF:
		r32 = (uint32_t)fdp;
		break;
	case NUB_GDB_REG_FOP:
		r32 = le16(fpu + NUB_FPU_LAST_OPCODE) & 0x7ffu;
		break;
	default: /* NUB_GDB_REG_MXCSR */
		r32 = nub_le32(fpu + NUB_FPU_MXCSR);
		break;
	}
	nub_put_le32(out, r32);
	return 4;
}

static enum nub_status refuse(struct nub_error *err, unsigned regno, const char *what)
{
	return nub_error_set(err, NUB_E_INVALID, "gdb register %s: %s", reg_names[regno], what);
}

/*
 * Sets register (regno < NUB_GDB_NREGS) of (v) from (val): nub_gdb_reg_size(regno) bytes in
 * gdb's layout, zero-padded to NUB_GDB_REG_MAX_BYTES. Checks the value first; (v) is untouched
 * when it is refused.
 */
static enum nub_status reg_write(struct nub_vcpu_state *v, unsigned regno,
				 const uint8_t val[NUB_GDB_REG_MAX_BYTES], struct nub_error *err)
{
	uint8_t *fpu = v->fpu;
	uint64_t r64 = nub_le64(val); /* only for the 8-byte registers */
	uint32_t r32 = nub_le32(val);

	if (regno < 16) {
		v->gpr[gpr_slot[regno]] = r64;
		return NUB_OK;
	}
	if (regno >= NUB_GDB_REG_ST0 && regno < NUB_GDB_REG_FCTRL) {
		memcpy(fpu + NUB_FPU_FPR + 16u * (regno - NUB_GDB_REG_ST0), val, ST_BYTES);
		return NUB_OK;
	}
	if (regno >= NUB_GDB_REG_XMM0 && regno < NUB_GDB_REG_MXCSR) {
		memcpy(fpu + NUB_FPU_XMM + 16u * (regno - NUB_GDB_REG_XMM0), val, 16);
		return NUB_OK;
	}
	if (regno >= NUB_GDB_REG_CS && regno < NUB_GDB_REG_ST0) {
		/* A selector alone, without its descriptor, is no state a CPU can be in. */
		if (r32 != segment(v, regno)->selector)
			return refuse(err, regno, "segment selectors are read-only");
		return NUB_OK;
	}
	switch (regno) {
	case NUB_GDB_REG_RIP:
	case NUB_GDB_REG_FS_BASE:
	case NUB_GDB_REG_GS_BASE:
		/* A non-canonical value would make VM entry fail rather than fault in the guest. */
		if (!canonical(r64))
			return refuse(err, regno, "address is not canonical");
		*(regno == NUB_GDB_REG_RIP       ? &v->rip
		  : regno == NUB_GDB_REG_FS_BASE ? &v->fs.base
						 : &v->gs.base) = r64;
		return NUB_OK;
	case NUB_GDB_REG_EFLAGS:
		if (!(r32 & X86_RFLAGS_FIXED1) || (r32 & X86_RFLAGS_RESERVED0) ||
		    (r32 & X86_RFLAGS_VM))
			return refuse(err, regno,
				      "bit 1 clear, a reserved bit set or VM set (long mode)");
		v->rflags = r32;
		return NUB_OK;
	case NUB_GDB_REG_FCTRL:
	case NUB_GDB_REG_FSTAT:
	case NUB_GDB_REG_FTAG:
		if (r32 > 0xffffu)
			return refuse(err, regno, "value above 0xffff");
		if (regno == NUB_GDB_REG_FTAG)
			fpu[NUB_FPU_FTWX] = nub_gdb_ftag_abridged((uint16_t)r32);
		else
			put_le16(fpu + (regno == NUB_GDB_REG_FCTRL ? NUB_FPU_FCW : NUB_FPU_FSW),
				 (uint16_t)r32);
		return NUB_OK;
	case NUB_GDB_REG_FISEG:
	case NUB_GDB_REG_FIOFF:
	case NUB_GDB_REG_FOSEG:
	case NUB_GDB_REG_FOOFF: {
		uint8_t *ptr = fpu +
			       (regno <= NUB_GDB_REG_FIOFF ? NUB_FPU_LAST_IP : NUB_FPU_LAST_DP);
		bool high = regno == NUB_GDB_REG_FISEG || regno == NUB_GDB_REG_FOSEG;
		nub_put_le32(ptr + (high ? 4 : 0), r32);
		return NUB_OK;
	}
	case NUB_GDB_REG_FOP:
		if (r32 > 0x7ffu)
			return refuse(err, regno, "opcode above 0x7ff (11 bits)");
		put_le16(fpu + NUB_FPU_LAST_OPCODE, (uint16_t)r32);
		return NUB_OK;
	default: /* NUB_GDB_REG_MXCSR */
		/* FXRSTOR faults on a reserved MXCSR bit (SDM vol. 1 §10.2.3). */
		if (r32 > 0xffffu)
			return refuse(err, regno, "reserved bits 16..31 set");
		nub_put_le32(fpu + NUB_FPU_MXCSR, r32);
		return NUB_OK;
	}
}

enum nub_status nub_gdb_regs_encode(const struct nub_vcpu_state *vcpu, uint8_t *hex, size_t cap,
				    size_t *len)
{
	uint8_t val[NUB_GDB_REG_MAX_BYTES];
	size_t o = 0, n;

	if (!vcpu || !hex || !len)
		return NUB_E_INVALID;
	if (cap < 2 * NUB_GDB_REGS_BYTES)
		return NUB_E_LAYOUT;
	for (unsigned r = 0; r < NUB_GDB_NREGS; r++) {
		size_t size = reg_read(vcpu, r, val);
		/* Cannot fail: (cap) holds the whole file, checked above. */
		(void)nub_gdb_hex_encode(val, size, hex + o, cap - o, &n);
		o += n;
	}
	*len = o;
	return NUB_OK;
}

enum nub_status nub_gdb_regs_decode(struct nub_vcpu_state *vcpu, const uint8_t *hex, size_t len,
				    struct nub_error *err)
{
	uint8_t bytes[NUB_GDB_REGS_BYTES];
	struct nub_vcpu_state next;
	size_t n, o = 0;

	if (!vcpu || (len && !hex))
		return nub_error_set(err, NUB_E_INVALID, "gdb registers: NULL argument");
	if (len != 2 * NUB_GDB_REGS_BYTES)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "gdb registers: %zu hex digits, expected %u", len,
				     2 * NUB_GDB_REGS_BYTES);
	if (nub_gdb_hex_decode(hex, len, bytes, sizeof bytes, &n) != NUB_OK)
		return nub_error_set(err, NUB_E_PROTOCOL, "gdb registers: a digit is not hex");
	next = *vcpu;
	for (unsigned r = 0; r < NUB_GDB_NREGS; r++) {
		uint8_t val[NUB_GDB_REG_MAX_BYTES] = { 0 };
		size_t size = nub_gdb_reg_size(r);
		memcpy(val, bytes + o, size);
		enum nub_status st = reg_write(&next, r, val, err);
		if (st != NUB_OK)
			return st;
		o += size;
	}
	*vcpu = next;
	return NUB_OK;
}

enum nub_status nub_gdb_reg_get(const struct nub_vcpu_state *vcpu, uint64_t regno, uint8_t *hex,
				size_t cap, size_t *len)
{
	uint8_t val[NUB_GDB_REG_MAX_BYTES];

	if (!vcpu || !hex || !len)
		return NUB_E_INVALID;
	if (regno >= NUB_GDB_NREGS)
		return NUB_E_INVALID;
	if (cap < 2 * nub_gdb_reg_size(regno))
		return NUB_E_LAYOUT;
	size_t size = reg_read(vcpu, (unsigned)regno, val);
	return nub_gdb_hex_encode(val, size, hex, cap, len);
}

enum nub_status nub_gdb_reg_set(struct nub_vcpu_state *vcpu, uint64_t regno, const uint8_t *hex,
				size_t len, struct nub_error *err)
{
	uint8_t val[NUB_GDB_REG_MAX_BYTES] = { 0 };
	size_t n;

	if (!vcpu || (len && !hex))
		return nub_error_set(err, NUB_E_INVALID, "gdb register: NULL argument");
	if (regno >= NUB_GDB_NREGS)
		return nub_error_set(err, NUB_E_INVALID, "gdb register %" PRIu64 " out of range",
				     regno);
	size_t size = nub_gdb_reg_size(regno);
	if (len != 2 * size)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "gdb register %s: %zu hex digits, expected %zu",
				     reg_names[regno], len, 2 * size);
	if (nub_gdb_hex_decode(hex, len, val, sizeof val, &n) != NUB_OK)
		return nub_error_set(err, NUB_E_PROTOCOL, "gdb register %s: a digit is not hex",
				     reg_names[regno]);
	return reg_write(vcpu, (unsigned)regno, val, err);
}

/* ---- Stop replies ---- */

enum nub_status nub_gdb_stop_reply(const struct nub_gdb_stop *stop, uint8_t *out, size_t cap,
				   size_t *len)
{
	static const char *const watch[] = { "watch", "rwatch", "awatch" };
	char buf[40];
	int n;

	if (!stop || !len || (cap && !out))
		return NUB_E_INVALID;
	switch (stop->kind) {
	case NUB_GDB_STOP_SIGNAL:
		n = snprintf(buf, sizeof buf, "S%02x", stop->signal);
		break;
	case NUB_GDB_STOP_SWBREAK:
	case NUB_GDB_STOP_HWBREAK:
		n = snprintf(buf, sizeof buf, "T%02x%s:;", stop->signal,
			     stop->kind == NUB_GDB_STOP_SWBREAK ? "swbreak" : "hwbreak");
		break;
	case NUB_GDB_STOP_WATCH:
	case NUB_GDB_STOP_RWATCH:
	case NUB_GDB_STOP_AWATCH:
		n = snprintf(buf, sizeof buf, "T%02x%s:%" PRIx64 ";", stop->signal,
			     watch[stop->kind - NUB_GDB_STOP_WATCH], stop->addr);
		break;
	default:
		return NUB_E_INVALID;
	}
	if (n < 0 || (size_t)n > cap)
		return NUB_E_LAYOUT;
	memcpy(out, buf, (size_t)n);
	*len = (size_t)n;
	return NUB_OK;
}
