/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=240 args="200 200" shim_args="10000 20" */
/*
 * Wake-ups between threads that may run on different hubs, hammered.  N
 * threads (argv[1]) each run K rounds (argv[2]) of: a global mutex around
 * a counter; a semaphore handed to the partner thread and taken back; a
 * byte through a pipe from the even partner to the odd; and a cond-based
 * barrier of four threads.  Under the shim with several hubs, partners and
 * group members end up on different hubs (creation spreads them, idle
 * hubs are handed more), so nearly every one of these is a wake-up from
 * one OS thread to another.  Every count must come out exact, nothing may
 * hang (the test's timeout), and both runs print the same totals.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

#define GROUP 4

struct group {
	pthread_mutex_t m;
	pthread_cond_t c;
	long arrived;
};

static pthread_mutex_t gm = PTHREAD_MUTEX_INITIALIZER;
static long counter, bytes;
static int rounds;
static sem_t *sems;
static int (*pipes)[2]; /* per pair: even writes, odd reads */
static struct group *groups;

static void *run(void *arg)
{
	long i = (long)arg, mate = i ^ 1;
	int *p = pipes[i / 2];
	struct group *g = &groups[i / GROUP];
	long got = 0;

	for (int r = 0; r < rounds; r++) {
		char c = (char)r;

		pthread_mutex_lock(&gm);
		counter++;
		pthread_mutex_unlock(&gm);

		/* the partner's semaphore up, ours down */
		CHECK(sem_post(&sems[mate]) == 0, "sem_post");
		while (sem_wait(&sems[i]) != 0)
			CHECK(errno == EINTR, "sem_wait");

		/* a byte from the even thread to the odd one */
		if (i & 1) {
			CHECK(read(p[0], &c, 1) == 1, "read");
			CHECK(c == (char)r, "the partner's byte is of this round");
			got++;
		} else {
			CHECK(write(p[1], &c, 1) == 1, "write");
		}

		/* a barrier of GROUP threads made of a cond */
		pthread_mutex_lock(&g->m);
		g->arrived++;
		pthread_cond_broadcast(&g->c);
		while (g->arrived < (long)GROUP * (r + 1))
			pthread_cond_wait(&g->c, &g->m);
		pthread_mutex_unlock(&g->m);
	}
	pthread_mutex_lock(&gm);
	bytes += got;
	pthread_mutex_unlock(&gm);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	pthread_t *ids;
	pthread_attr_t a;

	rounds = argc > 2 ? atoi(argv[2]) : 200;
	n -= n % GROUP;
	CHECK(n >= GROUP && rounds > 0, "arguments");
	ids = calloc(n, sizeof(*ids));
	sems = calloc(n, sizeof(*sems));
	pipes = calloc(n / 2, sizeof(*pipes));
	groups = calloc(n / GROUP, sizeof(*groups));
	CHECK(ids && sems && pipes && groups, "calloc");
	for (int i = 0; i < n; i++)
		CHECK(sem_init(&sems[i], 0, 0) == 0, "sem_init");
	for (int i = 0; i < n / 2; i++)
		CHECK(pipe(pipes[i]) == 0, "pipe");
	for (int i = 0; i < n / GROUP; i++) {
		pthread_mutex_init(&groups[i].m, NULL);
		pthread_cond_init(&groups[i].c, NULL);
	}
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 128 << 10);
	for (long i = 0; i < n; i++)
		expect(pthread_create(&ids[i], &a, run, (void *)i), 0, "create");
	for (int i = 0; i < n; i++)
		expect(pthread_join(ids[i], NULL), 0, "join");
	expect_int(counter, (long)n * rounds, "mutex-protected increments");
	expect_int(bytes, (long)n / 2 * rounds, "bytes through the pipes");
	for (int i = 0; i < n / GROUP; i++)
		expect_int(groups[i].arrived, (long)GROUP * rounds, "barrier");
	fprintf(stderr, "%d threads x %d rounds\n", n, rounds);
	printf("mutex, semaphores, pipes and cond barriers: every count exact\n");
	return 0;
}
