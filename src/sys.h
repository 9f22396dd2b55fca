/*
 * sys.h - the kernel's AIO system calls, returning -errno (errno is saved
 * and restored by the entry points in aio.c).
 */
#ifndef UAIO_SYS_H
#define UAIO_SYS_H

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long sys_ret(long r)
{
	return r < 0 ? -errno : r;
}

static inline long sys_io_setup(unsigned nr, unsigned long *ctxp)
{
	return sys_ret(syscall(SYS_io_setup, nr, ctxp));
}

static inline long sys_io_destroy(unsigned long ctx)
{
	return sys_ret(syscall(SYS_io_destroy, ctx));
}

static inline long sys_io_submit(unsigned long ctx, long nr, void *iocbpp)
{
	return sys_ret(syscall(SYS_io_submit, ctx, nr, iocbpp));
}

static inline long sys_io_cancel(unsigned long ctx, void *iocb, void *result)
{
	return sys_ret(syscall(SYS_io_cancel, ctx, iocb, result));
}

static inline long sys_io_getevents(unsigned long ctx, long min_nr, long nr,
				    void *events, const void *timeout)
{
	return sys_ret(
	    syscall(SYS_io_getevents, ctx, min_nr, nr, events, timeout));
}

#ifndef SYS_io_pgetevents
#define SYS_io_pgetevents 333
#endif
static inline long sys_io_pgetevents(unsigned long ctx, long min_nr, long nr,
				     void *events, const void *timeout,
				     const void *usig)
{
	return sys_ret(
	    syscall(SYS_io_pgetevents, ctx, min_nr, nr, events, timeout, usig));
}

#endif
