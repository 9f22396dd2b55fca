/*
 * auto sends each request where it runs best (uaio.7, "auto"), and
 * UAIO_STATS says where each went: O_DIRECT to kernel AIO when the kernel
 * gives the process a context (else to the engine under auto), a read the
 * page cache holds (alone in its io_submit, or without io_uring) and a
 * buffered write inside io_submit, an uncached read to the engine.  Each case
 * on a context of its own, whose line in the statistics file is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <uaio.h>
#include <unistd.h>

#include "helpers.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif

#define N 8
#define BS 4096
#define FILE_SIZE (1 << 20)

struct paths {
	long engine, inline_, kernel_aio;
};

static char stats_path[4096];
static atomic_long nowait_reads, nowait_hits;

/* Ours, ahead of the C library's: counts the reads tried without waiting,
 * and those that found data. */
ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	/* On 64 bits, the offset's high half is 0. */
	ssize_t r = syscall(SYS_preadv2, fd, iov, cnt, (long)off, 0L, flags);

	if (flags & RWF_NOWAIT) {
		atomic_fetch_add(&nowait_reads, 1);
		if (r > 0)
			atomic_fetch_add(&nowait_hits, 1);
	}
	return r;
}

/* The kernel gives this process a kernel AIO context (no seccomp filter,
 * fs.aio-max-nr not used up). */
static bool kernel_aio_works(void)
{
	unsigned long ctx = 0;

	if (syscall(SYS_io_setup, 1, &ctx))
		return false;
	syscall(SYS_io_destroy, ctx);
	return true;
}

static long field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	if (!p)
		T_FAIL("no %s in %s", key, line);
	return strtol(p + strlen(key), NULL, 10);
}

/* The paths of the last context reported. */
static struct paths last_paths(void)
{
	char buf[1 << 14], *line;
	FILE *f = fopen(stats_path, "r");
	struct paths p;
	size_t n;

	T_ASSERT(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	T_ASSERT(n > 1);
	buf[n - 1] = '\0'; /* the last newline */
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!strstr(line, "\"engine\":\"auto\""))
		T_FAIL("not a context of auto: %s", line);
	p.engine = field(line, "\"paths\":{\"engine\":");
	p.inline_ = field(line, "\"inline\":");
	p.kernel_aio = field(line, "\"kernel_aio\":");
	return p;
}

/* N reads (or writes) of fd on a context of their own, checked; in one
 * io_submit, or one io_submit each when alone. */
static struct paths run_as(int fd, bool write, unsigned char *buf, bool alone)
{
	io_context_t ctx = 0;
	struct iocb cbs[N], *p[N];
	struct io_event ev[N];

	T_EQ(io_setup(N, &ctx), 0);
	for (int i = 0; i < N; i++) {
		long long off = (long long)(i * 37 % (FILE_SIZE / BS)) * BS;
		if (write)
			io_prep_pwrite(&cbs[i], fd, buf + i * BS, BS, off);
		else
			io_prep_pread(&cbs[i], fd, buf + i * BS, BS, off);
		p[i] = &cbs[i];
	}
	if (alone)
		for (int i = 0; i < N; i++)
			T_EQ(io_submit(ctx, 1, &p[i]), 1);
	else
		T_EQ(io_submit(ctx, N, p), N);
	T_EQ(io_getevents(ctx, N, N, ev, NULL), N);
	for (int i = 0; i < N; i++) {
		struct iocb *cb = ev[i].obj;
		T_EQ((long)ev[i].res, BS);
		if (!write)
			T_EQ(((unsigned char *)cb->u.c.buf)[100],
			     t_pattern((uint64_t)cb->u.c.offset + 100));
	}
	T_EQ(io_destroy(ctx), 0);
	return last_paths();
}

static struct paths run(int fd, bool write, unsigned char *buf)
{
	return run_as(fd, write, buf, false);
}

#define LONE 64

/* LONE reads, one per io_submit, each reaped before the next. */
static void lone_reads(io_context_t ctx, int fd, unsigned char *buf)
{
	for (int i = 0; i < LONE; i++) {
		/* 37 is prime to the file's 256 pages: LONE pages apart. */
		long long off = (long long)(i * 37 % (FILE_SIZE / BS)) * BS;
		struct iocb cb, *p = &cb;
		struct io_event ev;

		io_prep_pread(&cb, fd, buf, BS, off);
		T_EQ(io_submit(ctx, 1, &p), 1);
		T_EQ(io_getevents(ctx, 1, 1, &ev, NULL), 1);
		T_EQ((long)ev.res, BS);
		T_EQ(buf[100], t_pattern((uint64_t)off + 100));
	}
}

/* Pages of the file's first FILE_SIZE bytes in the page cache. */
static int resident_pages(int fd)
{
	unsigned char v[FILE_SIZE / 4096];
	void *p = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	int n = 0;

	T_ASSERT(p != MAP_FAILED);
	T_EQ(mincore(p, FILE_SIZE, v), 0);
	T_EQ(munmap(p, FILE_SIZE), 0);
	for (size_t i = 0; i < sizeof(v); i++)
		n += v[i] & 1;
	return n;
}

/*
 * Out of the page cache, all of it: DONTNEED leaves a page that someone
 * else holds at that instant (the kernel's access monitor, kdamond, takes
 * them in turn), so it is asked again until none is left.
 */
static void drop_cache(int fd)
{
	const struct timespec ms = {0, 1000000};
	int left = 0;

	for (int i = 0; i < 1000; i++) {
		T_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
		if (!(left = resident_pages(fd)))
			return;
		nanosleep(&ms, NULL);
	}
	T_FAIL("%d pages stay in the page cache after DONTNEED", left);
}

/*
 * A try that finds nothing costs a system call: after a run of lone reads
 * the page cache does not hold, most are not tried inside io_submit (one
 * in 16 still is); once the data is cached again, a try finds it and the
 * reads are done inside io_submit again.
 */
static void miss_run(int fd, unsigned char *buf)
{
	io_context_t ctx = 0;
	long tries, hits;
	struct paths got;

	T_EQ(io_setup(4, &ctx), 0);
	drop_cache(fd);
	atomic_store(&nowait_reads, 0);
	atomic_store(&nowait_hits, 0);
	lone_reads(ctx, fd, buf);
	tries = atomic_load(&nowait_reads);
	hits = atomic_load(&nowait_hits);
	/* 8 in a row, then one in 16 of the other 56: 11 or 12.  A try
	 * that finds its page (the disk answered before the try looked
	 * again: a host's cache behind a virtual disk) begins a run again;
	 * without the rule, every read is tried.  With a hit every 8 reads
	 * or more, the two cannot be told apart. */
	if (tries < 8 || (tries >= LONE && hits < LONE / 8))
		T_FAIL("%ld of %d uncached reads tried inside io_submit (%ld "
		       "found their page)",
		       tries, LONE, hits);
	for (long off = 0; off < FILE_SIZE; off += BS)
		T_EQ(pread(fd, buf, BS, off), BS);
	lone_reads(ctx, fd, buf);
	T_EQ(io_destroy(ctx), 0);
	/* The context's count: the first pass's tries that found a page
	 * DONTNEED left cached, then the second pass's. */
	got = last_paths();
	got.inline_ -= hits;
	/* At most 15 go to the engine before a try finds the cache (a
	 * read without waiting may still miss now and then under load);
	 * without the probe, none would be done inside io_submit. */
	if (got.inline_ < LONE / 2 || got.inline_ > LONE)
		T_FAIL("cached again: %ld of %d reads inside io_submit",
		       got.inline_, LONE);
	printf("lone uncached reads: %ld of %d tried inside io_submit; then "
	       "cached: %ld inside io_submit\n",
	       tries, LONE, got.inline_);
}

int main(void)
{
	const char *dir = getenv("TMPDIR");
	unsigned char *buf = t_aligned(BS, N * BS);
	bool kaio = kernel_aio_works();
	struct paths got;
	int fd, dfd;

	T_SKIP_IF(t_is_ref(), "uaio's statistics");
	T_SKIP_IF(strncmp(t_engine(), "auto", 4) != 0, "auto only");
	snprintf(stats_path, sizeof(stats_path), "%s/uaio-paths-%d.json",
		 dir && *dir ? dir : ".", (int)getpid());
	unlink(stats_path);
	setenv("UAIO_STATS", stats_path, 1); /* read at the first io_setup */

	fd = t_scratch_file(FILE_SIZE, 0);
	dfd = t_reopen(fd, O_RDWR | O_DIRECT);

	got = run(dfd, false, buf);
	if (kaio)
		T_EQ(got.kernel_aio, N);
	else
		T_EQ(got.engine, N);
	printf("O_DIRECT reads: kernel AIO %ld, engine %ld (kernel AIO %s)\n",
	       got.kernel_aio, got.engine, kaio ? "works" : "refused");

	/* Into the page cache, then read again. */
	for (long off = 0; off < FILE_SIZE; off += BS)
		T_EQ(pread(fd, buf, BS, off), BS);
	got = run_as(fd, false, buf, true);
	T_EQ(got.inline_, N);
	printf("cached reads, one per io_submit: inside io_submit %ld\n",
	       got.inline_);
	/* A batch: io_uring tries all of it without blocking in one system
	 * call, where a read each would cost one each; without io_uring,
	 * the reads are still done inside io_submit. */
	got = run(fd, false, buf);
	if (uaio_probe("uring", NULL, 0) == 0)
		T_EQ(got.engine, N);
	else
		T_EQ(got.inline_, N);
	printf("cached reads, %d in one io_submit: engine %ld, inside "
	       "io_submit %ld\n",
	       N, got.engine, got.inline_);

	/* Out of it, with no readahead: each read waits for the disk. */
	T_EQ(fdatasync(fd), 0);
	drop_cache(fd);
	T_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM), 0);
	got = run(fd, false, buf);
	T_ASSERT(got.engine >= 1 && got.kernel_aio == 0);
	printf("uncached reads: engine %ld, inside io_submit %ld\n", got.engine,
	       got.inline_);
	if (uaio_probe("uring", NULL, 0) == 0)
		miss_run(fd, buf);

	/* Each read's first page cached, its second not: the cached part
	 * is taken without waiting, the rest comes from the disk; each read
	 * completes once, whole. */
	drop_cache(fd);
	{
		io_context_t ctx = 0;
		struct iocb cbs[N], *p[N];
		struct io_event ev[N];
		unsigned char *big = t_aligned(BS, 2 * N * BS);

		for (int i = 0; i < N; i++) {
			long long off = (long long)i * 4 * BS;
			T_EQ(pread(fd, big, BS, off), BS);
			io_prep_pread(&cbs[i], fd, big + 2 * i * BS, 2 * BS,
				      off);
			p[i] = &cbs[i];
		}
		memset(big, 0, 2 * N * BS);
		T_EQ(io_setup(N, &ctx), 0);
		T_EQ(io_submit(ctx, N, p), N);
		T_EQ(io_getevents(ctx, N, N, ev, NULL), N);
		T_EQ(io_getevents(ctx, 0, N, ev + 1, NULL), 0);
		for (int i = 0; i < N; i++) {
			struct iocb *cb = ev[i].obj;
			unsigned char *b = cb->u.c.buf;
			long long off = cb->u.c.offset;

			T_EQ((long)ev[i].res, 2 * BS);
			T_EQ(b[100], t_pattern((uint64_t)off + 100));
			T_EQ(b[BS + 100], t_pattern((uint64_t)off + BS + 100));
		}
		T_EQ(io_destroy(ctx), 0);
		free(big);
		got = last_paths();
		printf("reads half cached: whole, data right (engine %ld, "
		       "inside io_submit %ld)\n",
		       got.engine, got.inline_);
	}

	/* Buffered writes go to the page cache inside io_submit. */
	memset(buf, 0x5a, N * BS);
	got = run(fd, true, buf);
	T_EQ(got.inline_, N);
	printf("buffered writes: inside io_submit %ld\n", got.inline_);
	/* So are writes at an offset to a character device that takes one,
	 * as the kernel does them; a pipe refuses the offset (ESPIPE), and
	 * its writes still complete, whole. */
	{
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC), pfd[2];

		T_ASSERT(null >= 0);
		got = run(null, true, buf);
		T_EQ(got.inline_, N);
		T_EQ(pipe(pfd), 0); /* holds N * BS */
		got = run(pfd[1], true, buf);
		T_EQ(got.engine + got.inline_, N);
		printf("/dev/null writes: inside io_submit %ld; pipe writes: "
		       "engine %ld, inside io_submit %ld\n",
		       (long)N, got.engine, got.inline_);
		close(pfd[0]);
		close(pfd[1]);
		close(null);
	}

	unlink(stats_path);
	close(dfd);
	close(fd);
	free(buf);
	printf("PASS on %s\n", t_engine());
	return 0;
}
