/*
 * core-text.c - uaio-bench-core's report as text: a table per test, then
 * the targets.
 */
#include "core.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "fmt.h"
#include "text.h"

#ifndef UAIO_BENCH_VERSION
#define UAIO_BENCH_VERSION "?"
#endif

static void describe(const struct core_opts *o, enum core_test t)
{
	const char *s = o->runs > 1 ? "s" : "";
	char size[32];

	fmt_bytes(size, sizeof(size),
		  t == CORE_COST ? o->cost_size : o->direct_size);
	if (t == CORE_COST)
		printf("Cost per read: 4 KiB reads at random offsets of a "
		       "cached %s file, depth %d,\n"
		       "%" PRIu64 " reads per run, %u run%s; ns per read, "
		       "lower is better; vs libaio: the median\n"
		       "of the rounds' ratios.\n",
		       size, CORE_COST_DEPTH, o->ops, o->runs, s);
	else
		printf("O_DIRECT reads: 4 KiB at random offsets of a %s "
		       "file, depth %d, %g s per run,\n"
		       "%u run%s; IOPS, higher is better; vs libaio: the "
		       "median of the rounds' ratios.\n",
		       size, CORE_DIRECT_DEPTH, o->seconds, o->runs, s);
}

static void row(struct table *tb, core_results results, enum core_test t,
		unsigned i)
{
	const struct core_result *r = &results[t][i];
	int prec = t == CORE_COST ? 1 : 0; /* ns to a tenth; IOPS whole */
	double q = core_ratio(results, t, i);

	table_row(tb);
	table_set(tb, 0, "%s", core_methods[i].label);
	if (r->state != BENCH_OK) {
		table_span(tb, 1, "%s: %s",
			   r->state == BENCH_NA ? "n/a" : "FAILED", r->reason);
		return;
	}
	table_set(tb, 1, "%.*f", prec, r->median);
	table_set(tb, 2, "%.*f", prec, r->min);
	table_set(tb, 3, "%.*f", prec, r->max);
	if (q > 0)
		table_set(tb, 4, "%.3f", q);
	else
		table_set(tb, 4, "-");
}

static void print_test(const struct core_opts *o, core_results results,
		       enum core_test t)
{
	static const char *const head[] = {"method", "median", "min", "max",
					   "vs libaio"};
	static const bool right[] = {false, true, true, true, true};
	struct table tb;

	if (!o->run_test[t] && !o->test_note[t][0])
		return;
	describe(o, t);
	if (!o->run_test[t]) {
		printf("  not run: %s\n\n", o->test_note[t]);
		return;
	}
	table_init(&tb, 5, head, right);
	for (unsigned i = 0; i < core_nmethods; i++)
		if (results[t][i].state != BENCH_PENDING)
			row(&tb, results, t, i);
	printf("\n");
	table_print(&tb, stdout, "");
	table_free(&tb);
	printf("\n");
}

static void print_targets(core_results results)
{
	static const char *const verdicts[] = {"met", "MISSED", "n/a"};
	struct table tb;
	char why[512];

	printf("Targets (medians of the rounds' ratios; the run reports, it "
	       "does not judge):\n");
	table_init(&tb, 3, NULL, (const bool[]){false, false, true});
	for (unsigned i = 0; i < core_ntargets; i++) {
		double v;
		enum core_verdict s = core_evaluate(&core_targets[i], results,
						    &v, why, sizeof(why));

		table_row(&tb);
		table_set(&tb, 0, "%s", verdicts[s]);
		table_set(&tb, 1, "%s", core_targets[i].what);
		if (s == CORE_NA)
			table_span(&tb, 2, "(%s)", why);
		else
			table_set(&tb, 2, "%.3fx", v);
	}
	table_print(&tb, stdout, "  ");
	table_free(&tb);
}

/*
 * Not a target: how much of the uring target the libaio API itself takes.
 * liburing-checked is liburing plus the one system call a libaio
 * io_submit of the batch cannot do without.
 */
static void print_floor(core_results results)
{
	static const struct core_target floor = {
	    "", CORE_COST, "liburing-checked", "liburing", 0, "<="};
	static const struct core_target over = {
	    "", CORE_COST, "uaio-uring", "liburing-checked", 0, "<="};
	double f, u;
	char why[512];

	if (core_evaluate(&floor, results, &f, why, sizeof(why)) == CORE_NA ||
	    core_evaluate(&over, results, &u, why, sizeof(why)) == CORE_NA)
		return;
	printf("The libaio API's floor over io_uring: liburing-checked at "
	       "%.3fx liburing;\n"
	       "uaio uring at %.3fx liburing-checked.\n",
	       f, u);
}

void core_print_text(const struct core_opts *o, core_results results)
{
	char h[256];

	core_host(h, sizeof(h));
	printf("uaio-bench-core %s on %s, %ld CPUs\n"
	       "uaio library: %s; system libaio: %s\n"
	       "scratch directory: %s\n\n",
	       UAIO_BENCH_VERSION, h, sysconf(_SC_NPROCESSORS_ONLN),
	       o->uaio_lib, o->system_lib[0] ? o->system_lib : "none", o->dir);
	for (unsigned t = 0; t < CORE_NTESTS; t++)
		print_test(o, results, (enum core_test)t);
	print_targets(results);
	print_floor(results);
	fflush(stdout);
}
