/*
 * Four threads share one context, each submitting thousands of reads (page
 * cache and O_DIRECT, in batches of varying size) while all of them reap
 * concurrently, some with {0,0} passes and some blocking.  Every request
 * must complete exactly once, with its own data, result and bytes.
 */
#include "behaviour.h"

#define THREADS 4
#define PER_THREAD 2000
#define TOTAL (THREADS * PER_THREAD)
#define LEN 4096
#define FILE_SIZE (1 << 20)

static io_context_t ctx;
static int bfd, dfd;
static struct iocb *iocbs;
static unsigned char *bufs;
static atomic_int seen[TOTAL];
static atomic_int completed;
static atomic_int peak_inflight, inflight;

static long long offset_of(int id)
{
	return (long long)(id * 7919 % (FILE_SIZE / LEN)) * LEN;
}

static void check(const struct io_event *ev)
{
	long id = (long)ev->data;
	const unsigned char *b;
	long long off;

	if (id < 0 || id >= TOTAL)
		T_FAIL("event with unknown data %ld", id);
	if (ev->obj != &iocbs[id])
		T_FAIL("request %ld: obj %p, expected %p", id, (void *)ev->obj,
		       (void *)&iocbs[id]);
	if ((long)ev->res != LEN || ev->res2 != 0)
		T_FAIL("request %ld: res %ld res2 %ld", id, (long)ev->res,
		       (long)ev->res2);
	if (atomic_fetch_add(&seen[id], 1) != 0)
		T_FAIL("request %ld completed twice", id);
	b = bufs + (size_t)id * LEN;
	off = offset_of((int)id);
	for (int i = 0; i < LEN; i++)
		if (b[i] != t_pattern(off + i))
			T_FAIL("request %ld: byte %d wrong", id, i);
	atomic_fetch_sub(&inflight, 1);
	atomic_fetch_add(&completed, 1);
}

/* Reap what is there (blocking briefly on odd threads). */
static int reap(int self, int max_wait_ms)
{
	struct io_event ev[16];
	struct timespec ts = t_ts_ms(self & 1 ? max_wait_ms : 0);
	int n = io_getevents(ctx, self & 1 ? 1 : 0, 16, ev, &ts);

	if (n == -EINTR)
		return 0;
	if (n < 0)
		T_FAIL("io_getevents: %s", strerror(-n));
	for (int i = 0; i < n; i++)
		check(&ev[i]);
	return n;
}

static void *thread_fn(void *arg)
{
	int self = (int)(long)arg;
	int first = self * PER_THREAD, next = first, end = first + PER_THREAD;
	unsigned seed = 2166136261u ^ self;
	double deadline = t_now_ms() + 60000;

	while (next < end) {
		struct iocb *ptrs[8];
		int batch, ret, cur;

		seed = seed * 1103515245u + 12345u;
		batch = 1 + (int)(seed >> 16) % 8;
		if (batch > end - next)
			batch = end - next;
		for (int i = 0; i < batch; i++) {
			int id = next + i;
			struct iocb *p = &iocbs[id];
			io_prep_pread(p, id % 4 == 0 ? dfd : bfd,
				      bufs + (size_t)id * LEN, LEN,
				      offset_of(id));
			p->data = (void *)(long)id;
			ptrs[i] = p;
		}
		/* counted first, so a fast reaper never sees it negative */
		cur = atomic_fetch_add(&inflight, batch) + batch;
		ret = io_submit(ctx, batch, ptrs);
		if (ret < 0 && ret != -EAGAIN)
			T_FAIL("io_submit: %s", strerror(-ret));
		if (ret < 0)
			ret = 0;
		atomic_fetch_sub(&inflight, batch - ret);
		cur -= batch - ret;
		if (cur > atomic_load(&peak_inflight))
			atomic_store(&peak_inflight, cur);
		next += ret;
		reap(self, 5);
		if (t_now_ms() > deadline)
			T_FAIL("thread %d stuck at request %d", self, next);
	}
	while (atomic_load(&completed) < TOTAL) {
		reap(self, 20);
		if (t_now_ms() > deadline)
			T_FAIL("only %d of %d completed",
			       atomic_load(&completed), TOTAL);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	struct io_event ev;
	double t0 = t_now_ms();

	bfd = t_scratch_file(FILE_SIZE, 0);
	dfd = t_reopen(bfd, O_RDONLY | O_DIRECT);
	iocbs = calloc(TOTAL, sizeof(*iocbs));
	bufs = t_aligned(4096, (size_t)TOTAL * LEN);
	T_ASSERT(iocbs);
	ctx = t_setup(128);

	for (long i = 0; i < THREADS; i++)
		T_EQ(pthread_create(&t[i], NULL, thread_fn, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	T_EQ(atomic_load(&completed), TOTAL);
	for (int i = 0; i < TOTAL; i++)
		if (atomic_load(&seen[i]) != 1)
			T_FAIL("request %d completed %d times", i,
			       atomic_load(&seen[i]));
	T_EQ(t_peek(ctx, 1, &ev), 0);
	T_EQ(t_head(t_ring(ctx)), t_tail(t_ring(ctx)));
	fprintf(stderr, "%d requests, peak %d in flight, %.0f ms\n", TOTAL,
		atomic_load(&peak_inflight), t_now_ms() - t0);
	T_EQ(io_destroy(ctx), 0);
	return 0;
}
