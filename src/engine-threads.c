/*
 * engine-threads.c - every opcode performed off the caller's thread.
 *
 * io_submit never blocks.  A buffered read is first tried inside it with
 * RWF_NOWAIT, which completes at once from the page cache (or with what a
 * stream holds) or fails with EAGAIN.  What must wait then goes where it
 * can wait without being stuck for ever:
 *
 *  - I/O on files and block devices, and fsync, to a pool of workers
 *    (started lazily, grown while requests wait and fewer than
 *    UAIO_THREADS exist).  This I/O always ends: io_destroy and the end of
 *    the process wait for it, as the kernel does.
 *
 *  - IOCB_CMD_POLL, and reads and writes of streams (pipes, sockets, ttys,
 *    character devices) that are not ready, to a poller thread.  When the
 *    stream is ready, the poller reads (with RWF_NOWAIT: a reader that
 *    came first finds it empty again) or writes what fits, until a read
 *    got something or a write got everything out, as a blocking read or
 *    write would.  Nothing blocks, so io_destroy just drops them: no
 *    signal is needed to interrupt anyone.  A stream without RWF_NOWAIT
 *    (a tty) is read or written by a worker once the poller saw it ready.
 *
 * Requests that leave io_submit hold a duplicate of their descriptor, as
 * the kernel holds a file reference: closing the fd after io_submit is
 * safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "kaio.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif
#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x100
#endif
#define POLL_WAKEUP_BITS (POLLERR | POLLHUP)

struct worker {
	pthread_t tid;
	struct tctx *t;
	int ioprio; /* the thread's current I/O priority */
};

struct tctx {
	struct emu_ctx e;
	pthread_mutex_t lock;
	pthread_cond_t work; /* requests queued, or stop */
	struct emu_req *qhead, *qtail;
	unsigned queued;
	unsigned nthreads, nidle, nstarting, max;
	struct worker *workers; /* max of them, allocated with the first */
	bool stop;
	/* The poller: POLL requests and streams waiting to be ready. */
	struct emu_req *polls;
	bool poller_started;
	unsigned poll_adds; /* requests put on polls, ever: the set is stale */
	pthread_t poller;
	int pollwake; /* eventfd, made with the poller */
	struct pollfd *pfds;
	struct emu_req **preqs;
	unsigned *pgens;
	/* auto: O_DIRECT requests on kernel AIO (kaio-reaper.c). */
	unsigned kaio_n;
	pthread_cond_t kaio_idle; /* kaio_n fell to 0 after stop */
};

static inline struct tctx *tctx_of(struct emu_ctx *e)
{
	return (struct tctx *)((char *)e - offsetof(struct tctx, e));
}

static unsigned default_threads(void)
{
	static _Atomic long cpus; /* sysconf reads /sys each time */
	const char *s = uaio__getenv("UAIO_THREADS");
	long n = atomic_load_explicit(&cpus, memory_order_relaxed);

	if (!n) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		atomic_store_explicit(&cpus, n, memory_order_relaxed);
	}

	if (s && *s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end == '\0' && v > 0 && v <= 4096)
			return (unsigned)v;
		uaio__debug("UAIO_THREADS=%s is not a number from 1 to 4096: "
			    "ignored",
			    s);
	}
	/* Workers mostly wait on the device: enough of them to keep an
	 * O_DIRECT queue of 32 per CPU busy. */
	n = n > 0 ? n * 32 : 32;
	return (unsigned)(n < 32 ? 32 : n > 256 ? 256 : n);
}

/*
 * An empty transfer, which preadv2() and pwritev2() end before they look
 * at the file, where kernel AIO calls its read_iter or write_iter: an
 * eventfd refuses fewer than 8 bytes, a socket sends nothing (and says
 * EPIPE when its peer is gone).
 */
static ssize_t empty_rw(struct emu_req *req, int flags)
{
	struct msghdr none = {0};
	struct stat st;
	ssize_t r;

	if (fstat(req->fd, &st))
		return 0;
	if (!emu_is_write(req))
		return !(st.st_mode & S_IFMT) && uaio__is_eventfd(req->fd)
			   ? -EINVAL
			   : 0;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	r = sendmsg(req->fd, &none,
		    ((flags & RWF_NOWAIT) ? MSG_DONTWAIT : 0) |
			((flags & RWF_NOSIGNAL) ? MSG_NOSIGNAL : 0));
	return r < 0 ? -errno : r;
}

static ssize_t do_rw(struct emu_req *req, int flags)
{
	ssize_t r;

	for (;;) {
		r = emu_is_write(req) ? pwritev2(req->fd, req->iov, req->iovcnt,
						 req->offset, flags)
				      : preadv2(req->fd, req->iov, req->iovcnt,
						req->offset, flags);
		if (r == 0 && !req->done && !emu_iov_len(req))
			return empty_rw(req, flags);
		if (r >= 0)
			return r;
		if (errno == ESPIPE && emu_stream_offset(req))
			continue;
		return -errno;
	}
}

/* What a request that moved req->done bytes before r reports. */
static long total(const struct emu_req *req, long r)
{
	if (r >= 0)
		return req->done + r;
	return req->done ? req->done : r; /* what was transferred counts */
}

static void set_ioprio(struct worker *w, int prio)
{
	if (prio < 0)
		prio = 0; /* IOPRIO_CLASS_NONE: follow the CPU priority */
	if (w->ioprio != prio &&
	    syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) == 0)
		w->ioprio = prio;
}

/* On a worker: blocking I/O, which on a file always ends.  Workers block
 * every signal, so EINTR is an answer of the file system, not ours. */
static long perform(struct worker *w, struct emu_req *req)
{
	set_ioprio(w, req->ioprio);
	switch (req->opcode) {
	case CMD_FSYNC:
		return fsync(req->fd) ? -errno : 0;
	case CMD_FDSYNC:
		return fdatasync(req->fd) ? -errno : 0;
	default:
		return total(req, do_rw(req, req->rw_flags));
	}
}

static void finish(struct tctx *t, struct emu_req *req, long res)
{
	/* After io_destroy the kernel discards events too. */
	if (atomic_load_explicit(&t->e.dead, memory_order_acquire))
		emu_discard(&t->e, req);
	else
		emu_complete(&t->e, req, res);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct tctx *t = w->t;

	pthread_mutex_lock(&t->lock);
	t->nstarting--;
	for (;;) {
		struct emu_req *req = t->qhead;

		if (!req) {
			/* io_destroy: the queue is run to its end first. */
			if (t->stop)
				break;
			t->nidle++;
			pthread_cond_wait(&t->work, &t->lock);
			t->nidle--;
			continue;
		}
		t->qhead = req->next;
		if (!t->qhead)
			t->qtail = NULL;
		t->queued--;
		req->state = REQ_RUNNING;
		pthread_mutex_unlock(&t->lock);
		long res = perform(w, req);

		emu_write_failed(req, res);
		finish(t, req, res);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* Under t->lock: start workers while requests wait for one.  With none
 * at all the request could never run: -EAGAIN, as for the kernel's
 * allocation failures in io_submit. */
static int grow_pool(struct tctx *t, unsigned waiting)
{
	if (!t->workers) {
		t->workers = calloc(t->max, sizeof(*t->workers));
		if (!t->workers)
			return -EAGAIN;
	}
	while ((waiting > t->nidle + t->nstarting || !t->nthreads) &&
	       t->nthreads < t->max) {
		struct worker *w = &t->workers[t->nthreads];

		w->t = t;
		w->ioprio = 0;
		if (uaio__spawn(&w->tid, worker_main, w))
			break;
		t->nthreads++;
		t->nstarting++;
	}
	return t->nthreads ? 0 : -EAGAIN;
}

/* Under t->lock: append a list of requests to the queue. */
static void enqueue(struct tctx *t, struct emu_req *head, struct emu_req *tail,
		    unsigned n)
{
	for (struct emu_req *r = head; r; r = r->next)
		r->state = REQ_QUEUED; /* under the lock: io_cancel looks */
	if (t->qtail)
		t->qtail->next = head;
	else
		t->qhead = head;
	t->qtail = tail;
	t->queued += n;
	(void)grow_pool(t, t->queued); /* the first worker already runs */
}

/*
 * poll() checks its entries one after the other: bytes that arrive midway
 * show on the later waiters of their stream only.  Before a read takes
 * them, every POLL not seen ready looks again (the bytes are still there):
 * the kernel wakes every waiter of a stream at once.  Under t->lock.
 */
static void recheck_polls(struct tctx *t, unsigned n)
{
	bool io_ready = false;

	for (unsigned i = 1; i < n && !io_ready; i++)
		io_ready =
		    t->pfds[i].revents && t->preqs[i]->opcode != CMD_POLL;
	for (unsigned i = 1; io_ready && i < n; i++) {
		if (t->preqs[i]->opcode == CMD_POLL && !t->pfds[i].revents &&
		    poll(&t->pfds[i], 1, 0) < 0)
			t->pfds[i].revents = 0;
	}
}

static void *poller_main(void *arg);

/* Under t->lock: the poller, started with the first request for it. */
static int start_poller(struct tctx *t)
{
	unsigned n = t->e.ring.nr + 1;

	if (t->poller_started)
		return 0;
	if (t->pollwake < 0)
		t->pollwake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!t->pfds)
		t->pfds = calloc(n, sizeof(*t->pfds));
	if (!t->preqs)
		t->preqs = calloc(n, sizeof(*t->preqs));
	if (!t->pgens)
		t->pgens = calloc(n, sizeof(*t->pgens));
	if (t->pollwake < 0 || !t->pfds || !t->preqs || !t->pgens ||
	    uaio__spawn(&t->poller, poller_main, t))
		return -EAGAIN;
	t->poller_started = true;
	return 0;
}

static void poll_kick(struct tctx *t)
{
	uint64_t one = 1;
	ssize_t r = write(t->pollwake, &one, sizeof(one));
	(void)r; /* only EAGAIN at a count of 2^64-2: still readable */
}

static short wanted_events(const struct emu_req *req)
{
	if (req->opcode == CMD_POLL)
		return emu_poll_ask(req->poll_events);
	return emu_is_write(req) ? POLLOUT : POLLIN;
}

/*
 * On the poller, for a request whose descriptor was reported ready: true
 * when it is done, with its result in req->res.  A POLL is done when one
 * of its events came; a read when it got anything (or an error, or EOF);
 * a write when all of it went out.  EAGAIN is a reader that came first.
 */
static bool ready_step(struct emu_req *req, short rev)
{
	ssize_t r;

	if (req->opcode == CMD_POLL) {
		if (!(rev & (req->poll_events | POLL_WAKEUP_BITS)))
			return false;
		req->res = (unsigned short)rev;
		return true;
	}
	r = do_rw(req, req->rw_flags | RWF_NOWAIT);
	if (r == -EAGAIN)
		return false;
	if (r > 0 && emu_is_write(req) && (size_t)r < emu_iov_len(req)) {
		emu_iov_advance(req, (size_t)r);
		return false;
	}
	req->res = total(req, r);
	return true;
}

/* Rebuild the poll set from t->polls; under t->lock.  Entry 0 is ours. */
static unsigned poll_set(struct tctx *t)
{
	unsigned n = 1;

	t->pfds[0] = (struct pollfd){.fd = t->pollwake, .events = POLLIN};
	for (struct emu_req *r = t->polls; r; r = r->next) {
		t->pfds[n] =
		    (struct pollfd){.fd = r->fd, .events = wanted_events(r)};
		t->preqs[n] = r;
		t->pgens[n] = r->gen;
		n++;
	}
	return n;
}

static void unlink_poll(struct tctx *t, struct emu_req *req)
{
	struct emu_req **pp = &t->polls;

	while (*pp != req)
		pp = &(*pp)->next;
	*pp = req->next;
}

/*
 * poll() of n entries.  poll() refuses more than RLIMIT_NOFILE of them
 * (EINVAL), which the kernel's AIO knows no limit like: then each slice
 * of that many is looked at without sleeping, and the sleep is on the
 * first slice (our eventfd among them) for at most 10 ms at a time.
 */
static int poll_all(struct pollfd *p, unsigned n, int timeout)
{
	struct rlimit rl;
	unsigned max;
	int r = poll(p, n, timeout);

	if (r >= 0 || errno != EINVAL || getrlimit(RLIMIT_NOFILE, &rl) ||
	    rl.rlim_cur >= n)
		return r;
	max = rl.rlim_cur > 1 ? (unsigned)rl.rlim_cur : 1;
	for (;;) {
		int got = 0;

		for (unsigned s = 0; s < n; s += max) {
			r = poll(p + s, n - s < max ? n - s : max, 0);
			if (r < 0)
				return r;
			got += r;
		}
		if (got || !timeout)
			return got;
		r = poll(p, max, 10);
		if (r < 0)
			return r;
		if (timeout > 0 && (timeout -= 10) <= 0)
			timeout = 0;
	}
}

static void *poller_main(void *arg)
{
	struct tctx *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct emu_req *done = NULL, *qh = NULL, *qt = NULL;
		unsigned n = poll_set(t), nq = 0, adds = t->poll_adds;

		pthread_mutex_unlock(&t->lock);
		int pr = poll_all(t->pfds, n, -1);
		pthread_mutex_lock(&t->lock);
		/* Requests came since the set was built: look with them too,
		 * under the lock that adds them, before acting. */
		if (pr > 0 && adds != t->poll_adds && !t->stop) {
			n = poll_set(t);
			pr = poll_all(t->pfds, n, 0);
		}
		if (pr > 0)
			recheck_polls(t, n);
		if (pr > 0 && t->pfds[0].revents) {
			uint64_t v;
			ssize_t rr = read(t->pollwake, &v, sizeof(v));
			(void)rr;
		}
		if (pr <= 0 || t->stop)
			continue;
		for (unsigned i = 1; i < n; i++) {
			struct emu_req *r = t->preqs[i];
			short rev = t->pfds[i].revents;

			/* Still ours (not cancelled, not reused)? */
			if (!rev || r->state != REQ_POLLING ||
			    r->gen != t->pgens[i])
				continue;
			if (r->kind == KIND_STREAM_BLOCKING &&
			    r->opcode != CMD_POLL) {
				unlink_poll(t, r);
				r->next = NULL;
				if (qt)
					qt->next = r;
				else
					qh = r;
				qt = r;
				nq++;
				continue;
			}
			/* Under the lock: io_cancel cannot take it midway. */
			if (!ready_step(r, rev))
				continue;
			unlink_poll(t, r);
			r->state = REQ_RUNNING;
			r->next = done;
			done = r;
		}
		if (qh) {
			enqueue(t, qh, qt, nq);
			pthread_cond_broadcast(&t->work);
		}
		pthread_mutex_unlock(&t->lock);
		while (done) {
			struct emu_req *r = done;
			done = r->next;
			finish(t, r, r->res);
		}
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* The descriptor the request keeps until it completes. */
static void own_fd(struct emu_req *req)
{
	int fd = fcntl(req->fd, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0) {
		req->fd = fd;
		req->fd_owned = true;
	}
}

/* vfs_readv() says EINVAL for a file without FMODE_CAN_READ before it
 * looks at a zero length; any other file reads nothing. */
static bool cannot_read(int fd)
{
	struct iovec none = {NULL, 0};

	return preadv2(fd, &none, 1, -1, 0) < 0 && errno == EINVAL;
}

static bool is_dir(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether a read of a file that gave r bytes of fewer asked stopped at the
 * end of the file, as the rest of it would. */
static bool at_eof(const struct emu_req *req, ssize_t r)
{
	struct stat st;

	return req->offset >= 0 && fstat(req->fd, &st) == 0 &&
	       S_ISREG(st.st_mode) && req->offset + r >= st.st_size;
}

/*
 * A read or write tried with RWF_NOWAIT inside io_submit gave r: 1 when
 * req is complete, 0 when it must wait (req->kind says where), -errno to
 * refuse it as the kernel does at submit for the kind of file: no read
 * method (a directory, an epoll fd) is EINVAL, and RWF_NOWAIT on a file
 * that cannot do it EOPNOTSUPP.
 */
static int after_try(struct emu_ctx *e, struct emu_req *req, ssize_t r)
{
	bool user_nowait = req->rw_flags & RWF_NOWAIT;

	if (r == -EOPNOTSUPP) {
		if (user_nowait)
			return -EOPNOTSUPP;
		if (!emu_is_write(req) && is_dir(req->fd))
			return -EINVAL; /* only ->read, which aio refuses */
		if (emu_kind(req) == KIND_STREAM)
			req->kind = KIND_STREAM_BLOCKING;
		return 0;
	}
	if (r == -EINVAL && !emu_is_write(req) && cannot_read(req->fd))
		return -EINVAL;
	/* A stream opened O_NONBLOCK answers EAGAIN, as read(2) would. */
	if (r == -EAGAIN && (req->fd_flags & O_NONBLOCK) &&
	    emu_kind(req) == KIND_STREAM)
		user_nowait = true;
	if (user_nowait || (r < 0 && r != -EAGAIN) || r == 0) {
		emu_complete(e, req, r);
		return 1;
	}
	if (r > 0 && (size_t)r == emu_iov_len(req)) {
		emu_complete(e, req, r);
		return 1;
	}
	/* EAGAIN, or part of it: a stream's read ends with what it got, a
	 * file's too when it reached the end of the file. */
	if (r > 0 && !emu_is_write(req) &&
	    (emu_kind(req) == KIND_STREAM || at_eof(req, r))) {
		emu_complete(e, req, r);
		return 1;
	}
	if (r > 0)
		emu_iov_advance(req, (size_t)r);
	if (emu_kind(req) == KIND_UNKNOWN)
		req->kind = KIND_FILE; /* closed meanwhile: EBADF on a worker */
	return 0;
}

/* Under t->lock: make sure what req waits for exists. */
static int reserve_waiter(struct tctx *t, struct emu_req *req)
{
	int ret = 0;

	if (req->opcode == CMD_POLL || req->kind != KIND_FILE)
		ret = start_poller(t);
	if (!ret && req->kind != KIND_STREAM && req->opcode != CMD_POLL)
		ret = grow_pool(t, 0);
	return ret;
}

/*
 * Finish req inside io_submit if that cannot block (1), else say where it
 * waits (0, req->kind set), or refuse it (-errno).
 */
static int threads_try_now(struct emu_ctx *e, struct emu_req *req, long nr)
{
	struct tctx *t = tctx_of(e);
	long res;
	int ret;

	(void)nr; /* a read each, batch or not: no system call takes more */
	switch (req->opcode) {
	case CMD_POLL:
		if (emu_poll_now(req, &res)) {
			emu_complete(e, req, res);
			return 1;
		}
		break;
	case CMD_FSYNC:
	case CMD_FDSYNC:
		req->kind = KIND_FILE; /* validate.c let only files through */
		break;
	default:
		if ((req->fd_flags & O_DIRECT) && emu_kind(req) == KIND_FILE) {
			/* auto: kernel AIO first, a worker if it refuses. */
			if (e->ctx->hybrid && kaio_wants(req))
				return 0;
			break; /* NOWAIT would still wait for the disk */
		}
		ret = emu_write_inline(e, req);
		if (ret)
			return ret;
		/* A file write that waits for the disk, on a worker. */
		if (emu_is_write(req) && emu_kind(req) == KIND_FILE &&
		    !(req->rw_flags & RWF_NOWAIT))
			break;
		ret = after_try(e, req, do_rw(req, req->rw_flags | RWF_NOWAIT));
		if (ret)
			return ret;
		break;
	}
	pthread_mutex_lock(&t->lock);
	ret = reserve_waiter(t, req);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* On the reaper: an O_DIRECT request kernel AIO completed. */
static void kaio_done(struct emu_req *req, long res)
{
	struct tctx *t = tctx_of(req->ectx);

	finish(t, req, res);
	/* Under the lock: io_destroy frees t once it saw kaio_n at 0. */
	pthread_mutex_lock(&t->lock);
	if (--t->kaio_n == 0 && t->stop)
		pthread_cond_broadcast(&t->kaio_idle);
	pthread_mutex_unlock(&t->lock);
}

/*
 * auto: O_DIRECT on files to kernel AIO.  What it refused stays in reqs
 * (compacted, *n updated) for the workers; false if io_destroy came first
 * (nothing was taken).
 */
static bool route_direct(struct tctx *t, struct emu_req **reqs, int *n)
{
	struct emu_req *direct[KAIO_BATCH];
	int nd = kaio_split(reqs, n, direct), k = *n, took;

	if (!nd)
		return true;
	pthread_mutex_lock(&t->lock);
	if (t->stop) {
		pthread_mutex_unlock(&t->lock);
		for (int i = 0; i < nd; i++)
			reqs[k++] = direct[i];
		*n = k;
		return false;
	}
	t->kaio_n += (unsigned)nd;
	pthread_mutex_unlock(&t->lock);
	took = kaio_reaper_submit(direct, nd, kaio_done);
	if (took < nd) {
		pthread_mutex_lock(&t->lock);
		t->kaio_n -= (unsigned)(nd - took);
		pthread_mutex_unlock(&t->lock);
	}
	for (int i = took; i < nd; i++)
		reqs[k++] = direct[i];
	*n = k;
	return true;
}

/* Under t->lock: no worker could be started for what try_now sent to
 * kernel AIO and it refused: take the queue back, to fail it. */
static struct emu_req *unrunnable(struct tctx *t)
{
	struct emu_req *q = NULL;

	if (!t->nthreads && t->qhead) {
		q = t->qhead;
		t->qhead = t->qtail = NULL;
		t->queued = 0;
		for (struct emu_req *r = q; r; r = r->next)
			r->state = REQ_RUNNING; /* io_cancel: too late */
	}
	return q;
}

static void threads_start(struct emu_ctx *e, struct emu_req **reqs, int n)
{
	struct tctx *t = tctx_of(e);
	struct emu_req *head = NULL, *tail = NULL, *fail = NULL;
	unsigned count = 0;
	bool kick = false, live = true;

	if (e->ctx->hybrid)
		live = route_direct(t, reqs, &n);
	for (int i = 0; i < n; i++)
		own_fd(reqs[i]);
	pthread_mutex_lock(&t->lock);
	if (t->stop || !live) {
		/* Raced with io_destroy: dropped, like what it cancels. */
		pthread_mutex_unlock(&t->lock);
		for (int i = 0; i < n; i++)
			emu_discard(e, reqs[i]);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct emu_req *req = reqs[i];

		if (req->opcode == CMD_POLL || req->kind != KIND_FILE) {
			req->state = REQ_POLLING;
			req->next = t->polls;
			t->polls = req;
			t->poll_adds++;
			kick = true;
			continue;
		}
		req->next = NULL;
		if (tail)
			tail->next = req;
		else
			head = req;
		tail = req;
		count++;
	}
	unsigned wake = t->nidle < count ? t->nidle : count;
	if (count) {
		enqueue(t, head, tail, count);
		fail = unrunnable(t);
	}
	pthread_mutex_unlock(&t->lock);
	if (kick)
		poll_kick(t);
	/* After unlocking, so that a woken worker does not block on it. */
	while (wake--)
		pthread_cond_signal(&t->work);
	while (fail) {
		struct emu_req *next = fail->next;

		emu_complete(e, fail, -EAGAIN);
		fail = next;
	}
}

static const struct emu_ops threads_ops = {
    .try_now = threads_try_now,
    .try_ops = EMU_TRY_ALL,
    .start = threads_start,
};

static int threads_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0; /* needs nothing but threads */
}

static int threads_setup(struct uaio_ctx *c, unsigned nr_events)
{
	struct tctx *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	ret = emu_init(&t->e, c, nr_events, &threads_ops);
	if (ret) {
		free(t);
		return ret;
	}
	t->pollwake = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->work, NULL);
	pthread_cond_init(&t->kaio_idle, NULL);
	t->max = default_threads();
	if (t->max > t->e.ring.nr)
		t->max = t->e.ring.nr;
	uaio__ctx_set_priv(c, &t->e);
	atomic_store(&c->handle, (unsigned long)t->e.ring.user);
	return 0;
}

static int threads_submit(struct uaio_ctx *c, long nr, struct iocb **iocbpp)
{
	return emu_submit(emu_of(c), nr, iocbpp);
}

static int threads_getevents(struct uaio_ctx *c, long min_nr, long nr,
			     struct io_event *events,
			     const struct timespec *timeout,
			     const sigset_t *mask)
{
	return emu_getevents(emu_of(c), min_nr, nr, events, timeout, mask);
}

/* Under t->lock: take req off the queue it waits in. */
static void unqueue(struct tctx *t, struct emu_req *req)
{
	struct emu_req **pp = &t->qhead, *prev = NULL;

	while (*pp != req) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = req->next;
	if (t->qtail == req)
		t->qtail = prev;
	t->queued--;
}

/*
 * A request that has not started (queued, or waiting to be ready) is
 * cancelled: res -ECANCELED, or for a POLL no events (0), as aio_poll();
 * a stream write that had sent part of its bytes reports them.
 */
static int threads_cancel(struct uaio_ctx *c, struct iocb *iocb,
			  struct io_event *result)
{
	struct tctx *t = tctx_of(emu_of(c));
	struct emu_req *req;
	long res;

	(void)result; /* the kernel never writes it either */
	pthread_mutex_lock(&t->lock);
	req = emu_find(&t->e, iocb);
	if (!req || (req->state != REQ_QUEUED && req->state != REQ_POLLING)) {
		pthread_mutex_unlock(&t->lock);
		return -EINVAL;
	}
	if (req->state == REQ_QUEUED)
		unqueue(t, req);
	else
		unlink_poll(t, req);
	res = req->opcode == CMD_POLL ? 0 : total(req, -ECANCELED);
	req->state = REQ_RUNNING;
	req->cancelled = true;
	pthread_mutex_unlock(&t->lock);
	emu_complete(&t->e, req, res);
	if (t->poller_started)
		poll_kick(t);
	return -EINPROGRESS;
}

/*
 * io_destroy, first half: polls and streams are dropped (the kernel
 * cancels polls, and would never have a stream request in flight); what
 * is queued on files runs to its end, as it would in the kernel.
 */
static void threads_kill(struct uaio_ctx *c)
{
	struct tctx *t = tctx_of(emu_of(c));
	struct emu_req *p, *drop = NULL;

	emu_kill(&t->e);
	pthread_mutex_lock(&t->lock);
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	/* Taken from their lists and marked under the lock: an io_cancel
	 * that comes after must not find them waiting (it would unlink them
	 * from a list they are no longer on, and complete them twice). */
	p = t->polls;
	t->polls = NULL;
	for (struct emu_req *r = p; r; r = r->next)
		r->state = REQ_RUNNING;
	for (struct emu_req *r = t->qhead, *nx; r; r = nx) {
		nx = r->next;
		if (r->kind == KIND_STREAM_BLOCKING) {
			unqueue(t, r);
			r->state = REQ_RUNNING;
			r->next = drop;
			drop = r;
		}
	}
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->lock);
	if (t->poller_started)
		poll_kick(t);
	while (p) {
		struct emu_req *n = p->next;
		emu_discard(&t->e, p);
		p = n;
	}
	while (drop) {
		struct emu_req *n = drop->next;
		emu_discard(&t->e, drop);
		drop = n;
	}
}

/* Second half: kernel AIO completes what it has, the workers run the
 * queue out and end; then free. */
static void threads_destroy(struct uaio_ctx *c)
{
	struct tctx *t = tctx_of(emu_of(c));

	pthread_mutex_lock(&t->lock);
	while (t->kaio_n)
		pthread_cond_wait(&t->kaio_idle, &t->lock);
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; i < t->nthreads; i++)
		pthread_join(t->workers[i].tid, NULL);
	if (t->poller_started)
		pthread_join(t->poller, NULL);
	free(t->workers);
	free(t->pfds);
	free(t->preqs);
	free(t->pgens);
	if (t->pollwake >= 0)
		close(t->pollwake);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->work);
	pthread_cond_destroy(&t->kaio_idle);
	emu_fini(&t->e);
	free(t);
	uaio__ctx_set_priv(c, NULL);
}

const struct uaio_engine uaio__engine_threads = {
    .name = "threads",
    .probe = threads_probe,
    .setup = threads_setup,
    .submit = threads_submit,
    .getevents = threads_getevents,
    .cancel = threads_cancel,
    .kill = threads_kill,
    .destroy = threads_destroy,
};
