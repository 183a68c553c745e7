/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the I/O buffer stack protocol (iobuf.c) against hostile stack and back-pointers. */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "iobuf.h"
#include "testlib.h"

#define SIZE 0x100u

struct fixture {
	_Alignas(8) uint8_t mem[SIZE];
	uint8_t dst[SIZE];
};

static struct fixture fx;

static volatile uint8_t *vbuf(void)
{
	return fx.mem;
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0xAA, sizeof fx);
	nub_iobuf_reset(vbuf(), SIZE);
	return 0;
}

static void set_sp(uint64_t sp)
{
	nub_put_le64(fx.mem, sp);
}

static void test_reset(void **state)
{
	(void)state;
	assert_int_equal(nub_iobuf_sp(vbuf()), NUB_IOBUF_SP_INIT);
	for (unsigned i = 8; i < SIZE; i++)
		assert_int_equal(fx.mem[i], 0);
	assert_int_equal(nub_le64(fx.mem), 8);
}

/* Reset ignores a NULL buffer and one too small for a stack pointer; size 8 only sets sp. */
static void test_reset_edge_sizes(void **state)
{
	(void)state;
	memset(fx.mem, 0xAA, sizeof fx.mem);
	struct fixture before = fx;
	nub_iobuf_reset(NULL, SIZE);
	nub_iobuf_reset(vbuf(), NUB_IOBUF_SP_INIT - 1);
	assert_memory_equal(&fx, &before, sizeof fx);
	nub_iobuf_reset(vbuf(), NUB_IOBUF_SP_INIT);
	assert_int_equal(nub_iobuf_sp(vbuf()), NUB_IOBUF_SP_INIT);
	assert_memory_equal(fx.mem + 8, before.mem + 8, SIZE - 8);
}

static void push_ok(const void *data, uint64_t len)
{
	struct nub_error err;

	assert_int_equal(nub_iobuf_push(vbuf(), SIZE, data, len, &err), NUB_OK);
}

static uint64_t pop_ok(void)
{
	struct nub_error err;
	uint64_t len = 0xdead;

	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, fx.dst, sizeof fx.dst, &len, "output", &err),
			 NUB_OK);
	return len;
}

static void test_round_trip(void **state)
{
	uint8_t big[100];

	(void)state;
	for (unsigned i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 3 + 1);
	push_ok("hello", 5);
	assert_int_equal(nub_iobuf_sp(vbuf()), 8 + 5 + 8);
	assert_memory_equal(fx.mem + 8, "hello", 5);
	assert_int_equal(nub_le64(fx.mem + 13), 8); /* back-pointer, unaligned */
	push_ok(NULL, 0);
	assert_int_equal(nub_iobuf_sp(vbuf()), 29);
	push_ok("abc", 3);
	push_ok(big, sizeof big); /* starts unaligned: word copy with head and tail bytes */
	assert_int_equal(nub_iobuf_sp(vbuf()), 29 + 11 + 108);

	assert_int_equal(pop_ok(), sizeof big);
	assert_memory_equal(fx.dst, big, sizeof big);
	assert_int_equal(pop_ok(), 3);
	assert_memory_equal(fx.dst, "abc", 3);
	assert_int_equal(pop_ok(), 0);
	assert_int_equal(pop_ok(), 5);
	assert_memory_equal(fx.dst, "hello", 5);
	assert_int_equal(nub_iobuf_sp(vbuf()), 8);
	for (unsigned i = 8; i < SIZE; i++) /* every pop zeroed what it removed */
		assert_int_equal(fx.mem[i], 0);
}

static void test_empty_element(void **state)
{
	(void)state;
	push_ok(NULL, 0);
	assert_int_equal(nub_iobuf_sp(vbuf()), 16);
	assert_int_equal(nub_le64(fx.mem + 8), 8);
	assert_int_equal(pop_ok(), 0);
	assert_int_equal(nub_iobuf_sp(vbuf()), 8);
	assert_int_equal(nub_le64(fx.mem + 8), 0);
}

/* A failed pop must leave the buffer, the destination and *len exactly as they were. */
static void assert_pop_fails(uint64_t cap, const char *needle)
{
	struct fixture before = fx;
	struct nub_error err;
	uint64_t len = 0x1234;

	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, fx.dst, cap, &len, "output", &err),
			 NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, needle);
	assert_memory_equal(&fx, &before, sizeof fx);
	assert_int_equal(len, 0x1234);
}

static void test_pop_hostile_sp(void **state)
{
	(void)state;
	push_ok("xy", 2);
	set_sp(0);
	assert_pop_fails(SIZE, "output buffer stack pointer 0x0 is outside 16..0x100");
	set_sp(8); /* empty */
	assert_pop_fails(SIZE, "output buffer stack pointer 0x8 is outside 16..0x100");
	set_sp(15);
	assert_pop_fails(SIZE, "output buffer stack pointer 0xf is outside 16..0x100");
	set_sp(SIZE + 1);
	assert_pop_fails(SIZE, "output buffer stack pointer 0x101 is outside 16..0x100");
	set_sp(UINT64_MAX);
	assert_pop_fails(SIZE,
			 "output buffer stack pointer 0xffffffffffffffff is outside 16..0x100");
	set_sp(0xfffffff0);
	assert_pop_fails(SIZE, "output buffer stack pointer 0xfffffff0 is outside 16..0x100");
}

static void test_pop_sp_at_size(void **state)
{
	struct nub_error err;
	uint64_t len;

	(void)state;
	/* sp == size is legal: an element ending exactly at the end of the buffer. */
	nub_put_le64(fx.mem + SIZE - 8, SIZE - 8 - 4);
	memcpy(fx.mem + SIZE - 12, "tail", 4);
	set_sp(SIZE);
	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, fx.dst, SIZE, &len, "output", &err), NUB_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(fx.dst, "tail", 4);
	assert_int_equal(nub_iobuf_sp(vbuf()), SIZE - 12);
}

static void test_pop_hostile_back(void **state)
{
	(void)state;
	set_sp(0x40);
	nub_put_le64(fx.mem + 0x38, 0);
	assert_pop_fails(SIZE, "output buffer back-pointer 0x0 is outside 8..0x38 (sp 0x40)");
	nub_put_le64(fx.mem + 0x38, 7);
	assert_pop_fails(SIZE, "output buffer back-pointer 0x7 is outside 8..0x38 (sp 0x40)");
	nub_put_le64(fx.mem + 0x38, 0x40 - 7);
	assert_pop_fails(SIZE, "output buffer back-pointer 0x39 is outside 8..0x38 (sp 0x40)");
	nub_put_le64(fx.mem + 0x38, 0x40);
	assert_pop_fails(SIZE, "output buffer back-pointer 0x40 is outside 8..0x38 (sp 0x40)");
	nub_put_le64(fx.mem + 0x38, 0x900);
	assert_pop_fails(SIZE, "output buffer back-pointer 0x900 is outside 8..0x38 (sp 0x40)");
	nub_put_le64(fx.mem + 0x38, UINT64_MAX);
	assert_pop_fails(SIZE, "output buffer back-pointer 0xffffffffffffffff is outside 8..0x38");

	/* The two legal extremes. */
	nub_put_le64(fx.mem + 0x38, 0x38);
	assert_int_equal(pop_ok(), 0);
	assert_int_equal(nub_iobuf_sp(vbuf()), 0x38);
	set_sp(0x40);
	nub_put_le64(fx.mem + 0x38, 8);
	assert_int_equal(pop_ok(), 0x30);
	assert_int_equal(nub_iobuf_sp(vbuf()), 8);
}

static void test_pop_unaligned_sp(void **state)
{
	(void)state;
	/* sp % 8 != 0 is allowed; the back-pointer is then unaligned. */
	set_sp(0x23);
	nub_put_le64(fx.mem + 0x1b, 0x11);
	memset(fx.mem + 0x11, 'q', 10);
	assert_int_equal(pop_ok(), 10);
	assert_memory_equal(fx.dst, "qqqqqqqqqq", 10);
	assert_int_equal(nub_iobuf_sp(vbuf()), 0x11);
	nub_put_le64(fx.mem + 0x9, 0x7);
	assert_pop_fails(SIZE, "output buffer back-pointer 0x7 is outside 8..0x9 (sp 0x11)");
}

static void test_pop_copies_then_zeroes(void **state)
{
	uint8_t below[32];

	(void)state;
	push_ok("keep me below the popped element", 32);
	memcpy(below, fx.mem + 8, sizeof below);
	push_ok("popped", 6);
	memset(fx.dst, 0xEE, sizeof fx.dst);
	assert_int_equal(pop_ok(), 6);
	assert_memory_equal(fx.dst, "popped", 6);
	assert_int_equal(fx.dst[6], 0xEE); /* nothing copied past the element */
	for (unsigned i = 48; i < 48 + 14; i++)
		assert_int_equal(fx.mem[i], 0);
	assert_memory_equal(fx.mem + 8, below, sizeof below);
	assert_int_equal(nub_le64(fx.mem + 40), 8); /* back-pointer below still intact */
	assert_int_equal(nub_iobuf_sp(vbuf()), 48);
}

static void test_pop_destination_too_small(void **state)
{
	(void)state;
	push_ok("0123456789", 10);
	assert_pop_fails(9, "output buffer element of 0xa bytes exceeds the 0x9 bytes");
	assert_int_equal(pop_ok(), 10);
}

static void test_pop_bad_arguments(void **state)
{
	struct nub_error err;
	uint64_t len;

	(void)state;
	push_ok("a", 1);
	assert_int_equal(nub_iobuf_pop(vbuf(), 8, fx.dst, SIZE, &len, "output", &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_iobuf_pop(NULL, SIZE, fx.dst, SIZE, &len, "output", &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, fx.dst, SIZE, NULL, "output", &err),
			 NUB_E_INVALID);
	/* Without a destination only an empty element can be popped. */
	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, NULL, 0, &len, "output", &err),
			 NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL,
			 "output buffer element of 0x1 bytes exceeds the 0x0 bytes available");
	assert_int_equal(nub_iobuf_sp(vbuf()), 8 + 1 + 8);
	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, NULL, SIZE, &len, "output", &err),
			 NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "exceeds the 0x0 bytes available");
	assert_int_equal(pop_ok(), 1);
	push_ok(NULL, 0);
	len = 99;
	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, NULL, 0, &len, "output", &err), NUB_OK);
	assert_int_equal(len, 0);
	assert_int_equal(nub_iobuf_sp(vbuf()), 8);
	/* A NULL name still gives a message. */
	set_sp(3);
	assert_int_equal(nub_iobuf_pop(vbuf(), SIZE, fx.dst, SIZE, &len, NULL, &err),
			 NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "buffer stack pointer 0x3");
}

static void assert_push_fails(const void *data, uint64_t len, enum nub_status st,
			      const char *needle)
{
	struct fixture before = fx;
	struct nub_error err;

	assert_int_equal(nub_iobuf_push(vbuf(), SIZE, data, len, &err), st);
	nub_assert_error(&err, st, needle);
	assert_memory_equal(&fx, &before, sizeof fx);
}

static void test_push_full(void **state)
{
	static const uint8_t data[SIZE];

	(void)state;
	assert_push_fails(data, SIZE - 15, NUB_E_LAYOUT,
			  "input buffer full: element needs 0xf9 bytes, 0xf8 free");
	push_ok(data, SIZE - 16); /* exactly fills the buffer */
	assert_int_equal(nub_iobuf_sp(vbuf()), SIZE);
	assert_push_fails(NULL, 0, NUB_E_LAYOUT,
			  "input buffer full: element needs 0x8 bytes, 0x0 free");
	set_sp(SIZE - 4);
	assert_push_fails(NULL, 0, NUB_E_LAYOUT,
			  "input buffer full: element needs 0x8 bytes, 0x4 free");
	set_sp(8);
	assert_push_fails(data, UINT64_MAX - 3, NUB_E_LAYOUT,
			  "element needs 0xffffffffffffffff bytes, 0xf8 free");
}

static void test_push_corrupt_sp(void **state)
{
	(void)state;
	set_sp(0);
	assert_push_fails("x", 1, NUB_E_PROTOCOL,
			  "input buffer stack pointer 0x0 is outside 8..0x100");
	set_sp(7);
	assert_push_fails("x", 1, NUB_E_PROTOCOL,
			  "input buffer stack pointer 0x7 is outside 8..0x100");
	set_sp(SIZE + 1);
	assert_push_fails("x", 1, NUB_E_PROTOCOL,
			  "input buffer stack pointer 0x101 is outside 8..0x100");
	set_sp(UINT64_MAX);
	assert_push_fails("x", 1, NUB_E_PROTOCOL,
			  "input buffer stack pointer 0xffffffffffffffff is outside 8..0x100");
}

static void test_push_bad_arguments(void **state)
{
	struct nub_error err;

	(void)state;
	assert_int_equal(nub_iobuf_push(vbuf(), 8, (const uint8_t *)"x", 1, &err), NUB_E_INVALID);
	assert_int_equal(nub_iobuf_push(NULL, SIZE, (const uint8_t *)"x", 1, &err), NUB_E_INVALID);
	assert_int_equal(nub_iobuf_push(vbuf(), SIZE, NULL, 1, &err), NUB_E_INVALID);
	assert_int_equal(nub_iobuf_sp(NULL), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(test_reset, setup),
	cmocka_unit_test_setup(test_reset_edge_sizes, setup),
	cmocka_unit_test_setup(test_round_trip, setup),
	cmocka_unit_test_setup(test_empty_element, setup),
	cmocka_unit_test_setup(test_pop_hostile_sp, setup),
	cmocka_unit_test_setup(test_pop_sp_at_size, setup),
	cmocka_unit_test_setup(test_pop_hostile_back, setup),
	cmocka_unit_test_setup(test_pop_unaligned_sp, setup),
	cmocka_unit_test_setup(test_pop_copies_then_zeroes, setup),
	cmocka_unit_test_setup(test_pop_destination_too_small, setup),
	cmocka_unit_test_setup(test_pop_bad_arguments, setup),
	cmocka_unit_test_setup(test_push_full, setup),
	cmocka_unit_test_setup(test_push_corrupt_sp, setup),
	cmocka_unit_test_setup(test_push_bad_arguments, setup),
};

NUB_TEST_SUITE(tests);
