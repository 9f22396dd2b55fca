/*
 * faultshim - make the C library and liburing fail on command, for the
 * tests of uaio's own failure paths.  A test links it before libc, so its
 * definitions come first in symbol lookup and catch the library's calls.
 *
 * Failures are armed per thread (faultshim_arm): the n-th matching call
 * from the arming thread onwards fails, count times, with the errno a real
 * shortage gives; every other call goes through unchanged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "faultshim.h"

static __thread unsigned armed_kinds;
static __thread long skip, left;
static __thread unsigned long injected;

void faultshim_arm(unsigned kinds, long nth, long count)
{
	skip = nth;
	left = count;
	injected = 0;
	armed_kinds = kinds;
}

unsigned long faultshim_disarm(void)
{
	armed_kinds = 0;
	return injected;
}

/* Whether this call of kind must fail. */
static int fail(unsigned kind)
{
	if (!(armed_kinds & kind) || left == 0)
		return 0;
	if (skip > 0) {
		skip--;
		return 0;
	}
	if (left > 0)
		left--;
	injected++;
	return 1;
}

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n)
{
	if (fail(FS_ALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (fail(FS_ALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (fail(FS_ALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
	if (fail(FS_ALLOC))
		return ENOMEM;
	*p = __libc_memalign(align, n);
	return *p ? 0 : ENOMEM;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fail(FS_MMAP)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	return r == -1 ? MAP_FAILED : (void *)r;
}

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
		   void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *,
			   void *(*)(void *), void *);

	if (fail(FS_THREAD))
		return EAGAIN;
	if (!real)
		real = (int (*)(
		    pthread_t *, const pthread_attr_t *, void *(*)(void *),
		    void *))dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
	if (!real)
		real = (int (*)(pthread_t *, const pthread_attr_t *,
				void *(*)(void *),
				void *))dlsym(RTLD_NEXT, "pthread_create");
	return real(t, a, fn, arg);
}

int eventfd(unsigned int v, int flags)
{
	if (fail(FS_FD)) {
		errno = EMFILE;
		return -1;
	}
	return (int)syscall(SYS_eventfd2, v, flags);
}

/* Only the descriptor-making commands can fail. */
int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && fail(FS_FD)) {
		errno = EMFILE;
		return -1;
	}
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

struct io_uring;
struct io_uring_params;

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
			       struct io_uring_params *p)
{
	static int (*real)(unsigned, struct io_uring *,
			   struct io_uring_params *);

	if (fail(FS_URING))
		return -ENOMEM;
	if (!real)
		real = (int (*)(unsigned, struct io_uring *,
				struct io_uring_params *))
		    dlsym(RTLD_NEXT, "io_uring_queue_init_params");
	return real ? real(entries, ring, p) : -ENOSYS;
}
