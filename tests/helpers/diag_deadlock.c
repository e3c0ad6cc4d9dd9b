/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that deadlocks on purpose (it hangs natively too): run only
 * under the shim, with `timeout`, by tests/scripts/diag_deadlock.sh.
 *   diag_deadlock mutex  threads "locker-a" and "locker-b" take mutexes
 *                        m1 and m2 in opposite order; main joins them
 *   diag_deadlock cond   "waiter" waits on a condition nobody signals
 *   diag_deadlock sem    main waits on a semaphore nobody posts
 * It prints the addresses of its objects on stdout first, so the script
 * can check that the report names them.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static sem_t sem;

static void *locker_a(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m1);
	pthread_barrier_wait(&bar);	/* both hold their first lock */
	pthread_mutex_lock(&m2);
	return NULL;
}

static void *locker_b(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m2);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&m1);
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cm);
	for (;;)
		pthread_cond_wait(&cv, &cm);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "mutex";
	pthread_t a, b;

	if (strcmp(what, "mutex") == 0) {
		printf("m1 %p\nm2 %p\n", (void *)&m1, (void *)&m2);
		fflush(stdout);
		pthread_barrier_init(&bar, NULL, 2);
		pthread_create(&a, NULL, locker_a, NULL);
		pthread_setname_np(a, "locker-a");
		pthread_create(&b, NULL, locker_b, NULL);
		pthread_setname_np(b, "locker-b");
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	} else if (strcmp(what, "cond") == 0) {
		printf("cv %p\n", (void *)&cv);
		fflush(stdout);
		pthread_create(&a, NULL, waiter, NULL);
		pthread_setname_np(a, "waiter");
		pthread_join(a, NULL);
	} else {
		printf("sem %p\n", (void *)&sem);
		fflush(stdout);
		sem_init(&sem, 0, 0);
		pthread_create(&a, NULL, waiter, NULL);	/* a green thread exists */
		sem_wait(&sem);
	}
	printf("not reached\n");
	return 1;
}
