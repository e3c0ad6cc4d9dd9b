/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MODFLAGS: -ftls-model=initial-exec */
/*
 * tls_ie.so — a module whose __thread variables use the initial-exec model:
 * dlopen()ing it takes static TLS from glibc's surplus, and glibc copies
 * its initial image only into the threads it knows of.
 * dlopen()ed late by tls_dlopen_late.
 */
__thread long tls_ie_val = 4242;
__thread int tls_ie_arr[4] = { 1, 2, 3, 4 };

long *tls_ie_addr(void)
{
	return &tls_ie_val;
}

int tls_ie_sum(void)
{
	return tls_ie_arr[0] + tls_ie_arr[1] + tls_ie_arr[2] + tls_ie_arr[3];
}
