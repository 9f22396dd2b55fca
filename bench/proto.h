/*
 * proto.h - what a child tells its driver, one line each on its stdout
 * (a pipe):
 *
 *   p OPS NS                        progress: completions so far, time
 *   r OPS NS MEAN P50 P99 MAX SUB   the result (struct bench_result)
 *   u REASON                        cannot run here (exit BENCH_EXIT_NA)
 *   e REASON                        failed (exit 1)
 */
#ifndef UAIO_BENCH_PROTO_H
#define UAIO_BENCH_PROTO_H

#include <stdbool.h>

#include "measure.h"

/* The child's side. */
void bench_proto_progress(uint64_t ops, uint64_t ns);
void bench_proto_result(const struct bench_result *r);
/* The reason's line; the exit status that goes with it. */
int bench_proto_why(const struct bench_why *w);

/* The driver's side: one line into out (progress to progress()); false
 * when it cannot be read. */
bool bench_proto_line(const char *line, struct bench_outcome *out,
		      bench_progress_fn *progress, void *arg);

#endif
