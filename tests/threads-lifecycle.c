/*
 * The threads engine's pool: started lazily (io_setup alone starts no
 * thread), sized by UAIO_THREADS, and gone with its context: 200 cycles of
 * setup, blocked and in-flight requests, and destroy leave no thread and no
 * file descriptor behind.
 */
#include "behaviour.h"

#include <poll.h>

#define CYCLES 200
#define NTHREADS 3

static int tasks(void)
{
	return t_count_dir("/proc/self/task");
}

static int fds(void)
{
	return t_count_dir("/proc/self/fd");
}

/*
 * Exited threads leave /proc/self/task a moment after pthread_join-style
 * teardown returns, so allow a short grace period.
 */
static void expect_tasks(int want, const char *when)
{
	double end = t_now_ms() + 2000;
	int n;

	while ((n = tasks()) != want && t_now_ms() < end)
		t_sleep_ms(5);
	if (n != want)
		T_FAIL("%s: %d threads, expected %d", when, n, want);
}

/* Requests that hold a worker each: O_DIRECT reads into a closed gate. */
static void pool_size(int base_tasks)
{
	char val[16];
	io_context_t ctx;
	struct iocb iocbs[NTHREADS + 2], *ptrs[NTHREADS + 2];
	struct io_event ev[NTHREADS + 2];
	struct t_gate gate;
	int n, peak = 0, fd = t_scratch_file(65536, O_DIRECT);
	double end;

	if (!t_gate_init(&gate, (NTHREADS + 2) * 4096)) {
		fprintf(stderr, "no userfaultfd: pool size not tested\n");
		close(fd);
		return;
	}
	snprintf(val, sizeof(val), "%d", NTHREADS);
	T_EQ(setenv("UAIO_THREADS", val, 1), 0);
	ctx = t_setup(16);
	T_EQ(unsetenv("UAIO_THREADS"), 0);
	T_EQ(tasks(), base_tasks);

	for (int i = 0; i < NTHREADS + 2; i++) {
		io_prep_pread(&iocbs[i], fd, gate.buf + i * 4096, 4096,
			      i * 4096);
		iocbs[i].data = (void *)(long)i;
		ptrs[i] = &iocbs[i];
	}
	T_EQ(io_submit(ctx, NTHREADS + 2, ptrs), NTHREADS + 2);

	/* Watch the pool grow for a while; it must stop at UAIO_THREADS. */
	end = t_now_ms() + 300;
	while (t_now_ms() < end) {
		n = tasks() - base_tasks;
		if (n > peak)
			peak = n;
		t_sleep_ms(5);
	}
	fprintf(stderr, "UAIO_THREADS=%d: %d threads with %d blocked reads\n",
		NTHREADS, peak, NTHREADS + 2);
	T_EQ(peak, NTHREADS);
	T_EQ(t_peek(ctx, NTHREADS + 2, ev), 0);

	/* Release them one by one; the queued ones run as workers free up. */
	for (int i = 0; i < NTHREADS + 2; i++) {
		t_gate_open(&gate, (size_t)i * 4096, 4096);
		t_wait1(ctx, ev);
		T_ASSERT(ev[0].obj >= iocbs &&
			 ev[0].obj < iocbs + NTHREADS + 2);
		T_EVENT(&ev[0], ev[0].obj, 4096);
	}
	T_EQ(t_peek(ctx, NTHREADS + 2, ev), 0);
	T_ASSERT(tasks() - base_tasks <= NTHREADS);
	T_EQ(io_destroy(ctx), 0);
	expect_tasks(base_tasks, "after io_destroy of the sized pool");
	t_gate_fini(&gate);
	close(fd);
}

static void cycles(int base_tasks, int base_fds)
{
	int fd = t_scratch_file(1 << 20, O_DIRECT);
	unsigned char *dbuf = t_aligned(4096, 65536);
	char pbuf[16];
	int p[2], peak = 0;

	t_pipe(p);
	base_fds += 3;
	for (int i = 0; i < CYCLES; i++) {
		io_context_t ctx = t_setup(8);
		struct iocb io[3], *ptrs[3] = {&io[0], &io[1], &io[2]};
		int n;

		io_prep_pread(&io[0], p[0], pbuf, sizeof(pbuf), 0);
		io_prep_pread(&io[1], fd, dbuf, 65536,
			      (long long)(i % 16) * 65536);
		io_prep_poll(&io[2], p[0], POLLIN);
		T_EQ(io_submit(ctx, 3, ptrs), 3);
		if (i % 50 == 0)
			t_sleep_ms(5);
		n = tasks() - base_tasks;
		if (n > peak)
			peak = n;
		T_EQ(io_destroy(ctx), 0);
	}
	fprintf(stderr, "%d cycles, up to %d threads at a time\n", CYCLES,
		peak);
	expect_tasks(base_tasks, "after the setup/destroy cycles");
	T_EQ(fds(), base_fds);
	close(p[0]);
	close(p[1]);
	close(fd);
	free(dbuf);
}

static void *nop(void *arg)
{
	return arg;
}

int main(void)
{
	int base_tasks, base_fds, fd;
	char buf[64];
	struct iocb iocb;
	io_context_t ctx;
	pthread_t t;

	T_SKIP_IF(strcmp(t_engine(), "threads") != 0, "threads engine only");
	/*
	 * Sanitizer runtimes start a helper thread with the first
	 * pthread_create: let that happen before the baseline is taken.
	 */
	T_EQ(pthread_create(&t, NULL, nop, NULL), 0);
	T_EQ(pthread_join(t, NULL), 0);
	base_tasks = tasks();
	base_fds = fds();
	fd = t_scratch_file(65536, 0);
	base_fds++;

	/* Lazy: a context alone costs no thread. */
	ctx = t_setup(16);
	T_EQ(tasks(), base_tasks);
	io_prep_pread(&iocb, fd, buf, sizeof(buf), 0);
	iocb.data = (void *)1;
	t_run1(ctx, &iocb, sizeof(buf));
	fprintf(stderr, "after a page-cache read: %d threads\n",
		tasks() - base_tasks);
	T_EQ(io_destroy(ctx), 0);
	expect_tasks(base_tasks, "after the first io_destroy");
	T_EQ(fds(), base_fds);

	pool_size(base_tasks);
	T_EQ(fds(), base_fds);
	cycles(base_tasks, base_fds);
	T_EQ(fds(), base_fds);
	close(fd);
	return 0;
}
