/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Every form of waiting for a child, with the semantics Linux gives:
 * WNOHANG polling, ECHILD at once, waitpid(0) and waitpid(-pgid), WUNTRACED
 * and WCONTINUED, wait/wait3/wait4 with rusage, waitid with WNOWAIT, a waiter
 * that must not reap a child it did not ask for, SIGCHLD ignored (auto-reap),
 * SIGCHLD blocked (waitpid and sigtimedwait still see the child).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* Burn about ms milliseconds of CPU. */
static void burn(int ms)
{
	struct timespec a, b;
	volatile unsigned long x = 0;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

enum { PG_SAME = 0, PG_NEW = -1 };

/*
 * Fork a child that waits ms milliseconds (burning CPU for burn_ms of them)
 * and exits with code. pgid: PG_SAME keeps our group, PG_NEW makes the child
 * lead a new group, > 0 puts it into that group (set on both sides, so there
 * is no race with the parent's next wait).
 */
static pid_t spawn(int ms, int burn_ms, int code, pid_t pgid)
{
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		if (pgid != PG_SAME)
			setpgid(0, pgid == PG_NEW ? 0 : pgid);
		if (burn_ms)
			burn(burn_ms);
		if (ms > burn_ms)
			usleep((ms - burn_ms) * 1000);
		_exit(code);
	}
	if (pgid != PG_SAME && setpgid(pid, pgid == PG_NEW ? pid : pgid) != 0
	    && errno != EACCES)	/* EACCES: the child already exec'd, n/a */
		fail("setpgid in parent");
	return pid;
}

static void no_children_left(const char *where)
{
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD) {
		fprintf(stderr, "FAIL: children left after %s\n", where);
		exit(1);
	}
}

static void test_wnohang(void)
{
	pid_t pid = spawn(200, 0, 7, PG_SAME);
	int st = 0, polls = 0, zeros = 0;
	pid_t r = 0;

	for (polls = 0; polls < 20000; polls++) {
		r = waitpid(pid, &st, WNOHANG);
		if (r != 0)
			break;
		zeros++;
		usleep(1000);
	}
	fprintf(stderr, "wnohang: %d polls returned 0\n", zeros);
	CHECK(r == pid, "WNOHANG loop never saw the child");
	CHECK(exited_with(st, 7), "WNOHANG loop: wrong status");
	CHECK(zeros > 10, "WNOHANG returned the child before it could exit");
	no_children_left("wnohang");
	printf("waitpid WNOHANG polling: ok\n");
}

static void test_echild(void)
{
	double t = now();

	errno = 0;
	CHECK(waitpid(-1, NULL, 0) == -1 && errno == ECHILD,
	      "waitpid(-1) with no children: not ECHILD");
	errno = 0;
	CHECK(wait(NULL) == -1 && errno == ECHILD,
	      "wait() with no children: not ECHILD");
	CHECK(now() - t < 0.5, "ECHILD was not immediate");
	printf("waitpid(-1) without children: ECHILD at once\n");
}

static void test_groups(void)
{
	/* x and y in a new group g; z in ours and the last to exit. */
	pid_t x = spawn(50, 0, 11, PG_NEW);
	pid_t y = spawn(100, 0, 12, x);
	pid_t z = spawn(250, 0, 13, PG_SAME);
	pid_t r1, r2;
	int st, st1, st2;

	r1 = waitpid(0, &st, 0);
	CHECK(r1 == z, "waitpid(0) returned a child of another group");
	CHECK(exited_with(st, 13), "waitpid(0): wrong status");
	r1 = waitpid(-x, &st1, 0);
	r2 = waitpid(-x, &st2, 0);
	CHECK((r1 == x && r2 == y) || (r1 == y && r2 == x),
	      "waitpid(-pgid) did not return both group members");
	CHECK(exited_with(r1 == x ? st1 : st2, 11) &&
	      exited_with(r1 == y ? st1 : st2, 12),
	      "waitpid(-pgid): wrong statuses");
	errno = 0;
	CHECK(waitpid(-x, &st, 0) == -1 && errno == ECHILD,
	      "waitpid(-pgid) of an empty group: not ECHILD");
	no_children_left("groups");
	printf("waitpid(0) and waitpid(-pgid): ok\n");
}

static void test_stop_continue(void)
{
	pid_t pid = spawn(30000, 0, 0, PG_SAME);
	int st = 0;

	CHECK(kill(pid, SIGSTOP) == 0, "kill SIGSTOP");
	CHECK(waitpid(pid, &st, WUNTRACED) == pid, "waitpid WUNTRACED");
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
	      "WUNTRACED did not report the stop");
	/* Without WUNTRACED a stopped child is not reported. */
	CHECK(waitpid(pid, &st, WNOHANG) == 0,
	      "stopped child reported without WUNTRACED");
	CHECK(kill(pid, SIGCONT) == 0, "kill SIGCONT");
	CHECK(waitpid(pid, &st, WCONTINUED) == pid, "waitpid WCONTINUED");
	CHECK(WIFCONTINUED(st), "WCONTINUED did not report the continue");
	CHECK(kill(pid, SIGTERM) == 0, "kill SIGTERM");
	CHECK(waitpid(pid, &st, WUNTRACED | WCONTINUED) == pid,
	      "waitpid after SIGTERM");
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	      "child killed by SIGTERM: wrong status");
	no_children_left("stop/continue");
	printf("WUNTRACED and WCONTINUED: ok\n");
}

static double cpu_of(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	       ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

static void test_wait_family(void)
{
	struct rusage ru;
	pid_t pid;
	int st;

	pid = spawn(100, 0, 21, PG_SAME);
	CHECK(wait(&st) == pid, "wait()");
	CHECK(exited_with(st, 21), "wait(): wrong status");

	pid = spawn(150, 150, 22, PG_SAME);
	memset(&ru, 0, sizeof ru);
	CHECK(wait3(&st, 0, &ru) == pid, "wait3()");
	CHECK(exited_with(st, 22), "wait3(): wrong status");
	fprintf(stderr, "wait3 rusage cpu %.3f s\n", cpu_of(&ru));
	CHECK(cpu_of(&ru) > 0.05, "wait3(): rusage misses the child's CPU");

	pid = spawn(150, 150, 23, PG_SAME);
	memset(&ru, 0, sizeof ru);
	CHECK(wait4(pid, &st, 0, &ru) == pid, "wait4()");
	CHECK(exited_with(st, 23), "wait4(): wrong status");
	fprintf(stderr, "wait4 rusage cpu %.3f s\n", cpu_of(&ru));
	CHECK(cpu_of(&ru) > 0.05, "wait4(): rusage misses the child's CPU");

	/* wait3 with WNOHANG on a running child: 0, rusage untouched is ok. */
	pid = spawn(150, 0, 24, PG_SAME);
	CHECK(wait3(&st, WNOHANG, &ru) == 0, "wait3(WNOHANG) on a running child");
	CHECK(wait4(-1, &st, 0, NULL) == pid && exited_with(st, 24),
	      "wait4(-1) without rusage");
	no_children_left("wait family");
	printf("wait, wait3, wait4 with rusage: ok\n");
}

static void test_waitid(void)
{
	siginfo_t si;
	pid_t pid, g;

	/* P_PID, first with WNOHANG before the exit, then WNOWAIT, then reap. */
	pid = spawn(150, 0, 31, PG_SAME);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0,
	      "waitid WNOHANG");
	CHECK(si.si_pid == 0, "waitid WNOHANG reported a running child");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0,
	      "waitid(P_PID, WNOWAIT)");
	CHECK(si.si_pid == pid && si.si_code == CLD_EXITED &&
	      si.si_status == 31 && si.si_signo == SIGCHLD,
	      "waitid(P_PID, WNOWAIT): wrong siginfo");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0, "waitid(P_PID) reap");
	CHECK(si.si_pid == pid && si.si_status == 31,
	      "waitid(P_PID) reap: wrong siginfo");
	errno = 0;
	CHECK(waitid(P_PID, pid, &si, WEXITED) == -1 && errno == ECHILD,
	      "waitid after reap: not ECHILD");

	/* P_ALL with WNOWAIT leaves the child for waitpid. */
	pid = spawn(100, 0, 32, PG_SAME);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == 0,
	      "waitid(P_ALL, WNOWAIT)");
	CHECK(si.si_pid == pid && si.si_status == 32,
	      "waitid(P_ALL, WNOWAIT): wrong siginfo");
	{
		int st;

		CHECK(waitpid(pid, &st, 0) == pid && exited_with(st, 32),
		      "waitpid after waitid WNOWAIT");
	}

	/* P_PGID: a child leading its own group. */
	g = spawn(100, 0, 33, PG_NEW);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PGID, g, &si, WEXITED | WNOWAIT) == 0,
	      "waitid(P_PGID, WNOWAIT)");
	CHECK(si.si_pid == g && si.si_status == 33,
	      "waitid(P_PGID, WNOWAIT): wrong siginfo");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PGID, g, &si, WEXITED) == 0, "waitid(P_PGID) reap");
	CHECK(si.si_pid == g && si.si_status == 33,
	      "waitid(P_PGID) reap: wrong siginfo");
	no_children_left("waitid");
	printf("waitid P_PID, P_ALL, P_PGID with WNOWAIT: ok\n");
}

static pid_t child_a;
static int status_a;

static void *wait_for_a(void *arg)
{
	(void)arg;
	if (waitpid(child_a, &status_a, 0) != child_a)
		status_a = -1;
	return NULL;
}

static void test_no_stray_reap(void)
{
	pthread_t th;
	pid_t b;
	int st;

	child_a = spawn(400, 0, 41, PG_SAME);
	CHECK(pthread_create(&th, NULL, wait_for_a, NULL) == 0,
	      "pthread_create");
	usleep(50000);		/* the thread is now parked on A */
	b = spawn(0, 0, 42, PG_SAME);
	pthread_join(th, NULL);
	CHECK(status_a != -1 && exited_with(status_a, 41),
	      "thread waiting on A got a wrong result");
	/* B exited long ago, while the thread waited on A: still ours. */
	CHECK(waitpid(b, &st, WNOHANG) == b,
	      "child B was reaped by somebody else");
	CHECK(exited_with(st, 42), "child B: wrong status");
	no_children_left("no stray reap");
	printf("waitpid(A) leaves child B alone: ok\n");
}

static void test_sigchld_ignored(void)
{
	struct sigaction sa, old;
	pid_t pid;
	double t;
	int st;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	CHECK(sigaction(SIGCHLD, &sa, &old) == 0, "sigaction SIG_IGN");

	pid = spawn(200, 0, 51, PG_SAME);
	t = now();
	errno = 0;
	/* Linux: blocks until every child has ended, then ECHILD. */
	CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD,
	      "SIGCHLD ignored: waitpid did not give ECHILD");
	t = now() - t;
	fprintf(stderr, "SIG_IGN waitpid returned ECHILD after %.3f s\n", t);
	CHECK(t > 0.1, "SIGCHLD ignored: waitpid did not wait for the child");
	errno = 0;
	CHECK(kill(pid, 0) == -1 && errno == ESRCH,
	      "SIGCHLD ignored: child not auto-reaped");

	pid = spawn(0, 0, 52, PG_SAME);
	usleep(100000);
	errno = 0;
	CHECK(waitpid(pid, &st, WNOHANG) == -1 && errno == ECHILD,
	      "SIGCHLD ignored: exited child still waitable");

	CHECK(sigaction(SIGCHLD, &old, NULL) == 0, "sigaction restore");
	no_children_left("SIGCHLD ignored");
	printf("SIGCHLD ignored: children auto-reaped, ECHILD: ok\n");
}

static void *wait_in_thread(void *arg)
{
	pid_t pid = (pid_t)(long)arg;
	int st;

	if (waitpid(pid, &st, 0) != pid || !exited_with(st, 62))
		return (void *)1;
	return NULL;
}

static void test_sigchld_blocked(void)
{
	struct timespec ts = { 5, 0 };
	sigset_t set, old;
	siginfo_t si;
	pthread_t th;
	void *res;
	pid_t pid;
	int st, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "sigprocmask");

	pid = spawn(100, 0, 61, PG_SAME);
	CHECK(waitpid(pid, &st, 0) == pid && exited_with(st, 61),
	      "SIGCHLD blocked: waitpid");

	/* A thread inherits the mask and waits too. */
	pid = spawn(100, 0, 62, PG_SAME);
	CHECK(pthread_create(&th, NULL, wait_in_thread, (void *)(long)pid) == 0,
	      "pthread_create");
	pthread_join(th, &res);
	CHECK(res == NULL, "SIGCHLD blocked: waitpid in a thread");

	/* The idiom: SIGCHLD blocked, sigtimedwait for it, then reap. */
	while (sigtimedwait(&set, NULL, &(struct timespec){ 0, 0 }) > 0)
		;		/* drop the SIGCHLDs of the children above */
	pid = spawn(100, 0, 63, PG_SAME);
	memset(&si, 0, sizeof si);
	sig = sigtimedwait(&set, &si, &ts);
	CHECK(sig == SIGCHLD, "sigtimedwait(SIGCHLD) did not see the child");
	CHECK(si.si_pid == pid && si.si_code == CLD_EXITED &&
	      si.si_status == 63, "sigtimedwait(SIGCHLD): wrong siginfo");
	CHECK(waitpid(pid, &st, WNOHANG) == pid && exited_with(st, 63),
	      "waitpid after sigtimedwait(SIGCHLD)");

	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0, "sigprocmask restore");
	no_children_left("SIGCHLD blocked");
	printf("SIGCHLD blocked: waitpid and sigtimedwait: ok\n");
}

int main(void)
{
	test_wnohang();
	test_echild();
	test_groups();
	test_stop_continue();
	test_wait_family();
	test_waitid();
	test_no_stray_reap();
	test_sigchld_ignored();
	test_sigchld_blocked();
	return 0;
}
