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
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kaio.h"
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
	unsigned head, tail, got = 0;

	/* One consumer at a time: the ring's head is ours to move. */
	pthread_mutex_lock(&k->reap_lock);
	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	while (head != tail && got < n) {
		ev[got++] = r->io_events[head];
		if (++head == r->nr)
			head = 0;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
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
