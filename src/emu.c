/*
 * emu.c - the machinery the emulated engines share.
 *
 * Slot accounting follows fs/aio.c: a request holds a ring slot from
 * io_submit until its event is consumed, so requests in flight plus events
 * not yet reaped never exceed nr - 1 and a completion always finds room.
 *
 * Waiting: io_getevents sleeps where the engine says (wait.c: a futex of
 * the context, or ppoll() when io_pgetevents gives a signal mask; the uring
 * engine: its io_uring), returning EINTR on a signal even under SA_RESTART,
 * as the kernel does.  Producers wake only contexts someone waits on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "sys.h"
#include "stats.h"
#include "uaccess.h"

int emu_init(struct emu_ctx *e, struct uaio_ctx *c, unsigned nr_events,
	     const struct emu_ops *ops)
{
	int ret = ring_init(&e->ring, nr_events, UAIO_RING_ID | c->number);

	if (ret)
		return ret;
	e->ctx = c;
	e->ops = ops;
	e->nchunks = (e->ring.nr + EMU_CHUNK - 1) / EMU_CHUNK;
	e->chunks = calloc(e->nchunks, sizeof(*e->chunks));
	if (!e->chunks) {
		ring_fini(&e->ring, e->ring.user);
		return -ENOMEM;
	}
	e->allocated = 0;
	e->free = NULL;
	e->nfree = 0;
	e->fdw = NULL;
	pthread_mutex_init(&e->free_lock, NULL);
	pthread_mutex_init(&e->fdw_lock, NULL);
	atomic_init(&e->wake_seq, 0);
	atomic_init(&e->waiters, 0);
	atomic_init(&e->fd_waiters, 0);
	atomic_init(&e->dead, false);
	atomic_init(&e->read_misses, 0);
	return 0;
}

void emu_fini(struct emu_ctx *e)
{
	char *user = (char *)atomic_load(&e->ctx->handle);

	for (unsigned i = 0; i < e->nchunks; i++)
		free(atomic_load_explicit(&e->chunks[i], memory_order_relaxed));
	free(e->chunks);
	free(e->free);
	pthread_mutex_destroy(&e->free_lock);
	pthread_mutex_destroy(&e->fdw_lock);
	/* The handle is not set when io_setup fails midway. */
	ring_fini(&e->ring, user ? user : e->ring.user);
}

/* Under free_lock: one more chunk of free requests; false if no memory. */
static bool grow(struct emu_ctx *e)
{
	unsigned k = e->allocated / EMU_CHUNK;
	struct emu_req *ch, **stack;

	if (k >= e->nchunks)
		return false;
	/* Room for every request the context may have, at its first:
	 * each is either free or taken, so it never needs more. */
	if (!e->free) {
		stack = malloc((size_t)e->nchunks * EMU_CHUNK * sizeof(*stack));
		if (!stack)
			return false;
		e->free = stack;
	}
	ch = calloc(EMU_CHUNK, sizeof(*ch));
	if (!ch)
		return false;
	for (unsigned i = EMU_CHUNK; i-- > 0;) {
		ch[i].index = k * EMU_CHUNK + i;
		ch[i].ectx = e;
		e->free[e->nfree++] = &ch[i];
	}
	/* Published for emu_req_at() and emu_find() after it is filled. */
	atomic_store_explicit(&e->chunks[k], ch, memory_order_release);
	e->allocated += EMU_CHUNK;
	return true;
}

/*
 * Up to want free requests into reqs, in one lock; 0 when none can be
 * allocated (io_submit says EAGAIN, as when the kernel cannot allocate a
 * kiocb).  A caller takes no more than the ring slots it holds, so another
 * submitter's slot still finds a request.
 */
static unsigned req_take(struct emu_ctx *e, unsigned want,
			 struct emu_req **reqs)
{
	unsigned n = 0;

	pthread_mutex_lock(&e->free_lock);
	while (n < want && (e->nfree || grow(e))) {
		unsigned k = want - n < e->nfree ? want - n : e->nfree;

		e->nfree -= k;
		memcpy(reqs + n, e->free + e->nfree, k * sizeof(*reqs));
		n += k;
	}
	pthread_mutex_unlock(&e->free_lock);
	return n;
}

/* A taken request made ready for its iocb. */
static void req_init(struct emu_req *req, pid_t submitter)
{
	req->next = NULL;
	req->cancelled = false;
	req->resfd = -1;
	req->fd_owned = false;
	req->kind = KIND_UNKNOWN;
	req->path = PATH_ENGINE;
	req->done = 0;
	/* eflags and owner are the engine's, set under its own lock (a
	 * scan of its requests may read them while this one is free). */
	req->iov = req->iov_fast;
	req->gen++;
	/* The engine says where it waits. */
	atomic_store_explicit(&req->state, REQ_RUNNING, memory_order_release);
	req->submitter = submitter;
}

/* What a request holds, let go before it goes back to the free list.
 * Release stores: io_cancel's scan (emu_find) reads them without a lock
 * and confirms what it found under the engine's. */
static void req_release(struct emu_req *req)
{
	if (req->resfd >= 0)
		close(req->resfd);
	if (req->fd_owned)
		close(req->fd);
	if (req->iov != req->iov_fast)
		free(req->iov);
	atomic_store_explicit(&req->state, REQ_FREE, memory_order_release);
	atomic_store_explicit(&req->obj, NULL, memory_order_release);
}

/* Back to the free list: n requests. */
static void free_push(struct emu_ctx *e, struct emu_req *const *reqs,
		      unsigned n)
{
	pthread_mutex_lock(&e->free_lock);
	memcpy(e->free + e->nfree, reqs, n * sizeof(*reqs));
	e->nfree += n;
	pthread_mutex_unlock(&e->free_lock);
}

static void req_put(struct emu_ctx *e, struct emu_req *req)
{
	req_release(req);
	free_push(e, &req, 1);
}

#define SUBMIT_CHUNK 64
/* Bytes between two iocbs that are read rather than split into two ranges. */
#define IOCB_GAP_MAX 512

static __thread char gap_sink[IOCB_GAP_MAX];

static size_t pos_total(const struct iovec *v, unsigned n)
{
	size_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t += v[i].iov_len;
	return t;
}

/* One entry, read as the kernel reads it: the pointer, then its iocb. */
static long copy_one(struct iocb **iocbpp, struct iocb **ptrs, struct iocb *cbs)
{
	if (uaio__uread(ptrs, iocbpp, sizeof(*ptrs)) ||
	    uaio__uread(cbs, ptrs[0], sizeof(*cbs)))
		return 0;
	return 1;
}

/*
 * Copy up to n (at most SUBMIT_CHUNK) iocb pointers and the iocbs they
 * point to; returns how many, from the first, were copied whole (0: the
 * first faulted).
 *
 * The kernel reads an entry only once the one before it is queued, so
 * nothing past a failing entry is touched: the array may end there (a
 * NULL after the last iocb, with a larger nr).  Plain loads (of what m
 * says is mapped) keep to that, one entry per call; reads through
 * process_vm_readv(), which cannot fault on what lies past, may read
 * ahead, two system calls for a chunk.  It costs per remote range (it pins
 * each range's pages), so iocbs close to each other, as in an array, are
 * read as one range, the bytes between them going to a sink.
 */
static long copy_iocbs(struct iocb **iocbpp, long n, struct iocb **ptrs,
		       struct iocb *cbs, const struct uaio_mapped *m)
{
	struct iovec l[2 * SUBMIT_CHUNK], r[SUBMIT_CHUNK];
	unsigned char ord[SUBMIT_CHUNK];
	struct iovec la = {ptrs, (size_t)n * sizeof(*ptrs)},
		     ra = {iocbpp, (size_t)n * sizeof(*ptrs)};
	unsigned nl = 0, nr = 0;
	uintptr_t end = 0;
	size_t got;
	long np, k;

	if (uaio__in_mapped(m, iocbpp, sizeof(*ptrs))) {
		memcpy(ptrs, iocbpp, sizeof(*ptrs));
		if (uaio__in_mapped(m, ptrs[0], sizeof(*cbs))) {
			memcpy(cbs, ptrs[0], sizeof(*cbs));
			return 1;
		}
	}
	if (n == 1)
		return copy_one(iocbpp, ptrs, cbs);
	np = (long)(uaio__uread_ahead(&la, 1, &ra, 1) / sizeof(*ptrs));
	if (!np) /* no kernel help, or a fault at once */
		return copy_one(iocbpp, ptrs, cbs);
	for (k = 0; k < np && !uaio__unreadable(ptrs[k], sizeof(*cbs)); k++)
		;
	np = k;
	if (!np)
		return 0;
	/* Insertion sort by address: a batch is small and mostly sorted
	 * already. */
	for (k = 0; k < np; k++) {
		long j = k;
		while (j > 0 &&
		       (uintptr_t)ptrs[ord[j - 1]] > (uintptr_t)ptrs[k]) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = (unsigned char)k;
	}
	for (k = 0; k < np; k++) {
		unsigned i = ord[k];
		uintptr_t p = (uintptr_t)ptrs[i];

		if (nr && p >= end && p - end <= IOCB_GAP_MAX) {
			if (p > end)
				l[nl++] = (struct iovec){gap_sink, p - end};
			r[nr - 1].iov_len += p + sizeof(struct iocb) - end;
		} else {
			r[nr++] = (struct iovec){ptrs[i], sizeof(struct iocb)};
		}
		l[nl++] = (struct iovec){&cbs[i], sizeof(struct iocb)};
		end = p + sizeof(struct iocb);
	}
	got = uaio__uread_ahead(l, nl, r, nr);
	if (got < pos_total(l, nl)) {
		/* A fault: read them one by one, in the caller's order, so
		 * that the first bad one is known exactly. */
		for (k = 0; k < np; k++) {
			l[k] = (struct iovec){&cbs[k], sizeof(struct iocb)};
			r[k] = (struct iovec){ptrs[k], sizeof(struct iocb)};
		}
		got = uaio__uread_ahead(l, (unsigned)np, r, (unsigned)np);
		return (long)(got / sizeof(struct iocb));
	}
	return np;
}

int emu_submit(struct emu_ctx *e, long nr, struct iocb **iocbpp)
{
	int (*try_now)(struct emu_ctx *, struct emu_req *, long) =
	    e->ops->try_now;
	void (*start)(struct emu_ctx *, struct emu_req **, int) = e->ops->start;
	struct emu_req *batch[SUBMIT_CHUNK];
	struct iocb *ptrs[SUBMIT_CHUNK];
	struct iocb cbs[SUBMIT_CHUNK];
	long base = 0, copied = 0;
	struct fd_memo memo = {.fd = -1};
	int n = 0, done = 0, ret = 0;
	unsigned slots = 0; /* reserved in the ring, not used yet */
	bool io_ahead = false;
	struct uaio_mapped mapped;
	/* Requests taken for the slots held, not used yet, used from the
	 * last (a fresh context's first is its request 0). */
	struct emu_req *spare[SUBMIT_CHUNK];
	unsigned nspare = 0;
	const bool stats = e->ctx->stats;
	const pid_t tid = uaio__tid();
	unsigned try_ops;

	if (nr > (long)e->ring.nr)
		nr = e->ring.nr;
	try_ops =
	    try_now ? e->ops->try_ops |
			  (e->ctx->hybrid && nr == 1 ? e->ops->lone_try_ops : 0)
		    : 0;
	/* get_user() of iocbpp[0] faults; iocbpp + i is undefined for NULL. */
	if (uaio__unreadable(iocbpp, sizeof(*iocbpp)))
		return -EFAULT;
	/* Looked up once: most iocbs and arrays lie there. */
	uaio__mapped_now(&mapped);
	for (long i = 0; i < nr; i++) {
		struct iocb *user;
		const struct iocb *cb;
		struct emu_req *req;

		if (i == base + copied) {
			long want =
			    nr - i < SUBMIT_CHUNK ? nr - i : SUBMIT_CHUNK;
			base = i;
			copied =
			    copy_iocbs(iocbpp + i, want, ptrs, cbs, &mapped);
			if (!copied) {
				ret = -EFAULT; /* iocbpp[i] or *iocbpp[i] */
				break;
			}
		}
		user = ptrs[i - base];
		/* Read once, as copy_from_user() does: cbs is ours. */
		cb = &cbs[i - base];
		ret = uaio__check_iocb(cb);
		if (ret)
			break;
		if (atomic_load_explicit(&e->dead, memory_order_acquire)) {
			ret = -EINVAL;
			break;
		}
		/* Slots for the rest of the call in one step, those left
		 * over given back at the end; when they run out, whatever a
		 * reaper freed meanwhile. */
		if (!slots && !(slots = ring_reserve_n(&e->ring, nr - i))) {
			ret = -EAGAIN;
			break;
		}
		if (!nspare) {
			nspare = req_take(
			    e, slots < SUBMIT_CHUNK ? slots : SUBMIT_CHUNK,
			    spare);
			if (!nspare) {
				ret = -EAGAIN;
				break;
			}
		}
		slots--;
		req = spare[--nspare];
		req_init(req, tid);
		ret = uaio__prep_iocb(user, cb, req, &memo);
		if (ret) {
			req_put(e, req);
			slots++;
			break;
		}
		/* What the descriptor is; a POLL waits for readiness,
		 * whatever a read of it would wait on. */
		if (memo.kind && req->opcode != CMD_POLL)
			req->kind = memo.kind;
		req->t_submit = 0;
		if (unlikely(stats)) {
			req->t_submit = uaio__now_ns();
			/* Counted here: a completion may come before we return.
			 */
			uaio__stats_depth(e->ctx,
					  ring_in_flight(&e->ring) - slots);
		}
		if (req->opcode == CMD_POLL && io_ahead) {
			/* The kernel issues the requests ahead of a POLL
			 * before it looks at its readiness (a read ahead may
			 * empty the pipe it polls). */
			start(e, batch, n);
			n = 0;
			io_ahead = false;
		}
		if (try_ops & (1u << req->opcode)) {
			req->path = PATH_INLINE; /* if it completes in there */
			ret = try_now(e, req, nr);
			/* Completed (1), it may already be another thread's:
			 * not to be touched again. */
			if (ret != 1) {
				req->path = PATH_ENGINE;
				if (req->opcode != CMD_POLL)
					memo.kind = req->kind;
			}
			if (ret < 0) {
				/* Refused: never accepted, its eventfd stays
				 * quiet. */
				req_put(e, req);
				slots++;
				break;
			}
			if (ret == 1) {
				ret = 0;
				done++;
				continue;
			}
		}
		if (req->opcode != CMD_POLL)
			io_ahead = true;
		batch[n++] = req;
		done++;
		if (n == (int)(sizeof(batch) / sizeof(batch[0]))) {
			start(e, batch, n);
			n = 0;
		}
	}
	if (nspare)
		free_push(e, spare, nspare);
	if (slots)
		ring_unreserve_n(&e->ring, slots);
	if (n)
		start(e, batch, n);
	return done ? done : ret;
}

void emu_wake(struct emu_ctx *e)
{
	/* Pairs with the look in emu_getevents: a waiter sees the event or
	 * we see the waiter. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&e->waiters, memory_order_relaxed))
		return;
	if (e->ops->wake)
		e->ops->wake(e);
	else
		emu_wake_default(e);
}

#define COMPLETE_BATCH 32

/* Tell memcheck what a read wrote where it could not see it (valgrind.c);
 * what went before, inside io_submit, it saw. */
static void read_seen(const struct emu_req *req, long res)
{
	if ((req->opcode == CMD_PREAD || req->opcode == CMD_PREADV) &&
	    res > req->done)
		uaio__valgrind_wrote(req->iov, req->iovcnt,
				     (size_t)(res - req->done));
}

/* Up to COMPLETE_BATCH: one lock of the free list, one publish, one wake. */
static void complete_some(struct emu_ctx *e, struct emu_req *const *reqs,
			  const long *res, unsigned n)
{
	struct io_event ev[COMPLETE_BATCH];
	int resfd[COMPLETE_BATCH];
	unsigned nfd = 0;
	const bool stats = e->ctx->stats;

	for (unsigned i = 0; i < n; i++) {
		struct emu_req *req = reqs[i];

		ev[i] = (struct io_event){
		    .data = (void *)(uintptr_t)req->data,
		    .obj = req->obj,
		    .res = (unsigned long)res[i],
		    .res2 = 0,
		};
		if (unlikely(stats))
			uaio__stats_completed(e->ctx, req->t_submit, res[i],
					      req->path);
		if (unlikely(uaio__valgrind))
			read_seen(req, res[i]);
		if (req->resfd >= 0) {
			resfd[nfd++] = req->resfd;
			req->resfd = -1;
		}
		req_release(req);
	}
	/* The requests are free before their slots are: a slot always
	 * finds one. */
	free_push(e, reqs, n);
	ring_publish(&e->ring, ev, n);
	for (unsigned i = 0; i < nfd; i++) {
		/* After the event is in the ring: a reader of the eventfd
		 * then finds it with a non-blocking io_getevents. */
		uaio__signal_eventfd(resfd[i]);
		close(resfd[i]);
	}
	emu_wake(e);
}

void emu_complete_many(struct emu_ctx *e, struct emu_req *const *reqs,
		       const long *res, unsigned n)
{
	while (n) {
		unsigned k = n < COMPLETE_BATCH ? n : COMPLETE_BATCH;

		complete_some(e, reqs, res, k);
		reqs += k;
		res += k;
		n -= k;
	}
}

void emu_complete(struct emu_ctx *e, struct emu_req *req, long res)
{
	complete_some(e, &req, &res, 1);
}

/*
 * Whether a file refuses RWF_NOWAIT itself (no FMODE_NOWAIT: io_submit
 * says EOPNOTSUPP), rather than its write path (ext4's buffered writes:
 * EOPNOTSUPP in the event).  kiocb_set_rw_flags() checks reads the same
 * way, and a read moves nothing in a file: one byte is read to see.
 */
static bool nowait_refused(const struct emu_req *req)
{
	char path[32], byte;
	struct iovec one = {&byte, 1};
	int fd = req->fd;
	ssize_t r;

	if ((req->fd_flags & O_ACCMODE) == O_WRONLY) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", req->fd);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return true;
	}
	r = preadv2(fd, &one, 1, 0, RWF_NOWAIT);
	if (fd != req->fd)
		close(fd);
	return r < 0 && errno == EOPNOTSUPP;
}

int emu_write_inline(struct emu_ctx *e, struct emu_req *req)
{
	ssize_t r;

	/*
	 * A synced write waits for the disk: the engine's, unless the program
	 * said RWF_NOWAIT, which a write path that cannot honour it refuses
	 * at once (ext4's buffered writes: EOPNOTSUPP, which io_uring would
	 * turn into EAGAIN), as kernel AIO's io_submit does it.
	 */
	if (!emu_is_write(req))
		return 0;
	if ((req->fd_flags & O_DIRECT) ||
	    (((req->fd_flags & O_DSYNC) ||
	      (req->rw_flags & (RWF_DSYNC | RWF_SYNC))) &&
	     !(req->rw_flags & RWF_NOWAIT))) {
		/*
		 * io_destroy waits for a write to a file and cancels one to
		 * a stream; which it is, is looked up now, while the
		 * descriptor is surely the caller's, who may close it before
		 * io_destroy.  An O_DIRECT file opened by path needs no
		 * system call; beside a write that waits for the disk, a
		 * statx() costs little.
		 */
		(void)emu_kind(req);
		return 0;
	}
	/*
	 * Only what cannot wait for a reader: not a pipe, FIFO, socket or
	 * tty.  Those refuse a write at an offset (ESPIPE, no FMODE_PWRITE),
	 * so the write itself tells, without an fstat() per request (a system
	 * call costs microseconds in some virtual machines).  At offset -1 it
	 * would write at the file position: looked up first.
	 */
	if ((req->offset < 0 || req->kind != KIND_UNKNOWN) &&
	    emu_kind(req) != KIND_FILE)
		return 0;
	/* RWF_NOWAIT too: it cannot block, and io_uring would turn the
	 * EOPNOTSUPP of a write path that refuses it into EAGAIN. */
	r = pwritev2(req->fd, req->iov, req->iovcnt, req->offset,
		     req->rw_flags);
	if (r < 0 && errno == ESPIPE && req->kind == KIND_UNKNOWN) {
		req->kind = KIND_STREAM; /* not seekable; the engine's */
		return 0;
	}
	if (r < 0 && errno == EOPNOTSUPP && (req->rw_flags & RWF_NOWAIT) &&
	    nowait_refused(req))
		return -EOPNOTSUPP;
	emu_complete(e, req, r < 0 ? -errno : r);
	return 1;
}

void emu_write_efbig(const struct emu_req *req)
{
	struct rlimit rl;

	if (!emu_is_write(req))
		return;
	/* generic_write_check_limits(): only the size limit signals (a
	 * file system's own maximum size does not). */
	if (getrlimit(RLIMIT_FSIZE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    (req->offset >= 0 &&
	     (unsigned long long)req->offset + (unsigned long long)req->done <
		 rl.rlim_cur))
		return;
	if (RAW(SYS_tgkill, getpid(), req->submitter, SIGXFSZ, 0, 0, 0) ==
	    -ESRCH)
		kill(getpid(), SIGXFSZ); /* its thread is gone */
}

/*
 * A try that finds nothing costs a system call on top of the engine's.
 * After EMU_MISS_RUN misses in a row (data the page cache does not hold),
 * only one lone read in EMU_MISS_PROBE is tried, so that the context
 * notices when its reads are cached again; any hit ends the run.
 */
#define EMU_MISS_RUN 8
#define EMU_MISS_PROBE 16

static bool read_worth_trying(struct emu_ctx *e)
{
	unsigned m =
	    atomic_load_explicit(&e->read_misses, memory_order_relaxed);

	if (m < EMU_MISS_RUN)
		return true;
	if (++m >= EMU_MISS_RUN + EMU_MISS_PROBE)
		m = EMU_MISS_RUN - 1; /* this one probes */
	atomic_store_explicit(&e->read_misses, m, memory_order_relaxed);
	return m < EMU_MISS_RUN;
}

int emu_read_inline(struct emu_ctx *e, struct emu_req *req)
{
	ssize_t r;
	size_t want;
	unsigned m;

	if ((req->opcode != CMD_PREAD && req->opcode != CMD_PREADV) ||
	    (req->fd_flags & O_DIRECT) || (req->rw_flags & RWF_NOWAIT) ||
	    !read_worth_trying(e))
		return 0;
	r = preadv2(req->fd, req->iov, req->iovcnt, req->offset,
		    req->rw_flags | RWF_NOWAIT);
	m = atomic_load_explicit(&e->read_misses, memory_order_relaxed);
	if (r < 0) {
		if (errno == EAGAIN && m < EMU_MISS_RUN)
			atomic_store_explicit(&e->read_misses, m + 1,
					      memory_order_relaxed);
		return 0; /* EAGAIN, or an error the engine reports its way */
	}
	if (m)
		atomic_store_explicit(&e->read_misses, 0, memory_order_relaxed);
	want = emu_iov_len(req);
	/* Nothing asked: preadv2() did not even look at the file. */
	if (!want)
		return 0;
	if ((size_t)r == want || r == 0 || emu_kind(req) != KIND_FILE) {
		emu_complete(e, req, r);
		return 1;
	}
	emu_iov_advance(req, (size_t)r); /* the rest, by the engine */
	return 0;
}

bool emu_stream_offset(struct emu_req *req)
{
	struct stat st;

	if (req->offset == -1)
		return false;
	/* sock_read_iter()/sock_write_iter(): ESPIPE unless the offset is 0. */
	if (req->offset != 0 && fstat(req->fd, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		return false;
	req->offset = -1;
	return true;
}

/* The descriptor's file type (S_IFMT bits; 0 for an eventfd and other
 * anonymous files), without asking a FUSE or network file system for
 * fresh attributes (the type never changes); -1 if it is closed. */
static int fd_type(int fd)
{
	struct statx stx;
	struct stat st;

	if (!statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE,
		   &stx))
		return stx.stx_mode & S_IFMT;
	if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter */
		return -1;
	return fstat(fd, &st) ? -1 : (int)(st.st_mode & S_IFMT);
}

enum emu_kind emu_kind(struct emu_req *req)
{
	int type;

	if (req->kind != KIND_UNKNOWN)
		return (enum emu_kind)req->kind;
	if (emu_kind_known_file(req))
		return req->kind = KIND_FILE;
	type = fd_type(req->fd);
	if (type < 0)
		return KIND_UNKNOWN;
	if (S_ISREG(type) || S_ISBLK(type))
		req->kind = KIND_FILE;
	else
		req->kind = KIND_STREAM;
	return (enum emu_kind)req->kind;
}

size_t emu_iov_len(const struct emu_req *req)
{
	size_t t = 0;

	for (int i = 0; i < req->iovcnt; i++)
		t += req->iov[i].iov_len;
	return t;
}

void emu_iov_advance(struct emu_req *req, size_t n)
{
	size_t left = n;
	int i = 0;

	while (i < req->iovcnt && left >= req->iov[i].iov_len)
		left -= req->iov[i++].iov_len;
	memmove(req->iov, req->iov + i, (req->iovcnt - i) * sizeof(*req->iov));
	req->iovcnt -= i;
	if (req->iovcnt && left) { /* a NULL base may stay as it is */
		req->iov[0].iov_base = (char *)req->iov[0].iov_base + left;
		req->iov[0].iov_len -= left;
	}
	if (req->offset != -1)
		req->offset += (long long)n;
	req->done += (long)n;
}

void emu_discard(struct emu_ctx *e, struct emu_req *req)
{
	int resfd = req->resfd;

	/* Before the slot goes: io_destroy waits for the slots, and returns
	 * only when no eventfd of the context can be signalled any more. */
	req->resfd = -1;
	if (resfd >= 0) {
		uaio__signal_eventfd(resfd);
		close(resfd);
	}
	req_put(e, req);
	ring_unreserve(&e->ring);
}

struct emu_req *emu_untag(uint64_t tag)
{
	struct emu_ctx *e = uaio__ctx_priv(uaio__ctx_at((unsigned)(tag >> 41)));
	struct emu_req *req;

	if (!e)
		return NULL;
	req = emu_req_at(e, (unsigned)(tag >> 1) & ((1u << 24) - 1));
	if (!req || req->state == REQ_FREE ||
	    (req->gen & 0xffff) != ((tag >> 25) & 0xffff))
		return NULL;
	return req;
}

struct emu_req *emu_find(struct emu_ctx *e, struct iocb *iocb)
{
	for (unsigned i = 0; i < e->nchunks; i++) {
		struct emu_req *ch =
		    atomic_load_explicit(&e->chunks[i], memory_order_acquire);

		if (!ch)
			break; /* chunks are filled in order */
		for (unsigned k = 0; k < EMU_CHUNK; k++)
			if (ch[k].state != REQ_FREE && ch[k].obj == iocb)
				return &ch[k];
	}
	return NULL;
}

void emu_kill(struct emu_ctx *e)
{
	atomic_store_explicit(&e->dead, true, memory_order_seq_cst);
	/* A waiter counted after this sees dead before it sleeps. */
	emu_wake(e);
}

bool emu_deadline(const struct timespec *t, struct timespec *deadline)
{
	const long long sec_max = LLONG_MAX / 1000000000ll; /* KTIME_SEC_MAX */
	struct timespec now;
	long long ns, now_ns;

	if (!t)
		return true;
	/*
	 * No validation, like the kernel's timespec64_to_ktime(): tv_nsec of
	 * 2e9 is two seconds, a tv_sec of KTIME_SEC_MAX or more is KTIME_MAX
	 * (no timer), and below that the sum wraps as the kernel's does.  A
	 * negative timeout (ktime < 0) waits forever.
	 */
	if (t->tv_sec >= sec_max)
		return true;
	ns = (long long)((unsigned long long)t->tv_sec * 1000000000ull +
			 (unsigned long long)t->tv_nsec);
	if (ns < 0 || ns == LLONG_MAX)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (long long)now.tv_sec * 1000000000ll + now.tv_nsec;
	/* ktime_add_safe() saturates at KTIME_SEC_MAX seconds: forever. */
	if (ns > LLONG_MAX - now_ns)
		return true;
	ns += now_ns;
	deadline->tv_sec = ns / 1000000000ll;
	deadline->tv_nsec = ns % 1000000000ll;
	return false;
}

bool emu_time_left(const struct timespec *deadline, struct timespec *left)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (deadline->tv_sec - now.tv_sec) * 1000000000ll +
	     (deadline->tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return false;
	left->tv_sec = ns / 1000000000ll;
	left->tv_nsec = ns % 1000000000ll;
	return true;
}

/* events + got, except that events may be NULL (io_queue_wait() passes it)
 * while nothing has been copied, and NULL + 0 is undefined. */
static struct io_event *events_at(struct io_event *events, long got)
{
	return got ? events + got : events;
}

int emu_getevents(struct emu_ctx *e, long min_nr, long nr,
		  struct io_event *events, const struct timespec *timeout,
		  const sigset_t *mask)
{
	struct timespec deadline, left;
	bool forever = emu_deadline(timeout, &deadline);
	long got = 0;
	int ret;

	for (;;) {
		if (e->ops->drain)
			e->ops->drain(e);
		ret = ring_reap(&e->ring, events_at(events, got), nr - got);
		if (ret < 0)
			return got ? (int)got : ret;
		got += ret;
		if (got >= min_nr || got >= nr)
			break;
		if (atomic_load_explicit(&e->dead, memory_order_acquire))
			return got ? (int)got : -EINVAL;
		if (!forever && !emu_time_left(&deadline, &left))
			break;

		unsigned seq =
		    atomic_load_explicit(&e->wake_seq, memory_order_seq_cst);
		atomic_fetch_add_explicit(&e->waiters, 1, memory_order_seq_cst);
		if (!ring_empty(&e->ring) ||
		    atomic_load_explicit(&e->dead, memory_order_seq_cst)) {
			atomic_fetch_sub(&e->waiters, 1);
			continue;
		}
		int w =
		    e->ops->wait
			? e->ops->wait(e, forever ? NULL : &left, mask)
			: emu_wait_default(e, seq, forever ? NULL : &deadline,
					   forever ? NULL : &left, mask);
		atomic_fetch_sub(&e->waiters, 1);
		if (w == -EINTR) {
			if (e->ops->drain)
				e->ops->drain(e);
			ret = ring_reap(&e->ring, events_at(events, got),
					nr - got);
			if (ret > 0)
				got += ret;
			return got ? (int)got : -EINTR;
		}
	}
	/* Pass the baton: others may wait for what we left in the ring. */
	if (!ring_empty(&e->ring))
		emu_wake(e);
	return (int)got;
}

bool emu_poll_now(const struct emu_req *req, long *res)
{
	struct pollfd p = {.fd = req->fd, .events = req->poll_events};

	/* poll(2) limits revents to the events asked plus POLLERR|POLLHUP
	 * (and POLLNVAL), as aio_poll() masks vfs_poll() at submit. */
	if (poll(&p, 1, 0) > 0 && p.revents) {
		*res = (unsigned short)p.revents;
		return true;
	}
	return false;
}

short emu_poll_ask(short ev)
{
	if (ev & POLLIN)
		ev |= POLLRDNORM;
	if (ev & POLLOUT)
		ev |= POLLWRNORM;
	return ev;
}
