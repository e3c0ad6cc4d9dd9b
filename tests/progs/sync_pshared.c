/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Process-shared synchronisation: a PTHREAD_PROCESS_SHARED mutex and
 * condition variable, and two process-shared semaphores, in MAP_SHARED
 * memory, used by a thread of the parent and by a forked child to play
 * ping-pong for 1000 rounds each way. Such objects cannot be purely green:
 * the other side is another process. A ticker thread in the parent keeps
 * sleeping meanwhile and must get to run.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 1000

struct shared {
	pthread_mutex_t m;
	pthread_cond_t c;
	int turn;		/* 0: parent's move, 1: child's */
	int moves[2];
	sem_t ping, pong;
	int sem_rounds;
};

static struct shared *sh;
static int done, ticks;

/* One side of the mutex/cond game: SIDE moves when turn == SIDE. */
static void play_cond(int side)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct timespec dl = deadline(CLOCK_REALTIME, 10000);

		if (pthread_mutex_lock(&sh->m))
			fail("pshared mutex lock");
		while (sh->turn != side) {
			int rc = pthread_cond_timedwait(&sh->c, &sh->m, &dl);
			if (rc == ETIMEDOUT)
				fail("pshared cond: the other process never moved");
			if (rc)
				fail("pshared cond wait");
		}
		sh->turn = !side;
		sh->moves[side]++;
		pthread_cond_broadcast(&sh->c);
		if (pthread_mutex_unlock(&sh->m))
			fail("pshared mutex unlock");
	}
}

static void sem_wait_10s(sem_t *s, const char *what)
{
	struct timespec dl = deadline(CLOCK_REALTIME, 10000);

	while (sem_timedwait(s, &dl)) {
		if (errno == ETIMEDOUT)
			fail(what);
		if (errno != EINTR)
			fail("sem_timedwait");
	}
}

static void child(void)
{
	play_cond(1);
	for (int r = 0; r < ROUNDS; r++) {
		sem_wait_10s(&sh->ping, "pshared sem: no ping from the parent");
		sh->sem_rounds++;
		if (sem_post(&sh->pong))
			fail("sem_post pong");
	}
	_exit(0);
}

static void *parent_player(void *arg)
{
	play_cond(0);
	for (int r = 0; r < ROUNDS; r++) {
		if (sem_post(&sh->ping))
			fail("sem_post ping");
		sem_wait_10s(&sh->pong, "pshared sem: no pong from the child");
	}
	return NULL;
}

static void *ticker(void *arg)
{
	while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
		usleep(1000);
		__atomic_add_fetch(&ticks, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

int main(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_t tick, player;
	int pshared, status;
	pid_t pid;

	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail("mmap");
	pthread_mutexattr_init(&ma);
	if (pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED))
		fail("mutexattr_setpshared");
	pthread_mutexattr_getpshared(&ma, &pshared);
	if (pshared != PTHREAD_PROCESS_SHARED)
		fail("mutexattr_getpshared");
	if (pthread_mutex_init(&sh->m, &ma))
		fail("mutex_init");
	pthread_condattr_init(&ca);
	if (pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED))
		fail("condattr_setpshared");
	pthread_condattr_getpshared(&ca, &pshared);
	if (pshared != PTHREAD_PROCESS_SHARED)
		fail("condattr_getpshared");
	if (pthread_cond_init(&sh->c, &ca))
		fail("cond_init");
	if (sem_init(&sh->ping, 1, 0) || sem_init(&sh->pong, 1, 0))
		fail("sem_init pshared");

	if (pthread_create(&tick, NULL, ticker, NULL))
		fail("pthread_create ticker");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0)
		child();
	if (pthread_create(&player, NULL, parent_player, NULL))
		fail("pthread_create player");
	pthread_join(player, NULL);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	__atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
	pthread_join(tick, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("child failed");
	if (sh->moves[0] != ROUNDS || sh->moves[1] != ROUNDS)
		fail("cond moves");
	if (sh->sem_rounds != ROUNDS)
		fail("sem rounds");
	if (ticks < 1)
		fail("the ticker never ran during the game");
	fprintf(stderr, "ticker ran %d times\n", ticks);
	printf("pshared mutex+cond: %d moves each ok\n", ROUNDS);
	printf("pshared semaphores: %d rounds ok\n", ROUNDS);
	return 0;
}
