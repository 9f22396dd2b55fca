/*
 * libaio.h - the libaio 0.3.113 API and ABI, as provided by uaio.
 *
 * Every type here is byte-identical to the system's <libaio.h> and to the
 * kernel's <linux/aio_abi.h>; src/abi-check.c asserts each offset.  The
 * helpers are static inline, as in libaio, so they are compiled into callers.
 *
 * Every function returns >= 0 on success and a negative errno on failure;
 * errno is never changed.
 */
#ifndef __LIBAIO_H
#define __LIBAIO_H

#ifdef __cplusplus
extern "C" {
#endif

#include <signal.h>
#include <string.h>
#include <sys/types.h>

struct timespec;
struct sockaddr;
struct iovec;

typedef struct io_context *io_context_t;

typedef enum io_iocb_cmd {
	IO_CMD_PREAD = 0,
	IO_CMD_PWRITE = 1,
	IO_CMD_FSYNC = 2,
	IO_CMD_FDSYNC = 3,
	IO_CMD_POLL = 5,
	IO_CMD_NOOP = 6,
	IO_CMD_PREADV = 7,
	IO_CMD_PWRITEV = 8,
} io_iocb_cmd_t;

/*
 * Pointers and longs are padded to 64 bits on 32-bit targets so that the
 * layout the kernel sees is the same everywhere.
 */
/* clang-format off */
#if defined(__i386__) || (defined(__arm__) && !defined(__ARMEB__)) ||        \
	(defined(__sh__) && defined(__LITTLE_ENDIAN__)) ||                     \
	(defined(__mips__) && defined(__MIPSEL__) && !defined(__LP64__)) ||    \
	(defined(__riscv) && __riscv_xlen == 32) ||                            \
	(defined(__x86_64__) && defined(__ILP32__))
#define PADDED(x, y) x; unsigned y
#define PADDEDptr(x, y) x; unsigned y
#define PADDEDul(x, y) unsigned long x; unsigned y
#elif defined(__x86_64__) || defined(__aarch64__) && !defined(__AARCH64EB__) || \
	defined(__ia64__) || defined(__alpha__) ||                             \
	(defined(__mips__) && defined(__MIPSEL__) && defined(__LP64__)) ||     \
	(defined(__riscv) && __riscv_xlen == 64) || defined(__loongarch64) ||  \
	(defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define PADDED(x, y) x, y
#define PADDEDptr(x, y) x
#define PADDEDul(x, y) unsigned long x
#elif defined(__powerpc64__) || defined(__s390x__) ||                         \
	(defined(__sparc__) && defined(__arch64__)) ||                         \
	(defined(__aarch64__) && defined(__AARCH64EB__)) ||                    \
	(defined(__mips__) && defined(__MIPSEB__) && defined(__LP64__))
#define PADDED(x, y) unsigned y; x
#define PADDEDptr(x, y) x
#define PADDEDul(x, y) unsigned long x
#elif defined(__PPC__) || defined(__s390__) ||                                \
	(defined(__arm__) && defined(__ARMEB__)) || defined(__sparc__) ||      \
	(defined(__mips__) && defined(__MIPSEB__) && !defined(__LP64__)) ||    \
	(defined(__sh__) && defined(__BIG_ENDIAN__)) || defined(__m68k__)
#define PADDED(x, y) unsigned y; x
#define PADDEDptr(x, y) unsigned y; x
#define PADDEDul(x, y) unsigned y; unsigned long x
#else
#error "libaio.h: unknown endianness or word size"
#endif
/* clang-format on */

struct io_iocb_poll {
	PADDED(int events, __pad1);
}; /* result: the ready mask, or -errno */

struct io_iocb_sockaddr {
	PADDEDptr(struct sockaddr *addr, __pad1);
	PADDEDul(len, __pad2);
}; /* result: the sockaddr length, or -errno */

struct io_iocb_common {
	PADDEDptr(void *buf, __pad1);
	PADDEDul(nbytes, __pad2);
	long long offset;
	long long __pad3; /* the kernel's aio_reserved2: must be 0 */
	unsigned flags;	  /* IOCB_FLAG_RESFD, IOCB_FLAG_IOPRIO */
	unsigned resfd;
}; /* result: bytes transferred, or -errno */

struct io_iocb_vector {
	PADDEDptr(const struct iovec *vec, __pad1);
	PADDEDul(nr, __pad2);
	long long offset;
}; /* result: bytes transferred, or -errno */

struct iocb {
	PADDEDptr(void *data, __pad1);	    /* returned in io_event.data */
	PADDED(unsigned key, aio_rw_flags); /* key: written 0 on submit */

	short aio_lio_opcode;
	short aio_reqprio;
	int aio_fildes;

	union {
		struct io_iocb_common c;
		struct io_iocb_vector v;
		struct io_iocb_poll poll;
		struct io_iocb_sockaddr saddr;
	} u;
};

struct io_event {
	PADDEDptr(void *data, __pad1);
	PADDEDptr(struct iocb *obj, __pad2);
	PADDEDul(res, __pad3);
	PADDEDul(res2, __pad4);
};

#undef PADDED
#undef PADDEDptr
#undef PADDEDul

typedef void (*io_callback_t)(io_context_t ctx, struct iocb *iocb, long res,
			      long res2);

/* Library wrappers. */
extern int io_queue_init(int maxevents, io_context_t *ctxp);
extern int io_queue_release(io_context_t ctx);
extern int io_queue_run(io_context_t ctx);

/* The system calls, in libaio's calling convention. */
extern int io_setup(int maxevents, io_context_t *ctxp);
extern int io_destroy(io_context_t ctx);
extern int io_submit(io_context_t ctx, long nr, struct iocb *ios[]);
extern int io_cancel(io_context_t ctx, struct iocb *iocb, struct io_event *evt);
extern int io_getevents(io_context_t ctx_id, long min_nr, long nr,
			struct io_event *events, struct timespec *timeout);
extern int io_pgetevents(io_context_t ctx_id, long min_nr, long nr,
			 struct io_event *events, struct timespec *timeout,
			 sigset_t *sigmask);

static inline void io_set_callback(struct iocb *iocb, io_callback_t cb)
{
	iocb->data = (void *)cb;
}

static inline void io_prep_pread(struct iocb *iocb, int fd, void *buf,
				 size_t count, long long offset)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_PREAD;
	iocb->aio_reqprio = 0;
	iocb->u.c.buf = buf;
	iocb->u.c.nbytes = count;
	iocb->u.c.offset = offset;
}

static inline void io_prep_pwrite(struct iocb *iocb, int fd, void *buf,
				  size_t count, long long offset)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_PWRITE;
	iocb->aio_reqprio = 0;
	iocb->u.c.buf = buf;
	iocb->u.c.nbytes = count;
	iocb->u.c.offset = offset;
}

static inline void io_prep_preadv(struct iocb *iocb, int fd,
				  const struct iovec *iov, int iovcnt,
				  long long offset)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_PREADV;
	iocb->aio_reqprio = 0;
	iocb->u.c.buf = (void *)iov;
	iocb->u.c.nbytes = iovcnt;
	iocb->u.c.offset = offset;
}

static inline void io_prep_pwritev(struct iocb *iocb, int fd,
				   const struct iovec *iov, int iovcnt,
				   long long offset)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_PWRITEV;
	iocb->aio_reqprio = 0;
	iocb->u.c.buf = (void *)iov;
	iocb->u.c.nbytes = iovcnt;
	iocb->u.c.offset = offset;
}

static inline void io_prep_preadv2(struct iocb *iocb, int fd,
				   const struct iovec *iov, int iovcnt,
				   long long offset, int flags)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_PREADV;
	iocb->aio_reqprio = 0;
	iocb->aio_rw_flags = flags;
	iocb->u.c.buf = (void *)iov;
	iocb->u.c.nbytes = iovcnt;
	iocb->u.c.offset = offset;
}

static inline void io_prep_pwritev2(struct iocb *iocb, int fd,
				    const struct iovec *iov, int iovcnt,
				    long long offset, int flags)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_PWRITEV;
	iocb->aio_reqprio = 0;
	iocb->aio_rw_flags = flags;
	iocb->u.c.buf = (void *)iov;
	iocb->u.c.nbytes = iovcnt;
	iocb->u.c.offset = offset;
}

static inline void io_prep_poll(struct iocb *iocb, int fd, int events)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_POLL;
	iocb->aio_reqprio = 0;
	iocb->u.poll.events = events;
}

static inline int io_poll(io_context_t ctx, struct iocb *iocb, io_callback_t cb,
			  int fd, int events)
{
	io_prep_poll(iocb, fd, events);
	io_set_callback(iocb, cb);
	return io_submit(ctx, 1, &iocb);
}

static inline void io_prep_fsync(struct iocb *iocb, int fd)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_FSYNC;
	iocb->aio_reqprio = 0;
}

static inline int io_fsync(io_context_t ctx, struct iocb *iocb,
			   io_callback_t cb, int fd)
{
	io_prep_fsync(iocb, fd);
	io_set_callback(iocb, cb);
	return io_submit(ctx, 1, &iocb);
}

static inline void io_prep_fdsync(struct iocb *iocb, int fd)
{
	memset(iocb, 0, sizeof(*iocb));
	iocb->aio_fildes = fd;
	iocb->aio_lio_opcode = IO_CMD_FDSYNC;
	iocb->aio_reqprio = 0;
}

static inline int io_fdsync(io_context_t ctx, struct iocb *iocb,
			    io_callback_t cb, int fd)
{
	io_prep_fdsync(iocb, fd);
	io_set_callback(iocb, cb);
	return io_submit(ctx, 1, &iocb);
}

static inline void io_set_eventfd(struct iocb *iocb, int eventfd)
{
	iocb->u.c.flags |= (1 << 0) /* IOCB_FLAG_RESFD */;
	iocb->u.c.resfd = eventfd;
}

#ifdef __cplusplus
}
#endif

#endif /* __LIBAIO_H */
