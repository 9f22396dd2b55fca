/*
 * args.h - the option parser of the command-line programs: the uaio
 * command's subcommands, uaio-bench-core, and the spec a benchmark child
 * gets on its command line.
 *
 * A program describes its options in a table; args_parse() does the rest:
 * --help (and -h), values checked and stored, and the usage errors, worded
 * alike everywhere ("--depth: not a number: 'x'"), exit status 2.
 */
#ifndef UAIO_ARGS_H
#define UAIO_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"

enum opt_type {
	OPT_FLAG,    /* bool *: set */
	OPT_STR,     /* const char **: the argument, not empty */
	OPT_UINT,    /* unsigned *: a number in [min, max] */
	OPT_U64,     /* uint64_t *: a number in [min, max] */
	OPT_SIZE,    /* uint64_t *: a size, with a K, M, G or T suffix */
	OPT_SECONDS, /* double *: a duration from 0.01 to 86400 s */
	OPT_FN,	     /* fn(name, argument, dest) checks and stores */
};

struct opt {
	const char *name; /* the long name, without "--" */
	char key;	  /* the short option, or 0 */
	enum opt_type type;
	void *dest;
	bool *given; /* set when the option is on the command line */
	uint64_t min, max;
	void (*fn)(const char *name, const char *arg, void *dest);
};

/* args_parse() flags: ARGS_OPERANDS stops at the first operand, whose
 * index it returns. */
#define ARGS_OPERANDS 1

/*
 * Parse argv[1..] against opts (terminated by a NULL name).  --help and -h
 * print help on stdout and exit 0.  Without ARGS_OPERANDS an operand is a
 * usage error; the return value is then argc.
 */
int args_parse(int argc, char **argv, const struct opt *opts, const char *help,
	       unsigned flags);

/* Call each(opt, item, arg) for every item of a comma-separated list,
 * blanks around items removed; an empty list or item is a usage error. */
void args_each(const char *opt, const char *list,
	       void (*each)(const char *opt, const char *item, void *arg),
	       void *arg);
/* The index of name in names[n]; a usage error when it is none of them. */
unsigned args_pick(const char *opt, const char *name, const char *const *names,
		   unsigned n);

/* Option values: exit 2 with a message naming opt on bad input. */
uint64_t parse_size(const char *opt, const char *s);
uint64_t parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max);
double parse_seconds(const char *opt, const char *s);

#endif
