/*
 * io_pgetevents: with a NULL sigmask it is io_getevents; with a mask it
 * still reaps, times out and waits for min_nr the same way; an unreadable
 * mask is -EFAULT.  (Signal delivery under the mask is tested in eintr.c.)
 */
#include "behaviour.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

struct writer {
	int fd;
	long after_ms;
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	t_sleep_ms(w->after_ms);
	T_EQ(write(w->fd, "x", 1), 1);
	return NULL;
}

static void both_ways(io_context_t ctx, int fd, sigset_t *mask)
{
	struct io_event ev[4];
	struct timespec zero = {0, 0}, ts;
	struct iocb r[3], *ptrs[3] = {&r[0], &r[1], &r[2]}, pl;
	unsigned char buf[3][128];
	struct writer w;
	pthread_t t;
	int p[2], n;
	double t0;

	/* Nothing there: {0,0} and a timeout both give 0. */
	T_EQ(io_pgetevents(ctx, 1, 4, ev, &zero, mask), 0);
	ts = t_ts_ms(50);
	t0 = t_now_ms();
	T_EQ(io_pgetevents(ctx, 1, 4, ev, &ts, mask), 0);
	T_ASSERT(t_now_ms() - t0 >= 49);

	/* Three completed reads, reaped two then one. */
	for (int i = 0; i < 3; i++) {
		io_prep_pread(&r[i], fd, buf[i], sizeof(buf[i]), 128 * i);
		r[i].data = (void *)(long)(10 + i);
	}
	T_EQ(io_submit(ctx, 3, ptrs), 3);
	ts = t_ts_ms(5000);
	n = io_pgetevents(ctx, 2, 2, ev, &ts, mask);
	T_EQ(n, 2);
	n += io_pgetevents(ctx, 1, 4, ev + 2, NULL, mask);
	T_EQ(n, 3);
	for (int i = 0; i < 3; i++) {
		int k = (int)(ev[i].obj - r);
		T_ASSERT(k >= 0 && k < 3);
		T_EVENT(&ev[i], &r[k], 128);
		for (int j = 0; j < 128; j++)
			T_EQ(buf[k][j], t_pattern(128 * k + j));
	}

	/* NULL timeout waits for an event another thread causes. */
	t_pipe(p);
	io_prep_poll(&pl, p[0], POLLIN);
	pl.data = (void *)0x9;
	t_submit1(ctx, &pl);
	w = (struct writer){.fd = p[1], .after_ms = 100};
	t0 = t_now_ms();
	T_EQ(pthread_create(&t, NULL, writer_fn, &w), 0);
	T_EQ(io_pgetevents(ctx, 1, 1, ev, NULL, mask), 1);
	T_ASSERT(t_now_ms() - t0 >= 90);
	T_EVENT(&ev[0], &pl, POLLIN | POLLRDNORM);
	pthread_join(t, NULL);
	close(p[0]);
	close(p[1]);

	/*
	 * Argument checks are io_getevents'.  Not with {0,0}: the system
	 * libaio answers 0 from its ring peek before the kernel checks.
	 */
	ts = t_ts_ms(10);
	T_EQ(io_pgetevents(ctx, 2, 1, ev, &ts, mask), -EINVAL);
	T_EQ(io_pgetevents(ctx, -1, 1, ev, &ts, mask), -EINVAL);
	T_EQ(io_pgetevents(ctx, 0, 0, NULL, NULL, mask), 0);
}

/*
 * A stop signal, then SIGCONT, while io_pgetevents (no mask) waits: the
 * kernel restarts it (it was io_pgetevents, not io_getevents, which would
 * say EINTR), so it ends at its timeout with 0.  Exit code 0 when it did.
 */
static int stopped_child(void)
{
	io_context_t ctx = t_setup(4);
	struct timespec t = t_ts_ms(1000);
	struct io_event ev;
	int r = io_pgetevents(ctx, 1, 1, &ev, &t, NULL);

	if (r != 0) {
		fprintf(stderr, "io_pgetevents after SIGSTOP: %d\n", r);
		return 1;
	}
	return io_destroy(ctx) ? 2 : 0;
}

static void stop_and_continue(void)
{
	int status;
	pid_t pid;

	fflush(stderr);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(stopped_child());
	t_sleep_ms(200);
	T_EQ(kill(pid, SIGSTOP), 0);
	T_EQ(waitpid(pid, &status, WUNTRACED), pid);
	T_ASSERT(WIFSTOPPED(status));
	T_EQ(kill(pid, SIGCONT), 0);
	T_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAIL("io_pgetevents across SIGSTOP/SIGCONT: status 0x%x",
		       status);
}

int main(void)
{
	io_context_t ctx = t_setup(16);
	int fd = t_scratch_file(65536, 0);
	sigset_t empty, usr1;
	struct io_event ev;
	struct timespec ts = t_ts_ms(10);
	/*
	 * Readable memory that is no ring (the system libaio reads the magic
	 * at the handle before the syscall, so it must be readable).
	 */
	static struct t_ring not_a_ring;

	sigemptyset(&empty);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);

	both_ways(ctx, fd, NULL);
	both_ways(ctx, fd, &empty);
	both_ways(ctx, fd, &usr1);

	T_EQ(io_pgetevents((io_context_t)&not_a_ring, 1, 1, &ev, &ts, NULL),
	     -EINVAL);
	T_EQ(io_pgetevents(ctx, 1, 1, &ev, &ts, (sigset_t *)8), -EFAULT);

	T_EQ(io_destroy(ctx), 0);
	/* io_uring's wait may say EINTR there (uaio(7)). */
	if (strcmp(t_engine(), "uring") != 0 && strcmp(t_engine(), "auto") != 0)
		stop_and_continue();
	return 0;
}
