/*
 * args.c - messages and option parsing, shared by the uaio command and
 * uaio-bench-core: "PROGRAM [SUB]: message", exit statuses, sizes, counts
 * and durations.
 */
#include "args.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

const char *tool_name = "uaio";
const char *tool_sub;

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s%s%s: ", tool_name, tool_sub ? " " : "",
		tool_sub ? tool_sub : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s%s%s --help'.\n", tool_name,
		tool_sub ? " " : "", tool_sub ? tool_sub : "");
	exit(EXIT_USAGE);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

uint64_t parse_size(const char *opt, const char *s)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		usage_error("%s: not a size: '%s'", opt, s);
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	case 't':
	case 'T':
		mul = 1ull << 40;
		end++;
		break;
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
