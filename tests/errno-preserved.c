/*
 * Every entry point leaves errno alone, on success and on failure, including
 * the paths where an implementation is likely to fail internally: a buffered
 * read that is not cached (a RWF_NOWAIT attempt gets EAGAIN), an inline
 * completion with an error, a wait that times out, a wait interrupted by a
 * signal, a destroy with requests in flight, uaio's extensions.  libaio
 * saves and restores errno around each system call; callers rely on it.
 */
#include "validation.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <uaio.h>

extern int io_queue_wait(io_context_t ctx, struct timespec *timeout);

static pthread_t main_thread;

static void on_usr1(int sig)
{
	(void)sig;
}

static atomic_bool kicked;

/* Signal the main thread until it has seen EINTR: it may not block at once. */
static void *kick(void *arg)
{
	(void)arg;
	while (!atomic_load(&kicked)) {
		usleep(20 * 1000);
		pthread_kill(main_thread, SIGUSR1);
	}
	return NULL;
}

static void interrupted(io_context_t ctx, bool pwait)
{
	struct io_event ev[4];
	pthread_t th;

	atomic_store(&kicked, false);
	T_ASSERT(pthread_create(&th, NULL, kick, NULL) == 0);
	if (pwait)
		V_RET(io_pgetevents(ctx, 1, 4, ev, NULL, NULL), -EINTR);
	else
		V_RET(io_getevents(ctx, 1, 4, ev, NULL), -EINTR);
	atomic_store(&kicked, true);
	pthread_join(th, NULL);
}

static void extensions(void)
{
	__typeof__(&uaio_setup) setup = dlsym(RTLD_DEFAULT, "uaio_setup");
	__typeof__(&uaio_engine) engine = dlsym(RTLD_DEFAULT, "uaio_engine");
	__typeof__(&uaio_fallback_reason) reason =
	    dlsym(RTLD_DEFAULT, "uaio_fallback_reason");
	__typeof__(&uaio_probe) probe = dlsym(RTLD_DEFAULT, "uaio_probe");
	__typeof__(&uaio_version) version = dlsym(RTLD_DEFAULT, "uaio_version");
	char name[UAIO_ENGINE_NAME_MAX], why[UAIO_REASON_MAX];
	io_context_t ctx = NULL;
	const char *v;
	int ret;

	T_ASSERT(setup && engine && reason && probe && version);
	errno = V_ERRNO_MARK;
	v = version();
	T_EQ(errno, V_ERRNO_MARK);
	T_ASSERT(v && *v);

	V_RET(setup(4, &ctx, "nosuchengine"), -EINVAL);
	V_RET(setup(0, &ctx, NULL), -EINVAL);
	V_RET(setup(4, NULL, NULL), -EFAULT);
	V_RET(setup(4, &ctx, NULL), 0);
	V_RET(engine(ctx, name, sizeof(name)), 0);
	V_RET(engine(ctx, name, 1), -ERANGE);
	V_RET(engine(NULL, name, sizeof(name)), -EINVAL);
	errno = V_ERRNO_MARK;
	ret = reason(ctx, why, sizeof(why));
	T_EQ(errno, V_ERRNO_MARK);
	T_ASSERT(ret >= 0);
	V_RET(reason(NULL, why, sizeof(why)), -EINVAL);
	V_RET(probe("nosuchengine", why, sizeof(why)), -EINVAL);
	V_RET(probe("threads", why, sizeof(why)), 0);
	for (const char *const *e =
		 (const char *const[]){"kernel", "uring", NULL};
	     *e; e++) {
		errno = V_ERRNO_MARK;
		ret = probe(*e, why, sizeof(why));
		T_EQ(errno, V_ERRNO_MARK);
		T_ASSERT(ret <= 0);
	}
	V_RET(io_destroy(ctx), 0);
	/* Every engine this host has, explicitly. */
	for (const char *const *e =
		 (const char *const[]){"kernel", "uring", "threads", NULL};
	     *e; e++) {
		if (probe(*e, NULL, 0))
			continue;
		ctx = NULL;
		V_RET(setup(4, &ctx, *e), 0);
		V_RET(io_destroy(ctx), 0);
	}
}

int main(void)
{
	struct timespec zero = {0, 0}, ms20 = {0, 20 * 1000 * 1000};
	struct iocb cb[4], *cbs[4] = {&cb[0], &cb[1], &cb[2], &cb[3]};
	struct io_event ev[4];
	io_context_t ctx = NULL;
	int fd, dfd, p[2];
	char *buf = t_aligned(4096, 65536);
	sigset_t usr1;

	main_thread = pthread_self();
	sigaction(
	    SIGUSR1,
	    &(struct sigaction){.sa_handler = on_usr1, .sa_flags = SA_RESTART},
	    NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	T_ASSERT(pipe(p) == 0);
	fd = t_scratch_file(1 << 20, 0);
	dfd = t_scratch_file(1 << 16, O_DIRECT);

	/* Setup and teardown. */
	V_RET(io_setup(0, &ctx), -EINVAL);
	V_RET(io_setup(16, &ctx), 0);
	V_RET(io_queue_init(0, &ctx), -EINVAL);
	/* libaio itself stores through the pointer, and crashes. */
	if (!t_is_ref()) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *guarded = v_guarded(page, PROT_READ);

		V_RET(io_queue_init(1, (io_context_t *)guarded), -EFAULT);
		V_RET(io_queue_init(1, (io_context_t *)(guarded + page)),
		      -EFAULT);
		munmap(guarded, 2 * page);
	}

	/* A buffered read of uncached data, one of cached data. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	io_prep_pread(&cb[0], fd, buf, 65536, 512 * 1024);
	V_RET(io_submit(ctx, 1, cbs), 1);
	V_RET(io_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 65536);
	V_RET(io_submit(ctx, 1, cbs), 1);
	V_RET(io_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 65536);
	/* Cached data into a bad buffer: the error arrives in the event. */
	io_prep_pread(&cb[0], fd, NULL, 4096, 512 * 1024);
	V_RET(io_submit(ctx, 1, cbs), 1);
	V_RET(io_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ((long)ev[0].res, -EFAULT);
	/* O_DIRECT read and write, fsync... */
	io_prep_pread(&cb[0], dfd, buf, 4096, 0);
	io_prep_fsync(&cb[1], fd);
	io_prep_pwrite(&cb[2], dfd, buf, 4096, 4096);
	V_RET(io_submit(ctx, 3, cbs), 3);
	V_RET(io_getevents(ctx, 3, 3, ev, NULL), 3);
	/* ...and rejected ones. */
	io_prep_pread(&cb[0], -1, buf, 4096, 0);
	V_RET(io_submit(ctx, 1, cbs), -EBADF);
	io_prep_pread(&cb[0], fd, buf, 4096, -1);
	V_RET(io_submit(ctx, 1, cbs), -EINVAL);
	V_RET(io_submit(NULL, 1, cbs), -EINVAL);

	/* Waits: empty, timed out, interrupted, satisfied later. */
	V_RET(io_getevents(ctx, 0, 4, ev, &zero), 0);
	V_RET(io_getevents(ctx, 1, 4, ev, &ms20), 0);
	V_RET(io_pgetevents(ctx, 1, 4, ev, &ms20, &usr1), 0);
	V_RET(io_queue_wait(ctx, &ms20), 0);
	interrupted(ctx, false);
	interrupted(ctx, true);
	io_prep_poll(&cb[0], p[0], POLLIN);
	V_RET(io_submit(ctx, 1, cbs), 1);
	V_RET(io_getevents(ctx, 1, 4, ev, &ms20), 0);
	T_ASSERT(write(p[1], "x", 1) == 1);
	V_RET(io_getevents(ctx, 1, 4, ev, NULL), 1);
	T_ASSERT(read(p[0], buf, 1) == 1);
	V_RET(io_getevents(ctx, -1, 4, ev, NULL), -EINVAL);
	V_RET(io_getevents(NULL, 1, 4, ev, NULL), -EINVAL);
	V_RET(io_pgetevents(NULL, 1, 4, ev, NULL, NULL), -EINVAL);

	/* Cancel: refused, then done. */
	io_prep_poll(&cb[0], p[0], POLLIN);
	V_RET(io_cancel(ctx, &cb[0], ev), -EINVAL);
	V_RET(io_cancel(NULL, NULL, NULL), -EFAULT);
	V_RET(io_submit(ctx, 1, cbs), 1);
	V_RET(io_cancel(ctx, &cb[0], ev), -EINPROGRESS);
	V_RET(io_getevents(ctx, 1, 4, ev, NULL), 1);

	/* io_queue_run with nothing, with a callback, on a bad handle. */
	V_RET(io_queue_run(ctx), 0);
	V_RET(io_queue_run(NULL), -EINVAL);

	/* Destroy with requests in flight, then on the dead handle. */
	for (int i = 0; i < 3; i++)
		io_prep_poll(&cb[i], p[0], POLLIN);
	V_RET(io_submit(ctx, 3, cbs), 3);
	V_RET(io_destroy(ctx), 0);
	V_RET(io_destroy(ctx), -EINVAL);
	V_RET(io_queue_release(ctx), -EINVAL);
	V_RET(io_submit(ctx, 1, cbs), -EINVAL);
	V_RET(io_cancel(ctx, &cb[0], ev), -EINVAL);

	ctx = NULL;
	V_RET(io_queue_init(4, &ctx), 0);
	V_RET(io_queue_release(ctx), 0);

	if (t_is_uaio())
		extensions();
	free(buf);
	return 0;
}
