/*
 * spec.c - the spec as options, written by the driver and parsed by the
 * child with the programs' own option parser.
 */
#include "spec.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

const char *const bench_api_names[BENCH_NAPIS] = {
    "libaio", "uring", "uring-checked", "posix", "pread"};
const char *const bench_rw_names[3] = {"read", "write", "randrw"};

static void __attribute__((format(printf, 2, 3)))
add(struct bench_argv *a, const char *fmt, ...)
{
	size_t n = 0, used = 0;
	va_list ap;

	while (a->argv[n])
		used += strlen(a->argv[n++]) + 1;
	va_start(ap, fmt);
	vsnprintf(a->text + used, sizeof(a->text) - used, fmt, ap);
	va_end(ap);
	a->argv[n] = a->text + used;
}

void bench_spec_argv(const struct bench_spec *s, const char *const *prefix,
		     struct bench_argv *a)
{
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; prefix[i]; i++)
		add(a, "%s", prefix[i]);
	add(a, BENCH_CHILD_ARG);
	add(a, "--api=%s", bench_api_names[s->api]);
	if (s->lib)
		add(a, "--lib=%s", s->lib);
	if (s->engine)
		add(a, "--engine=%s", s->engine);
	add(a, "--fd=%d", s->fd);
	if (s->direct)
		add(a, "--direct");
	if (s->warm)
		add(a, "--warm");
	if (s->latency)
		add(a, "--latency");
	add(a, "--rw=%s", bench_rw_names[s->rw]);
	add(a, "--rwmix=%u", s->rwmix);
	add(a, "--depth=%u", s->depth);
	add(a, "--bs=%" PRIu64, s->bs);
	add(a, "--size=%" PRIu64, s->size);
	if (s->ops)
		add(a, "--ops=%" PRIu64, s->ops);
	if (s->seconds > 0)
		add(a, "--seconds=%.17g", s->seconds);
	add(a, "--seed=%" PRIu64, s->seed);
}

static void api(const char *opt, const char *arg, void *dest)
{
	*(enum bench_api *)dest =
	    (enum bench_api)args_pick(opt, arg, bench_api_names, BENCH_NAPIS);
}

static void rw(const char *opt, const char *arg, void *dest)
{
	*(enum bench_rw *)dest =
	    (enum bench_rw)args_pick(opt, arg, bench_rw_names, 3);
}

static const char help[] =
    "Usage: PROGRAM " BENCH_CHILD_ARG " [SPEC]...\n"
    "How a benchmark runs one measurement in a process of its own; not for "
    "use by hand.\n";

void bench_spec_parse(int argc, char **argv, struct bench_spec *s)
{
	unsigned fd = 0;
	const struct opt opts[] = {
	    {"api", 0, OPT_FN, &s->api, .fn = api},
	    {"lib", 0, OPT_STR, &s->lib},
	    {"engine", 0, OPT_STR, &s->engine},
	    {"fd", 0, OPT_UINT, &fd, .max = INT_MAX},
	    {"direct", 0, OPT_FLAG, &s->direct},
	    {"warm", 0, OPT_FLAG, &s->warm},
	    {"latency", 0, OPT_FLAG, &s->latency},
	    {"rw", 0, OPT_FN, &s->rw, .fn = rw},
	    {"rwmix", 0, OPT_UINT, &s->rwmix, .max = 100},
	    {"depth", 0, OPT_UINT, &s->depth, .min = 1, .max = 65536},
	    {"bs", 0, OPT_U64, &s->bs, .min = 512, .max = 1ull << 30},
	    {"size", 0, OPT_U64, &s->size, .min = 512, .max = UINT64_MAX},
	    {"ops", 0, OPT_U64, &s->ops, .max = UINT64_MAX},
	    {"seconds", 0, OPT_SECONDS, &s->seconds},
	    {"seed", 0, OPT_U64, &s->seed, .max = UINT64_MAX},
	    {NULL},
	};

	memset(s, 0, sizeof(*s));
	s->depth = 1;
	s->bs = 4096;
	args_parse(argc, argv, opts, help, 0);
	s->fd = (int)fd;
	if (s->size < s->bs || (s->api == BENCH_LIBAIO && !s->lib) ||
	    (!s->ops && !s->seconds))
		usage_error("an incomplete spec");
}
