/*
 * raw.h - the AIO setup calls made raw, as the kernel answers them in this
 * process (its seccomp filters and limits): what `uaio info` reports and
 * what the info-check test compares it with.
 */
#ifndef UAIO_RAW_H
#define UAIO_RAW_H

/* io_setup(1) then io_destroy: 0 or -errno. */
int raw_io_setup(void);
/* io_uring_setup(1) then close: 0 or -errno. */
int raw_io_uring_setup(void);

#endif
