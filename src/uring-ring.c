/*
 * uring-ring.c - the process's shared io_urings (see uring.h): made when a
 * context first needs one, kept for the life of the process, forgotten by
 * a forked child (which makes its own).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"
#include "uring.h"

/* A waiter looks again at least this often (ms): see ur_wait(). */
#define WAIT_SLICE_MS 100

static struct shring *rings[UR_MAX_RINGS];
static struct shring *forsaken; /* a forked parent's, in a child */
static unsigned nrings;
static _Atomic unsigned next_ring;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
/* Set while this thread drains a ring: wake-ups wait for the unlock. */
static __thread bool draining_here UAIO_TLS_IE;
/* Set while this thread flushes under sq_lock (ur_flush()): what its
 * drain or retraction completes wakes without taking sq_lock again. */
static __thread bool flushing_here UAIO_TLS_IE;
/* The rings (bits) this thread has submitted to: io_uring may run a
 * task_work of its on each (wait_kaio()). */
static __thread unsigned rings_fed UAIO_TLS_IE;

static void forget_rings(void)
{
	/*
	 * A forked child: the rings' queues are not mapped here (but under
	 * valgrind: io_uring_ring_dontfork) and their threads do not exist;
	 * close the inherited descriptors and start afresh.
	 */
	for (unsigned i = 0; i < UR_MAX_RINGS; i++) {
		if (!rings[i])
			continue;
		close(rings[i]->ring.ring_fd);
		close(rings[i]->evfd);
		if (rings[i]->kaio_state == 1)
			close(rings[i]->kaio.efd); /* its context is gone */
		/* Never freed (the parent's threads may have been inside),
		 * but kept in reach: not a leak at the child's exit. */
		rings[i]->forsaken = forsaken;
		forsaken = rings[i];
		rings[i] = NULL;
	}
	pthread_mutex_init(&pool_lock, NULL);
}

static void pool_init(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	nrings = n < 1 ? 1 : n > UR_MAX_RINGS ? UR_MAX_RINGS : (unsigned)n;
	uaio__atfork(NULL, NULL, forget_rings);
}

/*
 * An io_uring for many contexts: the SQ stages a few batches, the CQ
 * takes what it can and the kernel keeps the rest (NODROP).  -errno as
 * io_uring_setup gave it, or -ENOSYS when the kernel lacks a feature:
 * NODROP (5.5), FAST_POLL (a read of an empty pipe waits on a poll, not
 * in a blocked worker; 5.7), cq.kflags (the eventfd switch; 5.8) and
 * EXT_ARG (a wait with a timeout and a signal mask; 5.11).
 */
static int ring_open(struct io_uring *ring)
{
	struct io_uring_params p;
	unsigned flags =
	    IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
	int ret;

	for (;;) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		p.cq_entries = UR_CQ_ENTRIES;
		ret = io_uring_queue_init_params(UR_SQ_ENTRIES, ring, &p);
		/* SUBMIT_ALL came in 5.18: without it a failed SQE stops
		 * the batch, and ur_flush() submits the rest. */
		if (ret == -EINVAL && (flags & IORING_SETUP_SUBMIT_ALL)) {
			flags &= ~(unsigned)IORING_SETUP_SUBMIT_ALL;
			continue;
		}
		break;
	}
	if (ret < 0)
		return ret;
	if (!(p.features & IORING_FEAT_NODROP) ||
	    !(p.features & IORING_FEAT_FAST_POLL) ||
	    !(p.features & IORING_FEAT_EXT_ARG) || !ring->cq.kflags) {
		io_uring_queue_exit(ring);
		return -ENOSYS;
	}
	return 0;
}

static struct shring *ring_new(int *err)
{
	struct shring *sr = calloc(1, sizeof(*sr));
	int ret;

	if (!sr) {
		*err = -ENOMEM;
		return NULL;
	}
	ret = ring_open(&sr->ring);
	if (ret < 0)
		goto fail;
	/*
	 * A forked child gets no mapping of the SQ and CQ: it cannot disturb
	 * the parent's ring.  Except under valgrind, which does not know of
	 * MADV_DONTFORK: in the child it would take the parent's rings for
	 * mapped still, and abort when the kernel put the child's there.
	 */
	ret = uaio__valgrind ? 0 : io_uring_ring_dontfork(&sr->ring);
	if (ret < 0)
		goto fail_ring;
	sr->evfd = eventfd(0, EFD_CLOEXEC);
	if (sr->evfd < 0) {
		ret = -errno;
		goto fail_ring;
	}
	ret = io_uring_register_eventfd(&sr->ring, sr->evfd);
	if (ret < 0) {
		close(sr->evfd);
		goto fail_ring;
	}
	pthread_mutex_init(&sr->sq_lock, NULL);
	pthread_mutex_init(&sr->cq_lock, NULL);
	pthread_mutex_init(&sr->thread_lock, NULL);
	pthread_mutex_init(&sr->resub_lock, NULL);
	pthread_mutex_init(&sr->kaio_lock, NULL);
	return sr;
fail_ring:
	io_uring_queue_exit(&sr->ring);
fail:
	free(sr);
	*err = ret;
	return NULL;
}

/* Seconds on CLOCK_MONOTONIC_COARSE (no system call). */
static long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long)ts.tv_sec;
}

struct shring *ur_ring_get(int *err)
{
	/* The host's refusal of io_uring (seccomp, io_uring_disabled) is
	 * remembered for a second: a program that makes many contexts on
	 * the threads engine does not ask the kernel again for each. */
	static int refused;
	static long refused_at;
	unsigned i;
	struct shring *sr;

	pthread_once(&pool_once, pool_init);
	i = atomic_fetch_add_explicit(&next_ring, 1, memory_order_relaxed) %
	    nrings;
	pthread_mutex_lock(&pool_lock);
	if (!rings[i] && refused && now_s() - refused_at < 1) {
		*err = refused;
	} else if (!rings[i]) {
		rings[i] = ring_new(err);
		if (rings[i])
			rings[i]->bit = 1u << i;
		if (!rings[i] && (*err == -EPERM || *err == -ENOSYS)) {
			refused = *err;
			refused_at = now_s();
		}
	}
	sr = rings[i];
	pthread_mutex_unlock(&pool_lock);
	return sr;
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

void ur_explain(int err, char *why, size_t len)
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
			 "old a one (uaio needs 5.11), or a seccomp filter",
			 strerror(-err));
	else
		snprintf(why, len, "io_uring_setup: %s", strerror(-err));
}

int ur_probe(char *why, size_t len)
{
	struct io_uring ring;
	int ret = ring_open(&ring);

	if (ret < 0) {
		ur_explain(ret, why, len);
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/* ---- who drains ---- */

static void evfd_enable(struct shring *sr, bool on)
{
	/* Atomic RMWs (the kernel only reads the word): with two threads
	 * racing, the last leaver's "on" is ordered after every "off". */
	if (on)
		__atomic_fetch_and(sr->ring.cq.kflags,
				   ~(unsigned)IORING_CQ_EVENTFD_DISABLED,
				   __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or(sr->ring.cq.kflags,
				  IORING_CQ_EVENTFD_DISABLED, __ATOMIC_SEQ_CST);
}

void ur_enter(struct shring *sr)
{
	atomic_fetch_add_explicit(&sr->calls, 1, memory_order_relaxed);
	if (atomic_fetch_add_explicit(&sr->inside, 1, memory_order_acq_rel) ==
	    0)
		evfd_enable(sr, false);
}

void ur_leave(struct shring *sr)
{
	if (atomic_fetch_sub_explicit(&sr->inside, 1, memory_order_acq_rel) !=
	    1)
		return;
	/* The seq_cst RMW orders the flag before reading the tail. */
	if (!atomic_load_explicit(&sr->reaper, memory_order_relaxed))
		evfd_enable(sr, true);
	/* What a sleep on kernel AIO took waits in its stash (ur_wait_cq()
	 * callers need not drain after it). */
	if (ur_cq_pending(sr) || (ur_kaio_busy(sr) && kaio_pending(&sr->kaio)))
		uring__drain(sr, false);
	/* Someone must publish what completes while nobody is in: the
	 * completion thread, woken if it sleeps without a tick (in reaper
	 * mode no eventfd signal would wake it). */
	if (atomic_load_explicit(&sr->busy, memory_order_acquire) > 0) {
		if (!atomic_load_explicit(&sr->started, memory_order_acquire) ||
		    atomic_load(&sr->idle))
			ur_kick(sr);
	}
}

static void *completion_main(void *arg);

static void ensure_thread(struct shring *sr)
{
	if (likely(atomic_load_explicit(&sr->started, memory_order_acquire)))
		return;
	pthread_mutex_lock(&sr->thread_lock);
	if (!atomic_load_explicit(&sr->started, memory_order_relaxed)) {
		int ret = uaio__spawn(&sr->thread, completion_main, sr);

		if (ret)
			/* Tried again by the next call that leaves. */
			uaio__debug("uring: completion thread: %s",
				    strerror(-ret));
		else
			atomic_store_explicit(&sr->started, true,
					      memory_order_release);
	}
	pthread_mutex_unlock(&sr->thread_lock);
}

void ur_kick(struct shring *sr)
{
	uint64_t one = 1;
	ssize_t r;

	ensure_thread(sr);
	r = write(sr->evfd, &one, sizeof(one));
	(void)r; /* only fails at a count of 2^64-2: still readable */
}

static void *completion_main(void *arg)
{
	struct shring *sr = arg;
	unsigned seen = 0;

	for (;;) {
		bool reaper =
		    atomic_load_explicit(&sr->reaper, memory_order_relaxed);
		/* Out of reaper mode, kernel AIO's completions wake us too. */
		bool kaio = !reaper && __atomic_load_n(&sr->kaio_state,
						       __ATOMIC_ACQUIRE) == 1;
		struct pollfd p[2] = {
		    {.fd = sr->evfd, .events = POLLIN},
		    {.fd = kaio ? sr->kaio.efd : -1, .events = POLLIN},
		};
		/*
		 * Reaper mode: a 10 ms tick, draining only when no call came
		 * during a whole tick (the program stalled or stopped
		 * calling).  Otherwise the eventfd wakes us, with a long
		 * timeout while requests are in flight in case a signal were
		 * ever missed.
		 */
		int timeout = reaper ? 10 : 1000;

		if (atomic_load(&sr->busy) <= 0) {
			/* Idle before looking again: a call that leaves
			 * requests in flight then sees the flag and kicks. */
			atomic_store(&sr->idle, true);
			if (atomic_load(&sr->busy) <= 0)
				timeout = -1;
		}
		int pr = poll(p, kaio ? 2 : 1, timeout);
		atomic_store(&sr->idle, false);

		if (pr > 0 && p[0].revents) {
			uint64_t v;
			ssize_t r = read(sr->evfd, &v, sizeof(v));
			(void)r;
		}
		/* Cleared before the drain looks at the kernel's ring. */
		if (pr > 0 && p[1].revents)
			kaio_quiet(&sr->kaio);
		unsigned calls =
		    atomic_load_explicit(&sr->calls, memory_order_relaxed);
		if (pr == 0 && reaper && calls != seen) {
			seen = calls;
			uring__resubmit(sr);
			continue;
		}
		seen = calls;
		uring__drain(sr, false);
		uring__resubmit(sr);
	}
	return NULL;
}

/* ---- submission ---- */

/*
 * Under sq_lock, after an io_uring_enter error that will not go away: take
 * back the SQEs the kernel did not consume (we own the SQ tail) and fail
 * their requests, rather than leave them queued forever.
 */
static void sq_retract(struct shring *sr, int err)
{
	struct io_uring_sq *sq = &sr->ring.sq;
	unsigned head = __atomic_load_n(sq->khead, __ATOMIC_ACQUIRE);

	uaio__debug("uring: io_uring_enter: %s", strerror(-err));
	for (unsigned i = head; i != sq->sqe_tail; i++)
		uring__fail(sr, sq->sqes[i & sq->ring_mask].user_data, err);
	sq->sqe_head = sq->sqe_tail = head;
	__atomic_store_n(sq->ktail, head, __ATOMIC_RELEASE);
}

/*
 * Under sq_lock, in ur_flush(): queue what a drain or a retraction made
 * there asked for and could not do itself (both take sq_lock): the
 * wake-up of waiters.
 */
static void flush_deferred(struct shring *sr)
{
	if (atomic_exchange(&sr->wake_later, false)) {
		struct io_uring_sqe *sqe = ur_sqe(sr);

		io_uring_prep_nop(sqe);
		sqe->user_data = UD_WAKE;
	}
}

bool ur_flushing(void)
{
	return flushing_here;
}

void ur_flush(struct shring *sr)
{
	const bool outer = !flushing_here;
	unsigned busy = 0;
	bool sent = false;

	flushing_here = true;
	while (io_uring_sq_ready(&sr->ring)) {
		int r = io_uring_submit(&sr->ring);

		sent = true;
		if (r >= 0 || r == -EINTR)
			continue;
		if ((r == -EAGAIN || r == -EBUSY || r == -ENOMEM) &&
		    busy++ < 1000) {
			/* Short of memory, or completions backed up: make
			 * room and try again. */
			if (ur_cq_pending(sr))
				uring__drain(sr, false);
			else
				sched_yield();
		} else {
			sq_retract(sr, r);
		}
		/* A wake-up queued after a failure goes the same way: one
		 * try, and a retraction that completes nothing. */
		flush_deferred(sr);
	}
	if (outer)
		flushing_here = false;
	if (!sent)
		return;
	rings_fed |= sr->bit;
	/* A waiter asleep on kernel AIO alone would not see what this
	 * brings (its CQE, a UD_WAKE): it looks again (wait_kaio()). */
	if (atomic_load_explicit(&sr->kaio_sleepers, memory_order_seq_cst)) {
		atomic_fetch_add_explicit(&sr->kick_gen, 1,
					  memory_order_seq_cst);
		kaio_kick(&sr->kaio);
	}
}

struct io_uring_sqe *ur_sqe(struct shring *sr)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&sr->ring)))
		ur_flush(sr);
	return sqe;
}

void ur_cancel(struct shring *sr, const uint64_t *uds, unsigned n, uint64_t tag)
{
	pthread_mutex_lock(&sr->sq_lock);
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = ur_sqe(sr);

		io_uring_prep_cancel64(sqe, uds[i], 0);
		sqe->user_data = tag;
	}
	ur_flush(sr);
	pthread_mutex_unlock(&sr->sq_lock);
}

/* ---- waiting ---- */

/*
 * With kernel AIO requests in flight (auto's O_DIRECT), sleep in ppoll on
 * its eventfd and on the ring's descriptor, readable while the CQ holds
 * anything: a completion then wakes us directly, not through io_uring's
 * poll of the eventfd, whose task_work and CQE are a hop more per request
 * (fio, O_DIRECT at depth 1: completions took 31.6 us against the kernel
 * engine's 24.7).  What wakes a wait in io_uring_enter (a CQE, a
 * UD_WAKE) wakes this one too.
 *
 * Not epoll_wait, with the eventfd edge-triggered, which would spare the
 * read that clears it: io_uring runs a completion of this thread's own
 * requests as a task_work that interrupts its sleep as a signal would,
 * and epoll_wait then returns EINTR where no signal came (test
 * fault-fuse-hold: a poll on another context, completed while this thread
 * waits); ppoll is restarted.
 */
static int wait_poll(struct shring *sr, struct timespec *ts,
		     const sigset_t *mask, bool kaio)
{
	struct pollfd p[2] = {
	    {.fd = sr->ring.ring_fd, .events = POLLIN},
	    {.fd = kaio ? sr->kaio.efd : -1, .events = POLLIN},
	};
	long r = RAW(__NR_ppoll, p, kaio ? 2 : 1, ts, mask, _NSIG / 8, 0);

	/* Before the caller looks at the kernel's ring (kaio_pending()):
	 * a completion reaped already would keep the eventfd readable and
	 * every later wait from sleeping. */
	if (r > 0 && kaio && p[1].revents)
		kaio_quiet(&sr->kaio);
	return r == -EINTR ? -EINTR : 0;
}

/*
 * With nothing but kernel AIO in flight on the ring, sleep where the kernel
 * engine does, in the kernel context's own wait: a completion then costs
 * no eventfd read (fio, O_DIRECT at depth 1: three system calls per read
 * against ppoll's four).  -EAGAIN when that cannot be: io_uring has work
 * (its completions come as CQEs), another thread sleeps there, or the call
 * is refused.  A submission to io_uring after the look, a UD_WAKE among
 * them, ends the sleep: the sleeper's count, uring_work and kick_gen are
 * read and written sequentially consistent, so either the look sees the
 * work, or ur_flush() sees the sleeper and kicks; a kick that a drain took
 * from the kernel's ring before the sleep began shows in kick_gen.
 */
static int wait_kaio(struct shring *sr, const struct timespec *t,
		     const sigset_t *mask)
{
	int r = -EAGAIN;

	/*
	 * A task_work of another ring's request of this thread would have
	 * the kernel restart the sleep with the whole of t again: a stream
	 * of them could hold a timed wait past its end (ppoll's restart
	 * keeps its end).  On this ring, uring_work says there is no such
	 * request; the poll of the eventfd comes with a completion.
	 */
	if (rings_fed & ~sr->bit)
		return -EAGAIN;
	atomic_fetch_add_explicit(&sr->kaio_sleepers, 1, memory_order_seq_cst);
	unsigned g0 = atomic_load_explicit(&sr->kick_gen, memory_order_seq_cst);

	if (!atomic_load_explicit(&sr->uring_work, memory_order_seq_cst) &&
	    !ur_cq_pending(sr)) {
		r = kaio_sleep(&sr->kaio, t, mask, &sr->kick_gen, g0);
		if (r != 0 && r != -EINTR)
			r = -EAGAIN;
	}
	atomic_fetch_sub_explicit(&sr->kaio_sleepers, 1, memory_order_seq_cst);
	return r;
}

/*
 * A wait in io_uring_enter ends when the CQ tail passes the head it read
 * plus one, whoever consumes the CQE.  A UD_WAKE posted for a waiter that
 * is about to enter, and drained by a third thread before it reads the
 * head, would be missed: so it looks again every WAIT_SLICE_MS.
 */
int ur_wait(struct shring *sr, const struct timespec *left,
	    const sigset_t *mask)
{
	struct __kernel_timespec ts = {0, WAIT_SLICE_MS * 1000000ll};
	struct io_uring_getevents_arg arg = {
	    .sigmask = (uint64_t)(uintptr_t)mask,
	    .sigmask_sz = _NSIG / 8,
	    .ts = (uint64_t)(uintptr_t)&ts,
	};
	long r;

	if (left && (left->tv_sec < ts.tv_sec ||
		     (left->tv_sec == 0 && left->tv_nsec < ts.tv_nsec))) {
		ts.tv_sec = left->tv_sec;
		ts.tv_nsec = left->tv_nsec;
	}
	/*
	 * Valgrind (3.19) holds its lock across io_uring_enter as if it
	 * could not block: the program's other threads would stop until the
	 * wait timed out, and the one that was to complete it with them.
	 */
	/* Counted before the look: kernel AIO submitted after it wakes us
	 * (route_direct()). */
	atomic_fetch_add_explicit(&sr->uring_sleepers, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (ur_kaio_busy(sr) || uaio__valgrind) {
		struct timespec t = {(time_t)ts.tv_sec, (long)ts.tv_nsec};

		atomic_fetch_sub_explicit(&sr->uring_sleepers, 1,
					  memory_order_relaxed);
		if (!uaio__valgrind && (r = wait_kaio(sr, &t, mask)) != -EAGAIN)
			return (int)r;
		return wait_poll(sr, &t, mask, ur_kaio_busy(sr));
	}
	r = RAW(__NR_io_uring_enter, sr->ring.ring_fd, 0, 1,
		IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
		sizeof(arg));
	atomic_fetch_sub_explicit(&sr->uring_sleepers, 1, memory_order_relaxed);
	return r == -EINTR ? -EINTR : 0;
}

void ur_wait_cq(struct shring *sr, int ms)
{
	struct timespec left = {ms / 1000, (ms % 1000) * 1000000l};

	if (!ur_cq_pending(sr))
		(void)ur_wait(sr, &left, NULL);
}

void ur_wake(struct shring *sr)
{
	struct io_uring_sqe *sqe;

	/* A drainer holds cq_lock, which must not be held for sq_lock; a
	 * flusher holds sq_lock and queues it itself (flush_deferred()). */
	if (draining_here || flushing_here) {
		atomic_store(&sr->wake_later, true);
		return;
	}
	pthread_mutex_lock(&sr->sq_lock);
	sqe = ur_sqe(sr);
	io_uring_prep_nop(sqe);
	sqe->user_data = UD_WAKE;
	ur_flush(sr);
	pthread_mutex_unlock(&sr->sq_lock);
}

void ur_draining(struct shring *sr, bool on)
{
	draining_here = on;
	if (!on && atomic_exchange(&sr->wake_later, false))
		ur_wake(sr);
}
