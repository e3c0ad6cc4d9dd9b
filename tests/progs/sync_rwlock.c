/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Readers and writers on a pthread_rwlock, writers sleeping in the middle of
 * an update: no reader ever sees a half-written record, writers exclude
 * everyone. Then the error cases: try forms EBUSY, timed and clock forms
 * ETIMEDOUT never early, EDEADLK when the writer locks again, EINVAL for a
 * bad clock or a bad tv_nsec.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define READERS 12
#define WRITERS 4
#define SLOTS 16

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int record[SLOTS];
static int readers_in, writers_in, max_readers_in;
static pthread_mutex_t stat_m = PTHREAD_MUTEX_INITIALIZER;
static int writes;

/* --- readers and sleeping writers ------------------------------------ */

static void *reader(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < 150; i++) {
		expect(pthread_rwlock_rdlock(&rw), 0, "rdlock");
		pthread_mutex_lock(&stat_m);
		if (writers_in)
			fail("reader inside with a writer");
		if (++readers_in > max_readers_in)
			max_readers_in = readers_in;
		pthread_mutex_unlock(&stat_m);
		for (int s = 1; s < SLOTS; s++)
			if (record[s] != record[0])
				fail("reader saw a half-written record");
		if ((i + id) % 10 == 0)
			usleep(300);	/* hold it while asleep */
		for (int s = 1; s < SLOTS; s++)
			if (record[s] != record[0])
				fail("record changed under a read lock");
		pthread_mutex_lock(&stat_m);
		readers_in--;
		pthread_mutex_unlock(&stat_m);
		expect(pthread_rwlock_unlock(&rw), 0, "unlock (reader)");
		if (i % 7 == 0)
			usleep(200);
	}
	return NULL;
}

static void *writer(void *arg)
{
	for (int i = 0; i < 25; i++) {
		expect(pthread_rwlock_wrlock(&rw), 0, "wrlock");
		pthread_mutex_lock(&stat_m);
		if (writers_in++ || readers_in)
			fail("writer not alone");
		pthread_mutex_unlock(&stat_m);
		int v = record[0] + 1;
		for (int s = 0; s < SLOTS; s++) {
			record[s] = v;
			if (s == SLOTS / 2)
				usleep(500);	/* sleep half-way through */
		}
		writes++;
		pthread_mutex_lock(&stat_m);
		writers_in--;
		pthread_mutex_unlock(&stat_m);
		expect(pthread_rwlock_unlock(&rw), 0, "unlock (writer)");
		usleep(1000);
	}
	return NULL;
}

static void test_readers_writers(void)
{
	pthread_t r[READERS], w[WRITERS];

	for (long i = 0; i < READERS; i++)
		if (pthread_create(&r[i], NULL, reader, (void *)i))
			fail("pthread_create reader");
	for (long i = 0; i < WRITERS; i++)
		if (pthread_create(&w[i], NULL, writer, (void *)i))
			fail("pthread_create writer");
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	if (writes != WRITERS * 25 || record[0] != WRITERS * 25)
		fail("lost writes");
	if (max_readers_in < 2)
		fail("readers never shared the lock");
	fprintf(stderr, "max readers inside at once: %d\n", max_readers_in);
	printf("readers: %d writers: %d writes: %d ok\n", READERS, WRITERS,
	       writes);
}

/* --- error cases from another thread ----------------------------------- */

enum op { TRYRD, TRYWR, TIMEDRD, TIMEDWR, CLOCKRD_MONO, CLOCKWR_MONO,
	  CLOCKRD_REAL, CLOCKWR_REAL, CLOCKRD_BAD, TIMEDWR_BADNS };

static const char *op_name[] = {
	"tryrdlock", "trywrlock", "timedrdlock", "timedwrlock",
	"clockrdlock(MONOTONIC)", "clockwrlock(MONOTONIC)",
	"clockrdlock(REALTIME)", "clockwrlock(REALTIME)",
	"clockrdlock(bad clock)", "timedwrlock(bad tv_nsec)",
};

struct job {
	pthread_rwlock_t *l;
	enum op op;
	int rc;
};

static void *other(void *arg)
{
	struct job *j = arg;
	struct timespec dl;
	clockid_t clk = CLOCK_REALTIME;

	switch (j->op) {
	case TRYRD:
		j->rc = pthread_rwlock_tryrdlock(j->l);
		break;
	case TRYWR:
		j->rc = pthread_rwlock_trywrlock(j->l);
		break;
	case TIMEDRD:
		dl = deadline(clk, 50);
		j->rc = pthread_rwlock_timedrdlock(j->l, &dl);
		break;
	case TIMEDWR:
		dl = deadline(clk, 50);
		j->rc = pthread_rwlock_timedwrlock(j->l, &dl);
		break;
	case CLOCKRD_MONO:
	case CLOCKWR_MONO:
		clk = CLOCK_MONOTONIC;
		/* fall through */
	case CLOCKRD_REAL:
	case CLOCKWR_REAL:
		dl = deadline(clk, 50);
		if (j->op == CLOCKRD_MONO || j->op == CLOCKRD_REAL)
			j->rc = pthread_rwlock_clockrdlock(j->l, clk, &dl);
		else
			j->rc = pthread_rwlock_clockwrlock(j->l, clk, &dl);
		break;
	case CLOCKRD_BAD:
		dl = deadline(CLOCK_MONOTONIC, 50);
		j->rc = pthread_rwlock_clockrdlock(j->l, CLOCK_PROCESS_CPUTIME_ID,
						   &dl);
		break;
	case TIMEDWR_BADNS:
		dl = deadline(clk, 0);
		dl.tv_nsec = -1;
		j->rc = pthread_rwlock_timedwrlock(j->l, &dl);
		break;
	}
	if (j->rc == ETIMEDOUT)
		not_early(clk, dl, op_name[j->op]);
	if (j->rc == 0)
		pthread_rwlock_unlock(j->l);
	return NULL;
}

static int from_other(pthread_rwlock_t *l, enum op op)
{
	struct job j = { l, op, -1 };
	pthread_t t;

	if (pthread_create(&t, NULL, other, &j))
		fail("pthread_create");
	pthread_join(t, NULL);
	return j.rc;
}

static void test_errors(void)
{
	pthread_rwlock_t l;
	struct timespec dl;
	char what[80];

	expect(pthread_rwlock_init(&l, NULL), 0, "rwlock_init");

	/* Write-locked by main: every other form fails. */
	expect(pthread_rwlock_wrlock(&l), 0, "wrlock");
	for (enum op op = TRYRD; op <= TIMEDWR_BADNS; op++) {
		int want = op <= TRYWR ? EBUSY : ETIMEDOUT;

		if (op == CLOCKRD_BAD || op == TIMEDWR_BADNS)
			want = EINVAL;
		snprintf(what, sizeof what, "%s while write-locked", op_name[op]);
		expect(from_other(&l, op), want, what);
	}
	expect(pthread_rwlock_wrlock(&l), EDEADLK, "wrlock twice");
	expect(pthread_rwlock_rdlock(&l), EDEADLK, "rdlock while writer");
	expect(pthread_rwlock_trywrlock(&l), EBUSY, "trywrlock by writer");
	dl = deadline(CLOCK_REALTIME, 50);
	expect(pthread_rwlock_timedwrlock(&l, &dl), EDEADLK, "timedwrlock by writer");
	expect(pthread_rwlock_unlock(&l), 0, "unlock writer");
	printf("write-locked: errors ok\n");

	/* Read-locked by main: readers enter, writers time out. */
	expect(pthread_rwlock_rdlock(&l), 0, "rdlock");
	expect(from_other(&l, TRYRD), 0, "tryrdlock while read-locked");
	expect(from_other(&l, TIMEDRD), 0, "timedrdlock while read-locked");
	expect(from_other(&l, CLOCKRD_MONO), 0, "clockrdlock while read-locked");
	expect(from_other(&l, TRYWR), EBUSY, "trywrlock while read-locked");
	expect(from_other(&l, TIMEDWR), ETIMEDOUT, "timedwrlock while read-locked");
	expect(from_other(&l, CLOCKWR_MONO), ETIMEDOUT, "clockwrlock(MONOTONIC) while read-locked");
	expect(from_other(&l, CLOCKWR_REAL), ETIMEDOUT, "clockwrlock(REALTIME) while read-locked");
	expect(pthread_rwlock_rdlock(&l), 0, "rdlock again by reader");
	expect(pthread_rwlock_unlock(&l), 0, "unlock reader 1");
	expect(from_other(&l, TRYWR), EBUSY, "trywrlock while still read-locked once");
	expect(pthread_rwlock_unlock(&l), 0, "unlock reader 2");
	printf("read-locked: errors ok\n");

	/* Free: everything succeeds. */
	for (enum op op = TRYRD; op <= CLOCKWR_REAL; op++) {
		snprintf(what, sizeof what, "%s while free", op_name[op]);
		expect(from_other(&l, op), 0, what);
	}
	expect(pthread_rwlock_destroy(&l), 0, "rwlock_destroy");
	printf("free: ok\n");
}

/* A writer waiting for a reader gets the lock once the reader leaves. */
static pthread_rwlock_t hand = PTHREAD_RWLOCK_INITIALIZER;
static int handed;

static void *late_writer(void *arg)
{
	struct timespec dl = deadline(CLOCK_REALTIME, 5000);

	expect(pthread_rwlock_timedwrlock(&hand, &dl), 0, "timedwrlock after reader left");
	handed = 1;
	pthread_rwlock_unlock(&hand);
	return NULL;
}

static void test_handover(void)
{
	pthread_t t;

	expect(pthread_rwlock_rdlock(&hand), 0, "rdlock");
	if (pthread_create(&t, NULL, late_writer, NULL))
		fail("pthread_create");
	usleep(50000);
	if (handed)
		fail("writer entered while a reader held the lock");
	expect(pthread_rwlock_unlock(&hand), 0, "unlock");
	pthread_join(t, NULL);
	if (!handed)
		fail("writer never entered");
	printf("handover: ok\n");
}

int main(void)
{
	test_readers_writers();
	test_errors();
	test_handover();
	return 0;
}
