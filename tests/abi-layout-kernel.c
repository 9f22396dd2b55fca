/*
 * The facts as the kernel's <linux/aio_abi.h> states them, under libaio's
 * member names.  Only what the kernel defines is listed: it has no unions
 * (u.v.vec and u.poll.events are aio_buf, u.v.nr is aio_nbytes), and its
 * signedness differs from libaio's by design (u16 opcode, s64 res).
 */
#include <linux/aio_abi.h>
#include <stddef.h>

#include "abi-layout.h"

#define OFFSZ(type, m, label)                                                  \
	{label " offset", (long long)offsetof(type, m)},                       \
	{                                                                      \
		label " size", (long long)sizeof(((type *)0)->m)               \
	}

static const struct abi_fact facts[] = {
    {"sizeof(struct iocb)", sizeof(struct iocb)},
    {"sizeof(struct io_event)", sizeof(struct io_event)},
    {"sizeof(io_context_t)", sizeof(aio_context_t)},
    OFFSZ(struct iocb, aio_data, "iocb.data"),
    OFFSZ(struct iocb, aio_key, "iocb.key"),
    OFFSZ(struct iocb, aio_rw_flags, "iocb.aio_rw_flags"),
    OFFSZ(struct iocb, aio_lio_opcode, "iocb.aio_lio_opcode"),
    OFFSZ(struct iocb, aio_reqprio, "iocb.aio_reqprio"),
    OFFSZ(struct iocb, aio_fildes, "iocb.aio_fildes"),
    OFFSZ(struct iocb, aio_buf, "iocb.u.c.buf"),
    OFFSZ(struct iocb, aio_nbytes, "iocb.u.c.nbytes"),
    OFFSZ(struct iocb, aio_offset, "iocb.u.c.offset"),
    OFFSZ(struct iocb, aio_reserved2, "iocb.u.c.__pad3"),
    OFFSZ(struct iocb, aio_flags, "iocb.u.c.flags"),
    OFFSZ(struct iocb, aio_resfd, "iocb.u.c.resfd"),
    OFFSZ(struct iocb, aio_buf, "iocb.u.v.vec"),
    OFFSZ(struct iocb, aio_nbytes, "iocb.u.v.nr"),
    OFFSZ(struct iocb, aio_offset, "iocb.u.v.offset"),
    {"iocb.u.poll.events offset", offsetof(struct iocb, aio_buf)},
    OFFSZ(struct io_event, data, "io_event.data"),
    OFFSZ(struct io_event, obj, "io_event.obj"),
    OFFSZ(struct io_event, res, "io_event.res"),
    OFFSZ(struct io_event, res2, "io_event.res2"),
    {"IO_CMD_PREAD", IOCB_CMD_PREAD},
    {"IO_CMD_PWRITE", IOCB_CMD_PWRITE},
    {"IO_CMD_FSYNC", IOCB_CMD_FSYNC},
    {"IO_CMD_FDSYNC", IOCB_CMD_FDSYNC},
    {"IO_CMD_POLL", IOCB_CMD_POLL},
    {"IO_CMD_NOOP", IOCB_CMD_NOOP},
    {"IO_CMD_PREADV", IOCB_CMD_PREADV},
    {"IO_CMD_PWRITEV", IOCB_CMD_PWRITEV},
};

const struct abi_fact *abi_facts_kernel(size_t *n)
{
	*n = sizeof(facts) / sizeof(facts[0]);
	return facts;
}
