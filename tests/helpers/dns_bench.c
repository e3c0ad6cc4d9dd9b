/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dns_bench - N threads each resolve a different name at once; how long
 * until all have their answer?  For `make bench` (concurrent lookups under
 * the shim against glibc on real threads).
 *
 * Usage: dns_bench N [ROUNDS [FIRST [SUFFIX]]]
 *   N       threads per round, one getaddrinfo each (AF_UNSPEC, STREAM)
 *   ROUNDS  rounds (default 3); every round starts N new threads, lets
 *           them go together from a barrier and joins them
 *   FIRST   number of the first name (default 0): thread i of round r asks
 *           for host<FIRST + (r*N + i) % 60000><SUFFIX>
 *   SUFFIX  default ".delay.test" (tests/helpers/dns_delay.py's zone,
 *           which answers hostN.delay.test after its --delay-ms)
 * Point it at dns_delay.py: natively inside the namespace of
 * tests/helpers/dns_ns.sh (glibc asks port 53 only), under the shim
 * anywhere with GREEN_DNS_SERVERS=127.0.0.1:PORT.
 *
 * Output (stdout), one line per round and a summary:
 *   round 1: 1000 lookups in 312.4 ms, 0 failed
 *   dns_bench: n=1000 rounds=3 min_ms=305.1 median_ms=312.4 max_ms=330.0 failed=0
 * Exit status 1 if any lookup failed.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_barrier_t start;
static int failed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *suffix = ".delay.test";

struct arg {
    int n;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *lookup(void *p)
{
    struct arg *a = p;
    char name[128];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;

    snprintf(name, sizeof name, "host%04d%s", a->n, suffix);
    pthread_barrier_wait(&start);
    int rc = getaddrinfo(name, "80", &hints, &res);
    if (rc == 0) {
        freeaddrinfo(res);
    } else {
        pthread_mutex_lock(&lock);
        if (failed++ < 5)
            fprintf(stderr, "dns_bench: %s: %s\n", name, gai_strerror(rc));
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int first = argc > 3 ? atoi(argv[3]) : 0;
    if (argc > 4)
        suffix = argv[4];
    if (n < 1 || n > 60000 || rounds < 1 || rounds > 1000 || first < 0) {
        fprintf(stderr, "usage: %s N [ROUNDS [FIRST [SUFFIX]]]\n", argv[0]);
        return 2;
    }
    pthread_t *t = calloc(n, sizeof *t);
    struct arg *args = calloc(n, sizeof *args);
    double *ms = calloc(rounds, sizeof *ms);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);

    for (int r = 0; r < rounds; r++) {
        int before = failed, made = 0;
        pthread_barrier_init(&start, NULL, n + 1);
        for (int i = 0; i < n; i++) {
            args[i].n = (first + r * n + i) % 60000;
            if (pthread_create(&t[i], &attr, lookup, &args[i]) != 0) {
                fprintf(stderr, "dns_bench: pthread_create %d failed\n", i);
                return 1;
            }
            made++;
        }
        double t0 = now_ms();
        pthread_barrier_wait(&start);
        for (int i = 0; i < made; i++)
            pthread_join(t[i], NULL);
        ms[r] = now_ms() - t0;
        pthread_barrier_destroy(&start);
        printf("round %d: %d lookups in %.1f ms, %d failed\n", r + 1, n, ms[r], failed - before);
        fflush(stdout);
    }
    qsort(ms, rounds, sizeof *ms, cmp);
    printf("dns_bench: n=%d rounds=%d min_ms=%.1f median_ms=%.1f max_ms=%.1f failed=%d\n", n,
           rounds, ms[0], ms[rounds / 2], ms[rounds - 1], failed);
    return failed ? 1 : 0;
}
