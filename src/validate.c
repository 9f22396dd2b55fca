/*
 * validate.c - the kernel's io_submit checks for one iocb, in its order
 * (fs/aio.c: io_submit_one, __io_submit_one, aio_prep_rw, aio_read/write,
 * aio_prep_fsync, aio_poll), so that the emulated engines return the same
 * errno for the same bad input.
 *
 * What needs the file (access mode, O_DIRECT) comes from one fcntl(F_GETFL)
 * per iocb, which also proves the descriptor valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "emu.h"
#include "rwf.h"
#include "uaccess.h"

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x01
#define RWF_DSYNC 0x02
#define RWF_SYNC 0x04
#define RWF_NOWAIT 0x08
#define RWF_APPEND 0x10
#endif
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x20
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x40
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x80
#endif

#ifndef STATX_WRITE_ATOMIC
#define STATX_WRITE_ATOMIC 0x00010000U
#endif
#ifndef STATX_ATTR_WRITE_ATOMIC
#define STATX_ATTR_WRITE_ATOMIC 0x00400000
#endif

/* include/linux/fs.h: MAX_RW_COUNT = INT_MAX & PAGE_MASK */
#define MAX_RW_COUNT (0x7fffffffl & ~4095l)
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

static int rwf_mask;
static pthread_once_t rwf_once = PTHREAD_ONCE_INIT;

/* RWF_SUPPORTED of the running kernel, from the version each flag came in
 * (probing would meet the per-file refusals too, and seccomp filters). */
static void rwf_probe(void)
{
	struct utsname u;
	int maj = 0, min = 0;
	unsigned v;

	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &maj, &min);
	v = (unsigned)(maj * 1000 + min);
	rwf_mask = 0;
	for (size_t i = 0; i < UAIO_NRWF; i++)
		if (v >= uaio_rwf_flags[i].since)
			rwf_mask |= (int)uaio_rwf_flags[i].bit;
}

int uaio__rwf_supported(void)
{
	pthread_once(&rwf_once, rwf_probe);
	return rwf_mask;
}

/* io_submit_one(): checks before a slot is taken. */
int uaio__check_iocb(const struct iocb *cb)
{
	if (unlikely(cb->u.c.__pad3))
		return -EINVAL;
	if (unlikely((long)cb->u.c.nbytes < 0))
		return -EINVAL;
	return 0;
}

static bool capable_nice_or_admin(void)
{
	struct __user_cap_header_struct h = {
	    .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return false;
	return (d[0].effective & (1u << CAP_SYS_NICE)) ||
	       (d[0].effective & (1u << CAP_SYS_ADMIN));
}

/* block/ioprio.c: ioprio_check_cap() */
static int ioprio_check(int ioprio)
{
	int class = (ioprio >> 13) & 7;

	if (ioprio < 0 || ioprio >= (1 << 16))
		return -EINVAL;
	switch (class) {
	case 1: /* RT */
		if (!capable_nice_or_admin())
			return -EPERM;
		break;
	case 2: /* BE */
	case 3: /* IDLE */
		break;
	case 0: /* NONE: no level */
		if (ioprio & 7)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* include/linux/fs.h: kiocb_set_rw_flags(), the parts known at submit. */
static int rw_flags_check(int flags, bool write)
{
	if (!flags)
		return 0;
	if (flags & ~uaio__rwf_supported())
		return -EOPNOTSUPP;
	if ((flags & RWF_APPEND) && (flags & RWF_NOAPPEND))
		return -EINVAL;
	if ((flags & RWF_ATOMIC) && !write)
		return -EOPNOTSUPP;
	return 0;
}

bool uaio__is_eventfd(int fd)
{
	char path[32], link[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	return n == (ssize_t)strlen("anon_inode:[eventfd]") &&
	       memcmp(link, "anon_inode:[eventfd]", (size_t)n) == 0;
}

/* An eventfd for IOCB_FLAG_RESFD, held for the request's lifetime. */
static int resfd_get(unsigned resfd)
{
	struct stat st;
	uint64_t zero = 0;
	int fd = fcntl((int)resfd, F_DUPFD_CLOEXEC, 0);

	/* Out of descriptors, io_submit can only say it is short of
	 * resources, as when the kernel cannot allocate a request. */
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE ? -EAGAIN : -EBADF;
	/*
	 * eventfds are anonymous inodes (no file type); among those, only an
	 * eventfd accepts an 8-byte write, and adding 0 changes nothing.
	 */
	if (fstat(fd, &st) || (st.st_mode & S_IFMT) ||
	    write(fd, &zero, sizeof(zero)) != sizeof(zero)) {
		/* eventfd_ctx_fdget() does not see O_PATH descriptors at
		 * all: EBADF, whatever they name. */
		int fl = fcntl(fd, F_GETFL);

		close(fd);
		return fl >= 0 && (fl & O_PATH) ? -EBADF : -EINVAL;
	}
	return fd;
}

/*
 * Whether the file has no read_iter (write_iter), which aio_read()
 * (aio_write()) refuses before it looks at the buffers.  A directory has
 * only ->read; a file without read or write method at all (epoll) fails
 * an empty transfer, which does nothing to any other file.
 */
static bool no_rw_method(int fd, bool write)
{
	struct iovec none = {NULL, 0};
	struct stat st;

	if (!write && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	return (write ? pwritev2(fd, &none, 1, -1, 0)
		      : preadv2(fd, &none, 1, -1, 0)) < 0 &&
	       errno == EINVAL;
}

/*
 * FMODE_CAN_ATOMIC_WRITE, which kiocb_set_rw_flags() wants for RWF_ATOMIC:
 * file systems set it for O_DIRECT on a file that statx() says can.
 */
static bool can_atomic_write(const struct emu_req *req)
{
	struct statx stx;

	return (req->fd_flags & O_DIRECT) &&
	       statx(req->fd, "", AT_EMPTY_PATH, STATX_WRITE_ATOMIC, &stx) ==
		   0 &&
	       (stx.stx_attributes & STATX_ATTR_WRITE_ATOMIC);
}

/* The array could not be read whole: copy_iovec_from_user() reads it a
 * segment at a time, and a negative length before the fault wins. */
static int iov_fault(struct iovec *iov, const struct iovec *uv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* An address, not an object: uv may be NULL or wild. */
		const void *at =
		    (const void *)((uintptr_t)uv + i * sizeof(*uv));

		if (uaio__uread(&iov[i], at, sizeof(*uv)))
			return -EFAULT;
		if ((ssize_t)iov[i].iov_len < 0)
			return -EINVAL;
	}
	return -EFAULT;
}

/* import_iovec() or import_ubuf(): the buffers, and their total length. */
static UAIO_ALWAYS_INLINE int prep_buffers(const struct iocb *cb,
					   struct emu_req *req, bool vectored,
					   size_t *totalp)
{
	size_t total = 0;

	if (vectored) {
		const struct iovec *uv = cb->u.c.buf;
		/* import_iovec() takes the count as an unsigned int. */
		size_t n = (unsigned)cb->u.c.nbytes;

		if (n > UIO_MAXIOV)
			return -EINVAL;
		if (n > EMU_FAST_IOV) {
			req->iov = malloc(n * sizeof(*uv));
			if (!req->iov) {
				req->iov = req->iov_fast;
				return -ENOMEM;
			}
		}
		/* Copied now, as import_iovec() does: the caller may reuse
		 * its array once io_submit returns. */
		if (n && uaio__uread(req->iov, uv, n * sizeof(*uv)))
			return iov_fault(req->iov, uv, n);
		/* copy_iovec_from_user() refuses a negative length in any
		 * segment before __import_iovec() looks at a pointer. */
		for (size_t i = 0; i < n; i++)
			if ((ssize_t)req->iov[i].iov_len < 0)
				return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			size_t len = req->iov[i].iov_len;
			/* iovec_from_user() checks the whole length of each
			 * of several segments before clamping the total. */
			if (n > 1 && uaio__bad_uptr(req->iov[i].iov_base, len))
				return -EFAULT;
			if (len > MAX_RW_COUNT - total)
				req->iov[i].iov_len = len =
				    MAX_RW_COUNT - total;
			if (uaio__bad_uptr(req->iov[i].iov_base, len))
				return -EFAULT;
			total += len;
		}
		req->iovcnt = (int)n;
	} else {
		total = cb->u.c.nbytes;
		if (total > MAX_RW_COUNT)
			total = MAX_RW_COUNT;
		if (uaio__bad_uptr(cb->u.c.buf, total))
			return -EFAULT;
		req->iov[0].iov_base = cb->u.c.buf;
		req->iov[0].iov_len = total;
		req->iovcnt = 1;
	}
	*totalp = total;
	return 0;
}

static UAIO_ALWAYS_INLINE int
prep_rw(const struct iocb *cb, struct emu_req *req, bool write, bool vectored)
{
	size_t total = 0;
	int ret;

	if (cb->u.c.flags & IOCB_FLAG_IOPRIO) {
		ret = ioprio_check(cb->aio_reqprio);
		if (ret)
			return ret;
		req->ioprio = (unsigned short)cb->aio_reqprio;
	}
	ret = rw_flags_check((int)cb->aio_rw_flags, write);
	if (ret)
		return ret;
	req->rw_flags = (int)cb->aio_rw_flags;
	/* No FMODE_READ (FMODE_WRITE): opened for the other, or for
	 * neither (access mode 3, for ioctl()s only). */
	if ((req->fd_flags & O_ACCMODE) == (write ? O_RDONLY : O_WRONLY) ||
	    (req->fd_flags & O_ACCMODE) == O_ACCMODE)
		return -EBADF;
	ret = prep_buffers(cb, req, vectored, &total);
	/* Neither a bad buffer nor an empty transfer gets past a file
	 * that has no method for it; both are rare, so looked up only then.
	 */
	if ((ret == -EFAULT || (!ret && !total)) &&
	    no_rw_method(req->fd, write))
		/* Such files take no per-file flag either, which
		 * kiocb_set_rw_flags() checked first. */
		return req->rw_flags & (RWF_NOWAIT | RWF_DONTCACHE | RWF_ATOMIC)
			   ? -EOPNOTSUPP
			   : -EINVAL;
	if (ret)
		return ret;
	/* The I/O says it for any other length; nothing does for none. */
	if (!total && (req->rw_flags & RWF_ATOMIC) && !can_atomic_write(req))
		return -EOPNOTSUPP;
	/* rw_verify_area() */
	if (cb->u.c.offset < 0)
		return -EINVAL;
	if ((long long)((unsigned long long)cb->u.c.offset + total) < 0)
		return -EINVAL;
	req->offset = cb->u.c.offset;
	return 0;
}

static bool no_fsync_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return false;
	switch ((unsigned long)sf.f_type) {
	case 0x9fa0:	 /* PROC_SUPER_MAGIC */
	case 0x74726163: /* TRACEFS_MAGIC */
	case 0x64626720: /* DEBUGFS_MAGIC */
		return true;
	default:
		return false;
	}
}

static int prep_fsync(const struct iocb *cb, struct emu_req *req)
{
	struct stat st;

	if (cb->u.c.buf || cb->u.c.offset || cb->u.c.nbytes || cb->aio_rw_flags)
		return -EINVAL;
	/*
	 * Only files of a file system or a block device have ->fsync: not
	 * pipes, sockets, character devices (/dev/null) or anonymous inodes
	 * (eventfd, epoll), which have no file type.
	 */
	if (fstat(req->fd, &st))
		return 0; /* closed meanwhile: its EBADF comes in the event */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    !S_ISBLK(st.st_mode))
		return -EINVAL;
	/* Nor the files of procfs, tracefs and debugfs, whose regular files
	 * have no ->fsync either (fsync(2) says EINVAL there). */
	if (S_ISREG(st.st_mode) && no_fsync_fs(req->fd))
		return -EINVAL;
	return 0;
}

/* Whether fd has no poll method: epoll refuses such files (EPERM). */
static bool cannot_poll(int fd)
{
	struct epoll_event ev = {.events = 0};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	bool ret;

	if (ep < 0)
		return false;
	ret = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) && errno == EPERM;
	close(ep);
	return ret;
}

static int prep_poll(const struct iocb *cb, struct emu_req *req)
{
	unsigned long events = (unsigned long)cb->u.c.buf;

	if ((unsigned short)events != events)
		return -EINVAL;
	if (cb->u.c.offset || cb->u.c.nbytes || cb->aio_rw_flags)
		return -EINVAL;
	/*
	 * aio_poll(): a file without a poll method is always ready for
	 * DEFAULT_POLLMASK; asked for none of it, the kernel refuses the
	 * request rather than wait for ever.  Rarely asked: looked up only
	 * then.
	 */
	if (!(events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)) &&
	    cannot_poll(req->fd))
		return -EINVAL;
	req->poll_events = (short)events;
	return 0;
}

/* __io_submit_one() and what follows it, once a slot is held. */
int uaio__prep_iocb(struct iocb *user, const struct iocb *cb,
		    struct emu_req *req, struct fd_memo *memo)
{
	int flags;

	if (memo->fd == cb->aio_fildes && memo->fd >= 0) {
		flags = memo->flags;
	} else {
		flags = fcntl(cb->aio_fildes, F_GETFL);
		if (flags < 0 || (flags & O_PATH))
			return -EBADF;
		memo->fd = cb->aio_fildes;
		memo->flags = flags;
		memo->kind = KIND_UNKNOWN;
	}
	req->fd = cb->aio_fildes;
	req->fd_flags = flags;
	if (cb->u.c.flags & IOCB_FLAG_RESFD) {
		int fd = resfd_get(cb->u.c.resfd);
		if (fd < 0)
			return fd;
		req->resfd = fd;
	}
	/*
	 * The kernel writes KIOCB_KEY (0), which io_cancel checks later.
	 * Storing 0 over 0 changes nothing, so only a non-zero key costs a
	 * checked write (a read-only iocb with key 0 is not caught).
	 */
	if (cb->key) {
		unsigned zero = 0;
		if (uaio__uwrite(&user->key, &zero, sizeof(zero)))
			return -EFAULT;
	}
	atomic_store_explicit(&req->obj, user, memory_order_release);
	req->data = (uint64_t)(uintptr_t)cb->data;
	req->opcode = cb->aio_lio_opcode;
	req->rw_flags = 0;
	req->ioprio = -1;
	switch (cb->aio_lio_opcode) {
	case CMD_PREAD:
		return prep_rw(cb, req, false, false);
	case CMD_PWRITE:
		return prep_rw(cb, req, true, false);
	case CMD_PREADV:
		return prep_rw(cb, req, false, true);
	case CMD_PWRITEV:
		return prep_rw(cb, req, true, true);
	case CMD_FSYNC:
	case CMD_FDSYNC:
		return prep_fsync(cb, req);
	case CMD_POLL:
		return prep_poll(cb, req);
	default:
		return -EINVAL;
	}
}
