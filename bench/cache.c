/*
 * cache.c - the file's pages in the page cache: dropped, read in, counted.
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void bench_drop_cache(int fd)
{
	/* Dirty pages cannot be dropped: written back first.  No root
	 * needed, unlike drop_caches. */
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

int bench_warm(int fd, uint64_t size, bench_step_fn *step, void *arg)
{
	const size_t chunk = 1 << 20;
	char *buf = malloc(chunk);

	if (!buf)
		return -ENOMEM;
	posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	for (uint64_t off = 0; off < size; off += chunk) {
		if (pread(fd, buf, chunk, (off_t)off) < 0) {
			int err = errno;

			free(buf);
			return -err;
		}
		if (step)
			step(arg, off + chunk < size ? off + chunk : size,
			     size);
	}
	free(buf);
	return 0;
}

/* Pages of [off, off + len) in the cache, or -1. */
static long long in_cache(int fd, uint64_t off, uint64_t len,
			  unsigned char *vec, uint64_t page)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	long long in = 0;

	if (p == MAP_FAILED)
		return -1;
	if (mincore(p, len, vec))
		in = -1;
	for (uint64_t i = 0; in >= 0 && i < (len + page - 1) / page; i++)
		in += vec[i] & 1;
	munmap(p, len);
	return in;
}

double bench_resident(int fd, uint64_t size)
{
	const uint64_t win = 256ull << 20;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), in = 0;
	unsigned char *vec;

	/* Not worth minutes of mincore on a large device. */
	if (size > (64ull << 30) || !size)
		return -1;
	vec = malloc(win / page);
	if (!vec)
		return -1;
	for (uint64_t off = 0; off < size; off += win) {
		long long n = in_cache(
		    fd, off, size - off < win ? size - off : win, vec, page);

		if (n < 0) {
			free(vec);
			return -1;
		}
		in += (uint64_t)n;
	}
	free(vec);
	return 100.0 * (double)in / (double)((size + page - 1) / page);
}
