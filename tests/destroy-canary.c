/*
 * Once io_destroy returns, nothing writes into the caller's buffers or iocbs
 * and no eventfd is signalled for that context (libaio harness case 18, in
 * the small).  Many threads repeatedly set up a context, submit O_DIRECT and
 * buffered reads (plus a POLL on an empty pipe, and on the emulated engines
 * a read of an empty pipe, which io_destroy must interrupt), destroy it
 * without reaping, then paint everything with a canary and check after a
 * short delay that the paint is intact.
 *
 * Usage: destroy-canary [ROUNDS [THREADS]]   (scripts/stress.sh: 10^5)
 */
#include "behaviour.h"

#include <poll.h>
#include <sys/eventfd.h>

#define THREADS 8
#define MAX_THREADS 64
#define DLEN 65536
#define BLEN 4096
#define PLEN 64
#define FILE_SIZE (1 << 20)

static int dfd, bfd, rounds;
static bool pipe_reads;

struct worker {
	int id;
	unsigned char *dbuf, *bbuf, *pbuf;
	struct iocb iocbs[4];
};

static void paint(void *p, size_t len, unsigned char c)
{
	memset(p, c, len);
}

static void check_paint(const void *p, size_t len, unsigned char c,
			const char *what, int id, int round)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i] != c)
			T_FAIL(
			    "thread %d round %d: %s byte %zu changed to 0x%02x "
			    "after io_destroy returned",
			    id, round, what, i, b[i]);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	unsigned seed = 0x9e3779b9u * (w->id + 1);
	int p[2];

	T_ASSERT(efd >= 0);
	t_pipe(p);
	for (int round = 0; round < rounds; round++) {
		int variant = round % (pipe_reads ? 3 : 2);
		unsigned char c = (unsigned char)(0x5a ^ round ^ w->id);
		struct iocb *ptrs[4];
		io_context_t ctx = 0;
		uint64_t v;
		int n = 0, ret;

		ret = io_setup(4, &ctx);
		if (ret < 0)
			T_FAIL("io_setup: %s", strerror(-ret));
		seed = seed * 1103515245u + 12345u;
		io_prep_pread(&w->iocbs[n], dfd, w->dbuf, DLEN,
			      (long long)(seed % (FILE_SIZE / DLEN)) * DLEN);
		io_set_eventfd(&w->iocbs[n], efd);
		n++;
		io_prep_pread(&w->iocbs[n], bfd, w->bbuf, BLEN,
			      (long long)(seed % (FILE_SIZE / BLEN)) * BLEN);
		io_set_eventfd(&w->iocbs[n], efd);
		n++;
		if (variant == 1) {
			io_prep_poll(&w->iocbs[n], p[0], POLLIN);
			io_set_eventfd(&w->iocbs[n], efd);
			n++;
		} else if (variant == 2) {
			io_prep_pread(&w->iocbs[n], p[0], w->pbuf, PLEN, 0);
			io_set_eventfd(&w->iocbs[n], efd);
			n++;
		}
		for (int i = 0; i < n; i++)
			ptrs[i] = &w->iocbs[i];
		T_EQ(io_submit(ctx, n, ptrs), n);
		T_EQ(io_destroy(ctx), 0);

		paint(w->dbuf, DLEN, c);
		paint(w->bbuf, BLEN, c);
		paint(w->pbuf, PLEN, c);
		paint(w->iocbs, sizeof(w->iocbs), c);
		while (read(efd, &v, sizeof(v)) > 0)
			;
		/* A read still blocked in a worker would take this byte. */
		if (variant == 2)
			T_EQ(write(p[1], "z", 1), 1);

		if (round % 4 == 0)
			t_sleep_ms(1);
		else
			sched_yield();

		check_paint(w->dbuf, DLEN, c, "O_DIRECT buffer", w->id, round);
		check_paint(w->bbuf, BLEN, c, "buffered buffer", w->id, round);
		check_paint(w->pbuf, PLEN, c, "pipe buffer", w->id, round);
		check_paint(w->iocbs, sizeof(w->iocbs), c, "iocb", w->id,
			    round);
		if (read(efd, &v, sizeof(v)) > 0)
			T_FAIL("thread %d round %d: eventfd signalled %llu "
			       "after io_destroy returned",
			       w->id, round, (unsigned long long)v);
		if (variant == 2) {
			char z;
			fcntl(p[0], F_SETFL, O_NONBLOCK);
			T_EQ(read(p[0], &z, 1), 1);
			fcntl(p[0], F_SETFL, 0);
		}
	}
	close(p[0]);
	close(p[1]);
	close(efd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	int threads = argc > 2 ? atoi(argv[2]) : THREADS;
	bool kernel_ctx = t_is_ref() || !strcmp(t_engine(), "kernel");
	double t0 = t_now_ms();

	bfd = t_scratch_file(FILE_SIZE, 0);
	dfd = t_reopen(bfd, O_RDONLY | O_DIRECT);
	/*
	 * A kernel io_destroy waits for an RCU grace period (~30 ms): fewer
	 * rounds there.  A read of an empty pipe blocks io_submit itself on
	 * the kernel, so only the emulated engines get that variant.
	 */
	rounds = argc > 1 ? atoi(argv[1]) : kernel_ctx ? 60 : 200;
	pipe_reads = !kernel_ctx;
	T_ASSERT(threads > 0 && threads <= MAX_THREADS);

	for (int i = 0; i < threads; i++) {
		w[i].id = i;
		w[i].dbuf = t_aligned(4096, DLEN);
		w[i].bbuf = t_aligned(4096, BLEN);
		w[i].pbuf = t_aligned(64, PLEN);
		T_EQ(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		free(w[i].dbuf);
		free(w[i].bbuf);
		free(w[i].pbuf);
	}
	printf("destroy-canary: %d threads x %d rounds in %.0f ms\n", threads,
	       rounds, t_now_ms() - t0);
	return 0;
}
