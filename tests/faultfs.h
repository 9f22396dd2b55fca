/*
 * What faultfs (faultfs.c) and the tests that mount it agree on: the size
 * and contents of its data files.
 */
#ifndef UAIO_TEST_FAULTFS_H
#define UAIO_TEST_FAULTFS_H

#include <stdint.h>

/* The size of "data" and "direct" after a reset. */
#define FAULTFS_SIZE (1u << 20)
/* The most they may grow to: beyond, a write gets ENOSPC. */
#define FAULTFS_CAP (4u << 20)

/* The byte at off after a reset (differs from t_pattern(), so that a read
 * of the wrong file shows). */
static inline unsigned char faultfs_pattern(uint64_t off)
{
	return (unsigned char)((off * 40503u + 17) >> 7);
}

#endif
