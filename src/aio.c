/*
 * aio.c - the entry points: the kernel's argument checks in its order, the
 * context lookup, then one call through the context's engine.
 *
 * Every entry point returns >= 0 or -errno and leaves errno as it found it,
 * as libaio does.  Pointers the kernel would fault on at once (NULL, the
 * kernel's half of the address space) get its EFAULT; other wild pointers
 * can only be caught by the kernel engine.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sys.h"
#include "stats.h"
#include "uaccess.h"

/* Keep errno as the caller left it across a call, and cancellation out
 * of it (uaio__nocancel()). */
#define ERRNO_SAVE                                                             \
	int saved_errno_ = errno;                                              \
	const int cancel_state_ = (uaio__fork_check(), uaio__nocancel())
#define ERRNO_RETURN(v)                                                        \
	do {                                                                   \
		int v_ = (v);                                                  \
		uaio__cancel_restore(cancel_state_);                           \
		errno = saved_errno_;                                          \
		return v_;                                                     \
	} while (0)

/*
 * A call the kernel refused with EINVAL on the kernel-engine context c: if
 * the program moved c's ring away from handle (and maybe another ring
 * there), c is stale under it; true when the call must be made again on
 * whatever handle names now.
 */
static bool moved_away(struct uaio_ctx *c, unsigned long handle, int ret)
{
	/* (Or another thread unlisted it while this call used it.) */
	return unlikely(ret == -EINVAL) &&
	       (c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE) &&
	       (uaio__ctx_unlist_moved(c, handle) ||
		atomic_load(&c->handle) != handle);
}

/* The lookup for calls off the hot path: checked against a moved ring. */
static struct uaio_ctx *ctx_get_checked(unsigned long handle)
{
	struct uaio_ctx *c;

	while ((c = uaio__ctx_get(handle)) && uaio__ctx_unlist_moved(c, handle))
		uaio__ctx_put(c);
	return c;
}

/*
 * io_setup - create a context able to hold maxevents requests.
 * Errors, in the kernel's order:
 *   -EFAULT  ctxp is NULL or in the kernel's half;
 *   -EINVAL  *ctxp is not 0, maxevents is 0, or is so large that the ring
 *            size overflows (it is taken as unsigned, so -1 is huge);
 *   -EAGAIN  maxevents exceeds fs.aio-max-nr, or (kernel engine, when no
 *            other engine is allowed) the system-wide aio-nr is used up;
 *   -ENOMEM  out of memory;
 *   -ENOSYS  no engine of the preference list can run here.
 */
static int setup_common(int maxevents, io_context_t *ctxp, const char *list)
{
	unsigned nr = (unsigned)maxevents, n;
	io_context_t old;

	if (uaio__uread(&old, ctxp, sizeof(old)))
		return -EFAULT;
	if (old || nr == 0)
		return -EINVAL;
	/* fs/aio.c: ioctx_alloc(), in unsigned int arithmetic, wrap included.
	 */
	n = nr < uaio__possible_cpus() * 4 ? uaio__possible_cpus() * 4 : nr;
	n *= 2;
	if (n > 0x10000000u / sizeof(struct io_event))
		return -EINVAL;
	if (!n || nr > uaio__aio_max_nr())
		return -EAGAIN;
	return uaio__setup((int)nr, ctxp, list);
}

UAIO_API int io_setup(int maxevents, io_context_t *ctxp)
{
	ERRNO_SAVE;
	ERRNO_RETURN(setup_common(maxevents, ctxp, NULL));
}

UAIO_API int uaio_setup(int maxevents, io_context_t *ctxp, const char *engines)
{
	ERRNO_SAVE;
	ERRNO_RETURN(setup_common(maxevents, ctxp, engines));
}

/*
 * A handle that is not one of uaio's contexts goes to the kernel, which
 * serves the contexts of a raw io_setup and refuses anything else with
 * EINVAL, as a call of the system's libaio would.
 */

/*
 * io_destroy - cancel what can be cancelled, wait for the rest, free.
 * After it returns nothing touches the caller's buffers, iocbs or
 * eventfds for this context.
 * Errors: -EINVAL  ctx is not a live context of this process (unknown,
 *                  already destroyed, being destroyed, a forked parent's).
 */
UAIO_API int io_destroy(io_context_t ctx)
{
	ERRNO_SAVE;
	struct uaio_ctx *c = ctx_get_checked((unsigned long)ctx);

	if (!c)
		ERRNO_RETURN(uaio__ctx_dying((unsigned long)ctx)
				 ? -EINVAL
				 : (int)sys_io_destroy((unsigned long)ctx));
	if (!uaio__ctx_kill(c)) {
		uaio__ctx_put(c);
		ERRNO_RETURN(-EINVAL);
	}
	uaio__ctx_destroy(c, 0);
	ERRNO_RETURN(0);
}

void uaio__ctx_destroy(struct uaio_ctx *c, unsigned extra_refs)
{
	uaio__destroy_begin();
	/* Before kill: the kernel engine's ring is gone after it. */
	if (unlikely(c->stats))
		uaio__stats_report(c);
	c->engine->kill(c);
	uaio__ctx_unlist(c);
	uaio__ctx_wait_idle(c, extra_refs);
	c->engine->destroy(c);
	uaio__stats_detach(c);
	uaio__ctx_free(c);
	uaio__destroy_end();
}

/*
 * io_submit - queue nr requests.  Returns how many were queued; an error
 * only if the first iocb fails.
 * Errors: -EINVAL  nr < 0, ctx not live, or the first iocb is invalid
 *                  (reserved field, opcode, offset, lengths, flags);
 *         -EFAULT  iocbpp or the first iocb unreadable, or its buffer in
 *                  the kernel's half;
 *         -EAGAIN  the ring has no free slot;
 *         -EBADF   bad fd, bad RESFD, or an fd not open for the operation;
 *         -EOPNOTSUPP  an RWF flag the kernel or the file does not support;
 *         -EPERM   IOPRIO_CLASS_RT without CAP_SYS_NICE or CAP_SYS_ADMIN.
 */
UAIO_API int io_submit(io_context_t ctx, long nr, struct iocb *ios[])
{
	ERRNO_SAVE;
	struct uaio_ctx *c;
	int ret;

	if (unlikely(nr < 0))
		ERRNO_RETURN(-EINVAL);
again:
	c = uaio__ctx_get((unsigned long)ctx);
	if (unlikely(!c))
		ERRNO_RETURN((int)sys_io_submit((unsigned long)ctx, nr, ios));
	ret = nr ? c->engine->submit(c, nr, ios) : 0;
	if (moved_away(c, (unsigned long)ctx, ret)) {
		uaio__ctx_put(c);
		goto again;
	}
	if (unlikely(c->stats) && ret > 0)
		uaio__stats_submitted(c, ios, ret);
	uaio__ctx_put(c);
	ERRNO_RETURN(ret);
}

static bool zero_timeout(const struct timespec *t)
{
	return t && t->tv_sec == 0 && t->tv_nsec == 0;
}

static bool ring_is_empty(io_context_t ctx)
{
	const struct aio_ring *ring = (const struct aio_ring *)ctx;

	return ring->magic == AIO_RING_MAGIC &&
	       __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) ==
		   __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
}

/*
 * The kernel's ring, unless c is being destroyed: the kernel's io_destroy
 * unmaps it, and another thread's may be under way.  So the kernel
 * engine's kill waits for the callers inside (peeking), and those that
 * come after see CTX_DEAD (seq_cst on both sides).
 */
static bool kernel_ring_is_empty(struct uaio_ctx *c)
{
	bool empty = false;

	atomic_fetch_add(&c->peeking, 1);
	if (!(atomic_load(&c->users) & CTX_DEAD))
		empty = ring_is_empty((io_context_t)c->handle);
	atomic_fetch_sub(&c->peeking, 1);
	return empty;
}

/*
 * The kernel's io_pgetevents, as libaio calls it: with the { sigmask,
 * sigsetsize } pair even for no mask, which matters beyond the mask: the
 * kernel restarts it after a stop signal (SIGSTOP, then SIGCONT) where
 * io_getevents returns EINTR.
 */
static int kernel_pgetevents(unsigned long h, long min_nr, long nr,
			     struct io_event *events, struct timespec *timeout,
			     const sigset_t *mask)
{
	struct {
		const sigset_t *ss;
		unsigned long ss_len;
	} usig = {mask, _NSIG / 8};
	long r = sys_io_pgetevents(h, min_nr, nr, events, timeout, &usig);

	if (r == -ENOSYS && !mask) /* before Linux 4.18 */
		r = sys_io_getevents(h, min_nr, nr, events, timeout);
	return (int)r;
}

/* The kernel engine: the kernel checks everything, in its order. */
static int getevents_kernel(struct uaio_ctx *c, long min_nr, long nr,
			    struct io_event *events, struct timespec *timeout,
			    const sigset_t *mask, bool pget)
{
	struct timespec ts;

	/*
	 * libaio's peek: a zero timeout on an empty ring returns 0 without
	 * a system call, before the kernel would check min_nr and nr.
	 */
	if (timeout && kernel_ring_is_empty(c)) {
		if (uaio__uread(&ts, timeout, sizeof(ts)))
			return -EFAULT;
		if (zero_timeout(&ts))
			return 0;
	}
	if (pget)
		return kernel_pgetevents(c->handle, min_nr, nr, events, timeout,
					 mask);
	return c->engine->getevents(c, min_nr, nr, events, timeout, mask);
}

/*
 * A handle uaio does not own: a kernel context made by a raw io_setup, or
 * garbage, which the kernel refuses with EINVAL without harm.  libaio's
 * peek reads the ring header where it would crash on garbage: here the
 * reads are checked.
 */
static int getevents_foreign(io_context_t ctx, long min_nr, long nr,
			     struct io_event *events, struct timespec *timeout,
			     const sigset_t *mask, bool pget, bool peek)
{
	struct aio_ring hdr;
	struct timespec ts;

	if (peek && timeout && !uaio__uread(&hdr, ctx, sizeof(hdr)) &&
	    hdr.magic == AIO_RING_MAGIC) {
		if (uaio__uread(&ts, timeout, sizeof(ts)))
			return -EFAULT;
		if (zero_timeout(&ts) && hdr.head == hdr.tail)
			return 0;
	}
	if (pget || mask)
		return kernel_pgetevents((unsigned long)ctx, min_nr, nr, events,
					 timeout, mask);
	return (int)sys_io_getevents((unsigned long)ctx, min_nr, nr, events,
				     timeout);
}

/*
 * peek: libaio's zero-timeout shortcut (the library calls); the raw system
 * calls (syscall.c) have none.
 */
static int getevents_common(io_context_t ctx, long min_nr, long nr,
			    struct io_event *events, struct timespec *timeout,
			    const sigset_t *mask, bool check_mask, bool peek)
{
	struct timespec ts;
	sigset_t ss;
	struct uaio_ctx *c;
	int ret;

again:
	c = uaio__ctx_get((unsigned long)ctx);
	if (unlikely(!c))
		return getevents_foreign(ctx, min_nr, nr, events, timeout, mask,
					 check_mask, peek);
	if (c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE) {
		ret = peek ? getevents_kernel(c, min_nr, nr, events, timeout,
					      mask, check_mask)
			   : c->engine->getevents(c, min_nr, nr, events,
						  timeout, mask);
		if (moved_away(c, (unsigned long)ctx, ret)) {
			uaio__ctx_put(c);
			goto again;
		}
		goto out;
	}
	/* Copied in the kernel's order: timeout, mask, then the context;
	 * libaio's peek returns before the system call, so before the mask
	 * is read. */
	ret = -EFAULT;
	if (timeout && uaio__uread(&ts, timeout, sizeof(ts)))
		goto out;
	ret = 0;
	if (peek && timeout && zero_timeout(&ts) && ring_is_empty(ctx))
		goto out;
	ret = -EFAULT;
	if (check_mask && mask && uaio__uread(&ss, mask, _NSIG / 8))
		goto out;
	if (unlikely(min_nr < 0 || min_nr > nr))
		ret = -EINVAL;
	else
		ret = c->engine->getevents(c, min_nr, nr, events,
					   timeout ? &ts : NULL,
					   mask ? &ss : NULL);
out:
	if (unlikely(c->stats) && ret > 0 &&
	    (c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE))
		uaio__stats_reaped(c, events, ret);
	uaio__ctx_put(c);
	return ret;
}

/*
 * io_getevents - wait for at least min_nr events (at most nr) or the
 * timeout (NULL: forever; {0,0}: no wait).  Returns the number copied.
 * Errors: -EFAULT  timeout unreadable, or events unwritable with an event
 *                  pending (the event stays in the ring);
 *         -EINVAL  ctx not live (also when destroyed during the wait, with
 *                  no event copied), min_nr < 0 or min_nr > nr;
 *         -EINTR   a signal arrived before any event, even with SA_RESTART.
 */
UAIO_API int io_getevents_0_4(io_context_t ctx, long min_nr, long nr,
			      struct io_event *events,
			      struct timespec *timeout);
int io_getevents_0_4(io_context_t ctx, long min_nr, long nr,
		     struct io_event *events, struct timespec *timeout)
{
	ERRNO_SAVE;
	ERRNO_RETURN(getevents_common(ctx, min_nr, nr, events, timeout, NULL,
				      false, true));
}
__asm__(".symver io_getevents_0_4, io_getevents@@LIBAIO_0.4");

/*
 * io_pgetevents - io_getevents with sigmask applied atomically for the
 * wait, as ppoll(2) does.
 * Errors: those of io_getevents, and -EFAULT for an unreadable sigmask.
 */
UAIO_API int io_pgetevents(io_context_t ctx, long min_nr, long nr,
			   struct io_event *events, struct timespec *timeout,
			   sigset_t *sigmask)
{
	ERRNO_SAVE;
	ERRNO_RETURN(getevents_common(ctx, min_nr, nr, events, timeout, sigmask,
				      true, true));
}

/*
 * io_cancel - cancel iocb.  Returns -EINPROGRESS when the cancellation is
 * under way: the event arrives through the ring (res -ECANCELED for a read
 * or write that had not started, on the emulated engines; res 0 for a
 * poll).  result is never written, as by the kernel.
 * Errors: -EFAULT  iocb unreadable (checked first);
 *         -EINVAL  iocb was not submitted (key != 0), ctx not live, or the
 *                  request cannot be cancelled (running, or done).
 */
UAIO_API int io_cancel_0_4(io_context_t ctx, struct iocb *iocb,
			   struct io_event *result)
{
	ERRNO_SAVE;
	struct uaio_ctx *c;
	unsigned key;
	int ret;

again:
	c = uaio__ctx_get((unsigned long)ctx);
	/* The kernel checks it all itself, in this same order. */
	if (!c)
		ERRNO_RETURN(
		    (int)sys_io_cancel((unsigned long)ctx, iocb, result));
	if (!(c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE)) {
		ret = -EFAULT;
		/* No member access: iocb may be NULL. */
		const void *ukey = (const void *)((uintptr_t)iocb +
						  offsetof(struct iocb, key));
		if (uaio__uread(&key, ukey, sizeof(key)))
			goto out;
		ret = -EINVAL;
		if (key != 0)
			goto out;
	}
	ret = c->engine->cancel(c, iocb, result);
	if (moved_away(c, (unsigned long)ctx, ret)) {
		uaio__ctx_put(c);
		goto again;
	}
out:
	uaio__ctx_put(c);
	ERRNO_RETURN(ret);
}
__asm__(".symver io_cancel_0_4, io_cancel@@LIBAIO_0.4");

/* Called from compat.c for the LIBAIO_0.1 forms. */
int uaio__getevents(io_context_t ctx, long min_nr, long nr,
		    struct io_event *events, struct timespec *timeout)
{
	int cs = (uaio__fork_check(), uaio__nocancel());
	int ret = getevents_common(ctx, min_nr, nr, events, timeout, NULL,
				   false, true);

	uaio__cancel_restore(cs);
	return ret;
}

/* The raw io_getevents and io_pgetevents on a context of ours; mask is the
 * caller's (the kernel checks it is readable). */
int uaio__getevents_raw(io_context_t ctx, long min_nr, long nr,
			struct io_event *events, struct timespec *timeout,
			const sigset_t *mask)
{
	int saved = errno, cs = (uaio__fork_check(), uaio__nocancel());
	int ret = getevents_common(ctx, min_nr, nr, events, timeout, mask, true,
				   false);

	uaio__cancel_restore(cs);
	errno = saved;
	return ret;
}

UAIO_API const char *uaio_version(void)
{
	return UAIO_VERSION_STRING;
}

static int copy_out(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (!dst || n >= len)
		return -ERANGE;
	memcpy(dst, src, n + 1);
	return (int)n;
}

UAIO_API int uaio_engine(io_context_t ctx, char *name, size_t len)
{
	ERRNO_SAVE;
	struct uaio_ctx *c = ctx_get_checked((unsigned long)ctx);
	int ret;

	if (!c)
		ERRNO_RETURN(-EINVAL);
	ret = copy_out(name, len, uaio__engine_name(c));
	uaio__ctx_put(c);
	ERRNO_RETURN(ret < 0 ? ret : 0);
}

UAIO_API int uaio_fallback_reason(io_context_t ctx, char *buf, size_t len)
{
	ERRNO_SAVE;
	struct uaio_ctx *c = ctx_get_checked((unsigned long)ctx);
	int ret;

	if (!c)
		ERRNO_RETURN(-EINVAL);
	ret = copy_out(buf, len, c->reason);
	uaio__ctx_put(c);
	ERRNO_RETURN(ret);
}

UAIO_API int uaio_probe(const char *engine, char *why, size_t len)
{
	ERRNO_SAVE;
	const struct uaio_engine *e;
	char scratch[UAIO_REASON_MAX];

	if (!engine)
		ERRNO_RETURN(-EINVAL);
	e = uaio__engine_by_name(engine, strlen(engine));
	if (!e) {
		bool known = uaio__engine_known(engine, strlen(engine));

		if (why && len)
			snprintf(why, len, "%s",
				 known ? UAIO_NOT_BUILT_IN : "unknown engine");
		ERRNO_RETURN(known ? -ENOPKG : -EINVAL);
	}
	scratch[0] = '\0';
	int ret = e->probe(scratch, sizeof(scratch));
	if (why && len)
		snprintf(why, len, "%s", scratch);
	ERRNO_RETURN(ret);
}
