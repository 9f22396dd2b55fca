/*
 * Filling the ring.  At most ring->nr - 1 requests can be outstanding
 * (queued or completed but unreaped); past that io_submit() queues what
 * fits and returns the count, and returns -EAGAIN only when not one iocb
 * could be queued.  Reaping frees slots.
 *
 * Requests stay in flight as polls of an empty pipe: a kernel AIO read of a
 * pipe would block io_submit() instead.  The kernel hands out slots in
 * per-CPU batches, so the exact number it accepts is somewhere between
 * what io_setup() asked for and nr - 1 (on 2 CPUs, io_setup(1) gives a
 * 127-slot ring that takes 120); the test pins itself to one CPU so that
 * freed slots come back to the CPU that submits.
 */
#include "validation.h"

#include <sched.h>

#define BATCH 7

int main(void)
{
	struct timespec zero = {0, 0};
	struct io_event *ev;
	struct iocb *cb, **cbs, extra, *extras[1] = {&extra};
	io_context_t ctx;
	unsigned nr;
	int p[2], total = 0, ret, cpu = sched_getcpu();
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);

	T_ASSERT(pipe(p) == 0);
	ctx = t_setup(1);
	nr = t_ring(ctx)->nr;
	cb = calloc(nr + BATCH, sizeof(*cb));
	cbs = calloc(nr + BATCH, sizeof(*cbs));
	ev = calloc(nr, sizeof(*ev));
	T_ASSERT(cb && cbs && ev);
	for (unsigned i = 0; i < nr + BATCH; i++) {
		io_prep_poll(&cb[i], p[0], POLLIN);
		cb[i].data = (void *)(long)i;
		cbs[i] = &cb[i];
	}

	/* Batches of 7 until one is cut short or refused. */
	for (;;) {
		errno = V_ERRNO_MARK;
		ret = io_submit(ctx, BATCH, cbs + total);
		T_EQ(errno, V_ERRNO_MARK);
		if (ret == -EAGAIN)
			break;
		T_ASSERT(ret >= 1 && ret <= BATCH);
		total += ret;
		T_ASSERT(total <= (int)nr - 1);
		if (ret < BATCH)
			break;
	}
	fprintf(stderr, "ring of %u accepted %d\n", nr, total);
	/* The kernel guarantees at least half of the doubled ring. */
	T_ASSERT(total > (int)(nr - 1) / 2);

	/* Full: now nothing fits, so the error is returned. */
	V_RET(io_submit(ctx, BATCH, cbs + total), -EAGAIN);
	V_RET(io_submit(ctx, 1, cbs + total), -EAGAIN);
	/* The slot is taken before the fd is looked at... */
	io_prep_pread(&extra, -1, NULL, 0, 0);
	V_RET(io_submit(ctx, 1, extras), -EAGAIN);
	/* ...and after reserved2 and nbytes. */
	extra.u.c.__pad3 = 1;
	V_RET(io_submit(ctx, 1, extras), -EINVAL);
	io_prep_pread(&extra, -1, NULL, ~0ul, 0);
	V_RET(io_submit(ctx, 1, extras), -EINVAL);
	V_RET(io_getevents(ctx, 0, 1, ev, &zero), 0);

	/* Everything completes; the ring holds all the events. */
	T_ASSERT(write(p[1], "x", 1) == 1);
	V_RET(io_getevents(ctx, 1, 1, ev, NULL), 1);
	T_ASSERT(ev[0].obj >= cb && ev[0].obj < cb + total);
	T_EQ(ev[0].res, POLLIN | POLLRDNORM);
	T_EQ(ev[0].res2, 0);

	/* One reaped, one slot free: the next poll (ready now) fits... */
	V_RET(io_submit(ctx, BATCH, cbs + total), 1);
	total++;
	/* ...and then the ring is full of unreaped events. */
	V_RET(io_submit(ctx, 1, cbs + total), -EAGAIN);

	/* Reap the rest (total - 1 events: one was reaped above). */
	t_reap(ctx, total - 1, ev);
	for (int i = 0; i < total - 1; i++) {
		T_ASSERT(ev[i].obj >= cb && ev[i].obj < cb + total);
		T_ASSERT(ev[i].data == (void *)(ev[i].obj - cb));
		T_ASSERT(ev[i].res == (POLLIN | POLLRDNORM) ||
			 ev[i].res == POLLIN);
	}
	V_RET(io_getevents(ctx, 0, 1, ev, &zero), 0);

	/* Empty again: a whole batch fits. */
	V_RET(io_submit(ctx, BATCH, cbs), BATCH);
	t_reap(ctx, BATCH, ev);
	for (int i = 0; i < BATCH; i++)
		T_EQ(ev[i].res, POLLIN);
	V_RET(io_destroy(ctx), 0);
	free(cb);
	free(cbs);
	free(ev);
	return 0;
}
