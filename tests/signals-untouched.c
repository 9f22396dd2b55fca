/*
 * uaio takes no signal from the program: no disposition changes, and no
 * signal reaches the program's handlers, even while io_destroy stops reads
 * blocked on pipes and sockets, polls and disk I/O.  The program owns every
 * real-time signal here, as a runtime such as a JVM or Go might.
 */
#include "behaviour.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static _Atomic int caught[_NSIG];

static void handler(int sig)
{
	atomic_fetch_add(&caught[sig], 1);
}

static void snapshot(struct sigaction *sa)
{
	for (int s = 1; s < _NSIG; s++)
		if (sigaction(s, NULL, &sa[s]))
			memset(&sa[s], 0, sizeof(sa[s]));
}

static void round_trip(int dfd, unsigned char *dbuf)
{
	io_context_t ctx = t_setup(16);
	struct iocb cbs[5], *ptrs[5];
	char b1[16], b2[16];
	int p[2], sv[2];

	t_pipe(p);
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	io_prep_poll(&cbs[0], p[0], POLLIN);
	io_prep_pread(&cbs[1], dfd, dbuf, 65536, 0);
	/* Blocking reads: the kernel engine would wait in io_submit. */
	int n = 2;
	if (strcmp(t_engine(), "kernel") && !t_is_ref()) {
		io_prep_pread(&cbs[n++], p[0], b1, sizeof(b1), 0);
		io_prep_pread(&cbs[n++], sv[0], b2, sizeof(b2), 0);
	}
	for (int i = 0; i < n; i++)
		ptrs[i] = &cbs[i];
	T_EQ(io_submit(ctx, n, ptrs), n);
	t_sleep_ms(5);
	T_EQ(io_destroy(ctx), 0);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Nor does another thread's I/O interrupt a thread's own sleep: a thread
 * that did one O_DIRECT read, then sleeps in epoll_wait(), sleeps on (no
 * EINTR) while another thread reads on another context.  (auto's poll of
 * its kernel AIO eventfd, were it the first thread's, would run at every
 * completion as that thread's task_work, an EINTR each.)
 */
static int quiet_fd;
static unsigned char *quiet_buf;
static atomic_int quiet_stage;

static void *quiet_sleeper(void *arg)
{
	io_context_t ctx = t_setup(4);
	struct iocb cb;
	double end;
	int ep = epoll_create1(EPOLL_CLOEXEC), eintr = 0;

	(void)arg;
	T_ASSERT(ep >= 0);
	io_prep_pread(&cb, quiet_fd, quiet_buf, 4096, 0);
	t_run1(ctx, &cb, 4096);
	atomic_store(&quiet_stage, 1);
	end = t_now_ms() + 600;
	while (t_now_ms() < end) {
		struct epoll_event ev;

		if (epoll_wait(ep, &ev, 1, (int)(end - t_now_ms()) + 1) < 0) {
			T_EQ(errno, EINTR);
			eintr++;
		}
	}
	atomic_store(&quiet_stage, 2);
	if (eintr)
		T_FAIL("epoll_wait() returned EINTR %d times, no signal sent",
		       eintr);
	T_EQ(io_destroy(ctx), 0);
	close(ep);
	return NULL;
}

static void quiet_sleeps(int dfd, unsigned char *dbuf)
{
	/* Contexts share a few io_urings (one per CPU): reading on as
	 * many contexts as CPUs reaches the sleeper's too. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nctx = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
	io_context_t ctx[16];
	pthread_t th;
	struct iocb cb;
	int reads = 0;

	for (int i = 0; i < nctx; i++)
		ctx[i] = t_setup(4);

	quiet_fd = dfd;
	quiet_buf = dbuf;
	T_EQ(pthread_create(&th, NULL, quiet_sleeper, NULL), 0);
	while (atomic_load(&quiet_stage) == 0)
		t_sleep_ms(1);
	while (atomic_load(&quiet_stage) == 1) {
		io_prep_pread(&cb, dfd, dbuf + 4096, 4096, 4096);
		t_run1(ctx[reads % nctx], &cb, 4096);
		reads++;
		t_sleep_ms(5);
	}
	T_EQ(pthread_join(th, NULL), 0);
	T_ASSERT(reads > 10);
	for (int i = 0; i < nctx; i++)
		T_EQ(io_destroy(ctx[i]), 0);
}

int main(void)
{
	static struct sigaction before[_NSIG], after[_NSIG];
	int dfd = t_scratch_file(1 << 20, O_DIRECT);
	unsigned char *dbuf = t_aligned(4096, 65536);

	/* First: the sleeper is the first thread to read O_DIRECT. */
	quiet_sleeps(dfd, dbuf);
	/* Once before: a library that claims a signal at first use would
	 * have claimed it by now, and the program takes it over below. */
	round_trip(dfd, dbuf);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
		struct sigaction sa = {.sa_handler = handler};
		sigemptyset(&sa.sa_mask);
		T_EQ(sigaction(s, &sa, NULL), 0);
	}
	snapshot(before);
	for (int i = 0; i < 50; i++)
		round_trip(dfd, dbuf);
	snapshot(after);
	for (int s = 1; s < _NSIG; s++) {
		if (before[s].sa_handler != after[s].sa_handler ||
		    before[s].sa_flags != after[s].sa_flags)
			T_FAIL("the disposition of signal %d changed", s);
		if (atomic_load(&caught[s]))
			T_FAIL("signal %d reached the program %d times", s,
			       atomic_load(&caught[s]));
	}
	free(dbuf);
	close(dfd);
	return 0;
}
