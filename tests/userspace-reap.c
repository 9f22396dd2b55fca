/*
 * Reaping the ring at the handle directly, as fio's userspace_reap does:
 * read head and tail, copy events from +32, store head with release.  Slots
 * freed that way must become free for submission, and io_getevents must
 * continue from the user-written head.
 */
#include "behaviour.h"

#include <sys/eventfd.h>

#define ROUNDS 12
#define LEN 64

static io_context_t ctx;
static struct t_ring *ring;
static int fd, efd;
static struct iocb *iocbs;
static unsigned char (*bufs)[LEN];
static int *seen;
static int max_ios, next_io, completed;
/* Eventfd counts read but not yet matched with reaped events. */
static uint64_t signalled;

/* Wait (on the eventfd, no spinning) until n more completions are in the ring.
 */
static void wait_ring(int n)
{
	while (signalled < (uint64_t)n) {
		uint64_t v;
		T_EQ(read(efd, &v, sizeof(v)), sizeof(v));
		signalled += v;
	}
	signalled -= n;
}

static void check(const struct io_event *ev)
{
	long id = (long)ev->data;

	T_ASSERT(id >= 0 && id < next_io);
	T_ASSERT(ev->obj == &iocbs[id]);
	T_EQ((long)ev->res, LEN);
	T_EQ((long)ev->res2, 0);
	if (seen[id]++)
		T_FAIL("event for request %ld delivered twice", id);
	for (int i = 0; i < LEN; i++)
		T_EQ(bufs[id][i], t_pattern((uint64_t)id * LEN % 65536 + i));
	completed++;
}

/* fio's user_io_getevents, with explicit acquire/release ordering. */
static int user_reap(int max)
{
	int n = 0;

	while (n < max) {
		unsigned head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		struct io_event ev;

		if (head == tail)
			break;
		T_ASSERT(head < ring->nr && tail < ring->nr);
		ev = ring->events[head];
		__atomic_store_n(&ring->head, (head + 1) % ring->nr,
				 __ATOMIC_RELEASE);
		check(&ev);
		n++;
	}
	return n;
}

/* Submit one at a time until the ring is full; returns how many went in. */
static int submit_until_full(void)
{
	int n = 0;

	for (;;) {
		struct iocb *p;
		int ret;

		T_ASSERT(next_io < max_ios);
		p = &iocbs[next_io];
		io_prep_pread(p, fd, bufs[next_io], LEN,
			      (long long)next_io * LEN % 65536);
		io_set_eventfd(p, efd);
		p->data = (void *)(long)next_io;
		ret = io_submit(ctx, 1, &p);
		if (ret == -EAGAIN)
			return n;
		T_EQ(ret, 1);
		next_io++;
		n++;
	}
}

static unsigned in_ring(void)
{
	return (t_tail(ring) + ring->nr - t_head(ring)) % ring->nr;
}

int main(void)
{
	struct io_event ev[16];
	int first, total_reaped = 0;

	fd = t_scratch_file(65536, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	T_ASSERT(efd >= 0);
	ctx = t_setup(8);
	ring = t_ring(ctx);
	T_EQ(ring->magic, T_RING_MAGIC);
	T_EQ(ring->compat_features, 1);
	T_EQ(ring->incompat_features, 0);
	T_EQ(ring->header_length, 32);
	T_EQ(t_head(ring), 0);
	T_EQ(t_tail(ring), 0);
	T_ASSERT(ring->nr > 8);
	fprintf(stderr, "ring nr %u\n", ring->nr);

	max_ios = (int)ring->nr * (ROUNDS + 2);
	iocbs = calloc(max_ios, sizeof(*iocbs));
	bufs = calloc(max_ios, sizeof(*bufs));
	seen = calloc(max_ios, sizeof(*seen));
	T_ASSERT(iocbs && bufs && seen);

	/*
	 * Fill the ring.  The kernel allows nr - 1 requests; it caches free
	 * slots per CPU, so a thread that migrated may see EAGAIN a little
	 * earlier, but never before the nr_events it asked for.
	 */
	first = submit_until_full();
	fprintf(stderr, "ring full after %d submissions\n", first);
	T_ASSERT(first >= 8 && first <= (int)ring->nr - 1);
	wait_ring(first);
	T_EQ(in_ring(), first);

	/*
	 * Round after round: reap part of the ring in user space, part with
	 * io_getevents, and refill.  More than nr - 1 requests go through
	 * in total only if user-written heads free slots; head wraps too.
	 */
	for (int round = 0; round < ROUNDS; round++) {
		int half = (int)in_ring() / 2, n, more;
		int ret;

		T_ASSERT(half >= 1);
		T_EQ(user_reap(half), half);
		total_reaped += half;

		/* The user-written head alone frees slots: no call between. */
		more = submit_until_full();
		T_ASSERT(more >= 1);
		wait_ring(more);

		/* io_getevents must start at the head user space wrote */
		ret = io_getevents(ctx, 3, 3, ev, NULL);
		T_EQ(ret, 3);
		for (int i = 0; i < 3; i++)
			check(&ev[i]);
		total_reaped += 3;

		more = submit_until_full();
		T_ASSERT(more >= 1);
		wait_ring(more);
		n = (int)in_ring();
		T_EQ(n, next_io - total_reaped);
	}
	fprintf(stderr, "%d requests through a ring of %u\n", next_io,
		ring->nr);
	T_ASSERT(next_io > 2 * (int)ring->nr);

	/*
	 * A head stored without the modulo: the kernel reduces it, so
	 * head + nr means the same slot as head.
	 */
	{
		unsigned head = t_head(ring);
		__atomic_store_n(&ring->head, head + ring->nr,
				 __ATOMIC_RELEASE);
		T_EQ(io_getevents(ctx, 1, 1, ev, NULL), 1);
		T_ASSERT(ev[0].obj == ring->events[head].obj);
		check(&ev[0]);
		total_reaped++;
		T_EQ(t_head(ring), (head + 1) % ring->nr);
	}

	/* Drain what is left, alternating both ways. */
	while (total_reaped < next_io) {
		int n = user_reap(1);
		if (n == 0) {
			n = t_peek(ctx, 2, ev);
			for (int i = 0; i < n; i++)
				check(&ev[i]);
		}
		T_ASSERT(n > 0);
		total_reaped += n;
		n = t_peek(ctx, 1, ev);
		if (n)
			check(&ev[0]);
		total_reaped += n;
	}
	T_EQ(completed, next_io);
	T_EQ(t_head(ring), t_tail(ring));
	T_EQ(t_peek(ctx, 1, ev), 0);
	T_EQ(io_destroy(ctx), 0);
	return 0;
}
