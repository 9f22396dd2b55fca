/*
 * pthread_cancel() of a thread inside the library: libaio's calls are
 * system calls, none a cancellation point, so the thread is cancelled at
 * its next one, after the call; nothing it held stays held.  A thread
 * cancelled while it submits and reaps (with eventfds, whose signalling
 * and closing are cancellation points of the C library) leaves its
 * context destroyable and the engine's shared rings working; a thread
 * blocked in io_getevents stays blocked until io_destroy wakes it.
 */
#include "behaviour.h"

#include <sys/eventfd.h>

#if defined(__SANITIZE_ADDRESS__)
/* The unwind of a cancelled thread leaves AddressSanitizer's marks of its
 * frames on the stack, and the runtime trips on them when it takes down
 * the thread's alternate signal stack (with the system libaio too). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "use_sigaltstack=0";
}
#endif

struct looper {
	io_context_t ctx;
	int fd, efd;
	atomic_long rounds;
};

static void *loop_fn(void *arg)
{
	struct looper *l = arg;
	struct iocb cb[16], *p[16];
	struct io_event ev[16];
	char buf[16][512];

	for (;;) {
		int n, got = 0;

		for (int i = 0; i < 16; i++) {
			io_prep_pread(&cb[i], l->fd, buf[i], sizeof(buf[i]),
				      512 * i);
			io_set_eventfd(&cb[i], l->efd);
			p[i] = &cb[i];
		}
		n = io_submit(l->ctx, 16, p);
		if (n < 0)
			T_FAIL("io_submit: %s", strerror(-n));
		while (got < n) {
			int r = io_getevents(l->ctx, 1, 16, ev, NULL);
			if (r < 0 && r != -EINTR)
				T_FAIL("io_getevents: %s", strerror(-r));
			got += r > 0 ? r : 0;
		}
		atomic_fetch_add(&l->rounds, 1);
		pthread_testcancel(); /* where it may end */
	}
	return NULL;
}

static void join_within(pthread_t t, long ms, const char *what)
{
	if (t_join_ms(t, ms))
		T_FAIL("%s: not joined after %ld ms", what, ms);
}

static void cancel_busy(int fd, int rounds)
{
	for (int r = 0; r < rounds; r++) {
		struct looper l = {.ctx = t_setup(64), .fd = fd};
		pthread_t t;

		l.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		T_ASSERT(l.efd >= 0);
		T_EQ(pthread_create(&t, NULL, loop_fn, &l), 0);
		while (atomic_load(&l.rounds) < 3)
			t_sleep_ms(1);
		t_sleep_ms(r % 5);
		T_EQ(pthread_cancel(t), 0);
		join_within(t, 6000, "cancelled thread");
		/* Nothing of the thread's left holding the context. */
		T_EQ(io_destroy(l.ctx), 0);
		close(l.efd);
	}
	/* The engine's shared state still works for a new context. */
	{
		io_context_t ctx = t_setup(8);
		struct iocb cb;
		char buf[512];

		io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
		t_run1(ctx, &cb, sizeof(buf));
		T_EQ(io_destroy(ctx), 0);
	}
}

struct blocked {
	io_context_t ctx;
	_Atomic int ret;
};

static void *block_fn(void *arg)
{
	struct blocked *b = arg;
	struct io_event ev;

	atomic_store(&b->ret, io_getevents(b->ctx, 1, 1, &ev, NULL));
	pthread_testcancel();
	return NULL;
}

/* As in the kernel: the cancel waits for the call to end. */
static void cancel_blocked(void)
{
	struct blocked b = {.ctx = t_setup(8), .ret = 99};
	pthread_t t;

	T_EQ(pthread_create(&t, NULL, block_fn, &b), 0);
	t_sleep_ms(100);
	T_EQ(pthread_cancel(t), 0);
	T_EQ(t_join_ms(t, 300), ETIMEDOUT);
	T_EQ(atomic_load(&b.ret), 99);
	T_EQ(io_destroy(b.ctx), 0);
	join_within(t, 6000, "thread woken by io_destroy");
	T_EQ(atomic_load(&b.ret), -EINVAL);
}

int main(void)
{
	int fd = t_scratch_file(16 * 512, O_RDWR);

	cancel_busy(fd, 30);
	cancel_blocked();
	close(fd);
	return 0;
}
