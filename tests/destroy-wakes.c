/*
 * io_destroy wakes every thread blocked in io_getevents/io_pgetevents on the
 * context (they return -EINVAL), returns promptly itself, and marks the
 * context dead at once: of two concurrent destroys exactly one succeeds, and
 * a thread submitting in a loop gets -EINVAL from then on.
 */
#include "behaviour.h"

#include <poll.h>
#include <signal.h>

#define WAITERS 4

struct waiter {
	io_context_t ctx;
	int kind;
	atomic_bool entered;
	int ret;
	double returned_at;
};

static void *wait_fn(void *arg)
{
	struct waiter *w = arg;
	struct io_event ev[4];
	struct timespec ts = t_ts_ms(10000);
	sigset_t none;

	sigemptyset(&none);
	atomic_store(&w->entered, true);
	switch (w->kind) {
	case 0:
		w->ret = io_getevents(w->ctx, 1, 4, ev, NULL);
		break;
	case 1:
		w->ret = io_getevents(w->ctx, 4, 4, ev, NULL);
		break;
	case 2:
		w->ret = io_getevents(w->ctx, 1, 4, ev, &ts);
		break;
	default:
		w->ret = io_pgetevents(w->ctx, 1, 4, ev, NULL, &none);
		break;
	}
	w->returned_at = t_now_ms();
	return NULL;
}

static void join_within(pthread_t t, long ms)
{
	if (t_join_ms(t, ms))
		T_FAIL("thread still blocked %ld ms after io_destroy", ms);
}

static void waiters_woken(void)
{
	io_context_t ctx = t_setup(16);
	struct waiter w[WAITERS];
	pthread_t t[WAITERS];
	struct iocb poll_iocb, read_iocb, *p;
	char buf[16];
	int pfd[2];
	double t0, el;

	/* Something outstanding to cancel while they wait. */
	t_pipe(pfd);
	io_prep_poll(&poll_iocb, pfd[0], POLLIN);
	t_submit1(ctx, &poll_iocb);

	for (int i = 0; i < WAITERS; i++) {
		w[i] = (struct waiter){.ctx = ctx, .kind = i, .ret = 1};
		T_EQ(pthread_create(&t[i], NULL, wait_fn, &w[i]), 0);
	}
	/*
	 * Let them block.  They must be inside the call before the ring goes
	 * away: the system libaio reads the ring's magic first.
	 */
	for (int i = 0; i < WAITERS; i++)
		while (!atomic_load(&w[i].entered))
			t_sleep_ms(1);
	t_sleep_ms(100);

	t0 = t_now_ms();
	T_EQ(io_destroy(ctx), 0);
	el = t_now_ms() - t0;
	fprintf(stderr, "io_destroy took %.1f ms\n", el);
	T_ASSERT(el < 1000);
	for (int i = 0; i < WAITERS; i++) {
		join_within(t[i], 3000);
		if (w[i].ret != -EINVAL)
			T_FAIL("waiter %d returned %d, expected -EINVAL", i,
			       w[i].ret);
		T_ASSERT(w[i].returned_at - t0 < 1500);
	}

	/* Dead for everything that does not peek at the ring. */
	io_prep_pread(&read_iocb, pfd[0], buf, sizeof(buf), 0);
	p = &read_iocb;
	T_EQ(io_submit(ctx, 1, &p), -EINVAL);
	T_EQ(io_cancel(ctx, &poll_iocb, NULL), -EINVAL);
	T_EQ(io_destroy(ctx), -EINVAL);
	/*
	 * The system libaio reads the (now unmapped) ring's magic before the
	 * syscall, so it crashes here; uaio must answer -EINVAL.
	 */
	if (t_is_uaio()) {
		struct io_event ev;
		struct timespec zero = {0, 0};
		T_EQ(io_getevents(ctx, 0, 1, &ev, &zero), -EINVAL);
		T_EQ(io_getevents(ctx, 1, 1, &ev, NULL), -EINVAL);
	}
	close(pfd[0]);
	close(pfd[1]);
}

struct racer {
	io_context_t ctx;
	pthread_barrier_t *bar;
	int ret;
};

static void *destroy_fn(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->bar);
	r->ret = io_destroy(r->ctx);
	return NULL;
}

static void concurrent_destroy(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		pthread_barrier_t bar;
		struct racer r[2];
		pthread_t t[2];

		pthread_barrier_init(&bar, NULL, 2);
		r[0] = r[1] = (struct racer){.ctx = t_setup(8), .bar = &bar};
		for (int j = 0; j < 2; j++)
			T_EQ(pthread_create(&t[j], NULL, destroy_fn, &r[j]), 0);
		for (int j = 0; j < 2; j++)
			join_within(t[j], 3000);
		pthread_barrier_destroy(&bar);
		if (!((r[0].ret == 0 && r[1].ret == -EINVAL) ||
		      (r[0].ret == -EINVAL && r[1].ret == 0)))
			T_FAIL("concurrent io_destroy returned %d and %d",
			       r[0].ret, r[1].ret);
	}
}

struct submitter {
	io_context_t ctx;
	int fd;
	atomic_int started;
	int last;
	long ok;
};

static void *submit_fn(void *arg)
{
	struct submitter *s = arg;
	static char buf[512];
	double end = t_now_ms() + 5000;
	struct iocb iocb, *p = &iocb;

	for (;;) {
		io_prep_pread(&iocb, s->fd, buf, sizeof(buf), 0);
		s->last = io_submit(s->ctx, 1, &p);
		atomic_store(&s->started, 1);
		if (s->last == 1) {
			struct io_event ev;
			struct timespec zero = {0, 0};
			s->ok++;
			/*
			 * Reap to keep room; the context may die between the
			 * two calls, which the system libaio's ring peek cannot
			 * survive, so only uaio reaps here.
			 */
			if (t_is_uaio())
				io_getevents(s->ctx, 0, 1, &ev, &zero);
		} else if (s->last != -EAGAIN || t_now_ms() > end) {
			break;
		}
	}
	return NULL;
}

/* Destroy under a thread that keeps submitting: it sees -EINVAL, no crash. */
static void destroy_while_submitting(void)
{
	struct submitter s = {.ctx = t_setup(4096),
			      .fd = t_scratch_file(4096, 0)};
	pthread_t t;

	T_EQ(pthread_create(&t, NULL, submit_fn, &s), 0);
	while (!atomic_load(&s.started))
		t_sleep_ms(1);
	t_sleep_ms(20);
	T_EQ(io_destroy(s.ctx), 0);
	join_within(t, 6000);
	T_EQ(s.last, -EINVAL);
	T_ASSERT(s.ok > 0);
	close(s.fd);
}

struct peeker {
	_Atomic(io_context_t) ctx;
	atomic_int stop;
	atomic_long peeks;
};

static void *peek_fn(void *arg)
{
	struct peeker *p = arg;
	struct timespec zero = {0, 0};
	struct io_event ev;

	while (!atomic_load(&p->stop)) {
		int r = io_getevents(atomic_load(&p->ctx), 0, 1, &ev, &zero);

		T_ASSERT(r == 0 || r == -EINVAL);
		atomic_fetch_add(&p->peeks, 1);
	}
	return NULL;
}

/*
 * Destroy under threads that keep looking at the ring with a zero timeout
 * (libaio's peek, made without a system call): they see 0 or -EINVAL,
 * never a ring the kernel has unmapped.  Not on the system libaio, whose
 * peek reads whatever is at the handle.
 */
static void destroy_while_peeking(int rounds)
{
	struct peeker p = {0};
	pthread_t t[3];

	if (!t_is_uaio())
		return;
	atomic_store(&p.ctx, t_setup(8));
	for (int i = 0; i < 3; i++)
		T_EQ(pthread_create(&t[i], NULL, peek_fn, &p), 0);
	for (int r = 0; r < rounds; r++) {
		io_context_t ctx = atomic_load(&p.ctx);

		t_sleep_ms(1);
		T_EQ(io_destroy(ctx), 0);
		if (r + 1 < rounds)
			atomic_store(&p.ctx, t_setup(8));
	}
	atomic_store(&p.stop, 1);
	for (int i = 0; i < 3; i++)
		join_within(t[i], 6000);
	T_ASSERT(atomic_load(&p.peeks) > 0);
}

int main(void)
{
	waiters_woken();
	concurrent_destroy(10);
	destroy_while_submitting();
	destroy_while_peeking(100);
	return 0;
}
