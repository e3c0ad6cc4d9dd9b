/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=none */
/*
 * dns_mixed - every kind of lookup at once, then a cancelled one.
 *
 * Run by tests/scripts/dns_resolver_modes.sh against
 * tests/helpers/dns_delay.py (hostN.delay.test -> A 10.0.(N>>8).(N&255),
 * AAAA fd00::N in hex, and the PTRs back to host%04d.delay.test), whose
 * answers come after a fixed delay, so that lookups in flight overlap.
 *
 * Usage: dns_mixed THREADS FIRST [CANCEL_MS]
 * Part 1: THREADS threads (at least 8), thread i using name number
 * FIRST+i: the last three call the non-reentrant gethostbyname,
 * gethostbyname2 (AF_INET6) and gethostbyaddr (each function has its own
 * static result, so one thread each; the result is copied at once), the
 * others one call of kind i % 5: getaddrinfo, gethostbyname_r,
 * gethostbyname2_r (AF_INET6), gethostbyaddr_r of its IPv4 address,
 * getnameinfo of its IPv6 address (NI_NAMEREQD).  Every answer is checked.
 * Part 2 (CANCEL_MS > 0): a thread resolves a name the server answers
 * only after more than CANCEL_MS; it is cancelled after CANCEL_MS/4 and
 * must be gone well before the answer (by CANCEL_MS/2): getaddrinfo is a
 * cancellation point while it waits.  Then one more lookup must work.
 * stdout: "dns mixed: all lookups correct" (and "cancel: ok"); timings
 * on stderr.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"

static int first;
static int nbad;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;

static void bad(int n, const char *kind, const char *what)
{
    pthread_mutex_lock(&lock);
    if (nbad++ < 10)
        fprintf(stderr, "FAIL: host%04d %s: %s\n", n, kind, what);
    pthread_mutex_unlock(&lock);
}

/* The hostent must be NAME (canonical) with exactly the address WANT. */
static const char *check_hostent(const struct hostent *h, const char *name, int af,
                                 const void *want)
{
    int len = af == AF_INET ? 4 : 16;
    if (h == NULL)
        return "no result";
    if (strcmp(h->h_name, name) != 0)
        return "wrong name";
    if (h->h_addrtype != af || h->h_length != len)
        return "wrong type";
    if (h->h_addr_list[0] == NULL || memcmp(h->h_addr_list[0], want, len) != 0 ||
        h->h_addr_list[1] != NULL)
        return "wrong addresses";
    return NULL;
}

/* Copy what a non-reentrant call returned before anyone else calls it. */
static const char *copy_check(const struct hostent *h, const char *name, int af, const void *want)
{
    char nm[256];
    unsigned char a[16];
    int type, len, n = 0;
    if (h == NULL)
        return "no result";
    snprintf(nm, sizeof nm, "%s", h->h_name);
    type = h->h_addrtype;
    len = h->h_length;
    if (len > 16)
        return "wrong length";
    memcpy(a, h->h_addr_list[0] ? h->h_addr_list[0] : "", h->h_addr_list[0] ? len : 0);
    while (h->h_addr_list[n])
        n++;
    if (strcmp(nm, name) != 0)
        return "wrong name";
    if (type != af || len != (af == AF_INET ? 4 : 16) || n != 1 || memcmp(a, want, len) != 0)
        return "wrong address";
    return NULL;
}

static int nthreads;

enum { K_GAI, K_GHBN_R, K_GHBN2_R, K_GHBA_R, K_GNI, K_GHBN, K_GHBN2, K_GHBA };

static void *worker(void *arg)
{
    int i = (int)(long)arg, n = first + i, kind = i % 5;
    char name[64], a4s[32], a6s[64], buf[8192];
    unsigned char a4[4], a6[16];
    const char *err = NULL;
    struct hostent he, *h;
    int herr;

    snprintf(name, sizeof name, "host%04d.delay.test", n);
    snprintf(a4s, sizeof a4s, "10.0.%d.%d", n >> 8, n & 255);
    snprintf(a6s, sizeof a6s, "fd00::%x", n);
    inet_pton(AF_INET, a4s, a4);
    inet_pton(AF_INET6, a6s, a6);
    if (i == nthreads - 1)
        kind = K_GHBN;
    else if (i == nthreads - 2)
        kind = K_GHBN2;
    else if (i == nthreads - 3)
        kind = K_GHBA;
    pthread_barrier_wait(&start);

    switch (kind) {
    case K_GAI: {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
        int rc = getaddrinfo(name, "80", &hints, &res), g4 = 0, g6 = 0, other = 0;
        if (rc != 0) {
            err = gai_strerror(rc);
            break;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            if (ai->ai_family == AF_INET &&
                memcmp(&((struct sockaddr_in *)ai->ai_addr)->sin_addr, a4, 4) == 0)
                g4++;
            else if (ai->ai_family == AF_INET6 &&
                     memcmp(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, a6, 16) == 0)
                g6++;
            else
                other++;
        }
        freeaddrinfo(res);
        if (g4 != 1 || g6 != 1 || other)
            err = "wrong addresses";
        break;
    }
    case K_GHBN_R:
        h = NULL;
        if (gethostbyname_r(name, &he, buf, sizeof buf, &h, &herr) != 0 || h == NULL)
            err = hstrerror(herr);
        else
            err = check_hostent(h, name, AF_INET, a4);
        break;
    case K_GHBN2_R:
        h = NULL;
        if (gethostbyname2_r(name, AF_INET6, &he, buf, sizeof buf, &h, &herr) != 0 || h == NULL)
            err = hstrerror(herr);
        else
            err = check_hostent(h, name, AF_INET6, a6);
        break;
    case K_GHBN:
        err = copy_check(gethostbyname(name), name, AF_INET, a4);
        break;
    case K_GHBN2:
        err = copy_check(gethostbyname2(name, AF_INET6), name, AF_INET6, a6);
        break;
    case K_GHBA:
        err = copy_check(gethostbyaddr(a4, 4, AF_INET), name, AF_INET, a4);
        break;
    case K_GHBA_R:
        h = NULL;
        if (gethostbyaddr_r(a4, 4, AF_INET, &he, buf, sizeof buf, &h, &herr) != 0 || h == NULL)
            err = hstrerror(herr);
        else
            err = check_hostent(h, name, AF_INET, a4);
        break;
    default: {
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        char host[NI_MAXHOST];
        memcpy(&s6.sin6_addr, a6, 16);
        int rc = getnameinfo((struct sockaddr *)&s6, sizeof s6, host, sizeof host, NULL, 0,
                             NI_NAMEREQD);
        if (rc != 0)
            err = gai_strerror(rc);
        else if (strcmp(host, name) != 0)
            err = "wrong name";
        break;
    }
    }
    if (err) {
        static const char *kinds[] = { "getaddrinfo", "gethostbyname_r", "gethostbyname2_r",
                                       "gethostbyaddr_r", "getnameinfo", "gethostbyname",
                                       "gethostbyname2", "gethostbyaddr" };
        bad(n, kinds[kind], err);
    }
    return NULL;
}

static volatile int cancel_reached_end;

static void *slow_lookup(void *arg)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
    int rc = getaddrinfo((const char *)arg, "80", &hints, &res);
    if (rc == 0)
        freeaddrinfo(res);
    cancel_reached_end = 1; /* only if the cancel did not act */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s THREADS FIRST [CANCEL_MS]\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    first = atoi(argv[2]);
    int cancel_ms = argc > 3 ? atoi(argv[3]) : 0;
    nthreads = n;
    if (n < 8 || n > 10000 || first < 0 || first + n + 2 > 65536) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    pthread_t *t = calloc(n, sizeof *t);
    pthread_barrier_init(&start, NULL, n + 1);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(long)i) != 0) {
            fprintf(stderr, "FAIL: pthread_create\n");
            return 1;
        }
    double t0 = now_ms();
    pthread_barrier_wait(&start);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    fprintf(stderr, "dns_mixed: %d lookups in %.0f ms\n", n, now_ms() - t0);
    if (nbad) {
        fprintf(stderr, "FAIL: %d of %d lookups wrong\n", nbad, n);
        return 1;
    }
    printf("dns mixed: all lookups correct\n");

    if (cancel_ms > 0) {
        pthread_t c;
        void *ret;
        char name[64];
        snprintf(name, sizeof name, "host%04d.delay.test", first + n);
        double c0 = now_ms();
        pthread_create(&c, NULL, slow_lookup, name);
        struct timespec ts = { cancel_ms / 4 / 1000, (cancel_ms / 4 % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        pthread_cancel(c);
        pthread_join(c, &ret);
        double took = now_ms() - c0;
        fprintf(stderr, "dns_mixed: cancelled lookup gone after %.0f ms\n", took);
        if (ret != PTHREAD_CANCELED || cancel_reached_end) {
            fprintf(stderr, "FAIL: the lookup was not cancelled\n");
            return 1;
        }
        if (took > cancel_ms / 2) {
            fprintf(stderr, "FAIL: the cancelled lookup lasted %.0f ms\n", took);
            return 1;
        }
        /* And the resolver still works afterwards. */
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
        snprintf(name, sizeof name, "host%04d.delay.test", first + n + 1);
        int rc = getaddrinfo(name, "80", &hints, &res);
        if (rc != 0) {
            fprintf(stderr, "FAIL: lookup after the cancel: %s\n", gai_strerror(rc));
            return 1;
        }
        freeaddrinfo(res);
        printf("cancel: ok\n");
    }
    return 0;
}
