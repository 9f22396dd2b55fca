/*
 * Partial submission: io_submit() returns how many iocbs it queued before the
 * first one that failed; that iocb's error is lost and nothing after it is
 * looked at.  Only a failure of the first iocb is returned as an error.  nr
 * is capped to the ring size, so an absurd nr reads no more than the ring's
 * worth of pointers.
 */
#include "validation.h"

#include <limits.h>

#define KEY_MARK 0x77777777u

static io_context_t ctx;
static int fd, pfd[2];
static char buf[4][512];

static void prep(struct iocb *cb, int i)
{
	io_prep_pread(cb, fd, buf[i & 3], 512, 512 * i);
	cb->data = (void *)(long)(i + 1);
	cb->key = KEY_MARK;
}

/* Reap exactly the n events of cbs[0..n), in any order, and no more. */
static void reap_exactly(struct iocb **cbs, int n)
{
	struct io_event ev[64];
	struct timespec zero = {0, 0};
	unsigned seen = 0;

	T_ASSERT(n <= 32);
	t_reap(ctx, n, ev);
	for (int i = 0; i < n; i++) {
		int j = (int)(long)ev[i].data - 1;
		T_ASSERT(j >= 0 && j < n);
		T_ASSERT(ev[i].obj == cbs[j]);
		T_EQ((long)ev[i].res, 512);
		T_ASSERT(!(seen & (1u << j)));
		seen |= 1u << j;
	}
	V_RET(io_getevents(ctx, 0, 64, ev, &zero), 0);
}

int main(void)
{
	struct iocb cb[8], *cbs[8];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	ctx = t_setup(16);
	fd = t_scratch_file(65536, 0);
	T_ASSERT(pipe(pfd) == 0);
	for (int i = 0; i < 8; i++)
		cbs[i] = &cb[i];

	/* [ok, ok, bad fd, ok]: 2, the EBADF is lost, the 4th untouched. */
	for (int i = 0; i < 4; i++)
		prep(&cb[i], i);
	cb[2].aio_fildes = -1;
	V_RET(io_submit(ctx, 4, cbs), 2);
	T_EQ(cb[0].key, 0);
	T_EQ(cb[1].key, 0);
	T_EQ(cb[2].key, KEY_MARK);
	T_EQ(cb[3].key, KEY_MARK);
	reap_exactly(cbs, 2);

	/* A failure after the key store: the key of the failed one is 0. */
	for (int i = 0; i < 3; i++)
		prep(&cb[i], i);
	cb[1].aio_lio_opcode = IO_CMD_NOOP;
	V_RET(io_submit(ctx, 3, cbs), 1);
	T_EQ(cb[1].key, 0);
	T_EQ(cb[2].key, KEY_MARK);
	reap_exactly(cbs, 1);

	/* The first iocb fails: its error is the result. */
	for (int i = 0; i < 3; i++)
		prep(&cb[i], i);
	cb[0].aio_fildes = -1;
	V_RET(io_submit(ctx, 3, cbs), -EBADF);
	T_EQ(cb[1].key, KEY_MARK);
	cb[0].aio_fildes = fd;
	cb[0].u.c.__pad3 = 1;
	V_RET(io_submit(ctx, 3, cbs), -EINVAL);
	cb[0].u.c.__pad3 = 0;
	cb[0].aio_lio_opcode = 4;
	V_RET(io_submit(ctx, 3, cbs), -EINVAL);
	cb[0].aio_lio_opcode = IO_CMD_PREAD;
	cb[0].u.c.offset = -1;
	V_RET(io_submit(ctx, 3, cbs), -EINVAL);
	T_EQ(cb[1].key, KEY_MARK);
	{
		struct iocb *first_null[2] = {NULL, &cb[1]};
		V_RET(io_submit(ctx, 2, first_null), -EFAULT);
	}
	T_EQ(cb[1].key, KEY_MARK);

	/* Each kind of failure in second place: 1. */
	{
		struct iocb *with_null[3] = {&cb[0], NULL, &cb[2]};
		prep(&cb[0], 0);
		prep(&cb[2], 2);
		V_RET(io_submit(ctx, 3, with_null), 1);
		T_EQ(cb[2].key, KEY_MARK);
		reap_exactly(cbs, 1);
	}
	for (int kind = 0; kind < 6; kind++) {
		for (int i = 0; i < 3; i++)
			prep(&cb[i], i);
		switch (kind) {
		case 0:
			cb[1].u.c.__pad3 = 1;
			break;
		case 1:
			cb[1].u.c.nbytes = ~0ul;
			break;
		case 2:
			io_set_eventfd(&cb[1], pfd[0]);
			break;
		case 3:
			cb[1].aio_rw_flags = 0x80000000u;
			break;
		case 4:
			cb[1].u.c.buf = V_KERNEL_ADDR;
			break;
		case 5:
			cb[1].aio_lio_opcode = IO_CMD_FSYNC;
			break;
		}
		V_RET(io_submit(ctx, 3, cbs), 1);
		T_EQ(cb[2].key, KEY_MARK);
		reap_exactly(cbs, 1);
	}

	/* The pointer array runs into an unreadable page after two. */
	{
		char *area = v_guarded(page, PROT_READ | PROT_WRITE);
		struct iocb **tail =
		    v_guarded_tail(area, page, 2 * sizeof(*tail));
		for (int i = 0; i < 2; i++) {
			prep(&cb[i], i);
			tail[i] = &cb[i];
		}
		V_RET(io_submit(ctx, 3, tail), 2);
		reap_exactly(cbs, 2);
		V_RET(io_submit(ctx, LONG_MAX, tail + 2), -EFAULT);
		munmap(area, 2 * page);
	}

	/*
	 * The array on the stack, its iocbs in mapped memory of no stack or
	 * heap (a thread's arena), the third running into an unreadable page:
	 * 2, then the third alone: -EFAULT.  Then a pointer into the guard
	 * page itself, second: 1.
	 */
	{
		char *area = v_guarded(page, PROT_READ | PROT_WRITE);
		struct iocb *far = v_guarded_tail(area, page, 3 * sizeof(*far));
		struct iocb *arr[4] = {&far[0], &far[1],
				       (struct iocb *)((char *)&far[2] + 8),
				       &far[2]};
		struct iocb *guard[3] = {&far[0], (struct iocb *)(area + page),
					 &far[1]};

		for (int i = 0; i < 3; i++) {
			prep(&far[i], i);
			cbs[i] = &far[i];
		}
		V_RET(io_submit(ctx, 4, arr), 2);
		T_EQ(far[0].key, 0);
		T_EQ(far[1].key, 0);
		T_EQ(far[2].key, KEY_MARK);
		reap_exactly(cbs, 2);
		V_RET(io_submit(ctx, 2, arr + 2), -EFAULT);
		for (int i = 0; i < 3; i++)
			prep(&far[i], i);
		V_RET(io_submit(ctx, 3, guard), 1);
		T_EQ(far[1].key, KEY_MARK);
		reap_exactly(cbs, 1);
		munmap(area, 2 * page);
		for (int i = 0; i < 8; i++)
			cbs[i] = &cb[i];
	}

	/*
	 * nr is capped to the ring: LONG_MAX over an array of exactly
	 * ring->nr pointers (then an unreadable page) queues what fits and
	 * never reads past the array.  Polls of an empty pipe stay queued.
	 */
	{
		io_context_t small = t_setup(1);
		unsigned nr = t_ring(small)->nr;
		size_t len = nr * sizeof(struct iocb *);
		struct iocb **arr = v_guarded(len, PROT_READ | PROT_WRITE);
		struct iocb **ptrs = v_guarded_tail(arr, len, len);
		struct iocb *polls = calloc(nr, sizeof(*polls));
		struct io_event ev;
		struct timespec zero = {0, 0};
		int queued;

		T_ASSERT(polls);
		for (unsigned i = 0; i < nr; i++) {
			io_prep_poll(&polls[i], pfd[0], POLLIN);
			ptrs[i] = &polls[i];
		}
		errno = V_ERRNO_MARK;
		queued = io_submit(small, LONG_MAX, ptrs);
		T_EQ(errno, V_ERRNO_MARK);
		T_ASSERT(queued >= 1 && queued <= (int)nr - 1);
		V_RET(io_getevents(small, 0, 1, &ev, &zero), 0);
		V_RET(io_destroy(small), 0);
		munmap(arr, (len + page - 1) / page * page + page);
		free(polls);
	}

	V_RET(io_destroy(ctx), 0);
	return 0;
}
