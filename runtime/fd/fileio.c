/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileio.c — regular-file reads, writes and syncs under GREEN_FILEIO.
 *
 * A regular file never "blocks" in the poll sense, but a read of data that
 * is not in the page cache waits for the disk, and so does fsync.  Inline
 * (the default) that wait stalls every green thread of the hub.  With
 * GREEN_FILEIO=pool the call runs on a worker thread (pool.c) while only
 * its caller parks.  With GREEN_FILEIO=nowait a read or write is first
 * tried here with RWF_NOWAIT, which the kernel refuses with EAGAIN exactly
 * when it would wait on the disk; only then does it go to the pool.  Syncs
 * always wait on the disk: both modes send them to the pool.
 *
 * Called by the fd wrappers (io.c) for fds of kind GR_FD_FILE and by
 * shim/fileio.c (fsync, fdatasync).  Returns bytes or 0, or -errno.
 * A read here returns what one blocking read would: when RWF_NOWAIT got
 * only the cached head of the range, the rest is read on the pool, so a
 * program that assumes full reads from regular files keeps working.
 */
#include <sys/uio.h>
#include <unistd.h>
#include "green.h"

struct file_job {
	enum gr_file_op op;
	int fd;
	const struct iovec *iov;
	int iovcnt;
	off_t off;
	int flags;
};

static long file_call(struct file_job *j)
{
	long r;

	switch (j->op) {
	case GR_FILE_READ:
		r = REAL(preadv2)(j->fd, j->iov, j->iovcnt, j->off, j->flags);
		break;
	case GR_FILE_WRITE:
		r = REAL(pwritev2)(j->fd, j->iov, j->iovcnt, j->off, j->flags);
		break;
	case GR_FILE_FSYNC:
		r = REAL(fsync)(j->fd);
		break;
	case GR_FILE_FDATASYNC:
		r = REAL(fdatasync)(j->fd);
		break;
	default:
		return -EINVAL;
	}
	return r < 0 ? -errno : r;
}

static long file_job_run(void *arg)
{
	return file_call(arg);
}

/* Skip `done` bytes of iov into the caller's scratch copy. */
static int iov_advance(const struct iovec *iov, int cnt, size_t done,
		       struct iovec *out, int max)
{
	int n = 0;

	for (int i = 0; i < cnt; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		if (n == max)
			break;
		out[n].iov_base = (char *)iov[i].iov_base + done;
		out[n].iov_len = iov[i].iov_len - done;
		done = 0;
		n++;
	}
	return n;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

bool gr_file_offload(int fd)
{
	struct gr_fd *f;

	if (gr_conf()->fileio == GR_FILEIO_INLINE || !gr_park_useful())
		return false;
	f = gr_fd_get(fd);
	return f != NULL && f->kind == GR_FD_FILE;
}

long gr_file_io(enum gr_file_op op, int fd, const struct iovec *iov, int iovcnt,
		off_t off)
{
	struct file_job j = {op, fd, iov, iovcnt, off < 0 ? -1 : off, 0};
	int mode = gr_conf()->fileio;
	struct iovec rest[64];
	size_t want;
	long r, more;

	if (mode == GR_FILEIO_INLINE || !gr_may_park())
		return file_call(&j);
	if (op == GR_FILE_FSYNC || op == GR_FILE_FDATASYNC ||
	    mode == GR_FILEIO_POOL)
		return gr_pool_run(file_job_run, &j);

	/* nowait: the page cache first. */
	j.flags = RWF_NOWAIT;
	r = file_call(&j);
	j.flags = 0;
	if (r == -EOPNOTSUPP && op == GR_FILE_WRITE)
		return file_call(&j); /* fs without RWF_NOWAIT writes */
	if (r == -EAGAIN || r == -EOPNOTSUPP)
		return gr_pool_run(file_job_run, &j);
	want = iov_total(iov, iovcnt);
	if (r <= 0 || (size_t)r >= want)
		return r;
	/* Short: the head was cached, the tail is on the disk (or past
	 * the end of the file, which the pool finds out).  A file position
	 * already moved by r; an explicit offset moves here. */
	j.iovcnt = iov_advance(iov, iovcnt, r, rest, 64);
	j.iov = rest;
	if (j.off >= 0)
		j.off += r;
	more = gr_pool_run(file_job_run, &j);
	return more > 0 ? r + more : r;
}

/* ---- paths: open and stat under GREEN_FILEIO=pool -------------------- */

enum path_op { PATH_OPEN, PATH_STAT, PATH_STATX };

struct path_job {
	enum path_op op;
	int dirfd;
	const char *path;
	int flags;
	mode_t mode;   /* open */
	unsigned mask; /* statx */
	void *buf;     /* struct stat or struct statx */
};

static long path_job_run(void *arg)
{
	struct path_job *j = arg;
	long r;

	switch (j->op) {
	case PATH_OPEN:
		r = REAL(openat)(j->dirfd, j->path, j->flags, j->mode);
		break;
	case PATH_STAT:
		r = REAL(fstatat)(j->dirfd, j->path, j->buf, j->flags);
		break;
	case PATH_STATX:
		r = REAL(statx)(j->dirfd, j->path, j->flags, j->mask, j->buf);
		break;
	default:
		return -EINVAL;
	}
	return r < 0 ? -errno : r;
}

bool gr_path_offload(void)
{
	return gr_conf()->fileio == GR_FILEIO_POOL && gr_park_useful();
}

long gr_path_open(int dirfd, const char *path, int flags, mode_t mode)
{
	struct path_job j = {.op = PATH_OPEN,
			     .dirfd = dirfd,
			     .path = path,
			     .flags = flags,
			     .mode = mode};

	return gr_pool_run(path_job_run, &j);
}

long gr_path_stat(int dirfd, const char *path, struct stat *st, int flags)
{
	struct path_job j = {.op = PATH_STAT,
			     .dirfd = dirfd,
			     .path = path,
			     .flags = flags,
			     .buf = st};

	return gr_pool_run(path_job_run, &j);
}

long gr_path_statx(int dirfd, const char *path, int flags, unsigned mask,
		   struct statx *stx)
{
	struct path_job j = {.op = PATH_STATX,
			     .dirfd = dirfd,
			     .path = path,
			     .flags = flags,
			     .mask = mask,
			     .buf = stx};

	return gr_pool_run(path_job_run, &j);
}
