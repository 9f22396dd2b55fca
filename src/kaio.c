/*
 * kaio.c - O_DIRECT requests of an emulated context, run by the kernel's
 * own AIO.
 *
 * For O_DIRECT nothing is cheaper than kernel AIO: the request goes to the
 * block layer inside io_submit and its completion costs no thread.  So a
 * context of auto (uaio.7, "auto") hands its O_DIRECT reads and writes on
 * files to a kernel AIO context of the library's own, and keeps io_uring
 * or its thread pool for what kernel AIO would run synchronously.  The
 * request has passed uaio's checks already; the kernel gets a copy of it
 * whose data names the emulated request (emu_tag()), and its event, reaped
 * from the kernel's ring in user space, becomes the emulated context's.
 *
 * The kernel signals completions on an eventfd (its RESFD), which the
 * engine watches with the rest of its work; the kernel cannot cancel file
 * I/O (io_cancel gets -EINVAL, as with the kernel engine), and waits for
 * it when the process ends.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kaio.h"
#include "stats.h"
#include "sys.h"

int kaio_open(struct kaio *k, unsigned nr, bool resfd)
{
	long r;

	memset(k, 0, sizeof(*k));
	k->efd = resfd ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	if (resfd && k->efd < 0)
		return -errno;
	r = sys_io_setup(nr, &k->ctx);
	if (r < 0) {
		if (k->efd >= 0)
			close(k->efd);
		k->efd = -1;
		k->ctx = 0;
		return (int)r;
	}
	pthread_mutex_init(&k->reap_lock, NULL);
	/* kaio_reap() reads the kernel's ring, sized by the kernel: bigger
	 * than valgrind reckons from nr. */
	if (uaio__valgrind) {
		struct aio_ring *ring = (struct aio_ring *)k->ctx;

		uaio__valgrind_defined(
		    ring, sizeof(*ring) + ring->nr * sizeof(struct io_event));
	}
	return 0;
}

bool kaio_wants(const struct emu_req *req)
{
	switch (req->opcode) {
	case CMD_PREAD:
	case CMD_PWRITE:
	case CMD_PREADV:
	case CMD_PWRITEV:
		/* O_DIRECT opened by path: a file or block device. */
		return (req->fd_flags & O_DIRECT) && emu_kind_known_file(req);
	default:
		return false;
	}
}

int kaio_split(struct emu_req **reqs, int *n, struct emu_req **direct)
{
	int nd = 0, k = 0;

	for (int i = 0; i < *n; i++)
		if (nd < KAIO_BATCH && kaio_wants(reqs[i]))
			direct[nd++] = reqs[i];
		else
			reqs[k++] = reqs[i];
	*n = k;
	return nd;
}

int kaio_submit(struct kaio *k, struct emu_req **reqs, int n)
{
	struct kiocb_abi cbs[KAIO_BATCH], *ptrs[KAIO_BATCH];
	long r;

	if (n > KAIO_BATCH)
		n = KAIO_BATCH;
	for (int i = 0; i < n; i++) {
		struct emu_req *req = reqs[i];
		struct kiocb_abi *cb = &cbs[i];
		bool vec =
		    req->opcode == CMD_PREADV || req->opcode == CMD_PWRITEV;

		memset(cb, 0, sizeof(*cb));
		req->path = PATH_KAIO; /* before the kernel may complete it */
		cb->data = emu_tag(req);
		cb->opcode = (uint16_t)req->opcode;
		cb->fildes = (uint32_t)req->fd;
		/* The kernel copies the vector at submit: ours may go. */
		cb->buf = vec ? (uint64_t)(uintptr_t)req->iov
			      : (uint64_t)(uintptr_t)req->iov[0].iov_base;
		cb->nbytes = vec ? (uint64_t)req->iovcnt : req->iov[0].iov_len;
		cb->offset = req->offset;
		cb->rw_flags = (uint32_t)req->rw_flags;
		if (req->ioprio >= 0) {
			cb->flags |= IOCB_FLAG_IOPRIO;
			cb->reqprio = (int16_t)req->ioprio;
		}
		if (k->efd >= 0) {
			cb->flags |= IOCB_FLAG_RESFD;
			cb->resfd = (uint32_t)k->efd;
		}
		ptrs[i] = cb;
	}
	/*
	 * Release, and acquire where events are reaped: the kernel orders
	 * an event after its submission, but ThreadSanitizer sees only
	 * this, and the reaping thread reads and frees the requests.
	 */
	atomic_fetch_add_explicit(&k->inflight, n, memory_order_release);
	r = sys_io_submit(k->ctx, n, ptrs);
	if (r < n) {
		atomic_fetch_sub_explicit(&k->inflight, n - (r > 0 ? r : 0),
					  memory_order_relaxed);
		for (long i = r > 0 ? r : 0; i < n; i++)
			reqs[i]->path = PATH_ENGINE; /* never the kernel's */
	}
	return (int)r;
}

unsigned kaio_reap(struct kaio *k, struct io_event *ev, unsigned n)
{
	struct aio_ring *r = (struct aio_ring *)k->ctx;
	unsigned head, tail, got;

	/* One consumer at a time: the ring's head is ours to move, unless
	 * the kernel moves it for a sleeper (kaio_sleep()). */
	pthread_mutex_lock(&k->reap_lock);
	got = atomic_load_explicit(&k->nstash, memory_order_relaxed);
	if (got) {
		unsigned left = got > n ? got - n : 0;

		got -= left;
		memcpy(ev, k->stash, got * sizeof(*ev));
		memmove(k->stash, k->stash + got, left * sizeof(*ev));
		atomic_store_explicit(&k->nstash, left, memory_order_relaxed);
	}
	if (!k->sleeping) {
		head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		while (head != tail && got < n) {
			ev[got++] = r->io_events[head];
			if (++head == r->nr)
				head = 0;
		}
		__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	} else if (got < n &&
		   uaio__now_ns() - k->sleep_ns > KAIO_SLEEP_STALE_NS) {
		/* A sleep far past its time: its thread is stopped, or in a
		 * signal handler (which may never come back).  The kernel
		 * takes turns with it safely. */
		struct timespec zero = {0, 0};
		long t = sys_io_getevents(k->ctx, 0, n - got, ev + got, &zero);

		if (t > 0)
			got += (unsigned)t;
	}
	pthread_mutex_unlock(&k->reap_lock);
	if (got)
		atomic_fetch_sub_explicit(&k->inflight, got,
					  memory_order_acquire);
	return got;
}

void kaio_quiet(struct kaio *k)
{
	uint64_t v;
	ssize_t r = read(k->efd, &v, sizeof(v));

	(void)r;
}

/*
 * io_pgetevents, not io_getevents: io_uring completes the sleeper's own
 * requests as task_work, which interrupts the sleep as a signal would, and
 * io_getevents then returns EINTR with no signal sent; io_pgetevents asks
 * for a restart, as ppoll does (uaio-wake-probe).  It takes the kernel's
 * completions without the eventfd's read that a sleep in ppoll costs.
 */
int kaio_sleep(struct kaio *k, const struct timespec *left,
	       const sigset_t *mask, _Atomic unsigned *gen, unsigned g0)
{
	struct io_event got[KAIO_STASH];
	struct {
		const sigset_t *mask;
		size_t size;
	} sig = {mask, _NSIG / 8};
	long r = 0;

	if (atomic_load_explicit(&k->no_sleep, memory_order_relaxed))
		return -ENOSYS;
	pthread_mutex_lock(&k->reap_lock);
	if (k->sleeping) {
		pthread_mutex_unlock(&k->reap_lock);
		return -EBUSY;
	}
	if (kaio_pending(k)) {
		pthread_mutex_unlock(&k->reap_lock);
		return 0;
	}
	/* The stash is empty (kaio_pending()), and nothing fills it but
	 * this sleeper. */
	k->sleeping = true;
	k->sleep_ns = uaio__now_ns();
	pthread_mutex_unlock(&k->reap_lock);

	/* From here no kaio_reap() takes a kick from the ring: one that
	 * another took before shows in gen. */
	if (atomic_load_explicit(gen, memory_order_seq_cst) == g0)
		r = sys_io_pgetevents(k->ctx, 1, KAIO_STASH, got, left,
				      mask ? &sig : NULL);

	pthread_mutex_lock(&k->reap_lock);
	k->sleeping = false;
	if (r > 0) {
		/* kaio_reap() found nothing to take meanwhile. */
		memcpy(k->stash, got, (size_t)r * sizeof(*got));
		atomic_store_explicit(&k->nstash, (unsigned)r,
				      memory_order_release);
	}
	pthread_mutex_unlock(&k->reap_lock);
	if (r == -ENOSYS || r == -EPERM || r == -EINVAL) {
		/* Refused by a filter, or not this kernel's call: the
		 * caller waits in ppoll from now on. */
		atomic_store_explicit(&k->no_sleep, true, memory_order_relaxed);
		return -ENOSYS;
	}
	return r == -EINTR ? -EINTR : 0;
}

void kaio_kick(struct kaio *k)
{
	struct kiocb_abi cb = {.data = KAIO_KICK_TAG,
			       .opcode = CMD_POLL,
			       .fildes = (uint32_t)k->efd,
			       .buf = POLLOUT};
	struct kiocb_abi *ptr = &cb;

	/* An eventfd is writable until its count nears 2^64: the poll
	 * completes inside io_submit, and wakes the sleeper. */
	atomic_fetch_add_explicit(&k->inflight, 1, memory_order_release);
	if (sys_io_submit(k->ctx, 1, &ptr) != 1)
		atomic_fetch_sub_explicit(&k->inflight, 1,
					  memory_order_relaxed);
}
