/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tls_gd.so — a module with __thread variables in the default model for
 * shared objects (general-dynamic: reached through __tls_get_addr and the
 * DTV, allocated lazily per thread).  The initialised value tells a fresh
 * copy from a used one.  dlopen()ed by tls_threads and tls_dlopen_late.
 */
__thread long tls_gd_val = 12345;
__thread char tls_gd_buf[48] = "fresh";

long *tls_gd_addr(void)
{
	return &tls_gd_val;
}

char *tls_gd_bufp(void)
{
	return tls_gd_buf;
}
