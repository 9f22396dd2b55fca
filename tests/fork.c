/*
 * A forked child owns none of its parent's contexts: every call on a parent
 * handle is -EINVAL, yet it can create and use its own.  The parent's
 * context carries on untouched: its completed event, its pending POLL and
 * new submissions all still work after the child has come and gone.
 */
#include "behaviour.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
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

static int wake_pipe[2];

static void *write_soon(void *arg)
{
	(void)arg;
	t_sleep_ms(3);
	T_EQ(write(wake_pipe[1], "w", 1), 1);
	return NULL;
}

/*
 * A thread that waited with a signal mask before a fork, and a child that
 * waits with one after it: each process is woken by its own completions
 * (on the emulated engines such a wait sleeps on an eventfd of its thread,
 * which the child must not share).
 */
static void masked_waits_after_fork(void)
{
	io_context_t ctx = t_setup(8);
	struct timespec brief = {0, 1000000};
	struct iocb cb, *cbs[1] = {&cb};
	struct io_event ev;
	sigset_t none;
	pid_t pid;
	int status, slow = 0;

	sigemptyset(&none);
	t_pipe(wake_pipe);
	T_EQ(io_pgetevents(ctx, 1, 1, &ev, &brief, &none), 0);
	fflush(stderr);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		io_context_t mine = t_setup(8);
		struct timespec t = {0, 50000};

		for (;;) { /* until killed */
			int r = io_pgetevents(mine, 1, 1, &ev, &t, &none);
			if (r != 0) {
				fprintf(stderr, "child: io_pgetevents %d\n", r);
				_exit(1);
			}
		}
	}
	for (int i = 0; i < 30; i++) {
		struct timespec t = {2, 0};
		pthread_t th;
		double t0;
		char b;

		io_prep_poll(&cb, wake_pipe[0], POLLIN);
		T_EQ(io_submit(ctx, 1, cbs), 1);
		T_EQ(pthread_create(&th, NULL, write_soon, NULL), 0);
		t0 = t_now_ms();
		T_EQ(io_pgetevents(ctx, 1, 1, &ev, &t, &none), 1);
		/* A wake-up the child took shows as a sleep to the 100 ms
		 * look-again (in about half the waits); 3 ms is the norm. */
		slow += t_now_ms() - t0 > 90;
		T_EVENT(&ev, &cb, POLLIN | POLLRDNORM);
		pthread_join(th, NULL);
		T_EQ(read(wake_pipe[0], &b, 1), 1);
	}
	kill(pid, SIGKILL);
	T_EQ(waitpid(pid, &status, 0), pid);
	if (slow > 2)
		T_FAIL("%d of 30 masked waits slept past their wake-up", slow);
	/* Still waiting when killed: it took its turns throughout. */
	T_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	T_EQ(io_destroy(ctx), 0);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
}

/*
 * A child that fork() did not make (_Fork(), which runs no atfork
 * handler, as a fork system call made by hand): the same as after fork().
 * The child's handle goes to memory of its own that is not on its stack
 * or heap, which the parent must not see written.
 */
static void fork_without_handlers(int fd)
{
	io_context_t ctx = t_setup(8);
	io_context_t *slot = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char buf[64];
	struct iocb cb, *cbs[1] = {&cb};
	struct io_event ev;
	int status;
	pid_t pid;

	T_ASSERT(slot != MAP_FAILED);
	*slot = NULL;
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	t_run1(ctx, &cb, sizeof(buf));
	fflush(stderr);
	pid = _Fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int bad = 0;

		bad |= io_submit(ctx, 1, cbs) != -EINVAL;
		bad |= io_getevents(ctx, 0, 1, &ev, NULL) != -EINVAL;
		bad |= (io_setup(8, slot) != 0 || !*slot) << 1;
		if (!(bad & 2)) {
			struct timespec t = {5, 0};

			bad |= (io_submit(*slot, 1, cbs) != 1) << 2;
			bad |= (io_getevents(*slot, 1, 1, &ev, &t) != 1 ||
				ev.res != sizeof(buf))
			       << 3;
			bad |= (io_destroy(*slot) != 0) << 4;
		}
		_exit(bad);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAIL("_Fork() child: status 0x%x", status);
	T_ASSERT(*slot == NULL);
	t_run1(ctx, &cb, sizeof(buf));
	T_EQ(io_destroy(ctx), 0);
	munmap(slot, 4096);
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
	if (CHILD_OWN_CTX) {
		masked_waits_after_fork();
		fork_without_handlers(fd);
	}
	return 0;
}
