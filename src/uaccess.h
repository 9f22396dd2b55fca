/*
 * uaccess.h - copies to and from the caller's memory that fail with EFAULT
 * where the kernel would, instead of crashing.
 */
#ifndef UAIO_UACCESS_H
#define UAIO_UACCESS_H

#include <sys/uio.h>

#include "internal.h"

/*
 * What is mapped read-write by construction, so that plain loads and
 * stores of it cannot fault: the calling thread's live stack (from the
 * caller's frame up) and the brk heap, as of the call.  Taken once for the
 * many pointers of one io_submit; valid while the caller's frame lives.
 */
struct uaio_mapped {
	uintptr_t lo[2], hi[2]; /* the stack, the brk heap; lo == hi: none */
};
void uaio__mapped_now(struct uaio_mapped *m);

static inline bool uaio__in_mapped(const struct uaio_mapped *m, const void *p,
				   size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (int i = 0; i < 2; i++)
		if (a >= m->lo[i] && a < m->hi[i] && len <= m->hi[i] - a)
			return true;
	return false;
}

/* Whether p[len] is in what uaio__mapped_now() would say now. */
bool uaio__surely_mapped(const void *p, size_t len);
/* 0, or -EFAULT if any byte of src[len] is unreadable. */
int uaio__uread(void *dst, const void *src, size_t len);
/* 0, or -EFAULT if any byte of dst[len] is unwritable. */
int uaio__uwrite(void *dst, const void *src, size_t len);
/* Read the bytes of remote[0..nr) as one stream into local[0..nl); the
 * bytes copied before the first fault. */
size_t uaio__uread_iov(const struct iovec *local, unsigned nl,
		       const struct iovec *remote, unsigned nr);
/* uaio__uread_iov() for memory read ahead of need, which may lie past the
 * end of the caller's object: only through the kernel, never with plain
 * loads (which a sanitizer or valgrind would report); 0 when the kernel
 * cannot help. */
size_t uaio__uread_ahead(const struct iovec *local, unsigned nl,
			 const struct iovec *remote, unsigned nr);
/* Gather remote[i] into local[i]; the bytes copied before the first fault. */
size_t uaio__uread_vec(const struct iovec *local, const struct iovec *remote,
		       unsigned n);
/* Write local[0..nl) contiguously to dst; the bytes written. */
size_t uaio__uwrite_vec(const struct iovec *local, unsigned nl, void *dst,
			size_t len);

#endif
