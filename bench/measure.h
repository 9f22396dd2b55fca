/*
 * measure.h - the measuring core of the benchmarks: `uaio bench` (tools/)
 * and uaio-bench-core (here) measure through it, and differ only in what
 * they ask for and how they report it.
 *
 * One measurement runs in a process of its own: the driver re-executes its
 * own program (/proc/self/exe) with "--child" and the measurement's spec on
 * the command line (bench_spawn); the child (bench_child_main) loads the
 * library the spec names, reopens the file it inherited, runs the spec's
 * I/O loop and reports on a pipe.  A process per measurement keeps engines
 * from sharing state (thread pools, rings), lets a hung one be killed, and
 * gives each measurement the one library it asks for: the child loads it
 * by its path (lib.c), whatever the program itself is linked with.
 */
#ifndef UAIO_MEASURE_H
#define UAIO_MEASURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A child exits with this when its measurement cannot run on this host. */
#define BENCH_EXIT_NA 77

/* What a child sees as its first argument. */
#define BENCH_CHILD_ARG "--child"

enum bench_api {
	BENCH_LIBAIO, /* io_setup/io_submit/io_getevents of spec.lib */
	BENCH_URING,  /* liburing directly */
	/* liburing plus the check libaio's io_submit owes each batch: one
	 * fcntl(F_GETFL) of its descriptor (the kernel's EBADF at submit) */
	BENCH_URING_CHECKED,
	BENCH_POSIX, /* glibc's aio_read/aio_write and aio_suspend */
	BENCH_PREAD, /* one pread or pwrite at a time */
	BENCH_NAPIS,
};

enum bench_rw { BENCH_READ, BENCH_WRITE, BENCH_MIX };

/* "libaio", ...; "read", "write", "randrw". */
extern const char *const bench_api_names[BENCH_NAPIS];
extern const char *const bench_rw_names[3];

/*
 * What one child measures.  engine and threads reach uaio as the program's
 * environment does (UAIO_ENGINE, UAIO_THREADS), so that a measurement is
 * what a program started that way gets.
 */
struct bench_spec {
	enum bench_api api;
	/* BENCH_LIBAIO: the libaio.so.1 to load, and uaio's engine (NULL:
	 * lib is the system's). */
	const char *lib, *engine;
	unsigned threads; /* uaio's threads per context; 0: as inherited */
	int fd;		  /* the file, inherited, reopened by the child */
	bool direct;	  /* O_DIRECT */
	bool warm;	  /* read the file into the page cache first */
	bool latency;	  /* time each request (clock reads in the loop) */
	enum bench_rw rw;
	unsigned rwmix; /* BENCH_MIX: % of reads */
	unsigned depth; /* requests kept in flight */
	uint64_t bs;	/* request size */
	uint64_t size;	/* bytes of the file used, a multiple of bs */
	uint64_t ops;	/* stop after this many requests (0: no limit), */
	double seconds; /* or after this long (0: none), whichever first */
	uint64_t seed;
	/* UAIO_STATS for the child (uaio's library), or NULL: none. */
	const char *stats;
};

/* What a child measured: requests completed in the timed window and its
 * length; with spec.latency, latencies and time in io_submit per request
 * (ns), else 0. */
struct bench_result {
	uint64_t ops, ns;
	double mean, p50, p99, max, submit;
};

enum bench_state { BENCH_PENDING, BENCH_OK, BENCH_NA, BENCH_FAILED };

/* median.c: the median of v[0..n), n > 0; sorts v. */
double bench_median(double *v, unsigned n);

/* A measurement as the driver sees it. */
struct bench_outcome {
	enum bench_state state;
	struct bench_result r;
	char reason[256]; /* BENCH_NA, BENCH_FAILED: why */
};

/* Why a step failed, and whether the host cannot run it (BENCH_NA) rather
 * than it failed. */
struct bench_why {
	bool na;
	char msg[256];
};

/* Fill w and return -err: a failure (bench_fail) or a skip (bench_skip). */
int bench_reason(struct bench_why *w, bool na, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define bench_fail(w, err, ...) bench_reason(w, false, err, __VA_ARGS__)
#define bench_skip(w, err, ...) bench_reason(w, true, err, __VA_ARGS__)

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the child (child.c) ---- */

/* The I/O loops (loop-*.c); a program lists those it carries, by API. */
struct bench_loop;
extern const struct bench_loop bench_loop_libaio, bench_loop_uring,
    bench_loop_posix, bench_loop_pread;

/* Whether this process is a measuring child: argv[1] is BENCH_CHILD_ARG. */
bool bench_is_child(int argc, char **argv);
/* Measure, report, and exit: 0, 1 on a failure, BENCH_EXIT_NA. */
void __attribute__((noreturn))
bench_child_main(int argc, char **argv,
		 const struct bench_loop *const loops[BENCH_NAPIS]);

/* ---- the driver (spawn.c, lib.c, scratch.c, cache.c) ---- */

typedef void bench_progress_fn(void *arg, uint64_t ops, uint64_t ns);

/*
 * Run spec in a child: /proc/self/exe with prefix (NULL-terminated: the
 * program's name, and "bench" for the uaio command), BENCH_CHILD_ARG and
 * the spec.  progress, if not NULL, gets the child's progress reports.  A
 * child still running after timeout seconds is killed.  0 with out filled,
 * -EINTR when a signal caught by bench_catch_signals() ended it, -errno
 * when it could not be started.
 */
int bench_spawn(const char *const *prefix, const struct bench_spec *spec,
		double timeout, bench_progress_fn *progress, void *arg,
		struct bench_outcome *out);

/* SIGINT, SIGTERM and SIGHUP kill the running child and are noted in
 * bench_signal, for the program to clean up and die of. */
void bench_catch_signals(void);
extern volatile sig_atomic_t bench_signal;

/* The system's libaio.so.1: given (a path), or found where libraries are
 * installed.  0 with its path, or -errno and why. */
int bench_find_system_libaio(const char *given, char *path, size_t len,
			     struct bench_why *why);

/* Progress of a long step: done bytes of total. */
typedef void bench_step_fn(void *arg, uint64_t done, uint64_t total);

/* A file without a name in dir, that nothing can leave behind: fd or
 * -errno. */
int bench_scratch(const char *dir);
bool bench_on_tmpfs(int fd);

enum bench_fill {
	BENCH_FILL_BUFFERED,	  /* through the page cache */
	BENCH_FILL_DIRECT,	  /* O_DIRECT, or fail */
	BENCH_FILL_DIRECT_IF_CAN, /* O_DIRECT where the file system has it */
};
/* size bytes of incompressible data into fd: 0, or -errno and why. */
int bench_fill(int fd, uint64_t size, enum bench_fill how, bench_step_fn *step,
	       void *arg, struct bench_why *why);

/* The page cache of the file's first size bytes. */
void bench_drop_cache(int fd);
int bench_warm(int fd, uint64_t size, bench_step_fn *step, void *arg);
/* Percentage cached, or -1 when it cannot be told. */
double bench_resident(int fd, uint64_t size);

#endif /* UAIO_MEASURE_H */
