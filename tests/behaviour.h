/*
 * Helpers shared by the behaviour and concurrency tests (static inline, so
 * each test program stays a single translation unit plus helpers.c).
 */
#ifndef UAIO_TEST_BEHAVIOUR_H
#define UAIO_TEST_BEHAVIOUR_H

#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline struct timespec t_ts_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};
	return ts;
}

/* Short pauses that only let another thread reach a blocking call. */
static inline void t_sleep_ms(long ms)
{
	struct timespec ts = t_ts_ms(ms);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* pthread_join() waiting at most ms: 0, or ETIMEDOUT. */
static inline int t_join_ms(pthread_t t, long ms)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(t, NULL, &dl);
}

static inline void t_submit1(io_context_t ctx, struct iocb *iocb)
{
	int ret = io_submit(ctx, 1, &iocb);
	if (ret != 1)
		T_FAIL("io_submit(opcode %d) = %d (%s), expected 1",
		       iocb->aio_lio_opcode, ret,
		       ret < 0 ? strerror(-ret) : "short");
}

/*
 * Wait up to ms for exactly n events.  Returns the number got; a bounded wait
 * keeps a broken engine from hanging the test until CTest's timeout.
 */
static inline int t_wait_events(io_context_t ctx, int n, struct io_event *ev,
				long ms)
{
	double end = t_now_ms() + ms;
	int got = 0;

	while (got < n) {
		double left = end - t_now_ms();
		struct timespec ts;
		int ret;

		if (left <= 0)
			break;
		ts = t_ts_ms((long)left + 1);
		ret = io_getevents(ctx, n - got, n - got, ev + got, &ts);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			T_FAIL("io_getevents: %s", strerror(-ret));
		got += ret;
	}
	return got;
}

/* Reap one event within 5 s or fail. */
static inline void t_wait1(io_context_t ctx, struct io_event *ev)
{
	if (t_wait_events(ctx, 1, ev, 5000) != 1)
		T_FAIL("no completion within 5 s");
}

/* Check that ev completes iocb with res (and res2 0, data as submitted). */
#define T_EVENT(ev, iocbp, want_res)                                           \
	do {                                                                   \
		T_ASSERT((ev)->obj == (iocbp));                                \
		T_ASSERT((ev)->data == (iocbp)->data);                         \
		T_EQ((long)(ev)->res, (want_res));                             \
		T_EQ((long)(ev)->res2, 0);                                     \
	} while (0)

/* Submit one iocb, reap its event within 5 s and check res. */
static inline void t_run1(io_context_t ctx, struct iocb *iocb, long want_res)
{
	struct io_event ev;

	t_submit1(ctx, iocb);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, iocb, want_res);
}

/*
 * Wait up to 5 s until at least n events sit in the context's ring (the
 * kernel's layout on every engine), without reaping them: a completed but
 * unreaped request, whatever the machine's load.
 */
static inline void t_wait_ready(io_context_t ctx, unsigned n)
{
	const struct t_ring *r = t_ring(ctx);
	double end = t_now_ms() + 5000;

	while ((t_tail(r) - t_head(r) + r->nr) % r->nr < n) {
		if (t_now_ms() > end)
			T_FAIL(
			    "fewer than %u completions in the ring after 5 s",
			    n);
		t_sleep_ms(1);
	}
}

/* A {0,0} pass: how many events are ready right now (at most nr). */
static inline int t_peek(io_context_t ctx, int nr, struct io_event *ev)
{
	struct timespec zero = {0, 0};
	int ret = io_getevents(ctx, 0, nr, ev, &zero);
	if (ret < 0)
		T_FAIL("io_getevents({0,0}): %s", strerror(-ret));
	return ret;
}

/* Entries in a /proc directory, without . and .. */
static inline int t_count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		T_FAIL("opendir(%s): %s", path, strerror(errno));
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	/* For /proc/self/fd this includes opendir's own fd, on every call. */
	return n;
}

static inline void t_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		T_FAIL("pipe2: %s", strerror(errno));
}

#endif
