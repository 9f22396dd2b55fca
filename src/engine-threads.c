/*
 * engine-threads.c - every opcode performed off the caller's thread.
 *
 * Each context has its own pool of workers, started lazily and grown while
 * requests wait and fewer than UAIO_THREADS workers exist, and a poller
 * thread for IOCB_CMD_POLL.  io_submit never blocks on I/O: a buffered read
 * is first tried with RWF_NOWAIT, which completes at once from the page
 * cache or fails with EAGAIN; everything else goes to the workers.
 *
 * Requests that go to a thread hold a duplicate of their descriptor, as the
 * kernel holds a file reference: closing the fd after io_submit is safe.
 *
 * io_destroy discards queued requests, then interrupts workers blocked in a
 * read of a pipe or socket with a private real-time signal (the highest one
 * whose disposition is SIG_DFL when the first pool starts) and joins them.
 * Disk I/O is not interruptible; io_destroy waits for it, as the kernel does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif
#define POLL_WAKEUP_BITS (POLLERR | POLLHUP)

struct worker {
	pthread_t tid;
	struct emu_req *cur; /* under lock */
	struct tctx *t;
	int ioprio; /* the thread's current I/O priority */
};

struct tctx {
	struct emu_ctx e;
	pthread_mutex_t lock;
	pthread_cond_t work; /* requests queued, or stop */
	pthread_cond_t idle; /* a worker finished a request */
	struct emu_req *qhead, *qtail;
	unsigned queued;
	unsigned nthreads, nidle, nstarting, max;
	struct worker *workers; /* max of them, allocated with the first */
	bool stop;
	/* The poller. */
	struct emu_req *polls;
	bool poller_started;
	pthread_t poller;
	int pollwake;
	struct pollfd *pfds;
	struct emu_req **preqs;
	unsigned *pgens;
};

static int intr_sig;
static pthread_once_t intr_once = PTHREAD_ONCE_INIT;

static void intr_handler(int sig)
{
	(void)sig; /* only there to make a blocking syscall return EINTR */
}

static void intr_init(void)
{
	for (int s = SIGRTMAX; s >= SIGRTMIN; s--) {
		struct sigaction old, sa;

		if (sigaction(s, NULL, &old) || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = intr_handler;
		sigemptyset(&sa.sa_mask);
		if (sigaction(s, &sa, NULL) == 0) {
			intr_sig = s;
			return;
		}
	}
	uaio__debug("threads: no free real-time signal: io_destroy cannot "
		    "interrupt a request blocked on a pipe or socket");
}

static unsigned default_threads(void)
{
	const char *s = getenv("UAIO_THREADS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);

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

static ssize_t do_rw(struct emu_req *req, int flags)
{
	bool write = req->opcode == CMD_PWRITE || req->opcode == CMD_PWRITEV;
	ssize_t r;

	for (;;) {
		r = write ? pwritev2(req->fd, req->iov, req->iovcnt,
				     req->offset, flags)
			  : preadv2(req->fd, req->iov, req->iovcnt, req->offset,
				    flags);
		if (r >= 0)
			return r;
		if (errno == ESPIPE && emu_stream_offset(req))
			continue;
		return -errno;
	}
}

/* Skip the first done bytes of req's iovec (after a short NOWAIT read). */
static void iov_advance(struct emu_req *req, size_t done)
{
	int i = 0;

	while (i < req->iovcnt && done >= req->iov[i].iov_len)
		done -= req->iov[i++].iov_len;
	memmove(req->iov, req->iov + i, (req->iovcnt - i) * sizeof(*req->iov));
	req->iovcnt -= i;
	if (req->iovcnt) {
		req->iov[0].iov_base = (char *)req->iov[0].iov_base + done;
		req->iov[0].iov_len -= done;
	}
}

static void set_ioprio(struct worker *w, int prio)
{
	if (prio < 0)
		prio = 0; /* IOPRIO_CLASS_NONE: follow the CPU priority */
	if (w->ioprio != prio &&
	    syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) == 0)
		w->ioprio = prio;
}

static long perform(struct worker *w, struct emu_req *req)
{
	long r, done = (long)(uintptr_t)req->engine_priv;

	set_ioprio(w, req->ioprio);
	for (;;) {
		switch (req->opcode) {
		case CMD_FSYNC:
			r = fsync(req->fd) ? -errno : 0;
			break;
		case CMD_FDSYNC:
			r = fdatasync(req->fd) ? -errno : 0;
			break;
		default:
			r = do_rw(req, req->rw_flags);
			break;
		}
		if (r != -EINTR)
			break;
		if (__atomic_load_n(&w->t->stop, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&req->cancelled, __ATOMIC_ACQUIRE))
			break;
	}
	if (r >= 0)
		r += done;
	else if (done)
		r = done; /* the kernel reports what was transferred */
	return r;
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
		req->worker = w->tid;
		w->cur = req;
		pthread_mutex_unlock(&t->lock);

		long res = perform(w, req);

		pthread_mutex_lock(&t->lock);
		w->cur = NULL;
		pthread_mutex_unlock(&t->lock);
		if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
			emu_discard(&t->e, req);
		else
			emu_complete(&t->e, req, res);
		pthread_mutex_lock(&t->lock);
		if (t->stop)
			pthread_cond_broadcast(&t->idle);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* Start a thread with every signal blocked but ours, so that the program's
 * signals go to its own threads. */
static int spawn(struct tctx *t, pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int ret;

	sigfillset(&all);
	if (intr_sig)
		sigdelset(&all, intr_sig);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(tid, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	(void)t;
	return -ret;
}

/* Under t->lock: make sure someone will run the queue. */
static void grow_pool(struct tctx *t)
{
	pthread_once(&intr_once, intr_init);
	if (!t->workers) {
		t->workers = calloc(t->max, sizeof(*t->workers));
		if (!t->workers)
			return;
	}
	while (t->queued > t->nidle + t->nstarting && t->nthreads < t->max) {
		struct worker *w = &t->workers[t->nthreads];

		w->t = t;
		w->cur = NULL;
		w->ioprio = 0;
		if (spawn(t, &w->tid, worker_main, w))
			break;
		t->nthreads++;
		t->nstarting++;
	}
}

static void *poller_main(void *arg);

static void poll_add(struct tctx *t, struct emu_req *req)
{
	uint64_t one = 1;
	ssize_t r;

	pthread_mutex_lock(&t->lock);
	if (t->stop) {
		pthread_mutex_unlock(&t->lock);
		emu_discard(&t->e, req);
		return;
	}
	if (!t->poller_started) {
		pthread_once(&intr_once, intr_init);
		unsigned n = t->e.ring.nr + 1;
		t->pfds = calloc(n, sizeof(*t->pfds));
		t->preqs = calloc(n, sizeof(*t->preqs));
		t->pgens = calloc(n, sizeof(*t->pgens));
		if (!t->pfds || !t->preqs || !t->pgens ||
		    spawn(t, &t->poller, poller_main, t)) {
			pthread_mutex_unlock(&t->lock);
			emu_complete(&t->e, req, -EAGAIN);
			return;
		}
		t->poller_started = true;
	}
	req->state = REQ_POLLING;
	req->next = t->polls;
	t->polls = req;
	pthread_mutex_unlock(&t->lock);
	r = write(t->pollwake, &one, sizeof(one));
	(void)r;
}

static void *poller_main(void *arg)
{
	struct tctx *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		unsigned n = 1;
		struct emu_req *done = NULL;

		t->pfds[0] =
		    (struct pollfd){.fd = t->pollwake, .events = POLLIN};
		for (struct emu_req *r = t->polls; r; r = r->next) {
			t->pfds[n] = (struct pollfd){
			    .fd = r->fd,
			    .events = emu_poll_ask(r->poll_events)};
			t->preqs[n] = r;
			t->pgens[n] = r->gen;
			n++;
		}
		pthread_mutex_unlock(&t->lock);
		int pr = poll(t->pfds, n, -1);
		if (pr > 0 && t->pfds[0].revents) {
			uint64_t v;
			ssize_t rr = read(t->pollwake, &v, sizeof(v));
			(void)rr;
		}
		pthread_mutex_lock(&t->lock);
		if (pr <= 0 || t->stop)
			continue;
		for (unsigned i = 1; i < n; i++) {
			struct emu_req *r = t->preqs[i], **pp;
			short rev = t->pfds[i].revents;

			if (!rev || r->state != REQ_POLLING ||
			    r->gen != t->pgens[i] ||
			    !(rev & (r->poll_events | POLL_WAKEUP_BITS)))
				continue;
			for (pp = &t->polls; *pp != r; pp = &(*pp)->next)
				;
			*pp = r->next;
			r->state = REQ_RUNNING;
			r->engine_priv = (void *)(uintptr_t)(unsigned short)rev;
			r->next = done;
			done = r;
		}
		pthread_mutex_unlock(&t->lock);
		while (done) {
			struct emu_req *r = done;
			done = r->next;
			emu_complete(&t->e, r, (long)(uintptr_t)r->engine_priv);
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

static bool is_dir(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* vfs_readv() says EINVAL for a file without FMODE_CAN_READ before it
 * looks at a zero length; any other file reads nothing. */
static bool cannot_read(int fd)
{
	struct iovec none = {NULL, 0};

	return preadv2(fd, &none, 1, -1, 0) < 0 && errno == EINVAL;
}

/*
 * Try to finish req inside io_submit without blocking (1 if it did, 0 to
 * hand it to a worker).  A buffered read served from the page cache costs
 * what a pread costs.  The attempt also shows what the kernel refuses at
 * submit for the kind of file: no read method (a directory, an epoll fd)
 * is EINVAL, and RWF_NOWAIT on a file that cannot do it EOPNOTSUPP.
 */
static int threads_try_now(struct emu_ctx *e, struct emu_req *req)
{
	bool user_nowait = req->rw_flags & RWF_NOWAIT;
	ssize_t r;

	req->engine_priv = NULL;
	switch (req->opcode) {
	case CMD_POLL: {
		long res;
		if (emu_poll_now(req, &res)) {
			emu_complete(e, req, res);
			return 1;
		}
		return 0;
	}
	case CMD_PREAD:
	case CMD_PREADV:
		if (req->fd_flags & O_DIRECT)
			return 0; /* NOWAIT would still wait for the disk */
		r = do_rw(req, req->rw_flags | RWF_NOWAIT);
		if (r == -EOPNOTSUPP && !user_nowait)
			/* No NOWAIT, or no read_iter: a directory has only
			 * ->read, which aio_read() refuses. */
			return is_dir(req->fd) ? -EINVAL : 0;
		if (r == -EOPNOTSUPP)
			return -EOPNOTSUPP;
		if (r == -EINVAL && cannot_read(req->fd))
			return -EINVAL; /* no read method at all (epoll) */
		if (r == -EAGAIN && !user_nowait)
			return 0;
		if (r > 0 && !user_nowait) {
			size_t want = 0;
			for (int i = 0; i < req->iovcnt; i++)
				want += req->iov[i].iov_len;
			if ((size_t)r < want) {
				/* Partly cached: the worker reads the rest. */
				iov_advance(req, (size_t)r);
				if (req->offset != -1)
					req->offset += r;
				req->engine_priv = (void *)(uintptr_t)r;
				return 0;
			}
		}
		emu_complete(e, req, r);
		return 1;
	default:
		return 0;
	}
}

static void threads_start(struct emu_ctx *e, struct emu_req **reqs, int n)
{
	struct tctx *t = (struct tctx *)e;
	struct emu_req *head = NULL, **tailp = &head;
	unsigned count = 0;

	for (int i = 0; i < n; i++) {
		struct emu_req *req = reqs[i];

		own_fd(req);
		if (req->opcode == CMD_POLL) {
			poll_add(t, req);
			continue;
		}
		req->next = NULL;
		*tailp = req;
		tailp = &req->next;
		count++;
	}
	if (!count)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->stop) {
		pthread_mutex_unlock(&t->lock);
		while (head) {
			struct emu_req *r = head;
			head = r->next;
			emu_discard(e, r);
		}
		return;
	}
	for (struct emu_req *r = head; r; r = r->next)
		r->state = REQ_QUEUED; /* under the lock: io_cancel looks */
	if (t->qtail)
		t->qtail->next = head;
	else
		t->qhead = head;
	t->qtail =
	    (struct emu_req *)((char *)tailp - offsetof(struct emu_req, next));
	t->queued += count;
	unsigned wake = t->nidle < count ? t->nidle : count;
	grow_pool(t);
	pthread_mutex_unlock(&t->lock);
	/* After unlocking, so that a woken worker does not block on it. */
	while (wake--)
		pthread_cond_signal(&t->work);
}

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
	ret = emu_init(&t->e, c, nr_events);
	if (ret) {
		free(t);
		return ret;
	}
	t->pollwake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->pollwake < 0) {
		ret = -errno;
		emu_fini(&t->e);
		free(t);
		return ret;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->work, NULL);
	pthread_cond_init(&t->idle, NULL);
	t->max = default_threads();
	if (t->max > t->e.ring.nr)
		t->max = t->e.ring.nr;
	c->priv = t;
	atomic_store(&c->handle, (unsigned long)t->e.ring.ar);
	return 0;
}

static int threads_submit(struct uaio_ctx *c, long nr, struct iocb **iocbpp)
{
	return emu_submit(emu_of(c), nr, iocbpp, threads_try_now,
			  threads_start);
}

static int threads_getevents(struct uaio_ctx *c, long min_nr, long nr,
			     struct io_event *events,
			     const struct timespec *timeout,
			     const sigset_t *mask)
{
	return emu_getevents(emu_of(c), min_nr, nr, events, timeout, mask);
}

static int threads_cancel(struct uaio_ctx *c, struct iocb *iocb,
			  struct io_event *result)
{
	struct tctx *t = c->priv;
	struct emu_req *req;
	long res;
	uint64_t one = 1;
	ssize_t r;

	(void)result; /* the kernel never writes it either */
	pthread_mutex_lock(&t->lock);
	req = emu_find(&t->e, iocb);
	if (!req || (req->state != REQ_QUEUED && req->state != REQ_POLLING)) {
		pthread_mutex_unlock(&t->lock);
		return -EINVAL;
	}
	struct emu_req **pp = req->state == REQ_QUEUED ? &t->qhead : &t->polls;
	struct emu_req *prev = NULL;
	while (*pp != req) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = req->next;
	if (req->state == REQ_QUEUED) {
		if (t->qtail == req)
			t->qtail = prev;
		t->queued--;
		res = -ECANCELED;
	} else {
		res = 0; /* a cancelled poll reports no events, as aio_poll */
	}
	req->state = REQ_RUNNING;
	req->cancelled = true;
	pthread_mutex_unlock(&t->lock);
	emu_complete(&t->e, req, res);
	r = write(t->pollwake, &one, sizeof(one));
	(void)r;
	return -EINPROGRESS;
}

static void threads_kill(struct uaio_ctx *c)
{
	struct tctx *t = c->priv;
	struct emu_req *q, *p;
	uint64_t one = 1;
	ssize_t r;

	emu_kill(&t->e);
	pthread_mutex_lock(&t->lock);
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	q = t->qhead;
	p = t->polls;
	t->qhead = t->qtail = NULL;
	t->polls = NULL;
	t->queued = 0;
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->lock);
	r = write(t->pollwake, &one, sizeof(one));
	(void)r;
	/* Unreaped and unstarted requests are discarded, as by the kernel. */
	while (q) {
		struct emu_req *n = q->next;
		emu_discard(&t->e, q);
		q = n;
	}
	while (p) {
		struct emu_req *n = p->next;
		emu_discard(&t->e, p);
		p = n;
	}
}

static void threads_destroy(struct uaio_ctx *c)
{
	struct tctx *t = c->priv;

	/* Interrupt what blocks on a pipe or socket until every worker has
	 * finished its request; disk I/O just completes. */
	pthread_mutex_lock(&t->lock);
	for (;;) {
		bool busy = false;
		for (unsigned i = 0; i < t->nthreads; i++) {
			if (!t->workers[i].cur)
				continue;
			busy = true;
			if (intr_sig)
				pthread_kill(t->workers[i].tid, intr_sig);
		}
		if (!busy)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&t->idle, &t->lock, &ts);
	}
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; i < t->nthreads; i++)
		pthread_join(t->workers[i].tid, NULL);
	if (t->poller_started)
		pthread_join(t->poller, NULL);
	free(t->workers);
	free(t->pfds);
	free(t->preqs);
	free(t->pgens);
	close(t->pollwake);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->work);
	pthread_cond_destroy(&t->idle);
	emu_fini(&t->e);
	free(t);
	c->priv = NULL;
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
