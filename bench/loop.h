/*
 * loop.h - what the I/O loops (loop-*.c) share: the state of one
 * measurement, and the steps every loop takes in the same way.
 *
 * A loop keeps spec.depth requests in flight: it starts every free slot,
 * waits for at least one completion, takes all there are and refills.  A
 * slot is a buffer and the request using it.  The timed window opens at
 * bench_io_start() and closes at the first reap that completes spec.ops
 * requests or comes after spec.seconds; requests still in flight then are
 * reaped, not counted.  With spec.latency a request's latency runs from
 * just before the call that submitted it to just after the one that
 * returned it, so time spent inside io_submit (kernel AIO does buffered
 * reads there) counts.  Every completion is checked for a full block: an
 * engine that fails requests must not look fast.
 */
#ifndef UAIO_BENCH_LOOP_H
#define UAIO_BENCH_LOOP_H

#include <libaio.h>

#include "hist.h"
#include "measure.h"
#include "random.h"

/* A libaio.so.1 loaded by path (lib.c). */
struct bench_lib {
	void *handle;
	int (*setup)(int, io_context_t *);
	int (*submit)(io_context_t, long, struct iocb **);
	int (*getevents)(io_context_t, long, long, struct io_event *,
			 struct timespec *);
	int (*destroy)(io_context_t);
	int (*engine)(io_context_t, char *, size_t); /* uaio's only */
};

/* Load path: uaio's on engine, or (engine NULL) the system's.  0, or
 * -errno and why. */
int bench_lib_open(struct bench_lib *l, const char *path, const char *engine,
		   struct bench_why *why);
void bench_lib_close(struct bench_lib *l);
/* After io_setup: 0 when ctx runs on the engine asked for (any, for the
 * system libaio), else -errno and why. */
int bench_lib_check(const struct bench_lib *l, io_context_t ctx,
		    const char *engine, struct bench_why *why);

struct bench_io {
	const struct bench_spec *spec;
	const struct bench_lib *lib; /* BENCH_LIBAIO */
	struct bench_why *why;
	int fd;
	char *bufs;		 /* spec.depth buffers of spec.bs */
	uint64_t *off;		 /* per slot: its request's offset */
	bool *wr;		 /* per slot: its request writes */
	uint64_t *sent;		 /* per slot: when it was submitted (latency) */
	unsigned *idle, nidle;	 /* the slots without a request */
	struct bench_hist *hist; /* NULL unless spec.latency */
	struct bench_order order;
	uint64_t seed;
	uint64_t t0, deadline, next_progress;
	uint64_t issued, done, ns;
	unsigned inflight;
	uint64_t lat_sum, lat_max, sub_ns, sub_ops;
	bool over; /* the timed window has closed */
};

/* Buffers and counters for spec on fd: 0, or -errno and why. */
int bench_io_init(struct bench_io *io, const struct bench_spec *spec, int fd,
		  const struct bench_lib *lib, struct bench_why *why);
void bench_io_free(struct bench_io *io);
void bench_io_result(const struct bench_io *io, struct bench_result *r);

/*
 * An I/O loop (loop-*.c), run by bench_io_run(): init sets up its state (a
 * zeroed block of `state` bytes); then, over and over, submit starts what
 * may start and, while anything is in flight, reap waits for a completion
 * and takes those there are; fini tears down whatever init made (it runs
 * after a failed init too) and returns the outcome, r or a later failure.
 * Each returns 0, or -errno with io->why filled.
 */
struct bench_loop {
	size_t state; /* init and fini may be NULL */
	int (*init)(struct bench_io *io, void *state);
	int (*submit)(struct bench_io *io, void *state);
	int (*reap)(struct bench_io *io, void *state);
	int (*fini)(struct bench_io *io, void *state, int r);
};

int bench_io_run(struct bench_io *io, const struct bench_loop *loop);

/*
 * A free slot for the next request, which is chosen (io->off[*slot],
 * io->wr[*slot]): its buffer; NULL when no slot is free or no more requests
 * may start, pending taken already but not submitted.
 */
void *bench_io_take(struct bench_io *io, unsigned pending, unsigned *slot);
/* A slot taken whose request was not submitted after all. */
void bench_io_give(struct bench_io *io, unsigned slot);
/* The time before a submission, 0 when latency is not timed. */
uint64_t bench_io_stamp(const struct bench_io *io);
/* After a submission that started n requests, stamped t: slot by slot
 * (bench_io_sent, now in flight), then the call's time
 * (bench_io_submitted). */
void bench_io_sent(struct bench_io *io, unsigned slot, uint64_t t);
void bench_io_submitted(struct bench_io *io, uint64_t t, unsigned n);
/* After a reap of n completions: the time, when something needs it. */
uint64_t bench_io_reaped(const struct bench_io *io, unsigned n);
/* Slot's request completed with res (the slot is free again): 0, or -EIO
 * and why. */
int bench_io_done(struct bench_io *io, unsigned slot, long res, uint64_t now);
/* After the completions of a reap: closes the window when its end has
 * come, and reports progress. */
void bench_io_tick(struct bench_io *io, uint64_t now);

#endif
