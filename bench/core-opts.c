/*
 * core-opts.c - uaio-bench-core's command line.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#ifndef UAIO_BENCH_LIBDIR
#define UAIO_BENCH_LIBDIR "."
#endif

/* The help, with the figures it quotes from where they are set. */
static const char *help(void)
{
	static char text[2048];

	snprintf(
	    text, sizeof(text),
	    "Usage: uaio-bench-core [options]\n"
	    "\n"
	    "Measures, in one run, each libaio implementation against the "
	    "others:\n"
	    "  cost    ns per 4 KiB read at random offsets of a cached 1 MiB "
	    "file,\n"
	    "          depth %d, submitted in batches, reaped as they come "
	    "(median of runs);\n"
	    "  direct  IOPS of O_DIRECT random 4 KiB reads at depth %d "
	    "(median of runs).\n"
	    "Methods: libaio (the system's, the reference), uaio-kernel, "
	    "uaio-threads,\n"
	    "uaio-uring (uaio's libaio.so.1 with UAIO_ENGINE set), "
	    "liburing,\n"
	    "liburing-checked (liburing plus the fcntl a libaio io_submit "
	    "makes per batch;\n"
	    "cost only), posix-aio (aio_read + aio_suspend), pread (the "
	    "floor; cost only).\n"
	    "A round runs every method once; ratios (vs libaio, targets) are "
	    "the median\n"
	    "of the rounds' ratios, steadier than a ratio of medians.\n"
	    "\n"
	    "Options:\n"
	    "  --ops N            reads per cost run (default 2000000)\n"
	    "  --runs R           runs per method and test (default 5)\n"
	    "  --direct-size SIZE O_DIRECT file size, suffix K/M/G "
	    "(default 1G)\n"
	    "  --seconds S        length of each O_DIRECT run (default 5)\n"
	    "  --dir DIR          scratch directory (default $TMPDIR, else "
	    "/tmp)\n"
	    "  --methods LIST     comma-separated subset of the methods "
	    "above\n"
	    "  --only TEST        run only the cost or the direct test\n"
	    "  --uaio-lib DIR     directory of uaio's libaio.so.1\n"
	    "                     (default %s)\n"
	    "  --quick            a smoke run: --ops 50000 --runs 3 "
	    "--direct-size 64M\n"
	    "                     --seconds 0.5 (explicit options still "
	    "apply)\n"
	    "  --json             JSON on stdout instead of the table\n"
	    "  --help             this text\n"
	    "\n"
	    "Progress goes to stderr.  Exit status: 0 when every method "
	    "that could run\n"
	    "ran (missed targets included), 1 when one failed or the "
	    "scratch files\n"
	    "could not be made, 2 on a usage error.\n",
	    CORE_COST_DEPTH, CORE_DIRECT_DEPTH, UAIO_BENCH_LIBDIR);
	return text;
}

static void method(const char *opt, const char *name, void *selected)
{
	static const char *names[CORE_MAX_METHODS];

	for (unsigned i = 0; i < core_nmethods; i++)
		names[i] = core_methods[i].name;
	((bool *)selected)[args_pick(opt, name, names, core_nmethods)] = true;
}

static void methods(const char *opt, const char *list, void *selected)
{
	memset(selected, 0, CORE_MAX_METHODS * sizeof(bool));
	args_each(opt, list, method, selected);
}

static void only(const char *opt, const char *test, void *run_test)
{
	unsigned t = args_pick(opt, test, core_test_names, CORE_NTESTS);

	memset(run_test, 0, CORE_NTESTS * sizeof(bool));
	((bool *)run_test)[t] = true;
}

static void defaults(struct core_opts *o)
{
	const char *tmp = getenv("TMPDIR");

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < core_nmethods; i++)
		o->selected[i] = true;
	for (unsigned t = 0; t < CORE_NTESTS; t++)
		o->run_test[t] = true;
	o->ops = 2000000;
	o->runs = 5;
	o->cost_size = 1 << 20;
	o->direct_size = 1ull << 30;
	o->seconds = 5;
	o->uaio_dir = UAIO_BENCH_LIBDIR;
	o->dir = tmp && *tmp ? tmp : "/tmp";
}

void core_parse(int argc, char **argv, struct core_opts *o)
{
	bool set_ops = false, set_runs = false, set_size = false,
	     set_sec = false;
	const struct opt opts[] = {
	    {"quick", 0, OPT_FLAG, &o->quick},
	    {"json", 0, OPT_FLAG, &o->json},
	    {"ops", 0, OPT_U64, &o->ops, &set_ops, 1, UINT64_MAX},
	    {"runs", 0, OPT_UINT, &o->runs, &set_runs, 1, 1000},
	    {"direct-size", 0, OPT_SIZE, &o->direct_size, &set_size},
	    {"seconds", 0, OPT_SECONDS, &o->seconds, &set_sec},
	    {"dir", 0, OPT_STR, &o->dir},
	    {"methods", 0, OPT_FN, o->selected, .fn = methods},
	    {"only", 0, OPT_FN, o->run_test, .fn = only},
	    {"uaio-lib", 0, OPT_STR, &o->uaio_dir},
	    {NULL},
	};

	defaults(o);
	args_parse(argc, argv, opts, help(), 0);
	if (o->direct_size < CORE_BS || o->direct_size % CORE_BS)
		usage_error("--direct-size must be a multiple of %d", CORE_BS);
	if (o->quick) {
		o->ops = set_ops ? o->ops : 50000;
		o->runs = set_runs ? o->runs : 3;
		o->direct_size = set_size ? o->direct_size : 64 << 20;
		o->seconds = set_sec ? o->seconds : 0.5;
	}
	snprintf(o->uaio_lib, sizeof(o->uaio_lib), "%s/libaio.so.1",
		 o->uaio_dir);
}
