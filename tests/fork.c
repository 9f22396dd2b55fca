/*
 * A forked child owns none of its parent's contexts: every call on a parent
 * handle is -EINVAL, yet it can create and use its own.  The parent's
 * context carries on untouched: its completed event, its pending POLL and
 * new submissions all still work after the child has come and gone.
 */
#include "behaviour.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#ifdef T_TSAN
/*
 * ThreadSanitizer cannot follow threads started in the child of a
 * multi-threaded fork, and the emulated engines start threads for a new
 * context: the child's own context is not tested under it.
 */
#define CHILD_OWN_CTX 0
#else
#define CHILD_OWN_CTX 1
#endif

static void child(io_context_t parent, struct iocb *pending_poll, int fd)
{
	struct t_ring *ring = t_ring(parent);
	struct timespec zero = {0, 0}, ms10 = t_ts_ms(10);
	unsigned char buf[128];
	struct iocb iocb, *p = &iocb;
	struct io_event ev;
	io_context_t own = 0;

	/*
	 * The parent's ring has an unreaped event, so even the system
	 * libaio's {0,0} peek goes on to the syscall, which says -EINVAL.
	 */
	io_prep_pread(&iocb, fd, buf, sizeof(buf), 0);
	T_EQ(io_submit(parent, 1, &p), -EINVAL);
	T_EQ(io_getevents(parent, 0, 1, &ev, &zero), -EINVAL);
	T_EQ(io_getevents(parent, 1, 1, &ev, &ms10), -EINVAL);
	T_EQ(io_getevents(parent, 1, 1, &ev, NULL), -EINVAL);
	T_EQ(io_cancel(parent, pending_poll, &ev), -EINVAL);

	/*
	 * The ring mapping is inherited, on every engine as with the kernel:
	 * readable, with the parent's state in it (a shared mapping).
	 */
	T_EQ(ring->magic, T_RING_MAGIC);
	T_EQ((t_tail(ring) + ring->nr - t_head(ring)) % ring->nr, 1);

	/* Its own context works. */
	if (CHILD_OWN_CTX) {
		T_EQ(io_setup(8, &own), 0);
		T_ASSERT(own != parent);
		memset(buf, 0, sizeof(buf));
		io_prep_pread(&iocb, fd, buf, sizeof(buf), 256);
		iocb.data = (void *)0xc41d;
		t_run1(own, &iocb, sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++)
			T_EQ(buf[i], t_pattern(256 + i));
		T_EQ(io_destroy(own), 0);
	}

	T_EQ(io_destroy(parent), -EINVAL);
}

int main(void)
{
	io_context_t ctx = t_setup(16);
	struct t_ring *ring = t_ring(ctx);
	int fd = t_scratch_file(65536, 0);
	int efd = eventfd(0, EFD_CLOEXEC);
	unsigned char buf[256];
	struct iocb rd, pl, again;
	struct io_event ev;
	unsigned head, tail;
	uint64_t v;
	int p[2], status;
	pid_t pid;

	t_pipe(p);
	T_ASSERT(efd >= 0);

	/* A completed, unreaped read and a pending POLL. */
	io_prep_pread(&rd, fd, buf, sizeof(buf), 1024);
	io_set_eventfd(&rd, efd);
	rd.data = (void *)0x9a7e;
	t_submit1(ctx, &rd);
	T_EQ(read(efd, &v, sizeof(v)), sizeof(v));
	T_EQ(v, 1);
	io_prep_poll(&pl, p[0], POLLIN);
	pl.data = (void *)0x9011;
	t_submit1(ctx, &pl);
	head = t_head(ring);
	tail = t_tail(ring);
	T_EQ((tail + ring->nr - head) % ring->nr, 1);

	fflush(stderr);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		child(ctx, &pl, fd);
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAIL("child failed (status 0x%x)", status);

	/* The parent's context is as it was. */
	T_EQ(t_head(ring), head);
	T_EQ(t_tail(ring), tail);
	T_EQ(ring->magic, T_RING_MAGIC);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &rd, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		T_EQ(buf[i], t_pattern(1024 + i));

	T_EQ(t_peek(ctx, 1, &ev), 0);
	T_EQ(write(p[1], "x", 1), 1);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &pl, POLLIN | POLLRDNORM);

	io_prep_pread(&again, fd, buf, sizeof(buf), 4096);
	again.data = (void *)0xa6a1;
	t_run1(ctx, &again, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		T_EQ(buf[i], t_pattern(4096 + i));

	T_EQ(io_destroy(ctx), 0);
	return 0;
}
