/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * switch_x86_64.S — the context switch between green threads (System V AMD64).
 *
 * gr_switch(void **save, void *to): push what the ABI says a callee must
 * preserve (rbx, rbp, r12-r15, the x87 control word and MXCSR's control
 * bits) on the current stack, store the stack pointer in *save, load `to`,
 * pop the same frame from it and return into the other coroutine.  No signal
 * mask is touched: that is the syscall swapcontext pays for.
 *
 * Frame, from the saved stack pointer up:
 *   0: MXCSR (4 bytes)  4: x87 control word (2 bytes)  8: r15 r14 r13 r12 rbx rbp  56: return address
 * coro.c builds the same frame for a new thread, returning into
 * gr_coro_trampoline with the thread in rbx.
 */
	.text
	.globl	gr_switch
	.hidden	gr_switch
	.type	gr_switch, @function
	.p2align 4
gr_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	gr_switch, .-gr_switch

/* First code of every green thread: rbx holds the thread.  The return
 * address is undefined so unwinders and debuggers stop here. */
	.globl	gr_coro_trampoline
	.hidden	gr_coro_trampoline
	.type	gr_coro_trampoline, @function
	.p2align 4
gr_coro_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	%rbx, %rdi
	xorl	%ebp, %ebp
	call	gr_coro_start
	ud2
	.cfi_endproc
	.size	gr_coro_trampoline, .-gr_coro_trampoline

	.section .note.GNU-stack,"",@progbits
