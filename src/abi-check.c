/*
 * abi-check.c - the layouts programs and the kernel depend on, checked at
 * build time against the kernel's <linux/aio_abi.h> values (x86_64 and
 * every other 64-bit little-endian target).
 */
#include <stddef.h>

#include "internal.h"

#if __SIZEOF_POINTER__ == 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
_Static_assert(sizeof(struct iocb) == 64, "struct iocb is 64 bytes");
_Static_assert(offsetof(struct iocb, data) == 0, "aio_data");
_Static_assert(offsetof(struct iocb, key) == 8, "aio_key");
_Static_assert(offsetof(struct iocb, aio_rw_flags) == 12, "aio_rw_flags");
_Static_assert(offsetof(struct iocb, aio_lio_opcode) == 16, "opcode");
_Static_assert(offsetof(struct iocb, aio_reqprio) == 18, "aio_reqprio");
_Static_assert(offsetof(struct iocb, aio_fildes) == 20, "aio_fildes");
_Static_assert(offsetof(struct iocb, u.c.buf) == 24, "aio_buf");
_Static_assert(offsetof(struct iocb, u.c.nbytes) == 32, "aio_nbytes");
_Static_assert(offsetof(struct iocb, u.c.offset) == 40, "aio_offset");
_Static_assert(offsetof(struct iocb, u.c.__pad3) == 48, "aio_reserved2");
_Static_assert(offsetof(struct iocb, u.c.flags) == 56, "aio_flags");
_Static_assert(offsetof(struct iocb, u.c.resfd) == 60, "aio_resfd");
_Static_assert(offsetof(struct iocb, u.v.vec) == 24, "vector base");
_Static_assert(offsetof(struct iocb, u.v.nr) == 32, "vector count");
_Static_assert(offsetof(struct iocb, u.v.offset) == 40, "vector offset");
_Static_assert(offsetof(struct iocb, u.poll.events) == 24, "poll events");
_Static_assert(sizeof(struct io_event) == 32, "struct io_event is 32 bytes");
_Static_assert(offsetof(struct io_event, data) == 0, "event data");
_Static_assert(offsetof(struct io_event, obj) == 8, "event obj");
_Static_assert(offsetof(struct io_event, res) == 16, "event res");
_Static_assert(offsetof(struct io_event, res2) == 24, "event res2");
#endif
_Static_assert(sizeof(struct aio_ring) == 32, "ring header is 32 bytes");
_Static_assert(offsetof(struct aio_ring, head) == 8, "ring head");
_Static_assert(offsetof(struct aio_ring, tail) == 12, "ring tail");
_Static_assert(offsetof(struct aio_ring, magic) == 16, "ring magic");
_Static_assert(offsetof(struct aio_ring, header_length) == 28, "ring hlen");
_Static_assert(offsetof(struct aio_ring, io_events) == 32, "events at +32");
_Static_assert(IO_CMD_PREAD == 0 && IO_CMD_PWRITE == 1 && IO_CMD_FSYNC == 2 &&
		   IO_CMD_FDSYNC == 3 && IO_CMD_POLL == 5 && IO_CMD_NOOP == 6 &&
		   IO_CMD_PREADV == 7 && IO_CMD_PWRITEV == 8,
	       "opcodes are the kernel's");
