/*
 * io_submit(): every rejection in the kernel's order, what happens to the
 * iocb key, and the event an accepted iocb produces.
 *
 * fs/aio.c checks, for the call: nr < 0, the context, nr == 0; then per iocb:
 * the pointer, the iocb copy (EFAULT), reserved2, nbytes overflow (EINVAL), a
 * free slot (EAGAIN, see ring-overcommit), the fd (EBADF), the RESFD eventfd
 * (EBADF / EINVAL), then writes key = 0 (EFAULT if the iocb is read-only),
 * then the opcode.  Reads and writes go on: IOPRIO, rw_flags, the fd's mode,
 * the buffer range (EFAULT for a kernel address), the file range.  FSYNC,
 * FDSYNC and POLL refuse any field they do not use.  So a rejected iocb keeps
 * its key only when the check precedes the key store.
 */
#include "validation.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x8
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#define V_RWF_NOAPPEND 0x20
#define V_RWF_ATOMIC 0x40
/* Linux 6.18 knows 0x1ff (0x100 is RWF_NOSIGNAL); stay clear of new bits. */
#define V_RWF_UNKNOWN 0x80000000u

#define IOCB_FLAG_RESFD (1u << 0)
#define IOCB_FLAG_IOPRIO (1u << 1)
#define PRIO(class, level) ((short)(((class) << 13) | (level)))

#define KEY_MARK 0x5a5a5a5au
#define DATA_MARK ((void *)0xfeedfacecafef00dul)

static io_context_t ctx;
static int fd, rdfd, wrfd, pfd[2], efd;
static char *buf;

/* Collect the event of an iocb that should have been refused. */
static void drain_one(void)
{
	struct timespec t = {5, 0};
	struct io_event ev;
	io_getevents(ctx, 1, 1, &ev, &t);
}

/* Submit cb alone; expect err, and key kept (0) or written (1). */
#define REJECT(cb, err, key_written)                                           \
	do {                                                                   \
		struct iocb *v_cbs_[1] = {(cb)};                               \
		long long v_r_;                                                \
		(cb)->key = KEY_MARK;                                          \
		v_r_ = V_CALL(io_submit(ctx, 1, v_cbs_));                      \
		if (v_r_ == V_CRASHED)                                         \
			break;                                                 \
		if (v_r_ != (err))                                             \
			V_FAIL("io_submit(%s) = %lld (%s), expected %s", #cb,  \
			       v_r_, v_r_ < 0 ? strerror((int)-v_r_) : "",     \
			       #err);                                          \
		if (v_r_ == 1)                                                 \
			drain_one();                                           \
		else if ((cb)->key != ((key_written) ? 0 : KEY_MARK))          \
			V_FAIL("key after %s: %#x, expected %s", #err,         \
			       (cb)->key,                                      \
			       (key_written) ? "0 (written)" : "kept");        \
	} while (0)

/* Submit cb alone; expect it queued, its key zeroed, and this event. */
#define ACCEPT(cb, want_res)                                                   \
	do {                                                                   \
		struct iocb *v_cbs_[1] = {(cb)};                               \
		struct io_event v_ev_;                                         \
		struct timespec v_t_ = {5, 0};                                 \
		long long v_r_;                                                \
		(cb)->key = KEY_MARK;                                          \
		(cb)->data = DATA_MARK;                                        \
		v_r_ = V_CALL(io_submit(ctx, 1, v_cbs_));                      \
		if (v_r_ != 1) {                                               \
			if (v_r_ != V_CRASHED)                                 \
				V_FAIL("io_submit(%s) = %lld (%s), expected "  \
				       "1",                                    \
				       #cb, v_r_,                              \
				       v_r_ < 0 ? strerror((int)-v_r_) : "");  \
			break;                                                 \
		}                                                              \
		V_EQ((cb)->key, 0);                                            \
		if (io_getevents(ctx, 1, 1, &v_ev_, &v_t_) != 1) {             \
			V_FAIL("no event for %s", #cb);                        \
			break;                                                 \
		}                                                              \
		V_EQ(v_ev_.obj == (cb), 1);                                    \
		V_EQ(v_ev_.data == DATA_MARK, 1);                              \
		V_EQ((long)v_ev_.res, (want_res));                             \
		V_EQ(v_ev_.res2, 0);                                           \
	} while (0)

static void prep_read(struct iocb *cb)
{
	io_prep_pread(cb, fd, buf, 512, 0);
}

static void call_level(void)
{
	struct iocb cb, *cbs[1] = {&cb};
	struct iocb **none = v_guarded(sysconf(_SC_PAGESIZE), PROT_NONE);
	io_context_t fake = (io_context_t)calloc(1, 4096);

	prep_read(&cb);
	/* nr < 0 is refused before the context is looked up. */
	V_RET(io_submit(ctx, -1, cbs), -EINVAL);
	V_RET(io_submit(ctx, LONG_MIN, cbs), -EINVAL);
	V_RET(io_submit(NULL, -1, NULL), -EINVAL);
	/* Bad contexts, before the array is read and before nr == 0. */
	V_RET(io_submit(NULL, 1, cbs), -EINVAL);
	V_RET(io_submit((io_context_t)~0ul, 1, cbs), -EINVAL);
	V_RET(io_submit(fake, 1, cbs), -EINVAL);
	V_RET(io_submit(NULL, 1, NULL), -EINVAL);
	V_RET(io_submit(NULL, 0, NULL), -EINVAL);
	/* nr == 0 reads nothing. */
	V_RET(io_submit(ctx, 0, NULL), 0);
	V_RET(io_submit(ctx, 0, none), 0);
	/* The pointer array, then each iocb. */
	V_RET(io_submit(ctx, 1, NULL), -EFAULT);
	V_RET(io_submit(ctx, 2, NULL), -EFAULT);
	V_RET(io_submit(ctx, 1, none), -EFAULT);
	V_RET(io_submit(ctx, 1, (struct iocb **)V_KERNEL_ADDR), -EFAULT);
	{
		struct iocb *entries[1] = {NULL};
		V_RET(io_submit(ctx, 1, entries), -EFAULT);
		entries[0] = (struct iocb *)none;
		V_RET(io_submit(ctx, 1, entries), -EFAULT);
		entries[0] = V_KERNEL_ADDR;
		V_RET(io_submit(ctx, 1, entries), -EFAULT);
	}
	{
		/* An iocb whose last bytes are unreadable. */
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *area = v_guarded(page, PROT_READ | PROT_WRITE);
		struct iocb *tail = (struct iocb *)(area + page - 32);
		V_RET(io_submit(ctx, 1, &tail), -EFAULT);
		munmap(area, 2 * page);
	}
	{
		/* The same at the end of the brk heap; an iocb that ends
		 * exactly there is read; and a pointer array that runs past
		 * it submits the entries before the end. */
		struct iocb *tail = v_brk_tail(32), *exact, **arr;
		if (tail)
			V_RET(io_submit(ctx, 1, &tail), -EFAULT);
		exact = v_brk_tail(sizeof(*exact));
		if (exact) {
			prep_read(exact);
			V_RET(io_submit(ctx, 1, &exact), 1);
			drain_one();
		}
		prep_read(&cb);
		arr = v_brk_tail(sizeof(*arr));
		if (arr) {
			*arr = &cb;
			V_RET(io_submit(ctx, 2, arr), 1);
			drain_one();
		}
	}
	{
		/*
		 * Entries are read one by one, up to the first that fails:
		 * an array may end there, with a larger nr (nothing past it
		 * is read, which AddressSanitizer checks here).
		 */
		struct iocb bad, *ends[2] = {&cb, NULL}, *one[1] = {&bad};
		prep_read(&cb);
		V_RET(io_submit(ctx, LONG_MAX, ends), 1);
		drain_one();
		prep_read(&bad);
		bad.aio_lio_opcode = 100;
		ends[0] = &bad;
		V_RET(io_submit(ctx, LONG_MAX, ends), -EINVAL);
		V_RET(io_submit(ctx, 8, one), -EINVAL);
		ends[0] = NULL;
		V_RET(io_submit(ctx, 8, ends), -EFAULT);
	}
	free(fake);
}

/*
 * On a signal handler's own stack (as on a coroutine's), the memory between
 * that stack and the thread's stack is no stack at all: an iocb pointer into
 * an inaccessible page right above the handler's stack is EFAULT.
 */
static struct iocb *alt_probe;
static volatile long alt_ret;

static void alt_handler(int sig)
{
	struct iocb *p = alt_probe;

	(void)sig;
	alt_ret = io_submit(ctx, 1, &p);
}

static void signal_stack(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size = 64 * 1024;
	char *area = v_guarded(size, PROT_READ | PROT_WRITE);
	stack_t ss = {.ss_sp = area, .ss_size = size}, old_ss;
	struct sigaction sa = {.sa_handler = alt_handler,
			       .sa_flags = SA_ONSTACK},
			 old_sa;

	alt_probe = (struct iocb *)(area + size);
	alt_ret = 1;
	T_EQ(sigaltstack(&ss, &old_ss), 0);
	T_EQ(sigaction(SIGUSR2, &sa, &old_sa), 0);
	T_EQ(raise(SIGUSR2), 0);
	V_EQ(alt_ret, -EFAULT);
	T_EQ(sigaction(SIGUSR2, &old_sa, NULL), 0);
	T_EQ(sigaltstack(&old_ss, NULL), 0);
	munmap(area, size + page);
}

static void per_iocb_order(void)
{
	struct iocb cb;

	/* reserved2 and nbytes come before the fd, and keep the key. */
	prep_read(&cb);
	cb.u.c.__pad3 = 1;
	REJECT(&cb, -EINVAL, 0);
	cb.aio_fildes = -1;
	REJECT(&cb, -EINVAL, 0);
	prep_read(&cb);
	cb.u.c.nbytes = 1ul << 63;
	REJECT(&cb, -EINVAL, 0);
	cb.u.c.nbytes = ~0ul;
	REJECT(&cb, -EINVAL, 0);
	cb.aio_fildes = -1;
	REJECT(&cb, -EINVAL, 0);
	io_prep_fsync(&cb, fd);
	cb.u.c.nbytes = 1ul << 63;
	REJECT(&cb, -EINVAL, 0);
	io_prep_pread(&cb, fd, buf, 1ul << 63, 0);
	cb.aio_lio_opcode = 100;
	REJECT(&cb, -EINVAL, 0);

	/* The fd: before the eventfd, the key and the opcode. */
	prep_read(&cb);
	cb.aio_fildes = -1;
	REJECT(&cb, -EBADF, 0);
	cb.aio_fildes = 1000000;
	REJECT(&cb, -EBADF, 0);
	cb.aio_fildes = INT_MAX;
	REJECT(&cb, -EBADF, 0);
	cb.aio_lio_opcode = 100;
	REJECT(&cb, -EBADF, 0);
	prep_read(&cb);
	cb.aio_fildes = -1;
	io_set_eventfd(&cb, pfd[0]);
	REJECT(&cb, -EBADF, 0);

	/* RESFD: a bad fd is EBADF, a non-eventfd EINVAL; key kept. */
	prep_read(&cb);
	io_set_eventfd(&cb, -1);
	REJECT(&cb, -EBADF, 0);
	cb.aio_lio_opcode = 100;
	REJECT(&cb, -EBADF, 0);
	prep_read(&cb);
	io_set_eventfd(&cb, pfd[0]);
	REJECT(&cb, -EINVAL, 0);
	prep_read(&cb);
	io_set_eventfd(&cb, fd);
	REJECT(&cb, -EINVAL, 0);
	/* ...before rw_flags (EOPNOTSUPP) are looked at. */
	cb.aio_rw_flags = V_RWF_UNKNOWN;
	REJECT(&cb, -EINVAL, 0);
	/* An O_PATH descriptor is no file to eventfd_ctx_fdget(): EBADF,
	 * for an eventfd as for a regular file. */
	{
		char path[64];
		int opath;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		opath = open(path, O_PATH | O_CLOEXEC);
		T_ASSERT(opath >= 0);
		prep_read(&cb);
		io_set_eventfd(&cb, opath);
		REJECT(&cb, -EBADF, 0);
		close(opath);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", efd);
		opath = open(path, O_PATH | O_CLOEXEC);
		T_ASSERT(opath >= 0);
		prep_read(&cb);
		io_set_eventfd(&cb, opath);
		REJECT(&cb, -EBADF, 0);
		close(opath);
	}
	/* Without the flag, resfd is ignored. */
	prep_read(&cb);
	cb.u.c.resfd = (unsigned)-1;
	ACCEPT(&cb, 512);

	/* Unknown opcodes, after the key was written. */
	{
		static const short ops[] = {4,	 IO_CMD_NOOP, 9,
					    100, -1,	      SHRT_MAX};
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			prep_read(&cb);
			cb.aio_lio_opcode = ops[i];
			REJECT(&cb, -EINVAL, 1);
		}
	}
}

static void readonly_iocb(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct iocb *cb = v_guarded(page, PROT_READ | PROT_WRITE);
	struct iocb *cbs[1] = {cb};

	/* The key store faults: EFAULT, after the fd check only. */
	prep_read(cb);
	cb->key = KEY_MARK;
	T_ASSERT(mprotect(cb, page, PROT_READ) == 0);
	V_RET(io_submit(ctx, 1, cbs), -EFAULT);
	V_EQ(cb->key, KEY_MARK);
	T_ASSERT(mprotect(cb, page, PROT_READ | PROT_WRITE) == 0);
	cb->aio_lio_opcode = 100;
	T_ASSERT(mprotect(cb, page, PROT_READ) == 0);
	V_RET(io_submit(ctx, 1, cbs), -EFAULT);
	T_ASSERT(mprotect(cb, page, PROT_READ | PROT_WRITE) == 0);
	cb->aio_fildes = -1;
	T_ASSERT(mprotect(cb, page, PROT_READ) == 0);
	V_RET(io_submit(ctx, 1, cbs), -EBADF);
	T_ASSERT(mprotect(cb, page, PROT_READ | PROT_WRITE) == 0);
	io_prep_fsync(cb, fd);
	cb->u.c.__pad3 = 7;
	T_ASSERT(mprotect(cb, page, PROT_READ) == 0);
	V_RET(io_submit(ctx, 1, cbs), -EINVAL);
	munmap(cb, 2 * page);
}

/* Whether the RT I/O class is allowed: CAP_SYS_ADMIN or CAP_SYS_NICE. */
static bool may_use_rt(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[0].effective &
	       ((1u << CAP_SYS_ADMIN) | (1u << CAP_SYS_NICE));
}

static void ioprio(void)
{
	struct iocb cb;

	/* Invalid classes (4..7) with IOPRIO: EINVAL, key written. */
	for (int class = 4; class <= 7; class ++) {
		prep_read(&cb);
		cb.u.c.flags = IOCB_FLAG_IOPRIO;
		cb.aio_reqprio = PRIO(class, 0);
		REJECT(&cb, -EINVAL, 1);
	}
	/* The NONE class takes no level. */
	prep_read(&cb);
	cb.u.c.flags = IOCB_FLAG_IOPRIO;
	cb.aio_reqprio = PRIO(0, 3);
	REJECT(&cb, -EINVAL, 1);
	/* IOPRIO is checked before rw_flags. */
	prep_read(&cb);
	cb.u.c.flags = IOCB_FLAG_IOPRIO;
	cb.aio_reqprio = PRIO(7, 0);
	cb.aio_rw_flags = V_RWF_UNKNOWN;
	REJECT(&cb, -EINVAL, 1);
	/* Valid classes; RT needs CAP_SYS_ADMIN or CAP_SYS_NICE. */
	{
		static const short ok[] = {PRIO(0, 0), PRIO(1, 0), PRIO(1, 7),
					   PRIO(2, 0), PRIO(2, 7), PRIO(3, 0)};
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			if (!may_use_rt() && (ok[i] >> 13) == 1)
				continue;
			prep_read(&cb);
			cb.u.c.flags = IOCB_FLAG_IOPRIO;
			cb.aio_reqprio = ok[i];
			ACCEPT(&cb, 512);
		}
	}
	/* aio_reqprio is ignored without the flag. */
	prep_read(&cb);
	cb.aio_reqprio = -1;
	ACCEPT(&cb, 512);
	prep_read(&cb);
	cb.aio_reqprio = PRIO(7, 0);
	ACCEPT(&cb, 512);
	/* FSYNC and POLL never look at the priority. */
	io_prep_fsync(&cb, fd);
	cb.u.c.flags = IOCB_FLAG_IOPRIO;
	cb.aio_reqprio = PRIO(7, 0);
	ACCEPT(&cb, 0);
}

/* In a child without CAP_SYS_ADMIN and CAP_SYS_NICE, RT is EPERM. */
static int ioprio_unprivileged_child(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	unsigned drop = (1u << CAP_SYS_ADMIN) | (1u << CAP_SYS_NICE);
	struct iocb cb;

	v_failures = 0; /* count this child's own */
	if (syscall(SYS_capget, &hdr, data))
		return 10;
	data[0].effective &= ~drop;
	data[0].permitted &= ~drop;
	data[0].inheritable &= ~drop;
	if (syscall(SYS_capset, &hdr, data))
		return 11;
	ctx = NULL;
	if (io_setup(4, &ctx))
		return 12;
	prep_read(&cb);
	cb.u.c.flags = IOCB_FLAG_IOPRIO;
	cb.aio_reqprio = PRIO(1, 4);
	REJECT(&cb, -EPERM, 1);
	cb.aio_reqprio = PRIO(2, 4);
	ACCEPT(&cb, 512);
	cb.aio_reqprio = PRIO(3, 0);
	ACCEPT(&cb, 512);
	/* The class check comes first. */
	cb.aio_reqprio = PRIO(7, 0);
	REJECT(&cb, -EINVAL, 1);
	if (io_destroy(ctx))
		return 13;
	return v_failures ? 14 : 0;
}

static void ioprio_unprivileged(void)
{
	int status;
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(ioprio_unprivileged_child());
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_ASSERT(WIFEXITED(status));
	V_EQ(WEXITSTATUS(status), 0);
}

static void rw_checks(void)
{
	struct iocb cb;
	struct iovec iov = {buf, 512};

	/* rw_flags: bits the kernel does not know are EOPNOTSUPP. */
	prep_read(&cb);
	cb.aio_rw_flags = V_RWF_UNKNOWN;
	REJECT(&cb, -EOPNOTSUPP, 1);
	cb.aio_rw_flags = 0x40000000u | RWF_HIPRI;
	REJECT(&cb, -EOPNOTSUPP, 1);
	cb.aio_rw_flags = ~0u;
	REJECT(&cb, -EOPNOTSUPP, 1);
	/* ...before the fd's mode. */
	io_prep_pread(&cb, wrfd, buf, 512, 0);
	cb.aio_rw_flags = V_RWF_UNKNOWN;
	REJECT(&cb, -EOPNOTSUPP, 1);
	/* Contradictory or misplaced known flags. */
	io_prep_pwrite(&cb, fd, buf, 512, 0);
	cb.aio_rw_flags = RWF_APPEND | V_RWF_NOAPPEND;
	REJECT(&cb, -EINVAL, 1);
	io_prep_preadv2(&cb, fd, &iov, 1, 0, V_RWF_ATOMIC);
	REJECT(&cb, -EOPNOTSUPP, 1);
	/*
	 * RWF_NOWAIT on a buffered write: refused by io_submit only where the
	 * file takes no RWF_NOWAIT at all (reads tell); else the write path
	 * answers in the event, ext4's with EOPNOTSUPP, whatever sync flag
	 * comes with it.
	 */
	for (int k = 0; k < 3; k++) {
		static const int sync_flags[] = {0, 0x2 /* RWF_DSYNC */,
						 0x4 /* RWF_SYNC */};
		struct iocb *cbs[1] = {&cb};
		struct timespec t = {5, 0};
		struct io_event ev;
		struct statfs sf;
		char byte;
		bool takes = preadv2(fd, &(struct iovec){&byte, 1}, 1, 0,
				     RWF_NOWAIT) >= 0 ||
			     errno != EOPNOTSUPP;
		long long r;

		io_prep_pwrite(&cb, fd, buf, 512, 0);
		cb.aio_rw_flags = RWF_NOWAIT | sync_flags[k];
		r = V_CALL(io_submit(ctx, 1, cbs));
		if (!takes) {
			V_EQ(r, -EOPNOTSUPP);
		} else if (r != 1) {
			V_FAIL("NOWAIT write: io_submit = %lld, expected 1", r);
		} else if (io_getevents(ctx, 1, 1, &ev, &t) != 1) {
			V_FAIL("no event for the NOWAIT write");
		} else if (fstatfs(fd, &sf) == 0 && sf.f_type == 0xEF53) {
			V_EQ((long)ev.res, -EOPNOTSUPP);
		} else if ((long)ev.res != 512 && (long)ev.res != -EAGAIN &&
			   (long)ev.res != -EOPNOTSUPP) {
			V_FAIL("NOWAIT write: res %ld", (long)ev.res);
		}
	}
	/* HIPRI is accepted and dropped: nobody polls for AIO. */
	io_prep_preadv2(&cb, fd, &iov, 1, 0, RWF_HIPRI);
	ACCEPT(&cb, 512);

	/* The fd's mode, after the key store. */
	io_prep_pread(&cb, wrfd, buf, 512, 0);
	REJECT(&cb, -EBADF, 1);
	io_prep_preadv(&cb, wrfd, &iov, 1, 0);
	REJECT(&cb, -EBADF, 1);
	io_prep_pwrite(&cb, rdfd, buf, 512, 0);
	REJECT(&cb, -EBADF, 1);
	io_prep_pwritev(&cb, rdfd, &iov, 1, 0);
	REJECT(&cb, -EBADF, 1);
	/* ...before the offset. */
	io_prep_pread(&cb, wrfd, buf, 512, -1);
	REJECT(&cb, -EBADF, 1);

	/* The file range. */
	io_prep_pread(&cb, fd, buf, 512, -1);
	REJECT(&cb, -EINVAL, 1);
	io_prep_pwrite(&cb, fd, buf, 512, LLONG_MIN);
	REJECT(&cb, -EINVAL, 1);
	io_prep_pread(&cb, fd, buf, 512, LLONG_MAX - 100);
	REJECT(&cb, -EINVAL, 1);
	io_prep_preadv(&cb, fd, &iov, 1, -4096);
	REJECT(&cb, -EINVAL, 1);

	/* A buffer in the kernel's half fails io_submit itself... */
	io_prep_pread(&cb, fd, V_KERNEL_ADDR, 512, 0);
	REJECT(&cb, -EFAULT, 1);
	io_prep_pwrite(&cb, fd, V_KERNEL_ADDR, 512, 0);
	REJECT(&cb, -EFAULT, 1);
	/* ...before the offset is checked. */
	io_prep_pread(&cb, fd, V_KERNEL_ADDR, 512, -1);
	REJECT(&cb, -EFAULT, 1);
	/* A NULL buffer passes the range check, so the offset fails. */
	io_prep_pread(&cb, fd, NULL, 512, -1);
	REJECT(&cb, -EINVAL, 1);

	/* The iovec array is copied at submit time. */
	io_prep_preadv(&cb, fd, NULL, 1, 0);
	REJECT(&cb, -EFAULT, 1);
	io_prep_preadv(&cb, fd, V_KERNEL_ADDR, 1, 0);
	REJECT(&cb, -EFAULT, 1);
	io_prep_pwritev(&cb, fd, NULL, 1, 0);
	REJECT(&cb, -EFAULT, 1);
	io_prep_preadv(&cb, fd, &iov, 1025, 0);
	REJECT(&cb, -EINVAL, 1);
	{
		struct iovec kiov = {V_KERNEL_ADDR, 512};
		io_prep_preadv(&cb, fd, &kiov, 1, 0);
		REJECT(&cb, -EFAULT, 1);
	}
	io_prep_preadv(&cb, fd, &iov, 0, 0);
	ACCEPT(&cb, 0);

	/*
	 * With two segments or more, each one's range must lie in user
	 * space (EFAULT at submit); a single segment is clamped to
	 * MAX_RW_COUNT first and then simply reads until it faults.  The
	 * buffer is a page before a guard page, so a wrong acceptance shows
	 * as a short read rather than as corruption.
	 */
	{
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *area = v_guarded(page, PROT_READ | PROT_WRITE);
		struct iovec two[2] = {{area, 16}, {area, 1ul << 62}};

		io_prep_preadv(&cb, fd, two, 2, 0);
		REJECT(&cb, -EFAULT, 1);
		two[0].iov_len = 1ul << 62;
		two[1].iov_len = 0;
		io_prep_preadv(&cb, fd, two, 2, 0);
		REJECT(&cb, -EFAULT, 1);
		/* Clear of what accepted() reads back, if written. */
		io_prep_pwritev(&cb, fd, two, 2, 32768);
		REJECT(&cb, -EFAULT, 1);
		/* A segment length that is negative as ssize_t: EINVAL. */
		two[0].iov_len = 16;
		two[1].iov_len = 1ul << 63;
		io_prep_preadv(&cb, fd, two, 2, 0);
		REJECT(&cb, -EINVAL, 1);
		/* Every length is checked before any pointer. */
		two[0].iov_base = V_KERNEL_ADDR;
		io_prep_preadv(&cb, fd, two, 2, 0);
		REJECT(&cb, -EINVAL, 1);
		io_prep_pwritev(&cb, fd, two, 2, 32768);
		REJECT(&cb, -EINVAL, 1);
		two[0].iov_base = area;
		io_prep_preadv(&cb, fd, two, 1, 0);
		ACCEPT(&cb, 16);
		two[0].iov_len = 1ul << 62;
		io_prep_preadv(&cb, fd, two, 1, 0);
		ACCEPT(&cb, (long)page);
		/* The array is read a segment at a time: a negative length
		 * in the one before the guard page is EINVAL, a good one
		 * EFAULT. */
		{
			struct iovec *edge = (struct iovec *)(area + page) - 1;

			*edge = (struct iovec){buf, (size_t)-5};
			io_prep_preadv(&cb, fd, edge, 2, 0);
			REJECT(&cb, -EINVAL, 1);
			edge->iov_len = 64;
			io_prep_preadv(&cb, fd, edge, 2, 0);
			REJECT(&cb, -EFAULT, 1);
		}
		munmap(area, 2 * page);
	}
	/* The segment count is an unsigned int to import_iovec(). */
	{
		struct iovec segs[2] = {{buf, 512}, {buf, 512}};

		io_prep_preadv(&cb, fd, segs, 2, 0);
		cb.u.c.nbytes = (1ul << 32) | 1;
		ACCEPT(&cb, 512);
		io_prep_preadv(&cb, fd, segs, 2, 0);
		cb.u.c.nbytes = 1ul << 32;
		ACCEPT(&cb, 0);
	}
	/* Access mode 3 (ioctl()s only): neither read nor write. */
	{
		int none = t_reopen(fd, O_ACCMODE);

		io_prep_pread(&cb, none, buf, 512, 0);
		REJECT(&cb, -EBADF, 1);
		io_prep_pwrite(&cb, none, buf, 512, 0);
		REJECT(&cb, -EBADF, 1);
		close(none);
	}
}

static void sync_and_poll_fields(void)
{
	struct iocb cb;

	for (int op = IO_CMD_FSYNC; op <= IO_CMD_FDSYNC; op++) {
		io_prep_fsync(&cb, fd);
		cb.aio_lio_opcode = op;
		ACCEPT(&cb, 0);
		/* fsync works on a read-only fd. */
		io_prep_fsync(&cb, rdfd);
		cb.aio_lio_opcode = op;
		ACCEPT(&cb, 0);
		io_prep_fsync(&cb, fd);
		cb.aio_lio_opcode = op;
		cb.u.c.buf = (void *)1;
		REJECT(&cb, -EINVAL, 1);
		io_prep_fsync(&cb, fd);
		cb.aio_lio_opcode = op;
		cb.u.c.offset = 1;
		REJECT(&cb, -EINVAL, 1);
		io_prep_fsync(&cb, fd);
		cb.aio_lio_opcode = op;
		cb.u.c.nbytes = 1;
		REJECT(&cb, -EINVAL, 1);
		/* Any rw_flags, even unknown ones: EINVAL, not EOPNOTSUPP. */
		io_prep_fsync(&cb, fd);
		cb.aio_lio_opcode = op;
		cb.aio_rw_flags = V_RWF_UNKNOWN;
		REJECT(&cb, -EINVAL, 1);
		io_prep_fsync(&cb, fd);
		cb.aio_lio_opcode = op;
		cb.aio_rw_flags = 4; /* RWF_SYNC */
		REJECT(&cb, -EINVAL, 1);
		/* A pipe has no fsync. */
		io_prep_fsync(&cb, pfd[1]);
		cb.aio_lio_opcode = op;
		REJECT(&cb, -EINVAL, 1);
		/* Nor has a regular file of procfs. */
		{
			int proc = open("/proc/self/stat", O_RDONLY);

			T_ASSERT(proc >= 0);
			io_prep_fsync(&cb, proc);
			cb.aio_lio_opcode = op;
			REJECT(&cb, -EINVAL, 1);
			close(proc);
		}
	}

	/* POLL: the mask must fit 16 bits; nothing else may be set. */
	io_prep_poll(&cb, pfd[0], POLLIN);
	cb.u.c.buf = (void *)0x10001ul;
	REJECT(&cb, -EINVAL, 1);
	io_prep_poll(&cb, pfd[0], POLLIN);
	cb.u.c.buf = (void *)(0x1ul | (1ul << 40));
	REJECT(&cb, -EINVAL, 1);
	io_prep_poll(&cb, pfd[0], POLLIN);
	cb.u.c.offset = 1;
	REJECT(&cb, -EINVAL, 1);
	io_prep_poll(&cb, pfd[0], POLLIN);
	cb.u.c.nbytes = 1;
	REJECT(&cb, -EINVAL, 1);
	io_prep_poll(&cb, pfd[0], POLLIN);
	cb.aio_rw_flags = V_RWF_UNKNOWN;
	REJECT(&cb, -EINVAL, 1);
	/* The write end is writable now: the mask comes back. */
	io_prep_poll(&cb, pfd[1], POLLOUT);
	ACCEPT(&cb, POLLOUT);

	/*
	 * A file without a poll method (a regular file, a directory,
	 * /dev/null) is always ready for POLLIN and POLLOUT; asked for
	 * neither, aio_poll() refuses it rather than wait for ever.
	 */
	{
		static const short none[] = {0, POLLHUP, POLLPRI, POLLERR,
					     POLLRDHUP};
		int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int fds[] = {fd, dir, null};

		T_ASSERT(dir >= 0 && null >= 0);
		for (size_t f = 0; f < sizeof(fds) / sizeof(fds[0]); f++) {
			for (size_t i = 0; i < sizeof(none) / sizeof(none[0]);
			     i++) {
				io_prep_poll(&cb, fds[f], none[i]);
				REJECT(&cb, -EINVAL, 1);
			}
			io_prep_poll(&cb, fds[f], POLLIN | POLLHUP);
			ACCEPT(&cb, POLLIN);
		}
		close(dir);
		close(null);
	}
}

/*
 * The file's methods come before the buffers and the length: a file with
 * no read_iter or write_iter (a directory, epoll) is refused even with a
 * buffer in the kernel's half or nothing to transfer, and per-file flags
 * before that; an empty transfer still reaches the file (an eventfd wants
 * 8 bytes, a socket whose peer is gone says EPIPE).
 */
static void file_methods(void)
{
	struct iocb cb;
	char *kbuf = V_KERNEL_ADDR;
	int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int sv[2];
	void (*old)(int);

	T_ASSERT(dir >= 0 && ep >= 0);
	io_prep_pread(&cb, dir, kbuf, 512, 0);
	REJECT(&cb, -EINVAL, 1);
	io_prep_pread(&cb, dir, buf, 0, 0);
	REJECT(&cb, -EINVAL, 1);
	io_prep_pread(&cb, dir, buf, 0, 0);
	cb.aio_rw_flags = RWF_NOWAIT;
	REJECT(&cb, -EOPNOTSUPP, 1);
	io_prep_pread(&cb, ep, kbuf, 512, 0);
	REJECT(&cb, -EINVAL, 1);
	io_prep_pwrite(&cb, ep, kbuf, 512, 0);
	REJECT(&cb, -EINVAL, 1);
	io_prep_pwrite(&cb, ep, buf, 0, 0);
	REJECT(&cb, -EINVAL, 1);

	io_prep_pread(&cb, efd, buf, 0, 0);
	ACCEPT(&cb, -EINVAL);
	/* RWF_ATOMIC needs a file that can, whatever the length. */
	io_prep_pwrite(&cb, fd, buf, 0, 0);
	cb.aio_rw_flags = V_RWF_ATOMIC;
	REJECT(&cb, -EOPNOTSUPP, 1);

	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	io_prep_pwrite(&cb, sv[0], buf, 0, 0);
	ACCEPT(&cb, 0);
	close(sv[1]);
	old = signal(SIGPIPE, SIG_IGN);
	io_prep_pwrite(&cb, sv[0], buf, 0, 0);
	ACCEPT(&cb, -EPIPE);
	signal(SIGPIPE, old);
	close(sv[0]);
	close(dir);
	close(ep);
}

static void accepted(void)
{
	struct iocb cb;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *ro = v_guarded(page, PROT_READ);
	char *none = v_guarded(page, PROT_NONE);
	uint64_t n;

	/* Bytes, data and obj come back; res2 is 0. */
	prep_read(&cb);
	ACCEPT(&cb, 512);
	for (int i = 0; i < 512; i++)
		V_EQ((unsigned char)buf[i], t_pattern(i));
	io_prep_pread(&cb, fd, buf, 4096, 65536 - 100);
	ACCEPT(&cb, 100);
	io_prep_pread(&cb, fd, buf, 4096, 1 << 20);
	ACCEPT(&cb, 0);
	io_prep_pwrite(&cb, fd, buf, 512, 0);
	ACCEPT(&cb, 512);
	/* Nothing to transfer: no buffer needed. */
	io_prep_pread(&cb, fd, NULL, 0, 0);
	ACCEPT(&cb, 0);
	io_prep_pwrite(&cb, fd, NULL, 0, 4096);
	ACCEPT(&cb, 0);

	/* Bad user buffers fail in the event, not in io_submit. */
	io_prep_pread(&cb, fd, NULL, 512, 0);
	ACCEPT(&cb, -EFAULT);
	io_prep_pread(&cb, fd, ro, 512, 0);
	ACCEPT(&cb, -EFAULT);
	io_prep_pread(&cb, fd, none, 512, 0);
	ACCEPT(&cb, -EFAULT);
	io_prep_pwrite(&cb, fd, NULL, 512, 0);
	ACCEPT(&cb, -EFAULT);
	io_prep_pwrite(&cb, fd, none, 512, 0);
	ACCEPT(&cb, -EFAULT);
	{
		struct iovec iov = {NULL, 512};
		io_prep_preadv(&cb, fd, &iov, 1, 0);
		ACCEPT(&cb, -EFAULT);
	}

	/* Unknown flag bits are ignored; so is the key's old value. */
	prep_read(&cb);
	cb.u.c.flags = ~(IOCB_FLAG_RESFD | IOCB_FLAG_IOPRIO);
	ACCEPT(&cb, 512);

	/* An eventfd gets one count per completion. */
	prep_read(&cb);
	io_set_eventfd(&cb, efd);
	ACCEPT(&cb, 512);
	T_ASSERT(read(efd, &n, sizeof(n)) == sizeof(n));
	V_EQ(n, 1);

	munmap(ro, 2 * page);
	munmap(none, 2 * page);
}

int main(void)
{
	struct timespec zero = {0, 0};
	struct io_event ev;

	ctx = t_setup(16);
	fd = t_scratch_file(65536, 0);
	rdfd = t_reopen(fd, O_RDONLY);
	wrfd = t_reopen(fd, O_WRONLY);
	T_ASSERT(pipe(pfd) == 0);
	efd = eventfd(0, EFD_NONBLOCK);
	T_ASSERT(efd >= 0);
	buf = t_aligned(4096, 4096);

	call_level();
	signal_stack();
	per_iocb_order();
	readonly_iocb();
	ioprio();
	rw_checks();
	sync_and_poll_fields();
	file_methods();
	accepted();
	if (may_use_rt())
		ioprio_unprivileged();

	/* No rejected iocb left an event behind. */
	V_RET(io_getevents(ctx, 0, 1, &ev, &zero), 0);
	V_RET(io_destroy(ctx), 0);
	return 0;
}
