/*
 * io_cancel: a pending POLL is cancelled with -EINPROGRESS and an event of
 * res 0 in the ring; the result argument is never written; anything that is
 * not pending (completed, never submitted, already cancelled) is -EINVAL.
 * The kernel cannot cancel file I/O (-EINVAL); the threads engine goes
 * beyond it and cancels a read that has not started yet.
 */
#include "behaviour.h"

#include <poll.h>

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
 * threads engine only, beyond the kernel: with one worker blocked on an
 * empty pipe, later reads wait in the queue and can be cancelled; their
 * event has res -ECANCELED and their buffers are never written.
 */
static void queued_cancel_threads(void)
{
	io_context_t ctx;
	int fd = t_scratch_file(65536, O_DIRECT);
	unsigned char *dbuf = t_aligned(4096, 4096);
	char pbuf[64], blocked_buf[64], got[8];
	struct iocb blocked, qpipe, qfile;
	struct io_event ev[2], res;
	int a[2], b[2], ret;

	T_EQ(setenv("UAIO_THREADS", "1", 1), 0);
	ctx = t_setup(16);
	T_EQ(unsetenv("UAIO_THREADS"), 0);
	t_pipe(a);
	t_pipe(b);

	io_prep_pread(&blocked, a[0], blocked_buf, sizeof(blocked_buf), 0);
	blocked.data = (void *)0xb10c;
	t_submit1(ctx, &blocked);
	/* let the only worker take it and block in read(2) */
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

	/* The running read is not cancellable this way; report what it says. */
	ret = io_cancel(ctx, &blocked, &res);
	fprintf(stderr, "cancel of a running pipe read: %d\n", ret);
	T_ASSERT(ret != 0);

	/*
	 * Wake the worker; the cancelled pipe read must never run, so what is
	 * written to its pipe stays there.
	 */
	T_EQ(write(b[1], "keep", 4), 4);
	if (ret != -EINPROGRESS) {
		T_EQ(write(a[1], "go", 2), 2);
		t_wait1(ctx, ev);
		T_EVENT(&ev[0], &blocked, 2);
		T_ASSERT(memcmp(blocked_buf, "go", 2) == 0);
	} else {
		t_wait1(ctx, ev);
		T_ASSERT(ev[0].obj == &blocked);
	}
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
	free(dbuf);
	close(fd);
}

int main(void)
{
	poll_cancel();
	if (t_is_ref() || !strcmp(t_engine(), "kernel"))
		file_cancel_kernel();
	if (!strcmp(t_engine(), "threads"))
		queued_cancel_threads();
	return 0;
}
