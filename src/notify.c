/*
 * notify.c - signalling a request's IOCB_FLAG_RESFD eventfd.
 *
 * The kernel signals it with eventfd_signal(): the counter goes up by one,
 * saturates at UINT64_MAX (which the reader sees as POLLERR), and the
 * caller never blocks.  A write(2) of 1 from user space cannot do that: it
 * blocks on a blocking eventfd near saturation (the library's completion
 * path would hang), fails with EAGAIN on a non-blocking one (the
 * notification is lost), and can never reach UINT64_MAX.
 *
 * So the kernel signals it for us: a POLL of an always-ready file (/dev/null)
 * submitted with the eventfd as its RESFD to a small kernel AIO context of
 * the library's own completes inside io_submit, and its completion is
 * eventfd_signal() itself; the event is then reaped from the ring in user
 * space.  One system call, as a write would be.  Where kernel AIO is not
 * available, the library writes 1, after poll(2) said the counter has room;
 * at saturation the reader is signalled already, and the increment is
 * dropped (uaio(7)).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sys.h"

#define NSIGNALLERS 4
#define CMD_POLL_ 5

struct signaller {
	pthread_mutex_t lock;
	unsigned long ctx; /* 0: not yet, ~0: kernel AIO refused */
};

static struct signaller sigs[NSIGNALLERS] = {
    {PTHREAD_MUTEX_INITIALIZER, 0},
    {PTHREAD_MUTEX_INITIALIZER, 0},
    {PTHREAD_MUTEX_INITIALIZER, 0},
    {PTHREAD_MUTEX_INITIALIZER, 0},
};
static int ready_fd = -1; /* /dev/null: always ready for POLLIN */
static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void forget(void)
{
	/* A forked child has no kernel AIO context of its parent's. */
	for (int i = 0; i < NSIGNALLERS; i++) {
		pthread_mutex_init(&sigs[i].lock, NULL);
		sigs[i].ctx = 0;
	}
	pthread_mutex_init(&fallback_lock, NULL);
}

static void init(void)
{
	ready_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	uaio__atfork(NULL, NULL, forget);
}

/* Under s->lock: 0 when the kernel signalled fd. */
static int kernel_signal(struct signaller *s, int fd)
{
	struct kiocb_abi cb;
	struct kiocb_abi *p = &cb;
	struct aio_ring *r;

	if (!s->ctx && sys_io_setup(1, &s->ctx) < 0)
		s->ctx = ~0ul;
	if (s->ctx == ~0ul || ready_fd < 0)
		return -ENOSYS;
	memset(&cb, 0, sizeof(cb));
	cb.opcode = CMD_POLL_;
	cb.fildes = (uint32_t)ready_fd;
	cb.buf = POLLIN;
	cb.flags = IOCB_FLAG_RESFD;
	cb.resfd = (uint32_t)fd;
	if (sys_io_submit(s->ctx, 1, &p) != 1)
		return -EAGAIN;
	/* Completed at submit (the file is ready): reap it here. */
	r = (struct aio_ring *)s->ctx;
	__atomic_store_n(&r->head, __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	return 0;
}

void uaio__signal_eventfd(int fd)
{
	struct signaller *s = &sigs[(unsigned)uaio__tid() % NSIGNALLERS];
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	uint64_t one = 1;
	int ret;

	pthread_once(&once, init);
	pthread_mutex_lock(&s->lock);
	ret = kernel_signal(s, fd);
	pthread_mutex_unlock(&s->lock);
	if (!ret)
		return;
	/* Room for one more (the counter is below UINT64_MAX - 1): a write
	 * that cannot block, but for the program's own racing writes. */
	pthread_mutex_lock(&fallback_lock);
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT)) {
		ssize_t w = write(fd, &one, sizeof(one));
		(void)w;
	}
	pthread_mutex_unlock(&fallback_lock);
}
