/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * dns_fork - the resolver works before fork, in the child, and in the parent
 * after fork.
 *
 * In each of the three places: getaddrinfo("localhost"), getaddrinfo of a
 * name taken from /etc/hosts (the first one other than localhost with an IPv4
 * address; its answer must be one of the addresses the file gives it),
 * gethostbyname of it, getnameinfo of its address (must give the first name
 * the file lists for that address), and the same lookups from 4 threads at
 * once.  Only /etc/hosts and numeric answers: no query leaves the machine.
 *
 * Optional arguments NAME ADDR: also resolve NAME (AF_INET) and expect ADDR
 * among the answers.  tests/scripts/dns_concurrent.sh uses this with its DNS
 * server, so that the child has to use a DNS socket the parent also had.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXADDR 16

static char hname[256];              /* a name from /etc/hosts, or "" */
static struct in_addr haddr[MAXADDR]; /* every IPv4 address the file gives it */
static int nhaddr;
static char rname[256];               /* first name of the first line with haddr[0] */
static const char *dns_name, *dns_addr;
static int failures;

static void fail(const char *where, const char *what, const char *detail)
{
    fprintf(stderr, "FAIL: %s: %s%s%s\n", where, what, detail ? ": " : "", detail ? detail : "");
    __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
}

/* Pick the name and collect its addresses (all lines, names and aliases). */
static void read_hosts(void)
{
    FILE *f = fopen("/etc/hosts", "r");
    if (!f)
        return;
    char line[1024];
    for (int pass = 0; pass < 2; pass++) {
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            char *hash = strchr(line, '#');
            if (hash)
                *hash = 0;
            char *save, *addr = strtok_r(line, " \t\r\n", &save);
            struct in_addr a;
            if (!addr || inet_pton(AF_INET, addr, &a) != 1)
                continue;
            for (char *n = strtok_r(NULL, " \t\r\n", &save); n; n = strtok_r(NULL, " \t\r\n", &save)) {
                if (pass == 0 && !hname[0] && strcasecmp(n, "localhost") != 0 &&
                    strlen(n) < sizeof hname)
                    strcpy(hname, n);
                if (pass == 1 && hname[0] && strcasecmp(n, hname) == 0 && nhaddr < MAXADDR)
                    haddr[nhaddr++] = a;
            }
        }
    }
    /* getnameinfo answers with the first name of the first line with this address. */
    if (nhaddr) {
        rewind(f);
        while (fgets(line, sizeof line, f) && !rname[0]) {
            char *hash = strchr(line, '#');
            if (hash)
                *hash = 0;
            char *save, *addr = strtok_r(line, " \t\r\n", &save);
            struct in_addr a;
            if (!addr || inet_pton(AF_INET, addr, &a) != 1 || a.s_addr != haddr[0].s_addr)
                continue;
            char *n = strtok_r(NULL, " \t\r\n", &save);
            if (n && strlen(n) < sizeof rname)
                strcpy(rname, n);
        }
    }
    fclose(f);
}

static int has_v4(const struct addrinfo *res, const struct in_addr *want, int nwant)
{
    for (; res; res = res->ai_next) {
        if (res->ai_family != AF_INET)
            continue;
        const struct sockaddr_in *s = (const void *)res->ai_addr;
        for (int i = 0; i < nwant; i++)
            if (s->sin_addr.s_addr == want[i].s_addr)
                return 1;
    }
    return 0;
}

/* All the lookups of one place; each failure is counted and reported. */
static void lookups(const char *where)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    struct in_addr lo;
    inet_pton(AF_INET, "127.0.0.1", &lo);

    int rc = getaddrinfo("localhost", "80", &hints, &res);
    if (rc != 0) {
        fail(where, "getaddrinfo(localhost)", gai_strerror(rc));
    } else {
        int ok = has_v4(res, &lo, 1);
        for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next)
            if (ai->ai_family == AF_INET6 &&
                IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr))
                ok = 1;
        if (!ok)
            fail(where, "getaddrinfo(localhost)", "no loopback address");
        freeaddrinfo(res);
    }

    if (hname[0]) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(hname, "80", &hints, &res);
        if (rc != 0) {
            fail(where, "getaddrinfo(hosts-file name)", gai_strerror(rc));
        } else {
            if (!has_v4(res, haddr, nhaddr))
                fail(where, "getaddrinfo(hosts-file name)", "address not from /etc/hosts");
            freeaddrinfo(res);
        }
        struct hostent he, *h = NULL;
        char buf[8192];
        int herr = 0;
        if (gethostbyname_r(hname, &he, buf, sizeof buf, &h, &herr) != 0 || !h) {
            fail(where, "gethostbyname_r(hosts-file name)", hstrerror(herr));
        } else {
            int ok = 0;
            for (int i = 0; h->h_addr_list[i] && !ok; i++)
                for (int j = 0; j < nhaddr; j++)
                    if (memcmp(h->h_addr_list[i], &haddr[j], 4) == 0)
                        ok = 1;
            if (h->h_addrtype != AF_INET || !ok)
                fail(where, "gethostbyname_r(hosts-file name)", "address not from /etc/hosts");
        }
        if (rname[0]) {
            struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = haddr[0] };
            char host[NI_MAXHOST];
            rc = getnameinfo((struct sockaddr *)&sin, sizeof sin, host, sizeof host, NULL, 0,
                             NI_NAMEREQD);
            if (rc != 0)
                fail(where, "getnameinfo(hosts-file address)", gai_strerror(rc));
            else if (strcmp(host, rname) != 0)
                fail(where, "getnameinfo(hosts-file address)", host);
        }
    }

    if (dns_name) {
        struct in_addr want;
        inet_pton(AF_INET, dns_addr, &want);
        hints.ai_family = AF_INET;
        rc = getaddrinfo(dns_name, NULL, &hints, &res);
        if (rc != 0) {
            fail(where, "getaddrinfo(DNS name)", gai_strerror(rc));
        } else {
            if (!has_v4(res, &want, 1))
                fail(where, "getaddrinfo(DNS name)", "wrong address");
            freeaddrinfo(res);
        }
    }
}

static void *thread_lookups(void *arg)
{
    lookups((const char *)arg);
    return NULL;
}

static void place(const char *where)
{
    int before = failures;
    lookups(where);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, thread_lookups, (void *)where) != 0)
            fail(where, "pthread_create", NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("%s: lookups %s\n", where, failures == before ? "ok" : "FAILED");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc == 3) {
        dns_name = argv[1];
        dns_addr = argv[2];
    }
    read_hosts();
    fprintf(stderr, "dns_fork: hosts-file name \"%s\" (%d addresses), reverse \"%s\"\n", hname,
            nhaddr, rname);

    place("parent before fork");
    pid_t pid = fork();
    if (pid < 0) {
        perror("FAIL: fork");
        return 1;
    }
    if (pid == 0) {
        place("child");
        exit(failures ? 1 : 0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        perror("FAIL: waitpid");
        return 1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "FAIL: child exited with status 0x%x\n", st);
        failures++;
    }
    place("parent after fork");
    return failures ? 1 : 0;
}
