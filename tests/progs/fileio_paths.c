/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * fileio_paths — opens and stats of paths, as a program calls them: open,
 * openat, creat, the fortified __open64_2 (Debian builds with
 * _FORTIFY_SOURCE and _FILE_OFFSET_BITS=64, as here), stat, lstat,
 * fstatat, statx and the pre-2.33 __xstat, on files, symlinks, a
 * directory, missing paths and a FIFO whose writer comes 200 ms later.
 * A ticker thread runs throughout, so under the shim there is always
 * another green thread to run (with GREEN_FILEIO=pool every one of these
 * calls goes to the worker pool).
 *
 * stdout: one line per call with what it returned (errno by name), the
 * same natively and under the shim in every GREEN_FILEIO mode.
 * stderr: "path calls: N", the number of open/stat calls made (and of
 * regular-file reads and writes), which tests/scripts/fileio_paths.sh
 * compares with GREEN_STATS's pool jobs under GREEN_FILEIO=pool.
 * Exit 1 if a result is not what glibc gives, or if the ticker stalled
 * while the FIFO open waited.
 */
#define _FORTIFY_SOURCE 2
#define _FILE_OFFSET_BITS 64
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* glibc still exports it for binaries built before 2.33. */
extern int __xstat(int ver, const char *path, struct stat *st);

static volatile int stop;
static volatile long ticks;
static int calls, bad;
static char dir[64];

static void *ticker(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	(void)arg;
	while (!stop) {
		nanosleep(&ms, NULL);
		ticks++;
	}
	return NULL;
}

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EISDIR: return "EISDIR";
	case ENOTDIR: return "ENOTDIR";
	case ELOOP: return "ELOOP";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	default: return strerror(e);
	}
}

/* One call's result: r < 0 reports errno; want is "ok" or an errno name. */
static void report(const char *what, long r, const char *extra, const char *want)
{
	const char *got = r < 0 ? ename(errno) : "ok";

	calls++;
	printf("%-34s %s%s%s\n", what, got, extra ? " " : "", extra ? extra : "");
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "FAIL: %s: %s, want %s\n", what, got, want);
		bad = 1;
	}
}

static char *at(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void *fifo_writer(void *arg)
{
	struct timespec d = { 0, 200000000 };
	int fd;

	(void)arg;
	nanosleep(&d, NULL);
	fd = open(at("fifo"), O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "x", 1) != 1)
			bad = 1;
		close(fd);
	}
	return NULL;
}

static const char *kind(mode_t m)
{
	return S_ISREG(m) ? "reg" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "lnk"
	     : S_ISFIFO(m) ? "fifo" : "other";
}

int main(void)
{
	pthread_t tk, wr;
	struct stat st;
	struct statx stx;
	char extra[64], b[8];
	volatile int rdonly = O_RDONLY;	/* not a constant: __open64_2 */
	long t0;
	int fd, dfd;

	alarm(20);
	umask(022);
	strcpy(dir, "/tmp/fileio_paths.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return perror("mkdtemp"), 1;
	pthread_create(&tk, NULL, ticker, NULL);

	fd = creat(at("a"), 0640);
	report("creat a 0640", fd, NULL, "ok");
	if (fd >= 0) {
		if (write(fd, "hello", 5) != 5)
			bad = 1;
		calls++;	/* a regular-file write: the pool's too */
		close(fd);
	}
	fd = open(at("a"), O_RDONLY);
	report("open a O_RDONLY", fd, NULL, "ok");
	if (fd >= 0) {
		memset(b, 0, sizeof(b));
		if (read(fd, b, 5) != 5 || strcmp(b, "hello") != 0)
			bad = 1;
		calls++;	/* a regular-file read: the pool's too */
		close(fd);
	}
	fd = open(at("a"), rdonly);
	report("__open64_2 a", fd, NULL, "ok");
	if (fd >= 0)
		close(fd);
	report("open missing", open(at("missing"), O_RDONLY), NULL, "ENOENT");
	report("__open64_2 missing", open(at("missing"), rdonly), NULL, "ENOENT");
	report("open a O_CREAT|O_EXCL",
	       open(at("a"), O_CREAT | O_EXCL | O_WRONLY, 0600), NULL, "EEXIST");
	report("open dir O_WRONLY", open(dir, O_WRONLY), NULL, "EISDIR");
	report("open a/x (not a dir)", open(at("a/x"), O_RDONLY), NULL, "ENOTDIR");
	fd = open(at("b"), O_CREAT | O_WRONLY | O_CLOEXEC, 0604);
	snprintf(extra, sizeof(extra), "cloexec=%d",
		 fd >= 0 ? (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0 : -1);
	report("open b O_CREAT|O_CLOEXEC 0604", fd, extra, "ok");
	if (fd >= 0)
		close(fd);

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	report("open dir O_DIRECTORY", dfd, NULL, "ok");
	fd = openat(dfd, "a", O_RDONLY);
	report("openat dir a", fd, NULL, "ok");
	if (fd >= 0)
		close(fd);
	report("openat bad dirfd", openat(999, "a", O_RDONLY), NULL, "EBADF");

	if (symlink("a", at("l")) != 0 || symlink("l2", at("l2")) != 0)
		bad = 1;
	memset(&st, 0, sizeof(st));
	fd = stat(at("a"), &st);
	snprintf(extra, sizeof(extra), "%s %o size=%lld", kind(st.st_mode),
		 st.st_mode & 07777, (long long)st.st_size);
	report("stat a", fd, extra, "ok");
	fd = stat(at("l"), &st);
	snprintf(extra, sizeof(extra), "%s size=%lld", kind(st.st_mode),
		 (long long)st.st_size);
	report("stat l (-> a)", fd, extra, "ok");
	fd = lstat(at("l"), &st);
	snprintf(extra, sizeof(extra), "%s size=%lld", kind(st.st_mode),
		 (long long)st.st_size);
	report("lstat l", fd, extra, "ok");
	report("stat l2 (loop)", stat(at("l2"), &st), NULL, "ELOOP");
	report("stat missing", stat(at("missing"), &st), NULL, "ENOENT");
	fd = fstatat(dfd, "b", &st, 0);
	snprintf(extra, sizeof(extra), "%s %o", kind(st.st_mode), st.st_mode & 07777);
	report("fstatat dir b", fd, extra, "ok");
	fd = fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW);
	snprintf(extra, sizeof(extra), "%s", kind(st.st_mode));
	report("fstatat dir l NOFOLLOW", fd, extra, "ok");
	fd = fstatat(dfd, "", &st, AT_EMPTY_PATH);
	snprintf(extra, sizeof(extra), "%s", kind(st.st_mode));
	report("fstatat dirfd \"\" AT_EMPTY_PATH", fd, extra, "ok");
	memset(&stx, 0, sizeof(stx));
	fd = statx(AT_FDCWD, at("a"), 0, STATX_SIZE | STATX_MODE, &stx);
	snprintf(extra, sizeof(extra), "size=%llu %o",
		 (unsigned long long)stx.stx_size, stx.stx_mode & 07777);
	report("statx a", fd, extra, "ok");
	report("statx missing", statx(AT_FDCWD, at("missing"), 0, STATX_SIZE, &stx),
	       NULL, "ENOENT");
	fd = __xstat(1, at("a"), &st);
	snprintf(extra, sizeof(extra), "%s size=%lld", kind(st.st_mode),
		 (long long)st.st_size);
	report("__xstat a", fd, extra, "ok");
	report("__xstat bad version", __xstat(99, at("a"), &st), NULL, "EINVAL");
	calls--;	/* refused before any path walk: no pool job */
	close(dfd);

	/* A FIFO: the open waits for the writer, 200 ms away. */
	if (mkfifo(at("fifo"), 0600) != 0)
		return perror("mkfifo"), 1;
	pthread_create(&wr, NULL, fifo_writer, NULL);
	t0 = ticks;
	fd = open(at("fifo"), O_RDONLY);
	snprintf(extra, sizeof(extra), "ticker %s",
		 ticks - t0 >= 20 ? "kept ticking" : "stalled");
	report("open fifo O_RDONLY (writer later)", fd, extra, "ok");
	if (ticks - t0 < 20) {
		fprintf(stderr, "FAIL: %ld ticks while the FIFO open waited 200 ms\n",
			ticks - t0);
		bad = 1;
	}
	if (fd >= 0) {
		if (read(fd, b, 1) != 1 || b[0] != 'x')
			bad = 1;
		close(fd);
	}
	pthread_join(wr, NULL);
	calls++;	/* the writer's open */

	stop = 1;
	pthread_join(tk, NULL);
	unlink(at("a"));
	unlink(at("b"));
	unlink(at("l"));
	unlink(at("l2"));
	unlink(at("fifo"));
	rmdir(dir);
	fprintf(stderr, "path calls: %d\n", calls);
	return bad;
}
