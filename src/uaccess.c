/*
 * uaccess.c - reading and writing the caller's memory as the kernel does:
 * a pointer the kernel would refuse with EFAULT gets EFAULT, never a crash.
 *
 * The kernel itself does the checking, through process_vm_readv() and
 * process_vm_writev() on our own pid, which fail cleanly on any unmapped or
 * protected page.  They cost a system call each, so callers batch (one call
 * for all the iocbs of an io_submit), and memory that is mapped and
 * writable by construction is copied directly: the calling thread's live
 * stack, and the brk heap (from the kernel's start_brk to the current
 * break), where malloc() puts the small objects (iocbs, their pointer
 * arrays, event arrays) in a program's main thread.  The one pointer that
 * then crashes where the kernel returns EFAULT points into a part of the
 * brk heap that the program itself mprotect()ed or munmap()ed (uaio.7).
 * Where the calls are unavailable (a seccomp profile that blocks them), or
 * UAIO_TRUST_POINTERS=1 declines them for speed, only NULL and kernel-half
 * pointers are caught.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uaccess.h"

static __thread uintptr_t stack_lo UAIO_TLS_IE, stack_top UAIO_TLS_IE;
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
	uaio__atfork(NULL, NULL, pid_after_fork);
}

static pid_t self(void)
{
	pthread_once(&pid_once, pid_init);
	return atomic_load_explicit(&self_pid, memory_order_relaxed);
}

/*
 * The live part of this thread's stack: from the caller's frame to its
 * top.  Only while we run on that stack: on a coroutine's or a signal
 * handler's stack, the range from our frame up to the thread's stack top
 * holds unmapped gaps.  Empty (lo == hi) when unknown.
 */
static void live_stack(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
	*lo = *hi = 0;
	if (unlikely(!stack_top)) {
		pthread_attr_t attr;
		void *base;
		size_t size;

		if (pthread_getattr_np(pthread_self(), &attr))
			return;
		if (pthread_attr_getstack(&attr, &base, &size) == 0) {
			stack_lo = (uintptr_t)base;
			stack_top = (uintptr_t)base + size;
		}
		pthread_attr_destroy(&attr);
	}
	if (stack_top && sp >= stack_lo && sp < stack_top) {
		*lo = sp;
		*hi = stack_top;
	}
}

static uintptr_t brk_start; /* 0: no brk heap known */
static pthread_once_t brk_once = PTHREAD_ONCE_INIT;

/* start_brk is field 47 of /proc/self/stat (Linux 3.5); the fields after
 * the command name, which may hold spaces and parentheses, start at 3. */
static void brk_init(void)
{
	char buf[1024];
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 47; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return;
	unsigned long long v = strtoull(p + 1, NULL, 10);
	void *cur = sbrk(0);

	/* Only a heap that lies where the kernel says it starts. */
	if (v && cur != (void *)-1 && (uintptr_t)cur >= v)
		brk_start = (uintptr_t)v;
}

/*
 * The brk heap: mapped read-write from start_brk to the current break.
 * sbrk(0) reads glibc's cached break, without a system call (a plain load
 * of a word that malloc() in another thread may be changing: either value
 * is a break that was true a moment ago).  A free() in another thread that
 * trims the heap meanwhile can unmap the top of it; only a dangling
 * pointer into that top can be there, and it then crashes where the kernel
 * would return EFAULT (uaio.7).  Empty (lo == hi) when unknown.
 */
static void brk_heap(uintptr_t *lo, uintptr_t *hi)
{
	void *cur;

	*lo = *hi = 0;
	pthread_once(&brk_once, brk_init);
	if (!brk_start)
		return;
	cur = sbrk(0);
	if (cur == (void *)-1 || (uintptr_t)cur < brk_start)
		return;
	*lo = brk_start;
	*hi = (uintptr_t)cur;
}

void uaio__mapped_now(struct uaio_mapped *m)
{
	live_stack((uintptr_t)__builtin_frame_address(0), &m->lo[0], &m->hi[0]);
	brk_heap(&m->lo[1], &m->hi[1]);
}

bool uaio__surely_mapped(const void *p, size_t len)
{
	struct uaio_mapped m;

	uaio__mapped_now(&m);
	return uaio__in_mapped(&m, p, len);
}

static pthread_once_t trust_once = PTHREAD_ONCE_INIT;

static void trust_init(void)
{
	const char *s = uaio__getenv("UAIO_TRUST_POINTERS");

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

/* Copy remote[0..nr) as one stream into local[0..nl), stopping at the
 * first remote range that bad (if any) refuses. */
static size_t copy_iov(const struct iovec *local, unsigned nl,
		       const struct iovec *remote, unsigned nr,
		       bool (*bad)(const void *, size_t))
{
	size_t done = 0, lo = 0;
	unsigned li = 0;
	for (unsigned i = 0; i < nr; i++) {
		const char *src = remote[i].iov_base;
		size_t left = remote[i].iov_len;

		if (bad && bad(src, left))
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

size_t uaio__uread_iov(const struct iovec *local, unsigned nl,
		       const struct iovec *remote, unsigned nr)
{
	unsigned sure = 0;

	while (sure < nr &&
	       uaio__surely_mapped(remote[sure].iov_base, remote[sure].iov_len))
		sure++;
	if (sure == nr)
		return copy_iov(local, nl, remote, nr, NULL);
	if (!pvm_unavailable()) {
		ssize_t r = process_vm_readv(self(), local, nl, remote, nr, 0);
		int err = errno;
		pvm_note(r, err);
		if (r >= 0 || !pvm_unavailable())
			return r < 0 ? 0 : (size_t)r;
	}
	/* No kernel help: copy, as one stream, what is not obviously bad. */
	return copy_iov(local, nl, remote, nr, uaio__unreadable);
}

size_t uaio__uread_ahead(const struct iovec *local, unsigned nl,
			 const struct iovec *remote, unsigned nr)
{
	ssize_t r;
	int err;

	if (pvm_unavailable())
		return 0;
	r = process_vm_readv(self(), local, nl, remote, nr, 0);
	err = errno;
	pvm_note(r, err);
	return r < 0 ? 0 : (size_t)r;
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
	if (uaio__surely_mapped(src, len)) {
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
	if (uaio__surely_mapped(dst, len) || pvm_unavailable()) {
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
