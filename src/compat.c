/*
 * compat.c - libaio's library functions and the LIBAIO_0.1 symbol forms that
 * programs linked against old libaio versions still import.
 */
#include <errno.h>

#include "internal.h"
#include "uaccess.h"

int uaio__getevents(io_context_t ctx, long min_nr, long nr,
		    struct io_event *events, struct timespec *timeout);

#define ERRNO_KEEP(expr)                                                       \
	do {                                                                   \
		int saved_ = errno, ret_ = (expr);                             \
		errno = saved_;                                                \
		return ret_;                                                   \
	} while (0)

/*
 * io_queue_init - io_setup() after zeroing *ctxp.
 * Errors: -EINVAL for maxevents <= 0, else those of io_setup().
 */
UAIO_API int io_queue_init(int maxevents, io_context_t *ctxp)
{
	io_context_t none = NULL;
	int saved = errno;

	if (maxevents <= 0)
		return -EINVAL;
	if (uaio__uwrite(ctxp, &none, sizeof(none))) {
		errno = saved; /* the checked write's failure */
		return -EFAULT;
	}
	return io_setup(maxevents, ctxp);
}

/* io_queue_release - io_destroy(). */
UAIO_API int io_queue_release(io_context_t ctx)
{
	return io_destroy(ctx);
}

/*
 * io_queue_run - reap events one at a time without waiting and call each
 * one's callback (stored in iocb.data by io_set_callback).  Returns 0 once
 * the ring is empty, else the error of io_getevents.
 */
UAIO_API int io_queue_run(io_context_t ctx)
{
	static struct timespec zero = {0, 0};
	struct io_event ev;
	int saved = errno, ret;

	while ((ret = uaio__getevents(ctx, 0, 1, &ev, &zero)) == 1) {
		io_callback_t cb = (io_callback_t)ev.data;
		cb(ctx, ev.obj, (long)ev.res, (long)ev.res2);
	}
	errno = saved;
	return ret;
}

/*
 * io_queue_wait - io_getevents(ctx, 0, 0, NULL, timeout): never waits, as
 * in libaio; kept for the programs that import it.
 */
UAIO_API int io_queue_wait_0_4(io_context_t ctx, struct timespec *timeout);
int io_queue_wait_0_4(io_context_t ctx, struct timespec *timeout)
{
	ERRNO_KEEP(uaio__getevents(ctx, 0, 0, NULL, timeout));
}
__asm__(".symver io_queue_wait_0_4, io_queue_wait@@LIBAIO_0.4");

UAIO_API int io_queue_wait_0_1(io_context_t ctx, struct timespec *timeout);
int io_queue_wait_0_1(io_context_t ctx, struct timespec *timeout)
{
	ERRNO_KEEP(uaio__getevents(ctx, 0, 0, NULL, timeout));
}
__asm__(".symver io_queue_wait_0_1, io_queue_wait@LIBAIO_0.1");

/* io_getevents@LIBAIO_0.1 - (ctx, nr, events, timeout) with min_nr 1. */
UAIO_API int io_getevents_0_1(io_context_t ctx, long nr,
			      struct io_event *events,
			      struct timespec *timeout);
int io_getevents_0_1(io_context_t ctx, long nr, struct io_event *events,
		     struct timespec *timeout)
{
	ERRNO_KEEP(uaio__getevents(ctx, 1, nr, events, timeout));
}
__asm__(".symver io_getevents_0_1, io_getevents@LIBAIO_0.1");

/* io_cancel@LIBAIO_0.1 - (ctx, iocb) with a scratch result. */
UAIO_API int io_cancel_0_1(io_context_t ctx, struct iocb *iocb);
int io_cancel_0_1(io_context_t ctx, struct iocb *iocb)
{
	struct io_event scratch;

	return io_cancel_0_4(ctx, iocb, &scratch);
}
__asm__(".symver io_cancel_0_1, io_cancel@LIBAIO_0.1");
