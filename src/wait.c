/*
 * wait.c - how io_getevents sleeps on an emulated context, and is woken.
 *
 * On a futex of the context (its wake_seq), so that a context costs no file
 * descriptor.  The kernel's io_getevents returns EINTR on a signal even
 * under SA_RESTART: a futex wait with a timeout does too (the kernel
 * restarts only waits without one), so a wait "for ever" has a deadline a
 * year away.
 *
 * io_pgetevents applies its signal mask atomically for the wait, as ppoll()
 * does.  A futex cannot, so a thread that waits with a mask sleeps in
 * ppoll() on an eventfd of its own (made at its first such wait, closed
 * when it exits), registered with the context for emu_wake() to write.
 */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "emu.h"
#include "sys.h"

struct fd_waiter {
	int fd;
	struct fd_waiter *next;
};

static __thread int thread_efd UAIO_TLS_IE = -1;
static pthread_key_t efd_key;
static pthread_once_t efd_once = PTHREAD_ONCE_INIT;
static bool efd_key_ok;

static void efd_close(void *arg)
{
	(void)arg;
	if (thread_efd >= 0)
		close(thread_efd);
	thread_efd = -1;
}

/* A forked child's thread must not share its parent's eventfd: each
 * process's waits would take the other's wake-ups. */
static void efd_forked(void)
{
	if (thread_efd >= 0)
		close(thread_efd);
	thread_efd = -1;
}

static void efd_init(void)
{
	efd_key_ok = pthread_key_create(&efd_key, efd_close) == 0;
	uaio__atfork(NULL, NULL, efd_forked);
}

/* This thread's eventfd for masked waits, or -1. */
static int my_efd(void)
{
	if (thread_efd >= 0)
		return thread_efd;
	pthread_once(&efd_once, efd_init);
	if (!efd_key_ok)
		return -1;
	thread_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (thread_efd >= 0)
		pthread_setspecific(efd_key, (void *)1);
	return thread_efd;
}

static int futex_wait(_Atomic unsigned *word, unsigned val,
		      const struct timespec *deadline)
{
	struct timespec far;
	long r;

	if (!deadline) {
		clock_gettime(CLOCK_MONOTONIC, &far);
		far.tv_sec += 365 * 24 * 3600;
		deadline = &far;
	}
	r = RAW(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, val, deadline, NULL,
		FUTEX_BITSET_MATCH_ANY);
	return r == -EINTR ? -EINTR : 0;
}

static bool stop_waiting(struct emu_ctx *e, unsigned seq)
{
	return atomic_load_explicit(&e->wake_seq, memory_order_seq_cst) !=
		   seq ||
	       !ring_empty(&e->ring) ||
	       atomic_load_explicit(&e->dead, memory_order_seq_cst);
}

/* ppoll() on this thread's eventfd with mask; 1 if it has none. */
static int masked_wait(struct emu_ctx *e, unsigned seq,
		       const struct timespec *left, const sigset_t *mask)
{
	struct fd_waiter me = {.fd = my_efd()};
	struct pollfd p = {.fd = me.fd, .events = POLLIN};
	int pr, err = 0;

	if (me.fd < 0)
		return 1;
	pthread_mutex_lock(&e->fdw_lock);
	me.next = e->fdw;
	e->fdw = &me;
	atomic_fetch_add_explicit(&e->fd_waiters, 1, memory_order_seq_cst);
	pthread_mutex_unlock(&e->fdw_lock);
	/* Registered before this look: emu_wake() writes from now on. */
	pr = stop_waiting(e, seq) ? 0 : ppoll(&p, 1, left, mask);
	if (pr < 0)
		err = errno;
	pthread_mutex_lock(&e->fdw_lock);
	for (struct fd_waiter **pp = &e->fdw; *pp; pp = &(*pp)->next)
		if (*pp == &me) {
			*pp = me.next;
			break;
		}
	atomic_fetch_sub_explicit(&e->fd_waiters, 1, memory_order_relaxed);
	pthread_mutex_unlock(&e->fdw_lock);
	uint64_t v;
	ssize_t r = read(me.fd, &v, sizeof(v)); /* reset it for next time */
	(void)r;
	return err == EINTR ? -EINTR : 0;
}

int emu_wait_default(struct emu_ctx *e, unsigned seq,
		     const struct timespec *deadline,
		     const struct timespec *left, const sigset_t *mask)
{
	sigset_t old;
	int ret;

	if (mask) {
		ret = masked_wait(e, seq, left, mask);
		if (ret != 1)
			return ret;
		/*
		 * No descriptor to spare: the mask is set around the futex
		 * wait, where a signal that comes between the two misses
		 * the wait (uaio(7)).
		 */
		pthread_sigmask(SIG_SETMASK, mask, &old);
		ret = futex_wait(&e->wake_seq, seq, deadline);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return ret;
	}
	return futex_wait(&e->wake_seq, seq, deadline);
}

void emu_wake_default(struct emu_ctx *e)
{
	atomic_fetch_add_explicit(&e->wake_seq, 1, memory_order_seq_cst);
	RAW(SYS_futex, &e->wake_seq, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL,
	    0);
	if (atomic_load_explicit(&e->fd_waiters, memory_order_seq_cst)) {
		uint64_t one = 1;

		pthread_mutex_lock(&e->fdw_lock);
		for (struct fd_waiter *w = e->fdw; w; w = w->next) {
			ssize_t r = write(w->fd, &one, sizeof(one));
			(void)r;
		}
		pthread_mutex_unlock(&e->fdw_lock);
	}
}
