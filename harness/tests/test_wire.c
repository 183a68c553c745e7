/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of request, response and log frame encoding and decoding (wire.c). */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "testlib.h"
#include "wire.h"

static uint8_t frame[256];

static size_t encode_request(uint32_t fn_id, const char *payload)
{
	struct nub_error err;
	size_t n = 0;

	assert_int_equal(nub_wire_encode_request(frame, sizeof frame, fn_id,
						 (const uint8_t *)payload, strlen(payload), &n,
						 &err),
			 NUB_OK);
	return n;
}

static size_t encode_response(uint32_t status, const char *payload, const char *msg)
{
	struct nub_error err;
	size_t n = 0;

	assert_int_equal(nub_wire_encode_response(frame, sizeof frame, status,
						  (const uint8_t *)payload, strlen(payload), msg,
						  strlen(msg), &n, &err),
			 NUB_OK);
	return n;
}

static size_t encode_log(uint32_t level, uint32_t line, const char *file, const char *msg)
{
	struct nub_error err;
	size_t n = 0;

	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, level, line, file, strlen(file),
					     msg, strlen(msg), &n, &err),
			 NUB_OK);
	return n;
}

/* ---- round trips ---- */

static void test_request_round_trip(void **state)
{
	static const uint8_t expect[] = { 0xef, 0xbe, 0xad, 0xde, 3, 0, 0, 0, 'a', 'b', 'c' };
	struct nub_request_view v;
	struct nub_error err;
	size_t n;

	(void)state;
	n = encode_request(0xdeadbeef, "abc");
	assert_int_equal(n, sizeof expect);
	assert_memory_equal(frame, expect, sizeof expect);
	assert_int_equal(nub_wire_decode_request(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.fn_id, 0xdeadbeef);
	assert_int_equal(v.payload_len, 3);
	assert_ptr_equal(v.payload, frame + 8);

	n = encode_request(0, "");
	assert_int_equal(n, 8);
	assert_int_equal(nub_wire_decode_request(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.fn_id, 0);
	assert_int_equal(v.payload_len, 0);
}

static void test_response_round_trip(void **state)
{
	static const uint8_t expect[] = { 5, 0, 0, 0,   2,   0,   0,   0,  3,
					  0, 0, 0, 'o', 'k', 'b', 'a', 'd' };
	struct nub_response_view v;
	struct nub_error err;
	size_t n;

	(void)state;
	n = encode_response(5, "ok", "bad");
	assert_int_equal(n, sizeof expect);
	assert_memory_equal(frame, expect, sizeof expect);
	assert_int_equal(nub_wire_decode_response(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.status, 5);
	assert_int_equal(v.payload_len, 2);
	assert_ptr_equal(v.payload, frame + 12);
	assert_int_equal(v.msg_len, 3);
	assert_memory_equal(v.msg, "bad", 3);

	n = encode_response(0, "", "");
	assert_int_equal(n, 12);
	assert_int_equal(nub_wire_decode_response(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.status, 0);
	assert_int_equal(v.payload_len, 0);
	assert_int_equal(v.msg_len, 0);

	n = encode_response(UINT32_MAX, "", "only a message");
	assert_int_equal(nub_wire_decode_response(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.status, UINT32_MAX);
	assert_int_equal(v.msg_len, 14);
	assert_memory_equal(v.msg, "only a message", 14);
}

static void test_log_round_trip(void **state)
{
	static const uint8_t expect[] = { 3, 0, 0, 0, 0x2a, 1,   0,   0,   3,   0,  0,
					  0, 2, 0, 0, 0,    'a', '.', 'c', 'h', 'i' };
	struct nub_log_view v;
	struct nub_error err;
	size_t n;

	(void)state;
	n = encode_log(NUB_LEVEL_INFO, 0x12a, "a.c", "hi");
	assert_int_equal(n, sizeof expect);
	assert_memory_equal(frame, expect, sizeof expect);
	assert_int_equal(nub_wire_decode_log(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.level, NUB_LEVEL_INFO);
	assert_int_equal(v.line, 0x12a);
	assert_int_equal(v.file_len, 3);
	assert_memory_equal(v.file, "a.c", 3);
	assert_int_equal(v.msg_len, 2);
	assert_memory_equal(v.msg, "hi", 2);

	n = encode_log(NUB_LEVEL_ERROR, 0, "", "");
	assert_int_equal(nub_wire_decode_log(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.level, NUB_LEVEL_ERROR);
	n = encode_log(NUB_LEVEL_TRACE, UINT32_MAX, "f", "");
	assert_int_equal(nub_wire_decode_log(frame, n, &v, &err), NUB_OK);
	assert_int_equal(v.level, NUB_LEVEL_TRACE);
	assert_int_equal(v.line, UINT32_MAX);
}

/* ---- truncation and trailing bytes ---- */

typedef enum nub_status (*decode_fn)(const uint8_t *buf, size_t len, struct nub_error *err);

static enum nub_status dec_request(const uint8_t *buf, size_t len, struct nub_error *err)
{
	struct nub_request_view v;

	return nub_wire_decode_request(buf, len, &v, err);
}

static enum nub_status dec_response(const uint8_t *buf, size_t len, struct nub_error *err)
{
	struct nub_response_view v;

	return nub_wire_decode_response(buf, len, &v, err);
}

static enum nub_status dec_log(const uint8_t *buf, size_t len, struct nub_error *err)
{
	struct nub_log_view v;

	return nub_wire_decode_log(buf, len, &v, err);
}

/* Every strict prefix of a valid frame is refused, and so is the frame with one byte more. */
static void check_every_truncation(decode_fn dec, size_t n, size_t header, const char *frame_name)
{
	struct nub_error err;

	assert_int_equal(dec(frame, n, &err), NUB_OK);
	for (size_t len = 0; len < n; len++) {
		assert_int_equal(dec(frame, len, &err), NUB_E_PROTOCOL);
		nub_assert_error(&err, NUB_E_PROTOCOL, frame_name);
		if (len < header)
			nub_assert_error(&err, NUB_E_PROTOCOL, "is shorter than the");
		else
			nub_assert_error(&err, NUB_E_PROTOCOL, "exceeds the");
	}
	frame[n] = 0;
	assert_int_equal(dec(frame, n + 1, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "1 trailing bytes after");
}

static void test_every_truncation(void **state)
{
	struct nub_error err;

	(void)state;
	check_every_truncation(dec_request, encode_request(7, "payload"), 8, "request frame: ");
	check_every_truncation(dec_response, encode_response(0, "pay", "message"), 12,
			       "response frame: ");
	check_every_truncation(dec_log, encode_log(2, 10, "main.c", "text"), 16, "log frame: ");

	assert_int_equal(dec_response(frame, 5, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "response frame: 5 bytes is shorter than the 12-byte header");
	assert_int_equal(dec_request(NULL, 0, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "request frame: 0 bytes is shorter than the 8-byte header");
}

static void test_trailing_bytes(void **state)
{
	struct nub_error err;
	size_t n;

	(void)state;
	n = encode_request(1, "ab");
	assert_int_equal(dec_request(frame, n + 3, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "request frame: 3 trailing bytes after payload_len 2");
	n = encode_response(1, "ab", "c");
	assert_int_equal(dec_response(frame, n + 2, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "response frame: 2 trailing bytes after payload_len 2 and msg_len 1");
	n = encode_log(1, 1, "f", "m");
	assert_int_equal(dec_log(frame, n + 1, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "log frame: 1 trailing bytes after file_len 1 and msg_len 1");
}

/* ---- hostile lengths ---- */

static void test_lengths_overflow(void **state)
{
	struct nub_error err;

	(void)state;
	memset(frame, 0, sizeof frame);
	/* request: payload_len far beyond the frame */
	nub_put_le32(frame + 4, UINT32_MAX);
	assert_int_equal(dec_request(frame, 20, &err), NUB_E_PROTOCOL);
	nub_assert_error(
		&err, NUB_E_PROTOCOL,
		"request frame: payload_len 4294967295 exceeds the 12 bytes after the header");

	/* response: u32 sums that wrap (0xffffffff + 2 = 1, 0x80000000 * 2 = 0) */
	nub_put_le32(frame + 4, UINT32_MAX);
	nub_put_le32(frame + 8, 2);
	assert_int_equal(dec_response(frame, 12 + 1, &err), NUB_E_PROTOCOL);
	nub_assert_error(
		&err, NUB_E_PROTOCOL,
		"response frame: payload_len 4294967295 exceeds the 1 bytes after the header");
	nub_put_le32(frame + 4, 0x80000000u);
	nub_put_le32(frame + 8, 0x80000000u);
	assert_int_equal(dec_response(frame, 12, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "payload_len 2147483648 exceeds the 0 bytes");
	nub_put_le32(frame + 4, 1);
	nub_put_le32(frame + 8, UINT32_MAX);
	assert_int_equal(dec_response(frame, 12 + 2, &err), NUB_E_PROTOCOL);
	nub_assert_error(
		&err, NUB_E_PROTOCOL,
		"response frame: msg_len 4294967295 exceeds the 1 bytes after the payload");
	nub_put_le32(frame + 4, 70000);
	nub_put_le32(frame + 8, 0);
	assert_int_equal(dec_response(frame, 32, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "response frame: payload_len 70000 exceeds the 20 bytes after the header");

	/* log: file_len + msg_len wrapping to the real remainder */
	memset(frame, 0, sizeof frame);
	nub_put_le32(frame, NUB_LEVEL_WARN);
	nub_put_le32(frame + 8, 3);
	nub_put_le32(frame + 12, UINT32_MAX - 2); /* 3 + (2^32 - 3) = 0 in u32 */
	assert_int_equal(dec_log(frame, 16, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "log frame: file_len 3 exceeds the 0 bytes");
	assert_int_equal(dec_log(frame, 16 + 3, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "log frame: msg_len 4294967293 exceeds the 0 bytes after the file name");
	nub_put_le32(frame + 8, UINT32_MAX);
	nub_put_le32(frame + 12, 5);
	assert_int_equal(dec_log(frame, 16 + 4, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "log frame: file_len 4294967295 exceeds the 4 bytes");
}

static void test_log_levels(void **state)
{
	struct nub_error err;
	size_t n;

	(void)state;
	n = encode_log(0, 1, "f", "m");
	assert_int_equal(dec_log(frame, n, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "log frame: level 0 is not 1..5");
	n = encode_log(6, 1, "f", "m");
	assert_int_equal(dec_log(frame, n, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "log frame: level 6 is not 1..5");
	n = encode_log(UINT32_MAX, 1, "f", "m");
	assert_int_equal(dec_log(frame, n, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "log frame: level 4294967295 is not 1..5");
	for (uint32_t level = 1; level <= 5; level++) {
		n = encode_log(level, 1, "f", "m");
		assert_int_equal(dec_log(frame, n, &err), NUB_OK);
	}
}

static void test_decode_leaves_view_on_failure(void **state)
{
	struct nub_response_view v, before;
	struct nub_error err;

	(void)state;
	memset(&v, 0x77, sizeof v);
	before = v;
	encode_response(0, "ab", "cd");
	assert_int_equal(nub_wire_decode_response(frame, 15, &v, &err), NUB_E_PROTOCOL);
	assert_memory_equal(&v, &before, sizeof v);
	assert_int_equal(nub_wire_decode_response(frame, 16, NULL, &err), NUB_E_INVALID);
	assert_int_equal(nub_wire_decode_request(NULL, 8, NULL, &err), NUB_E_INVALID);
	assert_int_equal(dec_log(NULL, 20, &err), NUB_E_INVALID);
	struct nub_log_view lv;
	size_t n;
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, 1, 2, "f", 1, "m", 1, &n, &err),
			 NUB_OK);
	assert_int_equal(nub_wire_decode_log(frame, n, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "log frame: NULL output");
	assert_int_equal(nub_wire_decode_log(frame, n, &lv, &err), NUB_OK);
}

/* ---- encoder capacity ---- */

static void test_encode_capacity(void **state)
{
	struct nub_error err;
	size_t n = 0xbad;

	(void)state;
	assert_int_equal(nub_wire_encode_request(frame, 10, 1, (const uint8_t *)"abc", 3, &n, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "request frame of 11 bytes does not fit the 10-byte buffer");
	assert_int_equal(n, 0xbad);
	assert_int_equal(nub_wire_encode_request(frame, 11, 1, (const uint8_t *)"abc", 3, &n, &err),
			 NUB_OK);
	assert_int_equal(n, 11);
	assert_int_equal(nub_wire_encode_request(NULL, 0, 1, NULL, 0, &n, &err), NUB_E_LAYOUT);

	assert_int_equal(nub_wire_encode_response(frame, 16, 0, (const uint8_t *)"ab", 2, "cde", 3,
						  &n, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "response frame of 17 bytes does not fit the 16-byte buffer");
	assert_int_equal(nub_wire_encode_response(frame, 17, 0, (const uint8_t *)"ab", 2, "cde", 3,
						  &n, &err),
			 NUB_OK);
	assert_int_equal(n, 17);

	assert_int_equal(nub_wire_encode_log(frame, 19, 1, 2, "ab", 2, "cd", 2, &n, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "log frame of 20 bytes does not fit the 19-byte buffer");
	assert_int_equal(nub_wire_encode_log(frame, 20, 1, 2, "ab", 2, "cd", 2, &n, &err), NUB_OK);
	assert_int_equal(n, 20);
}

static void test_encode_length_limits(void **state)
{
	struct nub_error err;
	size_t n = 0xbad;
	size_t huge = (size_t)UINT32_MAX + 1;

	(void)state;
	/* Lengths are checked before any byte is read, so a short source is safe here. */
	assert_int_equal(nub_wire_encode_request(frame, SIZE_MAX, 1, (const uint8_t *)"x", huge, &n,
						 &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "request frame: payload_len 4294967296 exceeds UINT32_MAX");
	assert_int_equal(nub_wire_encode_response(frame, SIZE_MAX, 0, (const uint8_t *)"x", 1, "m",
						  huge, &n, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "response frame: msg_len 4294967296 exceeds UINT32_MAX");
	assert_int_equal(nub_wire_encode_log(frame, SIZE_MAX, 1, 0, "f", huge, "m", 1, &n, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "log frame: file_len 4294967296 exceeds UINT32_MAX");
	/* Two maximal u32 lengths: the total is computed without wrapping. */
	assert_int_equal(nub_wire_encode_response(frame, sizeof frame, 0, (const uint8_t *)"x",
						  UINT32_MAX, "m", UINT32_MAX, &n, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "response frame of 8589934602 bytes does not fit");
	assert_int_equal(n, 0xbad);

	assert_int_equal(nub_wire_encode_request(frame, sizeof frame, 1, NULL, 1, &n, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_wire_encode_response(frame, sizeof frame, 1, NULL, 0, NULL, 1, &n,
						  &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, 1, 1, NULL, 1, "m", 1, &n, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, 1, 1, "f", 1, "m", 1, NULL, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, 1, 1, "f", 1, NULL, 1, &n, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "log frame: NULL file or message");
	/* NULL pointers with zero lengths are empty fields. */
	assert_int_equal(nub_wire_encode_response(frame, sizeof frame, 7, NULL, 0, NULL, 0, &n,
						  &err),
			 NUB_OK);
	assert_int_equal(n, 12);
	assert_int_equal(nub_wire_encode_response(frame, sizeof frame, 7, NULL, 1, "m", 1, &n,
						  &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "response frame: NULL payload or message");
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, 1, 1, NULL, 0, NULL, 0, &n, &err),
			 NUB_OK);
	assert_int_equal(n, 16);
	n = 0xbad;
	/* A NULL destination with a non-zero capacity is a caller bug, not a full buffer. */
	assert_int_equal(nub_wire_encode_request(NULL, 64, 1, (const uint8_t *)"x", 1, &n, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "request frame: NULL output");
	assert_int_equal(n, 0xbad);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_request_round_trip),
	cmocka_unit_test(test_response_round_trip),
	cmocka_unit_test(test_log_round_trip),
	cmocka_unit_test(test_every_truncation),
	cmocka_unit_test(test_trailing_bytes),
	cmocka_unit_test(test_lengths_overflow),
	cmocka_unit_test(test_log_levels),
	cmocka_unit_test(test_decode_leaves_view_on_failure),
	cmocka_unit_test(test_encode_capacity),
	cmocka_unit_test(test_encode_length_limits),
};

NUB_TEST_SUITE(tests);
