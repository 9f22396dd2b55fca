/*
 * Requests outlive the thread that submitted them, as with the kernel's
 * AIO.  A thread submits reads that cannot complete at once (a buffered
 * read of a file dropped from the page cache, O_DIRECT reads, a POLL and,
 * on the emulated engines, a read of an empty pipe), then exits; the
 * events still arrive with their full results and data.  io_uring on its
 * own fails such requests once their task is gone (the pipe read gets
 * -ECANCELED, the buffered read -EFAULT), so before the thread goes the
 * uring engine waits for its file reads and hands the others over.
 *
 * The kernel reads buffered files inside io_submit and would block there
 * on an empty pipe, so the reference gets no pipe read.
 */
#include "behaviour.h"

#include <poll.h>

#define ROUNDS 12
#define BLEN 65536
#define NBUF 6
#define DLEN 4096
#define NDIO 2
#define FILE_SIZE (4 << 20)

static io_context_t ctx;
static int bfd, dfd;
static bool pipe_reads;

struct round {
	struct iocb buffered[NBUF], direct[NDIO], poll, pread;
	unsigned char *bbuf, *dbuf;
	char pbuf[16];
	int p[2], q[2];
	int n;
};

static long long boff(int r, int i)
{
	return (long long)((r * NBUF + i) * BLEN) % FILE_SIZE;
}

static void *submitter(void *arg)
{
	struct round *rd = arg;
	struct iocb *ptrs[NBUF + NDIO + 2];
	int n = 0, r = rd->n;

	for (int i = 0; i < NBUF; i++) {
		io_prep_pread(&rd->buffered[i], bfd, rd->bbuf + i * BLEN, BLEN,
			      boff(r, i));
		rd->buffered[i].data = (void *)(long)(100 + i);
		ptrs[n++] = &rd->buffered[i];
	}
	for (int i = 0; i < NDIO; i++) {
		io_prep_pread(&rd->direct[i], dfd, rd->dbuf + i * DLEN, DLEN,
			      boff(r, i) + DLEN);
		rd->direct[i].data = (void *)(long)(200 + i);
		ptrs[n++] = &rd->direct[i];
	}
	io_prep_poll(&rd->poll, rd->p[0], POLLIN);
	rd->poll.data = (void *)300;
	ptrs[n++] = &rd->poll;
	if (pipe_reads) {
		io_prep_pread(&rd->pread, rd->q[0], rd->pbuf, sizeof(rd->pbuf),
			      0);
		rd->pread.data = (void *)400;
		ptrs[n++] = &rd->pread;
	}
	T_EQ(io_submit(ctx, n, ptrs), n);
	return (void *)(long)n;
}

static void check_data(const unsigned char *b, size_t len, long long off,
		       const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != t_pattern(off + i))
			T_FAIL("%s at %lld: byte %zu wrong", what, off, i);
}

static void one_round(int r)
{
	struct round rd = {.n = r};
	struct io_event ev[NBUF + NDIO + 2];
	pthread_t t;
	void *ret;
	int n, got;

	rd.bbuf = t_aligned(4096, NBUF * BLEN);
	rd.dbuf = t_aligned(4096, NDIO * DLEN);
	memset(rd.bbuf, 0xee, NBUF * BLEN);
	t_pipe(rd.p);
	t_pipe(rd.q);
	/* Out of the page cache: the buffered reads must wait for the disk. */
	T_EQ(posix_fadvise(bfd, 0, 0, POSIX_FADV_DONTNEED), 0);

	T_EQ(pthread_create(&t, NULL, submitter, &rd), 0);
	T_EQ(pthread_join(t, &ret), 0);
	n = (int)(long)ret;

	/* Readiness comes only now that the submitter is gone. */
	t_sleep_ms(5);
	T_EQ(write(rd.p[1], "x", 1), 1);
	if (pipe_reads)
		T_EQ(write(rd.q[1], "hello", 5), 5);

	got = t_wait_events(ctx, n, ev, 5000);
	if (got != n)
		T_FAIL("round %d: %d of %d events", r, got, n);
	for (int i = 0; i < n; i++) {
		long id = (long)ev[i].data;

		T_EQ((long)ev[i].res2, 0);
		if (id >= 100 && id < 100 + NBUF) {
			int k = (int)id - 100;
			T_ASSERT(ev[i].obj == &rd.buffered[k]);
			T_EQ((long)ev[i].res, BLEN);
			check_data(rd.bbuf + k * BLEN, BLEN, boff(r, k),
				   "buffered read");
		} else if (id >= 200 && id < 200 + NDIO) {
			int k = (int)id - 200;
			T_ASSERT(ev[i].obj == &rd.direct[k]);
			T_EQ((long)ev[i].res, DLEN);
			check_data(rd.dbuf + k * DLEN, DLEN, boff(r, k) + DLEN,
				   "O_DIRECT read");
		} else if (id == 300) {
			T_ASSERT(ev[i].obj == &rd.poll);
			/* Ready after submit: the wake-up key. */
			T_EQ((long)ev[i].res, POLLIN | POLLRDNORM);
		} else if (id == 400) {
			T_ASSERT(ev[i].obj == &rd.pread);
			T_EQ((long)ev[i].res, 5);
			T_ASSERT(memcmp(rd.pbuf, "hello", 5) == 0);
		} else {
			T_FAIL("round %d: event with data %ld", r, id);
		}
	}
	close(rd.p[0]);
	close(rd.p[1]);
	close(rd.q[0]);
	close(rd.q[1]);
	free(rd.bbuf);
	free(rd.dbuf);
}

/*
 * The thread that submitted is gone, but the requests are still pending
 * when the context is destroyed: io_destroy neither hangs nor lets them
 * write afterwards.
 */
static void destroy_after_exit(void)
{
	struct round rd = {.n = 0};
	pthread_t t;

	rd.bbuf = t_aligned(4096, NBUF * BLEN);
	rd.dbuf = t_aligned(4096, NDIO * DLEN);
	t_pipe(rd.p);
	t_pipe(rd.q);
	T_EQ(posix_fadvise(bfd, 0, 0, POSIX_FADV_DONTNEED), 0);
	T_EQ(pthread_create(&t, NULL, submitter, &rd), 0);
	T_EQ(pthread_join(t, NULL), 0);
	T_EQ(io_destroy(ctx), 0);
	memset(rd.pbuf, 0x5a, sizeof(rd.pbuf));
	if (pipe_reads)
		T_EQ(write(rd.q[1], "late", 4), 4);
	t_sleep_ms(10);
	for (size_t i = 0; i < sizeof(rd.pbuf); i++)
		T_EQ((unsigned char)rd.pbuf[i], 0x5a);
	close(rd.p[0]);
	close(rd.p[1]);
	close(rd.q[0]);
	close(rd.q[1]);
	free(rd.bbuf);
	free(rd.dbuf);
}

int main(void)
{
	pipe_reads = !t_is_ref() && strcmp(t_engine(), "kernel") != 0;
	bfd = t_scratch_file(FILE_SIZE, 0);
	dfd = t_reopen(bfd, O_RDONLY | O_DIRECT);
	ctx = t_setup(64);
	for (int r = 0; r < ROUNDS; r++)
		one_round(r);
	destroy_after_exit();
	return 0;
}
