/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * dns_concurrent_1000 - N threads each resolve a different name at once.
 *
 * Run by tests/scripts/dns_concurrent.sh against tests/helpers/dns_delay.py,
 * whose zone maps hostN.delay.test to A 10.0.(N>>8).(N&255) and
 * AAAA fd00::<N in hex>, and which answers every query after a fixed delay.
 * Lookups that overlap finish in about one delay; lookups that queue behind
 * each other take N delays.
 *
 * Usage: dns_concurrent_1000 [N [MAX_MS [FIRST]]]
 *   N       threads, one lookup each (default 1000)
 *   MAX_MS  fail if all N lookups take longer than this (0 = no bound)
 *   FIRST   number of the first name (default 0): thread i asks for
 *           host<FIRST+i>.delay.test (4 digits, zero-padded)
 * Every thread checks its answer: exactly one AF_INET and one AF_INET6
 * SOCK_STREAM entry, with the right addresses and port 80.
 * stdout: one line ("dns concurrent: all lookups correct"); timings on stderr.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "check.h"

static int first;
static int nbad;
static pthread_mutex_t bad_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;

static void bad(int n, const char *what)
{
    pthread_mutex_lock(&bad_lock);
    if (nbad++ < 10)
        fprintf(stderr, "FAIL: host%04d.delay.test: %s\n", n, what);
    pthread_mutex_unlock(&bad_lock);
}

static void *lookup(void *arg)
{
    int n = first + (int)(long)arg;
    char name[64], want4[16], want6[16];
    snprintf(name, sizeof name, "host%04d.delay.test", n);
    char a4[32], a6[64];
    snprintf(a4, sizeof a4, "10.0.%d.%d", n >> 8, n & 255);
    snprintf(a6, sizeof a6, "fd00::%x", n);
    inet_pton(AF_INET, a4, want4);
    inet_pton(AF_INET6, a6, want6);

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    pthread_barrier_wait(&start);
    int rc = getaddrinfo(name, "80", &hints, &res);
    if (rc != 0) {
        bad(n, gai_strerror(rc));
        return NULL;
    }
    int got4 = 0, got6 = 0, other = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && ai->ai_addrlen == sizeof(struct sockaddr_in)) {
            struct sockaddr_in *s = (void *)ai->ai_addr;
            if (memcmp(&s->sin_addr, want4, 4) == 0 && ntohs(s->sin_port) == 80)
                got4++;
            else
                other++;
        } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen == sizeof(struct sockaddr_in6)) {
            struct sockaddr_in6 *s = (void *)ai->ai_addr;
            if (memcmp(&s->sin6_addr, want6, 16) == 0 && ntohs(s->sin6_port) == 80)
                got6++;
            else
                other++;
        } else {
            other++;
        }
    }
    freeaddrinfo(res);
    if (got4 != 1 || got6 != 1 || other != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "wrong answer: %d right A, %d right AAAA, %d other entries",
                 got4, got6, other);
        bad(n, msg);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    double max_ms = argc > 2 ? atof(argv[2]) : 0;
    first = argc > 3 ? atoi(argv[3]) : 0;
    if (n < 1 || n > 60000 || first < 0 || first + n > 65536) {
        fprintf(stderr, "usage: %s [N [MAX_MS [FIRST]]], N in 1..60000\n", argv[0]);
        return 2;
    }
    pthread_t *t = calloc(n, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_barrier_init(&start, NULL, n + 1);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, lookup, (void *)(long)i) != 0) {
            fprintf(stderr, "FAIL: pthread_create %d\n", i);
            return 1;
        }
    double t0 = now_ms();
    pthread_barrier_wait(&start);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    double ms = now_ms() - t0;
    fprintf(stderr, "dns_concurrent_1000: %d lookups in %.0f ms\n", n, ms);
    if (nbad) {
        fprintf(stderr, "FAIL: %d of %d lookups wrong\n", nbad, n);
        return 1;
    }
    if (max_ms > 0 && ms > max_ms) {
        fprintf(stderr, "FAIL: %d lookups took %.0f ms, more than %.0f ms: they did not overlap\n",
                n, ms, max_ms);
        return 1;
    }
    printf("dns concurrent: all lookups correct\n");
    return 0;
}
