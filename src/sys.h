/*
 * sys.h - the kernel's AIO system calls, returning -errno and leaving errno
 * alone.
 */
#ifndef UAIO_SYS_H
#define UAIO_SYS_H

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* An iocb as the kernel reads it, <linux/aio_abi.h>'s layout on 64-bit
 * little-endian targets, for the library's own kernel AIO requests. */
struct kiocb_abi {
	uint64_t data;
	uint32_t key, rw_flags;
	uint16_t opcode;
	int16_t reqprio;
	uint32_t fildes;
	uint64_t buf, nbytes;
	int64_t offset;
	uint64_t reserved2;
	uint32_t flags, resfd;
};

/*
 * A system call by our own instruction, -errno on failure: never through
 * syscall(), which libaio.so.1 defines for the program (syscall.c).
 */
static inline long uaio__raw_syscall6(long nr, long a1, long a2, long a3,
				      long a4, long a5, long a6)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;
	register long x4 __asm__("x4") = a5;
	register long x5 __asm__("x5") = a6;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#else
	long r = syscall(nr, a1, a2, a3, a4, a5, a6);
	return r < 0 ? -errno : r;
#endif
}

#define RAW(nr, a1, a2, a3, a4, a5, a6)                                        \
	uaio__raw_syscall6((nr), (long)(a1), (long)(a2), (long)(a3),           \
			   (long)(a4), (long)(a5), (long)(a6))

static inline long sys_io_setup(unsigned nr, unsigned long *ctxp)
{
	return RAW(SYS_io_setup, nr, ctxp, 0, 0, 0, 0);
}

static inline long sys_io_destroy(unsigned long ctx)
{
	return RAW(SYS_io_destroy, ctx, 0, 0, 0, 0, 0);
}

static inline long sys_io_submit(unsigned long ctx, long nr, void *iocbpp)
{
	return RAW(SYS_io_submit, ctx, nr, iocbpp, 0, 0, 0);
}

static inline long sys_io_cancel(unsigned long ctx, void *iocb, void *result)
{
	return RAW(SYS_io_cancel, ctx, iocb, result, 0, 0, 0);
}

static inline long sys_io_getevents(unsigned long ctx, long min_nr, long nr,
				    void *events, const void *timeout)
{
	return RAW(SYS_io_getevents, ctx, min_nr, nr, events, timeout, 0);
}

/* C library headers older than Linux 4.18 lack the number: the kernel's
 * own header may have it; else the known ones, and -1 (ENOSYS) elsewhere. */
#ifndef SYS_io_pgetevents
#if defined(__NR_io_pgetevents)
#define SYS_io_pgetevents __NR_io_pgetevents
#elif defined(__x86_64__) && !defined(__ILP32__)
#define SYS_io_pgetevents 333
#elif defined(__i386__)
#define SYS_io_pgetevents 385
#elif defined(__aarch64__) || defined(__riscv) || defined(__loongarch__)
#define SYS_io_pgetevents 292
#else
#define SYS_io_pgetevents (-1)
#endif
#endif
static inline long sys_io_pgetevents(unsigned long ctx, long min_nr, long nr,
				     void *events, const void *timeout,
				     const void *usig)
{
	return RAW(SYS_io_pgetevents, ctx, min_nr, nr, events, timeout, usig);
}

#endif
