/*
 * core.h - uaio-bench-core: what an AIO request costs, and what O_DIRECT
 * reads achieve, through the system libaio, each uaio engine, liburing,
 * glibc's POSIX AIO and plain pread, all in one run (measure.h measures).
 */
#ifndef UAIO_BENCH_CORE_H
#define UAIO_BENCH_CORE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "measure.h"

#define CORE_BS 4096
#define CORE_COST_DEPTH 64
#define CORE_DIRECT_DEPTH 32
#define CORE_MAX_METHODS 16

enum core_test {
	CORE_COST,   /* ns per read of a cached file */
	CORE_DIRECT, /* IOPS of O_DIRECT reads */
	CORE_NTESTS,
};

extern const char *const core_test_names[CORE_NTESTS]; /* "cost", "direct" */

struct core_method {
	const char *name;  /* for --methods */
	const char *label; /* for the table */
	enum bench_api api;
	const char *engine; /* uaio's engine; NULL for anything but uaio */
	bool tests[CORE_NTESTS];
};

extern const struct core_method core_methods[];
extern const unsigned core_nmethods;

struct core_opts {
	uint64_t ops;
	unsigned runs;
	uint64_t cost_size, direct_size;
	double seconds;
	const char *dir;
	const char *uaio_dir;
	bool json, quick;
	bool run_test[CORE_NTESTS];
	bool selected[CORE_MAX_METHODS];
	char test_note[CORE_NTESTS][256]; /* why a test was not run */
	char uaio_lib[PATH_MAX];	  /* uaio_dir/libaio.so.1 */
	char system_lib[PATH_MAX];	  /* "" when there is none */
	struct bench_why system_why;
};

struct core_result {
	enum bench_state state; /* BENCH_PENDING: not selected, or not run */
	double *v;		/* one value per run */
	unsigned n;
	double median, min, max;
	char reason[256];
};

/* results[test][method] */
typedef struct core_result *const core_results[CORE_NTESTS];

/* core-opts.c: the command line, with its defaults. */
void core_parse(int argc, char **argv, struct core_opts *o);

/* core-rounds.c: every run of test t on fd; whether a method failed. */
bool core_rounds(const struct core_opts *o, struct core_result *res,
		 enum core_test t, int fd, uint64_t size);
void core_summarise(struct core_result *r);
/* The median of the rounds' ratios a/b: within a round every method runs
 * once, so a->v[k] and b->v[k] were measured minutes apart at most, and
 * the machine's drift between rounds cancels out. */
double core_paired_ratio(const struct core_result *a,
			 const struct core_result *b);

/* core-targets.c: the project's targets, as paired ratios. */
enum core_verdict { CORE_MET, CORE_MISSED, CORE_NA };
struct core_target {
	const char *what;
	enum core_test test;
	const char *method, *ref;
	double limit;
	const char *cmp; /* "<=", "<", ">=" */
};
extern const struct core_target core_targets[];
extern const unsigned core_ntargets;
/* The paired ratio of method i to the system libaio, or 0. */
double core_ratio(core_results results, enum core_test t, unsigned i);
enum core_verdict core_evaluate(const struct core_target *tg,
				core_results results, double *ratio, char *why,
				size_t len);

/* core-text.c, core-json.c: the report on stdout. */
void core_print_text(const struct core_opts *o, core_results results);
void core_print_json(const struct core_opts *o, core_results results);
/* "Linux 6.1.0 x86_64" */
void core_host(char *buf, size_t len);

#endif
