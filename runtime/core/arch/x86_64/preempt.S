/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * preempt.S — the preemption trampoline (System V AMD64), entered from a
 * signal handler's rewritten context (runtime/core/preempt.c).
 *
 * On entry the interrupted code was "made to call" us: its PC is at (%rsp),
 * and above it lie the 128 bytes of its red zone, untouched, then its own
 * stack pointer.  Every register holds the interrupted code's value.  We
 * save the flags and the 15 general registers, then the whole extended
 * state (x87, SSE, AVX, AVX-512... whatever XCR0 enables) with xsave into
 * a 64-byte aligned area of gr_xsave_size bytes (CPUID leaf 0xD, computed
 * by preempt.c; fxsave's 512 bytes without XSAVE), call gr_preempt_run
 * (which yields), restore it all and `ret $128`: back to the interrupted
 * PC with the stack pointer as it was.
 *
 * Frame, from %rbp up: r15 r14 r13 r12 r11 r10 r9 r8 rdi rsi rbp rbx rdx
 * rcx rax rflags, the interrupted PC, the red zone.  The CFI says so, as a
 * signal frame, so that debuggers and unwinders walk through it into the
 * interrupted code.
 */
	.text
	.globl	gr_preempt_tramp
	.hidden	gr_preempt_tramp
	.type	gr_preempt_tramp, @function
	.p2align 4
gr_preempt_tramp:
	.cfi_startproc
	.cfi_signal_frame
	.cfi_def_cfa rsp, 136
	.cfi_offset rip, -136
	pushfq
	.cfi_adjust_cfa_offset 8
	cld
	pushq	%rax
	.cfi_adjust_cfa_offset 8
	pushq	%rcx
	.cfi_adjust_cfa_offset 8
	pushq	%rdx
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	pushq	%r8
	.cfi_adjust_cfa_offset 8
	pushq	%r9
	.cfi_adjust_cfa_offset 8
	pushq	%r10
	.cfi_adjust_cfa_offset 8
	pushq	%r11
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	movq	%rsp, %rbp
	/* CFA = rbp + 16*8 (saved regs + flags) + 8 (PC) + 128 (red zone) */
	.cfi_def_cfa rbp, 264
	.cfi_offset rip, -136
	.cfi_offset rax, -152
	.cfi_offset rcx, -160
	.cfi_offset rdx, -168
	.cfi_offset rbx, -176
	.cfi_offset rbp, -184
	.cfi_offset rsi, -192
	.cfi_offset rdi, -200
	.cfi_offset r8, -208
	.cfi_offset r9, -216
	.cfi_offset r10, -224
	.cfi_offset r11, -232
	.cfi_offset r12, -240
	.cfi_offset r13, -248
	.cfi_offset r14, -256
	.cfi_offset r15, -264
	movl	gr_xsave_size(%rip), %eax
	subq	%rax, %rsp
	andq	$-64, %rsp
	cmpb	$0, gr_xsave_ok(%rip)
	je	1f
	/* xsave writes XSTATE_BV only; xrstor faults on a dirty header. */
	xorl	%eax, %eax
	movq	%rax, 512(%rsp)
	movq	%rax, 520(%rsp)
	movq	%rax, 528(%rsp)
	movq	%rax, 536(%rsp)
	movq	%rax, 544(%rsp)
	movq	%rax, 552(%rsp)
	movq	%rax, 560(%rsp)
	movq	%rax, 568(%rsp)
	movl	$-1, %eax
	movl	$-1, %edx
	xsave64	(%rsp)
	jmp	2f
1:	fxsave64 (%rsp)
	/* C code expects an empty x87 stack and the default control word */
2:	fninit
	call	gr_preempt_run
	cmpb	$0, gr_xsave_ok(%rip)
	je	3f
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor64 (%rsp)
	jmp	4f
3:	fxrstor64 (%rsp)
4:	movq	%rbp, %rsp
	.cfi_def_cfa rsp, 264
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%r11
	.cfi_adjust_cfa_offset -8
	popq	%r10
	.cfi_adjust_cfa_offset -8
	popq	%r9
	.cfi_adjust_cfa_offset -8
	popq	%r8
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	popq	%rax
	.cfi_adjust_cfa_offset -8
	popfq
	.cfi_adjust_cfa_offset -8
	ret	$128
	.cfi_endproc
	.size	gr_preempt_tramp, .-gr_preempt_tramp

	.section .note.GNU-stack,"",@progbits
