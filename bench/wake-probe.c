/*
 * uaio-wake-probe: which system calls a thread can sleep in while it has
 * io_uring requests of its own in flight, without returning EINTR when no
 * signal came.
 *
 * io_uring finishes a request that waited for readiness (a read of an empty
 * pipe) as a task_work of the thread that submitted it, and task_work
 * interrupts that thread's sleep as a signal does.  A call the kernel
 * restarts afterwards (ppoll, io_pgetevents) sleeps on; one it does not
 * (epoll_wait, io_getevents) returns EINTR with no signal sent, which an
 * io_getevents of uaio must never pass on.  This is why auto waits for its
 * O_DIRECT requests (kernel AIO) in io_pgetevents when nothing else is in
 * flight, and for both kinds in ppoll, which costs a read of the kernel
 * context's eventfd: README, "auto's O_DIRECT".
 *
 * Exit status: 0 when ppoll and io_pgetevents, which uaio relies on,
 * slept their whole time; 1 when one did not; 77 when the probe could not
 * run (no io_uring), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_MS 1000 /* what each wait asks for */
#define WRITE_MS 100  /* when the pipe gets its byte */

struct probe {
	struct io_uring ring;
	int pipe[2];
	int quiet; /* an eventfd nobody writes: what the waits wait on */
	char byte;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *writer(void *arg)
{
	struct probe *p = arg;
	struct timespec d = {0, WRITE_MS * 1000000l};

	nanosleep(&d, NULL);
	if (write(p->pipe[1], "x", 1) != 1)
		perror("wake-probe: write");
	return NULL;
}

static int wait_ppoll(struct probe *p)
{
	struct pollfd fd = {.fd = p->quiet, .events = POLLIN};
	struct timespec t = {SLEEP_MS / 1000, (SLEEP_MS % 1000) * 1000000l};

	return ppoll(&fd, 1, &t, NULL) < 0 ? -errno : 0;
}

static int wait_epoll(struct probe *p)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	int ep = epoll_create1(EPOLL_CLOEXEC), r;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, p->quiet, &ev))
		return -errno;
	r = epoll_wait(ep, &ev, 1, SLEEP_MS) < 0 ? -errno : 0;
	close(ep);
	return r;
}

/* A sleep on a kernel AIO context of its own, in io_getevents or (pget)
 * io_pgetevents: the kernel asks for a restart of the latter
 * (ERESTARTNOHAND) when it was interrupted with no event, as for ppoll. */
static int wait_aio(bool pget)
{
	aio_context_t ctx = 0;
	struct io_event ev;
	struct timespec t = {SLEEP_MS / 1000, (SLEEP_MS % 1000) * 1000000l};
	long r;

	if (syscall(SYS_io_setup, 1, &ctx))
		return -errno;
	r = pget ? syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &t, NULL)
		 : syscall(SYS_io_getevents, ctx, 1, 1, &ev, &t);
	r = r < 0 ? -errno : 0;
	syscall(SYS_io_destroy, ctx);
	return (int)r;
}

static int wait_getevents(struct probe *p)
{
	(void)p;
	return wait_aio(false);
}

static int wait_pgetevents(struct probe *p)
{
	(void)p;
	return wait_aio(true);
}

/* One wait with a read of the pipe in flight; 1 if it ended early. */
static int probe_one(struct probe *p, const char *name,
		     int (*wait)(struct probe *))
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);
	struct io_uring_cqe *cqe;
	pthread_t t;
	double t0, slept;
	int r;

	io_uring_prep_read(sqe, p->pipe[0], &p->byte, 1, 0);
	if ((r = io_uring_submit(&p->ring)) != 1) {
		fprintf(stderr, "wake-probe: io_uring_submit: %s\n",
			strerror(-r));
		return -1;
	}
	if ((r = pthread_create(&t, NULL, writer, p))) {
		fprintf(stderr, "wake-probe: pthread_create: %s\n",
			strerror(r));
		return -1;
	}
	t0 = now_s();
	r = wait(p);
	slept = now_s() - t0;
	pthread_join(t, NULL);
	if (io_uring_wait_cqe(&p->ring, &cqe) == 0)
		io_uring_cqe_seen(&p->ring, cqe);
	if (r == -EINTR)
		printf("%-13s EINTR after %.3f s, no signal sent\n", name,
		       slept);
	else if (r)
		printf("%-13s failed: %s\n", name, strerror(-r));
	else
		printf("%-13s slept %.3f s of %.3f: not interrupted\n", name,
		       slept, SLEEP_MS / 1000.0);
	return r == -EINTR;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uaio-wake-probe [--help]\n"
		"\n"
		"Sleeps %d ms in ppoll, epoll_wait, io_getevents and "
		"io_pgetevents, each time\n"
		"with an io_uring read of a pipe in flight that another "
		"thread completes after\n"
		"%d ms, and says which waits returned EINTR with no signal "
		"sent.  Exit status\n"
		"0 when ppoll and io_pgetevents (what uaio sleeps in) slept "
		"their whole time,\n"
		"1 when one did not, 77 when it could not run (no io_uring), "
		"2 on a usage error.\n",
		SLEEP_MS, WRITE_MS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct probe p;
	int c, r, bad;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : 2;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if ((r = io_uring_queue_init(4, &p.ring, 0))) {
		fprintf(stderr, "wake-probe: io_uring_queue_init: %s\n",
			strerror(-r));
		return 77;
	}
	p.quiet = eventfd(0, EFD_CLOEXEC);
	if (p.quiet < 0 || pipe2(p.pipe, O_CLOEXEC)) {
		perror("wake-probe");
		return 77;
	}
	bad = probe_one(&p, "ppoll", wait_ppoll);
	if (bad < 0 || probe_one(&p, "epoll_wait", wait_epoll) < 0 ||
	    probe_one(&p, "io_getevents", wait_getevents) < 0)
		return 77;
	r = probe_one(&p, "io_pgetevents", wait_pgetevents);
	if (r < 0)
		return 77;
	bad |= r;
	io_uring_queue_exit(&p.ring);
	return bad ? 1 : 0;
}
