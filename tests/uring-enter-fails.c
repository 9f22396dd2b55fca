/*
 * io_uring_enter failing for good (the ring's descriptor closed by a
 * program that closes every descriptor, a filter installed after setup):
 * the requests it was to carry fail with its error instead of staying
 * queued, a thread waiting in io_getevents meanwhile gets their events,
 * and nothing hangs.  The failure is made by interposing liburing's
 * io_uring_submit(), which the library calls to flush its ring.
 */
#include "behaviour.h"

#include <dlfcn.h>

struct io_uring;

static _Atomic int fail_with; /* 0: pass through */
static atomic_long failed;

/* The library's flush; the test's definition wins (ENABLE_EXPORTS). */
int io_uring_submit(struct io_uring *ring)
{
	static int (*real)(struct io_uring *);
	int err = atomic_load(&fail_with);

	if (err) {
		atomic_fetch_add(&failed, 1);
		return -err;
	}
	if (!real)
		real = (int (*)(struct io_uring *))dlsym(RTLD_NEXT,
							 "io_uring_submit");
	return real(ring);
}

struct waiter {
	io_context_t ctx;
	struct io_event ev;
	int ret;
};

static void *wait_fn(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = t_ts_ms(10000);

	w->ret = io_getevents(w->ctx, 1, 1, &w->ev, &ts);
	return NULL;
}

static void join_within(pthread_t t, long ms, const char *what)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000 + 1;
	if (pthread_timedjoin_np(t, NULL, &dl))
		T_FAIL("%s: still blocked after %ld ms", what, ms);
}

/* A read of an empty pipe goes to io_uring on both engines. */
static void fails_while_waited(int err)
{
	io_context_t ctx = t_setup(8);
	struct waiter w = {.ctx = ctx, .ret = 99};
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
	join_within(t, 5000, "waiter");
	T_EQ(w.ret, 1);
	T_ASSERT(w.ev.obj == &cb);
	T_EQ(w.ev.res, -err);

	/* The ring works again once io_uring_enter does. */
	T_EQ(write(pfd[1], "x", 1), 1);
	cb.data = (void *)1;
	T_EQ(io_submit(ctx, 1, &p), 1);
	t_reap(ctx, 1, &w.ev);
	T_EQ(w.ev.res, 1);
	T_EQ(io_destroy(ctx), 0);
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	fails_while_waited(EBADF);
	fails_while_waited(EPERM);
	return 0;
}
