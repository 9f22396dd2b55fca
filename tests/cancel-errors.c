/*
 * io_cancel(): checks in the kernel's order and what a cancel returns.
 *
 * fs/aio.c reads the iocb key first (EFAULT, so io_cancel(NULL, NULL, NULL)
 * is EFAULT), then refuses a non-zero key (EINVAL), then looks the context
 * up (EINVAL), then searches the context's cancellable requests: anything
 * else (unknown, completed, a request of another context, a regular-file
 * read) is EINVAL.  A cancelled poll completes with res 0 through the ring,
 * io_cancel returns -EINPROGRESS, and the result argument is never written.
 */
#include "validation.h"

#include <fcntl.h>

static io_context_t ctx;
static int pfd[2];

static void start_poll(struct iocb *cb, void *data)
{
	struct iocb *cbs[1] = {cb};
	io_prep_poll(cb, pfd[0], POLLIN);
	cb->data = data;
	V_RET(io_submit(ctx, 1, cbs), 1);
}

static void check_untouched(const struct io_event *ev)
{
	const unsigned char *p = (const unsigned char *)ev;
	for (size_t i = 0; i < sizeof(*ev); i++)
		if (p[i] != 0xab)
			T_FAIL("io_cancel wrote its result argument");
}

static void argument_order(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct iocb *none = v_guarded(page, PROT_NONE);
	io_context_t fake = (io_context_t)calloc(1, 4096);
	struct io_event ev;
	struct iocb cb;

	/* The iocb key is read before anything else. */
	V_RET(io_cancel(NULL, NULL, NULL), -EFAULT);
	V_RET(io_cancel(ctx, NULL, &ev), -EFAULT);
	V_RET(io_cancel(ctx, none, &ev), -EFAULT);
	V_RET(io_cancel(NULL, none, NULL), -EFAULT);
	V_RET(io_cancel(ctx, V_KERNEL_ADDR, &ev), -EFAULT);
	/* The key must be 0 (KIOCB_KEY). */
	io_prep_poll(&cb, pfd[0], POLLIN);
	cb.key = 1;
	V_RET(io_cancel(ctx, &cb, &ev), -EINVAL);
	V_RET(io_cancel(NULL, &cb, &ev), -EINVAL);
	/* Then the context. */
	cb.key = 0;
	V_RET(io_cancel(NULL, &cb, &ev), -EINVAL);
	V_RET(io_cancel((io_context_t)~0ul, &cb, &ev), -EINVAL);
	V_RET(io_cancel(fake, &cb, &ev), -EINVAL);
	/* A live context that never saw this iocb. */
	V_RET(io_cancel(ctx, &cb, &ev), -EINVAL);
	V_RET(io_cancel(ctx, &cb, NULL), -EINVAL);
	munmap(none, 2 * page);
	free(fake);
}

static void cancel_poll(void)
{
	struct iocb cb, other;
	struct io_event ev, result;
	struct timespec zero = {0, 0};
	io_context_t ctx2 = t_setup(4);

	start_poll(&cb, (void *)0x1234);
	/* A non-zero key hides the request. */
	cb.key = 7;
	V_RET(io_cancel(ctx, &cb, &result), -EINVAL);
	cb.key = 0;
	/* Another context does not own it. */
	V_RET(io_cancel(ctx2, &cb, &result), -EINVAL);
	/* Nor does this context own an iocb it never saw. */
	io_prep_poll(&other, pfd[0], POLLIN);
	V_RET(io_cancel(ctx, &other, &result), -EINVAL);
	V_RET(io_getevents(ctx, 0, 1, &ev, &zero), 0);

	memset(&result, 0xab, sizeof(result));
	V_RET(io_cancel(ctx, &cb, &result), -EINPROGRESS);
	check_untouched(&result);
	/* Cancelled once: gone from the cancellable set. */
	V_RET(io_cancel(ctx, &cb, &result), -EINVAL);
	check_untouched(&result);
	t_reap(ctx, 1, &ev);
	T_ASSERT(ev.obj == &cb);
	T_ASSERT(ev.data == (void *)0x1234);
	T_EQ(ev.res, 0);
	T_EQ(ev.res2, 0);
	V_RET(io_cancel(ctx, &cb, &result), -EINVAL);
	V_RET(io_getevents(ctx, 0, 1, &ev, &zero), 0);

	/* A NULL result is fine. */
	start_poll(&cb, NULL);
	V_RET(io_cancel(ctx, &cb, NULL), -EINPROGRESS);
	t_reap(ctx, 1, &ev);
	T_ASSERT(ev.obj == &cb);
	T_EQ(ev.res, 0);

	/* Completed, reaped or not: EINVAL, and the event is intact. */
	start_poll(&cb, (void *)0x5678);
	T_ASSERT(write(pfd[1], "x", 1) == 1);
	for (int i = 0; i < 5000 && t_head(t_ring(ctx)) == t_tail(t_ring(ctx));
	     i++)
		usleep(1000);
	V_RET(io_cancel(ctx, &cb, &result), -EINVAL);
	t_reap(ctx, 1, &ev);
	T_ASSERT(ev.obj == &cb && ev.data == (void *)0x5678);
	T_EQ(ev.res, POLLIN | POLLRDNORM);
	V_RET(io_cancel(ctx, &cb, &result), -EINVAL);
	T_ASSERT(read(pfd[0], &ev, 1) == 1);
	V_RET(io_destroy(ctx2), 0);
}

static void cancel_file_read(void)
{
	enum { N = 8, SZ = 65536 };
	int fd = t_scratch_file(N * SZ, O_DIRECT);
	char *buf = t_aligned(4096, N * SZ);
	struct iocb cb[N], *cbs[N];
	struct io_event ev[N], result;
	int ret[N];
	bool kernel = t_is_ref() || !strcmp(t_engine(), "kernel");

	for (int i = 0; i < N; i++) {
		io_prep_pread(&cb[i], fd, buf + i * SZ, SZ, (long long)i * SZ);
		cbs[i] = &cb[i];
	}
	V_RET(io_submit(ctx, N, cbs), N);
	memset(&result, 0xab, sizeof(result));
	for (int i = N - 1; i >= 0; i--) {
		errno = V_ERRNO_MARK;
		ret[i] = io_cancel(ctx, &cb[i], &result);
		T_EQ(errno, V_ERRNO_MARK);
		check_untouched(&result);
		/* The kernel cannot cancel file I/O; uaio may, if queued. */
		if (kernel)
			T_EQ(ret[i], -EINVAL);
		else
			T_ASSERT(ret[i] == -EINVAL || ret[i] == -EINPROGRESS);
	}
	t_reap(ctx, N, ev);
	for (int i = 0; i < N; i++) {
		int j = (int)(ev[i].obj - cb);
		T_ASSERT(j >= 0 && j < N);
		if (ret[j] == -EINPROGRESS)
			T_EQ((long)ev[i].res, -ECANCELED);
		else
			T_EQ((long)ev[i].res, SZ);
		T_EQ(ev[i].res2, 0);
	}
	for (int i = 0; i < N; i++)
		V_RET(io_cancel(ctx, &cb[i], &result), -EINVAL);
	free(buf);
	close(fd);
}

int main(void)
{
	ctx = t_setup(16);
	T_ASSERT(pipe(pfd) == 0);
	argument_order();
	cancel_poll();
	cancel_file_read();
	V_RET(io_destroy(ctx), 0);
	return 0;
}
