/*
 * A vectored read that stops part way and goes on: the emulated engines
 * first try a buffered read without blocking, which stops at the first
 * page not cached or at a fault, and finish the rest later.  The count and
 * the data must be those of one read by the kernel: the rest is read from
 * the file offset where the first part stopped, into the right segment.
 */
#include "behaviour.h"

#include <sys/mman.h>
#include <sys/uio.h>

#define PAGE 4096

static long read_vec(io_context_t ctx, int fd, struct iovec *iov, int n)
{
	struct iocb cb, *cbs[1] = {&cb};
	struct io_event ev;

	io_prep_preadv(&cb, fd, iov, n, 0);
	T_EQ(io_submit(ctx, 1, cbs), 1);
	t_reap(ctx, 1, &ev);
	T_EQ(ev.obj, &cb);
	return (long)ev.res;
}

/* Only the first page in the page cache: the first try stops after it, in
 * the middle of the second segment. */
static void first_page_cached(io_context_t ctx)
{
	int fd = t_scratch_file(2 * PAGE, 0);
	unsigned char a[100], *b = malloc(2 * PAGE - 100);
	struct iovec iov[2] = {{a, sizeof(a)}, {b, 2 * PAGE - 100}};

	T_ASSERT(b);
	T_EQ(fdatasync(fd), 0);
	T_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	T_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM), 0);
	T_EQ(pread(fd, a, 1, 0), 1);
	memset(a, 0, sizeof(a));
	memset(b, 0, 2 * PAGE - 100);
	T_EQ(read_vec(ctx, fd, iov, 2), 2 * PAGE);
	for (size_t i = 0; i < sizeof(a); i++)
		T_EQ(a[i], t_pattern(i));
	for (size_t i = 0; i < 2 * PAGE - 100; i++)
		if (b[i] != t_pattern(100 + i))
			T_FAIL("second segment: byte %zu is 0x%02x, expected "
			       "0x%02x (file offset %zu)",
			       i, b[i], t_pattern(100 + i), 100 + i);
	free(b);
	close(fd);
}

/* A fault one byte into the second segment: the kernel returns what it
 * copied before the fault, 17 bytes. */
static void fault_in_second_segment(io_context_t ctx)
{
	int fd = t_scratch_file(4 * PAGE, 0);
	unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char a[16];
	struct iovec iov[2] = {{a, sizeof(a)}, {m + PAGE - 1, PAGE}};

	T_ASSERT(m != MAP_FAILED);
	T_EQ(mprotect(m + PAGE, PAGE, PROT_NONE), 0);
	T_EQ(pread(fd, a, 1, 0), 1); /* cached */
	T_EQ(read_vec(ctx, fd, iov, 2), 17);
	T_EQ(m[PAGE - 1], t_pattern(16));
	munmap(m, 2 * PAGE);
	close(fd);
}

int main(void)
{
	io_context_t ctx = t_setup(8);

	first_page_cached(ctx);
	fault_in_second_segment(ctx);
	T_EQ(io_destroy(ctx), 0);
	return 0;
}
