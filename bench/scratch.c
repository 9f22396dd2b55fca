/*
 * scratch.c - the file the measurements read and write: made without a
 * name, so that nothing is left behind however the program ends, and
 * filled with data no layer below can compress or share.
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "random.h"

#define CHUNK (1u << 20)
#define TMPFS_MAGIC_ 0x01021994

int bench_scratch(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* A file system without O_TMPFILE: a name, for an instant. */
	snprintf(path, sizeof(path), "%s/uaio-bench.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

bool bench_on_tmpfs(int fd)
{
	struct statfs sf;

	return !fstatfs(fd, &sf) && sf.f_type == TMPFS_MAGIC_;
}

static int open_w(int fd, bool direct)
{
	char path[64];
	int w;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	w = open(path, O_WRONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
	return w < 0 ? -errno : w;
}

/* One chunk at off; O_DIRECT refused (EINVAL) is given up for buffered
 * writes where how allows it. */
static int write_chunk(int *wfd, int fd, const char *buf, uint64_t off,
		       size_t n, enum bench_fill how)
{
	ssize_t w = pwrite(*wfd, buf, n, (off_t)off);

	if (w < 0 && errno == EINVAL && how == BENCH_FILL_DIRECT_IF_CAN) {
		close(*wfd);
		*wfd = open_w(fd, false);
		if (*wfd < 0)
			return *wfd;
		w = pwrite(*wfd, buf, n, (off_t)off);
	}
	if (w < 0)
		return -errno;
	return (size_t)w == n ? 0 : -EIO;
}

int bench_fill(int fd, uint64_t size, enum bench_fill how, bench_step_fn *step,
	       void *arg, struct bench_why *why)
{
	bool direct = how != BENCH_FILL_BUFFERED;
	uint64_t seed = 0x5eed5eed5eedull, off;
	int wfd = open_w(fd, direct), r = 0;
	char *buf;

	if (wfd < 0 && how == BENCH_FILL_DIRECT_IF_CAN)
		wfd = open_w(fd, false);
	if (wfd < 0)
		return bench_fail(why, -wfd, "open%s: %s",
				  direct ? " with O_DIRECT" : "",
				  strerror(-wfd));
	if (posix_memalign((void **)&buf, 4096, CHUNK)) {
		close(wfd);
		return bench_fail(why, ENOMEM, "out of memory");
	}
	for (off = 0; off < size && !r; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		bench_random_fill(buf, CHUNK, &seed);
		r = write_chunk(&wfd, fd, buf, off, n, how);
		if (!r && step)
			step(arg, off + n, size);
	}
	free(buf);
	if (r)
		bench_fail(why, -r, "writing: %s",
			   r == -EIO ? "short write" : strerror(-r));
	else if (fsync(wfd))
		r = bench_fail(why, errno, "fsync: %s", strerror(errno));
	if (wfd >= 0)
		close(wfd);
	return r;
}
