/*
 * bench.h - uaio bench: shared by the driver (bench.c) and the measuring
 * child (bench-child.c).
 *
 * The driver re-executes itself (/proc/self/exe) once per cell (mode x depth
 * x engine): the child opens the scratch file it inherited, runs random I/O
 * for the cell's duration and reports on a pipe.  A process per cell keeps
 * engines from sharing state (thread pools, rings), lets a hung engine be
 * killed, and gives each cell the library it asks for: the child for the
 * system libaio loads it with dlopen() by path (this binary is linked
 * against uaio's libaio.so.1, whose UAIO_1 symbols it needs, so the loader
 * cannot be pointed at the system's instead), the others use the uaio
 * library they were linked with, on the engine named in UAIO_ENGINE.
 */
#ifndef UAIO_TOOL_BENCH_H
#define UAIO_TOOL_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* A child exits with this when its cell cannot run on this host. */
#define BENCH_EXIT_NA 77

enum bench_mode { MODE_UNCACHED, MODE_CACHED, MODE_DIRECT, NMODES };
enum bench_rw { RW_READ, RW_WRITE, RW_MIX };
enum bench_impl { IMPL_LIBAIO, IMPL_KERNEL, IMPL_URING, IMPL_THREADS, NIMPLS };

extern const char *const bench_mode_name[NMODES];  /* "uncached" */
extern const char *const bench_mode_label[NMODES]; /* "buffered uncached" */
extern const char *const bench_impl_name[NIMPLS];  /* "libaio", "kernel" */
extern const char *const bench_impl_label[NIMPLS]; /* "system libaio" */

/* One cell, as the child runs it. */
struct bench_cell {
	enum bench_mode mode;
	enum bench_impl impl;
	enum bench_rw rw;
	unsigned rwmix; /* % of reads for RW_MIX */
	unsigned depth;
	uint64_t bs;
	uint64_t size; /* bytes of the file used, a multiple of bs */
	double duration;
	uint64_t seed;
	int fd;		    /* the inherited file */
	const char *syslib; /* IMPL_LIBAIO: path of the system libaio */
};

/* Runs the cell, reports on stdout (the pipe), returns the exit status. */
int bench_child(const struct bench_cell *c);

/*
 * Latency histogram: 16 buckets per power of two (about 4% wide), exact
 * below 16 ns, up to 2^63 ns.
 */
#define HIST_SUB 16
#define HIST_N (60 * HIST_SUB)

static inline unsigned hist_bucket(uint64_t ns)
{
	unsigned msb, b;

	if (ns < HIST_SUB)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	b = (msb - 3) * HIST_SUB +
	    (unsigned)((ns >> (msb - 4)) & (HIST_SUB - 1));
	return b < HIST_N ? b : HIST_N - 1;
}

/* The middle of bucket b. */
static inline double hist_value(unsigned b)
{
	unsigned msb, sub;

	if (b < HIST_SUB)
		return b;
	msb = b / HIST_SUB + 3;
	sub = b % HIST_SUB;
	return (double)((1ull << msb) | ((uint64_t)sub << (msb - 4))) +
	       (double)(1ull << (msb - 4)) / 2;
}

#endif /* UAIO_TOOL_BENCH_H */
