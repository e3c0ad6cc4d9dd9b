/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * sched_race (run by tests/scripts/sched_explore.sh): a check-then-act
 * race.  Two threads each do some work (short writes to a pipe: calls the
 * shim intercepts), then withdraw 100 from a shared balance of 100 if the
 * balance allows it, with one more intercepted call between the check and
 * the act.  If both pass the check the balance goes negative and the
 * program exits 1.  Under fifo order it never shows; under
 * GREEN_SCHED=random only the schedules that switch exactly in the window
 * and let the other thread reach its check first do (about 1 in 100).
 *
 * usage: sched_race [locked|trace]
 *   locked: the check and the act under a mutex, the correct program:
 *           never fails;
 *   trace:  also print which thread made each call, in order (the
 *           interleaving, for checking that a seed replays it).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORK 150

static int balance = 100, locked, trace, fds[2];
static char order[4 * WORK + 8];
static int norder;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void work(int n, char who)
{
	for (int i = 0; i < n; i++) {
		(void)!write(fds[1], "w", 1);
		order[norder++] = who;
	}
}

static void *withdraw(void *arg)
{
	char who = *(char *)arg;

	work(WORK, who);
	if (locked)
		pthread_mutex_lock(&m);
	if (balance >= 100) {
		(void)!write(fds[1], "c", 1);	/* e.g. a log line */
		balance -= 100;
	}
	if (locked)
		pthread_mutex_unlock(&m);
	work(WORK, who);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	locked = argc > 1 && strcmp(argv[1], "locked") == 0;
	trace = argc > 1 && strcmp(argv[1], "trace") == 0;
	if (pipe(fds) != 0)
		return 2;
	pthread_create(&a, NULL, withdraw, "a");
	pthread_create(&b, NULL, withdraw, "b");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (balance < 0) {
		fprintf(stderr, "sched_race: overdrawn: balance %d\n", balance);
		return 1;
	}
	if (trace)
		printf("%s\n", order);
	printf("balance %d\n", balance);
	return 0;
}
