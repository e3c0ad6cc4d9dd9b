/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpu.h (x86-64) — what the runtime asks of the processor besides the
 * context switch (switch.S): the spin-wait hint.
 */
#ifndef GREEN_CPU_H
#define GREEN_CPU_H

/* In a spin-wait loop: let the sibling hyperthread run, save power. */
static inline void gr_cpu_relax(void)
{
	__builtin_ia32_pause();
}

#endif /* GREEN_CPU_H */
