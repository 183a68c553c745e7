/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the gdb stub's pure layer (gdb_packet.c): framing, commands, registers. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gdb_packet.h"
#include "testlib.h"

static struct nub_gdb_rx rx;
static uint8_t out[NUB_GDB_FRAME_MAX];

/* ---- helpers ---- */

/* Feeds (n) bytes; every event but the last must be NONE; returns the last. */
static enum nub_gdb_event feed(const void *bytes, size_t n)
{
	const uint8_t *b = bytes;
	enum nub_gdb_event ev = NUB_GDB_EV_NONE;

	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_int_equal(ev, NUB_GDB_EV_NONE);
		ev = nub_gdb_rx_feed(&rx, b[i]);
	}
	return ev;
}

static enum nub_gdb_event feed_str(const char *s)
{
	return feed(s, strlen(s));
}

/* Wraps the raw (already escaped) bytes (raw, n) as "$raw#cc" with the right checksum. */
static size_t wrap(const void *raw, size_t n, uint8_t *dst)
{
	const uint8_t *r = raw;
	uint8_t sum = 0;

	dst[0] = '$';
	for (size_t i = 0; i < n; i++) {
		dst[1 + i] = r[i];
		sum = (uint8_t)(sum + r[i]);
	}
	snprintf((char *)dst + 1 + n, 4, "#%02x", sum);
	return n + 4;
}

static uint8_t wrapped[NUB_GDB_FRAME_MAX];

/* Feeds "$raw#cc" built from the C string (raw). */
static enum nub_gdb_event feed_raw(const char *raw)
{
	return feed(wrapped, wrap(raw, strlen(raw), wrapped));
}

static void assert_packet(const char *raw, const void *payload, size_t len)
{
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_raw(raw), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, len);
	assert_memory_equal(rx.payload, payload, len);
}

/* Feeds "$raw#cc" to a fresh receiver; it must complete a packet; returns its length. */
static size_t packet_len(const char *raw)
{
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_raw(raw), NUB_GDB_EV_PACKET);
	return rx.len;
}

static void assert_bad_packet(const char *raw, const char *why)
{
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_raw(raw), NUB_GDB_EV_BAD_PACKET);
	assert_string_equal(rx.error, why);
	/* The receiver is between packets again. */
	assert_int_equal(feed_str("$g#67"), NUB_GDB_EV_PACKET);
}

static enum nub_gdb_cmd_kind parse_n(const void *s, size_t n, struct nub_gdb_cmd *cmd)
{
	return nub_gdb_parse(s, n, cmd);
}

static enum nub_gdb_cmd_kind parse(const char *s, struct nub_gdb_cmd *cmd)
{
	return parse_n(s, strlen(s), cmd);
}

static void expect_kind(const char *s, enum nub_gdb_cmd_kind kind)
{
	struct nub_gdb_cmd cmd;

	assert_int_equal(parse(s, &cmd), kind);
	assert_int_equal(cmd.kind, kind);
	assert_null(cmd.why);
}

static void expect_error(const char *s, const char *why)
{
	struct nub_gdb_cmd cmd;

	assert_int_equal(parse(s, &cmd), NUB_GDB_CMD_ERROR);
	assert_non_null(cmd.why);
	assert_string_equal(cmd.why, why);
}

static const uint8_t *u8(const char *s)
{
	return (const uint8_t *)s;
}

/* ---- receiver ---- */

static void test_rx_packet(void **state)
{
	(void)state;
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_str("$g#67"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 1);
	assert_int_equal(rx.payload[0], 'g');
	/* Upper-case checksum digits are accepted. */
	assert_int_equal(feed_str("$qC#B4"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 2);
	assert_memory_equal(rx.payload, "qC", 2);
	/* The empty packet. */
	assert_int_equal(feed_str("$#00"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 0);
	/* Back to back, with acks between them as gdb sends them. */
	assert_int_equal(feed_str("+"), NUB_GDB_EV_ACK);
	assert_int_equal(feed_str("$?#3f"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.payload[0], '?');
	/* '+', '-' and 0x03 inside a payload are payload. */
	assert_packet("+-", "+-", 2);
}

static void test_rx_between_packets(void **state)
{
	(void)state;
	nub_gdb_rx_init(&rx);
	assert_int_equal(nub_gdb_rx_feed(&rx, '+'), NUB_GDB_EV_ACK);
	assert_int_equal(nub_gdb_rx_feed(&rx, '-'), NUB_GDB_EV_NACK);
	assert_int_equal(nub_gdb_rx_feed(&rx, 0x03), NUB_GDB_EV_INTERRUPT);
	/* Garbage outside a packet is ignored: stray framing bytes included. */
	for (unsigned b = 0; b < 256; b++) {
		if (b == '+' || b == '-' || b == 0x03 || b == '$')
			continue;
		assert_int_equal(nub_gdb_rx_feed(&rx, (uint8_t)b), NUB_GDB_EV_NONE);
	}
	assert_int_equal(feed_str("#67}*"), NUB_GDB_EV_NONE);
	assert_int_equal(feed_str("$g#67"), NUB_GDB_EV_PACKET);
}

static void test_rx_interrupt(void **state)
{
	static const uint8_t with_03[] = { 'X', '1', ',', '1', ':', 0x03 };

	(void)state;
	nub_gdb_rx_init(&rx);
	/* Between packets: an event, before and after a packet. */
	assert_int_equal(nub_gdb_rx_feed(&rx, 0x03), NUB_GDB_EV_INTERRUPT);
	assert_int_equal(feed_str("$c#63"), NUB_GDB_EV_PACKET);
	assert_int_equal(nub_gdb_rx_feed(&rx, 0x03), NUB_GDB_EV_INTERRUPT);
	/* Inside a payload it is data (X packets carry raw binary). */
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed(wrapped, wrap(with_03, sizeof with_03, wrapped)), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, sizeof with_03);
	assert_memory_equal(rx.payload, with_03, sizeof with_03);
	/* In the checksum it is a non-hex digit. */
	assert_int_equal(feed_str("$c#"), NUB_GDB_EV_NONE);
	assert_int_equal(nub_gdb_rx_feed(&rx, 0x03), NUB_GDB_EV_BAD_CHECKSUM);
	assert_string_equal(rx.error, "checksum digit is not hex");
	assert_int_equal(feed_str("$c#6"), NUB_GDB_EV_NONE);
	assert_int_equal(nub_gdb_rx_feed(&rx, 0x03), NUB_GDB_EV_BAD_CHECKSUM);
	/* After an escape it is the escaped byte 0x23 ('#'). */
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed("$}\x03#80", 6), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 1);
	assert_int_equal(rx.payload[0], '#');
}

static void test_rx_escapes(void **state)
{
	(void)state;
	/* '#', '$', '}', '*' escaped as gdb escapes them, and any other byte. */
	assert_packet("}\x03}\x04}]}\x0a", "#$}*", 4);
	assert_packet("a}ab", "aAb", 3);
	assert_packet("}\xdf", "\xff", 1);
	assert_packet("}\x20", "\x00", 1);
	/* An escape just before '#' is a framing error, reported once the checksum holds. */
	assert_bad_packet("ab}", "escape '}' just before '#'");
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_str("$ab}#00"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_string_equal(rx.error, "checksum mismatch");
}

static void test_rx_rle(void **state)
{
	uint8_t expect[200];

	(void)state;
	/* "0* " is four zeros: the first plus ' ' - 29 = 3 more. */
	assert_packet("0* ", "0000", 4);
	assert_packet("0*!", "00000", 5);
	assert_packet("0*\"0", "0000000", 7);
	/* The limits of the count: ' ' (3 more) .. '~' (97 more). */
	memset(expect, 'x', sizeof expect);
	assert_packet("x*~", expect, 98);
	assert_int_equal(packet_len("ax*~b"), 100);
	assert_int_equal(rx.payload[0], 'a');
	assert_memory_equal(rx.payload + 1, expect, 98);
	assert_int_equal(rx.payload[99], 'b');
	/* A count byte may itself be '*', '+', '-' or '}' (13, 14, 16, 96 more). */
	assert_int_equal(packet_len("y**"), 14);
	assert_int_equal(packet_len("y*+"), 15);
	assert_int_equal(packet_len("y*-"), 17);
	assert_int_equal(packet_len("y*}"), 97);
	assert_int_equal(rx.payload[96], 'y');
	/* Runs repeat the decoded byte: an escaped one, or the tail of an earlier run. */
	assert_packet("}]* ", "}}}}", 4);
	assert_packet("0* * ", "0000000", 7);
	/* The checksum covers '*' and the count byte as sent. */
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_str("$0* #7a"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 4);
}

static void test_rx_rle_invalid(void **state)
{
	char raw[8];

	(void)state;
	assert_bad_packet("* ", "run length with nothing to repeat");
	assert_bad_packet("*", "run length '*' just before '#'");
	assert_bad_packet("0*", "run length '*' just before '#'");
	/* Count bytes outside ' '..'~'. */
	for (unsigned c = 0; c < 256; c++) {
		if ((c >= ' ' && c <= '~') || c == 0)
			continue;
		snprintf(raw, sizeof raw, "0*%c", (char)c);
		assert_bad_packet(raw, "run-length count outside ' '..'~'");
	}
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed(wrapped, wrap("0*\0", 3, wrapped)), NUB_GDB_EV_BAD_PACKET);
	/* Only the first error is kept; later bytes are not decoded. */
	assert_bad_packet("*  }", "run length with nothing to repeat");
	/* A '$' in the count's place starts a new packet. */
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_str("$0*$g#67"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 1);
}

/* A packet of (n) decoded bytes made of runs of 98 'z' plus single bytes; returns raw length. */
static size_t rle_packet(size_t n, char *raw)
{
	size_t r = 0;

	while (n >= 98) {
		memcpy(raw + r, "z*~", 3);
		r += 3;
		n -= 98;
	}
	memset(raw + r, 'z', n);
	r += n;
	raw[r] = 0;
	return r;
}

static void test_rx_rle_overflow(void **state)
{
	static char raw[NUB_GDB_PACKET_MAX];

	(void)state;
	/* Exactly NUB_GDB_PACKET_MAX bytes through runs: fine. */
	rle_packet(NUB_GDB_PACKET_MAX, raw);
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_raw(raw), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, NUB_GDB_PACKET_MAX);
	assert_int_equal(rx.payload[NUB_GDB_PACKET_MAX - 1], 'z');
	/* A run that would end one byte past it: OVERFLOW at the count byte. */
	size_t r = rle_packet(NUB_GDB_PACKET_MAX - 96, raw);
	memcpy(raw + r, "*~", 3);
	nub_gdb_rx_init(&rx);
	size_t n = wrap(raw, r + 2, wrapped);
	assert_int_equal(feed(wrapped, 1 + r + 2), NUB_GDB_EV_OVERFLOW);
	assert_string_equal(rx.error, "run length expands past PacketSize");
	/* The rest of that packet, its checksum included, is skipped silently. */
	for (size_t i = 1 + r + 2; i < n; i++)
		assert_int_equal(nub_gdb_rx_feed(&rx, wrapped[i]), NUB_GDB_EV_NONE);
	assert_int_equal(feed_str("$g#67"), NUB_GDB_EV_PACKET);
	/* One byte shorter, the same run ends exactly at the limit. */
	r = rle_packet(NUB_GDB_PACKET_MAX - 97, raw);
	memcpy(raw + r, "*~", 3);
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_raw(raw), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, NUB_GDB_PACKET_MAX);
}

static void test_rx_overflow(void **state)
{
	static char raw[NUB_GDB_PACKET_MAX + 2];

	(void)state;
	memset(raw, 'a', NUB_GDB_PACKET_MAX);
	raw[NUB_GDB_PACKET_MAX] = 0;
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_raw(raw), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, NUB_GDB_PACKET_MAX);
	/* One more byte: OVERFLOW at that byte, not at the end. */
	raw[NUB_GDB_PACKET_MAX] = 'a';
	raw[NUB_GDB_PACKET_MAX + 1] = 0;
	size_t n = wrap(raw, NUB_GDB_PACKET_MAX + 1, wrapped);
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed(wrapped, 1 + NUB_GDB_PACKET_MAX + 1), NUB_GDB_EV_OVERFLOW);
	assert_string_equal(rx.error, "payload longer than PacketSize");
	for (size_t i = 2 + NUB_GDB_PACKET_MAX; i < n; i++)
		assert_int_equal(nub_gdb_rx_feed(&rx, wrapped[i]), NUB_GDB_EV_NONE);
	assert_int_equal(nub_gdb_rx_feed(&rx, '+'), NUB_GDB_EV_ACK);
	/* An escaped byte can overflow too; the skip ends at '#' plus two bytes, or at '$'. */
	memset(raw, 'a', NUB_GDB_PACKET_MAX);
	nub_gdb_rx_init(&rx);
	assert_int_equal(nub_gdb_rx_feed(&rx, '$'), NUB_GDB_EV_NONE);
	assert_int_equal(feed(raw, NUB_GDB_PACKET_MAX), NUB_GDB_EV_NONE);
	assert_int_equal(feed_str("}]"), NUB_GDB_EV_OVERFLOW);
	assert_int_equal(feed_str("}]**+-\x03#zz"), NUB_GDB_EV_NONE);
	assert_int_equal(nub_gdb_rx_feed(&rx, 0x03), NUB_GDB_EV_INTERRUPT);
	nub_gdb_rx_init(&rx);
	assert_int_equal(nub_gdb_rx_feed(&rx, '$'), NUB_GDB_EV_NONE);
	assert_int_equal(feed(raw, NUB_GDB_PACKET_MAX), NUB_GDB_EV_NONE);
	assert_int_equal(nub_gdb_rx_feed(&rx, 'a'), NUB_GDB_EV_OVERFLOW);
	assert_int_equal(feed_str("aaa$g#67"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 1);
}

static void test_rx_checksum(void **state)
{
	(void)state;
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_str("$g#66"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_string_equal(rx.error, "checksum mismatch");
	assert_int_equal(feed_str("$g#76"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_int_equal(feed_str("$g#x"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_string_equal(rx.error, "checksum digit is not hex");
	assert_int_equal(feed_str("$g#6x"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_string_equal(rx.error, "checksum digit is not hex");
	/* A '$' where a digit is due is a bad digit; the receiver is then between packets. */
	assert_int_equal(feed_str("$g#$"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_int_equal(nub_gdb_rx_feed(&rx, '-'), NUB_GDB_EV_NACK);
	/* The sum is modulo 256: 0xff bytes. */
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed("$\xff\xff#fe", 6), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 2);
	/* Recovery: the next good packet is whole. */
	assert_int_equal(feed_str("$g#00"), NUB_GDB_EV_BAD_CHECKSUM);
	assert_int_equal(feed_str("$g#67"), NUB_GDB_EV_PACKET);
}

static void test_rx_restart(void **state)
{
	(void)state;
	/* '$' inside a payload, after '}' or after '*' abandons the packet and starts anew. */
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed_str("$abc$g#67"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 1);
	assert_int_equal(feed_str("$ab}$g#67"), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 1);
	assert_int_equal(feed_str("$* $g#67"), NUB_GDB_EV_PACKET); /* the error is forgotten too */
	assert_int_equal(rx.len, 1);
	assert_null(rx.error);
	/* init forgets a partial packet. */
	assert_int_equal(feed_str("$abc"), NUB_GDB_EV_NONE);
	nub_gdb_rx_init(&rx);
	assert_int_equal(nub_gdb_rx_feed(&rx, '+'), NUB_GDB_EV_ACK);
}

/* ---- framing ---- */

static void test_frame(void **state)
{
	uint8_t payload[256];
	size_t n = 0xbad;

	(void)state;
	assert_int_equal(nub_gdb_frame(u8("g"), 1, out, sizeof out, &n), NUB_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "$g#67", 5);
	assert_int_equal(nub_gdb_frame(NULL, 0, out, sizeof out, &n), NUB_OK);
	assert_memory_equal(out, "$#00", 4);
	assert_int_equal(nub_gdb_frame(u8("a$b#c}d*"), 8, out, sizeof out, &n), NUB_OK);
	assert_int_equal(n, 16);
	assert_memory_equal(out,
			    "$a}\x04"
			    "b}\x03"
			    "c}]d}\x0a#",
			    13);
	/* Every byte value round-trips through the receiver; only $ # } * are escaped. */
	for (unsigned i = 0; i < 256; i++)
		payload[i] = (uint8_t)i;
	assert_int_equal(nub_gdb_frame(payload, 256, out, sizeof out, &n), NUB_OK);
	assert_int_equal(n, 256 + 4 + 4);
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed(out, n), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, 256);
	assert_memory_equal(rx.payload, payload, 256);
}

static void test_frame_capacity(void **state)
{
	static uint8_t payload[NUB_GDB_PACKET_MAX];
	size_t n = 0xbad;

	(void)state;
	/* Exactly enough room, then one byte less: nothing written, length untouched. */
	assert_int_equal(nub_gdb_frame(u8("a*"), 2, out, 7, &n), NUB_OK);
	assert_int_equal(n, 7);
	memset(out, 0xa5, 8);
	n = 0xbad;
	assert_int_equal(nub_gdb_frame(u8("a*"), 2, out, 6, &n), NUB_E_LAYOUT);
	assert_int_equal(n, 0xbad);
	assert_int_equal(out[0], 0xa5);
	assert_int_equal(nub_gdb_frame(NULL, 0, out, 3, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_frame(u8("a"), 1, NULL, 8, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_frame(NULL, 1, out, 8, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_frame(u8("a"), 1, out, 8, NULL), NUB_E_INVALID);
	/* The worst case: a full packet of escaped bytes fills NUB_GDB_FRAME_MAX exactly. */
	memset(payload, '}', sizeof payload);
	assert_int_equal(nub_gdb_frame(payload, sizeof payload, out, sizeof out, &n), NUB_OK);
	assert_int_equal(n, NUB_GDB_FRAME_MAX);
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed(out, n), NUB_GDB_EV_PACKET);
	assert_int_equal(rx.len, NUB_GDB_PACKET_MAX);
	assert_int_equal(nub_gdb_frame(payload, sizeof payload, out, sizeof out - 1, &n),
			 NUB_E_LAYOUT);
}

/* ---- hex ---- */

static void test_hex_u64(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(nub_gdb_hex_u64(u8("0"), 1, &v), NUB_OK);
	assert_int_equal(v, 0);
	assert_int_equal(nub_gdb_hex_u64(u8("ffffffffffffffff"), 16, &v), NUB_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(nub_gdb_hex_u64(u8("0000000000000001"), 16, &v), NUB_OK);
	assert_int_equal(v, 1);
	assert_int_equal(nub_gdb_hex_u64(u8("DeadBeef"), 8, &v), NUB_OK);
	assert_int_equal(v, 0xdeadbeef);
	/* Only the given span counts. */
	assert_int_equal(nub_gdb_hex_u64(u8("12zz"), 2, &v), NUB_OK);
	assert_int_equal(v, 0x12);
	/* Refused, leaving the output alone: 17 digits (even of zeros), empty, non-hex. */
	v = 42;
	assert_int_equal(nub_gdb_hex_u64(u8("00000000000000000"), 17, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8("10000000000000000"), 17, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8(""), 0, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(NULL, 0, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8("12g"), 3, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8("-1"), 2, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8(" 1"), 2, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8("0x1"), 3, &v), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_u64(u8("1\0"), 2, &v), NUB_E_PROTOCOL);
	assert_int_equal(v, 42);
	assert_int_equal(nub_gdb_hex_u64(u8("1"), 1, NULL), NUB_E_INVALID);
	assert_int_equal(nub_gdb_hex_u64(NULL, 1, &v), NUB_E_INVALID);
	/* A huge length is refused without reading the input. */
	assert_int_equal(nub_gdb_hex_u64(u8("1"), SIZE_MAX, &v), NUB_E_PROTOCOL);
}

static void test_hex_bytes(void **state)
{
	uint8_t b[8] = { 0 }, h[16];
	size_t n = 0xbad;

	(void)state;
	assert_int_equal(nub_gdb_hex_decode(u8("00fF7a"), 6, b, sizeof b, &n), NUB_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "\x00\xff\x7a", 3);
	assert_int_equal(nub_gdb_hex_encode(b, 3, h, sizeof h, &n), NUB_OK);
	assert_int_equal(n, 6);
	assert_memory_equal(h, "00ff7a", 6);
	/* Empty is fine both ways. */
	assert_int_equal(nub_gdb_hex_decode(NULL, 0, NULL, 0, &n), NUB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(nub_gdb_hex_encode(NULL, 0, NULL, 0, &n), NUB_OK);
	assert_int_equal(n, 0);
	/* Odd length, non-hex, too small a buffer; the output is untouched on each. */
	memset(b, 0xa5, sizeof b);
	n = 0xbad;
	assert_int_equal(nub_gdb_hex_decode(u8("123"), 3, b, sizeof b, &n), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_decode(u8("12g4"), 4, b, sizeof b, &n), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_decode(u8("1234"), 4, b, 1, &n), NUB_E_LAYOUT);
	assert_int_equal(b[0], 0xa5);
	assert_int_equal(n, 0xbad);
	/* Exactly the capacity. */
	assert_int_equal(nub_gdb_hex_decode(u8("1234"), 4, b, 2, &n), NUB_OK);
	assert_int_equal(n, 2);
	/* Huge lengths: refused by capacity before any digit is read. */
	assert_int_equal(nub_gdb_hex_decode(u8("12"), SIZE_MAX - 1, b, sizeof b, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_hex_decode(u8("12"), SIZE_MAX, b, sizeof b, &n), NUB_E_PROTOCOL);
	assert_int_equal(nub_gdb_hex_encode(b, SIZE_MAX / 2 + 1, h, SIZE_MAX, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_hex_encode(b, 9, h, sizeof h, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_hex_encode(b, 8, h, 15, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_hex_encode(b, 8, h, 16, &n), NUB_OK);
	assert_int_equal(nub_gdb_hex_encode(b, 1, NULL, 16, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_hex_decode(u8("12"), 2, NULL, 16, &n), NUB_E_INVALID);
}

/* ---- commands ---- */

static void test_parse_plain(void **state)
{
	(void)state;
	expect_kind("?", NUB_GDB_CMD_STOP_REASON);
	expect_kind("g", NUB_GDB_CMD_READ_REGS);
	expect_kind("k", NUB_GDB_CMD_KILL);
	expect_kind("qC", NUB_GDB_CMD_QC);
	expect_kind("qfThreadInfo", NUB_GDB_CMD_QFTHREADINFO);
	expect_kind("qsThreadInfo", NUB_GDB_CMD_QSTHREADINFO);
	expect_kind("vCont?", NUB_GDB_CMD_VCONT_QUERY);
	expect_error("?x", "?: trailing bytes");
	expect_error("g0", "g: trailing bytes");
	expect_error("k;1", "k: trailing bytes");
	expect_error("qC:1", "qC: trailing bytes");
	expect_error("qfThreadInfo:", "qfThreadInfo: trailing bytes");
	expect_error("qsThreadInfo:x", "qsThreadInfo: trailing bytes");
	expect_error("vCont?;c", "vCont?: trailing bytes");
}

static void test_parse_unsupported(void **state)
{
	static const char *const unsupported[] = {
		"",
		"vMustReplyEmpty",
		"qTStatus",
		"qOffsets",
		"qSymbol::",
		"QStartNoAckMode",
		"vKill;a410",
		"qThreadExtraInfo,1",
		"qP0000001f0000000000000001",
		"vFile:setfs:0",
		"qXfer:auxv:read::0,1000",
		"qXfer:exec-file:read:a410:0,fff",
		"qXfer:features:write:target.xml:0:x",
		"qXfer",
		"qXfer:",
		"qCRC:0,1",
		"qSupportedX",
		"qAttachedX",
		"qc",
		"vContX",
		"vCon",
		"vcont?",
		"C05",
		"S05;1000",
		"!",
		"R00",
		"A",
		"i",
		"x",
		"Q",
		"q",
		"v",
		"\x03",
		"+",
		"$",
	};
	struct nub_gdb_cmd cmd;

	(void)state;
	for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
		expect_kind(unsupported[i], NUB_GDB_CMD_UNSUPPORTED);
	assert_int_equal(parse_n(NULL, 0, &cmd), NUB_GDB_CMD_UNSUPPORTED);
	assert_int_equal(parse_n("\0g", 2, &cmd), NUB_GDB_CMD_UNSUPPORTED);
}

static void test_parse_qsupported(void **state)
{
	struct nub_gdb_cmd cmd;

	(void)state;
	/* What gdb 13 sends at connect. */
	assert_int_equal(parse("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;"
			       "fork-events+;vfork-events+;exec-events+;vContSupported+;"
			       "QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386",
			       &cmd),
			 NUB_GDB_CMD_QSUPPORTED);
	assert_true(cmd.supported.swbreak && cmd.supported.hwbreak);
	assert_true(cmd.supported.vcont_supported && cmd.supported.xml_registers_i386);
	assert_int_equal(parse("qSupported", &cmd), NUB_GDB_CMD_QSUPPORTED);
	assert_false(cmd.supported.swbreak || cmd.supported.hwbreak ||
		     cmd.supported.vcont_supported || cmd.supported.xml_registers_i386);
	assert_int_equal(parse("qSupported:swbreak-;hwbreak?;xmlRegisters=arm,i386,x;a=", &cmd),
			 NUB_GDB_CMD_QSUPPORTED);
	assert_false(cmd.supported.swbreak || cmd.supported.hwbreak);
	assert_true(cmd.supported.xml_registers_i386);
	assert_int_equal(parse("qSupported:xmlRegisters=i38;xmlRegister=i386", &cmd),
			 NUB_GDB_CMD_QSUPPORTED);
	assert_false(cmd.supported.xml_registers_i386);
	expect_error("qSupported:", "qSupported: feature not name+, -, ? or =value");
	expect_error("qSupported:swbreak+;", "qSupported: feature not name+, -, ? or =value");
	expect_error("qSupported:a+;;b+", "qSupported: feature not name+, -, ? or =value");
	expect_error("qSupported:+", "qSupported: feature not name+, -, ? or =value");
	expect_error("qSupported:swbreak", "qSupported: feature not name+, -, ? or =value");
	expect_error("qSupported:=1", "qSupported: feature without a name");
	assert_int_equal(parse_n("qSupported:a\0", 13, &cmd), NUB_GDB_CMD_ERROR);
}

static void test_parse_qxfer(void **state)
{
	struct nub_gdb_cmd cmd;

	(void)state;
	assert_int_equal(parse("qXfer:features:read:target.xml:0,1000", &cmd),
			 NUB_GDB_CMD_QXFER_FEATURES);
	assert_int_equal(cmd.xfer.offset, 0);
	assert_int_equal(cmd.xfer.length, 0x1000);
	assert_int_equal(parse("qXfer:features:read:target.xml:ffffffffffffffff,FFFFFFFFFFFFFFFF",
			       &cmd),
			 NUB_GDB_CMD_QXFER_FEATURES);
	assert_true(cmd.xfer.offset == UINT64_MAX && cmd.xfer.length == UINT64_MAX);
	expect_error("qXfer:features", "qXfer:features: no operation");
	expect_error("qXfer:features:read", "qXfer:features:read: no annex");
	expect_error("qXfer:features:read:target.xml", "qXfer:features:read: no offset,length");
	expect_error("qXfer:features:read:64bit-core.xml:0,10",
		     "qXfer:features:read: annex is not target.xml");
	expect_error("qXfer:features:read::0,10", "qXfer:features:read: annex is not target.xml");
	expect_error("qXfer:features:read:target.xml:0", "qXfer:features:read: no length");
	expect_error("qXfer:features:read:target.xml:,10",
		     "qXfer:features:read: offset is not 1-16 hex digits");
	expect_error("qXfer:features:read:target.xml:00000000000000000,10",
		     "qXfer:features:read: offset is not 1-16 hex digits");
	expect_error("qXfer:features:read:target.xml:0,",
		     "qXfer:features:read: length is not 1-16 hex digits");
	expect_error("qXfer:features:read:target.xml:0,10,1",
		     "qXfer:features:read: length is not 1-16 hex digits");
	expect_error("qXfer:features:read:target.xml:0,0", "qXfer:features:read: length 0");
}

static void test_parse_process(void **state)
{
	struct nub_gdb_cmd cmd;

	(void)state;
	assert_int_equal(parse("qAttached", &cmd), NUB_GDB_CMD_QATTACHED);
	assert_false(cmd.process.has_pid);
	assert_int_equal(parse("qAttached:a410", &cmd), NUB_GDB_CMD_QATTACHED);
	assert_true(cmd.process.has_pid);
	assert_int_equal(cmd.process.pid, 0xa410);
	assert_int_equal(parse("qAttached:7fffffffffffffff", &cmd), NUB_GDB_CMD_QATTACHED);
	assert_true(cmd.process.pid == INT64_MAX);
	expect_error("qAttached:", "qAttached: pid is not 1-16 hex digits in 1..INT64_MAX");
	expect_error("qAttached:0", "qAttached: pid is not 1-16 hex digits in 1..INT64_MAX");
	expect_error("qAttached:-1", "qAttached: pid is not 1-16 hex digits in 1..INT64_MAX");
	expect_error("qAttached:8000000000000000",
		     "qAttached: pid is not 1-16 hex digits in 1..INT64_MAX");
	assert_int_equal(parse("D", &cmd), NUB_GDB_CMD_DETACH);
	assert_false(cmd.process.has_pid);
	assert_int_equal(parse("D;1", &cmd), NUB_GDB_CMD_DETACH);
	assert_true(cmd.process.has_pid);
	assert_int_equal(cmd.process.pid, 1);
	expect_error("D;", "D: expected D or D;pid (hex, 1..INT64_MAX)");
	expect_error("D;0", "D: expected D or D;pid (hex, 1..INT64_MAX)");
	expect_error("D1", "D: expected D or D;pid (hex, 1..INT64_MAX)");
	expect_error("D;10000000000000000", "D: expected D or D;pid (hex, 1..INT64_MAX)");
}

static void test_parse_threads(void **state)
{
	struct nub_gdb_cmd cmd;

	(void)state;
	assert_int_equal(parse("Hg0", &cmd), NUB_GDB_CMD_SET_THREAD);
	assert_int_equal(cmd.thread.op, 'g');
	assert_false(cmd.thread.thread.has_pid);
	assert_int_equal(cmd.thread.thread.tid, 0);
	assert_int_equal(parse("Hc-1", &cmd), NUB_GDB_CMD_SET_THREAD);
	assert_int_equal(cmd.thread.op, 'c');
	assert_int_equal(cmd.thread.thread.tid, -1);
	assert_int_equal(parse("Hgp1.2", &cmd), NUB_GDB_CMD_SET_THREAD);
	assert_true(cmd.thread.thread.has_pid);
	assert_int_equal(cmd.thread.thread.pid, 1);
	assert_int_equal(cmd.thread.thread.tid, 2);
	assert_int_equal(parse("Hgpa410", &cmd), NUB_GDB_CMD_SET_THREAD);
	assert_int_equal(cmd.thread.thread.pid, 0xa410);
	assert_int_equal(cmd.thread.thread.tid, -1);
	assert_int_equal(parse("Hgp-1.-1", &cmd), NUB_GDB_CMD_SET_THREAD);
	assert_int_equal(cmd.thread.thread.pid, -1);
	assert_int_equal(parse("T1", &cmd), NUB_GDB_CMD_THREAD_ALIVE);
	assert_int_equal(cmd.thread.thread.tid, 1);
	assert_int_equal(parse("T7fffffffffffffff", &cmd), NUB_GDB_CMD_THREAD_ALIVE);
	assert_true(cmd.thread.thread.tid == INT64_MAX);
	assert_int_equal(parse("Tp1.1", &cmd), NUB_GDB_CMD_THREAD_ALIVE);
	expect_error("H", "H: operation is not g or c");
	expect_error("Hs1", "H: operation is not g or c");
	expect_error("Hg", "H: malformed thread-id");
	expect_error("Hgx", "H: malformed thread-id");
	expect_error("Hg-2", "H: malformed thread-id");
	expect_error("Hg8000000000000000", "H: malformed thread-id");
	expect_error("Hgp", "H: malformed thread-id");
	expect_error("Hgp.1", "H: malformed thread-id");
	expect_error("Hgp1.", "H: malformed thread-id");
	expect_error("Hgp1.2.3", "H: malformed thread-id");
	expect_error("T", "T: malformed thread-id");
	expect_error("T00000000000000001", "T: malformed thread-id");
	expect_error("T1;", "T: malformed thread-id");
}

static void test_parse_registers(void **state)
{
	static char g[2 * NUB_GDB_REGS_BYTES + 3];
	struct nub_gdb_cmd cmd;

	(void)state;
	g[0] = 'G';
	memset(g + 1, 'a', 2 * NUB_GDB_REGS_BYTES);
	g[1 + 2 * NUB_GDB_REGS_BYTES] = 0;
	assert_int_equal(parse(g, &cmd), NUB_GDB_CMD_WRITE_REGS);
	assert_ptr_equal(cmd.regs.hex, (const uint8_t *)g + 1);
	assert_int_equal(cmd.regs.hex_len, 2 * NUB_GDB_REGS_BYTES);
	g[1 + 2 * NUB_GDB_REGS_BYTES] = 'a';
	expect_error(g, "G: not 1104 hex digits (the whole register file)");
	g[2 * NUB_GDB_REGS_BYTES] = 0;
	expect_error(g, "G: not 1104 hex digits (the whole register file)");
	g[2 * NUB_GDB_REGS_BYTES] = 'a';
	g[1 + 2 * NUB_GDB_REGS_BYTES] = 0;
	g[500] = 'x';
	expect_error(g, "G: not 1104 hex digits (the whole register file)");
	expect_error("G", "G: not 1104 hex digits (the whole register file)");

	assert_int_equal(parse("p0", &cmd), NUB_GDB_CMD_READ_REG);
	assert_int_equal(cmd.reg.regno, 0);
	assert_int_equal(parse("p3a", &cmd), NUB_GDB_CMD_READ_REG);
	assert_int_equal(cmd.reg.regno, NUB_GDB_REG_GS_BASE);
	expect_error("p3b", "p: register number is not hex below 0x3b");
	expect_error("p", "p: register number is not hex below 0x3b");
	expect_error("pzz", "p: register number is not hex below 0x3b");
	expect_error("p00000000000000000", "p: register number is not hex below 0x3b");
	expect_error("pffffffffffffffff", "p: register number is not hex below 0x3b");

	assert_int_equal(parse("P0=3412000000000000", &cmd), NUB_GDB_CMD_WRITE_REG);
	assert_int_equal(cmd.reg.regno, 0);
	assert_int_equal(cmd.reg.hex_len, 16);
	assert_memory_equal(cmd.reg.hex, "3412000000000000", 16);
	assert_int_equal(parse("P18=00000000000000c0ff3f", &cmd), NUB_GDB_CMD_WRITE_REG);
	assert_int_equal(cmd.reg.regno, NUB_GDB_REG_ST0);
	assert_int_equal(cmd.reg.hex_len, 20);
	assert_int_equal(parse("P28=000102030405060708090a0b0c0d0e0f", &cmd),
			 NUB_GDB_CMD_WRITE_REG);
	assert_int_equal(cmd.reg.regno, NUB_GDB_REG_XMM0);
	assert_int_equal(parse("P11=02020000", &cmd), NUB_GDB_CMD_WRITE_REG);
	expect_error("P11", "P: expected n=value");
	expect_error("P=00000000", "P: register number is not hex below 0x3b");
	expect_error("P3b=00000000", "P: register number is not hex below 0x3b");
	expect_error("P11=020200", "P: value is not 2 * the register's size hex digits");
	expect_error("P11=0202000000", "P: value is not 2 * the register's size hex digits");
	expect_error("P11=0202000g", "P: value is not 2 * the register's size hex digits");
	expect_error("P11=", "P: value is not 2 * the register's size hex digits");
	expect_error("P0=3412000000000000=", "P: value is not 2 * the register's size hex digits");
}

static void test_parse_memory(void **state)
{
	static const uint8_t x[] = { 'X', '1', '0', ',', '3', ':', ',', ':', '}' };
	struct nub_gdb_cmd cmd;

	(void)state;
	assert_int_equal(parse("m10000,1", &cmd), NUB_GDB_CMD_READ_MEM);
	assert_int_equal(cmd.mem.addr, 0x10000);
	assert_int_equal(cmd.mem.len, 1);
	assert_int_equal(parse("m0,2000", &cmd), NUB_GDB_CMD_READ_MEM);
	assert_int_equal(cmd.mem.len, NUB_GDB_MEM_READ_MAX);
	/* A range may end exactly at 2^64, not past it. */
	assert_int_equal(parse("mffffffffffffffff,1", &cmd), NUB_GDB_CMD_READ_MEM);
	assert_int_equal(parse("mfffffffffffff000,1000", &cmd), NUB_GDB_CMD_READ_MEM);
	assert_int_equal(parse("M10000,2:aBcd", &cmd), NUB_GDB_CMD_WRITE_MEM);
	assert_int_equal(cmd.mem.addr, 0x10000);
	assert_int_equal(cmd.mem.len, 2);
	assert_int_equal(cmd.mem.data_len, 4);
	assert_memory_equal(cmd.mem.data, "aBcd", 4);
	assert_int_equal(parse("M10000,0:", &cmd), NUB_GDB_CMD_WRITE_MEM);
	assert_int_equal(cmd.mem.data_len, 0);
	/* Malformed reads and writes: every field and bound of m and M. */
	static const char *const bad[][2] = {
		{ "mffffffffffffffff,2", "m: addr + len passes 2^64" },
		{ "mfffffffffffff001,1000", "m: addr + len passes 2^64" },
		{ "m10000,0", "m: length 0" },
		{ "m10000,2001", "m: length above 0x2000 (the reply would not fit)" },
		{ "m0,ffffffffffffffff", "m: length above 0x2000 (the reply would not fit)" },
		{ "m10000", "m: expected addr,len" },
		{ "m", "m: expected addr,len" },
		{ "m,1", "m: address is not 1-16 hex digits" },
		{ "m00000000000000000,1", "m: address is not 1-16 hex digits" },
		{ "m1,", "m: length is not 1-16 hex digits" },
		{ "m1,1:", "m: length is not 1-16 hex digits" },
		{ "m1,1,1", "m: length is not 1-16 hex digits" },
		{ "M10000,2:abc", "M: data is not 2 * len hex digits" },
		{ "M10000,2:abcdef", "M: data is not 2 * len hex digits" },
		{ "M10000,2:abcx", "M: data is not 2 * len hex digits" },
		{ "M10000,2", "M: expected addr,len:hex" },
		{ "M10000:ab", "M: expected addr,len:hex" },
		{ "M,1:ab", "M: address is not 1-16 hex digits" },
		{ "M1,:ab", "M: length is not 1-16 hex digits" },
		{ "Mffffffffffffffff,2:abcd", "M: addr + len passes 2^64" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_error(bad[i][0], bad[i][1]);

	/* gdb's X probe, then binary data holding ',', ':' and '}'. */
	assert_int_equal(parse("X10000,0:", &cmd), NUB_GDB_CMD_WRITE_MEM_BIN);
	assert_int_equal(cmd.mem.len, 0);
	assert_int_equal(cmd.mem.data_len, 0);
	assert_int_equal(parse_n(x, sizeof x, &cmd), NUB_GDB_CMD_WRITE_MEM_BIN);
	assert_int_equal(cmd.mem.addr, 0x10);
	assert_int_equal(cmd.mem.len, 3);
	assert_ptr_equal(cmd.mem.data, x + 6);
	assert_int_equal(parse_n(x, sizeof x - 1, &cmd), NUB_GDB_CMD_ERROR);
	assert_string_equal(cmd.why, "X: data is not len bytes");
	expect_error("X10,1:ab", "X: data is not len bytes");
	expect_error("X10,1", "X: expected addr,len:bytes");
	expect_error("X,1:a", "X: address is not 1-16 hex digits");
	expect_error("X1,:a", "X: length is not 1-16 hex digits");
	expect_error("Xffffffffffffffff,2:ab", "X: addr + len passes 2^64");
}

static void test_parse_resume(void **state)
{
	static const struct {
		const char *payload;
		enum nub_gdb_cmd_kind kind;
		bool has_addr;
		uint64_t addr;
	} ok[] = {
		{ "c", NUB_GDB_CMD_CONTINUE, false, 0 },
		{ "c10000", NUB_GDB_CMD_CONTINUE, true, 0x10000 },
		{ "s", NUB_GDB_CMD_STEP, false, 0 },
		{ "sffffffffffffffff", NUB_GDB_CMD_STEP, true, UINT64_MAX },
	};
	struct nub_gdb_cmd cmd;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(parse(ok[i].payload, &cmd), ok[i].kind);
		assert_int_equal(cmd.resume.has_addr, ok[i].has_addr);
		if (ok[i].has_addr)
			assert_true(cmd.resume.addr == ok[i].addr);
	}
	expect_error("cx", "c: address is not 1-16 hex digits");
	expect_error("c00000000000000000", "c: address is not 1-16 hex digits");
	expect_error("s;1", "s: address is not 1-16 hex digits");
}

static void test_parse_vcont(void **state)
{
	struct nub_gdb_cmd cmd;

	(void)state;
	assert_int_equal(parse("vCont;c", &cmd), NUB_GDB_CMD_VCONT);
	assert_int_equal(cmd.vcont.n, 1);
	assert_int_equal(cmd.vcont.action[0].op, 'c');
	assert_false(cmd.vcont.action[0].has_thread);
	/* What gdb 13 sends for stepi. */
	assert_int_equal(parse("vCont;s:1;c", &cmd), NUB_GDB_CMD_VCONT);
	assert_int_equal(cmd.vcont.n, 2);
	assert_int_equal(cmd.vcont.action[0].op, 's');
	assert_true(cmd.vcont.action[0].has_thread);
	assert_int_equal(cmd.vcont.action[0].thread.tid, 1);
	assert_int_equal(cmd.vcont.action[1].op, 'c');
	assert_false(cmd.vcont.action[1].has_thread);
	assert_int_equal(parse("vCont;C0b:p1.-1;S05;c:-1", &cmd), NUB_GDB_CMD_VCONT);
	assert_int_equal(cmd.vcont.n, 3);
	assert_int_equal(cmd.vcont.action[0].op, 'C');
	assert_int_equal(cmd.vcont.action[0].signal, 0x0b);
	assert_true(cmd.vcont.action[0].thread.has_pid);
	assert_int_equal(cmd.vcont.action[0].thread.pid, 1);
	assert_int_equal(cmd.vcont.action[0].thread.tid, -1);
	assert_int_equal(cmd.vcont.action[1].op, 'S');
	assert_int_equal(cmd.vcont.action[1].signal, 5);
	assert_int_equal(cmd.vcont.action[2].thread.tid, -1);
	assert_int_equal(parse("vCont;c;c;c;c;c;c;c;s", &cmd), NUB_GDB_CMD_VCONT);
	assert_int_equal(cmd.vcont.n, NUB_GDB_VCONT_MAX);
	assert_int_equal(cmd.vcont.action[7].op, 's');
	expect_error("vCont;c;c;c;c;c;c;c;c;c", "vCont: more than 8 actions");
	expect_error("vCont", "vCont: no action");
	expect_error("vCont;", "vCont: empty action");
	expect_error("vCont;c;", "vCont: empty action");
	expect_error("vCont;;c", "vCont: empty action");
	expect_error("vCont;x", "vCont: action other than c, C, s, S");
	expect_error("vCont;t", "vCont: action other than c, C, s, S");
	expect_error("vCont;r1000,2000", "vCont: action other than c, C, s, S");
	expect_error("vCont;cx", "vCont: bytes after c or s");
	expect_error("vCont;s1", "vCont: bytes after c or s");
	expect_error("vCont;C5", "vCont: C and S take a signal of 2 hex digits");
	expect_error("vCont;C055", "vCont: C and S take a signal of 2 hex digits");
	expect_error("vCont;Szz", "vCont: C and S take a signal of 2 hex digits");
	expect_error("vCont;C", "vCont: C and S take a signal of 2 hex digits");
	expect_error("vCont;c:", "vCont: malformed thread-id");
	expect_error("vCont;c:zz", "vCont: malformed thread-id");
	expect_error("vCont;c:1:2", "vCont: malformed thread-id");
}

static void test_parse_breakpoints(void **state)
{
	struct nub_gdb_cmd cmd;

	(void)state;
	assert_int_equal(parse("Z0,10020,1", &cmd), NUB_GDB_CMD_INSERT_BP);
	assert_int_equal(cmd.bp.type, NUB_GDB_BP_SW);
	assert_int_equal(cmd.bp.addr, 0x10020);
	assert_int_equal(cmd.bp.kind, 1);
	assert_int_equal(parse("z1,10010,1", &cmd), NUB_GDB_CMD_REMOVE_BP);
	assert_int_equal(cmd.bp.type, NUB_GDB_BP_HW);
	assert_int_equal(parse("Z2,10040,4", &cmd), NUB_GDB_CMD_INSERT_BP);
	assert_int_equal(cmd.bp.type, NUB_GDB_WP_WRITE);
	assert_int_equal(cmd.bp.kind, 4);
	assert_int_equal(parse("z3,10080,1", &cmd), NUB_GDB_CMD_REMOVE_BP);
	assert_int_equal(cmd.bp.type, NUB_GDB_WP_READ);
	assert_int_equal(parse("Z4,fffffffffffffff8,8", &cmd), NUB_GDB_CMD_INSERT_BP);
	assert_int_equal(cmd.bp.type, NUB_GDB_WP_ACCESS);
	assert_int_equal(cmd.bp.kind, 8);
	/* An int3 at the very last byte is a range ending at 2^64. */
	assert_int_equal(parse("Z0,ffffffffffffffff,1", &cmd), NUB_GDB_CMD_INSERT_BP);
	expect_error("Z2,fffffffffffffffc,8", "Z: addr + length passes 2^64");
	expect_error("Z5,1000,1", "Z: type is not 0..4");
	expect_error("Zg,1000,1", "Z: type is not 0..4");
	expect_error("Z,1000,1", "Z: type is not 0..4");
	expect_error("Z0,1000,2", "Z: breakpoint kind is not 1 (int3)");
	expect_error("z1,1000,0", "Z: breakpoint kind is not 1 (int3)");
	expect_error("Z2,1000,0", "Z: watchpoint length is not 1..8");
	expect_error("Z3,1000,9", "Z: watchpoint length is not 1..8");
	expect_error("Z4,1000,ffffffffffffffff", "Z: watchpoint length is not 1..8");
	expect_error("Z0,1000,1;X2,ab", "Z: conditions and commands are not supported");
	expect_error("Z0,1000,1;cmds:0,X2,ab", "Z: conditions and commands are not supported");
	expect_error("Z0,1000", "Z: expected type,addr,kind");
	expect_error("Z0", "Z: expected type,addr,kind");
	expect_error("z", "Z: expected type,addr,kind");
	expect_error("Z0,,1", "Z: address is not 1-16 hex digits");
	expect_error("Z0,10000000000000000,1", "Z: address is not 1-16 hex digits");
	expect_error("Z0,1000,", "Z: kind is not 1-16 hex digits");
	expect_error("Z0,1000,1,1", "Z: kind is not 1-16 hex digits");
}

/* ---- target description and qXfer ---- */

static void test_target_xml(void **state)
{
	char want[128];
	size_t len = 0, bits = 0;

	(void)state;
	const char *xml = nub_gdb_target_xml(&len);
	assert_int_equal(len, strlen(xml));
	assert_ptr_equal(nub_gdb_target_xml(NULL), xml);
	/* Nothing the framing would have to escape. */
	assert_null(strpbrk(xml, "$#}*"));
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.sse\">"));
	assert_non_null(strstr(xml, "<feature name=\"org.gnu.gdb.i386.segments\">"));
	/* Every register, in number order, with the size the register file uses. */
	const char *at = xml;
	for (unsigned r = 0; r < NUB_GDB_NREGS; r++) {
		snprintf(want, sizeof want, "<reg name=\"%s\" bitsize=\"%zu\" ",
			 nub_gdb_reg_name(r), 8 * nub_gdb_reg_size(r));
		const char *found = strstr(at, want);
		assert_non_null(found);
		snprintf(want, sizeof want, " regnum=\"%u\"", r);
		const char *end = strchr(found, '\n');
		assert_non_null(end);
		const char *num = strstr(found, want);
		assert_true(num && num < end);
		at = end;
		bits += 8 * nub_gdb_reg_size(r);
	}
	assert_null(strstr(at, "<reg "));
	assert_int_equal(bits, 8 * NUB_GDB_REGS_BYTES);
}

static void test_qxfer_slicing(void **state)
{
	static const uint8_t doc[] = "abcdef";
	const size_t dl = 6;
	uint8_t buf[16], whole[16];
	size_t n = 0xbad;

	(void)state;
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 1, buf, sizeof buf, &n), NUB_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "ma", 2);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 5, buf, sizeof buf, &n), NUB_OK);
	assert_memory_equal(buf, "mabcde", 6);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 6, buf, sizeof buf, &n), NUB_OK);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "labcdef", 7);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, UINT64_MAX, buf, sizeof buf, &n), NUB_OK);
	assert_memory_equal(buf, "labcdef", 7);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 5, 1, buf, sizeof buf, &n), NUB_OK);
	assert_memory_equal(buf, "lf", 2);
	/* At the end: "l" alone; past it: refused. */
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 6, 1, buf, sizeof buf, &n), NUB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], 'l');
	n = 0xbad;
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 7, 1, buf, sizeof buf, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, UINT64_MAX, 1, buf, sizeof buf, &n),
			 NUB_E_INVALID);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 0, buf, sizeof buf, &n), NUB_E_INVALID);
	assert_int_equal(n, 0xbad);
	/* The capacity shortens the chunk; 'l' only if it still reaches the end. */
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 6, buf, 6, &n), NUB_OK);
	assert_memory_equal(buf, "mabcde", 6);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 1, 6, buf, 6, &n), NUB_OK);
	assert_memory_equal(buf, "lbcdef", 6);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 6, buf, 1, &n), NUB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], 'm');
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 6, buf, 0, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_qxfer_reply(doc, dl, 0, 6, NULL, 4, &n), NUB_E_INVALID);
	/* Every offset and length: the chunks gdb would fetch put the document back together. */
	for (size_t length = 1; length <= dl + 1; length++) {
		size_t have = 0;
		for (;;) {
			assert_int_equal(nub_gdb_qxfer_reply(doc, dl, have, length, buf, sizeof buf,
							     &n),
					 NUB_OK);
			assert_true(n >= 1 && n - 1 <= length);
			memcpy(whole + have, buf + 1, n - 1);
			have += n - 1;
			if (buf[0] == 'l')
				break;
			assert_int_equal(buf[0], 'm');
			assert_int_equal(n - 1, length);
		}
		assert_int_equal(have, dl);
		assert_memory_equal(whole, doc, dl);
	}
}

static void test_qxfer_target_xml(void **state)
{
	static uint8_t whole[0x4000], reply[NUB_GDB_PACKET_MAX];
	static const uint8_t special[] = "<$#}*>";
	size_t len, have = 0, n, f;

	(void)state;
	/* Fetched the way gdb 13 does, 0x1000 at a time, and through the framing. */
	const uint8_t *xml = (const uint8_t *)nub_gdb_target_xml(&len);
	assert_true(len > 0x1000 && len < sizeof whole);
	for (;;) {
		assert_int_equal(nub_gdb_qxfer_reply(xml, len, have, 0x1000, reply, sizeof reply,
						     &n),
				 NUB_OK);
		assert_int_equal(nub_gdb_frame(reply, n, out, sizeof out, &f), NUB_OK);
		nub_gdb_rx_init(&rx);
		assert_int_equal(feed(out, f), NUB_GDB_EV_PACKET);
		assert_int_equal(rx.len, n);
		memcpy(whole + have, rx.payload + 1, n - 1);
		have += n - 1;
		if (rx.payload[0] == 'l')
			break;
	}
	assert_int_equal(have, len);
	assert_memory_equal(whole, xml, len);
	/* A document with framing bytes is escaped once, by the framing, and comes back raw. */
	assert_int_equal(nub_gdb_qxfer_reply(special, 6, 1, 4, reply, sizeof reply, &n), NUB_OK);
	assert_memory_equal(reply, "m$#}*", 5);
	assert_int_equal(nub_gdb_frame(reply, n, out, sizeof out, &f), NUB_OK);
	assert_int_equal(f, 5 + 4 + 4);
	assert_memory_equal(out, "$m}\x04}\x03}]}\x0a#", 10);
	nub_gdb_rx_init(&rx);
	assert_int_equal(feed(out, f), NUB_GDB_EV_PACKET);
	assert_memory_equal(rx.payload, "m$#}*", 5);
}

/* ---- registers ---- */

/* fpr slot (j) holds an 80-bit value: significand (u64) then sign and exponent (u16). */
static void set_st(struct nub_vcpu_state *v, unsigned j, uint64_t significand, uint16_t se)
{
	memcpy(v->fpu + 16 * j, &significand, 8);
	memcpy(v->fpu + 16 * j + 8, &se, 2);
}

static void set_u16(struct nub_vcpu_state *v, size_t off, uint16_t x)
{
	memcpy(v->fpu + off, &x, 2);
}

static uint16_t get_u16(const struct nub_vcpu_state *v, size_t off)
{
	uint16_t x;

	memcpy(&x, v->fpu + off, 2);
	return x;
}

static uint64_t get_u64(const struct nub_vcpu_state *v, size_t off)
{
	uint64_t x;

	memcpy(&x, v->fpu + off, 8);
	return x;
}

/* A vCPU state every field of which is distinct and valid for gdb to write back. */
static void sample_state(struct nub_vcpu_state *v)
{
	memset(v, 0, sizeof *v);
	for (unsigned i = 0; i < 16; i++)
		v->gpr[i] = (uint64_t)(0xa0 + i) << 56 | 0x10 * i; /* slot i: 0x10*i ... 0xa<i> */
	v->rip = 0x401000;
	v->rflags = 0x246;
	v->cs.selector = 0x08;
	v->ss.selector = 0x10;
	v->ds.selector = 0x18;
	v->es.selector = 0x20;
	v->fs.selector = 0x28;
	v->gs.selector = 0x30;
	v->fs.base = UINT64_C(0x7f0000001000);
	v->gs.base = UINT64_C(0xffff800000002000);
	set_u16(v, 128, 0x037f);                            /* fcw */
	set_u16(v, 130, 6u << 11);                          /* fsw: TOP = 6 */
	v->fpu[132] = 0xc0;                                 /* physical 6 and 7 (ST0, ST1) in use */
	set_st(v, 0, UINT64_C(0x8000000000000000), 0x3fff); /* 1.0: valid */
	set_st(v, 1, 0, 0);                                 /* +0: zero */
	set_st(v, 2, 0x1234, 0x7fff);                       /* empty slot with junk */
	set_u16(v, 134, 0x5d9);                             /* fop */
	uint64_t fip = UINT64_C(0x1122334455667788), fdp = UINT64_C(0x99aabbccddeeff00);
	memcpy(v->fpu + 136, &fip, 8);
	memcpy(v->fpu + 144, &fdp, 8);
	for (unsigned i = 0; i < 256; i++)
		v->fpu[152 + i] = (uint8_t)(i * 7 + 1);
	uint32_t mxcsr = 0x1f80;
	memcpy(v->fpu + 408, &mxcsr, 4);
	/* Outside gdb's view: must survive a 'G'. */
	v->cr0 = 0x80050033;
	v->dr7 = 0x400;
	v->fpu[10] = 0xee; /* bytes 10..15 of an fpr slot */
}

static void test_reg_sizes(void **state)
{
	size_t total = 0;

	(void)state;
	for (unsigned r = 0; r < NUB_GDB_NREGS; r++) {
		size_t s = nub_gdb_reg_size(r);
		assert_true(s == 4 || s == 8 || s == 10 || s == 16);
		assert_true(s <= NUB_GDB_REG_MAX_BYTES);
		assert_non_null(nub_gdb_reg_name(r));
		total += s;
	}
	assert_int_equal(total, NUB_GDB_REGS_BYTES);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_RAX), 8);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_RIP), 8);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_EFLAGS), 4);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_CS + 5), 4); /* gs */
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_ST0 + 7), 10);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_FOP), 4);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_XMM0 + 15), 16);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_MXCSR), 4);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_REG_FS_BASE), 8);
	assert_int_equal(nub_gdb_reg_size(NUB_GDB_NREGS), 0);
	assert_int_equal(nub_gdb_reg_size(UINT64_MAX), 0);
	assert_string_equal(nub_gdb_reg_name(6), "rbp");
	assert_string_equal(nub_gdb_reg_name(7), "rsp");
	assert_string_equal(nub_gdb_reg_name(NUB_GDB_REG_FTAG), "ftag");
	assert_string_equal(nub_gdb_reg_name(NUB_GDB_REG_GS_BASE), "gs_base");
	assert_null(nub_gdb_reg_name(NUB_GDB_NREGS));
}

/* Where register (r) starts in a 'g' reply. */
static size_t g_off(unsigned r)
{
	size_t off = 0;

	for (unsigned i = 0; i < r; i++)
		off += 2 * nub_gdb_reg_size(i);
	return off;
}

static void test_regs_encode(void **state)
{
	static uint8_t hex[2 * NUB_GDB_REGS_BYTES];
	struct nub_vcpu_state v;
	size_t n = 0;

	(void)state;
	sample_state(&v);
	assert_int_equal(nub_gdb_regs_encode(&v, hex, sizeof hex, &n), NUB_OK);
	assert_int_equal(n, 2 * NUB_GDB_REGS_BYTES);
	assert_memory_equal(hex + g_off(0), "00000000000000a0", 16);
	assert_memory_equal(hex + g_off(5), "50000000000000a5", 16);
	/* gdb's 6 is rbp (state slot 7), its 7 is rsp (state slot 6). */
	assert_memory_equal(hex + g_off(6), "70000000000000a7", 16);
	assert_memory_equal(hex + g_off(7), "60000000000000a6", 16);
	assert_memory_equal(hex + g_off(15), "f0000000000000af", 16);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_RIP), "0010400000000000", 16);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_EFLAGS), "46020000", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_CS), "08000000", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_CS + 1), "10000000", 8); /* ss */
	assert_memory_equal(hex + g_off(NUB_GDB_REG_CS + 5), "30000000", 8); /* gs */
	assert_memory_equal(hex + g_off(NUB_GDB_REG_ST0), "0000000000000080ff3f", 20);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_ST0 + 2), "3412000000000000ff7f", 20);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FCTRL), "7f030000", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FSTAT), "00300000", 8);
	/* ST0 = physical 6 valid (00), ST1 = physical 7 zero (01), the rest empty. */
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FTAG), "ff4f0000", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FISEG), "44332211", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FIOFF), "88776655", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FOSEG), "ccbbaa99", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FOOFF), "00ffeedd", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FOP), "d9050000", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_XMM0), "01080f161d242b323940474e555c636a", 32);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_MXCSR), "801f0000", 8);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FS_BASE), "00100000007f0000", 16);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_GS_BASE), "002000000080ffff", 16);
	/* fop keeps 11 bits. */
	set_u16(&v, 134, 0xffff);
	assert_int_equal(nub_gdb_regs_encode(&v, hex, sizeof hex, &n), NUB_OK);
	assert_memory_equal(hex + g_off(NUB_GDB_REG_FOP), "ff070000", 8);
	/* Capacity and arguments. */
	assert_int_equal(nub_gdb_regs_encode(&v, hex, sizeof hex - 1, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_regs_encode(NULL, hex, sizeof hex, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_regs_encode(&v, hex, sizeof hex, NULL), NUB_E_INVALID);
}

static void test_regs_round_trip(void **state)
{
	static uint8_t hex[2 * NUB_GDB_REGS_BYTES], hex2[2 * NUB_GDB_REGS_BYTES];
	struct nub_vcpu_state v, w, before;
	struct nub_error err;
	size_t n;

	(void)state;
	sample_state(&v);
	assert_int_equal(nub_gdb_regs_encode(&v, hex, sizeof hex, &n), NUB_OK);
	/* Decoding what was encoded changes nothing. */
	w = v;
	assert_int_equal(nub_gdb_regs_decode(&w, hex, n, &err), NUB_OK);
	assert_memory_equal(&w, &v, sizeof v);
	/* A changed register file lands in the right fields, and only there. */
	memcpy(hex + g_off(6), "efbeadde00000000", 16);
	memcpy(hex + g_off(NUB_GDB_REG_FISEG), "00000000", 8);
	memcpy(hex + g_off(NUB_GDB_REG_FTAG), "FFFF0000", 8);
	memcpy(hex + g_off(NUB_GDB_REG_XMM0 + 15), "ffffffffffffffffffffffffffffffff", 32);
	w = v;
	assert_int_equal(nub_gdb_regs_decode(&w, hex, n, &err), NUB_OK);
	assert_int_equal(w.gpr[7], 0xdeadbeef);
	assert_int_equal(w.gpr[6], v.gpr[6]);
	assert_true(get_u64(&w, 136) == UINT64_C(0x55667788));
	assert_int_equal(w.fpu[132], 0);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(w.fpu[152 + 15 * 16 + i], 0xff);
	assert_int_equal(w.cr0, v.cr0);
	assert_int_equal(w.dr7, v.dr7);
	assert_int_equal(w.fpu[10], 0xee);
	/* Re-encoding gives the same text, in lower case. */
	assert_int_equal(nub_gdb_regs_encode(&w, hex2, sizeof hex2, &n), NUB_OK);
	memcpy(hex + g_off(NUB_GDB_REG_FTAG), "ffff0000", 8);
	assert_memory_equal(hex, hex2, n);
	/* All or nothing: one refused register leaves the whole state alone. */
	before = w;
	memcpy(hex + g_off(NUB_GDB_REG_CS + 3), "11000000", 8); /* es */
	assert_int_equal(nub_gdb_regs_decode(&w, hex, n, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "gdb register es: segment selectors are read-only");
	assert_memory_equal(&w, &before, sizeof w);
	memcpy(hex + g_off(NUB_GDB_REG_CS + 3), "20000000", 8);
	memcpy(hex + g_off(NUB_GDB_REG_GS_BASE), "0000000000800000", 16);
	assert_int_equal(nub_gdb_regs_decode(&w, hex, n, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "gdb register gs_base: address is not canonical");
	assert_memory_equal(&w, &before, sizeof w);
	/* Lengths and digits. */
	assert_int_equal(nub_gdb_regs_decode(&w, hex, n - 1, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "gdb registers: 1103 hex digits, expected 1104");
	assert_int_equal(nub_gdb_regs_decode(&w, hex, 0, &err), NUB_E_PROTOCOL);
	hex[3] = 'g';
	assert_int_equal(nub_gdb_regs_decode(&w, hex, n, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "gdb registers: a digit is not hex");
	assert_memory_equal(&w, &before, sizeof w);
	assert_int_equal(nub_gdb_regs_decode(NULL, hex, n, &err), NUB_E_INVALID);
	assert_int_equal(nub_gdb_regs_decode(&w, NULL, n, NULL), NUB_E_INVALID);
}

/* Sets register (r) from the C string (hex) and expects (st). */
static enum nub_status set(struct nub_vcpu_state *v, uint64_t r, const char *hex,
			   struct nub_error *err)
{
	return nub_gdb_reg_set(v, r, u8(hex), strlen(hex), err);
}

static void test_reg_get_set(void **state)
{
	static uint8_t g[2 * NUB_GDB_REGS_BYTES];
	uint8_t hex[2 * NUB_GDB_REG_MAX_BYTES], val[2 * NUB_GDB_REG_MAX_BYTES + 1];
	struct nub_vcpu_state v, w;
	struct nub_error err;
	size_t n;

	(void)state;
	sample_state(&v);
	/* Every register: 'p' matches its slice of 'g'; 'P' of a new value reads back. */
	assert_int_equal(nub_gdb_regs_encode(&v, g, sizeof g, &n), NUB_OK);
	for (unsigned r = 0; r < NUB_GDB_NREGS; r++) {
		size_t size = nub_gdb_reg_size(r);
		assert_int_equal(nub_gdb_reg_get(&v, r, hex, sizeof hex, &n), NUB_OK);
		assert_int_equal(n, 2 * size);
		assert_memory_equal(hex, g + g_off(r), n);
		if ((r >= NUB_GDB_REG_CS && r < NUB_GDB_REG_ST0) || r == NUB_GDB_REG_FTAG)
			continue; /* checked below */
		for (size_t i = 0; i < 2 * size; i++)
			val[i] = "0123456789abcdef"[(r + i) % 16];
		if (r == NUB_GDB_REG_RIP || r >= NUB_GDB_REG_FS_BASE)
			memcpy(val + 10, "000000", 6); /* canonical: below 2^40 */
		if (r == NUB_GDB_REG_EFLAGS)
			memcpy(val, "02000000", 8);
		if (r >= NUB_GDB_REG_FCTRL && r <= NUB_GDB_REG_FOP)
			memcpy(val + 4, "0000", 4);
		if (r == NUB_GDB_REG_FOP)
			memcpy(val, "ff07", 4);
		if (r == NUB_GDB_REG_MXCSR)
			memcpy(val + 4, "0000", 4);
		w = v;
		assert_int_equal(nub_gdb_reg_set(&w, r, val, 2 * size, &err), NUB_OK);
		assert_int_equal(nub_gdb_reg_get(&w, r, hex, sizeof hex, &n), NUB_OK);
		assert_memory_equal(hex, val, n);
	}
	/* Numbers out of range, lengths, digits, capacity. */
	assert_int_equal(nub_gdb_reg_get(&v, NUB_GDB_NREGS, hex, sizeof hex, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_reg_get(&v, UINT64_MAX, hex, sizeof hex, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_reg_get(&v, NUB_GDB_REG_XMM0, hex, 31, &n), NUB_E_LAYOUT);
	assert_int_equal(nub_gdb_reg_get(&v, NUB_GDB_REG_MXCSR, hex, 8, &n), NUB_OK);
	assert_int_equal(set(&v, NUB_GDB_NREGS, "00000000", &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "gdb register 59 out of range");
	assert_int_equal(set(&v, UINT64_MAX, "00", &err), NUB_E_INVALID);
	assert_int_equal(set(&v, 0, "00", &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "gdb register rax: 2 hex digits, expected 16");
	assert_int_equal(set(&v, 0, "000000000000000g", &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "gdb register rax: a digit is not hex");
	assert_int_equal(nub_gdb_reg_set(&v, 0, NULL, 16, &err), NUB_E_INVALID);
}

static void test_reg_set_refusals(void **state)
{
	static const struct {
		unsigned r;
		const char *hex, *why;
	} refused[] = {
		{ NUB_GDB_REG_EFLAGS, "00000000", "bit 1 clear, a reserved bit set or VM set" },
		{ NUB_GDB_REG_EFLAGS, "0a000000", "bit 1 clear" }, /* bit 3 */
		{ NUB_GDB_REG_EFLAGS, "22000000", "bit 1 clear" }, /* bit 5 */
		{ NUB_GDB_REG_EFLAGS, "02800000", "bit 1 clear" }, /* bit 15 */
		{ NUB_GDB_REG_EFLAGS, "02004000", "bit 1 clear" }, /* bit 22 */
		{ NUB_GDB_REG_EFLAGS, "02000080", "bit 1 clear" }, /* bit 31 */
		{ NUB_GDB_REG_EFLAGS, "02000200", "VM set" },      /* bit 17 */
		{ NUB_GDB_REG_RIP, "0000000000800000", "not canonical" },
		{ NUB_GDB_REG_RIP, "00000000ff7fffff", "not canonical" },
		{ NUB_GDB_REG_FS_BASE, "0000000000000100", "not canonical" },
		{ NUB_GDB_REG_GS_BASE, "ffffffffffff7fff", "not canonical" },
		{ NUB_GDB_REG_CS, "10000000", "segment selectors are read-only" },
		{ NUB_GDB_REG_CS + 1, "08000000", "segment selectors are read-only" },
		{ NUB_GDB_REG_CS + 4, "28000100", "segment selectors are read-only" },
		{ NUB_GDB_REG_FCTRL, "00000100", "value above 0xffff" },
		{ NUB_GDB_REG_FSTAT, "ffffffff", "value above 0xffff" },
		{ NUB_GDB_REG_FTAG, "00000100", "value above 0xffff" },
		{ NUB_GDB_REG_FOP, "00080000", "opcode above 0x7ff" },
		{ NUB_GDB_REG_MXCSR, "801f0100", "reserved bits 16..31 set" },
	};
	struct nub_vcpu_state v, w;
	struct nub_error err;

	(void)state;
	sample_state(&v);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		w = v;
		assert_int_equal(set(&w, refused[i].r, refused[i].hex, &err), NUB_E_INVALID);
		nub_assert_error(&err, NUB_E_INVALID, refused[i].why);
		assert_non_null(strstr(err.message, nub_gdb_reg_name(refused[i].r)));
		assert_memory_equal(&w, &v, sizeof v);
	}
	/* The accepted edges. */
	w = v;
	assert_int_equal(set(&w, NUB_GDB_REG_EFLAGS, "d77f3d00", &err), NUB_OK); /* legal bits */
	assert_int_equal(w.rflags, 0x3d7fd7);
	assert_int_equal(set(&w, NUB_GDB_REG_RIP, "ffffffffff7f0000", &err), NUB_OK);
	assert_true(w.rip == UINT64_C(0x00007fffffffffff));
	assert_int_equal(set(&w, NUB_GDB_REG_RIP, "000000000080ffff", &err), NUB_OK);
	assert_true(w.rip == UINT64_C(0xffff800000000000));
	assert_int_equal(set(&w, NUB_GDB_REG_CS + 4, "28000000", &err), NUB_OK); /* unchanged */
	assert_int_equal(set(&w, NUB_GDB_REG_FCTRL, "ffff0000", &err), NUB_OK);
	assert_int_equal(get_u16(&w, 128), 0xffff);
	assert_int_equal(set(&w, NUB_GDB_REG_MXCSR, "ffff0000", &err), NUB_OK);
	/* fiseg/fioff and foseg/fooff are the two halves of the 64-bit pointers. */
	w = v;
	assert_int_equal(set(&w, NUB_GDB_REG_FISEG, "efbeadde", &err), NUB_OK);
	assert_true(get_u64(&w, 136) == UINT64_C(0xdeadbeef55667788));
	assert_int_equal(set(&w, NUB_GDB_REG_FIOFF, "04030201", &err), NUB_OK);
	assert_true(get_u64(&w, 136) == UINT64_C(0xdeadbeef01020304));
	assert_int_equal(set(&w, NUB_GDB_REG_FOSEG, "00000000", &err), NUB_OK);
	assert_int_equal(set(&w, NUB_GDB_REG_FOOFF, "ffffffff", &err), NUB_OK);
	assert_true(get_u64(&w, 144) == UINT64_C(0xffffffff));
	/* ftag writes the abridged tag; the full word read back is rebuilt from the contents. */
	assert_int_equal(set(&w, NUB_GDB_REG_FTAG, "fcff0000", &err), NUB_OK); /* physical 0 */
	assert_int_equal(w.fpu[132], 0x01);
	assert_int_equal(set(&w, NUB_GDB_REG_FTAG, "0000ffff", &err), NUB_E_INVALID);
	assert_int_equal(set(&w, NUB_GDB_REG_FTAG, "ff0f0000", &err), NUB_OK);
	assert_int_equal(w.fpu[132], 0xc0);
	assert_int_equal(nub_gdb_ftag_full(&w), 0x4fff);
}

static void test_ftag(void **state)
{
	struct nub_vcpu_state v;

	(void)state;
	memset(&v, 0, sizeof v);
	/* Nothing in use: all empty. */
	assert_int_equal(nub_gdb_ftag_full(&v), 0xffff);
	/* Every physical register in use, TOP = 0, so slot j is physical j. */
	v.fpu[132] = 0xff;
	set_st(&v, 0, UINT64_C(0x8000000000000000), 0x3fff); /* 1.0: valid 00 */
	set_st(&v, 1, 0, 0x8000);                            /* -0: zero 01 */
	set_st(&v, 2, 1, 0);                                 /* denormal: special 10 */
	set_st(&v, 3, UINT64_C(0x8000000000000000), 0);      /* pseudo-denormal: special */
	set_st(&v, 4, UINT64_C(0x8000000000000000), 0x7fff); /* infinity: special */
	set_st(&v, 5, UINT64_C(0xc000000000000000), 0xffff); /* NaN: special */
	set_st(&v, 6, UINT64_C(0x4000000000000000), 0x3fff); /* unnormal: special */
	set_st(&v, 7, UINT64_C(0xffffffffffffffff), 0xc00f); /* valid */
	assert_int_equal(nub_gdb_ftag_full(&v), 0x2aa4);
	/* TOP rotates physical registers against slots: physical i is slot (i - TOP) & 7. */
	set_u16(&v, 130, 3u << 11);
	v.fpu[132] = 0x08; /* physical 3 = slot 0 = 1.0 */
	assert_int_equal(nub_gdb_ftag_full(&v), 0xff3f);
	v.fpu[132] = 0x10; /* physical 4 = slot 1 = -0 */
	assert_int_equal(nub_gdb_ftag_full(&v), 0xfdff);
	v.fpu[132] = 0x04; /* physical 2 = slot 7 = valid */
	assert_int_equal(nub_gdb_ftag_full(&v), 0xffcf);
	/* Other FSW bits do not disturb TOP. */
	set_u16(&v, 130, (uint16_t)(3u << 11 | 0xc7ff));
	assert_int_equal(nub_gdb_ftag_full(&v), 0xffcf);
	/* Full to abridged, and the round trip for every abridged value. */
	assert_int_equal(nub_gdb_ftag_abridged(0xffff), 0x00);
	assert_int_equal(nub_gdb_ftag_abridged(0x0000), 0xff);
	assert_int_equal(nub_gdb_ftag_abridged(0x5555), 0xff);
	assert_int_equal(nub_gdb_ftag_abridged(0xaaaa), 0xff);
	assert_int_equal(nub_gdb_ftag_abridged(0x3fff), 0x80);
	assert_int_equal(nub_gdb_ftag_abridged(0xfffc), 0x01);
	assert_int_equal(nub_gdb_ftag_abridged(0xfff7), 0x02);
	for (unsigned t = 0; t < 256; t++) {
		v.fpu[132] = (uint8_t)t;
		assert_int_equal(nub_gdb_ftag_abridged(nub_gdb_ftag_full(&v)), t);
	}
}

/* ---- stop replies ---- */

static void expect_stop(enum nub_gdb_stop_kind kind, uint8_t sig, uint64_t addr, const char *want)
{
	struct nub_gdb_stop stop = { .kind = kind, .signal = sig, .addr = addr };
	uint8_t buf[64];
	size_t n = 0;

	assert_int_equal(nub_gdb_stop_reply(&stop, buf, sizeof buf, &n), NUB_OK);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	/* Exactly enough room, then one byte less. */
	assert_int_equal(nub_gdb_stop_reply(&stop, buf, n, &n), NUB_OK);
	assert_int_equal(nub_gdb_stop_reply(&stop, buf, n - 1, &n), NUB_E_LAYOUT);
}

static void test_stop_reply(void **state)
{
	struct nub_gdb_stop stop = { .kind = (enum nub_gdb_stop_kind)99 };
	uint8_t buf[64];
	size_t n;

	(void)state;
	expect_stop(NUB_GDB_STOP_SIGNAL, NUB_GDB_SIGSEGV, 0, "S0b");
	expect_stop(NUB_GDB_STOP_SIGNAL, NUB_GDB_SIGINT, 0, "S02");
	expect_stop(NUB_GDB_STOP_SIGNAL, 0xff, 0, "Sff");
	expect_stop(NUB_GDB_STOP_SWBREAK, NUB_GDB_SIGTRAP, 0, "T05swbreak:;");
	expect_stop(NUB_GDB_STOP_HWBREAK, NUB_GDB_SIGTRAP, 0, "T05hwbreak:;");
	expect_stop(NUB_GDB_STOP_WATCH, NUB_GDB_SIGTRAP, 0x10040, "T05watch:10040;");
	expect_stop(NUB_GDB_STOP_RWATCH, NUB_GDB_SIGTRAP, 0, "T05rwatch:0;");
	expect_stop(NUB_GDB_STOP_AWATCH, NUB_GDB_SIGTRAP, UINT64_MAX,
		    "T05awatch:ffffffffffffffff;");
	assert_int_equal(nub_gdb_stop_reply(&stop, buf, sizeof buf, &n), NUB_E_INVALID);
	stop.kind = NUB_GDB_STOP_SIGNAL;
	assert_int_equal(nub_gdb_stop_reply(&stop, NULL, 4, &n), NUB_E_INVALID);
	assert_int_equal(nub_gdb_stop_reply(NULL, buf, sizeof buf, &n), NUB_E_INVALID);
	/* The advertised replies are what the header says, and fit one packet. */
	assert_string_equal(NUB_GDB_QSUPPORTED_REPLY,
			    "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+");
	assert_int_equal(NUB_GDB_PACKET_MAX, 0x4000);
	assert_string_equal(NUB_GDB_VCONT_REPLY, "vCont;c;C;s;S");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rx_packet),
	cmocka_unit_test(test_rx_between_packets),
	cmocka_unit_test(test_rx_interrupt),
	cmocka_unit_test(test_rx_escapes),
	cmocka_unit_test(test_rx_rle),
	cmocka_unit_test(test_rx_rle_invalid),
	cmocka_unit_test(test_rx_rle_overflow),
	cmocka_unit_test(test_rx_overflow),
	cmocka_unit_test(test_rx_checksum),
	cmocka_unit_test(test_rx_restart),
	cmocka_unit_test(test_frame),
	cmocka_unit_test(test_frame_capacity),
	cmocka_unit_test(test_hex_u64),
	cmocka_unit_test(test_hex_bytes),
	cmocka_unit_test(test_parse_plain),
	cmocka_unit_test(test_parse_unsupported),
	cmocka_unit_test(test_parse_qsupported),
	cmocka_unit_test(test_parse_qxfer),
	cmocka_unit_test(test_parse_process),
	cmocka_unit_test(test_parse_threads),
	cmocka_unit_test(test_parse_registers),
	cmocka_unit_test(test_parse_memory),
	cmocka_unit_test(test_parse_resume),
	cmocka_unit_test(test_parse_vcont),
	cmocka_unit_test(test_parse_breakpoints),
	cmocka_unit_test(test_target_xml),
	cmocka_unit_test(test_qxfer_slicing),
	cmocka_unit_test(test_qxfer_target_xml),
	cmocka_unit_test(test_reg_sizes),
	cmocka_unit_test(test_regs_encode),
	cmocka_unit_test(test_regs_round_trip),
	cmocka_unit_test(test_reg_get_set),
	cmocka_unit_test(test_reg_set_refusals),
	cmocka_unit_test(test_ftag),
	cmocka_unit_test(test_stop_reply),
};

NUB_TEST_SUITE(tests);
