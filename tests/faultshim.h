/*
 * faultshim.h - failures of the C library and liburing on command (tests).
 */
#ifndef UAIO_FAULTSHIM_H
#define UAIO_FAULTSHIM_H

enum {
	FS_ALLOC = 1 << 0,  /* malloc, calloc, realloc: ENOMEM */
	FS_MMAP = 1 << 1,   /* mmap: ENOMEM */
	FS_THREAD = 1 << 2, /* pthread_create: EAGAIN */
	FS_FD = 1 << 3,	    /* eventfd, fcntl(F_DUPFD*): EMFILE */
	FS_URING = 1 << 4,  /* io_uring_queue_init_params: -ENOMEM */
	FS_ALL = 0x1f,
};

/*
 * From now on, in this thread, skip nth calls of the given kinds, then fail
 * count of them (-1: every one) until faultshim_disarm(), which returns how
 * many failed.
 */
void faultshim_arm(unsigned kinds, long nth, long count);
unsigned long faultshim_disarm(void);

#endif
