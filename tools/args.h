/*
 * args.h - messages and option parsing for the command-line programs (the
 * uaio command, uaio-bench-core).
 *
 * Exit statuses are part of the interface: 0 success, 1 failure, 2 usage
 * error.
 */
#ifndef UAIO_ARGS_H
#define UAIO_ARGS_H

#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2

/* The program, "uaio" unless set, and the subcommand being run ("info",
 * "run", "bench") or NULL, for messages. */
extern const char *tool_name;
extern const char *tool_sub;

/* "PROGRAM [SUB]: message" on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, a pointer to --help, exit 2. */
void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...);
/* A failure: the message, exit 1. */
void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);

/* Option parsers: exit 2 with a message naming opt on bad input. */
uint64_t parse_size(const char *opt, const char *s);
uint64_t parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max);
double parse_seconds(const char *opt, const char *s);

#endif
