/*
 * loops.c - the timed loops, one per API.
 *
 * Every loop keeps `depth` random block-aligned reads in flight: it submits
 * every free slot in one call, waits for at least one completion, takes all
 * that are there (up to depth) and refills.  On a cached file the kernel's AIO
 * completes buffered reads inside io_submit, so that is batches of depth.
 * Each completion is checked for a full block: a method that fails reads must
 * not look fast.
 */
#include "bench.h"

#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef BENCH_HAVE_URING
#include <liburing.h>
#endif

void *bench_buffers(unsigned n)
{
	void *p;

	if (posix_memalign(&p, BENCH_BS, (size_t)n * BENCH_BS))
		return NULL;
	/* Fault the pages in now rather than inside the timed loop. */
	memset(p, 0, (size_t)n * BENCH_BS);
	return p;
}

static bool loop_more(const struct bench_loop *l, uint64_t submitted)
{
	return l->deadline_ns ? true : submitted < l->ops;
}

/* Past the deadline, or every read done: close the timed window. */
static bool loop_over(struct bench_loop *l, uint64_t t0)
{
	uint64_t now;

	if (!l->deadline_ns) {
		if (l->done < l->ops)
			return false;
		now = bench_now_ns();
	} else {
		now = bench_now_ns();
		if (now < l->deadline_ns)
			return false;
	}
	l->elapsed_ns = now - t0;
	return true;
}

static bool res_ok(long res)
{
	if (res == BENCH_BS)
		return true;
	if (res < 0)
		bench_err("read failed: %s", strerror((int)-res));
	else
		bench_err("short read: %ld of %d bytes", res, BENCH_BS);
	return false;
}

/* The engine a uaio context runs on, through dlsym: the system libaio has no
 * uaio_engine. */
static int ctx_engine(io_context_t ctx, char *name, size_t len)
{
	int (*fn)(io_context_t, char *, size_t);

	*(void **)&fn = dlsym(RTLD_DEFAULT, "uaio_engine");
	if (!fn)
		return -ENOSYS;
	return fn(ctx, name, len);
}

int bench_loop_libaio(struct bench_loop *l, const char *engine, char *why,
		      size_t len)
{
	struct iocb *cbs, **freel, **batch;
	struct io_event *ev;
	io_context_t ctx = 0;
	unsigned nfree, inflight = 0, i;
	uint64_t submitted = 0, seed = l->seed, t0;
	char *bufs;
	int ret = -1, r;

	(void)why;
	(void)len;
	cbs = calloc(l->depth, sizeof(*cbs));
	freel = calloc(l->depth, sizeof(*freel));
	batch = calloc(l->depth, sizeof(*batch));
	ev = calloc(l->depth, sizeof(*ev));
	bufs = bench_buffers(l->depth);
	if (!cbs || !freel || !batch || !ev || !bufs) {
		bench_err("out of memory");
		goto out;
	}
	r = io_setup((int)l->depth, &ctx);
	if (r < 0) {
		bench_err("io_setup(%u): %s", l->depth, strerror(-r));
		goto out;
	}
	if (engine) {
		char name[32] = "";

		r = ctx_engine(ctx, name, sizeof(name));
		if (r < 0 || strcmp(name, engine)) {
			bench_err("asked for uaio engine \"%s\", the context "
				  "runs on \"%s\" (%s)",
				  engine, r < 0 ? "?" : name,
				  r < 0 ? strerror(-r) : "wrong engine");
			goto out_destroy;
		}
	}
	for (i = 0; i < l->depth; i++)
		freel[i] = &cbs[l->depth - 1 - i];
	nfree = l->depth;

	t0 = bench_now_ns();
	for (;;) {
		unsigned n = 0;

		while (nfree && loop_more(l, submitted + n)) {
			struct iocb *cb = freel[--nfree];

			io_prep_pread(cb, l->fd, bufs + (cb - cbs) * BENCH_BS,
				      BENCH_BS,
				      bench_offset(&seed, l->nblocks));
			batch[n++] = cb;
		}
		if (n) {
			r = io_submit(ctx, n, batch);
			if (r < 0 && !(r == -EAGAIN && inflight)) {
				bench_err("io_submit(%u): %s", n, strerror(-r));
				goto out_destroy;
			}
			if (r < 0)
				r = 0;
			/* Partial submission: the rest go back to the free
			 * list. */
			while (n > (unsigned)r)
				freel[nfree++] = batch[--n];
			submitted += n;
			inflight += n;
		}
		r = io_getevents(ctx, 1, l->depth, ev, NULL);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			bench_err("io_getevents: %s", strerror(-r));
			goto out_destroy;
		}
		for (i = 0; i < (unsigned)r; i++) {
			if (!res_ok((long)ev[i].res))
				goto out_destroy;
			freel[nfree++] = ev[i].obj;
		}
		inflight -= r;
		l->done += r;
		if (loop_over(l, t0))
			break;
	}
	/* Outside the window: drain what a deadline left in flight. */
	while (inflight) {
		r = io_getevents(ctx, inflight, l->depth, ev, NULL);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			bench_err("io_getevents: %s", strerror(-r));
			goto out_destroy;
		}
		inflight -= r;
	}
	ret = 0;
out_destroy:
	r = io_destroy(ctx);
	if (r < 0) {
		bench_err("io_destroy: %s", strerror(-r));
		ret = -1;
	}
out:
	free(cbs);
	free(freel);
	free(batch);
	free(ev);
	free(bufs);
	return ret;
}

#ifdef BENCH_HAVE_URING
int bench_loop_uring(struct bench_loop *l, char *why, size_t len)
{
	struct io_uring_cqe **cqes;
	struct io_uring ring;
	unsigned *freel, nfree, inflight = 0, i;
	uint64_t submitted = 0, seed = l->seed, t0;
	char *bufs;
	int ret = -1, r;

	cqes = calloc(l->depth, sizeof(*cqes));
	freel = calloc(l->depth, sizeof(*freel));
	bufs = bench_buffers(l->depth);
	if (!cqes || !freel || !bufs) {
		bench_err("out of memory");
		goto out;
	}
	r = io_uring_queue_init(l->depth, &ring, 0);
	if (r == -ENOSYS || r == -EPERM || r == -EACCES) {
		snprintf(why, len, "io_uring_queue_init: %s", strerror(-r));
		ret = BENCH_EXIT_UNAVAILABLE;
		goto out;
	}
	if (r < 0) {
		bench_err("io_uring_queue_init(%u): %s", l->depth,
			  strerror(-r));
		goto out;
	}
	for (i = 0; i < l->depth; i++)
		freel[i] = l->depth - 1 - i;
	nfree = l->depth;

	t0 = bench_now_ns();
	for (;;) {
		unsigned n = 0;

		while (nfree && loop_more(l, submitted + n)) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			unsigned slot;

			if (!sqe)
				break;
			slot = freel[--nfree];
			io_uring_prep_read(sqe, l->fd, bufs + slot * BENCH_BS,
					   BENCH_BS,
					   bench_offset(&seed, l->nblocks));
			io_uring_sqe_set_data(sqe, (void *)(uintptr_t)slot);
			n++;
		}
		/* One system call submits the batch and waits for the first
		 * completion. */
		r = n ? io_uring_submit_and_wait(&ring, 1) : 0;
		if (r < 0 && r != -EINTR) {
			bench_err("io_uring_submit_and_wait: %s", strerror(-r));
			goto out_exit;
		}
		submitted += n;
		inflight += n;
		r = io_uring_peek_batch_cqe(&ring, cqes, l->depth);
		if (!r) {
			r = io_uring_wait_cqe(&ring, &cqes[0]);
			if (r == -EINTR)
				continue;
			if (r < 0) {
				bench_err("io_uring_wait_cqe: %s",
					  strerror(-r));
				goto out_exit;
			}
			r = 1;
		}
		for (i = 0; i < (unsigned)r; i++) {
			if (!res_ok(cqes[i]->res))
				goto out_exit;
			freel[nfree++] =
			    (unsigned)(uintptr_t)io_uring_cqe_get_data(cqes[i]);
		}
		io_uring_cq_advance(&ring, r);
		inflight -= r;
		l->done += r;
		if (loop_over(l, t0))
			break;
	}
	while (inflight) {
		struct io_uring_cqe *cqe;

		r = io_uring_wait_cqe(&ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			bench_err("io_uring_wait_cqe: %s", strerror(-r));
			goto out_exit;
		}
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
	}
	ret = 0;
out_exit:
	io_uring_queue_exit(&ring);
out:
	free(cqes);
	free(freel);
	free(bufs);
	return ret;
}
#else
int bench_loop_uring(struct bench_loop *l, char *why, size_t len)
{
	(void)l;
	snprintf(why, len, "built without liburing");
	return BENCH_EXIT_UNAVAILABLE;
}
#endif

int bench_loop_posix(struct bench_loop *l, char *why, size_t len)
{
	const struct aiocb **list;
	struct aiocb *cbs;
	uint64_t submitted = 0, seed = l->seed, t0;
	unsigned inflight = 0, i;
	char *bufs;
	int ret = -1, r;

	(void)why;
	(void)len;
	cbs = calloc(l->depth, sizeof(*cbs));
	list = calloc(l->depth, sizeof(*list));
	bufs = bench_buffers(l->depth);
	if (!cbs || !list || !bufs) {
		bench_err("out of memory");
		goto out;
	}

	t0 = bench_now_ns();
	for (;;) {
		for (i = 0; i < l->depth && loop_more(l, submitted); i++) {
			struct aiocb *cb = &cbs[i];

			if (list[i])
				continue;
			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = l->fd;
			cb->aio_buf = bufs + i * BENCH_BS;
			cb->aio_nbytes = BENCH_BS;
			cb->aio_offset = (off_t)bench_offset(&seed, l->nblocks);
			if (aio_read(cb)) {
				bench_err("aio_read: %s", strerror(errno));
				goto out_drain;
			}
			list[i] = cb;
			submitted++;
			inflight++;
		}
		/* NULL entries of the list are ignored: the free slots. */
		if (aio_suspend(list, (int)l->depth, NULL) && errno != EINTR) {
			bench_err("aio_suspend: %s", strerror(errno));
			goto out_drain;
		}
		for (i = 0; i < l->depth; i++) {
			if (!list[i])
				continue;
			r = aio_error(list[i]);
			if (r == EINPROGRESS)
				continue;
			if (!res_ok(r ? -r : (long)aio_return(&cbs[i])))
				goto out_drain;
			list[i] = NULL;
			inflight--;
			l->done++;
		}
		if (loop_over(l, t0))
			break;
	}
	ret = 0;
out_drain:
	/* The requests must be finished before their buffers are freed. */
	while (inflight) {
		aio_suspend(list, (int)l->depth, NULL);
		for (i = 0; i < l->depth; i++) {
			if (list[i] && aio_error(list[i]) != EINPROGRESS) {
				aio_return(&cbs[i]);
				list[i] = NULL;
				inflight--;
			}
		}
	}
out:
	free(cbs);
	free(list);
	free(bufs);
	return ret;
}

int bench_loop_pread(struct bench_loop *l, char *why, size_t len)
{
	uint64_t seed = l->seed, t0;
	char *buf;

	(void)why;
	(void)len;
	buf = bench_buffers(1);
	if (!buf) {
		bench_err("out of memory");
		return -1;
	}
	t0 = bench_now_ns();
	do {
		ssize_t r = pread(l->fd, buf, BENCH_BS,
				  (off_t)bench_offset(&seed, l->nblocks));

		if (!res_ok(r < 0 ? -errno : (long)r)) {
			free(buf);
			return -1;
		}
		l->done++;
	} while (!loop_over(l, t0));
	free(buf);
	return 0;
}
