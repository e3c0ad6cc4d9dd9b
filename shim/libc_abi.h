/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libc_abi.h — prototypes of the libc ABI names the shim exports that no
 * public header declares: glibc's fortified and versioned entry points,
 * which programs reach through macros and inline wrappers, never by name.
 * The signatures are glibc 2.36's own.  Declared here so that every
 * definition has a previous prototype (-Wmissing-prototypes).
 */
#ifndef GREEN_LIBC_ABI_H
#define GREEN_LIBC_ABI_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

int __open_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __register_atfork(void (*prepare)(void), void (*parent)(void),
		      void (*child)(void), void *dso);
__sighandler_t bsd_signal(int sig, __sighandler_t fn);
void __longjmp_chk(struct __jmp_buf_tag env[1], int val)
    __attribute__((noreturn));
int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap);
int __isoc99_fscanf(FILE *fp, const char *fmt, ...);
int __isoc99_scanf(const char *fmt, ...);
int __isoc99_vscanf(const char *fmt, va_list ap);

/* _FORTIFY_SOURCE's forms (shim/fortify.c). */
int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		const sigset_t *ss, size_t fdslen);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen);
char *__fgets_chk(char *s, size_t size, int n, FILE *fp);
size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp);

#endif /* GREEN_LIBC_ABI_H */
