/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * pthread spin locks among 8 threads that sometimes sleep while holding
 * the lock. Under green threads a spinner that never yields would keep the
 * sleeping holder from ever running again; the shim must yield while
 * spinning. Mutual exclusion and the final count are checked, and
 * pthread_spin_trylock gives EBUSY on a held lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

#define THREADS 8
#define ROUNDS 200

static pthread_spinlock_t lock;
static int inside, count;

static void *worker(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ROUNDS; i++) {
		if (pthread_spin_lock(&lock))
			fail("pthread_spin_lock");
		if (__atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST) != 1)
			fail("two threads inside a spin lock");
		count++;
		if ((i + id) % 25 == 0)
			usleep(500);	/* asleep with the lock held */
		__atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
		if (pthread_spin_unlock(&lock))
			fail("pthread_spin_unlock");
		if (i % 50 == 0)
			usleep(100);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	if (pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE))
		fail("pthread_spin_init");
	if (pthread_spin_trylock(&lock))
		fail("pthread_spin_trylock on a free lock");
	if (pthread_spin_trylock(&lock) != EBUSY)
		fail("pthread_spin_trylock on a held lock is not EBUSY");
	/* Held by main while the threads start: they must wait. */
	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i))
			fail("pthread_create");
	usleep(20000);
	if (count != 0)
		fail("a thread entered a spin lock held by main");
	pthread_spin_unlock(&lock);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (count != THREADS * ROUNDS)
		fail("count");
	if (pthread_spin_destroy(&lock))
		fail("pthread_spin_destroy");
	printf("spin: %d threads, %d entries ok\n", THREADS, count);
	return 0;
}
