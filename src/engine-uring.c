/*
 * engine-uring.c - io_uring underneath the kernel-layout ring.
 *
 * A context submits to one of the process's shared io_urings (uring.h,
 * uring-ring.c): io_submit validates and copies the iocbs (emu.c) and
 * queues one SQE per request, all handed to the kernel by one
 * io_uring_enter per batch.  A CQE becomes an event in its context's aio
 * ring through emu_complete(), whoever drains it.
 *
 * Requests belong to the task that submitted them: when a thread exits,
 * io_uring fails its requests that still need it (a poll-driven pipe read
 * gets -ECANCELED, a buffered read waiting for the page cache -EFAULT),
 * where the kernel's AIO would complete them.  So a thread that submitted
 * on a uring context hands its requests over on the way out (a TLS
 * destructor): it waits for its file I/O to complete, and cancels what
 * may wait for ever (polls, streams); those it could cancel are submitted
 * again by the ring's completion thread, which lives as long as the
 * process.
 *
 * A request is the kernel's while R_LIVE is set (under its context's lock);
 * user_data names its context, index and generation, so a cancel can never
 * hit a request that reused the slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "uring.h"

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x01
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif

#define DRAIN_BATCH 64
#define GIVE_UP_NS 5000000000ull /* io_destroy's patience */
#define CANCEL_PENDING 1	 /* cancel_res until the cancel op's CQE */

enum {
	R_LIVE = 1,	 /* the kernel has it (or it waits to go again) */
	R_CANCELLED = 2, /* io_cancel asked: a cancelled POLL reports 0 */
	R_HANDOVER = 4,	 /* its thread is exiting: resubmit if cancelled */
	/*
	 * io_cancel said it could not cancel it (it ran in a worker, or
	 * io_uring did not find it), yet io_uring may still interrupt what
	 * it waited for (a FUSE request): if it then comes back -ECANCELED
	 * it is submitted again, to complete with its own result.
	 */
	R_CANCEL_TRIED = 8,
	/* An awaited cancel is out for it: its CQE waits for the cancel's
	 * (R_PARKED, its result in res) to know what it means. */
	R_CANCEL_WAIT = 16,
	R_PARKED = 32,
	/* How often io_uring dropped it unrun (wants_resubmit()): 4 bits. */
	R_DROPS_ONE = 256,
	R_DROPS_MASK = 15 * 256,
};

/* What a request's CQE means, decided under its context's lock. */
enum settle { SETTLE_DONE, SETTLE_RESUB, SETTLE_PARK };

struct uctx {
	struct emu_ctx e;
	struct shring *sr;
	unsigned number;	     /* its uaio_ctx's, for user_data */
	pthread_mutex_t lock;	     /* requests' eflags and owners */
	_Atomic int cancel_res;	     /* the awaited cancel's result */
	pthread_mutex_t cancel_lock; /* one io_cancel at a time */
	_Atomic bool gave_up;	     /* io_destroy cancels even files */
};

static inline struct uctx *uctx_of(struct emu_ctx *e)
{
	return (struct uctx *)((char *)e - offsetof(struct uctx, e));
}

/* The context a CQE names: alive while it has requests in flight. */
static struct uctx *uctx_at(unsigned number)
{
	return uctx_of((struct emu_ctx *)uaio__ctx_priv(uaio__ctx_at(number)));
}

static inline uint64_t ud_of(const struct uctx *u, const struct emu_req *r)
{
	return ud_req(u->number, r->index, r->gen);
}

/* ---- per-thread ownership, for the hand-over at thread exit ---- */

struct known {
	unsigned number, gen; /* a context this thread submitted on */
};

struct thread_state {
	unsigned token;
	unsigned n, cap;
	unsigned last; /* number + 1 of the last context seen, 0 for none */
	struct known *ctxs;
};

static __thread struct thread_state ts UAIO_TLS_IE;
static __thread bool exiting UAIO_TLS_IE;
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

static unsigned note_thread_slow(struct uctx *u)
{
	struct known k = {u->number, u->e.ctx->gen};

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
		if (ts.ctxs[i].number == k.number) {
			ts.ctxs[i] = k; /* the struct may have been reused */
			goto out;
		}
	if (ts.n == ts.cap) {
		unsigned cap = ts.cap ? ts.cap * 2 : 8;
		struct known *p = realloc(ts.ctxs, cap * sizeof(*p));

		if (!p)
			goto out; /* no hand-over for this one; rare */
		ts.ctxs = p;
		ts.cap = cap;
	}
	ts.ctxs[ts.n++] = k;
out:
	ts.last = u->number + 1;
	return ts.token;
}

/* The calling thread's token, remembering that it submits on u; 0 for a
 * thread that is exiting (its requests are the completion thread's). */
static inline unsigned note_thread(struct uctx *u)
{
	if (unlikely(exiting))
		return 0;
	if (likely(ts.last == u->number + 1 && ts.token))
		return ts.token;
	return note_thread_slow(u);
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

/* Complete (or, once dead, discard) n requests of u that will not reach,
 * or not come back from, the kernel. */
static void finish_many(struct uctx *u, struct emu_req **reqs, long *res,
			unsigned n)
{
	long on_uring = 0;

	for (unsigned i = 0; i < n; i++)
		on_uring += reqs[i]->path != PATH_KAIO;
	if (on_uring)
		atomic_fetch_sub_explicit(&u->sr->uring_work, on_uring,
					  memory_order_release);
	atomic_fetch_sub_explicit(&u->sr->busy, n, memory_order_release);
	if (atomic_load(&u->e.dead)) {
		for (unsigned i = 0; i < n; i++)
			emu_discard(&u->e, reqs[i]);
	} else {
		emu_complete_many(&u->e, reqs, res, n);
	}
}

static void finish(struct uctx *u, struct emu_req *req, long res)
{
	finish_many(u, &req, &res, 1);
}

/* Completions gathered by a drain, finished a context's run at a time. */
struct done {
	unsigned n;
	struct uctx *u[DRAIN_BATCH];
	struct emu_req *req[DRAIN_BATCH];
	long res[DRAIN_BATCH];
};

static void done_add(struct done *d, struct uctx *u, struct emu_req *req,
		     long res)
{
	d->u[d->n] = u;
	d->req[d->n] = req;
	d->res[d->n++] = res;
}

static void done_finish(struct done *d)
{
	for (unsigned i = 0, j; i < d->n; i = j) {
		for (j = i + 1; j < d->n && d->u[j] == d->u[i]; j++)
			;
		finish_many(d->u[i], d->req + i, d->res + i, j - i);
	}
	d->n = 0;
}

static void cancel_result(uint64_t ud, int res);

void uring__fail(struct shring *sr, uint64_t ud, int err)
{
	struct emu_req *req = NULL;
	struct uctx *u;

	(void)sr;
	if (ud & UD_OURS) {
		if ((ud & UD_KIND_MASK) == (UD_CANCEL_AWAIT & UD_KIND_MASK))
			cancel_result(ud, err);
		return;
	}
	u = uctx_at(ud_ctx(ud));
	pthread_mutex_lock(&u->lock);
	req = emu_req_at(&u->e, ud_index(ud));
	if (req && (req->eflags & R_LIVE) && (req->gen & 0xffff) == ud_gen(ud))
		req->eflags &= ~(unsigned)R_LIVE;
	else
		req = NULL;
	pthread_mutex_unlock(&u->lock);
	if (req)
		finish(u, req, err);
}

/*
 * Queue reqs: fresh ones (from io_submit) become live with the owner
 * given; the others (resubmissions) are live already.  Every read of a
 * request comes before it is marked under u->lock, which a drainer takes
 * before it frees the request: the kernel orders the CQE after the SQE,
 * but only that lock makes the order visible to ThreadSanitizer.
 */
static void queue_reqs(struct uctx *u, struct emu_req **reqs, int n, bool fresh,
		       unsigned owner)
{
	struct shring *sr = u->sr;

	if (fresh) {
		atomic_fetch_add_explicit(&sr->busy, n, memory_order_relaxed);
		/* seq_cst: against a waiter's look (wait_kaio()) */
		atomic_fetch_add_explicit(&sr->uring_work, n,
					  memory_order_seq_cst);
	}
	pthread_mutex_lock(&sr->sq_lock);
	while (n > 0) {
		/* ur_flush() leaves the SQ empty: no SQE goes to the kernel
		 * before its request is marked. */
		int k = (int)io_uring_sq_space_left(&sr->ring);

		if (k > n)
			k = n;
		for (int i = 0; i < k; i++)
			prep_sqe(io_uring_get_sqe(&sr->ring), reqs[i],
				 ud_of(u, reqs[i]));
		pthread_mutex_lock(&u->lock);
		for (int i = 0; i < k; i++) {
			/* A fresh request's flags start here, under the lock
			 * that every reader of them holds. */
			reqs[i]->eflags =
			    fresh ? R_LIVE : reqs[i]->eflags | R_LIVE;
			reqs[i]->owner = owner;
		}
		pthread_mutex_unlock(&u->lock);
		ur_flush(sr);
		reqs += k;
		n -= k;
	}
	pthread_mutex_unlock(&sr->sq_lock);
}

/* The ring's kernel AIO context, opened at its first use by auto. */
static bool kaio_ready(struct shring *sr)
{
	int state = __atomic_load_n(&sr->kaio_state, __ATOMIC_ACQUIRE);

	if (likely(state))
		return state == 1;
	pthread_mutex_lock(&sr->kaio_lock);
	state = sr->kaio_state;
	if (!state) {
		state = kaio_open(&sr->kaio, KAIO_EVENTS, true);
		if (!state) {
			/* The completion thread's sleep watches it now. */
			ur_kick(sr);
			state = 1;
		} else {
			uaio__debug("auto: no kernel AIO for O_DIRECT (%s): "
				    "io_uring runs it",
				    strerror(-state));
		}
		__atomic_store_n(&sr->kaio_state, state, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sr->kaio_lock);
	return state == 1;
}

/*
 * auto's contexts: O_DIRECT goes to kernel AIO; what it does not take
 * stays in reqs (compacted), *n updated.
 */
static void route_direct(struct uctx *u, struct emu_req **reqs, int *n)
{
	struct emu_req *direct[KAIO_BATCH];
	int nd = kaio_split(reqs, n, direct), k = *n, took;

	if (!nd)
		return;
	atomic_fetch_add_explicit(&u->sr->busy, nd, memory_order_relaxed);
	took = kaio_ready(u->sr) ? kaio_submit(&u->sr->kaio, direct, nd) : 0;
	if (took < 0)
		took = 0;
	atomic_fetch_sub_explicit(&u->sr->busy, nd - took,
				  memory_order_relaxed);
	/* A thread asleep in io_uring_enter would not see their
	 * completions: woken, it looks again and sleeps where it does
	 * (ur_wait()).  Either it saw them in flight, or this sees it. */
	if (took > 0) {
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&u->sr->uring_sleepers,
					 memory_order_relaxed))
			ur_wake(u->sr);
	}
	/* Refused (its ring full...): io_uring runs them. */
	for (int i = took; i < nd; i++)
		reqs[k++] = direct[i];
	*n = k;
}

static void uring_start(struct emu_ctx *e, struct emu_req **reqs, int n)
{
	struct uctx *u = uctx_of(e);
	struct shring *sr = u->sr;
	struct emu_req *go[64];
	unsigned me = note_thread(u);
	int k = 0;

	for (int i = 0; i < n; i++) {
		/* Its eventfd must be signalled promptly: no reaper mode. */
		if (reqs[i]->resfd >= 0 &&
		    !atomic_load_explicit(&sr->resfd_seen,
					  memory_order_relaxed)) {
			atomic_store(&sr->resfd_seen, true);
			atomic_store(&sr->reaper, false);
			/* Off while we are inside; ur_leave() turns it on. */
		}
		if ((reqs[i]->fd_flags & O_NONBLOCK) &&
		    reqs[i]->opcode != CMD_POLL)
			(void)emu_kind(reqs[i]); /* for prep_sqe() */
		go[k++] = reqs[i];
	}
	if (k && u->e.ctx->hybrid)
		route_direct(u, go, &k);
	if (k)
		queue_reqs(u, go, k, true, me);
}

/*
 * What the live request waits on: KIND_FILE for I/O on a file or block
 * device, and fsync, which always end; KIND_STREAM for a POLL, or I/O on a
 * stream (kernel AIO would have blocked in io_submit instead), which may
 * wait for ever; KIND_UNKNOWN when the caller's descriptor was closed or
 * reused since (its flags changed).  A write's kind was looked up at
 * submit (emu_write_inline); a read's only now.
 */
static enum emu_kind waits_on(struct emu_req *req)
{
	if (req->opcode == CMD_POLL)
		return KIND_STREAM;
	if (req->opcode == CMD_FSYNC || req->opcode == CMD_FDSYNC)
		return KIND_FILE; /* waits for the disk, never for a peer */
	if (req->kind == KIND_UNKNOWN &&
	    fcntl(req->fd, F_GETFL) != req->fd_flags)
		/* Gone; one not opened by path was a pipe or a socket. */
		return emu_opened_by_path(req) ? KIND_UNKNOWN : KIND_STREAM;
	/* KIND_UNKNOWN: closed since the look above. */
	enum emu_kind k = emu_kind(req);

	return k == KIND_STREAM_BLOCKING ? KIND_STREAM : k;
}

/*
 * Whether io_destroy cancels the live request rather than wait for it:
 * what may wait for ever, and a read whose descriptor is gone (cancelling
 * it loses no data).  A write to a file must not be cancelled: queued in
 * io_uring's workers, it would be lost.
 */
static bool may_wait_forever(struct emu_req *req)
{
	return waits_on(req) != KIND_FILE;
}

/*
 * Whether the io_destroy of u, dying, waits for req: file I/O, until it
 * gives up on it.  Such a request that io_uring drops unrun (its thread
 * ended and io_uring cancelled what it had queued, or no worker could be
 * made) is submitted again, as when u lives: kernel AIO would run it, and
 * a write dropped there would be lost.
 */
static bool destroy_awaits(struct uctx *u, struct emu_req *req)
{
	return !atomic_load(&u->gave_up) && !may_wait_forever(req);
}

/* What a scan of a context's live requests does with each: cancel it
 * once (MATCH_CANCEL), or at each scan (MATCH_RECANCEL: a cancel that
 * found it between two tries of io_uring's misses it). */
enum match { MATCH_NO, MATCH_COUNT, MATCH_CANCEL, MATCH_RECANCEL };

/* Count the live requests of u that match, and cancel those it says (all
 * that may wait for ever, those of an exiting thread), tagged flag; the
 * count. */
static unsigned cancel_matching(struct uctx *u,
				enum match (*match)(struct emu_req *, unsigned),
				unsigned arg, unsigned flag)
{
	unsigned live = 0;

	for (unsigned i = 0; i < u->e.nchunks; i++) {
		uint64_t uds[EMU_CHUNK];
		unsigned n = 0;

		pthread_mutex_lock(&u->lock);
		for (unsigned k = 0; k < EMU_CHUNK; k++) {
			struct emu_req *req =
			    emu_req_at(&u->e, i * EMU_CHUNK + k);

			if (!req)
				break;
			enum match m;

			if (!(req->eflags & R_LIVE) || !(m = match(req, arg)))
				continue;
			live++;
			if (m == MATCH_RECANCEL ||
			    (m == MATCH_CANCEL && !(req->eflags & flag))) {
				req->eflags |= flag;
				uds[n++] = ud_of(u, req);
			}
		}
		pthread_mutex_unlock(&u->lock);
		if (n)
			ur_cancel(u->sr, uds, n, UD_CANCEL_IGNORE);
		if (!emu_req_at(&u->e, i * EMU_CHUNK + EMU_CHUNK - 1))
			break;
	}
	return live;
}

static enum match waits_forever(struct emu_req *req, unsigned arg)
{
	(void)arg;
	return may_wait_forever(req) ? MATCH_CANCEL : MATCH_NO;
}

static enum match any(struct emu_req *req, unsigned arg)
{
	(void)req;
	(void)arg;
	return MATCH_CANCEL;
}

/* io_destroy: cancel what may wait for ever; results are not awaited. */
static void cancel_waiting(struct uctx *u)
{
	/* R_CANCELLED is not set: asked again each time, and a cancelled
	 * POLL is discarded anyway. */
	(void)cancel_matching(u, waits_forever, 0, 0);
}

/* ---- completion ---- */

/* Whether a CQE means "submit again" rather than "done"; under u->lock. */
static bool wants_resubmit(struct emu_req *req, int res)
{
	if (req->eflags & R_CANCELLED)
		return false;
	if (res == -ECANCELED && (req->eflags & R_HANDOVER))
		return true;
	if (res == -ECANCELED && (req->eflags & R_CANCEL_TRIED)) {
		req->eflags &= ~(unsigned)R_CANCEL_TRIED;
		/* Not an append: its data would land twice. */
		return !(req->fd_flags & O_APPEND) &&
		       !(req->rw_flags & RWF_APPEND);
	}
	/*
	 * Nobody asked, yet io_uring cancelled it: it was queued for a
	 * worker that could not be made (a signal pending in the submitting
	 * thread fails the fork; io-wq gives up after three tries and cancels
	 * what waited, Linux 6.11 on).  It never ran: it goes again from the
	 * completion thread, which blocks signals.  Kernel AIO has no such
	 * failure; a few drops in a row (no worker can be made at all) are
	 * reported.
	 */
	if (res == -ECANCELED && req->opcode != CMD_POLL &&
	    (req->eflags & R_DROPS_MASK) != R_DROPS_MASK) {
		req->eflags += R_DROPS_ONE;
		return true;
	}
	if (res == -ESPIPE && req->opcode != CMD_POLL &&
	    req->opcode != CMD_FSYNC && req->opcode != CMD_FDSYNC)
		/* Not seekable: kernel AIO ignores the offset there. */
		return emu_stream_offset(req);
	return false;
}

static long event_res(const struct emu_req *req, int res)
{
	/* A read auto began inside io_submit reports all it moved. */
	if (req->opcode != CMD_POLL && req->done)
		return res >= 0 ? req->done + res : req->done;
	if (req->opcode != CMD_POLL)
		return res;
	if (res == -ECANCELED && (req->eflags & R_CANCELLED))
		return 0; /* aio_poll_cancel() reports no events */
	if (res > 0)
		/* io_uring adds POLLRDHUP and friends; aio does not. */
		res &= emu_poll_ask(req->poll_events) | POLLERR | POLLHUP;
	return res;
}

/* Under u->lock: what the CQE r of the live request req means. */
static enum settle settle_slow(struct uctx *u, struct emu_req *req, int r,
			       long *res)
{
	if (req->eflags & R_CANCEL_WAIT) {
		req->res = r;
		req->eflags |= R_PARKED;
		return SETTLE_PARK;
	}
	if (wants_resubmit(req, r) &&
	    (!atomic_load(&u->e.dead) || destroy_awaits(u, req))) {
		req->owner = 0;
		req->eflags &= ~(unsigned)R_HANDOVER;
		return SETTLE_RESUB;
	}
	*res = event_res(req, r);
	req->eflags &= ~(unsigned)R_LIVE;
	return SETTLE_DONE;
}

/* settle_slow(), its common case inline: a transfer that went through
 * (no resubmission wants a result >= 0) with no cancel awaiting it. */
static UAIO_ALWAYS_INLINE enum settle
settle(struct uctx *u, struct emu_req *req, int r, long *res)
{
	if (likely(r >= 0 && !(req->eflags & R_CANCEL_WAIT) &&
		   req->opcode != CMD_POLL && !req->done)) {
		*res = r;
		req->eflags &= ~(unsigned)R_LIVE;
		return SETTLE_DONE;
	}
	return settle_slow(u, req, r, res);
}

static void resub_push(struct shring *sr, struct emu_req *req);

/*
 * The result of an awaited cancel: then its target's own CQE means what
 * it says (0: cancelled), or it was not cancelled and completes with its
 * own result.  A target whose CQE came first was parked: settled now.
 */
static void cancel_result(uint64_t ud, int res)
{
	struct uctx *u = uctx_at(ud_ctx(ud));
	struct emu_req *req;
	enum settle what = SETTLE_PARK;
	long out = 0;

	pthread_mutex_lock(&u->lock);
	req = emu_req_at(&u->e, (unsigned)(ud >> 3) & (UD_MAX_INDEX - 1));
	if (req && (req->eflags & R_LIVE) &&
	    (req->gen & 0x3fff) == ((ud >> 27) & 0x3fff)) {
		req->eflags &= ~(unsigned)R_CANCEL_WAIT;
		if (res != 0)
			req->eflags = (req->eflags & ~(unsigned)R_CANCELLED) |
				      R_CANCEL_TRIED;
		if (req->eflags & R_PARKED) {
			req->eflags &= ~(unsigned)R_PARKED;
			what = settle(u, req, (int)req->res, &out);
		}
	}
	pthread_mutex_unlock(&u->lock);
	atomic_store(&u->cancel_res, res);
	if (what == SETTLE_RESUB) {
		resub_push(u->sr, req);
		ur_kick(u->sr);
	} else if (what == SETTLE_DONE) {
		finish(u, req, out);
	}
}

/* Requests to submit again, by the ring's completion thread. */
static void resub_push(struct shring *sr, struct emu_req *req)
{
	pthread_mutex_lock(&sr->resub_lock);
	req->next = sr->resub;
	sr->resub = req;
	pthread_mutex_unlock(&sr->resub_lock);
}

void uring__resubmit(struct shring *sr)
{
	struct emu_req *list;

	pthread_mutex_lock(&sr->resub_lock);
	list = sr->resub;
	sr->resub = NULL;
	pthread_mutex_unlock(&sr->resub_lock);
	/* Each holds a slot of its context, which cannot go before it. */
	while (list) {
		struct emu_req *req = list;
		struct uctx *u = uctx_of(req->ectx);

		list = req->next;
		if (atomic_load(&u->e.dead)) {
			bool drop;

			pthread_mutex_lock(&u->lock);
			drop = !destroy_awaits(u, req);
			if (drop)
				req->eflags &= ~(unsigned)R_LIVE;
			pthread_mutex_unlock(&u->lock);
			if (drop) {
				finish(u, req, 0);
				continue;
			}
		}
		queue_reqs(u, &req, 1, false, 0);
	}
}

/* Under cq_lock: publish what kernel AIO completed for auto's contexts. */
static void drain_kaio(struct shring *sr)
{
	struct io_event ev[DRAIN_BATCH];
	struct done done;
	unsigned n;

	/* The eventfd is left as it is: io_uring's poll of it fires at each
	 * completion whatever its count, and a waiter in ur_wait() clears it
	 * before it looks at the kernel's ring. */
	if (!ur_kaio_busy(sr))
		return;
	while ((n = kaio_reap(&sr->kaio, ev, DRAIN_BATCH))) {
		done.n = 0;
		for (unsigned i = 0; i < n; i++) {
			struct emu_req *req =
			    (uint64_t)(uintptr_t)ev[i].data == KAIO_KICK_TAG
				? NULL /* kaio_kick()'s */
				: emu_untag((uint64_t)ev[i].data);

			if (req) /* cannot fail: it holds its slot */
				done_add(&done, uctx_of(req->ectx), req,
					 (long)ev[i].res);
		}
		done_finish(&done);
	}
}

/* Unlock the context a drain holds, if any; NULL. */
static struct uctx *held_let_go(struct uctx *held)
{
	if (held)
		pthread_mutex_unlock(&held->lock);
	return NULL;
}

/*
 * Move what the CQ holds to the aio rings.  With try, leave it to whoever
 * holds cq_lock: a thread inside a call drains again, or the last one to
 * leave does.
 */
void uring__drain(struct shring *sr, bool try)
{
	struct io_uring_cqe *cqes[DRAIN_BATCH];
	struct done done;
	bool kick = false;
	unsigned n;

	if (!try)
		pthread_mutex_lock(&sr->cq_lock);
	else if (pthread_mutex_trylock(&sr->cq_lock))
		return;
	ur_draining(sr, true);
	while ((n = io_uring_peek_batch_cqe(&sr->ring, cqes, DRAIN_BATCH))) {
		/* A run of CQEs of one context takes its lock once. */
		struct uctx *held = NULL;

		done.n = 0;
		for (unsigned i = 0; i < n; i++) {
			uint64_t ud = cqes[i]->user_data;
			int r = cqes[i]->res;

			if (ud & UD_OURS) {
				held = held_let_go(held);
				if ((ud & UD_KIND_MASK) ==
				    (UD_CANCEL_AWAIT & UD_KIND_MASK))
					cancel_result(ud, r);
				continue;
			}
			struct uctx *u = uctx_at(ud_ctx(ud));
			struct emu_req *req;
			enum settle what;
			long out = 0;

			if (u != held) {
				held_let_go(held);
				pthread_mutex_lock(&u->lock);
				held = u;
			}
			req = emu_req_at(&u->e, ud_index(ud));
			if (!req || !(req->eflags & R_LIVE) ||
			    (req->gen & 0xffff) != ud_gen(ud))
				continue; /* cannot happen: one CQE each */
			what = settle(u, req, r, &out);
			if (what == SETTLE_RESUB) {
				held = held_let_go(held);
				resub_push(sr, req);
				kick = true;
			} else if (what == SETTLE_DONE) {
				done_add(&done, u, req, out);
			}
		}
		held_let_go(held);
		io_uring_cq_advance(&sr->ring, n);
		for (unsigned i = 0; i < done.n; i++)
			emu_write_failed(done.req[i], done.res[i]);
		done_finish(&done);
	}
	drain_kaio(sr);
	pthread_mutex_unlock(&sr->cq_lock);
	ur_draining(sr, false);
	/* Under sq_lock (a drain inside ur_flush()), the flush queues it. */
	if (kick)
		ur_kick(sr);
}

/* ---- waiting ---- */

static void uring_drain_ctx(struct emu_ctx *e)
{
	struct shring *sr = uctx_of(e)->sr;

	/* ur_wait() wakes for kernel AIO on its eventfd, which posts
	 * nothing in the io_uring. */
	if (ur_cq_pending(sr) || (ur_kaio_busy(sr) && kaio_pending(&sr->kaio)))
		uring__drain(sr, false);
}

static int uring_wait(struct emu_ctx *e, const struct timespec *left,
		      const sigset_t *mask)
{
	struct shring *sr = uctx_of(e)->sr;

	if (ur_cq_pending(sr))
		return 0; /* drain first */
	return ur_wait(sr, left, mask);
}

static void uring_wake(struct emu_ctx *e)
{
	ur_wake(uctx_of(e)->sr);
}

/* ---- thread exit ---- */

/* The exiting thread's: what may wait for ever is handed over, the rest
 * awaited, a read whose descriptor is gone too (it would go again on
 * whatever file took the number). */
static enum match owned_by(struct emu_req *req, unsigned me)
{
	if (req->owner != me)
		return MATCH_NO;
	return waits_on(req) == KIND_STREAM ? MATCH_CANCEL : MATCH_COUNT;
}

/* The same once the thread has waited long enough: all handed over. */
static enum match owned_by_all(struct emu_req *req, unsigned me)
{
	return req->owner == me ? MATCH_RECANCEL : MATCH_NO;
}

/*
 * Make u independent of the exiting thread `me` (see the top comment).
 * I/O on a file ends: the thread waits for it rather than hand it over,
 * for what is handed over goes again by descriptor number, which the
 * program may have closed since io_submit, or reused for another file
 * (kernel AIO holds the file itself): a write would fail, or land in the
 * wrong file.  Only I/O that makes no progress for io_destroy's patience
 * (a file system that holds it) is handed over then.
 */
static void handover(struct uctx *u, unsigned me)
{
	uint64_t since = uaio__now_ns();
	unsigned left, before = ~0u;

	ur_enter(u->sr);
	while ((left = cancel_matching(u,
				       uaio__now_ns() - since < GIVE_UP_NS
					   ? owned_by
					   : owned_by_all,
				       me, R_HANDOVER))) {
		if (left < before) { /* progress */
			before = left;
			since = uaio__now_ns();
		}
		uring__drain(u->sr, false);
		ur_wait_cq(u->sr, 10);
	}
	ur_leave(u->sr);
}

/*
 * A context being destroyed cannot be handed over (its engine state may go
 * at any time), and its io_destroy waits for this thread's requests: some
 * io_uring finishes only while their thread lives (a buffered read waiting
 * for its page goes on as a task_work of the thread; once it is gone, it
 * fails with EFAULT, unrun).  So the thread lives until that io_destroy is
 * done; its task_work runs as each sleep ends.
 */
static void outlive_destroy(const struct known *k)
{
	const struct timespec ms = {0, 1000000};

	while (uaio__ctx_destroying(k->number, k->gen))
		nanosleep(&ms, NULL);
}

static void thread_exit(void *arg)
{
	(void)arg;
	exiting = true; /* what it resubmits now is not its own */
	for (unsigned i = 0; i < ts.n; i++) {
		struct uaio_ctx *c =
		    uaio__ctx_get_number(ts.ctxs[i].number, ts.ctxs[i].gen);

		if (!c) {
			outlive_destroy(&ts.ctxs[i]);
			continue;
		}
		if (c->engine == &uaio__engine_uring)
			handover(uctx_of(c->priv), ts.token);
		uaio__ctx_put(c);
	}
	free(ts.ctxs);
	ts.ctxs = NULL;
	ts.n = ts.cap = 0;
	ts.last = 0;
}

/* ---- the methods ---- */

static int uring_try_now(struct emu_ctx *e, struct emu_req *req, long nr)
{
	long res;

	/* Ready at submit: the kernel's mask, without a round trip; here,
	 * in order with what the requests ahead did inside io_submit. */
	if (req->opcode == CMD_POLL) {
		if (!emu_poll_now(req, &res))
			return 0;
		emu_complete(e, req, res);
		return 1;
	}
	/*
	 * auto: a lone read is tried without blocking in the caller, one
	 * system call as kernel AIO makes; a batch goes to io_uring, which
	 * tries the whole of it that way in one (a read each would cost a
	 * system call each: 0.4x kernel AIO on cached reads at depth 32).
	 */
	if (e->ctx->hybrid && nr == 1 && emu_read_inline(e, req))
		return 1;
	return emu_is_write(req) ? emu_write_inline(e, req) : 0;
}

static const struct emu_ops uring_ops = {
    .try_now = uring_try_now,
    .try_ops = 1u << CMD_POLL | 1u << CMD_PWRITE | 1u << CMD_PWRITEV,
    .lone_try_ops = EMU_TRY_ALL,
    .start = uring_start,
    .drain = uring_drain_ctx,
    .wait = uring_wait,
    .wake = uring_wake,
};

static int uring_probe(char *why, size_t len)
{
	return ur_probe(why, len);
}

static int uring_setup(struct uaio_ctx *c, unsigned nr_events)
{
	struct uctx *u;
	int ret = 0;

	if (c->number >= UD_MAX_CTX)
		return -EAGAIN; /* user_data cannot name it */
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->sr = ur_ring_get(&ret);
	if (!u->sr) {
		static atomic_bool told;
		char why[UAIO_REASON_MAX];
		if (!atomic_exchange(&told, true)) {
			ur_explain(ret, why, sizeof(why));
			uaio__debug("uring: %s", why);
		}
		free(u);
		return ret;
	}
	ret = emu_init(&u->e, c, nr_events, &uring_ops);
	if (ret) {
		free(u);
		return ret;
	}
	if (u->e.ring.nr > UD_MAX_INDEX) {
		emu_fini(&u->e);
		free(u);
		return -EINVAL;
	}
	u->number = c->number;
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->cancel_lock, NULL);
	atomic_init(&u->cancel_res, 0);
	uaio__ctx_set_priv(c, &u->e);
	atomic_store(&c->handle, (unsigned long)u->e.ring.user);
	return 0;
}

static int uring_submit(struct uaio_ctx *c, long nr, struct iocb **iocbpp)
{
	struct uctx *u = uctx_of(c->priv);
	int ret;

	ur_enter(u->sr);
	ret = emu_submit(&u->e, nr, iocbpp);
	/* Page-cache reads completed inside io_uring_enter: publish them
	 * now, as kernel AIO has them in the ring when io_submit returns. */
	if (ur_cq_pending(u->sr))
		uring__drain(u->sr, true);
	ur_leave(u->sr);
	return ret;
}

static int uring_getevents(struct uaio_ctx *c, long min_nr, long nr,
			   struct io_event *events,
			   const struct timespec *timeout, const sigset_t *mask)
{
	struct uctx *u = uctx_of(c->priv);
	struct shring *sr = u->sr;
	int ret;

	if (min_nr > 0 &&
	    !atomic_load_explicit(&sr->reaper, memory_order_relaxed) &&
	    !atomic_load_explicit(&sr->resfd_seen, memory_order_relaxed))
		atomic_store_explicit(&sr->reaper, true, memory_order_relaxed);
	ur_enter(sr);
	ret = emu_getevents(&u->e, min_nr, nr, events, timeout, mask);
	ur_leave(sr);
	return ret;
}

/* The result of a cancel op for ud: 0, -ENOENT or -EALREADY. */
static int cancel_one(struct uctx *u, uint64_t ud, uint64_t tag)
{
	int res;

	pthread_mutex_lock(&u->cancel_lock);
	atomic_store(&u->cancel_res, CANCEL_PENDING);
	ur_cancel(u->sr, &ud, 1, tag);
	/* The cancel op completes inside io_uring_enter; whoever drains
	 * its CQE stores the result. */
	for (;;) {
		uring__drain(u->sr, false);
		res = atomic_load(&u->cancel_res);
		if (res != CANCEL_PENDING)
			break;
		ur_wait_cq(u->sr, 1);
	}
	pthread_mutex_unlock(&u->cancel_lock);
	return res;
}

static int uring_cancel(struct uaio_ctx *c, struct iocb *iocb,
			struct io_event *result)
{
	struct uctx *u = uctx_of(c->priv);
	struct emu_req *req;
	uint64_t ud = 0;
	unsigned gen = 0;
	int res;

	(void)result; /* the kernel never writes it either */
	ur_enter(u->sr);
	pthread_mutex_lock(&u->lock);
	req = emu_find(&u->e, iocb);
	if (req && (req->eflags & R_LIVE) && !(req->eflags & R_CANCELLED)) {
		/* Before the cancel op: its CQE may be drained before we
		 * return, and must read as cancelled. */
		req->eflags |= R_CANCELLED | R_CANCEL_WAIT;
		ud = ud_of(u, req);
		gen = req->gen;
	} else {
		req = NULL;
	}
	pthread_mutex_unlock(&u->lock);
	if (!req) {
		ur_leave(u->sr);
		return -EINVAL;
	}
	/*
	 * Not found (done, or in the block layer) or running in a worker
	 * (-EALREADY): like the kernel for file I/O, not cancellable; it
	 * completes with its own result (cancel_result()).
	 */
	res = cancel_one(u, ud, ud_cancel(u->number, req->index, gen));
	ur_leave(u->sr);
	return res == 0 ? -EINPROGRESS : -EINVAL;
}

static void uring_kill(struct uaio_ctx *c)
{
	struct uctx *u = uctx_of(c->priv);

	emu_kill(&u->e); /* waiters wake and return -EINVAL */
	cancel_waiting(u);
}

/* Counts every live request (cancel_matching() cancels none). */
static enum match counted(struct emu_req *req, unsigned arg)
{
	(void)req;
	(void)arg;
	return MATCH_COUNT;
}

static void uring_destroy(struct uaio_ctx *c)
{
	struct uctx *u = uctx_of(c->priv);

	unsigned left, before = 0;
	uint64_t since = 0;

	/* What io_submit calls that raced with kill queued. */
	cancel_waiting(u);
	for (;;) {
		uring__drain(u->sr, false);
		/* A context whose call never returns: what that call
		 * reserved or prepared never reaches the kernel, so only
		 * io_uring's live requests are awaited (kernel AIO's are the
		 * process's, which the kernel's exit_aio() awaits). */
		left = c->abandoned ? cancel_matching(u, counted, 0, 0)
				    : emu_in_flight(&u->e);
		if (!left)
			break;
		/* File I/O completes; block until it has, as the kernel
		 * does, cancelling what came to wait meanwhile.  What is
		 * to be submitted again goes again (destroy_awaits()) or is
		 * discarded, by the completion thread. */
		if (left != before) {
			before = left;
			since = uaio__now_ns();
		}
		if (since && uaio__now_ns() - since > GIVE_UP_NS) {
			/*
			 * A file that io_uring retries for ever (FUSE
			 * answering EAGAIN: it polls and tries again, where
			 * kernel AIO fails it): cancelled (uaio.7), asked
			 * again each tick until a cancel finds it waiting.
			 */
			if (!atomic_exchange(&u->gave_up, true))
				uaio__debug("uring: io_destroy: %u request(s) "
					    "made no progress for %d s: "
					    "cancelled",
					    left,
					    (int)(GIVE_UP_NS / 1000000000));
			(void)cancel_matching(u, any, 0, 0);
		}
		ur_kick(u->sr);
		/* No completion thread (it could not be made): here, then. */
		if (!atomic_load_explicit(&u->sr->started,
					  memory_order_acquire))
			uring__resubmit(u->sr);
		ur_wait_cq(u->sr, 100);
		if (!ur_cq_pending(u->sr))
			cancel_waiting(u);
	}
	if (c->abandoned) {
		/* Its kernel AIO requests were not awaited: their
		 * completions may still reach u, which the ending process
		 * keeps. */
		uaio__ctx_set_priv(c, NULL);
		return;
	}
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->cancel_lock);
	emu_fini(&u->e);
	free(u);
	uaio__ctx_set_priv(c, NULL);
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
