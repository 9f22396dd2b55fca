/*
 * Completions reach the ring without a call: a program that has waited in
 * io_getevents once and then only reads the ring (fio's userspace_reap when
 * the ring has enough, a program that switches to polling the ring) must
 * still see every event appear there, on every engine.  The uring engine
 * leaves completions to the program's calls while it keeps calling; this
 * checks that it publishes them by itself once the calls stop.
 */
#include "behaviour.h"

#include <poll.h>

static int pfd[2];

/* Make the pipe read complete after the main thread has stopped calling. */
static void *writer(void *arg)
{
	(void)arg;
	t_sleep_ms(50);
	if (write(pfd[1], "late", 4) != 4)
		T_FAIL("write: %s", strerror(errno));
	return NULL;
}

/* Read the ring directly until one event is there; ms at most. */
static bool ring_event(io_context_t ctx, struct io_event *ev, long ms)
{
	struct t_ring *r = t_ring(ctx);
	double end = t_now_ms() + ms;

	while (t_now_ms() < end) {
		unsigned head = t_head(r), tail = t_tail(r);
		if (head != tail) {
			*ev = r->events[head];
			__atomic_store_n(&r->head, (head + 1) % r->nr,
					 __ATOMIC_RELEASE);
			return true;
		}
		t_sleep_ms(1);
	}
	return false;
}

/*
 * The ring is the program's memory: a tail it overwrites, even far out of
 * range, is where the kernel's next completion writes its own tail (it
 * keeps a copy), and the event is right.
 */
static void scribbled_tail(int fd)
{
	io_context_t ctx = t_setup(8);
	struct t_ring *r = t_ring(ctx);
	struct io_event ev;
	struct iocb cb;
	char buf[16];

	r->tail = 0x7fffff00u;
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	cb.data = (void *)3;
	t_submit1(ctx, &cb);
	t_wait1(ctx, &ev);
	T_ASSERT(ev.obj == &cb && ev.data == (void *)3);
	T_EQ((long)ev.res, (long)sizeof(buf));
	T_ASSERT(r->tail < r->nr);
	T_EQ(io_destroy(ctx), 0);
}

int main(void)
{
	io_context_t ctx = t_setup(8);
	int fd = t_scratch_file(4096, 0);
	char buf[16], pbuf[8];
	struct iocb cb, pcb;
	struct io_event ev;
	pthread_t th;

	T_ASSERT(pipe(pfd) == 0);
	/* Wait in io_getevents once, as a reaping program does. */
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	cb.data = (void *)1;
	t_submit1(ctx, &cb);
	t_wait1(ctx, &ev);
	T_EQ((long)ev.res, (long)sizeof(buf));

	/*
	 * A read that completes later: of a pipe on the emulated engines, a
	 * POLL on the kernel (its pipe reads block io_submit).
	 */
	if (t_is_ref() || strcmp(t_engine(), "kernel") == 0)
		io_prep_poll(&pcb, pfd[0], POLLIN);
	else
		io_prep_pread(&pcb, pfd[0], pbuf, 4, 0);
	pcb.data = (void *)2;
	t_submit1(ctx, &pcb);
	T_ASSERT(pthread_create(&th, NULL, writer, NULL) == 0);
	/* No more calls: the event must show up in the ring by itself. */
	if (!ring_event(ctx, &ev, 5000))
		T_FAIL("no event in the ring 5 s after the completion");
	T_ASSERT(ev.obj == &pcb && ev.data == (void *)2);
	T_ASSERT((long)ev.res > 0);
	pthread_join(th, NULL);
	T_EQ(io_destroy(ctx), 0);
	scribbled_tail(fd);
	return 0;
}
