/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpu.h (aarch64) — the spin-wait hint.  The context switch for aarch64
 * is not written yet (switch.S); this header keeps the portable code
 * free of #ifdefs until it is.
 */
#ifndef GREEN_CPU_H
#define GREEN_CPU_H

static inline void gr_cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

#endif /* GREEN_CPU_H */
