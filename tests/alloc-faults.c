/*
 * Failures inside the library: with malloc, mmap, pthread_create, eventfd,
 * descriptor duplication or io_uring_queue_init failing at each point in
 * turn (tests/faultshim.c), every call returns an errno the kernel gives
 * for the same call (io_setup: ENOMEM or EAGAIN; io_submit: EAGAIN or
 * ENOMEM, for the first iocb only), every accepted request completes
 * exactly once, a context set up despite a failure works, and nothing
 * leaks (descriptors, threads).
 */
#include "behaviour.h"
#include "faultshim.h"
#include <uaio.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define NREQ 6

static int tasks(void)
{
	return t_count_dir("/proc/self/task");
}

static int fds(void)
{
	return t_count_dir("/proc/self/fd");
}

/* Exited threads leave /proc/self/task a moment after they are joined. */
static void expect_baseline(int base_tasks, int base_fds, const char *when)
{
	double end = t_now_ms() + 2000;

	while (tasks() != base_tasks && t_now_ms() < end)
		t_sleep_ms(2);
	if (tasks() != base_tasks)
		T_FAIL("%s: %d threads, expected %d", when, tasks(),
		       base_tasks);
	if (fds() != base_fds)
		T_FAIL("%s: %d descriptors, expected %d", when, fds(),
		       base_fds);
}

static void roundtrip(io_context_t ctx, int fd)
{
	char buf[512];
	struct iocb cb;

	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	t_run1(ctx, &cb, sizeof(buf));
}

/* io_setup with the n-th failure point failing, for every n. */
static void setup_failures(int fd, int base_tasks, int base_fds)
{
	int points = 0, survived = 0;

	for (long n = 0;; n++) {
		io_context_t ctx = 0;
		int ret;

		faultshim_arm(FS_ALL, n, 1);
		ret = io_setup(32, &ctx);
		if (!faultshim_disarm()) {
			T_EQ(ret, 0);
			T_EQ(io_destroy(ctx), 0);
			break;
		}
		points++;
		if (ret == 0) {
			/* Something optional failed: the context must work. */
			survived++;
			roundtrip(ctx, fd);
			T_EQ(io_destroy(ctx), 0);
		} else if (ret != -ENOMEM && ret != -EAGAIN) {
			T_FAIL("io_setup with failure point %ld: %d (%s)", n,
			       ret, strerror(-ret));
		}
		expect_baseline(base_tasks, base_fds, "after io_setup");
	}
	printf("io_setup: %d failure points, %d of them absorbed\n", points,
	       survived);
}

struct batch {
	struct iocb cbs[NREQ], *ptrs[NREQ];
	char pbuf[16], bbuf[512], vbuf[12][8];
	unsigned char *dbuf;
	struct iovec iov[12];
	int p[2], efd;
};

/* A pipe read waiting for data, an O_DIRECT read, a POLL, a 12-segment
 * read (its vector is allocated), a RESFD read, a buffered write. */
static void batch_prep(struct batch *b, int fd, int dfd, int wfd)
{
	io_prep_pread(&b->cbs[0], b->p[0], b->pbuf, sizeof(b->pbuf), 0);
	io_prep_pread(&b->cbs[1], dfd, b->dbuf, 4096, 0);
	io_prep_poll(&b->cbs[2], b->p[0], POLLIN);
	for (int i = 0; i < 12; i++)
		b->iov[i] = (struct iovec){b->vbuf[i], sizeof(b->vbuf[i])};
	io_prep_preadv(&b->cbs[3], fd, b->iov, 12, 0);
	io_prep_pread(&b->cbs[4], fd, b->bbuf, sizeof(b->bbuf), 0);
	io_set_eventfd(&b->cbs[4], b->efd);
	io_prep_pwrite(&b->cbs[5], wfd, b->bbuf, sizeof(b->bbuf), 0);
	for (int i = 0; i < NREQ; i++) {
		b->cbs[i].data = (void *)(long)(i + 1);
		b->ptrs[i] = &b->cbs[i];
	}
}

/* io_submit of a batch with the n-th failure point failing, for every n:
 * what was accepted completes once, the rest never appears. */
static void submit_failures(int fd, int dfd, int wfd, bool kernel)
{
	struct batch b;
	int points = 0;

	b.dbuf = t_aligned(4096, 4096);
	b.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	T_ASSERT(b.efd >= 0);
	for (long n = 0;; n++) {
		io_context_t ctx = t_setup(32);
		struct io_event ev[NREQ];
		int ret, first = kernel ? 1 : 0, got;
		bool seen[NREQ] = {false};

		t_pipe(b.p);
		batch_prep(&b, fd, dfd, wfd);
		faultshim_arm(FS_ALL, n, 1);
		/* The kernel engine blocks on an empty pipe: no pipe read. */
		ret = io_submit(ctx, NREQ - first, b.ptrs + first);
		unsigned long hit = faultshim_disarm();
		if (ret < 0 && ret != -EAGAIN && ret != -ENOMEM)
			T_FAIL("io_submit with failure point %ld: %d (%s)", n,
			       ret, strerror(-ret));
		if (ret > 0)
			T_EQ(write(b.p[1], "data", 4), 4);
		got = ret > 0 ? t_wait_events(ctx, ret, ev, 5000) : 0;
		if (got != (ret > 0 ? ret : 0)) {
			for (int i = 0; i < got; i++)
				fprintf(stderr,
					"completed: request %ld, res %ld\n",
					(long)ev[i].data - 1, (long)ev[i].res);
			T_FAIL("failure point %ld: %d of %d accepted requests "
			       "completed (what failed: %#lx)",
			       n, got, ret, hit);
		}
		for (int i = 0; i < got; i++) {
			long k = (long)ev[i].data - 1 - first;
			T_ASSERT(k >= 0 && k < ret && !seen[k]);
			T_ASSERT(ev[i].obj == b.ptrs[first + k]);
			seen[k] = true;
		}
		T_EQ(t_peek(ctx, NREQ, ev), 0);
		roundtrip(ctx, fd);
		T_EQ(io_destroy(ctx), 0);
		close(b.p[0]);
		close(b.p[1]);
		if (!hit)
			break;
		points++;
	}
	printf("io_submit: %d failure points\n", points);
	free(b.dbuf);
	close(b.efd);
}

int main(void)
{
	int fd = t_scratch_file(65536, 0), wfd = t_scratch_file(0, 0);
	int dfd = t_scratch_file(65536, O_DIRECT);
	bool kernel = !strcmp(t_engine(), "kernel");
	int base_tasks, base_fds;
	io_context_t ctx = 0;

	/* What lives for the whole process must exist before the baseline
	 * (the exit watcher is not one). */
	t_warm_up();
	t_sleep_ms(20);
	base_tasks = tasks();
	base_fds = fds();

	setup_failures(fd, base_tasks, base_fds);
	submit_failures(fd, dfd, wfd, kernel);
	expect_baseline(base_tasks, base_fds, "at the end");

	/* io_uring refused at setup: the uring engine says so; auto moves
	 * on to another engine.  In a child: this process's rings exist. */
	if (!strcmp(t_engine(), "uring")) {
		int status;
		pid_t pid = fork();

		T_ASSERT(pid >= 0);
		if (pid == 0) {
			ctx = 0;
			faultshim_arm(FS_URING, 0, -1);
			int ret = io_setup(4, &ctx);
			T_ASSERT(faultshim_disarm() > 0);
			T_ASSERT(ret == -ENOMEM || ret == -EAGAIN);
			faultshim_arm(FS_URING, 0, -1);
			ret = uaio_setup(4, &ctx, "uring,threads");
			faultshim_disarm();
			T_EQ(ret, 0);
			roundtrip(ctx, fd);
			T_EQ(io_destroy(ctx), 0);
			_exit(0);
		}
		T_EQ(waitpid(pid, &status, 0), pid);
		T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(fd);
	close(wfd);
	close(dfd);
	return 0;
}
