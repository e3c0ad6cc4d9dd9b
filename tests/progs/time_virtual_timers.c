/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both threads=0 timeout=60 args="1" shim_args="100" shim_env="GREEN_CLOCK=virtual" */
/*
 * time_virtual_timers: kernel timers on virtual time.  With a scale S
 * (seconds): alarm(S) ends a pause(); setitimer(ITIMER_REAL) with a period
 * of S/2 s delivers three SIGALRMs to sigsuspend; a timerfd (CLOCK_MONOTONIC,
 * period S/2 s) read three times counts its expirations, an absolute
 * CLOCK_REALTIME timerfd fires once, timerfd_gettime and alarm() report
 * what is left; a POSIX timer (timer_create, SIGEV_SIGNAL with SIGUSR1 and
 * a value, periodic) delivers three signals carrying the value.  Each wait lasts at least its time on CLOCK_MONOTONIC.
 * Natively S = 1 (about 4 s); under GREEN_CLOCK=virtual S = 100 and the
 * run must take under a quarter of S of real time (a raw clock_gettime).
 *
 * usage: time_virtual_timers S
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, usr1s;
static void *usr1_value;

static void on_alarm(int sig)
{
	alarms++;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	usr1s++;
	usr1_value = si->si_value.sival_ptr;
}

static long long ns(clockid_t c, int raw)
{
	struct timespec ts;

	if (raw)
		syscall(SYS_clock_gettime, c, &ts);
	else
		clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *atleast(long long t0, long long want)
{
	return ns(CLOCK_MONOTONIC, 0) - t0 >= want ? "at least its time" : "EARLY";
}

int main(int argc, char **argv)
{
	int s = argc > 1 ? atoi(argv[1]) : 1;
	long long half = s * 500000000LL, w0 = ns(CLOCK_MONOTONIC, 1), t0;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval iv = { { 0, s * 500000 }, { 0, s * 500000 } };
	struct itimerspec its = { { 0, half }, { 0, half } }, cur;
	sigset_t block, none;
	uint64_t n, total = 0;
	int fd;

	if (half >= 1000000000LL) {
		iv.it_interval = iv.it_value = (struct timeval){ half / 1000000000, half % 1000000000 / 1000 };
		its.it_interval = its.it_value = (struct timespec){ half / 1000000000, half % 1000000000 };
	}
	sigaction(SIGALRM, &sa, NULL);

	/* alarm + pause; alarm() says what is left */
	t0 = ns(CLOCK_MONOTONIC, 0);
	printf("alarm(S) returns %u\n", alarm(s));
	printf("alarm(S) again returns S: %s\n", alarm(s) == (unsigned)s ? "yes" : "no");
	pause();
	printf("pause ended by %d alarm, %s\n", (int)alarms, atleast(t0, s * 1000000000LL));

	/* setitimer: three periods, the signal blocked between waits */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &none);
	sigdelset(&none, SIGALRM);
	alarms = 0;
	t0 = ns(CLOCK_MONOTONIC, 0);
	setitimer(ITIMER_REAL, &iv, NULL);
	while (alarms < 3)
		sigsuspend(&none);
	iv = (struct itimerval){ 0 };
	setitimer(ITIMER_REAL, &iv, NULL);
	printf("setitimer: %d alarms, %s\n", (int)alarms, atleast(t0, 3 * half));

	/* a periodic timerfd */
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	t0 = ns(CLOCK_MONOTONIC, 0);
	timerfd_settime(fd, 0, &its, NULL);
	timerfd_gettime(fd, &cur);
	printf("timerfd_gettime: left within the period: %s, interval %s\n",
	       cur.it_value.tv_sec * 1000000000LL + cur.it_value.tv_nsec <= half ? "yes" : "no",
	       cur.it_interval.tv_sec * 1000000000LL + cur.it_interval.tv_nsec == half ? "kept" : "lost");
	while (total < 3 && read(fd, &n, sizeof(n)) == sizeof(n))
		total += n;
	printf("timerfd: %llu expirations, %s\n", (unsigned long long)total,
	       atleast(t0, 3 * half));
	close(fd);

	/* an absolute CLOCK_REALTIME timerfd, one shot */
	fd = timerfd_create(CLOCK_REALTIME, 0);
	its = (struct itimerspec){ { 0, 0 }, { 0, 0 } };
	clock_gettime(CLOCK_REALTIME, &its.it_value);
	its.it_value.tv_sec += s;
	t0 = ns(CLOCK_MONOTONIC, 0);
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
	n = 0;
	(void)!read(fd, &n, sizeof(n));
	printf("absolute timerfd: %llu expiration, %s\n", (unsigned long long)n,
	       atleast(t0, s * 1000000000LL - 1000000));
	close(fd);

	/* a POSIX timer, periodic, with a value */
	{
		struct sigaction su = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
		struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
		timer_t id;

		ev.sigev_value.sival_ptr = (void *)&usr1s;
		sigaction(SIGUSR1, &su, NULL);
		sigaddset(&block, SIGUSR1);
		sigprocmask(SIG_BLOCK, &block, NULL);
		sigdelset(&none, SIGUSR1);
		if (timer_create(CLOCK_MONOTONIC, &ev, &id) != 0) {
			perror("timer_create");
			return 1;
		}
		its = (struct itimerspec){ { 0, half }, { 0, half } };
		if (half >= 1000000000LL)
			its.it_interval = its.it_value =
				(struct timespec){ half / 1000000000, half % 1000000000 };
		t0 = ns(CLOCK_MONOTONIC, 0);
		timer_settime(id, 0, &its, NULL);
		while (usr1s < 3)
			sigsuspend(&none);
		timer_gettime(id, &cur);
		printf("timer_create: %d signals, value %s, %s, still armed: %s\n",
		       (int)usr1s, usr1_value == (void *)&usr1s ? "kept" : "LOST",
		       atleast(t0, 3 * half), cur.it_value.tv_sec || cur.it_value.tv_nsec ? "yes" : "no");
		timer_delete(id);
	}

	if (s >= 10 && ns(CLOCK_MONOTONIC, 1) - w0 > s * 250000000LL)
		printf("took %.2f s of real time\n", (ns(CLOCK_MONOTONIC, 1) - w0) / 1e9);
	return 0;
}
