/*
 * ring.c - the kernel-layout completion ring of the emulated engines.
 *
 * The context handle is the ring's address, as with the kernel, because
 * programs read it directly: libaio's own io_getevents peek, fio's
 * userspace_reap, QEMU's linux-aio and SPDK.  The producer (completion
 * path) writes the event at tail, then publishes tail with release
 * semantics; consumers (io_getevents here, or the program itself) read
 * head..tail and store head.  A head written by the program frees slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "uaccess.h"

unsigned uaio__ring_nr(unsigned nr_events, size_t *bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned n = nr_events;
	size_t size;

	/* fs/aio.c: ioctx_alloc() then aio_setup_ring(). */
	if (n < uaio__possible_cpus() * 4)
		n = uaio__possible_cpus() * 4;
	n = n * 2 + 2;
	size = sizeof(struct aio_ring) + (size_t)n * sizeof(struct io_event);
	size = (size + page - 1) / page * page;
	if (bytes)
		*bytes = size;
	return (unsigned)((size - sizeof(struct aio_ring)) /
			  sizeof(struct io_event));
}

int ring_init(struct ring *r, unsigned nr_events, unsigned id)
{
	struct aio_ring *ar;
	char *user, *alias;
	size_t bytes;
	unsigned nr = uaio__ring_nr(nr_events, &bytes);

	if (arena_alloc(bytes, &user, &alias))
		return -ENOMEM;
	ar = (struct aio_ring *)alias;
	ar->id = id;
	ar->nr = nr;
	ar->head = ar->tail = 0;
	ar->magic = AIO_RING_MAGIC;
	ar->compat_features = AIO_RING_COMPAT_FEATURES;
	ar->incompat_features = AIO_RING_INCOMPAT_FEATURES;
	ar->header_length = sizeof(struct aio_ring);
	r->ar = ar;
	r->user = user;
	r->nr = nr;
	atomic_init(&r->acct, 0);
	r->bytes = bytes;
	pthread_mutex_init(&r->produce_lock, NULL);
	pthread_mutex_init(&r->consume_lock, NULL);
	return 0;
}

void ring_fini(struct ring *r, char *user_now)
{
	arena_free((char *)r->ar, r->bytes, user_now);
	pthread_mutex_destroy(&r->produce_lock);
	pthread_mutex_destroy(&r->consume_lock);
	r->ar = NULL;
}

unsigned ring_unreaped(struct ring *r)
{
	unsigned head = ring_head(r);
	unsigned tail = ring_tail(r);

	return tail >= head ? tail - head : tail + r->nr - head;
}

#define ACCT(tail, held) (((uint64_t)(tail) << 32) | (held))
#define ACCT_TAIL(a) ((unsigned)((a) >> 32))

unsigned ring_reserve_n(struct ring *r, unsigned want)
{
	uint64_t a = atomic_load_explicit(&r->acct, memory_order_acquire);

	for (;;) {
		unsigned held = (unsigned)a, tail = ACCT_TAIL(a);
		/* head is read after our tail copy, so it never passes it. */
		unsigned head = ring_head(r);
		unsigned unreaped =
		    tail >= head ? tail - head : tail + r->nr - head;
		unsigned k;

		if (held + unreaped >= r->nr - 1) {
			/* Full, or our copy of tail is older than the head a
			 * reaper stored since: look again with a fresh one. */
			uint64_t now = atomic_load_explicit(
			    &r->acct, memory_order_acquire);
			if (now == a)
				return 0;
			a = now;
			continue;
		}
		k = r->nr - 1 - (held + unreaped);
		if (k > want)
			k = want;
		if (atomic_compare_exchange_weak_explicit(&r->acct, &a, a + k,
							  memory_order_acq_rel,
							  memory_order_acquire))
			return k;
	}
}

void ring_unreserve_n(struct ring *r, unsigned n)
{
	atomic_fetch_sub_explicit(&r->acct, n, memory_order_release);
}

unsigned ring_in_flight(struct ring *r)
{
	return (unsigned)atomic_load_explicit(&r->acct, memory_order_acquire);
}

void ring_publish(struct ring *r, const struct io_event *ev, unsigned n)
{
	struct aio_ring *ar = r->ar;
	unsigned tail;
	uint64_t a;

	pthread_mutex_lock(&r->produce_lock);
	/* Ours, as the kernel's aio_complete() keeps its own: the ring's is
	 * the program's to write, even out of range. */
	tail = ACCT_TAIL(atomic_load_explicit(&r->acct, memory_order_relaxed));
	for (unsigned i = 0; i < n; i++) {
		ar->io_events[tail] = ev[i];
		if (++tail == r->nr)
			tail = 0;
	}
	/* Slots change from "held" to "unreaped" in one step... */
	a = atomic_load_explicit(&r->acct, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(
	    &r->acct, &a, ACCT(tail, (unsigned)a - n), memory_order_acq_rel,
	    memory_order_relaxed))
		;
	/* ...before the program can consume them; and the events must be
	 * visible before the tail that covers them. */
	__atomic_store_n(&ar->tail, tail, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->produce_lock);
}

int ring_reap(struct ring *r, struct io_event *events, long nr)
{
	struct aio_ring *ar = r->ar;
	unsigned head, tail;
	long got = 0;

	struct iovec seg[2];
	unsigned nseg = 0, h;

	pthread_mutex_lock(&r->consume_lock);
	head = ring_head(r);
	tail = ring_tail(r);
	/* At most two runs: to the end of the ring, then from its start. */
	for (h = head; h != tail && got < nr && nseg < 2;) {
		unsigned end = tail > h ? tail : r->nr;
		long n = end - h;

		if (n > nr - got)
			n = nr - got;
		seg[nseg++] = (struct iovec){&ar->io_events[h],
					     (size_t)n * sizeof(*events)};
		got += n;
		h += (unsigned)n;
		if (h == r->nr)
			h = 0;
	}
	if (got) {
		size_t w = uaio__uwrite_vec(seg, nseg, events,
					    (size_t)got * sizeof(*events));
		if (w != (size_t)got * sizeof(*events)) {
			/* The kernel leaves every event in the ring on EFAULT.
			 */
			pthread_mutex_unlock(&r->consume_lock);
			return -EFAULT;
		}
		__atomic_store_n(&ar->head, (head + (unsigned)got) % r->nr,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&r->consume_lock);
	return (int)got;
}
