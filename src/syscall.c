/*
 * syscall.c - the AIO system calls that programs make themselves.
 *
 * Programs mix libaio's calls with raw ones on the same handle: MariaDB
 * waits with syscall(__NR_io_getevents, ...), LTP's io_pgetevents tests
 * likewise.  A handle of an emulated engine means nothing to the kernel,
 * so those calls must reach uaio.
 *
 * A program's call of syscall() is a reference to syscall@GLIBC_2.2.5
 * (x86_64; GLIBC_2.17 on aarch64).  The dynamic linker binds a versioned
 * reference to the first object in the global scope that defines the name
 * with that version, whatever the object: libaio.so.1 comes before libc.so.6
 * in the scope of a program that needs it (DT_NEEDED lists libc last), so
 * uaio defines syscall@GLIBC_2.2.5 too.  It is a non-default (hidden)
 * version, so that the static linker never binds a new program's syscall()
 * to libaio.so.1: programs built against uaio still run on the system's
 * libaio.
 *
 * The definition is a few instructions of assembly: for a number other than
 * io_destroy, io_getevents, io_submit, io_cancel and io_pgetevents it is
 * glibc's own syscall() (the arguments stay where they are, so even clone
 * and vfork behave as with glibc); for those it calls uaio, which serves
 * the handles it owns and passes any other (a kernel context, garbage) to
 * the kernel.  io_setup is always the kernel's: a raw io_setup asks for a
 * kernel context.
 *
 * Not caught: programs that make the system call with their own
 * instruction (static binaries, inline assembly), and programs in which
 * libaio.so.1 is not in the global scope (loaded by dlopen() without
 * RTLD_GLOBAL) or comes after libc.so.6.  io_setup sees which is the case
 * (uaio__raw_calls_routed) so that auto never hands such a program a
 * context its raw calls cannot use.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "sys.h"
#include "uaccess.h"

#if defined(__x86_64__)
#define UAIO_SYSCALL_VERSION "GLIBC_2.2.5"
__asm__(".text\n"
	".globl uaio__syscall_stub\n"

	".type uaio__syscall_stub, @function\n"
	"uaio__syscall_stub:\n"
	"	cmpq $207, %rdi\n" /* io_destroy .. io_cancel */
	"	jb 1f\n"
	"	cmpq $210, %rdi\n"
	"	jbe 2f\n"
	"	cmpq $333, %rdi\n" /* io_pgetevents */
	"	je 2f\n"
	"1:	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	movq %rdx, %rsi\n"
	"	movq %rcx, %rdx\n"
	"	movq %r8, %r10\n"
	"	movq %r9, %r8\n"
	"	movq 8(%rsp), %r9\n"
	"	syscall\n"
	"	cmpq $-4095, %rax\n"
	"	jae 3f\n"
	"	ret\n"
	"3:	movq %rax, %rdi\n"
	"	jmp uaio__syscall_error\n"
	"2:	jmp uaio__syscall_aio\n"
	".size uaio__syscall_stub, .-uaio__syscall_stub\n"
	".symver uaio__syscall_stub, syscall@" UAIO_SYSCALL_VERSION "\n");
#elif defined(__aarch64__)
#define UAIO_SYSCALL_VERSION "GLIBC_2.17"
__asm__(".text\n"
	".globl uaio__syscall_stub\n"

	".type uaio__syscall_stub, %function\n"
	"uaio__syscall_stub:\n"
	"	cmp x0, #1\n" /* io_destroy 1 .. io_cancel 3 */
	"	b.lo 1f\n"
	"	cmp x0, #3\n"
	"	b.ls 2f\n"
	"	cmp x0, #4\n" /* io_getevents */
	"	b.eq 2f\n"
	"	cmp x0, #292\n" /* io_pgetevents */
	"	b.eq 2f\n"
	"1:	mov x8, x0\n"
	"	mov x0, x1\n"
	"	mov x1, x2\n"
	"	mov x2, x3\n"
	"	mov x3, x4\n"
	"	mov x4, x5\n"
	"	mov x5, x6\n"
	"	svc #0\n"
	"	cmn x0, #4095\n"
	"	b.cs 3f\n"
	"	ret\n"
	"3:	b uaio__syscall_error\n"
	"2:	b uaio__syscall_aio\n"
	".size uaio__syscall_stub, .-uaio__syscall_stub\n"
	".symver uaio__syscall_stub, syscall@" UAIO_SYSCALL_VERSION "\n");
#endif

#ifdef UAIO_SYSCALL_VERSION
void uaio__syscall_stub(void);
long uaio__syscall_error(long ret) __attribute__((visibility("hidden")));
long uaio__syscall_aio(long nr, long a1, long a2, long a3, long a4, long a5,
		       long a6) __attribute__((visibility("hidden")));

long uaio__syscall_error(long ret)
{
	errno = (int)-ret;
	return -1;
}

/* The kernel's convention: -1 and errno. */
static long ret_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* io_pgetevents' last argument, as the kernel reads it. */
struct aio_sigset {
	const sigset_t *sigmask;
	size_t sigsetsize;
};

long uaio__syscall_aio(long nr, long a1, long a2, long a3, long a4, long a5,
		       long a6)
{
	struct uaio_ctx *c;
	bool ours;
	long r;

	uaio__fork_check();
again:
	c = uaio__ctx_get((unsigned long)a1);
	ours = c && !(c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE);
	if (c)
		uaio__ctx_put(c);
	/* A context being destroyed: its io_destroy says -EINVAL. */
	if (!c && nr == SYS_io_destroy && uaio__ctx_dying((unsigned long)a1))
		return ret_errno(-EINVAL);
	/* A kernel-engine context is the kernel's, but for its end, which
	 * the registry must see. */
	if (!ours && !(c && nr == SYS_io_destroy)) {
		r = uaio__raw_syscall6(nr, a1, a2, a3, a4, a5, a6);
		/* Its ring moved away, maybe another's put there (c is never
		 * freed, and checked again under the registry's lock). */
		if (c && r == -EINVAL &&
		    uaio__ctx_unlist_moved(c, (unsigned long)a1))
			goto again;
		return ret_errno(r);
	}
	switch (nr) {
	case SYS_io_destroy:
		return ret_errno(io_destroy((io_context_t)a1));
	case SYS_io_submit:
		return ret_errno(
		    io_submit((io_context_t)a1, a2, (struct iocb **)a3));
	case SYS_io_cancel:
		return ret_errno(io_cancel_0_4((io_context_t)a1,
					       (struct iocb *)a2,
					       (struct io_event *)a3));
	case SYS_io_getevents:
		return ret_errno(uaio__getevents_raw(
		    (io_context_t)a1, a2, a3, (struct io_event *)a4,
		    (struct timespec *)a5, NULL));
	default: { /* io_pgetevents */
		struct timespec ts;
		struct aio_sigset us;

		/* do_io_getevents' order: timeout, then the signal set. */
		if (a5 && uaio__uread(&ts, (void *)a5, sizeof(ts)))
			return ret_errno(-EFAULT);
		if (a6 && uaio__uread(&us, (void *)a6, sizeof(us)))
			return ret_errno(-EFAULT);
		if (a6 && us.sigmask && us.sigsetsize != _NSIG / 8)
			return ret_errno(-EINVAL);
		return ret_errno(uaio__getevents_raw(
		    (io_context_t)a1, a2, a3, (struct io_event *)a4,
		    (struct timespec *)a5, a6 ? us.sigmask : NULL));
	}
	}
}

bool uaio__raw_calls_routed(void)
{
	static int routed = -1;
	int r = __atomic_load_n(&routed, __ATOMIC_RELAXED);

	if (r < 0) {
		void *found =
		    dlvsym(RTLD_DEFAULT, "syscall", UAIO_SYSCALL_VERSION);

		r = found == (void *)uaio__syscall_stub;
		__atomic_store_n(&routed, r, __ATOMIC_RELAXED);
	}
	return r;
}
#else
bool uaio__raw_calls_routed(void)
{
	return false; /* no stub for this architecture */
}
#endif
