/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_iobuf: push/pop sequences, hostile stack and back-pointers, guest images. */
#include <string.h>

#include "fuzz_formats.h"
#include "seedgen.h"

static void iobuf_begin(struct fuzz_output *o, unsigned size, uint8_t flags)
{
	fuzz_write_u8(o, (uint8_t)((size - 16) / 8));
	fuzz_write_u8(o, flags);
}

static void iobuf_push(struct fuzz_output *o, const void *data, size_t n)
{
	fuzz_write_u8(o, IOBUF_PUSH);
	fuzz_write_u16(o, (uint16_t)n);
	fuzz_write_bytes(o, data, n);
}

static void iobuf_pop(struct fuzz_output *o, uint16_t cap)
{
	fuzz_write_u8(o, IOBUF_POP);
	fuzz_write_u16(o, cap);
}

static void iobuf_poke(struct fuzz_output *o, uint16_t off, uint64_t v)
{
	fuzz_write_u8(o, IOBUF_POKE);
	fuzz_write_u16(o, off);
	fuzz_write_u64(o, v);
}

void seeds_fuzz_iobuf(struct seedgen *g)
{
	struct fuzz_output o = { 0 };
	uint8_t image[48];

	iobuf_begin(&o, 256, 0);
	iobuf_push(&o, "hello", 5);
	iobuf_pop(&o, 64);
	seedgen_emit(g, "push-pop", &o);

	iobuf_begin(&o, 256, 0);
	iobuf_push(&o, "", 0);
	iobuf_push(&o, "a", 1);
	iobuf_push(&o, "seven.7", 7);
	iobuf_push(&o, "eight..8", 8);
	iobuf_push(&o, "thirteen.13", 11);
	for (int i = 0; i < 6; i++)
		iobuf_pop(&o, 64);
	seedgen_emit(g, "push-pop-many", &o);

	iobuf_begin(&o, 32, 0);
	iobuf_push(&o, "0123456789abcdef", 16);
	iobuf_push(&o, "", 0);
	iobuf_pop(&o, 16);
	iobuf_push(&o, "0123456789abcdefg", 17);
	seedgen_emit(g, "fill-to-full", &o);

	iobuf_begin(&o, 16, 0);
	iobuf_pop(&o, 16);
	iobuf_push(&o, "x", 1);
	seedgen_emit(g, "pop-empty-tiny", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "twenty bytes of data", 20);
	iobuf_pop(&o, 4);
	iobuf_pop(&o, 20);
	seedgen_emit(g, "pop-cap-too-small", &o);

	iobuf_begin(&o, 64, 0);
	iobuf_push(&o, "", 0);
	iobuf_pop(&o, 0);
	iobuf_push(&o, "abc", 3);
	iobuf_pop(&o, 0);
	seedgen_emit(g, "pop-null-destination", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "data", 4);
	iobuf_poke(&o, 0, 0xffffffffffffff00ull);
	iobuf_push(&o, "more", 4);
	iobuf_pop(&o, 64);
	seedgen_emit(g, "corrupt-sp-high", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_poke(&o, 0, 3);
	iobuf_push(&o, "data", 4);
	iobuf_pop(&o, 64);
	seedgen_emit(g, "corrupt-sp-low", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "12345678", 8);
	iobuf_poke(&o, 16, 0x7fffffffffffffffull); /* the back-pointer of the element */
	iobuf_pop(&o, 64);
	iobuf_poke(&o, 16, 20); /* back-pointer past sp - 8 */
	iobuf_pop(&o, 64);
	seedgen_emit(g, "corrupt-back-pointer", &o);

	iobuf_begin(&o, 128, 0);
	iobuf_push(&o, "abcde", 5); /* sp = 8 + 5 + 8 = 21: unaligned */
	iobuf_push(&o, "xyz", 3);   /* back-pointer at an odd offset */
	iobuf_pop(&o, 8);
	iobuf_pop(&o, 8);
	seedgen_emit(g, "unaligned-elements", &o);

	memset(image, 0, sizeof image);
	image[0] = 40;  /* sp */
	image[32] = 16; /* back-pointer at sp - 8 */
	memcpy(image + 16, "imagedat", 8);
	iobuf_begin(&o, 48, IOBUF_FLAG_IMAGE);
	fuzz_write_bytes(&o, image, sizeof image);
	iobuf_pop(&o, 64);
	iobuf_pop(&o, 64);
	iobuf_push(&o, "after", 5);
	seedgen_emit(g, "guest-image", &o);

	iobuf_begin(&o, 64, IOBUF_FLAG_MISALIGN);
	iobuf_push(&o, "odd", 3);
	iobuf_push(&o, "address", 7);
	iobuf_pop(&o, 16);
	fuzz_write_u8(&o, IOBUF_POKE8);
	fuzz_write_u16(&o, 0);
	fuzz_write_u8(&o, 0x40);
	iobuf_pop(&o, 16);
	seedgen_emit(g, "misaligned-buffer", &o);

	iobuf_begin(&o, 64, 0);
	iobuf_push(&o, "before", 6);
	fuzz_write_u8(&o, IOBUF_RESET);
	iobuf_pop(&o, 16);
	iobuf_push(&o, "after", 5);
	iobuf_pop(&o, 16);
	seedgen_emit(g, "reset-mid-stream", &o);
}
