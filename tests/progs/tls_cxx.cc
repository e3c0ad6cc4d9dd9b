/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=120 */
/*
 * C++ per-thread state across waits: 200 threads each throw an exception
 * of their own, sleep inside the catch (a park under the shim), rethrow it
 * with `throw;` and catch it again; std::current_exception() and a nested
 * exception (std::throw_with_nested / rethrow_if_nested) also survive a
 * sleep.  A thread_local object with a constructor and a destructor is
 * built lazily once per thread that touches it and destroyed exactly once
 * at each such thread's exit, also when the thread ends by pthread_exit;
 * a thread_local int counts up across sleeps; std::call_once runs its
 * function once while the others wait.  libstdc++ keeps the exception in
 * flight in TLS (__cxa_get_globals) and glibc runs thread_local destructors
 * from a TLS list, so none of this held while a hub's green threads shared
 * one OS thread's TLS.
 */
#include <pthread.h>
#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>

static std::atomic<int> ctors{0}, dtors{0}, bad{0}, once_runs{0};
static std::once_flag once;

struct Tracked {
	long owner = -1;
	int uses = 0;
	Tracked() { ctors++; }
	~Tracked()
	{
		if (uses == 0)
			bad++;
		dtors++;
	}
};

static thread_local Tracked tracked;
static thread_local int counter;

static void fail(long id, const char *what)
{
	if (bad++ < 10)
		fprintf(stderr, "thread %ld: %s\n", id, what);
}

static void nap(long id)
{
	usleep(500 + (id % 5) * 400);
}

static void *run(void *arg)
{
	long id = (long)arg;
	std::string mine = "exception of thread " + std::to_string(id);

	std::call_once(once, [] {
		usleep(20000);	/* the others wait in call_once meanwhile */
		once_runs++;
	});
	/* rethrow after a park inside the catch */
	try {
		throw std::runtime_error(mine);
	} catch (...) {
		std::exception_ptr p = std::current_exception();
		nap(id);
		if (std::current_exception() != p)
			fail(id, "current_exception changed across a sleep");
		try {
			throw;
		} catch (const std::runtime_error &e) {
			if (mine != e.what())
				fail(id, "rethrew another thread's exception");
		} catch (...) {
			fail(id, "rethrew something else");
		}
	}
	/* a nested exception across a park */
	try {
		try {
			throw std::logic_error(mine);
		} catch (...) {
			nap(id);
			std::throw_with_nested(std::runtime_error("outer " + mine));
		}
	} catch (const std::runtime_error &outer) {
		nap(id);
		if (("outer " + mine) != outer.what())
			fail(id, "outer exception");
		try {
			std::rethrow_if_nested(outer);
			fail(id, "nothing nested");
		} catch (const std::logic_error &inner) {
			if (mine != inner.what())
				fail(id, "nested exception of another thread");
		}
	}
	/* thread_local, lazily constructed (odd threads only) */
	if (id % 2) {
		if (tracked.owner != -1)
			fail(id, "thread_local not fresh");
		tracked.owner = id;
		for (int i = 0; i < 5; i++) {
			tracked.uses++;
			nap(id);
			if (tracked.owner != id)
				fail(id, "thread_local object of another thread");
		}
	}
	for (int i = 0; i < 100; i++) {
		counter++;
		if (i % 25 == 0)
			nap(id);
	}
	if (counter != 100)
		fail(id, "thread_local int lost counts");
	if (id % 4 == 1)
		pthread_exit(nullptr);
	return nullptr;
}

int main()
{
	const long n = 200;
	pthread_t ids[n];

	for (long i = 0; i < n; i++)
		if (pthread_create(&ids[i], nullptr, run, (void *)i) != 0)
			return 1;
	for (long i = 0; i < n; i++)
		pthread_join(ids[i], nullptr);
	if (counter != 0)
		fail(-1, "main's thread_local int changed");
	printf("tls_cxx: %d constructed, %d destroyed, call_once ran %d time(s), %s\n",
	       ctors.load(), dtors.load(), once_runs.load(),
	       bad.load() ? "FAILED" : "every thread kept its own exception and thread_locals");
	return bad.load() || ctors != n / 2 || dtors != n / 2 || once_runs != 1;
}
