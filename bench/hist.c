/*
 * hist.c - values out of the histogram.
 */
#include "hist.h"

/* The middle of bucket b. */
static double value(unsigned b)
{
	unsigned msb, sub;

	if (b < HIST_SUB)
		return b;
	msb = b / HIST_SUB + 3;
	sub = b % HIST_SUB;
	return (double)((1ull << msb) | ((uint64_t)sub << (msb - 4))) +
	       (double)(1ull << (msb - 4)) / 2;
}

double bench_hist_rank(const struct bench_hist *h, uint64_t rank)
{
	uint64_t seen = 0;

	for (unsigned b = 0; b < HIST_N; b++) {
		seen += h->n[b];
		if (h->n[b] && seen >= rank)
			return value(b);
	}
	return 0;
}
