/*
 * Shared test helpers.  Tests exit 0 on success, 1 on failure and 77 when the
 * host lacks what they need.  UAIO_TEST_ENGINE names what runs them: "ref"
 * (the system libaio on the kernel), "kernel", "threads" or "uring".
 */
#ifndef UAIO_TEST_HELPERS_H
#define UAIO_TEST_HELPERS_H

#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define T_SKIP 77

/* Built with ThreadSanitizer: a few checks its runtime's own thread or its
 * limits make meaningless say so and step aside. */
#if defined(__SANITIZE_THREAD__)
#define T_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_TSAN 1
#endif
#endif

/* Fail the test with a message and the source line. */
#define T_FAIL(...)                                                            \
	do {                                                                   \
		fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)

#define T_ASSERT(cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			T_FAIL("assertion failed: %s", #cond);                 \
	} while (0)

/* Assert that an integer expression equals the expected value. */
#define T_EQ(expr, want)                                                       \
	do {                                                                   \
		long long t_got_ = (long long)(expr);                          \
		long long t_want_ = (long long)(want);                         \
		if (t_got_ != t_want_)                                         \
			T_FAIL("%s = %lld, expected %lld (%s)", #expr, t_got_, \
			       t_want_, #want);                                \
	} while (0)

#define T_SKIP_IF(cond, ...)                                                   \
	do {                                                                   \
		if (cond) {                                                    \
			fprintf(stderr, "SKIP: ");                             \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			exit(T_SKIP);                                          \
		}                                                              \
	} while (0)

/* "ref", "kernel", "threads", "uring", or "unknown". */
const char *t_engine(void);
/* True when the test runs on the system libaio (the reference). */
bool t_is_ref(void);
/* True when the test runs on uaio (any engine). */
bool t_is_uaio(void);

/*
 * A scratch file of size bytes filled with t_pattern(), in $TMPDIR or the
 * build directory (O_DIRECT needs a real file system, not tmpfs).  Unlinked
 * at once; the fd is returned.  flags are extra open(2) flags (O_DIRECT...).
 */
int t_scratch_file(size_t size, int flags);
/* The byte t_scratch_file() stores at offset off. */
static inline unsigned char t_pattern(uint64_t off)
{
	return (unsigned char)((off * 2654435761u) >> 13);
}
/* Reopen an fd's file (via /proc/self/fd) with other flags. */
int t_reopen(int fd, int flags);
/* aligned_alloc that fails the test on ENOMEM. */
void *t_aligned(size_t align, size_t size);

/* io_setup that fails the test unless it succeeds. */
io_context_t t_setup(int nr);
/* Reap exactly n events (waiting as long as needed), fail on error. */
void t_reap(io_context_t ctx, int n, struct io_event *ev);

/* The kernel's completion ring header, which every engine's handle points
 * at; events follow at byte 32. */
struct t_ring {
	unsigned id;
	unsigned nr;
	unsigned head;
	unsigned tail;
	unsigned magic;
	unsigned compat_features;
	unsigned incompat_features;
	unsigned header_length;
	struct io_event events[];
};

#define T_RING_MAGIC 0xa10a10a1u

static inline struct t_ring *t_ring(io_context_t ctx)
{
	return (struct t_ring *)ctx;
}

/* head and tail change under other threads: load them as a reaper would. */
static inline unsigned t_head(const struct t_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

static inline unsigned t_tail(const struct t_ring *r)
{
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

/*
 * A gate: anonymous memory under userfaultfd, so that an O_DIRECT read into
 * it blocks (the kernel waits in the page fault) until the test opens it.
 * It holds a worker of the threads engine on a file request for as long
 * as a test needs.  t_gate_init() is false where userfaultfd is refused
 * (it needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1).
 */
struct t_gate {
	unsigned char *buf;
	size_t len;
	int uffd;
};
bool t_gate_init(struct t_gate *g, size_t len);
/* Map zeroed pages at [off, off + len) and wake what waits on them. */
void t_gate_open(struct t_gate *g, size_t off, size_t len);
void t_gate_fini(struct t_gate *g);

/*
 * Start what the library keeps for the life of the process, so that a test
 * can take its baseline of threads and descriptors: the uring engine's
 * shared io_urings (one per CPU, at most 8) and their completion threads.
 */
void t_warm_up(void);

/* Milliseconds on CLOCK_MONOTONIC. */
double t_now_ms(void);

#endif
