/*
 * io_getevents() and io_pgetevents(): checks in the kernel's order, and the
 * cases that return at once.
 *
 * fs/aio.c: copy the timeout (EFAULT); io_pgetevents then copies the
 * sigmask (EFAULT, EINVAL unless sigsetsize == 8), all before the context is
 * looked up (EINVAL); then min_nr < 0, nr < min_nr (EINVAL).  The timespec is
 * not validated: it is tv_sec * 1e9 + tv_nsec nanoseconds.  events is only
 * written when an event is copied, and an event that cannot be copied stays
 * in the ring.
 *
 * libaio itself returns 0 without a system call when the timeout is {0,0},
 * the handle's ring magic matches and the ring is empty, whatever min_nr and
 * nr are.  It reads the handle and the timeout before that, so an unreadable
 * timeout only gets to the kernel (and EFAULT) when tv_sec is readable and
 * non-zero; the fully unreadable case runs on uaio only.
 */
#include "validation.h"

#include <limits.h>
#include <pthread.h>
#include <sys/syscall.h>

static io_context_t ctx;
static int pfd[2];

/* Exported (LIBAIO_0.4) but, as in libaio, not declared in <libaio.h>. */
extern int io_queue_wait(io_context_t ctx, struct timespec *timeout);

struct v_sigset {
	const sigset_t *mask;
	size_t size;
};

static void start_poll(struct iocb *cb)
{
	struct iocb *cbs[1] = {cb};
	io_prep_poll(cb, pfd[0], POLLIN);
	cb->data = cb;
	V_RET(io_submit(ctx, 1, cbs), 1);
}

static unsigned unreaped(void)
{
	struct t_ring *r = t_ring(ctx);
	return (t_tail(r) - t_head(r) + r->nr) % r->nr;
}

/* A completed event waiting in the ring (after any already there). */
static void make_pending(struct iocb *cb)
{
	struct iocb *cbs[1] = {cb};
	unsigned before = unreaped();

	io_prep_poll(cb, pfd[1], POLLOUT);
	cb->data = cb;
	V_RET(io_submit(ctx, 1, cbs), 1);
	/* The poll may complete on a worker: wait for the ring to show it. */
	for (int i = 0; i < 5000 && unreaped() == before; i++)
		usleep(1000);
	T_EQ(unreaped(), before + 1);
}

static void take_pending(struct iocb *cb)
{
	struct io_event ev;
	struct timespec zero = {0, 0};

	V_RET(io_getevents(ctx, 1, 1, &ev, &zero), 1);
	T_ASSERT(ev.obj == cb && ev.data == cb);
	T_EQ(ev.res, POLLOUT);
}

static void timeout_and_context(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *area = v_guarded(page, PROT_READ | PROT_WRITE);
	struct timespec *half = v_guarded_tail(area, page, sizeof(time_t));
	struct timespec *bad = (struct timespec *)(area + page);
	struct timespec one = {1, 0};
	io_context_t fake = (io_context_t)calloc(1, 4096);
	struct io_event ev;
	sigset_t none;

	sigemptyset(&none);
	half->tv_sec = 1; /* tv_nsec sits in the guard page */

	/* The timeout is copied before the context is looked up... */
	V_RET(io_getevents(NULL, 1, 1, &ev, (struct timespec *)1), -EFAULT);
	V_RET(io_getevents(NULL, 1, 1, &ev, bad), -EFAULT);
	V_RET(io_getevents(NULL, 1, 1, &ev, half), -EFAULT);
	V_RET(io_getevents(NULL, -1, 1, &ev, half), -EFAULT);
	V_RET(io_pgetevents(NULL, 1, 1, &ev, half, NULL), -EFAULT);
	/* ...and on a live one, before min_nr and nr. */
	V_RET(io_getevents(ctx, 1, 1, &ev, half), -EFAULT);
	V_RET(io_getevents(ctx, 5, 1, &ev, half), -EFAULT);
	V_RET(io_pgetevents(ctx, 1, 1, &ev, half, &none), -EFAULT);
	if (t_is_uaio()) {
		V_RET(io_getevents(ctx, 1, 1, &ev, bad), -EFAULT);
		V_RET(io_getevents(ctx, 1, 1, &ev, (struct timespec *)1),
		      -EFAULT);
		V_RET(io_pgetevents(ctx, 1, 1, &ev, bad, NULL), -EFAULT);
	}

	/* Bad contexts, before min_nr and nr. */
	V_RET(io_getevents(NULL, 1, 1, &ev, NULL), -EINVAL);
	V_RET(io_getevents(NULL, 0, 0, NULL, NULL), -EINVAL);
	V_RET(io_getevents(NULL, -1, 1, &ev, &one), -EINVAL);
	V_RET(io_getevents(fake, 1, 1, &ev, &one), -EINVAL);
	V_RET(io_pgetevents(NULL, 1, 1, &ev, &one, &none), -EINVAL);
	V_RET(io_pgetevents(fake, 1, 1, &ev, NULL, NULL), -EINVAL);
	if (t_is_uaio()) {
		V_RET(io_getevents((io_context_t)~0ul, 1, 1, &ev, &one),
		      -EINVAL);
		V_RET(io_getevents((io_context_t)1, 0, 1, &ev, NULL), -EINVAL);
	}
	munmap(area, 2 * page);
	free(fake);
}

static void counts(void)
{
	struct timespec zero = {0, 0}, one = {1, 0};
	struct io_event ev[2];
	struct iocb cb;
	double t0 = t_now_ms();

	/* Refused at once, whatever the timeout. */
	V_RET(io_getevents(ctx, -1, 1, ev, NULL), -EINVAL);
	V_RET(io_getevents(ctx, -1, 1, ev, &one), -EINVAL);
	V_RET(io_getevents(ctx, LONG_MIN, 1, ev, NULL), -EINVAL);
	V_RET(io_getevents(ctx, 2, 1, ev, NULL), -EINVAL);
	V_RET(io_getevents(ctx, 1, 0, ev, &one), -EINVAL);
	V_RET(io_getevents(ctx, 0, -1, ev, NULL), -EINVAL);
	V_RET(io_getevents(ctx, 1, -1, ev, &one), -EINVAL);
	V_RET(io_pgetevents(ctx, 2, 1, ev, NULL, NULL), -EINVAL);
	V_RET(io_pgetevents(ctx, -1, 1, ev, &one, NULL), -EINVAL);
	T_ASSERT(t_now_ms() - t0 < 500);

	/* libaio's shortcut: {0,0} on an empty ring is 0 before any check. */
	V_RET(io_getevents(ctx, -1, 1, ev, &zero), 0);
	V_RET(io_getevents(ctx, 5, 1, NULL, &zero), 0);
	V_RET(io_pgetevents(ctx, -1, 1, ev, &zero, NULL), 0);
	/* With an event in the ring the kernel checks, and it stays there. */
	make_pending(&cb);
	V_RET(io_getevents(ctx, -1, 1, ev, &zero), -EINVAL);
	V_RET(io_getevents(ctx, 2, 1, ev, &zero), -EINVAL);
	take_pending(&cb);
}

static void immediate_returns(void)
{
	struct timespec zero = {0, 0}, ms1 = {0, 1000 * 1000};
	struct io_event ev[4];
	struct iocb inflight, done;
	double t0;

	start_poll(&inflight);
	t0 = t_now_ms();
	/* min_nr = nr = 0 returns at once even without a timeout. */
	V_RET(io_getevents(ctx, 0, 0, NULL, NULL), 0);
	V_RET(io_getevents(ctx, 0, 0, ev, NULL), 0);
	/* min_nr = 0 returns what there is, here nothing. */
	V_RET(io_getevents(ctx, 0, 4, ev, NULL), 0);
	/* A NULL array is fine while there is no event to copy. */
	V_RET(io_getevents(ctx, 0, 1, NULL, NULL), 0);
	V_RET(io_getevents(ctx, 0, 1, NULL, &ms1), 0);
	/* {0,0} is one non-blocking pass. */
	V_RET(io_getevents(ctx, 1, 4, ev, &zero), 0);
	V_RET(io_pgetevents(ctx, 1, 4, ev, &zero, NULL), 0);
	/* io_queue_wait is io_getevents(ctx, 0, 0, NULL, t): never waits. */
	V_RET(io_queue_wait(ctx, NULL), 0);
	V_RET(io_queue_wait(ctx, &zero), 0);
	T_ASSERT(t_now_ms() - t0 < 500);
	V_RET(io_queue_wait(NULL, NULL), -EINVAL);

	/* ...and does not consume a completed event either. */
	make_pending(&done);
	V_RET(io_queue_wait(ctx, NULL), 0);
	V_RET(io_getevents(ctx, 0, 0, NULL, NULL), 0);
	take_pending(&done);

	/* A timeout that runs out returns the events so far: 0. */
	{
		struct timespec ms50 = {0, 50 * 1000 * 1000};
		t0 = t_now_ms();
		V_RET(io_getevents(ctx, 1, 4, ev, &ms50), 0);
		T_ASSERT(t_now_ms() - t0 >= 45);
		/* Complete the poll and collect it. */
		T_ASSERT(write(pfd[1], "x", 1) == 1);
		V_RET(io_getevents(ctx, 1, 4, ev, NULL), 1);
		T_ASSERT(ev[0].obj == &inflight);
		T_EQ(ev[0].res, POLLIN | POLLRDNORM);
		T_ASSERT(read(pfd[0], ev, 1) == 1);
	}
}

static void events_buffer(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct io_event *ro = v_guarded(page, PROT_READ);
	struct iocb cb;

	/* Only written when an event is copied: EFAULT, the event stays. */
	make_pending(&cb);
	V_RET(io_getevents(ctx, 1, 1, NULL, NULL), -EFAULT);
	V_RET(io_getevents(ctx, 0, 1, NULL, NULL), -EFAULT);
	V_RET(io_pgetevents(ctx, 1, 1, NULL, NULL, NULL), -EFAULT);
	V_RET(io_getevents(ctx, 1, 1, ro, NULL), -EFAULT);
	V_RET(io_getevents(ctx, 1, 1, V_KERNEL_ADDR, NULL), -EFAULT);
	T_EQ(unreaped(), 1);
	take_pending(&cb);
	munmap(ro, 2 * page);
}

/*
 * Room for one of two events: the kernel copies the contiguous run of
 * events at once, fails, and consumes neither.  Last, since it is the
 * finest point here.
 */
static void events_buffer_short(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *area = v_guarded(page, PROT_READ | PROT_WRITE);
	struct io_event *one = v_guarded_tail(area, page, sizeof(*one));
	struct timespec two_s = {2, 0};
	struct io_event ev[2];
	struct iocb cb, cb2;

	make_pending(&cb);
	make_pending(&cb2);
	V_RET(io_getevents(ctx, 1, 1, one, NULL), 1);
	T_ASSERT(one->obj == &cb);
	make_pending(&cb);
	V_RET(io_getevents(ctx, 2, 2, one, NULL), -EFAULT);
	V_EQ(unreaped(), 2);
	V_RET(io_getevents(ctx, 2, 2, ev, &two_s), 2);
	V_EQ(ev[0].obj == &cb2 && ev[1].obj == &cb, 1);
	munmap(area, 2 * page);

	/* The same at the end of the brk heap. */
	make_pending(&cb);
	make_pending(&cb2);
	one = v_brk_tail(sizeof(*one));
	if (!one) {
		V_RET(io_getevents(ctx, 2, 2, ev, &two_s), 2);
	} else {
		V_RET(io_getevents(ctx, 2, 2, one, NULL), -EFAULT);
		V_EQ(unreaped(), 2);
		V_RET(io_getevents(ctx, 1, 1, one, NULL), 1);
		T_ASSERT(one->obj == &cb);
		V_RET(io_getevents(ctx, 1, 1, ev, &two_s), 1);
		T_ASSERT(ev[0].obj == &cb2);
	}
}

static void sigmasks(void)
{
	struct timespec zero = {0, 0}, ms10 = {0, 10 * 1000 * 1000};
	struct io_event ev;
	struct iocb cb;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* A bad mask pointer: EFAULT, before the context is looked up. */
	V_RET(io_pgetevents(NULL, 1, 1, &ev, &ms10, (sigset_t *)1), -EFAULT);
	V_RET(io_pgetevents(NULL, 1, 1, &ev, NULL, V_KERNEL_ADDR), -EFAULT);
	V_RET(io_pgetevents(ctx, 1, 1, &ev, &ms10, (sigset_t *)1), -EFAULT);
	V_RET(io_pgetevents(ctx, 5, 1, &ev, &ms10, (sigset_t *)1), -EFAULT);
	/* libaio's peek, {0,0} on an empty ring, comes before the mask is
	 * read; with an event in the ring the kernel reads it. */
	V_RET(io_pgetevents(ctx, 1, 1, &ev, &zero, (sigset_t *)1), 0);
	V_RET(io_pgetevents(ctx, 1, 1, &ev, &zero, V_KERNEL_ADDR), 0);
	make_pending(&cb);
	V_RET(io_pgetevents(ctx, 1, 1, &ev, &zero, (sigset_t *)1), -EFAULT);
	take_pending(&cb);
	/* A good one works like io_getevents. */
	V_RET(io_pgetevents(ctx, 1, 1, &ev, &ms10, &set), 0);
	make_pending(&cb);
	V_RET(io_pgetevents(ctx, 1, 1, &ev, &zero, &set), 1);
	T_ASSERT(ev.obj == &cb);

	/*
	 * sigsetsize must be 8: only the raw system call can pass another,
	 * so this needs a kernel context (the reference or the kernel
	 * engine, whose handles are the kernel's).
	 */
	if (t_is_ref() || !strcmp(t_engine(), "kernel")) {
		struct v_sigset ss = {&set, 8};
		long r;

		make_pending(&cb);
		for (size_t size = 0; size <= 16; size += 4) {
			if (size == 8)
				continue;
			ss.size = size;
			r = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, NULL,
				    &ss);
			T_EQ(r == -1 ? -errno : r, -EINVAL);
			/* The timeout is copied first... */
			r = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev,
				    (void *)1, &ss);
			T_EQ(r == -1 ? -errno : r, -EFAULT);
			/* ...the size checked before the mask is read. */
			ss.mask = (sigset_t *)1;
			r = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, NULL,
				    &ss);
			T_EQ(r == -1 ? -errno : r, -EINVAL);
			ss.mask = &set;
		}
		/* A NULL mask ignores the size. */
		ss.mask = NULL;
		ss.size = 3;
		r = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, NULL, &ss);
		T_EQ(r, 1);
		T_ASSERT(ev.obj == &cb);
		/* An unreadable {mask, size} pair. */
		r = syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, NULL, (void *)1);
		T_EQ(r == -1 ? -errno : r, -EFAULT);
	}
}

static void unvalidated_timespec(void)
{
	/* tv_sec * 1e9 + tv_nsec: each of these is 200 ms. */
	static const struct timespec odd[] = {{-1, 1200000000},
					      {1, -800000000}};
	struct timespec huge = {0, 2000000000};
	struct io_event ev;
	struct iocb cb;
	double t0, dt;

	/* With an event ready, tv_nsec = 2e9 is no error. */
	make_pending(&cb);
	V_RET(io_getevents(ctx, 1, 1, &ev, &huge), 1);
	T_ASSERT(ev.obj == &cb);
	for (size_t i = 0; i < 2; i++) {
		struct timespec ts = odd[i];
		t0 = t_now_ms();
		V_RET(io_getevents(ctx, 1, 1, &ev, &ts), 0);
		dt = t_now_ms() - t0;
		if (dt < 150 || dt > 2000)
			T_FAIL("{%ld, %ld} waited %.1f ms, expected 200",
			       (long)ts.tv_sec, ts.tv_nsec, dt);
	}
}

static void *write_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	T_ASSERT(write(pfd[1], "x", 1) == 1);
	return NULL;
}

/*
 * timespec64_to_ktime() saturates a tv_sec of KTIME_SEC_MAX (LLONG_MAX /
 * 1e9) or more to KTIME_MAX, no timer; below that tv_sec * 1e9 + tv_nsec
 * wraps, and a sum with the clock that overflows saturates too: all of
 * these wait for the event.  {LONG_MIN, 0} wraps to 0: one pass.
 */
static void huge_timespec(void)
{
	static const struct timespec forever[] = {
	    {LONG_MAX, 0},    {LONG_MAX, LONG_MAX},
	    {18446744074, 0}, /* wraps to 0.29 s */
	    {9223372035, 0},  /* the sum with the clock overflows */
	    {0, LONG_MAX},    {1, LONG_MAX},
	};
	struct timespec once = {LONG_MIN, 0};
	struct io_event ev;
	struct iocb cb;
	pthread_t th;
	double t0, dt;

	for (size_t i = 0; i < sizeof(forever) / sizeof(forever[0]); i++) {
		struct timespec ts = forever[i];
		start_poll(&cb);
		T_EQ(pthread_create(&th, NULL, write_later, NULL), 0);
		t0 = t_now_ms();
		V_RET(io_getevents(ctx, 1, 1, &ev, &ts), 1);
		dt = t_now_ms() - t0;
		T_EQ(pthread_join(th, NULL), 0);
		T_ASSERT(ev.obj == &cb);
		if (dt < 250)
			T_FAIL("{%ld, %ld} waited %.1f ms, expected the event "
			       "(300 ms)",
			       (long)ts.tv_sec, ts.tv_nsec, dt);
		T_ASSERT(read(pfd[0], &ev, 1) == 1);
	}
	t0 = t_now_ms();
	V_RET(io_getevents(ctx, 1, 1, &ev, &once), 0);
	T_ASSERT(t_now_ms() - t0 < 200);
}

int main(void)
{
	ctx = t_setup(16);
	T_ASSERT(pipe(pfd) == 0);

	timeout_and_context();
	counts();
	immediate_returns();
	events_buffer();
	sigmasks();
	unvalidated_timespec();
	huge_timespec();
	events_buffer_short();
	V_RET(io_destroy(ctx), 0);
	return 0;
}
