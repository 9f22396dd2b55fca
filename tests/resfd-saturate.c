/*
 * IOCB_FLAG_RESFD on an eventfd near saturation (LTP's eventfd06): the
 * kernel's eventfd_signal() takes the counter to UINT64_MAX, which poll()
 * reports as POLLERR, and never blocks; a write(2) cannot get there, and
 * would block on a blocking eventfd or fail on a non-blocking one.  Then
 * the eventfd counts on as before.
 *
 * With "no-kernel-aio" (run under a seccomp filter that refuses io_setup)
 * the library cannot have the kernel signal it: the counter stays at
 * UINT64_MAX - 1 without POLLERR (uaio(7)), and still nothing blocks.
 */
#include "behaviour.h"

#include <poll.h>
#include <sys/eventfd.h>

static bool no_kernel_aio;

static void saturate(io_context_t ctx, int fd, int efd)
{
	uint64_t max = UINT64_MAX - 1, v;
	struct pollfd p = {.fd = efd, .events = POLLIN};
	struct iocb cb;
	char buf[512] = {0}; /* written: valgrind checks what a write sends */

	/* A counter of 0 to start from (a blocking read would wait). */
	if (poll(&p, 1, 0) == 1)
		T_EQ(read(efd, &v, sizeof(v)), sizeof(v));
	T_EQ(write(efd, &max, sizeof(max)), sizeof(max));
	io_prep_pwrite(&cb, fd, buf, sizeof(buf), 0);
	io_set_eventfd(&cb, efd);
	t_run1(ctx, &cb, sizeof(buf));
	T_EQ(poll(&p, 1, 5000), 1);
	T_EQ(read(efd, &v, sizeof(v)), sizeof(v));
	if (no_kernel_aio) {
		T_ASSERT(v == UINT64_MAX - 1);
	} else {
		T_EQ(p.revents & POLLERR, POLLERR);
		T_ASSERT(v == UINT64_MAX);
	}

	/* And back to counting one per completion. */
	io_prep_pwrite(&cb, fd, buf, sizeof(buf), 0);
	io_set_eventfd(&cb, efd);
	t_run1(ctx, &cb, sizeof(buf));
	T_EQ(read(efd, &v, sizeof(v)), sizeof(v));
	T_EQ(v, 1);
}

int main(int argc, char **argv)
{
	io_context_t ctx;

	no_kernel_aio = argc > 1 && !strcmp(argv[1], "no-kernel-aio");
	ctx = t_setup(16);
	int fd = t_scratch_file(4096, 0);
	int nb = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int bl = eventfd(0, EFD_CLOEXEC);

	T_ASSERT(nb >= 0 && bl >= 0);
	saturate(ctx, fd, nb);
	/* A blocking eventfd: nothing of the library may block on it. */
	saturate(ctx, fd, bl);
	T_EQ(io_destroy(ctx), 0);
	return 0;
}
