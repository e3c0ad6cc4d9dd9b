/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * The C++ standard thread library, unrebuilt, on whatever pthreads it finds:
 * std::thread, std::mutex, std::recursive_mutex, std::timed_mutex
 * (try_lock_for / try_lock_until timing out, never early), std::shared_mutex,
 * std::condition_variable (wait_for timing out, notify_one, notify_all),
 * std::async(launch::async) futures (wait_for timing out, get), call_once,
 * std::this_thread::sleep_for / sleep_until / yield / get_id.
 * thread_local across parks is tls_cxx's.
 */
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <vector>
#include "check.h"

using namespace std::chrono;
using namespace std::chrono_literals;

static void test_threads()
{
	std::mutex m;
	std::set<std::thread::id> ids;
	std::vector<std::thread> ts;
	long sum = 0;

	for (int i = 0; i < 16; i++)
		ts.emplace_back([&, i] {
			std::this_thread::sleep_for(milliseconds(i % 4 * 5));
			std::this_thread::yield();
			std::lock_guard<std::mutex> g(m);
			ids.insert(std::this_thread::get_id());
			sum += i;
		});
	for (auto &t : ts)
		t.join();
	check(ids.size() == 16, "thread ids not distinct");
	check(ids.count(std::this_thread::get_id()) == 0, "main id reused");
	check(sum == 120, "thread sum");

	std::atomic<bool> done{false};
	std::thread d([&] {
		std::this_thread::sleep_for(10ms);
		done = true;
	});
	d.detach();
	for (int i = 0; !done; i++) {
		check(i < 5000, "detached thread never ran");
		std::this_thread::sleep_for(1ms);
	}

	auto t0 = steady_clock::now();
	std::this_thread::sleep_for(30ms);
	check(steady_clock::now() - t0 >= 30ms, "sleep_for ended early");
	auto until = steady_clock::now() + 20ms;
	std::this_thread::sleep_until(until);
	check(steady_clock::now() >= until, "sleep_until ended early");
	auto suntil = system_clock::now() + 20ms;
	std::this_thread::sleep_until(suntil);
	check(system_clock::now() >= suntil, "sleep_until(system_clock) early");
	printf("std::thread, this_thread: ok\n");
}

static void test_mutexes()
{
	std::mutex m;
	long counter = 0;
	std::vector<std::thread> ts;

	for (int i = 0; i < 8; i++)
		ts.emplace_back([&] {
			for (int k = 0; k < 300; k++) {
				std::lock_guard<std::mutex> g(m);
				long v = counter;
				if (k % 100 == 0)
					std::this_thread::sleep_for(1ms);
				counter = v + 1;
			}
		});
	for (auto &t : ts)
		t.join();
	check(counter == 2400, "std::mutex counter");

	std::recursive_mutex rm;
	rm.lock();
	rm.lock();
	check(rm.try_lock(), "recursive try_lock by owner");
	bool other_got = true;
	std::thread([&] { other_got = rm.try_lock(); }).join();
	check(!other_got, "recursive_mutex taken by another thread");
	rm.unlock();
	rm.unlock();
	rm.unlock();
	std::thread([&] {
		other_got = rm.try_lock();
		if (other_got)
			rm.unlock();
	}).join();
	check(other_got, "recursive_mutex not free after unlocks");

	std::timed_mutex tm;
	tm.lock();
	std::thread([&] {
		auto t0 = steady_clock::now();
		check(!tm.try_lock_for(50ms), "try_lock_for got a held mutex");
		check(steady_clock::now() - t0 >= 50ms, "try_lock_for early");
		auto dl = system_clock::now() + 50ms;
		check(!tm.try_lock_until(dl), "try_lock_until got a held mutex");
		check(system_clock::now() >= dl, "try_lock_until early");
		auto sdl = steady_clock::now() + 50ms;
		check(!tm.try_lock_until(sdl), "try_lock_until(steady) got it");
		check(steady_clock::now() >= sdl, "try_lock_until(steady) early");
	}).join();
	tm.unlock();
	std::thread([&] {
		check(tm.try_lock_for(1s), "try_lock_for a free mutex");
		tm.unlock();
	}).join();
	printf("mutex, recursive_mutex, timed_mutex: ok\n");
}

static void test_shared_mutex()
{
	std::shared_mutex sm;
	std::atomic<int> readers{0}, max_readers{0};
	std::atomic<bool> writer_in{false};
	std::vector<std::thread> ts;
	int value = 0;

	for (int i = 0; i < 6; i++)
		ts.emplace_back([&] {
			for (int k = 0; k < 40; k++) {
				std::shared_lock<std::shared_mutex> g(sm);
				check(!writer_in, "reader with a writer inside");
				int r = ++readers;
				int mx = max_readers;
				while (r > mx && !max_readers.compare_exchange_weak(mx, r))
					;
				std::this_thread::sleep_for(200us);
				--readers;
			}
		});
	for (int i = 0; i < 2; i++)
		ts.emplace_back([&] {
			for (int k = 0; k < 20; k++) {
				std::unique_lock<std::shared_mutex> g(sm);
				writer_in = true;
				check(readers == 0, "writer with readers inside");
				int v = value;
				std::this_thread::sleep_for(300us);
				value = v + 1;
				writer_in = false;
			}
		});
	for (auto &t : ts)
		t.join();
	check(value == 40, "shared_mutex writes");
	check(max_readers >= 2, "readers never shared the lock");

	sm.lock_shared();
	bool got_shared = false, got_unique = true;
	std::thread([&] {
		got_shared = sm.try_lock_shared();
		if (got_shared)
			sm.unlock_shared();
		got_unique = sm.try_lock();
	}).join();
	sm.unlock_shared();
	check(got_shared && !got_unique, "shared_mutex try forms");
	printf("shared_mutex: ok\n");
}

static void test_condvar()
{
	std::mutex m;
	std::condition_variable cv;
	int tokens = 0, passed = 0, waiting = 0;
	bool released = false;

	{
		std::unique_lock<std::mutex> lk(m);
		auto t0 = steady_clock::now();
		/* No notifier: anything but a timeout is a spurious wake-up. */
		while (cv.wait_for(lk, 50ms) != std::cv_status::timeout)
			;
		check(steady_clock::now() - t0 >= 50ms, "wait_for early");
		t0 = steady_clock::now();
		check(!cv.wait_for(lk, 50ms, [] { return false; }),
		      "wait_for with a false predicate");
		check(steady_clock::now() - t0 >= 50ms, "wait_for(pred) early");
		auto sdl = steady_clock::now() + 30ms;
		while (cv.wait_until(lk, sdl) != std::cv_status::timeout)
			;
		check(steady_clock::now() >= sdl, "wait_until(steady) early");
		auto dl = system_clock::now() + 30ms;
		while (cv.wait_until(lk, dl) != std::cv_status::timeout)
			;
		check(system_clock::now() >= dl, "wait_until early");
	}

	std::vector<std::thread> ts;
	for (int i = 0; i < 8; i++)
		ts.emplace_back([&] {
			std::unique_lock<std::mutex> lk(m);
			waiting++;
			cv.notify_all();
			cv.wait(lk, [&] { return tokens > 0 || released; });
			if (tokens)
				tokens--;
			passed++;
			cv.notify_all();
		});
	{
		std::unique_lock<std::mutex> lk(m);
		check(cv.wait_for(lk, 5s, [&] { return waiting == 8; }),
		      "waiters never arrived");
		tokens = 3;
		cv.notify_one();
		cv.notify_one();
		cv.notify_one();
		check(cv.wait_for(lk, 5s, [&] { return passed == 3; }),
		      "notify_one did not wake waiters");
	}
	std::this_thread::sleep_for(30ms);
	{
		std::unique_lock<std::mutex> lk(m);
		check(passed == 3, "more passed than notified");
		released = true;
		cv.notify_all();
	}
	for (auto &t : ts)
		t.join();
	check(passed == 8, "notify_all");
	printf("condition_variable: ok\n");
}

static void test_async()
{
	auto slow = std::async(std::launch::async, [] {
		std::this_thread::sleep_for(200ms);
		return 7;
	});
	auto t0 = steady_clock::now();
	check(slow.wait_for(50ms) == std::future_status::timeout,
	      "future ready too soon");
	check(steady_clock::now() - t0 >= 50ms, "future wait_for early");

	std::vector<std::future<long>> fs;
	for (long i = 1; i <= 20; i++)
		fs.push_back(std::async(std::launch::async, [i] {
			std::this_thread::sleep_for(milliseconds(i % 5 * 3));
			return i * i;
		}));
	long sum = 0;
	for (auto &f : fs)
		sum += f.get();
	check(sum == 2870, "async sum of squares");
	check(slow.get() == 7, "slow future value");

	std::promise<int> p;
	auto pf = p.get_future();
	std::thread setter([&] {
		std::this_thread::sleep_for(20ms);
		p.set_value(5);
	});
	check(pf.get() == 5, "promise value");
	setter.join();

	std::once_flag once;
	std::atomic<int> runs{0};
	std::vector<std::thread> ts;
	for (int i = 0; i < 10; i++)
		ts.emplace_back([&] {
			std::call_once(once, [&] {
				std::this_thread::sleep_for(30ms);
				runs++;
			});
			check(runs == 1, "call_once returned before init ended");
		});
	for (auto &t : ts)
		t.join();
	check(runs == 1, "call_once runs");
	printf("async, promise, call_once: ok\n");
}

int main()
{
	test_threads();
	test_mutexes();
	test_shared_mutex();
	test_condvar();
	test_async();
	return 0;
}
