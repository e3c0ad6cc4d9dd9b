/* TEST: mode=both timeout=30 */
/*
 * fd_other_hub — an fd waited on from two OS threads' hubs.  A green
 * thread of the main hub parks reading a pipe, so that hub's loop watches
 * it; then an OS thread the shim did not make (glibc's SIGEV_THREAD timer
 * thread), with a green thread of its own and so a hub of its own, reads
 * the same pipe.  It cannot wait in the other OS thread's loop: it must
 * block in the kernel (runtime/fd/fdio.c, gr_fdop_wait) and still get its
 * byte, as natively, instead of failing with the runtime's -EXDEV.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int fds[2];
static sem_t done;
static char got_timer;

static void *reader(void *arg)
{
	char c = 0;

	CHECK(read(fds[0], &c, 1) == 1, "read");
	return (void *)(long)c;
}

static void *idle(void *arg)
{
	return NULL;
}

/* On glibc's timer thread: give it a second green thread (so parking is
 * worth it there), then read. */
static void on_timer(union sigval sv)
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, idle, NULL) == 0, "pthread_create");
	got_timer = (char)(long)reader(NULL);
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	sem_post(&done);
}

int main(void)
{
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD,
			       .sigev_notify_function = on_timer};
	struct itimerspec its = {.it_value = {0, 20000000}};
	timer_t tm;
	pthread_t a;
	void *ra;

	CHECK(pipe(fds) == 0, "pipe");
	CHECK(sem_init(&done, 0, 0) == 0, "sem_init");
	CHECK(pthread_create(&a, NULL, reader, NULL) == 0, "pthread_create");
	usleep(50000); /* a parks on the pipe */
	CHECK(timer_create(CLOCK_MONOTONIC, &sev, &tm) == 0, "timer_create");
	CHECK(timer_settime(tm, 0, &its, NULL) == 0, "timer_settime");
	usleep(200000); /* the timer thread reads too */
	CHECK(write(fds[1], "a", 1) == 1, "write a");
	usleep(100000);
	CHECK(write(fds[1], "b", 1) == 1, "write b");
	CHECK(pthread_join(a, &ra) == 0, "pthread_join a");
	CHECK(sem_wait(&done) == 0, "sem_wait");
	CHECK((long)ra + got_timer == 'a' + 'b', "each reader got one byte");
	printf("both readers got their byte\n");
	return 0;
}
