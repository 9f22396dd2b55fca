/*
 * Long stress on one context: THREADS threads mix buffered and O_DIRECT
 * reads and writes, fsync, POLL and io_cancel, and every thread reaps
 * events for all of them.  Every request must complete exactly once; a
 * read must find the data of the last write to its block; a cancelled
 * write must not have happened.
 *
 * Usage: stress-mix [SECONDS [THREADS]]   (default 5 s, 16 threads)
 */
#include "behaviour.h"

#include <poll.h>

#define MAX_THREADS 64
#define DEPTH 8	  /* requests in flight per thread */
#define BLOCKS 16 /* blocks each thread owns in each file */
#define BLK 4096

enum { OP_READ, OP_WRITE, OP_FSYNC, OP_POLL };

struct slot {
	struct iocb cb;
	_Atomic int busy; /* 1 from submit until its event is handled */
	int owner, op, file, block;
	unsigned version; /* written, or expected by a read */
	_Atomic bool cancelled;
	unsigned char *buf;
};

struct thread {
	int id;
	pthread_t tid;
	struct slot slots[DEPTH];
	_Atomic unsigned version[2][BLOCKS]; /* last write done per block */
	_Atomic bool block_busy[2][BLOCKS];
	int pipe[2];
	_Atomic int polls_pending;
	unsigned seed;
};

static io_context_t ctx;
static int fds[2]; /* 0 buffered, 1 O_DIRECT */
static struct thread threads[MAX_THREADS];
static int nthreads;
static _Atomic bool stop;
static _Atomic long submitted, completed, cancelled_ok, cancel_tries;

static unsigned char pattern(int thread, int file, int block, unsigned v,
			     size_t i)
{
	return (unsigned char)(thread * 131 + file * 71 + block * 31 + v * 7 +
			       i);
}

static long long offset_of(int thread, int block)
{
	return ((long long)thread * BLOCKS + block) * BLK;
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* An event, reaped by any thread, for any thread's slot. */
static void handle(const struct io_event *ev)
{
	struct slot *s = ev->data;
	struct thread *t = &threads[s->owner];
	long res = (long)ev->res;
	bool cancelled = atomic_load(&s->cancelled);

	if (ev->obj != &s->cb)
		T_FAIL("event obj %p for slot of iocb %p", (void *)ev->obj,
		       (void *)&s->cb);
	if (atomic_load(&s->busy) != 1)
		T_FAIL("thread %d: a second event for one request (op %d)",
		       s->owner, s->op);
	if (cancelled && (res == -ECANCELED || (s->op == OP_POLL && !res))) {
		atomic_fetch_add(&cancelled_ok, 1);
		if (s->op == OP_POLL)
			atomic_fetch_sub(&t->polls_pending, 1);
		goto done;
	}
	switch (s->op) {
	case OP_READ:
		if (res != BLK)
			T_FAIL("read: res %ld", res);
		for (size_t i = 0; i < BLK; i++)
			if (s->buf[i] !=
			    pattern(s->owner, s->file, s->block, s->version, i))
				T_FAIL("thread %d file %d block %d: byte %zu "
				       "is not that of write %u",
				       s->owner, s->file, s->block, i,
				       s->version);
		break;
	case OP_WRITE:
		if (res != BLK)
			T_FAIL("write: res %ld", res);
		atomic_store(&t->version[s->file][s->block], s->version);
		break;
	case OP_FSYNC:
		if (res != 0)
			T_FAIL("fsync: res %ld", res);
		break;
	case OP_POLL:
		if (!(res & POLLIN))
			T_FAIL("poll: res %#lx", res);
		atomic_fetch_sub(&t->polls_pending, 1);
		break;
	}
done:
	if (s->op == OP_READ || s->op == OP_WRITE)
		atomic_store(&t->block_busy[s->file][s->block], false);
	atomic_fetch_add(&completed, 1);
	atomic_store(&s->busy, 0);
}

static void reap(long ms)
{
	struct io_event ev[32];
	struct timespec ts = t_ts_ms(ms);
	int n = io_getevents(ctx, 1, 32, ev, &ts);

	if (n < 0 && n != -EINTR)
		T_FAIL("io_getevents: %s", strerror(-n));
	for (int i = 0; i < n; i++)
		handle(&ev[i]);
}

static bool prep(struct thread *t, struct slot *s)
{
	unsigned r = rnd(&t->seed);
	int op = r % 16 < 6    ? OP_READ
		 : r % 16 < 12 ? OP_WRITE
		 : r % 16 < 14 ? OP_FSYNC
			       : OP_POLL;

	s->op = op;
	s->file = (int)(rnd(&t->seed) % 2);
	s->block = (int)(rnd(&t->seed) % BLOCKS);
	atomic_store(&s->cancelled, false);
	if (op == OP_READ || op == OP_WRITE) {
		bool f = false;
		if (!atomic_compare_exchange_strong(
			&t->block_busy[s->file][s->block], &f, true))
			return false; /* one request per block at a time */
		long long off = offset_of(t->id, s->block);
		unsigned v = atomic_load(&t->version[s->file][s->block]);
		if (op == OP_WRITE) {
			s->version = v + 1;
			for (size_t i = 0; i < BLK; i++)
				s->buf[i] = pattern(t->id, s->file, s->block,
						    s->version, i);
			io_prep_pwrite(&s->cb, fds[s->file], s->buf, BLK, off);
		} else {
			s->version = v;
			io_prep_pread(&s->cb, fds[s->file], s->buf, BLK, off);
		}
	} else if (op == OP_FSYNC) {
		io_prep_fsync(&s->cb, fds[s->file]);
	} else {
		/* Ready before it is submitted: the kernel engine would
		 * otherwise keep it until a write. */
		T_EQ(write(t->pipe[1], "p", 1), 1);
		atomic_fetch_add(&t->polls_pending, 1);
		io_prep_poll(&s->cb, t->pipe[0], POLLIN);
	}
	s->cb.data = s;
	return true;
}

static void try_cancel(struct thread *t)
{
	struct slot *s = &t->slots[rnd(&t->seed) % DEPTH];
	struct io_event res;
	int ret;

	if (atomic_load(&s->busy) != 1)
		return;
	/* Marked first: the event may be handled before io_cancel
	 * returns. */
	atomic_store(&s->cancelled, true);
	atomic_fetch_add(&cancel_tries, 1);
	ret = io_cancel(ctx, &s->cb, &res);
	if (ret != -EINPROGRESS && ret != -EINVAL)
		T_FAIL("io_cancel: %d", ret);
}

static void *thread_fn(void *arg)
{
	struct thread *t = arg;

	while (!atomic_load(&stop)) {
		for (int k = 0; k < DEPTH; k++) {
			struct slot *s = &t->slots[k];
			struct iocb *p = &s->cb;
			int zero = 0, ret;

			if (!atomic_compare_exchange_strong(&s->busy, &zero, 2))
				continue;
			if (!prep(t, s)) {
				atomic_store(&s->busy, 0);
				continue;
			}
			atomic_store(&s->busy, 1);
			ret = io_submit(ctx, 1, &p);
			if (ret != 1)
				T_FAIL("io_submit (op %d, file %d): %d (%s)",
				       s->op, s->file, ret,
				       ret < 0 ? strerror(-ret) : "");
			atomic_fetch_add(&submitted, 1);
		}
		if (rnd(&t->seed) % 8 == 0)
			try_cancel(t);
		reap(5);
		/* Drain the bytes of polls that completed. */
		char c;
		while (atomic_load(&t->polls_pending) == 0 &&
		       read(t->pipe[0], &c, 1) == 1)
			;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	double t0, end;

	nthreads = argc > 2 ? atoi(argv[2]) : 16;
	T_ASSERT(nthreads > 0 && nthreads <= MAX_THREADS);
	fds[0] = t_scratch_file((size_t)nthreads * BLOCKS * BLK, 0);
	fds[1] = t_scratch_file((size_t)nthreads * BLOCKS * BLK, O_DIRECT);
	/* Known content: version 0 of every block. */
	unsigned char *buf = t_aligned(BLK, BLK);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < nthreads; i++)
			for (int b = 0; b < BLOCKS; b++) {
				for (size_t k = 0; k < BLK; k++)
					buf[k] = pattern(i, f, b, 0, k);
				T_EQ(pwrite(fds[f], buf, BLK, offset_of(i, b)),
				     BLK);
			}
	free(buf);
	T_EQ(io_setup(nthreads * DEPTH + 16, &ctx), 0);

	for (int i = 0; i < nthreads; i++) {
		struct thread *t = &threads[i];
		t->id = i;
		t->seed = 0x9e3779b9u * (unsigned)(i + 1);
		t_pipe(t->pipe);
		fcntl(t->pipe[0], F_SETFL, O_NONBLOCK);
		for (int k = 0; k < DEPTH; k++) {
			t->slots[k].owner = i;
			t->slots[k].buf = t_aligned(BLK, BLK);
		}
	}
	t0 = t_now_ms();
	for (int i = 0; i < nthreads; i++)
		T_EQ(pthread_create(&threads[i].tid, NULL, thread_fn,
				    &threads[i]),
		     0);
	while (t_now_ms() - t0 < seconds * 1000)
		t_sleep_ms(50);
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i].tid, NULL);
	/* Everything submitted completes. */
	end = t_now_ms() + 10000;
	while (atomic_load(&completed) < atomic_load(&submitted)) {
		if (t_now_ms() > end)
			T_FAIL("%ld of %ld requests never completed",
			       atomic_load(&submitted) -
				   atomic_load(&completed),
			       atomic_load(&submitted));
		reap(20);
	}
	printf("stress-mix: %d threads, %.1f s: %ld requests (%.0f/s), "
	       "%ld cancels tried, %ld took effect\n",
	       nthreads, (t_now_ms() - t0) / 1000, atomic_load(&submitted),
	       atomic_load(&submitted) / ((t_now_ms() - t0) / 1000),
	       atomic_load(&cancel_tries), atomic_load(&cancelled_ok));
	T_EQ(io_destroy(ctx), 0);
	return 0;
}
