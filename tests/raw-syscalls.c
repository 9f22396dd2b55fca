/*
 * Programs mix libaio's calls with the raw system calls on one handle:
 * MariaDB sets up with io_setup() and waits with syscall(__NR_io_getevents),
 * LTP's io_pgetevents tests likewise, and a context made by the raw
 * io_setup is a valid libaio handle.  Every mix must give the kernel's
 * results on every engine: the raw calls follow the system call's
 * convention (-1 and errno) and have no libaio peek; everything else that
 * syscall() is asked passes through unchanged.
 */
#include "behaviour.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef SYS_io_pgetevents
#define SYS_io_pgetevents 333
#endif

struct aio_sigset {
	const sigset_t *sigmask;
	size_t sigsetsize;
};

static long raw_submit(io_context_t ctx, long nr, struct iocb **p)
{
	return syscall(SYS_io_submit, ctx, nr, p);
}

static long raw_getevents(io_context_t ctx, long min, long nr,
			  struct io_event *ev, struct timespec *ts)
{
	return syscall(SYS_io_getevents, ctx, min, nr, ev, ts);
}

/* -1 with errno err, and nothing else. */
#define T_RAW_ERR(expr, err)                                                   \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (expr);                                              \
		if (r_ != -1 || errno != (err))                                \
			T_FAIL("%s = %ld, errno %d (%s), expected -1, %s",     \
			       #expr, r_, errno, strerror(errno), #err);       \
	} while (0)

static int bfd;

/* libaio's io_submit and the raw io_getevents (MariaDB), and back. */
static void mixed_rw(io_context_t ctx)
{
	char buf[512];
	struct iocb cb, *p = &cb;
	struct io_event ev;
	struct timespec ts = {5, 0};

	io_prep_pread(&cb, bfd, buf, sizeof(buf), 0);
	cb.data = (void *)0x1234;
	T_EQ(io_submit(ctx, 1, &p), 1);
	T_EQ(raw_getevents(ctx, 1, 1, &ev, &ts), 1);
	T_EVENT(&ev, &cb, sizeof(buf));
	T_ASSERT(buf[7] == (char)t_pattern(7));

	T_EQ(raw_submit(ctx, 1, &p), 1);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &cb, sizeof(buf));

	T_EQ(raw_submit(ctx, 1, &p), 1);
	struct aio_sigset us = {NULL, 0};
	T_EQ(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &ts, &us), 1);
	T_EVENT(&ev, &cb, sizeof(buf));

	sigset_t mask;
	sigemptyset(&mask);
	us = (struct aio_sigset){&mask, _NSIG / 8};
	T_EQ(raw_submit(ctx, 1, &p), 1);
	T_EQ(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &ts, &us), 1);
	T_EVENT(&ev, &cb, sizeof(buf));
}

/* A POLL on an empty pipe, cancelled by the raw io_cancel. */
static void raw_cancel(io_context_t ctx)
{
	struct iocb cb, *p = &cb;
	struct io_event ev, res;
	int fds[2];

	t_pipe(fds);
	io_prep_poll(&cb, fds[0], POLLIN);
	T_EQ(raw_submit(ctx, 1, &p), 1);
	T_RAW_ERR(syscall(SYS_io_cancel, ctx, &cb, &res), EINPROGRESS);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &cb, 0);
	T_RAW_ERR(syscall(SYS_io_cancel, ctx, &cb, &res), EINVAL);
	close(fds[0]);
	close(fds[1]);
}

/* The raw calls check as the kernel does, with no libaio peek. */
static void raw_errors(io_context_t ctx)
{
	struct io_event ev;
	struct timespec zero = {0, 0};
	struct aio_sigset us;
	sigset_t mask;
	void *hole =
	    mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	sigemptyset(&mask);
	/* libaio's io_getevents returns 0 here without a system call. */
	T_EQ(io_getevents(ctx, 2, 1, &ev, &zero), 0);
	T_RAW_ERR(raw_getevents(ctx, 2, 1, &ev, &zero), EINVAL);
	T_RAW_ERR(raw_getevents(ctx, -1, 1, &ev, &zero), EINVAL);
	T_RAW_ERR(raw_getevents(ctx, 0, 1, &ev, hole), EFAULT);
	T_EQ(raw_getevents(ctx, 0, 1, &ev, &zero), 0);
	T_RAW_ERR(raw_submit(ctx, -1, NULL), EINVAL);
	T_RAW_ERR(raw_submit(ctx, 1, hole), EFAULT);
	us = (struct aio_sigset){&mask, 4};
	T_RAW_ERR(syscall(SYS_io_pgetevents, ctx, 0, 1, &ev, &zero, &us),
		  EINVAL);
	T_RAW_ERR(syscall(SYS_io_pgetevents, ctx, 0, 1, &ev, &zero, hole),
		  EFAULT);
	us = (struct aio_sigset){hole, _NSIG / 8};
	T_RAW_ERR(syscall(SYS_io_pgetevents, ctx, 0, 1, &ev, &zero, &us),
		  EFAULT);
	T_RAW_ERR(syscall(SYS_io_cancel, ctx, NULL, NULL), EFAULT);
	/* Garbage handles: the kernel's EINVAL. */
	T_RAW_ERR(raw_submit((io_context_t)0x10, 0, NULL), EINVAL);
	T_RAW_ERR(raw_getevents((io_context_t)-1L, 0, 1, &ev, &zero), EINVAL);
	T_RAW_ERR(syscall(SYS_io_destroy, (io_context_t)0), EINVAL);
	munmap(hole, 4096);
}

/* Everything else goes through syscall() unchanged, six arguments too. */
static void passthrough(void)
{
	void *p;

	errno = 1234;
	T_EQ(syscall(SYS_getpid), getpid());
	T_EQ(errno, 1234);
	T_RAW_ERR(syscall(SYS_read, -1, NULL, 0), EBADF);
	p = (void *)syscall(SYS_mmap, NULL, 8192, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(p != MAP_FAILED);
	memset(p, 1, 8192);
	T_EQ(syscall(SYS_munmap, p, 8192), 0);
	T_RAW_ERR(syscall(SYS_io_setup, 1, NULL), EFAULT);
}

int main(void)
{
	io_context_t ctx = t_setup(16), kctx = 0;
	struct io_event ev;

	bfd = t_scratch_file(4096, 0);
	mixed_rw(ctx);
	raw_cancel(ctx);
	raw_errors(ctx);
	passthrough();
	/* The raw io_destroy ends it for libaio's calls too. */
	T_EQ(syscall(SYS_io_destroy, ctx), 0);
	T_EQ(io_destroy(ctx), -EINVAL);
	T_RAW_ERR(syscall(SYS_io_destroy, ctx), EINVAL);

	/* A kernel context of a raw io_setup works through libaio's calls. */
	if (syscall(SYS_io_setup, 16, &kctx) == 0) {
		char buf[512];
		struct iocb cb, *p = &cb;
		struct timespec zero = {0, 0};

		io_prep_pread(&cb, bfd, buf, sizeof(buf), 0);
		T_EQ(io_submit(kctx, 1, &p), 1);
		t_wait1(kctx, &ev);
		T_EVENT(&ev, &cb, sizeof(buf));
		T_EQ(io_getevents(kctx, 2, 1, &ev, &zero), 0); /* the peek */
		raw_cancel(kctx);
		T_EQ(io_destroy(kctx), 0);
		T_EQ(io_destroy(kctx), -EINVAL);
	} else {
		printf("no kernel AIO: raw io_setup not tested\n");
	}
	close(bfd);
	return 0;
}
