/*
 * random.h - the benchmarks' random numbers: one generator, the order in
 * which a loop visits the file's blocks, and the data files are filled with.
 */
#ifndef UAIO_BENCH_RANDOM_H
#define UAIO_BENCH_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64*: cheap enough not to show in a 300 ns loop.  *s is never 0. */
static inline uint64_t bench_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Block numbers in a random order without repeats, as fio's random map
 * gives by default: without it an "uncached" measurement would partly
 * re-read blocks it cached itself.  A bijection on k-bit numbers (xorshift
 * and odd multiplies) applied to a counter, skipping values past the file;
 * a new pass, with a new key, when all 2^k have been used.
 */
struct bench_order {
	uint64_t i, key, mask, nblocks;
	unsigned shift;
};

void bench_order_init(struct bench_order *o, uint64_t nblocks, uint64_t *seed);
uint64_t bench_order_next(struct bench_order *o, uint64_t *seed);

/* len bytes (a multiple of 8) of data that no layer below can compress or
 * share. */
void bench_random_fill(void *buf, size_t len, uint64_t *seed);

#endif
