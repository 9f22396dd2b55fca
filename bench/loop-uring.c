/*
 * loop-uring.c - liburing as a program would use it plainly (no
 * registered files or buffers): one system call submits the batch and
 * waits for the first completion.  BENCH_URING_CHECKED adds the
 * fcntl(F_GETFL) a libaio io_submit of that batch cannot do without.
 */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#ifdef BENCH_HAVE_URING
#include <liburing.h>

struct ring {
	struct io_uring ring;
	struct io_uring_cqe **cqes;
	bool up;
};

static int ring_init(struct bench_io *io, void *state)
{
	struct ring *g = state;
	int r;

	g->cqes = calloc(io->spec->depth, sizeof(*g->cqes));
	if (!g->cqes)
		return bench_fail(io->why, ENOMEM, "out of memory");
	r = io_uring_queue_init(io->spec->depth, &g->ring, 0);
	if (r == -ENOSYS || r == -EPERM || r == -EACCES)
		return bench_skip(io->why, -r, "io_uring_queue_init: %s",
				  strerror(-r));
	if (r < 0)
		return bench_fail(io->why, -r, "io_uring_queue_init(%u): %s",
				  io->spec->depth, strerror(-r));
	g->up = true;
	return 0;
}

static int ring_submit(struct bench_io *io, void *state)
{
	struct ring *g = state;
	uint64_t t = bench_io_stamp(io);
	unsigned n = 0, slot;
	void *buf;
	int r;

	while ((buf = bench_io_take(io, n, &slot))) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&g->ring);

		if (!sqe) {
			bench_io_give(io, slot);
			break;
		}
		if (io->wr[slot])
			io_uring_prep_write(sqe, io->fd, buf, io->spec->bs,
					    io->off[slot]);
		else
			io_uring_prep_read(sqe, io->fd, buf, io->spec->bs,
					   io->off[slot]);
		io_uring_sqe_set_data(sqe, (void *)(uintptr_t)slot);
		bench_io_sent(io, slot, t);
		n++;
	}
	/* What libaio's io_submit must learn of the descriptor before it
	 * takes the batch: whether it is open, and for what. */
	if (n && io->spec->api == BENCH_URING_CHECKED &&
	    fcntl(io->fd, F_GETFL) < 0)
		return bench_fail(io->why, errno, "fcntl: %s", strerror(errno));
	r = n ? io_uring_submit_and_wait(&g->ring, 1) : 0;
	if (r < 0 && r != -EINTR)
		return bench_fail(io->why, -r, "io_uring_submit_and_wait: %s",
				  strerror(-r));
	return 0;
}

static int ring_reap(struct bench_io *io, void *state)
{
	struct ring *g = state;
	unsigned got =
	    io_uring_peek_batch_cqe(&g->ring, g->cqes, io->spec->depth);
	uint64_t now;
	int r;

	if (!got) {
		r = io_uring_wait_cqe(&g->ring, &g->cqes[0]);
		if (r == -EINTR)
			return 0;
		if (r < 0)
			return bench_fail(io->why, -r, "io_uring_wait_cqe: %s",
					  strerror(-r));
		got = 1;
	}
	now = bench_io_reaped(io, got);
	for (unsigned i = 0; i < got; i++) {
		r = bench_io_done(
		    io, (unsigned)(uintptr_t)io_uring_cqe_get_data(g->cqes[i]),
		    g->cqes[i]->res, now);
		if (r)
			return r;
	}
	io_uring_cq_advance(&g->ring, got);
	bench_io_tick(io, now);
	return 0;
}

static int ring_fini(struct bench_io *io, void *state, int r)
{
	struct ring *g = state;

	(void)io;
	if (g->up)
		io_uring_queue_exit(&g->ring);
	free(g->cqes);
	return r;
}

const struct bench_loop bench_loop_uring = {
    sizeof(struct ring), ring_init, ring_submit, ring_reap, ring_fini,
};
#else
static int absent(struct bench_io *io, void *state)
{
	(void)state;
	return bench_skip(io->why, ENOSYS, "built without liburing");
}

const struct bench_loop bench_loop_uring = {.state = 1, .init = absent};
#endif
