/*
 * spec.h - a measurement's spec on a child's command line, and back.
 */
#ifndef UAIO_BENCH_SPEC_H
#define UAIO_BENCH_SPEC_H

#include "measure.h"

/* The child's argv: prefix, BENCH_CHILD_ARG, the spec; NULL-terminated. */
struct bench_argv {
	char *argv[48];
	char text[3 * 4096]; /* paths included */
};

void bench_spec_argv(const struct bench_spec *s, const char *const *prefix,
		     struct bench_argv *a);
/* argv[0] is BENCH_CHILD_ARG; a usage error (exit 2) on anything else
 * than what bench_spec_argv() writes. */
void bench_spec_parse(int argc, char **argv, struct bench_spec *s);

#endif
