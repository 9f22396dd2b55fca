/*
 * Requests that a file system holds: faultfs (see fault-fuse-read.c) keeps
 * them until told to let them go, as a stalled network or a slow disk
 * would.  Kernel AIO runs a buffered request on FUSE inside io_submit,
 * which then blocks; an O_DIRECT one asynchronously.  So every request is
 * submitted from a thread of its own, and on every engine:
 *
 *  - a held request does not complete until released, and then completes
 *    once, with all its data; the context's other requests complete
 *    meanwhile;
 *  - io_cancel does what it says: the kernel cannot take it back (-EINVAL,
 *    it cancels only polls) and the request completes when released; the
 *    emulated engines may cancel it (-EINPROGRESS, res -ECANCELED at
 *    once, as uaio(7) says);
 *  - a thread waiting in io_getevents meanwhile wakes for the context's
 *    other completions and for a signal;
 *  - io_destroy waits for it: when io_destroy returns, the read has
 *    filled the buffer;
 *  - the thread that submitted held reads ends, while the context lives
 *    or while io_destroy waits for them: they complete all the same;
 *  - when the file system dies (its server killed) with requests held,
 *    they complete with the kernel's error, and the context still works.
 */
#include "faults.h"

#include <linux/fs.h>

#define K4 4096
#define K16 16384

struct submitter {
	struct t_aio *a;
	struct iocb **cbs;
	int n, ret;
	pthread_t t;
};

static void *submit_main(void *arg)
{
	struct submitter *s = arg;

	__atomic_store_n(&s->ret, t_aio_submit(s->a, s->n, s->cbs),
			 __ATOMIC_RELEASE);
	return NULL;
}

/* Submit from a thread: kernel AIO may block in io_submit on FUSE. */
static void submit_async(struct submitter *s, struct t_aio *a,
			 struct iocb **cbs, int n)
{
	*s = (struct submitter){.a = a, .cbs = cbs, .n = n, .ret = -1000};
	T_EQ(pthread_create(&s->t, NULL, submit_main, s), 0);
}

static void submit_join(struct submitter *s, const char *what)
{
	T_EQ(pthread_join(s->t, NULL), 0);
	F_CHECK(s->ret == s->n, "%s: io_submit of %d returned %d", what, s->n,
		s->ret);
}

static void check_data(const char *what, const unsigned char *buf,
		       long long off, long len)
{
	for (long i = 0; i < len; i++)
		if (buf[i] != faultfs_pattern((uint64_t)(off + i))) {
			F_CHECK(false, "%s: wrong data at %lld", what, off + i);
			return;
		}
}

/*
 * No event may come for 150 ms while the file system holds the requests
 * of p not yet complete; one that comes anyway is recorded in res.
 */
static void expect_held(struct t_aio *a, struct iocb **p, int n, long *res,
			const char *what)
{
	int before = 0, after;

	for (int i = 0; i < n; i++)
		before += res[i] != T_NO_RES;
	after = t_reap_some(a, p, n, res, n, t_now_ms() + 150);
	F_CHECK(after == before,
		"%s: %d event(s) while the file system holds the request", what,
		after - before);
	for (int i = 0; i < n && after != before; i++)
		fprintf(stderr, "  request %d: res %ld\n", i, res[i]);
}

/*
 * Let the held read p (of [0, 16 KiB), submitted by s) go: exactly its
 * event comes (in *res), whole, with the data.
 */
static void release_read(struct t_fuse *f, struct t_aio *a, struct iocb **p,
			 long *res, struct submitter *s,
			 const unsigned char *buf, const char *what)
{
	t_fuse_cmd(f, "release");
	if (t_reap_some(a, p, 1, res, 1, t_now_ms() + 5000) != 1)
		T_FAIL("%s: no completion within 5 s of the release", what);
	submit_join(s, what);
	t_expect_quiet(a, 20);
	F_CHECK(*res == K16, "%s: res %ld, expected %d", what, *res, K16);
	if (*res > 0)
		check_data(what, buf, 0, *res);
}

/*
 * One read of [0, 16 KiB) of file, held, then released: nothing comes
 * before, exactly its event after, with the data; the context serves
 * other requests meanwhile.
 */
static void held_read(struct t_fuse *f, struct t_aio *a, const char *file,
		      int oflags, const char *what)
{
	unsigned char *buf = t_aligned(4096, K16);
	struct iocb cb, *p = &cb;
	struct submitter s;
	long res = T_NO_RES;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read hold 0 65536");
	int fd = t_fuse_open(f, file, O_RDONLY | oflags);
	memset(buf, 0xee, K16);
	io_prep_pread(&cb, fd, buf, K16, 0);
	cb.data = &cb;
	submit_async(&s, a, &p, 1);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: the read never reached the file system", what);
	expect_held(a, &p, 1, &res, what);
	t_context_works(a);
	release_read(f, a, &p, &res, &s, buf, what);
	printf("%-44s done\n", what);
	close(fd);
	free(buf);
}

static void held_write(struct t_fuse *f, struct t_aio *a, const char *file,
		       int oflags, const char *what)
{
	unsigned char *buf = t_aligned(4096, K16);
	struct iocb cb, *p = &cb;
	struct submitter s;
	long res = T_NO_RES;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "write hold 0 65536");
	int fd = t_fuse_open(f, file, O_WRONLY | oflags);
	for (int i = 0; i < K16; i++)
		buf[i] = t_wpattern((uint64_t)i);
	io_prep_pwrite(&cb, fd, buf, K16, 0);
	cb.data = &cb;
	submit_async(&s, a, &p, 1);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: the write never reached the file system", what);
	expect_held(a, &p, 1, &res, what);
	t_fuse_cmd(f, "release");
	if (t_reap_some(a, &p, 1, &res, 1, t_now_ms() + 5000) != 1)
		T_FAIL("%s: no completion within 5 s of the release", what);
	submit_join(&s, what);
	t_expect_quiet(a, 20);
	F_CHECK(res == K16, "%s: res %ld, expected %d", what, res, K16);
	printf("%-44s done\n", what);
	close(fd);
	free(buf);
}

#define NMIX 8

/* Three held among eight: the five others complete, then the three. */
static void held_some(struct t_fuse *f, struct t_aio *a)
{
	const char *what = "O_DIRECT: 3 of 8 reads held";
	unsigned char *buf[NMIX];
	struct iocb cbs[NMIX], *p[NMIX];
	long res[NMIX];
	struct submitter s;
	int fd, held = 0;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read hold 0 12288");
	fd = t_fuse_open(f, "direct", O_RDONLY | O_DIRECT);
	for (int i = 0; i < NMIX; i++) {
		/* 0, 4 and 8 KiB are held; the others lie past 64 KiB. */
		long long off = i < 3 ? i * K4 : 65536 + i * K4;

		buf[i] = t_aligned(4096, K4);
		io_prep_pread(&cbs[i], fd, buf[i], K4, off);
		cbs[i].data = (void *)(uintptr_t)(i + 1);
		p[i] = &cbs[i];
		res[i] = T_NO_RES;
	}
	submit_async(&s, a, p, NMIX);
	if (!t_fuse_wait_held(f, 3, 5000))
		T_FAIL("%s: only %d reads reached the file system", what,
		       t_fuse_held(f));
	if (t_reap_some(a, p, NMIX, res, NMIX - 3, t_now_ms() + 5000) <
	    NMIX - 3)
		T_FAIL("%s: the reads not held did not complete", what);
	for (int i = 0; i < 3; i++)
		held += res[i] == T_NO_RES;
	F_CHECK(held == 3, "%s: a held read completed before its release",
		what);
	expect_held(a, p, NMIX, res, what);
	t_fuse_cmd(f, "release");
	if (t_reap_some(a, p, NMIX, res, NMIX, t_now_ms() + 5000) < NMIX)
		T_FAIL("%s: held reads did not complete after the release",
		       what);
	submit_join(&s, what);
	t_expect_quiet(a, 20);
	for (int i = 0; i < NMIX; i++) {
		F_CHECK(res[i] == K4, "%s: read %d: res %ld", what, i, res[i]);
		check_data(what, buf[i], cbs[i].u.c.offset, K4);
		free(buf[i]);
	}
	printf("%-44s done\n", what);
	close(fd);
}

/*
 * io_cancel of a request that the file system holds.  The kernel cancels
 * only polls: -EINVAL, and the read completes when released.  uaio(7)
 * lets the emulated engines cancel more (-EINPROGRESS, then the event
 * with -ECANCELED at once); either way, what io_cancel says must be what
 * happens.
 */
static void held_cancel(struct t_fuse *f, struct t_aio *a, const char *file,
			int oflags, const char *what)
{
	bool emulated = !a->raw && t_is_uaio() && strcmp(t_engine(), "kernel");
	unsigned char *buf = t_aligned(4096, K16);
	struct iocb cb, *p = &cb;
	struct io_event scratch;
	struct submitter s;
	long res = T_NO_RES;
	int ret;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read hold 0 65536");
	int fd = t_fuse_open(f, file, O_RDONLY | oflags);
	io_prep_pread(&cb, fd, buf, K16, 0);
	cb.data = &cb;
	submit_async(&s, a, &p, 1);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: the read never reached the file system", what);
	ret = t_aio_cancel(a, &cb, &scratch);
	if (ret == -EINPROGRESS && emulated) {
		if (t_reap_some(a, &p, 1, &res, 1, t_now_ms() + 5000) != 1)
			T_FAIL("%s: cancelled, but no event within 5 s", what);
		F_CHECK(res == -ECANCELED,
			"%s: io_cancel = -EINPROGRESS, then res %ld", what,
			res);
		t_fuse_cmd(f, "release");
	} else {
		F_CHECK(ret == -EINVAL, "%s: io_cancel = %d, expected -EINVAL",
			what, ret);
		expect_held(a, &p, 1, &res, what);
		t_fuse_cmd(f, "release");
		if (t_reap_some(a, &p, 1, &res, 1, t_now_ms() + 5000) != 1)
			T_FAIL("%s: no completion within 5 s of the release",
			       what);
		F_CHECK(res == K16,
			"%s: io_cancel = %d (not cancelled), then res %ld, "
			"expected %d",
			what, ret, res, K16);
		if (res > 0)
			check_data(what, buf, 0, res);
	}
	submit_join(&s, what);
	t_expect_quiet(a, 20);
	printf("%-44s done (io_cancel %d, res %ld)\n", what, ret, res);
	close(fd);
	free(buf);
}

struct waiter {
	struct t_aio *a;
	/* Submitted by the waiting thread first, on own_ctx, or NULL. */
	struct iocb *own;
	struct t_aio *own_ctx;
	long wait_ms; /* 5000 if 0 */
	struct io_event ev;
	double ms;
	int ret;
	pthread_t t;
};

static void *wait_main(void *arg)
{
	struct waiter *w = arg;
	long ms = w->wait_ms ? w->wait_ms : 5000;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	double t0 = t_now_ms();

	if (w->own && t_aio_submit(w->own_ctx, 1, &w->own) != 1) {
		w->ret = -EIO;
		return NULL;
	}
	w->ret = t_aio_getevents(w->a, 1, 1, &w->ev, &ts);
	w->ms = t_now_ms() - t0;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * The waiting thread's own poll, on another context: io_uring completes it
 * through a task_work of that thread, which interrupts a sleep as a signal
 * would (epoll_wait returns EINTR, ppoll is restarted).  No signal was sent
 * and nothing completes on a: the wait must run to its timeout.  The pipe
 * pfd holds one byte.
 */
static void own_poll_elsewhere(struct t_aio *a, const int *pfd,
			       const char *what)
{
	struct iocb poll_cb;
	struct waiter w = {.a = a, .own = &poll_cb, .wait_ms = 300};
	struct t_aio other;
	struct io_event oev;

	T_EQ(t_aio_setup(&other, a->raw, 4), 0);
	w.own_ctx = &other;
	for (int i = 0; i < 5; i++) {
		char c;

		T_EQ(read(pfd[0], &c, 1), 1);
		io_prep_poll(&poll_cb, pfd[0], POLLIN);
		poll_cb.data = &poll_cb;
		T_EQ(pthread_create(&w.t, NULL, wait_main, &w), 0);
		t_sleep_ms(50);
		T_EQ(write(pfd[1], "x", 1), 1);
		T_EQ(pthread_join(w.t, NULL), 0);
		F_CHECK(w.ret == 0,
			"%s: the waiter's poll on another context (%d): "
			"io_getevents = %d after %.0f ms, expected 0",
			what, i, w.ret, w.ms);
		T_EQ(t_aio_getevents(&other, 1, 1, &oev, NULL), 1);
		T_EQ(oev.obj == &poll_cb, 1);
	}
	T_EQ(t_aio_destroy(&other), 0);
}

static int cmp_ms(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/*
 * A thread asleep while nothing but the held read is in flight (on auto,
 * in the kernel AIO context's own wait, io_pgetevents) wakes for a request
 * that another thread submits meanwhile and that completes at once: a poll
 * of a pipe written right after.  Left asleep, it would see the poll's
 * event only at its next look, up to 100 ms later: the median of seven
 * wake-ups must be well under that.  The pipe pfd holds one byte.
 */
static void wakes_for_new(struct t_aio *a, const int *pfd, const char *what)
{
	struct iocb poll_cb, *pp = &poll_cb;
	double lat[7];
	char c;

	T_EQ(read(pfd[0], &c, 1), 1);
	for (int i = 0; i < 7; i++) {
		struct waiter w = {.a = a};
		double t0;

		T_EQ(pthread_create(&w.t, NULL, wait_main, &w), 0);
		t_sleep_ms(30); /* asleep by now */
		io_prep_poll(&poll_cb, pfd[0], POLLIN);
		poll_cb.data = &poll_cb;
		T_EQ(t_aio_submit(a, 1, &pp), 1);
		t0 = t_now_ms();
		T_EQ(write(pfd[1], "x", 1), 1);
		T_EQ(pthread_join(w.t, NULL), 0);
		lat[i] = t_now_ms() - t0;
		F_CHECK(w.ret == 1 && w.ev.obj == &poll_cb,
			"%s: a poll submitted while another thread waits: "
			"io_getevents = %d (obj %p), expected its event",
			what, w.ret, (void *)w.ev.obj);
		T_EQ(read(pfd[0], &c, 1), 1);
	}
	qsort(lat, 7, sizeof(lat[0]), cmp_ms);
	F_CHECK(lat[3] < 40,
		"%s: a waiter woke %.0f ms (median of 7) after the poll it "
		"waited for completed",
		what, lat[3]);
	T_EQ(write(pfd[1], "x", 1), 1);
}

static void on_usr2_slow(int sig)
{
	struct timespec d = {3, 0};

	(void)sig;
	nanosleep(&d, NULL);
}

/*
 * A waiter's signal handler runs for 3 s, while another thread reads
 * from the same context a block that the file system does not hold: that
 * read's event must not wait for the handler.  (On auto, the interrupted
 * thread slept in io_pgetevents on the kernel context, and held the
 * kernel's ring until it came back; others reap through the kernel once
 * such a sleep is far past its time.)
 */
static void slow_handler(struct t_aio *a, int fd, const char *what)
{
	unsigned char *buf = t_aligned(4096, K16);
	struct sigaction sa = {.sa_handler = on_usr2_slow}, old;
	struct iocb cb, *p = &cb;
	struct io_event ev;
	struct timespec ts = {10, 0};
	struct waiter w = {.a = a, .wait_ms = 8000};
	double t0, took;
	int r;

	T_EQ(sigaction(SIGUSR2, &sa, &old), 0);
	T_EQ(pthread_create(&w.t, NULL, wait_main, &w), 0);
	/* Asleep, and between the uring engine's looks, 100 ms apart (a
	 * handler run between two waits ends no wait: uaio(7)). */
	t_sleep_ms(150);
	T_EQ(pthread_kill(w.t, SIGUSR2), 0);
	t_sleep_ms(100); /* in the handler */
	io_prep_pread(&cb, fd, buf, K16, 131072);
	cb.data = &cb;
	t0 = t_now_ms();
	T_EQ(t_aio_submit(a, 1, &p), 1);
	r = t_aio_getevents(a, 1, 1, &ev, &ts);
	took = t_now_ms() - t0;
	F_CHECK(r == 1 && ev.obj == &cb && (long)ev.res == K16,
		"%s: a read beside a slow handler: io_getevents = %d (obj %p, "
		"res %ld)",
		what, r, (void *)ev.obj, (long)ev.res);
	F_CHECK(took < 2500,
		"%s: a read took %.0f ms while another thread's signal "
		"handler ran",
		what, took);
	check_data(what, buf, 131072, K16);
	T_EQ(pthread_join(w.t, NULL), 0);
	F_CHECK(w.ret == -EINTR, "%s: the interrupted wait: io_getevents = %d",
		what, w.ret);
	T_EQ(sigaction(SIGUSR2, &old, NULL), 0);
	free(buf);
}

/*
 * While an O_DIRECT read is held (on auto, in flight on kernel AIO), a
 * thread waiting in io_getevents still wakes for the context's other
 * completions (a poll of a pipe written to, submitted before it waits or
 * while it does) and for a signal (-EINTR), and for nothing else.
 */
static void held_wakes(struct t_fuse *f, struct t_aio *a)
{
	const char *what = "O_DIRECT held: a waiter still wakes";
	unsigned char *buf = t_aligned(4096, K16);
	struct sigaction sa = {.sa_handler = on_usr1}, old;
	struct iocb cb, poll_cb, *p = &cb, *pp = &poll_cb;
	struct submitter s;
	struct waiter w = {.a = a};
	long res = T_NO_RES;
	int pfd[2], fd;

	T_EQ(pipe(pfd), 0);
	T_EQ(sigaction(SIGUSR1, &sa, &old), 0); /* no SA_RESTART */
	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read hold 0 65536");
	fd = t_fuse_open(f, "direct", O_RDONLY | O_DIRECT);
	io_prep_pread(&cb, fd, buf, K16, 0);
	cb.data = &cb;
	submit_async(&s, a, &p, 1);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: the read never reached the file system", what);

	io_prep_poll(&poll_cb, pfd[0], POLLIN);
	poll_cb.data = &poll_cb;
	T_EQ(t_aio_submit(a, 1, &pp), 1);
	T_EQ(pthread_create(&w.t, NULL, wait_main, &w), 0);
	t_sleep_ms(100); /* asleep by now, or about to be */
	T_EQ(write(pfd[1], "x", 1), 1);
	T_EQ(pthread_join(w.t, NULL), 0);
	F_CHECK(w.ret == 1 && w.ev.obj == &poll_cb,
		"%s: io_getevents = %d (obj %p), expected the poll's event",
		what, w.ret, (void *)w.ev.obj);

	T_EQ(pthread_create(&w.t, NULL, wait_main, &w), 0);
	/* Between the uring engine's wake-up checks, 100 ms apart: a
	 * handler run between two waits ends no wait (uaio(7)). */
	t_sleep_ms(150);
	T_EQ(pthread_kill(w.t, SIGUSR1), 0);
	T_EQ(pthread_join(w.t, NULL), 0);
	F_CHECK(w.ret == -EINTR && w.ms < 4000,
		"%s: a signal: io_getevents = %d after %.0f ms, expected "
		"-EINTR",
		what, w.ret, w.ms);

	own_poll_elsewhere(a, pfd, what);
	wakes_for_new(a, pfd, what);
	slow_handler(a, fd, what);

	release_read(f, a, &p, &res, &s, buf, what);
	T_EQ(sigaction(SIGUSR1, &old, NULL), 0);
	printf("%-44s done\n", what);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	free(buf);
}

struct releaser {
	struct t_fuse *f;
	long ms;
};

static void *release_main(void *arg)
{
	struct releaser *r = arg;

	t_sleep_ms(r->ms);
	t_fuse_cmd(r->f, "release");
	return NULL;
}

/* io_destroy of a context whose read is held returns once it is done. */
static void held_destroy(struct t_fuse *f, bool raw, const char *file,
			 int oflags, const char *what)
{
	unsigned char *buf = t_aligned(4096, K16);
	struct iocb cb, *p = &cb;
	struct releaser rel = {f, 300};
	struct submitter s;
	struct t_aio a;
	pthread_t rt;
	double t0, took;
	int ret;

	T_EQ(t_aio_setup(&a, raw, 8), 0);
	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read hold 0 65536");
	int fd = t_fuse_open(f, file, O_RDONLY | oflags);
	memset(buf, 0xee, K16);
	io_prep_pread(&cb, fd, buf, K16, 0);
	submit_async(&s, &a, &p, 1);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: the read never reached the file system", what);
	T_EQ(pthread_create(&rt, NULL, release_main, &rel), 0);
	t0 = t_now_ms();
	ret = t_aio_destroy(&a);
	took = t_now_ms() - t0;
	F_CHECK(ret == 0, "%s: io_destroy = %d", what, ret);
	F_CHECK(took >= 250,
		"%s: io_destroy returned after %.0f ms, before the release",
		what, took);
	check_data(what, buf, 0, K16);
	T_EQ(pthread_join(rt, NULL), 0);
	submit_join(&s, what);
	printf("%-44s done (%.0f ms)\n", what, took);
	close(fd);
	free(buf);
}

struct leaver {
	struct submitter s;
	int go[2]; /* the thread ends when this is readable */
};

static void *leave_main(void *arg)
{
	struct leaver *l = arg;
	char c;

	submit_main(&l->s);
	if (read(l->go[0], &c, 1) != 1)
		perror("fault-fuse-hold: read");
	return NULL;
}

/* A thread that submits cbs, then lives until leave_go(). */
static void leave_start(struct leaver *l, struct t_aio *a, struct iocb **cbs,
			int n)
{
	l->s = (struct submitter){.a = a, .cbs = cbs, .n = n, .ret = -1000};
	T_EQ(pipe(l->go), 0);
	T_EQ(pthread_create(&l->s.t, NULL, leave_main, l), 0);
}

static void leave_go(struct leaver *l)
{
	T_EQ(write(l->go[1], "x", 1), 1);
}

static void leave_join(struct leaver *l)
{
	T_EQ(pthread_join(l->s.t, NULL), 0);
	close(l->go[0]);
	close(l->go[1]);
}

struct destroyer {
	struct t_aio *a;
	int ret;
	double ms;
	pthread_t t;
};

static void *destroy_main(void *arg)
{
	struct destroyer *d = arg;
	double t0 = t_now_ms();

	d->ret = t_aio_destroy(d->a);
	d->ms = t_now_ms() - t0;
	return NULL;
}

/* io_destroy of a from a thread of its own. */
static void destroy_async(struct destroyer *d, struct t_aio *a)
{
	*d = (struct destroyer){.a = a};
	T_EQ(pthread_create(&d->t, NULL, destroy_main, d), 0);
}

/* A child that ends by exit(): it leaves the parent's mounts alone, and
 * prints nothing the parent had buffered. */
static pid_t fork_child(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		t_nmounts = 0;
	return pid;
}

#define NLEAVE 24 /* more than io_uring's workers for a thread here */

/*
 * A thread submits n reads of file, all held, and ends; then the file
 * system lets them go.  Every read io_submit took completes whole, with
 * its data: while the context lives (its events), and while io_destroy
 * waits for them (the buffers, once io_destroy returns).  On the uring
 * engine the thread's end waits for its file reads (here until the
 * release), where io_uring would fail them once the thread is gone.
 */
static void leave_held(struct t_fuse *f, int fd, int n, bool destroy,
		       const char *what)
{
	unsigned char *buf[NLEAVE];
	struct iocb cbs[NLEAVE], *p[NLEAVE];
	long res[NLEAVE];
	struct leaver l;
	struct destroyer d;
	struct t_aio a;

	T_EQ(t_aio_setup(&a, false, 2 * NLEAVE), 0);
	for (int i = 0; i < n; i++) {
		buf[i] = t_aligned(4096, K4);
		memset(buf[i], 0xee, K4);
		io_prep_pread(&cbs[i], fd, buf[i], K4, (long long)i * 2 * K4);
		cbs[i].data = &cbs[i];
		p[i] = &cbs[i];
		res[i] = T_NO_RES;
	}
	leave_start(&l, &a, p, n);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: no read reached the file system", what);
	t_sleep_ms(100); /* the others reach it, or io_uring's queue */
	if (destroy) {
		destroy_async(&d, &a);
		t_sleep_ms(100); /* io_destroy waits for the reads */
	}
	leave_go(&l);
	t_sleep_ms(100); /* the thread is ending */
	t_fuse_cmd(f, "release");
	if (destroy)
		T_EQ(pthread_join(d.t, NULL), 0);
	leave_join(&l);
	F_CHECK(l.s.ret > 0 && l.s.ret <= n, "%s: io_submit = %d", what,
		l.s.ret);
	if (destroy) {
		F_CHECK(d.ret == 0 && d.ms >= 150,
			"%s: io_destroy = %d after %.0f ms, expected 0 after "
			"the release",
			what, d.ret, d.ms);
	} else {
		int got = t_reap_some(&a, p, l.s.ret, res, l.s.ret,
				      t_now_ms() + 5000);

		F_CHECK(got == l.s.ret, "%s: %d of %d events", what, got,
			l.s.ret);
		for (int i = 0; i < l.s.ret; i++)
			F_CHECK(res[i] == K4,
				"%s: read %d: res %ld, expected %d", what, i,
				res[i], K4);
		T_EQ(t_aio_destroy(&a), 0);
	}
	for (int i = 0; i < l.s.ret; i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s: read %d", what, i);
		check_data(name, buf[i], (long long)i * 2 * K4, K4);
	}
	printf("%-44s done (io_submit %d%s)\n", what, l.s.ret,
	       destroy ? ", then io_destroy" : "");
	for (int i = 0; i < n; i++)
		free(buf[i]);
}

/* file of faultfs, opened with its reads held from now on. */
static int open_held(struct t_fuse *f, const char *file)
{
	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read hold 0 1048576");
	return t_fuse_open(f, file, O_RDONLY);
}

/*
 * leave_held() on a block device (a loop device over faultfs's data
 * file), read through its page cache: io_uring does not give such a read
 * to a worker but parks it until readahead fills the page, then goes on
 * as a task_work of the thread that submitted it, which fails it with
 * EFAULT, unrun, once that thread has ended.
 */
static void leave_parked(struct t_fuse *f, bool destroy, const char *what)
{
	int data = open_held(f, "data"), loop, dev;
	char path[64];

	loop = t_loop_attach(data, path, sizeof(path));
	dev = open(path, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		T_FAIL("open(%s): %s", path, strerror(errno));
	/* Nothing cached of what a probe of the new device read: not the
	 * device's pages, nor the file's (an open of it drops them). */
	T_EQ(ioctl(dev, BLKFLSBUF, 0), 0);
	close(t_fuse_open(f, "data", O_RDONLY));
	leave_held(f, dev, 1, destroy, what);
	close(dev);
	close(loop);
	close(data);
}

/*
 * Two O_DIRECT writes, the first held; the program closes the descriptor,
 * then destroys the context: both land (the kernel holds the file of
 * each request, whatever becomes of the descriptor), and io_destroy
 * cancels neither.  The submitting thread lives on.
 */
static void closed_then_destroy(struct t_fuse *f)
{
	const char *what = "O_DIRECT: fd closed, io_destroy waits";
	unsigned char *buf[2] = {t_aligned(4096, K4), t_aligned(4096, K4)};
	const long long off[2] = {0, 65536};
	struct iocb cbs[2], *p[2] = {&cbs[0], &cbs[1]};
	unsigned char *back = t_aligned(4096, K4);
	struct releaser rel = {f, 300};
	struct leaver l;
	struct t_aio a;
	pthread_t rt;
	double t0, took;
	int fd, ret;

	T_EQ(t_aio_setup(&a, false, 8), 0);
	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "write hold 0 4096");
	fd = t_fuse_open(f, "direct", O_RDWR | O_DIRECT);
	for (int i = 0; i < 2; i++) {
		memset(buf[i], 0x5a + i, K4);
		io_prep_pwrite(&cbs[i], fd, buf[i], K4, off[i]);
	}
	leave_start(&l, &a, p, 2);
	if (!t_fuse_wait_held(f, 1, 5000))
		T_FAIL("%s: the write never reached the file system", what);
	while (__atomic_load_n(&l.s.ret, __ATOMIC_ACQUIRE) == -1000)
		t_sleep_ms(1); /* io_submit returned (kernel AIO: at once) */
	F_CHECK(l.s.ret == 2, "%s: io_submit = %d", what, l.s.ret);
	close(fd);
	T_EQ(pthread_create(&rt, NULL, release_main, &rel), 0);
	t0 = t_now_ms();
	ret = t_aio_destroy(&a);
	took = t_now_ms() - t0;
	T_EQ(pthread_join(rt, NULL), 0);
	leave_go(&l);
	leave_join(&l);
	F_CHECK(ret == 0 && took >= 250,
		"%s: io_destroy = %d after %.0f ms, expected 0 after the "
		"release",
		what, ret, took);
	fd = t_fuse_open(f, "direct", O_RDONLY | O_DIRECT);
	for (int i = 0; i < 2; i++) {
		T_EQ(pread(fd, back, K4, off[i]), K4);
		F_CHECK(!memcmp(back, buf[i], K4),
			"%s: write %d is not in the file", what, i);
	}
	printf("%-44s done (%.0f ms)\n", what, took);
	close(fd);
	free(back);
	free(buf[0]);
	free(buf[1]);
}

/* What a child that ends by exit() writes: not the heap's, which
 * LeakSanitizer would count as lost at that exit. */
static unsigned char child_buf[K4] __attribute__((aligned(4096)));

/*
 * A process ends (exit) while one of its threads destroys a context whose
 * O_DIRECT write is held: the end waits for that io_destroy, as the
 * kernel's exit_aio() waits for every request, and the write lands.
 */
static void exit_while_destroying(struct t_fuse *f)
{
	const char *what = "O_DIRECT: exit while io_destroy waits";
	unsigned char *buf = child_buf, *back;
	struct iocb cb, *p = &cb;
	int status, fd;
	bool early;
	pid_t pid;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "write hold 0 4096");
	memset(buf, 0x6c, K4);
	pid = fork_child();
	if (pid == 0) {
		struct leaver l;
		struct destroyer d;
		struct t_aio a;

		fd = t_fuse_open(f, "direct", O_RDWR | O_DIRECT);
		io_prep_pwrite(&cb, fd, buf, K4, 0);
		T_EQ(t_aio_setup(&a, false, 8), 0);
		leave_start(&l, &a, &p, 1);
		if (!t_fuse_wait_held(f, 1, 5000))
			_exit(5);
		destroy_async(&d, &a);
		t_sleep_ms(100); /* io_destroy waits for the write */
		exit(0);
	}
	t_sleep_ms(400);
	early = t_wait_pid(pid, 0, &status);
	t_fuse_cmd(f, "release");
	if (!early && !t_wait_pid(pid, 5000, &status)) {
		kill(pid, SIGKILL);
		t_wait_pid(pid, 2000, &status);
		T_FAIL("%s: the process did not end after the release", what);
	}
	F_CHECK(!early,
		"%s: the process ended before the write did (status "
		"%#x)",
		what, status);
	F_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"%s: the process ended with status %#x", what, status);
	back = t_aligned(4096, K4);
	fd = t_fuse_open(f, "direct", O_RDONLY | O_DIRECT);
	T_EQ(pread(fd, back, K4, 0), K4);
	F_CHECK(!memcmp(back, buf, K4), "%s: the write is not in the file",
		what);
	printf("%-44s done\n", what);
	close(fd);
	free(back);
}

static void exit_now(int sig)
{
	(void)sig;
	exit(0);
}

/*
 * A signal handler calls exit while its thread is inside io_submit on a
 * context (a buffered write held: the kernel runs it inside io_submit)
 * that another thread is destroying: the process ends once the write is
 * released.  The interrupted call never returns, so its hold on the
 * context must not keep that io_destroy, or the exit, waiting for ever.
 * exit() is not async-signal-safe, but programs do call it there.
 */
static void exit_from_handler(struct t_fuse *f)
{
	const char *what = "buffered: exit in a handler, io_destroy";
	int status;
	bool done;
	pid_t pid;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "write hold 0 4096");
	pid = fork_child();
	if (pid == 0) {
		unsigned char *buf = child_buf;
		struct iocb cb, *p = &cb;
		struct sigaction sa = {.sa_handler = exit_now};
		struct submitter s;
		struct destroyer d;
		struct t_aio a;
		int fd;

		memset(buf, 0x33, K4);
		fd = t_fuse_open(f, "data", O_RDWR);
		io_prep_pwrite(&cb, fd, buf, K4, 0);
		T_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
		T_EQ(t_aio_setup(&a, false, 8), 0);
		submit_async(&s, &a, &p, 1);
		if (!t_fuse_wait_held(f, 1, 5000))
			_exit(5);
		destroy_async(&d, &a);
		t_sleep_ms(100); /* io_destroy waits for io_submit */
		pthread_kill(s.t, SIGUSR1);
		for (;;)
			pause(); /* the handler's exit ends the process */
	}
	t_sleep_ms(300);
	t_fuse_cmd(f, "release");
	done = t_wait_pid(pid, 10000, &status);
	if (!done) {
		kill(pid, SIGKILL);
		t_wait_pid(pid, 2000, &status);
	}
	F_CHECK(done && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"%s: %s (status %#x)", what,
		done ? "the process ended otherwise" : "the process hangs",
		status);
	printf("%-44s done\n", what);
}

#define NDEAD 4

/*
 * Requests held when the file system dies: a buffered read, a direct_io
 * read, an O_DIRECT read and an O_DIRECT write, each submitted on its own
 * (kernel AIO blocks on the buffered one), then the server killed.
 */
static void server_dies(bool raw, long *res)
{
	static const struct {
		const char *file;
		int oflags;
		bool write;
	} reqs[NDEAD] = {{"data", 0, false},
			 {"direct", 0, false},
			 {"direct", O_DIRECT, false},
			 {"direct", O_DIRECT, true}};
	unsigned char *buf[NDEAD];
	struct iocb cbs[NDEAD], *p[NDEAD], *one[NDEAD];
	struct submitter s[NDEAD];
	int fds[NDEAD];
	struct t_fuse f;
	struct t_aio a;

	t_fuse_start(&f);
	T_EQ(t_aio_setup(&a, raw, 16), 0);
	t_fuse_cmd(&f, "any hold 0 65536");
	for (int i = 0; i < NDEAD; i++) {
		fds[i] = t_fuse_open(&f, reqs[i].file, O_RDWR | reqs[i].oflags);
		buf[i] = t_aligned(4096, K4);
		memset(buf[i], 0x11, K4);
		if (reqs[i].write)
			io_prep_pwrite(&cbs[i], fds[i], buf[i], K4, 0);
		else
			io_prep_pread(&cbs[i], fds[i], buf[i], K4, 0);
		cbs[i].data = (void *)(uintptr_t)(i + 1);
		p[i] = one[i] = &cbs[i];
		res[i] = T_NO_RES;
		submit_async(&s[i], &a, &one[i], 1);
		if (!t_fuse_wait_held(&f, i + 1, 5000))
			T_FAIL("server dies: request %d never reached the "
			       "file system",
			       i);
	}
	/* The connection ends with the server: every request with it. */
	kill(t_mounts[t_nmounts - 1].server, SIGKILL);
	if (t_reap_some(&a, p, NDEAD, res, NDEAD, t_now_ms() + 5000) < NDEAD)
		T_FAIL("%s: requests held by a dead file system did not "
		       "complete",
		       t_aio_name(&a));
	for (int i = 0; i < NDEAD; i++) {
		submit_join(&s[i], "server dies");
		/*
		 * A request the abort ended gets ECONNABORTED, one made
		 * after it ENOTCONN: the page cache makes either of a
		 * buffered read, as timing has it.  Both say the same.
		 */
		if (res[i] == -ENOTCONN)
			res[i] = -ECONNABORTED;
	}
	t_expect_quiet(&a, 20);
	t_context_works(&a);
	T_EQ(t_aio_destroy(&a), 0);
	for (int i = 0; i < NDEAD; i++) {
		close(fds[i]);
		free(buf[i]);
	}
	t_fuse_stop(&f);
}

int main(void)
{
	long want[NDEAD], got[NDEAD];
	struct t_aio lib;
	struct t_res before;
	struct t_fuse f;

	t_private_mounts();
	t_watchdog(45);
	t_fuse_start(&f);
	before = t_res_baseline();
	T_EQ(t_aio_setup(&lib, false, 64), 0);

	held_read(&f, &lib, "data", 0, "buffered: a held read");
	held_read(&f, &lib, "direct", 0, "direct_io: a held read");
	held_read(&f, &lib, "direct", O_DIRECT, "O_DIRECT: a held read");
	held_write(&f, &lib, "data", 0, "buffered: a held write");
	held_write(&f, &lib, "direct", O_DIRECT, "O_DIRECT: a held write");
	held_some(&f, &lib);
	held_wakes(&f, &lib);
	held_cancel(&f, &lib, "data", 0, "buffered: io_cancel of a held read");
	held_cancel(&f, &lib, "direct", O_DIRECT,
		    "O_DIRECT: io_cancel of a held read");
	t_context_works(&lib);
	T_EQ(t_aio_destroy(&lib), 0);
	t_res_check(before, "after io_destroy");

	held_destroy(&f, false, "data", 0, "buffered: io_destroy waits");
	held_destroy(&f, false, "direct", O_DIRECT,
		     "O_DIRECT: io_destroy waits");
	closed_then_destroy(&f);
	exit_while_destroying(&f);
	exit_from_handler(&f);
	for (int destroy = 0; destroy < 2; destroy++) {
		int fd = open_held(&f, "data");

		leave_held(&f, fd, 1, destroy,
			   destroy ? "buffered: ... and io_destroy waits"
				   : "buffered: a thread ends, a read held");
		close(fd);
		fd = open_held(&f, "direct");
		leave_held(&f, fd, NLEAVE, destroy,
			   destroy ? "direct_io: ... and io_destroy waits"
				   : "direct_io: a thread ends, reads held");
		close(fd);
		leave_parked(&f, destroy,
			     destroy ? "block device: ... and io_destroy waits"
				     : "block device: a thread ends, a read "
				       "held");
	}
	t_res_check(before, "after io_destroy of held requests");
	t_fuse_stop(&f);

	/* The kernel's errors first, on a file system of their own. */
	server_dies(true, want);
	before = t_res_baseline();
	server_dies(false, got);
	t_res_check(before, "after the file system died");
	t_same_res("the file system dies with requests held", got, want, NDEAD);
	return t_finish();
}
