/*
 * hist.h - the latency histogram: 16 buckets per power of two (about 4%
 * wide), exact below 16 ns, up to 2^63 ns.  Adding is a few instructions,
 * so that timing every request does not slow the loop down.
 */
#ifndef UAIO_BENCH_HIST_H
#define UAIO_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB 16
#define HIST_N (60 * HIST_SUB)

struct bench_hist {
	uint64_t n[HIST_N];
};

static inline void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	unsigned msb, b;

	if (ns < HIST_SUB) {
		h->n[ns]++;
		return;
	}
	msb = 63u - (unsigned)__builtin_clzll(ns);
	b = (msb - 3) * HIST_SUB +
	    (unsigned)((ns >> (msb - 4)) & (HIST_SUB - 1));
	h->n[b < HIST_N ? b : HIST_N - 1]++;
}

/* The value of the rank-th smallest sample (from 1), to the bucket's
 * middle; 0 for an empty histogram. */
double bench_hist_rank(const struct bench_hist *h, uint64_t rank);

#endif
