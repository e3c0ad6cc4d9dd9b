/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * real_list.h — every libc function the shim interposes and must still call.
 * X(name, return type, (parameters)).  Add a line here when a wrapper needs
 * its next-in-chain function; REAL(name) resolves it on first use.
 */
#ifndef GREEN_REAL_LIST_H
#define GREEN_REAL_LIST_H
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <netdb.h>
#include <pwd.h>
#include <grp.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdio.h>
#include <semaphore.h>
#include <spawn.h>
#include <setjmp.h>
struct dl_phdr_info;
#include <sys/time.h>
#include <sys/timerfd.h>

struct io_uring;
struct io_uring_cqe;
struct __kernel_timespec;

#define GR_REAL_LIST                                                           \
	/* liburing's waits (shim/uring.c): not libc, the program's liburing   \
	 */                                                                    \
	X(__io_uring_get_cqe, int,                                             \
	  (struct io_uring *, struct io_uring_cqe **, unsigned, unsigned,      \
	   sigset_t *))                                                        \
	X(io_uring_wait_cqes, int,                                             \
	  (struct io_uring *, struct io_uring_cqe **, unsigned,                \
	   struct __kernel_timespec *, sigset_t *))                            \
	X(io_uring_wait_cqe_timeout, int,                                      \
	  (struct io_uring *, struct io_uring_cqe **,                          \
	   struct __kernel_timespec *))                                        \
	X(io_uring_submit_and_wait, int, (struct io_uring *, unsigned))        \
	X(io_uring_submit_and_wait_timeout, int,                               \
	  (struct io_uring *, struct io_uring_cqe **, unsigned,                \
	   struct __kernel_timespec *, sigset_t *))                            \
	X(io_uring_enter2, int,                                                \
	  (unsigned, unsigned, unsigned, unsigned, sigset_t *, size_t))        \
	X(__io_uring_sqring_wait, int, (struct io_uring *))                    \
	/* set*id: glibc signals every other thread it knows of (tls.c) */     \
	X(setuid, int, (uid_t))                                                \
	X(setgid, int, (gid_t))                                                \
	X(seteuid, int, (uid_t))                                               \
	X(setegid, int, (gid_t))                                               \
	X(setreuid, int, (uid_t, uid_t))                                       \
	X(setregid, int, (gid_t, gid_t))                                       \
	X(setresuid, int, (uid_t, uid_t, uid_t))                               \
	X(setresgid, int, (gid_t, gid_t, gid_t))                               \
	X(setgroups, int, (size_t, const gid_t *))                             \
	/* threads */                                                          \
	X(pthread_create, int,                                                 \
	  (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))    \
	X(pthread_join, int, (pthread_t, void **))                             \
	X(pthread_tryjoin_np, int, (pthread_t, void **))                       \
	X(pthread_timedjoin_np, int,                                           \
	  (pthread_t, void **, const struct timespec *))                       \
	X(pthread_clockjoin_np, int,                                           \
	  (pthread_t, void **, clockid_t, const struct timespec *))            \
	X(pthread_detach, int, (pthread_t))                                    \
	X(pthread_exit, void, (void *))                                        \
	X(pthread_self, pthread_t, (void))                                     \
	X(pthread_getattr_np, int, (pthread_t, pthread_attr_t *))              \
	X(pthread_setname_np, int, (pthread_t, const char *))                  \
	X(pthread_getname_np, int, (pthread_t, char *, size_t))                \
	X(pthread_key_create, int, (pthread_key_t *, void (*)(void *)))        \
	X(pthread_setspecific, int, (pthread_key_t, const void *))             \
	X(pthread_cancel, int, (pthread_t))                                    \
	X(pthread_kill, int, (pthread_t, int))                                 \
	X(pthread_sigmask, int, (int, const sigset_t *, sigset_t *))           \
	X(pthread_setcancelstate, int, (int, int *))                           \
	X(pthread_setcanceltype, int, (int, int *))                            \
	X(pthread_testcancel, void, (void))                                    \
	X(pthread_once, int, (pthread_once_t *, void (*)(void)))               \
	X(sched_yield, int, (void))                                            \
	X(pthread_getschedparam, int,                                          \
	  (pthread_t, int *, struct sched_param *))                            \
	X(pthread_setschedparam, int,                                          \
	  (pthread_t, int, const struct sched_param *))                        \
	X(pthread_setschedprio, int, (pthread_t, int))                         \
	X(pthread_getcpuclockid, int, (pthread_t, clockid_t *))                \
	X(pthread_setaffinity_np, int, (pthread_t, size_t, const cpu_set_t *)) \
	X(pthread_getaffinity_np, int, (pthread_t, size_t, cpu_set_t *))       \
	X(__pthread_register_cancel, void, (__pthread_unwind_buf_t *))         \
	X(__pthread_unregister_cancel, void, (__pthread_unwind_buf_t *))       \
	X(__pthread_unwind_next, void, (__pthread_unwind_buf_t *))             \
	/* sync */                                                             \
	X(pthread_mutex_lock, int, (pthread_mutex_t *))                        \
	X(pthread_mutex_trylock, int, (pthread_mutex_t *))                     \
	X(pthread_mutex_timedlock, int,                                        \
	  (pthread_mutex_t *, const struct timespec *))                        \
	X(pthread_mutex_clocklock, int,                                        \
	  (pthread_mutex_t *, clockid_t, const struct timespec *))             \
	X(pthread_mutex_unlock, int, (pthread_mutex_t *))                      \
	X(pthread_cond_init, int,                                              \
	  (pthread_cond_t *, const pthread_condattr_t *))                      \
	X(pthread_cond_destroy, int, (pthread_cond_t *))                       \
	X(pthread_cond_wait, int, (pthread_cond_t *, pthread_mutex_t *))       \
	X(pthread_cond_timedwait, int,                                         \
	  (pthread_cond_t *, pthread_mutex_t *, const struct timespec *))      \
	X(pthread_cond_clockwait, int,                                         \
	  (pthread_cond_t *, pthread_mutex_t *, clockid_t,                     \
	   const struct timespec *))                                           \
	X(pthread_cond_signal, int, (pthread_cond_t *))                        \
	X(pthread_cond_broadcast, int, (pthread_cond_t *))                     \
	X(pthread_rwlock_init, int,                                            \
	  (pthread_rwlock_t *, const pthread_rwlockattr_t *))                  \
	X(pthread_rwlock_destroy, int, (pthread_rwlock_t *))                   \
	X(pthread_rwlock_rdlock, int, (pthread_rwlock_t *))                    \
	X(pthread_rwlock_wrlock, int, (pthread_rwlock_t *))                    \
	X(pthread_rwlock_tryrdlock, int, (pthread_rwlock_t *))                 \
	X(pthread_rwlock_trywrlock, int, (pthread_rwlock_t *))                 \
	X(pthread_rwlock_timedrdlock, int,                                     \
	  (pthread_rwlock_t *, const struct timespec *))                       \
	X(pthread_rwlock_timedwrlock, int,                                     \
	  (pthread_rwlock_t *, const struct timespec *))                       \
	X(pthread_rwlock_clockrdlock, int,                                     \
	  (pthread_rwlock_t *, clockid_t, const struct timespec *))            \
	X(pthread_rwlock_clockwrlock, int,                                     \
	  (pthread_rwlock_t *, clockid_t, const struct timespec *))            \
	X(pthread_rwlock_unlock, int, (pthread_rwlock_t *))                    \
	X(pthread_barrier_init, int,                                           \
	  (pthread_barrier_t *, const pthread_barrierattr_t *, unsigned))      \
	X(pthread_barrier_wait, int, (pthread_barrier_t *))                    \
	X(pthread_barrier_destroy, int, (pthread_barrier_t *))                 \
	X(sem_wait, int, (sem_t *))                                            \
	X(sem_trywait, int, (sem_t *))                                         \
	X(sem_timedwait, int, (sem_t *, const struct timespec *))              \
	X(sem_clockwait, int, (sem_t *, clockid_t, const struct timespec *))   \
	X(sem_post, int, (sem_t *))                                            \
	/* time */                                                             \
	X(nanosleep, int, (const struct timespec *, struct timespec *))        \
	X(clock_nanosleep, int,                                                \
	  (clockid_t, int, const struct timespec *, struct timespec *))        \
	X(usleep, int, (useconds_t))                                           \
	X(sleep, unsigned, (unsigned))                                         \
	/* fds */                                                              \
	X(read, ssize_t, (int, void *, size_t))                                \
	X(write, ssize_t, (int, const void *, size_t))                         \
	X(readv, ssize_t, (int, const struct iovec *, int))                    \
	X(writev, ssize_t, (int, const struct iovec *, int))                   \
	X(pread, ssize_t, (int, void *, size_t, off_t))                        \
	X(pwrite, ssize_t, (int, const void *, size_t, off_t))                 \
	X(preadv, ssize_t, (int, const struct iovec *, int, off_t))            \
	X(pwritev, ssize_t, (int, const struct iovec *, int, off_t))           \
	X(preadv2, ssize_t, (int, const struct iovec *, int, off_t, int))      \
	X(pwritev2, ssize_t, (int, const struct iovec *, int, off_t, int))     \
	X(pread64, ssize_t, (int, void *, size_t, off_t))                      \
	X(pwrite64, ssize_t, (int, const void *, size_t, off_t))               \
	X(preadv64, ssize_t, (int, const struct iovec *, int, off_t))          \
	X(pwritev64, ssize_t, (int, const struct iovec *, int, off_t))         \
	X(recvfrom, ssize_t,                                                   \
	  (int, void *, size_t, int, struct sockaddr *, socklen_t *))          \
	X(sendto, ssize_t,                                                     \
	  (int, const void *, size_t, int, const struct sockaddr *,            \
	   socklen_t))                                                         \
	X(recvmsg, ssize_t, (int, struct msghdr *, int))                       \
	X(sendmsg, ssize_t, (int, const struct msghdr *, int))                 \
	X(recvmmsg, int,                                                       \
	  (int, struct mmsghdr *, unsigned, int, struct timespec *))           \
	X(sendmmsg, int, (int, struct mmsghdr *, unsigned, int))               \
	X(accept4, int, (int, struct sockaddr *, socklen_t *, int))            \
	X(connect, int, (int, const struct sockaddr *, socklen_t))             \
	X(poll, int, (struct pollfd *, nfds_t, int))                           \
	X(ppoll, int,                                                          \
	  (struct pollfd *, nfds_t, const struct timespec *,                   \
	   const sigset_t *))                                                  \
	X(select, int, (int, fd_set *, fd_set *, fd_set *, struct timeval *))  \
	X(pselect, int,                                                        \
	  (int, fd_set *, fd_set *, fd_set *, const struct timespec *,         \
	   const sigset_t *))                                                  \
	X(epoll_wait, int, (int, struct epoll_event *, int, int))              \
	X(epoll_pwait, int,                                                    \
	  (int, struct epoll_event *, int, int, const sigset_t *))             \
	X(epoll_pwait2, int,                                                   \
	  (int, struct epoll_event *, int, const struct timespec *,            \
	   const sigset_t *))                                                  \
	X(sendfile, ssize_t, (int, int, off_t *, size_t))                      \
	X(splice, ssize_t, (int, loff_t *, int, loff_t *, size_t, unsigned))   \
	X(socket, int, (int, int, int))                                        \
	X(socketpair, int, (int, int, int, int *))                             \
	X(pipe2, int, (int *, int))                                            \
	X(open, int, (const char *, int, ...))                                 \
	X(openat, int, (int, const char *, int, ...))                          \
	X(__open_2, int, (const char *, int))                                  \
	X(__openat_2, int, (int, const char *, int))                           \
	X(stat, int, (const char *, struct stat *))                            \
	X(lstat, int, (const char *, struct stat *))                           \
	X(fstatat, int, (int, const char *, struct stat *, int))               \
	X(statx, int, (int, const char *, int, unsigned, struct statx *))      \
	X(__xstat, int, (int, const char *, struct stat *))                    \
	X(__lxstat, int, (int, const char *, struct stat *))                   \
	X(__fxstatat, int, (int, int, const char *, struct stat *, int))       \
	X(dup, int, (int))                                                     \
	X(dup2, int, (int, int))                                               \
	X(dup3, int, (int, int, int))                                          \
	X(fcntl, int, (int, int, ...))                                         \
	X(fcntl64, int, (int, int, ...))                                       \
	X(ioctl, int, (int, unsigned long, ...))                               \
	X(close, int, (int))                                                   \
	X(close_range, int, (unsigned, unsigned, int))                         \
	X(setsockopt, int, (int, int, int, const void *, socklen_t))           \
	X(fsync, int, (int))                                                   \
	X(fdatasync, int, (int))                                               \
	/* processes and signals */                                            \
	X(waitpid, pid_t, (pid_t, int *, int))                                 \
	X(wait, pid_t, (int *))                                                \
	X(wait3, pid_t, (int *, int, struct rusage *))                         \
	X(wait4, pid_t, (pid_t, int *, int, struct rusage *))                  \
	X(waitid, int, (idtype_t, id_t, siginfo_t *, int))                     \
	X(system, int, (const char *))                                         \
	X(pclose, int, (FILE *))                                               \
	X(sigaction, int, (int, const struct sigaction *, struct sigaction *)) \
	X(sigtimedwait, int,                                                   \
	  (const sigset_t *, siginfo_t *, const struct timespec *))            \
	X(sigsuspend, int, (const sigset_t *))                                 \
	X(pause, int, (void))                                                  \
	X(exit, void, (int))                                                   \
	X(_Fork, pid_t, (void))                                                \
	X(fork, pid_t, (void))                                                 \
	X(__register_atfork, int,                                              \
	  (void (*)(void), void (*)(void), void (*)(void), void *))            \
	X(posix_spawn, int,                                                    \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *,          \
	   const posix_spawnattr_t *, char *const[], char *const[]))           \
	X(posix_spawnp, int,                                                   \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *,          \
	   const posix_spawnattr_t *, char *const[], char *const[]))           \
	X(execve, int, (const char *, char *const[], char *const[]))           \
	X(sigpending, int, (sigset_t *))                                       \
	X(raise, int, (int))                                                   \
	X(longjmp, void, (struct __jmp_buf_tag *, int))                        \
	X(siglongjmp, void, (struct __jmp_buf_tag *, int))                     \
	X(_longjmp, void, (struct __jmp_buf_tag *, int))                       \
	X(__longjmp_chk, void, (struct __jmp_buf_tag *, int))                  \
	X(epoll_create, int, (int))                                            \
	X(epoll_create1, int, (int))                                           \
	X(eventfd, int, (unsigned, int))                                       \
	/* names */                                                            \
	X(getaddrinfo, int,                                                    \
	  (const char *, const char *, const struct addrinfo *,                \
	   struct addrinfo **))                                                \
	X(freeaddrinfo, void, (struct addrinfo *))                             \
	X(getnameinfo, int,                                                    \
	  (const struct sockaddr *, socklen_t, char *, socklen_t, char *,      \
	   socklen_t, int))                                                    \
	X(gethostbyname, struct hostent *, (const char *))                     \
	X(gethostbyname2, struct hostent *, (const char *, int))               \
	X(gethostbyname_r, int,                                                \
	  (const char *, struct hostent *, char *, size_t, struct hostent **,  \
	   int *))                                                             \
	X(gethostbyname2_r, int,                                               \
	  (const char *, int, struct hostent *, char *, size_t,                \
	   struct hostent **, int *))                                          \
	X(gethostbyaddr, struct hostent *, (const void *, socklen_t, int))     \
	X(gethostbyaddr_r, int,                                                \
	  (const void *, socklen_t, int, struct hostent *, char *, size_t,     \
	   struct hostent **, int *))                                          \
	X(syscall, long, (long, ...))                                          \
	/* stdio input */                                                      \
	X(fgetc, int, (FILE *))                                                \
	X(fclose, int, (FILE *))                                               \
	X(freopen, FILE *, (const char *, const char *, FILE *))               \
	X(fgets, char *, (char *, int, FILE *))                                \
	X(getdelim, ssize_t, (char **, size_t *, int, FILE *))                 \
	X(fread, size_t, (void *, size_t, size_t, FILE *))                     \
	X(vfscanf, int, (FILE *, const char *, va_list))                       \
	X(__isoc99_vfscanf, int, (FILE *, const char *, va_list))              \
	/* loader */                                                           \
	X(dlopen, void *, (const char *, int))                                 \
	X(dl_iterate_phdr, int,                                                \
	  (int (*)(struct dl_phdr_info *, size_t, void *), void *))            \
	X(flockfile, void, (FILE *))                                           \
	X(ftrylockfile, int, (FILE *))                                         \
	X(funlockfile, void, (FILE *))                                         \
	X(getpwnam, struct passwd *, (const char *))                           \
	X(getpwuid, struct passwd *, (uid_t))                                  \
	X(getpwnam_r, int,                                                     \
	  (const char *, struct passwd *, char *, size_t, struct passwd **))   \
	X(getpwuid_r, int,                                                     \
	  (uid_t, struct passwd *, char *, size_t, struct passwd **))          \
	X(getpwent, struct passwd *, (void))                                   \
	X(getgrnam, struct group *, (const char *))                            \
	X(getgrgid, struct group *, (gid_t))                                   \
	X(getgrnam_r, int,                                                     \
	  (const char *, struct group *, char *, size_t, struct group **))     \
	X(getgrgid_r, int,                                                     \
	  (gid_t, struct group *, char *, size_t, struct group **))            \
	X(getgrent, struct group *, (void))                                    \
	X(initgroups, int, (const char *, gid_t))                              \
	X(getgrouplist, int, (const char *, gid_t, gid_t *, int *))            \
	X(getspnam, struct spwd *, (const char *))                             \
	X(getservbyname, struct servent *, (const char *, const char *))       \
	X(getservbyport, struct servent *, (int, const char *))                \
	X(getservbyname_r, int,                                                \
	  (const char *, const char *, struct servent *, char *, size_t,       \
	   struct servent **))                                                 \
	X(getservbyport_r, int,                                                \
	  (int, const char *, struct servent *, char *, size_t,                \
	   struct servent **))                                                 \
	X(getprotobyname, struct protoent *, (const char *))                   \
	X(getprotobynumber, struct protoent *, (int))                          \
	X(dlclose, int, (void *))                                              \
	/* clocks and timers (vclock.c, shim/clock.c) */                       \
	X(clock_gettime, int, (clockid_t, struct timespec *))                  \
	X(gettimeofday, int, (struct timeval *, void *))                       \
	X(time, time_t, (time_t *))                                            \
	X(timespec_get, int, (struct timespec *, int))                         \
	X(alarm, unsigned, (unsigned))                                         \
	X(setitimer, int,                                                      \
	  (__itimer_which_t, const struct itimerval *, struct itimerval *))    \
	X(getitimer, int, (__itimer_which_t, struct itimerval *))              \
	X(timerfd_create, int, (int, int))                                     \
	X(timerfd_settime, int,                                                \
	  (int, int, const struct itimerspec *, struct itimerspec *))          \
	X(timerfd_gettime, int, (int, struct itimerspec *))                    \
	X(abort, void, (void))                                                 \
	X(timer_create, int, (clockid_t, struct sigevent *, timer_t *))        \
	X(timer_settime, int,                                                  \
	  (timer_t, int, const struct itimerspec *, struct itimerspec *))      \
	X(timer_gettime, int, (timer_t, struct itimerspec *))                  \
	X(timer_getoverrun, int, (timer_t))                                    \
	X(timer_delete, int, (timer_t))                                        \
	X(__assert_fail, void,                                                 \
	  (const char *, const char *, unsigned, const char *))

#endif
