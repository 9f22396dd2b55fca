/*
 * ring.h - the kernel-layout completion ring shared by the emulated engines.
 */
#ifndef UAIO_RING_H
#define UAIO_RING_H

#include "internal.h"

struct ring {
	struct aio_ring *ar; /* the library's view: see arena.c */
	char *user;	     /* the program's view at first: the handle */
	unsigned nr;	     /* slots; at most nr - 1 events outstanding */
	size_t bytes;
	pthread_mutex_t produce_lock;
	pthread_mutex_t consume_lock;
	/*
	 * Slot accounting in one word, so that a reservation never sees a
	 * completion half done: low 32 bits, requests holding a slot whose
	 * event is not published; high 32 bits, our copy of tail, advanced
	 * in the same step, before the program can see the event.
	 */
	_Atomic uint64_t acct;
};

/* A ring for io_setup(nr_events), its header's id field set to id. */
int ring_init(struct ring *r, unsigned nr_events, unsigned id);
/* user_now: where the program's view of it is now (it may have moved). */
void ring_fini(struct ring *r, char *user_now);

/* arena.c: the memory of rings, seen at two addresses. */
int arena_alloc(size_t bytes, char **user, char **alias);
void arena_free(char *alias, size_t bytes, char *user_now);
/*
 * Take up to want slots for requests, as aio_get_req() does one at a time:
 * how many, 0 when requests in flight plus events not consumed reach
 * nr - 1, so that every completion finds room.
 */
unsigned ring_reserve_n(struct ring *r, unsigned want);
/* Give back n reserved slots without events (requests not taken). */
void ring_unreserve_n(struct ring *r, unsigned n);
/* A discarded request's slot. */
static inline void ring_unreserve(struct ring *r)
{
	ring_unreserve_n(r, 1);
}
/* Requests holding a slot and not yet published. */
unsigned ring_in_flight(struct ring *r);
/* Publish the events of n reserved requests, releasing their slots. */
void ring_publish(struct ring *r, const struct io_event *ev, unsigned n);
/* Move up to nr events to events[]; the count, or -EFAULT. */
int ring_reap(struct ring *r, struct io_event *events, long nr);
/* Events published and not yet consumed (by us or by the program). */
unsigned ring_unreaped(struct ring *r);

/* head as the program may have written it: the kernel reduces it modulo nr. */
static inline unsigned ring_head(struct ring *r)
{
	unsigned head = __atomic_load_n(&r->ar->head, __ATOMIC_ACQUIRE);

	return likely(head < r->nr) ? head : head % r->nr;
}

/* The program may write the ring's tail too: read it as the kernel does
 * (aio_read_events_ring()), modulo the ring's size. */
static inline unsigned ring_tail(struct ring *r)
{
	unsigned tail = __atomic_load_n(&r->ar->tail, __ATOMIC_ACQUIRE);

	return likely(tail < r->nr) ? tail : tail % r->nr;
}

static inline bool ring_empty(struct ring *r)
{
	return ring_head(r) == ring_tail(r);
}

#endif
