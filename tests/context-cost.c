/*
 * What a context costs: 10,000 live contexts under the common soft limit of
 * 1024 descriptors, with no descriptor and no thread of their own (the
 * emulated engines share the process's io_urings, and wait on futexes), and
 * the memory and the time of a setup + destroy cycle, printed (measured,
 * not asserted: uaio(7) states them).  The kernel engine and the reference
 * stop at the kernel's own limit (fs.aio-max-nr) and take a grace period
 * per io_destroy: they print their figures from a few contexts.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "faults.h"

#define LIVE 10000
#define KERNEL_LIVE 64
#define CYCLES 20000
#define KERNEL_CYCLES 20

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(void)
{
	static io_context_t ctx[LIVE];
	bool kernel = t_is_ref() || !strcmp(t_engine(), "kernel");
	int live = kernel ? KERNEL_LIVE : LIVE;
	int cycles = kernel ? KERNEL_CYCLES : CYCLES;
	struct rlimit rl;
	struct t_res before, during;
	long rss0, rss1;
	double t0, us;

	T_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max < 1024 ? rl.rlim_max : 1024;
	T_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	before = t_res_baseline();
	rss0 = rss_kib();
	for (int i = 0; i < live; i++) {
		int r = io_setup(1, &ctx[i]);

		if (r)
			T_FAIL("io_setup of context %d under ulimit -n %lu: %s",
			       i + 1, (unsigned long)rl.rlim_cur, strerror(-r));
	}
	rss1 = rss_kib();
	during = t_res_now();
	printf("%d live contexts under ulimit -n %lu: %+d descriptors, %+d "
	       "threads, %.1f KiB resident each\n",
	       live, (unsigned long)rl.rlim_cur, during.fds - before.fds,
	       during.tasks - before.tasks, (double)(rss1 - rss0) / live);
	/* The kernel engine's handle is the kernel's: no descriptor either. */
	T_EQ(during.fds, before.fds);
	T_EQ(during.tasks, before.tasks);
	for (int i = 0; i < live; i++)
		T_EQ(io_destroy(ctx[i]), 0);

	t0 = now_us();
	for (int i = 0; i < cycles; i++) {
		io_context_t c = 0;

		T_EQ(io_setup(32, &c), 0);
		T_EQ(io_destroy(c), 0);
	}
	us = (now_us() - t0) / cycles;
	printf("io_setup(32) + io_destroy: %.2f us per cycle (%d cycles)\n", us,
	       cycles);
	t_res_check(before, "after the cycles");
	return t_finish();
}
