/*
 * kaio.h - O_DIRECT requests of an emulated context on the kernel's AIO
 * (kaio.c).
 */
#ifndef UAIO_KAIO_H
#define UAIO_KAIO_H

#include "emu.h"

#define KAIO_BATCH 64
/*
 * Requests in flight at once on one kernel AIO context (more go to the
 * engine).  Each counts twice against the system-wide fs.aio-max-nr
 * (65536 by default), which other programs need too: the uring engine
 * has one context per shared ring (at most 8), the threads engine one.
 */
#define KAIO_EVENTS 512

/* Completions a sleeper in kaio_sleep() can take at once. */
#define KAIO_STASH 64
/* A sleep in kaio_sleep() this old has ended, or will not soon (a stop,
 * a signal handler): others reap through the kernel meanwhile. */
#define KAIO_SLEEP_STALE_NS 1000000000ull
/* The data of kaio_kick()'s requests: odd, no request's emu_tag(). */
#define KAIO_KICK_TAG 1ull

struct kaio {
	unsigned long ctx;     /* the kernel AIO context, 0 if none */
	int efd;	       /* its completions' RESFD, or -1 if none */
	_Atomic long inflight; /* submitted, not yet reaped (kicks too) */
	pthread_mutex_t reap_lock;
	/*
	 * Under reap_lock: a thread sleeps in io_pgetevents on the context
	 * (kaio_sleep()) since sleep_ns.  The kernel then moves the ring's
	 * head, so nobody reads the ring in user space; what the sleeper
	 * took waits in the stash for kaio_reap().
	 */
	bool sleeping;
	uint64_t sleep_ns;
	_Atomic unsigned nstash;
	struct io_event stash[KAIO_STASH];
	_Atomic bool no_sleep; /* io_pgetevents refused (seccomp, ENOSYS) */
};

/* A kernel AIO context for nr requests, with resfd its completions
 * signalled on an eventfd; -errno (kernel AIO refused: the engine runs
 * them itself). */
int kaio_open(struct kaio *k, unsigned nr, bool resfd);
/* Whether req is I/O that kernel AIO runs best: O_DIRECT on a file. */
bool kaio_wants(const struct emu_req *req);
/* Moves what kaio_wants() (at most KAIO_BATCH) from reqs[0..*n) to direct;
 * the rest stays in reqs, in order, *n its count; returns how many moved. */
int kaio_split(struct emu_req **reqs, int *n, struct emu_req **direct);
/* Submit reqs (at most KAIO_BATCH): how many the kernel took, from the
 * first, or -errno if none. */
int kaio_submit(struct kaio *k, struct emu_req **reqs, int n);
/* Up to n completions, from the kernel's ring, without a system call. */
unsigned kaio_reap(struct kaio *k, struct io_event *ev, unsigned n);
/* Clear the eventfd before looking at the ring (kaio_pending()), so that
 * a later completion sets it. */
void kaio_quiet(struct kaio *k);
/*
 * Sleep in io_pgetevents until a completion comes (kept for kaio_reap()),
 * left passes (NULL: no limit) or a signal (-EINTR), with mask applied
 * atomically; not at all if *gen is no longer g0 once the sleep is known
 * to others (a kaio_kick() may have come and gone).  0 when it woke (or
 * found completions waiting); -EBUSY when another thread sleeps there
 * already, -ENOSYS when the call is refused: the caller then waits
 * another way.
 */
int kaio_sleep(struct kaio *k, const struct timespec *left,
	       const sigset_t *mask, _Atomic unsigned *gen, unsigned g0);
/* Complete at once a request of the context's, to end a kaio_sleep(). */
void kaio_kick(struct kaio *k);

/* Whether completions wait, in the kernel's ring or the stash (k open). */
static inline bool kaio_pending(const struct kaio *k)
{
	const struct aio_ring *r = (const struct aio_ring *)k->ctx;

	return atomic_load_explicit(&k->nstash, memory_order_acquire) ||
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) !=
		   __atomic_load_n(&r->head, __ATOMIC_RELAXED);
}

/*
 * kaio-reaper.c: one kernel AIO context for the whole process, whose
 * completions a thread of its own waits for and hands to done(req, res).
 * Submit reqs (at most KAIO_BATCH) on it: how many it took, from the
 * first (0 when kernel AIO is refused or its ring is full).
 */
typedef void kaio_done_fn(struct emu_req *req, long res);
int kaio_reaper_submit(struct emu_req **reqs, int n, kaio_done_fn *done);

#endif
