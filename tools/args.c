/*
 * args.c - the option parser: getopt_long driven by a table, and the
 * parsers of sizes, counts and durations.
 */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long's value for an option without a short form. */
#define LONG_ONLY 256

static void store(const struct opt *o, const char *arg)
{
	char name[64];

	snprintf(name, sizeof(name), "--%s", o->name);
	switch (o->type) {
	case OPT_FLAG:
		*(bool *)o->dest = true;
		break;
	case OPT_STR:
		if (!*arg)
			usage_error("%s: empty argument", name);
		*(const char **)o->dest = arg;
		break;
	case OPT_UINT:
		*(unsigned *)o->dest =
		    (unsigned)parse_uint(name, arg, o->min, o->max);
		break;
	case OPT_U64:
		*(uint64_t *)o->dest = parse_uint(name, arg, o->min, o->max);
		break;
	case OPT_SIZE:
		*(uint64_t *)o->dest = parse_size(name, arg);
		break;
	case OPT_SECONDS:
		*(double *)o->dest = parse_seconds(name, arg);
		break;
	case OPT_FN:
		o->fn(name, arg, o->dest);
		break;
	}
	if (o->given)
		*o->given = true;
}

/* The getopt_long tables for opts, with --help added. */
static struct option *getopt_table(const struct opt *opts, unsigned flags,
				   char *shorts, size_t len)
{
	struct option *lo;
	size_t n = 0, k = 0, i;

	while (opts[n].name)
		n++;
	lo = calloc(n + 2, sizeof(*lo));
	if (!lo)
		die("out of memory");
	/* '+': what follows the first operand is not ours (uaio run). */
	k += (size_t)snprintf(shorts, len, "%s:h",
			      flags & ARGS_OPERANDS ? "+" : "");
	for (i = 0; i < n; i++) {
		bool arg = opts[i].type != OPT_FLAG;

		lo[i].name = opts[i].name;
		lo[i].has_arg = arg ? required_argument : no_argument;
		lo[i].val = opts[i].key ? opts[i].key : LONG_ONLY + (int)i;
		if (opts[i].key && k + 3 < len) {
			shorts[k++] = opts[i].key;
			if (arg)
				shorts[k++] = ':';
			shorts[k] = 0;
		}
	}
	lo[n].name = "help";
	lo[n].val = 'h';
	return lo;
}

static const struct opt *by_value(const struct opt *opts, int c)
{
	for (size_t i = 0; opts[i].name; i++)
		if (opts[i].key ? opts[i].key == c : LONG_ONLY + (int)i == c)
			return &opts[i];
	return NULL;
}

int args_parse(int argc, char **argv, const struct opt *opts, const char *help,
	       unsigned flags)
{
	char shorts[128];
	struct option *lo = getopt_table(opts, flags, shorts, sizeof(shorts));
	const struct opt *o;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			exit(0);
		}
		if (c == ':')
			usage_error("%s needs an argument", argv[optind - 1]);
		o = c == '?' ? NULL : by_value(opts, c);
		if (!o)
			usage_error("unknown option '%s'", argv[optind - 1]);
		store(o, optarg);
	}
	free(lo);
	if (!(flags & ARGS_OPERANDS) && optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	return optind;
}

void args_each(const char *opt, const char *list,
	       void (*each)(const char *opt, const char *item, void *arg),
	       void *arg)
{
	char *copy = strdup(list), *item, *next;

	if (!copy)
		die("out of memory");
	for (item = copy; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = 0;
		item += strspn(item, " \t");
		item[strcspn(item, " \t")] = 0;
		if (!*item)
			usage_error("%s: empty name in '%s'", opt, list);
		each(opt, item, arg);
	}
	free(copy);
}

unsigned args_pick(const char *opt, const char *name, const char *const *names,
		   unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return i;
	usage_error("%s: unknown name '%s'", opt, name);
}

uint64_t parse_size(const char *opt, const char *s)
{
	static const char units[] = "KMGT";
	unsigned long long v, mul = 1;
	const char *u;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		usage_error("%s: not a size: '%s'", opt, s);
	u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (u) {
		mul = 1ull << (10 * (u - units + 1));
		end++;
	}
	/* K, KB, KiB, and a bare "B" all mean the same here. */
	if (mul > 1 && end[0] == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || v > UINT64_MAX / mul)
		usage_error("%s: not a size: '%s'", opt, s);
	return v * mul;
}

uint64_t parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		usage_error("%s: not a number: '%s'", opt, s);
	if (v < min || v > max)
		usage_error("%s: %s is out of range (%" PRIu64 " to %" PRIu64
			    ")",
			    opt, s, min, max);
	return v;
}

double parse_seconds(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*end == 's')
		end++;
	if (errno || end == s || *end || !(v >= 0.01) || v > 86400)
		usage_error("%s: not a duration from 0.01 to 86400 seconds: "
			    "'%s'",
			    opt, s);
	return v;
}
