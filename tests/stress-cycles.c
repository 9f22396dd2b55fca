/*
 * Contexts come and go without a trace: CYCLES rounds of io_setup, a few
 * requests (a page-cache read, an O_DIRECT read, a POLL, and on the
 * emulated engines a read of an empty pipe), io_destroy, spread over
 * THREADS threads.  Descriptors and threads must come back to where they
 * started, and the resident memory must stop growing once the allocator
 * has warmed up.
 *
 * Usage: stress-cycles [CYCLES [THREADS]]   (default 5000, kernel 400; 4)
 */
#include "behaviour.h"

#include <poll.h>

static int bfd, dfd;
static long per_thread;
static bool pipe_reads;

static int tasks(void)
{
	return t_count_dir("/proc/self/task");
}

static int fds(void)
{
	return t_count_dir("/proc/self/fd");
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *cycler(void *arg)
{
	unsigned char *dbuf = t_aligned(4096, 4096);
	char bbuf[512], pbuf[16];
	unsigned seed = (unsigned)(uintptr_t)arg;
	int p[2];

	(void)arg;
	t_pipe(p);
	for (long i = 0; i < per_thread; i++) {
		struct iocb cbs[4], *ptrs[4];
		io_context_t ctx = 0;
		int n = 0, ret;

		seed = seed * 1103515245u + 12345u;
		ret = io_setup((int)(1 + seed % 64), &ctx);
		if (ret)
			T_FAIL("io_setup: %s", strerror(-ret));
		if (seed & 0x100) {
			io_prep_pread(&cbs[n++], bfd, bbuf, sizeof(bbuf),
				      (seed >> 12) % 64 * 512);
			io_prep_pread(&cbs[n++], dfd, dbuf, 4096,
				      (seed >> 16) % 16 * 4096);
			io_prep_poll(&cbs[n++], p[0], POLLIN);
			if (pipe_reads)
				io_prep_pread(&cbs[n++], p[0], pbuf,
					      sizeof(pbuf), 0);
			for (int k = 0; k < n; k++)
				ptrs[k] = &cbs[k];
			T_EQ(io_submit(ctx, n, ptrs), n);
		}
		T_EQ(io_destroy(ctx), 0);
	}
	close(p[0]);
	close(p[1]);
	free(dbuf);
	return NULL;
}

#ifdef T_TSAN
static void *noop(void *arg)
{
	return arg;
}
#endif

static void run(int nthreads)
{
	pthread_t t[64];

	for (int i = 0; i < nthreads; i++)
		T_EQ(pthread_create(&t[i], NULL, cycler,
				    (void *)(uintptr_t)(i + 1)),
		     0);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
	bool kernel = t_is_ref() || !strcmp(t_engine(), "kernel");
	/* A kernel io_destroy waits ~30 ms for RCU: fewer there. */
	long cycles = argc > 1 ? atol(argv[1]) : kernel ? 400 : 5000;
	int nthreads = argc > 2 ? atoi(argv[2]) : 4;
	int base_tasks, base_fds;
	long rss_warm, rss_end;
	double t0 = t_now_ms();

	T_ASSERT(nthreads > 0 && nthreads <= 64);
	bfd = t_scratch_file(1 << 16, 0);
	dfd = t_scratch_file(1 << 16, O_DIRECT);
	/* The kernel blocks in io_submit on an empty pipe. */
	pipe_reads = !kernel;
	t_warm_up();
#ifdef T_TSAN
	/* ThreadSanitizer starts a thread of its own at the first
	 * pthread_create: let it be there before counting. */
	{
		pthread_t t;

		T_ASSERT(pthread_create(&t, NULL, noop, NULL) == 0);
		pthread_join(t, NULL);
		t_sleep_ms(50);
	}
#endif
	base_tasks = tasks();
	base_fds = fds();

	/* A tenth to warm the allocator up, then the rest. */
	per_thread = cycles / 10 / nthreads + 1;
	run(nthreads);
	rss_warm = rss_kib();
	per_thread = cycles * 9 / 10 / nthreads + 1;
	run(nthreads);
	rss_end = rss_kib();

	double end = t_now_ms() + 2000;
	while (tasks() != base_tasks && t_now_ms() < end)
		t_sleep_ms(5);
	printf("stress-cycles: %ld cycles on %d threads in %.1f s; threads "
	       "%d -> %d, descriptors %d -> %d, RSS %ld KiB after warm-up, "
	       "%ld KiB at the end\n",
	       cycles, nthreads, (t_now_ms() - t0) / 1000, base_tasks, tasks(),
	       base_fds, fds(), rss_warm, rss_end);
	T_EQ(tasks(), base_tasks);
	T_EQ(fds(), base_fds);
	/* Flat: what the first tenth did not grow to, the rest may not
	 * either, beyond the allocator's slack.  (AddressSanitizer keeps
	 * freed memory in quarantine, up to 256 MiB; ThreadSanitizer's
	 * shadow and history grow with every access.) */
#if defined(__SANITIZE_ADDRESS__) || defined(T_TSAN)
	rss_end = rss_warm;
#endif
	if (rss_end > rss_warm + 4096)
		T_FAIL("RSS grew from %ld to %ld KiB", rss_warm, rss_end);
	return 0;
}
