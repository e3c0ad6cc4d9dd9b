/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cond_pingpong.h — the cond ping-pong that bench_handoff times and
 * bench_fixed counts instructions of: two threads take turns over one mutex
 * and two condition variables, a "turn" word saying whose.  Header-only,
 * plain pthreads: the helpers stay programs that never know libgreen.
 */
#ifndef COND_PINGPONG_H
#define COND_PINGPONG_H
#include <pthread.h>

static pthread_mutex_t pp_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cv[2] = {PTHREAD_COND_INITIALIZER,
				  PTHREAD_COND_INITIALIZER};
static int pp_turn; /* 0: side 0's turn, 1: side 1's */

/* Side `me` (0 or 1) waits for its turn, then gives it away, n times. */
static void pp_side(int me, long n)
{
	pthread_mutex_lock(&pp_m);
	for (long i = 0; i < n; i++) {
		while (pp_turn != me)
			pthread_cond_wait(&pp_cv[me], &pp_m);
		pp_turn = !me;
		pthread_cond_signal(&pp_cv[!me]);
	}
	pthread_mutex_unlock(&pp_m);
}
#endif
