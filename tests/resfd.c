/*
 * IOCB_FLAG_RESFD: the eventfd gets +1 per completion, only once the event is
 * in the ring, so a reader woken by the eventfd finds the event with a {0,0}
 * io_getevents.
 */
#include "behaviour.h"

#include <poll.h>
#include <sys/eventfd.h>

#define N 5

static uint64_t efd_read(int efd)
{
	uint64_t v = 0;
	T_EQ(read(efd, &v, sizeof(v)), sizeof(v));
	return v;
}

/* Wait up to 5 s for the eventfd to become readable. */
static void efd_wait(int efd)
{
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	T_EQ(poll(&pfd, 1, 5000), 1);
}

int main(void)
{
	io_context_t ctx = t_setup(32);
	int fd = t_scratch_file(65536, 0);
	int dfd = t_reopen(fd, O_RDONLY | O_DIRECT);
	unsigned char *buf = t_aligned(4096, N * 4096);
	struct iocb iocb, reads[N], *ptrs[N];
	struct io_event ev[N];
	int efd, p[2], got;
	uint64_t v, total;

	/* A blocking eventfd, a buffered read: +1, then the event is there. */
	efd = eventfd(0, EFD_CLOEXEC);
	T_ASSERT(efd >= 0);
	io_prep_pread(&iocb, fd, buf, 4096, 0);
	io_set_eventfd(&iocb, efd);
	iocb.data = (void *)0x1234;
	t_submit1(ctx, &iocb);
	T_EQ(efd_read(efd), 1);
	T_EQ(t_peek(ctx, 1, ev), 1);
	T_EVENT(&ev[0], &iocb, 4096);
	for (int i = 0; i < 4096; i++)
		T_EQ(buf[i], t_pattern(i));
	close(efd);

	/*
	 * A non-blocking eventfd and a POLL that completes later: nothing to
	 * read until the pipe is written, then exactly 1.
	 */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	T_ASSERT(efd >= 0);
	t_pipe(p);
	io_prep_poll(&iocb, p[0], POLLIN);
	io_set_eventfd(&iocb, efd);
	iocb.data = (void *)0x5678;
	t_submit1(ctx, &iocb);
	t_sleep_ms(20);
	v = 0;
	T_EQ(read(efd, &v, sizeof(v)), -1);
	T_EQ(errno, EAGAIN);
	T_EQ(t_peek(ctx, 1, ev), 0);
	T_EQ(write(p[1], "x", 1), 1);
	efd_wait(efd);
	T_EQ(efd_read(efd), 1);
	T_EQ(t_peek(ctx, 1, ev), 1);
	T_EVENT(&ev[0], &iocb, POLLIN | POLLRDNORM);
	T_EQ(read(efd, &v, sizeof(v)), -1);
	T_EQ(errno, EAGAIN);

	/*
	 * Several O_DIRECT reads (asynchronous on the kernel too): the counts
	 * add up to N, and once they do all N events are in the ring.
	 */
	for (int i = 0; i < N; i++) {
		io_prep_pread(&reads[i], dfd, buf + i * 4096, 4096,
			      (long long)(N - i) * 4096);
		io_set_eventfd(&reads[i], efd);
		reads[i].data = (void *)(long)(100 + i);
		ptrs[i] = &reads[i];
	}
	T_EQ(io_submit(ctx, N, ptrs), N);
	total = 0;
	while (total < N) {
		efd_wait(efd);
		total += efd_read(efd);
	}
	T_EQ(total, N);
	got = t_peek(ctx, N, ev);
	T_EQ(got, N);
	for (int i = 0; i < N; i++) {
		int k = (int)(ev[i].obj - reads);
		T_ASSERT(k >= 0 && k < N);
		T_EVENT(&ev[i], &reads[k], 4096);
		for (int j = 0; j < 4096; j++)
			T_EQ(buf[k * 4096 + j], t_pattern((N - k) * 4096 + j));
	}
	T_EQ(read(efd, &v, sizeof(v)), -1);
	T_EQ(errno, EAGAIN);

	/*
	 * Submission checks the resfd: a closed fd is EBADF, a descriptor that
	 * is not an eventfd EINVAL; nothing is queued either way.
	 */
	io_prep_pread(&iocb, fd, buf, 4096, 0);
	io_set_eventfd(&iocb, 1000);
	ptrs[0] = &iocb;
	T_EQ(io_submit(ctx, 1, ptrs), -EBADF);
	io_set_eventfd(&iocb, p[0]);
	T_EQ(io_submit(ctx, 1, ptrs), -EINVAL);
	T_EQ(t_peek(ctx, 1, ev), 0);

	/*
	 * io_destroy cancels a POLL still waiting, and that completion
	 * signals its eventfd too (+1, before io_destroy returns), though
	 * the event goes with the ring.
	 */
	io_context_t ctx2 = t_setup(8);
	int q[2];

	t_pipe(q);
	io_prep_poll(&iocb, q[0], POLLIN);
	io_set_eventfd(&iocb, efd);
	t_submit1(ctx2, &iocb);
	t_sleep_ms(20);
	T_EQ(read(efd, &v, sizeof(v)), -1);
	T_EQ(errno, EAGAIN);
	T_EQ(io_destroy(ctx2), 0);
	T_EQ(efd_read(efd), 1);
	T_EQ(read(efd, &v, sizeof(v)), -1);
	T_EQ(errno, EAGAIN);
	close(q[0]);
	close(q[1]);

	T_EQ(io_destroy(ctx), 0);
	free(buf);
	close(efd);
	close(dfd);
	close(fd);
	return 0;
}
