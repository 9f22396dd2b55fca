/*
 * emu.h - what the emulated engines (threads, uring) share: requests copied
 * from iocbs, ring slot accounting, completion, waiting in io_getevents.
 */
#ifndef UAIO_EMU_H
#define UAIO_EMU_H

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

#include "internal.h"
#include "ring.h"

/* Enough for most vectored requests without allocating (UIO_FASTIOV). */
#define EMU_FAST_IOV 8

enum emu_state {
	REQ_FREE,
	REQ_QUEUED,  /* accepted, not started: cancellable */
	REQ_RUNNING, /* on a worker or in the kernel */
	REQ_POLLING, /* a POLL waiting for readiness: cancellable */
};

/* What a request's descriptor is, for what may wait on it forever. */
enum emu_kind {
	KIND_UNKNOWN,
	KIND_FILE,   /* regular file or block device: I/O always ends */
	KIND_STREAM, /* anything else: waits for readiness, RWF_NOWAIT works */
	KIND_STREAM_BLOCKING, /* a stream without RWF_NOWAIT (a tty) */
};

/* Where a request ran, for UAIO_STATS. */
enum emu_path {
	PATH_ENGINE, /* the engine's own way (io_uring, a worker, the poller) */
	PATH_INLINE, /* completed inside io_submit */
	PATH_KAIO,   /* auto: on the kernel's AIO (kaio.c) */
	EMU_NPATHS,
};

/* A request: the iocb as the kernel would have read it at submit. */
struct emu_req {
	struct iocb *_Atomic obj; /* atomic: io_cancel scans without locks */
	uint64_t data;
	short opcode;
	short poll_events;
	int fd; /* the caller's, or our duplicate if fd_owned */
	bool fd_owned;
	unsigned char kind; /* enum emu_kind, KIND_UNKNOWN until needed */
	unsigned char path; /* enum emu_path */
	int fd_flags;	    /* F_GETFL at submit */
	int resfd;	    /* our duplicate of the eventfd, or -1 */
	int rw_flags;
	int ioprio; /* -1 unless IOCB_FLAG_IOPRIO */
	long long offset;
	struct iovec *iov; /* iov_fast or allocated */
	int iovcnt;
	_Atomic enum emu_state state; /* changed under the engine's lock */
	bool cancelled;		      /* io_cancel or io_destroy asked */
	unsigned index;		      /* in its context, for ever */
	struct emu_ctx *ectx;	      /* its context, for ever */
	unsigned gen;		      /* bumped at each reuse */
	/* The engine's, under its lock: who submitted it, and flags. */
	unsigned owner, eflags;
	pid_t submitter;      /* the thread that submitted it (for SIGXFSZ) */
	long done;	      /* bytes moved before it went async */
	long res;	      /* a result decided off the I/O path */
	uint64_t t_submit;    /* for statistics, 0 when off */
	struct emu_req *next; /* free list, queue, poll list */
	struct iovec iov_fast[EMU_FAST_IOV];
};

struct emu_ctx;

/*
 * What an emulated engine plugs into the shared machinery; only start is
 * required.
 */
struct emu_ops {
	/*
	 * Called for each accepted request that try_ops names, before
	 * start(): 0 to start it,
	 * 1 when it completed at once (emu_complete() done), or -errno to
	 * refuse it as io_submit would (the request is then released).  nr
	 * is the number of requests the io_submit call carries.
	 */
	int (*try_now)(struct emu_ctx *e, struct emu_req *req, long nr);
	/*
	 * The opcodes (bits 1 << CMD_*) try_now() is called for, the others
	 * going straight to start(); lone_try_ops too for a request that an
	 * io_submit of auto's contexts carries alone.  Spares the call for
	 * what it would give back at once (a batch of reads on io_uring).
	 */
	unsigned try_ops, lone_try_ops;
	/* Take the accepted requests, in submission order. */
	void (*start)(struct emu_ctx *e, struct emu_req **reqs, int n);
	/* Move what has completed into the ring (io_getevents, first). */
	void (*drain)(struct emu_ctx *e);
	/*
	 * Sleep until emu_wake(), left passes (NULL: no limit) or a signal
	 * (-EINTR), with mask (or NULL) applied atomically; and the wake-up
	 * that matches it.  Without them, waiting is on a futex of the
	 * context (a descriptor of the thread's own with a mask).
	 */
	int (*wait)(struct emu_ctx *e, const struct timespec *left,
		    const sigset_t *mask);
	void (*wake)(struct emu_ctx *e);
};

#define EMU_TRY_ALL ((1u << CMD_MAX) - 1)

/* Requests are allocated in chunks, when first needed. */
#define EMU_CHUNK 32

struct fd_waiter;

struct emu_ctx {
	struct ring ring;
	struct uaio_ctx *ctx;
	const struct emu_ops *ops;
	struct emu_req *_Atomic *chunks; /* ring.nr / EMU_CHUNK, lazily */
	unsigned nchunks;
	unsigned allocated; /* requests in the chunks, under free_lock */
	/* The free requests, a stack as large as allocated: taking a batch
	 * reads adjacent pointers, where a linked list chased one cache miss
	 * per request. */
	struct emu_req **free;
	unsigned nfree;
	pthread_mutex_t free_lock;
	_Atomic unsigned wake_seq; /* futex: bumped by emu_wake() */
	_Atomic int waiters;
	/* Waiters with a signal mask sleep on descriptors of their own. */
	_Atomic int fd_waiters;
	struct fd_waiter *fdw;
	pthread_mutex_t fdw_lock;
	_Atomic bool dead;
	/* Lone reads tried inside io_submit that found nothing, in a row
	 * (emu_read_inline); approximate, never locked. */
	_Atomic unsigned read_misses;
};

int emu_init(struct emu_ctx *e, struct uaio_ctx *c, unsigned nr_events,
	     const struct emu_ops *ops);
void emu_fini(struct emu_ctx *e);

static inline bool emu_is_write(const struct emu_req *req)
{
	return req->opcode == CMD_PWRITE || req->opcode == CMD_PWRITEV;
}

/* The request with that index, or NULL if its chunk was never needed. */
static inline struct emu_req *emu_req_at(struct emu_ctx *e, unsigned idx)
{
	struct emu_req *ch = atomic_load_explicit(&e->chunks[idx / EMU_CHUNK],
						  memory_order_acquire);

	return ch ? &ch[idx % EMU_CHUNK] : NULL;
}

/*
 * io_submit for an emulated engine: validates each iocb in the kernel's
 * order, reserves a ring slot, copies it into a request, then hands the
 * accepted ones to ops->start() in batches.  Returns io_submit's value.
 */
int emu_submit(struct emu_ctx *e, long nr, struct iocb **iocbpp);

/*
 * A buffered write to a file, done inside io_submit as kernel AIO does:
 * the page cache takes it at once, and it is safe from then on, even if
 * the process ends by _exit() or execve().  1 when req was done here (and
 * completed), 0 when it is not such a write, -EOPNOTSUPP to refuse it (a
 * file that takes no RWF_NOWAIT).  Writes that wait for the disk (O_SYNC,
 * O_DSYNC, RWF_SYNC, RWF_DSYNC) are left to the engine.
 */
int emu_write_inline(struct emu_ctx *e, struct emu_req *req);

/*
 * A write that failed with EFBIG off the submitting thread: the kernel's
 * write path sends SIGXFSZ to the writer when it went past RLIMIT_FSIZE,
 * and with kernel AIO the writer is the thread in io_submit; here it would
 * be a thread of ours (or io_uring's) that blocks every signal.
 */
void emu_write_efbig(const struct emu_req *req);
static inline void emu_write_failed(const struct emu_req *req, long res)
{
	if (unlikely(res == -EFBIG))
		emu_write_efbig(req);
}

/*
 * A buffered read tried inside io_submit with RWF_NOWAIT (auto): 1 when the
 * page cache (or a stream's buffer) served it and it completed, 0 when the
 * rest must wait (a file's read moved on past what it got, req->done), as
 * must anything that failed.  After a run of reads that found nothing,
 * most are not tried (0 at once): see EMU_MISS_RUN.
 */
int emu_read_inline(struct emu_ctx *e, struct emu_req *req);

/* Publish the event for req, signal its eventfd, free req and its slot. */
void emu_complete(struct emu_ctx *e, struct emu_req *req, long res);
/* The same for n requests of e at once (a drain of the engine's
 * completions): one publish and one wake-up for all. */
void emu_complete_many(struct emu_ctx *e, struct emu_req *const *reqs,
		       const long *res, unsigned n);
/* Drop an accepted req without an event (io_destroy discards them), but
 * signal its eventfd: the kernel's aio_complete() still does, into the
 * dying ring, for what io_destroy cancels or waits for. */
void emu_discard(struct emu_ctx *e, struct emu_req *req);

int emu_getevents(struct emu_ctx *e, long min_nr, long nr,
		  struct io_event *events, const struct timespec *timeout,
		  const sigset_t *mask);

/* Wake the threads sleeping in emu_getevents (if any) to look again. */
void emu_wake(struct emu_ctx *e);
/*
 * wait.c: sleeping on the context's futex (seq: wake_seq as read before the
 * last look at the ring; deadline absolute on CLOCK_MONOTONIC, left the
 * same relative, both NULL for ever): 0 or -EINTR.  And the wake-up.
 */
int emu_wait_default(struct emu_ctx *e, unsigned seq,
		     const struct timespec *deadline,
		     const struct timespec *left, const sigset_t *mask);
void emu_wake_default(struct emu_ctx *e);

/* Whether a thread sleeps in emu_getevents, for engines' own wake-ups. */
static inline bool emu_has_waiters(struct emu_ctx *e)
{
	return atomic_load_explicit(&e->waiters, memory_order_relaxed) > 0;
}
/*
 * io_getevents' timeout t: true when it waits forever (NULL, negative),
 * else false with the absolute CLOCK_MONOTONIC deadline; then the time left
 * before it (false once it has passed).
 */
bool emu_deadline(const struct timespec *t, struct timespec *deadline);
bool emu_time_left(const struct timespec *deadline, struct timespec *left);

/*
 * IOCB_CMD_POLL results as the kernel reports them.  Ready at submit, the
 * kernel returns the mask of vfs_poll() limited to the events asked plus
 * POLLERR|POLLHUP (0x1 for a readable pipe): emu_poll_now() polls req's fd
 * without waiting and gives that.  Ready later, it returns the wake-up key
 * (0x41 for a pipe): poll for emu_poll_ask(events), which adds the *NORM
 * twins of POLLIN and POLLOUT, and report what comes back.
 */
bool emu_poll_now(const struct emu_req *req, long *res);
short emu_poll_ask(short events);

/* The live request for iocb, or NULL: io_cancel's lookup. */
struct emu_req *emu_find(struct emu_ctx *e, struct iocb *iocb);

/*
 * After ESPIPE from a read or write at req->offset: true (and offset -1)
 * when the kernel's AIO would have ignored the offset, as for a pipe;
 * false when it fails too, as a socket does for a non-zero offset.
 */
bool emu_stream_offset(struct emu_req *req);

/*
 * req's descriptor kind (statx, once per request); KIND_UNKNOWN when
 * req->fd is no longer open.  O_DIRECT opened by path proves a file: FIFOs,
 * ttys and other devices refuse O_DIRECT at open.
 */
enum emu_kind emu_kind(struct emu_req *req);
/*
 * O_LARGEFILE as the kernel reports it in F_GETFL, where it adds it to
 * every descriptor opened by path (64-bit Linux; the generic value) and to
 * none of a pipe, socket or eventfd; glibc's O_LARGEFILE is 0 there.
 */
#if UINTPTR_MAX > 0xffffffffu &&                                               \
    (defined(__x86_64__) || defined(__aarch64__) || defined(__riscv) ||        \
     defined(__s390x__) || defined(__loongarch__))
#define EMU_O_LARGEFILE 0100000
#endif

/* Whether req's descriptor was opened by path (a file, a block device, a
 * FIFO or another device), as far as its flags at submit tell; true where
 * they cannot tell. */
static inline bool emu_opened_by_path(const struct emu_req *req)
{
#ifdef EMU_O_LARGEFILE
	return req->fd_flags & EMU_O_LARGEFILE;
#else
	(void)req;
	return true;
#endif
}

/* O_DIRECT on a descriptor opened by path: a file or block device (FIFOs,
 * ttys and other devices refuse O_DIRECT at open), known without fstat. */
static inline bool emu_kind_known_file(const struct emu_req *req)
{
#ifdef EMU_O_LARGEFILE
	return (req->fd_flags & O_DIRECT) && emu_opened_by_path(req);
#else
	(void)req;
	return false;
#endif
}

/*
 * A request named in 64 bits, for a kernel that keeps a word for it
 * (io_uring's user_data, kernel AIO's data): its context's number (23
 * bits), its generation (16) and index (24), bit 0 clear.  emu_untag()
 * finds it again, or NULL if the slot was reused since.
 */
static inline uint64_t emu_tag(const struct emu_req *req)
{
	return (uint64_t)req->ectx->ctx->number << 41 |
	       (uint64_t)(req->gen & 0xffff) << 25 | (uint64_t)req->index << 1;
}
struct emu_req *emu_untag(uint64_t tag);

/* A read or write: the bytes of req's iovec, and skipping the first n. */
size_t emu_iov_len(const struct emu_req *req);
void emu_iov_advance(struct emu_req *req, size_t n);

/* Mark dead and wake every waiter: they return -EINVAL. */
void emu_kill(struct emu_ctx *e);

/* Slots held by requests in flight (not yet published). */
static inline unsigned emu_in_flight(struct emu_ctx *e)
{
	return ring_in_flight(&e->ring);
}

/* validate.c: the kernel's per-iocb checks, in its order. */
int uaio__check_iocb(const struct iocb *cb);
/*
 * The open flags of the last descriptor seen in one io_submit call: a
 * batch usually names one file, and one fcntl() then serves all of it.
 */
struct fd_memo {
	int fd; /* -1: none yet */
	int flags;
	unsigned char kind; /* enum emu_kind, once a request needed it */
};
int uaio__prep_iocb(struct iocb *user, const struct iocb *cb,
		    struct emu_req *req, struct fd_memo *memo);
/* RWF_* flags the running kernel knows. */
int uaio__rwf_supported(void);
/* Whether fd is an eventfd (by its name in /proc: no side effect). */
bool uaio__is_eventfd(int fd);

static inline struct emu_ctx *emu_of(struct uaio_ctx *c)
{
	return c->priv;
}

#endif
