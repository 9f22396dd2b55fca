/*
 * loop.c - the steps every I/O loop takes alike: offsets, buffers, the
 * timed window, latency, the check of each completion.
 */
#include "loop.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define PROGRESS_NS 200000000ull

int bench_io_init(struct bench_io *io, const struct bench_spec *spec, int fd,
		  const struct bench_lib *lib, struct bench_why *why)
{
	size_t d = spec->depth;

	memset(io, 0, sizeof(*io));
	io->spec = spec;
	io->lib = lib;
	io->why = why;
	io->fd = fd;
	io->seed = spec->seed | 1; /* xorshift must not start at 0 */
	io->off = calloc(d, sizeof(*io->off));
	io->wr = calloc(d, sizeof(*io->wr));
	io->sent = calloc(d, sizeof(*io->sent));
	io->idle = calloc(d, sizeof(*io->idle));
	if (spec->latency)
		io->hist = calloc(1, sizeof(*io->hist));
	if (!io->off || !io->wr || !io->sent || !io->idle ||
	    (spec->latency && !io->hist) ||
	    posix_memalign((void **)&io->bufs, 4096, d * spec->bs))
		return bench_fail(why, ENOMEM, "out of memory");
	/* Handed out from slot 0 up, in the order the buffers lie. */
	for (size_t i = 0; i < d; i++)
		io->idle[i] = (unsigned)(d - 1 - i);
	io->nidle = (unsigned)d;
	/* Distinct data for writes, and the pages faulted in before timing. */
	bench_random_fill(io->bufs, d * spec->bs, &io->seed);
	bench_order_init(&io->order, spec->size / spec->bs, &io->seed);
	return 0;
}

void bench_io_free(struct bench_io *io)
{
	free(io->off);
	free(io->wr);
	free(io->sent);
	free(io->idle);
	free(io->hist);
	free(io->bufs);
}

void bench_io_result(const struct bench_io *io, struct bench_result *r)
{
	memset(r, 0, sizeof(*r));
	r->ops = io->done;
	r->ns = io->ns;
	if (!io->hist || !io->done)
		return;
	r->mean = (double)io->lat_sum / (double)io->done;
	r->p50 = bench_hist_rank(io->hist, (io->done + 1) / 2);
	r->p99 = bench_hist_rank(io->hist, io->done - io->done / 100);
	r->max = (double)io->lat_max;
	r->submit = io->sub_ops ? (double)io->sub_ns / (double)io->sub_ops : 0;
}

static void start(struct bench_io *io)
{
	io->t0 = bench_now_ns();
	if (io->spec->seconds > 0)
		io->deadline = io->t0 + (uint64_t)(io->spec->seconds * 1e9);
	io->next_progress = io->t0 + PROGRESS_NS;
}

int bench_io_run(struct bench_io *io, const struct bench_loop *loop)
{
	void *state = calloc(1, loop->state);
	int r;

	if (!state)
		return bench_fail(io->why, ENOMEM, "out of memory");
	r = loop->init ? loop->init(io, state) : 0;
	if (!r)
		start(io);
	while (!r) {
		r = loop->submit(io, state);
		if (r || !io->inflight)
			break;
		r = loop->reap(io, state);
	}
	if (loop->fini)
		r = loop->fini(io, state, r);
	free(state);
	return r;
}

void *bench_io_take(struct bench_io *io, unsigned pending, unsigned *slot)
{
	const struct bench_spec *s = io->spec;

	if (!io->nidle || io->over ||
	    (s->ops && io->issued + pending >= s->ops))
		return NULL;
	*slot = io->idle[--io->nidle];
	io->off[*slot] = bench_order_next(&io->order, &io->seed) * s->bs;
	io->wr[*slot] =
	    s->rw == BENCH_WRITE ||
	    (s->rw == BENCH_MIX && bench_rand(&io->seed) % 100 >= s->rwmix);
	return io->bufs + (size_t)*slot * s->bs;
}

void bench_io_give(struct bench_io *io, unsigned slot)
{
	io->idle[io->nidle++] = slot;
}

uint64_t bench_io_stamp(const struct bench_io *io)
{
	return io->hist ? bench_now_ns() : 0;
}

void bench_io_sent(struct bench_io *io, unsigned slot, uint64_t t)
{
	io->sent[slot] = t;
	io->issued++;
	io->inflight++;
}

void bench_io_submitted(struct bench_io *io, uint64_t t, unsigned n)
{
	if (!io->hist)
		return;
	io->sub_ns += bench_now_ns() - t;
	io->sub_ops += n;
}

uint64_t bench_io_reaped(const struct bench_io *io, unsigned n)
{
	/* A window bound only by a count needs the clock only at its end. */
	if (io->hist || io->spec->seconds > 0 || io->done + n >= io->spec->ops)
		return bench_now_ns();
	return 0;
}

static int failed(struct bench_io *io, unsigned slot, long res)
{
	const char *what = io->wr[slot] ? "write" : "read";

	if (res >= 0)
		return bench_fail(io->why, EIO,
				  "short %s: %ld of %" PRIu64
				  " bytes at offset %" PRIu64,
				  what, res, io->spec->bs, io->off[slot]);
	return bench_fail(
	    io->why, EIO, "%s of %" PRIu64 " bytes at offset %" PRIu64 ": %s%s",
	    what, io->spec->bs, io->off[slot], strerror((int)-res),
	    res == -EINVAL && io->spec->direct
		? " (O_DIRECT needs the request size, --bs, to be "
		  "a multiple of the device's logical block size)"
		: "");
}

int bench_io_done(struct bench_io *io, unsigned slot, long res, uint64_t now)
{
	uint64_t lat;

	io->inflight--;
	bench_io_give(io, slot);
	if (res != (long)io->spec->bs)
		return failed(io, slot, res);
	if (io->over)
		return 0;
	io->done++;
	if (!io->hist)
		return 0;
	lat = now - io->sent[slot];
	io->lat_sum += lat;
	if (lat > io->lat_max)
		io->lat_max = lat;
	bench_hist_add(io->hist, lat);
	return 0;
}

void bench_io_tick(struct bench_io *io, uint64_t now)
{
	if (io->over)
		return;
	if ((io->spec->ops && io->done >= io->spec->ops) ||
	    (io->spec->seconds > 0 && now >= io->deadline)) {
		io->over = true;
		io->ns = (now ? now : bench_now_ns()) - io->t0;
	} else if (io->spec->seconds > 0 && now >= io->next_progress) {
		bench_proto_progress(io->done, now - io->t0);
		io->next_progress = now + PROGRESS_NS;
	}
}
