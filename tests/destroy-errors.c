/*
 * io_destroy() and io_queue_release() on handles that are not live contexts
 * of this process: 0, ~0, a readable non-ring buffer, a destroyed context, a
 * context inherited over fork.  All are EINVAL, never EFAULT.
 *
 * libaio's io_getevents() (and io_queue_run/io_queue_wait built on it) reads
 * the ring magic of any non-NULL handle before the system call, so the system
 * libaio segfaults on garbage and destroyed handles there; uaio returns
 * EINVAL.  Those calls only run on uaio.
 */
#include "validation.h"

#include <sys/wait.h>
#include <time.h>

static void after_destroy(io_context_t dead, int pipe_rd)
{
	struct iocb cb, *cbs[1] = {&cb};
	struct io_event ev;
	struct timespec zero = {0, 0};

	io_prep_poll(&cb, pipe_rd, POLLIN);
	V_RET(io_submit(dead, 1, cbs), -EINVAL);
	/* io_cancel checks the iocb key before the context. */
	V_RET(io_cancel(dead, &cb, &ev), -EINVAL);
	if (t_is_uaio()) {
		V_RET(io_getevents(dead, 0, 1, &ev, &zero), -EINVAL);
		V_RET(io_getevents(dead, 1, 1, &ev, NULL), -EINVAL);
		V_RET(io_pgetevents(dead, 1, 1, &ev, NULL, NULL), -EINVAL);
		V_RET(io_queue_run(dead), -EINVAL);
	}
}

int main(void)
{
	static const unsigned long garbage[] = {0, ~0ul, 1, 0x1000,
						0xffff888000000000ul};
	unsigned long *fake = calloc(64, sizeof(long));
	io_context_t ctx, ctx2;
	int p[2], status;
	pid_t pid;

	T_ASSERT(fake);
	T_ASSERT(pipe(p) == 0);

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		io_context_t bad = (io_context_t)garbage[i];
		V_RET(io_destroy(bad), -EINVAL);
		V_RET(io_queue_release(bad), -EINVAL);
		after_destroy(bad, p[0]);
	}
	/* Readable memory that is not a ring. */
	V_RET(io_destroy((io_context_t)fake), -EINVAL);
	V_RET(io_queue_release((io_context_t)fake), -EINVAL);
	after_destroy((io_context_t)fake, p[0]);

	/* Destroy, then everything on the handle is EINVAL. */
	ctx = t_setup(8);
	ctx2 = t_setup(8);
	V_RET(io_destroy(ctx), 0);
	V_RET(io_destroy(ctx), -EINVAL);
	V_RET(io_queue_release(ctx), -EINVAL);
	after_destroy(ctx, p[0]);
	/* The other context is unaffected. */
	V_RET(io_queue_release(ctx2), 0);
	V_RET(io_queue_release(ctx2), -EINVAL);
	V_RET(io_destroy(ctx2), -EINVAL);
	after_destroy(ctx2, p[0]);

	/*
	 * A forked child owns no contexts: the parent's handle is EINVAL
	 * there, and destroying it in the child leaves the parent's alone.
	 */
	ctx = t_setup(8);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		errno = V_ERRNO_MARK;
		if (io_destroy(ctx) != -EINVAL || errno != V_ERRNO_MARK)
			_exit(1);
		if (io_queue_release(ctx) != -EINVAL)
			_exit(2);
		_exit(0);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_ASSERT(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	{
		struct iocb cb, *cbs[1] = {&cb};
		struct io_event ev;

		/* Still usable in the parent: a ready poll completes. */
		T_ASSERT(write(p[1], "x", 1) == 1);
		io_prep_poll(&cb, p[0], POLLIN);
		V_RET(io_submit(ctx, 1, cbs), 1);
		t_reap(ctx, 1, &ev);
		T_ASSERT(ev.obj == &cb);
		T_EQ(ev.res, POLLIN);
	}
	V_RET(io_destroy(ctx), 0);
	V_RET(io_destroy(ctx), -EINVAL);
	free(fake);
	return 0;
}
