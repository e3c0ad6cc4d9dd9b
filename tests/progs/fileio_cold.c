/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * fileio_cold - a thread reads a large file that is not in the page cache
 * while another thread ticks every millisecond: do the ticks go on?
 *
 * Run by tests/scripts/fileio_modes.sh, natively and under the shim with
 * GREEN_FILEIO=inline, pool and nowait.  A regular file never "blocks" in
 * the poll sense, so inline (the shim's default) a cold read holds the
 * whole hub: the ticker stops.  With pool or nowait the read waits on a
 * worker thread and only the reader parks.
 *
 * Usage: fileio_cold EXPECT [MIB [ROUNDS]]
 *   EXPECT 1: fail unless the ticker kept ticking during the cold reads
 *             (at least one tick per 10 ms of reading, a tenth of what a
 *             1 ms ticker gives);  0: only report.
 *   MIB     file size (default 256), ROUNDS (default 3).
 * The file is made in /tmp before any thread exists and removed at the
 * end.  Each round: posix_fadvise(DONTNEED) drops its pages, then one
 * read() of the whole file (cold), then one more (warm); every byte is
 * checked.  Then, with the ticker still running, the first MiB is
 * rewritten (pwrite), synced (fsync, fdatasync) and read back (pread).
 * stdout: one line; numbers on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile int stop;
static volatile long ticks;

static void *ticker(void *arg)
{
    while (!stop) {
        usleep(1000);
        ticks++;
    }
    return arg;
}

static int pattern_ok(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(i * 7 + (i >> 20)))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s EXPECT [MIB [ROUNDS]]\n", argv[0]);
        return 2;
    }
    int expect = atoi(argv[1]);
    size_t size = (size_t)(argc > 2 ? atoi(argv[2]) : 256) << 20;
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    char path[] = "/tmp/fileio_cold.XXXXXX";
    unsigned char *buf = malloc(size);
    if (buf == NULL || size == 0 || rounds < 1) {
        fprintf(stderr, "FAIL: bad size or no memory\n");
        return 1;
    }
    for (size_t i = 0; i < size; i++)
        buf[i] = (unsigned char)(i * 7 + (i >> 20));

    /* Made while the program has one thread. */
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("FAIL: mkstemp");
        return 1;
    }
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, buf + off, size - off);
        if (n <= 0) {
            perror("FAIL: write");
            unlink(path);
            return 1;
        }
        off += n;
    }
    if (fsync(fd) != 0) {
        perror("FAIL: fsync");
        unlink(path);
        return 1;
    }

    pthread_t t;
    if (pthread_create(&t, NULL, ticker, NULL) != 0) {
        fprintf(stderr, "FAIL: pthread_create\n");
        unlink(path);
        return 1;
    }
    int fails = 0;
    double cold_ms = 0;
    long cold_ticks = 0;
    for (int r = 0; r < rounds && !fails; r++) {
        int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (e != 0) {
            fprintf(stderr, "FAIL: posix_fadvise: %s\n", strerror(e));
            fails++;
            break;
        }
        for (int warm = 0; warm < 2; warm++) {
            memset(buf, 0, size);
            if (lseek(fd, 0, SEEK_SET) != 0) {
                perror("FAIL: lseek");
                fails++;
                break;
            }
            long t0 = ticks;
            double a = now_ms();
            ssize_t n = read(fd, buf, size);
            double ms = now_ms() - a;
            long dt = ticks - t0;
            if (n != (ssize_t)size || !pattern_ok(buf, size)) {
                fprintf(stderr, "FAIL: %s read returned %zd of %zu bytes%s\n",
                        warm ? "warm" : "cold", n, size,
                        n == (ssize_t)size ? " (wrong bytes)" : "");
                fails++;
                break;
            }
            fprintf(stderr, "round %d %s: %.0f ms, %ld ticks\n", r, warm ? "warm" : "cold", ms,
                    dt);
            if (!warm) {
                cold_ms += ms;
                cold_ticks += dt;
            }
        }
    }
    /* A write and the syncs, with the ticker running (GREEN_FILEIO
     * sends the syncs to the worker pool). */
    if (!fails) {
        memset(buf, 0x5a, 1 << 20);
        if (pwrite(fd, buf, 1 << 20, 0) != 1 << 20 || fsync(fd) != 0 || fdatasync(fd) != 0) {
            perror("FAIL: pwrite/fsync/fdatasync");
            fails++;
        } else {
            memset(buf, 0, 1 << 20);
            if (pread(fd, buf, 1 << 20, 0) != 1 << 20 || buf[0] != 0x5a ||
                buf[(1 << 20) - 1] != 0x5a) {
                fprintf(stderr, "FAIL: the rewritten MiB did not read back\n");
                fails++;
            }
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    close(fd);
    unlink(path);
    if (fails)
        return 1;
    fprintf(stderr, "cold reads: %.0f ms in all, %ld ticks meanwhile\n", cold_ms, cold_ticks);
    if (expect && cold_ticks < cold_ms / 10) {
        fprintf(stderr, "FAIL: the ticker stalled during the cold reads (%ld ticks in %.0f ms)\n",
                cold_ticks, cold_ms);
        return 1;
    }
    printf("fileio cold: %d rounds read back right\n", rounds);
    return 0;
}
