/*
 * abi-layout: the same facts (offsets, sizes, signedness, constants, the
 * bytes the inline helpers produce) gathered in separate translation units
 * from uaio's <libaio.h>, the system's <libaio.h> and the kernel's
 * <linux/aio_abi.h>, which cannot be included together.
 */
#ifndef UAIO_TEST_ABI_LAYOUT_H
#define UAIO_TEST_ABI_LAYOUT_H

#include <stddef.h>

struct abi_fact {
	const char *name;
	long long value;
};

#define ABI_PREPS 12

/* Each returns its table and stores the count in *n. */
const struct abi_fact *abi_facts_uaio(size_t *n);
const struct abi_fact *abi_facts_system(size_t *n);
const struct abi_fact *abi_facts_kernel(size_t *n);

/* The 64 bytes each io_prep_* helper (and setter) writes, same arguments. */
void abi_preps_uaio(unsigned char out[ABI_PREPS][64], const char *names[]);
void abi_preps_system(unsigned char out[ABI_PREPS][64], const char *names[]);

#endif
