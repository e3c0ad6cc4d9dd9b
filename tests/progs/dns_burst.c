/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * dns_burst - N threads released together, each one getaddrinfo, and every
 * answer printed: run natively and under the shim by
 * tests/scripts/dns_burst.sh, which requires the two outputs to be equal.
 *
 * Usage: dns_burst N FIRST [MAX_MS [CANCEL_MS]]
 *   thread i asks for host<FIRST+i>.delay.test (4 digits, zero-padded;
 *   tests/helpers/dns_delay.py's zone), AF_UNSPEC, SOCK_STREAM, port 80.
 *   MAX_MS  exit 1 if the lookups take longer than this (0 or absent: no
 *           bound; the native run has none).
 *   CANCEL_MS the last thread is cancelled this long after the barrier
 *           (under the shim its lookup then waits in the resolver's queue
 *           behind the others); with MAX_MS it must be gone within 100 ms; its
 *           line reads "NAME cancelled".
 * stdout: one line per thread in thread order, "NAME ADDR ADDR..." with
 * the addresses as returned, or "NAME error: <gai_strerror>"; then
 * "dns_burst: N lookups". The time, counted from the barrier, on stderr.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define LINE 256

static int first;
static char *lines;
static pthread_barrier_t start;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *lookup(void *arg)
{
    int i = (int)(long)arg;
    char name[64], *out = lines + (size_t)i * LINE;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res;
    size_t off;
    int rc;

    snprintf(name, sizeof name, "host%04d.delay.test", first + i);
    pthread_barrier_wait(&start);
    rc = getaddrinfo(name, "80", &hints, &res);
    if (rc != 0) {
        snprintf(out, LINE, "%s error: %s", name, gai_strerror(rc));
        return NULL;
    }
    off = (size_t)snprintf(out, LINE, "%s", name);
    for (struct addrinfo *ai = res; ai != NULL && off < LINE - 64; ai = ai->ai_next) {
        char a[INET6_ADDRSTRLEN] = "?";
        int port = 0;

        if (ai->ai_family == AF_INET) {
            struct sockaddr_in *s = (void *)ai->ai_addr;

            inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
            port = ntohs(s->sin_port);
        } else if (ai->ai_family == AF_INET6) {
            struct sockaddr_in6 *s = (void *)ai->ai_addr;

            inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof a);
            port = ntohs(s->sin6_port);
        }
        off += (size_t)snprintf(out + off, LINE - off, " %s/%d", a, port);
    }
    freeaddrinfo(res);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[1]) : 0;
    double max_ms = argc > 3 ? atof(argv[3]) : 0, ms;
    pthread_attr_t attr;
    double cancel_ms = argc > 4 ? atof(argv[4]) : 0;
    pthread_t *t;
    void *ret;

    first = argc > 2 ? atoi(argv[2]) : 0;
    if (n < 1 || n > 10000 || first < 0 || first + n > 10000) {
        fprintf(stderr, "usage: %s N FIRST [MAX_MS], FIRST+N <= 10000\n", argv[0]);
        return 2;
    }
    t = calloc(n, sizeof *t);
    lines = calloc(n, LINE);
    if (t == NULL || lines == NULL)
        return 2;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_barrier_init(&start, NULL, n + 1);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, lookup, (void *)(long)i) != 0) {
            fprintf(stderr, "FAIL: pthread_create %d\n", i);
            return 1;
        }
    ms = now_ms();
    pthread_barrier_wait(&start);
    if (cancel_ms > 0) {
        struct timespec d = { (time_t)(cancel_ms / 1e3),
                              (long)((cancel_ms - 1e3 * (time_t)(cancel_ms / 1e3)) * 1e6) };
        double c0, gone;

        nanosleep(&d, NULL);
        c0 = now_ms();
        pthread_cancel(t[n - 1]);
        pthread_join(t[n - 1], &ret);
        gone = now_ms() - c0;
        if (ret == PTHREAD_CANCELED)
            snprintf(lines + (size_t)(n - 1) * LINE, LINE, "host%04d.delay.test cancelled",
                     first + n - 1);
        fprintf(stderr, "dns_burst: cancelled lookup gone after %.0f ms\n", gone);
        if (max_ms > 0 && gone > 100) { /* not natively: no bound there */
            fprintf(stderr, "FAIL: the cancelled lookup took %.0f ms to go\n", gone);
            return 1;
        }
    }
    for (int i = 0; i < n - (cancel_ms > 0); i++)
        pthread_join(t[i], NULL);
    ms = now_ms() - ms;
    for (int i = 0; i < n; i++)
        printf("%s\n", lines + (size_t)i * LINE);
    printf("dns_burst: %d lookups\n", n);
    fprintf(stderr, "dns_burst: %d lookups in %.0f ms\n", n, ms);
    if (max_ms > 0 && ms > max_ms) {
        fprintf(stderr, "FAIL: %d lookups took %.0f ms, more than %.0f ms\n", n, ms, max_ms);
        return 1;
    }
    return 0;
}
