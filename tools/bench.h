/*
 * bench.h - uaio bench: random I/O on every engine this host can run, and
 * on the system libaio, compared in one run.
 *
 * For each mode (buffered with the file's cache dropped, buffered with the
 * file cached, O_DIRECT), each depth and each engine, one cell is measured
 * in a child process (bench/measure.h, as uaio-bench-core measures); the
 * driver prepares the file (bench-file.c) and the page cache before each
 * cell, shows progress (bench-cells.c), and prints the table or the JSON at
 * the end (bench-text.c, bench-json.c).
 */
#ifndef UAIO_TOOL_BENCH_H
#define UAIO_TOOL_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uaio.h>

#include "measure.h"

enum ubench_mode { MODE_UNCACHED, MODE_CACHED, MODE_DIRECT, NMODES };
enum ubench_impl {
	IMPL_LIBAIO,
	IMPL_KERNEL,
	IMPL_URING,
	IMPL_THREADS,
	IMPL_AUTO,
	NIMPLS
};

/* The paths of UAIO_STATS: the engine under auto, inside io_submit, kernel
 * AIO. */
enum ubench_path { PATH_ENGINE, PATH_INLINE, PATH_KAIO, NPATHS };

extern const char *const ubench_mode_name[NMODES];  /* "uncached" */
extern const char *const ubench_mode_label[NMODES]; /* "buffered uncached" */
extern const char *const ubench_impl_name[NIMPLS];  /* "libaio", "kernel" */
extern const char *const ubench_impl_label[NIMPLS]; /* "system libaio" */

#define MAX_DEPTHS 16
#define MAX_RUNS 15
#define REREAD_NOTE                                                            \
	"a cell read more blocks than the file has, so that some of its "      \
	"reads hit the cache (use a larger --size or a shorter --duration)"
#define WHOLE_NOTE                                                             \
	"a cell read every block of the file before its time was up and "      \
	"stopped there, so that no read hit the cache (a larger --size "       \
	"gives longer cells)"

struct ubench_opts {
	uint64_t size, bs;
	bool size_set;
	unsigned depth[MAX_DEPTHS], ndepth;
	enum bench_rw rw;
	unsigned rwmix;
	bool rwmix_set;
	double duration;
	bool duration_set;
	bool mode_on[NMODES];
	bool impl_on[NIMPLS], impls_set;
	const char *file;
	bool force, json, quick;
	unsigned threads;
	unsigned runs; /* of every cell, the engines taking turns in each */
	const char *syslib;
};

struct ubench_cell {
	/* Once every run is done (ubench_summarize()): the run of median
	 * IOPS, or the first run that failed or could not run. */
	struct bench_outcome out;
	double iops; /* the median of the runs' */
	/* The median of each run's ratio to the system libaio's cell of the
	 * same run, which ran minutes apart from the other runs; NAN if
	 * none. */
	double vs_libaio;
	double run_iops[MAX_RUNS];
	struct bench_result run_res[MAX_RUNS];
	unsigned nruns;	 /* that ran OK, from the first */
	double resident; /* % of the file cached when the cell began, -1 */
	/* auto: requests by path (enum ubench_path), from a short run with
	 * UAIO_STATS after the measured one; all 0 when unknown. */
	unsigned long long paths[NPATHS];
};

struct ubench {
	struct ubench_opts o;
	int fd;
	bool scratch;		/* nameless file of our own */
	char created[PATH_MAX]; /* a --file we made, to remove */
	char where[PATH_MAX + 64];
	char uaio_lib[PATH_MAX], syslib[PATH_MAX];
	char impl_why[NIMPLS][UAIO_REASON_MAX];
	bool impl_ok[NIMPLS];
	const char *auto_base; /* the engine under auto: "uring", "threads" */
	char mode_note[NMODES][160];
	bool reread_note; /* an uncached cell read more than the file */
	bool whole_note;  /* an uncached cell stopped at the file's end */
	struct ubench_cell *cells; /* [mode][depth][impl] */
	unsigned ncells, cell, run;
};

/* bench-opts.c: the command line. */
void ubench_parse(int argc, char **argv, struct ubench_opts *o);

/* bench-file.c: the file the cells use, and the way out of the run. */
void ubench_open_file(struct ubench *r);
void ubench_cleanup(struct ubench *r);
void __attribute__((noreturn, format(printf, 2, 3)))
ubench_fail(struct ubench *r, const char *fmt, ...);
/* Dies of the signal bench_signal names, when there is one. */
void ubench_check_signal(struct ubench *r);

/* bench-cells.c: the engines to run, then every cell; whether one failed. */
void ubench_choose(struct ubench *r);
bool ubench_run_all(struct ubench *r);

/* bench-runs.c: the runs of each cell summed up; the median of the runs'
 * ratios of impl a's IOPS to impl b's (NAN when either has none); auto
 * against the best of the others: false when auto or no other ran. */
void ubench_summarize(struct ubench *r);
double ubench_ratio(const struct ubench *r, unsigned m, unsigned d, unsigned a,
		    unsigned b);
bool ubench_auto_best(const struct ubench *r, unsigned m, unsigned d,
		      double *ratio, unsigned *against);

/* bench.c */
struct ubench_cell *ubench_cell(const struct ubench *r, unsigned m, unsigned d,
				unsigned i);
bool ubench_wanted(const struct ubench *r, unsigned i);
/* "random 4 KiB reads, 1 GiB unnamed scratch file in /tmp (ext4), 3 s per
 * cell" */
void ubench_describe(const struct ubench *r, char *buf, size_t len);

/* "uaio auto (kernel AIO)": the label of cell c, with auto's paths. */
void ubench_label(const struct ubench *r, unsigned i,
		  const struct ubench_cell *c, char *buf, size_t len);

void ubench_print_text(const struct ubench *r);
void ubench_print_json(const struct ubench *r);

#endif /* UAIO_TOOL_BENCH_H */
