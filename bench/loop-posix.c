/*
 * loop-posix.c - glibc's POSIX AIO: aio_read or aio_write per free slot,
 * aio_suspend for at least one completion.
 */
#include "loop.h"

#include <aio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct posix {
	struct aiocb *cbs;
	const struct aiocb **list; /* NULL: a free slot */
};

static int posix_submit(struct bench_io *io, void *state)
{
	struct posix *p = state;
	uint64_t t = bench_io_stamp(io);
	unsigned n = 0, i;
	void *buf;

	while ((buf = bench_io_take(io, 0, &i))) {
		struct aiocb *cb = &p->cbs[i];

		memset(cb, 0, sizeof(*cb));
		cb->aio_fildes = io->fd;
		cb->aio_buf = buf;
		cb->aio_nbytes = io->spec->bs;
		cb->aio_offset = (off_t)io->off[i];
		if (io->wr[i] ? aio_write(cb) : aio_read(cb))
			return bench_fail(io->why, errno, "aio_%s: %s",
					  io->wr[i] ? "write" : "read",
					  strerror(errno));
		p->list[i] = cb;
		bench_io_sent(io, i, t);
		n++;
	}
	bench_io_submitted(io, t, n);
	return 0;
}

/* Whether slot i holds a request that is done. */
static bool finished(const struct posix *p, unsigned i)
{
	return p->list[i] && aio_error(p->list[i]) != EINPROGRESS;
}

/* Its result, once: the request leaves the slot. */
static long result(struct posix *p, unsigned i)
{
	int err = aio_error(p->list[i]);

	p->list[i] = NULL;
	return err ? -err : (long)aio_return(&p->cbs[i]);
}

static int posix_reap(struct bench_io *io, void *state)
{
	struct posix *p = state;
	unsigned got = 0, i;
	uint64_t now;
	int r;

	/* NULL entries of the list are ignored: the free slots. */
	if (aio_suspend(p->list, (int)io->spec->depth, NULL) && errno != EINTR)
		return bench_fail(io->why, errno, "aio_suspend: %s",
				  strerror(errno));
	for (i = 0; i < io->spec->depth; i++)
		got += finished(p, i);
	now = bench_io_reaped(io, got);
	for (i = 0; i < io->spec->depth; i++) {
		if (!finished(p, i))
			continue;
		r = bench_io_done(io, i, result(p, i), now);
		if (r)
			return r;
	}
	bench_io_tick(io, now);
	return 0;
}

static int posix_init(struct bench_io *io, void *state)
{
	struct posix *p = state;

	p->cbs = calloc(io->spec->depth, sizeof(*p->cbs));
	p->list = calloc(io->spec->depth, sizeof(*p->list));
	if (!p->cbs || !p->list)
		return bench_fail(io->why, ENOMEM, "out of memory");
	return 0;
}

/* The requests must be finished before their buffers are freed. */
static int posix_fini(struct bench_io *io, void *state, int r)
{
	struct posix *p = state;

	for (unsigned i = 0; p->list && i < io->spec->depth; i++) {
		while (p->list[i] && !finished(p, i))
			aio_suspend(&p->list[i], 1, NULL);
		if (p->list[i])
			result(p, i);
	}
	free(p->cbs);
	free(p->list);
	return r;
}

const struct bench_loop bench_loop_posix = {
    sizeof(struct posix), posix_init, posix_submit, posix_reap, posix_fini,
};
