/*
 * io_submit() checks that depend on the kind of file, as the kernel makes
 * them at submit time: fget() refuses O_PATH descriptors (EBADF); a file
 * without read_iter / write_iter / fsync is EINVAL (directories, epoll,
 * eventfd writes, pipes, sockets and /dev/null for fsync); the mode check
 * comes before those.  Offsets are not checked against the file type: a
 * pipe ignores them (only a negative one is EINVAL), a socket fails a
 * non-zero one with ESPIPE in the event.  A poll of a regular file is ready
 * at once with what was asked of POLLIN | POLLOUT.  rw_flags a file cannot
 * honour (RWF_NOWAIT without FMODE_NOWAIT, RWF_DONTCACHE) are EOPNOTSUPP.
 *
 * An engine that emulates with pread/pwrite/fsync would get these wrong in
 * other ways (ESPIPE for a pipe with an offset, EISDIR in the event for a
 * directory, an accepted O_PATH fd), so each is checked here.
 */
#include "validation.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

static io_context_t ctx;

/* Submit cb alone and expect err from io_submit. */
#define REJECT(cb, err)                                                        \
	do {                                                                   \
		struct iocb *v_cbs_[1] = {(cb)};                               \
		long long v_r_ = V_CALL(io_submit(ctx, 1, v_cbs_));            \
		if (v_r_ != V_CRASHED && v_r_ != (err))                        \
			V_FAIL("%s: io_submit = %lld (%s), expected %s", what, \
			       v_r_, v_r_ < 0 ? strerror((int)-v_r_) : "",     \
			       #err);                                          \
		if (v_r_ == 1)                                                 \
			reap(NULL);                                            \
	} while (0)

/*
 * A check the kernel makes at submit from the file's methods, which the
 * emulated engines cannot see without a system call per request: there
 * (documented in uaio(7)) the request may be accepted instead, its outcome
 * in the event, or (io_uring on an epoll fd) waiting for a readiness that
 * never comes, until cancelled.  The kernel and the reference must reject it.
 */
#define REJECT_ON_KERNEL(cb, err)                                              \
	do {                                                                   \
		if (!t_is_ref() && strcmp(t_engine(), "kernel") != 0) {        \
			struct iocb *v_cbs_[1] = {(cb)};                       \
			long long v_r_ = io_submit(ctx, 1, v_cbs_);            \
			if (v_r_ != 1 && v_r_ != (err))                        \
				V_FAIL("%s: io_submit = %lld, expected %s or " \
				       "1",                                    \
				       what, v_r_, #err);                      \
			if (v_r_ == 1 && !reap_or_cancel(cb))                  \
				V_FAIL("%s: no event", what);                  \
		} else {                                                       \
			REJECT(cb, err);                                       \
		}                                                              \
	} while (0)

/* Submit cb alone and expect an event with res. */
static bool reap_or_cancel(struct iocb *cb);
#define ACCEPT(cb, want)                                                       \
	do {                                                                   \
		struct iocb *v_cbs_[1] = {(cb)};                               \
		long long v_r_ = V_CALL(io_submit(ctx, 1, v_cbs_));            \
		long v_res_;                                                   \
		if (v_r_ != 1) {                                               \
			if (v_r_ != V_CRASHED)                                 \
				V_FAIL("%s: io_submit = %lld (%s), expected "  \
				       "1",                                    \
				       what, v_r_,                             \
				       v_r_ < 0 ? strerror((int)-v_r_) : "");  \
			break;                                                 \
		}                                                              \
		if (!reap(&v_res_))                                            \
			V_FAIL("%s: no event", what);                          \
		else if (v_res_ != (want))                                     \
			V_FAIL("%s: res = %ld (%s), expected %ld", what,       \
			       v_res_,                                         \
			       v_res_ < 0 ? strerror((int)-v_res_) : "",       \
			       (long)(want));                                  \
	} while (0)

static bool reap(long *res)
{
	struct timespec t = {5, 0};
	struct io_event ev;

	if (io_getevents(ctx, 1, 1, &ev, &t) != 1)
		return false;
	if (res)
		*res = (long)ev.res;
	return true;
}

/* The event of cb within a second, or after cancelling it. */
static bool reap_or_cancel(struct iocb *cb)
{
	struct timespec t = {1, 0};
	struct io_event ev;

	if (io_getevents(ctx, 1, 1, &ev, &t) == 1)
		return true;
	return io_cancel(ctx, cb, &ev) == -EINPROGRESS && reap(NULL);
}

int main(void)
{
	int fd = t_scratch_file(4096, 0), opath, dir, ep, efd, p[2], sv[2], dn;
	char buf[64];
	uint64_t one = 1;
	struct iocb cb;
	const char *what;

	ctx = t_setup(8);
	opath = t_reopen(fd, O_PATH);
	dir = open(".", O_RDONLY | O_DIRECTORY);
	ep = epoll_create1(0);
	efd = eventfd(0, 0);
	dn = open("/dev/null", O_RDWR);
	T_ASSERT(dir >= 0 && ep >= 0 && efd >= 0 && dn >= 0);
	T_ASSERT(pipe(p) == 0);
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

	/* O_PATH descriptors are no files to fget(): EBADF for any op. */
	what = "pread O_PATH";
	io_prep_pread(&cb, opath, buf, 16, 0);
	REJECT(&cb, -EBADF);
	what = "pwrite O_PATH";
	io_prep_pwrite(&cb, opath, buf, 16, 0);
	REJECT(&cb, -EBADF);
	what = "fsync O_PATH";
	io_prep_fsync(&cb, opath);
	REJECT(&cb, -EBADF);
	what = "poll O_PATH";
	io_prep_poll(&cb, opath, POLLIN);
	REJECT(&cb, -EBADF);

	/* No read_iter: EINVAL at submit, not EISDIR in the event. */
	what = "pread directory";
	io_prep_pread(&cb, dir, buf, 16, 0);
	REJECT_ON_KERNEL(&cb, -EINVAL);
	what = "pread epoll";
	io_prep_pread(&cb, ep, buf, 16, 0);
	REJECT_ON_KERNEL(&cb, -EINVAL);
	/* The mode is checked first. */
	what = "pwrite directory (read-only fd)";
	io_prep_pwrite(&cb, dir, buf, 16, 0);
	REJECT(&cb, -EBADF);
	/* eventfd has read_iter but only a plain write. */
	what = "pwrite eventfd";
	io_prep_pwrite(&cb, efd, &one, 8, 0);
	REJECT_ON_KERNEL(&cb, -EINVAL);
	T_ASSERT(write(efd, &one, 8) == 8);
	what = "pread eventfd";
	io_prep_pread(&cb, efd, buf, 8, 0);
	ACCEPT(&cb, 8);
	what = "pread eventfd, 4 bytes";
	io_prep_pread(&cb, efd, buf, 4, 0);
	ACCEPT(&cb, -EINVAL);

	/* fsync needs an fsync method; directories have one. */
	what = "fsync directory";
	io_prep_fsync(&cb, dir);
	ACCEPT(&cb, 0);
	what = "fdsync directory";
	io_prep_fdsync(&cb, dir);
	ACCEPT(&cb, 0);
	what = "fsync eventfd";
	io_prep_fsync(&cb, efd);
	REJECT(&cb, -EINVAL);
	what = "fsync socket";
	io_prep_fsync(&cb, sv[0]);
	REJECT(&cb, -EINVAL);
	what = "fdsync pipe";
	io_prep_fdsync(&cb, p[0]);
	REJECT(&cb, -EINVAL);
	what = "fsync /dev/null";
	io_prep_fsync(&cb, dn);
	REJECT(&cb, -EINVAL);
	what = "pread /dev/null";
	io_prep_pread(&cb, dn, buf, 16, 0);
	ACCEPT(&cb, 0);

	/* Pipes ignore the offset (pwrite(2) would say ESPIPE)... */
	what = "pwrite pipe at offset 12345";
	io_prep_pwrite(&cb, p[1], "hello", 5, 12345);
	ACCEPT(&cb, 5);
	what = "pread pipe at offset 999";
	io_prep_pread(&cb, p[0], buf, 5, 999);
	ACCEPT(&cb, 5);
	T_ASSERT(memcmp(buf, "hello", 5) == 0);
	/* ...except a negative one. */
	what = "pwrite pipe at offset -1";
	io_prep_pwrite(&cb, p[1], "hello", 5, -1);
	REJECT(&cb, -EINVAL);

	/* Sockets take offset 0 only, and say so in the event. */
	what = "pwrite socket at offset 0";
	io_prep_pwrite(&cb, sv[0], "hello", 5, 0);
	ACCEPT(&cb, 5);
	what = "pwrite socket at offset 777";
	io_prep_pwrite(&cb, sv[0], "hello", 5, 777);
	ACCEPT(&cb, -ESPIPE);
	what = "pread socket at offset 777";
	io_prep_pread(&cb, sv[1], buf, 5, 777);
	ACCEPT(&cb, -ESPIPE);
	what = "pread socket at offset 0";
	io_prep_pread(&cb, sv[1], buf, 5, 0);
	ACCEPT(&cb, 5);

	/*
	 * rw_flags the file cannot honour: EOPNOTSUPP at submit.  On kernels
	 * that predate RWF_DONTCACHE (6.14) it is an unknown bit: the same.
	 */
	{
		struct iovec iov = {buf, 8};
		int proc = open("/proc/self/status", O_RDONLY);

		T_ASSERT(proc >= 0);
		what = "RWF_NOWAIT read of /proc/self/status";
		io_prep_preadv2(&cb, proc, &iov, 1, 0, RWF_NOWAIT);
		REJECT_ON_KERNEL(&cb, -EOPNOTSUPP);
		what = "RWF_DONTCACHE write to a pipe";
		io_prep_pwritev2(&cb, p[1], &iov, 1, 0, 0x80);
		REJECT_ON_KERNEL(&cb, -EOPNOTSUPP);
		what = "RWF_DONTCACHE write to /dev/null";
		io_prep_pwritev2(&cb, dn, &iov, 1, 0, 0x80);
		REJECT_ON_KERNEL(&cb, -EOPNOTSUPP);
		/* Pipes and sockets can: an empty one says EAGAIN. */
		what = "RWF_NOWAIT read of an empty pipe";
		io_prep_preadv2(&cb, p[0], &iov, 1, 0, RWF_NOWAIT);
		ACCEPT(&cb, -EAGAIN);
		what = "RWF_NOWAIT read of an empty socket";
		io_prep_preadv2(&cb, sv[1], &iov, 1, 0, RWF_NOWAIT);
		ACCEPT(&cb, -EAGAIN);
		T_ASSERT(write(p[1], "abc", 3) == 3);
		what = "RWF_NOWAIT read of a pipe with data";
		io_prep_preadv2(&cb, p[0], &iov, 1, 0, RWF_NOWAIT);
		ACCEPT(&cb, 3);
		close(proc);
	}

	/* A regular file is always ready. */
	what = "poll regular file";
	io_prep_poll(&cb, fd, POLLIN | POLLOUT | POLLPRI);
	ACCEPT(&cb, POLLIN | POLLOUT);

	V_RET(io_destroy(ctx), 0);
	return 0;
}
