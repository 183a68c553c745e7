/* SPDX-License-Identifier: Apache-2.0 */
/* Guest entry point: rdi = boot info, rsp = the host-prepared stack. */
	.text
	.globl _start
	.type _start, @function
_start:
	/*
	 * Align rsp to 16 whether the host's rsp is the stack top or top - 8, so the call below gives
	 * the C code the ABI's alignment (rsp + 8 a multiple of 16 at function entry).
	 */
	andq $-16, %rsp
	xorl %ebp, %ebp
	call nub_runtime_start
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
