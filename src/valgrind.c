/*
 * valgrind.c - what valgrind cannot see for itself.
 *
 * Memcheck learns what the kernel wrote into a program's memory from the
 * system call that wrote it.  A read done by io_uring, or by kernel AIO
 * and reaped from its ring in user memory (auto's O_DIRECT), has no such
 * call: without a word from us, every byte it brought would be reported
 * as uninitialised where the program uses it.  Valgrind's own wrapper of
 * io_getevents does the same for the system libaio.  Nor does valgrind
 * know how big the kernel made an AIO ring that auto reaps itself.
 *
 * Built without valgrind's headers (CMake says so), this knows nothing and
 * does nothing.
 */
#include <sys/uio.h>

#include "internal.h"

#ifdef UAIO_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif

bool uaio__valgrind;

/* Once, at load, before any call can read it. */
__attribute__((constructor)) static void valgrind_check(void)
{
#ifdef HAVE_VALGRIND
	/* A client request: a few instructions where valgrind is absent. */
	uaio__valgrind = RUNNING_ON_VALGRIND != 0;
#endif
}

void uaio__valgrind_defined(const void *p, size_t len)
{
#ifdef HAVE_VALGRIND
	(void)VALGRIND_MAKE_MEM_DEFINED(p, len);
#else
	(void)p;
	(void)len;
#endif
}

void uaio__valgrind_wrote(const struct iovec *iov, int iovcnt, size_t bytes)
{
	for (int i = 0; i < iovcnt && bytes; i++) {
		size_t n = iov[i].iov_len < bytes ? iov[i].iov_len : bytes;

		uaio__valgrind_defined(iov[i].iov_base, n);
		bytes -= n;
	}
}
