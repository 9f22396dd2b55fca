/*
 * io_uring_enter failing: for good (the ring's descriptor closed by a
 * program that closes every descriptor, a filter installed after setup),
 * the requests it was to carry fail with its error instead of staying
 * queued; for a moment (EBUSY: completions backed up), the library drains
 * the ring and tries again.  Either way a thread waiting in io_getevents
 * meanwhile gets the events, and nothing hangs (both once took sq_lock
 * twice in one thread).  The failures are made by interposing liburing's
 * io_uring_submit(), which the library calls to flush its ring.
 */
#include "behaviour.h"

#include <dlfcn.h>
#include <liburing.h>

static _Atomic int fail_with; /* 0: pass through */
static atomic_bool busy_once; /* submit one SQE, then say EBUSY */
static atomic_long failed;

static int real_submit(struct io_uring *ring)
{
	static int (*real)(struct io_uring *);

	if (!real)
		real = (int (*)(struct io_uring *))dlsym(RTLD_NEXT,
							 "io_uring_submit");
	return real(ring);
}

/* The library's flush; the test's definition wins (ENABLE_EXPORTS). */
int io_uring_submit(struct io_uring *ring)
{
	int err = atomic_load(&fail_with);
	unsigned tail = ring->sq.sqe_tail;

	if (err) {
		atomic_fetch_add(&failed, 1);
		return -err;
	}
	if (tail - ring->sq.sqe_head > 1 && atomic_exchange(&busy_once, 0)) {
		/* The first goes (a cached read: its CQE is there when the
		 * call returns), the rest wait for room. */
		ring->sq.sqe_tail = ring->sq.sqe_head + 1;
		int r = real_submit(ring);
		ring->sq.sqe_tail = tail;
		if (r != 1)
			return r;
		atomic_fetch_add(&failed, 1);
		return -EBUSY;
	}
	return real_submit(ring);
}

struct waiter {
	io_context_t ctx;
	int nr;
	struct io_event ev[2];
	int ret;
};

static void *wait_fn(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = t_ts_ms(10000);

	w->ret = io_getevents(w->ctx, w->nr, w->nr, w->ev, &ts);
	return NULL;
}

static void join_within(pthread_t t, long ms, const char *what)
{
	if (t_join_ms(t, ms))
		T_FAIL("%s: not joined after %ld ms", what, ms);
}

/* A read of an empty pipe goes to io_uring on both engines. */
static void fails_while_waited(int err)
{
	io_context_t ctx = t_setup(8);
	struct waiter w = {.ctx = ctx, .nr = 1, .ret = 99};
	struct iocb cb, *p = &cb;
	pthread_t t;
	char buf[16];
	int pfd[2];

	t_pipe(pfd);
	T_EQ(pthread_create(&t, NULL, wait_fn, &w), 0);
	t_sleep_ms(100); /* asleep in io_getevents */
	io_prep_pread(&cb, pfd[0], buf, sizeof(buf), 0);
	atomic_store(&failed, 0);
	atomic_store(&fail_with, err);
	/* Accepted: the failure comes after the request was queued. */
	T_EQ(io_submit(ctx, 1, &p), 1);
	atomic_store(&fail_with, 0);
	T_ASSERT(atomic_load(&failed) > 0);
	join_within(t, 6000, "waiter");
	T_EQ(w.ret, 1);
	T_ASSERT(w.ev[0].obj == &cb);
	T_EQ(w.ev[0].res, -err);

	/* The ring works again once io_uring_enter does. */
	T_EQ(write(pfd[1], "x", 1), 1);
	T_EQ(io_submit(ctx, 1, &p), 1);
	t_reap(ctx, 1, w.ev);
	T_EQ(w.ev[0].res, 1);
	T_EQ(io_destroy(ctx), 0);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * EBUSY with a completion in the CQ: the flush drains it, under sq_lock,
 * and that wakes the thread waiting for both reads.  Whether the waiter
 * or the flush drains first is a race: several rounds.
 */
static void busy_while_waited(int rounds)
{
	int fd = t_scratch_file(8192, O_RDWR);
	long busy = 0;

	for (int r = 0; r < rounds; r++) {
		io_context_t ctx = t_setup(8);
		struct waiter w = {.ctx = ctx, .nr = 2, .ret = 99};
		struct iocb cb[2], *p[2] = {&cb[0], &cb[1]};
		char buf[2][512];
		pthread_t t;

		io_prep_pread(&cb[0], fd, buf[0], sizeof(buf[0]), 0);
		io_prep_pread(&cb[1], fd, buf[1], sizeof(buf[1]), 4096);
		T_EQ(pthread_create(&t, NULL, wait_fn, &w), 0);
		t_sleep_ms(20); /* asleep in io_getevents */
		atomic_store(&failed, 0);
		atomic_store(&busy_once, 1);
		T_EQ(io_submit(ctx, 2, p), 2);
		atomic_store(&busy_once, 0);
		busy += atomic_load(&failed);
		join_within(t, 6000, "waiter");
		T_EQ(w.ret, 2);
		for (int i = 0; i < 2; i++)
			T_EQ(w.ev[i].res, 512);
		T_EQ(io_destroy(ctx), 0);
	}
	/* auto sends a batch of cached reads to io_uring too. */
	T_EQ(busy, rounds);
	close(fd);
}

int main(void)
{
	fails_while_waited(EBADF);
	fails_while_waited(EPERM);
	busy_while_waited(50);
	return 0;
}
