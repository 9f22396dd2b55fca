/*
 * loop-pread.c - one pread or pwrite at a time: the floor the
 * asynchronous interfaces are measured against.  The call is made by the
 * submit step and its result taken by the reap step, as for the others.
 */
#include "loop.h"

#include <errno.h>
#include <unistd.h>

/* The call made: its slot and its result. */
struct sync {
	unsigned slot;
	long res;
};

static int sync_submit(struct bench_io *io, void *state)
{
	struct sync *c = state;
	uint64_t t;
	void *buf = bench_io_take(io, 0, &c->slot);
	ssize_t n;

	if (!buf)
		return 0;
	t = bench_io_stamp(io);
	if (io->wr[c->slot])
		n = pwrite(io->fd, buf, io->spec->bs, (off_t)io->off[c->slot]);
	else
		n = pread(io->fd, buf, io->spec->bs, (off_t)io->off[c->slot]);
	c->res = n < 0 ? -errno : (long)n;
	bench_io_sent(io, c->slot, t);
	bench_io_submitted(io, t, 1);
	return 0;
}

static int sync_reap(struct bench_io *io, void *state)
{
	struct sync *c = state;
	uint64_t now = bench_io_reaped(io, 1);
	int r = bench_io_done(io, c->slot, c->res, now);

	bench_io_tick(io, now);
	return r;
}

const struct bench_loop bench_loop_pread = {
    sizeof(struct sync), NULL, sync_submit, sync_reap, NULL,
};
