/*
 * io_cancel: a pending POLL is cancelled with -EINPROGRESS and an event of
 * res 0 in the ring; the result argument is never written; anything that is
 * not pending (completed, never submitted, already cancelled) is -EINVAL.
 * The kernel cannot cancel file I/O (-EINVAL); the threads engine goes
 * beyond it and cancels a read that has not started yet.
 */
#include "behaviour.h"

#include <poll.h>
#include <sys/mman.h>

static void fill_sentinel(struct io_event *ev)
{
	memset(ev, 0xab, sizeof(*ev));
}

static void check_sentinel(const struct io_event *ev)
{
	const unsigned char *b = (const unsigned char *)ev;
	for (size_t i = 0; i < sizeof(*ev); i++)
		if (b[i] != 0xab)
			T_FAIL("io_cancel wrote its result argument (byte %zu)",
			       i);
}

static void poll_cancel(void)
{
	io_context_t ctx = t_setup(16);
	struct iocb iocb, never;
	struct io_event ev, res;
	int p[2];

	t_pipe(p);
	io_prep_poll(&iocb, p[0], POLLIN);
	iocb.data = (void *)0xc0ffee;
	t_submit1(ctx, &iocb);
	T_EQ(iocb.key, 0);

	/* The key is checked before anything else about the request. */
	iocb.key = 1;
	fill_sentinel(&res);
	T_EQ(io_cancel(ctx, &iocb, &res), -EINVAL);
	iocb.key = 0;

	/* A foreign handle. */
	T_EQ(io_cancel((io_context_t)(uintptr_t)0x1000, &iocb, &res), -EINVAL);

	T_EQ(io_cancel(ctx, &iocb, &res), -EINPROGRESS);
	check_sentinel(&res);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &iocb, 0);
	T_EQ(io_cancel(ctx, &iocb, &res), -EINVAL);
	check_sentinel(&res);

	/* Cancelled for good: readiness afterwards produces nothing. */
	T_EQ(write(p[1], "x", 1), 1);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, 1, &ev), 0);

	/* Never submitted: nothing to cancel. */
	io_prep_poll(&never, p[0], POLLIN);
	T_EQ(io_cancel(ctx, &never, &res), -EINVAL);

	/* Completed but not yet reaped: too late, and the event stays. */
	io_prep_poll(&iocb, p[0], POLLIN);
	iocb.data = (void *)0xd0;
	t_submit1(ctx, &iocb);
	t_wait_ready(ctx, 1);
	T_EQ(io_cancel(ctx, &iocb, &res), -EINVAL);
	check_sentinel(&res);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &iocb, POLLIN);

	/* The iocb is read first: NULL is EFAULT whatever the handle. */
	T_EQ(io_cancel(ctx, NULL, NULL), -EFAULT);
	T_EQ(io_cancel(NULL, NULL, NULL), -EFAULT);

	T_EQ(io_destroy(ctx), 0);
	close(p[0]);
	close(p[1]);
}

/* The kernel has no cancel method for file I/O. */
static void file_cancel_kernel(void)
{
	io_context_t ctx = t_setup(16);
	int fd = t_scratch_file(1 << 20, O_DIRECT);
	unsigned char *buf = t_aligned(4096, 1 << 20);
	struct iocb iocb;
	struct io_event ev, res;

	io_prep_pread(&iocb, fd, buf, 1 << 20, 0);
	iocb.data = (void *)0xf11e;
	t_submit1(ctx, &iocb);
	fill_sentinel(&res);
	T_EQ(io_cancel(ctx, &iocb, &res), -EINVAL);
	check_sentinel(&res);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &iocb, 1 << 20);
	T_EQ(io_destroy(ctx), 0);
	free(buf);
	close(fd);
}

/*
 * threads engine only, beyond the kernel: with the only worker held on a
 * file read (an O_DIRECT read into a userfaultfd gate), a later file read
 * waits in the queue and a pipe read waits for data: both can be
 * cancelled, their event has res -ECANCELED and their buffers are never
 * written; the running read cannot be cancelled and completes.
 */
static void queued_cancel_threads(void)
{
	io_context_t ctx;
	int fd = t_scratch_file(65536, O_DIRECT);
	unsigned char *dbuf = t_aligned(4096, 4096);
	char pbuf[64], got[8];
	struct iocb blocked, qpipe, qfile;
	struct io_event ev[2], res;
	struct t_gate gate;
	int b[2];

	if (!t_gate_init(&gate, 4096)) {
		fprintf(stderr, "no userfaultfd: queued cancel not tested\n");
		return;
	}
	T_EQ(setenv("UAIO_THREADS", "1", 1), 0);
	ctx = t_setup(16);
	T_EQ(unsetenv("UAIO_THREADS"), 0);
	t_pipe(b);

	io_prep_pread(&blocked, fd, gate.buf, 4096, 0);
	blocked.data = (void *)0xb10c;
	t_submit1(ctx, &blocked);
	/* let the only worker take it and block in the page fault */
	t_sleep_ms(50);

	memset(pbuf, 0xee, sizeof(pbuf));
	memset(dbuf, 0xee, 4096);
	io_prep_pread(&qpipe, b[0], pbuf, sizeof(pbuf), 0);
	qpipe.data = (void *)0x9e1;
	io_prep_pread(&qfile, fd, dbuf, 4096, 0);
	qfile.data = (void *)0x9e2;
	t_submit1(ctx, &qpipe);
	t_submit1(ctx, &qfile);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, 2, ev), 0);

	fill_sentinel(&res);
	T_EQ(io_cancel(ctx, &qpipe, &res), -EINPROGRESS);
	T_EQ(io_cancel(ctx, &qfile, &res), -EINPROGRESS);
	check_sentinel(&res);
	T_EQ(t_wait_events(ctx, 2, ev, 5000), 2);
	for (int i = 0; i < 2; i++) {
		T_ASSERT(ev[i].obj == &qpipe || ev[i].obj == &qfile);
		T_EVENT(&ev[i], ev[i].obj, -ECANCELED);
	}
	T_EQ(io_cancel(ctx, &qpipe, &res), -EINVAL);
	T_EQ(io_cancel(ctx, &qfile, &res), -EINVAL);

	/* The running read is not cancellable: it completes. */
	T_EQ(io_cancel(ctx, &blocked, &res), -EINVAL);
	t_gate_open(&gate, 0, 4096);
	t_wait1(ctx, ev);
	T_EVENT(&ev[0], &blocked, 4096);

	/* The cancelled pipe read never runs: what is written stays. */
	T_EQ(write(b[1], "keep", 4), 4);
	t_sleep_ms(20);
	fcntl(b[0], F_SETFL, O_NONBLOCK);
	T_EQ(read(b[0], got, sizeof(got)), 4);
	T_ASSERT(memcmp(got, "keep", 4) == 0);
	for (size_t i = 0; i < sizeof(pbuf); i++)
		T_EQ((unsigned char)pbuf[i], 0xee);
	for (size_t i = 0; i < 4096; i++)
		T_EQ(dbuf[i], 0xee);
	T_EQ(t_peek(ctx, 2, ev), 0);

	T_EQ(io_destroy(ctx), 0);
	t_gate_fini(&gate);
	free(dbuf);
	close(fd);
	close(b[0]);
	close(b[1]);
}

/*
 * Emulated engines, beyond the kernel (which blocks in io_submit instead):
 * a read waiting on an empty pipe can be cancelled, and the bytes written
 * after it stay for the next reader.
 */
static void stream_cancel(void)
{
	io_context_t ctx = t_setup(4);
	struct iocb cb;
	struct io_event ev, res;
	char buf[16], got[8];
	int p[2];

	t_pipe(p);
	memset(buf, 0xee, sizeof(buf));
	io_prep_pread(&cb, p[0], buf, sizeof(buf), 0);
	cb.data = (void *)0x5eed;
	t_submit1(ctx, &cb);
	t_sleep_ms(20);
	T_EQ(io_cancel(ctx, &cb, &res), -EINPROGRESS);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &cb, -ECANCELED);
	T_EQ(write(p[1], "keep", 4), 4);
	t_sleep_ms(20);
	T_EQ(read(p[0], got, sizeof(got)), 4);
	T_ASSERT(memcmp(got, "keep", 4) == 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		T_EQ((unsigned char)buf[i], 0xee);
	T_EQ(io_destroy(ctx), 0);
	close(p[0]);
	close(p[1]);
}

/*
 * io_cancel racing io_destroy: the cancel finds the request pending
 * (-EINPROGRESS) or finds nothing (-EINVAL), never a request that destroy
 * has taken; destroy succeeds.  The iocbs are mmap'd, off the brk heap, so
 * that io_cancel's read of the iocb takes long enough to straddle destroy.
 */
#define RACE_N 128

static io_context_t race_ctx;
static struct iocb *race_cbs;
static atomic_int race_go;
static int race_ret;
static volatile long race_delay;

static void *race_canceller(void *arg)
{
	struct io_event res;

	(void)arg;
	for (;;) {
		int g;

		while ((g = atomic_load(&race_go)) == 0)
			;
		if (g < 0)
			return NULL;
		for (volatile long i = 0; i < race_delay; i++)
			;
		race_ret = io_cancel(race_ctx, &race_cbs[0], &res);
		atomic_store(&race_go, 0);
	}
}

static void cancel_during_destroy(void)
{
	struct iocb *ptrs[RACE_N];
	int p[2], seen[2] = {0, 0};
	pthread_t th;

	race_cbs =
	    mmap(NULL, RACE_N * sizeof(struct iocb), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(race_cbs != MAP_FAILED);
	t_pipe(p);
	T_EQ(pthread_create(&th, NULL, race_canceller, NULL), 0);
	srand(7);
	for (int it = 0; it < 500; it++) {
		race_ctx = t_setup(RACE_N);
		for (int i = 0; i < RACE_N; i++) {
			io_prep_poll(&race_cbs[i], p[0], POLLIN);
			ptrs[i] = &race_cbs[i];
		}
		T_EQ(io_submit(race_ctx, RACE_N, ptrs), RACE_N);
		int spin = rand() % 20000;

		race_delay = rand() % 3000;
		atomic_store(&race_go, 1);
		for (volatile int i = 0; i < spin; i++)
			;
		T_EQ(io_destroy(race_ctx), 0);
		while (atomic_load(&race_go) != 0)
			;
		if (race_ret != -EINPROGRESS && race_ret != -EINVAL)
			T_FAIL("io_cancel racing io_destroy: %d", race_ret);
		seen[race_ret == -EINVAL]++;
	}
	atomic_store(&race_go, -1);
	pthread_join(th, NULL);
	fprintf(stderr, "cancel racing destroy: %d pending, %d gone\n", seen[0],
		seen[1]);
	munmap(race_cbs, RACE_N * sizeof(struct iocb));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	poll_cancel();
	cancel_during_destroy();
	if (t_is_ref() || !strcmp(t_engine(), "kernel"))
		file_cancel_kernel();
	if (!strcmp(t_engine(), "threads"))
		queued_cancel_threads();
	if (!strcmp(t_engine(), "threads") || !strcmp(t_engine(), "uring"))
		stream_cancel();
	return 0;
}
