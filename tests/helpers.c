#include "helpers.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *t_engine(void)
{
	const char *e = getenv("UAIO_TEST_ENGINE");
	return e && *e ? e : "unknown";
}

bool t_is_uaio(void)
{
	return dlsym(RTLD_DEFAULT, "uaio_version") != NULL;
}

bool t_is_ref(void)
{
	return !t_is_uaio();
}

int t_scratch_file(size_t size, int flags)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	unsigned char *buf;
	int fd;

	if (!dir || !*dir)
		dir = ".";
	snprintf(path, sizeof(path), "%s/uaio-test-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		T_FAIL("mkstemp(%s): %s", path, strerror(errno));
	unlink(path);
	buf = malloc(1 << 16);
	T_ASSERT(buf);
	for (size_t off = 0; off < size;) {
		size_t n = size - off < (1 << 16) ? size - off : (1 << 16);
		for (size_t i = 0; i < n; i++)
			buf[i] = t_pattern(off + i);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			T_FAIL("pwrite: %s", strerror(errno));
		off += n;
	}
	free(buf);
	fsync(fd);
	if (flags) {
		int fd2 = t_reopen(fd, O_RDWR | flags);
		close(fd);
		fd = fd2;
	}
	return fd;
}

int t_reopen(int fd, int flags)
{
	char path[64];
	int fd2;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, flags);
	if (fd2 < 0) {
		T_SKIP_IF(errno == EINVAL && (flags & O_DIRECT),
			  "O_DIRECT not supported in this directory");
		T_FAIL("reopen %s: %s", path, strerror(errno));
	}
	return fd2;
}

void *t_aligned(size_t align, size_t size)
{
	void *p = aligned_alloc(align, (size + align - 1) / align * align);
	if (!p)
		T_FAIL("aligned_alloc(%zu): out of memory", size);
	return p;
}

io_context_t t_setup(int nr)
{
	io_context_t ctx = 0;
	int ret = io_setup(nr, &ctx);
	if (ret < 0)
		T_FAIL("io_setup(%d): %s", nr, strerror(-ret));
	return ctx;
}

void t_reap(io_context_t ctx, int n, struct io_event *ev)
{
	int got = 0;
	while (got < n) {
		int ret = io_getevents(ctx, 1, n - got, ev + got, NULL);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			T_FAIL("io_getevents: %s", strerror(-ret));
		got += ret;
	}
}

double t_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
