/*
 * uring.h - the io_urings that the uring engine's contexts share.
 *
 * A context costs no file descriptor: the process has a few io_urings
 * (one per online CPU, at most UR_MAX_RINGS), made when first needed, and
 * each context submits to one of them.  A completion carries its context's
 * number and its request's index and generation in user_data (ud_req()),
 * so whoever drains a ring's CQ publishes each event into its own
 * context's aio ring (engine-uring.c).
 *
 * Who drains: the program's threads inside a call on a context of the
 * ring (they wait for events in io_uring_enter on the ring itself, so the
 * common submit-then-wait loop never pays a thread hop), and the ring's
 * completion thread, woken by an eventfd registered with the ring, for the
 * programs that never call io_getevents (QEMU waits on the RESFD eventfd
 * and reads the ring, fio's userspace_reap reads it directly).  The
 * eventfd is off (IORING_CQ_EVENTFD_DISABLED) while any program thread is
 * inside; the last one to leave switches it back on and then drains what
 * arrived meanwhile, so no CQE is stranded.  The kernel orders its CQ tail
 * store and its read of the flag with a full barrier (wq_has_sleeper() in
 * io_cqring_wake()), as we do ours, so one of the two sees the other.
 *
 * Lock order: sq_lock, then cq_lock, then a context's lock.
 */
#ifndef UAIO_URING_H
#define UAIO_URING_H

#include <liburing.h>

#include "emu.h"
#include "kaio.h"

#define UR_MAX_RINGS 8
#define UR_SQ_ENTRIES 256  /* a few io_submit batches (emu hands over 64) */
#define UR_CQ_ENTRIES 8192 /* more waits in the kernel (IORING_FEAT_NODROP) */

/*
 * user_data.  A request: its context's number (23 bits), its generation
 * (16) and its index (24), and bit 0 clear.  Bit 0 set: one of ours, its
 * kind in bits 1-2 and, for an awaited cancel, the context's number.
 */
#define UD_OURS 1ull
#define UD_CANCEL_AWAIT (UD_OURS | 1ull << 1)  /* io_cancel waits for it */
#define UD_CANCEL_IGNORE (UD_OURS | 2ull << 1) /* destroy, thread exit */
#define UD_WAKE (UD_OURS | 3ull << 1)	       /* a waiter must look */
#define UD_KIND_MASK 7ull
#define UD_CTX_SHIFT 41
#define UD_GEN_SHIFT 25
#define UD_MAX_INDEX (1u << 24)
#define UD_MAX_CTX (1u << 23)

/* An awaited cancel names its target: kind, index (24 bits from bit 3),
 * generation (14 bits from 27), context. */
static inline uint64_t ud_cancel(unsigned ctx, unsigned index, unsigned gen)
{
	return (uint64_t)ctx << UD_CTX_SHIFT | (uint64_t)(gen & 0x3fff) << 27 |
	       (uint64_t)index << 3 | UD_CANCEL_AWAIT;
}

static inline uint64_t ud_req(unsigned ctx, unsigned index, unsigned gen)
{
	return (uint64_t)ctx << UD_CTX_SHIFT |
	       (uint64_t)(gen & 0xffff) << UD_GEN_SHIFT | (uint64_t)index << 1;
}

static inline unsigned ud_ctx(uint64_t ud)
{
	return (unsigned)(ud >> UD_CTX_SHIFT);
}

static inline unsigned ud_index(uint64_t ud)
{
	return (unsigned)(ud >> 1) & (UD_MAX_INDEX - 1);
}

static inline unsigned ud_gen(uint64_t ud)
{
	return (unsigned)(ud >> UD_GEN_SHIFT) & 0xffff;
}

struct uctx;

struct shring {
	struct shring *forsaken; /* the next of a forked parent's (a child) */
	struct io_uring ring;
	pthread_mutex_t sq_lock; /* SQEs and io_uring_submit() */
	pthread_mutex_t cq_lock; /* the CQ head: one consumer at a time */
	int evfd;		 /* registered: wakes the completion thread */
	_Atomic unsigned inside; /* program threads inside a call */
	_Atomic unsigned calls;	 /* calls entered, for the completion thread */
	_Atomic long busy;	 /* requests in the kernel or to resubmit */
	_Atomic bool wake_later; /* a wake-up asked for while draining */
	/*
	 * The program waits in io_getevents and uses no RESFD eventfd: it
	 * comes back for its events, so the eventfd stays off between calls
	 * and the completion thread only drains when no call has come for a
	 * tick.  That spares a thread hop per completion batch.
	 */
	_Atomic bool reaper;
	_Atomic bool resfd_seen; /* never reaper mode again */
	pthread_mutex_t thread_lock;
	_Atomic bool started; /* the completion thread, started when needed */
	_Atomic bool idle;    /* it sleeps until its eventfd is written */
	pthread_t thread;
	pthread_mutex_t resub_lock;
	struct emu_req *resub; /* requests to submit again, by the thread */
	/*
	 * auto's contexts send O_DIRECT to kernel AIO: its completions'
	 * eventfd is watched by the waiters' sleeps (ur_wait()) and, out of
	 * reaper mode, by the completion thread's.  Not by a poll in the
	 * io_uring: io_uring runs a poll's wake-ups as task_work of the
	 * thread that armed it, which interrupts that thread's sleeps
	 * (EINTR from epoll_wait()) and costs a thread hop per completion.
	 */
	pthread_mutex_t kaio_lock;
	int kaio_state; /* 0 untried, 1 ready, -errno refused */
	struct kaio kaio;
	/* Threads asleep in io_uring_enter, which kernel AIO's completions
	 * do not end (route_direct() wakes them). */
	_Atomic unsigned uring_sleepers;
	/* Waiters that may sleep in io_pgetevents on it (ur_wait()): what
	 * io_uring gets to do meanwhile must wake them (kaio_kick()), and
	 * kick_gen counts those wake-ups. */
	_Atomic unsigned kaio_sleepers;
	_Atomic unsigned kick_gen;
	/* Requests on io_uring itself (busy less those on kernel AIO). */
	_Atomic long uring_work;
	unsigned bit; /* 1 << its index among the process's rings */
};

/* A ring for a new context; NULL with -errno (io_uring_setup's). */
struct shring *ur_ring_get(int *err);
int ur_probe(char *why, size_t len);
/* io_uring_setup's error, in words, for uaio_fallback_reason. */
void ur_explain(int err, char *why, size_t len);

/* A program thread enters and leaves a call on a context of sr. */
void ur_enter(struct shring *sr);
void ur_leave(struct shring *sr);

/* CQEs waiting; the head is stored under cq_lock, read here without. */
static inline bool ur_cq_pending(struct shring *sr)
{
	return __atomic_load_n(sr->ring.cq.ktail, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(sr->ring.cq.khead, __ATOMIC_ACQUIRE);
}

/* auto: whether kernel AIO requests are in flight on the ring's context. */
static inline bool ur_kaio_busy(struct shring *sr)
{
	return __atomic_load_n(&sr->kaio_state, __ATOMIC_ACQUIRE) == 1 &&
	       atomic_load_explicit(&sr->kaio.inflight, memory_order_acquire);
}

/* Under sq_lock: an SQE, flushing the queue to make room. */
struct io_uring_sqe *ur_sqe(struct shring *sr);
/* Under sq_lock: hand every queued SQE to the kernel. */
void ur_flush(struct shring *sr);
/* Whether this thread is inside ur_flush(), under sq_lock. */
bool ur_flushing(void);
/* Cancel ops for the given user_data, their CQEs tagged tag. */
void ur_cancel(struct shring *sr, const uint64_t *uds, unsigned n,
	       uint64_t tag);

/*
 * Sleep until a CQE comes (or left passes, or a signal: -EINTR), with mask
 * applied atomically.  A wait-up that no CQE brings (an event published
 * by io_submit, io_destroy) comes as a UD_WAKE from ur_wake().
 */
int ur_wait(struct shring *sr, const struct timespec *left,
	    const sigset_t *mask);
void ur_wake(struct shring *sr);
/* Sleep at most ms until a CQE comes, for loops that look again. */
void ur_wait_cq(struct shring *sr, int ms);
/* Make sure the completion thread runs, and wake it. */
void ur_kick(struct shring *sr);

/* Around a drain, with cq_lock held: ur_wake() then waits for the end. */
void ur_draining(struct shring *sr, bool on);

/* engine-uring.c, for the ring's completion thread and for ur_flush(). */
void uring__drain(struct shring *sr, bool try);
void uring__resubmit(struct shring *sr);
void uring__fail(struct shring *sr, uint64_t ud, int err);

#endif
