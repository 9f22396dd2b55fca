/*
 * io_getevents waits: a timeout is honoured and returns what there is, a NULL
 * timeout waits until an event arrives, min_nr is how many to wait for (0
 * never waits), and the timespec is not validated (tv_nsec past a second
 * simply adds up, a negative one waits forever).
 */
#include "behaviour.h"

#include <poll.h>

/* Slack for a loaded machine (2 CPUs, sanitizers): waits may run late. */
#define LATE_MS 1500

struct writer {
	int fd;
	long after_ms;
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	t_sleep_ms(w->after_ms);
	T_EQ(write(w->fd, "x", 1), 1);
	return NULL;
}

/* Write one byte to fd after ms, from another thread. */
static pthread_t write_later(struct writer *w, int fd, long ms)
{
	pthread_t t;
	w->fd = fd;
	w->after_ms = ms;
	T_EQ(pthread_create(&t, NULL, writer_fn, w), 0);
	return t;
}

static void poll_on(io_context_t ctx, struct iocb *iocb, int fd, long data)
{
	io_prep_poll(iocb, fd, POLLIN);
	iocb->data = (void *)data;
	t_submit1(ctx, iocb);
}

static void drain(int fd)
{
	char c;
	T_EQ(read(fd, &c, 1), 1);
}

#define T_ELAPSED(t0, lo, hi)                                                  \
	do {                                                                   \
		double el_ = t_now_ms() - (t0);                                \
		if (el_ < (lo) || el_ > (hi))                                  \
			T_FAIL("waited %.1f ms, expected %d..%d ms", el_,      \
			       (int)(lo), (int)(hi));                          \
	} while (0)

int main(void)
{
	io_context_t ctx = t_setup(16);
	struct io_event ev[4];
	struct iocb pa, pb, pc;
	struct writer wa, wb;
	struct timespec ts;
	pthread_t ta, tb;
	int a[2], b[2], c[2];
	double t0;

	t_pipe(a);
	t_pipe(b);
	t_pipe(c);

	/* Nothing pending: {0,0} returns at once, 100 ms waits 100 ms. */
	ts = (struct timespec){0, 0};
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 1, 4, ev, &ts), 0);
	T_ELAPSED(t0, 0, 50);
	ts = t_ts_ms(100);
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 1, 4, ev, &ts), 0);
	T_ELAPSED(t0, 99, 100 + LATE_MS);

	/* With requests pending but not completing, the same. */
	poll_on(ctx, &pa, a[0], 1);
	ts = t_ts_ms(100);
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 1, 4, ev, &ts), 0);
	T_ELAPSED(t0, 99, 100 + LATE_MS);

	/* NULL: waits for the event another thread causes. */
	t0 = t_now_ms();
	ta = write_later(&wa, a[1], 100);
	T_EQ(io_getevents(ctx, 1, 4, ev, NULL), 1);
	T_ELAPSED(t0, 90, 100 + LATE_MS);
	T_EVENT(&ev[0], &pa, POLLIN | POLLRDNORM);
	pthread_join(ta, NULL);
	drain(a[0]);

	/* min_nr 2 waits for the second event, not just the first. */
	poll_on(ctx, &pa, a[0], 2);
	poll_on(ctx, &pb, b[0], 3);
	t0 = t_now_ms();
	ta = write_later(&wa, a[1], 30);
	tb = write_later(&wb, b[1], 200);
	T_EQ(io_getevents(ctx, 2, 4, ev, NULL), 2);
	T_ELAPSED(t0, 190, 200 + LATE_MS);
	T_ASSERT((ev[0].obj == &pa && ev[1].obj == &pb) ||
		 (ev[0].obj == &pb && ev[1].obj == &pa));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	drain(a[0]);
	drain(b[0]);

	/* Fewer than min_nr by the timeout: returns what there is. */
	poll_on(ctx, &pa, a[0], 4);
	poll_on(ctx, &pb, b[0], 5);
	T_EQ(write(a[1], "x", 1), 1);
	t_wait_ready(ctx, 1);
	ts = t_ts_ms(100);
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 2, 4, ev, &ts), 1);
	T_ELAPSED(t0, 99, 100 + LATE_MS);
	T_EVENT(&ev[0], &pa, POLLIN | POLLRDNORM);
	drain(a[0]);

	/* min_nr 1 with an event ready: no wait at all. */
	T_EQ(write(b[1], "x", 1), 1);
	t_wait_ready(ctx, 1);
	ts = t_ts_ms(2000);
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 1, 4, ev, &ts), 1);
	T_ELAPSED(t0, 0, 500);
	T_EVENT(&ev[0], &pb, POLLIN | POLLRDNORM);
	drain(b[0]);

	/* min_nr 0 is satisfied by nothing: returns 0 at once. */
	poll_on(ctx, &pc, c[0], 6);
	ts = t_ts_ms(1000);
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 0, 4, ev, &ts), 0);
	T_ELAPSED(t0, 0, 500);
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 0, 4, ev, NULL), 0);
	T_ELAPSED(t0, 0, 500);
	T_EQ(io_getevents(ctx, 0, 0, NULL, NULL), 0);

	/* min_nr out of range. */
	T_EQ(io_getevents(ctx, 5, 4, ev, NULL), -EINVAL);
	T_EQ(io_getevents(ctx, -1, 4, ev, NULL), -EINVAL);

	/* tv_nsec is not checked: 1.2e9 ns waits 1.2 s. */
	ts = (struct timespec){0, 1200000000L};
	t0 = t_now_ms();
	T_EQ(io_getevents(ctx, 1, 4, ev, &ts), 0);
	T_ELAPSED(t0, 1190, 1200 + LATE_MS);

	/* A negative timeout waits until the event, like NULL. */
	t0 = t_now_ms();
	ta = write_later(&wa, c[1], 300);
	ts = (struct timespec){-1, 0};
	T_EQ(io_getevents(ctx, 1, 4, ev, &ts), 1);
	T_ELAPSED(t0, 290, 300 + LATE_MS);
	T_EVENT(&ev[0], &pc, POLLIN | POLLRDNORM);
	pthread_join(ta, NULL);

	T_EQ(io_destroy(ctx), 0);
	return 0;
}
