/*
 * run.h - uaio run: the statistics table (run-stats.c) of 'uaio run
 * --stats'.
 */
#ifndef UAIO_RUN_H
#define UAIO_RUN_H

/* The per-context table on stderr, from the UAIO_STATS file at path: the
 * number of contexts, or -errno when the file cannot be read. */
int run_print_stats(const char *path);

#endif
