/*
 * msg.h - what the command-line programs (the uaio command,
 * uaio-bench-core) say on stderr: failures, usage errors, and the status
 * line a terminal shows while they work.
 *
 * Exit statuses are part of the interface: 0 success, 1 failure, 2 usage
 * error.
 */
#ifndef UAIO_MSG_H
#define UAIO_MSG_H

#include <stdbool.h>

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

/* Whether stderr is a terminal, where progress replaces itself in place. */
bool tool_tty(void);
/* The status line: shown on a terminal only, replaced by the next one. */
void tool_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_status_clear(void);

#endif
