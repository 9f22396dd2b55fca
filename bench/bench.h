/*
 * bench.h - shared between the uaio-bench-core driver and its measuring
 * children.
 *
 * The driver re-executes itself once per (method, run): a child opens the
 * scratch file it inherited, runs one measurement and prints one number on
 * stdout.  One process per measurement is what lets the system libaio and
 * uaio's libaio.so.1 be compared in one run: the dynamic loader picks one of
 * them per process, from LD_LIBRARY_PATH.
 */
#ifndef UAIO_BENCH_H
#define UAIO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_BS 4096
#define BENCH_COST_DEPTH 64
#define BENCH_DIRECT_DEPTH 32
#define BENCH_MAX_METHODS 16

/* A child exits with this when its method cannot run on this host. */
#define BENCH_EXIT_UNAVAILABLE 77

enum bench_test {
	BENCH_COST,   /* ns per read of a cached file */
	BENCH_DIRECT, /* IOPS of O_DIRECT reads */
	BENCH_NTESTS,
};

enum bench_api {
	API_LIBAIO, /* io_setup/io_submit/io_getevents, whichever lib is loaded
		     */
	API_URING,  /* liburing directly */
	API_POSIX,  /* glibc aio_read + aio_suspend */
	API_PREAD,  /* a plain pread loop */
};

struct bench_method {
	const char *name;  /* for --methods and --child */
	const char *label; /* for the table */
	enum bench_api api;
	const char *engine; /* uaio engine, NULL for anything but uaio */
	bool tests[BENCH_NTESTS];
};

extern const struct bench_method bench_methods[];
extern const unsigned bench_nmethods;

/* What one child measures. */
struct bench_job {
	enum bench_test test;
	int fd;		    /* inherited scratch file, reopened by the child */
	uint64_t file_size; /* bytes, a multiple of BENCH_BS */
	uint64_t ops;	    /* BENCH_COST: reads to time */
	double seconds;	    /* BENCH_DIRECT: length of the timed window */
	uint64_t seed;
};

/* Loop bounds and outcome of one timed measurement. */
struct bench_loop {
	int fd;
	unsigned depth;
	uint64_t nblocks;     /* offsets are block-aligned in [0, nblocks) */
	uint64_t ops;	      /* stop after this many reads, or */
	uint64_t deadline_ns; /* when the clock passes this (0: no deadline) */
	uint64_t seed;
	/* results */
	uint64_t done; /* reads completed inside the timed window */
	uint64_t elapsed_ns;
};

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap enough not to show in a 300 ns loop. */
static inline uint64_t bench_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static inline uint64_t bench_offset(uint64_t *s, uint64_t nblocks)
{
	/* Multiply-shift instead of a modulo: no division in the loop. */
	return (uint64_t)(((unsigned __int128)bench_rand(s) * nblocks) >> 64) *
	       BENCH_BS;
}

/*
 * The loops (loops.c).  Each returns 0, or -1 after printing why on stderr;
 * BENCH_EXIT_UNAVAILABLE when the API cannot run here (the reason in why).
 */
int bench_loop_libaio(struct bench_loop *l, const char *engine, char *why,
		      size_t len);
int bench_loop_uring(struct bench_loop *l, char *why, size_t len);
int bench_loop_posix(struct bench_loop *l, char *why, size_t len);
int bench_loop_pread(struct bench_loop *l, char *why, size_t len);

/* The child side (child.c): runs one job, prints the result, returns the exit
 * status. */
int bench_child(const struct bench_method *m, const struct bench_job *job);

/* A block-aligned buffer array of n blocks, or NULL. */
void *bench_buffers(unsigned n);

/* An error message on stderr, prefixed with the program and method names. */
void bench_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The driver side (core.c, report.c). */

enum bench_state {
	RES_NONE, /* not selected, or its test was not run */
	RES_OK,
	RES_NA,	    /* cannot run on this host: reason says why */
	RES_FAILED, /* crashed, timed out, failed a read or loaded the wrong
		       libaio */
};

struct bench_result {
	enum bench_state state;
	double *v; /* one value per run */
	unsigned n;
	double median, min, max;
	char reason[256];
};

struct bench_opts {
	uint64_t ops;
	unsigned runs;
	uint64_t cost_size;
	uint64_t direct_size;
	double seconds;
	const char *dir;
	const char *uaio_dir;
	bool json;
	bool run_test[BENCH_NTESTS];
	bool selected[BENCH_MAX_METHODS];
	char test_note[BENCH_NTESTS][256]; /* why a test was not run */
};

/* results[test][method] */
void bench_report_table(const struct bench_opts *o,
			struct bench_result *const results[BENCH_NTESTS]);
void bench_report_json(const struct bench_opts *o,
		       struct bench_result *const results[BENCH_NTESTS]);

#endif /* UAIO_BENCH_H */
