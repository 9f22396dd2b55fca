/*
 * Under valgrind's memcheck, as a program being debugged runs: a context
 * can be set up, the bytes every kind of read brings are known to memcheck
 * as written (io_uring and a kernel AIO ring reaped in user memory write
 * them where it cannot see), and a thread that waits in io_getevents lets
 * the thread that will wake it run; so in a forked child.  The program
 * runs itself under valgrind; memcheck's errors fail it.  Skipped where
 * valgrind is not installed and under a sanitizer, whose runtime valgrind
 * cannot host.
 */
#include "behaviour.h"

#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define BS 4096
#define N 8
#define INSIDE "UAIO_TEST_IN_VALGRIND"

#if defined(__SANITIZE_ADDRESS__) || defined(T_TSAN)
#define T_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_SANITIZED 1
#endif
#endif

static int run_under_valgrind(void)
{
#ifdef T_SANITIZED
	fprintf(stderr, "built with a sanitizer: valgrind cannot run it\n");
	return T_SKIP;
#else
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	T_ASSERT(n > 0);
	self[n] = 0;
	setenv(INSIDE, "1", 1);
	execlp("valgrind", "valgrind", "-q", "--error-exitcode=99",
	       "--leak-check=full", "--errors-for-leak-kinds=definite", self,
	       (char *)NULL);
	if (errno == ENOENT) {
		fprintf(stderr, "no valgrind installed\n");
		return T_SKIP;
	}
	T_FAIL("exec valgrind: %s", strerror(errno));
#endif
}

/* Memcheck reports a use of undefined bytes at the comparison. */
static void check(const unsigned char *buf, size_t len, uint64_t off,
		  const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != t_pattern(off + i))
			T_FAIL("%s: byte %zu is 0x%02x", what, i, buf[i]);
}

/*
 * n reads of BS at offsets i * BS, into buffers never written (malloc'd:
 * memcheck takes them as undefined), submitted together; with vec, each
 * as a PREADV of two halves.
 */
static void reads(io_context_t ctx, int fd, int n, bool vec, const char *what)
{
	struct iocb cb[N], *p[N];
	struct iovec iov[N][2];
	unsigned char *buf[N];
	struct io_event ev[N];

	for (int i = 0; i < n; i++) {
		buf[i] = t_aligned(BS, BS);
		if (vec) {
			iov[i][0] = (struct iovec){buf[i], BS / 2};
			iov[i][1] = (struct iovec){buf[i] + BS / 2, BS / 2};
			io_prep_preadv(&cb[i], fd, iov[i], 2,
				       (long long)i * BS);
		} else {
			io_prep_pread(&cb[i], fd, buf[i], BS,
				      (long long)i * BS);
		}
		p[i] = &cb[i];
	}
	T_EQ(io_submit(ctx, n, p), n);
	T_EQ(t_wait_events(ctx, n, ev, 10000), n);
	for (int i = 0; i < n; i++) {
		struct iocb *c = ev[i].obj;

		T_EQ((long)ev[i].res, BS);
		check(buf[c - cb], BS, (uint64_t)(c - cb) * BS, what);
	}
	for (int i = 0; i < n; i++)
		free(buf[i]);
}

struct writer {
	int fd;
	const char *msg;
};

static void *write_later(void *arg)
{
	struct writer *w = arg;

	t_sleep_ms(100);
	T_EQ(write(w->fd, w->msg, strlen(w->msg)), (long)strlen(w->msg));
	return NULL;
}

/*
 * A poll of a pipe that the main thread sleeps for, which another thread
 * completes: it must run while the main thread waits.  Then a read of what
 * it wrote (a read of a pipe is done inside io_submit by kernel AIO, and
 * valgrind 3.19 does not come back from one that has to wait for a
 * writer).
 */
static void pipe_wait(io_context_t ctx)
{
	struct writer w = {0, "valgrind"};
	size_t len = strlen(w.msg);
	unsigned char *buf = malloc(64);
	struct iocb cb, *p = &cb;
	struct io_event ev;
	struct timespec ts = t_ts_ms(10000);
	pthread_t t;
	int fds[2];
	double t0;

	T_ASSERT(buf);
	t_pipe(fds);
	w.fd = fds[1];
	io_prep_poll(&cb, fds[0], POLLIN);
	T_EQ(io_submit(ctx, 1, &p), 1);
	t0 = t_now_ms();
	T_EQ(pthread_create(&t, NULL, write_later, &w), 0);
	T_EQ(io_getevents(ctx, 1, 1, &ev, &ts), 1);
	T_ASSERT(t_now_ms() - t0 < 5000);
	T_ASSERT(ev.res & POLLIN);
	pthread_join(t, NULL);

	io_prep_pread(&cb, fds[0], buf, 64, 0);
	T_EQ(io_submit(ctx, 1, &p), 1);
	T_EQ(io_getevents(ctx, 1, 1, &ev, &ts), 1);
	T_EQ((long)ev.res, (long)len);
	T_ASSERT(!memcmp(buf, w.msg, len));
	close(fds[0]);
	close(fds[1]);
	free(buf);
}

/*
 * A forked child (valgrind follows it) sets up a context of its own and
 * reads: the parent's rings must not be where the child's go.
 */
static void forked(int fd)
{
	pid_t pid;
	int status;

	fflush(stderr);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		io_context_t ctx = t_setup(8);

		reads(ctx, fd, N, false, "a child's buffered reads");
		T_EQ(io_destroy(ctx), 0);
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAIL("the child failed (status 0x%x)", status);
}

/* uaio gives the engine asked for under valgrind, not a fallback. */
static void check_engine(io_context_t ctx)
{
	int (*engine)(io_context_t, char *, size_t);
	const char *want = t_engine();
	char name[32];

	if (!t_is_uaio())
		return;
	*(void **)&engine = dlsym(RTLD_DEFAULT, "uaio_engine");
	T_ASSERT(engine);
	T_EQ(engine(ctx, name, sizeof(name)), 0);
	if (!strcmp(want, "auto-threads"))
		want = "auto";
	if (strcmp(name, want))
		T_FAIL("the context runs on %s, not %s", name, want);
}

int main(void)
{
	io_context_t ctx;
	int fd, dfd;

	if (!getenv(INSIDE))
		return run_under_valgrind();
	fd = t_scratch_file(N * BS, 0);
	ctx = t_setup(32);
	check_engine(ctx);
	reads(ctx, fd, 1, false, "a lone buffered read");
	reads(ctx, fd, N, false, "buffered reads");
	reads(ctx, fd, N, true, "buffered PREADV");
	dfd = t_reopen(fd, O_RDONLY | O_DIRECT);
	reads(ctx, dfd, 1, false, "a lone O_DIRECT read");
	reads(ctx, dfd, N, false, "O_DIRECT reads");
	reads(ctx, dfd, N, true, "O_DIRECT PREADV");
	close(dfd);
	pipe_wait(ctx);
	forked(fd);
	T_EQ(io_destroy(ctx), 0);
	close(fd);
	return 0;
}
