/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * 100 producers and 100 consumers over a bounded queue guarded by one mutex
 * and two condition variables, sleeping both inside and outside the critical
 * section. Every item must be consumed exactly once; the checksum proves it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define PRODUCERS 100
#define CONSUMERS 100
#define ITEMS 100		/* per producer */
#define CAP 16
#define POISON (-1L)

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static long queue[CAP];
static int head, count;
static unsigned char seen[PRODUCERS * ITEMS];
static long long sum;
static long consumed;

static void put(long v, int sleep_inside)
{
	pthread_mutex_lock(&m);
	while (count == CAP)
		pthread_cond_wait(&not_full, &m);
	if (sleep_inside)
		usleep(50);	/* others pile up on the mutex meanwhile */
	queue[(head + count) % CAP] = v;
	count++;
	pthread_cond_signal(&not_empty);
	pthread_mutex_unlock(&m);
}

static void *producer(void *arg)
{
	long p = (long)arg;
	unsigned seed = (unsigned)p * 7919u + 1;

	for (long j = 0; j < ITEMS; j++) {
		put(p * ITEMS + j, j % 25 == 0);
		if (rand_r(&seed) % 4 == 0)
			usleep(rand_r(&seed) % 500);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long c = (long)arg;
	unsigned seed = (unsigned)c * 104729u + 3;
	long v, n = 0;

	for (;;) {
		pthread_mutex_lock(&m);
		while (count == 0)
			pthread_cond_wait(&not_empty, &m);
		v = queue[head];
		head = (head + 1) % CAP;
		count--;
		if (v != POISON) {
			if (v < 0 || v >= PRODUCERS * ITEMS || seen[v]++)
				fail("item consumed twice or out of range");
			sum += v;
			consumed++;
			if (n++ % 30 == 0)
				usleep(30);
		}
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&m);
		if (v == POISON)
			return NULL;
		if (rand_r(&seed) % 4 == 0)
			usleep(rand_r(&seed) % 500);
	}
}

int main(void)
{
	pthread_t prod[PRODUCERS], cons[CONSUMERS];
	long long want = 0;

	for (long i = 0; i < CONSUMERS; i++)
		if (pthread_create(&cons[i], NULL, consumer, (void *)i))
			fail("pthread_create consumer");
	for (long i = 0; i < PRODUCERS; i++)
		if (pthread_create(&prod[i], NULL, producer, (void *)i))
			fail("pthread_create producer");
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(prod[i], NULL);
	for (int i = 0; i < CONSUMERS; i++)
		put(POISON, 0);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(cons[i], NULL);

	for (long v = 0; v < PRODUCERS * ITEMS; v++) {
		want += v;
		if (seen[v] != 1)
			fail("an item was never consumed");
	}
	if (consumed != PRODUCERS * ITEMS || sum != want || count != 0)
		fail("checksum");
	printf("producers: %d consumers: %d items: %ld checksum: %lld ok\n",
	       PRODUCERS, CONSUMERS, consumed, sum);
	return 0;
}
