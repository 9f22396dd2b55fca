/*
 * Helpers shared by the validation and ABI tests: errno checking around every
 * call, the kernel's ring header, the kernel's ring sizing rule, and memory
 * with chosen protections for EFAULT cases.
 */
#ifndef UAIO_TEST_VALIDATION_H
#define UAIO_TEST_VALIDATION_H

#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A value no libc call would leave in errno by accident. */
#define V_ERRNO_MARK 4242

/*
 * UAIO_TEST_KEEP_GOING=1 in the environment turns V_RET/V_EQ failures (and
 * crashes inside the call) into a report and a final exit status of 1, so
 * that one run lists every deviation.  A call that crashed may have left
 * locks held, so what follows a crash is only indicative.  By default the
 * first failure ends the test.
 */
static sigjmp_buf v_jmp;
static volatile sig_atomic_t v_armed;
static int v_failures;

static void v_segv(int sig)
{
	if (v_armed) {
		v_armed = 0;
		siglongjmp(v_jmp, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void v_exit_status(void)
{
	if (v_failures) {
		fprintf(stderr, "%d failure(s)\n", v_failures);
		_exit(1);
	}
}

static inline bool v_keep_going(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("UAIO_TEST_KEEP_GOING");
		on = e && *e == '1';
		if (on) {
			signal(SIGSEGV, v_segv);
			signal(SIGBUS, v_segv);
			atexit(v_exit_status);
		}
	}
	return on;
}

#define V_FAIL(...)                                                            \
	do {                                                                   \
		if (!v_keep_going())                                           \
			T_FAIL(__VA_ARGS__);                                   \
		fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		v_failures++;                                                  \
	} while (0)

/* T_EQ that UAIO_TEST_KEEP_GOING can turn into a report. */
#define V_EQ(expr, want)                                                       \
	do {                                                                   \
		long long v_g_ = (long long)(expr), v_w_ = (long long)(want);  \
		if (v_g_ != v_w_)                                              \
			V_FAIL("%s = %lld, expected %lld (%s)", #expr, v_g_,   \
			       v_w_, #want);                                   \
	} while (0)

/* What V_CALL yields when the call crashed (UAIO_TEST_KEEP_GOING). */
#define V_CRASHED (-0x7fffffffffffll)

/*
 * Evaluate a libaio call with errno set to a marker, check that errno was
 * left alone (libaio saves and restores it), and yield the result.
 */
#define V_CALL(expr)                                                           \
	({                                                                     \
		volatile long long v_call_r_ = V_CRASHED;                      \
		volatile int v_call_ok_ = 1;                                   \
		if (v_keep_going()) {                                          \
			if (sigsetjmp(v_jmp, 1) != 0) {                        \
				V_FAIL("%s crashed", #expr);                   \
				v_call_ok_ = 0;                                \
			}                                                      \
		}                                                              \
		if (v_call_ok_) {                                              \
			v_armed = 1;                                           \
			errno = V_ERRNO_MARK;                                  \
			v_call_r_ = (long long)(expr);                         \
			v_armed = 0;                                           \
			if (errno != V_ERRNO_MARK)                             \
				V_FAIL("%s changed errno to %d", #expr,        \
				       errno);                                 \
		}                                                              \
		(long long)v_call_r_;                                          \
	})

/* V_CALL and check the result. */
#define V_RET(expr, want)                                                      \
	do {                                                                   \
		long long v_got_ = V_CALL(expr), v_want_ = (long long)(want);  \
		if (v_got_ != v_want_ && v_got_ != V_CRASHED)                  \
			V_FAIL("%s = %lld (%s), expected %lld (%s)", #expr,    \
			       v_got_,                                         \
			       v_got_ < 0 ? strerror((int)-v_got_) : "",       \
			       v_want_, #want);                                \
	} while (0)

/* The kernel sizes rings by num_possible_cpus(), not by the online count. */
static inline unsigned v_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned n = 0, lo, hi;
	int c;

	if (!f)
		return (unsigned)sysconf(_SC_NPROCESSORS_CONF);
	for (;;) {
		if (fscanf(f, "%u", &lo) != 1)
			break;
		hi = lo;
		c = fgetc(f);
		if (c == '-') {
			if (fscanf(f, "%u", &hi) != 1)
				break;
			c = fgetc(f);
		}
		n += hi - lo + 1;
		if (c != ',')
			break;
	}
	fclose(f);
	return n ? n : (unsigned)sysconf(_SC_NPROCESSORS_CONF);
}

/*
 * fs/aio.c: nr = max(requested, 4 * cpus) * 2 + 2 events plus the 32-byte
 * header, rounded up to whole pages; the ring then holds as many events as
 * those pages fit.
 */
static inline unsigned v_ring_nr(unsigned requested)
{
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	unsigned long nr = requested, min = 4ul * v_possible_cpus();
	unsigned long size, pages;

	if (nr < min)
		nr = min;
	nr = nr * 2 + 2;
	size = 32 + 32 * nr;
	pages = (size + page - 1) / page;
	return (unsigned)((pages * page - 32) / 32);
}

/*
 * len bytes of memory (whole pages) with protection prot, followed by one
 * PROT_NONE page, so that objects placed at the end straddle into it.
 */
static inline void *v_guarded(size_t len, int prot)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + page - 1) / page * page;
	char *p = mmap(NULL, n + page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		T_FAIL("mmap: %s", strerror(errno));
	if (mprotect(p + n, page, PROT_NONE) || mprotect(p, n, prot))
		T_FAIL("mprotect: %s", strerror(errno));
	return p;
}

/* The last len bytes before the guard page of a v_guarded(len) area. */
static inline void *v_guarded_tail(void *area, size_t area_len, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (area_len + page - 1) / page * page;
	return (char *)area + n - len;
}

/*
 * The last len bytes of the brk heap, where malloc() keeps a program's small
 * objects and the library copies without a check, taken for the test by
 * moving the break to a page boundary: the page after them is unmapped.
 * NULL where it is mapped, or the break cannot move.  A malloc() that grows
 * the heap maps that page: take the bytes right before the call that needs
 * them.
 */
static inline void *v_brk_tail(size_t len)
{
	static uintptr_t lo, mine;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t cur = (uintptr_t)sbrk(0);
	unsigned char vec;

	if (cur != mine || mine - lo < len) {
		lo = cur;
		mine = (cur + len + page - 1) & ~(page - 1);
		if (sbrk((intptr_t)(mine - cur)) == (void *)-1) {
			mine = 0;
			return NULL;
		}
	}
	if (mincore((void *)mine, page, &vec) == 0 || errno != ENOMEM)
		return NULL;
	return (char *)mine - len;
}

/* An address that is never mapped in user space (the kernel's half). */
#define V_KERNEL_ADDR ((void *)0xffff888000000000ul)

#endif
