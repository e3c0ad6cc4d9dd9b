/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * time_virtual_exec (run by tests/scripts/time_virtual_shell.sh): a child
 * started with exec keeps the parent's virtual time.
 *   time_virtual_exec SECS       read CLOCK_REALTIME, sleep SECS, then exec
 *                                itself twice over (execv, which uses
 *                                environ, and execve with a copy of the
 *                                environment taken before the sleep)
 *   time_virtual_exec check T0 SECS [again]
 *                                print whether CLOCK_REALTIME >= T0 + SECS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct timespec ts;
	char t0[32], secs[16];
	char **env;
	int n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc >= 4 && strcmp(argv[1], "check") == 0) {
		long long t = atoll(argv[2]);

		printf("%s: child's clock %s\n", argc > 4 ? "execve" : "execv",
		       ts.tv_sec >= t + atoi(argv[3]) ? "kept the parent's time" : "went BACK");
		fflush(stdout);
		if (argc > 4)
			return 0;
		/* the second exec: an explicit environment, copied earlier */
		while (environ[n])
			n++;
		env = calloc(n + 1, sizeof(*env));
		memcpy(env, environ, n * sizeof(*env));
		execve(argv[0], (char *[]){ argv[0], "check", argv[2], argv[3], "again", NULL }, env);
		perror("execve");
		return 1;
	}
	snprintf(t0, sizeof(t0), "%lld", (long long)ts.tv_sec);
	snprintf(secs, sizeof(secs), "%s", argc > 1 ? argv[1] : "1");
	sleep(atoi(secs));
	execv(argv[0], (char *[]){ argv[0], "check", t0, secs, NULL });
	perror("execv");
	return 1;
}
