/* SPDX-License-Identifier: Apache-2.0 */
/* CPU exceptions: 32 vector stubs, the IDT pointing at them, and the common path into C. */

/*
 * guest.ld places this section first in .text, at 0x4000, so every stub lies below 64 KiB and the
 * IDT below can be a constant: a gate's offset bits 0..15 come from an R_X86_64_16 relocation
 * (the link fails if a stub ever moves above 0xFFFF) and bits 16..63 are 0. No code builds it.
 */
	.section .text.nub_vectors, "ax", @progbits

/*
 * The CPU pushes an error code for some vectors only; the others push a 0 in its place, so every
 * vector leaves the same 48-byte frame at the IST1 top (error code, RIP, CS, RFLAGS, RSP, SS),
 * where the host reads it. Nothing below pushes above that frame.
 */
	.macro vector v, cpu_pushes_error
nub_vector_\v:
	.if \cpu_pushes_error == 0
	pushq $0
	.endif
	movl $\v, %edi
	jmp nub_exception_common
	.endm

	vector 0, 0
	vector 1, 0
	vector 2, 0
	vector 3, 0
	vector 4, 0
	vector 5, 0
	vector 6, 0
	vector 7, 0
	vector 8, 1
	vector 9, 0
	vector 10, 1
	vector 11, 1
	vector 12, 1
	vector 13, 1
	vector 14, 1
	vector 15, 0
	vector 16, 0
	vector 17, 1
	vector 18, 0
	vector 19, 0
	vector 20, 0
	vector 21, 1
	vector 22, 0
	vector 23, 0
	vector 24, 0
	vector 25, 0
	vector 26, 0
	vector 27, 0
	vector 28, 0
	vector 29, 1
	vector 30, 1
	vector 31, 0

nub_exception_common:
	/* An interrupt gate keeps the interrupted code's DF (memmove sets it); C code needs DF = 0. */
	cld
	/*
	 * rsp = IST1 top - 48: the CPU aligns the IST top down to 16 bytes and the frame is 48 bytes,
	 * so rsp is 16-byte aligned here as the C ABI wants before a call. nub_rt_exception never
	 * returns.
	 */
	call nub_rt_exception
1:	cli
	hlt
	jmp 1b

	.section .rodata, "a", @progbits
	.balign 16
nub_idt:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.word nub_vector_\v	/* offset bits 0..15 */
	.word 0x08		/* the 64-bit code segment */
	.byte 1			/* IST1: a fresh known stack even when rsp is bad (stack overflow) */
	.byte 0x8E		/* present, DPL 0, 64-bit interrupt gate */
	.word 0			/* offset bits 16..31 */
	.long 0			/* offset bits 32..63 */
	.long 0			/* reserved */
	.endr
nub_idt_end:

	.globl nub_idtr
nub_idtr:
	.word nub_idt_end - nub_idt - 1
	.quad nub_idt

	.section .note.GNU-stack, "", @progbits
