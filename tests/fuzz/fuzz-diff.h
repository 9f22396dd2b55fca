/*
 * fuzz-diff.h - what the differential fuzzer's files share.
 *
 * Two sides run the same calls: K on a kernel-engine context, E on the
 * emulated engine under test.  Each side has its own world: descriptors of
 * every kind and an arena of memory laid out identically, so that a
 * pointer chosen by the input means the same place on both sides.
 */
#ifndef FUZZ_DIFF_H
#define FUZZ_DIFF_H

#include <libaio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { K, E, NSIDE };

/* Descriptor kinds an iocb may name. */
enum fdkind {
	FK_REG,	       /* ext4 file, O_RDWR */
	FK_REG_RO,     /* the same inode, O_RDONLY */
	FK_REG_WO,     /* the same inode, O_WRONLY */
	FK_REG_APPEND, /* the same inode, O_RDWR | O_APPEND */
	FK_DIRECT,     /* another ext4 file, O_RDWR | O_DIRECT */
	FK_SHM,	       /* a tmpfs file */
	FK_PIPE_R,     /* a blocking pipe */
	FK_PIPE_W,
	FK_NBPIPE_R, /* an O_NONBLOCK pipe */
	FK_NBPIPE_W,
	FK_SOCK_A, /* a blocking AF_UNIX stream socketpair */
	FK_SOCK_B,
	FK_EVENTFD, /* blocking, the target of reads and polls */
	FK_DIR,
	FK_DEVNULL,
	FK_EPOLL,
	FK_OPATH,
	FK_CLOSED, /* a number that is never open */
	FK_BADFD,  /* -1 */
	FK_NOTIFY, /* the eventfd of IOCB_FLAG_RESFD: never an iocb's fd */
	NFK
};

/* What two requests may race on. */
enum resource {
	R_NONE,
	R_REG,
	R_DIRECT,
	R_SHM,
	R_PIPE,
	R_NBPIPE,
	R_SOCK,
	R_EVENTFD,
	NRES
};

/* The arena, in pages: guards (PROT_NONE) after every array, so that a
 * length that runs past an array faults instead of reaching other memory. */
#define PAGE 4096
#define DATA_SIZE (16 * PAGE)
enum {
	P_DATA = 0,
	P_G0 = 16,
	P_IOCB = 17,
	P_IOCBPP = 18,
	P_G1 = 19,
	P_IOV = 20,
	P_G2 = 24,
	P_EV = 25,
	P_G3 = 29,
	P_MISC = 30,
	P_RO = 31,
	P_NONE = 32,
	NPAGES = 33
};
#define NIOCB 64
#define NIOV (4 * PAGE / 16)
#define NEV (4 * PAGE / 32)
/* Offsets in the MISC page. */
#define MISC_TS 0
#define MISC_SIGSET 64
#define MISC_CTXP 128
#define MISC_RESULT 256
/* The read-only page: iocb templates, then zeros. */
#define RO_TEMPLATES 4
#define RO_ZERO 1024
#define RO_DATA 2048

/* An fd number that is never open (EBADF on every path). */
#define FD_NEVER 0x7ffffff0

struct world {
	unsigned char *base;
	int fd[NFK];	/* the number an iocb gets; -1 when closed */
	int aux_reg;	/* harness-only descriptors on the same files */
	int aux_direct; /* buffered */
	int aux_shm;
	int dup_eventfd; /* to read counters after a CLOSE */
	int dup_notify;
	unsigned stream_writes[NRES]; /* writes since last seen empty */
};

extern struct world W[NSIDE];
extern const char *fz_engine;
extern void *fz_hole;

static inline unsigned char *page_of(int side, int p)
{
	return W[side].base + (size_t)p * PAGE;
}

/* fuzz-world.c */
void world_init_once(void);
void world_open(unsigned seed);
void world_close(void);
int world_fd(int side, int fk);
bool fk_open(int side, int fk);
void world_close_fd(int fk);
enum resource fk_resource(int fk);
bool fk_stream(int fk);
/* Bytes waiting in a stream's read end (FIONREAD); -1 when unknown. */
long stream_queued(int side, int fk_read);
/* The read end for a stream kind (pipes, sockets), or -1. */
int stream_peer(int fk);
/* Write n pattern bytes into a stream on both sides; the count written. */
long world_fill(int fk_write, size_t n, unsigned seed);
/* Read what a stream holds on both sides and compare. */
void world_drain_compare(int fk_read, const char *why);
/* Copy K's files, streams, eventfds and data area to E. */
void world_resync(void);
/* Compare everything the requests could have changed. */
void world_compare(void);
/* Eventfd counters (read and reset). */
uint64_t world_counter(int side, int fk);
void world_set_counter(int side, int fk, uint64_t v);
/* The hole: a page that was unmapped, re-made if something filled it. */
void world_check_hole(void);
/* Descriptors open, but io_urings and eventfds, which are counted in
 * *rings (the library may keep some for the life of the process). */
unsigned world_fd_count(unsigned *rings);
void world_fd_list(char *buf, size_t len);
unsigned world_thread_count(void);

/* fuzz-diff.c: the op log and the report of a difference. */
void fz_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void fz_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
