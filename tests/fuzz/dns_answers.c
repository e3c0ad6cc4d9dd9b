/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dns_answers.c — fuzz the code that turns DNS answers into hostents and
 * address tuples (runtime/names/dnsmod.c: getanswer_r, gaih_getanswer, the
 * search and query logic around them).  Any answer, however truncated or
 * malformed, must give an NSS status and never a crash, an out-of-bounds
 * access or a result that points outside the caller's buffer.
 *
 * dnsmod.c is compiled into this file with the transport (gr_res_send)
 * replaced by the fuzz input.  Two ways to run it:
 *   - libFuzzer (clang -fsanitize=fuzzer,address -DGR_LIBFUZZER):
 *     `make fuzz` builds build/fuzz/dns_answers_libfuzzer and runs it;
 *   - standalone (any cc, -fsanitize=address,undefined): main() below
 *     mutates a set of valid answers for N seconds (tests/scripts/
 *     fuzz_dns_answers.sh runs it for a few seconds).
 *
 * Input layout: byte 0 picks the entry point and the transport's outcome,
 * bytes 1-2 the caller's buffer size, byte 3 where the first answer ends
 * and the second (AAAA) begins; the rest are the answers.
 */
#include <dlfcn.h>
#include "../../runtime/names/dnsmod.c"

#include <assert.h>
#include <time.h>

/* ---- stubs for what dnsmod.c needs from the rest of the runtime -------- */

/* runtime/core/alloc.c: here the one allocator there is. */
void gr_free(void *p)
{
	free(p);
}

static struct gr_resconf fuzz_conf = {
	.ref = 1, .gen = 1, .retrans = 1, .retry = 2, .ndots = 1,
	.options = RES_DEFAULT | RES_INIT, .nns = 1, .nsearch = 2,
	.search = { "corp.test", "test.lan" },
};

struct gr_resconf *gr_res_conf_get(void)
{
	return &fuzz_conf;
}

void gr_res_conf_put(struct gr_resconf *c)
{
	(void)c;
}

void gr_nopark_enter(void)
{
}

/* REAL(name): here the next definition is libc's. */
struct gr_real gr_real_fn;
void *gr_real_resolve(void **slot, const char *name)
{
	*slot = dlsym(RTLD_NEXT, name);
	return *slot;
}

void gr_nopark_leave(void)
{
}

static const unsigned char *in_ans[2];
static size_t in_len[2];
static int in_outcome;

/* The fuzz input stands for whatever the servers sent. */
long gr_res_send(const struct gr_resconf *conf, const unsigned char *const *q,
		 const int *qlen, int n, struct gr_dns_msg *out)
{
	(void)conf;
	(void)q;
	(void)qlen;
	switch (in_outcome) {
	case 1:
		return -ETIMEDOUT;
	case 2:
		return -ECONNREFUSED;
	}
	for (int i = 0; i < n; i++) {
		out[i].buf = NULL;
		out[i].len = 0;
		out[i].rcode = -1;
		if (in_outcome == 3 && i == 1) {
			out[i].rcode = ns_r_servfail;
			continue;
		}
		/* An exact-size copy, so that ASan sees any read past it. */
		out[i].buf = malloc(in_len[i] ? in_len[i] : 1);
		memcpy(out[i].buf, in_ans[i], in_len[i]);
		out[i].len = in_len[i];
	}
	return 0;
}

/* ---- checks on what came back -------------------------------------------- */

static const char *buf_lo, *buf_hi;

static void in_buf(const void *p, size_t n)
{
	const char *c = p;

	if (c < buf_lo || c + n > buf_hi || c + n < c)
		abort();
}

static void str_in_buf(const char *s)
{
	in_buf(s, 1);
	in_buf(s, strnlen(s, buf_hi - s) + 1);
}

static void check_hostent(const struct hostent *h)
{
	str_in_buf(h->h_name);
	in_buf(h->h_aliases, sizeof(char *));
	for (int i = 0; h->h_aliases[i]; i++) {
		in_buf(&h->h_aliases[i + 1], sizeof(char *));
		str_in_buf(h->h_aliases[i]);
	}
	if (h->h_length != 4 && h->h_length != 16)
		abort();
	in_buf(h->h_addr_list, sizeof(char *));
	for (int i = 0; h->h_addr_list[i]; i++) {
		in_buf(&h->h_addr_list[i + 1], sizeof(char *));
		in_buf(h->h_addr_list[i], h->h_length);
	}
}

static void check_tuples(const struct gaih_addrtuple *t)
{
	for (int n = 0; t != NULL; t = t->next, n++) {
		if (n > 10000)
			abort();
		in_buf(t, sizeof(*t));
		if (t->name)
			str_in_buf(t->name);
		if (t->family != AF_INET && t->family != AF_INET6)
			abort();
	}
}

static unsigned long n_success, n_calls;

static void one(const unsigned char *d, size_t n)
{
	static const char *names[] = { "www.test.lan", "www", "a.b.", "x" };
	struct gaih_addrtuple *pat = NULL;
	struct hostent he;
	enum nss_status st;
	size_t buflen, split;
	char *buf, *canon = NULL;
	int e = 0, he_err = 0, which;
	const char *name;

	if (n < 4)
		return;
	which = d[0] % 5;
	in_outcome = (d[0] >> 3) % 8;	/* 0, 4..7: answers; 1-3: failures */
	name = names[(d[0] >> 6) % 4];
	buflen = (((size_t)d[1] << 8) | d[2]) % 4096;
	split = n > 4 ? (size_t)d[3] * (n - 4) / 255 : 0;
	in_ans[0] = d + 4;
	in_len[0] = split;
	in_ans[1] = d + 4 + split;
	in_len[1] = n - 4 - split;
	buf = malloc(buflen ? buflen : 1);
	buf_lo = buf;
	buf_hi = buf + buflen;
	gr_dns_canceled = 0;
	switch (which) {
	case 0:
		st = gr_dns_gethostbyname4_r(name, &pat, buf, buflen, &e, &he_err, NULL);
		if (st == NSS_STATUS_SUCCESS)
			check_tuples(pat);
		break;
	case 1:
	case 2:
		st = gr_dns_gethostbyname3_r(name, which == 1 ? AF_INET : AF_INET6, &he,
					     buf, buflen, &e, &he_err, NULL, &canon);
		if (st == NSS_STATUS_SUCCESS) {
			check_hostent(&he);
			if (canon)
				str_in_buf(canon);
		}
		break;
	case 3:
		st = gr_dns_gethostbyname_r(name, &he, buf, buflen, &e, &he_err);
		if (st == NSS_STATUS_SUCCESS)
			check_hostent(&he);
		break;
	default: {
		static const unsigned char a6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3 };
		st = gr_dns_gethostbyaddr2_r(a6, d[1] & 1 ? 16 : 4, d[1] & 1 ? AF_INET6 : AF_INET,
					     &he, buf, buflen, &e, &he_err, NULL);
		if (st == NSS_STATUS_SUCCESS)
			check_hostent(&he);
		break;
	}
	}
	if (st < NSS_STATUS_TRYAGAIN || st > NSS_STATUS_RETURN)
		abort();
	n_calls++;
	n_success += st == NSS_STATUS_SUCCESS;
	free(buf);
}

#ifdef GR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	one(d, n);
	return 0;
}
#else

/* ---- the standalone driver: mutate valid answers ------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A valid answer for NAME: a CNAME chain of `chain` links, then `naddr`
 * addresses of TYPE, all with name compression. */
static size_t make_answer(unsigned char *p, size_t cap, const char *name,
			  int type, int chain, int naddr, int rcode)
{
	unsigned char *b = p, *end = p + cap;
	int n;
	unsigned char *dnptrs[20] = { p, NULL }, **lastdnptr = dnptrs + 20;
	char owner[64], target[64];

	if (cap < 512)
		return 0;
	memset(p, 0, 12);
	p[2] = 0x81;
	p[3] = 0x80 | rcode;
	p[5] = 1;			/* qdcount */
	p[7] = chain + naddr;		/* ancount */
	b += 12;
	n = dn_comp(name, b, end - b, dnptrs, lastdnptr);
	b += n;
	NS_PUT16(type, b);
	NS_PUT16(ns_c_in, b);
	snprintf(owner, sizeof(owner), "%s", name);
	for (int i = 0; i < chain; i++) {
		snprintf(target, sizeof(target), "c%d.test.lan", i);
		b += dn_comp(owner, b, end - b, dnptrs, lastdnptr);
		NS_PUT16(ns_t_cname, b);
		NS_PUT16(ns_c_in, b);
		NS_PUT32(60, b);
		unsigned char *rdlen = b;
		b += 2;
		n = dn_comp(target, b, end - b, dnptrs, lastdnptr);
		NS_PUT16(n, rdlen);
		b += n;
		snprintf(owner, sizeof(owner), "%s", target);
	}
	for (int i = 0; i < naddr; i++) {
		b += dn_comp(owner, b, end - b, dnptrs, lastdnptr);
		NS_PUT16(type, b);
		NS_PUT16(ns_c_in, b);
		NS_PUT32(60, b);
		if (type == ns_t_ptr) {
			unsigned char *rdlen = b;

			b += 2;
			n = dn_comp("host.test.lan", b, end - b, dnptrs, lastdnptr);
			NS_PUT16(n, rdlen);
			b += n;
		} else {
			int len = type == ns_t_a ? 4 : 16;

			NS_PUT16(len, b);
			for (int k = 0; k < len; k++)
				*b++ = rnd();
		}
	}
	return b - p;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	unsigned char in[4 + 2 * 1024], a1[1024], a2[1024];
	time_t end = time(NULL) + (time_t)seconds;
	unsigned long iters = 0;

	if (argc > 2)
		rng = strtoull(argv[2], NULL, 0) | 1;
	while (time(NULL) < end || iters == 0) {
		for (int k = 0; k < 2000; k++, iters++) {
			static const char *qn[] = { "www.test.lan", "www.corp.test",
						    "3.2.1.0.in-addr.arpa" };
			int t1 = rnd() % 3 == 2 ? ns_t_ptr : ns_t_a;
			size_t n1 = make_answer(a1, sizeof(a1), qn[rnd() % 3], t1,
						rnd() % 4, rnd() % 6, rnd() % 8 ? 0 : rnd() % 6);
			size_t n2 = make_answer(a2, sizeof(a2), qn[rnd() % 2], ns_t_aaaa,
						rnd() % 3, rnd() % 4, 0);
			size_t n, muts;

			in[0] = rnd();
			in[1] = rnd();
			in[2] = rnd();
			memcpy(in + 4, a1, n1);
			memcpy(in + 4 + n1, a2, n2);
			n = 4 + n1 + n2;
			in[3] = n > 4 ? (unsigned char)(n1 * 255 / (n - 4)) : 0;
			/* Mutate: flip bytes, cut, splice garbage. */
			muts = rnd() % 8;
			for (size_t m = 0; m < muts; m++) {
				size_t at = 4 + rnd() % (n - 4 ? n - 4 : 1);

				switch (rnd() % 4) {
				case 0:
					in[at] ^= 1u << (rnd() % 8);
					break;
				case 1:
					in[at] = rnd();
					break;
				case 2:
					n = at;	/* truncate */
					break;
				default:
					in[at] = 0xc0 | (rnd() & 0x3f);	/* pointer */
					break;
				}
				if (n <= 4)
					break;
			}
			one(in, n);
		}
	}
	printf("dns_answers: %lu answers parsed, no crash\n", iters);
	fprintf(stderr, "dns_answers: %lu lookups, %lu successful\n", n_calls, n_success);
	if (n_success == 0 || n_success == n_calls) {
		fprintf(stderr, "FAIL: the inputs never (or always) made a valid answer\n");
		return 1;
	}
	return 0;
}
#endif
