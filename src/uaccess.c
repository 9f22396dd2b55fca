/*
 * uaccess.c - reading and writing the caller's memory as the kernel does:
 * a pointer the kernel would refuse with EFAULT gets EFAULT, never a crash.
 *
 * The kernel itself does the checking, through process_vm_readv() and
 * process_vm_writev() on our own pid, which fail cleanly on any unmapped or
 * protected page.  They cost a few hundred nanoseconds, so callers batch
 * (one call for all the iocbs of an io_submit), and memory in the calling
 * thread's live stack, which is mapped and writable by construction, is
 * copied directly.  Where the calls are unavailable (a seccomp profile that
 * blocks them), or UAIO_TRUST_POINTERS=1 declines them for speed, only NULL
 * and kernel-half pointers are caught.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uaccess.h"

static __thread uintptr_t stack_top;
static _Atomic int pvm_state;  /* 0 unknown, 1 works, -1 unavailable */
static _Atomic pid_t self_pid; /* glibc no longer caches getpid() */
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_after_fork(void)
{
	atomic_store_explicit(&self_pid, getpid(), memory_order_relaxed);
}

static void pid_init(void)
{
	pid_after_fork();
	pthread_atfork(NULL, NULL, pid_after_fork);
}

static pid_t self(void)
{
	pthread_once(&pid_once, pid_init);
	return atomic_load_explicit(&self_pid, memory_order_relaxed);
}

/* The live part of this thread's stack: from our frame to its top. */
static bool on_live_stack(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, sp = (uintptr_t)__builtin_frame_address(0);

	if (unlikely(!stack_top)) {
		pthread_attr_t attr;
		void *lo;
		size_t size;

		if (pthread_getattr_np(pthread_self(), &attr))
			return false;
		if (pthread_attr_getstack(&attr, &lo, &size) == 0)
			stack_top = (uintptr_t)lo + size;
		pthread_attr_destroy(&attr);
		if (!stack_top)
			return false;
	}
	return a >= sp && a < stack_top && len <= stack_top - a;
}

static pthread_once_t trust_once = PTHREAD_ONCE_INIT;

static void trust_init(void)
{
	const char *s = getenv("UAIO_TRUST_POINTERS");

	if (s && *s && strcmp(s, "0") != 0)
		atomic_store_explicit(&pvm_state, -1, memory_order_relaxed);
}

static bool pvm_unavailable(void)
{
	pthread_once(&trust_once, trust_init);
	return atomic_load_explicit(&pvm_state, memory_order_relaxed) < 0;
}

/* Learn once whether the calls work; EPERM/ENOSYS mean a filter. */
static void pvm_note(ssize_t r, int err)
{
	if (r >= 0)
		atomic_store_explicit(&pvm_state, 1, memory_order_relaxed);
	else if (err == ENOSYS || err == EPERM)
		atomic_store_explicit(&pvm_state, -1, memory_order_relaxed);
}

size_t uaio__uread_iov(const struct iovec *local, unsigned nl,
		       const struct iovec *remote, unsigned nr)
{
	if (!pvm_unavailable()) {
		ssize_t r = process_vm_readv(self(), local, nl, remote, nr, 0);
		int err = errno;
		pvm_note(r, err);
		if (r >= 0 || !pvm_unavailable())
			return r < 0 ? 0 : (size_t)r;
	}
	/* No kernel help: copy, as one stream, what is not obviously bad. */
	size_t done = 0, lo = 0;
	unsigned li = 0;
	for (unsigned i = 0; i < nr; i++) {
		const char *src = remote[i].iov_base;
		size_t left = remote[i].iov_len;

		if (uaio__unreadable(src, left))
			break;
		while (left && li < nl) {
			size_t n = local[li].iov_len - lo;
			if (n > left)
				n = left;
			memcpy((char *)local[li].iov_base + lo, src, n);
			src += n;
			left -= n;
			done += n;
			lo += n;
			if (lo == local[li].iov_len) {
				li++;
				lo = 0;
			}
		}
	}
	return done;
}

size_t uaio__uread_vec(const struct iovec *local, const struct iovec *remote,
		       unsigned n)
{
	return uaio__uread_iov(local, n, remote, n);
}

int uaio__uread(void *dst, const void *src, size_t len)
{
	if (uaio__unreadable(src, len))
		return -EFAULT;
	if (on_live_stack(src, len)) {
		memcpy(dst, src, len);
		return 0;
	}
	struct iovec l = {dst, len}, r = {(void *)src, len};
	return uaio__uread_vec(&l, &r, 1) == len ? 0 : -EFAULT;
}

size_t uaio__uwrite_vec(const struct iovec *local, unsigned nl, void *dst,
			size_t len)
{
	if (uaio__unreadable(dst, len))
		return 0;
	if (on_live_stack(dst, len) || pvm_unavailable()) {
		size_t done = 0;
		for (unsigned i = 0; i < nl; i++) {
			memcpy((char *)dst + done, local[i].iov_base,
			       local[i].iov_len);
			done += local[i].iov_len;
		}
		return done;
	}
	struct iovec r = {dst, len};
	ssize_t w = process_vm_writev(self(), local, nl, &r, 1, 0);
	int err = errno;
	pvm_note(w, err);
	if (w < 0 && pvm_unavailable())
		return uaio__uwrite_vec(local, nl, dst, len);
	return w < 0 ? 0 : (size_t)w;
}

int uaio__uwrite(void *dst, const void *src, size_t len)
{
	struct iovec l = {(void *)src, len};

	return uaio__uwrite_vec(&l, 1, dst, len) == len ? 0 : -EFAULT;
}
