/*
 * exit() from a signal handler that interrupts a call of the library, over
 * and over at random points of io_submit and io_getevents: the process
 * always ends, promptly.  The interrupted call never returns and may hold
 * a lock of its engine, or ring slots it reserved; the library's destructor
 * must not wait for them for ever.  (exit() is not async-signal-safe, but
 * programs call it from handlers, and with kernel AIO they end.)
 */
#include "behaviour.h"

#include <signal.h>
#include <sys/wait.h>

#define TRIALS 30

static void on_usr1(int sig)
{
	(void)sig;
	exit(0);
}

struct looper {
	io_context_t ctx;
	int fd;
	atomic_long rounds;
};

static void *loop_fn(void *arg)
{
	struct looper *l = arg;
	static __thread struct iocb cb[64];
	struct iocb *p[64];
	struct io_event ev[64];
	static char buf[64][512];

	for (;;) {
		int n, got = 0;

		for (int i = 0; i < 64; i++) {
			io_prep_pread(&cb[i], l->fd, buf[i], sizeof(buf[i]),
				      512 * (i % 16));
			p[i] = &cb[i];
		}
		n = io_submit(l->ctx, 64, p);
		if (n < 0)
			_exit(3);
		while (got < n) {
			int r = io_getevents(l->ctx, 1, 64, ev, NULL);
			if (r < 0 && r != -EINTR)
				_exit(4);
			got += r > 0 ? r : 0;
		}
		atomic_fetch_add(&l->rounds, 1);
	}
	return NULL;
}

static void trial(int fd, int delay_us)
{
	struct looper l = {.fd = fd};
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);
	if (io_setup(128, &l.ctx))
		_exit(2);
	if (pthread_create(&t, NULL, loop_fn, &l))
		_exit(2);
	while (atomic_load(&l.rounds) < 2)
		usleep(100);
	usleep((useconds_t)delay_us);
	pthread_kill(t, SIGUSR1);
	pause(); /* the handler's exit() ends it */
	_exit(5);
}

int main(void)
{
	int fd = t_scratch_file(16 * 512, O_RDWR);
	double worst = 0;

	for (int i = 0; i < TRIALS; i++) {
		double t0 = t_now_ms(), el;
		int status;
		pid_t pid;

		fflush(stderr);
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0)
			trial(fd, 37 * i % 500);
		/* Bounded: a child that hangs is killed and reported. */
		for (;;) {
			pid_t r = waitpid(pid, &status, WNOHANG);
			T_ASSERT(r >= 0);
			if (r == pid)
				break;
			if (t_now_ms() - t0 > 10000) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				T_FAIL("trial %d: the process did not end in "
				       "10 s after exit() in a handler",
				       i);
			}
			t_sleep_ms(2);
		}
		el = t_now_ms() - t0;
		worst = el > worst ? el : worst;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			T_FAIL("trial %d: status 0x%x", i, status);
	}
	printf("slowest end: %.0f ms\n", worst);
	close(fd);
	return 0;
}
