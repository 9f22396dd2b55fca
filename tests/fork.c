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

/*
 * Contexts set up after a fork, one in the parent and one in the child,
 * have rings of their own: the child's completions never show in the
 * parent's ring (the emulated engines' rings come from memory shared with
 * the child, whose allocator once handed out the parent's next free pages
 * too).
 */
static void rings_after_fork(int fd)
{
	int to_child[2], to_parent[2], status;
	io_context_t ctx;
	struct t_ring *ring;
	unsigned char buf[64];
	struct io_event ev[8];
	char c;
	pid_t pid;

	t_pipe(to_child);
	t_pipe(to_parent);
	fflush(stderr);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct iocb cb[8], *p[8];
		io_context_t mine = 0;

		/* Its context first, then the parent's; then its reads. */
		if (io_setup(16, &mine))
			_exit(2);
		if (write(to_parent[1], "s", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(3);
		for (int i = 0; i < 8; i++) {
			io_prep_pread(&cb[i], fd, buf, sizeof(buf), 512 * i);
			p[i] = &cb[i];
		}
		if (io_submit(mine, 8, p) != 8 ||
		    io_getevents(mine, 8, 8, ev, NULL) != 8)
			_exit(4);
		/* Done, events unreaped in the ring: the parent looks. */
		if (io_submit(mine, 8, p) != 8)
			_exit(5);
		t_sleep_ms(50);
		if (write(to_parent[1], "d", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(6);
		_exit(io_destroy(mine) ? 7 : 0);
	}
	T_EQ(read(to_parent[0], &c, 1), 1);
	ctx = t_setup(16);
	ring = t_ring(ctx);
	T_EQ(write(to_child[1], "g", 1), 1);
	T_EQ(read(to_parent[0], &c, 1), 1);
	/* The child's 16 completions are in its ring, not here. */
	T_EQ(ring->magic, T_RING_MAGIC);
	T_EQ(t_head(ring), 0);
	T_EQ(t_tail(ring), 0);
	T_EQ(t_peek(ctx, 8, ev), 0);
	T_EQ(write(to_child[1], "x", 1), 1);
	T_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAIL("child failed (status 0x%x)", status);
	/* And the child's exit took nothing of the parent's ring. */
	T_EQ(ring->magic, T_RING_MAGIC);
	{
		struct iocb cb;

		io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
		t_run1(ctx, &cb, sizeof(buf));
	}
	T_EQ(io_destroy(ctx), 0);
	for (int i = 0; i < 2; i++) {
		close(to_child[i]);
		close(to_parent[i]);
	}
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
	if (CHILD_OWN_CTX)
		rings_after_fork(fd);
	return 0;
}
