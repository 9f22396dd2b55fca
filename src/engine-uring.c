/*
 * engine-uring.c - io_uring underneath the kernel-layout ring.
 *
 * Each context owns an io_uring.  io_submit validates and copies the iocbs
 * (emu.c) and queues one SQE per request, all handed to the kernel by one
 * io_uring_enter per batch under a per-context SQ lock.  A CQE becomes an
 * event in the aio ring through emu_complete().
 *
 * Who moves CQEs to the aio ring: the program's own threads while they are
 * inside a call on the context (io_submit after queueing, io_getevents,
 * which waits in ppoll() on the ring fd, io_cancel), so the common
 * submit-then-wait loop never pays a thread hop; and a completion thread,
 * woken by an eventfd registered with the ring, for the programs that never
 * call io_getevents (QEMU waits on the RESFD eventfd and reads the ring,
 * fio's userspace_reap reads it directly).  The eventfd is switched off
 * (IORING_CQ_EVENTFD_DISABLED) while any program thread is inside; the last
 * one to leave switches it back on and then drains what arrived meanwhile,
 * so no CQE is stranded.  The kernel orders its CQ tail store and its read
 * of the flag with a full barrier (wq_has_sleeper() in io_cqring_wake()),
 * as we do ours, so one of the two always sees the other.
 *
 * Requests belong to the task that submitted them: when a thread exits,
 * io_uring fails its requests that still need it (a poll-driven pipe read
 * gets -ECANCELED, a buffered read waiting for the page cache -EFAULT),
 * where the kernel's AIO would complete them.  So a thread that submitted
 * on a uring context hands its requests over on the way out (a TLS
 * destructor): it cancels them, and those it could cancel are resubmitted
 * by the completion thread, which lives as long as the context; it waits
 * for the others (disk I/O in flight) to complete.
 *
 * Every request has a slot (same index as its emu_req) recording its iocb
 * while the kernel has it, under u->lock; user_data is the index and a
 * generation, so a cancel can never hit a request that reused the slot.
 * Lock order: sq_lock, then cq_lock, then lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "emu.h"

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x01
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif

/* user_data: a request is (gen << 32 | index << 1); odd values are ours. */
#define UD_CANCEL 1ull /* io_cancel's cancel op: its result is awaited */
#define UD_IGNORE 3ull /* cancels from io_destroy and thread exit */

#define SQ_ENTRIES 128 /* one io_submit batch (emu_submit hands over 64) */
#define DRAIN_BATCH 64
#define CANCEL_PENDING 1 /* cancel_res until the cancel op's CQE */

enum {
	SLOT_CANCELLED = 1, /* io_cancel asked: a cancelled POLL reports 0 */
	SLOT_HANDOVER = 2,  /* its thread is exiting: resubmit if cancelled */
};

struct uslot {
	struct iocb *obj; /* while the request is live, else NULL */
	uint32_t gen;
	uint32_t owner; /* the submitting thread's token, 0 for ours */
	uint32_t flags;
};

struct uctx {
	struct emu_ctx e; /* first: the start callback gets &e */
	struct io_uring ring;
	unsigned long handle;
	pthread_mutex_t sq_lock; /* SQEs and io_uring_submit() */
	pthread_mutex_t cq_lock; /* the CQ head: one consumer at a time */
	pthread_mutex_t lock;	 /* slots, resub, cancel_res */
	struct uslot *slots;	 /* e.ring.nr, parallel to e.reqs */
	struct emu_req *resub;	 /* for the completion thread to resubmit */
	_Atomic unsigned inside; /* program threads inside a call */
	_Atomic unsigned calls;	 /* calls entered, for the completion thread */
	/*
	 * The program waits in io_getevents and uses no RESFD eventfd: it
	 * comes back for its events, so the eventfd stays off between calls
	 * and the completion thread only drains the CQ when no call has come
	 * for a tick.  That spares a thread hop per completion batch.
	 */
	_Atomic bool reaper;
	/* A RESFD request was submitted: never reaper mode again. */
	_Atomic bool resfd_seen;
	_Atomic int cancel_res;
	pthread_mutex_t cancel_lock; /* one io_cancel at a time */
	int evfd; /* registered: wakes the completion thread */
	pthread_mutex_t thread_lock;
	_Atomic bool started; /* the completion thread, started when needed */
	_Atomic bool idle;    /* it sleeps until its eventfd is written */
	_Atomic bool stop;
	pthread_t thread;
};

static void drain(struct uctx *u, bool try);
static void ensure_thread(struct uctx *u);

static inline uint64_t ud_of(unsigned idx, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint64_t)idx << 1;
}

static inline unsigned idx_of(const struct uctx *u, const struct emu_req *r)
{
	return (unsigned)(r - u->e.reqs);
}

/* CQEs waiting; khead is stored under cq_lock, read here without it. */
static inline bool cq_pending(struct uctx *u)
{
	return __atomic_load_n(u->ring.cq.ktail, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(u->ring.cq.khead, __ATOMIC_ACQUIRE);
}

static void evfd_enable(struct uctx *u, bool on)
{
	/* Atomic RMWs (the kernel only reads the word): with two threads
	 * racing, the last leaver's "on" is ordered after every "off". */
	if (on)
		__atomic_fetch_and(u->ring.cq.kflags,
				   ~(unsigned)IORING_CQ_EVENTFD_DISABLED,
				   __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or(u->ring.cq.kflags, IORING_CQ_EVENTFD_DISABLED,
				  __ATOMIC_SEQ_CST);
}

static inline void enter(struct uctx *u)
{
	atomic_fetch_add_explicit(&u->calls, 1, memory_order_relaxed);
	if (atomic_fetch_add_explicit(&u->inside, 1, memory_order_acq_rel) == 0)
		evfd_enable(u, false);
}

static void kick_thread(struct uctx *u);

static inline void leave(struct uctx *u)
{
	if (atomic_fetch_sub_explicit(&u->inside, 1, memory_order_acq_rel) ==
	    1) {
		/* The seq_cst RMW orders the flag before reading the tail. */
		if (!atomic_load_explicit(&u->reaper, memory_order_relaxed))
			evfd_enable(u, true);
		if (cq_pending(u))
			drain(u, false);
		/* Someone must publish what completes while nobody is in:
		 * the completion thread, woken if it sleeps without a tick
		 * (in reaper mode no eventfd signal would wake it). */
		if (ring_in_flight(&u->e.ring)) {
			ensure_thread(u);
			if (atomic_load(&u->idle))
				kick_thread(u);
		}
	}
}

static void kick_thread(struct uctx *u)
{
	uint64_t one = 1;
	ssize_t r = write(u->evfd, &one, sizeof(one));
	(void)r; /* only fails at a count of 2^64-2: still readable */
}

static void *completion_main(void *arg);

/*
 * The completion thread starts the first time a call leaves requests in
 * flight: a context that only ever sees page-cache hits (completed and
 * published inside io_submit) never needs it.
 */
static void ensure_thread(struct uctx *u)
{
	if (likely(atomic_load_explicit(&u->started, memory_order_acquire)))
		return;
	pthread_mutex_lock(&u->thread_lock);
	if (!atomic_load_explicit(&u->started, memory_order_relaxed)) {
		int ret = uaio__spawn(&u->thread, completion_main, u);

		if (ret)
			/* Tried again by the next call that leaves. */
			uaio__debug("uring: completion thread: %s",
				    strerror(-ret));
		else
			atomic_store_explicit(&u->started, true,
					      memory_order_release);
	}
	pthread_mutex_unlock(&u->thread_lock);
}

/* ---- per-thread ownership, for the hand-over at thread exit ---- */

struct thread_state {
	unsigned token;
	unsigned n, cap;
	unsigned long last;
	unsigned long *handles; /* uring contexts this thread submitted on */
};

static __thread struct thread_state ts;
static pthread_key_t exit_key;
static bool exit_key_ok;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Atomic unsigned next_token;

static void thread_exit(void *arg);

static void exit_key_init(void)
{
	exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
	if (!exit_key_ok)
		uaio__debug("uring: no TLS key: requests of a thread that "
			    "exits may fail with ECANCELED or EFAULT");
}

/* Drop remembered handles that no longer name a uring context. */
static void forget_dead(void)
{
	unsigned k = 0;

	for (unsigned i = 0; i < ts.n; i++) {
		struct uaio_ctx *c = uaio__ctx_get(ts.handles[i]);
		bool keep = c && c->engine == &uaio__engine_uring;

		if (c)
			uaio__ctx_put(c);
		if (keep)
			ts.handles[k++] = ts.handles[i];
	}
	ts.n = k;
}

static unsigned note_thread_slow(unsigned long h)
{
	if (!ts.token) {
		unsigned t;

		pthread_once(&exit_once, exit_key_init);
		do
			t = atomic_fetch_add(&next_token, 1) + 1;
		while (!t);
		ts.token = t;
		if (exit_key_ok)
			pthread_setspecific(exit_key, (void *)1);
	}
	for (unsigned i = 0; i < ts.n; i++)
		if (ts.handles[i] == h)
			goto out;
	if (ts.n == ts.cap)
		forget_dead();
	if (ts.n == ts.cap) {
		unsigned cap = ts.cap ? ts.cap * 2 : 8;
		unsigned long *p = realloc(ts.handles, cap * sizeof(*p));

		if (!p)
			goto out; /* no hand-over for this one; rare */
		ts.handles = p;
		ts.cap = cap;
	}
	ts.handles[ts.n++] = h;
out:
	ts.last = h;
	return ts.token;
}

/* The calling thread's token, remembering that it submits on u. */
static inline unsigned note_thread(struct uctx *u)
{
	if (likely(ts.last == u->handle && ts.token))
		return ts.token;
	return note_thread_slow(u->handle);
}

/* ---- submission ---- */

static void prep_sqe(struct io_uring_sqe *sqe, const struct emu_req *req,
		     uint64_t ud)
{
	bool rw = true;

	switch (req->opcode) {
	case CMD_PREAD:
		io_uring_prep_read(sqe, req->fd, req->iov[0].iov_base,
				   (unsigned)req->iov[0].iov_len,
				   (uint64_t)req->offset);
		break;
	case CMD_PWRITE:
		io_uring_prep_write(sqe, req->fd, req->iov[0].iov_base,
				    (unsigned)req->iov[0].iov_len,
				    (uint64_t)req->offset);
		break;
	case CMD_PREADV:
		io_uring_prep_readv(sqe, req->fd, req->iov,
				    (unsigned)req->iovcnt,
				    (uint64_t)req->offset);
		break;
	case CMD_PWRITEV:
		io_uring_prep_writev(sqe, req->fd, req->iov,
				     (unsigned)req->iovcnt,
				     (uint64_t)req->offset);
		break;
	case CMD_FSYNC:
	case CMD_FDSYNC:
		io_uring_prep_fsync(
		    sqe, req->fd,
		    req->opcode == CMD_FDSYNC ? IORING_FSYNC_DATASYNC : 0);
		rw = false;
		break;
	default: /* CMD_POLL: validate.c let nothing else through */
		io_uring_prep_poll_add(
		    sqe, req->fd,
		    (unsigned short)emu_poll_ask(req->poll_events));
		rw = false;
		break;
	}
	if (rw) {
		/* aio drops HIPRI (nobody polls); io_uring would fail it
		 * with EINVAL on a ring without IOPOLL. */
		sqe->rw_flags = req->rw_flags & ~RWF_HIPRI;
		/* io_uring waits for readiness even on an O_NONBLOCK
		 * stream, where read(2) and kernel AIO say EAGAIN. */
		if ((req->fd_flags & O_NONBLOCK) && req->kind == KIND_STREAM)
			sqe->rw_flags |= RWF_NOWAIT;
		if (req->ioprio >= 0)
			sqe->ioprio = (uint16_t)req->ioprio;
	}
	sqe->user_data = ud;
}

/* Complete (or, once dead, discard) the request behind a user_data that
 * will never reach the kernel. */
static void fail_ud(struct uctx *u, uint64_t ud, int err)
{
	struct emu_req *req = NULL;

	if (ud & 1) {
		if (ud == UD_CANCEL)
			atomic_store(&u->cancel_res, err);
		return;
	}
	unsigned idx = (unsigned)(ud >> 1) & 0x7fffffffu;
	pthread_mutex_lock(&u->lock);
	if (u->slots[idx].obj && u->slots[idx].gen == (uint32_t)(ud >> 32)) {
		u->slots[idx].obj = NULL;
		req = &u->e.reqs[idx];
	}
	pthread_mutex_unlock(&u->lock);
	if (!req)
		return;
	if (atomic_load(&u->e.dead))
		emu_discard(&u->e, req);
	else
		emu_complete(&u->e, req, err);
}

/*
 * Under sq_lock, after an io_uring_enter error that will not go away:
 * take back the SQEs the kernel did not consume (we own the SQ tail) and
 * fail their requests, rather than leave them queued forever.
 */
static void sq_retract(struct uctx *u, int err)
{
	struct io_uring_sq *sq = &u->ring.sq;
	unsigned head = __atomic_load_n(sq->khead, __ATOMIC_ACQUIRE);

	uaio__debug("uring: io_uring_enter: %s", strerror(-err));
	for (unsigned i = head; i != sq->sqe_tail; i++)
		fail_ud(u, sq->sqes[i & sq->ring_mask].user_data, err);
	sq->sqe_head = sq->sqe_tail = head;
	__atomic_store_n(sq->ktail, head, __ATOMIC_RELEASE);
}

/* Under sq_lock: hand every queued SQE to the kernel. */
static void sq_flush(struct uctx *u)
{
	unsigned busy = 0;

	while (io_uring_sq_ready(&u->ring)) {
		int r = io_uring_submit(&u->ring);

		if (r >= 0 || r == -EINTR)
			continue;
		if ((r == -EAGAIN || r == -EBUSY || r == -ENOMEM) &&
		    busy++ < 1000) {
			/* Short of memory, or completions backed up: make
			 * room and try again. */
			if (cq_pending(u))
				drain(u, false);
			else
				sched_yield();
			continue;
		}
		sq_retract(u, r);
	}
}

static struct io_uring_sqe *sqe_get(struct uctx *u)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&u->ring)))
		sq_flush(u);
	return sqe;
}

/*
 * Queue reqs: fresh ones (from io_submit) get their slot, with the owner
 * given; the others (resubmissions) keep theirs.  Every read of a request
 * comes before the slot update under u->lock, which a drainer takes before
 * it frees the request: the kernel orders the CQE after the SQE, but only
 * that lock makes the order visible to ThreadSanitizer.
 */
static void queue_reqs(struct uctx *u, struct emu_req **reqs, int n, bool fresh,
		       unsigned owner)
{
	pthread_mutex_lock(&u->sq_lock);
	while (n > 0) {
		/* sq_flush() leaves the SQ empty: no SQE goes to the kernel
		 * before its slot says what it is. */
		int k = (int)io_uring_sq_space_left(&u->ring);

		if (k > n)
			k = n;
		for (int i = 0; i < k; i++) {
			unsigned idx = idx_of(u, reqs[i]);
			uint32_t gen = u->slots[idx].gen + (fresh ? 1 : 0);

			prep_sqe(io_uring_get_sqe(&u->ring), reqs[i],
				 ud_of(idx, gen));
		}
		pthread_mutex_lock(&u->lock);
		for (int i = 0; i < k && fresh; i++) {
			struct uslot *s = &u->slots[idx_of(u, reqs[i])];

			s->gen++;
			s->obj = reqs[i]->obj;
			s->owner = owner;
			s->flags = 0;
		}
		pthread_mutex_unlock(&u->lock);
		sq_flush(u);
		reqs += k;
		n -= k;
	}
	pthread_mutex_unlock(&u->sq_lock);
}

static void uring_start(struct emu_ctx *e, struct emu_req **reqs, int n)
{
	struct uctx *u = (struct uctx *)e;
	struct emu_req *go[64];
	unsigned me = note_thread(u);
	int k = 0;

	for (int i = 0; i < n; i++) {
		long res;

		/* Its eventfd must be signalled promptly: no reaper mode. */
		if (reqs[i]->resfd >= 0 &&
		    !atomic_load_explicit(&u->resfd_seen,
					  memory_order_relaxed)) {
			atomic_store(&u->resfd_seen, true);
			atomic_store(&u->reaper, false);
			/* Off while we are inside; leave() turns it on. */
		}
		if ((reqs[i]->fd_flags & O_NONBLOCK) &&
		    reqs[i]->opcode != CMD_POLL)
			(void)emu_kind(reqs[i]); /* for prep_sqe() */
		/* Ready at submit: the kernel's mask, without a round trip. */
		if (reqs[i]->opcode == CMD_POLL &&
		    emu_poll_now(reqs[i], &res)) {
			emu_complete(e, reqs[i], res);
			continue;
		}
		go[k++] = reqs[i];
	}
	if (k)
		queue_reqs(u, go, k, true, me);
}

/* Cancel ops for the given user_data, their CQEs tagged tag. */
static void submit_cancels(struct uctx *u, const uint64_t *uds, unsigned n,
			   uint64_t tag)
{
	pthread_mutex_lock(&u->sq_lock);
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = sqe_get(u);

		io_uring_prep_cancel64(sqe, uds[i], 0);
		sqe->user_data = tag;
	}
	sq_flush(u);
	pthread_mutex_unlock(&u->sq_lock);
}

/*
 * Whether the live request in slot i may wait for ever: a POLL, or I/O on
 * a stream (kernel AIO would have blocked in io_submit instead).  I/O on a
 * file or block device always ends, and io_destroy must not cancel it: a
 * buffered write queued in io_uring's workers would be lost.  The kind is
 * looked up only now, on the caller's descriptor: if that was closed or
 * reused since (its flags changed), the request is taken for a stream.
 */
static bool may_wait_forever(struct uctx *u, unsigned i)
{
	struct emu_req *req = &u->e.reqs[i];

	if (req->opcode == CMD_POLL)
		return true;
	if (req->kind == KIND_UNKNOWN &&
	    fcntl(req->fd, F_GETFL) != req->fd_flags)
		return true;
	return emu_kind(req) != KIND_FILE;
}

/* io_destroy: cancel the live requests that may wait for ever; results
 * are not awaited. */
static void cancel_waiting(struct uctx *u)
{
	uint64_t uds[64];
	unsigned i = 0;

	while (i < u->e.ring.nr) {
		unsigned n = 0;

		pthread_mutex_lock(&u->lock);
		for (; i < u->e.ring.nr && n < 64; i++)
			if (u->slots[i].obj && may_wait_forever(u, i))
				uds[n++] = ud_of(i, u->slots[i].gen);
		pthread_mutex_unlock(&u->lock);
		if (n)
			submit_cancels(u, uds, n, UD_IGNORE);
	}
}

/* ---- completion ---- */

/* Whether a CQE means "submit again" rather than "done"; under u->lock. */
static bool wants_resubmit(struct emu_req *req, struct uslot *s, int res)
{
	if (s->flags & SLOT_CANCELLED)
		return false;
	if (res == -ECANCELED && (s->flags & SLOT_HANDOVER))
		return true;
	if (res == -ESPIPE && req->opcode != CMD_POLL &&
	    req->opcode != CMD_FSYNC && req->opcode != CMD_FDSYNC)
		/* Not seekable: kernel AIO ignores the offset there. */
		return emu_stream_offset(req);
	return false;
}

static long event_res(const struct emu_req *req, const struct uslot *s, int res)
{
	if (req->opcode != CMD_POLL)
		return res;
	if (res == -ECANCELED && (s->flags & SLOT_CANCELLED))
		return 0; /* aio_poll_cancel() reports no events */
	if (res > 0)
		/* io_uring adds POLLRDHUP and friends; aio does not. */
		res &= emu_poll_ask(req->poll_events) | POLLERR | POLLHUP;
	return res;
}

/*
 * Move what the CQ holds to the aio ring.  With try, leave it to whoever
 * holds cq_lock: a thread inside a call drains again, or the last one to
 * leave does.
 */
static void drain(struct uctx *u, bool try)
{
	struct io_uring_cqe *cqes[DRAIN_BATCH];
	struct emu_req *done[DRAIN_BATCH];
	long res[DRAIN_BATCH];
	bool kick = false, wake = false;
	unsigned n;

	if (!try)
		pthread_mutex_lock(&u->cq_lock);
	else if (pthread_mutex_trylock(&u->cq_lock))
		return;
	while ((n = io_uring_peek_batch_cqe(&u->ring, cqes, DRAIN_BATCH))) {
		bool dead = atomic_load(&u->e.dead);
		unsigned nd = 0;

		pthread_mutex_lock(&u->lock);
		for (unsigned i = 0; i < n; i++) {
			uint64_t ud = cqes[i]->user_data;
			int r = cqes[i]->res;

			if (ud & 1) {
				if (ud == UD_CANCEL) {
					atomic_store(&u->cancel_res, r);
					wake = true;
				}
				continue;
			}
			unsigned idx = (unsigned)(ud >> 1) & 0x7fffffffu;
			struct uslot *s = &u->slots[idx];
			struct emu_req *req = &u->e.reqs[idx];

			if (!s->obj || s->gen != (uint32_t)(ud >> 32))
				continue; /* cannot happen: one CQE each */
			if (!dead && wants_resubmit(req, s, r)) {
				s->owner = 0;
				s->flags &= ~(uint32_t)SLOT_HANDOVER;
				req->next = u->resub;
				u->resub = req;
				kick = true;
				continue;
			}
			res[nd] = event_res(req, s, r);
			done[nd++] = req;
			s->obj = NULL;
		}
		pthread_mutex_unlock(&u->lock);
		io_uring_cq_advance(&u->ring, n);
		for (unsigned i = 0; i < nd; i++) {
			if (dead)
				emu_discard(&u->e, done[i]);
			else
				emu_complete(&u->e, done[i], res[i]);
		}
	}
	pthread_mutex_unlock(&u->cq_lock);
	if (kick) {
		ensure_thread(u);
		kick_thread(u);
	}
	if (wake)
		emu_wake(&u->e);
}

static void resubmit(struct uctx *u)
{
	struct emu_req *list, *go[64];
	bool dead;
	int n = 0;

	pthread_mutex_lock(&u->lock);
	list = u->resub;
	u->resub = NULL;
	dead = atomic_load(&u->e.dead);
	if (dead)
		for (struct emu_req *r = list; r; r = r->next)
			u->slots[idx_of(u, r)].obj = NULL;
	pthread_mutex_unlock(&u->lock);
	while (list) {
		struct emu_req *req = list;

		list = req->next;
		if (dead) {
			emu_discard(&u->e, req);
			continue;
		}
		go[n++] = req;
		if (n == 64 || !list) {
			queue_reqs(u, go, n, false, 0);
			n = 0;
		}
	}
	if (n)
		queue_reqs(u, go, n, false, 0);
}

static void *completion_main(void *arg)
{
	struct uctx *u = arg;

	unsigned seen = 0;

	for (;;) {
		struct pollfd p = {.fd = u->evfd, .events = POLLIN};
		bool reaper =
		    atomic_load_explicit(&u->reaper, memory_order_relaxed);
		bool busy = ring_in_flight(&u->e.ring);
		/*
		 * Reaper mode: a 10 ms tick, draining only when no call came
		 * during a whole tick (the program stalled or stopped calling).
		 * Otherwise the eventfd wakes us, with a long timeout while
		 * requests are in flight in case a signal were ever missed.
		 */
		int timeout = reaper ? 10 : 1000;

		if (!busy) {
			/* Idle before looking again: a call that leaves
			 * requests in flight then sees the flag and kicks. */
			atomic_store(&u->idle, true);
			if (!ring_in_flight(&u->e.ring))
				timeout = -1;
		}
		int pr = poll(&p, 1, timeout);
		atomic_store(&u->idle, false);

		if (pr > 0) {
			uint64_t v;
			ssize_t r = read(u->evfd, &v, sizeof(v));
			(void)r;
		}
		if (atomic_load(&u->stop))
			break;
		unsigned calls =
		    atomic_load_explicit(&u->calls, memory_order_relaxed);
		if (pr == 0 && reaper && calls != seen) {
			seen = calls;
			resubmit(u);
			continue;
		}
		seen = calls;
		drain(u, false);
		resubmit(u);
	}
	return NULL;
}

/* ---- waiting ---- */

/*
 * Sleep until the CQ has entries, another thread published events or
 * killed the context (the emu wakefd), the timeout passes or a signal
 * comes (-EINTR).  The waiters count and the fences pair with emu_wake().
 */
static int wait_events(struct uctx *u, const struct timespec *left,
		       const sigset_t *mask)
{
	struct emu_ctx *e = &u->e;
	struct pollfd p[2] = {
	    {.fd = u->ring.ring_fd, .events = POLLIN},
	    {.fd = e->wakefd, .events = POLLIN},
	};
	int pr, err;

	atomic_fetch_add_explicit(&e->waiters, 1, memory_order_seq_cst);
	if (!ring_empty(&e->ring) || cq_pending(u) ||
	    atomic_load_explicit(&e->dead, memory_order_seq_cst)) {
		atomic_fetch_sub(&e->waiters, 1);
		return 0;
	}
	pr = ppoll(p, 2, left, mask);
	err = errno;
	if (pr > 0 && p[1].revents) {
		uint64_t v;
		ssize_t r = read(e->wakefd, &v, sizeof(v));
		(void)r;
		/* As in emu_getevents: re-arm emu_wake() before reaping. */
		atomic_store_explicit(&e->wake_pending, false,
				      memory_order_seq_cst);
	}
	atomic_fetch_sub(&e->waiters, 1);
	if (atomic_load_explicit(&e->dead, memory_order_seq_cst))
		emu_kill(e); /* keep the wakefd readable for the others */
	return pr < 0 && err == EINTR ? -EINTR : 0;
}

/* A short sleep on the CQ alone, for loops that re-check on their own. */
static void wait_cq(struct uctx *u, int ms)
{
	struct pollfd p = {.fd = u->ring.ring_fd, .events = POLLIN};

	if (!cq_pending(u))
		poll(&p, 1, ms);
}

/* ---- thread exit ---- */

/* Make u independent of the exiting thread `me` (see the top comment). */
static void handover(struct uctx *u, unsigned me)
{
	enter(u);
	for (;;) {
		uint64_t uds[64];
		unsigned n = 0, live = 0;

		pthread_mutex_lock(&u->lock);
		for (unsigned i = 0; i < u->e.ring.nr; i++) {
			struct uslot *s = &u->slots[i];

			if (!s->obj || s->owner != me)
				continue;
			live++;
			if (!(s->flags & SLOT_HANDOVER) && n < 64) {
				s->flags |= SLOT_HANDOVER;
				uds[n++] = ud_of(i, s->gen);
			}
		}
		pthread_mutex_unlock(&u->lock);
		if (!live)
			break;
		if (n)
			submit_cancels(u, uds, n, UD_IGNORE);
		drain(u, false);
		if (!n)
			wait_cq(u, 10);
	}
	leave(u);
}

static void thread_exit(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < ts.n; i++) {
		struct uaio_ctx *c = uaio__ctx_get(ts.handles[i]);

		if (!c)
			continue;
		if (c->engine == &uaio__engine_uring)
			handover(c->priv, ts.token);
		uaio__ctx_put(c);
	}
	free(ts.handles);
	ts.handles = NULL;
	ts.n = ts.cap = 0;
	ts.last = 0;
}

/* ---- setup and probe ---- */

/*
 * liburing maps and unmaps rings with raw system calls, unseen by
 * ThreadSanitizer, so a new ring's SQEs at the address of a destroyed
 * one's would look like a race with the old writes.  Bumped (release)
 * before a ring is unmapped and read (acquire) once one is mapped, this
 * makes the real order visible.
 */
static _Atomic unsigned long ring_epoch;

static unsigned pow2_at_least(unsigned n)
{
	unsigned p = 1;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

/*
 * An io_uring whose CQ holds every request the aio ring allows in flight
 * (nr - 1) plus as many cancel completions, so it never overflows; the SQ
 * only stages one batch.  -errno as io_uring_setup gave it.
 */
static int ring_open(struct io_uring *ring, unsigned nr)
{
	struct io_uring_params p;
	unsigned flags =
	    IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
	int ret;

	for (;;) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		p.cq_entries = 2 * pow2_at_least(nr);
		ret = io_uring_queue_init_params(
		    nr < SQ_ENTRIES ? pow2_at_least(nr) : SQ_ENTRIES, ring, &p);
		/* SUBMIT_ALL came in 5.18: without it a failed SQE stops
		 * the batch, and sq_flush() submits the rest. */
		if (ret == -EINVAL && (flags & IORING_SETUP_SUBMIT_ALL)) {
			flags &= ~(unsigned)IORING_SETUP_SUBMIT_ALL;
			continue;
		}
		break;
	}
	if (ret < 0)
		return ret;
	(void)atomic_load_explicit(&ring_epoch, memory_order_acquire);
	/*
	 * NODROP (5.5): an overflowing CQ keeps its CQEs.  cq.kflags (5.8):
	 * the eventfd switch.  FAST_POLL (5.7): a read of an empty pipe
	 * waits on a poll, not in a blocked worker.
	 */
	if (!(p.features & IORING_FEAT_NODROP) ||
	    !(p.features & IORING_FEAT_FAST_POLL) || !ring->cq.kflags) {
		io_uring_queue_exit(ring);
		return -ENOSYS;
	}
	return 0;
}

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void explain(int err, char *why, size_t len)
{
	long disabled = read_sysctl("/proc/sys/kernel/io_uring_disabled");

	if (!why || !len)
		return;
	if (err == -EPERM && disabled == 2)
		snprintf(why, len,
			 "io_uring_setup: %s: kernel.io_uring_disabled=2 "
			 "(io_uring is off for every process)",
			 strerror(-err));
	else if (err == -EPERM && disabled == 1)
		snprintf(why, len,
			 "io_uring_setup: %s: kernel.io_uring_disabled=1 and "
			 "the process is neither in kernel.io_uring_group "
			 "(gid %ld) nor CAP_SYS_ADMIN",
			 strerror(-err),
			 read_sysctl("/proc/sys/kernel/io_uring_group"));
	else if (err == -EPERM)
		snprintf(why, len,
			 "io_uring_setup: %s: blocked by a seccomp filter "
			 "(Docker's and containerd's default profiles deny "
			 "io_uring)",
			 strerror(-err));
	else if (err == -ENOSYS)
		snprintf(why, len,
			 "io_uring_setup: %s: no io_uring in this kernel, too "
			 "old a one (uaio needs 5.8), or a seccomp filter",
			 strerror(-err));
	else
		snprintf(why, len, "io_uring_setup: %s", strerror(-err));
}

static int uring_probe(char *why, size_t len)
{
	struct io_uring ring;
	int ret = ring_open(&ring, 4);

	if (ret < 0) {
		explain(ret, why, len);
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

static int uring_setup(struct uaio_ctx *c, unsigned nr_events)
{
	struct uctx *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = emu_init(&u->e, c, nr_events);
	if (ret)
		goto fail_free;
	u->slots = calloc(u->e.ring.nr, sizeof(*u->slots));
	if (!u->slots) {
		ret = -ENOMEM;
		goto fail_emu;
	}
	ret = ring_open(&u->ring, u->e.ring.nr);
	if (ret < 0) {
		char why[UAIO_REASON_MAX];
		explain(ret, why, sizeof(why));
		uaio__debug("uring: %s", why);
		goto fail_slots;
	}
	/* A forked child gets no mapping of the SQ and CQ: it cannot
	 * disturb the parent's ring (ctxtab.c makes the handles invalid). */
	ret = io_uring_ring_dontfork(&u->ring);
	if (ret < 0)
		goto fail_ring;
	u->evfd = eventfd(0, EFD_CLOEXEC);
	if (u->evfd < 0) {
		ret = -errno;
		goto fail_ring;
	}
	ret = io_uring_register_eventfd(&u->ring, u->evfd);
	if (ret < 0)
		goto fail_evfd;
	pthread_mutex_init(&u->sq_lock, NULL);
	pthread_mutex_init(&u->cq_lock, NULL);
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->cancel_lock, NULL);
	pthread_mutex_init(&u->thread_lock, NULL);
	atomic_init(&u->inside, 0);
	atomic_init(&u->cancel_res, 0);
	atomic_init(&u->started, false);
	atomic_init(&u->stop, false);
	u->handle = (unsigned long)u->e.ring.user;
	c->priv = u;
	atomic_store(&c->handle, u->handle);
	return 0;

fail_evfd:
	close(u->evfd);
fail_ring:
	io_uring_queue_exit(&u->ring);
fail_slots:
	free(u->slots);
fail_emu:
	emu_fini(&u->e);
fail_free:
	free(u);
	return ret;
}

/* ---- the methods ---- */

static int uring_submit(struct uaio_ctx *c, long nr, struct iocb **iocbpp)
{
	struct uctx *u = c->priv;
	int ret;

	enter(u);
	ret = emu_submit(&u->e, nr, iocbpp, emu_write_inline, uring_start);
	/* Page-cache reads completed inside io_uring_enter: publish them
	 * now, as kernel AIO has them in the ring when io_submit returns. */
	if (cq_pending(u))
		drain(u, true);
	leave(u);
	return ret;
}

static int uring_getevents(struct uaio_ctx *c, long min_nr, long nr,
			   struct io_event *events,
			   const struct timespec *timeout, const sigset_t *mask)
{
	struct uctx *u = c->priv;
	struct emu_ctx *e = &u->e;
	struct timespec deadline, left;
	bool forever = emu_deadline(timeout, &deadline);
	long got = 0;
	int ret;

	if (min_nr > 0 &&
	    !atomic_load_explicit(&u->reaper, memory_order_relaxed) &&
	    !atomic_load_explicit(&u->resfd_seen, memory_order_relaxed))
		atomic_store_explicit(&u->reaper, true, memory_order_relaxed);
	enter(u);
	for (;;) {
		if (cq_pending(u))
			drain(u, false);
		ret = ring_reap(&e->ring, events + got, nr - got);
		if (ret < 0) {
			ret = got ? (int)got : ret;
			goto out;
		}
		got += ret;
		if (got >= min_nr || got >= nr)
			break;
		if (atomic_load_explicit(&e->dead, memory_order_acquire)) {
			ret = got ? (int)got : -EINVAL;
			goto out;
		}
		if (!forever && !emu_time_left(&deadline, &left))
			break;
		if (wait_events(u, forever ? NULL : &left, mask) == -EINTR) {
			if (cq_pending(u))
				drain(u, false);
			ret = ring_reap(&e->ring, events + got, nr - got);
			if (ret > 0)
				got += ret;
			ret = got ? (int)got : -EINTR;
			goto out;
		}
	}
	/* Pass the baton: others may wait for what we left in the ring. */
	if (!ring_empty(&e->ring))
		emu_wake(e);
	ret = (int)got;
out:
	leave(u);
	return ret;
}

/* The result of a cancel op for ud: 0, -ENOENT or -EALREADY. */
static int cancel_one(struct uctx *u, uint64_t ud)
{
	int res;

	pthread_mutex_lock(&u->cancel_lock);
	atomic_store(&u->cancel_res, CANCEL_PENDING);
	submit_cancels(u, &ud, 1, UD_CANCEL);
	/* The cancel op completes inside io_uring_enter; whoever drains
	 * its CQE stores the result. */
	for (;;) {
		drain(u, false);
		res = atomic_load(&u->cancel_res);
		if (res != CANCEL_PENDING)
			break;
		wait_cq(u, 1);
	}
	pthread_mutex_unlock(&u->cancel_lock);
	return res;
}

static int uring_cancel(struct uaio_ctx *c, struct iocb *iocb,
			struct io_event *result)
{
	struct uctx *u = c->priv;
	unsigned idx = 0;
	uint32_t gen = 0;
	bool found = false;
	int res;

	(void)result; /* the kernel never writes it either */
	enter(u);
	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < u->e.ring.nr; i++) {
		struct uslot *s = &u->slots[i];

		if (s->obj == iocb && !(s->flags & SLOT_CANCELLED)) {
			/* Before the cancel op: its CQE may be drained
			 * before we return, and must read as cancelled. */
			s->flags |= SLOT_CANCELLED;
			idx = i;
			gen = s->gen;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&u->lock);
	if (!found) {
		leave(u);
		return -EINVAL;
	}
	res = cancel_one(u, ud_of(idx, gen));
	if (res != 0) {
		/*
		 * Not found (done, or in the block layer) or running in a
		 * worker (-EALREADY): like the kernel for file I/O, not
		 * cancellable; it completes with its own result.
		 */
		pthread_mutex_lock(&u->lock);
		if (u->slots[idx].obj && u->slots[idx].gen == gen)
			u->slots[idx].flags &= ~(uint32_t)SLOT_CANCELLED;
		pthread_mutex_unlock(&u->lock);
	}
	leave(u);
	return res == 0 ? -EINPROGRESS : -EINVAL;
}

static void uring_kill(struct uaio_ctx *c)
{
	struct uctx *u = c->priv;

	emu_kill(&u->e); /* waiters wake and return -EINVAL */
	cancel_waiting(u);
}

static void uring_destroy(struct uaio_ctx *c)
{
	struct uctx *u = c->priv;
	struct emu_req *list;

	/*
	 * No caller is inside.  Stop the completion thread first: from
	 * here on this thread alone drains, resubmits nothing, and the
	 * requests the thread resubmitted are cancelled below like the
	 * others (its exit fails those that still needed it: discarded).
	 */
	if (atomic_load(&u->started)) {
		atomic_store(&u->stop, true);
		kick_thread(u);
		pthread_join(u->thread, NULL);
	}
	pthread_mutex_lock(&u->lock);
	list = u->resub;
	u->resub = NULL;
	for (struct emu_req *r = list; r; r = r->next)
		u->slots[idx_of(u, r)].obj = NULL;
	pthread_mutex_unlock(&u->lock);
	while (list) {
		struct emu_req *r = list;
		list = r->next;
		emu_discard(&u->e, r);
	}
	/* Requests queued by io_submit calls that raced with kill. */
	cancel_waiting(u);
	for (;;) {
		drain(u, false);
		if (!ring_in_flight(&u->e.ring))
			break;
		/* File I/O completes; block until it has, as the kernel
		 * does, cancelling what came to wait meanwhile. */
		wait_cq(u, 100);
		if (!cq_pending(u))
			cancel_waiting(u);
	}
	/* Every SQE write (under sq_lock) before the epoch, then unmap. */
	pthread_mutex_lock(&u->sq_lock);
	pthread_mutex_unlock(&u->sq_lock);
	atomic_fetch_add_explicit(&ring_epoch, 1, memory_order_release);
	io_uring_queue_exit(&u->ring);
	close(u->evfd);
	pthread_mutex_destroy(&u->sq_lock);
	pthread_mutex_destroy(&u->cq_lock);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->cancel_lock);
	pthread_mutex_destroy(&u->thread_lock);
	free(u->slots);
	emu_fini(&u->e);
	free(u);
	c->priv = NULL;
}

const struct uaio_engine uaio__engine_uring = {
    .name = "uring",
    .probe = uring_probe,
    .setup = uring_setup,
    .submit = uring_submit,
    .getevents = uring_getevents,
    .cancel = uring_cancel,
    .kill = uring_kill,
    .destroy = uring_destroy,
};
