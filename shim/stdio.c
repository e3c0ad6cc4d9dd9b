/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stdio.c — stdio input on pipes, sockets and ttys (stdin, fdopen, popen
 * streams): fgetc/getc/getchar, fgets, getline/getdelim, fread, and the
 * scanf family.  runtime/fd/stdio.c says how: wait for readability before
 * glibc may read, one green owner per FILE while parked.  Streams on
 * regular files, streams whose fd the program made non-blocking, and any
 * stream when no other green thread could run go straight to glibc.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "green.h"
#include "libc_abi.h"

static bool green_stream(FILE *fp)
{
	struct gr_fd *f;

	return fp != NULL && fp->_fileno >= 0 && gr_green_fd(fp->_fileno, &f);
}

/* One character, parking while the stream is empty.  Green lock held. */
static int green_getc(FILE *fp)
{
	long r;
	int c;

	if (fp->_IO_read_ptr < fp->_IO_read_end)
		return (unsigned char)*fp->_IO_read_ptr++;
	r = gr_stdio_wait(fp);
	if (r < 0) {
		errno = (int)-r;
		fp->_flags |=
		    0x20; /* _IO_ERR_SEEN: ferror() says so, as glibc would */
		return EOF;
	}
	flockfile(fp);
	c = getc_unlocked(fp);
	funlockfile(fp);
	return c;
}

#define GREEN_OR_REAL(fp, realcall)                                            \
	do {                                                                   \
		if (!green_stream(fp))                                         \
			return realcall;                                       \
	} while (0)

GR_EXPORT int fgetc(FILE *fp)
{
	int c;

	GREEN_OR_REAL(fp, REAL(fgetc)(fp));
	if (!gr_stdio_lock(fp))
		return REAL(fgetc)(fp);
	c = green_getc(fp);
	gr_stdio_unlock(fp);
	return c;
}

GR_EXPORT int getc(FILE *fp)
{
	return fgetc(fp);
}

GR_EXPORT int gr_io_getc(FILE *fp) __asm__("_IO_getc");
GR_EXPORT int gr_io_getc(FILE *fp)
{
	return fgetc(fp);
}

GR_EXPORT int getchar(void)
{
	return fgetc(stdin);
}

GR_EXPORT char *fgets(char *s, int n, FILE *fp)
{
	int i = 0, c = 0;

	GREEN_OR_REAL(fp, REAL(fgets)(s, n, fp));
	if (n <= 0)
		return REAL(fgets)(s, n, fp);
	if (!gr_stdio_lock(fp))
		return REAL(fgets)(s, n, fp);
	while (i < n - 1) {
		c = green_getc(fp);
		if (c == EOF)
			break;
		s[i++] = (char)c;
		if (c == '\n')
			break;
	}
	gr_stdio_unlock(fp);
	if (i == 0) /* EOF or an error before any byte */
		return NULL;
	s[i] = '\0';
	return s;
}

GR_EXPORT ssize_t getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
	size_t len = 0;
	int c = 0;

	GREEN_OR_REAL(fp, REAL(getdelim)(line, cap, delim, fp));
	if (line == NULL || cap == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (!gr_stdio_lock(fp))
		return REAL(getdelim)(line, cap, delim, fp);
	for (;;) {
		if (*line == NULL || len + 2 > *cap) {
			size_t ncap = *cap < 120 ? 120 : *cap * 2;
			char *n = realloc(*line, ncap);

			if (n == NULL) {
				gr_stdio_unlock(fp);
				errno = ENOMEM;
				return -1;
			}
			*line = n;
			*cap = ncap;
		}
		c = green_getc(fp);
		if (c == EOF)
			break;
		(*line)[len++] = (char)c;
		if (c == delim)
			break;
	}
	gr_stdio_unlock(fp);
	(*line)[len] = '\0';
	return len ? (ssize_t)len : -1;
}

GR_EXPORT ssize_t getline(char **line, size_t *cap, FILE *fp)
{
	return getdelim(line, cap, '\n', fp);
}

GR_EXPORT ssize_t gr_io_getdelim(char **l, size_t *c, int d,
				 FILE *fp) __asm__("__getdelim");
GR_EXPORT ssize_t gr_io_getdelim(char **l, size_t *c, int d, FILE *fp)
{
	return getdelim(l, c, d, fp);
}

/* fread: whole items, parking between pieces; a short count at EOF or an
 * error, as glibc gives. */
GR_EXPORT size_t fread(void *buf, size_t size, size_t n, FILE *fp)
{
	size_t want, got = 0;
	char *p = buf;

	GREEN_OR_REAL(fp, REAL(fread)(buf, size, n, fp));
	if (size == 0 || n == 0 || n > SIZE_MAX / size)
		return REAL(fread)(buf, size, n, fp);
	if (!gr_stdio_lock(fp))
		return REAL(fread)(buf, size, n, fp);
	want = size * n;
	while (got < want) {
		size_t have = fp->_IO_read_end - fp->_IO_read_ptr;
		int c;

		if (have > 0) { /* copy what glibc holds in one go */
			if (have > want - got)
				have = want - got;
			memcpy(p + got, fp->_IO_read_ptr, have);
			fp->_IO_read_ptr += have;
			got += have;
			continue;
		}
		c = green_getc(fp);
		if (c == EOF)
			break;
		p[got++] = (char)c;
	}
	gr_stdio_unlock(fp);
	return got / size;
}

/* scanf family: wait for the first byte only (documented limit).  C99
 * programs call the __isoc99_ names; older ones the plain ones. */
static int green_vfscanf(int (*real)(FILE *, const char *, va_list), FILE *fp,
			 const char *fmt, va_list ap)
{
	int r;

	if (!green_stream(fp) || !gr_stdio_lock(fp))
		return real(fp, fmt, ap);
	gr_stdio_wait(fp);
	r = real(fp, fmt, ap);
	gr_stdio_unlock(fp);
	return r;
}

/* <stdio.h> redirects the plain names to the C99 ones: name them by hand. */
GR_EXPORT int gr_vfscanf(FILE *fp, const char *fmt,
			 va_list ap) __asm__("vfscanf");
GR_EXPORT int gr_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return green_vfscanf(REAL(vfscanf), fp, fmt, ap);
}

GR_EXPORT int gr_fscanf(FILE *fp, const char *fmt, ...) __asm__("fscanf");
GR_EXPORT int gr_fscanf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = green_vfscanf(REAL(vfscanf), fp, fmt, ap);
	va_end(ap);
	return r;
}

GR_EXPORT int gr_scanf(const char *fmt, ...) __asm__("scanf");
GR_EXPORT int gr_scanf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = green_vfscanf(REAL(vfscanf), stdin, fmt, ap);
	va_end(ap);
	return r;
}

GR_EXPORT int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
	return green_vfscanf(REAL(__isoc99_vfscanf), fp, fmt, ap);
}

GR_EXPORT int __isoc99_fscanf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __isoc99_vfscanf(fp, fmt, ap);
	va_end(ap);
	return r;
}

GR_EXPORT int __isoc99_scanf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __isoc99_vfscanf(stdin, fmt, ap);
	va_end(ap);
	return r;
}

GR_EXPORT int __isoc99_vscanf(const char *fmt, va_list ap)
{
	return __isoc99_vfscanf(stdin, fmt, ap);
}

/* fclose and freopen close the fd inside glibc, past close(): tell the fd
 * table first, or a parked waiter and a libev watcher would outlive the
 * number (and a later fd with that number would never wake). */
GR_EXPORT int fclose(FILE *fp)
{
	if (fp != NULL && fp->_fileno >= 0)
		gr_fd_close(fp->_fileno);
	return REAL(fclose)(fp);
}

GR_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	if (fp != NULL && fp->_fileno >= 0)
		gr_fd_close(fp->_fileno);
	return REAL(freopen)(path, mode, fp);
}

/* flockfile and friends: glibc's FILE lock is owned by the OS thread, so
 * two green threads of one hub would both "hold" it.  Nothing parks inside
 * (the stdio calls above park before glibc takes it), and preemption
 * (runtime/core/preempt.c) must not switch while the program holds one:
 * the depth is counted per green thread. */
static inline struct gr_thread *flock_owner(void)
{
	struct gr_hub *h = gr_tls_hub;

	return h != NULL && h->cur != h->hub ? h->cur : NULL;
}

GR_EXPORT void flockfile(FILE *fp)
{
	struct gr_thread *t;

	REAL(flockfile)(fp);
	if ((t = flock_owner()) != NULL)
		t->flocks++;
}

GR_EXPORT int ftrylockfile(FILE *fp)
{
	struct gr_thread *t;
	int r = REAL(ftrylockfile)(fp);

	if (r == 0 && (t = flock_owner()) != NULL)
		t->flocks++;
	return r;
}

GR_EXPORT void funlockfile(FILE *fp)
{
	struct gr_thread *t = flock_owner();

	if (t != NULL && t->flocks > 0)
		t->flocks--;
	REAL(funlockfile)(fp);
}

/* The same, under the names old binaries link. */
GR_EXPORT void gr_io_flockfile(FILE *fp) __asm__("_IO_flockfile");
GR_EXPORT void gr_io_flockfile(FILE *fp)
{
	flockfile(fp);
}

GR_EXPORT int gr_io_ftrylockfile(FILE *fp) __asm__("_IO_ftrylockfile");
GR_EXPORT int gr_io_ftrylockfile(FILE *fp)
{
	return ftrylockfile(fp);
}

GR_EXPORT void gr_io_funlockfile(FILE *fp) __asm__("_IO_funlockfile");
GR_EXPORT void gr_io_funlockfile(FILE *fp)
{
	funlockfile(fp);
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(freopen64, freopen);
extern __typeof__(gr_vfscanf) gr_vfscanf_alias __asm__("__vfscanf")
    __attribute__((alias("vfscanf"), copy(gr_vfscanf), visibility("default")));
