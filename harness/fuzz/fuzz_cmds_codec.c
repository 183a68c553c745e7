/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side encoder and decoder of the `fuzz` guest's command stream; rules in fuzz_cmds_codec.h. */
#include "fuzz_cmds_codec.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "le_bytes.h"

/* ---- Decoder ---- */

/* Rule 1's table: fixed-argument bytes, and where the u16 data length sits in them (-1: none). */
struct op_info {
	const char *name;
	int8_t fixed;
	int8_t len_at;
};

static const struct op_info ops[FUZZ_OP_COUNT] = {
	[FUZZ_OP_OUT] = { "OUT", 6, -1 },
	[FUZZ_OP_OUT8] = { "OUT8", 3, -1 },
	[FUZZ_OP_WRITE_OUTPUT] = { "WRITE_OUTPUT", 4, 2 },
	[FUZZ_OP_WRITE_INPUT] = { "WRITE_INPUT", 4, 2 },
	[FUZZ_OP_SET_OUTPUT_SP] = { "SET_OUTPUT_SP", 8, -1 },
	[FUZZ_OP_PUSH_OUTPUT] = { "PUSH_OUTPUT", 2, 0 },
	[FUZZ_OP_HOST_CALL] = { "HOST_CALL", 6, 4 },
	[FUZZ_OP_LOG] = { "LOG", 3, 1 },
	[FUZZ_OP_DEBUG_PRINT] = { "DEBUG_PRINT", 2, 0 },
	[FUZZ_OP_ABORT] = { "ABORT", 3, 1 },
	[FUZZ_OP_EXCEPTION] = { "EXCEPTION", 1, -1 },
	[FUZZ_OP_SPIN] = { "SPIN", 4, -1 },
	[FUZZ_OP_HALT] = { "HALT", 0, -1 },
	[FUZZ_OP_HLT] = { "HLT", 0, -1 },
	[FUZZ_OP_RESPOND] = { "RESPOND", 2, 0 },
};

/* The 16-bit twin of bytes.h's nub_le32. */
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool is_op(uint8_t op)
{
	return op >= FUZZ_OP_OUT && op < FUZZ_OP_COUNT;
}

int fuzz_cmd_fixed_size(uint8_t op)
{
	return is_op(op) ? ops[op].fixed : -1;
}

const char *fuzz_op_name(uint8_t op)
{
	return is_op(op) ? ops[op].name : "?";
}

enum fuzz_cmd_result fuzz_cmd_next(const uint8_t *data, size_t len, size_t pos,
				   struct fuzz_cmd *cmd)
{
	const struct op_info *info;
	const uint8_t *a;
	size_t left;

	memset(cmd, 0, sizeof *cmd);
	cmd->offset = pos;
	if (pos >= len)
		return FUZZ_CMD_END;
	cmd->op = data[pos];
	if (!is_op(cmd->op))
		return FUZZ_CMD_UNKNOWN;
	info = &ops[cmd->op];
	left = len - pos - 1;
	if (left < (size_t)info->fixed)
		return FUZZ_CMD_TRUNCATED;
	a = data + pos + 1;
	if (info->len_at >= 0) {
		cmd->declared_len = rd16(a + info->len_at);
		cmd->data_len = cmd->declared_len;
		if (cmd->data_len > left - (size_t)info->fixed)
			cmd->data_len = left - (size_t)info->fixed;
		cmd->data = a + info->fixed;
	}
	cmd->size = 1 + (size_t)info->fixed + cmd->data_len;

	switch (cmd->op) {
	case FUZZ_OP_OUT:
		cmd->port = rd16(a);
		cmd->value = nub_le32(a + 2);
		break;
	case FUZZ_OP_OUT8:
		cmd->port = rd16(a);
		cmd->value = a[2];
		break;
	case FUZZ_OP_WRITE_OUTPUT:
	case FUZZ_OP_WRITE_INPUT:
		cmd->off = rd16(a);
		break;
	case FUZZ_OP_SET_OUTPUT_SP:
		cmd->value64 = nub_le64(a);
		break;
	case FUZZ_OP_HOST_CALL:
		cmd->fn_id = nub_le32(a);
		break;
	case FUZZ_OP_LOG:
		cmd->level = a[0];
		break;
	case FUZZ_OP_ABORT:
		cmd->code = a[0];
		break;
	case FUZZ_OP_EXCEPTION:
		cmd->kind = a[0];
		break;
	case FUZZ_OP_SPIN:
		cmd->value = nub_le32(a);
		break;
	default:
		break;
	}
	return FUZZ_CMD_OK;
}

#define SHOW_MAX 64u

static void print_hex(FILE *out, const uint8_t *p, size_t n)
{
	size_t shown = n < SHOW_MAX ? n : SHOW_MAX;

	for (size_t i = 0; i < shown; i++)
		fprintf(out, "%02x", p[i]);
	if (n > shown)
		fprintf(out, "...(+%zu)", n - shown);
}

static void print_text(FILE *out, const uint8_t *p, size_t n)
{
	size_t shown = n < SHOW_MAX ? n : SHOW_MAX;

	fputc('"', out);
	for (size_t i = 0; i < shown; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
	fputc('"', out);
	if (n > shown)
		fprintf(out, "...(+%zu)", n - shown);
}

/* "len=L" or "len=L->D" when the stream ends inside the data. */
static void print_len(FILE *out, const struct fuzz_cmd *c)
{
	if (c->data_len == c->declared_len)
		fprintf(out, "len=%u", (unsigned)c->declared_len);
	else
		fprintf(out, "len=%u->%zu (stream ends)", (unsigned)c->declared_len, c->data_len);
}

static const char *const exception_names[FUZZ_EXC_COUNT] = {
	[FUZZ_EXC_DIVIDE] = "divide (#DE)",
	[FUZZ_EXC_UD2] = "ud2 (#UD)",
	[FUZZ_EXC_GP] = "non-canonical load (#GP)",
	[FUZZ_EXC_NULL] = "load from 8 (#PF)",
	[FUZZ_EXC_WRITE_CODE] = "write to code (#PF)",
	[FUZZ_EXC_EXEC_DATA] = "execute data (#PF)",
	[FUZZ_EXC_STACK_OVERFLOW] = "stack overflow (#PF)",
};

/* The ports of nub/abi.h's enum nub_abi_port (not included: this file needs no engine header). */
static const char *port_name(uint16_t port)
{
	switch (port) {
	case 99:
		return " (log)";
	case 101:
		return " (host call)";
	case 102:
		return " (abort)";
	case 103:
		return " (debug print)";
	case 108:
		return " (halt)";
	default:
		return "";
	}
}

/* Prints one command; returns false if the guest never comes back from it. */
static bool describe_cmd(const struct fuzz_cmd *c, FILE *out)
{
	fputs(fuzz_op_name(c->op), out);
	switch (c->op) {
	case FUZZ_OP_OUT:
		fprintf(out, " port=0x%x value=0x%08" PRIx32 "%s\n", (unsigned)c->port, c->value,
			port_name(c->port));
		return true;
	case FUZZ_OP_OUT8:
		fprintf(out, " port=0x%x value=0x%02" PRIx32 "%s\n", (unsigned)c->port, c->value,
			port_name(c->port));
		return true;
	case FUZZ_OP_WRITE_OUTPUT:
	case FUZZ_OP_WRITE_INPUT:
		fprintf(out, " off=%u ", (unsigned)c->off);
		print_len(out, c);
		fputs(" bytes=", out);
		print_hex(out, c->data, c->data_len);
		fputc('\n', out);
		return true;
	case FUZZ_OP_SET_OUTPUT_SP:
		fprintf(out, " value=0x%" PRIx64 "\n", c->value64);
		return true;
	case FUZZ_OP_PUSH_OUTPUT:
	case FUZZ_OP_RESPOND:
		fputc(' ', out);
		print_len(out, c);
		fputs(" bytes=", out);
		print_hex(out, c->data, c->data_len);
		fputc('\n', out);
		return true;
	case FUZZ_OP_HOST_CALL:
		fprintf(out, " fn_id=%" PRIu32 " ", c->fn_id);
		print_len(out, c);
		fputs(" bytes=", out);
		print_hex(out, c->data, c->data_len);
		fputc('\n', out);
		return true;
	case FUZZ_OP_LOG:
		fprintf(out, " level=%u line=%zu ", (unsigned)c->level, c->offset);
		print_len(out, c);
		fputs(" text=", out);
		print_text(out, c->data, c->data_len);
		fputc('\n', out);
		return true;
	case FUZZ_OP_DEBUG_PRINT:
		fputc(' ', out);
		print_len(out, c);
		if (c->data_len > FUZZ_DEBUG_PRINT_MAX)
			fprintf(out, " (prints %u)", FUZZ_DEBUG_PRINT_MAX);
		fputs(" text=", out);
		print_text(out, c->data,
			   c->data_len < FUZZ_DEBUG_PRINT_MAX ? c->data_len : FUZZ_DEBUG_PRINT_MAX);
		fputc('\n', out);
		return true;
	case FUZZ_OP_ABORT:
		fprintf(out, " code=%u ", (unsigned)c->code);
		print_len(out, c);
		fputs(" text=", out);
		print_text(out, c->data, c->data_len);
		fputc('\n', out);
		return false;
	case FUZZ_OP_EXCEPTION:
		fprintf(out, " kind=%u -> %s\n", (unsigned)c->kind,
			exception_names[c->kind % FUZZ_EXC_COUNT]);
		return false;
	case FUZZ_OP_SPIN:
		if (c->value == FUZZ_SPIN_FOREVER) {
			fputs(" n=forever\n", out);
			return false;
		}
		if (c->value > FUZZ_SPIN_MAX)
			fprintf(out, " n=%" PRIu32 "->%u\n", c->value, FUZZ_SPIN_MAX);
		else
			fprintf(out, " n=%" PRIu32 "\n", c->value);
		return true;
	default: /* HALT, HLT */
		fputc('\n', out);
		return true;
	}
}

void fuzz_prog_describe(const uint8_t *data, size_t len, FILE *out)
{
	const uint8_t *resp = NULL;
	size_t pos = 0, resp_len = 0, count = 0;
	struct fuzz_cmd c;

	for (;;) {
		enum fuzz_cmd_result r = fuzz_cmd_next(data, len, pos, &c);

		if (r == FUZZ_CMD_END) {
			fprintf(out, "end: %zu commands, %zu bytes\n", count, len);
			break;
		}
		if (r == FUZZ_CMD_UNKNOWN) {
			fprintf(out, "stop: unknown op 0x%02x at offset %zu\n", (unsigned)c.op,
				pos);
			break;
		}
		if (r == FUZZ_CMD_TRUNCATED) {
			fprintf(out,
				"stop: truncated %s at offset %zu (%d argument bytes needed, %zu left)\n",
				fuzz_op_name(c.op), pos, fuzz_cmd_fixed_size(c.op), len - pos - 1);
			break;
		}
		count++;
		pos += c.size;
		if (!describe_cmd(&c, out)) {
			if (pos < len)
				fprintf(out, "stop: %s does not return (%zu bytes not run)\n",
					fuzz_op_name(c.op), len - pos);
			return;
		}
		if (c.op == FUZZ_OP_RESPOND) {
			resp = c.data;
			resp_len = c.data_len;
		}
	}
	if (!resp) {
		fputs("response: empty\n", out);
		return;
	}
	fprintf(out, "response: len=%zu bytes=", resp_len);
	print_hex(out, resp, resp_len);
	fputc('\n', out);
}

/* ---- Encoder ---- */

void fuzz_prog_init(struct fuzz_prog *p)
{
	p->buf = NULL;
	p->len = 0;
	p->cap = 0;
}

void fuzz_prog_free(struct fuzz_prog *p)
{
	free(p->buf);
	fuzz_prog_init(p);
}

/* Makes room for (n) more bytes. */
static bool reserve(struct fuzz_prog *p, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (n <= p->cap - p->len)
		return true;
	if (n > SIZE_MAX / 2 - p->len)
		return false;
	cap = p->cap ? p->cap : 64;
	while (cap - p->len < n)
		cap *= 2;
	b = realloc(p->buf, cap);
	if (!b)
		return false;
	p->buf = b;
	p->cap = cap;
	return true;
}

static void put(struct fuzz_prog *p, const void *bytes, size_t n)
{
	if (n)
		memcpy(p->buf + p->len, bytes, n);
	p->len += n;
}

/* Appends one command: [op][(nargs) bytes of fixed arguments, already little-endian]. */
static bool command(struct fuzz_prog *p, uint8_t op, const uint8_t *args, size_t nargs)
{
	if (!reserve(p, 1 + nargs))
		return false;
	put(p, &op, 1);
	put(p, args, nargs);
	return true;
}

/* Appends one command with data: [op][fixed arguments][u16 len][len bytes]. */
static bool command_data(struct fuzz_prog *p, uint8_t op, const uint8_t *args, size_t nargs,
			 const void *bytes, size_t len)
{
	const uint8_t declared[2] = { LE16(len) };

	if (len > UINT16_MAX || !reserve(p, 1 + nargs + sizeof declared + len))
		return false;
	put(p, &op, 1);
	put(p, args, nargs);
	put(p, declared, sizeof declared);
	put(p, bytes, len);
	return true;
}

bool fuzz_prog_raw(struct fuzz_prog *p, const void *bytes, size_t len)
{
	if (!reserve(p, len))
		return false;
	put(p, bytes, len);
	return true;
}

bool fuzz_prog_out(struct fuzz_prog *p, uint16_t port, uint32_t value)
{
	const uint8_t args[] = { LE16(port), LE32(value) };

	return command(p, FUZZ_OP_OUT, args, sizeof args);
}

bool fuzz_prog_out8(struct fuzz_prog *p, uint16_t port, uint8_t value)
{
	const uint8_t args[] = { LE16(port), value };

	return command(p, FUZZ_OP_OUT8, args, sizeof args);
}

bool fuzz_prog_write_output(struct fuzz_prog *p, uint16_t off, const void *bytes, size_t len)
{
	const uint8_t args[] = { LE16(off) };

	return command_data(p, FUZZ_OP_WRITE_OUTPUT, args, sizeof args, bytes, len);
}

bool fuzz_prog_write_input(struct fuzz_prog *p, uint16_t off, const void *bytes, size_t len)
{
	const uint8_t args[] = { LE16(off) };

	return command_data(p, FUZZ_OP_WRITE_INPUT, args, sizeof args, bytes, len);
}

bool fuzz_prog_set_output_sp(struct fuzz_prog *p, uint64_t value)
{
	const uint8_t args[] = { LE64(value) };

	return command(p, FUZZ_OP_SET_OUTPUT_SP, args, sizeof args);
}

bool fuzz_prog_push_output(struct fuzz_prog *p, const void *bytes, size_t len)
{
	return command_data(p, FUZZ_OP_PUSH_OUTPUT, NULL, 0, bytes, len);
}

bool fuzz_prog_host_call(struct fuzz_prog *p, uint32_t fn_id, const void *bytes, size_t len)
{
	const uint8_t args[] = { LE32(fn_id) };

	return command_data(p, FUZZ_OP_HOST_CALL, args, sizeof args, bytes, len);
}

bool fuzz_prog_log(struct fuzz_prog *p, uint8_t level, const void *bytes, size_t len)
{
	return command_data(p, FUZZ_OP_LOG, &level, 1, bytes, len);
}

bool fuzz_prog_debug_print(struct fuzz_prog *p, const void *bytes, size_t len)
{
	return command_data(p, FUZZ_OP_DEBUG_PRINT, NULL, 0, bytes, len);
}

bool fuzz_prog_abort(struct fuzz_prog *p, uint8_t code, const void *bytes, size_t len)
{
	return command_data(p, FUZZ_OP_ABORT, &code, 1, bytes, len);
}

bool fuzz_prog_exception(struct fuzz_prog *p, uint8_t kind)
{
	return command(p, FUZZ_OP_EXCEPTION, &kind, 1);
}

bool fuzz_prog_spin(struct fuzz_prog *p, uint32_t n)
{
	const uint8_t args[] = { LE32(n) };

	return command(p, FUZZ_OP_SPIN, args, sizeof args);
}

bool fuzz_prog_halt(struct fuzz_prog *p)
{
	return command(p, FUZZ_OP_HALT, NULL, 0);
}

bool fuzz_prog_hlt(struct fuzz_prog *p)
{
	return command(p, FUZZ_OP_HLT, NULL, 0);
}

bool fuzz_prog_respond(struct fuzz_prog *p, const void *bytes, size_t len)
{
	return command_data(p, FUZZ_OP_RESPOND, NULL, 0, bytes, len);
}
