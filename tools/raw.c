/*
 * raw.c - io_setup and io_uring_setup without a library in between.
 */
#include "raw.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

int raw_io_setup(void)
{
	unsigned long ctx = 0;

	if (syscall(SYS_io_setup, 1, &ctx))
		return -errno;
	syscall(SYS_io_destroy, ctx);
	return 0;
}

int raw_io_uring_setup(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 1, &p);
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}
