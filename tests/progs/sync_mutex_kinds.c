/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Mutex kinds and their errors: normal, recursive and errorcheck mutexes,
 * static initialisers, trylock EBUSY, timedlock/clocklock ETIMEDOUT never
 * early, EDEADLK and EPERM of errorcheck and recursive mutexes, and a mutex
 * locked in main before any thread exists, then contended by threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static pthread_mutex_t early = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s_normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s_recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t s_errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;

/* Fails unless CLK has reached DL. */
/* --- a mutex locked before any thread exists ------------------------ */

static int early_count;

static void *early_worker(void *arg)
{
	for (int i = 0; i < 100; i++) {
		expect(pthread_mutex_lock(&early), 0, "early lock");
		early_count++;
		if (i % 25 == 0)
			usleep(100);
		expect(pthread_mutex_unlock(&early), 0, "early unlock");
	}
	return NULL;
}

static void test_early(void)
{
	pthread_t t[4];

	expect(pthread_mutex_lock(&early), 0, "lock before threads");
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, early_worker, NULL))
			fail("pthread_create");
	usleep(50000);
	if (early_count != 0)
		fail("a thread entered a mutex held by main");
	expect(pthread_mutex_unlock(&early), 0, "unlock early");
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	if (early_count != 400)
		fail("early_count != 400");
	printf("locked before threads: ok\n");
}

/* --- operations run from another thread ------------------------------ */

enum op { OP_TRYLOCK, OP_UNLOCK, OP_TIMED, OP_CLOCK_MONO, OP_CLOCK_REAL,
	  OP_TIMED_BADNS, OP_CLOCK_BADCLOCK, OP_LOCK_UNLOCK };

struct job {
	pthread_mutex_t *m;
	enum op op;
	int rc;
};

static void *other(void *arg)
{
	struct job *j = arg;
	struct timespec dl;

	switch (j->op) {
	case OP_TRYLOCK:
		j->rc = pthread_mutex_trylock(j->m);
		if (j->rc == 0)
			pthread_mutex_unlock(j->m);
		break;
	case OP_UNLOCK:
		j->rc = pthread_mutex_unlock(j->m);
		break;
	case OP_TIMED:
		dl = deadline(CLOCK_REALTIME, 50);
		j->rc = pthread_mutex_timedlock(j->m, &dl);
		if (j->rc == ETIMEDOUT)
			not_early(CLOCK_REALTIME, dl, "pthread_mutex_timedlock");
		break;
	case OP_CLOCK_MONO:
		dl = deadline(CLOCK_MONOTONIC, 50);
		j->rc = pthread_mutex_clocklock(j->m, CLOCK_MONOTONIC, &dl);
		if (j->rc == ETIMEDOUT)
			not_early(CLOCK_MONOTONIC, dl,
				  "pthread_mutex_clocklock(MONOTONIC)");
		break;
	case OP_CLOCK_REAL:
		dl = deadline(CLOCK_REALTIME, 50);
		j->rc = pthread_mutex_clocklock(j->m, CLOCK_REALTIME, &dl);
		if (j->rc == ETIMEDOUT)
			not_early(CLOCK_REALTIME, dl,
				  "pthread_mutex_clocklock(REALTIME)");
		break;
	case OP_TIMED_BADNS:
		dl = deadline(CLOCK_REALTIME, 0);
		dl.tv_nsec = 1000000000L;
		j->rc = pthread_mutex_timedlock(j->m, &dl);
		break;
	case OP_CLOCK_BADCLOCK:
		dl = deadline(CLOCK_MONOTONIC, 50);
		j->rc = pthread_mutex_clocklock(j->m, CLOCK_PROCESS_CPUTIME_ID,
						&dl);
		break;
	case OP_LOCK_UNLOCK:
		j->rc = pthread_mutex_lock(j->m);
		if (j->rc == 0)
			j->rc = pthread_mutex_unlock(j->m);
		break;
	}
	if (j->rc == 0 && j->op != OP_TRYLOCK && j->op != OP_UNLOCK &&
	    j->op != OP_LOCK_UNLOCK)
		pthread_mutex_unlock(j->m);
	return NULL;
}

static int from_other(pthread_mutex_t *m, enum op op)
{
	struct job j = { m, op, -1 };
	pthread_t t;

	if (pthread_create(&t, NULL, other, &j))
		fail("pthread_create");
	pthread_join(t, NULL);
	return j.rc;
}

/* The timed forms on a mutex M that main holds. */
static void timed_cases(pthread_mutex_t *m, const char *kind)
{
	char what[64];

	snprintf(what, sizeof what, "%s: trylock by other", kind);
	expect(from_other(m, OP_TRYLOCK), EBUSY, what);
	snprintf(what, sizeof what, "%s: timedlock by other", kind);
	expect(from_other(m, OP_TIMED), ETIMEDOUT, what);
	snprintf(what, sizeof what, "%s: clocklock MONOTONIC by other", kind);
	expect(from_other(m, OP_CLOCK_MONO), ETIMEDOUT, what);
	snprintf(what, sizeof what, "%s: clocklock REALTIME by other", kind);
	expect(from_other(m, OP_CLOCK_REAL), ETIMEDOUT, what);
	snprintf(what, sizeof what, "%s: timedlock bad tv_nsec", kind);
	expect(from_other(m, OP_TIMED_BADNS), EINVAL, what);
	snprintf(what, sizeof what, "%s: clocklock bad clock", kind);
	expect(from_other(m, OP_CLOCK_BADCLOCK), EINVAL, what);
}

static void init_kind(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;
	int got;

	expect(pthread_mutexattr_init(&a), 0, "mutexattr_init");
	expect(pthread_mutexattr_settype(&a, type), 0, "mutexattr_settype");
	expect(pthread_mutexattr_gettype(&a, &got), 0, "mutexattr_gettype");
	expect(got, type, "mutexattr_gettype value");
	expect(pthread_mutex_init(m, &a), 0, "mutex_init");
	pthread_mutexattr_destroy(&a);
}

static void test_normal(pthread_mutex_t *m, const char *label)
{
	struct timespec dl;

	expect(pthread_mutex_lock(m), 0, "normal lock");
	expect(pthread_mutex_trylock(m), EBUSY, "normal trylock by owner");
	timed_cases(m, label);
	expect(pthread_mutex_unlock(m), 0, "normal unlock");
	expect(from_other(m, OP_LOCK_UNLOCK), 0, "normal lock by other");
	/* Uncontended timed forms succeed at once. */
	dl = deadline(CLOCK_REALTIME, 50);
	expect(pthread_mutex_timedlock(m, &dl), 0, "uncontended timedlock");
	expect(pthread_mutex_unlock(m), 0, "normal unlock 2");
	dl = deadline(CLOCK_MONOTONIC, 50);
	expect(pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &dl), 0,
	       "uncontended clocklock");
	expect(pthread_mutex_unlock(m), 0, "normal unlock 3");
	printf("%s: ok\n", label);
}

static void test_recursive(pthread_mutex_t *m, const char *label)
{
	struct timespec dl;

	for (int i = 0; i < 3; i++)
		expect(pthread_mutex_lock(m), 0, "recursive lock");
	expect(pthread_mutex_trylock(m), 0, "recursive trylock by owner");
	dl = deadline(CLOCK_REALTIME, 50);
	expect(pthread_mutex_timedlock(m, &dl), 0, "recursive timedlock by owner");
	timed_cases(m, label);
	expect(from_other(m, OP_UNLOCK), EPERM, "recursive unlock by non-owner");
	for (int i = 0; i < 4; i++)
		expect(pthread_mutex_unlock(m), 0, "recursive unlock");
	/* Still held once: another thread cannot take it. */
	expect(from_other(m, OP_TRYLOCK), EBUSY, "recursive held after 4 of 5 unlocks");
	expect(pthread_mutex_unlock(m), 0, "recursive last unlock");
	expect(from_other(m, OP_LOCK_UNLOCK), 0, "recursive lock by other");
	expect(pthread_mutex_unlock(m), EPERM, "recursive unlock of unlocked");
	printf("%s: ok\n", label);
}

static void test_errorcheck(pthread_mutex_t *m, const char *label)
{
	struct timespec dl;

	expect(pthread_mutex_lock(m), 0, "errorcheck lock");
	expect(pthread_mutex_lock(m), EDEADLK, "errorcheck relock");
	expect(pthread_mutex_trylock(m), EBUSY, "errorcheck trylock by owner");
	dl = deadline(CLOCK_REALTIME, 50);
	expect(pthread_mutex_timedlock(m, &dl), EDEADLK, "errorcheck timedlock by owner");
	timed_cases(m, label);
	expect(from_other(m, OP_UNLOCK), EPERM, "errorcheck unlock by non-owner");
	expect(pthread_mutex_unlock(m), 0, "errorcheck unlock");
	expect(pthread_mutex_unlock(m), EPERM, "errorcheck unlock of unlocked");
	expect(from_other(m, OP_LOCK_UNLOCK), 0, "errorcheck lock by other");
	printf("%s: ok\n", label);
}

/* --- contention with sleeps inside the critical section ---------------- */

static pthread_mutex_t *cont_m;
static int cont_inside, cont_count;

static void *contender(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < 200; i++) {
		expect(pthread_mutex_lock(cont_m), 0, "contended lock");
		if (cont_inside++ != 0)
			fail("two threads inside the mutex");
		cont_count++;
		if ((i + id) % 50 == 0)
			usleep(200);
		cont_inside--;
		expect(pthread_mutex_unlock(cont_m), 0, "contended unlock");
		if (i % 40 == 0)
			usleep(100);
	}
	return NULL;
}

static void test_contention(pthread_mutex_t *m, const char *label)
{
	pthread_t t[8];

	cont_m = m;
	cont_count = 0;
	for (long i = 0; i < 8; i++)
		if (pthread_create(&t[i], NULL, contender, (void *)i))
			fail("pthread_create");
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	if (cont_count != 1600)
		fail("contention count");
	printf("%s contended by 8 threads: ok\n", label);
}

int main(void)
{
	pthread_mutex_t normal, recursive, errorcheck, dflt, plain;

	test_early();

	init_kind(&normal, PTHREAD_MUTEX_NORMAL);
	init_kind(&dflt, PTHREAD_MUTEX_DEFAULT);
	init_kind(&recursive, PTHREAD_MUTEX_RECURSIVE);
	init_kind(&errorcheck, PTHREAD_MUTEX_ERRORCHECK);
	expect(pthread_mutex_init(&plain, NULL), 0, "mutex_init(NULL)");

	test_normal(&normal, "normal");
	test_normal(&dflt, "default");
	test_normal(&plain, "no attributes");
	test_normal(&s_normal, "static normal");
	test_recursive(&recursive, "recursive");
	test_recursive(&s_recursive, "static recursive");
	test_errorcheck(&errorcheck, "errorcheck");
	test_errorcheck(&s_errorcheck, "static errorcheck");

	test_contention(&normal, "normal");
	test_contention(&recursive, "recursive");
	test_contention(&errorcheck, "errorcheck");

	expect(pthread_mutex_destroy(&normal), 0, "destroy normal");
	expect(pthread_mutex_destroy(&recursive), 0, "destroy recursive");
	expect(pthread_mutex_destroy(&errorcheck), 0, "destroy errorcheck");
	expect(pthread_mutex_destroy(&dflt), 0, "destroy default");
	printf("mutex kinds: ok\n");
	return 0;
}
