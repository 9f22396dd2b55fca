/*
 * IOCB_CMD_POLL: one-shot readiness with the mask the kernel reports, which
 * differs between "ready at submit" (the requested bits only) and "became
 * ready later" (the bits of the wake-up, e.g. POLLIN|POLLRDNORM).
 */
#include "behaviour.h"

#include <poll.h>
#include <sys/resource.h>
#include <termios.h>

static void drain(int fd)
{
	char buf[4096];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

/*
 * More pending POLLs than the descriptor limit (RLIMIT_NOFILE, which caps
 * a poll() set): the kernel has no such limit, and all of them complete.
 */
static void many_polls_few_descriptors(void)
{
	enum { N = 100 };
	static struct iocb cbs[N];
	struct iocb *ptrs[N];
	struct io_event ev[N];
	struct rlimit old, low;
	io_context_t ctx = t_setup(128);
	int p[2], got;

	t_pipe(p);
	T_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	T_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (int i = 0; i < N; i++) {
		io_prep_poll(&cbs[i], p[0], POLLIN);
		ptrs[i] = &cbs[i];
	}
	T_EQ(io_submit(ctx, N, ptrs), N);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, N, ev), 0);
	T_EQ(write(p[1], "m", 1), 1);
	got = t_wait_events(ctx, N, ev, 5000);
	T_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	T_EQ(got, N);
	for (int i = 0; i < N; i++)
		T_ASSERT(ev[i].res & POLLIN);
	T_EQ(io_destroy(ctx), 0);
	close(p[0]);
	close(p[1]);
}

/*
 * The one-byte read rd and the POLL pl (POLLIN) of one tty, submitted
 * together in the order of two; data written to the tty's master m
 * completes both: rd with a byte, pl with its events (a mask, not a
 * count of bytes).
 */
static void tty_read_and_poll(io_context_t ctx, struct iocb **two,
			      struct iocb *rd, struct iocb *pl, int m,
			      const char *data)
{
	size_t len = strlen(data);
	struct io_event ev[2];

	T_EQ(io_submit(ctx, 2, two), 2);
	t_sleep_ms(50);
	T_EQ(write(m, data, len), (ssize_t)len);
	T_EQ(t_wait_events(ctx, 2, ev, 5000), 2);
	for (int i = 0; i < 2; i++)
		if (ev[i].obj == rd)
			T_EVENT(&ev[i], rd, 1);
		else
			T_ASSERT(ev[i].obj == pl && (ev[i].res & POLLIN) &&
				 ev[i].res < 0x10000);
}

int main(void)
{
	io_context_t ctx = t_setup(16);
	struct iocb iocb;
	struct io_event ev[2];
	char buf[4096];
	int p[2], fl;

	t_pipe(p);

	/* Ready at submit: only the requested bit. */
	T_EQ(write(p[1], "a", 1), 1);
	io_prep_poll(&iocb, p[0], POLLIN);
	iocb.data = (void *)0x1;
	t_run1(ctx, &iocb, POLLIN);
	drain(p[0]);

	/* Ready later: the wake-up's bits, POLLIN|POLLRDNORM (0x41). */
	io_prep_poll(&iocb, p[0], POLLIN);
	iocb.data = (void *)0x2;
	t_submit1(ctx, &iocb);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, 1, ev), 0);
	T_EQ(write(p[1], "b", 1), 1);
	t_wait1(ctx, ev);
	T_EVENT(&ev[0], &iocb, POLLIN | POLLRDNORM);

	/* One-shot: further readiness changes produce nothing. */
	drain(p[0]);
	T_EQ(write(p[1], "c", 1), 1);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, 2, ev), 0);
	drain(p[0]);

	/* POLLOUT on an empty pipe's write end: ready at submit. */
	io_prep_poll(&iocb, p[1], POLLOUT);
	iocb.data = (void *)0x3;
	t_run1(ctx, &iocb, POLLOUT);

	/* A request for both on the write end gets only what applies. */
	io_prep_poll(&iocb, p[1], POLLIN | POLLOUT);
	iocb.data = (void *)0x4;
	t_run1(ctx, &iocb, POLLOUT);

	/*
	 * POLLOUT on a full pipe fires when a reader makes room, with the
	 * reader's wake-up bits POLLOUT|POLLWRNORM (0x104).
	 */
	fl = fcntl(p[1], F_GETFL);
	fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
	memset(buf, 'z', sizeof(buf));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	T_EQ(errno, EAGAIN);
	fcntl(p[1], F_SETFL, fl);
	io_prep_poll(&iocb, p[1], POLLOUT);
	iocb.data = (void *)0x5;
	t_submit1(ctx, &iocb);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, 1, ev), 0);
	drain(p[0]);
	t_wait1(ctx, ev);
	T_EVENT(&ev[0], &iocb, POLLOUT | POLLWRNORM);

	/*
	 * Hang-up is always reported: closing the write end completes a
	 * POLLIN request on the read end with POLLHUP alone.
	 */
	io_prep_poll(&iocb, p[0], POLLIN);
	iocb.data = (void *)0x6;
	t_submit1(ctx, &iocb);
	t_sleep_ms(20);
	T_EQ(t_peek(ctx, 1, ev), 0);
	close(p[1]);
	t_wait1(ctx, ev);
	T_EVENT(&ev[0], &iocb, POLLHUP);

	/* Two requests on one fd both complete. */
	close(p[0]);
	t_pipe(p);
	{
		struct iocb a, b, *ab[2] = {&a, &b};
		io_prep_poll(&a, p[0], POLLIN);
		io_prep_poll(&b, p[0], POLLIN);
		a.data = (void *)0xa;
		b.data = (void *)0xb;
		T_EQ(io_submit(ctx, 2, ab), 2);
		t_sleep_ms(20);
		T_EQ(t_peek(ctx, 2, ev), 0);
		T_EQ(write(p[1], "d", 1), 1);
		T_EQ(t_wait_events(ctx, 2, ev, 5000), 2);
		T_ASSERT(ev[0].obj != ev[1].obj);
		for (int i = 0; i < 2; i++)
			T_EVENT(&ev[i], ev[i].obj, POLLIN | POLLRDNORM);
	}

	/*
	 * The requests ahead of a POLL in one io_submit are issued before
	 * its readiness is looked at: a read ahead that empties the pipe
	 * leaves it waiting; a write ahead makes it ready at submit (the
	 * requested bit only).
	 */
	close(p[0]);
	close(p[1]);
	t_pipe(p);
	{
		struct iocb rd, wr, pl, *two[2] = {&rd, &pl};
		char in[8];

		T_EQ(write(p[1], "01234567", 8), 8);
		io_prep_pread(&rd, p[0], in, sizeof(in), 0);
		io_prep_poll(&pl, p[0], POLLIN);
		rd.data = (void *)0xc;
		pl.data = (void *)0xd;
		T_EQ(io_submit(ctx, 2, two), 2);
		t_wait1(ctx, ev);
		T_EVENT(&ev[0], &rd, 8);
		t_sleep_ms(20);
		T_EQ(t_peek(ctx, 1, ev), 0);
		T_EQ(write(p[1], "e", 1), 1);
		t_wait1(ctx, ev);
		T_EVENT(&ev[0], &pl, POLLIN | POLLRDNORM);
		drain(p[0]);

		io_prep_pwrite(&wr, p[1], "f", 1, 0);
		wr.data = (void *)0xe;
		two[0] = &wr;
		T_EQ(io_submit(ctx, 2, two), 2);
		T_EQ(t_wait_events(ctx, 2, ev, 5000), 2);
		for (int i = 0; i < 2; i++)
			if (ev[i].obj == &wr)
				T_EVENT(&ev[i], &wr, 1);
			else
				T_EVENT(&ev[i], &pl, POLLIN);
		T_ASSERT(ev[0].obj != ev[1].obj);
	}

	/*
	 * A tty cannot read with RWF_NOWAIT: a read of it waits on a worker.
	 * A POLL of the same tty in the same io_submit stays a POLL: its
	 * result is the events, and it reads nothing into a buffer of an
	 * earlier request.  (Kernel AIO reads a tty inside io_submit, which
	 * would block here.)
	 */
	if (!t_is_ref() && strcmp(t_engine(), "kernel") != 0) {
		static char old[16] = "earlier-buffer";
		struct iocb rd, pl, *two[2] = {&rd, &pl};
		struct termios tio;
		char in[1] = {0};
		int m, s;

		close(p[0]);
		close(p[1]);
		/* An earlier pipe read into old, done and reaped. */
		t_pipe(p);
		T_EQ(write(p[1], "o", 1), 1);
		io_prep_pread(&rd, p[0], old, 1, 0);
		t_run1(ctx, &rd, 1);
		memcpy(old, "earlier-buffer", 15);

		m = posix_openpt(O_RDWR | O_NOCTTY);
		T_ASSERT(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
		s = open(ptsname(m), O_RDWR | O_NOCTTY);
		T_ASSERT(s >= 0);
		T_EQ(tcgetattr(s, &tio), 0);
		cfmakeraw(&tio);
		T_EQ(tcsetattr(s, TCSANOW, &tio), 0);
		io_prep_pread(&rd, s, in, 1, 0);
		io_prep_poll(&pl, s, POLLIN);
		tty_read_and_poll(ctx, two, &rd, &pl, m, "XYZ");
		T_EQ(in[0], 'X');
		T_ASSERT(memcmp(old, "earlier-buffer", 15) == 0);
		/* The other order: the read after the POLL still reads. */
		T_EQ(read(s, in, 1) + read(s, in, 1), 2); /* YZ */
		two[0] = &pl;
		two[1] = &rd;
		tty_read_and_poll(ctx, two, &rd, &pl, m, "Q");
		T_EQ(in[0], 'Q');
		close(s);
		close(m);
	}

	T_EQ(io_destroy(ctx), 0);
	many_polls_few_descriptors();
	return 0;
}
