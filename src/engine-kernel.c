/*
 * engine-kernel.c - the kernel's own AIO.
 *
 * The handle is the kernel's context id, unchanged, so raw syscalls on it
 * keep working and the kernel does every check itself.  What uaio adds is
 * the registry lookup in aio.c, which turns a garbage or destroyed handle
 * into -EINVAL where libaio's io_getevents would read it and crash.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sys.h"

static int kernel_probe(char *why, size_t len)
{
	unsigned long ctx = 0;
	long ret = sys_io_setup(1, &ctx);

	if (ret < 0) {
		if (why)
			snprintf(why, len, "io_setup: %s", strerror((int)-ret));
		return (int)ret;
	}
	sys_io_destroy(ctx);
	return 0;
}

static int kernel_setup(struct uaio_ctx *c, unsigned nr_events)
{
	unsigned long ctx = 0;
	long ret = sys_io_setup(nr_events, &ctx);

	if (ret < 0)
		return (int)ret;
	atomic_store(&c->handle, ctx);
	c->priv = (void *)(uintptr_t)((struct aio_ring *)ctx)->id;
	uaio__ctx_kernel_id(c, (unsigned)(uintptr_t)c->priv, true);
	return 0;
}

static int kernel_submit(struct uaio_ctx *c, long nr, struct iocb **iocbpp)
{
	return (int)sys_io_submit(c->handle, nr, iocbpp);
}

static int kernel_getevents(struct uaio_ctx *c, long min_nr, long nr,
			    struct io_event *events,
			    const struct timespec *timeout,
			    const sigset_t *mask)
{
	if (mask) {
		/* libaio passes the kernel's { sigmask, sigsetsize } pair. */
		struct {
			const sigset_t *ss;
			unsigned long ss_len;
		} usig = {mask, _NSIG / 8};
		return (int)sys_io_pgetevents(c->handle, min_nr, nr, events,
					      timeout, &usig);
	}
	return (int)sys_io_getevents(c->handle, min_nr, nr, events, timeout);
}

static int kernel_cancel(struct uaio_ctx *c, struct iocb *iocb,
			 struct io_event *result)
{
	return (int)sys_io_cancel(c->handle, iocb, result);
}

static void kernel_kill(struct uaio_ctx *c)
{
	/* CTX_DEAD is set: no caller starts reading the ring now, and those
	 * inside finish before the kernel unmaps it (aio.c). */
	atomic_thread_fence(memory_order_seq_cst);
	while (atomic_load(&c->peeking))
		sched_yield();
	/* Wakes the kernel's waiters, cancels, waits for in-flight I/O. */
	sys_io_destroy(c->handle);
}

static void kernel_destroy(struct uaio_ctx *c)
{
	uaio__ctx_kernel_id(c, (unsigned)(uintptr_t)c->priv, false);
}

const struct uaio_engine uaio__engine_kernel = {
    .name = "kernel",
    .flags = UAIO_ENGINE_KERNEL_HANDLE,
    .probe = kernel_probe,
    .setup = kernel_setup,
    .submit = kernel_submit,
    .getevents = kernel_getevents,
    .cancel = kernel_cancel,
    .kill = kernel_kill,
    .destroy = kernel_destroy,
};
