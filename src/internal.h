/*
 * internal.h - what the library's files share: the context, the engine
 * table, the registry of live contexts.  Nothing here is exported.
 */
#ifndef UAIO_INTERNAL_H
#define UAIO_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>

#include "libaio.h"
#include "uaio.h"

#define UAIO_API __attribute__((visibility("default")))
/*
 * libaio's calls are system calls, none of them a cancellation point: a
 * pthread_cancel() takes effect at the caller's next one.  Inside a call of
 * ours it must not (close, ppoll, write are): the unwind would leave a
 * lock or a reference to the context held for ever.
 */
/*
 * fork.c: pthread_atfork(), whose child handler also runs in a child that
 * fork() did not make (_Fork(), a system call), at its first call into
 * the library, which every entry point checks (uaio__fork_check()).
 */
void uaio__atfork(void (*prepare)(void), void (*parent)(void),
		  void (*child)(void));
extern _Atomic unsigned *_Atomic uaio__fork_word;
#define UAIO_FORK_LIVE 1u /* the word's value where no child handler is due */
void uaio__fork_check_slow(void);

static inline void uaio__fork_check(void)
{
	_Atomic unsigned *w =
	    atomic_load_explicit(&uaio__fork_word, memory_order_acquire);

	if (w &&
	    __builtin_expect(atomic_load_explicit(w, memory_order_acquire) !=
				 UAIO_FORK_LIVE,
			     0))
		uaio__fork_check_slow();
}

static inline int uaio__nocancel(void)
{
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return old;
}

static inline void uaio__cancel_restore(int old)
{
	if (old != PTHREAD_CANCEL_DISABLE)
		pthread_setcancelstate(old, NULL);
}

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* For a helper of the per-request path that the compiler would call. */
#define UAIO_ALWAYS_INLINE inline __attribute__((always_inline))

/* The kernel's opcodes and iocb flags (<linux/aio_abi.h> clashes with ours). */
enum {
	CMD_PREAD = 0,
	CMD_PWRITE = 1,
	CMD_FSYNC = 2,
	CMD_FDSYNC = 3,
	CMD_POLL = 5,
	CMD_NOOP = 6,
	CMD_PREADV = 7,
	CMD_PWRITEV = 8,
	CMD_MAX = 9,
};
#define IOCB_FLAG_RESFD (1u << 0)
#define IOCB_FLAG_IOPRIO (1u << 1)

/* The completion ring at the context handle, in the kernel's layout. */
#define AIO_RING_MAGIC 0xa10a10a1u
#define AIO_RING_COMPAT_FEATURES 1u
#define AIO_RING_INCOMPAT_FEATURES 0u
struct aio_ring {
	unsigned id;
	unsigned nr;
	unsigned head;
	unsigned tail;
	unsigned magic;
	unsigned compat_features;
	unsigned incompat_features;
	unsigned header_length;
	struct io_event io_events[];
};

struct uaio_ctx;

/*
 * An engine.  aio.c is the only caller of these pointers; it has already
 * looked the context up and holds a reference, so a method never sees a
 * context that io_destroy has finished with.
 */
struct uaio_engine {
	const char *name;
	unsigned flags; /* UAIO_ENGINE_* */
	/* 0 if usable on this host, else -errno and a reason in why[len]. */
	int (*probe)(char *why, size_t len);
	/* Create the engine's side of c and set c->handle; -errno on failure.
	 */
	int (*setup)(struct uaio_ctx *c, unsigned nr_events);
	/* nr is already capped to the ring and > 0; io_submit's return value.
	 */
	int (*submit)(struct uaio_ctx *c, long nr, struct iocb **iocbpp);
	/* min_nr/nr validated; mask NULL unless io_pgetevents passed one. */
	int (*getevents)(struct uaio_ctx *c, long min_nr, long nr,
			 struct io_event *events,
			 const struct timespec *timeout, const sigset_t *mask);
	int (*cancel)(struct uaio_ctx *c, struct iocb *iocb,
		      struct io_event *result);
	/*
	 * io_destroy, first half: c is already dead to new callers.  Wake
	 * waiters, cancel what can be cancelled.  Callers still inside
	 * methods leave on their own after this.
	 */
	void (*kill)(struct uaio_ctx *c);
	/* Second half, once no caller is inside: wait for running I/O, free. */
	void (*destroy)(struct uaio_ctx *c);
};

/*
 * The handle is a context of the kernel's own AIO: the kernel checks every
 * argument in its order, fills the ring itself (statistics count from its
 * tail), and completes what is in flight when the process ends.
 */
#define UAIO_ENGINE_KERNEL_HANDLE 0x1u

extern const struct uaio_engine uaio__engine_kernel;
extern const struct uaio_engine uaio__engine_threads;
#ifdef UAIO_HAVE_URING
extern const struct uaio_engine uaio__engine_uring;
#endif

/*
 * An emulated ring's id field: this bit and its context's number, so that a
 * ring the program moved leads back to its context (the kernel's ids are
 * small indexes).
 */
#define UAIO_RING_ID 0x80000000u

/* users: the number of callers inside, plus CTX_DEAD once destroyed. */
#define CTX_DEAD (1u << 31)

/*
 * A context.  The struct itself is never freed, only recycled (ctxtab.c),
 * so that a lookup racing with io_destroy always reads a valid struct.
 */
struct uaio_ctx {
	_Atomic unsigned long handle; /* the io_context_t; 0 when free */
	_Atomic unsigned users;
	/* Callers reading the kernel engine's ring (aio.c), which its kill
	 * waits out: the kernel unmaps the ring. */
	_Atomic unsigned peeking;
	unsigned number; /* this struct's, for ever: see UAIO_RING_ID */
	unsigned gen;	 /* bumped at each reuse of the struct */
	const struct uaio_engine *engine;
	/*
	 * Chosen by auto: the emulated engine also sends each request where
	 * it runs best (O_DIRECT to kernel AIO, cached reads done inside
	 * io_submit); uaio_engine() says "auto".
	 */
	bool hybrid;
	/*
	 * A call on it never returns (a signal handler's exit() interrupted
	 * it): its destroy waits only for what the kernel has, not for the
	 * ring slots or requests that call held.
	 */
	bool abandoned;
	void *priv;		      /* the engine's state */
	char reason[UAIO_REASON_MAX]; /* why earlier engines were skipped */
	struct uaio_stats *stats;     /* NULL unless UAIO_STATS is set */
	struct uaio_ctx *next_free;
	struct uaio_ctx *next_dying; /* between uaio__ctx_kill and _unlist */
};

/* ctxtab.c: the registry of live contexts (lock-free lookups). */
struct uaio_ctx *uaio__ctx_alloc(void);
void uaio__ctx_free(struct uaio_ctx *c);
int uaio__ctx_publish(struct uaio_ctx *c);
struct uaio_ctx *uaio__ctx_get(unsigned long handle);
void uaio__ctx_put(struct uaio_ctx *c);
/* A kernel-engine context's ring id (the kernel's index), so that a ring
 * the program moved leads back to it; live false when it goes. */
void uaio__ctx_kernel_id(struct uaio_ctx *c, unsigned id, bool live);
/*
 * By number: the struct (no reference: for an engine that knows it alive,
 * having requests in flight on it), or a reference on it if it is live and
 * still the same context (gen).
 */
struct uaio_ctx *uaio__ctx_at(unsigned number);
struct uaio_ctx *uaio__ctx_get_number(unsigned number, unsigned gen);
/* Whether that context is being destroyed: killed, its engine not yet done. */
bool uaio__ctx_destroying(unsigned number, unsigned gen);
/*
 * io_destroy calls under way, counted so that the end of the process waits
 * for those of other threads (their contexts are out of the table already),
 * as the kernel's exit_aio() waits for every request.
 */
void uaio__destroy_begin(void);
void uaio__destroy_end(void);
void uaio__destroy_wait_others(void);
/*
 * The engine's state, published once it is whole: a completion thread that
 * finds a context by number (uaio__ctx_at) reads it with no lock of the
 * context's, ordered after io_setup only by the kernel (an SQE before its
 * CQE), which ThreadSanitizer cannot see.
 */
static inline void *uaio__ctx_priv(struct uaio_ctx *c)
{
	return __atomic_load_n(&c->priv, __ATOMIC_ACQUIRE);
}

static inline void uaio__ctx_set_priv(struct uaio_ctx *c, void *priv)
{
	__atomic_store_n(&c->priv, priv, __ATOMIC_RELEASE);
}
/*
 * A kernel-engine context found under handle whose ring the program moved
 * away (mremap): the ring there now, if any, is another's (the kernel's
 * index in its id field says whose).  Then c leaves the registry until a
 * call names its new address, and true: look handle up again.  A checked
 * read, for calls off the hot path or that the kernel refused (EINVAL).
 */
bool uaio__ctx_unlist_moved(struct uaio_ctx *c, unsigned long handle);
/* Mark dead and unpublish; false if it already was (a racing destroy).
 * Its handle stays known as dying until uaio__ctx_unlist(), once its
 * engine has let the handle go, so that a racing io_destroy of it cannot
 * reach the kernel first (a kernel-engine context) and both succeed. */
bool uaio__ctx_kill(struct uaio_ctx *c);
void uaio__ctx_unlist(struct uaio_ctx *c);
/* Whether handle is a context being destroyed (uaio__ctx_get: NULL). */
bool uaio__ctx_dying(unsigned long handle);
/* Wait until no caller but the destroyer (and extra_refs) is inside. */
void uaio__ctx_wait_idle(struct uaio_ctx *c, unsigned extra_refs);
/* The context this thread holds a reference on, if any: a call that a
 * signal handler interrupted, when the handler calls exit(). */
struct uaio_ctx *uaio__ctx_held(void);
/* Call fn, unlocked, with the handle of every live context (at exit). */
void uaio__ctx_foreach(void (*fn)(unsigned long handle));

static inline bool uaio__ctx_dead(const struct uaio_ctx *c)
{
	return atomic_load_explicit(&c->users, memory_order_acquire) & CTX_DEAD;
}

/*
 * Initial-exec TLS for what the hot path reads: no __tls_get_addr call per
 * access.  Only small variables (a few dozen bytes in all), which fit the
 * static TLS that glibc keeps spare for libraries loaded with dlopen().
 */
#define UAIO_TLS_IE __attribute__((tls_model("initial-exec")))

/*
 * exit.c: the process around the contexts.  Threads of the program that
 * call uaio are noted (a TLS flag on the hot path), so that uaio's own
 * threads, started by uaio__spawn(), never keep the process alive once
 * the program's last thread has ended.
 */
extern __thread signed char uaio__caller_state UAIO_TLS_IE;
void uaio__note_caller_slow(void);
static inline void uaio__note_caller(void)
{
	if (unlikely(!uaio__caller_state))
		uaio__note_caller_slow();
}
/* notify.c: signal an IOCB_FLAG_RESFD eventfd as the kernel does. */
void uaio__signal_eventfd(int fd);

/*
 * valgrind.c: whether the process runs under valgrind (known from the
 * library's load on), and telling memcheck of memory written where it
 * could not see it: len bytes at p, or the first bytes of iov.
 */
extern bool uaio__valgrind;
void uaio__valgrind_defined(const void *p, size_t len);
void uaio__valgrind_wrote(const struct iovec *iov, int iovcnt, size_t bytes);

/* The calling thread's id, cached. */
pid_t uaio__tid(void);
/* pthread_create with every signal blocked; 0 or -errno. */
int uaio__spawn(pthread_t *tid, void *(*fn)(void *), void *arg);
/*
 * io_destroy's work once c is dead to new callers and the caller holds a
 * reference; extra_refs more are held by callers that will never leave (a
 * call interrupted by a signal handler that calls exit()).
 */
void uaio__ctx_destroy(struct uaio_ctx *c, unsigned extra_refs);

/*
 * The UAIO_* variables.  In a set-user-ID, set-group-ID or file-capability
 * program (AT_SECURE) they come from a less privileged user, who must not
 * choose the file UAIO_STATS appends to nor turn the pointer checks off:
 * glibc's rule for such variables, secure_getenv(), ignores them there.
 */
static inline const char *uaio__getenv(const char *name)
{
	return secure_getenv(name);
}

/* aio.c: the entry points that syscall.c routes raw calls to. */
int io_cancel_0_4(io_context_t ctx, struct iocb *iocb, struct io_event *result);
int uaio__getevents_raw(io_context_t ctx, long min_nr, long nr,
			struct io_event *events, struct timespec *timeout,
			const sigset_t *mask);
/* syscall.c: whether the program's raw AIO system calls reach uaio. */
bool uaio__raw_calls_routed(void);

/* engine.c: choosing an engine at io_setup. */
int uaio__setup(int nr_events, io_context_t *ctxp, const char *engines);
const struct uaio_engine *uaio__engine_by_name(const char *name, size_t len);
/* What uaio_engine() says: the engine's name, "auto" for a hybrid. */
const char *uaio__engine_name(const struct uaio_ctx *c);
/* One of UAIO_ENGINE_NAMES, built in or not: "uring" is not a typo. */
bool uaio__engine_known(const char *name, size_t len);
#define UAIO_NOT_BUILT_IN "not built in (no liburing at build time)"
void uaio__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Host facts: the CPUs the kernel sizes rings by, read once; fs.aio-max-nr,
 * which an administrator may change, read again at most once a second. */
unsigned uaio__possible_cpus(void);
unsigned long uaio__aio_max_nr(void);
/* Ring slots the kernel would give for io_setup(nr): see ring.c. */
unsigned uaio__ring_nr(unsigned nr_events, size_t *bytes);
/* The highest user address plus one; beyond is the kernel's half. */
#define UAIO_USER_END 0x00007ffffffff000ul
static inline bool uaio__bad_uptr(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	return a > UAIO_USER_END || len > UAIO_USER_END - a;
}
/* NULL or in the kernel's half: where the kernel would fault at once. */
static inline bool uaio__unreadable(const void *p, size_t len)
{
	return (uintptr_t)p < 4096 || uaio__bad_uptr(p, len);
}

#endif
