/*
 * loop-libaio.c - the libaio API, through the library the child loaded:
 * every free slot in one io_submit, then io_getevents for at least one.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct aio {
	io_context_t ctx;
	struct iocb *cbs; /* one per slot */
	struct iocb **batch;
	struct io_event *ev;
};

static int aio_init(struct bench_io *io, void *state)
{
	struct aio *a = state;
	unsigned d = io->spec->depth;
	int r;

	a->cbs = calloc(d, sizeof(*a->cbs));
	a->batch = calloc(d, sizeof(*a->batch));
	a->ev = calloc(d, sizeof(*a->ev));
	if (!a->cbs || !a->batch || !a->ev)
		return bench_fail(io->why, ENOMEM, "out of memory");
	r = io->lib->setup((int)d, &a->ctx);
	if (r == -ENOSYS || r == -EPERM || r == -EAGAIN)
		return bench_skip(io->why, -r, "io_setup(%u): %s", d,
				  strerror(-r));
	if (r < 0)
		return bench_fail(io->why, -r, "io_setup(%u): %s", d,
				  strerror(-r));
	return bench_lib_check(io->lib, a->ctx, io->spec->engine, io->why);
}

static int aio_submit(struct bench_io *io, void *state)
{
	struct aio *a = state;
	unsigned n = 0, slot;
	uint64_t t;
	void *buf;
	int r;

	while ((buf = bench_io_take(io, n, &slot))) {
		struct iocb *cb = &a->cbs[slot];

		if (io->wr[slot])
			io_prep_pwrite(cb, io->fd, buf, io->spec->bs,
				       (long long)io->off[slot]);
		else
			io_prep_pread(cb, io->fd, buf, io->spec->bs,
				      (long long)io->off[slot]);
		a->batch[n++] = cb;
	}
	if (!n)
		return 0;
	t = bench_io_stamp(io);
	r = io->lib->submit(a->ctx, n, a->batch);
	if (r < 0 && !(r == -EAGAIN && io->inflight))
		return bench_fail(io->why, -r, "io_submit(%u): %s", n,
				  strerror(-r));
	r = r < 0 ? 0 : r;
	for (int i = 0; i < r; i++)
		bench_io_sent(io, (unsigned)(a->batch[i] - a->cbs), t);
	bench_io_submitted(io, t, (unsigned)r);
	/* What was not taken goes back. */
	while (n > (unsigned)r)
		bench_io_give(io, (unsigned)(a->batch[--n] - a->cbs));
	return 0;
}

static int aio_reap(struct bench_io *io, void *state)
{
	struct aio *a = state;
	int got = io->lib->getevents(a->ctx, 1, io->spec->depth, a->ev, NULL);
	uint64_t now;

	if (got == -EINTR)
		return 0;
	if (got < 0)
		return bench_fail(io->why, -got, "io_getevents: %s",
				  strerror(-got));
	now = bench_io_reaped(io, (unsigned)got);
	for (int i = 0; i < got; i++) {
		int r = bench_io_done(
		    io, (unsigned)((struct iocb *)a->ev[i].obj - a->cbs),
		    (long)a->ev[i].res, now);

		if (r)
			return r;
	}
	bench_io_tick(io, now);
	return 0;
}

static int aio_fini(struct bench_io *io, void *state, int r)
{
	struct aio *a = state;
	int d = a->ctx ? io->lib->destroy(a->ctx) : 0;

	if (d < 0 && !r)
		r = bench_fail(io->why, -d, "io_destroy: %s", strerror(-d));
	free(a->cbs);
	free(a->batch);
	free(a->ev);
	return r;
}

const struct bench_loop bench_loop_libaio = {
    sizeof(struct aio), aio_init, aio_submit, aio_reap, aio_fini,
};
