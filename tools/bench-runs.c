/*
 * bench-runs.c - uaio bench's runs summed up: medians, and ratios taken
 * within a run.  A machine of this kind drifts by 10-25% from minute to
 * minute; the cells of one depth run back to back, so a ratio of two of
 * them cancels most of that drift, and a median of such ratios over runs
 * is steadier than a ratio of medians.
 */
#include "bench.h"

#include <math.h>
#include <stdlib.h>

double ubench_ratio(const struct ubench *r, unsigned m, unsigned d, unsigned a,
		    unsigned b)
{
	const struct ubench_cell *ca = ubench_cell(r, m, d, a);
	const struct ubench_cell *cb = ubench_cell(r, m, d, b);
	double v[MAX_RUNS];
	unsigned n = 0;

	/* A cell that failed once runs no more: runs align from the first. */
	for (unsigned k = 0; k < ca->nruns && k < cb->nruns; k++)
		if (cb->run_iops[k] > 0)
			v[n++] = ca->run_iops[k] / cb->run_iops[k];
	return n ? bench_median(v, n) : NAN;
}

bool ubench_auto_best(const struct ubench *r, unsigned m, unsigned d,
		      double *ratio, unsigned *against)
{
	bool any = false;

	if (!r->impl_ok[IMPL_AUTO] ||
	    ubench_cell(r, m, d, IMPL_AUTO)->out.state != BENCH_OK)
		return false;
	for (unsigned i = 0; i < NIMPLS; i++) {
		double v;

		if (i == IMPL_AUTO || !r->impl_ok[i] ||
		    ubench_cell(r, m, d, i)->out.state != BENCH_OK)
			continue;
		v = ubench_ratio(r, m, d, IMPL_AUTO, i);
		if (isnan(v) || (any && v >= *ratio))
			continue;
		*ratio = v;
		*against = i;
		any = true;
	}
	return any;
}

/* The run whose IOPS are the median's (the lower of the middle two). */
static void summarize_cell(struct ubench_cell *c)
{
	double v[MAX_RUNS];
	unsigned mid = 0;

	if (c->out.state != BENCH_OK || !c->nruns)
		return;
	for (unsigned k = 0; k < c->nruns; k++)
		v[k] = c->run_iops[k];
	c->iops = bench_median(v, c->nruns); /* sorts v */
	while (c->run_iops[mid] != v[(c->nruns - 1) / 2])
		mid++;
	c->out.r = c->run_res[mid];
}

void ubench_summarize(struct ubench *r)
{
	for (unsigned m = 0; m < NMODES; m++)
		for (unsigned d = 0; d < r->o.ndepth; d++)
			for (unsigned i = 0; i < NIMPLS; i++) {
				struct ubench_cell *c = ubench_cell(r, m, d, i);

				summarize_cell(c);
				c->vs_libaio =
				    ubench_ratio(r, m, d, i, IMPL_LIBAIO);
			}
}
