/*
 * fuzz-diff.c - differential fuzzer: the same sequence of AIO calls runs on
 * a context of the emulated engine under test (FUZZ_ENGINE=uring, the
 * default, or threads) and on a kernel-engine context, in one process, and
 * every return value, every completion and the final state of every file,
 * stream, eventfd and buffer must agree.  A difference, a request the
 * emulated engine does not complete within SETTLE_MS while its twin did, a
 * crash or a sanitizer report is a finding; a difference prints both sides
 * and the calls so far, then abort()s.  FUZZ_TRACE=1 prints the calls as
 * they run.
 *
 * Input: one byte choosing the size of the first context, then operations
 * (run(), the op_*() functions, and tests/fuzz/make-corpus.py, which
 * spells the format out).  Each side has its own
 * descriptors and an identically laid out arena (fuzz-world.c), so relative
 * pointers mean the same thing on both; wild pointers (0x10, 0x8000, an
 * unmapped page, PROT_NONE and read-only pages, the kernel's half) are the
 * same values on both.
 *
 * Why results can be compared at all, given that the kernel engine runs
 * buffered and stream I/O inside io_submit and the emulated engines do not:
 *
 *  - before any call whose result depends on what has completed (reaping,
 *    cancelling, a new batch, destroying), both sides are settled: their
 *    rings are peeked (not consumed) until every request the kernel
 *    completed has completed on the emulated side too;
 *  - a batch is split where two of its requests would race (a write and
 *    another request on the same file, overlapping memory of which one is
 *    written, two requests on the same stream), because the emulated
 *    engines may run a batch in any order;
 *  - every request carries a `data` value of its own (one of 256
 *    callbacks, which io_queue_run() may call), so completions are matched
 *    whatever their order;
 *  - the kernel engine would block inside io_submit on an empty blocking
 *    stream or a full one: such reads and writes get RWF_NOWAIT, decided
 *    from the kernel side's state, on both sides, or a read waits for a
 *    write made while it waits (struct unblock).
 *
 * Differences documented in uaio(7) are accepted where they occur, each
 * with the sentence that allows it (tests/fuzz/README.md lists them);
 * differences that are library bugs already recorded are kept out of the
 * input behind KNOWN_BUG_* so that fuzzing can find others (build with
 * -DKNOWN_BUG_x=0 to see one again).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <uaio.h>

#include "fuzz-diff.h"

/* Exported by libaio.so.1 (LIBAIO_0.4), not declared by <libaio.h>. */
int io_queue_wait(io_context_t ctx, struct timespec *timeout);

/*
 * Known library bugs, suppressed in the generated calls (1) so that the
 * fuzzer looks for others.  Each is described with a reproducer in
 * tests/fuzz/README.md.
 */
/* The emulated engines refuse RWF_NOSIGNAL (0x100, Linux 6.18) with
 * -EOPNOTSUPP at io_submit; the kernel accepts it. */
#ifndef KNOWN_BUG_RWF_NOSIGNAL
#define KNOWN_BUG_RWF_NOSIGNAL 0 /* fixed by b7752bf */
#endif
/* RWF_NOWAIT buffered write to an ext4 file: the kernel accepts it and
 * completes it with -EOPNOTSUPP; threads refuses it at io_submit
 * (-EOPNOTSUPP), uring completes it with -EAGAIN. */
#ifndef KNOWN_BUG_NOWAIT_BUFFERED_WRITE
/* fixed: tests/submit-errors.c */
#define KNOWN_BUG_NOWAIT_BUFFERED_WRITE 0
#endif
/* io_destroy of a context with a POLL pending that has IOCB_FLAG_RESFD:
 * the kernel signals the eventfd (+1) as it cancels the poll; the
 * emulated engines do not. */
#ifndef KNOWN_BUG_DESTROY_RESFD
#define KNOWN_BUG_DESTROY_RESFD 0 /* fixed: tests/resfd.c */
#endif

/* A NULL array on an emulated context is used in pointer arithmetic
 * (undefined in C; UBSan: "applying zero offset to null pointer"):
 * io_getevents(ctx, .., NULL, ..) computes events + got in
 * uring_getevents() and emu_getevents(), and io_queue_wait() always passes
 * NULL; io_submit(ctx, nr, NULL) computes iocbpp + i in emu_submit(). */
#ifndef KNOWN_BUG_NULL_POINTER_ARITH
#define KNOWN_BUG_NULL_POINTER_ARITH 0 /* fixed: tests/getevents-errors.c */
#endif

/* IOCB_FLAG_RESFD with an O_PATH descriptor: the kernel's
 * eventfd_ctx_fdget() does not see O_PATH files (-EBADF); the emulated
 * engines dup it, find a file type and say it is no eventfd (-EINVAL). */
#ifndef KNOWN_BUG_RESFD_OPATH
/* fixed: tests/submit-errors.c */
#define KNOWN_BUG_RESFD_OPATH 0
#endif
/* A timeout whose tv_sec * 1e9 (or that plus the clock) overflows: the
 * kernel saturates it (timespec64_to_ktime), emu_deadline() overflows a
 * long long (undefined behaviour; in practice a deadline in the past or
 * far off at random). */
#ifndef KNOWN_BUG_TIMEOUT_OVERFLOW
#define KNOWN_BUG_TIMEOUT_OVERFLOW 0 /* fixed: tests/getevents-errors.c */
#endif

/* uring, after an io_getevents with min_nr > 0 ("reaper mode", the CQ
 * eventfd off between calls): once the completion thread has gone idle
 * (poll without a timeout, nothing in flight), a request submitted later
 * is never moved to the ring while the program makes no call that enters
 * the engine; uaio.7 says the thread moves it "after 10 ms without
 * [a call]".  A zero-timeout io_getevents() (io_queue_run()) does not enter
 * the engine, so it never sees the event either. */
#ifndef KNOWN_BUG_URING_REAPER_STALL
#define KNOWN_BUG_URING_REAPER_STALL 0 /* fixed by 4fc6074 */
#endif

/* IOCB_CMD_POLL on a file without a poll method (a regular file, a
 * directory, /dev/null) asking for no event of DEFAULT_POLLMASK (POLLIN,
 * POLLOUT and their *NORM twins), such as POLLHUP or 0: the kernel's
 * aio_poll() refuses it (-EINVAL at io_submit); uring accepts it and
 * completes it with -EINVAL; threads accepts it and it never completes. */
#ifndef KNOWN_BUG_POLL_WITHOUT_POLL_METHOD
/* fixed: tests/submit-errors.c */
#define KNOWN_BUG_POLL_WITHOUT_POLL_METHOD 0
#endif
/* Zero-length I/O completes with 0 where the kernel fails it, because
 * preadv2()/pwritev2() return 0 for an empty iovec before looking at the
 * file or the flags: on threads every read and write, on uring buffered
 * writes to files (emu_write_inline()).  Kernel AIO calls eventfd_read(),
 * which refuses fewer than 8 bytes (-EINVAL in the event), refuses a
 * directory (no read_iter) at io_submit (-EINVAL), sends on a socket whose
 * peer is gone (-EPIPE in the event), and makes the per-file RWF checks
 * (RWF_ATOMIC, RWF_DONTCACHE, RWF_NOWAIT: -EOPNOTSUPP at io_submit, which
 * uaio.7 says arrives in the event). */
#ifndef KNOWN_BUG_ZERO_LENGTH
#define KNOWN_BUG_ZERO_LENGTH 0 /* fixed: tests/submit-errors.c */
#endif
/* What is left of it: the per-file checks of RWF_NOWAIT and RWF_DONTCACHE
 * for an empty transfer (a buffered ext4 write with RWF_NOWAIT fails
 * -EOPNOTSUPP in the event even for 0 bytes), which nothing makes without
 * transferring bytes. */
#ifndef KNOWN_BUG_ZERO_LENGTH_RWF
#define KNOWN_BUG_ZERO_LENGTH_RWF 1
#endif

/* uring: a POLL's readiness is checked (emu_poll_now() in uring_start())
 * before the requests ahead of it in the same io_submit are issued, so
 * [read a pipe empty, poll it for POLLIN] completes the poll at once where
 * the kernel, which runs a batch in order, leaves it waiting (and a write
 * ahead of a poll makes the kernel's poll ready at submit, mask 0x1, but
 * uring's woken later, 0x41). */
#ifndef KNOWN_BUG_URING_POLL_BATCH_ORDER
#define KNOWN_BUG_URING_POLL_BATCH_ORDER 0 /* fixed: tests/poll.c */
#endif

/* io_submit reads the caller's iocb pointer array 64 entries at a time
 * (copy_iocbs()), past the first entry that fails, where the kernel reads
 * pointer by pointer and stops there; for an array on the caller's stack
 * the direct copy over-reads the stack (AddressSanitizer:
 * stack-buffer-overflow in copy_iov()). */
#ifndef KNOWN_BUG_IOCBPP_OVERREAD
#define KNOWN_BUG_IOCBPP_OVERREAD 0 /* fixed: tests/submit-errors.c */
#endif

/* io_pgetevents with a zero timeout on an empty ring: libaio (and the
 * kernel engine) return 0 from their peek of the ring before anything
 * else; on the emulated engines the sigmask is read first, so an
 * unreadable one gives -EFAULT. */
#ifndef KNOWN_BUG_PEEK_AFTER_SIGMASK
#define KNOWN_BUG_PEEK_AFTER_SIGMASK 0 /* fixed: tests/getevents-errors.c */
#endif

/* threads: when a request goes on after a partial transfer (a buffered
 * read whose non-blocking first try stops at a page not cached or at a
 * fault; a stream write that did not all fit), emu_iov_advance() skips the
 * whole segments done but adds only the bytes of the last, partial one to
 * req->done and req->offset: the count reported is short, and the rest is
 * read from (or written at) the wrong file offset.  PREADV {16 bytes}, {1
 * byte then a PROT_NONE page}: the kernel says 17, threads 1. */
#ifndef KNOWN_BUG_THREADS_IOV_ADVANCE
#define KNOWN_BUG_THREADS_IOV_ADVANCE 0 /* fixed: tests/vector-resume.c */
#endif

/* PREADV/PWRITEV with a bad segment pointer ahead of a segment of
 * negative length: the kernel first checks every length
 * (copy_iovec_from_user(): -EINVAL), then each pointer (access_ok():
 * -EFAULT); the emulated engines check segment by segment (-EFAULT). */
#ifndef KNOWN_BUG_IOVEC_CHECK_ORDER
#define KNOWN_BUG_IOVEC_CHECK_ORDER 0 /* fixed: tests/submit-errors.c */
#endif
/* threads: a read of a directory or an epoll fd with a buffer in the
 * kernel's half: the kernel finds no read_iter before it looks at the
 * buffer (-EINVAL); threads checks the buffer first (-EFAULT). */
#ifndef KNOWN_BUG_THREADS_DIR_READ_ORDER
#define KNOWN_BUG_THREADS_DIR_READ_ORDER 0 /* fixed: tests/submit-errors.c */
#endif

/* mremap of a kernel-engine context's ring: until a call names the new
 * address, uaio keeps the context under the old one, and takes a ring moved
 * to that address meanwhile (another context's) for it: uaio_engine() says
 * "kernel", io_submit() goes to the kernel and gets -EINVAL.  (The kernel
 * follows the move at once, aio_ring_mremap().) */
#ifndef KNOWN_BUG_MREMAP_STALE_HANDLE
#define KNOWN_BUG_MREMAP_STALE_HANDLE 0 /* fixed: tests/ring-move.c */
#endif

#define CMD_PREAD 0
#define CMD_PWRITE 1
#define CMD_FSYNC 2
#define CMD_FDSYNC 3
#define CMD_POLL 5
#define CMD_PREADV 7
#define CMD_PWRITEV 8
#define F_RESFD 1u
#define F_IOPRIO 2u
#define RWF_NOWAIT_ 0x08u
#define RWF_ATOMIC_ 0x40u
#define RWF_DONTCACHE_ 0x80u
#define RWF_NOSIGNAL_ 0x100u

/* How long the emulated engine may lag behind the kernel's completions. */
#define SETTLE_MS 2000
/* Longest real wait in io_getevents when it cannot be satisfied. */
#define SHORT_WAIT_NS 5000000l
#define MAX_OPS 64
#define MAX_ENTRIES 8
#define MAX_DUP 8
#define NSERIAL 256
#define SERIAL_RO 255 /* the read-only iocb templates */
#define NSLOT 2	      /* context slots an input may use */
#define POOL_MAX 8
/* Requests an input may have outstanding per context, well within what
 * the kernel guarantees whichever CPU its per-CPU slot caches are on. */
#define CAP_MAX 120

const char *fz_engine;

/* auto runs what could block on io_uring here: it shares uring's
 * documented differences. */
static bool fz_on_uring(void)
{
	return !strcmp(fz_engine, "uring") || !strcmp(fz_engine, "auto");
}
static bool trace;
static unsigned kernel_rwf; /* RWF_* the running kernel accepts */

/* ---- log and reports ---- */

static char logbuf[1 << 16];
static size_t loglen;
static int opno;

void fz_log(const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (loglen + (size_t)n + 2 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, (size_t)n);
		loglen += (size_t)n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = 0;
	}
	if (trace)
		fprintf(stderr, "%s\n", line);
}

static void report(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "\n==== fuzz-diff (%s engine): %s ====\n", fz_engine,
		kind);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n---- calls so far (K = kernel, E = %s) ----\n%s",
		fz_engine, trace ? "(traced above)\n" : logbuf);
	fprintf(stderr, "---- end ----\n");
}

_Noreturn void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("DIFFERENCE", fmt, ap);
	va_end(ap);
	abort();
}

_Noreturn void fz_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("harness error", fmt, ap);
	va_end(ap);
	abort();
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void pause_us(unsigned us)
{
	struct timespec t = {0, (long)us * 1000};

	nanosleep(&t, NULL);
}

static const char *err_name(long v)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ & 7];

	if (v >= 0)
		snprintf(b, 32, "%ld", v);
	else
		snprintf(b, 32, "-%s",
			 strerrorname_np((int)-v) ? strerrorname_np((int)-v)
						  : "?");
	return b;
}

/* ---- per-request data: 256 callbacks ---- */

static void on_callback(int serial, io_context_t ctx, struct iocb *obj,
			long res, long res2);

#define TR(n)                                                                  \
	static void tr_##n(io_context_t c, struct iocb *o, long r, long r2)    \
	{                                                                      \
		on_callback(0x##n, c, o, r, r2);                               \
	}
#define TR16(h)                                                                \
	TR(h##0)                                                               \
	TR(h##1)                                                               \
	TR(h##2)                                                               \
	TR(h##3)                                                               \
	TR(h##4)                                                               \
	TR(h##5)                                                               \
	TR(h##6)                                                               \
	TR(h##7)                                                               \
	TR(h##8)                                                               \
	TR(h##9)                                                               \
	TR(h##a)                                                               \
	TR(h##b)                                                               \
	TR(h##c)                                                               \
	TR(h##d)                                                               \
	TR(h##e)                                                               \
	TR(h##f)
TR16(0)
TR16(1)
TR16(2)
TR16(3)
TR16(4)
TR16(5)
TR16(6)
TR16(7)
TR16(8)
TR16(9)
TR16(a)
TR16(b)
TR16(c)
TR16(d)
TR16(e)
TR16(f)
#define TN(n) tr_##n,
#define TN16(h)                                                                \
	TN(h##0)                                                               \
	TN(h##1)                                                               \
	TN(h##2)                                                               \
	TN(h##3)                                                               \
	TN(h##4)                                                               \
	TN(h##5)                                                               \
	TN(h##6)                                                               \
	TN(h##7)                                                               \
	TN(h##8)                                                               \
	TN(h##9)                                                               \
	TN(h##a)                                                               \
	TN(h##b)                                                               \
	TN(h##c)                                                               \
	TN(h##d)                                                               \
	TN(h##e)                                                               \
	TN(h##f)
static const io_callback_t tramps[NSERIAL] = {
    TN16(0) TN16(1) TN16(2) TN16(3) TN16(4) TN16(5) TN16(6) TN16(7) TN16(8)
	TN16(9) TN16(a) TN16(b) TN16(c) TN16(d) TN16(e) TN16(f)};

static int serial_of(const void *data)
{
	for (int i = 0; i < NSERIAL; i++)
		if ((const void *)tramps[i] == data)
			return i;
	return -1;
}

/* ---- contexts ---- */

struct ctxst {
	io_context_t h;
	bool live;
	unsigned nr; /* ring slots */
	int size;    /* asked of io_setup */
	unsigned cap;
	unsigned gen;
};
static struct ctxst C[NSIDE][NSLOT];
static io_context_t stale[NSIDE]; /* a destroyed handle, or 0 */

struct aring {
	unsigned id, nr, head, tail, magic, compat, incompat, hlen;
	struct io_event ev[];
};

static struct aring *ring_of(int side, int slot)
{
	return (struct aring *)C[side][slot].h;
}

/* Kernel contexts outlive inputs: io_destroy of one costs an RCU grace
 * period (about 33 ms), so a clean one is kept for the next input that
 * asks for the same size, and others are destroyed on threads of ours. */
static struct {
	io_context_t h;
	int size;
} pool[POOL_MAX];
static int npool;

#define DQ_MAX 64
#define NDESTROYERS 6
static pthread_mutex_t dq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dq_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t dq_done = PTHREAD_COND_INITIALIZER;
static io_context_t dq[DQ_MAX];
static int dq_n, dq_busy, dq_error;

static void *destroyer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&dq_lock);
	for (;;) {
		while (!dq_n)
			pthread_cond_wait(&dq_cond, &dq_lock);
		io_context_t h = dq[--dq_n];
		dq_busy++;
		pthread_mutex_unlock(&dq_lock);
		int r = io_destroy(h);
		pthread_mutex_lock(&dq_lock);
		if (r)
			dq_error = r;
		dq_busy--;
		pthread_cond_broadcast(&dq_done);
	}
	return NULL;
}

/* io_destroy(h) of a kernel context, returning once h is dead to new
 * calls; the wait for its requests goes on in the background. */
static void kernel_destroy_async(io_context_t h)
{
	char name[UAIO_ENGINE_NAME_MAX];

	pthread_mutex_lock(&dq_lock);
	while (dq_n == DQ_MAX)
		pthread_cond_wait(&dq_done, &dq_lock);
	dq[dq_n++] = h;
	pthread_cond_signal(&dq_cond);
	pthread_mutex_unlock(&dq_lock);
	for (int i = 0; uaio_engine(h, name, sizeof(name)) == 0; i++)
		pause_us(i < 100 ? 10 : 200);
	/* Calls on a handle uaio no longer knows go to the kernel, where the
	 * context lives until the destroying thread's io_destroy reaches it. */
	struct timespec zero = {0, 0};
	for (int i = 0; syscall(SYS_io_getevents, h, 0l, 0l, NULL, &zero) == 0;
	     i++)
		pause_us(i < 100 ? 10 : 200);
}

static void kernel_destroy_join(void)
{
	pthread_mutex_lock(&dq_lock);
	while (dq_n || dq_busy)
		pthread_cond_wait(&dq_done, &dq_lock);
	pthread_mutex_unlock(&dq_lock);
}

/* ---- requests ---- */

enum dclass {
	D_RWF = 1,     /* a per-file RWF check */
	D_UREAD = 2,   /* uring: a read of a directory or an epoll fd */
	D_NOWRITE = 4, /* a write to a file without write_iter */
	D_RO = 8,      /* a read-only iocb whose key is already 0 */
	D_EMPTY = 16,  /* with D_RWF: a transfer of no bytes */
};

struct inst {
	bool live;
	bool reserved; /* taken by the batch being submitted */
	int slot;
	unsigned gen;
	short opcode;
	unsigned char fk;
	unsigned short pollev;
	bool resfd;   /* IOCB_FLAG_RESFD with the notify eventfd */
	int emu_only; /* enum dclass: accepted by the emulated engine only */
	bool racy;    /* its result depends on timing: not compared */
	int cancels;  /* documented io_cancel successes on E */
	int cancelled[NSIDE]; /* io_cancel said -EINPROGRESS: an event comes */
	int op;		      /* where it was submitted, for reports */
	int nsub[NSIDE], nev[NSIDE];
	long res[NSIDE][MAX_DUP], res2[NSIDE][MAX_DUP];
	struct iocb *obj[NSIDE];
};
static struct inst I[NSERIAL];
static unsigned next_serial;
static long notify_adjust; /* expected notify count, E minus K */
static bool join_destroys;

static const char *opname(int op)
{
	switch (op) {
	case CMD_PREAD:
		return "PREAD";
	case CMD_PWRITE:
		return "PWRITE";
	case CMD_FSYNC:
		return "FSYNC";
	case CMD_FDSYNC:
		return "FDSYNC";
	case CMD_POLL:
		return "POLL";
	case CMD_PREADV:
		return "PREADV";
	case CMD_PWRITEV:
		return "PWRITEV";
	default:
		return "op?";
	}
}

static const char *const fknames[NFK] = {
    "reg",    "reg_ro", "reg_wo",  "reg_append", "direct",
    "shm",    "pipe_r", "pipe_w",  "nbpipe_r",	 "nbpipe_w",
    "sock_a", "sock_b", "eventfd", "dir",	 "devnull",
    "epoll",  "opath",	"closed",  "badfd",	 "notify"};

static int alloc_serial(void)
{
	for (int i = 0; i < SERIAL_RO; i++) {
		int s = (int)((next_serial + (unsigned)i) % SERIAL_RO);
		if (!I[s].live && !I[s].reserved) {
			next_serial = (unsigned)s + 1;
			memset(&I[s], 0, sizeof(I[s]));
			I[s].reserved = true;
			return s;
		}
	}
	fz_fatal("no free request serial");
}

static void describe(int s, char *buf, size_t len)
{
	const struct inst *in = &I[s];
	size_t n = (size_t)snprintf(
	    buf, len, "request #%d (%s on %s, op %d, ctx %d)", s,
	    opname(in->opcode), fknames[in->fk], in->op, in->slot);
	for (int side = 0; side < NSIDE && n < len; side++) {
		n += (size_t)snprintf(buf + n, len - n, " %s: %d submitted,",
				      side == K ? "K" : "E", in->nsub[side]);
		for (int i = 0; i < in->nev[side] && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, " res=%s%s",
					      err_name(in->res[side][i]),
					      in->res2[side][i] ? "(res2!=0)"
								: "");
	}
}

static void sort_res(long *r, long *r2, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i;
		     j > 0 && (r[j - 1] > r[j] ||
			       (r[j - 1] == r[j] && r2[j - 1] > r2[j]));
		     j--) {
			long t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
			t = r2[j];
			r2[j] = r2[j - 1];
			r2[j - 1] = t;
		}
}

/* What the emulated engine may report for a request only it accepted. */
static void check_emu_only(int s)
{
	struct inst *in = &I[s];
	char d[512];

	for (int i = 0; i < in->nev[E]; i++) {
		long r = in->res[E][i];
		bool ok = true;

		/* uaio.7: a write to a file without write_iter (an eventfd)
		 * "is performed rather than refused": any result. */
		if (in->emu_only & D_NOWRITE)
			ok = true;
		/* uaio.7: on uring a read of an epoll file "waits until
		 * cancelled", of a directory it "fails in the event" (or
		 * reads nothing when it asks for nothing). */
		else if (in->emu_only & D_UREAD)
			ok = r <= 0;
		/* uaio.7: the per-file RWF checks "arrive in the event's res
		 * (-EOPNOTSUPP)"; another check of the I/O path may come
		 * first (a bad buffer), but nothing may be transferred. */
		else if (in->emu_only & D_RWF)
			/* ...except "a transfer of no bytes ... completes
			 * with 0". */
			ok = r < 0 || (r == 0 && (in->emu_only & D_EMPTY));
		/* uaio.7: "a read-only iocb whose key is already 0 is
		 * accepted": the templates are a poll of a regular file and
		 * a read into the read-only page itself. */
		else if (in->emu_only & D_RO)
			ok = in->opcode == CMD_POLL ? r > 0 : r == -EFAULT;
		if (!ok || in->res2[E][i]) {
			describe(s, d, sizeof(d));
			fz_fail("%s: accepted by %s only (documented), but its "
				"result %s is not what uaio.7 allows",
				d, fz_engine, err_name(r));
		}
	}
}

static void compare_inst(int s)
{
	struct inst *in = &I[s];
	char d[512];

	if (in->emu_only) {
		check_emu_only(s);
		return;
	}
	if (in->racy)
		return;
	if (in->cancels) {
		/* uaio.7: io_cancel "cancels reads and writes, returning
		 * -EINPROGRESS and delivering the event with res =
		 * -ECANCELED" where the kernel returns -EINVAL and completes
		 * them; the threads engine reports the bytes a stream write
		 * had already sent. */
		for (int i = 0; i < in->nev[E]; i++)
			if (in->res[E][i] != -ECANCELED && in->res[E][i] < 0 &&
			    in->res[E][i] != in->res[K][0]) {
				describe(s, d, sizeof(d));
				fz_fail("%s: cancelled on %s (documented), "
					"event res %s",
					d, fz_engine, err_name(in->res[E][i]));
			}
		return;
	}
	sort_res(in->res[K], in->res2[K], in->nev[K]);
	sort_res(in->res[E], in->res2[E], in->nev[E]);
	for (int i = 0; i < in->nev[K]; i++)
		if (in->res[K][i] != in->res[E][i] ||
		    in->res2[K][i] != in->res2[E][i]) {
			describe(s, d, sizeof(d));
			fz_fail("%s: completed differently", d);
		}
}

static void maybe_finish(int s)
{
	struct inst *in = &I[s];

	if (in->nev[K] == in->nsub[K] && in->nev[E] == in->nsub[E]) {
		compare_inst(s);
		in->live = false;
	}
}

static void record_event(int side, int slot, const struct io_event *ev)
{
	int s = serial_of(ev->data);
	struct inst *in;
	char d[512];

	if (s < 0)
		fz_fail("%s returned an event whose data %p is no request's "
			"(obj %p, res %s)",
			side == K ? "kernel" : fz_engine, ev->data,
			(void *)ev->obj, err_name((long)ev->res));
	in = &I[s];
	describe(s, d, sizeof(d));
	if (!in->live || in->slot != slot)
		fz_fail("%s returned an event for %s, which is not in flight "
			"on context %d",
			side == K ? "kernel" : fz_engine, d, slot);
	if (ev->obj != in->obj[side])
		fz_fail("%s: %s event has obj %p, the iocb is %p", d,
			side == K ? "kernel" : fz_engine, (void *)ev->obj,
			(void *)in->obj[side]);
	if (in->nev[side] >= in->nsub[side])
		fz_fail("%s: %s returned more events than requests", d,
			side == K ? "kernel" : fz_engine);
	in->res[side][in->nev[side]] = (long)ev->res;
	in->res2[side][in->nev[side]] = (long)ev->res2;
	in->nev[side]++;
	if (side == E && in->resfd && (in->emu_only))
		notify_adjust++;
	maybe_finish(s);
}

/* io_queue_run() calls these with what the side's ring held. */
static int qr_side = -1, qr_slot, qr_calls;

static void on_callback(int serial, io_context_t ctx, struct iocb *obj,
			long res, long res2)
{
	struct io_event ev = {.data = (void *)tramps[serial],
			      .obj = obj,
			      .res = (unsigned long)res,
			      .res2 = (unsigned long)res2};

	if (qr_side < 0 || ctx != C[qr_side][qr_slot].h)
		fz_fail("io_queue_run called back with context %p",
			(void *)ctx);
	qr_calls++;
	record_event(qr_side, qr_slot, &ev);
}

/* Events of slot's ring on side, per serial, without consuming them. */
static unsigned peek(int side, int slot, unsigned short *count)
{
	struct aring *r = ring_of(side, slot);
	unsigned head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) % r->nr;
	unsigned tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	if (tail >= r->nr)
		fz_fail("%s ring tail %u out of range (nr %u)",
			side == K ? "kernel" : fz_engine, tail, r->nr);
	for (unsigned h = head; h != tail; h = (h + 1) % r->nr, n++) {
		int s = serial_of(r->ev[h].data);
		if (s < 0)
			fz_fail("%s ring holds an event whose data %p is no "
				"request's",
				side == K ? "kernel" : fz_engine,
				r->ev[h].data);
		count[s]++;
	}
	return n;
}

static unsigned available(int side, int slot)
{
	unsigned short c[NSERIAL] = {0};

	return peek(side, slot, c);
}

/* Whether the kernel side's poll of in would be woken now. */
static bool poll_ready(const struct inst *in)
{
	short ev = (short)(in->pollev | POLLERR | POLLHUP);
	struct pollfd p;

	if (!fk_open(K, in->fk))
		return false;
	p = (struct pollfd){.fd = W[K].fd[in->fk], .events = ev};
	return poll(&p, 1, 0) == 1 && (p.revents & (ev | POLLNVAL));
}

/*
 * Wait until both sides have completed the same requests: the kernel every
 * request that is not a poll still waiting, the emulated engine the same
 * ones.  A lag beyond SETTLE_MS is a finding.
 */
static void settle(void)
{
	static unsigned short av[NSIDE][NSLOT][NSERIAL];
	double t0 = now_ms(), tk = -1, nudged = 0;
	unsigned delay = 5;

	(void)nudged;

	for (;;) {
		bool kbusy = false, lag = false;

		memset(av, 0, sizeof(av));
		for (int slot = 0; slot < NSLOT; slot++)
			if (C[K][slot].live)
				for (int side = 0; side < NSIDE; side++)
					peek(side, slot, av[side][slot]);
		for (int s = 0; s < NSERIAL; s++) {
			struct inst *in = &I[s];
			if (!in->live || in->emu_only)
				continue;
			int dk = in->nev[K] + av[K][in->slot][s];
			int de = in->nev[E] + av[E][in->slot][s];
			/* A cancelled poll's event comes a moment later. */
			if ((dk < in->nsub[K] &&
			     (in->opcode != CMD_POLL || poll_ready(in))) ||
			    dk < in->cancelled[K])
				kbusy = true;
			if (dk != de)
				lag = true;
		}
		if (!kbusy && !lag)
			return;
		double t = now_ms();
#if KNOWN_BUG_URING_REAPER_STALL
		/* Come back for the events, as a program in reaper mode is
		 * expected to: a call that enters the engine and takes
		 * nothing. */
		if (!kbusy && tk >= 0 && t - tk > 20 && t - nudged > 20 &&
		    fz_on_uring()) {
			struct timespec ns1 = {0, 1};
			for (int slot = 0; slot < NSLOT; slot++)
				for (int side = 0;
				     C[K][slot].live && side < NSIDE; side++)
					(void)io_getevents(
					    C[side][slot].h, 0, 0,
					    (struct io_event *)page_of(side,
								       P_EV),
					    &ns1);
			nudged = t;
		}
#endif
		if (kbusy) {
			tk = -1;
			if (t - t0 > 10000)
				fz_fatal("the kernel's requests did not "
					 "complete within 10 s");
		} else if (tk < 0) {
			tk = t;
		} else if (t - tk > SETTLE_MS) {
			char d[512];
			for (int s = 0; s < NSERIAL; s++) {
				struct inst *in = &I[s];
				if (!in->live || in->emu_only)
					continue;
				int dk = in->nev[K] + av[K][in->slot][s];
				int de = in->nev[E] + av[E][in->slot][s];
				if (dk == de)
					continue;
				describe(s, d, sizeof(d));
				fz_fail("%s: completed %d time(s) on kernel "
					"and %d on %s after %d ms%s",
					d, dk, de, fz_engine, SETTLE_MS,
					de < dk ? " (a hang of the emulated "
						  "engine)"
						: "");
			}
		}
		pause_us(delay);
		if (delay < 1000)
			delay *= 2;
	}
}

static unsigned outstanding(int slot)
{
	unsigned n[NSIDE] = {0, 0};

	for (int s = 0; s < NSERIAL; s++)
		if (I[s].live && I[s].slot == slot)
			for (int side = 0; side < NSIDE; side++)
				n[side] += (unsigned)(I[s].nsub[side] -
						      I[s].nev[side]);
	return n[K] > n[E] ? n[K] : n[E];
}

/* Reap everything both rings hold (after settle()). */
static void reap_all(int slot, const char *why)
{
	for (int side = 0; side < NSIDE; side++) {
		struct timespec zero = {0, 0};
		struct io_event *ev = (struct io_event *)page_of(side, P_EV);
		long a = (long)available(side, slot);
		if (!a)
			continue;
		int r = io_getevents(C[side][slot].h, a, a, ev, &zero);
		if (r != a)
			fz_fail("%s: io_getevents(%ld, %ld) on %s returned %s",
				why, a, a, side == K ? "kernel" : fz_engine,
				err_name(r));
		for (int i = 0; i < r; i++)
			record_event(side, slot, &ev[i]);
	}
}

static bool pending(int side, int s)
{
	unsigned short c[NSERIAL] = {0};

	if (!C[side][I[s].slot].live)
		return false;
	peek(side, I[s].slot, c);
	return I[s].nev[side] + c[s] < I[s].nsub[side];
}

/* io_cancel on side said -EINPROGRESS for obj: its event is due. */
static void note_cancel(int side, int slot, const struct iocb *obj)
{
	for (int s = 0; s < NSERIAL; s++)
		if (I[s].live && I[s].slot == slot && I[s].obj[side] == obj) {
			I[s].cancelled[side]++;
			return;
		}
}

/*
 * Cancel every poll still waiting, on both sides, and reap them: used
 * before the state of a side is changed behind the requests' back, when a
 * waiting poll could be woken on one side only.  Their results are then
 * not compared.
 */
static void cancel_polls(bool mark_racy)
{
	struct io_event scratch;

	for (int s = 0; s < NSERIAL; s++) {
		struct inst *in = &I[s];
		if (!in->live || in->opcode != CMD_POLL || in->emu_only)
			continue;
		if (mark_racy)
			in->racy = true;
		for (int side = 0; side < NSIDE; side++)
			for (int i = 0; i < in->nsub[side] && pending(side, s);
			     i++)
				if (io_cancel(C[side][in->slot].h,
					      in->obj[side],
					      &scratch) == -EINPROGRESS)
					in->cancelled[side]++;
	}
	settle();
	for (int slot = 0; slot < NSLOT; slot++)
		if (C[K][slot].live)
			reap_all(slot, "cancelling the polls");
}

/* ---- pointers chosen by the input ---- */

struct psel {
	uint8_t kind;
	uint16_t off;
};

enum {
	PK_DATA = 0, /* 0..5 */
	PK_A4K = 6,
	PK_A512 = 7,
	PK_END = 8,
	PK_NULL = 9,
	PK_LOW = 10,
	PK_HOLE = 11,
	PK_NONE = 12,
	PK_RO = 13,
	PK_KHALF = 14,
	PK_KEND = 15,
};

/* A pointer for a buffer: the data area, or one that faults. */
static void *buf_ptr(int side, struct psel p, uint32_t *data_off)
{
	uint32_t o = p.off % DATA_SIZE;

	switch (p.kind) {
	case PK_A4K:
		o &= ~4095u;
		break;
	case PK_A512:
		o &= ~511u;
		break;
	case PK_END:
		o = DATA_SIZE - 1 - (p.off % PAGE);
		break;
	case PK_NULL:
		return NULL;
	case PK_LOW:
		return (void *)(uintptr_t)(p.off & 1 ? 0x10 : 0x8000);
	case PK_HOLE:
		return (char *)fz_hole + p.off % PAGE;
	case PK_NONE:
		return page_of(side, P_NONE) + p.off % PAGE;
	case PK_RO:
		return page_of(side, P_RO) + RO_DATA + p.off % RO_DATA;
	case PK_KHALF:
		return (void *)(0xffff800000000000ul + p.off);
	case PK_KEND:
		return (void *)(0x7ffffffff000ul - p.off % 64);
	default:
		break;
	}
	if (data_off)
		*data_off = o;
	return page_of(side, P_DATA) + o;
}

static bool is_data(struct psel p)
{
	return p.kind <= PK_END;
}

/* ---- the input ---- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static unsigned u8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static unsigned u16(struct rd *r)
{
	unsigned a = u8(r);

	return a | u8(r) << 8;
}

static struct psel get_psel(struct rd *r)
{
	struct psel p;

	p.kind = (uint8_t)(u8(r) % 16);
	p.off = (uint16_t)u16(r);
	return p;
}

static const int sizes[32] = {
    1,	 2,	  3,	   4,	  7,	 8,	  9,	   15,
    16,	 17,	  31,	   32,	  33,	 64,	  100,	   127,
    128, 129,	  255,	   256,	  511,	 1023,	  1024,	   0,
    -1,	 INT_MIN, INT_MAX, 65536, 65537, 4194304, 4194305, 0x1000000};
#define NSIZES_VALID 23

static const short opcodes[16] = {
    CMD_PREAD, CMD_PREAD, CMD_PWRITE, CMD_PWRITE, CMD_FSYNC,   CMD_FDSYNC,
    CMD_POLL,  CMD_POLL,  CMD_PREADV, CMD_PREADV, CMD_PWRITEV, CMD_PWRITEV,
    4,	       6,	  9,	      -1};
static const uint64_t lengths[32] = {
    0,	      1,	  2,	      7,	  8,	      9,
    16,	      64,	  100,	      511,	  512,	      513,
    1024,     4095,	  4096,	      4097,	  8192,	      12288,
    16384,    65536,	  1 << 20,    0x7ffff000, 0x7ffff001, SSIZE_MAX,
    SIZE_MAX, 1ull << 63, 1ull << 32, 3,	  24,	      256,
    4096,     32};
static const int64_t offsets[32] = {
    0,	       0,	   0,	      1,
    7,	       8,	   511,	      512,
    513,       4095,	   4096,      4097,
    8192,      12288,	   16383,     16384,
    16385,     65536,	   1 << 20,   1ll << 30,
    1ll << 40, -1,	   -2,	      -512,
    -4096,     LLONG_MIN,  LLONG_MAX, LLONG_MAX - 4095,
    1ll << 62, 0x7ffff000, 3 * 4096,  256};
static const uint32_t rwflags[32] = {
    0x1,  0x2,	0x4,  0x8, 0x10, 0x20, 0x40, 0x80, 0x100,      0x200,	   0x30,
    0x18, 0x48, 0x88, 0x6, 0xa,	 0x12, 0x14, 0x3,  0x80000000, 0xffffffff, 0xc,
    0x24, 0x28, 0x8,  0x8, 0x80, 0x2,  0x4,  0x10, 0x20,       0x1ff};
static const uint64_t pollevs[16] = {
    POLLIN,  POLLOUT,	 POLLIN | POLLOUT,   POLLPRI,	 POLLRDHUP, 0,
    POLLERR, POLLHUP,	 POLLRDNORM,	     POLLWRNORM, 0xffff,    0x10000,
    0x1ffff, 1ull << 40, POLLIN | POLLRDHUP, POLLIN};
/* IOPRIO_PRIO_VALUE(class, level), classes 0 to 7, as aio_reqprio (s16). */
#define PRIO(c, l) ((short)(((c) << 13) | (l)))
static const short prios[16] = {
    0,		PRIO(2, 0), PRIO(2, 4),	    PRIO(2, 7), PRIO(3, 0), PRIO(1, 0),
    PRIO(1, 7), PRIO(0, 1), PRIO(4, 0),	    PRIO(7, 0), -1,	    0x7fff,
    PRIO(2, 8), PRIO(3, 5), PRIO(2, 0x400), PRIO(0, 8)};
static const uint64_t iovcnts[16] = {
    0, 1, 1, 2, 2, 3, 4, 8, 9, 16, 64, 1024, 1025, 0x7fffffff, SIZE_MAX, 5};
static const int resfds[16] = {FK_NOTIFY, FK_NOTIFY, FK_NOTIFY,	 FK_NOTIFY,
			       FK_NOTIFY, FK_NOTIFY, FK_NOTIFY,	 FK_NOTIFY,
			       FK_OPATH,  FK_CLOSED, FK_BADFD,	 FK_PIPE_R,
			       FK_REG,	  FK_EPOLL,  FK_DEVNULL, FK_SOCK_A};

#define MAX_SEG 4
struct desc {
	short opcode;
	int fk;
	struct psel ptr; /* buffer, or iovec array */
	uint64_t raw_buf;
	uint64_t nbytes;
	int64_t offset;
	uint32_t rwf;
	uint32_t flags;
	int resfd_fk;
	short reqprio;
	int64_t reserved2;
	uint32_t key;
	int nseg;
	struct {
		struct psel p;
		uint64_t len;
	} seg[MAX_SEG];
	/* where its iovec array goes in the IOV area */
	unsigned iov_pos;
};

static bool is_rw(int op)
{
	return op == CMD_PREAD || op == CMD_PWRITE || op == CMD_PREADV ||
	       op == CMD_PWRITEV;
}

static bool is_write(int op)
{
	return op == CMD_PWRITE || op == CMD_PWRITEV;
}

static bool is_vec(int op)
{
	return op == CMD_PREADV || op == CMD_PWRITEV;
}

static void get_desc(struct rd *r, struct desc *d)
{
	unsigned b;

	memset(d, 0, sizeof(*d));
	d->opcode = opcodes[u8(r) % 16];
	d->fk = (int)(u8(r) % FK_NOTIFY);
	d->ptr = get_psel(r);
	unsigned bn = u8(r), bo = u8(r), bw = u8(r);
	unsigned bf = u8(r), brf = u8(r), bp = u8(r);
	/* Syncs and polls get their other fields only when asked: they are
	 * all EINVAL otherwise. */
	bool garbage = bf & 0x20;
	bool rw = is_rw(d->opcode) ||
		  (d->opcode != CMD_FSYNC && d->opcode != CMD_FDSYNC &&
		   d->opcode != CMD_POLL);

	d->nbytes = rw || garbage
			? (bn < 192 ? lengths[bn % 32] : (bn * 131u) & 0x3fff)
			: 0;
	d->offset = rw || garbage ? offsets[bo % 32] : 0;
	d->rwf = (rw || garbage) && bw >= 128 ? rwflags[bw % 32] : 0;
	d->flags = bf & (F_RESFD | F_IOPRIO);
	if (bf & 4)
		d->flags |= 0x80000004u; /* ignored by the kernel */
	d->resfd_fk = resfds[brf % 16];
#if KNOWN_BUG_RESFD_OPATH
	if (d->resfd_fk == FK_OPATH)
		d->resfd_fk = FK_CLOSED;
#endif
	d->reqprio = prios[bp % 16];
	d->reserved2 = (bf & 8) ? (int64_t)(bf | 1) : 0;
	d->key = (bf & 0x10) ? 0x1234 : 0;
	if (d->opcode == CMD_POLL)
		d->raw_buf =
		    d->ptr.kind == 15 ? d->ptr.off : pollevs[d->ptr.kind];
	else if (!rw)
		d->raw_buf = garbage ? d->ptr.off : 0;
#if KNOWN_BUG_POLL_WITHOUT_POLL_METHOD
	if (d->opcode == CMD_POLL && (uint16_t)d->raw_buf == d->raw_buf &&
	    !(d->raw_buf & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)) &&
	    (fk_resource(d->fk) == R_REG || fk_resource(d->fk) == R_DIRECT ||
	     fk_resource(d->fk) == R_SHM || d->fk == FK_DIR ||
	     d->fk == FK_DEVNULL))
		d->raw_buf |= POLLIN;
#endif
	if (is_vec(d->opcode)) {
		d->nbytes = iovcnts[bn % 16];
		d->nseg = d->nbytes < MAX_SEG ? (int)d->nbytes : MAX_SEG;
		for (int i = 0; i < d->nseg; i++) {
			d->seg[i].p = get_psel(r);
			b = u8(r);
			d->seg[i].len =
			    b < 192 ? lengths[b % 32] : (b * 131u) & 0x3fff;
		}
	}
#if KNOWN_BUG_IOVEC_CHECK_ORDER
	if (is_vec(d->opcode)) {
		bool neg = false;
		for (int i = 0; i < d->nseg; i++)
			neg |= (int64_t)d->seg[i].len < 0;
		for (int i = 0; neg && i < d->nseg; i++)
			if (!is_data(d->seg[i].p))
				d->seg[i].p.kind = PK_DATA;
	}
#endif
#if KNOWN_BUG_THREADS_DIR_READ_ORDER
	if (strcmp(fz_engine, "threads") == 0 && is_rw(d->opcode) &&
	    !is_write(d->opcode) && (d->fk == FK_DIR || d->fk == FK_EPOLL)) {
		if (!is_data(d->ptr))
			d->ptr.kind = PK_DATA;
		for (int i = 0; i < d->nseg; i++)
			if (!is_data(d->seg[i].p))
				d->seg[i].p.kind = PK_DATA;
	}
#endif
#if KNOWN_BUG_THREADS_IOV_ADVANCE
	if (strcmp(fz_engine, "threads") == 0 && is_vec(d->opcode) &&
	    (fk_resource(d->fk) == R_REG || fk_resource(d->fk) == R_SHM ||
	     fk_stream(d->fk))) {
		bool first = true;
		for (int i = 0; i < d->nseg; i++)
			if (d->seg[i].len && !first)
				d->seg[i].len = 0;
			else if (d->seg[i].len)
				first = false;
	}
#endif
#if KNOWN_BUG_ZERO_LENGTH || KNOWN_BUG_ZERO_LENGTH_RWF
	bool threads = strcmp(fz_engine, "threads") == 0;
	if (is_rw(d->opcode) && (threads || (is_write(d->opcode) &&
					     (fk_resource(d->fk) == R_REG ||
					      fk_resource(d->fk) == R_SHM)))) {
		/* segments past the decoded ones are empty */
		bool zero =
		    !is_vec(d->opcode) ? d->nbytes == 0 : d->nbytes <= NIOV;
		for (int i = 0; zero && i < d->nseg; i++)
			zero = d->seg[i].len == 0;
#if KNOWN_BUG_ZERO_LENGTH
		if (zero && !is_write(d->opcode) &&
		    (d->fk == FK_EVENTFD || d->fk == FK_DIR))
			d->fk = FK_DEVNULL;
		if (zero && is_write(d->opcode) &&
		    (d->fk == FK_SOCK_A || d->fk == FK_SOCK_B))
			d->fk = FK_DEVNULL;
		if (zero)
			d->rwf &= ~RWF_ATOMIC_;
#endif
		if (zero)
			d->rwf &= ~(RWF_DONTCACHE_ | RWF_NOWAIT_);
	}
#endif
}

/* EN_EXT: an iocb of an earlier call of the same operation, still in
 * flight, submitted again. */
enum ekind { EN_SLOT, EN_NULL, EN_WILD, EN_RO, EN_DUP, EN_EXT };

struct entry {
	int kind;
	int slot; /* EN_SLOT: arena iocb; EN_DUP: the entry duplicated */
	int param;
	bool has_dup;
	struct desc d;
	int serial;
	struct iocb *ptr[NSIDE];
};

/* ---- per-request checks the kernel makes from the file ---- */

static unsigned eff_rwf(const struct desc *d)
{
	unsigned f = d->rwf;

#if KNOWN_BUG_RWF_NOSIGNAL
	f &= ~RWF_NOSIGNAL_;
#endif
#if KNOWN_BUG_NOWAIT_BUFFERED_WRITE
	if (is_write(d->opcode) && fk_resource(d->fk) == R_REG)
		f &= ~RWF_NOWAIT_;
#endif
	return f;
}

/* Whether d moves no bytes whatever the file: no length, or only empty
 * segments (uaio.7: such a transfer with a flag the file refuses
 * "completes with 0"). */
static bool transfers_nothing(const struct desc *d)
{
	if (!is_vec(d->opcode))
		return d->nbytes == 0;
	/* Segments past the decoded ones are empty. */
	if (d->nbytes > NIOV)
		return false;
	for (int i = 0; i < d->nseg; i++)
		if (d->seg[i].len)
			return false;
	return true;
}

/*
 * Where uaio.7 says the emulated engines make a submit-time check of the
 * kernel later or not at all: such an iocb is submitted alone, and the
 * kernel's refusal may become an acceptance on the emulated side.
 */
static int dclass_of(const struct entry *en)
{
	const struct desc *d = &en->d;
	int c = 0;

	if (en->kind == EN_RO)
		return en->param % RO_TEMPLATES < 2 ? D_RO : 0;
	if (en->kind != EN_SLOT || !is_rw(d->opcode))
		return 0;
	unsigned f = eff_rwf(d);
	if (!(f & ~kernel_rwf) &&
	    ((f & (RWF_NOWAIT_ | RWF_DONTCACHE_)) ||
	     (is_write(d->opcode) && (f & RWF_ATOMIC_)))) {
		c |= D_RWF;
		if (transfers_nothing(d))
			c |= D_EMPTY;
	}
	if (fz_on_uring() && !is_write(d->opcode) &&
	    (d->fk == FK_DIR || d->fk == FK_EPOLL))
		c |= D_UREAD;
	if (is_write(d->opcode) && (d->fk == FK_EVENTFD || d->fk == FK_EPOLL))
		c |= D_NOWRITE;
	return c;
}

/* The errno the kernel gives for the checks of class c. */
static bool dclass_errno(int c, int err)
{
	return ((c & D_RWF) && err == -EOPNOTSUPP) ||
	       ((c & (D_UREAD | D_NOWRITE)) && err == -EINVAL) ||
	       ((c & D_RO) && err == -EFAULT);
}

/* ---- what requests touch, to split batches where they would race ---- */

struct footprint {
	bool poll; /* a poll of res, which changes nothing */
	int res;
	bool res_write; /* changes the resource */
	bool stream;
	int n;
	struct {
		uint32_t lo, hi;
		bool w; /* memory written */
	} m[MAX_SEG + 1];
	unsigned iov_lo, iov_hi; /* its iovec array in the IOV area */
};

static void add_range(struct footprint *f, struct psel p, uint64_t len, bool w)
{
	uint32_t lo;

	if (!is_data(p) || !len)
		return;
	(void)buf_ptr(K, p, &lo);
	uint64_t hi = (uint64_t)lo + len;
	if (hi > DATA_SIZE)
		hi = DATA_SIZE;
	f->m[f->n].lo = lo;
	f->m[f->n].hi = (uint32_t)hi;
	f->m[f->n].w = w;
	f->n++;
}

static void footprint_of(const struct entry *en, struct footprint *f)
{
	const struct desc *d = &en->d;

	memset(f, 0, sizeof(*f));
	if (en->kind != EN_SLOT)
		return;
	f->res = fk_resource(d->fk);
	f->stream = fk_stream(d->fk) || d->fk == FK_EVENTFD;
	if (!is_rw(d->opcode)) {
		/* Syncs and polls change nothing. */
		f->poll = d->opcode == CMD_POLL;
		f->res = f->poll ? f->res : R_NONE;
		f->stream = false;
		return;
	}
	f->res_write = is_write(d->opcode) || f->stream;
	if (is_vec(d->opcode)) {
		if (d->nbytes <= NIOV) {
			f->iov_lo = d->iov_pos;
			f->iov_hi = d->iov_pos + (unsigned)d->nbytes;
		}
		for (int i = 0; i < d->nseg; i++)
			add_range(f, d->seg[i].p, d->seg[i].len,
				  !is_write(d->opcode));
	} else {
		add_range(f, d->ptr, d->nbytes, !is_write(d->opcode));
	}
}

static bool conflict(const struct footprint *a, const struct footprint *b)
{
	if (a->poll || b->poll) {
#if KNOWN_BUG_URING_POLL_BATCH_ORDER
		if (fz_on_uring() && a->poll != b->poll && a->res != R_NONE &&
		    a->res == b->res)
			return true;
#endif
		return false;
	}
	if (a->res != R_NONE && a->res == b->res &&
	    (a->stream || a->res_write || b->res_write))
		return true;
	if (a->iov_hi > a->iov_lo && b->iov_hi > b->iov_lo &&
	    a->iov_lo < b->iov_hi && b->iov_lo < a->iov_hi)
		return true;
	for (int i = 0; i < a->n; i++)
		for (int j = 0; j < b->n; j++)
			if ((a->m[i].w || b->m[j].w) &&
			    a->m[i].lo < b->m[j].hi && b->m[j].lo < a->m[i].hi)
				return true;
	return false;
}

/* ---- keeping the kernel engine from blocking in io_submit ---- */

static uint64_t rw_total(const struct desc *d, bool *fails)
{
	uint64_t t = 0;

	*fails = false;
	if (!is_vec(d->opcode)) {
		if ((int64_t)d->nbytes < 0)
			*fails = true;
		return d->nbytes > 0x7ffff000 ? 0x7ffff000 : d->nbytes;
	}
	if (d->nbytes > 1024 || d->ptr.kind == PK_NULL)
		*fails = true;
	for (uint64_t i = 0; i < d->nbytes && i < MAX_SEG; i++) {
		if ((int64_t)d->seg[i].len < 0)
			*fails = true;
		t += d->seg[i].len > 0x7ffff000 ? 0x7ffff000 : d->seg[i].len;
	}
	return t;
}

/*
 * The rw_flags to submit: RWF_NOWAIT added where the kernel engine would
 * wait inside io_submit for a stream (or an eventfd) that will not become
 * ready, decided from the kernel side's state.  A hang of the emulated
 * engine is a finding; one of the kernel engine is the harness's.
 */
/*
 * A read the kernel engine would wait for inside io_submit, let wait: the
 * kernel side's io_submit runs on a thread of its own, the harness writes to
 * the stream 2 ms later, and the same right after the emulated side's
 * io_submit, so that both reads get it (the emulated engine's from a
 * request that really waited).  A thread of its own, because io_uring's
 * task work for the thread that owns the emulated side's rings would
 * interrupt the kernel's wait (-EINTR).
 */
struct unblock {
	int fk_write; /* -1: none */
	size_t n;
	pthread_t t;
	io_context_t h;
	long nr;
	struct iocb **pp;
	int ret;
};

static void *unblock_main(void *arg)
{
	struct unblock *u = arg;

	u->ret = io_submit(u->h, u->nr, u->pp);
	return NULL;
}

/* io_submit from a thread that exits at once: the uring engine hands
 * its requests over to its completion thread (uaio.7), the kernel's and
 * the threads engine's do not care. */
struct tsub {
	io_context_t h;
	long nr;
	struct iocb **pp;
	int ret;
};

static void *tsub_main(void *arg)
{
	struct tsub *t = arg;

	t->ret = io_submit(t->h, t->nr, t->pp);
	return NULL;
}

static int submit_from_thread(io_context_t h, long nr, struct iocb **pp)
{
	struct tsub t = {h, nr, pp, 0};
	pthread_t tid;

	if (pthread_create(&tid, NULL, tsub_main, &t))
		fz_fatal("pthread_create");
	pthread_join(tid, NULL);
	return t.ret;
}

static void unblock_write(int side, const struct unblock *u)
{
	unsigned char buf[256];

	if (!fk_open(side, u->fk_write))
		return;
	if (u->fk_write == FK_EVENTFD) {
		uint64_t v = u->n;
		if (write(W[side].fd[FK_EVENTFD], &v, sizeof(v)) != sizeof(v))
			fz_fatal("eventfd write: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < u->n; i++)
		buf[i] = (unsigned char)(i * 7 + u->n);
	if (send(W[side].fd[u->fk_write], buf, u->n,
		 MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    (errno != ENOTSOCK ||
	     write(W[side].fd[u->fk_write], buf, u->n) < 0))
		fz_fatal("unblocking write: %s", strerror(errno));
	W[side].stream_writes[fk_resource(u->fk_write)]++;
}

static unsigned safe_rwf(const struct desc *d, struct unblock *ub)
{
	unsigned f = eff_rwf(d);
	bool fails;
	uint64_t len = rw_total(d, &fails);

	if (!is_rw(d->opcode) || (f & RWF_NOWAIT_) || fails || len == 0 ||
	    !fk_open(K, d->fk) || d->offset < 0)
		return f;
	if (!is_write(d->opcode)) {
		switch (d->fk) {
		case FK_PIPE_R:
			if (!fk_open(K, FK_PIPE_W) ||
			    stream_queued(K, d->fk) > 0)
				return f;
			break;
		case FK_SOCK_A:
		case FK_SOCK_B:
			if (d->offset != 0 || !fk_open(K, stream_peer(d->fk)) ||
			    stream_queued(K, d->fk) > 0)
				return f;
			break;
		case FK_EVENTFD: {
			struct pollfd p = {.fd = W[K].fd[FK_EVENTFD],
					   .events = POLLIN};
			if (len < 8 ||
			    (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)))
				return f;
			break;
		}
		default:
			return f;
		}
		if (ub && ub->fk_write < 0) {
			ub->fk_write = d->fk == FK_PIPE_R   ? FK_PIPE_W
				       : d->fk == FK_SOCK_A ? FK_SOCK_B
				       : d->fk == FK_SOCK_B ? FK_SOCK_A
							    : FK_EVENTFD;
			ub->n = d->fk == FK_EVENTFD ? 2 : 1 + len % 200;
			return f;
		}
		return f | RWF_NOWAIT_;
	}
	switch (d->fk) {
	case FK_PIPE_W:
	case FK_SOCK_A:
	case FK_SOCK_B: {
		int peer = stream_peer(d->fk);
		if (!fk_open(K, peer) || (d->fk != FK_PIPE_W && d->offset != 0))
			return f;
		long q = stream_queued(K, peer);
		if (q == 0)
			W[K].stream_writes[fk_resource(peer)] = 0;
		if (q >= 0 && (uint64_t)q + len <= 16 * 1024 &&
		    W[K].stream_writes[fk_resource(peer)] < 8) {
			for (int s = 0; s < NSIDE; s++)
				W[s].stream_writes[fk_resource(peer)]++;
			return f;
		}
		return f | RWF_NOWAIT_;
	}
	default:
		return f;
	}
}

/* ---- building the iocbs ---- */

static void fill_iocb(int side, struct iocb *cb, const struct desc *d,
		      unsigned rwf, int serial)
{
	memset(cb, 0, sizeof(*cb));
	cb->data = (void *)tramps[serial];
	cb->key = d->key;
	cb->aio_rw_flags = rwf;
	cb->aio_lio_opcode = d->opcode;
	cb->aio_reqprio = d->reqprio;
	cb->aio_fildes = world_fd(side, d->fk);
	if (d->opcode == CMD_POLL || d->opcode == CMD_FSYNC ||
	    d->opcode == CMD_FDSYNC) {
		cb->u.c.buf = (void *)(uintptr_t)d->raw_buf;
	} else if (is_vec(d->opcode)) {
		struct iovec *iov = (struct iovec *)page_of(side, P_IOV);
		unsigned pos = d->iov_pos;
		if (d->nbytes <= NIOV)
			for (unsigned i = 0; i < d->nbytes; i++)
				iov[pos + i] =
				    i < (unsigned)d->nseg
					? (struct iovec){buf_ptr(side,
								 d->seg[i].p,
								 NULL),
							 d->seg[i].len}
					: (struct iovec){page_of(side, P_DATA),
							 0};
		/* The array itself is in the IOV area, or faults. */
		switch (d->ptr.kind) {
		case PK_NULL:
		case PK_LOW:
		case PK_HOLE:
		case PK_NONE:
		case PK_KHALF:
			cb->u.c.buf = buf_ptr(side, d->ptr, NULL);
			break;
		case PK_KEND:
			/* runs into the guard page after the IOV area */
			cb->u.c.buf = iov + NIOV - (d->ptr.off % 4);
			break;
		default:
			cb->u.c.buf = iov + pos;
			break;
		}
	} else {
		cb->u.c.buf = buf_ptr(side, d->ptr, NULL);
	}
	cb->u.c.nbytes = d->nbytes;
	cb->u.c.offset = d->offset;
	cb->u.c.__pad3 = d->reserved2;
	cb->u.c.flags = d->flags;
	cb->u.c.resfd = (unsigned)world_fd(side, d->resfd_fk);
}

/* The read-only templates: what an iocb the kernel cannot write the key
 * of does, for D_RO (key 0) and for refusals that come first. */
static void write_ro_templates(void)
{
	for (int side = 0; side < NSIDE; side++) {
		unsigned char *ro = page_of(side, P_RO);
		struct iocb *t = (struct iocb *)ro;

		mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
		memset(ro, 0, PAGE);
		for (int i = 0; i < RO_TEMPLATES; i++) {
			memset(&t[i], 0, sizeof(t[i]));
			t[i].data = (void *)tramps[SERIAL_RO];
			t[i].aio_fildes = world_fd(side, FK_REG);
			t[i].aio_lio_opcode = CMD_PREAD;
			t[i].u.c.buf = page_of(side, P_DATA);
			t[i].u.c.nbytes = 16;
		}
		t[0].aio_lio_opcode = CMD_POLL;
		t[0].u.c.buf = (void *)(uintptr_t)(POLLIN | POLLOUT);
		t[0].u.c.nbytes = 0;
		t[1].u.c.buf = ro + RO_DATA;
		t[2].key = 1;
		t[3].aio_fildes = FD_NEVER;
		mprotect(ro, PAGE, PROT_READ);
	}
}

/* iocbs on the stack (the library copies those directly): in run()'s
 * frame, so that they live as long as the input, for io_cancel. */
static struct iocb (*stack_iocbs)[NIOCB];

static struct iocb *slot_ptr(int side, bool stack, int slot)
{
	return stack ? &stack_iocbs[side][slot]
		     : (struct iocb *)page_of(side, P_IOCB) + slot;
}

/* ---- context targets ---- */

static io_context_t garbage_handle(int side, unsigned g)
{
	switch (g % 5) {
	case 0:
		return NULL;
	case 1:
		return (io_context_t)1;
	case 2:
		return (io_context_t)~0ul;
	case 3:
		return (io_context_t)0xffff800000000000ul;
	default:
		/* mapped, and laid out like nothing */
		return (io_context_t)page_of(side, P_DATA);
	}
}

struct target {
	int slot; /* a live slot, or -1 */
	io_context_t h[NSIDE];
	const char *what;
};

static struct target get_target(struct rd *r)
{
	unsigned b = u8(r);
	struct target t = {.slot = -1};
	char name[UAIO_ENGINE_NAME_MAX];
	int k = (int)(b % 8);

	if (k <= 5) {
		int slot = k <= 4 ? 0 : 1;
		if (C[K][slot].live) {
			t.slot = slot;
			t.what = slot ? "ctx1" : "ctx0";
			for (int s = 0; s < NSIDE; s++)
				t.h[s] = C[s][slot].h;
			return t;
		}
		k = 6;
	}
	if (k == 6 && stale[K] && stale[E] &&
	    uaio_engine(stale[K], name, sizeof(name)) != 0 &&
	    uaio_engine(stale[E], name, sizeof(name)) != 0) {
		/* A destroyed handle, unless its address came back. */
		t.what = "destroyed";
		for (int s = 0; s < NSIDE; s++)
			t.h[s] = stale[s];
		return t;
	}
	t.what = "garbage";
	for (int s = 0; s < NSIDE; s++)
		t.h[s] = garbage_handle(s, b >> 3);
	return t;
}

/* ---- operations ---- */

static void check_keys(const char *why)
{
	for (int st = 0; st < 2; st++)
		for (int i = 0; i < NIOCB; i++) {
			unsigned k = slot_ptr(K, st, i)->key;
			unsigned e = slot_ptr(E, st, i)->key;
			if (k != e)
				fz_fail("%s: %s iocb %d has key %#x on kernel, "
					"%#x on %s",
					why, st ? "stack" : "arena", i, k, e,
					fz_engine);
		}
}

/* The emulated engine accepted a request the kernel refused (documented):
 * let it complete, or cancel it, and reap both rings so that they hold the
 * same events again. */
static void sync_emu_only(int s)
{
	struct inst *in = &I[s];
	double t0 = now_ms();

	while (pending(E, s) && now_ms() - t0 < 20)
		pause_us(200);
	if (pending(E, s)) {
		struct io_event scratch;
		int r = io_cancel(C[E][in->slot].h, in->obj[E], &scratch);
		fz_log("   E-only request #%d still waiting: io_cancel = %s", s,
		       err_name(r));
	}
	settle();
	t0 = now_ms();
	while (pending(E, s)) {
		if (now_ms() - t0 > SETTLE_MS) {
			char d[512];
			describe(s, d, sizeof(d));
			fz_fail("%s: accepted by %s only (documented), never "
				"completed, even cancelled",
				d, fz_engine);
		}
		pause_us(500);
	}
	reap_all(in->slot, "after a request only the emulated side took");
	if (in->emu_only & D_NOWRITE) {
		/* It changed the eventfd: both sides get the kernel's count
		 * back, and the polls it may have woken are dropped. */
		cancel_polls(true);
		world_resync();
	}
}

static int iov_cursor;

static void plan_iov(struct desc *d)
{
	if (!is_vec(d->opcode) || d->nbytes > NIOV)
		return;
	if (iov_cursor + (int)d->nbytes > NIOV)
		iov_cursor = 0;
	d->iov_pos = (unsigned)iov_cursor;
	iov_cursor += (int)d->nbytes;
}

static int free_slot(int want, bool stack)
{
	for (int i = 0; i < NIOCB; i++) {
		int slot = (want + i) % NIOCB;
		struct iocb *p = slot_ptr(K, stack, slot);
		bool busy = false;
		for (int s = 0; s < NSERIAL && !busy; s++)
			busy = I[s].live && I[s].obj[K] == p;
		if (!busy)
			return slot;
	}
	return -1;
}

struct batch {
	struct target t;
	unsigned nr_kind, pp_kind;
	bool pp_khalf;
	bool stack;
	bool unblock; /* a read may wait for a write (struct unblock) */
	bool thread;  /* submitted by a thread that exits */
};

static void submit_batch(struct batch *b, struct entry *en, int n, bool whole)
{
#if KNOWN_BUG_IOCBPP_OVERREAD
	struct iocb *stkpp[NSIDE][64 + MAX_ENTRIES];
#else
	struct iocb *stkpp[NSIDE][MAX_ENTRIES + 4];
#endif
	struct iocb **pp[NSIDE];
	long nr = n;
	int slot = b->t.slot;
	struct unblock ub = {.fk_write = -1};
	int ret[NSIDE];
	char line[1200];
	size_t ll = 0;

	if (slot >= 0) {
		settle();
		unsigned out = outstanding(slot), cap = C[K][slot].cap;
		if (out + (unsigned)n > cap)
			n = out >= cap ? 0 : (int)(cap - out);
		if (!n)
			return;
		nr = n;
	}
	if (whole && n) {
		switch (b->nr_kind) {
		case 4:
			nr = 0;
			break;
		case 5:
			nr = -1;
			break;
		case 6:
			nr = n + 3;
			break;
		case 7:
			nr = LONG_MAX;
			break;
		default:
			break;
		}
	}
	world_check_hole();
	/* iocbs and their serials */
	for (int i = 0; i < n; i++) {
		struct entry *x = &en[i];
		static const char *const kinds[] = {"",	  "NULL", "wild",
						    "ro", "dup",  "again"};
		if (x->kind != EN_SLOT) {
			ll += (size_t)snprintf(line + ll, sizeof(line) - ll,
					       " [%s %d]", kinds[x->kind],
					       x->kind == EN_EXT   ? x->serial
					       : x->kind == EN_DUP ? x->slot
								   : x->param);
			if (ll >= sizeof(line))
				ll = sizeof(line) - 1;
		}
		if (x->kind == EN_EXT)
			continue;
		x->serial = -1;
		if (x->kind == EN_DUP) {
			struct entry *o = &en[x->slot];
			x->serial = o->serial;
			for (int s = 0; s < NSIDE; s++)
				x->ptr[s] = o->ptr[s];
			continue;
		}
		for (int s = 0; s < NSIDE; s++) {
			switch (x->kind) {
			case EN_SLOT:
				x->ptr[s] = slot_ptr(s, b->stack, x->slot);
				break;
			case EN_NULL:
				x->ptr[s] = NULL;
				break;
			case EN_WILD: {
				static const uint8_t wild[5] = {
				    PK_LOW, PK_HOLE, PK_NONE, PK_KHALF,
				    PK_KEND};
				struct psel p = {wild[x->param % 5],
						 (uint16_t)x->param};
				x->ptr[s] = buf_ptr(s, p, NULL);
				break;
			}
			case EN_RO:
				x->ptr[s] = (struct iocb *)page_of(s, P_RO) +
					    x->param % RO_TEMPLATES;
				break;
			}
		}
		if (x->kind == EN_RO)
			x->serial = SERIAL_RO;
		if (x->kind != EN_SLOT)
			continue;
		x->serial = alloc_serial();
		unsigned rwf =
		    safe_rwf(&x->d, b->unblock && !x->has_dup ? &ub : NULL);
		/* The same iocb again later: its flags must hold then too. */
		if (x->has_dup && (fk_stream(x->d.fk) || x->d.fk == FK_EVENTFD))
			rwf |= RWF_NOWAIT_;
		for (int s = 0; s < NSIDE; s++)
			fill_iocb(s, x->ptr[s], &x->d, rwf, x->serial);
		char what[200];
		if (is_rw(x->d.opcode)) {
			int w = snprintf(what, sizeof(what), "%s=%s%u+%u",
					 is_vec(x->d.opcode) ? "iov" : "buf",
					 is_data(x->d.ptr) ? "data" : "wild",
					 x->d.ptr.kind, x->d.ptr.off);
			for (int g = 0;
			     g < x->d.nseg && w > 0 && (size_t)w < sizeof(what);
			     g++)
				w += snprintf(
				    what + w, sizeof(what) - (size_t)w,
				    "{%s%u+%u,%#llx}",
				    is_data(x->d.seg[g].p) ? "" : "wild",
				    x->d.seg[g].p.kind, x->d.seg[g].p.off,
				    (unsigned long long)x->d.seg[g].len);
		} else
			snprintf(what, sizeof(what), "buf=%#llx",
				 (unsigned long long)x->d.raw_buf);
		ll += (size_t)snprintf(
		    line + ll, sizeof(line) - ll,
		    " [%s%d %s(%d) fd=%s %s n=%#llx off=%lld rwf=%#x fl=%#x "
		    "resfd=%s prio=%d%s]",
		    b->stack ? "stk" : "iocb", x->slot, opname(x->d.opcode),
		    x->d.opcode, fknames[x->d.fk], what,
		    (unsigned long long)x->d.nbytes, (long long)x->d.offset,
		    rwf, x->d.flags, fknames[x->d.resfd_fk], x->d.reqprio,
		    x->d.reserved2 || x->d.key ? " +reserved/key" : "");
		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
	}
	/* the pointer arrays */
	for (int s = 0; s < NSIDE; s++) {
		struct iocb **area = (struct iocb **)page_of(s, P_IOCBPP);
		memset(area, 0, PAGE);
		memset(stkpp[s], 0, sizeof(stkpp[s]));
		switch (b->pp_kind) {
		case 4:
			pp[s] = area + PAGE / sizeof(*area) - n;
			break;
		case 5:
			pp[s] = stkpp[s];
			break;
		case 6:
#if KNOWN_BUG_NULL_POINTER_ARITH
			pp[s] = (struct iocb **)0x8000;
#else
			pp[s] = NULL;
#endif
			break;
		case 7:
			pp[s] = b->pp_khalf
				    ? (struct iocb **)0xffff800000000000ul
				    : (struct iocb **)0x8000;
			break;
		default:
			pp[s] = area;
			break;
		}
		if (pp[s] == area || pp[s] == stkpp[s] ||
		    pp[s] == area + PAGE / sizeof(*area) - n)
			for (int i = 0; i < n; i++)
				pp[s][i] = en[i].ptr[s];
	}
	if (ub.fk_write >= 0) {
		/* libFuzzer's SIGALRM would make the kernel's waiting read
		 * -EINTR. */
		sigset_t alrm, old;
		sigemptyset(&alrm);
		sigaddset(&alrm, SIGALRM);
		pthread_sigmask(SIG_BLOCK, &alrm, &old);
		ub.h = b->t.h[K];
		ub.nr = nr;
		ub.pp = pp[K];
		if (pthread_create(&ub.t, NULL, unblock_main, &ub))
			fz_fatal("pthread_create");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pause_us(2000);
		unblock_write(K, &ub);
		pthread_join(ub.t, NULL);
		ret[K] = ub.ret;
		ret[E] = b->thread ? submit_from_thread(b->t.h[E], nr, pp[E])
				   : io_submit(b->t.h[E], nr, pp[E]);
		unblock_write(E, &ub);
	} else {
		for (int s = 0; s < NSIDE; s++)
			ret[s] = b->thread
				     ? submit_from_thread(b->t.h[s], nr, pp[s])
				     : io_submit(b->t.h[s], nr, pp[s]);
	}
	fz_log("%d: io_submit(%s, %ld)%.*s -> K=%s E=%s%s%s", opno, b->t.what,
	       nr, (int)ll, line, err_name(ret[K]), err_name(ret[E]),
	       ub.fk_write >= 0 ? " (a read waited for a write)" : "",
	       b->thread ? " (from a thread that exited)" : "");

	int acc[NSIDE] = {ret[K] > 0 ? ret[K] : 0, ret[E] > 0 ? ret[E] : 0};
	int dc = n == 1 ? dclass_of(&en[0]) : 0;
	bool emu_only = false;
	if (ret[K] != ret[E]) {
		/* uaio.7, "Beyond the kernel, and short of it": the checks
		 * of aio_rw_flags that depend on the file arrive in the
		 * event; on uring a read of a directory or epoll fd is
		 * accepted; a write to a file without write_iter is
		 * performed; a read-only iocb whose key is 0 is accepted.
		 * The kernel refuses them at submit, the emulated side may
		 * accept them or refuse them for a later check. */
		if (!(dc && ret[K] < 0 && dclass_errno(dc, ret[K]) &&
		      (ret[E] == 1 || ret[E] < 0)))
			fz_fail("io_submit returned %s on kernel, %s on %s",
				err_name(ret[K]), err_name(ret[E]), fz_engine);
		fz_log("   (documented: class %#x checked later by %s)", dc,
		       fz_engine);
		emu_only = ret[E] == 1;
	}
	for (int i = 0; i < n; i++) {
		int s = en[i].serial;
		if (s < 0)
			continue;
		struct inst *in = &I[s];
		if (!in->live && (acc[K] > i || acc[E] > i)) {
			if (en[i].kind == EN_RO) {
				memset(in, 0, sizeof(*in));
				in->opcode = en[i].param % RO_TEMPLATES
						 ? CMD_PREAD
						 : CMD_POLL;
				in->fk = FK_REG;
				in->pollev = POLLIN | POLLOUT;
			} else {
				const struct desc *d = &en[i].d;
				in->opcode = d->opcode;
				in->fk = (unsigned char)d->fk;
				in->pollev = (unsigned short)d->raw_buf;
				in->resfd = (d->flags & F_RESFD) &&
					    d->resfd_fk == FK_NOTIFY;
			}
			in->live = true;
			in->slot = slot;
			in->gen = C[K][slot].gen;
			in->op = opno;
			for (int t = 0; t < NSIDE; t++)
				in->obj[t] = en[i].ptr[t];
		}
		for (int side = 0; side < NSIDE; side++) {
			if (i >= acc[side])
				continue;
			if (in->nsub[side] >= MAX_DUP)
				fz_fatal("too many duplicates");
			in->nsub[side]++;
		}
	}
	for (int i = 0; i < n; i++)
		if (en[i].serial >= 0)
			I[en[i].serial].reserved = false;
	check_keys("after io_submit");
	if (emu_only) {
		I[en[0].serial].emu_only = dc;
		sync_emu_only(en[0].serial);
	}
}

static struct footprint fp_of(const struct entry *en, int i)
{
	struct footprint f;

	footprint_of(en[i].kind == EN_DUP ? &en[en[i].slot] : &en[i], &f);
	return f;
}

static int dclass_at(const struct entry *en, int i)
{
	return dclass_of(en[i].kind == EN_DUP ? &en[en[i].slot] : &en[i]);
}

/* Submit en[a..z) as one call. */
static void flush(struct batch *b, struct entry *en, int a, int z, bool whole)
{
	struct entry sub[MAX_ENTRIES];
	int m = z - a;

	for (int j = 0; j < m; j++) {
		sub[j] = en[a + j];
		if (sub[j].kind != EN_DUP)
			continue;
		if (sub[j].slot >= a) {
			sub[j].slot -= a;
			continue;
		}
		/* Its iocb went in an earlier call: submitted again if
		 * still in flight, else nothing to name. */
		const struct entry *o = &en[sub[j].slot];
		if (o->serial >= 0 && o->serial != SERIAL_RO &&
		    I[o->serial].live && b->t.slot >= 0) {
			sub[j].kind = EN_EXT;
			sub[j].serial = o->serial;
			for (int s = 0; s < NSIDE; s++)
				sub[j].ptr[s] = o->ptr[s];
		} else {
			sub[j].kind = EN_NULL;
		}
	}
	submit_batch(b, sub, m, whole);
	for (int j = 0; j < m; j++)
		if (en[a + j].kind != EN_DUP) {
			en[a + j].serial = sub[j].serial;
			for (int s = 0; s < NSIDE; s++)
				en[a + j].ptr[s] = sub[j].ptr[s];
		}
}

static void op_submit(struct rd *r)
{
	struct batch b;
	struct entry en[MAX_ENTRIES];
	unsigned bn, bp;
	int n;

	b.t = get_target(r);
	bn = u8(r);
	bp = u8(r);
	n = 1 + (int)(bn & 7);
	b.nr_kind = (bn >> 3) % 8;
	b.pp_kind = bp % 8;
	b.pp_khalf = bp & 8;
	b.stack = bp & 0x10;
	b.unblock = bp & 0x20;
	b.thread = bp & 0x40;
	iov_cursor = 0;
	for (int i = 0; i < n; i++) {
		unsigned k = u8(r) % 16;
		struct entry *x = &en[i];
		memset(x, 0, sizeof(*x));
		x->serial = -1;
		if (k < 12) {
			x->kind = EN_SLOT;
			x->slot = (int)(u8(r) % NIOCB);
			get_desc(r, &x->d);
			plan_iov(&x->d);
		} else if (k == 12) {
			x->kind = EN_NULL;
			x->param = (int)u8(r);
		} else if (k == 13) {
			x->kind = EN_WILD;
			x->param = (int)u8(r);
		} else if (k == 14) {
			x->kind = EN_RO;
			x->param = (int)u8(r);
		} else {
			x->kind = EN_DUP;
			x->param = (int)u8(r);
			if (!i) {
				x->kind = EN_NULL;
				continue;
			}
			x->slot = (int)((unsigned)x->param % (unsigned)i);
			/* a duplicate of a duplicate is one of the first */
			while (en[x->slot].kind == EN_DUP)
				x->slot = en[x->slot].slot;
			if (en[x->slot].kind != EN_SLOT &&
			    en[x->slot].kind != EN_RO)
				x->kind = EN_NULL;
		}
	}
	/* Slots: not one whose iocb is still in flight (io_cancel finds
	 * requests by iocb address, and two waiting on one address would
	 * make the kernel and the library pick different ones); a slot
	 * named twice in one call is one iocb submitted twice. */
	for (int i = 0; i < n; i++) {
		if (en[i].kind != EN_SLOT)
			continue;
		for (int j = 0; j < i; j++)
			if (en[j].kind == EN_SLOT && en[j].slot == en[i].slot) {
				en[i].kind = EN_DUP;
				en[i].slot = j;
				break;
			}
		if (en[i].kind != EN_SLOT)
			continue;
		int s = free_slot(en[i].slot, b.stack);
		for (int j = 0; j < i && s >= 0; j++)
			if (en[j].kind == EN_SLOT && en[j].slot == s)
				s = -1;
		if (s < 0)
			en[i].kind = EN_NULL;
		else
			en[i].slot = s;
	}
	for (int i = 0; i < n; i++)
		if (en[i].kind == EN_DUP)
			en[en[i].slot].has_dup = true;
	/* Split where requests would race, and around one that the
	 * emulated engine checks later (submitted alone). */
	int start = 0;
	for (int i = 1; i < n; i++) {
		bool cut = dclass_at(en, i) || dclass_at(en, start);
		struct footprint fi = fp_of(en, i);
		for (int j = start; j < i && !cut; j++) {
			struct footprint fj = fp_of(en, j);
			cut = conflict(&fi, &fj);
		}
		if (!cut)
			continue;
		flush(&b, en, start, i, false);
		start = i;
	}
	flush(&b, en, start, n, start == 0);
}

#if KNOWN_BUG_TIMEOUT_OVERFLOW
#define TS_HUGE_SEC 1000000000l
#define TS_HUGE_NSEC 4000000000l
#else
#define TS_HUGE_SEC LONG_MAX
#define TS_HUGE_NSEC LONG_MAX
#endif
static const struct timespec timeouts[16] = {{0, 0},
					     {0, 1},
					     {0, 1000000},
					     {0, 5000000},
					     {0, 20000000},
					     {0, 999999999},
					     {0, 2000000000},
					     {-1, 0},
					     {0, -1},
					     {1, 0},
					     {TS_HUGE_SEC, 0},
					     {-TS_HUGE_SEC, 0},
					     {0, TS_HUGE_NSEC},
					     {0, 3000000},
					     {0, 0},
					     {2, 0}};

/* Whether a wait with t (as the kernel reads it) lasts longer than the
 * harness allows. */
static bool long_wait(const struct timespec *t)
{
	if (!t)
		return true;
	if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_sec > 0)
		return true;
	return t->tv_nsec > 20000000;
}

/* A timeout pointer per side, and what it points at (NULL if it
 * faults). */
static struct timespec *get_timeout(struct rd *r, int side, unsigned *sel,
				    const struct timespec **val)
{
	unsigned k = sel[0] % 8, v = sel[1] % 16;
	unsigned char *misc = page_of(side, P_MISC);
	struct timespec *t = (struct timespec *)(misc + MISC_TS);

	(void)r;
	switch (k) {
	case 0:
		*val = NULL;
		return NULL;
	case 5:
		*val = (const struct timespec *)(page_of(side, P_RO) + RO_ZERO);
		return (struct timespec *)*val;
	case 6:
		*val = NULL;
		return (struct timespec *)(v & 1 ? fz_hole
						 : page_of(side, P_NONE));
	case 7:
		*val = NULL;
		return (struct timespec *)0xffff800000000000ul;
	case 4:
		/* unaligned */
		t = (struct timespec *)(misc + MISC_TS + 24 + 1);
		/* fallthrough */
	default:
		memcpy(t, &timeouts[v], sizeof(*t));
		*val = &timeouts[v];
		return t;
	}
}

static const long counts[16] = {0,  1,	 1,    2,  3,	     4,	       8, 16,
				64, 511, 1024, -1, LONG_MIN, LONG_MAX, 5, 32};

static struct io_event *events_ptr(int side, unsigned k, unsigned p)
{
	struct io_event *ev = (struct io_event *)page_of(side, P_EV);

	switch (k % 16) {
	case 10:
		return ev + NEV - (p % 8); /* runs into the guard */
	case 11:
#if KNOWN_BUG_NULL_POINTER_ARITH
		return (struct io_event *)0x8000;
#else
		return NULL;
#endif
	case 12:
		return p & 1 ? (struct io_event *)fz_hole
			     : (struct io_event *)0x8000;
	case 13:
		return (struct io_event *)page_of(side, P_NONE);
	case 14:
		return (struct io_event *)(page_of(side, P_RO) + RO_ZERO);
	case 15:
		return (struct io_event *)0xffff800000000000ul;
	case 9:
		return (struct io_event *)((char *)ev + 4); /* unaligned */
	default:
		return ev + p % 64;
	}
}

static sigset_t *sigmask_ptr(int side, unsigned k)
{
	sigset_t *m = (sigset_t *)(page_of(side, P_MISC) + MISC_SIGSET);

	switch (k % 8) {
	case 0:
		return NULL;
	case 1:
		sigemptyset(m);
		return m;
	case 2:
		sigfillset(m);
		return m;
	case 3:
		return (sigset_t *)(page_of(side, P_RO) + RO_ZERO);
	case 4:
		return (sigset_t *)page_of(side, P_NONE);
	case 5:
		return (sigset_t *)0xffff800000000000ul;
	case 6:
		return (sigset_t *)0x8000;
	default:
		sigemptyset(m);
		sigaddset(m, SIGALRM);
		return m;
	}
}

static void op_getevents(struct rd *r, bool pg)
{
	struct target t = get_target(r);
	long min_nr = counts[u8(r) % 16], nr = counts[u8(r) % 16];
	unsigned ek = u8(r), ep = u8(r);
	unsigned ts[2] = {u8(r), u8(r)};
	unsigned mk = pg ? u8(r) : 0;
	struct timespec *tp[NSIDE];
	const struct timespec *tv[NSIDE];
	struct io_event *evp[NSIDE];
	int ret[NSIDE];
	long a = 0;

	if (t.slot >= 0) {
		settle();
		a = (long)available(K, t.slot);
		if ((long)available(E, t.slot) != a)
			fz_fatal("rings differ after settling");
	}
	for (int s = 0; s < NSIDE; s++) {
		tp[s] = get_timeout(r, s, ts, &tv[s]);
		evp[s] = events_ptr(s, ek, ep);
	}
	/* Never a long wait: both sides would just wait it out. */
	if (t.slot >= 0 && min_nr >= 0 && min_nr <= nr && a < min_nr &&
	    (ts[0] % 8 == 0 || tv[K]) && long_wait(tv[K])) {
		for (int s = 0; s < NSIDE; s++) {
			tp[s] =
			    (struct timespec *)(page_of(s, P_MISC) + MISC_TS);
			*tp[s] = (struct timespec){0, SHORT_WAIT_NS};
		}
	}
#if KNOWN_BUG_PEEK_AFTER_SIGMASK
	if (pg && t.slot >= 0 && a == 0 && tv[K] && !tv[K]->tv_sec &&
	    !tv[K]->tv_nsec && mk % 8 >= 3 && mk % 8 <= 6)
		mk = 0;
#endif
	for (int s = 0; s < NSIDE; s++)
		ret[s] = pg ? io_pgetevents(t.h[s], min_nr, nr, evp[s], tp[s],
					    sigmask_ptr(s, mk))
			    : io_getevents(t.h[s], min_nr, nr, evp[s], tp[s]);
	fz_log("%d: io_%sgetevents(%s, %ld, %ld, ev#%u.%u, ts#%u.%u%s) [%ld "
	       "ready] -> K=%s E=%s",
	       opno, pg ? "p" : "", t.what, min_nr, nr, ek % 16, ep, ts[0] % 8,
	       ts[1] % 16, pg ? ", mask" : "", a, err_name(ret[K]),
	       err_name(ret[E]));
	if (ret[K] != ret[E]) {
		/* With nothing to return, a signal is -EINTR on the side it
		 * hit: libFuzzer's SIGALRM, or on the kernel side io_uring's
		 * task work for this thread (TIF_NOTIFY_SIGNAL makes
		 * signal_pending() true), which the emulated side's rings
		 * queue. */
		bool intr = (ret[K] == -EINTR && ret[E] == 0) ||
			    (ret[E] == -EINTR && ret[K] == 0);
		if (!intr)
			fz_fail("io_%sgetevents returned %s on kernel, %s on "
				"%s",
				pg ? "p" : "", err_name(ret[K]),
				err_name(ret[E]), fz_engine);
	}
	for (int s = 0; s < NSIDE && t.slot >= 0; s++)
		for (int i = 0; i < ret[s]; i++) {
			struct io_event ev;
			/* the array may be unaligned on purpose */
			memcpy(&ev, (char *)evp[s] + i * sizeof(ev),
			       sizeof(ev));
			record_event(s, t.slot, &ev);
		}
}

static void op_queue_run(struct rd *r)
{
	struct target t = get_target(r);
	int ret[NSIDE], calls[NSIDE];

	if (t.slot >= 0)
		settle();
	for (int s = 0; s < NSIDE; s++) {
		qr_side = s;
		qr_slot = t.slot < 0 ? 0 : t.slot;
		qr_calls = 0;
		ret[s] = io_queue_run(t.h[s]);
		calls[s] = qr_calls;
	}
	qr_side = -1;
	fz_log("%d: io_queue_run(%s) -> K=%s (%d calls) E=%s (%d calls)", opno,
	       t.what, err_name(ret[K]), calls[K], err_name(ret[E]), calls[E]);
	if (ret[K] != ret[E] || calls[K] != calls[E])
		fz_fail("io_queue_run differs");
}

static void op_queue_wait(struct rd *r)
{
	struct target t = get_target(r);
	unsigned ts[2] = {u8(r), u8(r)};
	const struct timespec *tv;
	int ret[NSIDE];

#if KNOWN_BUG_NULL_POINTER_ARITH
	fz_log("%d: io_queue_wait skipped (KNOWN_BUG_NULL_POINTER_ARITH)",
	       opno);
	return;
#endif
	for (int s = 0; s < NSIDE; s++)
		ret[s] = io_queue_wait(t.h[s], get_timeout(r, s, ts, &tv));
	fz_log("%d: io_queue_wait(%s, ts#%u.%u) -> K=%s E=%s", opno, t.what,
	       ts[0] % 8, ts[1] % 16, err_name(ret[K]), err_name(ret[E]));
	/* No events to return: a signal (libFuzzer's SIGALRM, io_uring's
	 * task work on the kernel side) is -EINTR on the side it hit, as in
	 * op_getevents(). */
	if (ret[K] != ret[E] && !(ret[K] == -EINTR && ret[E] == 0) &&
	    !(ret[E] == -EINTR && ret[K] == 0))
		fz_fail("io_queue_wait differs");
}

static void op_cancel(struct rd *r)
{
	struct target t = get_target(r);
	unsigned k = u8(r), p = u8(r), rk = u8(r);
	struct iocb *cb[NSIDE];
	struct io_event *res[NSIDE];
	int ret[NSIDE], slot = (int)(p % NIOCB);
	bool poll_target = false;

	for (int s = 0; s < NSIDE; s++) {
		switch (k % 8) {
		case 5:
			cb[s] = NULL;
			break;
		case 6:
			cb[s] =
			    (struct iocb *)page_of(s, P_RO) + p % RO_TEMPLATES;
			break;
		case 7:
			cb[s] = p & 1 ? (struct iocb *)0xffff800000000000ul
				      : (struct iocb *)fz_hole;
			break;
		case 4:
			cb[s] = slot_ptr(s, true, slot);
			break;
		default:
			cb[s] = slot_ptr(s, false, slot);
			break;
		}
		switch (rk % 4) {
		case 1:
			res[s] = NULL;
			break;
		case 2:
			res[s] = (struct io_event *)0x8000;
			break;
		default:
			res[s] = (struct io_event *)(page_of(s, P_MISC) +
						     MISC_RESULT);
			break;
		}
	}
	for (int s = 0; s < NSERIAL; s++)
		if (I[s].live && I[s].obj[K] == cb[K] &&
		    I[s].opcode == CMD_POLL)
			poll_target = true;
	/* A poll's fate depends on readiness, the same on both sides once
	 * settled; other requests may be caught in flight on purpose. */
	if (t.slot >= 0 && (poll_target || (k & 8)))
		settle();
	for (int s = 0; s < NSIDE; s++) {
		ret[s] = io_cancel(t.h[s], cb[s], res[s]);
		if (ret[s] == -EINPROGRESS && t.slot >= 0)
			note_cancel(s, t.slot, cb[s]);
	}
	fz_log("%d: io_cancel(%s, iocb#%u.%d) -> K=%s E=%s", opno, t.what,
	       k % 8, slot, err_name(ret[K]), err_name(ret[E]));
	if (ret[K] == ret[E])
		return;
	/* uaio.7: io_cancel cancels reads and writes, "returning
	 * -EINPROGRESS and delivering the event with res = -ECANCELED: on
	 * the threads engine any request that no worker has started, syncs
	 * included; on the uring engine whatever io_uring can still cancel"
	 * (a sync waiting in io-wq too); "the kernel cancels only POLL
	 * requests and returns -EINVAL for files". */
	int target = -1;
	if (ret[K] == -EINVAL && ret[E] == -EINPROGRESS && t.slot >= 0)
		for (int s = 0; s < NSERIAL && target < 0; s++) {
			struct inst *in = &I[s];
			if (in->live && in->slot == t.slot &&
			    in->obj[E] == cb[E] && !in->emu_only &&
			    (is_rw(in->opcode) || in->opcode == CMD_FSYNC ||
			     in->opcode == CMD_FDSYNC))
				target = s;
		}
	if (target < 0)
		fz_fail("io_cancel returned %s on kernel, %s on %s",
			err_name(ret[K]), err_name(ret[E]), fz_engine);
	fz_log("   (documented: %s cancels what has not started)", fz_engine);
	I[target].cancels++;
	/* The kernel did the I/O, the emulated engine did not: the state
	 * of the sides is made equal again before going on. */
	settle();
	cancel_polls(true);
	world_resync();
}

static void retire_slot(int slot)
{
	for (int s = 0; s < NSERIAL; s++)
		if (I[s].live && I[s].slot == slot)
			I[s].live = false;
}

static void op_destroy(struct rd *r)
{
	struct target t = get_target(r);
	int ret[NSIDE];

	if (t.slot < 0) {
		for (int s = 0; s < NSIDE; s++)
			ret[s] = io_destroy(t.h[s]);
		fz_log("%d: io_destroy(%s) -> K=%s E=%s", opno, t.what,
		       err_name(ret[K]), err_name(ret[E]));
		if (ret[K] != ret[E])
			fz_fail("io_destroy differs");
		return;
	}
	/* Settled: what the kernel side still has in flight is polls, which
	 * it cancels, so its wait can go on in the background. */
	settle();
	int polls_resfd = 0;
	for (int s = 0; s < NSERIAL; s++)
		if (I[s].live && I[s].slot == t.slot && I[s].resfd &&
		    I[s].opcode == CMD_POLL && pending(K, s))
			polls_resfd++;
	ret[E] = io_destroy(t.h[E]);
	kernel_destroy_async(t.h[K]);
	ret[K] = 0;
	fz_log("%d: io_destroy(%s) -> K=%s E=%s (%d RESFD polls waiting)", opno,
	       t.what, err_name(ret[K]), err_name(ret[E]), polls_resfd);
	if (ret[E] != 0)
		fz_fail("io_destroy returned %s on %s", err_name(ret[E]),
			fz_engine);
	if (polls_resfd) {
		join_destroys = true;
#if KNOWN_BUG_DESTROY_RESFD
		notify_adjust -= polls_resfd;
#endif
	}
	retire_slot(t.slot);
	for (int s = 0; s < NSIDE; s++) {
		stale[s] = C[s][t.slot].h;
		C[s][t.slot].live = false;
		C[s][t.slot].h = NULL;
	}
}

static int setup_side(int side, int size, io_context_t *ctxp, bool pooled)
{
	if (side == K && pooled) {
		for (int i = 0; i < npool; i++)
			if (pool[i].size == size) {
				*ctxp = pool[i].h;
				pool[i] = pool[--npool];
				return 0;
			}
	}
	return uaio_setup(size, ctxp, side == K ? "kernel" : fz_engine);
}

static void do_setup(int slot, unsigned kind, int size)
{
	io_context_t *ctxp[NSIDE];
	int ret[NSIDE];
	bool valid = false;

	if (C[K][slot].live && kind == 0)
		kind = 1;
	/* Sizes the emulated side would take and the kernel might refuse
	 * for the system-wide fs.aio-nr, or that are costly: past the
	 * limit instead, an EAGAIN on both. */
	if ((unsigned)size > 1024 && (unsigned)size <= 65536)
		size = 65537;
	for (int s = 0; s < NSIDE; s++) {
		unsigned char *misc = page_of(s, P_MISC);
		switch (kind) {
		case 0:
			ctxp[s] = (io_context_t *)(misc + MISC_CTXP);
			*ctxp[s] = NULL;
			valid = true;
			break;
		case 1:
			ctxp[s] = (io_context_t *)(misc + MISC_CTXP);
			*ctxp[s] = (io_context_t)0x1234;
			break;
		case 2:
			ctxp[s] = NULL;
			break;
		case 3:
			ctxp[s] = (io_context_t *)0x8000;
			break;
		case 4:
			ctxp[s] = (io_context_t *)0xffff800000000000ul;
			break;
		case 5:
			ctxp[s] = (io_context_t *)(page_of(s, P_RO) + RO_ZERO);
			break;
		default:
			ctxp[s] = (io_context_t *)page_of(s, P_NONE);
			break;
		}
	}
	for (int s = 0; s < NSIDE; s++)
		ret[s] = setup_side(s, size, ctxp[s],
				    valid && size >= 1 && size <= 1024);
	fz_log("%d: io_setup(%d, ctxp#%u) slot %d -> K=%s E=%s", opno, size,
	       kind, slot, err_name(ret[K]), err_name(ret[E]));
	if (ret[K] == -EAGAIN && ret[E] != -EAGAIN && size > 0 &&
	    size <= 65536) {
		/* uaio.7: emulated contexts "do not use up the system-wide
		 * fs.aio-nr", so they work where other processes used it
		 * up (the kernel engine's context may also have been made
		 * before ctxp was found unwritable). */
		if (ret[E] == 0)
			io_destroy(*ctxp[E]);
		fz_log("   (documented: fs.aio-nr used up by others)");
		return;
	}
	if (ret[K] != ret[E])
		fz_fail("io_setup(%d) returned %s on kernel, %s on %s", size,
			err_name(ret[K]), err_name(ret[E]), fz_engine);
	if (ret[K] || !valid)
		return;
	for (int s = 0; s < NSIDE; s++) {
		struct ctxst *c = &C[s][slot];
		c->h = *ctxp[s];
		c->live = true;
		c->size = size;
		c->gen++;
		struct aring *ar = ring_of(s, slot);
		c->nr = ar->nr;
		c->cap = (c->nr - 1) / 2 < CAP_MAX ? (c->nr - 1) / 2 : CAP_MAX;
	}
	struct aring *a = ring_of(K, slot), *b = ring_of(E, slot);
	if (a->nr != b->nr || a->magic != b->magic || a->compat != b->compat ||
	    a->incompat != b->incompat || a->hlen != b->hlen)
		fz_fail("io_setup(%d): ring header nr %u/%u magic %#x/%#x "
			"features %u,%u/%u,%u length %u/%u (kernel/%s)",
			size, a->nr, b->nr, a->magic, b->magic, a->compat,
			a->incompat, b->compat, b->incompat, a->hlen, b->hlen,
			fz_engine);
	char name[UAIO_ENGINE_NAME_MAX];
	if (uaio_engine(C[E][slot].h, name, sizeof(name)) ||
	    strcmp(name, fz_engine))
		fz_fatal("the emulated context runs on %s", name);
}

static void op_setup(struct rd *r)
{
	unsigned b = u8(r);

	do_setup((int)(b & 1), (b >> 1) % 8, sizes[u8(r) % 32]);
}

static void op_fill(struct rd *r)
{
	static const int kinds[5] = {FK_PIPE_W, FK_NBPIPE_W, FK_SOCK_A,
				     FK_SOCK_B, FK_EVENTFD};
	static const size_t amounts[8] = {1, 7, 64, 512, 4096, 16384, 3, 100};
	unsigned a = u8(r), b = u8(r);
	int fk = kinds[a % 5];

	settle();
	if (fk == FK_EVENTFD) {
		uint64_t v = 1 + b % 7;
		for (int s = 0; s < NSIDE; s++)
			if (fk_open(s, fk) &&
			    write(W[s].fd[fk], &v, sizeof(v)) != sizeof(v))
				fz_fatal("eventfd write: %s", strerror(errno));
		fz_log("%d: fill eventfd +%llu", opno, (unsigned long long)v);
		return;
	}
	long n = world_fill(fk, amounts[b % 8], (unsigned)opno);
	fz_log("%d: fill %s with %ld bytes", opno, fknames[fk], n);
}

static void op_drain(struct rd *r)
{
	static const int kinds[5] = {FK_PIPE_R, FK_NBPIPE_R, FK_SOCK_A,
				     FK_SOCK_B, FK_EVENTFD};
	int fk = kinds[u8(r) % 5];

	settle();
	fz_log("%d: drain %s", opno, fknames[fk]);
	world_drain_compare(fk, "drain");
}

static void op_close(struct rd *r)
{
	static const int kinds[12] = {FK_PIPE_R,  FK_PIPE_W,  FK_NBPIPE_W,
				      FK_SOCK_B,  FK_REG,     FK_DIRECT,
				      FK_EVENTFD, FK_DEVNULL, FK_DIR,
				      FK_EPOLL,	  FK_NOTIFY,  FK_SHM};
	unsigned b = u8(r);
	int fk = kinds[b % 12];

	/* Closing a descriptor while requests on it are in flight is
	 * legal: the kernel holds the file.  Settled or not, at random. */
	if (b & 0x80)
		settle();
	fz_log("%d: close %s%s", opno, fknames[fk],
	       b & 0x80 ? " (settled)" : "");
	world_close_fd(fk);
}

static void op_user_reap(struct rd *r)
{
	struct target t = get_target(r);
	unsigned k = 1 + u8(r) % 8;
	int got[NSIDE];

	if (t.slot < 0)
		return;
	settle();
	for (int s = 0; s < NSIDE; s++) {
		struct aring *ar = ring_of(s, t.slot);
		unsigned head =
		    __atomic_load_n(&ar->head, __ATOMIC_ACQUIRE) % ar->nr;
		unsigned tail = __atomic_load_n(&ar->tail, __ATOMIC_ACQUIRE);
		got[s] = 0;
		while (head != tail && (unsigned)got[s] < k) {
			struct io_event ev = ar->ev[head];
			head = (head + 1) % ar->nr;
			got[s]++;
			record_event(s, t.slot, &ev);
		}
		__atomic_store_n(&ar->head, head, __ATOMIC_RELEASE);
	}
	fz_log("%d: reap %u from the ring (%s) -> K=%d E=%d", opno, k, t.what,
	       got[K], got[E]);
	if (got[K] != got[E])
		fz_fail("the rings held different numbers of events");
}

/*
 * Move a ring with mremap(), on both sides: the kernel moves its context
 * to the new address (aio_ring_mremap()), and so does uaio on every engine
 * (uaio.7); the old address then names nothing.
 */
static void op_mremap(int slot)
{
	void *moved[NSIDE], *to[NSIDE];
	size_t bytes[NSIDE];
	int err[NSIDE];
	char name[UAIO_ENGINE_NAME_MAX];

	if (!C[K][slot].live) {
		fz_log("%d: mremap of ctx%d: no context", opno, slot);
		return;
	}
	for (int s = 0; s < NSIDE; s++) {
		size_t b = sizeof(struct aring) +
			   (size_t)C[s][slot].nr * sizeof(struct io_event);
		bytes[s] = (b + PAGE - 1) / PAGE * PAGE;
#if KNOWN_BUG_MREMAP_STALE_HANDLE
		/* Both places taken before either ring moves: the emulated
		 * ring never lands where the kernel's was. */
		to[s] = mmap(NULL, bytes[s], PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (to[s] == MAP_FAILED)
			fz_fatal("mmap: %s", strerror(errno));
#endif
	}
	for (int s = 0; s < NSIDE; s++) {
#if !KNOWN_BUG_MREMAP_STALE_HANDLE
		to[s] = mmap(NULL, bytes[s], PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (to[s] == MAP_FAILED)
			fz_fatal("mmap: %s", strerror(errno));
#endif
		moved[s] = mremap(C[s][slot].h, bytes[s], bytes[s],
				  MREMAP_MAYMOVE | MREMAP_FIXED, to[s]);
		err[s] = moved[s] == MAP_FAILED ? -errno : 0;
		if (err[s])
			munmap(to[s], bytes[s]);
#if KNOWN_BUG_MREMAP_STALE_HANDLE
		/* A call with the new address: uaio follows the move. */
		else if (s == K)
			(void)uaio_engine(moved[K], name, sizeof(name));
#endif
	}
	fz_log("%d: mremap of ctx%d's ring -> K=%s E=%s", opno, slot,
	       err_name(err[K]), err_name(err[E]));
	if (err[K] != err[E])
		fz_fail("mremap of the ring returned %s on kernel, %s on %s",
			err_name(err[K]), err_name(err[E]), fz_engine);
	if (err[K])
		return;
	for (int s = 0; s < NSIDE; s++) {
		stale[s] = C[s][slot].h;
		C[s][slot].h = moved[s];
	}
	int r = uaio_engine(C[E][slot].h, name, sizeof(name));
	if (r || strcmp(name, fz_engine))
		fz_fail("after mremap, uaio_engine(new handle) = %s (%s)",
			err_name(r), r ? "" : name);
	r = uaio_engine(C[K][slot].h, name, sizeof(name));
	if (r || strcmp(name, "kernel"))
		fz_fail("after mremap, uaio_engine(new kernel handle) = %s",
			err_name(r));
}

/* ---- one input ---- */

static void end_of_input(void)
{
	struct io_event scratch;

	for (int slot = 0; slot < NSLOT; slot++) {
		if (!C[K][slot].live)
			continue;
		settle();
		/* Polls still waiting on both sides: cancelled on both. */
		for (int s = 0; s < NSERIAL; s++) {
			struct inst *in = &I[s];
			if (!in->live || in->slot != slot ||
			    in->opcode != CMD_POLL)
				continue;
			while (pending(K, s) && pending(E, s)) {
				int rk = io_cancel(C[K][slot].h, in->obj[K],
						   &scratch);
				int re = io_cancel(C[E][slot].h, in->obj[E],
						   &scratch);
				in->cancelled[K] += rk == -EINPROGRESS;
				in->cancelled[E] += re == -EINPROGRESS;
				fz_log("end: io_cancel(request #%d) -> K=%s "
				       "E=%s",
				       s, err_name(rk), err_name(re));
				if (rk != re)
					fz_fail("io_cancel of a waiting poll "
						"returned %s on kernel, %s on "
						"%s",
						err_name(rk), err_name(re),
						fz_engine);
				if (rk != -EINPROGRESS)
					break;
				settle();
			}
		}
		settle();
		reap_all(slot, "at the end");
		for (int s = 0; s < NSERIAL; s++)
			if (I[s].live && I[s].slot == slot) {
				char d[512];
				describe(s, d, sizeof(d));
				fz_fail("%s never completed", d);
			}
		int re = io_destroy(C[E][slot].h);
		if (re)
			fz_fail("io_destroy returned %s on %s", err_name(re),
				fz_engine);
		if (npool < POOL_MAX) {
			pool[npool].h = C[K][slot].h;
			pool[npool].size = C[K][slot].size;
			npool++;
		} else {
			kernel_destroy_async(C[K][slot].h);
		}
		for (int s = 0; s < NSIDE; s++) {
			C[s][slot].live = false;
			C[s][slot].h = NULL;
		}
	}
	if (join_destroys)
		kernel_destroy_join();
	uint64_t nk = world_counter(K, FK_NOTIFY),
		 ne = world_counter(E, FK_NOTIFY);
	fz_log("end: RESFD eventfd K=%llu E=%llu (expected difference %ld)",
	       (unsigned long long)nk, (unsigned long long)ne, notify_adjust);
	if ((long)(ne - nk) != notify_adjust)
		fz_fail("the RESFD eventfd was signalled %llu times on kernel, "
			"%llu on %s",
			(unsigned long long)nk, (unsigned long long)ne,
			fz_engine);
	check_keys("at the end");
	world_compare();
}

static unsigned fd_base, thread_base, rings, ncpus, fd_steps;

static void run(const uint8_t *data, size_t size)
{
	struct rd r = {data, size};
	struct iocb stack_area[NSIDE][NIOCB];

	memset(stack_area, 0, sizeof(stack_area));
	stack_iocbs = stack_area;

	loglen = 0;
	logbuf[0] = 0;
	opno = 0;
	memset(I, 0, sizeof(I));
	next_serial = 0;
	notify_adjust = 0;
	join_destroys = false;
	stale[K] = stale[E] = NULL;
	if (dq_error)
		fz_fatal("a kernel io_destroy in the background returned %s",
			 err_name(dq_error));
	/* Counted per input: libFuzzer and LeakSanitizer open descriptors
	 * of their own between inputs. */
	fd_base = world_fd_count(&rings);
	world_open(1);
	write_ro_templates();
	unsigned b = u8(&r);
	if (b != 0xff) {
		opno = -1;
		do_setup(0, 0, sizes[b % NSIZES_VALID]);
	}
	for (opno = 0; r.n && opno < MAX_OPS; opno++) {
		unsigned op = u8(&r) % 16;
		switch (op) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			op_submit(&r);
			break;
		case 5:
			op_getevents(&r, false);
			break;
		case 6:
			op_getevents(&r, true);
			break;
		case 7:
			op_cancel(&r);
			break;
		case 8:
			op_queue_run(&r);
			break;
		case 9:
			op_destroy(&r);
			break;
		case 10:
			op_setup(&r);
			break;
		case 11:
			op_fill(&r);
			break;
		case 12:
			op_drain(&r);
			break;
		case 13:
			op_close(&r);
			break;
		case 14:
			op_user_reap(&r);
			break;
		default: {
			unsigned k = u8(&r);
			if (k & 1) {
				fz_log("%d: sleep %u us", opno, 100 * (k >> 4));
				pause_us(100 * (k >> 4));
			} else if (k & 2) {
				op_mremap((int)((k >> 2) & 1));
			} else {
				op_queue_wait(&r);
			}
			break;
		}
		}
	}
	end_of_input();
	world_close();
	stack_iocbs = NULL;

	/* What the emulated engine holds must be gone with its contexts. */
	unsigned fds = world_fd_count(&rings), threads = world_thread_count();
	/* The uring engine keeps an io_uring, an eventfd and a completion
	 * thread per CPU for the life of the process (uring-ring.c), and on
	 * auto each of those rings has its kernel AIO context's eventfd too
	 * (kaio.c); other threads and descriptors must be gone with the
	 * contexts. */
	unsigned max_rings = (strcmp(fz_engine, "auto") ? 2 : 3) * ncpus;
	/* The library also opens a few descriptors once and keeps them
	 * (notify.c's /dev/null): a handful of small steps are let through,
	 * a leak goes on growing. */
	if (fds > fd_base && fds - fd_base <= 2 && fd_steps < 3 &&
	    rings <= max_rings) {
		char list[2048];
		world_fd_list(list, sizeof(list));
		fprintf(stderr,
			"fuzz-diff: %u descriptor(s) more after this "
			"input, taken as the library's own:%s\n",
			fds - fd_base, list);
		fd_steps++;
		fd_base = fds;
	}
	if (fds > fd_base || rings > max_rings) {
		char list[2048];
		world_fd_list(list, sizeof(list));
		fz_fail("%u descriptors (and %u io_urings or eventfds) open "
			"after the input, %u before: the library leaks them:%s",
			fds, rings, fd_base, list);
	}
	if (threads > thread_base + ncpus + 2)
		fz_fail("%u threads after the input, %u at first: the library "
			"leaves threads behind",
			threads, thread_base);
}

/* RWF_* the running kernel accepts on a regular file, from a probe. */
static unsigned probe_kernel_rwf(void)
{
	io_context_t ctx = NULL;
	unsigned mask = RWF_ATOMIC_; /* refused on reads, but known */
	char buf[16];
	int fd = W[K].fd[FK_REG];

	if (uaio_setup(8, &ctx, "kernel"))
		fz_fatal("the kernel engine cannot run here");
	for (int bit = 0; bit < 32; bit++) {
		struct iocb cb, *cbs[1] = {&cb};
		struct io_event ev;
		io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
		cb.aio_rw_flags = 1u << bit;
		if (io_submit(ctx, 1, cbs) == 1) {
			mask |= 1u << bit;
			io_getevents(ctx, 1, 1, &ev, NULL);
		}
	}
	pool[npool].h = ctx;
	pool[npool].size = 8;
	npool++;
	return mask;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[UAIO_REASON_MAX];

	(void)argc;
	(void)argv;
	fz_engine = getenv("FUZZ_ENGINE");
	if (!fz_engine || !*fz_engine)
		fz_engine = "uring";
	if (strcmp(fz_engine, "uring") && strcmp(fz_engine, "threads") &&
	    strcmp(fz_engine, "auto"))
		fz_fatal("FUZZ_ENGINE must be uring, threads or auto");
	if (strcmp(fz_engine, "auto") &&
	    uaio_probe(fz_engine, why, sizeof(why)))
		fz_fatal("engine %s cannot run here: %s", fz_engine, why);
	trace = getenv("FUZZ_TRACE") && *getenv("FUZZ_TRACE") == '1';
	world_init_once();
	for (int i = 0; i < NDESTROYERS; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, destroyer_main, NULL))
			fz_fatal("pthread_create");
		pthread_detach(t);
	}
	world_open(1);
	kernel_rwf = probe_kernel_rwf();
	world_close();
	thread_base = world_thread_count();
	ncpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	fprintf(stderr,
		"fuzz-diff: engine %s against kernel; kernel RWF mask "
		"%#x\n",
		fz_engine, kernel_rwf);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	return 0;
}
