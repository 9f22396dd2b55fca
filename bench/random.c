/*
 * random.c - the block order and the fill data.
 */
#include "random.h"

#include <string.h>

void bench_order_init(struct bench_order *o, uint64_t nblocks, uint64_t *seed)
{
	unsigned k = 1;

	while (k < 64 && (1ull << k) < nblocks)
		k++;
	o->mask = k == 64 ? ~0ull : (1ull << k) - 1;
	o->shift = k / 2 ? k / 2 : 1;
	o->nblocks = nblocks;
	o->key = bench_rand(seed);
	o->i = 0;
}

uint64_t bench_order_next(struct bench_order *o, uint64_t *seed)
{
	for (;;) {
		uint64_t x = (o->i + o->key) & o->mask;

		for (int r = 0; r < 3; r++) {
			x ^= x >> o->shift;
			x = (x * 0x9e3779b97f4a7c15ull) & o->mask;
		}
		x ^= x >> o->shift;
		if (o->i++ == o->mask) {
			o->i = 0;
			o->key = bench_rand(seed);
		}
		if (x < o->nblocks)
			return x;
	}
}

void bench_random_fill(void *buf, size_t len, uint64_t *seed)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = bench_rand(seed);

		memcpy((char *)buf + i, &v, 8);
	}
}
