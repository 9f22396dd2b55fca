#include "helpers.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

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

bool t_gate_init(struct t_gate *g, size_t len)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg;

	g->len = len;
	g->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (g->uffd < 0)
		return false;
	if (ioctl(g->uffd, UFFDIO_API, &api)) {
		close(g->uffd);
		return false;
	}
	g->buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(g->buf != MAP_FAILED);
	reg.range.start = (uintptr_t)g->buf;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(g->uffd, UFFDIO_REGISTER, &reg)) {
		munmap(g->buf, len);
		close(g->uffd);
		return false;
	}
	return true;
}

void t_gate_open(struct t_gate *g, size_t off, size_t len)
{
	static unsigned char zeros[1 << 16] __attribute__((aligned(4096)));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	for (size_t o = off; o < off + len; o += page) {
		struct uffdio_copy c = {.dst = (uintptr_t)g->buf + o,
					.src = (uintptr_t)zeros,
					.len = page};
		/* EEXIST: mapped already (opened before). */
		if (ioctl(g->uffd, UFFDIO_COPY, &c) && errno != EEXIST)
			T_FAIL("UFFDIO_COPY: %s", strerror(errno));
	}
}

void t_gate_fini(struct t_gate *g)
{
	munmap(g->buf, g->len);
	close(g->uffd);
}

void t_warm_up(void)
{
	enum { N = 8 };
	io_context_t ctx[N] = {0};
	struct iocb cb[N], pcb[N], *p[N], *pp[N];
	unsigned char *buf = t_aligned(4096, 4096 * N);
	int fd = t_scratch_file(4096 * N, O_DIRECT);
	struct io_event ev[2];
	int pfd[2];

	/*
	 * Each context on its own ring, each leaving a request in flight
	 * when io_submit returns (which starts the ring's thread): a POLL of
	 * an empty pipe surely is, where an O_DIRECT read may be done before
	 * io_submit returns on a loaded machine.  The read carries an
	 * eventfd (the library signals it through a descriptor it keeps).
	 */
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	T_ASSERT(pipe2(pfd, O_CLOEXEC) == 0);
	for (int i = 0; i < N; i++) {
		ctx[i] = t_setup(4);
		io_prep_pread(&cb[i], fd, buf + 4096 * i, 4096, 4096 * i);
		io_set_eventfd(&cb[i], efd);
		p[i] = &cb[i];
		io_prep_poll(&pcb[i], pfd[0], POLLIN);
		pp[i] = &pcb[i];
		if (io_submit(ctx[i], 1, &pp[i]) != 1 ||
		    io_submit(ctx[i], 1, &p[i]) != 1)
			T_FAIL("warm-up io_submit");
	}
	T_ASSERT(write(pfd[1], "x", 1) == 1);
	for (int i = 0; i < N; i++) {
		t_reap(ctx[i], 2, ev);
		io_destroy(ctx[i]);
	}
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	close(efd);
	free(buf);
}
