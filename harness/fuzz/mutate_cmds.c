/* SPDX-License-Identifier: Apache-2.0 */
/* The structure-aware mutator's half for the `fuzz` guest's command streams; see mutator.h. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "fuzz_cmds_codec.h"
#include "mutator.h"

/* The largest command: the op byte, 8 bytes of fixed arguments, UINT16_MAX data bytes. */
#define CMD_MAX_HEAD 9u

/* The ports the engine gives a meaning (DESIGN §3); any other is a protocol error. */
static const uint16_t ports[] = { 99, 101, 102, 103, 108 };

enum role { R_PORT, R_VALUE, R_FN, R_LEVEL, R_KIND, R_SPIN, R_LEN };

struct field {
	uint8_t at;    /* offset in the command, the op byte being 0 */
	uint8_t width; /* bytes */
	uint8_t role;
};

/* The fixed arguments of (op) (fuzz_cmds_codec.h's table), at most 2; returns their number. */
static unsigned int fields(uint8_t op, struct field f[2])
{
	switch (op) {
	case FUZZ_OP_OUT:
		f[0] = (struct field){ 1, 2, R_PORT };
		f[1] = (struct field){ 3, 4, R_VALUE };
		return 2;
	case FUZZ_OP_OUT8:
		f[0] = (struct field){ 1, 2, R_PORT };
		f[1] = (struct field){ 3, 1, R_VALUE };
		return 2;
	case FUZZ_OP_WRITE_OUTPUT:
	case FUZZ_OP_WRITE_INPUT:
		f[0] = (struct field){ 1, 2, R_VALUE };
		f[1] = (struct field){ 3, 2, R_LEN };
		return 2;
	case FUZZ_OP_SET_OUTPUT_SP:
		f[0] = (struct field){ 1, 8, R_VALUE };
		return 1;
	case FUZZ_OP_HOST_CALL:
		f[0] = (struct field){ 1, 4, R_FN };
		f[1] = (struct field){ 5, 2, R_LEN };
		return 2;
	case FUZZ_OP_LOG:
		f[0] = (struct field){ 1, 1, R_LEVEL };
		f[1] = (struct field){ 2, 2, R_LEN };
		return 2;
	case FUZZ_OP_ABORT:
		f[0] = (struct field){ 1, 1, R_VALUE };
		f[1] = (struct field){ 2, 2, R_LEN };
		return 2;
	case FUZZ_OP_EXCEPTION:
		f[0] = (struct field){ 1, 1, R_KIND };
		return 1;
	case FUZZ_OP_SPIN:
		f[0] = (struct field){ 1, 4, R_SPIN };
		return 1;
	case FUZZ_OP_PUSH_OUTPUT:
	case FUZZ_OP_DEBUG_PRINT:
	case FUZZ_OP_RESPOND:
		f[0] = (struct field){ 1, 2, R_LEN };
		return 1;
	default: /* HALT, HLT */
		return 0;
	}
}

/* A new value for a field of (role) other than a length. */
static uint64_t field_value(struct nub_mut *m, uint8_t role, uint64_t cur, unsigned int width)
{
	bool known = nub_mut_chance(m, 1, 2);

	switch (role) {
	case R_PORT:
		if (known)
			return ports[nub_mut_below(m, sizeof ports / sizeof ports[0])];
		break;
	case R_FN: /* the fixture's host functions are small ids */
		if (known)
			return nub_mut_below(m, 6);
		break;
	case R_LEVEL:
		if (known)
			return nub_mut_below(m, 7);
		break;
	case R_KIND:
		if (known)
			return nub_mut_below(m, FUZZ_EXC_COUNT);
		break;
	case R_SPIN:
		if (known)
			return nub_mut_chance(m, 1, 2) ? FUZZ_SPIN_MAX + nub_mut_below(m, 2) - 1
						       : nub_mut_below(m, 64);
		break;
	default:
		break;
	}
	return nub_mut_value(m, cur, width);
}

/* The complete commands of a stream: their offsets, and where the complete part ends. */
struct cmds {
	size_t n;
	size_t *at; /* n + 1 offsets: at[n] is the end of the complete part */
};

static bool parse(const uint8_t *data, size_t size, struct cmds *c)
{
	struct fuzz_cmd cmd;
	size_t pos = 0;

	c->n = 0;
	c->at = malloc((size + 1) * sizeof *c->at); /* a command takes at least a byte */
	if (!c->at)
		return false;
	while (fuzz_cmd_next(data, size, pos, &cmd) == FUZZ_CMD_OK &&
	       cmd.data_len == cmd.declared_len) {
		c->at[c->n++] = pos;
		pos += cmd.size;
	}
	c->at[c->n] = pos;
	return true;
}

bool nub_mut_cmds_valid(const uint8_t *data, size_t size)
{
	struct cmds c;

	if (!parse(data, size, &c))
		return false;
	bool ok = c.at[c.n] == size;
	free(c.at);
	return ok;
}

/* The data offset of the command at (p) (its length field, if any, is in (*len_field)). */
static size_t data_start(const uint8_t *p, struct field *len_field)
{
	struct field f[2];
	unsigned int n = fields(p[0], f);

	if (n && f[n - 1].role == R_LEN) {
		*len_field = f[n - 1];
		return 1u + (size_t)fuzz_cmd_fixed_size(p[0]);
	}
	return 0;
}

/*
 * Resizes the data of the command at (pos) to (want) bytes, or as many as fit (max_size), and
 * updates its length field. The command must have data.
 */
static void resize_data(struct nub_mut *m, uint8_t *data, size_t *size, size_t max_size, size_t pos,
			uint64_t want)
{
	struct field lf;
	size_t start = pos + data_start(data + pos, &lf);
	size_t have = nub_le_n(data + pos + lf.at, 2);
	size_t room = max_size - (*size - have);

	if (want > UINT16_MAX)
		want = UINT16_MAX;
	if (want > room)
		want = room; /* ends exactly at max_size: a boundary too */
	if (want < have)
		nub_mut_splice(m, data, size, max_size, start + want, have - want, NULL, 0);
	else
		nub_mut_splice(m, data, size, max_size, start + have, 0, NULL, want - have);
	nub_put_le_n(data + pos + lf.at, 2, want);
}

/* A new random command of at most (room >= 1) bytes in (out); returns its size. */
static size_t new_cmd(struct nub_mut *m, uint8_t *out, size_t room)
{
	struct field f[2];
	uint8_t op = (uint8_t)(FUZZ_OP_OUT + nub_mut_below(m, FUZZ_OP_COUNT - FUZZ_OP_OUT));
	size_t head = 1u + (size_t)fuzz_cmd_fixed_size(op);

	if (head > room)
		op = FUZZ_OP_HALT, head = 1;
	out[0] = op;
	unsigned int n = fields(op, f);
	size_t len = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (f[i].role != R_LEN) {
			nub_put_le_n(out + f[i].at, f[i].width,
				     field_value(m, f[i].role, 0, f[i].width));
			continue;
		}
		/* Mostly short: long data makes slow inputs; K_LEN moves lengths to boundaries. */
		switch (nub_mut_below(m, 5)) {
		case 0:
		case 1:
		case 2:
			len = nub_mut_below(m, 65);
			break;
		case 3:
			len = nub_mut_value(m, 0, 2);
			break;
		default:
			len = 0;
			break;
		}
		if (len > room - head)
			len = room - head;
		nub_put_le_n(out + f[i].at, 2, len);
		nub_mut_fill(m, out + head, len);
	}
	return head + len;
}

/* Inserts a new command at (pos). */
static void insert_cmd(struct nub_mut *m, uint8_t *data, size_t *size, size_t max_size, size_t pos)
{
	size_t room = max_size - *size;

	if (room == 0)
		return;
	if (room > CMD_MAX_HEAD + UINT16_MAX)
		room = CMD_MAX_HEAD + UINT16_MAX;
	uint8_t *tmp = malloc(room);
	if (!tmp)
		return;
	size_t len = new_cmd(m, tmp, room);
	nub_mut_splice(m, data, size, max_size, pos, 0, tmp, len);
	free(tmp);
}

/* Byte-level mutation of the data of the command at (pos), its length field following. */
static void mutate_data(struct nub_mut *m, uint8_t *data, size_t *size, size_t max_size, size_t pos)
{
	struct field lf;
	size_t start = pos + data_start(data + pos, &lf);
	size_t have = nub_le_n(data + pos + lf.at, 2);
	size_t cap = max_size - (*size - have);

	if (cap > UINT16_MAX)
		cap = UINT16_MAX;
	if (cap == 0)
		return;
	uint8_t *tmp = malloc(cap);
	if (!tmp)
		return;
	memcpy(tmp, data + start, have);
	size_t len = nub_mut_bytes(m, tmp, have, cap);
	if (nub_mut_splice(m, data, size, max_size, start, have, tmp, len))
		nub_put_le_n(data + pos + lf.at, 2, len);
	free(tmp);
}

/* The deliberately broken fraction: byte-level, a lying length, or a stop appended. */
static size_t break_stream(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size,
			   const struct cmds *c)
{
	struct field lf;

	m->invalid = true;
	switch (nub_mut_below(m, 4)) {
	case 0: /* the last command's declared length past the end of the stream */
		if (c->n && data_start(data + c->at[c->n - 1], &lf)) {
			uint8_t *p = data + c->at[c->n - 1] + lf.at;
			nub_put_le_n(p, 2, nub_le_n(p, 2) + 1 + nub_mut_below(m, 4096));
			return c->at[c->n];
		}
		break;
	case 1: /* an unknown op or a truncated command */
		if (size < max_size) {
			data[size] = nub_mut_chance(m, 1, 2)
					     ? (uint8_t)(FUZZ_OP_COUNT + nub_mut_below(m, 0xf0))
					     : FUZZ_OP_OUT;
			return size + 1;
		}
		break;
	default:
		break;
	}
	return nub_mut_bytes(m, data, size, max_size);
}

/* Byte-level mutation of the fixed arguments of the command at (pos), their size kept. */
static void mutate_args(struct nub_mut *m, uint8_t *data, size_t pos)
{
	uint8_t args[CMD_MAX_HEAD - 1];
	size_t n = (size_t)fuzz_cmd_fixed_size(data[pos]);

	memcpy(args, data + pos + 1, n);
	size_t got = nub_mut_bytes(m, args, n, n);
	memset(args + got, 0, n - got);
	/* The length field stays: the data it counts is where it was. */
	struct field lf;
	if (data_start(data + pos, &lf))
		memcpy(args + lf.at - 1, data + pos + lf.at, 2);
	memcpy(data + pos + 1, args, n);
}

/* Byte-level mutation of the whole stream, cut back to its complete commands. */
static size_t mutate_cut(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size)
{
	struct cmds c;

	size = nub_mut_bytes(m, data, size, max_size);
	if (!parse(data, size, &c))
		return 0;
	size = c.at[c.n];
	free(c.at);
	return size;
}

/*
 * The structured mutations, out of 90 (the other NUB_MUT_INVALID_PER_100 break the stream). The
 * byte-level ones come first: libFuzzer's own mutations carry its dictionary and the values its
 * comparison tracing saw, which matter for ports and values.
 */
enum {
	K_CUT = 25,            /* the whole stream byte-wise, cut back to complete commands */
	K_ARGS = K_CUT + 10,   /* one command's fixed arguments byte-wise */
	K_FIELD = K_ARGS + 12, /* one fixed argument set to a boundary or known value */
	K_LEN = K_FIELD + 10,  /* one command's data length at a boundary, the data following */
	K_DATA = K_LEN + 10,   /* one command's data byte-wise */
	K_INSERT = K_DATA + 10,
	K_DELETE = K_INSERT + 4,
	K_DUP = K_DELETE + 4,
	K_MOVE = 90,
};

size_t nub_mut_cmds(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size)
{
	struct cmds c;
	struct field lf;

	if (!parse(data, size, &c))
		return nub_mut_bytes(m, data, size, max_size);
	if (nub_mut_below(m, 100) < NUB_MUT_INVALID_PER_100) {
		size = break_stream(m, data, size, max_size, &c);
		free(c.at);
		return size;
	}
	/* A structured mutation re-encodes the complete commands only. */
	size = c.at[c.n];
	size_t i = c.n ? nub_mut_below(m, c.n) : 0;
	size_t pos = c.n ? c.at[i] : 0;
	size_t len = c.n ? c.at[i + 1] - pos : 0;
	unsigned int kind = c.n ? (unsigned int)nub_mut_below(m, K_MOVE) : K_DATA;
	bool insert = false;

	if (kind < K_CUT) {
		size = mutate_cut(m, data, size, max_size);
	} else if (kind < K_FIELD) {
		struct field f[2];
		unsigned int n = fields(data[pos], f);
		if (n && f[0].role != R_LEN && kind < K_ARGS) {
			mutate_args(m, data, pos);
		} else if (n && f[0].role != R_LEN) {
			struct field *x = &f[nub_mut_below(m, n - (f[n - 1].role == R_LEN))];
			uint8_t *p = data + pos + x->at;
			nub_put_le_n(p, x->width,
				     field_value(m, x->role, nub_le_n(p, x->width), x->width));
		} else {
			insert = true; /* no such field */
		}
	} else if (kind < K_DATA) {
		if (!data_start(data + pos, &lf))
			insert = true;
		else if (kind < K_LEN)
			resize_data(m, data, &size, max_size, pos,
				    nub_mut_value(m, nub_le_n(data + pos + lf.at, 2), 2));
		else
			mutate_data(m, data, &size, max_size, pos);
	} else if (kind < K_INSERT) {
		insert = true;
	} else if (kind < K_DELETE) { /* keeping at least one command */
		if (c.n > 1)
			nub_mut_splice(m, data, &size, max_size, pos, len, NULL, 0);
	} else if (kind < K_DUP) { /* to right after itself or anywhere */
		size_t to = nub_mut_chance(m, 1, 2) ? pos + len : c.at[nub_mut_below(m, c.n + 1)];
		nub_mut_splice(m, data, &size, max_size, to, 0, data + pos, len);
	} else { /* to another command boundary */
		size_t to = c.at[nub_mut_below(m, c.n + 1)];
		uint8_t *tmp = malloc(len);
		if (tmp) {
			memcpy(tmp, data + pos, len);
			nub_mut_splice(m, data, &size, max_size, pos, len, NULL, 0);
			nub_mut_splice(m, data, &size, max_size, to > pos ? to - len : to, 0, tmp,
				       len);
			free(tmp);
		}
	}
	if (size == 0) /* the cut left nothing, or the only command had nothing to mutate */
		insert_cmd(m, data, &size, max_size, 0);
	else if (insert)
		insert_cmd(m, data, &size, max_size, c.at[nub_mut_below(m, c.n + 1)]);
	free(c.at);
	return size;
}

size_t nub_mut_cmds_cross(struct nub_mut *m, const uint8_t *a, size_t a_len, const uint8_t *b,
			  size_t b_len, uint8_t *out, size_t max_size)
{
	struct cmds ca, cb;
	size_t n = 0;

	if (!parse(a, a_len, &ca))
		return 0;
	if (!parse(b, b_len, &cb)) {
		free(ca.at);
		return 0;
	}
	/* a's commands before a boundary, then b's from a boundary on, whole commands only. */
	size_t head = ca.at[nub_mut_below(m, ca.n + 1)];
	if (head > max_size)
		head = 0;
	memcpy(out, a, head);
	n = head;
	for (size_t j = nub_mut_below(m, cb.n + 1); j < cb.n; j++) {
		size_t len = cb.at[j + 1] - cb.at[j];
		if (len > max_size - n)
			break;
		memcpy(out + n, b + cb.at[j], len);
		n += len;
	}
	free(ca.at);
	free(cb.at);
	if (n == 0) /* nothing whole to take: a single new command */
		n = new_cmd(m, out, max_size);
	return n;
}
